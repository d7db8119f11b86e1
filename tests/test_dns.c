/* test_dns.c - DNS parsing, name decompression and CNAME walks. */
#include <stdint.h>
#include <string.h>

#include "dns.h"
#include "testutil.h"

/* ---- Captured responses -------------------------------------------------- */

/* nDPI test capture android.pcap, frame 79 (UDP payload): the answer to
 * captive.apple.com A, three CNAMEs deep (akadns, aaplimg) to two A records.
 * All later names are compressed. */
static const uint8_t android_captive[] = {
	0xfb, 0xa6, 0x81, 0x80, 0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00,
	0x07, 0x63, 0x61, 0x70, 0x74, 0x69, 0x76, 0x65, 0x05, 0x61, 0x70, 0x70,
	0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0,
	0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x10, 0x8a, 0x00, 0x2a, 0x0c,
	0x63, 0x61, 0x70, 0x74, 0x69, 0x76, 0x65, 0x2d, 0x63, 0x69, 0x64, 0x72,
	0x0c, 0x6f, 0x72, 0x69, 0x67, 0x69, 0x6e, 0x2d, 0x61, 0x70, 0x70, 0x6c,
	0x65, 0x03, 0x63, 0x6f, 0x6d, 0x06, 0x61, 0x6b, 0x61, 0x64, 0x6e, 0x73,
	0x03, 0x6e, 0x65, 0x74, 0x00, 0xc0, 0x2f, 0x00, 0x05, 0x00, 0x01, 0x00,
	0x00, 0x00, 0x82, 0x00, 0x0e, 0x0b, 0x63, 0x61, 0x70, 0x74, 0x69, 0x76,
	0x65, 0x2d, 0x63, 0x64, 0x6e, 0xc0, 0x3c, 0xc0, 0x65, 0x00, 0x05, 0x00,
	0x01, 0x00, 0x00, 0x01, 0x54, 0x00, 0x14, 0x07, 0x63, 0x61, 0x70, 0x74,
	0x69, 0x76, 0x65, 0x01, 0x67, 0x07, 0x61, 0x61, 0x70, 0x6c, 0x69, 0x6d,
	0x67, 0xc0, 0x1a, 0xc0, 0x7f, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x13, 0x00, 0x04, 0x11, 0xfd, 0x35, 0xc9, 0xc0, 0x7f, 0x00, 0x01, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x13, 0x00, 0x04, 0x11, 0xfd, 0x35, 0xd0,
};

/* nDPI test capture teams.pcap, frame 257 (UDP payload): the answer to
 * captive.apple.com.edgekey.net A, a CNAME into akamaiedge.net and one A. */
static const uint8_t teams_edgekey[] = {
	0x29, 0xfd, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x07, 0x63, 0x61, 0x70, 0x74, 0x69, 0x76, 0x65, 0x05, 0x61, 0x70, 0x70,
	0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x07, 0x65, 0x64, 0x67, 0x65, 0x6b,
	0x65, 0x79, 0x03, 0x6e, 0x65, 0x74, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0,
	0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd2, 0x00, 0x19, 0x05,
	0x65, 0x37, 0x32, 0x37, 0x39, 0x05, 0x64, 0x73, 0x63, 0x65, 0x39, 0x0a,
	0x61, 0x6b, 0x61, 0x6d, 0x61, 0x69, 0x65, 0x64, 0x67, 0x65, 0xc0, 0x26,
	0xc0, 0x3b, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x14, 0x00, 0x04,
	0x17, 0x32, 0x9e, 0x58,
};

/* ---- Hand-built messages ------------------------------------------------- */

/* Response for captive.apple.com A: CNAME captive.apple.com.edgekey.net,
 * CNAME e1234.a.akamaiedge.net, then an A and an AAAA for the last name.
 * Offsets in the comments are from the start of the message. */
static const uint8_t chain_response[] = {
	0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
	/* 12: question captive.apple.com A IN */
	7, 'c', 'a', 'p', 't', 'i', 'v', 'e', 5, 'a', 'p', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
	0x00, 0x01, 0x00, 0x01,
	/* 35: answer 1, owner -> 12, CNAME, TTL 300, rdlength 31 */
	0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 31,
	/* 47: captive.apple.com.edgekey.net, spelled out (net at 73) */
	7, 'c', 'a', 'p', 't', 'i', 'v', 'e', 5, 'a', 'p', 'p', 'l', 'e', 3, 'c', 'o', 'm',
	7, 'e', 'd', 'g', 'e', 'k', 'e', 'y', 3, 'n', 'e', 't', 0,
	/* 78: answer 2, owner -> 47, CNAME, TTL 20, rdlength 21 */
	0xc0, 0x2f, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x14, 0x00, 21,
	/* 90: e1234.a.akamaiedge + pointer to "net" at 73 */
	5, 'e', '1', '2', '3', '4', 1, 'a', 10, 'a', 'k', 'a', 'm', 'a', 'i', 'e', 'd', 'g', 'e',
	0xc0, 0x49,
	/* 111: answer 3, owner -> 90, A 23.50.158.88 */
	0xc0, 0x5a, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x14, 0x00, 0x04,
	23, 50, 158, 88,
	/* 127: answer 4, owner -> 90, AAAA 2001:db8::1 */
	0xc0, 0x5a, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x00, 0x14, 0x00, 0x10,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
};

