/*
 * NEGOTIATE (MS-SMB2 2.2.3, 2.2.4, 3.3.5.3/3.3.5.4), and the SMB1
 * NEGOTIATE upgrade (MS-SMB2 3.3.5.3.1).
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "conf/conf.h"
#include "lib/crypto/smb2_preauth.h"
#include "lib/crypto/random.h"
#include "lib/crypto/smb2_aead.h"
#include "lib/crypto/smb2_sign.h"
#include "lib/fscc.h"
#include "lib/log.h"
#include "lib/wire.h"
#include "smbd/conn.h"
#include "smbd/server.h"
#include "smbd/smb2_handlers.h"
#include "smbd/smb2_proto.h"

#define SMB2_MAX_IO_LARGE (8u * 1024 * 1024)
#define SMB2_MAX_IO_SMALL 65536u

/* Status for a 3.1.1 client whose pre-auth hash algorithms we lack (MS-SMB2 3.3.5.4). */
#define NT_STATUS_V_SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP 0xC05D0000

struct negotiate_in {
	uint16_t dialect_count;
	uint16_t security_mode;
	uint32_t capabilities;
	uint8_t client_guid[16];
	uint32_t context_offset;
	uint16_t context_count;
	uint16_t dialects[64];
};

/* What the 3.1.1 negotiate contexts asked for and what we chose. */
struct negotiate_ctx_result {
	bool have_preauth;
	bool preauth_sha512;
	bool have_signing;
	uint16_t signing_algo;
	bool have_encryption;
	uint16_t cipher; /* 0: none in common */
};

static uint16_t choose_dialect(const struct smbd_conn *conn, const uint16_t *dialects, size_t n)
{
	const struct porthos_config *cfg = conn->srv->cfg;
	static const uint16_t ours[] = { SMB2_DIALECT_311, SMB2_DIALECT_302, SMB2_DIALECT_300, SMB2_DIALECT_210,
					 SMB2_DIALECT_202 };
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		if (ours[i] > cfg->max_protocol || ours[i] < cfg->min_protocol)
			continue;
		for (size_t j = 0; j < n; j++)
			if (dialects[j] == ours[i])
				return ours[i];
	}
	return 0;
}

/* MS-SMB2 2.2.3.1: contexts start 8-aligned and are 8-aligned one to the next. */
static NTSTATUS parse_contexts(const struct smb2_call *call, const struct negotiate_in *in,
			       struct negotiate_ctx_result *res)
{
	struct wire_rd r = call->in;
	wire_seek(&r, in->context_offset);
	for (uint16_t i = 0; i < in->context_count; i++) {
		wire_align(&r, 8);
		uint16_t type = wire_u16(&r);
		uint16_t data_len = wire_u16(&r);
		wire_skip(&r, 4);
		const uint8_t *data = wire_ptr(&r, data_len);
		if (!wire_ok(&r))
			return NT_STATUS_INVALID_PARAMETER;
		struct wire_rd d;
		wire_rd_init(&d, data, data_len);
		switch (type) {
		case SMB2_PREAUTH_INTEGRITY_CAPABILITIES: {
			if (res->have_preauth)
				return NT_STATUS_INVALID_PARAMETER;
			res->have_preauth = true;
			uint16_t count = wire_u16(&d);
			wire_skip(&d, 2); /* SaltLength: the salt is hashed as part of the message */
			if (count == 0)
				return NT_STATUS_INVALID_PARAMETER;
			for (uint16_t k = 0; k < count; k++)
				if (wire_u16(&d) == SMB2_PREAUTH_HASH_SHA512)
					res->preauth_sha512 = true;
			if (!wire_ok(&d))
				return NT_STATUS_INVALID_PARAMETER;
			break;
		}
		case SMB2_SIGNING_CAPABILITIES: {
			if (res->have_signing)
				return NT_STATUS_INVALID_PARAMETER;
			res->have_signing = true;
			uint16_t count = wire_u16(&d);
			if (count == 0)
				return NT_STATUS_INVALID_PARAMETER;
			/* The client lists algorithms in its order of preference. */
			bool chosen = false;
			for (uint16_t k = 0; k < count; k++) {
				uint16_t algo = wire_u16(&d);
				if (!chosen && algo <= SMB2_SIGN_AES_GMAC) {
					res->signing_algo = algo;
					chosen = true;
				}
			}
			if (!wire_ok(&d))
				return NT_STATUS_INVALID_PARAMETER;
			if (!chosen)
				res->signing_algo = SMB2_SIGN_AES_CMAC;
			break;
		}
		case SMB2_ENCRYPTION_CAPABILITIES: {
			if (res->have_encryption)
				return NT_STATUS_INVALID_PARAMETER;
			res->have_encryption = true;
			uint16_t count = wire_u16(&d);
			if (count == 0)
				return NT_STATUS_INVALID_PARAMETER;
			/* The client's order of preference decides, as on Windows. */
			for (uint16_t k = 0; k < count; k++) {
				uint16_t c = wire_u16(&d);
				if (res->cipher == 0 && c >= SMB2_CIPHER_AES128_CCM && c <= SMB2_CIPHER_AES256_GCM)
					res->cipher = c;
			}
			if (!wire_ok(&d))
				return NT_STATUS_INVALID_PARAMETER;
			break;
		}
		default:
			/* MS-SMB2 3.3.5.4: unknown contexts are ignored; compression
			 * is not offered, so its context is too. */
			break;
		}
	}
	if (!res->have_preauth)
		return NT_STATUS_INVALID_PARAMETER;
	if (!res->preauth_sha512)
		return NT_STATUS(NT_STATUS_V_SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP);
	return NT_STATUS_OK;
}

