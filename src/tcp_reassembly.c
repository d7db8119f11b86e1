/* tcp_reassembly.c - bounded, first-copy-wins reassembly of a client stream.
 *
 * The window is one allocation: room for its bytes plus a sorted list of the
 * [start, end) offsets (from base) that hold bytes, merged whenever two
 * touch, so the list has one entry per gap-separated piece. A window starts
 * with room for TCP_REASM_SMALL bytes and moves to one of TCP_REASM_WINDOW
 * bytes only when a segment reaches past that: held client bytes are nearly
 * always the first message's start (of 1,360 windows on the benchmark input,
 * none held more than 4 KiB), and every window's memory is memory the kernel
 * must find and zero first. Adding a segment
 * walks that list once: bytes that fall in a gap are copied, bytes that fall
 * on a held range are compared and left alone. Consuming shifts the bytes and
 * the offsets down; it happens once per parsed message, not per segment.
 * All offsets are computed from 32-bit sequence differences taken as signed,
 * which is what makes wraparound at 2^32 a non-event. */
#include "tcp_reassembly.h"

#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "slab.h"

struct range {
	uint32_t start, end;         /* offsets from base, end exclusive */
};

struct tcp_reasm_window {
	uint32_t n;                  /* ranges in use, sorted, disjoint, not touching */
	uint32_t cap;                /* bytes there is room for: SMALL or WINDOW */
	struct range r[TCP_REASM_RANGES];
	uint8_t bytes[];
};

struct tcp_reasm_pool {
	struct slab *small, *large;
};

static size_t window_size(uint32_t cap)
{
	return sizeof(struct tcp_reasm_window) + cap;
}

struct tcp_reasm_pool *tcp_reasm_pool_new(void)
{
	struct tcp_reasm_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->small = slab_new(window_size(TCP_REASM_SMALL));
	p->large = slab_new(window_size(TCP_REASM_WINDOW));
	if (!p->small || !p->large) {
		tcp_reasm_pool_free(p);
		return NULL;
	}
	return p;
}

void tcp_reasm_pool_free(struct tcp_reasm_pool *p)
{
	if (!p)
		return;
	slab_destroy(p->small);
	slab_destroy(p->large);
	free(p);
}

/* A window with room for cap bytes, from the pool or (pool NULL) malloc. */
static struct tcp_reasm_window *window_new(struct tcp_reasm_pool *pool, uint32_t cap)
{
	struct tcp_reasm_window *w;
	if (pool)
		w = slab_alloc(cap == TCP_REASM_SMALL ? pool->small : pool->large);
	else
		w = malloc(window_size(cap));
	if (w) {
		w->n = 0;
		w->cap = cap;
	}
	return w;
}

static void window_free(struct tcp_reasm_pool *pool, struct tcp_reasm_window *w)
{
	if (!w)
		return;
	if (pool)
		slab_free(w->cap == TCP_REASM_SMALL ? pool->small : pool->large, w);
	else
		free(w);
}

void tcp_reasm_start(struct tcp_reasm *r, uint32_t seq)
{
	if (r->started)
		return;
	r->started = true;
	r->base = seq;
}

bool tcp_reasm_in_order(const struct tcp_reasm *r, uint32_t seq, size_t len, size_t *skip)
{
	if (!r->started || (r->win && r->win->n > 0) || len == 0)
		return false;
	int32_t ahead = (int32_t)(seq - r->base);
	if (ahead > 0)
		return false;
	size_t old = (size_t)(-(int64_t)ahead);
	if (old >= len)
		return false;
	*skip = old;
	return true;
}

/* The window, with room for bytes up to offset `end`: made on first use,
 * moved to a large one when a small one is too small. */
static struct tcp_reasm_window *window_get(struct tcp_reasm *r, struct tcp_reasm_pool *pool,
					   uint32_t end)
{
	uint32_t cap = end <= TCP_REASM_SMALL ? TCP_REASM_SMALL : TCP_REASM_WINDOW;
	struct tcp_reasm_window *w = r->win;
	if (!w)
		return r->win = window_new(pool, cap);
	if (end <= w->cap)
		return w;
	struct tcp_reasm_window *big = window_new(pool, TCP_REASM_WINDOW);
	if (!big)
		return NULL;
	big->n = w->n;
	memcpy(big->r, w->r, w->n * sizeof(w->r[0]));
	if (w->n)
		memcpy(big->bytes, w->bytes, w->r[w->n - 1].end);
	window_free(pool, w);
	return r->win = big;
}

/* How many ranges the list would have once [s, e) is merged in. */
static uint32_t ranges_after_merge(const struct tcp_reasm_window *w, uint32_t s, uint32_t e)
{
	uint32_t touching = 0;
	for (uint32_t i = 0; i < w->n; i++)
		if (w->r[i].start <= e && w->r[i].end >= s)
			touching++;
	return w->n - touching + 1;
}

static void merge_range(struct tcp_reasm_window *w, uint32_t s, uint32_t e)
{
	struct range out[TCP_REASM_RANGES];
	uint32_t n = 0, i = 0;
	while (i < w->n && w->r[i].end < s)
		out[n++] = w->r[i++];
	struct range m = { s, e };
	while (i < w->n && w->r[i].start <= e) {
		if (w->r[i].start < m.start)
			m.start = w->r[i].start;
		if (w->r[i].end > m.end)
			m.end = w->r[i].end;
		i++;
	}
	out[n++] = m;
	while (i < w->n)
		out[n++] = w->r[i++];
	memcpy(w->r, out, n * sizeof(out[0]));
	w->n = n;
}

