/*
 * SESSION_SETUP (MS-SMB2 2.2.5, 2.2.6, 3.3.5.5) and LOGOFF (3.3.5.6).
 */
#include "config.h"

#include <event2/event.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <talloc.h>

#include "conf/conf.h"
#include "lib/auth/auth.h"
#include "lib/crypto/random.h"
#include "lib/crypto/smb2_aead.h"
#include "lib/crypto/smb2_keys.h"
#include "lib/crypto/smb2_preauth.h"
#include "lib/log.h"
#include "smbd/conn.h"
#include "smbd/logon_backoff.h"
#include "smbd/loop.h"
#include "smbd/transport.h"
#include "smbd/dispatch.h"
#include "smbd/server.h"
#include "smbd/session.h"
#include "smbd/smb2_handlers.h"
#include "smbd/smb2_proto.h"

/* Windows allows a few per connection; SMB clients use one or two. */
#define SMBD_MAX_SESSIONS_PER_CONN 64

struct session_setup_in {
	uint8_t flags;
	uint8_t security_mode;
	uint32_t capabilities;
	const uint8_t *token;
	uint16_t token_len;
	uint64_t previous_session_id;
};

static NTSTATUS decode(struct smb2_call *call, struct session_setup_in *in)
{
	struct wire_rd *r = &call->in;
	wire_skip(r, 2);
	in->flags = wire_u8(r);
	in->security_mode = wire_u8(r);
	in->capabilities = wire_u32(r);
	wire_skip(r, 4); /* Channel */
	uint16_t off = wire_u16(r);
	in->token_len = wire_u16(r);
	in->previous_session_id = wire_u64(r);
	struct wire_rd tok;
	if (!wire_ok(r) || !wire_slice(&call->in, off, in->token_len, &tok))
		return NT_STATUS_INVALID_PARAMETER;
	in->token = wire_ptr(&tok, in->token_len);
	return NT_STATUS_OK;
}

static void encode(struct smb2_call *call, uint16_t session_flags, const uint8_t *token, size_t token_len)
{
	struct wire_wr *w = &call->out;
	wire_put_u16(w, 9);
	wire_put_u16(w, session_flags);
	wire_put_u16(w, token_len ? SMB2_HDR_LEN + 8 : 0);
	wire_put_u16(w, (uint16_t)token_len);
	wire_put_bytes(w, token, token_len);
}

/* The session is established: keys, signing policy, flags (3.3.5.5.3). */
static NTSTATUS finish(struct smb2_call *call, struct smbd_session *s, struct smbd_channel *ch,
		       const struct session_setup_in *in, uint16_t *session_flags)
{
	struct smbd_conn *conn = call->req->conn;
	const struct auth_info *info = auth_server_info(ch->auth);

	/* Re-authentication may change the user (even to anonymous): Windows
	 * accepts it and the session's opens stay (smbtorture reauth2-5). */
	talloc_free(s->user);
	talloc_free(s->domain);
	s->user = talloc_strdup(s, info->user);
	s->domain = talloc_strdup(s, info->domain);
	s->uid = info->uid;
	s->gid = info->gid;
	s->anonymous = info->anonymous;
	s->guest = info->guest;
	s->expires = info->expires;

	*session_flags = 0;
	if (s->anonymous)
		*session_flags |= SMB2_SESSION_FLAG_IS_NULL;
	else if (s->guest)
		*session_flags |= SMB2_SESSION_FLAG_IS_GUEST;

	/* An expired session re-authenticates too (MS-SMB2 3.3.5.5.3). */
	bool reauth = (s->state == SMBD_SESSION_VALID || s->state == SMBD_SESSION_EXPIRED) && s->has_keys;
	if (reauth) {
		/* MS-SMB2 3.3.5.5.3: re-authentication keeps the session's keys;
		 * the reply is signed with them. */
		call->sign_with_new_key = true;
	} else if (!s->anonymous && !s->guest && info->session_key_len > 0) {
		/* Session.SessionKey is the first 16 bytes of the key, zero
		 * padded; the AES-256 cipher keys come from all of it (NTLM: 16
		 * bytes, Kerberos: the subkey, 32 bytes with AES-256). */
		memset(s->session_key, 0, sizeof(s->session_key));
		memcpy(s->session_key, info->session_key,
		       info->session_key_len < 16 ? info->session_key_len : 16);
		if (conn->dialect >= SMB2_DIALECT_300) {
			enum smb2_cipher cipher = conn->cipher_id ? (enum smb2_cipher)conn->cipher_id
								  : SMB2_CIPHER_AES128_CCM;
			if (!smb2_derive_session_keys(conn->dialect, info->session_key, info->session_key_len,
						      ch->preauth_hash, cipher, &s->keys))
				return NT_STATUS_INTERNAL_ERROR;
			s->cipher = conn->cipher_id;
			crypto_random(s->nonce_prefix, sizeof(s->nonce_prefix));
			s->sign_algo = (enum smb2_sign_algo)conn->signing_algo_id;
		} else {
			memcpy(s->keys.signing, s->session_key, 16);
			s->sign_algo = SMB2_SIGN_HMAC_SHA256;
		}
		s->has_keys = true;
		s->signing_required = conn->srv->cfg->signing_required ||
				      (in->security_mode & SMB2_NEGOTIATE_SIGNING_REQUIRED);
		call->sign_with_new_key = true;
	} else {
		s->has_keys = false;
		s->signing_required = false;
	}
	if (!reauth) {
		/* The first channel signs with Session.SigningKey itself. */
		smbd_session_main_key(s, &ch->sign);
		ch->has_key = s->has_keys;
		ch->ready = true;
	}
	s->state = SMBD_SESSION_VALID;
	/* MS-SMB2 3.3.5.5.3: a client reconnecting names its previous session,
	 * which goes away if it belongs to the same user. */
	if (in->previous_session_id != 0 && in->previous_session_id != s->id && !s->anonymous) {
		struct smbd_session *prev = smbd_session_find(conn->srv, in->previous_session_id);
		if (prev != NULL && prev->user != NULL && strcasecmp(prev->user, s->user) == 0)
			smbd_session_destroy(prev);
	}
	LOG_INFO("%s: session %llx: user '%s'%s", conn->peer, (unsigned long long)s->id,
		 s->anonymous ? "(anonymous)" : s->user, s->guest ? " as guest" : "");
	smbd_conn_authenticated(conn);
	return NT_STATUS_OK;
}

