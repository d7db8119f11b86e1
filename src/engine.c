/* engine.c - the per-packet pipeline of one worker.
 *
 * For each frame: decode in place; find or create the flow; if the flow
 * already has its verdict, count the packet and stop there (the fast path:
 * one hash lookup and a few additions). Otherwise hand the payload to the
 * extractor the flow's first bytes call for (TLS ClientHello, HTTP request,
 * DNS, QUIC Initial), and take the verdict as soon as a name arrives, the
 * bytes say no name is coming, or `inspect_packets` payload packets have
 * gone by. A flow still undecided when it ends is decided on what it
 * showed. DNS flows are never put on the fast path: every query may be an
 * alert and every answer feeds the correlation cache.
 *
 * Client bytes of a TCP flow are parsed straight from the capture buffer
 * when one in-order segment holds what the parser needs; a ClientHello or a
 * header block spread over several segments, or segments that arrive out of
 * order, go through the flow's reassembler (tcp_reassembly.h: a window of
 * TCP_REASM_WINDOW bytes from the client's first sequence number, first
 * copy wins on overlaps), freed once the flow is decided. */
#include "engine.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "cursor.h"
#include "defrag.h"
#include "dns.h"
#include "http.h"
#include "quic.h"
#include "quic_crypto.h"
#include "record.h"
#include "ruleset.h"
#include "slab.h"
#include "tcp_reassembly.h"
#include "tls.h"

enum stream_kind { STREAM_UNKNOWN = 0, STREAM_TLS, STREAM_HTTP, STREAM_DNS, STREAM_NONE };

/* The outer addresses of a tunnelled flow (a side allocation: most flows
 * are not tunnelled, and flow_info stays small for those that are kept). */
struct flow_tunnel {
	struct ip_addr outer_src, outer_dst;
	uint8_t kind;                /* enum tunnel_kind of the innermost tunnel */
};

/* What a flow learned beyond its counters; allocated on first need, from
 * the engine's slab. Kept for the flow's life when flow records are
 * written, so it is ordered to pack (88 bytes). */
struct flow_info {
	char *sni, *quic_sni, *http_host, *alpn;
	char **dns;                  /* RECORD_DNS_MAX query names, only for DNS flows */
	/* client byte stream (TCP) */
	struct tcp_reasm reasm;      /* client bytes held while out of order or incomplete */
	struct quic_state *quic;
	/* verdict, when the flow is toward Apple: its confidence always, the
	 * whole of it (1.8 KB) only for a flow record */
	struct verdict *verdict;
	uint8_t verdict_conf;        /* enum confidence; CONF_NONE: no verdict kept */
	/* encapsulation seen on the flow's first packet */
	struct flow_tunnel *tunnel;  /* NULL unless tunnelled */
	uint32_t alerted;            /* bit per service already alerted on this flow */
	uint16_t dns_more;
	uint16_t vlan;               /* outermost VLAN id, 0 none */
	uint8_t n_dns;
	uint8_t stream_kind;         /* enum stream_kind */
	bool ech;
};

struct engine {
	struct engine_params p;
	struct flow_table *flows;
	struct slab *infos;          /* every struct flow_info of this engine */
	struct tcp_reasm_pool *windows;  /* TCP reassembly windows (at most REASM_WINDOWS_MAX) */
	struct slab *quic_states;    /* QUIC CRYPTO reassembly (at most QUIC_STATES_MAX) */
	struct slab *verdicts;       /* verdicts kept by flows toward Apple (1.8 KB each) */
	struct defrag *defrag;       /* IP fragments being put back together */
	struct asn_cache *asn;       /* server address -> AS, NULL without a database */
	struct asn_db *asn_db_held;  /* the shared database this engine acquired */
	struct engine_stats stats;
	uint64_t last_expire_sec;
	uint8_t *tls_scratch;        /* TLS_CH_MAX, for ClientHellos split over records */
	struct dns_message dns;      /* scratch for one parsed message */
	struct record rec;           /* scratch for one outgoing record */
	struct ruleset *rs;          /* signatures and policy held (SIGHUP reload) */
	uint64_t rs_gen;
	struct late_dns *late;       /* live: flows to look up again, oldest first (a ring) */
	uint32_t late_head, late_n;
	uint32_t quic_live;          /* flows holding a QUIC reassembly state now */
	uint32_t reasm_live;         /* flows holding a TCP reassembly window now */
};

/* A flow decided without a name or a DNS answer, to look up again. */
struct late_dns {
	struct flow *f;
	uint64_t id;                 /* the flow's id then: the struct may be reused since */
	uint64_t decided_usec;
};

#define LATE_MAX 4096

/* A QUIC flow holds about 19 KB of CRYPTO reassembly state until its
 * ClientHello is complete (one or two datagrams for a real client). A flood
 * of Initials that never complete could otherwise pin [flows] max of them;
 * past this many at once, a new QUIC flow is decided on its addresses. */
#define QUIC_STATES_MAX 2048

/* The same for TCP: a window (about 16 KB) is held only while a ClientHello
 * or header block is incomplete; past this many at once, a flow's bytes
 * are no longer held and it is decided without them. */
#define REASM_WINDOWS_MAX 4096

