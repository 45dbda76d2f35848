/*
 * Replies (MS-SMB2 3.3.4): the header of each element, error bodies,
 * credits granted, signing (3.3.4.1.1) and encryption (3.3.4.1.4) of the
 * compound, the interim reply of an element that went async (3.3.4.2),
 * and the 3.1.1 pre-auth hash over a SESSION_SETUP's reply. Large last
 * replies are sealed or signed on an I/O worker.
 */
#include "config.h"
#include "smbd/reply.h"

#include <string.h>
#include <talloc.h>

#include "conf/conf.h"
#include "lib/crypto/smb2_preauth.h"
#include "lib/crypto/smb2_sign.h"
#include "lib/log.h"
#include "lib/wire.h"
#include "smbd/conn.h"
#include "smbd/control.h"
#include "smbd/crypto_share.h"
#include "smbd/iopool.h"
#include "smbd/loop.h"
#include "smbd/req.h"
#include "smbd/server.h"
#include "smbd/session.h"
#include "smbd/smb2_proto.h"
#include "smbd/splice_pipe.h"
#include "smbd/tcon.h"
#include "smbd/transform.h"
#include "smbd/transport.h"

/* MS-SMB2 2.2.2 */
static void write_error_body(struct smb2_call *call)
{
	wire_wr_init(&call->out, call->req, 16);
	wire_put_u16(&call->out, 9);
	wire_put_u8(&call->out, 0); /* ErrorContextCount */
	wire_put_u8(&call->out, 0);
	wire_put_u32(&call->out, 0); /* ByteCount */
	wire_put_u8(&call->out, 0);  /* ErrorData */
}

static void write_reply_header(struct smb2_call *call, uint8_t *h, uint16_t credits)
{
	memset(h, 0, SMB2_HDR_LEN);
	put_le32(h + SMB2_HDR_PROTOCOL_ID, 0x424D53FE);
	put_le16(h + SMB2_HDR_STRUCTURE_SIZE, SMB2_HDR_LEN);
	put_le16(h + SMB2_HDR_CREDIT_CHARGE, call->credit_charge);
	put_le32(h + SMB2_HDR_STATUS, NT_STATUS_V(call->status));
	put_le16(h + SMB2_HDR_COMMAND, call->command);
	put_le16(h + SMB2_HDR_CREDIT, credits);
	uint32_t flags = SMB2_FLAGS_SERVER_TO_REDIR | (call->flags & (SMB2_FLAGS_RELATED_OPERATIONS |
								       SMB2_FLAGS_PRIORITY_MASK));
	put_le64(h + SMB2_HDR_MESSAGE_ID, call->message_id);
	if (call->flags & SMB2_FLAGS_ASYNC_COMMAND) {
		flags |= SMB2_FLAGS_ASYNC_COMMAND;
		put_le64(h + SMB2_HDR_ASYNC_ID, call->async_id);
	} else {
		put_le32(h + SMB2_HDR_PID, 0xFEFF);
		put_le32(h + SMB2_HDR_TID, call->out_tree_set ? call->out_tree_id : call->tree_id);
	}
	put_le32(h + SMB2_HDR_FLAGS, flags);
	put_le64(h + SMB2_HDR_SESSION_ID, call->out_session_set ? call->out_session_id : call->session_id);
}

/* Whether and with which key a reply element is signed (MS-SMB2 3.3.4.1.1). */
static const struct smbd_sign_key *reply_sign_key(const struct smb2_call *call)
{
	const struct smbd_session *s = call->session;
	const struct smbd_channel *ch = s != NULL ? smbd_session_channel(s, call->req->conn->id) : NULL;
	if (ch != NULL && ch->ready && ch->has_key) {
		/* The last reply of a setup, a binding or a re-authentication. */
		if (call->sign_with_new_key)
			return &ch->sign;
		if (call->setup_key == NULL) {
			if (call->command == SMB2_SESSION_SETUP && !NT_STATUS_IS_OK(call->status))
				return NULL;
			if (call->signed_in || (s->signing_required && s->state == SMBD_SESSION_VALID))
				return &ch->sign;
			return NULL;
		}
	}
	return call->setup_key;
}

