/* syslog_frame.h - syslog headers and transport framing.
 *
 * RFC 5424: <PRI>1 TIMESTAMP HOSTNAME applemon PROCID MSGID [SD] BODY, with
 * the record's main fields as structured data under applemon@32473
 * (32473 is the enterprise number RFC 5612 sets aside for examples).
 * RFC 3164, on request: <PRI>Mmm dd hh:mm:ss HOSTNAME applemon[PID]: BODY.
 * Framing per RFC 6587: octet counting ("LEN SP MSG") or a trailing LF. */
#ifndef APPLEMON_SYSLOG_FRAME_H
#define APPLEMON_SYSLOG_FRAME_H

#include <stdbool.h>
#include <stddef.h>

#include "record.h"
#include "strbuf.h"

enum syslog_rfc { SYSLOG_5424, SYSLOG_3164 };
enum syslog_framing { FRAMING_NONE, FRAMING_OCTET, FRAMING_LF };

#define SYSLOG_FACILITY_LOCAL0 16

struct syslog_opts {
	enum syslog_rfc rfc;
	int facility;               /* 0..23 */
	const char *hostname;       /* the sensor name */
	int pid;
};

/* Appends the syslog message (header + body) for r to out. */
void syslog_message(const struct syslog_opts *o, const struct record *r, const char *body,
		    size_t body_len, struct strbuf *out);
/* The same without the body: the header up to the space before it. */
void syslog_header(const struct syslog_opts *o, const struct record *r, struct strbuf *out);
/* What goes before a message of msg_len bytes ("LEN " for octet
 * counting, nothing else); its length. After it: "\n" for FRAMING_LF. */
size_t syslog_frame_prefix(enum syslog_framing framing, size_t msg_len, char out[24]);
/* Appends msg framed for a stream transport. */
void syslog_frame(enum syslog_framing framing, const char *msg, size_t len, struct strbuf *out);

/* Appends s as an RFC 5424 PARAM-VALUE (without the quotes): `"`, `\` and
 * `]` take a backslash; invalid UTF-8 becomes U+FFFD; control characters,
 * which would break line framing, become a space. */
void syslog_sd_escape(const char *s, struct strbuf *out);
/* Appends s as a header field (HOSTNAME, ...): printable US-ASCII only,
 * at most max characters, "-" when empty. */
void syslog_header_field(const char *s, size_t max, struct strbuf *out);

#endif
