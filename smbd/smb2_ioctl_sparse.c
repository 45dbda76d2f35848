/*
 * Sparse files: FSCTL_SET_SPARSE, FSCTL_SET_ZERO_DATA and
 * FSCTL_QUERY_ALLOCATED_RANGES (MS-FSCC 2.3.64, 2.3.67, 2.3.33; the
 * semantics are MS-FSA 2.1.5.9.37, 2.1.5.9.38 and 2.1.5.9.22).
 *
 * Every Linux file can have holes; FILE_ATTRIBUTE_SPARSE_FILE is what
 * Windows clients see and decide on. It is kept with the other DOS
 * attributes (vfs_dosattr.h) and changes what the two other FSCTLs do,
 * as on NTFS: on a sparse file ZERO_DATA deallocates and
 * QUERY_ALLOCATED_RANGES reports the holes; on a non-sparse file the
 * zeroed range stays allocated and the whole range is reported as
 * allocated (MS-FSA 2.1.5.9.22), whatever holes the file has on disk.
 *
 * The file-system calls (fallocate, SEEK_DATA/SEEK_HOLE) are in the
 * "storage" section below; they belong in the vfs layer and move there
 * once it grows an extent API.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>
#include <sys/stat.h>
#include <talloc.h>
#include <unistd.h>

#include "lib/fscc.h"
#include "lib/log.h"
#include "lib/wire.h"
#include "smbd/brlock.h"
#include "smbd/dispatch.h"
#include "smbd/io_async.h"
#include "smbd/ioctl.h"
#include "smbd/open.h"
#include "smbd/req.h"
#include "smbd/smb2_proto.h"
#include "smbd/tcon.h"
#include "smbd/vfs.h"
#include "smbd/vfs_dosattr.h"

#define FSCTL_RANGE_SIZE 16 /* FILE_ALLOCATED_RANGE_BUFFER, FILE_ZERO_DATA_INFORMATION */

/* ---- storage: errno stays in this section ---- */

/*
 * Zero [off, off + len) of a file without changing its size.
 * deallocate: punch a hole (the sparse case), else keep the range
 * allocated (ZERO_RANGE leaves unwritten extents). Either way falls back
 * to the other fallocate mode, and finally to writing zeros, for file
 * systems that lack one (tmpfs has no ZERO_RANGE, some have neither).
 */
static NTSTATUS storage_zero_extent(int fd, uint64_t off, uint64_t len, bool deallocate);

/*
 * Holes already read as zeros: only the data extents inside the range are
 * zeroed, so zeroing never allocates space (a ZERO_RANGE over a huge hole
 * would otherwise reserve it all and could fill the disk).
 */
static NTSTATUS storage_zero_range(int fd, uint64_t off, uint64_t len, bool deallocate)
{
	uint64_t end = off + len;
	while (off < end) {
		off_t data = lseek(fd, (off_t)off, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)
				return NT_STATUS_OK; /* only a hole remains */
			return storage_zero_extent(fd, off, end - off, deallocate); /* no SEEK_DATA */
		}
		if ((uint64_t)data >= end)
			return NT_STATUS_OK;
		off_t hole = lseek(fd, data, SEEK_HOLE);
		uint64_t stop = hole < 0 || (uint64_t)hole > end ? end : (uint64_t)hole;
		NTSTATUS status = storage_zero_extent(fd, (uint64_t)data, stop - (uint64_t)data, deallocate);
		if (!NT_STATUS_IS_OK(status))
			return status;
		off = stop;
	}
	return NT_STATUS_OK;
}

static NTSTATUS storage_zero_extent(int fd, uint64_t off, uint64_t len, bool deallocate)
{
	const int punch = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	const int zero = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	int modes[2] = { deallocate ? punch : zero, deallocate ? zero : punch };

	for (int i = 0; i < 2; i++) {
		if (fallocate(fd, modes[i], (off_t)off, (off_t)len) == 0) {
			/* A non-sparse file keeps its blocks (NTFS does). */
			if (modes[i] == punch && !deallocate)
				(void)fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
			return NT_STATUS_OK;
		}
		if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL)
			return ntstatus_from_errno(errno);
	}
	static const uint8_t zeros[64 * 1024];
	while (len > 0) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		size_t done = 0;
		NTSTATUS status = vfs_pwrite(fd, zeros, n, off, &done);
		if (!NT_STATUS_IS_OK(status))
			return status;
		off += n;
		len -= n;
	}
	return NT_STATUS_OK;
}

