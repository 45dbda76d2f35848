#include "config.h"
#include "smbd/io_async.h"

#include <event2/event.h>
#include <stdint.h>
#include <talloc.h>
#include <unistd.h>

#include "lib/log.h"
#include "smbd/conn.h"
#include "smbd/control.h"
#include "smbd/dispatch.h"
#include "smbd/iopool.h"
#include "smbd/loop.h"
#include "smbd/open.h"
#include "smbd/server.h"
#include "smbd/splice_pipe.h"
#include "smbd/transport.h"
#include "smbd/vfs.h"
#include "smbd/vfs_uring.h"

/* ---- offloading a call's blocking work ---- */

struct offload_job {
	struct smbd_iojob base; /* first: the pool hands this back */
	struct smb2_call *call;
	struct smbd_conn *conn;
	void *state;
	smbd_offload_work_fn work;
	smbd_offload_finish_fn finish;
};

static void offload_work(struct smbd_iojob *base)
{
	struct offload_job *job = (struct offload_job *)base;
	job->work(job->state);
}

/* The call's work is over: its reply goes, and its connection may go. */
static void call_finished(struct smb2_call *call, struct smbd_conn *conn, NTSTATUS status)
{
	smbd_call_async_done(call, status);
	smbd_conn_io_end(conn);
}

static void offload_done(struct smbd_iojob *base)
{
	struct offload_job *job = (struct offload_job *)base;
	struct smb2_call *call = job->call;
	struct smbd_conn *conn = job->conn;
	bool control = smbd_command_is_control(call->command);
	if (control)
		smbd_control_enter();
	else
		smbd_shared_enter();
	smbd_call_waits_again(call);
	NTSTATUS status = job->finish(call, job->state);
	talloc_free(job);
	if (NT_STATUS_EQUAL(status, NT_STATUS_PENDING)) {
		/* finish() went on: another job, or a wait of another kind. */
		smbd_call_still_waiting(call);
		smbd_conn_io_end(conn);
	} else {
		call_finished(call, conn, status);
	}
	if (control)
		smbd_control_leave();
	else
		smbd_shared_leave();
}

bool smbd_offload_available(const struct smb2_call *call)
{
	const struct smbd_iopool *pool = call->req->conn->loop->iopool;
	return pool != NULL && smbd_iopool_threads(pool) > 0;
}

NTSTATUS smbd_call_offload(struct smb2_call *call, void *state, smbd_offload_work_fn work,
			   smbd_offload_finish_fn finish)
{
	struct smbd_conn *conn = call->req->conn;
	if (!smbd_offload_available(call)) {
		work(state);
		return finish(call, state);
	}
	struct offload_job *job = talloc_zero(call->req, struct offload_job);
	if (job == NULL)
		return NT_STATUS_NO_MEMORY;
	job->base.work = offload_work;
	job->base.done = offload_done;
	job->call = call;
	job->conn = conn;
	job->state = state;
	job->work = work;
	job->finish = finish;
	smbd_conn_io_begin(conn);
	smbd_iopool_submit(conn->loop->iopool, &job->base);
	return smbd_call_wait_io(call);
}

/* ---- READ, WRITE, FLUSH ---- */

struct io_state {
	struct smbd_fd *fd;     /* held for the transfer (smbd_open_hold_fd) */
	struct smbd_io io;
	smbd_io_finish_fn finish;
	/* on io_uring, or moved by the transport */
	struct vfs_uring_req ureq;
	struct smbd_pipe *part;     /* io_uring: the pipe being filled (io.pipe's chain) */
	struct smbd_tail_write tail;
	struct smb2_call *call;
	struct smbd_conn *conn;
};

/* A transfer that never started still lets go of its fd. */
static int io_state_destructor(struct io_state *st)
{
	smbd_fd_release(st->fd);
	return 0;
}

/* The part of a READ's data the pipe p takes (smbd/splice_pipe.h). */
static size_t part_len(const struct smbd_io *io, const struct smbd_pipe *p)
{
	size_t left = io->len - io->moved;
	size_t room = smbd_pipe_room(p, io->offset + io->moved);
	return left < room ? left : room;
}

