/* The flow table: orientation, symmetric lookup, timeouts, closing,
 * eviction of the least recently seen, and stable ids. */
#include <string.h>

#include "flow.h"
#include "testutil.h"

#define SEC 1000000ull

struct released {
	int count;
	uint8_t reasons[64];
	uint16_t cli_ports[64];
};

static void on_release(void *ctx, struct flow *f)
{
	struct released *r = ctx;
	if (r->count < 64) {
		r->reasons[r->count] = f->end_reason;
		r->cli_ports[r->count] = f->key.cli_port;
	}
	r->count++;
}

static const struct flow_timeouts timeouts = { .tcp = 3600, .tcp_closed = 10, .udp = 120, .other = 60 };

static struct ip_addr A, B;

static void setup_addrs(void)
{
	addr_parse("10.0.0.1", &A);
	addr_parse("17.253.144.10", &B);
}

START_TEST(syn_sender_is_client_and_lookup_is_symmetric)
{
	setup_addrs();
	struct released r = { 0 };
	struct flow_table *t = flow_table_new(100, &timeouts, on_release, &r);
	enum flow_dir dir;
	bool created;
	struct flow *f = flow_lookup(t, &A, &B, 50000, 443, 6, 0x02, 1 * SEC, &dir, &created);
	ck_assert(created);
	ck_assert_int_eq(dir, DIR_TOSERVER);
	ck_assert(addr_eq(&f->key.cli, &A));
	struct flow *g = flow_lookup(t, &B, &A, 443, 50000, 6, 0x12, 2 * SEC, &dir, &created);
	ck_assert_ptr_eq(f, g);
	ck_assert(!created);
	ck_assert_int_eq(dir, DIR_TOCLIENT);
	ck_assert_uint_eq(f->last_usec, 2 * SEC);
	flow_table_free(t);
	ck_assert_int_eq(r.count, 1);
	ck_assert_int_eq(r.reasons[0], FLOW_END_SHUTDOWN);
}
END_TEST

START_TEST(synack_first_orients_to_the_receiver)
{
	setup_addrs();
	struct flow_table *t = flow_table_new(100, &timeouts, NULL, NULL);
	enum flow_dir dir;
	bool created;
	struct flow *f = flow_lookup(t, &B, &A, 443, 50000, 6, 0x12, SEC, &dir, &created);
	ck_assert(addr_eq(&f->key.cli, &A));
	ck_assert_uint_eq(f->key.srv_port, 443);
	ck_assert_int_eq(dir, DIR_TOCLIENT);
	flow_table_free(t);
}
END_TEST

START_TEST(udp_reply_seen_first_is_oriented_by_server_port)
{
	setup_addrs();
	struct flow_table *t = flow_table_new(100, &timeouts, NULL, NULL);
	enum flow_dir dir;
	bool created;
	struct flow *f = flow_lookup(t, &B, &A, 53, 40000, 17, 0, SEC, &dir, &created);
	ck_assert(addr_eq(&f->key.cli, &A));
	ck_assert_uint_eq(f->key.srv_port, 53);
	/* two ephemeral ports: the first sender is the client */
	struct flow *g = flow_lookup(t, &A, &B, 40001, 40002, 17, 0, SEC, &dir, &created);
	ck_assert(addr_eq(&g->key.cli, &A));
	flow_table_free(t);
}
END_TEST

START_TEST(idle_timeouts_are_per_protocol)
{
	setup_addrs();
	struct released r = { 0 };
	struct flow_table *t = flow_table_new(100, &timeouts, on_release, &r);
	enum flow_dir dir;
	bool created;
	flow_lookup(t, &A, &B, 50000, 443, 6, 0x02, 0, &dir, &created);   /* TCP, 3600 s */
	flow_lookup(t, &A, &B, 50001, 443, 17, 0, 0, &dir, &created);     /* UDP, 120 s */
	ck_assert_uint_eq(flow_expire(t, 119 * SEC), 0);
	ck_assert_uint_eq(flow_expire(t, 121 * SEC), 1);
	ck_assert_uint_eq(r.cli_ports[0], 50001);
	ck_assert_int_eq(r.reasons[0], FLOW_END_TIMEOUT);
	ck_assert_uint_eq(flow_expire(t, 3599 * SEC), 0);
	ck_assert_uint_eq(flow_expire(t, 3601 * SEC), 1);
	ck_assert_uint_eq(flow_table_stats(t)->active, 0);
	flow_table_free(t);
	ck_assert_int_eq(r.count, 2);
}
END_TEST

