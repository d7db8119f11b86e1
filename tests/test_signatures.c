/* test_signatures.c - the signature format, matching rules and the shipped set.
 *
 * Covers every kind of mistake a signature file can hold (each must name
 * the right line and leave the set untouched), the domain rules (label
 * boundaries, longest suffix, host before domain, case and trailing dot),
 * folder loading order and errors, and the files under signatures/ (the
 * tests run from the repository root). */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "signatures.h"
#include "testutil.h"

#define SHIPPED_DIR "signatures"

static struct sigset *load_text(const char *text)
{
	struct sigset *s = sigset_new();
	struct sig_error err;
	memset(&err, 0, sizeof(err));
	ck_assert_ptr_nonnull(s);
	bool ok = sigset_load_string(s, text, strlen(text), "test.sig", &err);
	ck_assert_msg(ok, "load failed: %s:%d: %s", err.file, err.line, err.msg);
	return s;
}

/* Loads text that must fail; returns the error. */
static struct sig_error load_bad(const char *text)
{
	struct sigset *s = sigset_new();
	struct sig_error err;
	memset(&err, 0, sizeof(err));
	bool ok = sigset_load_string(s, text, strlen(text), "bad.sig", &err);
	ck_assert_msg(!ok, "load of bad text succeeded:\n%s", text);
	ck_assert_str_eq(err.file, "bad.sig");
	ck_assert_msg(err.msg[0] != '\0', "empty error message");
	struct sigset_counts c;
	sigset_get_counts(s, &c);
	ck_assert_uint_eq(c.domains + c.hosts + c.prefixes + c.asns + c.ports, 0);
	sigset_free(s);
	return err;
}

static void assert_bad_line(const char *text, int line, const char *needle)
{
	struct sig_error err = load_bad(text);
	ck_assert_msg(err.line == line, "expected line %d, got %d (%s) for:\n%s", line, err.line,
		      err.msg, text);
	ck_assert_msg(strstr(err.msg, needle) != NULL, "message '%s' lacks '%s'", err.msg, needle);
}

static enum service_id dom(const struct sigset *s, const char *name)
{
	struct domain_match m;
	if (!sigset_match_domain(s, name, &m))
		return SVC_NONE;
	ck_assert_ptr_nonnull(m.pattern);
	return m.service;
}

static const char *dom_pattern(const struct sigset *s, const char *name)
{
	struct domain_match m;
	return sigset_match_domain(s, name, &m) ? m.pattern : NULL;
}

static enum service_id addr_svc(const struct sigset *s, const char *text, unsigned *len)
{
	struct ip_addr a;
	struct addr_match m;
	ck_assert_msg(addr_parse(text, &a), "bad test address %s", text);
	if (!sigset_match_addr(s, &a, &m))
		return SVC_NONE;
	if (len)
		*len = m.prefix.len;
	return m.service;
}

/* ---- service names ------------------------------------------------------ */

START_TEST(service_names_round_trip)
{
	static const char *const names[] = {
		"activation", "mdm", "push", "appstore", "software-update", "icloud",
		"private-relay", "siri", "maps", "cert-validation", "captive-portal", "time",
		"apple-id", "messaging", "media", "apple",
	};
	ck_assert_int_eq((int)(sizeof(names) / sizeof(names[0])), SVC_COUNT - 1);
	for (int i = 0; i < SVC_COUNT - 1; i++) {
		enum service_id s = service_from_name(names[i]);
		ck_assert_int_eq(s, i + 1);
		ck_assert_str_eq(service_name(s), names[i]);
	}
	ck_assert_int_eq(service_from_name("Apple"), SVC_NONE);
	ck_assert_int_eq(service_from_name("none"), SVC_NONE);
	ck_assert_int_eq(service_from_name(""), SVC_NONE);
	ck_assert_int_eq(service_from_name(NULL), SVC_NONE);
	ck_assert_str_eq(service_name(SVC_COUNT), "none");
}
END_TEST

/* ---- parsing ------------------------------------------------------------ */

