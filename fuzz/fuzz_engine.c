/* fuzz_engine.c - whole-packet processing over a flow table.
 *
 * Input: [link byte] then packets as records (fuzz.h) whose first byte
 * advances the clock: under 200, that many 10 ms; from 200, (b - 200)
 * minutes, so idle timeouts and expiry run too. Each input gets a fresh
 * engine with a deliberately small flow table and DNS cache (eviction and
 * replacement happen within a few packets); the signature set, the policy
 * and the configuration are read from strings once, and the records go to
 * /dev/null in every format (JSON, ECS, CEF, LEEF: names from the packets
 * meet each format's escaping) through one output made once (suppression
 * off, so it carries nothing from one input to the next). Each frame is
 * copied to a buffer of its own so that a read past its end is caught. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "dns_cache.h"
#include "engine.h"
#include "fuzz.h"
#include "output.h"
#include "signatures.h"

static const char config_text[] =
	"[flows]\n"
	"max = 16\n"
	"inspect_packets = 4\n"
	"udp_timeout = 30\n"
	"tcp_closed_timeout = 5\n"
	"[dns]\n"
	"cache_max = 16\n"
	"[alerts]\n"
	"suppress = 0\n"
	"[policy office]\n"
	"hosts = 10.0.0.0/8, 2001:db8::/32\n"
	"exempt = 10.9.9.99\n"
	"[policy rest]\n"
	"hosts = 0.0.0.0/0, ::/0\n";

static const char sig_text[] =
	"domain apple.com apple\n"
	"domain icloud.com icloud\n"
	"domain push.apple.com push\n"
	"domain mesu.apple.com software-update\n"
	"domain edgekey.net apple\n"
	"host captive.apple.com captive-portal\n"
	"prefix 17.0.0.0/8 apple\n"
	"prefix 2620:149::/32 apple\n"
	"port tcp/5223 push\n"
	"port udp/443 apple\n";

static struct config cfg;
static struct sigset *sigs;
static struct output *out;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char err[512];
	struct sig_error serr;
	config_init(&cfg);
	sigs = sigset_new();
	err[0] = serr.msg[0] = '\0';
	if (!config_load_string(&cfg, config_text, "fuzz.conf", err, sizeof(err)) || !sigs ||
	    !sigset_load_string(sigs, sig_text, sizeof(sig_text) - 1, "fuzz.sig", &serr) ||
	    !(out = output_new("fuzz", cfg.suppress_secs)) ||
	    !output_add(out, "json:/dev/null", NULL, err, sizeof(err)) ||
	    !output_add(out, "json:/dev/null,format=ecs", NULL, err, sizeof(err)) ||
	    !output_add(out, "json:/dev/null,format=cef", NULL, err, sizeof(err)) ||
	    !output_add(out, "json:/dev/null,format=leef", NULL, err, sizeof(err))) {
		fprintf(stderr, "fuzz_engine: setup failed: %s %s\n", err, serr.msg);
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	int lb = fuzz_u8(&in);
	if (lb < 0)
		return 0;
	int linktype = fuzz_linktype((uint8_t)lb);
	struct dns_cache *dc = dns_cache_new(cfg.dns_cache_max, cfg.dns_min_ttl, cfg.dns_max_ttl);
	if (!dc)
		abort();
	struct engine_params ep = {
		.config = &cfg, .sigs = sigs, .policy = cfg.policy, .dns_cache = dc,
		.output = out, .flow_records = true,
	};
	struct engine *e = engine_new(&ep);
	if (!e)
		abort();

	uint64_t ts = 1768467600ull * 1000000u;     /* 2026-01-15T09:00:00Z */
	const uint8_t *rec;
	size_t len;
	while (fuzz_record(&in, &rec, &len)) {
		if (len == 0)
			continue;
		uint8_t dt = rec[0];
		ts += dt < 200 ? dt * 10000ull : (dt - 200) * 60000000ull;
		uint8_t *frame = fuzz_dup(rec + 1, len - 1);
		if (!frame)
			break;
		uint32_t caplen = (uint32_t)(len - 1);
		engine_packet(e, linktype, frame, caplen, caplen, ts);
		free(frame);
	}
	engine_finish(e);
	const struct engine_stats *s = engine_get_stats(e);
	const struct flow_stats *fs = engine_flow_stats(e);
	FUZZ_ASSERT(fs->peak_active <= cfg.flows_max);
	FUZZ_ASSERT(s->decode.packets == s->packets);
	engine_free(e);
	struct dns_cache_stats ds;
	dns_cache_get_stats(dc, &ds);
	FUZZ_ASSERT(ds.entries <= cfg.dns_cache_max);
	dns_cache_free(dc);
	return 0;
}
