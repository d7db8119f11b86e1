/* Message bodies and syslog framing: CEF, LEEF 2.0, ECS, RFC 5424 / 3164,
 * with hostile names (quotes, ], =, |, backslashes, line breaks, tabs,
 * non-ASCII and bytes that are not UTF-8). */
#include <string.h>

#include "format.h"
#include "sink.h"
#include "syslog_frame.h"
#include "testutil.h"

/* A domain from a packet that tries to break every format at once. */
#define HOSTILE "a\"b]c=d|e\\f\ng\rh\ti\x01j\xc3\xa9k\xffl.icloud.com"

static void hostile_record(struct record *r)
{
	memset(r, 0, sizeof(*r));
	r->kind = RECORD_ALERT;
	r->ts_usec = 1768467600123456ull;
	r->flow_id = 77;
	snprintf(r->community_id, sizeof(r->community_id), "1:x+y/z=");
	addr_parse("10.20.1.11", &r->src);
	addr_parse("2001:db8::17", &r->dst);
	r->sport = 50011;
	r->dport = 443;
	r->proto = 6;
	r->app_proto = APP_TLS;
	r->verdict.service = SVC_ICLOUD;
	r->verdict.confidence = CONF_HIGH;
	snprintf(r->verdict.match, sizeof(r->verdict.match), "icloud.com");
	r->verdict.n_evidence = 1;
	r->verdict.evidence[0].source = EV_SNI;
	snprintf(r->verdict.evidence[0].value, EVIDENCE_VALUE_MAX, "%s", HOSTILE);
	snprintf(r->policy, sizeof(r->policy), "p|1=2");
	r->suppressed = 3;
}

static bool has(const struct strbuf *b, const char *needle)
{
	return strstr(b->buf, needle) != NULL;
}

static bool no_raw_breaks(const struct strbuf *b)
{
	return !memchr(b->buf, '\n', b->len) && !memchr(b->buf, '\r', b->len);
}

START_TEST(cef_escapes_per_spec)
{
	struct record r;
	hostile_record(&r);
	struct strbuf b;
	sb_init(&b);
	format_cef(&r, "sensor|1", &b);
	ck_assert_msg(strncmp(b.buf, "CEF:0|applemon|applemon|" APPLEMON_PRODUCT_VERSION
				     "|alert:icloud|Apple service reached: icloud|7|rt=1768467600123 ",
			      strlen("CEF:0|applemon|applemon|" APPLEMON_PRODUCT_VERSION
				     "|alert:icloud|Apple service reached: icloud|7|rt=1768467600123 ")) == 0,
		      "%s", b.buf);
	/* extension values: \ and = escaped, line breaks as \n \r, | as is */
	ck_assert_msg(has(&b, " dhost=a\"b]c\\=d|e\\\\f\\ng\\rh i j\xc3\xa9k\xef\xbf\xbdl.icloud.com "),
		      "%s", b.buf);
	ck_assert(has(&b, " dvchost=sensor|1 "));
	ck_assert(has(&b, " cs1Label=policy cs1=p|1\\=2 "));
	ck_assert(has(&b, " src=10.20.1.11 spt=50011 dst=2001:db8::17 dpt=443 proto=TCP app=tls "));
	ck_assert(has(&b, " cs4=1:x+y/z\\= "));
	ck_assert(has(&b, " cnt=4 "));
	ck_assert(no_raw_breaks(&b));
	sb_free(&b);
}
END_TEST

START_TEST(cef_header_escapes_pipe_and_backslash)
{
	struct record r;
	hostile_record(&r);
	r.kind = RECORD_FLOW;
	r.verdict.service = SVC_NONE;
	struct strbuf b;
	sb_init(&b);
	format_cef(&r, "s", &b);
	ck_assert_msg(strncmp(b.buf, "CEF:0|applemon|applemon|" APPLEMON_PRODUCT_VERSION
				     "|flow:none|Flow ended|1|", 45) == 0, "%s", b.buf);
	/* exactly 7 unescaped pipes before the extension */
	int pipes = 0;
	for (size_t i = 0; i < b.len; i++)
		if (b.buf[i] == '|' && (i == 0 || b.buf[i - 1] != '\\'))
			pipes++;
	ck_assert_int_ge(pipes, 7);
	sb_free(&b);
}
END_TEST

