/*
 * Directory leases (SMB 3.x, SMB2_GLOBAL_CAP_DIRECTORY_LEASING, "smb3
 * directory leases"): a client caches what a directory lists, R, and keeps
 * its handle open, H (never W). Any change to the listing made through
 * this server breaks the directory's leases to none (MS-FSA 2.1.4.12 with
 * PARENT_OBJECT): an entry created, overwritten, deleted, renamed or
 * linked, its size, attributes or times set, or a file closed after it was
 * written (at the CLOSE, not at each WRITE: smbtorture smb2.lease.v2_request).
 * The change does not wait for the acknowledgment. A lease whose key the
 * changing open named as its ParentLeaseKey is spared: its holder made the
 * change. As Windows (the smb2.dirlease tests of later smbtorture).
 *
 * Changes made around the server, by other processes on this node, break
 * them too (dir_lease_watch.h); changes made on another node of a cluster
 * are not seen yet.
 */
#ifndef PORTHOS_SMBD_DIR_LEASE_H
#define PORTHOS_SMBD_DIR_LEASE_H

#include <stdint.h>

#include "lib/ntstatus.h"
#include "smbd/create_park.h"

struct smb2_call;
struct smbd_open;
struct smbd_server;
struct smbd_share;

/* The entry rel (share-relative, as on disk) of share changed in its
 * directory; parent_key (NULL: none) is the causing open's ParentLeaseKey. */
void smbd_dir_lease_entry_changed(struct smbd_server *srv, const struct smbd_share *share, const char *rel,
				  const uint8_t *parent_key);
/* o's entry changed: the same, with o's lease's ParentLeaseKey. */
void smbd_dir_lease_open_changed(const struct smbd_open *o);
/* o was renamed from old_rel: its new directory gained an entry, and its
 * old one, if another, lost one. */
void smbd_dir_lease_renamed(const struct smbd_open *o, const char *old_rel);

/*
 * Directory dir is to be renamed while something beneath it is open
 * (MS-FSA 2.1.5.14.11). Windows asks the holders of opens that only cache
 * their handle (an H lease) to give it up, one at a time, and refuses the
 * rename while an open stays: ACCESS_DENIED at once if one has no H,
 * NT_STATUS_PENDING with the call parked (run again by retry) while a
 * break is answered, OK once nothing beneath is open.
 */
NTSTATUS smbd_dir_lease_clear_beneath(struct smb2_call *call, const struct smbd_open *dir, smbd_park_retry_fn retry);

#endif
