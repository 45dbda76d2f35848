/* Byte-range locks: the range rules and the lock lists of a file's opens. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <event2/event.h>
#include <talloc.h>

#include "conf/conf.h"
#include "smbd/brlock.h"
#include "smbd/conn.h"
#include "smbd/control.h"
#include "smbd/file_state.h"
#include "smbd/loop.h"
#include "smbd/loop_post.h"
#include "smbd/open.h"
#include "smbd/req.h"
#include "smbd/server.h"

#define TOP ((uint64_t)1 << 63)

static void test_range_valid(void **state)
{
	assert_true(smbd_brlock_range_valid(0, 0));
	assert_true(smbd_brlock_range_valid(UINT64_MAX, 0));
	assert_true(smbd_brlock_range_valid(UINT64_MAX, 1));
	assert_true(smbd_brlock_range_valid(TOP, TOP)); /* last byte 2^64-1 */
	assert_true(smbd_brlock_range_valid(0, UINT64_MAX));
	assert_true(smbd_brlock_range_valid(1, UINT64_MAX));
	assert_false(smbd_brlock_range_valid(2, UINT64_MAX));
	assert_false(smbd_brlock_range_valid(UINT64_MAX, 2));
	assert_false(smbd_brlock_range_valid(UINT64_MAX, UINT64_MAX));
	assert_false(smbd_brlock_range_valid(TOP + 1, TOP));
}

static void test_overlap_nonempty(void **state)
{
	assert_true(smbd_brlock_overlap(0, 4, 2, 4));
	assert_true(smbd_brlock_overlap(2, 4, 0, 4));
	assert_true(smbd_brlock_overlap(0, 10, 3, 1)); /* contained */
	assert_false(smbd_brlock_overlap(0, 4, 4, 4)); /* adjacent */
	assert_false(smbd_brlock_overlap(4, 4, 0, 4));
	assert_false(smbd_brlock_overlap(UINT64_MAX, 1, 0, UINT64_MAX)); /* last byte 2^64-2 */
	assert_true(smbd_brlock_overlap(UINT64_MAX, 1, 1, UINT64_MAX)); /* last byte 2^64-1 */
	assert_true(smbd_brlock_overlap(0, UINT64_MAX, 1, UINT64_MAX));
	assert_true(smbd_brlock_overlap(TOP - 1, 1, TOP - 1, 1));
	assert_false(smbd_brlock_overlap(TOP - 1, 1, TOP, 1));
}

/* The table of smbtorture smb2.lock.zerobytelength, both orders. */
static void test_overlap_zero_byte(void **state)
{
	static const struct {
		uint64_t off, len;
		bool overlaps; /* with a zero-byte lock at 10 */
	} t[] = {
		{ 10, 0, false }, { 9, 1, false }, { 10, 1, false }, { 11, 1, false },
		{ 9, 2, true },   { 10, 2, false }, { 9, 3, true },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(smbd_brlock_overlap(10, 0, t[i].off, t[i].len), t[i].overlaps);
		assert_int_equal(smbd_brlock_overlap(t[i].off, t[i].len, 10, 0), t[i].overlaps);
	}
	assert_false(smbd_brlock_overlap(0, 0, 0, 0));
	assert_false(smbd_brlock_overlap(UINT64_MAX, 0, UINT64_MAX, 0));
	assert_true(smbd_brlock_overlap(102, 0, 100, 10)); /* smb2.lock.errorcode */
	assert_true(smbd_brlock_overlap(UINT64_MAX, 0, 1, UINT64_MAX)); /* on its last byte */
	assert_false(smbd_brlock_overlap(UINT64_MAX, 0, 0, UINT64_MAX)); /* just past its end */
}

