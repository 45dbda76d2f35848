#include "config.h"
#include "smbd/durable.h"

#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <talloc.h>
#include <unistd.h>

#include "conf/conf.h"
#include "lib/dlist.h"
#include "lib/idtable.h"
#include "lib/log.h"
#include "lib/wire.h"
#include "smbd/brlock.h"
#include "smbd/conn.h"
#include "smbd/control.h"
#include "smbd/create_guid.h"
#include "smbd/file_state.h"
#include "smbd/identity.h"
#include "smbd/iopool.h"
#include "smbd/lease.h"
#include "smbd/loop.h"
#include "smbd/open.h"
#include "smbd/ph_store.h"
#include "smbd/req.h"
#include "smbd/server.h"
#include "smbd/session.h"
#include "smbd/shared_timer.h"
#include "smbd/smb2_proto.h"
#include "smbd/share.h"
#include "smbd/tcon.h"
#include "smbd/vfs.h"
#include "smbd/vfs_path.h"

/* How long a disconnected open waits for its client: v1 as Windows
 * (16 minutes, MS-SMB2 3.3.5.9.6 <333>); v2 what the client asks, up to
 * 5 minutes, 1 minute if it leaves it to us (smbtorture expects both). */
#define DURABLE_V1_TIMEOUT_MS (16u * 60 * 1000)
#define DURABLE_V2_DEFAULT_MS (60u * 1000)
#define DURABLE_V2_MAX_MS (300u * 1000)
/* Resilient opens (FSCTL_LMR_REQUEST_RESILIENCY): what the client asks up
 * to the same 5 minutes, 2 minutes if it leaves it to us, which is what
 * Linux's cifs says Windows servers give (its resilienthandles option). */
#define RESILIENT_DEFAULT_MS (120u * 1000)
#define RESILIENT_MAX_MS DURABLE_V2_MAX_MS

/* Contexts seen in one CREATE (smbd_durable_request.seen). */
enum { SEEN_DHNQ = 1, SEEN_DHNC = 2, SEEN_DH2Q = 4, SEEN_DH2C = 8 };

struct smbd_durable {
	struct smbd_open *open;
	uint8_t version;
	uint32_t timeout_ms;
	uint8_t create_guid[16];
	uint8_t client_guid[16];       /* of the connection that opened it */
	char *user;                    /* who may take it back */
	struct smbd_identity *owner;   /* ... and whom a delete on close acts as while it is away */
	struct smbd_shared_timer timer; /* while disconnected: the time-out, or a purge */
	bool disconnected;
	bool purging;
	bool resilient;                /* kept whatever it caches; taken back by DHnC */
	bool persistent;               /* kept whatever it caches, in the store across restarts */
	struct ph_rewrite *rewriting;  /* its record being rewritten on a worker */
	bool rewrite_again;            /* ... and changed since that began */
};

/* A rewrite of a persistent open's record on a worker (smbd_durable_changed()). */
struct ph_rewrite {
	struct smbd_iojob base; /* first: the pool hands this back */
	struct smbd_server *srv;
	struct smbd_durable *d; /* NULL once its open is closed */
	uint64_t id;
	struct smbd_ph_record rec;
	int err;
};

static int durable_destructor(struct smbd_durable *d)
{
	struct smbd_server *srv = d->open->srv;
	/* Closed: its record goes (not when the server stops, as when it is
	 * killed: its clients come back to the next one). No fsync: were
	 * the unlink lost in a crash, the open would wait its time-out for
	 * nobody; the next record written makes it durable anyway. */
	if (d->persistent && !srv->stopping && srv->ph_store != NULL)
		smbd_ph_store_forget(srv->ph_store, d->open->persistent_id);
	if (d->rewriting != NULL)
		d->rewriting->d = NULL; /* it removes what it writes */
	if (d->disconnected)
		srv->n_disconnected--;
	smbd_shared_timer_disarm(srv->timers, &d->timer);
	return 0;
}

