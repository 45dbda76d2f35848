/*
 * Writes through io_uring (smbd/vfs_uring.c) into pages not yet cached go
 * to the kernel as chains of linked pieces (VFS_WRITE_PIECE): whole,
 * across several chains, from a pipe, and cut short by the file size
 * limit at any point of a chain. Over cached pages they go whole. A
 * kernel worker interrupted by a ptrace stop (strace attached to the
 * server) costs the write nothing.
 */
#include "config.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cmocka.h>
#include <dirent.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <event2/event.h>
#include <talloc.h>

#include "smbd/vfs.h"
#include "smbd/vfs_uring.h"

struct ring {
	struct event_base *ev;
	struct vfs_uring *u;
	int fd;
	char path[64];
};

static int setup(void **state)
{
	struct ring *r = talloc_zero(NULL, struct ring);
	r->ev = event_base_new();
	r->u = vfs_uring_new(r, r->ev);
	strcpy(r->path, "/tmp/porthos-test-uring-XXXXXX");
	r->fd = mkstemp(r->path);
	if (r->ev == NULL || r->fd < 0)
		return -1;
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct ring *r = *state;
	TALLOC_FREE(r->u); /* waits for what is in flight */
	close(r->fd);
	unlink(r->path);
	event_base_free(r->ev);
	talloc_free(r);
	return 0;
}

static int dones;
static void done(struct vfs_uring_req *q)
{
	dones++;
}

/* Submits q and runs the loop until its done() has run, once. */
static void run(struct ring *r, struct vfs_uring_req *q)
{
	dones = 0;
	q->done = done;
	assert_true(vfs_uring_submit(r->u, q));
	while (dones == 0)
		assert_int_equal(event_base_loop(r->ev, EVLOOP_ONCE), 0);
	assert_int_equal(dones, 1);
}

static uint8_t *pattern(size_t len, unsigned seed)
{
	uint8_t *b = malloc(len);
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 31 + seed + i / 4096);
	return b;
}

static void assert_file_holds(int fd, uint64_t off, const uint8_t *want, size_t len)
{
	uint8_t *got = malloc(len);
	assert_int_equal(pread(fd, got, len, (off_t)off), (ssize_t)len);
	assert_memory_equal(got, want, len);
	free(got);
}

static void test_piece_rule(void **state)
{
	assert_int_equal(vfs_write_piece(0, 1 << 20), VFS_WRITE_PIECE);
	assert_int_equal(vfs_write_piece(100, 1 << 20), VFS_WRITE_PIECE - 100);
	assert_int_equal(vfs_write_piece(VFS_WRITE_PIECE - 1, 10), 1);
	assert_int_equal(vfs_write_piece(5, 10), 10);
}

/* What the writes choose by: pages written are cached, pages past the end are not. */
static void test_range_cached(void **state)
{
	struct ring *r = *state;
	size_t len = 3 * VFS_WRITE_PIECE;
	uint8_t *data = pattern(len, 5);
	assert_int_equal(pwrite(r->fd, data, len, 0), (ssize_t)len);
	assert_false(vfs_range_uncached(r->fd, 0, len));
	assert_false(vfs_range_uncached(r->fd, 100, len - 200));
	assert_true(vfs_range_uncached(r->fd, len - 4096, 8192));
	assert_true(vfs_range_uncached(r->fd, 10 * len, len));
	assert_false(vfs_range_uncached(r->fd, 0, 0));
	free(data);
}

/* Writes len bytes of a pattern at off through the ring, checks they all
 * landed, and says whether the write went in pieces. */
static bool write_whole(struct ring *r, uint64_t off, size_t len, bool sync, unsigned seed)
{
	uint8_t *data = pattern(len, seed);
	struct vfs_uring_req q = { .op = VFS_URING_WRITE, .fd = r->fd, .buf = data, .len = len, .offset = off, .sync = sync };
	run(r, &q);
	assert_true(NT_STATUS_IS_OK(q.status));
	assert_int_equal(q.moved, len);
	assert_file_holds(r->fd, off, data, len);
	free(data);
	return q.pieced;
}

/* Over cached pages a write goes whole. */
static void test_write_over_cached(void **state)
{
	struct ring *r = *state;
	if (r->u == NULL)
		skip();
	size_t len = 4 * VFS_WRITE_PIECE + 3;
	uint8_t *old = pattern(len, 6);
	assert_int_equal(pwrite(r->fd, old, len, 0), (ssize_t)len);
	assert_false(write_whole(r, 0, len, false, 7));
	free(old);
}

/* One chain: a write of less than VFS_URING_PIECES pieces, unaligned at both ends. */
static void test_write_one_chain(void **state)
{
	struct ring *r = *state;
	if (r->u == NULL)
		skip();
	assert_true(write_whole(r, 12345, 5 * VFS_WRITE_PIECE + 777, false, 1));
}

/* More pieces than one chain takes: it goes on from where the chain ended, and syncs at the end. */
static void test_write_many_chains(void **state)
{
	struct ring *r = *state;
	if (r->u == NULL)
		skip();
	size_t len = (size_t)VFS_URING_PIECES * VFS_WRITE_PIECE * 2 + 4097;
	assert_true(write_whole(r, 3 * VFS_WRITE_PIECE - 5, len, true, 2));
}

