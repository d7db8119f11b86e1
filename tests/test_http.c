/* test_http.c - HTTP/1.x request recognition, Host and User-Agent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "testutil.h"

/* nDPI test capture android.pcap, frame 83 (TCP payload): Android's
 * captive-portal probe to captive.apple.com, byte for byte. */
static const char android_probe[] =
	"GET / HTTP/1.1\r\n"
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
	"Chrome/60.0.3112.32 Safari/537.36\r\n"
	"Connection: Close\r\n"
	"Host: captive.apple.com\r\n"
	"Accept-Encoding: gzip\r\n"
	"\r\n";

static struct http_request req;

static enum http_result parse_str(const char *s)
{
	return http_parse_request((const uint8_t *)s, strlen(s), &req);
}

/* Parse from an exact-size heap copy, so ASan sees any read past the end. */
static enum http_result parse_exact(const char *s, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(b);
	memcpy(b, s, n);
	enum http_result r = http_parse_request(b, n, &req);
	free(b);
	return r;
}

START_TEST(test_real_android_probe)
{
	ck_assert_int_eq(parse_str(android_probe), HTTP_OK);
	ck_assert_str_eq(req.method, "GET");
	ck_assert(req.has_host);
	ck_assert_str_eq(req.host, "captive.apple.com");
	ck_assert_str_eq(req.user_agent,
			 "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
			 "Chrome/60.0.3112.32 Safari/537.36");
	ck_assert(http_plausible((const uint8_t *)android_probe, strlen(android_probe)));
}
END_TEST

START_TEST(test_every_prefix_needs_more)
{
	size_t len = strlen(android_probe);
	for (size_t n = 0; n < len; n++) {
		ck_assert_msg(parse_exact(android_probe, n) == HTTP_NEED_MORE, "prefix %zu", n);
		ck_assert(!req.has_host);
	}
	ck_assert_int_eq(parse_exact(android_probe, len), HTTP_OK);
}
END_TEST

START_TEST(test_host_odd_case_and_port)
{
	ck_assert_int_eq(parse_str("POST /bag HTTP/1.1\r\nhOsT:\t  Init.ITunes.Apple.COM:8080 \t\r\n"
				   "Content-Length: 0\r\n\r\n"),
			 HTTP_OK);
	ck_assert_str_eq(req.method, "POST");
	ck_assert_str_eq(req.host, "init.itunes.apple.com");
	ck_assert_str_eq(req.user_agent, "");

	ck_assert_int_eq(parse_str("GET / HTTP/1.0\r\nHOST: captive.apple.com.\r\n\r\n"), HTTP_OK);
	ck_assert_str_eq(req.host, "captive.apple.com");
	ck_assert_int_eq(parse_str("GET / HTTP/1.1\r\nHost: captive.apple.com.:80\r\n\r\n"),
			 HTTP_OK);
	ck_assert_str_eq(req.host, "captive.apple.com");
	/* Whitespace before the colon is not valid HTTP, but read anyway. */
	ck_assert_int_eq(parse_str("GET / HTTP/1.1\r\nHost : a.apple.com\r\n\r\n"), HTTP_OK);
	ck_assert_str_eq(req.host, "a.apple.com");
	/* Hostile bytes in the value are escaped. */
	ck_assert_int_eq(parse_str("GET / HTTP/1.1\r\nHost: a\"b\\c\x01.com\r\n\r\n"), HTTP_OK);
	ck_assert_str_eq(req.host, "a\\034b\\092c\\001.com");
}
END_TEST

START_TEST(test_host_ipv6_literal)
{
	ck_assert_int_eq(parse_str("GET / HTTP/1.1\r\nHost: [2001:DB8::1]:8443\r\n\r\n"), HTTP_OK);
	ck_assert_str_eq(req.host, "[2001:db8::1]");
	ck_assert_int_eq(parse_str("GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n"), HTTP_OK);
	ck_assert_str_eq(req.host, "[::1]");
	/* Unbracketed IPv6 (invalid) is kept whole rather than cut at a colon. */
	ck_assert_int_eq(parse_str("GET / HTTP/1.1\r\nHost: fe80::1\r\n\r\n"), HTTP_OK);
	ck_assert_str_eq(req.host, "fe80::1");
	/* IPv4 with a port. */
	ck_assert_int_eq(parse_str("GET / HTTP/1.1\r\nHost: 17.253.53.201:80\r\n\r\n"), HTTP_OK);
	ck_assert_str_eq(req.host, "17.253.53.201");
}
END_TEST

