/*
 * How file I/O should leave the event loop, measured: the cost per 4 KiB
 * buffered write and cached read of
 *   inline  the syscall on the calling thread (what blocks a loop);
 *   pool    a hand-off to a worker thread and back through an eventfd
 *           polled with epoll (what smbd/iopool.c does);
 *   uring   io_uring, one submission and its completion (liburing).
 * each with 1 and 16 operations in flight. Prints wall and CPU time per
 * operation. Build and run: bench/run-ioengine (needs liburing-dev).
 *
 *   ioengine DIR [OPS]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define BS 4096
#define FILE_BLOCKS 16384 /* a 64 MiB file */
#define MAX_DEPTH 16

enum op { OP_WRITE, OP_READ };

struct job {
	enum op op;
	int fd;
	off_t off;
	char *buf;
	ssize_t res;
	struct job *next;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru); /* all threads of the process */
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void run_op(struct job *j)
{
	j->res = j->op == OP_WRITE ? pwrite(j->fd, j->buf, BS, j->off) : pread(j->fd, j->buf, BS, j->off);
}

static off_t pick(unsigned *seed)
{
	return (off_t)(rand_r(seed) % FILE_BLOCKS) * BS;
}

/* ---- pool: one queue, workers, an eventfd back to an epoll "loop" ---- */

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_wake = PTHREAD_COND_INITIALIZER;
static struct job *q_head, *done_head;
static int q_efd;
static int q_stop;

static void *worker(void *arg)
{
	pthread_mutex_lock(&q_lock);
	for (;;) {
		while (q_head == NULL && !q_stop)
			pthread_cond_wait(&q_wake, &q_lock);
		if (q_head == NULL)
			break;
		struct job *j = q_head;
		q_head = j->next;
		pthread_mutex_unlock(&q_lock);
		run_op(j);
		pthread_mutex_lock(&q_lock);
		bool first = done_head == NULL;
		j->next = done_head;
		done_head = j;
		if (first) {
			uint64_t one = 1;
			if (write(q_efd, &one, sizeof(one)) < 0)
				abort();
		}
	}
	pthread_mutex_unlock(&q_lock);
	return arg;
}

static void pool_submit(struct job *j)
{
	pthread_mutex_lock(&q_lock);
	j->next = q_head;
	q_head = j;
	pthread_cond_signal(&q_wake);
	pthread_mutex_unlock(&q_lock);
}

/* Waits for finished jobs; puts them back on *free_list. */
static int pool_reap(int ep, struct job **free_list)
{
	struct epoll_event ev;
	while (epoll_wait(ep, &ev, 1, -1) < 1)
		;
	uint64_t n;
	if (read(q_efd, &n, sizeof(n)) < 0)
		abort();
	pthread_mutex_lock(&q_lock);
	struct job *j = done_head;
	done_head = NULL;
	pthread_mutex_unlock(&q_lock);
	int got = 0;
	while (j != NULL) {
		struct job *next = j->next;
		if (j->res != BS)
			abort();
		j->next = *free_list;
		*free_list = j;
		j = next;
		got++;
	}
	return got;
}

static void bench_pool(int fd, enum op op, unsigned depth, unsigned ops, struct job *jobs)
{
	pthread_t t[4];
	q_efd = eventfd(0, EFD_CLOEXEC);
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN };
	epoll_ctl(ep, EPOLL_CTL_ADD, q_efd, &ev);
	q_stop = 0;
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	unsigned seed = 1, sent = 0, done = 0;
	struct job *free_list = NULL;
	for (unsigned i = 0; i < depth; i++) {
		jobs[i].next = free_list;
		free_list = &jobs[i];
	}
	while (done < ops) {
		while (sent < ops && free_list != NULL) {
			struct job *j = free_list;
			free_list = j->next;
			j->op = op;
			j->fd = fd;
			j->off = pick(&seed);
			pool_submit(j);
			sent++;
		}
		done += (unsigned)pool_reap(ep, &free_list);
	}
	pthread_mutex_lock(&q_lock);
	q_stop = 1;
	pthread_cond_broadcast(&q_wake);
	pthread_mutex_unlock(&q_lock);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	close(ep);
	close(q_efd);
}