/*
 * The data (non-hole) ranges of [off, end), at most max_ranges of them
 * (0: none are stored, only counted); *n_out counts them all, up to
 * max_ranges + 1, so the caller can tell "more" apart. A file system
 * without SEEK_DATA reports the whole range as data.
 */
static NTSTATUS storage_data_ranges(int fd, uint64_t off, uint64_t end, struct fsctl_range *ranges,
				    size_t max_ranges, size_t *n_out)
{
	size_t n = 0;
	uint64_t pos = off;
	while (pos < end && n <= max_ranges) {
		off_t data = lseek(fd, (off_t)pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break; /* only a hole from pos to EOF */
		if (data < 0 && errno == EINVAL && pos == off)
			data = (off_t)pos; /* no SEEK_DATA here */
		else if (data < 0)
			return ntstatus_from_errno(errno);
		if ((uint64_t)data >= end)
			break;
		off_t hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 && errno == EINVAL)
			hole = (off_t)end;
		else if (hole < 0)
			return ntstatus_from_errno(errno);
		uint64_t stop = (uint64_t)hole < end ? (uint64_t)hole : end;
		if (stop <= (uint64_t)data)
			break;
		if (n < max_ranges)
			ranges[n] = (struct fsctl_range){ (int64_t)data, (int64_t)(stop - (uint64_t)data) };
		n++;
		pos = stop;
	}
	*n_out = n;
	return NT_STATUS_OK;
}

/* ---- decoders ---- */

NTSTATUS fsctl_decode_set_sparse(const uint8_t *buf, size_t len, struct fsctl_set_sparse_in *out)
{
	/* MS-FSCC 2.3.64: the buffer is optional; longer ones are accepted
	 * (Windows does, smbtorture smb2.ioctl.sparse_set_oversize). */
	out->set_sparse = len == 0 || buf[0] != 0;
	return NT_STATUS_OK;
}

static NTSTATUS decode_pair(const uint8_t *buf, size_t len, int64_t *a, int64_t *b)
{
	struct wire_rd r;
	wire_rd_init(&r, buf, len);
	*a = (int64_t)wire_u64(&r);
	*b = (int64_t)wire_u64(&r);
	return wire_ok(&r) ? NT_STATUS_OK : NT_STATUS_INVALID_PARAMETER;
}

NTSTATUS fsctl_decode_zero_data(const uint8_t *buf, size_t len, struct fsctl_zero_data_in *out)
{
	NTSTATUS status = decode_pair(buf, len, &out->file_offset, &out->beyond_final_zero);
	if (!NT_STATUS_IS_OK(status))
		return status;
	/* MS-FSA 2.1.5.9.38 */
	if (out->file_offset < 0 || out->beyond_final_zero < 0 || out->file_offset > out->beyond_final_zero)
		return NT_STATUS_INVALID_PARAMETER;
	return NT_STATUS_OK;
}

NTSTATUS fsctl_decode_allocated_range(const uint8_t *buf, size_t len, struct fsctl_range *out)
{
	NTSTATUS status = decode_pair(buf, len, &out->file_offset, &out->length);
	if (!NT_STATUS_IS_OK(status))
		return status;
	/* MS-FSA 2.1.5.9.22: the end must not pass MAXLONGLONG either. */
	if (out->file_offset < 0 || out->length < 0 || out->length > INT64_MAX - out->file_offset)
		return NT_STATUS_INVALID_PARAMETER;
	return NT_STATUS_OK;
}

/* ---- handlers ---- */

/* The open of a sparse FSCTL: a data file (not a pipe, not a directory). */
static NTSTATUS data_file_open(struct smb2_call *call, const struct ioctl_in *in, struct smbd_open **out)
{
	NTSTATUS status = smb2_ioctl_file_open(call, in, out);
	if (!NT_STATUS_IS_OK(status))
		return status;
	/* Windows answers INVALID_PARAMETER for directories (smbtorture
	 * smb2.ioctl.sparse_dir_flag, 2008 and 2012 alike). */
	if ((*out)->is_dir)
		return NT_STATUS_INVALID_PARAMETER;
	return NT_STATUS_OK;
}

static NTSTATUS file_is_sparse(int fd, bool *sparse, struct stat *st, struct vfs_dos_info *dos)
{
	NTSTATUS status = vfs_fstat(fd, st);
	if (!NT_STATUS_IS_OK(status))
		return status;
	status = vfs_dos_get(fd, st, dos);
	if (!NT_STATUS_IS_OK(status))
		return status;
	*sparse = (dos->attributes & FILE_ATTRIBUTE_SPARSE_FILE) != 0;
	return NT_STATUS_OK;
}

