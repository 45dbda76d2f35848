/*
 * NTLMSSP server and the SPNEGO exchange around it: MS-NLMP 4.2.4 test
 * vectors, then full exchanges driven by a small NTLMv2 client written
 * here (NEGOTIATE, CHALLENGE, AUTHENTICATE with MIC and KEY_EXCH).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/auth/auth.h"
#include "lib/auth/ntlm_crypto.h"
#include "lib/auth/ntlmssp.h"
#include "lib/auth/passdb.h"
#include "lib/auth/spnego.h"
#include "lib/log.h"
#include "lib/unicode.h"
#include "lib/wire.h"

/* MS-NLMP 4.2.1 common values and 4.2.4 NTLMv2 results. */
static const uint8_t v_server_challenge[8] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
static const uint8_t v_nt_hash[16] = {
	0xa4, 0xf4, 0x9c, 0x40, 0x65, 0x10, 0xbd, 0xca, 0xb6, 0x82, 0x4e, 0xe7, 0xc3, 0x0f, 0xd8, 0x52,
};
static const uint8_t v_response_key_nt[16] = {
	0x0c, 0x86, 0x8a, 0x40, 0x3b, 0xfd, 0x7a, 0x93, 0xa3, 0x00, 0x1e, 0xf2, 0x2e, 0xf0, 0x2e, 0x3f,
};
static const uint8_t v_nt_proof_str[16] = {
	0x68, 0xcd, 0x0a, 0xb8, 0x51, 0xe5, 0x1c, 0x96, 0xaa, 0xbc, 0x92, 0x7b, 0xeb, 0xef, 0x6a, 0x1c,
};
static const uint8_t v_session_base_key[16] = {
	0x8d, 0xe4, 0x0c, 0xca, 0xdb, 0xc1, 0x4a, 0x82, 0xf1, 0x5c, 0xb0, 0xad, 0x0d, 0xe9, 0x5c, 0xa3,
};
static const uint8_t v_encrypted_session_key[16] = {
	0xc5, 0xda, 0xd2, 0x54, 0x4f, 0xc9, 0x79, 0x90, 0x94, 0xce, 0x1c, 0xe9, 0x0b, 0xc9, 0xd0, 0x3e,
};
static const uint8_t v_seal_key_c2s[16] = {
	0x59, 0xf6, 0x00, 0x97, 0x3c, 0xc4, 0x96, 0x0a, 0x25, 0x48, 0x0a, 0x7c, 0x19, 0x6e, 0x4c, 0x58,
};
static const uint8_t v_sign_key_c2s[16] = {
	0x47, 0x88, 0xdc, 0x86, 0x1b, 0x47, 0x82, 0xf3, 0x5d, 0x43, 0xfd, 0x98, 0xfe, 0x1a, 0x2d, 0x39,
};
/* 4.2.4.4: "Plaintext" sealed, and the signature. */
static const uint8_t v_sealed[18] = {
	0x54, 0xe5, 0x01, 0x65, 0xbf, 0x19, 0x36, 0xdc, 0x99, 0x60, 0x20, 0xc1, 0x81, 0x1b, 0x0f, 0x06,
	0xfb, 0x5f,
};
static const uint8_t v_signature[16] = {
	0x01, 0x00, 0x00, 0x00, 0x7f, 0xb3, 0x8e, 0xc5, 0xc5, 0x5d, 0x49, 0x76, 0x00, 0x00, 0x00, 0x00,
};
/* 4.2.4.1.3 temp: header, Time 0, ClientChallenge aa*8, Z4, AV pairs, Z4. */
static const uint8_t v_temp[] = {
	0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x0c, 0x00,
	0x44, 0x00, 0x6f, 0x00, 0x6d, 0x00, 0x61, 0x00, 0x69, 0x00, 0x6e, 0x00, 0x01, 0x00, 0x0c, 0x00,
	0x53, 0x00, 0x65, 0x00, 0x72, 0x00, 0x76, 0x00, 0x65, 0x00, 0x72, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
};
/* 4.2.4.3: the AUTHENTICATE_MESSAGE (no MIC; KEY_EXCH with RandomSessionKey 55*16). */
static const uint8_t v_authenticate[] = {
	0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00, 0x03, 0x00, 0x00, 0x00, 0x18, 0x00, 0x18, 0x00,
	0x6c, 0x00, 0x00, 0x00, 0x54, 0x00, 0x54, 0x00, 0x84, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0c, 0x00,
	0x48, 0x00, 0x00, 0x00, 0x08, 0x00, 0x08, 0x00, 0x54, 0x00, 0x00, 0x00, 0x10, 0x00, 0x10, 0x00,
	0x5c, 0x00, 0x00, 0x00, 0x10, 0x00, 0x10, 0x00, 0xd8, 0x00, 0x00, 0x00, 0x35, 0x82, 0x88, 0xe2,
	0x05, 0x01, 0x28, 0x0a, 0x00, 0x00, 0x00, 0x0f, 0x44, 0x00, 0x6f, 0x00, 0x6d, 0x00, 0x61, 0x00,
	0x69, 0x00, 0x6e, 0x00, 0x55, 0x00, 0x73, 0x00, 0x65, 0x00, 0x72, 0x00, 0x43, 0x00, 0x4f, 0x00,
	0x4d, 0x00, 0x50, 0x00, 0x55, 0x00, 0x54, 0x00, 0x45, 0x00, 0x52, 0x00, 0x86, 0xc3, 0x50, 0x97,
	0xac, 0x9c, 0xec, 0x10, 0x25, 0x54, 0x76, 0x4a, 0x57, 0xcc, 0xcc, 0x19, 0xaa, 0xaa, 0xaa, 0xaa,
	0xaa, 0xaa, 0xaa, 0xaa, 0x68, 0xcd, 0x0a, 0xb8, 0x51, 0xe5, 0x1c, 0x96, 0xaa, 0xbc, 0x92, 0x7b,
	0xeb, 0xef, 0x6a, 0x1c, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0x00, 0x00, 0x00, 0x00,
	0x02, 0x00, 0x0c, 0x00, 0x44, 0x00, 0x6f, 0x00, 0x6d, 0x00, 0x61, 0x00, 0x69, 0x00, 0x6e, 0x00,
	0x01, 0x00, 0x0c, 0x00, 0x53, 0x00, 0x65, 0x00, 0x72, 0x00, 0x76, 0x00, 0x65, 0x00, 0x72, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc5, 0xda, 0xd2, 0x54, 0x4f, 0xc9, 0x79, 0x90,
	0x94, 0xce, 0x1c, 0xe9, 0x0b, 0xc9, 0xd0, 0x3e,
};

