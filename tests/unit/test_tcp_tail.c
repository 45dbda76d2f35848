/*
 * A large WRITE's data moved from a TCP socket into its file
 * (smbd/tcp_tail.h): the file gets it in pieces while the rest still
 * arrives; the socket wakes the loop only once enough is in (SO_RCVLOWAT),
 * and is left as it was found when the transfer ends, with the bytes
 * after the data (the next frame) still in it. A sender too slow to reach
 * the mark is not taken for a stalled one.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>
#include <talloc.h>

#include "smbd/tcp_tail.h"
#include "smbd/transport.h"
#include "smbd/vfs_uring.h"
#include "tests/unit/tcp_pair.h"

#define KIB 1024u
#define DATA_LEN (1024 * KIB) /* a 1 MiB WRITE's data */
#define FIRST_PART (512 * KIB) /* sent before the test looks at the file */
#define PRE_LEN 100u /* read by the transport with the WRITE's header */
#define NEXT_LEN 70u /* the next frame's first bytes, not the tail's */

struct fixture {
	TALLOC_CTX *mem;
	struct event_base *ev;
	struct vfs_uring *u;
	int srv, cli; /* the server's end (non-blocking), the client's */
	int fd;
	char path[64];
	struct tcp_tail *t;
	struct smbd_tail_write w;
	bool written;    /* w.done() ran */
	bool ended;      /* ended() ran */
	const char *why; /* ... and why */
	uint8_t *data;   /* the stream the client sends: data, then the next frame */
	size_t sent;
};

static uint8_t byte_at(size_t i)
{
	return (uint8_t)(i * 13u + i / 4096u);
}

static void written(struct smbd_tail_write *w)
{
	struct fixture *f = w->private_data;
	assert_false(f->written);
	f->written = true;
}

static void ended(void *arg, const char *why)
{
	struct fixture *f = arg;
	assert_false(f->ended);
	f->ended = true;
	f->why = why;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->mem = talloc_new(NULL);
	f->ev = event_base_new();
	f->u = vfs_uring_new(f->mem, f->ev);
	tcp_pair(&f->srv, &f->cli, 0);
	strcpy(f->path, "/tmp/porthos-test-tail-XXXXXX");
	f->fd = mkstemp(f->path);
	f->data = malloc(DATA_LEN + NEXT_LEN);
	for (size_t i = 0; i < DATA_LEN + NEXT_LEN; i++)
		f->data[i] = byte_at(i);
	if (f->u != NULL)
		f->t = tcp_tail_new(f->mem, f->ev, f->u, f->srv, NULL, NULL);
	f->w = (struct smbd_tail_write){ .fd = f->fd, .done = written, .private_data = f };
	*state = f;
	return f->ev != NULL && f->fd >= 0 && (f->u == NULL || f->t != NULL) ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	talloc_free(f->mem); /* the tail, and the ring once nothing is in flight */
	close(f->srv);
	close(f->cli);
	close(f->fd);
	unlink(f->path);
	event_base_free(f->ev);
	free(f->data);
	free(f);
	return 0;
}

static int lowat(const struct fixture *f)
{
	int v = -1;
	socklen_t len = sizeof(v);
	assert_int_equal(getsockopt(f->srv, SOL_SOCKET, SO_RCVLOWAT, &v, &len), 0);
	return v;
}

static off_t file_size(const struct fixture *f)
{
	struct stat st;
	assert_int_equal(fstat(f->fd, &st), 0);
	return st.st_size;
}

/* Sends the stream up to byte upto as the socket takes it, and runs the
 * loop, until done(f) or 10 s. */
