/* test_decode.c - the packet decoder against hand-built frames and real captures.
 *
 * Hand-built frames pin down each link layer, encapsulation and tunnel with
 * byte-exact expectations, including the malformed and truncated variants a
 * sensor meets on real links. Every valid frame is also cut at every length
 * and mutated at random, with each copy in a heap block of exactly its size so
 * the address sanitizer catches any read past the end. The corpus test runs
 * the decoder over the shared captures, checks the inner flows of the tunnel
 * captures, and prints a tally of the results.
 *
 * Every decode here is also differential: decode_checked() decodes the frame
 * again with the general decoder alone and asserts the same answer, the same
 * struct packet byte for byte and the same counters, so the fast path
 * (src/decode_fast.c) is held to the general decoder on the hand-built
 * frames, on every cut and mutation of them, on the captures in pcaps/ and
 * on the shared corpus. The tests print how many frames the fast path took. */
#include <dirent.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "decode.h"
#include "testutil.h"
#include "../src/decode_internal.h"

/* ---- frame builder --------------------------------------------------- */

struct frame {
	uint8_t b[4096];
	size_t n;
};

static void put8(struct frame *f, unsigned v)
{
	ck_assert_uint_lt(f->n, sizeof(f->b));
	f->b[f->n++] = (uint8_t)v;
}

static void put16(struct frame *f, unsigned v)
{
	put8(f, v >> 8);
	put8(f, v);
}

static void put32(struct frame *f, uint32_t v)
{
	put16(f, v >> 16);
	put16(f, v & 0xffff);
}

static void put_bytes(struct frame *f, const void *src, size_t n)
{
	ck_assert_uint_le(f->n + n, sizeof(f->b));
	memcpy(f->b + f->n, src, n);
	f->n += n;
}

static void put_zeros(struct frame *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(f, 0);
}

static void patch16(struct frame *f, size_t at, unsigned v)
{
	f->b[at] = (uint8_t)(v >> 8);
	f->b[at + 1] = (uint8_t)v;
}

static const uint8_t V4_A[4] = { 10, 0, 0, 1 };
static const uint8_t V4_B[4] = { 10, 0, 0, 2 };
static const uint8_t V4_OUT_A[4] = { 192, 0, 2, 1 };
static const uint8_t V4_OUT_B[4] = { 192, 0, 2, 2 };
static const uint8_t V6_A[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t V6_B[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t V6_TEREDO[16] = { 0x20, 0x01, 0x00, 0x00, 0x41, 0x37, 0x9e, 0x50, [15] = 9 };
static const char PAYLOAD[] = "hello";
#define PAYLOAD_LEN 5u

static void put_eth(struct frame *f, unsigned type)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
	put_bytes(f, macs, sizeof(macs));
	put16(f, type);
}

/* IPv4 header with opt_words 32-bit words of options (NOPs ended by EOL);
 * returns its offset so ipv4_close() can fill in the total length. */
static size_t ipv4_open_opts(struct frame *f, unsigned proto, const uint8_t src[4],
			     const uint8_t dst[4], unsigned opt_words, unsigned frag)
{
	size_t at = f->n;
	put8(f, 0x40 | (5 + opt_words));
	put8(f, 0);
	put16(f, 0);         /* total length, patched */
	put16(f, 0x1234);    /* id */
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put_bytes(f, src, 4);
	put_bytes(f, dst, 4);
	for (unsigned i = 0; i < opt_words * 4; i++)
		put8(f, i + 1 == opt_words * 4 ? 0 : 1);
	return at;
}

static size_t ipv4_open(struct frame *f, unsigned proto, const uint8_t src[4], const uint8_t dst[4])
{
	return ipv4_open_opts(f, proto, src, dst, 0, 0);
}

static void ipv4_close(struct frame *f, size_t at)
{
	patch16(f, at + 2, (unsigned)(f->n - at));
}

static size_t ipv6_open(struct frame *f, unsigned nh, const uint8_t src[16], const uint8_t dst[16])
{
	size_t at = f->n;
	put32(f, 0x60000000);
	put16(f, 0); /* payload length, patched */
	put8(f, nh);
	put8(f, 64);
	put_bytes(f, src, 16);
	put_bytes(f, dst, 16);
	return at;
}

static void ipv6_close(struct frame *f, size_t at)
{
	patch16(f, at + 4, (unsigned)(f->n - at - 40));
}

static size_t udp_open(struct frame *f, unsigned sport, unsigned dport)
{
	size_t at = f->n;
	put16(f, sport);
	put16(f, dport);
	put16(f, 0);
	put16(f, 0);
	return at;
}

static void udp_close(struct frame *f, size_t at)
{
	patch16(f, at + 4, (unsigned)(f->n - at));
}

static void put_tcp(struct frame *f, unsigned sport, unsigned dport, unsigned opt_words,
		    unsigned flags)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, 1000);
	put32(f, 2000);
	put8(f, (5 + opt_words) << 4);
	put8(f, flags);
	put16(f, 65535);
	put16(f, 0);
	put16(f, 0);
	for (unsigned i = 0; i < opt_words * 4; i++)
		put8(f, 1); /* NOP */
}

/* The inner packets every tunnel test carries. */
static void put_inner_udp4(struct frame *f)
{
	size_t ip = ipv4_open(f, 17, V4_A, V4_B);
	size_t udp = udp_open(f, 1111, 2222);
	put_bytes(f, PAYLOAD, PAYLOAD_LEN);
	udp_close(f, udp);
	ipv4_close(f, ip);
}

static void put_inner_tcp4(struct frame *f)
{
	size_t ip = ipv4_open(f, 6, V4_A, V4_B);
	put_tcp(f, 3333, 443, 0, TCP_SYN | TCP_ACK);
	put_bytes(f, PAYLOAD, PAYLOAD_LEN);
	ipv4_close(f, ip);
}

static void put_inner_tcp6(struct frame *f, const uint8_t src[16])
{
	size_t ip = ipv6_open(f, 6, src, V6_B);
	put_tcp(f, 4444, 80, 0, TCP_PSH | TCP_ACK);
	put_bytes(f, PAYLOAD, PAYLOAD_LEN);
	ipv6_close(f, ip);
}

/* ---- assertions ------------------------------------------------------ */

static bool addr_is(const struct ip_addr *a, const uint8_t *bytes, int family)
{
	struct ip_addr want;
	if (family == 4)
		addr_from_v4(&want, bytes);
	else
		addr_from_v6(&want, bytes);
	return addr_eq(a, &want);
}

static bool payload_is_hello(const struct packet *p)
{
	return p->payload_len == PAYLOAD_LEN && p->payload &&
	       memcmp(p->payload, PAYLOAD, PAYLOAD_LEN) == 0;
}

static void assert_inner_udp4(const struct packet *p)
{
	ck_assert_uint_eq(p->ip_version, 4);
	ck_assert_uint_eq(p->l4proto, 17);
	ck_assert(addr_is(&p->src, V4_A, 4));
	ck_assert(addr_is(&p->dst, V4_B, 4));
	ck_assert_uint_eq(p->sport, 1111);
	ck_assert_uint_eq(p->dport, 2222);
	ck_assert(payload_is_hello(p));
}

static void assert_inner_tcp4(const struct packet *p)
{
	ck_assert_uint_eq(p->ip_version, 4);
	ck_assert_uint_eq(p->l4proto, 6);
	ck_assert(addr_is(&p->src, V4_A, 4));
	ck_assert(addr_is(&p->dst, V4_B, 4));
	ck_assert_uint_eq(p->sport, 3333);
	ck_assert_uint_eq(p->dport, 443);
	ck_assert_uint_eq(p->tcp_flags, TCP_SYN | TCP_ACK);
	ck_assert(payload_is_hello(p));
}

static void assert_inner_tcp6(const struct packet *p, const uint8_t src[16])
{
	ck_assert_uint_eq(p->ip_version, 6);
	ck_assert_uint_eq(p->l4proto, 6);
	ck_assert(addr_is(&p->src, src, 6));
	ck_assert(addr_is(&p->dst, V6_B, 6));
	ck_assert_uint_eq(p->sport, 4444);
	ck_assert_uint_eq(p->dport, 80);
	ck_assert(payload_is_hello(p));
}

static void assert_outer_v4(const struct packet *p, enum tunnel_kind kind, unsigned depth)
{
	ck_assert_uint_eq(p->tunnel, kind);
	ck_assert_uint_eq(p->tunnel_depth, depth);
	ck_assert(addr_is(&p->outer_src, V4_OUT_A, 4));
	ck_assert(addr_is(&p->outer_dst, V4_OUT_B, 4));
}

/* ---- the fast path against the general decoder ----------------------- */

static size_t first_difference(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	size_t i = 0;
	while (i < n && x[i] == y[i])
		i++;
	return i;
}

/* decode_packet(), checked against decode_packet_general(): the same answer,
 * the same struct packet and the same counters. The packets start filled
 * with different garbage, so a byte that one decoder leaves unwritten shows.
 * When the fast path alone takes the frame (decode_packet_fast()), it must
 * give the same again, and *fast (if given) is counted up. */
static enum decode_result decode_checked(struct packet *p, int linktype, const uint8_t *data,
					 uint32_t caplen, uint32_t wirelen, uint64_t ts,
					 struct decode_stats *st, uint64_t *fast)
{
	struct decode_stats local = { 0 };
	if (!st)
		st = &local;
	struct decode_stats gen_st = *st, fast_st = *st;
	struct packet gen, fast_only;
	memset(p, 0xa5, sizeof(*p));
	memset(&gen, 0x5a, sizeof(gen));
	memset(&fast_only, 0x3c, sizeof(fast_only));

	enum decode_result r = decode_packet(p, linktype, data, caplen, wirelen, ts, st);
	enum decode_result rg = decode_packet_general(&gen, linktype, data, caplen, wirelen, ts,
						      &gen_st);
	ck_assert_int_eq(r, rg);
	ck_assert_msg(memcmp(p, &gen, sizeof(gen)) == 0,
		      "struct packet differs from the general decoder's at byte %zu",
		      first_difference(p, &gen, sizeof(gen)));
	ck_assert_msg(memcmp(st, &gen_st, sizeof(gen_st)) == 0,
		      "decode_stats differ from the general decoder's at byte %zu",
		      first_difference(st, &gen_st, sizeof(gen_st)));

	enum decode_result rf;
	if (decode_packet_fast(&fast_only, linktype, data, caplen, wirelen, ts, &fast_st, &rf)) {
		ck_assert_int_eq(rf, r);
		ck_assert_msg(memcmp(&fast_only, p, sizeof(*p)) == 0,
			      "fast path's struct packet differs at byte %zu",
			      first_difference(&fast_only, p, sizeof(*p)));
		ck_assert(memcmp(&fast_st, st, sizeof(*st)) == 0);
		if (fast)
			(*fast)++;
	}
	return r;
}

static enum decode_result decode_frame(struct packet *p, int linktype, const struct frame *f,
				       struct decode_stats *st)
{
	return decode_checked(p, linktype, f->b, (uint32_t)f->n, (uint32_t)f->n, 0, st, NULL);
}

/* ---- frame samples, shared by the unit tests and the hostile-input loops */

static void build_eth_udp4(struct frame *f)
{
	put_eth(f, 0x0800);
	put_inner_udp4(f);
}

static void build_eth_tcp4_options(struct frame *f)
{
	put_eth(f, 0x0800);
	size_t ip = ipv4_open_opts(f, 6, V4_A, V4_B, 3, 0);
	put_tcp(f, 3333, 443, 3, TCP_SYN | TCP_ACK);
	put_bytes(f, PAYLOAD, PAYLOAD_LEN);
	ipv4_close(f, ip);
}

static void build_eth_tcp6(struct frame *f)
{
	put_eth(f, 0x86dd);
	put_inner_tcp6(f, V6_A);
}

