/* sink_syslog.c - syslog transports on the delivery loop: UDP, the local
 * datagram socket, and TCP or TLS streams (RFC 6587 framing, RFC 5425).
 *
 * Streams are libevent bufferevents (TLS: OpenSSL bufferevents, the peer's
 * certificate checked against the CA and the host name). A message counts
 * as delivered once the peer's TCP stack has acknowledged its last byte:
 * the bytes still in the bufferevent plus those the kernel holds unacked
 * (SIOCOUTQ) are the tail of what was written, so every message before
 * that tail is confirmed. When the connection breaks, the unconfirmed
 * messages go back to the head of the backlog and are sent again after
 * reconnecting (a duplicate is possible, a loss is not); reconnects back
 * off exponentially up to [delivery] reconnect_max. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/sockios.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "openssl_lib.h"
#include "sink.h"

#define HIGH_WATER (1u << 20)        /* bytes handed to a stream before waiting */
#define LOW_WATER (256u << 10)
#define CONNECT_TIMEOUT_S 10
#define BACKOFF_MIN_MS 200

uint32_t delivery_backoff_next(uint32_t current_ms, uint32_t max_ms)
{
	uint32_t next = current_ms ? current_ms * 2 : BACKOFF_MIN_MS;
	return next > max_ms ? max_ms : next;
}

static void schedule_retry(struct sink *s, struct event *ev, uint32_t *backoff_ms)
{
	*backoff_ms = delivery_backoff_next(*backoff_ms, s->lim.reconnect_max_ms);
	struct timeval tv = { (time_t)(*backoff_ms / 1000), (suseconds_t)(*backoff_ms % 1000) * 1000 };
	event_add(ev, &tv);
}

static int resolve(const struct sink *s, int socktype, struct sockaddr_storage *ss, socklen_t *len,
		   char *why, size_t whylen)
{
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = socktype;
	int rc = getaddrinfo(s->spec.target, s->spec.port, &hints, &res);
	if (rc != 0 || !res) {
		snprintf(why, whylen, "cannot resolve %.200s: %s", s->spec.target, gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	int family = res->ai_family;
	freeaddrinfo(res);
	return family;
}

/* ---- streams: TCP and TLS ---------------------------------------------------- */

struct stream {
	struct sink *s;
	struct bufferevent *bev;
	struct event *retry;          /* reconnect after backoff */
	struct event *connect_timeout;
	uint32_t backoff_ms;
	bool connected;
	bool down_logged;
	struct msgq inflight;         /* written, not yet acknowledged by the peer */
	SSL_CTX *ctx;
	const struct tls_lib *tls;    /* TLS: libssl and libevent_openssl (openssl_lib.h) */
	const struct crypto_lib *crypto;
};

static void stream_connect(struct stream *st);

static void stream_drop_connection(struct stream *st, const char *why)
{
	struct sink *s = st->s;
	if (st->bev) {
		bufferevent_free(st->bev);
		st->bev = NULL;
	}
	event_del(st->connect_timeout);
	bool was = st->connected;
	st->connected = false;
	atomic_store(&s->c.connected, 0);
	if (st->inflight.count)
		sink_requeue(s, &st->inflight, true);
	if (was || !st->down_logged) {
		sink_log(s, "%s; reconnecting (alerts wait in memory%s)", why,
			 s->spool ? ", then in the spool" : "");
		st->down_logged = true;
	}
	if (!was)
		atomic_fetch_add(&s->c.errors, 1);
	schedule_retry(s, st->retry, &st->backoff_ms);
}

/* Confirms the messages whose bytes the peer has acknowledged. */
static void stream_confirm(struct stream *st)
{
	if (!st->bev || !st->connected || !st->inflight.head)
		return;
	uint64_t unacked = evbuffer_get_length(bufferevent_get_output(st->bev));
	int outq = 0;
	evutil_socket_t fd = bufferevent_getfd(st->bev);
	if (fd >= 0 && ioctl(fd, SIOCOUTQ, &outq) == 0 && outq > 0)
		unacked += (uint64_t)outq;
	uint64_t n = 0;
	while (st->inflight.head && st->inflight.bytes - st->inflight.head->len >= unacked) {
		msg_free(msgq_pop(&st->inflight));
		n++;
	}
	if (n)
		sink_confirmed(st->s, n);
}

static void stream_kick(struct sink *s)
{
	struct stream *st = s->impl;
	if (!st->connected)
		return;
	struct evbuffer *out = bufferevent_get_output(st->bev);
	struct msg *m;
	while (evbuffer_get_length(out) < HIGH_WATER && (m = sink_next(s))) {
		if (bufferevent_write(st->bev, m->data, m->len) != 0) {
			sink_putback(s, m);
			break;
		}
		msgq_push(&st->inflight, m);
	}
	sink_update_gauges(s);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	evbuffer_drain(in, evbuffer_get_length(in));
}

static void on_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct stream *st = arg;
	stream_confirm(st);
	stream_kick(st->s);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct stream *st = arg;
	struct sink *s = st->s;
	if (what & BEV_EVENT_CONNECTED) {
		event_del(st->connect_timeout);
		st->connected = true;
		st->backoff_ms = 0;
		atomic_store(&s->c.connected, 1);
		if (st->down_logged)
			sink_log(s, "connected again; sending what waited");
		st->down_logged = false;
		stream_kick(s);
		return;
	}
	char why[300];
	if (what & BEV_EVENT_EOF) {
		snprintf(why, sizeof(why), "the receiver closed the connection");
	} else {
		int e = EVUTIL_SOCKET_ERROR();
		unsigned long ssl_err =
			s->spec.kind == SINK_TLS ? st->tls->bufferevent_get_openssl_error(bev) : 0;
		if (ssl_err) {
			char buf[200];
			st->crypto->ERR_error_string_n(ssl_err, buf, sizeof(buf));
			snprintf(why, sizeof(why), "TLS: %s", buf);
		} else {
			snprintf(why, sizeof(why), "connection to %.200s:%s failed: %s", s->spec.target,
				 s->spec.port, e ? evutil_socket_error_to_string(e) : "closed");
		}
	}
	stream_drop_connection(st, why);
}

static void on_connect_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	stream_drop_connection(arg, "connect timed out");
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	stream_connect(arg);
}

