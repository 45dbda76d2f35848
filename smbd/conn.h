/*
 * A connection: one transport channel. It owns its in-flight requests but
 * not the sessions that use it (a session may span several channels and
 * outlives a dropped one while durable handles wait), see DESIGN.md.
 */
#ifndef PORTHOS_SMBD_CONN_H
#define PORTHOS_SMBD_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <talloc.h>

#include "smbd/credits.h"

struct event;
struct smbd_server;
struct smbd_transport;
struct smbd_pipe;
struct smbd_req;
struct smbd_arrival_check;

struct smbd_conn {
	struct smbd_server *srv;
	struct smbd_loop *loop; /* runs this connection's events; its ring and pools (loop.h) */
	struct smbd_transport *transport;
	uint64_t id;
	const char *peer; /* transport's "addr:port" */

	/* Negotiated state (MS-SMB2 3.3.1.7) */
	bool negotiated;
	uint16_t dialect;
	uint16_t client_security_mode;
	uint32_t client_capabilities;
	uint32_t server_capabilities;
	uint8_t client_guid[16];
	uint16_t client_dialects[16]; /* as offered, for VALIDATE_NEGOTIATE_INFO */
	uint16_t n_client_dialects;
	uint16_t cipher_id;       /* 0 = none agreed */
	uint16_t signing_algo_id; /* SMB2 signing algorithm for 3.x */
	uint8_t preauth_hash[64]; /* 3.1.1 connection pre-auth integrity hash */
	uint32_t max_transact, max_read, max_write;

	struct smbd_credits credits;
	unsigned n_sessions;      /* sessions established or being set up here */

	struct smbd_req *requests; /* in flight, for CANCEL and teardown */
	unsigned n_io;             /* transfers on the I/O pool: the conn outlives them */
	unsigned n_opening;        /* of those, large messages being decrypted or verified (dispatch.c) */
	unsigned n_sealing;        /* ... and replies being encrypted */
	struct smbd_arrival_check *arrival_check; /* a sealed or signed frame checked as it arrives */
	uint64_t next_async_id;
	unsigned n_async;         /* calls waiting asynchronously, at most "max async requests" */

	uint64_t pdus_in, bytes_in, bytes_out; /* for the log line at its end */

	struct event *idle_timer;
	struct event *terminate_ev;
	bool authenticated_once;  /* a session reached VALID on this conn */
	bool terminating;
};

/* A connection on loop, whose thread runs the transport t's events. */
struct smbd_conn *smbd_conn_new(struct smbd_loop *loop, struct smbd_transport *t);
/* Buffer for an incoming PDU, owned by the request built from it. */
uint8_t *smbd_conn_alloc_pdu(struct smbd_conn *conn, size_t len);
/* A whole PDU arrived (framing removed). Takes ownership of pdu. */
void smbd_conn_recv(struct smbd_conn *conn, uint8_t *pdu, size_t len);
/*
 * The first got of len bytes of a large frame are in, at pdu, which stays
 * put until smbd_conn_recv() delivers it: the engine may begin on them.
 * False when it does not: the transport need not offer the rest in pieces.
 */
bool smbd_conn_recv_partial(struct smbd_conn *conn, uint8_t *pdu, size_t got, size_t len);
/* A WRITE whose last tail_len bytes (its data) are still in the transport
 * (smbd/transport.h): pdu holds the rest. */
void smbd_conn_recv_tail(struct smbd_conn *conn, uint8_t *pdu, size_t len, size_t tail_len);
/*
 * Stops the connection and frees it on the next loop turn, never inside the
 * caller's stack (the caller may be a transport callback of this conn).
 */
void smbd_conn_terminate(struct smbd_conn *conn, const char *why);
/* Whether what it sent goes unacknowledged: its path to the client looks
 * dead for now (struct smbd_transport_ops.stalled). */
bool smbd_conn_stalled(const struct smbd_conn *conn);
/* Sends one PDU; on failure the connection is terminated. */
void smbd_conn_send(struct smbd_conn *conn, const struct iovec *iov, int iovcnt);
/* The same, handing over owner: a talloc context holding the memory of
 * large iov entries, which may then be sent by reference (transport.h). */
void smbd_conn_send_owned(struct smbd_conn *conn, const struct iovec *iov, int iovcnt, void *owner);
/* The same, with the PDU's last len bytes in the pipe p, which it takes;
 * more: other requests are in flight on the connection (transport.h). */
void smbd_conn_send_spliced(struct smbd_conn *conn, const struct iovec *iov, int iovcnt, struct smbd_pipe *p,
			    size_t len, bool more);
/*
 * Work of the connection on an I/O worker: while any is out, a dropped
 * connection is not freed; the last one to end frees it.
 */
void smbd_conn_io_begin(struct smbd_conn *conn);
void smbd_conn_io_end(struct smbd_conn *conn);
/* The client reached an authenticated session: swap the auth time-out for the idle one. */
void smbd_conn_authenticated(struct smbd_conn *conn);
/*
 * Seconds a transport waits for the rest of a frame once it has begun to
 * arrive and stops (0: no limit); see conn.c for why it is what it is.
 */
uint32_t smbd_conn_frame_timeout(const struct smbd_server *srv);

#endif