START_TEST(test_host_missing_or_empty)
{
	ck_assert_int_eq(parse_str("GET / HTTP/1.0\r\nAccept: */*\r\n\r\n"), HTTP_OK);
	ck_assert(!req.has_host);
	ck_assert_str_eq(req.host, "");
	ck_assert_int_eq(parse_str("GET / HTTP/1.1\r\nHost:\r\n\r\n"), HTTP_OK);
	ck_assert(!req.has_host);
	ck_assert_int_eq(parse_str("GET / HTTP/1.1\r\nHost: :80\r\n\r\n"), HTTP_OK);
	ck_assert(!req.has_host);
	/* Header names that merely start with "host" are not Host. */
	ck_assert_int_eq(parse_str("GET / HTTP/1.1\r\nHostname: x.apple.com\r\n"
				   "X-Host: y.apple.com\r\n\r\n"),
			 HTTP_OK);
	ck_assert(!req.has_host);
}
END_TEST

START_TEST(test_first_host_wins)
{
	ck_assert_int_eq(parse_str("GET / HTTP/1.1\r\nHost: one.apple.com\r\n"
				   "Host: two.example\r\n\r\n"),
			 HTTP_OK);
	ck_assert_str_eq(req.host, "one.apple.com");
}
END_TEST

START_TEST(test_cut_mid_header)
{
	ck_assert_int_eq(parse_str("GET / HTTP/1.1\r\nHost: captive.app"), HTTP_NEED_MORE);
	ck_assert(!req.has_host);
	ck_assert_int_eq(parse_str("GET / HTTP/1.1\r\nHost: captive.apple.com\r\n"), HTTP_NEED_MORE);
	ck_assert_int_eq(parse_str("GET / HTTP/1.1\r\nHost: captive.apple.com\r\n\r"),
			 HTTP_NEED_MORE);
	ck_assert_int_eq(parse_str("GET /hotspot-detect.html HTT"), HTTP_NEED_MORE);
	ck_assert_int_eq(parse_str("PROPF"), HTTP_NEED_MORE);
}
END_TEST

START_TEST(test_bare_lf)
{
	ck_assert_int_eq(parse_str("GET / HTTP/1.1\nHost: captive.apple.com\nUser-Agent: x\n\n"),
			 HTTP_OK);
	ck_assert_str_eq(req.host, "captive.apple.com");
	ck_assert_str_eq(req.user_agent, "x");
}
END_TEST

START_TEST(test_user_agent_controls)
{
	ck_assert_int_eq(parse_str("GET / HTTP/1.1\r\nUser-Agent:  CaptiveNetworkSupport-443.5 "
				   "wispr\x1b[2J\x7f\xc3\xa9 \r\n\r\n"),
			 HTTP_OK);
	ck_assert_str_eq(req.user_agent, "CaptiveNetworkSupport-443.5 wispr?[2J???");
	/* Trailing whitespace belongs to the value's padding, except inside. */
	ck_assert_int_eq(parse_str("GET / HTTP/1.1\r\nuser-agent: a b   \r\n\r\n"), HTTP_OK);
	ck_assert_str_eq(req.user_agent, "a b");

	/* A long value is cut to fit. */
	static char buf[1024];
	strcpy(buf, "GET / HTTP/1.1\r\nUser-Agent: ");
	size_t at = strlen(buf);
	memset(buf + at, 'u', 400);
	strcpy(buf + at + 400, "\r\n\r\n");
	ck_assert_int_eq(parse_str(buf), HTTP_OK);
	ck_assert_uint_eq(strlen(req.user_agent), HTTP_UA_MAX - 1);
}
END_TEST

