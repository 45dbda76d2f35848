/*
 * READ, WRITE and FLUSH data moves on the I/O pool (smbd/iopool.h).
 *
 * The handler checks everything first, then hands the transfer over:
 *     return smbd_io_submit(call, o, &(struct smbd_io){ ... }, finish);
 * finish(call, io) runs on the loop thread when the transfer is done and
 * writes the reply (call->out) from io->status and io->moved; the call
 * then completes. Without worker threads ("io threads = 0") the transfer
 * runs inline and finish() is called before smbd_io_submit() returns.
 *
 * The job reads and writes only memory of the call's request (which
 * stays alive until the call completes: smbd_call_wait_io()) and a
 * duplicate of the open's fd, so a CLOSE, a logoff or a dropped
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

struct smbd_io {
	enum smbd_io_op op;
	void *buf;          /* READ: len bytes the request owns; WRITE: the data */
	size_t len;
	uint64_t offset;
	bool sync;          /* WRITE: reach stable storage before the reply */
	/* results, for finish() */
	NTSTATUS status;
	size_t moved;       /* bytes read or written */
};

typedef NTSTATUS (*smbd_io_finish_fn)(struct smb2_call *call, const struct smbd_io *io);

/*
 * Starts the transfer. Returns what the handler returns: NT_STATUS_PENDING
 * when it runs on a worker, else finish()'s status (inline run).
 */
NTSTATUS smbd_io_submit(struct smb2_call *call, struct smbd_open *o, const struct smbd_io *io,
			smbd_io_finish_fn finish);

#endif
