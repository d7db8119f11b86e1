/* test_prefix_table.c - longest-prefix match, checked against a linear scan.
 *
 * Besides hand-picked cases (nesting, forks, /0, /128, IPv4 beside IPv6),
 * a seeded random run inserts prefixes clustered in a few regions, so that
 * they nest and fork often, and compares every lookup with the longest
 * containing prefix found by prefix_contains over the whole list. */
#include <stdlib.h>
#include <string.h>

#include "prefix_table.h"
#include "testutil.h"

static struct ip_prefix pfx(const char *text)
{
	struct ip_prefix p;
	ck_assert_msg(prefix_parse(text, &p), "bad test prefix %s", text);
	return p;
}

static struct ip_addr ip(const char *text)
{
	struct ip_addr a;
	ck_assert_msg(addr_parse(text, &a), "bad test address %s", text);
	return a;
}

static void insert(struct prefix_table *t, const char *text, uint32_t value)
{
	struct ip_prefix p = pfx(text);
	ck_assert_int_eq(prefix_table_insert(t, &p, value, NULL), PREFIX_ADDED);
}

/* The value found for an address, or -1. */
static long look(const struct prefix_table *t, const char *addr, unsigned *len)
{
	struct ip_addr a = ip(addr);
	struct ip_prefix m;
	uint32_t v;
	if (!prefix_table_lookup(t, &a, &m, &v))
		return -1;
	ck_assert(prefix_contains(&m, &a));
	if (len)
		*len = m.len;
	return v;
}

START_TEST(empty_table)
{
	struct prefix_table *t = prefix_table_new();
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(look(t, "17.1.1.1", NULL), -1);
	ck_assert_uint_eq(prefix_table_count(t), 0);
	struct ip_prefix p = pfx("17.0.0.0/8");
	ck_assert(!prefix_table_get(t, &p, NULL));
	prefix_table_free(t);
	prefix_table_free(NULL);
}
END_TEST

START_TEST(nesting_and_forks)
{
	struct prefix_table *t = prefix_table_new();
	insert(t, "17.253.0.0/16", 2);   /* inserted before its parent */
	insert(t, "17.0.0.0/8", 1);
	insert(t, "17.253.53.201", 3);   /* /32 */
	insert(t, "17.128.0.0/9", 4);    /* forks away from 17.0.0.0/9 side */
	insert(t, "10.0.0.0/8", 5);
	insert(t, "2620:149::/32", 6);
	insert(t, "2620:149:8000::/33", 7);
	unsigned len;
	ck_assert_int_eq(look(t, "17.1.2.3", &len), 1);
	ck_assert_uint_eq(len, 104);
	ck_assert_int_eq(look(t, "17.200.0.1", &len), 4);
	ck_assert_int_eq(look(t, "17.253.1.1", &len), 2);
	ck_assert_uint_eq(len, 112);
	ck_assert_int_eq(look(t, "17.253.53.201", &len), 3);
	ck_assert_uint_eq(len, 128);
	ck_assert_int_eq(look(t, "17.253.53.202", NULL), 2);
	ck_assert_int_eq(look(t, "10.9.9.9", NULL), 5);
	ck_assert_int_eq(look(t, "11.0.0.0", NULL), -1);
	ck_assert_int_eq(look(t, "16.255.255.255", NULL), -1);
	ck_assert_int_eq(look(t, "2620:149::1", NULL), 6);
	ck_assert_int_eq(look(t, "2620:149:8000::1", NULL), 7);
	ck_assert_int_eq(look(t, "2620:148::1", NULL), -1);
	ck_assert_int_eq(look(t, "::ffff:17.1.1.1", NULL), 1); /* the mapped form */
	ck_assert_uint_eq(prefix_table_count(t), 7);

	uint32_t v = 0;
	struct ip_prefix p = pfx("17.0.0.0/8");
	ck_assert_int_eq(prefix_table_insert(t, &p, 99, &v), PREFIX_EXISTS);
	ck_assert_uint_eq(v, 1);
	ck_assert(prefix_table_get(t, &p, &v));
	ck_assert_uint_eq(v, 1);
	p = pfx("17.0.0.0/9"); /* a branching point, not a stored prefix */
	ck_assert(!prefix_table_get(t, &p, NULL));
	p = pfx("17.0.0.0/7");
	ck_assert(!prefix_table_get(t, &p, NULL));
	ck_assert_uint_eq(prefix_table_count(t), 7);
	prefix_table_free(t);
}
END_TEST

START_TEST(value_on_a_branching_point)
{
	struct prefix_table *t = prefix_table_new();
	insert(t, "10.1.0.0/16", 1);
	insert(t, "10.2.0.0/16", 2);   /* creates a value-less fork at 10.0.0.0/14 */
	insert(t, "10.0.0.0/14", 3);   /* lands on the fork */
	ck_assert_int_eq(look(t, "10.3.0.1", NULL), 3);
	ck_assert_int_eq(look(t, "10.1.0.1", NULL), 1);
	ck_assert_int_eq(look(t, "10.2.0.1", NULL), 2);
	ck_assert_uint_eq(prefix_table_count(t), 3);
	prefix_table_free(t);
}
END_TEST

