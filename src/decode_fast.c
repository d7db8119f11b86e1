/* decode_fast.c - the decoder's fast path for the frame shapes most traffic has.
 *
 * The general decoder (decode_link.c, decode_ip.c, decode_tunnel.c) follows
 * any stack of encapsulations by handing a cursor from layer to layer. That
 * generality is paid on every frame, yet most frames are plain: Ethernet, a
 * Linux cooked header or bare IP, at most two 802.1Q/802.1ad tags, one
 * unfragmented IPv4 header (options allowed) or an IPv6 header with no
 * extension headers, then TCP or UDP. decode_fast() reads exactly those
 * headers straight from the frame, checking every offset against the
 * captured length before the bytes at it are read.
 *
 * The rule: for every frame it takes, the answer, every byte of struct packet
 * and every counter of struct decode_stats are identical to what the general
 * decoder produces for it. Whatever it is not certain about (other link
 * types and ethertypes, a third tag, fragments, extension headers, other
 * transports, frames cut by snaplen, any length that does not add up) it
 * declines before writing anything, and the general decoder starts from the
 * untouched packet; errors are therefore only ever counted there. A UDP
 * payload that may be a tunnel goes through the general decoder's own
 * decode_udp_tunnel(), so tunnel detection lives in one place.
 *
 * One tunnel is taken too, the one traffic from Wi-Fi controllers and
 * GRE links is mostly in: outer IPv4 carrying GRE (version 0, no checksum
 * or routing) whose payload is IPv4 or IPv6, or an Aruba 802.11 data frame
 * with LLC/SNAP before IP; then a plain inner IP header and TCP or UDP as
 * above (a UDP payload that could be a tunnel again is declined). Anything
 * the general decoder would answer otherwise than with the inner packet
 * (not IP, a management or protected frame, a fragment) is declined.
 * tests/test_decode.c compares the two decoders on every frame of the
 * captures and on cut and mutated frames, and fuzz/fuzz_decode.c compares
 * them on whatever the fuzzer makes up. */
#include "decode_internal.h"

enum {
	ETH_HDR_LEN = 14,
	ETH_TYPE_AT = 12,
	SLL_HDR_LEN = 16,
	SLL_PROTO_AT = 14,
	SLL2_HDR_LEN = 20,
	SLL2_PROTO_AT = 0,
	VLAN_TAG_LEN = 4,
	FAST_MAX_TAGS = 2,         /* the tags struct packet records */
	IPV4_MIN_HDR = 20,
	IPV6_HDR_LEN = 40,
	TCP_MIN_HDR = 20,
	UDP_HDR_LEN = 8,
};

enum {
	ETHERTYPE_IPV4 = 0x0800,
	ETHERTYPE_IPV6 = 0x86dd,
	ETHERTYPE_VLAN = 0x8100,
	ETHERTYPE_QINQ = 0x88a8,
	ETHERTYPE_QINQ_OLD = 0x9100,
};

enum {
	PROTO_TCP = 6,
	PROTO_UDP = 17,
	PROTO_GRE = 47,
	IPV4_MF_AND_OFFSET = 0x3fff,   /* a fragment has either set */
};

enum {
	GRE_HDR_LEN = 4,
	GRE_FLAG_CSUM = 0x8000,
	GRE_FLAG_ROUTING = 0x4000,
	GRE_FLAG_KEY = 0x2000,
	GRE_FLAG_SEQ = 0x1000,
	GRE_VERSION_MASK = 0x0007,
	WLAN_HDR_LEN = 24,         /* frame control .. sequence control */
	WLAN_ADDR4_LEN = 6,
	WLAN_QOS_LEN = 2,
	WLAN_HT_LEN = 4,
	WLAN_AMSDU_SUBFRAME_LEN = 14,
	LLC_SNAP_LEN = 8,
};

/* The headers of a frame the fast path takes, gathered before anything is
 * written to struct packet. */
struct fast_frame {
	const uint8_t *l3;         /* IP header */
	uint32_t l3_len;           /* the datagram as its length field gives it */
	const uint8_t *l4;         /* transport header */
	size_t l4_len;             /* the rest of the datagram */
	const uint8_t *payload;    /* after the transport header */
	uint32_t payload_len;      /* up to the UDP length or the datagram's end */
	uint8_t ip_version;
	uint8_t proto;
	uint8_t tags;              /* VLAN tags crossed */
	uint16_t vlan[FAST_MAX_TAGS];
	uint8_t tunnel;            /* enum tunnel_kind; TUNNEL_NONE: not tunnelled */
	const uint8_t *outer;      /* the outer IPv4 header when tunnelled */
};