static const uint32_t client_flags =
	NTLMSSP_NEGOTIATE_56 | NTLMSSP_NEGOTIATE_KEY_EXCH | NTLMSSP_NEGOTIATE_128 |
	NTLMSSP_NEGOTIATE_VERSION | NTLMSSP_NEGOTIATE_TARGET_INFO |
	NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY | NTLMSSP_NEGOTIATE_ALWAYS_SIGN |
	NTLMSSP_NEGOTIATE_NTLM | NTLMSSP_NEGOTIATE_SEAL | NTLMSSP_NEGOTIATE_SIGN |
	NTLMSSP_REQUEST_TARGET | NTLMSSP_NEGOTIATE_UNICODE;

/* ---- fixture: a passdb with "User"/"Password" (and a disabled user) ---- */

struct fixture {
	char dir[64];
	char path[96];
	struct passdb *db;
	struct auth_server_config cfg;
};

static int setup(void **state)
{
	struct fixture *f = talloc_zero(NULL, struct fixture);
	strcpy(f->dir, "/tmp/test_ntlmssp.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/passdb", f->dir);
	assert_int_equal(passdb_set_password(f->path, "User", "Password", 1000, 100), 0);
	assert_int_equal(passdb_set_password(f->path, "off", "Password", 1001, 100), 0);
	assert_int_equal(passdb_set_disabled(f->path, "off", true), 0);
	/* Kerberos only: no NT hash. */
	assert_int_equal(passdb_set_password(f->path, "krbonly", NULL, 1002, 100), 0);
	assert_int_equal(passdb_load(f, f->path, &f->db), 0);
	f->cfg = (struct auth_server_config){
		.netbios_name = "PORTHOS",
		.domain = "WORKGROUP",
		.dns_name = "porthos.example.com",
		.dns_domain = "example.com",
		.db = f->db,
		.guest_ok = false,
	};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char lock[128];
	snprintf(lock, sizeof(lock), "%s.lock", f->path);
	unlink(f->path);
	unlink(lock);
	rmdir(f->dir);
	talloc_free(f);
	return 0;
}

/* ---- the test client ---- */

struct client_opts {
	const char *user;
	const char *domain;
	const char *password;
	bool no_mic;	      /* omit MsvAvFlags/MIC */
	bool corrupt_mic;
	bool ntlmv1;	      /* send a 24-byte NT response */
	bool anonymous;
	bool zero_hash;	      /* prove knowledge of the all-zero NT hash */
	uint8_t random_key[16];
};

struct client {
	uint8_t *negotiate;
	size_t negotiate_len;
	uint8_t exported[16];
	uint32_t flags;
};

static uint8_t *client_negotiate(TALLOC_CTX *mem, struct client *c, size_t *len)
{
	struct wire_wr w;
	wire_wr_init(&w, mem, 40);
	wire_put_bytes(&w, "NTLMSSP", 8);
	wire_put_u32(&w, 1);
	wire_put_u32(&w, client_flags);
	wire_put_zeros(&w, 16); /* no domain or workstation */
	wire_put_u8(&w, 10);
	wire_put_u8(&w, 0);
	wire_put_u16(&w, 19041);
	wire_put_zeros(&w, 3);
	wire_put_u8(&w, 15);
	assert_true(wire_wr_ok(&w));
	c->negotiate = w.buf;
	c->negotiate_len = w.len;
	*len = w.len;
	return w.buf;
}

