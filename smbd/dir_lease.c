/* Directory leases: which directory a change breaks, and what a directory
 * rename asks of the handles cached beneath it (smbd/dir_lease.h). */
#include "config.h"
#include "smbd/dir_lease.h"

#include <string.h>
#include <sys/stat.h>
#include <talloc.h>

#include "lib/idtable.h"
#include "smbd/file_state.h"
#include "smbd/lease.h"
#include "smbd/open.h"
#include "smbd/server.h"
#include "smbd/share.h"
#include "smbd/vfs.h"
#include "smbd/vfs_path.h"

void smbd_dir_lease_entry_changed(struct smbd_server *srv, const struct smbd_share *share, const char *rel,
				  const uint8_t *parent_key)
{
	/* Nothing to look up while no directory is leased, which keeps
	 * the stat below off every CREATE and CLOSE of a server without them;
	 * nobody to tell while the server stops. */
	if (srv->dir_leases == 0 || srv->stopping || share == NULL || share->vfs == NULL || rel == NULL)
		return;
	TALLOC_CTX *tmp = talloc_new(NULL);
	char *parent, *leaf;
	struct stat st;
	/* The share's root has no directory above it in the share. */
	if (tmp != NULL && NT_STATUS_IS_OK(vfs_path_split(tmp, rel, &parent, &leaf)) &&
	    NT_STATUS_IS_OK(vfs_stat(share->vfs, parent, &st)))
		smbd_lease_break_listing(srv, st.st_dev, st.st_ino, parent_key);
	talloc_free(tmp);
}

void smbd_dir_lease_open_changed(const struct smbd_open *o)
{
	smbd_dir_lease_entry_changed(o->srv, o->share, o->rel_path, smbd_lease_parent_key(o->lease));
}

/* The length of rel's directory part ("a/b/c": 3; "c": 0). */
static size_t parent_len(const char *rel)
{
	const char *slash = strrchr(rel, '/');
	return slash != NULL ? (size_t)(slash - rel) : 0;
}

void smbd_dir_lease_renamed(const struct smbd_open *o, const char *old_rel)
{
	const uint8_t *parent_key = smbd_lease_parent_key(o->lease);
	smbd_dir_lease_entry_changed(o->srv, o->share, o->rel_path, parent_key);
	size_t n = parent_len(old_rel);
	if (n != parent_len(o->rel_path) || strncmp(old_rel, o->rel_path, n) != 0)
		smbd_dir_lease_entry_changed(o->srv, o->share, old_rel, parent_key);
}

/* What is open beneath a directory, for a rename of it. */
struct beneath {
	const struct smbd_open *dir;
	size_t dir_len;
	struct smbd_open *first; /* the first open beneath, in id order */
	bool uncached;           /* an open beneath that caches no handle */
};

static void beneath_cb(uint64_t id, void *obj, void *arg)
{
	struct beneath *b = arg;
	struct smbd_open *o = obj;
	if (o == b->dir || o->share != b->dir->share || o->rel_path == NULL ||
	    strncmp(o->rel_path, b->dir->rel_path, b->dir_len) != 0 || o->rel_path[b->dir_len] != '/')
		return;
	if (b->first == NULL)
		b->first = o;
	/* One whose H is on its way out counts as cached until answered. */
	if (o->lease == NULL ||
	    (!(smbd_lease_state(o->lease) & SMB2_LEASE_HANDLE) && !smbd_lease_breaking(o->lease)))
		b->uncached = true;
}

NTSTATUS smbd_dir_lease_clear_beneath(struct smb2_call *call, const struct smbd_open *dir, smbd_park_retry_fn retry)
{
	struct beneath b = { .dir = dir, .dir_len = strlen(dir->rel_path) };
	idtable_foreach(dir->srv->opens, beneath_cb, &b);
	if (b.first == NULL)
		return NT_STATUS_OK;
	if (b.uncached)
		return NT_STATUS_ACCESS_DENIED;
	/* One break at a time: its holder closes the handle (the next
	 * run breaks the next one) or keeps it (the next run refuses). */
	dev_t dev = b.first->dev;
	ino_t ino = b.first->ino;
	if (smbd_lease_break_handles(b.first->file, b.first->lease))
		return smbd_oplock_wait(call, dev, ino, retry);
	return NT_STATUS_ACCESS_DENIED;
}
