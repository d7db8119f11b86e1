/* asn.h - address to autonomous system, from a MaxMind DB file.
 *
 * `[signatures] asn_database = PATH` names an .mmdb file (libmaxminddb).
 * GeoLite2-ASN and DB-IP's ASN Lite store the number under
 * `autonomous_system_number` and the owner under
 * `autonomous_system_organization`; other free databases use `asn`
 * (sometimes as a string "AS714") or `as_number`, and `as_name`, `as_org`,
 * `organization`, `org` or `name`: all are read. scripts/make-asn-db builds
 * such a file from a public IP-to-ASN table.
 *
 * The opened database is read-only and may be shared by every engine
 * (libmaxminddb lookups are thread-safe): engines take it with
 * asn_db_acquire(), so several workers map the file once. Each engine puts a small cache in
 * front of it (struct asn_cache, not shared, no locks): a lookup walks a
 * binary tree of up to 128 levels, and the same servers come back often.
 * The cache has a fixed number of slots (direct-mapped by address hash);
 * misses are cached too. */
#ifndef APPLEMON_ASN_H
#define APPLEMON_ASN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define ASN_ORG_MAX 96               /* organisation names are cut to fit */
#define ASN_CACHE_SLOTS 4096         /* per engine */

struct asn_info {
	uint32_t asn;                /* 0: unknown */
	char org[ASN_ORG_MAX];       /* "" when the database has none */
};

struct asn_db;

/* Open a MaxMind DB file; NULL with "PATH: reason" in err. */
struct asn_db *asn_db_open(const char *path, char *err, size_t errlen);
void asn_db_close(struct asn_db *db);
/* The process's one open copy of a database: the first call opens it, later
 * calls with the same path share it (thread-safe); each acquire needs a
 * release, and the last release closes it. NULL with "PATH: reason" in err
 * (err may be NULL), also for a second path while the first is open. */
struct asn_db *asn_db_acquire(const char *path, char *err, size_t errlen);
void asn_db_release(struct asn_db *db);
/* Look an address up (IPv4-mapped addresses as IPv4). false when the
 * database has no entry with an AS number for it. */
bool asn_db_lookup(const struct asn_db *db, const struct ip_addr *a, struct asn_info *out);

struct asn_cache_stats {
	uint64_t hits, misses;
};

struct asn_cache;

struct asn_cache *asn_cache_new(const struct asn_db *db, uint32_t slots);
void asn_cache_free(struct asn_cache *c);
bool asn_cache_lookup(struct asn_cache *c, const struct ip_addr *a, struct asn_info *out);
const struct asn_cache_stats *asn_cache_get_stats(const struct asn_cache *c);

#endif
