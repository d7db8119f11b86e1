/* record_queue.h - the bounded queue from packet processing to delivery.
 *
 * Several producers (capture workers) push copies of records; one consumer
 * (the delivery loop) pops them in batches. A push never waits on a sink:
 * when the queue is full it either drops the record (live capture, where
 * waiting would lose packets instead; counted) or, for a capture file,
 * waits for the delivery thread to format what it holds (reading a file
 * loses nothing by pausing). The producer that makes the queue non-empty
 * is told to wake the consumer, so a burst costs one wakeup.
 *
 * Records are copied into buffers taken from a free list, so memory grows
 * with how many records wait at once (usually a handful), not with the
 * queue's capacity; the consumer reads them in place and gives them back. */
#ifndef APPLEMON_RECORD_QUEUE_H
#define APPLEMON_RECORD_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct record_queue;

struct record_queue *rq_new(size_t capacity);
void rq_free(struct record_queue *q);

/* false when the record was dropped (full, or closed). *wake: the caller
 * must wake the consumer. */
bool rq_push(struct record_queue *q, const struct record *r, bool wait_if_full, bool *wake);
/* Consumer: up to max records, oldest first, lent until rq_done. When it
 * leaves the queue empty, the next push asks for a wakeup again. */
size_t rq_pop(struct record_queue *q, struct record **out, size_t max);
/* Consumer: the n records popped last are fully handled (given back). */
void rq_done(struct record_queue *q, struct record **recs, size_t n);
/* Producer: waits until everything pushed so far is handled. */
void rq_wait_handled(struct record_queue *q);
/* No more pushes (they are dropped); the consumer drains what is left. */
void rq_close(struct record_queue *q);
bool rq_closed(struct record_queue *q);
uint64_t rq_dropped(struct record_queue *q);
size_t rq_length(struct record_queue *q);

#endif
