/*
 * Seeds for fuzz_spnego, fuzz_ntlmssp, fuzz_rpc and fuzz_conf, and the
 * DCE/RPC request writers the SMB pipe seeds share.
 */
#include "config.h"

#include <string.h>

#include "lib/auth/ntlm_crypto.h"
#include "lib/auth/ntlmssp.h"
#include "lib/auth/spnego.h"
#include "lib/rpc/rpc_iface.h"
#include "tests/fuzz/fz_user.h"
#include "tests/fuzz/ntlm_client.h"
#include "tests/fuzz/seeds.h"

/* ---- DCE/RPC (C706 12.6) ---- */

#define PT_REQUEST 0
#define PT_BIND 11
#define PT_ALTER 14
#define PFC_FIRST 0x01
#define PFC_LAST 0x02

static const struct rpc_uuid uuid_srvsvc =
	RPC_UUID(0x4b324fc8, 0x1670, 0x01d3, 0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88);
static const struct rpc_uuid uuid_ndr =
	RPC_UUID(0x8a885d04, 0x1ceb, 0x11c9, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60);
static const struct rpc_uuid uuid_ndr64 =
	RPC_UUID(0x71710533, 0xbeba, 0x4937, 0x83, 0x19, 0xb5, 0xdb, 0xef, 0x9c, 0xcc, 0x36);
static const struct rpc_uuid uuid_btfn =
	RPC_UUID(0x6cb71c2c, 0x9812, 0x4540, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00);

/* The common header; returns where the PDU starts, for rpc_end(). */
static size_t rpc_hdr(struct wire_wr *w, uint8_t ptype, uint8_t flags, uint32_t call_id)
{
	size_t start = w->len;
	wire_put_u8(w, 5);
	wire_put_u8(w, 0);
	wire_put_u8(w, ptype);
	wire_put_u8(w, flags);
	wire_put_u32(w, 0x10); /* little-endian, ASCII, IEEE */
	wire_put_u16(w, 0);    /* frag_length */
	wire_put_u16(w, 0);
	wire_put_u32(w, call_id);
	return start;
}

static void rpc_end(struct wire_wr *w, size_t start)
{
	wire_patch_u16(w, start + 8, (uint16_t)(w->len - start));
}

static void put_ctx(struct wire_wr *w, uint16_t id, const struct rpc_uuid *ts, uint16_t ts_ver)
{
	wire_put_u16(w, id);
	wire_put_u8(w, 1);
	wire_put_u8(w, 0);
	wire_put_bytes(w, uuid_srvsvc.b, 16);
	wire_put_u16(w, 3);
	wire_put_u16(w, 0);
	wire_put_bytes(w, ts->b, 16);
	wire_put_u16(w, ts_ver);
	wire_put_u16(w, 0);
}

static void put_bind_body(struct wire_wr *w, bool windows_style)
{
	wire_put_u16(w, 4280);
	wire_put_u16(w, 4280);
	wire_put_u32(w, 0);
	wire_put_u8(w, windows_style ? 3 : 1);
	wire_put_zeros(w, 3);
	put_ctx(w, 0, &uuid_ndr, 2);
	if (windows_style) {
		put_ctx(w, 1, &uuid_ndr64, 1);
		put_ctx(w, 2, &uuid_btfn, 1);
	}
}

void rpc_put_bind(struct wire_wr *w, uint32_t call_id, bool windows_style)
{
	size_t start = rpc_hdr(w, PT_BIND, PFC_FIRST | PFC_LAST, call_id);
	put_bind_body(w, windows_style);
	rpc_end(w, start);
}

static void put_request(struct wire_wr *w, uint32_t call_id, uint8_t flags, uint16_t ctx, uint16_t opnum,
			const uint8_t *stub, size_t len, uint32_t alloc_hint)
{
	size_t start = rpc_hdr(w, PT_REQUEST, flags, call_id);
	wire_put_u32(w, alloc_hint);
	wire_put_u16(w, ctx);
	wire_put_u16(w, opnum);
	wire_put_bytes(w, stub, len);
	rpc_end(w, start);
}

/* A [string] wchar_t* pointee (C706 14.3.4). */
static void put_ndr_wstring(struct wire_wr *w, const char *s)
{
	uint32_t n = (uint32_t)strlen(s) + 1;
	wire_put_align(w, 4);
	wire_put_u32(w, n);
	wire_put_u32(w, 0);
	wire_put_u32(w, n);
	for (uint32_t i = 0; i < n; i++)
		wire_put_u16(w, (uint8_t)s[i]);
	wire_put_align(w, 4);
}