START_TEST(leef_values_cannot_break_attributes)
{
	struct record r;
	hostile_record(&r);
	struct strbuf b;
	sb_init(&b);
	format_leef(&r, "sensor\tx", &b);
	ck_assert_msg(strncmp(b.buf, "LEEF:2.0|applemon|applemon|" APPLEMON_PRODUCT_VERSION
				     "|alert:icloud|x09|devTime=Jan 15 2026 09:00:00.123\t", 60) == 0,
		      "%s", b.buf);
	/* a tab, CR or LF inside a value would start a new attribute: spaces */
	ck_assert_msg(has(&b, "\tdomain=a\"b]c=d|e\\f g h i j\xc3\xa9k\xef\xbf\xbdl.icloud.com\t"), "%s",
		      b.buf);
	ck_assert(has(&b, "\tidentHostName=sensor x\t"));
	ck_assert(has(&b, "\tpolicy=p|1=2\t"));
	ck_assert(has(&b, "\tsrc=10.20.1.11\tsrcPort=50011\tdst=2001:db8::17\tdstPort=443\t"));
	ck_assert(has(&b, "\tsuppressed=3"));
	ck_assert(no_raw_breaks(&b));
	/* every attribute is key=value */
	size_t attrs = 0;
	const char *p = strstr(b.buf, "|x09|") + 5;
	for (const char *q = p; q; q = strchr(q + 1, '\t')) {
		const char *a = *q == '\t' ? q + 1 : q;
		const char *eq = strchr(a, '=');
		const char *tab = strchr(a, '\t');
		ck_assert_msg(eq && (!tab || eq < tab), "attribute without '=': %s", a);
		attrs++;
	}
	ck_assert_uint_ge(attrs, 15);
	sb_free(&b);
}
END_TEST

START_TEST(ecs_names_and_escaping)
{
	struct record r;
	hostile_record(&r);
	struct json_writer w;
	jw_init(&w);
	format_ecs(&r, "tap1", &w);
	const char *j = w.buf;
	ck_assert_msg(strncmp(j, "{\"@timestamp\":\"2026-01-15T09:00:00.123456Z\",", 44) == 0, "%s", j);
	ck_assert(strstr(j, "\"event\":{\"kind\":\"alert\",\"category\":[\"network\"]"));
	ck_assert(strstr(j, "\"rule\":{\"name\":\"icloud.com\",\"category\":\"icloud\""));
	ck_assert(strstr(j, "\"source\":{\"ip\":\"10.20.1.11\",\"port\":50011}"));
	ck_assert_msg(strstr(j, "\"destination\":{\"ip\":\"2001:db8::17\",\"port\":443,\"domain\":"
				"\"a\\\"b]c=d|e\\\\f\\ng\\rh\\ti\\u0001j\xc3\xa9k\\ufffdl.icloud.com\"}"),
		      "%s", j);
	ck_assert(strstr(j, "\"network\":{\"transport\":\"tcp\",\"iana_number\":6,\"protocol\":\"tls\","
			    "\"community_id\":\"1:x+y/z=\"}"));
	ck_assert(strstr(j, "\"tls\":{\"client\":{\"server_name\":\"a\\\"b]"));
	ck_assert(strstr(j, "\"observer\":{\"name\":\"tap1\",\"hostname\":\"tap1\",\"type\":\"sensor\""));
	ck_assert(strstr(j, "\"applemon\":{\"flow_id\":77,\"service\":\"icloud\",\"confidence\":\"high\","
			    "\"policy\":\"p|1=2\""));
	ck_assert(strstr(j, "\"suppressed\":3"));
	ck_assert(!strchr(j, '\n'));
	jw_free(&w);
}
END_TEST

