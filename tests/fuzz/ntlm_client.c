#include "config.h"
#include "tests/fuzz/ntlm_client.h"

#include <string.h>

#include "lib/auth/ntlm_crypto.h"
#include "lib/auth/ntlmssp.h"
#include "lib/auth/spnego.h"
#include "lib/unicode.h"
#include "lib/wire.h"

static const uint8_t ntlmssp_sig[8] = { 'N', 'T', 'L', 'M', 'S', 'S', 'P', 0 };

#define CLIENT_FLAGS                                                                                          \
	(NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_REQUEST_TARGET | NTLMSSP_NEGOTIATE_NTLM |                            \
	 NTLMSSP_NEGOTIATE_ALWAYS_SIGN | NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY |                             \
	 NTLMSSP_NEGOTIATE_TARGET_INFO | NTLMSSP_NEGOTIATE_VERSION | NTLMSSP_NEGOTIATE_128 | NTLMSSP_NEGOTIATE_56)
#define KEY_EXCH_FLAGS (NTLMSSP_NEGOTIATE_KEY_EXCH | NTLMSSP_NEGOTIATE_SIGN | NTLMSSP_NEGOTIATE_SEAL)

/* Fixed where a real client would be random: seeds must be reproducible. */
static const uint8_t client_challenge[8] = { 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa };
static const uint8_t random_session_key[16] = { 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
						0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55 };
static const uint64_t client_time = 0x01d9000000000000ull;

static void put_version(struct wire_wr *w)
{
	static const uint8_t v[8] = { 10, 0, 0x61, 0x4a, 0, 0, 0, 0x0f };
	wire_put_bytes(w, v, sizeof(v));
}

uint8_t *ntlmc_negotiate(TALLOC_CTX *mem, bool key_exch, size_t *len)
{
	struct wire_wr w;
	wire_wr_init(&w, mem, 40);
	wire_put_bytes(&w, ntlmssp_sig, 8);
	wire_put_u32(&w, 1);
	wire_put_u32(&w, CLIENT_FLAGS | (key_exch ? KEY_EXCH_FLAGS : 0));
	wire_put_zeros(&w, 16); /* DomainNameFields, WorkstationFields */
	put_version(&w);
	*len = w.len;
	return wire_wr_ok(&w) ? w.buf : NULL;
}

static void put_av_utf16(struct wire_wr *w, uint16_t id, const char *s)
{
	size_t n = 0;
	uint8_t *u = utf8_to_utf16le(w->mem, s, &n);
	wire_put_u16(w, id);
	wire_put_u16(w, (uint16_t)n);
	wire_put_bytes(w, u, n);
	talloc_free(u);
}

uint8_t *ntlmc_fake_challenge(TALLOC_CTX *mem, const uint8_t server_challenge[8], size_t *len)
{
	struct wire_wr ti, w;
	wire_wr_init(&ti, mem, 128);
	put_av_utf16(&ti, MSV_AV_NB_DOMAIN_NAME, "WORKGROUP");
	put_av_utf16(&ti, MSV_AV_NB_COMPUTER_NAME, "FUZZ");
	wire_put_u16(&ti, MSV_AV_TIMESTAMP);
	wire_put_u16(&ti, 8);
	wire_put_u64(&ti, client_time);
	wire_put_u32(&ti, MSV_AV_EOL);

	static const uint8_t name[8] = { 'F', 0, 'U', 0, 'Z', 0, 'Z', 0 };
	wire_wr_init(&w, mem, 128);
	wire_put_bytes(&w, ntlmssp_sig, 8);
	wire_put_u32(&w, 2);
	wire_put_u16(&w, sizeof(name));
	wire_put_u16(&w, sizeof(name));
	wire_put_u32(&w, 56);
	wire_put_u32(&w, CLIENT_FLAGS | KEY_EXCH_FLAGS | NTLMSSP_TARGET_TYPE_SERVER);
	wire_put_bytes(&w, server_challenge, 8);
	wire_put_zeros(&w, 8);
	wire_put_u16(&w, (uint16_t)ti.len);
	wire_put_u16(&w, (uint16_t)ti.len);
	wire_put_u32(&w, 56 + sizeof(name));
	put_version(&w);
	wire_put_bytes(&w, name, sizeof(name));
	wire_put_bytes(&w, ti.buf, ti.len);
	talloc_free(ti.buf);
	*len = w.len;
	return wire_wr_ok(&w) ? w.buf : NULL;
}

/* The server's AV pairs up to EOL, with MsvAvFlags added when a MIC follows. */
static bool copy_av_pairs(struct wire_wr *out, const uint8_t *av, size_t len, bool mic)
{
	struct wire_rd r;
	wire_rd_init(&r, av, len);
	for (;;) {
		uint16_t id = wire_u16(&r);
		uint16_t alen = wire_u16(&r);
		const uint8_t *val = wire_ptr(&r, alen);
		if (!wire_ok(&r))
			return false;
		if (id == MSV_AV_EOL)
			break;
		wire_put_u16(out, id);
		wire_put_u16(out, alen);
		wire_put_bytes(out, val, alen);
	}
	if (mic) {
		wire_put_u16(out, MSV_AV_FLAGS);
		wire_put_u16(out, 4);
		wire_put_u32(out, MSV_AV_FLAG_MIC_PRESENT);
	}
	wire_put_u32(out, MSV_AV_EOL);
	return true;
}

/* One Len/MaxLen/Offset triple whose payload goes at *payload. */
static void put_field(struct wire_wr *w, struct wire_wr *payload, uint32_t base, const void *p, size_t n)
{
	wire_put_u16(w, (uint16_t)n);
	wire_put_u16(w, (uint16_t)n);
	wire_put_u32(w, base + (uint32_t)payload->len);
	if (n)
		wire_put_bytes(payload, p, n);
}

