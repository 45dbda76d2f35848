#include "config.h"
#include "smbd/open.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <talloc.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "lib/idtable.h"
#include "lib/log.h"
#include "lib/log_ratelimit.h"
#include "smbd/brlock.h"
#include "smbd/control.h"
#include "smbd/dir_lease.h"
#include "smbd/durable.h"
#include "smbd/file_state.h"
#include "smbd/identity.h"
#include "smbd/iopool.h"
#include "smbd/loop.h"
#include "smbd/lease.h"
#include "smbd/notify.h"
#include "smbd/server.h"
#include "smbd/session.h"
#include "smbd/share.h"
#include "smbd/smb2_proto.h"
#include "smbd/tcon.h"
#include "smbd/vfs.h"

struct smbd_fd {
	struct smbd_iojob close_job; /* the last close, on a worker */
	struct smbd_server *srv;
	int fd;
	atomic_uint holders;
};

struct smbd_fd *smbd_fd_new(struct smbd_server *srv, int fd)
{
	/* Not under the open, whom a transfer may outlive, nor a talloc child
	 * of anything: the last holder may be on another loop's thread. */
	struct smbd_fd *h = calloc(1, sizeof(*h));
	if (h != NULL) {
		h->srv = srv;
		h->fd = fd;
		atomic_init(&h->holders, 1);
	}
	return h;
}

struct smbd_fd *smbd_open_hold_fd(struct smbd_open *o)
{
	atomic_fetch_add_explicit(&o->held_fd->holders, 1, memory_order_relaxed);
	return o->held_fd;
}

int smbd_fd_number(const struct smbd_fd *h)
{
	return h->fd;
}

bool smbd_open_io_idle(const struct smbd_open *o)
{
	return o->held_fd != NULL && atomic_load_explicit(&o->held_fd->holders, memory_order_relaxed) == 1;
}

static void fd_close_work(struct smbd_iojob *job)
{
	struct smbd_fd *h = (struct smbd_fd *)job; /* close_job comes first */
	close(h->fd);
}

static void fd_close_done(struct smbd_iojob *job)
{
	free(job);
}

/*
 * The last close of a large file can take the kernel a while: ext4
 * allocates and starts writing back the delayed blocks of a file that was
 * truncated and written again (auto_da_alloc; 50 ms for 256 MiB of 1 MiB
 * WRITEs here, every other connection's requests waiting behind it), and
 * the close of an unlinked file frees all its blocks. So does that of a
 * special file (a tty drains its output). Such a close goes to a worker,
 * with nothing to wait for; a small file's or a directory's stays here,
 * where it costs less than the hand-off (metadata-heavy work closes many).
 */
#define CLOSE_ON_WORKER_MIN (1024 * 1024)

static bool close_may_take_long(int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return true;
	if (S_ISDIR(st.st_mode))
		return false;
	return !S_ISREG(st.st_mode) || (uint64_t)st.st_blocks * 512 >= CLOSE_ON_WORKER_MIN;
}

void smbd_fd_release(struct smbd_fd *h)
{
	/* acq_rel: the last holder sees every other holder's use of the fd. */
	if (h == NULL || atomic_fetch_sub_explicit(&h->holders, 1, memory_order_acq_rel) > 1)
		return;
	struct smbd_iopool *pool = h->srv->loop->iopool; /* NULL while the server goes */
	if (pool != NULL && smbd_iopool_threads(pool) > 0 && close_may_take_long(h->fd)) {
		h->close_job = (struct smbd_iojob){ .work = fd_close_work, .done = fd_close_done };
		smbd_iopool_submit(pool, &h->close_job);
		return;
	}
	close(h->fd);
	free(h);
}

void smbd_fd_close_later(struct smbd_server *srv, int fd)
{
	struct smbd_fd *h = smbd_fd_new(srv, fd);
	if (h == NULL) {
		close(fd);
		return;
	}
	smbd_fd_release(h);
}

struct fd_hold {
	struct smbd_fd *h;
};

static int fd_hold_destructor(struct fd_hold *hold)
{
	smbd_fd_release(hold->h);
	return 0;
}

