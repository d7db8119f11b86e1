/* The client stream reassembler: segments in every order, duplicates,
 * overlaps whose bytes disagree (the first copy wins), a gap that is never
 * filled (the window bounds what is held), consuming, sequence numbers
 * that wrap past 2^32, and a window that outgrows its first, small room,
 * from malloc and from a pool. */
#include <string.h>

#include "tcp_reassembly.h"
#include "testutil.h"

static uint8_t stream[TCP_REASM_WINDOW + 4096];

static void fill_stream(void)
{
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < sizeof(stream); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		stream[i] = (uint8_t)x;
	}
}

/* The ready prefix must be exactly stream[0 .. n). */
static void assert_ready(const struct tcp_reasm *r, size_t n)
{
	const uint8_t *d;
	size_t got = tcp_reasm_ready(r, &d);
	ck_assert_uint_eq(got, n);
	if (n)
		ck_assert(memcmp(d, stream, n) == 0);
}

START_TEST(in_order_segment_is_parsed_in_place)
{
	fill_stream();
	struct tcp_reasm r = { 0 };
	size_t skip = 99;
	tcp_reasm_start(&r, 1000);
	ck_assert(tcp_reasm_in_order(&r, 1000, 100, &skip));
	ck_assert_uint_eq(skip, 0);
	/* a segment that starts with already consumed bytes */
	tcp_reasm_consume(&r, 60);
	ck_assert(tcp_reasm_in_order(&r, 1000, 100, &skip));
	ck_assert_uint_eq(skip, 60);
	ck_assert(!tcp_reasm_in_order(&r, 1000, 60, &skip)); /* all old */
	ck_assert(!tcp_reasm_in_order(&r, 1061, 10, &skip)); /* a gap before it */
	ck_assert(r.win == NULL);                             /* nothing was copied */
	/* once something is held, nothing is parsed in place */
	ck_assert_int_eq(tcp_reasm_add(&r, 1100, stream, 10, NULL), REASM_ADDED);
	ck_assert(!tcp_reasm_in_order(&r, 1060, 40, &skip));
	tcp_reasm_release(&r);
}
END_TEST

/* Four segments of a 4000-byte stream, fed in all 24 orders. */
START_TEST(every_order_gives_the_stream)
{
	fill_stream();
	static const size_t cut[5] = { 0, 517, 1460, 2920, 4000 };
	int perm[4] = { 0, 1, 2, 3 };
	int count = 0;
	for (;;) {
		struct tcp_reasm r = { 0 };
		struct tcp_reasm_stats st = { 0 };
		tcp_reasm_start(&r, 5000);
		size_t expect_ready = 0;
		bool have[4] = { false };
		for (int i = 0; i < 4; i++) {
			int k = perm[i];
			ck_assert_int_eq(tcp_reasm_add(&r, 5000 + (uint32_t)cut[k], stream + cut[k],
						       cut[k + 1] - cut[k], &st),
					 REASM_ADDED);
			have[k] = true;
			expect_ready = 0;
			for (int j = 0; j < 4 && have[j]; j++)
				expect_ready = cut[j + 1];
			assert_ready(&r, expect_ready);
		}
		assert_ready(&r, 4000);
		ck_assert_uint_eq(st.duplicates, 0);
		ck_assert_uint_eq(st.conflicts, 0);
		tcp_reasm_release(&r);
		count++;
		/* next permutation (lexicographic) */
		int i = 2;
		while (i >= 0 && perm[i] > perm[i + 1])
			i--;
		if (i < 0)
			break;
		int j = 3;
		while (perm[j] < perm[i])
			j--;
		int t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
		for (int a = i + 1, b = 3; a < b; a++, b--) {
			t = perm[a];
			perm[a] = perm[b];
			perm[b] = t;
		}
	}
	ck_assert_int_eq(count, 24);
}
END_TEST

