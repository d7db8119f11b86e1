/* decode_internal.h - what the decoder's source files share and nobody else sees.
 *
 * The decoder is split by layer (decode_link.c, decode_ip.c, decode_tunnel.c)
 * because tunnels make the layers call each other in both directions: an IP
 * header can carry GRE, GRE can carry Ethernet, Ethernet carries IP again.
 * The per-frame state those calls share lives in struct decode_ctx so that no
 * function needs globals and the decoder stays reentrant. decode_fast.c is a
 * shortcut in front of them for the common frame shapes; the unit test and
 * the fuzz target include this header to compare the two. */
#ifndef APPLEMON_DECODE_INTERNAL_H
#define APPLEMON_DECODE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cursor.h"
#include "decode.h"

/* Link-level steps (VLAN tags, MPLS stacks, pseudowires, PPP, 802.11, ...)
 * followed in one frame. Each such step recurses once, so a hostile frame
 * made of nothing but VLAN tags must not be allowed to recurse thousands of
 * times; real traffic needs a handful. */
#define DECODE_MAX_LAYERS 32

struct decode_ctx {
	struct packet *p;
	struct decode_stats *st;
	unsigned layers;        /* link-level steps taken so far */
	bool snap_cut;          /* bytes may be missing at the end of the window */
	bool cut_counted;       /* DEV_TRUNCATED already counted for this frame */
};

/* Count ev and answer DECODE_ERROR, so that failure paths are one line. */
enum decode_result decode_fail(struct decode_ctx *dc, enum decode_event ev);

/* A header claims more bytes than the window holds. When the capture was cut
 * by snaplen that is expected (count DEV_TRUNCATED once and go on with what
 * is there); otherwise the header lies. Returns true when decoding may go on. */
bool decode_accept_cut(struct decode_ctx *dc);

/* Take one more link-level step; false (DEV_TOO_DEEP counted) past the limit. */
bool decode_enter_layer(struct decode_ctx *dc);

/* decode_link.c */
enum decode_result decode_ethernet(struct decode_ctx *dc, struct cursor c);
enum decode_result decode_ethertype(struct decode_ctx *dc, uint16_t type, struct cursor c);
enum decode_result decode_llc_snap(struct decode_ctx *dc, struct cursor c);
enum decode_result decode_ppp(struct decode_ctx *dc, struct cursor c, enum decode_event ev_short);

/* decode_ip.c */
enum decode_result decode_ip_by_version(struct decode_ctx *dc, struct cursor c);
enum decode_result decode_ipv4(struct decode_ctx *dc, struct cursor c);
enum decode_result decode_ipv6(struct decode_ctx *dc, struct cursor c);
/* Cheap look at an IP header before a tunnel is believed: the version, the
 * header length and the length field must agree with the bytes present. */
bool ip_header_plausible(const struct decode_ctx *dc, struct cursor c);

/* decode_tunnel.c */
enum decode_result decode_gre(struct decode_ctx *dc, struct cursor c);
enum decode_result decode_ip_in_ip(struct decode_ctx *dc, uint8_t proto, struct cursor c);
/* GRE protocol numbers Aruba controllers use for tunnelled 802.11 frames. */
bool gre_proto_is_aruba(uint16_t proto);
/* UDP payloads that may be tunnels. Returns true and sets *res when the
 * payload validated as a tunnel and was followed; false leaves p untouched so
 * the caller reports the plain UDP packet. */
bool decode_udp_tunnel(struct decode_ctx *dc, uint16_t sport, uint16_t dport,
		       struct cursor payload, enum decode_result *res);
/* False only when decode_udp_tunnel() would certainly return false for this
 * payload: a cheap test before building a context and a cursor for it. */
bool decode_udp_tunnel_possible(uint16_t sport, uint16_t dport, const uint8_t *payload,
				size_t len);

/* decode_fast.c: the common frame shapes (Ethernet, cooked or raw IP links;
 * up to two VLAN tags; unfragmented IPv4, or IPv6 without extension headers;
 * TCP or UDP) read straight from the frame. p has been cleared and its
 * capture fields set, and the frame counted in st, by decode_packet().
 * Returns true with *res set when it decoded the frame exactly as the general
 * decoder would (the caller still tallies the result); false, having written
 * nothing to p or st, when the frame is not one of those shapes. */
bool decode_fast(struct packet *p, struct decode_stats *st, enum decode_result *res);

/* decode_packet() in its two halves, so the differential test and fuzz
 * target can hold them to the same results. decode_packet_general() never
 * takes the fast path: it is the reference. decode_packet_fast() only tries
 * the fast path: true with *res as decode_packet() would answer; false when
 * the frame is left to the general decoder (p then holds only its capture
 * fields and st only the frame count). */
enum decode_result decode_packet_general(struct packet *p, int linktype, const uint8_t *data,
					 uint32_t caplen, uint32_t wirelen, uint64_t ts_usec,
					 struct decode_stats *st);
bool decode_packet_fast(struct packet *p, int linktype, const uint8_t *data, uint32_t caplen,
			uint32_t wirelen, uint64_t ts_usec, struct decode_stats *st,
			enum decode_result *res);

#endif
