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
	ck_assert_uint_eq(flow_id(f1), flow_id(f2));
	ck_assert_uint_ne(flow_id(f1), flow_id(f3));
	ck_assert_uint_lt(flow_id(f1), 1ull << 53);
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

/* ---- several tables as one (the workers of a capture file) ------------- */

struct release_log {
	size_t n;
	uint64_t ids[4096];
	uint8_t reasons[4096];
};

static void log_release(void *ctx, struct flow *f)
{
	struct release_log *l = ctx;
	if (l->n < 4096) {
		l->ids[l->n] = flow_id(f);
		l->reasons[l->n] = f->end_reason;
	}
	l->n++;
}

static uint32_t rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*s >> 33);
}

/* Replays one random traffic pattern - TCP and UDP flows opening, talking,
 * closing and going idle across seconds - into one table, and into
 * `n` tables (each flow's packets to the table its address pair picks),
 * ending idle flows at each new second and all of them at the end. */
static void replay(struct flow_table **t, size_t n, struct release_log *log)
{
	uint64_t seed = 42;
	uint64_t last_sec = 0;
	for (uint64_t i = 0; i < 6000; i++) {
		uint64_t now = 1000 * SEC + i * 37000;      /* strictly increasing */
		if (now / SEC > last_sec) {
			last_sec = now / SEC;
			if (n == 1)
				flow_expire(t[0], now);
			else
				flow_expire_tables(t, n, now);
		}
		uint32_t r = rnd(&seed);
		struct ip_addr c = A, srv = B;
		c.b[15] = (uint8_t)(r % 23);
		srv.b[15] = (uint8_t)(r / 23 % 7);
		uint16_t cport = (uint16_t)(40000 + r / 161 % 5);
		uint8_t proto = (r >> 20) & 1 ? 6 : 17;
		uint8_t flags = proto == 6 ? ((r >> 21) % 9 == 0 ? 0x11 : (r >> 21) % 13 == 0 ? 0x04 : 0x10) : 0;
		size_t k = n == 1 ? 0 : (size_t)((c.b[15] * 31u + srv.b[15]) % n);
		enum flow_dir dir;
		bool created;
		struct flow *f = (r >> 25) & 1
			? flow_lookup(t[k], &c, &srv, cport, 443, proto, flags, now, &dir, &created)
			: flow_lookup(t[k], &srv, &c, 443, cport, proto, flags, now, &dir, &created);
		ck_assert_ptr_nonnull(f);
		if (proto == 6 && (flags & 0x04))
			flow_mark_closed(t[k], f, FLOW_END_RST);
	}
	if (n == 1)
		flow_flush(t[0]);
	else
		flow_flush_tables(t, n);
	ck_assert_uint_lt(log->n, 4096);
}

START_TEST(tables_expire_and_flush_as_one)
{
	setup_addrs();
	struct release_log *one = calloc(1, sizeof(*one)), *many = calloc(1, sizeof(*many));
	struct flow_timeouts shortish = { .tcp = 60, .tcp_closed = 5, .udp = 20, .other = 10 };
	struct flow_table *t1[1] = { flow_table_new(100000, &shortish, log_release, one) };
	struct flow_table *t3[3];
	for (int i = 0; i < 3; i++)
		t3[i] = flow_table_new(100000, &shortish, log_release, many);
	replay(t1, 1, one);
	replay(t3, 3, many);
	ck_assert_uint_gt(one->n, 100);
	ck_assert_uint_eq(one->n, many->n);
	for (size_t i = 0; i < one->n; i++) {
		ck_assert_msg(one->ids[i] == many->ids[i] && one->reasons[i] == many->reasons[i],
			      "release %zu differs", i);
	}
	/* timeouts happened during the replay, not only at the flush */
	size_t timeouts_seen = 0;
	for (size_t i = 0; i < one->n; i++)
		timeouts_seen += one->reasons[i] == FLOW_END_TIMEOUT;
	ck_assert_uint_gt(timeouts_seen, 10);
	flow_table_free(t1[0]);
	for (int i = 0; i < 3; i++)
		flow_table_free(t3[i]);
	free(one);
	free(many);
}
END_TEST

START_TEST(next_deadline_is_the_earliest_tail)
{
	setup_addrs();
	struct flow_table *t = flow_table_new(100, &timeouts, NULL, NULL);
	ck_assert_uint_eq(flow_next_deadline(t), UINT64_MAX);
	enum flow_dir dir;
	bool created;
	flow_lookup(t, &A, &B, 1000, 443, 6, 0x02, 5 * SEC, &dir, &created);
	ck_assert_uint_eq(flow_next_deadline(t), 5 * SEC + 3600 * SEC);
	struct flow *u = flow_lookup(t, &A, &B, 1001, 53, 17, 0, 6 * SEC, &dir, &created);
	ck_assert_uint_eq(flow_next_deadline(t), 6 * SEC + 120 * SEC);
	flow_mark_closed(t, flow_lookup(t, &A, &B, 1000, 443, 6, 0x10, 7 * SEC, &dir, &created),
			 FLOW_END_FIN);
	ck_assert_uint_eq(flow_next_deadline(t), 7 * SEC + 10 * SEC);
	ck_assert_uint_eq(flow_expire(t, 7 * SEC + 10 * SEC), 1);
	ck_assert_uint_eq(flow_next_deadline(t), u->last_usec + 120 * SEC);
	flow_table_free(t);
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
	tcase_add_test(tc, tables_expire_and_flush_as_one);
	tcase_add_test(tc, next_deadline_is_the_earliest_tail);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