static void test_lock_conflicts(void **state)
{
	const struct smbd_brlock shared = { 0, 10, false };
	const struct smbd_brlock excl = { 0, 10, true };
	/* shared request */
	assert_false(smbd_brlock_lock_conflicts(&shared, false, 5, 10, false));
	assert_false(smbd_brlock_lock_conflicts(&shared, true, 5, 10, false));
	assert_true(smbd_brlock_lock_conflicts(&excl, false, 5, 10, false));
	assert_false(smbd_brlock_lock_conflicts(&excl, true, 5, 10, false)); /* stacks on own exclusive */
	/* exclusive request: every overlapping lock, one's own included */
	assert_true(smbd_brlock_lock_conflicts(&shared, false, 5, 10, true));
	assert_true(smbd_brlock_lock_conflicts(&shared, true, 5, 10, true));
	assert_true(smbd_brlock_lock_conflicts(&excl, true, 5, 10, true));
	assert_true(smbd_brlock_lock_conflicts(&excl, true, 5, 0, true));
	/* no overlap, no conflict */
	assert_false(smbd_brlock_lock_conflicts(&excl, false, 10, 10, true));
	assert_false(smbd_brlock_lock_conflicts(&excl, false, 0, 0, true));
}

static void test_io_conflicts(void **state)
{
	const struct smbd_brlock shared = { 100, 100, false };
	const struct smbd_brlock excl = { 100, 100, true };
	const struct smbd_brlock zero = { 150, 0, true };
	/* reads: other opens' exclusive locks only */
	assert_false(smbd_brlock_io_conflicts(&shared, false, 100, 100, false));
	assert_false(smbd_brlock_io_conflicts(&excl, true, 100, 100, false));
	assert_true(smbd_brlock_io_conflicts(&excl, false, 100, 100, false));
	assert_true(smbd_brlock_io_conflicts(&excl, false, 199, 1, false));
	assert_false(smbd_brlock_io_conflicts(&excl, false, 200, 1, false));
	assert_false(smbd_brlock_io_conflicts(&excl, false, 0, 100, false));
	/* writes: shared locks too, the writer's own (smb2.lock.rw-shared) */
	assert_true(smbd_brlock_io_conflicts(&shared, true, 100, 100, true));
	assert_true(smbd_brlock_io_conflicts(&shared, false, 100, 100, true));
	assert_false(smbd_brlock_io_conflicts(&excl, true, 100, 100, true));
	assert_true(smbd_brlock_io_conflicts(&excl, false, 50, 51, true));
	/* zero-length I/O and zero-byte locks never conflict */
	assert_false(smbd_brlock_io_conflicts(&excl, false, 150, 0, true));
	assert_false(smbd_brlock_io_conflicts(&zero, false, 140, 20, true));
}

/* ---- lock lists over real opens of one file ---- */

struct fixture {
	struct smbd_server *srv;
	struct smbd_conn *conn; /* what waiting requests arrived on */
	struct smbd_open *o1, *o2;
};

static struct smbd_open *fake_open(struct smbd_server *srv, uint64_t id)
{
	struct smbd_open *o = talloc_zero(srv, struct smbd_open);
	assert_non_null(o);
	o->srv = srv;
	o->fd = -1;
	o->volatile_id = o->persistent_id = id;
	o->dev = 1;
	o->ino = 42;
	assert_true(smbd_file_add_open(srv, o));
	return o;
}

static int setup(void **state)
{
	smbd_control_enter(); /* locks are shared state (smbd/control.h) */
	struct fixture *f = talloc_zero(NULL, struct fixture);
	f->srv = talloc_zero(f, struct smbd_server);
	f->srv->loop = talloc_zero(f->srv, struct smbd_loop);
	f->srv->loop->ev = event_base_new();
	f->srv->loop->posts = smbd_loop_posts_new(f->srv->loop, f->srv->loop->ev);
	assert_non_null(f->srv->loop->posts);
	f->srv->cfg = conf_default(f); /* "max async requests" */
	f->conn = talloc_zero(f, struct smbd_conn);
	f->conn->srv = f->srv;
	f->conn->loop = f->srv->loop;
	f->o1 = fake_open(f->srv, 1);
	f->o2 = fake_open(f->srv, 2);
	*state = f;
	return 0;
}

