/* decode_tunnel.c - encapsulations that carry a whole packet inside another.
 *
 * Monitored hosts often sit behind an overlay: VXLAN or Geneve in a data
 * centre, GTP-U in a mobile core, Aruba controllers tunnelling Wi-Fi frames
 * over GRE, ERSPAN mirror sessions, IPv6 transition tunnels (Teredo, AYIYA,
 * 6in4). An alert must name the host inside the tunnel, so these layers are
 * followed to the innermost packet, remembering the outermost addresses and
 * how deep the packet was buried. Recursion is bounded by DECODE_MAX_DEPTH.
 *
 * Tunnels found by UDP port are only believed when their header and the
 * header they carry both check out; a DNS or QUIC packet that happens to use
 * port 4789 or 3544 is reported as the plain UDP packet it is. Teredo relay
 * traffic, which uses NAT-assigned ports, is recognised by content alone
 * under stricter checks (see try_teredo). */
#include "decode_internal.h"

enum {
	GRE_FLAG_CSUM = 0x8000,
	GRE_FLAG_ROUTING = 0x4000,
	GRE_FLAG_KEY = 0x2000,
	GRE_FLAG_SEQ = 0x1000,
	GRE_FLAG_ACK = 0x0080,      /* enhanced GRE (version 1) only */
	GRE_VERSION_MASK = 0x0007,
};

enum {
	GRE_PROTO_IPV4 = 0x0800,
	GRE_PROTO_IPV6 = 0x86dd,
	GRE_PROTO_TEB = 0x6558,        /* transparent Ethernet bridging */
	GRE_PROTO_ERSPAN2 = 0x88be,    /* ERSPAN type I (no S bit) and II */
	GRE_PROTO_ERSPAN3 = 0x22eb,
	GRE_PROTO_PPP = 0x880b,        /* PPTP enhanced GRE */
	GRE_PROTO_MPLS_UC = 0x8847,
	GRE_PROTO_MPLS_MC = 0x8848,
	GRE_PROTO_ARUBA_FIRST = 0x8200,
	GRE_PROTO_ARUBA_LAST = 0x8370,
	GRE_PROTO_ARUBA_ALT = 0x9000,
};

enum {
	PORT_VXLAN = 4789,
	PORT_VXLAN_LINUX = 8472,   /* the Linux kernel's pre-IANA default */
	PORT_GENEVE = 6081,
	PORT_GTPU = 2152,
	PORT_TEREDO = 3544,
	PORT_AYIYA = 5072,
	PORT_GRE_UDP = 4754,
};

enum {
	ETH_MIN_FRAME = 14,
	IPV6_HDR_LEN = 40,
	PROTO_IPIP = 4,
	PROTO_IPV6 = 41,
};

struct gre_header {
	uint16_t flags;
	uint16_t proto;
};

static bool enter_tunnel(struct decode_ctx *dc, enum tunnel_kind kind)
{
	struct packet *p = dc->p;
	if (p->tunnel_depth >= DECODE_MAX_DEPTH) {
		dc->st->event[DEV_TOO_DEEP]++;
		return false;
	}
	if (p->tunnel_depth == 0) {
		p->outer_src = p->src;
		p->outer_dst = p->dst;
	}
	p->tunnel_depth++;
	p->tunnel = (uint8_t)kind;
	return true;
}

/* RFC 1701 source routing: a list of SREs ended by one with family 0 and
 * length 0. Long obsolete, but its length has to be honoured to find the
 * payload. */
static void skip_gre_routing(struct cursor *c)
{
	while (!c->err) {
		uint16_t family = cur_be16(c);
		cur_skip(c, 1); /* SRE offset */
		uint8_t len = cur_u8(c);
		if (family == 0 && len == 0)
			return;
		cur_skip(c, len);
	}
}

/* Reads the GRE header and its optional fields, leaving c at the payload.
 * Version 0 is RFC 2784/2890 GRE; version 1 is the PPTP variant, which
 * always has a key (payload length + call id) and may carry an ack.
 * Answers DEV_COUNT when the header is whole, else the event to count. */
