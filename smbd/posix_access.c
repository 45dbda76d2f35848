#include "config.h"
#include "smbd/posix_access.h"

#include <fcntl.h>
#include <string.h>
#include <talloc.h>
#include <unistd.h>

#include "smbd/smb2_proto.h"
#include "smbd/vfs.h"

/* Always granted: Windows gives these through the parent's list right. */
#define BASE_RIGHTS (FILE_READ_ATTRIBUTES | READ_CONTROL | SYNCHRONIZE)
#define OWNER_RIGHTS (WRITE_DAC | WRITE_OWNER | FILE_WRITE_ATTRIBUTES)

/* The parent of a share-relative path ("." for a top-level name). */
static char *parent_of(TALLOC_CTX *mem, const char *rel)
{
	const char *slash = strrchr(rel, '/');
	if (slash == NULL)
		return talloc_strdup(mem, ".");
	return talloc_strndup(mem, rel, (size_t)(slash - rel));
}

/* MS-FSA 2.1.5.1.2.1 asks DELETE of the file or FILE_DELETE_CHILD of the
 * parent; POSIX decides removal by the parent alone: write and search on
 * it, and with the sticky bit only the owner of the file or directory. */
static bool may_delete(int dir_fd, const struct stat *dir, const struct stat *st, uid_t fsuid)
{
	if (!vfs_may(dir_fd, W_OK | X_OK))
		return false;
	if (dir->st_mode & S_ISVTX)
		return st->st_uid == fsuid || dir->st_uid == fsuid;
	return true;
}

static uint32_t object_rights(int fd, const struct stat *st, uid_t fsuid)
{
	uint32_t rights = BASE_RIGHTS;
	bool r = vfs_may(fd, R_OK);
	bool w = vfs_may(fd, W_OK);
	if (S_ISDIR(st->st_mode)) {
		bool x = vfs_may(fd, X_OK);
		if (r)
			rights |= FILE_LIST_DIRECTORY | FILE_READ_EA;
		if (x)
			rights |= FILE_TRAVERSE;
		if (w && x)
			rights |= FILE_ADD_FILE | FILE_ADD_SUBDIRECTORY | FILE_DELETE_CHILD | FILE_WRITE_EA |
				  FILE_WRITE_ATTRIBUTES;
	} else {
		if (r)
			rights |= FILE_READ_DATA | FILE_READ_EA | FILE_EXECUTE;
		if (w)
			rights |= FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_WRITE_EA | FILE_WRITE_ATTRIBUTES;
	}
	if (st->st_uid == fsuid)
		rights |= OWNER_RIGHTS;
	return rights;
}

NTSTATUS smbd_posix_access(struct vfs_share *vfs, const char *rel, uid_t fsuid, uint32_t *out)
{
	*out = 0;
	if (fsuid == 0) {
		*out = FILE_ALL_ACCESS;
		return NT_STATUS_OK;
	}
	int fd = -1, dir_fd = -1;
	struct stat st, dir;
	char *parent = NULL;
	NTSTATUS status = vfs_open(vfs, rel, O_PATH, 0, &fd);
	if (!NT_STATUS_IS_OK(status))
		return status;
	status = vfs_fstat(fd, &st);
	if (!NT_STATUS_IS_OK(status))
		goto done;
	uint32_t rights = object_rights(fd, &st, fsuid);
	if (strcmp(rel, ".") != 0) {
		parent = parent_of(NULL, rel);
		if (parent == NULL) {
			status = NT_STATUS_NO_MEMORY;
			goto done;
		}
		status = vfs_open(vfs, parent, O_PATH | O_DIRECTORY, 0, &dir_fd);
		if (NT_STATUS_IS_OK(status))
			status = vfs_fstat(dir_fd, &dir);
		if (!NT_STATUS_IS_OK(status))
			goto done;
		if (may_delete(dir_fd, &dir, &st, fsuid))
			rights |= DELETE_ACCESS;
	}
	*out = rights;
done:
	talloc_free(parent);
	if (dir_fd >= 0)
		close(dir_fd);
	close(fd);
	return status;
}
