/* capture.c - libpcap intake for files and live interfaces.
 *
 * Files are opened with microsecond timestamp precision so nanosecond
 * pcaps and pcapng come out in one unit. Live handles use pcap_create so
 * snap length, promiscuity and immediate delivery are set before
 * activation; libpcap on Linux then reads from its TPACKET memory-mapped
 * ring, and the frames we get point into that ring. */
#include "capture.h"

#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

struct capture {
	pcap_t *pcap;
	bool live;
	volatile sig_atomic_t stop;
	uint64_t received;
};

static bool apply_filter(struct capture *c, const char *expr, char *err, size_t errlen)
{
	struct bpf_program prog;
	if (pcap_compile(c->pcap, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "bad filter '%s': %s", expr, pcap_geterr(c->pcap));
		return false;
	}
	int rc = pcap_setfilter(c->pcap, &prog);
	pcap_freecode(&prog);
	if (rc != 0) {
		snprintf(err, errlen, "cannot set filter: %s", pcap_geterr(c->pcap));
		return false;
	}
	return true;
}

static pcap_t *open_live(const struct capture_opts *o, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_create(o->iface, ebuf);
	if (!p) {
		snprintf(err, errlen, "%s: %s", o->iface, ebuf);
		return NULL;
	}
	pcap_set_snaplen(p, o->snaplen > 0 ? o->snaplen : 65535);
	pcap_set_promisc(p, o->promisc ? 1 : 0);
	pcap_set_timeout(p, 100);
	pcap_set_immediate_mode(p, 1);
	pcap_set_buffer_size(p, 64 * 1024 * 1024);
	int rc = pcap_activate(p);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", o->iface, pcap_geterr(p));
		pcap_close(p);
		return NULL;
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
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	if (o->file) {
		c->pcap = pcap_open_offline_with_tstamp_precision(o->file, PCAP_TSTAMP_PRECISION_MICRO,
								  ebuf);
		if (!c->pcap)
			snprintf(err, errlen, "%s: %s", o->file, ebuf);
	} else {
		c->pcap = open_live(o, err, errlen);
		c->live = true;
	}
	if (!c->pcap) {
		free(c);
		return NULL;
	}
	if (!decode_linktype_supported(pcap_datalink(c->pcap))) {
		snprintf(err, errlen, "%s: link type %s is not supported",
			 o->file ? o->file : o->iface,
			 pcap_datalink_val_to_name(pcap_datalink(c->pcap)));
		capture_close(c);
		return NULL;
	}
	if (o->bpf && o->bpf[0] && !apply_filter(c, o->bpf, err, errlen)) {
		capture_close(c);
		return NULL;
	}
	return c;
}

int capture_linktype(const struct capture *c)
{
	return pcap_datalink(c->pcap);
}

bool capture_run(struct capture *c, capture_fn fn, void *ctx, char *err, size_t errlen)
{
	int linktype = pcap_datalink(c->pcap);
	struct pcap_pkthdr *h;
	const u_char *data;
	while (!c->stop) {
		int rc = pcap_next_ex(c->pcap, &h, &data);
		if (rc == 1) {
			c->received++;
			uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
			fn(ctx, linktype, data, h->caplen, h->len, ts);
		} else if (rc == 0) {
			continue;        /* live: read timeout, nothing arrived */
		} else if (rc == PCAP_ERROR_BREAK) {
			break;           /* end of file, or capture_stop() */
		} else {
			snprintf(err, errlen, "%s", pcap_geterr(c->pcap));
			return false;
		}
	}
	return true;
}

void capture_stop(struct capture *c)
{
	c->stop = 1;
	pcap_breakloop(c->pcap);
}

void capture_get_stats(struct capture *c, struct capture_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->received = c->received;
	struct pcap_stat ps;
	if (c->live && pcap_stats(c->pcap, &ps) == 0) {
		s->kernel_drops = ps.ps_drop;
		s->iface_drops = ps.ps_ifdrop;
	}
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	pcap_close(c->pcap);
	free(c);
}
