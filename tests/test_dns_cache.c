/* The DNS correlation cache: TTL clamping, expiry, updates and the bound. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "dns_cache.h"
#include "testutil.h"

#define SEC 1000000ull

static struct ip_addr addr_n(uint32_t n)
{
	uint8_t v4[4] = { 17, (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
	struct ip_addr a;
	addr_from_v4(&a, v4);
	return a;
}

START_TEST(hit_within_ttl_miss_after)
{
	struct dns_cache *c = dns_cache_new(16, 10, 3600);
	struct ip_addr a = addr_n(1);
	dns_cache_insert(c, &a, "mesu.apple.com", SVC_SOFTWARE_UPDATE, 300, 0);
	struct dns_cache_hit hit;
	ck_assert(dns_cache_lookup(c, &a, 299 * SEC, &hit));
	ck_assert_str_eq(hit.name, "mesu.apple.com");
	ck_assert_int_eq(hit.service, SVC_SOFTWARE_UPDATE);
	ck_assert(!dns_cache_lookup(c, &a, 301 * SEC, &hit));
	struct ip_addr b = addr_n(2);
	ck_assert(!dns_cache_lookup(c, &b, 0, &hit));
	dns_cache_free(c);
}
END_TEST

START_TEST(ttl_is_clamped)
{
	struct dns_cache *c = dns_cache_new(16, 60, 600);
	struct ip_addr a = addr_n(1), b = addr_n(2);
	dns_cache_insert(c, &a, "a.apple.com", SVC_APPLE, 0, 0);        /* raised to 60 */
	dns_cache_insert(c, &b, "b.apple.com", SVC_APPLE, 86400 * 7, 0); /* cut to 600 */
	ck_assert(dns_cache_lookup(c, &a, 59 * SEC, NULL));
	ck_assert(!dns_cache_lookup(c, &a, 61 * SEC, NULL));
	ck_assert(dns_cache_lookup(c, &b, 599 * SEC, NULL));
	ck_assert(!dns_cache_lookup(c, &b, 601 * SEC, NULL));
	dns_cache_free(c);
}
END_TEST

START_TEST(reanswer_updates_in_place)
{
	struct dns_cache *c = dns_cache_new(4, 1, 3600);
	struct ip_addr a = addr_n(1);
	dns_cache_insert(c, &a, "old.apple.com", SVC_APPLE, 10, 0);
	dns_cache_insert(c, &a, "push.apple.com", SVC_PUSH, 100, 5 * SEC);
	struct dns_cache_hit hit;
	ck_assert(dns_cache_lookup(c, &a, 50 * SEC, &hit));
	ck_assert_str_eq(hit.name, "push.apple.com");
	struct dns_cache_stats st;
	dns_cache_get_stats(c, &st);
	ck_assert_uint_eq(st.entries, 1);
	ck_assert_uint_eq(st.updates, 1);
	dns_cache_free(c);
}
END_TEST

START_TEST(flood_stays_within_capacity)
{
	struct dns_cache *c = dns_cache_new(1000, 60, 3600);
	for (uint32_t i = 0; i < 100000; i++) {
		struct ip_addr a = addr_n(i);
		dns_cache_insert(c, &a, "flood.apple.com", SVC_APPLE, 3600, 0);
	}
	struct dns_cache_stats st;
	dns_cache_get_stats(c, &st);
	ck_assert_uint_eq(st.entries, 1000);
	ck_assert_uint_eq(st.replaced_full, 99000);
	/* the newest survive, the oldest were replaced */
	struct ip_addr newest = addr_n(99999), oldest = addr_n(0);
	ck_assert(dns_cache_lookup(c, &newest, SEC, NULL));
	ck_assert(!dns_cache_lookup(c, &oldest, SEC, NULL));
	dns_cache_free(c);
}
END_TEST

START_TEST(long_names_are_cut_not_overflowed)
{
	struct dns_cache *c = dns_cache_new(4, 1, 3600);
	char name[300];
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	struct ip_addr a = addr_n(1);
	dns_cache_insert(c, &a, name, SVC_APPLE, 10, 0);
	struct dns_cache_hit hit;
	ck_assert(dns_cache_lookup(c, &a, 0, &hit));
	ck_assert_uint_lt(strlen(hit.name), 200);
	dns_cache_free(c);
}
END_TEST

/* A lookup changes no entry: an expired one is a miss, and stays a miss
 * (or comes back when answered again) whatever the order of lookups. */