static uint8_t seen_bit(const uint8_t tag[4])
{
	if (memcmp(tag, "DHnQ", 4) == 0)
		return SEEN_DHNQ;
	if (memcmp(tag, "DHnC", 4) == 0)
		return SEEN_DHNC;
	if (memcmp(tag, "DH2Q", 4) == 0)
		return SEEN_DH2Q;
	if (memcmp(tag, "DH2C", 4) == 0)
		return SEEN_DH2C;
	return 0;
}

bool smbd_durable_parse(const uint8_t tag[4], struct wire_rd *data, uint16_t dialect, struct smbd_durable_request *r,
			NTSTATUS *status)
{
	uint8_t bit = seen_bit(tag);
	if (bit == 0)
		return false;
	*status = NT_STATUS_OK;
	/* v2 belongs to SMB 3.x: a 2.x server does not know it (MS-SMB2 2.2.13.2.11). */
	if ((bit & (SEEN_DH2Q | SEEN_DH2C)) && dialect < SMB2_DIALECT_300)
		return true;
	if (r->seen & bit) {
		*status = NT_STATUS_INVALID_PARAMETER;
		return true;
	}
	r->seen |= bit;
	switch (bit) {
	case SEEN_DHNQ:
		wire_skip(data, 16); /* reserved */
		break;
	case SEEN_DHNC:
		r->fid_p = wire_u64(data);
		r->fid_v = wire_u64(data);
		break;
	case SEEN_DH2Q:
		r->timeout_ms = wire_u32(data);
		r->flags = wire_u32(data);
		wire_skip(data, 8);
		wire_copy(data, r->create_guid, 16);
		break;
	case SEEN_DH2C:
		r->fid_p = wire_u64(data);
		r->fid_v = wire_u64(data);
		wire_copy(data, r->create_guid, 16);
		r->flags = wire_u32(data);
		break;
	}
	if (!wire_ok(data))
		*status = NT_STATUS_INVALID_PARAMETER;
	return true;
}

NTSTATUS smbd_durable_check(struct smbd_durable_request *r)
{
	uint8_t v1 = r->seen & (SEEN_DHNQ | SEEN_DHNC), v2 = r->seen & (SEEN_DH2Q | SEEN_DH2C);
	/* MS-SMB2 3.3.5.9.10, 3.3.5.9.12: v1 and v2 together, or a v2
	 * request beside a v2 reconnect, is an error (smbtorture
	 * smb2.durable-v2-open.create-blob); a v1 request beside a v1
	 * reconnect is ignored (3.3.5.9.6). */
	if ((v1 && v2) || v2 == (SEEN_DH2Q | SEEN_DH2C))
		return NT_STATUS_INVALID_PARAMETER;
	r->reconnect = (r->seen & SEEN_DHNC) ? 1 : (r->seen & SEEN_DH2C) ? 2 : 0;
	r->version = r->reconnect ? 0 : (r->seen & SEEN_DHNQ) ? 1 : (r->seen & SEEN_DH2Q) ? 2 : 0;
	return NT_STATUS_OK;
}

/* Whether o caches its handle: a batch oplock or a lease with H, not being broken. */
static bool caches_handle(const struct smbd_open *o)
{
	if (o->lease != NULL)
		return (smbd_lease_state(o->lease) & SMB2_LEASE_HANDLE) && !smbd_lease_breaking(o->lease);
	return o->oplock_level == SMB2_OPLOCK_LEVEL_BATCH && o->oplock_state == SMBD_OPLOCK_HELD;
}

/* The record of a handle that may outlive its connection, owned by o. */
static struct smbd_durable *durable_new(struct smbd_open *o, struct smbd_session *s, const uint8_t client_guid[16])
{
	struct smbd_durable *d = talloc_zero(o, struct smbd_durable);
	if (d == NULL || (d->user = talloc_strdup(d, s->user)) == NULL)
		goto fail;
	const struct smbd_identity *id = smbd_session_identity(s);
	if (id == NULL || (d->owner = smbd_identity_copy(d, id)) == NULL)
		goto fail;
	d->open = o;
	memcpy(d->client_guid, client_guid, 16);
	return d;
fail:
	talloc_free(d);
	return NULL;
}

