/*
 * IOCTL (MS-SMB2 2.2.31, 2.2.32, 3.3.5.15): the dispatcher of FSCTLs.
 * Each family lives in its own smb2_ioctl_<family>.c as it grows.
 */
#include "config.h"

#include <string.h>
#include <talloc.h>

#include "conf/conf.h"
#include "lib/log.h"
#include "lib/rpc/rpc_server.h"
#include "smbd/conn.h"
#include "smbd/dispatch.h"
#include "smbd/durable.h"
#include "smbd/file_state.h"
#include "smbd/ioctl.h"
#include "smbd/netif.h"
#include "smbd/open.h"
#include "smbd/server.h"
#include "smbd/session.h"
#include "smbd/smb2_handlers.h"
#include "smbd/smb2_proto.h"

NTSTATUS smb2_ioctl_reply(struct smb2_call *call, const struct ioctl_in *in, const uint8_t *out, size_t out_len,
			  NTSTATUS status)
{
	struct wire_wr *w = &call->out;
	wire_put_u16(w, 49);
	wire_put_u16(w, 0);
	wire_put_u32(w, in->ctl_code);
	wire_put_u64(w, in->fid_p);
	wire_put_u64(w, in->fid_v);
	wire_put_u32(w, SMB2_HDR_LEN + 48); /* InputOffset */
	wire_put_u32(w, 0);
	wire_put_u32(w, SMB2_HDR_LEN + 48); /* OutputOffset */
	wire_put_u32(w, (uint32_t)out_len);
	wire_put_u32(w, 0);
	wire_put_u32(w, 0);
	wire_put_bytes(w, out, out_len);
	return wire_wr_ok(w) ? status : NT_STATUS_NO_MEMORY;
}

/* MS-SMB2 3.3.5.15.12: a downgrade check; any mismatch ends the connection. */
static NTSTATUS validate_negotiate(struct smb2_call *call, const struct ioctl_in *in)
{
	struct smbd_conn *conn = call->req->conn;
	struct wire_rd r;
	wire_rd_init(&r, in->input, in->input_count);
	uint32_t caps = wire_u32(&r);
	uint8_t guid[16];
	wire_copy(&r, guid, 16);
	uint16_t sec_mode = wire_u16(&r);
	uint16_t count = wire_u16(&r);
	bool same = wire_ok(&r) && caps == conn->client_capabilities && memcmp(guid, conn->client_guid, 16) == 0 &&
		    sec_mode == conn->client_security_mode && count == conn->n_client_dialects;
	for (uint16_t i = 0; same && i < count; i++)
		same = wire_u16(&r) == conn->client_dialects[i] && wire_ok(&r);
	if (!same || in->max_output < 24) {
		LOG_WARN("%s: VALIDATE_NEGOTIATE_INFO mismatch: possible downgrade attack", conn->peer);
		call->disconnect = true;
		return NT_STATUS_ACCESS_DENIED;
	}
	uint8_t out[24];
	put_le32(out, conn->server_capabilities);
	memcpy(out + 4, conn->srv->server_guid, 16);
	uint16_t mode = SMB2_NEGOTIATE_SIGNING_ENABLED;
	if (conn->srv->cfg->signing_required)
		mode |= SMB2_NEGOTIATE_SIGNING_REQUIRED;
	put_le16(out + 20, mode);
	put_le16(out + 22, conn->dialect);
	return smb2_ioctl_reply(call, in, out, sizeof(out), NT_STATUS_OK);
}

/* MS-SMB2 3.3.5.15.11: where a multichannel client may open more channels. */
static NTSTATUS network_interface_info(struct smb2_call *call, const struct ioctl_in *in)
{
	struct smbd_conn *conn = call->req->conn;
	if (!(conn->server_capabilities & SMB2_GLOBAL_CAP_MULTI_CHANNEL))
		return NT_STATUS_NOT_SUPPORTED;
	enum { MAX_ADDRS = 64 };
	struct smbd_netif_addr addrs[MAX_ADDRS];
	size_t n = smbd_netif_collect(conn->srv->cfg, addrs, MAX_ADDRS);
	if (n == 0) /* no interface is up with an address the listeners take */
		return NT_STATUS_NOT_SUPPORTED;
	uint8_t *out = talloc_array(call->req, uint8_t, n * SMBD_NETIF_ENTRY_LEN);
	if (out == NULL)
		return NT_STATUS_NO_MEMORY;
	size_t len = smbd_netif_encode(addrs, n, out, n * SMBD_NETIF_ENTRY_LEN);
	if (len > in->max_output)
		return NT_STATUS_BUFFER_TOO_SMALL;
	return smb2_ioctl_reply(call, in, out, len, NT_STATUS_OK);
}

