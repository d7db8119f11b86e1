/* decode_link.c - link layers and the entry point decode_packet().
 *
 * A sensor sees frames from whatever interface or capture file it is given:
 * Ethernet from a SPAN port, Linux cooked captures from "any", raw IP from
 * tun devices, PPP links and BSD loopback from test captures. Between the link header
 * and IP, carrier networks add 802.1Q/802.1ad tags, MPLS label stacks and
 * PPPoE sessions. This file peels those off until an IP header is reached
 * and hands it to decode_ip.c. It also holds the small helpers every layer
 * uses to count failures, so the counting rules live in one place. */
#include <string.h>

#include "decode_internal.h"

enum {
	ETH_ADDRS_LEN = 12,
	SLL_HDR_LEN = 16,
	SLL2_HDR_LEN = 20,
	PW_CONTROL_WORD_LEN = 4,
	ETH_MAX_LENGTH_FIELD = 1500,   /* type/length values up to here are 802.3 lengths */
	ETH_MIN_TYPE = 0x0600,
};

enum {
	ETHERTYPE_IPV4 = 0x0800,
	ETHERTYPE_IPV6 = 0x86dd,
	ETHERTYPE_VLAN = 0x8100,
	ETHERTYPE_QINQ = 0x88a8,
	ETHERTYPE_QINQ_OLD = 0x9100,
	ETHERTYPE_MPLS_UC = 0x8847,
	ETHERTYPE_MPLS_MC = 0x8848,
	ETHERTYPE_PPPOE_SESS = 0x8864,
};

enum {
	PPP_IPV4 = 0x0021,
	PPP_IPV6 = 0x0057,
	PPP_ADDRESS_ALL = 0xff,       /* HDLC-like framing: address byte ... */
	PPP_CONTROL_UI = 0x03,        /* ... and control byte before the protocol */
	CHDLC_UNICAST = 0x0f,         /* Cisco HDLC address bytes (DLT_PPP_SERIAL) */
	CHDLC_BROADCAST = 0x8f,
};

/* BSD socket families as written in NULL/LOOP headers. AF_INET6 differs per
 * system: 24 on NetBSD/OpenBSD, 28 on FreeBSD, 30 on macOS. */
enum {
	BSD_AF_INET = 2,
	BSD_AF_INET6_NETBSD = 24,
	BSD_AF_INET6_FREEBSD = 28,
	BSD_AF_INET6_DARWIN = 30,
};

/* MPLS reserved labels that say what follows the stack. */
enum {
	MPLS_LABEL_IPV4_NULL = 0,
	MPLS_LABEL_IPV6_NULL = 2,
};

enum decode_result decode_fail(struct decode_ctx *dc, enum decode_event ev)
{
	dc->st->event[ev]++;
	return DECODE_ERROR;
}

bool decode_accept_cut(struct decode_ctx *dc)
{
	if (!dc->snap_cut)
		return false;
	if (!dc->cut_counted) {
		dc->st->event[DEV_TRUNCATED]++;
		dc->cut_counted = true;
	}
	return true;
}

bool decode_enter_layer(struct decode_ctx *dc)
{
	if (dc->layers >= DECODE_MAX_LAYERS) {
		dc->st->event[DEV_TOO_DEEP]++;
		return false;
	}
	dc->layers++;
	return true;
}

static void record_vlan(struct packet *p, uint16_t tci)
{
	if (p->vlan_count < 2)
		p->vlan[p->vlan_count] = tci & 0x0fff;
	if (p->vlan_count < UINT8_MAX)
		p->vlan_count++;
}

static enum decode_result decode_vlan(struct decode_ctx *dc, struct cursor c)
{
	uint16_t tci = cur_be16(&c);
	uint16_t type = cur_be16(&c);
	if (c.err)
		return decode_fail(dc, DEV_VLAN_SHORT);
	record_vlan(dc->p, tci);
	if (type <= ETH_MAX_LENGTH_FIELD)
		return decode_llc_snap(dc, cur_rest(&c));
	return decode_ethertype(dc, type, cur_rest(&c));
}

/* After the bottom-of-stack label nothing says what follows, so look at the
 * first nibble the way routers and other decoders do: 4 and 6 are IP, 0 is
 * the pseudowire control word in front of an Ethernet frame. */
static enum decode_result decode_mpls_payload(struct decode_ctx *dc, uint32_t label,
					      struct cursor c)
{
	if (label == MPLS_LABEL_IPV4_NULL)
		return decode_ipv4(dc, c);
	if (label == MPLS_LABEL_IPV6_NULL)
		return decode_ipv6(dc, c);
	if (!cur_has(&c, 1))
		return decode_fail(dc, DEV_MPLS_SHORT);
	switch (cur_peek_u8(&c, 0) >> 4) {
	case 4:
		return decode_ipv4(dc, c);
	case 6:
		return decode_ipv6(dc, c);
	case 0:
		if (!cur_skip(&c, PW_CONTROL_WORD_LEN))
			return decode_fail(dc, DEV_MPLS_SHORT);
		if (!decode_enter_layer(dc))
			return DECODE_ERROR;
		return decode_ethernet(dc, cur_rest(&c));
	default:
		return DECODE_NOT_IP;
	}
}

