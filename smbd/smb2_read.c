/* READ (MS-SMB2 2.2.19, 2.2.20, 3.3.5.12) */
#include "config.h"

#include <talloc.h>

#include "lib/rpc/rpc_server.h"
#include "smbd/bigbuf.h"
#include "smbd/brlock.h"
#include "smbd/conn.h"
#include "smbd/dispatch.h"
#include "smbd/io_async.h"
#include "smbd/loop.h"
#include "smbd/open.h"
#include "smbd/reply.h"
#include "smbd/server.h"
#include "smbd/smb2_handlers.h"
#include "smbd/smb2_proto.h"
#include "smbd/splice_pipe.h"
#include "smbd/transport.h"
#include "smbd/vfs.h"

static void encode(struct smb2_call *call, size_t len)
{
	struct wire_wr *w = &call->out;
	wire_put_u16(w, 17);
	wire_put_u8(w, len ? SMB2_HDR_LEN + 16 : 0); /* DataOffset */
	wire_put_u8(w, 0);
	wire_put_u32(w, (uint32_t)len);
	wire_put_u32(w, 0); /* DataRemaining */
	wire_put_u32(w, 0);
}

static NTSTATUS read_pipe(struct smb2_call *call, struct smbd_open *o, uint32_t length)
{
	uint8_t *data;
	size_t got;
	NTSTATUS status = rpc_pipe_read(o->pipe, call->req, length, &data, &got);
	if (NT_STATUS_IS_ERR(status))
		return status;
	if (got == 0)
		return NT_STATUS_PIPE_EMPTY;
	call->out_data = data;
	call->out_data_len = got;
	encode(call, got);
	return status; /* OK, or BUFFER_OVERFLOW with the first part of a message */
}

/* What the reply needs once the data is in (the open by id: it may be gone). */
struct read_state {
	uint32_t minimum;
	uint64_t fid_p, fid_v;
	void *owner;            /* the talloc object holding the buffer */
};

/* The transfer is over (smbd/io_async.h): the reply. */
static NTSTATUS read_done(struct smb2_call *call, const struct smbd_io *io)
{
	const struct read_state *st = call->async_state;
	call->async_state = NULL;
	if (!NT_STATUS_IS_OK(io->status))
		return io->status;
	/* MS-SMB2 3.3.5.12: nothing read, or less than MinimumCount, is END_OF_FILE. */
	if ((io->moved == 0 && io->len > 0) || io->moved < st->minimum)
		return NT_STATUS_END_OF_FILE;
	struct smbd_open *o = smbd_open_find(call->req->conn->srv, st->fid_p, st->fid_v, call->session_id,
					     call->tree_id);
	if (o != NULL)
		o->position = io->offset + io->moved;
	if (io->pipe != NULL) {
		call->out_pipe = io->pipe; /* holding io->moved bytes */
	} else {
		call->out_data = io->buf;
		call->out_data_owner = st->owner;
	}
	call->out_data_len = io->moved;
	encode(call, io->moved);
	return NT_STATUS_OK;
}

/* A pipe for the data, when it may go from the page cache to the socket
 * untouched (smbd/splice_pipe.h): a large READ whose reply is neither
 * signed nor sealed, on a transport that can. */
static struct smbd_pipe *splice_pipe(struct smb2_call *call, uint64_t offset, uint32_t length)
{
	struct smbd_conn *conn = call->req->conn;
	if (length < SMBD_SPLICE_READ_MIN || conn->transport->ops->send_spliced == NULL || !smbd_reply_plain(call))
		return NULL;
	return smbd_pipe_get(conn->loop->pipes, call->req, offset, length);
}

NTSTATUS smb2_read(struct smb2_call *call)
{
	struct smbd_conn *conn = call->req->conn;
	struct wire_rd *r = &call->in;
	wire_skip(r, 2); /* StructureSize */
	wire_skip(r, 2); /* Padding, Flags */
	uint32_t length = wire_u32(r);
	uint64_t offset = wire_u64(r);
	uint64_t fid_p = wire_u64(r);
	uint64_t fid_v = wire_u64(r);
	uint32_t minimum = wire_u32(r);
	uint32_t channel = wire_u32(r);
	if (!wire_ok(r))
		return NT_STATUS_INVALID_PARAMETER;
	if (channel != SMB2_CHANNEL_NONE)
		return NT_STATUS_INVALID_PARAMETER; /* RDMA channels come with SMB Direct */
	struct smbd_open *o;
	NTSTATUS status = smbd_call_open(call, fid_p, fid_v, &o);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (length > conn->max_read)
		return NT_STATUS_INVALID_PARAMETER;
	status = smbd_call_check_charge(call, length);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (o->pipe)
		return read_pipe(call, o, length);
	if (o->is_dir)
		return NT_STATUS_INVALID_DEVICE_REQUEST;
	if (!(o->access & (FILE_READ_DATA | FILE_EXECUTE)))
		return NT_STATUS_ACCESS_DENIED;
	if (offset > INT64_MAX || length > INT64_MAX - offset)
		return NT_STATUS_INVALID_PARAMETER;
	/* Byte-range locks are mandatory (MS-FSA 2.1.4.10). */
	status = smbd_brlock_check_io(o, offset, length, false);
	if (!NT_STATUS_IS_OK(status))
		return status;

	struct smbd_io io = { .op = SMBD_IO_READ, .len = length, .offset = offset };
	void *owner = io.pipe = splice_pipe(call, offset, length);
	if (owner == NULL) {
		/* The data lands once, in the buffer the reply sends by
		 * reference (smbd_conn_send_owned); large ones stay mapped
		 * between READs. */
		uint8_t *buf;
		owner = length >= BIGBUF_MIN ? smbd_bigbuf_get(conn->loop->bigbufs, call->req, length, &buf)
					     : (buf = talloc_size(call->req, length ? length : 1));
		io.buf = buf;
	}
	if (owner == NULL)
		return NT_STATUS_NO_MEMORY;
	struct read_state *st = talloc(call->req, struct read_state);
	if (st == NULL)
		return NT_STATUS_NO_MEMORY;
	*st = (struct read_state){ minimum, fid_p, fid_v, owner };
	call->async_state = st;
	return smbd_io_submit(call, o, &io, read_done);
}