static void on_flow_release(void *ctx, struct flow *f);

struct engine *engine_new(const struct engine_params *params)
{
	struct engine *e = line_zalloc(sizeof(*e));
	if (!e)
		return NULL;
	e->p = *params;
	const struct config *c = params->config;
	struct flow_timeouts to = {
		.tcp = c->timeout_tcp, .tcp_closed = c->timeout_tcp_closed,
		.udp = c->timeout_udp, .other = c->timeout_other,
	};
	e->infos = slab_new(sizeof(struct flow_info));
	e->windows = tcp_reasm_pool_new();
	e->quic_states = slab_new(quic_state_size());
	e->verdicts = slab_new(sizeof(struct verdict));
	e->flows = flow_table_new(params->flows_max ? params->flows_max : c->flows_max, &to,
				  on_flow_release, e);
	e->tls_scratch = malloc(TLS_CH_MAX);
	if (params->dns_grace_ms && params->dns_cache && !(e->late = calloc(LATE_MAX, sizeof(*e->late)))) {
		engine_free(e);
		return NULL;
	}
	struct defrag_limits dl = { .max_datagrams = c->defrag_max, .timeout_secs = c->defrag_timeout };
	e->defrag = defrag_new(&dl);
	const struct asn_db *asn_db = params->asn_db;
	if (!asn_db && c->asn_db[0])
		asn_db = e->asn_db_held = asn_db_acquire(c->asn_db, NULL, 0);
	if (asn_db)
		e->asn = asn_cache_new(asn_db, ASN_CACHE_SLOTS);
	bool asn_ok = !c->asn_db[0] && !params->asn_db ? true : e->asn != NULL;
	if (!e->infos || !e->windows || !e->quic_states || !e->verdicts || !e->flows ||
	    !e->tls_scratch || !e->defrag || !asn_ok) {
		engine_free(e);
		return NULL;
	}
	return e;
}

void engine_finish(struct engine *e)
{
	flow_flush(e->flows);
	output_flush(e->p.output);
}

static void late_dns_check(struct engine *e, struct flow *f, uint64_t decided_usec);

void engine_tick(struct engine *e, uint64_t now_usec)
{
	uint64_t sec = now_usec / 1000000u;
	if (sec > e->last_expire_sec) {
		e->last_expire_sec = sec;
		flow_expire(e->flows, now_usec);
		/* incomplete datagrams time out even when no fragment follows */
		defrag_expire(e->defrag, now_usec);
	}
	uint64_t grace = (uint64_t)e->p.dns_grace_ms * 1000u;
	while (e->late_n) {
		struct late_dns *l = &e->late[e->late_head];
		if (l->decided_usec + grace > now_usec)
			break;
		if ((l->f->flags & FLOW_F_DNS_LATE) && flow_id(l->f) == l->id)
			late_dns_check(e, l->f, l->decided_usec);
		e->late_head = (e->late_head + 1) % LATE_MAX;
		e->late_n--;
	}
}

#define ENGINES_MAX 256

void engine_expire_all(struct engine *const *es, size_t n, uint64_t now_usec)
{
	struct flow_table *t[ENGINES_MAX] = { 0 };
	n = n < ENGINES_MAX ? n : ENGINES_MAX;
	for (size_t i = 0; i < n; i++)
		t[i] = es[i]->flows;
	flow_expire_tables(t, n, now_usec);
}

void engine_finish_all(struct engine *const *es, size_t n)
{
	struct flow_table *t[ENGINES_MAX] = { 0 };
	n = n < ENGINES_MAX ? n : ENGINES_MAX;
	for (size_t i = 0; i < n; i++)
		t[i] = es[i]->flows;
	flow_flush_tables(t, n);
	if (n)
		output_flush(es[0]->p.output);
}

uint64_t engine_next_expiry(const struct engine *e)
{
	return flow_next_deadline(e->flows);
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	flow_table_free(e->flows);   /* releases every flow's info first */
	slab_destroy(e->infos);
	tcp_reasm_pool_free(e->windows);
	slab_destroy(e->quic_states);
	slab_destroy(e->verdicts);
	defrag_free(e->defrag);
	asn_cache_free(e->asn);
	asn_db_release(e->asn_db_held);
	free(e->tls_scratch);
	free(e->late);
	ruleset_release(e->rs);
	free(e);
}

/* A new signature set and policy were installed: use them from this packet on. */
static void take_ruleset(struct engine *e, uint64_t gen)
{
	struct ruleset *rs = ruleset_acquire();
	e->rs_gen = gen;
	if (!rs)
		return;
	ruleset_release(e->rs);
	e->rs = rs;
	e->p.sigs = rs->sigs;
	e->p.policy = rs->policy;
}

const struct engine_stats *engine_get_stats(const struct engine *e)
{
	return &e->stats;
}

const struct flow_stats *engine_flow_stats(const struct engine *e)
{
	return flow_table_stats(e->flows);
}

const struct defrag_stats *engine_defrag_stats(const struct engine *e)
{
	return defrag_get_stats(e->defrag);
}

/* ---- per-flow state ---------------------------------------------------- */

static struct flow_info *flow_info_get(struct engine *e, struct flow *f)
{
	if (!f->info)
		f->info = slab_zalloc(e->infos);
	return f->info;
}

