/* What running several engines needs from the engine: the late DNS look-up
 * of live capture (a connection decided before its DNS answer was read is
 * attributed through DNS at the next tick), and the ordering and writing
 * hooks being called where the shared state is touched. (tests/workers.sh
 * runs the workers themselves on captures; tests/live.sh on interfaces.) */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "engine.h"
#include "output.h"
#include "signatures.h"
#include "testutil.h"

#define SEC 1000000ull
#define T0 (1768467600ull * SEC)

struct frame {
	uint8_t b[512];
	size_t n;
};

static void ipv4(struct frame *f, const char *src, const char *dst, uint8_t proto,
		 const uint8_t *l4, size_t n)
{
	static const uint8_t eth[14] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00 };
	uint8_t ip[20] = { 0x45, 0, (uint8_t)((20 + n) >> 8), (uint8_t)(20 + n), 0, 1, 0x40, 0,
			   64, proto };
	ck_assert_int_eq(inet_pton(AF_INET, src, ip + 12), 1);
	ck_assert_int_eq(inet_pton(AF_INET, dst, ip + 16), 1);
	ck_assert(34 + n <= sizeof(f->b));
	memcpy(f->b, eth, 14);
	memcpy(f->b + 14, ip, 20);
	memcpy(f->b + 34, l4, n);
	f->n = 34 + n;
}

static void tcp(struct frame *f, const char *src, const char *dst, uint16_t sport, uint16_t dport,
		uint32_t seq, uint8_t flags, const char *payload)
{
	size_t n = payload ? strlen(payload) : 0;
	uint8_t l4[256] = { (uint8_t)(sport >> 8), (uint8_t)sport, (uint8_t)(dport >> 8),
			    (uint8_t)dport, (uint8_t)(seq >> 24), (uint8_t)(seq >> 16),
			    (uint8_t)(seq >> 8), (uint8_t)seq, 0, 0, 0, 1, 0x50, flags, 0xff, 0xff };
	memcpy(l4 + 20, payload ? payload : "", n);
	ipv4(f, src, dst, 6, l4, 20 + n);
}

/* A DNS answer: name -> one A record. */
static void dns_answer(struct frame *f, const char *client, const char *name, const char *addr)
{
	uint8_t m[256] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0 };
	size_t n = 12;
	for (const char *p = name; *p;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		m[n++] = (uint8_t)len;
		memcpy(m + n, p, len);
		n += len;
		p += len + (dot ? 1 : 0);
	}
	m[n++] = 0;
	const uint8_t tail[] = { 0, 1, 0, 1, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4 };
	memcpy(m + n, tail, sizeof(tail));
	n += sizeof(tail);
	ck_assert_int_eq(inet_pton(AF_INET, addr, m + n), 1);
	n += 4;
	uint8_t l4[300] = { 0, 53, 0xc3, 0x50, (uint8_t)((8 + n) >> 8), (uint8_t)(8 + n), 0, 0 };
	memcpy(l4 + 8, m, n);
	ipv4(f, "10.0.0.53", client, 17, l4, 8 + n);
}

/* ---- an engine writing to a file, with counting hooks --------------------- */

struct run {
	struct config cfg;
	struct sigset *sigs;
	struct dns_cache *dc;
	struct output *out;
	struct engine *e;
	struct engine_hooks hooks;
	unsigned lookups, shared, writes;
	char path[64];
	char text[65536];
};

static void count_order(void *ctx, enum engine_step step)
{
	struct run *r = ctx;
	if (step == ENGINE_STEP_DNS_LOOKUP)
		r->lookups++;
	else
		r->shared++;
}

static void count_write(void *ctx, struct record *rec)
{
	struct run *r = ctx;
	r->writes++;
	output_write_admitted(r->out, rec);
}

static void start(struct run *r, uint32_t grace_ms)
{
	memset(r, 0, sizeof(*r));
	config_init(&r->cfg);
	r->cfg.suppress_secs = 0;
	struct sig_error se;
	r->sigs = sigset_load_dir("signatures", &se);
	ck_assert_msg(r->sigs != NULL, "%s:%d: %s", se.file, se.line, se.msg);
	r->dc = dns_cache_new(1024, 60, 86400);
	r->out = output_new("test", 0);
	snprintf(r->path, sizeof(r->path), "/tmp/applemon-test-workers-%d.json", (int)getpid());
	unlink(r->path);
	char spec[128], err[256];
	snprintf(spec, sizeof(spec), "json:%s", r->path);
	ck_assert_msg(output_add(r->out, spec, "json", err, sizeof(err)), "%s", err);
	r->hooks = (struct engine_hooks){ .order = count_order, .write = count_write, .ctx = r };
	struct engine_params ep = {
		.config = &r->cfg, .sigs = r->sigs, .dns_cache = r->dc, .output = r->out,
		.flow_records = true, .dns_grace_ms = grace_ms, .hooks = &r->hooks,
	};
	r->e = engine_new(&ep);
	ck_assert_ptr_nonnull(r->e);
}