static void run_until(struct fixture *f, size_t upto, bool (*done)(const struct fixture *f))
{
	time_t deadline = time(NULL) + 10;
	while (!done(f)) {
		assert_true(time(NULL) < deadline);
		if (f->sent < upto) {
			ssize_t n = send(f->cli, f->data + f->sent, upto - f->sent, MSG_DONTWAIT);
			assert_true(n > 0 || (n < 0 && errno == EAGAIN));
			if (n > 0)
				f->sent += (size_t)n;
		}
		event_base_loop(f->ev, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		poll(NULL, 0, 1);
	}
}

static bool first_piece_in_file(const struct fixture *f)
{
	return f->sent == FIRST_PART && file_size(f) >= 256 * KIB;
}

static bool all_written(const struct fixture *f)
{
	return f->written && f->ended;
}

static void start(struct fixture *f, const struct timeval *stall)
{
	/* The transport had read the data's first bytes with the header. */
	tcp_tail_start(f->t, DATA_LEN, f->data, PRE_LEN, &f->w, stall, ended, f);
	f->sent = PRE_LEN;
}

/* The socket's mark once the loop has taken in what the socket had (at
 * most 100 turns of the loop). */
static int mark_when_waiting(struct fixture *f)
{
	for (int i = 0; i < 100 && lowat(f) == 1; i++) {
		event_base_loop(f->ev, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		poll(NULL, 0, 1);
	}
	return lowat(f);
}

static bool written_only(const struct fixture *f)
{
	return f->written;
}

/* Sends the rest with the next frame's bytes: the WRITE has all its data,
 * the transport has the socket back, and the mark is at its default. */
static void expect_all_written(struct fixture *f)
{
	run_until(f, DATA_LEN + NEXT_LEN, all_written);
	assert_null(f->why);
	assert_int_equal(f->w.moved, DATA_LEN);
	assert_int_equal(lowat(f), 1);
}

/* Runs the loop until the WRITE is told it failed; the mark is back. */
static void expect_write_failed(struct fixture *f)
{
	run_until(f, f->sent, written_only);
	assert_false(NT_STATUS_IS_OK(f->w.status));
	assert_int_equal(lowat(f), 1);
}

/*
 * Half the data sent: part of it is in the file already, and the loop
 * waits for more with the socket's low-water mark raised (no more than
 * what is still to come). Then the rest, with the next frame's bytes
 * behind it: the file has all the data and only it, the mark is back at
 * its default and the next frame's bytes are still in the socket.
 */
static void test_pieces_while_the_rest_arrives(void **state)
{
	struct fixture *f = *state;
	if (f->u == NULL)
		skip(); /* the transport splits no frame without io_uring */
	assert_int_equal(lowat(f), 1);
	start(f, NULL);
	run_until(f, FIRST_PART, first_piece_in_file);
	assert_false(f->ended);
	assert_false(f->written);
	int mark = mark_when_waiting(f);
	assert_true(mark > 1);
	assert_true((size_t)mark <= DATA_LEN - FIRST_PART);

	expect_all_written(f);
	assert_true(NT_STATUS_IS_OK(f->w.status));
	assert_int_equal(file_size(f), DATA_LEN);
	uint8_t *back = malloc(DATA_LEN);
	assert_int_equal(pread(f->fd, back, DATA_LEN, 0), DATA_LEN);
	assert_memory_equal(back, f->data, DATA_LEN);
	free(back);
	assert_true(tcp_tail_idle(f->t));

	uint8_t next[NEXT_LEN + 1];
	struct pollfd pf = { .fd = f->srv, .events = POLLIN };
	assert_int_equal(poll(&pf, 1, 1000), 1);
	assert_int_equal(recv(f->srv, next, sizeof(next), 0), NEXT_LEN);
	assert_memory_equal(next, f->data + DATA_LEN, NEXT_LEN);
}

/* A transfer given up halfway (the connection is going) leaves the mark
 * at its default too. */
static void test_abort_puts_the_mark_back(void **state)
{
	struct fixture *f = *state;
	if (f->u == NULL)
		skip();
	start(f, NULL);
	run_until(f, FIRST_PART, first_piece_in_file);
	assert_true(mark_when_waiting(f) > 1);
	tcp_tail_abort(f->t);
	expect_write_failed(f);
	assert_false(f->ended); /* abort() tells only the WRITE */
}

/* Sends len more bytes in small bits, one every 250 ms, running the loop. */
static void trickle(struct fixture *f, size_t len)
{
	const size_t bit = 8 * KIB;
	for (size_t end = f->sent + len; f->sent < end;) {
		size_t n = end - f->sent < bit ? end - f->sent : bit;
		assert_int_equal(send(f->cli, f->data + f->sent, n, 0), (ssize_t)n);
		f->sent += n;
		struct timeval later = { 0, 250 * 1000 };
		event_base_loopexit(f->ev, &later);
		event_base_dispatch(f->ev);
	}
}

/*
 * A sender slower than the low-water mark wakes nobody with its bytes; it
 * is not taken for a stalled one when the stall time-out comes, only one
 * that sent nothing is.
 */
static void test_slow_sender_is_not_stalled(void **state)
{
	struct fixture *f = *state;
	if (f->u == NULL)
		skip();
	const struct timeval stall = { 1, 0 };
	start(f, &stall);
	trickle(f, 12 * 8 * KIB); /* 3 s, 96 KiB: under the mark throughout */
	assert_false(f->ended);
	assert_true(lowat(f) > 1);
	expect_all_written(f);
}

static bool ended_only(const struct fixture *f)
{
	return f->ended;
}

/* Half the data, then nothing: stalled once the time-out comes. */
static void test_silent_sender_is_stalled(void **state)
{
	struct fixture *f = *state;
	if (f->u == NULL)
		skip();
	const struct timeval stall = { 1, 0 };
	start(f, &stall);
	run_until(f, FIRST_PART, ended_only);
	assert_string_equal(f->why, "frame stalled");
	expect_write_failed(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pieces_while_the_rest_arrives, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_puts_the_mark_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_sender_is_not_stalled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_sender_is_stalled, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