static enum decode_event parse_gre_header(struct cursor *c, struct gre_header *g)
{
	g->flags = cur_be16(c);
	g->proto = cur_be16(c);
	if (c->err)
		return DEV_TUNNEL_SHORT;
	switch (g->flags & GRE_VERSION_MASK) {
	case 0:
		if (g->flags & (GRE_FLAG_CSUM | GRE_FLAG_ROUTING))
			cur_skip(c, 4); /* checksum + offset */
		if (g->flags & GRE_FLAG_KEY)
			cur_skip(c, 4);
		if (g->flags & GRE_FLAG_SEQ)
			cur_skip(c, 4);
		if (g->flags & GRE_FLAG_ROUTING)
			skip_gre_routing(c);
		break;
	case 1:
		if (g->proto != GRE_PROTO_PPP || !(g->flags & GRE_FLAG_KEY) ||
		    (g->flags & (GRE_FLAG_CSUM | GRE_FLAG_ROUTING)))
			return DEV_TUNNEL_BAD;
		cur_skip(c, 4); /* payload length + call id */
		if (g->flags & GRE_FLAG_SEQ)
			cur_skip(c, 4);
		if (g->flags & GRE_FLAG_ACK)
			cur_skip(c, 4);
		break;
	default:
		return DEV_TUNNEL_BAD;
	}
	return c->err ? DEV_TUNNEL_SHORT : DEV_COUNT;
}

bool gre_proto_is_aruba(uint16_t proto)
{
	if (proto == GRE_PROTO_ARUBA_ALT)
		return true;
	return proto >= GRE_PROTO_ARUBA_FIRST && proto <= GRE_PROTO_ARUBA_LAST &&
	       (proto & 0x000f) == 0;
}

/* ERSPAN mirror sessions may cut the copied frame to a configured size and
 * say so with the T bit; the copy is then decoded like a snaplen cut. */
static void note_erspan_truncation(struct decode_ctx *dc, uint16_t cos_t_session)
{
	enum { ERSPAN_T_BIT = 0x0400 };
	if (cos_t_session & ERSPAN_T_BIT)
		dc->snap_cut = true;
}

/* ERSPAN type II: version 1, VLAN, CoS, T bit, session, index: 8 bytes, then
 * the mirrored Ethernet frame. */
static enum decode_result decode_erspan2(struct decode_ctx *dc, struct cursor c)
{
	uint8_t ver = cur_u8(&c) >> 4;
	cur_skip(&c, 1); /* rest of the VLAN */
	uint16_t cos_t_session = cur_be16(&c);
	if (!cur_skip(&c, 4))
		return decode_fail(dc, DEV_TUNNEL_SHORT);
	if (ver != 1)
		return decode_fail(dc, DEV_TUNNEL_BAD);
	note_erspan_truncation(dc, cos_t_session);
	return decode_ethernet(dc, cur_rest(&c));
}

/* ERSPAN type III: 12 bytes (version 2, VLAN, CoS, T bit, session,
 * timestamp, SGT, frame type and an O bit announcing an 8-byte platform
 * subheader). Frame type 0 is Ethernet, 2 is a bare IP packet. */
static enum decode_result decode_erspan3(struct decode_ctx *dc, struct cursor c)
{
	uint8_t ver = cur_u8(&c) >> 4;
	cur_skip(&c, 1); /* rest of the VLAN */
	uint16_t cos_t_session = cur_be16(&c);
	cur_skip(&c, 6); /* timestamp, SGT */
	uint16_t bits = cur_be16(&c);
	if (c.err)
		return decode_fail(dc, DEV_TUNNEL_SHORT);
	if (ver != 2)
		return decode_fail(dc, DEV_TUNNEL_BAD);
	if ((bits & 1) && !cur_skip(&c, 8))
		return decode_fail(dc, DEV_TUNNEL_SHORT);
	note_erspan_truncation(dc, cos_t_session);
	uint8_t frame_type = (bits >> 10) & 0x1f;
	if (frame_type == 0)
		return decode_ethernet(dc, cur_rest(&c));
	if (frame_type == 2) {
		if (!cur_has(&c, 1))
			return decode_fail(dc, DEV_TUNNEL_SHORT);
		return decode_ip_by_version(dc, cur_rest(&c));
	}
	return DECODE_NOT_IP;
}

