/*
 * Requests. A struct smbd_req is one received PDU (possibly a compound
 * chain); each element of the chain is a struct smb2_call with its decoded
 * header, its input and its reply. Everything a request allocates hangs
 * off it and dies with it once its replies are sent.
 */
#ifndef PORTHOS_SMBD_REQ_H
#define PORTHOS_SMBD_REQ_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/uio.h>

#include "lib/ntstatus.h"
#include "lib/wire.h"

struct smbd_conn;
struct smbd_session;
struct smbd_tcon;
struct smbd_open;
struct smbd_req;
struct smbd_sign_key;
struct smbd_pipe;

struct smb2_call {
	struct smbd_req *req;

	/* The element: header + body, for header-relative offsets. */
	struct wire_rd in;       /* positioned at the body */
	const uint8_t *in_hdr;   /* SMB2_HDR_LEN bytes */
	size_t in_len;

	/* Decoded header (MS-SMB2 2.2.1.2) */
	uint16_t command;
	uint16_t credit_charge;
	uint16_t credit_request;
	uint32_t flags;
	uint64_t message_id;
	uint64_t async_id;
	uint32_t tree_id;
	uint64_t session_id;
	uint16_t channel_sequence; /* 3.x: the Status field's first half (smbd/channel_sequence.h) */
	bool signed_in;          /* arrived signed and verified */
	/* Counted in its open's channel sequence counts until the request is freed. */
	bool csn_counted;
	uint64_t csn_fid_persistent, csn_fid_volatile;
	/* A binding SESSION_SETUP for a session not (yet) bound to this
	 * connection, verified with Session.SigningKey: its replies are
	 * signed with that key too (MS-SMB2 3.3.5.2.4, 3.2.5.1.3). A copy,
	 * as the session may end before the reply leaves. */
	struct smbd_sign_key *setup_key;
	bool binding;
	/* A SESSION_SETUP refused for its signature, or a signed request for
	 * a session that is gone: the reply carries the signed flag but no
	 * signature, which a client does not check for these statuses but
	 * requires (MS-SMB2 3.2.5.1.3 as Samba's client reads it). */
	bool flag_signed;
	/* Parked for oplock or lease breaks at least once (smbd_oplock_wait):
	 * a lease still breaking then holds it back (smbd_lease_check). */
	bool waited_for_breaks;
	/* A CREATE that completes for its session after its connection went
	 * (smbd_replay_pending_outlive): the session keeps it. */
	bool outlives_conn;

	/* Resolved by the dispatcher according to the command's policy. */
	struct smbd_session *session;
	struct smbd_tcon *tcon;

	/* The reply: a body written by the handler (after the 64-byte header),
	 * plus optional bulk data sent by reference (READ). Offsets in bodies
	 * are relative to the header start: use smb2_call_out_offset(). */
	NTSTATUS status;
	struct wire_wr out;
	const void *out_data;
	size_t out_data_len;
	void *out_data_owner;    /* the talloc chunk holding out_data, if the
				  * reply may hand it to the transport */
	struct smbd_pipe *out_pipe; /* or out_data_len bytes in this pipe, for
				     * the transport to splice (READ) */
	uint64_t out_session_id; /* overrides the echoed session id (SESSION_SETUP) */
	bool out_session_set;
	uint32_t out_tree_id;    /* TREE_CONNECT's new tree id */
	bool out_tree_set;
	bool sign_with_new_key;  /* the final SESSION_SETUP reply (MS-SMB2 3.3.5.5.3) */
	bool no_reply;           /* e.g. CANCEL, or a reply sent later (async) */
	uint8_t *preauth_out;    /* 3.1.1: a pre-auth hash to extend with the reply */
	bool disconnect;         /* the framework drops the connection after this */

	/* Async: see smbd_call_go_async() */
	void (*cancel_fn)(struct smb2_call *call);
	void *async_state;
	bool interim_sent;
	bool quiet;              /* waiting without an interim reply */
	bool io_wait;            /* waiting on the I/O pool: smbd_call_wait_io() */
	bool quiet_io;           /* ... which is what made it quiet */
	bool async_done;
};

/* Header-relative offset of the next byte the handler will write. */
static inline uint32_t smb2_call_out_offset(const struct smb2_call *call)
{
	return (uint32_t)(64 + call->out.len);
}

struct smbd_req {
	struct smbd_req *prev, *next; /* conn->requests */
	struct smbd_conn *conn;
	uint8_t *pdu;
	size_t len;
	struct smb2_call *calls;
	size_t n_calls;

	/* Carried along a chain of related operations (MS-SMB2 3.3.5.2.7.2). */
	uint64_t related_session_id;
	uint32_t related_tree_id;
	uint64_t related_fid_persistent;
	uint64_t related_fid_volatile;
	NTSTATUS related_status;
	bool related_to_nothing;    /* the first element was flagged related */

	bool encrypted;             /* arrived in a transform header */
	uint64_t enc_session_id;    /* ... of this session */
	uint64_t verified_session;  /* a single signed element whose signature a worker checked with this session's channel key */
	size_t tail_len;            /* a lone WRITE's data, still in the transport (transport.h) */

	size_t next_call;           /* first element not run yet */
	size_t reply_from;          /* first element whose reply is not sent */
	struct smb2_call *pending;  /* the element waiting on async work */
};

/* A command handler: decode call->in, do the work, encode into call->out. */
typedef NTSTATUS (*smb2_handler_fn)(struct smb2_call *call);

#endif
