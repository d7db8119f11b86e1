/* decode.h - in-place decoding of link, network, tunnel and transport headers.
 *
 * decode_packet() walks a captured frame without copying it: the resulting
 * struct packet points into the caller's buffer. It follows VLAN/QinQ, MPLS,
 * PPPoE and the common tunnels (GRE incl. ERSPAN and transparent Ethernet
 * bridging, VXLAN, Geneve, GTP-U, Teredo, IP-in-IP/6in4/4in6, Aruba GRE 802.11)
 * down to the innermost IP header and its TCP or UDP header. Every header is
 * read through a cursor; anything short or nonsensical is counted in
 * struct decode_stats and the packet is skipped. Nothing is allocated. The
 * commonest frames (Ethernet or cooked or raw IP, two VLAN tags at most, IPv4
 * or IPv6 straight to TCP or UDP) take a shortcut that gives exactly the same
 * results (src/decode_fast.c). */
#ifndef APPLEMON_DECODE_H
#define APPLEMON_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

/* libpcap DLT values we handle (numeric so no pcap.h is needed here). */
enum {
	LINK_NULL = 0,        /* BSD loopback: 4-byte host-order family */
	LINK_ETHERNET = 1,
	LINK_PPP = 9,         /* PPP: optional FF 03, then the PPP protocol */
	LINK_PPP_SERIAL = 50, /* PPP in HDLC framing (FF 03), or Cisco HDLC (0F/8F 00 + ethertype) */
	LINK_RAW = 101,       /* DLT_RAW on Linux (LINKTYPE_RAW) */
	LINK_RAW_ALT = 12,    /* DLT_RAW as some systems number it */
	LINK_LOOP = 108,      /* OpenBSD loopback: 4-byte network-order family */
	LINK_LINUX_SLL = 113,
	LINK_IPV4 = 228,
	LINK_IPV6 = 229,
	LINK_LINUX_SLL2 = 276,
};

enum decode_result {
	DECODE_OK = 0,        /* IP with TCP or UDP: ports and payload are set */
	DECODE_IP_OTHER,      /* IP but another L4 (ICMP, SCTP, ...): addresses set */
	DECODE_NOT_IP,        /* ARP, LLDP, ...: nothing for us */
	DECODE_FRAGMENT,      /* an IP fragment: frag fields set, see struct packet */
	DECODE_ERROR,         /* short, truncated or malformed: counted */
};

enum tunnel_kind {
	TUNNEL_NONE = 0,
	TUNNEL_GRE,
	TUNNEL_ERSPAN,
	TUNNEL_VXLAN,
	TUNNEL_GENEVE,
	TUNNEL_GTPU,
	TUNNEL_TEREDO,
	TUNNEL_IPIP,
	TUNNEL_ARUBA,
	TUNNEL_AYIYA,
};

#define DECODE_MAX_DEPTH 8     /* nested encapsulations followed at most */

enum tcp_flag {
	TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08,
	TCP_ACK = 0x10, TCP_URG = 0x20,
};

struct packet {
	/* what the capture gave us */
	const uint8_t *data;         /* first byte of the frame (not owned) */
	uint32_t caplen;             /* bytes captured */
	uint32_t wirelen;            /* bytes on the wire */
	uint64_t ts_usec;            /* capture time, microseconds since epoch */
	int linktype;                /* LINK_* */

	/* innermost IP header */
	uint8_t ip_version;          /* 4 or 6 */
	uint8_t l4proto;             /* IPPROTO_TCP, IPPROTO_UDP, ... */
	struct ip_addr src, dst;
	const uint8_t *l3;           /* innermost IP header */
	uint32_t l3_len;             /* its bytes as captured, up to the IP length */

	/* transport (valid when DECODE_OK) */
	uint16_t sport, dport;
	uint8_t tcp_flags;           /* TCP_* */
	uint32_t tcp_seq, tcp_ack;
	const uint8_t *payload;      /* L4 payload inside the capture buffer */
	uint32_t payload_len;        /* bytes of payload actually captured */

	/* fragment (valid when DECODE_FRAGMENT) */
	uint32_t frag_id;            /* IPv4 id or IPv6 identification */
	uint16_t frag_offset;        /* in bytes */
	bool frag_more;              /* more fragments follow */
	const uint8_t *frag_data;    /* fragment payload (after IP/ext headers) */
	uint32_t frag_len;
	uint8_t frag_proto;          /* next protocol of the reassembled datagram */

	/* encapsulation */
	uint16_t vlan[2];            /* outermost two 802.1Q/ad ids */
	uint8_t vlan_count;
	uint8_t tunnel_depth;        /* IP-in-something layers crossed */
	uint8_t tunnel;              /* enum tunnel_kind of the innermost tunnel */
	struct ip_addr outer_src;    /* outermost IP addresses when tunnelled */
	struct ip_addr outer_dst;
};

enum decode_event {
	DEV_LINK_SHORT,          /* link header longer than the capture */
	DEV_LINK_UNSUPPORTED,    /* linktype we do not decode */
	DEV_VLAN_SHORT,
	DEV_MPLS_SHORT,
	DEV_PPPOE_SHORT,
	DEV_IPV4_SHORT,          /* fewer bytes than the header claims */
	DEV_IPV4_BAD,            /* version, IHL or total length nonsensical */
	DEV_IPV6_SHORT,
	DEV_IPV6_BAD,
	DEV_IPV6_EXT_BAD,        /* extension header chain malformed */
	DEV_TCP_SHORT,
	DEV_TCP_BAD,             /* data offset < 5 or beyond segment */
	DEV_UDP_SHORT,
	DEV_UDP_BAD,             /* length field nonsensical */
	DEV_TUNNEL_SHORT,
	DEV_TUNNEL_BAD,
	DEV_TOO_DEEP,            /* more than DECODE_MAX_DEPTH encapsulations */
	DEV_TRUNCATED,           /* snaplen cut the packet (counted, still decoded) */
	DEV_COUNT
};

struct decode_stats {
	uint64_t packets;            /* frames handed to decode_packet */
	uint64_t errors;             /* frames that returned DECODE_ERROR */
	uint64_t not_ip;
	uint64_t fragments;
	uint64_t tunnelled;
	uint64_t event[DEV_COUNT];   /* per-reason counts */
};

/* Decode one captured frame in place. */
enum decode_result decode_packet(struct packet *p, int linktype, const uint8_t *data,
				 uint32_t caplen, uint32_t wirelen, uint64_t ts_usec,
				 struct decode_stats *st);

/* Decode starting at an IP header (used for reassembled fragments; keeps the
 * link and tunnel fields already in p). */
enum decode_result decode_ip(struct packet *p, const uint8_t *data, uint32_t len,
			     struct decode_stats *st);

const char *decode_event_name(enum decode_event ev);
bool decode_linktype_supported(int linktype);

#endif