START_TEST(parses_every_directive_with_comments)
{
	struct sigset *s = load_text("# whole-line comment\n"
				     "\n"
				     "   \t \n"
				     "domain  push.apple.com   push   # trailing comment\n"
				     "host\tcaptive.apple.com\tcaptive-portal\r\n"
				     "prefix 17.0.0.0/8 apple#no space before the comment\n"
				     "prefix 2620:149::/32 apple\n"
				     "asn 714 apple\n"
				     "port tcp/5223 push\n"
				     "port udp/123 time"); /* no final newline */
	struct sigset_counts c;
	sigset_get_counts(s, &c);
	ck_assert_uint_eq(c.domains, 1);
	ck_assert_uint_eq(c.hosts, 1);
	ck_assert_uint_eq(c.prefixes, 2);
	ck_assert_uint_eq(c.asns, 1);
	ck_assert_uint_eq(c.ports, 2);
	ck_assert_int_eq(sigset_match_port(s, IPPROTO_TCP, 5223), SVC_PUSH);
	ck_assert_int_eq(sigset_match_port(s, IPPROTO_UDP, 5223), SVC_NONE);
	ck_assert_int_eq(sigset_match_port(s, IPPROTO_UDP, 123), SVC_TIME);
	ck_assert_int_eq(sigset_match_port(s, IPPROTO_TCP, 443), SVC_NONE);
	ck_assert_int_eq(sigset_match_asn(s, 714), SVC_APPLE);
	ck_assert_int_eq(sigset_match_asn(s, 715), SVC_NONE);
	ck_assert_int_eq(dom(s, "captive.apple.com"), SVC_CAPTIVE_PORTAL);
	sigset_free(s);
}
END_TEST

START_TEST(identical_duplicates_are_accepted)
{
	struct sigset *s = load_text("domain apple.com apple\n"
				     "domain APPLE.com. apple\n"
				     "prefix 17.0.0.0/8 apple\n"
				     "prefix 17.0.0.0/8 apple\n"
				     "asn 714 apple\nasn 714 apple\n"
				     "port tcp/5223 push\nport tcp/5223 push\n");
	struct sigset_counts c;
	sigset_get_counts(s, &c);
	ck_assert_uint_eq(c.domains, 1);
	ck_assert_uint_eq(c.prefixes, 1);
	ck_assert_uint_eq(c.asns, 1);
	ck_assert_uint_eq(c.ports, 1);
	sigset_free(s);
}
END_TEST

START_TEST(unknown_directive_and_service)
{
	assert_bad_line("domain a.com apple\nzone b.com apple\n", 2, "unknown directive 'zone'");
	assert_bad_line("Domain a.com apple\n", 1, "unknown directive");
	assert_bad_line("\n\n\ndomain a.com fruit\n", 4, "unknown service 'fruit'");
	assert_bad_line("domain a.com Apple\n", 1, "unknown service");
	assert_bad_line("domain a.com none\n", 1, "unknown service");
}
END_TEST

START_TEST(missing_and_extra_fields)
{
	assert_bad_line("domain a.com apple\ndomain b.com\n", 2, "needs a value");
	assert_bad_line("# c\nhost\n", 2, "needs a value");
	assert_bad_line("domain a.com apple extra\n", 1, "unexpected 'extra'");
	assert_bad_line("\nport tcp/1 push push push\n", 2, "unexpected 'push'");
	/* A comment after the service is not an extra field. */
	struct sigset *s = load_text("domain a.com apple # b c d\n");
	sigset_free(s);
}
END_TEST

START_TEST(bad_domain_syntax)
{
	assert_bad_line("domain *.push.apple.com push\n", 1, "wildcards");
	assert_bad_line("domain a..com apple\n", 1, "empty label");
	assert_bad_line("domain .a.com apple\n", 1, "empty label");
	assert_bad_line("domain . apple\n", 1, "empty name");
	assert_bad_line("ok\n", 1, "unknown directive");
	assert_bad_line("domain a.com apple\nhost a b.com apple\n", 2, "unexpected");
	assert_bad_line("domain a/b.com apple\n", 1, "not allowed");
	assert_bad_line("domain -a.com apple\n", 1, "starts with '-'");
	assert_bad_line("domain a-.com apple\n", 1, "ends with '-'");
	assert_bad_line("domain a.com- apple\n", 1, "ends with '-'");
	assert_bad_line("host caf\xc3\xa9.com apple\n", 1, "not allowed");

	char label[128], text[1200];
	memset(label, 'a', 64);
	label[64] = '\0';
	snprintf(text, sizeof(text), "\ndomain %s.com apple\n", label);
	assert_bad_line(text, 2, "longer than 63");
	label[63] = '\0';
	snprintf(text, sizeof(text), "domain %s.com apple\n", label);
	sigset_free(load_text(text));

	/* 4 labels of 63 + dots = 255 characters: too long. */
	snprintf(text, sizeof(text), "domain %s.%s.%s.%s apple\n", label, label, label, label);
	assert_bad_line(text, 1, "longer than 253");
}
END_TEST

