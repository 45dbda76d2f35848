#include "config.h"
#include "lib/auth/ntlmssp.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "lib/auth/auth_mech.h"
#include "lib/auth/ntlm_crypto.h"
#include "lib/auth/passdb.h"
#include "lib/auth/spnego.h"
#include "lib/log.h"
#include "lib/unicode.h"
#include "lib/wire.h"

static const uint8_t ntlmssp_signature[8] = { 'N', 'T', 'L', 'M', 'S', 'S', 'P', 0 };

enum ntlmssp_state {
	NTLMSSP_WANT_NEGOTIATE,
	NTLMSSP_WANT_AUTHENTICATE,
	NTLMSSP_DONE,
	NTLMSSP_FAILED,
};

struct ntlmssp_server {
	enum ntlmssp_state state;
	const struct passdb *db;
	bool guest_ok;
	char *netbios_name;
	char *domain;
	char *dns_name;
	char *dns_domain;

	uint32_t flags;
	uint8_t challenge[8];
	bool fixed_challenge;
	/* Kept verbatim: the MIC covers all three messages (MS-NLMP 3.1.5.1.2). */
	uint8_t *negotiate_msg;
	size_t negotiate_len;
	uint8_t *challenge_msg;
	size_t challenge_len;

	bool mic_present;
	bool have_keys;
	uint8_t client_sign_key[16];
	uint8_t server_sign_key[16];
	struct ntlm_rc4 *client_seal;
	struct ntlm_rc4 *server_seal;
	uint32_t client_seq;
	uint32_t server_seq;

	struct auth_info info;
};

/* Secrets do not outlive the context. */
static int ntlmssp_destructor(struct ntlmssp_server *s)
{
	OPENSSL_cleanse(s->client_sign_key, sizeof(s->client_sign_key));
	OPENSSL_cleanse(s->server_sign_key, sizeof(s->server_sign_key));
	OPENSSL_cleanse(s->info.session_key, sizeof(s->info.session_key));
	return 0;
}

static char *lower_dup(TALLOC_CTX *mem, const char *s)
{
	char *d = talloc_strdup(mem, s);
	for (char *p = d; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

struct ntlmssp_server *ntlmssp_server_new(TALLOC_CTX *mem, const struct auth_server_config *cfg)
{
	if (!ntlm_crypto_init())
		return NULL;
	struct ntlmssp_server *s = talloc_zero(mem, struct ntlmssp_server);
	if (s == NULL)
		return NULL;
	talloc_set_destructor(s, ntlmssp_destructor);
	s->db = cfg->db;
	s->guest_ok = cfg->guest_ok;
	s->netbios_name = talloc_strdup(s, cfg->netbios_name ? cfg->netbios_name : "PORTHOS");
	s->domain = talloc_strdup(s, cfg->domain ? cfg->domain : "WORKGROUP");
	s->dns_name = cfg->dns_name ? talloc_strdup(s, cfg->dns_name)
				    : lower_dup(s, s->netbios_name);
	s->dns_domain = talloc_strdup(s, cfg->dns_domain ? cfg->dns_domain : s->dns_name);
	if (s->netbios_name == NULL || s->domain == NULL || s->dns_name == NULL ||
	    s->dns_domain == NULL) {
		talloc_free(s);
		return NULL;
	}
	return s;
}

void ntlmssp_server_set_challenge(struct ntlmssp_server *s, const uint8_t challenge[8])
{
	memcpy(s->challenge, challenge, 8);
	s->fixed_challenge = true;
}

const struct auth_info *ntlmssp_server_info(const struct ntlmssp_server *s)
{
	return s->state == NTLMSSP_DONE ? &s->info : NULL;
}

uint32_t ntlmssp_server_flags(const struct ntlmssp_server *s)
{
	return s->flags;
}

bool ntlmssp_server_mic_present(const struct ntlmssp_server *s)
{
	return s->state == NTLMSSP_DONE && s->mic_present;
}

bool ntlmssp_server_can_sign(const struct ntlmssp_server *s)
{
	return s->state == NTLMSSP_DONE && s->have_keys;
}

/* Now as a FILETIME: 100 ns ticks since 1601-01-01 UTC. */
static uint64_t filetime_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec + 11644473600ull) * 10000000ull + (uint64_t)ts.tv_nsec / 100;
}

