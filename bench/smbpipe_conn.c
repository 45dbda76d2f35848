/*
 * The connection half of the pipelined benchmark client (smbpipe_conn.h).
 * Message layouts: MS-SMB2 2.2; the NTLMv2 response: MS-NLMP 3.3.2.
 */
#include "config.h"
#include "bench/smbpipe_conn.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <talloc.h>

#include "lib/auth/ntlm_crypto.h"
#include "lib/auth/ntlmssp.h"
#include "lib/crypto/random.h"
#include "lib/crypto/smb2_aead.h"
#include "lib/crypto/smb2_preauth.h"
#include "lib/crypto/smb2_sign.h"
#include "lib/unicode.h"
#include "lib/wire.h"
#include "smbd/smb2_proto.h"

#define STATUS_SUCCESS 0x00000000u
#define STATUS_PENDING 0x00000103u
#define STATUS_MORE_PROCESSING_REQUIRED 0xC0000016u
#define TRANSFORM_FLAG_ENCRYPTED 0x0001

/* No key exchange: the session key is the NTLMv2 session base key. */
static const uint32_t ntlm_flags =
	NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_REQUEST_TARGET | NTLMSSP_NEGOTIATE_SIGN |
	NTLMSSP_NEGOTIATE_NTLM | NTLMSSP_NEGOTIATE_ALWAYS_SIGN |
	NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY | NTLMSSP_NEGOTIATE_TARGET_INFO |
	NTLMSSP_NEGOTIATE_128 | NTLMSSP_NEGOTIATE_56;

void pipe_hdr(uint8_t hdr[64], uint16_t cmd, uint16_t credit_request)
{
	memset(hdr, 0, SMB2_HDR_LEN);
	memcpy(hdr, "\xfeSMB", 4);
	put_le16(hdr + SMB2_HDR_STRUCTURE_SIZE, SMB2_HDR_LEN);
	put_le16(hdr + SMB2_HDR_COMMAND, cmd);
	put_le16(hdr + SMB2_HDR_CREDIT, credit_request);
	put_le32(hdr + SMB2_HDR_PID, 0xfeff);
}

static bool send_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		/* No SIGPIPE from a server that went away: an error, reported. */
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n };
		ssize_t k = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "smbpipe: send: %s\n", strerror(errno));
			return false;
		}
		while (n > 0 && (size_t)k >= iov->iov_len) {
			k -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + k;
			iov->iov_len -= (size_t)k;
		}
	}
	return true;
}

static bool recv_all(struct pipe_conn *c, void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t k = recv(c->fd, p, len, MSG_WAITALL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			/* Read without the lock: the receiver never takes it. */
			if (!__atomic_load_n(&c->closing, __ATOMIC_ACQUIRE))
				fprintf(stderr, "smbpipe: receive: %s\n",
					k == 0 ? "connection closed" : strerror(errno));
			return false;
		}
		p += k;
		len -= (size_t)k;
	}
	return true;
}

bool pipe_conn_take(struct pipe_conn *c, uint16_t charge, uint64_t *mid)
{
	pthread_mutex_lock(&c->lock);
	while (c->credits < charge && !c->closing)
		pthread_cond_wait(&c->changed, &c->lock);
	bool ok = !c->closing;
	if (ok)
		c->credits -= charge;
	pthread_mutex_unlock(&c->lock);
	*mid = c->next_mid;
	c->next_mid += charge;
	return ok;
}

static void fill_hdr(struct pipe_conn *c, uint8_t *hdr, uint16_t charge, uint64_t mid)
{
	put_le16(hdr + SMB2_HDR_CREDIT_CHARGE, charge);
	put_le64(hdr + SMB2_HDR_MESSAGE_ID, mid);
	put_le32(hdr + SMB2_HDR_TID, c->tree_id);
	put_le64(hdr + SMB2_HDR_SESSION_ID, c->session_id);
}

