/* The slab allocator behind flows, their state and reassembly buffers. */
#include <stdint.h>
#include <string.h>

#include "slab.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif
#ifdef HAVE_ASAN
#include <sanitizer/asan_interface.h>
#endif

START_TEST(objects_are_zeroed_distinct_and_counted)
{
	struct slab *s = slab_new(100);
	ck_assert_ptr_nonnull(s);
	enum { N = 50000 };   /* more than one 2 MiB block of 112-byte objects */
	static uint8_t *objs[N];
	static const uint8_t zero[100];
	for (int i = 0; i < N; i++) {
		objs[i] = slab_zalloc(s);
		ck_assert_ptr_nonnull(objs[i]);
		ck_assert(memcmp(objs[i], zero, 100) == 0);
		memset(objs[i], 0xA5, 100);   /* writes must not reach a neighbour */
		*(uint32_t *)objs[i] = (uint32_t)i;
	}
	ck_assert_uint_eq(slab_in_use(s), N);
	for (int i = 0; i < N; i++) {
		ck_assert_uint_eq(*(uint32_t *)objs[i], (uint32_t)i);
		ck_assert_uint_eq(objs[i][99], 0xA5);
	}
	for (int i = 0; i < N; i += 2)
		slab_free(s, objs[i]);
	ck_assert_uint_eq(slab_in_use(s), N / 2);
	/* freed objects come back zeroed from slab_zalloc */
	for (int i = 0; i < N; i += 2) {
		objs[i] = slab_zalloc(s);
		ck_assert(memcmp(objs[i], zero, 100) == 0);
	}
	ck_assert_uint_eq(slab_in_use(s), N);
	for (int i = 1; i < N; i += 2)
		ck_assert_uint_eq(*(uint32_t *)objs[i], (uint32_t)i);
	for (int i = 0; i < N; i++)
		slab_free(s, objs[i]);
	ck_assert_uint_eq(slab_in_use(s), 0);
	slab_destroy(s);
}
END_TEST

START_TEST(large_objects_and_unzeroed_allocation)
{
	/* TCP reassembly windows and QUIC states are some 16-19 KB each */
	struct slab *s = slab_new(18 * 1024);
	ck_assert_ptr_nonnull(s);
	uint8_t *a[300];
	for (int i = 0; i < 300; i++) {
		a[i] = slab_alloc(s);
		ck_assert_ptr_nonnull(a[i]);
		memset(a[i], i & 0xff, 18 * 1024);
	}
	for (int i = 0; i < 300; i++)
		ck_assert_uint_eq(a[i][18 * 1024 - 1], (uint8_t)(i & 0xff));
	for (int i = 0; i < 300; i++)
		slab_free(s, a[i]);
	ck_assert_uint_eq(slab_in_use(s), 0);
	slab_destroy(s);
}
END_TEST

START_TEST(sizes_it_cannot_hold_are_refused)
{
	ck_assert_ptr_null(slab_new(0));
	ck_assert_ptr_null(slab_new((size_t)4 << 20));
	slab_destroy(NULL);
}
END_TEST

START_TEST(huge_tables_come_zeroed)
{
	size_t sizes[] = { 64, (size_t)2 << 20, ((size_t)5 << 20) + 8 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *p = huge_zalloc(sizes[i]);
		ck_assert_ptr_nonnull(p);
		for (size_t k = 0; k < sizes[i]; k += 4093)
			ck_assert_uint_eq(p[k], 0);
		ck_assert_uint_eq(p[sizes[i] - 1], 0);
		memset(p, 1, sizes[i]);
		huge_free(p, sizes[i]);
	}
	huge_free(NULL, 0);
}
END_TEST

#ifdef HAVE_ASAN
/* With AddressSanitizer: a live object is addressable, the bytes after it
 * and a freed object are not, so misuse is reported as for malloc. */
START_TEST(sanitizer_sees_red_zones_and_freed_objects)
{
	struct slab *s = slab_new(40);
	uint8_t *a = slab_zalloc(s), *b = slab_zalloc(s);
	ck_assert(!__asan_region_is_poisoned(a, 40));
	ck_assert(__asan_address_is_poisoned(a + 40));
	slab_free(s, a);
	ck_assert(__asan_address_is_poisoned(a));
	ck_assert(__asan_address_is_poisoned(a + 39));
	ck_assert(!__asan_region_is_poisoned(b, 40));
	uint8_t *c = slab_alloc(s);   /* a again, addressable again */
	ck_assert_ptr_eq(c, a);
	ck_assert(!__asan_region_is_poisoned(c, 40));
	slab_free(s, b);
	slab_free(s, c);
	slab_destroy(s);
}
END_TEST
#endif

static Suite *make_suite(void)
{
	Suite *s = suite_create("slab");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, objects_are_zeroed_distinct_and_counted);
	tcase_add_test(tc, large_objects_and_unzeroed_allocation);
	tcase_add_test(tc, sizes_it_cannot_hold_are_refused);
	tcase_add_test(tc, huge_tables_come_zeroed);
#ifdef HAVE_ASAN
	tcase_add_test(tc, sanitizer_sees_red_zones_and_freed_objects);
#endif
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