/* Aruba controllers tunnel the client's 802.11 data frame as is: frame
 * control, duration, three addresses, sequence control, then an optional
 * fourth address, QoS control and HT control, and LLC/SNAP before the
 * payload. Encrypted, fragmented, management and null frames carry nothing
 * readable. With the QoS A-MSDU bit the frame holds subframes; the first
 * one is decoded. */
static enum decode_result decode_ieee80211(struct decode_ctx *dc, struct cursor c)
{
	enum { FC_TYPE_DATA = 2, SUBTYPE_QOS = 0x8, SUBTYPE_NODATA = 0x4 };
	enum { TO_DS = 0x01, FROM_DS = 0x02, MORE_FRAG = 0x04, PROTECTED = 0x40, ORDER = 0x80 };
	enum { QOS_AMSDU = 0x0080, AMSDU_SUBFRAME_HDR = 14 };

	uint8_t fc0 = cur_u8(&c);
	uint8_t fc1 = cur_u8(&c);
	cur_skip(&c, 2 + 18); /* duration, three addresses */
	uint16_t seq_ctl = cur_le16(&c);
	if (c.err)
		return decode_fail(dc, DEV_TUNNEL_SHORT);
	uint8_t version = fc0 & 0x03;
	uint8_t type = (fc0 >> 2) & 0x03;
	uint8_t subtype = fc0 >> 4;
	if (version != 0)
		return decode_fail(dc, DEV_TUNNEL_BAD);
	if (type != FC_TYPE_DATA || (subtype & SUBTYPE_NODATA) || (fc1 & PROTECTED))
		return DECODE_NOT_IP;
	if ((fc1 & MORE_FRAG) || (seq_ctl & 0x000f))
		return DECODE_NOT_IP;
	if ((fc1 & TO_DS) && (fc1 & FROM_DS))
		cur_skip(&c, 6);
	uint16_t qos = 0;
	if (subtype & SUBTYPE_QOS) {
		qos = cur_le16(&c);
		if (fc1 & ORDER)
			cur_skip(&c, 4);
	}
	if (qos & QOS_AMSDU)
		cur_skip(&c, AMSDU_SUBFRAME_HDR);
	if (c.err)
		return decode_fail(dc, DEV_TUNNEL_SHORT);
	return decode_llc_snap(dc, cur_rest(&c));
}

/* The payload of a parsed GRE header. Protocols we cannot look into leave
 * the outer packet as the answer. */
static enum decode_result dispatch_gre(struct decode_ctx *dc, const struct gre_header *g,
				       struct cursor c)
{
	switch (g->proto) {
	case GRE_PROTO_IPV4:
	case GRE_PROTO_IPV6:
	case GRE_PROTO_MPLS_UC:
	case GRE_PROTO_MPLS_MC:
		if (!enter_tunnel(dc, TUNNEL_GRE))
			return DECODE_ERROR;
		return decode_ethertype(dc, g->proto, c);
	case GRE_PROTO_TEB:
		if (!enter_tunnel(dc, TUNNEL_GRE))
			return DECODE_ERROR;
		return decode_ethernet(dc, c);
	case GRE_PROTO_ERSPAN2:
		if (!enter_tunnel(dc, TUNNEL_ERSPAN))
			return DECODE_ERROR;
		/* Type I has no ERSPAN header and no sequence number. */
		if (!(g->flags & GRE_FLAG_SEQ))
			return decode_ethernet(dc, c);
		return decode_erspan2(dc, c);
	case GRE_PROTO_ERSPAN3:
		if (!enter_tunnel(dc, TUNNEL_ERSPAN))
			return DECODE_ERROR;
		return decode_erspan3(dc, c);
	case GRE_PROTO_PPP:
		/* PPTP acknowledgements travel without a payload. */
		if (cur_left(&c) == 0)
			return DECODE_IP_OTHER;
		if (!enter_tunnel(dc, TUNNEL_GRE))
			return DECODE_ERROR;
		return decode_ppp(dc, c, DEV_TUNNEL_SHORT);
	default:
		if (!gre_proto_is_aruba(g->proto))
			return DECODE_IP_OTHER;
		if (!enter_tunnel(dc, TUNNEL_ARUBA))
			return DECODE_ERROR;
		return decode_ieee80211(dc, c);
	}
}