static void put_context(struct wire_wr *w, uint16_t type, const uint8_t *data, uint16_t len)
{
	wire_put_align(w, 8);
	wire_put_u16(w, type);
	wire_put_u16(w, len);
	wire_put_u32(w, 0);
	wire_put_bytes(w, data, len);
}

/* A context that answers with the one algorithm chosen: count 1, then its id. */
static void put_choice_context(struct wire_wr *w, uint16_t type, uint16_t id)
{
	uint8_t data[4];
	put_le16(data, 1);
	put_le16(data + 2, id);
	put_context(w, type, data, sizeof(data));
}

/*
 * The response body. 'w' starts at the end of the 64-byte header, so a body
 * offset X is header offset 64 + X; alignment is relative to the header.
 */
NTSTATUS smb2_negotiate_build_response(struct smbd_conn *conn, struct wire_wr *w, uint16_t dialect,
				       const uint8_t *contexts_blob, size_t contexts_len, uint16_t n_contexts)
{
	struct smbd_server *srv = conn->srv;
	uint16_t sec_mode = SMB2_NEGOTIATE_SIGNING_ENABLED;
	if (srv->cfg->signing_required)
		sec_mode |= SMB2_NEGOTIATE_SIGNING_REQUIRED;
	bool large = dialect != SMB2_DIALECT_202;
	uint32_t caps = large ? SMB2_GLOBAL_CAP_LARGE_MTU : 0;
	/* For 3.1.1 the encryption context says it, not the capability. */
	if ((dialect == SMB2_DIALECT_300 || dialect == SMB2_DIALECT_302) && conn->cipher_id)
		caps |= SMB2_GLOBAL_CAP_ENCRYPTION;
	if (dialect >= SMB2_DIALECT_300 && srv->cfg->multi_channel)
		caps |= SMB2_GLOBAL_CAP_MULTI_CHANNEL;
	/* Persistent handles where a share is continuously available (durable.h). */
	if (dialect >= SMB2_DIALECT_300 && srv->ph_store != NULL)
		caps |= SMB2_GLOBAL_CAP_PERSISTENT_HANDLES;
	/* File leases from 2.1 on (smbd/lease.h), directory leases from 3.0
	 * (smbd/dir_lease.h) to a client that says it knows them, as Windows
	 * clients and cifs do: some clients that do not (impacket 0.10)
	 * fail every CREATE against a server that offers them unasked. */
	if (dialect >= SMB2_DIALECT_210)
		caps |= SMB2_GLOBAL_CAP_LEASING;
	if (dialect >= SMB2_DIALECT_300 && srv->cfg->directory_leases &&
	    (conn->client_capabilities & SMB2_GLOBAL_CAP_DIRECTORY_LEASING))
		caps |= SMB2_GLOBAL_CAP_DIRECTORY_LEASING;
	uint32_t max_io = large ? SMB2_MAX_IO_LARGE : SMB2_MAX_IO_SMALL;
	if (max_io + 4096 > srv->cfg->max_pdu)
		max_io = (srv->cfg->max_pdu - 4096) & ~65535u;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);

	conn->server_capabilities = caps;
	conn->max_transact = conn->max_read = conn->max_write = max_io;

	wire_put_u16(w, 65);
	wire_put_u16(w, sec_mode);
	wire_put_u16(w, dialect);
	wire_put_u16(w, n_contexts);
	wire_put_bytes(w, srv->server_guid, 16);
	wire_put_u32(w, caps);
	wire_put_u32(w, max_io);
	wire_put_u32(w, max_io);
	wire_put_u32(w, max_io);
	wire_put_u64(w, fscc_nttime_from_timespec(&now));
	wire_put_u64(w, 0); /* ServerStartTime: Windows sends 0 */
	wire_put_u16(w, SMB2_HDR_LEN + 64);
	wire_put_u16(w, (uint16_t)srv->negotiate_blob_len);
	size_t ctx_off_pos = wire_reserve(w, 4);
	wire_put_bytes(w, srv->negotiate_blob, srv->negotiate_blob_len);
	if (n_contexts) {
		/* Align relative to the header: w holds the body, which starts at 64. */
		wire_put_align(w, 8);
		wire_patch_u32(w, ctx_off_pos, (uint32_t)(SMB2_HDR_LEN + w->len));
		wire_put_bytes(w, contexts_blob, contexts_len);
	}
	return wire_wr_ok(w) ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

