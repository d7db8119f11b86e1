/* Fragment reassembly: IPv4 and IPv6 fragments in any order, duplicates and
 * overlaps (first copy wins), inconsistent or oversized datagrams, the
 * timeout, the bounds on datagrams and memory; then the fragmented captures
 * of the shared corpus, whose reassembled DNS answers must parse. Fragments
 * are hand-built raw IP packets read through decode_packet(), as the engine
 * gets them. */
#include <pcap/pcap.h>
#include <string.h>

#include "defrag.h"
#include "dns.h"
#include "testutil.h"

#define SEC 1000000ull

static uint8_t udp[70000];       /* a UDP datagram: header + payload */
static size_t udp_len;

static void make_udp(size_t payload)
{
	udp_len = 8 + payload;
	memset(udp, 0, sizeof(udp));
	udp[0] = 0xd4; udp[1] = 0x31;          /* 54321 */
	udp[2] = 0x00; udp[3] = 0x35;          /* 53 */
	udp[4] = (uint8_t)(udp_len >> 8);
	udp[5] = (uint8_t)udp_len;
	for (size_t i = 8; i < udp_len; i++)
		udp[i] = (uint8_t)(i * 7 + 3);
}

/* An IPv4 fragment of udp[off .. off+n) (raw IP, DLT_RAW). */
static size_t v4_frag(uint8_t *out, uint16_t id, size_t off, size_t n, bool more,
		      const uint8_t *bytes)
{
	memset(out, 0, 20);
	out[0] = 0x45;
	out[2] = (uint8_t)((20 + n) >> 8);
	out[3] = (uint8_t)(20 + n);
	out[4] = (uint8_t)(id >> 8);
	out[5] = (uint8_t)id;
	uint16_t fo = (uint16_t)((off / 8) | (more ? 0x2000 : 0));
	out[6] = (uint8_t)(fo >> 8);
	out[7] = (uint8_t)fo;
	out[8] = 64;
	out[9] = 17;
	const uint8_t src[4] = { 192, 0, 2, 53 }, dst[4] = { 10, 9, 9, 9 };
	memcpy(out + 12, src, 4);
	memcpy(out + 16, dst, 4);
	memcpy(out + 20, bytes ? bytes : udp + off, n);
	return 20 + n;
}

/* An IPv6 fragment (fragment header after the fixed header). */
static size_t v6_frag(uint8_t *out, uint32_t id, size_t off, size_t n, bool more)
{
	memset(out, 0, 48);
	out[0] = 0x60;
	out[4] = (uint8_t)((8 + n) >> 8);
	out[5] = (uint8_t)(8 + n);
	out[6] = 44;                           /* fragment header */
	out[7] = 64;
	out[8] = 0x20; out[9] = 0x01; out[10] = 0x0d; out[11] = 0xb8; out[23] = 0x53;
	out[24] = 0x20; out[25] = 0x01; out[26] = 0x0d; out[27] = 0xb8; out[39] = 0x09;
	out[40] = 17;
	uint16_t fo = (uint16_t)(off | (more ? 1 : 0));
	out[42] = (uint8_t)(fo >> 8);
	out[43] = (uint8_t)fo;
	out[44] = (uint8_t)(id >> 24);
	out[45] = (uint8_t)(id >> 16);
	out[46] = (uint8_t)(id >> 8);
	out[47] = (uint8_t)id;
	memcpy(out + 48, udp + off, n);
	return 48 + n;
}

struct frag_spec {
	size_t off, n;
	bool more;
};

/* Feed one raw fragment; true when a datagram came out (then checked). */
static bool feed(struct defrag *d, const uint8_t *frame, size_t len, uint64_t ts,
		 struct packet *out)
{
	struct packet p;
	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(decode_packet(&p, LINK_RAW, frame, (uint32_t)len, (uint32_t)len, ts, NULL),
			 DECODE_FRAGMENT);
	const uint8_t *dg;
	uint32_t dlen;
	if (!defrag_add(d, &p, &dg, &dlen))
		return false;
	ck_assert_int_eq(decode_ip(&p, dg, dlen, NULL), DECODE_OK);
	*out = p;
	return true;
}

static void assert_whole(const struct packet *p)
{
	ck_assert_uint_eq(p->l4proto, 17);
	ck_assert_uint_eq(p->sport, 54321);
	ck_assert_uint_eq(p->dport, 53);
	ck_assert_uint_eq(p->payload_len, udp_len - 8);
	ck_assert(memcmp(p->payload, udp + 8, udp_len - 8) == 0);
}

