/* ECHO (MS-SMB2 2.2.28, 3.3.5.17) */
#include "config.h"

#include "smbd/smb2_handlers.h"

NTSTATUS smb2_echo(struct smb2_call *call)
{
	wire_put_u16(&call->out, 4);
	wire_put_u16(&call->out, 0);
	return NT_STATUS_OK;
}
