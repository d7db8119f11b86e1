/* classify.c - the verdict rules (see classify.h). Pure functions of the
 * facts and the signature set: no state, so the same facts always give the
 * same verdict, in any worker and at any time of the flow. */
#include "classify.h"

#include <stdio.h>
#include <string.h>

/* A verdict of nothing. Only the header is set: the match string and the
 * evidence slots are read up to their terminator and count, and clearing
 * the whole 1.8 KB verdict for every flow decided cost more than the rules. */
static void verdict_clear(struct verdict *v)
{
	v->service = SVC_NONE;
	v->confidence = CONF_NONE;
	v->match[0] = '\0';
	v->n_evidence = 0;
}

static void add_evidence(struct verdict *v, enum evidence_source src, const char *value)
{
	if (v->n_evidence >= EVIDENCE_MAX)
		return;
	struct evidence *e = &v->evidence[v->n_evidence++];
	e->source = (uint8_t)src;
	snprintf(e->value, sizeof(e->value), "%s", value);
}

static void set_match(struct verdict *v, const char *match)
{
	snprintf(v->match, sizeof(v->match), "%s", match);
}

/* Try one name the host sent; the first name that matches decides. */
static void try_name(const struct sigset *s, struct verdict *v, const char *name,
		     enum evidence_source src)
{
	struct domain_match m;
	if (!name || !name[0] || !sigset_match_domain(s, name, &m))
		return;
	add_evidence(v, src, name);
	if (v->confidence < CONF_HIGH) {
		v->service = m.service;
		v->confidence = CONF_HIGH;
		set_match(v, m.pattern);
	}
}

void classify_flow(const struct sigset *s, const struct flow_facts *f, struct verdict *v)
{
	verdict_clear(v);
	try_name(s, v, f->sni, EV_SNI);
	try_name(s, v, f->quic_sni, EV_QUIC_SNI);
	try_name(s, v, f->http_host, EV_HTTP_HOST);

	bool apple_address = false;
	if (f->dns_answer_name && f->dns_answer_service != SVC_NONE) {
		apple_address = true;
		add_evidence(v, EV_DNS_ANSWER, f->dns_answer_name);
		if (v->confidence < CONF_MEDIUM) {
			v->service = f->dns_answer_service;
			v->confidence = CONF_MEDIUM;
			set_match(v, f->dns_answer_name);
		}
	}
	if (f->asn && f->asn_service != SVC_NONE) {
		char buf[32];
		apple_address = true;
		snprintf(buf, sizeof(buf), "%u", f->asn);
		add_evidence(v, EV_ASN, buf);
		if (v->confidence < CONF_MEDIUM) {
			v->service = f->asn_service;
			v->confidence = CONF_MEDIUM;
			snprintf(v->match, sizeof(v->match), "AS%u", f->asn);
		}
	}
	struct addr_match am;
	if (f->srv && sigset_match_addr(s, f->srv, &am)) {
		char pfx[ADDR_STRLEN + 8], a[ADDR_STRLEN];
		struct ip_prefix p = am.prefix;
		bool v4 = addr_is_v4(&p.addr);
		addr_format(&p.addr, a);
		snprintf(pfx, sizeof(pfx), "%s/%u", a, v4 ? p.len - 96u : p.len);
		apple_address = true;
		add_evidence(v, EV_IP_PREFIX, pfx);
		if (v->confidence < CONF_LOW) {
			v->service = am.service;
			v->confidence = CONF_LOW;
			set_match(v, pfx);
		}
	}
	if (apple_address || v->confidence == CONF_HIGH) {
		enum service_id hint = sigset_match_port(s, f->proto, f->srv_port);
		if (hint != SVC_NONE) {
			char buf[16];
			snprintf(buf, sizeof(buf), "%s/%u", f->proto == 6 ? "tcp" : "udp", f->srv_port);
			add_evidence(v, EV_PORT, buf);
			/* A name is more specific than a port; an address is not. */
			if (v->confidence < CONF_HIGH)
				v->service = hint;
		}
	}
}

void classify_dns_query(const struct sigset *s, const char *qname, struct verdict *v)
{
	verdict_clear(v);
	try_name(s, v, qname, EV_DNS_QUERY);
}
