#include "config.h"
#include "lib/crypto/gcm_parts.h"

#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "lib/crypto/evp_cache.h"

/* A part goes through CTR and then GMAC (or back) in steps this size, so
 * the second pass finds the data still in the cache. */
#define PART_STEP (64 * 1024)

/*
 * An element of GF(2^128) as GCM writes it (SP 800-38D 6.3): the
 * coefficient of x^0 is the first bit of the block. Loaded big-endian,
 * x^i is bit 127 - i of (hi:lo): multiplying by x is a right shift.
 */
struct gf128 {
	uint64_t hi, lo;
};

static uint64_t load_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void store_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static struct gf128 gf_load(const uint8_t b[16])
{
	return (struct gf128){ load_be64(b), load_be64(b + 8) };
}

static void gf_store(uint8_t b[16], struct gf128 x)
{
	store_be64(b, x.hi);
	store_be64(b + 8, x.lo);
}

static struct gf128 gf_xor(struct gf128 a, struct gf128 b)
{
	return (struct gf128){ a.hi ^ b.hi, a.lo ^ b.lo };
}

/* SP 800-38D Algorithm 1, bit by bit: the reference, and the fallback. */
static struct gf128 gf_mul_portable(struct gf128 x, struct gf128 y)
{
	struct gf128 z = { 0, 0 }, v = y;
	for (int i = 0; i < 128; i++) {
		uint64_t bit = i < 64 ? x.hi >> (63 - i) & 1 : x.lo >> (127 - i) & 1;
		uint64_t take = 0 - bit;
		z.hi ^= v.hi & take;
		z.lo ^= v.lo & take;
		/* v = v * x, folding x^128 = x^7 + x^2 + x + 1 (R = 0xe1 || 0^120). */
		uint64_t carry = 0 - (v.lo & 1);
		v.lo = v.lo >> 1 | v.hi << 63;
		v.hi = v.hi >> 1 ^ (0xe100000000000000ull & carry);
	}
	return z;
}

#if defined(__x86_64__)
static __attribute__((target("pclmul,sse4.1"))) struct gf128 clmul64(uint64_t a, uint64_t b)
{
	__m128i p = _mm_clmulepi64_si128(_mm_cvtsi64_si128((long long)a), _mm_cvtsi64_si128((long long)b), 0x00);
	return (struct gf128){ (uint64_t)_mm_extract_epi64(p, 1), (uint64_t)_mm_cvtsi128_si64(p) };
}

/* A 128-bit right shift of (hi:lo) by 0 < n < 64: times x^n, unreduced. */
static struct gf128 shr(struct gf128 a, unsigned n)
{
	return (struct gf128){ a.hi >> n, a.lo >> n | a.hi << (64 - n) };
}

/*
 * The same product with the carry-less multiply. The 256-bit product of
 * two bit-reflected values holds x^k at bit 254 - k; one shift left puts
 * x^0..x^127 in the upper half (u) and x^128..x^255 in the lower (d).
 * Then x^128 = 1 + x + x^2 + x^7 folds d in: d's lowest seven bits spill
 * past x^127 once more (e), and fold again without spilling.
 */
static __attribute__((target("pclmul,sse4.1"))) struct gf128 gf_mul_clmul(struct gf128 a, struct gf128 b)
{
	struct gf128 hh = clmul64(a.hi, b.hi), ll = clmul64(a.lo, b.lo);
	struct gf128 mid = gf_xor(clmul64(a.hi, b.lo), clmul64(a.lo, b.hi));
	uint64_t p3 = hh.hi, p2 = hh.lo ^ mid.hi, p1 = ll.hi ^ mid.lo, p0 = ll.lo;
	struct gf128 u = { p3 << 1 | p2 >> 63, p2 << 1 | p1 >> 63 };
	struct gf128 d = { p1 << 1 | p0 >> 63, p0 << 1 };
	struct gf128 e = { d.lo << 63 ^ d.lo << 62 ^ d.lo << 57, 0 };
	struct gf128 f = gf_xor(d, e);
	return gf_xor(u, gf_xor(gf_xor(f, shr(f, 1)), gf_xor(shr(f, 2), shr(f, 7))));
}
#endif

