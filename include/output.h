/* output.h - where records go: a set of sinks, each with a format.
 *
 * A sink spec is "TYPE:TARGET[,key=value...]": `json:PATH` appends JSON
 * lines to PATH (`json:-` or `-` is standard output). The engine calls
 * output_write() for every record; each sink formats and delivers it. */
#ifndef APPLEMON_OUTPUT_H
#define APPLEMON_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct output;

struct output_sink_stats {
	char spec[512];
	uint64_t written, errors;
};

/* suppress_secs: repeat suppression of alerts per (host, service), 0 off. */
struct output *output_new(const char *sensor_name, uint32_t suppress_secs);
void output_free(struct output *o);   /* flushes and closes every sink */

/* Add a sink; false with a message in err (bad spec, cannot open). */
bool output_add(struct output *o, const char *spec, const char *format, char *err, size_t errlen);
size_t output_count(const struct output *o);

/* Alerts pass the suppressor first (r->suppressed is set on the way);
 * flow records are never suppressed. */
void output_write(struct output *o, struct record *r);
void output_flush(struct output *o);

size_t output_stats(const struct output *o, struct output_sink_stats *out, size_t max);
/* Alerts held back by suppression. */
uint64_t output_suppressed(const struct output *o);

#endif