START_TEST(duplicates_add_nothing)
{
	fill_stream();
	struct tcp_reasm r = { 0 };
	struct tcp_reasm_stats st = { 0 };
	tcp_reasm_start(&r, 1);
	ck_assert_int_eq(tcp_reasm_add(&r, 1, stream, 1000, &st), REASM_ADDED);
	ck_assert_int_eq(tcp_reasm_add(&r, 1, stream, 1000, &st), REASM_NOTHING_NEW);
	ck_assert_int_eq(tcp_reasm_add(&r, 101, stream + 100, 200, &st), REASM_NOTHING_NEW);
	ck_assert_uint_eq(st.duplicates, 2);
	assert_ready(&r, 1000);
	/* consumed bytes retransmitted are old too */
	tcp_reasm_consume(&r, 1000);
	assert_ready(&r, 0);
	ck_assert_int_eq(tcp_reasm_add(&r, 1, stream, 1000, &st), REASM_NOTHING_NEW);
	ck_assert_uint_eq(st.duplicates, 3);
	/* a retransmission that goes further adds only its new tail */
	ck_assert_int_eq(tcp_reasm_add(&r, 501, stream + 500, 1000, &st), REASM_ADDED);
	const uint8_t *d;
	ck_assert_uint_eq(tcp_reasm_ready(&r, &d), 500);
	ck_assert(memcmp(d, stream + 1000, 500) == 0);
	tcp_reasm_release(&r);
}
END_TEST

START_TEST(overlap_first_copy_wins)
{
	fill_stream();
	uint8_t evil[600];
	memset(evil, 'X', sizeof(evil));
	struct tcp_reasm r = { 0 };
	struct tcp_reasm_stats st = { 0 };
	tcp_reasm_start(&r, 0);
	/* the middle arrives first, then a forged copy overlapping both ends */
	ck_assert_int_eq(tcp_reasm_add(&r, 200, stream + 200, 200, &st), REASM_ADDED);
	ck_assert_int_eq(tcp_reasm_add(&r, 100, evil, 400, &st), REASM_ADDED);
	ck_assert_uint_eq(st.conflicts, 1);
	/* the genuine bytes now fill what the forgery did not reach */
	ck_assert_int_eq(tcp_reasm_add(&r, 0, stream, 100, &st), REASM_ADDED);
	const uint8_t *d;
	ck_assert_uint_eq(tcp_reasm_ready(&r, &d), 500);
	ck_assert(memcmp(d, stream, 100) == 0);
	ck_assert(memcmp(d + 100, evil, 100) == 0);          /* forged, but first there */
	ck_assert(memcmp(d + 200, stream + 200, 200) == 0);  /* genuine, first there */
	ck_assert(memcmp(d + 400, evil, 100) == 0);
	/* a later genuine retransmission does not overwrite */
	ck_assert_int_eq(tcp_reasm_add(&r, 0, stream, 500, &st), REASM_NOTHING_NEW);
	ck_assert_uint_eq(st.conflicts, 2);
	ck_assert(memcmp(d + 100, evil, 100) == 0);
	tcp_reasm_release(&r);
}
END_TEST

START_TEST(gap_never_filled_is_bounded)
{
	fill_stream();
	struct tcp_reasm r = { 0 };
	struct tcp_reasm_stats st = { 0 };
	tcp_reasm_start(&r, 7);
	/* byte 0 never comes; everything after it does, and more */
	for (size_t off = 1; off < sizeof(stream); off += 1000) {
		size_t n = sizeof(stream) - off < 1000 ? sizeof(stream) - off : 1000;
		tcp_reasm_add(&r, 7 + (uint32_t)off, stream + off, n, &st);
	}
	assert_ready(&r, 0);
	ck_assert(!tcp_reasm_full(&r));
	ck_assert_uint_gt(st.beyond_window, 0);
	ck_assert_int_eq(tcp_reasm_add(&r, 7 + TCP_REASM_WINDOW, stream, 10, &st), REASM_REFUSED);
	ck_assert_int_eq(tcp_reasm_add(&r, 7 + 3u * TCP_REASM_WINDOW, stream, 10, &st),
			 REASM_REFUSED);
	/* the gap fills: the whole window is ready, and nothing past it */
	ck_assert_int_eq(tcp_reasm_add(&r, 7, stream, 1, &st), REASM_ADDED);
	assert_ready(&r, TCP_REASM_WINDOW);
	ck_assert(tcp_reasm_full(&r));
	tcp_reasm_release(&r);
}
END_TEST

