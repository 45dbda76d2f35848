#include "config.h"
#include "smbd/session.h"

#include <string.h>
#include <talloc.h>

#include "lib/idtable.h"
#include "lib/log.h"
#include "smbd/conn.h"
#include "smbd/control.h"
#include "smbd/dispatch.h"
#include "smbd/server.h"
#include "smbd/smb2_proto.h"
#include "smbd/tcon.h"

void smbd_session_requests_forget(struct smbd_session *s, const struct smbd_tcon *t)
{
	for (struct smbd_channel *ch = s->channels; ch != NULL; ch = ch->next)
		smbd_requests_forget(s->srv, ch->conn_id, t == NULL ? s : NULL, t);
}

static int channel_destructor(struct smbd_channel *ch)
{
	struct smbd_session *s = ch->session;
	struct smbd_conn *conn = idtable_find(s->srv->conns, ch->conn_id);
	if (conn != NULL)
		conn->n_sessions--;
	for (struct smbd_channel **pp = &s->channels; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == ch) {
			*pp = ch->next;
			s->n_channels--;
			break;
		}
	}
	explicit_bzero(&ch->sign, sizeof(ch->sign));
	return 0;
}

/* Takes the control lock itself (as the writer): a logged-off session goes with the
 * request its reply was signed for, wherever that is freed. */
static int session_destructor(struct smbd_session *s)
{
	smbd_control_enter();
	smbd_session_requests_forget(s, NULL);
	while (s->channels != NULL)
		talloc_free(s->channels);
	if (idtable_find(s->srv->sessions, s->id) == s)
		idtable_remove(s->srv->sessions, s->id);
	smbd_control_leave();
	/* Keys are secrets: do not leave them in freed memory. */
	explicit_bzero(s->session_key, sizeof(s->session_key));
	explicit_bzero(&s->keys, sizeof(s->keys));
	return 0;
}

struct smbd_channel *smbd_session_channel(const struct smbd_session *s, uint64_t conn_id)
{
	SMBD_SHARED_HELD();
	for (struct smbd_channel *ch = s->channels; ch != NULL; ch = ch->next)
		if (ch->conn_id == conn_id)
			return ch;
	return NULL;
}

struct smbd_channel *smbd_channel_add(struct smbd_session *s, struct smbd_conn *conn)
{
	SMBD_CONTROL_HELD();
	if (s->n_channels >= SMBD_MAX_CHANNELS)
		return NULL;
	struct smbd_channel *ch = talloc_zero(s, struct smbd_channel);
	if (ch == NULL)
		return NULL;
	ch->session = s;
	ch->conn_id = conn->id;
	memcpy(ch->preauth_hash, conn->preauth_hash, sizeof(ch->preauth_hash));
	/* Last in the list, so the first channel stays first. */
	struct smbd_channel **pp = &s->channels;
	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = ch;
	s->n_channels++;
	conn->n_sessions++;
	talloc_set_destructor(ch, channel_destructor);
	return ch;
}

void smbd_channel_remove(struct smbd_channel *ch)
{
	smbd_requests_forget(ch->session->srv, ch->conn_id, ch->session, NULL);
	talloc_free(ch);
}

struct smbd_session *smbd_session_new(struct smbd_server *srv, struct smbd_conn *conn)
{
	SMBD_CONTROL_HELD();
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
	talloc_set_destructor(s, session_destructor);
	s->id = idtable_add(srv->sessions, s);
	if (s->id == 0 || smbd_channel_add(s, conn) == NULL) {
		talloc_free(s);
		return NULL;
	}
	return s;
}

struct smbd_session *smbd_session_find(struct smbd_server *srv, uint64_t id)
{
	SMBD_SHARED_HELD();
	return idtable_find(srv->sessions, id);
}

/* A session's end, whatever ends it (a dropped connection, a LOGOFF, a
 * reconnect naming it as PreviousSessionId), leaves durable opens. */
