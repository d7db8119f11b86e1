/* strbuf.h - a growable byte buffer for building outgoing messages.
 *
 * Like the JSON writer's buffer it grows by doubling and is reused
 * message after message, so in steady state building a message allocates
 * nothing. After a failed allocation `oom` is set and the content is
 * unusable until the next reset. The content is always NUL-terminated. */
#ifndef APPLEMON_STRBUF_H
#define APPLEMON_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf {
	char *buf;
	size_t len, cap;
	bool oom;
};

void sb_init(struct strbuf *b);
void sb_free(struct strbuf *b);
void sb_reset(struct strbuf *b);
void sb_put(struct strbuf *b, const void *s, size_t n);
void sb_puts(struct strbuf *b, const char *s);
void sb_putc(struct strbuf *b, char c);
__attribute__((format(printf, 2, 3)))
void sb_printf(struct strbuf *b, const char *fmt, ...);

/* Length of the valid UTF-8 sequence starting at s (1..4), or 0 when the
 * bytes there are not valid UTF-8 (overlong, surrogate, truncated). */
size_t utf8_seq_len(const unsigned char *s, size_t n);

#endif
