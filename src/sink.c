/* sink.c - sink specs, and the backlog every transport shares (sink.h). */
#include "sink.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* ---- messages ------------------------------------------------------------ */

#define CHUNK_SIZE ((size_t)2 << 20)
#define CHUNK_HDR 64                     /* struct msg_chunk, padded */
#define MSG_OWN ((size_t)64 << 10)       /* messages larger than this: malloc */
#define COLD_BACKLOG ((uint64_t)1 << 20) /* bytes waiting past which messages go in cold */
/* Emptied chunks kept for reuse rather than unmapped: fresh memory costs a
 * page fault and the kernel's zeroing of 2 MiB (on a virtual machine about
 * half a millisecond), which a receiver that stalls - backlog built in
 * memory, spooled, built again - would pay over and over. Bounded: 32 MiB. */
#define SPARE_CHUNKS 16

struct msg_chunk {
	atomic_size_t refs;          /* messages in it, + 1 while it is the pool's cur */
	struct msg_pool *pool;       /* NULL once the pool is gone */
	struct msg_chunk *next;      /* in the pool's spare list */
};

_Static_assert(sizeof(struct msg_chunk) <= CHUNK_HDR, "chunk header");

static struct msg_chunk *chunk_map(void)
{
	/* 2 MiB aligned, so that the kernel can back it with one huge page */
	size_t span = 2 * CHUNK_SIZE;
	char *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	uintptr_t a = ((uintptr_t)p + CHUNK_SIZE - 1) & ~(uintptr_t)(CHUNK_SIZE - 1);
	char *c = (char *)a;
	if (c > p)
		munmap(p, (size_t)(c - p));
	if (c + CHUNK_SIZE < p + span)
		munmap(c + CHUNK_SIZE, (size_t)(p + span - (c + CHUNK_SIZE)));
#ifdef MADV_HUGEPAGE
	madvise(c, CHUNK_SIZE, MADV_HUGEPAGE);
#endif
	return (struct msg_chunk *)c;
}

/* The last reference is gone: keep it as a spare, or unmap it. */
static void chunk_release(struct msg_chunk *c)
{
	struct msg_pool *p = c->pool;
	if (p) {
		pthread_mutex_lock(&p->mu);
		if (p->n_spare < SPARE_CHUNKS) {
			c->next = p->spare;
			p->spare = c;
			p->n_spare++;
			c = NULL;
		}
		pthread_mutex_unlock(&p->mu);
	}
	if (c)
		munmap(c, CHUNK_SIZE);
}

static void chunk_unref(struct msg_chunk *c)
{
	if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
		chunk_release(c);
}

void msg_pool_init(struct msg_pool *p)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
}

void msg_pool_destroy(struct msg_pool *p)
{
	struct msg_chunk *c = p->cur;
	p->cur = NULL;
	if (c) {
		c->pool = NULL;   /* unmapped with its last message, not kept */
		chunk_unref(c);
	}
	pthread_mutex_lock(&p->mu);
	struct msg_chunk *spare = p->spare;
	p->spare = NULL;
	p->n_spare = 0;
	pthread_mutex_unlock(&p->mu);
	while (spare) {
		struct msg_chunk *next = spare->next;
		munmap(spare, CHUNK_SIZE);
		spare = next;
	}
	pthread_mutex_destroy(&p->mu);
}

struct msg *msg_new(struct msg_pool *p, const void *data, size_t len)
{
	struct iovec part = { (void *)data, len };
	return msg_new_parts(p, &part, 1, false);
}

/* The parts one after the other at d (8-byte aligned, room rounded up to
 * 8). cold: with stores that go around the cache, so that a backlog
 * nobody reads soon does not push the packet threads' data out of the
 * cache the cores share. */