NTSTATUS smb2_ioctl_set_sparse(struct smb2_call *call, const struct ioctl_in *in)
{
	struct smbd_open *o;
	NTSTATUS status = data_file_open(call, in, &o);
	if (!NT_STATUS_IS_OK(status))
		return status;
	struct fsctl_set_sparse_in req;
	status = fsctl_decode_set_sparse(in->input, in->input_count, &req);
	if (!NT_STATUS_IS_OK(status))
		return status;
	/* MS-FSA 2.1.5.9.37: any one of the three rights will do. */
	if (!(o->access & (FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES | FILE_APPEND_DATA)))
		return NT_STATUS_ACCESS_DENIED;
	if (o->tcon->read_only)
		return NT_STATUS_MEDIA_WRITE_PROTECTED;

	struct stat st;
	struct vfs_dos_info dos;
	bool sparse;
	status = file_is_sparse(o->fd, &sparse, &st, &dos);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (sparse != req.set_sparse) {
		uint32_t attrs = dos.attributes & ~FILE_ATTRIBUTE_NORMAL;
		attrs = req.set_sparse ? attrs | FILE_ATTRIBUTE_SPARSE_FILE : attrs & ~FILE_ATTRIBUTE_SPARSE_FILE;
		/*
		 * Clearing the flag on NTFS allocates the file's holes. Here
		 * they stay holes: a non-sparse file reports itself fully
		 * allocated anyway, and allocating a large disk image whole
		 * would only cost space the client did not ask for.
		 */
		status = vfs_dos_set(o->fd, attrs, dos.creation_time);
		if (!NT_STATUS_IS_OK(status))
			return status;
	}
	return smb2_ioctl_reply(call, in, NULL, 0, NT_STATUS_OK);
}

/* Zeroing, on an I/O worker (smbd_call_offload): deallocating a large
 * range, or writing zeros where the file system cannot, takes long. */
struct zero_job {
	struct ioctl_in in;
	int fd;                       /* held (smbd_open_hold_fd_for) */
	struct smbd_open_ref ref;
	uint64_t off, len;
	bool deallocate, sync;
	NTSTATUS status;
};

static void zero_work(void *arg)
{
	struct zero_job *j = arg;
	j->status = storage_zero_range(j->fd, j->off, j->len, j->deallocate);
	if (NT_STATUS_IS_OK(j->status) && j->sync)
		j->status = vfs_fsync(j->fd);
}

static NTSTATUS zero_finish(struct smb2_call *call, void *arg)
{
	struct zero_job *j = arg;
	if (!NT_STATUS_IS_OK(j->status))
		return j->status;
	smb2_ioctl_data_changed(call, &j->ref);
	return smb2_ioctl_reply(call, &j->in, NULL, 0, NT_STATUS_OK);
}

NTSTATUS smb2_ioctl_set_zero_data(struct smb2_call *call, const struct ioctl_in *in)
{
	struct smbd_open *o;
	NTSTATUS status = data_file_open(call, in, &o);
	if (!NT_STATUS_IS_OK(status))
		return status;
	struct fsctl_zero_data_in req;
	status = fsctl_decode_zero_data(in->input, in->input_count, &req);
	if (!NT_STATUS_IS_OK(status))
		return status;
	/* MS-FSA 2.1.5.9.38: FILE_WRITE_DATA; APPEND_DATA alone is not enough. */
	if (!(o->access & FILE_WRITE_DATA))
		return NT_STATUS_ACCESS_DENIED;

	struct stat st;
	struct vfs_dos_info dos;
	bool sparse;
	status = file_is_sparse(o->fd, &sparse, &st, &dos);
	if (!NT_STATUS_IS_OK(status))
		return status;
	/* Never past EOF: the file does not grow (MS-FSA 2.1.5.9.38). */
	uint64_t size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
	uint64_t off = (uint64_t)req.file_offset;
	uint64_t end = (uint64_t)req.beyond_final_zero < size ? (uint64_t)req.beyond_final_zero : size;
	if (off >= end)
		return smb2_ioctl_reply(call, in, NULL, 0, NT_STATUS_OK);
	/* A write as far as locks go (smbtorture smb2.ioctl.sparse_lock). */
	status = smbd_brlock_check_io(o, off, end - off, true);
	if (!NT_STATUS_IS_OK(status))
		return status;
	struct zero_job *j = talloc_zero(call->req, struct zero_job);
	if (j == NULL)
		return NT_STATUS_NO_MEMORY;
	j->in = *in;
	j->fd = smbd_open_hold_fd_for(j, o, &j->ref);
	if (j->fd < 0)
		return NT_STATUS_NO_MEMORY;
	j->off = off;
	j->len = end - off;
	j->deallocate = sparse;
	j->sync = smbd_open_writes_through(o);
	return smbd_call_offload(call, j, zero_work, zero_finish);
}