static bool use_portable;

void smb2_gcm_parts_portable(bool on)
{
	use_portable = on;
}

static struct gf128 gf_mul(struct gf128 a, struct gf128 b)
{
#if defined(__x86_64__)
	if (!use_portable && __builtin_cpu_supports("pclmul"))
		return gf_mul_clmul(a, b);
#endif
	return gf_mul_portable(a, b);
}

static struct gf128 gf_pow(struct gf128 h, uint64_t m)
{
	struct gf128 r = { 1ull << 63, 0 }; /* x^0 */
	for (; m > 0; m >>= 1) {
		if (m & 1)
			r = gf_mul(r, h);
		h = gf_mul(h, h);
	}
	return r;
}

/* A GCM length block: two big-endian 64-bit bit counts. */
static struct gf128 len_block(uint64_t a_bytes, uint64_t c_bytes)
{
	return (struct gf128){ a_bytes * 8, c_bytes * 8 };
}

static bool pick(enum smb2_cipher c, const EVP_CIPHER **ctr, const EVP_CIPHER **gcm, const EVP_CIPHER **ecb)
{
	const struct crypto_evp *e = crypto_evp();
	switch (c) {
	case SMB2_CIPHER_AES128_GCM:
		*ctr = e->aes128_ctr, *gcm = e->aes128_gcm, *ecb = e->aes128_ecb;
		break;
	case SMB2_CIPHER_AES256_GCM:
		*ctr = e->aes256_ctr, *gcm = e->aes256_gcm, *ecb = e->aes256_ecb;
		break;
	default:
		return false;
	}
	return *ctr != NULL && *gcm != NULL && *ecb != NULL;
}

/* Where payload byte 'offset' is in the gathered list: element and position in it. */
static bool iov_seek(const struct iovec *in, int incnt, size_t offset, int *idx, size_t *pos)
{
	for (int i = 0; i < incnt; i++) {
		if (offset < in[i].iov_len) {
			*idx = i;
			*pos = offset;
			return true;
		}
		offset -= in[i].iov_len;
	}
	return false;
}

static bool update(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in, size_t n)
{
	int outl = 0;
	return EVP_EncryptUpdate(ctx, out, &outl, in, (int)n) == 1 && (out == NULL || (size_t)outl == n);
}

/* Encrypts n bytes from the list (at *idx, *pos, advanced) into out. */
static bool ctr_gather(EVP_CIPHER_CTX *ctr, const struct iovec *in, int incnt, int *idx, size_t *pos, uint8_t *out,
		       size_t n)
{
	while (n > 0) {
		if (*idx >= incnt)
			return false;
		size_t take = in[*idx].iov_len - *pos;
		if (take > n)
			take = n;
		if (!update(ctr, out, (const uint8_t *)in[*idx].iov_base + *pos, take))
			return false;
		out += take;
		n -= take;
		*pos += take;
		if (*pos == in[*idx].iov_len) {
			(*idx)++;
			*pos = 0;
		}
	}
	return true;
}

/* A GCM context that only hashes (GMAC): every update() goes in as AAD. */
static EVP_CIPHER_CTX *gmac_begin(const EVP_CIPHER *gcm_c, const uint8_t *key, const uint8_t *nonce)
{
	EVP_CIPHER_CTX *mac = EVP_CIPHER_CTX_new();
	if (mac != NULL && EVP_EncryptInit_ex2(mac, gcm_c, NULL, NULL, NULL) == 1 &&
	    EVP_CIPHER_CTX_ctrl(mac, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) == 1 &&
	    EVP_EncryptInit_ex2(mac, NULL, key, nonce, NULL) == 1)
		return mac;
	EVP_CIPHER_CTX_free(mac);
	return NULL;
}

