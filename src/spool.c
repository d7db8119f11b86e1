/* spool.c - bounded on-disk message queue (see spool.h). */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAGIC "AMSPOOL1"
#define HDR 16u
#define MSG_MAX (16u << 20)
#define CHUNK (256u << 10)   /* appends are written, and reads made, this many bytes at a time */

struct spool {
	int fd;
	char path[512];
	uint64_t max_bytes;
	uint64_t read_off, end_off;   /* absolute file offsets; end_off: what is on disk */
	uint64_t pending;             /* messages not yet read, on disk or in wbuf */
	struct strbuf wbuf;           /* appended, not yet written (at end_off) */
	uint64_t wbuf_count;
	struct strbuf rbuf;           /* read ahead from rbuf_off */
	uint64_t rbuf_off;
	uint64_t lost;                /* messages lost to write errors or damage, not yet taken */
};

/* Writes the appended messages; on failure they are lost (spool_take_lost
 * tells the caller, which counts them dropped). */
bool spool_flush(struct spool *s)
{
	if (s->wbuf.len == 0)
		return true;
	bool ok = !s->wbuf.oom &&
		  pwrite(s->fd, s->wbuf.buf, s->wbuf.len, (off_t)s->end_off) == (ssize_t)s->wbuf.len;
	if (ok) {
		s->end_off += s->wbuf.len;
	} else {
		if (ftruncate(s->fd, (off_t)s->end_off) != 0)
			ok = false;
		s->pending -= s->wbuf_count;
		s->lost += s->wbuf_count;
	}
	sb_reset(&s->wbuf);
	s->wbuf_count = 0;
	return ok;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static bool write_header(struct spool *s)
{
	uint8_t h[HDR];
	memcpy(h, MAGIC, 8);
	put64(h + 8, s->read_off);
	return pwrite(s->fd, h, HDR, 0) == (ssize_t)HDR;
}

/* Counts the messages after read_off; cuts a torn last message. */
static void scan(struct spool *s)
{
	uint64_t off = s->read_off;
	s->pending = 0;
	for (;;) {
		uint8_t len[4];
		if (off + 4 > s->end_off || pread(s->fd, len, 4, (off_t)off) != 4)
			break;
		uint32_t n = (uint32_t)len[0] | (uint32_t)len[1] << 8 | (uint32_t)len[2] << 16 |
			     (uint32_t)len[3] << 24;
		if (n > MSG_MAX || off + 4 + n > s->end_off)
			break;
		off += 4 + n;
		s->pending++;
	}
	if (off != s->end_off && ftruncate(s->fd, (off_t)off) == 0)
		s->end_off = off;
}

struct spool *spool_open(const char *path, uint64_t max_bytes, char *err, size_t errlen)
{
	struct spool *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->max_bytes = max_bytes;
	s->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->fd < 0) {
		snprintf(err, errlen, "%s: cannot open spool: %s", path, strerror(errno));
		free(s);
		return NULL;
	}
	struct stat st;
	uint8_t h[HDR];
	if (fstat(s->fd, &st) == 0 && st.st_size >= (off_t)HDR &&
	    pread(s->fd, h, HDR, 0) == (ssize_t)HDR && memcmp(h, MAGIC, 8) == 0) {
		s->end_off = (uint64_t)st.st_size;
		s->read_off = get64(h + 8);
		if (s->read_off < HDR || s->read_off > s->end_off)
			s->read_off = HDR;
		scan(s);
	} else {
		s->read_off = s->end_off = HDR;
		if (ftruncate(s->fd, HDR) != 0 || !write_header(s)) {
			snprintf(err, errlen, "%s: cannot write spool: %s", path, strerror(errno));
			close(s->fd);
			free(s);
			return NULL;
		}
	}
	return s;
}

void spool_close(struct spool *s)
{
	if (!s)
		return;
	spool_commit(s);
	close(s->fd);
	sb_free(&s->wbuf);
	sb_free(&s->rbuf);
	free(s);
}

bool spool_append_parts(struct spool *s, const struct iovec *parts, int n)
{
	size_t len = 0;
	for (int i = 0; i < n; i++)
		len += parts[i].iov_len;
	if (len > MSG_MAX || s->end_off + s->wbuf.len - HDR + 4 + len > s->max_bytes)
		return false;
	uint8_t hdr[4] = { (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16),
			   (uint8_t)(len >> 24) };
	if (sb_reserve(&s->wbuf, 4 + len)) {
		sb_put(&s->wbuf, hdr, 4);
		for (int i = 0; i < n; i++)
			sb_put(&s->wbuf, parts[i].iov_base, parts[i].iov_len);
	}
	if (s->wbuf.oom) {
		/* what was buffered before is gone as well */
		sb_reset(&s->wbuf);
		s->pending -= s->wbuf_count;
		s->lost += s->wbuf_count;
		s->wbuf_count = 0;
		return false;
	}
	s->pending++;
	s->wbuf_count++;
	if (s->wbuf.len >= CHUNK)
		spool_flush(s);
	return true;
}

bool spool_append(struct spool *s, const void *data, size_t len)
{
	struct iovec part = { (void *)data, len };
	return spool_append_parts(s, &part, 1);
}

