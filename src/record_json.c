/* record_json.c - the JSON form of alert and flow records.
 *
 * Field names follow Suricata's EVE where one exists (timestamp, flow_id,
 * event_type, src_ip, dest_ip, proto, app_proto, community_id), so existing
 * SIEM parsers pick them up. Field order is fixed, which keeps output
 * diffable between runs. */
#include "record_json.h"

#include "decode.h"

static void write_addr(struct json_writer *w, const char *key, const struct ip_addr *a)
{
	char buf[ADDR_STRLEN];
	format_addr(a, buf);
	jw_kv_string(w, key, buf);
}

static void write_ts(struct json_writer *w, const char *key, uint64_t usec)
{
	char buf[32];
	format_timestamp(usec, buf);
	jw_kv_string(w, key, buf);
}

static const char *tunnel_name(uint8_t t)
{
	switch (t) {
	case TUNNEL_GRE: return "gre";
	case TUNNEL_ERSPAN: return "erspan";
	case TUNNEL_VXLAN: return "vxlan";
	case TUNNEL_GENEVE: return "geneve";
	case TUNNEL_GTPU: return "gtpu";
	case TUNNEL_TEREDO: return "teredo";
	case TUNNEL_IPIP: return "ipip";
	case TUNNEL_ARUBA: return "aruba";
	case TUNNEL_AYIYA: return "ayiya";
	default: return "none";
	}
}

static void write_tuple(struct json_writer *w, const struct record *r)
{
	write_addr(w, "src_ip", &r->src);
	jw_kv_uint(w, "src_port", r->sport);
	write_addr(w, "dest_ip", &r->dst);
	jw_kv_uint(w, "dest_port", r->dport);
	jw_kv_string(w, "proto", r->proto == 6 ? "TCP" : r->proto == 17 ? "UDP" : "OTHER");
	jw_kv_string(w, "app_proto", app_proto_name((enum app_proto)r->app_proto));
	if (r->vlan)
		jw_kv_uint(w, "vlan", r->vlan);
	if (r->tunnel) {
		jw_key(w, "tunnel");
		jw_object_begin(w);
		jw_kv_string(w, "type", tunnel_name(r->tunnel));
		write_addr(w, "src_ip", &r->outer_src);
		write_addr(w, "dest_ip", &r->outer_dst);
		jw_object_end(w);
	}
}

static void write_evidence(struct json_writer *w, const struct verdict *v)
{
	jw_key(w, "evidence");
	jw_array_begin(w);
	for (unsigned i = 0; i < v->n_evidence; i++) {
		jw_object_begin(w);
		jw_kv_string(w, "source", evidence_source_name((enum evidence_source)v->evidence[i].source));
		jw_kv_string(w, "value", v->evidence[i].value);
		jw_object_end(w);
	}
	jw_array_end(w);
}

/* The server's AS, when an ASN database knows it. */
static void write_asn(struct json_writer *w, const struct record *r)
{
	if (!r->asn)
		return;
	jw_kv_uint(w, "asn", r->asn);
	if (r->as_org[0])
		jw_kv_string(w, "as_org", r->as_org);
}

static void write_alert(struct json_writer *w, const struct record *r, const char *sensor)
{
	write_ts(w, "timestamp", r->ts_usec);
	jw_kv_string(w, "event_type", "alert");
	jw_kv_uint(w, "flow_id", r->flow_id);
	jw_kv_string(w, "community_id", r->community_id);
	write_tuple(w, r);
	jw_kv_string(w, "service", service_name(r->verdict.service));
	jw_kv_string(w, "policy", r->policy);
	jw_kv_string(w, "confidence", confidence_name(r->verdict.confidence));
	jw_kv_string(w, "signature", r->verdict.match);
	write_evidence(w, &r->verdict);
	write_asn(w, r);
	if (r->suppressed)
		jw_kv_uint(w, "suppressed", r->suppressed);
	jw_kv_string(w, "sensor", sensor);
}

static void write_optional_string(struct json_writer *w, const char *key, const char *s)
{
	jw_kv_string(w, key, s[0] ? s : NULL);
}

static void write_flow(struct json_writer *w, const struct record *r, const char *sensor)
{
	write_ts(w, "timestamp", r->ts_usec);
	jw_kv_string(w, "event_type", "flow");
	jw_kv_uint(w, "flow_id", r->flow_id);
	jw_kv_string(w, "community_id", r->community_id);
	write_tuple(w, r);
	write_ts(w, "start", r->start_usec);
	write_ts(w, "end", r->end_usec);
	jw_kv_uint(w, "pkts_toserver", r->pkts[0]);
	jw_kv_uint(w, "pkts_toclient", r->pkts[1]);
	jw_kv_uint(w, "bytes_toserver", r->bytes[0]);
	jw_kv_uint(w, "bytes_toclient", r->bytes[1]);
	write_optional_string(w, "sni", r->sni);
	write_optional_string(w, "quic_sni", r->quic_sni);
	write_optional_string(w, "http_host", r->http_host);
	if (r->alpn[0])
		jw_kv_string(w, "alpn", r->alpn);
	if (r->ech)
		jw_kv_bool(w, "ech", true);
	jw_key(w, "dns_queries");
	jw_array_begin(w);
	for (unsigned i = 0; i < r->n_dns; i++)
		jw_string(w, r->dns_queries[i]);
	jw_array_end(w);
	if (r->dns_more)
		jw_kv_uint(w, "dns_queries_more", r->dns_more);
	if (r->verdict.service != SVC_NONE) {
		jw_kv_string(w, "service", service_name(r->verdict.service));
		jw_kv_string(w, "confidence", confidence_name(r->verdict.confidence));
	} else {
		jw_key(w, "service");
		jw_null(w);
	}
	write_evidence(w, &r->verdict);
	write_asn(w, r);
	write_optional_string(w, "policy", r->policy);
	jw_kv_string(w, "end_reason", end_reason_name(r->end_reason));
	jw_kv_string(w, "sensor", sensor);
}

void record_to_json(const struct record *r, const char *sensor, struct json_writer *w)
{
	jw_reset(w);
	jw_object_begin(w);
	if (r->kind == RECORD_ALERT)
		write_alert(w, r, sensor);
	else
		write_flow(w, r, sensor);
	jw_object_end(w);
}
