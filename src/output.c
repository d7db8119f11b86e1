/* output.c - the sink set and the JSON-lines file sink.
 *
 * Each record is formatted once per format and written with one stdio call
 * per line, so a reader tailing the file never sees half a record. Write
 * errors are counted per sink and reported once; the other sinks and the
 * packet processing carry on. */
#include "output.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_writer.h"
#include "record_json.h"
#include "suppress.h"

#define MAX_SINKS 16

struct sink {
	char spec[512];
	FILE *fp;
	bool owned;                  /* we opened it (not stdout) */
	bool error_reported;
	uint64_t written, errors;
};

struct output {
	char sensor[128];
	struct sink sinks[MAX_SINKS];
	size_t n;
	struct json_writer jw;
	struct suppressor *suppress;
};

struct output *output_new(const char *sensor_name, uint32_t suppress_secs)
{
	struct output *o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->suppress = suppressor_new(suppress_secs, 65536);
	if (!o->suppress) {
		free(o);
		return NULL;
	}
	snprintf(o->sensor, sizeof(o->sensor), "%s", sensor_name ? sensor_name : "applemon");
	jw_init(&o->jw);
	return o;
}

void output_free(struct output *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n; i++) {
		struct sink *s = &o->sinks[i];
		if (s->owned)
			fclose(s->fp);
		else
			fflush(s->fp);
	}
	jw_free(&o->jw);
	suppressor_free(o->suppress);
	free(o);
}

bool output_add(struct output *o, const char *spec, const char *format, char *err, size_t errlen)
{
	if (o->n >= MAX_SINKS) {
		snprintf(err, errlen, "too many outputs (at most %d)", MAX_SINKS);
		return false;
	}
	if (format && format[0] && strcmp(format, "json") != 0) {
		snprintf(err, errlen, "output format '%s' is not supported (json)", format);
		return false;
	}
	const char *target;
	if (strcmp(spec, "-") == 0)
		target = "-";
	else if (strncmp(spec, "json:", 5) == 0)
		target = spec + 5;
	else {
		snprintf(err, errlen, "unsupported output '%s' (use json:PATH or json:-)", spec);
		return false;
	}
	if (!target[0]) {
		snprintf(err, errlen, "output '%s' names no file", spec);
		return false;
	}
	struct sink *s = &o->sinks[o->n];
	memset(s, 0, sizeof(*s));
	snprintf(s->spec, sizeof(s->spec), "%s", spec);
	if (strcmp(target, "-") == 0) {
		s->fp = stdout;
	} else {
		s->fp = fopen(target, "a");
		if (!s->fp) {
			snprintf(err, errlen, "%s: cannot open: %s", target, strerror(errno));
			return false;
		}
		s->owned = true;
	}
	o->n++;
	return true;
}

size_t output_count(const struct output *o)
{
	return o->n;
}

void output_write(struct output *o, struct record *r)
{
	if (r->kind == RECORD_ALERT &&
	    !suppressor_admit(o->suppress, &r->src, (uint8_t)r->verdict.service, r->ts_usec,
			      &r->suppressed))
		return;
	if (o->n == 0)
		return;
	record_to_json(r, o->sensor, &o->jw);
	if (o->jw.oom)
		return;
	for (size_t i = 0; i < o->n; i++) {
		struct sink *s = &o->sinks[i];
		if (fprintf(s->fp, "%s\n", o->jw.buf) < 0) {
			s->errors++;
			if (!s->error_reported) {
				fprintf(stderr, "applemon: output %s: write failed: %s\n", s->spec,
					strerror(errno));
				s->error_reported = true;
			}
			clearerr(s->fp);
		} else {
			s->written++;
		}
	}
}

void output_flush(struct output *o)
{
	for (size_t i = 0; i < o->n; i++)
		fflush(o->sinks[i].fp);
}

size_t output_stats(const struct output *o, struct output_sink_stats *out, size_t max)
{
	size_t n = o->n < max ? o->n : max;
	for (size_t i = 0; i < n; i++) {
		memcpy(out[i].spec, o->sinks[i].spec, sizeof(out[i].spec));
		out[i].written = o->sinks[i].written;
		out[i].errors = o->sinks[i].errors;
	}
	return n;
}

uint64_t output_suppressed(const struct output *o)
{
	struct suppressor_stats st;
	suppressor_get_stats(o->suppress, &st);
	return st.suppressed;
}
