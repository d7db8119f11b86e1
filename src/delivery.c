/* delivery.c - the delivery thread and its libevent loop (delivery.h). */
#include "delivery.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>

#include "cpu_affinity.h"

#define BATCH 256
#define BATCHES_PER_WAKE 8
#define TICK_MS 100
#define POLL_MS 2          /* while records keep coming, look again this soon */

struct delivery {
	struct record_queue *q;
	struct output *o;
	struct sink **sinks;
	size_t n;
	struct output_settings set;
	struct output_hooks hooks;
	const char *sensor;

	struct event_base *base;
	struct event *wake, *poll, *tick, *sighup, *sigterm, *sigint;
	struct evhttp *http;
	pthread_t th;
	bool running;
	size_t started;               /* sinks started */
	bool sinks_stopped;

	bool flushing;
	struct timespec deadline;

	struct rq_item **batch;
	struct record rec;            /* the record being delivered, unpacked */
	struct strbuf body[FORMAT_COUNT];
	bool have_body[FORMAT_COUNT];
	struct strbuf msg;            /* a syslog header */
};

void delivery_wake(struct delivery *d)
{
	event_active(d->wake, EV_READ, 0);
}

struct output *delivery_output(struct delivery *d)
{
	return d->o;
}

const struct output_hooks *delivery_hooks(struct delivery *d)
{
	return &d->hooks;
}

static const char *body_of(struct delivery *d, const struct record *r, enum msg_format f,
			   size_t *len)
{
	if (!d->have_body[f]) {
		format_record(f, r, d->sensor, &d->body[f]);
		d->have_body[f] = true;
	}
	*len = d->body[f].len;
	return d->body[f].oom ? NULL : d->body[f].buf;
}

static void deliver_record(struct delivery *d, const struct record *r)
{
	memset(d->have_body, 0, sizeof(d->have_body));
	for (size_t i = 0; i < d->n; i++) {
		struct sink *s = d->sinks[i];
		size_t blen;
		const char *body = body_of(d, r, s->spec.format, &blen);
		if (!body) {
			atomic_fetch_add(&s->c.dropped, 1);
			continue;
		}
		/* The body is copied once, into the message: the parts around
		 * it are built apart. */
		struct iovec parts[4];
		int n = 0;
		char prefix[24];
		if (s->spec.kind == SINK_FILE) {
			parts[n++] = (struct iovec){ (void *)body, blen };
			parts[n++] = (struct iovec){ "\n", 1 };
		} else {
			sb_reset(&d->msg);
			syslog_header(&s->syslog, r, &d->msg);
			if (d->msg.oom) {
				atomic_fetch_add(&s->c.dropped, 1);
				continue;
			}
			size_t plen = syslog_frame_prefix(s->spec.framing, d->msg.len + blen, prefix);
			if (plen)
				parts[n++] = (struct iovec){ prefix, plen };
			parts[n++] = (struct iovec){ d->msg.buf, d->msg.len };
			parts[n++] = (struct iovec){ (void *)body, blen };
			if (s->spec.framing == FRAMING_LF)
				parts[n++] = (struct iovec){ "\n", 1 };
		}
		sink_enqueue_parts(s, parts, n);
	}
}

static void kick_all(struct delivery *d)
{
	for (size_t i = 0; i < d->n; i++)
		d->sinks[i]->ops->kick(d->sinks[i]);
}

static bool past(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static void stop_sinks(struct delivery *d)
{
	if (d->sinks_stopped)
		return;
	d->sinks_stopped = true;
	for (size_t i = 0; i < d->started; i++) {
		struct sink *s = d->sinks[i];
		s->ops->stop(s);
		sink_save_leftovers(s);
	}
}

static void finish_now(struct delivery *d)
{
	stop_sinks(d);
	event_base_loopbreak(d->base);
}

static void check_flushed(struct delivery *d)
{
	bool all_idle = true;
	for (size_t i = 0; i < d->n; i++)
		if (!d->sinks[i]->ops->idle(d->sinks[i]))
			all_idle = false;
	if (all_idle || past(&d->deadline))
		finish_now(d);
}

/* Records wait: deliver them. Producers wake the loop only while it
 * sleeps (rq_pop found nothing); after a pop that found records the loop
 * looks again by itself, POLL_MS later, so a steady stream of records
 * costs one wake-up per poll rather than one per record. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct delivery *d = arg;
	size_t n = 0;
	for (int b = 0; b < BATCHES_PER_WAKE; b++) {
		n = rq_pop(d->q, d->batch, BATCH);
		for (size_t i = 0; i < n; i++) {
			rq_unpack(d->batch[i], &d->rec);
			deliver_record(d, &d->rec);
		}
		kick_all(d);   /* also when woken for a sink (RELP wants more) */
		rq_done(d->q, d->batch, n);
		if (n < BATCH)
			break;
	}
	if (n == BATCH) {
		event_active(d->wake, EV_READ, 0);   /* more: after the other events */
		return;
	}
	if (n) {
		struct timeval tv = { 0, POLL_MS * 1000 };
		event_add(d->poll, &tv);
		return;
	}
	if (!d->flushing && rq_closed(d->q) && rq_length(d->q) == 0) {
		d->flushing = true;
		clock_gettime(CLOCK_MONOTONIC, &d->deadline);
		d->deadline.tv_sec += d->set.flush_timeout;
		check_flushed(d);
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct delivery *d = arg;
	for (size_t i = 0; i < d->n; i++) {
		d->sinks[i]->ops->tick(d->sinks[i]);
		sink_spool_flush(d->sinks[i]);
	}
	if (d->flushing)
		check_flushed(d);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct delivery *d = arg;
	if (sig == SIGHUP) {
		for (size_t i = 0; i < d->n; i++)
			d->sinks[i]->ops->reopen(d->sinks[i]);
		if (d->hooks.reload) {
			char err[1024];
			if (d->hooks.reload(d->hooks.ctx, err, sizeof(err)))
				fprintf(stderr, "applemon: SIGHUP: files reopened, signatures and policy reloaded\n");
			else
				fprintf(stderr, "applemon: SIGHUP: reload refused, the previous signatures "
						"and policy stay in force: %s\n", err);
		}
		return;
	}
	if (d->hooks.stop)
		d->hooks.stop(d->hooks.ctx);
}

