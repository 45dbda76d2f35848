/*
 * AES-GCM over a payload cut into parts, each sealed or opened on its own
 * (on different threads), then joined into the tag one pass would give:
 * one large message uses every core (issue #4; the wire sees no
 * difference).
 *
 * GCM is CTR encryption plus a GHASH over the ciphertext (NIST SP
 * 800-38D). A part's CTR stream starts at its own block counter, and its
 * GHASH is a polynomial in H that the join shifts into place by a power of
 * H. A part is worked on by OpenSSL's AES-CTR and GMAC (GCM with the part
 * as its only AAD), which are each about twice as fast as GCM in one pass,
 * so a part costs about what GCM costs on it. Thread-safe; GCM ciphers only.
 */
#ifndef PORTHOS_CRYPTO_GCM_PARTS_H
#define PORTHOS_CRYPTO_GCM_PARTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "lib/crypto/smb2_aead.h"

/* What a part hands to the join: opaque, 16 bytes. */
struct smb2_gcm_part {
	size_t len;
	uint8_t hash[16];
};

/*
 * Seals (enc) or opens one part: the payload bytes [offset, offset + len).
 * offset is a multiple of 16, and so is len unless the part is the last.
 * Sealing reads them from the gathered list in (which may be longer) and
 * writes the ciphertext to out (room for len); opening decrypts out in
 * place (in is NULL) and leaves the plaintext unauthenticated until the
 * joined tag matches the message's (CRYPTO_memcmp). nonce is the
 * message's 12 bytes.
 */
bool smb2_gcm_part_run(bool enc, enum smb2_cipher c, const uint8_t *key, const uint8_t *nonce, size_t offset,
		       const struct iovec *in, int incnt, uint8_t *out, size_t len, struct smb2_gcm_part *part);

/* The tag of the whole message from its parts, in payload order. */
bool smb2_gcm_parts_tag(enum smb2_cipher c, const uint8_t *key, const uint8_t *nonce, const uint8_t *aad,
			size_t aad_len, const struct smb2_gcm_part *parts, size_t nparts, uint8_t tag[16]);

/*
 * AES-128-GMAC, the SMB 3.1.1 signature (MS-SMB2 3.1.4.1), in parts the
 * same way: the message is GMAC's AAD. A part hashes the message bytes
 * [offset, offset + len) of the gathered list in; offset is a multiple of
 * 16, and so is len unless the part is the last. The join gives the
 * GMAC of the whole message under nonce.
 */
bool smb2_gmac_part_run(const uint8_t key[16], const uint8_t nonce[12], size_t offset, const struct iovec *in,
			int incnt, size_t len, struct smb2_gcm_part *part);
bool smb2_gmac_parts_tag(const uint8_t key[16], const uint8_t nonce[12], const struct smb2_gcm_part *parts,
			 size_t nparts, uint8_t tag[16]);

/* For tests: the field arithmetic without the CPU's carry-less multiply. */
void smb2_gcm_parts_portable(bool on);

#endif
