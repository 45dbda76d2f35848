/*
 * Seeds for fuzz_smb2_request and fuzz_transform: for each command, the
 * requests a client sends (mostly as related compounds on a fresh CREATE,
 * so they need no file id from a reply), and whole sessions from
 * NEGOTIATE. Input layout and id aliases: tests/fuzz/harness.h.
 */
#include "config.h"

#include <string.h>

#include "lib/fscc.h"
#include "smbd/smb2_proto.h"
#include "tests/fuzz/harness.h"
#include "tests/fuzz/ntlm_client.h"
#include "tests/fuzz/seeds.h"
#include "tests/fuzz/smb2_build.h"

#define REL SMB2_FLAGS_RELATED_OPERATIONS
#define ALL_SHARE (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
#define RW_ACCESS (FILE_ALL_ACCESS)

/* Modes of fuzz_smb2_request (harness.h). */
#define M_SETUP_311 0x00
#define M_FRESH 0x01
#define M_RAW 0x02

struct seed {
	TALLOC_CTX *mem;
	struct wire_wr stream;
	struct sb b;
	bool in_pdu;
	uint64_t mid;
};

static void seed_begin(struct seed *s, TALLOC_CTX *mem, uint8_t mode, uint64_t first_mid)
{
	s->mem = mem;
	wire_wr_init(&s->stream, mem, 1024);
	wire_put_u8(&s->stream, mode);
	s->in_pdu = false;
	s->mid = first_mid;
}

/* Starts an element of the current PDU, or of a new one. */
static struct sb *el(struct seed *s, uint16_t command, uint32_t flags, uint32_t tid)
{
	if (!s->in_pdu) {
		sb_init(&s->b, s->mem, s->mid, FZ_SID_ALIAS, tid);
		s->in_pdu = true;
	}
	s->b.tid = tid;
	sb_begin(&s->b, command, flags);
	return &s->b;
}

static void pdu_end(struct seed *s)
{
	size_t len;
	const uint8_t *p = sb_pdu(&s->b, &len);
	if (p != NULL)
		sb_frame(&s->stream, p, len);
	s->mid = s->b.mid;
	s->in_pdu = false;
}

static void seed_end(struct seed *s, const char *target, const char *name)
{
	if (s->in_pdu)
		pdu_end(s);
	seed_write(target, name, wire_wr_ok(&s->stream) ? s->stream.buf : NULL, s->stream.len);
}

static void create(struct seed *s, uint32_t tid, const char *name, uint32_t disposition, uint32_t options)
{
	sb_create(el(s, SMB2_CREATE, 0, tid), name, RW_ACCESS, 0, ALL_SHARE, disposition, options, 0, NULL, 0);
}

static void close_rel(struct seed *s, uint32_t tid)
{
	sb_close(el(s, SMB2_CLOSE, REL, tid), SB_FID_RELATED, SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB);
}

/* A self-relative security descriptor: owner and group Administrators, a
 * DACL granting Everyone full access (MS-DTYP 2.4.6). */
static size_t put_sd(struct wire_wr *w)
{
	static const uint8_t admins[16] = { 1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0 };
	static const uint8_t everyone[12] = { 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0 };
	size_t start = w->len;
	wire_put_u8(w, 1);
	wire_put_u8(w, 0);
	wire_put_u16(w, 0x8004); /* SE_SELF_RELATIVE | SE_DACL_PRESENT */
	wire_put_u32(w, 20);     /* owner */
	wire_put_u32(w, 36);     /* group */
	wire_put_u32(w, 0);      /* no SACL */
	wire_put_u32(w, 52);     /* DACL */
	wire_put_bytes(w, admins, 16);
	wire_put_bytes(w, admins, 16);
	wire_put_u8(w, 2);       /* ACL revision */
	wire_put_u8(w, 0);
	wire_put_u16(w, 8 + 20);
	wire_put_u16(w, 1);
	wire_put_u16(w, 0);
	wire_put_u8(w, 0);       /* ACCESS_ALLOWED_ACE_TYPE */
	wire_put_u8(w, 3);       /* OBJECT_INHERIT | CONTAINER_INHERIT */
	wire_put_u16(w, 20);
	wire_put_u32(w, FILE_ALL_ACCESS);
	wire_put_bytes(w, everyone, 12);
	return w->len - start;
}

/* CREATE context (MS-SMB2 2.2.13.2): Next, name, data, 8-aligned. */
static void put_ctx(struct wire_wr *w, const char *tag, const void *data, uint32_t len, bool last)
{
	size_t start = w->len;
	wire_put_u32(w, 0);
	wire_put_u16(w, 16);
	wire_put_u16(w, 4);
	wire_put_u16(w, 0);
	wire_put_u16(w, 0);
	wire_put_u32(w, len);
	wire_put_bytes(w, tag, 4);
	wire_put_u32(w, 0); /* pad the name to 8 */
	if (len) {
		wire_patch_u16(w, start + 10, 24);
		wire_put_bytes(w, data, len);
	}
	if (!last) {
		wire_put_align(w, 8);
		wire_patch_u32(w, start, (uint32_t)(w->len - start));
	}
}

static void put_utf16_name(struct wire_wr *w, const char *name)
{
	size_t pos = wire_reserve(w, 4);
	size_t n = sb_put_utf16(w, name);
	wire_patch_u32(w, pos, (uint32_t)n);
}

