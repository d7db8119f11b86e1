/* cpu_affinity.c - a CPU of its own for each packet worker and for delivery. */
#include "cpu_affinity.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>

void cpu_plan_make(struct cpu_plan *plan, unsigned n_workers, bool wanted)
{
	memset(plan, 0, sizeof(*plan));
	plan->delivery = -1;
	for (unsigned i = 0; i < CPU_PLAN_MAX; i++)
		plan->worker[i] = -1;
	cpu_set_t set;
	if (!wanted || n_workers == 0 || n_workers >= CPU_PLAN_MAX ||
	    sched_getaffinity(0, sizeof(set), &set) != 0)
		return;
	int allowed[CPU_PLAN_MAX];
	unsigned n = 0;
	for (int cpu = 0; cpu < CPU_SETSIZE && n < CPU_PLAN_MAX; cpu++)
		if (CPU_ISSET(cpu, &set))
			allowed[n++] = cpu;
	if (n < n_workers + 1)
		return;
	for (unsigned i = 0; i < n_workers; i++)
		plan->worker[i] = allowed[i];
	plan->delivery = allowed[n_workers];
	plan->pin = true;
}

unsigned cpu_allowed_count(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 1;
	int n = CPU_COUNT(&set);
	return n > 0 ? (unsigned)n : 1;
}

bool cpu_pin_self(int cpu)
{
	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return false;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}
