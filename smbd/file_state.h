/*
 * The state shared by all opens of one file (one (st_dev, st_ino)): which
 * opens exist and the oplocks they hold. This is the local implementation;
 * a cluster implementation keeps the same state coherent across nodes
 * (DESIGN.md), so callers go through these functions only.
 */
#ifndef PORTHOS_SMBD_FILE_STATE_H
#define PORTHOS_SMBD_FILE_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/ntstatus.h"
#include "smbd/create_park.h"

struct smbd_server;
struct smbd_open;
struct smb2_call;
struct smbd_lease;

enum smbd_oplock_state {
	SMBD_OPLOCK_HELD,
	SMBD_OPLOCK_BREAKING, /* a break was sent; waiting for the ack */
};

/* Registers an open (after it has its dev/ino) with its file. */
bool smbd_file_add_open(struct smbd_server *srv, struct smbd_open *o);
/* Forgets an open; wakes CREATEs waiting on its oplock. */
void smbd_file_remove_open(struct smbd_open *o);

/* A copy of the list of (dev, ino)'s opens (under mem), for a caller that
 * may close some of them; NULL with *n 0 if there are none. */
struct smbd_open **smbd_file_opens(struct smbd_server *srv, dev_t dev, ino_t ino, void *mem, size_t *n);

/* Calls fn for every open of o's file (o included). fn must not close opens. */
void smbd_file_foreach_open(const struct smbd_open *o, void (*fn)(struct smbd_open *each, void *arg), void *arg);

/*
 * MS-FSA 2.1.5.1.2 share-mode check: a new open of (dev, ino) asking for
 * 'access' and granting 'share_access' to others. SHARING_VIOLATION when
 * it and an existing open do not let each other in.
 */
NTSTATUS smbd_share_mode_check(struct smbd_server *srv, dev_t dev, ino_t ino, uint32_t access,
			       uint32_t share_access);

/*
 * MS-FSA 2.1.5.1.2.1: before a sharing violation is final, the leases of
 * the opens in the way (other than 'mine') give up H, so that handles kept
 * open only for caching can be closed. True when the CREATE must wait for
 * acknowledgments (smbd_oplock_wait) and then check again.
 */
bool smbd_share_mode_break_handles(struct smbd_server *srv, dev_t dev, ino_t ino, uint32_t access,
				   uint32_t share_access, const struct smbd_lease *mine);

/* Whether some open of (dev, ino) has the file marked for deletion. */
bool smbd_file_delete_pending(struct smbd_server *srv, dev_t dev, ino_t ino);

/* Another open of the same file, or NULL. */
struct smbd_open *smbd_file_other_open(const struct smbd_open *o);

/*
 * MS-SMB2 3.3.5.9 / MS-FSA 2.1.5.17: the oplock a new open of (dev, ino)
 * may have. When another client holds an exclusive or batch oplock, a
 * break is sent and NT_STATUS_PENDING returned: the CREATE waits (see
 * smbd_oplock_wait) and is run again once the break is resolved.
 * 'overwrite' (supersede/overwrite dispositions) breaks to none. Opens
 * with leases of other keys than 'mine' (the requester's, or NULL) count
 * as others; their leases are broken later, by smbd_lease_check().
 */
NTSTATUS smbd_oplock_check(struct smbd_server *srv, dev_t dev, ino_t ino, uint8_t requested, uint32_t access,
			   bool overwrite, const struct smbd_lease *mine, uint8_t *granted);
/*
 * After the share modes let a new open in: leases of other keys than
 * 'mine' lose W (everything on an overwrite; H too when 'deleting', a
 * delete-on-close open). NT_STATUS_PENDING when it must wait for
 * acknowledgments (smbd_oplock_wait): for W to go, or, when it runs again
 * after a wait (not first_attempt), for a break still under way. A stat
 * open breaks nothing.
 */
NTSTATUS smbd_lease_check(struct smbd_server *srv, dev_t dev, ino_t ino, uint32_t access, bool overwrite,
			  bool deleting, const struct smbd_lease *mine, bool first_attempt);
/* Parks a CREATE until the breaks on (dev, ino) are resolved, then runs it again. */
NTSTATUS smbd_oplock_wait(struct smb2_call *call, dev_t dev, ino_t ino, smbd_park_retry_fn retry);
/* A write through 'writer': level II oplocks of the other opens break to
 * none; a byte-range lock breaks the locker's own too (smb2.oplock.brl*). */
void smbd_oplock_break_level2(struct smbd_open *writer, bool include_self);
/* Whether smbd_oplock_break_level2() would break anything: a check the
 * common path makes in its shared section (smbd/control.h). */
bool smbd_oplock_level2_cached(const struct smbd_open *writer, bool include_self);
/* The client's OPLOCK_BREAK acknowledgment (MS-SMB2 3.3.5.22.1). */
NTSTATUS smbd_oplock_ack(struct smbd_open *o, uint8_t level, uint8_t *new_level);

#endif
