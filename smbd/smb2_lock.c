/* LOCK (MS-SMB2 2.2.26, 2.2.27, 3.3.5.14) */
#include "config.h"

#include <talloc.h>

#include "smbd/brlock.h"
#include "smbd/conn.h"
#include "smbd/dispatch.h"
#include "smbd/durable.h"
#include "smbd/file_state.h"
#include "smbd/open.h"
#include "smbd/session.h"
#include "smbd/smb2_handlers.h"
#include "smbd/smb2_proto.h"

#define LOCK_ELEMENT_SIZE 24

struct smb2_lock_element {
	uint64_t offset;
	uint64_t length;
	uint32_t flags;
};

struct smb2_lock_in {
	uint16_t lock_count;
	uint32_t lock_sequence; /* LockSequenceNumber (4 bits), LockSequenceIndex (28) */
	uint64_t fid_persistent;
	uint64_t fid_volatile;
	struct smb2_lock_element *locks;
};

static NTSTATUS decode(struct smb2_call *call, struct smb2_lock_in *in)
{
	struct wire_rd *r = &call->in;
	wire_skip(r, 2); /* StructureSize */
	in->lock_count = wire_u16(r);
	in->lock_sequence = wire_u32(r);
	in->fid_persistent = wire_u64(r);
	in->fid_volatile = wire_u64(r);
	if (!wire_ok(r) || wire_remaining(r) < (size_t)in->lock_count * LOCK_ELEMENT_SIZE)
		return NT_STATUS_INVALID_PARAMETER;
	in->locks = talloc_array(call->req, struct smb2_lock_element, in->lock_count ? in->lock_count : 1);
	if (in->locks == NULL)
		return NT_STATUS_NO_MEMORY;
	for (uint16_t i = 0; i < in->lock_count; i++) {
		in->locks[i].offset = wire_u64(r);
		in->locks[i].length = wire_u64(r);
		in->locks[i].flags = wire_u32(r);
		wire_skip(r, 4); /* Reserved */
	}
	return wire_ok(r) ? NT_STATUS_OK : NT_STATUS_INVALID_PARAMETER;
}

static void encode(struct smb2_call *call)
{
	wire_put_u16(&call->out, 4);
	wire_put_u16(&call->out, 0); /* Reserved */
}

/* MS-SMB2 3.3.5.14.1: unlocks run in order; those done before a failure stay done. */
static NTSTATUS do_unlocks(struct smbd_open *o, const struct smb2_lock_in *in)
{
	for (uint16_t i = 0; i < in->lock_count; i++) {
		const struct smb2_lock_element *e = &in->locks[i];
		if (e->flags != SMB2_LOCKFLAG_UNLOCK)
			return NT_STATUS_INVALID_PARAMETER;
		if (!smbd_brlock_range_valid(e->offset, e->length))
			return NT_STATUS_INVALID_LOCK_RANGE;
		NTSTATUS status = smbd_brlock_unlock(o, e->offset, e->length);
		if (!NT_STATUS_IS_OK(status))
			return status;
	}
	return NT_STATUS_OK;
}

/* The four flag values a lock element may carry (MS-SMB2 3.3.5.14.2). */
static bool lock_flags_valid(uint32_t flags, uint16_t lock_count)
{
	switch (flags) {
	case SMB2_LOCKFLAG_SHARED_LOCK | SMB2_LOCKFLAG_FAIL_IMMEDIATELY:
	case SMB2_LOCKFLAG_EXCLUSIVE_LOCK | SMB2_LOCKFLAG_FAIL_IMMEDIATELY:
		return true;
	case SMB2_LOCKFLAG_SHARED_LOCK:
	case SMB2_LOCKFLAG_EXCLUSIVE_LOCK:
		/* A request that may block carries one lock only. */
		return lock_count == 1;
	default:
		return false;
	}
}

/*
 * MS-SMB2 3.3.5.14: lock sequence replay detection. A client that lost a
 * channel resends its LOCK on another; the bucket (LockSequenceIndex
 * 1..64) remembers the sequence number of the last one done, and a resent
 * request with that number is answered SUCCESS without being done again.
 * It applies on connections that may have a sibling channel (3.x with
 * multichannel), and to resilient handles from 2.1 on, which outlive
 * their connection for a client to reconnect and resend. (Windows does
 * not check it for durable handles on 2.1: smbtorture
 * smb2.lock.replay_broken_windows.)
 */
static uint8_t *lock_sequence_bucket(const struct smb2_call *call, struct smbd_open *o, uint32_t lock_sequence)
{
	const struct smbd_conn *conn = call->req->conn;
	uint32_t index = lock_sequence >> 4;
	bool sibling = conn->dialect >= SMB2_DIALECT_300 && (conn->server_capabilities & SMB2_GLOBAL_CAP_MULTI_CHANNEL);
	if (conn->dialect == SMB2_DIALECT_202 || !(sibling || smbd_durable_resilient(o)))
		return NULL;
	return index >= 1 && index <= 64 ? &o->lock_sequence[index - 1] : NULL;
}