void smbd_durable_grant(struct smbd_open *o, const struct smbd_durable_request *r, struct smbd_session *s,
			const uint8_t client_guid[16], bool persistent_ok)
{
	SMBD_CONTROL_HELD();
	/* MS-SMB2 3.3.5.9.10: persistent when asked for on a continuously
	 * available share, whatever the open caches; durable otherwise if it
	 * caches its handle. Files only (a directory's lease only lets
	 * its client keep the handle while it lists nothing new, and
	 * dir_lease.c relies on no directory open being durable), for a
	 * named user. */
	const struct share_config *cfg = o->share->cfg;
	bool named = s->user != NULL && !s->anonymous;
	bool persistent = persistent_ok && r->version == 2 && (r->flags & SMB2_DHANDLE_FLAG_PERSISTENT) &&
			  cfg != NULL && cfg->continuous_availability && o->srv->ph_store != NULL;
	if (r->version == 0 || o->is_dir || cfg == NULL || !named ||
	    !(persistent || (cfg->durable_handles && caches_handle(o))))
		return;
	struct smbd_durable *d = durable_new(o, s, client_guid);
	if (d == NULL)
		return; /* not durable: the open goes on without */
	d->version = r->version;
	d->persistent = persistent;
	if (r->version == 1)
		d->timeout_ms = DURABLE_V1_TIMEOUT_MS;
	else if (r->timeout_ms == 0)
		d->timeout_ms = DURABLE_V2_DEFAULT_MS;
	else
		d->timeout_ms = r->timeout_ms < DURABLE_V2_MAX_MS ? r->timeout_ms : DURABLE_V2_MAX_MS;
	memcpy(d->create_guid, r->create_guid, 16);
	talloc_set_destructor(d, durable_destructor);
	o->durable = d;
}

NTSTATUS smbd_durable_make_resilient(struct smbd_open *o, struct smbd_session *s, const uint8_t client_guid[16],
				     uint32_t timeout_ms)
{
	/* MS-SMB2 3.3.5.15.9: the ceiling is checked in whole seconds. */
	if (timeout_ms / 1000 > RESILIENT_MAX_MS / 1000)
		return NT_STATUS_INVALID_PARAMETER;
	if (o->share->cfg == NULL || !o->share->cfg->durable_handles || s->user == NULL || s->anonymous)
		return NT_STATUS_NOT_SUPPORTED;
	struct smbd_durable *d = o->durable;
	if (d == NULL) {
		if ((d = durable_new(o, s, client_guid)) == NULL)
			return NT_STATUS_NO_MEMORY;
		talloc_set_destructor(d, durable_destructor);
		o->durable = d;
	}
	/* No longer durable (Open.IsDurable is FALSE): not found by a DH2C
	 * (version 1 now) or a replay. */
	smbd_create_guid_forget(o);
	d->version = 1;
	d->resilient = true;
	d->timeout_ms = timeout_ms != 0 ? timeout_ms : RESILIENT_DEFAULT_MS;
	LOG_DBG("'%s' resilient for %u ms", o->rel_path, d->timeout_ms);
	return NT_STATUS_OK;
}

bool smbd_durable_resilient(const struct smbd_open *o)
{
	return o->durable != NULL && o->durable->resilient;
}

uint32_t smbd_durable_response_size(const struct smbd_open *o, const char **tag)
{
	if (o->durable == NULL || o->durable->disconnected)
		return 0;
	*tag = o->durable->version == 1 ? "DHnQ" : "DH2Q";
	return 8;
}

void smbd_durable_encode_response(const struct smbd_open *o, struct wire_wr *w)
{
	if (o->durable->version == 1) {
		wire_put_zeros(w, 8); /* MS-SMB2 2.2.14.2.3: reserved */
		return;
	}
	wire_put_u32(w, o->durable->timeout_ms); /* 2.2.14.2.12 */
	wire_put_u32(w, o->durable->persistent ? SMB2_DHANDLE_FLAG_PERSISTENT : 0);
}

