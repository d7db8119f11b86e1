/* main.c - command line, setup, the capture loop and the summary.
 *
 * Exit status: 0 when done; 1 for a runtime failure (capture unreadable or
 * truncated: reported after everything readable was processed); 2 for a
 * usage, configuration or signature error, reported with file and line. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "asn.h"
#include "capture.h"
#include "community_id.h"
#include "config.h"
#include "cpu_affinity.h"
#include "dns_cache.h"
#include "engine.h"
#include "openssl_lib.h"
#include "output.h"
#include "privdrop.h"
#include "quic_crypto.h"
#include "ruleset.h"
#include "signatures.h"
#include "workers.h"

#ifndef SIGDIR_DEFAULT
#define SIGDIR_DEFAULT "/usr/local/share/applemon/signatures"
#endif
#define APPLEMON_VERSION "0.1.0"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

struct options {
	const char *read_file;
	const char *ifaces[CAPTURE_IFACES_MAX];   /* -i, repeated; else [capture] interface */
	size_t n_ifaces;
	unsigned workers;                          /* --workers; 0: [capture] workers */
	const char *user;                          /* -u; else [capture] user */
	const char *chroot_dir;                    /* --chroot; else [capture] chroot */
	bool immediate;                            /* --immediate */
	const char *bpf;
	const char *config_file;
	const char *sig_dir;
	const char *sensor;
	const char *outputs[16];
	size_t n_outputs;
	bool flows;
	bool quiet;
	bool check_only;
	bool reader_thread;                        /* one worker on a file: a reading thread too */
};

/* Read by the delivery thread (signal events, status endpoint) and the
 * SIGUSR1 handler while the main thread sets it. */
static _Atomic(struct workers *) active_workers;
static atomic_bool stop_requested;   /* SIGTERM/SIGINT, perhaps before the workers exist */

static void usage(FILE *out)
{
	fputs("usage: applemon [options] -r FILE | -i IFACE [-i IFACE...]\n"
	      "\n"
	      "Watches traffic for hosts that reach Apple services and writes an alert\n"
	      "for each such connection.\n"
	      "\n"
	      "  -r, --read FILE        read a capture file (pcap or pcapng; - for stdin)\n"
	      "  -i, --interface IFACE  capture live from IFACE; repeat for several (a tap's\n"
	      "                         two directions)\n"
	      "  -f, --filter EXPR      only look at packets matching the BPF filter EXPR\n"
	      "  -c, --config FILE      read the configuration file FILE (INI)\n"
	      "  -S, --signatures DIR   signature folder (default: the installed one,\n"
	      "                         else ./signatures)\n"
	      "  -o, --output SINK      write records to SINK; may be repeated:\n"
	      "                           json:PATH  JSON lines appended to PATH\n"
	      "                           json:- or -  JSON lines to standard output\n"
	      "                         without -o or [output] sections: standard output\n"
	      "      --flows            also write one flow record per flow\n"
	      "      --sensor NAME      sensor name in every record (default: host name)\n"
	      "      --workers N        packet-processing threads (default: one per core)\n"
	      "  -u, --user USER        run as USER once the capture is open\n"
	      "      --chroot DIR       with -u: also confine the process to DIR\n"
	      "      --immediate        live: hand over every packet at once, not per ring block\n"
	      "  -t, --check            load configuration and signatures, report, exit\n"
	      "  -q, --quiet            no summary on standard error\n"
	      "  -h, --help             this text\n"
	      "  -V, --version          version\n"
	      "\n"
	      "Exit status: 0 done; 1 runtime failure (unreadable or truncated capture);\n"
	      "2 usage, configuration or signature error.\n",
	      out);
}

