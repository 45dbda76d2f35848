#define _GNU_SOURCE
#include "config.h"
#include "tests/fuzz/harness.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "lib/crypto/smb2_aead.h"
#include "lib/auth/passdb.h"
#include "lib/idtable.h"
#include "lib/log.h"
#include "lib/wire.h"
#include "smbd/conn.h"
#include "smbd/control.h"
#include "smbd/durable.h"
#include "smbd/open.h"
#include "smbd/server.h"
#include "smbd/session.h"
#include "smbd/smb2_proto.h"
#include "smbd/tcon.h"
#include "smbd/transform.h"
#include "smbd/transport.h"
#include "tests/fuzz/fs_limits.h"
#include "tests/fuzz/ntlm_client.h"
#include "tests/fuzz/smb2_build.h"

#define STATUS_MORE_PROCESSING_REQUIRED 0xC0000016u
/* Growth of the server's talloc tree allowed across inputs (lazily made tables). */
#define FZ_BLOCK_SLACK 200

struct fz_transport {
	struct smbd_transport base;
	struct fz_client *client;
	bool shut;
};

static struct {
	TALLOC_CTX *mem;
	struct event_base *ev;
	struct smbd_server *srv;
	char top[512];
	bool trace;
	size_t baseline_blocks; /* talloc blocks under the server after the first input */
} env;

/* ---- the server and its directory ---- */

static int remove_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (ftw->level > 0)
		(void)remove(path);
	return 0;
}

/* Empties a directory, keeping it. */
static void empty_dir(const char *dir)
{
	(void)nftw(dir, remove_cb, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static void cleanup(void)
{
	TALLOC_FREE(env.mem);
	if (env.ev != NULL)
		event_base_free(env.ev);
	env.ev = NULL;
	env.srv = NULL;
	if (env.top[0]) {
		empty_dir(env.top);
		(void)rmdir(env.top);
	}
}

static bool write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return false;
	fputs(text, f);
	return fclose(f) == 0;
}

static bool make_server(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(env.top, sizeof(env.top), "%s/porthos-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(env.top) == NULL) {
		env.top[0] = 0;
		return false;
	}
	atexit(cleanup);
	static const char *const dirs[] = { "share", "pub", "enc", "state", "pub/dir" };
	char path[600];
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", env.top, dirs[i]);
		if (mkdir(path, 0755) != 0)
			return false;
	}
	snprintf(path, sizeof(path), "%s/pub/readme.txt", env.top);
	if (!write_file(path, "a read-only file on a guest share\n"))
		return false;
	snprintf(path, sizeof(path), "%s/state/passdb", env.top);
	if (passdb_set_password(path, FZ_USER, FZ_PASSWORD, getuid(), getgid()) != 0)
		return false;

	env.mem = talloc_new(NULL);
	char *text = talloc_asprintf(env.mem,
				     "[global]\n"
				     "netbios name = FUZZ\n"
				     "workgroup = " FZ_DOMAIN "\n"
				     "state directory = %s/state\n"
				     "allow anonymous = yes\n"
				     "max logon delay = 0\n"
				     /* Transfers inline: one input, one outcome, no
				      * job left running into the next input. */
				     "io threads = 0\n"
				     "[share]\npath = %s/share\nread only = no\n"
				     "[pub]\npath = %s/pub\nguest ok = yes\n"
				     "[enc]\npath = %s/enc\nread only = no\nsmb encrypt = required\n",
				     env.top, env.top, env.top, env.top);
	struct porthos_config *cfg = NULL;
	struct conf_errors errs = { 0 };
	if (text == NULL || conf_load_string(env.mem, "fuzz.conf", text, &cfg, &errs) != 0) {
		conf_print_errors(&errs, stderr);
		return false;
	}
	env.ev = event_base_new();
	if (env.ev == NULL)
		return false;
	env.srv = smbd_server_new(env.mem, env.ev, cfg);
	return env.srv != NULL;
}

struct smbd_server *fz_server(void)
{
	if (env.srv != NULL)
		return env.srv;
	enum plog_level level = PLOG_ERROR;
	const char *l = getenv("FUZZ_LOG_LEVEL");
	if (l != NULL)
		(void)plog_parse_level(l, &level);
	plog_setup("fuzz", level, false);
	env.trace = getenv("FUZZ_TRACE") != NULL;
	signal(SIGPIPE, SIG_IGN);
	fz_limit_files();
	if (!make_server()) {
		/* Every input would do nothing: that must not pass for a clean run. */
		fprintf(stderr, "fuzz harness: cannot set up the server in %s: %s\n", env.top, strerror(errno));
		cleanup();
		abort();
	}
	return env.srv;
}

