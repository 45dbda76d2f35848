/*
 * MS-FSCC information-class codecs for SMB2 QUERY_DIRECTORY, QUERY_INFO
 * and SET_INFO.
 *
 * Pure functions: the handlers fill the neutral structs below from stat()
 * and xattrs, and these encode them; SET_INFO input buffers are decoded
 * with strict length checks. No file-system calls here.
 *
 * Names are UTF-8 in, UTF-16LE on the wire; they are written exactly as
 * given (no '/' to '\' translation): the caller supplies the name in its
 * wire form.
 */
#ifndef PORTHOS_FSCC_H
#define PORTHOS_FSCC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <talloc.h>

#include "lib/ntstatus.h"
#include "lib/wire.h"

/* File information classes (MS-FSCC 2.4; values as in FILE_INFORMATION_CLASS). */
enum fscc_file_info_class {
	FSCC_FILE_DIRECTORY_INFORMATION = 1,
	FSCC_FILE_FULL_DIRECTORY_INFORMATION = 2,
	FSCC_FILE_BOTH_DIRECTORY_INFORMATION = 3,
	FSCC_FILE_BASIC_INFORMATION = 4,
	FSCC_FILE_STANDARD_INFORMATION = 5,
	FSCC_FILE_INTERNAL_INFORMATION = 6,
	FSCC_FILE_EA_INFORMATION = 7,
	FSCC_FILE_ACCESS_INFORMATION = 8,
	FSCC_FILE_NAME_INFORMATION = 9,
	FSCC_FILE_RENAME_INFORMATION = 10,
	FSCC_FILE_LINK_INFORMATION = 11,
	FSCC_FILE_NAMES_INFORMATION = 12,
	FSCC_FILE_DISPOSITION_INFORMATION = 13,
	FSCC_FILE_POSITION_INFORMATION = 14,
	FSCC_FILE_FULL_EA_INFORMATION = 15,
	FSCC_FILE_MODE_INFORMATION = 16,
	FSCC_FILE_ALIGNMENT_INFORMATION = 17,
	FSCC_FILE_ALL_INFORMATION = 18,
	FSCC_FILE_ALLOCATION_INFORMATION = 19,
	FSCC_FILE_END_OF_FILE_INFORMATION = 20,
	FSCC_FILE_ALTERNATE_NAME_INFORMATION = 21,
	FSCC_FILE_STREAM_INFORMATION = 22,
	FSCC_FILE_PIPE_INFORMATION = 23,
	FSCC_FILE_PIPE_LOCAL_INFORMATION = 24,
	FSCC_FILE_PIPE_REMOTE_INFORMATION = 25,
	FSCC_FILE_COMPRESSION_INFORMATION = 28,
	FSCC_FILE_OBJECT_ID_INFORMATION = 29,
	FSCC_FILE_QUOTA_INFORMATION = 32,
	FSCC_FILE_REPARSE_POINT_INFORMATION = 33,
	FSCC_FILE_NETWORK_OPEN_INFORMATION = 34,
	FSCC_FILE_ATTRIBUTE_TAG_INFORMATION = 35,
	FSCC_FILE_ID_BOTH_DIRECTORY_INFORMATION = 37,
	FSCC_FILE_ID_FULL_DIRECTORY_INFORMATION = 38,
	FSCC_FILE_VALID_DATA_LENGTH_INFORMATION = 39,
	FSCC_FILE_SHORT_NAME_INFORMATION = 40,
	FSCC_FILE_SFIO_RESERVE_INFORMATION = 44,
	FSCC_FILE_SFIO_VOLUME_INFORMATION = 45,
	FSCC_FILE_HARD_LINK_INFORMATION = 46,
	FSCC_FILE_NORMALIZED_NAME_INFORMATION = 48,
	FSCC_FILE_ID_GLOBAL_TX_DIRECTORY_INFORMATION = 50,
	FSCC_FILE_STANDARD_LINK_INFORMATION = 54,
	FSCC_FILE_ID_INFORMATION = 59,
	FSCC_FILE_ID_EXTD_DIRECTORY_INFORMATION = 60,
	FSCC_FILE_ID_EXTD_BOTH_DIRECTORY_INFORMATION = 63,
	FSCC_FILE_DISPOSITION_INFORMATION_EX = 64,
	FSCC_FILE_RENAME_INFORMATION_EX = 65,
	FSCC_FILE_STAT_INFORMATION = 68,
	FSCC_FILE_STAT_LX_INFORMATION = 70,
	FSCC_FILE_CASE_SENSITIVE_INFORMATION = 71,
	FSCC_FILE_LINK_INFORMATION_EX = 72,
	FSCC_FILE_ID_64_EXTD_DIRECTORY_INFORMATION = 78,
	FSCC_FILE_ID_64_EXTD_BOTH_DIRECTORY_INFORMATION = 79,
	FSCC_FILE_ID_ALL_EXTD_DIRECTORY_INFORMATION = 80,
	FSCC_FILE_ID_ALL_EXTD_BOTH_DIRECTORY_INFORMATION = 81,
};

