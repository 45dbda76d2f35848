/* QUERY_DIRECTORY (MS-SMB2 2.2.33, 2.2.34, 3.3.5.18; MS-FSA 2.1.5.6.3) */
#include "config.h"

#include <string.h>
#include <talloc.h>

#include "lib/fscc.h"
#include "lib/unicode.h"
#include "lib/wildcard.h"
#include "smbd/conn.h"
#include "smbd/dispatch.h"
#include "smbd/fileinfo.h"
#include "smbd/identity.h"
#include "smbd/io_async.h"
#include "smbd/open.h"
#include "smbd/share.h"
#include "smbd/smb2_handlers.h"
#include "smbd/smb2_proto.h"
#include "smbd/tcon.h"
#include "smbd/vfs.h"
#include "smbd/vfs_dosattr.h"

/* A directory larger than this is refused rather than listed. */
#define MAX_DIR_ENTRIES (4u * 1024 * 1024)

/*
 * The file system side of one QUERY_DIRECTORY, which runs on an I/O
 * worker: a large directory costs a stat and an xattr read per entry, and
 * the loop must not wait for that. Everything the work touches is the
 * job's own (the directory's fd, held; copies of its path, the
 * pattern and the session's identity) or lent by the open for the time of
 * the job (its listing), so a CLOSE or a logoff racing with it pulls
 * nothing from under it.
 */
struct dir_query {
	struct vfs_share *vfs;
	const struct smbd_identity *as;
	struct smbd_fd *held;       /* the directory's fd, held for the job */
	int fd;
	char *rel_path;
	const char *pattern;
	uint8_t info_class, flags;
	uint32_t out_len;
	bool rescan;                /* take a fresh snapshot first */
	uint64_t fid_p, fid_v;
	struct vfs_listing *listing; /* the open's, lent */
	size_t pos;
	struct wire_wr out;         /* the reply body */
	NTSTATUS status;
};

/* Takes a fresh snapshot of the directory: "." and ".." first, as Windows lists them. */
static NTSTATUS snapshot(struct dir_query *q)
{
	struct vfs_listing *l;
	TALLOC_FREE(q->listing);
	q->pos = 0;
	NTSTATUS status = vfs_list_dir_share(q, q->vfs, q->fd, q->rel_path, 2, MAX_DIR_ENTRIES, &l);
	if (!NT_STATUS_IS_OK(status))
		return status;
	struct vfs_dirent *all = l->ents;
	all[0].name = talloc_strdup(l, ".");
	all[1].name = talloc_strdup(l, "..");
	if (all[0].name == NULL || all[1].name == NULL) {
		talloc_free(l);
		return NT_STATUS_NO_MEMORY;
	}
	vfs_fstat(q->fd, &all[0].st);
	all[1].st = all[0].st;
	char *parent, *leaf;
	if (strcmp(q->rel_path, ".") != 0 && NT_STATUS_IS_OK(vfs_path_split(l, q->rel_path, &parent, &leaf)))
		vfs_stat(q->vfs, parent, &all[1].st);
	q->listing = l;
	return NT_STATUS_OK;
}

static NTSTATUS entry_info(struct dir_query *q, const struct vfs_dirent *e, struct fscc_file_info *fi)
{
	struct vfs_dos_info dos;
	NTSTATUS status;
	if (strcmp(e->name, ".") == 0 || strcmp(e->name, "..") == 0) {
		status = vfs_dos_get(q->fd, &e->st, &dos);
	} else if (!e->link && (S_ISREG(e->st.st_mode) || S_ISDIR(e->st.st_mode))) {
		status = vfs_dos_get_entry(q->fd, e->name, &e->st, &dos);
	} else {
		char *rel = strcmp(q->rel_path, ".") == 0 ? talloc_strdup(q, e->name)
							  : talloc_asprintf(q, "%s/%s", q->rel_path, e->name);
		if (rel == NULL)
			return NT_STATUS_NO_MEMORY;
		struct stat lst;
		status = vfs_dos_get_at(q->vfs, rel, &e->st, &dos);
		if (!NT_STATUS_IS_OK(status) && NT_STATUS_IS_OK(vfs_lstat(q->vfs, rel, &lst))) {
			/* A dangling link, or one leading out of the share: listed
			 * with its own lstat so the client can see and delete it. */
			vfs_dos_from_stat(&e->st, &dos);
			status = NT_STATUS_OK;
		}
		talloc_free(rel);
	}
	if (!NT_STATUS_IS_OK(status))
		return status; /* gone since the snapshot was taken */
	smbd_fileinfo_from_stat(&e->st, &dos, fi);
	fi->name = e->name;
	return NT_STATUS_OK;
}

