#include "config.h"
#include "smbd/vfs_dosattr.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "lib/fscc.h"
#include "lib/log.h"
#include "lib/wire.h"

/*
 * ChangeTime witnesses (see vfs_dosattr.h): the first margin between the
 * clock read and the ctime our setxattr produces, grown x8 per retry.
 */
#define VFS_DOS_CTIME_MARGIN_NS 1000000LL
#define VFS_DOS_CTIME_TRIES 4

/*
 * The only global in the storage layer: "this file system has no user
 * xattrs" is worth one warning, not one per request. Atomic, so any
 * worker thread may set it.
 */
static atomic_flag vfs_dos_nosup_logged = ATOMIC_FLAG_INIT;

static void vfs_dos_log_nosup(void)
{
	if (!atomic_flag_test_and_set(&vfs_dos_nosup_logged))
		LOG_WARN("file system refuses user xattrs: DOS attributes and creation "
			 "times are derived and not stored (further cases not logged)");
}

static int vfs_ts_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	if (a->tv_nsec != b->tv_nsec)
		return a->tv_nsec < b->tv_nsec ? -1 : 1;
	return 0;
}

/* Birth time of (dirfd, name) if the file system records one, else the mtime. */
static uint64_t vfs_dos_derived_ctime_at(int dirfd, const char *name, int flags, const struct stat *st)
{
	struct statx stx;

	if (statx(dirfd, name, flags | AT_STATX_SYNC_AS_STAT, STATX_BTIME, &stx) == 0 &&
	    (stx.stx_mask & STATX_BTIME)) {
		struct timespec ts = { .tv_sec = stx.stx_btime.tv_sec,
				       .tv_nsec = stx.stx_btime.tv_nsec };

		return fscc_nttime_from_timespec(&ts);
	}
	return fscc_nttime_from_timespec(&st->st_mtim);
}

/* MS-FSA 2.1.5.12.21: DIRECTORY always on directories; NORMAL alone. */
static uint32_t vfs_dos_fix_attrs(uint32_t attrs, const struct stat *st)
{
	attrs &= VFS_DOS_ATTR_STORED;
	if (S_ISDIR(st->st_mode))
		attrs |= VFS_DOS_ATTR_DIRECTORY;
	if (attrs == 0)
		attrs = VFS_DOS_ATTR_NORMAL;
	return attrs;
}

static void vfs_dos_derive(int fd, const struct stat *st, struct vfs_dos_info *out)
{
	vfs_dos_from_stat(st, out);
	out->creation_time = vfs_dos_derived_ctime_at(fd, "", AT_EMPTY_PATH, st);
}

void vfs_dos_from_stat(const struct stat *st, struct vfs_dos_info *out)
{
	out->attributes = S_ISDIR(st->st_mode) ? VFS_DOS_ATTR_DIRECTORY : VFS_DOS_ATTR_ARCHIVE;
	out->creation_time = fscc_nttime_from_timespec(&st->st_mtim);
	out->change_time = fscc_nttime_from_timespec(&st->st_ctim);
	out->from_xattr = false;
	out->change_time_set = false;
}

/*
 * A version 2 record's override, if the file has not changed since it
 * was stored (the two witnesses of vfs_dosattr.h).
 */
static void vfs_dos_check_override(struct wire_rd *r, const struct stat *st,
				   struct vfs_dos_info *out)
{
	struct timespec limit, mtime;
	uint64_t change_time;

	change_time = wire_u64(r);
	limit.tv_sec = (time_t)(int64_t)wire_u64(r);
	mtime.tv_sec = (time_t)(int64_t)wire_u64(r);
	limit.tv_nsec = (long)wire_u32(r);
	mtime.tv_nsec = (long)wire_u32(r);
	if (!wire_ok(r) || change_time == 0)
		return;
	if (vfs_ts_cmp(&st->st_ctim, &limit) > 0 || vfs_ts_cmp(&st->st_mtim, &mtime) != 0)
		return;		/* changed since: the real ctime stands */
	out->change_time = change_time;
	out->change_time_set = true;
}

/*
 * The attributes from a record read with (f|l)getxattr (n: its result):
 * true if it gave them, false (OK) where they are to be derived, false
 * with *status set for an error to return.
 */
static bool vfs_dos_from_record(const uint8_t *rec, ssize_t n, const struct stat *st,
				struct vfs_dos_info *out, NTSTATUS *status)
{
	struct wire_rd r;
	uint32_t version, attrs;
	uint64_t ctime;