/* The GMAC's tag into hash, if ok so far; frees mac (NULL is fine). */
static bool gmac_end(EVP_CIPHER_CTX *mac, bool ok, uint8_t hash[16])
{
	uint8_t final_buf[32];
	int outl = 0;
	ok = ok && mac != NULL && EVP_EncryptFinal_ex(mac, final_buf, &outl) == 1 &&
	     EVP_CIPHER_CTX_ctrl(mac, EVP_CTRL_AEAD_GET_TAG, 16, hash) == 1;
	EVP_CIPHER_CTX_free(mac);
	return ok;
}

bool smb2_gcm_part_run(bool enc, enum smb2_cipher c, const uint8_t *key, const uint8_t *nonce, size_t offset,
		       const struct iovec *in, int incnt, uint8_t *out, size_t len, struct smb2_gcm_part *part)
{
	const EVP_CIPHER *ctr_c, *gcm_c, *ecb_c;
	int idx = 0;
	size_t pos = 0;
	if (!pick(c, &ctr_c, &gcm_c, &ecb_c) || key == NULL || nonce == NULL || out == NULL || part == NULL ||
	    offset % 16 != 0 || len > INT_MAX || offset / 16 > (UINT32_MAX - 2) - (len / 16 + 1) ||
	    (enc && !iov_seek(in, incnt, offset, &idx, &pos) && len > 0))
		return false;

	/* The part's first block is block offset/16 of the payload, whose
	 * counter is inc32 of J0 that many times plus one (SP 800-38D 7.1).
	 * The counter cannot wrap within a message (checked above), so
	 * OpenSSL's 128-bit CTR increment gives GCM's 32-bit one. */
	uint8_t iv[16];
	memcpy(iv, nonce, 12);
	uint32_t first = (uint32_t)(2 + offset / 16);
	for (int i = 0; i < 4; i++)
		iv[12 + i] = (uint8_t)(first >> (24 - 8 * i));

	EVP_CIPHER_CTX *ctr = EVP_CIPHER_CTX_new(), *mac = gmac_begin(gcm_c, key, nonce);
	bool ok = ctr != NULL && mac != NULL && EVP_EncryptInit_ex2(ctr, ctr_c, key, iv, NULL) == 1;
	/* GMAC over the ciphertext: after CTR when sealing, before it when opening. */
	for (size_t done = 0; ok && done < len; done += PART_STEP) {
		size_t n = len - done < PART_STEP ? len - done : PART_STEP;
		uint8_t *o = out + done;
		if (enc)
			ok = ctr_gather(ctr, in, incnt, &idx, &pos, o, n) && update(mac, NULL, o, n);
		else
			ok = update(mac, NULL, o, n) && update(ctr, o, o, n);
	}
	ok = gmac_end(mac, ok, part->hash);
	part->len = len;
	EVP_CIPHER_CTX_free(ctr);
	OPENSSL_cleanse(iv, sizeof(iv));
	return ok;
}

bool smb2_gmac_part_run(const uint8_t key[16], const uint8_t nonce[12], size_t offset, const struct iovec *in,
			int incnt, size_t len, struct smb2_gcm_part *part)
{
	const EVP_CIPHER *gcm_c = crypto_evp()->aes128_gcm;
	int idx = 0;
	size_t pos = 0;
	if (gcm_c == NULL || key == NULL || nonce == NULL || part == NULL || offset % 16 != 0 ||
	    (len > 0 && !iov_seek(in, incnt, offset, &idx, &pos)))
		return false;
	EVP_CIPHER_CTX *mac = gmac_begin(gcm_c, key, nonce);
	bool ok = mac != NULL;
	size_t left = len;
	for (; ok && left > 0 && idx < incnt; idx++, pos = 0) {
		size_t take = in[idx].iov_len - pos;
		if (take > left)
			take = left;
		ok = take <= INT_MAX && update(mac, NULL, (const uint8_t *)in[idx].iov_base + pos, take);
		left -= take;
	}
	part->len = len;
	return gmac_end(mac, ok && left == 0, part->hash);
}

