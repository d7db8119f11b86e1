/* capture.c - libpcap intake for files and live interfaces.
 *
 * Files are opened with microsecond timestamp precision so nanosecond
 * pcaps and pcapng come out in one unit, and read with pcap_next_ex.
 *
 * Live handles use pcap_create so snap length, promiscuity, ring size and
 * immediate delivery are set before activation. libpcap on Linux then reads
 * from a TPACKET_V3 memory-mapped ring: the kernel fills blocks of frames
 * and hands a block over when it is full or when the 100 ms timeout passes,
 * so a quiet link still delivers within 100 ms. Immediate mode makes
 * libpcap use TPACKET_V2 instead (one frame at a time: lower latency, more
 * wake-ups). The frames we get point into that ring.
 *
 * Fanout: libpcap has no call for it, so PACKET_FANOUT is set on the
 * handle's socket after activation, in hash mode with the defragment flag:
 * the kernel computes a symmetric hash of each packet's addresses and ports
 * (__skb_get_hash_symmetric, not the NIC's receive hash), after putting IP
 * fragments back together, and every packet of a flow, both directions,
 * reaches the same socket of the group.
 *
 * Several interfaces are read in one loop: poll() on their descriptors,
 * then pcap_dispatch() on each, non-blocking.
 *
 * Drop counters: pcap_stats gives the kernel's (ring full). libpcap's own
 * interface count comes from sysfs files it opens by name at each call,
 * which fails after a chroot (and then counts nonsense), so we open the
 * same files (rx_missed_errors, rx_fifo_errors) once, before any chroot,
 * and reread them. Both are read by the capturing thread itself about once
 * a second and published through atomics, so other threads may ask. */
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "decode.h"

#define LIVE_TIMEOUT_MS 100
#define DISPATCH_BATCH 512
/* stdio buffer for capture files: with glibc's default (the file system's
 * block, 4 KiB) a 400 MB capture takes 100,000 read(2) calls, which cost
 * more than everything libpcap does with the bytes (docs/performance.md). */
#define FILE_READ_BUFFER (256 * 1024)

struct live_if {
	pcap_t *pcap;
	int linktype;
	int sysfs_fd[2];             /* rx_missed_errors, rx_fifo_errors; -1 if unreadable */
	uint64_t sysfs_base;         /* their sum at open */
	char *read_buffer;           /* a file's stdio buffer; freed after pcap_close */
};

struct capture {
	struct live_if ifs[CAPTURE_IFACES_MAX];
	size_t n;                    /* handles: 1 for a file */
	bool live;
	atomic_int stop;             /* lock-free: set from signal handlers and other threads */
	capture_tick_fn tick;
	_Atomic uint64_t received, kernel_drops, iface_drops;
};

/* ---- opening -------------------------------------------------------------- */

static bool apply_filter(pcap_t *p, const char *expr, char *err, size_t errlen)
{
	struct bpf_program prog;
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "bad filter '%s': %s", expr, pcap_geterr(p));
		return false;
	}
	int rc = pcap_setfilter(p, &prog);
	pcap_freecode(&prog);
	if (rc != 0) {
		snprintf(err, errlen, "cannot set filter: %s", pcap_geterr(p));
		return false;
	}
	return true;
}

/* Join (or create, with a kernel-chosen id) the interface's fanout group. */
static bool join_fanout(pcap_t *p, const char *iface, struct capture_fanout *fo, size_t i,
			char *err, size_t errlen)
{
	int fd = pcap_fileno(p);
	int mode = PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG;
	int val;
	if (!fo->made) {
		val = (int)((unsigned)(mode | PACKET_FANOUT_FLAG_UNIQUEID) << 16);
		if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &val, sizeof(val)) != 0) {
			snprintf(err, errlen, "%s: cannot create a fanout group: %s", iface,
				 strerror(errno));
			return false;
		}
		socklen_t len = sizeof(val);
		if (getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &val, &len) != 0) {
			snprintf(err, errlen, "%s: cannot read the fanout group: %s", iface,
				 strerror(errno));
			return false;
		}
		fo->id[i] = (uint16_t)(val & 0xffff);
		return true;
	}
	val = (int)((unsigned)mode << 16 | fo->id[i]);
	if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &val, sizeof(val)) != 0) {
		snprintf(err, errlen, "%s: cannot join fanout group %u: %s", iface, fo->id[i],
			 strerror(errno));
		return false;
	}
	return true;
}

