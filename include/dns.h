/* dns.h - DNS message parsing (RFC 1035) for queries and answers.
 *
 * Reads the header, the questions and the answer section of one DNS message
 * (UDP payload, or a TCP message without its 2-byte length prefix). Names
 * are decompressed with a hop limit and a strictly-backwards pointer rule,
 * so compression loops are refused. Names come out lowercased, without the
 * trailing dot, with bytes outside printable ASCII written as \DDD. The
 * parser keeps at most DNS_MAX_QUESTIONS and DNS_MAX_ANSWERS records; extra
 * records are counted, not stored. */
#ifndef APPLEMON_DNS_H
#define APPLEMON_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define DNS_NAME_MAX 256         /* presentation form incl. NUL (escapes may cut a name short) */
#define DNS_MAX_QUESTIONS 8
#define DNS_MAX_ANSWERS 48

enum { DNS_TYPE_A = 1, DNS_TYPE_CNAME = 5, DNS_TYPE_AAAA = 28 };

struct dns_answer {
	char name[DNS_NAME_MAX];     /* owner name */
	uint16_t type;               /* DNS_TYPE_* (others are kept too, without data) */
	uint32_t ttl;
	struct ip_addr addr;         /* for A and AAAA */
	char target[DNS_NAME_MAX];   /* for CNAME */
};

struct dns_message {
	uint16_t id;
	bool response;               /* QR bit */
	uint8_t opcode;
	uint8_t rcode;
	uint16_t qdcount, ancount;   /* as the header claims */
	uint8_t n_questions;         /* questions stored */
	char qname[DNS_MAX_QUESTIONS][DNS_NAME_MAX];
	uint16_t qtype[DNS_MAX_QUESTIONS];
	uint8_t n_answers;           /* answers stored (answer section only) */
	struct dns_answer answers[DNS_MAX_ANSWERS];
	bool answers_cut;            /* more answers than stored, or a bad one ended the section */
};

enum dns_result {
	DNS_OK = 0,                  /* header and all stored questions are valid */
	DNS_MALFORMED,               /* not a DNS message we can trust */
};

/* Parse one message. On DNS_OK the questions are complete; answers are
 * whatever could be read before the section ended or turned bad. */
enum dns_result dns_parse(const uint8_t *data, size_t len, struct dns_message *m);

/* Cheap check that a UDP payload on a non-DNS port is DNS-shaped. */
bool dns_plausible(const uint8_t *data, size_t len);

/* For each A/AAAA answer reachable from one of the questions through a chain
 * of CNAMEs (at most DNS_MAX_CHAIN links, loops cut), call fn with the
 * answer and the chain of names from the question name to the answer's
 * owner (chain[0] is the question name). */
#define DNS_MAX_CHAIN 16
typedef void (*dns_addr_fn)(void *ctx, const struct dns_answer *a,
			    const char *const *chain, size_t chain_len);
void dns_walk_addresses(const struct dns_message *m, dns_addr_fn fn, void *ctx);

#endif