static struct defrag *new_defrag(uint32_t max, uint32_t timeout)
{
	struct defrag_limits lim = { max, timeout };
	struct defrag *d = defrag_new(&lim);
	ck_assert_ptr_nonnull(d);
	return d;
}

START_TEST(v4_every_order)
{
	make_udp(2992);                       /* 3000 bytes: 1480 + 1480 + 40 */
	static const struct frag_spec f[3] = { { 0, 1480, true }, { 1480, 1480, true },
					       { 2960, 40, false } };
	static const int orders[6][3] = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
					  { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 } };
	struct defrag *d = new_defrag(16, 30);
	uint8_t frame[1600];
	for (int o = 0; o < 6; o++) {
		struct packet p;
		for (int i = 0; i < 3; i++) {
			const struct frag_spec *s = &f[orders[o][i]];
			size_t n = v4_frag(frame, (uint16_t)(100 + o), s->off, s->n, s->more, NULL);
			bool done = feed(d, frame, n, 1 * SEC, &p);
			ck_assert(done == (i == 2));
		}
		assert_whole(&p);
		ck_assert_uint_eq(p.ip_version, 4);
	}
	const struct defrag_stats *st = defrag_get_stats(d);
	ck_assert_uint_eq(st->reassembled, 6);
	ck_assert_uint_eq(st->in_progress, 0);
	ck_assert_uint_eq(st->bytes_held, 0);
	defrag_free(d);
}
END_TEST

START_TEST(v6_fragments)
{
	make_udp(2000);
	struct defrag *d = new_defrag(16, 30);
	uint8_t frame[1600];
	struct packet p;
	size_t n = v6_frag(frame, 0xabcdef01u, 1232, 776, false);
	ck_assert(!feed(d, frame, n, SEC, &p));
	n = v6_frag(frame, 0xabcdef01u, 0, 1232, true);
	ck_assert(feed(d, frame, n, SEC, &p));
	assert_whole(&p);
	ck_assert_uint_eq(p.ip_version, 6);
	char a[ADDR_STRLEN];
	addr_format(&p.src, a);
	ck_assert_str_eq(a, "2001:db8::53");
	defrag_free(d);
}
END_TEST

START_TEST(duplicates_and_overlaps_first_wins)
{
	make_udp(1592);                       /* 1600 bytes */
	struct defrag *d = new_defrag(16, 30);
	uint8_t frame[1700], forged[1600];
	memset(forged, 'X', sizeof(forged));
	struct packet p;
	/* middle first, then a forged copy overlapping it and the start, then
	 * the genuine fragments (the genuine start arrives after the forgery) */
	size_t n = v4_frag(frame, 7, 800, 400, true, NULL);
	ck_assert(!feed(d, frame, n, SEC, &p));
	n = v4_frag(frame, 7, 400, 600, true, forged);
	ck_assert(!feed(d, frame, n, SEC, &p));
	n = v4_frag(frame, 7, 800, 400, true, NULL);      /* duplicate */
	ck_assert(!feed(d, frame, n, SEC, &p));
	n = v4_frag(frame, 7, 0, 800, true, NULL);
	ck_assert(!feed(d, frame, n, SEC, &p));
	n = v4_frag(frame, 7, 1200, 400, false, NULL);
	ck_assert(feed(d, frame, n, SEC, &p));
	/* bytes 400-800 are the forgery's (it came first); 800-1200 genuine */
	ck_assert(memcmp(p.payload + 392, forged, 400) == 0);
	ck_assert(memcmp(p.payload + 792, udp + 800, 400) == 0);
	const struct defrag_stats *st = defrag_get_stats(d);
	ck_assert_uint_eq(st->overlaps, 3);
	ck_assert_uint_eq(st->conflicts, 2);
	defrag_free(d);
}
END_TEST