static SSL *new_ssl(struct stream *st)
{
	const struct sink_spec *sp = &st->s->spec;
	const struct tls_lib *T = st->tls;
	SSL *ssl = T->SSL_new(st->ctx);
	if (!ssl)
		return NULL;
	struct in6_addr a6;
	struct in_addr a4;
	bool is_ip = inet_pton(AF_INET, sp->target, &a4) == 1 ||
		     inet_pton(AF_INET6, sp->target, &a6) == 1;
	if (is_ip) {
		st->crypto->X509_VERIFY_PARAM_set1_ip_asc(T->SSL_get0_param(ssl), sp->target);
	} else {
		/* SSL_set_tlsext_host_name, a macro of SSL_ctrl */
		T->SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
			    (void *)sp->target);
		T->SSL_set1_host(ssl, sp->target);
	}
	return ssl;
}

static void stream_connect(struct stream *st)
{
	struct sink *s = st->s;
	char why[300];
	struct sockaddr_storage ss;
	socklen_t len;
	if (resolve(s, SOCK_STREAM, &ss, &len, why, sizeof(why)) < 0) {
		stream_drop_connection(st, why);
		return;
	}
	/* Deferred callbacks: none runs inside a libevent call of ours, so a
	 * callback may free the bufferevent. */
	int opts = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;
	if (s->spec.kind == SINK_TLS) {
		SSL *ssl = new_ssl(st);
		st->bev = ssl ? st->tls->bufferevent_openssl_socket_new(s->base, -1, ssl,
									BUFFEREVENT_SSL_CONNECTING, opts)
			      : NULL;
		if (!st->bev && ssl)
			st->tls->SSL_free(ssl);
		if (st->bev)
			st->tls->bufferevent_openssl_set_allow_dirty_shutdown(st->bev, 1);
	} else {
		st->bev = bufferevent_socket_new(s->base, -1, opts);
	}
	if (!st->bev) {
		stream_drop_connection(st, "out of memory");
		return;
	}
	bufferevent_setcb(st->bev, on_read, on_write, on_event, st);
	bufferevent_setwatermark(st->bev, EV_WRITE, LOW_WATER, 0);
	bufferevent_enable(st->bev, EV_READ | EV_WRITE);
	struct timeval tv = { CONNECT_TIMEOUT_S, 0 };
	event_add(st->connect_timeout, &tv);
	/* A failure is reported through on_event (deferred); should it not
	 * be, the connect timeout starts over. */
	bufferevent_socket_connect(st->bev, (struct sockaddr *)&ss, (int)len);
}

