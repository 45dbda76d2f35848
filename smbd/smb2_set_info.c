/* SET_INFO (MS-SMB2 2.2.39, 2.2.40, 3.3.5.21; semantics from MS-FSA 2.1.5.14) */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <talloc.h>

#include "lib/fscc.h"
#include "lib/idtable.h"
#include "lib/log.h"
#include "smbd/conn.h"
#include "smbd/dir_lease.h"
#include "smbd/dispatch.h"
#include "smbd/file_state.h"
#include "smbd/identity.h"
#include "smbd/io_async.h"
#include "smbd/lease.h"
#include "smbd/open.h"
#include "smbd/security_desc.h"
#include "smbd/server.h"
#include "smbd/session.h"
#include "smbd/share.h"
#include "smbd/smb2_handlers.h"
#include "smbd/smb2_proto.h"
#include "smbd/tcon.h"
#include "smbd/vfs.h"
#include "smbd/vfs_dosattr.h"

/* The time values in FileBasicInformation that leave a time alone (MS-FSA 2.1.5.14.2). */
#define TIME_UNCHANGED(t) ((t) == 0 || (t) == UINT64_MAX || (t) == UINT64_MAX - 1)

static NTSTATUS set_basic(struct smbd_open *o, const uint8_t *buf, size_t len)
{
	struct fscc_basic_info b;
	NTSTATUS status = fscc_decode_basic(buf, len, &b);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (!(o->access & FILE_WRITE_ATTRIBUTES))
		return NT_STATUS_ACCESS_DENIED;
	struct stat st;
	struct vfs_dos_info dos;
	status = vfs_fstat(o->fd, &st);
	if (NT_STATUS_IS_OK(status))
		status = vfs_dos_get(o->fd, &st, &dos);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (b.attributes != 0) {
		/* MS-FSA 2.1.5.14.2: DIRECTORY may not be set on a file nor TEMPORARY on a directory. */
		if ((b.attributes & FILE_ATTRIBUTE_DIRECTORY) && !o->is_dir)
			return NT_STATUS_INVALID_PARAMETER;
		if ((b.attributes & FILE_ATTRIBUTE_TEMPORARY) && o->is_dir)
			return NT_STATUS_INVALID_PARAMETER;
	}
	/* SPARSE_FILE follows FSCTL_SET_SPARSE only, as on Windows. */
	uint32_t attrs = b.attributes ? (b.attributes & ~(FILE_ATTRIBUTE_NORMAL | FILE_ATTRIBUTE_SPARSE_FILE)) |
					(dos.attributes & FILE_ATTRIBUTE_SPARSE_FILE)
				      : dos.attributes;
	if (o->is_dir)
		attrs |= FILE_ATTRIBUTE_DIRECTORY;
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };
	if (!TIME_UNCHANGED(b.last_access_time))
		fscc_timespec_from_nttime(b.last_access_time, &ts[0]);
	if (!TIME_UNCHANGED(b.last_write_time))
		fscc_timespec_from_nttime(b.last_write_time, &ts[1]);
	if (ts[0].tv_nsec != UTIME_OMIT || ts[1].tv_nsec != UTIME_OMIT) {
		status = vfs_futimens(o->fd, ts);
		if (!NT_STATUS_IS_OK(status))
			return status;
	}
	/* Last: storing the record is itself a change, and a ChangeTime the
	 * client sets is kept beside it (vfs_dosattr.h). */
	uint64_t crtime = TIME_UNCHANGED(b.creation_time) ? dos.creation_time : b.creation_time;
	bool set_change = !TIME_UNCHANGED(b.change_time);
	uint64_t change = 0;
	if (set_change) {
		change = b.change_time;
		o->user_set_change_time = true;
	} else if (o->user_set_change_time && dos.change_time_set) {
		/* MS-FSA 2.1.5.14.2: once a handle set ChangeTime, its own later
		 * changes leave it alone. */
		change = dos.change_time;
	}
	if (b.attributes != 0 || !TIME_UNCHANGED(b.creation_time) || set_change)
		return vfs_dos_set_ex(o->fd, attrs, crtime, change);
	return NT_STATUS_OK;
}

/* Another open of the same file, if any. */
struct find_other {
	const struct smbd_open *self;
	bool found;
};

