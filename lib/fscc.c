#include "config.h"
#include "lib/fscc.h"

#include <string.h>

#include "lib/unicode.h"

/* 100ns ticks per second, and seconds from 1601 to 1970. */
#define TICKS_PER_SEC	INT64_C(10000000)
#define EPOCH_DIFF_SEC	INT64_C(11644473600)

static const struct fscc_open_info zero_open_info;

uint64_t fscc_nttime_from_timespec(const struct timespec *ts)
{
	int64_t sec = (int64_t)ts->tv_sec;
	int64_t nsec = ts->tv_nsec;

	/* Tolerate an unnormalised tv_nsec rather than produce garbage. */
	if (nsec < 0 || nsec >= 1000000000) {
		sec += nsec / 1000000000;
		nsec %= 1000000000;
		if (nsec < 0) {
			nsec += 1000000000;
			sec -= 1;
		}
	}
	if (sec < -EPOCH_DIFF_SEC)
		return 0;	/* before 1601: the earliest NT time */
	int64_t s1601;
	int64_t ticks;
	if (__builtin_add_overflow(sec, EPOCH_DIFF_SEC, &s1601) ||
	    __builtin_mul_overflow(s1601, TICKS_PER_SEC, &ticks) ||
	    __builtin_add_overflow(ticks, nsec / 100, &ticks))
		return (uint64_t)INT64_MAX;
	return (uint64_t)ticks;
}

void fscc_timespec_from_nttime(uint64_t nt, struct timespec *ts)
{
	/* Unsigned division: exact for every 64-bit value. */
	uint64_t secs = nt / (uint64_t)TICKS_PER_SEC;
	ts->tv_sec = (time_t)((int64_t)secs - EPOCH_DIFF_SEC);
	ts->tv_nsec = (long)((nt % (uint64_t)TICKS_PER_SEC) * 100);
}

uint32_t fscc_effective_attributes(const struct fscc_file_info *fi)
{
	uint32_t a = fi->attributes;

	if (fi->is_directory)
		a |= FILE_ATTRIBUTE_DIRECTORY;
	/* NORMAL is only valid alone (MS-FSCC 2.6). */
	if (a & ~FILE_ATTRIBUTE_NORMAL)
		a &= ~FILE_ATTRIBUTE_NORMAL;
	else
		a = FILE_ATTRIBUTE_NORMAL;
	return a;
}

/* UTF-16LE byte length of a UTF-8 name (NULL = empty), SIZE_MAX if invalid. */
static size_t name_len16(const char *s)
{
	return s ? utf8_utf16le_len(s) : 0;
}

static bool put_name16(struct wire_wr *w, const char *s)
{
	if (s == NULL || s[0] == '\0')
		return true;
	size_t n;
	uint8_t *u = utf8_to_utf16le(w->mem, s, &n);
	if (u == NULL)
		return false;
	wire_put_bytes(w, u, n);
	talloc_free(u);
	return true;
}

/* ShortNameLength + Reserved + ShortName[24]; no short name if it won't fit. */
static void put_short_name(struct wire_wr *w, const char *sn)
{
	size_t n = name_len16(sn);
	if (n == SIZE_MAX || n > 24)
		n = 0;
	wire_put_u8(w, (uint8_t)n);
	wire_put_u8(w, 0);
	size_t at = w->len;
	wire_put_zeros(w, 24);
	if (n && wire_wr_ok(w)) {
		uint8_t *u = utf8_to_utf16le(w->mem, sn, &n);
		if (u == NULL) {
			w->err = true;
			return;
		}
		wire_patch_bytes(w, at, u, n);
		talloc_free(u);
	}
}

static void put_id128(struct wire_wr *w, uint64_t id)
{
	wire_put_u64(w, id);
	wire_put_u64(w, 0);
}

