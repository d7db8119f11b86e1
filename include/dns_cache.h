/* dns_cache.h - addresses recently answered for Apple names.
 *
 * When a DNS answer maps an Apple name to an address, a later flow to that
 * address with no name of its own (no SNI, no Host) is attributed to the
 * name: evidence `dns_answer`, confidence medium. Entries live for the
 * record's TTL clamped to [min_ttl, max_ttl]. The table has a fixed number
 * of entries chosen at creation and replaces the oldest insertion when
 * full (counted), so a flood of answers cannot grow memory. One mutex
 * guards it, so every worker thread may use it: it is touched once per new
 * flow and once per DNS answer, never per packet of an established flow.
 * A lookup changes no entry (only counters). */
#ifndef APPLEMON_DNS_CACHE_H
#define APPLEMON_DNS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "dns.h"
#include "service.h"

struct dns_cache;

struct dns_cache_hit {
	char name[DNS_NAME_MAX];     /* the Apple name the address was answered for */
	enum service_id service;
	uint64_t expires_usec;
};

struct dns_cache_stats {
	uint64_t inserts, updates, replaced_full, hits, misses, expired;
	uint32_t entries, capacity;
};

struct dns_cache *dns_cache_new(uint32_t capacity, uint32_t min_ttl, uint32_t max_ttl);
void dns_cache_free(struct dns_cache *c);

void dns_cache_insert(struct dns_cache *c, const struct ip_addr *a, const char *name,
		      enum service_id service, uint32_t ttl, uint64_t now_usec);
bool dns_cache_lookup(struct dns_cache *c, const struct ip_addr *a, uint64_t now_usec,
		      struct dns_cache_hit *hit);
void dns_cache_get_stats(struct dns_cache *c, struct dns_cache_stats *s);

#endif