static bool put_av_string(struct wire_wr *w, uint16_t id, const char *s)
{
	size_t len;
	uint8_t *u = utf8_to_utf16le(w->mem, s, &len);
	if (u == NULL || len > 0xffff)
		return false;
	wire_put_u16(w, id);
	wire_put_u16(w, (uint16_t)len);
	wire_put_bytes(w, u, len);
	talloc_free(u);
	return true;
}

/* MS-NLMP 3.2.5.1.1: the flags the server answers a NEGOTIATE with. */
static uint32_t challenge_flags(uint32_t client)
{
	uint32_t f = NTLMSSP_NEGOTIATE_NTLM | NTLMSSP_NEGOTIATE_TARGET_INFO |
		     NTLMSSP_NEGOTIATE_VERSION | NTLMSSP_TARGET_TYPE_SERVER;
	if (client & NTLMSSP_NEGOTIATE_UNICODE)
		f |= NTLMSSP_NEGOTIATE_UNICODE;
	else if (client & NTLMSSP_NEGOTIATE_OEM)
		f |= NTLMSSP_NEGOTIATE_OEM;
	else
		f |= NTLMSSP_NEGOTIATE_UNICODE;
	f |= client & (NTLMSSP_REQUEST_TARGET | NTLMSSP_NEGOTIATE_SIGN | NTLMSSP_NEGOTIATE_SEAL |
		       NTLMSSP_NEGOTIATE_ALWAYS_SIGN | NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY |
		       NTLMSSP_NEGOTIATE_128 | NTLMSSP_NEGOTIATE_56 | NTLMSSP_NEGOTIATE_KEY_EXCH);
	/* LM_KEY is never offered: it is NTLMv1 territory (2.2.2.5 "H"). */
	return f;
}

