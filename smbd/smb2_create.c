/*
 * CREATE (MS-SMB2 2.2.13, 2.2.14, 3.3.5.9; semantics from MS-FSA 2.1.5.1).
 */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "lib/fscc.h"
#include "lib/log.h"
#include "lib/rpc/rpc_server.h"
#include "lib/unicode.h"
#include "smbd/conn.h"
#include "smbd/dispatch.h"
#include "smbd/file_state.h"
#include "smbd/fileinfo.h"
#include "smbd/identity.h"
#include "smbd/open.h"
#include "smbd/posix_access.h"
#include "smbd/security_desc.h"
#include "smbd/server.h"
#include "smbd/session.h"
#include "smbd/share.h"
#include "smbd/smb2_handlers.h"
#include "smbd/smb2_proto.h"
#include "smbd/tcon.h"
#include "smbd/vfs.h"
#include "smbd/vfs_dosattr.h"

/* MS-SMB2 2.2.13: bits of DesiredAccess that must be zero. */
#define ACCESS_MASK_RESERVED 0x0CE0FE00u
/* What CREATE stores of the requested attributes. */
#define CREATE_KEPT_ATTRIBUTES (FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM | \
				FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_TEMPORARY | FILE_ATTRIBUTE_OFFLINE)
/* MS-FSCC 2.6: attributes a client may set. */
#define SETTABLE_ATTRIBUTES 0x00007FB7u
#define WRITE_ACCESS (FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_WRITE_EA | FILE_WRITE_ATTRIBUTES | \
		      DELETE_ACCESS | WRITE_DAC | WRITE_OWNER | FILE_DELETE_CHILD)

struct create_in {
	uint8_t oplock_level;
	uint32_t impersonation;
	uint32_t desired_access;
	uint32_t file_attributes;
	uint32_t share_access;
	uint32_t disposition;
	uint32_t options;
	char *name;              /* UTF-8, as sent */
	bool want_mxac;
	bool want_qfid;
	bool have_alloc_size;
	uint64_t alloc_size;
	uint64_t timewarp;       /* "TWrp": a previous version by NT time */
	const uint8_t *secd;     /* "SecD": a validated self-relative descriptor, in the request */
	uint32_t secd_len;
	uint32_t maximal_access; /* out: what MxAc reports for this object */
};

/* The create contexts we act on; the rest are ignored (MS-SMB2 3.3.5.9). */
static NTSTATUS parse_contexts(struct smb2_call *call, uint32_t off, uint32_t len, struct create_in *in)
{
	struct wire_rd all;
	if (len == 0)
		return NT_STATUS_OK;
	if (!wire_slice(&call->in, off, len, &all))
		return NT_STATUS_INVALID_PARAMETER;
	size_t pos = 0;
	for (unsigned n = 0; n < 64; n++) {
		struct wire_rd c;
		if (!wire_slice(&all, pos, len - pos, &c))
			return NT_STATUS_INVALID_PARAMETER;
		uint32_t next = wire_u32(&c);
		uint16_t name_off = wire_u16(&c);
		uint16_t name_len = wire_u16(&c);
		wire_skip(&c, 2);
		uint16_t data_off = wire_u16(&c);
		uint32_t data_len = wire_u32(&c);
		size_t this_len = next ? next : len - pos;
		struct wire_rd name, data;
		if (!wire_ok(&c) || (next && (next % 8 || next > len - pos)) ||
		    !wire_slice(&c, name_off, name_len, &name) || !wire_slice(&c, data_off, data_len, &data) ||
		    (uint64_t)name_off + name_len > this_len || (data_len && (uint64_t)data_off + data_len > this_len))
			return NT_STATUS_INVALID_PARAMETER;
		/* Windows refuses tags shorter than 4 bytes (smbtorture create.blob). */
		if (name_len < 4)
			return NT_STATUS_INVALID_PARAMETER;
		const uint8_t *tag = wire_ptr(&name, name_len);
		if (name_len == 4 && memcmp(tag, "AlSi", 4) == 0) {
			/* MS-SMB2 2.2.13.2.6: applies when the file is created or overwritten. */
			in->alloc_size = wire_u64(&data);
			if (!wire_ok(&data))
				return NT_STATUS_INVALID_PARAMETER;
			in->have_alloc_size = true;
		} else if (name_len == 4 && memcmp(tag, "TWrp", 4) == 0) {
			in->timewarp = wire_u64(&data);
			if (!wire_ok(&data))
				return NT_STATUS_INVALID_PARAMETER;
		} else if (name_len == 4 && memcmp(tag, "MxAc", 4) == 0)
			in->want_mxac = true;
		else if (name_len == 4 && memcmp(tag, "QFid", 4) == 0)
			in->want_qfid = true;
		else if (name_len == 4 && memcmp(tag, "SecD", 4) == 0) {
			struct smbd_sd sd;
			in->secd = wire_ptr(&data, data_len);
			in->secd_len = data_len;
			if (in->secd == NULL || !NT_STATUS_IS_OK(smbd_sd_parse(in->secd, data_len, &sd)))
				return NT_STATUS_INVALID_PARAMETER;
		}
		if (next == 0)
			return NT_STATUS_OK;
		pos += next;
	}
	return NT_STATUS_INVALID_PARAMETER;
}

