/* suppress.c - (host, service) -> when the last alert went out.
 *
 * Open addressing with linear probing over a power-of-two array. Entries
 * are never deleted one by one; when the table passes three quarters full,
 * it is rebuilt keeping only entries still inside their interval (and
 * those holding a count not yet carried, until their pair alerts again or
 * the count grows stale after ten intervals), twice as large when what is
 * kept would still fill it past half, up to the capacity. It starts small:
 * a few thousand watched hosts is the common case, and every page of a
 * table sized for the worst case is a page fault the first time an alert
 * hashes into it. */
#include "suppress.h"

#include <stdlib.h>
#include <string.h>

struct entry {
	struct ip_addr host;
	uint64_t last_sent_usec;
	uint32_t pending;            /* suppressed since last_sent */
	uint8_t service;
	bool used;
};

#define FIRST_SLOTS 1024

struct suppressor {
	struct entry *slots;
	uint32_t mask, used;
	uint32_t max_slots;          /* the table never grows past this */
	uint64_t interval_usec;
	struct suppressor_stats stats;
};

struct suppressor *suppressor_new(uint32_t interval_secs, uint32_t capacity)
{
	struct suppressor *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	uint32_t max = 64;
	while (max < capacity && max < (1u << 26))
		max <<= 1;
	uint32_t n = max < FIRST_SLOTS ? max : FIRST_SLOTS;
	s->slots = calloc(n, sizeof(*s->slots));
	if (!s->slots) {
		free(s);
		return NULL;
	}
	s->mask = n - 1;
	s->max_slots = max;
	s->interval_usec = (uint64_t)interval_secs * 1000000u;
	return s;
}

void suppressor_free(struct suppressor *s)
{
	if (!s)
		return;
	free(s->slots);
	free(s);
}

static uint32_t slot_of(const struct suppressor *s, const struct ip_addr *h, uint8_t service)
{
	return (addr_hash(h, 0x243f6a88u) ^ (service * 0x9e3779b1u)) & s->mask;
}

static struct entry *probe(struct suppressor *s, const struct ip_addr *h, uint8_t service)
{
	uint32_t i = slot_of(s, h, service);
	for (;;) {
		struct entry *e = &s->slots[i];
		if (!e->used || (e->service == service && addr_eq(&e->host, h)))
			return e;
		i = (i + 1) & s->mask;
	}
}

static bool still_needed(const struct suppressor *s, const struct entry *e, uint64_t now)
{
	uint64_t keep = e->pending ? 10 * s->interval_usec : s->interval_usec;
	return e->last_sent_usec + keep > now;
}

/* Rebuild keeping live entries only, in a table twice as large when they
 * would fill more than half of the present one (and it may grow). */
static void sweep(struct suppressor *s, uint64_t now)
{
	uint32_t old_n = s->mask + 1, live = 0;
	struct entry *old = s->slots;
	for (uint32_t i = 0; i < old_n; i++)
		if (old[i].used && still_needed(s, &old[i], now))
			live++;
	uint32_t n = old_n;
	if (live + 1 > n / 2 && n < s->max_slots)
		n *= 2;
	struct entry *fresh = calloc(n, sizeof(*fresh));
	if (!fresh)
		return;
	s->slots = fresh;
	s->mask = n - 1;
	s->used = 0;
	for (uint32_t i = 0; i < old_n; i++) {
		if (!old[i].used || !still_needed(s, &old[i], now))
			continue;
		*probe(s, &old[i].host, old[i].service) = old[i];
		s->used++;
	}
	free(old);
}

bool suppressor_admit(struct suppressor *s, const struct ip_addr *host, uint8_t service,
		      uint64_t now_usec, uint32_t *carried)
{
	*carried = 0;
	if (s->interval_usec == 0) {
		s->stats.admitted++;
		return true;
	}
	struct entry *e = probe(s, host, service);
	if (e->used) {
		if (now_usec < e->last_sent_usec + s->interval_usec) {
			e->pending++;
			s->stats.suppressed++;
			return false;
		}
		*carried = e->pending;
		e->pending = 0;
		e->last_sent_usec = now_usec;
		s->stats.admitted++;
		return true;
	}
	if (s->used + 1 > (s->mask + 1) / 4 * 3) {
		sweep(s, now_usec);
		if (s->used + 1 > (s->mask + 1) / 4 * 3) {
			s->stats.table_full++;
			s->stats.admitted++;
			return true;
		}
		e = probe(s, host, service);
	}
	e->used = true;
	e->host = *host;
	e->service = service;
	e->pending = 0;
	e->last_sent_usec = now_usec;
	s->used++;
	s->stats.admitted++;
	return true;
}

void suppressor_get_stats(const struct suppressor *s, struct suppressor_stats *st)
{
	*st = s->stats;
}