static void other_cb(uint64_t id, void *obj, void *arg)
{
	struct find_other *f = arg;
	const struct smbd_open *o = obj;
	if (o != f->self && o->fd >= 0 && o->dev == f->self->dev && o->ino == f->self->ino)
		f->found = true;
}

/*
 * Windows renames by opening the target's directory to add an entry,
 * sharing reading and writing only (MS-FSA 2.1.5.14.11, the open of the
 * target directory): an open of that directory with DELETE access, or one
 * that does not share writing, makes the rename a sharing violation
 * (smbtorture smb2.oplock.exclusive6, batch19, batch20), once the leases
 * of such opens were asked to give up H and answered (smb2.dirlease.
 * rename_dst_parent of later smbtorture: a holder may close its handle).
 */
static NTSTATUS target_dir_lets_in(struct smb2_call *call, struct smbd_open *o, struct vfs_share *vfs,
				   const char *rel)
{
	const char *slash = strrchr(rel, '/');
	char *dir = slash != NULL ? talloc_strndup(o, rel, (size_t)(slash - rel)) : talloc_strdup(o, ".");
	if (dir == NULL)
		return NT_STATUS_NO_MEMORY;
	struct stat st;
	NTSTATUS status = vfs_stat(vfs, dir, &st);
	talloc_free(dir);
	if (!NT_STATUS_IS_OK(status))
		return NT_STATUS_OK; /* the rename itself says what is wrong */
	const uint32_t access = FILE_ADD_FILE | SYNCHRONIZE, share = FILE_SHARE_READ | FILE_SHARE_WRITE;
	status = smbd_share_mode_check(o->srv, st.st_dev, st.st_ino, access, share);
	if (!NT_STATUS_IS_OK(status) &&
	    smbd_share_mode_break_handles(o->srv, st.st_dev, st.st_ino, access, share, o->lease))
		return smbd_oplock_wait(call, st.st_dev, st.st_ino, smb2_set_info_retry);
	return status;
}

/* The link itself, its target checked. */
static NTSTATUS set_link(struct smbd_open *o, struct vfs_share *vfs, const char *rel, bool replace)
{
	/* A file replaced is held, as for a rename. */
	int replaced;
	NTSTATUS status = vfs_link_holding(vfs, o->rel_path, rel, replace, &replaced);
	if (replaced >= 0)
		smbd_fd_close_later(o->srv, replaced);
	/* Its directory lists the new name. */
	if (NT_STATUS_IS_OK(status))
		smbd_dir_lease_entry_changed(o->srv, o->share, rel, smbd_lease_parent_key(o->lease));
	return status;
}

