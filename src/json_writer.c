/* json_writer.c - a small streaming JSON writer for alert and flow records.
 *
 * The buffer grows by doubling and is reused line after line, so in steady
 * state writing a record allocates nothing. The comma state is a stack of
 * one flag per open container. */
#include "json_writer.h"

#include "strbuf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void jw_init(struct json_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void jw_free(struct json_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

void jw_reset(struct json_writer *w)
{
	w->len = 0;
	w->depth = 0;
	w->oom = false;
	memset(w->need_comma, 0, sizeof(w->need_comma));
	if (w->buf)
		w->buf[0] = '\0';
}

/* Room for extra more bytes and the NUL; the buffer grows by doubling. */
bool jw_grow_(struct json_writer *w, size_t extra)
{
	if (w->oom)
		return false;
	if (extra > SIZE_MAX / 4 - w->len) {
		w->oom = true;
		return false;
	}
	size_t cap = w->cap ? w->cap : 512;
	while (cap < w->len + extra + 1)
		cap *= 2;
	char *nb = realloc(w->buf, cap);
	if (!nb) {
		w->oom = true;
		return false;
	}
	w->buf = nb;
	w->cap = cap;
	return true;
}

static inline bool reserve(struct json_writer *w, size_t extra)
{
	if (__builtin_expect(!w->oom && w->len + extra + 1 <= w->cap, 1))
		return true;
	return jw_grow_(w, extra);
}

