/* ASN lookups through libmaxminddb: a database built by scripts/make-asn-db
 * from tests/data/asn-test.csv (the GeoLite2-ASN layout), the other layouts
 * free databases use (number as "AS714" text or under as_number, the
 * organisation under as_name or organization), IPv4 as IPv4 and as
 * IPv4-mapped IPv6, misses, the per-engine cache and open errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asn.h"
#include "testutil.h"

static char db_path[128];

/* Run `command` with the database path appended, then open the result. */
static struct asn_db *build_and_open(const char *command)
{
	char cmd[512], err[512] = "";
	snprintf(db_path, sizeof(db_path), "/tmp/applemon-test-asn-%d.mmdb", (int)getpid());
	snprintf(cmd, sizeof(cmd), "%s %s >/dev/null", command, db_path);
	ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
	struct asn_db *db = asn_db_open(db_path, err, sizeof(err));
	ck_assert_msg(db != NULL, "%s", err);
	unlink(db_path);                      /* stays mapped */
	return db;
}

static bool lookup(const struct asn_db *db, const char *addr, struct asn_info *ai)
{
	struct ip_addr a;
	ck_assert(addr_parse(addr, &a));
	return asn_db_lookup(db, &a, ai);
}

START_TEST(geolite2_layout_from_make_asn_db)
{
	struct asn_db *db = build_and_open(
		"scripts/make-asn-db --csv tests/data/asn-test.csv --out");
	struct asn_info ai;
	ck_assert(lookup(db, "93.184.216.34", &ai));
	ck_assert_uint_eq(ai.asn, 714);
	ck_assert_str_eq(ai.org, "Apple Inc., test range");
	ck_assert(lookup(db, "::ffff:93.184.216.0", &ai));
	ck_assert_uint_eq(ai.asn, 714);
	ck_assert(lookup(db, "198.51.100.255", &ai));
	ck_assert_uint_eq(ai.asn, 64500);
	ck_assert_str_eq(ai.org, "Example \"Quoted\" Networks");
	ck_assert(lookup(db, "2001:db8:714:1::1", &ai));
	ck_assert_uint_eq(ai.asn, 6185);
	ck_assert(!lookup(db, "93.184.217.1", &ai));
	ck_assert_uint_eq(ai.asn, 0);
	ck_assert(!lookup(db, "2001:db8:715::1", &ai));
	asn_db_close(db);
}
END_TEST

START_TEST(other_layouts)
{
	struct asn_db *db = build_and_open("tests/data/make-variant-asn-db ipinfo");
	struct asn_info ai;
	ck_assert(lookup(db, "93.184.216.1", &ai));
	ck_assert_uint_eq(ai.asn, 714);
	ck_assert_str_eq(ai.org, "Apple Inc.");
	asn_db_close(db);
	db = build_and_open("tests/data/make-variant-asn-db plain");
	ck_assert(lookup(db, "93.184.216.1", &ai));
	ck_assert_uint_eq(ai.asn, 6185);
	ck_assert_str_eq(ai.org, "Apple Inc.");
	asn_db_close(db);
}
END_TEST

START_TEST(cache_hits_and_misses)
{
	struct asn_db *db = build_and_open(
		"scripts/make-asn-db --csv tests/data/asn-test.csv --out");
	struct asn_cache *c = asn_cache_new(db, 64);
	ck_assert_ptr_nonnull(c);
	struct ip_addr a, b;
	ck_assert(addr_parse("93.184.216.34", &a));
	ck_assert(addr_parse("8.8.8.8", &b));
	struct asn_info ai;
	for (int i = 0; i < 3; i++) {
		ck_assert(asn_cache_lookup(c, &a, &ai));
		ck_assert_uint_eq(ai.asn, 714);
		ck_assert(!asn_cache_lookup(c, &b, &ai));   /* misses are remembered too */
	}
	ck_assert_uint_eq(asn_cache_get_stats(c)->misses, 2);
	ck_assert_uint_eq(asn_cache_get_stats(c)->hits, 4);
	/* many addresses through few slots: still right answers */
	for (unsigned i = 0; i < 1000; i++) {
		char text[32];
		snprintf(text, sizeof(text), "93.184.%u.%u", 215 + i % 3, i % 256);
		struct ip_addr x;
		ck_assert(addr_parse(text, &x));
		bool found = asn_cache_lookup(c, &x, &ai);
		ck_assert(found == (i % 3 == 1));
	}
	asn_cache_free(c);
	asn_db_close(db);
}
END_TEST

START_TEST(open_errors)
{
	char err[512];
	ck_assert_ptr_null(asn_db_open("/nonexistent/asn.mmdb", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/asn.mmdb: cannot open"));
	ck_assert_ptr_null(asn_db_open("README.md", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "README.md: not a MaxMind DB file"));
	ck_assert_ptr_null(asn_cache_new(NULL, 16));
}
END_TEST

START_TEST(shared_copy)
{
	char path[128], cmd[512], err[512];
	snprintf(path, sizeof(path), "/tmp/applemon-test-asn-shared-%d.mmdb", (int)getpid());
	snprintf(cmd, sizeof(cmd), "scripts/make-asn-db --csv tests/data/asn-test.csv --out %s >/dev/null",
		 path);
	ck_assert(system(cmd) == 0);
	struct asn_db *a = asn_db_acquire(path, err, sizeof(err));
	ck_assert_msg(a != NULL, "%s", err);
	struct asn_db *b = asn_db_acquire(path, err, sizeof(err));
	ck_assert_ptr_eq(a, b);
	ck_assert_ptr_null(asn_db_acquire("/tmp/other.mmdb", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "another ASN database"));
	asn_db_release(a);
	struct asn_info ai;
	ck_assert(lookup(b, "93.184.216.1", &ai));      /* still open: one holder left */
	asn_db_release(b);
	unlink(path);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("asn");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, geolite2_layout_from_make_asn_db);
	tcase_add_test(tc, other_layouts);
	tcase_add_test(tc, cache_hits_and_misses);
	tcase_add_test(tc, open_errors);
	tcase_add_test(tc, shared_copy);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
