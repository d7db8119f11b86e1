/* prefix_table.c - path-compressed binary trie for longest-prefix match.
 *
 * Nodes live in one growing array and refer to each other by index (0 is
 * "none"), so freeing is one call and the walk stays in a compact block.
 * Invariants:
 *   - every node's key is masked to its length;
 *   - a child's key is longer than its parent's and extends it, the child
 *     in slot b having bit b at position parent.len;
 *   - a node without a value (a pure branching point) has two children.
 * Each insert adds at most two nodes, so the array holds < 2n+1 nodes for
 * n prefixes. A lookup visits nodes of strictly increasing length along
 * the address's path: at most 129, each a 16-byte compare. */
#include "prefix_table.h"

#include <stdlib.h>
#include <string.h>

struct pt_node {
	struct ip_prefix key;
	uint32_t child[2];
	uint32_t value;
	bool has_value;
};

struct prefix_table {
	struct pt_node *nodes;   /* nodes[0] is unused so that 0 means "none" */
	uint32_t used;           /* next free index */
	uint32_t cap;
	uint32_t root;
	size_t count;            /* nodes carrying a value */
};

static unsigned addr_bit(const struct ip_addr *a, unsigned pos)
{
	return (a->b[pos / 8] >> (7 - pos % 8)) & 1u;
}

/* Number of leading bits a and b share, capped at max. */
static unsigned common_bits(const struct ip_addr *a, const struct ip_addr *b, unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < 16 && n < max; i++) {
		uint8_t x = a->b[i] ^ b->b[i];
		if (x == 0) {
			n += 8;
			continue;
		}
		while (!(x & 0x80)) {
			x = (uint8_t)(x << 1);
			n++;
		}
		break;
	}
	return n < max ? n : max;
}

static void mask_to(struct ip_prefix *p, unsigned len)
{
	p->len = (uint8_t)len;
	for (unsigned i = 0; i < 16; i++) {
		int bits = (int)len - (int)i * 8;
		if (bits >= 8)
			continue;
		p->addr.b[i] &= bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
	}
}

struct prefix_table *prefix_table_new(void)
{
	struct prefix_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->used = 1;
	return t;
}

void prefix_table_free(struct prefix_table *t)
{
	if (!t)
		return;
	free(t->nodes);
	free(t);
}

static bool ensure_nodes(struct prefix_table *t, size_t want)
{
	if (want <= t->cap)
		return true;
	if (want > UINT32_MAX / 2)
		return false;
	size_t cap = t->cap ? t->cap : 64;
	while (cap < want)
		cap *= 2;
	struct pt_node *n = realloc(t->nodes, cap * sizeof(*n));
	if (!n)
		return false;
	t->nodes = n;
	t->cap = (uint32_t)cap;
	return true;
}

bool prefix_table_reserve(struct prefix_table *t, size_t more)
{
	if (more > UINT32_MAX / 4)
		return false;
	return ensure_nodes(t, (size_t)t->used + 2 * more);
}

static uint32_t new_node(struct prefix_table *t, const struct ip_prefix *key)
{
	uint32_t i = t->used++;
	struct pt_node *n = &t->nodes[i];
	memset(n, 0, sizeof(*n));
	n->key = *key;
	return i;
}

static uint32_t new_leaf(struct prefix_table *t, const struct ip_prefix *p, uint32_t value)
{
	uint32_t i = new_node(t, p);
	t->nodes[i].value = value;
	t->nodes[i].has_value = true;
	t->count++;
	return i;
}

enum prefix_insert_result prefix_table_insert(struct prefix_table *t, const struct ip_prefix *p,
					      uint32_t value, uint32_t *existing)
{
	/* Two nodes at most are added below; reserving them first keeps `slot`
	 * (which may point into the array) valid throughout. */
	if (!ensure_nodes(t, (size_t)t->used + 2))
		return PREFIX_NOMEM;
	uint32_t *slot = &t->root;
	for (;;) {
		if (*slot == 0) {
			*slot = new_leaf(t, p, value);
			return PREFIX_ADDED;
		}
		struct pt_node *n = &t->nodes[*slot];
		unsigned limit = n->key.len < p->len ? n->key.len : p->len;
		unsigned common = common_bits(&n->key.addr, &p->addr, limit);
		if (common == n->key.len && common == p->len) {
			if (n->has_value) {
				if (existing)
					*existing = n->value;
				return PREFIX_EXISTS;
			}
			n->value = value;
			n->has_value = true;
			t->count++;
			return PREFIX_ADDED;
		}
		if (common == n->key.len) {
			/* The node's prefix contains p: descend. */
			slot = &n->child[addr_bit(&p->addr, n->key.len)];
			continue;
		}
		uint32_t old = *slot;
		struct ip_prefix old_key = n->key;
		if (common == p->len) {
			/* p contains the node's prefix: p becomes its parent. */
			uint32_t i = new_leaf(t, p, value);
			t->nodes[i].child[addr_bit(&old_key.addr, p->len)] = old;
			*slot = i;
			return PREFIX_ADDED;
		}
		/* They diverge below both lengths: branch at the first differing bit. */
		struct ip_prefix fork = *p;
		mask_to(&fork, common);
		uint32_t b = new_node(t, &fork);
		uint32_t leaf = new_leaf(t, p, value);
		t->nodes[b].child[addr_bit(&old_key.addr, common)] = old;
		t->nodes[b].child[addr_bit(&p->addr, common)] = leaf;
		*slot = b;
		return PREFIX_ADDED;
	}
}

bool prefix_table_lookup(const struct prefix_table *t, const struct ip_addr *a,
			 struct ip_prefix *matched, uint32_t *value)
{
	uint32_t best = 0;
	for (uint32_t i = t->root; i != 0;) {
		const struct pt_node *n = &t->nodes[i];
		if (!prefix_contains(&n->key, a))
			break;
		if (n->has_value)
			best = i;
		if (n->key.len >= 128)
			break;
		i = n->child[addr_bit(a, n->key.len)];
	}
	if (best == 0)
		return false;
	if (matched)
		*matched = t->nodes[best].key;
	if (value)
		*value = t->nodes[best].value;
	return true;
}

bool prefix_table_get(const struct prefix_table *t, const struct ip_prefix *p, uint32_t *value)
{
	for (uint32_t i = t->root; i != 0;) {
		const struct pt_node *n = &t->nodes[i];
		if (n->key.len > p->len || !prefix_contains(&n->key, &p->addr))
			return false;
		if (n->key.len == p->len) {
			if (n->has_value && value)
				*value = n->value;
			return n->has_value;
		}
		i = n->child[addr_bit(&p->addr, n->key.len)];
	}
	return false;
}

size_t prefix_table_count(const struct prefix_table *t)
{
	return t->count;
}

/* Recursion depth is bounded by the number of distinct lengths (129). */
static bool walk_node(const struct prefix_table *t, uint32_t i,
		      bool (*fn)(const struct ip_prefix *, uint32_t, void *), void *arg)
{
	if (i == 0)
		return true;
	const struct pt_node *n = &t->nodes[i];
	if (n->has_value && !fn(&n->key, n->value, arg))
		return false;
	return walk_node(t, n->child[0], fn, arg) && walk_node(t, n->child[1], fn, arg);
}

void prefix_table_walk(const struct prefix_table *t,
		       bool (*fn)(const struct ip_prefix *p, uint32_t value, void *arg), void *arg)
{
	walk_node(t, t->root, fn, arg);
}