static bool frame_send(struct pipe_conn *c, uint8_t *hdr, size_t hdr_len, void *data,
		       size_t data_len, uint16_t charge, uint64_t mid, bool sign)
{
	uint8_t nbss[4], th[SMB2_TRANSFORM_HDR_LEN];
	struct iovec iov[4];
	int n = 0;
	size_t msg_len = hdr_len + data_len;

	fill_hdr(c, hdr, charge, mid);
	struct iovec msg[2] = { { hdr, hdr_len }, { data, data_len } };
	int msg_n = data_len ? 2 : 1;
	if (sign && !c->seal) {
		uint8_t sig[16];
		put_le32(hdr + SMB2_HDR_FLAGS, le32(hdr + SMB2_HDR_FLAGS) | SMB2_FLAGS_SIGNED);
		memset(hdr + SMB2_HDR_SIGNATURE, 0, 16);
		if (!smb2_sign_iov(SMB2_SIGN_AES_CMAC, c->keys.signing, msg, msg_n, sig))
			return false;
		memcpy(hdr + SMB2_HDR_SIGNATURE, sig, 16);
	}
	if (c->seal) {
		/* MS-SMB2 2.2.41: the AAD is the transform header from its Nonce on.
		 * smb2_session_keys are named from the server's side: the client
		 * seals with its "decryption" key (SMBC2SCipherKey). */
		memset(th, 0, sizeof(th));
		memcpy(th, "\xfdSMB", 4);
		put_le64(th + 20, ++c->nonce);
		put_le32(th + 36, (uint32_t)msg_len);
		put_le16(th + 42, TRANSFORM_FLAG_ENCRYPTED);
		put_le64(th + 44, c->session_id);
		if (!smb2_aead_encrypt(SMB2_CIPHER_AES128_GCM, c->keys.decryption, th + 20, th + 20, 32,
				       msg, msg_n, th + 4))
			return false;
		msg_len += sizeof(th);
	}
	nbss[0] = 0;
	nbss[1] = (uint8_t)(msg_len >> 16);
	nbss[2] = (uint8_t)(msg_len >> 8);
	nbss[3] = (uint8_t)msg_len;
	iov[n++] = (struct iovec){ nbss, 4 };
	if (c->seal)
		iov[n++] = (struct iovec){ th, sizeof(th) };
	iov[n++] = msg[0];
	if (data_len)
		iov[n++] = msg[1];
	return send_all(c->fd, iov, n);
}

bool pipe_conn_send(struct pipe_conn *c, uint8_t *hdr, size_t hdr_len, void *data,
		    size_t data_len, uint16_t charge, uint64_t mid)
{
	return frame_send(c, hdr, hdr_len, data, data_len, charge, mid, false);
}

bool pipe_conn_recv(struct pipe_conn *c, struct pipe_msg *m)
{
	uint8_t nbss[4];
	if (!recv_all(c, nbss, 4))
		return false;
	size_t len = (size_t)nbss[1] << 16 | (size_t)nbss[2] << 8 | nbss[3];
	if (len > c->rbuf_cap) {
		free(c->rbuf);
		c->rbuf = malloc(len);
		c->rbuf_cap = c->rbuf ? len : 0;
		if (c->rbuf == NULL)
			return false;
	}
	if (!recv_all(c, c->rbuf, len))
		return false;
	uint8_t *p = c->rbuf;
	if (len >= SMB2_TRANSFORM_HDR_LEN && memcmp(p, "\xfdSMB", 4) == 0) {
		size_t inner = le32(p + 36);
		if (inner != len - SMB2_TRANSFORM_HDR_LEN) {
			fprintf(stderr, "smbpipe: bad transform header\n");
			return false;
		}
		struct iovec iov = { p + SMB2_TRANSFORM_HDR_LEN, inner };
		/* The server's "encryption" key (SMBS2CCipherKey) opens what it sealed. */
		if (!smb2_aead_decrypt(SMB2_CIPHER_AES128_GCM, c->keys.encryption, p + 20, p + 20, 32,
				       &iov, 1, p + 4)) {
			fprintf(stderr, "smbpipe: a sealed reply does not open\n");
			return false;
		}
		p += SMB2_TRANSFORM_HDR_LEN;
		len = inner;
	}
	if (len < SMB2_HDR_LEN || memcmp(p, "\xfeSMB", 4) != 0) {
		fprintf(stderr, "smbpipe: not an SMB2 reply (%zu bytes)\n", len);
		return false;
	}
	*m = (struct pipe_msg){
		.hdr = p,
		.len = len,
		.status = le32(p + SMB2_HDR_STATUS),
		.credits = le16(p + SMB2_HDR_CREDIT),
		.flags = le32(p + SMB2_HDR_FLAGS),
		.mid = le64(p + SMB2_HDR_MESSAGE_ID),
	};
	if (m->credits) {
		pthread_mutex_lock(&c->lock);
		c->credits += m->credits;
		pthread_cond_broadcast(&c->changed);
		pthread_mutex_unlock(&c->lock);
	}
	return true;
}

