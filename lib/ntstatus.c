#include "config.h"
#include "lib/ntstatus.h"

#include <errno.h>
#include <stdio.h>

const char *nt_errstr(NTSTATUS status)
{
	/* Thread-local so workers may format statuses too. */
	static __thread char buf[24];

	switch (status.v) {
#define X(name, value) case value: return "NT_STATUS_" #name;
	NTSTATUS_TABLE(X)
	#undef X
	}
	snprintf(buf, sizeof(buf), "NT_STATUS_0x%08X", status.v);
	return buf;
}

NTSTATUS ntstatus_from_errno(int err)
{
	switch (err) {
	case 0: return NT_STATUS_OK;
	case EPERM:
	case EACCES: return NT_STATUS_ACCESS_DENIED;
	case ENOENT: return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	case ENOTDIR: return NT_STATUS_OBJECT_PATH_NOT_FOUND;
	case EISDIR: return NT_STATUS_FILE_IS_A_DIRECTORY;
	case EEXIST: return NT_STATUS_OBJECT_NAME_COLLISION;
	case ENOTEMPTY: return NT_STATUS_DIRECTORY_NOT_EMPTY;
	case ENOSPC:
	case EDQUOT: return NT_STATUS_DISK_FULL;
	case EFBIG: return NT_STATUS_FILE_TOO_LARGE;
	case ENOMEM: return NT_STATUS_NO_MEMORY;
	case EMFILE:
	case ENFILE: return NT_STATUS_TOO_MANY_OPENED_FILES;
	case EROFS: return NT_STATUS_MEDIA_WRITE_PROTECTED;
	case ENAMETOOLONG: return NT_STATUS_NAME_TOO_LONG;
	/*
	 * EXDEV here is the rename/link meaning (across mounts). A confined
	 * walk's EXDEV ("would leave the share") is mapped by smbd/vfs.c
	 * itself to ACCESS_DENIED before it gets here.
	 */
	case EXDEV: return NT_STATUS_NOT_SAME_DEVICE;
	case EINVAL: return NT_STATUS_INVALID_PARAMETER;
	case EBADF: return NT_STATUS_INVALID_HANDLE;
	case EBUSY:
	case ETXTBSY: return NT_STATUS_SHARING_VIOLATION;
	/* Symlink loop, or a /proc magic link refused by RESOLVE_NO_MAGICLINKS. */
	case ELOOP: return NT_STATUS_OBJECT_PATH_NOT_FOUND;
	case EMLINK: return NT_STATUS_TOO_MANY_LINKS;
	case ENOSYS: return NT_STATUS_NOT_SUPPORTED;
	case ETIMEDOUT: return NT_STATUS_IO_TIMEOUT;
	case ENXIO:
	case ENODEV: return NT_STATUS_NO_SUCH_DEVICE;
	/* A file on an exported/network file system replaced under us. */
	case ESTALE: return NT_STATUS_FILE_INVALID;
	case ENOTSUP: return NT_STATUS_NOT_SUPPORTED;
	case ENODATA: return NT_STATUS_NOT_FOUND;
	case EAGAIN: return NT_STATUS_LOCK_NOT_GRANTED;
	case EIO: return NT_STATUS_UNSUCCESSFUL;
	default: return NT_STATUS_UNSUCCESSFUL;
	}
}