/* A query for captive.apple.com AAAA with an EDNS OPT record. */
static const uint8_t aaaa_query[] = {
	0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	7, 'C', 'a', 'P', 't', 'i', 'v', 'e', 5, 'A', 'P', 'P', 'L', 'E', 3, 'c', 'o', 'm', 0,
	0x00, 0x1c, 0x00, 0x01,
	0x00, 0x00, 0x29, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* ---- A small builder for the generated cases ----------------------------- */

struct builder {
	uint8_t b[4096];
	size_t n;
};

static void put8(struct builder *w, unsigned v)
{
	ck_assert_uint_lt(w->n, sizeof(w->b));
	w->b[w->n++] = (uint8_t)v;
}

static void put16(struct builder *w, unsigned v)
{
	put8(w, v >> 8);
	put8(w, v & 0xff);
}

static void put_header(struct builder *w, unsigned flags, unsigned qd, unsigned an)
{
	w->n = 0;
	put16(w, 0x4242);
	put16(w, flags);
	put16(w, qd);
	put16(w, an);
	put16(w, 0);
	put16(w, 0);
}

/* A dotted name as uncompressed labels. */
static void put_name(struct builder *w, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);
		put8(w, (unsigned)n);
		for (size_t i = 0; i < n; i++)
			put8(w, (uint8_t)name[i]);
		name += n + (dot ? 1 : 0);
	}
	put8(w, 0);
}

static void put_rr_head(struct builder *w, const char *owner, unsigned type, unsigned rdlen)
{
	put_name(w, owner);
	put16(w, type);
	put16(w, 1);
	put16(w, 0);
	put16(w, 60);
	put16(w, rdlen);
}

static void put_a(struct builder *w, const char *owner, uint8_t last)
{
	put_rr_head(w, owner, DNS_TYPE_A, 4);
	put8(w, 10);
	put8(w, 0);
	put8(w, 0);
	put8(w, last);
}

static void put_cname(struct builder *w, const char *owner, const char *target)
{
	put_rr_head(w, owner, DNS_TYPE_CNAME, (unsigned)strlen(target) + 2);
	put_name(w, target);
}

static struct dns_message msg;   /* large; kept off the stack */
static struct dns_message msg2;

/* ---- Collecting dns_walk_addresses() results ----------------------------- */

struct walk_hit {
	char addr[ADDR_STRLEN];
	char chain[DNS_MAX_CHAIN][DNS_NAME_MAX];
	size_t chain_len;
};

struct walk_log {
	struct walk_hit hits[16];
	size_t n;
};

static void record_hit(void *ctx, const struct dns_answer *a, const char *const *chain,
		       size_t chain_len)
{
	struct walk_log *log = ctx;
	ck_assert_uint_ge(chain_len, 1);
	ck_assert_uint_le(chain_len, DNS_MAX_CHAIN);
	ck_assert_str_eq(a->name, chain[chain_len - 1]);
	if (log->n >= 16)
		return;
	struct walk_hit *h = &log->hits[log->n++];
	addr_format(&a->addr, h->addr);
	h->chain_len = chain_len;
	for (size_t i = 0; i < chain_len; i++)
		snprintf(h->chain[i], sizeof(h->chain[i]), "%s", chain[i]);
}

/* ---- Tests ---------------------------------------------------------------- */

