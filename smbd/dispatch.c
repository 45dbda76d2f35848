/*
 * The request path (MS-SMB2 3.3.5.2): frame checks, compound splitting,
 * credits, session and tree resolution, signature checks and the command
 * table. Replies are assembled and sent by smbd/reply.c.
 */
#include "config.h"
#include "smbd/dispatch.h"

#include <string.h>
#include <talloc.h>
#include <time.h>

#include "conf/conf.h"
#include "lib/idtable.h"
#include "lib/log.h"
#include "lib/log_ratelimit.h"
#include "lib/wire.h"
#include "smbd/arrival_check.h"
#include "smbd/conn.h"
#include "smbd/control.h"
#include "smbd/create_guid.h"
#include "smbd/identity.h"
#include "smbd/iopool.h"
#include "smbd/loop.h"
#include "smbd/open.h"
#include "smbd/reply.h"
#include "smbd/server.h"
#include "smbd/session.h"
#include "smbd/smb2_handlers.h"
#include "smbd/smb2_proto.h"
#include "smbd/tcon.h"
#include "smbd/channel_sequence.h"
#include "smbd/transform.h"

/* What the framework checks before a handler runs. */
struct smb2_cmd_desc {
	const char *name;
	uint16_t structure_size; /* fixed part; odd sizes include one byte of buffer */
	bool need_session;       /* a VALID session */
	bool need_tcon;
	/* Works with names on the file system: runs as the session's user
	 * (smbd/identity.h); the rest act on handles already checked.
	 * SET_INFO switches itself, for rename and link only. */
	bool as_user;
	smb2_handler_fn fn;
};

static const struct smb2_cmd_desc smb2_cmds[SMB2_COMMAND_COUNT] = {
	[SMB2_NEGOTIATE] = { "NEGOTIATE", 36, false, false, false, smb2_negotiate },
	[SMB2_SESSION_SETUP] = { "SESSION_SETUP", 25, false, false, false, smb2_session_setup },
	[SMB2_LOGOFF] = { "LOGOFF", 4, true, false, false, smb2_logoff },
	[SMB2_TREE_CONNECT] = { "TREE_CONNECT", 9, true, false, false, smb2_tree_connect },
	[SMB2_TREE_DISCONNECT] = { "TREE_DISCONNECT", 4, true, true, false, smb2_tree_disconnect },
	[SMB2_CREATE] = { "CREATE", 57, true, true, true, smb2_create },
	[SMB2_CLOSE] = { "CLOSE", 24, true, true, true, smb2_close },
	[SMB2_FLUSH] = { "FLUSH", 24, true, true, false, smb2_flush },
	[SMB2_READ] = { "READ", 49, true, true, false, smb2_read },
	[SMB2_WRITE] = { "WRITE", 49, true, true, false, smb2_write },
	[SMB2_LOCK] = { "LOCK", 48, true, true, false, smb2_lock },
	[SMB2_IOCTL] = { "IOCTL", 57, true, true, false, smb2_ioctl },
	[SMB2_CANCEL] = { "CANCEL", 4, false, false, false, NULL },
	[SMB2_ECHO] = { "ECHO", 4, false, false, false, smb2_echo },
	[SMB2_QUERY_DIRECTORY] = { "QUERY_DIRECTORY", 33, true, true, true, smb2_query_directory },
	[SMB2_CHANGE_NOTIFY] = { "CHANGE_NOTIFY", 32, true, true, false, smb2_change_notify },
	[SMB2_QUERY_INFO] = { "QUERY_INFO", 41, true, true, false, smb2_query_info },
	[SMB2_SET_INFO] = { "SET_INFO", 33, true, true, false, smb2_set_info },
	[SMB2_OPLOCK_BREAK] = { "OPLOCK_BREAK", 24, true, true, false, smb2_oplock_break },
};

static void async_uncount(struct smb2_call *call);

static int req_destructor(struct smbd_req *req)
{
	struct smbd_conn *conn = req->conn;
	smbd_channel_sequence_settle(req);
	/* Freed while a call still waits (the connection is going). */
	if (req->pending != NULL)
		async_uncount(req->pending);
	if (req->prev)
		req->prev->next = req->next;
	else if (conn->requests == req)
		conn->requests = req->next;
	if (req->next)
		req->next->prev = req->prev;
	return 0;
}

bool smbd_call_resume(struct smb2_call *call)
{
	if (call->session == NULL || call->tcon == NULL) {
		NTSTATUS status = call->session == NULL ? NT_STATUS_USER_SESSION_DELETED : NT_STATUS_NETWORK_NAME_DELETED;
		if (call->command == SMB2_CREATE)
			call->req->related_status = status;
		smbd_call_async_done(call, status);
		return false;
	}
	wire_rd_init(&call->in, call->in_hdr, call->in_len);
	wire_seek(&call->in, SMB2_HDR_LEN);
	wire_wr_init(&call->out, call->req, 128);
	return true;
}

