#include "config.h"
#include "smbd/lease.h"

#include <string.h>
#include <strings.h>
#include <talloc.h>

#include "lib/dlist.h"
#include "lib/idtable.h"
#include "lib/log.h"
#include "lib/wire.h"
#include "smbd/conn.h"
#include "smbd/control.h"
#include "smbd/dir_lease_watch.h"
#include "smbd/durable.h"
#include "smbd/file_state.h"
#include "smbd/file_state_priv.h"
#include "smbd/loop.h"
#include "smbd/open.h"
#include "smbd/server.h"
#include "smbd/session.h"
#include "smbd/shared_timer.h"
#include "smbd/smb2_proto.h"

/* As for oplocks: MS-SMB2 3.3.2.5, Windows waits 35 seconds for an ack. */
#define LEASE_BREAK_TIMEOUT_S 35
#define LEASE_BUCKETS 256
#define SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED 0x01u

struct smbd_lease {
	struct smbd_lease *prev, *next; /* bucket */
	struct smbd_server *srv;
	uint8_t client_guid[16];
	uint8_t key[16];
	bool v2;
	uint8_t parent_key[16];
	bool has_parent;
	uint16_t epoch;          /* v2: moves with every change of state */
	uint32_t state;
	/* A break: notified_to is what the last notification offered, break_to
	 * where the lease must end up (lower, if more opens came meanwhile). */
	bool breaking;
	uint32_t notified_to, break_to;
	struct smbd_shared_timer break_timer;
	/* While a break awaits its ack: the connection it went on, and a
	 * watch that sends it again on another if that one dies or stalls. */
	uint64_t break_conn_id;
	struct smbd_shared_timer break_watch; /* every second */
	unsigned break_stalled_s; /* seconds the watch found that connection stalled */
	dev_t dev;
	ino_t ino;
	const void *share;       /* the name is share-relative */
	char *name;
	unsigned n_opens;
	bool dir;                /* counted in srv->dir_leases */
	bool dir_watched;        /* holds a watch for changes around the server (dir_lease_watch.h) */
	bool dir_unwatched;      /* ... which it could not have: it caches nothing */
};

struct smbd_lease_table {
	struct smbd_lease *buckets[LEASE_BUCKETS];
};

static unsigned bucket_of(const uint8_t guid[16], const uint8_t key[16])
{
	unsigned h = 0;
	for (int i = 0; i < 16; i++)
		h = h * 31 + guid[i] + key[i] * 7u;
	return h % LEASE_BUCKETS;
}

struct smbd_lease *smbd_lease_find(struct smbd_server *srv, const uint8_t client_guid[16], const uint8_t key[16])
{
	if (srv->leases == NULL)
		return NULL;
	for (struct smbd_lease *l = srv->leases->buckets[bucket_of(client_guid, key)]; l != NULL; l = l->next)
		if (memcmp(l->key, key, 16) == 0 && memcmp(l->client_guid, client_guid, 16) == 0)
			return l;
	return NULL;
}

static int lease_destructor(struct smbd_lease *l)
{
	unsigned b = bucket_of(l->client_guid, l->key);
	DLIST_REMOVE(l->srv->leases->buckets[b], l, prev, next);
	if (l->dir)
		l->srv->dir_leases--;
	if (l->dir_watched)
		smbd_dir_watch_remove(l->srv, l->dev, l->ino);
	smbd_shared_timer_disarm(l->srv->timers, &l->break_timer);
	smbd_shared_timer_disarm(l->srv->timers, &l->break_watch);
	return 0;
}

/* MS-SMB2 2.2.13.2.8 note: Windows grants only these; anything else gets none. */
static uint32_t valid_state(uint32_t s)
{
	switch (s) {
	case SMB2_LEASE_READ:
	case SMB2_LEASE_READ | SMB2_LEASE_HANDLE:
	case SMB2_LEASE_READ | SMB2_LEASE_WRITE:
	case SMB2_LEASE_READ | SMB2_LEASE_HANDLE | SMB2_LEASE_WRITE:
		return s;
	default:
		return 0;
	}
}