/* IPv6 with hop-by-hop, routing, destination options and AH before UDP. */
static void build_ipv6_ext(struct frame *f)
{
	put_eth(f, 0x86dd);
	size_t ip = ipv6_open(f, 0, V6_A, V6_B);
	put8(f, 43); put8(f, 0); put_zeros(f, 6);          /* hop-by-hop, 8 bytes */
	put8(f, 60); put8(f, 2); put8(f, 0); put8(f, 0);    /* routing type 0, 24 bytes */
	put_zeros(f, 20);
	put8(f, 51); put8(f, 1); put_zeros(f, 14);         /* destination options, 16 bytes */
	put8(f, 17); put8(f, 4); put_zeros(f, 22);         /* AH: (4 + 2) * 4 = 24 bytes */
	size_t udp = udp_open(f, 1111, 2222);
	put_bytes(f, PAYLOAD, PAYLOAD_LEN);
	udp_close(f, udp);
	ipv6_close(f, ip);
}

static void build_qinq(struct frame *f)
{
	put_eth(f, 0x88a8);
	put16(f, 0x0064); put16(f, 0x8100);   /* S-tag 100 */
	put16(f, 0x20c8); put16(f, 0x0800);   /* C-tag 200, priority 1 */
	put_inner_tcp4(f);
}

static void build_mpls_pw(struct frame *f)
{
	put_eth(f, 0x8847);
	put32(f, (16u << 12) | 64);           /* label 16 */
	put32(f, (17u << 12) | 0x100 | 64);   /* label 17, bottom of stack */
	put32(f, 0);                          /* pseudowire control word */
	put_eth(f, 0x0800);
	put_inner_udp4(f);
}

static void build_pppoe(struct frame *f)
{
	put_eth(f, 0x8864);
	put8(f, 0x11); put8(f, 0); put16(f, 0x0042);
	size_t len_at = f->n;
	put16(f, 0);
	put16(f, 0x0057);
	put_inner_tcp6(f, V6_A);
	patch16(f, len_at, (unsigned)(f->n - len_at - 2));
}

static void build_sll2(struct frame *f)
{
	put16(f, 0x0800); put16(f, 0); put32(f, 3);
	put16(f, 1); put8(f, 0); put8(f, 6); put_zeros(f, 8);
	put_inner_udp4(f);
}

static void build_gre_keyed(struct frame *f)
{
	put_eth(f, 0x0800);
	size_t ip = ipv4_open(f, 47, V4_OUT_A, V4_OUT_B);
	put16(f, 0xb000); put16(f, 0x0800);   /* checksum, key and sequence present */
	put32(f, 0); put32(f, 0xcafe); put32(f, 7);
	put_inner_udp4(f);
	ipv4_close(f, ip);
}

/* GRE with a key and a sequence number (no checksum) carrying IPv6: the
 * one-tunnel shape decode_fast() takes. */
static void build_gre_key_seq6(struct frame *f)
{
	put_eth(f, 0x0800);
	size_t ip = ipv4_open(f, 47, V4_OUT_A, V4_OUT_B);
	put16(f, 0x3000); put16(f, 0x86dd);   /* key and sequence present */
	put32(f, 0xcafe); put32(f, 7);
	put_inner_tcp6(f, V6_A);
	ipv4_close(f, ip);
}

static void build_erspan3(struct frame *f)
{
	put_eth(f, 0x0800);
	size_t ip = ipv4_open(f, 47, V4_OUT_A, V4_OUT_B);
	put16(f, 0x1000); put16(f, 0x22eb); put32(f, 1);
	put16(f, 0x200a);                 /* version 2, VLAN 10 */
	put16(f, 0x0001);                 /* session */
	put32(f, 0x01020304);             /* timestamp */
	put16(f, 0);                      /* SGT */
	put16(f, 0x0001);                 /* frame type 0 (Ethernet), O bit */
	put_zeros(f, 8);                  /* platform subheader */
	put_eth(f, 0x8100);
	put16(f, 0x0005); put16(f, 0x0800);
	put_inner_tcp4(f);
	ipv4_close(f, ip);
}

static void build_pptp(struct frame *f)
{
	put_eth(f, 0x0800);
	size_t ip = ipv4_open(f, 47, V4_OUT_A, V4_OUT_B);
	put16(f, 0x3001); put16(f, 0x880b);   /* K, S, version 1 */
	size_t len_at = f->n;
	put16(f, 0); put16(f, 0x0011);        /* payload length, call id */
	put32(f, 42);
	put8(f, 0xff); put8(f, 0x03); put16(f, 0x0021);
	put_inner_udp4(f);
	patch16(f, len_at, (unsigned)(f->n - len_at - 8));
	ipv4_close(f, ip);
}

static void put_80211_header(struct frame *f, unsigned fc0, unsigned fc1, unsigned qos)
{
	put8(f, fc0); put8(f, fc1);
	put16(f, 0);                          /* duration */
	put_zeros(f, 18);                     /* three addresses */
	put16(f, 0x1000);                     /* sequence 256, fragment 0 */
	if (fc0 & 0x80) {
		put8(f, qos & 0xff);              /* QoS control, little endian */
		put8(f, qos >> 8);
	}
}

static void put_llc_snap(struct frame *f, unsigned type)
{
	put8(f, 0xaa); put8(f, 0xaa); put8(f, 0x03);
	put8(f, 0); put8(f, 0); put8(f, 0);
	put16(f, type);
}

static void build_aruba(struct frame *f)
{
	put_eth(f, 0x0800);
	size_t ip = ipv4_open(f, 47, V4_OUT_A, V4_OUT_B);
	put16(f, 0); put16(f, 0x8200);
	put_80211_header(f, 0x88, 0x01, 0);   /* QoS data, to DS */
	put_llc_snap(f, 0x0800);
	put_inner_tcp4(f);
	ipv4_close(f, ip);
}

static void build_udp_tunnel(struct frame *f, unsigned dport, void (*put_tunnel)(struct frame *))
{
	put_eth(f, 0x0800);
	size_t ip = ipv4_open(f, 17, V4_OUT_A, V4_OUT_B);
	size_t udp = udp_open(f, 50000, dport);
	put_tunnel(f);
	udp_close(f, udp);
	ipv4_close(f, ip);
}

static void put_vxlan(struct frame *f)
{
	put8(f, 0x08); put_zeros(f, 3);
	put8(f, 0); put8(f, 0); put8(f, 123); put8(f, 0);
	put_eth(f, 0x0800);
	put_inner_udp4(f);
}

static void put_geneve(struct frame *f)
{
	put8(f, 0x02); put8(f, 0); put16(f, 0x6558);  /* 2 words of options */
	put32(f, 0x00000500);
	put16(f, 0x0104); put8(f, 0x80); put8(f, 1); put32(f, 0xdeadbeef);
	put_eth(f, 0x0800);
	put_inner_tcp4(f);
}

static void put_gtpu(struct frame *f)
{
	put8(f, 0x34); put8(f, 0xff);        /* version 1, PT, E; G-PDU */
	size_t len_at = f->n;
	put16(f, 0);
	put32(f, 0x11223344);
	put16(f, 0); put8(f, 0); put8(f, 0x85);   /* seq, N-PDU, next: PDU session */
	put8(f, 1); put8(f, 0x10); put8(f, 0x05); put8(f, 0);  /* one 4-byte extension */
	put_inner_udp4(f);
	patch16(f, len_at, (unsigned)(f->n - len_at - 6));
}

static void put_teredo(struct frame *f)
{
	put8(f, 0); put8(f, 1); put8(f, 2); put8(f, 3);      /* auth: id 2, auth 3 bytes */
	put_zeros(f, 2 + 3 + 8); put8(f, 0);
	put8(f, 0); put8(f, 0); put16(f, 0x1234); put32(f, 0x3fffffff);  /* origin */
	put_inner_tcp6(f, V6_TEREDO);
}

static void put_ayiya(struct frame *f)
{
	put8(f, 0x41); put8(f, 0x52); put8(f, 0x11); put8(f, 41);
	put32(f, 0x5e0c0000);
	put_zeros(f, 16 + 20);               /* identity, signature */
	put_inner_tcp6(f, V6_A);
}

static void put_gre_udp(struct frame *f)
{
	put16(f, 0x2000); put16(f, 0x0800); put32(f, 5);
	put_inner_udp4(f);
}

static void build_vxlan(struct frame *f) { build_udp_tunnel(f, 4789, put_vxlan); }
static void build_geneve(struct frame *f) { build_udp_tunnel(f, 6081, put_geneve); }
static void build_gtpu(struct frame *f) { build_udp_tunnel(f, 2152, put_gtpu); }
static void build_teredo(struct frame *f) { build_udp_tunnel(f, 3544, put_teredo); }
static void build_ayiya(struct frame *f) { build_udp_tunnel(f, 5072, put_ayiya); }
static void build_gre_udp(struct frame *f) { build_udp_tunnel(f, 4754, put_gre_udp); }

static void build_6in4(struct frame *f)
{
	put_eth(f, 0x0800);
	size_t ip = ipv4_open(f, 41, V4_OUT_A, V4_OUT_B);
	put_inner_tcp6(f, V6_A);
	ipv4_close(f, ip);
}

static void build_4in6(struct frame *f)
{
	put_eth(f, 0x86dd);
	size_t ip = ipv6_open(f, 4, V6_A, V6_B);
	put_inner_udp4(f);
	ipv6_close(f, ip);
}

static void build_ipv4_first_fragment(struct frame *f)
{
	put_eth(f, 0x0800);
	size_t ip = ipv4_open_opts(f, 17, V4_A, V4_B, 0, 0x2000);
	size_t udp = udp_open(f, 1111, 2222);
	put_zeros(f, 16);
	patch16(f, udp + 4, 100);             /* the reassembled UDP length */
	ipv4_close(f, ip);
}

struct sample {
	const char *name;
	int linktype;
	void (*build)(struct frame *);
	enum decode_result want;
	bool fast;                      /* the fast path takes the whole frame */
};

static const struct sample samples[] = {
	{ "eth_udp4", LINK_ETHERNET, build_eth_udp4, DECODE_OK, true },
	{ "eth_tcp4_options", LINK_ETHERNET, build_eth_tcp4_options, DECODE_OK, true },
	{ "eth_tcp6", LINK_ETHERNET, build_eth_tcp6, DECODE_OK, true },
	{ "ipv6_ext", LINK_ETHERNET, build_ipv6_ext, DECODE_OK, false },
	{ "qinq", LINK_ETHERNET, build_qinq, DECODE_OK, true },
	{ "mpls_pw", LINK_ETHERNET, build_mpls_pw, DECODE_OK, false },
	{ "pppoe", LINK_ETHERNET, build_pppoe, DECODE_OK, false },
	{ "sll2", LINK_LINUX_SLL2, build_sll2, DECODE_OK, true },
	{ "gre_keyed", LINK_ETHERNET, build_gre_keyed, DECODE_OK, false },
	{ "gre_key_seq6", LINK_ETHERNET, build_gre_key_seq6, DECODE_OK, true },
	{ "erspan3", LINK_ETHERNET, build_erspan3, DECODE_OK, false },
	{ "pptp", LINK_ETHERNET, build_pptp, DECODE_OK, false },
	{ "aruba", LINK_ETHERNET, build_aruba, DECODE_OK, true },
	{ "vxlan", LINK_ETHERNET, build_vxlan, DECODE_OK, true },
	{ "geneve", LINK_ETHERNET, build_geneve, DECODE_OK, true },
	{ "gtpu", LINK_ETHERNET, build_gtpu, DECODE_OK, true },
	{ "teredo", LINK_ETHERNET, build_teredo, DECODE_OK, true },
	{ "ayiya", LINK_ETHERNET, build_ayiya, DECODE_OK, true },
	{ "gre_udp", LINK_ETHERNET, build_gre_udp, DECODE_OK, true },
	{ "6in4", LINK_ETHERNET, build_6in4, DECODE_OK, false },
	{ "4in6", LINK_ETHERNET, build_4in6, DECODE_OK, false },
	{ "ipv4_fragment", LINK_ETHERNET, build_ipv4_first_fragment, DECODE_FRAGMENT, false },
};
#define N_SAMPLES (sizeof(samples) / sizeof(samples[0]))

