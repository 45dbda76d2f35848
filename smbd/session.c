#include "config.h"
#include "smbd/session.h"

#include <string.h>
#include <talloc.h>

#include "lib/idtable.h"
#include "lib/log.h"
#include "smbd/conn.h"
#include "smbd/dispatch.h"
#include "smbd/server.h"
#include "smbd/smb2_proto.h"
#include "smbd/tcon.h"

static int session_destructor(struct smbd_session *s)
{
	struct smbd_conn *conn = idtable_find(s->srv->conns, s->conn_id);
	if (conn != NULL)
		conn->n_sessions--;
	smbd_requests_forget(s->srv, s->conn_id, s, NULL);
	if (idtable_find(s->srv->sessions, s->id) == s)
		idtable_remove(s->srv->sessions, s->id);
	/* Keys are secrets: do not leave them in freed memory. */
	memset(s->session_key, 0, sizeof(s->session_key));
	memset(&s->keys, 0, sizeof(s->keys));
	return 0;
}

struct smbd_session *smbd_session_new(struct smbd_server *srv, struct smbd_conn *conn)
{
	struct smbd_session *s = talloc_zero(srv, struct smbd_session);
	if (s == NULL)
		return NULL;
	s->srv = srv;
	s->conn_id = conn->id;
	s->dialect = conn->dialect;
	s->state = SMBD_SESSION_IN_PROGRESS;
	s->tcons = idtable_new(s, UINT32_MAX - 1);
	if (s->tcons == NULL) {
		talloc_free(s);
		return NULL;
	}
	s->id = idtable_add(srv->sessions, s);
	if (s->id == 0) {
		talloc_free(s);
		return NULL;
	}
	conn->n_sessions++;
	talloc_set_destructor(s, session_destructor);
	return s;
}

struct smbd_session *smbd_session_find(struct smbd_server *srv, uint64_t id)
{
	return idtable_find(srv->sessions, id);
}

static void destroy_tcon_cb(uint64_t id, void *obj, void *arg)
{
	smbd_tcon_destroy(obj);
}

void smbd_session_destroy(struct smbd_session *s)
{
	/* Trees first, so that their opens see a live session while closing;
	 * then whatever still waits on the session is cancelled. */
	idtable_foreach(s->tcons, destroy_tcon_cb, NULL);
	smbd_cancel_pending(s->srv, s, NULL);
	talloc_free(s);
}

void smbd_session_logoff_after_reply(struct smb2_call *call, struct smbd_session *s)
{
	idtable_foreach(s->tcons, destroy_tcon_cb, NULL);
	smbd_cancel_pending(s->srv, s, NULL);
	idtable_remove(s->srv->sessions, s->id);
	s->state = SMBD_SESSION_EXPIRED;
	talloc_steal(call->req, s);
}

struct drop_arg {
	uint64_t conn_id;
};

static void drop_cb(uint64_t id, void *obj, void *arg)
{
	struct smbd_session *s = obj;
	const struct drop_arg *a = arg;
	if (s->conn_id == a->conn_id)
		smbd_session_destroy(s);
}

void smbd_sessions_drop_conn(struct smbd_server *srv, uint64_t conn_id)
{
	struct drop_arg a = { conn_id };
	idtable_foreach(srv->sessions, drop_cb, &a);
}

bool smbd_session_sign(const struct smbd_session *s, struct iovec *iov, int iovcnt)
{
	uint8_t *hdr = iov[0].iov_base;
	uint8_t sig[16];
	memset(hdr + SMB2_HDR_SIGNATURE, 0, 16);
	if (!smb2_sign_iov(s->sign_algo, s->keys.signing, iov, iovcnt, sig))
		return false;
	memcpy(hdr + SMB2_HDR_SIGNATURE, sig, 16);
	return true;
}

bool smbd_session_verify(const struct smbd_session *s, const uint8_t *msg, size_t len)
{
	static const uint8_t zeros[16];
	if (len < SMB2_HDR_LEN)
		return false;
	/* Verify over the message with its signature field read as zeros. */
	struct iovec iov[3] = {
		{ (void *)msg, SMB2_HDR_SIGNATURE },
		{ (void *)zeros, 16 },
		{ (void *)(msg + SMB2_HDR_LEN), len - SMB2_HDR_LEN },
	};
	return smb2_sign_verify_iov(s->sign_algo, s->keys.signing, iov, 3, msg + SMB2_HDR_SIGNATURE);
}