NTSTATUS smbd_lease_name_check(struct smbd_server *srv, const uint8_t client_guid[16],
			       const struct smbd_lease_request *lr, const void *share, bool case_sensitive,
			       const char *rel)
{
	const struct smbd_lease *l = smbd_lease_find(srv, client_guid, lr->key);
	if (l == NULL)
		return NT_STATUS_OK;
	bool same = l->share == share && (case_sensitive ? strcmp(l->name, rel) : strcasecmp(l->name, rel)) == 0;
	return same ? NT_STATUS_OK : NT_STATUS_INVALID_PARAMETER;
}

struct conn_pick {
	const uint8_t *client_guid;
	struct smbd_conn *oldest, *oldest_moving;
};

static void pick_cb(uint64_t id, void *obj, void *arg)
{
	struct smbd_conn *conn = obj;
	struct conn_pick *p = arg;
	if (!conn->negotiated || conn->terminating || conn->dialect < SMB2_DIALECT_210 ||
	    memcmp(conn->client_guid, p->client_guid, 16) != 0)
		return;
	if (p->oldest == NULL || id < p->oldest->id)
		p->oldest = conn;
	if ((p->oldest_moving == NULL || id < p->oldest_moving->id) && !smbd_conn_stalled(conn))
		p->oldest_moving = conn;
}

/*
 * MS-SMB2 2.2.23.2, 3.3.4.7: leases belong to the client (its ClientGuid),
 * not to a connection; Windows tells the client on its oldest connection,
 * even about a lease whose opens are all on another one (smbtorture
 * smb2.lease.v2_complex1); here, the oldest whose path does not look dead
 * (smbd_conn_stalled), if there is one.
 */
static struct smbd_conn *break_conn(const struct smbd_file *f, const struct smbd_lease *l)
{
	struct conn_pick pick = { l->client_guid, NULL, NULL };
	idtable_foreach(l->srv->conns, pick_cb, &pick);
	struct smbd_conn *conn = pick.oldest_moving != NULL ? pick.oldest_moving : pick.oldest;
	for (size_t i = 0; f != NULL && i < f->n_opens && conn == NULL; i++) {
		if (f->opens[i]->lease != l)
			continue;
		struct smbd_session *s = smbd_session_find(l->srv, f->opens[i]->session_id);
		conn = s ? smbd_session_notify_conn(s) : NULL;
	}
	return conn;
}

static void send_break_on(struct smbd_conn *conn, struct smbd_lease *l, uint32_t flags)
{
	l->break_conn_id = conn->id;
	l->break_stalled_s = 0;
	uint8_t pdu[SMB2_HDR_LEN + 44] = { 0 };
	put_le32(pdu, 0x424D53FE);
	put_le16(pdu + SMB2_HDR_STRUCTURE_SIZE, SMB2_HDR_LEN);
	put_le16(pdu + SMB2_HDR_COMMAND, SMB2_OPLOCK_BREAK);
	put_le32(pdu + SMB2_HDR_FLAGS, SMB2_FLAGS_SERVER_TO_REDIR);
	put_le64(pdu + SMB2_HDR_MESSAGE_ID, UINT64_MAX);
	uint8_t *b = pdu + SMB2_HDR_LEN;
	put_le16(b, 44);
	put_le16(b + 2, l->v2 ? l->epoch : 0);
	put_le32(b + 4, flags);
	memcpy(b + 8, l->key, 16);
	put_le32(b + 24, l->state);
	put_le32(b + 28, l->notified_to);
	/* BreakReason, AccessMaskHint, ShareMaskHint: 0 */
	struct iovec iov = { pdu, sizeof(pdu) };
	LOG_DBG("lease break 0x%x -> 0x%x on connection %llu", l->state, l->notified_to, (unsigned long long)conn->id);
	smbd_conn_send(conn, &iov, 1);
}

static void send_break(struct smbd_file *f, struct smbd_lease *l, uint32_t flags)
{
	struct smbd_conn *conn = break_conn(f, l);
	if (conn != NULL)
		send_break_on(conn, l, flags);
}

/*
 * Each second of a break: if the connection it went on has closed, or
 * stalled (smbd_conn_stalled) at two ticks in a row (a healthy path
 * recovers from a lost segment well within a second), while another of
 * the client's moves, the break goes again there, and the stalled one is
 * closed, as Windows does
 * with a channel whose path died (smbtorture
 * smb2.multichannel.leases.test2: the client hears the break twice, its
 * ack on the dead channel fails, the one on the live channel ends the
 * break; the client replays what else it had in flight there).
 */
