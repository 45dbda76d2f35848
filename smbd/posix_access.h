/*
 * What an identity may do to an existing file or directory, in NT access
 * rights, derived from POSIX permissions (mode bits and POSIX ACLs, as the
 * kernel evaluates them for the thread's current file-system ids).
 *
 * Security descriptors stored by clients are returned but not the basis
 * of these checks: the file system's own permissions are, so that a file
 * shared over SMB and NFS (or used locally) is guarded the same way.
 */
#ifndef PORTHOS_SMBD_POSIX_ACCESS_H
#define PORTHOS_SMBD_POSIX_ACCESS_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "lib/ntstatus.h"

struct vfs_share;

/*
 * The rights the current file-system identity (uid 'fsuid') holds on rel,
 * an existing object: read, write and execute from its permissions,
 * ownership rights (WRITE_DAC, WRITE_OWNER, attributes) for its owner,
 * DELETE when the parent directory allows removing the entry (write and
 * search, and the sticky-bit rule). Root holds FILE_ALL_ACCESS.
 *
 * Runs with the identity already taken on (smbd_become()), so the walks
 * to rel and its parent are checked by the kernel as that user.
 */
NTSTATUS smbd_posix_access(struct vfs_share *vfs, const char *rel, uid_t fsuid, uint32_t *out);

#endif
