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

struct smbd_iopool {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_cond_t helped;                      /* a share call's last helper is back */
	struct share_helper *helpers;               /* waiting for a worker, before the queue */
	struct smbd_iojob *queue_head, *queue_tail; /* waiting for a worker */
	struct smbd_iojob *done_head, *done_tail;   /* waiting for the loop */
	unsigned idle;                              /* workers waiting for work */
	bool stopping;

	pthread_t *threads;
	unsigned n_threads;
	int efd;                 /* a worker's "done list is no longer empty" */
	struct event *done_ev;
};

static void *worker_main(void *arg)
{
	struct smbd_iopool *p = arg;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (p->helpers == NULL && p->queue_head == NULL && !p->stopping) {
			__atomic_store_n(&p->idle, p->idle + 1, __ATOMIC_RELAXED);
			pthread_cond_wait(&p->wake, &p->lock);
			__atomic_store_n(&p->idle, p->idle - 1, __ATOMIC_RELAXED);
		}
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
			 * Sent with the lock let go, as every wake-up here is:
			 * the woken thread, often run at once on this CPU, would
			 * find the lock held and sleep again (two more switches). */
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
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	run_done(p);
	if (p->done_ev)
		event_free(p->done_ev);
	if (p->efd >= 0)
		close(p->efd);
	pthread_cond_destroy(&p->wake);
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
	pthread_cond_init(&p->wake, NULL);
	pthread_cond_init(&p->helped, NULL);
	p->efd = -1;
	talloc_set_destructor(p, iopool_destructor);
	if (n_threads == 0)
		return p;

	p->threads = talloc_array(p, pthread_t, n_threads);
	p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->threads == NULL || p->efd < 0)
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
		rc = pthread_create(&p->threads[p->n_threads], &attr, worker_main, p);
		if (rc != 0)
			break;
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
	pthread_mutex_unlock(&p->lock);
	pthread_cond_signal(&p->wake);
}

void smbd_iopool_share(struct smbd_iopool *p, unsigned n_helpers, void (*fn)(void *arg), void *arg)
{
	struct share_call call = { .fn = fn, .arg = arg };
	struct share_helper helpers[SMBD_IOPOOL_MAX_HELPERS];
	if (n_helpers > SMBD_IOPOOL_MAX_HELPERS)
		n_helpers = SMBD_IOPOOL_MAX_HELPERS;
	if (n_helpers > p->n_threads)
		n_helpers = p->n_threads;

	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < n_helpers; i++) {
		helpers[i] = (struct share_helper){ .next = p->helpers, .call = &call };
		p->helpers = &helpers[i];
	}
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < n_helpers; i++)
		pthread_cond_signal(&p->wake);

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