/* The interface's two drop counters now (those that could be opened). */
static uint64_t sysfs_sum(const struct live_if *li)
{
	uint64_t now = 0;
	for (int k = 0; k < 2; k++) {
		char buf[32];
		ssize_t n = li->sysfs_fd[k] >= 0 ? pread(li->sysfs_fd[k], buf, sizeof(buf) - 1, 0) : -1;
		if (n > 0) {
			buf[n] = '\0';
			now += strtoull(buf, NULL, 10);
		}
	}
	return now;
}

static void open_sysfs_counters(struct live_if *li, const char *iface);

static pcap_t *open_live(const struct capture_opts *o, size_t i, char *err, size_t errlen)
{
	const char *iface = o->ifaces[i];
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_create(iface, ebuf);
	if (!p) {
		snprintf(err, errlen, "%s: %s", iface, ebuf);
		return NULL;
	}
	uint32_t ring_mb = o->ring_mb ? o->ring_mb : 64;
	pcap_set_snaplen(p, o->snaplen > 0 ? o->snaplen : 65535);
	pcap_set_promisc(p, o->promisc ? 1 : 0);
	pcap_set_timeout(p, LIVE_TIMEOUT_MS);
	pcap_set_immediate_mode(p, o->immediate ? 1 : 0);
	pcap_set_buffer_size(p, (int)(ring_mb > 2047 ? 2047u << 20 : ring_mb << 20));
	int rc = pcap_activate(p);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", iface, pcap_geterr(p));
		pcap_close(p);
		return NULL;
	}
	if (pcap_setnonblock(p, 1, ebuf) != 0) {
		snprintf(err, errlen, "%s: %s", iface, ebuf);
		pcap_close(p);
		return NULL;
	}
	if (o->fanout && !join_fanout(p, iface, o->fanout, i, err, errlen)) {
		pcap_close(p);
		return NULL;
	}
	return p;
}

/* A capture file ("-": standard input) through libpcap's FILE interface, so
 * that the stream gets a large buffer: libpcap reads each record with two
 * fread calls, and the buffer decides how many system calls that costs. */
static pcap_t *open_file(const char *path, char **buffer, char *err, size_t errlen)
{
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	/* Standard input outlives the capture (libpcap does not close it), so
	 * its buffer must too: a static one. */
	static char stdin_buffer[FILE_READ_BUFFER];
	*buffer = is_stdin ? NULL : malloc(FILE_READ_BUFFER);
	if (is_stdin)
		setvbuf(f, stdin_buffer, _IOFBF, sizeof(stdin_buffer));
	else if (*buffer)
		setvbuf(f, *buffer, _IOFBF, FILE_READ_BUFFER);
	/* Only the reading thread touches the stream. Once a process has a
	 * second thread, glibc takes the stream's lock in every fread (two per
	 * record): an atomic read-modify-write each, and a cache-line transfer
	 * whenever another core wrote near the lock. */
	__fsetlocking(f, FSETLOCKING_BYCALLER);
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (!p) {
		snprintf(err, errlen, "%s: %s", path, ebuf);
		if (!is_stdin)
			fclose(f);
		free(*buffer);
		*buffer = NULL;
	}
	return p;
}

