/*
 * Server-side copy: FSCTL_SRV_REQUEST_RESUME_KEY, FSCTL_SRV_COPYCHUNK and
 * FSCTL_SRV_COPYCHUNK_WRITE (MS-SMB2 3.3.5.15.5, 3.3.5.15.6), and block
 * cloning: FSCTL_DUPLICATE_EXTENTS_TO_FILE (MS-FSCC 2.3.8, MS-FSA
 * 2.1.5.9.4). Hyper-V and Windows Explorer copy VHDX files this way; the
 * data never crosses the network.
 *
 * Chunks are copied with copy_file_range(2), which lets XFS and btrfs
 * share blocks (reflink) and the kernel copy without a user-space buffer
 * elsewhere; pread/pwrite is the fallback (across file systems, or a
 * chunk that overlaps itself in one file). The copying and cloning run on
 * an I/O worker (at most 16 MiB per copychunk request, the limits below;
 * a clone of any size), the checks before and the reply on the loop.
 *
 * The file-system calls are in the "storage" section; they belong in the
 * vfs layer and move there once it grows an extent API.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <talloc.h>
#include <unistd.h>

#include "lib/crypto/random.h"
#include "lib/fscc.h"
#include "lib/idtable.h"
#include "lib/log.h"
#include "lib/wire.h"
#include "smbd/brlock.h"
#include "smbd/dispatch.h"
#include "smbd/io_async.h"
#include "smbd/ioctl.h"
#include "smbd/open.h"
#include "smbd/share.h"
#include "smbd/tcon.h"
#include "smbd/req.h"
#include "smbd/server.h"
#include "smbd/smb2_proto.h"
#include "smbd/vfs.h"
#include "smbd/vfs_dosattr.h"

#define COPYCHUNK_HDR_SIZE 32   /* SourceKey, ChunkCount, Reserved */
#define COPYCHUNK_ENTRY_SIZE 24 /* SRV_COPYCHUNK */
#define COPYCHUNK_RSP_SIZE 12   /* SRV_COPYCHUNK_RESPONSE */
#define RESUME_KEY_RSP_SIZE 32  /* SRV_REQUEST_RESUME_KEY */
#define DUP_EXTENTS_SIZE 40     /* DUPLICATE_EXTENTS_DATA */

/* ---- storage: errno stays in this section ---- */

/* Copies len bytes through a buffer: one read, then one write, so a
 * range that overlaps itself reads as it was (Windows 2012 does this
 * with its 1 MiB buffer; smbtorture copy_chunk_src_is_dest_overlap). */
static NTSTATUS storage_copy_buffered(int src, uint64_t src_off, int dst, uint64_t dst_off, uint32_t len,
				      uint32_t *done)
{
	*done = 0;
	uint8_t *buf = malloc(len); /* on a worker: not from the request's talloc tree */
	if (buf == NULL)
		return NT_STATUS_NO_MEMORY;
	size_t got = 0, put = 0;
	NTSTATUS status = vfs_pread(src, buf, len, src_off, &got);
	if (NT_STATUS_IS_OK(status))
		status = vfs_pwrite(dst, buf, got, dst_off, &put);
	*done = (uint32_t)put;
	free(buf);
	if (NT_STATUS_IS_OK(status) && got < len)
		status = NT_STATUS_INVALID_VIEW_SIZE; /* the source shrank meanwhile */
	return status;
}

/*
 * One chunk. copy_file_range may stop short at EOF (the source shrank
 * since we checked) and fails with EXDEV/EOPNOTSUPP/EINVAL where it
 * cannot work (different file systems on old kernels, special files):
 * then the rest goes through the buffer.
 */
