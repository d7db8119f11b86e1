/* sink.h - one place alerts go, as the delivery loop sees it.
 *
 * A sink has a spec (parsed by sink_parse), a body format, a transport
 * (sink_ops) and a backlog: messages wait in memory, in order, up to a
 * bound; past it, and while older messages are still on disk, they go to
 * the sink's spool file; past the spool's size they are dropped, counted
 * and logged. The transport takes messages from the head of the backlog
 * with sink_next() when it can send, and gives back the ones it could not
 * confirm with sink_requeue(), so they go again first.
 *
 * Everything here runs on the delivery thread, except the counters, which
 * the status endpoint and the summary read (relaxed atomics). */
#ifndef APPLEMON_SINK_H
#define APPLEMON_SINK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "format.h"
#include "spool.h"
#include "syslog_frame.h"

struct event_base;
struct delivery;

enum sink_kind {
	SINK_FILE,        /* json:PATH, json:- */
	SINK_UDP, SINK_TCP, SINK_TLS, SINK_RELP, SINK_UNIX,
};

struct sink_spec {
	enum sink_kind kind;
	char target[512];            /* file path, unix socket path, or host */
	char port[16];
	enum msg_format format;
	enum syslog_rfc rfc;
	enum syslog_framing framing; /* stream transports */
	char ca[512], cert[512], key[512];   /* TLS */
};

/* Parses "TYPE:TARGET[,key=value...]"; `format` (from [output] format, may
 * be NULL) applies unless the spec names its own. */
bool sink_parse(const char *spec, const char *format, struct sink_spec *out, char *err,
		size_t errlen);

struct msg_chunk;

struct msg {
	struct msg *next;
	struct msg_chunk *chunk;     /* where it lives; NULL: its own allocation */
	uint32_t len;
	char data[];                 /* exactly the bytes the transport writes */
};

/* Where a sink's messages are allocated: one after the other in chunks of
 * 2 MiB (transparent huge pages where the kernel allows), since a backlog
 * is first in, first out. A chunk is given back once every message in it
 * is freed; one emptied chunk is kept for reuse. A message of more than
 * 64 KiB gets an allocation of its own. Once 1 MiB waits (the receiver
 * is not keeping up), messages are written with non-temporal stores, so
 * that a growing backlog does not evict the packet threads' data from
 * the shared cache. Messages are made on the delivery
 * thread and may be freed on any (the RELP thread frees those it sent). */
struct msg_pool {
	pthread_mutex_t mu;          /* spare, n_spare */
	struct msg_chunk *cur;       /* being filled (delivery thread) */
	size_t used;
	struct msg_chunk *spare;     /* emptied chunks kept for reuse, a list */
	unsigned n_spare;
};

struct msgq {
	struct msg *head, *tail;
	uint64_t count, bytes;
};

void msgq_push(struct msgq *q, struct msg *m);
struct msg *msgq_pop(struct msgq *q);
void msgq_prepend(struct msgq *q, struct msgq *front);   /* front goes first; front emptied */
void msgq_clear(struct msgq *q);           /* frees the messages */
void msg_pool_init(struct msg_pool *p);
/* Every message of the pool must have been freed. */
void msg_pool_destroy(struct msg_pool *p);
struct msg *msg_new(struct msg_pool *p, const void *data, size_t len);
/* One message of the n parts one after the other. cold: it will not be
 * read soon (a backlog): written around the cache where the CPU can. */
struct msg *msg_new_parts(struct msg_pool *p, const struct iovec *parts, int n, bool cold);
void msg_free(struct msg *m);

struct sink_counters {
	atomic_uint_fast64_t delivered;   /* confirmed sent (file written, peer TCP acked, RELP acked) */
	atomic_uint_fast64_t spooled;     /* ever written to the spool */
	atomic_uint_fast64_t dropped;     /* lost: no room left, or a datagram that failed */
	atomic_uint_fast64_t resent;      /* sent again after a broken connection */
	atomic_uint_fast64_t errors;      /* failed connects, writes */
	atomic_uint_fast64_t queued;      /* now waiting in memory (incl. unconfirmed) */
	atomic_uint_fast64_t spool_now;   /* now waiting on disk */
	atomic_int connected;
};

