/* Alert suppression per (host, service). */
#include "suppress.h"
#include "testutil.h"

#define SEC 1000000ull

static struct ip_addr host(uint32_t n)
{
	uint8_t v4[4] = { 10, (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
	struct ip_addr a;
	addr_from_v4(&a, v4);
	return a;
}

START_TEST(repeats_are_counted_and_carried)
{
	struct suppressor *s = suppressor_new(300, 1024);
	struct ip_addr h = host(1);
	uint32_t carried;
	ck_assert(suppressor_admit(s, &h, 3, 0, &carried));
	ck_assert_uint_eq(carried, 0);
	ck_assert(!suppressor_admit(s, &h, 3, 10 * SEC, &carried));
	ck_assert(!suppressor_admit(s, &h, 3, 299 * SEC, &carried));
	/* another service, another host: not suppressed */
	ck_assert(suppressor_admit(s, &h, 4, 20 * SEC, &carried));
	struct ip_addr h2 = host(2);
	ck_assert(suppressor_admit(s, &h2, 3, 20 * SEC, &carried));
	/* after the interval the next alert goes out with the count */
	ck_assert(suppressor_admit(s, &h, 3, 301 * SEC, &carried));
	ck_assert_uint_eq(carried, 2);
	ck_assert(!suppressor_admit(s, &h, 3, 302 * SEC, &carried));
	struct suppressor_stats st;
	suppressor_get_stats(s, &st);
	ck_assert_uint_eq(st.suppressed, 3);
	ck_assert_uint_eq(st.admitted, 4);
	suppressor_free(s);
}
END_TEST

START_TEST(zero_interval_sends_everything)
{
	struct suppressor *s = suppressor_new(0, 64);
	struct ip_addr h = host(1);
	uint32_t carried;
	for (int i = 0; i < 10; i++)
		ck_assert(suppressor_admit(s, &h, 3, (uint64_t)i, &carried));
	suppressor_free(s);
}
END_TEST

START_TEST(full_table_fails_open_and_recovers)
{
	struct suppressor *s = suppressor_new(60, 64);
	uint32_t carried;
	/* 48 live pairs fill three quarters of 64 slots */
	for (uint32_t i = 0; i < 200; i++) {
		struct ip_addr h = host(i);
		ck_assert(suppressor_admit(s, &h, 1, SEC, &carried));
	}
	struct suppressor_stats st;
	suppressor_get_stats(s, &st);
	ck_assert_uint_gt(st.table_full, 0);
	/* once the interval passed, the sweep frees room: suppression works again */
	struct ip_addr h = host(100000);
	ck_assert(suppressor_admit(s, &h, 1, 100 * SEC, &carried));
	ck_assert(!suppressor_admit(s, &h, 1, 101 * SEC, &carried));
	suppressor_free(s);
}
END_TEST

/* The table starts small and grows as pairs arrive: 20,000 pairs inside
 * their interval are all remembered (a capacity of 65,536 holds them), and
 * the full-table fallback never triggers. */
START_TEST(table_grows_up_to_its_capacity)
{
	struct suppressor *s = suppressor_new(300, 65536);
	uint32_t carried;
	for (uint32_t i = 0; i < 20000; i++) {
		struct ip_addr h = host(i);
		ck_assert(suppressor_admit(s, &h, 2, SEC + i, &carried));
	}
	for (uint32_t i = 0; i < 20000; i++) {
		struct ip_addr h = host(i);
		ck_assert_msg(!suppressor_admit(s, &h, 2, 2 * SEC, &carried), "pair %u forgotten", i);
	}
	struct suppressor_stats st;
	suppressor_get_stats(s, &st);
	ck_assert_uint_eq(st.table_full, 0);
	ck_assert_uint_eq(st.admitted, 20000);
	ck_assert_uint_eq(st.suppressed, 20000);
	suppressor_free(s);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("suppress");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, repeats_are_counted_and_carried);
	tcase_add_test(tc, zero_interval_sends_everything);
	tcase_add_test(tc, full_table_fails_open_and_recovers);
	tcase_add_test(tc, table_grows_up_to_its_capacity);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
