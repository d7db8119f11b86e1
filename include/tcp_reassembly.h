/* tcp_reassembly.h - the client byte stream of one TCP flow, in order.
 *
 * Only the start of a client stream matters here (a ClientHello, an HTTP
 * header block, DNS messages), so the reassembler keeps a fixed window of
 * TCP_REASM_WINDOW bytes from the first byte not yet consumed (`base`) and
 * nothing beyond it. Segments may arrive in any order, repeat, or overlap:
 * each is clipped to the window and its bytes stored where no byte is held
 * yet, so the first copy of a byte wins (the policy Suricata calls `first`;
 * a later retransmission that disagrees is counted, not used). The filled
 * parts are kept as a short sorted list of ranges; what callers read is the
 * contiguous prefix from `base`. Sequence numbers are compared modulo 2^32,
 * so a stream that wraps past zero reads the same as any other.
 *
 * Memory: the struct itself is a few words inside the flow's state; the
 * window (bytes and range list) is allocated only when a segment must be
 * held, with room for TCP_REASM_SMALL bytes, moved to one of
 * TCP_REASM_WINDOW bytes when a segment reaches past that, and freed by
 * tcp_reasm_release(). A
 * segment that arrives in order while nothing is held can be parsed in
 * place (tcp_reasm_in_order) and is copied only if the parser wants more. */
#ifndef APPLEMON_TCP_REASSEMBLY_H
#define APPLEMON_TCP_REASSEMBLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TCP_REASM_WINDOW (16 * 1024) /* bytes held at most, from base */
#define TCP_REASM_SMALL 4096         /* room a window starts with */
#define TCP_REASM_RANGES 32          /* separate filled pieces held at most */

struct tcp_reasm_window;             /* the held bytes and their ranges */

struct tcp_reasm {
	uint32_t base;               /* sequence number of the first byte not consumed */
	bool started;                /* base is known */
	struct tcp_reasm_window *win; /* NULL while nothing is held */
};

struct tcp_reasm_stats {
	uint64_t out_of_order;       /* segments held ahead of a gap */
	uint64_t duplicates;         /* segments that brought no new byte */
	uint64_t conflicts;          /* overlaps whose bytes differ from those held (first kept) */
	uint64_t beyond_window;      /* segments (or their tails) past the window, dropped */
	uint64_t too_fragmented;     /* segments refused: TCP_REASM_RANGES pieces already held */
};

enum tcp_reasm_result {
	REASM_ADDED,                 /* new bytes were stored */
	REASM_NOTHING_NEW,           /* every byte was consumed or held already */
	REASM_REFUSED,               /* past the window, too many pieces, or out of memory */
};

/* Set the sequence number of the stream's first byte (the SYN's + 1, or the
 * first data segment's). Does nothing once started. */
void tcp_reasm_start(struct tcp_reasm *r, uint32_t seq);

/* True when nothing is held and this segment carries the next bytes of the
 * stream: *skip bytes of it are old, the rest may be parsed in place. */
bool tcp_reasm_in_order(const struct tcp_reasm *r, uint32_t seq, size_t len, size_t *skip);

/* Store a segment's bytes (seq: sequence number of data[0]). st may be NULL. */
enum tcp_reasm_result tcp_reasm_add(struct tcp_reasm *r, uint32_t seq, const uint8_t *data,
				    size_t len, struct tcp_reasm_stats *st);

/* The contiguous bytes from base (0 when a gap comes first). */
size_t tcp_reasm_ready(const struct tcp_reasm *r, const uint8_t **data);

/* True when the window holds all it can from base: the next byte would be
 * past it. */
bool tcp_reasm_full(const struct tcp_reasm *r);

/* Drop the first n bytes (n at most what is ready, or any n when nothing is
 * held): base moves past them. */
void tcp_reasm_consume(struct tcp_reasm *r, size_t n);

/* Free the window; base is kept, so later bytes still line up. */
void tcp_reasm_release(struct tcp_reasm *r);

/* Windows from slabs (one per size) instead of malloc, for an engine's
 * flows. A pool belongs to one thread; one reassembler must use one pool
 * (or malloc, NULL) throughout. */
struct tcp_reasm_pool;
struct tcp_reasm_pool *tcp_reasm_pool_new(void);
void tcp_reasm_pool_free(struct tcp_reasm_pool *p);

/* The same two with the window from a pool (NULL: malloc). */
enum tcp_reasm_result tcp_reasm_add_from(struct tcp_reasm *r, struct tcp_reasm_pool *pool,
					 uint32_t seq, const uint8_t *data, size_t len,
					 struct tcp_reasm_stats *st);
void tcp_reasm_release_to(struct tcp_reasm *r, struct tcp_reasm_pool *pool);

#endif