void rpc_put_share_enum(struct wire_wr *w, uint32_t call_id, uint32_t level)
{
	struct wire_wr stub;
	wire_wr_init(&stub, w->mem, 128);
	wire_put_u32(&stub, 0x00020000); /* ServerName */
	put_ndr_wstring(&stub, "\\\\FUZZ");
	wire_put_u32(&stub, level);
	wire_put_u32(&stub, level);
	wire_put_u32(&stub, 0x00020004); /* the container */
	wire_put_u32(&stub, 0);          /* EntriesRead */
	wire_put_u32(&stub, 0);          /* Buffer */
	wire_put_u32(&stub, 0xffffffff); /* PreferedMaximumLength */
	wire_put_u32(&stub, 0x00020008); /* ResumeHandle */
	wire_put_u32(&stub, 0);
	put_request(w, call_id, PFC_FIRST | PFC_LAST, 0, 15, stub.buf, stub.len, (uint32_t)stub.len);
	talloc_free(stub.buf);
}

void rpc_put_share_get_info(struct wire_wr *w, uint32_t call_id, const char *share, uint32_t level)
{
	struct wire_wr stub;
	wire_wr_init(&stub, w->mem, 128);
	wire_put_u32(&stub, 0); /* ServerName: NULL */
	put_ndr_wstring(&stub, share);
	wire_put_u32(&stub, level);
	put_request(w, call_id, PFC_FIRST | PFC_LAST, 0, 16, stub.buf, stub.len, (uint32_t)stub.len);
	talloc_free(stub.buf);
}

void rpc_put_server_get_info(struct wire_wr *w, uint32_t call_id, uint32_t level)
{
	struct wire_wr stub;
	wire_wr_init(&stub, w->mem, 64);
	wire_put_u32(&stub, 0x00020000);
	put_ndr_wstring(&stub, "FUZZ");
	wire_put_u32(&stub, level);
	put_request(w, call_id, PFC_FIRST | PFC_LAST, 0, 21, stub.buf, stub.len, (uint32_t)stub.len);
	talloc_free(stub.buf);
}

void seeds_rpc(TALLOC_CTX *mem)
{
	const char *T = "fuzz_rpc";
	struct wire_wr w;

	wire_wr_init(&w, mem, 1024);
	wire_put_u8(&w, 0);
	wire_put_u8(&w, 255);
	rpc_put_bind(&w, 1, true);
	static const uint32_t enum_levels[] = { 0, 1, 2, 501, 502, 503, 7 };
	for (size_t i = 0; i < sizeof(enum_levels) / sizeof(enum_levels[0]); i++)
		rpc_put_share_enum(&w, 2 + (uint32_t)i, enum_levels[i]);
	seed_write(T, "share-enum", w.buf, w.len);

	wire_wr_init(&w, mem, 1024);
	wire_put_u8(&w, 0);
	wire_put_u8(&w, 255);
	rpc_put_bind(&w, 1, false);
	static const uint32_t info_levels[] = { 0, 1, 2, 501, 502, 1005, 9 };
	for (size_t i = 0; i < sizeof(info_levels) / sizeof(info_levels[0]); i++)
		rpc_put_share_get_info(&w, 2 + (uint32_t)i, i % 2 ? "share" : "IPC$", info_levels[i]);
	rpc_put_share_get_info(&w, 20, "nosuchshare", 1);
	rpc_put_server_get_info(&w, 21, 100);
	rpc_put_server_get_info(&w, 22, 101);
	rpc_put_server_get_info(&w, 23, 102);
	seed_write(T, "get-info", w.buf, w.len);

	/* Small writes and small reads: framing and fragments across calls. */
	wire_wr_init(&w, mem, 1024);
	wire_put_u8(&w, 7);
	wire_put_u8(&w, 0);
	rpc_put_bind(&w, 1, true);
	rpc_put_share_enum(&w, 2, 1);
	seed_write(T, "small-chunks", w.buf, w.len);

	/* A request in two fragments; an ALTER_CONTEXT; an opnum nobody serves. */
	wire_wr_init(&w, mem, 1024);
	wire_put_u8(&w, 0);
	wire_put_u8(&w, 100);
	rpc_put_bind(&w, 1, false);
	struct wire_wr stub;
	wire_wr_init(&stub, mem, 128);
	wire_put_u32(&stub, 0);
	put_ndr_wstring(&stub, "share");
	wire_put_u32(&stub, 2);
	size_t half = stub.len / 2;
	put_request(&w, 2, PFC_FIRST, 0, 16, stub.buf, half, (uint32_t)stub.len);
	put_request(&w, 2, PFC_LAST, 0, 16, stub.buf + half, stub.len - half, (uint32_t)(stub.len - half));
	size_t start = rpc_hdr(&w, PT_ALTER, PFC_FIRST | PFC_LAST, 3);
	put_bind_body(&w, true);
	rpc_end(&w, start);
	put_request(&w, 4, PFC_FIRST | PFC_LAST, 1, 15, stub.buf, stub.len, 0);
	put_request(&w, 5, PFC_FIRST | PFC_LAST, 0, 3, NULL, 0, 0);
	seed_write(T, "fragments-alter", w.buf, w.len);
}

