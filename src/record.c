/* record.c - the names the output formats use for record fields. These
 * strings are part of the output contract; never rename one. */
#include "record.h"

#include "flow.h"

const char *app_proto_name(enum app_proto p)
{
	switch (p) {
	case APP_TLS: return "tls";
	case APP_QUIC: return "quic";
	case APP_HTTP: return "http";
	case APP_DNS: return "dns";
	default: return NULL;
	}
}

const char *confidence_name(enum confidence c)
{
	switch (c) {
	case CONF_HIGH: return "high";
	case CONF_MEDIUM: return "medium";
	case CONF_LOW: return "low";
	default: return "none";
	}
}

const char *evidence_source_name(enum evidence_source s)
{
	static const char *const names[] = {
		[EV_SNI] = "sni", [EV_QUIC_SNI] = "quic_sni", [EV_HTTP_HOST] = "http_host",
		[EV_DNS_QUERY] = "dns_query", [EV_DNS_ANSWER] = "dns_answer", [EV_ASN] = "asn",
		[EV_IP_PREFIX] = "ip_prefix", [EV_PORT] = "port",
	};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

const char *end_reason_name(int reason)
{
	switch (reason) {
	case FLOW_END_FIN: return "fin";
	case FLOW_END_RST: return "rst";
	case FLOW_END_TIMEOUT: return "timeout";
	case FLOW_END_EVICTED: return "evicted";
	case FLOW_END_SHUTDOWN: return "shutdown";
	default: return "none";
	}
}

/* One severity scale for every SIEM format (CEF and LEEF both use 0-10):
 * an alert's confidence sets it; flow records are informational. */
int record_severity(const struct record *r)
{
	if (r->kind != RECORD_ALERT)
		return 1;
	switch (r->verdict.confidence) {
	case CONF_HIGH: return 7;
	case CONF_MEDIUM: return 5;
	case CONF_LOW: return 3;
	default: return 1;
	}
}
