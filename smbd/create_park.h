/*
 * A call parked until what it waits for is over (an oplock or lease
 * break, another CREATE of its name), then run again from the start by
 * its retry function (smb2_create_retry, smb2_set_info_retry). The owner
 * keeps parks in a list of its own
 * (smbd_park_list) and wakes them; CANCEL, or the session or tree going
 * away, finishes the call with STATUS_CANCELLED instead. A park is the
 * call's async_state: freeing it unlinks it.
 */
#ifndef PORTHOS_SMBD_CREATE_PARK_H
#define PORTHOS_SMBD_CREATE_PARK_H

#include <stdbool.h>

#include "lib/ntstatus.h"

struct smb2_call;
struct smbd_park;

struct smbd_park_list {
	struct smbd_park *newest;
	/* Called once a park has left the list (it may now be empty). */
	void (*left)(struct smbd_park_list *list);
};

/* Runs a parked call again from the start and completes it (or parks it again). */
typedef void (*smbd_park_retry_fn)(struct smb2_call *call);

/*
 * Parks call on list: NT_STATUS_PENDING (the handler returns it), or the
 * status that refuses the wait ("max async requests"). 'quiet': without
 * the interim reply, for waits that are short.
 */
NTSTATUS smbd_park(struct smb2_call *call, struct smbd_park_list *list, bool quiet, smbd_park_retry_fn retry);

/* Runs every parked call again, oldest first, on the next loop turn;
 * they leave the list (which may go away after this). */
void smbd_park_wake_all(struct smbd_park_list *list);

#endif