static inline uint16_t get_be16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline uint32_t get_be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static bool is_vlan_type(uint16_t type)
{
	return type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD;
}

/* The link header: where the network layer starts and its ethertype. Raw IP
 * links are given the ethertype of their version, as decode_raw() picks the
 * IP decoder by the first nibble. */
static bool fast_link(int linktype, const uint8_t *d, size_t len, size_t *off, uint16_t *type)
{
	switch (linktype) {
	case LINK_ETHERNET:
		if (len < ETH_HDR_LEN)
			return false;
		*type = get_be16(d + ETH_TYPE_AT);
		*off = ETH_HDR_LEN;
		return true;
	case LINK_LINUX_SLL:
		if (len < SLL_HDR_LEN)
			return false;
		*type = get_be16(d + SLL_PROTO_AT);
		*off = SLL_HDR_LEN;
		return true;
	case LINK_LINUX_SLL2:
		if (len < SLL2_HDR_LEN)
			return false;
		*type = get_be16(d + SLL2_PROTO_AT);
		*off = SLL2_HDR_LEN;
		return true;
	case LINK_RAW:
	case LINK_RAW_ALT:
		if (len < 1)
			return false;
		*type = (d[0] >> 4) == 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
		*off = 0;
		return true;
	case LINK_IPV4:
		*type = ETHERTYPE_IPV4;
		*off = 0;
		return true;
	case LINK_IPV6:
		*type = ETHERTYPE_IPV6;
		*off = 0;
		return true;
	default:
		return false;
	}
}

/* One 802.1Q/802.1ad tag: its VLAN id, kept as record_vlan() keeps it, and
 * the type that follows. */
static bool fast_tag(const uint8_t *d, size_t len, size_t *off, uint16_t *type, uint16_t *vlan)
{
	if (len - *off < VLAN_TAG_LEN)
		return false;
	*vlan = get_be16(d + *off) & 0x0fff;
	*type = get_be16(d + *off + 2);
	*off += VLAN_TAG_LEN;
	return true;
}

/* Up to two tags, written out rather than looped so that the slots stay in
 * registers. A third tag, like any type that is neither a tag nor IP (LLC
 * lengths, MPLS, PPPoE, ...), ends the fast path at the ethertype check. */
static bool fast_vlan(const uint8_t *d, size_t len, size_t *off, uint16_t *type,
		      struct fast_frame *f)
{
	if (!is_vlan_type(*type))
		return true;
	if (!fast_tag(d, len, off, type, &f->vlan[0]))
		return false;
	f->tags = 1;
	if (!is_vlan_type(*type))
		return true;
	if (!fast_tag(d, len, off, type, &f->vlan[1]))
		return false;
	f->tags = 2;
	return true;
}

/* An IPv4 header whose lengths agree with each other and with the captured
 * bytes (length 0, the TSO case, is left to the general decoder), and that
 * is not a fragment. */
static bool fast_ipv4(const uint8_t *ip, size_t left, struct fast_frame *f)
{
	if (left < IPV4_MIN_HDR)
		return false;
	size_t hlen = (size_t)(ip[0] & 0x0f) * 4;
	size_t total = get_be16(ip + 2);
	if ((ip[0] >> 4) != 4 || hlen < IPV4_MIN_HDR || total < hlen || total > left)
		return false;
	if (get_be16(ip + 6) & IPV4_MF_AND_OFFSET)
		return false;
	f->ip_version = 4;
	f->proto = ip[9];
	f->l3 = ip;
	f->l3_len = (uint32_t)total;
	f->l4 = ip + hlen;
	f->l4_len = total - hlen;
	return true;
}

/* An IPv6 header followed directly by TCP or UDP, its payload length within
 * the captured bytes. */
static bool fast_ipv6(const uint8_t *ip, size_t left, struct fast_frame *f)
{
	if (left < IPV6_HDR_LEN || (ip[0] >> 4) != 6)
		return false;
	size_t plen = get_be16(ip + 4);
	uint8_t nh = ip[6];
	if ((nh != PROTO_TCP && nh != PROTO_UDP) || plen > left - IPV6_HDR_LEN)
		return false;
	f->ip_version = 6;
	f->proto = nh;
	f->l3 = ip;
	f->l3_len = (uint32_t)(IPV6_HDR_LEN + plen);
	f->l4 = ip + IPV6_HDR_LEN;
	f->l4_len = plen;
	return true;
}

/* Where the packet inside an Aruba 802.11 data frame starts, and its
 * ethertype, as decode_ieee80211() and decode_llc_snap() read them; NULL
 * for whatever they would not answer with an IP packet. */
