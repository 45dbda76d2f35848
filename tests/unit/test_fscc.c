/* Unit tests for lib/fscc: MS-FSCC layouts, buffer rules, SET_INFO decoders. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/fscc.h"

#define T_CREATE UINT64_C(0x01D9000000000001)
#define T_ACCESS UINT64_C(0x01D9000000000002)
#define T_WRITE  UINT64_C(0x01D9000000000003)
#define T_CHANGE UINT64_C(0x01D9000000000004)
#define FILE_ID  UINT64_C(0x1122334455667788)

static struct fscc_file_info sample(void)
{
	return (struct fscc_file_info){
		.creation_time = T_CREATE,
		.last_access_time = T_ACCESS,
		.last_write_time = T_WRITE,
		.change_time = T_CHANGE,
		.allocation_size = 0x2000,
		.end_of_file = 0x1234,
		.attributes = FILE_ATTRIBUTE_ARCHIVE,
		.file_id = FILE_ID,
		.nlink = 1,
		.ea_size = 0x44,
		.name = "File.txt",
		.short_name = "FILE.TXT",
	};
}

/* Checks that p holds the UTF-16LE form of an ASCII string. */
static void assert_utf16(const uint8_t *p, const char *ascii)
{
	for (size_t i = 0; ascii[i]; i++) {
		assert_int_equal(p[2 * i], (uint8_t)ascii[i]);
		assert_int_equal(p[2 * i + 1], 0);
	}
}

static void assert_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(p[i], 0);
}

/* --- time --- */

static void test_time(void **state)
{
	(void)state;
	struct timespec ts = { 0, 0 }, back;

	assert_true(fscc_nttime_from_timespec(&ts) == FSCC_NTTIME_UNIX_EPOCH);

	ts = (struct timespec){ 1700000000, 123456700 };
	uint64_t nt = fscc_nttime_from_timespec(&ts);
	assert_true(nt == FSCC_NTTIME_UNIX_EPOCH + UINT64_C(1700000000) * 10000000 + 1234567);
	fscc_timespec_from_nttime(nt, &back);
	assert_int_equal(back.tv_sec, ts.tv_sec);
	assert_int_equal(back.tv_nsec, ts.tv_nsec);

	/* Sub-100ns precision is dropped, not rounded up. */
	ts = (struct timespec){ 0, 99 };
	assert_true(fscc_nttime_from_timespec(&ts) == FSCC_NTTIME_UNIX_EPOCH);

	/* Pre-1970: 1969-12-31T23:59:59.5 */
	ts = (struct timespec){ -1, 500000000 };
	nt = fscc_nttime_from_timespec(&ts);
	assert_true(nt == FSCC_NTTIME_UNIX_EPOCH - 5000000);
	fscc_timespec_from_nttime(nt, &back);
	assert_int_equal(back.tv_sec, -1);
	assert_int_equal(back.tv_nsec, 500000000);

	/* 1601-01-01 is NT time 0; anything earlier clamps to 0. */
	ts = (struct timespec){ -INT64_C(11644473600), 0 };
	assert_true(fscc_nttime_from_timespec(&ts) == 0);
	ts = (struct timespec){ -INT64_C(11644473601), 999999999 };
	assert_true(fscc_nttime_from_timespec(&ts) == 0);
	fscc_timespec_from_nttime(0, &back);
	assert_int_equal(back.tv_sec, -INT64_C(11644473600));
	assert_int_equal(back.tv_nsec, 0);
	assert_true(fscc_nttime_from_timespec(&back) == 0);

	/* Far future clamps to the signed maximum. */
	ts = (struct timespec){ INT64_MAX / 2, 0 };
	assert_true(fscc_nttime_from_timespec(&ts) == (uint64_t)INT64_MAX);

	/* Every NT value round-trips, including the top of the range. */
	const uint64_t vals[] = { 1, 9999999, 10000000, UINT64_C(130000000001234567),
				  (uint64_t)INT64_MAX };
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		fscc_timespec_from_nttime(vals[i], &back);
		assert_true(back.tv_nsec >= 0 && back.tv_nsec < 1000000000);
		assert_true(fscc_nttime_from_timespec(&back) == vals[i]);
	}
}

static void test_attributes(void **state)
{
	(void)state;
	struct fscc_file_info fi = sample();

	fi.attributes = 0;
	assert_int_equal(fscc_effective_attributes(&fi), FILE_ATTRIBUTE_NORMAL);
	fi.attributes = FILE_ATTRIBUTE_NORMAL | FILE_ATTRIBUTE_HIDDEN;
	assert_int_equal(fscc_effective_attributes(&fi), FILE_ATTRIBUTE_HIDDEN);
	fi.attributes = 0;
	fi.is_directory = true;
	assert_int_equal(fscc_effective_attributes(&fi), FILE_ATTRIBUTE_DIRECTORY);
}

/* --- directory entries --- */

struct dir_layout {
	uint8_t cls;
	size_t name_off;
	int ea_off;	/* -1: none */
	int tag_off;
	int snl_off;	/* ShortNameLength; ShortName at +2 */
	int id64_off;
	int id128_off;
};

/* Offsets from MS-FSCC 2.4.x, computed by hand from the field lists. */
static const struct dir_layout layouts[] = {
	{ FSCC_FILE_DIRECTORY_INFORMATION,		  64, -1, -1, -1, -1, -1 },
	{ FSCC_FILE_FULL_DIRECTORY_INFORMATION,		  68, 64, -1, -1, -1, -1 },
	{ FSCC_FILE_BOTH_DIRECTORY_INFORMATION,		  94, 64, -1, 68, -1, -1 },
	{ FSCC_FILE_ID_BOTH_DIRECTORY_INFORMATION,	 104, 64, -1, 68, 96, -1 },
	{ FSCC_FILE_ID_FULL_DIRECTORY_INFORMATION,	  80, 64, -1, -1, 72, -1 },
	{ FSCC_FILE_ID_EXTD_DIRECTORY_INFORMATION,	  88, 64, 68, -1, -1, 72 },
	{ FSCC_FILE_ID_EXTD_BOTH_DIRECTORY_INFORMATION,	 114, 64, 68, 88, -1, 72 },
	{ FSCC_FILE_ID_64_EXTD_DIRECTORY_INFORMATION,	  80, 64, 68, -1, 72, -1 },
	{ FSCC_FILE_ID_64_EXTD_BOTH_DIRECTORY_INFORMATION, 106, 64, 68, 80, 72, -1 },
	{ FSCC_FILE_ID_ALL_EXTD_DIRECTORY_INFORMATION,	  96, 64, 68, -1, 72, 80 },
	{ FSCC_FILE_ID_ALL_EXTD_BOTH_DIRECTORY_INFORMATION, 122, 64, 68, 96, 72, 80 },
};

