/*
 * Work of a call on the I/O pool (smbd/iopool.h): READ, WRITE and FLUSH
 * data moves, and any other blocking work (smbd_call_offload()).
 *
 * The handler checks everything first, then hands the transfer over:
 *     return smbd_io_submit(call, o, &(struct smbd_io){ ... }, finish);
 * finish(call, io) runs on the loop thread when the transfer is done and
 * writes the reply (call->out) from io->status and io->moved; the call
 * then completes. Without worker threads ("io threads = 0") the transfer
 * runs inline and finish() is called before smbd_io_submit() returns.
 *
 * The job reads and writes only memory of the call's request (which
 * stays alive until the call completes: smbd_call_wait_io()) and the
 * open's fd, held (smbd_open_hold_fd), so a CLOSE, a logoff or a dropped
 * connection racing with the transfer cannot pull the file from under
 * it. finish() must look the open up again by id if it needs it.
 */
#ifndef PORTHOS_SMBD_IO_ASYNC_H
#define PORTHOS_SMBD_IO_ASYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/ntstatus.h"

struct smb2_call;
struct smbd_open;

enum smbd_io_op {
	SMBD_IO_READ,  /* pread into buf */
	SMBD_IO_WRITE, /* pwrite from buf, then fdatasync if sync */
	SMBD_IO_SYNC,  /* fdatasync only (FLUSH) */
};

struct smbd_pipe;

struct smbd_io {
	enum smbd_io_op op;
	void *buf;          /* READ: len bytes the request owns; WRITE: the data */
	struct smbd_pipe *pipe; /* READ: into this pipe instead of buf (smbd/splice_pipe.h) */
	size_t len;
	uint64_t offset;
	bool sync;          /* WRITE: reach stable storage before the reply */
	/* results, for finish() */
	NTSTATUS status;
	size_t moved;       /* bytes read or written */
};

typedef NTSTATUS (*smbd_io_finish_fn)(struct smb2_call *call, const struct smbd_io *io);

/*
 * Any blocking work of a call, offloaded: work(state) runs on an I/O
 * worker (inline when there are none) and may touch only state and what
 * state owns (the request's memory stays alive, see above: so may
 * state); then finish(call, state) runs on the loop and writes the reply.
 * Work on names must take on the session's identity itself
 * (smbd/identity.h: a copy, the session may go meanwhile). finish() may
 * return NT_STATUS_PENDING after starting the call's next step: another
 * smbd_call_offload(), or a wait of its own (smbd_call_go_async()).
 */
typedef void (*smbd_offload_work_fn)(void *state);
typedef NTSTATUS (*smbd_offload_finish_fn)(struct smb2_call *call, void *state);
NTSTATUS smbd_call_offload(struct smb2_call *call, void *state, smbd_offload_work_fn work,
			   smbd_offload_finish_fn finish);
/* Whether there are workers ("io threads" > 0). */
bool smbd_offload_available(const struct smb2_call *call);

/*
 * Starts the transfer. Returns what the handler returns: NT_STATUS_PENDING
 * when it runs on a worker, else finish()'s status (inline run).
 */
NTSTATUS smbd_io_submit(struct smb2_call *call, struct smbd_open *o, const struct smbd_io *io,
			smbd_io_finish_fn finish);

/*
 * A WRITE whose data is still in the transport (call->req->tail_len,
 * smbd/transport.h): the transport moves it into the file, then finish()
 * runs as above. io->buf is unused.
 */
NTSTATUS smbd_io_submit_tail(struct smb2_call *call, struct smbd_open *o, const struct smbd_io *io,
			     smbd_io_finish_fn finish);

#endif