static void copy_parts(char *d, const struct iovec *parts, int n, size_t len, bool cold)
{
#if defined(__x86_64__)
	static _Thread_local uint64_t tmp[1024];
	if (cold && len <= sizeof(tmp)) {
		char *t = (char *)tmp;
		for (int i = 0; i < n; i++) {
			memcpy(t, parts[i].iov_base, parts[i].iov_len);
			t += parts[i].iov_len;
		}
		long long *dst = (long long *)(void *)d;
		for (size_t i = 0; i < (len + 7) / 8; i++)
			_mm_stream_si64(dst + i, (long long)tmp[i]);
		_mm_sfence();
		return;
	}
#else
	(void)len;
	(void)cold;
#endif
	for (int i = 0; i < n; i++) {
		memcpy(d, parts[i].iov_base, parts[i].iov_len);
		d += parts[i].iov_len;
	}
}

struct msg *msg_new_parts(struct msg_pool *p, const struct iovec *parts, int n, bool cold)
{
	size_t len = 0;
	for (int i = 0; i < n; i++)
		len += parts[i].iov_len;
	size_t need = (sizeof(struct msg) + len + 15) & ~(size_t)15;
	struct msg *m;
	if (len > MSG_OWN) {
		m = malloc(sizeof(*m) + len);
		if (!m)
			return NULL;
		m->chunk = NULL;
	} else {
		if (!p->cur || p->used + need > CHUNK_SIZE) {
			pthread_mutex_lock(&p->mu);
			struct msg_chunk *c = p->spare;
			if (c) {
				p->spare = c->next;
				p->n_spare--;
			}
			pthread_mutex_unlock(&p->mu);
			if (!c && !(c = chunk_map()))
				return NULL;
			atomic_init(&c->refs, 1);
			c->pool = p;
			if (p->cur)
				chunk_unref(p->cur);
			p->cur = c;
			p->used = CHUNK_HDR;
		}
		m = (struct msg *)((char *)p->cur + p->used);
		p->used += need;
		m->chunk = p->cur;
		atomic_fetch_add_explicit(&p->cur->refs, 1, memory_order_relaxed);
	}
	m->next = NULL;
	m->len = (uint32_t)len;
	copy_parts(m->data, parts, n, len, cold && m->chunk);
	return m;
}

void msg_free(struct msg *m)
{
	if (!m)
		return;
	if (m->chunk)
		chunk_unref(m->chunk);
	else
		free(m);
}

void msgq_push(struct msgq *q, struct msg *m)
{
	m->next = NULL;
	if (q->tail)
		q->tail->next = m;
	else
		q->head = m;
	q->tail = m;
	q->count++;
	q->bytes += m->len;
}

struct msg *msgq_pop(struct msgq *q)
{
	struct msg *m = q->head;
	if (!m)
		return NULL;
	q->head = m->next;
	if (!q->head)
		q->tail = NULL;
	q->count--;
	q->bytes -= m->len;
	m->next = NULL;
	return m;
}

void msgq_prepend(struct msgq *q, struct msgq *front)
{
	if (!front->head)
		return;
	front->tail->next = q->head;
	if (!q->tail)
		q->tail = front->tail;
	q->head = front->head;
	q->count += front->count;
	q->bytes += front->bytes;
	memset(front, 0, sizeof(*front));
}

void msgq_clear(struct msgq *q)
{
	struct msg *m;
	while ((m = msgq_pop(q)))
		msg_free(m);
}

/* ---- specs ----------------------------------------------------------------- */

static bool split_host_port(const char *hp, struct sink_spec *o, char *err, size_t errlen)
{
	const char *colon;
	size_t hlen;
	if (hp[0] == '[') {
		const char *close = strchr(hp, ']');
		if (!close || close[1] != ':') {
			snprintf(err, errlen, "'%s': expected [ADDRESS]:PORT", hp);
			return false;
		}
		hlen = (size_t)(close - hp - 1);
		memcpy(o->target, hp + 1, hlen < sizeof(o->target) ? hlen : 0);
		colon = close + 1;
	} else {
		colon = strrchr(hp, ':');
		if (!colon || colon == hp) {
			snprintf(err, errlen, "'%s': expected HOST:PORT", hp);
			return false;
		}
		hlen = (size_t)(colon - hp);
		if (hlen >= sizeof(o->target)) {
			snprintf(err, errlen, "host name too long");
			return false;
		}
		memcpy(o->target, hp, hlen);
	}
	if (hlen == 0 || hlen >= sizeof(o->target)) {
		snprintf(err, errlen, "'%s': no host", hp);
		return false;
	}
	o->target[hlen] = '\0';
	const char *port = colon + 1;
	char *end;
	errno = 0;
	long p = strtol(port, &end, 10);
	if (!*port || *end || p < 1 || p > 65535 || errno) {
		snprintf(err, errlen, "'%s': port must be 1-65535", port);
		return false;
	}
	snprintf(o->port, sizeof(o->port), "%ld", p);
	return true;
}