/* File system information classes (MS-FSCC 2.5). */
enum fscc_fs_info_class {
	FSCC_FS_VOLUME_INFORMATION = 1,
	FSCC_FS_LABEL_INFORMATION = 2,
	FSCC_FS_SIZE_INFORMATION = 3,
	FSCC_FS_DEVICE_INFORMATION = 4,
	FSCC_FS_ATTRIBUTE_INFORMATION = 5,
	FSCC_FS_CONTROL_INFORMATION = 6,
	FSCC_FS_FULL_SIZE_INFORMATION = 7,
	FSCC_FS_OBJECT_ID_INFORMATION = 8,
	FSCC_FS_DRIVER_PATH_INFORMATION = 9,
	FSCC_FS_VOLUME_FLAGS_INFORMATION = 10,
	FSCC_FS_SECTOR_SIZE_INFORMATION = 11,
};

/* File attributes (MS-FSCC 2.6); spec names, as the protocol code uses them. */
#define FILE_ATTRIBUTE_READONLY			0x00000001u
#define FILE_ATTRIBUTE_HIDDEN			0x00000002u
#define FILE_ATTRIBUTE_SYSTEM			0x00000004u
#define FILE_ATTRIBUTE_DIRECTORY		0x00000010u
#define FILE_ATTRIBUTE_ARCHIVE			0x00000020u
#define FILE_ATTRIBUTE_NORMAL			0x00000080u
#define FILE_ATTRIBUTE_TEMPORARY		0x00000100u
#define FILE_ATTRIBUTE_SPARSE_FILE		0x00000200u
#define FILE_ATTRIBUTE_REPARSE_POINT		0x00000400u
#define FILE_ATTRIBUTE_COMPRESSED		0x00000800u
#define FILE_ATTRIBUTE_OFFLINE			0x00001000u
#define FILE_ATTRIBUTE_NOT_CONTENT_INDEXED	0x00002000u
#define FILE_ATTRIBUTE_ENCRYPTED		0x00004000u
#define FILE_ATTRIBUTE_INTEGRITY_STREAM		0x00008000u
#define FILE_ATTRIBUTE_NO_SCRUB_DATA		0x00020000u
#define FILE_ATTRIBUTE_RECALL_ON_OPEN		0x00040000u
#define FILE_ATTRIBUTE_PINNED			0x00080000u
#define FILE_ATTRIBUTE_UNPINNED			0x00100000u
#define FILE_ATTRIBUTE_RECALL_ON_DATA_ACCESS	0x00400000u

