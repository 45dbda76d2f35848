/*
 * The file-system half of CREATE, run on an I/O worker as the session's
 * user (smbd/create.h). It touches only its struct create_fs, the
 * request's memory and the file system: never the server's state.
 */
#include "config.h"
#include "smbd/create.h"

#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "smbd/fileinfo.h"
#include "smbd/identity.h"
#include "smbd/posix_access.h"
#include "smbd/smb2_proto.h"
#include "smbd/security_desc.h"
#include "smbd/vfs.h"
#include "smbd/vfs_dosattr.h"

/* What CREATE stores of the requested attributes. */
#define CREATE_KEPT_ATTRIBUTES (FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM | \
				FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_TEMPORARY | FILE_ATTRIBUTE_OFFLINE)

/* A name that keeps changing under us (renamed, replaced, created and
 * removed by others) between the lookup and the open gets this many tries. */
#define CREATE_TRIES 4

uint32_t create_map_generic(uint32_t access, uint32_t maximal)
{
	if (access & GENERIC_READ)
		access |= FILE_GENERIC_READ;
	if (access & GENERIC_WRITE)
		access |= FILE_GENERIC_WRITE;
	if (access & GENERIC_EXECUTE)
		access |= FILE_GENERIC_EXECUTE;
	if (access & GENERIC_ALL)
		access |= FILE_ALL_ACCESS;
	if (access & MAXIMUM_ALLOWED)
		access |= maximal;
	return access & ~(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL | MAXIMUM_ALLOWED |
			  ACCESS_SYSTEM_SECURITY);
}

/* OBJECT_PATH_NOT_FOUND when a parent is missing, else NAME_NOT_FOUND (MS-FSA 2.1.5.1). */
static NTSTATUS missing_status(struct create_fs *c)
{
	char *parent, *leaf;
	struct stat st;
	if (!NT_STATUS_IS_OK(vfs_path_split(c->mem, c->ondisk, &parent, &leaf)))
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	NTSTATUS status = vfs_stat(c->vfs, parent, &st);
	if (!NT_STATUS_IS_OK(status) || !S_ISDIR(st.st_mode))
		return NT_STATUS_OBJECT_PATH_NOT_FOUND;
	return NT_STATUS_OBJECT_NAME_NOT_FOUND;
}

/*
 * Opens an existing object, whose rights were checked, as the user (so
 * the kernel checks again). One exception: an open for attributes only of
 * something the user may not read (stat opens, Windows grants them by
 * the parent's list right) takes an fd as root, by re-opening an O_PATH fd
 * the user's own walk produced and checking the inode is the same, so a
 * rename racing with us cannot point root at anything else.
 */
static NTSTATUS open_existing(struct create_fs *c, bool is_dir, bool write, bool can_read)
{
	int flags = O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	if (is_dir)
		flags |= O_RDONLY | O_DIRECTORY;
	else if (write)
		flags |= can_read ? O_RDWR : O_WRONLY;
	else
		flags |= O_RDONLY;
	if (can_read || (write && !is_dir))
		return vfs_open(c->vfs, c->ondisk, flags, 0, &c->fd);

	int path_fd;
	NTSTATUS status = vfs_open(c->vfs, c->ondisk, O_PATH, 0, &path_fd);
	if (!NT_STATUS_IS_OK(status))
		return status;
	smbd_become_root();
	status = vfs_reopen(c->vfs, c->ondisk, path_fd, flags, &c->fd);
	if (!smbd_become(c->as)) {
		if (NT_STATUS_IS_OK(status))
			close(c->fd);
		c->fd = -1;
		status = NT_STATUS_ACCESS_DENIED;
	}
	close(path_fd);
	return status;
}

/*
 * MS-FSA 2.1.5.1.2: the checks of an open of the existing object at
 * c->ondisk (c->st) that the file system answers, then the open itself.
 * NT_STATUS_RETRY: the name points elsewhere now; look again.
 */