struct capture *capture_open(const struct capture_opts *o, char *err, size_t errlen)
{
	struct capture *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < CAPTURE_IFACES_MAX; i++)
		c->ifs[i].sysfs_fd[0] = c->ifs[i].sysfs_fd[1] = -1;
	if (o->file) {
		c->ifs[0].pcap = open_file(o->file, &c->ifs[0].read_buffer, err, errlen);
		if (!c->ifs[0].pcap) {
			free(c);
			return NULL;
		}
		c->n = 1;
	} else {
		if (o->n_ifaces == 0 || o->n_ifaces > CAPTURE_IFACES_MAX) {
			snprintf(err, errlen, "give 1 to %d interfaces", CAPTURE_IFACES_MAX);
			free(c);
			return NULL;
		}
		c->live = true;
		for (size_t i = 0; i < o->n_ifaces; i++) {
			c->ifs[i].pcap = open_live(o, i, err, errlen);
			if (!c->ifs[i].pcap) {
				capture_close(c);
				return NULL;
			}
			c->n = i + 1;
			open_sysfs_counters(&c->ifs[i], o->ifaces[i]);
		}
		if (o->fanout)
			o->fanout->made = true;
	}
	for (size_t i = 0; i < c->n; i++) {
		const char *name = o->file ? o->file : o->ifaces[i];
		pcap_t *p = c->ifs[i].pcap;
		c->ifs[i].linktype = pcap_datalink(p);
		if (!decode_linktype_supported(c->ifs[i].linktype)) {
			snprintf(err, errlen, "%s: link type %s is not supported", name,
				 pcap_datalink_val_to_name(c->ifs[i].linktype));
			capture_close(c);
			return NULL;
		}
		if (o->bpf && o->bpf[0] && !apply_filter(p, o->bpf, err, errlen)) {
			capture_close(c);
			return NULL;
		}
	}
	return c;
}

int capture_linktype(const struct capture *c)
{
	return c->ifs[0].linktype;
}

bool capture_is_live(const struct capture *c)
{
	return c->live;
}

void capture_set_tick(struct capture *c, capture_tick_fn tick)
{
	c->tick = tick;
}

/* ---- interface drop counters ------------------------------------------------ */

static void open_sysfs_counters(struct live_if *li, const char *iface)
{
	static const char *const names[2] = { "rx_missed_errors", "rx_fifo_errors" };
	for (int k = 0; k < 2; k++) {
		char path[256];
		snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", iface, names[k]);
		li->sysfs_fd[k] = open(path, O_RDONLY | O_CLOEXEC);
	}
	li->sysfs_base = sysfs_sum(li);
}

static uint64_t sysfs_drops(const struct live_if *li)
{
	uint64_t now = sysfs_sum(li);
	return now > li->sysfs_base ? now - li->sysfs_base : 0;
}

/* Called by the capturing thread only (pcap handles are not shared). */
static void refresh_stats(struct capture *c)
{
	uint64_t kdrops = 0, idrops = 0;
	for (size_t i = 0; i < c->n; i++) {
		struct pcap_stat ps;
		if (pcap_stats(c->ifs[i].pcap, &ps) == 0)
			kdrops += ps.ps_drop;
		idrops += sysfs_drops(&c->ifs[i]);
	}
	atomic_store_explicit(&c->kernel_drops, kdrops, memory_order_relaxed);
	atomic_store_explicit(&c->iface_drops, idrops, memory_order_relaxed);
}

/* ---- reading ------------------------------------------------------------------ */

static uint64_t wall_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static bool run_file(struct capture *c, capture_fn fn, void *ctx, char *err, size_t errlen)
{
	pcap_t *p = c->ifs[0].pcap;
	int linktype = c->ifs[0].linktype;
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t received = 0;
	bool ok = true;
	while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
		int rc = pcap_next_ex(p, &h, &data);
		if (rc == 1) {
			received++;
			uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
			fn(ctx, linktype, data, h->caplen, h->len, ts);
		} else if (rc == 0) {
			continue;
		} else if (rc == PCAP_ERROR_BREAK) {
			break;           /* end of file, or capture_stop() */
		} else {
			snprintf(err, errlen, "%s", pcap_geterr(p));
			ok = false;
			break;
		}
	}
	atomic_store_explicit(&c->received, received, memory_order_relaxed);
	return ok;
}