struct sink;

struct sink_ops {
	bool (*start)(struct sink *s, char *err, size_t errlen);
	void (*kick)(struct sink *s);           /* messages wait: send what the transport takes */
	bool (*idle)(struct sink *s);           /* nothing waits on the transport */
	void (*tick)(struct sink *s);           /* every 100 ms */
	void (*reopen)(struct sink *s);         /* SIGHUP */
	void (*stop)(struct sink *s);           /* close; keep what was not confirmed queued */
};

/* What waits in memory by default: with a spool, a cushion in front of it
 * (writing to the spool is writing to the page cache, as fast as memory,
 * while a backlog that grows in memory takes fresh pages, each a page
 * fault); without one, all there is. */
#define SINK_MEMORY_SPOOLED ((uint64_t)4 << 20)
#define SINK_MEMORY_ALONE ((uint64_t)64 << 20)

struct sink_limits {
	uint64_t memory;             /* bytes waiting in memory at most; 0: the default above */
	uint64_t spool_size;         /* bytes on disk at most (0: no spool) */
	char spool_dir[512];         /* "" : no spool */
	uint32_t reconnect_max_ms;
};

struct sink {
	char spec_text[512];
	char name[64];
	struct sink_spec spec;
	struct syslog_opts syslog;
	const struct sink_ops *ops;
	void *impl;
	struct event_base *base;
	struct delivery *d;
	struct sink_limits lim;

	struct msg_pool pool;
	struct msgq mem;
	uint64_t unconfirmed;         /* taken by the transport, not yet confirmed */
	struct spool *spool;
	bool drop_logged;
	struct strbuf scratch;
	struct sink_counters c;
};

/* Creates the sink (not started). */
struct sink *sink_new(const char *spec, const char *format, const char *name,
		      const char *sensor, char *err, size_t errlen);
bool sink_start(struct sink *s, struct event_base *base, struct delivery *d,
		const struct sink_limits *lim, char *err, size_t errlen);
void sink_free(struct sink *s);

/* Hands a message to the sink's backlog. */
void sink_enqueue(struct sink *s, const char *data, size_t len);
/* The same for a message of n parts (prefix, header, body, ...), copied
 * once, into the backlog. */
void sink_enqueue_parts(struct sink *s, const struct iovec *parts, int n);
/* The oldest waiting message, refilled from the spool; NULL when none.
 * The caller owns it: free it once confirmed, or sink_requeue() it. */
struct msg *sink_next(struct sink *s);
/* resend: they go out again (counted as resent); else they are only kept. */
void sink_requeue(struct sink *s, struct msgq *unconfirmed, bool resend);
/* Gives back one message the transport could not take now (no resend). */
void sink_putback(struct sink *s, struct msg *m);
void sink_confirmed(struct sink *s, uint64_t n);
void sink_update_gauges(struct sink *s);
bool sink_has_waiting(const struct sink *s);
/* At shutdown: what still waits in memory goes to the spool if it can,
 * ahead of what the spool holds (it is older), else is dropped (counted
 * and logged). */
void sink_save_leftovers(struct sink *s);
/* Writes what the spool buffers (every 100 ms); a failed write is counted
 * as dropped. */
void sink_spool_flush(struct sink *s);
void sink_log(const struct sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Transports. */
extern const struct sink_ops sink_file_ops, sink_udp_ops, sink_stream_ops, sink_unix_ops,
	sink_relp_ops;

/* The delivery loop's wakeup, callable from any thread (RELP worker). */
void delivery_wake(struct delivery *d);
uint32_t delivery_backoff_next(uint32_t current_ms, uint32_t max_ms);

#endif
