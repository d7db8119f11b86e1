/* The JSON form of alert and flow records: the field names and values the
 * output contract promises. */
#include <string.h>

#include "decode.h"
#include "flow.h"
#include "record_json.h"
#include "testutil.h"

static void base_record(struct record *r, enum record_kind kind)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->ts_usec = 1768467600123456ull;
	r->flow_id = 4242;
	snprintf(r->community_id, sizeof(r->community_id), "1:abc=");
	addr_parse("10.20.1.11", &r->src);
	addr_parse("17.248.185.10", &r->dst);
	r->sport = 50011;
	r->dport = 443;
	r->proto = 6;
	r->app_proto = APP_TLS;
	r->verdict.service = SVC_ICLOUD;
	r->verdict.confidence = CONF_HIGH;
	snprintf(r->verdict.match, sizeof(r->verdict.match), "icloud.com");
	r->verdict.n_evidence = 2;
	r->verdict.evidence[0].source = EV_SNI;
	snprintf(r->verdict.evidence[0].value, EVIDENCE_VALUE_MAX, "gateway.icloud.com");
	r->verdict.evidence[1].source = EV_IP_PREFIX;
	snprintf(r->verdict.evidence[1].value, EVIDENCE_VALUE_MAX, "17.0.0.0/8");
	snprintf(r->policy, sizeof(r->policy), "officials");
}

START_TEST(alert_has_the_contract_fields_in_order)
{
	struct record r;
	base_record(&r, RECORD_ALERT);
	struct json_writer w;
	jw_init(&w);
	record_to_json(&r, "tap1", &w);
	ck_assert_str_eq(w.buf,
		"{\"timestamp\":\"2026-01-15T09:00:00.123456Z\",\"event_type\":\"alert\","
		"\"flow_id\":4242,\"community_id\":\"1:abc=\",\"src_ip\":\"10.20.1.11\","
		"\"src_port\":50011,\"dest_ip\":\"17.248.185.10\",\"dest_port\":443,"
		"\"proto\":\"TCP\",\"app_proto\":\"tls\",\"service\":\"icloud\","
		"\"policy\":\"officials\",\"confidence\":\"high\",\"signature\":\"icloud.com\","
		"\"evidence\":[{\"source\":\"sni\",\"value\":\"gateway.icloud.com\"},"
		"{\"source\":\"ip_prefix\",\"value\":\"17.0.0.0/8\"}],\"sensor\":\"tap1\"}");
	jw_free(&w);
}
END_TEST

START_TEST(alert_carries_tunnel_vlan_and_suppressed_count)
{
	struct record r;
	base_record(&r, RECORD_ALERT);
	r.app_proto = APP_NONE;
	r.proto = 17;
	r.vlan = 100;
	r.tunnel = TUNNEL_VXLAN;
	addr_parse("198.51.100.1", &r.outer_src);
	addr_parse("198.51.100.2", &r.outer_dst);
	r.suppressed = 3;
	struct json_writer w;
	jw_init(&w);
	record_to_json(&r, "tap1", &w);
	ck_assert_ptr_nonnull(strstr(w.buf, "\"proto\":\"UDP\",\"app_proto\":null,\"vlan\":100,"
					    "\"tunnel\":{\"type\":\"vxlan\",\"src_ip\":\"198.51.100.1\","
					    "\"dest_ip\":\"198.51.100.2\"}"));
	ck_assert_ptr_nonnull(strstr(w.buf, "\"suppressed\":3,\"sensor\":\"tap1\"}"));
	jw_free(&w);
}
END_TEST

