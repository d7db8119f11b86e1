/* format.h - the message bodies a sink can carry.
 *
 *   json  the record as applemon's own JSON (record_json.c)
 *   ecs   JSON with Elastic Common Schema field names
 *   cef   ArcSight Common Event Format
 *   leef  QRadar Log Event Extended Format 2.0
 *
 * Each formatter escapes per its specification and replaces bytes that are
 * not valid UTF-8 with U+FFFD, so a hostile name from a packet can neither
 * break the message apart nor forge a field. No body holds a raw line
 * break, so every one fits line-framed transports. */
#ifndef APPLEMON_FORMAT_H
#define APPLEMON_FORMAT_H

#include <stdbool.h>

#include "json_writer.h"
#include "record.h"
#include "strbuf.h"

#define APPLEMON_PRODUCT_VERSION "0.1.0"

enum msg_format { FORMAT_JSON, FORMAT_ECS, FORMAT_CEF, FORMAT_LEEF, FORMAT_COUNT };

bool format_parse(const char *name, enum msg_format *out);
const char *format_name(enum msg_format f);

/* The body of r in format f, replacing what out held. */
void format_record(enum msg_format f, const struct record *r, const char *sensor,
		   struct strbuf *out);

void format_ecs(const struct record *r, const char *sensor, struct json_writer *w);
void format_cef(const struct record *r, const char *sensor, struct strbuf *out);
void format_leef(const struct record *r, const char *sensor, struct strbuf *out);

/* The name that decided an alert (SNI, QUIC SNI, Host, DNS query or
 * answer), or NULL when only the address did. */
const char *record_domain(const struct record *r);
/* The TLS or QUIC server name the client sent, or NULL. */
const char *record_server_name(const struct record *r);

#endif
