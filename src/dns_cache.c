/* dns_cache.c - bounded address -> Apple name table with TTLs.
 *
 * Entries sit in one array used as a ring in insertion order; buckets hold
 * chains of entry indices. Inserting into a full table reuses the slot of
 * the oldest insertion after unlinking it from its chain, so memory is
 * fixed at creation: capacity entries plus a bucket array twice as large.
 * A name longer than the slot is cut (names are for the analyst; the
 * service was decided when the answer was read).
 *
 * Lookups only read (an expired entry stays until its slot is reused or
 * its address answered again), so the only order that matters between
 * workers is that of inserts against lookups; src/workers.c keeps that
 * order for capture files. The mutex makes each call atomic.
 *
 * Most lookups are for addresses no Apple answer named (every flow decided
 * without a name asks). A bitmap of the addresses ever inserted (one bit
 * each, set under the lock, never cleared) answers those without the lock
 * or the bucket array, which a lookup otherwise finds cold: a clear bit
 * means the address was never inserted. A set bit may be another
 * address's; the table decides. Bits are set before the inserting call
 * returns, so a lookup ordered after an insert (src/workers.c) sees them. */
#include "dns_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define NO_ENTRY 0            /* entries are numbered from 1: zeroed memory is an empty table */
#define CACHE_NAME_MAX 128

struct cache_entry {
	struct ip_addr addr;
	uint64_t expires_usec;
	uint32_t next;               /* chain, NO_ENTRY ends it */
	uint8_t service;
	bool used;
	char name[CACHE_NAME_MAX];
};

struct dns_cache {
	pthread_mutex_t lock;
	_Atomic uint64_t *seen;      /* bitmap of addresses ever inserted */
	uint32_t seen_mask;          /* bits - 1 */
	_Atomic uint64_t filtered;   /* misses answered by the bitmap (outside the lock) */
	struct cache_entry *entries;
	uint32_t *buckets;
	uint32_t capacity, bucket_mask, next_slot;
	uint64_t min_ttl_usec, max_ttl_usec;
	struct dns_cache_stats stats;
};

struct dns_cache *dns_cache_new(uint32_t capacity, uint32_t min_ttl, uint32_t max_ttl)
{
	if (capacity == 0 || capacity > (1u << 28))
		return NULL;
	struct dns_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	uint32_t nb = 64;
	while (nb < capacity * 2u)
		nb <<= 1;
	/* calloc of fresh pages costs nothing until a page is used: no
	 * start-up time spent clearing megabytes the run may never touch. */
	c->entries = calloc((size_t)capacity + 1, sizeof(*c->entries));
	c->buckets = calloc(nb, sizeof(*c->buckets));
	/* 64 Ki bits (8 KiB, stays in the cache): sparse while the cache holds
	 * up to a few thousand addresses, the common case and when it helps;
	 * with more it answers less often, and the table decides. */
	uint32_t bits = 65536;
	c->seen = calloc(bits / 64, sizeof(*c->seen));
	c->seen_mask = bits - 1;
	if (!c->entries || !c->buckets || !c->seen) {
		dns_cache_free(c);
		return NULL;
	}
	c->capacity = capacity;
	c->next_slot = 1;
	c->bucket_mask = nb - 1;
	c->min_ttl_usec = (uint64_t)min_ttl * 1000000u;
	c->max_ttl_usec = (uint64_t)(max_ttl < min_ttl ? min_ttl : max_ttl) * 1000000u;
	c->stats.capacity = capacity;
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void dns_cache_free(struct dns_cache *c)
{
	if (!c)
		return;
	if (c->entries && c->buckets)
		pthread_mutex_destroy(&c->lock);
	free(c->entries);
	free(c->buckets);
	free((void *)c->seen);
	free(c);
}

static uint32_t seen_bit(const struct dns_cache *c, const struct ip_addr *a)
{
	return addr_hash(a, 0x9747b28cu) & c->seen_mask;
}

static uint32_t bucket_of(const struct dns_cache *c, const struct ip_addr *a)
{
	return addr_hash(a, 0x5bd1e995u) & c->bucket_mask;
}

static uint32_t find_entry(const struct dns_cache *c, const struct ip_addr *a)
{
	for (uint32_t i = c->buckets[bucket_of(c, a)]; i != NO_ENTRY; i = c->entries[i].next)
		if (addr_eq(&c->entries[i].addr, a))
			return i;
	return NO_ENTRY;
}

static void unlink_entry(struct dns_cache *c, uint32_t idx)
{
	uint32_t *pp = &c->buckets[bucket_of(c, &c->entries[idx].addr)];
	while (*pp != NO_ENTRY && *pp != idx)
		pp = &c->entries[*pp].next;
	if (*pp == idx)
		*pp = c->entries[idx].next;
	c->entries[idx].used = false;
	c->stats.entries--;
}

static void fill_entry(struct cache_entry *e, const char *name, enum service_id service,
		       uint64_t expires)
{
	size_t n = strnlen(name, CACHE_NAME_MAX - 1);
	memcpy(e->name, name, n);
	e->name[n] = '\0';
	e->service = (uint8_t)service;
	e->expires_usec = expires;
}

void dns_cache_insert(struct dns_cache *c, const struct ip_addr *a, const char *name,
		      enum service_id service, uint32_t ttl, uint64_t now_usec)
{
	uint64_t life = (uint64_t)ttl * 1000000u;
	if (life < c->min_ttl_usec)
		life = c->min_ttl_usec;
	if (life > c->max_ttl_usec)
		life = c->max_ttl_usec;