/* MS-NLMP 2.2.1.1 in, 2.2.1.2 out. */
static NTSTATUS handle_negotiate(struct ntlmssp_server *s, TALLOC_CTX *mem,
				 const uint8_t *in, size_t in_len,
				 uint8_t **out, size_t *out_len)
{
	struct wire_rd r;
	wire_rd_init(&r, in, in_len);
	wire_skip(&r, 8 + 4);
	uint32_t client_flags = wire_u32(&r);
	if (!wire_ok(&r))
		return NT_STATUS_INVALID_PARAMETER;

	s->negotiate_msg = talloc_memdup(s, in, in_len);
	if (s->negotiate_msg == NULL)
		return NT_STATUS_NO_MEMORY;
	s->negotiate_len = in_len;
	s->flags = challenge_flags(client_flags);
	if (!s->fixed_challenge && RAND_bytes(s->challenge, 8) != 1)
		return NT_STATUS_INTERNAL_ERROR;

	TALLOC_CTX *tmp = talloc_new(NULL);
	size_t tn_len;
	uint8_t *tn;
	if (s->flags & NTLMSSP_NEGOTIATE_UNICODE) {
		tn = utf8_to_utf16le(tmp, s->netbios_name, &tn_len);
	} else {
		tn = (uint8_t *)talloc_strdup(tmp, s->netbios_name);
		tn_len = tn ? strlen((char *)tn) : 0;
	}

	/* TargetInfo in the order Windows sends it. */
	struct wire_wr ti;
	wire_wr_init(&ti, tmp, 256);
	bool ok = tn != NULL && tn_len <= 0xffff &&
		  put_av_string(&ti, MSV_AV_NB_DOMAIN_NAME, s->domain) &&
		  put_av_string(&ti, MSV_AV_NB_COMPUTER_NAME, s->netbios_name) &&
		  put_av_string(&ti, MSV_AV_DNS_DOMAIN_NAME, s->dns_domain) &&
		  put_av_string(&ti, MSV_AV_DNS_COMPUTER_NAME, s->dns_name);
	wire_put_u16(&ti, MSV_AV_TIMESTAMP);
	wire_put_u16(&ti, 8);
	wire_put_u64(&ti, filetime_now());
	wire_put_u16(&ti, MSV_AV_EOL);
	wire_put_u16(&ti, 0);
	if (!ok || !wire_wr_ok(&ti) || ti.len > 0xffff) {
		talloc_free(tmp);
		return NT_STATUS_INVALID_PARAMETER;
	}

	const uint32_t payload = 56;
	struct wire_wr w;
	wire_wr_init(&w, s, payload + tn_len + ti.len);
	wire_put_bytes(&w, ntlmssp_signature, 8);
	wire_put_u32(&w, 2);
	wire_put_u16(&w, (uint16_t)tn_len);
	wire_put_u16(&w, (uint16_t)tn_len);
	wire_put_u32(&w, payload);
	wire_put_u32(&w, s->flags);
	wire_put_bytes(&w, s->challenge, 8);
	wire_put_zeros(&w, 8);
	wire_put_u16(&w, (uint16_t)ti.len);
	wire_put_u16(&w, (uint16_t)ti.len);
	wire_put_u32(&w, payload + (uint32_t)tn_len);
	/* VERSION (2.2.2.10): 10.0.20348, NTLMSSP_REVISION_W2K3. */
	wire_put_u8(&w, 10);
	wire_put_u8(&w, 0);
	wire_put_u16(&w, 20348);
	wire_put_zeros(&w, 3);
	wire_put_u8(&w, 0x0f);
	wire_put_bytes(&w, tn, tn_len);
	wire_put_bytes(&w, ti.buf, ti.len);
	talloc_free(tmp);
	if (!wire_wr_ok(&w))
		return NT_STATUS_NO_MEMORY;
	s->challenge_msg = w.buf;
	s->challenge_len = w.len;

	*out = talloc_memdup(mem, w.buf, w.len);
	if (*out == NULL)
		return NT_STATUS_NO_MEMORY;
	*out_len = w.len;
	s->state = NTLMSSP_WANT_AUTHENTICATE;
	return NT_STATUS_MORE_PROCESSING_REQUIRED;
}

struct auth_field {
	struct wire_rd rd;
	uint32_t offset;
	uint16_t len;
};

/* One Len/MaxLen/Offset triple (2.2.1.3), sliced out of the whole message. */
static void read_field(struct wire_rd *hdr, const struct wire_rd *whole, struct auth_field *f)
{
	f->len = wire_u16(hdr);
	(void)wire_u16(hdr);
	f->offset = wire_u32(hdr);
	if (!wire_ok(hdr) || !wire_slice(whole, f->offset, f->len, &f->rd))
		hdr->err = true;
}

/* A string field: UTF-16LE when UNICODE was negotiated, else 7-bit OEM. */
static char *field_string(TALLOC_CTX *mem, struct auth_field *f, bool unicode)
{
	const uint8_t *p = f->len ? wire_ptr(&f->rd, f->len) : (const uint8_t *)"";
	if (p == NULL)
		return NULL;
	if (unicode) {
		if (f->len % 2)
			return NULL;
		return utf16le_to_utf8(mem, p, f->len);
	}
	for (size_t i = 0; i < f->len; i++)
		if (p[i] == 0 || p[i] >= 0x80)
			return NULL;
	return talloc_strndup(mem, (const char *)p, f->len);
}

/*
 * Walks the AV pairs of an NTLMv2_CLIENT_CHALLENGE for MsvAvFlags.
 * False if they run past the blob before MsvAvEOL.
 */