static bool is_interim(const struct pipe_msg *m)
{
	return m->status == STATUS_PENDING && (m->flags & SMB2_FLAGS_ASYNC_COMMAND);
}

/*
 * One request and its final reply, for the set-up (nothing else in flight).
 * With 'preauth', the request as sent goes into that hash (MS-SMB2 3.2.5.2).
 */
static bool call(struct pipe_conn *c, uint8_t *req, size_t req_len, bool sign,
		 uint8_t *preauth, struct pipe_msg *m)
{
	uint64_t mid;
	if (!pipe_conn_take(c, 1, &mid))
		return false;
	fill_hdr(c, req, 1, mid);
	struct iovec iov = { req, req_len };
	if (preauth && !smb2_preauth_update(preauth, &iov, 1))
		return false;
	if (!frame_send(c, req, req_len, NULL, 0, 1, mid, sign))
		return false;
	do {
		if (!pipe_conn_recv(c, m))
			return false;
	} while (is_interim(m) || m->mid != mid);
	return true;
}

/* Starts a set-up request in w: its header, then the body goes after it. */
static void request_start(struct wire_wr *w, TALLOC_CTX *mem, uint16_t cmd, uint16_t credit_request,
			  size_t body_hint)
{
	uint8_t hdr[SMB2_HDR_LEN];
	pipe_hdr(hdr, cmd, credit_request);
	wire_wr_init(w, mem, SMB2_HDR_LEN + body_hint);
	wire_put_bytes(w, hdr, sizeof(hdr));
}

static bool fail(const char *what, uint32_t status)
{
	fprintf(stderr, "smbpipe: %s failed: 0x%08x\n", what, status);
	return false;
}

static bool negotiate(struct pipe_conn *c, TALLOC_CTX *mem, uint8_t preauth[64])
{
	struct wire_wr w;
	uint8_t guid[16], salt[32];

	crypto_random(guid, sizeof(guid));
	crypto_random(salt, sizeof(salt));
	request_start(&w, mem, SMB2_NEGOTIATE, 1, 192);
	wire_put_u16(&w, 36);
	wire_put_u16(&w, 1); /* one dialect */
	wire_put_u16(&w, SMB2_NEGOTIATE_SIGNING_ENABLED);
	wire_put_u16(&w, 0);
	wire_put_u32(&w, SMB2_GLOBAL_CAP_LARGE_MTU | SMB2_GLOBAL_CAP_ENCRYPTION);
	wire_put_bytes(&w, guid, 16);
	size_t ctx_off = wire_reserve(&w, 4);
	wire_put_u16(&w, 2);
	wire_put_u16(&w, 0);
	wire_put_u16(&w, SMB2_DIALECT_311);
	wire_put_align(&w, 8);
	wire_patch_u32(&w, ctx_off, (uint32_t)w.len);
	wire_put_u16(&w, SMB2_PREAUTH_INTEGRITY_CAPABILITIES);
	wire_put_u16(&w, 6 + sizeof(salt));
	wire_put_u32(&w, 0);
	wire_put_u16(&w, 1);
	wire_put_u16(&w, sizeof(salt));
	wire_put_u16(&w, SMB2_PREAUTH_HASH_SHA512);
	wire_put_bytes(&w, salt, sizeof(salt));
	wire_put_align(&w, 8);
	wire_put_u16(&w, SMB2_ENCRYPTION_CAPABILITIES);
	wire_put_u16(&w, 4);
	wire_put_u32(&w, 0);
	wire_put_u16(&w, 1);
	wire_put_u16(&w, SMB2_CIPHER_AES128_GCM);
	if (!wire_wr_ok(&w))
		return false;

	struct pipe_msg m;
	memset(preauth, 0, 64);
	if (!call(c, w.buf, w.len, false, preauth, &m))
		return false;
	if (m.status != STATUS_SUCCESS)
		return fail("NEGOTIATE", m.status);
	struct iovec iov = { (void *)m.hdr, m.len };
	smb2_preauth_update(preauth, &iov, 1);

	struct wire_rd r;
	wire_rd_init(&r, m.hdr, m.len);
	wire_seek(&r, SMB2_HDR_LEN + 4);
	uint16_t dialect = wire_u16(&r);
	uint16_t nctx = wire_u16(&r);
	wire_skip(&r, 16 + 4 + 4);
	c->max_read = wire_u32(&r);
	c->max_write = wire_u32(&r);
	wire_skip(&r, 16 + 4);
	uint32_t off = wire_u32(&r);
	if (!wire_ok(&r) || dialect != SMB2_DIALECT_311)
		return fail("NEGOTIATE (no SMB 3.1.1)", dialect);
	bool gcm = false;
	wire_seek(&r, off);
	for (uint16_t i = 0; i < nctx && wire_ok(&r); i++) {
		wire_align(&r, 8);
		uint16_t type = wire_u16(&r), dlen = wire_u16(&r);
		wire_skip(&r, 4);
		const uint8_t *d = wire_ptr(&r, dlen);
		if (d && type == SMB2_ENCRYPTION_CAPABILITIES && dlen >= 4)
			gcm = le16(d) == 1 && le16(d + 2) == SMB2_CIPHER_AES128_GCM;
	}
	if (c->seal && !gcm)
		return fail("NEGOTIATE (no AES-128-GCM)", 0);
	return true;
}