bool smbd_open_disconnected(const struct smbd_open *o)
{
	return o->durable != NULL && o->durable->disconnected;
}

/* The time-out passed, or another open needs what it caches: it goes. */
static void timer_cb(struct smbd_shared_timer *t)
{
	struct smbd_durable *d = SMBD_TIMER_OWNER(t, struct smbd_durable, timer);
	struct smbd_open *o = d->open;
	if (!d->purging)
		LOG_INFO("durable handle of '%s' (user '%s') closed: not reconnected within %u ms", o->rel_path,
			 d->user, d->timeout_ms);
	smbd_open_close(o);
}

/* d's open waits, disconnected, for its client until its time-out. */
static bool start_waiting(struct smbd_durable *d)
{
	struct smbd_open *o = d->open;
	if (!smbd_shared_timer_arm(o->srv->timers, &d->timer, d->timeout_ms, timer_cb))
		return false;
	d->disconnected = true;
	o->srv->n_disconnected++;
	return true;
}

bool smbd_durable_disconnect(struct smbd_open *o)
{
	SMBD_CONTROL_HELD();
	struct smbd_durable *d = o->durable;
	if (d == NULL || d->disconnected || o->tcon == NULL || o->srv->stopping)
		return false;
	/* MS-SMB2 3.3.7.1: kept only while it still caches its handle; one
	 * whose oplock or lease is being broken cannot answer the break. A
	 * resilient open is kept whatever it caches. */
	if (!d->resilient && !d->persistent && !caches_handle(o))
		return false;
	/* Each keeps its file open: as many as one session may have open
	 * in all ("max open files"), so clients that come and go cannot pile
	 * them up. */
	if (o->srv->n_disconnected >= o->srv->cfg->max_open_files) {
		LOG_WARN("durable handle of '%s' (user '%s') closed: %u disconnected ones kept already (max open "
			 "files)", o->rel_path, d->user, o->srv->n_disconnected);
		return false;
	}
	if (!start_waiting(d))
		return false;
	o->tcon->session->n_opens--;
	talloc_steal(o->srv, o);
	o->tcon = NULL;
	o->session_id = 0;
	o->tree_id = 0;
	LOG_INFO("durable handle of '%s' (user '%s') kept for %u ms for its client to reconnect", o->rel_path,
		 d->user, d->timeout_ms);
	return true;
}

bool smbd_durable_purge(struct smbd_open *o)
{
	SMBD_CONTROL_HELD();
	struct smbd_durable *d = o->durable;
	/* A persistent open's client comes back even after a restart of the
	 * server: the break waits out its time-out instead, as for a client
	 * that does not answer, and the open stays. */
	if (d == NULL || !d->disconnected || d->persistent)
		return false;
	if (!d->purging) {
		d->purging = true;
		LOG_INFO("durable handle of '%s' (user '%s') closed: another open needs what it caches", o->rel_path,
			 d->user);
		smbd_shared_timer_arm(o->srv->timers, &d->timer, 0, timer_cb);
	}
	return true;
}

/* The name of a lease's open must be the lease's, as in any CREATE with
 * that key (smbtorture smb2.durable-open.reopen2-lease: INVALID_PARAMETER). */
static NTSTATUS lease_name_matches(struct smb2_call *call, const struct smbd_open *o,
				   const struct smbd_lease_request *lease, const char *name)
{
	char *rel;
	if (name == NULL || !NT_STATUS_IS_OK(vfs_path_from_smb(call->req, name, &rel)))
		return NT_STATUS_INVALID_PARAMETER;
	return smbd_lease_name_check(o->srv, call->req->conn->client_guid, lease, o->share,
				     o->share->vfs->case_sensitive, rel);
}