static NTSTATUS open_existing_object(struct create_fs *c, uint32_t explicit_access, bool max_allowed)
{
	const struct create_in *in = c->in;
	bool is_dir = S_ISDIR(c->st.st_mode);
	if (!S_ISREG(c->st.st_mode) && !is_dir)
		return NT_STATUS_ACCESS_DENIED; /* devices, FIFOs, sockets are not served */
	if (in->disposition == FILE_CREATE)
		return NT_STATUS_OBJECT_NAME_COLLISION;
	if (is_dir && (in->options & FILE_NON_DIRECTORY_FILE))
		return NT_STATUS_FILE_IS_A_DIRECTORY;
	if (!is_dir && (in->options & FILE_DIRECTORY_FILE))
		return NT_STATUS_NOT_A_DIRECTORY;
	bool overwrite = in->disposition == FILE_OVERWRITE || in->disposition == FILE_OVERWRITE_IF ||
			 in->disposition == FILE_SUPERSEDE;
	if (is_dir && overwrite)
		return NT_STATUS_INVALID_PARAMETER;
	if (overwrite && c->read_only)
		return NT_STATUS_ACCESS_DENIED;
	uint32_t posix;
	NTSTATUS status = smbd_posix_access(c->vfs, c->ondisk, c->as->uid, &posix);
	if (!NT_STATUS_IS_OK(status))
		return status;
	c->maximal_access &= posix;
	if (max_allowed)
		c->access &= c->maximal_access | explicit_access;
	if (c->access & ~posix || (overwrite && !(posix & FILE_WRITE_DATA)))
		return NT_STATUS_ACCESS_DENIED;
	struct vfs_dos_info dos;
	status = vfs_dos_get_at(c->vfs, c->ondisk, &c->st, &dos);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if ((dos.attributes & FILE_ATTRIBUTE_READONLY) && !is_dir) {
		/* MS-FSA 2.1.5.1.2.1: a read-only file refuses write and delete. */
		if (in->options & FILE_DELETE_ON_CLOSE)
			return NT_STATUS_CANNOT_DELETE;
		if (c->access & (FILE_WRITE_DATA | FILE_APPEND_DATA) || overwrite)
			return NT_STATUS_ACCESS_DENIED;
	}
	c->old_attributes = dos.attributes;
	c->old_creation_time = dos.creation_time;
	bool write = !c->read_only && (c->access & (FILE_WRITE_DATA | FILE_APPEND_DATA) || overwrite);
	status = open_existing(c, is_dir, write, posix & FILE_READ_DATA);
	if (!NT_STATUS_IS_OK(status))
		return status;
	/* Everything above was judged by name: it must still be this object. */
	struct stat seen = c->st;
	status = smbd_fd_fileinfo(c->fd, &c->st, &c->fi);
	if (NT_STATUS_IS_OK(status) && (c->st.st_dev != seen.st_dev || c->st.st_ino != seen.st_ino))
		status = NT_STATUS_RETRY;
	if (!NT_STATUS_IS_OK(status)) {
		close(c->fd);
		c->fd = -1;
		return status;
	}
	c->overwrite = overwrite;
	return NT_STATUS_OK;
}

/* MS-FSA 2.1.5.1.1: a new file or directory. NT_STATUS_RETRY: it appeared meanwhile. */
static NTSTATUS create_object(struct create_fs *c)
{
	const struct create_in *in = c->in;
	bool want_dir = in->options & FILE_DIRECTORY_FILE;
	if (in->disposition == FILE_OPEN || in->disposition == FILE_OVERWRITE)
		return missing_status(c);
	if (c->read_only)
		return NT_STATUS_ACCESS_DENIED;
	if (strcmp(c->ondisk, ".") == 0)
		return NT_STATUS_OBJECT_NAME_COLLISION;
	if (in->file_attributes & FILE_ATTRIBUTE_READONLY && in->options & FILE_DELETE_ON_CLOSE)
		return NT_STATUS_CANNOT_DELETE;
	NTSTATUS status;
	if (want_dir) {
		status = vfs_mkdir(c->vfs, c->ondisk, 0755);
		if (NT_STATUS_IS_OK(status))
			status = vfs_open(c->vfs, c->ondisk, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, &c->fd);
	} else {
		status = vfs_open(c->vfs, c->ondisk, O_RDWR | O_CREAT | O_EXCL | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
				  0644, &c->fd);
	}
	/* Another client (or a local process) created it first: then it is
	 * an open of an existing object, if the disposition allows one. */
	if (NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_NAME_COLLISION) && in->disposition != FILE_CREATE)
		return NT_STATUS_RETRY;
	if (NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_NAME_NOT_FOUND) ||
	    NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_PATH_NOT_FOUND))
		return missing_status(c);
	if (!NT_STATUS_IS_OK(status))
		return status;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	/* Of what a client asks for at create, Windows keeps only these
	 * (smbtorture create.gentest); SPARSE_FILE comes from
	 * FSCTL_SET_SPARSE, ENCRYPTED would be a promise not kept. */
	uint32_t attrs = in->file_attributes & CREATE_KEPT_ATTRIBUTES;
	attrs |= want_dir ? FILE_ATTRIBUTE_DIRECTORY : FILE_ATTRIBUTE_ARCHIVE;
	vfs_dos_set(c->fd, attrs, fscc_nttime_from_timespec(&now));
	/* The SecD context, or what the parent directory passes on (MS-DTYP 2.5.3.4). */
	status = smbd_security_desc_on_create(c->vfs, c->ondisk, c->fd, want_dir, in->secd, in->secd_len);
	if (NT_STATUS_IS_OK(status) && in->have_alloc_size && !want_dir)
		status = vfs_fallocate(c->fd, in->alloc_size);
	if (NT_STATUS_IS_OK(status))
		status = smbd_fd_fileinfo(c->fd, &c->st, &c->fi);
	if (!NT_STATUS_IS_OK(status)) {
		close(c->fd);
		c->fd = -1;
		want_dir ? vfs_rmdir(c->vfs, c->ondisk) : vfs_unlink(c->vfs, c->ondisk);
		return status;
	}
	c->created = true;
	return NT_STATUS_OK;
}