static enum decode_result decode_mpls(struct decode_ctx *dc, struct cursor c)
{
	for (;;) {
		uint32_t entry = cur_be32(&c);
		if (c.err)
			return decode_fail(dc, DEV_MPLS_SHORT);
		bool bottom = (entry >> 8) & 1;
		if (bottom)
			return decode_mpls_payload(dc, entry >> 12, cur_rest(&c));
	}
}

/* PPP as carried by PPTP and DLT_PPP: optional address/control bytes, then
 * a protocol field that may be compressed to one byte (its low bit is set). */
enum decode_result decode_ppp(struct decode_ctx *dc, struct cursor c, enum decode_event ev_short)
{
	if (cur_peek_u8(&c, 0) == PPP_ADDRESS_ALL && cur_peek_u8(&c, 1) == PPP_CONTROL_UI)
		cur_skip(&c, 2);
	uint16_t proto = cur_u8(&c);
	if (!(proto & 1))
		proto = (uint16_t)(proto << 8 | cur_u8(&c));
	if (c.err)
		return decode_fail(dc, ev_short);
	switch (proto) {
	case PPP_IPV4:
		return decode_ipv4(dc, cur_rest(&c));
	case PPP_IPV6:
		return decode_ipv6(dc, cur_rest(&c));
	default:
		return DECODE_NOT_IP;
	}
}

/* DLT_PPP_SERIAL: PPP in HDLC-like framing (RFC 1662, FF 03 then the
 * protocol), or Cisco HDLC framing that shares the link type: address 0x0F
 * (unicast) or 0x8F (broadcast), control 0, then an ethertype. */
static enum decode_result decode_ppp_serial(struct decode_ctx *dc, struct cursor c)
{
	uint8_t addr = cur_peek_u8(&c, 0);
	if ((addr == CHDLC_UNICAST || addr == CHDLC_BROADCAST) && cur_peek_u8(&c, 1) == 0) {
		cur_skip(&c, 2);
		uint16_t type = cur_be16(&c);
		if (c.err)
			return decode_fail(dc, DEV_LINK_SHORT);
		return decode_ethertype(dc, type, cur_rest(&c));
	}
	return decode_ppp(dc, c, DEV_LINK_SHORT);
}

static enum decode_result decode_pppoe(struct decode_ctx *dc, struct cursor c)
{
	uint8_t ver_type = cur_u8(&c);
	uint8_t code = cur_u8(&c);
	cur_skip(&c, 2); /* session id */
	uint16_t len = cur_be16(&c);
	uint16_t proto = cur_be16(&c);
	if (c.err)
		return decode_fail(dc, DEV_PPPOE_SHORT);
	/* Session data always has version 1, type 1 and code 0. */
	if (ver_type != 0x11 || code != 0 || len < 2)
		return decode_fail(dc, DEV_PPPOE_SHORT);
	size_t body = len - 2u;
	if (body > cur_left(&c)) {
		if (!decode_accept_cut(dc))
			return decode_fail(dc, DEV_PPPOE_SHORT);
		body = cur_left(&c);
	}
	struct cursor inner = cur_sub(&c, body);
	switch (proto) {
	case PPP_IPV4:
		return decode_ipv4(dc, inner);
	case PPP_IPV6:
		return decode_ipv6(dc, inner);
	default:
		return DECODE_NOT_IP;
	}
}

enum decode_result decode_ethertype(struct decode_ctx *dc, uint16_t type, struct cursor c)
{
	switch (type) {
	case ETHERTYPE_IPV4:
		return decode_ipv4(dc, c);
	case ETHERTYPE_IPV6:
		return decode_ipv6(dc, c);
	case ETHERTYPE_VLAN:
	case ETHERTYPE_QINQ:
	case ETHERTYPE_QINQ_OLD:
		if (!decode_enter_layer(dc))
			return DECODE_ERROR;
		return decode_vlan(dc, c);
	case ETHERTYPE_MPLS_UC:
	case ETHERTYPE_MPLS_MC:
		if (!decode_enter_layer(dc))
			return DECODE_ERROR;
		return decode_mpls(dc, c);
	case ETHERTYPE_PPPOE_SESS:
		if (!decode_enter_layer(dc))
			return DECODE_ERROR;
		return decode_pppoe(dc, c);
	default:
		return DECODE_NOT_IP;
	}
}

