/* The verdict rules: the most specific name wins; a name the host sent is
 * high, a DNS answer or an Apple ASN medium, an Apple address alone low; a
 * port hint refines the service of an Apple address only. Run against the
 * shipped signatures (the service taxonomy as deployed) and against small
 * sets loaded from strings. */
#include <string.h>

#include "classify.h"
#include "testutil.h"

static struct sigset *shipped;

static void load_shipped(void)
{
	struct sig_error se;
	shipped = sigset_load_dir("signatures", &se);
	ck_assert_msg(shipped != NULL, "%s:%d: %s", se.file, se.line, se.msg);
}

static void unload(void)
{
	sigset_free(shipped);
	shipped = NULL;
}

static enum service_id name_service(const char *name, enum confidence *conf, char *match)
{
	struct verdict v;
	classify_dns_query(shipped, name, &v);
	*conf = v.confidence;
	snprintf(match, DNS_NAME_MAX, "%s", v.match);
	return v.service;
}

static bool has_evidence(const struct verdict *v, enum evidence_source src, const char *value)
{
	for (unsigned i = 0; i < v->n_evidence; i++)
		if (v->evidence[i].source == src && strcmp(v->evidence[i].value, value) == 0)
			return true;
	return false;
}

START_TEST(most_specific_name_wins)
{
	load_shipped();
	static const struct {
		const char *name;
		const char *service;
		const char *match;
	} cases[] = {
		{ "init.push.apple.com", "push", "push.apple.com" },
		{ "courier.push.apple.com", "push", "push.apple.com" },
		{ "mask.icloud.com", "private-relay", "mask.icloud.com" },
		{ "mask-h2.icloud.com", "private-relay", "mask-h2.icloud.com" },
		{ "gateway.icloud.com", "icloud", "icloud.com" },
		{ "captive.apple.com", "captive-portal", "captive.apple.com" },
		{ "mesu.apple.com", "software-update", "mesu.apple.com" },
		{ "www.apple.com", "apple", "apple.com" },
		{ "developer.apple", "apple", "apple" },   /* the .apple top-level domain */
		{ "WWW.Apple.COM.", "apple", "apple.com" },
		{ "x.apple.com.edgekey.net", "apple", "apple.com.edgekey.net" },
		{ "captive.apple.com.edgekey.net", "captive-portal", "captive.apple.com.edgekey.net" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum confidence conf;
		char match[DNS_NAME_MAX];
		enum service_id s = name_service(cases[i].name, &conf, match);
		ck_assert_msg(s != SVC_NONE, "%s: no service", cases[i].name);
		ck_assert_msg(strcmp(service_name(s), cases[i].service) == 0, "%s: %s, want %s",
			      cases[i].name, service_name(s), cases[i].service);
		ck_assert_str_eq(match, cases[i].match);
		ck_assert_int_eq(conf, CONF_HIGH);
	}
	static const char *const not_apple[] = { "notapple.com", "apple.com.evil.example",
						 "hicloud.com", "www.hicloud.com", "pineapple",
						 "com", "edgekey.net", "" };
	for (size_t i = 0; i < sizeof(not_apple) / sizeof(not_apple[0]); i++) {
		enum confidence conf;
		char match[DNS_NAME_MAX];
		ck_assert_msg(name_service(not_apple[i], &conf, match) == SVC_NONE, "%s",
			      not_apple[i]);
	}
	unload();
}
END_TEST

START_TEST(apple_address_alone_stays_low)
{
	load_shipped();
	struct ip_addr srv;
	ck_assert(addr_parse("17.1.2.3", &srv));
	struct flow_facts f = { .srv = &srv, .srv_port = 443, .proto = 6 };
	struct verdict v;
	classify_flow(shipped, &f, &v);
	ck_assert_int_eq(v.confidence, CONF_LOW);
	ck_assert_str_eq(service_name(v.service), "apple");
	ck_assert(has_evidence(&v, EV_IP_PREFIX, "17.0.0.0/8"));
	ck_assert_uint_eq(v.n_evidence, 1);
	/* a push port refines the service, not the confidence */
	f.srv_port = 5223;
	classify_flow(shipped, &f, &v);
	ck_assert_int_eq(v.confidence, CONF_LOW);
	ck_assert_str_eq(service_name(v.service), "push");
	ck_assert(has_evidence(&v, EV_PORT, "tcp/5223"));
	/* the same port toward a non-Apple address says nothing */
	ck_assert(addr_parse("192.0.2.1", &srv));
	classify_flow(shipped, &f, &v);
	ck_assert_int_eq(v.service, SVC_NONE);
	ck_assert_uint_eq(v.n_evidence, 0);
	unload();
}
END_TEST

START_TEST(asn_gives_medium)
{
	load_shipped();
	struct ip_addr srv;
	ck_assert(addr_parse("93.184.216.34", &srv));
	struct flow_facts f = { .srv = &srv, .srv_port = 443, .proto = 6, .asn = 714,
				.asn_org = "Apple Inc.",
				.asn_service = sigset_match_asn(shipped, 714) };
	ck_assert_int_eq(f.asn_service, SVC_APPLE);
	ck_assert_int_eq(sigset_match_asn(shipped, 6185), SVC_APPLE);
	ck_assert_int_eq(sigset_match_asn(shipped, 2709), SVC_APPLE);
	ck_assert_int_eq(sigset_match_asn(shipped, 15169), SVC_NONE);
	struct verdict v;
	classify_flow(shipped, &f, &v);
	ck_assert_int_eq(v.confidence, CONF_MEDIUM);
	ck_assert(has_evidence(&v, EV_ASN, "714"));
	ck_assert_str_eq(v.match, "AS714");
	/* a non-Apple name does not lower it; an Apple name raises it */
	f.sni = "notapple.com";
	classify_flow(shipped, &f, &v);
	ck_assert_int_eq(v.confidence, CONF_MEDIUM);
	f.sni = "gateway.icloud.com";
	classify_flow(shipped, &f, &v);
	ck_assert_int_eq(v.confidence, CONF_HIGH);
	ck_assert_str_eq(service_name(v.service), "icloud");
	ck_assert(has_evidence(&v, EV_SNI, "gateway.icloud.com"));
	ck_assert(has_evidence(&v, EV_ASN, "714"));
	/* an ASN that is not listed is no evidence */
	f.sni = NULL;
	f.asn = 64500;
	f.asn_service = sigset_match_asn(shipped, 64500);
	classify_flow(shipped, &f, &v);
	ck_assert_int_eq(v.service, SVC_NONE);
	unload();
}
END_TEST

START_TEST(dns_answer_before_asn_and_prefix)
{
	struct sigset *s = sigset_new();
	struct sig_error se;
	static const char sigs[] = "domain icloud.com icloud\n"
				   "domain push.apple.com push\n"
				   "prefix 17.0.0.0/8 apple\n"
				   "asn 714 apple\n";
	ck_assert_msg(sigset_load_string(s, sigs, strlen(sigs), "t.sig", &se), "%s", se.msg);
	struct ip_addr srv;
	ck_assert(addr_parse("17.57.146.52", &srv));
	struct flow_facts f = { .srv = &srv, .srv_port = 443, .proto = 6,
				.dns_answer_name = "gateway.icloud.com",
				.dns_answer_service = SVC_ICLOUD, .asn = 714,
				.asn_service = SVC_APPLE };
	struct verdict v;
	classify_flow(s, &f, &v);
	ck_assert_int_eq(v.confidence, CONF_MEDIUM);
	ck_assert_int_eq(v.service, SVC_ICLOUD);
	ck_assert_str_eq(v.match, "gateway.icloud.com");
	ck_assert(has_evidence(&v, EV_DNS_ANSWER, "gateway.icloud.com"));
	ck_assert(has_evidence(&v, EV_ASN, "714"));
	ck_assert(has_evidence(&v, EV_IP_PREFIX, "17.0.0.0/8"));
	/* the QUIC SNI is a name the host sent: high */
	f.quic_sni = "courier.push.apple.com";
	classify_flow(s, &f, &v);
	ck_assert_int_eq(v.confidence, CONF_HIGH);
	ck_assert_int_eq(v.service, SVC_PUSH);
	ck_assert(has_evidence(&v, EV_QUIC_SNI, "courier.push.apple.com"));
	sigset_free(s);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("classify");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, most_specific_name_wins);
	tcase_add_test(tc, apple_address_alone_stays_low);
	tcase_add_test(tc, asn_gives_medium);
	tcase_add_test(tc, dns_answer_before_asn_and_prefix);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
