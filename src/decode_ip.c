/* decode_ip.c - IPv4, IPv6 (with extension headers), TCP and UDP.
 *
 * This is where a frame becomes a flow: addresses, protocol, ports and the
 * payload the protocol parsers look at. The length fields are the part to
 * get right. The IP length, not the frame, says where the datagram ends
 * (Ethernet pads short frames with trailer bytes that must not reach the
 * payload parsers), and the UDP length trims again inside it. When snaplen
 * cut the capture the headers may still be whole; such a packet is decoded
 * with the bytes that are there, while a length that exceeds an uncut frame
 * is a malformed packet. Fragments stop here: the reassembler gets their
 * bytes and feeds the whole datagram back through decode_ip(). */
#include <string.h>

#include "decode_internal.h"

enum {
	IPV4_MIN_HDR = 20,
	IPV6_HDR_LEN = 40,
	TCP_MIN_HDR = 20,
	UDP_HDR_LEN = 8,
	IPV6_FRAG_HDR_LEN = 8,
	IPV6_MAX_EXT_HDRS = 16,   /* real stacks send a few; more is an evasion attempt */
};

enum {
	IPV4_FLAG_MF = 0x2000,
	IPV4_OFFSET_MASK = 0x1fff,
	IPV6_FRAG_MF = 0x0001,
	IPV6_FRAG_OFFSET_MASK = 0xfff8,
};

enum {
	PROTO_HOPOPTS = 0,
	PROTO_IPIP = 4,
	PROTO_TCP = 6,
	PROTO_UDP = 17,
	PROTO_IPV6 = 41,
	PROTO_ROUTING = 43,
	PROTO_FRAGMENT = 44,
	PROTO_GRE = 47,
	PROTO_ESP = 50,
	PROTO_AH = 51,
	PROTO_NONE = 59,
	PROTO_DSTOPTS = 60,
	PROTO_MOBILITY = 135,
	PROTO_HIP = 139,
	PROTO_SHIM6 = 140,
};

/* A header needs more bytes than the window holds: when the datagram as the
 * IP header declared it would have held them, snaplen is to blame (short);
 * otherwise the header itself is inconsistent (bad). */
static enum decode_result fail_short_or_bad(struct decode_ctx *dc, size_t needed,
					    size_t declared, enum decode_event ev_short,
					    enum decode_event ev_bad)
{
	return decode_fail(dc, needed <= declared ? ev_short : ev_bad);
}

static enum decode_result decode_tcp(struct decode_ctx *dc, struct cursor c, size_t declared)
{
	struct packet *p = dc->p;
	if (declared < TCP_MIN_HDR || !cur_has(&c, TCP_MIN_HDR))
		return decode_fail(dc, DEV_TCP_SHORT);
	p->sport = cur_be16(&c);
	p->dport = cur_be16(&c);
	p->tcp_seq = cur_be32(&c);
	p->tcp_ack = cur_be32(&c);
	size_t hlen = (size_t)(cur_u8(&c) >> 4) * 4;
	p->tcp_flags = cur_u8(&c) & 0x3f;
	cur_skip(&c, 6); /* window, checksum, urgent pointer */
	if (hlen < TCP_MIN_HDR)
		return decode_fail(dc, DEV_TCP_BAD);
	if (!cur_skip(&c, hlen - TCP_MIN_HDR))
		return fail_short_or_bad(dc, hlen, declared, DEV_TCP_SHORT, DEV_TCP_BAD);
	p->payload = cur_pos(&c);
	p->payload_len = (uint32_t)cur_left(&c);
	return DECODE_OK;
}

static enum decode_result decode_udp(struct decode_ctx *dc, struct cursor c, size_t declared)
{
	struct packet *p = dc->p;
	if (declared < UDP_HDR_LEN || !cur_has(&c, UDP_HDR_LEN))
		return decode_fail(dc, DEV_UDP_SHORT);
	p->sport = cur_be16(&c);
	p->dport = cur_be16(&c);
	size_t ulen = cur_be16(&c);
	cur_skip(&c, 2); /* checksum */
	if (ulen < UDP_HDR_LEN || ulen > declared)
		return decode_fail(dc, DEV_UDP_BAD);
	size_t body = ulen - UDP_HDR_LEN;
	if (body > cur_left(&c))
		body = cur_left(&c); /* snaplen; counted when the IP length was checked */
	struct cursor payload = cur_sub(&c, body);
	p->payload = cur_pos(&payload);
	p->payload_len = (uint32_t)body;

	enum decode_result r;
	if (decode_udp_tunnel(dc, p->sport, p->dport, payload, &r))
		return r;
	return DECODE_OK;
}

/* What follows the last IP header. declared is the length the IP header
 * gives this part; c holds what was captured of it. */
static enum decode_result decode_transport(struct decode_ctx *dc, uint8_t proto,
					   struct cursor c, size_t declared)
{
	dc->p->l4proto = proto;
	switch (proto) {
	case PROTO_TCP:
		return decode_tcp(dc, c, declared);
	case PROTO_UDP:
		return decode_udp(dc, c, declared);
	case PROTO_GRE:
		return decode_gre(dc, c);
	case PROTO_IPIP:
	case PROTO_IPV6:
		return decode_ip_in_ip(dc, proto, c);
	default:
		return DECODE_IP_OTHER;
	}
}

