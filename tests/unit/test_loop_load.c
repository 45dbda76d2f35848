/* How busy the event loop has been lately (smbd/loop_load.h). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <time.h>

#include "smbd/loop_load.h"

#define MS (1000u * 1000)

/* A sample as long as the average's time constant replaces it. */
static void test_long_sample_replaces(void **state)
{
	(void)state;
	assert_int_equal(smbd_loop_load_step(0, 40 * MS, 40 * MS), 1000);
	assert_int_equal(smbd_loop_load_step(1000, 10 * MS, 40 * MS), 250);
	assert_int_equal(smbd_loop_load_step(700, 0, 1000 * MS), 0);
}

/* A shorter one moves it part of the way, as far as it is long. */
static void test_short_sample_moves_part_way(void **state)
{
	(void)state;
	assert_int_equal(smbd_loop_load_step(0, 10 * MS, 10 * MS), 500);
	assert_int_equal(smbd_loop_load_step(1000, 0, 5 * MS), 750);
	assert_int_equal(smbd_loop_load_step(400, 2 * MS, 4 * MS), 420);
}

/* No time, no change; CPU time beyond the wall time counts as a full core. */
static void test_edges(void **state)
{
	(void)state;
	assert_int_equal(smbd_loop_load_step(333, 5 * MS, 0), 333);
	assert_int_equal(smbd_loop_load_step(0, 80 * MS, 40 * MS), 1000);
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Measured on the calling thread: busy while it computes, idle once it sleeps. */
static void test_measures_this_thread(void **state)
{
	(void)state;
	struct smbd_loop_load l = { 0 };
	assert_int_equal(smbd_loop_load_now(&l), 0); /* the first call only starts */

	uint64_t until = cpu_ns() + 30 * MS;
	volatile uint64_t spin = 0;
	while (cpu_ns() < until)
		spin++;
	unsigned busy = smbd_loop_load_now(&l);
	/* 30 ms of CPU in at least 30 ms of wall time: a full core unless
	 * the machine kept the thread waiting for most of that */
	assert_true(busy >= 250);

	nanosleep(&(struct timespec){ 0, 50 * MS }, NULL);
	unsigned idle = smbd_loop_load_now(&l);
	assert_true(idle <= 100);

	/* Asked again at once: the last average stands (no clock tick to read). */
	assert_int_equal(smbd_loop_load_now(&l), idle);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_sample_replaces),
		cmocka_unit_test(test_short_sample_moves_part_way),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_measures_this_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