START_TEST(bad_prefixes)
{
	assert_bad_line("prefix 17.0.0.0/33 apple\n", 1, "bad prefix");
	assert_bad_line("prefix 17.0.0/8 apple\n", 1, "bad prefix");
	assert_bad_line("prefix 17.0.0.0/ apple\n", 1, "bad prefix");
	assert_bad_line("prefix 17.0.0.0/-1 apple\n", 1, "bad prefix");
	assert_bad_line("prefix apple.com apple\n", 1, "bad prefix");
	assert_bad_line("prefix 2620:149::/129 apple\n", 1, "bad prefix");
	assert_bad_line("\n\nprefix 17.1.0.0/8 apple\n", 3, "host bits set (the network is 17.0.0.0/8)");
	assert_bad_line("prefix 2620:149::1/32 apple\n", 1, "host bits set");
}
END_TEST

START_TEST(bad_asn_and_port)
{
	assert_bad_line("asn AS714 apple\n", 1, "bad AS number");
	assert_bad_line("asn 0 apple\n", 1, "bad AS number");
	assert_bad_line("asn -1 apple\n", 1, "bad AS number");
	assert_bad_line("asn 4294967296 apple\n", 1, "bad AS number");
	assert_bad_line("asn 99999999999999999999999 apple\n", 1, "bad AS number");
	assert_bad_line("asn +714 apple\n", 1, "bad AS number");
	sigset_free(load_text("asn 4294967295 apple\n"));

	assert_bad_line("port 5223 push\n", 1, "tcp/N or udp/N");
	assert_bad_line("port sctp/5223 push\n", 1, "tcp/N or udp/N");
	assert_bad_line("port TCP/5223 push\n", 1, "tcp/N or udp/N");
	assert_bad_line("port tcp/0 push\n", 1, "1 to 65535");
	assert_bad_line("port tcp/65536 push\n", 1, "1 to 65535");
	assert_bad_line("port tcp/ push\n", 1, "1 to 65535");
	assert_bad_line("port udp/12x push\n", 1, "1 to 65535");
	assert_bad_line("port udp/5223-5224 push\n", 1, "1 to 65535");
	sigset_free(load_text("port udp/65535 push\nport tcp/1 push\n"));
}
END_TEST

START_TEST(conflicting_duplicates)
{
	assert_bad_line("domain a.com apple\n\ndomain A.COM. icloud\n", 3,
			"maps to icloud here but to apple on line 1");
	assert_bad_line("host a.com apple\nhost a.com push\n", 2, "on line 1");
	assert_bad_line("prefix 17.0.0.0/8 apple\nprefix 17.0.0.0/8 push\n", 2, "on line 1");
	assert_bad_line("asn 714 apple\n#\nasn 714 push\n", 3, "on line 1");
	assert_bad_line("port tcp/5223 push\nport tcp/5223 apple\n", 2, "on line 1");
	/* A domain and a host line for the same name do not conflict. */
	struct sigset *s = load_text("domain a.com apple\nhost a.com push\n");
	ck_assert_int_eq(dom(s, "a.com"), SVC_PUSH);
	ck_assert_int_eq(dom(s, "b.a.com"), SVC_APPLE);
	sigset_free(s);
}
END_TEST

START_TEST(nul_and_long_lines)
{
	static const char with_nul[] = "domain a.com apple\nhost b\0.com apple\n";
	struct sigset *s = sigset_new();
	struct sig_error err;
	ck_assert(!sigset_load_string(s, with_nul, sizeof(with_nul) - 1, "nul.sig", &err));
	ck_assert_int_eq(err.line, 2);
	ck_assert_ptr_nonnull(strstr(err.msg, "NUL"));
	sigset_free(s);

	char text[3000];
	memset(text, ' ', sizeof(text));
	memcpy(text, "# x\n", 4);
	memcpy(text + 4, "domain a.com apple", 18);
	text[sizeof(text) - 1] = '\0';
	assert_bad_line(text, 2, "line longer than");
}
END_TEST

