/* addr.h - IP addresses and prefixes, one 16-byte form for both families.
 *
 * IPv4 addresses are held as IPv4-mapped IPv6 (::ffff:a.b.c.d) so that
 * hashing, comparison and prefix matching have a single code path. An
 * IPv4 prefix /n is stored as the mapped prefix /(96+n). */
#ifndef APPLEMON_ADDR_H
#define APPLEMON_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct ip_addr {
	uint8_t b[16];      /* network order; IPv4 as ::ffff:a.b.c.d */
};

struct ip_prefix {
	struct ip_addr addr; /* masked to len bits */
	uint8_t len;         /* 0..128 in the mapped space */
};

#define ADDR_STRLEN 46   /* INET6_ADDRSTRLEN */

/* The per-packet ones are inline: the decoder and the flow table call them
 * for every packet. */
static inline void addr_from_v4(struct ip_addr *a, const uint8_t v4[4])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	memcpy(a->b, mapped, 12);
	memcpy(a->b + 12, v4, 4);
}

static inline void addr_from_v6(struct ip_addr *a, const uint8_t v6[16])
{
	memcpy(a->b, v6, 16);
}

static inline bool addr_is_v4(const struct ip_addr *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	return memcmp(a->b, mapped, 12) == 0;
}

static inline int addr_cmp(const struct ip_addr *a, const struct ip_addr *b)
{
	return memcmp(a->b, b->b, 16);
}

static inline bool addr_eq(const struct ip_addr *a, const struct ip_addr *b)
{
	return memcmp(a->b, b->b, 16) == 0;
}

/* Text form: dotted quad for IPv4, RFC 5952 for IPv6. */
void addr_format(const struct ip_addr *a, char out[ADDR_STRLEN]);
bool addr_parse(const char *s, struct ip_addr *a);
/* "A.B.C.D/N", "X::/N" or a bare address (full length). */
bool prefix_parse(const char *s, struct ip_prefix *p);
bool prefix_contains(const struct ip_prefix *p, const struct ip_addr *a);
uint32_t addr_hash(const struct ip_addr *a, uint32_t seed);

#endif
