#include "config.h"
#include "smbd/app_instance.h"

#include <string.h>
#include <talloc.h>

#include "lib/log.h"
#include "lib/wire.h"
#include "smbd/conn.h"
#include "smbd/file_state.h"
#include "smbd/open.h"
#include "smbd/req.h"
#include "smbd/smb2_proto.h"
#include "smbd/tcon.h"

/* MS-SMB2 2.2.13.2: the contexts' names, GUIDs in their wire form. */
static const uint8_t TAG_ID[16] = { 0x45, 0xBC, 0xA6, 0x6A, 0xEF, 0xA7, 0xF7, 0x4A,
				    0x90, 0x08, 0xFA, 0x46, 0x2E, 0x14, 0x4D, 0x74 };
static const uint8_t TAG_VERSION[16] = { 0xB9, 0x82, 0xD0, 0xB7, 0x3B, 0x56, 0x07, 0x4F,
					 0xA0, 0x7B, 0x52, 0x4A, 0x81, 0x16, 0xA0, 0x10 };

/* What an open keeps (Open.AppInstanceId, Open.ApplicationInstanceVersion*). */
struct smbd_app_instance {
	uint8_t id[16];
	uint8_t client_guid[16];
	bool has_version;
	uint64_t version_high, version_low;
};

bool smbd_app_instance_parse(const uint8_t *tag, uint16_t tag_len, struct wire_rd *data, uint16_t dialect,
			     struct smbd_app_instance_request *r, NTSTATUS *status)
{
	bool id = tag_len == 16 && memcmp(tag, TAG_ID, 16) == 0;
	bool version = tag_len == 16 && memcmp(tag, TAG_VERSION, 16) == 0;
	if (!id && !version)
		return false;
	*status = NT_STATUS_OK;
	/* SMB 3.x only; the version 3.1.1 only (2.2.13.2.13, 2.2.13.2.15). */
	if (dialect < SMB2_DIALECT_300 || (version && dialect < SMB2_DIALECT_311))
		return true;
	uint16_t size = wire_u16(data);
	wire_skip(data, 2); /* Reserved */
	if (id) {
		wire_copy(data, r->id, 16);
		r->has_id = wire_ok(data) && size == 20;
	} else {
		wire_skip(data, 4); /* Padding */
		r->version_high = wire_u64(data);
		r->version_low = wire_u64(data);
		r->has_version = wire_ok(data) && size == 24;
	}
	if (!wire_ok(data))
		*status = NT_STATUS_INVALID_PARAMETER;
	return true;
}

/* Whether the open's instance is newer than the request's (3.3.5.9.13). */
static bool newer(const struct smbd_app_instance *a, const struct smbd_app_instance_request *r)
{
	return a->has_version && r->has_version &&
	       (a->version_high > r->version_high ||
		(a->version_high == r->version_high && a->version_low >= r->version_low));
}

NTSTATUS smbd_app_instance_take_over(struct smb2_call *call, const struct smbd_app_instance_request *r, dev_t dev,
				     ino_t ino)
{
	if (!r->has_id)
		return NT_STATUS_OK;
	struct smbd_conn *conn = call->req->conn;
	size_t n;
	struct smbd_open **opens = smbd_file_opens(conn->srv, dev, ino, call->req, &n);
	size_t taken = 0;
	for (size_t i = 0; i < n; i++) {
		const struct smbd_app_instance *a = opens[i]->app_instance;
		if (a == NULL || memcmp(a->id, r->id, 16) != 0 || opens[i]->share != call->tcon->share ||
		    memcmp(a->client_guid, conn->client_guid, 16) == 0)
			continue;
		if (newer(a, r))
			return NT_STATUS_FILE_FORCED_CLOSED;
		opens[taken++] = opens[i];
	}
	for (size_t i = 0; i < taken; i++) {
		LOG_INFO("%s: open of '%s' closed: its application instance opened it again from another client",
			 conn->peer, opens[i]->rel_path);
		smbd_open_close(opens[i]);
	}
	talloc_free(opens);
	return NT_STATUS_OK;
}

void smbd_app_instance_set(struct smbd_open *o, const struct smbd_app_instance_request *r,
			   const uint8_t client_guid[16])
{
	if (!r->has_id)
		return;
	struct smbd_app_instance *a = talloc_zero(o, struct smbd_app_instance);
	if (a == NULL)
		return; /* then it cannot be taken over: as without the context */
	memcpy(a->id, r->id, 16);
	memcpy(a->client_guid, client_guid, 16);
	a->has_version = r->has_version;
	a->version_high = r->version_high;
	a->version_low = r->version_low;
	o->app_instance = a;
}