START_TEST(test_real_android_captive)
{
	ck_assert_int_eq(dns_parse(android_captive, sizeof(android_captive), &msg), DNS_OK);
	ck_assert_uint_eq(msg.id, 0xfba6);
	ck_assert(msg.response);
	ck_assert_uint_eq(msg.rcode, 0);
	ck_assert_uint_eq(msg.n_questions, 1);
	ck_assert_str_eq(msg.qname[0], "captive.apple.com");
	ck_assert_uint_eq(msg.qtype[0], DNS_TYPE_A);
	ck_assert_uint_eq(msg.ancount, 5);
	ck_assert_uint_eq(msg.n_answers, 5);
	ck_assert(!msg.answers_cut);
	ck_assert_str_eq(msg.answers[0].target, "captive-cidr.origin-apple.com.akadns.net");
	ck_assert_uint_eq(msg.answers[0].ttl, 0x108a);
	ck_assert_str_eq(msg.answers[1].name, "captive-cidr.origin-apple.com.akadns.net");
	ck_assert_str_eq(msg.answers[1].target, "captive-cdn.origin-apple.com.akadns.net");
	ck_assert_str_eq(msg.answers[2].target, "captive.g.aaplimg.com");
	ck_assert_uint_eq(msg.answers[3].type, DNS_TYPE_A);
	ck_assert_str_eq(msg.answers[3].name, "captive.g.aaplimg.com");

	struct walk_log log = { .n = 0 };
	dns_walk_addresses(&msg, record_hit, &log);
	ck_assert_uint_eq(log.n, 2);
	ck_assert_str_eq(log.hits[0].addr, "17.253.53.201");
	ck_assert_str_eq(log.hits[1].addr, "17.253.53.208");
	ck_assert_uint_eq(log.hits[0].chain_len, 4);
	ck_assert_str_eq(log.hits[0].chain[0], "captive.apple.com");
	ck_assert_str_eq(log.hits[0].chain[1], "captive-cidr.origin-apple.com.akadns.net");
	ck_assert_str_eq(log.hits[0].chain[2], "captive-cdn.origin-apple.com.akadns.net");
	ck_assert_str_eq(log.hits[0].chain[3], "captive.g.aaplimg.com");
}
END_TEST

START_TEST(test_real_teams_edgekey)
{
	ck_assert_int_eq(dns_parse(teams_edgekey, sizeof(teams_edgekey), &msg), DNS_OK);
	ck_assert_str_eq(msg.qname[0], "captive.apple.com.edgekey.net");
	ck_assert_uint_eq(msg.n_answers, 2);
	ck_assert_str_eq(msg.answers[0].target, "e7279.dsce9.akamaiedge.net");

	struct walk_log log = { .n = 0 };
	dns_walk_addresses(&msg, record_hit, &log);
	ck_assert_uint_eq(log.n, 1);
	ck_assert_str_eq(log.hits[0].addr, "23.50.158.88");
	ck_assert_uint_eq(log.hits[0].chain_len, 2);
	ck_assert_str_eq(log.hits[0].chain[1], "e7279.dsce9.akamaiedge.net");
	ck_assert(dns_plausible(teams_edgekey, sizeof(teams_edgekey)));
}
END_TEST

START_TEST(test_chain_with_compression)
{
	ck_assert_int_eq(dns_parse(chain_response, sizeof(chain_response), &msg), DNS_OK);
	ck_assert_uint_eq(msg.n_answers, 4);
	ck_assert_str_eq(msg.answers[0].name, "captive.apple.com");
	ck_assert_str_eq(msg.answers[0].target, "captive.apple.com.edgekey.net");
	ck_assert_str_eq(msg.answers[1].name, "captive.apple.com.edgekey.net");
	ck_assert_str_eq(msg.answers[1].target, "e1234.a.akamaiedge.net");
	ck_assert_str_eq(msg.answers[2].name, "e1234.a.akamaiedge.net");
	ck_assert_uint_eq(msg.answers[2].ttl, 20);
	ck_assert_uint_eq(msg.answers[3].type, DNS_TYPE_AAAA);

	struct walk_log log = { .n = 0 };
	dns_walk_addresses(&msg, record_hit, &log);
	ck_assert_uint_eq(log.n, 2);
	ck_assert_str_eq(log.hits[0].addr, "23.50.158.88");
	ck_assert_str_eq(log.hits[1].addr, "2001:db8::1");
	ck_assert_uint_eq(log.hits[1].chain_len, 3);
	ck_assert_str_eq(log.hits[1].chain[0], "captive.apple.com");
	ck_assert_str_eq(log.hits[1].chain[1], "captive.apple.com.edgekey.net");
	ck_assert_str_eq(log.hits[1].chain[2], "e1234.a.akamaiedge.net");
}
END_TEST

START_TEST(test_query_lowercased)
{
	ck_assert_int_eq(dns_parse(aaaa_query, sizeof(aaaa_query), &msg), DNS_OK);
	ck_assert(!msg.response);
	ck_assert_uint_eq(msg.opcode, 0);
	ck_assert_str_eq(msg.qname[0], "captive.apple.com");
	ck_assert_uint_eq(msg.qtype[0], DNS_TYPE_AAAA);
	ck_assert_uint_eq(msg.n_answers, 0);
	ck_assert(dns_plausible(aaaa_query, sizeof(aaaa_query)));
}
END_TEST

/* Every prefix of a message must parse without fault, and what it reports
 * must agree with the full parse: same questions, answers a prefix. */
