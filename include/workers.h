/* workers.h - packet processing on several cores.
 *
 * N workers, each a thread with its own engine (its own flow table: no
 * lock on the per-packet path). What they share - signatures, policy, the
 * DNS correlation cache, the outputs - is passed in.
 *
 * Live: each worker has its own capture handle on every interface, all in
 * one AF_PACKET fanout group per interface, so the kernel hands each flow,
 * both directions, to one worker. Files: one reader (the calling thread)
 * copies frames into blocks and gives each packet to a worker by a
 * symmetric hash of its addresses; the alerts and flow records are those a
 * single worker writes (see src/workers.c for how). With one worker on a
 * file, the calling thread reads and a worker thread runs the engine
 * (reader_thread), or packets go straight from libpcap to the engine in
 * the calling thread, as without this module. */
#ifndef APPLEMON_WORKERS_H
#define APPLEMON_WORKERS_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "config.h"
#include "cpu_affinity.h"
#include "dns_cache.h"
#include "engine.h"
#include "output.h"
#include "policy.h"
#include "signatures.h"

#define WORKERS_MAX 64

struct workers_params {
	const struct config *config;
	const struct sigset *sigs;
	const struct policy *policy;
	struct dns_cache *dns_cache;         /* shared by all workers; may be NULL */
	struct output *output;
	bool flow_records;                   /* --flows */
	unsigned n_workers;                  /* 1..WORKERS_MAX */
	struct capture_opts capture;         /* a file, or interfaces (fanout is set here) */
	uint32_t stats_interval;             /* live: seconds between capture reports; 0 none */
	const struct cpu_plan *cpus;         /* pin worker i to cpus->worker[i]; NULL or !pin: none */
	bool reader_thread;                  /* one worker on a file: read in a thread of its own
						(the plan's worker[1]) */
};

struct workers_stats {
	struct engine_stats engine;          /* summed over the workers */
	struct flow_stats flows;             /* summed (peak_active: sum of the peaks) */
	struct capture_stats capture;        /* summed over the captures */
	struct defrag_stats defrag;          /* IP fragment reassembly, summed */
	unsigned n_workers;
	uint64_t worker_packets[WORKERS_MAX];   /* packets each worker processed */
	uint64_t expiry_pauses;              /* file, several workers: stops to end idle flows */
	uint64_t order_waits;                /* file: times a worker waited for capture order */
	uint64_t reader_waits;               /* file: times the reader waited for the workers */
};

struct workers;

/* Opens the capture(s) - the step that needs privileges - and builds the
 * engines. NULL with a message in err. */
struct workers *workers_open(const struct workers_params *p, char *err, size_t errlen);
/* Process everything: a file to its end, live traffic until workers_stop().
 * Every flow is ended and written before it returns. false with a message
 * in err when a capture failed (after everything readable was processed). */
bool workers_run(struct workers *w, char *err, size_t errlen);
/* Async-signal-safe. */
void workers_stop(struct workers *w);
/* Async-signal-safe: report capture counters on stderr soon (live). */
void workers_report(struct workers *w);
/* After workers_run. */
void workers_get_stats(struct workers *w, struct workers_stats *s);
void workers_free(struct workers *w);

/* The default worker count: the number of online cores. */
unsigned workers_default_count(void);

#endif