static NTSTATUS set_rename(struct smb2_call *call, struct smbd_open *o, const uint8_t *buf, size_t len, bool link)
{
	struct fscc_rename_info ri;
	NTSTATUS status = fscc_decode_rename(call->req, buf, len, &ri);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (ri.root_directory != 0)
		return NT_STATUS_INVALID_PARAMETER; /* MS-SMB2 2.2.39: must be zero */
	if (!link && !(o->access & DELETE_ACCESS))
		return NT_STATUS_ACCESS_DENIED;
	if (o->tcon->read_only)
		return NT_STATUS_ACCESS_DENIED;
	const char *target = ri.file_name;
	/* Windows clients send the path from the share root, some with a leading backslash. */
	while (*target == '\\')
		target++;
	char *rel;
	status = vfs_path_from_smb(call->req, target, &rel);
	if (!NT_STATUS_IS_OK(status))
		return status;
	const char *new_name = rel; /* as the client names it, for its lease */
	if (strcmp(o->rel_path, ".") == 0)
		return NT_STATUS_ACCESS_DENIED; /* the share root stays */
	struct vfs_share *vfs = o->tcon->share->vfs;
	if (link && o->is_dir)
		return NT_STATUS_FILE_IS_A_DIRECTORY;
	if (!link && strcmp(rel, o->rel_path) == 0)
		return NT_STATUS_OK;
	/* The target's spelling on disk, unless it is this very file being
	 * renamed to another case ("a.txt" -> "A.TXT"). A link's target is
	 * always an existing name's spelling, if there is one: MS-FSA
	 * 2.1.5.15.6 looks the name up by the open's case sensitivity. */
	char *ondisk;
	bool found;
	status = vfs_resolve_case(call->req, vfs, rel, &ondisk, &found);
	if (!NT_STATUS_IS_OK(status))
		return status;
	struct stat tst;
	bool same_file = found && NT_STATUS_IS_OK(vfs_stat(vfs, ondisk, &tst)) && tst.st_dev == o->dev &&
			 tst.st_ino == o->ino;
	if (!same_file || link)
		rel = ondisk;
	status = target_dir_lets_in(call, o, vfs, rel);
	if (!NT_STATUS_IS_OK(status))
		return status;
	/* A directory with anything open beneath it keeps its name, as on
	 * Windows (smbtorture smb2.rename.rename_dir_openfile), unless those
	 * opens only cache their handles and give them up. */
	if (!link && o->is_dir) {
		status = smbd_dir_lease_clear_beneath(call, o, smb2_set_info_retry);
		if (!NT_STATUS_IS_OK(status))
			return status;
	}
	/* Renaming or linking onto an open file fails as Windows does
	 * (MS-FSA 2.1.5.14.11; FILE_LINK_POSIX_SEMANTICS exists to allow it). */
	if (!same_file && found && NT_STATUS_IS_OK(vfs_stat(vfs, rel, &tst))) {
		if (!ri.replace_if_exists)
			return NT_STATUS_OBJECT_NAME_COLLISION;
		struct smbd_open probe = { .dev = tst.st_dev, .ino = tst.st_ino, .fd = 0 };
		struct find_other f = { &probe, false };
		idtable_foreach(o->srv->opens, other_cb, &f);
		if (f.found)
			return NT_STATUS_ACCESS_DENIED;
	}
	if (link)
		return set_link(o, vfs, rel, ri.replace_if_exists);
	/* Windows breaks the H of the file's other leases and renames once
	 * their holders answer (or the break times out), so they can close
	 * what they keep open under the old name first (smbtorture
	 * smb2.lease.rename_wait). Nothing has changed yet: the wait ends in
	 * a fresh run of this SET_INFO. */
	if (smbd_lease_break_others_handles(o))
		return smbd_oplock_wait(call, o->dev, o->ino, smb2_set_info_retry);
	/* A file replaced is held across the rename: its blocks are freed
	 * by that close, on a worker if it is large (smbd_fd_release). */
	int replaced;
	status = vfs_rename_holding(vfs, o->rel_path, rel, ri.replace_if_exists, &replaced);
	if (replaced >= 0)
		smbd_fd_close_later(o->srv, replaced);
	if (!NT_STATUS_IS_OK(status))
		return status;
	LOG_DBG("renamed %s -> %s", o->rel_path, rel);
	char *old_rel = o->rel_path;
	o->rel_path = talloc_steal(o, rel);
	talloc_free(o->smb_name);
	o->smb_name = talloc_strdup(o, target);
	smbd_lease_renamed(o, new_name);
	smbd_dir_lease_renamed(o, old_rel);
	talloc_free(old_rel);
	return NT_STATUS_OK;
}

/*
 * Rename and link act on names, so the kernel checks them as the session's
 * user (write on both directories); the other classes act on the handle,
 * whose access was checked at open, and run as root: a user with write
 * access may set times on a file it does not own, as on Windows.
 */
static NTSTATUS set_name_as_user(struct smb2_call *call, struct smbd_open *o, const uint8_t *buf,
				 size_t len, bool link)
{
	if (!smbd_become(smbd_session_identity(call->session)))
		return NT_STATUS_ACCESS_DENIED;
	NTSTATUS status = set_rename(call, o, buf, len, link);
	smbd_become_root();
	return status;
}

static NTSTATUS set_delete(struct smbd_open *o, bool delete_pending)
{
	if (!(o->access & DELETE_ACCESS))
		return NT_STATUS_ACCESS_DENIED;
	if (delete_pending) {
		if (o->tcon->read_only)
			return NT_STATUS_ACCESS_DENIED;
		struct stat st;
		struct vfs_dos_info dos;
		NTSTATUS status = vfs_fstat(o->fd, &st);
		if (NT_STATUS_IS_OK(status))
			status = vfs_dos_get(o->fd, &st, &dos);
		if (!NT_STATUS_IS_OK(status))
			return status;
		if (dos.attributes & FILE_ATTRIBUTE_READONLY)
			return NT_STATUS_CANNOT_DELETE;
		if (strcmp(o->rel_path, ".") == 0)
			return NT_STATUS_ACCESS_DENIED;
		if (o->is_dir) {
			/* MS-FSA 2.1.5.14.3: a non-empty directory cannot be marked. */
			struct vfs_listing *l;
			status = vfs_list_dir(o, o->fd, 1, &l);
			bool empty = NT_STATUS_IS_OK(status) && l->n == 0;
			if (NT_STATUS_IS_OK(status))
				talloc_free(l);
			if (NT_STATUS_EQUAL(status, NT_STATUS_INSUFF_SERVER_RESOURCES) ||
			    (NT_STATUS_IS_OK(status) && !empty))
				return NT_STATUS_DIRECTORY_NOT_EMPTY;
			if (!NT_STATUS_IS_OK(status))
				return status;
		}
	}
	o->delete_on_close = delete_pending;
	o->delete_pending = delete_pending;
	if (delete_pending)
		smbd_lease_break_others_handles(o);
	return NT_STATUS_OK;
}