/* ---- the in-memory transport ---- */

/* A reply must be a well-formed chain (or transform message) whatever came in. */
static void check_reply(const uint8_t *p, size_t len)
{
	if (len >= SMB2_TRANSFORM_HDR_LEN && memcmp(p, "\xfdSMB", 4) == 0) {
		if (le32(p + 36) != len - SMB2_TRANSFORM_HDR_LEN)
			goto bad;
		return;
	}
	size_t off = 0;
	for (;;) {
		if (len - off < SMB2_HDR_LEN || memcmp(p + off, "\xfeSMB", 4) != 0 ||
		    !(le32(p + off + SMB2_HDR_FLAGS) & SMB2_FLAGS_SERVER_TO_REDIR))
			goto bad;
		uint32_t next = le32(p + off + SMB2_HDR_NEXT_COMMAND);
		if (next == 0)
			return;
		if (next % 8 || next < SMB2_HDR_LEN || next > len - off)
			goto bad;
		off += next;
	}
bad:
	fprintf(stderr, "fuzz harness: the server sent a malformed reply (%zu bytes)\n", len);
	abort();
}

static void trace_reply(const uint8_t *p, size_t len);

/* An encrypted reply, opened with the server's key when the session is still listed. */
static void trace_sealed(const uint8_t *p, size_t len)
{
	smbd_shared_enter(); /* as the server's own lookups (smbd/control.h) */
	struct smbd_session *s = smbd_session_find(env.srv, le64(p + 44));
	smbd_shared_leave();
	fprintf(stderr, "  <- encrypted reply, %zu bytes\n", len);
	if (!smbd_session_can_encrypt(s))
		return;
	uint8_t *plain = talloc_memdup(NULL, p + SMB2_TRANSFORM_HDR_LEN, len - SMB2_TRANSFORM_HDR_LEN);
	struct iovec iov = { plain, len - SMB2_TRANSFORM_HDR_LEN };
	if (plain != NULL && smb2_aead_decrypt((enum smb2_cipher)s->cipher, s->keys.encryption, p + 20, p + 20, 32,
					       &iov, 1, p + 4))
		trace_reply(plain, iov.iov_len);
	talloc_free(plain);
}

/* FUZZ_TRACE=1: one line per reply element, to see what an input does. */
static void trace_reply(const uint8_t *p, size_t len)
{
	if (memcmp(p, "\xfdSMB", 4) == 0) {
		trace_sealed(p, len);
		return;
	}
	for (size_t off = 0; len - off >= SMB2_HDR_LEN;) {
		const uint8_t *h = p + off;
		fprintf(stderr, "  <- cmd %2u mid %3llu status 0x%08x%s\n", le16(h + SMB2_HDR_COMMAND),
			(unsigned long long)le64(h + SMB2_HDR_MESSAGE_ID), le32(h + SMB2_HDR_STATUS),
			le32(h + SMB2_HDR_FLAGS) & SMB2_FLAGS_ASYNC_COMMAND ? " (async)" : "");
		uint32_t next = le32(h + SMB2_HDR_NEXT_COMMAND);
		if (next == 0 || next > len - off)
			return;
		off += next;
	}
}

static int fz_copy_reply(struct smbd_transport *tb, const struct iovec *iov, int iovcnt)
{
	struct fz_transport *t = (struct fz_transport *)tb;
	struct fz_client *c = t->client;
	size_t total = 0;
	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (total > 0xFFFFFF)
		return EMSGSIZE;
	if (t->shut)
		return EPIPE;
	/* Copy every byte, so ASan checks the memory a reply points to. */
	if (talloc_get_size(c->reply) < total) {
		uint8_t *n = talloc_realloc(c, c->reply, uint8_t, total);
		if (n == NULL)
			return ENOMEM;
		c->reply = n;
	}
	size_t off = 0;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len)
			memcpy(c->reply + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	c->reply_len = total;
	check_reply(c->reply, total);
	if (env.trace)
		trace_reply(c->reply, total);
	return 0;
}

