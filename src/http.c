/* http.c - HTTP/1.x request recognition and Host / User-Agent extraction.
 *
 * A request is recognised by a known method token, one space, a target
 * without controls or spaces, one space and "HTTP/1.<digit>" ending the line.
 * Header lines are then read up to the blank line. Lines may end in CRLF or
 * a bare LF. Invariants:
 *
 *  - Only the first HTTP_HEADER_LIMIT bytes are looked at. A header block
 *    that has not ended by then is taken as complete with the lines seen,
 *    so a client cannot make the caller buffer without bound; a request
 *    line that has not ended by then is not taken as HTTP at all.
 *  - HTTP_NEED_MORE reports the method only: a Host from a header block
 *    that may still change is never handed out.
 *  - Every read goes through a cursor; output strings are NUL-terminated and
 *    never longer than their fields.
 *  - The Host value is lowercased and loses its :port and one trailing dot.
 *    An IPv6 literal keeps its brackets ("[2001:db8::1]"), so it stays
 *    distinct from a name and matches the URI form. Bytes outside a-z, 0-9
 *    and -._*~: (plus [ ] for a bracketed literal) are written as \DDD, as
 *    in dns.c. A Host that does not fit is dropped, not cut.
 *  - The first Host header counts (servers refuse requests with two). When
 *    there is none, the authority of an absolute-form or CONNECT target is
 *    used instead, since that is where a proxy sends the request.
 */
#include "http.h"

#include <string.h>

#include "cursor.h"
#include "text.h"

#define HTTP_HEADER_LIMIT (16 * 1024)

/* Methods of RFC 9110, WebDAV (RFC 4918, 3253, 4791) and SSDP/GENA (UPnP). */
static const char *const known_methods[] = {
	"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "PATCH", "TRACE",
	"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT",
	"SEARCH", "MKCALENDAR", "MKACTIVITY", "CHECKOUT", "MERGE", "ACL",
	"M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE",
};

/* Outcome of reading one line. */
enum line_state { LINE_OK, LINE_SHORT };

static bool is_method_byte(uint8_t b)
{
	return (b >= 'A' && b <= 'Z') || b == '-' || b == '_';
}

/* Read the method token into out. true with *short_data set when the data
 * ends inside a token that is still a prefix of a known method; false when
 * the bytes cannot begin a request. */
static bool read_method(struct cursor *c, char out[HTTP_METHOD_MAX], bool *short_data)
{
	size_t n = 0;

	*short_data = false;
	while (n < HTTP_METHOD_MAX - 1 && is_method_byte(cur_peek_u8(c, 0)))
		out[n++] = (char)cur_u8(c);
	out[n] = '\0';
	if (n == 0 && cur_left(c) > 0)
		return false;
	bool at_end = cur_left(c) == 0;
	for (size_t i = 0; i < sizeof(known_methods) / sizeof(known_methods[0]); i++) {
		const char *m = known_methods[i];
		if (at_end && strncmp(m, out, n) == 0) {
			*short_data = true;
			return true;
		}
		if (strcmp(m, out) == 0)
			return cur_peek_u8(c, 0) == ' ';
	}
	return false;
}

/* Split off the next line (without its CRLF or LF). LINE_SHORT if the
 * window ends before the line does. */
static enum line_state take_line(struct cursor *c, struct cursor *line)
{
	size_t left = cur_left(c);

	for (size_t i = 0; i < left; i++) {
		if (cur_peek_u8(c, i) != '\n')
			continue;
		size_t n = i;
		if (n > 0 && cur_peek_u8(c, n - 1) == '\r')
			n--;
		*line = cur_sub(c, n);
		cur_skip(c, i + 1 - n);
		return LINE_OK;
	}
	return LINE_SHORT;
}

static bool is_target_byte(uint8_t b)
{
	return b > 0x20 && b != 0x7f;
}

static uint8_t lower_byte(uint8_t b)
{
	return (b >= 'A' && b <= 'Z') ? (uint8_t)(b - 'A' + 'a') : b;
}