static NTSTATUS lookup_and_open(struct create_fs *c)
{
	const struct create_in *in = c->in;
	/* What was asked for explicitly must be within the share's grant and
	 * (for an existing object) the user's POSIX rights; MAXIMUM_ALLOWED
	 * adds whatever both grant. */
	uint32_t explicit_access = create_map_generic(in->desired_access & ~MAXIMUM_ALLOWED, 0);
	bool max_allowed = in->desired_access & MAXIMUM_ALLOWED;
	NTSTATUS status = NT_STATUS_RETRY;
	for (unsigned try = 0; try < CREATE_TRIES && NT_STATUS_EQUAL(status, NT_STATUS_RETRY); try++) {
		c->exists = false;
		/* Windows names are case-insensitive: use the spelling on disk. */
		bool found;
		TALLOC_FREE(c->ondisk);
		status = vfs_resolve_case(c->mem, c->vfs, c->rel, &c->ondisk, &found);
		if (!NT_STATUS_IS_OK(status))
			return status;
		c->access = explicit_access;
		if (c->access & ~c->tree_access)
			return NT_STATUS_ACCESS_DENIED;
		if (max_allowed)
			c->access |= c->tree_access;
		if ((in->options & FILE_DELETE_ON_CLOSE) && !(c->access & DELETE_ACCESS))
			return NT_STATUS_ACCESS_DENIED;
		c->maximal_access = c->tree_access;

		status = vfs_stat(c->vfs, c->ondisk, &c->st);
		c->exists = NT_STATUS_IS_OK(status);
		if (c->exists)
			status = open_existing_object(c, explicit_access, max_allowed);
		else if (NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_NAME_NOT_FOUND) ||
			 NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_PATH_NOT_FOUND))
			status = create_object(c);
	}
	/* Still moving after every try: as if another open held it. */
	return NT_STATUS_EQUAL(status, NT_STATUS_RETRY) ? NT_STATUS_SHARING_VIOLATION : status;
}

void create_fs_open(struct create_fs *c)
{
	c->fd = -1;
	if (!smbd_become(c->as)) {
		c->status = NT_STATUS_ACCESS_DENIED;
		return;
	}
	c->status = lookup_and_open(c);
	smbd_become_root();
}

void create_fs_overwrite(struct create_fs *c, int fd)
{
	const struct create_in *in = c->in;
	if (!smbd_become(c->as)) {
		c->status = NT_STATUS_ACCESS_DENIED;
		return;
	}
	/* MS-FSA 2.1.5.1.2.1: overwrite replaces the attributes, keeping
	 * DIRECTORY off; the sparse state is the file's, set only by
	 * FSCTL_SET_SPARSE. */
	c->status = vfs_ftruncate(fd, 0);
	if (NT_STATUS_IS_OK(c->status))
		vfs_dos_set(fd, (in->file_attributes & ~FILE_ATTRIBUTE_SPARSE_FILE) |
					   (c->old_attributes & FILE_ATTRIBUTE_SPARSE_FILE) | FILE_ATTRIBUTE_ARCHIVE,
			    c->old_creation_time);
	if (NT_STATUS_IS_OK(c->status) && in->have_alloc_size)
		c->status = vfs_fallocate(fd, in->alloc_size);
	if (NT_STATUS_IS_OK(c->status))
		c->status = smbd_fd_fileinfo(fd, &c->st, &c->fi);
	smbd_become_root();
}