/* A LOCK succeeded: its bucket keeps its sequence number. */
static void lock_sequence_done(struct smb2_call *call, struct smbd_open *o, uint32_t lock_sequence)
{
	uint8_t *bucket = lock_sequence_bucket(call, o, lock_sequence);
	if (bucket != NULL)
		*bucket = (uint8_t)((lock_sequence & 0xF) + 1);
}

static void lock_finished(struct smb2_call *call, NTSTATUS status)
{
	if (NT_STATUS_IS_OK(status)) {
		/* The request is still whole: find its open and bucket again. */
		struct smb2_lock_in in;
		struct smbd_open *o;
		struct wire_rd saved = call->in;
		wire_rd_init(&call->in, call->in_hdr, call->in_len);
		wire_seek(&call->in, SMB2_HDR_LEN);
		if (NT_STATUS_IS_OK(decode(call, &in)) &&
		    NT_STATUS_IS_OK(smbd_call_open(call, in.fid_persistent, in.fid_volatile, &o))) {
			lock_sequence_done(call, o, in.lock_sequence);
			smbd_durable_changed(o);
		}
		call->in = saved;
		encode(call);
	}
	smbd_call_async_done(call, status);
}

/* MS-SMB2 3.3.5.14.2: all or nothing; locks taken before a failure are undone. */
static NTSTATUS do_locks(struct smb2_call *call, struct smbd_open *o, const struct smb2_lock_in *in)
{
	NTSTATUS status = NT_STATUS_OK;
	uint16_t i;
	for (i = 0; i < in->lock_count; i++) {
		const struct smb2_lock_element *e = &in->locks[i];
		if (!lock_flags_valid(e->flags, in->lock_count)) {
			status = NT_STATUS_INVALID_PARAMETER;
			break;
		}
		bool exclusive = (e->flags & SMB2_LOCKFLAG_EXCLUSIVE_LOCK) != 0;
		status = smbd_brlock_lock(o, e->offset, e->length, exclusive);
		if (NT_STATUS_EQUAL(status, NT_STATUS_LOCK_NOT_GRANTED) &&
		    !(e->flags & SMB2_LOCKFLAG_FAIL_IMMEDIATELY)) {
			/* Only a single-element request gets here. Windows
			 * answers LOCK_NOT_GRANTED, never the SMB1-era
			 * FILE_LOCK_CONFLICT (smb2.lock.errorcode). */
			return smbd_brlock_wait(call, o, e->offset, e->length, exclusive, lock_finished);
		}
		if (!NT_STATUS_IS_OK(status))
			break;
	}
	if (NT_STATUS_IS_OK(status)) {
		/* MS-FSA 2.1.4.12: a byte-range lock breaks level II oplocks. */
		smbd_oplock_break_level2(o, true);
		return status;
	}
	smbd_brlock_drop_newest(o, i);
	return status;
}

NTSTATUS smb2_lock(struct smb2_call *call)
{
	struct smb2_lock_in in;
	NTSTATUS status = decode(call, &in);
	if (!NT_STATUS_IS_OK(status))
		return status;
	struct smbd_open *o;
	status = smbd_call_open(call, in.fid_persistent, in.fid_volatile, &o);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (in.lock_count == 0)
		return NT_STATUS_INVALID_PARAMETER;
	if (o->pipe != NULL)
		return NT_STATUS_INVALID_DEVICE_REQUEST;
	/* MS-FSA 2.1.5.8: no byte-range locks on directories. */
	if (o->is_dir)
		return NT_STATUS_INVALID_PARAMETER;
	/* MS-SMB2 3.3.5.2.9 lets LOCK through on an expired session; Windows
	 * then releases locks but takes no new ones (smbtorture
	 * smb2.session.expire2s). */
	if (call->session->state == SMBD_SESSION_EXPIRED && !(in.locks[0].flags & SMB2_LOCKFLAG_UNLOCK))
		return NT_STATUS_NETWORK_SESSION_EXPIRED;

	uint8_t *bucket = lock_sequence_bucket(call, o, in.lock_sequence);
	if (bucket != NULL) {
		if (*bucket == (in.lock_sequence & 0xF) + 1) {
			encode(call); /* a replay of what was done */
			return NT_STATUS_OK;
		}
		*bucket = 0;
	}

	/* MS-SMB2 3.3.5.14: the first element decides whether this is a
	 * series of unlocks or of locks; mixing is INVALID_PARAMETER at the
	 * first element of the other kind. */
	if (in.locks[0].flags & SMB2_LOCKFLAG_UNLOCK)
		status = do_unlocks(o, &in);
	else
		status = do_locks(call, o, &in);
	if (NT_STATUS_IS_OK(status)) {
		lock_sequence_done(call, o, in.lock_sequence);
		smbd_durable_changed(o);
		encode(call);
	}
	return status;
}