/* Clear what an outer header left in the innermost-layer fields, so an
 * inner packet that stops early does not report the outer's ports. */
static void reset_l4_fields(struct packet *p)
{
	p->sport = p->dport = 0;
	p->tcp_flags = 0;
	p->tcp_seq = p->tcp_ack = 0;
	p->payload = NULL;
	p->payload_len = 0;
}

/* The datagram ends where its length field says. Longer windows hold link
 * padding; shorter ones are either a snaplen cut or a lie. On success *dgram
 * is the datagram as captured and the bytes inside are known complete when
 * the whole length was there. */
static bool bound_datagram(struct decode_ctx *dc, struct cursor *win, size_t len,
			   struct cursor *dgram)
{
	if (len > cur_left(win)) {
		if (!decode_accept_cut(dc))
			return false;
		len = cur_left(win);
	} else {
		dc->snap_cut = false;
	}
	*dgram = cur_sub(win, len);
	return true;
}

static enum decode_result report_fragment(struct packet *p, uint32_t id, uint16_t offset,
					  bool more, uint8_t proto, struct cursor c)
{
	p->frag_id = id;
	p->frag_offset = offset;
	p->frag_more = more;
	p->frag_proto = proto;
	p->frag_len = (uint32_t)cur_left(&c);
	p->frag_data = p->frag_len ? cur_pos(&c) : NULL;
	return DECODE_FRAGMENT;
}

enum decode_result decode_ipv4(struct decode_ctx *dc, struct cursor c)
{
	struct packet *p = dc->p;
	struct cursor win = c;
	if (!cur_has(&c, IPV4_MIN_HDR))
		return decode_fail(dc, DEV_IPV4_SHORT);
	uint8_t ver_ihl = cur_u8(&c);
	size_t hlen = (size_t)(ver_ihl & 0x0f) * 4;
	cur_skip(&c, 1); /* DSCP/ECN */
	size_t total = cur_be16(&c);
	uint16_t id = cur_be16(&c);
	uint16_t frag = cur_be16(&c);
	cur_skip(&c, 1); /* TTL */
	uint8_t proto = cur_u8(&c);
	cur_skip(&c, 2); /* header checksum: not verified, offload leaves it wrong */
	const uint8_t *src = cur_take(&c, 4);
	const uint8_t *dst = cur_take(&c, 4);
	if ((ver_ihl >> 4) != 4 || hlen < IPV4_MIN_HDR)
		return decode_fail(dc, DEV_IPV4_BAD);
	if (!cur_has(&win, hlen))
		return decode_fail(dc, DEV_IPV4_SHORT);
	/* A host capturing its own traffic sees segments before TCP segmentation
	 * offload has split them, with the length left 0 for the NIC to fill in;
	 * such a datagram extends to the end of what was captured. */
	if (total == 0)
		total = cur_left(&win);
	if (total < hlen)
		return decode_fail(dc, DEV_IPV4_BAD);

	struct cursor dgram;
	if (!bound_datagram(dc, &win, total, &dgram))
		return decode_fail(dc, DEV_IPV4_SHORT);
	reset_l4_fields(p);
	p->ip_version = 4;
	p->l4proto = proto;
	addr_from_v4(&p->src, src);
	addr_from_v4(&p->dst, dst);
	p->l3 = cur_pos(&dgram);
	p->l3_len = (uint32_t)cur_left(&dgram);
	/* Options carry nothing a flow needs; they are only stepped over. */
	cur_skip(&dgram, hlen);

	uint16_t offset = (uint16_t)((frag & IPV4_OFFSET_MASK) * 8);
	bool more = frag & IPV4_FLAG_MF;
	if (offset || more)
		return report_fragment(p, id, offset, more, proto, dgram);
	return decode_transport(dc, proto, dgram, total - hlen);
}

static bool is_ipv6_option_header(uint8_t nh)
{
	return nh == PROTO_HOPOPTS || nh == PROTO_ROUTING || nh == PROTO_DSTOPTS ||
	       nh == PROTO_MOBILITY || nh == PROTO_HIP || nh == PROTO_SHIM6;
}

/* Walks the extension header chain to the upper-layer protocol. Headers that
 * only carry options are skipped by their length; a fragment header ends the
 * walk unless it is an atomic fragment (offset 0, no more fragments). */
