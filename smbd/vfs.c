#include "config.h"
#include "smbd/vfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/mapbuf.h"
#include "lib/wildcard.h"

#ifndef SYS_openat2
#define SYS_openat2 437		/* same number on every architecture */
#endif

/* The confinement every walk uses. */
#define VFS_RESOLVE (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)

/*
 * openat2 fails with EAGAIN when a rename or mount raced a ".." step of
 * the walk (it cannot then prove the walk stayed beneath); retrying is
 * what the man page asks for. ".." only comes from in-share symlinks here.
 */
#define VFS_OPENAT2_TRIES 16

static int vfs_openat2(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(unsigned int)(flags | O_CLOEXEC),
		.resolve = VFS_RESOLVE,
	};

	/* openat2 insists on mode 0 unless a file may be created. */
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		how.mode = mode & 07777;

	for (int i = 0; i < VFS_OPENAT2_TRIES; i++) {
		long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

		if (fd >= 0)
			return (int)fd;
		if (errno != EAGAIN && errno != EINTR)
			return -1;
	}
	return -1;
}

static void vfs_close(int fd)
{
	int save = errno;

	if (fd >= 0)
		close(fd);
	errno = save;
}

/*
 * errno from a confined walk. EXDEV is the kernel saying "this would leave
 * the share" (".." above the root, an absolute path or symlink): that is a
 * forbidden object, not a cross-device operation, so ACCESS_DENIED, as
 * Samba answers for a link outside the share with "wide links = no".
 * OBJECT_PATH_NOT_FOUND would also be defensible, but the client may see
 * the link in a listing anyway, so hiding it buys nothing, and "denied"
 * tells an administrator what happened. ELOOP (magic link, loop) keeps
 * the generic mapping, OBJECT_PATH_NOT_FOUND.
 */
static NTSTATUS vfs_walk_status(struct vfs_share *s, const char *rel, int err)
{
	if (err == EXDEV) {
		LOG_INFO("refused path escaping share %s: %s", s->root_path, rel);
		return NT_STATUS_ACCESS_DENIED;
	}
	return ntstatus_from_errno(err);
}

/* Is the parent directory of rel there? Used to refine ENOENT/ENOTDIR. */
static NTSTATUS vfs_parent_status(struct vfs_share *s, const char *rel)
{
	char buf[PATH_MAX];
	const char *parent, *leaf;
	int fd;

	if (strlen(rel) >= sizeof(buf))
		return NT_STATUS_NAME_TOO_LONG;
	strcpy(buf, rel);
	if (!NT_STATUS_IS_OK(vfs_path_split_buf(buf, &parent, &leaf)))
		return NT_STATUS_OBJECT_NAME_INVALID;
	fd = vfs_openat2(s->root_fd, parent, O_PATH | O_DIRECTORY, 0);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return NT_STATUS_OBJECT_PATH_NOT_FOUND;
		return vfs_walk_status(s, rel, errno);
	}
	close(fd);
	return NT_STATUS_OK;
}

static NTSTATUS vfs_open_status(struct vfs_share *s, const char *rel, int flags, int err)
{
	NTSTATUS status;
	int fd;

	switch (err) {
	case ENOENT:
		/* Windows tells a missing name from a missing path. */
		status = vfs_parent_status(s, rel);
		return NT_STATUS_IS_OK(status) ? NT_STATUS_OBJECT_NAME_NOT_FOUND : status;
	case ENOTDIR:
		if (flags & O_DIRECTORY) {
			fd = vfs_openat2(s->root_fd, rel, O_PATH, 0);
			if (fd >= 0) {
				close(fd);
				return NT_STATUS_NOT_A_DIRECTORY;
			}
		}
		return NT_STATUS_OBJECT_PATH_NOT_FOUND;
	default:
		return vfs_walk_status(s, rel, err);
	}
}

static int vfs_share_destructor(struct vfs_share *s)
{
	if (s->root_fd >= 0)
		close(s->root_fd);
	s->root_fd = -1;
	return 0;
}

