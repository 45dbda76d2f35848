/*
 * Local file state: opens per file and SMB2 oplocks; leases in lease.c.
 */
#include "config.h"
#include "smbd/file_state.h"
#include "smbd/file_state_priv.h"

#include <stddef.h>
#include <string.h>
#include <talloc.h>

#include "lib/dlist.h"
#include "lib/idtable.h"
#include "lib/log.h"
#include "smbd/conn.h"
#include "smbd/control.h"
#include "smbd/dispatch.h"
#include "smbd/durable.h"
#include "smbd/lease.h"
#include "smbd/loop.h"
#include "smbd/open.h"
#include "smbd/server.h"
#include "smbd/session.h"
#include "smbd/shared_timer.h"
#include "smbd/smb2_handlers.h"
#include "smbd/smb2_proto.h"

/* How long a holder has to acknowledge a break before the server acts as if
 * it had (MS-SMB2 3.3.2.1: Windows uses 35 seconds). */
#define OPLOCK_BREAK_TIMEOUT_S 35

#define FILE_BUCKETS 1024

struct file_table {
	struct smbd_file *buckets[FILE_BUCKETS];
};

static struct file_table *table_of(struct smbd_server *srv)
{
	if (srv->files == NULL)
		srv->files = talloc_zero(srv, struct file_table);
	return srv->files;
}

static unsigned bucket_of(dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)ino * 0x9E3779B97F4A7C15ULL ^ (uint64_t)dev;
	return (unsigned)(h >> 54) % FILE_BUCKETS;
}

struct smbd_file *smbd_file_find(struct smbd_server *srv, dev_t dev, ino_t ino)
{
	struct file_table *t = table_of(srv);
	if (t == NULL)
		return NULL;
	for (struct smbd_file *f = t->buckets[bucket_of(dev, ino)]; f; f = f->next)
		if (f->dev == dev && f->ino == ino)
			return f;
	return NULL;
}

static int file_destructor(struct smbd_file *f)
{
	struct file_table *t = f->srv->files;
	unsigned b = bucket_of(f->dev, f->ino);
	DLIST_REMOVE(t->buckets[b], f, prev, next);
	return 0;
}

/* A file with no opens and no waiters is forgotten. */
static void file_maybe_free(struct smbd_file *f)
{
	if (f->n_opens == 0 && f->waiters.newest == NULL)
		talloc_free(f);
}

/* Wakes every CREATE waiting on this file, on the next loop turn. */
/* A parked CREATE went away (cancelled, or its connection did). */
static void waiter_left(struct smbd_park_list *list)
{
	file_maybe_free((struct smbd_file *)((char *)list - offsetof(struct smbd_file, waiters)));
}

static struct smbd_file *file_get(struct smbd_server *srv, dev_t dev, ino_t ino)
{
	struct smbd_file *f = smbd_file_find(srv, dev, ino);
	if (f != NULL)
		return f;
	struct file_table *t = table_of(srv);
	if (t == NULL || (f = talloc_zero(t, struct smbd_file)) == NULL)
		return NULL;
	f->srv = srv;
	f->dev = dev;
	f->ino = ino;
	f->waiters.left = waiter_left;
	unsigned b = bucket_of(dev, ino);
	DLIST_PUSH_FRONT(t->buckets[b], f, prev, next);
	talloc_set_destructor(f, file_destructor);
	return f;
}

void smbd_file_wake_waiters(struct smbd_file *f)
{
	SMBD_CONTROL_HELD();
	/* Oldest first: each runs again in the order it came, and may start
	 * the next break (smb2.lease.breaking3). */
	smbd_park_wake_all(&f->waiters);
}

bool smbd_file_add_open(struct smbd_server *srv, struct smbd_open *o)
{
	SMBD_CONTROL_HELD();
	struct smbd_file *f = file_get(srv, o->dev, o->ino);
	if (f == NULL)
		return false;
	struct smbd_open **v = talloc_realloc(f, f->opens, struct smbd_open *, f->n_opens + 1);
	if (v == NULL) {
		file_maybe_free(f);
		return false;
	}
	f->opens = v;
	f->opens[f->n_opens++] = o;
	o->file = f;
	return true;
}

void smbd_file_remove_open(struct smbd_open *o)
{
	SMBD_CONTROL_HELD();
	struct smbd_file *f = o->file;
	if (f == NULL)
		return;
	smbd_shared_timer_disarm(o->srv->timers, &o->break_timer);
	for (size_t i = 0; i < f->n_opens; i++) {
		if (f->opens[i] == o) {
			f->opens[i] = f->opens[--f->n_opens];
			break;
		}
	}
	smbd_lease_leave(o);
	o->file = NULL;
	bool had_oplock = o->oplock_level != SMB2_OPLOCK_LEVEL_NONE;
	o->oplock_level = SMB2_OPLOCK_LEVEL_NONE;
	if (had_oplock)
		smbd_file_wake_waiters(f);
	file_maybe_free(f);
}