/* MS-SMB2 3.3.5.9.7, 3.3.5.9.12: whether o is the one r names, for this client. */
static NTSTATUS may_take(struct smb2_call *call, const struct smbd_durable_request *r, const struct smbd_open *o,
			 const struct smbd_lease_request *lease, const char *name)
{
	const struct smbd_durable *d = o != NULL ? o->durable : NULL;
	if (d == NULL || o->persistent_id != r->fid_p || !d->disconnected || d->purging)
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	/* A v1 open has an all-zero CreateGuid: a DH2C may take it back with
	 * one (smbtorture smb2.durable-open.reopen2-lease). */
	if (r->reconnect == 2 && memcmp(d->create_guid, r->create_guid, 16) != 0)
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	/* MS-SMB2 3.3.5.9.12: a persistent open is taken back only as one. */
	if (d->persistent && !(r->reconnect == 2 && (r->flags & SMB2_DHANDLE_FLAG_PERSISTENT)))
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	/* A lease comes back with its open, to the client that holds it:
	 * the request names the same key from the same ClientGuid. */
	if ((o->lease != NULL) != (lease != NULL))
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	if (lease != NULL &&
	    smbd_lease_find(o->srv, call->req->conn->client_guid, lease->key) != o->lease)
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	if (o->share != call->tcon->share)
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	if (lease != NULL) {
		NTSTATUS status = lease_name_matches(call, o, lease, name);
		if (!NT_STATUS_IS_OK(status))
			return status;
	}
	const struct smbd_session *s = call->session;
	if (s->user == NULL || strcasecmp(s->user, d->user) != 0)
		return NT_STATUS_ACCESS_DENIED;
	return NT_STATUS_OK;
}

NTSTATUS smbd_durable_reconnect(struct smb2_call *call, const struct smbd_durable_request *r,
				const struct smbd_lease_request *lease, const char *name, struct smbd_open **out)
{
	SMBD_CONTROL_HELD();
	struct smbd_open *o = idtable_find(call->req->conn->srv->opens, r->fid_p);
	NTSTATUS status = may_take(call, r, o, lease, name);
	if (!NT_STATUS_IS_OK(status))
		return status;
	status = smbd_open_check_limit(call->tcon);
	if (!NT_STATUS_IS_OK(status))
		return status;
	struct smbd_durable *d = o->durable;
	smbd_shared_timer_disarm(o->srv->timers, &d->timer);
	d->disconnected = false;
	o->srv->n_disconnected--;
	talloc_steal(call->tcon, o);
	o->tcon = call->tcon;
	o->session_id = call->session->id;
	o->tree_id = call->tcon->id;
	call->tcon->session->n_opens++;
	LOG_INFO("durable handle of '%s' (user '%s') reconnected", o->rel_path, d->user);
	*out = o;
	return NT_STATUS_OK;
}

const struct smbd_identity *smbd_durable_owner(const struct smbd_open *o)
{
	return o->durable != NULL ? o->durable->owner : NULL;
}

/* ---- persistent handles (smbd/ph_store.h) ---- */

bool smbd_durable_persistent(const struct smbd_open *o)
{
	return o->durable != NULL && o->durable->persistent;
}

bool smbd_durable_record(const struct smbd_open *o, TALLOC_CTX *mem, struct smbd_ph_record *r)
{
	const struct smbd_durable *d = o->durable;
	*r = (struct smbd_ph_record){
		.persistent_id = o->persistent_id,
		.share = talloc_strdup(mem, o->share->name),
		.rel_path = talloc_strdup(mem, o->rel_path),
		.smb_name = talloc_strdup(mem, o->smb_name != NULL ? o->smb_name : ""),
		.access = o->access,
		.share_access = o->share_access,
		.create_options = o->create_options,
		.dev = o->dev,
		.ino = o->ino,
		.user = talloc_strdup(mem, d->user),
		.uid = d->owner->uid,
		.gid = d->owner->gid,
		.timeout_ms = d->timeout_ms,
		.oplock_level = o->oplock_level,
	};
	memcpy(r->create_guid, d->create_guid, 16);
	memcpy(r->client_guid, d->client_guid, 16);
	if (o->lease != NULL) {
		struct smbd_lease_request lr;
		smbd_lease_describe(o->lease, &lr);
		r->has_lease = true;
		memcpy(r->lease_key, lr.key, 16);
		memcpy(r->lease_parent_key, lr.parent_key, 16);
		r->lease_state = lr.state;
		r->lease_epoch = lr.epoch;
		r->lease_version = lr.v2 ? 2 : 1;
	}
	const struct smbd_brlock *held = smbd_brlock_held(o);
	r->n_locks = smbd_brlock_count(o);
	r->locks = r->n_locks ? talloc_array(mem, struct smbd_ph_lock, r->n_locks) : NULL;
	for (size_t i = 0; r->locks != NULL && i < r->n_locks; i++)
		r->locks[i] = (struct smbd_ph_lock){ held[i].offset, held[i].length, held[i].exclusive };
	return r->share != NULL && r->rel_path != NULL && r->smb_name != NULL && r->user != NULL &&
	       (r->n_locks == 0 || r->locks != NULL);
}

