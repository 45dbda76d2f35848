#include "config.h"
#include "lib/crypto/smb2_kdf.h"

#include <string.h>
#include <sys/uio.h>

#include <openssl/crypto.h>

#include "lib/crypto/smb2_sign.h"

#define SHA256_LEN 32

/* SP800-108 5.1: K(i) = PRF(KI, [i]_2 || Label || 0x00 || Context || [L]_2) */
bool smb2_kdf(const uint8_t *key, size_t key_len, const void *label, size_t label_len,
	      const void *context, size_t context_len, uint8_t *out, size_t out_len)
{
	static const uint8_t separator[1] = { 0x00 };
	uint8_t counter_be[4];
	uint8_t l_be[4];
	uint8_t block[SHA256_LEN];
	uint32_t l_bits;
	size_t done = 0;
	bool ok = true;

	if (out == NULL || out_len == 0 || out_len > UINT32_MAX / 8 ||
	    (key == NULL && key_len > 0) || (label == NULL && label_len > 0) ||
	    (context == NULL && context_len > 0))
		return false;

	/* r = 32 and [L]_2 are 32-bit big-endian (SP800-108 5). */
	l_bits = (uint32_t)(out_len * 8);
	l_be[0] = (uint8_t)(l_bits >> 24);
	l_be[1] = (uint8_t)(l_bits >> 16);
	l_be[2] = (uint8_t)(l_bits >> 8);
	l_be[3] = (uint8_t)l_bits;

	for (uint32_t i = 1; done < out_len; i++) {
		struct iovec iov[5] = {
			{ counter_be, sizeof(counter_be) },
			{ (void *)label, label_len },
			{ (void *)separator, sizeof(separator) },
			{ (void *)context, context_len },
			{ l_be, sizeof(l_be) },
		};
		size_t take = out_len - done;

		counter_be[0] = (uint8_t)(i >> 24);
		counter_be[1] = (uint8_t)(i >> 16);
		counter_be[2] = (uint8_t)(i >> 8);
		counter_be[3] = (uint8_t)i;
		if (!smb2_hmac_sha256_iov(key, key_len, iov, 5, block)) {
			ok = false;
			break;
		}
		if (take > sizeof(block))
			take = sizeof(block);
		memcpy(out + done, block, take);
		done += take;
	}
	OPENSSL_cleanse(block, sizeof(block));
	if (!ok)
		OPENSSL_cleanse(out, out_len);
	return ok;
}
