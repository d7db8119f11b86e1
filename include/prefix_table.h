/* prefix_table.h - longest-prefix match over the 128-bit address space.
 *
 * A path-compressed binary trie keyed by struct ip_prefix (IPv4 prefixes
 * live at /96../128 of the mapped space, see addr.h), each stored prefix
 * carrying a 32-bit value. Inserting happens at load time; a lookup walks
 * at most one node per distinct prefix length on the address's path (so
 * at most 129 nodes), allocates nothing and never modifies the table, so
 * any number of threads may look up at once while nobody inserts. */
#ifndef APPLEMON_PREFIX_TABLE_H
#define APPLEMON_PREFIX_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct prefix_table;

enum prefix_insert_result {
	PREFIX_ADDED,      /* new prefix stored with the value */
	PREFIX_EXISTS,     /* already present: table unchanged, *existing set */
	PREFIX_NOMEM,
};

struct prefix_table *prefix_table_new(void);
void prefix_table_free(struct prefix_table *t);

/* Store a prefix (which must be masked, as prefix_parse leaves it). */
enum prefix_insert_result prefix_table_insert(struct prefix_table *t, const struct ip_prefix *p,
					      uint32_t value, uint32_t *existing);

/* Make room so that `more` further inserts cannot fail for lack of memory. */
bool prefix_table_reserve(struct prefix_table *t, size_t more);

/* The longest stored prefix containing the address: true with its value
 * (and the prefix itself when `matched` is not NULL). */
bool prefix_table_lookup(const struct prefix_table *t, const struct ip_addr *a,
			 struct ip_prefix *matched, uint32_t *value);

/* The value stored for exactly this prefix, if any. */
bool prefix_table_get(const struct prefix_table *t, const struct ip_prefix *p, uint32_t *value);

/* Number of prefixes stored (interior branching nodes are not counted). */
size_t prefix_table_count(const struct prefix_table *t);

/* Calls fn for every stored prefix in address order (shorter prefixes
 * before the longer ones they contain); stops early when fn returns false. */
void prefix_table_walk(const struct prefix_table *t,
		       bool (*fn)(const struct ip_prefix *p, uint32_t value, void *arg), void *arg);

#endif