/* 802.2 LLC with a SNAP header (AA AA 03, OUI, ethertype) is how 802.3
 * frames and 802.11 data frames say which protocol they carry. Anything
 * else under LLC (spanning tree, NetBIOS, ...) is not IP. */
enum decode_result decode_llc_snap(struct decode_ctx *dc, struct cursor c)
{
	uint8_t dsap = cur_u8(&c);
	uint8_t ssap = cur_u8(&c);
	uint8_t ctrl = cur_u8(&c);
	if (c.err)
		return decode_fail(dc, DEV_LINK_SHORT);
	if (dsap != 0xaa || ssap != 0xaa || ctrl != 0x03)
		return DECODE_NOT_IP;
	uint32_t oui = cur_be24(&c);
	uint16_t type = cur_be16(&c);
	if (c.err)
		return decode_fail(dc, DEV_LINK_SHORT);
	/* OUI 0 is RFC 1042 encapsulation, 00-00-F8 is 802.1H bridge tunnel;
	 * both carry an ethertype. */
	if (oui != 0 && oui != 0xf8)
		return DECODE_NOT_IP;
	return decode_ethertype(dc, type, cur_rest(&c));
}

enum decode_result decode_ethernet(struct decode_ctx *dc, struct cursor c)
{
	if (!cur_skip(&c, ETH_ADDRS_LEN))
		return decode_fail(dc, DEV_LINK_SHORT);
	uint16_t type = cur_be16(&c);
	if (c.err)
		return decode_fail(dc, DEV_LINK_SHORT);
	if (type <= ETH_MAX_LENGTH_FIELD)
		return decode_llc_snap(dc, cur_rest(&c));
	if (type < ETH_MIN_TYPE)
		return DECODE_NOT_IP;
	return decode_ethertype(dc, type, cur_rest(&c));
}

/* The protocol of a cooked capture is an ethertype, except that Linux
 * writes 4 (ETH_P_802_2) for frames that begin with an LLC header. */
static enum decode_result decode_sll_protocol(struct decode_ctx *dc, uint16_t proto,
					      struct cursor c)
{
	enum { LINUX_ETH_P_802_2 = 0x0004 };
	if (proto == LINUX_ETH_P_802_2)
		return decode_llc_snap(dc, c);
	return decode_ethertype(dc, proto, c);
}

/* Linux cooked capture v1: packet type, ARPHRD type, address length,
 * 8 address bytes, then the protocol. */
static enum decode_result decode_sll(struct decode_ctx *dc, struct cursor c)
{
	if (!cur_skip(&c, SLL_HDR_LEN - 2))
		return decode_fail(dc, DEV_LINK_SHORT);
	uint16_t proto = cur_be16(&c);
	if (c.err)
		return decode_fail(dc, DEV_LINK_SHORT);
	return decode_sll_protocol(dc, proto, cur_rest(&c));
}

/* Linux cooked capture v2 puts the protocol first, then reserved bytes,
 * interface index, ARPHRD type, packet type and the address. */
static enum decode_result decode_sll2(struct decode_ctx *dc, struct cursor c)
{
	uint16_t proto = cur_be16(&c);
	if (!cur_skip(&c, SLL2_HDR_LEN - 2))
		return decode_fail(dc, DEV_LINK_SHORT);
	return decode_sll_protocol(dc, proto, cur_rest(&c));
}

static bool family_is_inet6(uint32_t family)
{
	return family == BSD_AF_INET6_NETBSD || family == BSD_AF_INET6_FREEBSD ||
	       family == BSD_AF_INET6_DARWIN;
}

/* The family word of DLT_NULL is in the byte order of the host that wrote
 * the capture, and files move between hosts, so try both orders; DLT_LOOP is
 * meant to be network order but is treated the same for robustness. */
static enum decode_result decode_null(struct decode_ctx *dc, struct cursor c)
{
	struct cursor be = c;
	uint32_t le_family = cur_le32(&c);
	uint32_t be_family = cur_be32(&be);
	if (c.err)
		return decode_fail(dc, DEV_LINK_SHORT);
	uint32_t family = le_family;
	if (family != BSD_AF_INET && !family_is_inet6(family))
		family = be_family;
	if (family == BSD_AF_INET)
		return decode_ipv4(dc, cur_rest(&c));
	if (family_is_inet6(family))
		return decode_ipv6(dc, cur_rest(&c));
	return DECODE_NOT_IP;
}

static enum decode_result decode_raw(struct decode_ctx *dc, struct cursor c)
{
	if (!cur_has(&c, 1))
		return decode_fail(dc, DEV_LINK_SHORT);
	return decode_ip_by_version(dc, c);
}