NTSTATUS smbd_call_open(struct smb2_call *call, uint64_t fid_persistent, uint64_t fid_volatile,
			struct smbd_open **out)
{
	struct smbd_req *req = call->req;
	if ((call->flags & SMB2_FLAGS_RELATED_OPERATIONS) && fid_persistent == SMB2_FID_INHERIT &&
	    fid_volatile == SMB2_FID_INHERIT) {
		/* MS-SMB2 3.3.5.2.7.2: a failed CREATE earlier in the chain
		 * fails the rest with its status. */
		if (!NT_STATUS_IS_OK(req->related_status))
			return req->related_status;
		fid_persistent = req->related_fid_persistent;
		fid_volatile = req->related_fid_volatile;
	}
	/* MS-SMB2 3.3.5.2.7.2: the next related element uses the FileId this
	 * one used, whatever the command (smbtorture
	 * compound_async.flush_close: FLUSH, then a related CLOSE). */
	req->related_fid_persistent = fid_persistent;
	req->related_fid_volatile = fid_volatile;
	struct smbd_open *o = smbd_open_find(req->conn->srv, fid_persistent, fid_volatile, call->session_id,
					     call->tree_id);
	if (o == NULL)
		return NT_STATUS_FILE_CLOSED;
	NTSTATUS status = smbd_channel_sequence_check(call, o);
	if (!NT_STATUS_IS_OK(status))
		return status;
	/* Once the client has used the open, a replay of its CREATE is a new CREATE. */
	smbd_create_guid_used(o);
	*out = o;
	return NT_STATUS_OK;
}

NTSTATUS smbd_call_open_from(struct smb2_call *call, struct wire_rd *r, struct smbd_open **out)
{
	uint64_t fid_persistent = wire_u64(r);
	uint64_t fid_volatile = wire_u64(r);
	if (!wire_ok(r))
		return NT_STATUS_INVALID_PARAMETER;
	return smbd_call_open(call, fid_persistent, fid_volatile, out);
}

void smbd_call_set_related_open(struct smb2_call *call, uint64_t fid_persistent, uint64_t fid_volatile)
{
	call->req->related_fid_persistent = fid_persistent;
	call->req->related_fid_volatile = fid_volatile;
	call->req->related_status = NT_STATUS_OK;
}

NTSTATUS smbd_call_check_charge(const struct smb2_call *call, uint64_t payload_bytes)
{
	struct smbd_conn *conn = call->req->conn;
	/* SMB 2.0.2 has no multi-credit requests: CreditCharge is reserved. */
	if (conn->dialect == SMB2_DIALECT_202 || !(conn->server_capabilities & SMB2_GLOBAL_CAP_LARGE_MTU))
		return payload_bytes <= 65536 ? NT_STATUS_OK : NT_STATUS_INVALID_PARAMETER;
	uint64_t needed = payload_bytes ? (payload_bytes - 1) / 65536 + 1 : 1;
	uint16_t charge = call->credit_charge ? call->credit_charge : 1;
	return charge >= needed ? NT_STATUS_OK : NT_STATUS_INVALID_PARAMETER;
}

/* Header fields; false if the element cannot even be read as a header. */
static bool decode_header(struct smb2_call *call, const uint8_t *elem, size_t len)
{
	struct wire_rd r;
	wire_rd_init(&r, elem, len);
	uint32_t proto = wire_u32(&r);
	uint16_t ssize = wire_u16(&r);
	call->credit_charge = wire_u16(&r);
	call->channel_sequence = wire_u16(&r); /* requests: ChannelSequence, Reserved */
	wire_skip(&r, 2);
	call->command = wire_u16(&r);
	call->credit_request = wire_u16(&r);
	call->flags = wire_u32(&r);
	wire_skip(&r, 4); /* NextCommand, checked by the caller */
	call->message_id = wire_u64(&r);
	if (call->flags & SMB2_FLAGS_ASYNC_COMMAND) {
		call->async_id = wire_u64(&r);
	} else {
		wire_skip(&r, 4);
		call->tree_id = wire_u32(&r);
	}
	call->session_id = wire_u64(&r);
	wire_skip(&r, 16);
	if (!wire_ok(&r) || proto != 0x424D53FE || ssize != SMB2_HDR_LEN)
		return false;
	call->in_hdr = elem;
	call->in_len = len;
	wire_rd_init(&call->in, elem, len);
	wire_seek(&call->in, SMB2_HDR_LEN);
	return true;
}

static int setup_key_destructor(struct smbd_sign_key *k)
{
	explicit_bzero(k, sizeof(*k));
	return 0;
}

static bool asks_to_bind(const struct smb2_call *call)
{
	if (call->command != SMB2_SESSION_SETUP)
		return false;
	struct wire_rd peek = call->in;
	wire_skip(&peek, 2);
	return (wire_u8(&peek) & SMB2_SESSION_FLAG_BINDING) && wire_ok(&peek);
}