/* ---- link layers ----------------------------------------------------- */

START_TEST(test_ethernet_udp4)
{
	struct frame f = { .n = 0 };
	build_eth_udp4(&f);
	struct packet p;
	struct decode_stats st = { 0 };
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &f, &st), DECODE_OK);
	assert_inner_udp4(&p);
	ck_assert_uint_eq(p.tunnel_depth, 0);
	ck_assert_uint_eq(p.tunnel, TUNNEL_NONE);
	ck_assert_uint_eq(p.l3_len, 20 + 8 + PAYLOAD_LEN);
	ck_assert_ptr_eq(p.l3, f.b + 14);
	ck_assert_uint_eq(st.packets, 1);
	ck_assert_uint_eq(st.errors, 0);
}
END_TEST

START_TEST(test_ethernet_padding_trimmed)
{
	struct frame f = { .n = 0 };
	build_eth_udp4(&f);
	size_t real = f.n;
	put_zeros(&f, 60 - real + 4);         /* trailer padding and an FCS */
	struct packet p;
	struct decode_stats st = { 0 };
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &f, &st), DECODE_OK);
	ck_assert_uint_eq(p.payload_len, PAYLOAD_LEN);
	ck_assert_uint_eq(p.l3_len, real - 14);
	ck_assert_uint_eq(st.event[DEV_TRUNCATED], 0);
}
END_TEST

START_TEST(test_ipv4_and_tcp_options)
{
	struct frame f = { .n = 0 };
	build_eth_tcp4_options(&f);
	struct packet p;
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &f, NULL), DECODE_OK);
	assert_inner_tcp4(&p);
	ck_assert_uint_eq(p.tcp_seq, 1000);
	ck_assert_uint_eq(p.tcp_ack, 2000);
	ck_assert_ptr_eq(p.payload, f.b + 14 + 32 + 32);
}
END_TEST

START_TEST(test_tcp6)
{
	struct frame f = { .n = 0 };
	build_eth_tcp6(&f);
	struct packet p;
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &f, NULL), DECODE_OK);
	assert_inner_tcp6(&p, V6_A);
	ck_assert_uint_eq(p.tcp_flags, TCP_PSH | TCP_ACK);
}
END_TEST

START_TEST(test_sll_and_sll2)
{
	struct frame f = { .n = 0 };
	put16(&f, 0); put16(&f, 1); put16(&f, 6); put_zeros(&f, 8); put16(&f, 0x0800);
	put_inner_udp4(&f);
	struct packet p;
	ck_assert_int_eq(decode_frame(&p, LINK_LINUX_SLL, &f, NULL), DECODE_OK);
	assert_inner_udp4(&p);

	struct frame g = { .n = 0 };
	build_sll2(&g);
	ck_assert_int_eq(decode_frame(&p, LINK_LINUX_SLL2, &g, NULL), DECODE_OK);
	assert_inner_udp4(&p);

	/* Protocol 4: the frame starts with an 802.2 LLC header. */
	struct frame h = { .n = 0 };
	put16(&h, 0); put16(&h, 1); put16(&h, 6); put_zeros(&h, 8); put16(&h, 0x0004);
	put_llc_snap(&h, 0x0800);
	put_inner_udp4(&h);
	ck_assert_int_eq(decode_frame(&p, LINK_LINUX_SLL, &h, NULL), DECODE_OK);
	assert_inner_udp4(&p);
}
END_TEST

START_TEST(test_raw_links)
{
	struct frame v4 = { .n = 0 }, v6 = { .n = 0 };
	put_inner_udp4(&v4);
	put_inner_tcp6(&v6, V6_A);
	struct packet p;
	struct decode_stats st = { 0 };
	const int raw[] = { LINK_RAW, LINK_RAW_ALT };
	for (size_t i = 0; i < 2; i++) {
		ck_assert_int_eq(decode_frame(&p, raw[i], &v4, &st), DECODE_OK);
		assert_inner_udp4(&p);
		ck_assert_int_eq(p.linktype, raw[i]);
		ck_assert_int_eq(decode_frame(&p, raw[i], &v6, &st), DECODE_OK);
		assert_inner_tcp6(&p, V6_A);
	}
	ck_assert_int_eq(decode_frame(&p, LINK_IPV4, &v4, &st), DECODE_OK);
	assert_inner_udp4(&p);
	ck_assert_int_eq(decode_frame(&p, LINK_IPV6, &v6, &st), DECODE_OK);
	assert_inner_tcp6(&p, V6_A);
	/* The IPv4 link type promises IPv4. */
	ck_assert_int_eq(decode_frame(&p, LINK_IPV4, &v6, &st), DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_IPV4_BAD], 1);
	/* Nothing captured at all. */
	struct frame empty = { .n = 0 };
	ck_assert_int_eq(decode_frame(&p, LINK_RAW, &empty, &st), DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_LINK_SHORT], 1);
}
END_TEST

/* BSD loopback: the family word in either byte order, with each system's
 * AF_INET6 value. */
START_TEST(test_null_loop_families)
{
	const uint32_t families6[] = { 24, 28, 30 };
	const int links[] = { LINK_NULL, LINK_LOOP };
	struct packet p;
	for (size_t l = 0; l < 2; l++) {
		for (int big = 0; big < 2; big++) {
			struct frame f = { .n = 0 };
			if (big)
				put32(&f, 2);
			else {
				put8(&f, 2); put_zeros(&f, 3);
			}
			put_inner_udp4(&f);
			ck_assert_int_eq(decode_frame(&p, links[l], &f, NULL), DECODE_OK);
			assert_inner_udp4(&p);
			for (size_t i = 0; i < 3; i++) {
				struct frame g = { .n = 0 };
				if (big)
					put32(&g, families6[i]);
				else {
					put8(&g, families6[i]); put_zeros(&g, 3);
				}
				put_inner_tcp6(&g, V6_A);
				ck_assert_int_eq(decode_frame(&p, links[l], &g, NULL), DECODE_OK);
				assert_inner_tcp6(&p, V6_A);
			}
		}
	}
	struct frame other = { .n = 0 };
	put32(&other, 7);
	put_inner_udp4(&other);
	ck_assert_int_eq(decode_frame(&p, LINK_NULL, &other, NULL), DECODE_NOT_IP);
}
END_TEST

START_TEST(test_ppp_link)
{
	struct packet p;
	struct frame f = { .n = 0 };
	put16(&f, 0x0057);
	put_inner_tcp6(&f, V6_A);
	ck_assert_int_eq(decode_frame(&p, LINK_PPP, &f, NULL), DECODE_OK);
	assert_inner_tcp6(&p, V6_A);
	struct frame g = { .n = 0 };
	put8(&g, 0xff); put8(&g, 0x03); put16(&g, 0x0021);
	put_inner_udp4(&g);
	ck_assert_int_eq(decode_frame(&p, LINK_PPP, &g, NULL), DECODE_OK);
	assert_inner_udp4(&p);
	struct frame lcp = { .n = 0 };
	put16(&lcp, 0xc021); put_zeros(&lcp, 8);
	ck_assert_int_eq(decode_frame(&p, LINK_PPP, &lcp, NULL), DECODE_NOT_IP);
	/* DLT_PPP_SERIAL: HDLC-framed PPP, and Cisco HDLC with an ethertype */
	ck_assert_int_eq(decode_frame(&p, LINK_PPP_SERIAL, &g, NULL), DECODE_OK);
	assert_inner_udp4(&p);
	struct frame h = { .n = 0 };
	put8(&h, 0x0f); put8(&h, 0x00); put16(&h, 0x86dd);
	put_inner_tcp6(&h, V6_A);
	ck_assert_int_eq(decode_frame(&p, LINK_PPP_SERIAL, &h, NULL), DECODE_OK);
	assert_inner_tcp6(&p, V6_A);
	struct frame cut = { .n = 0 };
	put8(&cut, 0x8f); put8(&cut, 0x00); put8(&cut, 0x08);
	struct decode_stats st = { 0 };
	ck_assert_int_eq(decode_frame(&p, LINK_PPP_SERIAL, &cut, &st), DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_LINK_SHORT], 1);
}
END_TEST

START_TEST(test_unsupported_and_names)
{
	struct frame f = { .n = 0 };
	build_eth_udp4(&f);
	struct packet p;
	struct decode_stats st = { 0 };
	ck_assert_int_eq(decode_frame(&p, 127, &f, &st), DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_LINK_UNSUPPORTED], 1);
	ck_assert_uint_eq(st.errors, 1);
	ck_assert(!decode_linktype_supported(127));
	const int ok[] = { LINK_NULL, LINK_ETHERNET, LINK_RAW, LINK_RAW_ALT, LINK_LOOP,
			   LINK_LINUX_SLL, LINK_IPV4, LINK_IPV6, LINK_LINUX_SLL2, LINK_PPP,
			   LINK_PPP_SERIAL };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ck_assert(decode_linktype_supported(ok[i]));
	for (int a = 0; a < DEV_COUNT; a++) {
		ck_assert_str_ne(decode_event_name((enum decode_event)a), "unknown");
		for (int b = 0; b < a; b++)
			ck_assert_str_ne(decode_event_name((enum decode_event)a),
					 decode_event_name((enum decode_event)b));
	}
	ck_assert_str_eq(decode_event_name(DEV_COUNT), "unknown");
}
END_TEST

START_TEST(test_not_ip)
{
	struct packet p;
	struct decode_stats st = { 0 };
	struct frame arp = { .n = 0 };
	put_eth(&arp, 0x0806);
	put_zeros(&arp, 28);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &arp, &st), DECODE_NOT_IP);
	ck_assert_uint_eq(st.not_ip, 1);
	/* 802.3 with LLC/SNAP carrying IPv4 is IP; plain LLC (STP) is not. */
	struct frame snap = { .n = 0 };
	put_bytes(&snap, arp.b, 12);
	size_t len_at = snap.n;
	put16(&snap, 0);
	put_llc_snap(&snap, 0x0800);
	put_inner_udp4(&snap);
	patch16(&snap, len_at, (unsigned)(snap.n - 14));
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &snap, &st), DECODE_OK);
	assert_inner_udp4(&p);
	struct frame stp = { .n = 0 };
	put_bytes(&stp, arp.b, 12);
	put16(&stp, 38); put8(&stp, 0x42); put8(&stp, 0x42); put8(&stp, 0x03);
	put_zeros(&stp, 35);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &stp, &st), DECODE_NOT_IP);
}
END_TEST

/* ---- VLAN, MPLS, PPPoE ----------------------------------------------- */

START_TEST(test_vlan_tags)
{
	struct packet p;
	struct frame f = { .n = 0 };
	build_qinq(&f);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &f, NULL), DECODE_OK);
	assert_inner_tcp4(&p);
	ck_assert_uint_eq(p.vlan_count, 2);
	ck_assert_uint_eq(p.vlan[0], 100);
	ck_assert_uint_eq(p.vlan[1], 200);

	/* Three tags (old 0x9100 outer): the outermost two are kept. */
	struct frame g = { .n = 0 };
	put_eth(&g, 0x9100);
	put16(&g, 7); put16(&g, 0x8100);
	put16(&g, 8); put16(&g, 0x8100);
	put16(&g, 9); put16(&g, 0x86dd);
	put_inner_tcp6(&g, V6_A);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &g, NULL), DECODE_OK);
	assert_inner_tcp6(&p, V6_A);
	ck_assert_uint_eq(p.vlan_count, 3);
	ck_assert_uint_eq(p.vlan[0], 7);
	ck_assert_uint_eq(p.vlan[1], 8);

	/* A tag followed by an 802.3 length and LLC/SNAP. */
	struct frame l = { .n = 0 };
	put_eth(&l, 0x8100);
	put16(&l, 12);
	size_t len_at = l.n;
	put16(&l, 0);
	put_llc_snap(&l, 0x0800);
	put_inner_udp4(&l);
	patch16(&l, len_at, (unsigned)(l.n - len_at - 2));
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &l, NULL), DECODE_OK);
	assert_inner_udp4(&p);
	ck_assert_uint_eq(p.vlan[0], 12);

	/* A tag cut short. */
	struct frame h = { .n = 0 };
	put_eth(&h, 0x8100);
	put16(&h, 5);
	struct decode_stats st = { 0 };
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &h, &st), DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_VLAN_SHORT], 1);
}
END_TEST