void smbd_durable_not_persistent(struct smbd_open *o)
{
	struct smbd_durable *d = o->durable;
	if (d == NULL)
		return;
	d->persistent = false;
	if (!o->share->cfg->durable_handles || !caches_handle(o)) {
		talloc_free(d);
		o->durable = NULL;
	}
}

/*
 * A persistent open's record rewritten after a change of its state (its
 * byte-range locks), behind the reply: one rewrite on a worker at a time,
 * and one more after it if the state changed meanwhile, so the last state
 * is the one left on disk. A rewrite that lands after its open closed
 * removes what it wrote.
 */

static void rewrite_start(struct smbd_durable *d);

static void rewrite_work(struct smbd_iojob *base)
{
	struct ph_rewrite *w = (struct ph_rewrite *)base;
	w->err = smbd_ph_store_put(w->srv->ph_store, &w->rec);
}

static void rewrite_done(struct smbd_iojob *base)
{
	struct ph_rewrite *w = (struct ph_rewrite *)base;
	struct smbd_durable *d = w->d;
	smbd_control_enter();
	if (d == NULL) {
		if (!w->srv->stopping)
			smbd_ph_store_forget(w->srv->ph_store, w->id);
	} else {
		d->rewriting = NULL;
		if (w->err != 0)
			LOG_WARN("persistent handle of '%s': cannot rewrite its record: %s", d->open->rel_path,
				 strerror(w->err));
		if (d->rewrite_again && !w->srv->stopping) {
			d->rewrite_again = false;
			rewrite_start(d);
		}
	}
	talloc_free(w);
	smbd_control_leave();
}

static void rewrite_start(struct smbd_durable *d)
{
	struct smbd_server *srv = d->open->srv;
	struct ph_rewrite *w = talloc_zero(srv, struct ph_rewrite);
	if (w == NULL || !smbd_durable_record(d->open, w, &w->rec)) {
		talloc_free(w);
		LOG_WARN("persistent handle of '%s': no memory to rewrite its record", d->open->rel_path);
		return;
	}
	w->base.work = rewrite_work;
	w->base.done = rewrite_done;
	w->srv = srv;
	w->d = d;
	w->id = d->open->persistent_id;
	d->rewriting = w;
	if (smbd_iopool_threads(srv->loop->iopool) == 0) { /* "io threads = 0": everything inline */
		rewrite_work(&w->base);
		rewrite_done(&w->base);
		return;
	}
	smbd_iopool_submit(srv->loop->iopool, &w->base);
}

void smbd_durable_changed(struct smbd_open *o)
{
	struct smbd_durable *d = o->durable;
	if (d == NULL || !d->persistent || o->srv->stopping)
		return;
	if (d->rewriting != NULL)
		d->rewrite_again = true;
	else
		rewrite_start(d);
}