static void flow_info_drop_buffers(struct engine *e, struct flow_info *fi)
{
	if (fi->reasm.win)
		e->reasm_live--;
	tcp_reasm_release_to(&fi->reasm, e->windows);
	if (fi->quic) {
		quic_state_free_to(e->quic_states, fi->quic);
		fi->quic = NULL;
		e->quic_live--;
	}
}

static void flow_info_free(struct engine *e, struct flow_info *fi)
{
	if (!fi)
		return;
	flow_info_drop_buffers(e, fi);
	free(fi->sni);
	free(fi->quic_sni);
	free(fi->http_host);
	free(fi->alpn);
	for (unsigned i = 0; i < fi->n_dns; i++)
		free(fi->dns[i]);
	free(fi->dns);
	slab_free(e->verdicts, fi->verdict);
	free(fi->tunnel);
	slab_free(e->infos, fi);
}

static void set_name(char **slot, const char *value)
{
	if (*slot || !value || !value[0])
		return;
	*slot = strdup(value);
}

static void add_dns_query(struct flow_info *fi, const char *name)
{
	for (unsigned i = 0; i < fi->n_dns; i++)
		if (strcmp(fi->dns[i], name) == 0)
			return;
	if (fi->n_dns >= RECORD_DNS_MAX) {
		if (fi->dns_more < UINT16_MAX)
			fi->dns_more++;
		return;
	}
	if (!fi->dns && !(fi->dns = calloc(RECORD_DNS_MAX, sizeof(*fi->dns))))
		return;
	char *copy = strdup(name);
	if (copy)
		fi->dns[fi->n_dns++] = copy;
}

/* ---- records ----------------------------------------------------------- */

static const char *watching_group(const struct engine *e, const struct ip_addr *host)
{
	if (!e->p.policy)
		return POLICY_ALL;
	return policy_match(e->p.policy, host);
}

/* Several engines: wait for our turn (see engine_hooks). */
static void order_step(struct engine *e, enum engine_step step)
{
	if (e->p.hooks)
		e->p.hooks->order(e->p.hooks->ctx, step);
}

/* The record in e->rec, out (an alert has passed the suppressor). */
static void emit_record(struct engine *e)
{
	if (!e->p.hooks) {
		output_write_admitted(e->p.output, &e->rec);
		return;
	}
	e->p.hooks->order(e->p.hooks->ctx, ENGINE_STEP_SHARED);
	e->p.hooks->write(e->p.hooks->ctx, &e->rec);
}

static bool dns_lookup(struct engine *e, const struct ip_addr *a, uint64_t ts_usec,
		       struct dns_cache_hit *hit)
{
	if (!e->p.dns_cache)
		return false;
	order_step(e, ENGINE_STEP_DNS_LOOKUP);
	return dns_cache_lookup(e->p.dns_cache, a, ts_usec, hit);
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	if (src)
		snprintf(dst, cap, "%s", src);
}

static void fill_record(struct engine *e, const struct flow *f, enum record_kind kind,
			uint64_t ts_usec, const struct verdict *v, uint8_t app_proto)
{
	struct record *r = &e->rec;
	const struct flow_info *fi = f->info;
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->ts_usec = ts_usec;
	r->flow_id = flow_id(f);
	r->src = f->key.cli;
	r->dst = f->key.srv;
	r->sport = f->key.cli_port;
	r->dport = f->key.srv_port;
	r->proto = f->key.proto;
	r->app_proto = app_proto;
	community_id_v1(&r->src, &r->dst, r->sport, r->dport, r->proto, 0, r->community_id);
	if (v)
		r->verdict = *v;
	const char *group = watching_group(e, &f->key.cli);
	copy_str(r->policy, sizeof(r->policy), group);
	r->end_reason = f->end_reason;
	struct asn_info ai;
	if (e->asn && asn_cache_lookup(e->asn, &f->key.srv, &ai)) {
		r->asn = ai.asn;
		copy_str(r->as_org, sizeof(r->as_org), ai.org);
	}
	if (!fi)
		return;
	if (fi->tunnel) {
		r->tunnel = fi->tunnel->kind;
		r->outer_src = fi->tunnel->outer_src;
		r->outer_dst = fi->tunnel->outer_dst;
	}
	r->vlan = fi->vlan;
	if (kind != RECORD_FLOW)
		return;
	copy_str(r->sni, sizeof(r->sni), fi->sni);
	copy_str(r->quic_sni, sizeof(r->quic_sni), fi->quic_sni);
	copy_str(r->http_host, sizeof(r->http_host), fi->http_host);
	copy_str(r->alpn, sizeof(r->alpn), fi->alpn);
	r->ech = fi->ech;
	for (unsigned i = 0; i < fi->n_dns; i++)
		copy_str(r->dns_queries[i], sizeof(r->dns_queries[i]), fi->dns[i]);
	r->n_dns = fi->n_dns;
	r->dns_more = fi->dns_more;
}

/* Alert if the flow's client is watched and this service was not yet
 * alerted on this flow. */
