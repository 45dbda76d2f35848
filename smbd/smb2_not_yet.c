/*
 * Commands whose real implementation belongs to later work (byte-range
 * locks and change notification: the open-state issue).
 * Each answers as a Windows server does when the request cannot be served,
 * after the same validation a full handler would do.
 */
#include "config.h"

#include "smbd/dispatch.h"
#include "smbd/open.h"
#include "smbd/smb2_handlers.h"

static NTSTATUS check_file(struct smb2_call *call, size_t fid_offset)
{
	struct wire_rd r = call->in;
	wire_skip(&r, fid_offset);
	uint64_t fid_p = wire_u64(&r);
	uint64_t fid_v = wire_u64(&r);
	if (!wire_ok(&r))
		return NT_STATUS_INVALID_PARAMETER;
	struct smbd_open *o;
	return smbd_call_open(call, fid_p, fid_v, &o);
}

NTSTATUS smb2_lock(struct smb2_call *call)
{
	NTSTATUS status = check_file(call, 8);
	return NT_STATUS_IS_OK(status) ? NT_STATUS_NOT_SUPPORTED : status;
}