static void break_watch_cb(struct smbd_shared_timer *t);

static void break_watch(struct smbd_lease *l)
{
	if (!l->breaking)
		return;
	smbd_shared_timer_arm(l->srv->timers, &l->break_watch, 1000, break_watch_cb);
	struct smbd_conn *sent = idtable_find(l->srv->conns, l->break_conn_id);
	bool gone = sent == NULL || sent->terminating;
	if (!gone && !smbd_conn_stalled(sent)) {
		l->break_stalled_s = 0;
		return;
	}
	if (!gone && ++l->break_stalled_s < 2)
		return;
	struct smbd_conn *conn = break_conn(smbd_file_find(l->srv, l->dev, l->ino), l);
	if (conn == NULL || conn->id == l->break_conn_id || smbd_conn_stalled(conn))
		return;
	LOG_INFO("%s: lease break sent again: the connection it went on %s", conn->peer, gone ? "closed" : "stalls");
	if (!gone)
		smbd_conn_terminate(sent, "stalled while a lease break waited for its ack");
	send_break_on(conn, l, SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED);
}

static void break_watch_cb(struct smbd_shared_timer *t)
{
	break_watch(SMBD_TIMER_OWNER(t, struct smbd_lease, break_watch));
}

static void break_timeout_cb(struct smbd_shared_timer *t)
{
	struct smbd_lease *l = SMBD_TIMER_OWNER(t, struct smbd_lease, break_timer);
	LOG_INFO("lease break not acknowledged in time");
	/* The holder loses all caching (as Windows: smbtorture
	 * smb2.lease.timeout); a late ack then finds no break. */
	l->state = 0;
	l->breaking = false;
	struct smbd_file *f = smbd_file_find(l->srv, l->dev, l->ino);
	if (f != NULL)
		smbd_file_wake_waiters(f);
}

/* Offers the holder 'offer' (l->break_to, or a step above it); one that
 * held W or H must acknowledge. A further step of the same break keeps
 * the epoch (smbtorture smb2.lease.v2_breaking3). */
static void notify(struct smbd_file *f, struct smbd_lease *l, uint32_t offer, bool next_step)
{
	if (l->v2 && !next_step)
		l->epoch++;
	l->notified_to = offer;
	if (!(l->state & (SMB2_LEASE_WRITE | SMB2_LEASE_HANDLE))) {
		/* R to none: no acknowledgment (MS-SMB2 3.3.4.7). */
		send_break(f, l, 0);
		l->state = offer;
		l->breaking = false;
		return;
	}
	l->breaking = true;
	smbd_shared_timer_arm(l->srv->timers, &l->break_timer, LEASE_BREAK_TIMEOUT_S * 1000, break_timeout_cb);
	smbd_shared_timer_arm(l->srv->timers, &l->break_watch, 1000, break_watch_cb);
	send_break(f, l, SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED);
}

/* A lease whose opens are all disconnected durable ones cannot hear a
 * break: they are closed instead (smbd/durable.h). True if so. */
static bool purge_if_away(struct smbd_file *f, struct smbd_lease *l)
{
	bool any = false;
	for (size_t i = 0; f != NULL && i < f->n_opens; i++) {
		if (f->opens[i]->lease != l)
			continue;
		/* A persistent open is not closed for a break (durable.c). */
		if (!smbd_open_disconnected(f->opens[i]) || smbd_durable_persistent(f->opens[i]))
			return false;
		any = true;
	}
	for (size_t i = 0; any && i < f->n_opens; i++)
		if (f->opens[i]->lease == l)
			smbd_durable_purge(f->opens[i]);
	return any;
}

/*
 * Takes l down to (at most) 'to'; true while an acknowledgment is awaited.
 * During a break, what else needs less lowers the target; the ack then
 * leads to the next step (smbd_lease_ack), and a waiting CREATE runs
 * again once the lease is where they all need it (smbtorture
 * smb2.lease.breaking3: RWH, then RH, R and none, the opens waiting
 * until the end).
 */