	*status = NT_STATUS_OK;
	if (n < 0) {
		switch (errno) {
		case ENOTSUP:
			vfs_dos_log_nosup();
			/* fallthrough */
		case ENODATA:
		case ERANGE:
		case EACCES:
		case EPERM:
			/* Attributes are readable without read access
			 * (FILE_READ_ATTRIBUTES): fall back, do not fail. */
			return false;
		default:
			*status = ntstatus_from_errno(errno);
			return false;
		}
	}

	wire_rd_init(&r, rec, (size_t)n);
	version = wire_u32(&r);
	attrs = wire_u32(&r);
	ctime = wire_u64(&r);
	if (!wire_ok(&r) ||
	    !((version == VFS_DOS_XATTR_VERSION && n == VFS_DOS_XATTR_SIZE) ||
	      (version == VFS_DOS_XATTR_VERSION2 && n == VFS_DOS_XATTR_SIZE2))) {
		LOG_DBG("ignoring %s of %zd bytes, version %u", VFS_DOS_XATTR_NAME, n,
			wire_ok(&r) ? version : 0);
		return false;
	}

	out->attributes = vfs_dos_fix_attrs(attrs, st);
	out->creation_time = ctime;
	out->change_time = fscc_nttime_from_timespec(&st->st_ctim);
	out->change_time_set = false;
	out->from_xattr = true;
	if (version == VFS_DOS_XATTR_VERSION2)
		vfs_dos_check_override(&r, st, out);
	return true;
}

NTSTATUS vfs_dos_get(int fd, const struct stat *st, struct vfs_dos_info *out)
{
	/* One spare byte tells an over-long (newer or foreign) record. */
	uint8_t rec[VFS_DOS_XATTR_SIZE2 + 1];
	NTSTATUS status;

	if (!vfs_dos_from_record(rec, fgetxattr(fd, VFS_DOS_XATTR_NAME, rec, sizeof(rec)), st, out, &status) &&
	    NT_STATUS_IS_OK(status))
		vfs_dos_derive(fd, st, out);
	return status;
}

/*
 * One syscall per entry of a listing instead of two opens: the record is
 * read by path through the directory's fd, not following a last symlink,
 * and name is one component of the directory's own listing, so nothing
 * outside the directory is reached and nothing is opened (a FIFO or a
 * device swapped in meanwhile included).
 */
NTSTATUS vfs_dos_get_entry(int dir_fd, const char *name, const struct stat *st, struct vfs_dos_info *out)
{
	uint8_t rec[VFS_DOS_XATTR_SIZE2 + 1];
	char path[sizeof("/proc/self/fd/") + 12 + NAME_MAX];
	NTSTATUS status;

	if (strchr(name, '/') != NULL || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    (size_t)snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dir_fd, name) >= sizeof(path))
		return NT_STATUS_OBJECT_NAME_INVALID;
	if (vfs_dos_from_record(rec, lgetxattr(path, VFS_DOS_XATTR_NAME, rec, sizeof(rec)), st, out, &status) ||
	    !NT_STATUS_IS_OK(status))
		return status;
	vfs_dos_from_stat(st, out);
	out->creation_time = vfs_dos_derived_ctime_at(dir_fd, name, AT_SYMLINK_NOFOLLOW, st);
	return NT_STATUS_OK;
}

/* Store a record; *stored false (and OK) where xattrs are unsupported. */
static NTSTATUS vfs_dos_store(int fd, const uint8_t *rec, size_t len, bool *stored)
{
	*stored = false;
	if (fsetxattr(fd, VFS_DOS_XATTR_NAME, rec, len, 0) != 0) {
		if (errno == ENOTSUP) {
			vfs_dos_log_nosup();
			return NT_STATUS_OK;
		}
		return ntstatus_from_errno(errno);
	}
	*stored = true;
	return NT_STATUS_OK;
}

NTSTATUS vfs_dos_set(int fd, uint32_t attributes, uint64_t creation_time)
{
	uint8_t rec[VFS_DOS_XATTR_SIZE];
	bool stored;

	put_le32(rec, VFS_DOS_XATTR_VERSION);
	put_le32(rec + 4, attributes & VFS_DOS_ATTR_STORED);
	put_le64(rec + 8, creation_time);
	return vfs_dos_store(fd, rec, sizeof(rec), &stored);
}

