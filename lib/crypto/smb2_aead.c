#include "config.h"
#include "lib/crypto/smb2_aead.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "lib/crypto/evp_cache.h"

static const EVP_CIPHER *aead_cipher(enum smb2_cipher c, bool *is_ccm)
{
	const struct crypto_evp *e = crypto_evp();

	switch (c) {
	case SMB2_CIPHER_AES128_CCM:
		*is_ccm = true;
		return e->aes128_ccm;
	case SMB2_CIPHER_AES128_GCM:
		*is_ccm = false;
		return e->aes128_gcm;
	case SMB2_CIPHER_AES256_CCM:
		*is_ccm = true;
		return e->aes256_ccm;
	case SMB2_CIPHER_AES256_GCM:
		*is_ccm = false;
		return e->aes256_gcm;
	}
	return NULL;
}

size_t smb2_cipher_key_len(enum smb2_cipher c)
{
	switch (c) {
	case SMB2_CIPHER_AES128_CCM:
	case SMB2_CIPHER_AES128_GCM:
		return 16;
	case SMB2_CIPHER_AES256_CCM:
	case SMB2_CIPHER_AES256_GCM:
		return 32;
	}
	return 0;
}

/* MS-SMB2 2.2.41: CCM uses 11 bytes of the Nonce field, GCM 12. */
size_t smb2_cipher_nonce_len(enum smb2_cipher c)
{
	switch (c) {
	case SMB2_CIPHER_AES128_CCM:
	case SMB2_CIPHER_AES256_CCM:
		return 11;
	case SMB2_CIPHER_AES128_GCM:
	case SMB2_CIPHER_AES256_GCM:
		return 12;
	}
	return 0;
}

/* Total payload length, or false if an element is invalid or it exceeds INT_MAX. */
static bool iov_total(const struct iovec *iov, int iovcnt, size_t *total)
{
	size_t sum = 0;

	if (iovcnt < 0 || (iovcnt > 0 && iov == NULL))
		return false;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > 0 && iov[i].iov_base == NULL)
			return false;
		if (__builtin_add_overflow(sum, iov[i].iov_len, &sum) || sum > INT_MAX)
			return false;
	}
	*total = sum;
	return true;
}

static void iov_zero(struct iovec *iov, int iovcnt)
{
	for (int i = 0; i < iovcnt; i++)
		if (iov[i].iov_len > 0)
			OPENSSL_cleanse(iov[i].iov_base, iov[i].iov_len);
}

/*
 * CCM processes the payload in one update call, so a split payload goes
 * through one contiguous buffer; a single element is worked on in place.
 */
static bool ccm_payload(EVP_CIPHER_CTX *ctx, struct iovec *iov, int iovcnt, size_t total)
{
	uint8_t *buf;
	uint8_t *p;
	int outl = 0;
	bool ok;

	if (iovcnt == 1) {
		return EVP_CipherUpdate(ctx, iov[0].iov_base, &outl,
					iov[0].iov_base, (int)total) == 1 &&
		       (size_t)outl == total;
	}
	buf = malloc(total);
	if (buf == NULL)
		return false;
	p = buf;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > 0)
			memcpy(p, iov[i].iov_base, iov[i].iov_len);
		p += iov[i].iov_len;
	}
	ok = EVP_CipherUpdate(ctx, buf, &outl, buf, (int)total) == 1 &&
	     (size_t)outl == total;
	if (ok) {
		p = buf;
		for (int i = 0; i < iovcnt; i++) {
			if (iov[i].iov_len > 0)
				memcpy(iov[i].iov_base, p, iov[i].iov_len);
			p += iov[i].iov_len;
		}
	}
	OPENSSL_clear_free(buf, total);
	return ok;
}

static bool gcm_payload(EVP_CIPHER_CTX *ctx, struct iovec *iov, int iovcnt)
{
	for (int i = 0; i < iovcnt; i++) {
		int outl = 0;

		if (iov[i].iov_len == 0)
			continue;
		/* GCM is a stream mode here: output length equals input length. */
		if (EVP_CipherUpdate(ctx, iov[i].iov_base, &outl, iov[i].iov_base,
				     (int)iov[i].iov_len) != 1 ||
		    (size_t)outl != iov[i].iov_len)
			return false;
	}
	return true;
}