/* ---- SPNEGO and NTLMSSP ---- */

static void put_token(struct wire_wr *w, const uint8_t *tok, size_t len)
{
	wire_put_u16(w, (uint16_t)len);
	wire_put_bytes(w, tok, len);
}

static const uint8_t fixed_challenge[8] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };

void seeds_auth(TALLOC_CTX *mem)
{
	const struct ntlmc_opts user = { .user = FZ_USER, .domain = FZ_DOMAIN, .password = FZ_PASSWORD };
	const struct ntlmc_opts anon = { .user = NULL };
	size_t neg_len, chal_len, auth_len, anon_len, t1, t2;
	uint8_t *neg = ntlmc_negotiate(mem, false, &neg_len);
	uint8_t *chal = ntlmc_fake_challenge(mem, fixed_challenge, &chal_len);
	uint8_t *auth = ntlmc_authenticate(mem, chal, chal_len, &user, &auth_len, NULL);
	uint8_t *anon_auth = ntlmc_authenticate(mem, chal, chal_len, &anon, &anon_len, NULL);
	uint8_t *init = ntlmc_spnego_init(mem, neg, neg_len, &t1);
	struct wire_wr w;

	/* fuzz_spnego: mode bit 0 = guest logons allowed. */
	const char *S = "fuzz_spnego";
	wire_wr_init(&w, mem, 512);
	wire_put_u8(&w, 1);
	put_token(&w, init, t1);
	uint8_t *resp = ntlmc_spnego_resp(mem, anon_auth, anon_len, &t2);
	put_token(&w, resp, t2);
	seed_write(S, "anonymous", w.buf, w.len);

	wire_wr_init(&w, mem, 512);
	wire_put_u8(&w, 0);
	put_token(&w, init, t1);
	resp = ntlmc_spnego_resp(mem, auth, auth_len, &t2);
	put_token(&w, resp, t2);
	seed_write(S, "user", w.buf, w.len);

	wire_wr_init(&w, mem, 512);
	wire_put_u8(&w, 1);
	put_token(&w, neg, neg_len);
	put_token(&w, anon_auth, anon_len);
	seed_write(S, "raw-ntlmssp", w.buf, w.len);

	/* Kerberos offered first without a token, as Windows does; a mechListMIC. */
	const uint8_t *mechs[3] = { spnego_oid_ms_krb5, spnego_oid_krb5, spnego_oid_ntlmssp };
	size_t lens[3] = { sizeof(spnego_oid_ms_krb5), sizeof(spnego_oid_krb5), sizeof(spnego_oid_ntlmssp) };
	static const uint8_t mic[16] = { 1, 0, 0, 0, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11 };
	wire_wr_init(&w, mem, 512);
	wire_put_u8(&w, 1);
	uint8_t *t = spnego_encode_init(mem, mechs, lens, 3, NULL, 0, NULL, NULL, 0, &t1);
	put_token(&w, t, t1);
	t = spnego_encode_resp(mem, 1, spnego_oid_ntlmssp, sizeof(spnego_oid_ntlmssp), neg, neg_len, NULL, 0, &t1);
	put_token(&w, t, t1);
	t = spnego_encode_resp(mem, -1, NULL, 0, auth, auth_len, mic, sizeof(mic), &t1);
	put_token(&w, t, t1);
	seed_write(S, "kerberos-first-mic", w.buf, w.len);

	/* What a server sends: a NegTokenInit2 with negHints. */
	wire_wr_init(&w, mem, 512);
	wire_put_u8(&w, 0);
	t = spnego_encode_init(mem, mechs, lens, 3, neg, neg_len, "not_defined_in_RFC4178@please_ignore", mic,
			       sizeof(mic), &t1);
	put_token(&w, t, t1);
	seed_write(S, "neg-hints", w.buf, w.len);

	/* fuzz_ntlmssp: bit 0 = the fixed challenge, bit 1 = guest allowed. */
	const char *N = "fuzz_ntlmssp";
	wire_wr_init(&w, mem, 512);
	wire_put_u8(&w, 2);
	put_token(&w, neg, neg_len);
	put_token(&w, anon_auth, anon_len);
	seed_write(N, "raw-anonymous", w.buf, w.len);

	wire_wr_init(&w, mem, 512);
	wire_put_u8(&w, 0);
	put_token(&w, neg, neg_len);
	put_token(&w, auth, auth_len);
	seed_write(N, "raw-user", w.buf, w.len);

	/* Logons that succeed against the fixed challenge, then signed messages. */
	for (int variant = 0; variant < 3; variant++) {
		bool key_exch = variant >= 1, with_mic = variant == 2;
		size_t n_len, a_len;
		uint8_t *n = ntlmc_negotiate(mem, key_exch, &n_len);
		const struct ntlmc_opts o = { .user = FZ_USER, .domain = FZ_DOMAIN, .password = FZ_PASSWORD,
					      .key_exch = key_exch, .mic = with_mic, .negotiate = n,
					      .negotiate_len = n_len };
		uint8_t exported[16];
		uint8_t *a = ntlmc_authenticate(mem, chal, chal_len, &o, &a_len, exported);
		wire_wr_init(&w, mem, 1024);
		wire_put_u8(&w, 1);
		put_token(&w, n, n_len);
		put_token(&w, a, a_len);
		uint8_t sign_key[16], seal_key[16];
		uint32_t flags = NTLMSSP_NEGOTIATE_128 | NTLMSSP_NEGOTIATE_56 | NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY;
		if (ntlm_sign_key(exported, true, sign_key) && ntlm_seal_key(exported, flags, true, seal_key)) {
			struct ntlm_rc4 *seal = key_exch ? ntlm_rc4_new(mem, seal_key, 16) : NULL;
			for (uint32_t seq = 0; seq < 3; seq++) {
				uint8_t msg[40], sig[16];
				memset(msg, (int)('a' + seq), sizeof(msg));
				if (!ntlm_make_signature(sign_key, seal, seq, msg, sizeof(msg), sig))
					break;
				wire_put_u16(&w, sizeof(msg) + 16);
				wire_put_bytes(&w, msg, sizeof(msg));
				wire_put_bytes(&w, sig, 16);
			}
		}
		static const char *const names[] = { "fixed-user-signing", "fixed-keyexch-signing", "fixed-mic" };
		seed_write(N, names[variant], w.buf, w.len);
	}

	wire_wr_init(&w, mem, 512);
	wire_put_u8(&w, 3);
	put_token(&w, neg, neg_len);
	put_token(&w, anon_auth, anon_len);
	seed_write(N, "fixed-anonymous", w.buf, w.len);
}

