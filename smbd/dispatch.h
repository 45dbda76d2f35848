/*
 * The request path: PDU -> compound elements -> checks -> handler -> reply.
 */
#ifndef PORTHOS_SMBD_DISPATCH_H
#define PORTHOS_SMBD_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "lib/ntstatus.h"
#include "smbd/req.h"

struct smbd_conn;


/*
 * Async work (blocking on another client, a lease break, a lock): the
 * handler records what it waits for and returns
 *     return smbd_call_go_async(call, my_cancel);
 * The framework sends the interim STATUS_PENDING reply and routes CANCEL
 * (and teardown of the session or tree) to my_cancel, which must finish
 * the call. Finishing, from any event callback, is
 *     smbd_call_async_done(call, status);   (call->out written if OK)
 * after which the call and its request may be gone.
 */
NTSTATUS smbd_call_go_async(struct smb2_call *call, void (*cancel_fn)(struct smb2_call *call));
/* As smbd_call_go_async, without the interim reply: for short waits the
 * client should not see as asynchronous (a held logon failure). */
NTSTATUS smbd_call_hold(struct smb2_call *call, void (*cancel_fn)(struct smb2_call *call));
/*
 * Waiting on the I/O pool (smbd/iopool.h): no interim reply (the work is
 * short), not counted against "max async requests" (credits bound it), and
 * not cancellable: CANCEL leaves it be, and if its session or tree goes
 * away first it finishes without a reply (call->session and call->tcon
 * are then NULL). The job's done() finishes it with smbd_call_async_done().
 */
NTSTATUS smbd_call_wait_io(struct smb2_call *call);
/*
 * A call whose I/O job is done but whose handler goes on (a CREATE
 * between its file-system steps): smbd_call_waits_again() before the
 * handler's next step, which may wait on the pool again or for something
 * else (smbd_call_go_async(): an oplock break); smbd_call_still_waiting()
 * after it, if the step returned NT_STATUS_PENDING, sends the interim
 * reply a wait of the second kind deserves.
 */
void smbd_call_waits_again(struct smb2_call *call);
void smbd_call_still_waiting(struct smb2_call *call);
/* Whether an operation that only ever waits (CHANGE_NOTIFY) may go async here. */
bool smbd_call_async_allowed(const struct smb2_call *call);
void smbd_call_async_done(struct smb2_call *call, NTSTATUS status);
/* Cancels (synchronously finishes) every pending call of a session or tree
 * about to go away, so none outlives what it points to. */
struct smbd_server;
struct smbd_session;
struct smbd_tcon;
void smbd_cancel_pending(struct smbd_server *srv, const struct smbd_session *s, const struct smbd_tcon *t);
/* Clears what the requests of a connection still point to of a session or
 * tree being freed: a compound may end them (TREE_DISCONNECT, LOGOFF, a
 * failed re-authentication) after its earlier elements used them, and the
 * replies of those are built later. Called by their destructors. */
void smbd_requests_forget(struct smbd_server *srv, uint64_t conn_id, const struct smbd_session *s,
			  const struct smbd_tcon *t);

/* Processes one received PDU; takes ownership of pdu. tail_len: the
 * bytes of a WRITE's data still in the transport (smbd/transport.h). */
void smbd_dispatch_pdu(struct smbd_conn *conn, uint8_t *pdu, size_t len, size_t tail_len);

/*
 * For a handler run again after a wait: false, with the call answered,
 * when its session or tree went while it waited (a session freed outright
 * forgets its calls rather than cancelling them); else true, its request
 * body read again from the start and its reply body begun afresh.
 */
bool smbd_call_resume(struct smb2_call *call);

/*
 * Resolves a FileId from a request: the related-operation placeholder
 * (all ones) means the file of the previous CREATE in the chain.
 */
NTSTATUS smbd_call_open(struct smb2_call *call, uint64_t fid_persistent, uint64_t fid_volatile,
			struct smbd_open **out);
/* Reads a FileId at the cursor and resolves it; INVALID_PARAMETER if the
 * body (up to and including the FileId) was short. */
NTSTATUS smbd_call_open_from(struct smb2_call *call, struct wire_rd *r, struct smbd_open **out);
/* Records the file a related chain continues with (CREATE does this). */
void smbd_call_set_related_open(struct smb2_call *call, uint64_t fid_persistent, uint64_t fid_volatile);
/* MS-SMB2 3.3.5.2.5: a multi-credit request must be charged for its payload. */
NTSTATUS smbd_call_check_charge(const struct smb2_call *call, uint64_t payload_bytes);

#endif