START_TEST(failed_load_leaves_set_unchanged)
{
	struct sigset *s = load_text("domain apple.com apple\nprefix 17.0.0.0/8 apple\n");
	struct sig_error err;
	static const char more[] = "domain icloud.com icloud\n"
				   "prefix 10.0.0.0/8 apple\n"
				   "asn 714 apple\n"
				   "port tcp/5223 push\n"
				   "host x.apple.com siri\n"
				   "domain apple.com push\n"; /* conflicts with the set */
	ck_assert(!sigset_load_string(s, more, strlen(more), "more.sig", &err));
	ck_assert_str_eq(err.file, "more.sig");
	ck_assert_int_eq(err.line, 6);
	ck_assert_ptr_nonnull(strstr(err.msg, "earlier file"));
	struct sigset_counts c;
	sigset_get_counts(s, &c);
	ck_assert_uint_eq(c.domains, 1);
	ck_assert_uint_eq(c.hosts, 0);
	ck_assert_uint_eq(c.prefixes, 1);
	ck_assert_uint_eq(c.asns, 0);
	ck_assert_uint_eq(c.ports, 0);
	ck_assert_int_eq(dom(s, "icloud.com"), SVC_NONE);
	ck_assert_int_eq(dom(s, "x.apple.com"), SVC_APPLE);
	ck_assert_int_eq(addr_svc(s, "10.1.1.1", NULL), SVC_NONE);

	static const char conflicts[][64] = {
		"prefix 17.0.0.0/8 push\n", "asn 714 push\n", "port tcp/5223 apple\n",
		"host h.com push\n",
	};
	static const char setup[] = "asn 714 apple\nport tcp/5223 push\nhost h.com apple\n";
	ck_assert(sigset_load_string(s, setup, strlen(setup), "setup.sig", &err));
	for (size_t i = 0; i < sizeof(conflicts) / sizeof(conflicts[0]); i++) {
		ck_assert(!sigset_load_string(s, conflicts[i], strlen(conflicts[i]), "c.sig",
					      &err));
		ck_assert_int_eq(err.line, 1);
		ck_assert_ptr_nonnull(strstr(err.msg, "earlier file"));
	}
	ck_assert_int_eq(sigset_match_asn(s, 714), SVC_APPLE);
	ck_assert_int_eq(sigset_match_port(s, IPPROTO_TCP, 5223), SVC_PUSH);
	ck_assert_int_eq(dom(s, "h.com"), SVC_APPLE);
	sigset_free(s);
}
END_TEST

START_TEST(successive_loads_merge)
{
	struct sigset *s = load_text("domain apple.com apple\nprefix 17.0.0.0/8 apple\n");
	struct sig_error err;
	static const char more[] = "domain push.apple.com push\nhost apple.com siri\n"
				   "prefix 17.253.0.0/16 apple\nasn 6185 apple\n"
				   "domain apple.com apple\n";
	ck_assert(sigset_load_string(s, more, strlen(more), "more.sig", &err));
	struct sigset_counts c;
	sigset_get_counts(s, &c);
	ck_assert_uint_eq(c.domains, 2);
	ck_assert_uint_eq(c.hosts, 1);
	ck_assert_uint_eq(c.prefixes, 2);
	ck_assert_uint_eq(c.asns, 1);
	ck_assert_int_eq(dom(s, "apple.com"), SVC_SIRI);
	ck_assert_int_eq(dom(s, "www.apple.com"), SVC_APPLE);
	ck_assert_int_eq(dom(s, "1-courier.push.apple.com"), SVC_PUSH);
	unsigned len = 0;
	ck_assert_int_eq(addr_svc(s, "17.253.1.1", &len), SVC_APPLE);
	ck_assert_uint_eq(len, 96 + 16);
	sigset_free(s);
}
END_TEST

/* ---- domain matching ---------------------------------------------------- */