static void put_field(struct wire_wr *w, size_t *payload_off, size_t len)
{
	wire_put_u16(w, (uint16_t)len);
	wire_put_u16(w, (uint16_t)len);
	wire_put_u32(w, (uint32_t)*payload_off);
	*payload_off += len;
}

static uint8_t *client_authenticate(TALLOC_CTX *mem, struct client *c,
				    const uint8_t *chal, size_t chal_len,
				    const struct client_opts *o, size_t *out_len)
{
	struct wire_rd r, ti;
	wire_rd_init(&r, chal, chal_len);
	wire_skip(&r, 20);
	uint32_t flags = wire_u32(&r);
	uint8_t server_chal[8];
	wire_copy(&r, server_chal, 8);
	wire_skip(&r, 8);
	uint16_t ti_len = wire_u16(&r);
	wire_skip(&r, 2);
	uint32_t ti_off = wire_u32(&r);
	assert_true(wire_ok(&r));
	assert_true(wire_slice(&r, ti_off, ti_len, &ti));
	c->flags = flags;

	/* The target info echoed back, with MsvAvFlags = MIC present. */
	struct wire_wr av;
	wire_wr_init(&av, mem, 256);
	for (;;) {
		uint16_t id = wire_u16(&ti), alen = wire_u16(&ti);
		const uint8_t *val = wire_ptr(&ti, alen);
		assert_true(wire_ok(&ti));
		if (id == MSV_AV_EOL)
			break;
		wire_put_u16(&av, id);
		wire_put_u16(&av, alen);
		wire_put_bytes(&av, val, alen);
	}
	if (!o->no_mic) {
		wire_put_u16(&av, MSV_AV_FLAGS);
		wire_put_u16(&av, 4);
		wire_put_u32(&av, MSV_AV_FLAG_MIC_PRESENT);
	}
	wire_put_u32(&av, 0); /* MsvAvEOL */

	struct wire_wr temp;
	wire_wr_init(&temp, mem, 256);
	wire_put_u8(&temp, 1);
	wire_put_u8(&temp, 1);
	wire_put_zeros(&temp, 6);
	wire_put_u64(&temp, 133000000000000000ull);
	wire_put_bytes(&temp, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	wire_put_zeros(&temp, 4);
	wire_put_bytes(&temp, av.buf, av.len);
	wire_put_zeros(&temp, 4);

	uint8_t nt_hash[16], key[16], proof[16], base[16], enc[16];
	uint8_t *nt = NULL;
	size_t nt_len = 0;
	uint8_t lm[24] = { 0 };
	size_t lm_len = 24;
	if (o->anonymous) {
		lm_len = 1;
	} else if (o->ntlmv1) {
		nt = talloc_zero_size(mem, 24);
		memset(nt, 0x42, 24);
		nt_len = 24;
	} else {
		if (o->zero_hash)
			memset(nt_hash, 0, sizeof(nt_hash));
		else
			assert_true(ntlm_nt_hash(o->password, nt_hash));
		assert_true(ntlm_ntowfv2(nt_hash, o->user, o->domain, key));
		assert_true(ntlm_hmac_md5(key, 16, server_chal, 8, temp.buf, temp.len, NULL, 0, proof));
		nt_len = 16 + temp.len;
		nt = talloc_size(mem, nt_len);
		memcpy(nt, proof, 16);
		memcpy(nt + 16, temp.buf, temp.len);
		assert_true(ntlm_hmac_md5(key, 16, proof, 16, NULL, 0, NULL, 0, base));
		memcpy(c->exported, o->random_key, 16);
		assert_true(ntlm_rc4_oneshot(base, 16, o->random_key, enc, 16));
	}

	size_t ulen = 0, dlen = 0, wlen = 0;
	uint8_t *u16 = utf8_to_utf16le(mem, o->anonymous ? "" : o->user, &ulen);
	uint8_t *d16 = utf8_to_utf16le(mem, o->anonymous ? "" : o->domain, &dlen);
	uint8_t *w16 = utf8_to_utf16le(mem, "CLIENT", &wlen);
	size_t ek_len = (o->anonymous || o->ntlmv1) ? 0 : 16;

	struct wire_wr w;
	wire_wr_init(&w, mem, 512);
	size_t off = NTLMSSP_AUTH_HEADER_WITH_MIC;
	wire_put_bytes(&w, "NTLMSSP", 8);
	wire_put_u32(&w, 3);
	put_field(&w, &off, lm_len);
	put_field(&w, &off, nt_len);
	put_field(&w, &off, dlen);
	put_field(&w, &off, ulen);
	put_field(&w, &off, wlen);
	put_field(&w, &off, ek_len);
	wire_put_u32(&w, flags);
	wire_put_u8(&w, 10);
	wire_put_u8(&w, 0);
	wire_put_u16(&w, 19041);
	wire_put_zeros(&w, 3);
	wire_put_u8(&w, 15);
	wire_put_zeros(&w, 16); /* MIC */
	wire_put_bytes(&w, lm, lm_len);
	wire_put_bytes(&w, nt, nt_len);
	wire_put_bytes(&w, d16, dlen);
	wire_put_bytes(&w, u16, ulen);
	wire_put_bytes(&w, w16, wlen);
	wire_put_bytes(&w, enc, ek_len);
	assert_true(wire_wr_ok(&w));
	if (!o->no_mic && !o->anonymous && !o->ntlmv1) {
		uint8_t mic[16];
		assert_true(ntlm_hmac_md5(c->exported, 16, c->negotiate, c->negotiate_len,
					  chal, chal_len, w.buf, w.len, mic));
		if (o->corrupt_mic)
			mic[3] ^= 1;
		memcpy(w.buf + NTLMSSP_MIC_OFFSET, mic, 16);
	}
	*out_len = w.len;
	return w.buf;
}

static struct client_opts default_opts(void)
{
	struct client_opts o = { .user = "User", .domain = "Domain", .password = "Password" };
	memset(o.random_key, 0x5a, 16);
	return o;
}

/* ---- vectors ---- */

static void test_vectors_ntlmv2(void **state)
{
	(void)state;
	uint8_t h[16], key[16], proof[16], base[16], enc[16];
	const uint8_t random_key[16] = { 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
					 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55 };
	assert_true(passdb_nt_hash("Password", h));
	assert_memory_equal(h, v_nt_hash, 16);
	assert_true(ntlm_ntowfv2(h, "User", "Domain", key));
	assert_memory_equal(key, v_response_key_nt, 16);
	/* The user is upper-cased, the domain is not. */
	assert_true(ntlm_ntowfv2(h, "USER", "Domain", key));
	assert_memory_equal(key, v_response_key_nt, 16);
	assert_true(ntlm_hmac_md5(key, 16, v_server_challenge, 8, v_temp, sizeof(v_temp),
				  NULL, 0, proof));
	assert_memory_equal(proof, v_nt_proof_str, 16);
	assert_true(ntlm_hmac_md5(key, 16, proof, 16, NULL, 0, NULL, 0, base));
	assert_memory_equal(base, v_session_base_key, 16);
	assert_true(ntlm_rc4_oneshot(base, 16, random_key, enc, 16));
	assert_memory_equal(enc, v_encrypted_session_key, 16);
}

static void test_vectors_session_security(void **state)
{
	(void)state;
	uint8_t exported[16], seal[16], sign[16], out[18], sig[16];
	memset(exported, 0x55, 16);
	uint32_t flags = NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY | NTLMSSP_NEGOTIATE_128 |
			 NTLMSSP_NEGOTIATE_KEY_EXCH;
	assert_true(ntlm_seal_key(exported, flags, true, seal));
	assert_memory_equal(seal, v_seal_key_c2s, 16);
	assert_true(ntlm_sign_key(exported, true, sign));
	assert_memory_equal(sign, v_sign_key_c2s, 16);

	/* GSS_WrapEx: seal the message, then the checksum, with one RC4 handle. */
	size_t plen;
	uint8_t *plain = utf8_to_utf16le(NULL, "Plaintext", &plen);
	assert_int_equal(plen, 18);
	struct ntlm_rc4 *h = ntlm_rc4_new(plain, seal, 16);
	assert_non_null(h);
	assert_true(ntlm_rc4_apply(h, plain, out, 18));
	assert_memory_equal(out, v_sealed, 18);
	assert_true(ntlm_make_signature(sign, h, 0, plain, 18, sig));
	assert_memory_equal(sig, v_signature, 16);
	talloc_free(plain);
}

/* The 4.2.4.3 AUTHENTICATE_MESSAGE, accepted by the server. */
static void test_spec_authenticate(void **state)
{
	struct fixture *f = *state;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct ntlmssp_server *s = ntlmssp_server_new(mem, &f->cfg);
	struct client c = { 0 };
	size_t nlen, clen;
	uint8_t *neg = client_negotiate(mem, &c, &nlen), *chal;
	ntlmssp_server_set_challenge(s, v_server_challenge);
	assert_int_equal(NT_STATUS_V(ntlmssp_server_update(s, mem, neg, nlen, &chal, &clen)),
			 NT_STATUS_V_MORE_PROCESSING_REQUIRED);
	assert_memory_equal(chal + 24, v_server_challenge, 8);
	uint8_t *out;
	size_t out_len;
	NTSTATUS st = ntlmssp_server_update(s, mem, v_authenticate, sizeof(v_authenticate),
					    &out, &out_len);
	assert_int_equal(NT_STATUS_V(st), NT_STATUS_V_OK);
	assert_null(out);
	const struct auth_info *info = ntlmssp_server_info(s);
	assert_non_null(info);
	assert_string_equal(info->user, "User");
	assert_int_equal(info->uid, 1000);
	assert_int_equal(info->gid, 100);
	assert_false(info->anonymous);
	uint8_t want[16];
	memset(want, 0x55, 16);
	assert_int_equal(info->session_key_len, 16);
	assert_memory_equal(info->session_key, want, 16);
	assert_false(ntlmssp_server_mic_present(s));
	talloc_free(mem);
}

/* ---- raw NTLMSSP through auth_server ---- */

static NTSTATUS run_raw(struct fixture *f, const struct client_opts *o, TALLOC_CTX *mem,
			struct auth_server **out_a, struct client *c)
{
	struct auth_server *a = auth_server_new(mem, &f->cfg);
	assert_non_null(a);
	size_t nlen, clen, alen, olen;
	uint8_t *neg = client_negotiate(mem, c, &nlen), *chal, *out;
	NTSTATUS st = auth_server_update(a, mem, neg, nlen, &chal, &clen);
	assert_int_equal(NT_STATUS_V(st), NT_STATUS_V_MORE_PROCESSING_REQUIRED);
	assert_memory_equal(chal, "NTLMSSP\0\2\0\0\0", 12);
	uint8_t *auth = client_authenticate(mem, c, chal, clen, o, &alen);
	st = auth_server_update(a, mem, auth, alen, &out, &olen);
	*out_a = a;
	return st;
}

static void test_raw_ok(void **state)
{
	struct fixture *f = *state;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct auth_server *a;
	struct client c = { 0 };
	struct client_opts o = default_opts();
	assert_int_equal(NT_STATUS_V(run_raw(f, &o, mem, &a, &c)), NT_STATUS_V_OK);
	const struct auth_info *info = auth_server_info(a);
	assert_non_null(info);
	assert_string_equal(info->user, "User");
	assert_string_equal(info->domain, "PORTHOS");
	assert_int_equal(info->session_key_len, 16);
	assert_memory_equal(info->session_key, o.random_key, 16);
	/* Flags negotiated as the client asked. */
	assert_true(c.flags & NTLMSSP_NEGOTIATE_KEY_EXCH);
	assert_true(c.flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY);
	assert_true(c.flags & NTLMSSP_NEGOTIATE_TARGET_INFO);
	assert_true(c.flags & NTLMSSP_NEGOTIATE_VERSION);
	/* No more tokens after completion. */
	uint8_t *out;
	size_t olen;
	assert_int_equal(NT_STATUS_V(auth_server_update(a, mem, (const uint8_t *)"x", 1, &out, &olen)),
			 NT_STATUS_V_INVALID_PARAMETER);
	talloc_free(mem);
}

static void test_raw_variants_ok(void **state)
{
	struct fixture *f = *state;
	const char *users[] = { "user", "USER", "User" };
	const char *domains[] = { "", "WORKGROUP", "PORTHOS", "anything" };
	for (size_t i = 0; i < 3; i++) {
		for (size_t j = 0; j < 4; j++) {
			TALLOC_CTX *mem = talloc_new(NULL);
			struct auth_server *a;
			struct client c = { 0 };
			struct client_opts o = default_opts();
			o.user = users[i];
			o.domain = domains[j];
			o.no_mic = (j % 2) == 1;
			assert_int_equal(NT_STATUS_V(run_raw(f, &o, mem, &a, &c)), NT_STATUS_V_OK);
			assert_string_equal(auth_server_info(a)->user, "User");
			talloc_free(mem);
		}
	}
}

static void expect_raw(struct fixture *f, const struct client_opts *o, NTSTATUS want)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct auth_server *a;
	struct client c = { 0 };
	assert_int_equal(NT_STATUS_V(run_raw(f, o, mem, &a, &c)), NT_STATUS_V(want));
	if (!NT_STATUS_IS_OK(want))
		assert_null(auth_server_info(a));
	talloc_free(mem);
}