NTSTATUS vfs_share_open(TALLOC_CTX *mem, const char *root, struct vfs_share **out)
{
	struct vfs_share *s;
	int fd;

	*out = NULL;
	if (root == NULL || root[0] == '\0')
		return NT_STATUS_INVALID_PARAMETER;

	s = talloc_zero(mem, struct vfs_share);
	if (s == NULL)
		return NT_STATUS_NO_MEMORY;
	s->root_fd = -1;
	talloc_set_destructor(s, vfs_share_destructor);
	s->root_path = talloc_strdup(s, root);
	if (s->root_path == NULL) {
		talloc_free(s);
		return NT_STATUS_NO_MEMORY;
	}

	s->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->root_fd < 0) {
		int err = errno;

		LOG_ERR("cannot open share root %s: %s", root, strerror(err));
		talloc_free(s);
		return ntstatus_from_errno(err);
	}

	/* Without openat2 nothing could be confined: refuse the share. */
	fd = vfs_openat2(s->root_fd, ".", O_PATH | O_DIRECTORY, 0);
	if (fd < 0) {
		int err = errno;

		LOG_ERR("openat2 unusable on %s: %s (Linux >= 5.6 is required)", root, strerror(err));
		talloc_free(s);
		return err == ENOSYS ? NT_STATUS_NOT_SUPPORTED : ntstatus_from_errno(err);
	}
	close(fd);

	*out = s;
	return NT_STATUS_OK;
}

static bool vfs_rel_ok(const char *rel)
{
	return rel != NULL && rel[0] != '\0' && strnlen(rel, PATH_MAX) < PATH_MAX;
}

NTSTATUS vfs_open(struct vfs_share *s, const char *rel, int flags, mode_t mode, int *fd_out)
{
	int fd;

	*fd_out = -1;
	if (!vfs_rel_ok(rel))
		return NT_STATUS_INVALID_PARAMETER;

	fd = vfs_openat2(s->root_fd, rel, flags, mode);
	if (fd < 0)
		return vfs_open_status(s, rel, flags, errno);
	*fd_out = fd;
	return NT_STATUS_OK;
}

/*
 * Look for comp among the entries of dir_rel (share-relative, opened
 * beneath the root): an exact entry if there is one, else the first that
 * matches case-insensitively. found: NAME_MAX + 1 bytes.
 */
static NTSTATUS vfs_case_scan(struct vfs_share *s, const char *dir_rel, const char *comp,
			      char *found, bool *match)
{
	NTSTATUS status = NT_STATUS_OK;
	struct dirent *de;
	DIR *d;
	int fd;

	*match = false;
	atomic_fetch_add_explicit(&s->case_scans, 1, memory_order_relaxed);
	fd = vfs_openat2(s->root_fd, dir_rel, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0) {
		switch (errno) {
		case EACCES:
			/* Searchable but not listable: exact names only. */
			return NT_STATUS_OK;
		case ENOENT:
		case ENOTDIR:
			/* Gone or replaced since the previous step. */
			return NT_STATUS_OBJECT_PATH_NOT_FOUND;
		default:
			return vfs_walk_status(s, dir_rel, errno);
		}
	}
	d = fdopendir(fd);
	if (d == NULL) {
		int err = errno;

		close(fd);
		return ntstatus_from_errno(err);
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0)
				status = ntstatus_from_errno(errno);
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		/*
		 * Exact: only when the name exists but did not resolve (a
		 * dangling link as a directory component) or appeared
		 * since; it wins over any case variant seen before it.
		 */
		if (strcmp(de->d_name, comp) == 0) {
			strcpy(found, de->d_name);
			*match = true;
			break;
		}
		if (!*match && name_casecmp(de->d_name, comp) == 0) {
			strcpy(found, de->d_name);	/* d_name: NAME_MAX + 1 */
			*match = true;
		}
	}
	closedir(d);
	if (!NT_STATUS_IS_OK(status))
		*match = false;
	return status;
}

/*
 * The component-by-component walk behind vfs_resolve_case(), once the
 * whole path failed as spelled. disk holds the on-disk prefix built so far.
 */