struct smbd_open **smbd_file_opens(struct smbd_server *srv, dev_t dev, ino_t ino, void *mem, size_t *n)
{
	struct smbd_file *f = smbd_file_find(srv, dev, ino);
	*n = 0;
	if (f == NULL || f->n_opens == 0)
		return NULL;
	struct smbd_open **v = talloc_memdup(mem, f->opens, f->n_opens * sizeof(*v));
	if (v != NULL)
		*n = f->n_opens;
	return v;
}

void smbd_file_foreach_open(const struct smbd_open *o, void (*fn)(struct smbd_open *each, void *arg), void *arg)
{
	SMBD_SHARED_HELD();
	struct smbd_file *f = o->file;
	for (size_t i = 0; f && i < f->n_opens; i++)
		fn(f->opens[i], arg);
}

/* Only these rights take part in sharing (MS-FSA 2.1.5.1.2.1); an open for
 * attributes alone never conflicts. */
#define SHARE_READ_RIGHTS (FILE_READ_DATA | FILE_EXECUTE)
#define SHARE_WRITE_RIGHTS (FILE_WRITE_DATA | FILE_APPEND_DATA)

static bool lets_in(uint32_t access, uint32_t share_access_of_other)
{
	if ((access & SHARE_READ_RIGHTS) && !(share_access_of_other & FILE_SHARE_READ))
		return false;
	if ((access & SHARE_WRITE_RIGHTS) && !(share_access_of_other & FILE_SHARE_WRITE))
		return false;
	if ((access & DELETE_ACCESS) && !(share_access_of_other & FILE_SHARE_DELETE))
		return false;
	return true;
}

#define SHARING_RIGHTS (SHARE_READ_RIGHTS | SHARE_WRITE_RIGHTS | DELETE_ACCESS)

/* Whether a new open (access, share_access) and o keep each other out. */
static bool conflicts(const struct smbd_open *o, uint32_t access, uint32_t share_access)
{
	/* An open without data or delete rights (a "stat open") takes no part
	 * in sharing, either way (smbtorture smb2.sharemode.bug14375). */
	if (!(access & SHARING_RIGHTS) || o->pipe != NULL || !(o->access & SHARING_RIGHTS))
		return false;
	/* Each must allow what the other asked for. */
	return !lets_in(access, o->share_access) || !lets_in(o->access, share_access);
}

NTSTATUS smbd_share_mode_check(struct smbd_server *srv, dev_t dev, ino_t ino, uint32_t access,
			       uint32_t share_access)
{
	SMBD_CONTROL_HELD();
	struct smbd_file *f = smbd_file_find(srv, dev, ino);
	for (size_t i = 0; f && i < f->n_opens; i++)
		if (conflicts(f->opens[i], access, share_access))
			return NT_STATUS_SHARING_VIOLATION;
	return NT_STATUS_OK;
}

static void start_break(struct smbd_open *o, uint8_t to);

bool smbd_share_mode_break_handles(struct smbd_server *srv, dev_t dev, ino_t ino, uint32_t access,
				   uint32_t share_access, const struct smbd_lease *mine)
{
	struct smbd_file *f = smbd_file_find(srv, dev, ino);
	bool must_wait = false;
	for (size_t i = 0; f && i < f->n_opens; i++) {
		struct smbd_open *o = f->opens[i];
		if (!conflicts(o, access, share_access))
			continue;
		if (o->lease != NULL) {
			if (o->lease != mine && smbd_lease_break_handles(f, o->lease))
				must_wait = true;
		} else if (o->oplock_state == SMBD_OPLOCK_BREAKING) {
			must_wait = true;
		} else if (o->oplock_level == SMB2_OPLOCK_LEVEL_BATCH) {
			/* A batch oplock caches the handle: its holder may close
			 * it when asked. An exclusive one caches no handle and
			 * is left alone (smbtorture smb2.oplock.exclusive1). */
			start_break(o, SMB2_OPLOCK_LEVEL_II);
			must_wait = true;
		}
	}
	return must_wait;
}

bool smbd_file_delete_pending(struct smbd_server *srv, dev_t dev, ino_t ino)
{
	struct smbd_file *f = smbd_file_find(srv, dev, ino);
	for (size_t i = 0; f && i < f->n_opens; i++)
		if (f->opens[i]->delete_pending)
			return true;
	return false;
}