START_TEST(test_vlan_flood_is_bounded)
{
	struct frame f = { .n = 0 };
	put_eth(&f, 0x8100);
	for (int i = 0; i < 200; i++) {
		put16(&f, (unsigned)i);
		put16(&f, 0x8100);
	}
	put16(&f, 1); put16(&f, 0x0800);
	put_inner_udp4(&f);
	struct packet p;
	struct decode_stats st = { 0 };
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &f, &st), DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_TOO_DEEP], 1);
}
END_TEST

START_TEST(test_mpls)
{
	struct packet p;
	struct decode_stats st = { 0 };
	/* Two labels, IPv4 by nibble. */
	struct frame f = { .n = 0 };
	put_eth(&f, 0x8847);
	put32(&f, (100u << 12) | 64);
	put32(&f, (200u << 12) | 0x100 | 64);
	put_inner_udp4(&f);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &f, &st), DECODE_OK);
	assert_inner_udp4(&p);
	/* Multicast ethertype, IPv6 by nibble. */
	struct frame g = { .n = 0 };
	put_eth(&g, 0x8848);
	put32(&g, (300u << 12) | 0x100 | 64);
	put_inner_tcp6(&g, V6_A);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &g, &st), DECODE_OK);
	assert_inner_tcp6(&p, V6_A);
	/* Ethernet pseudowire behind a control word. */
	struct frame h = { .n = 0 };
	build_mpls_pw(&h);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &h, &st), DECODE_OK);
	assert_inner_udp4(&p);
	/* Unknown payload nibble. */
	struct frame u = { .n = 0 };
	put_eth(&u, 0x8847);
	put32(&u, (300u << 12) | 0x100 | 64);
	put32(&u, 0x90000000);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &u, &st), DECODE_NOT_IP);
	/* A stack that never reaches the bottom. */
	struct frame s = { .n = 0 };
	put_eth(&s, 0x8847);
	put32(&s, (300u << 12) | 64);
	put32(&s, (301u << 12) | 64);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &s, &st), DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_MPLS_SHORT], 1);
}
END_TEST

START_TEST(test_pppoe)
{
	struct packet p;
	struct decode_stats st = { 0 };
	struct frame f = { .n = 0 };
	build_pppoe(&f);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &f, &st), DECODE_OK);
	assert_inner_tcp6(&p, V6_A);

	struct frame g = { .n = 0 };
	put_eth(&g, 0x8864);
	put8(&g, 0x11); put8(&g, 0); put16(&g, 1);
	size_t len_at = g.n;
	put16(&g, 0); put16(&g, 0x0021);
	put_inner_udp4(&g);
	patch16(&g, len_at, (unsigned)(g.n - len_at - 2));
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &g, &st), DECODE_OK);
	assert_inner_udp4(&p);

	/* LCP inside the session, and discovery frames, are not IP. */
	struct frame lcp = { .n = 0 };
	put_eth(&lcp, 0x8864);
	put8(&lcp, 0x11); put8(&lcp, 0); put16(&lcp, 1); put16(&lcp, 6); put16(&lcp, 0xc021);
	put_zeros(&lcp, 4);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &lcp, &st), DECODE_NOT_IP);
	struct frame disc = { .n = 0 };
	put_eth(&disc, 0x8863);
	put8(&disc, 0x11); put8(&disc, 0x09); put16(&disc, 0); put16(&disc, 0);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &disc, &st), DECODE_NOT_IP);

	/* A session length longer than the (uncut) frame. */
	patch16(&g, len_at, (unsigned)(g.n - len_at + 10));
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &g, &st), DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_PPPOE_SHORT], 1);
}
END_TEST

/* ---- IP and transport ------------------------------------------------ */

START_TEST(test_ipv4_malformed)
{
	struct packet p;
	struct decode_stats st = { 0 };
	struct frame f = { .n = 0 };
	build_eth_udp4(&f);

	struct frame bad = f;
	bad.b[14] = 0x44;                           /* IHL 4 */
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &bad, &st), DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_IPV4_BAD], 1);

	bad = f;
	patch16(&bad, 16, 12);                      /* total length < header */
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &bad, &st), DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_IPV4_BAD], 2);

	bad = f;
	patch16(&bad, 16, (unsigned)(f.n - 14 + 1)); /* one byte more than the frame */
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &bad, &st), DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_IPV4_SHORT], 1);

	bad = f;
	bad.b[14] = 0x4f;                           /* IHL 15: 60 bytes, frame has 33 */
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &bad, &st), DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_IPV4_SHORT], 2);

	bad = f;
	patch16(&bad, 14 + 20 + 4, 7);              /* UDP length < 8 */
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &bad, &st), DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_UDP_BAD], 1);

	bad = f;
	patch16(&bad, 14 + 20 + 4, 8 + PAYLOAD_LEN + 1); /* UDP length > IP payload */
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &bad, &st), DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_UDP_BAD], 2);

	bad = f;
	patch16(&bad, 14 + 20 + 4, 8 + 2);          /* UDP length trims the payload */
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &bad, &st), DECODE_OK);
	ck_assert_uint_eq(p.payload_len, 2);

	struct frame t = { .n = 0 };
	build_eth_tcp4_options(&t);
	bad = t;
	bad.b[14 + 32 + 12] = 0x40;                 /* TCP data offset 4 */
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &bad, &st), DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_TCP_BAD], 1);
	bad = t;
	bad.b[14 + 32 + 12] = 0xf0;                 /* 60 bytes, segment has 37 */
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &bad, &st), DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_TCP_BAD], 2);
	ck_assert_uint_eq(st.errors, 8);
	ck_assert_uint_eq(st.packets, 9);
}
END_TEST

START_TEST(test_ipv4_tso_zero_length)
{
	struct frame f = { .n = 0 };
	build_eth_tcp4_options(&f);
	patch16(&f, 16, 0);
	struct packet p;
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &f, NULL), DECODE_OK);
	assert_inner_tcp4(&p);
}
END_TEST

START_TEST(test_snaplen_cut)
{
	struct frame f = { .n = 0 };
	build_eth_tcp6(&f);
	put_zeros(&f, 100);
	patch16(&f, 14 + 4, 20 + PAYLOAD_LEN + 100);
	uint32_t cut = (uint32_t)(14 + 40 + 20 + 3);
	struct packet p;
	struct decode_stats st = { 0 };
	/* Cut by snaplen: headers whole, the payload is what was captured. */
	ck_assert_int_eq(decode_checked(&p, LINK_ETHERNET, f.b, cut, (uint32_t)f.n, 7, &st, NULL),
			 DECODE_OK);
	ck_assert_uint_eq(p.payload_len, 3);
	ck_assert_uint_eq(p.dport, 80);
	ck_assert_uint_eq(p.l3_len, cut - 14);
	ck_assert_uint_eq(p.ts_usec, 7);
	ck_assert_uint_eq(st.event[DEV_TRUNCATED], 1);
	ck_assert_uint_eq(st.errors, 0);
	/* The same bytes with no cut recorded: the length field lies. */
	ck_assert_int_eq(decode_checked(&p, LINK_ETHERNET, f.b, cut, cut, 0, &st, NULL),
			 DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_IPV6_SHORT], 1);
	/* Cut inside the TCP header: an error even though snaplen is to blame. */
	ck_assert_int_eq(decode_checked(&p, LINK_ETHERNET, f.b, 14 + 40 + 10, (uint32_t)f.n, 0, &st,
					NULL),
			 DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_TCP_SHORT], 1);
}
END_TEST

START_TEST(test_ipv4_fragments)
{
	struct frame f = { .n = 0 };
	build_ipv4_first_fragment(&f);
	struct packet p;
	struct decode_stats st = { 0 };
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &f, &st), DECODE_FRAGMENT);
	ck_assert_uint_eq(p.frag_id, 0x1234);
	ck_assert_uint_eq(p.frag_offset, 0);
	ck_assert(p.frag_more);
	ck_assert_uint_eq(p.frag_proto, 17);
	ck_assert_ptr_eq(p.frag_data, f.b + 34);
	ck_assert_uint_eq(p.frag_len, 24);
	ck_assert(addr_is(&p.src, V4_A, 4));
	ck_assert_uint_eq(st.fragments, 1);

	/* The last fragment: offset 24, no MF, 76 more bytes. */
	struct frame g = { .n = 0 };
	put_eth(&g, 0x0800);
	size_t ip = ipv4_open_opts(&g, 17, V4_A, V4_B, 0, 24 / 8);
	for (int i = 0; i < 76; i++)
		put8(&g, 'a' + i % 26);
	ipv4_close(&g, ip);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &g, &st), DECODE_FRAGMENT);
	ck_assert_uint_eq(p.frag_offset, 24);
	ck_assert(!p.frag_more);
	ck_assert_uint_eq(p.frag_len, 76);

	/* Reassemble as the reassembler would and decode the datagram, keeping
	 * the tunnel fields of the packet it arrived in. */
	uint8_t dgram[20 + 100];
	memcpy(dgram, f.b + 14, 20);
	memcpy(dgram + 20, f.b + 34, 24);
	memcpy(dgram + 44, g.b + 34, 76);
	dgram[2] = 0; dgram[3] = sizeof(dgram);
	dgram[6] = 0; dgram[7] = 0;
	p.tunnel = TUNNEL_GRE;
	p.tunnel_depth = 1;
	p.vlan_count = 1;
	p.vlan[0] = 55;
	ck_assert_int_eq(decode_ip(&p, dgram, sizeof(dgram), &st), DECODE_OK);
	ck_assert_uint_eq(p.sport, 1111);
	ck_assert_uint_eq(p.dport, 2222);
	ck_assert_uint_eq(p.payload_len, 92);
	ck_assert_ptr_eq(p.payload, dgram + 28);
	ck_assert_uint_eq(p.tunnel, TUNNEL_GRE);
	ck_assert_uint_eq(p.tunnel_depth, 1);
	ck_assert_uint_eq(p.vlan[0], 55);
	ck_assert_ptr_null(p.frag_data);
	ck_assert_int_eq(decode_ip(&p, dgram, 3, &st), DECODE_ERROR);
	ck_assert_int_eq(decode_ip(&p, NULL, 0, &st), DECODE_ERROR);
}
END_TEST

START_TEST(test_ipv6_extension_headers)
{
	struct frame f = { .n = 0 };
	build_ipv6_ext(&f);
	struct packet p;
	struct decode_stats st = { 0 };
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &f, &st), DECODE_OK);
	ck_assert_uint_eq(p.l4proto, 17);
	ck_assert_uint_eq(p.sport, 1111);
	ck_assert(payload_is_hello(&p));

	/* An extension header running past the payload length. */
	struct frame bad = f;
	bad.b[14 + 40 + 8 + 1] = 9;                 /* routing header: 80 bytes */
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &bad, &st), DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_IPV6_EXT_BAD], 1);

	/* ESP: nothing readable past it. */
	struct frame esp = { .n = 0 };
	put_eth(&esp, 0x86dd);
	size_t ip = ipv6_open(&esp, 50, V6_A, V6_B);
	put32(&esp, 0x1000); put32(&esp, 1); put_zeros(&esp, 32);
	ipv6_close(&esp, ip);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &esp, &st), DECODE_IP_OTHER);
	ck_assert_uint_eq(p.l4proto, 50);
	ck_assert(addr_is(&p.dst, V6_B, 6));

	/* A chain longer than any real stack sends. */
	struct frame chain = { .n = 0 };
	put_eth(&chain, 0x86dd);
	ip = ipv6_open(&chain, 60, V6_A, V6_B);
	for (int i = 0; i < 40; i++) {
		put8(&chain, 60); put8(&chain, 0); put_zeros(&chain, 6);
	}
	ipv6_close(&chain, ip);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &chain, &st), DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_IPV6_EXT_BAD], 2);

	/* Wrong version in an IPv6 ethertype. */
	bad = f;
	bad.b[14] = 0x50;
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &bad, &st), DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_IPV6_BAD], 1);
}
END_TEST

