/* flow.h - the bidirectional flow table.
 *
 * A flow is keyed by its 5-tuple and oriented: `key.cli` is the side that
 * opened it (the SYN sender for TCP; for UDP the first sender unless that
 * side is plainly using a server port). Lookups are symmetric, so both
 * directions find the same flow.
 *
 * Flows live in a chained hash table and on one of four idle lists (TCP
 * open, TCP closed, UDP, other), each ordered by last packet time, most
 * recent first. Because all flows of a list share one timeout, expiry only
 * ever looks at list tails; eviction when the table is full takes the
 * oldest tail of the four. Flow structs come from a slab (slab.h: 2 MiB
 * hugepage-advised blocks, freed flows reused first).
 *
 * What a flow learns beyond counters (names, verdict, reassembly buffers)
 * lives in an optional `struct flow_info` owned by the engine; the table
 * only calls the release hook when a flow goes away. */
#ifndef APPLEMON_FLOW_H
#define APPLEMON_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct flow_info;

struct flow_key {
	struct ip_addr cli;          /* the side that opened the flow */
	struct ip_addr srv;
	uint16_t cli_port;
	uint16_t srv_port;
	uint8_t proto;
};

enum flow_list {
	FLOW_LIST_TCP,               /* TCP not yet closed */
	FLOW_LIST_TCP_CLOSED,        /* TCP after FIN both ways or RST */
	FLOW_LIST_UDP,
	FLOW_LIST_OTHER,
	FLOW_LIST_COUNT
};

enum flow_end_reason {
	FLOW_END_NONE = 0,
	FLOW_END_FIN,
	FLOW_END_RST,
	FLOW_END_TIMEOUT,
	FLOW_END_EVICTED,
	FLOW_END_SHUTDOWN,
};

enum flow_dir { DIR_TOSERVER = 0, DIR_TOCLIENT = 1 };

enum flow_flag {
	FLOW_F_DECIDED = 0x01,       /* verdict taken: fast path from now on */
	FLOW_F_FIN_CLI = 0x02,
	FLOW_F_FIN_SRV = 0x04,
	FLOW_F_RST = 0x08,
	FLOW_F_SYN_SEEN = 0x10,
	FLOW_F_KEEP_INSPECTING = 0x20, /* DNS: every message is read, no fast path */
	FLOW_F_CLI_SEQ = 0x40,       /* cli_seq holds the client's first data sequence number */
	FLOW_F_DNS_LATE = 0x80,      /* decided without a name or DNS answer: look again (live) */
};

/* Two cache lines, and flows come from the slab 64-byte aligned: the
 * first line holds what finding the flow and the fast path read (chain,
 * key, flags, list, last time), the second the counters, the engine's
 * state and the idle list links. */
struct flow {
	struct flow *hnext;          /* hash chain */
	uint8_t flags;               /* enum flow_flag */
	uint8_t list;                /* enum flow_list */
	uint8_t app_proto;           /* engine's enum app_proto */
	uint8_t payload_pkts;        /* payload packets inspected (saturating) */
	uint8_t end_reason;          /* set when the flow is handed to the release hook */
	struct flow_key key;
	uint32_t cli_seq;            /* client SYN's sequence number + 1 (FLOW_F_CLI_SEQ) */
	uint64_t last_usec;
	/* second line */
	uint64_t pkts[2];            /* by enum flow_dir */
	uint64_t bytes[2];           /* IP bytes on the wire (innermost header on) */
	struct flow_info *info;      /* engine's per-flow state, NULL until needed */
	struct flow *prev, *next;    /* idle list, most recent first */
	uint64_t first_usec;
};

_Static_assert(sizeof(struct flow) == 128, "struct flow: two cache lines");
_Static_assert(offsetof(struct flow, last_usec) < 64, "struct flow: the lookup's fields in one line");

struct flow_timeouts {
	uint32_t tcp, tcp_closed, udp, other;    /* seconds idle */
};

struct flow_stats {
	uint64_t created;
	uint64_t ended[FLOW_END_SHUTDOWN + 1];   /* by enum flow_end_reason */
	uint64_t active;
	uint64_t peak_active;
	uint64_t fast_path_pkts;                 /* counted by the engine */
};

/* Called for every flow leaving the table (end, timeout, eviction,
 * shutdown): the flow is still intact and end_reason set. */
typedef void (*flow_release_fn)(void *ctx, struct flow *f);

struct flow_table;

struct flow_table *flow_table_new(uint32_t max_flows, const struct flow_timeouts *t,
				  flow_release_fn release, void *ctx);
void flow_table_free(struct flow_table *t);   /* releases every flow as shutdown */

/* Find the flow of this packet, creating it if needed. *dir tells the
 * packet's direction; *created whether it is new. NULL only if memory ran
 * out. The flow becomes the most recent of its list. `tcp_flags` guides
 * orientation of a new TCP flow. */
struct flow *flow_lookup(struct flow_table *t, const struct ip_addr *src, const struct ip_addr *dst,
			 uint16_t sport, uint16_t dport, uint8_t proto, uint8_t tcp_flags,
			 uint64_t now_usec, enum flow_dir *dir, bool *created);

/* Warming the caches for a lookup a few packets ahead (no effect on any
 * result): flow_prefetch_bucket() asks for the tuple's bucket and returns
 * the hash; some packets later, with the bucket in cache,
 * flow_prefetch_flow() asks for the first flow of its chain. */
uint32_t flow_prefetch_bucket(const struct flow_table *t, const struct ip_addr *src,
			      const struct ip_addr *dst, uint16_t sport, uint16_t dport,
			      uint8_t proto);
void flow_prefetch_flow(const struct flow_table *t, uint32_t hash);

/* Move a TCP flow to the closed list (FIN both ways or RST). */
void flow_mark_closed(struct flow_table *t, struct flow *f, enum flow_end_reason why);
/* End a flow now (e.g. a new SYN reuses a closed tuple). */
void flow_end(struct flow_table *t, struct flow *f, enum flow_end_reason why);
/* Time out idle flows as of now_usec. Returns how many ended. */
size_t flow_expire(struct flow_table *t, uint64_t now_usec);
/* End every flow, oldest first (shutdown). */
void flow_flush(struct flow_table *t);

/* Several tables as if they were one (the workers that share the reading
 * of one capture file, each with its own table): time out, or end at
 * shutdown, the flows of all of them in the order a single table holding
 * them all would - list by list, least recently seen first, so a run with
 * several workers writes what a run with one does. Two flows seen at the
 * same microsecond in different tables go lower table first. */
size_t flow_expire_tables(struct flow_table *const *t, size_t n, uint64_t now_usec);
void flow_flush_tables(struct flow_table *const *t, size_t n);
/* The earliest time at which flow_expire() would end a flow of the table
 * (UINT64_MAX when it holds none). */
uint64_t flow_next_deadline(const struct flow_table *t);

/* The flow's stable id: a hash of the oriented tuple and the start time
 * (53 bits, exact in JSON doubles), the same in every run and with any
 * number of workers. Computed when asked (alerts, records), not per flow. */
uint64_t flow_id(const struct flow *f);

const struct flow_stats *flow_table_stats(const struct flow_table *t);
struct flow_stats *flow_table_stats_mut(struct flow_table *t);

/* Used for orientation of a new UDP/TCP flow seen mid-stream. */
bool port_is_plainly_server(uint16_t port);

#endif