START_TEST(rfc5424_structured_data_escaping)
{
	struct record r;
	hostile_record(&r);
	struct syslog_opts o = { SYSLOG_5424, SYSLOG_FACILITY_LOCAL0, "tap 1\xc3\xa9", 42 };
	struct strbuf b;
	sb_init(&b);
	syslog_message(&o, &r, "BODY", 4, &b);
	/* PRI local0.warning = 132; hostname: printable US-ASCII only */
	ck_assert_msg(strncmp(b.buf, "<132>1 2026-01-15T09:00:00.123456Z tap1 applemon 42 alert "
				     "[applemon@32473 event=\"alert\" service=\"icloud\"",
			      100) == 0,
		      "%s", b.buf);
	ck_assert_msg(has(&b, " domain=\"a\\\"b\\]c=d|e\\\\f g h i j\xc3\xa9k\xef\xbf\xbdl.icloud.com\""),
		      "%s", b.buf);
	ck_assert(has(&b, " policy=\"p|1=2\""));
	ck_assert(has(&b, " suppressed=\"3\"] BODY"));
	ck_assert(no_raw_breaks(&b));
	/* the SD element closes exactly once: every other ] is escaped */
	int open_brackets = 0;
	for (size_t i = 0; i < b.len; i++)
		if (b.buf[i] == ']' && b.buf[i - 1] != '\\')
			open_brackets++;
	ck_assert_int_eq(open_brackets, 1);
	sb_free(&b);
}
END_TEST

START_TEST(rfc3164_and_framing)
{
	struct record r;
	hostile_record(&r);
	r.kind = RECORD_FLOW;
	struct syslog_opts o = { SYSLOG_3164, SYSLOG_FACILITY_LOCAL0, "", 7 };
	struct strbuf b, f;
	sb_init(&b);
	sb_init(&f);
	syslog_message(&o, &r, "x y", 3, &b);
	ck_assert_str_eq(b.buf, "<134>Jan 15 09:00:00 - applemon[7]: x y");
	syslog_frame(FRAMING_OCTET, b.buf, b.len, &f);
	ck_assert_str_eq(f.buf, "39 <134>Jan 15 09:00:00 - applemon[7]: x y");
	sb_reset(&f);
	syslog_frame(FRAMING_LF, "abc", 3, &f);
	ck_assert_str_eq(f.buf, "abc\n");
	sb_reset(&f);
	syslog_frame(FRAMING_NONE, "abc", 3, &f);
	ck_assert_str_eq(f.buf, "abc");
	/* the pieces the delivery thread puts together make the same bytes */
	char prefix[24];
	ck_assert_uint_eq(syslog_frame_prefix(FRAMING_OCTET, 39, prefix), 3);
	ck_assert(memcmp(prefix, "39 ", 3) == 0);
	ck_assert_uint_eq(syslog_frame_prefix(FRAMING_OCTET, 0, prefix), 2);
	ck_assert(memcmp(prefix, "0 ", 2) == 0);
	ck_assert_uint_eq(syslog_frame_prefix(FRAMING_OCTET, 1234567, prefix), 8);
	ck_assert(memcmp(prefix, "1234567 ", 8) == 0);
	ck_assert_uint_eq(syslog_frame_prefix(FRAMING_LF, 39, prefix), 0);
	ck_assert_uint_eq(syslog_frame_prefix(FRAMING_NONE, 39, prefix), 0);
	for (int rfc = 0; rfc < 2; rfc++) {
		struct syslog_opts o2 = { rfc ? SYSLOG_3164 : SYSLOG_5424, SYSLOG_FACILITY_LOCAL0,
					  "sensor", 7 };
		r.kind = rfc ? RECORD_FLOW : RECORD_ALERT;
		sb_reset(&b);
		sb_reset(&f);
		syslog_message(&o2, &r, "BODY", 4, &b);
		syslog_header(&o2, &r, &f);
		sb_put(&f, "BODY", 4);
		ck_assert_str_eq(f.buf, b.buf);
	}
	sb_free(&b);
	sb_free(&f);
}
END_TEST