static void check_prefixes(const uint8_t *data, size_t len)
{
	ck_assert_int_eq(dns_parse(data, len, &msg2), DNS_OK);
	for (size_t n = 0; n < len; n++) {
		/* An exact-size heap copy, so ASan sees any read past n. */
		uint8_t *heap = malloc(n ? n : 1);
		ck_assert_ptr_nonnull(heap);
		memcpy(heap, data, n);
		enum dns_result r = dns_parse(heap, n, &msg);
		if (n < 12) {
			ck_assert_int_eq(r, DNS_MALFORMED);
		} else if (r == DNS_OK) {
			ck_assert_uint_eq(msg.n_questions, msg2.n_questions);
			for (size_t q = 0; q < msg.n_questions; q++)
				ck_assert_str_eq(msg.qname[q], msg2.qname[q]);
			ck_assert_uint_le(msg.n_answers, msg2.n_answers);
			if (msg.n_answers < msg.ancount)
				ck_assert(msg.answers_cut);
			for (size_t i = 0; i < msg.n_answers; i++)
				ck_assert(memcmp(&msg.answers[i], &msg2.answers[i],
						 sizeof(msg.answers[i])) == 0);
		} else {
			ck_assert_uint_eq(msg.n_questions, 0);
		}
		ck_assert(!dns_plausible(heap, n));
		free(heap);
	}
}

START_TEST(test_truncated_every_length)
{
	check_prefixes(android_captive, sizeof(android_captive));
	check_prefixes(teams_edgekey, sizeof(teams_edgekey));
	check_prefixes(chain_response, sizeof(chain_response));
	check_prefixes(aaaa_query, sizeof(aaaa_query));
}
END_TEST

START_TEST(test_pointer_to_itself)
{
	static const uint8_t m[] = {
		0, 1, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		0xc0, 0x0c, 0, 1, 0, 1,   /* 12: pointer to 12 */
	};
	ck_assert_int_eq(dns_parse(m, sizeof(m), &msg), DNS_MALFORMED);
	ck_assert(!dns_plausible(m, sizeof(m)));
}
END_TEST

START_TEST(test_pointer_loop_inside_name)
{
	/* 12: "a" "b" then a pointer at 16 back to "b" at 14: backwards of the
	 * pointer, but inside the run it ends, so following it would loop. */
	static const uint8_t m[] = {
		0, 1, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		1, 'a', 1, 'b', 0xc0, 0x0e, 0, 1, 0, 1,
	};
	ck_assert_int_eq(dns_parse(m, sizeof(m), &msg), DNS_MALFORMED);
}
END_TEST

START_TEST(test_forward_pointer_in_answer)
{
	/* The answer's owner at 33 points forward to 35, which points back to
	 * 33: a two-pointer cycle, refused at its forward step. */
	static const uint8_t m[] = {
		0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
		3, 'c', 'o', 'm', 0, 0, 1, 0, 1,            /* 12: question com */
		1, 'x', 1, 'y', 0, 0, 0, 0, 0, 0, 0, 0,    /* 21: filler */
		0xc0, 0x23,                                 /* 33: -> 35 (forward) */
		0xc0, 0x21,                                 /* 35: -> 33 */
		0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4,
	};
	/* The answer section ends there; the question stays valid. */
	ck_assert_int_eq(dns_parse(m, sizeof(m), &msg), DNS_OK);
	ck_assert_str_eq(msg.qname[0], "com");
	ck_assert_uint_eq(msg.n_answers, 0);
	ck_assert(msg.answers_cut);
}
END_TEST

START_TEST(test_forward_pointer)
{
	static const uint8_t m[] = {
		0, 1, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		0xc0, 0x12, 0, 1, 0, 1,   /* 12: pointer to 18, after itself */
		3, 'c', 'o', 'm', 0,
	};
	ck_assert_int_eq(dns_parse(m, sizeof(m), &msg), DNS_MALFORMED);
}
END_TEST

START_TEST(test_pointer_past_end)
{
	static const uint8_t m[] = {
		0, 1, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		1, 'a', 0xff, 0xff, 0, 1, 0, 1,
	};
	ck_assert_int_eq(dns_parse(m, sizeof(m), &msg), DNS_MALFORMED);
}
END_TEST

START_TEST(test_extended_label_refused)
{
	static const uint8_t m[] = {
		0, 1, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		0x41, 0x00, 0, 1, 0, 1,
	};
	ck_assert_int_eq(dns_parse(m, sizeof(m), &msg), DNS_MALFORMED);
}
END_TEST

START_TEST(test_escaped_bytes)
{
	/* Labels holding a dot, a backslash, a space, a quote, 0xff, '_' and
	 * '*': the presentation form stays plain ASCII and unambiguous. */
	static const uint8_t m[] = {
		0, 1, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		3, 'a', '.', 'B', 4, '\\', ' ', '"', 0xff, 3, '_', '*', '-', 3, 'c', 'o', 'm', 0,
		0, 16, 0, 1,
	};
	ck_assert_int_eq(dns_parse(m, sizeof(m), &msg), DNS_OK);
	ck_assert_str_eq(msg.qname[0], "a\\046b.\\092\\032\\034\\255._*-.com");
	ck_assert_uint_eq(msg.qtype[0], 16);
}
END_TEST

