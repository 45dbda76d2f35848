#include "config.h"
#include "smbd/tcp_spliced.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>

#include "smbd/splice_pipe.h"

struct spliced_reply {
	struct spliced_reply *next;
	struct smbd_pipe *pipe;     /* a child, the first of its chain */
	struct smbd_pipe *part;     /* the one being sent */
	size_t left;                /* of its data, not yet in the socket */
	struct evbuffer *after;     /* what was sent after it */
	bool more;                  /* others in flight when it was queued */
};

struct tcp_spliced {
	struct bufferevent *bev;
	int sock;
	struct event *writable;     /* the socket took less than a reply's data */
	struct spliced_reply *head, *tail;
	size_t out_low;
	bool corked;                /* TCP_CORK is set */
	tcp_spliced_event_fn fn;
	void *arg;
};

static int reply_destructor(struct spliced_reply *r)
{
	evbuffer_free(r->after);
	return 0;
}

static int queue_destructor(struct tcp_spliced *q)
{
	event_free(q->writable);
	/* The replies (and their pipes, closed with what they still hold) are children. */
	return 0;
}

/* The output before the head reply must drain first: its write callback
 * then comes at empty, not at the low-water mark. */
static void wait_for_drain(struct tcp_spliced *q, bool on)
{
	bufferevent_setwatermark(q->bev, EV_WRITE, on ? 0 : q->out_low, 0);
}

/*
 * TCP_CORK while a reply with more behind it goes out. A pipe reaches the
 * socket 16 pages per sendmsg, and between two of them the socket is free:
 * a paced congestion control (BBR paces in TCP itself where the device
 * has no fq qdisc, loopback included) then sends from its pacing timer
 * whatever the socket holds, a segment part filled, and each segment
 * waits for a timer of its own. Corked, only full segments leave, and the
 * end of one reply shares a segment with the start of the next; the cork
 * comes off once no reply waits, so the last segment is never held. Not
 * for a reply with nothing in flight behind it: corked, one READ at a
 * time measured 30-50% slower (docs/PERFORMANCE.md).
 */
static void cork(struct tcp_spliced *q, bool on)
{
	int v = on;
	if (q->corked != on && setsockopt(q->sock, IPPROTO_TCP, TCP_CORK, &v, sizeof(v)) == 0)
		q->corked = on;
}

/* Sends what it can, in order; 0, or the errno of a failed socket. */
static int pump(struct tcp_spliced *q)
{
	struct evbuffer *out = bufferevent_get_output(q->bev);
	if (q->head != NULL)
		cork(q, q->head->more);
	while (q->head != NULL) {
		if (evbuffer_get_length(out) > 0) {
			/* Usually just the reply's header: sent now, it saves
			 * a loop turn before the data. A bufferevent keeps its
			 * output's front frozen and thaws it to write, as here. */
			evbuffer_unfreeze(out, 1);
			int n = evbuffer_write(out, q->sock);
			int err = errno;
			evbuffer_freeze(out, 1);
			if (n < 0 && err != EAGAIN && err != EINTR)
				return err;
			if (evbuffer_get_length(out) > 0) {
				wait_for_drain(q, true);
				return 0;
			}
		}
		struct spliced_reply *r = q->head;
		while (r->left > 0) {
			while (r->part->held == 0 && r->part->next != NULL)
				r->part = r->part->next;
			size_t want = r->part->held < r->left ? r->part->held : r->left;
			/* More of the reply in the next pipe: the socket need not push yet. */
			unsigned more = want < r->left ? SPLICE_F_MORE : 0;
			ssize_t n = want == 0 ? 0 : splice(r->part->rd, NULL, q->sock, NULL, want,
							   SPLICE_F_MOVE | SPLICE_F_NONBLOCK | more);
			if (n > 0) {
				r->left -= (size_t)n;
				r->part->held -= (size_t)n;
			} else if (n < 0 && errno == EINTR) {
				continue;
			} else if (n < 0 && errno == EAGAIN) {
				event_add(q->writable, NULL);
				return 0;
			} else {
				return n == 0 ? EPIPE : errno; /* the pipe held less: never */
			}
		}
		q->head = r->next;
		if (q->head == NULL)
			q->tail = NULL;
		cork(q, q->head != NULL && q->head->more);
		/* What waited behind it is next (a move of its chains, not a copy). */
		evbuffer_add_buffer(out, r->after);
		talloc_free(r); /* its empty pipe goes back to the pool */
	}
	wait_for_drain(q, false);
	return 0;
}

static void writable_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_spliced *q = arg;
	q->fn(q->arg, pump(q));
}

struct tcp_spliced *tcp_spliced_new(TALLOC_CTX *mem, struct bufferevent *bev, size_t out_low,
				    tcp_spliced_event_fn fn, void *arg)
{
	struct tcp_spliced *q = talloc_zero(mem, struct tcp_spliced);
	if (q == NULL)
		return NULL;
	q->bev = bev;
	q->sock = bufferevent_getfd(bev);
	q->out_low = out_low;
	q->fn = fn;
	q->arg = arg;
	q->writable = event_new(bufferevent_get_base(bev), q->sock, EV_WRITE, writable_cb, q);
	if (q->writable == NULL) {
		talloc_free(q);
		return NULL;
	}
	talloc_set_destructor(q, queue_destructor);
	return q;
}

struct evbuffer *tcp_spliced_output(struct tcp_spliced *q)
{
	return q->tail != NULL ? q->tail->after : bufferevent_get_output(q->bev);
}

int tcp_spliced_add(struct tcp_spliced *q, struct smbd_pipe *p, size_t len, bool more)
{
	struct spliced_reply *r = talloc_zero(q, struct spliced_reply);
	if (r == NULL || (r->after = evbuffer_new()) == NULL) {
		talloc_free(r);
		talloc_free(p);
		return ENOMEM;
	}
	talloc_set_destructor(r, reply_destructor);
	r->pipe = r->part = talloc_steal(r, p);
	r->left = len;
	r->more = more;
	if (q->tail != NULL) {
		q->tail->next = r;
		q->tail = r;
		return 0; /* it waits its turn */
	}
	q->head = q->tail = r;
	return pump(q);
}

size_t tcp_spliced_pending(const struct tcp_spliced *q)
{
	size_t n = 0;
	for (const struct spliced_reply *r = q->head; r != NULL; r = r->next)
		n += r->left + evbuffer_get_length(r->after);
	return n;
}

int tcp_spliced_drained(struct tcp_spliced *q)
{
	if (q->head == NULL || event_pending(q->writable, EV_WRITE, NULL))
		return 0;
	return pump(q);
}
