#include "config.h"
#include "lib/auth/ntlm_crypto.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include "lib/log.h"
#include "lib/unicode.h"
#include "lib/wire.h"

/*
 * Fetched once: the algorithms are immutable after loading, and fetching
 * per call would cost a provider lookup on every authentication.
 */
static bool crypto_ready;
static EVP_MD *md_md4;
static EVP_MD *md_md5;
static EVP_MAC *mac_hmac;
static EVP_CIPHER *cipher_rc4;

bool ntlm_crypto_init(void)
{
	if (crypto_ready)
		return true;
	/*
	 * Loading "legacy" explicitly disables the implicit "default"
	 * fallback, so both are loaded. The provider handles are kept for
	 * the life of the process.
	 */
	if (OSSL_PROVIDER_load(NULL, "default") == NULL) {
		LOG_ERR("cannot load the OpenSSL default provider");
		return false;
	}
	if (OSSL_PROVIDER_load(NULL, "legacy") == NULL) {
		LOG_ERR("cannot load the OpenSSL legacy provider (MD4/RC4 for NTLM)");
		return false;
	}
	if (md_md4 == NULL)
		md_md4 = EVP_MD_fetch(NULL, "MD4", NULL);
	if (md_md5 == NULL)
		md_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	if (mac_hmac == NULL)
		mac_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (cipher_rc4 == NULL)
		cipher_rc4 = EVP_CIPHER_fetch(NULL, "RC4", NULL);
	if (md_md4 == NULL || md_md5 == NULL || mac_hmac == NULL || cipher_rc4 == NULL) {
		LOG_ERR("OpenSSL lacks MD4, MD5, HMAC or RC4");
		return false;
	}
	crypto_ready = true;
	return true;
}

static bool digest2(const EVP_MD *md, const void *a, size_t alen, const void *b,
		    size_t blen, uint8_t out[16])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int olen = 0;
	bool ok = ctx != NULL &&
		  EVP_DigestInit_ex2(ctx, md, NULL) == 1 &&
		  (alen == 0 || EVP_DigestUpdate(ctx, a, alen) == 1) &&
		  (blen == 0 || EVP_DigestUpdate(ctx, b, blen) == 1) &&
		  EVP_DigestFinal_ex(ctx, out, &olen) == 1 && olen == 16;
	EVP_MD_CTX_free(ctx);
	return ok;
}

bool ntlm_md4(const void *data, size_t len, uint8_t out[16])
{
	if (!ntlm_crypto_init())
		return false;
	return digest2(md_md4, data, len, NULL, 0, out);
}

bool ntlm_md5(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[16])
{
	if (!ntlm_crypto_init())
		return false;
	return digest2(md_md5, a, alen, b, blen, out);
}

bool ntlm_hmac_md5(const uint8_t *key, size_t key_len,
		   const void *a, size_t alen, const void *b, size_t blen,
		   const void *c, size_t clen, uint8_t out[16])
{
	if (!ntlm_crypto_init())
		return false;
	char digest[] = "MD5";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac_hmac);
	size_t olen = 0;
	bool ok = ctx != NULL &&
		  EVP_MAC_init(ctx, key, key_len, params) == 1 &&
		  (alen == 0 || EVP_MAC_update(ctx, a, alen) == 1) &&
		  (blen == 0 || EVP_MAC_update(ctx, b, blen) == 1) &&
		  (clen == 0 || EVP_MAC_update(ctx, c, clen) == 1) &&
		  EVP_MAC_final(ctx, out, &olen, 16) == 1 && olen == 16;
	EVP_MAC_CTX_free(ctx);
	return ok;
}

struct ntlm_rc4 {
	EVP_CIPHER_CTX *ctx;
};

static int rc4_destructor(struct ntlm_rc4 *h)
{
	EVP_CIPHER_CTX_free(h->ctx);
	return 0;
}

