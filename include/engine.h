/* engine.h - one packet-processing pipeline: decode -> flow -> names ->
 * verdict -> policy -> record.
 *
 * An engine owns its flow table and is used by one thread. What it shares
 * with other engines (the signature set, the policy, the DNS correlation
 * cache, the outputs) is passed in and not owned. */
#ifndef APPLEMON_ENGINE_H
#define APPLEMON_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "asn.h"
#include "config.h"
#include "decode.h"
#include "defrag.h"
#include "dns_cache.h"
#include "flow.h"
#include "output.h"
#include "policy.h"
#include "signatures.h"

/* What an engine does that other engines may see. Before each such step
 * the engine calls `order` (with several workers on one capture file,
 * src/workers.c makes it wait until every packet before the current one
 * is done, so the shared DNS cache and the alert suppressor see events in
 * capture order); records go to `write` instead of output_write_admitted().
 * The engine asks the suppressor itself (output_admit, after an order
 * step) before it builds an alert: what reaches `write` is to be sent. */
enum engine_step {
	ENGINE_STEP_DNS_LOOKUP,              /* reads the DNS cache: needs earlier answers in */
	ENGINE_STEP_SHARED,                  /* a DNS answer in, or a record out */
};

struct engine_hooks {
	void (*order)(void *ctx, enum engine_step step);
	void (*write)(void *ctx, struct record *r);
	void *ctx;
};

struct engine_params {
	const struct config *config;         /* flow limits, timeouts, inspection depth */
	const struct sigset *sigs;
	const struct policy *policy;
	struct dns_cache *dns_cache;         /* shared; may be NULL (no correlation) */
	const struct asn_db *asn_db;         /* NULL: the engine shares [signatures] asn_database's */
	struct output *output;
	bool flow_records;                   /* --flows */
	uint32_t flows_max;                  /* this engine's share of [flows] max; 0 = all of it */
	bool external_expiry;                /* idle flows are ended by engine_expire_all() */
	uint32_t dns_grace_ms;               /* live: see engine_tick(); 0 = never look again */
	const struct engine_hooks *hooks;    /* NULL: one engine, straight to output_write_admitted() */
};

struct engine_stats {
	uint64_t packets, bytes;             /* as captured: frames, wire bytes */
	uint64_t fast_path_pkts;             /* packets of decided flows: lookup + counters only */
	uint64_t alerts, flow_records;
	uint64_t dns_messages, dns_malformed;
	uint64_t tls_client_hellos, tls_malformed, http_requests, quic_client_hellos;
	uint64_t quic_states_refused;         /* QUIC flows decided on addresses: too many open at once */
	uint64_t reasm_windows_refused;       /* TCP flows whose bytes were not held: too many windows at once */
	uint64_t stream_gaps;                /* client segments held ahead of a gap (out of order) */
	uint64_t stream_overflow;            /* client bytes past the reassembly window, dropped */
	uint64_t stream_conflicts;           /* overlapping client bytes that differed (first kept) */
	struct decode_stats decode;
};

struct engine;

struct engine *engine_new(const struct engine_params *p);
/* Process one captured frame. */
void engine_packet(struct engine *e, int linktype, const uint8_t *data, uint32_t caplen,
		   uint32_t wirelen, uint64_t ts_usec);
/* engine_packet() in two steps, for a caller that decodes a few frames
 * ahead (the frames must stay put until processed): engine_decode() has no
 * effect but the decoding counters; engine_decoded() is the rest, for
 * frames in capture order (p may be changed: IP reassembly). Between them,
 * engine_prefetch() asks for the cache line of the flow table's bucket of
 * a decoded frame (false: nothing to look up) and, a few frames later,
 * engine_prefetch_flow() for the flow it holds: no effect on any result. */
enum decode_result engine_decode(struct engine *e, struct packet *p, int linktype,
				 const uint8_t *data, uint32_t caplen, uint32_t wirelen,
				 uint64_t ts_usec);
void engine_decoded(struct engine *e, struct packet *p, enum decode_result dr);
bool engine_prefetch(const struct engine *e, const struct packet *p, enum decode_result dr,
		     uint32_t *hash);
void engine_prefetch_flow(const struct engine *e, uint32_t hash);
/* End every flow (shutdown) and write what they owe. */
void engine_finish(struct engine *e);
void engine_free(struct engine *e);

/* Live capture, about every 100 ms: end the flows idle as of now, and
 * look again in the DNS cache for flows decided dns_grace_ms ago with no
 * name of their own and no DNS answer: the answer may have been read late
 * (another worker's ring, or another interface's, hands it over up to a
 * ring block timeout later), and then the flow is attributed through DNS
 * after all. */
void engine_tick(struct engine *e, uint64_t now_usec);
/* Several engines sharing one capture file (external_expiry): end idle
 * flows, or every flow at shutdown, across all of them in the order one
 * engine would (flow_expire_tables). The caller must have every engine to
 * itself. engine_finish_all also flushes the outputs. */
void engine_expire_all(struct engine *const *es, size_t n, uint64_t now_usec);
void engine_finish_all(struct engine *const *es, size_t n);
/* When engine_expire_all() could next end one of this engine's flows. */
uint64_t engine_next_expiry(const struct engine *e);

const struct engine_stats *engine_get_stats(const struct engine *e);
const struct flow_stats *engine_flow_stats(const struct engine *e);
const struct defrag_stats *engine_defrag_stats(const struct engine *e);

#endif
