/* record_queue.h - the bounded queue from packet processing to delivery.
 *
 * Several producers (capture workers) push records; one consumer (the
 * delivery loop) pops them in batches. A push never waits on a sink: when
 * the queue is full it either drops the record (live capture, where
 * waiting would lose packets instead; counted) or, for a capture file,
 * waits for the delivery thread to format what it holds (reading a file
 * loses nothing by pausing).
 *
 * A record crosses packed: the bytes of struct record with each string
 * field cut after its NUL and unused evidence and DNS entries left out
 * (a few hundred bytes instead of the struct's 7 KB); the consumer unpacks
 * it into a struct record of its own. Buffers come from a free list, so
 * memory grows with how many records wait at once, not with the queue's
 * capacity.
 *
 * Wake-ups: the consumer says, with each pop, whether it will look again by
 * itself (it got records, so more are likely: it polls again shortly) or
 * goes to sleep (the pop found nothing). A push asks its caller to wake the
 * consumer only when it sleeps, or when the queue has filled to a quarter
 * of its capacity (at most 256 records) since the last pop, so a steady
 * stream costs a wake-up per poll, not per record. */
#ifndef APPLEMON_RECORD_QUEUE_H
#define APPLEMON_RECORD_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct record_queue;

/* One packed record, lent by rq_pop until rq_done. */
struct rq_item {
	uint32_t len, cap;
	unsigned char data[];
};

struct record_queue *rq_new(size_t capacity);
void rq_free(struct record_queue *q);

/* false when the record was dropped (full, or closed). *wake: the caller
 * must wake the consumer. */
bool rq_push(struct record_queue *q, const struct record *r, bool wait_if_full, bool *wake);
/* Consumer: up to max records, oldest first, lent until rq_done. A pop that
 * returns 0 means the consumer sleeps: the next push asks for a wake-up.
 * One that returns more promises the consumer will pop again soon. */
size_t rq_pop(struct record_queue *q, struct rq_item **out, size_t max);
/* The record an item holds, into r (every field the record had). */
void rq_unpack(const struct rq_item *it, struct record *r);
/* Consumer: the n items popped last are fully handled (given back). */
void rq_done(struct record_queue *q, struct rq_item **items, size_t n);
/* Producer: waits until everything pushed so far is handled. */
void rq_wait_handled(struct record_queue *q);
/* No more pushes (they are dropped); the consumer drains what is left. */
void rq_close(struct record_queue *q);
bool rq_closed(struct record_queue *q);
uint64_t rq_dropped(struct record_queue *q);
size_t rq_length(struct record_queue *q);

/* The packed form on its own (for tests): bytes written to out, which
 * must hold RQ_PACKED_MAX. */
#define RQ_PACKED_MAX (sizeof(struct record) + 64)
size_t rq_pack(const struct record *r, unsigned char *out);
void rq_unpack_bytes(const unsigned char *in, size_t len, struct record *r);

#endif