START_TEST(lookups_only_read)
{
	struct dns_cache *c = dns_cache_new(16, 10, 3600);
	struct ip_addr a = addr_n(1);
	dns_cache_insert(c, &a, "mesu.apple.com", SVC_SOFTWARE_UPDATE, 10, 0);
	ck_assert(!dns_cache_lookup(c, &a, 11 * SEC, NULL));
	ck_assert(dns_cache_lookup(c, &a, 9 * SEC, NULL));   /* an earlier time still hits */
	struct dns_cache_stats st;
	dns_cache_get_stats(c, &st);
	ck_assert_uint_eq(st.entries, 1);
	ck_assert_uint_eq(st.expired, 1);
	dns_cache_insert(c, &a, "mesu.apple.com", SVC_SOFTWARE_UPDATE, 10, 20 * SEC);
	ck_assert(dns_cache_lookup(c, &a, 25 * SEC, NULL));
	dns_cache_get_stats(c, &st);
	ck_assert_uint_eq(st.entries, 1);
	ck_assert_uint_eq(st.updates, 1);
	dns_cache_free(c);
}
END_TEST

/* Workers share one cache: threads inserting and looking up at once keep
 * it within its bound and every hit names the address's own answer. */
#define THREADS 4
#define ROUNDS 20000

struct hammer {
	struct dns_cache *c;
	unsigned id;
	unsigned bad;
};

static void *hammer_cache(void *arg)
{
	struct hammer *h = arg;
	char name[64], want[64];
	for (unsigned i = 0; i < ROUNDS; i++) {
		uint32_t n = (i * 7919u + h->id * 104729u) % 5000u;
		struct ip_addr a = addr_n(n);
		if (i % 3 == 0) {
			snprintf(name, sizeof(name), "h%u.icloud.com", n);
			dns_cache_insert(h->c, &a, name, SVC_ICLOUD, 300, i);
		} else {
			struct dns_cache_hit hit;
			snprintf(want, sizeof(want), "h%u.icloud.com", n);
			if (dns_cache_lookup(h->c, &a, i, &hit) &&
			    (strcmp(hit.name, want) != 0 || hit.service != SVC_ICLOUD))
				h->bad++;
		}
	}
	return NULL;
}

/* The bitmap in front of the table answers for addresses never inserted,
 * and only for those: with 200,000 addresses through a cache of 64 (every
 * bit set long before the end), each one is found right after its insert,
 * and addresses never inserted are misses, counted. */
START_TEST(never_inserted_addresses_miss_inserted_ones_hit)
{
	struct dns_cache *c = dns_cache_new(64, 60, 3600);
	struct dns_cache_hit hit;
	for (uint32_t i = 0; i < 200000; i++) {
		struct ip_addr a = addr_n(i);
		dns_cache_insert(c, &a, "gateway.icloud.com", SVC_ICLOUD, 300, SEC);
		ck_assert_msg(dns_cache_lookup(c, &a, 2 * SEC, &hit), "address %u not found", i);
	}
	struct dns_cache *fresh = dns_cache_new(65536, 60, 3600);
	struct ip_addr one = addr_n(7);
	dns_cache_insert(fresh, &one, "gateway.icloud.com", SVC_ICLOUD, 300, SEC);
	for (uint32_t i = 1000; i < 11000; i++) {
		struct ip_addr a = addr_n(i);
		ck_assert(!dns_cache_lookup(fresh, &a, 2 * SEC, &hit));
	}
	ck_assert(dns_cache_lookup(fresh, &one, 2 * SEC, &hit));
	struct dns_cache_stats st;
	dns_cache_get_stats(fresh, &st);
	ck_assert_uint_eq(st.misses, 10000);
	ck_assert_uint_eq(st.hits, 1);
	dns_cache_free(fresh);
	dns_cache_free(c);
}
END_TEST

START_TEST(threads_share_it_safely)
{
	struct dns_cache *c = dns_cache_new(1024, 60, 3600);
	pthread_t th[THREADS];
	struct hammer hs[THREADS];
	for (unsigned i = 0; i < THREADS; i++) {
		hs[i] = (struct hammer){ .c = c, .id = i };
		ck_assert_int_eq(pthread_create(&th[i], NULL, hammer_cache, &hs[i]), 0);
	}
	for (unsigned i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		ck_assert_uint_eq(hs[i].bad, 0);
	}
	struct dns_cache_stats st;
	dns_cache_get_stats(c, &st);
	ck_assert_uint_le(st.entries, 1024);
	ck_assert_uint_eq(st.inserts + st.updates, (uint64_t)THREADS * ((ROUNDS + 2) / 3));
	ck_assert_uint_gt(st.hits, 0);
	dns_cache_free(c);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("dns_cache");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, hit_within_ttl_miss_after);
	tcase_add_test(tc, ttl_is_clamped);
	tcase_add_test(tc, reanswer_updates_in_place);
	tcase_add_test(tc, flood_stays_within_capacity);
	tcase_add_test(tc, long_names_are_cut_not_overflowed);
	tcase_add_test(tc, lookups_only_read);
	tcase_add_test(tc, threads_share_it_safely);
	tcase_add_test(tc, never_inserted_addresses_miss_inserted_ones_hit);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