static bool set_option(struct sink_spec *o, const char *key, const char *val, char *err,
		       size_t errlen)
{
	bool syslog = o->kind != SINK_FILE;
	bool stream = o->kind == SINK_TCP || o->kind == SINK_TLS;
	if (strcmp(key, "format") == 0) {
		if (!format_parse(val, &o->format)) {
			snprintf(err, errlen, "format=%s: not one of json, ecs, cef, leef", val);
			return false;
		}
		return true;
	}
	if (syslog && strcmp(key, "rfc") == 0) {
		if (strcmp(val, "5424") == 0)
			o->rfc = SYSLOG_5424;
		else if (strcmp(val, "3164") == 0)
			o->rfc = SYSLOG_3164;
		else {
			snprintf(err, errlen, "rfc=%s: not 5424 or 3164", val);
			return false;
		}
		return true;
	}
	if (stream && strcmp(key, "framing") == 0) {
		if (strcmp(val, "octet") == 0)
			o->framing = FRAMING_OCTET;
		else if (strcmp(val, "lf") == 0)
			o->framing = FRAMING_LF;
		else {
			snprintf(err, errlen, "framing=%s: not octet or lf", val);
			return false;
		}
		return true;
	}
	char *dst = NULL;
	if (o->kind == SINK_TLS && strcmp(key, "ca") == 0)
		dst = o->ca;
	else if (o->kind == SINK_TLS && strcmp(key, "cert") == 0)
		dst = o->cert;
	else if (o->kind == SINK_TLS && strcmp(key, "key") == 0)
		dst = o->key;
	if (dst) {
		if (strlen(val) >= sizeof(o->ca)) {
			snprintf(err, errlen, "%s=: path too long", key);
			return false;
		}
		strcpy(dst, val);
		return true;
	}
	snprintf(err, errlen, "option '%s' does not apply to this sink", key);
	return false;
}