/* ---- configuration ---- */

void seeds_conf(TALLOC_CTX *mem)
{
	static const char full[] =
		"# every parameter\n"
		"[global]\n"
		"netbios name = porthos1\n"
		"workgroup = example\n"
		"server string = Porthos file server\n"
		"listen = 127.0.0.1:4455\n"
		"listen = [::1]:4456\n"
		"smb port = 445\n"
		"state directory = /tmp\n"
		"passdb = /tmp/passdb\n"
		"server guid file = /tmp/guid\n"
		"log level = debug\n"
		"log to syslog = no\n"
		"max pdu size = 8454144\n"
		"idle timeout = 900\n"
		"auth timeout = 60\n"
		"max logon delay = 8\n"
		"allow anonymous = no\n"
		"server signing = required\n"
		"server min protocol = SMB2_10\n"
		"server max protocol = SMB3_11\n"
		"max connections = 1000\n"
		"max open files = 100\n"
		"max async requests = 64\n"
		"[vms]\n"
		"path = /tmp\n"
		"comment = virtual disks\n"
		"read only = no\n"
		"guest ok = no\n"
		"browseable = yes\n"
		"continuous availability = yes\n"
		"smb encrypt = required\n"
		"valid users = alice, bob, @admins\n"
		"invalid users = mallory\n"
		"read list = bob\n"
		"write list = alice\n"
		"[Public]\n"
		"path = /tmp/\n"
		"public = yes\n"
		"writeable = no\n";
	static const char odd[] =
		"; comments, continuations, case and spacing\n"
		"[GLOBAL]\n"
		"  NetBIOS Name=SRV\n"
		"LOG LEVEL = info # not a comment\n"
		"listen = 0.0.0.0, \\\n"
		"  [::]:445\n"
		"[a share]\n"
		"path=/tmp\n"
		"readonly=yes\n";
	static const char errors[] =
		"[global]\n"
		"no such parameter = 1\n"
		"max pdu size = 12\n"
		"server min protocol = SMB4\n"
		"listen = host.example:445\n"
		"allow anonymous = perhaps\n"
		"[bad/name]\n"
		"path = relative/path\n"
		"[dup]\npath = /tmp\n[DUP]\npath = /nonexistent\n"
		"key without section\n"
		"[unterminated\n";
	seed_write("fuzz_conf", "full.conf", full, sizeof(full) - 1);
	seed_write("fuzz_conf", "odd.conf", odd, sizeof(odd) - 1);
	seed_write("fuzz_conf", "errors.conf", errors, sizeof(errors) - 1);
	(void)mem;
}
