/* capture.h - packets in, from a capture file or live interfaces (libpcap).
 *
 * Frames are handed to the callback where libpcap put them (its buffer or
 * its memory-mapped ring); nothing is copied. The callback must not keep
 * the pointer beyond its return.
 *
 * A live capture holds one handle per interface (a tap's two directions
 * are two interfaces). Several captures of the same interfaces can share
 * the traffic through AF_PACKET fanout groups: each gets whole flows, by
 * the kernel's symmetric flow hash (src/workers.c opens one per worker). */
#ifndef APPLEMON_CAPTURE_H
#define APPLEMON_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAPTURE_IFACES_MAX 8

/* One fanout group per interface, shared by several captures: the first
 * capture opened with `made` false creates the groups (ids chosen by the
 * kernel) and sets it; the others join them. Open them one after the
 * other: a capture's place in each group is the order it joined, the same
 * in every group, so both directions of a flow seen on two interfaces go
 * to the same capture. */
struct capture_fanout {
	bool made;
	uint16_t id[CAPTURE_IFACES_MAX];
};

struct capture_opts {
	const char *file;            /* capture file (pcap/pcapng), "-" = stdin; or NULL */
	const char *ifaces[CAPTURE_IFACES_MAX];   /* live interfaces (when no file) */
	size_t n_ifaces;
	const char *bpf;             /* filter expression; or NULL */
	int snaplen;                 /* live: bytes kept per packet */
	bool promisc;                /* live: promiscuous mode */
	bool immediate;              /* live: every packet at once, not per ring block */
	uint32_t ring_mb;            /* live: kernel ring per interface, MiB (0: 64) */
	struct capture_fanout *fanout;   /* live: share the traffic; NULL: get all of it */
};

struct capture_stats {
	uint64_t received;           /* frames handed to the callback */
	uint64_t kernel_drops;       /* live: pcap_stats ps_drop (ring full), all interfaces */
	uint64_t iface_drops;        /* live: the interfaces' rx_missed + rx_fifo errors since open */
};

typedef void (*capture_fn)(void *ctx, int linktype, const uint8_t *data, uint32_t caplen,
			   uint32_t wirelen, uint64_t ts_usec);
/* Live: called about every 100 ms with the wall-clock time, traffic or not. */
typedef void (*capture_tick_fn)(void *ctx, uint64_t now_usec);

struct capture;

struct capture *capture_open(const struct capture_opts *o, char *err, size_t errlen);
int capture_linktype(const struct capture *c);
bool capture_is_live(const struct capture *c);
void capture_set_tick(struct capture *c, capture_tick_fn tick);
/* Read until the end of the file, an error or capture_stop(). Returns true
 * at a clean end; false with a message in err (e.g. a truncated file) after
 * everything readable was handed over. */
bool capture_run(struct capture *c, capture_fn fn, void *ctx, char *err, size_t errlen);
/* Async-signal-safe and callable from any thread: makes capture_run return soon. */
void capture_stop(struct capture *c);
/* Any thread; live counters are refreshed about once a second by the
 * thread in capture_run, and when it returns. */
void capture_get_stats(struct capture *c, struct capture_stats *s);
void capture_close(struct capture *c);

#endif
