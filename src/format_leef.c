/* format_leef.c - records in QRadar Log Event Extended Format 2.0.
 *
 *   LEEF:2.0|applemon|applemon|VERSION|alert:SERVICE|x09|key=value<TAB>...
 *
 * Attributes are separated by a tab, declared in the header's delimiter
 * field as x09. LEEF has no escape for the delimiter inside a value, so
 * tabs, line breaks and other control characters in values become a space;
 * `|` and `\` in header fields take a backslash; bytes that are not UTF-8
 * become U+FFFD. A value may hold `=`: QRadar splits at the first one. */
#include "format.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void put_clean(struct strbuf *b, const char *s, bool header)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;
	while (i < n) {
		unsigned char c = u[i];
		if (header && (c == '|' || c == '\\')) {
			sb_putc(b, '\\');
			sb_putc(b, (char)c);
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

static void attr(struct strbuf *b, const char *key, const char *value)
{
	if (!value || !value[0] || b->oom)
		return;
	if (b->buf[b->len - 1] != '|')
		sb_putc(b, '\t');
	sb_puts(b, key);
	sb_putc(b, '=');
	put_clean(b, value, false);
}

static void attr_uint(struct strbuf *b, const char *key, uint64_t v)
{
	char num[24];
	snprintf(num, sizeof(num), "%" PRIu64, v);
	attr(b, key, num);
}

static void attr_addr(struct strbuf *b, const char *key, const struct ip_addr *a)
{
	char buf[ADDR_STRLEN];
	format_addr(a, buf);
	attr(b, key, buf);
}

void format_leef(const struct record *r, const char *sensor, struct strbuf *b)
{
	bool alert = r->kind == RECORD_ALERT;
	const char *svc = r->verdict.service != SVC_NONE ? service_name(r->verdict.service) : NULL;
	char text[128];
	sb_reset(b);
	sb_puts(b, "LEEF:2.0|applemon|applemon|" APPLEMON_PRODUCT_VERSION "|");
	snprintf(text, sizeof(text), "%s:%s", alert ? "alert" : "flow", svc ? svc : "none");
	put_clean(b, text, true);
	sb_puts(b, "|x09|");

	/* devTime in the format LEEF names by default when devTimeFormat is
	 * given: here "MMM dd yyyy HH:mm:ss.SSS", UTC. */
	time_t secs = (time_t)(r->ts_usec / 1000000u);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char date[40], when[48];
	strftime(date, sizeof(date), "%b %d %Y %H:%M:%S", &tm);
	snprintf(when, sizeof(when), "%s.%03u", date, (unsigned)(r->ts_usec / 1000u % 1000u));
	attr(b, "devTime", when);
	attr(b, "devTimeFormat", "MMM dd yyyy HH:mm:ss.SSS");
	attr(b, "cat", svc ? svc : "none");
	attr_uint(b, "sev", (uint64_t)record_severity(r));
	attr_addr(b, "src", &r->src);
	attr_uint(b, "srcPort", r->sport);
	attr_addr(b, "dst", &r->dst);
	attr_uint(b, "dstPort", r->dport);
	attr(b, "proto", r->proto == 6 ? "TCP" : r->proto == 17 ? "UDP" : "OTHER");
	attr(b, "appProto", app_proto_name((enum app_proto)r->app_proto));
	attr(b, "domain", record_domain(r));
	attr(b, "serverName", record_server_name(r));
	attr(b, "identHostName", sensor);
	attr(b, "policy", r->policy);
	if (svc) {
		attr(b, "confidence", confidence_name(r->verdict.confidence));
		attr(b, "signature", r->verdict.match);
	}
	attr(b, "communityId", r->community_id);
	attr_uint(b, "flowId", r->flow_id);
	for (unsigned i = 0; i < r->verdict.n_evidence && i < EVIDENCE_MAX; i++) {
		char key[40];
		snprintf(key, sizeof(key), "evidence%u", i + 1);
		char val[EVIDENCE_VALUE_MAX + 24];
		snprintf(val, sizeof(val), "%s:%s",
			 evidence_source_name((enum evidence_source)r->verdict.evidence[i].source),
			 r->verdict.evidence[i].value);
		attr(b, key, val);
	}
	if (r->suppressed)
		attr_uint(b, "suppressed", r->suppressed);
	if (!alert) {
		attr_uint(b, "srcPackets", r->pkts[0]);
		attr_uint(b, "dstPackets", r->pkts[1]);
		attr_uint(b, "srcBytes", r->bytes[0]);
		attr_uint(b, "dstBytes", r->bytes[1]);
		attr(b, "endReason", end_reason_name(r->end_reason));
	}
}
