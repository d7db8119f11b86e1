/* syslog_frame.c - RFC 5424 / RFC 3164 headers, structured data, framing. */
#include "syslog_frame.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "json_writer.h"

#define SD_ID "applemon@32473"

void syslog_sd_escape(const char *s, struct strbuf *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;
	while (i < n) {
		unsigned char c = u[i];
		if (c == '"' || c == '\\' || c == ']') {
			sb_putc(out, '\\');
			sb_putc(out, (char)c);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			sb_putc(out, ' ');
			i++;
		} else {
			size_t len = utf8_seq_len(u + i, n - i);
			if (len == 0) {
				sb_puts(out, "\xef\xbf\xbd");
				i++;
			} else {
				sb_put(out, s + i, len);
				i += len;
			}
		}
	}
}

void syslog_header_field(const char *s, size_t max, struct strbuf *out)
{
	size_t n = 0;
	for (const char *p = s ? s : ""; *p && n < max; p++) {
		unsigned char c = (unsigned char)*p;
		if (c >= 33 && c <= 126) {
			sb_putc(out, (char)c);
			n++;
		}
	}
	if (n == 0)
		sb_putc(out, '-');
}

static void param(struct strbuf *out, const char *name, const char *value)
{
	if (!value || !value[0])
		return;
	sb_printf(out, " %s=\"", name);
	syslog_sd_escape(value, out);
	sb_putc(out, '"');
}

static void param_uint(struct strbuf *out, const char *name, uint64_t v)
{
	sb_printf(out, " %s=\"%" PRIu64 "\"", name, v);
}

static void structured_data(const struct record *r, struct strbuf *out)
{
	char a[ADDR_STRLEN];
	bool alert = r->kind == RECORD_ALERT;
	sb_puts(out, "[" SD_ID);
	param(out, "event", alert ? "alert" : "flow");
	if (r->verdict.service != SVC_NONE) {
		param(out, "service", service_name(r->verdict.service));
		param(out, "confidence", confidence_name(r->verdict.confidence));
		param(out, "signature", r->verdict.match);
	}
	param(out, "policy", r->policy);
	addr_format(&r->src, a);
	param(out, "src", a);
	param_uint(out, "sport", r->sport);
	addr_format(&r->dst, a);
	param(out, "dst", a);
	param_uint(out, "dport", r->dport);
	param(out, "proto", r->proto == 6 ? "TCP" : r->proto == 17 ? "UDP" : "OTHER");
	param(out, "domain", record_domain(r));
	param(out, "community_id", r->community_id);
	param_uint(out, "flow_id", r->flow_id);
	if (r->suppressed)
		param_uint(out, "suppressed", r->suppressed);
	sb_putc(out, ']');
}

void syslog_message(const struct syslog_opts *o, const struct record *r, const char *body,
		    size_t body_len, struct strbuf *out)
{
	/* warning for alerts, informational for flow records */
	int pri = o->facility * 8 + (r->kind == RECORD_ALERT ? 4 : 6);
	if (o->rfc == SYSLOG_3164) {
		time_t secs = (time_t)(r->ts_usec / 1000000u);
		struct tm tm;
		gmtime_r(&secs, &tm);
		static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
						   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
		sb_printf(out, "<%d>%s %2d %02d:%02d:%02d ", pri, mon[tm.tm_mon % 12], tm.tm_mday,
			  tm.tm_hour, tm.tm_min, tm.tm_sec);
		syslog_header_field(o->hostname, 255, out);
		sb_printf(out, " applemon[%d]: ", o->pid);
	} else {
		char ts[32];
		format_timestamp(r->ts_usec, ts);
		sb_printf(out, "<%d>1 %s ", pri, ts);
		syslog_header_field(o->hostname, 255, out);
		sb_printf(out, " applemon %d %s ", o->pid, r->kind == RECORD_ALERT ? "alert" : "flow");
		structured_data(r, out);
		sb_putc(out, ' ');
	}
	sb_put(out, body, body_len);
}

void syslog_frame(enum syslog_framing framing, const char *msg, size_t len, struct strbuf *out)
{
	if (framing == FRAMING_OCTET)
		sb_printf(out, "%zu ", len);
	sb_put(out, msg, len);
	if (framing == FRAMING_LF)
		sb_putc(out, '\n');
}
