/* flow.c - bidirectional flow table with per-protocol idle lists.
 *
 * Costs: lookup is one hash of the tuple and a walk of a short chain,
 * comparing both orientations; touching a flow is O(1) (unlink, push to
 * the list head); expiry pops list tails while they are idle longer than
 * the list's timeout, so each flow is looked at once when it expires.
 *
 * The hash is symmetric (the two endpoints' hashes are added) and seeded
 * per table from the kernel's random source, so an attacker cannot aim
 * packets at one bucket. A lookup moves the flow to the head of its list
 * only when it is not there already: a run of packets of one flow costs
 * one relink. Flow ids are NOT seeded: they hash the
 * oriented tuple and the start time, so the same capture gives the same
 * ids in every run and with any number of workers. */
#include "flow.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "slab.h"


struct flow_table {
	struct flow **buckets;
	uint32_t mask;               /* buckets - 1 (power of two) */
	uint32_t max_flows;
	uint32_t seed;
	uint64_t timeout_usec[FLOW_LIST_COUNT];
	struct flow *head[FLOW_LIST_COUNT];
	struct flow *tail[FLOW_LIST_COUNT];
	struct slab *flows;          /* every flow of the table */
	size_t buckets_size;         /* bytes of the bucket array (huge_zalloc) */
	flow_release_fn release;
	void *ctx;
	struct flow_stats stats;
};

bool port_is_plainly_server(uint16_t port)
{
	switch (port) {
	case 21: case 22: case 25: case 53: case 67: case 80: case 110: case 123:
	case 143: case 443: case 465: case 587: case 853: case 993: case 995:
	case 2197: case 3478: case 5223: case 8080: case 8443:
		return true;
	default:
		return false;
	}
}

/* One endpoint (address and port), mixed with the table's seed. Inlined
 * into the lookup whatever the compiler thinks of the second caller. */
#define HOT_INLINE inline __attribute__((always_inline))

static HOT_INLINE uint64_t end_hash(const struct ip_addr *a, uint16_t port, uint64_t seed)
{
	uint64_t lo, hi;
	memcpy(&lo, a->b, 8);
	memcpy(&hi, a->b + 8, 8);
	uint64_t h = (lo ^ seed) * 0x9e3779b97f4a7c15ull;
	h = (h ^ (h >> 29) ^ hi ^ port) * 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 31);
}

/* Symmetric: the two endpoints' hashes are added, so both directions give
 * the same value without comparing the addresses. */
static HOT_INLINE uint32_t tuple_hash(const struct flow_table *t, const struct ip_addr *a,
				     uint16_t ap, const struct ip_addr *b, uint16_t bp, uint8_t proto)
{
	uint64_t seed = (uint64_t)t->seed << 32 | t->seed;
	uint64_t h = end_hash(a, ap, seed) + end_hash(b, bp, seed) + proto;
	h = (h ^ (h >> 32)) * 0x94d049bb133111ebull;
	return (uint32_t)(h >> 32);
}

