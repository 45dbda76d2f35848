#include "config.h"
#include "smbd/channel_sequence.h"

#include <sched.h>
#include <stdatomic.h>

#include "lib/idtable.h"
#include "smbd/conn.h"
#include "smbd/control.h"
#include "smbd/open.h"
#include "smbd/req.h"
#include "smbd/server.h"
#include "smbd/smb2_proto.h"

void smbd_channel_sequence_init(struct smbd_open *o, const struct smb2_call *create)
{
	o->channel_sequence = create->channel_sequence;
	o->outstanding = o->outstanding_pre = 0;
}

/* Whether seq is the open's or after it, in 16-bit serial arithmetic. */
static bool not_before(uint16_t seq, uint16_t current)
{
	return (uint16_t)(seq - current) <= 0x7FFF;
}

/* The open's three counters, against its channels on other loops: held
 * for a few instructions, so spun for. */
static void csn_lock(struct smbd_open *o)
{
	while (atomic_flag_test_and_set_explicit(&o->csn_busy, memory_order_acquire))
		sched_yield();
}

static void csn_unlock(struct smbd_open *o)
{
	atomic_flag_clear_explicit(&o->csn_busy, memory_order_release);
}

NTSTATUS smbd_channel_sequence_check(struct smb2_call *call, struct smbd_open *o)
{
	SMBD_SHARED_HELD();
	if (call->csn_counted || call->req->conn->dialect < SMB2_DIALECT_300)
		return NT_STATUS_OK;
	uint16_t seq = call->channel_sequence;
	bool replay = call->flags & SMB2_FLAGS_REPLAY_OPERATION;
	bool ok;
	csn_lock(o);
	if (seq == o->channel_sequence) {
		/* A replay under the current sequence is safe only if nothing
		 * from an older one may still be in progress. */
		ok = !replay || o->outstanding_pre == 0;
		if (ok)
			o->outstanding++;
	} else if (not_before(seq, o->channel_sequence)) {
		ok = true;
		o->outstanding_pre += o->outstanding;
		o->outstanding = 1;
		o->channel_sequence = seq;
	} else {
		ok = false;
	}
	csn_unlock(o);
	if (!ok) {
		/* Only these change the file; the others run as usual. */
		if (call->command == SMB2_WRITE || call->command == SMB2_SET_INFO || call->command == SMB2_IOCTL)
			return NT_STATUS_FILE_NOT_AVAILABLE;
		return NT_STATUS_OK;
	}
	call->csn_counted = true;
	call->csn_fid_persistent = o->persistent_id;
	call->csn_fid_volatile = o->volatile_id;
	return NT_STATUS_OK;
}

void smbd_channel_sequence_settle(struct smbd_req *req)
{
	struct smbd_server *srv = req->conn->srv;
	for (size_t i = 0; i < req->n_calls; i++) {
		struct smb2_call *call = &req->calls[i];
		if (!call->csn_counted)
			continue;
		call->csn_counted = false;
		smbd_shared_enter(); /* a request may be freed from anywhere */
		struct smbd_open *o = idtable_find(srv->opens, call->csn_fid_volatile);
		if (o != NULL && o->persistent_id == call->csn_fid_persistent) { /* else closed since */
			csn_lock(o);
			if (call->channel_sequence == o->channel_sequence && o->outstanding > 0)
				o->outstanding--;
			else if (o->outstanding_pre > 0)
				o->outstanding_pre--;
			csn_unlock(o);
		}
		smbd_shared_leave();
	}
}
