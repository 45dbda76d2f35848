/*
 * The data of a large plain WRITE, moved from its TCP socket into the
 * file without passing through the server's memory (smbd/transport.h):
 * on the loop, splice(2) moves the socket's received pages into a pipe as
 * they arrive (page references, no copy); io_uring splices the pipe into
 * the file at the WRITE's offset (the one copy, into the page cache, on
 * the kernel's workers) while the rest still arrives. Against recv() and
 * pwrite() that saves a copy of every byte and overlaps the file's copy
 * with the arrival (docs/PERFORMANCE.md, "WRITE data by splice").
 *
 * A connection has a few (its transport's TCP_TAILS), made as its large
 * WRITEs need them; each owns a pipe. One takes the socket's bytes at a
 * time; the others may still be writing their pipes to the file.
 * Everything runs on the loop thread.
 */
#ifndef PORTHOS_SMBD_TCP_TAIL_H
#define PORTHOS_SMBD_TCP_TAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <talloc.h>

struct event_base;
struct smbd_tail_write;
struct tcp_tail;
struct vfs_uring;

/* The tail is idle again, its last transfer having told ended() before its
 * file writes were over: one waiting for it may start. */
typedef void (*tcp_tail_idle_fn)(void *arg);

/* NULL when no pipe can be had (descriptors, memory): read the frame as usual. */
struct tcp_tail *tcp_tail_new(TALLOC_CTX *mem, struct event_base *ev, struct vfs_uring *u, int sock,
			      tcp_tail_idle_fn idle, void *idle_arg);

/* The transfer needs the socket no more: why is NULL when all its bytes
 * were consumed (some may still be on their way to the file), else why
 * the connection must end (the socket failed or stalled). */
typedef void (*tcp_tail_ended_fn)(void *arg, const char *why);

/*
 * Consumes the next len bytes of the stream, of which the first pre_len
 * were already read (pre, copied here), into w's file, or drops them when
 * w is NULL. A stall time-out (NULL: none) runs while bytes are awaited.
 * ended() runs once all of them are out of the socket (or it failed);
 * w->done() runs once they are all in the file, or the transfer fails,
 * never before a file write in flight is over. When both are due at once,
 * w->done() goes first. Neither runs from within this call.
 */
void tcp_tail_start(struct tcp_tail *t, size_t len, const uint8_t *pre, size_t pre_len,
		    struct smbd_tail_write *w, const struct timeval *stall, tcp_tail_ended_fn ended, void *arg);

/* The connection is going: the socket is not read again; w->done() runs
 * (with an error) once no file write is in flight; ended() does not. */
void tcp_tail_abort(struct tcp_tail *t);

/* Bytes of the transfer received so far (for the receive budget's rule on slow frames). */
size_t tcp_tail_received(const struct tcp_tail *t);
/* No transfer: tcp_tail_start() may be called. */
bool tcp_tail_idle(const struct tcp_tail *t);

#endif