static void test_dir_layouts(void **state)
{
	(void)state;
	struct fscc_file_info fi = sample();

	for (size_t k = 0; k < sizeof(layouts) / sizeof(layouts[0]); k++) {
		const struct dir_layout *L = &layouts[k];
		TALLOC_CTX *mem = talloc_new(NULL);
		struct wire_wr w;
		size_t off;

		wire_wr_init(&w, mem, 0);
		assert_int_equal(fscc_dir_entry_fixed_size(L->cls), L->name_off);
		NTSTATUS st = fscc_dir_entry_encode(L->cls, &fi, &w, &off);
		assert_true(NT_STATUS_IS_OK(st));
		assert_int_equal(off, 0);
		assert_int_equal(w.len, L->name_off + 16);
		assert_int_equal(fscc_dir_entry_size(L->cls, &fi), (L->name_off + 16 + 7) & ~7u);

		const uint8_t *b = w.buf;
		assert_int_equal(le32(b + 0), 0);	/* NextEntryOffset */
		assert_int_equal(le32(b + 4), 0);	/* FileIndex */
		assert_true(le64(b + 8) == T_CREATE);
		assert_true(le64(b + 16) == T_ACCESS);
		assert_true(le64(b + 24) == T_WRITE);
		assert_true(le64(b + 32) == T_CHANGE);
		assert_true(le64(b + 40) == 0x1234);	/* EndOfFile */
		assert_true(le64(b + 48) == 0x2000);	/* AllocationSize */
		assert_int_equal(le32(b + 56), FILE_ATTRIBUTE_ARCHIVE);
		assert_int_equal(le32(b + 60), 16);	/* FileNameLength */
		assert_utf16(b + L->name_off, "File.txt");
		if (L->ea_off >= 0)
			assert_int_equal(le32(b + L->ea_off), 0x44);
		if (L->tag_off >= 0)
			assert_int_equal(le32(b + L->tag_off), 0);
		if (L->snl_off >= 0) {
			assert_int_equal(b[L->snl_off], 16);
			assert_int_equal(b[L->snl_off + 1], 0);
			assert_utf16(b + L->snl_off + 2, "FILE.TXT");
			assert_zero(b + L->snl_off + 2 + 16, 8);
		}
		if (L->id64_off >= 0)
			assert_true(le64(b + L->id64_off) == FILE_ID);
		if (L->id128_off >= 0) {
			assert_true(le64(b + L->id128_off) == FILE_ID);
			assert_true(le64(b + L->id128_off + 8) == 0);
		}
		talloc_free(mem);
	}
}

static void test_dir_id_both_exact(void **state)
{
	(void)state;
	/* FileIdBothDirectoryInformation byte by byte around the tail. */
	struct fscc_file_info fi = sample();
	TALLOC_CTX *mem = talloc_new(NULL);
	struct wire_wr w;
	size_t off;

	wire_wr_init(&w, mem, 0);
	fi.name = "a";
	fi.short_name = NULL;
	assert_true(NT_STATUS_IS_OK(fscc_dir_entry_encode(
		FSCC_FILE_ID_BOTH_DIRECTORY_INFORMATION, &fi, &w, &off)));
	assert_int_equal(w.len, 106);
	assert_int_equal(w.buf[68], 0);			/* ShortNameLength */
	assert_zero(w.buf + 69, 1 + 24 + 2);		/* Reserved1, ShortName, Reserved2 */
	assert_true(le64(w.buf + 96) == FILE_ID);
	assert_int_equal(le32(w.buf + 60), 2);
	assert_int_equal(w.buf[104], 'a');
	assert_int_equal(w.buf[105], 0);

	/* A short name over 12 UTF-16 units is not sent at all. */
	wire_wr_init(&w, mem, 0);
	fi.short_name = "THIRTEENCHARS";
	assert_true(NT_STATUS_IS_OK(fscc_dir_entry_encode(
		FSCC_FILE_BOTH_DIRECTORY_INFORMATION, &fi, &w, &off)));
	assert_int_equal(w.buf[68], 0);
	assert_zero(w.buf + 70, 24);
	talloc_free(mem);
}

static void test_dir_names_info(void **state)
{
	(void)state;
	struct fscc_file_info fi = sample();
	TALLOC_CTX *mem = talloc_new(NULL);
	struct wire_wr w;
	size_t off;

	wire_wr_init(&w, mem, 0);
	assert_true(NT_STATUS_IS_OK(fscc_dir_entry_encode(
		FSCC_FILE_NAMES_INFORMATION, &fi, &w, &off)));
	assert_int_equal(w.len, 12 + 16);
	assert_int_equal(le32(w.buf + 0), 0);
	assert_int_equal(le32(w.buf + 4), 0);
	assert_int_equal(le32(w.buf + 8), 16);
	assert_utf16(w.buf + 12, "File.txt");
	talloc_free(mem);
}