/* What smbd_open_close does for locks, without the rest of it. */
static void close_open(struct smbd_open *o)
{
	smbd_brlock_close(o);
	smbd_file_remove_open(o);
	talloc_free(o);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (f->o1)
		close_open(f->o1);
	if (f->o2)
		close_open(f->o2);
	struct event_base *ev = f->srv->loop->ev;
	talloc_free(f);
	event_base_free(ev);
	smbd_control_leave();
	return 0;
}

static void run_loop(struct fixture *f)
{
	event_base_loop(f->srv->loop->ev, EVLOOP_NONBLOCK);
}

#define OK NT_STATUS_OK
#define assert_status(x, want) assert_int_equal(NT_STATUS_V(x), NT_STATUS_V(want))

static void test_lock_unlock_exact(void **state)
{
	struct fixture *f = *state;
	assert_status(smbd_brlock_lock(f->o1, 0, 10, true), OK);
	assert_status(smbd_brlock_lock(f->o2, 5, 1, false), NT_STATUS_LOCK_NOT_GRANTED);
	/* only the exact range of the same open unlocks */
	assert_status(smbd_brlock_unlock(f->o1, 0, 9), NT_STATUS_RANGE_NOT_LOCKED);
	assert_status(smbd_brlock_unlock(f->o2, 0, 10), NT_STATUS_RANGE_NOT_LOCKED);
	assert_status(smbd_brlock_unlock(f->o1, 0, 10), OK);
	assert_status(smbd_brlock_unlock(f->o1, 0, 10), NT_STATUS_RANGE_NOT_LOCKED);
	assert_status(smbd_brlock_lock(f->o2, 5, 1, false), OK);
	/* overlapping shared locks do not coalesce (smb2.lock.overlap) */
	assert_status(smbd_brlock_lock(f->o1, 110, 4, false), OK);
	assert_status(smbd_brlock_lock(f->o1, 112, 4, false), OK);
	assert_status(smbd_brlock_unlock(f->o1, 110, 6), NT_STATUS_RANGE_NOT_LOCKED);
	assert_status(smbd_brlock_lock(f->o1, UINT64_MAX, 2, true), NT_STATUS_INVALID_LOCK_RANGE);
	assert_int_equal(smbd_brlock_count(f->o1), 2);
}

/* smb2.lock.stacking and smb2.lock.unlock */
static void test_stacking_exclusive_unlocked_first(void **state)
{
	struct fixture *f = *state;
	assert_status(smbd_brlock_lock(f->o1, 0, 10, true), OK);
	assert_status(smbd_brlock_lock(f->o1, 0, 10, false), OK);
	assert_status(smbd_brlock_lock(f->o1, 0, 10, false), OK);
	assert_status(smbd_brlock_lock(f->o1, 0, 10, true), NT_STATUS_LOCK_NOT_GRANTED);
	assert_status(smbd_brlock_lock(f->o2, 0, 10, false), NT_STATUS_LOCK_NOT_GRANTED);
	assert_status(smbd_brlock_unlock(f->o1, 0, 10), OK);
	/* the exclusive one went: o2 may now share */
	assert_status(smbd_brlock_lock(f->o2, 0, 10, false), OK);
	assert_status(smbd_brlock_unlock(f->o2, 0, 10), OK);
	assert_status(smbd_brlock_unlock(f->o1, 0, 10), OK);
	assert_status(smbd_brlock_unlock(f->o1, 0, 10), OK);
	assert_status(smbd_brlock_unlock(f->o1, 0, 10), NT_STATUS_RANGE_NOT_LOCKED);
	assert_int_equal(smbd_brlock_count(f->o1), 0);
}