START_TEST(every_format_is_one_line)
{
	struct record r;
	hostile_record(&r);
	struct strbuf b;
	sb_init(&b);
	for (int k = 0; k < 2; k++) {
		r.kind = k ? RECORD_FLOW : RECORD_ALERT;
		snprintf(r.sni, sizeof(r.sni), "%s", HOSTILE);
		snprintf(r.dns_queries[0], sizeof(r.dns_queries[0]), "%s", HOSTILE);
		r.n_dns = 1;
		for (int f = 0; f < FORMAT_COUNT; f++) {
			format_record((enum msg_format)f, &r, "s\n", &b);
			ck_assert_msg(b.len > 20 && no_raw_breaks(&b), "%s: %s",
				      format_name((enum msg_format)f), b.buf);
		}
	}
	sb_free(&b);
}
END_TEST

START_TEST(sink_specs)
{
	struct sink_spec s;
	char err[256];
	ck_assert(sink_parse("json:/tmp/a,b.json", NULL, &s, err, sizeof(err)));
	ck_assert_int_eq(s.kind, SINK_FILE);
	ck_assert_str_eq(s.target, "/tmp/a,b.json");
	ck_assert(sink_parse("json:-,format=cef", "leef", &s, err, sizeof(err)));
	ck_assert_int_eq(s.format, FORMAT_CEF);
	ck_assert(sink_parse("-", "ecs", &s, err, sizeof(err)));
	ck_assert_int_eq(s.format, FORMAT_ECS);
	ck_assert(sink_parse("syslog:tcp://127.0.0.1:514", NULL, &s, err, sizeof(err)));
	ck_assert_int_eq(s.kind, SINK_TCP);
	ck_assert_int_eq(s.framing, FRAMING_OCTET);
	ck_assert_int_eq(s.rfc, SYSLOG_5424);
	ck_assert_str_eq(s.target, "127.0.0.1");
	ck_assert_str_eq(s.port, "514");
	ck_assert(sink_parse("syslog:tls://[::1]:6514,format=ecs,rfc=3164,framing=lf,ca=/c.pem",
			     NULL, &s, err, sizeof(err)));
	ck_assert_int_eq(s.kind, SINK_TLS);
	ck_assert_str_eq(s.target, "::1");
	ck_assert_int_eq(s.format, FORMAT_ECS);
	ck_assert_int_eq(s.rfc, SYSLOG_3164);
	ck_assert_int_eq(s.framing, FRAMING_LF);
	ck_assert_str_eq(s.ca, "/c.pem");
	ck_assert(sink_parse("syslog:relp://logs.example:2514", NULL, &s, err, sizeof(err)));
	ck_assert_int_eq(s.kind, SINK_RELP);
	ck_assert(sink_parse("syslog:udp://h:514,format=leef", NULL, &s, err, sizeof(err)));
	ck_assert_int_eq(s.kind, SINK_UDP);
	ck_assert(sink_parse("syslog:unix:/dev/log", NULL, &s, err, sizeof(err)));
	ck_assert_int_eq(s.kind, SINK_UNIX);
	ck_assert_str_eq(s.target, "/dev/log");

	static const char *const bad[][2] = {
		{ "syslog:tcp://h", "HOST:PORT" },
		{ "syslog:tcp://h:0", "port must be 1-65535" },
		{ "syslog:tcp://h:99999", "port must be 1-65535" },
		{ "syslog:sctp://h:1", "use syslog:udp" },
		{ "syslog:udp://h:1,framing=lf", "does not apply" },
		{ "syslog:tcp://h:1,framing=xml", "not octet or lf" },
		{ "syslog:tcp://h:1,rfc=5425", "not 5424 or 3164" },
		{ "syslog:tcp://h:1,ca=/x", "does not apply" },
		{ "syslog:tcp://h:1,format=xml", "not one of json, ecs, cef, leef" },
		{ "syslog:tcp://h:1,nonsense", "expected key=value" },
		{ "json:", "names no file" },
		{ "kafka:x", "unsupported output" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(!sink_parse(bad[i][0], NULL, &s, err, sizeof(err)), "accepted %s",
			      bad[i][0]);
		ck_assert_msg(strstr(err, bad[i][1]), "%s: '%s' lacks '%s'", bad[i][0], err, bad[i][1]);
	}
}
END_TEST

/* RFC 5424 PARAM-VALUE escaping one byte at a time: '"', '\' and ']'
 * escaped, control bytes as spaces, bytes that are not UTF-8 as U+FFFD.
 * The escaper scans 16 and 8 bytes at a time; it must give this. */
static void reference_sd_escape(const unsigned char *s, size_t n, struct strbuf *out)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\' || c == ']') {
			sb_putc(out, '\\');
			sb_putc(out, (char)c);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			sb_putc(out, ' ');
			i++;
		} else if (c < 0x80) {
			sb_putc(out, (char)c);
			i++;
		} else {
			size_t len = utf8_seq_len(s + i, n - i);
			sb_put(out, len ? (const char *)s + i : "\xef\xbf\xbd", len ? len : 3);
			i += len ? len : 1;
		}
	}
}