/* Every byte is copied (above), so what owns large pieces goes at once. */
static int fz_send_pdu(struct smbd_transport *tb, const struct iovec *iov, int iovcnt, void *owner)
{
	int err = fz_copy_reply(tb, iov, iovcnt);
	talloc_free(owner);
	return err;
}

static size_t fz_pending_bytes(const struct smbd_transport *t)
{
	return 0;
}

static void fz_shutdown(struct smbd_transport *tb)
{
	((struct fz_transport *)tb)->shut = true;
}

static void fz_set_receiving(struct smbd_transport *t, bool on)
{
}

static const struct smbd_transport_ops fz_ops = {
	.name = "fuzz",
	.send_pdu = fz_send_pdu,
	.pending_bytes = fz_pending_bytes,
	.shutdown = fz_shutdown,
	.set_receiving = fz_set_receiving,
};

/* The connection owns the transport: its end is the connection's end. */
static int fz_transport_destructor(struct fz_transport *t)
{
	if (t->client != NULL) {
		t->client->conn = NULL;
		t->client->t = NULL;
	}
	return 0;
}

struct fz_client *fz_client_new(TALLOC_CTX *mem)
{
	struct smbd_server *srv = fz_server();
	struct fz_client *c = talloc_zero(mem, struct fz_client);
	struct fz_transport *t = talloc_zero(NULL, struct fz_transport);
	if (c == NULL || t == NULL)
		goto fail;
	c->srv = srv;
	t->client = c;
	t->base.ops = &fz_ops;
	t->base.max_pdu = srv->cfg->max_pdu;
	snprintf(t->base.peer, sizeof(t->base.peer), "fuzz:1");
	snprintf(t->base.addr, sizeof(t->base.addr), "fuzz");
	snprintf(t->base.local, sizeof(t->base.local), "fuzz:445");
	c->conn = smbd_conn_new(srv->loop, &t->base);
	if (c->conn == NULL)
		goto fail;
	talloc_steal(c->conn, t);
	talloc_set_destructor(t, fz_transport_destructor);
	c->t = t;
	return c;
fail:
	fprintf(stderr, "fuzz harness: cannot make a connection\n");
	abort();
}

/* Runs what is ready now: completions, inotify events, expired timers. */
static void run_ready(void)
{
	for (int i = 0; i < 16; i++) {
		event_base_loop(env.ev, EVLOOP_NONBLOCK);
		if (event_base_get_num_events(env.ev, EVENT_BASE_COUNT_ACTIVE) == 0)
			break;
	}
}

bool fz_client_send(struct fz_client *c, const uint8_t *pdu, size_t len)
{
	if (c->conn == NULL || c->conn->terminating)
		return false;
	/* What the TCP transport lets through. */
	if (len < 4 || len > c->t->base.max_pdu) {
		smbd_conn_terminate(c->conn, "bad frame length");
		return false;
	}
	uint8_t *p = smbd_conn_alloc_pdu(c->conn, len);
	if (p == NULL)
		return false;
	memcpy(p, pdu, len);
	if (env.trace && memcmp(pdu, "\xfdSMB", 4) == 0)
		fprintf(stderr, "-> %zu bytes, encrypted\n", len);
	else if (env.trace)
		fprintf(stderr, "-> %zu bytes, command %u\n", len, len >= SMB2_HDR_LEN ? le16(pdu + SMB2_HDR_COMMAND) : 0);
	smbd_conn_recv(c->conn, p, len);
	run_ready();
	bool alive = c->conn != NULL && !c->conn->terminating;
	if (env.trace && !alive)
		fprintf(stderr, "  connection closed\n");
	return alive;
}

struct newest_arg {
	uint64_t conn_id;
	struct smbd_session *s;
};

static void newest_cb(uint64_t id, void *obj, void *arg)
{
	struct newest_arg *a = arg;
	struct smbd_session *s = obj;
	if (s->conn_id == a->conn_id && (a->s == NULL || s->id > a->s->id))
		a->s = s;
}

struct smbd_session *fz_client_session(struct fz_client *c)
{
	if (c->conn == NULL)
		return NULL;
	struct newest_arg a = { c->conn->id, NULL };
	idtable_foreach(c->srv->sessions, newest_cb, &a);
	return a.s;
}