static void test_drop_newest(void **state)
{
	struct fixture *f = *state;
	assert_status(smbd_brlock_lock(f->o1, 0, 10, true), OK);
	assert_status(smbd_brlock_lock(f->o1, 0, 10, false), OK);
	assert_status(smbd_brlock_lock(f->o1, 20, 10, true), OK);
	smbd_brlock_drop_newest(f->o1, 2);
	assert_int_equal(smbd_brlock_count(f->o1), 1);
	/* the exclusive lock taken first is still there */
	assert_status(smbd_brlock_lock(f->o2, 0, 10, false), NT_STATUS_LOCK_NOT_GRANTED);
	assert_status(smbd_brlock_lock(f->o2, 20, 10, true), OK);
}

static void test_check_io(void **state)
{
	struct fixture *f = *state;
	assert_status(smbd_brlock_lock(f->o1, 0, 100, true), OK);
	assert_status(smbd_brlock_lock(f->o1, 100, 100, false), OK);
	assert_status(smbd_brlock_check_io(f->o1, 0, 100, false), OK);
	assert_status(smbd_brlock_check_io(f->o1, 0, 100, true), OK);
	assert_status(smbd_brlock_check_io(f->o1, 100, 100, false), OK);
	assert_status(smbd_brlock_check_io(f->o1, 150, 1, true), NT_STATUS_FILE_LOCK_CONFLICT);
	assert_status(smbd_brlock_check_io(f->o2, 50, 1, false), NT_STATUS_FILE_LOCK_CONFLICT);
	assert_status(smbd_brlock_check_io(f->o2, 50, 0, false), OK);
	assert_status(smbd_brlock_check_io(f->o2, 150, 10, false), OK);
	assert_status(smbd_brlock_check_io(f->o2, 150, 10, true), NT_STATUS_FILE_LOCK_CONFLICT);
	assert_status(smbd_brlock_check_io(f->o2, 200, 10, true), OK);
	/* closing the holder frees the ranges ("NT byte range lock bug" check) */
	close_open(f->o1);
	f->o1 = NULL;
	assert_status(smbd_brlock_check_io(f->o2, 0, 200, true), OK);
	assert_status(smbd_brlock_lock(f->o2, 7, 1, true), OK);
}

/* ---- blocked requests ---- */

static NTSTATUS finished_status;
static int finished_calls;

static void record_finish(struct smb2_call *call, NTSTATUS status)
{
	finished_status = status;
	finished_calls++;
}

static struct smb2_call *fake_call(struct fixture *f)
{
	struct smbd_req *req = talloc_zero(f, struct smbd_req);
	assert_non_null(req);
	req->conn = f->conn;
	struct smb2_call *call = talloc_zero(req, struct smb2_call);
	assert_non_null(call);
	call->req = req;
	finished_calls = 0;
	return call;
}

static void test_wait_granted_on_unlock(void **state)
{
	struct fixture *f = *state;
	struct smb2_call *call = fake_call(f);
	assert_status(smbd_brlock_lock(f->o1, 100, 50, true), OK);
	assert_status(smbd_brlock_wait(call, f->o2, 100, 50, true, record_finish), NT_STATUS_PENDING);
	assert_non_null(call->cancel_fn);
	run_loop(f);
	assert_int_equal(finished_calls, 0);
	/* an unrelated release wakes the waiter, which keeps waiting */
	assert_status(smbd_brlock_lock(f->o1, 0, 1, false), OK);
	assert_status(smbd_brlock_unlock(f->o1, 0, 1), OK);
	run_loop(f);
	assert_int_equal(finished_calls, 0);
	assert_status(smbd_brlock_unlock(f->o1, 100, 50), OK);
	assert_int_equal(finished_calls, 0); /* never from inside the unlock */
	run_loop(f);
	assert_int_equal(finished_calls, 1);
	assert_status(finished_status, OK);
	assert_int_equal(smbd_brlock_count(f->o2), 1);
	assert_status(smbd_brlock_lock(f->o1, 100, 1, false), NT_STATUS_LOCK_NOT_GRANTED);
	talloc_free(call->req);
}

