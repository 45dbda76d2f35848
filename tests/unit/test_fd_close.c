/*
 * The last release of an open's fd closes a large file, or a special one,
 * on an I/O worker (smbd/open.c): a close the kernel takes long over
 * (here a TCP socket lingering over data its peer never reads, as ext4
 * does over a rewritten file's delayed blocks) leaves the loop thread
 * free. A small file's close, and any without workers, is done in place.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>
#include <talloc.h>

#include "smbd/iopool.h"
#include "smbd/loop.h"
#include "smbd/open.h"
#include "smbd/server.h"

/* How long the socket's close waits for its unsent data. */
#define LINGER_S 2

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A connected loopback socket whose close() waits LINGER_S seconds: its
 * send queue is full and the peer (*peer, left open) reads nothing. */
static int lingering_socket(int *peer)
{
	int l = socket(AF_INET, SOCK_STREAM, 0), small = 4096;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	assert_true(l >= 0);
	assert_int_equal(setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &alen), 0);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
	*peer = accept(l, NULL, NULL);
	assert_true(*peer >= 0);
	close(l);
	assert_int_equal(fcntl(s, F_SETFL, O_NONBLOCK), 0);
	static char junk[65536];
	while (write(s, junk, sizeof(junk)) > 0)
		;
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	struct linger lg = { .l_onoff = 1, .l_linger = LINGER_S };
	assert_int_equal(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	return s;
}

/* A server with just a loop, whose pool has n_threads workers. */
static struct smbd_server *fake_server(struct event_base *ev, unsigned n_threads)
{
	struct smbd_server *srv = talloc_zero(NULL, struct smbd_server);
	assert_non_null(srv);
	srv->loop = talloc_zero(srv, struct smbd_loop);
	assert_non_null(srv->loop);
	srv->loop->ev = ev;
	srv->loop->iopool = smbd_iopool_new(srv->loop, ev, n_threads);
	assert_non_null(srv->loop->iopool);
	return srv;
}

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

/* Waits, running the loop, until the pool's workers are all idle again. */
static void run_until_idle(struct event_base *ev, struct smbd_iopool *pool, double limit_s)
{
	double t0 = now_s();
	while (smbd_iopool_idle(pool) != smbd_iopool_threads(pool) && now_s() - t0 < limit_s) {
		event_base_loop(ev, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	event_base_loop(ev, EVLOOP_NONBLOCK);
	assert_int_equal(smbd_iopool_idle(pool), smbd_iopool_threads(pool));
}

/* With workers: the release returns at once, the close follows on a
 * worker, which the linger keeps busy for its while. */
static void test_close_on_worker(void **state)
{
	struct event_base *ev = event_base_new();
	struct smbd_server *srv = fake_server(ev, 1);
	int peer, s = lingering_socket(&peer);

	double t0 = now_s();
	smbd_fd_release(smbd_fd_new(srv, s));
	assert_true(now_s() - t0 < LINGER_S / 4.0); /* returned without waiting for the close */
	run_until_idle(ev, srv->loop->iopool, 3 * LINGER_S);
	assert_true(now_s() - t0 > LINGER_S / 2.0); /* the worker's close did wait */
	assert_false(fd_is_open(s));
	TALLOC_FREE(srv->loop->iopool);
	close(peer);
	talloc_free(srv);
	event_base_free(ev);
}

/* A job that keeps the pool's one worker until its pipe is written to. */
struct blocker {
	struct smbd_iojob job;
	int pipe[2];
};

static void blocker_work(struct smbd_iojob *job)
{
	struct blocker *b = (struct blocker *)job;
	char c;
	assert_int_equal(read(b->pipe[0], &c, 1), 1);
}

static void blocker_done(struct smbd_iojob *job)
{
	(void)job;
}

/* A regular file of len bytes, on disk (its blocks allocated). */
static int file_of(size_t len)
{
	char path[] = "/tmp/porthos-test-fdclose-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	static char data[65536];
	for (size_t done = 0; done < len; done += sizeof(data))
		assert_int_equal(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
	assert_int_equal(fsync(fd), 0);
	return fd;
}

/* A 1 MiB file's close goes to the worker (here busy, so it waits its
 * turn); a 64 KiB file's is done at once. */
static void test_by_size(void **state)
{
	struct event_base *ev = event_base_new();
	struct smbd_server *srv = fake_server(ev, 1);
	struct blocker b = { .job = { .work = blocker_work, .done = blocker_done } };
	assert_int_equal(pipe(b.pipe), 0);
	smbd_iopool_submit(srv->loop->iopool, &b.job);

	int small = file_of(65536);
	smbd_fd_release(smbd_fd_new(srv, small));
	assert_false(fd_is_open(small));

	int large = file_of(1024 * 1024);
	smbd_fd_release(smbd_fd_new(srv, large));
	usleep(50000);
	assert_true(fd_is_open(large)); /* queued behind the blocker, not closed here */
	assert_int_equal(write(b.pipe[1], "x", 1), 1);
	run_until_idle(ev, srv->loop->iopool, 10);
	assert_false(fd_is_open(large));
	close(b.pipe[0]);
	close(b.pipe[1]);
	talloc_free(srv);
	event_base_free(ev);
}

/* With no workers ("io threads = 0") the close is done in place. */
static void test_close_in_place(void **state)
{
	struct event_base *ev = event_base_new();
	struct smbd_server *srv = fake_server(ev, 0);
	int fd = file_of(1024 * 1024);
	smbd_fd_release(smbd_fd_new(srv, fd));
	assert_false(fd_is_open(fd));
	talloc_free(srv);
	event_base_free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_on_worker),
		cmocka_unit_test(test_by_size),
		cmocka_unit_test(test_close_in_place),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
