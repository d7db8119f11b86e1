/* test_policy.c - policy groups: order, exemptions, extension and mistakes. */
#include <string.h>

#include "policy.h"
#include "testutil.h"

static const char *match(const struct policy *p, const char *addr)
{
	struct ip_addr a;
	ck_assert_msg(addr_parse(addr, &a), "bad test address %s", addr);
	return policy_match(p, &a);
}

static void add_ok(struct policy *p, const char *name, const char *hosts, const char *exempt)
{
	char err[256] = "";
	ck_assert_msg(policy_add_group(p, name, hosts, exempt, err, sizeof(err)), "%s", err);
}

static void add_bad(struct policy *p, const char *name, const char *hosts, const char *exempt,
		    const char *needle)
{
	char err[256] = "";
	size_t before = policy_group_count(p);
	ck_assert(!policy_add_group(p, name, hosts, exempt, err, sizeof(err)));
	ck_assert_msg(strstr(err, needle) != NULL, "message '%s' lacks '%s'", err, needle);
	ck_assert_uint_eq(policy_group_count(p), before);
}

START_TEST(no_groups_watches_everyone)
{
	struct policy *p = policy_new();
	ck_assert_str_eq(match(p, "10.0.0.1"), POLICY_ALL);
	ck_assert_str_eq(match(p, "2001:db8::1"), POLICY_ALL);
	ck_assert_uint_eq(policy_group_count(p), 0);
	policy_free(p);
	ck_assert_str_eq(match(NULL, "10.0.0.1"), POLICY_ALL);
	ck_assert_uint_eq(policy_group_count(NULL), 0);
	policy_free(NULL);
}
END_TEST

START_TEST(first_group_in_order_wins)
{
	struct policy *p = policy_new();
	add_ok(p, "ministers", "10.1.0.0/16, 2001:db8:1::/48", "10.1.9.0/24 10.1.10.5");
	add_ok(p, "staff", "10.0.0.0/8", NULL);
	ck_assert_uint_eq(policy_group_count(p), 2);
	ck_assert_str_eq(policy_group_name(p, 0), "ministers");
	ck_assert_str_eq(policy_group_name(p, 1), "staff");
	ck_assert_ptr_null(policy_group_name(p, 2));
	ck_assert_str_eq(match(p, "10.1.2.3"), "ministers");
	ck_assert_str_eq(match(p, "2001:db8:1::9"), "ministers");
	/* Exempt from the first group, so the next one that holds it. */
	ck_assert_str_eq(match(p, "10.1.9.7"), "staff");
	ck_assert_str_eq(match(p, "10.1.10.5"), "staff");
	ck_assert_str_eq(match(p, "10.1.10.6"), "ministers");
	ck_assert_str_eq(match(p, "10.200.0.1"), "staff");
	ck_assert_ptr_null(match(p, "192.168.1.1"));
	ck_assert_ptr_null(match(p, "2001:db8:2::1"));
	policy_free(p);
}
END_TEST

START_TEST(exempt_everywhere_is_unwatched)
{
	struct policy *p = policy_new();
	add_ok(p, "office", "192.168.0.0/16", "192.168.100.0/24");
	ck_assert_ptr_null(match(p, "192.168.100.1"));
	ck_assert_str_eq(match(p, "192.168.101.1"), "office");
	policy_free(p);
}
END_TEST

START_TEST(group_named_twice_extends_itself)
{
	struct policy *p = policy_new();
	add_ok(p, "a", "10.0.0.0/24", NULL);
	add_ok(p, "b", "10.0.1.0/24", NULL);
	add_ok(p, "a", "10.0.1.0/25", "10.0.0.128/25");
	add_ok(p, "a", NULL, "10.0.0.64/26"); /* exemptions alone may be added later */
	add_ok(p, "a", "", "");
	ck_assert_uint_eq(policy_group_count(p), 2);
	/* The extended group keeps its place before b. */
	ck_assert_str_eq(match(p, "10.0.1.1"), "a");
	ck_assert_str_eq(match(p, "10.0.1.200"), "b");
	ck_assert_ptr_null(match(p, "10.0.0.200"));
	ck_assert_ptr_null(match(p, "10.0.0.70"));
	ck_assert_str_eq(match(p, "10.0.0.1"), "a");
	policy_free(p);
}
END_TEST