static void test_raw_failures(void **state)
{
	struct fixture *f = *state;
	struct client_opts o = default_opts();
	o.password = "password";
	expect_raw(f, &o, NT_STATUS_LOGON_FAILURE);

	o = default_opts();
	o.user = "nosuchuser";
	expect_raw(f, &o, NT_STATUS_LOGON_FAILURE);

	o = default_opts();
	o.ntlmv1 = true;
	expect_raw(f, &o, NT_STATUS_LOGON_FAILURE);

	o = default_opts();
	o.corrupt_mic = true;
	expect_raw(f, &o, NT_STATUS_LOGON_FAILURE);

	/* An account with no NT hash: no password and no hash opens it, the
	 * all-zero one (what it is stored as in memory) included. */
	o = default_opts();
	o.user = "krbonly";
	expect_raw(f, &o, NT_STATUS_LOGON_FAILURE);
	o.password = "";
	expect_raw(f, &o, NT_STATUS_LOGON_FAILURE);
	o.zero_hash = true;
	expect_raw(f, &o, NT_STATUS_LOGON_FAILURE);

	o = default_opts();
	o.user = "OFF";
	expect_raw(f, &o, NT_STATUS_ACCOUNT_DISABLED);
	/* A disabled account with a wrong password says only LOGON_FAILURE. */
	o.password = "wrong";
	expect_raw(f, &o, NT_STATUS_LOGON_FAILURE);
}

