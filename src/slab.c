/* slab.c - fixed-size objects from large, hugepage-advised blocks.
 *
 * The first block is 128 KiB, so that a slab that holds a few objects (a
 * quiet link, a test, one fuzz input) costs little; the next ones are
 * 2 MiB, mapped 2 MiB-aligned (a huge page can only back an aligned range)
 * and advised MADV_HUGEPAGE. Objects are carved from the newest block in
 * order; freed ones are chained through their first word. Blocks are
 * chained through a header at their start.
 *
 * Built with AddressSanitizer, each object is followed by a poisoned red
 * zone and a freed object stays poisoned until it is handed out again, so
 * an overflow past an object or a use after free is reported as it would be
 * for malloc'd memory (what is not reported: a leak of one object, since
 * the blocks go back whole at slab_destroy; and a freed object is reused at
 * once rather than after a quarantine). */
#include "slab.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#define SLAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLAB_ASAN 1
#endif
#endif

#ifdef SLAB_ASAN
#include <sanitizer/asan_interface.h>
#define REDZONE 32
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define REDZONE 0
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define BLOCK_SIZE ((size_t)2 << 20)
#define FIRST_BLOCK ((size_t)128 << 10)   /* a slab that holds few objects stays small */
#define BLOCK_HEADER 64              /* keeps the first object cache-line aligned */

struct block_header {
	char *older;                 /* the block carved before this one */
	size_t size;                 /* bytes mapped */
};

struct free_obj {
	struct free_obj *next;
};

struct slab {
	size_t obj_size;             /* what the owner asked for, rounded up to 8 */
	size_t stride;               /* obj_size plus the red zone (sanitizer builds) */
	size_t per_block;            /* objects in the newest block */
	char *block;                 /* newest block (its header links the older ones) */
	size_t carved;               /* objects carved from the newest block */
	struct free_obj *free_list;
	size_t in_use;
};

/* A mapping of `size` bytes aligned to BLOCK_SIZE: over-map, trim both ends. */
static void *map_aligned(size_t size)
{
	size_t span = size + BLOCK_SIZE;
	char *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	uintptr_t start = ((uintptr_t)p + BLOCK_SIZE - 1) & ~(uintptr_t)(BLOCK_SIZE - 1);
	size_t head = start - (uintptr_t)p;
	if (head)
		munmap(p, head);
	size_t tail = span - head - size;
	if (tail)
		munmap((char *)start + size, tail);
#ifdef MADV_HUGEPAGE
	madvise((void *)start, size, MADV_HUGEPAGE);   /* advice: failure changes nothing */
#endif
	return (void *)start;
}

static size_t round_block(size_t size)
{
	return (size + BLOCK_SIZE - 1) & ~(BLOCK_SIZE - 1);
}

void *huge_zalloc(size_t size)
{
	if (size < BLOCK_SIZE)
		return calloc(1, size);
	return map_aligned(round_block(size));   /* anonymous memory comes zeroed */
}

void huge_free(void *p, size_t size)
{
	if (!p)
		return;
	if (size < BLOCK_SIZE)
		free(p);
	else
		munmap(p, round_block(size));
}

void *line_zalloc(size_t size)
{
	size_t rounded = (size + CACHE_LINE - 1) & ~(size_t)(CACHE_LINE - 1);
	void *p = aligned_alloc(CACHE_LINE, rounded ? rounded : CACHE_LINE);
	if (p)
		memset(p, 0, rounded);
	return p;
}

struct slab *slab_new(size_t obj_size)
{
	if (obj_size == 0 || obj_size > BLOCK_SIZE / 2)
		return NULL;
	struct slab *s = line_zalloc(sizeof(*s));
	if (!s)
		return NULL;
	s->obj_size = (obj_size + 7) & ~(size_t)7;
	s->stride = s->obj_size + REDZONE;
	s->carved = s->per_block = 0;   /* no block yet */
	return s;
}

void slab_destroy(struct slab *s)
{
	if (!s)
		return;
	char *b = s->block;
	while (b) {
		struct block_header h;
		memcpy(&h, b, sizeof(h));
		UNPOISON(b, h.size);         /* the range may be mapped again later */
		munmap(b, h.size);
		b = h.older;
	}
	free(s);
}

static void *take(struct slab *s, bool zero)
{
	void *obj;
	if (s->free_list) {
		obj = s->free_list;
		UNPOISON(obj, s->obj_size);
		s->free_list = s->free_list->next;
		if (zero)
			memset(obj, 0, s->obj_size);
	} else {
		if (s->carved == s->per_block) {
			/* The first block is small (unless one object needs more);
			 * the next ones are huge-page sized. */
			struct block_header h = { s->block, BLOCK_SIZE };
			char *b;
			if (!s->block && BLOCK_HEADER + s->stride <= FIRST_BLOCK) {
				h.size = FIRST_BLOCK;
				b = mmap(NULL, h.size, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
				if (b == MAP_FAILED)
					b = NULL;
			} else {
				b = map_aligned(BLOCK_SIZE);
			}
			if (!b)
				return NULL;
			memcpy(b, &h, sizeof(h));
			POISON(b + BLOCK_HEADER, h.size - BLOCK_HEADER);
			s->block = b;
			s->carved = 0;
			s->per_block = (h.size - BLOCK_HEADER) / s->stride;
		}
		obj = s->block + BLOCK_HEADER + s->carved++ * s->stride;   /* never used: zero */
		UNPOISON(obj, s->obj_size);
	}
	s->in_use++;
	return obj;
}

void *slab_zalloc(struct slab *s)
{
	return take(s, true);
}

void *slab_alloc(struct slab *s)
{
	return take(s, false);
}

void slab_free(struct slab *s, void *obj)
{
	if (!obj)
		return;
	s->in_use--;
	struct free_obj *f = obj;
	f->next = s->free_list;
	s->free_list = f;
	POISON(obj, s->obj_size);    /* take() unpoisons it before reading the link */
}

size_t slab_in_use(const struct slab *s)
{
	return s->in_use;
}