NTSTATUS smb2_negotiate(struct smb2_call *call)
{
	struct smbd_conn *conn = call->req->conn;
	struct negotiate_in in = { 0 };
	struct wire_rd *r = &call->in;

	wire_skip(r, 2);
	in.dialect_count = wire_u16(r);
	in.security_mode = wire_u16(r);
	wire_skip(r, 2);
	in.capabilities = wire_u32(r);
	wire_copy(r, in.client_guid, 16);
	in.context_offset = wire_u32(r);
	in.context_count = wire_u16(r);
	wire_skip(r, 2);
	if (in.dialect_count == 0 || in.dialect_count > 64)
		return NT_STATUS_INVALID_PARAMETER;
	for (uint16_t i = 0; i < in.dialect_count; i++)
		in.dialects[i] = wire_u16(r);
	if (!wire_ok(r))
		return NT_STATUS_INVALID_PARAMETER;

	uint16_t dialect = choose_dialect(conn, in.dialects, in.dialect_count);
	if (dialect == 0) {
		LOG_INFO("%s: no common dialect", conn->peer);
		return NT_STATUS_NOT_SUPPORTED;
	}

	struct negotiate_ctx_result ctx = { 0 };
	struct wire_wr ctxw;
	wire_wr_init(&ctxw, call->req, 64);
	uint16_t n_out_ctx = 0;
	if (dialect == SMB2_DIALECT_311) {
		NTSTATUS st = parse_contexts(call, &in, &ctx);
		if (!NT_STATUS_IS_OK(st))
			return st;
		/* Our preauth context: SHA-512 with a 32-byte random salt. */
		uint8_t pa[4 + 2 + 32];
		put_le16(pa, 1);
		put_le16(pa + 2, 32);
		put_le16(pa + 4, SMB2_PREAUTH_HASH_SHA512);
		crypto_random(pa + 6, 32);
		put_context(&ctxw, SMB2_PREAUTH_INTEGRITY_CAPABILITIES, pa, sizeof(pa));
		n_out_ctx++;
		conn->signing_algo_id = SMB2_SIGN_AES_CMAC;
		if (ctx.have_signing) {
			put_choice_context(&ctxw, SMB2_SIGNING_CAPABILITIES, ctx.signing_algo);
			n_out_ctx++;
			conn->signing_algo_id = ctx.signing_algo;
		}
		if (ctx.have_encryption) {
			/* MS-SMB2 3.3.5.4: one cipher, or 0 when none is in common. */
			put_choice_context(&ctxw, SMB2_ENCRYPTION_CAPABILITIES, ctx.cipher);
			n_out_ctx++;
			conn->cipher_id = ctx.cipher;
		}
		/* H0 = zeros; H1 = SHA-512(H0 || NEGOTIATE request) (MS-SMB2 3.3.5.4). */
		memset(conn->preauth_hash, 0, sizeof(conn->preauth_hash));
		struct iovec req_iov = { (void *)call->in_hdr, call->in_len };
		if (!smb2_preauth_update(conn->preauth_hash, &req_iov, 1))
			return NT_STATUS_INTERNAL_ERROR;
		call->preauth_out = conn->preauth_hash;
	} else if (dialect >= SMB2_DIALECT_300) {
		conn->signing_algo_id = SMB2_SIGN_AES_CMAC;
		/* 3.0 and 3.0.2 know only AES-128-CCM, agreed by capability. */
		if (in.capabilities & SMB2_GLOBAL_CAP_ENCRYPTION)
			conn->cipher_id = SMB2_CIPHER_AES128_CCM;
	} else {
		conn->signing_algo_id = SMB2_SIGN_HMAC_SHA256;
	}

	conn->dialect = dialect;
	conn->client_security_mode = in.security_mode;
	conn->client_capabilities = in.capabilities;
	memcpy(conn->client_guid, in.client_guid, 16);
	conn->n_client_dialects = in.dialect_count < 16 ? in.dialect_count : 16;
	memcpy(conn->client_dialects, in.dialects, conn->n_client_dialects * sizeof(uint16_t));
	conn->negotiated = true;
	LOG_DBG("%s: negotiated dialect 0x%04x", conn->peer, dialect);
	if (!wire_wr_ok(&ctxw))
		return NT_STATUS_NO_MEMORY;
	return smb2_negotiate_build_response(conn, &call->out, dialect, ctxw.buf, ctxw.len, n_out_ctx);
}