/* SET_INFO's reply body (MS-SMB2 2.2.40), unless a finish wrote it. */
static NTSTATUS set_info_reply(struct smb2_call *call)
{
	if (call->out.len == 0)
		wire_put_u16(&call->out, 2);
	return NT_STATUS_OK;
}

/* A size change, on an I/O worker (smbd_call_offload): shrinking a
 * large file frees its blocks, and reserving many takes a while too. */
struct resize_job {
	int fd;                       /* held (smbd_open_hold_fd_for) */
	struct smbd_open_ref ref;
	uint64_t size;
	bool allocation;              /* FileAllocationInformation, else EndOfFile */
	NTSTATUS status;
};

static void resize_work(void *arg)
{
	struct resize_job *j = arg;
	if (!j->allocation) {
		j->status = vfs_ftruncate(j->fd, j->size);
		return;
	}
	/* MS-FSA 2.1.5.14.1: a smaller allocation truncates the file. */
	struct stat st;
	j->status = vfs_fstat(j->fd, &st);
	if (NT_STATUS_IS_OK(j->status))
		j->status = j->size < (uint64_t)st.st_size ? vfs_ftruncate(j->fd, j->size)
							   : vfs_fallocate(j->fd, j->size);
}

static NTSTATUS resize_finish(struct smb2_call *call, void *arg)
{
	struct resize_job *j = arg;
	if (!NT_STATUS_IS_OK(j->status))
		return j->status;
	struct smbd_open *o = smbd_open_ref_find(call->req->conn->srv, &j->ref);
	if (o != NULL)
		smbd_dir_lease_open_changed(o); /* sizes are listed */
	return set_info_reply(call);
}

static NTSTATUS resize(struct smb2_call *call, struct smbd_open *o, uint64_t size, bool allocation)
{
	if (o->fd < 0)
		return NT_STATUS_INVALID_HANDLE;
	struct resize_job *j = talloc_zero(call->req, struct resize_job);
	if (j == NULL)
		return NT_STATUS_NO_MEMORY;
	j->fd = smbd_open_hold_fd_for(j, o, &j->ref);
	if (j->fd < 0)
		return NT_STATUS_NO_MEMORY;
	j->size = size;
	j->allocation = allocation;
	return smbd_call_offload(call, j, resize_work, resize_finish);
}

