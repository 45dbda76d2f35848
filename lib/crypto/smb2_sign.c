#include "config.h"
#include "lib/crypto/smb2_sign.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "lib/crypto/evp_cache.h"
#include "lib/wire.h"

#define SMB2_HDR_LEN 64
#define SMB2_HDR_COMMAND_OFF 12
#define SMB2_HDR_FLAGS_OFF 16
#define SMB2_HDR_MESSAGE_ID_OFF 24
#define SMB2_HDR_SIGNATURE_OFF 48
#define SMB2_FLAGS_SERVER_TO_REDIR 0x00000001u
#define SMB2_CANCEL 0x000C

static bool iov_valid(const struct iovec *iov, int iovcnt)
{
	if (iovcnt < 0 || (iovcnt > 0 && iov == NULL))
		return false;
	for (int i = 0; i < iovcnt; i++)
		if (iov[i].iov_len > 0 && iov[i].iov_base == NULL)
			return false;
	return true;
}

/* One MAC over the concatenated iov list; per-call context (cheap to make). */
static bool mac_iov(EVP_MAC *mac, const OSSL_PARAM *params,
		    const uint8_t *key, size_t key_len,
		    const struct iovec *iov, int iovcnt,
		    uint8_t *out, size_t out_len)
{
	/* EVP_MAC_init() reads a NULL key as "keep the old key": never pass one. */
	static const uint8_t empty_key[1];
	EVP_MAC_CTX *ctx;
	size_t got = 0;
	bool ok = false;

	if (mac == NULL || !iov_valid(iov, iovcnt) || (key == NULL && key_len > 0))
		return false;
	ctx = EVP_MAC_CTX_new(mac);
	if (ctx == NULL)
		return false;
	if (EVP_MAC_init(ctx, key ? key : empty_key, key_len, params) != 1)
		goto out;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len == 0)
			continue;
		if (EVP_MAC_update(ctx, iov[i].iov_base, iov[i].iov_len) != 1)
			goto out;
	}
	if (EVP_MAC_final(ctx, out, &got, out_len) != 1 || got != out_len)
		goto out;
	ok = true;
out:
	EVP_MAC_CTX_free(ctx);
	if (!ok)
		OPENSSL_cleanse(out, out_len);
	return ok;
}

bool smb2_hmac_sha256_iov(const uint8_t *key, size_t key_len,
			  const struct iovec *iov, int iovcnt, uint8_t out[32])
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};

	return mac_iov(crypto_evp()->hmac, params, key, key_len, iov, iovcnt, out, 32);
}

bool smb2_aes_cmac_iov(const uint8_t key[16], const struct iovec *iov,
		       int iovcnt, uint8_t out[16])
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)"AES-128-CBC", 0),
		OSSL_PARAM_construct_end(),
	};

	if (key == NULL)
		return false;
	return mac_iov(crypto_evp()->cmac, params, key, 16, iov, iovcnt, out, 16);
}

bool smb2_aes_gmac_iov(const uint8_t key[16], const uint8_t nonce[12],
		       const struct iovec *iov, int iovcnt, uint8_t out[16])
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)"AES-128-GCM", 0),
		OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_IV, (void *)nonce, 12),
		OSSL_PARAM_construct_end(),
	};

	if (key == NULL || nonce == NULL)
		return false;
	return mac_iov(crypto_evp()->gmac, params, key, 16, iov, iovcnt, out, 16);
}

/* Copies the first n bytes of the iov list; false if the list is shorter. */
static bool iov_prefix(const struct iovec *iov, int iovcnt, uint8_t *dst, size_t n)
{
	size_t done = 0;

	for (int i = 0; i < iovcnt && done < n; i++) {
		size_t take = iov[i].iov_len;

		if (take > n - done)
			take = n - done;
		if (take > 0)
			memcpy(dst + done, iov[i].iov_base, take);
		done += take;
	}
	return done == n;
}

/* MS-SMB2 3.1.4.1: the AES-GMAC nonce is MessageId || role/cancel bits. */
void smb2_sign_gmac_nonce(const uint8_t hdr[64], uint8_t nonce[12])
{
	uint32_t bits = 0;

	/* The sender is the server iff the header says server-to-redirector. */
	if (le32(hdr + SMB2_HDR_FLAGS_OFF) & SMB2_FLAGS_SERVER_TO_REDIR)
		bits |= 1u;
	if (le16(hdr + SMB2_HDR_COMMAND_OFF) == SMB2_CANCEL)
		bits |= 2u;
	memcpy(nonce, hdr + SMB2_HDR_MESSAGE_ID_OFF, 8);
	put_le32(nonce + 8, bits);
}

/*
 * A MAC context for one message of algo whose 64-byte header is hdr, the
 * header taken in with its Signature field read as zeros (3.1.5.1).
 */