/* Held bytes and pieces survive the move from a small window to a large
 * one, in both ways of allocating. */
START_TEST(small_window_grows_keeping_its_pieces)
{
	fill_stream();
	struct tcp_reasm_pool *pool = tcp_reasm_pool_new();
	ck_assert_ptr_nonnull(pool);
	for (int use_pool = 0; use_pool < 2; use_pool++) {
		struct tcp_reasm_pool *p = use_pool ? pool : NULL;
		struct tcp_reasm r = { 0 };
		struct tcp_reasm_stats st = { 0 };
		tcp_reasm_start(&r, 1000);
		/* two pieces that fit the small room, then one past it */
		ck_assert_int_eq(tcp_reasm_add_from(&r, p, 1000 + 100, stream + 100, 1000, &st),
				 REASM_ADDED);
		ck_assert_int_eq(tcp_reasm_add_from(&r, p, 1000 + 2000, stream + 2000, 500, &st),
				 REASM_ADDED);
		assert_ready(&r, 0);
		ck_assert_int_eq(tcp_reasm_add_from(&r, p, 1000 + TCP_REASM_SMALL + 900,
						    stream + TCP_REASM_SMALL + 900, 1000, &st),
				 REASM_ADDED);
		/* a repeat of a moved piece still compares against its bytes */
		ck_assert_int_eq(tcp_reasm_add_from(&r, p, 1000 + 100, stream + 100, 1000, &st),
				 REASM_NOTHING_NEW);
		ck_assert_uint_eq(st.conflicts, 0);
		/* the gaps fill: one stream, in order, past the small room */
		size_t end = TCP_REASM_SMALL + 1900;
		for (size_t off = 0; off < end; off += 700) {
			size_t n = end - off < 700 ? end - off : 700;
			tcp_reasm_add_from(&r, p, 1000 + (uint32_t)off, stream + off, n, &st);
		}
		assert_ready(&r, end);
		ck_assert_uint_eq(st.conflicts, 0);
		tcp_reasm_consume(&r, 1000);
		const uint8_t *d;
		ck_assert_uint_eq(tcp_reasm_ready(&r, &d), end - 1000);
		ck_assert(memcmp(d, stream + 1000, end - 1000) == 0);
		tcp_reasm_release_to(&r, p);
		ck_assert_ptr_null(r.win);
	}
	tcp_reasm_pool_free(pool);
}
END_TEST

START_TEST(too_many_pieces_refused)
{
	fill_stream();
	struct tcp_reasm r = { 0 };
	struct tcp_reasm_stats st = { 0 };
	tcp_reasm_start(&r, 0);
	/* one-byte pieces with one-byte gaps */
	for (uint32_t i = 0; i < TCP_REASM_RANGES; i++)
		ck_assert_int_eq(tcp_reasm_add(&r, 1 + 2 * i, stream + 1 + 2 * i, 1, &st),
				 REASM_ADDED);
	ck_assert_int_eq(tcp_reasm_add(&r, 1000, stream + 1000, 1, &st), REASM_REFUSED);
	ck_assert_uint_eq(st.too_fragmented, 1);
	/* filling a gap merges pieces, so that is always accepted */
	for (uint32_t i = 0; i < TCP_REASM_RANGES; i++)
		ck_assert_int_eq(tcp_reasm_add(&r, 2 * i, stream + 2 * i, 1, &st), REASM_ADDED);
	assert_ready(&r, 2 * TCP_REASM_RANGES);
	tcp_reasm_release(&r);
}
END_TEST