START_TEST(test_ipv6_fragments)
{
	struct frame f = { .n = 0 };
	put_eth(&f, 0x86dd);
	size_t ip = ipv6_open(&f, 0, V6_A, V6_B);
	put8(&f, 44); put8(&f, 0); put_zeros(&f, 6);       /* hop-by-hop */
	put8(&f, 17); put8(&f, 0); put16(&f, (1448u) | 1); put32(&f, 0xabcdef01);
	put_zeros(&f, 64);
	ipv6_close(&f, ip);
	struct packet p;
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &f, NULL), DECODE_FRAGMENT);
	ck_assert_uint_eq(p.frag_id, 0xabcdef01);
	ck_assert_uint_eq(p.frag_offset, 1448);
	ck_assert(p.frag_more);
	ck_assert_uint_eq(p.frag_proto, 17);
	ck_assert_uint_eq(p.frag_len, 64);
	ck_assert_ptr_eq(p.frag_data, f.b + 14 + 40 + 16);

	/* An atomic fragment (offset 0, no more) is a whole datagram. */
	struct frame a = { .n = 0 };
	put_eth(&a, 0x86dd);
	ip = ipv6_open(&a, 44, V6_A, V6_B);
	put8(&a, 6); put8(&a, 0); put16(&a, 0); put32(&a, 5);
	put_tcp(&a, 4444, 80, 0, TCP_PSH | TCP_ACK);
	put_bytes(&a, PAYLOAD, PAYLOAD_LEN);
	ipv6_close(&a, ip);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &a, NULL), DECODE_OK);
	assert_inner_tcp6(&p, V6_A);
}
END_TEST

/* ---- tunnels --------------------------------------------------------- */

START_TEST(test_gre)
{
	struct packet p;
	struct decode_stats st = { 0 };
	struct frame f = { .n = 0 };
	build_gre_keyed(&f);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &f, &st), DECODE_OK);
	assert_inner_udp4(&p);
	assert_outer_v4(&p, TUNNEL_GRE, 1);
	ck_assert_uint_eq(st.tunnelled, 1);

	/* Transparent Ethernet bridging, carrying IPv6. */
	struct frame g = { .n = 0 };
	put_eth(&g, 0x0800);
	size_t ip = ipv4_open(&g, 47, V4_OUT_A, V4_OUT_B);
	put16(&g, 0); put16(&g, 0x6558);
	put_eth(&g, 0x86dd);
	put_inner_tcp6(&g, V6_A);
	ipv4_close(&g, ip);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &g, &st), DECODE_OK);
	assert_inner_tcp6(&p, V6_A);
	assert_outer_v4(&p, TUNNEL_GRE, 1);

	/* Unknown GRE payload: the outer packet is the answer. */
	struct frame u = { .n = 0 };
	put_eth(&u, 0x0800);
	ip = ipv4_open(&u, 47, V4_OUT_A, V4_OUT_B);
	put16(&u, 0); put16(&u, 0x1234); put_zeros(&u, 20);
	ipv4_close(&u, ip);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &u, &st), DECODE_IP_OTHER);
	ck_assert_uint_eq(p.l4proto, 47);
	ck_assert(addr_is(&p.src, V4_OUT_A, 4));

	/* GRE version 3 does not exist. */
	struct frame v = u;
	v.b[14 + 20 + 1] = 3;
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &v, &st), DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_TUNNEL_BAD], 1);

	/* Flags announce a key and sequence the packet does not have. */
	struct frame s = { .n = 0 };
	put_eth(&s, 0x0800);
	ip = ipv4_open(&s, 47, V4_OUT_A, V4_OUT_B);
	put16(&s, 0x3000); put16(&s, 0x0800); put32(&s, 1);
	ipv4_close(&s, ip);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &s, &st), DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_TUNNEL_SHORT], 1);
}
END_TEST

START_TEST(test_erspan)
{
	struct packet p;
	struct frame f = { .n = 0 };
	build_erspan3(&f);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &f, NULL), DECODE_OK);
	assert_inner_tcp4(&p);
	assert_outer_v4(&p, TUNNEL_ERSPAN, 1);
	ck_assert_uint_eq(p.vlan_count, 1);
	ck_assert_uint_eq(p.vlan[0], 5);

	/* Type II: sequence number, 8-byte header. */
	struct frame g = { .n = 0 };
	put_eth(&g, 0x0800);
	size_t ip = ipv4_open(&g, 47, V4_OUT_A, V4_OUT_B);
	put16(&g, 0x1000); put16(&g, 0x88be); put32(&g, 9);
	put16(&g, 0x1000); put16(&g, 0x0001); put32(&g, 0);
	put_eth(&g, 0x0800);
	put_inner_udp4(&g);
	ipv4_close(&g, ip);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &g, NULL), DECODE_OK);
	assert_inner_udp4(&p);
	assert_outer_v4(&p, TUNNEL_ERSPAN, 1);

	/* The session cut the mirrored copy and set the T bit: decoded with the
	 * bytes there are. Without the T bit the inner length is a lie. */
	struct frame cut = { .n = 0 };
	put_bytes(&cut, g.b, g.n - 3);
	patch16(&cut, 16, (unsigned)(cut.n - 14));
	struct decode_stats st = { 0 };
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &cut, &st), DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_IPV4_SHORT], 1);
	cut.b[14 + 20 + 8 + 2] |= 0x04;
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &cut, &st), DECODE_OK);
	ck_assert_uint_eq(p.dport, 2222);
	ck_assert_uint_eq(p.payload_len, PAYLOAD_LEN - 3);
	ck_assert_uint_eq(st.event[DEV_TRUNCATED], 1);

	/* Type I: no sequence number, no ERSPAN header. */
	struct frame h = { .n = 0 };
	put_eth(&h, 0x0800);
	ip = ipv4_open(&h, 47, V4_OUT_A, V4_OUT_B);
	put16(&h, 0); put16(&h, 0x88be);
	put_eth(&h, 0x0800);
	put_inner_udp4(&h);
	ipv4_close(&h, ip);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &h, NULL), DECODE_OK);
	assert_inner_udp4(&p);
	ck_assert_uint_eq(p.tunnel, TUNNEL_ERSPAN);
}
END_TEST

START_TEST(test_pptp)
{
	struct packet p;
	struct frame f = { .n = 0 };
	build_pptp(&f);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &f, NULL), DECODE_OK);
	assert_inner_udp4(&p);
	assert_outer_v4(&p, TUNNEL_GRE, 1);

	/* An acknowledgement without payload. */
	struct frame g = { .n = 0 };
	put_eth(&g, 0x0800);
	size_t ip = ipv4_open(&g, 47, V4_OUT_A, V4_OUT_B);
	put16(&g, 0x2081); put16(&g, 0x880b); put16(&g, 0); put16(&g, 0x11); put32(&g, 41);
	ipv4_close(&g, ip);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &g, NULL), DECODE_IP_OTHER);
	ck_assert_uint_eq(p.tunnel_depth, 0);
}
END_TEST

START_TEST(test_aruba)
{
	struct packet p;
	struct frame f = { .n = 0 };
	build_aruba(&f);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &f, NULL), DECODE_OK);
	assert_inner_tcp4(&p);
	assert_outer_v4(&p, TUNNEL_ARUBA, 1);

	/* Plain data frame from the DS, GRE protocol 0x9000, IPv6. */
	struct frame g = { .n = 0 };
	put_eth(&g, 0x0800);
	size_t ip = ipv4_open(&g, 47, V4_OUT_A, V4_OUT_B);
	put16(&g, 0); put16(&g, 0x9000);
	put_80211_header(&g, 0x08, 0x02, 0);
	put_llc_snap(&g, 0x86dd);
	put_inner_tcp6(&g, V6_A);
	ipv4_close(&g, ip);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &g, NULL), DECODE_OK);
	assert_inner_tcp6(&p, V6_A);

	/* A-MSDU: the first subframe. */
	struct frame h = { .n = 0 };
	put_eth(&h, 0x0800);
	ip = ipv4_open(&h, 47, V4_OUT_A, V4_OUT_B);
	put16(&h, 0); put16(&h, 0x8240);
	put_80211_header(&h, 0x88, 0x02, 0x0080);
	put_zeros(&h, 12); put16(&h, 8 + 20 + 8 + PAYLOAD_LEN);
	put_llc_snap(&h, 0x0800);
	put_inner_udp4(&h);
	ipv4_close(&h, ip);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &h, NULL), DECODE_OK);
	assert_inner_udp4(&p);

	/* Encrypted frames are counted as not IP. */
	struct frame e = f;
	e.b[14 + 20 + 4 + 1] |= 0x40;
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &e, NULL), DECODE_NOT_IP);
	ck_assert_uint_eq(p.tunnel, TUNNEL_ARUBA);
}
END_TEST

START_TEST(test_vxlan)
{
	struct packet p;
	struct decode_stats st = { 0 };
	struct frame f = { .n = 0 };
	build_vxlan(&f);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &f, &st), DECODE_OK);
	assert_inner_udp4(&p);
	assert_outer_v4(&p, TUNNEL_VXLAN, 1);

	struct frame g = { .n = 0 };
	build_udp_tunnel(&g, 8472, put_vxlan);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &g, &st), DECODE_OK);
	assert_inner_udp4(&p);

	/* Without the I flag it is not VXLAN: report the outer UDP packet. */
	struct frame h = f;
	h.b[14 + 20 + 8] = 0;
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &h, &st), DECODE_OK);
	ck_assert_uint_eq(p.tunnel_depth, 0);
	ck_assert_uint_eq(p.dport, 4789);
	ck_assert(addr_is(&p.src, V4_OUT_A, 4));
	ck_assert_ptr_eq(p.payload, h.b + 14 + 20 + 8);
	ck_assert_uint_eq(st.errors, 0);
	ck_assert_uint_eq(st.tunnelled, 2);

	/* Only the destination port names VXLAN: a client whose ephemeral
	 * source port is 4789 is not tunnelling. */
	struct frame k = { .n = 0 };
	put_eth(&k, 0x0800);
	size_t ip = ipv4_open(&k, 17, V4_OUT_A, V4_OUT_B);
	size_t udp = udp_open(&k, 4789, 53);
	put_vxlan(&k);
	udp_close(&k, udp);
	ipv4_close(&k, ip);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &k, &st), DECODE_OK);
	ck_assert_uint_eq(p.tunnel_depth, 0);
	ck_assert_uint_eq(p.dport, 53);
}
END_TEST

START_TEST(test_geneve)
{
	struct packet p;
	struct frame f = { .n = 0 };
	build_geneve(&f);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &f, NULL), DECODE_OK);
	assert_inner_tcp4(&p);
	assert_outer_v4(&p, TUNNEL_GENEVE, 1);

	/* Options longer than the packet: plain UDP. */
	struct frame g = f;
	g.b[14 + 20 + 8] = 0x3f;
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &g, NULL), DECODE_OK);
	ck_assert_uint_eq(p.tunnel_depth, 0);
	ck_assert_uint_eq(p.dport, 6081);
}
END_TEST

START_TEST(test_gtpu)
{
	struct packet p;
	struct frame f = { .n = 0 };
	build_gtpu(&f);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &f, NULL), DECODE_OK);
	assert_inner_udp4(&p);
	assert_outer_v4(&p, TUNNEL_GTPU, 1);

	/* Echo request on the same port stays UDP. */
	struct frame g = f;
	g.b[14 + 20 + 8 + 1] = 1;
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &g, NULL), DECODE_OK);
	ck_assert_uint_eq(p.tunnel_depth, 0);
	ck_assert_uint_eq(p.dport, 2152);

	/* Minimal header, no optional fields, IPv6 inside. */
	struct frame h = { .n = 0 };
	put_eth(&h, 0x0800);
	size_t ip = ipv4_open(&h, 17, V4_OUT_A, V4_OUT_B);
	size_t udp = udp_open(&h, 2152, 2152);
	put8(&h, 0x30); put8(&h, 0xff); put16(&h, 40 + 20 + PAYLOAD_LEN); put32(&h, 1);
	put_inner_tcp6(&h, V6_A);
	udp_close(&h, udp);
	ipv4_close(&h, ip);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &h, NULL), DECODE_OK);
	assert_inner_tcp6(&p, V6_A);
}
END_TEST

