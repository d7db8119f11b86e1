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
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

struct strbuf {
	char *buf;
	size_t len, cap;
	bool oom;
};

void sb_init(struct strbuf *b);
void sb_free(struct strbuf *b);
void sb_reset(struct strbuf *b);
/* Room for extra more bytes and the NUL (false, and oom set, when there is
 * none to be had); sb_reserve is its inline fast path. */
bool sb_grow(struct strbuf *b, size_t extra);

static inline bool sb_reserve(struct strbuf *b, size_t extra)
{
	if (__builtin_expect(!b->oom && b->len + extra + 1 <= b->cap, 1))
		return true;
	return sb_grow(b, extra);
}

/* memcpy for the short pieces messages are built of: up to 16 bytes in
 * two overlapping moves rather than a call. */
static inline void sb_copy(char *d, const void *src, size_t n)
{
	const char *s = (const char *)src;
	if (n > 16) {
		memcpy(d, s, n);
	} else if (n >= 8) {
		uint64_t a, z;
		memcpy(&a, s, 8);
		memcpy(&z, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &z, 8);
	} else if (n >= 4) {
		uint32_t a, z;
		memcpy(&a, s, 4);
		memcpy(&z, s + n - 4, 4);
		memcpy(d, &a, 4);
		memcpy(d + n - 4, &z, 4);
	} else {
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
	}
}

static inline void sb_put(struct strbuf *b, const void *s, size_t n)
{
	if (!sb_reserve(b, n))
		return;
	sb_copy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

static inline void sb_puts(struct strbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static inline void sb_putc(struct strbuf *b, char c)
{
	if (!sb_reserve(b, 1))
		return;
	b->buf[b->len++] = c;
	b->buf[b->len] = '\0';
}

__attribute__((format(printf, 2, 3)))
void sb_printf(struct strbuf *b, const char *fmt, ...);

/* Decimal digits of v, written backwards ending just before end (room for
 * 20); returns where they start. Two digits a step. */
static inline char *sb_utoa_end(uint64_t v, char *end)
{
	static const char pairs[201] = "00010203040506070809101112131415161718192021222324"
				       "25262728293031323334353637383940414243444546474849"
				       "50515253545556575859606162636465666768697071727374"
				       "75767778798081828384858687888990919293949596979899";
	char *p = end;
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);
		v /= 100;
		p -= 2;
		memcpy(p, pairs + 2 * r, 2);
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, pairs + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	return p;
}

/* Length of the valid UTF-8 sequence starting at s (1..4), or 0 when the
 * bytes there are not valid UTF-8 (overlong, surrogate, truncated). */
size_t utf8_seq_len(const unsigned char *s, size_t n);

/* How many bytes from s on (of n) are printable ASCII, 0x20 to 0x7e, other
 * than c1, c2 and c3: the run an escaper copies as it is. 16 bytes at a
 * time where SSE2 is there, then 8, then one by one; never reads past
 * s + n. */
#define SB_ONES 0x0101010101010101ull
#define SB_HIGHS 0x8080808080808080ull

static inline uint64_t sb_zero_bytes_(uint64_t v)
{
	return (v - SB_ONES) & ~v & SB_HIGHS;   /* exact up to the first zero byte */
}

/* The bytes of x that are not plain (their high bits); each test is exact
 * for its lowest hit, so the lowest set bit is the first such byte in
 * memory order on a little-endian machine. */
static inline uint64_t sb_bad_bytes_(uint64_t x, unsigned char c1, unsigned char c2,
				     unsigned char c3)
{
	return (x & SB_HIGHS) | ((x - SB_ONES * 0x20) & ~x & SB_HIGHS) |
	       sb_zero_bytes_(x ^ (SB_ONES * 0x7f)) | sb_zero_bytes_(x ^ (SB_ONES * c1)) |
	       sb_zero_bytes_(x ^ (SB_ONES * c2)) | sb_zero_bytes_(x ^ (SB_ONES * c3));
}

static inline size_t plain_span(const unsigned char *s, size_t n, unsigned char c1,
				unsigned char c2, unsigned char c3)
{
	size_t i = 0;
#if defined(__SSE2__)
	const __m128i below = _mm_set1_epi8(0x20), above = _mm_set1_epi8(0x7e);
	const __m128i e1 = _mm_set1_epi8((char)c1), e2 = _mm_set1_epi8((char)c2),
		      e3 = _mm_set1_epi8((char)c3);
	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		/* signed compares: bytes from 0x80 on are negative, below 0x20 */
		__m128i bad = _mm_or_si128(_mm_cmplt_epi8(v, below), _mm_cmpgt_epi8(v, above));
		bad = _mm_or_si128(bad, _mm_or_si128(_mm_cmpeq_epi8(v, e1), _mm_cmpeq_epi8(v, e2)));
		bad = _mm_or_si128(bad, _mm_cmpeq_epi8(v, e3));
		unsigned m = (unsigned)_mm_movemask_epi8(bad);
		if (m)
			return i + (size_t)__builtin_ctz(m);
	}
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t x, bad;
	for (; i + 8 <= n; i += 8) {
		memcpy(&x, s + i, 8);
		bad = sb_bad_bytes_(x, c1, c2, c3);
		if (bad)
			return i + (size_t)(__builtin_ctzll(bad) >> 3);
	}
	if (i == n)
		return n;
	if (n >= 8) {
		/* the last 8 bytes, overlapping bytes already found plain */
		memcpy(&x, s + n - 8, 8);
		bad = sb_bad_bytes_(x, c1, c2, c3);
		return bad ? n - 8 + (size_t)(__builtin_ctzll(bad) >> 3) : n;
	}
	if (n >= 4) {
		/* s[0..3] in the low half, s[n-4..n-1] in the high half */
		uint32_t lo, hi;
		memcpy(&lo, s, 4);
		memcpy(&hi, s + n - 4, 4);
		bad = sb_bad_bytes_((uint64_t)lo | (uint64_t)hi << 32, c1, c2, c3);
		if (!bad)
			return n;
		size_t k = (size_t)(__builtin_ctzll(bad) >> 3);
		return k < 4 ? k : n - 8 + k;
	}
#endif
	while (i < n && s[i] >= 0x20 && s[i] < 0x7f && s[i] != c1 && s[i] != c2 && s[i] != c3)
		i++;
	return i;
}

#endif