static void test_dir_reparse_tag(void **state)
{
	(void)state;
	struct fscc_file_info fi = sample();
	TALLOC_CTX *mem = talloc_new(NULL);
	struct wire_wr w;
	size_t off;

	fi.attributes |= FILE_ATTRIBUTE_REPARSE_POINT;
	fi.reparse_tag = 0xA000000C;	/* IO_REPARSE_TAG_SYMLINK */

	/* Classes without a tag field carry it in EaSize. */
	wire_wr_init(&w, mem, 0);
	assert_true(NT_STATUS_IS_OK(fscc_dir_entry_encode(
		FSCC_FILE_ID_BOTH_DIRECTORY_INFORMATION, &fi, &w, &off)));
	assert_int_equal(le32(w.buf + 64), 0xA000000C);

	/* Extd classes have both fields. */
	wire_wr_init(&w, mem, 0);
	assert_true(NT_STATUS_IS_OK(fscc_dir_entry_encode(
		FSCC_FILE_ID_EXTD_DIRECTORY_INFORMATION, &fi, &w, &off)));
	assert_int_equal(le32(w.buf + 64), 0x44);
	assert_int_equal(le32(w.buf + 68), 0xA000000C);

	/* Without the attribute the tag is never sent. */
	fi.attributes = FILE_ATTRIBUTE_ARCHIVE;
	wire_wr_init(&w, mem, 0);
	assert_true(NT_STATUS_IS_OK(fscc_dir_entry_encode(
		FSCC_FILE_ID_EXTD_DIRECTORY_INFORMATION, &fi, &w, &off)));
	assert_int_equal(le32(w.buf + 68), 0);
	talloc_free(mem);
}

static void test_dir_linking(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct wire_wr w;
	const char *names[] = { ".", "..", "a.txt", "longer name.docx", "Ωμέγα" };
	size_t n = sizeof(names) / sizeof(names[0]);
	size_t offs[8];
	const uint8_t cls = FSCC_FILE_ID_BOTH_DIRECTORY_INFORMATION;

	wire_wr_init(&w, mem, 0);
	for (size_t i = 0; i < n; i++) {
		struct fscc_file_info fi = sample();
		fi.name = names[i];
		size_t predicted = fscc_dir_entry_end(cls, &fi, w.len);
		assert_true(NT_STATUS_IS_OK(fscc_dir_entry_encode(cls, &fi, &w, &offs[i])));
		assert_int_equal(w.len, predicted);
		assert_int_equal(offs[i] % 8, 0);
		if (i > 0) {
			assert_int_equal(offs[i] - offs[i - 1],
					 fscc_dir_entry_size(cls, &(struct fscc_file_info){
						 .name = names[i - 1] }));
			fscc_dir_link(&w, offs[i - 1], offs[i]);
		}
	}
	assert_true(wire_wr_ok(&w));

	/* Walk the chain as a client would. */
	size_t pos = 0;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(pos, offs[i]);
		uint32_t next = le32(w.buf + pos);
		uint32_t nl = le32(w.buf + pos + 60);
		if (i + 1 < n) {
			assert_int_not_equal(next, 0);
			/* Padding between entries is zero. */
			assert_zero(w.buf + pos + 104 + nl, next - 104 - nl);
		} else {
			assert_int_equal(next, 0);
			assert_int_equal(pos + 104 + nl, w.len);	/* no trailing pad */
		}
		pos += next;
	}
	talloc_free(mem);
}

static void test_dir_errors(void **state)
{
	(void)state;
	struct fscc_file_info fi = sample();
	TALLOC_CTX *mem = talloc_new(NULL);
	struct wire_wr w;
	size_t off = 0;

	wire_wr_init(&w, mem, 0);
	NTSTATUS st = fscc_dir_entry_encode(0x7F, &fi, &w, &off);
	assert_true(NT_STATUS_EQUAL(st, NT_STATUS_INVALID_INFO_CLASS));
	assert_true(off == (size_t)-1);
	assert_int_equal(w.len, 0);
	assert_int_equal(fscc_dir_entry_size(0x7F, &fi), 0);
	assert_int_equal(fscc_dir_entry_fixed_size(FSCC_FILE_BASIC_INFORMATION), 0);

	fi.name = "bad\xff";
	st = fscc_dir_entry_encode(FSCC_FILE_DIRECTORY_INFORMATION, &fi, &w, &off);
	assert_true(NT_STATUS_EQUAL(st, NT_STATUS_OBJECT_NAME_INVALID));
	assert_int_equal(fscc_dir_entry_size(FSCC_FILE_DIRECTORY_INFORMATION, &fi), 0);
	talloc_free(mem);
}

/* --- QUERY_INFO file classes --- */

static size_t encode_file(TALLOC_CTX *mem, uint8_t cls, const struct fscc_file_info *fi,
			  const struct fscc_open_info *oi, struct wire_wr *w, NTSTATUS expect)
{
	wire_wr_init(w, mem, 0);
	NTSTATUS st = fscc_file_info_encode(cls, fi, oi, w);
	assert_true(NT_STATUS_EQUAL(st, expect));
	return w->len;
}

static void test_file_all_information(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct fscc_file_info fi = sample();
	struct fscc_open_info oi = {
		.access_mask = 0x0012019F, .position = 0x10, .mode = 0x20,
		.volume_serial = 0xABCD,
	};
	struct wire_wr w;

	fi.name = "\\dir\\File.txt";
	fi.delete_pending = true;
	size_t len = encode_file(mem, FSCC_FILE_ALL_INFORMATION, &fi, &oi, &w, NT_STATUS_OK);
	assert_int_equal(len, 100 + 26);
	const uint8_t *b = w.buf;
	/* BasicInformation */
	assert_true(le64(b + 0) == T_CREATE);
	assert_true(le64(b + 8) == T_ACCESS);
	assert_true(le64(b + 16) == T_WRITE);
	assert_true(le64(b + 24) == T_CHANGE);
	assert_int_equal(le32(b + 32), FILE_ATTRIBUTE_ARCHIVE);
	assert_int_equal(le32(b + 36), 0);
	/* StandardInformation */
	assert_true(le64(b + 40) == 0x2000);
	assert_true(le64(b + 48) == 0x1234);
	assert_int_equal(le32(b + 56), 1);
	assert_int_equal(b[60], 1);	/* DeletePending */
	assert_int_equal(b[61], 0);	/* Directory */
	assert_int_equal(le16(b + 62), 0);
	/* Internal, Ea, Access, Position, Mode, Alignment */
	assert_true(le64(b + 64) == FILE_ID);
	assert_int_equal(le32(b + 72), 0x44);
	assert_int_equal(le32(b + 76), 0x0012019F);
	assert_true(le64(b + 80) == 0x10);
	assert_int_equal(le32(b + 88), 0x20);
	assert_int_equal(le32(b + 92), 0);
	/* NameInformation */
	assert_int_equal(le32(b + 96), 26);
	assert_utf16(b + 100, "\\dir\\File.txt");
	talloc_free(mem);
}