/*
 * A binding SESSION_SETUP (MS-SMB2 3.3.5.5) for an established session
 * that has no ready channel on this connection. Only Session.SigningKey can
 * vouch for it (3.3.5.2.4), and its replies are signed with that key too:
 * the client checks all but the last with it. Nothing else is answered
 * with that key on another connection: with AES-GMAC, whose nonce is the
 * message id, that would sign two messages with one nonce.
 */
static NTSTATUS resolve_binding(struct smb2_call *call, struct smbd_session *s)
{
	struct smbd_req *req = call->req;
	if (!(call->flags & SMB2_FLAGS_SIGNED) || req->encrypted)
		return NT_STATUS_INVALID_PARAMETER;
	if (!s->has_keys) /* anonymous or guest: never bound (3.3.5.5) */
		return NT_STATUS_NOT_SUPPORTED;
	struct smbd_sign_key *k = talloc(req, struct smbd_sign_key);
	if (k == NULL)
		return NT_STATUS_NO_MEMORY;
	talloc_set_destructor(k, setup_key_destructor);
	smbd_session_main_key(s, k);
	if (!smbd_sign_key_verify(k, call->in_hdr, call->in_len)) {
		LOG_INFO("%s: bad signature on a binding to session %llx", req->conn->peer,
			 (unsigned long long)s->id);
		talloc_free(k);
		call->flag_signed = true;
		return NT_STATUS_ACCESS_DENIED;
	}
	call->setup_key = k;
	call->signed_in = true;
	call->session = s;
	call->binding = true;
	return NT_STATUS_OK;
}

/* The session a command runs under, and the signature checks. */
static NTSTATUS resolve_session(struct smb2_call *call, const struct smb2_cmd_desc *d)
{
	struct smbd_req *req = call->req;
	struct smbd_conn *conn = req->conn;

	if ((call->flags & SMB2_FLAGS_RELATED_OPERATIONS) && call->session_id == UINT64_MAX) {
		/* Nothing earlier in the chain had a session to inherit
		 * (smbtorture compound.invalid2). */
		if (req->related_session_id == 0)
			return NT_STATUS_INVALID_PARAMETER;
		call->session_id = req->related_session_id;
	}
	if (call->session_id == 0 || call->session_id == UINT64_MAX) {
		if (d->need_session)
			return NT_STATUS_USER_SESSION_DELETED;
		return NT_STATUS_OK;
	}
	struct smbd_session *s = smbd_session_find(conn->srv, call->session_id);
	struct smbd_channel *ch = s != NULL ? smbd_session_channel(s, conn->id) : NULL;
	/* A session is usable here once this connection is one of its ready
	 * channels, or while its first setup runs here. */
	bool here = ch != NULL && (ch->ready || s->state == SMBD_SESSION_IN_PROGRESS);
	if (!here && s != NULL && s->state != SMBD_SESSION_IN_PROGRESS && asks_to_bind(call))
		return resolve_binding(call, s);
	if (!here) {
		if (d->need_session || call->command == SMB2_SESSION_SETUP)
			return s == NULL && call->command == SMB2_SESSION_SETUP ? NT_STATUS_OK
									       : NT_STATUS_USER_SESSION_DELETED;
		return NT_STATUS_OK;
	}
	call->session = s;
	req->related_session_id = call->session_id;

	if (req->encrypted) {
		/* Encryption authenticates the message; no signature is checked. */
	} else if (call->flags & SMB2_FLAGS_SIGNED) {
		if (!ch->has_key)
			return NT_STATUS_OK; /* nothing to verify with yet */
		bool checked = req->verified_session == s->id && req->n_calls == 1; /* on a worker */
		if (!checked && !smbd_sign_key_verify(&ch->sign, call->in_hdr, call->in_len)) {
			LOG_INFO("%s: bad signature on %s (session %llx)", conn->peer, d->name,
				 (unsigned long long)s->id);
			call->flag_signed = call->command == SMB2_SESSION_SETUP;
			return NT_STATUS_ACCESS_DENIED;
		}
		call->signed_in = true;
	} else if (s->state == SMBD_SESSION_VALID && s->signing_required && call->command != SMB2_NEGOTIATE &&
		   call->command != SMB2_CANCEL) {
		/* MS-SMB2 3.3.5.2.4; a re-authentication too, as on Windows
		 * (smbtorture smb2.session.bind_negative_smb3signCtoHs). */
		call->flag_signed = call->command == SMB2_SESSION_SETUP;
		return NT_STATUS_ACCESS_DENIED;
	}

	/* MS-SMB2 3.3.5.2.9 */
	if (s->encrypt_data && !req->encrypted && call->command != SMB2_SESSION_SETUP &&
	    call->command != SMB2_NEGOTIATE)
		return NT_STATUS_ACCESS_DENIED;
	/* MS-SMB2 3.3.5.2.9: past its Kerberos ticket's end the session
	 * answers NETWORK_SESSION_EXPIRED until it re-authenticates. */
	if (s->state == SMBD_SESSION_VALID && s->expires != 0 && time(NULL) >= s->expires) {
		LOG_INFO("%s: session %llx of '%s' expired with its ticket", conn->peer, (unsigned long long)s->id,
			 s->user);
		s->state = SMBD_SESSION_EXPIRED;
	}
	if (d->need_session) {
		/* LOCK goes on to its handler, which lets only unlocks through
		 * (smb2_lock.c). */
		if (s->state == SMBD_SESSION_EXPIRED && call->command != SMB2_LOGOFF && call->command != SMB2_CLOSE &&
		    call->command != SMB2_LOCK)
			return NT_STATUS_NETWORK_SESSION_EXPIRED;
		if (s->state == SMBD_SESSION_IN_PROGRESS)
			return NT_STATUS_USER_SESSION_DELETED;
	}
	return NT_STATUS_OK;
}