START_TEST(domain_matching_rules)
{
	struct sigset *s = load_text("domain apple.com apple\n"
				     "domain push.apple.com push\n"
				     "host captive.apple.com captive-portal\n"
				     "host www.apple.com siri\n"
				     "domain www.apple.com media\n"
				     "domain apple apple\n");
	ck_assert_int_eq(dom(s, "apple.com"), SVC_APPLE);
	ck_assert_int_eq(dom(s, "APPLE.COM"), SVC_APPLE);
	ck_assert_int_eq(dom(s, "apple.com."), SVC_APPLE);
	ck_assert_int_eq(dom(s, "a.b.c.apple.com"), SVC_APPLE);
	ck_assert_int_eq(dom(s, "push.apple.com"), SVC_PUSH);
	ck_assert_int_eq(dom(s, "Courier.Push.Apple.Com."), SVC_PUSH);
	ck_assert_str_eq(dom_pattern(s, "41-courier.push.apple.com"), "push.apple.com");
	/* host: the exact name only, and it beats a domain of equal length. */
	ck_assert_int_eq(dom(s, "captive.apple.com"), SVC_CAPTIVE_PORTAL);
	ck_assert_int_eq(dom(s, "x.captive.apple.com"), SVC_APPLE);
	ck_assert_int_eq(dom(s, "www.apple.com"), SVC_SIRI);
	ck_assert_int_eq(dom(s, "cdn.www.apple.com"), SVC_MEDIA);
	ck_assert_str_eq(dom_pattern(s, "cdn.www.apple.com"), "www.apple.com");
	/* Label boundaries. */
	ck_assert_int_eq(dom(s, "notapple.com"), SVC_NONE);
	ck_assert_int_eq(dom(s, "hicloud.com"), SVC_NONE);
	ck_assert_int_eq(dom(s, "apple.com.evil.example"), SVC_NONE);
	ck_assert_int_eq(dom(s, "xpush.apple.com"), SVC_APPLE);
	ck_assert_int_eq(dom(s, "pple.com"), SVC_NONE);
	ck_assert_int_eq(dom(s, "com"), SVC_NONE);
	ck_assert_int_eq(dom(s, "AppleWebKit"), SVC_NONE);
	ck_assert_int_eq(dom(s, "networking.apple"), SVC_APPLE);
	ck_assert_int_eq(dom(s, "apple.evil"), SVC_NONE);
	/* Degenerate queries. */
	ck_assert_int_eq(dom(s, ""), SVC_NONE);
	ck_assert_int_eq(dom(s, "."), SVC_NONE);
	ck_assert_int_eq(dom(s, "apple.com.."), SVC_NONE);
	ck_assert_int_eq(dom(s, ".apple.com"), SVC_APPLE);
	ck_assert(sigset_match_domain(s, "apple.com", NULL));

	char longname[400];
	memset(longname, 'a', sizeof(longname));
	memcpy(longname + sizeof(longname) - 11, ".apple.com", 11);
	ck_assert_int_eq(dom(s, longname), SVC_NONE); /* longer than 253 */
	char many[260];
	size_t n = 0;
	while (n + 20 < sizeof(many)) {
		many[n++] = 'x';
		many[n++] = '.';
	}
	memcpy(many + n, "apple.com", 10);
	ck_assert_int_eq(dom(s, many), SVC_APPLE); /* 120+ labels */
	sigset_free(s);
}
END_TEST

START_TEST(empty_set_matches_nothing)
{
	struct sigset *s = sigset_new();
	struct ip_addr a;
	addr_parse("17.1.1.1", &a);
	ck_assert(!sigset_match_domain(s, "apple.com", NULL));
	ck_assert(!sigset_match_addr(s, &a, NULL));
	ck_assert_int_eq(sigset_match_port(s, IPPROTO_TCP, 5223), SVC_NONE);
	ck_assert_int_eq(sigset_match_asn(s, 714), SVC_NONE);
	sigset_free(s);
	sigset_free(NULL);
}
END_TEST

START_TEST(table_grows_with_many_names)
{
	size_t cap = 64 * 5000;
	char *text = malloc(cap);
	ck_assert_ptr_nonnull(text);
	size_t n = 0;
	for (int i = 0; i < 5000; i++)
		n += (size_t)snprintf(text + n, cap - n, "%s n%d.example.com %s\n",
				      i % 3 ? "domain" : "host", i, i % 2 ? "apple" : "push");
	struct sigset *s = load_text(text);
	free(text);
	struct sigset_counts c;
	sigset_get_counts(s, &c);
	ck_assert_uint_eq(c.domains + c.hosts, 5000);
	for (int i = 0; i < 5000; i++) {
		char name[64];
		snprintf(name, sizeof(name), "N%d.Example.Com.", i);
		ck_assert_int_eq(dom(s, name), i % 2 ? SVC_APPLE : SVC_PUSH);
		snprintf(name, sizeof(name), "sub.n%d.example.com", i);
		ck_assert_int_eq(dom(s, name), i % 3 ? (i % 2 ? SVC_APPLE : SVC_PUSH) : SVC_NONE);
	}
	ck_assert_int_eq(dom(s, "n5000.example.com"), SVC_NONE);
	sigset_free(s);
}
END_TEST