static NTSTATUS pipe_transceive(struct smb2_call *call, const struct ioctl_in *in)
{
	struct smbd_open *o;
	NTSTATUS status = smbd_call_open(call, in->fid_p, in->fid_v, &o);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (o->pipe == NULL)
		return NT_STATUS_INVALID_DEVICE_REQUEST;
	status = rpc_pipe_write(o->pipe, in->input, in->input_count);
	if (!NT_STATUS_IS_OK(status))
		return status;
	uint8_t *out;
	size_t out_len;
	status = rpc_pipe_read(o->pipe, call->req, in->max_output, &out, &out_len);
	if (NT_STATUS_IS_ERR(status))
		return status;
	return smb2_ioctl_reply(call, in, out, out_len, status);
}

/*
 * MS-FSCC 2.3.7 / 2.3.31: FILE_OBJECTID_BUFFER. Object ids are derived from
 * the file id and the volume, so every file has a stable one without a
 * store; GET therefore never answers OBJECTID_NOT_FOUND, unlike NTFS for a
 * file that was never given one.
 */
static NTSTATUS object_id(struct smb2_call *call, const struct ioctl_in *in)
{
	struct smbd_open *o;
	NTSTATUS status = smb2_ioctl_file_open(call, in, &o);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (in->max_output < 64)
		return NT_STATUS_BUFFER_TOO_SMALL;
	uint8_t out[64] = { 0 };
	put_le64(out, o->file_id);
	put_le64(out + 8, (uint64_t)o->dev);
	memcpy(out + 16, call->req->conn->srv->server_guid, 16); /* BirthVolumeId */
	memcpy(out + 32, out, 16);                                /* BirthObjectId */
	return smb2_ioctl_reply(call, in, out, sizeof(out), NT_STATUS_OK);
}

/* MS-SMB2 3.3.5.15.9: NETWORK_RESILIENCY_REQUEST (2.2.31.3) in, nothing out. */
static NTSTATUS request_resiliency(struct smb2_call *call, const struct ioctl_in *in)
{
	struct smbd_open *o;
	NTSTATUS status = smb2_ioctl_file_open(call, in, &o);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (call->req->conn->dialect == SMB2_DIALECT_202)
		return NT_STATUS_INVALID_DEVICE_REQUEST;
	if (in->input_count < 8)
		return NT_STATUS_INVALID_PARAMETER;
	status = smbd_durable_make_resilient(o, call->session, call->req->conn->client_guid, le32(in->input));
	if (!NT_STATUS_IS_OK(status))
		return status;
	return smb2_ioctl_reply(call, in, NULL, 0, NT_STATUS_OK);
}

NTSTATUS smb2_ioctl_file_open(struct smb2_call *call, const struct ioctl_in *in, struct smbd_open **out)
{
	NTSTATUS status = smbd_call_open(call, in->fid_p, in->fid_v, out);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if ((*out)->pipe != NULL || (*out)->fd < 0)
		return NT_STATUS_INVALID_DEVICE_REQUEST;
	return NT_STATUS_OK;
}

void smb2_ioctl_data_changed(struct smb2_call *call, const struct smbd_open_ref *ref)
{
	struct smbd_open *o = smbd_open_ref_find(call->req->conn->srv, ref);
	if (o == NULL)
		return; /* closed while the work ran */
	smbd_oplock_break_level2(o, false);
	o->data_changed = true;
}

/* MS-SMB2 3.3.5.15: these act on the session or server, and their FileId
 * must be all ones (smbtorture smb2.ioctl.bug14788). */