static NTSTATUS resolve_tcon(struct smb2_call *call)
{
	struct smbd_req *req = call->req;
	if ((call->flags & SMB2_FLAGS_RELATED_OPERATIONS) && call->tree_id == UINT32_MAX)
		call->tree_id = req->related_tree_id;
	struct smbd_tcon *t = call->session ? smbd_tcon_find(call->session, call->tree_id) : NULL;
	if (t == NULL)
		return NT_STATUS_NETWORK_NAME_DELETED;
	/* MS-SMB2 3.3.5.2.11: a tree that requires encryption refuses plain requests. */
	if (t->encrypt && !req->encrypted)
		return NT_STATUS_ACCESS_DENIED;
	call->tcon = t;
	req->related_tree_id = call->tree_id;
	return NT_STATUS_OK;
}

/* The call's session and tree, then its handler, as the user it acts for. */
static void resolve_and_run(struct smb2_call *call, const struct smb2_cmd_desc *d)
{
	call->status = resolve_session(call, d);
	/* A client that signed wants the flag back even where the session,
	 * and so the key, is gone (Samba's client; Windows does so). */
	if (NT_STATUS_EQUAL(call->status, NT_STATUS_USER_SESSION_DELETED) && (call->flags & SMB2_FLAGS_SIGNED))
		call->flag_signed = true;
	if (NT_STATUS_IS_OK(call->status) && d->need_tcon)
		call->status = resolve_tcon(call);
	if (!NT_STATUS_IS_OK(call->status))
		return;
	wire_wr_init(&call->out, call->req, 128);
	if (d->as_user && !smbd_become(smbd_session_identity(call->session))) {
		call->status = NT_STATUS_ACCESS_DENIED;
		return;
	}
	call->status = d->fn(call);
	smbd_become_root();
}

static void run_call(struct smb2_call *call, bool first)
{
	struct smbd_req *req = call->req;
	struct smbd_conn *conn = req->conn;
	const struct smb2_cmd_desc *d = call->command < SMB2_COMMAND_COUNT ? &smb2_cmds[call->command] : NULL;

	call->status = NT_STATUS_OK;
	/* Before NEGOTIATE only NEGOTIATE is allowed; a second NEGOTIATE is
	 * a protocol violation (MS-SMB2 3.3.5.3.1). */
	if (!conn->negotiated != (call->command == SMB2_NEGOTIATE)) {
		call->disconnect = true;
		return;
	}
	if (d == NULL || d->fn == NULL) {
		/* MS-SMB2 3.3.5.2.6 would end the connection; Windows answers
		 * INVALID_PARAMETER instead (smbtorture compound.invalid4). */
		call->status = NT_STATUS_INVALID_PARAMETER;
		return;
	}
	if (call->command == SMB2_NEGOTIATE && !(first && req->n_calls == 1)) {
		call->disconnect = true;
		return;
	}
	if (call->command == SMB2_NEGOTIATE && (call->flags & SMB2_FLAGS_SIGNED)) {
		call->status = NT_STATUS_INVALID_PARAMETER; /* MS-SMB2 3.3.5.2.4 */
		return;
	}
	struct wire_rd peek = call->in;
	uint16_t ssize = wire_u16(&peek);
	uint16_t want = d->structure_size;
	if (call->command == SMB2_OPLOCK_BREAK && smb2_oplock_break_is_lease_ack(call))
		want = 36;
	if (!wire_ok(&peek) || ssize != want || wire_remaining(&call->in) < (size_t)(want & ~1u)) {
		call->status = NT_STATUS_INVALID_PARAMETER;
		return;
	}
	/* From the session's lookup on: a control command as the writer, the
	 * common path in a shared section (smbd/control.h). */
	bool control = smbd_command_is_control(call->command);
	if (control)
		smbd_control_enter();
	else
		smbd_shared_enter();
	resolve_and_run(call, d);
	if (control)
		smbd_control_leave();
	else
		smbd_shared_leave();
	if (call->command == SMB2_CREATE && !NT_STATUS_IS_OK(call->status))
		req->related_status = call->status;
	LOG_DBG("%s mid=%llu%s -> %s", d->name, (unsigned long long)call->message_id,
		req->encrypted ? " (encrypted)" : "", nt_errstr(call->status));
}

