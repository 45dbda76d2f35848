/* WRITE (MS-SMB2 2.2.21, 2.2.22, 3.3.5.13) and FLUSH (2.2.17, 3.3.5.11) */
#include "config.h"

#include <sys/stat.h>

#include "lib/rpc/rpc_server.h"
#include "smbd/brlock.h"
#include "smbd/conn.h"
#include "smbd/control.h"
#include "smbd/dispatch.h"
#include "smbd/file_state.h"
#include "smbd/io_async.h"
#include "smbd/open.h"
#include "smbd/smb2_handlers.h"
#include "smbd/smb2_proto.h"
#include "smbd/tcon.h"
#include "smbd/vfs.h"

static void encode(struct smb2_call *call, uint32_t count)
{
	struct wire_wr *w = &call->out;
	wire_put_u16(w, 17);
	wire_put_u16(w, 0);
	wire_put_u32(w, count);
	wire_put_u32(w, 0); /* Remaining */
	wire_put_u16(w, 0);
	wire_put_u16(w, 0);
}

static NTSTATUS write_done(struct smb2_call *call, const struct smbd_io *io)
{
	if (!NT_STATUS_IS_OK(io->status))
		return io->status;
	encode(call, (uint32_t)io->moved);
	return NT_STATUS_OK;
}

static NTSTATUS flush_done(struct smb2_call *call, const struct smbd_io *io)
{
	if (!NT_STATUS_IS_OK(io->status))
		return io->status;
	wire_put_u16(&call->out, 4);
	wire_put_u16(&call->out, 0);
	return NT_STATUS_OK;
}

/*
 * Breaks the read caching of the file's opens, which is control work: the
 * WRITE's shared section is let go of meanwhile (smbd/control.h), so the
 * open is found again after; FILE_CLOSED if it went.
 */
static NTSTATUS break_read_caching(struct smb2_call *call, struct smbd_open **o)
{
	struct smbd_server *srv = call->req->conn->srv;
	const struct smbd_open_ref ref = { (*o)->persistent_id, (*o)->volatile_id, (*o)->session_id, (*o)->tree_id };
	smbd_control_enter();
	struct smbd_open *writer = smbd_open_ref_find(srv, &ref);
	if (writer != NULL)
		smbd_oplock_break_level2(writer, true);
	smbd_control_leave();
	*o = smbd_open_ref_find(srv, &ref);
	return *o != NULL ? NT_STATUS_OK : NT_STATUS_FILE_CLOSED;
}

NTSTATUS smb2_write(struct smb2_call *call)
{
	struct smbd_conn *conn = call->req->conn;
	struct wire_rd *r = &call->in;
	wire_skip(r, 2);
	uint16_t data_off = wire_u16(r);
	uint32_t length = wire_u32(r);
	uint64_t offset = wire_u64(r);
	uint64_t fid_p = wire_u64(r);
	uint64_t fid_v = wire_u64(r);
	uint32_t channel = wire_u32(r);
	wire_skip(r, 8); /* RemainingBytes, WriteChannelInfo */
	uint32_t flags = wire_u32(r);
	/* A large plain WRITE may come without its data, which the transport
	 * then moves straight into the file (smbd/transport.h); the data
	 * follows this header and body and runs to the end of the frame. */
	size_t tail = call->req->tail_len;
	struct wire_rd data;
	if (!wire_ok(r))
		return NT_STATUS_INVALID_PARAMETER;
	if (tail != 0 ? data_off != call->in_len || length != tail : !wire_slice(&call->in, data_off, length, &data))
		return NT_STATUS_INVALID_PARAMETER;
	if (channel != SMB2_CHANNEL_NONE)
		return NT_STATUS_INVALID_PARAMETER;
	struct smbd_open *o;
	NTSTATUS status = smbd_call_open(call, fid_p, fid_v, &o);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (length > conn->max_write)
		return NT_STATUS_INVALID_PARAMETER;
	status = smbd_call_check_charge(call, length);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (o->pipe && tail != 0)
		return NT_STATUS_INVALID_PARAMETER; /* DCE/RPC fragments are under 64 KiB */
	const uint8_t *bytes = tail != 0 ? NULL : wire_ptr(&data, length);
	if (o->pipe) {
		status = rpc_pipe_write(o->pipe, bytes, length);
		if (!NT_STATUS_IS_OK(status))
			return status;
		encode(call, length);
		return NT_STATUS_OK;
	}
	if (o->is_dir)
		return NT_STATUS_INVALID_DEVICE_REQUEST;
	if (!(o->access & (FILE_WRITE_DATA | FILE_APPEND_DATA)))
		return NT_STATUS_ACCESS_DENIED;
	/* Windows refuses negative offsets here, the NT "write at end of
	 * file" value included (smbtorture smb2.rw.invalid). */
	if (offset > INT64_MAX || length > INT64_MAX - offset)
		return NT_STATUS_INVALID_PARAMETER;
	/* Byte-range locks are mandatory (MS-FSA 2.1.4.10). */
	status = smbd_brlock_check_io(o, offset, length, true);
	if (!NT_STATUS_IS_OK(status))
		return status;
	/* Level II holders learn of the write as it starts, the writer too
	 * (a self break to none, as Windows: smbtorture smb2.oplock.batch1). */
	if (smbd_oplock_level2_cached(o, true)) {
		status = break_read_caching(call, &o);
		if (!NT_STATUS_IS_OK(status))
			return status;
		status = smbd_brlock_check_io(o, offset, length, true);
		if (!NT_STATUS_IS_OK(status))
			return status;
	}
	o->position = offset + length;
	if (length > 0)
		o->data_changed = true;
	/* Written from the receive buffer; write-through waits for the disk
	 * (MS-SMB2 3.3.5.13), nothing else does (smbd_open_writes_through). */
	struct smbd_io io = {
		.op = SMBD_IO_WRITE,
		.buf = (void *)bytes,
		.len = length,
		.offset = offset,
		.sync = (flags & SMB2_WRITEFLAG_WRITE_THROUGH) || smbd_open_writes_through(o),
	};
	if (tail != 0)
		return smbd_io_submit_tail(call, o, &io, write_done);
	return smbd_io_submit(call, o, &io, write_done);
}

NTSTATUS smb2_flush(struct smb2_call *call)
{
	struct wire_rd *r = &call->in;
	wire_skip(r, 8);
	struct smbd_open *o;
	NTSTATUS status = smbd_call_open_from(call, r, &o);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (!(o->access & (FILE_WRITE_DATA | FILE_APPEND_DATA)))
		return NT_STATUS_ACCESS_DENIED;
	/* MS-SMB2 3.3.5.11: the data reaches stable storage before the reply. */
	struct smbd_io io = { .op = SMBD_IO_SYNC };
	if (o->fd < 0)
		return flush_done(call, &io);
	return smbd_io_submit(call, o, &io, flush_done);
}
