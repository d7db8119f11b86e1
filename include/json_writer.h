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
void jw_int(struct json_writer *w, int64_t v);
void jw_uint(struct json_writer *w, uint64_t v);
void jw_bool(struct json_writer *w, bool v);
void jw_null(struct json_writer *w);
void jw_raw(struct json_writer *w, const char *s, size_t n); /* pre-formed value */

/* key + value shorthands */
void jw_kv_string(struct json_writer *w, const char *key, const char *s); /* NULL -> null */
void jw_kv_uint(struct json_writer *w, const char *key, uint64_t v);
void jw_kv_bool(struct json_writer *w, const char *key, bool v);

/* RFC 3339 UTC with microseconds: 2026-01-15T09:00:00.000000Z */
void format_timestamp(uint64_t ts_usec, char out[32]);
/* addr_format's text (inet_ntop), IPv4 without going through printf. */
void format_addr(const struct ip_addr *a, char out[ADDR_STRLEN]);

#endif