static uint8_t *ntlm_negotiate(TALLOC_CTX *mem, size_t *len)
{
	struct wire_wr w;
	wire_wr_init(&w, mem, 32);
	wire_put_bytes(&w, "NTLMSSP", 8);
	wire_put_u32(&w, 1);
	wire_put_u32(&w, ntlm_flags);
	wire_put_zeros(&w, 16); /* no domain or workstation */
	*len = w.len;
	return wire_wr_ok(&w) ? w.buf : NULL;
}

static void put_field(struct wire_wr *w, size_t *payload_off, size_t len)
{
	wire_put_u16(w, (uint16_t)len);
	wire_put_u16(w, (uint16_t)len);
	wire_put_u32(w, (uint32_t)*payload_off);
	*payload_off += len;
}

/* The AUTHENTICATE message for an NTLMv2 logon; session_key gets the base key. */
static uint8_t *ntlm_authenticate(TALLOC_CTX *mem, const struct pipe_login *l, const uint8_t *chal,
				  size_t chal_len, uint8_t session_key[16], size_t *out_len)
{
	struct wire_rd r, ti;
	uint8_t server_chal[8], client_chal[8], nt_hash[16], key[16], proof[16];

	wire_rd_init(&r, chal, chal_len);
	wire_skip(&r, 20);
	uint32_t flags = wire_u32(&r) & ntlm_flags;
	wire_copy(&r, server_chal, 8);
	wire_skip(&r, 8);
	uint16_t ti_len = wire_u16(&r);
	wire_skip(&r, 2);
	uint32_t ti_off = wire_u32(&r);
	if (!wire_ok(&r) || memcmp(chal, "NTLMSSP", 8) != 0 || !wire_slice(&r, ti_off, ti_len, &ti))
		return NULL;

	/* NTLMv2_CLIENT_CHALLENGE (MS-NLMP 2.2.2.7), the server's target info echoed. */
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	crypto_random(client_chal, sizeof(client_chal));
	struct wire_wr blob;
	wire_wr_init(&blob, mem, 256);
	wire_put_u8(&blob, 1);
	wire_put_u8(&blob, 1);
	wire_put_zeros(&blob, 6);
	wire_put_u64(&blob, ((uint64_t)now.tv_sec + 11644473600ull) * 10000000ull);
	wire_put_bytes(&blob, client_chal, 8);
	wire_put_zeros(&blob, 4);
	wire_put_bytes(&blob, ti.buf + ti.pos, ti_len);
	wire_put_zeros(&blob, 4);

	if (!ntlm_nt_hash(l->password, nt_hash) || !ntlm_ntowfv2(nt_hash, l->user, "", key) ||
	    !ntlm_hmac_md5(key, 16, server_chal, 8, blob.buf, blob.len, NULL, 0, proof) ||
	    !ntlm_hmac_md5(key, 16, proof, 16, NULL, 0, NULL, 0, session_key))
		return NULL;

	size_t ulen = 0, wlen = 0;
	uint8_t *u16 = utf8_to_utf16le(mem, l->user, &ulen);
	uint8_t *w16 = utf8_to_utf16le(mem, "SMBPIPE", &wlen);
	struct wire_wr w;
	wire_wr_init(&w, mem, 512);
	size_t off = 64;
	wire_put_bytes(&w, "NTLMSSP", 8);
	wire_put_u32(&w, 3);
	put_field(&w, &off, 24);		/* LM: zeros, as with NTLMv2 and target info */
	put_field(&w, &off, 16 + blob.len);	/* NT */
	put_field(&w, &off, 0);			/* domain */
	put_field(&w, &off, ulen);
	put_field(&w, &off, wlen);
	put_field(&w, &off, 0);			/* no encrypted key: no key exchange */
	wire_put_u32(&w, flags);
	wire_put_zeros(&w, 24);
	wire_put_bytes(&w, proof, 16);
	wire_put_bytes(&w, blob.buf, blob.len);
	wire_put_bytes(&w, u16, ulen);
	wire_put_bytes(&w, w16, wlen);
	*out_len = w.len;
	return wire_wr_ok(&w) && u16 && w16 ? w.buf : NULL;
}

