/* record_json.h - alert and flow records as one JSON object per line. */
#ifndef APPLEMON_RECORD_JSON_H
#define APPLEMON_RECORD_JSON_H

#include "json_writer.h"
#include "record.h"

/* Writes the record (no trailing newline) into w after resetting it. */
void record_to_json(const struct record *r, const char *sensor, struct json_writer *w);

#endif
