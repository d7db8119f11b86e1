/* The JSON writer: structure, commas, and escaping of hostile strings. */
#include <string.h>

#include "json_writer.h"
#include "strbuf.h"
#include "testutil.h"

START_TEST(nested_structure_and_commas)
{
	struct json_writer w;
	jw_init(&w);
	jw_object_begin(&w);
	jw_kv_string(&w, "a", "x");
	jw_kv_uint(&w, "b", 42);
	jw_key(&w, "c");
	jw_array_begin(&w);
	jw_object_begin(&w);
	jw_kv_bool(&w, "d", true);
	jw_object_end(&w);
	jw_int(&w, -7);
	jw_null(&w);
	jw_array_end(&w);
	jw_kv_string(&w, "e", NULL);
	jw_key(&w, "f");
	jw_array_begin(&w);
	jw_array_end(&w);
	jw_object_end(&w);
	ck_assert_str_eq(w.buf, "{\"a\":\"x\",\"b\":42,\"c\":[{\"d\":true},-7,null],\"e\":null,\"f\":[]}");
	jw_reset(&w);
	jw_object_begin(&w);
	jw_object_end(&w);
	ck_assert_str_eq(w.buf, "{}");
	jw_free(&w);
}
END_TEST

START_TEST(escapes_quotes_controls_and_bad_utf8)
{
	struct json_writer w;
	jw_init(&w);
	const char hostile[] = "a\"b\\c\n\r\t\x01\x7f" "\xc3\xa9" "\xff" "\xe2\x82" "z";
	jw_string_n(&w, hostile, sizeof(hostile) - 1);
	ck_assert_str_eq(w.buf, "\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u007f\xc3\xa9\\ufffd\\ufffd\\ufffdz\"");
	jw_free(&w);
}
END_TEST

START_TEST(overlong_and_surrogate_utf8_rejected)
{
	struct json_writer w;
	jw_init(&w);
	/* overlong '/' (C0 AF) and an encoded surrogate (ED A0 80) */
	jw_string(&w, "\xc0\xaf\xed\xa0\x80");
	ck_assert_ptr_null(strchr(w.buf, 0xc0));
	ck_assert_ptr_null(strchr(w.buf, 0xed));
	jw_free(&w);
}
END_TEST

START_TEST(large_values_grow_the_buffer)
{
	struct json_writer w;
	jw_init(&w);
	char big[10000];
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	jw_object_begin(&w);
	jw_kv_string(&w, "k", big);
	jw_object_end(&w);
	ck_assert_uint_eq(w.len, strlen("{\"k\":\"\"}") + sizeof(big) - 1);
	ck_assert(!w.oom);
	jw_free(&w);
}
END_TEST

START_TEST(timestamp_is_rfc3339_utc_microseconds)
{
	char buf[32];
	format_timestamp(1768467600123456ull, buf);
	ck_assert_str_eq(buf, "2026-01-15T09:00:00.123456Z");
	format_timestamp(0, buf);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00.000000Z");
	/* the same second again (its calendar is kept), then the next ones */
	format_timestamp(999999, buf);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00.999999Z");
	format_timestamp(1000000, buf);
	ck_assert_str_eq(buf, "1970-01-01T00:00:01.000000Z");
	format_timestamp(1768467600000001ull, buf);
	ck_assert_str_eq(buf, "2026-01-15T09:00:00.000001Z");
	format_timestamp(253402300800000000ull, buf);   /* year 10000 */
	ck_assert_str_eq(buf, "10000-01-01T00:00:00.000000Z");
	format_timestamp(1768467601000000ull, buf);
	ck_assert_str_eq(buf, "2026-01-15T09:00:01.000000Z");
}
END_TEST

START_TEST(address_text_is_inet_ntop)
{
	static const uint8_t v4[][4] = { { 0, 0, 0, 0 }, { 255, 255, 255, 255 }, { 10, 0, 100, 9 },
					 { 1, 20, 3, 40 }, { 17, 253, 144, 10 }, { 99, 100, 101, 199 } };
	char a[ADDR_STRLEN], b[ADDR_STRLEN];
	struct ip_addr ip;
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		addr_from_v4(&ip, v4[i]);
		format_addr(&ip, a);
		addr_format(&ip, b);
		ck_assert_str_eq(a, b);
	}
	ck_assert(addr_parse("2001:db8::17", &ip));
	format_addr(&ip, a);
	ck_assert_str_eq(a, "2001:db8::17");
	ck_assert(addr_parse("::ffff:10.1.2.3", &ip));   /* IPv4-mapped: as addr_format has it */
	format_addr(&ip, a);
	addr_format(&ip, b);
	ck_assert_str_eq(a, b);
}
END_TEST

