/*
 * The transport face the SMB2 engine sees: TCP today, SMB Direct later.
 * A transport delivers whole SMB2 PDUs (framing already removed) to
 * smbd_conn_recv(), or a large WRITE without its data (below), and sends
 * iovec lists that form one PDU. The engine never
 * includes libevent's bufferevent or rdma-core headers.
 */
#ifndef PORTHOS_SMBD_TRANSPORT_H
#define PORTHOS_SMBD_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "lib/ntstatus.h"

struct smbd_transport;
struct smbd_pipe;

/* Reply pieces at least this big may be sent by reference (send_pdu's
 * owner): below it a copy costs less than the bookkeeping. */
#define SMBD_SEND_REF_MIN 65536

/*
 * A large WRITE's data may stay in the transport when its frame is
 * delivered (smbd_conn_recv_tail(): the header and WRITE body only, the
 * data right after them). During that delivery the engine, having checked
 * the WRITE, either asks the transport to move the data into the file
 * (take_tail) or leaves it, and the transport then reads and drops it.
 * Only frames whose data needs no check before it lands are delivered so:
 * one WRITE, neither signed nor sealed.
 */
struct smbd_tail_write {
	int fd;             /* the engine keeps it open until done() */
	uint64_t offset;
	bool sync;          /* fdatasync once it is all written */
	/* Called once, on the loop, when all of the data has left the
	 * transport (or the connection is going): status, moved. */
	void (*done)(struct smbd_tail_write *w);
	void *private_data;
	NTSTATUS status;
	size_t moved;
};

struct smbd_transport_ops {
	const char *name;
	/* Queues one PDU; returns 0 or an errno. The iov memory may be
	 * reused when it returns, except that of large entries when owner
	 * (a talloc context holding them) is given: the transport then
	 * takes owner, may send those entries by reference, and frees it
	 * once they are sent (or on error), so a 1 MiB READ's data is not
	 * copied once more. */
	int (*send_pdu)(struct smbd_transport *t, const struct iovec *iov, int iovcnt, void *owner);
	/* Bytes queued but not yet handed to the kernel (for back-pressure). */
	size_t (*pending_bytes)(const struct smbd_transport *t);
	/* Whether what was sent goes unacknowledged (the path to the client
	 * looks dead), so that a notification had better take another
	 * channel. NULL: never known. */
	bool (*stalled)(const struct smbd_transport *t);
	/* Stops receiving; queued output is flushed when possible, then closed. */
	void (*shutdown)(struct smbd_transport *t);
	/* Pauses or resumes delivery of PDUs (back-pressure, async work). */
	void (*set_receiving)(struct smbd_transport *t, bool on);
	/* Moves the data of the frame being delivered into w->fd (above);
	 * false if no data waits (w->done() then never runs). done() never
	 * runs from within this call. NULL for a transport that never
	 * delivers a frame without its data. */
	bool (*take_tail)(struct smbd_transport *t, struct smbd_tail_write *w);
	/* Queues one PDU whose last len bytes wait in the pipe p
	 * (smbd/splice_pipe.h), after the iov pieces: the transport takes p
	 * (and frees it once they are sent, or on error) and splices them
	 * on without a copy; 0 or an errno, as send_pdu. more: other
	 * requests are in flight, more replies likely follow. NULL for a
	 * transport that cannot (the engine then reads into memory). */
	int (*send_spliced)(struct smbd_transport *t, const struct iovec *iov, int iovcnt, struct smbd_pipe *p,
			    size_t len, bool more);
};

struct smbd_transport {
	const struct smbd_transport_ops *ops;
	struct smbd_conn *conn;
	char peer[64];  /* "addr:port" for logs */
	char addr[64];  /* the peer's address alone, for per-address policy */
	char local[64];
	uint32_t max_pdu;
};

#endif