static void test_anonymous(void **state)
{
	struct fixture *f = *state;
	struct client_opts o = default_opts();
	o.anonymous = true;
	expect_raw(f, &o, NT_STATUS_LOGON_FAILURE);

	f->cfg.guest_ok = true;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct auth_server *a;
	struct client c = { 0 };
	assert_int_equal(NT_STATUS_V(run_raw(f, &o, mem, &a, &c)), NT_STATUS_V_OK);
	const struct auth_info *info = auth_server_info(a);
	assert_true(info->anonymous);
	assert_string_equal(info->user, "");
	assert_int_equal(info->session_key_len, 0);
	assert_int_equal(info->uid, 65534);
	talloc_free(mem);
	f->cfg.guest_ok = false;
}

/* Every truncation of a good AUTHENTICATE is INVALID_PARAMETER, never a crash. */
static void test_truncated_authenticate(void **state)
{
	struct fixture *f = *state;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct client c = { 0 };
	struct client_opts o = default_opts();
	struct auth_server *a0;
	size_t nlen, clen, alen, olen;
	uint8_t *neg, *chal, *auth = NULL, *out;

	for (size_t cut = 0;; cut++) {
		struct auth_server *a = auth_server_new(mem, &f->cfg);
		neg = client_negotiate(mem, &c, &nlen);
		assert_int_equal(NT_STATUS_V(auth_server_update(a, mem, neg, nlen, &chal, &clen)),
				 NT_STATUS_V_MORE_PROCESSING_REQUIRED);
		auth = client_authenticate(mem, &c, chal, clen, &o, &alen);
		if (cut >= alen)
			break;
		uint8_t *trunc = talloc_memdup(mem, auth, cut ? cut : 1);
		NTSTATUS st = auth_server_update(a, mem, trunc, cut, &out, &olen);
		assert_int_equal(NT_STATUS_V(st), NT_STATUS_V_INVALID_PARAMETER);
		assert_null(out);
		talloc_free(a);
	}

	/* Lying lengths and offsets in each of the six fields. */
	for (size_t field = 0; field < 6; field++) {
		for (int lie = 0; lie < 3; lie++) {
			struct auth_server *a = auth_server_new(mem, &f->cfg);
			neg = client_negotiate(mem, &c, &nlen);
			auth_server_update(a, mem, neg, nlen, &chal, &clen);
			auth = client_authenticate(mem, &c, chal, clen, &o, &alen);
			uint8_t *p = auth + 12 + 8 * field;
			if (lie == 0) {
				put_le16(p, 0xffff);
			} else if (lie == 1) {
				put_le32(p + 4, 0xfffffff0u);
				if (le16(p) == 0)
					put_le16(p, 1);
			} else {
				put_le32(p + 4, (uint32_t)alen - 1);
				put_le16(p, 2);
			}
			NTSTATUS st = auth_server_update(a, mem, auth, alen, &out, &olen);
			assert_true(NT_STATUS_IS_ERR(st));
			if (lie < 2)
				assert_int_equal(NT_STATUS_V(st), NT_STATUS_V_INVALID_PARAMETER);
			talloc_free(a);
		}
	}

	/* Wrong message order and garbage. */
	a0 = auth_server_new(mem, &f->cfg);
	auth = client_authenticate(mem, &c, chal, clen, &o, &alen);
	assert_int_equal(NT_STATUS_V(auth_server_update(a0, mem, auth, alen, &out, &olen)),
			 NT_STATUS_V_INVALID_PARAMETER);
	a0 = auth_server_new(mem, &f->cfg);
	assert_int_equal(NT_STATUS_V(auth_server_update(a0, mem, (const uint8_t *)"NTLMSSP\0\7\0\0\0",
							12, &out, &olen)),
			 NT_STATUS_V_INVALID_PARAMETER);
	talloc_free(mem);
}

