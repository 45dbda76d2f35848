#include "config.h"
#include "smbd/transform.h"

#include <string.h>

#include "lib/crypto/random.h"
#include "lib/crypto/smb2_aead.h"
#include "lib/log.h"
#include "lib/wire.h"
#include "smbd/conn.h"
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

NTSTATUS smbd_transform_decrypt(struct smbd_conn *conn, uint8_t *pdu, size_t len, uint8_t **plain,
				size_t *plain_len, uint64_t *session_id)
{
	struct wire_rd r;
	wire_rd_init(&r, pdu, len);
	uint32_t proto = wire_u32(&r);
	const uint8_t *tag = wire_ptr(&r, 16);
	const uint8_t *nonce = wire_ptr(&r, 16);
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
	struct iovec iov = { pdu + SMB2_TRANSFORM_HDR_LEN, size };
	if (!smb2_aead_decrypt((enum smb2_cipher)s->cipher, s->keys.decryption, nonce, pdu + TRANSFORM_AAD_OFFSET,
			       SMB2_TRANSFORM_HDR_LEN - TRANSFORM_AAD_OFFSET, &iov, 1, tag))
		return NT_STATUS_ACCESS_DENIED;
	*plain = pdu + SMB2_TRANSFORM_HDR_LEN;
	*plain_len = size;
	*session_id = sid;
	return NT_STATUS_OK;
}

/*
 * A nonce must never repeat under one key: a per-session counter, with a
 * random prefix so that two sessions with the same key (none should exist)
 * still differ. 2^64 messages never happen.
 */
static void next_nonce(struct smbd_session *s, uint8_t nonce[16])
{
	memset(nonce, 0, 16);
	put_le64(nonce, ++s->nonce_counter);
	memcpy(nonce + 8, s->nonce_prefix, 3); /* CCM uses 11 bytes, GCM 12 */
	if (smb2_cipher_nonce_len((enum smb2_cipher)s->cipher) == 12)
		nonce[11] = s->nonce_prefix[3];
}

bool smbd_transform_encrypt(struct smbd_session *s, TALLOC_CTX *mem, const struct iovec *iov, int iovcnt,
			    struct iovec *out)
{
	size_t size = 0;
	for (int i = 0; i < iovcnt; i++)
		size += iov[i].iov_len;
	if (size > UINT32_MAX)
		return false;
	uint8_t *buf = talloc_size(mem, SMB2_TRANSFORM_HDR_LEN + size);
	if (buf == NULL)
		return false;
	uint8_t *h = buf;
	memset(h, 0, SMB2_TRANSFORM_HDR_LEN);
	put_le32(h, TRANSFORM_PROTOCOL_ID);
	next_nonce(s, h + 20);
	put_le32(h + 36, (uint32_t)size);
	put_le16(h + 42, TRANSFORM_FLAG_ENCRYPTED);
	put_le64(h + 44, s->id);
	/* The reply's pieces are sealed straight into the frame. */
	if (!smb2_aead_encrypt_to((enum smb2_cipher)s->cipher, s->keys.encryption, h + 20,
				  h + TRANSFORM_AAD_OFFSET, SMB2_TRANSFORM_HDR_LEN - TRANSFORM_AAD_OFFSET, iov,
				  iovcnt, buf + SMB2_TRANSFORM_HDR_LEN, h + 4)) {
		talloc_free(buf);
		return false;
	}
	*out = (struct iovec){ buf, SMB2_TRANSFORM_HDR_LEN + size };
	return true;
}