static void test_file_fixed_classes(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct fscc_file_info fi = sample();
	struct fscc_open_info oi = {
		.access_mask = 0x001F01FF, .position = 0x99, .mode = 0x2,
		.volume_serial = UINT64_C(0x0102030405060708),
	};
	struct wire_wr w;

	assert_int_equal(encode_file(mem, FSCC_FILE_BASIC_INFORMATION, &fi, &oi, &w, NT_STATUS_OK), 40);
	assert_true(le64(w.buf + 24) == T_CHANGE);
	assert_int_equal(le32(w.buf + 32), FILE_ATTRIBUTE_ARCHIVE);

	fi.is_directory = true;
	assert_int_equal(encode_file(mem, FSCC_FILE_STANDARD_INFORMATION, &fi, &oi, &w, NT_STATUS_OK), 24);
	assert_true(le64(w.buf + 0) == 0x2000);
	assert_true(le64(w.buf + 8) == 0x1234);
	assert_int_equal(le32(w.buf + 16), 1);
	assert_int_equal(w.buf[20], 0);
	assert_int_equal(w.buf[21], 1);
	fi.is_directory = false;

	assert_int_equal(encode_file(mem, FSCC_FILE_INTERNAL_INFORMATION, &fi, &oi, &w, NT_STATUS_OK), 8);
	assert_true(le64(w.buf) == FILE_ID);
	assert_int_equal(encode_file(mem, FSCC_FILE_EA_INFORMATION, &fi, &oi, &w, NT_STATUS_OK), 4);
	assert_int_equal(le32(w.buf), 0x44);
	assert_int_equal(encode_file(mem, FSCC_FILE_ACCESS_INFORMATION, &fi, &oi, &w, NT_STATUS_OK), 4);
	assert_int_equal(le32(w.buf), 0x001F01FF);
	assert_int_equal(encode_file(mem, FSCC_FILE_POSITION_INFORMATION, &fi, &oi, &w, NT_STATUS_OK), 8);
	assert_true(le64(w.buf) == 0x99);
	assert_int_equal(encode_file(mem, FSCC_FILE_MODE_INFORMATION, &fi, &oi, &w, NT_STATUS_OK), 4);
	assert_int_equal(le32(w.buf), 0x2);
	assert_int_equal(encode_file(mem, FSCC_FILE_ALIGNMENT_INFORMATION, &fi, &oi, &w, NT_STATUS_OK), 4);
	assert_int_equal(le32(w.buf), 0);

	assert_int_equal(encode_file(mem, FSCC_FILE_COMPRESSION_INFORMATION, &fi, &oi, &w, NT_STATUS_OK), 16);
	assert_true(le64(w.buf) == 0x1234);
	assert_zero(w.buf + 8, 8);

	assert_int_equal(encode_file(mem, FSCC_FILE_NETWORK_OPEN_INFORMATION, &fi, &oi, &w, NT_STATUS_OK), 56);
	assert_true(le64(w.buf + 0) == T_CREATE);
	assert_true(le64(w.buf + 24) == T_CHANGE);
	assert_true(le64(w.buf + 32) == 0x2000);
	assert_true(le64(w.buf + 40) == 0x1234);
	assert_int_equal(le32(w.buf + 48), FILE_ATTRIBUTE_ARCHIVE);
	assert_int_equal(le32(w.buf + 52), 0);

	fi.attributes |= FILE_ATTRIBUTE_REPARSE_POINT;
	fi.reparse_tag = 0xA0000003;
	assert_int_equal(encode_file(mem, FSCC_FILE_ATTRIBUTE_TAG_INFORMATION, &fi, &oi, &w, NT_STATUS_OK), 8);
	assert_int_equal(le32(w.buf), FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_REPARSE_POINT);
	assert_int_equal(le32(w.buf + 4), 0xA0000003);
	fi.attributes = FILE_ATTRIBUTE_ARCHIVE;

	assert_int_equal(encode_file(mem, FSCC_FILE_ID_INFORMATION, &fi, &oi, &w, NT_STATUS_OK), 24);
	assert_true(le64(w.buf) == UINT64_C(0x0102030405060708));
	assert_true(le64(w.buf + 8) == FILE_ID);
	assert_true(le64(w.buf + 16) == 0);

	/* NULL open info reads as zeros. */
	assert_int_equal(encode_file(mem, FSCC_FILE_ACCESS_INFORMATION, &fi, NULL, &w, NT_STATUS_OK), 4);
	assert_int_equal(le32(w.buf), 0);

	encode_file(mem, FSCC_FILE_FULL_EA_INFORMATION, &fi, &oi, &w, NT_STATUS_INVALID_INFO_CLASS);
	encode_file(mem, 0xFF, &fi, &oi, &w, NT_STATUS_INVALID_INFO_CLASS);
	talloc_free(mem);
}