enum decode_result decode_gre(struct decode_ctx *dc, struct cursor c)
{
	struct gre_header g;
	enum decode_event ev = parse_gre_header(&c, &g);
	if (ev != DEV_COUNT)
		return decode_fail(dc, ev);
	return dispatch_gre(dc, &g, cur_rest(&c));
}

enum decode_result decode_ip_in_ip(struct decode_ctx *dc, uint8_t proto, struct cursor c)
{
	if (!enter_tunnel(dc, TUNNEL_IPIP))
		return DECODE_ERROR;
	if (proto == PROTO_IPIP)
		return decode_ipv4(dc, c);
	return decode_ipv6(dc, c);
}

static bool port_matches(uint16_t sport, uint16_t dport, uint16_t port)
{
	return sport == port || dport == port;
}

/* Enters a validated UDP tunnel. False (with *res set to DECODE_ERROR) when
 * the packet is nested too deep, so the caller skips the inner packet. */
static bool follow_tunnel(struct decode_ctx *dc, enum tunnel_kind kind, enum decode_result *res)
{
	if (!enter_tunnel(dc, kind)) {
		*res = DECODE_ERROR;
		return false;
	}
	return true;
}

static bool try_vxlan(struct decode_ctx *dc, struct cursor c, enum decode_result *res)
{
	enum { VXLAN_FLAG_VNI = 0x08 };
	uint8_t flags = cur_u8(&c);
	cur_skip(&c, 7); /* reserved, VNI, reserved */
	if (c.err || !(flags & VXLAN_FLAG_VNI) || !cur_has(&c, ETH_MIN_FRAME))
		return false;
	if (follow_tunnel(dc, TUNNEL_VXLAN, res))
		*res = decode_ethernet(dc, cur_rest(&c));
	return true;
}

static bool try_geneve(struct decode_ctx *dc, struct cursor c, enum decode_result *res)
{
	uint8_t ver_optlen = cur_u8(&c);
	cur_skip(&c, 1); /* O and C flags */
	uint16_t proto = cur_be16(&c);
	cur_skip(&c, 4); /* VNI, reserved */
	if (c.err || (ver_optlen >> 6) != 0 || !cur_skip(&c, (size_t)(ver_optlen & 0x3f) * 4))
		return false;
	struct cursor inner = cur_rest(&c);
	if (proto == GRE_PROTO_TEB) {
		if (!cur_has(&inner, ETH_MIN_FRAME))
			return false;
		if (follow_tunnel(dc, TUNNEL_GENEVE, res))
			*res = decode_ethernet(dc, inner);
		return true;
	}
	if (proto != GRE_PROTO_IPV4 && proto != GRE_PROTO_IPV6)
		return false;
	if (!ip_header_plausible(dc, inner))
		return false;
	if (follow_tunnel(dc, TUNNEL_GENEVE, res))
		*res = decode_ethertype(dc, proto, inner);
	return true;
}

/* GTPv1-U: only G-PDUs (type 255) carry user packets; echo and error
 * messages on the same port are left as UDP. The length counts the bytes
 * after the 8-byte mandatory header, including the optional fields. */
