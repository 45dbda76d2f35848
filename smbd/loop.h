/*
 * An event loop and what belongs to it: the libevent base its thread runs,
 * the io_uring its requests go to, the pools its replies and frames use,
 * and its thread's load.
 *
 * A connection, and everything done for it, reaches these through
 * conn->loop, never through the server: then a second loop, on a thread of
 * its own, needs no change there. There is one loop today, the server's;
 * docs/PERFORMANCE.md ("Loops in one process") has the measurement behind
 * more and what they must not share. State shared between connections
 * (leases, locks, durable opens, the listeners) keeps its events on the
 * server's loop, srv->loop.
 */
#ifndef PORTHOS_SMBD_LOOP_H
#define PORTHOS_SMBD_LOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "smbd/loop_load.h"

struct event_base;
struct smbd_server;
struct vfs_uring;
struct smbd_bigbufs;
struct smbd_heap_keep;
struct smbd_pipes;
struct smbd_iopool;
struct smbd_loop_posts;

struct smbd_loop {
	struct smbd_server *srv;
	struct event_base *ev;
	pthread_t thread;              /* the one running ev */
	struct smbd_loop_posts *posts; /* work handed to this loop's thread (loop_post.h) */
	struct smbd_iopool *iopool;   /* its file I/O workers ("io threads"); done() comes back here */
	size_t crypto_offloaded;      /* bytes of messages being sealed or opened on them (transform.c) */
	struct vfs_uring *uring;      /* reads, writes, syncs ("io uring"); NULL: on the I/O pool */
	struct smbd_bigbufs *bigbufs; /* large READ buffers kept mapped (bigbuf.h) */
	struct smbd_heap_keep *heap_keep; /* freed large frames kept while they come (heap_keep.h) */
	struct smbd_pipes *pipes;     /* large plain READs' pipes (splice_pipe.h); NULL: "splice reads = no" */
	struct smbd_loop_load load;   /* whether large replies are sealed here or on workers (loop_load.h) */
};

/* A loop on ev for srv, with what srv's config asks for ("io threads",
 * "io uring", "splice reads"); a talloc child of srv. NULL on failure
 * (logged). */
struct smbd_loop *smbd_loop_new(struct smbd_server *srv, struct event_base *ev);

/* Ends the loop's file I/O before the server frees the connections it
 * reports to: the ring's requests, then the workers' jobs, finish now and
 * their done() runs. File descriptors let go of afterwards are closed in
 * place. */
void smbd_loop_stop_io(struct smbd_loop *loop);

/* Whether the calling thread is the one running loop. */
bool smbd_loop_is_current(const struct smbd_loop *loop);

#endif
