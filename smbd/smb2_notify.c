/* CHANGE_NOTIFY (MS-SMB2 2.2.35, 2.2.36, 3.3.5.19; MS-FSCC 2.4.42) */
#include "config.h"

#include <talloc.h>

#include "lib/log.h"
#include "lib/unicode.h"
#include "smbd/conn.h"
#include "smbd/dispatch.h"
#include "smbd/notify.h"
#include "smbd/open.h"
#include "smbd/smb2_handlers.h"
#include "smbd/smb2_proto.h"

struct smb2_notify_in {
	uint16_t flags;
	uint32_t output_buffer_length;
	uint64_t fid_persistent;
	uint64_t fid_volatile;
	uint32_t completion_filter;
};

static bool decode(struct wire_rd *r, struct smb2_notify_in *in)
{
	wire_skip(r, 2); /* StructureSize, checked by the dispatcher */
	in->flags = wire_u16(r);
	in->output_buffer_length = wire_u32(r);
	in->fid_persistent = wire_u64(r);
	in->fid_volatile = wire_u64(r);
	in->completion_filter = wire_u32(r);
	wire_skip(r, 4); /* Reserved */
	return wire_ok(r);
}

NTSTATUS smb2_change_notify(struct smb2_call *call)
{
	struct smb2_notify_in in;
	if (!decode(&call->in, &in))
		return NT_STATUS_INVALID_PARAMETER;
	/* MS-SMB2 3.3.5.19 */
	if (in.output_buffer_length > call->req->conn->max_transact)
		return NT_STATUS_INVALID_PARAMETER;
	NTSTATUS status = smbd_call_check_charge(call, in.output_buffer_length);
	if (!NT_STATUS_IS_OK(status))
		return status;
	struct smbd_open *o;
	status = smbd_call_open(call, in.fid_persistent, in.fid_volatile, &o);
	if (!NT_STATUS_IS_OK(status))
		return status;
	/* MS-FSA 2.1.5.11: only a directory can be watched, by a handle that may list it. */
	if (!o->is_dir || o->pipe != NULL || o->fd < 0)
		return NT_STATUS_INVALID_PARAMETER;
	if (!(o->access & FILE_LIST_DIRECTORY))
		return NT_STATUS_ACCESS_DENIED;
	return smbd_notify_request(call, o, in.completion_filter, (in.flags & SMB2_WATCH_TREE) != 0,
				   in.output_buffer_length);
}

void smb2_notify_encode_empty(struct smb2_call *call)
{
	struct wire_wr *w = &call->out;
	w->len = 0;
	wire_put_u16(w, 9);
	wire_put_u16(w, 0); /* OutputBufferOffset */
	wire_put_u32(w, 0); /* OutputBufferLength */
	wire_put_u8(w, 0);  /* the one byte of Buffer the structure size counts */
}

NTSTATUS smb2_notify_encode(struct smb2_call *call, const struct smbd_notify_change *changes, size_t n,
			    uint32_t max_len)
{
	struct wire_wr *w = &call->out;
	w->len = 0;
	wire_put_u16(w, 9);
	size_t off_pos = wire_reserve(w, 2);
	size_t len_pos = wire_reserve(w, 4);
	size_t start = w->len;
	size_t prev = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		size_t name_len;
		uint8_t *name = utf8_to_utf16le(call->req, changes[i].name, &name_len);
		if (name == NULL || name_len > UINT32_MAX)
			continue; /* cannot be named on the wire; nothing better to say */
		/* Each entry starts 4-aligned (MS-FSCC 2.4.42). */
		wire_put_align(w, 4);
		size_t here = w->len;
		if (here - start + 12 + name_len > max_len) {
			talloc_free(name);
			smb2_notify_encode_empty(call);
			return NT_STATUS_NOTIFY_ENUM_DIR;
		}
		if (prev != SIZE_MAX)
			wire_patch_u32(w, prev, (uint32_t)(here - prev));
		prev = here;
		wire_put_u32(w, 0); /* NextEntryOffset, patched by the next entry */
		wire_put_u32(w, changes[i].action);
		wire_put_u32(w, (uint32_t)name_len);
		wire_put_bytes(w, name, name_len);
		talloc_free(name);
		LOG_DBG("change %u '%s'", changes[i].action, changes[i].name);
	}
	if (prev == SIZE_MAX) {
		smb2_notify_encode_empty(call);
		return NT_STATUS_NOTIFY_ENUM_DIR;
	}
	wire_patch_u16(w, off_pos, (uint16_t)(64 + start));
	wire_patch_u32(w, len_pos, (uint32_t)(w->len - start));
	return wire_wr_ok(w) ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}
