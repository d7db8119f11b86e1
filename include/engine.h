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

struct engine_params {
	const struct config *config;         /* flow limits, timeouts, inspection depth */
	const struct sigset *sigs;
	const struct policy *policy;
	struct dns_cache *dns_cache;         /* shared; may be NULL (no correlation) */
	const struct asn_db *asn_db;         /* NULL: the engine shares [signatures] asn_database's */
	struct output *output;
	bool flow_records;                   /* --flows */
};

struct engine_stats {
	uint64_t packets, bytes;             /* as captured: frames, wire bytes */
	uint64_t fast_path_pkts;             /* packets of decided flows: lookup + counters only */
	uint64_t alerts, flow_records;
	uint64_t dns_messages, dns_malformed;
	uint64_t tls_client_hellos, tls_malformed, http_requests, quic_client_hellos;
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
/* End every flow (shutdown) and write what they owe. */
void engine_finish(struct engine *e);
void engine_free(struct engine *e);

const struct engine_stats *engine_get_stats(const struct engine *e);
const struct flow_stats *engine_flow_stats(const struct engine *e);
const struct defrag_stats *engine_defrag_stats(const struct engine *e);

#endif
