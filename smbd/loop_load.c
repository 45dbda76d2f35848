#include "config.h"
#include "smbd/loop_load.h"

#include <time.h>

/* Samples closer together than this say little (a clock tick or two of
 * CPU time) and cost a system call each: the last average stands. */
#define SAMPLE_MIN_NS (1000u * 1000)
/* The average's time constant: a sample this long replaces it. */
#define AVERAGE_NS (20u * 1000 * 1000)

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

unsigned smbd_loop_load_step(unsigned permille, uint64_t d_cpu_ns, uint64_t d_wall_ns)
{
	if (d_wall_ns == 0)
		return permille;
	uint64_t used = d_cpu_ns >= d_wall_ns ? 1000 : d_cpu_ns * 1000 / d_wall_ns;
	if (d_wall_ns >= AVERAGE_NS)
		return (unsigned)used;
	/* permille + (used - permille) * d_wall / AVERAGE, in integers */
	int64_t moved = ((int64_t)used - (int64_t)permille) * (int64_t)d_wall_ns / (int64_t)AVERAGE_NS;
	return (unsigned)((int64_t)permille + moved);
}

unsigned smbd_loop_load_now(struct smbd_loop_load *l)
{
	uint64_t wall = clock_ns(CLOCK_MONOTONIC);
	if (l->wall_ns != 0 && wall - l->wall_ns < SAMPLE_MIN_NS)
		return l->permille;
	uint64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	if (l->wall_ns != 0 && cpu >= l->cpu_ns)
		l->permille = smbd_loop_load_step(l->permille, cpu - l->cpu_ns, wall - l->wall_ns);
	l->wall_ns = wall;
	l->cpu_ns = cpu;
	return l->permille;
}