/* FieldOffset(FileName) of each directory class (MS-FSCC 2.4). */
size_t fscc_dir_entry_fixed_size(uint8_t info_class)
{
	switch (info_class) {
	case FSCC_FILE_DIRECTORY_INFORMATION:			return 64;
	case FSCC_FILE_FULL_DIRECTORY_INFORMATION:		return 68;
	case FSCC_FILE_BOTH_DIRECTORY_INFORMATION:		return 94;
	case FSCC_FILE_NAMES_INFORMATION:			return 12;
	case FSCC_FILE_ID_BOTH_DIRECTORY_INFORMATION:		return 104;
	case FSCC_FILE_ID_FULL_DIRECTORY_INFORMATION:		return 80;
	case FSCC_FILE_ID_EXTD_DIRECTORY_INFORMATION:		return 88;
	case FSCC_FILE_ID_EXTD_BOTH_DIRECTORY_INFORMATION:	return 114;
	case FSCC_FILE_ID_64_EXTD_DIRECTORY_INFORMATION:	return 80;
	case FSCC_FILE_ID_64_EXTD_BOTH_DIRECTORY_INFORMATION:	return 106;
	case FSCC_FILE_ID_ALL_EXTD_DIRECTORY_INFORMATION:	return 96;
	case FSCC_FILE_ID_ALL_EXTD_BOTH_DIRECTORY_INFORMATION:	return 122;
	default:						return 0;
	}
}

/* Unpadded entry size, 0 on unknown class or invalid name. */
static size_t dir_entry_raw_size(uint8_t info_class, const struct fscc_file_info *fi)
{
	size_t fixed = fscc_dir_entry_fixed_size(info_class);
	size_t n = name_len16(fi->name);
	if (fixed == 0 || n == SIZE_MAX || n > UINT32_MAX - fixed)
		return 0;
	return fixed + n;
}

size_t fscc_dir_entry_size(uint8_t info_class, const struct fscc_file_info *fi)
{
	size_t raw = dir_entry_raw_size(info_class, fi);
	return raw ? (raw + 7) & ~(size_t)7 : 0;
}

size_t fscc_dir_entry_end(uint8_t info_class, const struct fscc_file_info *fi, size_t cur_len)
{
	size_t raw = dir_entry_raw_size(info_class, fi);
	if (raw == 0)
		return 0;
	return ((cur_len + 7) & ~(size_t)7) + raw;
}

void fscc_dir_link(struct wire_wr *w, size_t prev_off, size_t this_off)
{
	if (this_off <= prev_off || this_off - prev_off > UINT32_MAX) {
		w->err = true;
		return;
	}
	wire_patch_u32(w, prev_off, (uint32_t)(this_off - prev_off));
}

NTSTATUS fscc_dir_entry_encode(uint8_t info_class, const struct fscc_file_info *fi,
			       struct wire_wr *w, size_t *entry_off)
{
	*entry_off = (size_t)-1;
	size_t fixed = fscc_dir_entry_fixed_size(info_class);
	if (fixed == 0)
		return NT_STATUS_INVALID_INFO_CLASS;
	size_t name_len = name_len16(fi->name);
	if (name_len == SIZE_MAX || name_len > UINT32_MAX - fixed)
		return NT_STATUS_OBJECT_NAME_INVALID;

	wire_put_align(w, 8);
	size_t off = w->len;
	uint32_t attrs = fscc_effective_attributes(fi);
	bool reparse = (attrs & FILE_ATTRIBUTE_REPARSE_POINT) != 0;
	uint32_t tag = reparse ? fi->reparse_tag : 0;

	wire_put_u32(w, 0);	/* NextEntryOffset, patched by fscc_dir_link */
	wire_put_u32(w, 0);	/* FileIndex: 0, as NTFS (ordering not fixed) */
	if (info_class == FSCC_FILE_NAMES_INFORMATION) {
		wire_put_u32(w, (uint32_t)name_len);
		goto name;
	}
	wire_put_u64(w, fi->creation_time);
	wire_put_u64(w, fi->last_access_time);
	wire_put_u64(w, fi->last_write_time);
	wire_put_u64(w, fi->change_time);
	wire_put_u64(w, fi->end_of_file);
	wire_put_u64(w, fi->allocation_size);
	wire_put_u32(w, attrs);
	wire_put_u32(w, (uint32_t)name_len);

