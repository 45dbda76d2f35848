#include "config.h"
#include "lib/crypto/smb2_preauth.h"

#include <string.h>

#include <openssl/evp.h>

#include "lib/crypto/evp_cache.h"

bool smb2_preauth_update(uint8_t hash[64], const struct iovec *iov, int iovcnt)
{
	const EVP_MD *md = crypto_evp()->sha512;
	uint8_t next[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_MD_CTX *ctx;
	bool ok = false;

	if (hash == NULL || md == NULL || iovcnt < 0 || (iovcnt > 0 && iov == NULL))
		return false;
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return false;
	if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, hash, SMB2_PREAUTH_HASH_LEN) != 1)
		goto out;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len == 0)
			continue;
		if (iov[i].iov_base == NULL ||
		    EVP_DigestUpdate(ctx, iov[i].iov_base, iov[i].iov_len) != 1)
			goto out;
	}
	if (EVP_DigestFinal_ex(ctx, next, &len) != 1 || len != SMB2_PREAUTH_HASH_LEN)
		goto out;
	memcpy(hash, next, SMB2_PREAUTH_HASH_LEN);
	ok = true;
out:
	EVP_MD_CTX_free(ctx);
	return ok;
}
