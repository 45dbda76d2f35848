#include "config.h"
#include "smbd/create_park.h"

#include <event2/event.h>
#include <talloc.h>

#include "lib/dlist.h"
#include "smbd/conn.h"
#include "smbd/dispatch.h"
#include "smbd/loop.h"
#include "smbd/server.h"

struct smbd_park {
	struct smbd_park *older, *newer; /* list->newest first */
	struct smbd_park_list *list; /* NULL once woken */
	struct smb2_call *call;
	smbd_park_retry_fn retry;
	struct event *wake;
};

static void unlink_park(struct smbd_park *p)
{
	struct smbd_park_list *list = p->list;
	if (list == NULL)
		return;
	DLIST_REMOVE(list->newest, p, newer, older);
	p->list = NULL;
	if (list->left)
		list->left(list);
}

static int park_destructor(struct smbd_park *p)
{
	unlink_park(p);
	event_free(p->wake);
	return 0;
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct smbd_park *p = arg;
	struct smb2_call *call = p->call;
	smbd_park_retry_fn retry = p->retry;
	call->async_state = NULL;
	talloc_free(p);
	/* A quiet wait is over: a longer one after the retry's first step
	 * (an oplock break) gets its interim reply. */
	call->quiet = false;
	retry(call);
}

static void park_cancel(struct smb2_call *call)
{
	TALLOC_FREE(call->async_state);
	smbd_call_async_done(call, NT_STATUS_CANCELLED);
}

NTSTATUS smbd_park(struct smb2_call *call, struct smbd_park_list *list, bool quiet, smbd_park_retry_fn retry)
{
	struct smbd_park *p = talloc_zero(call->req, struct smbd_park);
	if (p == NULL)
		return NT_STATUS_NO_MEMORY;
	p->wake = event_new(call->req->conn->loop->ev, -1, 0, wake_cb, p);
	if (p->wake == NULL) {
		talloc_free(p);
		return NT_STATUS_NO_MEMORY;
	}
	p->call = call;
	p->retry = retry;
	p->list = list;
	DLIST_PUSH_FRONT(list->newest, p, newer, older);
	talloc_set_destructor(p, park_destructor);
	call->async_state = p;
	NTSTATUS status = smbd_call_go_async(call, park_cancel);
	if (quiet && NT_STATUS_EQUAL(status, NT_STATUS_PENDING))
		call->quiet = true;
	return status;
}

void smbd_park_wake_all(struct smbd_park_list *list)
{
	struct smbd_park *oldest = list->newest;
	while (oldest != NULL && oldest->older != NULL)
		oldest = oldest->older;
	/* Unlinked now, so the owner may go; each runs on the next turn. */
	for (struct smbd_park *p = oldest; p != NULL;) {
		struct smbd_park *next = p->newer;
		p->older = p->newer = NULL;
		p->list = NULL;
		event_active(p->wake, 0, 0);
		p = next;
	}
	list->newest = NULL;
}
