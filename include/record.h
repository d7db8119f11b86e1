/* record.h - one alert or flow record, self-contained.
 *
 * The engine fills a record from a flow and hands it to the outputs. A
 * record holds copies, not pointers into the flow, so it can outlive the
 * flow (and cross to the delivery thread). Formatters (JSON, ...) read only
 * this struct. */
#ifndef APPLEMON_RECORD_H
#define APPLEMON_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "asn.h"
#include "community_id.h"
#include "dns.h"
#include "policy.h"
#include "service.h"
#include "tls.h"

enum record_kind { RECORD_ALERT, RECORD_FLOW };

enum app_proto { APP_NONE = 0, APP_TLS, APP_QUIC, APP_HTTP, APP_DNS };

enum confidence { CONF_NONE = 0, CONF_LOW, CONF_MEDIUM, CONF_HIGH };

enum evidence_source {
	EV_SNI, EV_QUIC_SNI, EV_HTTP_HOST, EV_DNS_QUERY, EV_DNS_ANSWER, EV_ASN, EV_IP_PREFIX,
	EV_PORT,
};

#define EVIDENCE_MAX 6
#define RECORD_DNS_MAX 16
#define EVIDENCE_VALUE_MAX DNS_NAME_MAX

struct evidence {
	uint8_t source;              /* enum evidence_source */
	char value[EVIDENCE_VALUE_MAX];
};

struct verdict {
	enum service_id service;     /* SVC_NONE: not Apple */
	enum confidence confidence;
	char match[DNS_NAME_MAX];    /* the signature that decided (suffix, prefix, ...) */
	uint8_t n_evidence;
	struct evidence evidence[EVIDENCE_MAX];
};

struct record {
	enum record_kind kind;
	uint64_t ts_usec;            /* alert: packet that decided; flow: last packet */
	uint64_t flow_id;
	char community_id[COMMUNITY_ID_LEN];
	struct ip_addr src, dst;     /* src = the flow's client (the watched host) */
	uint16_t sport, dport;
	uint8_t proto;               /* 6 or 17 */
	uint8_t app_proto;           /* enum app_proto */
	uint8_t tunnel;              /* enum tunnel_kind of the innermost tunnel; 0 none */
	struct ip_addr outer_src, outer_dst;
	uint16_t vlan;               /* outermost VLAN id, 0 none */
	struct verdict verdict;
	char policy[POLICY_NAME_MAX];   /* group that watches src ("" for flow records of unwatched hosts) */
	uint32_t suppressed;         /* repeats suppressed since the last alert for (host, service) */
	uint32_t asn;                /* AS of dst from [signatures] asn_database; 0 unknown */
	char as_org[ASN_ORG_MAX];    /* its organisation, "" unknown */

	/* flow records */
	uint64_t start_usec, end_usec;
	uint64_t pkts[2], bytes[2];  /* [0] to server, [1] to client */
	char sni[TLS_SNI_MAX];
	char quic_sni[TLS_SNI_MAX];
	char http_host[DNS_NAME_MAX];
	char alpn[TLS_ALPN_MAX];
	bool ech;
	uint8_t n_dns;
	uint16_t dns_more;           /* queries seen but not stored */
	char dns_queries[RECORD_DNS_MAX][DNS_NAME_MAX];
	uint8_t end_reason;          /* enum flow_end_reason */
};

const char *app_proto_name(enum app_proto p);     /* NULL for APP_NONE */
const char *confidence_name(enum confidence c);
const char *evidence_source_name(enum evidence_source s);
const char *end_reason_name(int reason);
/* SIEM severity 0-10 (CEF, LEEF): from the alert's confidence; 1 for flows. */
int record_severity(const struct record *r);

#endif