static EVP_MAC_CTX *sign_begin(enum smb2_sign_algo algo, const uint8_t key[16], const uint8_t hdr[SMB2_HDR_LEN])
{
	static const uint8_t zeros[SMB2_SIGNATURE_LEN];
	uint8_t nonce[12];
	OSSL_PARAM params[3];
	EVP_MAC *mac;

	switch (algo) {
	case SMB2_SIGN_HMAC_SHA256:
		/* MS-SMB2 3.1.4.1: HMAC-SHA256 with the session key, first 16 bytes of the 32. */
		mac = crypto_evp()->hmac;
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
		params[1] = OSSL_PARAM_construct_end();
		break;
	case SMB2_SIGN_AES_CMAC:
		mac = crypto_evp()->cmac;
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)"AES-128-CBC", 0);
		params[1] = OSSL_PARAM_construct_end();
		break;
	case SMB2_SIGN_AES_GMAC:
		smb2_sign_gmac_nonce(hdr, nonce);
		mac = crypto_evp()->gmac;
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)"AES-128-GCM", 0);
		params[1] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_IV, nonce, sizeof(nonce));
		params[2] = OSSL_PARAM_construct_end();
		break;
	default:
		return NULL;
	}
	EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
	if (ctx == NULL)
		return NULL;
	if (EVP_MAC_init(ctx, key, 16, params) != 1 || EVP_MAC_update(ctx, hdr, SMB2_HDR_SIGNATURE_OFF) != 1 ||
	    EVP_MAC_update(ctx, zeros, sizeof(zeros)) != 1 ||
	    EVP_MAC_update(ctx, hdr + SMB2_HDR_SIGNATURE_OFF + SMB2_SIGNATURE_LEN,
			   SMB2_HDR_LEN - SMB2_HDR_SIGNATURE_OFF - SMB2_SIGNATURE_LEN) != 1) {
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* The signature: the MAC's first 16 bytes. Frees ctx. */
static bool sign_end(EVP_MAC_CTX *ctx, uint8_t sig[SMB2_SIGNATURE_LEN])
{
	uint8_t full[32];
	size_t got = 0;
	bool ok = EVP_MAC_final(ctx, full, &got, sizeof(full)) == 1 && got >= SMB2_SIGNATURE_LEN;

	if (ok)
		memcpy(sig, full, SMB2_SIGNATURE_LEN);
	OPENSSL_cleanse(full, sizeof(full));
	EVP_MAC_CTX_free(ctx);
	return ok;
}

bool smb2_sign_iov(enum smb2_sign_algo algo, const uint8_t key[16],
		   const struct iovec *iov, int iovcnt, uint8_t sig_out[16])
{
	uint8_t hdr[SMB2_HDR_LEN];
	EVP_MAC_CTX *ctx;

	if (sig_out == NULL)
		return false;
	memset(sig_out, 0, SMB2_SIGNATURE_LEN);
	if (key == NULL || !iov_valid(iov, iovcnt) ||
	    !iov_prefix(iov, iovcnt, hdr, sizeof(hdr)) ||
	    (ctx = sign_begin(algo, key, hdr)) == NULL)
		return false;
	/* The rest of the message, after the header's 64 bytes. */
	size_t skip = SMB2_HDR_LEN;
	for (int i = 0; i < iovcnt; i++) {
		size_t len = iov[i].iov_len;
		size_t from = skip < len ? skip : len;

		skip -= from;
		if (len > from && EVP_MAC_update(ctx, (const uint8_t *)iov[i].iov_base + from, len - from) != 1) {
			EVP_MAC_CTX_free(ctx);
			return false;
		}
	}
	if (!sign_end(ctx, sig_out)) {
		memset(sig_out, 0, SMB2_SIGNATURE_LEN);
		return false;
	}
	return true;
}

struct smb2_sign_stream {
	EVP_MAC_CTX *ctx;
};

struct smb2_sign_stream *smb2_sign_stream_begin(enum smb2_sign_algo algo, const uint8_t key[16],
						const uint8_t hdr[64])
{
	if (key == NULL || hdr == NULL)
		return NULL;
	struct smb2_sign_stream *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->ctx = sign_begin(algo, key, hdr);
	if (s->ctx == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

bool smb2_sign_stream_update(struct smb2_sign_stream *s, const uint8_t *p, size_t len)
{
	return len == 0 || (p != NULL && EVP_MAC_update(s->ctx, p, len) == 1);
}

bool smb2_sign_stream_end(struct smb2_sign_stream *s, const uint8_t expected[16])
{
	uint8_t sig[SMB2_SIGNATURE_LEN];
	EVP_MAC_CTX *ctx = s->ctx;

	free(s);
	bool ok = sign_end(ctx, sig) && expected != NULL && CRYPTO_memcmp(sig, expected, sizeof(sig)) == 0;
	OPENSSL_cleanse(sig, sizeof(sig));
	return ok;
}

void smb2_sign_stream_abandon(struct smb2_sign_stream *s)
{
	if (s == NULL)
		return;
	EVP_MAC_CTX_free(s->ctx);
	free(s);
}

bool smb2_sign_verify_iov(enum smb2_sign_algo algo, const uint8_t key[16],
			  const struct iovec *iov, int iovcnt,
			  const uint8_t expected[16])
{
	uint8_t sig[SMB2_SIGNATURE_LEN];
	bool ok;

	if (expected == NULL)
		return false;
	ok = smb2_sign_iov(algo, key, iov, iovcnt, sig) &&
	     CRYPTO_memcmp(sig, expected, sizeof(sig)) == 0;
	OPENSSL_cleanse(sig, sizeof(sig));
	return ok;
}