START_TEST(test_root_name)
{
	static const uint8_t m[] = {
		0, 1, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		0, 0, 2, 0, 1,   /* . NS IN */
	};
	ck_assert_int_eq(dns_parse(m, sizeof(m), &msg), DNS_OK);
	ck_assert_str_eq(msg.qname[0], ".");
	ck_assert_uint_eq(msg.qtype[0], 2);
	ck_assert(dns_plausible(m, sizeof(m)));
}
END_TEST

START_TEST(test_name_wire_limit)
{
	struct builder w;
	/* Four 63-byte labels: 4 * 64 + 1 = 257 wire bytes, over 255. */
	put_header(&w, 0x0100, 1, 0);
	for (int l = 0; l < 4; l++) {
		put8(&w, 63);
		for (int i = 0; i < 63; i++)
			put8(&w, 'a');
	}
	put8(&w, 0);
	put16(&w, 1);
	put16(&w, 1);
	ck_assert_int_eq(dns_parse(w.b, w.n, &msg), DNS_MALFORMED);

	/* Three 63-byte labels and one of 61: exactly 255, accepted. */
	put_header(&w, 0x0100, 1, 0);
	for (int l = 0; l < 4; l++) {
		put8(&w, l < 3 ? 63 : 61);
		for (int i = 0; i < (l < 3 ? 63 : 61); i++)
			put8(&w, 'A');
	}
	put8(&w, 0);
	put16(&w, 1);
	put16(&w, 1);
	ck_assert_int_eq(dns_parse(w.b, w.n, &msg), DNS_OK);
	ck_assert_uint_eq(strlen(msg.qname[0]), 253);
	ck_assert_int_eq(msg.qname[0][0], 'a');
}
END_TEST

START_TEST(test_escapes_overflow_refused)
{
	/* 3 labels of 63 binary bytes: 193 wire bytes, but 758 characters once
	 * escaped. The name is refused rather than cut. */
	struct builder w;
	put_header(&w, 0x0100, 1, 0);
	for (int l = 0; l < 3; l++) {
		put8(&w, 63);
		for (int i = 0; i < 63; i++)
			put8(&w, 0x01);
	}
	put8(&w, 0);
	put16(&w, 1);
	put16(&w, 1);
	ck_assert_int_eq(dns_parse(w.b, w.n, &msg), DNS_MALFORMED);
}
END_TEST

START_TEST(test_hop_limit)
{
	/* The first answer's rdata (an unknown type) holds 41 pointers, each
	 * pointing at the one before it, the first at the question name "x".
	 * The second answer's owner points at the last of them: every pointer
	 * goes backwards, but the walk is longer than the hop limit allows. */
	struct builder w;
	put_header(&w, 0x8180, 1, 2);
	put8(&w, 1);
	put8(&w, 'x');
	put8(&w, 0);                     /* 12: the question "x" */
	put16(&w, 1);
	put16(&w, 1);
	put16(&w, 0xc00c);               /* 19: answer 1, owner "x" */
	put16(&w, 99);
	put16(&w, 1);
	put16(&w, 0);
	put16(&w, 60);
	put16(&w, 41 * 2);
	size_t prev = 12;
	for (int i = 0; i < 41; i++) {
		size_t here = w.n;
		put16(&w, 0xc000 | (unsigned)prev);
		prev = here;
	}
	put16(&w, 0xc000 | (unsigned)prev);   /* answer 2's owner */
	put16(&w, DNS_TYPE_A);
	put16(&w, 1);
	put16(&w, 0);
	put16(&w, 0);
	put16(&w, 4);
	put16(&w, 0x0a00);
	put16(&w, 0x0001);
	ck_assert_int_eq(dns_parse(w.b, w.n, &msg), DNS_OK);
	ck_assert_str_eq(msg.qname[0], "x");
	ck_assert_uint_eq(msg.n_answers, 1);
	ck_assert_uint_eq(msg.answers[0].type, 99);
	ck_assert(msg.answers_cut);

	/* The same with 20 pointers is within the limit. */
	put_header(&w, 0x8180, 1, 2);
	put8(&w, 1);
	put8(&w, 'x');
	put8(&w, 0);
	put16(&w, 1);
	put16(&w, 1);
	put16(&w, 0xc00c);
	put16(&w, 99);
	put16(&w, 1);
	put16(&w, 0);
	put16(&w, 60);
	put16(&w, 20 * 2);
	prev = 12;
	for (int i = 0; i < 20; i++) {
		size_t here = w.n;
		put16(&w, 0xc000 | (unsigned)prev);
		prev = here;
	}
	put16(&w, 0xc000 | (unsigned)prev);
	put16(&w, DNS_TYPE_A);
	put16(&w, 1);
	put16(&w, 0);
	put16(&w, 0);
	put16(&w, 4);
	put16(&w, 0x0a00);
	put16(&w, 0x0001);
	ck_assert_int_eq(dns_parse(w.b, w.n, &msg), DNS_OK);
	ck_assert_uint_eq(msg.n_answers, 2);
	ck_assert_str_eq(msg.answers[1].name, "x");
	ck_assert(!msg.answers_cut);
}
END_TEST