/* FileSystemAttributes of FileFsAttributeInformation (MS-FSCC 2.5.1). */
#define FSCC_FS_CASE_SENSITIVE_SEARCH		0x00000001u
#define FSCC_FS_CASE_PRESERVED_NAMES		0x00000002u
#define FSCC_FS_UNICODE_ON_DISK			0x00000004u
#define FSCC_FS_PERSISTENT_ACLS			0x00000008u
#define FSCC_FS_FILE_COMPRESSION		0x00000010u
#define FSCC_FS_VOLUME_QUOTAS			0x00000020u
#define FSCC_FS_SUPPORTS_SPARSE_FILES		0x00000040u
#define FSCC_FS_SUPPORTS_REPARSE_POINTS		0x00000080u
#define FSCC_FS_SUPPORTS_REMOTE_STORAGE		0x00000100u
#define FSCC_FS_VOLUME_IS_COMPRESSED		0x00008000u
#define FSCC_FS_SUPPORTS_OBJECT_IDS		0x00010000u
#define FSCC_FS_SUPPORTS_ENCRYPTION		0x00020000u
#define FSCC_FS_NAMED_STREAMS			0x00040000u
#define FSCC_FS_READ_ONLY_VOLUME		0x00080000u
#define FSCC_FS_SEQUENTIAL_WRITE_ONCE		0x00100000u
#define FSCC_FS_SUPPORTS_TRANSACTIONS		0x00200000u
#define FSCC_FS_SUPPORTS_HARD_LINKS		0x00400000u
#define FSCC_FS_SUPPORTS_EXTENDED_ATTRIBUTES	0x00800000u
#define FSCC_FS_SUPPORTS_OPEN_BY_FILE_ID	0x01000000u
#define FSCC_FS_SUPPORTS_USN_JOURNAL		0x02000000u
#define FSCC_FS_SUPPORTS_INTEGRITY_STREAMS	0x04000000u
#define FSCC_FS_SUPPORTS_BLOCK_REFCOUNTING	0x08000000u
#define FSCC_FS_SUPPORTS_SPARSE_VDL		0x10000000u

/* FileFsDeviceInformation (MS-FSCC 2.5.10). */
#define FSCC_FILE_DEVICE_DISK			0x00000007u
#define FSCC_FILE_READ_ONLY_DEVICE		0x00000002u
#define FSCC_FILE_REMOTE_DEVICE			0x00000010u
#define FSCC_FILE_DEVICE_IS_MOUNTED		0x00000020u

/* FileFsSectorSizeInformation Flags (MS-FSCC 2.5.7). */
#define FSCC_SSINFO_FLAGS_ALIGNED_DEVICE		0x00000001u
#define FSCC_SSINFO_FLAGS_PARTITION_ALIGNED_ON_DEVICE	0x00000002u
#define FSCC_SSINFO_FLAGS_NO_SEEK_PENALTY		0x00000004u
#define FSCC_SSINFO_FLAGS_TRIM_ENABLED			0x00000008u

/* FileDispositionInformationEx Flags (MS-FSCC 2.4.12). */
#define FSCC_FILE_DISPOSITION_DELETE			0x00000001u
#define FSCC_FILE_DISPOSITION_POSIX_SEMANTICS		0x00000002u
#define FSCC_FILE_DISPOSITION_FORCE_IMAGE_SECTION_CHECK	0x00000004u
#define FSCC_FILE_DISPOSITION_ON_CLOSE			0x00000008u
#define FSCC_FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE	0x00000010u

/* FileModeInformation Mode bits (MS-FSCC FileModeInformation). */
#define FSCC_FILE_WRITE_THROUGH			0x00000002u
#define FSCC_FILE_SEQUENTIAL_ONLY		0x00000004u
#define FSCC_FILE_NO_INTERMEDIATE_BUFFERING	0x00000008u
#define FSCC_FILE_SYNCHRONOUS_IO_ALERT		0x00000010u
#define FSCC_FILE_SYNCHRONOUS_IO_NONALERT	0x00000020u
#define FSCC_FILE_DELETE_ON_CLOSE		0x00001000u

/*
 * FILETIME sentinels of FileBasicInformation on SET_INFO (MS-FSCC 2.4.7):
 * 0 = leave unchanged, -1 = stop automatic updates on this handle,
 * -2 = resume them. Other negative values are invalid.
 */