static void init_threads(void)
{
	evthread_use_pthreads();
}

struct delivery *delivery_new(struct record_queue *q, struct sink **sinks, size_t n_sinks,
			      const struct output_settings *set, const struct output_hooks *hooks,
			      const char *sensor, struct output *o, char *err, size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, init_threads);
	struct delivery *d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->q = q;
	d->o = o;
	d->sinks = sinks;
	d->n = n_sinks;
	d->set = *set;
	if (hooks)
		d->hooks = *hooks;
	d->sensor = sensor;
	d->batch = calloc(BATCH, sizeof(*d->batch));
	d->base = event_base_new();
	if (!d->batch || !d->base) {
		snprintf(err, errlen, "cannot create the delivery loop");
		delivery_free(d);
		return NULL;
	}
	for (int f = 0; f < FORMAT_COUNT; f++)
		sb_init(&d->body[f]);
	sb_init(&d->msg);
	d->wake = event_new(d->base, -1, 0, on_wake, d);
	d->poll = evtimer_new(d->base, on_wake, d);
	d->tick = event_new(d->base, -1, EV_PERSIST, on_tick, d);
	if (!d->wake || !d->poll || !d->tick) {
		snprintf(err, errlen, "cannot create the delivery loop");
		delivery_free(d);
		return NULL;
	}
	return d;
}

static void *run(void *arg)
{
	struct delivery *d = arg;
	if (d->set.cpu >= 0)
		cpu_pin_self(d->set.cpu);   /* advice: unpinned if refused */
	event_base_loop(d->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

bool delivery_start(struct delivery *d, char *err, size_t errlen)
{
	/* A broken connection must be an error on the write, not a signal. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	struct sink_limits lim;
	memset(&lim, 0, sizeof(lim));
	lim.memory = d->set.memory;
	lim.spool_size = d->set.spool_size;
	snprintf(lim.spool_dir, sizeof(lim.spool_dir), "%s", d->set.spool_dir);
	lim.reconnect_max_ms = d->set.reconnect_max * 1000u;
	if (lim.reconnect_max_ms < 200)
		lim.reconnect_max_ms = 200;
	for (size_t i = 0; i < d->n; i++) {
		char why[512];
		if (!sink_start(d->sinks[i], d->base, d, &lim, why, sizeof(why))) {
			snprintf(err, errlen, "output %s: %s", d->sinks[i]->spec_text, why);
			d->started = i + 1;   /* its stop frees what it made */
			return false;
		}
	}
	d->started = d->n;
	if (d->set.status_listen[0]) {
		d->http = status_http_start(d->base, d->set.status_listen, d, err, errlen);
		if (!d->http && !d->set.status_optional)
			return false;
		if (!d->http)
			fprintf(stderr, "applemon: %s; running without it\n", err);
	}
	struct timeval tv = { 0, TICK_MS * 1000 };
	event_add(d->tick, &tv);
	d->sighup = evsignal_new(d->base, SIGHUP, on_signal, d);
	if (d->sighup)
		event_add(d->sighup, NULL);
	if (d->hooks.stop) {
		d->sigterm = evsignal_new(d->base, SIGTERM, on_signal, d);
		d->sigint = evsignal_new(d->base, SIGINT, on_signal, d);
		if (d->sigterm)
			event_add(d->sigterm, NULL);
		if (d->sigint)
			event_add(d->sigint, NULL);
	}
	if (pthread_create(&d->th, NULL, run, d) != 0) {
		snprintf(err, errlen, "cannot start the delivery thread");
		return false;
	}
	d->running = true;
	return true;
}

void delivery_finish(struct delivery *d)
{
	if (!d || !d->running)
		return;
	delivery_wake(d);
	pthread_join(d->th, NULL);
	d->running = false;
}

void delivery_free(struct delivery *d)
{
	if (!d)
		return;
	delivery_finish(d);
	stop_sinks(d);
	if (d->http)
		status_http_stop(d->http);
	struct event *evs[] = { d->wake, d->poll, d->tick, d->sighup, d->sigterm, d->sigint };
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i])
			event_free(evs[i]);
	if (d->base) {
		/* A bufferevent freed while a deferred callback of its was
		 * pending (a connect refused just before the end) is freed only
		 * once that callback has run: one last pass runs it. Our own
		 * events are gone, so nothing of ours runs. */
		event_base_loop(d->base, EVLOOP_NONBLOCK);
		event_base_free(d->base);
	}
	for (int f = 0; f < FORMAT_COUNT; f++)
		sb_free(&d->body[f]);
	sb_free(&d->msg);
	free(d->batch);
	free(d);
}