static bool client_av_flags(const uint8_t *av, size_t len, uint32_t *flags)
{
	struct wire_rd r;
	wire_rd_init(&r, av, len);
	*flags = 0;
	for (;;) {
		uint16_t id = wire_u16(&r);
		uint16_t alen = wire_u16(&r);
		const uint8_t *val = wire_ptr(&r, alen);
		if (!wire_ok(&r))
			return false;
		if (id == MSV_AV_EOL)
			return true;
		if (id == MSV_AV_FLAGS && alen == 4)
			*flags = le32(val);
	}
}

static NTSTATUS finish_anonymous(struct ntlmssp_server *s)
{
	if (!s->guest_ok) {
		LOG_INFO("anonymous logon refused (guest access is off)");
		return NT_STATUS_LOGON_FAILURE;
	}
	s->info.user = talloc_strdup(s, "");
	s->info.domain = talloc_strdup(s, "");
	if (s->info.user == NULL || s->info.domain == NULL)
		return NT_STATUS_NO_MEMORY;
	s->info.uid = 65534;
	s->info.gid = 65534;
	s->info.anonymous = true;
	s->info.session_key_len = 0;
	LOG_INFO("anonymous logon");
	return NT_STATUS_OK;
}

/*
 * Tries NTOWFv2 with the domain as sent, then upper-cased, then empty:
 * clients differ in which form of UserDom they hash (MS-NLMP 3.3.2 leaves
 * it to the client), and Windows accepts all three for local accounts.
 */
static bool ntlmv2_verify(const uint8_t nt_hash[16], const char *user, const char *domain,
			  const uint8_t challenge[8], const uint8_t *nt, size_t nt_len,
			  uint8_t response_key[16])
{
	char *variants[3];
	TALLOC_CTX *tmp = talloc_new(NULL);
	size_t ulen;
	uint8_t *upper16 = ntlm_utf16_upper(tmp, domain, &ulen);
	variants[0] = talloc_strdup(tmp, domain);
	variants[1] = upper16 ? utf16le_to_utf8(tmp, upper16, ulen) : NULL;
	variants[2] = talloc_strdup(tmp, "");
	bool ok = false;
	for (int i = 0; i < 3 && !ok; i++) {
		uint8_t proof[16];
		bool dup = false;
		for (int j = 0; j < i && variants[i] != NULL; j++)
			dup |= variants[j] != NULL && strcmp(variants[i], variants[j]) == 0;
		if (variants[i] == NULL || dup)
			continue;
		if (!ntlm_ntowfv2(nt_hash, user, variants[i], response_key) ||
		    !ntlm_hmac_md5(response_key, 16, challenge, 8, nt + 16, nt_len - 16,
				   NULL, 0, proof))
			break;
		ok = CRYPTO_memcmp(proof, nt, 16) == 0;
	}
	talloc_free(tmp);
	return ok;
}

static bool derive_session_keys(struct ntlmssp_server *s, const uint8_t exported[16])
{
	uint8_t ck[16], sk[16];
	if (!(s->flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY))
		return true; /* NTLMv1-style signing is not offered */
	bool ok = ntlm_sign_key(exported, true, s->client_sign_key) &&
		  ntlm_sign_key(exported, false, s->server_sign_key) &&
		  ntlm_seal_key(exported, s->flags, true, ck) &&
		  ntlm_seal_key(exported, s->flags, false, sk);
	if (ok) {
		s->client_seal = ntlm_rc4_new(s, ck, 16);
		s->server_seal = ntlm_rc4_new(s, sk, 16);
		ok = s->client_seal != NULL && s->server_seal != NULL;
	}
	OPENSSL_cleanse(ck, sizeof(ck));
	OPENSSL_cleanse(sk, sizeof(sk));
	s->have_keys = ok;
	return ok;
}

