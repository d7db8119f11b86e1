/* record_json.c - the JSON form of alert and flow records.
 *
 * Field names follow Suricata's EVE where one exists (timestamp, flow_id,
 * event_type, src_ip, dest_ip, proto, app_proto, community_id), so existing
 * SIEM parsers pick them up. Field order is fixed, which keeps output
 * diffable between runs. */
#include "record_json.h"

#include "decode.h"

/* The helpers with a key take it quoted (JW_QUOTED). */
static void write_addr(struct json_writer *w, const char *qkey, size_t qlen, const struct ip_addr *a)
{
	char buf[ADDR_STRLEN];
	format_addr(a, buf);
	jw_key_quoted(w, qkey, qlen);
	jw_string_plain(w, buf);
}

static void write_ts(struct json_writer *w, const char *qkey, size_t qlen, uint64_t usec)
{
	char buf[32];
	format_timestamp(usec, buf);
	jw_key_quoted(w, qkey, qlen);
	jw_string_plain(w, buf);
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
	write_addr(w, JW_QUOTED("src_ip"), &r->src);
	JW_KV_UINT(w, "src_port", r->sport);
	write_addr(w, JW_QUOTED("dest_ip"), &r->dst);
	JW_KV_UINT(w, "dest_port", r->dport);
	JW_KV_PLAIN(w, "proto", r->proto == 6 ? "TCP" : r->proto == 17 ? "UDP" : "OTHER");
	JW_KV_PLAIN(w, "app_proto", app_proto_name((enum app_proto)r->app_proto));
	if (r->vlan)
		JW_KV_UINT(w, "vlan", r->vlan);
	if (r->tunnel) {
		JW_KEY(w, "tunnel");
		jw_object_begin(w);
		JW_KV_PLAIN(w, "type", tunnel_name(r->tunnel));
		write_addr(w, JW_QUOTED("src_ip"), &r->outer_src);
		write_addr(w, JW_QUOTED("dest_ip"), &r->outer_dst);
		jw_object_end(w);
	}
}

static void write_evidence(struct json_writer *w, const struct verdict *v)
{
	JW_KEY(w, "evidence");
	jw_array_begin(w);
	for (unsigned i = 0; i < v->n_evidence; i++) {
		jw_object_begin(w);
		JW_KV_PLAIN(w, "source", evidence_source_name((enum evidence_source)v->evidence[i].source));
		JW_KV_STRING(w, "value", v->evidence[i].value);
		jw_object_end(w);
	}
	jw_array_end(w);
}

/* The server's AS, when an ASN database knows it. */
static void write_asn(struct json_writer *w, const struct record *r)
{
	if (!r->asn)
		return;
	JW_KV_UINT(w, "asn", r->asn);
	if (r->as_org[0])
		JW_KV_STRING(w, "as_org", r->as_org);
}

static void write_alert(struct json_writer *w, const struct record *r, const char *sensor)
{
	write_ts(w, JW_QUOTED("timestamp"), r->ts_usec);
	JW_KV_PLAIN(w, "event_type", "alert");
	JW_KV_UINT(w, "flow_id", r->flow_id);
	JW_KV_PLAIN(w, "community_id", r->community_id);
	write_tuple(w, r);
	JW_KV_PLAIN(w, "service", service_name(r->verdict.service));
	JW_KV_STRING(w, "policy", r->policy);
	JW_KV_PLAIN(w, "confidence", confidence_name(r->verdict.confidence));
	JW_KV_STRING(w, "signature", r->verdict.match);
	write_evidence(w, &r->verdict);
	write_asn(w, r);
	if (r->suppressed)
		JW_KV_UINT(w, "suppressed", r->suppressed);
	JW_KV_STRING(w, "sensor", sensor);
}

static void write_optional_string(struct json_writer *w, const char *qkey, size_t qlen,
				  const char *s)
{
	jw_key_quoted(w, qkey, qlen);
	jw_string(w, s[0] ? s : NULL);
}

static void write_flow(struct json_writer *w, const struct record *r, const char *sensor)
{
	write_ts(w, JW_QUOTED("timestamp"), r->ts_usec);
	JW_KV_PLAIN(w, "event_type", "flow");
	JW_KV_UINT(w, "flow_id", r->flow_id);
	JW_KV_PLAIN(w, "community_id", r->community_id);
	write_tuple(w, r);
	write_ts(w, JW_QUOTED("start"), r->start_usec);
	write_ts(w, JW_QUOTED("end"), r->end_usec);
	JW_KV_UINT(w, "pkts_toserver", r->pkts[0]);
	JW_KV_UINT(w, "pkts_toclient", r->pkts[1]);
	JW_KV_UINT(w, "bytes_toserver", r->bytes[0]);
	JW_KV_UINT(w, "bytes_toclient", r->bytes[1]);
	write_optional_string(w, JW_QUOTED("sni"), r->sni);
	write_optional_string(w, JW_QUOTED("quic_sni"), r->quic_sni);
	write_optional_string(w, JW_QUOTED("http_host"), r->http_host);
	if (r->alpn[0])
		JW_KV_STRING(w, "alpn", r->alpn);
	if (r->ech)
		JW_KV_BOOL(w, "ech", true);
	JW_KEY(w, "dns_queries");
	jw_array_begin(w);
	for (unsigned i = 0; i < r->n_dns; i++)
		jw_string(w, r->dns_queries[i]);
	jw_array_end(w);
	if (r->dns_more)
		JW_KV_UINT(w, "dns_queries_more", r->dns_more);
	if (r->verdict.service != SVC_NONE) {
		JW_KV_PLAIN(w, "service", service_name(r->verdict.service));
		JW_KV_PLAIN(w, "confidence", confidence_name(r->verdict.confidence));
	} else {
		JW_KEY(w, "service");
		jw_null(w);
	}
	write_evidence(w, &r->verdict);
	write_asn(w, r);
	write_optional_string(w, JW_QUOTED("policy"), r->policy);
	JW_KV_PLAIN(w, "end_reason", end_reason_name(r->end_reason));
	JW_KV_STRING(w, "sensor", sensor);
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
