/* OPLOCK_BREAK acknowledgment (MS-SMB2 2.2.24.1, 2.2.25.1, 3.3.5.22.1) */
#include "config.h"

#include "smbd/dispatch.h"
#include "smbd/file_state.h"
#include "smbd/open.h"
#include "smbd/smb2_handlers.h"

NTSTATUS smb2_oplock_break(struct smb2_call *call)
{
	struct wire_rd *r = &call->in;
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