int smbd_open_hold_fd_for(TALLOC_CTX *owner, struct smbd_open *o, struct smbd_open_ref *ref)
{
	if (o->held_fd == NULL)
		return -1;
	struct fd_hold *hold = talloc(owner, struct fd_hold);
	if (hold == NULL)
		return -1;
	hold->h = smbd_open_hold_fd(o);
	talloc_set_destructor(hold, fd_hold_destructor);
	if (ref != NULL)
		*ref = (struct smbd_open_ref){ o->persistent_id, o->volatile_id, o->session_id, o->tree_id };
	return hold->h->fd;
}

struct smbd_open *smbd_open_ref_find(struct smbd_server *srv, const struct smbd_open_ref *ref)
{
	return smbd_open_find(srv, ref->persistent_id, ref->volatile_id, ref->session_id, ref->tree_id);
}

/* The open lets go of its fd; the number closes with the last holder. */
static void open_release_fd(struct smbd_open *o)
{
	smbd_fd_release(o->held_fd);
	o->held_fd = NULL;
	o->fd = -1;
}

static int open_destructor(struct smbd_open *o)
{
	SMBD_CONTROL_HELD();
	/* Parents outlive their children's destructors (talloc), so the
	 * session is still there, even when it is what is being freed. */
	if (o->tcon != NULL)
		o->tcon->session->n_opens--;
	smbd_file_remove_open(o);
	idtable_remove(o->srv->opens, o->volatile_id);
	open_release_fd(o);
	return 0;
}

NTSTATUS smbd_open_check_limit(const struct smbd_tcon *tcon)
{
	const struct smbd_session *s = tcon->session;
	if (s->n_opens < s->srv->cfg->max_open_files)
		return NT_STATUS_OK;
	/* Logged once a minute at most: a client decides how often. */
	static struct plog_ratelimit refusals = PLOG_RATELIMIT_INIT(60);
	unsigned long unlogged;
	if (plog_ratelimit_ok(&refusals, &unlogged))
		LOG_INFO("session %llx: %u opens already (max open files): open refused (and %lu more since the "
			 "last such line)", (unsigned long long)s->id, s->n_opens, unlogged);
	return NT_STATUS_INSUFFICIENT_RESOURCES;
}

struct smbd_open *smbd_open_new(struct smbd_tcon *tcon, int fd)
{
	SMBD_CONTROL_HELD();
	struct smbd_server *srv = tcon->session->srv;
	if (!NT_STATUS_IS_OK(smbd_open_check_limit(tcon))) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	struct smbd_open *o = talloc_zero(tcon, struct smbd_open);
	if (o == NULL) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	o->srv = srv;
	o->tcon = tcon;
	o->share = tcon->share;
	if (fd >= 0) {
		o->held_fd = smbd_fd_new(srv, fd);
		if (o->held_fd == NULL) {
			close(fd);
			talloc_free(o);
			return NULL;
		}
	}
	o->fd = fd;
	o->session_id = tcon->session->id;
	o->tree_id = tcon->id;
	o->volatile_id = idtable_add(srv->opens, o);
	if (o->volatile_id == 0) {
		open_release_fd(o);
		talloc_free(o);
		return NULL;
	}
	/* The same id for both: a durable open keeps its volatile id while
	 * disconnected, so a reconnect finds it by either. */
	o->persistent_id = o->volatile_id;
	tcon->session->n_opens++;
	talloc_set_destructor(o, open_destructor);
	return o;
}

struct smbd_open *smbd_open_restore(struct smbd_server *srv, struct smbd_share *share, int fd, uint64_t id)
{
	struct smbd_open *o = talloc_zero(srv, struct smbd_open);
	if (o == NULL || (o->held_fd = smbd_fd_new(srv, fd)) == NULL) {
		close(fd);
		talloc_free(o);
		return NULL;
	}
	o->srv = srv;
	o->share = share;
	o->fd = fd;
	if (!idtable_add_id(srv->opens, id, o)) {
		open_release_fd(o);
		talloc_free(o);
		return NULL;
	}
	o->persistent_id = o->volatile_id = id;
	talloc_set_destructor(o, open_destructor);
	return o;
}