struct dispatch_ctx {
	capture_fn fn;
	void *ctx;
	int linktype;
	uint64_t received;
};

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	struct dispatch_ctx *d = (struct dispatch_ctx *)user;
	d->received++;
	uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
	d->fn(d->ctx, d->linktype, data, h->caplen, h->len, ts);
}

static bool run_live(struct capture *c, capture_fn fn, void *ctx, char *err, size_t errlen)
{
	struct pollfd pfd[CAPTURE_IFACES_MAX];
	for (size_t i = 0; i < c->n; i++) {
		pfd[i].fd = pcap_get_selectable_fd(c->ifs[i].pcap);
		pfd[i].events = POLLIN;
	}
	struct dispatch_ctx d = { .fn = fn, .ctx = ctx };
	uint64_t last_tick = wall_usec(), last_stats = last_tick;
	bool ok = true;
	while (!atomic_load_explicit(&c->stop, memory_order_relaxed) && ok) {
		int ready = poll(pfd, (nfds_t)c->n, LIVE_TIMEOUT_MS);
		if (ready < 0 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			ok = false;
			break;
		}
		for (size_t i = 0; ready > 0 && i < c->n && ok; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLERR | POLLHUP)))
				continue;
			d.linktype = c->ifs[i].linktype;
			int n = pcap_dispatch(c->ifs[i].pcap, DISPATCH_BATCH, on_frame, (u_char *)&d);
			if (n == PCAP_ERROR) {
				snprintf(err, errlen, "%s", pcap_geterr(c->ifs[i].pcap));
				ok = false;
				break;
			}
		}
		atomic_store_explicit(&c->received, d.received, memory_order_relaxed);
		uint64_t now = wall_usec();
		if (c->tick && now - last_tick >= LIVE_TIMEOUT_MS * 1000u) {
			last_tick = now;
			c->tick(ctx, now);
		}
		if (now - last_stats >= 1000000u) {
			last_stats = now;
			refresh_stats(c);
		}
	}
	/* Stopped: what the kernel already put in the rings is read too. */
	for (size_t i = 0; ok && i < c->n; i++) {
		d.linktype = c->ifs[i].linktype;
		pcap_dispatch(c->ifs[i].pcap, -1, on_frame, (u_char *)&d);
	}
	atomic_store_explicit(&c->received, d.received, memory_order_relaxed);
	refresh_stats(c);
	return ok;
}

bool capture_run(struct capture *c, capture_fn fn, void *ctx, char *err, size_t errlen)
{
	return c->live ? run_live(c, fn, ctx, err, errlen) : run_file(c, fn, ctx, err, errlen);
}

/* The reading loops look at the flag for every packet (files) or at least
 * every 100 ms (live: the poll timeout), so pcap_breakloop is not needed;
 * it would also make the last read of the rings return at once. */
void capture_stop(struct capture *c)
{
	atomic_store_explicit(&c->stop, 1, memory_order_relaxed);
}

void capture_get_stats(struct capture *c, struct capture_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->received = atomic_load_explicit(&c->received, memory_order_relaxed);
	s->kernel_drops = atomic_load_explicit(&c->kernel_drops, memory_order_relaxed);
	s->iface_drops = atomic_load_explicit(&c->iface_drops, memory_order_relaxed);
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		pcap_close(c->ifs[i].pcap);
		free(c->ifs[i].read_buffer);
		for (int k = 0; k < 2; k++)
			if (c->ifs[i].sysfs_fd[k] >= 0)
				close(c->ifs[i].sysfs_fd[k]);
	}
	free(c);
}