static void raise_alert(struct engine *e, struct flow *f, const struct verdict *v, uint64_t ts_usec,
			uint8_t app_proto)
{
	struct flow_info *fi = flow_info_get(e, f);
	if (!fi || v->service == SVC_NONE)
		return;
	uint32_t bit = 1u << v->service;
	if (fi->alerted & bit)
		return;
	if (!watching_group(e, &f->key.cli))
		return;
	fi->alerted |= bit;
	e->stats.alerts++;
	/* A repeat of a (host, service) alert is counted and dropped before
	 * its record is built (a record costs some thousands of instructions,
	 * the Community ID's SHA-1 among them). With several workers the
	 * suppressor hears alerts in capture order: the order step first. */
	order_step(e, ENGINE_STEP_SHARED);
	uint32_t suppressed;
	if (!output_admit(e->p.output, &f->key.cli, (unsigned)v->service, ts_usec, &suppressed))
		return;
	fill_record(e, f, RECORD_ALERT, ts_usec, v, app_proto);
	e->rec.suppressed = suppressed;
	emit_record(e);
}

/* The flow's first verdict toward Apple (a late DNS answer may replace it,
 * late_dns_check). Its confidence is what a later verdict is weighed
 * against; the verdict itself is for the flow record, and kept only when
 * there will be one: in an alert storm, 1.8 KB of fresh memory per flow
 * cost more than everything else the flow did. */
static void keep_verdict(struct engine *e, struct flow *f, const struct verdict *v)
{
	struct flow_info *fi = flow_info_get(e, f);
	if (!fi || fi->verdict_conf != CONF_NONE || v->service == SVC_NONE)
		return;
	fi->verdict_conf = (uint8_t)v->confidence;
	if (!e->p.flow_records)
		return;
	fi->verdict = slab_alloc(e->verdicts);
	if (fi->verdict)
		*fi->verdict = *v;
}

static void look_again_later(struct engine *e, struct flow *f, uint64_t decided_usec);

/* Take the flow's verdict from what it showed: after this, fast path. */
/* What the AS of the server says (facts.asn_org points into *ai). */
static void add_asn_facts(struct engine *e, const struct flow *f, struct flow_facts *facts,
			  struct asn_info *ai)
{
	if (e->asn && asn_cache_lookup(e->asn, &f->key.srv, ai)) {
		facts->asn = ai->asn;
		facts->asn_org = ai->org;
		facts->asn_service = sigset_match_asn(e->p.sigs, ai->asn);
	}
}

static void decide(struct engine *e, struct flow *f, uint64_t ts_usec)
{
	if (f->flags & FLOW_F_DECIDED)
		return;
	f->flags |= FLOW_F_DECIDED;
	struct flow_info *fi = f->info;
	struct flow_facts facts = {
		.sni = fi ? fi->sni : NULL,
		.quic_sni = fi ? fi->quic_sni : NULL,
		.http_host = fi ? fi->http_host : NULL,
		.srv = &f->key.srv,
		.srv_port = f->key.srv_port,
		.proto = f->key.proto,
	};
	struct dns_cache_hit hit;
	if (dns_lookup(e, &f->key.srv, ts_usec, &hit)) {
		facts.dns_answer_name = hit.name;
		facts.dns_answer_service = hit.service;
	}
	struct asn_info ai;
	add_asn_facts(e, f, &facts, &ai);
	struct verdict v;
	classify_flow(e->p.sigs, &facts, &v);
	if (fi)
		flow_info_drop_buffers(e, fi);
	if (e->late && !facts.sni && !facts.quic_sni && !facts.http_host && !facts.dns_answer_name)
		look_again_later(e, f, ts_usec);
	if (v.service == SVC_NONE)
		return;
	keep_verdict(e, f, &v);
	raise_alert(e, f, &v, ts_usec, f->app_proto);
}

/* Live: the DNS answer for this flow's server may still be on its way
 * through another ring. A full ring forgets its oldest. */
static void look_again_later(struct engine *e, struct flow *f, uint64_t decided_usec)
{
	if (e->late_n == LATE_MAX) {
		e->late_head = (e->late_head + 1) % LATE_MAX;
		e->late_n--;
	}
	struct late_dns *l = &e->late[(e->late_head + e->late_n) % LATE_MAX];
	l->f = f;
	l->id = flow_id(f);
	l->decided_usec = decided_usec;
	e->late_n++;
	f->flags |= FLOW_F_DNS_LATE;
}

/* The flow was decided on its address alone; if DNS has since answered
 * its server's address for an Apple name, it is attributed through DNS
 * (a stronger verdict replaces the weaker one; a new service alerts). */
static void late_dns_check(struct engine *e, struct flow *f, uint64_t decided_usec)
{
	f->flags &= (uint8_t)~FLOW_F_DNS_LATE;
	struct dns_cache_hit hit;
	if (!dns_lookup(e, &f->key.srv, decided_usec, &hit))
		return;
	struct flow_facts facts = {
		.srv = &f->key.srv,
		.srv_port = f->key.srv_port,
		.proto = f->key.proto,
		.dns_answer_name = hit.name,
		.dns_answer_service = hit.service,
	};
	struct asn_info ai;
	add_asn_facts(e, f, &facts, &ai);
	struct verdict v;
	classify_flow(e->p.sigs, &facts, &v);
	if (v.service == SVC_NONE)
		return;
	struct flow_info *fi = f->info;
	if (fi && fi->verdict_conf != CONF_NONE) {
		if (fi->verdict_conf >= v.confidence)
			return;
		slab_free(e->verdicts, fi->verdict);
		fi->verdict = NULL;
		fi->verdict_conf = CONF_NONE;
	}
	keep_verdict(e, f, &v);
	raise_alert(e, f, &v, decided_usec, f->app_proto);
}

