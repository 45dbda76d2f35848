#include "config.h"
#include "smbd/loop_post.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <talloc.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/log.h"

struct smbd_loop_posts {
	pthread_t thread;           /* the loop's */
	struct event *ev;           /* efd readable, or activated by a post from the loop itself */
	int efd;
	pthread_mutex_t lock;       /* guards the rest */
	struct smbd_post *head, *tail; /* FIFO */
	bool kicked;                /* a wake-up is on its way: later posts need none */
	/* Taken from the queue and being run, loop thread only. */
	struct smbd_post *running;
};

static void run_posts(evutil_socket_t fd, short what, void *arg)
{
	struct smbd_loop_posts *q = arg;
	uint64_t n;
	/* Read the count before taking the queue: a post kicking in between
	 * is then in this batch, and its count only wakes us once more. */
	if (what & EV_READ)
		while (read(q->efd, &n, sizeof(n)) < 0 && errno == EINTR)
			;
	pthread_mutex_lock(&q->lock);
	q->running = q->head;
	q->head = q->tail = NULL;
	q->kicked = false;
	pthread_mutex_unlock(&q->lock);
	while (q->running != NULL) {
		struct smbd_post *p = q->running;
		q->running = p->next;
		p->next = NULL;
		atomic_store_explicit(&p->queued, false, memory_order_release);
		p->fn(p);
	}
}

static int posts_destructor(struct smbd_loop_posts *q)
{
	event_free(q->ev);
	close(q->efd);
	pthread_mutex_destroy(&q->lock);
	return 0;
}

struct smbd_loop_posts *smbd_loop_posts_new(void *mem, struct event_base *ev)
{
	struct smbd_loop_posts *q = talloc_zero(mem, struct smbd_loop_posts);
	if (q == NULL)
		return NULL;
	q->thread = pthread_self();
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0) {
		LOG_ERR("eventfd: %s", strerror(errno));
		talloc_free(q);
		return NULL;
	}
	q->ev = event_new(ev, q->efd, EV_READ | EV_PERSIST, run_posts, q);
	if (q->ev == NULL || event_add(q->ev, NULL) != 0) {
		if (q->ev != NULL)
			event_free(q->ev);
		close(q->efd);
		talloc_free(q);
		return NULL;
	}
	pthread_mutex_init(&q->lock, NULL);
	talloc_set_destructor(q, posts_destructor);
	return q;
}

bool smbd_post(struct smbd_loop_posts *q, struct smbd_post *p, void (*fn)(struct smbd_post *p))
{
	if (atomic_exchange_explicit(&p->queued, true, memory_order_acq_rel))
		return false;
	p->fn = fn;
	p->next = NULL;
	pthread_mutex_lock(&q->lock);
	if (q->tail != NULL)
		q->tail->next = p;
	else
		q->head = p;
	q->tail = p;
	bool kick = !q->kicked;
	q->kicked = true;
	pthread_mutex_unlock(&q->lock);
	if (!kick)
		return true;
	if (pthread_equal(pthread_self(), q->thread)) {
		event_active(q->ev, 0, 0);
		return true;
	}
	uint64_t one = 1;
	/* Only EAGAIN can fail it (the count at its maximum), and then a
	 * wake-up is pending anyway. */
	while (write(q->efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	return true;
}

/* Unlinks p from the singly linked list at *head; the list's last in *tail if any. */
static bool unlink_from(struct smbd_post **head, struct smbd_post **tail, struct smbd_post *p)
{
	struct smbd_post *prev = NULL;
	for (struct smbd_post *it = *head; it != NULL; prev = it, it = it->next) {
		if (it != p)
			continue;
		if (prev != NULL)
			prev->next = p->next;
		else
			*head = p->next;
		if (tail != NULL && *tail == p)
			*tail = prev;
		p->next = NULL;
		atomic_store_explicit(&p->queued, false, memory_order_release);
		return true;
	}
	return false;
}

bool smbd_unpost(struct smbd_loop_posts *q, struct smbd_post *p)
{
	if (unlink_from(&q->running, NULL, p))
		return true;
	pthread_mutex_lock(&q->lock);
	bool found = unlink_from(&q->head, &q->tail, p);
	pthread_mutex_unlock(&q->lock);
	return found;
}