/* ---- SPNEGO ---- */

struct spnego_client {
	struct client c;
	uint8_t *mech_types;
	size_t mech_types_len;
};

static void client_mic(const struct spnego_client *sc, bool c2s, uint8_t sig[16])
{
	uint8_t sign[16], seal[16];
	assert_true(ntlm_sign_key(sc->c.exported, c2s, sign));
	assert_true(ntlm_seal_key(sc->c.exported, sc->c.flags, c2s, seal));
	struct ntlm_rc4 *h = ntlm_rc4_new(NULL, seal, 16);
	assert_true(ntlm_make_signature(sign, h, 0, sc->mech_types, sc->mech_types_len, sig));
	talloc_free(h);
}

enum spnego_variant {
	SPV_OPTIMISTIC,	   /* NegTokenInit carries the NEGOTIATE */
	SPV_NO_TOKEN,	   /* NegTokenInit without a mechToken */
	SPV_NOT_FIRST,	   /* krb5 first with a token, NTLMSSP second */
};

struct spnego_run {
	bool omit_mic;
	bool bad_mic;
	enum spnego_variant variant;
};

static NTSTATUS run_spnego(struct fixture *f, TALLOC_CTX *mem, const struct spnego_run *run,
			   struct auth_server **out_a, struct spnego_client *sc)
{
	struct auth_server *a = auth_server_new(mem, &f->cfg);
	struct client_opts o = default_opts();
	size_t nlen, len, olen;
	uint8_t *neg = client_negotiate(mem, &sc->c, &nlen), *tok, *out;
	struct spnego_token t;
	NTSTATUS st;