struct ntlm_rc4 *ntlm_rc4_new(TALLOC_CTX *mem, const uint8_t *key, size_t key_len)
{
	if (!ntlm_crypto_init() || key_len == 0 || key_len > 256)
		return NULL;
	struct ntlm_rc4 *h = talloc_zero(mem, struct ntlm_rc4);
	if (h == NULL)
		return NULL;
	h->ctx = EVP_CIPHER_CTX_new();
	if (h->ctx == NULL) {
		talloc_free(h);
		return NULL;
	}
	talloc_set_destructor(h, rc4_destructor);
	unsigned int klen = (unsigned int)key_len;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_uint(OSSL_CIPHER_PARAM_KEYLEN, &klen),
		OSSL_PARAM_construct_end(),
	};
	/* The key length must be set before the key: RC4's default is 16. */
	if (EVP_EncryptInit_ex2(h->ctx, cipher_rc4, NULL, NULL, params) != 1 ||
	    EVP_EncryptInit_ex2(h->ctx, NULL, key, NULL, NULL) != 1) {
		talloc_free(h);
		return NULL;
	}
	return h;
}

bool ntlm_rc4_apply(struct ntlm_rc4 *h, const uint8_t *in, uint8_t *out, size_t len)
{
	while (len > 0) {
		int chunk = len > 65536 ? 65536 : (int)len;
		int olen = 0;
		if (EVP_EncryptUpdate(h->ctx, out, &olen, in, chunk) != 1 || olen != chunk)
			return false;
		in += chunk;
		out += chunk;
		len -= (size_t)chunk;
	}
	return true;
}

bool ntlm_rc4_oneshot(const uint8_t *key, size_t key_len, const uint8_t *in,
		      uint8_t *out, size_t len)
{
	struct ntlm_rc4 *h = ntlm_rc4_new(NULL, key, key_len);
	if (h == NULL)
		return false;
	bool ok = ntlm_rc4_apply(h, in, out, len);
	talloc_free(h);
	return ok;
}

/*
 * Windows upper-cases account names with its own table; this covers
 * ASCII, Latin-1, Latin Extended-A, basic Greek and Cyrillic and the
 * full-width Latin letters, which is what account names use in practice.
 */
uint16_t ntlm_upcase_unit(uint16_t c)
{
	if (c < 0x80)
		return (c >= 'a' && c <= 'z') ? (uint16_t)(c - 0x20) : c;
	if (c >= 0xE0 && c <= 0xFE && c != 0xF7)
		return (uint16_t)(c - 0x20);
	if (c == 0xFF)
		return 0x178;
	if ((c >= 0x100 && c <= 0x12F) || (c >= 0x132 && c <= 0x137) ||
	    (c >= 0x14A && c <= 0x177))
		return (c & 1) ? (uint16_t)(c - 1) : c;
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
		return (c & 1) ? c : (uint16_t)(c - 1);
	if ((c >= 0x3B1 && c <= 0x3C1) || (c >= 0x3C3 && c <= 0x3CB))
		return (uint16_t)(c - 0x20);
	if (c == 0x3C2)
		return 0x3A3;
	if (c == 0x3AC)
		return 0x386;
	if (c >= 0x3AD && c <= 0x3AF)
		return (uint16_t)(c - 0x25);
	if (c == 0x3CC)
		return 0x38C;
	if (c == 0x3CD || c == 0x3CE)
		return (uint16_t)(c - 0x3F);
	if (c >= 0x430 && c <= 0x44F)
		return (uint16_t)(c - 0x20);
	if (c >= 0x450 && c <= 0x45F)
		return (uint16_t)(c - 0x50);
	if ((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF) ||
	    (c >= 0x4D0 && c <= 0x52F))
		return (c & 1) ? (uint16_t)(c - 1) : c;
	if (c >= 0xFF41 && c <= 0xFF5A)
		return (uint16_t)(c - 0x20);
	return c;
}

