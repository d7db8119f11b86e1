/* spool.h - a bounded on-disk queue of messages for one sink.
 *
 * One file: a 16-byte header ("AMSPOOL1" and the offset of the oldest
 * unread message), then messages as a 4-byte length and the bytes. Reading
 * moves the offset; the header is rewritten after each batch, and the file
 * is cut back to its header once everything was read. A spool left by an
 * earlier run is picked up where it stopped (a message read but not yet
 * committed comes again: a duplicate, never a loss). */
#ifndef APPLEMON_SPOOL_H
#define APPLEMON_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "strbuf.h"

struct spool;

struct spool *spool_open(const char *path, uint64_t max_bytes, char *err, size_t errlen);
void spool_close(struct spool *s);

/* false when the spool is full or the write failed (nothing was added). */
bool spool_append(struct spool *s, const void *data, size_t len);
/* The same, the message given in parts (written one after the other). */
bool spool_append_parts(struct spool *s, const struct iovec *parts, int n);
/* Reads the oldest unread message into out (replacing its content); false
 * when there is none or the file is damaged (then the rest is given up). */
bool spool_read(struct spool *s, struct strbuf *out);
/* Records the read position on disk; cuts the file when all was read.
 * Writes what was appended. */
void spool_commit(struct spool *s);
/* Appends are written in chunks of 256 KiB; this writes the rest now (the
 * delivery loop calls it every 100 ms, so a crash loses at most that). */
bool spool_flush(struct spool *s);

/* Puts the first of n messages, as many as fit in its size, before every
 * unread one (they are older: the sink's memory at shutdown), in order;
 * returns how many. In the room that read messages left when it is big
 * enough, else by writing the spool anew. */
size_t spool_prepend(struct spool *s, const void *const *data, const size_t *lens, size_t n);
/* Messages that were accepted but then lost - a failed write, a damaged
 * file - since the last call: the caller counts them dropped. */
uint64_t spool_take_lost(struct spool *s);

uint64_t spool_pending(const struct spool *s);      /* messages not yet read */
uint64_t spool_bytes(const struct spool *s);        /* file size past the header */
const char *spool_path(const struct spool *s);

#endif