static inline void put(struct json_writer *w, const char *s, size_t n)
{
	if (!reserve(w, n))
		return;
	sb_copy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static inline void put_char(struct json_writer *w, char c)
{
	if (!reserve(w, 1))
		return;
	w->buf[w->len++] = c;
	w->buf[w->len] = '\0';
}

/* Called before every value and key: a comma unless first in its container. */
static inline void separate(struct json_writer *w)
{
	if (w->depth == 0)
		return;
	if (w->need_comma[w->depth])
		put_char(w, ',');
	w->need_comma[w->depth] = true;
}

static void open_container(struct json_writer *w, char c)
{
	separate(w);
	put_char(w, c);
	if (w->depth + 1 < JSON_MAX_DEPTH)
		w->depth++;
	w->need_comma[w->depth] = false;
}

static void close_container(struct json_writer *w, char c)
{
	put_char(w, c);
	if (w->depth > 0)
		w->depth--;
}

void jw_object_begin(struct json_writer *w) { open_container(w, '{'); }
void jw_object_end(struct json_writer *w) { close_container(w, '}'); }
void jw_array_begin(struct json_writer *w) { open_container(w, '['); }
void jw_array_end(struct json_writer *w) { close_container(w, ']'); }

/* Bytes that go as they are: printable ASCII other than '"' and '\\'. */
static inline size_t json_plain_span(const unsigned char *s, size_t n)
{
	return plain_span(s, n, '"', '\\', '\\');
}

static const char hex_digit[] = "0123456789abcdef";

/* s as a JSON string, quotes included. Room is made once, for the worst
 * case: no byte takes more than six ("\u00XX", "\ufffd"). */
static void put_escaped(struct json_writer *w, const char *s, size_t n)
{
	if (n > SIZE_MAX / 8 || !reserve(w, 6 * n + 2)) {
		w->oom = true;
		return;
	}
	const unsigned char *u = (const unsigned char *)s;
	char *d = w->buf + w->len;
	*d++ = '"';
	size_t i = 0;
	for (;;) {
		size_t run = json_plain_span(u + i, n - i);
		sb_copy(d, s + i, run);
		d += run;
		i += run;
		if (i >= n)
			break;
		unsigned char c = u[i];
		if (c == '"' || c == '\\') {
			*d++ = '\\';
			*d++ = (char)c;
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			*d++ = '\\';
			switch (c) {
			case '\n': *d++ = 'n'; break;
			case '\r': *d++ = 'r'; break;
			case '\t': *d++ = 't'; break;
			default:
				memcpy(d, "u00", 3);
				d[3] = hex_digit[c >> 4];
				d[4] = hex_digit[c & 15];
				d += 5;
			}
			i++;
		} else {
			size_t len = utf8_seq_len(u + i, n - i);
			if (len == 0) {
				memcpy(d, "\\ufffd", 6);
				d += 6;
				i++;
			} else {
				memcpy(d, s + i, len);
				d += len;
				i += len;
			}
		}
	}
	*d++ = '"';
	*d = '\0';
	w->len = (size_t)(d - w->buf);
}

void jw_key(struct json_writer *w, const char *key)
{
	separate(w);
	put_escaped(w, key, strlen(key));
	put_char(w, ':');
	/* The value that follows takes no comma; its separate() sets the flag
	 * again so that the next key does. */
	w->need_comma[w->depth] = false;
}

void jw_string(struct json_writer *w, const char *s)
{
	if (!s) {
		jw_null(w);
		return;
	}
	jw_string_n(w, s, strlen(s));
}

void jw_string_plain(struct json_writer *w, const char *s)
{
	if (!s) {
		jw_null(w);
		return;
	}
	size_t n = strlen(s);
	separate(w);
	if (!reserve(w, n + 2))
		return;
	char *d = w->buf + w->len;
	*d++ = '"';
	sb_copy(d, s, n);
	d += n;
	*d++ = '"';
	*d = '\0';
	w->len = (size_t)(d - w->buf);
}

void jw_string_n(struct json_writer *w, const char *s, size_t n)
{
	separate(w);
	put_escaped(w, s, n);
}

static inline char *utoa_end(uint64_t v, char *end)
{
	return sb_utoa_end(v, end);
}

void jw_int(struct json_writer *w, int64_t v)
{
	char b[24], *end = b + sizeof(b);
	char *p = utoa_end(v < 0 ? 0 - (uint64_t)v : (uint64_t)v, end);
	if (v < 0)
		*--p = '-';
	separate(w);
	put(w, p, (size_t)(end - p));
}

void jw_uint(struct json_writer *w, uint64_t v)
{
	char b[24], *end = b + sizeof(b);
	char *p = utoa_end(v, end);
	separate(w);
	put(w, p, (size_t)(end - p));
}

void jw_bool(struct json_writer *w, bool v)
{
	separate(w);
	put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(struct json_writer *w)
{
	separate(w);
	put(w, "null", 4);
}

void jw_raw(struct json_writer *w, const char *s, size_t n)
{
	separate(w);
	put(w, s, n);
}

void jw_kv_string(struct json_writer *w, const char *key, const char *s)
{
	jw_key(w, key);
	jw_string(w, s);
}

void jw_kv_uint(struct json_writer *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	jw_uint(w, v);
}

void jw_kv_bool(struct json_writer *w, const char *key, bool v)
{
	jw_key(w, key);
	jw_bool(w, v);
}

static void digits(char *p, unsigned v, int n)
{
	while (n--) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

void format_timestamp(uint64_t ts_usec, char out[32])
{
	/* Records come in time order: the calendar of the last second is kept
	 * (per thread), so most calls skip gmtime_r. */
	static _Thread_local int64_t last_sec = -1;
	static _Thread_local char date[20];   /* YYYY-MM-DDTHH:MM:SS */
	int64_t secs = (int64_t)(ts_usec / 1000000u);
	if (secs != last_sec) {
		time_t t = (time_t)secs;
		struct tm tm;
		gmtime_r(&t, &tm);
		char tmp[64];
		if (strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm) != 19) {
			/* a year past 9999: the slow way, not cached */
			snprintf(out, 32, "%.23s.%06uZ", tmp, (unsigned)(ts_usec % 1000000u));
			return;
		}
		memcpy(date, tmp, 19);
		last_sec = secs;
	}
	memcpy(out, date, 19);
	out[19] = '.';
	digits(out + 20, (unsigned)(ts_usec % 1000000u), 6);
	out[26] = 'Z';
	out[27] = '\0';
}

static void format_addr_uncached(const struct ip_addr *a, char out[ADDR_STRLEN])
{
	if (!addr_is_v4(a)) {
		addr_format(a, out);
		return;
	}
	char *p = out;
	for (int i = 12; i < 16; i++) {
		unsigned v = a->b[i];
		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = i < 15 ? '.' : '\0';
	}
}

/* A record's two addresses are written once per body format and again in
 * each syslog header: the last two texts are kept (per thread). */
void format_addr(const struct ip_addr *a, char out[ADDR_STRLEN])
{
	static _Thread_local struct {
		struct ip_addr a;
		char text[ADDR_STRLEN];
		bool used;
	} last[2];
	static _Thread_local unsigned next;
	for (int i = 0; i < 2; i++)
		if (last[i].used && memcmp(&last[i].a, a, sizeof(*a)) == 0) {
			memcpy(out, last[i].text, ADDR_STRLEN);
			return;
		}
	format_addr_uncached(a, out);
	unsigned k = next++ & 1;
	last[k].a = *a;
	memcpy(last[k].text, out, ADDR_STRLEN);
	last[k].used = true;
}
