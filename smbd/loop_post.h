/*
 * Work handed to a loop's thread: "run this there, soon". How one loop
 * asks another to act on what only that loop may touch (a connection, a
 * call waiting on it), and how code anywhere defers work to a later turn
 * of a loop. docs/SHARDING.md ("How loops will share", step 2 of the plan)
 * says why a queue of our own and not libevent's thread support.
 *
 * A post is embedded in the object it is about: posting allocates
 * nothing, and so cannot fail. The poster keeps the object alive until
 * fn has run or the post was taken back (smbd_loop_unpost).
 */
#ifndef PORTHOS_SMBD_LOOP_POST_H
#define PORTHOS_SMBD_LOOP_POST_H

#include <stdatomic.h>
#include <stdbool.h>

struct event_base;
struct smbd_loop_posts;

struct smbd_post {
	struct smbd_post *next;
	void (*fn)(struct smbd_post *p); /* runs on the loop's thread */
	atomic_bool queued;              /* from the post until fn starts */
};

/* The queue of the loop that runs ev, on the calling thread; a talloc
 * child of mem. NULL on failure (out of memory or file descriptors).
 * Posts still queued when it is freed never run. */
struct smbd_loop_posts *smbd_loop_posts_new(void *mem, struct event_base *ev);

/* Queues p to run fn on the loop's thread on a later turn, after the
 * posts queued before it; if p is queued already, it runs once (false).
 * From any thread; from the loop's own it costs no system call. p starts
 * zeroed; it is not queued again once its fn has started. */
bool smbd_post(struct smbd_loop_posts *q, struct smbd_post *p, void (*fn)(struct smbd_post *p));

/* On the loop's thread only: takes p back if its fn has not started;
 * false if it was not queued (never posted, already run, or running).
 * Walks the queue: for the rare take-back (a waiting call cancelled). */
bool smbd_unpost(struct smbd_loop_posts *q, struct smbd_post *p);

#endif