bool sink_parse(const char *spec, const char *format, struct sink_spec *o, char *err,
		size_t errlen)
{
	memset(o, 0, sizeof(*o));
	o->format = FORMAT_JSON;
	o->rfc = SYSLOG_5424;
	if (format && format[0] && !format_parse(format, &o->format)) {
		snprintf(err, errlen, "format '%s' is not one of json, ecs, cef, leef", format);
		return false;
	}
	char text[1024];
	if (strlen(spec) >= sizeof(text)) {
		snprintf(err, errlen, "output spec too long");
		return false;
	}
	strcpy(text, spec);
	char *opts = NULL;
	/* Options follow the first comma; a json path holding a comma needs
	 * none of them, so json:PATH is split only at ",format=". */
	if (strncmp(text, "json:", 5) == 0 || strcmp(text, "-") == 0) {
		char *f = strstr(text, ",format=");
		if (f) {
			*f = '\0';
			opts = f + 1;
		}
	} else {
		char *c = strchr(text, ',');
		if (c) {
			*c = '\0';
			opts = c + 1;
		}
	}
	const char *rest;
	if (strcmp(text, "-") == 0 || strncmp(text, "json:", 5) == 0) {
		o->kind = SINK_FILE;
		rest = text[0] == '-' ? "-" : text + 5;
		if (!rest[0]) {
			snprintf(err, errlen, "output '%s' names no file", spec);
			return false;
		}
		if (strlen(rest) >= sizeof(o->target)) {
			snprintf(err, errlen, "path too long");
			return false;
		}
		strcpy(o->target, rest);
	} else if (strncmp(text, "syslog:", 7) == 0) {
		const char *t = text + 7;
		static const struct { const char *pfx; enum sink_kind kind; } kinds[] = {
			{ "udp://", SINK_UDP }, { "tcp://", SINK_TCP }, { "tls://", SINK_TLS },
			{ "relp://", SINK_RELP }, { "unix:", SINK_UNIX },
		};
		size_t i = 0;
		while (i < 5 && strncmp(t, kinds[i].pfx, strlen(kinds[i].pfx)) != 0)
			i++;
		if (i == 5) {
			snprintf(err, errlen,
				 "'%s': use syslog:udp://HOST:PORT, syslog:tcp://HOST:PORT, "
				 "syslog:tls://HOST:PORT, syslog:relp://HOST:PORT or syslog:unix:PATH",
				 spec);
			return false;
		}
		o->kind = kinds[i].kind;
		rest = t + strlen(kinds[i].pfx);
		if (o->kind == SINK_UNIX) {
			if (!rest[0] || strlen(rest) >= 108) {
				snprintf(err, errlen, "'%s': a socket path of 1-107 characters", spec);
				return false;
			}
			strcpy(o->target, rest);
		} else if (!split_host_port(rest, o, err, errlen)) {
			return false;
		}
		o->framing = (o->kind == SINK_TCP || o->kind == SINK_TLS) ? FRAMING_OCTET
									  : FRAMING_NONE;
	} else {
		snprintf(err, errlen,
			 "unsupported output '%s' (use json:PATH, json:-, or syslog:udp|tcp|tls|relp://"
			 "HOST:PORT, syslog:unix:PATH)",
			 spec);
		return false;
	}
	while (opts && *opts) {
		char *next = o->kind == SINK_FILE ? NULL : strchr(opts, ',');
		if (next)
			*next++ = '\0';
		char *eq = strchr(opts, '=');
		if (!eq || eq == opts) {
			snprintf(err, errlen, "option '%s': expected key=value", opts);
			return false;
		}
		*eq = '\0';
		if (!set_option(o, opts, eq + 1, err, errlen))
			return false;
		opts = next;
	}
	return true;
}

/* ---- the sink and its backlog --------------------------------------------- */

void sink_log(const struct sink *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "applemon: output %s: %s\n", s->spec_text, msg);
}

struct sink *sink_new(const char *spec, const char *format, const char *name,
		      const char *sensor, char *err, size_t errlen)
{
	struct sink *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!sink_parse(spec, format, &s->spec, err, errlen)) {
		free(s);
		return NULL;
	}
	snprintf(s->spec_text, sizeof(s->spec_text), "%s", spec);
	snprintf(s->name, sizeof(s->name), "%s", name ? name : "cli");
	s->syslog.rfc = s->spec.rfc;
	s->syslog.facility = SYSLOG_FACILITY_LOCAL0;
	s->syslog.hostname = sensor;
	s->syslog.pid = (int)getpid();
	switch (s->spec.kind) {
	case SINK_FILE: s->ops = &sink_file_ops; break;
	case SINK_UDP: s->ops = &sink_udp_ops; break;
	case SINK_TCP:
	case SINK_TLS: s->ops = &sink_stream_ops; break;
	case SINK_UNIX: s->ops = &sink_unix_ops; break;
	case SINK_RELP: s->ops = &sink_relp_ops; break;
	}
	sb_init(&s->scratch);
	msg_pool_init(&s->pool);
	return s;
}

/* The spool file's name: the spec with anything but [A-Za-z0-9._-] as _. */
static void spool_name(const struct sink *s, char *out, size_t size)
{
	char clean[200];
	size_t n = 0;
	for (const char *p = s->spec_text; *p && n < sizeof(clean) - 1; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '.' || c == '-';
		clean[n++] = ok ? c : '_';
	}
	clean[n] = '\0';
	snprintf(out, size, "%s/%s.spool", s->lim.spool_dir, clean);
}

