/* delivery.h - the delivery thread: one libevent loop that owns every sink,
 * timer, signal and the status endpoint.
 *
 * It is woken through libevent's own cross-thread notification (the base
 * is made with evthread_use_pthreads, and producers event_active() its
 * wake event) when it sleeps; after a pop that found records it polls the
 * queue again itself shortly after (see record_queue.h). It takes records
 * from the queue in batches, formats each once per body format, and hands
 * the messages to the sinks' backlogs. */
#ifndef APPLEMON_DELIVERY_H
#define APPLEMON_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>

#include "output.h"
#include "record_queue.h"
#include "sink.h"

struct delivery;

struct delivery *delivery_new(struct record_queue *q, struct sink **sinks, size_t n_sinks,
			      const struct output_settings *set, const struct output_hooks *hooks,
			      const char *sensor, struct output *o, char *err, size_t errlen);
/* Starts the sinks and the thread. */
bool delivery_start(struct delivery *d, char *err, size_t errlen);
/* After rq_close: flush with the deadline, stop the thread, stop sinks. */
void delivery_finish(struct delivery *d);
void delivery_free(struct delivery *d);

/* For the status endpoint (delivery thread). */
struct output *delivery_output(struct delivery *d);
const struct output_hooks *delivery_hooks(struct delivery *d);

/* status_http.c: the endpoint on the delivery loop. */
struct evhttp;
struct event_base;
struct evhttp *status_http_start(struct event_base *base, const char *listen, struct delivery *d,
				 char *err, size_t errlen);
void status_http_stop(struct evhttp *h);

#endif