/*
 * The reply of one element: its header and body (and bulk data), or the
 * interim STATUS_PENDING answer of an element that went async
 * (MS-SMB2 3.3.4.2). Appends to iov; returns false if the connection died.
 */
/* A reply element's signature, made once all its pieces are laid out. */
struct reply_sig {
	struct smbd_sign_key key;
	int first, count; /* its iovs */
};

static bool append_reply(struct smb2_call *call, struct iovec *iov, int *niov, uint8_t *h, bool last,
			 bool encrypting, struct reply_sig *sig, bool *sig_deferred)
{
	static const uint8_t zeros[8];
	static const uint8_t interim_body[9] = { 9, 0 };
	struct smbd_conn *conn = call->req->conn;
	bool interim = NT_STATUS_EQUAL(call->status, NT_STATUS_PENDING) && !call->async_done;

	bool use_error = !interim && call->out.len == 0;
	if (use_error)
		write_error_body(call);
	if (!interim && !wire_wr_ok(&call->out)) {
		smbd_conn_terminate(conn, "out of memory");
		return false;
	}
	/* Credits go out once: with the interim reply if there is one. */
	uint16_t credits = 0;
	if (!call->interim_sent)
		credits = smbd_credits_grant(&conn->credits, call->credit_request);
	if (interim || call->interim_sent)
		call->flags |= SMB2_FLAGS_ASYNC_COMMAND;
	write_reply_header(call, h, credits);
	int first = *niov;
	size_t elem_len;
	iov[(*niov)++] = (struct iovec){ h, SMB2_HDR_LEN };
	if (interim) {
		iov[(*niov)++] = (struct iovec){ (void *)interim_body, sizeof(interim_body) };
		elem_len = SMB2_HDR_LEN + sizeof(interim_body);
		call->interim_sent = true;
	} else {
		iov[(*niov)++] = (struct iovec){ call->out.buf, call->out.len };
		elem_len = SMB2_HDR_LEN + call->out.len;
		if (!use_error && call->out_data_len && call->out_pipe == NULL) {
			iov[(*niov)++] = (struct iovec){ (void *)call->out_data, call->out_data_len };
			elem_len += call->out_data_len;
		}
	}
	if (!last) {
		size_t pad = (8 - elem_len % 8) % 8;
		if (pad)
			iov[(*niov)++] = (struct iovec){ (void *)zeros, pad };
		put_le32(h + SMB2_HDR_NEXT_COMMAND, (uint32_t)(elem_len + pad));
	}
	/* Interim replies are not signed (MS-SMB2 3.3.4.1.1, as Windows), and
	 * encrypted ones need no signature (3.3.4.1.4). */
	const struct smbd_sign_key *key = interim || encrypting ? NULL : reply_sign_key(call);
	if (key == NULL && call->flag_signed && !interim && !encrypting)
		put_le32(h + SMB2_HDR_FLAGS, le32(h + SMB2_HDR_FLAGS) | SMB2_FLAGS_SIGNED);
	*sig_deferred = false;
	if (key != NULL) {
		put_le32(h + SMB2_HDR_FLAGS, le32(h + SMB2_HDR_FLAGS) | SMB2_FLAGS_SIGNED);
		if (call->preauth_out == NULL) {
			/* Signed by send_replies(), maybe on a worker. */
			*sig = (struct reply_sig){ .key = *key, .first = first, .count = *niov - first };
			*sig_deferred = true;
		} else if (!smbd_sign_key_sign(key, &iov[first], *niov - first)) {
			smbd_conn_terminate(conn, "signing failed");
			return false;
		}
	}
	if (call->preauth_out != NULL && !smb2_preauth_update(call->preauth_out, &iov[first], *niov - first)) {
		smbd_conn_terminate(conn, "pre-auth hash failed");
		return false;
	}
	return true;
}