static NTSTATUS vfs_resolve_case_walk(struct vfs_share *s, const char *rel, char *disk,
				      bool *exists_out)
{
	char want[NAME_MAX + 1], found[NAME_MAX + 1];
	const char *comp = rel;
	size_t dlen = 0;

	*exists_out = false;
	disk[0] = '\0';
	for (;;) {
		const char *slash = strchr(comp, '/');
		size_t clen = slash != NULL ? (size_t)(slash - comp) : strlen(comp);
		bool last = slash == NULL;
		size_t start = dlen == 0 ? 0 : dlen + 1;	/* where comp goes */
		bool dots, match;
		NTSTATUS status;
		int fd, flags;

		if (clen == 0 || clen > NAME_MAX)
			return NT_STATUS_OBJECT_NAME_INVALID;
		if (start + clen >= PATH_MAX)
			return NT_STATUS_NAME_TOO_LONG;
		if (dlen > 0)
			disk[dlen] = '/';
		memcpy(want, comp, clen);
		want[clen] = '\0';
		memcpy(disk + start, want, clen + 1);
		dots = (clen == 1 && comp[0] == '.') || (clen == 2 && comp[0] == '.' && comp[1] == '.');

		/* A leaf is a name (not followed); a directory is walked through. */
		flags = last ? O_PATH | O_NOFOLLOW : O_PATH | O_DIRECTORY;
		fd = vfs_openat2(s->root_fd, disk, flags, 0);
		if (fd < 0 && errno == ENOENT && !dots) {
			/* The parent: the prefix, cut short for the call. */
			if (dlen > 0)
				disk[dlen] = '\0';
			status = vfs_case_scan(s, dlen > 0 ? disk : ".", want, found, &match);
			if (dlen > 0)
				disk[dlen] = '/';
			if (!NT_STATUS_IS_OK(status))
				return status;
			if (!match) {
				if (!last)
					return NT_STATUS_OBJECT_PATH_NOT_FOUND;
				return NT_STATUS_OK;	/* new name: client's spelling */
			}
			clen = strlen(found);
			if (start + clen >= PATH_MAX)
				return NT_STATUS_NAME_TOO_LONG;
			memcpy(disk + start, found, clen + 1);
			fd = vfs_openat2(s->root_fd, disk, flags, 0);
			if (fd < 0 && errno == ENOENT && last) {
				/* Removed since the scan: absent after all. */
				memcpy(disk + start, want, strlen(want) + 1);
				return NT_STATUS_OK;
			}
		}
		if (fd < 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				return NT_STATUS_OBJECT_PATH_NOT_FOUND;
			return vfs_walk_status(s, rel, errno);
		}
		close(fd);
		if (last) {
			*exists_out = true;
			return NT_STATUS_OK;
		}
		dlen = start + clen;
		comp = slash + 1;
	}
}

NTSTATUS vfs_resolve_case(TALLOC_CTX *mem, struct vfs_share *s, const char *rel,
			  char **ondisk_out, bool *exists_out)
{
	char disk[PATH_MAX];
	NTSTATUS status;
	bool exists;
	int fd;

	*ondisk_out = NULL;
	*exists_out = false;
	if (s == NULL || !vfs_rel_ok(rel))
		return NT_STATUS_INVALID_PARAMETER;

	/* Fast path: the name as spelled, one openat2, no listing. */
	fd = vfs_openat2(s->root_fd, rel, O_PATH | O_NOFOLLOW, 0);
	if (fd >= 0) {
		close(fd);
		exists = true;
		goto done;
	}
	if (errno != ENOENT && errno != ENOTDIR)
		return vfs_walk_status(s, rel, errno);
	if (s->case_sensitive) {
		status = vfs_parent_status(s, rel);
		if (!NT_STATUS_IS_OK(status))
			return status;
		exists = false;
		goto done;
	}

	status = vfs_resolve_case_walk(s, rel, disk, &exists);
	if (!NT_STATUS_IS_OK(status))
		return status;
	*ondisk_out = talloc_strdup(mem, disk);
	if (*ondisk_out == NULL)
		return NT_STATUS_NO_MEMORY;
	*exists_out = exists;
	return NT_STATUS_OK;
done:
	*ondisk_out = talloc_strdup(mem, rel);
	if (*ondisk_out == NULL)
		return NT_STATUS_NO_MEMORY;
	*exists_out = exists;
	return NT_STATUS_OK;
}

NTSTATUS vfs_reopen(struct vfs_share *s, const char *rel, int path_fd, int flags, int *fd_out)
{
	struct stat a, b;
	NTSTATUS status;
	int fd;

	*fd_out = -1;
	if (flags & (O_CREAT | O_EXCL | O_TRUNC))
		return NT_STATUS_INVALID_PARAMETER;
	if (fstat(path_fd, &a) != 0)
		return ntstatus_from_errno(errno);
	status = vfs_open(s, rel, flags, 0, &fd);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (fstat(fd, &b) != 0) {
		int err = errno;

		close(fd);
		return ntstatus_from_errno(err);
	}
	if (a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		close(fd);
		return NT_STATUS_FILE_RENAMED;
	}
	*fd_out = fd;
	return NT_STATUS_OK;
}

NTSTATUS vfs_fstat(int fd, struct stat *st)
{
	if (fstat(fd, st) != 0)
		return ntstatus_from_errno(errno);
	return NT_STATUS_OK;
}

