/*
 * The I/O worker pool: blocking file-system calls (pread, pwrite,
 * fdatasync) run on worker threads so the event loop never waits on the
 * disk, and many requests of one connection are in progress at once.
 *
 * A job's work() runs on a worker and may touch only the job itself (its
 * buffers and a file descriptor it owns); done() runs afterwards on the
 * event-loop thread, in completion order, and may touch anything. The
 * submitter owns the job's memory and must keep it (and whatever work()
 * reads) alive until done() has run; done() is always called, once.
 *
 * Why threads and not io_uring: docs/PERFORMANCE.md has the measurement.
 */
#ifndef PORTHOS_SMBD_IOPOOL_H
#define PORTHOS_SMBD_IOPOOL_H

#include <stdbool.h>
#include <talloc.h>

struct event_base;
struct smbd_iopool;

struct smbd_iojob {
	void (*work)(struct smbd_iojob *job);
	void (*done)(struct smbd_iojob *job);
	struct smbd_iojob *next; /* the pool's queues */
};

/*
 * n_threads workers (0: none, every job must be run inline by the caller,
 * see smbd_iopool_threads()). NULL on failure. Freeing the pool stops and
 * joins the workers; jobs not yet done are run to completion first, so no
 * done() is lost while the loop still runs.
 */
struct smbd_iopool *smbd_iopool_new(TALLOC_CTX *mem, struct event_base *ev, unsigned n_threads);

unsigned smbd_iopool_threads(const struct smbd_iopool *p);
/* Workers waiting for work just now (a hint for sharing work out). */
unsigned smbd_iopool_idle(const struct smbd_iopool *p);

/* Queues the job, waking the worker that went idle last (its CPU and
 * cache are the warm ones); its done() follows on the loop thread. */
void smbd_iopool_submit(struct smbd_iopool *p, struct smbd_iojob *job);

/*
 * One job's work spread over idle workers: runs fn(arg) on the calling
 * thread and on up to n_helpers workers beside it, and returns once every
 * call has returned. fn deals out the work itself (an atomic counter),
 * so a helper that starts late finds less or nothing left; helpers no
 * worker has taken by the time the caller's own fn returns are withdrawn,
 * so the caller never waits for a busy pool. Helpers go before queued
 * jobs. Any thread may call it, a worker inside work() included.
 */
#define SMBD_IOPOOL_MAX_HELPERS 8
void smbd_iopool_share(struct smbd_iopool *p, unsigned n_helpers, void (*fn)(void *arg), void *arg);

#endif
