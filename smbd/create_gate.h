/*
 * CREATEs of one name run one at a time.
 *
 * A CREATE does its file-system work on an I/O worker and its checks
 * against other opens on the loop afterwards (smb2_create.c). Two of them
 * for the same name could otherwise cross: one creates the file, the
 * other opens it and registers first, and the creator, which Windows
 * lets win (its create and its share modes are one step on NTFS), would
 * find itself shut out of its own new file. So a CREATE takes its name's
 * gate before its first step and leaves it with its result; one arriving
 * meanwhile waits quietly and then runs again from the start.
 *
 * Names match as the share compares them: ASCII case folded unless the
 * share is case sensitive. Two spellings differing in the case of other
 * letters, or two hard links, do not share a gate; for those the checks
 * on the loop still keep the state consistent (the later open fails).
 */
#ifndef PORTHOS_SMBD_CREATE_GATE_H
#define PORTHOS_SMBD_CREATE_GATE_H

#include <talloc.h>

#include "lib/ntstatus.h"

struct smb2_call;
struct smbd_create_gate;
struct vfs_share;

/*
 * Takes the gate of rel (a path from vfs_path_from_smb()) on vfs:
 * NT_STATUS_OK and *gate, a talloc child of mem whose freeing leaves it;
 * or NT_STATUS_PENDING: the call waits (held, cancellable) and is run
 * again by smb2_create_retry() once the gate is free.
 */
NTSTATUS smbd_create_gate_enter(struct smb2_call *call, TALLOC_CTX *mem, struct vfs_share *vfs, const char *rel,
				struct smbd_create_gate **gate);

#endif
