/* slab.h - fixed-size objects from large, hugepage-advised blocks.
 *
 * The per-flow structures (flows, their engine state, reassembly buffers)
 * are allocated and freed at packet rate. From malloc each new object lands
 * on a fresh 4 KiB page sooner or later, and every first touch of a page is
 * a page fault: a 400 MB capture took 7,000-10,000 of them, a fifth of the
 * run on a virtual machine where one costs about 10 us. A slab takes memory
 * in blocks (a first one of 128 KiB, then 2 MiB ones) that the kernel may
 * back with one huge page each
 * (MADV_HUGEPAGE, where transparent huge pages are enabled for madvise), so
 * the same objects cost a few faults and fewer TLB misses; freed objects go
 * on a free list and are handed out again first (the most recently freed,
 * still in cache, comes back first).
 *
 * A slab belongs to one thread (an engine). Memory goes back to the system
 * only at slab_destroy: how much a slab can hold is bounded by what its
 * owner bounds (flows by [flows] max, windows and QUIC states by their caps).
 *
 * Built with AddressSanitizer, objects have poisoned red zones and freed
 * ones stay poisoned, so overflows and use after free stay visible to the
 * sanitizer (slab.c). */
#ifndef APPLEMON_SLAB_H
#define APPLEMON_SLAB_H

#include <stddef.h>

struct slab;

/* Objects of obj_size bytes (rounded up to 8). NULL if memory ran out. */
struct slab *slab_new(size_t obj_size);
/* Every block back to the system; objects still out become invalid. */
void slab_destroy(struct slab *s);

/* A zeroed object, or NULL if memory ran out. */
void *slab_zalloc(struct slab *s);
/* An object with unspecified contents (for buffers the owner fills). */
void *slab_alloc(struct slab *s);
void slab_free(struct slab *s, void *obj);

/* Objects handed out and not freed. */
size_t slab_in_use(const struct slab *s);

#define CACHE_LINE 64

/* Zeroed memory of `size` bytes in cache lines of its own (freed with
 * free): for a thread's hot state (counters, list heads), which must not
 * share a line with what another thread writes - on the per-packet path a
 * line that bounces between cores costs more than all the work on it. */
void *line_zalloc(size_t size);

/* Zeroed memory of `size` bytes straight from the system, hugepage-advised
 * when at least 2 MiB (large tables such as the flow hash buckets); freed
 * with huge_free and the same size. */
void *huge_zalloc(size_t size);
void huge_free(void *p, size_t size);

#endif
