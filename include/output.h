/* output.h - where records go: the API packet processing calls.
 *
 * output_write() may be called from several capture threads at once. It
 * applies alert suppression, packs the record into a bounded queue and
 * returns; it never waits on a sink. One delivery thread (delivery.c, a
 * libevent loop) formats each record for every sink and delivers it, and
 * owns every sink, timer, signal and the status endpoint.
 *
 * A sink spec is "TYPE:TARGET[,key=value...]": json:PATH (json:- or - is
 * standard output), syslog:udp://HOST:PORT, syslog:tcp://HOST:PORT,
 * syslog:tls://HOST:PORT, syslog:relp://HOST:PORT, syslog:unix:PATH, each
 * optionally followed by ,format=json|ecs|cef|leef and, for syslog,
 * ,rfc=5424|3164, ,framing=octet|lf (TCP, TLS) and ,ca= ,cert= ,key= (TLS).
 *
 * Life cycle: output_new, output_add (each sink), output_configure,
 * output_start, output_write..., output_close (flush with a deadline),
 * output_free. Without output_start the first output_write starts
 * delivery with default settings and no signal handling. */
#ifndef APPLEMON_OUTPUT_H
#define APPLEMON_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "record.h"

struct output;

struct output_settings {
	uint32_t queue;              /* records between packet processing and delivery */
	uint64_t memory;             /* bytes per sink waiting in memory; 0: the sink default (sink.h) */
	char spool_dir[512];         /* "" : no spool */
	uint64_t spool_size;         /* bytes per sink on disk */
	uint32_t flush_timeout;      /* seconds to deliver what waits, at the end */
	uint32_t reconnect_max;      /* seconds, the longest reconnect backoff */
	char status_listen[128];     /* ADDRESS:PORT of the status endpoint; "" off */
	bool status_optional;        /* the default address: if taken, warn and go on */
	bool lossless;               /* reading a file: wait for the queue, never drop */
	int cpu;                     /* pin the delivery thread to this CPU; -1 not */
};

void output_settings_default(struct output_settings *s);

/* Numbers the status endpoint shows that packet processing owns. */
struct output_counters {
	uint64_t packets, bytes, kernel_drops, flows, decode_errors;
	uint64_t iface_drops;            /* dropped by the interfaces (sysfs counters) */
	uint64_t flows_active, flows_evicted, fast_path_packets;
	uint64_t ip_fragments, ip_reassembled, ip_reassembly_dropped;   /* timed out, evicted, invalid */
};

struct output_hooks {
	void (*stop)(void *ctx);                          /* SIGTERM, SIGINT */
	bool (*reload)(void *ctx, char *err, size_t errlen);   /* SIGHUP */
	void (*counters)(void *ctx, struct output_counters *c);
	void *ctx;
};

struct output_sink_stats {
	char spec[512];
	uint64_t written;            /* = delivered */
	uint64_t errors;
	uint64_t delivered, queued, spooled, spool_now, dropped, resent;
	bool connected;
};

/* suppress_secs: repeat suppression of alerts per (host, service), 0 off. */
struct output *output_new(const char *sensor_name, uint32_t suppress_secs);
/* Flushes (output_close) and frees. */
void output_free(struct output *o);

/* Add a sink; false with a message in err (bad spec, file cannot be opened). */
bool output_add(struct output *o, const char *spec, const char *format, char *err, size_t errlen);
size_t output_count(const struct output *o);
void output_configure(struct output *o, const struct output_settings *s);
/* Starts the delivery thread (opens sinks, spools, the status endpoint,
 * takes SIGHUP, SIGTERM and SIGINT when hooks say what to do). */
bool output_start(struct output *o, const struct output_hooks *hooks, char *err, size_t errlen);

/* Alerts pass the suppressor first (r->suppressed is set on the way);
 * flow records are never suppressed. Thread-safe. */
void output_write(struct output *o, struct record *r);

/* The two halves of output_write for an alert, for a caller that would
 * rather not build a record the suppressor then drops (a repeat costs a
 * look-up instead of a record): output_admit is the suppressor's verdict
 * for (host, service) at ts_usec, *suppressed the repeats it carries
 * (counted as output_write counts them); output_write_admitted hands a
 * record on without asking again. Thread-safe. */
bool output_admit(struct output *o, const struct ip_addr *host, unsigned service,
		  uint64_t ts_usec, uint32_t *suppressed);
void output_write_admitted(struct output *o, struct record *r);
/* Waits until every record written so far is formatted and handed to its
 * sinks (files written and flushed). Thread-safe. */
void output_flush(struct output *o);
/* No more records: delivers what waits, up to flush_timeout, keeps the
 * rest in the spool (or counts it dropped) and stops the delivery thread. */
void output_close(struct output *o);

size_t output_stats(const struct output *o, struct output_sink_stats *out, size_t max);
/* Alerts held back by suppression. */
uint64_t output_suppressed(const struct output *o);
/* Records dropped because the queue to delivery was full. */
uint64_t output_queue_dropped(const struct output *o);
/* Alerts admitted per service (index enum service_id). */
uint64_t output_alerts(const struct output *o, int service);
/* One line per sink other than standard output, and queue drops. */
void output_report(const struct output *o, FILE *f);

#endif