START_TEST(flow_record_of_a_non_apple_flow)
{
	struct record r;
	base_record(&r, RECORD_FLOW);
	memset(&r.verdict, 0, sizeof(r.verdict));
	r.policy[0] = '\0';
	r.start_usec = 1768467600000000ull;
	r.end_usec = 1768467601000000ull;
	r.pkts[0] = 5;
	r.pkts[1] = 4;
	r.bytes[0] = 900;
	r.bytes[1] = 3000;
	snprintf(r.sni, sizeof(r.sni), "www.example.org");
	r.n_dns = 0;
	r.end_reason = FLOW_END_FIN;
	struct json_writer w;
	jw_init(&w);
	record_to_json(&r, "tap1", &w);
	ck_assert_ptr_nonnull(strstr(w.buf, "\"event_type\":\"flow\""));
	ck_assert_ptr_nonnull(strstr(w.buf, "\"start\":\"2026-01-15T09:00:00.000000Z\","
					    "\"end\":\"2026-01-15T09:00:01.000000Z\","
					    "\"pkts_toserver\":5,\"pkts_toclient\":4,"
					    "\"bytes_toserver\":900,\"bytes_toclient\":3000,"
					    "\"sni\":\"www.example.org\",\"quic_sni\":null,"
					    "\"http_host\":null,\"dns_queries\":[],\"service\":null,"
					    "\"evidence\":[],\"policy\":null,\"end_reason\":\"fin\""));
	jw_free(&w);
}
END_TEST

START_TEST(flow_record_lists_dns_queries_and_ech)
{
	struct record r;
	base_record(&r, RECORD_FLOW);
	r.app_proto = APP_DNS;
	r.n_dns = 2;
	snprintf(r.dns_queries[0], DNS_NAME_MAX, "courier.push.apple.com");
	snprintf(r.dns_queries[1], DNS_NAME_MAX, "weird\"name");
	r.dns_more = 7;
	r.ech = true;
	r.end_reason = FLOW_END_TIMEOUT;
	struct json_writer w;
	jw_init(&w);
	record_to_json(&r, "tap1", &w);
	ck_assert_ptr_nonnull(strstr(w.buf, "\"ech\":true"));
	ck_assert_ptr_nonnull(strstr(w.buf, "\"dns_queries\":[\"courier.push.apple.com\","
					    "\"weird\\\"name\"],\"dns_queries_more\":7,"
					    "\"service\":\"icloud\",\"confidence\":\"high\""));
	ck_assert_ptr_nonnull(strstr(w.buf, "\"end_reason\":\"timeout\""));
	jw_free(&w);
}
END_TEST

START_TEST(ipv6_addresses_are_rfc5952)
{
	struct record r;
	base_record(&r, RECORD_ALERT);
	addr_parse("2001:0db8:0020:0000:0000:0000:0000:0015", &r.src);
	addr_parse("2a01:b740:a42::1", &r.dst);
	struct json_writer w;
	jw_init(&w);
	record_to_json(&r, "tap1", &w);
	ck_assert_ptr_nonnull(strstr(w.buf, "\"src_ip\":\"2001:db8:20::15\""));
	ck_assert_ptr_nonnull(strstr(w.buf, "\"dest_ip\":\"2a01:b740:a42::1\""));
	jw_free(&w);
}
END_TEST

/* The names the JSON and syslog writers copy without escaping (their own
 * tables) hold nothing that would need it, whatever value they are asked
 * for, in range or not. */
static void assert_plain(const char *s)
{
	if (!s)
		return;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		ck_assert_msg(*p > 0x20 && *p < 0x7f && *p != '"' && *p != '\\' && *p != ']',
			      "'%s' needs escaping", s);
}

START_TEST(table_names_need_no_escaping)
{
	for (int i = -1; i <= SVC_COUNT + 1; i++)
		assert_plain(service_name((enum service_id)i));
	for (int i = -1; i <= 8; i++) {
		assert_plain(app_proto_name((enum app_proto)i));
		assert_plain(confidence_name((enum confidence)i));
		assert_plain(evidence_source_name((enum evidence_source)i));
	}
	for (int i = -1; i <= 16; i++)
		assert_plain(end_reason_name(i));
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("record_json");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, alert_has_the_contract_fields_in_order);
	tcase_add_test(tc, alert_carries_tunnel_vlan_and_suppressed_count);
	tcase_add_test(tc, flow_record_of_a_non_apple_flow);
	tcase_add_test(tc, flow_record_lists_dns_queries_and_ech);
	tcase_add_test(tc, ipv6_addresses_are_rfc5952);
	tcase_add_test(tc, table_names_need_no_escaping);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