static bool break_to(struct smbd_file *f, struct smbd_lease *l, uint32_t to)
{
	if (l->breaking) {
		l->break_to &= to;
		return true;
	}
	to &= l->state;
	if (to == l->state)
		return false;
	if (purge_if_away(f, l))
		return true; /* what waits on the file runs again once they are gone */
	l->break_to = to;
	notify(f, l, to, false);
	return l->breaking;
}

bool smbd_lease_break_for_open(struct smbd_file *f, struct smbd_lease *l, bool overwrite, bool deleting,
			       bool first_attempt)
{
	uint32_t held = l->state; /* during a break, what the holder has until it answers */
	uint32_t to = overwrite ? 0 : held & ~SMB2_LEASE_WRITE;
	if (deleting)
		to &= ~SMB2_LEASE_HANDLE;
	bool was_breaking = l->breaking;
	if ((held & ~to) == 0)
		return was_breaking && !first_attempt;
	bool pending = break_to(f, l, to);
	/* An overwrite does not wait for an RH lease to go (smbtorture
	 * smb2.lease.breaking4), nor a first attempt for a break already
	 * under way; W must be given up first. Durable opens being closed
	 * instead of hearing the break (purge_if_away) are waited for. */
	return (held & SMB2_LEASE_WRITE) || (was_breaking && !first_attempt) || (pending && !l->breaking);
}

bool smbd_lease_break_handles(struct smbd_file *f, struct smbd_lease *l)
{
	return l->breaking ||
	       ((l->state & SMB2_LEASE_HANDLE) && break_to(f, l, l->state & ~SMB2_LEASE_HANDLE));
}

bool smbd_lease_break_others_handles(const struct smbd_open *o)
{
	struct smbd_file *f = o->file;
	bool waiting = false;
	for (size_t i = 0; f != NULL && i < f->n_opens; i++) {
		struct smbd_lease *l = f->opens[i]->lease;
		if (l != NULL && l != o->lease && smbd_lease_break_handles(f, l))
			waiting = true;
	}
	return waiting;
}

void smbd_lease_renamed(struct smbd_open *o, const char *new_name)
{
	struct smbd_lease *l = o->lease;
	char *name = l != NULL ? talloc_strdup(l, new_name) : NULL;
	if (name != NULL) {
		talloc_free(l->name);
		l->name = name;
	}
	smbd_lease_break_others_handles(o);
}

void smbd_lease_break_listing(struct smbd_server *srv, dev_t dev, ino_t ino, const uint8_t *parent_key)
{
	/* A directory's opens are never durable, so no break closes one
	 * (purge_if_away) while this walks them. */
	struct smbd_file *f = smbd_file_find(srv, dev, ino);
	for (size_t i = 0; f != NULL && i < f->n_opens; i++) {
		struct smbd_lease *l = f->opens[i]->lease;
		if (l == NULL || !l->dir)
			continue;
		/* The key alone, whichever client holds the lease, as Windows
		 * (smbtorture smb2.dirlease.setdos from a second client). */
		if (parent_key != NULL && memcmp(l->key, parent_key, 16) == 0)
			continue;
		break_to(f, l, 0);
	}
}

const uint8_t *smbd_lease_parent_key(const struct smbd_lease *l)
{
	return l != NULL && l->has_parent ? l->parent_key : NULL;
}

void smbd_lease_break_for_write(struct smbd_file *f, const struct smbd_open *writer)
{
	for (size_t i = 0; f != NULL && i < f->n_opens; i++) {
		struct smbd_lease *l = f->opens[i]->lease;
		if (l != NULL && l != writer->lease && (l->state & SMB2_LEASE_READ))
			break_to(f, l, 0);
	}
}

/* Whether f has an open, other than o, that is not of lease l; stat opens
 * do not count (smbtorture smb2.lease.statopen2). */
static bool others_open(const struct smbd_file *f, const struct smbd_open *o, const struct smbd_lease *l)
{
	for (size_t i = 0; i < f->n_opens; i++) {
		const struct smbd_open *each = f->opens[i];
		if (each == o || (l != NULL && each->lease == l))
			continue;
		/* A stat open without a lease does not count (smb2.lease.statopen2);
		 * one with a lease does, by its lease (smb2.lease.statopen). */
		if (each->lease != NULL || !smbd_access_is_stat(each->access, true))
			return true;
	}
	return false;
}

