/*
 * Byte-range locks (MS-FSA 2.1.5.8, 2.1.5.9; conflicts with I/O, 2.1.4.10).
 *
 * Windows locks are mandatory: they are checked by READ and WRITE, not
 * only by other lock requests. Each open carries the locks it holds
 * (o->brlocks); the locks of a file are those of all its opens, found
 * through smbd_file_foreach_open(). A blocked LOCK request waits on the
 * open that asked for it and is retried whenever a lock of the file is
 * released.
 *
 * The lists are plain arrays, searched linearly: a virtualisation host
 * holds a handful of locks per disk image (qemu locks a few bytes of the
 * header to mark an image in use), so there is nothing to index. A file
 * with thousands of locks would want an interval tree here.
 */
#ifndef PORTHOS_SMBD_BRLOCK_H
#define PORTHOS_SMBD_BRLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/ntstatus.h"

struct smbd_open;
struct smb2_call;

/* MS-SMB2 2.2.26.1 SMB2_LOCK_ELEMENT Flags */
#define SMB2_LOCKFLAG_SHARED_LOCK 0x00000001
#define SMB2_LOCKFLAG_EXCLUSIVE_LOCK 0x00000002
#define SMB2_LOCKFLAG_UNLOCK 0x00000004
#define SMB2_LOCKFLAG_FAIL_IMMEDIATELY 0x00000010

struct smbd_brlock {
	uint64_t offset;
	uint64_t length; /* 0 is a valid, "zero-byte" lock */
	bool exclusive;
};

/* The range logic, pure (and unit-tested on its own). */

/* MS-FSA 2.1.5.8: the last byte must fit in 64 bits (zero length always fits). */
bool smbd_brlock_range_valid(uint64_t offset, uint64_t length);
/*
 * Whether two lock ranges overlap. Non-empty ranges overlap when they
 * share a byte. A zero-byte lock at X sits between bytes X-1 and X: it
 * overlaps a range only when X is inside it and not its first byte
 * (Windows, as smbtorture smb2.lock.zerobytelength records); two zero-byte
 * locks never overlap.
 */
bool smbd_brlock_overlap(uint64_t off_a, uint64_t len_a, uint64_t off_b, uint64_t len_b);
/*
 * MS-FSA 2.1.5.8: whether a new lock request conflicts with a held lock.
 * An exclusive request conflicts with every overlapping lock, the
 * requester's own included; a shared request only with another open's
 * exclusive lock.
 */
bool smbd_brlock_lock_conflicts(const struct smbd_brlock *held, bool held_by_requester, uint64_t offset,
				uint64_t length, bool exclusive);
/*
 * MS-FSA 2.1.4.10: whether a READ or WRITE of [offset, offset+length)
 * through an open conflicts with a held lock. Reads are stopped by other
 * opens' exclusive locks; writes also by shared locks, the writer's own
 * shared locks included. Zero-length I/O and zero-byte locks never conflict.
 */
bool smbd_brlock_io_conflicts(const struct smbd_brlock *held, bool held_by_requester, uint64_t offset,
			      uint64_t length, bool write);

/* Operations on the locks of a file. */

/* Takes one lock for o: OK, or LOCK_NOT_GRANTED on a conflict. */
NTSTATUS smbd_brlock_lock(struct smbd_open *o, uint64_t offset, uint64_t length, bool exclusive);
/*
 * Releases the lock of o with exactly this offset and length (MS-FSA
 * 2.1.5.9), the exclusive one first when a shared one is stacked on it;
 * RANGE_NOT_LOCKED when there is none. Blocked requests on the file are
 * woken.
 */
NTSTATUS smbd_brlock_unlock(struct smbd_open *o, uint64_t offset, uint64_t length);
/* Drops the n locks o took last: the undo of a partly granted request
 * (which may not be the ones an unlock by range would pick). */
void smbd_brlock_drop_newest(struct smbd_open *o, size_t n);
/* MS-FSA 2.1.4.10 for READ (write false) and WRITE: OK or FILE_LOCK_CONFLICT. */
NTSTATUS smbd_brlock_check_io(const struct smbd_open *o, uint64_t offset, uint64_t length, bool write);
/* Number of locks o holds (for tests and diagnostics). */
size_t smbd_brlock_count(const struct smbd_open *o);
/* The locks o holds, oldest first (smbd_brlock_count() of them); valid until they change. */
const struct smbd_brlock *smbd_brlock_held(const struct smbd_open *o);

/*
 * Parks a LOCK request that conflicts until the lock can be taken; the
 * caller returns what this returns (PENDING, or an error). 'finish' is
 * called once, from the event loop: OK with the lock taken, CANCELLED on
 * CANCEL or teardown, RANGE_NOT_LOCKED when o is closed first. It must
 * complete the call (smbd_call_async_done).
 */
NTSTATUS smbd_brlock_wait(struct smb2_call *call, struct smbd_open *o, uint64_t offset, uint64_t length,
			  bool exclusive, void (*finish)(struct smb2_call *call, NTSTATUS status));

/*
 * Called by smbd_open_close() while o is still registered with its file:
 * drops o's locks, wakes requests blocked on them, and ends o's own
 * blocked requests with RANGE_NOT_LOCKED (Windows, smb2.lock.cancel).
 */
void smbd_brlock_close(struct smbd_open *o);

#endif
