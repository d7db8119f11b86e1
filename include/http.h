/* http.h - HTTP/1.x request line and headers: Host (and a little more).
 *
 * Recognises a request on any TCP port by its method token and version,
 * reads header lines until the blank line, and returns the Host header
 * (lowercased, port and trailing dot removed). Bytes are never trusted to be
 * NUL-terminated or printable. */
#ifndef APPLEMON_HTTP_H
#define APPLEMON_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_HOST_MAX 256
#define HTTP_UA_MAX 256
#define HTTP_METHOD_MAX 16

struct http_request {
	char method[HTTP_METHOD_MAX];
	bool has_host;
	char host[HTTP_HOST_MAX];    /* lowercased, without :port */
	char user_agent[HTTP_UA_MAX];/* as sent, cut to fit, control bytes replaced */
};

enum http_result {
	HTTP_NOT_HTTP = 0,           /* does not start like an HTTP/1.x request */
	HTTP_NEED_MORE,              /* a request has begun but headers are not complete */
	HTTP_OK,                     /* headers complete (has_host says if Host was there) */
};

enum http_result http_parse_request(const uint8_t *data, size_t len, struct http_request *r);

/* Could these first bytes start an HTTP request (method token + space)? */
bool http_plausible(const uint8_t *data, size_t len);

#endif