/* Runs the elements from req->next_call on; stops at one that goes async. */
static void process_calls(struct smbd_req *req)
{
	struct smbd_conn *conn = req->conn;
	for (; req->next_call < req->n_calls; req->next_call++) {
		if (conn->terminating) {
			talloc_free(req);
			return;
		}
		size_t i = req->next_call;
		struct smb2_call *call = &req->calls[i];
		if (call->no_reply)
			continue;
		if (i > 0 && !(call->flags & SMB2_FLAGS_RELATED_OPERATIONS)) {
			/* Unrelated elements start a fresh chain state. */
			req->related_status = NT_STATUS_OK;
			req->related_fid_persistent = req->related_fid_volatile = UINT64_MAX;
			req->related_session_id = 0;
			req->related_tree_id = 0;
		}
		if (i == 0 && (call->flags & SMB2_FLAGS_RELATED_OPERATIONS) && req->n_calls > 1)
			req->related_to_nothing = true;
		if (req->related_to_nothing && (call->flags & SMB2_FLAGS_RELATED_OPERATIONS)) {
			/* MS-SMB2 3.3.5.2.7.2: a chain whose first element claims to
			 * be related has nothing to relate to: all of it fails. */
			call->status = NT_STATUS_INVALID_PARAMETER;
			continue;
		}
		run_call(call, i == 0);
		if (call->disconnect) {
			talloc_free(req);
			smbd_conn_terminate(conn, "protocol violation");
			return;
		}
		if (NT_STATUS_EQUAL(call->status, NT_STATUS_PENDING)) {
			/* Replies so far, with the interim one for this element
			 * unless it is held quietly. */
			call->async_id = conn->next_async_id++;
			size_t upto = call->quiet ? i : i + 1;
			smbd_send_replies(req, req->reply_from, upto, false);
			req->reply_from = upto;
			req->pending = call;
			req->next_call = i + 1;
			return;
		}
	}
	if (!smbd_send_replies(req, req->reply_from, req->n_calls, true))
		talloc_free(req);
}

NTSTATUS smbd_call_hold(struct smb2_call *call, void (*cancel_fn)(struct smb2_call *call))
{
	call->quiet = true;
	return smbd_call_go_async(call, cancel_fn);
}

bool smbd_call_async_allowed(const struct smb2_call *call)
{
	/* Windows fails an async operation in the middle of a related chain
	 * with STATUS_INTERNAL_ERROR (MS-SMB2 <159>, smbtorture
	 * compound.interim2); only the last element may wait. */
	const struct smbd_req *req = call->req;
	size_t idx = (size_t)(call - req->calls);
	return !(call->flags & SMB2_FLAGS_RELATED_OPERATIONS) || idx + 1 == req->n_calls;
}

/*
 * "max async requests": a connection may have that many calls waiting at
 * once. Past it, MS-SMB2 3.3.4.2 lets the server fail an operation that
 * would go async with STATUS_INSUFFICIENT_RESOURCES, and so it fails at
 * once; what the handler set up to wait (call->async_state, a talloc
 * object whose destructor unlinks it) is freed first, so nothing can
 * wake the call later. A held logon failure (smbd_call_hold) counts too,
 * but answering it early would undo the logon back-off: past the limit
 * the connection is dropped instead (a client with that many failed
 * logons in flight is not a real one). A call that waits again (a
 * CREATE retried after an oplock break) is already counted: a set
 * cancel_fn (never NULL here) is what marks a call as counted.
 */
NTSTATUS smbd_call_go_async(struct smb2_call *call, void (*cancel_fn)(struct smb2_call *call))
{
	struct smbd_conn *conn = call->req->conn;
	if (call->cancel_fn == NULL) {
		if (conn->n_async >= conn->srv->cfg->max_async_requests) {
			/* Logged once a minute at most: a client decides how often. */
			static struct plog_ratelimit refusals = PLOG_RATELIMIT_INIT(60);
			unsigned long unlogged;
			TALLOC_FREE(call->async_state);
			if (plog_ratelimit_ok(&refusals, &unlogged))
				LOG_INFO("%s: %u requests wait already (max async requests): %s refused "
					 "(and %lu more since the last such line)", conn->peer, conn->n_async,
					 smb2_cmds[call->command].name, unlogged);
			if (call->quiet) {
				call->quiet = false;
				call->disconnect = true;
			}
			return NT_STATUS_INSUFFICIENT_RESOURCES;
		}
		conn->n_async++;
	}
	call->cancel_fn = cancel_fn;
	return NT_STATUS_PENDING;
}

/* The call no longer waits: it leaves the connection's async count. */
static void async_uncount(struct smb2_call *call)
{
	if (call->cancel_fn != NULL) {
		call->req->conn->n_async--;
		call->cancel_fn = NULL;
	}
}