/* n bytes of the segment from offset off (the caller has checked they are
 * there; the cursor checks again). */
static const uint8_t *segment_bytes(const uint8_t *data, size_t len, size_t off, size_t n)
{
	struct cursor c = cur_make(data, len);
	cur_skip(&c, off);
	return cur_take(&c, n);
}

enum tcp_reasm_result tcp_reasm_add(struct tcp_reasm *r, uint32_t seq, const uint8_t *data,
				    size_t len, struct tcp_reasm_stats *st)
{
	return tcp_reasm_add_from(r, NULL, seq, data, len, st);
}

enum tcp_reasm_result tcp_reasm_add_from(struct tcp_reasm *r, struct tcp_reasm_pool *pool, uint32_t seq,
					 const uint8_t *data, size_t len,
					 struct tcp_reasm_stats *st)
{
	struct tcp_reasm_stats ignored;
	if (!st)
		st = &ignored;
	if (len == 0 || !data)
		return REASM_NOTHING_NEW;
	if (!r->started)
		tcp_reasm_start(r, seq);
	/* Clip to [base, base + window), in offsets from base. */
	int64_t from = (int32_t)(seq - r->base);
	int64_t to = from + (int64_t)len;
	size_t data_skip = 0;
	if (to <= 0) {
		st->duplicates++;
		return REASM_NOTHING_NEW;
	}
	if (from < 0) {
		data_skip = (size_t)(-from);
		from = 0;
	}
	if (from >= TCP_REASM_WINDOW) {
		st->beyond_window++;
		return REASM_REFUSED;
	}
	if (to > TCP_REASM_WINDOW) {
		st->beyond_window++;
		to = TCP_REASM_WINDOW;
	}
	uint32_t s = (uint32_t)from, e = (uint32_t)to;

	struct tcp_reasm_window *w = window_get(r, pool, e);
	if (!w)
		return REASM_REFUSED;
	if (ranges_after_merge(w, s, e) > TCP_REASM_RANGES) {
		st->too_fragmented++;
		return REASM_REFUSED;
	}

	/* Copy into the gaps, compare on the held ranges. */
	bool added = false, conflict = false;
	uint32_t pos = s;
	for (uint32_t i = 0; i < w->n && pos < e; i++) {
		const struct range *h = &w->r[i];
		if (h->end <= pos)
			continue;
		if (h->start >= e)
			break;
		if (h->start > pos) {
			memcpy(w->bytes + pos,
			       segment_bytes(data, len, data_skip + (pos - s), h->start - pos),
			       h->start - pos);
			added = true;
			pos = h->start;
		}
		uint32_t ov_end = h->end < e ? h->end : e;
		if (memcmp(w->bytes + pos,
			   segment_bytes(data, len, data_skip + (pos - s), ov_end - pos),
			   ov_end - pos) != 0)
			conflict = true;
		pos = ov_end;
	}
	if (pos < e) {
		memcpy(w->bytes + pos, segment_bytes(data, len, data_skip + (pos - s), e - pos),
		       e - pos);
		added = true;
	}
	if (conflict)
		st->conflicts++;
	if (!added) {
		st->duplicates++;
		return REASM_NOTHING_NEW;
	}
	merge_range(w, s, e);
	if (w->r[0].start > 0)
		st->out_of_order++;
	return REASM_ADDED;
}

size_t tcp_reasm_ready(const struct tcp_reasm *r, const uint8_t **data)
{
	const struct tcp_reasm_window *w = r->win;
	if (!w || w->n == 0 || w->r[0].start != 0) {
		*data = NULL;
		return 0;
	}
	*data = w->bytes;
	return w->r[0].end;
}

bool tcp_reasm_full(const struct tcp_reasm *r)
{
	const uint8_t *d;
	return tcp_reasm_ready(r, &d) >= TCP_REASM_WINDOW;
}

void tcp_reasm_consume(struct tcp_reasm *r, size_t n)
{
	struct tcp_reasm_window *w = r->win;
	if (!w || w->n == 0) {
		r->base += (uint32_t)n;
		return;
	}
	const uint8_t *d;
	size_t ready = tcp_reasm_ready(r, &d);
	if (n > ready)
		n = ready;
	if (n == 0)
		return;
	uint32_t k = (uint32_t)n;
	uint32_t last_end = w->r[w->n - 1].end;
	memmove(w->bytes, w->bytes + k, last_end - k);
	uint32_t out = 0;
	for (uint32_t i = 0; i < w->n; i++) {
		if (w->r[i].end <= k)
			continue;
		struct range m = { w->r[i].start > k ? w->r[i].start - k : 0, w->r[i].end - k };
		w->r[out++] = m;
	}
	w->n = out;
	r->base += k;
}

void tcp_reasm_release(struct tcp_reasm *r)
{
	tcp_reasm_release_to(r, NULL);
}

void tcp_reasm_release_to(struct tcp_reasm *r, struct tcp_reasm_pool *pool)
{
	window_free(pool, r->win);
	r->win = NULL;
}
