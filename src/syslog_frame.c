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
	/* Room once, for the worst case: no byte takes more than three. */
	if (n > SIZE_MAX / 4 || !sb_reserve(out, 3 * n))
		return;
	char *d = out->buf + out->len;
	for (;;) {
		size_t run = plain_span(u + i, n - i, '"', '\\', ']');
		sb_copy(d, s + i, run);
		d += run;
		i += run;
		if (i >= n)
			break;
		unsigned char c = u[i];
		if (c == '"' || c == '\\' || c == ']') {
			*d++ = '\\';
			*d++ = (char)c;
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			*d++ = ' ';
			i++;
		} else {
			size_t len = utf8_seq_len(u + i, n - i);
			if (len == 0) {
				memcpy(d, "\xef\xbf\xbd", 3);
				d += 3;
				i++;
			} else {
				memcpy(d, s + i, len);
				d += len;
				i += len;
			}
		}
	}
	*d = '\0';
	out->len = (size_t)(d - out->buf);
}

/* Decimal v (no printf: this runs for every message). */
static void put_uint(struct strbuf *out, uint64_t v)
{
	char b[24], *end = b + sizeof(b), *p = sb_utoa_end(v, end);
	sb_put(out, p, (size_t)(end - p));
}

void syslog_header_field(const char *s, size_t max, struct strbuf *out)
{
	size_t n = 0;
	const char *p = s ? s : "";
	while (*p && n < max) {
		const char *run = p;   /* printable US-ASCII goes in one piece */
		while (*run && n + (size_t)(run - p) < max && (unsigned char)*run >= 33 &&
		       (unsigned char)*run <= 126)
			run++;
		if (run > p) {
			sb_put(out, p, (size_t)(run - p));
			n += (size_t)(run - p);
			p = run;
		} else {
			p++;
		}
	}
	if (n == 0)
		sb_putc(out, '-');
}

/* name is a literal of the caller's: " name=\"" comes in one piece. */
#define param(out, name, value) param_(out, " " name "=\"", sizeof(name) + 2, value)
#define param_uint(out, name, v) param_uint_(out, " " name "=\"", sizeof(name) + 2, v)

static void param_(struct strbuf *out, const char *pre, size_t pre_len, const char *value)
{
	if (!value || !value[0])
		return;
	sb_put(out, pre, pre_len);
	syslog_sd_escape(value, out);
	sb_putc(out, '"');
}

/* A value this program made (names from its own tables, addresses,
 * Community IDs): nothing in it to escape. */
#define param_plain(out, name, value) param_plain_(out, " " name "=\"", sizeof(name) + 2, value)

static void param_plain_(struct strbuf *out, const char *pre, size_t pre_len, const char *value)
{
	if (!value || !value[0])
		return;
	size_t n = strlen(value);
	if (!sb_reserve(out, pre_len + n + 1))
		return;
	sb_put(out, pre, pre_len);
	sb_put(out, value, n);
	sb_putc(out, '"');
}

static void param_uint_(struct strbuf *out, const char *pre, size_t pre_len, uint64_t v)
{
	sb_put(out, pre, pre_len);
	put_uint(out, v);
	sb_putc(out, '"');
}

static void structured_data(const struct record *r, struct strbuf *out)
{
	char a[ADDR_STRLEN];
	bool alert = r->kind == RECORD_ALERT;
	sb_puts(out, "[" SD_ID);
	param_plain(out, "event", alert ? "alert" : "flow");
	if (r->verdict.service != SVC_NONE) {
		param_plain(out, "service", service_name(r->verdict.service));
		param_plain(out, "confidence", confidence_name(r->verdict.confidence));
		param(out, "signature", r->verdict.match);
	}
	param(out, "policy", r->policy);
	format_addr(&r->src, a);
	param_plain(out, "src", a);
	param_uint(out, "sport", r->sport);
	format_addr(&r->dst, a);
	param_plain(out, "dst", a);
	param_uint(out, "dport", r->dport);
	param_plain(out, "proto", r->proto == 6 ? "TCP" : r->proto == 17 ? "UDP" : "OTHER");
	param(out, "domain", record_domain(r));
	param_plain(out, "community_id", r->community_id);
	param_uint(out, "flow_id", r->flow_id);
	if (r->suppressed)
		param_uint(out, "suppressed", r->suppressed);
	sb_putc(out, ']');
}

void syslog_header(const struct syslog_opts *o, const struct record *r, struct strbuf *out)
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
		sb_putc(out, '<');
		put_uint(out, (uint64_t)pri);
		sb_put(out, ">1 ", 3);
		sb_puts(out, ts);
		sb_putc(out, ' ');
		syslog_header_field(o->hostname, 255, out);
		sb_put(out, " applemon ", 10);
		put_uint(out, (uint64_t)o->pid);
		if (r->kind == RECORD_ALERT)
			sb_put(out, " alert ", 7);
		else
			sb_put(out, " flow ", 6);
		structured_data(r, out);
		sb_putc(out, ' ');
	}
}

void syslog_message(const struct syslog_opts *o, const struct record *r, const char *body,
		    size_t body_len, struct strbuf *out)
{
	syslog_header(o, r, out);
	sb_put(out, body, body_len);
}

size_t syslog_frame_prefix(enum syslog_framing framing, size_t msg_len, char out[24])
{
	if (framing != FRAMING_OCTET)
		return 0;
	char b[24], *end = b + sizeof(b), *p = end;
	*--p = ' ';
	do {
		*--p = (char)('0' + msg_len % 10);
		msg_len /= 10;
	} while (msg_len);
	memcpy(out, p, (size_t)(end - p));
	return (size_t)(end - p);
}

void syslog_frame(enum syslog_framing framing, const char *msg, size_t len, struct strbuf *out)
{
	if (framing == FRAMING_OCTET) {
		put_uint(out, len);
		sb_putc(out, ' ');
	}
	sb_put(out, msg, len);
	if (framing == FRAMING_LF)
		sb_putc(out, '\n');
}
