#include "config.h"
#include "smbd/arrival_check.h"

#include <string.h>
#include <talloc.h>

#include "lib/crypto/smb2_aead.h"
#include "lib/crypto/smb2_sign.h"
#include "lib/log.h"
#include "smbd/conn.h"
#include "smbd/control.h"
#include "smbd/iopool.h"
#include "smbd/loop.h"
#include "smbd/server.h"
#include "smbd/session.h"
#include "smbd/smb2_proto.h"

/*
 * A step hands a worker at least this much newly arrived data (the last
 * one, whatever is left): fewer hand-offs, and still most of a 1 MiB
 * message checked before its end arrives.
 */
#define STEP_MIN (128u * 1024)
/* The AAD and nonce are the header from its Nonce on (MS-SMB2 3.1.4.3). */
#define TRANSFORM_NONCE_OFFSET 20
#define TRANSFORM_SIGNATURE_OFFSET 4

struct smbd_arrival_check {
	struct smbd_iojob job; /* first: one step on a worker at a time */
	struct smbd_conn *conn;
	uint8_t *pdu;
	size_t len;
	bool busy; /* a step is on a worker */
	/* Written by the loop (atomically: a running step reads them): the
	 * bytes of the frame received, and whether it is whole (delivered,
	 * pdu is ours), after which the tag or signature may be checked. */
	size_t avail;
	bool closing;
	/* The step's while one runs, else the loop's. */
	size_t checked; /* the frame decrypted or hashed up to here */
	bool ended;     /* ... and its tag or signature checked */
	bool ok;        /* every piece so far went through */
	uint64_t session_id;
	/* One of the two: a sealed message's opener, a signed one's MAC. */
	struct smb2_aead_opener *aead;
	struct smb2_sign_stream *mac;
	smbd_transform_opened_fn done_fn;
};

static int check_destructor(struct smbd_arrival_check *s)
{
	smb2_aead_open_abandon(s->aead);
	smb2_sign_stream_abandon(s->mac);
	smbd_crypto_offload_account(s->conn, s->len, false);
	if (s->conn->arrival_check == s)
		s->conn->arrival_check = NULL;
	return 0;
}

static bool check_update(struct smbd_arrival_check *s, uint8_t *p, size_t n)
{
	if (s->aead != NULL)
		return smb2_aead_open_update(s->aead, p, n);
	return smb2_sign_stream_update(s->mac, p, n);
}

static bool check_end(struct smbd_arrival_check *s)
{
	if (s->aead != NULL) {
		bool ok = smb2_aead_open_end(s->aead, s->pdu + TRANSFORM_SIGNATURE_OFFSET);
		s->aead = NULL;
		if (!ok) /* never leave unauthenticated plaintext behind */
			explicit_bzero(s->pdu + SMB2_TRANSFORM_HDR_LEN, s->len - SMB2_TRANSFORM_HDR_LEN);
		return ok;
	}
	bool ok = smb2_sign_stream_end(s->mac, s->pdu + SMB2_HDR_SIGNATURE);
	s->mac = NULL;
	return ok;
}

/*
 * A step takes in what arrived, and goes on with what arrives meanwhile
 * instead of handing back for every piece: when a frame comes in a burst,
 * the reading and the checking then run side by side, and a frame costs
 * a wake-up or two instead of one per piece (at two or more streams the
 * hand-offs, not the cipher, set the pace: docs/PERFORMANCE.md).
 */
static void step_work(struct smbd_iojob *job)
{
	struct smbd_arrival_check *s = (struct smbd_arrival_check *)job;
	for (;;) {
		/* closing first: once it is seen, avail is the whole frame */
		bool closing = __atomic_load_n(&s->closing, __ATOMIC_ACQUIRE);
		size_t avail = __atomic_load_n(&s->avail, __ATOMIC_ACQUIRE);
		if (avail > s->checked) {
			if (s->ok)
				s->ok = check_update(s, s->pdu + s->checked, avail - s->checked);
			s->checked = avail;
			continue;
		}
		if (closing) {
			s->ok = check_end(s) && s->ok;
			s->ended = true;
		}
		return;
	}
}

/* The last step is over: the message goes on, checked or refused. */
static void check_done(struct smbd_arrival_check *s)
{
	struct smbd_conn *conn = s->conn;
	uint8_t *pdu = talloc_steal(conn, s->pdu);
	size_t len = s->len;
	NTSTATUS status = s->ok ? NT_STATUS_OK : NT_STATUS_ACCESS_DENIED;
	uint64_t sid = s->session_id;
	smbd_transform_opened_fn done = s->done_fn;
	talloc_free(s);
	done(conn, pdu, len, status, sid);
}

static void step_done(struct smbd_iojob *job);

/* What arrived is there for a running step to take in. */
static void publish(struct smbd_arrival_check *s, size_t avail, bool closing)
{
	__atomic_store_n(&s->avail, avail, __ATOMIC_RELEASE);
	if (closing)
		__atomic_store_n(&s->closing, true, __ATOMIC_RELEASE);
}

