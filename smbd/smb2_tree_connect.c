/*
 * TREE_CONNECT and TREE_DISCONNECT (MS-SMB2 2.2.9-2.2.12, 3.3.5.7, 3.3.5.8).
 */
#include "config.h"

#include <string.h>
#include <strings.h>
#include <talloc.h>

#include "conf/conf.h"
#include "lib/log.h"
#include "lib/unicode.h"
#include "smbd/conn.h"
#include "smbd/server.h"
#include "smbd/session.h"
#include "smbd/share.h"
#include "smbd/share_access.h"
#include "smbd/smb2_handlers.h"
#include "smbd/smb2_proto.h"
#include "smbd/tcon.h"
#include "smbd/transform.h"

#define SMB2_TREE_CONNECT_FLAG_EXTENSION_PRESENT 0x0004

/* Read-only shares grant this much (Windows' "read" share permission). */
#define SHARE_READ_ACCESS (FILE_GENERIC_READ | FILE_GENERIC_EXECUTE)

NTSTATUS smb2_tree_connect(struct smb2_call *call)
{
	struct smbd_conn *conn = call->req->conn;
	struct smbd_session *s = call->session;
	struct wire_rd *r = &call->in;

	wire_skip(r, 2);
	uint16_t flags = wire_u16(r);
	uint16_t path_off = wire_u16(r);
	uint16_t path_len = wire_u16(r);
	if (!wire_ok(r))
		return NT_STATUS_INVALID_PARAMETER;
	if (conn->dialect == SMB2_DIALECT_311 && (flags & SMB2_TREE_CONNECT_FLAG_EXTENSION_PRESENT)) {
		/* MS-SMB2 2.2.9.1: the extension's PathOffset is relative to it. */
		struct wire_rd ext;
		if (!wire_slice(&call->in, SMB2_HDR_LEN + 8, 16, &ext))
			return NT_STATUS_INVALID_PARAMETER;
		wire_skip(&ext, 4);
		uint32_t ext_path_off = wire_u32(&ext);
		if (!wire_ok(&ext))
			return NT_STATUS_INVALID_PARAMETER;
		path_off = (uint16_t)(SMB2_HDR_LEN + 8 + ext_path_off);
	}
	struct wire_rd pr;
	if (!wire_slice(&call->in, path_off, path_len, &pr) || path_len == 0)
		return NT_STATUS_INVALID_PARAMETER;
	char *path = utf16le_name_to_utf8(call->req, wire_ptr(&pr, path_len), path_len);
	if (path == NULL)
		return NT_STATUS_BAD_NETWORK_NAME;
	/* "\\server\share": exactly one component after the server name. */
	const char *server = path + 2;
	const char *name = strncmp(path, "\\\\", 2) == 0 ? strchr(server, '\\') : NULL;
	if (name == NULL || name == server || *++name == 0 || strchr(name, '\\') != NULL)
		return NT_STATUS_BAD_NETWORK_NAME;

	struct smbd_share *share = smbd_server_find_share(conn->srv, name);
	if (share == NULL) {
		LOG_INFO("%s: no share '%.80s'", conn->peer, name);
		return NT_STATUS_BAD_NETWORK_NAME;
	}
	enum smbd_share_grant grant = share->is_ipc ? SMBD_SHARE_WRITE : smbd_share_access(share->cfg, s);
	if (grant == SMBD_SHARE_DENIED) {
		LOG_INFO("%s: user '%s' refused on [%s]", conn->peer, s->user, share->name);
		return NT_STATUS_ACCESS_DENIED;
	}
	bool encrypt = !share->is_ipc && share->cfg->encrypt_required;
	if (encrypt && !smbd_session_can_encrypt(s)) {
		/* MS-SMB2 3.3.5.7: a client that cannot encrypt is refused. */
		LOG_INFO("%s: [%s] requires encryption, which the client did not negotiate", conn->peer,
			 share->name);
		return NT_STATUS_ACCESS_DENIED;
	}
	struct smbd_tcon *t = smbd_tcon_new(s, share);
	if (t == NULL)
		return NT_STATUS_INSUFFICIENT_RESOURCES;
	t->read_only = grant == SMBD_SHARE_READ;
	t->encrypt = encrypt;
	t->maximal_access = t->read_only ? SHARE_READ_ACCESS : FILE_ALL_ACCESS;
	call->out_tree_id = t->id;
	call->out_tree_set = true;
	call->tree_id = t->id;

	struct wire_wr *w = &call->out;
	wire_put_u16(w, 16);
	wire_put_u8(w, share->is_ipc ? SMB2_SHARE_TYPE_PIPE : SMB2_SHARE_TYPE_DISK);
	wire_put_u8(w, 0);
	/* Manual caching, as Windows and Samba default to. */
	wire_put_u32(w, SMB2_SHAREFLAG_MANUAL_CACHING | (encrypt ? SMB2_SHAREFLAG_ENCRYPT_DATA : 0));
	/* MS-SMB2 2.2.10: continuous availability, for 3.x clients that can use it. */
	bool ca = !share->is_ipc && share->cfg->continuous_availability &&
		  (conn->server_capabilities & SMB2_GLOBAL_CAP_PERSISTENT_HANDLES);
	wire_put_u32(w, ca ? SMB2_SHARE_CAP_CONTINUOUS_AVAILABILITY : 0); /* Capabilities */
	wire_put_u32(w, t->maximal_access);
	LOG_DBG("%s: tree %u -> [%s]", conn->peer, t->id, share->name);
	return NT_STATUS_OK;
}

NTSTATUS smb2_tree_disconnect(struct smb2_call *call)
{
	smbd_tcon_destroy(call->tcon, false);
	call->tcon = NULL;
	wire_put_u16(&call->out, 4);
	wire_put_u16(&call->out, 0);
	return NT_STATUS_OK;
}
