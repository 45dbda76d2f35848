#include "config.h"
#include "smbd/create_gate.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <talloc.h>

#include "lib/dlist.h"
#include "smbd/conn.h"
#include "smbd/control.h"
#include "smbd/create_park.h"
#include "smbd/req.h"
#include "smbd/server.h"
#include "smbd/smb2_handlers.h"
#include "smbd/vfs.h"

struct smbd_create_gate {
	struct smbd_create_gate *prev, *next; /* srv->create_gates */
	struct smbd_server *srv;
	struct vfs_share *vfs;
	char *name;
	struct smbd_park_list waiters;
};

static bool same_name(const struct smbd_create_gate *g, const struct vfs_share *vfs, const char *rel)
{
	if (g->vfs != vfs)
		return false;
	return vfs->case_sensitive ? strcmp(g->name, rel) == 0 : strcasecmp(g->name, rel) == 0;
}

/* The holder is done: every waiter runs again (one of them takes the gate). */
static int gate_destructor(struct smbd_create_gate *g)
{
	DLIST_REMOVE(g->srv->create_gates, g, prev, next);
	smbd_park_wake_all(&g->waiters);
	return 0;
}

NTSTATUS smbd_create_gate_enter(struct smb2_call *call, TALLOC_CTX *mem, struct vfs_share *vfs, const char *rel,
				struct smbd_create_gate **gate)
{
	SMBD_CONTROL_HELD();
	struct smbd_server *srv = call->req->conn->srv;
	for (struct smbd_create_gate *g = srv->create_gates; g != NULL; g = g->next)
		if (same_name(g, vfs, rel))
			return smbd_park(call, &g->waiters, true, smb2_create_retry); /* the holder's step is short */
	struct smbd_create_gate *g = talloc_zero(mem, struct smbd_create_gate);
	if (g == NULL)
		return NT_STATUS_NO_MEMORY;
	g->name = talloc_strdup(g, rel);
	if (g->name == NULL) {
		talloc_free(g);
		return NT_STATUS_NO_MEMORY;
	}
	g->srv = srv;
	g->vfs = vfs;
	DLIST_PUSH_FRONT(srv->create_gates, g, prev, next);
	talloc_set_destructor(g, gate_destructor);
	*gate = g;
	return NT_STATUS_OK;
}