static bool stream_start(struct sink *s, char *err, size_t errlen)
{
	struct stream *st = calloc(1, sizeof(*st));
	if (!st) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	st->s = s;
	s->impl = st;
	st->retry = evtimer_new(s->base, on_retry, st);
	st->connect_timeout = evtimer_new(s->base, on_connect_timeout, st);
	if (!st->retry || !st->connect_timeout) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	if (s->spec.kind == SINK_TLS) {
		const char *why = NULL;
		const struct tls_lib *T = st->tls = tls_lib(&why);
		if (!T || !(st->crypto = crypto_lib(&why))) {
			snprintf(err, errlen, "TLS: %s", why);
			return false;
		}
		st->ctx = T->SSL_CTX_new(T->TLS_client_method());
		if (!st->ctx) {
			snprintf(err, errlen, "cannot create a TLS context");
			return false;
		}
		/* SSL_CTX_set_min_proto_version, a macro of SSL_CTX_ctrl */
		T->SSL_CTX_ctrl(st->ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, NULL);
		T->SSL_CTX_set_verify(st->ctx, SSL_VERIFY_PEER, NULL);
		int ok = s->spec.ca[0] ? T->SSL_CTX_load_verify_locations(st->ctx, s->spec.ca, NULL)
				       : T->SSL_CTX_set_default_verify_paths(st->ctx);
		if (ok != 1) {
			snprintf(err, errlen, "cannot load CA certificates%s%s", s->spec.ca[0] ? " from " : "",
				 s->spec.ca);
			return false;
		}
		if (s->spec.cert[0] &&
		    (T->SSL_CTX_use_certificate_chain_file(st->ctx, s->spec.cert) != 1 ||
		     T->SSL_CTX_use_PrivateKey_file(st->ctx,
						    s->spec.key[0] ? s->spec.key : s->spec.cert,
						    SSL_FILETYPE_PEM) != 1)) {
			snprintf(err, errlen, "cannot load the client certificate %s", s->spec.cert);
			return false;
		}
	}
	stream_connect(st);
	return true;
}

static bool stream_idle(struct sink *s)
{
	struct stream *st = s->impl;
	stream_confirm(st);
	return st->connected && st->inflight.count == 0 && !sink_has_waiting(s);
}

static void stream_tick(struct sink *s)
{
	struct stream *st = s->impl;
	stream_confirm(st);
	stream_kick(s);
}

static void stream_reopen(struct sink *s)
{
	(void)s;
}

static void stream_stop(struct sink *s)
{
	struct stream *st = s->impl;
	if (!st)
		return;
	stream_confirm(st);
	if (st->bev)
		bufferevent_free(st->bev);
	sink_requeue(s, &st->inflight, false);   /* kept for the spool */
	if (st->retry)
		event_free(st->retry);
	if (st->connect_timeout)
		event_free(st->connect_timeout);
	if (st->ctx)
		st->tls->SSL_CTX_free(st->ctx);
	free(st);
	s->impl = NULL;
	atomic_store(&s->c.connected, 0);
}

const struct sink_ops sink_stream_ops = {
	.start = stream_start, .kick = stream_kick, .idle = stream_idle, .tick = stream_tick,
	.reopen = stream_reopen, .stop = stream_stop,
};

/* ---- datagrams: UDP and the local socket ------------------------------------- */

struct dgram {
	struct sink *s;
	int fd;
	struct event *writable;       /* the socket buffer was full */
	struct event *retry;          /* the local socket was away */
	uint32_t backoff_ms;
	bool down_logged;
};

static void on_dgram_event(evutil_socket_t fd, short what, void *arg);

static bool dgram_open(struct dgram *dg, char *why, size_t whylen)
{
	struct sink *s = dg->s;
	struct sockaddr_storage ss;
	socklen_t len;
	int family;
	if (s->spec.kind == SINK_UNIX) {
		struct sockaddr_un *un = (struct sockaddr_un *)&ss;
		memset(un, 0, sizeof(*un));
		un->sun_family = AF_UNIX;
		size_t plen = strlen(s->spec.target);
		if (plen >= sizeof(un->sun_path))
			plen = sizeof(un->sun_path) - 1;   /* sink_parse allows 107 */
		memcpy(un->sun_path, s->spec.target, plen);
		len = sizeof(*un);
		family = AF_UNIX;
	} else if ((family = resolve(s, SOCK_DGRAM, &ss, &len, why, whylen)) < 0) {
		return false;
	}
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) != 0) {
		snprintf(why, whylen, "cannot reach %.200s: %s", s->spec.target, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	if (dg->writable)
		event_free(dg->writable);
	dg->writable = event_new(s->base, fd, EV_WRITE, on_dgram_event, dg);
	dg->fd = fd;
	return dg->writable != NULL;
}

static void dgram_kick(struct sink *s);

static void on_dgram_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct dgram *dg = arg;
	char why[300];
	if (dg->fd < 0) {
		if (!dgram_open(dg, why, sizeof(why))) {
			schedule_retry(dg->s, dg->retry, &dg->backoff_ms);
			return;
		}
		dg->backoff_ms = 0;
		atomic_store(&dg->s->c.connected, 1);
		if (dg->down_logged)
			sink_log(dg->s, "the socket is back; sending what waited");
		dg->down_logged = false;
	}
	dgram_kick(dg->s);
}