static NTSTATUS storage_copy(int src, uint64_t src_off, int dst, uint64_t dst_off, uint32_t len, bool overlap,
			     uint32_t *done)
{
	*done = 0;
	if (overlap)
		return storage_copy_buffered(src, src_off, dst, dst_off, len, done);
	while (*done < len) {
		loff_t in = (loff_t)(src_off + *done), out = (loff_t)(dst_off + *done);
		ssize_t n = copy_file_range(src, &in, dst, &out, len - *done, 0);
		if (n > 0) {
			*done += (uint32_t)n;
			continue;
		}
		if (n == 0)
			return NT_STATUS_INVALID_VIEW_SIZE;
		if (errno == EINTR)
			continue;
		if (errno == EXDEV || errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL) {
			uint32_t more = 0;
			NTSTATUS status = storage_copy_buffered(src, src_off + *done, dst, dst_off + *done, len - *done,
								&more);
			*done += more;
			return status;
		}
		return ntstatus_from_errno(errno);
	}
	return NT_STATUS_OK;
}

/* FICLONERANGE: NOT_SUPPORTED where the file system cannot share blocks. */
static NTSTATUS storage_clone(int src, uint64_t src_off, int dst, uint64_t dst_off, uint64_t len)
{
	struct file_clone_range r = {
		.src_fd = src, .src_offset = src_off, .src_length = len, .dest_offset = dst_off,
	};
	if (ioctl(dst, FICLONERANGE, &r) == 0)
		return NT_STATUS_OK;
	switch (errno) {
	case EOPNOTSUPP: /* ext4, tmpfs */
	case ENOTTY:
	case ENOSYS:
	case EXDEV:	 /* two file systems */
		return NT_STATUS_NOT_SUPPORTED;
	case EINVAL:	 /* alignment (checked before), or a kind of file it refuses */
		return NT_STATUS_INVALID_PARAMETER;
	default:
		return ntstatus_from_errno(errno);
	}
}