static NTSTATUS decode(struct smb2_call *call, struct create_in *in)
{
	struct wire_rd *r = &call->in;
	wire_skip(r, 2);
	wire_skip(r, 1); /* SecurityFlags */
	in->oplock_level = wire_u8(r);
	in->impersonation = wire_u32(r);
	wire_skip(r, 16); /* SmbCreateFlags, Reserved */
	in->desired_access = wire_u32(r);
	in->file_attributes = wire_u32(r);
	in->share_access = wire_u32(r);
	in->disposition = wire_u32(r);
	in->options = wire_u32(r);
	uint16_t name_off = wire_u16(r);
	uint16_t name_len = wire_u16(r);
	uint32_t ctx_off = wire_u32(r);
	uint32_t ctx_len = wire_u32(r);
	if (!wire_ok(r))
		return NT_STATUS_INVALID_PARAMETER;
	/* MS-SMB2 3.3.5.9: parameter checks, in Windows' order. */
	if (in->impersonation > SMB2_IMPERSONATION_DELEGATE)
		return NT_STATUS_BAD_IMPERSONATION_LEVEL;
	if ((in->options & FILE_CREATE_OPTIONS_RESERVED) ||
	    ((in->options & FILE_DIRECTORY_FILE) && (in->options & FILE_NON_DIRECTORY_FILE)))
		return NT_STATUS_INVALID_PARAMETER;
	if (in->desired_access & ACCESS_MASK_RESERVED)
		return NT_STATUS_ACCESS_DENIED;
	/* Tree connections, opens by file id and oplock filters are not
	 * offered (MS-SMB2 3.3.5.9: NOT_SUPPORTED, as smbtorture create.gentest
	 * sees from Windows). */
	if (in->options & (FILE_CREATE_TREE_CONNECTION | FILE_OPEN_BY_FILE_ID | FILE_RESERVE_OPFILTER))
		return NT_STATUS_NOT_SUPPORTED;
	/* The SACL right needs SeSecurityPrivilege, which no user holds here. */
	if (in->desired_access & ACCESS_SYSTEM_SECURITY)
		return NT_STATUS_PRIVILEGE_NOT_HELD;
	if (in->disposition > FILE_OVERWRITE_IF || (in->file_attributes & ~SETTABLE_ATTRIBUTES) ||
	    in->share_access > (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE))
		return NT_STATUS_INVALID_PARAMETER;
	if (name_len % 2)
		return NT_STATUS_INVALID_PARAMETER;
	struct wire_rd nr;
	if (name_len == 0) {
		in->name = talloc_strdup(call->req, "");
	} else {
		if (!wire_slice(&call->in, name_off, name_len, &nr))
			return NT_STATUS_INVALID_PARAMETER;
		in->name = utf16le_name_to_utf8(call->req, wire_ptr(&nr, name_len), name_len);
	}
	if (in->name == NULL)
		return NT_STATUS_OBJECT_NAME_INVALID;
	return parse_contexts(call, ctx_off, ctx_len, in);
}