static int parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_FLOWS = 256, OPT_SENSOR, OPT_WORKERS, OPT_CHROOT, OPT_IMMEDIATE };
	static const struct option longopts[] = {
		{ "read", required_argument, NULL, 'r' },
		{ "interface", required_argument, NULL, 'i' },
		{ "filter", required_argument, NULL, 'f' },
		{ "config", required_argument, NULL, 'c' },
		{ "signatures", required_argument, NULL, 'S' },
		{ "output", required_argument, NULL, 'o' },
		{ "flows", no_argument, NULL, OPT_FLOWS },
		{ "sensor", required_argument, NULL, OPT_SENSOR },
		{ "workers", required_argument, NULL, OPT_WORKERS },
		{ "user", required_argument, NULL, 'u' },
		{ "chroot", required_argument, NULL, OPT_CHROOT },
		{ "immediate", no_argument, NULL, OPT_IMMEDIATE },
		{ "check", no_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "r:i:f:c:S:o:u:tqhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r': o->read_file = optarg; break;
		case 'i':
			if (o->n_ifaces == CAPTURE_IFACES_MAX) {
				fprintf(stderr, "applemon: at most %d interfaces\n", CAPTURE_IFACES_MAX);
				return EXIT_USAGE;
			}
			o->ifaces[o->n_ifaces++] = optarg;
			break;
		case OPT_WORKERS: {
			char *end;
			errno = 0;
			unsigned long n = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 1 || n > WORKERS_MAX) {
				fprintf(stderr, "applemon: --workers %s: give 1 to %d\n", optarg,
					WORKERS_MAX);
				return EXIT_USAGE;
			}
			o->workers = (unsigned)n;
			break;
		}
		case 'u': o->user = optarg; break;
		case OPT_CHROOT: o->chroot_dir = optarg; break;
		case OPT_IMMEDIATE: o->immediate = true; break;
		case 'f': o->bpf = optarg; break;
		case 'c': o->config_file = optarg; break;
		case 'S': o->sig_dir = optarg; break;
		case 'o':
			if (o->n_outputs == sizeof(o->outputs) / sizeof(o->outputs[0])) {
				fprintf(stderr, "applemon: too many -o options\n");
				return EXIT_USAGE;
			}
			o->outputs[o->n_outputs++] = optarg;
			break;
		case OPT_FLOWS: o->flows = true; break;
		case OPT_SENSOR: o->sensor = optarg; break;
		case 't': o->check_only = true; break;
		case 'q': o->quiet = true; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("applemon %s\n", APPLEMON_VERSION); exit(0);
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "applemon: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (o->read_file && o->n_ifaces) {
		fprintf(stderr, "applemon: give exactly one of -r FILE or -i IFACE (see --help)\n");
		return EXIT_USAGE;
	}
	return 0;
}

/* Without -r or -i: the interfaces of [capture] interface, split at
 * commas and blanks (the list lives in `buf`). */
