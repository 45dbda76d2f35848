#include "config.h"
#include "smbd/transform.h"

#include <stdatomic.h>
#include <string.h>
#include <talloc.h>

#include "lib/crypto/random.h"
#include "lib/crypto/smb2_aead.h"
#include "lib/log.h"
#include "lib/wire.h"
#include "smbd/bigbuf.h"
#include "smbd/conn.h"
#include "smbd/crypto_share.h"
#include "smbd/iopool.h"
#include "smbd/loop.h"
#include "smbd/server.h"
#include "smbd/session.h"
#include "smbd/smb2_proto.h"

#define TRANSFORM_PROTOCOL_ID 0x424D53FD
#define TRANSFORM_FLAG_ENCRYPTED 0x0001
/* The AAD is the header from the Nonce on (MS-SMB2 3.1.4.3). */
#define TRANSFORM_AAD_OFFSET 20

bool smbd_session_can_encrypt(const struct smbd_session *s)
{
	return s != NULL && s->has_keys && s->cipher != 0;
}

NTSTATUS smbd_transform_check_header(struct smbd_conn *conn, const uint8_t *pdu, size_t len,
				     struct smbd_session **out)
{
	struct wire_rd r;
	wire_rd_init(&r, pdu, len);
	uint32_t proto = wire_u32(&r);
	wire_skip(&r, 32); /* Signature, Nonce */
	uint32_t size = wire_u32(&r);
	wire_skip(&r, 2);
	uint16_t flags = wire_u16(&r);
	uint64_t sid = wire_u64(&r);
	if (!wire_ok(&r) || proto != TRANSFORM_PROTOCOL_ID || flags != TRANSFORM_FLAG_ENCRYPTED ||
	    size != len - SMB2_TRANSFORM_HDR_LEN || size < SMB2_HDR_LEN)
		return NT_STATUS_INVALID_PARAMETER;
	struct smbd_session *s = smbd_session_find(conn->srv, sid);
	/* Every channel of a session shares its cipher keys (MS-SMB2 3.3.5.2.1.1). */
	const struct smbd_channel *ch = s != NULL ? smbd_session_channel(s, conn->id) : NULL;
	if (ch == NULL || !ch->ready || !smbd_session_can_encrypt(s))
		return NT_STATUS_USER_SESSION_DELETED;
	*out = s;
	return NT_STATUS_OK;
}

/* pool: on a worker, whose idle fellows may help with a large message. */
static bool open_sealed(struct smbd_iopool *pool, enum smb2_cipher cipher, const uint8_t *key, uint8_t *pdu,
			size_t len)
{
	uint8_t *payload = pdu + SMB2_TRANSFORM_HDR_LEN;
	size_t payload_len = len - SMB2_TRANSFORM_HDR_LEN;
	const uint8_t *aad = pdu + TRANSFORM_AAD_OFFSET;
	size_t aad_len = SMB2_TRANSFORM_HDR_LEN - TRANSFORM_AAD_OFFSET;
	if (smbd_crypto_share_wanted(pool, cipher, payload_len))
		return smbd_crypto_share_open(pool, cipher, key, pdu + 20, aad, aad_len, payload, payload_len, pdu + 4);
	struct iovec iov = { payload, payload_len };
	return smb2_aead_decrypt(cipher, key, pdu + 20, aad, aad_len, &iov, 1, pdu + 4);
}

NTSTATUS smbd_transform_decrypt(struct smbd_conn *conn, uint8_t *pdu, size_t len, uint8_t **plain,
				size_t *plain_len, uint64_t *session_id)
{
	struct smbd_session *s;
	NTSTATUS status = smbd_transform_check_header(conn, pdu, len, &s);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (!open_sealed(NULL, (enum smb2_cipher)s->cipher, s->keys.decryption, pdu, len))
		return NT_STATUS_ACCESS_DENIED;
	*plain = pdu + SMB2_TRANSFORM_HDR_LEN;
	*plain_len = len - SMB2_TRANSFORM_HDR_LEN;
	*session_id = s->id;
	return NT_STATUS_OK;
}

/* ---- large messages on an I/O worker ---- */

bool smbd_crypto_offload_wanted(const struct smbd_conn *conn, size_t len)
{
	const struct smbd_loop *loop = conn->loop;
	return len >= SMBD_CRYPTO_OFFLOAD_MIN && loop->iopool != NULL && smbd_iopool_threads(loop->iopool) > 0 &&
	       loop->crypto_offloaded + len <= SMBD_CRYPTO_OFFLOAD_BUDGET;
}

void smbd_crypto_offload_account(struct smbd_conn *conn, size_t len, bool start)
{
	if (start)
		conn->loop->crypto_offloaded += len;
	else
		conn->loop->crypto_offloaded -= len;
}

struct open_job {
	struct smbd_iojob base; /* first: the pool hands this back */
	struct smbd_conn *conn;
	uint8_t *pdu;
	size_t len;
	enum smb2_cipher cipher;
	uint8_t key[32];
	uint64_t session_id;
	struct smbd_iopool *pool;
	bool ok;
	smbd_transform_opened_fn opened;
};

static void open_work(struct smbd_iojob *base)
{
	struct open_job *job = (struct open_job *)base;
	job->ok = open_sealed(job->pool, job->cipher, job->key, job->pdu, job->len);
}

