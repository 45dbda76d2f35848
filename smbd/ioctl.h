/*
 * FSCTL handlers (MS-SMB2 3.3.5.15): what smb2_ioctl.c's dispatcher hands
 * to the smb2_ioctl_<family>.c files, and their wire decoders.
 *
 * A handler gets the decoded IOCTL request; its input buffer is already
 * bounds-checked against the PDU, its sizes against MaxTransactSize.
 * Each family decodes its FSCTL's input into a typed struct with a
 * decoder of its own (fuzzable alone, no server state), then does the
 * work and encodes its output through smb2_ioctl_reply().
 */
#ifndef PORTHOS_SMBD_IOCTL_H
#define PORTHOS_SMBD_IOCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/ntstatus.h"

struct smb2_call;

/* An SMB2 IOCTL request (MS-SMB2 2.2.31). */
struct ioctl_in {
	uint32_t ctl_code;
	uint64_t fid_p, fid_v;
	const uint8_t *input;
	uint32_t input_count;
	uint32_t max_output;
	uint32_t flags;
};

/*
 * The IOCTL response (MS-SMB2 2.2.32) with 'out' as its output buffer;
 * the input is never echoed back. Returns status (or NO_MEMORY): an error
 * status with a body is sent with that body, as copychunk needs.
 */
struct smbd_open;

/* The open an FSCTL names, which must be a file or directory with an fd:
 * a pipe gets INVALID_DEVICE_REQUEST, as Windows answers. */
NTSTATUS smb2_ioctl_file_open(struct smb2_call *call, const struct ioctl_in *in, struct smbd_open **out);

NTSTATUS smb2_ioctl_reply(struct smb2_call *call, const struct ioctl_in *in, const uint8_t *out, size_t out_len,
			  NTSTATUS status);

/* After work on a worker changed an open's data (copy, clone, zeroing):
 * level II oplocks break and the open counts as changed, if it is still
 * there (ref: smbd_open_hold_fd_for). */
struct smbd_open_ref;
void smb2_ioctl_data_changed(struct smb2_call *call, const struct smbd_open_ref *ref);

/* ---- smb2_ioctl_compression.c: compression state (MS-FSCC 2.3.18, 2.3.67) ---- */

/* FSCTL_SET_COMPRESSION's CompressionState, one of the defined values. */
NTSTATUS fsctl_decode_set_compression(const uint8_t *input, size_t len, uint16_t *state);
NTSTATUS smb2_ioctl_get_compression(struct smb2_call *call, const struct ioctl_in *in);
NTSTATUS smb2_ioctl_set_compression(struct smb2_call *call, const struct ioctl_in *in);

/* ---- smb2_ioctl_sparse.c: sparse files (MS-FSCC 2.3.64, 2.3.67, 2.3.33) ---- */

struct fsctl_set_sparse_in {
	bool set_sparse;	/* SetSparse; TRUE when the buffer is absent */
};
struct fsctl_zero_data_in {	/* FILE_ZERO_DATA_INFORMATION (MS-FSCC 2.3.66) */
	int64_t file_offset;
	int64_t beyond_final_zero;
};
struct fsctl_range {		/* FILE_ALLOCATED_RANGE_BUFFER (MS-FSCC 2.3.34) */
	int64_t file_offset;
	int64_t length;
};

NTSTATUS fsctl_decode_set_sparse(const uint8_t *buf, size_t len, struct fsctl_set_sparse_in *out);
NTSTATUS fsctl_decode_zero_data(const uint8_t *buf, size_t len, struct fsctl_zero_data_in *out);
NTSTATUS fsctl_decode_allocated_range(const uint8_t *buf, size_t len, struct fsctl_range *out);

NTSTATUS smb2_ioctl_set_sparse(struct smb2_call *call, const struct ioctl_in *in);
NTSTATUS smb2_ioctl_set_zero_data(struct smb2_call *call, const struct ioctl_in *in);
NTSTATUS smb2_ioctl_query_allocated_ranges(struct smb2_call *call, const struct ioctl_in *in);

/* ---- smb2_ioctl_copy.c: server-side copy and block cloning ---- */

/* MS-SMB2 3.3.5.15.6: ServerSideCopyMax*, the values Windows uses. */
#define SMBD_COPYCHUNK_MAX_CHUNKS 256u
#define SMBD_COPYCHUNK_MAX_CHUNK_SIZE (1024u * 1024u)
#define SMBD_COPYCHUNK_MAX_TOTAL (16u * 1024u * 1024u)
#define SMBD_RESUME_KEY_LEN 24

struct fsctl_copychunk {	/* SRV_COPYCHUNK (MS-SMB2 2.2.31.1.1) */
	uint64_t source_offset;
	uint64_t target_offset;
	uint32_t length;
};
struct fsctl_copychunk_in {	/* SRV_COPYCHUNK_COPY (MS-SMB2 2.2.31.1) */
	uint8_t source_key[SMBD_RESUME_KEY_LEN];
	uint32_t chunk_count;
	struct fsctl_copychunk chunks[SMBD_COPYCHUNK_MAX_CHUNKS];
};
struct fsctl_dup_extents_in {	/* DUPLICATE_EXTENTS_DATA (MS-FSCC 2.3.8) */
	uint64_t source_fid_p, source_fid_v;
	int64_t source_offset;
	int64_t target_offset;
	int64_t byte_count;
};

/*
 * INVALID_PARAMETER for a malformed buffer or one beyond the limits
 * above (the caller answers with the limits, MS-SMB2 3.3.5.15.6.2).
 */
NTSTATUS fsctl_decode_copychunk(const uint8_t *buf, size_t len, struct fsctl_copychunk_in *out);
NTSTATUS fsctl_decode_dup_extents(const uint8_t *buf, size_t len, struct fsctl_dup_extents_in *out);

NTSTATUS smb2_ioctl_request_resume_key(struct smb2_call *call, const struct ioctl_in *in);
NTSTATUS smb2_ioctl_copychunk(struct smb2_call *call, const struct ioctl_in *in);
NTSTATUS smb2_ioctl_duplicate_extents(struct smb2_call *call, const struct ioctl_in *in);

/*
 * Whether the file system under dir_fd (any fd of a directory in it,
 * O_PATH included) can share blocks between files (FICLONERANGE): two
 * unnamed O_TMPFILE files there, one block cloned from one to the other.
 * For FILE_SUPPORTS_BLOCK_REFCOUNTING: probe once per share at startup.
 * Blocking I/O (a few small writes).
 */
bool smbd_probe_reflink(int dir_fd);

#endif