/* A READ into its chain of pipes, one after the other, until len or the
 * end of the file: as a pread, what was read before an error is the answer.
 * A pipe that took less than its room goes on into the next (the room is
 * counted in pages; a file system could fill them otherwise). */
static NTSTATUS splice_into_pipes(struct smbd_io *io, int fd)
{
	for (struct smbd_pipe *p = io->pipe; p != NULL && io->moved < io->len; p = p->next) {
		size_t want = part_len(io, p), got;
		NTSTATUS status = vfs_splice_from(fd, p->wr, want, io->offset + io->moved, &got);
		p->held = got;
		io->moved += got;
		if (!NT_STATUS_IS_OK(status))
			return io->moved > 0 ? NT_STATUS_OK : status;
		if (got == 0)
			break;
	}
	return NT_STATUS_OK;
}

/* The transfer itself: on a worker, or inline without workers. */
static void io_run(struct smbd_io *io, int fd)
{
	switch (io->op) {
	case SMBD_IO_READ: {
		if (io->pipe != NULL) {
			io->status = splice_into_pipes(io, fd);
			break;
		}
		/* From where a page-cache read stopped, if one went first. */
		size_t more = 0;
		io->status = vfs_pread(fd, (uint8_t *)io->buf + io->moved, io->len - io->moved,
				       io->offset + io->moved, &more);
		io->moved += more;
		break;
	}
	case SMBD_IO_WRITE:
		io->status = vfs_pwrite(fd, io->buf, io->len, io->offset, &io->moved);
		if (NT_STATUS_IS_OK(io->status) && io->sync)
			io->status = vfs_fsync(fd);
		break;
	case SMBD_IO_SYNC:
		io->status = vfs_fsync(fd);
		break;
	}
}

static void io_work(void *arg)
{
	struct io_state *st = arg;
	io_run(&st->io, smbd_fd_number(st->fd));
}

static NTSTATUS io_finish(struct smb2_call *call, void *arg)
{
	struct io_state *st = arg;
	smbd_fd_release(st->fd);
	st->fd = NULL;
	return st->finish(call, &st->io);
}

/* A transfer that ran outside the pool (io_uring, the transport) is over. */
static void io_complete(struct io_state *st, NTSTATUS status, size_t moved)
{
	st->io.status = status;
	st->io.moved = moved;
	smbd_fd_release(st->fd);
	st->fd = NULL;
	smbd_shared_enter(); /* finish() finds the open again */
	call_finished(st->call, st->conn, st->finish(st->call, &st->io));
	smbd_shared_leave();
}

/* The ring's request for the next part of a spliced READ (st->part). */
static void uring_part(struct io_state *st)
{
	st->ureq.pipe_fd = st->part->wr;
	st->ureq.len = part_len(&st->io, st->part);
	st->ureq.offset = st->io.offset + st->io.moved;
	st->ureq.moved = 0;
}

static void uring_done(struct vfs_uring_req *r)
{
	struct io_state *st = r->private_data;
	if (st->part == NULL) {
		io_complete(st, r->status, r->moved);
		return;
	}
	st->part->held = r->moved;
	st->io.moved += r->moved;
	bool ok = NT_STATUS_IS_OK(r->status);
	if (ok && r->moved > 0 && st->io.moved < st->io.len && st->part->next != NULL) {
		st->part = st->part->next;
		uring_part(st);
		if (vfs_uring_submit(st->call->req->conn->loop->uring, &st->ureq))
			return;
		/* No room in the ring: what is in is the answer, as when the
		 * rest of a short read cannot be queued (vfs_uring.c). */
	}
	io_complete(st, ok || st->io.moved > 0 ? NT_STATUS_OK : r->status, st->io.moved);
}