NTSTATUS smbd_call_wait_io(struct smb2_call *call)
{
	if (!call->quiet) {
		call->quiet = true;
		call->quiet_io = true;
	}
	call->io_wait = true;
	return NT_STATUS_PENDING;
}

void smbd_call_waits_again(struct smb2_call *call)
{
	call->io_wait = false;
	if (call->quiet_io) {
		call->quiet_io = false;
		call->quiet = false;
	}
}

void smbd_call_still_waiting(struct smb2_call *call)
{
	struct smbd_req *req = call->req;
	if (call->io_wait || call->quiet || call->interim_sent || call->no_reply)
		return;
	/* Quiet so far: the interim reply the wait now deserves (MS-SMB2 3.3.4.2). */
	size_t idx = (size_t)(call - req->calls);
	smbd_send_replies(req, idx, idx + 1, false);
	req->reply_from = idx + 1;
}

void smbd_call_async_done(struct smb2_call *call, NTSTATUS status)
{
	call->io_wait = false;
	struct smbd_req *req = call->req;
	call->status = status;
	call->async_done = true;
	async_uncount(call);
	req->pending = NULL;
	LOG_DBG("async %s mid=%llu -> %s", smb2_cmds[call->command].name, (unsigned long long)call->message_id,
		nt_errstr(status));
	if (call->interim_sent) {
		/* The final reply of an async element goes alone (MS-SMB2 3.3.4.2). */
		size_t idx = (size_t)(call - req->calls);
		smbd_send_replies(req, idx, idx + 1, false);
	} else {
		/* Finished before any interim reply went out: an ordinary reply. */
		req->reply_from = (size_t)(call - req->calls);
	}
	process_calls(req);
}

/* MS-SMB2 3.3.5.16: finds the request a CANCEL names and cancels it. */
static void cancel_request(struct smbd_conn *conn, const struct smb2_call *cancel)
{
	for (struct smbd_req *r = conn->requests; r != NULL; r = r->next) {
		struct smb2_call *p = r->pending;
		/* Work on the I/O pool cannot be pulled back: it finishes and
		 * is answered (a CREATE run again after a wait is one). */
		if (p == NULL || p->cancel_fn == NULL || p->io_wait)
			continue;
		bool match = (cancel->flags & SMB2_FLAGS_ASYNC_COMMAND) ? p->async_id == cancel->async_id
									: p->message_id == cancel->message_id;
		if (match) {
			smbd_control_enter(); /* what it waits on is shared (a park, a lock, a notify) */
			p->cancel_fn(p);
			smbd_control_leave();
			return;
		}
	}
}

struct cancel_arg {
	const struct smbd_session *session;
	const struct smbd_tcon *tcon;
};

static void cancel_conn_cb(uint64_t id, void *obj, void *arg)
{
	struct smbd_conn *conn = obj;
	const struct cancel_arg *a = arg;
	/* A cancel finishes the request and may free it: rescan after each. */
	bool again = true;
	while (again) {
		again = false;
		for (struct smbd_req *r = conn->requests; r != NULL; r = r->next) {
			struct smb2_call *p = r->pending;
			if (p == NULL)
				continue;
			bool hit = (a->session && p->session == a->session) || (a->tcon && p->tcon == a->tcon);
			if (hit && p->io_wait) {
				/* I/O cannot be stopped; it finishes unanswered, its
				 * session and tree no longer in reach. */
				p->session = NULL;
				p->tcon = NULL;
				p->no_reply = true;
				continue;
			}
			if (p->cancel_fn == NULL)
				continue;
			if (hit) {
				p->cancel_fn(p);
				again = true;
				break;
			}
		}
	}
}

void smbd_cancel_pending(struct smbd_server *srv, const struct smbd_session *s, const struct smbd_tcon *t)
{
	struct cancel_arg a = { s, t };
	idtable_foreach(srv->conns, cancel_conn_cb, &a);
}

void smbd_requests_forget(struct smbd_server *srv, uint64_t conn_id, const struct smbd_session *s,
			  const struct smbd_tcon *t)
{
	struct smbd_conn *conn = idtable_find(srv->conns, conn_id);
	if (conn == NULL)
		return;
	for (struct smbd_req *r = conn->requests; r != NULL; r = r->next) {
		for (size_t i = 0; i < r->n_calls; i++) {
			struct smb2_call *c = &r->calls[i];
			if (c->outlives_conn)
				continue;
			if (s != NULL && c->session == s)
				c->session = NULL;
			if (c->tcon != NULL && (c->tcon == t || (s != NULL && c->tcon->session == s)))
				c->tcon = NULL;
		}
	}
}

/* How a message came: what the request records of it (struct smbd_req). */
struct msg_origin {
	bool encrypted;
	uint64_t enc_session_id;
	uint64_t verified_session;
	size_t tail_len;
};