START_TEST(test_other_types_kept_without_data)
{
	struct builder w;
	put_header(&w, 0x8180, 1, 3);
	put_name(&w, "apple.com");
	put16(&w, 15);
	put16(&w, 1);
	put_rr_head(&w, "apple.com", 15, 8);   /* MX 10 mx.a */
	put16(&w, 10);
	put_name(&w, "mx.a");
	put_rr_head(&w, "apple.com", 16, 4);   /* TXT "abc" */
	put8(&w, 3);
	put8(&w, 'a');
	put8(&w, 'b');
	put8(&w, 'c');
	put_a(&w, "apple.com", 7);
	ck_assert_int_eq(dns_parse(w.b, w.n, &msg), DNS_OK);
	ck_assert_uint_eq(msg.n_answers, 3);
	ck_assert_uint_eq(msg.answers[0].type, 15);
	ck_assert_str_eq(msg.answers[0].target, "");
	ck_assert_uint_eq(msg.answers[1].type, 16);
	ck_assert_uint_eq(msg.answers[2].type, DNS_TYPE_A);
	char text[ADDR_STRLEN];
	addr_format(&msg.answers[2].addr, text);
	ck_assert_str_eq(text, "10.0.0.7");
	ck_assert(!msg.answers_cut);
}
END_TEST

START_TEST(test_bad_rdlength_ends_section)
{
	struct builder w;
	put_header(&w, 0x8180, 1, 2);
	put_name(&w, "apple.com");
	put16(&w, 1);
	put16(&w, 1);
	put_a(&w, "apple.com", 1);
	put_rr_head(&w, "apple.com", DNS_TYPE_A, 5);   /* an A of 5 bytes */
	for (int i = 0; i < 5; i++)
		put8(&w, 9);
	ck_assert_int_eq(dns_parse(w.b, w.n, &msg), DNS_OK);
	ck_assert_uint_eq(msg.n_answers, 1);
	ck_assert(msg.answers_cut);
	ck_assert_str_eq(msg.answers[1].name, "");

	/* A CNAME whose name runs past its rdlength. */
	put_header(&w, 0x8180, 1, 1);
	put_name(&w, "apple.com");
	put16(&w, 1);
	put16(&w, 1);
	put_rr_head(&w, "apple.com", DNS_TYPE_CNAME, 3);
	put_name(&w, "a.example");
	ck_assert_int_eq(dns_parse(w.b, w.n, &msg), DNS_OK);
	ck_assert_uint_eq(msg.n_answers, 0);
	ck_assert(msg.answers_cut);

	/* An rdlength past the end of the message. */
	put_header(&w, 0x8180, 1, 1);
	put_name(&w, "apple.com");
	put16(&w, 1);
	put16(&w, 1);
	put_rr_head(&w, "apple.com", DNS_TYPE_A, 0xffff);
	put16(&w, 0);
	ck_assert_int_eq(dns_parse(w.b, w.n, &msg), DNS_OK);
	ck_assert_uint_eq(msg.n_answers, 0);
	ck_assert(msg.answers_cut);
}
END_TEST

START_TEST(test_answer_storage_limit)
{
	struct builder w;
	put_header(&w, 0x8180, 1, 60);
	put_name(&w, "mesu.apple.com");
	put16(&w, 1);
	put16(&w, 1);
	for (unsigned i = 0; i < 60; i++) {
		put16(&w, 0xc00c);
		put16(&w, DNS_TYPE_A);
		put16(&w, 1);
		put16(&w, 0);
		put16(&w, 60);
		put16(&w, 4);
		put16(&w, 0x1100);
		put16(&w, i);
	}
	ck_assert_int_eq(dns_parse(w.b, w.n, &msg), DNS_OK);
	ck_assert_uint_eq(msg.ancount, 60);
	ck_assert_uint_eq(msg.n_answers, DNS_MAX_ANSWERS);
	ck_assert(msg.answers_cut);
	char text[ADDR_STRLEN];
	addr_format(&msg.answers[DNS_MAX_ANSWERS - 1].addr, text);
	ck_assert_str_eq(text, "17.0.0.47");
	struct walk_log log = { .n = 0 };
	dns_walk_addresses(&msg, record_hit, &log);
	ck_assert_uint_eq(log.n, 16);   /* the log keeps 16; the walk sees 48 */
}
END_TEST

