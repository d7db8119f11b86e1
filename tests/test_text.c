/* Text helpers shared by the TLS, QUIC and HTTP extractors and the
 * configuration and signature readers. */
#include <string.h>

#include "testutil.h"
#include "text.h"

static bool copy(const char *in, size_t cap, const char *also, char *out)
{
	return text_copy_host(cur_make((const uint8_t *)in, strlen(in)), out, cap, also);
}

START_TEST(host_names_are_lowercased_and_escaped)
{
	char out[64];
	ck_assert(copy("Gateway.iCloud.COM.", sizeof(out), "", out));
	ck_assert_str_eq(out, "gateway.icloud.com");
	ck_assert(copy("a b\"c]", sizeof(out), "", out));
	ck_assert_str_eq(out, "a\\032b\\034c\\093");
	/* what a protocol adds to the plain set stays as it is */
	ck_assert(copy("[2001:db8::1]", sizeof(out), "~[]", out));
	ck_assert_str_eq(out, "[2001:db8::1]");
	ck_assert(copy("~user.example", sizeof(out), "", out));
	ck_assert_str_eq(out, "\\126user.example");
	ck_assert(copy("host:8443", sizeof(out), "", out));
	ck_assert_str_eq(out, "host:8443");
	const uint8_t raw[] = { 'x', 0x00, 0xff, 'y' };
	ck_assert(text_copy_host(cur_make(raw, sizeof(raw)), out, sizeof(out), ""));
	ck_assert_str_eq(out, "x\\000\\255y");
}
END_TEST

START_TEST(host_names_that_do_not_fit_are_refused_whole)
{
	char out[8];
	memset(out, 'z', sizeof(out));
	ck_assert(!copy("abcdefgh", sizeof(out), "", out));
	ck_assert_str_eq(out, "");
	ck_assert(copy("abcdefg", sizeof(out), "", out));   /* 7 + NUL fits */
	ck_assert_str_eq(out, "abcdefg");
	ck_assert(!copy("ab\x01", 6, "", out));   /* the escape does not fit */
	ck_assert_str_eq(out, "");
	ck_assert(!copy("", sizeof(out), "", out));
	ck_assert(!copy(".", sizeof(out), "", out));
}
END_TEST

START_TEST(builder_stops_at_its_bound)
{
	char out[4];
	struct text_buf b = text_buf_over(out, sizeof(out));
	text_putc(&b, 'a');
	text_put_escaped(&b, 7);
	ck_assert(b.overflow);
	ck_assert_str_eq(out, "a\\0");
	ck_assert_uint_eq(b.len, 3);
}
END_TEST

START_TEST(decimals_are_strict)
{
	uint64_t v = 99;
	ck_assert(text_parse_decimal("65535", 1, 65535, &v));
	ck_assert_uint_eq(v, 65535);
	ck_assert(!text_parse_decimal("65536", 1, 65535, &v));
	ck_assert(!text_parse_decimal("0", 1, 65535, &v));
	ck_assert(!text_parse_decimal("", 0, 10, &v));
	ck_assert(!text_parse_decimal("+5", 0, 10, &v));
	ck_assert(!text_parse_decimal(" 5", 0, 10, &v));
	ck_assert(!text_parse_decimal("5 ", 0, 10, &v));
	ck_assert(!text_parse_decimal("-1", 0, 10, &v));
	ck_assert(text_parse_decimal("18446744073709551615", 0, UINT64_MAX, &v));
	ck_assert(v == UINT64_MAX);
	ck_assert(!text_parse_decimal("18446744073709551616", 0, UINT64_MAX, &v));
	ck_assert(!text_parse_decimal("99999999999999999999999", 0, UINT64_MAX, &v));
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("text");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, host_names_are_lowercased_and_escaped);
	tcase_add_test(tc, host_names_that_do_not_fit_are_refused_whole);
	tcase_add_test(tc, builder_stops_at_its_bound);
	tcase_add_test(tc, decimals_are_strict);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
