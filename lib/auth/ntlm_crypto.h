/*
 * The NTLM cryptographic primitives (MS-NLMP 3.3, 3.4), over OpenSSL 3
 * EVP interfaces. MD4 and RC4 live in OpenSSL's "legacy" provider, which
 * ntlm_crypto_init() loads (with "default") once per process.
 *
 * Internal to lib/auth; exported for the unit tests.
 */
#ifndef PORTHOS_AUTH_NTLM_CRYPTO_H
#define PORTHOS_AUTH_NTLM_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

/* Loads the "legacy" and "default" providers; idempotent. */
bool ntlm_crypto_init(void);

bool ntlm_md4(const void *data, size_t len, uint8_t out[16]);
bool ntlm_md5(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[16]);
/* HMAC-MD5 over the concatenation of up to three parts (NULL/0 = absent). */
bool ntlm_hmac_md5(const uint8_t *key, size_t key_len,
		   const void *a, size_t alen, const void *b, size_t blen,
		   const void *c, size_t clen, uint8_t out[16]);

/* A stateful RC4 handle (MS-NLMP 3.4.5.3): keystream continues across calls. */
struct ntlm_rc4;
struct ntlm_rc4 *ntlm_rc4_new(TALLOC_CTX *mem, const uint8_t *key, size_t key_len);
bool ntlm_rc4_apply(struct ntlm_rc4 *h, const uint8_t *in, uint8_t *out, size_t len);
/* One-shot RC4 with a fresh key (key exchange, MS-NLMP 3.1.5.1.2). */
bool ntlm_rc4_oneshot(const uint8_t *key, size_t key_len, const uint8_t *in,
		      uint8_t *out, size_t len);

/* Upper-cases one UTF-16 code unit the way Windows compares account names. */
uint16_t ntlm_upcase_unit(uint16_t c);
/* UTF-16LE, upper-cased, of a UTF-8 string; NULL if the UTF-8 is invalid. */
uint8_t *ntlm_utf16_upper(TALLOC_CTX *mem, const char *utf8, size_t *out_len);

/* NTOWFv1 = MD4(UTF-16LE(password)) (MS-NLMP 3.3.1). */
bool ntlm_nt_hash(const char *password, uint8_t out[16]);
/* NTOWFv2 = HMAC_MD5(NT hash, UTF16(UPPER(user)) || UTF16(domain)) (3.3.2). */
bool ntlm_ntowfv2(const uint8_t nt_hash[16], const char *user, const char *domain,
		  uint8_t out[16]);
/* Same, with user and domain already as UTF-16LE (user not yet upper-cased). */
bool ntlm_ntowfv2_utf16(const uint8_t nt_hash[16], const uint8_t *user16, size_t user_len,
			const uint8_t *dom16, size_t dom_len, uint8_t out[16]);

/* SIGNKEY and SEALKEY (MS-NLMP 3.4.5.2, 3.4.5.3), extended session security. */
bool ntlm_sign_key(const uint8_t exported[16], bool client_to_server, uint8_t out[16]);
bool ntlm_seal_key(const uint8_t exported[16], uint32_t flags, bool client_to_server,
		   uint8_t out[16]);

/*
 * An NTLMSSP_MESSAGE_SIGNATURE with extended session security (MS-NLMP
 * 3.4.4.2): Version 1, HMAC_MD5(SigningKey, SeqNum || msg)[0..7] sealed
 * with 'seal' when key exchange was negotiated (seal NULL otherwise), SeqNum.
 */
bool ntlm_make_signature(const uint8_t sign_key[16], struct ntlm_rc4 *seal, uint32_t seq,
			 const uint8_t *msg, size_t len, uint8_t out[16]);

#endif
