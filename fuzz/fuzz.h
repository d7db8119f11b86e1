/* fuzz.h - what the libFuzzer targets share: the framing of their inputs.
 *
 * Targets that take more than one buffer (packets, datagrams) read their
 * input as records [u16 big-endian length][bytes], a length past the end
 * meaning "the rest". A leading byte picks a link type (fuzz_linktype: the
 * byte modulo the table's size), so mutating that byte moves a frame to
 * another decoder. scripts/fuzz-seeds writes seeds in the same framing. */
#ifndef APPLEMON_FUZZ_H
#define APPLEMON_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

/* Index = the byte scripts/fuzz-seeds writes (keep the two in step); the
 * last entry is a link type the decoder refuses. */
static inline int fuzz_linktype(uint8_t b)
{
	static const int types[] = {
		LINK_ETHERNET, LINK_LINUX_SLL, LINK_LINUX_SLL2, LINK_RAW, LINK_NULL, LINK_LOOP,
		LINK_PPP, LINK_IPV4, LINK_IPV6, LINK_RAW_ALT, 105 /* 802.11 */,
	};
	return types[b % (sizeof(types) / sizeof(types[0]))];
}

struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

/* Next byte, or -1 at the end. */
static inline int fuzz_u8(struct fuzz_in *in)
{
	if (in->left == 0)
		return -1;
	in->left--;
	return *in->p++;
}

/* Next record: false at the end of the input. */
static inline bool fuzz_record(struct fuzz_in *in, const uint8_t **rec, size_t *len)
{
	if (in->left < 2) {
		in->left = 0;
		return false;
	}
	size_t n = (size_t)in->p[0] << 8 | in->p[1];
	in->p += 2;
	in->left -= 2;
	if (n > in->left)
		n = in->left;
	*rec = in->p;
	*len = n;
	in->p += n;
	in->left -= n;
	return true;
}

/* A heap copy of exactly len bytes, so that AddressSanitizer catches a read
 * one byte past a record that sits in the middle of the fuzzer's input. */
static inline uint8_t *fuzz_dup(const uint8_t *p, size_t len)
{
	uint8_t *d = malloc(len ? len : 1);
	if (d && len)
		memcpy(d, p, len);
	return d;
}

/* The same, NUL-terminated, for the text readers. */
static inline char *fuzz_strdup(const uint8_t *p, size_t len)
{
	char *d = malloc(len + 1);
	if (d) {
		memcpy(d, p, len);
		d[len] = '\0';
	}
	return d;
}

/* A check of the target's own failed: stop with a crash the fuzzer keeps. */
#define FUZZ_ASSERT(cond) do { if (!(cond)) __builtin_trap(); } while (0)

#endif
