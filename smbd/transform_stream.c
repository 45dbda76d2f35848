#include "config.h"
#include "smbd/transform_stream.h"

#include <string.h>
#include <talloc.h>

#include "lib/crypto/smb2_aead.h"
#include "lib/log.h"
#include "smbd/conn.h"
#include "smbd/iopool.h"
#include "smbd/server.h"
#include "smbd/session.h"
#include "smbd/smb2_proto.h"

/*
 * A step hands a worker at least this much newly arrived ciphertext (the
 * last one, whatever is left): fewer hand-offs, and still most of a 1 MiB
 * message opened before its end arrives.
 */
#define STREAM_STEP_MIN (128u * 1024)
/* The AAD and nonce are the header from its Nonce on (MS-SMB2 3.1.4.3). */
#define TRANSFORM_NONCE_OFFSET 20
#define TRANSFORM_SIGNATURE_OFFSET 4

struct smbd_transform_stream {
	struct smbd_iojob job; /* first: one step on a worker at a time */
	struct smbd_conn *conn;
	uint8_t *pdu;
	size_t len;
	size_t got;      /* bytes of the frame received */
	size_t opened;   /* the frame decrypted up to here */
	size_t step_end; /* the step on a worker decrypts up to here, */
	bool step_final; /* ... and then checks the tag */
	bool busy;
	bool whole; /* delivered: pdu is ours */
	bool ok;    /* every step so far went through */
	uint64_t session_id;
	struct smb2_aead_opener *aead;
	smbd_transform_opened_fn opened_fn;
};

static int stream_destructor(struct smbd_transform_stream *s)
{
	smb2_aead_open_abandon(s->aead);
	smbd_crypto_offload_account(s->conn, s->len, false);
	if (s->conn->opening_stream == s)
		s->conn->opening_stream = NULL;
	return 0;
}

static void step_work(struct smbd_iojob *job)
{
	struct smbd_transform_stream *s = (struct smbd_transform_stream *)job;
	if (s->ok)
		s->ok = smb2_aead_open_update(s->aead, s->pdu + s->opened, s->step_end - s->opened);
	if (s->step_final) {
		s->ok = s->ok && smb2_aead_open_end(s->aead, s->pdu + TRANSFORM_SIGNATURE_OFFSET);
		s->aead = NULL;
		if (!s->ok) /* never leave unauthenticated plaintext behind */
			explicit_bzero(s->pdu + SMB2_TRANSFORM_HDR_LEN, s->len - SMB2_TRANSFORM_HDR_LEN);
	}
}

/* The last step is over: the message goes on, opened or refused. */
static void stream_done(struct smbd_transform_stream *s)
{
	struct smbd_conn *conn = s->conn;
	uint8_t *pdu = talloc_steal(conn, s->pdu);
	size_t len = s->len;
	NTSTATUS status = s->ok ? NT_STATUS_OK : NT_STATUS_ACCESS_DENIED;
	uint64_t sid = s->session_id;
	smbd_transform_opened_fn opened = s->opened_fn;
	talloc_free(s);
	opened(conn, pdu, len, status, sid);
}

static void step_done(struct smbd_iojob *job);

/* Hands what arrived to a worker, if it is worth a step; finishes a whole message. */
static void stream_step(struct smbd_transform_stream *s)
{
	if (s->busy)
		return;
	size_t avail = s->whole ? s->len : s->got;
	if (!s->whole && avail - s->opened < STREAM_STEP_MIN)
		return;
	s->step_end = avail;
	s->step_final = s->whole;
	if (s->step_final && s->step_end == s->opened) {
		/* Nothing left to decrypt: the tag is a moment's work. */
		step_work(&s->job);
		stream_done(s);
		return;
	}
	s->busy = true;
	smbd_conn_io_begin(s->conn);
	smbd_iopool_submit(s->conn->srv->iopool, &s->job);
}

static void step_done(struct smbd_iojob *job)
{
	struct smbd_transform_stream *s = (struct smbd_transform_stream *)job;
	struct smbd_conn *conn = s->conn;
	s->busy = false;
	s->opened = s->step_end;
	if (conn->terminating)
		talloc_free(s); /* with pdu once it was delivered */
	else if (s->step_final)
		stream_done(s);
	else if (!s->ok)
		smbd_conn_terminate(conn, "cannot decrypt");
	else
		stream_step(s);
	smbd_conn_io_end(conn);
}

static struct smbd_transform_stream *stream_start(struct smbd_conn *conn, uint8_t *pdu, size_t len)
{
	struct smbd_session *sess;
	if (!NT_STATUS_IS_OK(smbd_transform_check_header(conn, pdu, len, &sess)))
		return NULL; /* refused again, and said why, once it is whole */
	if (smb2_cipher_nonce_len((enum smb2_cipher)sess->cipher) != 12)
		return NULL; /* CCM: opened whole */
	struct smbd_transform_stream *s = talloc_zero(conn, struct smbd_transform_stream);
	if (s == NULL)
		return NULL;
	s->aead = smb2_aead_open_begin((enum smb2_cipher)sess->cipher, sess->keys.decryption,
				       pdu + TRANSFORM_NONCE_OFFSET, pdu + TRANSFORM_NONCE_OFFSET,
				       SMB2_TRANSFORM_HDR_LEN - TRANSFORM_NONCE_OFFSET);
	if (s->aead == NULL) {
		talloc_free(s);
		return NULL;
	}
	s->job.work = step_work;
	s->job.done = step_done;
	s->conn = conn;
	s->pdu = pdu;
	s->len = len;
	s->opened = SMB2_TRANSFORM_HDR_LEN;
	s->ok = true;
	s->session_id = sess->id;
	smbd_crypto_offload_account(conn, len, true);
	talloc_set_destructor(s, stream_destructor);
	conn->opening_stream = s;
	LOG_DBG("%s: sealed frame of %zu bytes opened as it arrives", conn->peer, len);
	return s;
}

bool smbd_transform_stream_progress(struct smbd_conn *conn, uint8_t *pdu, size_t got, size_t len)
{
	struct smbd_transform_stream *s = conn->opening_stream;
	if (s == NULL) {
		if (got < SMB2_TRANSFORM_HDR_LEN)
			return true; /* too early to tell */
		if (conn->terminating || pdu[0] != 0xFD || memcmp(pdu + 1, "SMB", 3) != 0 ||
		    conn->n_opening > 0 || !smbd_crypto_offload_wanted(conn, len))
			return false;
		s = stream_start(conn, pdu, len);
		if (s == NULL)
			return false;
	}
	if (s->pdu != pdu || s->whole)
		return false;
	s->got = got;
	stream_step(s);
	return true;
}

bool smbd_transform_stream_finish(struct smbd_conn *conn, uint8_t *pdu, size_t len,
				  smbd_transform_opened_fn opened)
{
	struct smbd_transform_stream *s = conn->opening_stream;
	if (s == NULL || s->pdu != pdu || s->len != len || s->whole)
		return false;
	/* The next frame may start its own while this one's last step runs. */
	conn->opening_stream = NULL;
	talloc_steal(s, pdu);
	s->whole = true;
	s->got = len;
	s->opened_fn = opened;
	stream_step(s);
	return true;
}
