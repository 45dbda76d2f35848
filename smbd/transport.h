/*
 * The transport face the SMB2 engine sees: TCP today, SMB Direct later.
 * A transport delivers whole SMB2 PDUs (framing already removed) to
 * smbd_conn_recv() and sends iovec lists that form one PDU. The engine never
 * includes libevent's bufferevent or rdma-core headers.
 */
#ifndef PORTHOS_SMBD_TRANSPORT_H
#define PORTHOS_SMBD_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct smbd_transport;

struct smbd_transport_ops {
	const char *name;
	/* Queues one PDU; returns 0 or an errno. The iov memory may be reused when it returns. */
	int (*send_pdu)(struct smbd_transport *t, const struct iovec *iov, int iovcnt);
	/* Bytes queued but not yet handed to the kernel (for back-pressure). */
	size_t (*pending_bytes)(const struct smbd_transport *t);
	/* Stops receiving; queued output is flushed when possible, then closed. */
	void (*shutdown)(struct smbd_transport *t);
	/* Pauses or resumes delivery of PDUs (back-pressure, async work). */
	void (*set_receiving)(struct smbd_transport *t, bool on);
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