/* The held reply of a failed logon (logon_backoff.h). */
struct held_failure {
	struct smb2_call *call;
	struct event *timer;
	NTSTATUS status;
};

static int held_failure_destructor(struct held_failure *h)
{
	event_free(h->timer);
	return 0;
}

static void held_failure_release(evutil_socket_t fd, short what, void *arg)
{
	struct held_failure *h = arg;
	struct smb2_call *call = h->call;
	NTSTATUS status = h->status;
	call->async_state = NULL;
	talloc_free(h);
	smbd_call_async_done(call, status);
}

static void held_failure_cancel(struct smb2_call *call)
{
	TALLOC_FREE(call->async_state);
	smbd_call_async_done(call, NT_STATUS_CANCELLED);
}

static NTSTATUS hold_failure(struct smb2_call *call, NTSTATUS status)
{
	struct smbd_conn *conn = call->req->conn;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* Only what a password guess yields counts; malformed tokens do not. */
	if (!NT_STATUS_EQUAL(status, NT_STATUS_LOGON_FAILURE) && !NT_STATUS_EQUAL(status, NT_STATUS_WRONG_PASSWORD) &&
	    !NT_STATUS_EQUAL(status, NT_STATUS_ACCOUNT_DISABLED))
		return status;
	uint32_t ms = smbd_backoff_failure(conn->srv->backoff, conn->transport->addr, now.tv_sec);
	if (ms == 0)
		return status;
	struct held_failure *h = talloc_zero(call->req, struct held_failure);
	if (h == NULL)
		return status;
	h->timer = evtimer_new(conn->loop->ev, held_failure_release, h);
	if (h->timer == NULL) {
		talloc_free(h);
		return status;
	}
	talloc_set_destructor(h, held_failure_destructor);
	h->call = call;
	h->status = status;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	evtimer_add(h->timer, &tv);
	call->async_state = h;
	LOG_WARN("%s: repeated logon failures: answering in %u ms", conn->peer, ms);
	/* Held quietly: no interim reply, the client just waits. */
	return smbd_call_hold(call, held_failure_cancel);
}

/*
 * One leg of an authentication on channel ch (a setup, a binding or a
 * re-authentication): the token through SPNEGO, and for 3.1.1 the
 * channel's pre-auth hash over the request, and over the reply while more
 * legs follow. MORE_PROCESSING_REQUIRED comes back with its reply encoded.
 */