START_TEST(sd_escaping_matches_a_byte_by_byte_reference)
{
	static const unsigned char kinds[] = { 'a', '"', '\\', ']', '\n', 0x1f, 0x20, 0x7e, 0x7f,
					       0x80, 0xc3, 0xe2, 0xf0, 0xff };
	unsigned char s[81];
	struct strbuf got, want;
	sb_init(&got);
	sb_init(&want);
	uint32_t seed = 777;
	for (size_t n = 0; n <= 70; n++) {
		for (size_t pos = 0; pos < (n ? n : 1); pos++)
			for (size_t k = 0; k < sizeof(kinds); k++) {
				memset(s, 'x', n);
				if (n)
					s[pos] = kinds[k];
				s[n] = '\0';
				sb_reset(&got);
				sb_reset(&want);
				sb_puts(&got, "<");   /* appends after what is there */
				sb_puts(&want, "<");
				syslog_sd_escape((const char *)s, &got);
				reference_sd_escape(s, n, &want);
				ck_assert_uint_eq(got.len, want.len);
				ck_assert_str_eq(got.buf, want.buf);
			}
		for (int r = 0; r < 50; r++) {
			for (size_t i = 0; i < n; i++) {
				seed = seed * 1103515245u + 12345u;
				s[i] = (unsigned char)((seed >> 16) % 255 + 1);   /* no NUL */
			}
			s[n] = '\0';
			sb_reset(&got);
			sb_reset(&want);
			syslog_sd_escape((const char *)s, &got);
			reference_sd_escape(s, n, &want);
			ck_assert_str_eq(got.buf, want.buf);
		}
	}
	sb_free(&got);
	sb_free(&want);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("formats");
	TCase *t = tcase_create("formats");
	tcase_add_test(t, cef_escapes_per_spec);
	tcase_add_test(t, cef_header_escapes_pipe_and_backslash);
	tcase_add_test(t, leef_values_cannot_break_attributes);
	tcase_add_test(t, ecs_names_and_escaping);
	tcase_add_test(t, rfc5424_structured_data_escaping);
	tcase_add_test(t, rfc3164_and_framing);
	tcase_add_test(t, sd_escaping_matches_a_byte_by_byte_reference);
	tcase_add_test(t, every_format_is_one_line);
	tcase_add_test(t, sink_specs);
	suite_add_tcase(s, t);
	return s;
}

TEST_MAIN(make_suite)