static const uint8_t *fast_wlan(const uint8_t *w, size_t len, uint16_t *type)
{
	enum { FC_TYPE_DATA = 2, SUBTYPE_QOS = 0x8, SUBTYPE_NODATA = 0x4 };
	enum { TO_DS = 0x01, FROM_DS = 0x02, MORE_FRAG = 0x04, PROTECTED = 0x40, ORDER = 0x80 };
	enum { QOS_AMSDU = 0x0080 };
	if (len < WLAN_HDR_LEN)
		return NULL;
	uint8_t fc0 = w[0], fc1 = w[1];
	uint16_t seq_ctl = (uint16_t)(w[22] | w[23] << 8);
	uint8_t subtype = fc0 >> 4;
	if ((fc0 & 0x03) != 0 || ((fc0 >> 2) & 0x03) != FC_TYPE_DATA || (subtype & SUBTYPE_NODATA) ||
	    (fc1 & (PROTECTED | MORE_FRAG)) || (seq_ctl & 0x000f))
		return NULL;
	size_t pos = WLAN_HDR_LEN;
	if ((fc1 & TO_DS) && (fc1 & FROM_DS))
		pos += WLAN_ADDR4_LEN;
	uint16_t qos = 0;
	if (subtype & SUBTYPE_QOS) {
		/* the fourth address may already reach past the frame */
		if (pos > len || len - pos < WLAN_QOS_LEN)
			return NULL;
		qos = (uint16_t)(w[pos] | w[pos + 1] << 8);
		pos += WLAN_QOS_LEN;
		if (fc1 & ORDER)
			pos += WLAN_HT_LEN;
	}
	if (qos & QOS_AMSDU)
		pos += WLAN_AMSDU_SUBFRAME_LEN;
	if (pos > len || len - pos < LLC_SNAP_LEN)
		return NULL;
	const uint8_t *llc = w + pos;
	uint32_t oui = (uint32_t)llc[3] << 16 | (uint32_t)llc[4] << 8 | llc[5];
	if (llc[0] != 0xaa || llc[1] != 0xaa || llc[2] != 0x03 || (oui != 0 && oui != 0xf8))
		return NULL;
	*type = get_be16(llc + 6);
	return llc + LLC_SNAP_LEN;
}

/* Outer IPv4 carrying GRE (f holds the outer datagram): on success f holds
 * the inner IP datagram, with the tunnel noted. The inner header must lie
 * whole within the outer datagram, as the general decoder requires of an
 * uncut frame. */
static bool fast_gre(struct fast_frame *f)
{
	const uint8_t *g = f->l4;
	size_t glen = f->l4_len;
	if (glen < GRE_HDR_LEN)
		return false;
	uint16_t flags = get_be16(g), proto = get_be16(g + 2);
	if ((flags & GRE_VERSION_MASK) != 0 || (flags & (GRE_FLAG_CSUM | GRE_FLAG_ROUTING)))
		return false;
	size_t off = GRE_HDR_LEN + ((flags & GRE_FLAG_KEY) ? 4 : 0) + ((flags & GRE_FLAG_SEQ) ? 4 : 0);
	if (off > glen)
		return false;
	const uint8_t *inner = g + off;
	uint16_t type = proto;
	uint8_t kind = TUNNEL_GRE;
	if (proto != ETHERTYPE_IPV4 && proto != ETHERTYPE_IPV6) {
		if (!gre_proto_is_aruba(proto) || !(inner = fast_wlan(inner, glen - off, &type)))
			return false;
		kind = TUNNEL_ARUBA;
	}
	const uint8_t *outer = f->l3;
	size_t left = (size_t)(g + glen - inner);
	if (type == ETHERTYPE_IPV4) {
		if (!fast_ipv4(inner, left, f))
			return false;
	} else if (type == ETHERTYPE_IPV6) {
		if (!fast_ipv6(inner, left, f))
			return false;
	} else {
		return false;
	}
	f->tunnel = kind;
	f->outer = outer;
	return true;
}

/* The transport header must be whole and its length sane, as decode_tcp()
 * and decode_udp() require before they accept a packet; then the payload is
 * where they put it. */
static bool fast_transport(struct fast_frame *f)
{
	if (f->proto == PROTO_TCP) {
		if (f->l4_len < TCP_MIN_HDR)
			return false;
		size_t hlen = (size_t)(f->l4[12] >> 4) * 4;
		if (hlen < TCP_MIN_HDR || hlen > f->l4_len)
			return false;
		f->payload = f->l4 + hlen;
		f->payload_len = (uint32_t)(f->l4_len - hlen);
		return true;
	}
	if (f->proto == PROTO_UDP) {
		if (f->l4_len < UDP_HDR_LEN)
			return false;
		size_t ulen = get_be16(f->l4 + 4);
		if (ulen < UDP_HDR_LEN || ulen > f->l4_len)
			return false;
		f->payload = f->l4 + UDP_HDR_LEN;
		f->payload_len = (uint32_t)(ulen - UDP_HDR_LEN);
		return true;
	}
	return false;
}