/*
 * The session whose key encrypts a reply (MS-SMB2 3.3.4.1.4): the one that
 * encrypted the request, or that of a tree or session requiring encryption.
 */
static struct smbd_session *reply_encryptor(struct smbd_req *req, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		struct smb2_call *call = &req->calls[i];
		struct smbd_session *s = call->session;
		if (call->no_reply || !smbd_session_can_encrypt(s))
			continue;
		if (req->encrypted ? s->id == req->enc_session_id
				   : s->encrypt_data || (call->tcon != NULL && call->tcon->encrypt))
			return s;
	}
	return NULL;
}

/*
 * The data buffers of the replies [from, to) that the transport may send
 * by reference (smb2_call.out_data_owner), moved out of the request into
 * one context for it to own (smbd_conn_send_owned); NULL if none.
 */
static void *large_buffers(struct smbd_req *req, size_t from, size_t to)
{
	void *owner = NULL;
	for (size_t i = from; i < to; i++) {
		struct smb2_call *call = &req->calls[i];
		if (call->no_reply || call->out_data_owner == NULL || call->out_data_len < SMBD_SEND_REF_MIN)
			continue;
		if (owner == NULL && (owner = talloc_new(NULL)) == NULL)
			return NULL; /* then copied, as small ones are */
		talloc_steal(owner, call->out_data_owner);
		call->out_data_owner = NULL;
	}
	return owner;
}

bool smbd_reply_plain(const struct smb2_call *call)
{
	struct smbd_req *req = call->req;
	return req->n_calls == 1 && call->preauth_out == NULL && reply_encryptor(req, 0, 1) == NULL &&
	       reply_sign_key(call) == NULL;
}

/*
 * A reply whose data waits in a pipe goes by splice if it still goes
 * plain (smbd_reply_plain); else its data is read into memory, as any
 * other reply's; an error reply needs none. False if the pipe failed.
 */
static bool settle_pipes(struct smbd_req *req, size_t from, size_t to, struct smb2_call **spliced)
{
	*spliced = NULL;
	for (size_t i = from; i < to; i++) {
		struct smb2_call *call = &req->calls[i];
		if (call->out_pipe == NULL)
			continue;
		if (call->no_reply || call->out.len == 0) {
			TALLOC_FREE(call->out_pipe);
		} else if (smbd_reply_plain(call)) {
			LOG_DBG("READ of %zu bytes: its data to the socket by splice", call->out_data_len);
			*spliced = call;
		} else {
			LOG_DBG("READ of %zu bytes: read from its pipe, the reply is not plain", call->out_data_len);
			uint8_t *buf = talloc_size(req, call->out_data_len);
			if (buf == NULL || !smbd_pipe_read_all(call->out_pipe, buf))
				return false;
			TALLOC_FREE(call->out_pipe);
			call->out_data = buf;
			call->out_data_owner = buf;
		}
	}
	return true;
}

/* Replies a connection may have on workers being sealed at once. */
#define SMBD_MAX_SEALING 4

/*
 * Signs one element (its header first, whole, in iov[0]). On a worker
 * (pool set) a large AES-GMAC signature is made in parts by the idle
 * workers too, as a sealed reply is (smbd/crypto_share.h).
 */
static bool sign_element(const struct smbd_sign_key *k, struct iovec *iov, int iovcnt, struct smbd_iopool *pool)
{
	if (pool == NULL || k->algo != SMB2_SIGN_AES_GMAC)
		return smbd_sign_key_sign(k, iov, iovcnt);
	size_t len = 0;
	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (!smbd_crypto_share_wanted(pool, SMB2_CIPHER_AES128_GCM, len))
		return smbd_sign_key_sign(k, iov, iovcnt);
	uint8_t *hdr = iov[0].iov_base;
	uint8_t nonce[12];
	memset(hdr + SMB2_HDR_SIGNATURE, 0, 16);
	smb2_sign_gmac_nonce(hdr, nonce);
	return smbd_crypto_share_gmac(pool, k->key, nonce, iov, iovcnt, hdr + SMB2_HDR_SIGNATURE);
}