START_TEST(default_route_and_full_length)
{
	struct prefix_table *t = prefix_table_new();
	insert(t, "::/0", 1);
	insert(t, "::1/128", 2);
	insert(t, "0.0.0.0/0", 3); /* ::ffff:0:0/96 */
	ck_assert_int_eq(look(t, "2001:db8::1", NULL), 1);
	ck_assert_int_eq(look(t, "::1", NULL), 2);
	ck_assert_int_eq(look(t, "::2", NULL), 1);
	ck_assert_int_eq(look(t, "192.0.2.1", NULL), 3);
	prefix_table_free(t);
}
END_TEST

static bool collect(const struct ip_prefix *p, uint32_t value, void *arg)
{
	(void)p;
	uint32_t *seen = arg;
	seen[seen[0] + 1] = value;
	seen[0]++;
	return seen[0] < 3;
}

START_TEST(walk_in_order_and_stops)
{
	struct prefix_table *t = prefix_table_new();
	insert(t, "17.253.0.0/16", 2);
	insert(t, "17.0.0.0/8", 1);
	insert(t, "10.0.0.0/8", 0);
	insert(t, "192.168.0.0/16", 3);
	uint32_t seen[8] = { 0 };
	prefix_table_walk(t, collect, seen);
	ck_assert_uint_eq(seen[0], 3); /* stopped after the third */
	ck_assert_uint_eq(seen[1], 0);
	ck_assert_uint_eq(seen[2], 1);
	ck_assert_uint_eq(seen[3], 2);
	prefix_table_free(t);
}
END_TEST

static struct ip_prefix random_prefix(unsigned *state)
{
	struct ip_prefix p;
	memset(&p, 0, sizeof(p));
	/* A few base regions so that prefixes nest and share paths. */
	static const char *const bases[] = { "17.0.0.0", "2620:149::", "10.0.0.0", "2001:db8::" };
	unsigned r = (unsigned)rand_r(state);
	ck_assert(addr_parse(bases[r % 4], &p.addr));
	bool v4 = addr_is_v4(&p.addr);
	for (int i = v4 ? 13 : 4; i < 16; i++)
		if (rand_r(state) % 3)
			p.addr.b[i] = (uint8_t)rand_r(state);
	unsigned min = v4 ? 96 + 8 : 24, max = v4 ? 128 : 64;
	p.len = (uint8_t)(min + (unsigned)rand_r(state) % (max - min + 1));
	for (int i = 0; i < 16; i++) {
		int bits = (int)p.len - i * 8;
		if (bits < 8)
			p.addr.b[i] &= bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
	}
	return p;
}

START_TEST(random_against_linear_scan)
{
	enum { N = 3000, Q = 30000 };
	unsigned state = 12345;
	struct prefix_table *t = prefix_table_new();
	ck_assert(prefix_table_reserve(t, N));
	struct ip_prefix *list = calloc(N, sizeof(*list));
	uint32_t *vals = calloc(N, sizeof(*vals));
	size_t n = 0;
	for (int i = 0; i < N; i++) {
		struct ip_prefix p = random_prefix(&state);
		uint32_t old;
		enum prefix_insert_result r = prefix_table_insert(t, &p, (uint32_t)i, &old);
		if (r == PREFIX_EXISTS)
			continue;
		ck_assert_int_eq(r, PREFIX_ADDED);
		list[n] = p;
		vals[n++] = (uint32_t)i;
	}
	ck_assert_uint_eq(prefix_table_count(t), n);
	int hits = 0;
	for (int q = 0; q < Q; q++) {
		struct ip_prefix probe = random_prefix(&state);
		struct ip_addr a = probe.addr;
		for (int i = probe.len / 8; i < 16; i++)
			a.b[i] ^= (uint8_t)(rand_r(&state) & 0xff) * (q & 1);
		if (q % 4 == 3) /* anywhere at all, mostly outside every region */
			for (int i = q % 8 == 3 ? 12 : 0; i < 16; i++)
				a.b[i] = (uint8_t)rand_r(&state);
		int best = -1;
		for (size_t i = 0; i < n; i++)
			if (prefix_contains(&list[i], &a) && (best < 0 || list[i].len > list[best].len))
				best = (int)i;
		struct ip_prefix m;
		uint32_t v;
		bool found = prefix_table_lookup(t, &a, &m, &v);
		ck_assert_int_eq(found, best >= 0);
		if (found) {
			hits++;
			ck_assert_uint_eq(v, vals[best]);
			ck_assert_uint_eq(m.len, list[best].len);
		}
	}
	/* Both outcomes must be well represented for the comparison to mean much. */
	ck_assert_int_gt(hits, Q / 10);
	ck_assert_int_lt(hits, Q - Q / 10);
	for (size_t i = 0; i < n; i++) {
		uint32_t v;
		ck_assert(prefix_table_get(t, &list[i], &v));
		ck_assert_uint_eq(v, vals[i]);
	}
	free(list);
	free(vals);
	prefix_table_free(t);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("prefix_table");
	TCase *t = tcase_create("lookup");
	tcase_add_test(t, empty_table);
	tcase_add_test(t, nesting_and_forks);
	tcase_add_test(t, value_on_a_branching_point);
	tcase_add_test(t, default_route_and_full_length);
	tcase_add_test(t, walk_in_order_and_stops);
	tcase_add_test(t, random_against_linear_scan);
	tcase_set_timeout(t, 60);
	suite_add_tcase(s, t);
	return s;
}

TEST_MAIN(make_suite)