START_TEST(inconsistent_and_oversized_dropped)
{
	make_udp(1592);
	struct defrag *d = new_defrag(16, 30);
	uint8_t frame[1700];
	struct packet p;
	/* two different ends */
	size_t n = v4_frag(frame, 1, 800, 200, false, NULL);
	ck_assert(!feed(d, frame, n, SEC, &p));
	n = v4_frag(frame, 1, 800, 400, false, NULL);
	ck_assert(!feed(d, frame, n, SEC, &p));
	/* a last fragment that ends before bytes already held */
	n = v4_frag(frame, 2, 400, 800, true, NULL);
	ck_assert(!feed(d, frame, n, SEC, &p));
	n = v4_frag(frame, 2, 800, 200, false, NULL);
	ck_assert(!feed(d, frame, n, SEC, &p));
	/* the ping of death: past 65535 bytes */
	n = v4_frag(frame, 3, 65520, 16, false, NULL);
	ck_assert(!feed(d, frame, n, SEC, &p));
	const struct defrag_stats *st = defrag_get_stats(d);
	ck_assert_uint_eq(st->invalid, 3);
	ck_assert_uint_eq(st->in_progress, 0);
	/* bytes past the end already announced are cut off */
	make_udp(992);                         /* 1000 bytes */
	n = v4_frag(frame, 5, 800, 200, false, NULL);
	ck_assert(!feed(d, frame, n, SEC, &p));
	n = v4_frag(frame, 5, 0, 1200, true, NULL);
	ck_assert(feed(d, frame, n, SEC, &p));
	assert_whole(&p);
	ck_assert_uint_eq(st->conflicts, 1);
	ck_assert_uint_eq(st->in_progress, 0);
	ck_assert_uint_eq(st->bytes_held, 0);
	/* too many separate pieces */
	make_udp(2000);
	for (size_t i = 0; i < DEFRAG_PIECES + 1; i++) {
		n = v4_frag(frame, 4, 16 + i * 16, 8, true, NULL);
		ck_assert(!feed(d, frame, n, SEC, &p));
	}
	ck_assert_uint_eq(st->invalid, 4);
	defrag_free(d);
}
END_TEST

START_TEST(timeout_and_bounds)
{
	make_udp(1592);
	struct defrag *d = new_defrag(4, 30);
	uint8_t frame[1700];
	struct packet p;
	/* a first fragment whose rest comes 31 s later: too late */
	size_t n = v4_frag(frame, 9, 0, 800, true, NULL);
	ck_assert(!feed(d, frame, n, 10 * SEC, &p));
	n = v4_frag(frame, 9, 800, 800, false, NULL);
	ck_assert(!feed(d, frame, n, 41 * SEC, &p));
	const struct defrag_stats *st = defrag_get_stats(d);
	ck_assert_uint_eq(st->timeouts, 1);
	ck_assert_uint_eq(st->reassembled, 0);
	/* within 30 s it completes */
	n = v4_frag(frame, 9, 0, 800, true, NULL);
	ck_assert(feed(d, frame, n, 60 * SEC, &p));
	/* at most 4 datagrams in progress: the oldest go */
	for (uint16_t id = 20; id < 30; id++) {
		n = v4_frag(frame, id, 0, 800, true, NULL);
		ck_assert(!feed(d, frame, n, 61 * SEC, &p));
	}
	ck_assert_uint_eq(st->in_progress, 4);
	ck_assert_uint_eq(st->evicted, 6);
	n = v4_frag(frame, 29, 800, 800, false, NULL);   /* the newest is still there */
	ck_assert(feed(d, frame, n, 61 * SEC, &p));
	n = v4_frag(frame, 20, 800, 800, false, NULL);   /* the oldest is not */
	ck_assert(!feed(d, frame, n, 61 * SEC, &p));
	defrag_free(d);
}
END_TEST

START_TEST(memory_bound)
{
	make_udp(100);
	struct defrag *d = new_defrag(100000, 30);
	uint8_t frame[200];
	struct packet p;
	/* each datagram has a byte at 0 and one near 64 KB: a full-size
	 * buffer each */
	for (uint32_t id = 0; id < 400; id++) {
		size_t n = v4_frag(frame, (uint16_t)id, 0, 8, true, NULL);
		ck_assert(!feed(d, frame, n, SEC, &p));
		n = v4_frag(frame, (uint16_t)id, 65000, 8, true, NULL);
		ck_assert(!feed(d, frame, n, SEC, &p));
		ck_assert_uint_le(defrag_get_stats(d)->bytes_held, DEFRAG_MEMORY);
	}
	ck_assert_uint_gt(defrag_get_stats(d)->evicted, 0);
	ck_assert_uint_lt(defrag_get_stats(d)->in_progress, 400);
	defrag_free(d);
}
END_TEST

/* A fragment far into a datagram holds its own bytes, not the offsets
 * before it; the datagram still completes when the rest comes, lowest
 * offsets last. */
START_TEST(far_fragment_holds_only_its_bytes)
{
	make_udp(60000 - 8);
	struct defrag *d = new_defrag(16, 30);
	static uint8_t frame[1600];
	struct packet p;
	size_t n = v4_frag(frame, 7, 59200, 800, false, NULL);
	ck_assert(!feed(d, frame, n, SEC, &p));
	ck_assert_uint_le(defrag_get_stats(d)->bytes_held, 4096);
	for (size_t off = 59200; off > 0;) {
		off -= 800;
		n = v4_frag(frame, 7, off, 800, true, NULL);
		ck_assert(feed(d, frame, n, SEC, &p) == (off == 0));
		/* half way: what is held spans what came, with room below
		 * it (as large as itself) for what comes next */
		if (off == 40000)
			ck_assert_uint_le(defrag_get_stats(d)->bytes_held, 2 * 20000 + 4096);
	}
	assert_whole(&p);
	ck_assert_uint_eq(defrag_get_stats(d)->bytes_held, 0);
	defrag_free(d);
}
END_TEST

