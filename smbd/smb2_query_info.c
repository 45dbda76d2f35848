/* QUERY_INFO (MS-SMB2 2.2.37, 2.2.38, 3.3.5.20) */
#include "config.h"

#include <string.h>
#include <sys/statvfs.h>
#include <talloc.h>

#include "conf/conf.h"
#include "lib/fscc.h"
#include "smbd/conn.h"
#include "smbd/dispatch.h"
#include "smbd/fileinfo.h"
#include "smbd/open.h"
#include "smbd/security_desc.h"
#include "smbd/server.h"
#include "smbd/share.h"
#include "smbd/smb2_handlers.h"
#include "smbd/smb2_proto.h"
#include "smbd/tcon.h"
#include "smbd/vfs.h"

struct query_info_in {
	uint8_t info_type;
	uint8_t info_class;
	uint32_t out_len;
	uint32_t additional;
	uint32_t flags;
	uint64_t fid_p, fid_v;
};

/* Writes the response around 'data'; status decides how much is sent. */
static NTSTATUS reply(struct smb2_call *call, const struct wire_wr *data, size_t send_len, NTSTATUS status)
{
	struct wire_wr *w = &call->out;
	wire_put_u16(w, 9);
	wire_put_u16(w, SMB2_HDR_LEN + 8);
	wire_put_u32(w, (uint32_t)send_len);
	wire_put_bytes(w, data->buf, send_len);
	if (send_len == 0)
		wire_put_u8(w, 0);
	return wire_wr_ok(w) ? status : NT_STATUS_NO_MEMORY;
}

/* MS-SMB2 3.3.5.20.1 */
static NTSTATUS query_file(struct smb2_call *call, struct smbd_open *o, const struct query_info_in *in)
{
	struct fscc_file_info fi;
	NTSTATUS status = smbd_open_fileinfo(o, &fi);
	if (!NT_STATUS_IS_OK(status))
		return status;
	/* FileNameInformation carries the path from the share root with a leading backslash. */
	char *name = talloc_asprintf(call->req, "\\%s", o->smb_name ? o->smb_name : "");
	if (name == NULL)
		return NT_STATUS_NO_MEMORY;
	fi.name = in->info_class == FSCC_FILE_NORMALIZED_NAME_INFORMATION ? name + 1 : name;
	struct stat st;
	struct fscc_open_info oi = {
		.access_mask = o->access,
		.position = o->position,
		.mode = o->mode,
		.volume_serial = NT_STATUS_IS_OK(vfs_fstat(o->fd, &st)) ? (uint64_t)st.st_dev : 0,
	};
	struct wire_wr data;
	wire_wr_init(&data, call->req, 256);
	if (in->info_class == FSCC_FILE_FULL_EA_INFORMATION)
		return NT_STATUS_EAS_NOT_SUPPORTED; /* as SET_INFO: no EA support is advertised */
	if (in->info_class == FSCC_FILE_STREAM_INFORMATION) {
		/* Directories have no data stream; files have only ::$DATA until streams are served. */
		struct fscc_stream s = { "::$DATA", fi.end_of_file, fi.allocation_size };
		status = fscc_stream_info_encode(&s, fi.is_directory ? 0 : 1, in->out_len, &data);
		if (NT_STATUS_IS_ERR(status))
			return status;
		return reply(call, &data, data.len, status);
	}
	status = fscc_file_info_encode(in->info_class, &fi, &oi, &data);
	if (!NT_STATUS_IS_OK(status))
		return status;
	size_t send_len;
	status = fscc_file_info_fit(in->info_class, data.len, in->out_len, &send_len);
	if (NT_STATUS_IS_ERR(status))
		return status;
	return reply(call, &data, send_len, status);
}