static void test_file_name_classes(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct fscc_file_info fi = sample();
	struct wire_wr w;

	fi.name = "\\x\\y";
	assert_int_equal(encode_file(mem, FSCC_FILE_NAME_INFORMATION, &fi, NULL, &w, NT_STATUS_OK), 4 + 8);
	assert_int_equal(le32(w.buf), 8);
	assert_utf16(w.buf + 4, "\\x\\y");
	fi.name = "x\\y";
	assert_int_equal(encode_file(mem, FSCC_FILE_NORMALIZED_NAME_INFORMATION, &fi, NULL, &w, NT_STATUS_OK), 4 + 6);
	assert_int_equal(le32(w.buf), 6);

	assert_int_equal(encode_file(mem, FSCC_FILE_ALTERNATE_NAME_INFORMATION, &fi, NULL, &w, NT_STATUS_OK), 4 + 16);
	assert_utf16(w.buf + 4, "FILE.TXT");
	fi.short_name = NULL;
	encode_file(mem, FSCC_FILE_ALTERNATE_NAME_INFORMATION, &fi, NULL, &w, NT_STATUS_OBJECT_NAME_NOT_FOUND);

	/* The root of the share: an empty name. */
	fi.name = "";
	assert_int_equal(encode_file(mem, FSCC_FILE_NAME_INFORMATION, &fi, NULL, &w, NT_STATUS_OK), 4);
	assert_int_equal(le32(w.buf), 0);
	fi.name = "\xc3";
	encode_file(mem, FSCC_FILE_NAME_INFORMATION, &fi, NULL, &w, NT_STATUS_OBJECT_NAME_INVALID);
	talloc_free(mem);
}

static void test_file_stream_info(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct fscc_file_info fi = sample();
	struct wire_wr w;

	assert_int_equal(encode_file(mem, FSCC_FILE_STREAM_INFORMATION, &fi, NULL, &w, NT_STATUS_OK), 24 + 14);
	assert_int_equal(le32(w.buf + 0), 0);
	assert_int_equal(le32(w.buf + 4), 14);
	assert_true(le64(w.buf + 8) == 0x1234);
	assert_true(le64(w.buf + 16) == 0x2000);
	assert_utf16(w.buf + 24, "::$DATA");

	fi.is_directory = true;
	assert_int_equal(encode_file(mem, FSCC_FILE_STREAM_INFORMATION, &fi, NULL, &w, NT_STATUS_OK), 0);

	/* Several streams: whole entries only, 8-aligned, linked. */
	struct fscc_stream s[] = {
		{ "::$DATA", 10, 4096 },
		{ ":AFP_AfpInfo:$DATA", 60, 64 },
		{ ":x:$DATA", 1, 8 },
	};
	wire_wr_init(&w, mem, 0);
	assert_true(NT_STATUS_IS_OK(fscc_stream_info_encode(s, 3, 4096, &w)));
	assert_int_equal(le32(w.buf + 0), 40);		/* 38 rounded to 8 */
	assert_int_equal(le32(w.buf + 40 + 4), 36);
	assert_int_equal(le32(w.buf + 40), 64);		/* 24 + 36 = 60 -> 64 */
	assert_int_equal(le32(w.buf + 104), 0);
	assert_int_equal(w.len, 104 + 24 + 16);

	wire_wr_init(&w, mem, 0);
	assert_true(NT_STATUS_EQUAL(fscc_stream_info_encode(s, 3, 99, &w), NT_STATUS_BUFFER_OVERFLOW));
	assert_int_equal(w.len, 38);
	assert_int_equal(le32(w.buf), 0);
	wire_wr_init(&w, mem, 0);
	assert_true(NT_STATUS_EQUAL(fscc_stream_info_encode(s, 3, 31, &w), NT_STATUS_INFO_LENGTH_MISMATCH));
	talloc_free(mem);
}

static void assert_fit(NTSTATUS (*fit)(uint8_t, size_t, uint32_t, size_t *),
		       uint8_t cls, size_t full, uint32_t out, NTSTATUS expect, size_t send)
{
	size_t got = 12345;
	NTSTATUS st = fit(cls, full, out, &got);
	if (!NT_STATUS_EQUAL(st, expect))
		fail_msg("class %u full %zu out %u: %s, expected %s", cls, full, out,
			 nt_errstr(st), nt_errstr(expect));
	assert_int_equal(got, send);
}