/* ---- the corpus ------------------------------------------------------------ */

struct corpus_result {
	unsigned fragments, reassembled, dns_ok, udp_ok, tcp_ok;
};

static void run_capture(const char *path, struct corpus_result *r)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, errbuf);
	ck_assert_msg(pc != NULL, "%s: %s", path, errbuf);
	struct defrag *d = new_defrag(1024, 30);
	struct pcap_pkthdr *h;
	const u_char *bytes;
	struct dns_message *m = malloc(sizeof(*m));
	ck_assert_ptr_nonnull(m);
	memset(r, 0, sizeof(*r));
	while (pcap_next_ex(pc, &h, &bytes) == 1) {
		struct packet p;
		uint64_t ts = (uint64_t)h->ts.tv_sec * SEC + (uint64_t)h->ts.tv_usec;
		if (decode_packet(&p, pcap_datalink(pc), bytes, h->caplen, h->len, ts, NULL) !=
		    DECODE_FRAGMENT)
			continue;
		r->fragments++;
		const uint8_t *dg;
		uint32_t len;
		if (!defrag_add(d, &p, &dg, &len))
			continue;
		r->reassembled++;
		if (decode_ip(&p, dg, len, NULL) != DECODE_OK)
			continue;
		if (p.l4proto == 6)
			r->tcp_ok++;
		if (p.l4proto != 17)
			continue;
		r->udp_ok++;
		if ((p.sport == 53 || p.dport == 53) && dns_parse(p.payload, p.payload_len, m) == DNS_OK)
			r->dns_ok++;
	}
	free(m);
	defrag_free(d);
	pcap_close(pc);
}

START_TEST(corpus_fragmented_captures)
{
	const char *corpus = shared_corpus_dir();
	if (!corpus)
		return;
	static const struct {
		const char *file;
		unsigned reassembled, dns_ok, udp_ok, tcp_ok;
	} want[] = {
		/* DNS answers over IPv4 and IPv6 in two fragments each (as tshark: 7) */
		{ "ndpi/dns_fragmented.pcap", 7, 7, 7, 0 },
		/* a lone last fragment, then an answer in three fragments */
		{ "zeek/ipv6-fragmented-dns.pcap", 1, 1, 1, 0 },
		/* NTP: 18 bytes, a piece from 48 to the end, then a first fragment
		 * that fills the gap and runs past the end (cut) */
		{ "zeek/ipv4__fragmented-1.pcap", 1, 0, 1, 0 },
		/* the same, but the gap at 18-48 is never filled */
		{ "zeek/ipv4__fragmented-2.pcap", 0, 0, 0, 0 },
		/* an FTP segment in five fragments, the last one missing */
		{ "zeek/ipv4__fragmented-3.pcap", 0, 0, 0, 0 },
		/* overlapping fragments of an HTTP request */
		{ "zeek/ipv4__fragmented-4.pcap", 1, 0, 0, 1 },
		/* a SYN whose TCP header is split over two fragments */
		{ "zeek/ipv4__fragmented-syn.pcap", 1, 0, 0, 1 },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", corpus, want[i].file);
		struct corpus_result r;
		run_capture(path, &r);
		fprintf(stderr, "defrag corpus: %s: %u fragments, %u datagrams, %u DNS, %u TCP\n",
			want[i].file, r.fragments, r.reassembled, r.dns_ok, r.tcp_ok);
		ck_assert_msg(r.reassembled == want[i].reassembled && r.dns_ok == want[i].dns_ok &&
				      r.udp_ok == want[i].udp_ok && r.tcp_ok == want[i].tcp_ok,
			      "%s: %u datagrams, %u DNS, %u UDP, %u TCP", want[i].file, r.reassembled,
			      r.dns_ok, r.udp_ok, r.tcp_ok);
	}
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("defrag");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, v4_every_order);
	tcase_add_test(tc, v6_fragments);
	tcase_add_test(tc, duplicates_and_overlaps_first_wins);
	tcase_add_test(tc, inconsistent_and_oversized_dropped);
	tcase_add_test(tc, timeout_and_bounds);
	tcase_add_test(tc, memory_bound);
	tcase_add_test(tc, far_fragment_holds_only_its_bytes);
	tcase_add_test(tc, corpus_fragmented_captures);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
