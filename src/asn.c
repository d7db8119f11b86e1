/* asn.c - AS number and organisation of an address, via libmaxminddb, with
 * a per-engine cache (see asn.h).
 *
 * An IPv4 address is looked up as IPv4 (a sockaddr_in): libmaxminddb then
 * starts from the database's IPv4 subtree, which an IPv6 database keeps at
 * ::/96 and an IPv4-only one at its root. Numbers may be stored as any
 * unsigned type or as text ("714", "AS714"); anything else is ignored. */
#include "asn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct asn_db {
	MMDB_s mmdb;
	char *path;                  /* for asn_db_acquire() */
	unsigned refs;
};

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static struct asn_db *shared_db;

/* Where free databases keep the two values, most common first. */
static const char *const number_keys[] = { "autonomous_system_number", "asn", "as_number",
					   "autonomous_system", "number" };
static const char *const org_keys[] = { "autonomous_system_organization", "as_name", "as_org",
					"organization", "org", "name", "as_description" };

struct asn_db *asn_db_open(const char *path, char *err, size_t errlen)
{
	struct asn_db *db = calloc(1, sizeof(*db));
	if (!db) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	errno = 0;
	int rc = MMDB_open(path, MMDB_MODE_MMAP, &db->mmdb);
	if (rc != MMDB_SUCCESS) {
		if (rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR)
			snprintf(err, errlen, "%s: cannot open: %s", path,
				 errno ? strerror(errno) : MMDB_strerror(rc));
		else
			snprintf(err, errlen, "%s: not a MaxMind DB file: %s", path, MMDB_strerror(rc));
		free(db);
		return NULL;
	}
	return db;
}

void asn_db_close(struct asn_db *db)
{
	if (!db)
		return;
	MMDB_close(&db->mmdb);
	free(db->path);
	free(db);
}

struct asn_db *asn_db_acquire(const char *path, char *err, size_t errlen)
{
	char ignored[8];
	if (!err) {
		err = ignored;
		errlen = sizeof(ignored);
	}
	struct asn_db *db = NULL;
	pthread_mutex_lock(&shared_lock);
	if (shared_db && strcmp(shared_db->path, path) == 0) {
		db = shared_db;
		db->refs++;
	} else if (shared_db) {
		snprintf(err, errlen, "%s: another ASN database (%s) is open", path, shared_db->path);
	} else if ((db = asn_db_open(path, err, errlen))) {
		db->path = strdup(path);
		if (!db->path) {
			snprintf(err, errlen, "%s: out of memory", path);
			asn_db_close(db);
			db = NULL;
		} else {
			db->refs = 1;
			shared_db = db;
		}
	}
	pthread_mutex_unlock(&shared_lock);
	return db;
}

void asn_db_release(struct asn_db *db)
{
	if (!db)
		return;
	pthread_mutex_lock(&shared_lock);
	bool last = --db->refs == 0;
	if (last && shared_db == db)
		shared_db = NULL;
	pthread_mutex_unlock(&shared_lock);
	if (last)
		asn_db_close(db);
}

/* "714" or "AS714" (any case), nothing else. */
static uint32_t number_from_text(const char *s, uint32_t n)
{
	uint32_t i = 0;
	if (n >= 2 && strncasecmp(s, "AS", 2) == 0)
		i = 2;
	if (i == n)
		return 0;
	uint64_t v = 0;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > UINT32_MAX)
			return 0;
	}
	return (uint32_t)v;
}

static uint32_t read_number(MMDB_entry_s *entry)
{
	for (size_t i = 0; i < sizeof(number_keys) / sizeof(number_keys[0]); i++) {
		MMDB_entry_data_s d;
		if (MMDB_get_value(entry, &d, number_keys[i], NULL) != MMDB_SUCCESS || !d.has_data)
			continue;
		uint64_t v = 0;
		switch (d.type) {
		case MMDB_DATA_TYPE_UINT16: v = d.uint16; break;
		case MMDB_DATA_TYPE_UINT32: v = d.uint32; break;
		case MMDB_DATA_TYPE_UINT64: v = d.uint64; break;
		case MMDB_DATA_TYPE_INT32: v = d.int32 > 0 ? (uint64_t)d.int32 : 0; break;
		case MMDB_DATA_TYPE_UTF8_STRING: v = number_from_text(d.utf8_string, d.data_size); break;
		default: break;
		}
		if (v > 0 && v <= UINT32_MAX)
			return (uint32_t)v;
	}
	return 0;
}

static void read_org(MMDB_entry_s *entry, char *out, size_t cap)
{
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(org_keys) / sizeof(org_keys[0]); i++) {
		MMDB_entry_data_s d;
		if (MMDB_get_value(entry, &d, org_keys[i], NULL) != MMDB_SUCCESS || !d.has_data ||
		    d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size == 0)
			continue;
		size_t n = d.data_size < cap - 1 ? d.data_size : cap - 1;
		/* Control bytes stay out of records. */
		for (size_t k = 0; k < n; k++) {
			unsigned char ch = (unsigned char)d.utf8_string[k];
			out[k] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
		}
		out[n] = '\0';
		return;
	}
}

bool asn_db_lookup(const struct asn_db *db, const struct ip_addr *a, struct asn_info *out)
{
	memset(out, 0, sizeof(*out));
	if (!db)
		return false;
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (addr_is_v4(a)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a->b + 12, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a->b, 16);
	}
	int mmdb_err = MMDB_SUCCESS;
	MMDB_lookup_result_s res = MMDB_lookup_sockaddr(&db->mmdb, (const struct sockaddr *)&ss,
							&mmdb_err);
	if (mmdb_err != MMDB_SUCCESS || !res.found_entry)
		return false;
	out->asn = read_number(&res.entry);
	if (out->asn == 0)
		return false;
	read_org(&res.entry, out->org, sizeof(out->org));
	return true;
}

/* ---- the per-engine cache ----------------------------------------------- */

struct cache_slot {
	struct ip_addr addr;
	bool used;
	bool found;
	struct asn_info info;
};

struct asn_cache {
	const struct asn_db *db;
	struct cache_slot *slots;
	uint32_t mask;
	struct asn_cache_stats stats;
};

struct asn_cache *asn_cache_new(const struct asn_db *db, uint32_t slots)
{
	if (!db || slots == 0)
		return NULL;
	uint32_t n = 1;
	while (n < slots && n < (1u << 24))
		n <<= 1;
	struct asn_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->slots = calloc(n, sizeof(*c->slots));
	if (!c->slots) {
		free(c);
		return NULL;
	}
	c->db = db;
	c->mask = n - 1;
	return c;
}

void asn_cache_free(struct asn_cache *c)
{
	if (!c)
		return;
	free(c->slots);
	free(c);
}

bool asn_cache_lookup(struct asn_cache *c, const struct ip_addr *a, struct asn_info *out)
{
	struct cache_slot *s = &c->slots[addr_hash(a, 0x61736e) & c->mask];
	if (s->used && addr_eq(&s->addr, a)) {
		c->stats.hits++;
		*out = s->info;
		return s->found;
	}
	c->stats.misses++;
	s->used = true;
	s->addr = *a;
	s->found = asn_db_lookup(c->db, a, &s->info);
	*out = s->info;
	return s->found;
}

const struct asn_cache_stats *asn_cache_get_stats(const struct asn_cache *c)
{
	return &c->stats;
}
