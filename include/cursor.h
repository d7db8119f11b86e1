/* cursor.h - the one bounds-checked byte reader every parser uses.
 *
 * A cursor is a window [p, p+len) and a read offset. Every getter checks
 * the bytes are there first; a read past the end returns zero and sets the
 * sticky `err` flag instead of touching memory. A parser reads freely and
 * checks `err` once at the points where a value is about to be trusted.
 * No parser in applemon does pointer arithmetic on packet bytes itself, but
 * for the decoder's fast path (src/decode_fast.c), which checks each offset
 * against the captured length and is tested to match the cursor-based
 * decoder exactly. */
#ifndef APPLEMON_CURSOR_H
#define APPLEMON_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cursor {
	const uint8_t *p;   /* first byte of the window */
	size_t len;         /* bytes in the window */
	size_t off;         /* next byte to read */
	bool err;           /* a read ran past the end (sticky) */
};

static inline struct cursor cur_make(const uint8_t *p, size_t len)
{
	struct cursor c = { p, p ? len : 0, 0, false };
	return c;
}

static inline size_t cur_left(const struct cursor *c)
{
	return c->err ? 0 : c->len - c->off;
}

static inline bool cur_has(const struct cursor *c, size_t n)
{
	return !c->err && c->len - c->off >= n;
}

/* Pointer to the next unread byte (valid only while cur_left() > 0). */
static inline const uint8_t *cur_pos(const struct cursor *c)
{
	return c->p + c->off;
}

static inline bool cur_skip(struct cursor *c, size_t n)
{
	if (!cur_has(c, n)) {
		c->err = true;
		return false;
	}
	c->off += n;
	return true;
}

static inline uint8_t cur_u8(struct cursor *c)
{
	if (!cur_has(c, 1)) {
		c->err = true;
		return 0;
	}
	return c->p[c->off++];
}

static inline uint16_t cur_be16(struct cursor *c)
{
	if (!cur_has(c, 2)) {
		c->err = true;
		return 0;
	}
	uint16_t v = (uint16_t)((c->p[c->off] << 8) | c->p[c->off + 1]);
	c->off += 2;
	return v;
}

static inline uint16_t cur_le16(struct cursor *c)
{
	if (!cur_has(c, 2)) {
		c->err = true;
		return 0;
	}
	uint16_t v = (uint16_t)(c->p[c->off] | (c->p[c->off + 1] << 8));
	c->off += 2;
	return v;
}

static inline uint32_t cur_be24(struct cursor *c)
{
	if (!cur_has(c, 3)) {
		c->err = true;
		return 0;
	}
	const uint8_t *b = c->p + c->off;
	c->off += 3;
	return ((uint32_t)b[0] << 16) | ((uint32_t)b[1] << 8) | b[2];
}

static inline uint32_t cur_be32(struct cursor *c)
{
	if (!cur_has(c, 4)) {
		c->err = true;
		return 0;
	}
	const uint8_t *b = c->p + c->off;
	c->off += 4;
	return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

static inline uint32_t cur_le32(struct cursor *c)
{
	if (!cur_has(c, 4)) {
		c->err = true;
		return 0;
	}
	const uint8_t *b = c->p + c->off;
	c->off += 4;
	return ((uint32_t)b[3] << 24) | ((uint32_t)b[2] << 16) | ((uint32_t)b[1] << 8) | b[0];
}

/* Peek without consuming; returns 0 and leaves err untouched if short. */
static inline uint8_t cur_peek_u8(const struct cursor *c, size_t at)
{
	return cur_has(c, at + 1) ? c->p[c->off + at] : 0;
}

/* Take n bytes: returns a pointer to them and advances, or NULL (err set). */
static inline const uint8_t *cur_take(struct cursor *c, size_t n)
{
	if (!cur_has(c, n)) {
		c->err = true;
		return NULL;
	}
	const uint8_t *b = c->p + c->off;
	c->off += n;
	return b;
}

/* Split off the next n bytes as a cursor of their own and advance past them.
 * On a short read the returned cursor is empty and both carry err. */
static inline struct cursor cur_sub(struct cursor *c, size_t n)
{
	const uint8_t *b = cur_take(c, n);
	struct cursor s = cur_make(b, b ? n : 0);
	s.err = (b == NULL);
	return s;
}

/* A cursor over the bytes from the current offset to the end. */
static inline struct cursor cur_rest(const struct cursor *c)
{
	return cur_make(c->p + c->off, cur_left(c));
}

#endif
