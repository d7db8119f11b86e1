/* sink_relp.c - syslog over RELP (librelp), the acknowledged transport
 * that rsyslog's imrelp receives.
 *
 * librelp's client is blocking, so it runs on a thread of its own; the
 * delivery loop hands it messages through a short bounded list and the
 * thread wakes the loop when it wants more. While the receiver is away the
 * list stays full, and alerts wait in the sink's backlog (memory, then the
 * spool) on the loop.
 *
 * librelp sends a message only while fewer than WINDOW are unacknowledged,
 * so once a send returns, every message WINDOW sends back has been
 * acknowledged: that is when it counts as delivered. The last WINDOW
 * messages are kept; when the session breaks, a new one is opened and they
 * are sent again before anything newer (a message the receiver already
 * had comes twice: counted as resent, never lost).
 *
 * librelp is loaded when the first RELP sink starts (dlopen), not linked:
 * it brings GnuTLS and eight more libraries whose initialisation cost every
 * run 7 ms at start-up (three times a bare libpcap program's whole start),
 * for a transport most sensors do not use. Its header still gives the
 * types and the checked prototypes of the functions looked up. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <dlfcn.h>
#include <librelp.h>

#include "sink.h"

#define WINDOW 128
#define HANDOFF_MAX 1024
#define RELP_TIMEOUT_S 5

struct relp {
	struct sink *s;
	pthread_t th;
	bool th_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct msgq handoff;          /* loop -> thread */
	struct msgq window;           /* sent, possibly unacknowledged (thread only) */
	uint64_t confirmed;           /* thread -> loop: to count as delivered */
	bool stop;
	bool connected;
	bool closed_cleanly;          /* the session ended with RELP's close handshake */

	relpEngine_t *engine;         /* thread only */
	relpClt_t *clt;
	uint32_t backoff_ms;
	bool down_logged;
};

/* The librelp functions used, looked up once (RELP_SONAME: the ABI the
 * header is for). */
#define RELP_SONAME "librelp.so.0"
#define RELP_FUNCS(X) \
	X(relpEngineConstruct) X(relpEngineDestruct) X(relpEngineSetDbgprint) \
	X(relpEngineSetEnableCmd) X(relpEngineCltConstruct) X(relpEngineCltDestruct) \
	X(relpCltSetTimeout) X(relpCltSetWindowSize) X(relpCltConnect) X(relpCltSendSyslog)
static struct {
#define RELP_FIELD(name) __typeof__(name) *name;
	RELP_FUNCS(RELP_FIELD)
#undef RELP_FIELD
} lib;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static char lib_error[256];

