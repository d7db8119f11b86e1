/* text.h - small text helpers the parsers share.
 *
 * Names taken from packets are stored as printable text: lowercase, bytes
 * outside a protocol's plain set written as \DDD (three decimal digits), the
 * whole thing bounded by the caller's buffer. TLS (SNI, ALPN), QUIC and HTTP
 * (Host) build their strings through these, so a name reads the same
 * whichever protocol carried it. Configuration and signature files read
 * their numbers with text_parse_decimal. */
#ifndef APPLEMON_TEXT_H
#define APPLEMON_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cursor.h"

/* Bounded string builder: an append that does not fit sets `overflow`
 * (sticky) instead of writing; out stays NUL-terminated. */
struct text_buf {
	char *out;
	size_t cap;     /* bytes in out, NUL included */
	size_t len;
	bool overflow;
};

/* A builder over out[cap] (cap >= 1), which it empties. */
struct text_buf text_buf_over(char *out, size_t cap);
void text_putc(struct text_buf *b, char c);
/* byte as \DDD */
void text_put_escaped(struct text_buf *b, uint8_t byte);

/* Store a host name from packet bytes: lowercase, one trailing dot dropped,
 * letters, digits and "-_.*:" kept, and the bytes of also_plain too; any
 * other byte as \DDD. false (out left "") if the name is empty, does not
 * fit, or the cursor ran short. */
bool text_copy_host(struct cursor name, char *out, size_t cap, const char *also_plain);

/* Strict decimal: digits only, no sign or spaces, within [min, max]. */
bool text_parse_decimal(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