static int choose_input(struct options *o, const struct config *cfg, char *buf, size_t size)
{
	if (!o->read_file && !o->n_ifaces) {
		snprintf(buf, size, "%s", cfg->interface);
		for (char *save = NULL, *tok = strtok_r(buf, ", \t", &save); tok;
		     tok = strtok_r(NULL, ", \t", &save)) {
			if (o->n_ifaces == CAPTURE_IFACES_MAX) {
				fprintf(stderr, "applemon: [capture] interface: at most %d\n",
					CAPTURE_IFACES_MAX);
				return EXIT_USAGE;
			}
			o->ifaces[o->n_ifaces++] = tok;
		}
	}
	if (!o->read_file && !o->n_ifaces) {
		fprintf(stderr, "applemon: give exactly one of -r FILE or -i IFACE (see --help)\n");
		return EXIT_USAGE;
	}
	if (!o->user && cfg->user[0])
		o->user = cfg->user;
	if (!o->chroot_dir && cfg->chroot_dir[0])
		o->chroot_dir = cfg->chroot_dir;
	if (o->chroot_dir && !o->user) {
		fprintf(stderr, "applemon: a chroot needs a user to become (-u or [capture] user)\n");
		return EXIT_USAGE;
	}
	if (!o->workers && cfg->workers)
		o->workers = cfg->workers;
	if (!o->workers) {
		o->workers = workers_default_count();
		/* Reading a file, worker 0 is also the thread that reads and
		 * shares out the packets, about a core's work by itself: one
		 * worker fewer than cores (docs/performance.md: on two cores one
		 * worker reads a file faster than two). */
		if (o->read_file && o->workers > 1)
			o->workers--;
	}
	/* Only for a regular file: the reader hands frames over a block at a
	 * time, and a pipe that goes quiet mid-block (tcpdump -w - | applemon
	 * -r -) would hold its last packets back until more came. */
	struct stat st;
	o->reader_thread = o->read_file && o->workers == 1 && cfg->reader_thread &&
			   cpu_allowed_count() >= 2 && strcmp(o->read_file, "-") != 0 &&
			   stat(o->read_file, &st) == 0 && S_ISREG(st.st_mode);
	return 0;
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *signature_dir(const struct options *o, const struct config *cfg)
{
	if (o->sig_dir)
		return o->sig_dir;
	if (cfg->sig_dir[0])
		return cfg->sig_dir;
	if (is_dir(SIGDIR_DEFAULT))
		return SIGDIR_DEFAULT;
	return "signatures";
}

static bool open_outputs(struct output *out, const struct options *o, const struct config *cfg)
{
	char err[512];
	for (size_t i = 0; i < o->n_outputs; i++) {
		if (!output_add(out, o->outputs[i], NULL, err, sizeof(err))) {
			fprintf(stderr, "applemon: -o %s: %s\n", o->outputs[i], err);
			return false;
		}
	}
	for (size_t i = 0; i < cfg->n_outputs; i++) {
		const struct output_spec *s = &cfg->outputs[i];
		if (!output_add(out, s->sink, s->format, err, sizeof(err))) {
			/* The spec is checked as the sink opens: say where it came from. */
			fprintf(stderr, "applemon: %s:%d: [output %s] sink: %s\n", o->config_file,
				s->line, s->name, err);
			return false;
		}
	}
	if (output_count(out) == 0 && !output_add(out, "-", NULL, err, sizeof(err))) {
		fprintf(stderr, "applemon: %s\n", err);
		return false;
	}
	return true;
}

/* SIGHUP, on the delivery thread: signatures and policy anew, or nothing. */
static bool on_reload(void *ctx, char *err, size_t errlen)
{
	const struct options *o = ctx;
	return ruleset_reload(o->config_file, o->sig_dir, err, errlen);
}

/* SIGTERM and SIGINT, as signal events of the delivery loop (on its
 * thread): the capture stops, then the main thread closes the output, which
 * delivers what waits up to [delivery] flush_timeout. */
static void on_stop(void *ctx)
{
	(void)ctx;
	atomic_store(&stop_requested, true);
	struct workers *w = active_workers;
	if (w)
		workers_stop(w);
}

/* For the status endpoint, on the delivery thread: a moment's reading of
 * counters the capture thread keeps writing. */
static void on_counters(void *ctx, struct output_counters *c)
{
	(void)ctx;
	struct workers *w = active_workers;
	if (w) {
		struct workers_stats ws;
		workers_get_stats(w, &ws);
		c->packets = ws.engine.packets;
		c->bytes = ws.engine.bytes;
		c->decode_errors = ws.engine.decode.errors;
		c->flows = ws.flows.created;
		c->kernel_drops = ws.capture.kernel_drops;
		c->iface_drops = ws.capture.iface_drops;
		c->flows_active = ws.flows.active;
		c->flows_evicted = ws.flows.ended[FLOW_END_EVICTED];
		c->fast_path_packets = ws.engine.fast_path_pkts;
		c->ip_fragments = ws.defrag.fragments;
		c->ip_reassembled = ws.defrag.reassembled;
		c->ip_reassembly_dropped = ws.defrag.timeouts + ws.defrag.evicted + ws.defrag.invalid;
	}
}

/* Delivery settings ([delivery], [status]) and its thread. The status
 * endpoint listens on loopback by default when capturing live. */
/* Which CPU each worker and the delivery thread get ([capture] cpu_affinity). */
static struct cpu_plan cpu_plan;

static bool start_outputs(struct output *out, const struct options *o, const struct config *cfg)
{
	struct output_settings set;
	output_settings_default(&set);
	set.queue = cfg->delivery_queue;
	set.memory = cfg->delivery_memory;
	snprintf(set.spool_dir, sizeof(set.spool_dir), "%s", cfg->spool_dir);
	set.spool_size = cfg->spool_size;
	set.flush_timeout = cfg->flush_timeout;
	set.reconnect_max = cfg->reconnect_max;
	if (cfg->status_listen[0] && strcmp(cfg->status_listen, "off") != 0)
		snprintf(set.status_listen, sizeof(set.status_listen), "%s", cfg->status_listen);
	else if (!cfg->status_listen[0] && !o->read_file) {
		snprintf(set.status_listen, sizeof(set.status_listen), "127.0.0.1:9478");
		set.status_optional = true;
	}
	set.lossless = o->read_file != NULL;
	/* The reading thread, when there is one, is the plan's worker 1. */
	cpu_plan_make(&cpu_plan, o->workers + (o->reader_thread ? 1 : 0), cfg->cpu_affinity);
	set.cpu = cpu_plan.pin ? cpu_plan.delivery : -1;
	output_configure(out, &set);
	struct output_hooks hooks = {
		.stop = on_stop, .reload = on_reload, .counters = on_counters, .ctx = (void *)o,
	};
	char err[1024];
	if (!output_start(out, &hooks, err, sizeof(err))) {
		fprintf(stderr, "applemon: %s\n", err);
		return false;
	}
	return true;
}

/* SIGUSR1: capture counters on stderr soon (workers_report is
 * async-signal-safe). SIGTERM, SIGINT and SIGHUP belong to the delivery
 * loop (on_stop, on_reload). */
static void on_usr1(int sig)
{
	(void)sig;
	struct workers *w = active_workers;
	if (w)
		workers_report(w);
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_summary(struct workers *w, struct output *out, double elapsed, bool opt_read_file)
{
	struct workers_stats ws;
	workers_get_stats(w, &ws);
	const struct engine_stats *s = &ws.engine;
	const struct flow_stats *fs = &ws.flows;
	const struct capture_stats cs = ws.capture;
	fprintf(stderr,
		"applemon: %llu packets, %llu bytes, %llu flows, %llu alerts, %llu decode errors, "
		"%.3f s (%llu repeat alerts suppressed)\n",
		(unsigned long long)s->packets, (unsigned long long)s->bytes,
		(unsigned long long)fs->created,
		(unsigned long long)(s->alerts - output_suppressed(out)),
		(unsigned long long)s->decode.errors, elapsed,
		(unsigned long long)output_suppressed(out));
	fprintf(stderr,
		"applemon: fast path %llu packets (%.1f%%), flows evicted %llu, peak %llu, "
		"not IP %llu, fragments %llu, tunnelled %llu, DNS messages %llu (%llu malformed), "
		"TLS ClientHellos %llu, QUIC ClientHellos %llu, HTTP requests %llu\n",
		(unsigned long long)s->fast_path_pkts,
		s->packets ? 100.0 * (double)s->fast_path_pkts / (double)s->packets : 0.0,
		(unsigned long long)fs->ended[FLOW_END_EVICTED], (unsigned long long)fs->peak_active,
		(unsigned long long)s->decode.not_ip, (unsigned long long)s->decode.fragments,
		(unsigned long long)s->decode.tunnelled, (unsigned long long)s->dns_messages,
		(unsigned long long)s->dns_malformed, (unsigned long long)s->tls_client_hellos,
		(unsigned long long)s->quic_client_hellos, (unsigned long long)s->http_requests);
	const struct defrag_stats *ds = &ws.defrag;
	if (ds->fragments)
		fprintf(stderr,
			"applemon: IP fragments %llu: %llu datagrams reassembled, %llu timed out, "
			"%llu evicted, %llu invalid, %llu overlapping fragments (%llu with different "
			"bytes)\n",
			(unsigned long long)ds->fragments, (unsigned long long)ds->reassembled,
			(unsigned long long)ds->timeouts, (unsigned long long)ds->evicted,
			(unsigned long long)ds->invalid, (unsigned long long)ds->overlaps,
			(unsigned long long)ds->conflicts);
	if (ws.n_workers > 1) {
		fprintf(stderr, "applemon: %u workers, packets each:", ws.n_workers);
		for (unsigned i = 0; i < ws.n_workers; i++)
			fprintf(stderr, " %llu", (unsigned long long)ws.worker_packets[i]);
		if (opt_read_file)
			fprintf(stderr,
				"; reader paused %llu times to end idle flows, waited %llu times "
				"for the workers; workers waited %llu times for capture order",
				(unsigned long long)ws.expiry_pauses,
				(unsigned long long)ws.reader_waits,
				(unsigned long long)ws.order_waits);
		fputc('\n', stderr);
	}
	if (cs.kernel_drops || cs.iface_drops)
		fprintf(stderr, "applemon: DROPPED %llu packets in the kernel, %llu at the interface\n",
			(unsigned long long)cs.kernel_drops, (unsigned long long)cs.iface_drops);
	output_report(out, stderr);
}

static void default_sensor_name(struct config *cfg)
{
	if (cfg->sensor_name[0])
		return;
	if (gethostname(cfg->sensor_name, sizeof(cfg->sensor_name) - 1) != 0)
		snprintf(cfg->sensor_name, sizeof(cfg->sensor_name), "applemon");
}

/* The DNS correlation cache at its bound: a flood of answers replaces
 * entries still inside their TTL instead of growing the table. */
static void print_dns_cache(struct dns_cache *dc)
{
	struct dns_cache_stats s;
	dns_cache_get_stats(dc, &s);
	fprintf(stderr,
		"applemon: DNS cache %u of %u addresses, %llu remembered, %llu replaced before "
		"their TTL ran out\n",
		(unsigned)s.entries, (unsigned)s.capacity, (unsigned long long)s.inserts,
		(unsigned long long)s.replaced_full);
}

/* Records that never reached a sink: dropped by a sink (write error, full
 * spool, failed datagram) or by the queue to delivery. The run's result is
 * incomplete, so the exit status says so (1) even when the capture was
 * read to its end. */
static void check_lost(const struct output *out, int *status)
{
	struct output_sink_stats st[16];
	size_t n = output_stats(out, st, sizeof(st) / sizeof(st[0]));
	uint64_t lost = output_queue_dropped(out);
	for (size_t i = 0; i < n; i++)
		lost += st[i].dropped;
	if (!lost)
		return;
	fprintf(stderr, "applemon: %llu records could not be delivered\n",
		(unsigned long long)lost);
	if (*status == 0)
		*status = EXIT_RUNTIME;
}

/* Loading libcrypto (openssl_lib.h), its initialisation and the algorithm
 * fetches for QUIC and the Community ID, on a thread of their own while the
 * main thread sets up outputs and opens the capture: in the packet worker
 * they were milliseconds of its time at its first QUIC packet and first
 * record, in the main thread milliseconds of every start. The result: true
 * when all went well. */
static void *prepare_crypto(void *arg)
{
	bool *ok = arg;
	*ok = quic_crypto_prepare() && community_id_prepare();
	return NULL;
}

int main(int argc, char **argv)
{
	/* What the packet path frees (reassembly buffers, per-flow names) is
	 * soon wanted again: keep it for reuse instead of handing it back to
	 * the kernel at each free and taking page faults to get it back (about
	 * 10 us each on a virtual machine; docs/performance.md). What is held
	 * stays bounded by the configured limits. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);

	struct options opt = { 0 };
	int rc = parse_options(argc, argv, &opt);
	if (rc)
		return rc;

	struct config cfg;
	config_init(&cfg);
	char err[1024];
	if (opt.config_file && !config_load(&cfg, opt.config_file, err, sizeof(err))) {
		fprintf(stderr, "applemon: %s\n", err);
		config_free(&cfg);
		return EXIT_USAGE;
	}
	char iface_list[sizeof(cfg.interface)];
	if (!opt.check_only && (rc = choose_input(&opt, &cfg, iface_list, sizeof(iface_list)))) {
		config_free(&cfg);
		return rc;
	}
	if (opt.sensor)
		snprintf(cfg.sensor_name, sizeof(cfg.sensor_name), "%s", opt.sensor);
	default_sensor_name(&cfg);

	struct sig_error serr = { 0 };
	const char *sdir = signature_dir(&opt, &cfg);
	struct sigset *sigs = sigset_load_dir(sdir, &serr);
	if (!sigs) {
		if (serr.line > 0)
			fprintf(stderr, "applemon: %s:%d: %s\n", serr.file, serr.line, serr.msg);
		else
			fprintf(stderr, "applemon: %s: %s\n", serr.file[0] ? serr.file : sdir, serr.msg);
		config_free(&cfg);
		return EXIT_USAGE;
	}
	/* Engines open the ASN database themselves; a bad one is a
	 * configuration error, so it is tried here first. */
	if (cfg.asn_db[0]) {
		struct asn_db *adb = asn_db_open(cfg.asn_db, err, sizeof(err));
		if (!adb) {
			fprintf(stderr, "applemon: [signatures] asn_database: %s\n", err);
			sigset_free(sigs);
			config_free(&cfg);
			return EXIT_USAGE;
		}
		asn_db_close(adb);
	}
	if (opt.check_only) {
		struct sigset_counts sc;
		sigset_get_counts(sigs, &sc);
		fprintf(stderr,
			"applemon: configuration OK; signatures from %s: %zu domains, %zu hosts, "
			"%zu prefixes, %zu ASNs, %zu port hints; %zu policy groups\n",
			sdir, sc.domains, sc.hosts, sc.prefixes, sc.asns, sc.ports,
			policy_group_count(cfg.policy));
		sigset_free(sigs);
		config_free(&cfg);
		return 0;
	}
	pthread_t crypto_thread;
	bool crypto_ok = false;
	bool crypto_started = pthread_create(&crypto_thread, NULL, prepare_crypto, &crypto_ok) == 0;
	ruleset_install(ruleset_wrap(sigs, cfg.policy));

	struct output *out = output_new(cfg.sensor_name, cfg.suppress_secs);
	struct dns_cache *dc = dns_cache_new(cfg.dns_cache_max, cfg.dns_min_ttl, cfg.dns_max_ttl);
	if (!out || !dc || !open_outputs(out, &opt, &cfg) || !start_outputs(out, &opt, &cfg)) {
		if (crypto_started)
			pthread_join(crypto_thread, NULL);
		output_free(out);
		dns_cache_free(dc);
		ruleset_shutdown();
		sigset_free(sigs);
		config_free(&cfg);
		return out && dc ? EXIT_USAGE : EXIT_RUNTIME;
	}

	struct workers_params wp = {
		.config = &cfg, .sigs = sigs, .policy = cfg.policy, .dns_cache = dc,
		.output = out, .flow_records = opt.flows, .n_workers = opt.workers,
		.stats_interval = cfg.stats_interval, .cpus = &cpu_plan,
		.reader_thread = opt.reader_thread,
		.capture = {
			.file = opt.read_file,
			.n_ifaces = opt.n_ifaces,
			.bpf = opt.bpf ? opt.bpf : (cfg.bpf[0] ? cfg.bpf : NULL),
			.snaplen = (int)cfg.snaplen,
			.promisc = cfg.promisc,
			.immediate = opt.immediate || cfg.immediate,
			.ring_mb = cfg.ring_size,
		},
	};
	memcpy(wp.capture.ifaces, opt.ifaces, sizeof(opt.ifaces));
	int status = 0;
	/* The capture handles are opened here, with whatever privileges we
	 * have; then they are given up, before the first packet. */
	struct workers *w = workers_open(&wp, err, sizeof(err));
	/* Before privileges go (a chroot would hide libcrypto's files). */
	if (crypto_started)
		pthread_join(crypto_thread, NULL);
	else
		prepare_crypto(&crypto_ok);
	if (w && !crypto_ok) {
		const char *why = "the algorithms QUIC and the Community ID need are missing";
		crypto_lib(&why);
		fprintf(stderr, "applemon: libcrypto: %s\n", why);
		status = EXIT_RUNTIME;
		goto done;
	}
	if (!w) {
		fprintf(stderr, "applemon: %s\n", err);
		status = strstr(err, "filter") ? EXIT_USAGE : EXIT_RUNTIME;
		goto done;
	}
	if (opt.user && !privdrop(opt.user, opt.chroot_dir, err, sizeof(err))) {
		fprintf(stderr, "applemon: %s\n", err);
		status = EXIT_RUNTIME;
		goto done;
	}
	active_workers = w;
	install_signals();
	if (atomic_load(&stop_requested))   /* a signal came while starting up */
		workers_stop(w);
	double t0 = now_seconds();
	bool clean = workers_run(w, err, sizeof(err));
	double elapsed = now_seconds() - t0;
	output_close(out);   /* deliver what waits, up to [delivery] flush_timeout */
	if (!opt.quiet)
		print_summary(w, out, elapsed, opt.read_file != NULL);
	active_workers = NULL;
	if (!clean) {
		fprintf(stderr, "applemon: %s: %s\n", opt.read_file ? opt.read_file : opt.ifaces[0],
			err);
		status = EXIT_RUNTIME;
	}
	if (!opt.quiet)
		print_dns_cache(dc);
	check_lost(out, &status);
done:
	active_workers = NULL;
	workers_free(w);
	output_free(out);
	dns_cache_free(dc);
	ruleset_shutdown();
	sigset_free(sigs);
	config_free(&cfg);
	return status;
}
