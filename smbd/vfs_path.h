/*
 * SMB path names to share-relative Linux path names.
 *
 * Pure string work, no file system access and no global state: the result
 * is only a syntactically clean relative path. Confinement to the share is
 * NOT this module's job; smbd/vfs.c resolves every path beneath the share
 * root with openat2(RESOLVE_BENEATH), so a path that slips past these rules
 * still cannot leave the share.
 */
#ifndef PORTHOS_SMBD_VFS_PATH_H
#define PORTHOS_SMBD_VFS_PATH_H

#include <talloc.h>

#include "lib/ntstatus.h"

/* Longest component, in UTF-8 bytes (Linux NAME_MAX). */
#define VFS_PATH_COMPONENT_MAX 255

/*
 * smb_path: the name from an SMB2 CREATE (or a rename/link target), already
 * UTF-8, '\' separated, relative to the share: "" is the share root,
 * "dir\\file.txt" a file. On success *rel_out is a talloc child of mem:
 * "." for the root, otherwise "dir/file.txt" (no leading, trailing or
 * doubled '/', no "." or ".." component).
 *
 * Errors (first offending component wins, left to right):
 *   leading '\'                        INVALID_PARAMETER (MS-SMB2 3.3.5.9)
 *   whole path >= PATH_MAX bytes       NAME_TOO_LONG
 *   empty component ("a\\\\b")         OBJECT_NAME_INVALID
 *   ".." anywhere                      OBJECT_PATH_SYNTAX_BAD
 *   "." as the last component          OBJECT_NAME_INVALID
 *   "." as an inner component          OBJECT_PATH_NOT_FOUND
 *   char < 0x20 or " * / : < > ? |     OBJECT_NAME_INVALID (MS-FSCC 2.1.5.2)
 *   component > 255 bytes              OBJECT_NAME_INVALID
 *   any stream but "name::$DATA"       OBJECT_NAME_INVALID
 *   (then, the path being well formed)
 *   an "@GMT-YYYY.MM.DD-HH.MM.SS"
 *   component, any case                OBJECT_NAME_NOT_FOUND
 * The "." / ".." statuses are what Windows returns (Samba's raw.chkpath
 * torture test, run against Windows servers, expects exactly these).
 * Windows would resolve a ".." that stays inside the share; we reject every
 * ".." instead: SMB2 clients send canonical paths, so no real client is
 * affected, and the walk never has to reason about "..".
 * One trailing '\' is allowed and dropped ("dir\\" is "dir"); "::$DATA"
 * (any case) on the last component names the default stream and is dropped.
 * Named streams are not served: "name:stream[:type]", ":stream" and every
 * ':' elsewhere are refused as a volume without streams (FAT) refuses
 * them, never taken as a name that contains ':'.
 * A previous-version token (Samba's and SMB1's way to name a snapshot,
 * where SMB2 clients send the TWrp context) asks for a snapshot; none is
 * served yet, so, as with TWrp, the answer is "not found", and no file or
 * directory of that name can be created meanwhile.
 */
NTSTATUS vfs_path_from_smb(TALLOC_CTX *mem, const char *smb_path, char **rel_out);

/*
 * Split a relative path as produced above into the parent directory ("."
 * when there is none) and the leaf name, both talloc children of mem.
 * The root ("."), an empty path and leaves that are empty, "." or ".." give
 * OBJECT_NAME_INVALID: a leaf from here is always a single real name that
 * is safe to hand to an *at() call.
 */
NTSTATUS vfs_path_split(TALLOC_CTX *mem, const char *rel, char **parent_out, char **leaf_out);

/*
 * The same split in place, without allocating (for worker threads): buf is
 * modified; *parent_out points into buf or to a static string.
 */
NTSTATUS vfs_path_split_buf(char *buf, const char **parent_out, const char **leaf_out);

#endif