START_TEST(consume_keeps_later_pieces)
{
	fill_stream();
	struct tcp_reasm r = { 0 };
	tcp_reasm_start(&r, 100);
	ck_assert_int_eq(tcp_reasm_add(&r, 100, stream, 300, NULL), REASM_ADDED);
	ck_assert_int_eq(tcp_reasm_add(&r, 500, stream + 400, 100, NULL), REASM_ADDED);
	tcp_reasm_consume(&r, 250);
	ck_assert_uint_eq(r.base, 350);
	const uint8_t *d;
	ck_assert_uint_eq(tcp_reasm_ready(&r, &d), 50);
	ck_assert(memcmp(d, stream + 250, 50) == 0);
	ck_assert_int_eq(tcp_reasm_add(&r, 400, stream + 300, 100, NULL), REASM_ADDED);
	ck_assert_uint_eq(tcp_reasm_ready(&r, &d), 250);
	ck_assert(memcmp(d, stream + 250, 250) == 0);
	tcp_reasm_release(&r);
}
END_TEST

START_TEST(sequence_wraps_at_2_32)
{
	fill_stream();
	struct tcp_reasm r = { 0 };
	struct tcp_reasm_stats st = { 0 };
	uint32_t isn = 0xffffff00u;       /* 256 bytes before the wrap */
	tcp_reasm_start(&r, isn);
	/* second segment (after the wrap) first, then one straddling zero, then the first */
	ck_assert_int_eq(tcp_reasm_add(&r, isn + 600, stream + 600, 400, &st), REASM_ADDED);
	ck_assert_int_eq(tcp_reasm_add(&r, isn + 200, stream + 200, 400, &st), REASM_ADDED);
	assert_ready(&r, 0);
	ck_assert_int_eq(tcp_reasm_add(&r, isn, stream, 200, &st), REASM_ADDED);
	assert_ready(&r, 1000);
	ck_assert_uint_eq(st.out_of_order, 2);
	/* a retransmission from before the wrap is old */
	tcp_reasm_consume(&r, 1000);
	ck_assert_uint_eq(r.base, isn + 1000);
	ck_assert(r.base < isn);
	ck_assert_int_eq(tcp_reasm_add(&r, isn + 10, stream + 10, 100, &st), REASM_NOTHING_NEW);
	size_t skip;
	ck_assert(tcp_reasm_in_order(&r, isn + 900, 200, &skip));
	ck_assert_uint_eq(skip, 100);
	tcp_reasm_release(&r);
}
END_TEST

/* Random segmentation, random order, random repeats with the same bytes:
 * the result is always the stream. */
START_TEST(random_segments)
{
	fill_stream();
	uint32_t x = 88172645u;
	for (int round = 0; round < 200; round++) {
		struct tcp_reasm r = { 0 };
		uint32_t isn = x;
		tcp_reasm_start(&r, isn);
		size_t total = 3000 + round * 37;
		for (int k = 0; k < 400; k++) {
			x = x * 1103515245u + 12345u;
			size_t off = (x >> 8) % total;
			x = x * 1103515245u + 12345u;
			size_t n = 1 + (x >> 8) % 1460;
			if (off + n > total)
				n = total - off;
			tcp_reasm_add(&r, isn + (uint32_t)off, stream + off, n, NULL);
		}
		/* whatever is ready is the stream's start; then fill the rest */
		const uint8_t *d;
		size_t got = tcp_reasm_ready(&r, &d);
		ck_assert(got == 0 || memcmp(d, stream, got) == 0);
		for (size_t off = 0; off < total; off += 100)
			tcp_reasm_add(&r, isn + (uint32_t)off, stream + off,
				      total - off < 100 ? total - off : 100, NULL);
		assert_ready(&r, total);
		tcp_reasm_release(&r);
	}
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("tcp_reassembly");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, in_order_segment_is_parsed_in_place);
	tcase_add_test(tc, every_order_gives_the_stream);
	tcase_add_test(tc, duplicates_add_nothing);
	tcase_add_test(tc, overlap_first_copy_wins);
	tcase_add_test(tc, gap_never_filled_is_bounded);
	tcase_add_test(tc, small_window_grows_keeping_its_pieces);
	tcase_add_test(tc, too_many_pieces_refused);
	tcase_add_test(tc, consume_keeps_later_pieces);
	tcase_add_test(tc, sequence_wraps_at_2_32);
	tcase_add_test(tc, random_segments);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
