/*
 * SMB 3.x message encryption ciphers (MS-SMB2 3.1.4.3, 3.1.5.1): AES-CCM
 * and AES-GCM over OpenSSL EVP_CIPHER, 16-byte tag. Thread-safe.
 *
 * These are the bare AEAD operations; the caller (the transform-header
 * code) builds the nonce and passes the AAD, which for SMB2 is the
 * TRANSFORM_HEADER from its Nonce field on (32 bytes, MS-SMB2 3.1.4.3).
 */
#ifndef PORTHOS_CRYPTO_SMB2_AEAD_H
#define PORTHOS_CRYPTO_SMB2_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Cipher IDs of SMB2_ENCRYPTION_CAPABILITIES (MS-SMB2 2.2.3.1.2). */
enum smb2_cipher {
	SMB2_CIPHER_AES128_CCM = 1,
	SMB2_CIPHER_AES128_GCM = 2,
	SMB2_CIPHER_AES256_CCM = 3,
	SMB2_CIPHER_AES256_GCM = 4,
};

#define SMB2_AEAD_TAG_LEN 16

/* 16 or 32; 0 for an unknown cipher. */
size_t smb2_cipher_key_len(enum smb2_cipher c);
/* 11 for CCM, 12 for GCM (the leading bytes of the 16-byte Nonce field); 0 if unknown. */
size_t smb2_cipher_nonce_len(enum smb2_cipher c);

/*
 * Encrypts the payload (the iov list) in place and writes the tag. key is
 * smb2_cipher_key_len(c) bytes, nonce smb2_cipher_nonce_len(c) bytes.
 * Payload and AAD are each limited to INT_MAX bytes (an OpenSSL limit);
 * CCM also needs a non-empty payload. A multi-element list under CCM is
 * gathered into a temporary buffer (CCM must see its data in one call).
 */
bool smb2_aead_encrypt(enum smb2_cipher c, const uint8_t *key, const uint8_t *nonce,
		       const uint8_t *aad, size_t aad_len, struct iovec *iov, int iovcnt,
		       uint8_t tag[16]);

/*
 * Encrypts the payload gathered from 'in' into 'out' (room for all of it),
 * leaving 'in' untouched: no separate copy of the plaintext is made for
 * GCM; CCM, which takes its payload whole, is gathered into 'out' first.
 */
bool smb2_aead_encrypt_to(enum smb2_cipher c, const uint8_t *key, const uint8_t *nonce,
			  const uint8_t *aad, size_t aad_len, const struct iovec *in, int incnt,
			  uint8_t *out, uint8_t tag[16]);

/*
 * Decrypts in place and checks the tag. When decryption fails (a tag
 * mismatch included) the payload is zeroed, so unauthenticated plaintext
 * is never left behind for a caller that ignores the result; when the
 * arguments are rejected up front it is left as it was.
 */
bool smb2_aead_decrypt(enum smb2_cipher c, const uint8_t *key, const uint8_t *nonce,
		       const uint8_t *aad, size_t aad_len, struct iovec *iov, int iovcnt,
		       const uint8_t tag[16]);

/*
 * GCM decryption in steps, for a message opened as it arrives: begin()
 * with the key, nonce and AAD; update() decrypts the next bytes of the
 * payload in place, in order, in pieces of any size; end() checks the tag
 * and frees the opener (abandon() frees it unchecked). The plaintext
 * update() leaves is not authenticated until end() says so: the caller
 * keeps it from any use before then, and zeroes it if end() fails. Only
 * GCM can do this (CCM needs its payload whole): NULL for CCM. One step
 * at a time, on any thread.
 */
struct smb2_aead_opener;
struct smb2_aead_opener *smb2_aead_open_begin(enum smb2_cipher c, const uint8_t *key, const uint8_t *nonce,
					      const uint8_t *aad, size_t aad_len);
bool smb2_aead_open_update(struct smb2_aead_opener *o, uint8_t *buf, size_t len);
bool smb2_aead_open_end(struct smb2_aead_opener *o, const uint8_t tag[16]);
void smb2_aead_open_abandon(struct smb2_aead_opener *o);

#endif