static void seeds_files(TALLOC_CTX *mem)
{
	struct seed s;
	const char *T = "fuzz_smb2_request";
	static const char text[] = "Porthos fuzz seed: some file data.\n";

	/* CREATE, WRITE, READ, FLUSH, CLOSE in one related chain. */
	seed_begin(&s, mem, M_SETUP_311, 7);
	create(&s, FZ_TID_SHARE, "file.txt", FILE_OPEN_IF, FILE_NON_DIRECTORY_FILE);
	sb_write(el(&s, SMB2_WRITE, REL, FZ_TID_SHARE), SB_FID_RELATED, 0, text, sizeof(text) - 1);
	sb_read(el(&s, SMB2_READ, REL, FZ_TID_SHARE), SB_FID_RELATED, 4096, 0);
	sb_flush(el(&s, SMB2_FLUSH, REL, FZ_TID_SHARE), SB_FID_RELATED);
	close_rel(&s, FZ_TID_SHARE);
	seed_end(&s, T, "create-write-read");

	/* The same over every dialect the harness sets up. */
	static const char *const dnames[] = { "dialect-302", "dialect-210", "dialect-202" };
	for (int d = 1; d <= 3; d++) {
		seed_begin(&s, mem, (uint8_t)(d << 2), 6);
		create(&s, FZ_TID_SHARE, "file.txt", FILE_OVERWRITE_IF, FILE_NON_DIRECTORY_FILE);
		sb_write(el(&s, SMB2_WRITE, REL, FZ_TID_SHARE), SB_FID_RELATED, 100, text, sizeof(text) - 1);
		sb_read(el(&s, SMB2_READ, REL, FZ_TID_SHARE), SB_FID_RELATED, 200, 90);
		close_rel(&s, FZ_TID_SHARE);
		seed_end(&s, T, dnames[d - 1]);
	}

	/* Separate PDUs naming the open by its alias. */
	seed_begin(&s, mem, M_SETUP_311, 7);
	create(&s, FZ_TID_SHARE, "dir1", FILE_CREATE, FILE_DIRECTORY_FILE);
	pdu_end(&s);
	create(&s, FZ_TID_SHARE, "dir1\\f.bin", FILE_CREATE, FILE_NON_DIRECTORY_FILE);
	pdu_end(&s);
	sb_write(el(&s, SMB2_WRITE, 0, FZ_TID_SHARE), 2, 65536, text, sizeof(text) - 1);
	pdu_end(&s);
	sb_read(el(&s, SMB2_READ, 0, FZ_TID_SHARE), 2, 100, 65530);
	pdu_end(&s);
	sb_query_dir(el(&s, SMB2_QUERY_DIRECTORY, 0, FZ_TID_SHARE), 1, FSCC_FILE_ID_BOTH_DIRECTORY_INFORMATION,
		     SMB2_RESTART_SCANS, "*");
	pdu_end(&s);
	sb_close(el(&s, SMB2_CLOSE, 0, FZ_TID_SHARE), 2, 0);
	pdu_end(&s);
	sb_close(el(&s, SMB2_CLOSE, 0, FZ_TID_SHARE), 1, 0);
	seed_end(&s, T, "aliases");

	/* A large multi-credit WRITE and READ. */
	seed_begin(&s, mem, M_SETUP_311, 7);
	uint8_t *big = talloc_zero_size(mem, 70000);
	for (size_t i = 0; i < 70000; i++)
		big[i] = (uint8_t)(i * 7);
	create(&s, FZ_TID_SHARE, "big.bin", FILE_OVERWRITE_IF, FILE_NON_DIRECTORY_FILE);
	sb_write(el(&s, SMB2_WRITE, REL, FZ_TID_SHARE), SB_FID_RELATED, 0, big, 70000);
	sb_read(el(&s, SMB2_READ, REL, FZ_TID_SHARE), SB_FID_RELATED, 70000, 0);
	close_rel(&s, FZ_TID_SHARE);
	seed_end(&s, T, "multi-credit");
	talloc_free(big);

	/* Directory listings in every class, with patterns. */
	static const uint8_t dir_classes[] = {
		FSCC_FILE_DIRECTORY_INFORMATION, FSCC_FILE_FULL_DIRECTORY_INFORMATION,
		FSCC_FILE_BOTH_DIRECTORY_INFORMATION, FSCC_FILE_NAMES_INFORMATION,
		FSCC_FILE_ID_BOTH_DIRECTORY_INFORMATION, FSCC_FILE_ID_FULL_DIRECTORY_INFORMATION,
		FSCC_FILE_ID_EXTD_DIRECTORY_INFORMATION, FSCC_FILE_ID_EXTD_BOTH_DIRECTORY_INFORMATION,
	};
	seed_begin(&s, mem, M_SETUP_311, 7);
	create(&s, FZ_TID_SHARE, "a.txt", FILE_CREATE, 0);
	close_rel(&s, FZ_TID_SHARE);
	pdu_end(&s);
	create(&s, FZ_TID_SHARE, "", FILE_OPEN, FILE_DIRECTORY_FILE);
	for (size_t i = 0; i < sizeof(dir_classes); i++)
		sb_query_dir(el(&s, SMB2_QUERY_DIRECTORY, REL, FZ_TID_SHARE), SB_FID_RELATED, dir_classes[i],
			     SMB2_RESTART_SCANS, i % 2 ? "*" : "<.TXT");
	sb_query_dir(el(&s, SMB2_QUERY_DIRECTORY, REL, FZ_TID_SHARE), SB_FID_RELATED,
		     FSCC_FILE_DIRECTORY_INFORMATION, SMB2_RETURN_SINGLE_ENTRY | SMB2_REOPEN, "a?t*");
	sb_query_dir(el(&s, SMB2_QUERY_DIRECTORY, REL, FZ_TID_SHARE), SB_FID_RELATED,
		     FSCC_FILE_DIRECTORY_INFORMATION, SMB2_INDEX_SPECIFIED, "");
	close_rel(&s, FZ_TID_SHARE);
	seed_end(&s, T, "query-directory");

	/* QUERY_INFO: file, file system, security and quota classes. */
	static const uint8_t file_classes[] = { 4, 5, 6, 7, 8, 9, 14, 15, 16, 17, 18, 21, 22, 28, 34, 35, 48, 59, 68 };
	static const uint8_t fs_classes[] = { 1, 3, 4, 5, 6, 7, 8, 11 };
	seed_begin(&s, mem, M_SETUP_311, 7);
	create(&s, FZ_TID_SHARE, "info.txt", FILE_OPEN_IF, 0);
	for (size_t i = 0; i < sizeof(file_classes); i++)
		sb_query_info(el(&s, SMB2_QUERY_INFO, REL, FZ_TID_SHARE), SB_FID_RELATED, SMB2_0_INFO_FILE,
			      file_classes[i], 4096, 0, NULL, 0);
	for (size_t i = 0; i < sizeof(fs_classes); i++)
		sb_query_info(el(&s, SMB2_QUERY_INFO, REL, FZ_TID_SHARE), SB_FID_RELATED, SMB2_0_INFO_FILESYSTEM,
			      fs_classes[i], 4096, 0, NULL, 0);
	sb_query_info(el(&s, SMB2_QUERY_INFO, REL, FZ_TID_SHARE), SB_FID_RELATED, SMB2_0_INFO_SECURITY, 0, 4096,
		      0x7, NULL, 0);
	sb_query_info(el(&s, SMB2_QUERY_INFO, REL, FZ_TID_SHARE), SB_FID_RELATED, SMB2_0_INFO_FILE,
		      FSCC_FILE_ALL_INFORMATION, 8, 0, NULL, 0); /* too small: BUFFER_OVERFLOW */
	uint8_t quota_in[24] = { 0, 1, 0, 0 };
	sb_query_info(el(&s, SMB2_QUERY_INFO, REL, FZ_TID_SHARE), SB_FID_RELATED, SMB2_0_INFO_QUOTA, 32, 4096, 0,
		      quota_in, sizeof(quota_in));
	uint8_t ea_in[16] = { 0 };
	ea_in[4] = 4;
	memcpy(ea_in + 5, "USER", 4);
	sb_query_info(el(&s, SMB2_QUERY_INFO, REL, FZ_TID_SHARE), SB_FID_RELATED, SMB2_0_INFO_FILE,
		      FSCC_FILE_FULL_EA_INFORMATION, 4096, 0, ea_in, 10);
	close_rel(&s, FZ_TID_SHARE);
	seed_end(&s, T, "query-info");

	/* SET_INFO: times and attributes, sizes, position, mode, EAs, a
	 * security descriptor, a hard link, a rename, delete on close. */
	struct wire_wr w;
	seed_begin(&s, mem, M_SETUP_311, 7);
	create(&s, FZ_TID_SHARE, "set.txt", FILE_OVERWRITE_IF, 0);
	wire_wr_init(&w, mem, 64);
	wire_put_u64(&w, 0x01d9000000000000ull);
	wire_put_u64(&w, 0x01d9000000000001ull);
	wire_put_u64(&w, 0x01d9000000000002ull);
	wire_put_u64(&w, 0);
	wire_put_u32(&w, 0x21); /* READONLY | ARCHIVE */
	wire_put_u32(&w, 0);
	sb_set_info(el(&s, SMB2_SET_INFO, REL, FZ_TID_SHARE), SB_FID_RELATED, SMB2_0_INFO_FILE,
		    FSCC_FILE_BASIC_INFORMATION, 0, w.buf, (uint32_t)w.len);
	uint64_t v = 100000;
	sb_set_info(el(&s, SMB2_SET_INFO, REL, FZ_TID_SHARE), SB_FID_RELATED, SMB2_0_INFO_FILE,
		    FSCC_FILE_END_OF_FILE_INFORMATION, 0, &v, 8);
	v = 1 << 20;
	sb_set_info(el(&s, SMB2_SET_INFO, REL, FZ_TID_SHARE), SB_FID_RELATED, SMB2_0_INFO_FILE,
		    FSCC_FILE_ALLOCATION_INFORMATION, 0, &v, 8);
	v = 512;
	sb_set_info(el(&s, SMB2_SET_INFO, REL, FZ_TID_SHARE), SB_FID_RELATED, SMB2_0_INFO_FILE,
		    FSCC_FILE_POSITION_INFORMATION, 0, &v, 8);
	uint32_t mode = FILE_SEQUENTIAL_ONLY;
	sb_set_info(el(&s, SMB2_SET_INFO, REL, FZ_TID_SHARE), SB_FID_RELATED, SMB2_0_INFO_FILE,
		    FSCC_FILE_MODE_INFORMATION, 0, &mode, 4);
	wire_wr_init(&w, mem, 64);
	wire_put_u32(&w, 0);    /* NextEntryOffset */
	wire_put_u8(&w, 0);     /* Flags */
	wire_put_u8(&w, 4);     /* EaNameLength */
	wire_put_u16(&w, 5);    /* EaValueLength */
	wire_put_bytes(&w, "USER", 5);
	wire_put_bytes(&w, "value", 5);
	sb_set_info(el(&s, SMB2_SET_INFO, REL, FZ_TID_SHARE), SB_FID_RELATED, SMB2_0_INFO_FILE,
		    FSCC_FILE_FULL_EA_INFORMATION, 0, w.buf, (uint32_t)w.len);
	wire_wr_init(&w, mem, 128);
	put_sd(&w);
	sb_set_info(el(&s, SMB2_SET_INFO, REL, FZ_TID_SHARE), SB_FID_RELATED, SMB2_0_INFO_SECURITY, 0, 0x7,
		    w.buf, (uint32_t)w.len);
	wire_wr_init(&w, mem, 64);
	wire_put_u8(&w, 0);     /* ReplaceIfExists */
	wire_put_zeros(&w, 7);
	wire_put_u64(&w, 0);    /* RootDirectory */
	put_utf16_name(&w, "link.txt");
	sb_set_info(el(&s, SMB2_SET_INFO, REL, FZ_TID_SHARE), SB_FID_RELATED, SMB2_0_INFO_FILE,
		    FSCC_FILE_LINK_INFORMATION, 0, w.buf, (uint32_t)w.len);
	wire_wr_init(&w, mem, 64);
	wire_put_u8(&w, 1);
	wire_put_zeros(&w, 7);
	wire_put_u64(&w, 0);
	put_utf16_name(&w, "renamed.txt");
	sb_set_info(el(&s, SMB2_SET_INFO, REL, FZ_TID_SHARE), SB_FID_RELATED, SMB2_0_INFO_FILE,
		    FSCC_FILE_RENAME_INFORMATION, 0, w.buf, (uint32_t)w.len);
	uint8_t del = 1;
	sb_set_info(el(&s, SMB2_SET_INFO, REL, FZ_TID_SHARE), SB_FID_RELATED, SMB2_0_INFO_FILE,
		    FSCC_FILE_DISPOSITION_INFORMATION, 0, &del, 1);
	close_rel(&s, FZ_TID_SHARE);
	seed_end(&s, T, "set-info");

	/* CREATE contexts: MxAc, QFid, AlSi, SecD, TWrp; DELETE_ON_CLOSE. */
	seed_begin(&s, mem, M_SETUP_311, 7);
	wire_wr_init(&w, mem, 256);
	uint64_t alloc = 65536, twrp = 0x01d9000000000000ull;
	struct wire_wr sd;
	wire_wr_init(&sd, mem, 128);
	put_sd(&sd);
	put_ctx(&w, "MxAc", NULL, 0, false);
	put_ctx(&w, "QFid", NULL, 0, false);
	put_ctx(&w, "AlSi", &alloc, 8, false);
	put_ctx(&w, "SecD", sd.buf, (uint32_t)sd.len, true);
	sb_create(el(&s, SMB2_CREATE, 0, FZ_TID_SHARE), "ctx.txt", RW_ACCESS, 0x80, ALL_SHARE, FILE_CREATE,
		  FILE_DELETE_ON_CLOSE, SMB2_OPLOCK_LEVEL_II, w.buf, w.len);
	close_rel(&s, FZ_TID_SHARE);
	pdu_end(&s);
	wire_wr_init(&w, mem, 64);
	put_ctx(&w, "TWrp", &twrp, 8, true);
	sb_create(el(&s, SMB2_CREATE, 0, FZ_TID_SHARE), "ctx.txt", FILE_GENERIC_READ, 0, ALL_SHARE, FILE_OPEN, 0,
		  0, w.buf, w.len);
	seed_end(&s, T, "create-contexts");

	/* Names and paths: subdirectories, odd characters, ".." (refused). */
	seed_begin(&s, mem, M_SETUP_311, 7);
	create(&s, FZ_TID_SHARE, "D\xc3\xa9j\xc3\xa0 vu", FILE_CREATE, FILE_DIRECTORY_FILE);
	close_rel(&s, FZ_TID_SHARE);
	pdu_end(&s);
	create(&s, FZ_TID_SHARE, "d\xc3\x89j\xc3\x80 VU\\sub.dat", FILE_CREATE, 0);
	close_rel(&s, FZ_TID_SHARE);
	pdu_end(&s);
	create(&s, FZ_TID_SHARE, "..\\outside.txt", FILE_CREATE, 0);
	pdu_end(&s);
	create(&s, FZ_TID_SHARE, "a\\..\\..\\b", FILE_OPEN_IF, 0);
	pdu_end(&s);
	create(&s, FZ_TID_SHARE, "x:stream", FILE_OPEN_IF, 0);
	pdu_end(&s);
	create(&s, FZ_TID_SHARE, "@GMT-2024.01.01-00.00.00\\file.txt", FILE_OPEN, 0);
	seed_end(&s, T, "names");

	/* The read-only guest share. */
	seed_begin(&s, mem, M_SETUP_311, 7);
	sb_create(el(&s, SMB2_CREATE, 0, FZ_TID_PUB), "readme.txt", FILE_GENERIC_READ, 0, FILE_SHARE_READ,
		  FILE_OPEN, 0, 0, NULL, 0);
	sb_read(el(&s, SMB2_READ, REL, FZ_TID_PUB), SB_FID_RELATED, 100, 0);
	sb_query_info(el(&s, SMB2_QUERY_INFO, REL, FZ_TID_PUB), SB_FID_RELATED, SMB2_0_INFO_FILE,
		      FSCC_FILE_ALL_INFORMATION, 4096, 0, NULL, 0);
	close_rel(&s, FZ_TID_PUB);
	pdu_end(&s);
	create(&s, FZ_TID_PUB, "new.txt", FILE_CREATE, 0);
	pdu_end(&s);
	create(&s, FZ_TID_PUB, "dir", FILE_OPEN, FILE_DIRECTORY_FILE);
	seed_end(&s, T, "read-only-share");
}

