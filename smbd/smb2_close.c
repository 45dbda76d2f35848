/* CLOSE (MS-SMB2 2.2.15, 2.2.16, 3.3.5.10) */
#include "config.h"

#include "lib/fscc.h"
#include "smbd/dispatch.h"
#include "smbd/fileinfo.h"
#include "smbd/open.h"
#include "smbd/smb2_handlers.h"
#include "smbd/smb2_proto.h"

NTSTATUS smb2_close(struct smb2_call *call)
{
	struct wire_rd *r = &call->in;
	wire_skip(r, 2);
	uint16_t flags = wire_u16(r);
	wire_skip(r, 4);
	struct smbd_open *o;
	NTSTATUS status = smbd_call_open_from(call, r, &o);
	if (!NT_STATUS_IS_OK(status))
		return status;

	/* MS-SMB2 3.3.5.10: post-query attributes are taken before the close. */
	struct fscc_file_info fi = { 0 };
	bool post = (flags & SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB) && o->fd >= 0 &&
		    NT_STATUS_IS_OK(smbd_open_fileinfo(o, &fi));
	if (post && o->delete_on_close)
		post = false; /* the file is gone after this close */
	smbd_open_close(o);

	struct wire_wr *w = &call->out;
	wire_put_u16(w, 60);
	wire_put_u16(w, post ? SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB : 0);
	wire_put_u32(w, 0);
	if (post) {
		wire_put_u64(w, fi.creation_time);
		wire_put_u64(w, fi.last_access_time);
		wire_put_u64(w, fi.last_write_time);
		wire_put_u64(w, fi.change_time);
		wire_put_u64(w, fi.allocation_size);
		wire_put_u64(w, fi.end_of_file);
		wire_put_u32(w, fscc_effective_attributes(&fi));
	} else {
		wire_put_zeros(w, 52);
	}
	return NT_STATUS_OK;
}