/* A pipe's bytes, in pieces, each taking the next bytes of the pipe. */
static void test_splice_from_pipe(void **state)
{
	struct ring *r = *state;
	if (r->u == NULL)
		skip();
	int p[2];
	assert_int_equal(pipe(p), 0);
	size_t len = 3 * VFS_WRITE_PIECE + 1000;
	if (fcntl(p[1], F_SETPIPE_SZ, 1024 * 1024) < (int)len)
		skip();
	uint8_t *data = pattern(len, 3);
	assert_int_equal(write(p[1], data, len), (ssize_t)len);
	uint64_t off = VFS_WRITE_PIECE / 2;
	struct vfs_uring_req q = { .op = VFS_URING_SPLICE, .fd = r->fd, .pipe_fd = p[0], .len = len, .offset = off };
	run(r, &q);
	assert_true(NT_STATUS_IS_OK(q.status));
	assert_int_equal(q.moved, len);
	assert_file_holds(r->fd, off, data, len);
	close(p[0]);
	close(p[1]);
	free(data);
}

/*
 * The file size limit stops a chain at `limit`: a piece that ends short
 * there, or one that fails whole because it starts there. Either way the
 * write fails, and moved counts exactly the bytes before the limit.
 */
static void write_until(struct ring *r, uint64_t off, size_t len, uint64_t limit)
{
	struct rlimit old, rl = { (rlim_t)limit, (rlim_t)limit };
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	rl.rlim_max = old.rlim_max;
	assert_int_equal(ftruncate(r->fd, 0), 0);
	uint8_t *data = pattern(len, 4);
	struct vfs_uring_req q = { .op = VFS_URING_WRITE, .fd = r->fd, .buf = data, .len = len, .offset = off };
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
	run(r, &q);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_false(NT_STATUS_IS_OK(q.status));
	assert_int_equal(q.moved, limit - off);
	assert_file_holds(r->fd, off, data, limit - off);
	free(data);
}

static void test_write_cut_short(void **state)
{
	struct ring *r = *state;
	if (r->u == NULL)
		skip();
	signal(SIGXFSZ, SIG_IGN); /* the limit is an EFBIG, not a signal */
	size_t len = 8 * VFS_WRITE_PIECE;
	write_until(r, 100, len, 3 * VFS_WRITE_PIECE + 5000);      /* inside the fourth piece */
	write_until(r, 100, len, 2 * VFS_WRITE_PIECE);             /* at the start of the third */
	write_until(r, 100, len, 1000);                            /* inside the first */
	write_until(r, 100, len, 100 + len - 1);                   /* one byte short, in the last */
	signal(SIGXFSZ, SIG_DFL);
}

/* Stops every io_uring worker of this process for a moment, as strace
 * attaching and leaving does (a tracer must be another process). */
static void interrupt_workers(void)
{
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pid_t parent = getppid();
		char path[64], comm[32];
		int stopped = 0;
		snprintf(path, sizeof(path), "/proc/%d/task", (int)parent);
		DIR *d = opendir(path);
		struct dirent *e;
		while (d != NULL && (e = readdir(d)) != NULL) {
			pid_t tid = (pid_t)atoi(e->d_name);
			snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)parent, (int)tid);
			FILE *f = tid > 0 ? fopen(path, "r") : NULL;
			bool worker = f != NULL && fgets(comm, sizeof(comm), f) != NULL && strncmp(comm, "iou-wrk", 7) == 0;
			if (f != NULL)
				fclose(f);
			int st;
			if (!worker || ptrace(PTRACE_SEIZE, tid, NULL, NULL) != 0)
				continue;
			if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) == 0 && waitpid(tid, &st, __WALL) == tid)
				stopped++;
			ptrace(PTRACE_DETACH, tid, NULL, NULL);
		}
		if (d != NULL)
			closedir(d);
		_exit(stopped > 0 ? 0 : 1);
	}
	int st;
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0); /* no worker, or ptrace refused */
}

/*
 * A pipe-to-file splice whose worker is interrupted while it waits for
 * the pipe ends with -ERESTARTSYS (Linux 6.18), as one interrupted in its
 * copy did under strace: the request is queued again, and the data that
 * comes afterwards lands whole.
 */
static void test_splice_interrupted(void **state)
{
	struct ring *r = *state;
	if (r->u == NULL)
		skip();
	int p[2];
	assert_int_equal(pipe(p), 0);
	size_t len = 64 * 1024;
	uint8_t *data = pattern(len, 9);
	struct vfs_uring_req q = { .op = VFS_URING_SPLICE, .fd = r->fd, .pipe_fd = p[0], .len = len, .done = done };
	dones = 0;
	assert_true(vfs_uring_submit(r->u, &q));
	/* Until an interruption reached the waiting worker (the first tries
	 * may come before it waits). */
	for (int i = 0; i < 100 && q.interruptions == 0; i++) {
		assert_int_equal(event_base_loop(r->ev, EVLOOP_NONBLOCK), 0);
		usleep(10 * 1000);
		interrupt_workers();
		usleep(10 * 1000);
		assert_int_equal(event_base_loop(r->ev, EVLOOP_NONBLOCK), 0);
	}
	assert_int_equal(dones, 0);
	assert_true(q.interruptions > 0);
	assert_int_equal(write(p[1], data, len), (ssize_t)len);
	while (dones == 0)
		assert_int_equal(event_base_loop(r->ev, EVLOOP_ONCE), 0);
	assert_true(NT_STATUS_IS_OK(q.status));
	assert_int_equal(q.moved, len);
	assert_file_holds(r->fd, 0, data, len);
	close(p[0]);
	close(p[1]);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_piece_rule),
		cmocka_unit_test_setup_teardown(test_range_cached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_over_cached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_one_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_many_chains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_splice_from_pipe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_cut_short, setup, teardown),
		cmocka_unit_test_setup_teardown(test_splice_interrupted, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