/* MS-SMB2 2.2.13.1 / MS-DTYP 2.4.3: generic rights to specific ones. */
static uint32_t map_generic(uint32_t access, uint32_t maximal)
{
	if (access & GENERIC_READ)
		access |= FILE_GENERIC_READ;
	if (access & GENERIC_WRITE)
		access |= FILE_GENERIC_WRITE;
	if (access & GENERIC_EXECUTE)
		access |= FILE_GENERIC_EXECUTE;
	if (access & GENERIC_ALL)
		access |= FILE_ALL_ACCESS;
	if (access & MAXIMUM_ALLOWED)
		access |= maximal;
	return access & ~(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL | MAXIMUM_ALLOWED |
			  ACCESS_SYSTEM_SECURITY);
}

static void encode_contexts(struct smb2_call *call, const struct create_in *in, const struct smbd_open *o,
			    uint32_t *off_out, uint32_t *len_out)
{
	struct wire_wr *w = &call->out;
	size_t prev = SIZE_MAX;
	*off_out = *len_out = 0;
	if (!in->want_mxac && !in->want_qfid)
		return;
	wire_put_align(w, 8);
	size_t start = w->len;
	*off_out = smb2_call_out_offset(call);
	/* Each context: Next, NameOffset 16, NameLength 4, Reserved, DataOffset 24, DataLength. */
	if (in->want_mxac) {
		prev = w->len;
		wire_put_u32(w, 0);
		wire_put_u16(w, 16);
		wire_put_u16(w, 4);
		wire_put_u16(w, 0);
		wire_put_u16(w, 24);
		wire_put_u32(w, 8);
		wire_put_bytes(w, "MxAc", 4);
		wire_put_u32(w, 0);
		wire_put_u32(w, 0); /* QueryStatus */
		wire_put_u32(w, in->maximal_access);
	}
	if (in->want_qfid) {
		wire_put_align(w, 8);
		if (prev != SIZE_MAX)
			wire_patch_u32(w, prev, (uint32_t)(w->len - prev));
		wire_put_u32(w, 0);
		wire_put_u16(w, 16);
		wire_put_u16(w, 4);
		wire_put_u16(w, 0);
		wire_put_u16(w, 24);
		wire_put_u32(w, 32);
		wire_put_bytes(w, "QFid", 4);
		wire_put_u32(w, 0);
		/* MS-SMB2 2.2.14.2.9: DiskFileId (8 bytes file id, 8 bytes volume id), 16 reserved. */
		wire_put_u64(w, o->file_id);
		wire_put_u64(w, (uint64_t)o->dev);
		wire_put_zeros(w, 16);
	}
	*len_out = (uint32_t)(w->len - start);
}