uint8_t *ntlm_utf16_upper(TALLOC_CTX *mem, const char *utf8, size_t *out_len)
{
	uint8_t *u = utf8_to_utf16le(mem, utf8, out_len);
	if (u == NULL)
		return NULL;
	for (size_t i = 0; i + 1 < *out_len; i += 2)
		put_le16(u + i, ntlm_upcase_unit(le16(u + i)));
	return u;
}

bool ntlm_nt_hash(const char *password, uint8_t out[16])
{
	size_t len;
	uint8_t *u = utf8_to_utf16le(NULL, password, &len);
	if (u == NULL)
		return false;
	bool ok = ntlm_md4(u, len, out);
	OPENSSL_cleanse(u, len);
	talloc_free(u);
	return ok;
}

bool ntlm_ntowfv2_utf16(const uint8_t nt_hash[16], const uint8_t *user16, size_t user_len,
			const uint8_t *dom16, size_t dom_len, uint8_t out[16])
{
	uint8_t *up = talloc_memdup(NULL, user16 ? user16 : (const uint8_t *)"", user_len + 1);
	if (up == NULL)
		return false;
	for (size_t i = 0; i + 1 < user_len; i += 2)
		put_le16(up + i, ntlm_upcase_unit(le16(up + i)));
	bool ok = ntlm_hmac_md5(nt_hash, 16, up, user_len, dom16, dom_len, NULL, 0, out);
	talloc_free(up);
	return ok;
}

bool ntlm_ntowfv2(const uint8_t nt_hash[16], const char *user, const char *domain,
		  uint8_t out[16])
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	size_t ulen, dlen;
	uint8_t *u = utf8_to_utf16le(tmp, user, &ulen);
	uint8_t *d = utf8_to_utf16le(tmp, domain, &dlen);
	bool ok = u != NULL && d != NULL &&
		  ntlm_ntowfv2_utf16(nt_hash, u, ulen, d, dlen, out);
	talloc_free(tmp);
	return ok;
}

/* The magic constants of MS-NLMP 3.4.5.2/3.4.5.3 include their NUL. */
static const char sign_c2s[] = "session key to client-to-server signing key magic constant";
static const char sign_s2c[] = "session key to server-to-client signing key magic constant";
static const char seal_c2s[] = "session key to client-to-server sealing key magic constant";
static const char seal_s2c[] = "session key to server-to-client sealing key magic constant";

bool ntlm_sign_key(const uint8_t exported[16], bool client_to_server, uint8_t out[16])
{
	const char *magic = client_to_server ? sign_c2s : sign_s2c;
	return ntlm_md5(exported, 16, magic, sizeof(sign_c2s), out);
}

#define NTLMSSP_FLAG_128 0x20000000u
#define NTLMSSP_FLAG_56 0x80000000u

bool ntlm_seal_key(const uint8_t exported[16], uint32_t flags, bool client_to_server,
		   uint8_t out[16])
{
	/* MS-NLMP 3.4.5.3: the key is weakened to 56 or 40 bits first. */
	size_t klen = 5;
	if (flags & NTLMSSP_FLAG_128)
		klen = 16;
	else if (flags & NTLMSSP_FLAG_56)
		klen = 7;
	const char *magic = client_to_server ? seal_c2s : seal_s2c;
	return ntlm_md5(exported, klen, magic, sizeof(seal_c2s), out);
}

bool ntlm_make_signature(const uint8_t sign_key[16], struct ntlm_rc4 *seal, uint32_t seq,
			 const uint8_t *msg, size_t len, uint8_t out[16])
{
	uint8_t seqb[4], mac[16];
	put_le32(seqb, seq);
	if (!ntlm_hmac_md5(sign_key, 16, seqb, 4, msg, len, NULL, 0, mac))
		return false;
	put_le32(out, 1);
	if (seal != NULL) {
		if (!ntlm_rc4_apply(seal, mac, out + 4, 8))
			return false;
	} else {
		memcpy(out + 4, mac, 8);
	}
	put_le32(out + 12, seq);
	return true;
}