static void test_fit(void **state)
{
	(void)state;
	const NTSTATUS ok = NT_STATUS_OK, ovf = NT_STATUS_BUFFER_OVERFLOW,
		mis = NT_STATUS_INFO_LENGTH_MISMATCH;

	assert_fit(fscc_file_info_fit, FSCC_FILE_BASIC_INFORMATION, 40, 39, mis, 0);
	assert_fit(fscc_file_info_fit, FSCC_FILE_BASIC_INFORMATION, 40, 40, ok, 40);
	assert_fit(fscc_file_info_fit, FSCC_FILE_BASIC_INFORMATION, 40, 65536, ok, 40);
	assert_fit(fscc_file_info_fit, FSCC_FILE_NETWORK_OPEN_INFORMATION, 56, 55, mis, 0);
	assert_fit(fscc_file_info_fit, FSCC_FILE_ID_INFORMATION, 24, 0, mis, 0);

	assert_fit(fscc_file_info_fit, FSCC_FILE_NAME_INFORMATION, 20, 7, mis, 0);
	assert_fit(fscc_file_info_fit, FSCC_FILE_NAME_INFORMATION, 20, 8, ovf, 8);
	assert_fit(fscc_file_info_fit, FSCC_FILE_NAME_INFORMATION, 20, 9, ovf, 8);
	assert_fit(fscc_file_info_fit, FSCC_FILE_NAME_INFORMATION, 20, 19, ovf, 18);
	assert_fit(fscc_file_info_fit, FSCC_FILE_NAME_INFORMATION, 20, 20, ok, 20);
	assert_fit(fscc_file_info_fit, FSCC_FILE_NAME_INFORMATION, 4, 8, ok, 4);

	assert_fit(fscc_file_info_fit, FSCC_FILE_ALL_INFORMATION, 126, 103, mis, 0);
	assert_fit(fscc_file_info_fit, FSCC_FILE_ALL_INFORMATION, 126, 104, ovf, 104);
	assert_fit(fscc_file_info_fit, FSCC_FILE_ALL_INFORMATION, 126, 105, ovf, 104);
	assert_fit(fscc_file_info_fit, FSCC_FILE_ALL_INFORMATION, 126, 126, ok, 126);

	assert_fit(fscc_file_info_fit, FSCC_FILE_STREAM_INFORMATION, 38, 31, mis, 0);
	assert_fit(fscc_file_info_fit, FSCC_FILE_STREAM_INFORMATION, 38, 32, ovf, 0);
	assert_fit(fscc_file_info_fit, FSCC_FILE_STREAM_INFORMATION, 0, 32, ok, 0);
	assert_fit(fscc_file_info_fit, FSCC_FILE_STREAM_INFORMATION, 38, 38, ok, 38);

	assert_fit(fscc_file_info_fit, 0xEE, 8, 8, NT_STATUS_INVALID_INFO_CLASS, 0);

	assert_fit(fscc_fs_info_fit, FSCC_FS_VOLUME_INFORMATION, 26, 23, mis, 0);
	assert_fit(fscc_fs_info_fit, FSCC_FS_VOLUME_INFORMATION, 26, 24, ovf, 24);
	assert_fit(fscc_fs_info_fit, FSCC_FS_VOLUME_INFORMATION, 26, 25, ovf, 25);
	assert_fit(fscc_fs_info_fit, FSCC_FS_VOLUME_INFORMATION, 18, 24, ok, 18);
	/* Windows' minimum is 16, not MS-FSA's 12 (smb2.getinfo.qfs_buffercheck). */
	assert_fit(fscc_fs_info_fit, FSCC_FS_ATTRIBUTE_INFORMATION, 20, 15, mis, 0);
	assert_fit(fscc_fs_info_fit, FSCC_FS_ATTRIBUTE_INFORMATION, 20, 16, ovf, 16);
	assert_fit(fscc_fs_info_fit, FSCC_FS_ATTRIBUTE_INFORMATION, 20, 20, ok, 20);
	assert_fit(fscc_fs_info_fit, FSCC_FS_FULL_SIZE_INFORMATION, 32, 31, mis, 0);
	assert_fit(fscc_fs_info_fit, FSCC_FS_SECTOR_SIZE_INFORMATION, 28, 28, ok, 28);
	assert_fit(fscc_fs_info_fit, 0xEE, 8, 8, NT_STATUS_INVALID_INFO_CLASS, 0);
}

/* --- QUERY_INFO file system classes --- */

static size_t encode_fs(TALLOC_CTX *mem, uint8_t cls, const struct fscc_fs_info *fs,
			struct wire_wr *w, NTSTATUS expect)
{
	wire_wr_init(w, mem, 0);
	assert_true(NT_STATUS_EQUAL(fscc_fs_info_encode(cls, fs, w), expect));
	return w->len;
}

static void test_fs_classes(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct fscc_fs_info fs = {
		.total_units = 1000, .free_units = 300, .avail_units = 200,
		.sectors_per_unit = 8, .bytes_per_sector = 512,
		.volume_creation_time = T_CREATE, .volume_serial = 0xCAFEBABE,
		.volume_label = "share", .fs_name = "NTFS",
		.fs_attributes = FSCC_FS_CASE_PRESERVED_NAMES | FSCC_FS_UNICODE_ON_DISK,
		.max_name_len = 255,
		.object_id = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 },
	};
	struct wire_wr w;

#define FS(cls, expect) encode_fs(mem, cls, &fs, &w, expect)

	assert_int_equal(FS(FSCC_FS_VOLUME_INFORMATION, NT_STATUS_OK), 18 + 10);
	assert_true(le64(w.buf) == T_CREATE);
	assert_int_equal(le32(w.buf + 8), 0xCAFEBABE);
	assert_int_equal(le32(w.buf + 12), 10);
	assert_int_equal(w.buf[16], 0);
	assert_int_equal(w.buf[17], 0);
	assert_utf16(w.buf + 18, "share");
	fs.volume_label = NULL;
	assert_int_equal(FS(FSCC_FS_VOLUME_INFORMATION, NT_STATUS_OK), 18);
	assert_int_equal(le32(w.buf + 12), 0);

	assert_int_equal(FS(FSCC_FS_SIZE_INFORMATION, NT_STATUS_OK), 24);
	assert_true(le64(w.buf) == 1000);
	assert_true(le64(w.buf + 8) == 200);
	assert_int_equal(le32(w.buf + 16), 8);
	assert_int_equal(le32(w.buf + 20), 512);

	assert_int_equal(FS(FSCC_FS_DEVICE_INFORMATION, NT_STATUS_OK), 8);
	assert_int_equal(le32(w.buf), FSCC_FILE_DEVICE_DISK);
	assert_int_equal(le32(w.buf + 4), FSCC_FILE_DEVICE_IS_MOUNTED);

	assert_int_equal(FS(FSCC_FS_ATTRIBUTE_INFORMATION, NT_STATUS_OK), 12 + 8);
	assert_int_equal(le32(w.buf), FSCC_FS_CASE_PRESERVED_NAMES | FSCC_FS_UNICODE_ON_DISK);
	assert_int_equal(le32(w.buf + 4), 255);
	assert_int_equal(le32(w.buf + 8), 8);
	assert_utf16(w.buf + 12, "NTFS");

	FS(FSCC_FS_CONTROL_INFORMATION, NT_STATUS_INVALID_PARAMETER);
	fs.quota_supported = true;
	fs.default_quota_threshold = UINT64_MAX;
	fs.default_quota_limit = UINT64_MAX;
	fs.quota_flags = 0x10;
	assert_int_equal(FS(FSCC_FS_CONTROL_INFORMATION, NT_STATUS_OK), 48);
	assert_zero(w.buf, 24);
	assert_true(le64(w.buf + 24) == UINT64_MAX);
	assert_true(le64(w.buf + 32) == UINT64_MAX);
	assert_int_equal(le32(w.buf + 40), 0x10);
	assert_int_equal(le32(w.buf + 44), 0);

	assert_int_equal(FS(FSCC_FS_FULL_SIZE_INFORMATION, NT_STATUS_OK), 32);
	assert_true(le64(w.buf) == 1000);
	assert_true(le64(w.buf + 8) == 200);	/* caller available */
	assert_true(le64(w.buf + 16) == 300);	/* actual available */
	assert_int_equal(le32(w.buf + 24), 8);
	assert_int_equal(le32(w.buf + 28), 512);

	assert_int_equal(FS(FSCC_FS_OBJECT_ID_INFORMATION, NT_STATUS_OK), 64);
	assert_int_equal(w.buf[0], 1);
	assert_int_equal(w.buf[15], 16);
	assert_zero(w.buf + 16, 48);

	fs.physical_bytes_per_sector = 4096;
	assert_int_equal(FS(FSCC_FS_SECTOR_SIZE_INFORMATION, NT_STATUS_OK), 28);
	assert_int_equal(le32(w.buf), 512);
	assert_int_equal(le32(w.buf + 4), 4096);
	assert_int_equal(le32(w.buf + 8), 4096);
	assert_int_equal(le32(w.buf + 12), 4096);
	assert_int_equal(le32(w.buf + 16), 3);
	assert_int_equal(le32(w.buf + 20), 0);
	assert_int_equal(le32(w.buf + 24), 0);

	FS(FSCC_FS_LABEL_INFORMATION, NT_STATUS_INVALID_INFO_CLASS);
	FS(0x42, NT_STATUS_INVALID_INFO_CLASS);