/* Whether another open of f holds an oplock: a lease beside it gets R at most
 * (smbtorture smb2.lease.oplock). */
static bool oplock_held(const struct smbd_file *f, const struct smbd_open *o)
{
	for (size_t i = 0; i < f->n_opens; i++) {
		uint8_t level = f->opens[i]->oplock_level;
		if (f->opens[i] != o && level != SMB2_OPLOCK_LEVEL_NONE && level != SMB2_OPLOCK_LEVEL_LEASE)
			return true;
	}
	return false;
}

static struct smbd_lease *lease_new(struct smbd_server *srv, const uint8_t client_guid[16],
				    const struct smbd_lease_request *lr, const struct smbd_open *o,
				    const void *share, const char *rel)
{
	if (srv->leases == NULL && (srv->leases = talloc_zero(srv, struct smbd_lease_table)) == NULL)
		return NULL;
	struct smbd_lease *l = talloc_zero(srv->leases, struct smbd_lease);
	if (l == NULL || (l->name = talloc_strdup(l, rel)) == NULL) {
		talloc_free(l);
		return NULL;
	}
	l->srv = srv;
	memcpy(l->client_guid, client_guid, 16);
	memcpy(l->key, lr->key, 16);
	l->v2 = lr->v2;
	l->epoch = lr->epoch;
	l->has_parent = lr->v2 && (lr->flags & SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET);
	if (l->has_parent)
		memcpy(l->parent_key, lr->parent_key, 16);
	l->dev = o->dev;
	l->ino = o->ino;
	l->share = share;
	l->dir = o->is_dir;
	srv->dir_leases += l->dir;
	/* A listing cached is one kept coherent with changes made around the
	 * server too, or none is. */
	if (l->dir && !smbd_dir_watch_add(srv, o->fd, o->dev, o->ino, &l->dir_watched))
		l->dir_unwatched = true;
	unsigned b = bucket_of(client_guid, lr->key);
	DLIST_PUSH_FRONT(srv->leases->buckets[b], l, prev, next);
	talloc_set_destructor(l, lease_destructor);
	return l;
}

NTSTATUS smbd_lease_grant(struct smbd_open *o, const uint8_t client_guid[16], const struct smbd_lease_request *lr,
			  const void *share, const char *rel)
{
	SMBD_CONTROL_HELD();
	struct smbd_lease *l = smbd_lease_find(o->srv, client_guid, lr->key);
	if (l != NULL && (l->dev != o->dev || l->ino != o->ino))
		return NT_STATUS_INVALID_PARAMETER; /* the name now leads to another file */
	/* A directory is never write-cached (MS-SMB2 3.3.5.9.11): a
	 * request for RWH gets RH, as from Windows (smbtorture
	 * smb2.lease.v2_request). */
	uint32_t want = valid_state(o->is_dir ? lr->state & ~SMB2_LEASE_WRITE : lr->state);
	/* W only for a lease whose opens are all the file has. */
	bool others = others_open(o->file, o, l);
	if (oplock_held(o->file, o))
		want &= SMB2_LEASE_READ;
	if (l == NULL) {
		if (others)
			want &= ~SMB2_LEASE_WRITE;
		l = lease_new(o->srv, client_guid, lr, o, share, rel);
		if (l == NULL)
			return NT_STATUS_NO_MEMORY;
		l->state = l->dir_unwatched ? 0 : want;
		/* The grant is a change of state: the epoch moves past the client's. */
		if (l->v2 && l->state != 0)
			l->epoch++;
	} else if (!l->breaking && !l->dir_unwatched && want != l->state && (want & l->state) == l->state &&
		   !(others && (want & SMB2_LEASE_WRITE))) {
		/* MS-FSA 2.1.5.17.2: an upgrade to a strict superset the other
		 * opens allow, whole; anything else leaves the lease as it is
		 * (smbtorture smb2.lease.upgrade2, upgrade3, break). */
		l->state = want;
		if (l->v2)
			l->epoch++;
	}
	o->lease = l;
	l->n_opens++;
	o->oplock_level = SMB2_OPLOCK_LEVEL_LEASE;
	return NT_STATUS_OK;
}

