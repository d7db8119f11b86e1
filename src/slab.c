/* slab.c - fixed-size objects from large, hugepage-advised blocks.
 *
 * Blocks are 2 MiB, mapped 2 MiB-aligned (a huge page can only back an
 * aligned range) and advised MADV_HUGEPAGE. Objects are carved from the
 * newest block in order; freed ones are chained through their first word.
 * Blocks are chained through a header at their start. */
#include "slab.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#define SLAB_PER_OBJECT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLAB_PER_OBJECT 1
#endif
#endif

#define BLOCK_SIZE ((size_t)2 << 20)
#define BLOCK_HEADER 64              /* keeps objects cache-line aligned */

struct free_obj {
	struct free_obj *next;
};

struct slab {
	size_t obj_size;
	size_t per_block;            /* objects in one block */
	char *block;                 /* newest block (its header links the older ones) */
	size_t carved;               /* objects carved from the newest block */
	struct free_obj *free_list;
	size_t in_use;
};

#ifndef SLAB_PER_OBJECT
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
#endif

void *huge_zalloc(size_t size)
{
	if (size < BLOCK_SIZE)
		return calloc(1, size);
#ifdef SLAB_PER_OBJECT
	return calloc(1, size);
#else
	size_t rounded = (size + BLOCK_SIZE - 1) & ~(BLOCK_SIZE - 1);
	return map_aligned(rounded);   /* anonymous memory comes zeroed */
#endif
}

void huge_free(void *p, size_t size)
{
	if (!p)
		return;
#ifndef SLAB_PER_OBJECT
	if (size >= BLOCK_SIZE) {
		munmap(p, (size + BLOCK_SIZE - 1) & ~(BLOCK_SIZE - 1));
		return;
	}
#else
	(void)size;
#endif
	free(p);
}

struct slab *slab_new(size_t obj_size)
{
	if (obj_size == 0 || obj_size > BLOCK_SIZE - BLOCK_HEADER)
		return NULL;
	struct slab *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->obj_size = (obj_size + 7) & ~(size_t)7;
	s->per_block = (BLOCK_SIZE - BLOCK_HEADER) / s->obj_size;
	s->carved = s->per_block;    /* no block yet */
	return s;
}

void slab_destroy(struct slab *s)
{
	if (!s)
		return;
	char *b = s->block;
	while (b) {
		char *older;
		memcpy(&older, b, sizeof(older));
		munmap(b, BLOCK_SIZE);
		b = older;
	}
	free(s);
}

static void *take(struct slab *s, bool zero)
{
#ifdef SLAB_PER_OBJECT
	void *obj = zero ? calloc(1, s->obj_size) : malloc(s->obj_size);
	if (obj)
		s->in_use++;
	return obj;
#else
	void *obj;
	if (s->free_list) {
		obj = s->free_list;
		s->free_list = s->free_list->next;
		if (zero)
			memset(obj, 0, s->obj_size);
	} else {
		if (s->carved == s->per_block) {
			char *b = map_aligned(BLOCK_SIZE);
			if (!b)
				return NULL;
			memcpy(b, &s->block, sizeof(s->block));
			s->block = b;
			s->carved = 0;
		}
		obj = s->block + BLOCK_HEADER + s->carved++ * s->obj_size;   /* never used: zero */
	}
	s->in_use++;
	return obj;
#endif
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
#ifdef SLAB_PER_OBJECT
	free(obj);
#else
	struct free_obj *f = obj;
	f->next = s->free_list;
	s->free_list = f;
#endif
}

size_t slab_in_use(const struct slab *s)
{
	return s->in_use;
}