static enum decode_result walk_ipv6_ext(struct decode_ctx *dc, uint8_t nh, struct cursor c,
					size_t declared)
{
	size_t start_left = cur_left(&c);
	for (int n = 0;; n++) {
		size_t used = start_left - cur_left(&c);
		if (n >= IPV6_MAX_EXT_HDRS)
			return decode_fail(dc, DEV_IPV6_EXT_BAD);
		size_t hdr_len;
		if (is_ipv6_option_header(nh)) {
			hdr_len = ((size_t)cur_peek_u8(&c, 1) + 1) * 8;
		} else if (nh == PROTO_AH) {
			hdr_len = ((size_t)cur_peek_u8(&c, 1) + 2) * 4;
		} else if (nh == PROTO_FRAGMENT) {
			hdr_len = IPV6_FRAG_HDR_LEN;
		} else if (nh == PROTO_ESP || nh == PROTO_NONE) {
			/* Encrypted or empty: there is no transport header to read. */
			dc->p->l4proto = nh;
			return DECODE_IP_OTHER;
		} else {
			return decode_transport(dc, nh, c, declared - used);
		}
		if (!cur_has(&c, 2) || !cur_has(&c, hdr_len))
			return fail_short_or_bad(dc, used + (cur_has(&c, 2) ? hdr_len : 2),
						 declared, DEV_IPV6_SHORT, DEV_IPV6_EXT_BAD);
		struct cursor hdr = cur_sub(&c, hdr_len);
		uint8_t next = cur_u8(&hdr);
		if (nh == PROTO_FRAGMENT) {
			cur_skip(&hdr, 1);
			uint16_t off_flags = cur_be16(&hdr);
			uint32_t id = cur_be32(&hdr);
			uint16_t offset = off_flags & IPV6_FRAG_OFFSET_MASK;
			bool more = off_flags & IPV6_FRAG_MF;
			if (offset || more) {
				dc->p->l4proto = next;
				return report_fragment(dc->p, id, offset, more, next, c);
			}
		}
		nh = next;
	}
}

enum decode_result decode_ipv6(struct decode_ctx *dc, struct cursor c)
{
	struct packet *p = dc->p;
	struct cursor win = c;
	if (!cur_has(&c, IPV6_HDR_LEN))
		return decode_fail(dc, DEV_IPV6_SHORT);
	uint32_t ver_tc_flow = cur_be32(&c);
	size_t plen = cur_be16(&c);
	uint8_t nh = cur_u8(&c);
	cur_skip(&c, 1); /* hop limit */
	const uint8_t *src = cur_take(&c, 16);
	const uint8_t *dst = cur_take(&c, 16);
	if ((ver_tc_flow >> 28) != 6)
		return decode_fail(dc, DEV_IPV6_BAD);
	/* Payload length 0 with a hop-by-hop header is a jumbogram whose real
	 * length sits in an option; the captured bytes are all we can use. */
	if (plen == 0 && nh == PROTO_HOPOPTS)
		plen = cur_left(&c);

	struct cursor dgram;
	if (!bound_datagram(dc, &win, IPV6_HDR_LEN + plen, &dgram))
		return decode_fail(dc, DEV_IPV6_SHORT);
	reset_l4_fields(p);
	p->ip_version = 6;
	p->l4proto = nh;
	addr_from_v6(&p->src, src);
	addr_from_v6(&p->dst, dst);
	p->l3 = cur_pos(&dgram);
	p->l3_len = (uint32_t)cur_left(&dgram);
	cur_skip(&dgram, IPV6_HDR_LEN);
	return walk_ipv6_ext(dc, nh, dgram, plen);
}

enum decode_result decode_ip_by_version(struct decode_ctx *dc, struct cursor c)
{
	if ((cur_peek_u8(&c, 0) >> 4) == 6)
		return decode_ipv6(dc, c);
	return decode_ipv4(dc, c);
}

bool ip_header_plausible(const struct decode_ctx *dc, struct cursor c)
{
	uint8_t first = cur_peek_u8(&c, 0);
	size_t left = cur_left(&c);
	size_t claimed;
	if ((first >> 4) == 4) {
		size_t hlen = (size_t)(first & 0x0f) * 4;
		if (left < IPV4_MIN_HDR || hlen < IPV4_MIN_HDR || left < hlen)
			return false;
		claimed = ((size_t)cur_peek_u8(&c, 2) << 8) | cur_peek_u8(&c, 3);
		if (claimed < hlen)
			return false;
	} else if ((first >> 4) == 6) {
		if (left < IPV6_HDR_LEN)
			return false;
		claimed = IPV6_HDR_LEN + (((size_t)cur_peek_u8(&c, 4) << 8) | cur_peek_u8(&c, 5));
	} else {
		return false;
	}
	return claimed <= left || dc->snap_cut;
}

enum decode_result decode_ip(struct packet *p, const uint8_t *data, uint32_t len,
			     struct decode_stats *st)
{
	struct decode_stats scratch;
	if (!st) {
		memset(&scratch, 0, sizeof(scratch));
		st = &scratch;
	}
	p->frag_id = 0;
	p->frag_offset = 0;
	p->frag_more = false;
	p->frag_data = NULL;
	p->frag_len = 0;
	p->frag_proto = 0;
	/* A reassembled datagram is complete by construction. */
	struct decode_ctx dc = { .p = p, .st = st };
	struct cursor c = cur_make(data, len);
	if (!cur_has(&c, 1))
		return decode_fail(&dc, DEV_IPV4_SHORT);
	return decode_ip_by_version(&dc, c);
}
