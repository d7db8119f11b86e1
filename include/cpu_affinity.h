/* cpu_affinity.h - a CPU of its own for each packet worker and for delivery.
 *
 * When the process may run on more CPUs than it has packet workers, each
 * worker is pinned to one allowed CPU and the delivery thread to the next
 * ([capture] cpu_affinity, on by default). Left to the scheduler, a woken
 * delivery thread was often placed on its waker's CPU, the two took turns
 * on one core while the other idled, and the same run went at 300,000 or at
 * 460,000 packets per second (docs/performance.md). With as many workers as
 * CPUs nothing is pinned. */
#ifndef APPLEMON_CPU_AFFINITY_H
#define APPLEMON_CPU_AFFINITY_H

#include <stdbool.h>

#define CPU_PLAN_MAX 65              /* WORKERS_MAX workers and the delivery thread */

struct cpu_plan {
	bool pin;                    /* false: leave every thread to the scheduler */
	int worker[CPU_PLAN_MAX];    /* CPU of worker i */
	int delivery;                /* CPU of the delivery thread */
};

/* The plan for n_workers on the CPUs this process may use. */
void cpu_plan_make(struct cpu_plan *plan, unsigned n_workers, bool wanted);

/* How many CPUs this process may run on (at least 1). */
unsigned cpu_allowed_count(void);

/* Pin the calling thread to one CPU; false (and nothing changed) if the
 * system refuses. */
bool cpu_pin_self(int cpu);

#endif