NTSTATUS vfs_stat(struct vfs_share *s, const char *rel, struct stat *st)
{
	NTSTATUS status;
	int fd;

	status = vfs_open(s, rel, O_PATH, 0, &fd);
	if (!NT_STATUS_IS_OK(status))
		return status;
	status = vfs_fstat(fd, st);
	close(fd);
	return status;
}

/*
 * Resolve the parent of rel beneath the share; *leaf_out then names one
 * real entry in *pfd_out ("." / ".." / "" / names with '/' never pass).
 * buf (PATH_MAX bytes, the caller's stack) holds the split copy.
 */
static NTSTATUS vfs_open_parent(struct vfs_share *s, const char *rel, char *buf,
				int *pfd_out, const char **leaf_out)
{
	const char *parent;
	NTSTATUS status;
	int fd;

	*pfd_out = -1;
	*leaf_out = NULL;
	if (!vfs_rel_ok(rel))
		return NT_STATUS_INVALID_PARAMETER;
	/* The share root has no name to act on. */
	if (strcmp(rel, ".") == 0)
		return NT_STATUS_ACCESS_DENIED;

	strcpy(buf, rel);
	status = vfs_path_split_buf(buf, &parent, leaf_out);
	if (!NT_STATUS_IS_OK(status))
		return status;

	fd = vfs_openat2(s->root_fd, parent, O_PATH | O_DIRECTORY, 0);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return NT_STATUS_OBJECT_PATH_NOT_FOUND;
		return vfs_walk_status(s, rel, errno);
	}
	*pfd_out = fd;
	return NT_STATUS_OK;
}

NTSTATUS vfs_lstat(struct vfs_share *s, const char *rel, struct stat *st)
{
	char buf[PATH_MAX];
	const char *leaf;
	NTSTATUS status;
	int pfd;

	if (rel != NULL && strcmp(rel, ".") == 0)
		return vfs_fstat(s->root_fd, st);
	status = vfs_open_parent(s, rel, buf, &pfd, &leaf);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (fstatat(pfd, leaf, st, AT_SYMLINK_NOFOLLOW) != 0)
		status = ntstatus_from_errno(errno);
	close(pfd);
	return status;
}

NTSTATUS vfs_mkdir(struct vfs_share *s, const char *rel, mode_t mode)
{
	char buf[PATH_MAX];
	const char *leaf;
	NTSTATUS status;
	int pfd;

	if (rel != NULL && strcmp(rel, ".") == 0)
		return NT_STATUS_OBJECT_NAME_COLLISION;
	status = vfs_open_parent(s, rel, buf, &pfd, &leaf);
	if (!NT_STATUS_IS_OK(status))
		return status;
	/* mkdirat never follows a symlink in the leaf: EEXIST. */
	if (mkdirat(pfd, leaf, mode & 07777) != 0)
		status = ntstatus_from_errno(errno);
	close(pfd);
	return status;
}

NTSTATUS vfs_unlink(struct vfs_share *s, const char *rel)
{
	char buf[PATH_MAX];
	const char *leaf;
	NTSTATUS status;
	int pfd;

	status = vfs_open_parent(s, rel, buf, &pfd, &leaf);
	if (!NT_STATUS_IS_OK(status))
		return status;
	/* Removes a symlink leaf itself, never its target. */
	if (unlinkat(pfd, leaf, 0) != 0)
		status = ntstatus_from_errno(errno);
	close(pfd);
	return status;
}

NTSTATUS vfs_rmdir(struct vfs_share *s, const char *rel)
{
	char buf[PATH_MAX];
	const char *leaf;
	NTSTATUS status;
	int pfd;

	status = vfs_open_parent(s, rel, buf, &pfd, &leaf);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (unlinkat(pfd, leaf, AT_REMOVEDIR) != 0) {
		switch (errno) {
		case ENOTDIR:
			/* Also a symlink to a directory: it is not one. */
			status = NT_STATUS_NOT_A_DIRECTORY;
			break;
		case EEXIST:
		case ENOTEMPTY:
			status = NT_STATUS_DIRECTORY_NOT_EMPTY;
			break;
		default:
			status = ntstatus_from_errno(errno);
			break;
		}
	}
	close(pfd);
	return status;
}