static enum decode_result decode_link(struct decode_ctx *dc, int linktype, struct cursor c)
{
	switch (linktype) {
	case LINK_ETHERNET:
		return decode_ethernet(dc, c);
	case LINK_LINUX_SLL:
		return decode_sll(dc, c);
	case LINK_LINUX_SLL2:
		return decode_sll2(dc, c);
	case LINK_RAW:
	case LINK_RAW_ALT:
		return decode_raw(dc, c);
	case LINK_IPV4:
		return decode_ipv4(dc, c);
	case LINK_IPV6:
		return decode_ipv6(dc, c);
	case LINK_NULL:
	case LINK_LOOP:
		return decode_null(dc, c);
	case LINK_PPP:
		return decode_ppp(dc, c, DEV_LINK_SHORT);
	case LINK_PPP_SERIAL:
		return decode_ppp_serial(dc, c);
	default:
		return decode_fail(dc, DEV_LINK_UNSUPPORTED);
	}
}

static inline void tally_result(struct decode_stats *st, const struct packet *p, enum decode_result r)
{
	switch (r) {
	case DECODE_ERROR:
		st->errors++;
		break;
	case DECODE_NOT_IP:
		st->not_ip++;
		break;
	case DECODE_FRAGMENT:
		st->fragments++;
		break;
	case DECODE_OK:
	case DECODE_IP_OTHER:
		break;
	}
	if (p->tunnel_depth > 0)
		st->tunnelled++;
}

/* Zero in 16-byte stores: compilers turn a memset of the whole struct into
 * `rep stos`, whose start-up alone (some 30 cycles) was a tenth of decoding
 * a plain frame. */
_Static_assert(sizeof(struct packet) % 16 == 0, "struct packet: whole 16-byte pieces");
static void packet_clear(struct packet *p)
{
#pragma GCC unroll 16   /* one store each, no loop: 208 bytes are 13 stores */
	for (size_t i = 0; i < sizeof(*p) / 16; i++)
		memset((char *)p + 16 * i, 0, 16);
}

/* What every frame starts with: a cleared packet holding the capture's
 * fields, and the frame counted. */
static void start_packet(struct packet *p, int linktype, const uint8_t *data, uint32_t caplen,
			 uint32_t wirelen, uint64_t ts_usec, struct decode_stats *st)
{
	packet_clear(p);
	p->data = data;
	p->caplen = data ? caplen : 0;
	p->wirelen = wirelen;
	p->ts_usec = ts_usec;
	p->linktype = linktype;
	st->packets++;
}

static enum decode_result decode_general(struct packet *p, struct decode_stats *st)
{
	struct decode_ctx dc = {
		.p = p,
		.st = st,
		.snap_cut = p->caplen < p->wirelen,
	};
	return decode_link(&dc, p->linktype, cur_make(p->data, p->caplen));
}

/* The three entry points in one: clear and count the frame, try the fast
 * path (fast) and/or the general decoder (general), tally the result.
 * false only when the fast path alone was asked for and declined. */
static bool decode_entry(struct packet *p, int linktype, const uint8_t *data, uint32_t caplen,
			 uint32_t wirelen, uint64_t ts_usec, struct decode_stats *st, bool fast,
			 bool general, enum decode_result *res)
{
	struct decode_stats scratch;
	if (!st) {
		memset(&scratch, 0, sizeof(scratch));
		st = &scratch;
	}
	start_packet(p, linktype, data, caplen, wirelen, ts_usec, st);
	if (!(fast && decode_fast(p, st, res))) {
		if (!general)
			return false;
		*res = decode_general(p, st);
	}
	tally_result(st, p, *res);
	return true;
}

/* Most frames are plain Ethernet/IP/TCP or UDP: decode_fast() takes those
 * without the general decoder's layer-by-layer cursor passing, and gives
 * every other frame back untouched. */
enum decode_result decode_packet(struct packet *p, int linktype, const uint8_t *data,
				 uint32_t caplen, uint32_t wirelen, uint64_t ts_usec,
				 struct decode_stats *st)
{
	enum decode_result r;
	decode_entry(p, linktype, data, caplen, wirelen, ts_usec, st, true, true, &r);
	return r;
}

enum decode_result decode_packet_general(struct packet *p, int linktype, const uint8_t *data,
					 uint32_t caplen, uint32_t wirelen, uint64_t ts_usec,
					 struct decode_stats *st)
{
	enum decode_result r;
	decode_entry(p, linktype, data, caplen, wirelen, ts_usec, st, false, true, &r);
	return r;
}

bool decode_packet_fast(struct packet *p, int linktype, const uint8_t *data, uint32_t caplen,
			uint32_t wirelen, uint64_t ts_usec, struct decode_stats *st,
			enum decode_result *res)
{
	return decode_entry(p, linktype, data, caplen, wirelen, ts_usec, st, true, false, res);
}
