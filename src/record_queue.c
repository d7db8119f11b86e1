/* record_queue.c - bounded multi-producer, single-consumer record queue. */
#include "record_queue.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define FREE_KEEP 64          /* record buffers kept for reuse at most */

struct record_queue {
	pthread_mutex_t mu;
	pthread_cond_t not_full, handled_cv;
	struct record **slots;
	size_t cap, head, len;
	struct record *free_list[FREE_KEEP];
	size_t n_free;
	uint64_t pushed, handled, dropped;
	int waiting_producers;
	bool wake_pending, closed;
};

struct record_queue *rq_new(size_t capacity)
{
	struct record_queue *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->cap = capacity ? capacity : 1;
	q->slots = calloc(q->cap, sizeof(*q->slots));
	if (!q->slots) {
		free(q);
		return NULL;
	}
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->not_full, NULL);
	pthread_cond_init(&q->handled_cv, NULL);
	return q;
}

void rq_free(struct record_queue *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->len; i++)
		free(q->slots[(q->head + i) % q->cap]);
	for (size_t i = 0; i < q->n_free; i++)
		free(q->free_list[i]);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->not_full);
	pthread_cond_destroy(&q->handled_cv);
	free(q->slots);
	free(q);
}

bool rq_push(struct record_queue *q, const struct record *r, bool wait_if_full, bool *wake)
{
	*wake = false;
	pthread_mutex_lock(&q->mu);
	while (q->len == q->cap && wait_if_full && !q->closed) {
		q->waiting_producers++;
		pthread_cond_wait(&q->not_full, &q->mu);
		q->waiting_producers--;
	}
	if (q->len == q->cap || q->closed) {
		q->dropped++;
		pthread_mutex_unlock(&q->mu);
		return false;
	}
	struct record *buf = q->n_free ? q->free_list[--q->n_free] : malloc(sizeof(*buf));
	if (!buf) {
		q->dropped++;
		pthread_mutex_unlock(&q->mu);
		return false;
	}
	memcpy(buf, r, sizeof(*buf));
	q->slots[(q->head + q->len) % q->cap] = buf;
	q->len++;
	q->pushed++;
	if (!q->wake_pending) {
		q->wake_pending = true;
		*wake = true;
	}
	pthread_mutex_unlock(&q->mu);
	return true;
}

size_t rq_pop(struct record_queue *q, struct record **out, size_t max)
{
	pthread_mutex_lock(&q->mu);
	size_t n = 0;
	while (n < max && q->len > 0) {
		out[n++] = q->slots[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
	}
	if (q->len == 0)
		q->wake_pending = false;
	if (n && q->waiting_producers)
		pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->mu);
	return n;
}

void rq_done(struct record_queue *q, struct record **recs, size_t n)
{
	pthread_mutex_lock(&q->mu);
	size_t i = 0;
	for (; i < n && q->n_free < FREE_KEEP; i++)
		q->free_list[q->n_free++] = recs[i];
	q->handled += n;
	pthread_cond_broadcast(&q->handled_cv);
	pthread_mutex_unlock(&q->mu);
	for (; i < n; i++)
		free(recs[i]);
}

void rq_wait_handled(struct record_queue *q)
{
	pthread_mutex_lock(&q->mu);
	uint64_t target = q->pushed;
	while (q->handled < target)
		pthread_cond_wait(&q->handled_cv, &q->mu);
	pthread_mutex_unlock(&q->mu);
}

void rq_close(struct record_queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->mu);
}

bool rq_closed(struct record_queue *q)
{
	pthread_mutex_lock(&q->mu);
	bool c = q->closed;
	pthread_mutex_unlock(&q->mu);
	return c;
}

uint64_t rq_dropped(struct record_queue *q)
{
	pthread_mutex_lock(&q->mu);
	uint64_t d = q->dropped;
	pthread_mutex_unlock(&q->mu);
	return d;
}

size_t rq_length(struct record_queue *q)
{
	pthread_mutex_lock(&q->mu);
	size_t n = q->len;
	pthread_mutex_unlock(&q->mu);
	return n;
}