bool smbd_probe_reflink(int dir_fd)
{
	int a = openat(dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (a < 0)
		return false;
	int b = openat(dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	bool ok = false;
	struct stat st;
	if (b >= 0 && fstat(a, &st) == 0) {
		size_t blk = st.st_blksize > 0 && st.st_blksize <= 65536 ? (size_t)st.st_blksize : 4096;
		static const uint8_t block[65536] = { 1 };
		struct file_clone_range r = { .src_fd = a, .src_length = blk };
		ok = pwrite(a, block, blk, 0) == (ssize_t)blk && ioctl(b, FICLONERANGE, &r) == 0;
	}
	if (b >= 0)
		close(b);
	close(a);
	return ok;
}

/* ---- decoders ---- */

NTSTATUS fsctl_decode_copychunk(const uint8_t *buf, size_t len, struct fsctl_copychunk_in *out)
{
	struct wire_rd r;
	wire_rd_init(&r, buf, len);
	wire_copy(&r, out->source_key, sizeof(out->source_key));
	out->chunk_count = wire_u32(&r);
	wire_skip(&r, 4); /* Reserved */
	if (!wire_ok(&r) || out->chunk_count > SMBD_COPYCHUNK_MAX_CHUNKS)
		return NT_STATUS_INVALID_PARAMETER;
	uint64_t total = 0;
	for (uint32_t i = 0; i < out->chunk_count; i++) {
		struct fsctl_copychunk *c = &out->chunks[i];
		c->source_offset = wire_u64(&r);
		c->target_offset = wire_u64(&r);
		c->length = wire_u32(&r);
		wire_skip(&r, 4);
		if (!wire_ok(&r))
			return NT_STATUS_INVALID_PARAMETER;
		/* MS-SMB2 3.3.5.15.6: a chunk of 0 bytes or above the limit. */
		if (c->length == 0 || c->length > SMBD_COPYCHUNK_MAX_CHUNK_SIZE)
			return NT_STATUS_INVALID_PARAMETER;
		/* Offsets are LONGLONG to the file system: no end past 2^63. */
		if (c->source_offset > (uint64_t)INT64_MAX - c->length ||
		    c->target_offset > (uint64_t)INT64_MAX - c->length)
			return NT_STATUS_INVALID_PARAMETER;
		total += c->length;
	}
	if (total > SMBD_COPYCHUNK_MAX_TOTAL)
		return NT_STATUS_INVALID_PARAMETER;
	return NT_STATUS_OK;
}

NTSTATUS fsctl_decode_dup_extents(const uint8_t *buf, size_t len, struct fsctl_dup_extents_in *out)
{
	struct wire_rd r;
	wire_rd_init(&r, buf, len);
	out->source_fid_p = wire_u64(&r);
	out->source_fid_v = wire_u64(&r);
	out->source_offset = (int64_t)wire_u64(&r);
	out->target_offset = (int64_t)wire_u64(&r);
	out->byte_count = (int64_t)wire_u64(&r);
	if (!wire_ok(&r))
		return NT_STATUS_INVALID_PARAMETER;
	if (out->source_offset < 0 || out->target_offset < 0 || out->byte_count < 0 ||
	    out->byte_count > INT64_MAX - out->source_offset || out->byte_count > INT64_MAX - out->target_offset)
		return NT_STATUS_INVALID_PARAMETER;
	return NT_STATUS_OK;
}

/* ---- resume keys ---- */

/*
 * A key is the open's volatile id (a lookup hint, 8 bytes) and 16 random
 * bytes: unguessable, and dead with the open, since the open table no
 * longer finds the id (or finds a later open with another key).
 */
static bool key_equal(const uint8_t *a, const uint8_t *b)
{
	uint8_t diff = 0;
	for (size_t i = 0; i < SMBD_RESUME_KEY_LEN; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

static struct smbd_open *find_by_resume_key(struct smbd_server *srv, const uint8_t *key)
{
	/* MS-SMB2 3.3.5.15.6: any open on the server with this key. */
	struct smbd_open *o = idtable_find(srv->opens, le64(key));
	if (o == NULL || !o->has_resume_key || !key_equal(o->resume_key, key))
		return NULL;
	return o;
}

NTSTATUS smb2_ioctl_request_resume_key(struct smb2_call *call, const struct ioctl_in *in)
{
	struct smbd_open *o;
	NTSTATUS status = smb2_ioctl_file_open(call, in, &o);
	if (!NT_STATUS_IS_OK(status))
		return status;
	/* MS-SMB2 3.3.5.15.5 */
	if (in->max_output < RESUME_KEY_RSP_SIZE)
		return NT_STATUS_INVALID_PARAMETER;
	if (!o->has_resume_key) {
		put_le64(o->resume_key, o->volatile_id);
		if (!crypto_random(o->resume_key + 8, SMBD_RESUME_KEY_LEN - 8))
			return NT_STATUS_INTERNAL_ERROR;
		o->has_resume_key = true;
	}
	uint8_t out[RESUME_KEY_RSP_SIZE] = { 0 }; /* ContextLength 0, Context (reserved) */
	memcpy(out, o->resume_key, SMBD_RESUME_KEY_LEN);
	return smb2_ioctl_reply(call, in, out, sizeof(out), NT_STATUS_OK);
}

/* ---- copychunk ---- */

static NTSTATUS copychunk_reply(struct smb2_call *call, const struct ioctl_in *in, uint32_t chunks,
				uint32_t chunk_bytes, uint32_t total, NTSTATUS status)
{
	uint8_t out[COPYCHUNK_RSP_SIZE];
	put_le32(out, chunks);
	put_le32(out + 4, chunk_bytes);
	put_le32(out + 8, total);
	return smb2_ioctl_reply(call, in, out, sizeof(out), status);
}

/* Whether [a, a+n) and [b, b+n) intersect. */
static bool ranges_overlap(uint64_t a, uint64_t b, uint64_t n)
{
	return a < b + n && b < a + n;
}

/* A copychunk request's copying, on an I/O worker (smbd_call_offload). */
struct copychunk_job {
	struct ioctl_in in;
	const struct fsctl_copychunk_in *req;
	int src, dst;                 /* held for the copy (smbd_open_hold_fd_for) */
	struct smbd_open_ref dst_ref;
	bool same, sync;
	/* The leading chunks byte-range locks let through, and why the next
	 * one was stopped (the locks are the loop's to check). */
	uint32_t n_unlocked;
	NTSTATUS lock_status;
	/* results */
	uint32_t chunks, total, partial;
	NTSTATUS status;
};

static void copychunk_work(void *arg)
{
	struct copychunk_job *j = arg;
	NTSTATUS status = NT_STATUS_OK;
	for (uint32_t i = 0; i < j->req->chunk_count; i++) {
		const struct fsctl_copychunk *c = &j->req->chunks[i];
		/* The whole chunk must lie within the source: a chunk past
		 * its EOF fails and the ones before it stand (Windows;
		 * smbtorture copy_chunk_src_exceed{,_multi}). */
		struct stat sst;
		status = vfs_fstat(j->src, &sst);
		if (!NT_STATUS_IS_OK(status))
			break;
		if (c->source_offset + c->length > (uint64_t)sst.st_size) {
			status = NT_STATUS_INVALID_VIEW_SIZE;
			break;
		}
		if (i == j->n_unlocked) {
			status = j->lock_status;
			break;
		}
		bool overlap = j->same && ranges_overlap(c->source_offset, c->target_offset, c->length);
		status = storage_copy(j->src, c->source_offset, j->dst, c->target_offset, c->length, overlap,
				      &j->partial);
		if (!NT_STATUS_IS_OK(status)) {
			j->total += j->partial;
			break;
		}
		j->total += c->length;
		j->partial = 0;
		j->chunks++;
	}
	if (NT_STATUS_IS_OK(status) && j->sync)
		status = vfs_fsync(j->dst);
	j->status = status;
}

static NTSTATUS copychunk_finish(struct smb2_call *call, void *arg)
{
	struct copychunk_job *j = arg;
	if (j->total > 0)
		smb2_ioctl_data_changed(call, &j->dst_ref);
	if (!NT_STATUS_IS_OK(j->status))
		LOG_DBG("copychunk stopped after %u chunks: %s", j->chunks, nt_errstr(j->status));
	/* ChunkBytesWritten counts a partly written chunk only (MS-SMB2 2.2.32.1). */
	return copychunk_reply(call, &j->in, j->chunks, NT_STATUS_IS_OK(j->status) ? 0 : j->partial, j->total,
			       j->status);
}

NTSTATUS smb2_ioctl_copychunk(struct smb2_call *call, const struct ioctl_in *in)
{
	struct smbd_open *dst;
	NTSTATUS status = smb2_ioctl_file_open(call, in, &dst);
	if (!NT_STATUS_IS_OK(status))
		return status;
	/* MS-SMB2 3.3.5.15.6: without room for the response, no response. */
	if (in->max_output < COPYCHUNK_RSP_SIZE)
		return NT_STATUS_INVALID_PARAMETER;
	struct fsctl_copychunk_in *req = talloc(call->req, struct fsctl_copychunk_in);
	if (req == NULL)
		return NT_STATUS_NO_MEMORY;
	status = fsctl_decode_copychunk(in->input, in->input_count, req);
	if (!NT_STATUS_IS_OK(status)) {
		/* MS-SMB2 3.3.5.15.6.2: the answer carries the server's limits. */
		return copychunk_reply(call, in, SMBD_COPYCHUNK_MAX_CHUNKS, SMBD_COPYCHUNK_MAX_CHUNK_SIZE,
				       SMBD_COPYCHUNK_MAX_TOTAL, NT_STATUS_INVALID_PARAMETER);
	}
	struct smbd_open *src = find_by_resume_key(dst->srv, req->source_key);
	if (src == NULL)
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	if (src->pipe != NULL || src->fd < 0)
		return NT_STATUS_INVALID_DEVICE_REQUEST;
	if (src->is_dir || dst->is_dir)
		return NT_STATUS_INVALID_PARAMETER;
	/*
	 * Access (MS-SMB2 3.3.5.15.6): the target needs FILE_WRITE_DATA,
	 * and FILE_READ_DATA as well for COPYCHUNK (not COPYCHUNK_WRITE).
	 * The source needs FILE_READ_DATA; Windows takes FILE_EXECUTE too
	 * (smbtorture smb2.ioctl.copy_chunk_bad_access), and so do we.
	 */
	uint32_t need = FILE_WRITE_DATA | (in->ctl_code == FSCTL_SRV_COPYCHUNK ? FILE_READ_DATA : 0);
	if ((dst->access & need) != need || !(src->access & (FILE_READ_DATA | FILE_EXECUTE)))
		return NT_STATUS_ACCESS_DENIED;

	struct copychunk_job *j = talloc_zero(call->req, struct copychunk_job);
	if (j == NULL)
		return NT_STATUS_NO_MEMORY;
	j->in = *in;
	j->req = req;
	j->src = smbd_open_hold_fd_for(j, src, NULL);
	j->dst = smbd_open_hold_fd_for(j, dst, &j->dst_ref);
	if (j->src < 0 || j->dst < 0)
		return NT_STATUS_NO_MEMORY;
	struct stat sst, dst_st;
	if (NT_STATUS_IS_OK(vfs_fstat(j->src, &sst)) && NT_STATUS_IS_OK(vfs_fstat(j->dst, &dst_st)))
		j->same = sst.st_dev == dst_st.st_dev && sst.st_ino == dst_st.st_ino;
	j->sync = smbd_open_writes_through(dst);
	/* Windows 2012 and later copy with ordinary reads and writes, which
	 * byte-range locks stop (smbtorture copy_chunk_*_lock): the copy
	 * stops at the first chunk they refuse, the ones before it stand. */
	j->lock_status = NT_STATUS_OK;
	for (j->n_unlocked = 0; j->n_unlocked < req->chunk_count; j->n_unlocked++) {
		const struct fsctl_copychunk *c = &req->chunks[j->n_unlocked];
		j->lock_status = smbd_brlock_check_io(src, c->source_offset, c->length, false);
		if (NT_STATUS_IS_OK(j->lock_status))
			j->lock_status = smbd_brlock_check_io(dst, c->target_offset, c->length, true);
		if (!NT_STATUS_IS_OK(j->lock_status))
			break;
	}
	return smbd_call_offload(call, j, copychunk_work, copychunk_finish);
}

/* ---- block cloning ---- */

/* A clone, on an I/O worker (smbd_call_offload): len bytes, all within
 * the target, whose partial last block is copied. */
struct clone_job {
	struct ioctl_in in;
	int src, dst;                 /* held (smbd_open_hold_fd_for) */
	struct smbd_open_ref dst_ref;
	uint64_t soff, toff, len, cluster;
	bool sync;
	NTSTATUS status;
};

static void clone_work(void *arg)
{
	struct clone_job *j = arg;
	uint64_t tail = j->len % j->cluster;
	NTSTATUS status = NT_STATUS_OK;
	if (j->len - tail > 0)
		status = storage_clone(j->src, j->soff, j->dst, j->toff, j->len - tail);
	if (NT_STATUS_IS_OK(status) && tail > 0) {
		uint32_t done = 0;
		status = storage_copy(j->src, j->soff + j->len - tail, j->dst, j->toff + j->len - tail,
				      (uint32_t)tail, false, &done);
	}
	if (NT_STATUS_IS_OK(status) && j->sync)
		status = vfs_fsync(j->dst);
	j->status = status;
}

static NTSTATUS clone_finish(struct smb2_call *call, void *arg)
{
	struct clone_job *j = arg;
	if (!NT_STATUS_IS_OK(j->status))
		return j->status;
	smb2_ioctl_data_changed(call, &j->dst_ref);
	return smb2_ioctl_reply(call, &j->in, NULL, 0, NT_STATUS_OK);
}

NTSTATUS smb2_ioctl_duplicate_extents(struct smb2_call *call, const struct ioctl_in *in)
{
	struct smbd_open *dst;
	NTSTATUS status = smb2_ioctl_file_open(call, in, &dst);
	if (!NT_STATUS_IS_OK(status))
		return status;
	/* Only where FILE_SUPPORTS_BLOCK_REFCOUNTING is advertised. */
	if (!dst->tcon->share->can_reflink)
		return NT_STATUS_NOT_SUPPORTED;
	struct fsctl_dup_extents_in req;
	status = fsctl_decode_dup_extents(in->input, in->input_count, &req);
	if (!NT_STATUS_IS_OK(status))
		return status;
	/* The source is a handle of the same session (Windows answers
	 * INVALID_HANDLE for an unknown one: smbtorture dup_extents_bad_handle). */
	struct smbd_open *src = idtable_find(dst->srv->opens, req.source_fid_v);
	if (src == NULL || src->persistent_id != req.source_fid_p || src->session_id != dst->session_id)
		return NT_STATUS_INVALID_HANDLE;
	if (src->pipe != NULL || src->fd < 0)
		return NT_STATUS_INVALID_HANDLE;
	if (src->is_dir || dst->is_dir)
		return NT_STATUS_INVALID_PARAMETER;
	if (!(dst->access & FILE_WRITE_DATA) || !(src->access & FILE_READ_DATA))
		return NT_STATUS_ACCESS_DENIED;
	if (req.byte_count == 0)
		return smb2_ioctl_reply(call, in, NULL, 0, NT_STATUS_OK);

	struct stat sst, dst_st;
	struct vfs_dos_info sdos, ddos;
	status = vfs_fstat(src->fd, &sst);
	if (NT_STATUS_IS_OK(status))
		status = vfs_fstat(dst->fd, &dst_st);
	if (NT_STATUS_IS_OK(status))
		status = vfs_dos_get(src->fd, &sst, &sdos);
	if (NT_STATUS_IS_OK(status))
		status = vfs_dos_get(dst->fd, &dst_st, &ddos);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (sst.st_dev != dst_st.st_dev)
		return NT_STATUS_NOT_SAME_DEVICE;
	uint64_t soff = (uint64_t)req.source_offset, toff = (uint64_t)req.target_offset;
	uint64_t len = (uint64_t)req.byte_count;
	/* MS-FSA 2.1.5.9.4: cluster-aligned offsets and length; a length
	 * may end unaligned at the source's EOF (FICLONERANGE agrees). */
	uint64_t cluster = dst_st.st_blksize > 0 ? (uint64_t)dst_st.st_blksize : 4096;
	if (soff % cluster || toff % cluster || (len % cluster && soff + len != (uint64_t)sst.st_size))
		return NT_STATUS_INVALID_PARAMETER;
	/* The source range must lie within the source (MS-FSCC 2.3.8;
	 * smbtorture dup_extents_len_beyond_src). */
	if (soff + len > (uint64_t)sst.st_size)
		return NT_STATUS_NOT_SUPPORTED;
	if (sst.st_ino == dst_st.st_ino && ranges_overlap(soff, toff, len))
		return NT_STATUS_NOT_SUPPORTED;
	/* MS-FSCC 2.3.8 says a sparse target with a non-sparse source is
	 * refused; Windows refuses the opposite (a sparse source into a
	 * non-sparse target) and takes the former (smbtorture
	 * dup_extents_sparse_src/_dest). We do as Windows. */
	if ((sdos.attributes & FILE_ATTRIBUTE_SPARSE_FILE) && !(ddos.attributes & FILE_ATTRIBUTE_SPARSE_FILE))
		return NT_STATUS_NOT_SUPPORTED;
	/*
	 * Cloning never extends the target: Windows (Server 2016) succeeds
	 * and leaves the target's size alone when the range passes its EOF
	 * (smbtorture dup_extents_len_beyond_dest, _sparse_dest), so only
	 * the part within it is cloned. A partial last block (at the
	 * source's EOF, or cut by the target's) is copied: file systems
	 * refuse to clone one into the middle of a file.
	 * Byte-range locks do not stop a clone on Windows, unlike copychunk
	 * (smbtorture dup_extents_src_lock, _dest_lock).
	 */
	uint64_t size = (uint64_t)dst_st.st_size;
	uint64_t clone_len = toff >= size ? 0 : (len < size - toff ? len : size - toff);
	if (clone_len == 0)
		return smb2_ioctl_reply(call, in, NULL, 0, NT_STATUS_OK);
	struct clone_job *j = talloc_zero(call->req, struct clone_job);
	if (j == NULL)
		return NT_STATUS_NO_MEMORY;
	j->in = *in;
	j->src = smbd_open_hold_fd_for(j, src, NULL);
	j->dst = smbd_open_hold_fd_for(j, dst, &j->dst_ref);
	if (j->src < 0 || j->dst < 0)
		return NT_STATUS_NO_MEMORY;
	j->soff = soff;
	j->toff = toff;
	j->len = clone_len;
	j->cluster = cluster;
	j->sync = smbd_open_writes_through(dst);
	return smbd_call_offload(call, j, clone_work, clone_finish);
}