#define FSCC_TIME_NO_CHANGE	UINT64_C(0)
#define FSCC_TIME_STOP_UPDATES	UINT64_C(0xFFFFFFFFFFFFFFFF)
#define FSCC_TIME_RESUME_UPDATES UINT64_C(0xFFFFFFFFFFFFFFFE)

/* 100ns intervals between 1601-01-01 and 1970-01-01. */
#define FSCC_NTTIME_UNIX_EPOCH	UINT64_C(116444736000000000)

struct fscc_file_info {
	/* NT time (100ns since 1601) */
	uint64_t creation_time, last_access_time, last_write_time, change_time;
	uint64_t allocation_size, end_of_file;
	/*
	 * FILE_ATTRIBUTE_*. Encoders add DIRECTORY when is_directory and
	 * send NORMAL when nothing else is set (MS-FSA 2.1.5.6.3.x), see
	 * fscc_effective_attributes().
	 */
	uint32_t attributes;
	uint64_t file_id;	/* IndexNumber; FileId128 is this zero-extended */
	uint32_t nlink;
	bool delete_pending, is_directory;
	uint32_t ea_size;	/* as FileEaInformation reports it */
	uint32_t reparse_tag;	/* used only with FILE_ATTRIBUTE_REPARSE_POINT */
	/*
	 * UTF-8. The leaf name for directory entries; for FileNameInformation
	 * and FileAllInformation the path from the share root as Windows
	 * sends it ("\dir\file", backslashes, leading backslash); for
	 * FileNormalizedNameInformation the path without the leading one.
	 */
	const char *name;
	const char *short_name;	/* 8.3 name or NULL (at most 12 UTF-16 units) */
};

/* Per-handle data some QUERY_INFO classes report. */
struct fscc_open_info {
	uint32_t access_mask;	/* Open.GrantedAccess: FileAccessInformation */
	uint64_t position;	/* CurrentByteOffset: FilePositionInformation */
	uint32_t mode;		/* FSCC_FILE_* mode bits: FileModeInformation */
	uint64_t volume_serial;	/* FileIdInformation.VolumeSerialNumber */
};

/* FILE_ATTRIBUTE_* as put on the wire for 'fi' (DIRECTORY/NORMAL rules). */
uint32_t fscc_effective_attributes(const struct fscc_file_info *fi);

/*
 * Time conversion. Times before 1601 become 0; times past the signed
 * 64-bit NT range are clamped to INT64_MAX. The reverse is exact for
 * every value (0 gives 1601-01-01T00:00:00). Sentinels (0, -1, -2 on
 * SET_INFO) are the caller's to interpret before converting.
 */
uint64_t fscc_nttime_from_timespec(const struct timespec *ts);
void fscc_timespec_from_nttime(uint64_t nt, struct timespec *ts);

