/* OPLOCK_BREAK acknowledgment (MS-SMB2 2.2.24.1, 2.2.25.1, 3.3.5.22.1) */
#include "config.h"

#include "smbd/dispatch.h"
#include "smbd/conn.h"
#include "smbd/file_state.h"
#include "smbd/lease.h"
#include "smbd/open.h"
#include "smbd/smb2_handlers.h"

bool smb2_oplock_break_is_lease_ack(const struct smb2_call *call)
{
	struct wire_rd peek = call->in;
	return wire_u16(&peek) == 36 && wire_ok(&peek);
}

/* MS-SMB2 2.2.24.2, 2.2.25.2, 3.3.5.22.2: a lease break acknowledgment. */
static NTSTATUS lease_ack(struct smb2_call *call)
{
	struct wire_rd *r = &call->in;
	wire_skip(r, 8); /* StructureSize, Reserved, Flags */
	uint8_t key[16];
	wire_copy(r, key, 16);
	uint32_t state = wire_u32(r);
	if (!wire_ok(r))
		return NT_STATUS_INVALID_PARAMETER;
	NTSTATUS status = smbd_lease_ack(call->req->conn->srv, call->req->conn->client_guid, key, state);
	if (!NT_STATUS_IS_OK(status))
		return status;
	struct wire_wr *w = &call->out;
	wire_put_u16(w, 36);
	wire_put_u16(w, 0);
	wire_put_u32(w, 0);
	wire_put_bytes(w, key, 16);
	wire_put_u32(w, state);
	wire_put_u64(w, 0); /* LeaseDuration */
	return NT_STATUS_OK;
}

NTSTATUS smb2_oplock_break(struct smb2_call *call)
{
	struct wire_rd *r = &call->in;
	if (smb2_oplock_break_is_lease_ack(call))
		return lease_ack(call);
	wire_skip(r, 2);
	uint8_t level = wire_u8(r);
	wire_skip(r, 5);
	struct smbd_open *o;
	NTSTATUS status = smbd_call_open_from(call, r, &o);
	if (!NT_STATUS_IS_OK(status))
		return status;
	uint8_t new_level;
	status = smbd_oplock_ack(o, level, &new_level);
	if (!NT_STATUS_IS_OK(status))
		return status;
	struct wire_wr *w = &call->out;
	wire_put_u16(w, 24);
	wire_put_u8(w, new_level);
	wire_put_u8(w, 0);
	wire_put_u32(w, 0);
	wire_put_u64(w, o->persistent_id);
	wire_put_u64(w, o->volatile_id);
	return NT_STATUS_OK;
}
