/* output.c - the API packet processing calls: suppression, the queue to the
 * delivery thread, and the sink set (output.h).
 *
 * output_write() runs on capture threads. Suppression takes its own lock
 * (the table is shared: a (host, service) pair may be seen by any worker);
 * the record is then packed into the bounded queue, and the delivery loop
 * is woken when it sleeps. Nothing here touches a sink. */
#include "output.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "delivery.h"
#include "record_queue.h"
#include "sink.h"
#include "suppress.h"

#define MAX_SINKS 16

struct output {
	char sensor[128];
	struct sink *sinks[MAX_SINKS];
	size_t n;
	struct output_settings set;

	pthread_mutex_t suppress_mu;
	struct suppressor *suppress;
	atomic_uint_fast64_t alerts[SVC_COUNT];

	pthread_mutex_t start_mu;
	atomic_bool started;
	bool start_failed;
	bool closed;
	struct record_queue *q;
	struct delivery *d;
};

void output_settings_default(struct output_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->queue = 4096;
	s->memory = 0;   /* per sink: SINK_MEMORY_SPOOLED with a spool, else _ALONE */
	s->spool_size = 1024u << 20;
	s->flush_timeout = 10;
	s->reconnect_max = 30;
	s->cpu = -1;
}

struct output *output_new(const char *sensor_name, uint32_t suppress_secs)
{
	struct output *o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->suppress = suppressor_new(suppress_secs, 65536);
	if (!o->suppress) {
		free(o);
		return NULL;
	}
	pthread_mutex_init(&o->suppress_mu, NULL);
	pthread_mutex_init(&o->start_mu, NULL);
	snprintf(o->sensor, sizeof(o->sensor), "%s", sensor_name ? sensor_name : "applemon");
	output_settings_default(&o->set);
	return o;
}

void output_free(struct output *o)
{
	if (!o)
		return;
	output_close(o);
	delivery_free(o->d);
	rq_free(o->q);
	for (size_t i = 0; i < o->n; i++)
		sink_free(o->sinks[i]);
	suppressor_free(o->suppress);
	pthread_mutex_destroy(&o->suppress_mu);
	pthread_mutex_destroy(&o->start_mu);
	free(o);
}

bool output_add(struct output *o, const char *spec, const char *format, char *err, size_t errlen)
{
	if (o->n >= MAX_SINKS) {
		snprintf(err, errlen, "too many outputs (at most %d)", MAX_SINKS);
		return false;
	}
	struct sink *s = sink_new(spec, format, NULL, o->sensor, err, errlen);
	if (!s)
		return false;
	/* A file that cannot be opened is a setup error, reported now. */
	if (s->spec.kind == SINK_FILE && strcmp(s->spec.target, "-") != 0) {
		FILE *f = fopen(s->spec.target, "a");
		if (!f) {
			snprintf(err, errlen, "%s: cannot open: %s", s->spec.target, strerror(errno));
			sink_free(s);
			return false;
		}
		fclose(f);
	}
	o->sinks[o->n++] = s;
	return true;
}

size_t output_count(const struct output *o)
{
	return o->n;
}

void output_configure(struct output *o, const struct output_settings *s)
{
	o->set = *s;
}

bool output_start(struct output *o, const struct output_hooks *hooks, char *err, size_t errlen)
{
	pthread_mutex_lock(&o->start_mu);
	bool ok = true;
	if (!atomic_load(&o->started) && !o->start_failed) {
		o->q = rq_new(o->set.queue);
		o->d = o->q ? delivery_new(o->q, o->sinks, o->n, &o->set, hooks, o->sensor, o, err,
					   errlen)
			    : NULL;
		if (!o->q)
			snprintf(err, errlen, "out of memory for the output queue");
		ok = o->d && delivery_start(o->d, err, errlen);
		if (ok)
			atomic_store(&o->started, true);
		else
			o->start_failed = true;
	} else if (o->start_failed) {
		snprintf(err, errlen, "delivery failed to start");
		ok = false;
	}
	pthread_mutex_unlock(&o->start_mu);
	return ok;
}

bool output_admit(struct output *o, const struct ip_addr *host, unsigned service,
		  uint64_t ts_usec, uint32_t *suppressed)
{
	pthread_mutex_lock(&o->suppress_mu);
	bool admit = suppressor_admit(o->suppress, host, (uint8_t)service, ts_usec, suppressed);
	pthread_mutex_unlock(&o->suppress_mu);
	if (admit && service < SVC_COUNT)
		atomic_fetch_add_explicit(&o->alerts[service], 1, memory_order_relaxed);
	return admit;
}