START_TEST(closed_flow_ends_with_its_reason_after_the_closed_timeout)
{
	setup_addrs();
	struct released r = { 0 };
	struct flow_table *t = flow_table_new(100, &timeouts, on_release, &r);
	enum flow_dir dir;
	bool created;
	struct flow *f = flow_lookup(t, &A, &B, 50000, 443, 6, 0x02, 0, &dir, &created);
	flow_mark_closed(t, f, FLOW_END_FIN);
	ck_assert_uint_eq(flow_expire(t, 9 * SEC), 0);
	ck_assert_uint_eq(flow_expire(t, 11 * SEC), 1);
	ck_assert_int_eq(r.reasons[0], FLOW_END_FIN);
	struct flow *g = flow_lookup(t, &A, &B, 50001, 443, 6, 0x02, 20 * SEC, &dir, &created);
	flow_mark_closed(t, g, FLOW_END_RST);
	flow_table_free(t);
	ck_assert_int_eq(r.reasons[1], FLOW_END_RST);
}
END_TEST

START_TEST(full_table_evicts_least_recently_seen)
{
	setup_addrs();
	struct released r = { 0 };
	struct flow_table *t = flow_table_new(3, &timeouts, on_release, &r);
	enum flow_dir dir;
	bool created;
	flow_lookup(t, &A, &B, 1001, 443, 6, 0x02, 1 * SEC, &dir, &created);
	flow_lookup(t, &A, &B, 1002, 443, 17, 0, 2 * SEC, &dir, &created);
	flow_lookup(t, &A, &B, 1003, 443, 6, 0x02, 3 * SEC, &dir, &created);
	/* touch the oldest so that 1002 becomes the least recent */
	flow_lookup(t, &A, &B, 1001, 443, 6, 0x10, 4 * SEC, &dir, &created);
	ck_assert(!created);
	flow_lookup(t, &A, &B, 1004, 443, 6, 0x02, 5 * SEC, &dir, &created);
	ck_assert_int_eq(r.count, 1);
	ck_assert_uint_eq(r.cli_ports[0], 1002);
	ck_assert_int_eq(r.reasons[0], FLOW_END_EVICTED);
	ck_assert_uint_eq(flow_table_stats(t)->ended[FLOW_END_EVICTED], 1);
	ck_assert_uint_eq(flow_table_stats(t)->active, 3);
	flow_table_free(t);
}
END_TEST

START_TEST(flow_ids_are_stable_across_tables)
{
	setup_addrs();
	enum flow_dir dir;
	bool created;
	struct flow_table *t1 = flow_table_new(10, &timeouts, NULL, NULL);
	struct flow_table *t2 = flow_table_new(10, &timeouts, NULL, NULL);
	struct flow *f1 = flow_lookup(t1, &A, &B, 1001, 443, 6, 0x02, 7 * SEC, &dir, &created);
	struct flow *f2 = flow_lookup(t2, &A, &B, 1001, 443, 6, 0x02, 7 * SEC, &dir, &created);
	struct flow *f3 = flow_lookup(t2, &A, &B, 1002, 443, 6, 0x02, 7 * SEC, &dir, &created);
	ck_assert_uint_eq(f1->id, f2->id);
	ck_assert_uint_ne(f1->id, f3->id);
	ck_assert_uint_lt(f1->id, 1ull << 53);
	flow_table_free(t1);
	flow_table_free(t2);
}
END_TEST

START_TEST(many_flows_reuse_memory)
{
	setup_addrs();
	struct released r = { 0 };
	struct flow_table *t = flow_table_new(1000, &timeouts, on_release, &r);
	enum flow_dir dir;
	bool created;
	for (uint32_t i = 0; i < 50000; i++) {
		struct ip_addr c = A;
		c.b[14] = (uint8_t)(i >> 8);
		c.b[15] = (uint8_t)i;
		ck_assert_ptr_nonnull(flow_lookup(t, &c, &B, (uint16_t)(1024 + i % 60000), 443, 17, 0,
						  i, &dir, &created));
	}
	ck_assert_uint_eq(flow_table_stats(t)->active, 1000);
	ck_assert_uint_eq(flow_table_stats(t)->ended[FLOW_END_EVICTED], 49000);
	flow_table_free(t);
	ck_assert_int_eq(r.count, 50000);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("flow");
	TCase *tc = tcase_create("table");
	tcase_add_test(tc, syn_sender_is_client_and_lookup_is_symmetric);
	tcase_add_test(tc, synack_first_orients_to_the_receiver);
	tcase_add_test(tc, udp_reply_seen_first_is_oriented_by_server_port);
	tcase_add_test(tc, idle_timeouts_are_per_protocol);
	tcase_add_test(tc, closed_flow_ends_with_its_reason_after_the_closed_timeout);
	tcase_add_test(tc, full_table_evicts_least_recently_seen);
	tcase_add_test(tc, flow_ids_are_stable_across_tables);
	tcase_add_test(tc, many_flows_reuse_memory);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
