/* The control lock: one writer, or loops in shared sections (smbd/control.h). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "smbd/control.h"
#include "smbd/smb2_proto.h"

/* Held from the first enter to the last leave of a thread; a writer is
 * in a shared section too. */
static void test_reentrant(void **state)
{
	(void)state;
	assert_false(smbd_control_held());
	assert_false(smbd_shared_held());
	smbd_control_enter();
	smbd_control_enter();
	assert_true(smbd_control_held());
	assert_true(smbd_shared_held());
	smbd_control_leave();
	assert_true(smbd_control_held());
	smbd_control_leave();
	assert_false(smbd_control_held());
	smbd_shared_enter();
	smbd_shared_enter();
	assert_true(smbd_shared_held());
	assert_false(smbd_control_held());
	smbd_shared_leave();
	smbd_shared_leave();
	assert_false(smbd_shared_held());
}

static atomic_bool writer_in;

/* Another thread's write: writer_in once it got in. */
static void *write_once(void *arg)
{
	(void)arg;
	assert_false(smbd_control_held()); /* held is per thread */
	smbd_control_enter();
	atomic_store(&writer_in, true);
	smbd_control_leave();
	return NULL;
}

/* Starts write_once on a thread of its own. */
static void start_writer(pthread_t *w)
{
	atomic_store(&writer_in, false);
	assert_int_equal(pthread_create(w, NULL, write_once, NULL), 0);
}

/* One writer at a time. */
static void test_one_writer(void **state)
{
	(void)state;
	pthread_t th;
	smbd_control_enter();
	start_writer(&th);
	usleep(100000);
	assert_false(atomic_load(&writer_in));
	smbd_control_leave();
	pthread_join(th, NULL);
	assert_true(atomic_load(&writer_in));
}

/* A loop thread: joins, then does what it is told, step by step. */
enum step { IDLE, SHARED_IN, SHARED_OUT, WRITE_IN, WRITE_OUT, QUIT };

struct loop_thread {
	pthread_t th;
	atomic_int order; /* the step asked for */
	atomic_int done;  /* the last step done */
};

static void *loop_main(void *arg)
{
	struct loop_thread *l = arg;
	assert_true(smbd_control_join());
	for (;;) {
		int want = atomic_load(&l->order);
		if (want == atomic_load(&l->done)) {
			usleep(1000);
			continue;
		}
		switch (want) {
		case SHARED_IN: smbd_shared_enter(); break;
		case SHARED_OUT: smbd_shared_leave(); break;
		case WRITE_IN: smbd_control_enter(); break;
		case WRITE_OUT: smbd_control_leave(); break;
		case QUIT:
			smbd_control_part();
			return NULL;
		}
		atomic_store(&l->done, want);
	}
}

static void start_loop(struct loop_thread *l)
{
	atomic_init(&l->order, IDLE);
	atomic_init(&l->done, IDLE);
	assert_int_equal(pthread_create(&l->th, NULL, loop_main, l), 0);
}

/* Asks for a step; true if it was done within ms. */
static bool step(struct loop_thread *l, enum step s, int ms)
{
	atomic_store(&l->order, s);
	for (int i = 0; i < ms; i++) {
		if (atomic_load(&l->done) == (int)s)
			return true;
		usleep(1000);
	}
	return atomic_load(&l->done) == (int)s;
}

static void stop_loop(struct loop_thread *l)
{
	atomic_store(&l->order, QUIT);
	pthread_join(l->th, NULL);
}

/* Loops share: two are inside shared sections at once. */
static void test_loops_share(void **state)
{
	(void)state;
	struct loop_thread a, b;
	start_loop(&a);
	start_loop(&b);
	assert_true(step(&a, SHARED_IN, 1000));
	assert_true(step(&b, SHARED_IN, 1000));
	assert_true(step(&a, SHARED_OUT, 1000));
	assert_true(step(&b, SHARED_OUT, 1000));
	stop_loop(&a);
	stop_loop(&b);
}

/* The writer waits until every loop has left its shared section, and a
 * loop does not enter one while the writer works. */
static void test_writer_excludes_loops(void **state)
{
	(void)state;
	struct loop_thread a;
	start_loop(&a);
	assert_true(step(&a, SHARED_IN, 1000));
	pthread_t w;
	start_writer(&w);
	usleep(100000);
	assert_false(atomic_load(&writer_in)); /* waits for a */
	assert_true(step(&a, SHARED_OUT, 1000));
	pthread_join(w, NULL);
	assert_true(atomic_load(&writer_in));

	smbd_control_enter();
	assert_false(step(&a, SHARED_IN, 100)); /* waits for the writer */
	smbd_control_leave();
	assert_true(step(&a, SHARED_IN, 1000));
	assert_true(step(&a, SHARED_OUT, 1000));
	stop_loop(&a);
}

/* A loop inside a shared section that turns writer lets go of the section
 * first: a writer already waiting for it gets through, then the loop. */
static void test_turning_writer(void **state)
{
	(void)state;
	struct loop_thread a;
	start_loop(&a);
	assert_true(step(&a, SHARED_IN, 1000));
	pthread_t w;
	start_writer(&w);
	usleep(50000);
	assert_true(step(&a, WRITE_IN, 2000));
	pthread_join(w, NULL);
	assert_true(atomic_load(&writer_in));
	assert_true(step(&a, WRITE_OUT, 1000));
	assert_true(step(&a, SHARED_OUT, 1000));
	stop_loop(&a);
}

/* The common path is not control code; everything else is. */
static void test_which_commands(void **state)
{
	(void)state;
	assert_false(smbd_command_is_control(SMB2_READ));
	assert_false(smbd_command_is_control(SMB2_WRITE));
	assert_false(smbd_command_is_control(SMB2_FLUSH));
	assert_false(smbd_command_is_control(SMB2_ECHO));
	assert_true(smbd_command_is_control(SMB2_CREATE));
	assert_true(smbd_command_is_control(SMB2_CLOSE));
	assert_true(smbd_command_is_control(SMB2_LOCK));
	assert_true(smbd_command_is_control(SMB2_SESSION_SETUP));
	assert_true(smbd_command_is_control(SMB2_OPLOCK_BREAK));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reentrant),
		cmocka_unit_test(test_one_writer),
		cmocka_unit_test(test_loops_share),
		cmocka_unit_test(test_writer_excludes_loops),
		cmocka_unit_test(test_turning_writer),
		cmocka_unit_test(test_which_commands),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