/*
 * Directory entries (MS-FSCC 2.4), for QUERY_DIRECTORY:
 *   FileDirectoryInformation 0x01, FileFullDirectoryInformation 0x02,
 *   FileBothDirectoryInformation 0x03, FileNamesInformation 0x0C,
 *   FileIdBothDirectoryInformation 0x25, FileIdFullDirectoryInformation 0x26,
 *   FileIdExtdDirectoryInformation 0x3C, FileIdExtdBothDirectoryInformation 0x3F,
 *   FileId64ExtdDirectoryInformation 0x4E, FileId64ExtdBothDirectoryInformation 0x4F,
 *   FileIdAllExtdDirectoryInformation 0x50, FileIdAllExtdBothDirectoryInformation 0x51.
 *
 * 'w' holds the QUERY_DIRECTORY output buffer: offset 0 of w (or any
 * multiple of 8) is its start, and entries are 8-aligned from there.
 * fscc_dir_entry_encode() pads w to 8, appends one entry with
 * NextEntryOffset 0 and FileIndex 0, and sets *entry_off to its start;
 * link it to the previous one with fscc_dir_link(w, prev_off, this_off).
 * Errors: INVALID_INFO_CLASS (unknown class, *entry_off = (size_t)-1),
 * OBJECT_NAME_INVALID (name not valid UTF-8), NO_MEMORY.
 *
 * In the classes that have no ReparsePointTag field (Full, Both, IdBoth,
 * IdFull) EaSize carries the reparse tag when FILE_ATTRIBUTE_REPARSE_POINT
 * is set (MS-FSCC 2.4.8 and siblings).
 *
 * Sizing, so the caller checks before writing:
 *  - fscc_dir_entry_fixed_size(): FieldOffset(FileName), the minimum
 *    OutputBufferLength (below it MS-FSA 2.1.5.6.3 gives
 *    INFO_LENGTH_MISMATCH); 0 if the class is unknown.
 *  - fscc_dir_entry_size(): the entry's size rounded up to 8, i.e. the
 *    stride it takes when another entry follows; 0 if the class is
 *    unknown or the name invalid.
 *  - fscc_dir_entry_end(): exactly what w->len will be after encoding the
 *    entry at a writer currently cur_len long (padding included); the
 *    caller stops when end - buffer_start > OutputBufferLength. 0 on
 *    unknown class / invalid name.
 */
NTSTATUS fscc_dir_entry_encode(uint8_t info_class, const struct fscc_file_info *fi,
			       struct wire_wr *w, size_t *entry_off);
size_t fscc_dir_entry_fixed_size(uint8_t info_class);
size_t fscc_dir_entry_size(uint8_t info_class, const struct fscc_file_info *fi);
size_t fscc_dir_entry_end(uint8_t info_class, const struct fscc_file_info *fi, size_t cur_len);
void fscc_dir_link(struct wire_wr *w, size_t prev_off, size_t this_off);

/*
 * QUERY_INFO, SMB2_0_INFO_FILE (MS-FSCC 2.4). Encodes the full structure
 * (never truncated) onto w; fscc_file_info_fit() then says what to send.
 * 'oi' may be NULL (all zeros). Classes, and what a short
 * OutputBufferLength gives (see fscc_file_info_fit):
 *
 *   class                         size       short buffer
 *   FileBasicInformation 4        40         INFO_LENGTH_MISMATCH
 *   FileStandardInformation 5     24         INFO_LENGTH_MISMATCH
 *   FileInternalInformation 6     8          INFO_LENGTH_MISMATCH
 *   FileEaInformation 7           4          INFO_LENGTH_MISMATCH
 *   FileAccessInformation 8       4          INFO_LENGTH_MISMATCH
 *   FileNameInformation 9         4+name     <8: INFO_LENGTH_MISMATCH, else BUFFER_OVERFLOW, name cut to whole UTF-16 units
 *   FilePositionInformation 14    8          INFO_LENGTH_MISMATCH
 *   FileModeInformation 16        4          INFO_LENGTH_MISMATCH
 *   FileAlignmentInformation 17   4          INFO_LENGTH_MISMATCH
 *   FileAllInformation 18         100+name   <104: INFO_LENGTH_MISMATCH, else BUFFER_OVERFLOW, name cut
 *   FileAlternateNameInformation 21 4+name   as FileNameInformation; OBJECT_NAME_NOT_FOUND without a short name
 *   FileStreamInformation 22      0 or 24+14 <32: INFO_LENGTH_MISMATCH, else BUFFER_OVERFLOW with the whole entries that fit (none)
 *   FileCompressionInformation 28 16         INFO_LENGTH_MISMATCH
 *   FileNetworkOpenInformation 34 56         INFO_LENGTH_MISMATCH
 *   FileAttributeTagInformation 35 8         INFO_LENGTH_MISMATCH
 *   FileNormalizedNameInformation 48 4+name  as FileNameInformation
 *   FileIdInformation 59          24         INFO_LENGTH_MISMATCH
 *
 * Other classes: INVALID_INFO_CLASS (the caller handles FileFullEa,
 * FileHardLink, … itself, or fails them). Name errors: OBJECT_NAME_INVALID.
 */
