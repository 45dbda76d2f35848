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
#include "smbd/open.h"
#include "smbd/share.h"
#include "smbd/smb2_handlers.h"
#include "smbd/smb2_proto.h"
#include "smbd/tcon.h"
#include "smbd/vfs.h"
#include "smbd/vfs_dosattr.h"

/* A directory larger than this is refused rather than listed. */
#define MAX_DIR_ENTRIES (4u * 1024 * 1024)

/* Takes a fresh snapshot of the directory: "." and ".." first, as Windows lists them. */
static NTSTATUS snapshot(struct smbd_open *o)
{
	struct vfs_share *vfs = o->tcon->share->vfs;
	struct vfs_dirent *ents;
	size_t n;
	TALLOC_FREE(o->dir_entries);
	NTSTATUS status = vfs_list_dir_share(o, vfs, o->fd, o->rel_path, MAX_DIR_ENTRIES, &ents, &n);
	if (!NT_STATUS_IS_OK(status))
		return status;
	struct vfs_dirent *all = talloc_realloc(o, ents, struct vfs_dirent, n + 2);
	if (all == NULL)
		return NT_STATUS_NO_MEMORY;
	memmove(all + 2, all, n * sizeof(*all));
	all[0].name = talloc_strdup(all, ".");
	all[1].name = talloc_strdup(all, "..");
	vfs_fstat(o->fd, &all[0].st);
	all[1].st = all[0].st;
	char *parent, *leaf;
	if (strcmp(o->rel_path, ".") != 0 && NT_STATUS_IS_OK(vfs_path_split(all, o->rel_path, &parent, &leaf)))
		vfs_stat(vfs, parent, &all[1].st);
	o->dir_entries = all;
	o->dir_count = n + 2;
	o->dir_pos = 0;
	return NT_STATUS_OK;
}

static NTSTATUS entry_info(struct smbd_open *o, const struct vfs_dirent *e, struct fscc_file_info *fi)
{
	struct vfs_dos_info dos;
	NTSTATUS status;
	if (strcmp(e->name, ".") == 0 || strcmp(e->name, "..") == 0) {
		status = vfs_dos_get(o->fd, &e->st, &dos);
	} else {
		char *rel = strcmp(o->rel_path, ".") == 0 ? talloc_strdup(o, e->name)
							  : talloc_asprintf(o, "%s/%s", o->rel_path, e->name);
		if (rel == NULL)
			return NT_STATUS_NO_MEMORY;
		struct vfs_share *vfs = o->tcon->share->vfs;
		struct stat lst;
		status = vfs_dos_get_at(vfs, rel, &e->st, &dos);
		if (!NT_STATUS_IS_OK(status) && NT_STATUS_IS_OK(vfs_lstat(vfs, rel, &lst))) {
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

	char *pattern = NULL;
	if (name_len) {
		struct wire_rd nr;
		if (name_len % 2 || !wire_slice(&call->in, name_off, name_len, &nr))
			return NT_STATUS_INVALID_PARAMETER;
		pattern = utf16le_name_to_utf8(call->req, wire_ptr(&nr, name_len), name_len);
		if (pattern == NULL || strchr(pattern, '\\') || strchr(pattern, '/'))
			return NT_STATUS_OBJECT_NAME_INVALID;
	}
	bool first = o->dir_entries == NULL;
	if (first || (flags & (SMB2_RESTART_SCANS | SMB2_REOPEN))) {
		/* The pattern is fixed by the first query, or by a restart with a new one. */
		if (first || pattern) {
			talloc_free(o->dir_pattern);
			o->dir_pattern = talloc_strdup(o, pattern && *pattern ? pattern : "*");
		}
		status = snapshot(o);
		if (!NT_STATUS_IS_OK(status))
			return status;
		first = true;
	}

	struct wire_wr *w = &call->out;
	wire_put_u16(w, 9);
	size_t off_pos = wire_reserve(w, 2);
	size_t len_pos = wire_reserve(w, 4);
	wire_put_zeros(w, 0);
	/* Entries start 8-aligned relative to the header: body offset 8 is header 72. */
	size_t start = w->len;
	size_t prev = SIZE_MAX;
	unsigned returned = 0;
	bool full = false;
	while (o->dir_pos < o->dir_count) {
		const struct vfs_dirent *e = &o->dir_entries[o->dir_pos];
		if (!wildcard_match(o->dir_pattern, e->name)) {
			o->dir_pos++;
			continue;
		}
		struct fscc_file_info fi;
		if (!NT_STATUS_IS_OK(entry_info(o, e, &fi))) {
			o->dir_pos++; /* vanished since the snapshot */
			continue;
		}
		size_t end = fscc_dir_entry_end(info_class, &fi, w->len);
		if (end == 0) {
			o->dir_pos++; /* a name that cannot be expressed in UTF-16 */
			continue;
		}
		if (end - start > out_len) {
			full = true;
			break;
		}
		size_t this_off;
		status = fscc_dir_entry_encode(info_class, &fi, w, &this_off);
		if (!NT_STATUS_IS_OK(status))
			return status;
		if (prev != SIZE_MAX)
			fscc_dir_link(w, prev, this_off);
		prev = this_off;
		returned++;
		o->dir_pos++;
		if (flags & SMB2_RETURN_SINGLE_ENTRY)
			break;
	}
	if (returned == 0) {
		w->len = 0;
		if (full)
			return NT_STATUS_INFO_LENGTH_MISMATCH;
		return first ? NT_STATUS_NO_SUCH_FILE : NT_STATUS_NO_MORE_FILES;
	}
	wire_patch_u16(w, off_pos, (uint16_t)(SMB2_HDR_LEN + start));
	wire_patch_u32(w, len_pos, (uint32_t)(w->len - start));
	return wire_wr_ok(w) ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}
