#include "config.h"
#include "smbd/fileinfo.h"

#include <string.h>

#include "smbd/open.h"
#include "smbd/share.h"
#include "smbd/tcon.h"
#include "smbd/vfs.h"
#include "smbd/vfs_dosattr.h"

void smbd_fileinfo_from_stat(const struct stat *st, const struct vfs_dos_info *dos, struct fscc_file_info *fi)
{
	memset(fi, 0, sizeof(*fi));
	bool dir = S_ISDIR(st->st_mode);
	fi->creation_time = dos->creation_time;
	fi->last_access_time = fscc_nttime_from_timespec(&st->st_atim);
	fi->last_write_time = fscc_nttime_from_timespec(&st->st_mtim);
	fi->change_time = dos->change_time;
	/* Windows reports zero sizes for directories. */
	fi->end_of_file = dir ? 0 : (uint64_t)st->st_size;
	fi->allocation_size = dir ? 0 : (uint64_t)st->st_blocks * 512;
	fi->attributes = dos->attributes;
	fi->is_directory = dir;
	fi->file_id = vfs_file_id(st);
	fi->nlink = (uint32_t)st->st_nlink;
}

NTSTATUS smbd_fd_fileinfo(int fd, struct stat *st, struct fscc_file_info *fi)
{
	struct vfs_dos_info dos;
	NTSTATUS status = vfs_fstat(fd, st);
	if (!NT_STATUS_IS_OK(status))
		return status;
	status = vfs_dos_get(fd, st, &dos);
	if (!NT_STATUS_IS_OK(status))
		return status;
	smbd_fileinfo_from_stat(st, &dos, fi);
	return NT_STATUS_OK;
}

NTSTATUS smbd_open_fileinfo(struct smbd_open *o, struct fscc_file_info *fi)
{
	struct stat st;
	NTSTATUS status = smbd_fd_fileinfo(o->fd, &st, fi);
	if (NT_STATUS_IS_OK(status))
		smbd_fileinfo_set_delete_pending(fi, o->delete_on_close);
	return status;
}

void smbd_fileinfo_set_delete_pending(struct fscc_file_info *fi, bool delete_pending)
{
	fi->delete_pending = delete_pending;
	/* Windows counts a name pending deletion as gone already. */
	if (delete_pending && fi->nlink > 0)
		fi->nlink--;
}
