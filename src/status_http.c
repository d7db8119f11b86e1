/* status_http.c - the status endpoint (libevent's evhttp, on the delivery
 * loop): /metrics in Prometheus text format and /status as JSON.
 *
 * It listens on loopback unless [status] listen says otherwise. Packet
 * counters come from packet processing through the output hooks; alert,
 * suppression, queue and sink counters from the output layer. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "delivery.h"
#include "json_writer.h"
#include "service.h"

#define MAX_SINKS 16

struct snapshot {
	struct output_counters c;
	uint64_t alerts[SVC_COUNT];
	uint64_t alerts_total, suppressed, queue_dropped;
	struct output_sink_stats sinks[MAX_SINKS];
	size_t n;
};

static void take(struct delivery *d, struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
	const struct output_hooks *h = delivery_hooks(d);
	if (h->counters)
		h->counters(h->ctx, &s->c);
	struct output *o = delivery_output(d);
	for (int i = 1; i < SVC_COUNT; i++) {
		s->alerts[i] = output_alerts(o, i);
		s->alerts_total += s->alerts[i];
	}
	s->suppressed = output_suppressed(o);
	s->queue_dropped = output_queue_dropped(o);
	s->n = output_stats(o, s->sinks, MAX_SINKS);
}

/* A Prometheus label value: \ " and newline escaped. */
static void label(struct evbuffer *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			evbuffer_add_printf(b, "\\%c", *v);
		else if (*v == '\n')
			evbuffer_add(b, "\\n", 2);
		else
			evbuffer_add(b, v, 1);
	}
}

static void metric(struct evbuffer *b, const char *name, const char *type, const char *help,
		   uint64_t v)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help, name,
			    type, name, v);
}

static void sink_metric(struct evbuffer *b, const struct snapshot *s, const char *name,
			const char *type, const char *help, size_t field)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
	for (size_t i = 0; i < s->n; i++) {
		evbuffer_add_printf(b, "%s{sink=\"", name);
		label(b, s->sinks[i].spec);
		uint64_t v = *(const uint64_t *)((const char *)&s->sinks[i] + field);
		evbuffer_add_printf(b, "\"} %" PRIu64 "\n", v);
	}
}

static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct snapshot s;
	take(arg, &s);
	struct evbuffer *b = evbuffer_new();
	metric(b, "applemon_packets_total", "counter", "Packets processed.", s.c.packets);
	metric(b, "applemon_bytes_total", "counter", "Bytes processed (wire length).", s.c.bytes);
	metric(b, "applemon_kernel_drops_total", "counter", "Packets the kernel dropped.",
	       s.c.kernel_drops);
	metric(b, "applemon_interface_drops_total", "counter",
	       "Packets the interfaces dropped before the kernel saw them.", s.c.iface_drops);
	metric(b, "applemon_flows_total", "counter", "Flows created.", s.c.flows);
	metric(b, "applemon_flows_active", "gauge", "Flows tracked now.", s.c.flows_active);
	metric(b, "applemon_flows_evicted_total", "counter",
	       "Flows ended early because the table was full.", s.c.flows_evicted);
	metric(b, "applemon_fast_path_packets_total", "counter",
	       "Packets of decided flows: a lookup and counters only.", s.c.fast_path_packets);
	metric(b, "applemon_ip_fragments_total", "counter", "IP fragments seen.", s.c.ip_fragments);
	metric(b, "applemon_ip_reassembled_total", "counter", "IP datagrams put back together.",
	       s.c.ip_reassembled);
	metric(b, "applemon_ip_reassembly_dropped_total", "counter",
	       "Incomplete IP datagrams dropped: timed out, evicted, or inconsistent.",
	       s.c.ip_reassembly_dropped);
	metric(b, "applemon_decode_errors_total", "counter", "Malformed packets.",
	       s.c.decode_errors);
	evbuffer_add_printf(b, "# HELP applemon_alerts_total Alerts raised, by service.\n"
			       "# TYPE applemon_alerts_total counter\n");
	for (int i = 1; i < SVC_COUNT; i++)
		evbuffer_add_printf(b, "applemon_alerts_total{service=\"%s\"} %" PRIu64 "\n",
				    service_name((enum service_id)i), s.alerts[i]);
	metric(b, "applemon_alerts_suppressed_total", "counter",
	       "Repeat alerts counted but not sent.", s.suppressed);
	metric(b, "applemon_queue_dropped_total", "counter",
	       "Records dropped because the queue to delivery was full.", s.queue_dropped);
	sink_metric(b, &s, "applemon_sink_delivered_total", "counter", "Messages delivered.",
		    offsetof(struct output_sink_stats, delivered));
	sink_metric(b, &s, "applemon_sink_queued", "gauge", "Messages waiting in memory.",
		    offsetof(struct output_sink_stats, queued));
	sink_metric(b, &s, "applemon_sink_spooled_total", "counter",
		    "Messages written to the on-disk spool.", offsetof(struct output_sink_stats, spooled));
	sink_metric(b, &s, "applemon_sink_spool_pending", "gauge", "Messages waiting on disk.",
		    offsetof(struct output_sink_stats, spool_now));
	sink_metric(b, &s, "applemon_sink_dropped_total", "counter", "Messages lost.",
		    offsetof(struct output_sink_stats, dropped));
	sink_metric(b, &s, "applemon_sink_resent_total", "counter",
		    "Messages sent again after a broken connection.",
		    offsetof(struct output_sink_stats, resent));
	sink_metric(b, &s, "applemon_sink_errors_total", "counter", "Failed connects and writes.",
		    offsetof(struct output_sink_stats, errors));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4");
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