START_TEST(test_teredo)
{
	struct packet p;
	struct frame f = { .n = 0 };
	build_teredo(&f);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &f, NULL), DECODE_OK);
	assert_inner_tcp6(&p, V6_TEREDO);
	assert_outer_v4(&p, TUNNEL_TEREDO, 1);

	/* Port 3544 with bytes that are not IPv6: plain UDP. */
	struct frame g = { .n = 0 };
	put_eth(&g, 0x0800);
	size_t ip = ipv4_open(&g, 17, V4_OUT_A, V4_OUT_B);
	size_t udp = udp_open(&g, 3544, 53);
	put_zeros(&g, 10);
	for (int i = 0; i < 40; i++)
		put8(&g, 0x61);
	udp_close(&g, udp);
	ipv4_close(&g, ip);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &g, NULL), DECODE_OK);
	ck_assert_uint_eq(p.tunnel_depth, 0);
	ck_assert_uint_eq(p.sport, 3544);

	/* Relay traffic on other ports is recognised by its Teredo address... */
	struct frame h = { .n = 0 };
	put_eth(&h, 0x0800);
	ip = ipv4_open(&h, 17, V4_OUT_A, V4_OUT_B);
	udp = udp_open(&h, 3797, 32900);
	put_inner_tcp6(&h, V6_TEREDO);
	udp_close(&h, udp);
	ipv4_close(&h, ip);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &h, NULL), DECODE_OK);
	assert_inner_tcp6(&p, V6_TEREDO);
	ck_assert_uint_eq(p.tunnel, TUNNEL_TEREDO);

	/* ...and without one it stays UDP. */
	struct frame k = { .n = 0 };
	put_eth(&k, 0x0800);
	ip = ipv4_open(&k, 17, V4_OUT_A, V4_OUT_B);
	udp = udp_open(&k, 3797, 32900);
	put_inner_tcp6(&k, V6_A);
	udp_close(&k, udp);
	ipv4_close(&k, ip);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &k, NULL), DECODE_OK);
	ck_assert_uint_eq(p.tunnel_depth, 0);
	ck_assert_uint_eq(p.dport, 32900);
}
END_TEST

START_TEST(test_ayiya_and_gre_udp)
{
	struct packet p;
	struct frame f = { .n = 0 };
	build_ayiya(&f);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &f, NULL), DECODE_OK);
	assert_inner_tcp6(&p, V6_A);
	assert_outer_v4(&p, TUNNEL_AYIYA, 1);

	/* A heartbeat (opcode 0) is not forwarded traffic. */
	struct frame g = f;
	g.b[14 + 20 + 8 + 2] = 0x10;
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &g, NULL), DECODE_OK);
	ck_assert_uint_eq(p.tunnel_depth, 0);
	ck_assert_uint_eq(p.dport, 5072);

	struct frame h = { .n = 0 };
	build_gre_udp(&h);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &h, NULL), DECODE_OK);
	assert_inner_udp4(&p);
	assert_outer_v4(&p, TUNNEL_GRE, 1);
}
END_TEST

START_TEST(test_ip_in_ip)
{
	struct packet p;
	struct frame f = { .n = 0 };
	put_eth(&f, 0x0800);
	size_t ip = ipv4_open(&f, 4, V4_OUT_A, V4_OUT_B);
	put_inner_udp4(&f);
	ipv4_close(&f, ip);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &f, NULL), DECODE_OK);
	assert_inner_udp4(&p);
	assert_outer_v4(&p, TUNNEL_IPIP, 1);

	struct frame g = { .n = 0 };
	build_6in4(&g);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &g, NULL), DECODE_OK);
	assert_inner_tcp6(&p, V6_A);
	assert_outer_v4(&p, TUNNEL_IPIP, 1);

	struct frame h = { .n = 0 };
	build_4in6(&h);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &h, NULL), DECODE_OK);
	assert_inner_udp4(&p);
	ck_assert(addr_is(&p.outer_src, V6_A, 6));
	ck_assert(addr_is(&p.outer_dst, V6_B, 6));

	struct frame k = { .n = 0 };
	put_eth(&k, 0x86dd);
	ip = ipv6_open(&k, 41, V6_B, V6_A);
	put_inner_tcp6(&k, V6_A);
	ipv6_close(&k, ip);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &k, NULL), DECODE_OK);
	assert_inner_tcp6(&p, V6_A);
	ck_assert(addr_is(&p.outer_src, V6_B, 6));
}
END_TEST

/* IP-in-IP nested n times around a UDP packet. */
static void build_nested_ipip(struct frame *f, int n)
{
	put_eth(f, 0x0800);
	size_t at[DECODE_MAX_DEPTH + 2];
	for (int i = 0; i < n; i++)
		at[i] = ipv4_open(f, 4, V4_OUT_A, V4_OUT_B);
	put_inner_udp4(f);
	for (int i = n - 1; i >= 0; i--)
		ipv4_close(f, at[i]);
}

START_TEST(test_tunnel_depth_bound)
{
	struct packet p;
	struct decode_stats st = { 0 };
	struct frame f = { .n = 0 };
	build_nested_ipip(&f, DECODE_MAX_DEPTH);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &f, &st), DECODE_OK);
	assert_inner_udp4(&p);
	ck_assert_uint_eq(p.tunnel_depth, DECODE_MAX_DEPTH);

	struct frame g = { .n = 0 };
	build_nested_ipip(&g, DECODE_MAX_DEPTH + 1);
	ck_assert_int_eq(decode_frame(&p, LINK_ETHERNET, &g, &st), DECODE_ERROR);
	ck_assert_uint_eq(st.event[DEV_TOO_DEEP], 1);
}
END_TEST

/* ---- the fast path's reach ------------------------------------------- */

/* Decodes f (cut to caplen, wirelen bytes on the wire) through
 * decode_checked() and asserts the answer and whether the fast path took it. */
static void assert_fast_path(const struct frame *f, int linktype, size_t caplen,
			     enum decode_result want, bool taken, const char *what)
{
	struct packet p;
	uint64_t fast = 0;
	enum decode_result r = decode_checked(&p, linktype, f->b, (uint32_t)caplen,
					      (uint32_t)f->n, 0, NULL, &fast);
	ck_assert_msg(r == want, "%s: result %d, want %d", what, r, want);
	ck_assert_msg((fast == 1) == taken, "%s: fast path %s", what, taken ? "not taken" : "taken");
}

static void build_vlan_tags(struct frame *f, unsigned tags)
{
	put_eth(f, tags ? 0x8100 : 0x0800);
	for (unsigned i = 1; i <= tags; i++) {
		put16(f, 100 + i);
		put16(f, i < tags ? 0x8100 : 0x0800);
	}
	put_inner_tcp4(f);
}

START_TEST(test_fast_path_link_and_tags)
{
	struct frame f = { .n = 0 };
	build_eth_udp4(&f);
	put_zeros(&f, 20);                  /* trailer padding */
	assert_fast_path(&f, LINK_ETHERNET, f.n, DECODE_OK, true, "padded");
	assert_fast_path(&f, LINK_ETHERNET, f.n - 1, DECODE_OK, false, "snaplen cut");

	for (unsigned tags = 0; tags <= 3; tags++) {
		struct frame t = { .n = 0 };
		build_vlan_tags(&t, tags);
		assert_fast_path(&t, LINK_ETHERNET, t.n, DECODE_OK, tags <= 2, "tags");
	}

	struct frame raw4 = { .n = 0 }, raw6 = { .n = 0 }, sll = { .n = 0 };
	put_inner_tcp4(&raw4);
	put_inner_tcp6(&raw6, V6_A);
	assert_fast_path(&raw4, LINK_RAW, raw4.n, DECODE_OK, true, "raw v4");
	assert_fast_path(&raw6, LINK_RAW, raw6.n, DECODE_OK, true, "raw v6");
	assert_fast_path(&raw4, LINK_IPV4, raw4.n, DECODE_OK, true, "ipv4 link");
	assert_fast_path(&raw6, LINK_IPV6, raw6.n, DECODE_OK, true, "ipv6 link");
	assert_fast_path(&raw6, LINK_IPV4, raw6.n, DECODE_ERROR, false, "v6 on ipv4 link");
	put16(&sll, 0); put16(&sll, 1); put16(&sll, 6); put_zeros(&sll, 8); put16(&sll, 0x0800);
	put_inner_udp4(&sll);
	assert_fast_path(&sll, LINK_LINUX_SLL, sll.n, DECODE_OK, true, "sll");
}
END_TEST

START_TEST(test_fast_path_ip_and_transport)
{
	struct frame df = { .n = 0 };
	put_eth(&df, 0x0800);
	size_t ip = ipv4_open_opts(&df, 6, V4_A, V4_B, 0, 0x4000);
	put_tcp(&df, 3333, 443, 0, TCP_SYN);
	ipv4_close(&df, ip);
	assert_fast_path(&df, LINK_ETHERNET, df.n, DECODE_OK, true, "don't fragment");

	struct frame tso = { .n = 0 };
	build_eth_tcp4_options(&tso);
	patch16(&tso, 16, 0);
	assert_fast_path(&tso, LINK_ETHERNET, tso.n, DECODE_OK, false, "length 0");

	struct frame icmp = { .n = 0 };
	put_eth(&icmp, 0x0800);
	ip = ipv4_open(&icmp, 1, V4_A, V4_B);
	put_zeros(&icmp, 8);
	ipv4_close(&icmp, ip);
	assert_fast_path(&icmp, LINK_ETHERNET, icmp.n, DECODE_IP_OTHER, false, "icmp");

	struct frame udp_long = { .n = 0 };
	build_eth_udp4(&udp_long);
	patch16(&udp_long, 14 + 20 + 4, 8 + PAYLOAD_LEN + 1);
	assert_fast_path(&udp_long, LINK_ETHERNET, udp_long.n, DECODE_ERROR, false, "udp length");

	struct frame tcp_short = { .n = 0 };
	build_eth_tcp6(&tcp_short);
	tcp_short.b[14 + 40 + 12] = 0x40;   /* data offset 4 */
	assert_fast_path(&tcp_short, LINK_ETHERNET, tcp_short.n, DECODE_ERROR, false,
			 "tcp offset");
}
END_TEST

/* UDP payloads that look like IPv6 are tried as Teredo on any port; the fast
 * path leaves that to decode_udp_tunnel(), as decode_udp() does. */