static NTSTATUS auth_step(struct smb2_call *call, struct smbd_session *s, struct smbd_channel *ch,
			  const struct session_setup_in *in, uint8_t **token, size_t *token_len)
{
	struct smbd_conn *conn = call->req->conn;
	if (ch->auth == NULL) {
		ch->auth = auth_server_new(ch, &conn->srv->auth_cfg);
		if (ch->auth == NULL)
			return NT_STATUS_NO_MEMORY;
		memcpy(ch->preauth_hash, conn->preauth_hash, sizeof(ch->preauth_hash));
	}
	if (conn->dialect == SMB2_DIALECT_311) {
		struct iovec iov = { (void *)call->in_hdr, call->in_len };
		smb2_preauth_update(ch->preauth_hash, &iov, 1);
	}
	call->out_session_id = s->id;
	call->out_session_set = true;
	NTSTATUS status = auth_server_update(ch->auth, call->req, in->token, in->token_len, token, token_len);
	if (NT_STATUS_EQUAL(status, NT_STATUS_MORE_PROCESSING_REQUIRED)) {
		encode(call, 0, *token, *token_len);
		if (conn->dialect == SMB2_DIALECT_311)
			call->preauth_out = ch->preauth_hash;
	}
	return status;
}

/* The user a binding authenticated must be the session's (Windows compares SIDs). */
static bool same_user(const struct smbd_session *s, const struct auth_info *info)
{
	/* The session may have re-authenticated meanwhile, even as anonymous. */
	return !info->anonymous && !info->guest && !s->anonymous && !s->guest && info->uid == s->uid &&
	       info->user != NULL && s->user != NULL && strcasecmp(info->user, s->user) == 0;
}

/*
 * Checks of a first binding leg, in the order Windows makes them
 * (smbtorture smb2.session.bind_negative_*): the mixes of AES-GMAC with
 * another signing algorithm before the dialect. GMAC's nonce comes from
 * the message id, which each channel counts on its own.
 */
static NTSTATUS may_bind(const struct smbd_conn *conn, const struct smbd_session *s)
{
	if (!conn->srv->cfg->multi_channel)
		return NT_STATUS_REQUEST_NOT_ACCEPTED;
	bool conn_gmac = conn->signing_algo_id == SMB2_SIGN_AES_GMAC;
	bool session_gmac = s->sign_algo == SMB2_SIGN_AES_GMAC;
	if (conn_gmac && !session_gmac)
		return NT_STATUS_NOT_SUPPORTED;
	if (session_gmac && !conn_gmac)
		return NT_STATUS_REQUEST_OUT_OF_SEQUENCE;
	if (conn->dialect < SMB2_DIALECT_300)
		return NT_STATUS_REQUEST_NOT_ACCEPTED;
	if (conn->dialect != s->dialect || conn->cipher_id != s->cipher)
		return NT_STATUS_INVALID_PARAMETER;
	if (s->state == SMBD_SESSION_EXPIRED)
		return NT_STATUS_NETWORK_SESSION_EXPIRED;
	if (s->anonymous || s->guest || !s->has_keys)
		return NT_STATUS_NOT_SUPPORTED;
	if (conn->n_sessions >= SMBD_MAX_SESSIONS_PER_CONN)
		return NT_STATUS_INSUFF_SERVER_RESOURCES;
	return NT_STATUS_OK;
}

/* The binding authenticated: the channel's own signing key (3.3.5.5.3). */
static NTSTATUS bind_finish(struct smb2_call *call, struct smbd_session *s, struct smbd_channel *ch)
{
	struct smbd_conn *conn = call->req->conn;
	const struct auth_info *info = auth_server_info(ch->auth);
	if (!same_user(s, info)) {
		LOG_WARN("%s: binding to session %llx of '%s' refused: authenticated as '%s'", conn->peer,
			 (unsigned long long)s->id, s->user ? s->user : "(anonymous)",
			 info->anonymous || info->user == NULL ? "(anonymous)" : info->user);
		return NT_STATUS_ACCESS_DENIED;
	}
	/* From this authentication's key; 3.1.1 with the binding's own
	 * pre-auth hash, so every channel signs with a key of its own. */
	struct smb2_session_keys keys;
	bool ok = smb2_derive_session_keys(conn->dialect, info->session_key, info->session_key_len,
					   ch->preauth_hash, (enum smb2_cipher)s->cipher, &keys);
	memcpy(ch->sign.key, keys.signing, sizeof(ch->sign.key));
	explicit_bzero(&keys, sizeof(keys));
	if (!ok)
		return NT_STATUS_INTERNAL_ERROR;
	ch->sign.algo = (enum smb2_sign_algo)conn->signing_algo_id;
	ch->has_key = true;
	ch->ready = true;
	call->sign_with_new_key = true;
	LOG_INFO("%s: session %llx of '%s': channel bound (%u channels)", conn->peer, (unsigned long long)s->id,
		 s->user, s->n_channels);
	smbd_conn_authenticated(conn);
	return NT_STATUS_OK;
}

/*
 * MS-SMB2 3.3.5.5 with SMB2_SESSION_FLAG_BINDING: this connection joins a
 * session set up elsewhere, once the same user authenticates again on it.
 * A failed binding leaves the session as it was.
 */