START_TEST(test_question_storage_limit)
{
	struct builder w;
	put_header(&w, 0x0100, 10, 0);
	for (unsigned i = 0; i < 10; i++) {
		char name[32];
		snprintf(name, sizeof(name), "q%u.apple.com", i);
		put_name(&w, name);
		put16(&w, 1);
		put16(&w, 1);
	}
	ck_assert_int_eq(dns_parse(w.b, w.n, &msg), DNS_OK);
	ck_assert_uint_eq(msg.qdcount, 10);
	ck_assert_uint_eq(msg.n_questions, DNS_MAX_QUESTIONS);
	ck_assert_str_eq(msg.qname[7], "q7.apple.com");

	/* A bad question after the stored ones still spoils the message. */
	w.b[w.n - 5] = 0x80;   /* the last name's root byte: a reserved label type */
	ck_assert_int_eq(dns_parse(w.b, w.n, &msg), DNS_MALFORMED);
	ck_assert_uint_eq(msg.n_questions, 0);
}
END_TEST

START_TEST(test_cname_loop_in_walk)
{
	struct builder w;
	put_header(&w, 0x8180, 1, 3);
	put_name(&w, "a.apple.com");
	put16(&w, 1);
	put16(&w, 1);
	put_cname(&w, "a.apple.com", "b.example");
	put_cname(&w, "b.example", "A.Apple.com");   /* back to the question */
	put_a(&w, "b.example", 9);
	ck_assert_int_eq(dns_parse(w.b, w.n, &msg), DNS_OK);
	ck_assert_uint_eq(msg.n_answers, 3);
	struct walk_log log = { .n = 0 };
	dns_walk_addresses(&msg, record_hit, &log);
	ck_assert_uint_eq(log.n, 1);
	ck_assert_uint_eq(log.hits[0].chain_len, 2);
	ck_assert_str_eq(log.hits[0].chain[1], "b.example");
}
END_TEST

START_TEST(test_long_chain_cut)
{
	/* q -> c1 -> ... -> c20 -> A: longer than DNS_MAX_CHAIN names, so the
	 * address is not attributed; c5's own A still is. */
	struct builder w;
	char from[32], to[32];
	put_header(&w, 0x8180, 1, 22);
	put_name(&w, "q.apple.com");
	put16(&w, 1);
	put16(&w, 1);
	for (int i = 0; i < 20; i++) {
		if (i == 0)
			snprintf(from, sizeof(from), "q.apple.com");
		else
			snprintf(from, sizeof(from), "c%d.x", i);
		snprintf(to, sizeof(to), "c%d.x", i + 1);
		put_cname(&w, from, to);
	}
	put_a(&w, "c20.x", 20);
	put_a(&w, "c5.x", 5);
	ck_assert_int_eq(dns_parse(w.b, w.n, &msg), DNS_OK);
	ck_assert_uint_eq(msg.n_answers, 22);
	struct walk_log log = { .n = 0 };
	dns_walk_addresses(&msg, record_hit, &log);
	ck_assert_uint_eq(log.n, 1);
	ck_assert_str_eq(log.hits[0].addr, "10.0.0.5");
	ck_assert_uint_eq(log.hits[0].chain_len, 6);
}
END_TEST

static void count_hit(void *ctx, const struct dns_answer *a, const char *const *chain,
		      size_t chain_len)
{
	size_t *n = ctx;
	ck_assert_uint_eq(chain_len, 2);
	ck_assert_str_eq(chain[0], "Captive.Apple.COM");
	ck_assert_str_eq(chain[1], "E1.Akamaiedge.net");
	ck_assert_str_eq(a->name, "e1.akamaiedge.NET");
	(*n)++;
}

START_TEST(test_walk_case_insensitive)
{
	/* dns_parse() lowercases, but the walk must not depend on it. */
	memset(&msg, 0, sizeof(msg));
	msg.n_questions = 1;
	snprintf(msg.qname[0], DNS_NAME_MAX, "Captive.Apple.COM");
	msg.n_answers = 2;
	msg.answers[0].type = DNS_TYPE_CNAME;
	snprintf(msg.answers[0].name, DNS_NAME_MAX, "captive.apple.com");
	snprintf(msg.answers[0].target, DNS_NAME_MAX, "E1.Akamaiedge.net");
	msg.answers[1].type = DNS_TYPE_A;
	snprintf(msg.answers[1].name, DNS_NAME_MAX, "e1.akamaiedge.NET");
	ck_assert(addr_parse("17.1.2.3", &msg.answers[1].addr));
	size_t n = 0;
	dns_walk_addresses(&msg, count_hit, &n);
	ck_assert_uint_eq(n, 1);
}
END_TEST