/* Signs the elements whose signatures were left for later, and forgets the keys. */
static bool sign_deferred(struct iovec *iov, struct reply_sig *sigs, size_t n_sigs, struct smbd_iopool *pool)
{
	bool ok = true;
	for (size_t i = 0; i < n_sigs; i++) {
		ok = ok && sign_element(&sigs[i].key, &iov[sigs[i].first], sigs[i].count, pool);
		explicit_bzero(&sigs[i].key, sizeof(sigs[i].key));
	}
	return ok;
}

/* Large last replies of a request, sealed or signed on an I/O worker; the request waits for them. */
struct reply_job {
	struct smbd_iojob base; /* first: the pool hands this back */
	struct smbd_req *req;
	size_t from, to;            /* its replies */
	struct iovec *iov;
	int niov;
	size_t len;
	bool seal;
	struct smbd_sealer sealer;  /* seal */
	struct reply_sig *sigs;     /* or sign */
	size_t n_sigs;
	struct smbd_iopool *pool;   /* whose idle workers help with a large signature */
	bool ok;
};

static void reply_work(struct smbd_iojob *base)
{
	struct reply_job *job = (struct reply_job *)base;
	job->ok = job->seal ? smbd_transform_seal(&job->sealer, job->iov, job->niov)
			    : sign_deferred(job->iov, job->sigs, job->n_sigs, job->pool);
}

static void reply_done(struct smbd_iojob *base)
{
	struct reply_job *job = (struct reply_job *)base;
	struct smbd_req *req = job->req;
	struct smbd_conn *conn = req->conn;
	conn->n_sealing--;
	smbd_crypto_offload_account(conn, job->len, false);
	if (!job->ok)
		smbd_conn_terminate(conn, job->seal ? "encryption failed" : "signing failed");
	else if (job->seal)
		smbd_conn_send_owned(conn, &(struct iovec){ job->sealer.frame, job->sealer.len }, 1,
				     talloc_steal(NULL, job->sealer.owner));
	else
		smbd_conn_send_owned(conn, job->iov, job->niov, large_buffers(req, job->from, job->to));
	talloc_free(req);
	smbd_conn_io_end(conn);
}

/* Whether the loop hands a large reply's crypto to the workers ("reply crypto"). */
static bool loop_hands_on(struct smbd_conn *conn)
{
	switch (conn->srv->cfg->reply_crypto) {
	case REPLY_CRYPTO_LOOP:
		return false;
	case REPLY_CRYPTO_WORKERS:
		return true;
	case REPLY_CRYPTO_AUTO:
		break;
	}
	return smbd_loop_load_now(&conn->loop->load) >= LOOP_LOAD_BUSY;
}

/*
 * The last replies of a request, sealed for encryptor (or else their
 * deferred signatures made) on a worker when they are large and the loop
 * is busy (smbd/loop_load.h): true if they went (the request is freed
 * once they are sent).
 */
static bool finish_on_worker(struct smbd_req *req, size_t from, size_t to, struct smbd_session *encryptor,
			     struct iovec *iov, int niov, struct reply_sig *sigs, size_t n_sigs)
{
	struct smbd_conn *conn = req->conn;
	size_t len = 0;
	for (int i = 0; i < niov; i++)
		len += iov[i].iov_len;
	if ((encryptor == NULL && n_sigs == 0) || conn->n_sealing >= SMBD_MAX_SEALING ||
	    !smbd_crypto_offload_wanted(conn, len) || !loop_hands_on(conn))
		return false;
	struct reply_job *job = talloc_zero(req, struct reply_job);
	if (job == NULL)
		return false;
	job->seal = encryptor != NULL;
	if (job->seal) {
		if (!smbd_transform_prepare(encryptor, conn->loop->bigbufs, job, len, &job->sealer)) {
			talloc_free(job);
			return false;
		}
		job->sealer.pool = conn->loop->iopool; /* sealed on a worker: its idle fellows help */
	}
	job->base.work = reply_work;
	job->base.done = reply_done;
	job->req = req;
	job->from = from;
	job->to = to;
	job->iov = iov;
	job->niov = niov;
	job->len = len;
	job->sigs = sigs;
	job->n_sigs = n_sigs;
	job->pool = conn->loop->iopool;
	conn->n_sealing++;
	smbd_crypto_offload_account(conn, len, true);
	smbd_conn_io_begin(conn);
	smbd_iopool_submit(conn->loop->iopool, &job->base);
	LOG_DBG("%s: a reply of %zu bytes %s on a worker", conn->peer, len, job->seal ? "sealed" : "signed");
	return true;
}