/* MS-NLMP 3.2.5.1.2 */
static NTSTATUS handle_authenticate(struct ntlmssp_server *s, const uint8_t *in, size_t in_len)
{
	struct wire_rd whole, hdr;
	struct auth_field lm, nt, dom, usr, wks, ekey;
	wire_rd_init(&whole, in, in_len);
	wire_rd_init(&hdr, in, in_len);
	wire_skip(&hdr, 8 + 4);
	read_field(&hdr, &whole, &lm);
	read_field(&hdr, &whole, &nt);
	read_field(&hdr, &whole, &dom);
	read_field(&hdr, &whole, &usr);
	read_field(&hdr, &whole, &wks);
	read_field(&hdr, &whole, &ekey);
	uint32_t auth_flags = wire_u32(&hdr);
	if (!wire_ok(&hdr))
		return NT_STATUS_INVALID_PARAMETER;

	/* The client may drop what the server offered, never add to it. */
	s->flags &= auth_flags | NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_NEGOTIATE_OEM |
		    NTLMSSP_NEGOTIATE_NTLM | NTLMSSP_NEGOTIATE_TARGET_INFO |
		    NTLMSSP_NEGOTIATE_VERSION | NTLMSSP_TARGET_TYPE_SERVER;

	bool unicode = s->flags & NTLMSSP_NEGOTIATE_UNICODE;
	TALLOC_CTX *tmp = talloc_new(NULL);
	char *user = field_string(tmp, &usr, unicode);
	char *domain = field_string(tmp, &dom, unicode);
	char *wks_name = field_string(tmp, &wks, unicode);
	NTSTATUS status = NT_STATUS_INVALID_PARAMETER;
	if (user == NULL || domain == NULL || wks_name == NULL)
		goto out;

	const uint8_t *lm_p = lm.len ? wire_ptr(&lm.rd, lm.len) : NULL;
	const uint8_t *nt_p = nt.len ? wire_ptr(&nt.rd, nt.len) : NULL;

	/* Anonymous: no user, no NT response, LM empty or Z(1) (3.2.5.1.2). */
	if (usr.len == 0 && nt.len == 0 && (lm.len == 0 || (lm.len == 1 && lm_p[0] == 0))) {
		status = finish_anonymous(s);
		goto out;
	}
	if (nt.len == 0 || nt.len == 24) {
		/* LM-only or NTLMv1 / NTLM2 session response: refused. */
		LOG_INFO("refusing %s response for user '%s' from '%s': NTLMv2 only",
			 nt.len ? "NTLMv1" : "LM", user, wks_name);
		status = NT_STATUS_LOGON_FAILURE;
		goto out;
	}
	/* NTProofStr plus the fixed part of NTLMv2_CLIENT_CHALLENGE (2.2.2.7). */
	if (nt.len < 16 + 28)
		goto out;

	uint32_t av_flags;
	if (!client_av_flags(nt_p + 16 + 28, nt.len - 16 - 28, &av_flags))
		goto out;
	bool want_mic = av_flags & MSV_AV_FLAG_MIC_PRESENT;
	if (want_mic) {
		/* The MIC sits before the payload: every field must start after it. */
		const struct auth_field *all[] = { &lm, &nt, &dom, &usr, &wks, &ekey };
		if (in_len < NTLMSSP_AUTH_HEADER_WITH_MIC)
			goto out;
		for (size_t i = 0; i < 6; i++)
			if (all[i]->len && all[i]->offset < NTLMSSP_AUTH_HEADER_WITH_MIC)
				goto out;
	}
	const uint8_t *ekey_p = NULL;
	if (s->flags & NTLMSSP_NEGOTIATE_KEY_EXCH) {
		if (ekey.len != 16)
			goto out;
		ekey_p = wire_ptr(&ekey.rd, 16);
	}

	const struct passdb_user *pu = s->db ? passdb_find(s->db, user) : NULL;
	/* A Kerberos-only account has no NT hash: nothing NTLM could prove. */
	bool usable = pu != NULL && pu->has_nt_hash;
	uint8_t response_key[16], base_key[16], exported[16];
	/* An unknown user costs the same work, so timing does not tell. */
	static const uint8_t no_hash[16];
	bool good = ntlmv2_verify(usable ? pu->nt_hash : no_hash, user, domain, s->challenge,
				  nt_p, nt.len, response_key);
	if (!good || !usable) {
		LOG_INFO("logon failure for user '%s' domain '%s' from '%s'%s",
			 user, domain, wks_name,
			 pu == NULL ? " (no such user)"
			 : !pu->has_nt_hash ? " (no SMB password: Kerberos only)" : "");
		status = NT_STATUS_LOGON_FAILURE;
		goto out_clean;
	}
	/* Only after the password proved right, so this reveals nothing more. */
	if (pu->disabled) {
		LOG_INFO("user '%s' is disabled", pu->name);
		status = NT_STATUS_ACCOUNT_DISABLED;
		goto out_clean;
	}

	/* 3.3.2: SessionBaseKey; for NTLMv2 KeyExchangeKey is the same. */
	status = NT_STATUS_INTERNAL_ERROR;
	if (!ntlm_hmac_md5(response_key, 16, nt_p, 16, NULL, 0, NULL, 0, base_key))
		goto out_clean;
	if (ekey_p != NULL) {
		if (!ntlm_rc4_oneshot(base_key, 16, ekey_p, exported, 16))
			goto out_clean;
	} else {
		memcpy(exported, base_key, 16);
	}

	if (want_mic) {
		uint8_t *copy = talloc_memdup(tmp, in, in_len);
		uint8_t mic[16];
		if (copy == NULL) {
			status = NT_STATUS_NO_MEMORY;
			goto out_clean;
		}
		memset(copy + NTLMSSP_MIC_OFFSET, 0, 16);
		if (!ntlm_hmac_md5(exported, 16, s->negotiate_msg, s->negotiate_len,
				   s->challenge_msg, s->challenge_len, copy, in_len, mic))
			goto out_clean;
		if (CRYPTO_memcmp(mic, in + NTLMSSP_MIC_OFFSET, 16) != 0) {
			LOG_WARN("bad NTLMSSP MIC from user '%s' at '%s'", user, wks_name);
			status = NT_STATUS_LOGON_FAILURE;
			goto out_clean;
		}
		s->mic_present = true;
	}

	if (!derive_session_keys(s, exported))
		goto out_clean;
	s->info.user = talloc_strdup(s, pu->name);
	s->info.domain = talloc_strdup(s, s->netbios_name);
	if (s->info.user == NULL || s->info.domain == NULL) {
		status = NT_STATUS_NO_MEMORY;
		goto out_clean;
	}
	s->info.uid = pu->uid;
	s->info.gid = pu->gid;
	memcpy(s->info.session_key, exported, 16);
	s->info.session_key_len = 16;
	LOG_INFO("user '%s' authenticated (NTLMv2) from '%s'", pu->name, wks_name);
	status = NT_STATUS_OK;

out_clean:
	OPENSSL_cleanse(response_key, sizeof(response_key));
	OPENSSL_cleanse(base_key, sizeof(base_key));
	OPENSSL_cleanse(exported, sizeof(exported));
out:
	talloc_free(tmp);
	return status;
}