NTSTATUS vfs_dos_set_ex(int fd, uint32_t attributes, uint64_t creation_time,
			uint64_t change_time)
{
	uint8_t rec[VFS_DOS_XATTR_SIZE2];
	long long margin = VFS_DOS_CTIME_MARGIN_NS;
	struct stat before, after;
	NTSTATUS status;
	bool stored;

	if (change_time == 0)
		return vfs_dos_set(fd, attributes, creation_time);
	if (fstat(fd, &before) != 0)
		return ntstatus_from_errno(errno);

	for (int i = 0; i < VFS_DOS_CTIME_TRIES; i++, margin *= 8) {
		struct timespec limit;

		/* Wall clock, as the kernel's ctime stamps. */
		clock_gettime(CLOCK_REALTIME, &limit);
		limit.tv_nsec += margin;
		limit.tv_sec += limit.tv_nsec / 1000000000;
		limit.tv_nsec %= 1000000000;

		put_le32(rec, VFS_DOS_XATTR_VERSION2);
		put_le32(rec + 4, attributes & VFS_DOS_ATTR_STORED);
		put_le64(rec + 8, creation_time);
		put_le64(rec + 16, change_time);
		put_le64(rec + 24, (uint64_t)(int64_t)limit.tv_sec);
		put_le64(rec + 32, (uint64_t)(int64_t)before.st_mtim.tv_sec);
		put_le32(rec + 40, (uint32_t)limit.tv_nsec);
		put_le32(rec + 44, (uint32_t)before.st_mtim.tv_nsec);
		status = vfs_dos_store(fd, rec, sizeof(rec), &stored);
		if (!NT_STATUS_IS_OK(status) || !stored)
			return status;

		if (fstat(fd, &after) != 0)
			return ntstatus_from_errno(errno);
		if (vfs_ts_cmp(&after.st_mtim, &before.st_mtim) != 0) {
			/* A data write raced the set: witness the new mtime. */
			before = after;
			continue;
		}
		if (vfs_ts_cmp(&after.st_ctim, &limit) <= 0)
			return NT_STATUS_OK;
	}
	/* Never witnessed (a very slow store or a clock step): no override. */
	LOG_WARN("could not store a ChangeTime override; the file's ctime will be reported");
	return vfs_dos_set(fd, attributes, creation_time);
}

/*
 * An fd able to carry xattrs for rel, or -1 with *pfd_out and *st_out still
 * usable for derived values. Only regular files and directories are
 * opened for reading, and only if the name still names the inode the
 * O_PATH walk found (a swap in between must not make us open a device).
 */
static NTSTATUS vfs_dos_open_at(struct vfs_share *s, const char *rel, int *pfd_out,
				int *fd_out, struct stat *st_out)
{
	struct stat st2;
	NTSTATUS status;
	int fd;

	*fd_out = -1;
	status = vfs_open(s, rel, O_PATH, 0, pfd_out);
	if (!NT_STATUS_IS_OK(status))
		return status;
	status = vfs_fstat(*pfd_out, st_out);
	if (!NT_STATUS_IS_OK(status)) {
		close(*pfd_out);
		*pfd_out = -1;
		return status;
	}
	if (!S_ISREG(st_out->st_mode) && !S_ISDIR(st_out->st_mode))
		return NT_STATUS_OK;

	status = vfs_open(s, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, &fd);
	if (!NT_STATUS_IS_OK(status))
		return NT_STATUS_OK;	/* e.g. no read permission: derive */
	if (fstat(fd, &st2) != 0 || st2.st_dev != st_out->st_dev || st2.st_ino != st_out->st_ino) {
		close(fd);
		return NT_STATUS_OK;
	}
	*fd_out = fd;
	return NT_STATUS_OK;
}

NTSTATUS vfs_dos_get_at(struct vfs_share *s, const char *rel, const struct stat *st,
			struct vfs_dos_info *out)
{
	struct stat own;
	NTSTATUS status;
	int pfd, fd;

	status = vfs_dos_open_at(s, rel, &pfd, &fd, &own);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (st == NULL)
		st = &own;
	if (fd >= 0) {
		status = vfs_dos_get(fd, st, out);
		close(fd);
	} else {
		vfs_dos_derive(pfd, st, out);
	}
	close(pfd);
	return status;
}

NTSTATUS vfs_dos_set_at(struct vfs_share *s, const char *rel, uint32_t attributes,
			uint64_t creation_time)
{
	struct stat st;
	NTSTATUS status;
	int pfd, fd;

	status = vfs_dos_open_at(s, rel, &pfd, &fd, &st);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (fd >= 0) {
		status = vfs_dos_set(fd, attributes, creation_time);
		close(fd);
	} else if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
		/* Could not open it for the xattr (permissions). */
		status = NT_STATUS_ACCESS_DENIED;
	} else {
		/* Linux keeps no user xattrs on special files: as ENOTSUP. */
		LOG_DBG("not storing DOS attributes on special file %s", rel);
	}
	close(pfd);
	return status;
}