	switch (info_class) {
	case FSCC_FILE_DIRECTORY_INFORMATION:
		break;
	case FSCC_FILE_FULL_DIRECTORY_INFORMATION:
		/* EaSize doubles as the reparse tag (MS-FSCC 2.4.14). */
		wire_put_u32(w, reparse ? tag : fi->ea_size);
		break;
	case FSCC_FILE_BOTH_DIRECTORY_INFORMATION:
		wire_put_u32(w, reparse ? tag : fi->ea_size);
		put_short_name(w, fi->short_name);
		break;
	case FSCC_FILE_ID_BOTH_DIRECTORY_INFORMATION:
		wire_put_u32(w, reparse ? tag : fi->ea_size);
		put_short_name(w, fi->short_name);
		wire_put_u16(w, 0);	/* Reserved2 */
		wire_put_u64(w, fi->file_id);
		break;
	case FSCC_FILE_ID_FULL_DIRECTORY_INFORMATION:
		wire_put_u32(w, reparse ? tag : fi->ea_size);
		wire_put_u32(w, 0);	/* Reserved */
		wire_put_u64(w, fi->file_id);
		break;
	case FSCC_FILE_ID_EXTD_DIRECTORY_INFORMATION:
		wire_put_u32(w, fi->ea_size);
		wire_put_u32(w, tag);
		put_id128(w, fi->file_id);
		break;
	case FSCC_FILE_ID_EXTD_BOTH_DIRECTORY_INFORMATION:
		wire_put_u32(w, fi->ea_size);
		wire_put_u32(w, tag);
		put_id128(w, fi->file_id);
		put_short_name(w, fi->short_name);
		break;
	case FSCC_FILE_ID_64_EXTD_DIRECTORY_INFORMATION:
		wire_put_u32(w, fi->ea_size);
		wire_put_u32(w, tag);
		wire_put_u64(w, fi->file_id);
		break;
	case FSCC_FILE_ID_64_EXTD_BOTH_DIRECTORY_INFORMATION:
		wire_put_u32(w, fi->ea_size);
		wire_put_u32(w, tag);
		wire_put_u64(w, fi->file_id);
		put_short_name(w, fi->short_name);
		break;
	case FSCC_FILE_ID_ALL_EXTD_DIRECTORY_INFORMATION:
		wire_put_u32(w, fi->ea_size);
		wire_put_u32(w, tag);
		wire_put_u64(w, fi->file_id);
		put_id128(w, fi->file_id);
		break;
	case FSCC_FILE_ID_ALL_EXTD_BOTH_DIRECTORY_INFORMATION:
		wire_put_u32(w, fi->ea_size);
		wire_put_u32(w, tag);
		wire_put_u64(w, fi->file_id);
		put_id128(w, fi->file_id);
		put_short_name(w, fi->short_name);
		break;
	}
name:
	if (!wire_wr_ok(w))
		return NT_STATUS_NO_MEMORY;
	if (w->len - off != fixed)
		return NT_STATUS_INTERNAL_ERROR;	/* table and encoder disagree */
	if (!put_name16(w, fi->name) || !wire_wr_ok(w))
		return NT_STATUS_NO_MEMORY;
	*entry_off = off;
	return NT_STATUS_OK;
}

/* --- QUERY_INFO, file classes --- */

static void put_basic(struct wire_wr *w, const struct fscc_file_info *fi)
{
	wire_put_u64(w, fi->creation_time);
	wire_put_u64(w, fi->last_access_time);
	wire_put_u64(w, fi->last_write_time);
	wire_put_u64(w, fi->change_time);
	wire_put_u32(w, fscc_effective_attributes(fi));
	wire_put_u32(w, 0);	/* Reserved */
}

static void put_standard(struct wire_wr *w, const struct fscc_file_info *fi)
{
	wire_put_u64(w, fi->allocation_size);
	wire_put_u64(w, fi->end_of_file);
	wire_put_u32(w, fi->nlink);
	wire_put_u8(w, fi->delete_pending ? 1 : 0);
	wire_put_u8(w, fi->is_directory ? 1 : 0);
	wire_put_u16(w, 0);	/* Reserved */
}

/* FILE_NAME_INFORMATION: FileNameLength (4) + FileName. */
static NTSTATUS put_name_info(struct wire_wr *w, const char *name)
{
	size_t n = name_len16(name);
	if (n == SIZE_MAX || n > UINT32_MAX)
		return NT_STATUS_OBJECT_NAME_INVALID;
	wire_put_u32(w, (uint32_t)n);
	if (!put_name16(w, name))
		return NT_STATUS_NO_MEMORY;
	return NT_STATUS_OK;
}