static void test_wait_granted_on_holder_close(void **state)
{
	struct fixture *f = *state;
	struct smb2_call *call = fake_call(f);
	assert_status(smbd_brlock_lock(f->o1, 100, 50, false), OK);
	assert_status(smbd_brlock_wait(call, f->o2, 120, 1, true, record_finish), NT_STATUS_PENDING);
	close_open(f->o1);
	f->o1 = NULL;
	run_loop(f);
	assert_int_equal(finished_calls, 1);
	assert_status(finished_status, OK);
	talloc_free(call->req);
}

/* smb2.lock.cancel: closing the waiting handle ends its request. */
static void test_wait_ended_by_own_close(void **state)
{
	struct fixture *f = *state;
	struct smb2_call *call = fake_call(f);
	assert_status(smbd_brlock_lock(f->o1, 100, 10, true), OK);
	assert_status(smbd_brlock_wait(call, f->o2, 100, 10, true, record_finish), NT_STATUS_PENDING);
	close_open(f->o2);
	f->o2 = NULL;
	assert_int_equal(finished_calls, 0);
	run_loop(f);
	assert_int_equal(finished_calls, 1);
	assert_status(finished_status, NT_STATUS_RANGE_NOT_LOCKED);
	assert_status(smbd_brlock_unlock(f->o1, 100, 10), OK);
	talloc_free(call->req);
}

/* A tree disconnect closes the opens, then cancels what still waits. */
static void test_wait_cancel_after_own_close(void **state)
{
	struct fixture *f = *state;
	struct smb2_call *call = fake_call(f);
	assert_status(smbd_brlock_lock(f->o1, 100, 10, true), OK);
	assert_status(smbd_brlock_wait(call, f->o2, 100, 10, true, record_finish), NT_STATUS_PENDING);
	close_open(f->o2);
	f->o2 = NULL;
	call->cancel_fn(call);
	assert_int_equal(finished_calls, 1);
	assert_status(finished_status, NT_STATUS_RANGE_NOT_LOCKED);
	run_loop(f);
	assert_int_equal(finished_calls, 1);
	talloc_free(call->req);
}

static void test_wait_cancelled(void **state)
{
	struct fixture *f = *state;
	struct smb2_call *call = fake_call(f);
	assert_status(smbd_brlock_lock(f->o1, 100, 10, true), OK);
	assert_status(smbd_brlock_wait(call, f->o2, 100, 10, false, record_finish), NT_STATUS_PENDING);
	call->cancel_fn(call);
	assert_int_equal(finished_calls, 1);
	assert_status(finished_status, NT_STATUS_CANCELLED);
	assert_null(call->async_state);
	/* a later release finds no waiter */
	assert_status(smbd_brlock_unlock(f->o1, 100, 10), OK);
	run_loop(f);
	assert_int_equal(finished_calls, 1);
	assert_int_equal(smbd_brlock_count(f->o2), 0);
	talloc_free(call->req);
}

/* A connection dropped with a request waiting frees the request first. */
static void test_wait_request_freed(void **state)
{
	struct fixture *f = *state;
	struct smb2_call *call = fake_call(f);
	assert_status(smbd_brlock_lock(f->o1, 100, 10, true), OK);
	assert_status(smbd_brlock_wait(call, f->o2, 100, 10, true, record_finish), NT_STATUS_PENDING);
	talloc_free(call->req);
	assert_status(smbd_brlock_unlock(f->o1, 100, 10), OK);
	run_loop(f);
	assert_int_equal(finished_calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_valid),
		cmocka_unit_test(test_overlap_nonempty),
		cmocka_unit_test(test_overlap_zero_byte),
		cmocka_unit_test(test_lock_conflicts),
		cmocka_unit_test(test_io_conflicts),
		cmocka_unit_test_setup_teardown(test_lock_unlock_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stacking_exclusive_unlocked_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_newest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_granted_on_unlock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_granted_on_holder_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_ended_by_own_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_cancel_after_own_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_cancelled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_request_freed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
