/* The control mutex (smbd/control.h). */
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

/* Held from the first enter to the last leave of a thread. */
static void test_reentrant(void **state)
{
	(void)state;
	assert_false(smbd_control_held());
	smbd_control_enter();
	smbd_control_enter();
	assert_true(smbd_control_held());
	smbd_control_leave();
	assert_true(smbd_control_held());
	smbd_control_leave();
	assert_false(smbd_control_held());
}

static atomic_bool other_in;

static void *enter_and_leave(void *arg)
{
	(void)arg;
	assert_false(smbd_control_held()); /* held is per thread */
	smbd_control_enter();
	atomic_store(&other_in, true);
	smbd_control_leave();
	return NULL;
}

/* Another thread waits until the holder has left. */
static void test_excludes_other_threads(void **state)
{
	(void)state;
	pthread_t th;
	smbd_control_enter();
	assert_int_equal(pthread_create(&th, NULL, enter_and_leave, NULL), 0);
	usleep(100000);
	assert_false(atomic_load(&other_in));
	smbd_control_leave();
	pthread_join(th, NULL);
	assert_true(atomic_load(&other_in));
}

/* The common path takes no control mutex; everything else does. */
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
		cmocka_unit_test(test_excludes_other_threads),
		cmocka_unit_test(test_which_commands),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