uint8_t *ntlmc_authenticate(TALLOC_CTX *mem, const uint8_t *challenge, size_t challenge_len,
			    const struct ntlmc_opts *o, size_t *len, uint8_t session_key[16])
{
	struct wire_rd r, ti;
	wire_rd_init(&r, challenge, challenge_len);
	wire_skip(&r, 20);
	uint32_t flags = wire_u32(&r);
	uint8_t server_challenge[8];
	wire_copy(&r, server_challenge, 8);
	wire_skip(&r, 8);
	uint16_t ti_len = wire_u16(&r);
	wire_skip(&r, 2);
	uint32_t ti_off = wire_u32(&r);
	if (!wire_ok(&r) || !wire_slice(&r, ti_off, ti_len, &ti))
		return NULL;

	TALLOC_CTX *tmp = talloc_new(mem);
	bool anonymous = o->user == NULL || o->user[0] == 0;
	bool key_exch = o->key_exch && (flags & NTLMSSP_NEGOTIATE_KEY_EXCH);
	struct wire_wr nt, payload, w;
	wire_wr_init(&nt, tmp, 256);
	wire_wr_init(&payload, tmp, 512);
	uint8_t exported[16] = { 0 }, enc_key[16];
	bool ok = true;
	if (!anonymous) {
		uint8_t nt_hash[16], owf[16], proof[16], base[16];
		struct wire_wr temp;
		wire_wr_init(&temp, tmp, 256);
		wire_put_u8(&temp, 1);
		wire_put_u8(&temp, 1);
		wire_put_zeros(&temp, 6);
		wire_put_u64(&temp, client_time);
		wire_put_bytes(&temp, client_challenge, 8);
		wire_put_u32(&temp, 0);
		ok = copy_av_pairs(&temp, wire_ptr(&ti, ti_len), ti_len, o->mic);
		wire_put_u32(&temp, 0);
		ok = ok && wire_wr_ok(&temp) && ntlm_nt_hash(o->password, nt_hash) &&
		     ntlm_ntowfv2(nt_hash, o->user, o->domain, owf) &&
		     ntlm_hmac_md5(owf, 16, server_challenge, 8, temp.buf, temp.len, NULL, 0, proof) &&
		     ntlm_hmac_md5(owf, 16, proof, 16, NULL, 0, NULL, 0, base);
		wire_put_bytes(&nt, proof, 16);
		wire_put_bytes(&nt, temp.buf, temp.len);
		memcpy(exported, key_exch ? random_session_key : base, 16);
		if (key_exch)
			ok = ok && ntlm_rc4_oneshot(base, 16, random_session_key, enc_key, 16);
	}
	if (!ok) {
		talloc_free(tmp);
		return NULL;
	}

	uint32_t out_flags = (flags & (CLIENT_FLAGS | KEY_EXCH_FLAGS)) | (anonymous ? NTLMSSP_ANONYMOUS : 0);
	if (!key_exch)
		out_flags &= ~NTLMSSP_NEGOTIATE_KEY_EXCH;
	const uint32_t base_off = 88; /* header, version and MIC */
	static const uint8_t lm_zero[24];
	size_t dlen = 0, ulen = 0, wlen = 0;
	uint8_t *dom = utf8_to_utf16le(tmp, anonymous ? "" : o->domain, &dlen);
	uint8_t *usr = utf8_to_utf16le(tmp, anonymous ? "" : o->user, &ulen);
	uint8_t *wks = utf8_to_utf16le(tmp, "FUZZER", &wlen);
	wire_wr_init(&w, mem, 512);
	wire_put_bytes(&w, ntlmssp_sig, 8);
	wire_put_u32(&w, 3);
	put_field(&w, &payload, base_off, lm_zero, anonymous ? 1 : 24);
	put_field(&w, &payload, base_off, nt.buf, nt.len);
	put_field(&w, &payload, base_off, dom, dlen);
	put_field(&w, &payload, base_off, usr, ulen);
	put_field(&w, &payload, base_off, wks, wlen);
	put_field(&w, &payload, base_off, enc_key, key_exch ? 16 : 0);
	wire_put_u32(&w, out_flags);
	put_version(&w);
	size_t mic_pos = wire_reserve(&w, 16);
	wire_put_bytes(&w, payload.buf, payload.len);
	if (o->mic && !anonymous && wire_wr_ok(&w)) {
		uint8_t mic[16];
		if (ntlm_hmac_md5(exported, 16, o->negotiate, o->negotiate_len, challenge, challenge_len, w.buf,
				  w.len, mic))
			wire_patch_bytes(&w, mic_pos, mic, 16);
	}
	talloc_free(tmp);
	if (!wire_wr_ok(&w))
		return NULL;
	if (session_key != NULL)
		memcpy(session_key, exported, 16);
	*len = w.len;
	return w.buf;
}

uint8_t *ntlmc_spnego_init(TALLOC_CTX *mem, const uint8_t *token, size_t len, size_t *out_len)
{
	const uint8_t *mechs[1] = { spnego_oid_ntlmssp };
	size_t lens[1] = { sizeof(spnego_oid_ntlmssp) };
	return spnego_encode_init(mem, mechs, lens, 1, token, len, NULL, NULL, 0, out_len);
}

uint8_t *ntlmc_spnego_resp(TALLOC_CTX *mem, const uint8_t *token, size_t len, size_t *out_len)
{
	return spnego_encode_resp(mem, -1, NULL, 0, token, len, NULL, 0, out_len);
}
