/* Addresses: the hash every table (flows, DNS cache, suppression) buckets by.
 *
 * Hostile traffic chooses its addresses: a flood of DNS answers or of new
 * flows from one /16 must not land in a handful of buckets, or each insert
 * walks a chain as long as the table (a flood of 2 million answered
 * addresses took 30 times as long when the IPv4 bytes, which sit at the top
 * of the second 64-bit half, never reached the low bits of the hash). */
#include <string.h>

#include "addr.h"
#include "testutil.h"

#define BUCKETS 2048u

/* Largest bucket when n addresses made by make(i) go into BUCKETS buckets. */
static unsigned max_load(unsigned n, void (*make)(unsigned i, struct ip_addr *a), uint32_t seed)
{
	static unsigned load[BUCKETS];
	unsigned worst = 0;
	memset(load, 0, sizeof(load));
	for (unsigned i = 0; i < n; i++) {
		struct ip_addr a;
		make(i, &a);
		unsigned b = addr_hash(&a, seed) & (BUCKETS - 1);
		if (++load[b] > worst)
			worst = load[b];
	}
	return worst;
}

static void v4_last_two_octets(unsigned i, struct ip_addr *a)
{
	uint8_t v4[4] = { 17, 253, (uint8_t)(i >> 8), (uint8_t)i };
	addr_from_v4(a, v4);
}

static void v4_first_two_octets(unsigned i, struct ip_addr *a)
{
	uint8_t v4[4] = { (uint8_t)(i >> 8), (uint8_t)i, 0, 1 };
	addr_from_v4(a, v4);
}

static void v6_interface_id(unsigned i, struct ip_addr *a)
{
	uint8_t v6[16] = { 0x26, 0x20, 0x01, 0x49 };
	v6[14] = (uint8_t)(i >> 8);
	v6[15] = (uint8_t)i;
	addr_from_v6(a, v6);
}

static void v6_prefix(unsigned i, struct ip_addr *a)
{
	uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	v6[6] = (uint8_t)(i >> 8);
	v6[7] = (uint8_t)i;
	v6[15] = 1;
	addr_from_v6(a, v6);
}

/* 65536 addresses, 32 per bucket on average: a fair hash stays well under
 * three times that in its fullest bucket. */
START_TEST(hash_spreads_a_v4_16)
{
	ck_assert_uint_lt(max_load(65536, v4_last_two_octets, 0), 96);
	ck_assert_uint_lt(max_load(65536, v4_last_two_octets, 0x5bd1e995u), 96);
	ck_assert_uint_lt(max_load(65536, v4_first_two_octets, 12345), 96);
}
END_TEST

START_TEST(hash_spreads_v6_interface_ids_and_prefixes)
{
	ck_assert_uint_lt(max_load(65536, v6_interface_id, 0), 96);
	ck_assert_uint_lt(max_load(65536, v6_prefix, 0x243f6a88u), 96);
}
END_TEST

START_TEST(hash_depends_on_seed_and_every_byte)
{
	struct ip_addr a, b;
	v6_prefix(7, &a);
	ck_assert_uint_ne(addr_hash(&a, 1), addr_hash(&a, 2));
	for (int i = 0; i < 16; i++) {
		b = a;
		b.b[i] ^= 0x01;
		ck_assert_uint_ne(addr_hash(&a, 9), addr_hash(&b, 9));
	}
}
END_TEST

START_TEST(text_round_trip)
{
	static const char *const v[] = { "17.253.144.10", "0.0.0.0", "255.255.255.255", "::",
					 "2620:149:a44::10", "2001:db8::1:0:0:1" };
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct ip_addr a;
		char text[ADDR_STRLEN];
		ck_assert(addr_parse(v[i], &a));
		addr_format(&a, text);
		ck_assert_str_eq(text, v[i]);
	}
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("addr");
	tcase_add_test(tc, hash_spreads_a_v4_16);
	tcase_add_test(tc, hash_spreads_v6_interface_ids_and_prefixes);
	tcase_add_test(tc, hash_depends_on_seed_and_every_byte);
	tcase_add_test(tc, text_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