	const uint8_t *mechs[2] = { spnego_oid_ntlmssp, NULL };
	size_t lens[2] = { sizeof(spnego_oid_ntlmssp), 0 };
	unsigned n = 1;
	if (run->variant == SPV_NOT_FIRST) {
		mechs[0] = spnego_oid_ms_krb5;
		lens[0] = sizeof(spnego_oid_ms_krb5);
		mechs[1] = spnego_oid_ntlmssp;
		lens[1] = sizeof(spnego_oid_ntlmssp);
		n = 2;
	}
	sc->mech_types = spnego_encode_mech_list(mem, mechs, lens, n, &sc->mech_types_len);
	const uint8_t *first_tok = run->variant == SPV_NO_TOKEN ? NULL : neg;
	size_t first_len = first_tok ? nlen : 0;
	if (run->variant == SPV_NOT_FIRST) {
		first_tok = (const uint8_t *)"krb5-ap-req";
		first_len = 11;
	}
	tok = spnego_encode_init(mem, mechs, lens, n, first_tok, first_len, NULL, NULL, 0, &len);
	assert_non_null(tok);

	st = auth_server_update(a, mem, tok, len, &out, &olen);
	assert_int_equal(NT_STATUS_V(st), NT_STATUS_V_MORE_PROCESSING_REQUIRED);
	assert_true(NT_STATUS_IS_OK(spnego_decode(out, olen, &t)));
	assert_false(t.is_init);
	assert_true(t.has_neg_state);
	assert_true(t.supported_mech.present);
	assert_true(spnego_oid_equal(t.supported_mech.p, t.supported_mech.len,
				     spnego_oid_ntlmssp, sizeof(spnego_oid_ntlmssp)));
	if (run->variant != SPV_OPTIMISTIC) {
		assert_int_equal(t.neg_state, run->variant == SPV_NOT_FIRST ? SPNEGO_REQUEST_MIC
									  : SPNEGO_ACCEPT_INCOMPLETE);
		assert_false(t.response_token.present);
		tok = spnego_encode_resp(mem, -1, NULL, 0, neg, nlen, NULL, 0, &len);
		st = auth_server_update(a, mem, tok, len, &out, &olen);
		assert_int_equal(NT_STATUS_V(st), NT_STATUS_V_MORE_PROCESSING_REQUIRED);
		assert_true(NT_STATUS_IS_OK(spnego_decode(out, olen, &t)));
		assert_false(t.supported_mech.present);
	}
	assert_int_equal(t.neg_state, SPNEGO_ACCEPT_INCOMPLETE);
	assert_true(t.response_token.present);

	size_t alen;
	uint8_t *auth = client_authenticate(mem, &sc->c, t.response_token.p, t.response_token.len,
					    &o, &alen);
	uint8_t mic[16];
	client_mic(sc, true, mic);
	if (run->bad_mic)
		mic[0] ^= 0x80;
	tok = spnego_encode_resp(mem, -1, NULL, 0, auth, alen, run->omit_mic ? NULL : mic, 16, &len);
	st = auth_server_update(a, mem, tok, len, &out, &olen);
	*out_a = a;
	if (!NT_STATUS_IS_OK(st)) {
		assert_null(out);
		return st;
	}
	/* accept-completed with the server's mechListMIC over the same list. */
	assert_true(NT_STATUS_IS_OK(spnego_decode(out, olen, &t)));
	assert_true(t.has_neg_state);
	assert_int_equal(t.neg_state, SPNEGO_ACCEPT_COMPLETED);
	assert_false(t.response_token.present);
	assert_true(t.mech_list_mic.present);
	assert_int_equal(t.mech_list_mic.len, 16);
	uint8_t smic[16];
	client_mic(sc, false, smic);
	assert_memory_equal(t.mech_list_mic.p, smic, 16);
	return st;
}

static void test_spnego_exchange(void **state)
{
	struct fixture *f = *state;
	for (int v = SPV_OPTIMISTIC; v <= SPV_NOT_FIRST; v++) {
		TALLOC_CTX *mem = talloc_new(NULL);
		struct auth_server *a;
		struct spnego_client sc = { 0 };
		struct spnego_run run = { .variant = (enum spnego_variant)v };
		assert_int_equal(NT_STATUS_V(run_spnego(f, mem, &run, &a, &sc)), NT_STATUS_V_OK);
		const struct auth_info *info = auth_server_info(a);
		assert_non_null(info);
		assert_string_equal(info->user, "User");
		assert_memory_equal(info->session_key, sc.c.exported, 16);
		talloc_free(mem);
	}
}