struct smbd_open *smbd_file_other_open(const struct smbd_open *o)
{
	struct smbd_file *f = o->file;
	for (size_t i = 0; f && i < f->n_opens; i++)
		if (f->opens[i] != o)
			return f->opens[i];
	return NULL;
}

/* MS-SMB2 2.2.23.1: the notification, on a channel of the holder's session, unsigned. */
static void send_break(struct smbd_open *o, uint8_t level)
{
	struct smbd_server *srv = o->srv;
	struct smbd_session *s = smbd_session_find(srv, o->session_id);
	struct smbd_conn *conn = s ? smbd_session_notify_conn(s) : NULL;
	if (conn == NULL)
		return;
	uint8_t pdu[SMB2_HDR_LEN + 24] = { 0 };
	put_le32(pdu, 0x424D53FE);
	put_le16(pdu + SMB2_HDR_STRUCTURE_SIZE, SMB2_HDR_LEN);
	put_le16(pdu + SMB2_HDR_COMMAND, SMB2_OPLOCK_BREAK);
	put_le32(pdu + SMB2_HDR_FLAGS, SMB2_FLAGS_SERVER_TO_REDIR);
	put_le64(pdu + SMB2_HDR_MESSAGE_ID, UINT64_MAX);
	put_le64(pdu + SMB2_HDR_SESSION_ID, o->session_id);
	uint8_t *b = pdu + SMB2_HDR_LEN;
	put_le16(b, 24);
	b[2] = level;
	put_le64(b + 8, o->persistent_id);
	put_le64(b + 16, o->volatile_id);
	struct iovec iov = { pdu, sizeof(pdu) };
	LOG_DBG("oplock break of file id %llu to level %u", (unsigned long long)o->volatile_id, level);
	smbd_conn_send(conn, &iov, 1);
}

static void break_timeout_cb(struct smbd_shared_timer *t)
{
	struct smbd_open *o = SMBD_TIMER_OWNER(t, struct smbd_open, break_timer);
	LOG_INFO("oplock break of file id %llu not acknowledged in time", (unsigned long long)o->volatile_id);
	/* MS-SMB2 3.3.2.1: the break completes as if acknowledged. */
	o->oplock_level = o->oplock_break_to;
	o->oplock_state = SMBD_OPLOCK_HELD;
	if (o->file)
		smbd_file_wake_waiters(o->file);
}

static void start_break(struct smbd_open *o, uint8_t to)
{
	/* A disconnected durable open cannot hear it: it is closed instead. */
	if (smbd_durable_purge(o))
		return;
	o->oplock_state = SMBD_OPLOCK_BREAKING;
	o->oplock_break_to = to;
	smbd_shared_timer_arm(o->srv->timers, &o->break_timer, OPLOCK_BREAK_TIMEOUT_S * 1000, break_timeout_cb);
	send_break(o, to);
}

NTSTATUS smbd_oplock_check(struct smbd_server *srv, dev_t dev, ino_t ino, uint8_t requested, uint32_t access,
			   bool overwrite, const struct smbd_lease *mine, uint8_t *granted)
{
	SMBD_CONTROL_HELD();
	struct smbd_file *f = smbd_file_find(srv, dev, ino);
	bool must_wait = false;
	bool others = false;
	bool handle_lease = false;
	/* A stat open breaks nothing (MS-FSA 2.1.5.1.2; smb2.oplock.statopen1),
	 * and beside an exclusive or batch oplock it gets none (exclusive4,
	 * batch8): it cannot share a level it does not break. */
	if (smbd_access_is_stat(access, false) && !overwrite) {
		for (size_t i = 0; f && i < f->n_opens; i++) {
			const struct smbd_open *o = f->opens[i];
			if (o->lease == NULL && (o->oplock_level == SMB2_OPLOCK_LEVEL_EXCLUSIVE ||
						 o->oplock_level == SMB2_OPLOCK_LEVEL_BATCH))
				requested = SMB2_OPLOCK_LEVEL_NONE;
		}
		f = NULL;
	}
	for (size_t i = 0; f && i < f->n_opens; i++) {
		struct smbd_open *o = f->opens[i];
		if (o->lease != NULL) {
			/* Leases are broken once the share modes let the open
			 * in (smbd_lease_check); the requester's own is not
			 * in its way. */
			if (o->lease != mine) {
				others = true;
				handle_lease |= (smbd_lease_state(o->lease) & SMB2_LEASE_HANDLE) != 0;
			}
			continue;
		}
		others = true;
		if (o->oplock_state == SMBD_OPLOCK_BREAKING) {
			must_wait = true;
		} else if (o->oplock_level == SMB2_OPLOCK_LEVEL_EXCLUSIVE || o->oplock_level == SMB2_OPLOCK_LEVEL_BATCH) {
			start_break(o, overwrite ? SMB2_OPLOCK_LEVEL_NONE : SMB2_OPLOCK_LEVEL_II);
			must_wait = true;
		} else if (o->oplock_level == SMB2_OPLOCK_LEVEL_II && overwrite) {
			/* Level II breaks need no acknowledgment. */
			send_break(o, SMB2_OPLOCK_LEVEL_NONE);
			o->oplock_level = SMB2_OPLOCK_LEVEL_NONE;
		}
	}
	if (must_wait)
		return NT_STATUS_PENDING;
	/* A lease is granted once the open is registered (smbd_lease_grant). */
	/* Beside a lease that caches handles, no oplock (smbtorture smb2.lease.oplock). */
	if (requested == SMB2_OPLOCK_LEVEL_LEASE || requested == SMB2_OPLOCK_LEVEL_NONE || handle_lease)
		*granted = SMB2_OPLOCK_LEVEL_NONE;
	else if (!others)
		*granted = requested;
	else
		*granted = SMB2_OPLOCK_LEVEL_II;
	return NT_STATUS_OK;
}