static NTSTATUS bind_channel(struct smb2_call *call, const struct session_setup_in *in)
{
	struct smbd_conn *conn = call->req->conn;
	struct smbd_session *s = call->session;
	struct smbd_channel *ch = smbd_session_channel(s, conn->id);
	if (ch == NULL) {
		NTSTATUS status = may_bind(conn, s);
		if (!NT_STATUS_IS_OK(status))
			return status;
		ch = smbd_channel_add(s, conn);
		if (ch == NULL)
			return s->n_channels >= SMBD_MAX_CHANNELS ? NT_STATUS_INSUFFICIENT_RESOURCES
								  : NT_STATUS_NO_MEMORY;
	}
	uint8_t *token = NULL;
	size_t token_len = 0;
	NTSTATUS status = auth_step(call, s, ch, in, &token, &token_len);
	if (NT_STATUS_EQUAL(status, NT_STATUS_MORE_PROCESSING_REQUIRED))
		return status;
	if (NT_STATUS_IS_OK(status))
		status = bind_finish(call, s, ch);
	TALLOC_FREE(ch->auth);
	if (!NT_STATUS_IS_OK(status)) {
		LOG_WARN("%s: binding to session %llx failed: %s", conn->peer, (unsigned long long)s->id,
			 nt_errstr(status));
		smbd_channel_remove(ch);
		call->session = NULL;
		return hold_failure(call, status);
	}
	smbd_backoff_success(conn->srv->backoff, conn->transport->addr);
	encode(call, 0, token, token_len);
	return status;
}

NTSTATUS smb2_session_setup(struct smb2_call *call)
{
	struct smbd_conn *conn = call->req->conn;
	struct smbd_server *srv = conn->srv;
	struct session_setup_in in;
	NTSTATUS status = decode(call, &in);
	if (!NT_STATUS_IS_OK(status))
		return status;

	/* The dispatcher found the session bound elsewhere (dispatch.c). */
	if (call->binding)
		return bind_channel(call, &in);

	struct smbd_session *s = call->session;
	bool fresh = false;
	if (call->session_id == 0) {
		/* A bound on sessions per connection, so half-done setups
		 * cannot pile up (each holds an authentication context). */
		if (conn->n_sessions >= SMBD_MAX_SESSIONS_PER_CONN)
			return NT_STATUS_INSUFF_SERVER_RESOURCES;
		s = smbd_session_new(srv, conn);
		if (s == NULL)
			return NT_STATUS_INSUFFICIENT_RESOURCES;
		fresh = true;
		call->session = s;
	} else if (s == NULL) {
		return NT_STATUS_USER_SESSION_DELETED;
	} else if (in.flags & SMB2_SESSION_FLAG_BINDING) {
		/* MS-SMB2 3.3.5.5: this connection is a channel of it already
		 * (or multichannel is off and it never can be another's). */
		return NT_STATUS_REQUEST_NOT_ACCEPTED;
	}
	struct smbd_channel *ch = smbd_session_channel(s, conn->id);
	uint8_t *token = NULL;
	size_t token_len = 0;
	status = auth_step(call, s, ch, &in, &token, &token_len);
	if (NT_STATUS_EQUAL(status, NT_STATUS_MORE_PROCESSING_REQUIRED))
		return status;
	if (ch->auth == NULL) { /* no authentication context: nothing started */
		if (fresh)
			smbd_session_destroy(s);
		return status;
	}
	uint16_t session_flags = 0;
	if (NT_STATUS_IS_OK(status))
		status = finish(call, s, ch, &in, &session_flags);
	TALLOC_FREE(ch->auth);
	if (!NT_STATUS_IS_OK(status)) {
		LOG_WARN("%s: session setup failed: %s", conn->peer, nt_errstr(status));
		/* A failed re-authentication ends the session too, as on Windows
		 * (smbtorture smb2.session.reauth6). Earlier elements of this
		 * compound used it and their replies are still to be signed or
		 * encrypted with it: it goes with the request, as on LOGOFF. */
		smbd_session_logoff_after_reply(call, s);
		call->session = NULL;
		return hold_failure(call, status);
	}
	smbd_backoff_success(srv->backoff, conn->transport->addr);
	encode(call, session_flags, token, token_len);
	return status;
}

NTSTATUS smb2_logoff(struct smb2_call *call)
{
	struct smbd_session *s = call->session;
	/* The reply is signed with the session's key, so it must outlive the
	 * handler: hand its destruction to the request. */
	LOG_INFO("session %llx: logoff", (unsigned long long)s->id);
	wire_put_u16(&call->out, 4);
	wire_put_u16(&call->out, 0);
	smbd_session_logoff_after_reply(call, s);
	return NT_STATUS_OK;
}