bool sink_start(struct sink *s, struct event_base *base, struct delivery *d,
		const struct sink_limits *lim, char *err, size_t errlen)
{
	s->base = base;
	s->d = d;
	s->lim = *lim;
	if (s->spec.kind != SINK_FILE && s->spec.kind != SINK_UDP && lim->spool_dir[0] &&
	    lim->spool_size) {
		char path[1024];
		spool_name(s, path, sizeof(path));
		mkdir(lim->spool_dir, 0700);
		s->spool = spool_open(path, lim->spool_size, err, errlen);
		if (!s->spool)
			return false;
		if (spool_pending(s->spool))
			sink_log(s, "%llu messages from an earlier run wait in %s",
				 (unsigned long long)spool_pending(s->spool), path);
	}
	if (s->lim.memory == 0)
		s->lim.memory = s->spool ? SINK_MEMORY_SPOOLED : SINK_MEMORY_ALONE;
	sink_update_gauges(s);
	return s->ops->start(s, err, errlen);
}

void sink_free(struct sink *s)
{
	if (!s)
		return;
	msgq_clear(&s->mem);
	msg_pool_destroy(&s->pool);
	spool_close(s->spool);
	sb_free(&s->scratch);
	free(s);
}

void sink_update_gauges(struct sink *s)
{
	atomic_store_explicit(&s->c.queued, s->mem.count + s->unconfirmed, memory_order_relaxed);
	atomic_store_explicit(&s->c.spool_now, s->spool ? spool_pending(s->spool) : 0,
			      memory_order_relaxed);
}