/*
 * Encrypting a gathered payload into one output buffer: GCM streams each
 * element straight into place (one pass over the data); CCM needs the
 * payload whole, so it is gathered into the output and sealed there.
 */
static bool gcm_payload_to(EVP_CIPHER_CTX *ctx, const struct iovec *in, int incnt, uint8_t *out)
{
	for (int i = 0; i < incnt; i++) {
		int outl = 0;

		if (in[i].iov_len == 0)
			continue;
		if (EVP_CipherUpdate(ctx, out, &outl, in[i].iov_base, (int)in[i].iov_len) != 1 ||
		    (size_t)outl != in[i].iov_len)
			return false;
		out += in[i].iov_len;
	}
	return true;
}

static void gather(const struct iovec *in, int incnt, uint8_t *out)
{
	for (int i = 0; i < incnt; i++) {
		if (in[i].iov_len > 0)
			memcpy(out, in[i].iov_base, in[i].iov_len);
		out += in[i].iov_len;
	}
}

/*
 * Encryption or decryption of iov in place, or (out != NULL, encryption
 * only) of iov into the contiguous buffer out.
 */
static bool aead_run_to(bool enc, enum smb2_cipher c, const uint8_t *key,
			const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
			struct iovec *iov, int iovcnt, uint8_t *out, uint8_t tag[16])
{
	bool is_ccm = false;
	const EVP_CIPHER *cipher = aead_cipher(c, &is_ccm);
	EVP_CIPHER_CTX *ctx;
	size_t total = 0;
	uint8_t final_buf[32];
	int outl = 0;
	bool ok = false;

	if (cipher == NULL || key == NULL || nonce == NULL || tag == NULL ||
	    (aad == NULL && aad_len > 0) || aad_len > INT_MAX ||
	    !iov_total(iov, iovcnt, &total))
		return false;
	if (is_ccm && total == 0)
		return false;

	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		return false;
	if (EVP_CipherInit_ex2(ctx, cipher, NULL, NULL, enc ? 1 : 0, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN,
				(int)smb2_cipher_nonce_len(c), NULL) != 1)
		goto out;
	/* CCM fixes the tag length (and on decrypt the tag) before the key. */
	if (is_ccm && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, SMB2_AEAD_TAG_LEN,
					  enc ? NULL : tag) != 1)
		goto out;
	if (EVP_CipherInit_ex2(ctx, NULL, key, nonce, enc ? 1 : 0, NULL) != 1)
		goto out;
	/* CCM encodes the payload length in its first block: give it first. */
	if (is_ccm && EVP_CipherUpdate(ctx, NULL, &outl, NULL, (int)total) != 1)
		goto out;
	if (aad_len > 0 && EVP_CipherUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1)
		goto out;

	if (is_ccm && out != NULL) {
		gather(iov, iovcnt, out);
		struct iovec whole = { out, total };
		if (!ccm_payload(ctx, &whole, 1, total) || EVP_CipherFinal_ex(ctx, final_buf, &outl) != 1)
			goto out;
	} else if (is_ccm) {
		/* CCM decryption checks the tag inside this update. */
		if (!ccm_payload(ctx, iov, iovcnt, total))
			goto out;
		if (enc && EVP_CipherFinal_ex(ctx, final_buf, &outl) != 1)
			goto out;
	} else {
		if (!(out != NULL ? gcm_payload_to(ctx, iov, iovcnt, out) : gcm_payload(ctx, iov, iovcnt)))
			goto out;
		if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG,
						SMB2_AEAD_TAG_LEN, tag) != 1)
			goto out;
		/* GCM decryption checks the tag here. */
		if (EVP_CipherFinal_ex(ctx, final_buf, &outl) != 1)
			goto out;
	}
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG,
				       SMB2_AEAD_TAG_LEN, tag) != 1)
		goto out;
	ok = true;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		if (out != NULL)
			OPENSSL_cleanse(out, total);
		else
			iov_zero(iov, iovcnt);
		if (enc)
			memset(tag, 0, SMB2_AEAD_TAG_LEN);
	}
	return ok;
}

