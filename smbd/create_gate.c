#include "config.h"
#include "smbd/create_gate.h"

#include <event2/event.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <talloc.h>

#include "smbd/conn.h"
#include "smbd/dispatch.h"
#include "smbd/server.h"
#include "smbd/smb2_handlers.h"
#include "smbd/vfs.h"

struct gate_waiter {
	struct gate_waiter *next;
	struct smbd_create_gate *gate;
	struct smb2_call *call;
	struct event *wake;
};

struct smbd_create_gate {
	struct smbd_create_gate *prev, *next; /* srv->create_gates */
	struct smbd_server *srv;
	struct vfs_share *vfs;
	char *name;
	struct gate_waiter *waiters;
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
	if (g->prev)
		g->prev->next = g->next;
	else
		g->srv->create_gates = g->next;
	if (g->next)
		g->next->prev = g->prev;
	for (struct gate_waiter *w = g->waiters; w != NULL; w = w->next) {
		w->gate = NULL;
		/* From the loop, not from here: the holder may be mid-step. */
		event_active(w->wake, 0, 0);
	}
	return 0;
}

static int waiter_destructor(struct gate_waiter *w)
{
	if (w->gate != NULL) {
		for (struct gate_waiter **pp = &w->gate->waiters; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == w) {
				*pp = w->next;
				break;
			}
		}
	}
	event_free(w->wake);
	return 0;
}

static void waiter_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gate_waiter *w = arg;
	struct smb2_call *call = w->call;
	call->async_state = NULL;
	talloc_free(w);
	/* The quiet wait is over: a longer one (an oplock break) after the
	 * retry's first step gets its interim reply. */
	call->quiet = false;
	smb2_create_retry(call);
}

static void waiter_cancel(struct smb2_call *call)
{
	TALLOC_FREE(call->async_state);
	smbd_call_async_done(call, NT_STATUS_CANCELLED);
}

static NTSTATUS wait_for(struct smb2_call *call, struct smbd_create_gate *g)
{
	struct gate_waiter *w = talloc_zero(call->req, struct gate_waiter);
	if (w == NULL)
		return NT_STATUS_NO_MEMORY;
	w->wake = event_new(call->req->conn->srv->ev, -1, 0, waiter_wake_cb, w);
	if (w->wake == NULL) {
		talloc_free(w);
		return NT_STATUS_NO_MEMORY;
	}
	w->gate = g;
	w->call = call;
	w->next = g->waiters;
	g->waiters = w;
	talloc_set_destructor(w, waiter_destructor);
	call->async_state = w;
	NTSTATUS status = smbd_call_go_async(call, waiter_cancel);
	if (NT_STATUS_EQUAL(status, NT_STATUS_PENDING))
		call->quiet = true; /* no interim reply: the holder's step is short */
	return status;
}

NTSTATUS smbd_create_gate_enter(struct smb2_call *call, TALLOC_CTX *mem, struct vfs_share *vfs, const char *rel,
				struct smbd_create_gate **gate)
{
	struct smbd_server *srv = call->req->conn->srv;
	for (struct smbd_create_gate *g = srv->create_gates; g != NULL; g = g->next)
		if (same_name(g, vfs, rel))
			return wait_for(call, g);
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
	g->next = srv->create_gates;
	if (g->next)
		g->next->prev = g;
	srv->create_gates = g;
	talloc_set_destructor(g, gate_destructor);
	*gate = g;
	return NT_STATUS_OK;
}
