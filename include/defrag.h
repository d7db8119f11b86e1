/* defrag.h - IPv4 and IPv6 fragment reassembly, bounded.
 *
 * A DNS answer larger than the path MTU, or a QUIC Initial sent over a
 * tunnel, reaches the sensor as IP fragments; only the first carries the
 * UDP header, and only all of them together the message. The engine hands
 * every fragment decode_packet() reports (DECODE_FRAGMENT) to defrag_add();
 * when one completes its datagram, defrag_add() gives back the whole
 * datagram with a rebuilt IP header (no options or extension headers,
 * fragment fields cleared), which decode_ip() then reads like any packet.
 *
 * Datagrams are keyed by (IP version, source, destination, identification,
 * protocol). Overlapping fragments: the first copy of a byte wins (later
 * copies are counted, not used), the policy Suricata calls `first`; bytes
 * a fragment carries past the end that the last fragment gave are cut off
 * (counted as a conflict). A datagram is dropped, and counted, when two
 * last fragments disagree on where it ends, when the last fragment ends
 * before bytes already held, when it would pass 65535 bytes (the ping of
 * death), or when it comes in more than DEFRAG_PIECES separate pieces.
 *
 * Bounds: at most `max_datagrams` datagrams in progress and DEFRAG_MEMORY
 * bytes of fragment data in all; the oldest datagram is evicted to make
 * room (counted). A datagram not complete `timeout_secs` of packet time
 * after its first fragment is dropped (counted). One defrag belongs to one
 * engine (one thread); nothing is shared. */
#ifndef APPLEMON_DEFRAG_H
#define APPLEMON_DEFRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"

#define DEFRAG_PIECES 64                 /* separate pieces per datagram at most */
#define DEFRAG_MEMORY (16u * 1024 * 1024) /* fragment bytes held at most, in all */
#define DEFRAG_DATAGRAM_MAX 65535        /* a reassembled datagram, header included */

struct defrag_limits {
	uint32_t max_datagrams;              /* [defrag] max_datagrams; default 1024 */
	uint32_t timeout_secs;               /* [defrag] timeout; default 30 */
};

struct defrag_stats {
	uint64_t fragments;                  /* fragments handed in */
	uint64_t reassembled;                /* datagrams completed */
	uint64_t timeouts;                   /* datagrams dropped incomplete after the timeout */
	uint64_t evicted;                    /* datagrams dropped to make room */
	uint64_t overlaps;                   /* fragments that overlapped bytes already held */
	uint64_t conflicts;                  /* ... with different bytes (first copy kept) */
	uint64_t invalid;                    /* datagrams dropped: inconsistent end, too long, too many pieces */
	uint64_t in_progress;                /* datagrams held now */
	uint64_t bytes_held;                 /* fragment bytes held now */
};

struct defrag;

struct defrag *defrag_new(const struct defrag_limits *limits);
void defrag_free(struct defrag *d);

/* Feed one fragment (p as decode_packet() left it for DECODE_FRAGMENT).
 * true when it completed a datagram: *dgram and *len then hold the whole IP
 * datagram, valid until the next call on d. */
bool defrag_add(struct defrag *d, const struct packet *p, const uint8_t **dgram, uint32_t *len);

/* Drop datagrams whose timeout has passed as of now_usec (packet time). */
void defrag_expire(struct defrag *d, uint64_t now_usec);

const struct defrag_stats *defrag_get_stats(const struct defrag *d);

#endif