/* ---- addresses ---------------------------------------------------------- */

START_TEST(address_longest_prefix)
{
	struct sigset *s = load_text("prefix 17.0.0.0/8 apple\n"
				     "prefix 17.253.0.0/16 software-update\n"
				     "prefix 17.253.53.201/32 push\n"
				     "prefix 2620:149::/32 apple\n"
				     "prefix 2620:149:a::/48 icloud\n");
	unsigned len = 0;
	ck_assert_int_eq(addr_svc(s, "17.1.2.3", &len), SVC_APPLE);
	ck_assert_uint_eq(len, 104);
	ck_assert_int_eq(addr_svc(s, "17.253.9.9", &len), SVC_SOFTWARE_UPDATE);
	ck_assert_int_eq(addr_svc(s, "17.253.53.201", &len), SVC_PUSH);
	ck_assert_uint_eq(len, 128);
	ck_assert_int_eq(addr_svc(s, "18.0.0.1", NULL), SVC_NONE);
	ck_assert_int_eq(addr_svc(s, "2620:149:a::5", &len), SVC_ICLOUD);
	ck_assert_int_eq(addr_svc(s, "2620:149:b::5", &len), SVC_APPLE);
	ck_assert_uint_eq(len, 32);
	ck_assert_int_eq(addr_svc(s, "2620:14a::1", NULL), SVC_NONE);
	/* An IPv4 prefix never matches an IPv6 address with the same bits. */
	ck_assert_int_eq(addr_svc(s, "::11.1.2.3", NULL), SVC_NONE);
	sigset_free(s);
}
END_TEST

/* ---- folders ------------------------------------------------------------ */

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void remove_tree(const char *dir, const char *const names[], size_t n)
{
	char path[512];
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

START_TEST(load_dir_in_name_order)
{
	char dir[] = "/tmp/applemon-sig-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_file(dir, "20-b.sig", "domain b.example push\n");
	write_file(dir, "10-a.sig", "domain a.example apple\n");
	write_file(dir, "notes.txt", "this is not a signature file\n");
	write_file(dir, ".hidden.sig", "garbage\n");
	struct sig_error err;
	struct sigset *s = sigset_load_dir(dir, &err);
	ck_assert_msg(s != NULL, "%s:%d: %s", err.file, err.line, err.msg);
	ck_assert_int_eq(dom(s, "a.example"), SVC_APPLE);
	ck_assert_int_eq(dom(s, "x.b.example"), SVC_PUSH);
	sigset_free(s);

	/* The conflict is reported in the later file, by name order. */
	write_file(dir, "30-c.sig", "# c\n\ndomain a.example icloud\n");
	s = sigset_load_dir(dir, &err);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(err.file, "30-c.sig"));
	ck_assert_int_eq(err.line, 3);

	/* A mistake in any file fails the whole folder. */
	write_file(dir, "30-c.sig", "domain c.example apple\nbogus\n");
	s = sigset_load_dir(dir, &err);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(err.file, "30-c.sig"));
	ck_assert_int_eq(err.line, 2);

	static const char *const names[] = { "10-a.sig", "20-b.sig", "30-c.sig", "notes.txt",
					     ".hidden.sig" };
	remove_tree(dir, names, 5);
}
END_TEST