struct smbd_open *smbd_open_find(struct smbd_server *srv, uint64_t persistent_id, uint64_t volatile_id,
				 uint64_t session_id, uint32_t tree_id)
{
	SMBD_SHARED_HELD();
	struct smbd_open *o = idtable_find(srv->opens, volatile_id);
	/* MS-SMB2 3.3.5.9 ff.: the open must belong to the request's session and tree. */
	if (o == NULL || o->persistent_id != persistent_id || o->session_id != session_id || o->tree_id != tree_id)
		return NULL;
	return o;
}

NTSTATUS smbd_open_close(struct smbd_open *o)
{
	SMBD_CONTROL_HELD();
	NTSTATUS status = NT_STATUS_OK;
	struct smbd_share *share = o->share;
	/* Pending CHANGE_NOTIFYs complete with NOTIFY_CLEANUP; watches go. */
	smbd_notify_open_closing(o);
	/* Locks go with the handle; requests blocked on them are woken. */
	smbd_brlock_close(o);
	/* MS-FSA 2.1.5.4: the file goes when its last handle closes; until
	 * then another open carries the pending delete. */
	struct smbd_open *other = o->delete_on_close ? smbd_file_other_open(o) : NULL;
	if (other != NULL) {
		other->delete_on_close = true;
		other->delete_pending = true;
		o->delete_on_close = false;
		/* The delete spares a directory lease only if the open that
		 * asked for it and the one that deletes name it both (Windows:
		 * smbtorture smb2.dirlease.unlink_different_set_and_close). */
		const uint8_t *mine = smbd_lease_parent_key(o->lease), *theirs = smbd_lease_parent_key(other->lease);
		if (o->delete_spares_none || mine == NULL || theirs == NULL || memcmp(mine, theirs, 16) != 0)
			other->delete_spares_none = true;
		/* Watchers of a directory being deleted are told (smb2.notify.rmdir*). */
		if (o->is_dir)
			smbd_notify_delete_pending(o->srv, o->dev, o->ino);
	}
	if (o->delete_on_close && share->vfs != NULL) {
		/* The unlink acts on a name, so as the handle's user even when
		 * the close comes from a logoff or a dropped connection (then
		 * running as root): a directory renamed or swapped for a
		 * symlink since the open must not let root remove another
		 * user's file. A disconnected durable open has no session:
		 * it acts as the user who opened it. */
		const struct smbd_identity *as = o->tcon != NULL ? smbd_session_identity(o->tcon->session)
								  : smbd_durable_owner(o);
		if (as != NULL && smbd_become(as))
			status = o->is_dir ? vfs_rmdir(share->vfs, o->rel_path) : vfs_unlink(share->vfs, o->rel_path);
		else
			status = NT_STATUS_ACCESS_DENIED;
		smbd_become_root();
		if (!NT_STATUS_IS_OK(status))
			LOG_INFO("delete on close of %s failed: %s", o->rel_path, nt_errstr(status));
		else /* the entry went */
			smbd_dir_lease_entry_changed(o->srv, share, o->rel_path,
						     o->delete_spares_none ? NULL : smbd_lease_parent_key(o->lease));
	} else if (o->data_changed) {
		smbd_dir_lease_open_changed(o);
	}
	/* After the unlink: the name goes at once, the blocks of a file
	 * deleted so with the last close, on a worker. */
	open_release_fd(o);
	talloc_free(o);
	return status;
}

bool smbd_open_writes_through(const struct smbd_open *o)
{
	const struct share_config *cfg = o->share != NULL ? o->share->cfg : NULL;
	return (o->create_options & FILE_WRITE_THROUGH) || (cfg != NULL && cfg->continuous_availability);
}

bool smbd_access_is_stat(uint32_t access, bool for_lease)
{
	uint32_t stat = SYNCHRONIZE | FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES;
	/* Windows counts READ_CONTROL in for leases, not for oplocks
	 * (smbtorture smb2.lease.statopen4 against smb2.oplock.statopen1). */
	if (for_lease)
		stat |= READ_CONTROL;
	return (access & ~stat) == 0;
}