static void on_flow_release(void *ctx, struct flow *f)
{
	struct engine *e = ctx;
	if (!(f->flags & FLOW_F_KEEP_INSPECTING))
		decide(e, f, f->last_usec);
	if (f->flags & FLOW_F_DNS_LATE)
		late_dns_check(e, f, f->last_usec);
	if (e->p.flow_records) {
		const struct verdict *v = f->info ? f->info->verdict : NULL;
		fill_record(e, f, RECORD_FLOW, f->last_usec, v, f->app_proto);
		e->rec.start_usec = f->first_usec;
		e->rec.end_usec = f->last_usec;
		memcpy(e->rec.pkts, f->pkts, sizeof(f->pkts));
		memcpy(e->rec.bytes, f->bytes, sizeof(f->bytes));
		emit_record(e);
		e->stats.flow_records++;
	}
	flow_info_free(e, f->info);
	f->info = NULL;
}

/* ---- DNS ------------------------------------------------------------- */

struct answer_ctx {
	struct engine *e;
	uint64_t now_usec;
};

/* An address answered through a chain that passes an Apple name is
 * remembered for that name (the first Apple name of the chain, usually
 * the one the host asked for). */
static void remember_answer(void *ctx, const struct dns_answer *a, const char *const *chain,
			    size_t chain_len)
{
	struct answer_ctx *ac = ctx;
	struct domain_match m;
	for (size_t i = 0; i < chain_len; i++) {
		if (sigset_match_domain(ac->e->p.sigs, chain[i], &m)) {
			order_step(ac->e, ENGINE_STEP_SHARED);
			dns_cache_insert(ac->e->p.dns_cache, &a->addr, chain[i], m.service, a->ttl,
					 ac->now_usec);
			return;
		}
	}
}

static void handle_dns_message(struct engine *e, struct flow *f, const uint8_t *data, size_t len,
			       uint64_t ts_usec)
{
	struct dns_message *m = &e->dns;
	if (dns_parse(data, len, m) != DNS_OK) {
		e->stats.dns_malformed++;
		return;
	}
	e->stats.dns_messages++;
	if (m->response) {
		if (e->p.dns_cache) {
			struct answer_ctx ac = { e, ts_usec };
			dns_walk_addresses(m, remember_answer, &ac);
		}
		return;
	}
	struct flow_info *fi = flow_info_get(e, f);
	if (!fi)
		return;
	for (unsigned i = 0; i < m->n_questions; i++) {
		if (!m->qname[i][0])
			continue;
		if (e->p.flow_records)   /* the names are for the flow record only */
			add_dns_query(fi, m->qname[i]);
		struct verdict v;
		classify_dns_query(e->p.sigs, m->qname[i], &v);
		if (v.service == SVC_NONE)
			continue;
		keep_verdict(e, f, &v);
		raise_alert(e, f, &v, ts_usec, APP_DNS);
	}
}

static bool is_dns_port(uint16_t port)
{
	return port == 53 || port == 5353 || port == 5355;
}

/* DNS over TCP: 2-byte length, then the message; several may follow. */
static size_t handle_dns_tcp(struct engine *e, struct flow *f, const uint8_t *data, size_t len,
			     uint64_t ts_usec)
{
	size_t off = 0;
	while (len - off >= 2) {
		size_t mlen = (size_t)data[off] << 8 | data[off + 1];
		if (len - off - 2 < mlen)
			break;
		handle_dns_message(e, f, data + off + 2, mlen, ts_usec);
		off += 2 + mlen;
	}
	return off;
}

/* ---- TCP client stream ------------------------------------------------- */

/* tcp_reasm_add, within the engine's bound on windows held at once. */
static enum tcp_reasm_result stream_hold(struct engine *e, struct tcp_reasm *r, uint32_t seq,
					 const struct packet *p, struct tcp_reasm_stats *st)
{
	bool had_window = r->win != NULL;
	if (!had_window && e->reasm_live >= REASM_WINDOWS_MAX) {
		e->stats.reasm_windows_refused++;
		return REASM_REFUSED;
	}
	enum tcp_reasm_result rr = tcp_reasm_add_from(r, e->windows, seq, p->payload, p->payload_len, st);
	if (!had_window && r->win)
		e->reasm_live++;
	return rr;
}

/* The client bytes this segment makes ready to parse. When nothing is held
 * and the segment is next in line, that is the segment itself (zero copy,
 * *in_place set); otherwise the segment goes to the reassembler and the
 * bytes are its contiguous prefix. false when nothing new is ready. */