static NTSTATUS encode(struct smb2_call *call, const struct create_in *in, struct smbd_open *o,
		       const struct fscc_file_info *fi, uint32_t action)
{
	struct wire_wr *w = &call->out;
	wire_put_u16(w, 89);
	wire_put_u8(w, o->oplock_level);
	wire_put_u8(w, 0);
	wire_put_u32(w, action);
	wire_put_u64(w, fi->creation_time);
	wire_put_u64(w, fi->last_access_time);
	wire_put_u64(w, fi->last_write_time);
	wire_put_u64(w, fi->change_time);
	wire_put_u64(w, fi->allocation_size);
	wire_put_u64(w, fi->end_of_file);
	wire_put_u32(w, fscc_effective_attributes(fi));
	wire_put_u32(w, 0);
	wire_put_u64(w, o->persistent_id);
	wire_put_u64(w, o->volatile_id);
	size_t ctx_pos = wire_reserve(w, 8);
	uint32_t ctx_off, ctx_len;
	encode_contexts(call, in, o, &ctx_off, &ctx_len);
	wire_patch_u32(w, ctx_pos, ctx_off);
	wire_patch_u32(w, ctx_pos + 4, ctx_len);
	if (w->len < 89 - 1)
		wire_put_zeros(w, 1); /* the one-byte Buffer */
	return wire_wr_ok(w) ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

static size_t list_shares_cb(void *private_data, TALLOC_CTX *mem, struct rpc_share_info **out);

static NTSTATUS create_pipe(struct smb2_call *call, struct create_in *in)
{
	struct smbd_server *srv = call->req->conn->srv;
	struct rpc_server_info *info = talloc_zero(call->tcon, struct rpc_server_info);
	if (info == NULL)
		return NT_STATUS_NO_MEMORY;
	info->server_name = srv->cfg->netbios_name;
	info->comment = srv->cfg->server_string;
	info->list_shares = list_shares_cb;
	info->private_data = srv;
	struct smbd_open *o = smbd_open_new(call->tcon, -1);
	if (o == NULL)
		return NT_STATUS_INSUFFICIENT_RESOURCES;
	talloc_steal(o, info);
	o->pipe = rpc_pipe_open(o, in->name, info);
	if (o->pipe == NULL) {
		smbd_open_close(o);
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}
	o->access = map_generic(in->desired_access, FILE_ALL_ACCESS);
	o->smb_name = talloc_strdup(o, in->name);
	struct fscc_file_info fi = { .attributes = FILE_ATTRIBUTE_NORMAL };
	smbd_call_set_related_open(call, o->persistent_id, o->volatile_id);
	return encode(call, in, o, &fi, FILE_OPENED);
}

static size_t list_shares_cb(void *private_data, TALLOC_CTX *mem, struct rpc_share_info **out)
{
	struct smbd_server *srv = private_data;
	struct rpc_share_info *v = talloc_zero_array(mem, struct rpc_share_info, srv->n_shares);
	size_t n = 0;
	if (v == NULL)
		return 0;
	for (size_t i = 0; i < srv->n_shares; i++) {
		const struct smbd_share *sh = srv->shares[i];
		if (sh->is_ipc) {
			/* MS-SRVS 2.2.2.4: STYPE_IPC | STYPE_SPECIAL */
			v[n++] = (struct rpc_share_info){ "IPC$", 0x80000003u, "IPC Service", "", 0 };
			continue;
		}
		if (!sh->cfg->browseable)
			continue;
		char *winpath = talloc_asprintf(v, "C:%s", sh->cfg->path);
		for (char *p = winpath; p && *p; p++)
			if (*p == '/')
				*p = '\\';
		v[n++] = (struct rpc_share_info){ sh->name, 0, sh->cfg->comment ? sh->cfg->comment : "", winpath, 0 };
	}
	*out = v;
	return n;
}

/* OBJECT_PATH_NOT_FOUND when a parent is missing, else NAME_NOT_FOUND (MS-FSA 2.1.5.1). */
static NTSTATUS missing_status(struct vfs_share *vfs, TALLOC_CTX *mem, const char *rel)
{
	char *parent, *leaf;
	struct stat st;
	if (!NT_STATUS_IS_OK(vfs_path_split(mem, rel, &parent, &leaf)))
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	NTSTATUS status = vfs_stat(vfs, parent, &st);
	if (!NT_STATUS_IS_OK(status) || !S_ISDIR(st.st_mode))
		return NT_STATUS_OBJECT_PATH_NOT_FOUND;
	return NT_STATUS_OBJECT_NAME_NOT_FOUND;
}

/*
 * Opens an existing object, whose rights were checked, as the user (so
 * the kernel checks again). One exception: an open for attributes only of
 * something the user may not read (stat opens, Windows grants them by
 * the parent's list right) takes an fd as root, by re-opening an O_PATH fd
 * the user's own walk produced and checking the inode is the same, so a
 * rename racing with us cannot point root at anything else.
 */
static NTSTATUS open_existing(struct vfs_share *vfs, const struct smbd_identity *id, const char *rel,
			      bool is_dir, bool write, bool overwrite, bool can_read, int *fd_out)
{
	int flags = O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	if (is_dir)
		flags |= O_RDONLY | O_DIRECTORY;
	else if (write)
		flags |= can_read ? O_RDWR : O_WRONLY;
	else
		flags |= O_RDONLY;
	if (overwrite)
		flags |= O_TRUNC;
	if (can_read || (write && !is_dir))
		return vfs_open(vfs, rel, flags, 0, fd_out);

	int path_fd;
	NTSTATUS status = vfs_open(vfs, rel, O_PATH, 0, &path_fd);
	if (!NT_STATUS_IS_OK(status))
		return status;
	smbd_become_root();
	status = vfs_reopen(vfs, rel, path_fd, flags, fd_out);
	if (!smbd_become(id)) {
		if (NT_STATUS_IS_OK(status))
			close(*fd_out);
		status = NT_STATUS_ACCESS_DENIED;
	}
	close(path_fd);
	return status;
}

static NTSTATUS create_file(struct smb2_call *call, struct create_in *in)
{
	struct smbd_tcon *tcon = call->tcon;
	struct vfs_share *vfs = tcon->share->vfs;
	/* What was asked for explicitly must be within the share's grant and
	 * (for an existing object) the user's POSIX rights; MAXIMUM_ALLOWED
	 * adds whatever both grant. */
	uint32_t access = map_generic(in->desired_access & ~MAXIMUM_ALLOWED, 0);
	const struct smbd_identity *id = smbd_session_identity(call->session);
	char *rel;

	NTSTATUS status = vfs_path_from_smb(call->req, in->name, &rel);
	if (!NT_STATUS_IS_OK(status))
		return status;
	/* A previous version (MS-SMB2 2.2.13.2.7): no snapshot exists to open
	 * until shadow copies are served, so none is found. */
	if (in->timewarp != 0)
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	/* Windows names are case-insensitive: use the spelling on disk. */
	char *ondisk;
	bool found;
	status = vfs_resolve_case(call->req, vfs, rel, &ondisk, &found);
	if (!NT_STATUS_IS_OK(status))
		return status;
	rel = ondisk;
	if (id == NULL)
		return NT_STATUS_NO_MEMORY;
	if (access & ~tcon->maximal_access)
		return NT_STATUS_ACCESS_DENIED;
	bool max_allowed = in->desired_access & MAXIMUM_ALLOWED;
	if (max_allowed)
		access |= tcon->maximal_access;
	if ((in->options & FILE_DELETE_ON_CLOSE) && !(access & DELETE_ACCESS))
		return NT_STATUS_ACCESS_DENIED;
	in->maximal_access = tcon->maximal_access;

	struct stat st;
	status = vfs_stat(vfs, rel, &st);
	bool exists = NT_STATUS_IS_OK(status);
	if (!exists && !NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_NAME_NOT_FOUND) &&
	    !NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_PATH_NOT_FOUND))
		return status;
	if (exists && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return NT_STATUS_ACCESS_DENIED; /* devices, FIFOs, sockets are not served */

	uint32_t action;
	uint8_t granted = SMB2_OPLOCK_LEVEL_NONE;
	bool want_dir = in->options & FILE_DIRECTORY_FILE;
	int fd = -1;
	if (exists) {
		bool is_dir = S_ISDIR(st.st_mode);
		if (smbd_file_delete_pending(call->req->conn->srv, st.st_dev, st.st_ino))
			return NT_STATUS_DELETE_PENDING;
		if (in->disposition == FILE_CREATE)
			return NT_STATUS_OBJECT_NAME_COLLISION;
		if (is_dir && (in->options & FILE_NON_DIRECTORY_FILE))
			return NT_STATUS_FILE_IS_A_DIRECTORY;
		if (!is_dir && want_dir)
			return NT_STATUS_NOT_A_DIRECTORY;
		bool overwrite = in->disposition == FILE_OVERWRITE || in->disposition == FILE_OVERWRITE_IF ||
				 in->disposition == FILE_SUPERSEDE;
		if (is_dir && overwrite)
			return NT_STATUS_INVALID_PARAMETER;
		if (overwrite && tcon->read_only)
			return NT_STATUS_ACCESS_DENIED;
		uint32_t posix;
		status = smbd_posix_access(vfs, rel, id->uid, &posix);
		if (!NT_STATUS_IS_OK(status))
			return status;
		in->maximal_access &= posix;
		if (max_allowed)
			access &= in->maximal_access | map_generic(in->desired_access & ~MAXIMUM_ALLOWED, 0);
		if (access & ~posix || (overwrite && !(posix & FILE_WRITE_DATA)))
			return NT_STATUS_ACCESS_DENIED;
		struct vfs_dos_info dos;
		status = vfs_dos_get_at(vfs, rel, &st, &dos);
		if (!NT_STATUS_IS_OK(status))
			return status;
		if ((dos.attributes & FILE_ATTRIBUTE_READONLY) && !is_dir) {
			/* MS-FSA 2.1.5.1.2.1: a read-only file refuses write and delete. */
			if (in->options & FILE_DELETE_ON_CLOSE)
				return NT_STATUS_CANNOT_DELETE;
			if (access & (FILE_WRITE_DATA | FILE_APPEND_DATA) || overwrite)
				return NT_STATUS_ACCESS_DENIED;
		}
		if (!is_dir) {
			/* Another client's exclusive or batch oplock is broken
			 * first; this CREATE then runs again (MS-SMB2 3.3.5.9). */
			status = smbd_oplock_check(call->req->conn->srv, st.st_dev, st.st_ino, in->oplock_level,
						   overwrite, 0, &granted);
			if (NT_STATUS_EQUAL(status, NT_STATUS_PENDING))
				return smbd_oplock_wait(call, st.st_dev, st.st_ino);
			if (!NT_STATUS_IS_OK(status))
				return status;
		}
		/* After any oplock break, so a holder that closed on the break
		 * no longer stands in the way (MS-FSA 2.1.5.1.2). */
		status = smbd_share_mode_check(call->req->conn->srv, st.st_dev, st.st_ino, access, in->share_access);
		if (!NT_STATUS_IS_OK(status))
			return status;
		status = open_existing(vfs, id, rel, is_dir, !tcon->read_only &&
						(access & (FILE_WRITE_DATA | FILE_APPEND_DATA) || overwrite),
				       overwrite, posix & FILE_READ_DATA, &fd);
		if (!NT_STATUS_IS_OK(status))
			return status;
		action = in->disposition == FILE_SUPERSEDE ? FILE_SUPERSEDED : overwrite ? FILE_OVERWRITTEN : FILE_OPENED;
		if (overwrite) {
			/* MS-FSA 2.1.5.1.2.1: overwrite replaces the attributes, keeping DIRECTORY off. */
			/* The sparse state is the file's, set only by FSCTL_SET_SPARSE. */
			vfs_dos_set(fd, (in->file_attributes & ~FILE_ATTRIBUTE_SPARSE_FILE) |
						(dos.attributes & FILE_ATTRIBUTE_SPARSE_FILE) | FILE_ATTRIBUTE_ARCHIVE,
				    dos.creation_time);
		}
	} else {
		if (in->disposition == FILE_OPEN || in->disposition == FILE_OVERWRITE)
			return missing_status(vfs, call->req, rel);
		if (tcon->read_only)
			return NT_STATUS_ACCESS_DENIED;
		if (strcmp(rel, ".") == 0)
			return NT_STATUS_OBJECT_NAME_COLLISION;
		if (in->file_attributes & FILE_ATTRIBUTE_READONLY && in->options & FILE_DELETE_ON_CLOSE)
			return NT_STATUS_CANNOT_DELETE;
		if (want_dir) {
			status = vfs_mkdir(vfs, rel, 0755);
			if (NT_STATUS_IS_OK(status))
				status = vfs_open(vfs, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, &fd);
		} else {
			status = vfs_open(vfs, rel, O_RDWR | O_CREAT | O_EXCL | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0644,
					  &fd);
		}
		if (NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_NAME_NOT_FOUND) ||
		    NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_PATH_NOT_FOUND))
			return missing_status(vfs, call->req, rel);
		if (!NT_STATUS_IS_OK(status))
			return status;
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		/* Of what a client asks for at create, Windows keeps only these
		 * (smbtorture create.gentest); SPARSE_FILE comes from
		 * FSCTL_SET_SPARSE, ENCRYPTED would be a promise not kept. */
		uint32_t attrs = in->file_attributes & CREATE_KEPT_ATTRIBUTES;
		attrs |= want_dir ? FILE_ATTRIBUTE_DIRECTORY : FILE_ATTRIBUTE_ARCHIVE;
		vfs_dos_set(fd, attrs, fscc_nttime_from_timespec(&now));
		action = FILE_CREATED;
		/* The SecD context, or what the parent directory passes on (MS-DTYP 2.5.3.4). */
		status = smbd_security_desc_on_create(vfs, rel, fd, want_dir, in->secd, in->secd_len);
		if (!NT_STATUS_IS_OK(status)) {
			close(fd);
			want_dir ? vfs_rmdir(vfs, rel) : vfs_unlink(vfs, rel);
			return status;
		}
		if (!want_dir && in->oplock_level != SMB2_OPLOCK_LEVEL_LEASE)
			granted = in->oplock_level;
	}

	struct smbd_open *o = smbd_open_new(tcon, fd);
	if (o == NULL)
		return NT_STATUS_INSUFFICIENT_RESOURCES;
	o->rel_path = talloc_steal(o, rel);
	o->smb_name = talloc_strdup(o, in->name);
	o->access = access;
	o->share_access = in->share_access;
	o->create_options = in->options;
	o->delete_on_close = in->options & FILE_DELETE_ON_CLOSE;
	o->mode = in->options & (FILE_WRITE_THROUGH | FILE_SEQUENTIAL_ONLY | FILE_NO_INTERMEDIATE_BUFFERING |
				 FILE_SYNCHRONOUS_IO_ALERT | FILE_SYNCHRONOUS_IO_NONALERT | FILE_DELETE_ON_CLOSE);
	struct fscc_file_info fi;
	status = smbd_open_fileinfo(o, &fi);
	if (!NT_STATUS_IS_OK(status)) {
		smbd_open_close(o);
		return status;
	}
	o->is_dir = fi.is_directory;
	o->file_id = fi.file_id;
	struct stat ost;
	status = vfs_fstat(o->fd, &ost);
	if (!NT_STATUS_IS_OK(status)) {
		smbd_open_close(o);
		return status;
	}
	o->dev = ost.st_dev;
	o->ino = ost.st_ino;
	if (!smbd_file_add_open(call->req->conn->srv, o)) {
		smbd_open_close(o);
		return NT_STATUS_NO_MEMORY;
	}
	o->oplock_level = granted;
	if (in->have_alloc_size && !o->is_dir && action != FILE_OPENED) {
		status = vfs_fallocate(o->fd, in->alloc_size);
		if (!NT_STATUS_IS_OK(status)) {
			smbd_open_close(o);
			return status;
		}
		status = smbd_open_fileinfo(o, &fi);
		if (!NT_STATUS_IS_OK(status)) {
			smbd_open_close(o);
			return status;
		}
	}
	smbd_call_set_related_open(call, o->persistent_id, o->volatile_id);
	LOG_DBG("create '%s' -> %s action %u", in->name, rel, action);
	return encode(call, in, o, &fi, action);
}