static void load_librelp(void)
{
	/* Never closed: the handle lives as long as the process. */
	void *h = dlopen(RELP_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(lib_error, sizeof(lib_error), "%s", dlerror());
		return;
	}
#define RELP_LOOKUP(name)                                                                   \
	if (!lib_error[0] && !(*(void **)&lib.name = dlsym(h, #name)))                      \
		snprintf(lib_error, sizeof(lib_error), "%s: no %s", RELP_SONAME, #name);
	RELP_FUNCS(RELP_LOOKUP)
#undef RELP_LOOKUP
}

static void set_connected(struct relp *r, bool on)
{
	pthread_mutex_lock(&r->mu);
	r->connected = on;
	pthread_mutex_unlock(&r->mu);
}

/* librelp calls its debug printer unconditionally. */
static void relp_quiet(char *fmt, ...)
{
	(void)fmt;
}

static void relp_close(struct relp *r)
{
	if (r->clt)
		lib.relpEngineCltDestruct(r->engine, &r->clt);
	r->clt = NULL;
	set_connected(r, false);
	atomic_store(&r->s->c.connected, 0);
}

static bool relp_connect(struct relp *r, char *why, size_t whylen)
{
	struct sink *s = r->s;
	relpRetVal rc = lib.relpEngineCltConstruct(r->engine, &r->clt);
	if (rc == RELP_RET_OK) {
		lib.relpCltSetTimeout(r->clt, RELP_TIMEOUT_S);
		lib.relpCltSetWindowSize(r->clt, WINDOW);
		rc = lib.relpCltConnect(r->clt, AF_UNSPEC, (unsigned char *)s->spec.port,
				    (unsigned char *)s->spec.target);
	}
	if (rc != RELP_RET_OK) {
		snprintf(why, whylen, "RELP connection to %.200s:%s failed (librelp error %d)",
			 s->spec.target, s->spec.port, (int)rc);
		if (r->clt)
			lib.relpEngineCltDestruct(r->engine, &r->clt);
		r->clt = NULL;
		return false;
	}
	/* What the last session may not have delivered goes first. */
	for (struct msg *m = r->window.head; m; m = m->next) {
		if (lib.relpCltSendSyslog(r->clt, (unsigned char *)m->data, m->len) != RELP_RET_OK) {
			snprintf(why, whylen, "RELP session to %.200s:%s broke while resending",
				 s->spec.target, s->spec.port);
			relp_close(r);
			return false;
		}
		atomic_fetch_add(&s->c.resent, 1);
	}
	set_connected(r, true);
	atomic_store(&s->c.connected, 1);
	return true;
}

static void wait_backoff(struct relp *r)
{
	r->backoff_ms = delivery_backoff_next(r->backoff_ms, r->s->lim.reconnect_max_ms);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += r->backoff_ms / 1000;
	ts.tv_nsec += (long)(r->backoff_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&r->mu);
	if (!r->stop)
		pthread_cond_timedwait(&r->cv, &r->mu, &ts);
	pthread_mutex_unlock(&r->mu);
}

static void *relp_thread(void *arg)
{
	struct relp *r = arg;
	struct sink *s = r->s;
	char why[300];
	for (;;) {
		pthread_mutex_lock(&r->mu);
		while (!r->stop && r->connected && !r->handoff.head)
			pthread_cond_wait(&r->cv, &r->mu);
		bool stop = r->stop;
		bool have = r->handoff.head != NULL;
		pthread_mutex_unlock(&r->mu);
		if (stop && (!have || !r->connected))
			break;
		if (!r->connected) {
			if (!relp_connect(r, why, sizeof(why))) {
				if (!r->down_logged) {
					sink_log(s, "%s; retrying (alerts wait in memory%s)", why,
						 s->spool ? ", then in the spool" : "");
					r->down_logged = true;
				}
				atomic_fetch_add(&s->c.errors, 1);
				wait_backoff(r);
				continue;
			}
			if (r->down_logged)
				sink_log(s, "connected again; sending what waited");
			r->down_logged = false;
			r->backoff_ms = 0;
			delivery_wake(s->d);
			continue;
		}
		pthread_mutex_lock(&r->mu);
		struct msg *m = msgq_pop(&r->handoff);
		bool want_more = r->handoff.count == HANDOFF_MAX / 2;
		pthread_mutex_unlock(&r->mu);
		if (!m)
			continue;
		if (want_more)
			delivery_wake(s->d);
		if (lib.relpCltSendSyslog(r->clt, (unsigned char *)m->data, m->len) != RELP_RET_OK) {
			/* back to the head; it goes after the window on reconnect */
			pthread_mutex_lock(&r->mu);
			struct msgq one = { 0 };
			msgq_push(&one, m);
			msgq_prepend(&r->handoff, &one);
			pthread_mutex_unlock(&r->mu);
			relp_close(r);
			snprintf(why, sizeof(why), "RELP session to %.200s:%s broke", s->spec.target,
				 s->spec.port);
			sink_log(s, "%s; reconnecting", why);
			r->down_logged = true;
			continue;
		}
		msgq_push(&r->window, m);
		uint64_t acked = 0;
		while (r->window.count > WINDOW) {
			msg_free(msgq_pop(&r->window));
			acked++;
		}
		if (acked) {
			pthread_mutex_lock(&r->mu);
			r->confirmed += acked;
			pthread_mutex_unlock(&r->mu);
		}
	}
	/* A clean close waits for every acknowledgement. */
	if (r->connected) {
		relp_close(r);
		r->closed_cleanly = true;
	}
	return NULL;
}

static void collect(struct relp *r)
{
	pthread_mutex_lock(&r->mu);
	uint64_t n = r->confirmed;
	r->confirmed = 0;
	pthread_mutex_unlock(&r->mu);
	if (n)
		sink_confirmed(r->s, n);
}

static void relp_kick(struct sink *s)
{
	struct relp *r = s->impl;
	collect(r);
	pthread_mutex_lock(&r->mu);
	bool added = false;
	struct msg *m;
	while (r->handoff.count < HANDOFF_MAX && (m = sink_next(s))) {
		msgq_push(&r->handoff, m);
		added = true;
	}
	if (added)
		pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	sink_update_gauges(s);
}

static bool relp_start(struct sink *s, char *err, size_t errlen)
{
	struct relp *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	r->s = s;
	s->impl = r;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	pthread_once(&lib_once, load_librelp);
	if (lib_error[0]) {
		snprintf(err, errlen, "RELP needs librelp (Debian: librelp0): %s", lib_error);
		return false;
	}
	if (lib.relpEngineConstruct(&r->engine) != RELP_RET_OK) {
		snprintf(err, errlen, "cannot start librelp");
		return false;
	}
	lib.relpEngineSetDbgprint(r->engine, relp_quiet);
	lib.relpEngineSetEnableCmd(r->engine, (unsigned char *)"syslog", eRelpCmdState_Required);
	if (pthread_create(&r->th, NULL, relp_thread, r) != 0) {
		snprintf(err, errlen, "cannot start the RELP thread");
		return false;
	}
	r->th_started = true;
	return true;
}

static bool relp_idle(struct sink *s)
{
	struct relp *r = s->impl;
	collect(r);
	pthread_mutex_lock(&r->mu);
	bool idle = r->connected && r->handoff.count == 0;
	pthread_mutex_unlock(&r->mu);
	return idle && !sink_has_waiting(s);
}

static void relp_tick(struct sink *s)
{
	relp_kick(s);
}

static void relp_reopen(struct sink *s)
{
	(void)s;
}

static void relp_stop(struct sink *s)
{
	struct relp *r = s->impl;
	if (!r)
		return;
	if (r->th_started) {
		pthread_mutex_lock(&r->mu);
		r->stop = true;
		pthread_cond_signal(&r->cv);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->th, NULL);
	}
	collect(r);
	if (r->closed_cleanly) {
		sink_confirmed(s, r->window.count);
		msgq_clear(&r->window);
	}
	/* Unacknowledged and never sent: kept in order for the spool. */
	sink_requeue(s, &r->handoff, false);
	sink_requeue(s, &r->window, false);
	if (r->engine)
		lib.relpEngineDestruct(&r->engine);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
	s->impl = NULL;
	atomic_store(&s->c.connected, 0);
}

const struct sink_ops sink_relp_ops = {
	.start = relp_start, .kick = relp_kick, .idle = relp_idle, .tick = relp_tick,
	.reopen = relp_reopen, .stop = relp_stop,
};
