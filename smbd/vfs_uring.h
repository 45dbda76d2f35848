/*
 * File reads, writes, splices to and from a pipe and fdatasync on
 * io_uring, completed on the event loop (the ring's eventfd is one of its
 * events).
 *
 * Why (bench/run-ioengine, docs/PERFORMANCE.md): one 4 KiB buffered write
 * with one request in flight costs half as much through io_uring as
 * through a hand-off to a worker thread (the kernel's own workers are
 * woken more cheaply than ours); reads the page cache holds complete
 * during the submission, as cheaply as on the loop itself.
 *
 * A request's memory and its fd are the submitter's until done() runs
 * (always exactly once, on the loop; from the destructor too, which
 * waits for what is in flight).
 */
#ifndef PORTHOS_SMBD_VFS_URING_H
#define PORTHOS_SMBD_VFS_URING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/ntstatus.h"

struct event_base;
struct vfs_uring;

enum vfs_uring_op {
	VFS_URING_READ,      /* until len bytes or end of file */
	VFS_URING_WRITE,     /* all of len, then fdatasync if sync */
	VFS_URING_FDATASYNC,
	VFS_URING_SPLICE,    /* all of len from the pipe pipe_fd, as WRITE */
	VFS_URING_SPLICE_IN, /* into the pipe pipe_fd (its write end): once, maybe short */
};

/* A write into pages not yet all cached goes to the kernel as linked
 * pieces (smbd/vfs.h, VFS_WRITE_PIECE), at most this many per submission
 * (2 MiB); a longer one goes on from where the chain ended. */
#define VFS_URING_PIECES 16

struct vfs_uring_req {
	enum vfs_uring_op op;
	int fd;
	int pipe_fd;         /* SPLICE: the pipe's read end, holding len bytes;
			      * SPLICE_IN: its write end, with room for len */
	void *buf;
	size_t len;
	uint64_t offset;
	bool sync;
	void (*done)(struct vfs_uring_req *r);
	void *private_data;
	/* results */
	NTSTATUS status;
	size_t moved;
	/* internal */
	bool syncing;
	bool pieced;                     /* a write into pages not all cached yet */
	uint8_t interruptions;           /* times queued again after its worker was interrupted */
	uint8_t piece[VFS_URING_PIECES]; /* piece[k] == k; &piece[k] names piece k's completion */
};

/* NULL (with the reason logged) when the kernel offers no io_uring. */
struct vfs_uring *vfs_uring_new(TALLOC_CTX *mem, struct event_base *ev);

/* Starts the request; false if the ring is full (the caller does it another way). */
bool vfs_uring_submit(struct vfs_uring *u, struct vfs_uring_req *r);

#endif
