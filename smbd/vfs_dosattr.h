/*
 * DOS attributes, creation time and a client-set ChangeTime, kept in the
 * extended attribute "user.porthos.dos" as a little-endian record:
 *   version 1 (16 bytes):
 *     u32 version | u32 FileAttributes | u64 CreationTime (NT time)
 *   version 2 (48 bytes), written only when a ChangeTime is set:
 *     the version 1 fields (version = 2), then
 *     u64 ChangeTime (NT time, the client's value)
 *     s64 ctime_limit_sec | s64 mtime_sec | u32 ctime_limit_nsec | u32 mtime_nsec
 * Both versions are read; a set without a ChangeTime writes version 1.
 *
 * ChangeTime. Linux ctime cannot be set, but Windows clients (backup and
 * copy tools, smbtorture) set ChangeTime through FileBasicInformation and
 * read it back. The stored value is reported for as long as the file has
 * not changed since; after that, the real ctime is. "Not changed" cannot
 * be "ctime equals the ctime seen after storing the record": storing
 * that ctime would itself be a change, and on kernels with multigrain
 * timestamps (Linux >= 6.13: ext4, xfs, btrfs, tmpfs) a ctime read makes
 * the next change fine-grained, so no second write lands on the same
 * value. The record therefore holds two witnesses instead:
 *   - ctime_limit: a wall-clock time taken before the write plus a small
 *     margin (1 ms, grown if the write was slower), checked to be >= the
 *     ctime the write produced. ctime <= ctime_limit: no metadata change
 *     (chmod, rename, link, xattr) after that instant.
 *   - mtime: the mtime when the record was written (setxattr leaves it
 *     alone). A data write or truncate moves it, even inside the margin
 *     (the fstat after our write marks the ctime queried, so the next
 *     change gets a fine-grained, strictly later stamp on multigrain
 *     kernels).
 * The override holds while ctime <= ctime_limit and mtime is unchanged.
 * A metadata-only change by another process within the margin (about a
 * millisecond) of the set can be missed; a data change cannot, except on
 * file systems with coarse timestamps (1 s granularity), where a write in
 * the same tick as the previous one leaves mtime as it was anyway. A
 * wall clock stepped backwards after the set lengthens the window by the
 * step.
 *
 * When the xattr is missing (or of an unknown version or size) the values
 * are derived: DIRECTORY for directories, ARCHIVE for everything else,
 * never READONLY from the mode (a missing owner write bit on Linux does
 * not mean what READONLY means to Windows, so Samba's default maps nothing
 * either); creation time is the birth time (statx STATX_BTIME) or else
 * st_mtime; ChangeTime is st_ctime.
 * A file system without user xattrs (ENOTSUP) keeps working on derived
 * values: gets derive, sets succeed without storing, logged once.
 */
#ifndef PORTHOS_SMBD_VFS_DOSATTR_H
#define PORTHOS_SMBD_VFS_DOSATTR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/ntstatus.h"
#include "smbd/vfs.h"

/* NT time <-> timespec: fscc_nttime_from_timespec() etc. in lib/fscc.h. */
#define VFS_DOS_XATTR_NAME "user.porthos.dos"
#define VFS_DOS_XATTR_VERSION 1
#define VFS_DOS_XATTR_SIZE 16
#define VFS_DOS_XATTR_VERSION2 2
#define VFS_DOS_XATTR_SIZE2 48

/* MS-FSCC 2.6 FileAttributes (prefixed: other headers may define these). */
#define VFS_DOS_ATTR_READONLY 0x00000001u
#define VFS_DOS_ATTR_HIDDEN 0x00000002u
#define VFS_DOS_ATTR_SYSTEM 0x00000004u
#define VFS_DOS_ATTR_DIRECTORY 0x00000010u
#define VFS_DOS_ATTR_ARCHIVE 0x00000020u
#define VFS_DOS_ATTR_NORMAL 0x00000080u
#define VFS_DOS_ATTR_TEMPORARY 0x00000100u
#define VFS_DOS_ATTR_SPARSE_FILE 0x00000200u
#define VFS_DOS_ATTR_OFFLINE 0x00001000u
#define VFS_DOS_ATTR_NOT_CONTENT_INDEXED 0x00002000u

/* The bits stored; DIRECTORY and NORMAL are derived from the file type. */
#define VFS_DOS_ATTR_STORED                                                   \
	(VFS_DOS_ATTR_READONLY | VFS_DOS_ATTR_HIDDEN | VFS_DOS_ATTR_SYSTEM |  \
	 VFS_DOS_ATTR_ARCHIVE | VFS_DOS_ATTR_TEMPORARY | VFS_DOS_ATTR_OFFLINE | \
	 VFS_DOS_ATTR_NOT_CONTENT_INDEXED | VFS_DOS_ATTR_SPARSE_FILE)

struct vfs_dos_info {
	uint32_t attributes;	/* DIRECTORY forced per st; NORMAL if else 0 */
	uint64_t creation_time;	/* NT time: 100 ns since 1601-01-01 UTC */
	uint64_t change_time;	/* NT time: the client's value or st_ctim */
	bool from_xattr;	/* false: derived values */
	bool change_time_set;	/* change_time is a still valid client value */
};

/*
 * fd must be a real fd (not O_PATH: the kernel refuses xattrs on those,
 * giving INVALID_HANDLE here); st is its fstat. For an O_PATH handle or a
 * name use vfs_dos_get_at().
 */
NTSTATUS vfs_dos_get(int fd, const struct stat *st, struct vfs_dos_info *out);
/* The same for entry 'name' (one component) of the directory open as
 * dir_fd, a regular file or directory whose stat is st, without opening
 * it: what listings use. */
NTSTATUS vfs_dos_get_entry(int dir_fd, const char *name, const struct stat *st, struct vfs_dos_info *out);
/*
 * rel resolved beneath the share, following in-share symlinks like
 * vfs_stat(); st may be NULL (then it is fetched). Only regular files and
 * directories carry the xattr: others get derived values without being
 * opened for reading (opening a device or FIFO could have side effects).
 */
NTSTATUS vfs_dos_get_at(struct vfs_share *s, const char *rel, const struct stat *st,
			struct vfs_dos_info *out);

/*
 * Derived values from a stat alone (creation time = st_mtime, change time
 * = st_ctime): for names
 * that cannot be opened, e.g. a dangling or escaping symlink that a
 * listing shows with its own lstat.
 */
void vfs_dos_from_stat(const struct stat *st, struct vfs_dos_info *out);

/*
 * Store attributes & VFS_DOS_ATTR_STORED and creation_time as given: the
 * caller merges ("0 means unchanged" etc. are SET_INFO semantics, MS-FSA
 * 2.1.5.14.2, not ours). fd: a real fd; write permission on the inode is
 * needed, not a writable fd.
 */
NTSTATUS vfs_dos_set(int fd, uint32_t attributes, uint64_t creation_time);
/*
 * As vfs_dos_set(), and change_time (NT time) becomes the ChangeTime
 * reported until the file changes; 0 stores none. Any set without one
 * (vfs_dos_set() too) drops an earlier override: changing attributes is
 * a change on Windows as well. Call it last in a SET_INFO, after the
 * other time stamps are applied (a new mtime would void the override at
 * once). If the write cannot be witnessed (see above) the record is
 * stored without the override and OK is returned, as for ENOTSUP.
 */
NTSTATUS vfs_dos_set_ex(int fd, uint32_t attributes, uint64_t creation_time,
			uint64_t change_time);
NTSTATUS vfs_dos_set_at(struct vfs_share *s, const char *rel, uint32_t attributes,
			uint64_t creation_time);

#endif