START_TEST(load_dir_errors)
{
	struct sig_error err;
	ck_assert_ptr_null(sigset_load_dir("/nonexistent/applemon-signatures", &err));
	ck_assert_str_eq(err.file, "/nonexistent/applemon-signatures");
	ck_assert_int_eq(err.line, 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot open"));

	char dir[] = "/tmp/applemon-sig-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_ptr_null(sigset_load_dir(dir, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "no *.sig"));
	rmdir(dir);

	struct sigset *s = sigset_new();
	ck_assert(!sigset_load_file(s, "/nonexistent/x.sig", &err));
	ck_assert_str_eq(err.file, "/nonexistent/x.sig");
	ck_assert_int_eq(err.line, 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot open"));
	ck_assert(!sigset_load_file(s, "/tmp", &err));
	sigset_free(s);
}
END_TEST

/* ---- the shipped signatures --------------------------------------------- */

static struct sigset *shipped(void)
{
	struct sig_error err;
	struct sigset *s = sigset_load_dir(SHIPPED_DIR, &err);
	ck_assert_msg(s != NULL, "shipped signatures: %s:%d: %s", err.file, err.line, err.msg);
	return s;
}

START_TEST(shipped_names)
{
	struct sigset *s = shipped();
	static const struct {
		const char *name;
		enum service_id svc;
	} want[] = {
		{ "p53-buy.itunes.apple.com", SVC_APPSTORE },
		{ "buy.itunes.apple.com", SVC_APPSTORE },
		{ "itunes.apple.com", SVC_APPSTORE },
		{ "apps.apple.com", SVC_APPSTORE },
		{ "s.mzstatic.com", SVC_APPSTORE },
		{ "vpp.itunes.apple.com", SVC_MDM },
		{ "query.ess.apple.com", SVC_MESSAGING },
		{ "courier.push.apple.com", SVC_PUSH },
		{ "41-courier.push.apple.com", SVC_PUSH },
		{ "1-courier.sandbox.push.apple.com", SVC_PUSH },
		{ "api.push.apple.com", SVC_PUSH },
		{ "x.push-apple.com.akadns.net", SVC_PUSH },
		{ "captive.apple.com", SVC_CAPTIVE_PORTAL },
		{ "captive.apple.com.edgekey.net", SVC_CAPTIVE_PORTAL },
		{ "guzzoni.apple.com", SVC_SIRI },
		{ "api.smoot.apple.com", SVC_SIRI },
		{ "mask.icloud.com", SVC_PRIVATE_RELAY },
		{ "mask-h2.icloud.com", SVC_PRIVATE_RELAY },
		{ "mask-api.icloud.com", SVC_PRIVATE_RELAY },
		{ "www.apple.com", SVC_APPLE },
		{ "apple.com", SVC_APPLE },
		{ "albert.apple.com", SVC_ACTIVATION },
		{ "sq-device.apple.com", SVC_ACTIVATION },
		{ "deviceenrollment.apple.com", SVC_MDM },
		{ "mdmenrollment.apple.com", SVC_MDM },
		{ "iprofiles.apple.com", SVC_MDM },
		{ "axm-adm-mdm.apple.com", SVC_MDM },
		{ "mesu.apple.com", SVC_SOFTWARE_UPDATE },
		{ "gdmf.apple.com", SVC_SOFTWARE_UPDATE },
		{ "swscan.apple.com", SVC_SOFTWARE_UPDATE },
		{ "updates.cdn-apple.com", SVC_SOFTWARE_UPDATE },
		{ "updates-http.cdn-apple.com", SVC_SOFTWARE_UPDATE },
		{ "ocsp.apple.com", SVC_CERT_VALIDATION },
		{ "ocsp2.apple.com", SVC_CERT_VALIDATION },
		{ "valid.apple.com", SVC_CERT_VALIDATION },
		{ "p01-caldav.icloud.com", SVC_ICLOUD },
		{ "icloud.com", SVC_ICLOUD },
		{ "setup.icloud.com", SVC_ICLOUD },
		{ "cvws.icloud-content.com", SVC_ICLOUD },
		{ "api.apple-cloudkit.com", SVC_ICLOUD },
		{ "gspe19-ssl.ls.apple.com", SVC_MAPS },
		{ "api.apple-mapkit.com", SVC_MAPS },
		{ "appleid.apple.com", SVC_APPLE_ID },
		{ "idmsa.apple.com", SVC_APPLE_ID },
		{ "gsa.apple.com", SVC_APPLE_ID },
		{ "time.apple.com", SVC_TIME },
		{ "time-ios.apple.com", SVC_TIME },
		{ "music.apple.com", SVC_MEDIA },
		{ "TV.Apple.COM.", SVC_MEDIA },
		{ "www.apple.com.edgekey.net", SVC_APPLE },
		{ "mesu.apple.com.edgekey.net", SVC_APPLE },
		{ "captive-cidr.origin-apple.com.akadns.net", SVC_CAPTIVE_PORTAL },
		{ "captive.g.aaplimg.com", SVC_CAPTIVE_PORTAL },
		{ "gateway.icloud.com.akadns.net", SVC_ICLOUD },
		{ "gs-loc.apple.com", SVC_MAPS },
		{ "foo.aaplimg.com", SVC_APPLE },
		{ "doh.dns.apple.com", SVC_APPLE },
		{ "safebrowsing.apple", SVC_APPLE },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		enum service_id got = dom(s, want[i].name);
		ck_assert_msg(got == want[i].svc, "%s: want %s, got %s", want[i].name,
			      service_name(want[i].svc), service_name(got));
	}
	static const char *const not_apple[] = {
		"hicloud.com", "notapple.com", "apple.com.evil.example", "e13.whatsapp.net",
		"www.google.com", "AppleWebKit", "edgekey.net", "akadns.net",
		"ocsp.digicert.com", "icloud.com.evil.example", "myicloud.com",
		"e6858.dscx.akamaiedge.net",
	};
	for (size_t i = 0; i < sizeof(not_apple) / sizeof(not_apple[0]); i++)
		ck_assert_msg(dom(s, not_apple[i]) == SVC_NONE, "%s matched %s", not_apple[i],
			      service_name(dom(s, not_apple[i])));
	sigset_free(s);
}
END_TEST

START_TEST(shipped_addresses_ports_asns)
{
	struct sigset *s = shipped();
	unsigned len = 0;
	ck_assert_int_eq(addr_svc(s, "17.253.53.201", &len), SVC_APPLE);
	ck_assert_uint_ge(len, 96 + 8);
	ck_assert_int_eq(addr_svc(s, "17.178.104.12", NULL), SVC_APPLE);
	ck_assert_int_eq(addr_svc(s, "8.8.8.8", NULL), SVC_NONE);
	ck_assert_int_eq(addr_svc(s, "2620:149:a44::1", &len), SVC_APPLE);
	ck_assert_uint_le(len, 64);
	ck_assert_int_eq(addr_svc(s, "2001:4860:4860::8888", NULL), SVC_NONE);

	ck_assert_int_eq(sigset_match_port(s, IPPROTO_TCP, 5223), SVC_PUSH);
	ck_assert_int_eq(sigset_match_port(s, IPPROTO_TCP, 2197), SVC_PUSH);
	ck_assert_int_eq(sigset_match_port(s, IPPROTO_UDP, 123), SVC_TIME);
	ck_assert_int_eq(sigset_match_port(s, IPPROTO_UDP, 3478), SVC_MESSAGING);
	ck_assert_int_eq(sigset_match_port(s, IPPROTO_TCP, 443), SVC_NONE);
	ck_assert_int_eq(sigset_match_port(s, IPPROTO_UDP, 443), SVC_NONE);

	ck_assert_int_eq(sigset_match_asn(s, 714), SVC_APPLE);
	ck_assert_int_eq(sigset_match_asn(s, 6185), SVC_APPLE);
	ck_assert_int_eq(sigset_match_asn(s, 2709), SVC_APPLE);
	ck_assert_int_eq(sigset_match_asn(s, 15169), SVC_NONE);

	struct sigset_counts c;
	sigset_get_counts(s, &c);
	ck_assert_uint_gt(c.domains, 100);
	ck_assert_uint_gt(c.prefixes, 5);
	ck_assert_uint_eq(c.asns, 3);
	sigset_free(s);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("signatures");
	TCase *t = tcase_create("format");
	tcase_add_test(t, service_names_round_trip);
	tcase_add_test(t, parses_every_directive_with_comments);
	tcase_add_test(t, identical_duplicates_are_accepted);
	tcase_add_test(t, unknown_directive_and_service);
	tcase_add_test(t, missing_and_extra_fields);
	tcase_add_test(t, bad_domain_syntax);
	tcase_add_test(t, bad_prefixes);
	tcase_add_test(t, bad_asn_and_port);
	tcase_add_test(t, conflicting_duplicates);
	tcase_add_test(t, nul_and_long_lines);
	tcase_add_test(t, failed_load_leaves_set_unchanged);
	tcase_add_test(t, successive_loads_merge);
	suite_add_tcase(s, t);

	t = tcase_create("matching");
	tcase_add_test(t, domain_matching_rules);
	tcase_add_test(t, empty_set_matches_nothing);
	tcase_add_test(t, table_grows_with_many_names);
	tcase_add_test(t, address_longest_prefix);
	suite_add_tcase(s, t);

	t = tcase_create("folders");
	tcase_add_test(t, load_dir_in_name_order);
	tcase_add_test(t, load_dir_errors);
	suite_add_tcase(s, t);

	t = tcase_create("shipped");
	tcase_add_test(t, shipped_names);
	tcase_add_test(t, shipped_addresses_ports_asns);
	suite_add_tcase(s, t);
	return s;
}

TEST_MAIN(make_suite)
