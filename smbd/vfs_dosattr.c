#include "config.h"
#include "smbd/vfs_dosattr.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/wire.h"

/* Seconds from 1601-01-01 (NT epoch) to 1970-01-01 (Unix epoch). */
#define VFS_NT_EPOCH_DELTA 11644473600LL
#define VFS_NT_TICKS 10000000LL		/* 100 ns units per second */

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

uint64_t vfs_nttime_from_timespec(const struct timespec *ts)
{
	int64_t sec = (int64_t)ts->tv_sec;

	if (sec < -VFS_NT_EPOCH_DELTA)
		return 0;
	if ((uint64_t)(sec + VFS_NT_EPOCH_DELTA) > (UINT64_MAX - 9999999) / VFS_NT_TICKS)
		return UINT64_MAX;
	return (uint64_t)(sec + VFS_NT_EPOCH_DELTA) * VFS_NT_TICKS + (uint64_t)ts->tv_nsec / 100;
}

void vfs_timespec_from_nttime(uint64_t nt, struct timespec *ts)
{
	ts->tv_sec = (time_t)((int64_t)(nt / VFS_NT_TICKS) - VFS_NT_EPOCH_DELTA);
	ts->tv_nsec = (long)(nt % VFS_NT_TICKS) * 100;
}

/* Birth time if the file system records one, else the mtime. */
static uint64_t vfs_dos_derived_ctime(int fd, const struct stat *st)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_SYNC_AS_STAT, STATX_BTIME, &stx) == 0 &&
	    (stx.stx_mask & STATX_BTIME)) {
		struct timespec ts = { .tv_sec = stx.stx_btime.tv_sec,
				       .tv_nsec = stx.stx_btime.tv_nsec };

		return vfs_nttime_from_timespec(&ts);
	}
	return vfs_nttime_from_timespec(&st->st_mtim);
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
	out->creation_time = vfs_dos_derived_ctime(fd, st);
}

void vfs_dos_from_stat(const struct stat *st, struct vfs_dos_info *out)
{
	out->attributes = S_ISDIR(st->st_mode) ? VFS_DOS_ATTR_DIRECTORY : VFS_DOS_ATTR_ARCHIVE;
	out->creation_time = vfs_nttime_from_timespec(&st->st_mtim);
	out->from_xattr = false;
}

NTSTATUS vfs_dos_get(int fd, const struct stat *st, struct vfs_dos_info *out)
{
	/* One spare byte tells an over-long (newer or foreign) record. */
	uint8_t rec[VFS_DOS_XATTR_SIZE + 1];
	struct wire_rd r;
	uint32_t version, attrs;
	uint64_t ctime;
	ssize_t n;

	n = fgetxattr(fd, VFS_DOS_XATTR_NAME, rec, sizeof(rec));
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
			vfs_dos_derive(fd, st, out);
			return NT_STATUS_OK;
		default:
			return ntstatus_from_errno(errno);
		}
	}
	if (n != VFS_DOS_XATTR_SIZE) {
		LOG_DBG("ignoring %s of %zd bytes", VFS_DOS_XATTR_NAME, n);
		vfs_dos_derive(fd, st, out);
		return NT_STATUS_OK;
	}

	wire_rd_init(&r, rec, (size_t)n);
	version = wire_u32(&r);
	attrs = wire_u32(&r);
	ctime = wire_u64(&r);
	if (!wire_ok(&r) || version != VFS_DOS_XATTR_VERSION) {
		LOG_DBG("ignoring %s version %u", VFS_DOS_XATTR_NAME, version);
		vfs_dos_derive(fd, st, out);
		return NT_STATUS_OK;
	}

	out->attributes = vfs_dos_fix_attrs(attrs, st);
	out->creation_time = ctime;
	out->from_xattr = true;
	return NT_STATUS_OK;
}

NTSTATUS vfs_dos_set(int fd, uint32_t attributes, uint64_t creation_time)
{
	uint8_t rec[VFS_DOS_XATTR_SIZE];

	put_le32(rec, VFS_DOS_XATTR_VERSION);
	put_le32(rec + 4, attributes & VFS_DOS_ATTR_STORED);
	put_le64(rec + 8, creation_time);

	if (fsetxattr(fd, VFS_DOS_XATTR_NAME, rec, sizeof(rec), 0) != 0) {
		if (errno == ENOTSUP) {
			vfs_dos_log_nosup();
			return NT_STATUS_OK;
		}
		return ntstatus_from_errno(errno);
	}
	return NT_STATUS_OK;
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
