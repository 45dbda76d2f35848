#include "config.h"
#include "smbd/iopool.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/log.h"

/* Workers only run syscalls and memcpy-sized work: a small stack will do. */
#define IOPOOL_STACK_SIZE (256 * 1024)
#define IOPOOL_MAX_THREADS 256

/* A call of smbd_iopool_share(), and the helpers it asks for (on its stack). */
struct share_call {
	void (*fn)(void *arg);
	void *arg;
	unsigned running; /* helpers taken by a worker and not yet back */
};

struct share_helper {
	struct share_helper *next;
	struct share_call *call;
};

/*
 * A worker waits on a condition of its own, so the pool chooses whom it
 * wakes: the one that went idle last. Its CPU is the likeliest to be
 * awake and its cache to hold the data the job came from (a sealed
 * WRITE's plaintext, decrypted by the job before); the condition
 * variable's own choice, the longest sleeper, is the likeliest to be
 * cold on both counts.
 */
struct worker {
	struct smbd_iopool *pool;
	pthread_t thread;
	pthread_cond_t wake;
	bool woken;               /* taken off the idle stack by a waker */
	struct worker *next_idle; /* below it on the idle stack */
};

struct smbd_iopool {
	pthread_mutex_t lock;
	pthread_cond_t helped;                      /* a share call's last helper is back */
	struct share_helper *helpers;               /* waiting for a worker, before the queue */
	struct smbd_iojob *queue_head, *queue_tail; /* waiting for a worker */
	struct smbd_iojob *done_head, *done_tail;   /* waiting for the loop */
	struct worker *idle_top;                    /* waiting for work, the latest on top */
	unsigned idle;                              /* how many are on that stack */
	bool stopping;

	struct worker *workers;
	unsigned n_threads;
	int efd;                 /* a worker's "done list is no longer empty" */
	struct event *done_ev;
};

/* Under the lock: the worker that went idle last, off the stack, to be
 * woken (wake()) once the lock is let go; NULL if none is idle. */
static struct worker *take_idle(struct smbd_iopool *p)
{
	struct worker *w = p->idle_top;
	if (w == NULL)
		return NULL;
	p->idle_top = w->next_idle;
	w->woken = true;
	__atomic_store_n(&p->idle, p->idle - 1, __ATOMIC_RELAXED);
	return w;
}

/* Every wake-up is sent with the lock let go: the woken thread, often
 * run at once on this CPU, would find the lock held and sleep again
 * (two more switches). */
static void wake(struct worker *w)
{
	if (w != NULL)
		pthread_cond_signal(&w->wake);
}