static void finish(struct run *r)
{
	engine_finish(r->e);
	engine_free(r->e);
	output_free(r->out);
	dns_cache_free(r->dc);
	sigset_free(r->sigs);
	config_free(&r->cfg);
	FILE *fp = fopen(r->path, "r");
	ck_assert_ptr_nonnull(fp);
	size_t n = fread(r->text, 1, sizeof(r->text) - 1, fp);
	r->text[n] = '\0';
	fclose(fp);
	unlink(r->path);
}

static void feed(struct run *r, const struct frame *f, uint64_t t)
{
	engine_packet(r->e, 1, f->b, (uint32_t)f->n, (uint32_t)f->n, t);
}

/* The connection is decided (HTTP without Host: no name) before the DNS
 * answer naming its server is read, as when the answer sits in another
 * worker's ring. */
static void connection_then_answer(struct run *r, uint64_t tick_after)
{
	struct frame f;
	const char *c = "10.20.1.7", *s = "10.99.0.20";
	tcp(&f, c, s, 40001, 80, 100, 0x02, NULL);
	feed(r, &f, T0);
	tcp(&f, s, c, 80, 40001, 900, 0x12, NULL);
	feed(r, &f, T0 + 100);
	tcp(&f, c, s, 40001, 80, 101, 0x10, NULL);
	feed(r, &f, T0 + 200);
	tcp(&f, c, s, 40001, 80, 101, 0x18, "GET / HTTP/1.0\r\n\r\n");
	feed(r, &f, T0 + 300);
	dns_answer(&f, c, "gateway.icloud.com", s);
	feed(r, &f, T0 + 50 * 1000);
	engine_tick(r->e, T0 + tick_after);
}

#define LATE_ALERT "\"event_type\":\"alert\""

START_TEST(late_answer_is_used_at_the_tick)
{
	struct run *r = malloc(sizeof(*r));
	start(r, 250);
	connection_then_answer(r, 300 * 1000);
	/* the alert went out at the tick, before the end of the run */
	ck_assert_uint_ge(r->writes, 1);
	finish(r);
	char *alert = strstr(r->text, LATE_ALERT);
	ck_assert_msg(alert != NULL, "no alert:\n%s", r->text);
	ck_assert(strstr(alert, "\"dest_ip\":\"10.99.0.20\"") != NULL);
	ck_assert(strstr(alert, "\"confidence\":\"medium\"") != NULL);
	ck_assert(strstr(alert, "{\"source\":\"dns_answer\",\"value\":\"gateway.icloud.com\"}") != NULL);
	/* the flow record carries the verdict too */
	char *flow = strstr(r->text, "\"event_type\":\"flow\"");
	ck_assert(flow && strstr(flow, "\"service\":\"icloud\""));
	free(r);
}
END_TEST

START_TEST(no_look_again_before_the_grace)
{
	struct run *r = malloc(sizeof(*r));
	start(r, 250);
	connection_then_answer(r, 200 * 1000);    /* too early: not yet looked at */
	ck_assert_uint_eq(r->writes, 0);
	finish(r);
	/* ... but at the flow's end it is */
	ck_assert(strstr(r->text, LATE_ALERT) != NULL);
	free(r);
}
END_TEST

START_TEST(files_never_look_again)
{
	struct run *r = malloc(sizeof(*r));
	start(r, 0);
	connection_then_answer(r, 300 * 1000);
	finish(r);
	ck_assert_msg(strstr(r->text, LATE_ALERT) == NULL, "%s", r->text);
	free(r);
}
END_TEST

/* Every record goes through the write hook after an order step, and the
 * DNS cache is read after its order step. */
START_TEST(hooks_surround_shared_steps)
{
	struct run *r = malloc(sizeof(*r));
	start(r, 0);
	struct frame f;
	dns_answer(&f, "10.20.1.8", "gateway.icloud.com", "10.99.0.21");
	feed(r, &f, T0);
	unsigned shared_after_answer = r->shared;
	ck_assert_uint_ge(shared_after_answer, 1);        /* the cache insert */
	tcp(&f, "10.20.1.8", "10.99.0.21", 40002, 80, 1, 0x02, NULL);
	feed(r, &f, T0 + 10);
	tcp(&f, "10.20.1.8", "10.99.0.21", 40002, 80, 2, 0x18, "GET / HTTP/1.0\r\n\r\n");
	feed(r, &f, T0 + 20);
	ck_assert_uint_ge(r->lookups, 1);
	ck_assert_uint_eq(r->writes, 1);                  /* the alert */
	ck_assert_uint_gt(r->shared, shared_after_answer);
	finish(r);
	ck_assert_uint_eq(r->writes, 3);                  /* + two flow records */
	ck_assert(strstr(r->text, "\"source\":\"dns_answer\"") != NULL);
	free(r);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("workers");
	TCase *tc = tcase_create("engine");
	tcase_add_test(tc, late_answer_is_used_at_the_tick);
	tcase_add_test(tc, no_look_again_before_the_grace);
	tcase_add_test(tc, files_never_look_again);
	tcase_add_test(tc, hooks_surround_shared_steps);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