/* The message proper (the PDU, or what its transform header wrapped): its requests. */
static void dispatch_message(struct smbd_conn *conn, uint8_t *pdu, size_t len, uint8_t *msg, size_t msg_len,
			     const struct msg_origin *origin)
{
	if (msg_len < SMB2_HDR_LEN || msg[0] != 0xFE || memcmp(msg + 1, "SMB", 3) != 0) {
		talloc_free(pdu);
		smbd_conn_terminate(conn, "not an SMB2 PDU");
		return;
	}

	struct smbd_req *req = talloc_zero(conn, struct smbd_req);
	if (req == NULL) {
		talloc_free(pdu);
		smbd_conn_terminate(conn, "out of memory");
		return;
	}
	req->conn = conn;
	req->pdu = talloc_steal(req, pdu);
	req->len = len;
	req->related_status = NT_STATUS_OK;
	req->related_fid_persistent = req->related_fid_volatile = UINT64_MAX;
	req->encrypted = origin->encrypted;
	req->enc_session_id = origin->enc_session_id;
	req->verified_session = origin->verified_session;
	req->tail_len = origin->tail_len;
	req->next = conn->requests;
	if (conn->requests)
		conn->requests->prev = req;
	conn->requests = req;
	talloc_set_destructor(req, req_destructor);

	/* Split the chain first, so a malformed chain is refused whole. */
	size_t off = 0, count = 0, cap = 4;
	req->calls = talloc_zero_array(req, struct smb2_call, cap);
	for (;;) {
		if (req->calls == NULL)
			goto drop;
		if (msg_len - off < SMB2_HDR_LEN)
			goto drop;
		uint32_t next = le32(msg + off + SMB2_HDR_NEXT_COMMAND);
		size_t elem_len = next ? next : msg_len - off;
		if ((next && (next % 8 != 0 || next < SMB2_HDR_LEN || next > msg_len - off)) || elem_len < SMB2_HDR_LEN)
			goto drop;
		if (count == cap) {
			cap *= 2;
			req->calls = talloc_realloc(req, req->calls, struct smb2_call, cap);
			if (req->calls == NULL)
				goto drop;
			memset(&req->calls[count], 0, (cap - count) * sizeof(struct smb2_call));
		}
		struct smb2_call *call = &req->calls[count];
		call->req = req;
		if (!decode_header(call, msg + off, elem_len))
			goto drop;
		/* Every element of an encrypted message belongs to its session
		 * (MS-SMB2 3.3.5.2.1.1). */
		if (req->encrypted && call->session_id != req->enc_session_id &&
		    !((call->flags & SMB2_FLAGS_RELATED_OPERATIONS) && call->session_id == UINT64_MAX))
			goto drop;
		count++;
		/* A data tail belongs to a lone WRITE (transport.h). */
		if (req->tail_len != 0 && (next != 0 || call->command != SMB2_WRITE))
			goto drop;
		if (next == 0)
			break;
		off += next;
	}
	req->n_calls = count;

	/* MS-SMB2 3.3.5.2.3: message ids outside the window end the connection.
	 * CANCEL carries the id of the request it cancels and costs nothing. */
	for (size_t i = 0; i < count; i++) {
		struct smb2_call *call = &req->calls[i];
		if (call->command == SMB2_CANCEL) {
			call->no_reply = true;
			continue;
		}
		if (!smbd_credits_consume(&conn->credits, call->message_id,
					  conn->dialect > SMB2_DIALECT_202 ? call->credit_charge : 1)) {
			LOG_INFO("%s: message id %llu outside the credit window", conn->peer,
				 (unsigned long long)call->message_id);
			goto drop;
		}
	}
	for (size_t i = 0; i < count; i++)
		if (req->calls[i].command == SMB2_CANCEL)
			cancel_request(conn, &req->calls[i]);
	process_calls(req);
	return;
drop:
	talloc_free(req);
	smbd_conn_terminate(conn, "malformed request");
}

/* A large transform PDU opened on an I/O worker comes back here. */
static void dispatch_opened(struct smbd_conn *conn, uint8_t *pdu, size_t len, NTSTATUS status, uint64_t session_id)
{
	conn->n_opening--;
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(pdu);
		smbd_conn_terminate(conn, "cannot decrypt");
		return;
	}
	smbd_shared_enter();
	dispatch_message(conn, pdu, len, pdu + SMB2_TRANSFORM_HDR_LEN, len - SMB2_TRANSFORM_HDR_LEN,
			 &(struct msg_origin){ .encrypted = true, .enc_session_id = session_id });
	smbd_shared_leave();
}

/* A large signed request whose signature is checked on an I/O worker. */
struct verify_job {
	struct smbd_iojob base; /* first: the pool hands this back */
	struct smbd_conn *conn;
	uint8_t *pdu;
	size_t len;
	struct smbd_sign_key key;
	uint64_t session_id;
	bool ok;
};

static void verify_work(struct smbd_iojob *base)
{
	struct verify_job *job = (struct verify_job *)base;
	job->ok = smbd_sign_key_verify(&job->key, job->pdu, job->len);
}

