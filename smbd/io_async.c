#include "config.h"
#include "smbd/io_async.h"

#include <event2/event.h>
#include <stdint.h>
#include <talloc.h>
#include <unistd.h>

#include "lib/log.h"
#include "smbd/conn.h"
#include "smbd/dispatch.h"
#include "smbd/iopool.h"
#include "smbd/open.h"
#include "smbd/server.h"
#include "smbd/vfs.h"

struct io_job {
	struct smbd_iojob base; /* first: the pool hands this back */
	struct smb2_call *call;
	struct smbd_conn *conn;
	int fd;                 /* a duplicate, closed by the worker */
	struct smbd_io io;
	smbd_io_finish_fn finish;
};

/* The transfer itself: on a worker, or inline without workers. */
static void io_run(struct smbd_io *io, int fd)
{
	switch (io->op) {
	case SMBD_IO_READ: {
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

static void io_work(struct smbd_iojob *base)
{
	struct io_job *job = (struct io_job *)base;
	io_run(&job->io, job->fd);
	close(job->fd);
	job->fd = -1;
}

static void io_done(struct smbd_iojob *base)
{
	struct io_job *job = (struct io_job *)base;
	struct smb2_call *call = job->call;
	struct smbd_conn *conn = job->conn;
	NTSTATUS status = job->finish(call, &job->io);
	talloc_free(job);
	smbd_call_async_done(call, status);
	/* The last transfer of a dropped connection lets it be freed. */
	if (--conn->n_io == 0 && conn->terminating)
		event_active(conn->terminate_ev, 0, 0);
}

NTSTATUS smbd_io_submit(struct smb2_call *call, struct smbd_open *o, const struct smbd_io *io,
			smbd_io_finish_fn finish)
{
	struct smbd_conn *conn = call->req->conn;
	struct smbd_iopool *pool = conn->srv->iopool;
	struct smbd_io now = *io;
	if (pool == NULL || smbd_iopool_threads(pool) == 0) {
		io_run(&now, o->fd);
		return finish(call, &now);
	}
	if (io->op == SMBD_IO_READ) {
		/* Data in the page cache is served at once: a worker would
		 * only add two thread switches to a memcpy. */
		bool complete;
		now.status = vfs_pread_nowait(o->fd, now.buf, now.len, now.offset, &now.moved, &complete);
		if (!NT_STATUS_IS_OK(now.status) || complete)
			return finish(call, &now);
	}
	struct io_job *job = talloc_zero(call->req, struct io_job);
	if (job == NULL)
		return NT_STATUS_NO_MEMORY;
	/* A duplicate, so the number cannot be closed and reused for
	 * another file while a worker still holds it. */
	NTSTATUS status = vfs_dup(o->fd, &job->fd);
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(job);
		return status;
	}
	job->base.work = io_work;
	job->base.done = io_done;
	job->call = call;
	job->conn = conn;
	job->io = now;
	job->finish = finish;
	conn->n_io++;
	smbd_iopool_submit(pool, &job->base);
	return smbd_call_wait_io(call);
}