#undef FS
	talloc_free(mem);
}

/* --- SET_INFO decoders --- */

static void test_decode_basic(void **state)
{
	(void)state;
	uint8_t buf[48] = { 0 };
	struct fscc_basic_info bi;

	put_le64(buf, T_CREATE);
	put_le64(buf + 8, FSCC_TIME_STOP_UPDATES);
	put_le64(buf + 16, FSCC_TIME_RESUME_UPDATES);
	put_le64(buf + 24, 0);
	put_le32(buf + 32, FILE_ATTRIBUTE_HIDDEN);

	assert_true(NT_STATUS_EQUAL(fscc_decode_basic(buf, 39, &bi), NT_STATUS_INFO_LENGTH_MISMATCH));
	assert_true(NT_STATUS_EQUAL(fscc_decode_basic(buf, 36, &bi), NT_STATUS_INFO_LENGTH_MISMATCH));
	assert_true(NT_STATUS_EQUAL(fscc_decode_basic(NULL, 0, &bi), NT_STATUS_INFO_LENGTH_MISMATCH));
	assert_true(NT_STATUS_IS_OK(fscc_decode_basic(buf, 40, &bi)));
	assert_true(bi.creation_time == T_CREATE);
	assert_true(bi.last_access_time == FSCC_TIME_STOP_UPDATES);
	assert_true(bi.last_write_time == FSCC_TIME_RESUME_UPDATES);
	assert_true(bi.change_time == 0);
	assert_int_equal(bi.attributes, FILE_ATTRIBUTE_HIDDEN);
	/* Longer input is accepted, the excess ignored. */
	assert_true(NT_STATUS_IS_OK(fscc_decode_basic(buf, sizeof(buf), &bi)));

	/* -3 is not a valid FILETIME for SET_INFO. */
	put_le64(buf + 24, UINT64_C(0xFFFFFFFFFFFFFFFD));
	assert_true(NT_STATUS_EQUAL(fscc_decode_basic(buf, 40, &bi), NT_STATUS_INVALID_PARAMETER));
	put_le64(buf + 24, UINT64_C(0x8000000000000000));
	assert_true(NT_STATUS_EQUAL(fscc_decode_basic(buf, 40, &bi), NT_STATUS_INVALID_PARAMETER));
}

static size_t make_rename(uint8_t *buf, uint8_t replace, uint64_t root,
			  uint32_t name_len_field, const uint8_t *name16, size_t name16_len)
{
	memset(buf, 0xEE, 20);	/* reserved bytes must not matter */
	buf[0] = replace;
	put_le64(buf + 8, root);
	put_le32(buf + 16, name_len_field);
	memcpy(buf + 20, name16, name16_len);
	return 20 + name16_len;
}

