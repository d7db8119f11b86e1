/* The on-disk spool, the record queue, and the output layer end to end
 * with several producer threads writing to a file sink. */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "record_queue.h"
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

START_TEST(queue_drops_when_full_unless_asked_to_wait)
{
	struct record_queue *q = rq_new(2);
	struct record r, *out[4];
	memset(&r, 0, sizeof(r));
	bool wake;
	r.flow_id = 1;
	ck_assert(rq_push(q, &r, false, &wake));
	ck_assert(wake);
	r.flow_id = 2;
	ck_assert(rq_push(q, &r, false, &wake));
	ck_assert(!wake);                         /* one wakeup per burst */
	ck_assert(!rq_push(q, &r, false, &wake));
	ck_assert_uint_eq(rq_dropped(q), 1);
	ck_assert_uint_eq(rq_pop(q, out, 4), 2);
	ck_assert_uint_eq(out[0]->flow_id, 1);
	ck_assert_uint_eq(out[1]->flow_id, 2);
	rq_done(q, out, 2);
	rq_wait_handled(q);
	ck_assert(rq_push(q, &r, false, &wake));
	ck_assert(wake);                          /* the queue was emptied: wake again */
	rq_close(q);
	ck_assert(!rq_push(q, &r, true, &wake));  /* closed: no wait, dropped */
	rq_free(q);
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

static Suite *make_suite(void)
{
	Suite *s = suite_create("delivery");
	TCase *t = tcase_create("delivery");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, spool_keeps_order_bound_and_position);
	tcase_add_test(t, queue_drops_when_full_unless_asked_to_wait);
	tcase_add_test(t, several_producers_one_file_sink);
	tcase_add_test(t, formats_per_sink_and_bad_specs);
	tcase_add_test(t, file_sink_write_error_is_counted);
	suite_add_tcase(s, t);
	return s;
}

TEST_MAIN(make_suite)
