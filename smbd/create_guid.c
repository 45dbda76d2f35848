/* Open.CreateGuid, for replays and duplicates (smbd/create_guid.h). */
#include "config.h"
#include "smbd/create_guid.h"

#include <stdatomic.h>
#include <string.h>
#include <talloc.h>

#include "lib/dlist.h"
#include "lib/log.h"
#include "smbd/conn.h"
#include "smbd/control.h"
#include "smbd/durable.h"
#include "smbd/open.h"
#include "smbd/req.h"
#include "smbd/server.h"
#include "smbd/smb2_proto.h"

struct smbd_create_guid {
	struct smbd_create_guid *prev, *next; /* its bucket of srv->create_guids */
	struct smbd_open *open;
	uint8_t client_guid[16];
	uint8_t create_guid[16];
	uint32_t action;  /* its first reply's CreateAction */
	bool action_noted;
	atomic_bool used; /* a request used the open: no longer replay-eligible (any loop sets it) */
};

static struct smbd_create_guid **bucket(struct smbd_server *srv, const uint8_t guid[16])
{
	unsigned h = 0;
	for (int i = 0; i < 16; i++)
		h = h * 31 + guid[i];
	return &srv->create_guids[h % (sizeof(srv->create_guids) / sizeof(srv->create_guids[0]))];
}

static int create_guid_destructor(struct smbd_create_guid *g)
{
	DLIST_REMOVE(*bucket(g->open->srv, g->create_guid), g, prev, next);
	g->open->create_guid = NULL;
	return 0;
}

bool smbd_create_guid_note(struct smbd_open *o, const uint8_t client_guid[16], const uint8_t create_guid[16])
{
	SMBD_CONTROL_HELD();
	talloc_free(o->create_guid);
	struct smbd_create_guid *g = talloc_zero(o, struct smbd_create_guid);
	if (g == NULL)
		return false;
	g->open = o;
	memcpy(g->client_guid, client_guid, 16);
	memcpy(g->create_guid, create_guid, 16);
	DLIST_PUSH_FRONT(*bucket(o->srv, g->create_guid), g, prev, next);
	talloc_set_destructor(g, create_guid_destructor);
	o->create_guid = g;
	return true;
}

void smbd_create_guid_forget(struct smbd_open *o)
{
	talloc_free(o->create_guid);
}

NTSTATUS smbd_create_guid_replayed(const struct smb2_call *call, const uint8_t create_guid[16],
				   struct smbd_open **out, uint32_t *action)
{
	*out = NULL;
	bool replay = call->flags & SMB2_FLAGS_REPLAY_OPERATION;
	const struct smbd_create_guid *g = *bucket(call->req->conn->srv, create_guid), *eligible = NULL;
	bool held = false;
	for (; g != NULL; g = g->next) {
		if (smbd_open_disconnected(g->open) || memcmp(g->create_guid, create_guid, 16) != 0 ||
		    memcmp(g->client_guid, call->req->conn->client_guid, 16) != 0)
			continue;
		held = true;
		if (!g->used && g->open->session_id == call->session_id)
			eligible = g;
	}
	if (held && !replay)
		return NT_STATUS_DUPLICATE_OBJECTID;
	if (eligible == NULL)
		return NT_STATUS_OK;
	LOG_INFO("%s: CREATE of '%s' replayed: its open answers again", call->req->conn->peer,
		 eligible->open->rel_path);
	*action = eligible->action;
	*out = eligible->open;
	return NT_STATUS_OK;
}

void smbd_create_guid_note_action(struct smbd_open *o, uint32_t action)
{
	struct smbd_create_guid *g = o->create_guid;
	if (g != NULL && !g->action_noted) {
		g->action = action;
		g->action_noted = true;
	}
}

void smbd_create_guid_used(struct smbd_open *o)
{
	if (o->create_guid != NULL)
		o->create_guid->used = true;
}