/* Where each command's FileId sits in its body (MS-SMB2 2.2); 0: none. */
static size_t fid_offset(uint16_t command)
{
	switch (command) {
	case SMB2_CLOSE:
	case SMB2_FLUSH:
	case SMB2_LOCK:
	case SMB2_IOCTL:
	case SMB2_QUERY_DIRECTORY:
	case SMB2_CHANGE_NOTIFY:
	case SMB2_OPLOCK_BREAK:
		return 8;
	case SMB2_READ:
	case SMB2_WRITE:
	case SMB2_SET_INFO:
		return 16;
	case SMB2_QUERY_INFO:
		return 24;
	default:
		return 0;
	}
}

struct opens_arg {
	uint64_t conn_id;
	struct smbd_open *v[FZ_MAX_FID_ALIAS];
	size_t n;
};

/* Keeps the connection's FZ_MAX_FID_ALIAS oldest opens, oldest first. */
static void opens_cb(uint64_t id, void *obj, void *arg)
{
	struct opens_arg *a = arg;
	struct smbd_open *o = obj;
	if (o->tcon == NULL || o->tcon->session == NULL || o->tcon->session->conn_id != a->conn_id)
		return;
	size_t i = a->n < FZ_MAX_FID_ALIAS ? a->n++ : FZ_MAX_FID_ALIAS;
	for (; i > 0 && a->v[i - 1]->volatile_id > o->volatile_id; i--)
		if (i < FZ_MAX_FID_ALIAS)
			a->v[i] = a->v[i - 1];
	if (i < FZ_MAX_FID_ALIAS)
		a->v[i] = o;
}

/* An alias k (k, then zeros) for the k-th oldest open, or NULL. */
static struct smbd_open *alias_open(const struct opens_arg *opens, const uint8_t *p, size_t n)
{
	if (p[0] == 0 || p[0] > opens->n)
		return NULL;
	for (size_t i = 1; i < n; i++)
		if (p[i] != 0)
			return NULL;
	return opens->v[p[0] - 1];
}

/*
 * Server-side copy names its source inside the IOCTL input: a COPYCHUNK
 * resume key, or a DUPLICATE_EXTENTS file id. Aliases there work as in
 * the header, so copies can succeed (MS-SMB2 2.2.31.1, MS-FSCC 2.3.8).
 */
static void patch_ioctl_input(const struct opens_arg *opens, uint8_t *h, size_t elem_len)
{
	if (elem_len < SMB2_HDR_LEN + 56)
		return;
	uint32_t ctl = le32(h + SMB2_HDR_LEN + 4);
	uint32_t in_off = le32(h + SMB2_HDR_LEN + 24), in_len = le32(h + SMB2_HDR_LEN + 28);
	if (!wire_range_ok(elem_len, in_off, in_len))
		return;
	uint8_t *in = h + in_off;
	struct smbd_open *o;
	if ((ctl == FSCTL_SRV_COPYCHUNK || ctl == FSCTL_SRV_COPYCHUNK_WRITE) && in_len >= 24 &&
	    (o = alias_open(opens, in, 24)) != NULL && o->has_resume_key)
		memcpy(in, o->resume_key, 24);
	if (ctl == FSCTL_DUPLICATE_EXTENTS_TO_FILE && in_len >= 16 && le64(in) == le64(in + 8) && le64(in) >= 1 &&
	    le64(in) <= opens->n) {
		o = opens->v[le64(in) - 1];
		put_le64(in, o->persistent_id);
		put_le64(in + 8, o->volatile_id);
	}
}

