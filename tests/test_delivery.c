/* The on-disk spool, the record queue, and the output layer end to end
 * with several producer threads writing to a file sink. */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"
#include "record_queue.h"
#include "sink.h"
#include "spool.h"
#include "testutil.h"

#define OUTDIR "tests/out/unit"

static void path_of(char *buf, size_t size, const char *name)
{
	mkdir("tests/out", 0755);
	mkdir(OUTDIR, 0755);
	snprintf(buf, size, OUTDIR "/%s", name);
	unlink(buf);
}

START_TEST(spool_keeps_order_bound_and_position)
{
	char path[256];
	path_of(path, sizeof(path), "t.spool");
	char err[256];
	struct spool *s = spool_open(path, 100, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	ck_assert(spool_append(s, "first", 5));
	ck_assert(spool_append(s, "second", 6));
	ck_assert(spool_append(s, "", 0));
	/* 4+5 + 4+6 + 4 = 23 bytes; 100 is the bound */
	char big[80];
	memset(big, 'x', sizeof(big));
	ck_assert(!spool_append(s, big, sizeof(big)));
	ck_assert_uint_eq(spool_pending(s), 3);
	struct strbuf b;
	sb_init(&b);
	ck_assert(spool_read(s, &b));
	ck_assert_str_eq(b.buf, "first");
	spool_commit(s);
	spool_close(s);

	/* reopened: the read position survived; the rest comes in order */
	s = spool_open(path, 100, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	ck_assert_uint_eq(spool_pending(s), 2);
	ck_assert(spool_read(s, &b));
	ck_assert_str_eq(b.buf, "second");
	ck_assert(spool_read(s, &b));
	ck_assert_uint_eq(b.len, 0);
	ck_assert(!spool_read(s, &b));
	spool_commit(s);
	ck_assert_uint_eq(spool_bytes(s), 0);     /* cut back once all was read */
	ck_assert(spool_append(s, big, sizeof(big)));
	spool_close(s);

	/* a torn last message (a crash mid-write) is cut off */
	FILE *f = fopen(path, "ab");
	fwrite("\x10\0\0\0abc", 1, 7, f);
	fclose(f);
	s = spool_open(path, 100, err, sizeof(err));
	ck_assert_uint_eq(spool_pending(s), 1);
	ck_assert(spool_read(s, &b));
	ck_assert_uint_eq(b.len, sizeof(big));
	spool_close(s);
	sb_free(&b);
}
END_TEST

static void expect_read(struct spool *s, struct strbuf *b, const char *want)
{
	ck_assert_msg(spool_read(s, b), "nothing where '%s' was expected", want);
	ck_assert_str_eq(b->buf, want);
}

START_TEST(spool_prepend_puts_older_messages_first)
{
	char path[256], err[256];
	path_of(path, sizeof(path), "prepend.spool");
	struct strbuf b;
	sb_init(&b);
	const void *older[] = { "m1", "m2", "m3" };
	size_t lens[] = { 2, 2, 2 };

	/* Nothing read yet: no room before the unread, so the file is made anew. */
	struct spool *s = spool_open(path, 1000, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	ck_assert(spool_append(s, "n1", 2));
	ck_assert(spool_append(s, "n2", 2));
	ck_assert_uint_eq(spool_prepend(s, older, lens, 2), 2);
	ck_assert_uint_eq(spool_pending(s), 4);
	spool_close(s);
	s = spool_open(path, 1000, err, sizeof(err));   /* as the next run finds it */
	ck_assert_uint_eq(spool_pending(s), 4);
	expect_read(s, &b, "m1");
	expect_read(s, &b, "m2");
	expect_read(s, &b, "n1");
	spool_commit(s);

	/* Read messages left room: they go there, before the unread "n2". */
	ck_assert_uint_eq(spool_prepend(s, older + 2, lens + 2, 1), 1);
	ck_assert(spool_append(s, "n3", 2));
	spool_close(s);
	s = spool_open(path, 1000, err, sizeof(err));
	ck_assert_uint_eq(spool_pending(s), 3);
	expect_read(s, &b, "m3");
	expect_read(s, &b, "n2");
	expect_read(s, &b, "n3");
	ck_assert(!spool_read(s, &b));
	spool_close(s);

	/* Only as many as the bound allows, the oldest. */
	path_of(path, sizeof(path), "prepend-full.spool");
	s = spool_open(path, 20, err, sizeof(err));
	ck_assert(spool_append(s, "n1", 2));          /* 6 bytes */
	ck_assert_uint_eq(spool_prepend(s, older, lens, 3), 2);   /* 6 + 6 + 6 <= 20 */
	expect_read(s, &b, "m1");
	expect_read(s, &b, "m2");
	expect_read(s, &b, "n1");
	ck_assert_uint_eq(spool_take_lost(s), 0);
	spool_close(s);
	sb_free(&b);
}
END_TEST

START_TEST(spool_write_failure_is_a_loss)
{
	char path[256], err[256];
	path_of(path, sizeof(path), "efbig.spool");
	struct spool *s = spool_open(path, 1u << 30, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	/* Files may not grow past 64 KiB: the first 256 KiB write fails. */
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit rl = { 64 << 10, 64 << 10 };
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	char msg[1000];
	memset(msg, 'x', sizeof(msg));
	uint64_t accepted = 0;
	for (int i = 0; i < 300; i++)
		accepted += spool_append(s, msg, sizeof(msg));
	ck_assert_uint_eq(accepted, 300);
	/* The 262 messages of the first 256 KiB chunk were lost writing it; the
	 * 38 after it fit under the limit. */
	ck_assert(spool_flush(s));
	ck_assert_uint_eq(spool_pending(s), 38);
	ck_assert_uint_eq(spool_take_lost(s), 262);
	ck_assert_uint_eq(spool_take_lost(s), 0);   /* taken once */
	spool_close(s);
}
END_TEST

START_TEST(queue_drops_when_full_unless_asked_to_wait)
{
	struct record_queue *q = rq_new(2);
	struct record r, got;
	struct rq_item *out[4];
	memset(&r, 0, sizeof(r));
	bool wake;
	r.flow_id = 1;
	ck_assert(rq_push(q, &r, false, &wake));
	ck_assert(wake);                          /* the consumer sleeps: wake it */
	r.flow_id = 2;
	ck_assert(rq_push(q, &r, false, &wake));
	ck_assert(!wake);                         /* one wakeup per burst */
	ck_assert(!rq_push(q, &r, false, &wake));
	ck_assert_uint_eq(rq_dropped(q), 1);
	ck_assert_uint_eq(rq_pop(q, out, 4), 2);
	rq_unpack(out[0], &got);
	ck_assert_uint_eq(got.flow_id, 1);
	rq_unpack(out[1], &got);
	ck_assert_uint_eq(got.flow_id, 2);
	rq_done(q, out, 2);
	rq_wait_handled(q);
	ck_assert_uint_eq(rq_pop(q, out, 4), 0);  /* found nothing: the consumer sleeps */
	ck_assert(rq_push(q, &r, false, &wake));
	ck_assert(wake);                          /* so the next push wakes it */
	rq_close(q);
	ck_assert(!rq_push(q, &r, true, &wake));  /* closed: no wait, dropped */
	rq_free(q);
}
END_TEST

START_TEST(queue_wakes_a_polling_consumer_only_when_filling)
{
	struct record_queue *q = rq_new(16);     /* a quarter: 4 records wake */
	struct record r;
	struct rq_item *out[16];
	memset(&r, 0, sizeof(r));
	bool wake;
	ck_assert(rq_push(q, &r, false, &wake));
	ck_assert(wake);
	ck_assert_uint_eq(rq_pop(q, out, 16), 1); /* got one: it will poll again */
	rq_done(q, out, 1);
	for (int i = 1; i <= 6; i++) {
		ck_assert(rq_push(q, &r, false, &wake));
		ck_assert_msg(wake == (i == 4), "push %d: wake %d", i, wake);
	}
	ck_assert_uint_eq(rq_pop(q, out, 16), 6);
	rq_done(q, out, 6);
	ck_assert(rq_push(q, &r, false, &wake));
	ck_assert(!wake);
	ck_assert_uint_eq(rq_pop(q, out, 16), 1);
	rq_done(q, out, 1);
	ck_assert_uint_eq(rq_pop(q, out, 16), 0);
	ck_assert(rq_push(q, &r, false, &wake));
	ck_assert(wake);
	rq_free(q);
}
END_TEST

static void fill(char *dst, size_t size, char c, size_t n)
{
	memset(dst, c, n < size ? n : size);
}

START_TEST(packed_record_round_trip)
{
	static struct record r, got, full;
	unsigned char buf[RQ_PACKED_MAX];
	memset(&r, 0, sizeof(r));
	r.kind = RECORD_FLOW;
	r.ts_usec = 1768467600123456ull;
	r.flow_id = 0x1122334455667788ull;
	strcpy(r.community_id, "1:abcdefghijklmnopqrstuvwxyz01");
	uint8_t a[4] = { 10, 1, 2, 3 }, b[4] = { 17, 253, 144, 10 };
	addr_from_v4(&r.src, a);
	addr_from_v4(&r.dst, b);
	r.sport = 49152;
	r.dport = 443;
	r.proto = 6;
	r.app_proto = APP_TLS;
	r.tunnel = 3;
	r.vlan = 42;
	r.verdict.service = SVC_ICLOUD;
	r.verdict.confidence = CONF_HIGH;
	strcpy(r.verdict.match, "icloud.com");
	r.verdict.n_evidence = 2;
	r.verdict.evidence[0].source = EV_SNI;
	strcpy(r.verdict.evidence[0].value, "gateway.icloud.com");
	r.verdict.evidence[1].source = EV_IP_PREFIX;
	fill(r.verdict.evidence[1].value, EVIDENCE_VALUE_MAX, 'p', EVIDENCE_VALUE_MAX); /* no NUL */
	strcpy(r.policy, "staff");
	r.suppressed = 7;
	r.asn = 714;
	strcpy(r.as_org, "APPLE-ENGINEERING");
	r.start_usec = 1;
	r.end_usec = 2;
	r.pkts[0] = 3;
	r.pkts[1] = 4;
	r.bytes[0] = 5;
	r.bytes[1] = 6;
	strcpy(r.sni, "gateway.icloud.com");
	strcpy(r.quic_sni, "q.example");
	strcpy(r.http_host, "h.example");
	strcpy(r.alpn, "h2,http/1.1");
	r.ech = true;
	r.n_dns = RECORD_DNS_MAX;
	for (int i = 0; i < RECORD_DNS_MAX; i++)
		snprintf(r.dns_queries[i], DNS_NAME_MAX, "q%d.icloud.com", i);
	r.dns_more = 9;
	r.end_reason = 2;

	/* Every byte comes back: scalars, padding, strings, full-length strings. */
	size_t n = rq_pack(&r, buf);
	ck_assert_uint_lt(n, sizeof(r));
	memset(&got, 0, sizeof(got));
	rq_unpack_bytes(buf, n, &got);
	ck_assert(memcmp(&r, &got, sizeof(r)) == 0);

	/* Cut anywhere, or with a string length past its field, the bytes
	 * give an empty record, not one read past the input. */
	static struct record zero;
	for (size_t cut = 0; cut < n; cut += (cut < 64 || n - cut < 64) ? 1 : 97) {
		memset(&got, 0xAA, sizeof(got));
		rq_unpack_bytes(buf, cut, &got);
		ck_assert_msg(memcmp(&got, &zero, sizeof(got)) == 0, "cut at %zu of %zu", cut, n);
	}
	size_t first_len = offsetof(struct record, community_id);   /* where its length goes */
	unsigned char saved = buf[first_len + 1];
	buf[first_len + 1] = 0xff;
	memset(&got, 0xAA, sizeof(got));
	rq_unpack_bytes(buf, n, &got);
	ck_assert(memcmp(&got, &zero, sizeof(got)) == 0);
	buf[first_len + 1] = saved;

	/* Entries past the counts are left out, and come back empty. */
	r.n_dns = 2;
	r.verdict.n_evidence = 1;
	memcpy(&full, &r, sizeof(r));
	n = rq_pack(&r, buf);
	memset(&got, 0xAA, sizeof(got));
	rq_unpack_bytes(buf, n, &got);
	ck_assert_uint_eq(got.n_dns, 2);
	ck_assert_str_eq(got.dns_queries[0], "q0.icloud.com");
	ck_assert_str_eq(got.dns_queries[1], "q1.icloud.com");
	ck_assert_str_eq(got.dns_queries[2], "");
	ck_assert_str_eq(got.dns_queries[RECORD_DNS_MAX - 1], "");
	ck_assert_uint_eq(got.end_reason, 2);   /* the field after the queries left out */
	ck_assert_uint_eq(got.dns_more, 9);
	ck_assert_str_eq(got.verdict.evidence[0].value, "gateway.icloud.com");
	ck_assert_str_eq(got.verdict.evidence[1].value, "");
	ck_assert_str_eq(got.as_org, "APPLE-ENGINEERING");
	ck_assert_uint_eq(got.flow_id, r.flow_id);
	ck_assert_uint_eq(got.bytes[1], 6);
	r.n_dns = 0;
	n = rq_pack(&r, buf);
	memset(&got, 0xAA, sizeof(got));
	rq_unpack_bytes(buf, n, &got);
	ck_assert_uint_eq(got.n_dns, 0);
	for (int i = 0; i < RECORD_DNS_MAX; i++)
		ck_assert_str_eq(got.dns_queries[i], "");
	ck_assert_uint_eq(got.end_reason, 2);
	ck_assert_str_eq(got.alpn, "h2,http/1.1");

	/* An alert crosses in a few hundred bytes, not the struct's size. */
	memset(&r, 0, sizeof(r));
	r.kind = RECORD_ALERT;
	strcpy(r.community_id, "1:abcdefghijklmnopqrstuvwxyz01");
	strcpy(r.verdict.match, "icloud.com");
	r.verdict.n_evidence = 3;
	strcpy(r.verdict.evidence[0].value, "gateway.icloud.com");
	strcpy(r.verdict.evidence[1].value, "gateway.icloud.com");
	strcpy(r.verdict.evidence[2].value, "17.0.0.0/8");
	n = rq_pack(&r, buf);
	ck_assert_uint_lt(n, 1024);

	/* Input that rq_pack did not make gives an empty record. */
	memset(&got, 0xAA, sizeof(got));
	rq_unpack_bytes(buf, 10, &got);
	ck_assert_uint_eq(got.flow_id, 0);
	ck_assert_str_eq(got.community_id, "");
}
END_TEST

static void *free_all(void *arg)
{
	msgq_clear(arg);
	return NULL;
}

START_TEST(message_pool_chunks_and_frees_anywhere)
{
	struct msg_pool p;
	msg_pool_init(&p);
	/* ~6 MiB of messages: several chunks; one too big for a chunk */
	struct msgq a = { 0 }, b = { 0 };
	char data[3000];
	for (int i = 0; i < 4000; i++) {
		size_t len = 100 + (size_t)(i * 7) % 2900;
		memset(data, 'a' + i % 26, len);
		struct msg *m = msg_new(&p, data, len);
		ck_assert(m != NULL);
		msgq_push(i % 2 ? &b : &a, m);
	}
	static char big[100000];
	memset(big, 'z', sizeof(big));
	struct msg *m = msg_new(&p, big, sizeof(big));
	ck_assert(m != NULL && m->chunk == NULL);
	msgq_push(&a, m);
	/* contents intact, in order */
	int i = 0;
	for (struct msg *x = a.head; x && x->len != sizeof(big); x = x->next, i += 2) {
		ck_assert_uint_eq(x->len, 100 + (size_t)(i * 7) % 2900);
		ck_assert_int_eq(x->data[0], 'a' + i % 26);
		ck_assert_int_eq(x->data[x->len - 1], 'a' + i % 26);
	}
	ck_assert_int_eq(i, 4000);
	int chunks = 0;
	for (struct msg *x = a.head, *prev = NULL; x; prev = x, x = x->next)
		chunks += x->chunk && (!prev || prev->chunk != x->chunk);
	ck_assert_int_ge(chunks, 3);              /* 6 MiB: in several 2 MiB chunks */
	/* half freed on another thread, half here, interleaved in time */
	pthread_t th;
	pthread_create(&th, NULL, free_all, &b);
	msgq_clear(&a);
	pthread_join(th, NULL);
	/* in parts, cold or not, every length: the same bytes */
	for (size_t len = 0; len < 300; len++) {
		for (int cold = 0; cold < 2; cold++) {
			char want[300];
			for (size_t k = 0; k < len; k++)
				want[k] = (char)(k * 31 + len);
			struct iovec parts[3] = { { want, len / 3 }, { want + len / 3, len / 3 },
						  { want + 2 * (len / 3), len - 2 * (len / 3) } };
			struct msg *x = msg_new_parts(&p, parts, 3, cold);
			struct msg *y = msg_new_parts(&p, parts, 3, cold);   /* right after it */
			ck_assert_uint_eq(x->len, len);
			ck_assert(memcmp(x->data, want, len) == 0);
			ck_assert(memcmp(y->data, want, len) == 0);
			msg_free(x);
			msg_free(y);
		}
	}
	/* the pool goes on working after its chunks were emptied */
	m = msg_new(&p, "again", 5);
	ck_assert(m != NULL);
	ck_assert(memcmp(m->data, "again", 5) == 0);
	msg_free(m);
	msg_pool_destroy(&p);
}
END_TEST

#define THREADS 4
#define PER_THREAD 2000

struct producer {
	struct output *o;
	int id;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	struct record r;
	for (int i = 0; i < PER_THREAD; i++) {
		memset(&r, 0, sizeof(r));
		r.kind = RECORD_ALERT;
		r.ts_usec = 1768467600000000ull + (uint64_t)i;
		r.flow_id = (uint64_t)p->id * 100000u + (uint64_t)i;
		uint8_t v4[4] = { 10, (uint8_t)p->id, (uint8_t)(i >> 8), (uint8_t)i };
		addr_from_v4(&r.src, v4);
		addr_from_v4(&r.dst, v4);
		r.proto = 6;
		r.verdict.service = SVC_ICLOUD;
		r.verdict.confidence = CONF_HIGH;
		output_write(p->o, &r);
		/* a repeat of the same pair is suppressed (300 s) */
		output_write(p->o, &r);
	}
	return NULL;
}

static size_t count_lines(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	ck_assert(f != NULL);
	char line[8192];
	size_t n = 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

START_TEST(several_producers_one_file_sink)
{
	char path[256], spec[300], err[512];
	path_of(path, sizeof(path), "producers.json");
	snprintf(spec, sizeof(spec), "json:%s", path);
	struct output *o = output_new("unit", 300);
	ck_assert(output_add(o, spec, NULL, err, sizeof(err)));
	struct output_settings set;
	output_settings_default(&set);
	set.queue = 64;                           /* small: producers meet a full queue */
	set.lossless = true;
	output_configure(o, &set);
	ck_assert_msg(output_start(o, NULL, err, sizeof(err)), "%s", err);
	pthread_t th[THREADS];
	struct producer p[THREADS];
	for (int i = 0; i < THREADS; i++) {
		p[i].o = o;
		p[i].id = i + 1;
		pthread_create(&th[i], NULL, produce, &p[i]);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	output_flush(o);
	/* after output_flush everything written so far is in the file */
	ck_assert_uint_eq(count_lines(path, "\"event_type\":\"alert\""), THREADS * PER_THREAD);
	output_close(o);
	struct output_sink_stats st;
	ck_assert_uint_eq(output_stats(o, &st, 1), 1);
	ck_assert_uint_eq(st.delivered, THREADS * PER_THREAD);
	ck_assert_uint_eq(st.dropped, 0);
	ck_assert_uint_eq(output_suppressed(o), THREADS * PER_THREAD);
	ck_assert_uint_eq(output_alerts(o, SVC_ICLOUD), THREADS * PER_THREAD);
	ck_assert_uint_eq(output_queue_dropped(o), 0);
	output_free(o);
}
END_TEST

START_TEST(formats_per_sink_and_bad_specs)
{
	char a[256], b[256], spec[300], err[512];
	path_of(a, sizeof(a), "fmt-cef.log");
	path_of(b, sizeof(b), "fmt-leef.log");
	struct output *o = output_new("unit", 0);
	snprintf(spec, sizeof(spec), "json:%s,format=cef", a);
	ck_assert(output_add(o, spec, NULL, err, sizeof(err)));
	snprintf(spec, sizeof(spec), "json:%s", b);
	ck_assert(output_add(o, spec, "leef", err, sizeof(err)));
	ck_assert(!output_add(o, "json:/nonexistent-dir/x.json", NULL, err, sizeof(err)));
	ck_assert_msg(strstr(err, "cannot open"), "%s", err);
	ck_assert(!output_add(o, "syslog:tcp://h", NULL, err, sizeof(err)));
	struct record r;
	memset(&r, 0, sizeof(r));
	r.kind = RECORD_ALERT;
	r.verdict.service = SVC_PUSH;
	output_write(o, &r);                     /* starts delivery on first use */
	output_write(o, &r);                     /* suppression off: both go */
	output_free(o);
	ck_assert_uint_eq(count_lines(a, "CEF:0|applemon|applemon|"), 2);
	ck_assert_uint_eq(count_lines(b, "LEEF:2.0|applemon|applemon|"), 2);
}
END_TEST

/* A file that cannot take the bytes (/dev/full: ENOSPC at the flush, not at
 * fwrite): nothing counts as delivered, every record as dropped, the error
 * once. Before, stdio's buffer hid the failure and all were "delivered". */
START_TEST(file_sink_write_error_is_counted)
{
	char err[512];
	if (access("/dev/full", W_OK) != 0) {
		fprintf(stderr, "SKIP: no /dev/full\n");
		return;
	}
	struct output *o = output_new("unit", 0);
	ck_assert(output_add(o, "json:/dev/full", NULL, err, sizeof(err)));
	ck_assert_msg(output_start(o, NULL, err, sizeof(err)), "%s", err);
	struct record r;
	memset(&r, 0, sizeof(r));
	r.kind = RECORD_ALERT;
	r.verdict.service = SVC_PUSH;
	for (int i = 0; i < 3; i++)
		output_write(o, &r);
	output_close(o);
	struct output_sink_stats st;
	ck_assert_uint_eq(output_stats(o, &st, 1), 1);
	ck_assert_uint_eq(st.delivered, 0);
	ck_assert_uint_eq(st.dropped, 3);
	ck_assert_uint_ge(st.errors, 1);
	output_free(o);
}
END_TEST

START_TEST(spool_write_error_counts_as_dropped)
{
	/* A receiver that refuses connections: a port bound, never listened on. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	socklen_t sl = sizeof(sa);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	char spec[128], err[512], dir[256];
	snprintf(spec, sizeof(spec), "syslog:tcp://127.0.0.1:%u", ntohs(sa.sin_port));
	path_of(dir, sizeof(dir), "spool-efbig");
	mkdir(dir, 0700);
	snprintf(err, sizeof(err), "%s/syslog_tcp___127.0.0.1_%u.spool", dir, ntohs(sa.sin_port));
	unlink(err);

	struct output *o = output_new("unit", 0);
	ck_assert(output_add(o, spec, NULL, err, sizeof(err)));
	struct output_settings set;
	output_settings_default(&set);
	set.memory = 1;                  /* everything goes to the spool */
	set.flush_timeout = 0;
	snprintf(set.spool_dir, sizeof(set.spool_dir), "%s", dir);
	output_configure(o, &set);
	ck_assert_msg(output_start(o, NULL, err, sizeof(err)), "%s", err);
	/* ... whose file may not grow past 64 KiB */
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit rl = { 64 << 10, 64 << 10 };
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	struct record r;
	memset(&r, 0, sizeof(r));
	r.kind = RECORD_ALERT;
	r.verdict.service = SVC_PUSH;
	for (int i = 0; i < 2000; i++) {
		r.flow_id = (uint64_t)i;
		output_write(o, &r);
	}
	output_close(o);
	struct output_sink_stats st;
	ck_assert_uint_eq(output_stats(o, &st, 1), 1);
	/* Every alert is either on disk or counted as dropped. */
	ck_assert_uint_eq(st.delivered, 0);
	ck_assert_uint_gt(st.dropped, 0);
	ck_assert_uint_eq(st.dropped + st.spool_now, 2000);
	ck_assert_uint_ge(st.errors, 1);
	output_free(o);
	close(fd);
}
END_TEST

/* Alerts for a receiver that is away: by default 4 MiB of them wait in
 * memory when there is a spool (the rest go to it), 64 MiB when there is
 * none. */
static void run_away_receiver(const char *spool_dir, struct output_sink_stats *st)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	socklen_t sl = sizeof(sa);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	char spec[128], err[512];
	snprintf(spec, sizeof(spec), "syslog:tcp://127.0.0.1:%u", ntohs(sa.sin_port));
	struct output *o = output_new("unit", 0);
	ck_assert(output_add(o, spec, NULL, err, sizeof(err)));
	struct output_settings set;
	output_settings_default(&set);
	set.flush_timeout = 0;
	set.lossless = true;         /* every record reaches the sink */
	if (spool_dir) {
		mkdir(spool_dir, 0700);
		snprintf(set.spool_dir, sizeof(set.spool_dir), "%s", spool_dir);
	}
	output_configure(o, &set);
	ck_assert_msg(output_start(o, NULL, err, sizeof(err)), "%s", err);
	struct record r;
	memset(&r, 0, sizeof(r));
	r.kind = RECORD_ALERT;
	r.verdict.service = SVC_PUSH;
	strcpy(r.verdict.match, "push.apple.com");
	for (int i = 0; i < 20000; i++) {   /* some 8 MiB of messages */
		r.flow_id = (uint64_t)i;
		output_write(o, &r);
	}
	output_flush(o);
	ck_assert_uint_eq(output_stats(o, st, 1), 1);
	output_free(o);
	close(fd);
}

START_TEST(memory_in_front_of_a_spool_is_small_by_default)
{
	struct output_sink_stats st;
	char dir[256];
	path_of(dir, sizeof(dir), "spool-default-memory");
	run_away_receiver(dir, &st);
	ck_assert_uint_eq(st.dropped, 0);
	ck_assert_uint_gt(st.spooled, 0);
	ck_assert_uint_eq(st.queued + st.spooled, 20000);
	ck_assert_uint_lt(st.queued, 20000 / 2);   /* 4 MiB: fewer than half of them */

	run_away_receiver(NULL, &st);
	ck_assert_uint_eq(st.dropped, 0);
	ck_assert_uint_eq(st.spooled, 0);
	ck_assert_uint_eq(st.queued, 20000);      /* 64 MiB hold them all */
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("delivery");
	TCase *t = tcase_create("delivery");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, spool_keeps_order_bound_and_position);
	tcase_add_test(t, memory_in_front_of_a_spool_is_small_by_default);
	tcase_add_test(t, spool_prepend_puts_older_messages_first);
	tcase_add_test(t, spool_write_failure_is_a_loss);
	tcase_add_test(t, queue_drops_when_full_unless_asked_to_wait);
	tcase_add_test(t, queue_wakes_a_polling_consumer_only_when_filling);
	tcase_add_test(t, packed_record_round_trip);
	tcase_add_test(t, message_pool_chunks_and_frees_anywhere);
	tcase_add_test(t, several_producers_one_file_sink);
	tcase_add_test(t, formats_per_sink_and_bad_specs);
	tcase_add_test(t, file_sink_write_error_is_counted);
	tcase_add_test(t, spool_write_error_counts_as_dropped);
	suite_add_tcase(s, t);
	return s;
}

TEST_MAIN(make_suite)