NTSTATUS smbd_lease_restore(struct smbd_open *o, const uint8_t client_guid[16], const struct smbd_lease_request *lr,
			    const void *share, const char *rel)
{
	struct smbd_lease *l = smbd_lease_find(o->srv, client_guid, lr->key);
	if (l != NULL && (l->dev != o->dev || l->ino != o->ino))
		return NT_STATUS_INVALID_PARAMETER;
	if (l == NULL) {
		l = lease_new(o->srv, client_guid, lr, o, share, rel);
		if (l == NULL)
			return NT_STATUS_NO_MEMORY;
		l->state = l->dir_unwatched ? 0 : valid_state(lr->state);
	}
	o->lease = l;
	l->n_opens++;
	o->oplock_level = SMB2_OPLOCK_LEVEL_LEASE;
	return NT_STATUS_OK;
}

void smbd_lease_describe(const struct smbd_lease *l, struct smbd_lease_request *out)
{
	*out = (struct smbd_lease_request){
		.v2 = l->v2,
		.state = l->state,
		.flags = l->has_parent ? SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET : 0,
		.epoch = l->epoch,
	};
	memcpy(out->key, l->key, 16);
	memcpy(out->parent_key, l->parent_key, 16);
}

void smbd_lease_leave(struct smbd_open *o)
{
	SMBD_CONTROL_HELD();
	struct smbd_lease *l = o->lease;
	if (l == NULL)
		return;
	o->lease = NULL;
	if (--l->n_opens > 0)
		return;
	bool was_breaking = l->breaking;
	talloc_free(l);
	struct smbd_file *f = o->file;
	if (was_breaking && f != NULL)
		smbd_file_wake_waiters(f);
}

size_t smbd_lease_response_size(const struct smbd_open *o)
{
	return o->lease->v2 ? 52 : 32;
}

/* In the lease's own version, whatever the request's (smb2.lease.v2_epoch2). */
void smbd_lease_encode_response(const struct smbd_open *o, struct wire_wr *w)
{
	const struct smbd_lease *l = o->lease;
	uint32_t flags = l->breaking ? SMB2_LEASE_FLAG_BREAK_IN_PROGRESS : 0;
	if (l->v2 && l->has_parent)
		flags |= SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET;
	wire_put_bytes(w, l->key, 16);
	wire_put_u32(w, l->state);
	wire_put_u32(w, flags);
	wire_put_u64(w, 0); /* LeaseDuration */
	if (!l->v2)
		return;
	if (l->has_parent)
		wire_put_bytes(w, l->parent_key, 16);
	else
		wire_put_zeros(w, 16);
	wire_put_u16(w, l->epoch);
	wire_put_u16(w, 0);
}

NTSTATUS smbd_lease_ack(struct smbd_server *srv, const uint8_t client_guid[16], const uint8_t key[16],
			uint32_t state)
{
	SMBD_CONTROL_HELD();
	struct smbd_lease *l = smbd_lease_find(srv, client_guid, key);
	if (l == NULL)
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	if (!l->breaking)
		return NT_STATUS_UNSUCCESSFUL;
	if ((state & ~l->notified_to) != 0)
		return NT_STATUS_REQUEST_NOT_ACCEPTED;
	struct smbd_file *f = smbd_file_find(srv, l->dev, l->ino);
	l->state = state;
	l->breaking = false;
	smbd_shared_timer_disarm(l->srv->timers, &l->break_timer);
	/* Opens that came during the break may want the lease lower still:
	 * Windows goes on in steps, keeping R while W or H go, then R
	 * (smbtorture smb2.lease.breaking3, v2_breaking3). */
	if ((l->state & ~l->break_to) != 0)
		notify(f, l,
		       l->state & (SMB2_LEASE_WRITE | SMB2_LEASE_HANDLE) ? l->break_to | (l->state & SMB2_LEASE_READ)
									 : l->break_to,
		       true);
	if (f != NULL)
		smbd_file_wake_waiters(f);
	return NT_STATUS_OK;
}

uint32_t smbd_lease_state(const struct smbd_lease *l)
{
	return l->state;
}

bool smbd_lease_breaking(const struct smbd_lease *l)
{
	return l->breaking;
}