static bool stream_feed(struct engine *e, struct flow *f, struct flow_info *fi,
			const struct packet *p, const uint8_t **data, size_t *len, bool *in_place)
{
	struct tcp_reasm *r = &fi->reasm;
	/* A SYN carrying data (TCP Fast Open) has it one past its sequence number. */
	uint32_t seq = p->tcp_seq + ((p->tcp_flags & TCP_SYN) ? 1u : 0u);
	tcp_reasm_start(r, (f->flags & FLOW_F_CLI_SEQ) ? f->cli_seq : seq);
	size_t skip;
	*in_place = tcp_reasm_in_order(r, seq, p->payload_len, &skip);
	if (*in_place) {
		struct cursor c = cur_make(p->payload, p->payload_len);
		cur_skip(&c, skip);
		*len = cur_left(&c);
		*data = cur_pos(&c);
		return true;
	}
	struct tcp_reasm_stats st = { 0 };
	enum tcp_reasm_result rr = stream_hold(e, r, seq, p, &st);
	e->stats.stream_gaps += st.out_of_order;
	e->stats.stream_overflow += st.beyond_window + st.too_fragmented;
	e->stats.stream_conflicts += st.conflicts;
	if (rr != REASM_ADDED)
		return false;
	*len = tcp_reasm_ready(r, data);
	return *len > 0;
}

/* The parser wants more: make sure the bytes stay (copying the segment if
 * it was parsed in place). False when the window is full or memory ran
 * out: the caller gives up. */
static bool stream_keep(struct engine *e, struct flow_info *fi, const struct packet *p,
			bool in_place)
{
	struct tcp_reasm *r = &fi->reasm;
	if (in_place) {
		uint32_t seq = p->tcp_seq + ((p->tcp_flags & TCP_SYN) ? 1u : 0u);
		struct tcp_reasm_stats st = { 0 };
		if (stream_hold(e, r, seq, p, &st) != REASM_ADDED) {
			e->stats.stream_overflow++;
			return false;
		}
		e->stats.stream_overflow += st.beyond_window;
	}
	if (tcp_reasm_full(r)) {
		e->stats.stream_overflow++;
		return false;
	}
	return true;
}

/* The parser used the first n of the len ready bytes: drop them (keeping
 * the rest of an in-place segment for the next one). */
static void stream_consume(struct engine *e, struct flow_info *fi, const struct packet *p,
			   bool in_place, size_t n, size_t len)
{
	if (in_place && n < len && !stream_keep(e, fi, p, true))
		return;
	tcp_reasm_consume(&fi->reasm, n);
}

static enum stream_kind guess_stream_kind(const struct flow *f, const uint8_t *data, size_t len)
{
	if (tls_plausible(data, len))
		return STREAM_TLS;
	if (http_plausible(data, len))
		return STREAM_HTTP;
	if (is_dns_port(f->key.srv_port))
		return STREAM_DNS;
	return STREAM_NONE;
}

static void take_client_hello(struct flow *f, struct flow_info *fi,
			      const struct tls_client_hello *ch, bool quic)
{
	if (ch->has_sni)
		set_name(quic ? &fi->quic_sni : &fi->sni, ch->sni);
	set_name(&fi->alpn, ch->alpn);
	fi->ech = fi->ech || ch->ech;
	f->app_proto = quic ? APP_QUIC : APP_TLS;
}

static void inspect_tcp_client(struct engine *e, struct flow *f, const struct packet *p)
{
	struct flow_info *fi = flow_info_get(e, f);
	const uint8_t *data;
	size_t len;
	bool in_place;
	if (!fi || !stream_feed(e, f, fi, p, &data, &len, &in_place))
		return;
	/* Until a segment starts something we read, each client segment may
	 * be the start: protocols such as PostgreSQL, SMTP or XMPP upgrade to
	 * TLS after a few cleartext exchanges. The inspection budget bounds it. */
	if (fi->stream_kind == STREAM_UNKNOWN || fi->stream_kind == STREAM_NONE)
		fi->stream_kind = guess_stream_kind(f, data, len);

	switch (fi->stream_kind) {
	case STREAM_TLS: {
		struct tls_client_hello ch;
		enum tls_result r = tls_parse_client_stream(data, len, e->tls_scratch, &ch, NULL);
		if (r == TLS_NEED_MORE && stream_keep(e, fi, p, in_place))
			return;
		if (r == TLS_OK) {
			e->stats.tls_client_hellos++;
			take_client_hello(f, fi, &ch, false);
		} else if (r == TLS_MALFORMED) {
			e->stats.tls_malformed++;
		}
		decide(e, f, p->ts_usec);
		return;
	}
	case STREAM_HTTP: {
		struct http_request req;
		enum http_result r = http_parse_request(data, len, &req);
		if (r == HTTP_NEED_MORE && stream_keep(e, fi, p, in_place))
			return;
		if (r != HTTP_NOT_HTTP) {
			e->stats.http_requests++;
			f->app_proto = APP_HTTP;
			if (req.has_host)
				set_name(&fi->http_host, req.host);
		}
		decide(e, f, p->ts_usec);
		return;
	}
	case STREAM_DNS: {
		f->app_proto = APP_DNS;
		f->flags |= FLOW_F_KEEP_INSPECTING;
		size_t used = handle_dns_tcp(e, f, data, len, p->ts_usec);
		/* a partial message stays for the next segment */
		stream_consume(e, fi, p, in_place, used, len);
		return;
	}
	default:
		/* Nothing to read in these bytes; a later segment may upgrade. */
		stream_consume(e, fi, p, in_place, len, len);
		return;
	}
}