/* Does the line's next token equal `word` (ASCII case-insensitive)? */
static bool match_word_nocase(struct cursor *line, const char *word)
{
	size_t n = strlen(word);

	if (!cur_has(line, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower_byte(cur_peek_u8(line, i)) != lower_byte((uint8_t)word[i]))
			return false;
	return cur_skip(line, n);
}

/* The request line after the method: SP target SP HTTP/1.x, nothing more. */
static bool read_request_line_rest(struct cursor line, struct cursor *target)
{
	cur_skip(&line, 1);   /* the space read_method() saw */
	size_t n = 0;
	while (is_target_byte(cur_peek_u8(&line, n)))
		n++;
	if (n == 0)
		return false;
	*target = cur_sub(&line, n);
	if (cur_u8(&line) != ' ' || !match_word_nocase(&line, "HTTP/1."))
		return false;
	uint8_t minor = cur_u8(&line);
	return !line.err && minor >= '0' && minor <= '9' && cur_left(&line) == 0;
}

static void skip_ows(struct cursor *c)
{
	while (cur_peek_u8(c, 0) == ' ' || cur_peek_u8(c, 0) == '\t')
		cur_skip(c, 1);
}

/* The value of a header line, optional whitespace removed at both ends. */
static struct cursor trim_value(struct cursor v)
{
	skip_ows(&v);
	size_t n = cur_left(&v);
	while (n > 0 && (cur_peek_u8(&v, n - 1) == ' ' || cur_peek_u8(&v, n - 1) == '\t'))
		n--;
	return cur_sub(&v, n);
}

/* If the line is "name:" (any case, optional whitespace before the colon),
 * return true with the trimmed value. */
static bool match_header(struct cursor line, const char *name, struct cursor *value)
{
	if (!match_word_nocase(&line, name))
		return false;
	skip_ows(&line);
	if (cur_u8(&line) != ':')
		return false;
	*value = trim_value(cur_rest(&line));
	return true;
}

/* The host part of an authority: "[v6]" with its brackets, else everything
 * before the one colon (a bare IPv6 address, with several, is kept whole). */
static struct cursor strip_port(struct cursor v)
{
	size_t n = cur_left(&v);
	size_t colon = n;
	unsigned colons = 0;

	if (cur_peek_u8(&v, 0) == '[') {
		for (size_t i = 0; i < n; i++)
			if (cur_peek_u8(&v, i) == ']')
				return cur_sub(&v, i + 1);
		return v;
	}
	for (size_t i = 0; i < n; i++) {
		if (cur_peek_u8(&v, i) == ':') {
			colons++;
			colon = i;
		}
	}
	return colons == 1 ? cur_sub(&v, colon) : v;
}

/* Store a Host (or authority) value; false if empty or too long. '~' is
 * plain in a Host, and so are the brackets of an IPv6 literal. */
static bool copy_host(struct cursor v, char *out, size_t cap)
{
	struct cursor h = strip_port(v);
	return text_copy_host(h, out, cap, cur_peek_u8(&h, 0) == '[' ? "~[]" : "~");
}

/* User-Agent as sent, cut to fit; controls and non-ASCII become '?'. */
static void copy_user_agent(struct cursor v, char *out, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap && cur_left(&v) > 0) {
		uint8_t b = cur_u8(&v);
		out[n++] = (b < 0x20 || b >= 0x7f) ? '?' : (char)b;
	}
	out[n] = '\0';
}

/* The authority of "http://host:port/path" or a CONNECT "host:port". */
static bool read_target_authority(struct cursor t, bool connect, struct http_request *r)
{
	if (!connect) {
		if (!match_word_nocase(&t, "http://") && !match_word_nocase(&t, "https://"))
			return false;
	}
	size_t n = 0;
	while (n < cur_left(&t) && cur_peek_u8(&t, n) != '/' && cur_peek_u8(&t, n) != '?' &&
	       cur_peek_u8(&t, n) != '#')
		n++;
	struct cursor auth = cur_sub(&t, n);
	/* Userinfo ("user@host") is not part of the host. */
	for (size_t i = cur_left(&auth); i > 0; i--) {
		if (cur_peek_u8(&auth, i - 1) == '@') {
			cur_skip(&auth, i);
			break;
		}
	}
	return copy_host(auth, r->host, sizeof(r->host));
}

static void read_header_line(struct cursor line, struct http_request *r, bool *have_ua)
{
	struct cursor v;

	if (cur_peek_u8(&line, 0) == ' ' || cur_peek_u8(&line, 0) == '\t')
		return;   /* obsolete line folding: a continuation, ignored */
	if (!r->has_host && match_header(line, "host", &v)) {
		r->has_host = copy_host(v, r->host, sizeof(r->host));
		return;
	}
	if (!*have_ua && match_header(line, "user-agent", &v)) {
		copy_user_agent(v, r->user_agent, sizeof(r->user_agent));
		*have_ua = true;
	}
}

enum http_result http_parse_request(const uint8_t *data, size_t len, struct http_request *r)
{
	struct cursor all = cur_make(data, len);
	struct cursor c = cur_sub(&all, len < HTTP_HEADER_LIMIT ? len : HTTP_HEADER_LIMIT);
	bool capped = len >= HTTP_HEADER_LIMIT;
	bool short_data;
	struct cursor line, target;

	memset(r, 0, sizeof(*r));
	if (len == 0)
		return HTTP_NEED_MORE;
	if (!read_method(&c, r->method, &short_data))
		return HTTP_NOT_HTTP;
	if (short_data)
		return HTTP_NEED_MORE;

	/* The request line. A line that runs past the limit is not HTTP/1.x
	 * we can read; one still arriving may be. */
	struct cursor first = c;
	if (take_line(&first, &line) == LINE_SHORT) {
		struct cursor partial = cur_rest(&c);
		cur_skip(&partial, 1);
		while (is_target_byte(cur_peek_u8(&partial, 0)))
			cur_skip(&partial, 1);
		bool bad = cur_left(&partial) > 0 && cur_peek_u8(&partial, 0) != ' ';
		return (capped || bad) ? HTTP_NOT_HTTP : HTTP_NEED_MORE;
	}
	if (!read_request_line_rest(line, &target))
		return HTTP_NOT_HTTP;
	c = first;

	/* Header lines up to the blank line; each pass consumes one line. */
	bool have_ua = false;
	for (;;) {
		if (take_line(&c, &line) == LINE_SHORT) {
			if (capped)
				break;
			/* Nothing is reported from an unfinished header block. */
			r->has_host = false;
			memset(r->host, 0, sizeof(r->host));
			memset(r->user_agent, 0, sizeof(r->user_agent));
			return HTTP_NEED_MORE;
		}
		if (cur_left(&line) == 0)
			break;
		read_header_line(line, r, &have_ua);
	}
	if (!r->has_host)
		r->has_host = read_target_authority(target, strcmp(r->method, "CONNECT") == 0, r);
	return HTTP_OK;
}

bool http_plausible(const uint8_t *data, size_t len)
{
	struct cursor c = cur_make(data, len < HTTP_METHOD_MAX ? len : HTTP_METHOD_MAX);
	char method[HTTP_METHOD_MAX];
	bool short_data;

	return read_method(&c, method, &short_data) && !short_data;
}