static void destroy_tcon_cb(uint64_t id, void *obj, void *arg)
{
	smbd_tcon_destroy(obj, true);
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
	/* Kept for the reply's signature; freed with the request, wherever
	 * that is freed (its destructor takes the control lock). */
	talloc_steal(call->req, s);
}

/* MS-SMB2 3.3.7.1: the session lives on while another channel does. */
bool smbd_session_outlives_conn(const struct smbd_session *s, uint64_t conn_id)
{
	if (s->state == SMBD_SESSION_IN_PROGRESS)
		return false;
	for (const struct smbd_channel *ch = s->channels; ch != NULL; ch = ch->next)
		if (ch->ready && ch->conn_id != conn_id)
			return true;
	return false;
}

static void drop_cb(uint64_t id, void *obj, void *arg)
{
	struct smbd_session *s = obj;
	const uint64_t *conn_id = arg;
	struct smbd_channel *ch = smbd_session_channel(s, *conn_id);
	if (ch == NULL)
		return;
	bool lives = smbd_session_outlives_conn(s, *conn_id);
	smbd_channel_remove(ch);
	if (!lives) {
		smbd_session_destroy(s);
		return;
	}
	struct smbd_channel *left = s->channels;
	while (!left->ready)
		left = left->next;
	if (s->conn_id == *conn_id)
		s->conn_id = left->conn_id;
	LOG_INFO("session %llx: a channel closed, %u left", (unsigned long long)s->id, s->n_channels);
}

void smbd_sessions_drop_conn(struct smbd_server *srv, uint64_t conn_id)
{
	SMBD_CONTROL_HELD();
	idtable_foreach(srv->sessions, drop_cb, &conn_id);
}

struct smbd_conn *smbd_session_notify_conn(const struct smbd_session *s)
{
	struct smbd_conn *moving = NULL, *alive = NULL;
	for (const struct smbd_channel *ch = s->channels; ch != NULL; ch = ch->next) {
		struct smbd_conn *conn = ch->ready ? idtable_find(s->srv->conns, ch->conn_id) : NULL;
		if (conn == NULL || conn->terminating)
			continue;
		alive = conn;
		if (!smbd_conn_stalled(conn))
			moving = conn;
	}
	if (moving != NULL)
		return moving;
	return alive != NULL ? alive : idtable_find(s->srv->conns, s->conn_id);
}

void smbd_session_main_key(const struct smbd_session *s, struct smbd_sign_key *out)
{
	out->algo = s->sign_algo;
	memcpy(out->key, s->keys.signing, sizeof(out->key));
}

const struct smbd_channel *smbd_sign_channel(struct smbd_server *srv, uint64_t conn_id, const uint8_t *hdr)
{
	if (!(le32(hdr + SMB2_HDR_FLAGS) & SMB2_FLAGS_SIGNED) || le32(hdr + SMB2_HDR_NEXT_COMMAND) != 0)
		return NULL;
	struct smbd_session *s = smbd_session_find(srv, le64(hdr + SMB2_HDR_SESSION_ID));
	const struct smbd_channel *ch = s != NULL ? smbd_session_channel(s, conn_id) : NULL;
	return ch != NULL && ch->ready && ch->has_key ? ch : NULL;
}

bool smbd_sign_key_sign(const struct smbd_sign_key *k, struct iovec *iov, int iovcnt)
{
	uint8_t *hdr = iov[0].iov_base;
	uint8_t sig[16];
	memset(hdr + SMB2_HDR_SIGNATURE, 0, 16);
	if (!smb2_sign_iov(k->algo, k->key, iov, iovcnt, sig))
		return false;
	memcpy(hdr + SMB2_HDR_SIGNATURE, sig, 16);
	return true;
}

bool smbd_sign_key_verify(const struct smbd_sign_key *k, const uint8_t *msg, size_t len)
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
	return smb2_sign_verify_iov(k->algo, k->key, iov, 3, msg + SMB2_HDR_SIGNATURE);
}