static void test_decode_rename(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	uint8_t buf[128];
	struct fscc_rename_info ri;
	const uint8_t name[] = { 'd', 0, '\\', 0, 'n', 0, 0xA9, 0x03, '.', 0, 't', 0 };	/* d\nΩ.t */

	size_t len = make_rename(buf, 1, 0, sizeof(name), name, sizeof(name));
	assert_true(NT_STATUS_IS_OK(fscc_decode_rename(mem, buf, len, &ri)));
	assert_true(ri.replace_if_exists);
	assert_true(ri.root_directory == 0);
	assert_string_equal(ri.file_name, "d\\n\xce\xa9.t");
	assert_true(talloc_parent(ri.file_name) == mem);

	/* Padding after the name (clients align to 8) is fine. */
	memset(buf + len, 0, 4);
	assert_true(NT_STATUS_IS_OK(fscc_decode_rename(mem, buf, len + 4, &ri)));
	buf[0] = 0;
	assert_true(NT_STATUS_IS_OK(fscc_decode_rename(mem, buf, len, &ri)));
	assert_false(ri.replace_if_exists);

	/* Short fixed part. */
	assert_true(NT_STATUS_EQUAL(fscc_decode_rename(mem, buf, 19, &ri), NT_STATUS_INFO_LENGTH_MISMATCH));
	assert_true(NT_STATUS_EQUAL(fscc_decode_rename(mem, NULL, 0, &ri), NT_STATUS_INFO_LENGTH_MISMATCH));
	assert_null(ri.file_name);

	/* FileNameLength lying past the buffer, by 2 and hugely. */
	len = make_rename(buf, 0, 0, sizeof(name) + 2, name, sizeof(name));
	assert_true(NT_STATUS_EQUAL(fscc_decode_rename(mem, buf, len, &ri), NT_STATUS_INVALID_PARAMETER));
	len = make_rename(buf, 0, 0, 0xFFFFFFFF, name, sizeof(name));
	assert_true(NT_STATUS_EQUAL(fscc_decode_rename(mem, buf, len, &ri), NT_STATUS_INVALID_PARAMETER));
	len = make_rename(buf, 0, 0, 0xFFFFFFEC, name, sizeof(name));
	assert_true(NT_STATUS_EQUAL(fscc_decode_rename(mem, buf, len, &ri), NT_STATUS_INVALID_PARAMETER));

	/* Empty and odd lengths. */
	len = make_rename(buf, 0, 0, 0, name, 0);
	assert_true(NT_STATUS_EQUAL(fscc_decode_rename(mem, buf, len, &ri), NT_STATUS_INVALID_PARAMETER));
	len = make_rename(buf, 0, 0, 3, name, sizeof(name));
	assert_true(NT_STATUS_EQUAL(fscc_decode_rename(mem, buf, len, &ri), NT_STATUS_INVALID_PARAMETER));

	/* An unpaired surrogate and an embedded NUL are invalid names. */
	const uint8_t lone[] = { 'a', 0, 0x00, 0xD8, 'b', 0 };
	len = make_rename(buf, 0, 0, sizeof(lone), lone, sizeof(lone));
	assert_true(NT_STATUS_EQUAL(fscc_decode_rename(mem, buf, len, &ri), NT_STATUS_OBJECT_NAME_INVALID));
	const uint8_t nul[] = { 'a', 0, 0, 0, 'b', 0 };
	len = make_rename(buf, 0, 0, sizeof(nul), nul, sizeof(nul));
	assert_true(NT_STATUS_EQUAL(fscc_decode_rename(mem, buf, len, &ri), NT_STATUS_OBJECT_NAME_INVALID));

	/* RootDirectory comes back as sent. */
	len = make_rename(buf, 0, 0x77, sizeof(name), name, sizeof(name));
	assert_true(NT_STATUS_IS_OK(fscc_decode_rename(mem, buf, len, &ri)));
	assert_true(ri.root_directory == 0x77);
	talloc_free(mem);
}

static void test_decode_small(void **state)
{
	(void)state;
	uint8_t buf[16] = { 0 };
	bool dp = true;
	uint32_t u32 = 1;
	uint64_t u64 = 1;

	assert_true(NT_STATUS_EQUAL(fscc_decode_disposition(buf, 0, &dp), NT_STATUS_INFO_LENGTH_MISMATCH));
	assert_true(NT_STATUS_IS_OK(fscc_decode_disposition(buf, 1, &dp)));
	assert_false(dp);
	buf[0] = 2;
	assert_true(NT_STATUS_IS_OK(fscc_decode_disposition(buf, 8, &dp)));
	assert_true(dp);

	put_le32(buf, FSCC_FILE_DISPOSITION_DELETE | FSCC_FILE_DISPOSITION_POSIX_SEMANTICS);
	assert_true(NT_STATUS_EQUAL(fscc_decode_disposition_ex(buf, 3, &u32), NT_STATUS_INFO_LENGTH_MISMATCH));
	assert_true(NT_STATUS_IS_OK(fscc_decode_disposition_ex(buf, 4, &u32)));
	assert_int_equal(u32, 3);
	put_le32(buf, 0x100);
	assert_true(NT_STATUS_EQUAL(fscc_decode_disposition_ex(buf, 4, &u32), NT_STATUS_INVALID_PARAMETER));

	put_le64(buf, 0x123456789);
	assert_true(NT_STATUS_EQUAL(fscc_decode_u64(buf, 7, &u64), NT_STATUS_INFO_LENGTH_MISMATCH));
	assert_true(NT_STATUS_IS_OK(fscc_decode_u64(buf, 8, &u64)));
	assert_true(u64 == 0x123456789);
	put_le64(buf, UINT64_C(0x8000000000000000));
	assert_true(NT_STATUS_EQUAL(fscc_decode_u64(buf, 8, &u64), NT_STATUS_INVALID_PARAMETER));
	put_le64(buf, (uint64_t)INT64_MAX);
	assert_true(NT_STATUS_IS_OK(fscc_decode_u64(buf, 16, &u64)));

	put_le32(buf, FSCC_FILE_WRITE_THROUGH | FSCC_FILE_SEQUENTIAL_ONLY);
	assert_true(NT_STATUS_EQUAL(fscc_decode_mode(buf, 3, &u32), NT_STATUS_INFO_LENGTH_MISMATCH));
	assert_true(NT_STATUS_IS_OK(fscc_decode_mode(buf, 4, &u32)));
	assert_int_equal(u32, 6);
	put_le32(buf, FSCC_FILE_NO_INTERMEDIATE_BUFFERING);
	assert_true(NT_STATUS_EQUAL(fscc_decode_mode(buf, 4, &u32), NT_STATUS_INVALID_PARAMETER));
	put_le32(buf, FSCC_FILE_DELETE_ON_CLOSE);
	assert_true(NT_STATUS_EQUAL(fscc_decode_mode(buf, 4, &u32), NT_STATUS_INVALID_PARAMETER));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_attributes),
		cmocka_unit_test(test_dir_layouts),
		cmocka_unit_test(test_dir_id_both_exact),
		cmocka_unit_test(test_dir_names_info),
		cmocka_unit_test(test_dir_reparse_tag),
		cmocka_unit_test(test_dir_linking),
		cmocka_unit_test(test_dir_errors),
		cmocka_unit_test(test_file_all_information),
		cmocka_unit_test(test_file_fixed_classes),
		cmocka_unit_test(test_file_name_classes),
		cmocka_unit_test(test_file_stream_info),
		cmocka_unit_test(test_fit),
		cmocka_unit_test(test_fs_classes),
		cmocka_unit_test(test_decode_basic),
		cmocka_unit_test(test_decode_rename),
		cmocka_unit_test(test_decode_small),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
