/* Rate-limited log lines (lib/log_ratelimit.h). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>

#include "lib/log_ratelimit.h"

/* The first event is logged; the rest of the interval only counted, and
 * the count comes with the next line. */
static void test_one_line_per_interval(void **state)
{
	(void)state;
	struct plog_ratelimit r = PLOG_RATELIMIT_INIT(10);
	unsigned long more = 99;
	assert_true(plog_ratelimit_ok_at(&r, 100, &more));
	assert_int_equal(more, 0);
	assert_false(plog_ratelimit_ok_at(&r, 100, &more));
	assert_false(plog_ratelimit_ok_at(&r, 109, &more));
	assert_true(plog_ratelimit_ok_at(&r, 110, &more));
	assert_int_equal(more, 2);
	assert_false(plog_ratelimit_ok_at(&r, 119, &more));
	assert_true(plog_ratelimit_ok_at(&r, 200, &more));
	assert_int_equal(more, 1);
}

/* Second 0 of the clock is a time like any other, not "never logged". */
static void test_second_zero(void **state)
{
	(void)state;
	struct plog_ratelimit r = PLOG_RATELIMIT_INIT(5);
	unsigned long more;
	assert_true(plog_ratelimit_ok_at(&r, 0, &more));
	assert_false(plog_ratelimit_ok_at(&r, 3, &more));
}

#define THREADS 4
#define EVENTS 20000

struct racer {
	struct plog_ratelimit *r;
	unsigned long logged, suppressed;
};

static void *race(void *arg)
{
	struct racer *me = arg;
	for (int i = 0; i < EVENTS; i++) {
		unsigned long more;
		if (plog_ratelimit_ok_at(me->r, 1000, &more)) {
			me->logged++;
			me->suppressed += more;
		}
	}
	return NULL;
}

/* Threads hitting one limit at once: one line, and every other event
 * counted once (the next line reports them all). */
static void test_threads_count_every_event(void **state)
{
	(void)state;
	struct plog_ratelimit r = PLOG_RATELIMIT_INIT(60);
	struct racer racers[THREADS];
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++) {
		racers[i] = (struct racer){ .r = &r };
		assert_int_equal(pthread_create(&th[i], NULL, race, &racers[i]), 0);
	}
	unsigned long logged = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		logged += racers[i].logged;
	}
	assert_int_equal(logged, 1);
	unsigned long more;
	assert_true(plog_ratelimit_ok_at(&r, 1060, &more));
	assert_int_equal(more, THREADS * EVENTS - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_line_per_interval),
		cmocka_unit_test(test_second_zero),
		cmocka_unit_test(test_threads_count_every_event),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
