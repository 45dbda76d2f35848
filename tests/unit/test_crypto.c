/*
 * lib/crypto against published vectors:
 *  - RFC 4493 (AES-CMAC), RFC 4231 (HMAC-SHA256), NIST CAVP / the GCM
 *    specification (AES-GCM, GMAC);
 *  - Microsoft Open Specifications blog posts, which give SMB 3.x session
 *    keys, derived keys, preauth hashes and encrypted messages:
 *    "SMB 2 and SMB 3 security in Windows 10: the anatomy of signing and
 *    cryptographic keys" (2017), "Encryption in SMB 3.0: A protocol
 *    perspective" (2012), "SMB 3.1.1 Encryption in Windows 10" (2015),
 *    "SMB 3.1.1 Pre-authentication integrity in Windows 10" (2015).
 * Everything else checks properties: split invariance, tamper detection,
 * the GMAC nonce rule of MS-SMB2 3.1.4.1, argument checks.
 */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <cmocka.h>

#include "lib/crypto/gcm_parts.h"
#include "lib/crypto/random.h"
#include "lib/crypto/smb2_aead.h"
#include "lib/crypto/smb2_kdf.h"
#include "lib/crypto/smb2_keys.h"
#include "lib/crypto/smb2_preauth.h"
#include "lib/crypto/smb2_sign.h"