static bool names_no_file(uint32_t ctl_code)
{
	switch (ctl_code) {
	case FSCTL_DFS_GET_REFERRALS:
	case FSCTL_DFS_GET_REFERRALS_EX:
	case FSCTL_QUERY_NETWORK_INTERFACE_INFO:
	case FSCTL_VALIDATE_NEGOTIATE_INFO:
	case FSCTL_PIPE_WAIT:
		return true;
	default:
		return false;
	}
}

NTSTATUS smb2_ioctl(struct smb2_call *call)
{
	struct smbd_conn *conn = call->req->conn;
	struct ioctl_in in;
	struct wire_rd *r = &call->in;
	wire_skip(r, 4);
	in.ctl_code = wire_u32(r);
	in.fid_p = wire_u64(r);
	in.fid_v = wire_u64(r);
	uint32_t input_off = wire_u32(r);
	in.input_count = wire_u32(r);
	wire_skip(r, 4); /* MaxInputResponse */
	wire_skip(r, 8); /* OutputOffset, OutputCount: no input-output buffers are used */
	in.max_output = wire_u32(r);
	in.flags = wire_u32(r);
	struct wire_rd input;
	if (!wire_ok(r) || !wire_slice(&call->in, input_off, in.input_count, &input))
		return NT_STATUS_INVALID_PARAMETER;
	in.input = wire_ptr(&input, in.input_count);
	if (in.input_count > conn->max_transact || in.max_output > conn->max_transact)
		return NT_STATUS_INVALID_PARAMETER;
	NTSTATUS status = smbd_call_check_charge(call, in.input_count > in.max_output ? in.input_count
											: in.max_output);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (in.flags != SMB2_0_IOCTL_IS_FSCTL)
		return NT_STATUS_NOT_SUPPORTED;
	if (names_no_file(in.ctl_code) && (in.fid_p != UINT64_MAX || in.fid_v != UINT64_MAX))
		return NT_STATUS_INVALID_PARAMETER;

	switch (in.ctl_code) {
	case FSCTL_VALIDATE_NEGOTIATE_INFO:
		return validate_negotiate(call, &in);
	case FSCTL_PIPE_TRANSCEIVE:
		return pipe_transceive(call, &in);
	case FSCTL_DFS_GET_REFERRALS:
	case FSCTL_DFS_GET_REFERRALS_EX:
		/* What a Windows server without DFS namespaces answers. */
		return NT_STATUS_FS_DRIVER_REQUIRED;
	case FSCTL_QUERY_NETWORK_INTERFACE_INFO:
		return network_interface_info(call, &in);
	case FSCTL_CREATE_OR_GET_OBJECT_ID:
	case FSCTL_GET_OBJECT_ID:
		return object_id(call, &in);
	case FSCTL_SET_SPARSE:
		return smb2_ioctl_set_sparse(call, &in);
	case FSCTL_GET_COMPRESSION:
		return smb2_ioctl_get_compression(call, &in);
	case FSCTL_SET_COMPRESSION:
		return smb2_ioctl_set_compression(call, &in);
	case FSCTL_SET_ZERO_DATA:
		return smb2_ioctl_set_zero_data(call, &in);
	case FSCTL_QUERY_ALLOCATED_RANGES:
		return smb2_ioctl_query_allocated_ranges(call, &in);
	case FSCTL_SRV_REQUEST_RESUME_KEY:
		return smb2_ioctl_request_resume_key(call, &in);
	case FSCTL_SRV_COPYCHUNK:
	case FSCTL_SRV_COPYCHUNK_WRITE:
		return smb2_ioctl_copychunk(call, &in);
	case FSCTL_DUPLICATE_EXTENTS_TO_FILE:
		return smb2_ioctl_duplicate_extents(call, &in);
	case FSCTL_LMR_REQUEST_RESILIENCY:
		return request_resiliency(call, &in);
	default: {
		struct smbd_open *o;
		status = smbd_call_open(call, in.fid_p, in.fid_v, &o);
		if (!NT_STATUS_IS_OK(status))
			return status;
		return NT_STATUS_INVALID_DEVICE_REQUEST;
	}
	}
}