/* MS-SMB2 3.3.5.20.2 */
static NTSTATUS query_fs(struct smb2_call *call, struct smbd_open *o, const struct query_info_in *in)
{
	struct smbd_server *srv = call->req->conn->srv;
	struct statvfs sv;
	NTSTATUS status = vfs_statvfs(o->tcon->share->vfs, &sv);
	if (!NT_STATUS_IS_OK(status))
		return status;
	struct stat st;
	vfs_fstat(o->fd, &st);
	uint32_t bsize = sv.f_frsize ? (uint32_t)sv.f_frsize : 4096;
	struct fscc_fs_info fs = {
		.total_units = sv.f_blocks,
		.free_units = sv.f_bfree,
		.avail_units = sv.f_bavail,
		.bytes_per_sector = 512,
		.sectors_per_unit = bsize / 512 ? bsize / 512 : 1,
		.volume_serial = (uint32_t)st.st_dev,
		.volume_label = o->tcon->share->name,
		.fs_name = "NTFS",
		.fs_attributes = FSCC_FS_CASE_SENSITIVE_SEARCH | FSCC_FS_CASE_PRESERVED_NAMES |
				 FSCC_FS_UNICODE_ON_DISK | FSCC_FS_PERSISTENT_ACLS | FSCC_FS_SUPPORTS_SPARSE_FILES |
				 FSCC_FS_SUPPORTS_HARD_LINKS |
				 (o->tcon->share->can_reflink ? FSCC_FS_SUPPORTS_BLOCK_REFCOUNTING : 0) |
				 (o->tcon->read_only ? FSCC_FS_READ_ONLY_VOLUME : 0),
		.max_name_len = 255,
		.volume_creation_time = srv->start_time,
		/* NTFS with quotas switched off: Windows clients query the class. */
		.quota_supported = true,
	};
	memcpy(fs.object_id, srv->server_guid, 16);
	struct wire_wr data;
	wire_wr_init(&data, call->req, 128);
	status = fscc_fs_info_encode(in->info_class, &fs, &data);
	if (!NT_STATUS_IS_OK(status))
		return status;
	size_t send_len;
	status = fscc_fs_info_fit(in->info_class, data.len, in->out_len, &send_len);
	if (NT_STATUS_IS_ERR(status))
		return status;
	return reply(call, &data, send_len, status);
}

/* MS-SMB2 3.3.5.20.3 */
static NTSTATUS query_security(struct smb2_call *call, struct smbd_open *o, const struct query_info_in *in)
{
	struct wire_wr data;
	wire_wr_init(&data, call->req, 128);
	NTSTATUS status = smbd_security_desc_query(call->req, o->fd, o->access, in->additional,
						   o->tcon->maximal_access, &data);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (data.len > in->out_len) {
		/* MS-SMB2 3.3.5.20.3: the error carries the size needed. */
		struct wire_wr *w = &call->out;
		wire_put_u16(w, 9);
		wire_put_u8(w, 0);
		wire_put_u8(w, 0);
		wire_put_u32(w, 4);
		wire_put_u32(w, (uint32_t)data.len);
		return NT_STATUS_BUFFER_TOO_SMALL;
	}
	return reply(call, &data, data.len, NT_STATUS_OK);
}

NTSTATUS smb2_query_info(struct smb2_call *call)
{
	struct smbd_conn *conn = call->req->conn;
	struct query_info_in in;
	struct wire_rd *r = &call->in;
	wire_skip(r, 2);
	in.info_type = wire_u8(r);
	in.info_class = wire_u8(r);
	in.out_len = wire_u32(r);
	uint16_t input_off = wire_u16(r);
	wire_skip(r, 2);
	uint32_t input_len = wire_u32(r);
	in.additional = wire_u32(r);
	in.flags = wire_u32(r);
	in.fid_p = wire_u64(r);
	in.fid_v = wire_u64(r);
	struct wire_rd input;
	if (!wire_ok(r) || (input_len && !wire_slice(&call->in, input_off, input_len, &input)))
		return NT_STATUS_INVALID_PARAMETER;
	/* MS-SMB2 3.3.5.20: sizes and the charge are checked before anything else. */
	if (in.out_len > conn->max_transact || input_len > conn->max_transact)
		return NT_STATUS_INVALID_PARAMETER;
	NTSTATUS status = smbd_call_check_charge(call, in.out_len > input_len ? in.out_len : input_len);
	if (!NT_STATUS_IS_OK(status))
		return status;
	struct smbd_open *o;
	status = smbd_call_open(call, in.fid_p, in.fid_v, &o);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (o->pipe)
		return NT_STATUS_INVALID_PARAMETER; /* pipe information classes are not served */

	switch (in.info_type) {
	case SMB2_0_INFO_FILE:
		return query_file(call, o, &in);
	case SMB2_0_INFO_FILESYSTEM:
		return query_fs(call, o, &in);
	case SMB2_0_INFO_SECURITY:
		return query_security(call, o, &in);
	case SMB2_0_INFO_QUOTA:
		return NT_STATUS_NOT_SUPPORTED;
	default:
		return NT_STATUS_INVALID_PARAMETER;
	}
}