static void open_done(struct smbd_iojob *base)
{
	struct open_job *job = (struct open_job *)base;
	struct smbd_conn *conn = job->conn;
	uint8_t *pdu = job->pdu;
	size_t len = job->len;
	uint64_t sid = job->session_id;
	NTSTATUS status = job->ok ? NT_STATUS_OK : NT_STATUS_ACCESS_DENIED;
	smbd_transform_opened_fn opened = job->opened;
	explicit_bzero(job->key, sizeof(job->key));
	talloc_free(job);
	smbd_crypto_offload_account(conn, len, false);
	if (conn->terminating)
		talloc_free(pdu);
	else
		opened(conn, pdu, len, status, sid);
	smbd_conn_io_end(conn);
}

NTSTATUS smbd_transform_decrypt_offload(struct smbd_conn *conn, uint8_t *pdu, size_t len,
					smbd_transform_opened_fn opened)
{
	if (!smbd_crypto_offload_wanted(conn, len))
		return NT_STATUS_NOT_SUPPORTED;
	struct smbd_session *s;
	NTSTATUS status = smbd_transform_check_header(conn, pdu, len, &s);
	if (!NT_STATUS_IS_OK(status))
		return status;
	struct open_job *job = talloc_zero(conn, struct open_job);
	if (job == NULL)
		return NT_STATUS_NO_MEMORY;
	job->base.work = open_work;
	job->base.done = open_done;
	job->conn = conn;
	job->pdu = pdu;
	job->len = len;
	job->cipher = (enum smb2_cipher)s->cipher;
	memcpy(job->key, s->keys.decryption, sizeof(job->key));
	job->session_id = s->id;
	job->pool = conn->loop->iopool;
	job->opened = opened;
	smbd_crypto_offload_account(conn, len, true);
	smbd_conn_io_begin(conn);
	smbd_iopool_submit(conn->loop->iopool, &job->base);
	return NT_STATUS_PENDING;
}

/*
 * A nonce must never repeat under one key: a per-session counter, with a
 * random prefix so that two sessions with the same key (none should exist)
 * still differ. 2^64 messages never happen.
 */
static void next_nonce(struct smbd_session *s, uint8_t nonce[16])
{
	memset(nonce, 0, 16);
	put_le64(nonce, atomic_fetch_add_explicit(&s->nonce_counter, 1, memory_order_relaxed) + 1);
	memcpy(nonce + 8, s->nonce_prefix, 3); /* CCM uses 11 bytes, GCM 12 */
	if (smb2_cipher_nonce_len((enum smb2_cipher)s->cipher) == 12)
		nonce[11] = s->nonce_prefix[3];
}

bool smbd_transform_prepare(struct smbd_session *s, struct smbd_bigbufs *bufs, TALLOC_CTX *mem,
			    size_t payload_len, struct smbd_sealer *out)
{
	if (payload_len > UINT32_MAX)
		return false;
	size_t len = SMB2_TRANSFORM_HDR_LEN + payload_len;
	uint8_t *buf;
	void *owner = len >= BIGBUF_MIN && bufs != NULL ? smbd_bigbuf_get(bufs, mem, len, &buf)
							 : (buf = talloc_size(mem, len));
	if (owner == NULL)
		return false;
	uint8_t *h = buf;
	memset(h, 0, SMB2_TRANSFORM_HDR_LEN);
	put_le32(h, TRANSFORM_PROTOCOL_ID);
	next_nonce(s, h + 20);
	put_le32(h + 36, (uint32_t)payload_len);
	put_le16(h + 42, TRANSFORM_FLAG_ENCRYPTED);
	put_le64(h + 44, s->id);
	*out = (struct smbd_sealer){ .cipher = s->cipher, .frame = buf, .len = len, .owner = owner };
	memcpy(out->key, s->keys.encryption, sizeof(out->key));
	return true;
}

bool smbd_transform_seal(struct smbd_sealer *z, const struct iovec *iov, int iovcnt)
{
	uint8_t *h = z->frame;
	enum smb2_cipher cipher = (enum smb2_cipher)z->cipher;
	const uint8_t *aad = h + TRANSFORM_AAD_OFFSET;
	size_t aad_len = SMB2_TRANSFORM_HDR_LEN - TRANSFORM_AAD_OFFSET;
	/* The reply's pieces are sealed straight into the frame. */
	bool ok = smbd_crypto_share_wanted(z->pool, cipher, z->len - SMB2_TRANSFORM_HDR_LEN)
			  ? smbd_crypto_share_seal(z->pool, cipher, z->key, h + 20, aad, aad_len, iov, iovcnt,
						   h + SMB2_TRANSFORM_HDR_LEN, h + 4)
			  : smb2_aead_encrypt_to(cipher, z->key, h + 20, aad, aad_len, iov, iovcnt,
						 h + SMB2_TRANSFORM_HDR_LEN, h + 4);
	explicit_bzero(z->key, sizeof(z->key));
	return ok;
}

bool smbd_transform_encrypt(struct smbd_session *s, struct smbd_bigbufs *bufs, TALLOC_CTX *mem,
			    const struct iovec *iov, int iovcnt, struct iovec *out, void **owner)
{
	size_t size = 0;
	for (int i = 0; i < iovcnt; i++)
		size += iov[i].iov_len;
	struct smbd_sealer z;
	if (!smbd_transform_prepare(s, bufs, mem, size, &z))
		return false;
	if (!smbd_transform_seal(&z, iov, iovcnt)) {
		talloc_free(z.owner);
		return false;
	}
	*out = (struct iovec){ z.frame, z.len };
	*owner = z.owner;
	return true;
}