/* On io_uring, if the server has a ring and it has room. */
static bool uring_start(struct smb2_call *call, struct io_state *st)
{
	struct smbd_conn *conn = call->req->conn;
	if (conn->loop->uring == NULL)
		return false;
	static const enum vfs_uring_op ops[] = {
		[SMBD_IO_READ] = VFS_URING_READ,
		[SMBD_IO_WRITE] = VFS_URING_WRITE,
		[SMBD_IO_SYNC] = VFS_URING_FDATASYNC,
	};
	st->call = call;
	st->conn = conn;
	st->ureq = (struct vfs_uring_req){
		.op = st->io.pipe != NULL ? VFS_URING_SPLICE_IN : ops[st->io.op],
		.fd = smbd_fd_number(st->fd),
		.buf = st->io.buf,
		.len = st->io.len,
		.offset = st->io.offset,
		.sync = st->io.sync,
		.moved = st->io.moved,
		.done = uring_done,
		.private_data = st,
	};
	if (st->io.pipe != NULL) {
		st->part = st->io.pipe;
		uring_part(st);
	}
	smbd_conn_io_begin(conn);
	if (vfs_uring_submit(conn->loop->uring, &st->ureq))
		return true;
	smbd_conn_io_end(conn);
	return false;
}

/*
 * A large write from a buffer (a sealed or signed WRITE's data) to a file
 * with no other transfer of its open in flight goes to the worker pool,
 * not io_uring. io_uring runs a buffered write on its own worker (io-wq)
 * and adds another only when a running one blocks, which a copy into the
 * page cache seldom does: the writes of every file went one after
 * another through one thread. The pool's workers copy side by side, and
 * its hand-off costs little beside a copy this long. A queue of writes to
 * one file stays with io_uring, which takes them one at a time as the
 * file's lock would anyway, where pool workers would wait on that lock
 * (sealed 1 MiB WRITEs, 32 in flight: 5% less through the pool).
 */
#define POOL_WRITE_MIN (128u * 1024)

static bool to_pool(const struct smbd_open *o, const struct smbd_io *io)
{
	return io->op == SMBD_IO_WRITE && io->len >= POOL_WRITE_MIN && smbd_open_io_idle(o);
}

NTSTATUS smbd_io_submit(struct smb2_call *call, struct smbd_open *o, const struct smbd_io *io,
			smbd_io_finish_fn finish)
{
	struct smbd_io now = *io;
	if (!smbd_offload_available(call)) {
		io_run(&now, o->fd);
		return finish(call, &now);
	}
	if (io->op == SMBD_IO_READ && io->pipe == NULL) {
		/* Data in the page cache is served at once: a worker would
		 * only add two thread switches to a memcpy. A splice has no
		 * such try (a page not in memory would block the loop). */
		bool complete;
		now.status = vfs_pread_nowait(o->fd, now.buf, now.len, now.offset, &now.moved, &complete);
		if (!NT_STATUS_IS_OK(now.status) || complete)
			return finish(call, &now);
	}
	struct io_state *st = talloc_zero(call->req, struct io_state);
	if (st == NULL)
		return NT_STATUS_NO_MEMORY;
	talloc_set_destructor(st, io_state_destructor);
	bool pool = to_pool(o, io);
	/* Held, so the number cannot be closed and reused for another
	 * file while the transfer runs. */
	st->fd = smbd_open_hold_fd(o);
	st->io = now;
	st->finish = finish;
	if (!pool && uring_start(call, st))
		return smbd_call_wait_io(call);
	return smbd_call_offload(call, st, io_work, io_finish);
}

static void tail_done(struct smbd_tail_write *w)
{
	io_complete(w->private_data, w->status, w->moved);
}

NTSTATUS smbd_io_submit_tail(struct smb2_call *call, struct smbd_open *o, const struct smbd_io *io,
			     smbd_io_finish_fn finish)
{
	struct smbd_conn *conn = call->req->conn;
	struct smbd_transport *t = conn->transport;
	struct io_state *st = talloc_zero(call->req, struct io_state);
	if (st == NULL || t->ops->take_tail == NULL)
		return NT_STATUS_INTERNAL_ERROR; /* the data is then dropped */
	talloc_set_destructor(st, io_state_destructor);
	st->fd = smbd_open_hold_fd(o);
	st->io = *io;
	st->finish = finish;
	st->call = call;
	st->conn = conn;
	st->tail = (struct smbd_tail_write){
		.fd = smbd_fd_number(st->fd),
		.offset = io->offset,
		.sync = io->sync,
		.done = tail_done,
		.private_data = st,
	};
	if (!t->ops->take_tail(t, &st->tail))
		return NT_STATUS_INTERNAL_ERROR;
	smbd_conn_io_begin(conn);
	return smbd_call_wait_io(call);
}