static bool try_gtpu(struct decode_ctx *dc, struct cursor c, enum decode_result *res)
{
	enum { GTP_PT = 0x10, GTP_OPT_FLAGS = 0x07, GTP_GPDU = 0xff };
	uint8_t flags = cur_u8(&c);
	uint8_t type = cur_u8(&c);
	size_t len = cur_be16(&c);
	cur_skip(&c, 4); /* TEID */
	if (c.err || (flags >> 5) != 1 || !(flags & GTP_PT) || type != GTP_GPDU)
		return false;
	if (len > cur_left(&c)) {
		if (!dc->snap_cut)
			return false;
		len = cur_left(&c);
	}
	struct cursor body = cur_sub(&c, len);
	if (flags & GTP_OPT_FLAGS) {
		cur_skip(&body, 3); /* sequence number, N-PDU number */
		uint8_t next = cur_u8(&body);
		while (next != 0 && !body.err) {
			/* Extension: length in 4-byte units, contents, next type. */
			size_t units = cur_u8(&body);
			if (units == 0)
				return false;
			cur_skip(&body, units * 4 - 2);
			next = cur_u8(&body);
		}
		if (body.err)
			return false;
	}
	struct cursor inner = cur_rest(&body);
	if (!ip_header_plausible(dc, inner))
		return false;
	if (follow_tunnel(dc, TUNNEL_GTPU, res))
		*res = decode_ip_by_version(dc, inner);
	return true;
}

/* Teredo (RFC 4380): optional authentication and origin indications, then
 * an IPv6 packet whose length fits the UDP payload. Bubbles may carry
 * trailing bytes after their empty IPv6 packet, so on the server port the fit
 * need not be exact. Data between a Teredo client and a relay or peer uses
 * whatever ports NAT gave them, so off port 3544 the packet is only believed
 * when it looks like nothing else: an exact fit, a known next header and a
 * Teredo address (2001:0::/32) at one end. */
static bool is_teredo_addr(struct cursor c, size_t at)
{
	return cur_peek_u8(&c, at) == 0x20 && cur_peek_u8(&c, at + 1) == 0x01 &&
	       cur_peek_u8(&c, at + 2) == 0 && cur_peek_u8(&c, at + 3) == 0;
}

static bool is_common_ipv6_next(uint8_t nh)
{
	switch (nh) {
	case 0: case 6: case 17: case 43: case 44: case 58: case 59: case 60:
		return true;
	default:
		return false;
	}
}

static bool try_teredo(struct decode_ctx *dc, struct cursor c, bool on_port,
		       enum decode_result *res)
{
	enum { IPV6_NO_NEXT = 59, IPV6_SRC_AT = 8, IPV6_DST_AT = 24 };
	if (cur_peek_u8(&c, 0) == 0 && cur_peek_u8(&c, 1) == 1) {
		cur_skip(&c, 2);
		size_t id_len = cur_u8(&c);
		size_t auth_len = cur_u8(&c);
		cur_skip(&c, id_len + auth_len + 8 + 1); /* ids, nonce, confirmation */
	}
	if (cur_peek_u8(&c, 0) == 0 && cur_peek_u8(&c, 1) == 0)
		cur_skip(&c, 8); /* origin port and address */
	if (c.err || !cur_has(&c, IPV6_HDR_LEN) || (cur_peek_u8(&c, 0) >> 4) != 6)
		return false;
	size_t claimed = IPV6_HDR_LEN + (((size_t)cur_peek_u8(&c, 4) << 8) | cur_peek_u8(&c, 5));
	size_t left = cur_left(&c);
	uint8_t nh = cur_peek_u8(&c, 6);
	if (claimed > left && !dc->snap_cut)
		return false;
	if (!on_port) {
		if (!is_common_ipv6_next(nh))
			return false;
		if (claimed < left && nh != IPV6_NO_NEXT)
			return false;
		if (!is_teredo_addr(c, IPV6_SRC_AT) && !is_teredo_addr(c, IPV6_DST_AT))
			return false;
	}
	if (follow_tunnel(dc, TUNNEL_TEREDO, res))
		*res = decode_ipv6(dc, cur_rest(&c));
	return true;
}

/* AYIYA: identity (2^n bytes) and signature (4*n bytes) lengths in nibbles,
 * an opcode (1 = forward) and the next header of the carried packet. */