static NTSTATUS set_file(struct smb2_call *call, struct smbd_open *o, uint8_t info_class, const uint8_t *buf,
			 size_t len)
{
	uint64_t v;
	uint32_t u;
	bool b;
	NTSTATUS status;
	switch (info_class) {
	case FSCC_FILE_BASIC_INFORMATION:
		status = set_basic(o, buf, len);
		if (NT_STATUS_IS_OK(status))
			smbd_dir_lease_open_changed(o); /* attributes and times are listed */
		return status;
	case FSCC_FILE_RENAME_INFORMATION:
	case FSCC_FILE_LINK_INFORMATION:
		return set_name_as_user(call, o, buf, len, info_class == FSCC_FILE_LINK_INFORMATION);
	case FSCC_FILE_DISPOSITION_INFORMATION:
		status = fscc_decode_disposition(buf, len, &b);
		return NT_STATUS_IS_OK(status) ? set_delete(o, b) : status;
	case FSCC_FILE_DISPOSITION_INFORMATION_EX:
		status = fscc_decode_disposition_ex(buf, len, &u);
		return NT_STATUS_IS_OK(status) ? set_delete(o, u & FSCC_FILE_DISPOSITION_DELETE) : status;
	case FSCC_FILE_POSITION_INFORMATION:
		status = fscc_decode_u64(buf, len, &v);
		if (NT_STATUS_IS_OK(status))
			o->position = v;
		return status;
	case FSCC_FILE_MODE_INFORMATION:
		status = fscc_decode_mode(buf, len, &u);
		if (NT_STATUS_IS_OK(status))
			o->mode = (o->mode & ~0x36u) | (u & 0x36u);
		return status;
	case FSCC_FILE_END_OF_FILE_INFORMATION:
		status = fscc_decode_u64(buf, len, &v);
		if (!NT_STATUS_IS_OK(status))
			return status;
		if (o->is_dir)
			return NT_STATUS_INVALID_PARAMETER;
		if (!(o->access & FILE_WRITE_DATA))
			return NT_STATUS_ACCESS_DENIED;
		/* A size change ends read caching everywhere, as a write does
		 * (MS-SMB2 3.3.1.4; smbtorture smb2.oplock.batch11). */
		smbd_oplock_break_level2(o, true);
		return resize(call, o, v, false);
	case FSCC_FILE_ALLOCATION_INFORMATION: {
		status = fscc_decode_u64(buf, len, &v);
		if (!NT_STATUS_IS_OK(status))
			return status;
		if (o->is_dir)
			return NT_STATUS_INVALID_PARAMETER;
		if (!(o->access & FILE_WRITE_DATA))
			return NT_STATUS_ACCESS_DENIED;
		smbd_oplock_break_level2(o, true); /* batch12 */
		return resize(call, o, v, true);
	}
	case FSCC_FILE_VALID_DATA_LENGTH_INFORMATION:
		/* Needs SeManageVolumePrivilege on Windows, which no user holds here. */
		return NT_STATUS_PRIVILEGE_NOT_HELD;
	case FSCC_FILE_FULL_EA_INFORMATION:
		return NT_STATUS_EAS_NOT_SUPPORTED;
	default:
		return NT_STATUS_INVALID_INFO_CLASS;
	}
}

void smb2_set_info_retry(struct smb2_call *call)
{
	/* Decode afresh: nothing was changed before the wait. */
	if (!smbd_call_resume(call))
		return;
	NTSTATUS status = smb2_set_info(call);
	if (NT_STATUS_EQUAL(status, NT_STATUS_PENDING))
		return; /* waiting again */
	if (!NT_STATUS_IS_OK(status))
		call->out.len = 0;
	smbd_call_async_done(call, status);
}

NTSTATUS smb2_set_info(struct smb2_call *call)
{
	struct wire_rd *r = &call->in;
	wire_skip(r, 2);
	uint8_t info_type = wire_u8(r);
	uint8_t info_class = wire_u8(r);
	uint32_t buf_len = wire_u32(r);
	uint16_t buf_off = wire_u16(r);
	wire_skip(r, 2);
	uint32_t additional = wire_u32(r);
	uint64_t fid_p = wire_u64(r);
	uint64_t fid_v = wire_u64(r);
	struct wire_rd data;
	if (!wire_ok(r) || !wire_slice(&call->in, buf_off, buf_len, &data))
		return NT_STATUS_INVALID_PARAMETER;
	if (buf_len > call->req->conn->max_transact)
		return NT_STATUS_INVALID_PARAMETER;
	struct smbd_open *o;
	NTSTATUS status = smbd_call_open(call, fid_p, fid_v, &o);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (o->pipe)
		return NT_STATUS_INVALID_PARAMETER;
	const uint8_t *buf = wire_ptr(&data, buf_len);
	switch (info_type) {
	case SMB2_0_INFO_FILE:
		status = set_file(call, o, info_class, buf, buf_len);
		break;
	case SMB2_0_INFO_FILESYSTEM:
		status = NT_STATUS_ACCESS_DENIED; /* volume settings are the admin's */
		break;
	case SMB2_0_INFO_SECURITY:
		status = smbd_security_desc_set(o->fd, o->access, additional, buf, buf_len);
		break;
	case SMB2_0_INFO_QUOTA:
		status = NT_STATUS_NOT_SUPPORTED;
		break;
	default:
		status = NT_STATUS_INVALID_PARAMETER;
	}
	if (!NT_STATUS_IS_OK(status))
		return status;
	return set_info_reply(call);
}