/* The reply: n ranges found, of which those that fit cap (MS-FSA 2.1.5.9.22). */
static NTSTATUS ranges_reply(struct smb2_call *call, const struct ioctl_in *in, const struct fsctl_range *ranges,
			     size_t cap, size_t n)
{
	/* No range at all fits the output: nothing to return in part. */
	if (n > 0 && cap == 0)
		return NT_STATUS_BUFFER_TOO_SMALL;
	NTSTATUS result = NT_STATUS_OK;
	if (n > cap) {
		/* As many whole entries as fit (MS-FSA 2.1.5.9.22). */
		n = cap;
		result = NT_STATUS_BUFFER_OVERFLOW;
	}
	uint8_t *out = n ? talloc_array(call->req, uint8_t, n * FSCTL_RANGE_SIZE) : NULL;
	if (n && out == NULL)
		return NT_STATUS_NO_MEMORY;
	for (size_t i = 0; i < n; i++) {
		put_le64(out + i * FSCTL_RANGE_SIZE, (uint64_t)ranges[i].file_offset);
		put_le64(out + i * FSCTL_RANGE_SIZE + 8, (uint64_t)ranges[i].length);
	}
	return smb2_ioctl_reply(call, in, out, n * FSCTL_RANGE_SIZE, result);
}

/* A sparse file's data ranges, looked for on an I/O worker: thousands of
 * extents are thousands of SEEK_DATA/SEEK_HOLE calls. */
struct ranges_job {
	struct ioctl_in in;
	int fd;                       /* held (smbd_open_hold_fd_for) */
	uint64_t off, end;
	struct fsctl_range *ranges;   /* room for cap, of the request */
	size_t cap, n;
	NTSTATUS status;
};

static void ranges_work(void *arg)
{
	struct ranges_job *j = arg;
	j->status = storage_data_ranges(j->fd, j->off, j->end, j->ranges, j->cap, &j->n);
}

static NTSTATUS ranges_finish(struct smb2_call *call, void *arg)
{
	struct ranges_job *j = arg;
	if (!NT_STATUS_IS_OK(j->status))
		return j->status;
	return ranges_reply(call, &j->in, j->ranges, j->cap, j->n);
}

NTSTATUS smb2_ioctl_query_allocated_ranges(struct smb2_call *call, const struct ioctl_in *in)
{
	struct smbd_open *o;
	NTSTATUS status = data_file_open(call, in, &o);
	if (!NT_STATUS_IS_OK(status))
		return status;
	struct fsctl_range req;
	status = fsctl_decode_allocated_range(in->input, in->input_count, &req);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (!(o->access & FILE_READ_DATA))
		return NT_STATUS_ACCESS_DENIED;

	struct stat st;
	struct vfs_dos_info dos;
	bool sparse;
	status = file_is_sparse(o->fd, &sparse, &st, &dos);
	if (!NT_STATUS_IS_OK(status))
		return status;
	uint64_t size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
	uint64_t off = (uint64_t)req.file_offset;
	uint64_t end = off + (uint64_t)req.length; /* no overflow: checked by the decoder */
	if (end > size)
		end = size;

	/* max_output <= MaxTransactSize (checked by the dispatcher). */
	size_t cap = in->max_output / FSCTL_RANGE_SIZE;
	struct fsctl_range *ranges = cap ? talloc_array(call->req, struct fsctl_range, cap) : NULL;
	if (cap && ranges == NULL)
		return NT_STATUS_NO_MEMORY;
	if (off >= end) /* nothing allocated: an empty range, or one past EOF */
		return ranges_reply(call, in, ranges, cap, 0);
	if (!sparse) {
		/* MS-FSA 2.1.5.9.22: a non-sparse file is allocated throughout. */
		if (cap)
			ranges[0] = (struct fsctl_range){ (int64_t)off, (int64_t)(end - off) };
		return ranges_reply(call, in, ranges, cap, 1);
	}
	struct ranges_job *j = talloc_zero(call->req, struct ranges_job);
	if (j == NULL)
		return NT_STATUS_NO_MEMORY;
	j->in = *in;
	j->fd = smbd_open_hold_fd_for(j, o, NULL);
	if (j->fd < 0)
		return NT_STATUS_NO_MEMORY;
	j->off = off;
	j->end = end;
	j->ranges = ranges;
	j->cap = cap;
	return smbd_call_offload(call, j, ranges_work, ranges_finish);
}