void fz_patch_ids(struct fz_client *c, uint8_t *pdu, size_t len)
{
	if (c->conn == NULL)
		return;
	if (len >= 4 && memcmp(pdu, "\xffSMB", 4) == 0) {
		/* The SMB1 NEGOTIATE upgrade takes message id 0. */
		if (c->next_mid == 0)
			c->next_mid = 1;
		return;
	}
	struct smbd_session *s = fz_client_session(c);
	struct opens_arg opens = { .conn_id = c->conn->id };
	idtable_foreach(c->srv->opens, opens_cb, &opens);
	size_t off = 0;
	while (len - off >= SMB2_HDR_LEN && memcmp(pdu + off, "\xfeSMB", 4) == 0) {
		uint8_t *h = pdu + off;
		uint16_t command = le16(h + SMB2_HDR_COMMAND);
		uint32_t flags = le32(h + SMB2_HDR_FLAGS);
		if (command != SMB2_CANCEL) {
			uint16_t charge = le16(h + SMB2_HDR_CREDIT_CHARGE);
			put_le64(h + SMB2_HDR_MESSAGE_ID, c->next_mid);
			c->last_mid = c->next_mid;
			c->next_mid += c->conn->dialect > SMB2_DIALECT_202 && charge ? charge : 1;
		} else if (!(flags & SMB2_FLAGS_ASYNC_COMMAND)) {
			put_le64(h + SMB2_HDR_MESSAGE_ID, c->last_mid);
		}
		if (le64(h + SMB2_HDR_SESSION_ID) == FZ_SID_ALIAS && s != NULL)
			put_le64(h + SMB2_HDR_SESSION_ID, s->id);
		uint32_t next = le32(h + SMB2_HDR_NEXT_COMMAND);
		size_t elem_len = next ? next : len - off;
		size_t fo = SMB2_HDR_LEN + fid_offset(command);
		if (fo > SMB2_HDR_LEN && elem_len <= len - off && elem_len >= fo + 16) {
			uint64_t persistent = le64(h + fo), volatile_id = le64(h + fo + 8);
			if (persistent == volatile_id && persistent >= 1 && persistent <= opens.n) {
				put_le64(h + fo, opens.v[persistent - 1]->persistent_id);
				put_le64(h + fo + 8, opens.v[persistent - 1]->volatile_id);
			}
		}
		if (command == SMB2_IOCTL && elem_len <= len - off)
			patch_ioctl_input(&opens, h, elem_len);
		if (next == 0 || next % 8 || next < SMB2_HDR_LEN || next > len - off)
			break;
		off += next;
	}
}

bool fz_next_frame(const uint8_t **data, size_t *size, const uint8_t **pdu, size_t *len)
{
	if (*size < 4)
		return false;
	const uint8_t *p = *data;
	size_t n = (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
	if (n > *size - 4)
		n = *size - 4;
	*pdu = p + 4;
	*len = n;
	*data += 4 + n;
	*size -= 4 + n;
	return true;
}

/* ---- logging on, as a client would ---- */

/* Sends a request built by b and expects 'want' in the reply. */
static bool exchange(struct fz_client *c, struct sb *b, uint32_t want)
{
	size_t len;
	const uint8_t *pdu = sb_pdu(b, &len);
	c->reply_len = 0;
	if (pdu == NULL || !fz_client_send(c, pdu, len))
		return false;
	c->next_mid = c->last_mid = b->mid;
	return c->reply_len >= SMB2_HDR_LEN + 8 && memcmp(c->reply, "\xfeSMB", 4) == 0 &&
	       le32(c->reply + SMB2_HDR_STATUS) == want;
}

static bool tree_connect(struct fz_client *c, TALLOC_CTX *tmp, const char *share, uint32_t want_tid)
{
	struct sb b;
	char unc[64];
	snprintf(unc, sizeof(unc), "\\\\FUZZ\\%s", share);
	sb_init(&b, tmp, c->next_mid, c->sid, 0);
	sb_begin(&b, SMB2_TREE_CONNECT, 0);
	sb_tree_connect(&b, unc);
	return exchange(c, &b, 0) && le32(c->reply + SMB2_HDR_TID) == want_tid;
}

bool fz_client_setup(struct fz_client *c, uint16_t dialect, uint16_t cipher, int sign_algo)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	struct sb b;
	bool ok = false;

	sb_init(&b, tmp, c->next_mid, 0, 0);
	sb_begin(&b, SMB2_NEGOTIATE, 0);
	sb_negotiate(&b, &dialect, 1, cipher, sign_algo);
	if (!exchange(c, &b, 0))
		goto out;
	c->dialect = dialect;

	size_t neg_len, auth_len;
	uint8_t *neg = ntlmc_negotiate(tmp, false, &neg_len);
	sb_init(&b, tmp, c->next_mid, 0, 0);
	sb_begin(&b, SMB2_SESSION_SETUP, 0);
	sb_session_setup(&b, neg, neg_len);
	if (neg == NULL || !exchange(c, &b, STATUS_MORE_PROCESSING_REQUIRED))
		goto out;
	c->sid = le64(c->reply + SMB2_HDR_SESSION_ID);
	uint16_t tok_off = le16(c->reply + SMB2_HDR_LEN + 4);
	uint16_t tok_len = le16(c->reply + SMB2_HDR_LEN + 6);
	if (!wire_range_ok(c->reply_len, tok_off, tok_len))
		goto out;
	const struct ntlmc_opts o = { .user = FZ_USER, .domain = FZ_DOMAIN, .password = FZ_PASSWORD };
	uint8_t *auth = ntlmc_authenticate(tmp, c->reply + tok_off, tok_len, &o, &auth_len, NULL);
	sb_init(&b, tmp, c->next_mid, c->sid, 0);
	sb_begin(&b, SMB2_SESSION_SETUP, 0);
	sb_session_setup(&b, auth, auth_len);
	if (auth == NULL || !exchange(c, &b, 0))
		goto out;

	ok = tree_connect(c, tmp, "share", FZ_TID_SHARE) && tree_connect(c, tmp, "IPC$", FZ_TID_IPC) &&
	     tree_connect(c, tmp, "pub", FZ_TID_PUB);
	/* Only where encryption was agreed. */
	if (ok && fz_client_session(c) != NULL && smbd_session_can_encrypt(fz_client_session(c)))
		ok = tree_connect(c, tmp, "enc", FZ_TID_ENC);
out:
	talloc_free(tmp);
	return ok;
}

