/* format_ecs.c - records as JSON with Elastic Common Schema field names.
 *
 * ECS objects are nested ({"source":{"ip":...}}), as Elasticsearch stores
 * them. What ECS has no field for (service, policy, confidence, evidence,
 * the suppressed count) goes under "applemon". Strings are escaped by the
 * JSON writer (RFC 8259, invalid UTF-8 as U+FFFD). */
#include "format.h"

#include <stdio.h>

static void kv_addr(struct json_writer *w, const char *key, const struct ip_addr *a)
{
	char buf[ADDR_STRLEN];
	format_addr(a, buf);
	jw_kv_string(w, key, buf);
}

static void kv_ts(struct json_writer *w, const char *key, uint64_t usec)
{
	char buf[32];
	format_timestamp(usec, buf);
	jw_kv_string(w, key, buf);
}

static void endpoint(struct json_writer *w, const char *key, const struct ip_addr *a, uint16_t port,
		     const char *domain, const struct record *r, int dir)
{
	jw_key(w, key);
	jw_object_begin(w);
	kv_addr(w, "ip", a);
	jw_kv_uint(w, "port", port);
	if (domain)
		jw_kv_string(w, "domain", domain);
	if (r->kind == RECORD_FLOW) {
		jw_kv_uint(w, "packets", r->pkts[dir]);
		jw_kv_uint(w, "bytes", r->bytes[dir]);
	}
	jw_object_end(w);
}

static void evidence(struct json_writer *w, const struct verdict *v)
{
	jw_key(w, "evidence");
	jw_array_begin(w);
	for (unsigned i = 0; i < v->n_evidence && i < EVIDENCE_MAX; i++) {
		jw_object_begin(w);
		jw_kv_string(w, "source",
			     evidence_source_name((enum evidence_source)v->evidence[i].source));
		jw_kv_string(w, "value", v->evidence[i].value);
		jw_object_end(w);
	}
	jw_array_end(w);
}

void format_ecs(const struct record *r, const char *sensor, struct json_writer *w)
{
	bool alert = r->kind == RECORD_ALERT;
	const char *domain = record_domain(r);
	const char *sni = record_server_name(r);
	const char *app = app_proto_name((enum app_proto)r->app_proto);
	jw_reset(w);
	jw_object_begin(w);
	kv_ts(w, "@timestamp", r->ts_usec);
	jw_key(w, "ecs");
	jw_object_begin(w);
	jw_kv_string(w, "version", "8.11.0");
	jw_object_end(w);

	jw_key(w, "event");
	jw_object_begin(w);
	jw_kv_string(w, "kind", alert ? "alert" : "event");
	jw_key(w, "category");
	jw_array_begin(w);
	jw_string(w, "network");
	jw_array_end(w);
	jw_key(w, "type");
	jw_array_begin(w);
	jw_string(w, "connection");
	if (!alert)
		jw_string(w, "end");
	jw_array_end(w);
	jw_kv_string(w, "module", "applemon");
	jw_kv_string(w, "dataset", alert ? "applemon.alert" : "applemon.flow");
	if (!alert) {
		kv_ts(w, "start", r->start_usec);
		kv_ts(w, "end", r->end_usec);
		jw_kv_string(w, "reason", end_reason_name(r->end_reason));
	}
	if (r->suppressed)
		jw_kv_uint(w, "count", (uint64_t)r->suppressed + 1);
	jw_object_end(w);

	if (alert || r->verdict.service != SVC_NONE) {
		jw_key(w, "rule");
		jw_object_begin(w);
		jw_kv_string(w, "name", r->verdict.match);
		jw_kv_string(w, "category", service_name(r->verdict.service));
		jw_kv_string(w, "ruleset", "applemon");
		jw_object_end(w);
	}

	endpoint(w, "source", &r->src, r->sport, NULL, r, 0);
	endpoint(w, "destination", &r->dst, r->dport, domain, r, 1);

	jw_key(w, "network");
	jw_object_begin(w);
	jw_kv_string(w, "transport", r->proto == 6 ? "tcp" : r->proto == 17 ? "udp" : "other");
	jw_kv_uint(w, "iana_number", r->proto);
	if (app)
		jw_kv_string(w, "protocol", app);
	jw_kv_string(w, "community_id", r->community_id);
	if (r->vlan) {
		jw_key(w, "vlan");
		jw_object_begin(w);
		char id[8];
		snprintf(id, sizeof(id), "%u", (unsigned)r->vlan);
		jw_kv_string(w, "id", id);
		jw_object_end(w);
	}
	jw_object_end(w);

	if (sni) {
		jw_key(w, "tls");
		jw_object_begin(w);
		jw_key(w, "client");
		jw_object_begin(w);
		jw_kv_string(w, "server_name", sni);
		jw_object_end(w);
		jw_object_end(w);
	}
	if (r->kind == RECORD_FLOW && r->http_host[0]) {
		jw_key(w, "url");
		jw_object_begin(w);
		jw_kv_string(w, "domain", r->http_host);
		jw_object_end(w);
	}

	jw_key(w, "observer");
	jw_object_begin(w);
	jw_kv_string(w, "name", sensor);
	jw_kv_string(w, "hostname", sensor);
	jw_kv_string(w, "type", "sensor");
	jw_kv_string(w, "vendor", "applemon");
	jw_kv_string(w, "product", "applemon");
	jw_kv_string(w, "version", APPLEMON_PRODUCT_VERSION);
	jw_object_end(w);

	jw_key(w, "applemon");
	jw_object_begin(w);
	jw_kv_uint(w, "flow_id", r->flow_id);
	if (r->verdict.service != SVC_NONE) {
		jw_kv_string(w, "service", service_name(r->verdict.service));
		jw_kv_string(w, "confidence", confidence_name(r->verdict.confidence));
	}
	if (r->policy[0])
		jw_kv_string(w, "policy", r->policy);
	evidence(w, &r->verdict);
	if (r->suppressed)
		jw_kv_uint(w, "suppressed", r->suppressed);
	if (r->kind == RECORD_FLOW && r->n_dns) {
		jw_key(w, "dns_queries");
		jw_array_begin(w);
		for (unsigned i = 0; i < r->n_dns && i < RECORD_DNS_MAX; i++)
			jw_string(w, r->dns_queries[i]);
		jw_array_end(w);
	}
	jw_object_end(w);
	jw_object_end(w);
}
