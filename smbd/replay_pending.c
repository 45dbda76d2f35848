/* CREATEs with a CreateGuid waiting for breaks (smbd/replay_pending.h). */
#include "config.h"
#include "smbd/replay_pending.h"

#include <string.h>
#include <talloc.h>

#include "lib/dlist.h"
#include "lib/log.h"
#include "smbd/conn.h"
#include "smbd/req.h"
#include "smbd/server.h"
#include "smbd/session.h"

struct smbd_replay_pending {
	struct smbd_replay_pending *prev, *next; /* srv->replay_pending */
	struct smbd_server *srv;
	struct smb2_call *call;
	uint8_t client_guid[16];
	uint8_t create_guid[16];
	struct smbd_conn *held; /* its connection, kept for it (smbd_replay_pending_outlive) */
};

static int pending_destructor(struct smbd_replay_pending *p)
{
	DLIST_REMOVE(p->srv->replay_pending, p, prev, next);
	if (p->held != NULL)
		smbd_conn_io_end(p->held);
	return 0;
}

bool smbd_replay_pending_note(struct smb2_call *call, const uint8_t create_guid[16])
{
	struct smbd_server *srv = call->req->conn->srv;
	for (const struct smbd_replay_pending *p = srv->replay_pending; p != NULL; p = p->next)
		if (p->call == call)
			return true; /* a second wait of the same call */
	/* With the request: it goes when the call is answered or dropped. */
	struct smbd_replay_pending *p = talloc_zero(call->req, struct smbd_replay_pending);
	if (p == NULL)
		return false;
	p->srv = srv;
	p->call = call;
	memcpy(p->client_guid, call->req->conn->client_guid, 16);
	memcpy(p->create_guid, create_guid, 16);
	DLIST_PUSH_FRONT(srv->replay_pending, p, prev, next);
	talloc_set_destructor(p, pending_destructor);
	return true;
}

bool smbd_replay_pending_find(const struct smb2_call *call, const uint8_t create_guid[16])
{
	for (const struct smbd_replay_pending *p = call->req->conn->srv->replay_pending; p != NULL; p = p->next)
		if (p->call != call && memcmp(p->create_guid, create_guid, 16) == 0 &&
		    memcmp(p->client_guid, call->req->conn->client_guid, 16) == 0)
			return true;
	return false;
}

void smbd_replay_pending_outlive(struct smbd_conn *conn)
{
	for (struct smbd_replay_pending *p = conn->srv->replay_pending; p != NULL; p = p->next) {
		struct smb2_call *call = p->call;
		if (call->req->conn != conn || p->held != NULL || call->session == NULL || call->tcon == NULL ||
		    !smbd_session_outlives_conn(call->session, conn->id))
			continue;
		/* Like a transfer on the I/O pool: conn is freed once it is over. */
		call->outlives_conn = true;
		p->held = conn;
		smbd_conn_io_begin(conn);
		LOG_INFO("%s: a CREATE waiting for breaks goes on for session %llx on its other channels",
			 conn->peer, (unsigned long long)call->session_id);
	}
}