NTSTATUS ntlmssp_server_update(struct ntlmssp_server *s, TALLOC_CTX *mem,
			       const uint8_t *in, size_t in_len,
			       uint8_t **out, size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	struct wire_rd r;
	wire_rd_init(&r, in, in_len);
	const uint8_t *sig = wire_ptr(&r, 8);
	uint32_t type = wire_u32(&r);
	NTSTATUS status = NT_STATUS_INVALID_PARAMETER;
	if (!wire_ok(&r) || memcmp(sig, ntlmssp_signature, 8) != 0)
		goto fail;

	if (s->state == NTLMSSP_WANT_NEGOTIATE && type == 1) {
		status = handle_negotiate(s, mem, in, in_len, out, out_len);
	} else if (s->state == NTLMSSP_WANT_AUTHENTICATE && type == 3) {
		status = handle_authenticate(s, in, in_len);
		if (NT_STATUS_IS_OK(status))
			s->state = NTLMSSP_DONE;
	}
	if (NT_STATUS_IS_OK(status) || NT_STATUS_EQUAL(status, NT_STATUS_MORE_PROCESSING_REQUIRED))
		return status;
fail:
	s->state = NTLMSSP_FAILED;
	TALLOC_FREE(*out);
	*out_len = 0;
	return status;
}

