/*
 * SMB 3 encryption and signing on the receive path: the transform header
 * and its decryption (smbd/transform.c), signature verification
 * (smbd_session_verify), and what the dispatcher does with the result,
 * on a connection logged on with a known session key.
 *
 * Input: one mode byte, then direct-TCP frames as for fuzz_smb2_request
 * (ids are always made valid, FZ_SID_ALIAS names the session).
 *   bits 0-1: 0 = frames go as they are (forged transforms, bad
 *             signatures); 1 = each frame is encrypted with the session's
 *             key as a client would; 2 = each element is signed;
 *             3 = signed, then encrypted.
 *   bits 2-3: the 3.1.1 cipher (AES-128-CCM, -128-GCM, -256-CCM, -256-GCM).
 *   bits 4-5: the 3.1.1 signing algorithm (HMAC-SHA256, AES-CMAC,
 *             AES-GMAC), 3 = no signing context.
 *   bits 6-7: the dialect: 3.1.1, 3.0.2, 3.0, 2.1 (which cannot encrypt).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>

#include "lib/crypto/smb2_aead.h"
#include "lib/crypto/smb2_sign.h"
#include "lib/wire.h"
#include "smbd/session.h"
#include "smbd/smb2_proto.h"
#include "smbd/transform.h"
#include "tests/fuzz/fz_dup.h"
#include "tests/fuzz/harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FRAMES 32

/* Signs every element of a chain as the client would (MS-SMB2 3.2.4.1.1). */
static void sign_chain(const struct smbd_session *s, uint8_t *pdu, size_t len)
{
	size_t off = 0;
	while (len - off >= SMB2_HDR_LEN && memcmp(pdu + off, "\xfeSMB", 4) == 0) {
		uint8_t *h = pdu + off;
		uint32_t next = le32(h + SMB2_HDR_NEXT_COMMAND);
		bool last = next == 0 || next % 8 || next < SMB2_HDR_LEN || next > len - off;
		size_t elem_len = last ? len - off : next;
		put_le32(h + SMB2_HDR_FLAGS, le32(h + SMB2_HDR_FLAGS) | SMB2_FLAGS_SIGNED);
		memset(h + SMB2_HDR_SIGNATURE, 0, 16);
		struct iovec iov = { h, elem_len };
		uint8_t sig[16];
		if (smb2_sign_iov(s->sign_algo, s->keys.signing, &iov, 1, sig))
			memcpy(h + SMB2_HDR_SIGNATURE, sig, 16);
		if (last)
			break;
		off += next;
	}
}

/* The transform message around pdu, encrypted with the client-to-server key. */
static uint8_t *seal(TALLOC_CTX *mem, struct smbd_session *s, uint64_t counter, const uint8_t *pdu, size_t len,
		     size_t *out_len)
{
	uint8_t *m = talloc_zero_size(mem, SMB2_TRANSFORM_HDR_LEN + len);
	if (m == NULL)
		return NULL;
	put_le32(m, 0x424D53FD);
	put_le64(m + 20, counter); /* Nonce */
	put_le32(m + 36, (uint32_t)len);
	put_le16(m + 42, 1);       /* Flags: encrypted */
	put_le64(m + 44, s->id);
	memcpy(m + SMB2_TRANSFORM_HDR_LEN, pdu, len);
	struct iovec iov = { m + SMB2_TRANSFORM_HDR_LEN, len };
	if (!smb2_aead_encrypt((enum smb2_cipher)s->cipher, s->keys.decryption, m + 20, m + 20, 32, &iov, 1,
			       m + 4)) {
		talloc_free(m);
		return NULL;
	}
	*out_len = SMB2_TRANSFORM_HDR_LEN + len;
	return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t dialects[4] = { SMB2_DIALECT_311, SMB2_DIALECT_302, SMB2_DIALECT_300,
					      SMB2_DIALECT_210 };
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	data++;
	size--;
	bool do_seal = mode & 1, do_sign = mode & 2;
	uint16_t cipher = (uint16_t)(((mode >> 2) & 3) + 1);
	int sign_algo = (mode >> 4) & 3;
	struct fz_client *c = fz_client_new(NULL);
	if (!fz_client_setup(c, dialects[mode >> 6], cipher, sign_algo == 3 ? -1 : sign_algo)) {
		/* The same every time: fuzzing nothing must not look like a pass. */
		fprintf(stderr, "fuzz harness: the connection setup failed (mode 0x%02x)\n", mode);
		abort();
	}
	const uint8_t *pdu;
	size_t len;
	for (int n = 0; n < MAX_FRAMES && fz_next_frame(&data, &size, &pdu, &len); n++) {
		struct smbd_session *s = fz_client_session(c);
		uint8_t *buf = fz_dup(c, pdu, len);
		if (buf == NULL)
			break;
		fz_patch_ids(c, buf, len);
		/* A forged transform header may name the session by its alias too. */
		if (len >= SMB2_TRANSFORM_HDR_LEN && memcmp(buf, "\xfdSMB", 4) == 0 && s != NULL &&
		    le64(buf + 44) == FZ_SID_ALIAS)
			put_le64(buf + 44, s->id);
		if (do_sign && s != NULL && s->has_keys)
			sign_chain(s, buf, len);
		if (do_seal && smbd_session_can_encrypt(s)) {
			size_t sealed_len;
			uint8_t *sealed = seal(c, s, (uint64_t)n + 1, buf, len, &sealed_len);
			talloc_free(buf);
			if (sealed == NULL)
				break;
			buf = sealed;
			len = sealed_len;
		}
		bool alive = fz_client_send(c, buf, len);
		talloc_free(buf);
		if (!alive)
			break;
	}
	fz_client_free(c);
	return 0;
}