static void count(atomic_uint_fast64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static void dropped(struct sink *s, uint64_t n, const char *why)
{
	count(&s->c.dropped, n);
	if (!s->drop_logged) {
		sink_log(s, "dropping alerts: %s (counted in the sink's dropped counter; "
			    "logged once until delivery resumes)", why);
		s->drop_logged = true;
	}
}

/* Messages the spool accepted and then lost (a failed write, a damaged
 * file) are drops like any other. */
static void spool_losses(struct sink *s)
{
	uint64_t n = s->spool ? spool_take_lost(s->spool) : 0;
	if (n) {
		count(&s->c.errors, 1);
		dropped(s, n, "writing or reading the spool failed");
	}
}

void sink_spool_flush(struct sink *s)
{
	if (!s->spool)
		return;
	spool_flush(s->spool);
	spool_losses(s);
	sink_update_gauges(s);
}

void sink_enqueue(struct sink *s, const char *data, size_t len)
{
	struct iovec part = { (void *)data, len };
	sink_enqueue_parts(s, &part, 1);
}

void sink_enqueue_parts(struct sink *s, const struct iovec *parts, int n)
{
	size_t len = 0;
	for (int i = 0; i < n; i++)
		len += parts[i].iov_len;
	bool to_disk = s->spool && (spool_pending(s->spool) > 0 ||
				    s->mem.bytes + len > s->lim.memory);
	if (to_disk) {
		if (spool_append_parts(s->spool, parts, n))
			count(&s->c.spooled, 1);
		else
			dropped(s, 1, "the spool is full");
		spool_losses(s);
	} else if (s->mem.bytes + len > s->lim.memory && s->mem.count > 0) {
		dropped(s, 1, s->spool ? "the spool is full" : "memory bound reached, no spool");
	} else {
		/* Much waiting already: this one will not be read soon. */
		bool cold = s->mem.bytes >= COLD_BACKLOG;
		struct msg *m = msg_new_parts(&s->pool, parts, n, cold);
		if (m)
			msgq_push(&s->mem, m);
		else
			dropped(s, 1, "out of memory");
	}
	sink_update_gauges(s);
}

/* Moves spooled messages into memory while there is room, oldest first:
 * everything on disk is newer than everything in memory. */
static void refill(struct sink *s)
{
	if (!s->spool || spool_pending(s->spool) == 0)
		return;
	uint64_t room = s->lim.memory / 2;
	bool moved = false;
	while (spool_pending(s->spool) > 0 && s->mem.bytes < room) {
		if (!spool_read(s->spool, &s->scratch))
			break;
		struct msg *m = msg_new(&s->pool, s->scratch.buf, s->scratch.len);
		if (!m)
			break;
		msgq_push(&s->mem, m);
		moved = true;
	}
	if (moved)
		spool_commit(s->spool);
	spool_losses(s);
}

struct msg *sink_next(struct sink *s)
{
	if (!s->mem.head)
		refill(s);
	struct msg *m = msgq_pop(&s->mem);
	if (m)
		s->unconfirmed++;
	return m;
}

bool sink_has_waiting(const struct sink *s)
{
	return s->mem.count > 0 || (s->spool && spool_pending(s->spool) > 0);
}

void sink_requeue(struct sink *s, struct msgq *unconfirmed, bool resend)
{
	uint64_t n = unconfirmed->count;
	if (resend)
		count(&s->c.resent, n);
	s->unconfirmed -= n < s->unconfirmed ? n : s->unconfirmed;
	msgq_prepend(&s->mem, unconfirmed);
	sink_update_gauges(s);
}

void sink_putback(struct sink *s, struct msg *m)
{
	struct msgq one = { 0 };
	msgq_push(&one, m);
	msgq_prepend(&s->mem, &one);
	if (s->unconfirmed)
		s->unconfirmed--;
}

void sink_confirmed(struct sink *s, uint64_t n)
{
	count(&s->c.delivered, n);
	s->unconfirmed -= n < s->unconfirmed ? n : s->unconfirmed;
	if (n)
		s->drop_logged = false;
}

void sink_save_leftovers(struct sink *s)
{
	if (s->mem.count == 0)
		return;
	uint64_t n = s->mem.count;
	if (s->spool) {
		sink_spool_flush(s);   /* earlier losses are counted apart from these */
		uint64_t saved = 0;
		/* Older than what the spool holds, if it holds anything: they go
		 * before it, in order. */
		const void **data = NULL;
		size_t *lens = NULL;
		if (spool_pending(s->spool) > 0) {
			data = malloc(n * sizeof(*data));
			lens = malloc(n * sizeof(*lens));
		}
		if (data && lens) {
			size_t i = 0;
			for (struct msg *m = s->mem.head; m; m = m->next, i++) {
				data[i] = m->data;
				lens[i] = m->len;
			}
			size_t k = spool_prepend(s->spool, data, lens, n);
			for (size_t j = 0; j < k; j++)
				msg_free(msgq_pop(&s->mem));
			saved = k;
			/* The rest did not fit: appended they would be out of
			 * order, and the spool is full anyway - unless the
			 * prepend failed on an I/O error (k == 0): then they
			 * go after it below, kept if out of order. */
			if (k > 0 && s->mem.count) {
				uint64_t rest = s->mem.count;
				msgq_clear(&s->mem);
				dropped(s, rest, "the spool is full");
				n -= rest;
			}
		}
		free(data);
		free(lens);
		struct msg *m;
		while ((m = msgq_pop(&s->mem))) {
			if (spool_append(s->spool, m->data, m->len))
				saved++;
			msg_free(m);
		}
		spool_commit(s->spool);
		uint64_t lost = spool_take_lost(s->spool);
		if (lost > saved)
			lost = saved;
		saved -= lost;
		count(&s->c.spooled, saved);
		if (saved)
			sink_log(s, "%llu messages not delivered in time are kept in %s for the next run",
				 (unsigned long long)saved, spool_path(s->spool));
		if (lost) {
			count(&s->c.errors, 1);
			dropped(s, lost, "writing the spool failed");
		}
		if (saved + lost < n)
			dropped(s, n - saved - lost, "the spool is full");
	} else {
		msgq_clear(&s->mem);
		dropped(s, n, "not delivered before the flush deadline, and no spool");
		sink_log(s, "%llu messages not delivered before the flush deadline were dropped",
			 (unsigned long long)n);
	}
	sink_update_gauges(s);
}
