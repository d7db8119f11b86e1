/* Community ID v1 against the reference vectors of the specification. */
#include <string.h>

#include "community_id.h"
#include "testutil.h"

static void check_vector(const char *src, uint16_t sport, const char *dst, uint16_t dport,
			 uint8_t proto, const char *want)
{
	struct ip_addr a, b;
	ck_assert(addr_parse(src, &a));
	ck_assert(addr_parse(dst, &b));
	char fwd[COMMUNITY_ID_LEN], rev[COMMUNITY_ID_LEN];
	community_id_v1(&a, &b, sport, dport, proto, 0, fwd);
	community_id_v1(&b, &a, dport, sport, proto, 0, rev);
	ck_assert_str_eq(fwd, want);
	ck_assert_str_eq(rev, want);
}

START_TEST(tcp_ipv4_vector)
{
	check_vector("128.232.110.120", 34855, "66.35.250.204", 80, 6, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
}
END_TEST

START_TEST(udp_ipv4_vector)
{
	check_vector("192.168.1.52", 54585, "8.8.8.8", 53, 17, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=");
}
END_TEST

START_TEST(tcp_ipv6_vector)
{
	check_vector("2001:470:e5bf:dead:4957:2174:e82c:4887", 63943, "2607:f8b0:400c:c03::1a", 25, 6,
		     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=");
}
END_TEST

START_TEST(seed_changes_the_id)
{
	struct ip_addr a, b;
	addr_parse("10.0.0.1", &a);
	addr_parse("10.0.0.2", &b);
	char s0[COMMUNITY_ID_LEN], s1[COMMUNITY_ID_LEN];
	community_id_v1(&a, &b, 1000, 443, 6, 0, s0);
	community_id_v1(&a, &b, 1000, 443, 6, 1, s1);
	ck_assert_str_ne(s0, s1);
	ck_assert_int_eq(strlen(s0), 30);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("community_id");
	TCase *tc = tcase_create("vectors");
	tcase_add_test(tc, tcp_ipv4_vector);
	tcase_add_test(tc, udp_ipv4_vector);
	tcase_add_test(tc, tcp_ipv6_vector);
	tcase_add_test(tc, seed_changes_the_id);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