NTSTATUS fscc_file_info_encode(uint8_t info_class, const struct fscc_file_info *fi,
			       const struct fscc_open_info *oi, struct wire_wr *w);

/*
 * MS-FSA 2.1.5.12 buffer rules for a fully encoded class of full_len
 * bytes and the client's OutputBufferLength: OK (*send_len = full_len),
 * BUFFER_OVERFLOW (*send_len = what to send of the encoding: truncated
 * data goes back with that warning status, MS-SMB2 3.3.5.20.1), or
 * INFO_LENGTH_MISMATCH (*send_len = 0, an error reply). Unknown class:
 * INVALID_INFO_CLASS.
 */
NTSTATUS fscc_file_info_fit(uint8_t info_class, size_t full_len, uint32_t out_buf_len,
			    size_t *send_len);

/*
 * FileStreamInformation with an explicit stream list (for servers that
 * expose named streams): names in wire form ("::$DATA", ":x:$DATA").
 * Writes only whole entries within out_buf_len and returns
 * BUFFER_OVERFLOW when some did not fit (MS-FSA 2.1.5.12.29), or
 * INFO_LENGTH_MISMATCH when out_buf_len < 32.
 */
struct fscc_stream {
	const char *name;
	uint64_t size, allocation_size;
};
NTSTATUS fscc_stream_info_encode(const struct fscc_stream *streams, size_t n,
				 uint32_t out_buf_len, struct wire_wr *w);

/*
 * SMB2_0_INFO_FILESYSTEM (MS-FSCC 2.5).
 *   class                           size        short buffer
 *   FileFsVolumeInformation 1       18+label    <24: INFO_LENGTH_MISMATCH, else BUFFER_OVERFLOW, label cut
 *   FileFsSizeInformation 3         24          INFO_LENGTH_MISMATCH
 *   FileFsDeviceInformation 4       8           INFO_LENGTH_MISMATCH
 *   FileFsAttributeInformation 5    12+name     <12: INFO_LENGTH_MISMATCH, else BUFFER_OVERFLOW, name cut
 *   FileFsControlInformation 6      48          INFO_LENGTH_MISMATCH; INVALID_PARAMETER unless quota_supported
 *   FileFsFullSizeInformation 7     32          INFO_LENGTH_MISMATCH
 *   FileFsObjectIdInformation 8     64          INFO_LENGTH_MISMATCH
 *   FileFsSectorSizeInformation 11  28          INFO_LENGTH_MISMATCH
 * Others: INVALID_INFO_CLASS.
 */
struct fscc_fs_info {
	uint64_t total_units, free_units, avail_units;	/* avail: for the caller (quota) */
	uint32_t sectors_per_unit, bytes_per_sector;
	uint32_t physical_bytes_per_sector;	/* 0: same as bytes_per_sector */
	uint64_t volume_creation_time;		/* NT time */
	uint32_t volume_serial;
	const char *volume_label;		/* UTF-8, may be NULL or "" */
	/*
	 * "NTFS" in practice. Windows components decide features on this
	 * string rather than on fs_attributes: Hyper-V refuses to keep VHDX
	 * files or VM configuration on a share whose file system is not
	 * NTFS/ReFS, and clients and applications (installers, Office,
	 * SQL Server, robocopy) disable ACLs, streams or large-file paths on
	 * unknown names. The actual capabilities go in fs_attributes.
	 */
	const char *fs_name;
	uint32_t fs_attributes;			/* FSCC_FS_* */
	uint32_t max_name_len;			/* MaximumComponentNameLength, 255 */
	uint8_t object_id[16];
	bool supports_objects;			/* FileFsVolumeInformation.SupportsObjects */
	uint32_t device_characteristics;	/* ORed into FILE_DEVICE_IS_MOUNTED */
	/*
	 * FileFsControlInformation. Without quota support the query fails
	 * with INVALID_PARAMETER, as a file system that does not implement
	 * the class does (MS-FSA 2.1.5.13.6; FAT behaves so); clients only
	 * ask when fs_attributes has FSCC_FS_VOLUME_QUOTAS.
	 */
	bool quota_supported;
	uint64_t default_quota_threshold, default_quota_limit;
	uint32_t quota_flags;			/* FileSystemControlFlags */
};
NTSTATUS fscc_fs_info_encode(uint8_t info_class, const struct fscc_fs_info *fs, struct wire_wr *w);
/* As fscc_file_info_fit, for file system classes (MS-FSA 2.1.5.13). */
NTSTATUS fscc_fs_info_fit(uint8_t info_class, size_t full_len, uint32_t out_buf_len,
			  size_t *send_len);

