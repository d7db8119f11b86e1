/* Which CPU each worker and the delivery thread get. */
#include <pthread.h>
#include <sched.h>

#include "cpu_affinity.h"
#include "testutil.h"

static unsigned allowed_cpus(cpu_set_t *set)
{
	ck_assert_int_eq(sched_getaffinity(0, sizeof(*set), set), 0);
	return (unsigned)CPU_COUNT(set);
}

START_TEST(nothing_is_pinned_unless_wanted_and_room)
{
	cpu_set_t set;
	unsigned n = allowed_cpus(&set);
	struct cpu_plan p;
	cpu_plan_make(&p, 1, false);
	ck_assert(!p.pin);
	ck_assert_int_eq(p.delivery, -1);
	cpu_plan_make(&p, n, true);            /* workers take every CPU */
	ck_assert(!p.pin);
	ck_assert_int_eq(p.worker[0], -1);
	cpu_plan_make(&p, 0, true);
	ck_assert(!p.pin);
}
END_TEST

START_TEST(workers_and_delivery_get_distinct_allowed_cpus)
{
	cpu_set_t set;
	unsigned n = allowed_cpus(&set);
	if (n < 2) {
		fprintf(stderr, "SKIP: one CPU allowed, nothing to pin\n");
		return;
	}
	struct cpu_plan p;
	cpu_plan_make(&p, n - 1, true);
	ck_assert(p.pin);
	ck_assert(CPU_ISSET(p.delivery, &set));
	for (unsigned i = 0; i < n - 1; i++) {
		ck_assert(CPU_ISSET(p.worker[i], &set));
		ck_assert_int_ne(p.worker[i], p.delivery);
		for (unsigned j = 0; j < i; j++)
			ck_assert_int_ne(p.worker[i], p.worker[j]);
	}
	/* and pinning the calling thread takes effect */
	ck_assert(cpu_pin_self(p.delivery));
	cpu_set_t now;
	ck_assert_int_eq(pthread_getaffinity_np(pthread_self(), sizeof(now), &now), 0);
	ck_assert_int_eq(CPU_COUNT(&now), 1);
	ck_assert(CPU_ISSET(p.delivery, &now));
	ck_assert(!cpu_pin_self(-1));
	ck_assert(sched_setaffinity(0, sizeof(set), &set) == 0);   /* as before */
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("cpu_affinity");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, nothing_is_pinned_unless_wanted_and_room);
	tcase_add_test(tc, workers_and_delivery_get_distinct_allowed_cpus);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