/* H = E(K, 0^128) and E(K, J0), J0 = nonce || 0^31 || 1. */
static bool hash_keys(const EVP_CIPHER *ecb, const uint8_t *key, const uint8_t *nonce, struct gf128 *h,
		      struct gf128 *ej0)
{
	uint8_t blocks[32] = { 0 };
	memcpy(blocks + 16, nonce, 12);
	blocks[31] = 1;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	bool ok = ctx != NULL && EVP_EncryptInit_ex2(ctx, ecb, key, NULL, NULL) == 1 &&
		  EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 && update(ctx, blocks, blocks, sizeof(blocks));
	EVP_CIPHER_CTX_free(ctx);
	*h = gf_load(blocks);
	*ej0 = gf_load(blocks + 16);
	OPENSSL_cleanse(blocks, sizeof(blocks));
	return ok;
}

/*
 * GHASH of the whole message, A || C || len (each padded to blocks), is
 *   GHASH(A)·H^(c+1) + sum over parts p of GHASH(C_p)·H^(blocks after p + 1) + len·H
 * and a part's GMAC gives GHASH(C_p)·H = tag_p + E(K,J0) + len_p·H, as
 * GMAC hashes C_p || len_p. Horner's rule shifts each part into place.
 */
static bool join(const EVP_CIPHER *ecb_c, const uint8_t *key, const uint8_t *nonce, const uint8_t *aad,
		 size_t aad_len, const struct smb2_gcm_part *parts, size_t nparts, bool parts_are_aad, uint8_t tag[16])
{
	struct gf128 h, ej0;
	if (key == NULL || nonce == NULL || tag == NULL || (aad == NULL && aad_len > 0) ||
	    (parts == NULL && nparts > 0) || !hash_keys(ecb_c, key, nonce, &h, &ej0))
		return false;

	struct gf128 acc = { 0, 0 };
	for (size_t off = 0; off < aad_len; off += 16) {
		uint8_t blk[16] = { 0 };
		memcpy(blk, aad + off, aad_len - off < 16 ? aad_len - off : 16);
		acc = gf_mul(gf_xor(acc, gf_load(blk)), h);
	}
	acc = gf_mul(acc, h);

	uint64_t total = 0, last_m = UINT64_MAX;
	struct gf128 h_m = { 0, 0 };
	for (size_t i = 0; i < nparts; i++) {
		uint64_t m = (parts[i].len + 15) / 16;
		if (m != last_m) /* the parts are mostly of one size */
			h_m = gf_pow(h, m);
		last_m = m;
		struct gf128 t = gf_xor(gf_xor(gf_load(parts[i].hash), ej0), gf_mul(len_block(parts[i].len, 0), h));
		acc = gf_xor(gf_mul(acc, h_m), t);
		total += parts[i].len;
	}
	struct gf128 lens = parts_are_aad ? len_block(total, 0) : len_block(aad_len, total);
	acc = gf_xor(acc, gf_mul(lens, h));
	gf_store(tag, gf_xor(acc, ej0));
	/* H is the authentication key: no copy of it stays behind. */
	OPENSSL_cleanse(&h, sizeof(h));
	OPENSSL_cleanse(&h_m, sizeof(h_m));
	OPENSSL_cleanse(&ej0, sizeof(ej0));
	OPENSSL_cleanse(&acc, sizeof(acc));
	return true;
}

bool smb2_gcm_parts_tag(enum smb2_cipher c, const uint8_t *key, const uint8_t *nonce, const uint8_t *aad,
			size_t aad_len, const struct smb2_gcm_part *parts, size_t nparts, uint8_t tag[16])
{
	const EVP_CIPHER *ctr_c, *gcm_c, *ecb_c;
	return pick(c, &ctr_c, &gcm_c, &ecb_c) && join(ecb_c, key, nonce, aad, aad_len, parts, nparts, false, tag);
}

/*
 * The same sum with the message as GCM's AAD and no ciphertext (AES-GMAC):
 * only the length block differs, the bits counted as AAD.
 */
bool smb2_gmac_parts_tag(const uint8_t key[16], const uint8_t nonce[12], const struct smb2_gcm_part *parts,
			 size_t nparts, uint8_t tag[16])
{
	const EVP_CIPHER *ecb_c = crypto_evp()->aes128_ecb;
	return ecb_c != NULL && join(ecb_c, key, nonce, NULL, 0, parts, nparts, true, tag);
}
