/* signatures.h - the signature set: domain suffixes, address prefixes, ASNs
 * and port hints, each mapped to an Apple service.
 *
 * Signatures are plain text files (see signatures/README or the README's
 * Signatures section), one directive per line:
 *
 *     domain  push.apple.com      push        # the name and every name under it
 *     host    captive.apple.com   captive-portal  # exactly this name
 *     prefix  17.0.0.0/8          apple
 *     asn     714                 apple
 *     port    tcp/5223            push        # hint toward Apple addresses only
 *
 * Domain matching is case-insensitive and at label boundaries; the longest
 * matching suffix wins, so push.apple.com beats apple.com. Prefix matching
 * is longest-prefix. A file with a mistake is rejected with its name and
 * line; nothing of a set that failed to load is used. */
#ifndef APPLEMON_SIGNATURES_H
#define APPLEMON_SIGNATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "service.h"

struct sigset;

struct sig_error {
	char file[512];
	int line;                    /* 0 when the error is not about one line */
	char msg[256];
};

struct domain_match {
	enum service_id service;
	const char *pattern;         /* the signature's suffix, owned by the set */
};

struct addr_match {
	enum service_id service;
	struct ip_prefix prefix;     /* the prefix that matched */
};

struct sigset *sigset_new(void);
void sigset_free(struct sigset *s);

/* Load every *.sig file of a folder, in name order. NULL on error (err set). */
struct sigset *sigset_load_dir(const char *dir, struct sig_error *err);
/* Add the directives in one file / one string (file names the errors). */
bool sigset_load_file(struct sigset *s, const char *path, struct sig_error *err);
bool sigset_load_string(struct sigset *s, const char *text, size_t len, const char *file,
			struct sig_error *err);

/* Name lookup: the name may have any case and a trailing dot. */
bool sigset_match_domain(const struct sigset *s, const char *name, struct domain_match *m);
bool sigset_match_addr(const struct sigset *s, const struct ip_addr *a, struct addr_match *m);
/* Service hinted by a port (proto is IPPROTO_TCP/UDP); SVC_NONE if none. */
enum service_id sigset_match_port(const struct sigset *s, uint8_t proto, uint16_t port);
/* Service of an ASN; SVC_NONE if the ASN is not listed. */
enum service_id sigset_match_asn(const struct sigset *s, uint32_t asn);

struct sigset_counts {
	size_t domains, hosts, prefixes, asns, ports;
};
void sigset_get_counts(const struct sigset *s, struct sigset_counts *c);

#endif