/* ---- io_uring ---- */

static void bench_uring(int fd, enum op op, unsigned depth, unsigned ops, struct job *jobs)
{
	struct io_uring ring;
	if (io_uring_queue_init(MAX_DEPTH * 2, &ring, 0) != 0) {
		fprintf(stderr, "io_uring_queue_init failed\n");
		exit(1);
	}
	unsigned seed = 1, sent = 0, done = 0;
	while (done < ops) {
		while (sent < ops && sent - done < depth) {
			struct job *j = &jobs[sent % MAX_DEPTH];
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			j->off = pick(&seed);
			if (op == OP_WRITE)
				io_uring_prep_write(sqe, fd, j->buf, BS, j->off);
			else
				io_uring_prep_read(sqe, fd, j->buf, BS, j->off);
			sent++;
		}
		io_uring_submit(&ring);
		struct io_uring_cqe *cqe;
		if (io_uring_wait_cqe(&ring, &cqe) != 0 || cqe->res != BS)
			abort();
		io_uring_cqe_seen(&ring, cqe);
		done++;
		while (io_uring_peek_cqe(&ring, &cqe) == 0) {
			if (cqe->res != BS)
				abort();
			io_uring_cqe_seen(&ring, cqe);
			done++;
		}
	}
	io_uring_queue_exit(&ring);
}

static void bench_inline(int fd, enum op op, unsigned ops, struct job *jobs)
{
	unsigned seed = 1;
	for (unsigned i = 0; i < ops; i++) {
		jobs[0].op = op;
		jobs[0].fd = fd;
		jobs[0].off = pick(&seed);
		run_op(&jobs[0]);
		if (jobs[0].res != BS)
			abort();
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: ioengine DIR [OPS]\n");
		return 2;
	}
	unsigned ops = argc > 2 ? (unsigned)atoi(argv[2]) : 200000;
	char path[4096];
	snprintf(path, sizeof(path), "%s/ioengine.dat", argv[1]);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	struct job jobs[MAX_DEPTH];
	for (int i = 0; i < MAX_DEPTH; i++) {
		jobs[i].buf = aligned_alloc(BS, BS);
		memset(jobs[i].buf, 'a' + i, BS);
	}
	/* Every block written once: the file is allocated and in the cache. */
	for (off_t b = 0; b < FILE_BLOCKS; b++)
		if (pwrite(fd, jobs[0].buf, BS, b * BS) != BS)
			return 1;

	static const char *const op_name[] = { "write4k", "read4k" };
	for (int op = OP_WRITE; op <= OP_READ; op++) {
		for (int engine = 0; engine < 3; engine++) {
			static const unsigned depths[] = { 1, 16 };
			for (int d = 0; d < 2; d++) {
				if (engine == 0 && d == 1)
					continue; /* inline has one in flight, always */
				double w0 = now_s(), c0 = cpu_s();
				if (engine == 0)
					bench_inline(fd, op, ops, jobs);
				else if (engine == 1)
					bench_pool(fd, op, depths[d], ops, jobs);
				else
					bench_uring(fd, op, depths[d], ops, jobs);
				double w = now_s() - w0, c = cpu_s() - c0;
				printf("ioengine op=%s engine=%s depth=%u ops=%u wall_ns_per_op=%.0f cpu_ns_per_op=%.0f\n",
				       op_name[op], (const char *[]){ "inline", "pool", "uring" }[engine],
				       depths[d], ops, w * 1e9 / ops, c * 1e9 / ops);
				fflush(stdout);
			}
		}
	}
	close(fd);
	unlink(path);
	return 0;
}