static void inspect_tcp(struct engine *e, struct flow *f, const struct packet *p, enum flow_dir dir)
{
	if (dir == DIR_TOSERVER) {
		inspect_tcp_client(e, f, p);
		return;
	}
	/* Server side: only DNS answers matter (correlation); one message
	 * within one segment is read, longer answers are skipped. */
	if (is_dns_port(f->key.srv_port) && p->payload_len > 2)
		handle_dns_tcp(e, f, p->payload, p->payload_len, p->ts_usec);
}

/* ---- UDP --------------------------------------------------------------- */

/* SSDP: HTTP request syntax over UDP (M-SEARCH, NOTIFY); one datagram
 * holds the whole request. */
static void inspect_ssdp(struct engine *e, struct flow *f, const struct packet *p)
{
	struct http_request req;
	if (http_parse_request(p->payload, p->payload_len, &req) != HTTP_OK) {
		decide(e, f, p->ts_usec);
		return;
	}
	e->stats.http_requests++;
	f->app_proto = APP_HTTP;
	struct flow_info *fi = flow_info_get(e, f);
	if (fi && req.has_host)
		set_name(&fi->http_host, req.host);
	decide(e, f, p->ts_usec);
}

/* A QUIC long header (form and fixed bits set) of a version whose Initials
 * we can read, whatever its packet type. */
static bool quic_long_header(const uint8_t *data, size_t len)
{
	struct cursor c = cur_make(data, len);
	uint8_t first = cur_u8(&c);
	uint32_t version = cur_be32(&c);
	return !c.err && (first & 0xc0) == 0xc0 && quic_crypto_known_version(version);
}

static void inspect_udp(struct engine *e, struct flow *f, const struct packet *p, enum flow_dir dir)
{
	if (is_dns_port(p->sport) || is_dns_port(p->dport)) {
		f->app_proto = APP_DNS;
		f->flags |= FLOW_F_KEEP_INSPECTING;
		handle_dns_message(e, f, p->payload, p->payload_len, p->ts_usec);
		return;
	}
	if (p->dport == 1900 && dir == DIR_TOSERVER) {
		inspect_ssdp(e, f, p);
		return;
	}
	struct flow_info *fi = f->info;
	if (dir == DIR_TOCLIENT) {
		if (fi && fi->quic)
			quic_server_datagram(fi->quic, p->payload, p->payload_len);
		return;
	}
	if (!(fi && fi->quic) && !quic_plausible(p->payload, p->payload_len)) {
		/* Another long-header packet (0-RTT, Handshake) may come before
		 * the client's Initial; the inspection budget bounds the wait. */
		if (!quic_long_header(p->payload, p->payload_len))
			decide(e, f, p->ts_usec);
		return;
	}
	fi = flow_info_get(e, f);
	if (!fi)
		return;
	if (!fi->quic) {
		if (e->quic_live >= QUIC_STATES_MAX) {
			e->stats.quic_states_refused++;
			decide(e, f, p->ts_usec);
			return;
		}
		if (!(fi->quic = quic_state_new_from(e->quic_states)))
			return;
		e->quic_live++;
	}
	struct tls_client_hello ch;
	enum quic_result r = quic_client_datagram(fi->quic, p->payload, p->payload_len, &ch);
	if (r == QUIC_OK) {
		e->stats.quic_client_hellos++;
		take_client_hello(f, fi, &ch, true);
		decide(e, f, p->ts_usec);
	} else if (r == QUIC_NEED_MORE || r == QUIC_UNDECRYPTABLE) {
		f->app_proto = APP_QUIC;
	}
}

/* ---- per packet -------------------------------------------------------- */

static void track_tcp_state(struct engine *e, struct flow *f, const struct packet *p,
			    enum flow_dir dir)
{
	uint8_t fl = p->tcp_flags;
	if (fl & TCP_RST) {
		f->flags |= FLOW_F_RST;
		flow_mark_closed(e->flows, f, FLOW_END_RST);
		return;
	}
	if (fl & TCP_FIN) {
		f->flags |= dir == DIR_TOSERVER ? FLOW_F_FIN_CLI : FLOW_F_FIN_SRV;
		if ((f->flags & (FLOW_F_FIN_CLI | FLOW_F_FIN_SRV)) == (FLOW_F_FIN_CLI | FLOW_F_FIN_SRV))
			flow_mark_closed(e->flows, f, FLOW_END_FIN);
	}
}

static void note_encapsulation(struct engine *e, struct flow *f, const struct packet *p)
{
	if (!p->tunnel_depth && !p->vlan_count)
		return;
	struct flow_info *fi = flow_info_get(e, f);
	if (!fi)
		return;
	fi->vlan = p->vlan_count ? p->vlan[0] : 0;
	if (p->tunnel_depth && !fi->tunnel && (fi->tunnel = malloc(sizeof(*fi->tunnel)))) {
		fi->tunnel->kind = p->tunnel;
		fi->tunnel->outer_src = p->outer_src;
		fi->tunnel->outer_dst = p->outer_dst;
	}
}