void output_write(struct output *o, struct record *r)
{
	if (r->kind == RECORD_ALERT &&
	    !output_admit(o, &r->src, (unsigned)r->verdict.service, r->ts_usec, &r->suppressed))
		return;
	output_write_admitted(o, r);
}

void output_write_admitted(struct output *o, struct record *r)
{
	if (o->n == 0)
		return;
	if (!atomic_load_explicit(&o->started, memory_order_acquire)) {
		char err[512];
		if (!output_start(o, NULL, err, sizeof(err))) {
			static atomic_bool told;
			if (!atomic_exchange(&told, true))
				fprintf(stderr, "applemon: %s\n", err);
			return;
		}
	}
	bool wake;
	rq_push(o->q, r, o->set.lossless, &wake);
	if (wake)
		delivery_wake(o->d);
}

void output_flush(struct output *o)
{
	if (atomic_load(&o->started) && !o->closed) {
		delivery_wake(o->d);   /* now, rather than at its next poll */
		rq_wait_handled(o->q);
	}
}

void output_close(struct output *o)
{
	if (!atomic_load(&o->started) || o->closed)
		return;
	o->closed = true;
	rq_close(o->q);
	delivery_finish(o->d);
}

size_t output_stats(const struct output *o, struct output_sink_stats *out, size_t max)
{
	size_t n = o->n < max ? o->n : max;
	for (size_t i = 0; i < n; i++) {
		const struct sink *s = o->sinks[i];
		struct sink_counters *c = (struct sink_counters *)&s->c;
		memset(&out[i], 0, sizeof(out[i]));
		snprintf(out[i].spec, sizeof(out[i].spec), "%s", s->spec_text);
		out[i].delivered = atomic_load_explicit(&c->delivered, memory_order_relaxed);
		out[i].written = out[i].delivered;
		out[i].errors = atomic_load_explicit(&c->errors, memory_order_relaxed);
		out[i].queued = atomic_load_explicit(&c->queued, memory_order_relaxed);
		out[i].spooled = atomic_load_explicit(&c->spooled, memory_order_relaxed);
		out[i].spool_now = atomic_load_explicit(&c->spool_now, memory_order_relaxed);
		out[i].dropped = atomic_load_explicit(&c->dropped, memory_order_relaxed);
		out[i].resent = atomic_load_explicit(&c->resent, memory_order_relaxed);
		out[i].connected = atomic_load_explicit(&c->connected, memory_order_relaxed) != 0;
	}
	return n;
}

uint64_t output_suppressed(const struct output *o)
{
	struct suppressor_stats st;
	pthread_mutex_t *mu = (pthread_mutex_t *)&o->suppress_mu;
	pthread_mutex_lock(mu);
	suppressor_get_stats(o->suppress, &st);
	pthread_mutex_unlock(mu);
	return st.suppressed;
}

uint64_t output_queue_dropped(const struct output *o)
{
	return o->q ? rq_dropped(o->q) : 0;
}

uint64_t output_alerts(const struct output *o, int service)
{
	if (service < 0 || service >= SVC_COUNT)
		return 0;
	return atomic_load_explicit((atomic_uint_fast64_t *)&o->alerts[service],
				    memory_order_relaxed);
}

void output_report(const struct output *o, FILE *f)
{
	struct output_sink_stats st[MAX_SINKS];
	size_t n = output_stats(o, st, MAX_SINKS);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(st[i].spec, "-") == 0 || strcmp(st[i].spec, "json:-") == 0)
			continue;
		fprintf(f,
			"applemon: output %s: %llu delivered, %llu queued, %llu spooled (%llu still "
			"on disk), %llu dropped, %llu resent\n",
			st[i].spec, (unsigned long long)st[i].delivered,
			(unsigned long long)st[i].queued, (unsigned long long)st[i].spooled,
			(unsigned long long)st[i].spool_now, (unsigned long long)st[i].dropped,
			(unsigned long long)st[i].resent);
	}
	uint64_t qd = output_queue_dropped(o);
	if (qd)
		fprintf(f, "applemon: DROPPED %llu records: the queue to delivery was full\n",
			(unsigned long long)qd);
}
