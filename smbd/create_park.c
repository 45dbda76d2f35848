#include "config.h"
#include "smbd/create_park.h"

#include <talloc.h>

#include "lib/dlist.h"
#include "smbd/conn.h"
#include "smbd/control.h"
#include "smbd/dispatch.h"
#include "smbd/loop.h"
#include "smbd/loop_post.h"
#include "smbd/server.h"

struct smbd_park {
	/* The wake-up, posted to the call's loop: whoever wakes the park
	 * (another connection's CREATE, CLOSE or break) may run on another.
	 * First, so that the post is the park. */
	struct smbd_post wake;
	struct smbd_loop *loop;
	struct smbd_park *older, *newer; /* list->newest first */
	struct smbd_park_list *list; /* NULL once woken */
	struct smb2_call *call;
	smbd_park_retry_fn retry;
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
	smbd_unpost(p->loop->posts, &p->wake);
	return 0;
}

static void wake_cb(struct smbd_post *post)
{
	struct smbd_park *p = (struct smbd_park *)post; /* wake comes first */
	struct smb2_call *call = p->call;
	smbd_park_retry_fn retry = p->retry;
	smbd_control_enter(); /* the park is on a shared list; the retry a CREATE's or a SET_INFO's */
	call->async_state = NULL;
	talloc_free(p);
	/* A quiet wait is over: a longer one after the retry's first step
	 * (an oplock break) gets its interim reply. */
	call->quiet = false;
	retry(call);
	smbd_control_leave();
}

static void park_cancel(struct smb2_call *call)
{
	TALLOC_FREE(call->async_state);
	smbd_call_async_done(call, NT_STATUS_CANCELLED);
}

NTSTATUS smbd_park(struct smb2_call *call, struct smbd_park_list *list, bool quiet, smbd_park_retry_fn retry)
{
	SMBD_CONTROL_HELD();
	struct smbd_park *p = talloc_zero(call->req, struct smbd_park);
	if (p == NULL)
		return NT_STATUS_NO_MEMORY;
	p->loop = call->req->conn->loop;
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
	SMBD_CONTROL_HELD();
	struct smbd_park *oldest = list->newest;
	while (oldest != NULL && oldest->older != NULL)
		oldest = oldest->older;
	/* Unlinked now, so the owner may go; each runs on the next turn. */
	for (struct smbd_park *p = oldest; p != NULL;) {
		struct smbd_park *next = p->newer;
		p->older = p->newer = NULL;
		p->list = NULL;
		smbd_post(p->loop->posts, &p->wake, wake_cb);
		p = next;
	}
	list->newest = NULL;
}
