/* addr.c - IP addresses in one 16-byte form (IPv4 mapped into IPv6). */
#include "addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


void addr_format(const struct ip_addr *a, char out[ADDR_STRLEN])
{
	if (addr_is_v4(a))
		inet_ntop(AF_INET, a->b + 12, out, ADDR_STRLEN);
	else
		inet_ntop(AF_INET6, a->b, out, ADDR_STRLEN);
}

bool addr_parse(const char *s, struct ip_addr *a)
{
	uint8_t buf[16];
	if (inet_pton(AF_INET, s, buf) == 1) {
		addr_from_v4(a, buf);
		return true;
	}
	if (inet_pton(AF_INET6, s, buf) == 1) {
		addr_from_v6(a, buf);
		return true;
	}
	return false;
}

static void prefix_mask(struct ip_prefix *p)
{
	for (int i = 0; i < 16; i++) {
		int bits = (int)p->len - i * 8;
		if (bits >= 8)
			continue;
		p->addr.b[i] &= bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
	}
}

bool prefix_parse(const char *s, struct ip_prefix *p)
{
	char buf[64];
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n + 1);
	char *slash = strchr(buf, '/');
	long len = -1;
	if (slash) {
		*slash = '\0';
		char *end;
		if (slash[1] < '0' || slash[1] > '9')
			return false;
		len = strtol(slash + 1, &end, 10);
		if (*end != '\0')
			return false;
	}
	if (!addr_parse(buf, &p->addr))
		return false;
	bool v4 = strchr(buf, ':') == NULL;
	long max = v4 ? 32 : 128;
	if (len < 0)
		len = max;
	if (len > max)
		return false;
	p->len = (uint8_t)(v4 ? len + 96 : len);
	prefix_mask(p);
	return true;
}

bool prefix_contains(const struct ip_prefix *p, const struct ip_addr *a)
{
	int full = p->len / 8, rest = p->len % 8;
	if (memcmp(p->addr.b, a->b, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a->b[full] & mask) == p->addr.b[full];
}

/* FNV-1a over the 16 bytes, mixed with a seed; good enough to spread
 * addresses over hash buckets, not meant to resist chosen collisions on its
 * own (the flow table adds a random seed per run). */
/* Two 64-bit multiply-xorshift rounds over the address's two halves: a
 * few cycles, where a byte-at-a-time hash took sixteen dependent
 * multiplications. Every packet hashes two addresses.
 * A multiplication only carries bits upward, and an IPv4 address sits in
 * the top 32 bits of `hi`: each round shifts right before it multiplies
 * (murmur3's fmix64 after folding in `hi`), or every address of a /16
 * lands in one bucket (tests/test_addr.c). */
uint32_t addr_hash(const struct ip_addr *a, uint32_t seed)
{
	uint64_t lo, hi;
	memcpy(&lo, a->b, 8);
	memcpy(&hi, a->b + 8, 8);
	uint64_t h = (lo ^ ((uint64_t)seed << 32 | seed)) * 0x9e3779b97f4a7c15ull ^ hi;
	h = (h ^ (h >> 33)) * 0xff51afd7ed558ccdull;
	h = (h ^ (h >> 33)) * 0xc4ceb9fe1a85ec53ull;
	return (uint32_t)(h ^ (h >> 33));
}