/* Hands what arrived to a worker, if it is worth a step; finishes a whole message. */
static void check_step(struct smbd_arrival_check *s)
{
	if (s->busy)
		return; /* it takes in what was published, or hands back */
	if (!s->closing && s->avail - s->checked < STEP_MIN)
		return;
	if (s->closing && s->len == s->checked) {
		/* Nothing left to take in: the tag is a moment's work. */
		step_work(&s->job);
		check_done(s);
		return;
	}
	s->busy = true;
	smbd_conn_io_begin(s->conn);
	smbd_iopool_submit(s->conn->loop->iopool, &s->job);
}

static void step_done(struct smbd_iojob *job)
{
	struct smbd_arrival_check *s = (struct smbd_arrival_check *)job;
	struct smbd_conn *conn = s->conn;
	s->busy = false;
	if (conn->terminating)
		talloc_free(s); /* with pdu once it was delivered */
	else if (s->ended)
		check_done(s);
	else if (!s->ok && s->aead != NULL)
		smbd_conn_terminate(conn, "cannot decrypt");
	else
		check_step(s); /* a signed message is refused once whole */
	smbd_conn_io_end(conn);
}

static bool sealed_begin(struct smbd_arrival_check *s)
{
	struct smbd_session *sess;
	if (!NT_STATUS_IS_OK(smbd_transform_check_header(s->conn, s->pdu, s->len, &sess)))
		return false; /* refused again, and said why, once it is whole */
	if (smb2_cipher_nonce_len((enum smb2_cipher)sess->cipher) != 12)
		return false; /* CCM: opened whole */
	s->aead = smb2_aead_open_begin((enum smb2_cipher)sess->cipher, sess->keys.decryption,
				       s->pdu + TRANSFORM_NONCE_OFFSET, s->pdu + TRANSFORM_NONCE_OFFSET,
				       SMB2_TRANSFORM_HDR_LEN - TRANSFORM_NONCE_OFFSET);
	s->session_id = sess->id;
	s->checked = SMB2_TRANSFORM_HDR_LEN;
	return s->aead != NULL;
}

static bool signed_begin(struct smbd_arrival_check *s)
{
	const struct smbd_channel *ch = smbd_sign_channel(s->conn->srv, s->conn->id, s->pdu);
	if (ch == NULL)
		return false;
	s->mac = smb2_sign_stream_begin(ch->sign.algo, ch->sign.key, s->pdu);
	s->session_id = ch->session->id;
	s->checked = SMB2_HDR_LEN;
	return s->mac != NULL;
}

static struct smbd_arrival_check *check_start(struct smbd_conn *conn, uint8_t *pdu, size_t len, bool sealed)
{
	struct smbd_arrival_check *s = talloc_zero(conn, struct smbd_arrival_check);
	if (s == NULL)
		return NULL;
	s->conn = conn;
	s->pdu = pdu;
	s->len = len;
	smbd_shared_enter(); /* the keys are the session's */
	bool begun = sealed ? sealed_begin(s) : signed_begin(s);
	smbd_shared_leave();
	if (!begun) {
		smb2_aead_open_abandon(s->aead);
		smb2_sign_stream_abandon(s->mac);
		talloc_free(s);
		return NULL;
	}
	s->job.work = step_work;
	s->job.done = step_done;
	s->ok = true;
	smbd_crypto_offload_account(conn, len, true);
	talloc_set_destructor(s, check_destructor);
	conn->arrival_check = s;
	LOG_DBG("%s: %s frame of %zu bytes checked as it arrives", conn->peer, sealed ? "sealed" : "signed", len);
	return s;
}

bool smbd_arrival_check_progress(struct smbd_conn *conn, uint8_t *pdu, size_t got, size_t len)
{
	struct smbd_arrival_check *s = conn->arrival_check;
	if (s == NULL) {
		if (got < SMB2_HDR_LEN)
			return true; /* too early to tell (a transform header is shorter) */
		bool sealed = pdu[0] == 0xFD;
		if (conn->terminating || (pdu[0] != 0xFD && pdu[0] != 0xFE) || memcmp(pdu + 1, "SMB", 3) != 0 ||
		    conn->n_opening > 0 || !smbd_crypto_offload_wanted(conn, len))
			return false;
		s = check_start(conn, pdu, len, sealed);
		if (s == NULL)
			return false;
	}
	if (s->pdu != pdu || s->closing)
		return false;
	publish(s, got, false);
	check_step(s);
	return true;
}

bool smbd_arrival_check_finish(struct smbd_conn *conn, uint8_t *pdu, size_t len, smbd_transform_opened_fn done)
{
	struct smbd_arrival_check *s = conn->arrival_check;
	if (s == NULL || s->pdu != pdu || s->len != len || s->closing)
		return false;
	/* The next frame may start its own while this one's last step runs. */
	conn->arrival_check = NULL;
	talloc_steal(s, pdu);
	s->done_fn = done;
	publish(s, len, true);
	check_step(s);
	return true;
}
