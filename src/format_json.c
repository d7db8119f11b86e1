/* format_json.c - format selection and the shared helpers of the formatters. */
#include "format.h"

#include <string.h>

#include "record_json.h"

static const char *const names[FORMAT_COUNT] = { "json", "ecs", "cef", "leef" };

bool format_parse(const char *name, enum msg_format *out)
{
	for (int i = 0; i < FORMAT_COUNT; i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum msg_format)i;
			return true;
		}
	}
	return false;
}

const char *format_name(enum msg_format f)
{
	return f < FORMAT_COUNT ? names[f] : "?";
}

static void copy_json(struct json_writer *w, struct strbuf *out)
{
	sb_reset(out);
	if (w->oom)
		out->oom = true;
	else
		sb_put(out, w->buf, w->len);
}

void format_record(enum msg_format f, const struct record *r, const char *sensor,
		   struct strbuf *out)
{
	struct json_writer w;
	switch (f) {
	case FORMAT_JSON:
	case FORMAT_ECS:
		jw_init(&w);
		if (f == FORMAT_JSON)
			record_to_json(r, sensor, &w);
		else
			format_ecs(r, sensor, &w);
		copy_json(&w, out);
		jw_free(&w);
		return;
	case FORMAT_CEF:
		format_cef(r, sensor, out);
		return;
	case FORMAT_LEEF:
	case FORMAT_COUNT:
		format_leef(r, sensor, out);
		return;
	}
}

const char *record_domain(const struct record *r)
{
	static const uint8_t order[] = { EV_SNI, EV_QUIC_SNI, EV_HTTP_HOST, EV_DNS_QUERY,
					 EV_DNS_ANSWER };
	for (size_t k = 0; k < sizeof(order); k++)
		for (unsigned i = 0; i < r->verdict.n_evidence && i < EVIDENCE_MAX; i++)
			if (r->verdict.evidence[i].source == order[k] &&
			    r->verdict.evidence[i].value[0])
				return r->verdict.evidence[i].value;
	if (r->sni[0])
		return r->sni;
	if (r->quic_sni[0])
		return r->quic_sni;
	if (r->http_host[0])
		return r->http_host;
	return NULL;
}

const char *record_server_name(const struct record *r)
{
	if (r->sni[0])
		return r->sni;
	if (r->quic_sni[0])
		return r->quic_sni;
	for (unsigned i = 0; i < r->verdict.n_evidence && i < EVIDENCE_MAX; i++)
		if ((r->verdict.evidence[i].source == EV_SNI ||
		     r->verdict.evidence[i].source == EV_QUIC_SNI) && r->verdict.evidence[i].value[0])
			return r->verdict.evidence[i].value;
	return NULL;
}
