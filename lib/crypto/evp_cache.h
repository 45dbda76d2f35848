/*
 * OpenSSL algorithm objects fetched once per process (internal to
 * lib/crypto). Fetching is the expensive part of EVP; the fetched objects
 * are immutable and reference counted, so every thread may share them.
 */
#ifndef PORTHOS_CRYPTO_EVP_CACHE_H
#define PORTHOS_CRYPTO_EVP_CACHE_H

#include <openssl/evp.h>

struct crypto_evp {
	EVP_MAC *hmac;
	EVP_MAC *cmac;
	EVP_MAC *gmac;
	EVP_MD *sha512;
	EVP_CIPHER *aes128_ccm;
	EVP_CIPHER *aes128_gcm;
	EVP_CIPHER *aes256_ccm;
	EVP_CIPHER *aes256_gcm;
	/* GCM's pieces, for a message sealed in parts (gcm_parts.c) */
	EVP_CIPHER *aes128_ctr;
	EVP_CIPHER *aes256_ctr;
	EVP_CIPHER *aes128_ecb;
	EVP_CIPHER *aes256_ecb;
};

/*
 * The process-wide set, fetched on first use. A member is NULL when the
 * loaded providers lack that algorithm; callers check the one they need.
 */
const struct crypto_evp *crypto_evp(void);

#endif