START_TEST(test_fast_path_udp_tunnels)
{
	struct frame f = { .n = 0 };
	put_eth(&f, 0x0800);
	size_t ip = ipv4_open(&f, 17, V4_OUT_A, V4_OUT_B);
	size_t udp = udp_open(&f, 40000, 50000);
	put_inner_tcp6(&f, V6_TEREDO);
	udp_close(&f, udp);
	ipv4_close(&f, ip);
	struct packet p;
	uint64_t fast = 0;
	ck_assert_int_eq(decode_checked(&p, LINK_ETHERNET, f.b, (uint32_t)f.n, (uint32_t)f.n, 0,
					NULL, &fast), DECODE_OK);
	ck_assert_uint_eq(fast, 1);
	assert_inner_tcp6(&p, V6_TEREDO);
	assert_outer_v4(&p, TUNNEL_TEREDO, 1);

	/* Not a Teredo address at either end: plain UDP. */
	f.b[14 + 20 + 8 + 8 + 1] = 0x02;
	fast = 0;
	ck_assert_int_eq(decode_checked(&p, LINK_ETHERNET, f.b, (uint32_t)f.n, (uint32_t)f.n, 0,
					NULL, &fast), DECODE_OK);
	ck_assert_uint_eq(fast, 1);
	ck_assert_uint_eq(p.tunnel, TUNNEL_NONE);
	ck_assert_uint_eq(p.dport, 50000);

	/* The outer tags count towards the bound on link-level steps that the
	 * tunnelled frame's own tags meet: 2 + 30 pass, 2 + 31 do not. */
	for (unsigned inner = 30; inner <= 31; inner++) {
		struct frame v = { .n = 0 };
		put_eth(&v, 0x8100);
		put16(&v, 1); put16(&v, 0x8100);
		put16(&v, 2); put16(&v, 0x0800);
		ip = ipv4_open(&v, 17, V4_OUT_A, V4_OUT_B);
		udp = udp_open(&v, 50000, 4789);
		put8(&v, 0x08); put_zeros(&v, 7);
		build_vlan_tags(&v, inner);
		udp_close(&v, udp);
		ipv4_close(&v, ip);
		struct decode_stats st = { 0 };
		fast = 0;
		enum decode_result r = decode_checked(&p, LINK_ETHERNET, v.b, (uint32_t)v.n,
						      (uint32_t)v.n, 0, &st, &fast);
		ck_assert_uint_eq(fast, 1);
		ck_assert_int_eq(r, inner == 30 ? DECODE_OK : DECODE_ERROR);
		ck_assert_uint_eq(st.event[DEV_TOO_DEEP], inner == 30 ? 0 : 1);
	}
}
END_TEST

/* ---- hostile inputs -------------------------------------------------- */

/* Whatever the decoder answers, every pointer it hands out must lie inside
 * the captured bytes. */
static void assert_sane(const struct packet *p, enum decode_result r, const uint8_t *buf,
			size_t len)
{
	ck_assert_int_ge(r, DECODE_OK);
	ck_assert_int_le(r, DECODE_ERROR);
	uintptr_t lo = (uintptr_t)buf, hi = (uintptr_t)buf + len;
	if (r == DECODE_OK) {
		ck_assert(p->payload_len == 0 || p->payload != NULL);
		if (p->payload) {
			ck_assert((uintptr_t)p->payload >= lo);
			ck_assert((uintptr_t)p->payload + p->payload_len <= hi);
		}
	}
	if (r == DECODE_OK || r == DECODE_IP_OTHER || r == DECODE_FRAGMENT) {
		ck_assert(p->ip_version == 4 || p->ip_version == 6);
		ck_assert((uintptr_t)p->l3 >= lo);
		ck_assert((uintptr_t)p->l3 + p->l3_len <= hi);
	}
	if (r == DECODE_FRAGMENT && p->frag_data) {
		ck_assert((uintptr_t)p->frag_data >= lo);
		ck_assert((uintptr_t)p->frag_data + p->frag_len <= hi);
	}
}

/* Decodes the first len bytes from a heap block of exactly that size. */
static enum decode_result decode_copy(struct packet *p, int linktype, const uint8_t *src,
				      size_t len, uint32_t wirelen, struct decode_stats *st,
				      uint64_t *fast)
{
	uint8_t *buf = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(buf);
	if (len)
		memcpy(buf, src, len);
	enum decode_result r = decode_checked(p, linktype, len ? buf : NULL, (uint32_t)len,
					      wirelen, 0, st, fast);
	assert_sane(p, r, buf, len);
	free(buf);
	return r;
}

/* A four-address QoS data frame (to and from the DS) whose datagram ends
 * inside the fourth address: the fast path once read the QoS field past
 * the end (tests/regress/decode/aruba-four-address-qos-past-end). Every
 * length from the bare header to past the QoS field, in heap blocks of
 * exactly the frame's size: both decoders agree, and nothing is read
 * beyond the frame. */
START_TEST(test_aruba_four_addresses_cut_short)
{
	for (size_t extra = 0; extra <= 8; extra++) {
		struct frame f = { .n = 0 };
		put_eth(&f, 0x0800);
		size_t ip = ipv4_open(&f, 47, V4_OUT_A, V4_OUT_B);
		put16(&f, 0); put16(&f, 0x8200);
		put8(&f, 0x88); put8(&f, 0x03);       /* QoS data, to and from the DS */
		put16(&f, 0);
		put_zeros(&f, 18);
		put16(&f, 0x1000);
		put_zeros(&f, extra);                 /* the fourth address, cut */
		ipv4_close(&f, ip);
		struct packet p;
		struct decode_stats st = { 0 };
		uint64_t fast = 0;
		enum decode_result r = decode_copy(&p, LINK_ETHERNET, f.b, f.n, (uint32_t)f.n, &st,
						   &fast);
		ck_assert_msg(r == DECODE_ERROR, "%zu bytes after the header: %d", extra, r);
		ck_assert_uint_eq(fast, 0);
	}
}
END_TEST

START_TEST(test_every_truncation)
{
	const struct sample *s = &samples[_i];
	struct frame f = { .n = 0 };
	s->build(&f);
	struct packet p;
	struct decode_stats st = { 0 };
	uint64_t fast = 0;
	ck_assert_msg(decode_copy(&p, s->linktype, f.b, f.n, (uint32_t)f.n, &st, &fast) == s->want,
		      "%s", s->name);
	ck_assert_msg(fast == s->fast, "%s: fast path %s", s->name, s->fast ? "not taken" : "taken");
	for (size_t len = 0; len < f.n; len++) {
		/* Without a snaplen cut, a shortened frame contradicts its own
		 * length fields: always an error. */
		enum decode_result r = decode_copy(&p, s->linktype, f.b, len, (uint32_t)len, &st,
						   &fast);
		ck_assert_msg(r == DECODE_ERROR, "%s len %zu gave %d", s->name, len, r);
		/* Cut by snaplen: an error or a packet with the bytes there are. */
		r = decode_copy(&p, s->linktype, f.b, len, (uint32_t)f.n, &st, &fast);
		if (r == DECODE_OK)
			ck_assert_uint_le(p.payload_len, len);
	}
	ck_assert_uint_eq(st.packets, 1 + 2 * f.n);
	ck_assert_uint_ge(st.errors, f.n);
}
END_TEST

static uint32_t next_random(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 8;
}

START_TEST(test_random_mutations)
{
	const struct sample *s = &samples[_i];
	struct frame f = { .n = 0 };
	s->build(&f);
	uint32_t rng = 0x5eed0000u + (uint32_t)_i;
	struct decode_stats st = { 0 };
	uint64_t fast = 0;
	for (int iter = 0; iter < 3000; iter++) {
		uint8_t copy[sizeof(f.b)];
		memcpy(copy, f.b, f.n);
		int flips = 1 + (int)(next_random(&rng) % 4);
		for (int k = 0; k < flips; k++)
			copy[next_random(&rng) % f.n] = (uint8_t)next_random(&rng);
		size_t len = f.n - (next_random(&rng) % 4 == 0 ? next_random(&rng) % f.n : 0);
		struct packet p;
		decode_copy(&p, s->linktype, copy, len, (uint32_t)f.n, &st, &fast);
	}
	ck_assert_uint_eq(st.packets, 3000);
	fprintf(stderr, "decode differential: %s: 3000 mutated frames, %llu by the fast path\n",
		s->name, (unsigned long long)fast);
}
END_TEST

/* ---- the shared corpus ----------------------------------------------- */

struct corpus_expect {
	const char *file;
	enum decode_result result;
	enum tunnel_kind tunnel;
	unsigned depth;
	unsigned l4proto;
	const char *src, *dst;
	unsigned sport, dport;
	const char *outer_src;          /* NULL: not tunnelled */
	unsigned vlan_count;
	bool seen;
};

static struct corpus_expect expects[] = {
	{ "tunnels__vxlan.pcap", DECODE_IP_OTHER, TUNNEL_VXLAN, 1, 1,
	  "10.0.0.1", "10.0.0.2", 0, 0, "192.168.56.11", 0, false },
	{ "tunnels__vxlan-inner-tcp-bad-checksum.pcap", DECODE_OK, TUNNEL_VXLAN, 1, 6,
	  "10.0.0.1", "10.0.0.2", 12345, 80, "192.168.1.1", 0, false },
	{ "tunnels__vxlan-triple-v2.pcap", DECODE_OK, TUNNEL_VXLAN, 3, 17,
	  "4.4.4.4", "4.4.4.9", 53, 53, "1.1.1.1", 0, false },
	{ "tunnels__geneve.pcap", DECODE_IP_OTHER, TUNNEL_GENEVE, 1, 1,
	  "30.0.0.1", "30.0.0.2", 0, 0, "20.0.0.1", 0, false },
	{ "tunnels__geneve-47101.pcap", DECODE_OK, TUNNEL_GENEVE, 1, 6,
	  "192.168.0.107", "145.40.68.75", 45474, 443, "127.0.0.1", 0, false },
	{ "tunnels__Teredo.pcap", DECODE_OK, TUNNEL_TEREDO, 1, 6,
	  "2001:0:4137:9e50:8000:f12a:b9c8:2815", "2001:4860:0:2001::68", 1286, 80,
	  "192.168.2.16", 0, false },
	{ "tunnels__gre-aruba.pcap", DECODE_OK, TUNNEL_ARUBA, 1, 6,
	  "10.37.36.92", "205.185.216.10", 58973, 80, "10.3.34.171", 1, false },
	{ "tunnels__gre-aruba-amsdu.pcap", DECODE_OK, TUNNEL_ARUBA, 1, 6,
	  "157.240.18.16", "149.159.130.184", 443, 49392, "10.226.22.9", 1, false },
	{ "tunnels__gre-erspan3-dot1q.pcap", DECODE_IP_OTHER, TUNNEL_ERSPAN, 1, 1,
	  "172.31.10.31", "172.31.10.2", 0, 0, "172.31.1.23", 1, false },
	{ "http-qinq-0.pcap", DECODE_OK, TUNNEL_NONE, 0, 6,
	  "141.142.228.5", "192.150.187.43", 59856, 80, NULL, 2, false },
	{ "linux_dlt_sll2.pcap", DECODE_IP_OTHER, TUNNEL_NONE, 0, 1,
	  "192.0.2.1", "192.0.2.1", 0, 0, NULL, 0, false },
	{ "linux_dlt_sll2.pcap", DECODE_IP_OTHER, TUNNEL_NONE, 0, 58,
	  "fe80::8c36:6ff:fe44:acaf", "fe80::8c36:6ff:fe44:acaf", 0, 0, NULL, 0, false },
	{ "tunnels__gtp__gtp8_teredo.pcap", DECODE_IP_OTHER, TUNNEL_TEREDO, 2, 58,
	  "2001:0:5ef5:79fb:38b8:1695:2b37:be8e", "2002:2571:c817::2571:c817", 0, 0,
	  "174.94.190.229", 0, false },
	{ "ja3_lots_of_cipher_suites_2_anon.pcap", DECODE_OK, TUNNEL_GTPU, 1, 6,
	  "192.168.147.177", "151.121.193.160", 58496, 443, "132.190.244.12", 0, false },
	{ "tunnels__gre-pptp.pcap", DECODE_OK, TUNNEL_GRE, 2, 17,
	  "172.16.44.3", "8.8.8.8", 40768, 53, "2402:f000:1:8e01::5555", 1, false },
	{ "tunnels__ayiya3.pcap", DECODE_OK, TUNNEL_AYIYA, 1, 6,
	  "2001:4978:f:4c::2", "2001:4860:b002::68", 53382, 80, "192.168.3.101", 0, false },
	{ "tunnels__gre-over-udp-4754.pcap", DECODE_OK, TUNNEL_GRE, 1, 17,
	  "172.17.0.2", "1.1.1.1", 51714, 53, "192.168.0.107", 0, false },
	{ "tunnels__gre-within-gre.pcap", DECODE_OK, TUNNEL_GRE, 2, 17,
	  "3.3.3.1", "224.0.0.9", 520, 520, "72.205.54.70", 0, false },
	{ "ppp__quic-interop-retry.pcap", DECODE_OK, TUNNEL_NONE, 0, 17,
	  "193.167.0.100", "193.167.100.100", 42834, 443, NULL, 0, false },
	{ "ipv6-hbh-routing0.pcap", DECODE_OK, TUNNEL_NONE, 0, 17,
	  "2001:4f8:4:7:2e0:81ff:fe52:ffff", "2001:4f8:4:7:2e0:81ff:fe52:9a6b", 53, 53,
	  NULL, 0, false },
};
#define N_EXPECTS (sizeof(expects) / sizeof(expects[0]))