START_TEST(test_methods)
{
	static const char *const methods[] = {
		"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE",
		"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT",
	};
	char buf[128];
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		snprintf(buf, sizeof(buf), "%s /x HTTP/1.1\r\nHost: h.apple.com\r\n\r\n", methods[i]);
		ck_assert_int_eq(parse_str(buf), HTTP_OK);
		ck_assert_str_eq(req.method, methods[i]);
		ck_assert_str_eq(req.host, "h.apple.com");
		ck_assert(http_plausible((const uint8_t *)buf, strlen(buf)));
	}
}
END_TEST

START_TEST(test_not_http)
{
	ck_assert_int_eq(parse_str("FOO / HTTP/1.1\r\n\r\n"), HTTP_NOT_HTTP);
	ck_assert_int_eq(parse_str("get / HTTP/1.1\r\n\r\n"), HTTP_NOT_HTTP);
	ck_assert_int_eq(parse_str("GET / HTTP/2.0\r\n\r\n"), HTTP_NOT_HTTP);
	ck_assert_int_eq(parse_str("GET /\r\n"), HTTP_NOT_HTTP);   /* HTTP/0.9 */
	ck_assert_int_eq(parse_str("GET  / HTTP/1.1\r\n\r\n"), HTTP_NOT_HTTP);
	ck_assert_int_eq(parse_str("GET / HTTP/1.1 extra\r\n\r\n"), HTTP_NOT_HTTP);
	ck_assert_int_eq(parse_str("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), HTTP_NOT_HTTP);
	ck_assert_int_eq(parse_str("GETX / HTTP/1.1\r\n\r\n"), HTTP_NOT_HTTP);
	ck_assert_int_eq(parse_str("SSH-2.0-OpenSSH_9.6\r\n"), HTTP_NOT_HTTP);
	ck_assert_int_eq(parse_str("GET /a\x01 HTTP/1.1\r\n"), HTTP_NOT_HTTP);
	static const uint8_t tls[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01 };
	ck_assert_int_eq(http_parse_request(tls, sizeof(tls), &req), HTTP_NOT_HTTP);
	ck_assert(!http_plausible(tls, sizeof(tls)));
	ck_assert(!http_plausible((const uint8_t *)"GET", 3));
	ck_assert(!http_plausible((const uint8_t *)"GETS /", 6));
	ck_assert(http_plausible((const uint8_t *)"GET ", 4));
	ck_assert(!http_plausible(NULL, 0));
}
END_TEST

START_TEST(test_ssdp)
{
	ck_assert_int_eq(parse_str("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
				   "MAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n"),
			 HTTP_OK);
	ck_assert_str_eq(req.method, "M-SEARCH");
	ck_assert_str_eq(req.host, "239.255.255.250");
	ck_assert_int_eq(parse_str("NOTIFY * HTTP/1.1\r\nHost: [FF02::C]:1900\r\n"
				   "NT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n\r\n"),
			 HTTP_OK);
	ck_assert_str_eq(req.method, "NOTIFY");
	ck_assert_str_eq(req.host, "[ff02::c]");
}
END_TEST

START_TEST(test_proxy_forms)
{
	/* Without a Host header, the authority of the target is used. */
	ck_assert_int_eq(parse_str("CONNECT gateway.icloud.com:443 HTTP/1.1\r\n\r\n"), HTTP_OK);
	ck_assert_str_eq(req.method, "CONNECT");
	ck_assert_str_eq(req.host, "gateway.icloud.com");
	ck_assert_int_eq(parse_str("GET http://user@Captive.Apple.com:80/x?y HTTP/1.0\r\n\r\n"),
			 HTTP_OK);
	ck_assert_str_eq(req.host, "captive.apple.com");
	/* A Host header takes precedence. */
	ck_assert_int_eq(parse_str("GET http://a.example/ HTTP/1.1\r\nHost: b.example\r\n\r\n"),
			 HTTP_OK);
	ck_assert_str_eq(req.host, "b.example");
	/* An origin-form target names no host. */
	ck_assert_int_eq(parse_str("GET /http://a.example/ HTTP/1.1\r\n\r\n"), HTTP_OK);
	ck_assert(!req.has_host);
}
END_TEST

START_TEST(test_header_block_limit)
{
	/* 20 KB of headers and no blank line: taken as complete at 16 KB with
	 * the lines seen there. */
	size_t cap = 20 * 1024;
	char *buf = malloc(cap + 64);
	ck_assert_ptr_nonnull(buf);
	strcpy(buf, "GET / HTTP/1.1\r\nHost: early.apple.com\r\n");
	while (strlen(buf) + 40 < cap)
		strcat(buf, "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
	ck_assert_int_eq(parse_exact(buf, strlen(buf)), HTTP_OK);
	ck_assert_str_eq(req.host, "early.apple.com");

	/* A Host after the limit is not seen. */
	strcpy(buf, "GET / HTTP/1.1\r\n");
	while (strlen(buf) + 40 < cap)
		strcat(buf, "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
	strcat(buf, "Host: late.apple.com\r\n\r\n");
	ck_assert_int_eq(parse_exact(buf, strlen(buf)), HTTP_OK);
	ck_assert(!req.has_host);

	/* Under the limit, still waiting. */
	ck_assert_int_eq(parse_exact(buf, 8000), HTTP_NEED_MORE);

	/* A request line that does not end within the limit is not read. */
	memset(buf, 'a', cap);
	memcpy(buf, "GET /", 5);
	ck_assert_int_eq(parse_exact(buf, cap), HTTP_NOT_HTTP);
	ck_assert_int_eq(parse_exact(buf, 4000), HTTP_NEED_MORE);
	free(buf);
}
END_TEST

START_TEST(test_folded_and_odd_lines)
{
	/* A continuation line and a line without a colon are passed over. */
	ck_assert_int_eq(parse_str("GET / HTTP/1.1\r\nX-A: 1\r\n Host: folded.example\r\n"
				   "garbage line\r\nHost: real.apple.com\r\n\r\n"),
			 HTTP_OK);
	ck_assert_str_eq(req.host, "real.apple.com");
}
END_TEST

START_TEST(test_too_long_host_dropped)
{
	char buf[600];
	strcpy(buf, "GET / HTTP/1.1\r\nHost: ");
	size_t at = strlen(buf);
	memset(buf + at, 'h', 300);
	strcpy(buf + at + 300, ".apple.com\r\n\r\n");
	ck_assert_int_eq(parse_str(buf), HTTP_OK);
	ck_assert(!req.has_host);
	ck_assert_str_eq(req.host, "");
}
END_TEST

/* Random bytes after a valid request line: no fault, bounded strings. */
START_TEST(test_random_headers)
{
	uint32_t seed = 777;
	static const char alphabet[] = "Host: \r\n\t:.[]aA0-\x01\xff";
	for (int round = 0; round < 5000; round++) {
		char buf[300];
		size_t n = 16 + (size_t)(seed % 280);
		memcpy(buf, "GET / HTTP/1.1\r\n", 16);
		for (size_t i = 16; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		enum http_result r = parse_exact(buf, n);
		ck_assert(r == HTTP_OK || r == HTTP_NEED_MORE);
		ck_assert_uint_lt(strlen(req.host), HTTP_HOST_MAX);
		ck_assert_uint_lt(strlen(req.user_agent), HTTP_UA_MAX);
		if (r == HTTP_NEED_MORE)
			ck_assert(!req.has_host);
	}
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_real_android_probe);
	tcase_add_test(tc, test_every_prefix_needs_more);
	tcase_add_test(tc, test_host_odd_case_and_port);
	tcase_add_test(tc, test_host_ipv6_literal);
	tcase_add_test(tc, test_host_missing_or_empty);
	tcase_add_test(tc, test_first_host_wins);
	tcase_add_test(tc, test_cut_mid_header);
	tcase_add_test(tc, test_bare_lf);
	tcase_add_test(tc, test_user_agent_controls);
	tcase_add_test(tc, test_methods);
	tcase_add_test(tc, test_not_http);
	tcase_add_test(tc, test_ssdp);
	tcase_add_test(tc, test_proxy_forms);
	tcase_add_test(tc, test_header_block_limit);
	tcase_add_test(tc, test_folded_and_odd_lines);
	tcase_add_test(tc, test_too_long_host_dropped);
	tcase_add_test(tc, test_random_headers);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