/* A large signed request checked off the loop goes on: a bad signature
 * is refused by the usual check, which finds it again. */
static void dispatch_verified(struct smbd_conn *conn, uint8_t *pdu, size_t len, NTSTATUS status,
			      uint64_t session_id)
{
	conn->n_opening--;
	uint64_t verified = NT_STATUS_IS_OK(status) ? session_id : 0;
	if (conn->terminating) {
		talloc_free(pdu);
		return;
	}
	smbd_shared_enter();
	dispatch_message(conn, pdu, len, pdu, len, &(struct msg_origin){ .verified_session = verified });
	smbd_shared_leave();
}

static void verify_done(struct smbd_iojob *base)
{
	struct verify_job *job = (struct verify_job *)base;
	struct smbd_conn *conn = job->conn;
	uint8_t *pdu = job->pdu;
	size_t len = job->len;
	NTSTATUS status = job->ok ? NT_STATUS_OK : NT_STATUS_ACCESS_DENIED;
	uint64_t session_id = job->session_id;
	explicit_bzero(&job->key, sizeof(job->key));
	talloc_free(job);
	smbd_crypto_offload_account(conn, len, false);
	dispatch_verified(conn, pdu, len, status, session_id);
	smbd_conn_io_end(conn);
}

/*
 * A large request that is one signed element (a WRITE) has its signature
 * checked on a worker before it is dispatched: true if it went. Compounds
 * and anything not on a ready channel of its session go the usual way.
 */
static bool verify_on_worker(struct smbd_conn *conn, uint8_t *pdu, size_t len)
{
	if (len < SMB2_HDR_LEN || !smbd_crypto_offload_wanted(conn, len) || pdu[0] != 0xFE ||
	    memcmp(pdu + 1, "SMB", 3) != 0)
		return false;
	const struct smbd_channel *ch = smbd_sign_channel(conn->srv, conn->id, pdu);
	if (ch == NULL)
		return false;
	struct verify_job *job = talloc_zero(conn, struct verify_job);
	if (job == NULL)
		return false;
	job->base.work = verify_work;
	job->base.done = verify_done;
	job->conn = conn;
	job->pdu = pdu;
	job->len = len;
	job->key = ch->sign;
	job->session_id = ch->session->id;
	smbd_crypto_offload_account(conn, len, true);
	smbd_conn_io_begin(conn);
	smbd_iopool_submit(conn->loop->iopool, &job->base);
	return true;
}

static void dispatch_pdu(struct smbd_conn *conn, uint8_t *pdu, size_t len, size_t tail_len)
{
	if (tail_len != 0) {
		/* A plain WRITE (transport.h): nothing to open or verify. */
		dispatch_message(conn, pdu, len, pdu, len, &(struct msg_origin){ .tail_len = tail_len });
		return;
	}
	if (len >= 4 && pdu[0] == 0xFF && memcmp(pdu + 1, "SMB", 3) == 0) {
		smb1_negotiate(conn, pdu, len);
		talloc_free(pdu);
		return;
	}
	bool sealed = len >= 4 && pdu[0] == 0xFD && memcmp(pdu + 1, "SMB", 3) == 0;
	/* Counted first: the message may be checked, and dispatched, at once. */
	conn->n_opening++;
	if (smbd_arrival_check_finish(conn, pdu, len, sealed ? dispatch_opened : dispatch_verified))
		return;
	conn->n_opening--;
	if (conn->n_opening < SMBD_MAX_OPENING) {
		/* Large ones go to a worker; anything it would not take (a
		 * header it refuses included) is handled inline below. */
		bool went = sealed ? NT_STATUS_EQUAL(smbd_transform_decrypt_offload(conn, pdu, len, dispatch_opened),
						     NT_STATUS_PENDING)
				   : verify_on_worker(conn, pdu, len);
		if (went) {
			conn->n_opening++;
			return;
		}
	}
	if (!sealed) {
		dispatch_message(conn, pdu, len, pdu, len, &(struct msg_origin){ 0 });
		return;
	}
	uint8_t *msg;
	size_t msg_len;
	uint64_t enc_session_id;
	NTSTATUS st = smbd_transform_decrypt(conn, pdu, len, &msg, &msg_len, &enc_session_id);
	if (!NT_STATUS_IS_OK(st)) {
		/* MS-SMB2 3.3.5.2.1.1: an undecryptable message ends the connection. */
		talloc_free(pdu);
		smbd_conn_terminate(conn, "cannot decrypt");
		return;
	}
	dispatch_message(conn, pdu, len, msg, msg_len,
			 &(struct msg_origin){ .encrypted = true, .enc_session_id = enc_session_id });
}

void smbd_dispatch_pdu(struct smbd_conn *conn, uint8_t *pdu, size_t len, size_t tail_len)
{
	/* Keys are found through the session and its channels; a control
	 * command's element turns writer in run_call. */
	smbd_shared_enter();
	dispatch_pdu(conn, pdu, len, tail_len);
	smbd_shared_leave();
}