/* Under the lock: waits on the idle stack until a waker takes it off. */
static void wait_idle(struct worker *w)
{
	struct smbd_iopool *p = w->pool;
	w->woken = false;
	w->next_idle = p->idle_top;
	p->idle_top = w;
	__atomic_store_n(&p->idle, p->idle + 1, __ATOMIC_RELAXED);
	while (!w->woken)
		pthread_cond_wait(&w->wake, &p->lock);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct smbd_iopool *p = w->pool;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (p->helpers == NULL && p->queue_head == NULL && !p->stopping)
			wait_idle(w);
		if (p->helpers != NULL) {
			struct share_helper *h = p->helpers;
			struct share_call *call = h->call;
			p->helpers = h->next;
			call->running++;
			pthread_mutex_unlock(&p->lock);
			call->fn(call->arg);
			pthread_mutex_lock(&p->lock);
			if (--call->running == 0)
				pthread_cond_broadcast(&p->helped);
			continue;
		}
		struct smbd_iojob *job = p->queue_head;
		if (job == NULL)
			break; /* stopping, and the queue is drained */
		p->queue_head = job->next;
		if (p->queue_head == NULL)
			p->queue_tail = NULL;
		pthread_mutex_unlock(&p->lock);

		job->work(job);

		pthread_mutex_lock(&p->lock);
		job->next = NULL;
		bool first = p->done_head == NULL;
		if (p->done_tail)
			p->done_tail->next = job;
		else
			p->done_head = job;
		p->done_tail = job;
		if (first) {
			/* One wake-up per batch: the loop takes the whole list.
			 * Sent with the lock let go, as wake() is. */
			pthread_mutex_unlock(&p->lock);
			uint64_t one = 1;
			while (write(p->efd, &one, sizeof(one)) < 0 && errno == EINTR)
				;
			pthread_mutex_lock(&p->lock);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Runs the done() of every finished job, oldest first. */
static void run_done(struct smbd_iopool *p)
{
	pthread_mutex_lock(&p->lock);
	struct smbd_iojob *job = p->done_head;
	p->done_head = p->done_tail = NULL;
	pthread_mutex_unlock(&p->lock);
	while (job != NULL) {
		struct smbd_iojob *next = job->next; /* done() may free the job */
		job->done(job);
		job = next;
	}
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	uint64_t n;
	while (read(fd, &n, sizeof(n)) < 0 && errno == EINTR)
		;
	run_done(arg);
}

static int iopool_destructor(struct smbd_iopool *p)
{
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	while (take_idle(p) != NULL)
		;
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->n_threads; i++)
		wake(&p->workers[i]);
	for (unsigned i = 0; i < p->n_threads; i++) {
		pthread_join(p->workers[i].thread, NULL);
		pthread_cond_destroy(&p->workers[i].wake);
	}
	run_done(p);
	if (p->done_ev)
		event_free(p->done_ev);
	if (p->efd >= 0)
		close(p->efd);
	pthread_cond_destroy(&p->helped);
	pthread_mutex_destroy(&p->lock);
	return 0;
}

struct smbd_iopool *smbd_iopool_new(TALLOC_CTX *mem, struct event_base *ev, unsigned n_threads)
{
	if (n_threads > IOPOOL_MAX_THREADS)
		n_threads = IOPOOL_MAX_THREADS;
	struct smbd_iopool *p = talloc_zero(mem, struct smbd_iopool);
	if (p == NULL)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->helped, NULL);
	p->efd = -1;
	talloc_set_destructor(p, iopool_destructor);
	if (n_threads == 0)
		return p;

	p->workers = talloc_zero_array(p, struct worker, n_threads);
	p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->workers == NULL || p->efd < 0)
		goto fail;
	p->done_ev = event_new(ev, p->efd, EV_READ | EV_PERSIST, done_cb, p);
	if (p->done_ev == NULL || event_add(p->done_ev, NULL) != 0)
		goto fail;

	/* Workers take no signals: the loop thread handles them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, IOPOOL_STACK_SIZE);
	int rc = 0;
	for (; p->n_threads < n_threads; p->n_threads++) {
		struct worker *w = &p->workers[p->n_threads];
		w->pool = p;
		pthread_cond_init(&w->wake, NULL);
		rc = pthread_create(&w->thread, &attr, worker_main, w);
		if (rc != 0) {
			pthread_cond_destroy(&w->wake);
			break;
		}
	}
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		LOG_ERR("cannot start I/O worker %u: %s", p->n_threads, strerror(rc));
		goto fail;
	}
	return p;
fail:
	talloc_free(p);
	return NULL;
}

unsigned smbd_iopool_threads(const struct smbd_iopool *p)
{
	return p->n_threads;
}

unsigned smbd_iopool_idle(const struct smbd_iopool *p)
{
	/* Written under the lock, read without: a hint, maybe just stale. */
	return __atomic_load_n(&p->idle, __ATOMIC_RELAXED);
}

void smbd_iopool_submit(struct smbd_iopool *p, struct smbd_iojob *job)
{
	job->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->queue_tail)
		p->queue_tail->next = job;
	else
		p->queue_head = job;
	p->queue_tail = job;
	struct worker *w = take_idle(p);
	pthread_mutex_unlock(&p->lock);
	wake(w);
}

void smbd_iopool_share(struct smbd_iopool *p, unsigned n_helpers, void (*fn)(void *arg), void *arg)
{
	struct share_call call = { .fn = fn, .arg = arg };
	struct share_helper helpers[SMBD_IOPOOL_MAX_HELPERS];
	if (n_helpers > SMBD_IOPOOL_MAX_HELPERS)
		n_helpers = SMBD_IOPOOL_MAX_HELPERS;
	if (n_helpers > p->n_threads)
		n_helpers = p->n_threads;

	struct worker *woken[SMBD_IOPOOL_MAX_HELPERS];
	unsigned n_woken = 0;
	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < n_helpers; i++) {
		helpers[i] = (struct share_helper){ .next = p->helpers, .call = &call };
		p->helpers = &helpers[i];
		struct worker *w = take_idle(p);
		if (w != NULL)
			woken[n_woken++] = w;
	}
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < n_woken; i++)
		wake(woken[i]);

	fn(arg);

	pthread_mutex_lock(&p->lock);
	for (struct share_helper **h = &p->helpers; *h != NULL;) {
		if ((*h)->call == &call)
			*h = (*h)->next;
		else
			h = &(*h)->next;
	}
	while (call.running > 0)
		pthread_cond_wait(&p->helped, &p->lock);
	pthread_mutex_unlock(&p->lock);
}
