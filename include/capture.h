/* capture.h - packets in, from a capture file or a live interface (libpcap).
 *
 * Frames are handed to the callback where libpcap put them (its buffer or
 * its memory-mapped ring); nothing is copied. The callback must not keep
 * the pointer beyond its return. */
#ifndef APPLEMON_CAPTURE_H
#define APPLEMON_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct capture_opts {
	const char *file;            /* capture file (pcap/pcapng), "-" = stdin; or NULL */
	const char *iface;           /* live interface; or NULL */
	const char *bpf;             /* filter expression; or NULL */
	int snaplen;                 /* live: bytes kept per packet */
	bool promisc;                /* live: promiscuous mode */
};

struct capture_stats {
	uint64_t received;           /* frames handed to the callback */
	uint64_t kernel_drops;       /* live: pcap_stats ps_drop */
	uint64_t iface_drops;        /* live: pcap_stats ps_ifdrop */
};

typedef void (*capture_fn)(void *ctx, int linktype, const uint8_t *data, uint32_t caplen,
			   uint32_t wirelen, uint64_t ts_usec);

struct capture;

struct capture *capture_open(const struct capture_opts *o, char *err, size_t errlen);
int capture_linktype(const struct capture *c);
/* Read until the end of the file, an error or capture_stop(). Returns true
 * at a clean end; false with a message in err (e.g. a truncated file) after
 * everything readable was handed over. */
bool capture_run(struct capture *c, capture_fn fn, void *ctx, char *err, size_t errlen);
/* Async-signal-safe: makes capture_run return soon. */
void capture_stop(struct capture *c);
void capture_get_stats(struct capture *c, struct capture_stats *s);
void capture_close(struct capture *c);

#endif