void smb2_create_retry(struct smb2_call *call)
{
	/* Not through the dispatcher: take on the session's identity here. */
	if (!smbd_become(smbd_session_identity(call->session))) {
		smbd_call_async_done(call, NT_STATUS_ACCESS_DENIED);
		return;
	}
	/* Decode afresh: the handler is idempotent up to its first change. */
	wire_rd_init(&call->in, call->in_hdr, call->in_len);
	wire_seek(&call->in, SMB2_HDR_LEN);
	wire_wr_init(&call->out, call->req, 128);
	NTSTATUS status = smb2_create(call);
	if (NT_STATUS_EQUAL(status, NT_STATUS_PENDING))
		return; /* waiting again */
	if (!NT_STATUS_IS_OK(status)) {
		call->out.len = 0;
		call->req->related_status = status;
	}
	smbd_become_root();
	smbd_call_async_done(call, status);
}

NTSTATUS smb2_create(struct smb2_call *call)
{
	struct create_in in = { 0 };
	NTSTATUS status = decode(call, &in);
	if (!NT_STATUS_IS_OK(status))
		return status;
	/* Before anything is created or truncated ("max open files"). */
	status = smbd_open_check_limit(call->tcon);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (call->tcon->share->is_ipc)
		return create_pipe(call, &in);
	return create_file(call, &in);
}