NTSTATUS ntlmssp_server_sign(struct ntlmssp_server *s, const uint8_t *msg, size_t len,
			     uint8_t sig[16])
{
	if (!ntlmssp_server_can_sign(s))
		return NT_STATUS_NO_USER_SESSION_KEY;
	struct ntlm_rc4 *seal = (s->flags & NTLMSSP_NEGOTIATE_KEY_EXCH) ? s->server_seal : NULL;
	if (!ntlm_make_signature(s->server_sign_key, seal, s->server_seq, msg, len, sig))
		return NT_STATUS_INTERNAL_ERROR;
	s->server_seq++;
	return NT_STATUS_OK;
}

NTSTATUS ntlmssp_server_check_sign(struct ntlmssp_server *s, const uint8_t *msg, size_t len,
				   const uint8_t *sig, size_t sig_len)
{
	uint8_t want[16];
	if (!ntlmssp_server_can_sign(s))
		return NT_STATUS_NO_USER_SESSION_KEY;
	if (sig_len != 16)
		return NT_STATUS_INVALID_PARAMETER;
	struct ntlm_rc4 *seal = (s->flags & NTLMSSP_NEGOTIATE_KEY_EXCH) ? s->client_seal : NULL;
	if (!ntlm_make_signature(s->client_sign_key, seal, s->client_seq, msg, len, want))
		return NT_STATUS_INTERNAL_ERROR;
	s->client_seq++;
	if (CRYPTO_memcmp(want, sig, 16) != 0)
		return NT_STATUS_ACCESS_DENIED;
	return NT_STATUS_OK;
}

/* The SPNEGO mechanism ops (auth_mech.h). */

static void *mech_start(TALLOC_CTX *mem, const struct auth_server_config *cfg)
{
	return ntlmssp_server_new(mem, cfg);
}

static NTSTATUS mech_update(void *ctx, TALLOC_CTX *mem, const uint8_t *in, size_t in_len,
			    uint8_t **out, size_t *out_len)
{
	return ntlmssp_server_update(ctx, mem, in, in_len, out, out_len);
}

static const struct auth_info *mech_info(const void *ctx)
{
	return ntlmssp_server_info(ctx);
}

static bool mech_mic_required(const void *ctx)
{
	return ntlmssp_server_mic_present(ctx);
}

static bool mech_can_sign(const void *ctx)
{
	return ntlmssp_server_can_sign(ctx);
}

static NTSTATUS mech_get_mic(void *ctx, TALLOC_CTX *mem, const uint8_t *msg, size_t len,
			     uint8_t **mic, size_t *mic_len)
{
	uint8_t *sig = talloc_size(mem, 16);
	if (sig == NULL)
		return NT_STATUS_NO_MEMORY;
	NTSTATUS status = ntlmssp_server_sign(ctx, msg, len, sig);
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(sig);
		return status;
	}
	*mic = sig;
	*mic_len = 16;
	return NT_STATUS_OK;
}

static NTSTATUS mech_verify_mic(void *ctx, const uint8_t *msg, size_t len,
				const uint8_t *mic, size_t mic_len)
{
	return ntlmssp_server_check_sign(ctx, msg, len, mic, mic_len);
}

const struct auth_mech_ops auth_mech_ntlmssp = {
	.name = "NTLMSSP",
	.oid = spnego_oid_ntlmssp,
	.oid_len = sizeof(spnego_oid_ntlmssp),
	.start = mech_start,
	.update = mech_update,
	.info = mech_info,
	.mic_required = mech_mic_required,
	.can_sign = mech_can_sign,
	.get_mic = mech_get_mic,
	.verify_mic = mech_verify_mic,
};
