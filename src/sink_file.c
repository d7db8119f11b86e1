/* sink_file.c - records as lines appended to a file, or to standard output.
 *
 * Each message is written with one stdio call, so a reader tailing the
 * file never sees half a record. SIGHUP reopens the file by name (after
 * log rotation). A write error is counted and reported once; the message
 * is dropped (a full disk will not be helped by waiting in memory). stdio
 * buffers, so a message counts as delivered only once the batch's fflush
 * succeeded: a full disk usually shows there, not in fwrite. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink.h"

struct file_sink {
	FILE *fp;
	bool owned;
	bool error_reported;
};

static bool file_start(struct sink *s, char *err, size_t errlen)
{
	struct file_sink *f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	if (strcmp(s->spec.target, "-") == 0) {
		f->fp = stdout;
	} else {
		f->fp = fopen(s->spec.target, "a");
		if (!f->fp) {
			snprintf(err, errlen, "%s: cannot open: %s", s->spec.target, strerror(errno));
			free(f);
			return false;
		}
		f->owned = true;
	}
	s->impl = f;
	atomic_store(&s->c.connected, 1);
	return true;
}

/* n messages taken from the backlog are lost: count, report once. */
static void file_failed(struct sink *s, struct file_sink *f, uint64_t n)
{
	atomic_fetch_add(&s->c.errors, 1);
	atomic_fetch_add(&s->c.dropped, n);
	s->unconfirmed -= n;
	if (!f->error_reported) {
		sink_log(s, "write failed: %s", strerror(errno));
		f->error_reported = true;
	}
	clearerr(f->fp);
}

static void file_kick(struct sink *s)
{
	struct file_sink *f = s->impl;
	struct msg *m;
	uint64_t pending = 0;    /* in the stdio buffer, not yet known to be written */
	while ((m = sink_next(s))) {
		if (fwrite(m->data, 1, m->len, f->fp) == m->len) {
			pending++;
		} else {
			file_failed(s, f, pending + 1);   /* the buffer's fate is unknown */
			pending = 0;
		}
		msg_free(m);
	}
	/* once per batch: a reader sees each batch whole and soon */
	if (fflush(f->fp) == 0)
		sink_confirmed(s, pending);
	else if (pending)
		file_failed(s, f, pending);
	sink_update_gauges(s);
}

static bool file_idle(struct sink *s)
{
	struct file_sink *f = s->impl;
	fflush(f->fp);
	return true;
}

static void file_tick(struct sink *s)
{
	struct file_sink *f = s->impl;
	fflush(f->fp);
}

static void file_reopen(struct sink *s)
{
	struct file_sink *f = s->impl;
	if (!f->owned)
		return;
	FILE *fp = fopen(s->spec.target, "a");
	if (!fp) {
		sink_log(s, "cannot reopen %s: %s; writing on to the old file", s->spec.target,
			 strerror(errno));
		return;
	}
	fclose(f->fp);
	f->fp = fp;
	f->error_reported = false;
}

static void file_stop(struct sink *s)
{
	struct file_sink *f = s->impl;
	if (!f)
		return;
	if (f->owned)
		fclose(f->fp);
	else
		fflush(f->fp);
	free(f);
	s->impl = NULL;
}

const struct sink_ops sink_file_ops = {
	.start = file_start, .kick = file_kick, .idle = file_idle, .tick = file_tick,
	.reopen = file_reopen, .stop = file_stop,
};