/*
 * SET_INFO decoders (MS-FSA 2.1.5.15). A buffer shorter than the
 * structure gives INFO_LENGTH_MISMATCH; a longer one is accepted and the
 * excess ignored, as the Windows I/O manager does. Values the spec
 * forbids whatever the file give INVALID_PARAMETER; checks that need the
 * file (DIRECTORY attribute on a data file, TEMPORARY on a directory, …)
 * are the caller's.
 */

/*
 * FileBasicInformation 4, 40 bytes. Raw values are kept: 0 = don't
 * change, FSCC_TIME_STOP_UPDATES (-1), FSCC_TIME_RESUME_UPDATES (-2);
 * a time below -2 is INVALID_PARAMETER. attributes 0 = don't change.
 */
struct fscc_basic_info {
	uint64_t creation_time, last_access_time, last_write_time, change_time;
	uint32_t attributes;
};
NTSTATUS fscc_decode_basic(const uint8_t *buf, size_t len, struct fscc_basic_info *out);

/*
 * FileRenameInformation 10 / FileLinkInformation 11, SMB2 layout
 * (MS-FSCC 2.4.37.2, 2.4.27.2): ReplaceIfExists (1), Reserved (7),
 * RootDirectory (8), FileNameLength (4), FileName. Under 20 bytes:
 * INFO_LENGTH_MISMATCH; FileNameLength 0, odd or past the buffer:
 * INVALID_PARAMETER; invalid UTF-16: OBJECT_NAME_INVALID. file_name is
 * allocated on 'mem', UTF-8, backslashes kept; root_directory is as sent
 * (MS-SMB2 wants 0; the caller checks).
 */
struct fscc_rename_info {
	bool replace_if_exists;
	uint64_t root_directory;
	char *file_name;
};
NTSTATUS fscc_decode_rename(TALLOC_CTX *mem, const uint8_t *buf, size_t len,
			    struct fscc_rename_info *out);

/* FileDispositionInformation 13: 1 byte, DeletePending = byte != 0. */
NTSTATUS fscc_decode_disposition(const uint8_t *buf, size_t len, bool *delete_pending);
/* FileDispositionInformationEx 64: 4 bytes; unknown flag bits: INVALID_PARAMETER. */
NTSTATUS fscc_decode_disposition_ex(const uint8_t *buf, size_t len, uint32_t *flags);
/*
 * FileEndOfFileInformation 20, FileAllocationInformation 19,
 * FilePositionInformation 14: 8 bytes, a signed LARGE_INTEGER on the
 * wire; a negative value is INVALID_PARAMETER.
 */
NTSTATUS fscc_decode_u64(const uint8_t *buf, size_t len, uint64_t *v);
/*
 * FileModeInformation 16: 4 bytes. Only WRITE_THROUGH, SEQUENTIAL_ONLY
 * and the two SYNCHRONOUS_IO bits may be set (FILE_VALID_SET_FLAGS,
 * 0x36: NO_INTERMEDIATE_BUFFERING is fixed at open); anything else is
 * INVALID_PARAMETER. The caller ignores the SYNCHRONOUS_IO bits.
 */
NTSTATUS fscc_decode_mode(const uint8_t *buf, size_t len, uint32_t *mode);

#endif