static void seeds_ioctl_lock_async(TALLOC_CTX *mem)
{
	struct seed s;
	struct wire_wr w;
	const char *T = "fuzz_smb2_request";
	static const char text[] = "0123456789abcdef0123456789abcdef";

	/* Sparse files and ranges, object ids, the resume key. */
	seed_begin(&s, mem, M_SETUP_311, 7);
	create(&s, FZ_TID_SHARE, "sparse.bin", FILE_OVERWRITE_IF, 0);
	sb_write(el(&s, SMB2_WRITE, REL, FZ_TID_SHARE), SB_FID_RELATED, 8192, text, sizeof(text) - 1);
	uint8_t one = 1;
	sb_ioctl(el(&s, SMB2_IOCTL, REL, FZ_TID_SHARE), SB_FID_RELATED, FSCTL_SET_SPARSE, &one, 1, 0);
	uint64_t range[2] = { 0, 1 << 20 };
	sb_ioctl(el(&s, SMB2_IOCTL, REL, FZ_TID_SHARE), SB_FID_RELATED, FSCTL_QUERY_ALLOCATED_RANGES, range, 16,
		 1024);
	uint64_t zero[2] = { 8192, 8200 };
	sb_ioctl(el(&s, SMB2_IOCTL, REL, FZ_TID_SHARE), SB_FID_RELATED, FSCTL_SET_ZERO_DATA, zero, 16, 0);
	sb_ioctl(el(&s, SMB2_IOCTL, REL, FZ_TID_SHARE), SB_FID_RELATED, FSCTL_CREATE_OR_GET_OBJECT_ID, NULL, 0, 64);
	sb_ioctl(el(&s, SMB2_IOCTL, REL, FZ_TID_SHARE), SB_FID_RELATED, FSCTL_GET_OBJECT_ID, NULL, 0, 64);
	sb_ioctl(el(&s, SMB2_IOCTL, REL, FZ_TID_SHARE), SB_FID_RELATED, FSCTL_SRV_REQUEST_RESUME_KEY, NULL, 0, 32);
	close_rel(&s, FZ_TID_SHARE);
	seed_end(&s, T, "ioctl-sparse");

	/* Server-side copy: COPYCHUNK from open 1 and block cloning. */
	seed_begin(&s, mem, M_SETUP_311, 7);
	create(&s, FZ_TID_SHARE, "src.bin", FILE_OVERWRITE_IF, 0);
	sb_write(el(&s, SMB2_WRITE, REL, FZ_TID_SHARE), SB_FID_RELATED, 0, text, sizeof(text) - 1);
	sb_ioctl(el(&s, SMB2_IOCTL, REL, FZ_TID_SHARE), SB_FID_RELATED, FSCTL_SRV_REQUEST_RESUME_KEY, NULL, 0, 32);
	pdu_end(&s);
	create(&s, FZ_TID_SHARE, "dst.bin", FILE_OVERWRITE_IF, 0);
	wire_wr_init(&w, mem, 64);
	wire_put_u8(&w, 1);     /* SourceKey: the resume key of open 1 (harness.h) */
	wire_put_zeros(&w, 23);
	wire_put_u32(&w, 2);    /* ChunkCount */
	wire_put_u32(&w, 0);
	for (int i = 0; i < 2; i++) {
		wire_put_u64(&w, (uint64_t)i * 16);
		wire_put_u64(&w, (uint64_t)i * 16 + 4096);
		wire_put_u32(&w, 16);
		wire_put_u32(&w, 0);
	}
	sb_ioctl(el(&s, SMB2_IOCTL, REL, FZ_TID_SHARE), SB_FID_RELATED, FSCTL_SRV_COPYCHUNK_WRITE, w.buf,
		 (uint32_t)w.len, 12);
	wire_wr_init(&w, mem, 64);
	wire_put_u64(&w, 1);    /* the source: alias 1 */
	wire_put_u64(&w, 1);
	wire_put_u64(&w, 0);
	wire_put_u64(&w, 0);
	wire_put_u64(&w, 32);
	sb_ioctl(el(&s, SMB2_IOCTL, REL, FZ_TID_SHARE), SB_FID_RELATED, FSCTL_DUPLICATE_EXTENTS_TO_FILE, w.buf,
		 (uint32_t)w.len, 0);
	seed_end(&s, T, "ioctl-copy");

	/* IOCTLs on the tree: VALIDATE_NEGOTIATE_INFO, interfaces, DFS. */
	seed_begin(&s, mem, M_SETUP_311, 7);
	wire_wr_init(&w, mem, 64);
	wire_put_u32(&w, SMB2_GLOBAL_CAP_LARGE_MTU | SMB2_GLOBAL_CAP_ENCRYPTION);
	static const uint8_t guid[16] = { 0x50, 0x6f, 0x72, 0x74, 0x68, 0x6f, 0x73, 0x46,
					  0x75, 0x7a, 0x7a, 0x43, 0x6c, 0x69, 0x65, 0x6e };
	wire_put_bytes(&w, guid, 16);
	wire_put_u16(&w, SMB2_NEGOTIATE_SIGNING_ENABLED);
	wire_put_u16(&w, 1);
	wire_put_u16(&w, SMB2_DIALECT_311);
	sb_ioctl(el(&s, SMB2_IOCTL, 0, FZ_TID_SHARE), SB_FID_RELATED, FSCTL_VALIDATE_NEGOTIATE_INFO, w.buf,
		 (uint32_t)w.len, 24);
	pdu_end(&s);
	sb_ioctl(el(&s, SMB2_IOCTL, 0, FZ_TID_SHARE), SB_FID_RELATED, FSCTL_QUERY_NETWORK_INTERFACE_INFO, NULL, 0,
		 65536);
	pdu_end(&s);
	wire_wr_init(&w, mem, 64);
	wire_put_u16(&w, 4);
	sb_put_utf16(&w, "\\FUZZ\\share");
	wire_put_u16(&w, 0);
	sb_ioctl(el(&s, SMB2_IOCTL, 0, FZ_TID_IPC), SB_FID_RELATED, FSCTL_DFS_GET_REFERRALS, w.buf, (uint32_t)w.len,
		 4096);
	seed_end(&s, T, "ioctl-tree");

	/* Byte-range locks; a blocking one goes async and is cancelled. */
	seed_begin(&s, mem, M_SETUP_311, 7);
	create(&s, FZ_TID_SHARE, "lock.bin", FILE_OVERWRITE_IF, 0);
	sb_write(el(&s, SMB2_WRITE, REL, FZ_TID_SHARE), SB_FID_RELATED, 0, text, sizeof(text) - 1);
	sb_lock(el(&s, SMB2_LOCK, REL, FZ_TID_SHARE), SB_FID_RELATED, 0, 10, 0x2 | 0x10); /* exclusive, fail at once */
	sb_lock(el(&s, SMB2_LOCK, REL, FZ_TID_SHARE), SB_FID_RELATED, 20, 10, 0x1 | 0x10); /* shared */
	pdu_end(&s);
	create(&s, FZ_TID_SHARE, "lock.bin", FILE_OPEN, 0);
	sb_read(el(&s, SMB2_READ, REL, FZ_TID_SHARE), SB_FID_RELATED, 16, 0); /* conflicts: mandatory */
	sb_lock(el(&s, SMB2_LOCK, REL, FZ_TID_SHARE), SB_FID_RELATED, 0, 10, 0x2); /* blocks */
	pdu_end(&s);
	sb_empty(el(&s, SMB2_CANCEL, 0, FZ_TID_SHARE));
	pdu_end(&s);
	sb_lock(el(&s, SMB2_LOCK, 0, FZ_TID_SHARE), 1, 0, 10, 0x4); /* unlock */
	pdu_end(&s);
	sb_close(el(&s, SMB2_CLOSE, 0, FZ_TID_SHARE), 1, 0);
	seed_end(&s, T, "locks");

	/* CHANGE_NOTIFY waits, a change completes it, another is cancelled. */
	seed_begin(&s, mem, M_SETUP_311, 7);
	create(&s, FZ_TID_SHARE, "watched", FILE_CREATE, FILE_DIRECTORY_FILE);
	sb_notify(el(&s, SMB2_CHANGE_NOTIFY, REL, FZ_TID_SHARE), SB_FID_RELATED, 1, 0xfff);
	pdu_end(&s);
	create(&s, FZ_TID_SHARE, "watched\\new.txt", FILE_CREATE, 0);
	close_rel(&s, FZ_TID_SHARE);
	pdu_end(&s);
	sb_notify(el(&s, SMB2_CHANGE_NOTIFY, 0, FZ_TID_SHARE), 1, 0, 0x3);
	pdu_end(&s);
	sb_empty(el(&s, SMB2_CANCEL, 0, FZ_TID_SHARE));
	pdu_end(&s);
	sb_notify(el(&s, SMB2_CHANGE_NOTIFY, 0, FZ_TID_SHARE), 1, 0, 0x1);
	pdu_end(&s);
	sb_close(el(&s, SMB2_CLOSE, 0, FZ_TID_SHARE), 1, 0);
	seed_end(&s, T, "notify");

	/* A batch oplock broken by a second open, then acknowledged. */
	seed_begin(&s, mem, M_SETUP_311, 7);
	sb_create(el(&s, SMB2_CREATE, 0, FZ_TID_SHARE), "oplock.txt", RW_ACCESS, 0, ALL_SHARE, FILE_OVERWRITE_IF,
		  0, SMB2_OPLOCK_LEVEL_BATCH, NULL, 0);
	pdu_end(&s);
	sb_create(el(&s, SMB2_CREATE, 0, FZ_TID_SHARE), "oplock.txt", FILE_GENERIC_READ, 0, ALL_SHARE, FILE_OPEN,
		  0, SMB2_OPLOCK_LEVEL_II, NULL, 0);
	pdu_end(&s);
	sb_oplock_break(el(&s, SMB2_OPLOCK_BREAK, 0, FZ_TID_SHARE), 1, SMB2_OPLOCK_LEVEL_II);
	pdu_end(&s);
	sb_oplock_break(el(&s, SMB2_OPLOCK_BREAK, 0, FZ_TID_SHARE), 1, SMB2_OPLOCK_LEVEL_NONE);
	seed_end(&s, T, "oplock-break");

	/* The srvsvc pipe on IPC$: bind and a call by WRITE/READ, then by TRANSCEIVE. */
	seed_begin(&s, mem, M_SETUP_311, 7);
	struct wire_wr rpc;
	wire_wr_init(&rpc, mem, 256);
	rpc_put_bind(&rpc, 1, true);
	sb_create(el(&s, SMB2_CREATE, 0, FZ_TID_IPC), "srvsvc", FILE_GENERIC_READ | FILE_GENERIC_WRITE, 0,
		  ALL_SHARE, FILE_OPEN, 0, 0, NULL, 0);
	sb_write(el(&s, SMB2_WRITE, REL, FZ_TID_IPC), SB_FID_RELATED, 0, rpc.buf, (uint32_t)rpc.len);
	sb_read(el(&s, SMB2_READ, REL, FZ_TID_IPC), SB_FID_RELATED, 4280, 0);
	pdu_end(&s);
	wire_wr_init(&rpc, mem, 256);
	rpc_put_share_enum(&rpc, 2, 1);
	sb_ioctl(el(&s, SMB2_IOCTL, 0, FZ_TID_IPC), 1, FSCTL_PIPE_TRANSCEIVE, rpc.buf, (uint32_t)rpc.len, 1024);
	pdu_end(&s);
	sb_read(el(&s, SMB2_READ, 0, FZ_TID_IPC), 1, 4280, 0);
	pdu_end(&s);
	sb_read(el(&s, SMB2_READ, 0, FZ_TID_IPC), 1, 4280, 0); /* nothing queued: waits */
	pdu_end(&s);
	sb_query_info(el(&s, SMB2_QUERY_INFO, 0, FZ_TID_IPC), 1, SMB2_0_INFO_FILE, FSCC_FILE_STANDARD_INFORMATION,
		      4096, 0, NULL, 0);
	pdu_end(&s);
	sb_close(el(&s, SMB2_CLOSE, 0, FZ_TID_IPC), 1, 0);
	seed_end(&s, T, "pipe-srvsvc");

	/* ECHO, compounds of unrelated elements, TREE_DISCONNECT, LOGOFF. */
	seed_begin(&s, mem, M_SETUP_311, 7);
	sb_empty(el(&s, SMB2_ECHO, 0, 0));
	pdu_end(&s);
	sb_empty(el(&s, SMB2_ECHO, 0, 0));
	sb_empty(el(&s, SMB2_ECHO, 0, 0));
	create(&s, FZ_TID_SHARE, "e.txt", FILE_OPEN_IF, 0);
	close_rel(&s, FZ_TID_SHARE);
	pdu_end(&s);
	sb_empty(el(&s, SMB2_TREE_DISCONNECT, 0, FZ_TID_PUB));
	pdu_end(&s);
	create(&s, FZ_TID_PUB, "readme.txt", FILE_OPEN, 0);
	pdu_end(&s);
	sb_empty(el(&s, SMB2_LOGOFF, 0, 0));
	pdu_end(&s);
	sb_empty(el(&s, SMB2_ECHO, 0, 0));
	seed_end(&s, T, "echo-disconnect-logoff");

	/* A chain whose first element claims to be related, and an unknown command. */
	seed_begin(&s, mem, M_SETUP_311, 7);
	sb_close(el(&s, SMB2_CLOSE, REL, FZ_TID_SHARE), SB_FID_RELATED, 0);
	sb_empty(el(&s, SMB2_ECHO, REL, 0));
	pdu_end(&s);
	sb_empty(el(&s, 0x13, 0, 0));
	seed_end(&s, T, "bad-chains");

	/* Ids as they are: message ids after the setup's, an unknown session. */
	seed_begin(&s, mem, M_RAW, 7);
	sb_empty(el(&s, SMB2_ECHO, 0, 0));
	pdu_end(&s);
	create(&s, FZ_TID_SHARE, "raw.txt", FILE_OPEN_IF, 0);
	seed_end(&s, T, "raw-ids");
}

