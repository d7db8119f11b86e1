/* config.h - the configuration file (INI, read with libinih) and its defaults.
 *
 * Every key is documented in README.md ("Configuration") and in
 * applemon.conf.sample. Unknown sections and keys, numbers that are not
 * plain decimals within the key's range, empty values (except where
 * noted) and a second [output NAME] of the same name are errors, reported
 * as FILE:LINE: message. Comments are lines starting with `#` or `;`, or
 * ` #` / ` ;` after a value. A line holds at most 197 characters (libinih's
 * line buffer); an indented line continues the previous key's value,
 * which for `hosts` and `exempt` adds to the list. */
#ifndef APPLEMON_CONFIG_H
#define APPLEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define CONFIG_MAX_OUTPUTS 16
#define CONFIG_PATH_MAX 512

struct output_spec {
	char name[64];               /* the [output NAME], or "cli" for -o */
	char sink[CONFIG_PATH_MAX];  /* e.g. json:/var/log/applemon.json */
	char format[16];             /* json (default), ecs, cef, leef */
	int line;                    /* line of its `sink` key, for errors found when it opens */
};

struct config {
	char sensor_name[128];       /* [sensor] name; "" = the host name (filled in by main) */
	char sig_dir[CONFIG_PATH_MAX];   /* [signatures] dir; "" = built-in default search */
	char asn_db[CONFIG_PATH_MAX];    /* [signatures] asn_database; "" = none */
	struct policy *policy;       /* [policy NAME] groups; owned */
	uint32_t suppress_secs;      /* [alerts] suppress; default 300 */
	struct output_spec outputs[CONFIG_MAX_OUTPUTS];
	size_t n_outputs;
	uint32_t flows_max;          /* [flows] max; default 262144 */
	uint32_t timeout_tcp;        /* [flows] tcp_timeout, established idle; default 3600 s */
	uint32_t timeout_tcp_closed; /* [flows] tcp_closed_timeout, after FIN/RST; default 10 s */
	uint32_t timeout_udp;        /* [flows] udp_timeout; default 120 s */
	uint32_t timeout_other;      /* [flows] other_timeout; default 60 s */
	uint32_t inspect_packets;    /* [flows] inspect_packets: payload packets looked at before giving up; default 16 */
	uint32_t dns_min_ttl;        /* [dns] min_ttl; default 60 s */
	uint32_t dns_max_ttl;        /* [dns] max_ttl; default 86400 s */
	uint32_t dns_cache_max;      /* [dns] cache_max entries; default 65536 */
	uint32_t defrag_max;         /* [defrag] max_datagrams in reassembly at once; default 1024 */
	uint32_t defrag_timeout;     /* [defrag] timeout: seconds for a datagram's fragments; default 30 */
	char interface[128];         /* [capture] interface(s) for live capture, comma or space separated; "" = none (-i) */
	uint32_t snaplen;            /* [capture] snaplen bytes kept per packet; default 65535 */
	bool promisc;                /* [capture] promisc: promiscuous mode; default true */
	char bpf[1024];              /* [capture] bpf filter expression; "" = none (may be empty) */
	uint32_t workers;            /* [capture] workers: packet threads; 0 (default) = one per core */
	uint32_t ring_size;          /* [capture] ring_size: MiB of kernel ring per interface and worker; 64 */
	bool immediate;              /* [capture] immediate: hand over every packet at once; false */
	bool reader_thread;          /* [capture] reader_thread: one worker on a file reads in a thread of its own; true */
	bool cpu_affinity;           /* [capture] cpu_affinity: a CPU each for workers and delivery when there are enough; true */
	char user[64];               /* [capture] user to become once the capture is open; "" = stay */
	char chroot_dir[CONFIG_PATH_MAX];  /* [capture] chroot: folder to confine to with user; "" = none */
	uint32_t stats_interval;     /* [capture] stats_interval: seconds between live drop reports; 60 (0 off) */
	uint32_t delivery_queue;     /* [delivery] queue: records between capture and delivery; 4096 */
	uint32_t delivery_memory;    /* [delivery] memory: bytes per sink waiting in memory; 0: 4 MiB with a spool, else 64 MiB */
	char spool_dir[CONFIG_PATH_MAX];  /* [delivery] spool_dir; "" = no spool */
	uint32_t spool_size;         /* [delivery] spool_size: bytes per sink on disk; 1 GiB */
	uint32_t flush_timeout;      /* [delivery] flush_timeout: seconds at the end; 10 */
	uint32_t reconnect_max;      /* [delivery] reconnect_max: longest backoff, seconds; 30 */
	char status_listen[128];     /* [status] listen: ADDRESS:PORT or "off"; "" = the default */
};

void config_init(struct config *c);      /* defaults, no policy groups */
void config_free(struct config *c);
/* Read a file on top of the current values. false with "FILE:LINE: msg"
 * (or "FILE: cannot open: reason") in err; after a failure the values read
 * before the mistake are kept, so the caller should give up on c. */
bool config_load(struct config *c, const char *path, char *err, size_t errlen);
/* The same from a string (tests, fuzzing); `name` stands for the file name. */
bool config_load_string(struct config *c, const char *text, const char *name, char *err,
			size_t errlen);

#endif