static bool send_replies(struct smbd_req *req, size_t from, size_t to, bool last_of_req)
{
	struct smbd_conn *conn = req->conn;
	size_t n = to - from;
	if (n == 0 || conn->terminating)
		return false;
	struct iovec *iov = talloc_array(req, struct iovec, n * 4);
	uint8_t *hdrs = talloc_array(req, uint8_t, n * SMB2_HDR_LEN);
	struct reply_sig *sigs = talloc_array(req, struct reply_sig, n);
	size_t n_sigs = 0;
	if (iov == NULL || hdrs == NULL || sigs == NULL) {
		smbd_conn_terminate(conn, "out of memory");
		return false;
	}
	struct smb2_call *spliced;
	if (!settle_pipes(req, from, to, &spliced)) {
		smbd_conn_terminate(conn, "a READ's pipe failed");
		return false;
	}
	size_t last = SIZE_MAX;
	for (size_t i = from; i < to; i++)
		if (!req->calls[i].no_reply)
			last = i;
	struct smbd_session *encryptor = reply_encryptor(req, from, to);
	int niov = 0;
	for (size_t i = from; i < to; i++) {
		struct smb2_call *call = &req->calls[i];
		if (call->no_reply)
			continue;
		bool deferred;
		if (!append_reply(call, iov, &niov, hdrs + (i - from) * SMB2_HDR_LEN, i == last, encryptor != NULL,
				  &sigs[n_sigs], &deferred)) {
			explicit_bzero(sigs, n_sigs * sizeof(*sigs)); /* keys */
			return false;
		}
		if (deferred)
			n_sigs++;
	}
	/* Only a request's last replies go to a worker: earlier ones (before
	 * an async element) must not be overtaken by what follows them. */
	if (niov > 0 && last_of_req && finish_on_worker(req, from, to, encryptor, iov, niov, sigs, n_sigs))
		return true;
	if (!sign_deferred(iov, sigs, n_sigs, NULL)) {
		smbd_conn_terminate(conn, "signing failed");
		return false;
	}
	if (niov > 0 && encryptor != NULL) {
		struct iovec sealed;
		void *owner;
		if (!smbd_transform_encrypt(encryptor, conn->loop->bigbufs, req, iov, niov, &sealed, &owner)) {
			smbd_conn_terminate(conn, "encryption failed");
			return false;
		}
		smbd_conn_send_owned(conn, &sealed, 1, talloc_steal(NULL, owner));
	} else if (spliced != NULL) {
		/* req is on conn->requests until freed: others there are in flight. */
		bool more = req->prev != NULL || req->next != NULL;
		smbd_conn_send_spliced(conn, iov, niov, talloc_steal(NULL, spliced->out_pipe), spliced->out_data_len,
				       more);
		spliced->out_pipe = NULL;
	} else if (niov > 0) {
		smbd_conn_send_owned(conn, iov, niov, large_buffers(req, from, to));
	}
	talloc_free(iov);
	talloc_free(hdrs);
	talloc_free(sigs);
	return false;
}

bool smbd_send_replies(struct smbd_req *req, size_t from, size_t to, bool last_of_req)
{
	/* Signing and sealing read the session's keys and channels. */
	smbd_shared_enter();
	bool handed_over = send_replies(req, from, to, last_of_req);
	smbd_shared_leave();
	return handed_over;
}