static void on_status(struct evhttp_request *req, void *arg)
{
	struct snapshot s;
	take(arg, &s);
	struct json_writer w;
	jw_init(&w);
	jw_object_begin(&w);
	jw_kv_uint(&w, "packets", s.c.packets);
	jw_kv_uint(&w, "bytes", s.c.bytes);
	jw_kv_uint(&w, "kernel_drops", s.c.kernel_drops);
	jw_kv_uint(&w, "interface_drops", s.c.iface_drops);
	jw_kv_uint(&w, "flows", s.c.flows);
	jw_kv_uint(&w, "flows_active", s.c.flows_active);
	jw_kv_uint(&w, "flows_evicted", s.c.flows_evicted);
	jw_kv_uint(&w, "fast_path_packets", s.c.fast_path_packets);
	jw_kv_uint(&w, "ip_fragments", s.c.ip_fragments);
	jw_kv_uint(&w, "ip_reassembled", s.c.ip_reassembled);
	jw_kv_uint(&w, "ip_reassembly_dropped", s.c.ip_reassembly_dropped);
	jw_kv_uint(&w, "decode_errors", s.c.decode_errors);
	jw_kv_uint(&w, "alerts", s.alerts_total);
	jw_key(&w, "alerts_by_service");
	jw_object_begin(&w);
	for (int i = 1; i < SVC_COUNT; i++)
		if (s.alerts[i])
			jw_kv_uint(&w, service_name((enum service_id)i), s.alerts[i]);
	jw_object_end(&w);
	jw_kv_uint(&w, "suppressed", s.suppressed);
	jw_kv_uint(&w, "queue_dropped", s.queue_dropped);
	jw_key(&w, "sinks");
	jw_array_begin(&w);
	for (size_t i = 0; i < s.n; i++) {
		const struct output_sink_stats *k = &s.sinks[i];
		jw_object_begin(&w);
		jw_kv_string(&w, "sink", k->spec);
		jw_kv_bool(&w, "connected", k->connected);
		jw_kv_uint(&w, "delivered", k->delivered);
		jw_kv_uint(&w, "queued", k->queued);
		jw_kv_uint(&w, "spooled", k->spooled);
		jw_kv_uint(&w, "spool_pending", k->spool_now);
		jw_kv_uint(&w, "dropped", k->dropped);
		jw_kv_uint(&w, "resent", k->resent);
		jw_kv_uint(&w, "errors", k->errors);
		jw_object_end(&w);
	}
	jw_array_end(&w);
	jw_object_end(&w);
	struct evbuffer *b = evbuffer_new();
	if (!w.oom)
		evbuffer_add(b, w.buf, w.len);
	evbuffer_add(b, "\n", 1);
	jw_free(&w);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/json");
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

static void on_other(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_send_error(req, HTTP_NOTFOUND, "try /metrics or /status");
}

struct evhttp *status_http_start(struct event_base *base, const char *listen, struct delivery *d,
				 char *err, size_t errlen)
{
	char host[128];
	snprintf(host, sizeof(host), "%s", listen);
	char *colon = strrchr(host, ':');
	if (!colon) {
		snprintf(err, errlen, "[status] listen '%s': expected ADDRESS:PORT", listen);
		return NULL;
	}
	*colon = '\0';
	int port = atoi(colon + 1);
	char *h = host;
	if (h[0] == '[') {
		h++;
		char *e = strchr(h, ']');
		if (e)
			*e = '\0';
	}
	struct evhttp *http = evhttp_new(base);
	if (!http) {
		snprintf(err, errlen, "cannot create the status endpoint");
		return NULL;
	}
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_cb(http, "/metrics", on_metrics, d);
	evhttp_set_cb(http, "/status", on_status, d);
	evhttp_set_gencb(http, on_other, d);
	if (!evhttp_bind_socket_with_handle(http, h, (uint16_t)port)) {
		snprintf(err, errlen, "status endpoint: cannot listen on %s", listen);
		evhttp_free(http);
		return NULL;
	}
	return http;
}

void status_http_stop(struct evhttp *h)
{
	evhttp_free(h);
}