static uint8_t *session_setup_req(TALLOC_CTX *mem, const uint8_t *token, size_t len, size_t *out_len)
{
	struct wire_wr w;
	request_start(&w, mem, SMB2_SESSION_SETUP, 256, 24 + len);
	wire_put_u16(&w, 25);
	wire_put_u8(&w, 0);
	wire_put_u8(&w, SMB2_NEGOTIATE_SIGNING_ENABLED);
	wire_put_u32(&w, 0);
	wire_put_u32(&w, 0);
	wire_put_u16(&w, SMB2_HDR_LEN + 24);
	wire_put_u16(&w, (uint16_t)len);
	wire_put_u64(&w, 0);
	wire_put_bytes(&w, token, len);
	*out_len = w.len;
	return wire_wr_ok(&w) ? w.buf : NULL;
}

static bool logon(struct pipe_conn *c, TALLOC_CTX *mem, const struct pipe_login *l, uint8_t preauth[64])
{
	struct pipe_msg m;
	size_t tok_len, req_len;
	uint8_t *tok = ntlm_negotiate(mem, &tok_len);
	uint8_t *req = tok ? session_setup_req(mem, tok, tok_len, &req_len) : NULL;
	if (req == NULL)
		return false;
	if (!call(c, req, req_len, false, preauth, &m))
		return false;
	if (m.status != STATUS_MORE_PROCESSING_REQUIRED)
		return fail("SESSION_SETUP (negotiate)", m.status);
	c->session_id = le64(m.hdr + SMB2_HDR_SESSION_ID);
	struct iovec iov = { (void *)m.hdr, m.len };
	smb2_preauth_update(preauth, &iov, 1);

	struct wire_rd r, blob;
	wire_rd_init(&r, m.hdr, m.len);
	wire_seek(&r, SMB2_HDR_LEN + 4);
	uint16_t boff = wire_u16(&r), blen = wire_u16(&r);
	if (!wire_ok(&r) || !wire_slice(&r, boff, blen, &blob))
		return fail("SESSION_SETUP (challenge)", 0);

	uint8_t session_key[16];
	tok = ntlm_authenticate(mem, l, blob.buf + blob.pos, blen, session_key, &tok_len);
	req = tok ? session_setup_req(mem, tok, tok_len, &req_len) : NULL;
	if (req == NULL)
		return fail("NTLMSSP (challenge)", 0);
	if (!call(c, req, req_len, false, preauth, &m))
		return false;
	if (m.status != STATUS_SUCCESS)
		return fail("SESSION_SETUP (logon)", m.status);
	return smb2_derive_session_keys(SMB2_DIALECT_311, session_key, 16, preauth,
					SMB2_CIPHER_AES128_GCM, &c->keys);
}

