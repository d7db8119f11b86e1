/* decode_names.c - stable names for decoder counters and the link types we take.
 *
 * The statistics output and the log lines name decode events by these
 * strings, so they are part of the interface: change them only together
 * with the documentation. Capture setup asks decode_linktype_supported()
 * before opening an interface, to refuse a link type early and clearly
 * instead of counting every frame as an error. */
#include <stddef.h>

#include "decode.h"

static const char *const event_names[DEV_COUNT] = {
	[DEV_LINK_SHORT] = "link_short",
	[DEV_LINK_UNSUPPORTED] = "link_unsupported",
	[DEV_VLAN_SHORT] = "vlan_short",
	[DEV_MPLS_SHORT] = "mpls_short",
	[DEV_PPPOE_SHORT] = "pppoe_short",
	[DEV_IPV4_SHORT] = "ipv4_short",
	[DEV_IPV4_BAD] = "ipv4_bad",
	[DEV_IPV6_SHORT] = "ipv6_short",
	[DEV_IPV6_BAD] = "ipv6_bad",
	[DEV_IPV6_EXT_BAD] = "ipv6_ext_bad",
	[DEV_TCP_SHORT] = "tcp_short",
	[DEV_TCP_BAD] = "tcp_bad",
	[DEV_UDP_SHORT] = "udp_short",
	[DEV_UDP_BAD] = "udp_bad",
	[DEV_TUNNEL_SHORT] = "tunnel_short",
	[DEV_TUNNEL_BAD] = "tunnel_bad",
	[DEV_TOO_DEEP] = "too_deep",
	[DEV_TRUNCATED] = "truncated",
};

const char *decode_event_name(enum decode_event ev)
{
	if ((unsigned)ev >= DEV_COUNT || event_names[ev] == NULL)
		return "unknown";
	return event_names[ev];
}

bool decode_linktype_supported(int linktype)
{
	switch (linktype) {
	case LINK_NULL:
	case LINK_ETHERNET:
	case LINK_PPP:
	case LINK_PPP_SERIAL:
	case LINK_RAW:
	case LINK_RAW_ALT:
	case LINK_LOOP:
	case LINK_LINUX_SLL:
	case LINK_IPV4:
	case LINK_IPV6:
	case LINK_LINUX_SLL2:
		return true;
	default:
		return false;
	}
}