static bool addr_text_is(const struct ip_addr *a, const char *text)
{
	struct ip_addr want;
	ck_assert_msg(addr_parse(text, &want), "bad address %s", text);
	return addr_eq(a, &want);
}

static bool matches_expect(const struct corpus_expect *e, const struct packet *p,
			   enum decode_result r)
{
	if (r != e->result || p->tunnel != e->tunnel || p->tunnel_depth != e->depth ||
	    p->l4proto != e->l4proto || p->sport != e->sport || p->dport != e->dport ||
	    p->vlan_count != e->vlan_count)
		return false;
	if (!addr_text_is(&p->src, e->src) || !addr_text_is(&p->dst, e->dst))
		return false;
	return e->outer_src == NULL || addr_text_is(&p->outer_src, e->outer_src);
}

struct tally {
	uint64_t frames, fast, by_result[DECODE_ERROR + 1];
	size_t unreadable;              /* files libpcap would not open */
};

/* Small IPv4 reassembly for one capture, to check that fragments hand over
 * the right bytes and that decode_ip() accepts the rebuilt datagram. */
struct reasm {
	uint8_t dgram[65535];
	size_t hlen, total, have;
	bool header;
	int decoded;
	struct packet last;             /* what the rebuilt datagram decoded to */
};

static void reasm_add(struct reasm *ra, const struct packet *p)
{
	if (p->ip_version != 4 || p->frag_offset + (size_t)p->frag_len > sizeof(ra->dgram) - 60)
		return;
	if (p->frag_offset == 0) {
		ra->hlen = (size_t)(p->l3[0] & 0x0f) * 4;
		memcpy(ra->dgram, p->l3, ra->hlen);
		ra->header = true;
	}
	if (p->frag_len)
		memcpy(ra->dgram + 60 + p->frag_offset, p->frag_data, p->frag_len);
	ra->have += p->frag_len;
	if (!p->frag_more)
		ra->total = p->frag_offset + (size_t)p->frag_len;
	if (!ra->header || !ra->total || ra->have < ra->total)
		return;
	/* Header moved next to the data, length set, fragment field cleared. */
	memmove(ra->dgram + 60 - ra->hlen, ra->dgram, ra->hlen);
	uint8_t *h = ra->dgram + 60 - ra->hlen;
	size_t len = ra->hlen + ra->total;
	h[2] = (uint8_t)(len >> 8);
	h[3] = (uint8_t)len;
	h[6] = h[7] = 0;
	ra->last = *p;
	if (decode_ip(&ra->last, h, (uint32_t)len, NULL) == DECODE_OK)
		ra->decoded++;
	ra->header = false;
	ra->total = ra->have = 0;
}

static void run_capture(const char *dir, const char *name, struct tally *all)
{
	char path[1024], err[PCAP_ERRBUF_SIZE];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	pcap_t *pc = pcap_open_offline(path, err);
	if (!pc) {
		fprintf(stderr, "decode: %s: %s, skipped\n", path, err);
		all->unreadable++;
		return;
	}
	int linktype = pcap_datalink(pc);
	struct decode_stats st = { 0 };
	struct tally t = { 0 };
	struct reasm *ra = NULL;
	if (strcmp(name, "ipv4__fragmented-syn.pcap") == 0)
		ra = calloc(1, sizeof(*ra));
	struct pcap_pkthdr *hdr;
	const u_char *data;
	while (pcap_next_ex(pc, &hdr, &data) == 1) {
		struct packet p;
		enum decode_result r = decode_checked(&p, linktype, data, hdr->caplen, hdr->len,
						      (uint64_t)hdr->ts.tv_sec * 1000000u, &st,
						      &all->fast);
		assert_sane(&p, r, data, hdr->caplen);
		t.frames++;
		t.by_result[r]++;
		for (size_t i = 0; i < N_EXPECTS; i++) {
			struct corpus_expect *e = &expects[i];
			if (strcmp(e->file, name) == 0 && matches_expect(e, &p, r))
				e->seen = true;
		}
		if (ra && r == DECODE_FRAGMENT)
			reasm_add(ra, &p);
	}
	pcap_close(pc);
	ck_assert_uint_eq(st.packets, t.frames);
	ck_assert_uint_eq(st.errors, t.by_result[DECODE_ERROR]);
	if (ra) {
		/* Two fragments of a TCP SYN with options. */
		ck_assert_int_eq(ra->decoded, 1);
		ck_assert_uint_eq(ra->last.l4proto, 6);
		ck_assert_uint_eq(ra->last.sport, 12345);
		ck_assert_uint_eq(ra->last.dport, 80);
		ck_assert_uint_eq(ra->last.tcp_flags, TCP_SYN);
		ck_assert_uint_eq(ra->last.payload_len, 0);
		free(ra);
	}
	/* Every capture named in the expectations decodes without error. */
	for (size_t i = 0; i < N_EXPECTS; i++)
		if (strcmp(expects[i].file, name) == 0)
			ck_assert_msg(t.by_result[DECODE_ERROR] == 0, "%s: %llu errors", name,
				      (unsigned long long)t.by_result[DECODE_ERROR]);
	if (t.by_result[DECODE_ERROR]) {
		fprintf(stderr, "decode: %s: %llu frames, %llu errors:", path,
			(unsigned long long)t.frames,
			(unsigned long long)t.by_result[DECODE_ERROR]);
		for (int ev = 0; ev < DEV_COUNT; ev++) {
			if (!st.event[ev])
				continue;
			fprintf(stderr, " %s=%llu", decode_event_name((enum decode_event)ev),
				(unsigned long long)st.event[ev]);
		}
		fprintf(stderr, "\n");
	}
	all->frames += t.frames;
	for (int r = 0; r <= DECODE_ERROR; r++)
		all->by_result[r] += t.by_result[r];
}

static bool is_capture(const char *name)
{
	size_t n = strlen(name);
	return (n > 5 && strcmp(name + n - 5, ".pcap") == 0) ||
	       (n > 7 && strcmp(name + n - 7, ".pcapng") == 0);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every capture in dir, in name order; how many there were. */
static size_t run_capture_dir(const char *dir, struct tally *all)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	char *names[1024];
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL && n < 1024)
		if (is_capture(de->d_name))
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), compare_names);
	for (size_t i = 0; i < n; i++) {
		run_capture(dir, names[i], all);
		free(names[i]);
	}
	return n;
}

static void print_tally(const char *what, size_t files, const struct tally *all)
{
	fprintf(stderr,
		"decode %s: %zu captures, %llu frames: ok=%llu ip_other=%llu not_ip=%llu "
		"fragment=%llu error=%llu; all compared with the general decoder, "
		"%llu taken by the fast path\n",
		what, files, (unsigned long long)all->frames,
		(unsigned long long)all->by_result[DECODE_OK],
		(unsigned long long)all->by_result[DECODE_IP_OTHER],
		(unsigned long long)all->by_result[DECODE_NOT_IP],
		(unsigned long long)all->by_result[DECODE_FRAGMENT],
		(unsigned long long)all->by_result[DECODE_ERROR],
		(unsigned long long)all->fast);
}

/* The bundled captures (run from the top of the tree), which hold every link
 * type and encapsulation the decoder knows, hostile frames and snaplen cuts;
 * one of them is deliberately not a capture. */
START_TEST(test_pcaps)
{
	struct tally all = { 0 };
	size_t files = run_capture_dir("pcaps", &all);
	print_tally("pcaps", files, &all);
	ck_assert_uint_gt(files, 0);
	ck_assert_uint_lt(all.unreadable, files);
	ck_assert_uint_gt(all.fast, 0);
}
END_TEST

START_TEST(test_corpus)
{
	const char *corpus = shared_corpus_dir();
	if (!corpus)
		return;
	struct tally all = { 0 };
	char dir[768];
	snprintf(dir, sizeof(dir), "%s/zeek", corpus);
	size_t files = run_capture_dir(dir, &all);
	snprintf(dir, sizeof(dir), "%s/ndpi", corpus);
	files += run_capture_dir(dir, &all);
	print_tally("corpus", files, &all);
	ck_assert_uint_gt(files, 0);
	ck_assert_uint_eq(all.unreadable, 0);
	ck_assert_uint_gt(all.fast, 0);
	for (size_t i = 0; i < N_EXPECTS; i++)
		ck_assert_msg(expects[i].seen, "%s: no frame %s -> %s (%u -> %u)", expects[i].file,
			      expects[i].src, expects[i].dst, expects[i].sport, expects[i].dport);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("decode");
	TCase *link = tcase_create("link");
	tcase_add_test(link, test_ethernet_udp4);
	tcase_add_test(link, test_ethernet_padding_trimmed);
	tcase_add_test(link, test_sll_and_sll2);
	tcase_add_test(link, test_raw_links);
	tcase_add_test(link, test_null_loop_families);
	tcase_add_test(link, test_ppp_link);
	tcase_add_test(link, test_unsupported_and_names);
	tcase_add_test(link, test_not_ip);
	tcase_add_test(link, test_vlan_tags);
	tcase_add_test(link, test_vlan_flood_is_bounded);
	tcase_add_test(link, test_mpls);
	tcase_add_test(link, test_pppoe);
	suite_add_tcase(s, link);

	TCase *ip = tcase_create("ip");
	tcase_add_test(ip, test_ipv4_and_tcp_options);
	tcase_add_test(ip, test_tcp6);
	tcase_add_test(ip, test_ipv4_malformed);
	tcase_add_test(ip, test_ipv4_tso_zero_length);
	tcase_add_test(ip, test_snaplen_cut);
	tcase_add_test(ip, test_ipv4_fragments);
	tcase_add_test(ip, test_ipv6_extension_headers);
	tcase_add_test(ip, test_ipv6_fragments);
	suite_add_tcase(s, ip);

	TCase *tun = tcase_create("tunnel");
	tcase_add_test(tun, test_gre);
	tcase_add_test(tun, test_erspan);
	tcase_add_test(tun, test_pptp);
	tcase_add_test(tun, test_aruba);
	tcase_add_test(tun, test_aruba_four_addresses_cut_short);
	tcase_add_test(tun, test_vxlan);
	tcase_add_test(tun, test_geneve);
	tcase_add_test(tun, test_gtpu);
	tcase_add_test(tun, test_teredo);
	tcase_add_test(tun, test_ayiya_and_gre_udp);
	tcase_add_test(tun, test_ip_in_ip);
	tcase_add_test(tun, test_tunnel_depth_bound);
	suite_add_tcase(s, tun);

	TCase *fast = tcase_create("fast path");
	tcase_add_test(fast, test_fast_path_link_and_tags);
	tcase_add_test(fast, test_fast_path_ip_and_transport);
	tcase_add_test(fast, test_fast_path_udp_tunnels);
	suite_add_tcase(s, fast);

	TCase *hostile = tcase_create("hostile");
	tcase_set_timeout(hostile, 120);
	tcase_add_loop_test(hostile, test_every_truncation, 0, (int)N_SAMPLES);
	tcase_add_loop_test(hostile, test_random_mutations, 0, (int)N_SAMPLES);
	suite_add_tcase(s, hostile);

	TCase *corpus = tcase_create("corpus");
	tcase_set_timeout(corpus, 300);
	tcase_add_test(corpus, test_pcaps);
	tcase_add_test(corpus, test_corpus);
	suite_add_tcase(s, corpus);
	return s;
}

TEST_MAIN(make_suite)
