/*
 * SMB2/3 message signatures (MS-SMB2 3.1.4.1, 3.1.5.1) and the MACs under
 * them, over OpenSSL EVP_MAC. Thread-safe.
 */
#ifndef PORTHOS_CRYPTO_SMB2_SIGN_H
#define PORTHOS_CRYPTO_SMB2_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* SigningAlgorithmId values of SMB2_SIGNING_CAPABILITIES (MS-SMB2 2.2.3.1.7). */
enum smb2_sign_algo {
	SMB2_SIGN_HMAC_SHA256 = 0,
	SMB2_SIGN_AES_CMAC = 1,
	SMB2_SIGN_AES_GMAC = 2,
};

#define SMB2_SIGNATURE_LEN 16

/*
 * The signature of one SMB2 message (one element of a compound chain,
 * padding included) given as an iovec list. The list starts with the
 * 64-byte SMB2 header, whose Signature field (offset 48) the caller has
 * already zeroed; the header may be split across elements.
 *
 * HMAC-SHA256 (2.0.2/2.1): key is the 16-byte session key, the signature
 * the first 16 bytes of the HMAC. AES-CMAC and AES-GMAC: key is the 16-byte
 * signing key; the GMAC nonce is built from the header as 3.1.4.1 says.
 * Returns false on bad arguments, a message shorter than a header, or an
 * OpenSSL failure (sig_out is then zeroed).
 */
bool smb2_sign_iov(enum smb2_sign_algo algo, const uint8_t key[16],
		   const struct iovec *iov, int iovcnt, uint8_t sig_out[16]);

/*
 * Verifies a received message (MS-SMB2 3.1.5.1): 'expected' is the
 * Signature the sender put in the header, saved by the caller before it
 * zeroed the field. Constant-time comparison.
 */
bool smb2_sign_verify_iov(enum smb2_sign_algo algo, const uint8_t key[16],
			  const struct iovec *iov, int iovcnt,
			  const uint8_t expected[16]);

/* The AES-GMAC nonce of the message whose header is hdr (3.1.4.1). */
void smb2_sign_gmac_nonce(const uint8_t hdr[64], uint8_t nonce[12]);

/*
 * A received message's signature checked as its bytes arrive: begin()
 * takes its 64-byte header (the Signature field read as zeros), update()
 * the bytes after the header in order, in pieces of any size, and end()
 * compares with expected (constant-time) and frees the stream; abandon()
 * frees it unchecked (NULL is fine). begin() is NULL on bad arguments or
 * an OpenSSL failure. Any thread, one at a time per stream.
 */
struct smb2_sign_stream;
struct smb2_sign_stream *smb2_sign_stream_begin(enum smb2_sign_algo algo, const uint8_t key[16],
						const uint8_t hdr[64]);
bool smb2_sign_stream_update(struct smb2_sign_stream *s, const uint8_t *p, size_t len);
bool smb2_sign_stream_end(struct smb2_sign_stream *s, const uint8_t expected[16]);
void smb2_sign_stream_abandon(struct smb2_sign_stream *s);

/* The MACs alone, for the KDF and for known-answer tests. */

/* HMAC-SHA256 (RFC 2104) of the concatenated iov list; any key length. */
bool smb2_hmac_sha256_iov(const uint8_t *key, size_t key_len,
			  const struct iovec *iov, int iovcnt, uint8_t out[32]);
/* AES-128-CMAC (RFC 4493). */
bool smb2_aes_cmac_iov(const uint8_t key[16], const struct iovec *iov,
		       int iovcnt, uint8_t out[16]);
/* AES-128-GMAC (RFC 4543): GCM tag with the iov list as AAD, no plaintext. */
bool smb2_aes_gmac_iov(const uint8_t key[16], const uint8_t nonce[12],
		       const struct iovec *iov, int iovcnt, uint8_t out[16]);

#endif