/* The record's lease, as the CREATE that made it asked. */
static NTSTATUS restore_lease(struct smbd_open *o, const struct smbd_ph_record *r)
{
	struct smbd_lease_request lr = {
		.v2 = r->lease_version == 2,
		.state = r->lease_state,
		.epoch = r->lease_epoch,
	};
	memcpy(lr.key, r->lease_key, 16);
	memcpy(lr.parent_key, r->lease_parent_key, 16);
	if (lr.v2 && memcmp(r->lease_parent_key, (uint8_t[16]){ 0 }, 16) != 0)
		lr.flags = SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET;
	/* The lease is named as the client named the file. */
	char *rel;
	NTSTATUS status = vfs_path_from_smb(o, r->smb_name, &rel);
	if (!NT_STATUS_IS_OK(status))
		return status;
	status = smbd_lease_restore(o, r->client_guid, &lr, o->share, rel);
	talloc_free(rel);
	return status;
}

/* An open that may write needs its file open for writing. */
#define WRITING_ACCESS (FILE_WRITE_DATA | FILE_APPEND_DATA)

bool smbd_durable_restore(struct smbd_server *srv, const struct smbd_ph_record *r)
{
	struct smbd_share *sh = smbd_server_find_share(srv, r->share);
	if (sh == NULL || sh->cfg == NULL || !sh->cfg->continuous_availability) {
		LOG_WARN("persistent handle of '%s' on [%s] dropped: no such continuously available share", r->rel_path,
			 r->share);
		return false;
	}
	int fd;
	NTSTATUS status = vfs_open(sh->vfs, r->rel_path, (r->access & WRITING_ACCESS) ? O_RDWR : O_RDONLY, 0, &fd);
	struct stat st;
	if (NT_STATUS_IS_OK(status) && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
					(uint64_t)st.st_dev != r->dev || (uint64_t)st.st_ino != r->ino)) {
		close(fd);
		status = NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}
	if (!NT_STATUS_IS_OK(status)) {
		LOG_WARN("persistent handle of '%s' on [%s] dropped: the file is not the one opened (%s)", r->rel_path,
			 r->share, nt_errstr(status));
		return false;
	}
	struct smbd_open *o = smbd_open_restore(srv, sh, fd, r->persistent_id);
	if (o == NULL)
		return false;
	o->rel_path = talloc_strdup(o, r->rel_path);
	o->smb_name = talloc_strdup(o, r->smb_name);
	o->access = r->access;
	o->share_access = r->share_access;
	o->create_options = r->create_options;
	o->file_id = vfs_file_id(&st);
	o->dev = st.st_dev;
	o->ino = st.st_ino;
	o->oplock_level = r->oplock_level;
	struct smbd_durable *d = talloc_zero(o, struct smbd_durable);
	if (o->rel_path == NULL || o->smb_name == NULL || !smbd_file_add_open(srv, o) || d == NULL ||
	    (d->user = talloc_strdup(d, r->user)) == NULL ||
	    (d->owner = smbd_identity_new(d, r->user, r->uid, r->gid)) == NULL)
		goto fail;
	if (r->has_lease && !NT_STATUS_IS_OK(restore_lease(o, r)))
		goto fail;
	for (size_t i = 0; i < r->n_locks; i++)
		if (!NT_STATUS_IS_OK(smbd_brlock_lock(o, r->locks[i].offset, r->locks[i].length, r->locks[i].exclusive)))
			LOG_WARN("persistent handle of '%s': its lock at %llu+%llu conflicts, not restored", r->rel_path,
				 (unsigned long long)r->locks[i].offset, (unsigned long long)r->locks[i].length);
	d->open = o;
	d->version = 2;
	d->persistent = true;
	d->timeout_ms = r->timeout_ms;
	memcpy(d->create_guid, r->create_guid, 16);
	memcpy(d->client_guid, r->client_guid, 16);
	talloc_set_destructor(d, durable_destructor);
	o->durable = d;
	if (!smbd_create_guid_note(o, r->client_guid, r->create_guid) || !start_waiting(d))
		goto fail;
	LOG_INFO("persistent handle of '%s' (user '%s') back from the store: kept for %u ms for its client to "
		 "reconnect", o->rel_path, d->user, d->timeout_ms);
	return true;
fail:
	LOG_WARN("persistent handle of '%s' on [%s] dropped: out of memory", r->rel_path, r->share);
	smbd_open_close(o);
	return false;
}