/* ---- helpers ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes hex (spaces ignored) into a fresh buffer; *len gets its size. */
static uint8_t *unhex(const char *s, size_t *len)
{
	size_t n = 0;
	uint8_t *out = malloc(strlen(s) / 2 + 1);
	int hi = -1;

	assert_non_null(out);
	for (; *s; s++) {
		int v;

		if (*s == ' ')
			continue;
		v = hexval(*s);
		assert_true(v >= 0);
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	assert_int_equal(hi, -1);
	*len = n;
	return out;
}

/* Decodes hex that must be exactly n bytes into dst. */
static void unhex_into(const char *s, uint8_t *dst, size_t n)
{
	size_t len;
	uint8_t *b = unhex(s, &len);

	assert_int_equal(len, n);
	memcpy(dst, b, n);
	free(b);
}

static void assert_hex_equal(const uint8_t *got, size_t got_len, const char *want_hex)
{
	size_t len;
	uint8_t *want = unhex(want_hex, &len);

	assert_int_equal(got_len, len);
	assert_memory_equal(got, want, len);
	free(want);
}

/* ---- RFC 4493 AES-CMAC ---- */

static const char *cmac_key = "2b7e151628aed2a6abf7158809cf4f3c";
static const char *cmac_msg =
	"6bc1bee22e409f96e93d7e117393172a" "ae2d8a571e03ac9c9eb76fac45af8e51"
	"30c81c46a35ce411e5fbc1191a0a52ef" "f69f2445df4f9b17ad2b417be66c3710";

static const struct {
	size_t len;
	const char *mac;
} cmac_vectors[] = {
	{ 0, "bb1d6929e95937287fa37d129b756746" },
	{ 16, "070a16b46b4d4144f79bdd9dd04a287c" },
	{ 40, "dfa66747de9ae63030ca32611497c827" },
	{ 64, "51f0bebf7e3b9d92fc49741779363cfe" },
};

static void test_cmac_rfc4493(void **state)
{
	uint8_t key[16], mac[16];
	size_t msg_len;
	uint8_t *msg = unhex(cmac_msg, &msg_len);

	unhex_into(cmac_key, key, sizeof(key));
	for (size_t v = 0; v < sizeof(cmac_vectors) / sizeof(cmac_vectors[0]); v++) {
		size_t len = cmac_vectors[v].len;
		struct iovec one = { msg, len };

		assert_true(smb2_aes_cmac_iov(key, &one, 1, mac));
		assert_hex_equal(mac, 16, cmac_vectors[v].mac);

		/* Every two-way split, and empty elements, give the same MAC. */
		for (size_t cut = 0; cut <= len; cut++) {
			struct iovec three[3] = {
				{ msg, cut }, { NULL, 0 }, { msg + cut, len - cut },
			};

			memset(mac, 0, sizeof(mac));
			assert_true(smb2_aes_cmac_iov(key, three, 3, mac));
			assert_hex_equal(mac, 16, cmac_vectors[v].mac);
		}
	}
	/* The empty message also as an empty list. */
	assert_true(smb2_aes_cmac_iov(key, NULL, 0, mac));
	assert_hex_equal(mac, 16, cmac_vectors[0].mac);
	free(msg);
}

/* ---- RFC 4231 HMAC-SHA256 ---- */

static void test_hmac_sha256_rfc4231(void **state)
{
	uint8_t key[131], out[32];
	struct iovec iov[2];

	/* Test case 1 */
	memset(key, 0x0b, 20);
	iov[0] = (struct iovec){ (void *)"Hi There", 8 };
	assert_true(smb2_hmac_sha256_iov(key, 20, iov, 1, out));
	assert_hex_equal(out, 32,
		"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

	/* Test case 2, data split in two */
	iov[0] = (struct iovec){ (void *)"what do ya want ", 16 };
	iov[1] = (struct iovec){ (void *)"for nothing?", 12 };
	assert_true(smb2_hmac_sha256_iov((const uint8_t *)"Jefe", 4, iov, 2, out));
	assert_hex_equal(out, 32,
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

	/* Test case 6: key longer than the block size */
	memset(key, 0xaa, 131);
	iov[0] = (struct iovec){ (void *)"Test Using Larger Than Block-Size Key - Hash Key First", 54 };
	assert_true(smb2_hmac_sha256_iov(key, 131, iov, 1, out));
	assert_hex_equal(out, 32,
		"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

/* ---- NIST GMAC (CAVP gcmEncryptExtIV128, PTlen=0, AADlen=128, Count 0) ---- */

static void test_gmac_nist(void **state)
{
	uint8_t key[16], iv[12], aad[16], tag[16];
	struct iovec iov[2] = { { aad, 5 }, { aad + 5, 11 } };

	unhex_into("77be63708971c4e240d1cb79e8d77feb", key, 16);
	unhex_into("e0e00f19fed7ba0136a797f3", iv, 12);
	unhex_into("7a43ec1d9c0a5a78a0b16533a6213cab", aad, 16);
	assert_true(smb2_aes_gmac_iov(key, iv, iov, 2, tag));
	assert_hex_equal(tag, 16, "209fcc8d3675ed938e9c7166709dd946");
}

/* ---- smb2_sign_iov ---- */

/*
 * The SMB2 WRITE request of the "Encryption in SMB 3.0" blog post (the
 * plaintext of its encrypted message): a realistic message to sign.
 */
static const char *smb300_write_req =
	"FE534D4240000100000000000900400008000000000000000400000000000000"
	"FFFE0000010000001100001400E4080000000000000000000000000000000000"
	"3100700017000000000000000000000015010000390000020100000039020000"
	"00000000000000007000000000000000536D623320656E6372797074696F6E20"
	"74657374696E67";

static uint8_t *signable_msg(size_t *len)
{
	uint8_t *msg = unhex(smb300_write_req, len);

	memset(msg + 48, 0, 16); /* the caller zeroes Signature */
	return msg;
}

static void test_sign_algorithms_use_their_mac(void **state)
{
	uint8_t key[16], sig[16], mac[32];
	size_t len;
	uint8_t *msg = signable_msg(&len);
	struct iovec iov = { msg, len };

	unhex_into("0B7E9C5CAC36C0F6EA9AB275298CEDCE", key, 16);

	/* HMAC-SHA256: the first 16 bytes of the HMAC with the 16-byte key. */
	assert_true(smb2_sign_iov(SMB2_SIGN_HMAC_SHA256, key, &iov, 1, sig));
	assert_true(smb2_hmac_sha256_iov(key, 16, &iov, 1, mac));
	assert_memory_equal(sig, mac, 16);

	/* AES-CMAC: the plain CMAC of the message. */
	assert_true(smb2_sign_iov(SMB2_SIGN_AES_CMAC, key, &iov, 1, sig));
	assert_true(smb2_aes_cmac_iov(key, &iov, 1, mac));
	assert_memory_equal(sig, mac, 16);
	free(msg);
}

/* Sets Command, Flags and MessageId of a 64-byte SMB2 header. */
static void set_hdr(uint8_t *hdr, uint16_t cmd, uint32_t flags, uint64_t mid)
{
	hdr[12] = (uint8_t)cmd;
	hdr[13] = (uint8_t)(cmd >> 8);
	for (int i = 0; i < 4; i++)
		hdr[16 + i] = (uint8_t)(flags >> (8 * i));
	for (int i = 0; i < 8; i++)
		hdr[24 + i] = (uint8_t)(mid >> (8 * i));
}

/*
 * MS-SMB2 3.1.4.1: nonce = MessageId (8 bytes), then 4 bytes whose least
 * significant bit is 1 when the server sends, and the next bit 1 for a
 * CANCEL request. The expected nonces are written out by hand from that.
 */
static void test_sign_gmac_nonce_rule(void **state)
{
	static const struct {
		uint16_t cmd;
		uint32_t flags;
		const char *nonce;
	} cases[] = {
		/* client READ request */
		{ 0x0008, 0x00000000, "0807060504030201" "00000000" },
		/* server READ response (also signed, async, related: other bits ignored) */
		{ 0x0008, 0x0000000B, "0807060504030201" "01000000" },
		/* client CANCEL request */
		{ 0x000C, 0x00000002, "0807060504030201" "02000000" },
		/* role and cancel bits together */
		{ 0x000C, 0x00000001, "0807060504030201" "03000000" },
	};
	uint8_t key[16], nonce[12], sig[16], want[16];
	size_t len;
	uint8_t *msg = signable_msg(&len);
	struct iovec iov = { msg, len };

	unhex_into("73FE7A9A77BEF0BDE49C650D8CCB5F76", key, 16);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		set_hdr(msg, cases[i].cmd, cases[i].flags, 0x0102030405060708ull);
		unhex_into(cases[i].nonce, nonce, 12);
		assert_true(smb2_sign_iov(SMB2_SIGN_AES_GMAC, key, &iov, 1, sig));
		assert_true(smb2_aes_gmac_iov(key, nonce, &iov, 1, want));
		assert_memory_equal(sig, want, 16);
	}
	free(msg);
}

static void test_sign_split_invariance(void **state)
{
	static const enum smb2_sign_algo algos[] = {
		SMB2_SIGN_HMAC_SHA256, SMB2_SIGN_AES_CMAC, SMB2_SIGN_AES_GMAC,
	};
	uint8_t key[16], whole[16], part[16];
	size_t len;
	uint8_t *msg = signable_msg(&len);

	unhex_into("261B72350558F2E9DCF613070383EDBF", key, 16);
	for (size_t a = 0; a < 3; a++) {
		struct iovec one = { msg, len };

		assert_true(smb2_sign_iov(algos[a], key, &one, 1, whole));
		/* Any two-way cut, the header itself included. */
		for (size_t cut = 0; cut <= len; cut++) {
			struct iovec two[2] = { { msg, cut }, { msg + cut, len - cut } };

			assert_true(smb2_sign_iov(algos[a], key, two, 2, part));
			assert_memory_equal(whole, part, 16);
		}
		/* One byte per element. */
		struct iovec *bytes = calloc(len, sizeof(*bytes));

		assert_non_null(bytes);
		for (size_t i = 0; i < len; i++)
			bytes[i] = (struct iovec){ msg + i, 1 };
		assert_true(smb2_sign_iov(algos[a], key, bytes, (int)len, part));
		assert_memory_equal(whole, part, 16);
		free(bytes);
	}
	free(msg);
}

/* A message checked as it arrives, in pieces of any size, with its
 * signature in the header: the same verdict as the whole message. */
static void test_sign_stream(void **state)
{
	uint8_t key[16], sig[16];
	size_t len;
	uint8_t *msg = signable_msg(&len);
	struct iovec iov = { msg, len };

	unhex_into("0B7E9C5CAC36C0F6EA9AB275298CEDCE", key, 16);
	for (int a = SMB2_SIGN_HMAC_SHA256; a <= SMB2_SIGN_AES_GMAC; a++) {
		memset(msg + 48, 0, 16);
		assert_true(smb2_sign_iov(a, key, &iov, 1, sig));
		memcpy(msg + 48, sig, 16); /* as the sender sends it */
		for (size_t step = 1; step <= len; step = step * 3 + 1) {
			for (int flip = 0; flip < 2; flip++) {
				size_t at = 64 + (len - 64) * 2 / 3;
				msg[at] ^= flip;
				struct smb2_sign_stream *st = smb2_sign_stream_begin(a, key, msg);
				assert_non_null(st);
				for (size_t off = 64; off < len; off += step)
					assert_true(smb2_sign_stream_update(st, msg + off, off + step < len ? step : len - off));
				assert_int_equal(smb2_sign_stream_end(st, msg + 48), !flip);
				msg[at] ^= flip;
			}
		}
		/* Another key, a header changed, or nothing after the header. */
		uint8_t other[16];
		memcpy(other, key, 16);
		other[0] ^= 1;
		struct smb2_sign_stream *st = smb2_sign_stream_begin(a, other, msg);
		assert_true(smb2_sign_stream_update(st, msg + 64, len - 64));
		assert_false(smb2_sign_stream_end(st, msg + 48));
		msg[24] ^= 1; /* the MessageId, the GMAC nonce's */
		st = smb2_sign_stream_begin(a, key, msg);
		assert_true(smb2_sign_stream_update(st, msg + 64, len - 64));
		assert_false(smb2_sign_stream_end(st, msg + 48));
		msg[24] ^= 1;
		st = smb2_sign_stream_begin(a, key, msg);
		assert_false(smb2_sign_stream_end(st, msg + 48));
		smb2_sign_stream_abandon(smb2_sign_stream_begin(a, key, msg));
	}
	assert_null(smb2_sign_stream_begin(SMB2_SIGN_AES_GMAC + 1, key, msg));
	assert_null(smb2_sign_stream_begin(SMB2_SIGN_AES_CMAC, NULL, msg));
	smb2_sign_stream_abandon(NULL);
	free(msg);
}

static void test_sign_verify(void **state)
{
	uint8_t key[16], sig[16];
	size_t len;
	uint8_t *msg = signable_msg(&len);
	struct iovec iov = { msg, len };

	unhex_into("0B7E9C5CAC36C0F6EA9AB275298CEDCE", key, 16);
	for (int a = SMB2_SIGN_HMAC_SHA256; a <= SMB2_SIGN_AES_GMAC; a++) {
		assert_true(smb2_sign_iov(a, key, &iov, 1, sig));
		assert_true(smb2_sign_verify_iov(a, key, &iov, 1, sig));
		msg[len - 1] ^= 0x01;
		assert_false(smb2_sign_verify_iov(a, key, &iov, 1, sig));
		msg[len - 1] ^= 0x01;
		sig[0] ^= 0x80;
		assert_false(smb2_sign_verify_iov(a, key, &iov, 1, sig));
	}
	free(msg);
}

static void test_sign_bad_args(void **state)
{
	uint8_t key[16] = { 0 }, sig[16], hdr[64] = { 0 };
	struct iovec short_iov = { hdr, 63 };
	struct iovec ok_iov = { hdr, 64 };

	memset(sig, 0xff, sizeof(sig));
	assert_false(smb2_sign_iov(SMB2_SIGN_AES_CMAC, key, &short_iov, 1, sig));
	for (size_t i = 0; i < sizeof(sig); i++)
		assert_int_equal(sig[i], 0);
	assert_false(smb2_sign_iov(SMB2_SIGN_AES_CMAC, key, &ok_iov, -1, sig));
	assert_false(smb2_sign_iov(SMB2_SIGN_AES_CMAC, key, NULL, 1, sig));
	assert_false(smb2_sign_iov(SMB2_SIGN_AES_CMAC, NULL, &ok_iov, 1, sig));
	assert_false(smb2_sign_iov((enum smb2_sign_algo)7, key, &ok_iov, 1, sig));
	assert_true(smb2_sign_iov(SMB2_SIGN_AES_GMAC, key, &ok_iov, 1, sig));
}

/* ---- KDF and session keys ---- */

/* "anatomy of signing and cryptographic keys": SMB 3.0 SigningKey. */
static void test_kdf_smb300_signing_key(void **state)
{
	uint8_t sk[16], out[16];
	struct smb2_session_keys keys;

	unhex_into("7CD451825D0450D235424E44BA6E78CC", sk, 16);
	assert_true(smb2_kdf(sk, 16, "SMB2AESCMAC", 12, "SmbSign", 8, out, 16));
	assert_hex_equal(out, 16, "0B7E9C5CAC36C0F6EA9AB275298CEDCE");

	assert_true(smb2_derive_session_keys(0x0300, sk, 16, NULL, SMB2_CIPHER_AES128_CCM, &keys));
	assert_hex_equal(keys.signing, 16, "0B7E9C5CAC36C0F6EA9AB275298CEDCE");
	/* 3.0.2 uses the same labels. */
	memset(&keys, 0, sizeof(keys));
	assert_true(smb2_derive_session_keys(0x0302, sk, 16, NULL, SMB2_CIPHER_AES128_CCM, &keys));
	assert_hex_equal(keys.signing, 16, "0B7E9C5CAC36C0F6EA9AB275298CEDCE");
}

/*
 * "Encryption in SMB 3.0": the client's EncryptionKey is the server's
 * decryption (ServerIn) key and vice versa.
 */
static void test_keys_smb300_encryption(void **state)
{
	uint8_t sk[16], zero[16] = { 0 };
	struct smb2_session_keys keys;

	unhex_into("B4546771B515F766A86735532DD6C4F0", sk, 16);
	assert_true(smb2_derive_session_keys(0x0300, sk, 16, NULL, SMB2_CIPHER_AES128_CCM, &keys));
	assert_hex_equal(keys.decryption, 16, "261B72350558F2E9DCF613070383EDBF");
	assert_hex_equal(keys.encryption, 16, "8FE2B57EC34D2DB5B1A9727F526BBDB5");
	assert_memory_equal(keys.encryption + 16, zero, 16);
	assert_memory_equal(keys.decryption + 16, zero, 16);
}

/* "SMB 3.1.1 Encryption in Windows 10" (AES-128-GCM session). */
static const char *smb311_enc_session_key = "419FDDF34C1E001909D362AE7FB6AF79";
static const char *smb311_enc_preauth =
	"B23F3CBFD69487D9832B79B1594A367CDD950909B774C3A4C412B4FCEA9EDDDB"
	"A7DB256BA2EA30E977F11F9B113247578E0E915C6D2A513B8F2FCA5707DC8770";

static void test_keys_smb311_encryption(void **state)
{
	uint8_t sk[16], h[64];
	struct smb2_session_keys keys;

	unhex_into(smb311_enc_session_key, sk, 16);
	unhex_into(smb311_enc_preauth, h, 64);
	assert_true(smb2_derive_session_keys(0x0311, sk, 16, h, SMB2_CIPHER_AES128_GCM, &keys));
	assert_hex_equal(keys.decryption, 16, "A2F5E80E5D59103034F32E52F698E5EC");
	assert_hex_equal(keys.encryption, 16, "748C50868C90F302962A5C35F5F9A8BF");
}

/*
 * "SMB 3.1.1 Pre-authentication integrity in Windows 10": the hash after
 * each NEGOTIATE / SESSION_SETUP message, then the SigningKey.
 */
static const struct {
	const char *msg;
	const char *hash;
} preauth_steps[] = {
	{ /* NEGOTIATE request */
	  "FE534D4240000100000000000000800000000000000000000100000000000000FFFE000000000000"
	  "00000000000000000000000000000000000000000000000024000500000000003F000000ECD86F32"
	  "6276024F9F7752B89BB33F3A70000000020000000202100200030203110300000100260000000000"
	  "010020000100FA49E6578F1F3A9F4CD3E9CC14A67AA884B3D05844E0E5A118225C15887F32FF0000"
	  "0200060000000000020002000100",
	  "DD94EFC5321BB618A2E208BA8920D2F422992526947A409B5037DE1E0FE8C7362B8C47122594CDE0"
	  "CE26AA9DFC8BCDBDE0621957672623351A7540F1E54A0426" },
	{ /* NEGOTIATE response */
	  "FE534D4240000100000000000000010001000000000000000100000000000000FFFE000000000000"
	  "000000000000000000000000000000000000000000000000410001001103020039CBCAF329714942"
	  "BDCE5D60F09AB3FB2F000000000080000000800000008000D8DAE5ADCBAED00109094AB095AED001"
	  "80004001C00100006082013C06062B0601050502A08201303082012CA01A3018060A2B0601040182"
	  "3702021E060A2B06010401823702020AA282010C048201084E45474F455854530100000000000000"
	  "60000000700000007C7CC0FD06D6362D02DDE1CF343BFE292900F49750B4AA97934D9C4296B26E51"
	  "FD370471B235E15A50DAE15BD5489C87000000000000000060000000010000000000000000000000"
	  "5C33530DEAF90D4DB2EC4AE3786EC3084E45474F4558545303000000010000004000000098000000"
	  "7C7CC0FD06D6362D02DDE1CF343BFE295C33530DEAF90D4DB2EC4AE3786EC3084000000058000000"
	  "3056A05430523027802530233121301F06035504031318546F6B656E205369676E696E6720507562"
	  "6C6963204B65793027802530233121301F06035504031318546F6B656E205369676E696E67205075"
	  "626C6963204B6579010026000000000001002000010060A3C3B95C3C7CCD51EC536648D9B3AC74C4"
	  "83CA5B65385A251117BEB30712E50000020004000000000001000200",
	  "324BFA92A4F3A190E466EBEA08D9C110DC88BFED758D9846ECC6F541CC1D02AE3C94A79F36011E99"
	  "7E13F841B91B50957AD07B19C8E2539C0B23FDAE09D2C513" },
	{ /* SESSION_SETUP request 1 */
	  "FE534D4240000100000000000100800000000000000000000200000000000000FFFE000000000000"
	  "00000000000000000000000000000000000000000000000019000001010000000000000058004A00"
	  "0000000000000000604806062B0601050502A03E303CA00E300C060A2B06010401823702020AA22A"
	  "04284E544C4D5353500001000000978208E200000000000000000000000000000000060380250000"
	  "000F",
	  "AC0B0F2B9986257700365E416D142A6EDC96DF03594A19E52A15F6BD0D041CD5D432F8ED42C55E33"
	  "197A50C9EC00F1462B50C592211B1471A04B56088FDFD5F9" },
	{ /* SESSION_SETUP response (MORE_PROCESSING_REQUIRED) */
	  "FE534D4240000100160000C00100010001000000000000000200000000000000FFFE000000000000"
	  "190000000010000000000000000000000000000000000000090000004800B300A181B03081ADA003"
	  "0A0101A10C060A2B06010401823702020AA281970481944E544C4D53535000020000000C000C0038"
	  "00000015828AE20D1D8BA31179D008000000000000000050005000440000000A0092270000000F53"
	  "005500540033003100310002000C0053005500540033003100310001000C00530055005400330031"
	  "00310004000C0053005500540033003100310003000C0053005500540033003100310007000800A1"
	  "A1F5ADCBAED00100000000",
	  "2729E3440DFDDD839E37193F6E8F20C20CEFB3469E453A70CD980EEC06B8835740A7376008563336"
	  "4C8989895ECE81BF102DEEB14D4B7D48AFA76901A7A38387" },
	{ /* SESSION_SETUP request 2 */
	  "FE534D4240000100000000000100800000000000000000000300000000000000FFFE000000000000"
	  "1900000000100000000000000000000000000000000000001900000101000000000000005800CF01"
	  "0000000000000000A18201CB308201C7A0030A0101A28201AA048201A64E544C4D53535000030000"
	  "001800180090000000EE00EE00A80000000C000C00580000001A001A0064000000120012007E0000"
	  "001000100096010000158288E2060380250000000FECAC77A5F385A8BF9C38C706EEEDDCD3530055"
	  "005400330031003100610064006D0069006E006900730074007200610074006F0072004400520049"
	  "0056004500520033003100310000000000000000000000000000000000000000000000000063078E"
	  "B639FE03E20A231C3AE3BF23080101000000000000A1A1F5ADCBAED001BC4AD05F223CC90F000000"
	  "0002000C0053005500540033003100310001000C0053005500540033003100310004000C00530055"
	  "00540033003100310003000C0053005500540033003100310007000800A1A1F5ADCBAED001060004"
	  "00020000000800300030000000000000000000000000300000B61FEFCAA857EA57BF1EDCEBF8974B"
	  "8E0EBA5A6DFD9D07A31D11B548F8C9D0CC0A00100000000000000000000000000000000000090016"
	  "0063006900660073002F005300550054003300310031000000000000000000000000003B9BDFF38F"
	  "5EE8F9663F11A0F4C03A78A31204100100000063775A9A5FD97F0600000000",
	  "0DD13628CC3ED218EF9DF9772D436D0887AB9814BFAE63A80AA845F36909DB7928622DDDAD522D97"
	  "51640A459762C5A9D6BB084CBB3CE6BDADEF5D5BCE3C6C01" },
};

static void test_preauth_and_smb311_signing_key(void **state)
{
	uint8_t h[64] = { 0 }, h_split[64] = { 0 }, sk[16];
	struct smb2_session_keys keys;

	for (size_t i = 0; i < sizeof(preauth_steps) / sizeof(preauth_steps[0]); i++) {
		size_t len;
		uint8_t *msg = unhex(preauth_steps[i].msg, &len);
		struct iovec one = { msg, len };
		/* The same message as header / body / last byte. */
		struct iovec three[3] = {
			{ msg, 64 }, { msg + 64, len - 65 }, { msg + len - 1, 1 },
		};

		assert_true(smb2_preauth_update(h, &one, 1));
		assert_hex_equal(h, 64, preauth_steps[i].hash);
		assert_true(smb2_preauth_update(h_split, three, 3));
		assert_memory_equal(h, h_split, 64);
		free(msg);
	}

	unhex_into("270E1BA896585EEB7AF3472D3B4C75A7", sk, 16);
	assert_true(smb2_derive_session_keys(0x0311, sk, 16, h, SMB2_CIPHER_AES128_GCM, &keys));
	assert_hex_equal(keys.signing, 16, "73FE7A9A77BEF0BDE49C650D8CCB5F76");
	/* The same through the bare KDF. */
	uint8_t out[16];
	assert_true(smb2_kdf(sk, 16, "SMBSigningKey", 14, h, 64, out, 16));
	assert_hex_equal(out, 16, "73FE7A9A77BEF0BDE49C650D8CCB5F76");
}

static void test_keys_aes256_and_bad_args(void **state)
{
	uint8_t sk[32], h[64];
	struct smb2_session_keys k128, k256, kfull;

	for (size_t i = 0; i < sizeof(sk); i++)
		sk[i] = (uint8_t)(0xA0 + i);
	memset(h, 0x5A, sizeof(h));

	/* AES-256: L = 256 gives a different key, not an extension of the 128-bit one. */
	assert_true(smb2_derive_session_keys(0x0311, sk, 16, h, SMB2_CIPHER_AES128_GCM, &k128));
	assert_true(smb2_derive_session_keys(0x0311, sk, 16, h, SMB2_CIPHER_AES256_GCM, &k256));
	assert_memory_equal(k128.signing, k256.signing, 16);
	assert_memory_equal(k128.application, k256.application, 16);
	assert_memory_not_equal(k128.encryption, k256.encryption, 16);
	/* The cipher keys equal the KDF with L = 256 on the spec's label. */
	uint8_t want[32];
	assert_true(smb2_kdf(sk, 16, "SMBS2CCipherKey", 16, h, 64, want, 32));
	assert_memory_equal(k256.encryption, want, 32);
	assert_true(smb2_kdf(sk, 16, "SMBC2SCipherKey", 16, h, 64, want, 32));
	assert_memory_equal(k256.decryption, want, 32);
	assert_true(smb2_kdf(sk, 16, "SMBAppKey", 10, h, 64, want, 16));
	assert_memory_equal(k128.application, want, 16);

	/* A longer (Kerberos) key: signing uses its first 16 bytes, AES-256 keys all of it. */
	assert_true(smb2_derive_session_keys(0x0311, sk, 32, h, SMB2_CIPHER_AES256_CCM, &kfull));
	assert_memory_equal(kfull.signing, k256.signing, 16);
	assert_true(smb2_kdf(sk, 32, "SMBS2CCipherKey", 16, h, 64, want, 32));
	assert_memory_equal(kfull.encryption, want, 32);

	/* 3.0 labels, application key. */
	assert_true(smb2_derive_session_keys(0x0300, sk, 16, NULL, SMB2_CIPHER_AES128_CCM, &k128));
	assert_true(smb2_kdf(sk, 16, "SMB2APP", 8, "SmbRpc", 7, want, 16));
	assert_memory_equal(k128.application, want, 16);

	assert_false(smb2_derive_session_keys(0x0311, sk, 16, NULL, SMB2_CIPHER_AES128_GCM, &k128));
	assert_false(smb2_derive_session_keys(0x0210, sk, 16, h, SMB2_CIPHER_AES128_GCM, &k128));
	assert_false(smb2_derive_session_keys(0x0300, NULL, 0, NULL, SMB2_CIPHER_AES128_CCM, &k128));
	assert_false(smb2_kdf(sk, 16, "x", 2, "y", 2, want, 0));
}

/* ---- AEAD ---- */

struct transform_vector {
	enum smb2_cipher cipher;
	const char *key;
	const char *transform; /* TRANSFORM_HEADER (52 bytes) + ciphertext */
	const char *plain;
};

/* Server-side view: encrypt with keys.encryption, decrypt with keys.decryption. */
static const struct transform_vector transform_vectors[] = {
	{ /* "Encryption in SMB 3.0", client -> server WRITE request */
	  SMB2_CIPHER_AES128_CCM, "261B72350558F2E9DCF613070383EDBF",
	  "FD534D4281A286535415445DAE393921E44FA42E66E69A111892584FB5ED524A"
	  "744DA3EE87000000000001001100001400E4080025C8FEE16605A437832D1CD5"
	  "2DA9F4645333482A175FE5384563F45FCDAFAEF38BC62BA4D5C62897996625A4"
	  "4C29BE5658DE2E6117585779E7B59FFD971278D08580D7FA899E410E910EABF5"
	  "AA1DB43050B33B49182637759AC15D84BFCDF5B6B238993C0F4CF4D6012023F6"
	  "C627297075D84B7803912D0A9639634453595EF3E33FFE4E7AC2AB",
	  "FE534D4240000100000000000900400008000000000000000400000000000000"
	  "FFFE0000010000001100001400E4080000000000000000000000000000000000"
	  "3100700017000000000000000000000015010000390000020100000039020000"
	  "00000000000000007000000000000000536D623320656E6372797074696F6E20"
	  "74657374696E67" },
	{ /* "Encryption in SMB 3.0", server -> client WRITE response */
	  SMB2_CIPHER_AES128_CCM, "8FE2B57EC34D2DB5B1A9727F526BBDB5",
	  "FD534D42A6015530A18F6D9AFFE22AFAE8E66484860000000000000011000014"
	  "00E4080050000000000001001100001400E40800DBF46435C5F14169293CE079"
	  "E344479BF670227E49873F458672C3098DAC467DD5809F369D67409166515787"
	  "1483E01F7BECD02064EAC3E235F913668BBC2F097980D4B378F1993EFF6E60D1"
	  "77309E5B",
	  "FE534D4240000100000000000900210009000000000000000400000000000000"
	  "FFFE0000010000001100001400E4080000000000000000000000000000000000"
	  "11000000170000000000000000000000" },
	{ /* "SMB 3.1.1 Encryption in Windows 10", client -> server WRITE request */
	  SMB2_CIPHER_AES128_GCM, "A2F5E80E5D59103034F32E52F698E5EC",
	  "FD534D42BD73D97D2BC9001BCAFAC0FDFF5FEEBCC7D6822D269CAF48904C664C0000000087000000"
	  "0000010025000000001000006ECDD2A7AFC7B47763057A041B8FD4DAFFE990B70C9E09D36C084E02"
	  "D14EF247F8BDE38ACF6256F8B1D3B56F77FBDEB312FEA5E92CBCC1ED8FB2EBBFAA75E49A4A394BB4"
	  "4576545567C24D4C014D47C9FBDFDAFD2C4F9B72F8D256452620A299F48E29E53D6B61D1C13A19E9"
	  "1AF013F00D17E3ABC2FC3D36C8C1B6B93973253852DBD442E46EE8",
	  "FE534D4240000100000000000900010008000000000000000500000000000000FFFE000001000000"
	  "25000000001000000000000000000000000000000000000031007000170000000000000000000000"
	  "0600000004000000010000000400000000000000000000007000000000000000536D623320656E63"
	  "72797074696F6E2074657374696E67" },
	{ /* "SMB 3.1.1 Encryption in Windows 10", server -> client WRITE response */
	  SMB2_CIPHER_AES128_GCM, "748C50868C90F302962A5C35F5F9A8BF",
	  "FD534D42ACBE1CB7ED343ADF1725EF144D90D4B0E06831DD2E8EB7B4000000000000000050000000"
	  "00000100250000000010000026BBBF949983A6C1C796559D0F2C510CB651D1F7B6AC8DED32A2A0B8"
	  "F2D793A815C6F6B848D69767A215841A42D400AE6DDB5F0B44173A014973321FDD7950DA6179159B"
	  "82E03C9E18A050FF0EA1C967",
	  "FE534D4240000100000000000900010001000000000000000500000000000000FFFE000001000000"
	  "25000000001000000000000000000000000000000000000011000000170000000000000000000000" },
};

#define TH_SIG_OFF 4
#define TH_NONCE_OFF 20
#define TH_AAD_OFF 20
#define TH_AAD_LEN 32
#define TH_LEN 52

static void test_aead_smb_vectors(void **state)
{
	for (size_t v = 0; v < sizeof(transform_vectors) / sizeof(transform_vectors[0]); v++) {
		const struct transform_vector *tv = &transform_vectors[v];
		size_t tlen, plen;
		uint8_t *th = unhex(tv->transform, &tlen);
		uint8_t *plain = unhex(tv->plain, &plen);
		uint8_t key[16], tag[16];
		uint8_t *buf = malloc(plen);

		assert_non_null(buf);
		unhex_into(tv->key, key, 16);
		assert_int_equal(tlen, TH_LEN + plen);
		/* OriginalMessageSize */
		assert_int_equal(th[36] | th[37] << 8, plen);

		/* Encrypt: the published ciphertext and signature. */
		memcpy(buf, plain, plen);
		struct iovec one = { buf, plen };
		assert_true(smb2_aead_encrypt(tv->cipher, key, th + TH_NONCE_OFF,
					      th + TH_AAD_OFF, TH_AAD_LEN, &one, 1, tag));
		assert_memory_equal(buf, th + TH_LEN, plen);
		assert_memory_equal(tag, th + TH_SIG_OFF, 16);

		/* The same with the payload split (header / body / rest). */
		memcpy(buf, plain, plen);
		struct iovec three[3] = {
			{ buf, 64 }, { buf + 64, 7 }, { buf + 71, plen - 71 },
		};
		memset(tag, 0, sizeof(tag));
		assert_true(smb2_aead_encrypt(tv->cipher, key, th + TH_NONCE_OFF,
					      th + TH_AAD_OFF, TH_AAD_LEN, three, 3, tag));
		assert_memory_equal(buf, th + TH_LEN, plen);
		assert_memory_equal(tag, th + TH_SIG_OFF, 16);

		/* Decrypt the published message, whole and split. */
		memcpy(buf, th + TH_LEN, plen);
		assert_true(smb2_aead_decrypt(tv->cipher, key, th + TH_NONCE_OFF,
					      th + TH_AAD_OFF, TH_AAD_LEN, &one, 1, th + TH_SIG_OFF));
		assert_memory_equal(buf, plain, plen);
		memcpy(buf, th + TH_LEN, plen);
		assert_true(smb2_aead_decrypt(tv->cipher, key, th + TH_NONCE_OFF,
					      th + TH_AAD_OFF, TH_AAD_LEN, three, 3, th + TH_SIG_OFF));
		assert_memory_equal(buf, plain, plen);

		free(buf);
		free(th);
		free(plain);
	}
}

/* The GCM specification's test cases 2 (AES-128) and 14 (AES-256): zero key and IV, 16 zero bytes. */
static void test_aead_gcm_spec_vectors(void **state)
{
	uint8_t key[32] = { 0 }, iv[12] = { 0 }, buf[16] = { 0 }, tag[16];
	struct iovec iov = { buf, sizeof(buf) };

	assert_true(smb2_aead_encrypt(SMB2_CIPHER_AES128_GCM, key, iv, NULL, 0, &iov, 1, tag));
	assert_hex_equal(buf, 16, "0388dace60b6a392f328c2b971b2fe78");
	assert_hex_equal(tag, 16, "ab6e47d42cec13bdf53a67b21257bddf");

	memset(buf, 0, sizeof(buf));
	assert_true(smb2_aead_encrypt(SMB2_CIPHER_AES256_GCM, key, iv, NULL, 0, &iov, 1, tag));
	assert_hex_equal(buf, 16, "cea7403d4d606b6e074ec5d3baf39d18");
	assert_hex_equal(tag, 16, "d0d1c8a799996bf0265b98b5d48ab919");
}

static const enum smb2_cipher all_ciphers[] = {
	SMB2_CIPHER_AES128_CCM, SMB2_CIPHER_AES128_GCM,
	SMB2_CIPHER_AES256_CCM, SMB2_CIPHER_AES256_GCM,
};

static void test_aead_sizes(void **state)
{
	assert_int_equal(smb2_cipher_key_len(SMB2_CIPHER_AES128_CCM), 16);
	assert_int_equal(smb2_cipher_key_len(SMB2_CIPHER_AES128_GCM), 16);
	assert_int_equal(smb2_cipher_key_len(SMB2_CIPHER_AES256_CCM), 32);
	assert_int_equal(smb2_cipher_key_len(SMB2_CIPHER_AES256_GCM), 32);
	assert_int_equal(smb2_cipher_nonce_len(SMB2_CIPHER_AES128_CCM), 11);
	assert_int_equal(smb2_cipher_nonce_len(SMB2_CIPHER_AES256_CCM), 11);
	assert_int_equal(smb2_cipher_nonce_len(SMB2_CIPHER_AES128_GCM), 12);
	assert_int_equal(smb2_cipher_nonce_len(SMB2_CIPHER_AES256_GCM), 12);
	assert_int_equal(smb2_cipher_key_len((enum smb2_cipher)0), 0);
	assert_int_equal(smb2_cipher_nonce_len((enum smb2_cipher)5), 0);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Round trip, split invariance and tamper detection for every cipher. */
static void test_aead_roundtrip_and_tamper(void **state)
{
	enum { PLEN = 300 };
	uint8_t key[32], nonce[16], aad[32], plain[PLEN], buf[PLEN], ref[PLEN];
	uint8_t tag[16], ref_tag[16];

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(3 * i + 1);
	for (size_t i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)(0xF0 ^ i);
	for (size_t i = 0; i < sizeof(aad); i++)
		aad[i] = (uint8_t)(i * 7);
	for (size_t i = 0; i < PLEN; i++)
		plain[i] = (uint8_t)(i * 13 + 5);

	for (size_t c = 0; c < 4; c++) {
		enum smb2_cipher ci = all_ciphers[c];
		struct iovec one = { buf, PLEN };

		memcpy(ref, plain, PLEN);
		struct iovec ref_iov = { ref, PLEN };
		assert_true(smb2_aead_encrypt(ci, key, nonce, aad, sizeof(aad), &ref_iov, 1, ref_tag));
		assert_memory_not_equal(ref, plain, PLEN);

		/* Same ciphertext and tag whatever the split. */
		for (size_t cut = 0; cut <= PLEN; cut += 37) {
			struct iovec two[3] = {
				{ buf, cut }, { NULL, 0 }, { buf + cut, PLEN - cut },
			};

			memcpy(buf, plain, PLEN);
			assert_true(smb2_aead_encrypt(ci, key, nonce, aad, sizeof(aad), two, 3, tag));
			assert_memory_equal(buf, ref, PLEN);
			assert_memory_equal(tag, ref_tag, 16);
			assert_true(smb2_aead_decrypt(ci, key, nonce, aad, sizeof(aad), two, 3, tag));
			assert_memory_equal(buf, plain, PLEN);
		}

		/* Sealed from gathered pieces into a separate buffer: the same
		 * bytes, and the pieces left as they were. */
		for (size_t cut = 0; cut <= PLEN; cut += 37) {
			const struct iovec in[3] = {
				{ plain, cut }, { NULL, 0 }, { plain + cut, PLEN - cut },
			};
			uint8_t out[PLEN];
			uint8_t before[PLEN];

			memcpy(before, plain, PLEN);
			assert_true(smb2_aead_encrypt_to(ci, key, nonce, aad, sizeof(aad), in, 3, out, tag));
			assert_memory_equal(out, ref, PLEN);
			assert_memory_equal(tag, ref_tag, 16);
			assert_memory_equal(plain, before, PLEN);
		}

		/* A flipped ciphertext bit, single and split payloads. */
		for (int split = 0; split < 2; split++) {
			struct iovec two[2] = { { buf, 100 }, { buf + 100, PLEN - 100 } };

			memcpy(buf, ref, PLEN);
			buf[150] ^= 0x04;
			assert_false(smb2_aead_decrypt(ci, key, nonce, aad, sizeof(aad),
						       split ? two : &one, split ? 2 : 1, ref_tag));
			/* Never unauthenticated plaintext left behind. */
			assert_true(all_zero(buf, PLEN));
		}

		/* A flipped tag bit. */
		memcpy(buf, ref, PLEN);
		memcpy(tag, ref_tag, 16);
		tag[15] ^= 0x80;
		assert_false(smb2_aead_decrypt(ci, key, nonce, aad, sizeof(aad), &one, 1, tag));

		/* A flipped AAD bit (a transform header field). */
		memcpy(buf, ref, PLEN);
		aad[20] ^= 0x01;
		assert_false(smb2_aead_decrypt(ci, key, nonce, aad, sizeof(aad), &one, 1, ref_tag));
		aad[20] ^= 0x01;

		/* Another nonce, another key. */
		memcpy(buf, ref, PLEN);
		nonce[0] ^= 1;
		assert_false(smb2_aead_decrypt(ci, key, nonce, aad, sizeof(aad), &one, 1, ref_tag));
		nonce[0] ^= 1;
		memcpy(buf, ref, PLEN);
		key[0] ^= 1;
		assert_false(smb2_aead_decrypt(ci, key, nonce, aad, sizeof(aad), &one, 1, ref_tag));
		key[0] ^= 1;

		/* Still decrypts after all that. */
		memcpy(buf, ref, PLEN);
		assert_true(smb2_aead_decrypt(ci, key, nonce, aad, sizeof(aad), &one, 1, ref_tag));
		assert_memory_equal(buf, plain, PLEN);

		/* No AAD at all. */
		memcpy(buf, plain, PLEN);
		assert_true(smb2_aead_encrypt(ci, key, nonce, NULL, 0, &one, 1, tag));
		assert_true(smb2_aead_decrypt(ci, key, nonce, NULL, 0, &one, 1, tag));
		assert_memory_equal(buf, plain, PLEN);
	}
}

static void test_aead_bad_args(void **state)
{
	uint8_t key[32] = { 0 }, nonce[16] = { 0 }, buf[16] = { 0 }, tag[16];
	struct iovec iov = { buf, sizeof(buf) };

	assert_false(smb2_aead_encrypt((enum smb2_cipher)0, key, nonce, NULL, 0, &iov, 1, tag));
	assert_false(smb2_aead_encrypt(SMB2_CIPHER_AES128_GCM, NULL, nonce, NULL, 0, &iov, 1, tag));
	assert_false(smb2_aead_encrypt(SMB2_CIPHER_AES128_GCM, key, NULL, NULL, 0, &iov, 1, tag));
	assert_false(smb2_aead_encrypt(SMB2_CIPHER_AES128_GCM, key, nonce, NULL, 4, &iov, 1, tag));
	assert_false(smb2_aead_encrypt(SMB2_CIPHER_AES128_GCM, key, nonce, NULL, 0, &iov, -1, tag));
	/* CCM needs a payload. */
	assert_false(smb2_aead_encrypt(SMB2_CIPHER_AES128_CCM, key, nonce, NULL, 0, NULL, 0, tag));
	/* GCM with an empty payload is plain GMAC: GCM spec test case 1. */
	assert_true(smb2_aead_encrypt(SMB2_CIPHER_AES128_GCM, key, nonce, NULL, 0, NULL, 0, tag));
	assert_hex_equal(tag, 16, "58e2fccefa7e3061367f1d57a4e7455a");
}

/* Opening in steps gives what opening whole does, whatever the split; a
 * flipped bit is caught at the end; CCM is refused. */
static void test_aead_open_in_steps(void **state)
{
	enum { PLEN = 100003 };
	static uint8_t plain[PLEN], buf[PLEN];
	uint8_t key[32], nonce[12], aad[32], tag[16];
	for (size_t i = 0; i < PLEN; i++)
		plain[i] = (uint8_t)(i * 131 + 7);
	memset(key, 0x42, sizeof(key));
	memset(nonce, 0x17, sizeof(nonce));
	memset(aad, 0x99, sizeof(aad));
	static const size_t steps[] = { 1, 15, 16, 17, 4096, 65536, PLEN };

	for (enum smb2_cipher ci = SMB2_CIPHER_AES128_GCM; ci <= SMB2_CIPHER_AES256_GCM; ci += 2) {
		memcpy(buf, plain, PLEN);
		struct iovec iov = { buf, PLEN };
		assert_true(smb2_aead_encrypt(ci, key, nonce, aad, sizeof(aad), &iov, 1, tag));
		for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			static uint8_t sealed[PLEN];
			memcpy(sealed, buf, PLEN);
			struct smb2_aead_opener *o = smb2_aead_open_begin(ci, key, nonce, aad, sizeof(aad));
			assert_non_null(o);
			for (size_t at = 0; at < PLEN; at += steps[k]) {
				size_t n = PLEN - at < steps[k] ? PLEN - at : steps[k];
				assert_true(smb2_aead_open_update(o, sealed + at, n));
			}
			assert_true(smb2_aead_open_end(o, tag));
			assert_memory_equal(sealed, plain, PLEN);
		}
		/* Tampered: every update goes through, the end refuses. */
		buf[PLEN / 2] ^= 1;
		struct smb2_aead_opener *o = smb2_aead_open_begin(ci, key, nonce, aad, sizeof(aad));
		assert_true(smb2_aead_open_update(o, buf, PLEN / 3));
		assert_true(smb2_aead_open_update(o, buf + PLEN / 3, PLEN - PLEN / 3));
		assert_false(smb2_aead_open_end(o, tag));
		/* Abandoned half way: nothing leaks (ASan watches). */
		o = smb2_aead_open_begin(ci, key, nonce, aad, sizeof(aad));
		assert_true(smb2_aead_open_update(o, buf, 1000));
		smb2_aead_open_abandon(o);
	}
	assert_null(smb2_aead_open_begin(SMB2_CIPHER_AES128_CCM, key, nonce, aad, sizeof(aad)));
	assert_null(smb2_aead_open_begin((enum smb2_cipher)0, key, nonce, aad, sizeof(aad)));
	assert_null(smb2_aead_open_begin(SMB2_CIPHER_AES128_GCM, key, nonce, NULL, 4));
	smb2_aead_open_abandon(NULL);
}

/* ---- GCM in parts ---- */

/* Seals or opens buf in the parts cut at 'cuts' (ascending, 16-aligned)
 * and joins their tag. */
static bool run_parts(bool enc, enum smb2_cipher ci, const uint8_t *key, const uint8_t *nonce,
		      const uint8_t *aad, size_t aad_len, const struct iovec *in, int incnt, uint8_t *out,
		      size_t len, const size_t *cuts, size_t ncuts, uint8_t tag[16])
{
	struct smb2_gcm_part parts[8];
	size_t from = 0;
	assert_true(ncuts < 8);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : len;
		if (!smb2_gcm_part_run(enc, ci, key, nonce, from, in, incnt, out + from, to - from, &parts[i]))
			return false;
		from = to;
	}
	return smb2_gcm_parts_tag(ci, key, nonce, aad, aad_len, parts, ncuts + 1, tag);
}

/* Any cut gives the ciphertext and the tag of one pass, with and without
 * the CPU's carry-less multiply; opened in parts, the plaintext comes back
 * and a flipped bit anywhere changes the tag. */
static void test_gcm_parts_match_one_pass(void **state)
{
	enum { MAX = 1048576 + 80 };
	static uint8_t plain[MAX], want[MAX], got[MAX];
	static const size_t lens[] = { 0, 1, 15, 16, 17, 4096, 65536 + 80, 100003, MAX };
	static const size_t aad_lens[] = { 32, 0, 5, 20 };
	uint8_t key[32], nonce[12], aad[32], tag_want[16], tag_got[16];
	for (size_t i = 0; i < MAX; i++)
		plain[i] = (uint8_t)(i * 131 + 7);
	assert_true(crypto_random(key, sizeof(key)));
	assert_true(crypto_random(nonce, sizeof(nonce)));
	assert_true(crypto_random(aad, sizeof(aad)));

	for (int portable = 0; portable <= 1; portable++) {
		smb2_gcm_parts_portable(portable);
		for (enum smb2_cipher ci = SMB2_CIPHER_AES128_GCM; ci <= SMB2_CIPHER_AES256_GCM; ci += 2) {
			for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
				size_t len = lens[k], aad_len = aad_lens[k % 4];
				/* An SMB2 reply as the server gathers it: header, body, data. */
				size_t h = len < 80 ? len : 64, b = len < 80 ? 0 : 16;
				struct iovec in[3] = { { plain, h }, { plain + h, b }, { plain + h + b, len - h - b } };
				assert_true(smb2_aead_encrypt_to(ci, key, nonce, aad, aad_len, in, 3, want, tag_want));
				/* none, one in the middle, many, and one right after the start */
				size_t cuts[4][5] = { { 0 }, { len / 32 * 16 }, { 16, len / 64 * 16, len / 32 * 16, len / 16 * 16 }, { 16 } };
				size_t ncuts[4] = { 0, 1, len >= 64 ? 4 : 0, len >= 16 ? 1 : 0 };
				for (int c = 0; c < 4; c++) {
					memset(got, 0, len);
					assert_true(run_parts(true, ci, key, nonce, aad, aad_len, in, 3, got, len, cuts[c],
							      ncuts[c], tag_got));
					assert_memory_equal(got, want, len);
					assert_memory_equal(tag_got, tag_want, 16);

					assert_true(run_parts(false, ci, key, nonce, aad, aad_len, NULL, 0, got, len, cuts[c],
							      ncuts[c], tag_got));
					assert_memory_equal(tag_got, tag_want, 16);
					assert_memory_equal(got, plain, len);
				}
				if (len == 0)
					continue;
				memcpy(got, want, len);
				got[len * 2 / 3] ^= 0x10;
				assert_true(run_parts(false, ci, key, nonce, aad, aad_len, NULL, 0, got, len, cuts[1], ncuts[1],
						      tag_got));
				assert_memory_not_equal(tag_got, tag_want, 16);
			}
		}
	}
	smb2_gcm_parts_portable(false);

	/* A part must start on a block; CCM has no parts. */
	struct smb2_gcm_part part;
	struct iovec one = { plain, 64 };
	assert_false(smb2_gcm_part_run(true, SMB2_CIPHER_AES128_GCM, key, nonce, 8, &one, 1, got, 32, &part));
	assert_false(smb2_gcm_part_run(true, SMB2_CIPHER_AES128_CCM, key, nonce, 0, &one, 1, got, 32, &part));
	assert_false(smb2_gcm_part_run(true, SMB2_CIPHER_AES128_GCM, key, nonce, 80, &one, 1, got, 16, &part));
	assert_false(smb2_gcm_parts_tag(SMB2_CIPHER_AES128_CCM, key, nonce, aad, 32, &part, 1, tag_got));
}

/* ---- random ---- */

/* GMAC signing in parts (the message as AAD) gives the one-pass GMAC,
 * cut anywhere on a block, over a message gathered as the server lays a
 * reply out, with and without the carry-less multiply. */
static void test_gmac_parts_match_one_pass(void **state)
{
	enum { MAX = 1048576 + 80 };
	static uint8_t msg[MAX];
	static const size_t lens[] = { 1, 15, 16, 17, 64, 4096, 65536 + 80, 100003, MAX };
	uint8_t key[16], nonce[12], want[16], got[16];
	for (size_t i = 0; i < MAX; i++)
		msg[i] = (uint8_t)(i * 37 + 11);
	assert_true(crypto_random(key, sizeof(key)));
	assert_true(crypto_random(nonce, sizeof(nonce)));

	for (int portable = 0; portable <= 1; portable++) {
		smb2_gcm_parts_portable(portable);
		for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
			size_t len = lens[k];
			size_t h = len < 80 ? len : 64, b = len < 80 ? 0 : 16;
			struct iovec in[3] = { { msg, h }, { msg + h, b }, { msg + h + b, len - h - b } };
			assert_true(smb2_aes_gmac_iov(key, nonce, in, 3, want));
			/* none, one in the middle, many (one inside the header), one right after the start */
			size_t cuts[4][5] = { { 0 }, { len / 32 * 16 }, { 16, len / 64 * 16, len / 32 * 16, len / 16 * 16 }, { 16 } };
			size_t ncuts[4] = { 0, 1, len >= 64 ? 4 : 0, len > 16 ? 1 : 0 };
			for (int c = 0; c < 4; c++) {
				struct smb2_gcm_part parts[6];
				size_t from = 0, n = 0;
				for (size_t j = 0; j <= ncuts[c]; j++) {
					size_t to = j < ncuts[c] ? cuts[c][j] : len;
					if (to <= from && j < ncuts[c])
						continue;
					assert_true(smb2_gmac_part_run(key, nonce, from, in, 3, to - from, &parts[n++]));
					from = to;
				}
				assert_true(smb2_gmac_parts_tag(key, nonce, parts, n, got));
				assert_memory_equal(got, want, 16);
			}
			/* A changed byte changes the joined tag. */
			msg[len * 2 / 3] ^= 0x10;
			struct smb2_gcm_part parts[2];
			size_t cut = len / 32 * 16;
			assert_true(smb2_gmac_part_run(key, nonce, 0, in, 3, cut, &parts[0]));
			assert_true(smb2_gmac_part_run(key, nonce, cut, in, 3, len - cut, &parts[1]));
			assert_true(smb2_gmac_parts_tag(key, nonce, parts, 2, got));
			assert_memory_not_equal(got, want, 16);
			msg[len * 2 / 3] ^= 0x10;
		}
	}
	smb2_gcm_parts_portable(false);

	/* A part starts on a block and lies within the message. */
	struct smb2_gcm_part part;
	struct iovec one = { msg, 64 };
	assert_false(smb2_gmac_part_run(key, nonce, 8, &one, 1, 32, &part));
	assert_false(smb2_gmac_part_run(key, nonce, 48, &one, 1, 32, &part));
	assert_false(smb2_gmac_part_run(key, nonce, 80, &one, 1, 16, &part));
	assert_false(smb2_gmac_parts_tag(NULL, nonce, &part, 1, got));
}

static void test_random(void **state)
{
	uint8_t a[64] = { 0 }, b[64] = { 0 };

	assert_true(crypto_random(a, sizeof(a)));
	assert_true(crypto_random(b, sizeof(b)));
	assert_memory_not_equal(a, b, sizeof(a));
	assert_true(crypto_random(NULL, 0));
	assert_false(crypto_random(NULL, 1));
}

/* ---- threads ---- */

static void *sign_worker(void *arg)
{
	uint8_t key[16], sig[16];
	size_t len;
	uint8_t *msg = unhex(cmac_msg, &len);
	struct iovec iov = { msg, 40 };
	bool *ok = arg;

	unhex_into(cmac_key, key, 16);
	*ok = true;
	for (int i = 0; i < 200 && *ok; i++) {
		uint8_t want[16];

		unhex_into(cmac_vectors[2].mac, want, 16);
		*ok = smb2_aes_cmac_iov(key, &iov, 1, sig) && memcmp(sig, want, 16) == 0;
	}
	free(msg);
	return NULL;
}

static void test_threads(void **state)
{
	enum { N = 8 };
	pthread_t t[N];
	bool ok[N];

	for (int i = 0; i < N; i++)
		assert_int_equal(pthread_create(&t[i], NULL, sign_worker, &ok[i]), 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_true(ok[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* first, so that the one-time fetch races between threads */
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_cmac_rfc4493),
		cmocka_unit_test(test_hmac_sha256_rfc4231),
		cmocka_unit_test(test_gmac_nist),
		cmocka_unit_test(test_sign_algorithms_use_their_mac),
		cmocka_unit_test(test_sign_gmac_nonce_rule),
		cmocka_unit_test(test_sign_split_invariance),
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_sign_stream),
		cmocka_unit_test(test_sign_bad_args),
		cmocka_unit_test(test_kdf_smb300_signing_key),
		cmocka_unit_test(test_keys_smb300_encryption),
		cmocka_unit_test(test_keys_smb311_encryption),
		cmocka_unit_test(test_preauth_and_smb311_signing_key),
		cmocka_unit_test(test_keys_aes256_and_bad_args),
		cmocka_unit_test(test_aead_smb_vectors),
		cmocka_unit_test(test_aead_gcm_spec_vectors),
		cmocka_unit_test(test_aead_sizes),
		cmocka_unit_test(test_aead_roundtrip_and_tamper),
		cmocka_unit_test(test_aead_bad_args),
		cmocka_unit_test(test_aead_open_in_steps),
		cmocka_unit_test(test_gcm_parts_match_one_pass),
		cmocka_unit_test(test_gmac_parts_match_one_pass),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