static void test_spnego_mic_failures(void **state)
{
	struct fixture *f = *state;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct auth_server *a;
	struct spnego_client sc = { 0 };
	struct spnego_run run = { .bad_mic = true };
	assert_int_equal(NT_STATUS_V(run_spnego(f, mem, &run, &a, &sc)), NT_STATUS_V_LOGON_FAILURE);
	assert_null(auth_server_info(a));

	struct spnego_client sc2 = { 0 };
	run = (struct spnego_run){ .omit_mic = true };
	assert_int_equal(NT_STATUS_V(run_spnego(f, mem, &run, &a, &sc2)),
			 NT_STATUS_V_INVALID_PARAMETER);
	assert_null(auth_server_info(a));
	talloc_free(mem);
}

static void test_negotiate_blob(void **state)
{
	(void)state;
	size_t len;
	const struct auth_server_config cfg = { .netbios_name = "PORTHOS" };
	uint8_t *blob = auth_negotiate_blob(NULL, &cfg, &len);
	assert_non_null(blob);
	assert_int_equal(blob[0], 0x60);
	struct spnego_token t;
	assert_true(NT_STATUS_IS_OK(spnego_decode(blob, len, &t)));
	assert_true(t.is_init);
	assert_int_equal(t.n_mechs, 1);
	assert_true(spnego_oid_equal(t.mechs[0].p, t.mechs[0].len, spnego_oid_ntlmssp,
				     sizeof(spnego_oid_ntlmssp)));
	assert_false(t.mech_token.present);
	assert_false(t.mech_list_mic.present);
	assert_non_null(memmem(blob, len, "not_defined_in_RFC4178@please_ignore", 36));
	talloc_free(blob);
}

/* Every truncation of the SPNEGO-wrapped AUTHENTICATE is rejected. */
static void test_spnego_truncated(void **state)
{
	struct fixture *f = *state;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct client c = { 0 };
	struct client_opts o = default_opts();
	size_t nlen, len, olen, alen;
	const uint8_t *mechs[1] = { spnego_oid_ntlmssp };
	size_t lens[1] = { sizeof(spnego_oid_ntlmssp) };
	for (size_t cut = 0;; cut++) {
		struct auth_server *a = auth_server_new(mem, &f->cfg);
		uint8_t *neg = client_negotiate(mem, &c, &nlen), *out;
		uint8_t *tok = spnego_encode_init(mem, mechs, lens, 1, neg, nlen, NULL, NULL, 0, &len);
		if (cut < len) {
			uint8_t *trunc = talloc_memdup(mem, tok, cut ? cut : 1);
			assert_int_equal(NT_STATUS_V(auth_server_update(a, mem, trunc, cut, &out, &olen)),
					 NT_STATUS_V_INVALID_PARAMETER);
			talloc_free(a);
			continue;
		}
		assert_int_equal(NT_STATUS_V(auth_server_update(a, mem, tok, len, &out, &olen)),
				 NT_STATUS_V_MORE_PROCESSING_REQUIRED);
		talloc_free(a);
		break;
	}
	/* Now truncations of the second-leg token. */
	uint8_t *second = NULL;
	size_t second_len = 0;
	for (size_t cut = 0;; cut++) {
		struct auth_server *a = auth_server_new(mem, &f->cfg);
		uint8_t *neg = client_negotiate(mem, &c, &nlen), *out;
		uint8_t *tok = spnego_encode_init(mem, mechs, lens, 1, neg, nlen, NULL, NULL, 0, &len);
		struct spnego_token t;
		assert_int_equal(NT_STATUS_V(auth_server_update(a, mem, tok, len, &out, &olen)),
				 NT_STATUS_V_MORE_PROCESSING_REQUIRED);
		assert_true(NT_STATUS_IS_OK(spnego_decode(out, olen, &t)));
		uint8_t *auth = client_authenticate(mem, &c, t.response_token.p, t.response_token.len,
						    &o, &alen);
		uint8_t mic[16] = { 0 };
		second = spnego_encode_resp(mem, -1, NULL, 0, auth, alen, mic, 16, &second_len);
		if (cut >= second_len) {
			talloc_free(a);
			break;
		}
		uint8_t *trunc = talloc_memdup(mem, second, cut ? cut : 1);
		assert_int_equal(NT_STATUS_V(auth_server_update(a, mem, trunc, cut, &out, &olen)),
				 NT_STATUS_V_INVALID_PARAMETER);
		talloc_free(a);
	}
	talloc_free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_ntlmv2),
		cmocka_unit_test(test_vectors_session_security),
		cmocka_unit_test(test_negotiate_blob),
		cmocka_unit_test_setup_teardown(test_spec_authenticate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw_variants_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_anonymous, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_authenticate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spnego_exchange, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spnego_mic_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spnego_truncated, setup, teardown),
	};
	plog_setup("test_ntlmssp", PLOG_ERROR, false);
	assert_true(auth_global_init());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