/* Makes [off, off + n) available in rbuf; false on a short read. */
static bool read_at(struct spool *s, uint64_t off, size_t n, const char **p)
{
	if (off < s->rbuf_off || off + n > s->rbuf_off + s->rbuf.len) {
		size_t want = n > CHUNK ? n : CHUNK;
		if (off + want > s->end_off)
			want = (size_t)(s->end_off - off);
		if (want < n)
			return false;
		sb_reset(&s->rbuf);
		sb_put(&s->rbuf, "", 0);
		if (s->rbuf.oom || s->rbuf.cap < want + 1) {
			char *nb = realloc(s->rbuf.buf, want + 1);
			if (!nb)
				return false;
			s->rbuf.buf = nb;
			s->rbuf.cap = want + 1;
		}
		ssize_t got = pread(s->fd, s->rbuf.buf, want, (off_t)off);
		if (got < (ssize_t)n) {
			s->rbuf.len = 0;
			return false;
		}
		s->rbuf.len = (size_t)got;
		s->rbuf_off = off;
	}
	*p = s->rbuf.buf + (off - s->rbuf_off);
	return true;
}

bool spool_read(struct spool *s, struct strbuf *out)
{
	if (s->pending == 0)
		return false;
	if (s->read_off >= s->end_off && !spool_flush(s))
		return false;
	const char *p;
	if (!read_at(s, s->read_off, 4, &p))
		goto damaged;
	const uint8_t *len = (const uint8_t *)p;
	uint32_t n = (uint32_t)len[0] | (uint32_t)len[1] << 8 | (uint32_t)len[2] << 16 |
		     (uint32_t)len[3] << 24;
	if (n > MSG_MAX || s->read_off + 4 + n > s->end_off)
		goto damaged;
	if (!read_at(s, s->read_off + 4, n, &p))
		goto damaged;
	sb_reset(out);
	sb_put(out, p, n);
	if (out->oom)
		return false;
	s->read_off += 4 + n;
	s->pending--;
	return !out->oom;
damaged:
	s->lost += s->pending - s->wbuf_count;
	s->pending = s->wbuf_count;
	s->read_off = s->end_off;
	return false;
}

void spool_commit(struct spool *s)
{
	if (s->pending == 0 && s->read_off >= s->end_off && s->wbuf.len == 0) {
		if (s->end_off != HDR && ftruncate(s->fd, HDR) == 0)
			s->end_off = HDR;
		s->read_off = HDR;
		s->rbuf.len = 0;
	}
	spool_flush(s);
	write_header(s);
}

uint64_t spool_take_lost(struct spool *s)
{
	uint64_t n = s->lost;
	s->lost = 0;
	return n;
}

/* Writes n messages, encoded, from offset off of fd. */
static bool write_messages(int fd, uint64_t off, const void *const *data, const size_t *lens,
			   size_t n)
{
	struct strbuf b;
	sb_init(&b);
	bool ok = true;
	for (size_t i = 0; i < n && ok; i++) {
		uint8_t hdr[4] = { (uint8_t)lens[i], (uint8_t)(lens[i] >> 8), (uint8_t)(lens[i] >> 16),
				   (uint8_t)(lens[i] >> 24) };
		sb_put(&b, hdr, 4);
		sb_put(&b, data[i], lens[i]);
		if (b.len >= CHUNK || i + 1 == n) {
			ok = !b.oom && pwrite(fd, b.buf, b.len, (off_t)off) == (ssize_t)b.len;
			off += b.len;
			sb_reset(&b);
		}
	}
	sb_free(&b);
	return ok;
}

/* Copies [from, to) of in to out at out_off. */
static bool copy_range(int in, uint64_t from, uint64_t to, int out, uint64_t out_off)
{
	char buf[64 << 10];
	while (from < to) {
		size_t want = to - from < sizeof(buf) ? (size_t)(to - from) : sizeof(buf);
		ssize_t got = pread(in, buf, want, (off_t)from);
		if (got <= 0 || pwrite(out, buf, (size_t)got, (off_t)out_off) != got)
			return false;
		from += (uint64_t)got;
		out_off += (uint64_t)got;
	}
	return true;
}

size_t spool_prepend(struct spool *s, const void *const *data, const size_t *lens, size_t n)
{
	if (!spool_flush(s))
		return 0;
	uint64_t unread = s->end_off - s->read_off, total = 0;
	size_t k = 0;
	for (; k < n; k++) {
		if (lens[k] > MSG_MAX || unread + total + 4 + lens[k] > s->max_bytes)
			break;
		total += 4 + lens[k];
	}
	if (k == 0)
		return 0;
	if (total <= s->read_off - HDR) {
		/* room where read messages were: put them just before the unread */
		uint64_t off = s->read_off - total;
		if (!write_messages(s->fd, off, data, lens, k))
			return 0;
		s->read_off = off;
		s->pending += k;
		s->rbuf.len = 0;
		write_header(s);
		return k;
	}
	/* else a new file: header, these, then the unread part of the old one */
	char tmp[sizeof(s->path) + 8];
	snprintf(tmp, sizeof(tmp), "%s.new", s->path);
	int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return 0;
	uint8_t h[HDR];
	memcpy(h, MAGIC, 8);
	put64(h + 8, HDR);
	bool ok = pwrite(fd, h, HDR, 0) == (ssize_t)HDR && write_messages(fd, HDR, data, lens, k) &&
		  copy_range(s->fd, s->read_off, s->end_off, fd, HDR + total) &&
		  rename(tmp, s->path) == 0;
	if (!ok) {
		close(fd);
		unlink(tmp);
		return 0;
	}
	close(s->fd);
	s->fd = fd;
	s->read_off = HDR;
	s->end_off = HDR + total + unread;
	s->pending += k;
	s->rbuf.len = 0;
	return k;
}

uint64_t spool_pending(const struct spool *s)
{
	return s->pending;
}

uint64_t spool_bytes(const struct spool *s)
{
	return s->end_off + s->wbuf.len - HDR;
}

const char *spool_path(const struct spool *s)
{
	return s->path;
}