static bool tree_connect(struct pipe_conn *c, TALLOC_CTX *mem, const struct pipe_login *l)
{
	char *unc = talloc_asprintf(mem, "\\\\%s\\%s", l->host, l->share);
	size_t ulen = 0;
	uint8_t *u16 = unc ? utf8_to_utf16le(mem, unc, &ulen) : NULL;
	struct wire_wr w;
	request_start(&w, mem, SMB2_TREE_CONNECT, 256, 8 + ulen);
	wire_put_u16(&w, 9);
	wire_put_u16(&w, 0);
	wire_put_u16(&w, SMB2_HDR_LEN + 8);
	wire_put_u16(&w, (uint16_t)ulen);
	wire_put_bytes(&w, u16, ulen);
	if (!u16 || !wire_wr_ok(&w))
		return false;
	/* 3.1.1 wants the TREE_CONNECT signed (MS-SMB2 3.2.4.1.1), or sealed. */
	struct pipe_msg m;
	if (!call(c, w.buf, w.len, true, NULL, &m))
		return false;
	if (m.status != STATUS_SUCCESS)
		return fail("TREE_CONNECT", m.status);
	c->tree_id = le32(m.hdr + SMB2_HDR_TID);
	return true;
}

bool pipe_conn_create(struct pipe_conn *c, const char *name)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	size_t nlen = 0;
	uint8_t *n16 = utf8_to_utf16le(mem, name, &nlen);
	struct wire_wr w;
	request_start(&w, mem, SMB2_CREATE, 256, 56 + nlen);
	wire_put_u16(&w, 57);
	wire_put_u8(&w, 0);
	wire_put_u8(&w, 0); /* no oplock: nothing to break */
	wire_put_u32(&w, 2); /* impersonation */
	wire_put_zeros(&w, 16);
	wire_put_u32(&w, FILE_READ_DATA | FILE_WRITE_DATA | 0x00120080); /* + attrs, sync, read control */
	wire_put_u32(&w, 0x80); /* FILE_ATTRIBUTE_NORMAL */
	wire_put_u32(&w, 7);	/* share read, write, delete */
	wire_put_u32(&w, 3);	/* FILE_OPEN_IF */
	wire_put_u32(&w, 0x40); /* FILE_NON_DIRECTORY_FILE */
	wire_put_u16(&w, SMB2_HDR_LEN + 56);
	wire_put_u16(&w, (uint16_t)nlen);
	wire_put_u32(&w, 0);
	wire_put_u32(&w, 0);
	wire_put_bytes(&w, n16, nlen);
	struct pipe_msg m;
	bool ok = n16 && wire_wr_ok(&w) && call(c, w.buf, w.len, false, NULL, &m);
	if (ok && m.status != STATUS_SUCCESS)
		ok = fail("CREATE", m.status);
	if (ok && m.len < SMB2_HDR_LEN + 88)
		ok = fail("CREATE (short reply)", 0);
	if (ok) {
		c->end_of_file = le64(m.hdr + SMB2_HDR_LEN + 48);
		memcpy(c->file_id, m.hdr + SMB2_HDR_LEN + 64, 16);
	}
	talloc_free(mem);
	return ok;
}

bool pipe_conn_open(struct pipe_conn *c, const struct pipe_login *l)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
	char port[16];
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->seal = l->seal;
	c->credits = 1;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->changed, NULL);
	if (!ntlm_crypto_init())
		return fail("OpenSSL's legacy provider (MD4)", 0);
	snprintf(port, sizeof(port), "%d", l->port);
	int rc = getaddrinfo(l->host, port, &hints, &ai);
	if (rc != 0) {
		fprintf(stderr, "smbpipe: %s: %s\n", l->host, gai_strerror(rc));
		return false;
	}
	c->fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (c->fd < 0 || connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		fprintf(stderr, "smbpipe: connect %s:%d: %s\n", l->host, l->port, strerror(errno));
		freeaddrinfo(ai);
		return false;
	}
	freeaddrinfo(ai);
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	TALLOC_CTX *mem = talloc_new(NULL);
	uint8_t preauth[64];
	/* Sealing starts after the logon: the keys come from it. */
	bool seal = c->seal;
	c->seal = false;
	bool ok = negotiate(c, mem, preauth) && logon(c, mem, l, preauth);
	c->seal = seal;
	ok = ok && tree_connect(c, mem, l);
	talloc_free(mem);
	return ok;
}

void pipe_conn_shutdown(struct pipe_conn *c)
{
	pthread_mutex_lock(&c->lock);
	__atomic_store_n(&c->closing, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&c->changed);
	pthread_mutex_unlock(&c->lock);
	shutdown(c->fd, SHUT_RDWR);
}

void pipe_conn_close(struct pipe_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->rbuf);
	c->rbuf = NULL;
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->changed);
}
