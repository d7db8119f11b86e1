/* classify.h - from what a flow showed to a verdict: which Apple service,
 * how sure, and the evidence.
 *
 * Names the host sent (SNI, QUIC SNI, HTTP Host, DNS query) decide with
 * confidence high. Without a matching name, an address that DNS recently
 * answered for an Apple name, or an Apple ASN, gives medium; an Apple
 * address prefix alone gives low. A port hint (push on 5223) only refines
 * the service of a flow already toward an Apple address. */
#ifndef APPLEMON_CLASSIFY_H
#define APPLEMON_CLASSIFY_H

#include <stdint.h>

#include "addr.h"
#include "record.h"
#include "signatures.h"

struct flow_facts {
	const char *sni;             /* NULL when absent */
	const char *quic_sni;
	const char *http_host;
	const char *dns_answer_name; /* name an earlier DNS answer gave for srv */
	enum service_id dns_answer_service;
	uint32_t asn;                /* 0 unknown */
	const char *asn_org;
	enum service_id asn_service; /* SVC_NONE if the ASN is not listed */
	const struct ip_addr *srv;
	uint16_t srv_port;
	uint8_t proto;
};

void classify_flow(const struct sigset *s, const struct flow_facts *f, struct verdict *v);
/* A DNS query name: SVC_NONE in v if not Apple. */
void classify_dns_query(const struct sigset *s, const char *qname, struct verdict *v);

#endif