/* Writes what the general decoder writes for this frame, given that every
 * header checked out. The packet was cleared by decode_packet(), so the
 * fields the general decoder leaves at zero need no store; the two tag slots
 * are stored either way (unused ones hold zero). */
static void fast_commit(struct packet *p, const struct fast_frame *f)
{
	p->vlan[0] = f->vlan[0];
	p->vlan[1] = f->vlan[1];
	p->vlan_count = f->tags;
	if (f->tunnel != TUNNEL_NONE) {
		/* enter_tunnel() on the way in: the outer addresses, one layer */
		addr_from_v4(&p->outer_src, f->outer + 12);
		addr_from_v4(&p->outer_dst, f->outer + 16);
		p->tunnel_depth = 1;
		p->tunnel = f->tunnel;
	}
	p->ip_version = f->ip_version;
	p->l4proto = f->proto;
	if (f->ip_version == 4) {
		addr_from_v4(&p->src, f->l3 + 12);
		addr_from_v4(&p->dst, f->l3 + 16);
	} else {
		addr_from_v6(&p->src, f->l3 + 8);
		addr_from_v6(&p->dst, f->l3 + 24);
	}
	p->l3 = f->l3;
	p->l3_len = f->l3_len;
	const uint8_t *l4 = f->l4;
	p->sport = get_be16(l4);
	p->dport = get_be16(l4 + 2);
	if (f->proto == PROTO_TCP) {
		p->tcp_seq = get_be32(l4 + 4);
		p->tcp_ack = get_be32(l4 + 8);
		p->tcp_flags = l4[13] & 0x3f;
	}
	p->payload = f->payload;
	p->payload_len = f->payload_len;
}

/* The UDP payload may be a tunnel: decode_udp() would now call
 * decode_udp_tunnel() with a context in the state the general decoder has
 * reached here (one link layer entered per tag, the datagram whole), so this
 * does the same. Out of line, so that the rest of the fast path makes no
 * calls and keeps what it reads in registers. */
__attribute__((noinline))
static bool fast_udp(struct packet *p, struct decode_stats *st, unsigned tags,
		     enum decode_result *res)
{
	*res = DECODE_OK;
	if (!decode_udp_tunnel_possible(p->sport, p->dport, p->payload, p->payload_len))
		return true;
	struct decode_ctx dc = { .p = p, .st = st, .layers = tags };
	enum decode_result r;
	if (decode_udp_tunnel(&dc, p->sport, p->dport, cur_make(p->payload, p->payload_len), &r))
		*res = r;
	return true;
}

bool decode_fast(struct packet *p, struct decode_stats *st, enum decode_result *res)
{
	const uint8_t *d = p->data;
	size_t len = p->caplen;
	/* A cut frame takes the general decoder's snaplen rules. */
	if (!d || p->caplen < p->wirelen)
		return false;
	struct fast_frame f = { .tags = 0 };
	size_t off;
	uint16_t type;
	if (p->linktype == LINK_ETHERNET && len >= ETH_HDR_LEN) {
		/* by far the most common link: tested before the switch */
		type = get_be16(d + ETH_TYPE_AT);
		off = ETH_HDR_LEN;
	} else if (!fast_link(p->linktype, d, len, &off, &type)) {
		return false;
	}
	if (!fast_vlan(d, len, &off, &type, &f))
		return false;
	if (type == ETHERTYPE_IPV4) {
		if (!fast_ipv4(d + off, len - off, &f))
			return false;
		if (f.proto == PROTO_GRE && !fast_gre(&f))
			return false;
	} else if (type == ETHERTYPE_IPV6) {
		if (!fast_ipv6(d + off, len - off, &f))
			return false;
	} else {
		return false;
	}
	if (!fast_transport(&f))
		return false;

	/* A tunnelled UDP payload that could be another tunnel is left to the
	 * general decoder, which counts the layers of such a stack. */
	if (f.tunnel != TUNNEL_NONE && f.proto == PROTO_UDP &&
	    decode_udp_tunnel_possible(get_be16(f.l4), get_be16(f.l4 + 2), f.payload,
				       f.payload_len))
		return false;
	fast_commit(p, &f);
	if (f.proto == PROTO_UDP && f.tunnel == TUNNEL_NONE)
		return fast_udp(p, st, f.tags, res);
	*res = DECODE_OK;
	return true;
}
