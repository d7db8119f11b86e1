/* format_cef.c - records in ArcSight Common Event Format.
 *
 *   CEF:0|applemon|applemon|VERSION|alert:SERVICE|NAME|SEVERITY|key=value ...
 *
 * Escaping follows the CEF specification: in header fields `\` and `|`
 * take a backslash; in extension values `\` and `=` do, and line breaks
 * are written as \n and \r. Other control characters have no escape in
 * CEF and are replaced by a space; bytes that are not UTF-8 become U+FFFD. */
#include "format.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

enum cef_part { CEF_HEADER, CEF_VALUE };

static void put_escaped(struct strbuf *b, const char *s, enum cef_part part)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;
	while (i < n) {
		unsigned char c = u[i];
		if (c == '\\' || (part == CEF_HEADER && c == '|') || (part == CEF_VALUE && c == '=')) {
			sb_putc(b, '\\');
			sb_putc(b, (char)c);
			i++;
		} else if (c == '\n' || c == '\r') {
			if (part == CEF_VALUE)
				sb_puts(b, c == '\n' ? "\\n" : "\\r");
			else
				sb_putc(b, ' ');
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			sb_putc(b, ' ');
			i++;
		} else {
			size_t len = utf8_seq_len(u + i, n - i);
			if (len == 0) {
				sb_puts(b, "\xef\xbf\xbd");
				i++;
			} else {
				sb_put(b, s + i, len);
				i += len;
			}
		}
	}
}

static void ext(struct strbuf *b, const char *key, const char *value)
{
	if (!value || !value[0] || b->oom)
		return;
	if (b->len && b->buf[b->len - 1] != '|')
		sb_putc(b, ' ');
	sb_puts(b, key);
	sb_putc(b, '=');
	put_escaped(b, value, CEF_VALUE);
}

static void ext_uint(struct strbuf *b, const char *key, uint64_t v)
{
	char num[24];
	snprintf(num, sizeof(num), "%" PRIu64, v);
	ext(b, key, num);
}

static void ext_addr(struct strbuf *b, const char *key, const struct ip_addr *a)
{
	char buf[ADDR_STRLEN];
	format_addr(a, buf);
	ext(b, key, buf);
}

/* "sni:gateway.icloud.com,ip_prefix:17.0.0.0/8" */
static void evidence_list(const struct verdict *v, struct strbuf *tmp)
{
	sb_reset(tmp);
	for (unsigned i = 0; i < v->n_evidence && i < EVIDENCE_MAX; i++) {
		if (i)
			sb_putc(tmp, ',');
		sb_puts(tmp, evidence_source_name((enum evidence_source)v->evidence[i].source));
		sb_putc(tmp, ':');
		sb_puts(tmp, v->evidence[i].value);
	}
}

void format_cef(const struct record *r, const char *sensor, struct strbuf *b)
{
	bool alert = r->kind == RECORD_ALERT;
	const char *svc = r->verdict.service != SVC_NONE ? service_name(r->verdict.service) : NULL;
	char text[128];
	sb_reset(b);
	sb_puts(b, "CEF:0|applemon|applemon|" APPLEMON_PRODUCT_VERSION "|");
	snprintf(text, sizeof(text), "%s:%s", alert ? "alert" : "flow", svc ? svc : "none");
	put_escaped(b, text, CEF_HEADER);
	sb_putc(b, '|');
	if (alert)
		snprintf(text, sizeof(text), "Apple service reached: %s", svc ? svc : "apple");
	else
		snprintf(text, sizeof(text), "Flow ended");
	put_escaped(b, text, CEF_HEADER);
	sb_printf(b, "|%d|", record_severity(r));

	ext_uint(b, "rt", r->ts_usec / 1000);
	ext_addr(b, "src", &r->src);
	ext_uint(b, "spt", r->sport);
	ext_addr(b, "dst", &r->dst);
	ext_uint(b, "dpt", r->dport);
	ext(b, "proto", r->proto == 6 ? "TCP" : r->proto == 17 ? "UDP" : "OTHER");
	ext(b, "app", app_proto_name((enum app_proto)r->app_proto));
	ext(b, "dhost", record_domain(r));
	ext(b, "cat", svc);
	ext(b, "dvchost", sensor);
	ext_uint(b, "externalId", r->flow_id);
	if (r->suppressed)
		ext_uint(b, "cnt", (uint64_t)r->suppressed + 1);
	if (!alert) {
		ext_uint(b, "start", r->start_usec / 1000);
		ext_uint(b, "end", r->end_usec / 1000);
		ext_uint(b, "out", r->bytes[0]);
		ext_uint(b, "in", r->bytes[1]);
		ext(b, "reason", end_reason_name(r->end_reason));
	}
	if (r->policy[0]) {
		ext(b, "cs1Label", "policy");
		ext(b, "cs1", r->policy);
	}
	if (svc) {
		ext(b, "cs2Label", "confidence");
		ext(b, "cs2", confidence_name(r->verdict.confidence));
		ext(b, "cs3Label", "signature");
		ext(b, "cs3", r->verdict.match);
	}
	ext(b, "cs4Label", "communityId");
	ext(b, "cs4", r->community_id);
	if (r->verdict.n_evidence) {
		struct strbuf tmp;
		sb_init(&tmp);
		evidence_list(&r->verdict, &tmp);
		ext(b, "cs5Label", "evidence");
		ext(b, "cs5", tmp.oom ? NULL : tmp.buf);
		sb_free(&tmp);
	}
	const char *sni = record_server_name(r);
	if (sni) {
		ext(b, "cs6Label", "serverName");
		ext(b, "cs6", sni);
	}
}