/* A NEGOTIATE offering everything, with every 3.1.1 context. */
static void put_full_negotiate(struct sb *b)
{
	struct wire_wr *w = &b->w;
	static const uint16_t dialects[] = { 0x202, 0x210, 0x300, 0x302, 0x311 };
	wire_put_u16(w, 36);
	wire_put_u16(w, 5);
	wire_put_u16(w, SMB2_NEGOTIATE_SIGNING_ENABLED);
	wire_put_u16(w, 0);
	wire_put_u32(w, 0x7f);
	wire_put_zeros(w, 16);
	size_t ctx_pos = wire_reserve(w, 4);
	wire_put_u16(w, 5);
	wire_put_u16(w, 0);
	for (int i = 0; i < 5; i++)
		wire_put_u16(w, dialects[i]);
	while (sb_off(b) % 8)
		wire_put_u8(w, 0);
	wire_patch_u32(w, ctx_pos, sb_off(b));
	uint8_t pa[8] = { 1, 0, 2, 0, 1, 0, 0x12, 0x34 };
	uint8_t enc[10] = { 4, 0, 4, 0, 2, 0, 3, 0, 1, 0 };
	uint8_t sig[8] = { 3, 0, 2, 0, 1, 0, 0, 0 };
	uint8_t comp[12] = { 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 };
	uint8_t name[8] = { 'F', 0, 'U', 0, 'Z', 0, 'Z', 0 };
	const struct {
		uint16_t type;
		const uint8_t *p;
		uint16_t len;
	} ctx[] = {
		{ SMB2_PREAUTH_INTEGRITY_CAPABILITIES, pa, sizeof(pa) },
		{ SMB2_ENCRYPTION_CAPABILITIES, enc, sizeof(enc) },
		{ SMB2_SIGNING_CAPABILITIES, sig, sizeof(sig) },
		{ SMB2_COMPRESSION_CAPABILITIES, comp, sizeof(comp) },
		{ SMB2_NETNAME_NEGOTIATE_CONTEXT_ID, name, sizeof(name) },
	};
	for (size_t i = 0; i < sizeof(ctx) / sizeof(ctx[0]); i++) {
		while (sb_off(b) % 8)
			wire_put_u8(w, 0);
		wire_put_u16(w, ctx[i].type);
		wire_put_u16(w, ctx[i].len);
		wire_put_u32(w, 0);
		wire_put_bytes(w, ctx[i].p, ctx[i].len);
	}
}