static bool try_ayiya(struct decode_ctx *dc, struct cursor c, enum decode_result *res)
{
	enum { AYIYA_OP_FORWARD = 1 };
	uint8_t id_nib = cur_u8(&c);
	uint8_t sig_nib = cur_u8(&c);
	uint8_t opcode = cur_u8(&c) & 0x0f;
	uint8_t next = cur_u8(&c);
	cur_skip(&c, 4); /* epoch */
	cur_skip(&c, ((size_t)1 << (id_nib >> 4)) + (size_t)(sig_nib >> 4) * 4);
	if (c.err || opcode != AYIYA_OP_FORWARD)
		return false;
	uint8_t version = cur_peek_u8(&c, 0) >> 4;
	if (!((next == PROTO_IPIP && version == 4) || (next == PROTO_IPV6 && version == 6)))
		return false;
	if (!ip_header_plausible(dc, c))
		return false;
	if (follow_tunnel(dc, TUNNEL_AYIYA, res))
		*res = decode_ip_by_version(dc, cur_rest(&c));
	return true;
}

/* GRE in UDP (RFC 8086): only version 0 with a protocol we follow. */
static bool try_gre_udp(struct decode_ctx *dc, struct cursor c, enum decode_result *res)
{
	struct gre_header g;
	if (parse_gre_header(&c, &g) != DEV_COUNT || (g.flags & GRE_VERSION_MASK) != 0)
		return false;
	struct cursor inner = cur_rest(&c);
	switch (g.proto) {
	case GRE_PROTO_IPV4:
	case GRE_PROTO_IPV6:
		if (!ip_header_plausible(dc, inner))
			return false;
		break;
	case GRE_PROTO_TEB:
		if (!cur_has(&inner, ETH_MIN_FRAME))
			return false;
		break;
	case GRE_PROTO_MPLS_UC:
	case GRE_PROTO_MPLS_MC:
		if (!cur_has(&inner, 4))
			return false;
		break;
	default:
		return false;
	}
	*res = dispatch_gre(dc, &g, inner);
	return true;
}

/* Whether decode_udp_tunnel() could follow this payload. It answers false
 * only when none of the tries below can succeed, so a caller that skips the
 * call on false reports the same plain UDP packet. Every try needs its port
 * except Teredo off its port, which needs at least an IPv6 header (40 bytes)
 * that either starts the payload (version 6) or follows an authentication or
 * origin indication (first byte 0). */
bool decode_udp_tunnel_possible(uint16_t sport, uint16_t dport, const uint8_t *payload,
				size_t len)
{
	switch (dport) {
	case PORT_VXLAN:
	case PORT_VXLAN_LINUX:
	case PORT_GENEVE:
	case PORT_GTPU:
	case PORT_GRE_UDP:
		return true;
	default:
		break;
	}
	if (port_matches(sport, dport, PORT_TEREDO) || port_matches(sport, dport, PORT_AYIYA))
		return true;
	return len >= IPV6_HDR_LEN && (payload[0] == 0 || (payload[0] >> 4) == 6);
}

/* VXLAN, Geneve, GTP-U and GRE-in-UDP are addressed to their well-known port
 * while the source port is entropy (or an ephemeral port of an unrelated
 * client that happens to collide), so only the destination port counts.
 * Teredo servers and AYIYA tunnel brokers answer from their port, so either
 * side counts for those. */
bool decode_udp_tunnel(struct decode_ctx *dc, uint16_t sport, uint16_t dport,
		       struct cursor payload, enum decode_result *res)
{
	switch (dport) {
	case PORT_VXLAN:
	case PORT_VXLAN_LINUX:
		if (try_vxlan(dc, payload, res))
			return true;
		break;
	case PORT_GENEVE:
		if (try_geneve(dc, payload, res))
			return true;
		break;
	case PORT_GTPU:
		if (try_gtpu(dc, payload, res))
			return true;
		break;
	case PORT_GRE_UDP:
		if (try_gre_udp(dc, payload, res))
			return true;
		break;
	default:
		break;
	}
	if (port_matches(sport, dport, PORT_TEREDO) && try_teredo(dc, payload, true, res))
		return true;
	if (port_matches(sport, dport, PORT_AYIYA) && try_ayiya(dc, payload, res))
		return true;
	return try_teredo(dc, payload, false, res);
}