	pthread_mutex_lock(&c->lock);
	uint32_t idx = find_entry(c, a);
	if (idx != NO_ENTRY) {
		fill_entry(&c->entries[idx], name, service, now_usec + life);
		c->stats.updates++;
		pthread_mutex_unlock(&c->lock);
		return;
	}
	idx = c->next_slot;
	c->next_slot = c->next_slot == c->capacity ? 1 : c->next_slot + 1;
	struct cache_entry *e = &c->entries[idx];
	if (e->used) {
		if (e->expires_usec > now_usec)
			c->stats.replaced_full++;
		unlink_entry(c, idx);
	}
	e->addr = *a;
	fill_entry(e, name, service, now_usec + life);
	e->used = true;
	uint32_t bit = seen_bit(c, a);
	atomic_fetch_or_explicit(&c->seen[bit / 64], 1ull << (bit % 64), memory_order_relaxed);
	uint32_t b = bucket_of(c, a);
	e->next = c->buckets[b];
	c->buckets[b] = idx;
	c->stats.inserts++;
	c->stats.entries++;
	pthread_mutex_unlock(&c->lock);
}

bool dns_cache_lookup(struct dns_cache *c, const struct ip_addr *a, uint64_t now_usec,
		      struct dns_cache_hit *hit)
{
	uint32_t bit = seen_bit(c, a);
	if (!(atomic_load_explicit(&c->seen[bit / 64], memory_order_relaxed) & (1ull << (bit % 64)))) {
		atomic_fetch_add_explicit(&c->filtered, 1, memory_order_relaxed);
		return false;
	}
	bool found = false;
	pthread_mutex_lock(&c->lock);
	uint32_t idx = find_entry(c, a);
	if (idx != NO_ENTRY) {
		struct cache_entry *e = &c->entries[idx];
		if (e->expires_usec > now_usec) {
			if (hit) {
				memcpy(hit->name, e->name, sizeof(e->name));
				hit->service = (enum service_id)e->service;
				hit->expires_usec = e->expires_usec;
			}
			found = true;
		} else {
			/* Left in place: a lookup changes nothing but counters, so
			 * lookups from several workers give the same answers in any
			 * order. The slot is reused by a later answer. */
			c->stats.expired++;
		}
	}
	if (found)
		c->stats.hits++;
	else
		c->stats.misses++;
	pthread_mutex_unlock(&c->lock);
	return found;
}

void dns_cache_get_stats(struct dns_cache *c, struct dns_cache_stats *s)
{
	pthread_mutex_lock(&c->lock);
	*s = c->stats;
	pthread_mutex_unlock(&c->lock);
	s->misses += atomic_load_explicit(&c->filtered, memory_order_relaxed);
}