static uint64_t fnv64(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* 53 bits so that JSON readers that use doubles keep it exact. */
static uint64_t make_flow_id(const struct flow_key *k, uint64_t start_usec)
{
	uint64_t h = 14695981039346656037ull;
	h = fnv64(h, k->cli.b, 16);
	h = fnv64(h, k->srv.b, 16);
	h = fnv64(h, &k->cli_port, 2);
	h = fnv64(h, &k->srv_port, 2);
	h = fnv64(h, &k->proto, 1);
	h = fnv64(h, &start_usec, 8);
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return h & ((1ull << 53) - 1);
}

uint64_t flow_id(const struct flow *f)
{
	return make_flow_id(&f->key, f->first_usec);
}

struct flow_table *flow_table_new(uint32_t max_flows, const struct flow_timeouts *to,
				  flow_release_fn release, void *ctx)
{
	if (max_flows == 0)
		return NULL;
	struct flow_table *t = line_zalloc(sizeof(*t));
	if (!t)
		return NULL;
	uint32_t nb = 1024;
	while (nb < max_flows && nb < (1u << 30))
		nb <<= 1;
	t->buckets_size = (size_t)nb * sizeof(*t->buckets);
	t->buckets = huge_zalloc(t->buckets_size);
	t->flows = slab_new(sizeof(struct flow));
	if (!t->buckets || !t->flows) {
		huge_free(t->buckets, t->buckets_size);
		slab_destroy(t->flows);
		free(t);
		return NULL;
	}
	t->mask = nb - 1;
	t->max_flows = max_flows;
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = 0x9e3779b9u;
	t->timeout_usec[FLOW_LIST_TCP] = (uint64_t)to->tcp * 1000000u;
	t->timeout_usec[FLOW_LIST_TCP_CLOSED] = (uint64_t)to->tcp_closed * 1000000u;
	t->timeout_usec[FLOW_LIST_UDP] = (uint64_t)to->udp * 1000000u;
	t->timeout_usec[FLOW_LIST_OTHER] = (uint64_t)to->other * 1000000u;
	t->release = release;
	t->ctx = ctx;
	return t;
}

static void list_unlink(struct flow_table *t, struct flow *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else
		t->head[f->list] = f->next;
	if (f->next)
		f->next->prev = f->prev;
	else
		t->tail[f->list] = f->prev;
	f->prev = f->next = NULL;
}

static void list_push_head(struct flow_table *t, struct flow *f, uint8_t list)
{
	f->list = list;
	f->prev = NULL;
	f->next = t->head[list];
	if (t->head[list])
		t->head[list]->prev = f;
	else
		t->tail[list] = f;
	t->head[list] = f;
}

static void bucket_unlink(struct flow_table *t, struct flow *f)
{
	uint32_t h = tuple_hash(t, &f->key.cli, f->key.cli_port, &f->key.srv, f->key.srv_port,
				f->key.proto);
	struct flow **pp = &t->buckets[h & t->mask];
	while (*pp && *pp != f)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = f->hnext;
	f->hnext = NULL;
}

static struct flow *flow_alloc(struct flow_table *t)
{
	return slab_zalloc(t->flows);
}

/* Takes the flow out of its list and its hash chain, hands it to the
 * release hook and frees it; at shutdown (flushing) the chain is left
 * alone: the whole bucket array is cleared after the last flow, which
 * spares walking a cold chain per flow. */
static void flow_take_out(struct flow_table *t, struct flow *f, enum flow_end_reason why,
			  bool flushing)
{
	/* A closed flow keeps the reason it closed for (fin/rst). */
	if (!(f->list == FLOW_LIST_TCP_CLOSED && why == FLOW_END_TIMEOUT && f->end_reason))
		f->end_reason = (uint8_t)why;
	if (!flushing)
		bucket_unlink(t, f);
	list_unlink(t, f);
	t->stats.ended[f->end_reason]++;
	t->stats.active--;
	if (t->release)
		t->release(t->ctx, f);
	f->info = NULL;
	slab_free(t->flows, f);
}

static void flow_remove(struct flow_table *t, struct flow *f, enum flow_end_reason why)
{
	flow_take_out(t, f, why, false);
}

/* Every flow's chain link is stale after a flush: start empty again. */
static void buckets_clear(struct flow_table *t)
{
	memset(t->buckets, 0, t->buckets_size);
}

void flow_end(struct flow_table *t, struct flow *f, enum flow_end_reason why)
{
	flow_remove(t, f, why);
}

/* The least recently seen flow over all lists. */
static struct flow *oldest_flow(const struct flow_table *t)
{
	struct flow *best = NULL;
	for (int l = 0; l < FLOW_LIST_COUNT; l++) {
		struct flow *f = t->tail[l];
		if (f && (!best || f->last_usec < best->last_usec))
			best = f;
	}
	return best;
}

static bool key_matches(const struct flow *f, const struct ip_addr *src, const struct ip_addr *dst,
			uint16_t sport, uint16_t dport, uint8_t proto, enum flow_dir *dir)
{
	const struct flow_key *k = &f->key;
	if (k->proto != proto)
		return false;
	if (k->cli_port == sport && k->srv_port == dport && addr_eq(&k->cli, src) &&
	    addr_eq(&k->srv, dst)) {
		*dir = DIR_TOSERVER;
		return true;
	}
	if (k->cli_port == dport && k->srv_port == sport && addr_eq(&k->cli, dst) &&
	    addr_eq(&k->srv, src)) {
		*dir = DIR_TOCLIENT;
		return true;
	}
	return false;
}

/* Decide who opened a flow from its first packet. */
static bool first_sender_is_server(uint8_t proto, uint16_t sport, uint16_t dport, uint8_t tcp_flags)
{
	if (proto == 6) {
		if ((tcp_flags & 0x12) == 0x02)      /* SYN without ACK: the opener */
			return false;
		if ((tcp_flags & 0x12) == 0x12)      /* SYN+ACK: the answerer */
			return true;
	}
	if (port_is_plainly_server(sport) && !port_is_plainly_server(dport))
		return true;
	if (sport < 1024 && dport >= 1024 && !port_is_plainly_server(dport))
		return true;
	return false;
}

static uint8_t list_for_proto(uint8_t proto)
{
	return proto == 6 ? FLOW_LIST_TCP : proto == 17 ? FLOW_LIST_UDP : FLOW_LIST_OTHER;
}

struct flow *flow_lookup(struct flow_table *t, const struct ip_addr *src, const struct ip_addr *dst,
			 uint16_t sport, uint16_t dport, uint8_t proto, uint8_t tcp_flags,
			 uint64_t now_usec, enum flow_dir *dir, bool *created)
{
	uint32_t h = tuple_hash(t, src, sport, dst, dport, proto);
	*created = false;
	for (struct flow *f = t->buckets[h & t->mask]; f; f = f->hnext) {
		if (key_matches(f, src, dst, sport, dport, proto, dir)) {
			if (t->head[f->list] != f) {
				list_unlink(t, f);
				list_push_head(t, f, f->list);
			}
			if (now_usec > f->last_usec)
				f->last_usec = now_usec;
			return f;
		}
	}

	if (t->stats.active >= t->max_flows) {
		struct flow *victim = oldest_flow(t);
		if (victim)
			flow_remove(t, victim, FLOW_END_EVICTED);
	}
	struct flow *f = flow_alloc(t);
	if (!f)
		return NULL;
	bool swap = first_sender_is_server(proto, sport, dport, tcp_flags);
	f->key.cli = swap ? *dst : *src;
	f->key.srv = swap ? *src : *dst;
	f->key.cli_port = swap ? dport : sport;
	f->key.srv_port = swap ? sport : dport;
	f->key.proto = proto;
	f->first_usec = f->last_usec = now_usec;
	*dir = swap ? DIR_TOCLIENT : DIR_TOSERVER;
	f->hnext = t->buckets[h & t->mask];
	t->buckets[h & t->mask] = f;
	list_push_head(t, f, list_for_proto(proto));
	t->stats.created++;
	t->stats.active++;
	if (t->stats.active > t->stats.peak_active)
		t->stats.peak_active = t->stats.active;
	*created = true;
	return f;
}

uint32_t flow_prefetch_bucket(const struct flow_table *t, const struct ip_addr *src,
			      const struct ip_addr *dst, uint16_t sport, uint16_t dport,
			      uint8_t proto)
{
	uint32_t h = tuple_hash(t, src, sport, dst, dport, proto);
	__builtin_prefetch(&t->buckets[h & t->mask]);
	return h;
}

void flow_prefetch_flow(const struct flow_table *t, uint32_t hash)
{
	const struct flow *f = t->buckets[hash & t->mask];
	if (f)
		__builtin_prefetch(f);
}

void flow_mark_closed(struct flow_table *t, struct flow *f, enum flow_end_reason why)
{
	f->end_reason = (uint8_t)why;
	if (f->list == FLOW_LIST_TCP_CLOSED)
		return;
	list_unlink(t, f);
	list_push_head(t, f, FLOW_LIST_TCP_CLOSED);
}

size_t flow_expire(struct flow_table *t, uint64_t now_usec)
{
	size_t n = 0;
	for (int l = 0; l < FLOW_LIST_COUNT; l++) {
		uint64_t to = t->timeout_usec[l];
		struct flow *f;
		while ((f = t->tail[l]) && f->last_usec + to <= now_usec) {
			/* The next one out has not been touched for a timeout:
			 * ask for it while this one goes. */
			if (f->prev) {
				__builtin_prefetch(f->prev);
				__builtin_prefetch((const char *)f->prev + 64);
			}
			flow_remove(t, f, FLOW_END_TIMEOUT);
			n++;
		}
	}
	return n;
}

void flow_flush(struct flow_table *t)
{
	struct flow *f;
	bool any = false;
	while ((f = oldest_flow(t))) {
		flow_take_out(t, f, (f->list == FLOW_LIST_TCP_CLOSED && f->end_reason)
					    ? (enum flow_end_reason)f->end_reason
					    : FLOW_END_SHUTDOWN, true);
		any = true;
	}
	if (any)
		buckets_clear(t);
}

/* The table whose list `l` has the least recently seen tail (lower index
 * on a tie), or -1 when the list is empty in every table. */
static int oldest_tail(struct flow_table *const *t, size_t n, int l)
{
	int best = -1;
	for (size_t i = 0; i < n; i++) {
		const struct flow *f = t[i]->tail[l];
		if (f && (best < 0 || f->last_usec < t[best]->tail[l]->last_usec))
			best = (int)i;
	}
	return best;
}

size_t flow_expire_tables(struct flow_table *const *t, size_t n, uint64_t now_usec)
{
	size_t ended = 0;
	for (int l = 0; l < FLOW_LIST_COUNT; l++) {
		int i;
		while ((i = oldest_tail(t, n, l)) >= 0 &&
		       t[i]->tail[l]->last_usec + t[i]->timeout_usec[l] <= now_usec) {
			flow_remove(t[i], t[i]->tail[l], FLOW_END_TIMEOUT);
			ended++;
		}
	}
	return ended;
}

void flow_flush_tables(struct flow_table *const *t, size_t n)
{
	for (;;) {
		struct flow_table *bt = NULL;
		struct flow *best = NULL;
		for (int l = 0; l < FLOW_LIST_COUNT; l++) {
			int i = oldest_tail(t, n, l);
			if (i >= 0 && (!best || t[i]->tail[l]->last_usec < best->last_usec)) {
				bt = t[i];
				best = t[i]->tail[l];
			}
		}
		if (!best)
			break;
		flow_take_out(bt, best, (best->list == FLOW_LIST_TCP_CLOSED && best->end_reason)
					       ? (enum flow_end_reason)best->end_reason
					       : FLOW_END_SHUTDOWN, true);
	}
	for (size_t i = 0; i < n; i++)
		buckets_clear(t[i]);
}

uint64_t flow_next_deadline(const struct flow_table *t)
{
	uint64_t next = UINT64_MAX;
	for (int l = 0; l < FLOW_LIST_COUNT; l++) {
		const struct flow *f = t->tail[l];
		if (f && f->last_usec + t->timeout_usec[l] < next)
			next = f->last_usec + t->timeout_usec[l];
	}
	return next;
}

void flow_table_free(struct flow_table *t)
{
	if (!t)
		return;
	flow_flush(t);
	slab_destroy(t->flows);
	huge_free(t->buckets, t->buckets_size);
	free(t);
}

const struct flow_stats *flow_table_stats(const struct flow_table *t)
{
	return &t->stats;
}

struct flow_stats *flow_table_stats_mut(struct flow_table *t)
{
	return &t->stats;
}
