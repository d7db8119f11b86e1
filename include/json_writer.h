/* json_writer.h - builds one JSON object per line into a growable buffer.
 *
 * The writer tracks nesting so callers never place commas by hand. Strings
 * are escaped per RFC 8259: quotes, backslash and control bytes are escaped,
 * and bytes that are not valid UTF-8 are written as U+FFFD, so whatever a
 * packet carried, the line stays valid JSON. */
#ifndef APPLEMON_JSON_WRITER_H
#define APPLEMON_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "strbuf.h"

#define JSON_MAX_DEPTH 16

struct json_writer {
	char *buf;
	size_t len, cap;
	uint8_t depth;
	bool need_comma[JSON_MAX_DEPTH];
	bool oom;                    /* an allocation failed; the line is unusable */
};

void jw_init(struct json_writer *w);
void jw_free(struct json_writer *w);
void jw_reset(struct json_writer *w);      /* empty, keep the buffer */

void jw_object_begin(struct json_writer *w);
void jw_object_end(struct json_writer *w);
void jw_array_begin(struct json_writer *w);
void jw_array_end(struct json_writer *w);
void jw_key(struct json_writer *w, const char *key);

void jw_string(struct json_writer *w, const char *s);
void jw_string_n(struct json_writer *w, const char *s, size_t n);
/* Text this program made and knows needs no escaping - names from its own
 * tables, addresses, timestamps, Community IDs - written without the scan.
 * Never for text from packets, configuration or signatures. NULL -> null. */
void jw_string_plain(struct json_writer *w, const char *s);
void jw_int(struct json_writer *w, int64_t v);
void jw_uint(struct json_writer *w, uint64_t v);
void jw_bool(struct json_writer *w, bool v);
void jw_null(struct json_writer *w);
void jw_raw(struct json_writer *w, const char *s, size_t n); /* pre-formed value */

/* A key written as it is, quoted and followed by ':' (jw_key without the
 * scan for bytes to escape); JW_KEY and the JW_KV_ forms make it from a
 * string literal at compile time, so only plain literals can reach it. */
bool jw_grow_(struct json_writer *w, size_t extra);

static inline void jw_key_quoted(struct json_writer *w, const char *quoted, size_t n)
{
	bool comma = w->depth && w->need_comma[w->depth];
	if (!w->oom && (w->len + n + 2 <= w->cap || jw_grow_(w, n + 1))) {
		char *d = w->buf + w->len;
		if (comma)
			*d++ = ',';
		sb_copy(d, quoted, n);
		d += n;
		*d = '\0';
		w->len = (size_t)(d - w->buf);
	}
	/* the value that follows takes no comma (as after jw_key) */
	w->need_comma[w->depth] = false;
}
#define JW_QUOTED(key) "\"" key "\":", sizeof(key) + 2
#define JW_KEY(w, key) jw_key_quoted((w), JW_QUOTED(key))
#define JW_KV_STRING(w, key, s) (JW_KEY(w, key), jw_string((w), (s)))
#define JW_KV_PLAIN(w, key, s) (JW_KEY(w, key), jw_string_plain((w), (s)))
#define JW_KV_UINT(w, key, v) (JW_KEY(w, key), jw_uint((w), (v)))
#define JW_KV_BOOL(w, key, v) (JW_KEY(w, key), jw_bool((w), (v)))

/* key + value shorthands */
void jw_kv_string(struct json_writer *w, const char *key, const char *s); /* NULL -> null */
void jw_kv_uint(struct json_writer *w, const char *key, uint64_t v);
void jw_kv_bool(struct json_writer *w, const char *key, bool v);

/* RFC 3339 UTC with microseconds: 2026-01-15T09:00:00.000000Z */
void format_timestamp(uint64_t ts_usec, char out[32]);
/* addr_format's text (inet_ntop), IPv4 without going through printf. */
void format_addr(const struct ip_addr *a, char out[ADDR_STRLEN]);

#endif