/* ---- the end of an input ---- */

static void check_top_dir(void)
{
	DIR *d = opendir(env.top);
	if (d == NULL)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		static const char *const known[] = { ".", "..", "share", "pub", "enc", "state" };
		bool ok = false;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			ok |= strcmp(e->d_name, known[i]) == 0;
		if (!ok) {
			fprintf(stderr, "fuzz harness: '%s' appeared beside the shares: a path escaped its share\n",
				e->d_name);
			abort();
		}
	}
	closedir(d);
}

struct kept_opens {
	uint64_t ids[64];
	size_t n;
};

static void note_kept_cb(uint64_t id, void *obj, void *arg)
{
	struct kept_opens *k = arg;
	if (smbd_open_disconnected(obj) && k->n < sizeof(k->ids) / sizeof(k->ids[0]))
		k->ids[k->n++] = id;
}

/* Durable opens a client may come back for outlive their connection by
 * design (smbd/durable.h): their wait is cut short, as its time-out
 * would end it, so that the next input starts from nothing. */
static void close_kept_opens(struct smbd_server *srv)
{
	struct kept_opens k = { .n = 0 };
	smbd_control_enter();
	idtable_foreach(srv->opens, note_kept_cb, &k);
	for (size_t i = 0; i < k.n; i++) {
		struct smbd_open *o = idtable_find(srv->opens, k.ids[i]);
		if (o != NULL)
			smbd_open_close(o);
	}
	smbd_control_leave();
}

void fz_client_free(struct fz_client *c)
{
	if (c == NULL)
		return;
	if (c->conn != NULL) {
		smbd_control_enter(); /* as the server's own teardown (smbd/control.h) */
		talloc_free(c->conn);
		smbd_control_leave();
	}
	/* Anything still scheduled for the freed objects runs (and trips ASan) now. */
	run_ready();
	struct smbd_server *srv = c->srv;
	talloc_free(c);
	close_kept_opens(srv);
	run_ready();
	size_t sessions = idtable_count(srv->sessions), opens = idtable_count(srv->opens),
	       conns = idtable_count(srv->conns);
	if (sessions || opens || conns) {
		fprintf(stderr, "fuzz harness: %zu session(s), %zu open(s), %zu connection(s) outlived their connection\n",
			sessions, opens, conns);
		abort();
	}
	char path[600];
	snprintf(path, sizeof(path), "%s/share", env.top);
	empty_dir(path);
	snprintf(path, sizeof(path), "%s/enc", env.top);
	empty_dir(path);
	check_top_dir();
	/* What the server keeps between connections (the file table, the
	 * notify context, ...) is made once: it must not grow per input. */
	size_t blocks = talloc_total_blocks(srv);
	if (env.baseline_blocks == 0)
		env.baseline_blocks = blocks;
	if (blocks > env.baseline_blocks + FZ_BLOCK_SLACK) {
		fprintf(stderr, "fuzz harness: the server grew from %zu to %zu talloc blocks across inputs\n",
			env.baseline_blocks, blocks);
		abort();
	}
}
