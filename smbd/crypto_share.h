/*
 * A large GCM message sealed or opened in parts, by the worker that has it
 * and the idle workers beside it (lib/crypto/gcm_parts.h,
 * smbd_iopool_share()): one 1 MiB READ sealed at queue depth one gets
 * every core, not one; so does a large AES-GMAC signature. Run on a
 * worker, never on the loop.
 */
#ifndef PORTHOS_SMBD_CRYPTO_SHARE_H
#define PORTHOS_SMBD_CRYPTO_SHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "lib/crypto/smb2_aead.h"

struct smbd_iopool;

/* Below this a message is worked on in one pass: handing out parts costs
 * more than it saves. */
#define SMBD_CRYPTO_SHARE_MIN (256u * 1024)

/* Whether a message of len bytes under cipher c is worth sharing in pool
 * (GCM, large, and another core and worker to share with). */
bool smbd_crypto_share_wanted(const struct smbd_iopool *pool, enum smb2_cipher c, size_t len);

/* What smb2_aead_encrypt_to() does, in parts. */
bool smbd_crypto_share_seal(struct smbd_iopool *pool, enum smb2_cipher c, const uint8_t *key, const uint8_t *nonce,
			    const uint8_t *aad, size_t aad_len, const struct iovec *in, int incnt, uint8_t *out,
			    uint8_t tag[16]);

/* What smb2_aead_decrypt() does to one buffer, in parts: a tag that does
 * not match leaves the buffer zeroed. */
bool smbd_crypto_share_open(struct smbd_iopool *pool, enum smb2_cipher c, const uint8_t *key, const uint8_t *nonce,
			    const uint8_t *aad, size_t aad_len, uint8_t *buf, size_t len, const uint8_t tag[16]);

/* What smb2_aes_gmac_iov() does, in parts: the AES-128-GMAC of the
 * gathered message in (an SMB 3.1.1 signature, 3.1.4.1). Wanted when
 * smbd_crypto_share_wanted() says so of SMB2_CIPHER_AES128_GCM. */
bool smbd_crypto_share_gmac(struct smbd_iopool *pool, const uint8_t key[16], const uint8_t nonce[12],
			    const struct iovec *in, int incnt, uint8_t sig[16]);

#endif
