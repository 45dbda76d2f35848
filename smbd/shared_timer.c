#include "config.h"
#include "smbd/shared_timer.h"

#include <talloc.h>
#include <time.h>

#include <event2/event.h>

#include "smbd/control.h"
#include "smbd/loop.h"
#include "smbd/loop_post.h"

struct smbd_shared_timers {
	struct smbd_post rearm;       /* first: the post is the heap */
	struct smbd_loop *loop;
	struct event *ev;             /* at the earliest due time */
	uint64_t ev_due;              /* what ev is set for; 0: not set */
	struct smbd_shared_timer **heap; /* a min-heap on due_ms; talloc array */
	size_t n, cap;
};

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* ---- the heap (slot = index + 1) ---- */

static void place(struct smbd_shared_timers *ts, size_t i, struct smbd_shared_timer *t)
{
	ts->heap[i] = t;
	t->slot = i + 1;
}

static void sift_up(struct smbd_shared_timers *ts, size_t i)
{
	struct smbd_shared_timer *t = ts->heap[i];
	while (i > 0 && ts->heap[(i - 1) / 2]->due_ms > t->due_ms) {
		place(ts, i, ts->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	place(ts, i, t);
}

static void sift_down(struct smbd_shared_timers *ts, size_t i)
{
	struct smbd_shared_timer *t = ts->heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= ts->n)
			break;
		if (c + 1 < ts->n && ts->heap[c + 1]->due_ms < ts->heap[c]->due_ms)
			c++;
		if (ts->heap[c]->due_ms >= t->due_ms)
			break;
		place(ts, i, ts->heap[c]);
		i = c;
	}
	place(ts, i, t);
}

static void heap_remove(struct smbd_shared_timers *ts, struct smbd_shared_timer *t)
{
	size_t i = t->slot - 1;
	t->slot = 0;
	struct smbd_shared_timer *last = ts->heap[--ts->n];
	if (last == t)
		return;
	place(ts, i, last);
	if (i > 0 && ts->heap[(i - 1) / 2]->due_ms > last->due_ms)
		sift_up(ts, i);
	else
		sift_down(ts, i);
}

/* ---- the loop's timer ---- */

/* Sets the libevent timer for the earliest entry; on the loop's thread. */
static void program(struct smbd_shared_timers *ts)
{
	uint64_t due = ts->n > 0 ? ts->heap[0]->due_ms : 0;
	if (due == ts->ev_due)
		return;
	ts->ev_due = due;
	if (due == 0) {
		evtimer_del(ts->ev);
		return;
	}
	uint64_t now = now_ms(), wait = due > now ? due - now : 0;
	struct timeval tv = { (time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000 };
	evtimer_add(ts->ev, &tv);
}

static void rearm_cb(struct smbd_post *p)
{
	struct smbd_shared_timers *ts = (struct smbd_shared_timers *)p; /* rearm comes first */
	smbd_control_enter();
	program(ts);
	smbd_control_leave();
}

/* If the earliest entry is not what the loop's timer is set for, it
 * follows: at once on the loop's thread, else on its next turn. */
static void follow(struct smbd_shared_timers *ts)
{
	if ((ts->n > 0 ? ts->heap[0]->due_ms : 0) == ts->ev_due)
		return;
	if (smbd_loop_is_current(ts->loop))
		program(ts);
	else
		smbd_post(ts->loop->posts, &ts->rearm, rearm_cb);
}

static void expire_cb(evutil_socket_t fd, short what, void *arg)
{
	struct smbd_shared_timers *ts = arg;
	smbd_control_enter();
	ts->ev_due = 0;
	uint64_t now = now_ms();
	/* Each runs once; one armed again for now runs on the next turn. */
	while (ts->n > 0 && ts->heap[0]->due_ms <= now) {
		struct smbd_shared_timer *t = ts->heap[0];
		heap_remove(ts, t);
		t->fn(t);
	}
	program(ts);
	smbd_control_leave();
}

static int timers_destructor(struct smbd_shared_timers *ts)
{
	while (ts->n > 0)
		heap_remove(ts, ts->heap[0]);
	smbd_unpost(ts->loop->posts, &ts->rearm);
	event_free(ts->ev);
	return 0;
}

struct smbd_shared_timers *smbd_shared_timers_new(struct smbd_loop *loop)
{
	struct smbd_shared_timers *ts = talloc_zero(loop, struct smbd_shared_timers);
	if (ts == NULL)
		return NULL;
	ts->loop = loop;
	ts->ev = evtimer_new(loop->ev, expire_cb, ts);
	if (ts->ev == NULL) {
		talloc_free(ts);
		return NULL;
	}
	talloc_set_destructor(ts, timers_destructor);
	return ts;
}

bool smbd_shared_timer_arm(struct smbd_shared_timers *ts, struct smbd_shared_timer *t, uint32_t ms,
			   void (*fn)(struct smbd_shared_timer *t))
{
	SMBD_CONTROL_HELD();
	if (t->slot != 0)
		heap_remove(ts, t);
	if (ts->n == ts->cap) {
		size_t cap = ts->cap ? 2 * ts->cap : 16;
		struct smbd_shared_timer **heap = talloc_realloc(ts, ts->heap, struct smbd_shared_timer *, cap);
		if (heap == NULL) {
			follow(ts);
			return false;
		}
		ts->heap = heap;
		ts->cap = cap;
	}
	t->fn = fn;
	t->due_ms = now_ms() + ms;
	place(ts, ts->n++, t);
	sift_up(ts, ts->n - 1);
	follow(ts);
	return true;
}

void smbd_shared_timer_disarm(struct smbd_shared_timers *ts, struct smbd_shared_timer *t)
{
	SMBD_CONTROL_HELD();
	if (t->slot == 0)
		return;
	heap_remove(ts, t);
	follow(ts);
}