/* The escaper, one byte at a time as RFC 8259 has it: what the writer's
 * 16-bytes-at-a-time scan must give for every string. */
static size_t reference_escape(const unsigned char *s, size_t n, char *out)
{
	char *d = out;
	*d++ = '"';
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\') {
			d += sprintf(d, "\\%c", c);
			i++;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			d += sprintf(d, "\\%c", c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			d += sprintf(d, "\\u%04x", c);
			i++;
		} else if (c < 0x80) {
			*d++ = (char)c;
			i++;
		} else {
			size_t len = utf8_seq_len(s + i, n - i);
			if (len == 0) {
				d += sprintf(d, "\\ufffd");
				i++;
			} else {
				memcpy(d, s + i, len);
				d += len;
				i += len;
			}
		}
	}
	*d++ = '"';
	*d = '\0';
	return (size_t)(d - out);
}

START_TEST(escaping_matches_a_byte_by_byte_reference)
{
	/* Every kind of byte at every position of strings up to 70 bytes
	 * (the scan takes 16 at a time, then the tail), and random mixes. */
	static const unsigned char kinds[] = { 'a', '"', '\\', '\n', 0x01, 0x1f, 0x20, 0x7e, 0x7f,
					       0x80, 0xc3, 0xe2, 0xf0, 0xff };
	unsigned char s[80];
	char want[80 * 6 + 3];
	struct json_writer w;
	jw_init(&w);
	uint32_t seed = 12345;
	for (size_t n = 0; n <= 70; n++) {
		for (size_t pos = 0; pos < (n ? n : 1); pos++) {
			for (size_t k = 0; k < sizeof(kinds); k++) {
				memset(s, 'x', n);
				if (n)
					s[pos] = kinds[k];
				if (k % 3 == 0 && n > 1) {   /* and a valid two-byte sequence */
					s[n - 2] = 0xc3;
					s[n - 1] = 0xa9;
				}
				jw_reset(&w);
				jw_string_n(&w, (const char *)s, n);
				size_t wl = reference_escape(s, n, want);
				ck_assert_uint_eq(w.len, wl);
				ck_assert_str_eq(w.buf, want);
			}
		}
		for (int r = 0; r < 50; r++) {
			for (size_t i = 0; i < n; i++) {
				seed = seed * 1103515245u + 12345u;
				s[i] = (unsigned char)(seed >> 16);
			}
			jw_reset(&w);
			jw_string_n(&w, (const char *)s, n);
			reference_escape(s, n, want);
			ck_assert_str_eq(w.buf, want);
		}
	}
	jw_free(&w);
}
END_TEST

START_TEST(integers_match_printf)
{
	struct json_writer w;
	jw_init(&w);
	char want[32];
	uint64_t v = 1;
	uint32_t seed = 99;
	for (int i = 0; i < 400; i++) {
		uint64_t vals[4] = { v - 1, v, v + 1, 0 };
		seed = seed * 1103515245u + 12345u;
		vals[3] = ((uint64_t)seed << 32 | (seed >> 3)) >> (seed % 60);
		for (int k = 0; k < 4; k++) {
			jw_reset(&w);
			jw_uint(&w, vals[k]);
			snprintf(want, sizeof(want), "%llu", (unsigned long long)vals[k]);
			ck_assert_str_eq(w.buf, want);
			jw_reset(&w);
			jw_int(&w, -(int64_t)(vals[k] >> 1));
			snprintf(want, sizeof(want), "%lld", -(long long)(vals[k] >> 1));
			ck_assert_str_eq(w.buf, want);
		}
		if (i % 20 == 19)
			v = v > UINT64_MAX / 10 ? 1 : v * 10;
	}
	jw_reset(&w);
	jw_uint(&w, UINT64_MAX);
	ck_assert_str_eq(w.buf, "18446744073709551615");
	jw_reset(&w);
	jw_int(&w, INT64_MIN);
	ck_assert_str_eq(w.buf, "-9223372036854775808");
	jw_free(&w);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("json_writer");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, nested_structure_and_commas);
	tcase_add_test(tc, address_text_is_inet_ntop);
	tcase_add_test(tc, escapes_quotes_controls_and_bad_utf8);
	tcase_add_test(tc, overlong_and_surrogate_utf8_rejected);
	tcase_add_test(tc, escaping_matches_a_byte_by_byte_reference);
	tcase_add_test(tc, integers_match_printf);
	tcase_add_test(tc, large_values_grow_the_buffer);
	tcase_add_test(tc, timestamp_is_rfc3339_utc_microseconds);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