static void seeds_fresh(TALLOC_CTX *mem)
{
	struct seed s;
	const char *T = "fuzz_smb2_request";

	seed_begin(&s, mem, M_FRESH, 0);
	put_full_negotiate(el(&s, SMB2_NEGOTIATE, 0, 0));
	pdu_end(&s);
	sb_empty(el(&s, SMB2_ECHO, 0, 0));
	seed_end(&s, T, "negotiate-all");

	static const uint16_t d202 = SMB2_DIALECT_202, d210 = SMB2_DIALECT_210;
	seed_begin(&s, mem, M_FRESH, 0);
	sb_negotiate(el(&s, SMB2_NEGOTIATE, 0, 0), &d202, 1, 0, -1);
	seed_end(&s, T, "negotiate-202");

	/* SMB1 NEGOTIATE offering SMB2 (MS-SMB2 3.3.5.3.1), then SMB2's own. */
	seed_begin(&s, mem, M_FRESH, 0);
	struct wire_wr w;
	wire_wr_init(&w, mem, 128);
	static const uint8_t smb1_hdr[32] = { 0xff, 'S', 'M', 'B', 0x72, 0, 0, 0, 0, 0x18, 0x53, 0xc8 };
	wire_put_bytes(&w, smb1_hdr, sizeof(smb1_hdr));
	wire_put_u8(&w, 0); /* WordCount */
	static const char dialects[] = "\x02NT LM 0.12\0\x02SMB 2.002\0\x02SMB 2.???";
	wire_put_u16(&w, sizeof(dialects));
	wire_put_bytes(&w, dialects, sizeof(dialects));
	sb_frame(&s.stream, w.buf, w.len);
	s.mid = 1;
	sb_negotiate(el(&s, SMB2_NEGOTIATE, 0, 0), &d210, 1, 0, -1);
	seed_end(&s, T, "negotiate-smb1");

	/* An anonymous logon over SPNEGO, then the srvsvc pipe on IPC$. */
	size_t n1, n2, t1, t2, chal_len;
	uint8_t *neg = ntlmc_negotiate(mem, false, &n1);
	uint8_t *tok1 = ntlmc_spnego_init(mem, neg, n1, &t1);
	static const uint8_t challenge[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t *chal = ntlmc_fake_challenge(mem, challenge, &chal_len);
	const struct ntlmc_opts anon = { .user = NULL };
	uint8_t *auth = ntlmc_authenticate(mem, chal, chal_len, &anon, &n2, NULL);
	uint8_t *tok2 = ntlmc_spnego_resp(mem, auth, n2, &t2);
	static const uint16_t d311 = SMB2_DIALECT_311;
	seed_begin(&s, mem, M_FRESH, 0);
	sb_negotiate(el(&s, SMB2_NEGOTIATE, 0, 0), &d311, 1, 2, 1);
	pdu_end(&s);
	sb_init(&s.b, mem, s.mid, 0, 0);
	s.in_pdu = true;
	sb_begin(&s.b, SMB2_SESSION_SETUP, 0);
	sb_session_setup(&s.b, tok1, t1);
	pdu_end(&s);
	sb_session_setup(el(&s, SMB2_SESSION_SETUP, 0, 0), tok2, t2);
	pdu_end(&s);
	sb_tree_connect(el(&s, SMB2_TREE_CONNECT, 0, 0), "\\\\FUZZ\\IPC$");
	pdu_end(&s);
	struct wire_wr rpc;
	wire_wr_init(&rpc, mem, 256);
	rpc_put_bind(&rpc, 1, false);
	sb_create(el(&s, SMB2_CREATE, 0, 1), "srvsvc", FILE_GENERIC_READ | FILE_GENERIC_WRITE, 0, ALL_SHARE,
		  FILE_OPEN, 0, 0, NULL, 0);
	sb_write(el(&s, SMB2_WRITE, REL, 1), SB_FID_RELATED, 0, rpc.buf, (uint32_t)rpc.len);
	sb_read(el(&s, SMB2_READ, REL, 1), SB_FID_RELATED, 4280, 0);
	pdu_end(&s);
	wire_wr_init(&rpc, mem, 256);
	rpc_put_share_get_info(&rpc, 2, "share", 2);
	sb_write(el(&s, SMB2_WRITE, 0, 1), 1, 0, rpc.buf, (uint32_t)rpc.len);
	sb_read(el(&s, SMB2_READ, 0, 1), 1, 4280, 0);
	pdu_end(&s);
	sb_tree_connect(el(&s, SMB2_TREE_CONNECT, 0, 0), "\\\\FUZZ\\pub");
	pdu_end(&s);
	sb_empty(el(&s, SMB2_LOGOFF, 0, 0));
	seed_end(&s, T, "anonymous-ipc");

	/* A logon that fails: the password proof is for another challenge. */
	uint8_t *neg2 = ntlmc_negotiate(mem, true, &n1);
	const struct ntlmc_opts user = { .user = FZ_USER, .domain = FZ_DOMAIN, .password = FZ_PASSWORD };
	uint8_t *auth2 = ntlmc_authenticate(mem, chal, chal_len, &user, &n2, NULL);
	seed_begin(&s, mem, M_FRESH, 0);
	sb_negotiate(el(&s, SMB2_NEGOTIATE, 0, 0), &d311, 1, 4, 2);
	pdu_end(&s);
	sb_init(&s.b, mem, s.mid, 0, 0);
	s.in_pdu = true;
	sb_begin(&s.b, SMB2_SESSION_SETUP, 0);
	sb_session_setup(&s.b, neg2, n1);
	pdu_end(&s);
	sb_session_setup(el(&s, SMB2_SESSION_SETUP, 0, 0), auth2, n2);
	seed_end(&s, T, "logon-failure");

	/* Fresh and raw: the ids a client really sends. */
	seed_begin(&s, mem, M_FRESH | M_RAW, 0);
	sb_negotiate(el(&s, SMB2_NEGOTIATE, 0, 0), &d311, 1, 1, 0);
	pdu_end(&s);
	sb_empty(el(&s, SMB2_ECHO, 0, 0));
	seed_end(&s, T, "fresh-raw");
}

/* Compounds whose later elements end the tree or the session the earlier
 * ones used: the replies of those must not touch what is gone. */
static void seeds_teardown(TALLOC_CTX *mem)
{
	struct seed s;
	const char *T = "fuzz_smb2_request";

	seed_begin(&s, mem, M_SETUP_311, 7);
	create(&s, FZ_TID_SHARE, "t.txt", FILE_OPEN_IF, 0);
	close_rel(&s, FZ_TID_SHARE);
	sb_empty(el(&s, SMB2_TREE_DISCONNECT, 0, FZ_TID_SHARE));
	sb_empty(el(&s, SMB2_ECHO, 0, 0));
	seed_end(&s, T, "compound-tree-disconnect");

	seed_begin(&s, mem, M_SETUP_311, 7);
	create(&s, FZ_TID_SHARE, "t.txt", FILE_OPEN_IF, 0);
	sb_empty(el(&s, SMB2_LOGOFF, 0, 0));
	sb_empty(el(&s, SMB2_ECHO, 0, 0));
	seed_end(&s, T, "compound-logoff");

	/* A re-authentication that fails ends the session mid-compound. */
	static const uint8_t bad_auth[] = { 'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 3, 0, 0, 0 };
	seed_begin(&s, mem, M_SETUP_311, 7);
	create(&s, FZ_TID_SHARE, "t.txt", FILE_OPEN_IF, 0);
	sb_session_setup(el(&s, SMB2_SESSION_SETUP, 0, 0), bad_auth, sizeof(bad_auth));
	sb_empty(el(&s, SMB2_ECHO, 0, 0));
	seed_end(&s, T, "compound-reauth-failure");
}

void seeds_smb2(TALLOC_CTX *mem)
{
	seeds_teardown(mem);
	seeds_files(mem);
	seeds_ioctl_lock_async(mem);
	seeds_fresh(mem);
}

/* fuzz_transform: modes (see fuzz_transform.c). */
static uint8_t tmode(int op, int cipher_idx, int sign, int dialect)
{
	return (uint8_t)(op | cipher_idx << 2 | sign << 4 | dialect << 6);
}

void seeds_transform(TALLOC_CTX *mem)
{
	const char *T = "fuzz_transform";
	static const struct {
		const char *name;
		int op, cipher, sign, dialect;
		uint32_t tid;
	} v[] = {
		{ "seal-gcm128-enc-share", 1, 1, 1, 0, FZ_TID_ENC },
		{ "seal-ccm128", 1, 0, 1, 0, FZ_TID_ENC },
		{ "seal-ccm256", 1, 2, 0, 0, FZ_TID_SHARE },
		{ "seal-gcm256-gmac", 1, 3, 2, 0, FZ_TID_ENC },
		{ "sign-cmac", 2, 1, 1, 0, FZ_TID_SHARE },
		{ "sign-gmac", 2, 1, 2, 0, FZ_TID_SHARE },
		{ "sign-hmac-311", 2, 1, 0, 0, FZ_TID_SHARE },
		{ "sign-hmac-210", 2, 0, 3, 3, FZ_TID_SHARE },
		{ "sign-seal", 3, 1, 1, 0, FZ_TID_ENC },
		{ "seal-302", 1, 0, 3, 1, FZ_TID_ENC },
		{ "seal-300", 1, 0, 3, 2, FZ_TID_ENC },
		{ "plain-on-enc-share", 0, 1, 1, 0, FZ_TID_ENC },
	};
	static const char text[] = "encrypted data";
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct seed s;
		uint64_t first = v[i].dialect == 3 ? 6 : 7;
		seed_begin(&s, mem, tmode(v[i].op, v[i].cipher, v[i].sign, v[i].dialect), first);
		create(&s, v[i].tid, "t.txt", FILE_OVERWRITE_IF, 0);
		sb_write(el(&s, SMB2_WRITE, REL, v[i].tid), SB_FID_RELATED, 0, text, sizeof(text) - 1);
		sb_read(el(&s, SMB2_READ, REL, v[i].tid), SB_FID_RELATED, 64, 0);
		close_rel(&s, v[i].tid);
		pdu_end(&s);
		sb_empty(el(&s, SMB2_ECHO, 0, 0));
		pdu_end(&s);
		create(&s, v[i].tid, "", FILE_OPEN, FILE_DIRECTORY_FILE);
		sb_query_info(el(&s, SMB2_QUERY_INFO, REL, v[i].tid), SB_FID_RELATED, SMB2_0_INFO_FILESYSTEM, 1, 4096,
			      0, NULL, 0);
		close_rel(&s, v[i].tid);
		seed_end(&s, T, v[i].name);
	}

	/* An encrypted compound whose re-authentication fails: every reply
	 * must still go out encrypted with the session's key. */
	struct seed r;
	static const uint8_t bad_auth[] = { 'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 3, 0, 0, 0 };
	seed_begin(&r, mem, tmode(1, 1, 1, 0), 7);
	create(&r, FZ_TID_ENC, "secret.txt", FILE_OVERWRITE_IF, 0);
	sb_write(el(&r, SMB2_WRITE, REL, FZ_TID_ENC), SB_FID_RELATED, 0, text, sizeof(text) - 1);
	sb_read(el(&r, SMB2_READ, REL, FZ_TID_ENC), SB_FID_RELATED, 64, 0);
	sb_session_setup(el(&r, SMB2_SESSION_SETUP, 0, 0), bad_auth, sizeof(bad_auth));
	sb_empty(el(&r, SMB2_TREE_DISCONNECT, 0, FZ_TID_ENC));
	seed_end(&r, T, "sealed-reauth-failure");

	/* Forged: a transform header with a wrong tag, lying sizes, a bad signature. */
	struct seed s;
	seed_begin(&s, mem, tmode(0, 1, 1, 0), 7);
	uint8_t forged[52 + 68] = { 0xfd, 'S', 'M', 'B' };
	put_le32(forged + 36, 68);
	put_le16(forged + 42, 1);
	put_le64(forged + 44, FZ_SID_ALIAS);
	memset(forged + 52, 0x42, 68);
	sb_frame(&s.stream, forged, sizeof(forged));
	put_le32(forged + 36, 0xffffffff);
	sb_frame(&s.stream, forged, sizeof(forged));
	sb_empty(el(&s, SMB2_ECHO, SMB2_FLAGS_SIGNED, 0));
	seed_end(&s, T, "forged");
}