START_TEST(separators_and_bare_addresses)
{
	struct policy *p = policy_new();
	add_ok(p, "g", " ,10.0.0.1,,\t2001:db8::1 \n 172.16.0.0/12, ", NULL);
	ck_assert_str_eq(match(p, "10.0.0.1"), "g");
	ck_assert_ptr_null(match(p, "10.0.0.2"));
	ck_assert_str_eq(match(p, "2001:db8::1"), "g");
	ck_assert_ptr_null(match(p, "2001:db8::2"));
	ck_assert_str_eq(match(p, "172.31.255.255"), "g");
	policy_free(p);
}
END_TEST

START_TEST(mistakes_leave_policy_unchanged)
{
	struct policy *p = policy_new();
	add_ok(p, "g", "10.0.0.0/8", NULL);
	add_bad(p, "new", NULL, NULL, "no hosts");
	add_bad(p, "new", "", "10.0.0.0/8", "no hosts");
	add_bad(p, "new", " , ", NULL, "no hosts");
	add_bad(p, "new", "10.0.0.0/33", NULL, "hosts: '10.0.0.0/33' is not a prefix");
	add_bad(p, "new", "10.0.0.0/8", "banana", "exempt: 'banana'");
	add_bad(p, "new", "10.1.2.3/8", NULL, "host bits set");
	add_bad(p, "new", "10.0.0.0/8;", NULL, "not a prefix");
	add_bad(p, "new", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		NULL, "not a prefix");
	add_bad(p, "", "10.0.0.0/8", NULL, "policy name");
	add_bad(p, "bad name", "10.0.0.0/8", NULL, "policy name");
	add_bad(p, "bad/name", "10.0.0.0/8", NULL, "policy name");
	add_bad(p, NULL, "10.0.0.0/8", NULL, "policy name");
	char longname[POLICY_NAME_MAX + 1];
	memset(longname, 'x', POLICY_NAME_MAX);
	longname[POLICY_NAME_MAX] = '\0';
	add_bad(p, longname, "10.0.0.0/8", NULL, "policy name");
	longname[POLICY_NAME_MAX - 1] = '\0';
	add_ok(p, longname, "11.0.0.0/8", NULL);
	/* A bad exemption for an existing group changes nothing either. */
	add_bad(p, "g", "12.0.0.0/8", "nope", "exempt");
	ck_assert_ptr_null(match(p, "12.0.0.1"));
	ck_assert_str_eq(match(p, "10.9.9.9"), "g");
	ck_assert_uint_eq(policy_group_count(p), 2);

	ck_assert(policy_check_list("10.0.0.0/8, 2001:db8::/32", NULL, 0));
	char err[64];
	ck_assert(!policy_check_list("10.0.0.0/8 x", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "'x'"));
	ck_assert(policy_check_list("", err, sizeof(err)));
	ck_assert(policy_check_list(NULL, err, sizeof(err)));
	policy_free(p);
}
END_TEST

START_TEST(many_groups)
{
	struct policy *p = policy_new();
	for (int i = 0; i < 200; i++) {
		char name[16], hosts[32];
		snprintf(name, sizeof(name), "g%d", i);
		snprintf(hosts, sizeof(hosts), "10.%d.0.0/16", i);
		add_ok(p, name, hosts, NULL);
	}
	ck_assert_str_eq(match(p, "10.0.0.1"), "g0");
	ck_assert_str_eq(match(p, "10.199.3.4"), "g199");
	ck_assert_ptr_null(match(p, "10.200.0.1"));
	policy_free(p);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *t = tcase_create("groups");
	tcase_add_test(t, no_groups_watches_everyone);
	tcase_add_test(t, first_group_in_order_wins);
	tcase_add_test(t, exempt_everywhere_is_unwatched);
	tcase_add_test(t, group_named_twice_extends_itself);
	tcase_add_test(t, separators_and_bare_addresses);
	tcase_add_test(t, mistakes_leave_policy_unchanged);
	tcase_add_test(t, many_groups);
	suite_add_tcase(s, t);
	return s;
}

TEST_MAIN(make_suite)