NTSTATUS fscc_stream_info_encode(const struct fscc_stream *streams, size_t n,
				 uint32_t out_buf_len, struct wire_wr *w)
{
	/* MS-FSA 2.1.5.12.29: below sizeof(FILE_STREAM_INFORMATION). */
	if (out_buf_len < 32)
		return NT_STATUS_INFO_LENGTH_MISMATCH;
	size_t base = w->len;
	size_t prev = (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		size_t nl = name_len16(streams[i].name);
		if (nl == SIZE_MAX || nl > UINT32_MAX - 24)
			return NT_STATUS_OBJECT_NAME_INVALID;
		size_t start = prev == (size_t)-1 ? w->len : (w->len + 7) & ~(size_t)7;
		if (start - base + 24 + nl > out_buf_len)
			return wire_wr_ok(w) ? NT_STATUS_BUFFER_OVERFLOW : NT_STATUS_NO_MEMORY;
		if (prev != (size_t)-1)
			wire_put_zeros(w, start - w->len);
		wire_put_u32(w, 0);	/* NextEntryOffset */
		wire_put_u32(w, (uint32_t)nl);
		wire_put_u64(w, streams[i].size);
		wire_put_u64(w, streams[i].allocation_size);
		if (!put_name16(w, streams[i].name))
			return NT_STATUS_NO_MEMORY;
		if (prev != (size_t)-1)
			wire_patch_u32(w, prev, (uint32_t)(start - prev));
		prev = start;
	}
	return wire_wr_ok(w) ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

NTSTATUS fscc_file_info_encode(uint8_t info_class, const struct fscc_file_info *fi,
			       const struct fscc_open_info *oi, struct wire_wr *w)
{
	NTSTATUS st = NT_STATUS_OK;

	if (oi == NULL)
		oi = &zero_open_info;
	switch (info_class) {
	case FSCC_FILE_BASIC_INFORMATION:
		put_basic(w, fi);
		break;
	case FSCC_FILE_STANDARD_INFORMATION:
		put_standard(w, fi);
		break;
	case FSCC_FILE_INTERNAL_INFORMATION:
		wire_put_u64(w, fi->file_id);
		break;
	case FSCC_FILE_EA_INFORMATION:
		wire_put_u32(w, fi->ea_size);
		break;
	case FSCC_FILE_ACCESS_INFORMATION:
		wire_put_u32(w, oi->access_mask);
		break;
	case FSCC_FILE_NAME_INFORMATION:
	case FSCC_FILE_NORMALIZED_NAME_INFORMATION:
		st = put_name_info(w, fi->name);
		break;
	case FSCC_FILE_POSITION_INFORMATION:
		wire_put_u64(w, oi->position);
		break;
	case FSCC_FILE_MODE_INFORMATION:
		wire_put_u32(w, oi->mode);
		break;
	case FSCC_FILE_ALIGNMENT_INFORMATION:
		wire_put_u32(w, 0);	/* FILE_BYTE_ALIGNMENT */
		break;
	case FSCC_FILE_ALL_INFORMATION:
		/* MS-FSCC 2.4.2: the eight fixed structures, then the name. */
		put_basic(w, fi);
		put_standard(w, fi);
		wire_put_u64(w, fi->file_id);
		wire_put_u32(w, fi->ea_size);
		wire_put_u32(w, oi->access_mask);
		wire_put_u64(w, oi->position);
		wire_put_u32(w, oi->mode);
		wire_put_u32(w, 0);	/* AlignmentRequirement */
		st = put_name_info(w, fi->name);
		break;
	case FSCC_FILE_ALTERNATE_NAME_INFORMATION:
		/* No 8.3 name: what NTFS says when the short name is absent. */
		if (fi->short_name == NULL || fi->short_name[0] == '\0')
			return NT_STATUS_OBJECT_NAME_NOT_FOUND;
		st = put_name_info(w, fi->short_name);
		break;
	case FSCC_FILE_STREAM_INFORMATION: {
		/* The unnamed data stream only; a directory has none. */
		struct fscc_stream s = {
			.name = "::$DATA",
			.size = fi->end_of_file,
			.allocation_size = fi->allocation_size,
		};
		st = fscc_stream_info_encode(&s, fi->is_directory ? 0 : 1, UINT32_MAX, w);
		break;
	}
	case FSCC_FILE_COMPRESSION_INFORMATION:
		/* Uncompressed: CompressedFileSize is the file size. */
		wire_put_u64(w, fi->end_of_file);
		wire_put_u16(w, 0);	/* COMPRESSION_FORMAT_NONE */
		wire_put_u8(w, 0);	/* CompressionUnitShift */
		wire_put_u8(w, 0);	/* ChunkShift */
		wire_put_u8(w, 0);	/* ClusterShift */
		wire_put_zeros(w, 3);	/* Reserved */
		break;
	case FSCC_FILE_NETWORK_OPEN_INFORMATION:
		wire_put_u64(w, fi->creation_time);
		wire_put_u64(w, fi->last_access_time);
		wire_put_u64(w, fi->last_write_time);
		wire_put_u64(w, fi->change_time);
		wire_put_u64(w, fi->allocation_size);
		wire_put_u64(w, fi->end_of_file);
		wire_put_u32(w, fscc_effective_attributes(fi));
		wire_put_u32(w, 0);	/* Reserved */
		break;
	case FSCC_FILE_ATTRIBUTE_TAG_INFORMATION: {
		uint32_t a = fscc_effective_attributes(fi);
		wire_put_u32(w, a);
		wire_put_u32(w, (a & FILE_ATTRIBUTE_REPARSE_POINT) ? fi->reparse_tag : 0);
		break;
	}
	case FSCC_FILE_ID_INFORMATION:
		wire_put_u64(w, oi->volume_serial);
		put_id128(w, fi->file_id);
		break;
	default:
		return NT_STATUS_INVALID_INFO_CLASS;
	}
	if (!NT_STATUS_IS_OK(st))
		return st;
	return wire_wr_ok(w) ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

/*
 * Minimum OutputBufferLength per class, and for variable classes the
 * offset of the trailing string and whether it is cut to whole UTF-16
 * units. Minimums are MS-FSA's sizeof()/BlockAlign() values.
 */
struct fit_rule {
	uint32_t min;
	uint32_t var_off;	/* 0: fixed-size class */
	bool even;
	bool whole_entries;	/* stream list: nothing partial */
};

static bool file_fit_rule(uint8_t c, struct fit_rule *r)
{
	*r = (struct fit_rule){ 0 };
	switch (c) {
	case FSCC_FILE_BASIC_INFORMATION:		r->min = 40; break;
	case FSCC_FILE_STANDARD_INFORMATION:		r->min = 24; break;
	case FSCC_FILE_INTERNAL_INFORMATION:		r->min = 8; break;
	case FSCC_FILE_EA_INFORMATION:			r->min = 4; break;
	case FSCC_FILE_ACCESS_INFORMATION:		r->min = 4; break;
	case FSCC_FILE_POSITION_INFORMATION:		r->min = 8; break;
	case FSCC_FILE_MODE_INFORMATION:		r->min = 4; break;
	case FSCC_FILE_ALIGNMENT_INFORMATION:		r->min = 4; break;
	case FSCC_FILE_COMPRESSION_INFORMATION:		r->min = 16; break;
	case FSCC_FILE_NETWORK_OPEN_INFORMATION:	r->min = 56; break;
	case FSCC_FILE_ATTRIBUTE_TAG_INFORMATION:	r->min = 8; break;
	case FSCC_FILE_ID_INFORMATION:			r->min = 24; break;
	case FSCC_FILE_NAME_INFORMATION:
	case FSCC_FILE_ALTERNATE_NAME_INFORMATION:
	case FSCC_FILE_NORMALIZED_NAME_INFORMATION:
		/* BlockAlign(FieldOffset(FileName) + 2, 4) */
		r->min = 8; r->var_off = 4; r->even = true;
		break;
	case FSCC_FILE_ALL_INFORMATION:
		/* sizeof(FILE_ALL_INFORMATION) with its one-WCHAR name */
		r->min = 104; r->var_off = 100; r->even = true;
		break;
	case FSCC_FILE_STREAM_INFORMATION:
		r->min = 32; r->var_off = 0; r->whole_entries = true;
		break;
	default:
		return false;
	}
	return true;
}

static bool fs_fit_rule(uint8_t c, struct fit_rule *r)
{
	*r = (struct fit_rule){ 0 };
	switch (c) {
	case FSCC_FS_VOLUME_INFORMATION:
		/* BlockAlign(FieldOffset(VolumeLabel), 8) (MS-FSA 2.1.5.13.1) */
		r->min = 24; r->var_off = 18;
		break;
	case FSCC_FS_ATTRIBUTE_INFORMATION:
		/* MS-FSA 2.1.5.13.5 gives BlockAlign(FieldOffset(FileSystemName), 4)
		 * = 12, but Windows answers INFO_LENGTH_MISMATCH below 16
		 * (smbtorture smb2.getinfo.qfs_buffercheck); do what Windows does. */
		r->min = 16; r->var_off = 12;
		break;
	case FSCC_FS_SIZE_INFORMATION:		r->min = 24; break;
	case FSCC_FS_DEVICE_INFORMATION:	r->min = 8; break;
	case FSCC_FS_CONTROL_INFORMATION:	r->min = 48; break;
	case FSCC_FS_FULL_SIZE_INFORMATION:	r->min = 32; break;
	case FSCC_FS_OBJECT_ID_INFORMATION:	r->min = 64; break;
	case FSCC_FS_SECTOR_SIZE_INFORMATION:	r->min = 28; break;
	default:
		return false;
	}
	return true;
}

static NTSTATUS apply_fit(const struct fit_rule *r, size_t full_len, uint32_t out_buf_len,
			  size_t *send_len)
{
	*send_len = 0;
	if (out_buf_len < r->min)
		return NT_STATUS_INFO_LENGTH_MISMATCH;
	if (full_len <= out_buf_len) {
		*send_len = full_len;
		return NT_STATUS_OK;
	}
	if (r->whole_entries)
		return NT_STATUS_BUFFER_OVERFLOW;	/* the single entry does not fit */
	if (r->var_off == 0) {
		/* A fixed class longer than the buffer cannot happen (min = size). */
		return NT_STATUS_INFO_LENGTH_MISMATCH;
	}
	size_t avail = out_buf_len - r->var_off;
	if (r->even)
		avail &= ~(size_t)1;
	*send_len = r->var_off + avail;
	return NT_STATUS_BUFFER_OVERFLOW;
}

NTSTATUS fscc_file_info_fit(uint8_t info_class, size_t full_len, uint32_t out_buf_len,
			    size_t *send_len)
{
	struct fit_rule r;
	*send_len = 0;
	if (!file_fit_rule(info_class, &r))
		return NT_STATUS_INVALID_INFO_CLASS;
	return apply_fit(&r, full_len, out_buf_len, send_len);
}

NTSTATUS fscc_fs_info_fit(uint8_t info_class, size_t full_len, uint32_t out_buf_len,
			  size_t *send_len)
{
	struct fit_rule r;
	*send_len = 0;
	if (!fs_fit_rule(info_class, &r))
		return NT_STATUS_INVALID_INFO_CLASS;
	return apply_fit(&r, full_len, out_buf_len, send_len);
}

/* --- QUERY_INFO, file system classes --- */

NTSTATUS fscc_fs_info_encode(uint8_t info_class, const struct fscc_fs_info *fs, struct wire_wr *w)
{
	switch (info_class) {
	case FSCC_FS_VOLUME_INFORMATION: {
		size_t n = name_len16(fs->volume_label);
		if (n == SIZE_MAX || n > UINT32_MAX)
			return NT_STATUS_OBJECT_NAME_INVALID;
		wire_put_u64(w, fs->volume_creation_time);
		wire_put_u32(w, fs->volume_serial);
		wire_put_u32(w, (uint32_t)n);
		wire_put_u8(w, fs->supports_objects ? 1 : 0);
		wire_put_u8(w, 0);	/* Reserved */
		if (!put_name16(w, fs->volume_label))
			return NT_STATUS_NO_MEMORY;
		break;
	}
	case FSCC_FS_SIZE_INFORMATION:
		wire_put_u64(w, fs->total_units);
		wire_put_u64(w, fs->avail_units);
		wire_put_u32(w, fs->sectors_per_unit);
		wire_put_u32(w, fs->bytes_per_sector);
		break;
	case FSCC_FS_DEVICE_INFORMATION:
		wire_put_u32(w, FSCC_FILE_DEVICE_DISK);
		wire_put_u32(w, FSCC_FILE_DEVICE_IS_MOUNTED | fs->device_characteristics);
		break;
	case FSCC_FS_ATTRIBUTE_INFORMATION: {
		size_t n = name_len16(fs->fs_name);
		if (n == SIZE_MAX || n > UINT32_MAX)
			return NT_STATUS_OBJECT_NAME_INVALID;
		wire_put_u32(w, fs->fs_attributes);
		wire_put_u32(w, fs->max_name_len);
		wire_put_u32(w, (uint32_t)n);
		if (!put_name16(w, fs->fs_name))
			return NT_STATUS_NO_MEMORY;
		break;
	}
	case FSCC_FS_CONTROL_INFORMATION:
		if (!fs->quota_supported)
			return NT_STATUS_INVALID_PARAMETER;	/* MS-FSA 2.1.5.13.6 */
		wire_put_u64(w, 0);	/* FreeSpaceStartFiltering */
		wire_put_u64(w, 0);	/* FreeSpaceThreshold */
		wire_put_u64(w, 0);	/* FreeSpaceStopFiltering */
		wire_put_u64(w, fs->default_quota_threshold);
		wire_put_u64(w, fs->default_quota_limit);
		wire_put_u32(w, fs->quota_flags);
		wire_put_u32(w, 0);	/* Padding */
		break;
	case FSCC_FS_FULL_SIZE_INFORMATION:
		wire_put_u64(w, fs->total_units);
		wire_put_u64(w, fs->avail_units);	/* CallerAvailableAllocationUnits */
		wire_put_u64(w, fs->free_units);	/* ActualAvailableAllocationUnits */
		wire_put_u32(w, fs->sectors_per_unit);
		wire_put_u32(w, fs->bytes_per_sector);
		break;
	case FSCC_FS_OBJECT_ID_INFORMATION:
		wire_put_bytes(w, fs->object_id, 16);
		wire_put_zeros(w, 48);	/* ExtendedInfo */
		break;
	case FSCC_FS_SECTOR_SIZE_INFORMATION: {
		uint32_t phys = fs->physical_bytes_per_sector ?
			fs->physical_bytes_per_sector : fs->bytes_per_sector;
		wire_put_u32(w, fs->bytes_per_sector);	/* LogicalBytesPerSector */
		wire_put_u32(w, phys);	/* PhysicalBytesPerSectorForAtomicity */
		wire_put_u32(w, phys);	/* PhysicalBytesPerSectorForPerformance */
		wire_put_u32(w, phys);	/* FileSystemEffectivePhysicalBytesPerSectorForAtomicity */
		wire_put_u32(w, FSCC_SSINFO_FLAGS_ALIGNED_DEVICE |
			     FSCC_SSINFO_FLAGS_PARTITION_ALIGNED_ON_DEVICE);
		wire_put_u32(w, 0);	/* ByteOffsetForSectorAlignment */
		wire_put_u32(w, 0);	/* ByteOffsetForPartitionAlignment */
		break;
	}
	default:
		return NT_STATUS_INVALID_INFO_CLASS;
	}
	return wire_wr_ok(w) ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

/* --- SET_INFO decoders --- */

/* A FILETIME given on SET_INFO: anything below -2 is invalid (MS-FSA 2.1.5.15.2). */
static bool settable_time(uint64_t t)
{
	return (int64_t)t >= -2;
}

NTSTATUS fscc_decode_basic(const uint8_t *buf, size_t len, struct fscc_basic_info *out)
{
	struct wire_rd r;

	*out = (struct fscc_basic_info){ 0 };
	if (len < 40)
		return NT_STATUS_INFO_LENGTH_MISMATCH;
	wire_rd_init(&r, buf, len);
	struct fscc_basic_info b;
	b.creation_time = wire_u64(&r);
	b.last_access_time = wire_u64(&r);
	b.last_write_time = wire_u64(&r);
	b.change_time = wire_u64(&r);
	b.attributes = wire_u32(&r);
	wire_skip(&r, 4);	/* Reserved */
	if (!wire_ok(&r))
		return NT_STATUS_INFO_LENGTH_MISMATCH;
	if (!settable_time(b.creation_time) || !settable_time(b.last_access_time) ||
	    !settable_time(b.last_write_time) || !settable_time(b.change_time))
		return NT_STATUS_INVALID_PARAMETER;
	*out = b;
	return NT_STATUS_OK;
}

NTSTATUS fscc_decode_rename(TALLOC_CTX *mem, const uint8_t *buf, size_t len,
			    struct fscc_rename_info *out)
{
	struct wire_rd r;

	*out = (struct fscc_rename_info){ 0 };
	if (len < 20)
		return NT_STATUS_INFO_LENGTH_MISMATCH;
	wire_rd_init(&r, buf, len);
	bool replace = wire_u8(&r) != 0;
	wire_skip(&r, 7);	/* Reserved */
	uint64_t root = wire_u64(&r);
	uint32_t name_len = wire_u32(&r);
	if (!wire_ok(&r))
		return NT_STATUS_INFO_LENGTH_MISMATCH;
	if (name_len == 0 || (name_len & 1) || name_len > wire_remaining(&r))
		return NT_STATUS_INVALID_PARAMETER;
	const uint8_t *p = wire_ptr(&r, name_len);
	if (p == NULL)
		return NT_STATUS_INVALID_PARAMETER;
	char *name = utf16le_to_utf8(mem, p, name_len);
	if (name == NULL)
		return NT_STATUS_OBJECT_NAME_INVALID;
	/* An embedded NUL would silently shorten the name. */
	for (uint32_t i = 0; i < name_len; i += 2) {
		if (p[i] == 0 && p[i + 1] == 0) {
			talloc_free(name);
			return NT_STATUS_OBJECT_NAME_INVALID;
		}
	}
	out->replace_if_exists = replace;
	out->root_directory = root;
	out->file_name = name;
	return NT_STATUS_OK;
}

NTSTATUS fscc_decode_disposition(const uint8_t *buf, size_t len, bool *delete_pending)
{
	*delete_pending = false;
	if (len < 1 || buf == NULL)
		return NT_STATUS_INFO_LENGTH_MISMATCH;
	*delete_pending = buf[0] != 0;
	return NT_STATUS_OK;
}

NTSTATUS fscc_decode_disposition_ex(const uint8_t *buf, size_t len, uint32_t *flags)
{
	const uint32_t valid = FSCC_FILE_DISPOSITION_DELETE |
		FSCC_FILE_DISPOSITION_POSIX_SEMANTICS |
		FSCC_FILE_DISPOSITION_FORCE_IMAGE_SECTION_CHECK |
		FSCC_FILE_DISPOSITION_ON_CLOSE |
		FSCC_FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE;

	*flags = 0;
	if (len < 4 || buf == NULL)
		return NT_STATUS_INFO_LENGTH_MISMATCH;
	uint32_t f = le32(buf);
	if (f & ~valid)
		return NT_STATUS_INVALID_PARAMETER;
	*flags = f;
	return NT_STATUS_OK;
}

NTSTATUS fscc_decode_u64(const uint8_t *buf, size_t len, uint64_t *v)
{
	*v = 0;
	if (len < 8 || buf == NULL)
		return NT_STATUS_INFO_LENGTH_MISMATCH;
	uint64_t x = le64(buf);
	if (x > (uint64_t)INT64_MAX)
		return NT_STATUS_INVALID_PARAMETER;
	*v = x;
	return NT_STATUS_OK;
}

NTSTATUS fscc_decode_mode(const uint8_t *buf, size_t len, uint32_t *mode)
{
	/* FILE_VALID_SET_FLAGS */
	const uint32_t valid = FSCC_FILE_WRITE_THROUGH | FSCC_FILE_SEQUENTIAL_ONLY |
		FSCC_FILE_SYNCHRONOUS_IO_ALERT | FSCC_FILE_SYNCHRONOUS_IO_NONALERT;

	*mode = 0;
	if (len < 4 || buf == NULL)
		return NT_STATUS_INFO_LENGTH_MISMATCH;
	uint32_t m = le32(buf);
	if (m & ~valid)
		return NT_STATUS_INVALID_PARAMETER;
	*mode = m;
	return NT_STATUS_OK;
}