START_TEST(test_plausible)
{
	static const uint8_t mdns_announce[] = {
		/* mDNS response, no question, one PTR with the cache-flush bit */
		0, 0, 0x84, 0x00, 0, 0, 0, 1, 0, 0, 0, 0,
		5, '_', 'h', 't', 't', 'p', 4, '_', 't', 'c', 'p', 5, 'l', 'o', 'c', 'a', 'l', 0,
		0, 12, 0x80, 0x01, 0, 0, 0x11, 0x94, 0, 5, 2, 'm', 'e', 0xc0, 0x0c,
	};
	static const uint8_t tls_bytes[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01,
					     0xfc, 0x03, 0x03, 0x00, 0x00, 0x00 };
	static const uint8_t http_bytes[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	ck_assert(dns_plausible(android_captive, sizeof(android_captive)));
	ck_assert(dns_plausible(chain_response, sizeof(chain_response)));
	ck_assert(dns_plausible(mdns_announce, sizeof(mdns_announce)));
	ck_assert(!dns_plausible(tls_bytes, sizeof(tls_bytes)));
	ck_assert(!dns_plausible(http_bytes, sizeof(http_bytes) - 1));
	ck_assert(!dns_plausible(NULL, 0));

	uint8_t m[sizeof(aaaa_query) + 1];
	memcpy(m, aaaa_query, sizeof(aaaa_query));
	m[sizeof(aaaa_query)] = 0;   /* trailing junk */
	ck_assert(!dns_plausible(m, sizeof(m)));
	memcpy(m, aaaa_query, sizeof(aaaa_query));
	m[2] = 0x18;                 /* opcode 3 */
	ck_assert(!dns_plausible(m, sizeof(aaaa_query)));
	memcpy(m, aaaa_query, sizeof(aaaa_query));
	m[3] = 0x03;                 /* a query with an rcode */
	ck_assert(!dns_plausible(m, sizeof(aaaa_query)));
	memcpy(m, aaaa_query, sizeof(aaaa_query));
	m[4] = 0x10;                 /* 4097 questions */
	ck_assert(!dns_plausible(m, sizeof(aaaa_query)));
	memcpy(m, aaaa_query, sizeof(aaaa_query));
	m[34] = 0x07;                /* class 7 */
	ck_assert(!dns_plausible(m, sizeof(aaaa_query)));
}
END_TEST

/* Random bytes behind a DNS header: the parser must stay inside the buffer
 * and produce NUL-terminated names of bounded length. */
START_TEST(test_random_bodies)
{
	uint32_t seed = 12345;
	for (int round = 0; round < 3000; round++) {
		size_t n = 12 + (size_t)(seed % 200);
		uint8_t *b = malloc(n);
		ck_assert_ptr_nonnull(b);
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			b[i] = (uint8_t)(seed >> 16);
		}
		b[4] = 0;
		b[5] = (uint8_t)(1 + round % 3);
		b[6] = 0;
		b[7] = (uint8_t)(round % 5);
		if (dns_parse(b, n, &msg) == DNS_OK) {
			for (size_t q = 0; q < msg.n_questions; q++)
				ck_assert_uint_lt(strlen(msg.qname[q]), DNS_NAME_MAX);
			for (size_t i = 0; i < msg.n_answers; i++)
				ck_assert_uint_lt(strlen(msg.answers[i].name), DNS_NAME_MAX);
		}
		(void)dns_plausible(b, n);
		free(b);
	}
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("dns");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_real_android_captive);
	tcase_add_test(tc, test_real_teams_edgekey);
	tcase_add_test(tc, test_chain_with_compression);
	tcase_add_test(tc, test_query_lowercased);
	tcase_add_test(tc, test_truncated_every_length);
	tcase_add_test(tc, test_pointer_to_itself);
	tcase_add_test(tc, test_pointer_loop_inside_name);
	tcase_add_test(tc, test_forward_pointer_in_answer);
	tcase_add_test(tc, test_forward_pointer);
	tcase_add_test(tc, test_pointer_past_end);
	tcase_add_test(tc, test_extended_label_refused);
	tcase_add_test(tc, test_escaped_bytes);
	tcase_add_test(tc, test_root_name);
	tcase_add_test(tc, test_name_wire_limit);
	tcase_add_test(tc, test_escapes_overflow_refused);
	tcase_add_test(tc, test_hop_limit);
	tcase_add_test(tc, test_other_types_kept_without_data);
	tcase_add_test(tc, test_bad_rdlength_ends_section);
	tcase_add_test(tc, test_answer_storage_limit);
	tcase_add_test(tc, test_question_storage_limit);
	tcase_add_test(tc, test_cname_loop_in_walk);
	tcase_add_test(tc, test_long_chain_cut);
	tcase_add_test(tc, test_walk_case_insensitive);
	tcase_add_test(tc, test_plausible);
	tcase_add_test(tc, test_random_bodies);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
