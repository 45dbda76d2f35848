/*
 * DOS attributes and creation time, kept in the extended attribute
 * "user.porthos.dos" as a 16-byte little-endian record:
 *   u32 version (1) | u32 FileAttributes | u64 CreationTime (NT time)
 *
 * When the xattr is missing (or of an unknown version) the values are
 * derived: DIRECTORY for directories, ARCHIVE for everything else, never
 * READONLY from the mode (a missing owner write bit on Linux does not mean
 * what READONLY means to Windows, so Samba's default maps nothing either);
 * creation time is the birth time (statx STATX_BTIME) or else st_mtime.
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

#define VFS_DOS_XATTR_NAME "user.porthos.dos"
#define VFS_DOS_XATTR_VERSION 1
#define VFS_DOS_XATTR_SIZE 16

/* MS-FSCC 2.6 FileAttributes (prefixed: other headers may define these). */
#define VFS_DOS_ATTR_READONLY 0x00000001u
#define VFS_DOS_ATTR_HIDDEN 0x00000002u
#define VFS_DOS_ATTR_SYSTEM 0x00000004u
#define VFS_DOS_ATTR_DIRECTORY 0x00000010u
#define VFS_DOS_ATTR_ARCHIVE 0x00000020u
#define VFS_DOS_ATTR_NORMAL 0x00000080u
#define VFS_DOS_ATTR_TEMPORARY 0x00000100u
#define VFS_DOS_ATTR_OFFLINE 0x00001000u
#define VFS_DOS_ATTR_NOT_CONTENT_INDEXED 0x00002000u

/* The bits stored; DIRECTORY and NORMAL are derived from the file type. */
#define VFS_DOS_ATTR_STORED                                                   \
	(VFS_DOS_ATTR_READONLY | VFS_DOS_ATTR_HIDDEN | VFS_DOS_ATTR_SYSTEM |  \
	 VFS_DOS_ATTR_ARCHIVE | VFS_DOS_ATTR_TEMPORARY | VFS_DOS_ATTR_OFFLINE | \
	 VFS_DOS_ATTR_NOT_CONTENT_INDEXED)

struct vfs_dos_info {
	uint32_t attributes;	/* DIRECTORY forced per st; NORMAL if else 0 */
	uint64_t creation_time;	/* NT time: 100 ns since 1601-01-01 UTC */
	bool from_xattr;	/* false: derived values */
};

/*
 * fd must be a real fd (not O_PATH: the kernel refuses xattrs on those,
 * giving INVALID_HANDLE here); st is its fstat. For an O_PATH handle or a
 * name use vfs_dos_get_at().
 */
NTSTATUS vfs_dos_get(int fd, const struct stat *st, struct vfs_dos_info *out);
/*
 * rel resolved beneath the share, following in-share symlinks like
 * vfs_stat(); st may be NULL (then it is fetched). Only regular files and
 * directories carry the xattr: others get derived values without being
 * opened for reading (opening a device or FIFO could have side effects).
 */
NTSTATUS vfs_dos_get_at(struct vfs_share *s, const char *rel, const struct stat *st,
			struct vfs_dos_info *out);

/*
 * Derived values from a stat alone (creation time = st_mtime): for names
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
NTSTATUS vfs_dos_set_at(struct vfs_share *s, const char *rel, uint32_t attributes,
			uint64_t creation_time);

/* NT time <-> timespec (MS-DTYP 2.3.3 FILETIME); pre-1601 clamps to 0. */
uint64_t vfs_nttime_from_timespec(const struct timespec *ts);
void vfs_timespec_from_nttime(uint64_t nt, struct timespec *ts);

#endif
