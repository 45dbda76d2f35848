#include "config.h"
#include "lib/crypto/evp_cache.h"

#include <pthread.h>

#include "lib/log.h"

static struct crypto_evp evp;
static pthread_once_t evp_once = PTHREAD_ONCE_INIT;

static void evp_fetch_all(void)
{
	evp.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	evp.cmac = EVP_MAC_fetch(NULL, "CMAC", NULL);
	evp.gmac = EVP_MAC_fetch(NULL, "GMAC", NULL);
	evp.sha512 = EVP_MD_fetch(NULL, "SHA512", NULL);
	evp.aes128_ccm = EVP_CIPHER_fetch(NULL, "AES-128-CCM", NULL);
	evp.aes128_gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	evp.aes256_ccm = EVP_CIPHER_fetch(NULL, "AES-256-CCM", NULL);
	evp.aes256_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	/* Optional: without them a message is sealed in one pass. */
	evp.aes128_ctr = EVP_CIPHER_fetch(NULL, "AES-128-CTR", NULL);
	evp.aes256_ctr = EVP_CIPHER_fetch(NULL, "AES-256-CTR", NULL);
	evp.aes128_ecb = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
	evp.aes256_ecb = EVP_CIPHER_fetch(NULL, "AES-256-ECB", NULL);

	if (!evp.hmac || !evp.cmac || !evp.gmac || !evp.sha512 ||
	    !evp.aes128_ccm || !evp.aes128_gcm || !evp.aes256_ccm || !evp.aes256_gcm)
		LOG_ERR("OpenSSL lacks an algorithm SMB2/3 needs "
			"(HMAC, CMAC, GMAC, SHA512, AES-CCM or AES-GCM)");
}

const struct crypto_evp *crypto_evp(void)
{
	pthread_once(&evp_once, evp_fetch_all);
	return &evp;
}