static struct flow *find_flow(struct engine *e, const struct packet *p, enum flow_dir *dir)
{
	bool created;
	struct flow *f = flow_lookup(e->flows, &p->src, &p->dst, p->sport, p->dport, p->l4proto,
				     p->tcp_flags, p->ts_usec, dir, &created);
	if (!f)
		return NULL;
	/* A new SYN on a closed connection's tuple starts a new flow. */
	if (!created && p->l4proto == IPPROTO_TCP && f->list == FLOW_LIST_TCP_CLOSED &&
	    (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		flow_end(e->flows, f, (enum flow_end_reason)f->end_reason);
		f = flow_lookup(e->flows, &p->src, &p->dst, p->sport, p->dport, p->l4proto,
				p->tcp_flags, p->ts_usec, dir, &created);
		if (!f)
			return NULL;
	}
	if (created)
		note_encapsulation(e, f, p);
	return f;
}

/* A fragment goes to the defragmenter; the datagram it completes, if any,
 * becomes the packet (its bytes live in the defragmenter until the next
 * fragment, i.e. for the rest of this packet's processing). */
static enum decode_result reassemble(struct engine *e, struct packet *p)
{
	const uint8_t *dgram;
	uint32_t len;
	if (!defrag_add(e->defrag, p, &dgram, &len))
		return DECODE_FRAGMENT;
	return decode_ip(p, dgram, len, &e->stats.decode);
}

void engine_packet(struct engine *e, int linktype, const uint8_t *data, uint32_t caplen,
		   uint32_t wirelen, uint64_t ts_usec)
{
	struct packet p;
	enum decode_result dr = engine_decode(e, &p, linktype, data, caplen, wirelen, ts_usec);
	engine_decoded(e, &p, dr);
}

enum decode_result engine_decode(struct engine *e, struct packet *p, int linktype,
				 const uint8_t *data, uint32_t caplen, uint32_t wirelen,
				 uint64_t ts_usec)
{
	return decode_packet(p, linktype, data, caplen, wirelen, ts_usec, &e->stats.decode);
}

bool engine_prefetch(const struct engine *e, const struct packet *p, enum decode_result dr,
		     uint32_t *hash)
{
	if (dr != DECODE_OK || (p->l4proto != IPPROTO_TCP && p->l4proto != IPPROTO_UDP))
		return false;
	*hash = flow_prefetch_bucket(e->flows, &p->src, &p->dst, p->sport, p->dport, p->l4proto);
	return true;
}

void engine_prefetch_flow(const struct engine *e, uint32_t hash)
{
	flow_prefetch_flow(e->flows, hash);
}

void engine_decoded(struct engine *e, struct packet *p, enum decode_result dr)
{
	uint64_t gen = ruleset_generation();
	if (gen != e->rs_gen)
		take_ruleset(e, gen);
	e->stats.packets++;
	e->stats.bytes += p->wirelen;
	uint64_t sec = p->ts_usec / 1000000u;
	if (sec > e->last_expire_sec && !e->p.external_expiry) {
		e->last_expire_sec = sec;
		flow_expire(e->flows, p->ts_usec);
	}

	if (dr == DECODE_FRAGMENT)
		dr = reassemble(e, p);
	if (dr != DECODE_OK)
		return;
	if (p->l4proto != IPPROTO_TCP && p->l4proto != IPPROTO_UDP)
		return;

	enum flow_dir dir;
	struct flow *f = find_flow(e, p, &dir);
	if (!f)
		return;
	f->pkts[dir]++;
	f->bytes[dir] += p->l3_len;
	if (p->l4proto == IPPROTO_TCP && dir == DIR_TOSERVER && (p->tcp_flags & TCP_SYN) &&
	    !(f->flags & FLOW_F_CLI_SEQ)) {
		f->cli_seq = p->tcp_seq + 1;
		f->flags |= FLOW_F_CLI_SEQ;
	}

	if ((f->flags & (FLOW_F_DECIDED | FLOW_F_KEEP_INSPECTING)) == FLOW_F_DECIDED) {
		e->stats.fast_path_pkts++;
	} else if (p->payload_len > 0) {
		if (f->payload_pkts < UINT8_MAX)
			f->payload_pkts++;
		if (p->l4proto == IPPROTO_TCP)
			inspect_tcp(e, f, p, dir);
		else
			inspect_udp(e, f, p, dir);
		if (!(f->flags & (FLOW_F_DECIDED | FLOW_F_KEEP_INSPECTING)) &&
		    f->payload_pkts >= e->p.config->inspect_packets)
			decide(e, f, p->ts_usec);
		/* Decided, and no flow record will want its names: what it
		 * learned is not needed any more (memory per flow). */
		if (f->info && !e->p.flow_records &&
		    (f->flags & (FLOW_F_DECIDED | FLOW_F_KEEP_INSPECTING | FLOW_F_DNS_LATE)) ==
			    FLOW_F_DECIDED) {
			flow_info_free(e, f->info);
			f->info = NULL;
		}
	}
	if (p->l4proto == IPPROTO_TCP)
		track_tcp_state(e, f, p, dir);
}