/* The entries from q->pos on that fit in out_len, as the reply body. */
static NTSTATUS fill(struct dir_query *q)
{
	struct wire_wr *w = &q->out;
	wire_put_u16(w, 9);
	size_t off_pos = wire_reserve(w, 2);
	size_t len_pos = wire_reserve(w, 4);
	/* Entries start 8-aligned relative to the header: body offset 8 is header 72. */
	size_t start = w->len;
	size_t prev = SIZE_MAX;
	unsigned returned = 0;
	bool full = false;
	while (q->listing != NULL && q->pos < q->listing->n) {
		const struct vfs_dirent *e = &q->listing->ents[q->pos];
		if (!wildcard_match(q->pattern, e->name)) {
			q->pos++;
			continue;
		}
		struct fscc_file_info fi;
		if (!NT_STATUS_IS_OK(entry_info(q, e, &fi))) {
			q->pos++; /* vanished since the snapshot */
			continue;
		}
		size_t end = fscc_dir_entry_end(q->info_class, &fi, w->len);
		if (end == 0) {
			q->pos++; /* a name that cannot be expressed in UTF-16 */
			continue;
		}
		if (end - start > q->out_len) {
			full = true;
			break;
		}
		size_t this_off;
		NTSTATUS status = fscc_dir_entry_encode(q->info_class, &fi, w, &this_off);
		if (!NT_STATUS_IS_OK(status))
			return status;
		if (prev != SIZE_MAX)
			fscc_dir_link(w, prev, this_off);
		prev = this_off;
		returned++;
		q->pos++;
		if (q->flags & SMB2_RETURN_SINGLE_ENTRY)
			break;
	}
	if (returned == 0) {
		w->len = 0;
		if (full)
			return NT_STATUS_INFO_LENGTH_MISMATCH;
		return q->rescan ? NT_STATUS_NO_SUCH_FILE : NT_STATUS_NO_MORE_FILES;
	}
	wire_patch_u16(w, off_pos, (uint16_t)(SMB2_HDR_LEN + start));
	wire_patch_u32(w, len_pos, (uint32_t)(w->len - start));
	return wire_wr_ok(w) ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

/* A query that never ran still lets go of the fd. */
static int dir_query_destructor(struct dir_query *q)
{
	smbd_fd_release(q->held);
	return 0;
}

static void query_work(void *arg)
{
	struct dir_query *q = arg;
	if (!smbd_become(q->as)) {
		q->status = NT_STATUS_ACCESS_DENIED;
		return;
	}
	q->status = q->rescan ? snapshot(q) : NT_STATUS_OK;
	if (NT_STATUS_IS_OK(q->status))
		q->status = fill(q);
	smbd_become_root();
}

/*
 * Back on the loop: the listing goes back to the open if it is still
 * there. A CLOSE that overtook the query does not void it: Windows
 * answers a query sent before the CLOSE (smbtorture
 * smb2.compound_find.compound_find_close).
 */
static NTSTATUS query_finish(struct smb2_call *call, void *arg)
{
	struct dir_query *q = arg;
	smbd_fd_release(q->held);
	q->held = NULL;
	struct smbd_open *o = smbd_open_find(call->req->conn->srv, q->fid_p, q->fid_v, call->session_id,
					     call->tree_id);
	if (o != NULL && o->dir_busy) {
		o->dir_busy = false;
		talloc_free(o->dir_listing);
		o->dir_listing = talloc_steal(o, q->listing);
		o->dir_pos = q->pos;
	}
	if (NT_STATUS_IS_OK(q->status))
		call->out = q->out;
	return q->status;
}

NTSTATUS smb2_query_directory(struct smb2_call *call)
{
	struct smbd_conn *conn = call->req->conn;
	struct wire_rd *r = &call->in;
	wire_skip(r, 2);
	uint8_t info_class = wire_u8(r);
	uint8_t flags = wire_u8(r);
	wire_skip(r, 4); /* FileIndex */
	uint64_t fid_p = wire_u64(r);
	uint64_t fid_v = wire_u64(r);
	uint16_t name_off = wire_u16(r);
	uint16_t name_len = wire_u16(r);
	uint32_t out_len = wire_u32(r);
	if (!wire_ok(r))
		return NT_STATUS_INVALID_PARAMETER;
	struct smbd_open *o;
	NTSTATUS status = smbd_call_open(call, fid_p, fid_v, &o);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (!o->is_dir || o->pipe)
		return NT_STATUS_INVALID_PARAMETER;
	if (!(o->access & FILE_LIST_DIRECTORY))
		return NT_STATUS_ACCESS_DENIED;
	if (out_len > conn->max_transact)
		return NT_STATUS_INVALID_PARAMETER;
	status = smbd_call_check_charge(call, out_len);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (fscc_dir_entry_fixed_size(info_class) == 0)
		return NT_STATUS_INVALID_INFO_CLASS;
	/* One query at a time on a handle, as every client sends them; a
	 * second one while the first is on a worker finds no listing. */
	if (o->dir_busy)
		return NT_STATUS_INVALID_DEVICE_STATE;

	char *pattern = NULL;
	if (name_len) {
		struct wire_rd nr;
		if (name_len % 2 || !wire_slice(&call->in, name_off, name_len, &nr))
			return NT_STATUS_INVALID_PARAMETER;
		pattern = utf16le_name_to_utf8(call->req, wire_ptr(&nr, name_len), name_len);
		if (pattern == NULL || strchr(pattern, '\\') || strchr(pattern, '/'))
			return NT_STATUS_OBJECT_NAME_INVALID;
	}
	bool rescan = o->dir_listing == NULL || (flags & (SMB2_RESTART_SCANS | SMB2_REOPEN));
	/* The pattern is fixed by the first query, or by a restart with a new one. */
	if (o->dir_listing == NULL || (rescan && pattern)) {
		talloc_free(o->dir_pattern);
		o->dir_pattern = talloc_strdup(o, pattern && *pattern ? pattern : "*");
		if (o->dir_pattern == NULL)
			return NT_STATUS_NO_MEMORY;
	}

	struct dir_query *q = talloc_zero(call->req, struct dir_query);
	if (q == NULL)
		return NT_STATUS_NO_MEMORY;
	q->vfs = o->tcon->share->vfs;
	q->info_class = info_class;
	q->flags = flags;
	q->out_len = out_len;
	q->rescan = rescan;
	/* The open's own ids: the request's may be a compound's "the one before". */
	q->fid_p = o->persistent_id;
	q->fid_v = o->volatile_id;
	q->rel_path = talloc_strdup(q, o->rel_path);
	q->pattern = talloc_strdup(q, o->dir_pattern);
	q->as = smbd_identity_copy(q, smbd_session_identity(call->session));
	if (q->rel_path == NULL || q->pattern == NULL || q->as == NULL)
		return NT_STATUS_NO_MEMORY;
	talloc_set_destructor(q, dir_query_destructor);
	q->held = smbd_open_hold_fd(o);
	q->fd = smbd_fd_number(q->held);
	wire_wr_init(&q->out, q, 4096);
	q->listing = talloc_steal(q, o->dir_listing);
	o->dir_listing = NULL;
	q->pos = o->dir_pos;
	o->dir_busy = true;
	return smbd_call_offload(call, q, query_work, query_finish);
}