static bool aead_run(bool enc, enum smb2_cipher c, const uint8_t *key,
		     const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
		     struct iovec *iov, int iovcnt, uint8_t tag[16])
{
	return aead_run_to(enc, c, key, nonce, aad, aad_len, iov, iovcnt, NULL, tag);
}

bool smb2_aead_encrypt(enum smb2_cipher c, const uint8_t *key, const uint8_t *nonce,
		       const uint8_t *aad, size_t aad_len, struct iovec *iov, int iovcnt,
		       uint8_t tag[16])
{
	return aead_run(true, c, key, nonce, aad, aad_len, iov, iovcnt, tag);
}

bool smb2_aead_encrypt_to(enum smb2_cipher c, const uint8_t *key, const uint8_t *nonce,
			  const uint8_t *aad, size_t aad_len, const struct iovec *in, int incnt,
			  uint8_t *out, uint8_t tag[16])
{
	if (out == NULL)
		return false;
	/* The input is only read; the cast serves the shared code path. */
	return aead_run_to(true, c, key, nonce, aad, aad_len, (struct iovec *)in, incnt, out, tag);
}

bool smb2_aead_decrypt(enum smb2_cipher c, const uint8_t *key, const uint8_t *nonce,
		       const uint8_t *aad, size_t aad_len, struct iovec *iov, int iovcnt,
		       const uint8_t tag[16])
{
	return aead_run(false, c, key, nonce, aad, aad_len, iov, iovcnt, (uint8_t *)tag);
}

/* ---- GCM decryption in steps ---- */

struct smb2_aead_opener {
	EVP_CIPHER_CTX *ctx;
};

struct smb2_aead_opener *smb2_aead_open_begin(enum smb2_cipher c, const uint8_t *key, const uint8_t *nonce,
					      const uint8_t *aad, size_t aad_len)
{
	bool is_ccm = false;
	const EVP_CIPHER *cipher = aead_cipher(c, &is_ccm);
	int outl = 0;
	if (cipher == NULL || is_ccm || key == NULL || nonce == NULL || (aad == NULL && aad_len > 0) ||
	    aad_len > INT_MAX)
		return NULL;
	struct smb2_aead_opener *o = calloc(1, sizeof(*o));
	if (o == NULL)
		return NULL;
	o->ctx = EVP_CIPHER_CTX_new();
	if (o->ctx == NULL || EVP_DecryptInit_ex2(o->ctx, cipher, NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(o->ctx, EVP_CTRL_AEAD_SET_IVLEN, (int)smb2_cipher_nonce_len(c), NULL) != 1 ||
	    EVP_DecryptInit_ex2(o->ctx, NULL, key, nonce, NULL) != 1 ||
	    (aad_len > 0 && EVP_DecryptUpdate(o->ctx, NULL, &outl, aad, (int)aad_len) != 1)) {
		smb2_aead_open_abandon(o);
		return NULL;
	}
	return o;
}

bool smb2_aead_open_update(struct smb2_aead_opener *o, uint8_t *buf, size_t len)
{
	while (len > 0) {
		/* GCM is a stream cipher: any split gives the same result. */
		int n = len > INT_MAX / 2 ? INT_MAX / 2 : (int)len;
		int outl = 0;
		if (EVP_DecryptUpdate(o->ctx, buf, &outl, buf, n) != 1 || outl != n)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

bool smb2_aead_open_end(struct smb2_aead_opener *o, const uint8_t tag[16])
{
	uint8_t final_buf[32];
	int outl = 0;
	bool ok = EVP_CIPHER_CTX_ctrl(o->ctx, EVP_CTRL_AEAD_SET_TAG, SMB2_AEAD_TAG_LEN, (void *)tag) == 1 &&
		  EVP_DecryptFinal_ex(o->ctx, final_buf, &outl) == 1;
	smb2_aead_open_abandon(o);
	return ok;
}

void smb2_aead_open_abandon(struct smb2_aead_opener *o)
{
	if (o == NULL)
		return;
	/* Frees the key schedule cleansed. */
	EVP_CIPHER_CTX_free(o->ctx);
	free(o);
}
