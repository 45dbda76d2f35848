/* Shared objects' time-outs (smbd/shared_timer.h). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <talloc.h>

#include "smbd/control.h"
#include "smbd/loop.h"
#include "smbd/loop_post.h"
#include "smbd/shared_timer.h"

struct fixture {
	struct smbd_loop *loop;
	struct smbd_shared_timers *ts;
};

static int setup(void **state)
{
	struct fixture *f = talloc_zero(NULL, struct fixture);
	f->loop = talloc_zero(f, struct smbd_loop);
	f->loop->ev = event_base_new();
	f->loop->thread = pthread_self();
	f->loop->posts = smbd_loop_posts_new(f->loop, f->loop->ev);
	assert_non_null(f->loop->posts);
	f->ts = smbd_shared_timers_new(f->loop);
	assert_non_null(f->ts);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct event_base *ev = f->loop->ev;
	smbd_control_enter();
	talloc_free(f);
	smbd_control_leave();
	event_base_free(ev);
	return 0;
}

struct item {
	struct smbd_shared_timer t;
	int id;
	int repeats; /* armed again this many times */
};

static int fired[16], n_fired;
static struct smbd_shared_timers *the_heap;
static struct event_base *the_base;

static void record(struct smbd_shared_timer *t)
{
	struct item *it = SMBD_TIMER_OWNER(t, struct item, t);
	assert_true(smbd_control_held()); /* run as the writer */
	fired[n_fired++] = it->id;
	if (it->repeats > 0) {
		it->repeats--;
		assert_true(smbd_shared_timer_arm(the_heap, t, 20, record));
	}
}

static void run_for(struct event_base *ev, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	event_base_loopexit(ev, &tv);
	event_base_dispatch(ev);
}

static void reset(struct fixture *f)
{
	n_fired = 0;
	the_heap = f->ts;
	the_base = f->loop->ev;
}

/* Earliest first, each once; one disarmed does not run; one armed again
 * while waiting moves. */
static void test_order_and_disarm(void **state)
{
	struct fixture *f = *state;
	reset(f);
	struct item a = { .id = 1 }, b = { .id = 2 }, c = { .id = 3 }, d = { .id = 4 };
	smbd_control_enter();
	assert_true(smbd_shared_timer_arm(f->ts, &a.t, 300, record));
	assert_true(smbd_shared_timer_arm(f->ts, &b.t, 100, record));
	assert_true(smbd_shared_timer_arm(f->ts, &c.t, 200, record));
	assert_true(smbd_shared_timer_arm(f->ts, &d.t, 150, record));
	smbd_shared_timer_disarm(f->ts, &d.t);
	assert_false(smbd_shared_timer_armed(&d.t));
	assert_true(smbd_shared_timer_arm(f->ts, &a.t, 50, record)); /* now the first */
	smbd_control_leave();
	run_for(f->loop->ev, 500);
	assert_int_equal(n_fired, 3);
	assert_int_equal(fired[0], 1);
	assert_int_equal(fired[1], 2);
	assert_int_equal(fired[2], 3);
	assert_false(smbd_shared_timer_armed(&a.t));
}

/* A callback may arm its own timer again (a watch every so often). */
static void test_rearm_from_callback(void **state)
{
	struct fixture *f = *state;
	reset(f);
	struct item a = { .id = 7, .repeats = 2 };
	smbd_control_enter();
	assert_true(smbd_shared_timer_arm(f->ts, &a.t, 10, record));
	smbd_control_leave();
	run_for(f->loop->ev, 300);
	assert_int_equal(n_fired, 3);
	assert_false(smbd_shared_timer_armed(&a.t));
}

static void stop_loop(struct smbd_shared_timer *t)
{
	record(t);
	event_base_loopbreak(the_base);
}

static void *arm_soon(void *arg)
{
	struct item *it = arg;
	usleep(50000);
	smbd_control_enter();
	assert_true(smbd_shared_timer_arm(the_heap, &it->t, 10, stop_loop));
	smbd_control_leave();
	return NULL;
}

/* Armed from another thread for sooner than anything the loop waits for:
 * the loop's timer follows (woken by a post), and it runs in time. */
static void test_armed_from_another_thread(void **state)
{
	struct fixture *f = *state;
	reset(f);
	struct item far = { .id = 1 }, soon = { .id = 2 };
	smbd_control_enter();
	assert_true(smbd_shared_timer_arm(f->ts, &far.t, 10000, record));
	smbd_control_leave();
	pthread_t th;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(pthread_create(&th, NULL, arm_soon, &soon), 0);
	run_for(f->loop->ev, 5000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_join(th, NULL);
	assert_int_equal(n_fired, 1);
	assert_int_equal(fired[0], 2);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	smbd_control_enter();
	smbd_shared_timer_disarm(f->ts, &far.t);
	smbd_control_leave();
}

/* Many at once come out in order (the heap keeps its shape). */
static void test_many(void **state)
{
	struct fixture *f = *state;
	reset(f);
	enum { N = 200 };
	static struct item items[N];
	smbd_control_enter();
	for (int i = 0; i < N; i++) {
		items[i] = (struct item){ .id = i };
		assert_true(smbd_shared_timer_arm(f->ts, &items[i].t, (uint32_t)((i * 37) % N) * 2, record));
	}
	for (int i = 0; i < N; i += 3)
		smbd_shared_timer_disarm(f->ts, &items[i].t);
	smbd_control_leave();
	uint64_t last = 0;
	int runs = 0;
	for (int round = 0; round < 100 && runs < N - (N + 2) / 3; round++) {
		n_fired = 0;
		run_for(f->loop->ev, 20);
		for (int k = 0; k < n_fired; k++) {
			uint64_t due = items[fired[k]].t.due_ms;
			assert_true(due >= last);
			assert_true(fired[k] % 3 != 0);
			last = due;
			runs++;
		}
	}
	assert_int_equal(runs, N - (N + 2) / 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_and_disarm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rearm_from_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_armed_from_another_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