/* Is leaf in dirfd a directory (not following a symlink)? */
static bool vfs_leaf_is_dir(int dirfd, const char *leaf)
{
	struct stat st;

	return fstatat(dirfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

static NTSTATUS vfs_rename_status(int err, bool replace)
{
	switch (err) {
	case EISDIR:
	case ENOTDIR:
	case ENOTEMPTY:
		/* A directory target, or a directory over a file: MS-FSA
		 * 2.1.5.14.11 denies replacing a directory. */
		if (replace)
			return NT_STATUS_ACCESS_DENIED;
		return ntstatus_from_errno(err);
	default:
		return ntstatus_from_errno(err);
	}
}

/* The regular file at (dfd, leaf), opened to be held; -1 if none or not
 * readable (then the rename frees its blocks itself). O_NONBLOCK: never
 * wait for a lease break. */
static int open_replaced(int dfd, const char *leaf)
{
	int fd = openat(dfd, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

NTSTATUS vfs_rename(struct vfs_share *s, const char *from_rel, const char *to_rel, bool replace)
{
	return vfs_rename_holding(s, from_rel, to_rel, replace, NULL);
}

NTSTATUS vfs_rename_holding(struct vfs_share *s, const char *from_rel, const char *to_rel, bool replace,
			    int *replaced)
{
	char fbuf[PATH_MAX], tbuf[PATH_MAX];
	const char *fleaf, *tleaf;
	NTSTATUS status;
	int ffd, tfd = -1;

	if (replaced != NULL)
		*replaced = -1;
	status = vfs_open_parent(s, from_rel, fbuf, &ffd, &fleaf);
	if (!NT_STATUS_IS_OK(status))
		return status;
	status = vfs_open_parent(s, to_rel, tbuf, &tfd, &tleaf);
	if (!NT_STATUS_IS_OK(status))
		goto out;

	if (replace) {
		/*
		 * Linux would replace an empty directory; Windows refuses
		 * any directory. A directory created after this check can
		 * still be replaced if empty: harmless, it held nothing.
		 */
		if (vfs_leaf_is_dir(tfd, tleaf)) {
			status = NT_STATUS_ACCESS_DENIED;
			goto out;
		}
		int held = replaced != NULL ? open_replaced(tfd, tleaf) : -1;
		if (renameat2(ffd, fleaf, tfd, tleaf, 0) != 0) {
			status = vfs_rename_status(errno, true);
			if (held >= 0)
				close(held);
		} else if (replaced != NULL) {
			*replaced = held;
		}
		goto out;
	}

	if (renameat2(ffd, fleaf, tfd, tleaf, RENAME_NOREPLACE) == 0)
		goto out;
	if (errno != EINVAL) {
		status = vfs_rename_status(errno, false);
		goto out;
	}
	/*
	 * EINVAL: either a directory moved into itself or a file system
	 * without RENAME_NOREPLACE (some network file systems). Fall back
	 * to check-then-rename; the race is the file system's limitation.
	 */
	{
		struct stat st;

		if (fstatat(tfd, tleaf, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			status = NT_STATUS_OBJECT_NAME_COLLISION;
			goto out;
		}
	}
	if (renameat(ffd, fleaf, tfd, tleaf) != 0)
		status = vfs_rename_status(errno, false);
out:
	vfs_close(tfd);
	vfs_close(ffd);
	return status;
}

/* Link from (ffd, fleaf) over an existing (tfd, tleaf), atomically;
 * *replaced as in vfs_rename_holding. */
static NTSTATUS vfs_link_replace(int ffd, const char *fleaf, int tfd, const char *tleaf, int *replaced)
{
	char tmp[64];
	NTSTATUS status = NT_STATUS_OK;
	int i;

	if (vfs_leaf_is_dir(tfd, tleaf))
		return NT_STATUS_ACCESS_DENIED;

	for (i = 0; i < 8; i++) {
		uint64_t r;

		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			return NT_STATUS_INTERNAL_ERROR;
		snprintf(tmp, sizeof(tmp), ".porthos-link-%016llx", (unsigned long long)r);
		if (linkat(ffd, fleaf, tfd, tmp, 0) == 0)
			break;
		if (errno != EEXIST)
			return ntstatus_from_errno(errno);
	}
	if (i == 8)
		return NT_STATUS_OBJECT_NAME_COLLISION;

	int held = replaced != NULL ? open_replaced(tfd, tleaf) : -1;
	if (renameat2(tfd, tmp, tfd, tleaf, 0) != 0) {
		status = vfs_rename_status(errno, true);
	} else if (replaced != NULL) {
		*replaced = held;
		held = -1;
	}
	if (held >= 0)
		close(held);
	/*
	 * Gone after a successful rename, except when source and target
	 * already were the same inode: rename(2) then does nothing.
	 */
	unlinkat(tfd, tmp, 0);
	return status;
}

NTSTATUS vfs_link(struct vfs_share *s, const char *from_rel, const char *to_rel, bool replace)
{
	return vfs_link_holding(s, from_rel, to_rel, replace, NULL);
}

NTSTATUS vfs_link_holding(struct vfs_share *s, const char *from_rel, const char *to_rel, bool replace,
			  int *replaced)
{
	char fbuf[PATH_MAX], tbuf[PATH_MAX];
	const char *fleaf, *tleaf;
	NTSTATUS status;
	int ffd, tfd = -1;

	if (replaced != NULL)
		*replaced = -1;
	status = vfs_open_parent(s, from_rel, fbuf, &ffd, &fleaf);
	if (!NT_STATUS_IS_OK(status))
		return status;
	status = vfs_open_parent(s, to_rel, tbuf, &tfd, &tleaf);
	if (!NT_STATUS_IS_OK(status))
		goto out;

	/* flags 0: a symlink source is linked itself, not followed. */
	if (linkat(ffd, fleaf, tfd, tleaf, 0) == 0)
		goto out;
	switch (errno) {
	case EEXIST:
		if (replace)
			status = vfs_link_replace(ffd, fleaf, tfd, tleaf, replaced);
		else
			status = NT_STATUS_OBJECT_NAME_COLLISION;
		break;
	case EPERM:
		/* MS-FSA 2.1.5.14.6: directories cannot be linked. */
		status = vfs_leaf_is_dir(ffd, fleaf) ? NT_STATUS_FILE_IS_A_DIRECTORY :
						       NT_STATUS_ACCESS_DENIED;
		break;
	default:
		status = ntstatus_from_errno(errno);
		break;
	}
out:
	vfs_close(tfd);
	vfs_close(ffd);
	return status;
}

NTSTATUS vfs_pread_nowait(int fd, void *buf, size_t len, uint64_t off, size_t *got, bool *complete)
{
	*got = 0;
	*complete = false;
	if (off > INT64_MAX || len > SSIZE_MAX || len > INT64_MAX - off)
		return NT_STATUS_OK; /* the blocking path sorts these out */
	struct iovec iov = { buf, len };
	ssize_t n;
	do {
		n = preadv2(fd, &iov, 1, (off_t)off, RWF_NOWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		/* EAGAIN: not in the page cache; EOPNOTSUPP: no such mode here. */
		if (errno == EAGAIN || errno == EOPNOTSUPP)
			return NT_STATUS_OK;
		return ntstatus_from_errno(errno);
	}
	*got = (size_t)n;
	/* A short count may be a cache edge rather than the end of file:
	 * only a full read, or nothing at all (EOF), is known complete. */
	*complete = (size_t)n == len || n == 0;
	return NT_STATUS_OK;
}

/* One step of a read into 'to' (a buffer, or a pipe's write end) at off. */
typedef ssize_t (*read_step_fn)(int fd, void *to, size_t done, size_t len, uint64_t off);

/* len bytes at off, step after step: up to the end of the file, and what
 * came before an error is the answer (as one pread would). */
static NTSTATUS read_all(int fd, void *to, size_t len, uint64_t off, size_t *got, read_step_fn step)
{
	size_t done = 0;

	*got = 0;
	if (off > INT64_MAX || len > SSIZE_MAX)
		return NT_STATUS_INVALID_PARAMETER;
	/* Nothing lies beyond the largest offset: read up to it. */
	if (len > INT64_MAX - off)
		len = (size_t)(INT64_MAX - off);

	while (done < len) {
		ssize_t n = step(fd, to, done, len - done, off + done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (done > 0)
				break;	/* report what we have */
			return ntstatus_from_errno(errno);
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	*got = done;
	return NT_STATUS_OK;
}

static ssize_t pread_step(int fd, void *to, size_t done, size_t len, uint64_t off)
{
	return pread(fd, (char *)to + done, len, (off_t)off);
}

static ssize_t splice_step(int fd, void *to, size_t done, size_t len, uint64_t off)
{
	loff_t pos = (loff_t)off;
	return splice(fd, &pos, *(const int *)to, NULL, len, SPLICE_F_MOVE);
}

NTSTATUS vfs_pread(int fd, void *buf, size_t len, uint64_t off, size_t *got)
{
	return read_all(fd, buf, len, off, got, pread_step);
}

NTSTATUS vfs_splice_from(int fd, int pipe_wr, size_t len, uint64_t off, size_t *got)
{
	return read_all(fd, &pipe_wr, len, off, got, splice_step);
}

/* cachestat(2) came with Linux 6.5, after Debian 12's headers; its number
 * is the same on every architecture but alpha. */
#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif
struct vfs_cachestat_range {
	uint64_t off, len;
};
struct vfs_cachestat {
	uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};

bool vfs_range_uncached(int fd, uint64_t off, size_t len)
{
	struct vfs_cachestat_range range = { off, len };
	struct vfs_cachestat cs;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	if (len == 0 || off > UINT64_MAX - len || syscall(__NR_cachestat, fd, &range, &cs, 0) != 0)
		return false;
	return cs.nr_cache < (off + len + page - 1) / page - off / page;
}

NTSTATUS vfs_pwrite(int fd, const void *buf, size_t len, uint64_t off, size_t *done)
{
	size_t d = 0;

	*done = 0;
	if (off > INT64_MAX || len > SSIZE_MAX || len > INT64_MAX - off)
		return NT_STATUS_INVALID_PARAMETER;

	while (d < len) {
		ssize_t n = pwrite(fd, (const char *)buf + d, vfs_write_piece(off + d, len - d), (off_t)(off + d));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			*done = d;
			return ntstatus_from_errno(errno);
		}
		if (n == 0) {
			/* No progress and no error: treat as out of space. */
			*done = d;
			return NT_STATUS_DISK_FULL;
		}
		d += (size_t)n;
	}
	*done = d;
	return NT_STATUS_OK;
}

NTSTATUS vfs_fsync(int fd)
{
	if (fdatasync(fd) != 0) {
		/* EINVAL: an object that cannot be synced has nothing to flush. */
		if (errno == EINVAL)
			return NT_STATUS_OK;
		return ntstatus_from_errno(errno);
	}
	return NT_STATUS_OK;
}

NTSTATUS vfs_ftruncate(int fd, uint64_t size)
{
	if (size > INT64_MAX)
		return NT_STATUS_INVALID_PARAMETER;
	while (ftruncate(fd, (off_t)size) != 0) {
		if (errno != EINTR)
			return ntstatus_from_errno(errno);
	}
	return NT_STATUS_OK;
}

NTSTATUS vfs_fallocate(int fd, uint64_t size)
{
	if (size == 0)
		return NT_STATUS_OK;
	if (size > INT64_MAX)
		return NT_STATUS_INVALID_PARAMETER;
	while (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)size) != 0) {
		switch (errno) {
		case EINTR:
			continue;
		case EOPNOTSUPP:
		case ENOSYS:
			/* AllocationSize is advisory (MS-FSCC 2.4.4). */
			return NT_STATUS_OK;
		default:
			return ntstatus_from_errno(errno);
		}
	}
	return NT_STATUS_OK;
}

NTSTATUS vfs_futimens(int fd, const struct timespec ts[2])
{
	if (futimens(fd, ts) == 0)
		return NT_STATUS_OK;
	/* O_PATH fds: the AT_EMPTY_PATH form acts on the fd's inode. */
	if (errno == EBADF && utimensat(fd, "", ts, AT_EMPTY_PATH) == 0)
		return NT_STATUS_OK;
	return ntstatus_from_errno(errno);
}

NTSTATUS vfs_statvfs(struct vfs_share *s, struct statvfs *st)
{
	if (fstatvfs(s->root_fd, st) != 0)
		return ntstatus_from_errno(errno);
	return NT_STATUS_OK;
}

/*
 * Replace *st (an lstat of a symlink) by its target's stat if the link
 * resolves within the confinement: beneath the share root via dir_rel
 * when known, else beneath the listed directory itself.
 */
static void vfs_list_follow(struct vfs_share *s, const char *dir_rel, int dfd,
			    const char *name, struct stat *st)
{
	char path[PATH_MAX];
	struct stat tst;
	int fd, n;

	if (s != NULL) {
		if (strcmp(dir_rel, ".") == 0)
			n = snprintf(path, sizeof(path), "%s", name);
		else
			n = snprintf(path, sizeof(path), "%s/%s", dir_rel, name);
		if (n < 0 || (size_t)n >= sizeof(path))
			return;
		fd = vfs_openat2(s->root_fd, path, O_PATH, 0);
	} else {
		fd = vfs_openat2(dfd, name, O_PATH, 0);
	}
	if (fd < 0)
		return;
	if (fstat(fd, &tst) == 0)
		*st = tst;
	close(fd);
}

/* A listing being built: its entries and names grow in mappings of their own. */
struct listing_build {
	struct vfs_listing *l;
	struct mapbuf *ents, *names;
	size_t n, cap;            /* entries, and room for them */
	size_t names_len;
};

/* Adds an entry; its name is kept as an offset until the names stop moving. */
static bool listing_add(struct listing_build *b, const char *name, const struct stat *st, bool link)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 32;
		if (mapbuf_reserve(b->ents, cap * sizeof(struct vfs_dirent)) == NULL)
			return false;
		b->cap = cap;
	}
	size_t len = strlen(name) + 1;
	char *names = mapbuf_reserve(b->names, b->names_len + len);
	if (names == NULL)
		return false;
	memcpy(names + b->names_len, name, len);
	struct vfs_dirent *e = (struct vfs_dirent *)mapbuf_data(b->ents) + b->n;
	e->name = (char *)(uintptr_t)b->names_len;
	e->st = *st;
	e->link = link;
	b->names_len += len;
	b->n++;
	return true;
}

static NTSTATUS vfs_list_dir_common(TALLOC_CTX *mem, struct vfs_share *s, int dir_fd,
				   const char *dir_rel, size_t lead, size_t max_entries,
				   struct vfs_listing **out)
{
	NTSTATUS status = NT_STATUS_OK;
	struct dirent *de;
	DIR *d;
	int fd;

	*out = NULL;
	struct listing_build b = { .l = talloc_zero(mem, struct vfs_listing) };
	if (b.l == NULL || (b.ents = mapbuf_new(b.l)) == NULL || (b.names = mapbuf_new(b.l)) == NULL) {
		talloc_free(b.l);
		return NT_STATUS_NO_MEMORY;
	}
	static const struct stat none;
	for (size_t i = 0; i < lead; i++)
		if (!listing_add(&b, "", &none, false)) {
			talloc_free(b.l);
			return NT_STATUS_NO_MEMORY;
		}

	/* A fresh fd: dir_fd may be O_PATH, and its offset is not ours. */
	fd = vfs_openat2(dir_fd, ".", O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0) {
		talloc_free(b.l);
		if (errno == ENOTDIR)
			return NT_STATUS_NOT_A_DIRECTORY;
		return ntstatus_from_errno(errno);
	}
	d = fdopendir(fd);
	if (d == NULL) {
		int err = errno;

		close(fd);
		talloc_free(b.l);
		return ntstatus_from_errno(err);
	}

	for (;;) {
		struct stat st;

		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0)
				status = ntstatus_from_errno(errno);
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			/* Removed since readdir saw it: not there any more. */
			if (errno == ENOENT)
				continue;
			LOG_DBG("fstatat %s: %s", de->d_name, strerror(errno));
			continue;
		}
		if (b.n - lead == max_entries) {
			status = NT_STATUS_INSUFF_SERVER_RESOURCES;
			break;
		}
		bool link = S_ISLNK(st.st_mode);
		if (link)
			vfs_list_follow(s, dir_rel, dirfd(d), de->d_name, &st);
		if (!listing_add(&b, de->d_name, &st, link)) {
			status = NT_STATUS_NO_MEMORY;
			break;
		}
	}
	closedir(d);

	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(b.l);
		return status;
	}
	b.l->n = b.n;
	b.l->ents = b.n > 0 ? mapbuf_data(b.ents) : NULL;
	char *names = mapbuf_data(b.names);
	for (size_t i = 0; i < b.n; i++)
		b.l->ents[i].name = names + (uintptr_t)b.l->ents[i].name;
	*out = b.l;
	return NT_STATUS_OK;
}

NTSTATUS vfs_list_dir(TALLOC_CTX *mem, int dir_fd, size_t max_entries, struct vfs_listing **out)
{
	return vfs_list_dir_common(mem, NULL, dir_fd, NULL, 0, max_entries, out);
}

NTSTATUS vfs_list_dir_share(TALLOC_CTX *mem, struct vfs_share *s, int dir_fd, const char *dir_rel,
			    size_t lead, size_t max_entries, struct vfs_listing **out)
{
	*out = NULL;
	if (s == NULL || !vfs_rel_ok(dir_rel))
		return NT_STATUS_INVALID_PARAMETER;
	return vfs_list_dir_common(mem, s, dir_fd, dir_rel, lead, max_entries, out);
}

uint64_t vfs_file_id(const struct stat *st)
{
	return (uint64_t)st->st_ino;
}