static void dgram_close(struct dgram *dg, const char *why)
{
	if (dg->fd >= 0)
		close(dg->fd);
	dg->fd = -1;
	if (dg->writable)
		event_del(dg->writable);
	atomic_store(&dg->s->c.connected, 0);
	atomic_fetch_add(&dg->s->c.errors, 1);
	if (!dg->down_logged) {
		sink_log(dg->s, "%s; retrying", why);
		dg->down_logged = true;
	}
	schedule_retry(dg->s, dg->retry, &dg->backoff_ms);
}

static void dgram_kick(struct sink *s)
{
	struct dgram *dg = s->impl;
	if (dg->fd < 0 || event_pending(dg->writable, EV_WRITE, NULL))
		return;
	struct msg *m;
	while ((m = sink_next(s))) {
		ssize_t n = send(dg->fd, m->data, m->len, 0);
		if (n < 0 && errno == ECONNREFUSED && s->spec.kind == SINK_UDP)
			n = send(dg->fd, m->data, m->len, 0);   /* that error was an earlier datagram's */
		if (n >= 0) {
			sink_confirmed(s, 1);
			msg_free(m);
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
			sink_putback(s, m);
			event_add(dg->writable, NULL);
			break;
		}
		if (s->spec.kind == SINK_UNIX) {
			char why[300];
			snprintf(why, sizeof(why), "%.200s: %s", s->spec.target, strerror(errno));
			sink_putback(s, m);
			dgram_close(dg, why);
			break;
		}
		/* UDP offers no delivery: a datagram that cannot go is lost. */
		atomic_fetch_add(&s->c.errors, 1);
		atomic_fetch_add(&s->c.dropped, 1);
		s->unconfirmed--;
		if (!dg->down_logged) {
			sink_log(s, "send failed: %s; datagrams are dropped until it works",
				 strerror(errno));
			dg->down_logged = true;
		}
		msg_free(m);
	}
	sink_update_gauges(s);
}

static bool dgram_start(struct sink *s, char *err, size_t errlen)
{
	struct dgram *dg = calloc(1, sizeof(*dg));
	if (!dg) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	dg->s = s;
	dg->fd = -1;
	s->impl = dg;
	dg->retry = evtimer_new(s->base, on_dgram_event, dg);
	char why[300];
	if (dgram_open(dg, why, sizeof(why))) {
		atomic_store(&s->c.connected, 1);
		return true;
	}
	if (s->spec.kind == SINK_UDP) {
		snprintf(err, errlen, "%s", why);
		return false;
	}
	dgram_close(dg, why);   /* the local socket may come later */
	return true;
}

static bool dgram_idle(struct sink *s)
{
	struct dgram *dg = s->impl;
	return dg->fd >= 0 && !sink_has_waiting(s);
}

static void dgram_tick(struct sink *s)
{
	dgram_kick(s);
}

static void dgram_reopen(struct sink *s)
{
	(void)s;
}

static void dgram_stop(struct sink *s)
{
	struct dgram *dg = s->impl;
	if (!dg)
		return;
	if (dg->fd >= 0)
		close(dg->fd);
	if (dg->writable)
		event_free(dg->writable);
	if (dg->retry)
		event_free(dg->retry);
	free(dg);
	s->impl = NULL;
}

const struct sink_ops sink_udp_ops = {
	.start = dgram_start, .kick = dgram_kick, .idle = dgram_idle, .tick = dgram_tick,
	.reopen = dgram_reopen, .stop = dgram_stop,
};
const struct sink_ops sink_unix_ops = {
	.start = dgram_start, .kick = dgram_kick, .idle = dgram_idle, .tick = dgram_tick,
	.reopen = dgram_reopen, .stop = dgram_stop,
};