NTSTATUS smbd_lease_check(struct smbd_server *srv, dev_t dev, ino_t ino, uint32_t access, bool overwrite,
			  bool deleting, const struct smbd_lease *mine, bool first_attempt)
{
	if (smbd_access_is_stat(access, true) && !overwrite)
		return NT_STATUS_OK;
	struct smbd_file *f = smbd_file_find(srv, dev, ino);
	bool must_wait = false;
	for (size_t i = 0; f && i < f->n_opens; i++) {
		struct smbd_lease *l = f->opens[i]->lease;
		if (l != NULL && l != mine && smbd_lease_break_for_open(f, l, overwrite, deleting, first_attempt))
			must_wait = true;
	}
	return must_wait ? NT_STATUS_PENDING : NT_STATUS_OK;
}

NTSTATUS smbd_oplock_wait(struct smb2_call *call, dev_t dev, ino_t ino, smbd_park_retry_fn retry)
{
	struct smbd_file *f = smbd_file_find(call->req->conn->srv, dev, ino);
	if (f == NULL)
		return NT_STATUS_INTERNAL_ERROR;
	call->waited_for_breaks = true;
	return smbd_park(call, &f->waiters, false, retry);
}

bool smbd_oplock_level2_cached(const struct smbd_open *writer, bool include_self)
{
	SMBD_SHARED_HELD();
	const struct smbd_file *f = writer->file;
	for (size_t i = 0; f && i < f->n_opens; i++) {
		const struct smbd_open *o = f->opens[i];
		if ((o != writer || include_self) && o->oplock_level == SMB2_OPLOCK_LEVEL_II)
			return true;
		if (o->lease != NULL && o->lease != writer->lease && (smbd_lease_state(o->lease) & SMB2_LEASE_READ))
			return true;
	}
	return false;
}

void smbd_oplock_break_level2(struct smbd_open *writer, bool include_self)
{
	SMBD_CONTROL_HELD();
	struct smbd_file *f = writer->file;
	smbd_lease_break_for_write(f, writer);
	for (size_t i = 0; f && i < f->n_opens; i++) {
		struct smbd_open *o = f->opens[i];
		if ((o != writer || include_self) && o->oplock_level == SMB2_OPLOCK_LEVEL_II) {
			send_break(o, SMB2_OPLOCK_LEVEL_NONE);
			o->oplock_level = SMB2_OPLOCK_LEVEL_NONE;
		}
	}
}

NTSTATUS smbd_oplock_ack(struct smbd_open *o, uint8_t level, uint8_t *new_level)
{
	SMBD_CONTROL_HELD();
	/* MS-SMB2 3.3.5.22.1 */
	if (o->oplock_state != SMBD_OPLOCK_BREAKING)
		return NT_STATUS_INVALID_OPLOCK_PROTOCOL;
	if (level == SMB2_OPLOCK_LEVEL_LEASE || (level != SMB2_OPLOCK_LEVEL_NONE && level != SMB2_OPLOCK_LEVEL_II) ||
	    (o->oplock_break_to == SMB2_OPLOCK_LEVEL_NONE && level != SMB2_OPLOCK_LEVEL_NONE))
		return NT_STATUS_INVALID_OPLOCK_PROTOCOL;
	o->oplock_level = level;
	o->oplock_state = SMBD_OPLOCK_HELD;
	smbd_shared_timer_disarm(o->srv->timers, &o->break_timer);
	*new_level = level;
	if (o->file)
		smbd_file_wake_waiters(o->file);
	return NT_STATUS_OK;
}
