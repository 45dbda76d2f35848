/*
 * smbd/vfs*: path rules, confinement beneath the share root, errno
 * mapping, DOS attributes, directory listing.
 *
 * Every test gets a fresh tree:
 *   T/outside/secret            "TOPSECRET", must never be read/changed
 *   T/outside/subd/
 *   T/share/                    the share root
 *     file.txt, sub/, sub/f2
 *     escaping links: abs_out -> T/outside, abs_secret(2) -> T/outside/secret,
 *       abs_in -> T/share/file.txt (absolute, refused although inside),
 *       abs_dangling -> T/outside/created_abs, up -> ../outside,
 *       rel_dangling -> ../outside/created_rel, sub/up2 -> ../../outside,
 *       proc_root -> /proc/self/root, proc_fd -> /proc/self/fd/N
 *     in-share links: in_link -> sub, sub/in_up -> ../file.txt,
 *       dangling -> nowhere, loop1 <-> loop2
 */
#include "config.h"
#include "smbd/vfs.h"
#include "smbd/vfs_dosattr.h"
#include "smbd/vfs_path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/fscc.h"
#include "lib/log.h"
#include "lib/wildcard.h"
#include "lib/wire.h"

struct tstate {
	TALLOC_CTX *mem;
	char top[PATH_MAX];
	char share[PATH_MAX];
	char outside[PATH_MAX];
	char secret[PATH_MAX];
	struct vfs_share *s;
	int fds_at_start;
};

#define assert_status(expr, want)                                              \
	do {                                                                   \
		NTSTATUS st_ = (expr);                                         \
		if (!NT_STATUS_EQUAL(st_, (want)))                             \
			fail_msg("%s: got %s, want %s", #expr, nt_errstr(st_), \
				 nt_errstr(want));                             \
	} while (0)

static void xpath(char *buf, const char *a, const char *b)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", a, b);

	assert_true(n > 0 && n < PATH_MAX);
}

static void write_file(const char *dir, const char *name, const char *content)
{
	char p[PATH_MAX];
	int fd;

	xpath(p, dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

static void make_link(const char *target, const char *dir, const char *name)
{
	char p[PATH_MAX];

	xpath(p, dir, name);
	assert_int_equal(symlink(target, p), 0);
}

static bool exists_at(const char *dir, const char *name)
{
	char p[PATH_MAX];
	struct stat st;

	xpath(p, dir, name);
	return lstat(p, &st) == 0;
}

/* The outside tree is exactly as created: secret intact, nothing added. */
static void assert_outside_untouched(struct tstate *t)
{
	char buf[64];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, n = 0;
	ssize_t r;

	fd = open(t->secret, O_RDONLY);
	assert_true(fd >= 0);
	r = read(fd, buf, sizeof(buf));
	close(fd);
	assert_int_equal(r, 9);
	assert_memory_equal(buf, "TOPSECRET", 9);
	assert_int_equal(stat(t->secret, &st), 0);
	assert_int_equal(st.st_nlink, 1);

	d = opendir(t->outside);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strcmp(de->d_name, "secret") != 0 && strcmp(de->d_name, "subd") != 0)
			fail_msg("unexpected entry outside the share: %s", de->d_name);
		n++;
	}
	closedir(d);
	assert_int_equal(n, 2);
}

/* Open fds of this process: every test must give back what it took. */
/* A listing as entries and their count (NULL and 0 on failure). */
static NTSTATUS list(TALLOC_CTX *mem, struct vfs_share *s, int fd, const char *rel, size_t max,
		     struct vfs_dirent **ents, size_t *n)
{
	struct vfs_listing *l;
	NTSTATUS st = s != NULL ? vfs_list_dir_share(mem, s, fd, rel, 0, max, &l) : vfs_list_dir(mem, fd, max, &l);
	*ents = NT_STATUS_IS_OK(st) ? l->ents : NULL;
	*n = NT_STATUS_IS_OK(st) ? l->n : 0;
	return st;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static int setup(void **state)
{
	struct tstate *t = calloc(1, sizeof(*t));
	char p[PATH_MAX], target[PATH_MAX + 32];
	const char *tmp;

	assert_non_null(t);
	t->fds_at_start = count_fds();
	t->mem = talloc_new(NULL);
	tmp = getenv("TMPDIR");
	snprintf(t->top, sizeof(t->top), "%s/porthos-test-vfs-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(t->top));
	xpath(t->share, t->top, "share");
	xpath(t->outside, t->top, "outside");
	xpath(t->secret, t->outside, "secret");
	assert_int_equal(mkdir(t->share, 0755), 0);
	assert_int_equal(mkdir(t->outside, 0755), 0);
	write_file(t->outside, "secret", "TOPSECRET");
	xpath(p, t->outside, "subd");
	assert_int_equal(mkdir(p, 0755), 0);

	write_file(t->share, "file.txt", "hello");
	xpath(p, t->share, "sub");
	assert_int_equal(mkdir(p, 0755), 0);
	write_file(p, "f2", "f2");
	make_link("../../outside", p, "up2");
	make_link("../file.txt", p, "in_up");

	make_link(t->outside, t->share, "abs_out");
	make_link(t->secret, t->share, "abs_secret");
	make_link(t->secret, t->share, "abs_secret2");
	xpath(p, t->share, "file.txt");
	make_link(p, t->share, "abs_in");
	xpath(p, t->outside, "created_abs");
	make_link(p, t->share, "abs_dangling");
	make_link("../outside", t->share, "up");
	make_link("../outside/created_rel", t->share, "rel_dangling");
	make_link("/proc/self/root", t->share, "proc_root");
	make_link("sub", t->share, "in_link");
	make_link("nowhere", t->share, "dangling");
	make_link("loop2", t->share, "loop1");
	make_link("loop1", t->share, "loop2");

	assert_status(vfs_share_open(t->mem, t->share, &t->s), NT_STATUS_OK);
	snprintf(target, sizeof(target), "/proc/self/fd/%d", t->s->root_fd);
	make_link(target, t->share, "proc_fd");

	*state = t;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	struct tstate *t = *state;

	int leaked;

	talloc_free(t->mem);
	nftw(t->top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	leaked = count_fds() - t->fds_at_start;
	free(t);
	if (leaked != 0) {
		print_error("%d file descriptor(s) leaked\n", leaked);
		return -1;
	}
	return 0;
}

/* --- path rules ------------------------------------------------------ */

static void test_path_table(void **state)
{
	static const struct {
		const char *in;
		uint32_t status;
		const char *out;
	} cases[] = {
		{ "", NT_STATUS_V_OK, "." },
		{ "file.txt", NT_STATUS_V_OK, "file.txt" },
		{ "dir\\file.txt", NT_STATUS_V_OK, "dir/file.txt" },
		{ "dir\\", NT_STATUS_V_OK, "dir" },
		{ "a\\b\\c d.e", NT_STATUS_V_OK, "a/b/c d.e" },
		{ "file.txt::$DATA", NT_STATUS_V_OK, "file.txt" },
		{ "d\\file::$data", NT_STATUS_V_OK, "d/file" },
		{ "na\xc3\xafve\xe2\x82\xac", NT_STATUS_V_OK, "na\xc3\xafve\xe2\x82\xac" },
		{ "...", NT_STATUS_V_OK, "..." },
		{ ".hidden", NT_STATUS_V_OK, ".hidden" },
		{ "\\file.txt", NT_STATUS_V_INVALID_PARAMETER, NULL },
		{ "\\", NT_STATUS_V_INVALID_PARAMETER, NULL },
		{ "a\\\\b", NT_STATUS_V_OBJECT_NAME_INVALID, NULL },
		{ "dir\\\\", NT_STATUS_V_OBJECT_NAME_INVALID, NULL },
		{ "..", NT_STATUS_V_OBJECT_PATH_SYNTAX_BAD, NULL },
		{ "..\\secret", NT_STATUS_V_OBJECT_PATH_SYNTAX_BAD, NULL },
		{ "..\\..\\outside\\secret", NT_STATUS_V_OBJECT_PATH_SYNTAX_BAD, NULL },
		{ "sub\\..\\..\\outside", NT_STATUS_V_OBJECT_PATH_SYNTAX_BAD, NULL },
		{ "sub\\..", NT_STATUS_V_OBJECT_PATH_SYNTAX_BAD, NULL },
		{ "..::$DATA", NT_STATUS_V_OBJECT_PATH_SYNTAX_BAD, NULL },
		{ ".", NT_STATUS_V_OBJECT_NAME_INVALID, NULL },
		{ "sub\\.", NT_STATUS_V_OBJECT_NAME_INVALID, NULL },
		{ ".\\file", NT_STATUS_V_OBJECT_PATH_NOT_FOUND, NULL },
		{ "a/b", NT_STATUS_V_OBJECT_NAME_INVALID, NULL },
		{ "/etc/passwd", NT_STATUS_V_OBJECT_NAME_INVALID, NULL },
		{ "a*", NT_STATUS_V_OBJECT_NAME_INVALID, NULL },
		{ "a?", NT_STATUS_V_OBJECT_NAME_INVALID, NULL },
		{ "a<", NT_STATUS_V_OBJECT_NAME_INVALID, NULL },
		{ "a>", NT_STATUS_V_OBJECT_NAME_INVALID, NULL },
		{ "a|b", NT_STATUS_V_OBJECT_NAME_INVALID, NULL },
		{ "a\"b", NT_STATUS_V_OBJECT_NAME_INVALID, NULL },
		{ "a\x01", NT_STATUS_V_OBJECT_NAME_INVALID, NULL },
		{ "d\\a\x1f\\b", NT_STATUS_V_OBJECT_NAME_INVALID, NULL },
		{ "file:stream", NT_STATUS_V_OBJECT_NAME_INVALID, NULL },
		/* Previous-version tokens: no snapshot is served, none is a name. */
		{ "@GMT-2026.01.01-00.00.00", NT_STATUS_V_OBJECT_NAME_NOT_FOUND, NULL },
		{ "d\\@gmt-2026.01.01-00.00.00\\f", NT_STATUS_V_OBJECT_NAME_NOT_FOUND, NULL },
		{ "@GMT-2026.01.01-00.00.00\\..\\x", NT_STATUS_V_OBJECT_PATH_SYNTAX_BAD, NULL },
		{ "@GMT-2026.01.01-00.00.0", NT_STATUS_V_OK, "@GMT-2026.01.01-00.00.0" },
		{ "file:stream:$DATA", NT_STATUS_V_OBJECT_NAME_INVALID, NULL },
		{ "file:", NT_STATUS_V_OBJECT_NAME_INVALID, NULL },
		{ "::$DATA", NT_STATUS_V_OBJECT_NAME_INVALID, NULL },
		{ "d::$DATA\\f", NT_STATUS_V_OBJECT_NAME_INVALID, NULL },
		{ "c:\\windows", NT_STATUS_V_OBJECT_NAME_INVALID, NULL },
	};
	struct tstate *t = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *rel = (char *)"unset";
		NTSTATUS st = vfs_path_from_smb(t->mem, cases[i].in, &rel);

		if (NT_STATUS_V(st) != cases[i].status)
			fail_msg("case %zu \"%s\": got %s, want %s", i, cases[i].in,
				 nt_errstr(st), nt_errstr(NT_STATUS(cases[i].status)));
		if (cases[i].out != NULL)
			assert_string_equal(rel, cases[i].out);
		else
			assert_null(rel);
	}
}

static void test_path_lengths(void **state)
{
	struct tstate *t = *state;
	char name[300], path[PATH_MAX + 8];
	char *rel;

	memset(name, 'x', 255);
	name[255] = '\0';
	assert_status(vfs_path_from_smb(t->mem, name, &rel), NT_STATUS_OK);
	assert_int_equal(strlen(rel), 255);
	/* 255 bytes with a stream suffix is still a 255-byte name. */
	snprintf(path, sizeof(path), "%s::$DATA", name);
	assert_status(vfs_path_from_smb(t->mem, path, &rel), NT_STATUS_OK);
	name[255] = 'x';
	name[256] = '\0';
	assert_status(vfs_path_from_smb(t->mem, name, &rel), NT_STATUS_OBJECT_NAME_INVALID);
	/* 2-byte UTF-8 chars count as bytes: 128 x 2 = 256 > 255. */
	for (int i = 0; i < 128; i++) {
		name[2 * i] = '\xc3';
		name[2 * i + 1] = '\xa9';
	}
	name[256] = '\0';
	assert_status(vfs_path_from_smb(t->mem, name, &rel), NT_STATUS_OBJECT_NAME_INVALID);

	/* Whole path >= PATH_MAX. */
	for (size_t i = 0; i < PATH_MAX; i++)
		path[i] = (i % 10 == 9) ? '\\' : 'a';
	path[PATH_MAX] = '\0';
	assert_status(vfs_path_from_smb(t->mem, path, &rel), NT_STATUS_NAME_TOO_LONG);
	path[PATH_MAX - 2] = '\0';	/* ends in "a", 4094 bytes */
	assert_status(vfs_path_from_smb(t->mem, path, &rel), NT_STATUS_OK);
	assert_status(vfs_path_from_smb(t->mem, NULL, &rel), NT_STATUS_INVALID_PARAMETER);
}

static void test_path_split(void **state)
{
	struct tstate *t = *state;
	char *p, *l;

	assert_status(vfs_path_split(t->mem, "a/b/c", &p, &l), NT_STATUS_OK);
	assert_string_equal(p, "a/b");
	assert_string_equal(l, "c");
	assert_status(vfs_path_split(t->mem, "file", &p, &l), NT_STATUS_OK);
	assert_string_equal(p, ".");
	assert_string_equal(l, "file");
	assert_status(vfs_path_split(t->mem, "/x", &p, &l), NT_STATUS_OK);
	assert_string_equal(p, "/");
	assert_status(vfs_path_split(t->mem, ".", &p, &l), NT_STATUS_OBJECT_NAME_INVALID);
	assert_status(vfs_path_split(t->mem, "", &p, &l), NT_STATUS_OBJECT_NAME_INVALID);
	assert_status(vfs_path_split(t->mem, "a/..", &p, &l), NT_STATUS_OBJECT_NAME_INVALID);
	assert_status(vfs_path_split(t->mem, "..", &p, &l), NT_STATUS_OBJECT_NAME_INVALID);
	assert_status(vfs_path_split(t->mem, "a/.", &p, &l), NT_STATUS_OBJECT_NAME_INVALID);
	assert_status(vfs_path_split(t->mem, "a/", &p, &l), NT_STATUS_OBJECT_NAME_INVALID);
	assert_null(p);
	assert_null(l);
}

/* --- confinement ----------------------------------------------------- */

/* A rel that bypasses the parser, straight into the vfs. */
static void test_escape_raw_dotdot(void **state)
{
	struct tstate *t = *state;
	struct stat st;
	int fd;

	assert_status(vfs_open(t->s, "../outside/secret", O_RDONLY, 0, &fd), NT_STATUS_ACCESS_DENIED);
	assert_int_equal(fd, -1);
	assert_status(vfs_open(t->s, "sub/../../outside/secret", O_RDONLY, 0, &fd),
		      NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_open(t->s, "..", O_PATH, 0, &fd), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_stat(t->s, "../outside/secret", &st), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_lstat(t->s, "../outside/secret", &st), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_open(t->s, "../outside/new", O_CREAT | O_WRONLY, 0644, &fd),
		      NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_mkdir(t->s, "../outside/newdir", 0755), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_unlink(t->s, "../outside/secret"), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_rmdir(t->s, "../outside/subd"), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_rename(t->s, "file.txt", "../outside/stolen", false),
		      NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_rename(t->s, "../outside/secret", "got", false), NT_STATUS_ACCESS_DENIED);
	/* Leaves ".." and "." never reach an *at() call. */
	assert_status(vfs_unlink(t->s, "sub/.."), NT_STATUS_OBJECT_NAME_INVALID);
	assert_status(vfs_rmdir(t->s, ".."), NT_STATUS_OBJECT_NAME_INVALID);
	assert_status(vfs_rename(t->s, "sub/..", "x", false), NT_STATUS_OBJECT_NAME_INVALID);
	assert_true(exists_at(t->share, "file.txt"));
	assert_false(exists_at(t->share, "got"));
	assert_outside_untouched(t);
}

static void test_escape_absolute(void **state)
{
	struct tstate *t = *state;
	struct stat st;
	int fd;

	assert_status(vfs_open(t->s, "/etc/passwd", O_RDONLY, 0, &fd), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_open(t->s, t->secret, O_RDONLY, 0, &fd), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_open(t->s, "/", O_PATH, 0, &fd), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_stat(t->s, t->secret, &st), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_unlink(t->s, t->secret), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_link(t->s, t->secret, "hl", false), NT_STATUS_ACCESS_DENIED);
	assert_false(exists_at(t->share, "hl"));
	assert_outside_untouched(t);
}

static void test_escape_abs_symlink(void **state)
{
	struct tstate *t = *state;
	struct vfs_dos_info di;
	struct vfs_dirent *ents;
	struct stat st;
	size_t n;
	int fd;

	assert_status(vfs_open(t->s, "abs_secret", O_RDONLY, 0, &fd), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_open(t->s, "abs_secret", O_PATH, 0, &fd), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_open(t->s, "abs_secret", O_WRONLY | O_TRUNC, 0, &fd),
		      NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_stat(t->s, "abs_secret", &st), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_open(t->s, "abs_out/secret", O_RDONLY, 0, &fd), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_open(t->s, "abs_out", O_RDONLY | O_DIRECTORY, 0, &fd),
		      NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_stat(t->s, "abs_out/secret", &st), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_lstat(t->s, "abs_out/secret", &st), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_mkdir(t->s, "abs_out/newdir", 0755), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_mkdir(t->s, "abs_out/subd/newdir", 0755), NT_STATUS_ACCESS_DENIED);
	/* Create a file through a symlinked directory. */
	assert_status(vfs_open(t->s, "abs_out/newfile", O_CREAT | O_WRONLY, 0644, &fd),
		      NT_STATUS_ACCESS_DENIED);
	/* O_CREAT through a dangling final symlink would create its target. */
	assert_status(vfs_open(t->s, "abs_dangling", O_CREAT | O_WRONLY, 0644, &fd),
		      NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_unlink(t->s, "abs_out/secret"), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_rmdir(t->s, "abs_out/subd"), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_dos_get_at(t->s, "abs_secret", NULL, &di), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_dos_set_at(t->s, "abs_secret", VFS_DOS_ATTR_HIDDEN, 1),
		      NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_link(t->s, "abs_out/secret", "hl", false), NT_STATUS_ACCESS_DENIED);
	assert_false(exists_at(t->share, "hl"));
	/* Absolute links are refused even when they point back inside. */
	assert_status(vfs_open(t->s, "abs_in", O_RDONLY, 0, &fd), NT_STATUS_ACCESS_DENIED);

	/* Listing: escaping links show as links, never with target data. */
	assert_status(vfs_open(t->s, ".", O_PATH | O_DIRECTORY, 0, &fd), NT_STATUS_OK);
	assert_status(list(t->mem, t->s, fd, ".", 100, &ents, &n), NT_STATUS_OK);
	close(fd);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(ents[i].name, "abs_", 4) == 0 || strcmp(ents[i].name, "up") == 0 ||
		    strncmp(ents[i].name, "proc_", 5) == 0 ||
		    strcmp(ents[i].name, "rel_dangling") == 0)
			assert_true(S_ISLNK(ents[i].st.st_mode));
	}
	/* Listing the escaping directory itself is refused at the open. */
	assert_status(vfs_open(t->s, "abs_out", O_PATH | O_DIRECTORY, 0, &fd),
		      NT_STATUS_ACCESS_DENIED);
	assert_outside_untouched(t);
}

static void test_escape_relative_up(void **state)
{
	struct tstate *t = *state;
	struct stat st;
	int fd;

	assert_status(vfs_open(t->s, "up/secret", O_RDONLY, 0, &fd), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_open(t->s, "sub/up2/secret", O_RDONLY, 0, &fd), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_open(t->s, "in_link/up2/secret", O_RDONLY, 0, &fd),
		      NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_stat(t->s, "sub/up2", &st), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_mkdir(t->s, "up/newdir", 0755), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_open(t->s, "sub/up2/newfile", O_CREAT | O_WRONLY, 0644, &fd),
		      NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_open(t->s, "rel_dangling", O_CREAT | O_WRONLY, 0644, &fd),
		      NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_unlink(t->s, "sub/up2/secret"), NT_STATUS_ACCESS_DENIED);
	assert_outside_untouched(t);
}

static void test_escape_proc(void **state)
{
	struct tstate *t = *state;
	struct vfs_share *ps;
	char rel[32];
	int fd;

	assert_status(vfs_open(t->s, "proc_root/etc/passwd", O_RDONLY, 0, &fd),
		      NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_open(t->s, "proc_root", O_PATH, 0, &fd), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_open(t->s, "proc_fd", O_PATH, 0, &fd), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_open(t->s, "proc_fd/../outside/secret", O_RDONLY, 0, &fd),
		      NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_mkdir(t->s, "proc_fd/x", 0755), NT_STATUS_ACCESS_DENIED);

	/*
	 * A share that contains magic links itself (rooted at /proc/self):
	 * RESOLVE_NO_MAGICLINKS must refuse them (ELOOP).
	 */
	assert_status(vfs_share_open(t->mem, "/proc/self", &ps), NT_STATUS_OK);
	assert_status(vfs_open(ps, "root/etc/passwd", O_RDONLY, 0, &fd),
		      NT_STATUS_OBJECT_PATH_NOT_FOUND);
	assert_status(vfs_open(ps, "root", O_PATH, 0, &fd), NT_STATUS_OBJECT_PATH_NOT_FOUND);
	assert_status(vfs_open(ps, "cwd", O_PATH, 0, &fd), NT_STATUS_OBJECT_PATH_NOT_FOUND);
	assert_status(vfs_open(ps, "exe", O_RDONLY, 0, &fd), NT_STATUS_OBJECT_PATH_NOT_FOUND);
	snprintf(rel, sizeof(rel), "fd/%d", t->s->root_fd);
	assert_status(vfs_open(ps, rel, O_PATH, 0, &fd), NT_STATUS_OBJECT_PATH_NOT_FOUND);
	snprintf(rel, sizeof(rel), "fd/%d/file.txt", t->s->root_fd);
	assert_status(vfs_open(ps, rel, O_RDONLY, 0, &fd), NT_STATUS_OBJECT_PATH_NOT_FOUND);
	/* An ordinary file there is fine. */
	assert_status(vfs_open(ps, "status", O_RDONLY, 0, &fd), NT_STATUS_OK);
	close(fd);
	talloc_free(ps);
	assert_outside_untouched(t);
}

/* A symlink as the last component: the link is acted on, not its target. */
static void test_symlink_leaf(void **state)
{
	struct tstate *t = *state;
	struct stat st;

	assert_status(vfs_lstat(t->s, "abs_secret", &st), NT_STATUS_OK);
	assert_true(S_ISLNK(st.st_mode));

	assert_status(vfs_unlink(t->s, "abs_secret"), NT_STATUS_OK);
	assert_false(exists_at(t->share, "abs_secret"));
	assert_outside_untouched(t);

	assert_status(vfs_rename(t->s, "abs_out", "renamed_link", false), NT_STATUS_OK);
	assert_status(vfs_lstat(t->s, "renamed_link", &st), NT_STATUS_OK);
	assert_true(S_ISLNK(st.st_mode));
	assert_outside_untouched(t);

	/* Replacing a link with a file replaces the link. */
	assert_status(vfs_rename(t->s, "file.txt", "abs_secret2", true), NT_STATUS_OK);
	assert_status(vfs_lstat(t->s, "abs_secret2", &st), NT_STATUS_OK);
	assert_true(S_ISREG(st.st_mode));
	assert_outside_untouched(t);

	/* A link to a directory is not a directory; unlink removes the link. */
	assert_status(vfs_rmdir(t->s, "up"), NT_STATUS_NOT_A_DIRECTORY);
	assert_status(vfs_rmdir(t->s, "in_link"), NT_STATUS_NOT_A_DIRECTORY);
	assert_true(exists_at(t->share, "sub"));
	assert_status(vfs_unlink(t->s, "up"), NT_STATUS_OK);
	assert_status(vfs_unlink(t->s, "sub/up2"), NT_STATUS_OK);
	/* mkdir over an existing link does not follow it. */
	assert_status(vfs_mkdir(t->s, "abs_dangling", 0755), NT_STATUS_OBJECT_NAME_COLLISION);
	assert_status(vfs_mkdir(t->s, "rel_dangling", 0755), NT_STATUS_OBJECT_NAME_COLLISION);
	assert_status(vfs_unlink(t->s, "abs_dangling"), NT_STATUS_OK);
	assert_outside_untouched(t);
}

static void test_escape_rename_via_parent(void **state)
{
	struct tstate *t = *state;

	assert_status(vfs_rename(t->s, "file.txt", "abs_out/stolen", false), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_rename(t->s, "file.txt", "abs_out/secret", true), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_rename(t->s, "file.txt", "up/stolen", false), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_rename(t->s, "file.txt", "sub/up2/stolen", true), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_rename(t->s, "file.txt", "proc_fd/stolen", true), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_rename(t->s, "abs_out/secret", "got", false), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_rename(t->s, "up/subd", "got", false), NT_STATUS_ACCESS_DENIED);
	assert_true(exists_at(t->share, "file.txt"));
	assert_false(exists_at(t->share, "got"));
	assert_outside_untouched(t);
}

static void test_escape_link(void **state)
{
	struct tstate *t = *state;
	struct stat st;
	int fd;

	assert_status(vfs_link(t->s, "../outside/secret", "hl", false), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_link(t->s, "../outside/secret", "hl", true), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_link(t->s, "abs_out/secret", "hl", false), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_link(t->s, "up/secret", "hl", false), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_link(t->s, "sub/up2/secret", "hl", false), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_link(t->s, "file.txt", "abs_out/hl", false), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_link(t->s, "file.txt", "../outside/hl", false), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_link(t->s, "file.txt", "abs_out/secret", true), NT_STATUS_ACCESS_DENIED);
	assert_false(exists_at(t->share, "hl"));
	assert_outside_untouched(t);

	/* Linking an escaping symlink links the symlink, not the secret. */
	assert_status(vfs_link(t->s, "abs_secret", "hl_to_link", false), NT_STATUS_OK);
	assert_status(vfs_lstat(t->s, "hl_to_link", &st), NT_STATUS_OK);
	assert_true(S_ISLNK(st.st_mode));
	assert_status(vfs_open(t->s, "hl_to_link", O_RDONLY, 0, &fd), NT_STATUS_ACCESS_DENIED);
	assert_outside_untouched(t);
}

static void test_in_share_symlinks(void **state)
{
	struct tstate *t = *state;
	struct vfs_dirent *ents;
	struct stat st, fst;
	char buf[8];
	size_t n, got;
	int fd, dfd;

	assert_status(vfs_open(t->s, "in_link/f2", O_RDONLY, 0, &fd), NT_STATUS_OK);
	assert_status(vfs_pread(fd, buf, sizeof(buf), 0, &got), NT_STATUS_OK);
	assert_int_equal(got, 2);
	assert_memory_equal(buf, "f2", 2);
	close(fd);

	assert_status(vfs_stat(t->s, "file.txt", &fst), NT_STATUS_OK);
	assert_status(vfs_stat(t->s, "sub/in_up", &st), NT_STATUS_OK);
	assert_int_equal(st.st_ino, fst.st_ino);
	assert_status(vfs_stat(t->s, "in_link/in_up", &st), NT_STATUS_OK);
	assert_int_equal(st.st_ino, fst.st_ino);
	assert_status(vfs_stat(t->s, "in_link", &st), NT_STATUS_OK);
	assert_true(S_ISDIR(st.st_mode));
	assert_status(vfs_mkdir(t->s, "in_link/newd", 0755), NT_STATUS_OK);
	assert_status(vfs_stat(t->s, "sub/newd", &st), NT_STATUS_OK);
	assert_true(S_ISDIR(st.st_mode));

	assert_status(vfs_open(t->s, "dangling", O_RDONLY, 0, &fd), NT_STATUS_OBJECT_NAME_NOT_FOUND);
	assert_status(vfs_open(t->s, "loop1", O_RDONLY, 0, &fd), NT_STATUS_OBJECT_PATH_NOT_FOUND);
	/* O_CREAT through an in-share dangling link creates its target. */
	assert_status(vfs_open(t->s, "dangling", O_CREAT | O_WRONLY, 0644, &fd), NT_STATUS_OK);
	close(fd);
	assert_true(exists_at(t->share, "nowhere"));
	assert_status(vfs_unlink(t->s, "nowhere"), NT_STATUS_OK);

	/* Listing the root: in-share links report their targets. */
	assert_status(vfs_open(t->s, ".", O_PATH | O_DIRECTORY, 0, &dfd), NT_STATUS_OK);
	assert_status(list(t->mem, t->s, dfd, ".", 100, &ents, &n), NT_STATUS_OK);
	close(dfd);
	for (size_t i = 0; i < n; i++) {
		const char *nm = ents[i].name;

		assert_true(strcmp(nm, ".") != 0 && strcmp(nm, "..") != 0);
		if (strcmp(nm, "in_link") == 0)
			assert_true(S_ISDIR(ents[i].st.st_mode));
		if (strcmp(nm, "file.txt") == 0)
			assert_true(S_ISREG(ents[i].st.st_mode));
		if (strcmp(nm, "dangling") == 0 || strcmp(nm, "loop1") == 0)
			assert_true(S_ISLNK(ents[i].st.st_mode));
	}
	assert_int_equal(n, 15);

	/* In sub: in_up climbs but stays in the share. */
	assert_status(vfs_open(t->s, "sub", O_RDONLY | O_DIRECTORY, 0, &dfd), NT_STATUS_OK);
	assert_status(list(t->mem, t->s, dfd, "sub", 100, &ents, &n), NT_STATUS_OK);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(ents[i].name, "in_up") == 0)
			assert_int_equal(ents[i].st.st_ino, fst.st_ino);
		if (strcmp(ents[i].name, "up2") == 0)
			assert_true(S_ISLNK(ents[i].st.st_mode));
	}
	assert_int_equal(n, 4);
	/* Without the share, resolution is confined beneath sub itself. */
	assert_status(list(t->mem, NULL, dfd, NULL, 100, &ents, &n), NT_STATUS_OK);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(ents[i].name, "in_up") == 0 || strcmp(ents[i].name, "up2") == 0)
			assert_true(S_ISLNK(ents[i].st.st_mode));
	}
	/* The caller's fd position is not used: a second listing is equal. */
	assert_status(list(t->mem, NULL, dfd, NULL, 100, &ents, &n), NT_STATUS_OK);
	assert_int_equal(n, 4);
	close(dfd);
	assert_outside_untouched(t);
}

/* --- statuses and operations ----------------------------------------- */

static void test_open_statuses(void **state)
{
	struct tstate *t = *state;
	int fd;

	assert_status(vfs_open(t->s, "missing", O_RDONLY, 0, &fd), NT_STATUS_OBJECT_NAME_NOT_FOUND);
	assert_status(vfs_open(t->s, "sub/missing", O_RDONLY, 0, &fd),
		      NT_STATUS_OBJECT_NAME_NOT_FOUND);
	assert_status(vfs_open(t->s, "nodir/x", O_RDONLY, 0, &fd), NT_STATUS_OBJECT_PATH_NOT_FOUND);
	assert_status(vfs_open(t->s, "nodir/x", O_CREAT | O_RDWR, 0644, &fd),
		      NT_STATUS_OBJECT_PATH_NOT_FOUND);
	assert_status(vfs_open(t->s, "file.txt/x", O_RDONLY, 0, &fd),
		      NT_STATUS_OBJECT_PATH_NOT_FOUND);
	assert_status(vfs_open(t->s, "file.txt", O_RDONLY | O_DIRECTORY, 0, &fd),
		      NT_STATUS_NOT_A_DIRECTORY);
	assert_status(vfs_open(t->s, "sub", O_RDWR, 0, &fd), NT_STATUS_FILE_IS_A_DIRECTORY);
	assert_status(vfs_open(t->s, "file.txt", O_CREAT | O_EXCL | O_RDWR, 0644, &fd),
		      NT_STATUS_OBJECT_NAME_COLLISION);
	assert_status(vfs_open(t->s, "", O_RDONLY, 0, &fd), NT_STATUS_INVALID_PARAMETER);
	assert_status(vfs_open(t->s, NULL, O_RDONLY, 0, &fd), NT_STATUS_INVALID_PARAMETER);
	assert_status(vfs_open(t->s, ".", O_RDONLY | O_DIRECTORY, 0, &fd), NT_STATUS_OK);
	close(fd);

	assert_status(vfs_mkdir(t->s, "sub", 0755), NT_STATUS_OBJECT_NAME_COLLISION);
	assert_status(vfs_mkdir(t->s, ".", 0755), NT_STATUS_OBJECT_NAME_COLLISION);
	assert_status(vfs_mkdir(t->s, "nodir/x", 0755), NT_STATUS_OBJECT_PATH_NOT_FOUND);
	assert_status(vfs_rmdir(t->s, "sub"), NT_STATUS_DIRECTORY_NOT_EMPTY);
	assert_status(vfs_rmdir(t->s, "file.txt"), NT_STATUS_NOT_A_DIRECTORY);
	assert_status(vfs_rmdir(t->s, "."), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_unlink(t->s, "sub"), NT_STATUS_FILE_IS_A_DIRECTORY);
	assert_status(vfs_unlink(t->s, "."), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_unlink(t->s, "missing"), NT_STATUS_OBJECT_NAME_NOT_FOUND);
	assert_status(vfs_rename(t->s, ".", "x", false), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_mkdir(t->s, "newdir", 0755), NT_STATUS_OK);
	assert_status(vfs_rmdir(t->s, "newdir"), NT_STATUS_OK);
}

/* held: an open fd of a file whose last name is gone, holding data; closes it. */
static void assert_held_unlinked(int held, const char *data)
{
	struct stat st;
	char got[16] = { 0 };
	size_t len = strlen(data);

	assert_true(held >= 0);
	assert_status(vfs_fstat(held, &st), NT_STATUS_OK);
	assert_int_equal(st.st_nlink, 0);
	assert_int_equal(pread(held, got, sizeof(got) - 1, 0), (ssize_t)len);
	assert_string_equal(got, data);
	close(held);
}

static void test_rename_link(void **state)
{
	struct tstate *t = *state;
	struct vfs_dirent *ents;
	struct stat a, b;
	size_t n;
	int fd;

	write_file(t->share, "a", "A");
	write_file(t->share, "b", "B");
	assert_status(vfs_rename(t->s, "a", "b", false), NT_STATUS_OBJECT_NAME_COLLISION);
	assert_status(vfs_rename(t->s, "a", "sub", true), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_mkdir(t->s, "emptydir", 0755), NT_STATUS_OK);
	assert_status(vfs_rename(t->s, "sub", "emptydir", true), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_rename(t->s, "sub", "emptydir", false), NT_STATUS_OBJECT_NAME_COLLISION);
	assert_status(vfs_rename(t->s, "missing", "c", false), NT_STATUS_OBJECT_NAME_NOT_FOUND);
	assert_status(vfs_rename(t->s, "a", "nodir/c", false), NT_STATUS_OBJECT_PATH_NOT_FOUND);
	assert_status(vfs_stat(t->s, "a", &a), NT_STATUS_OK);
	assert_status(vfs_rename(t->s, "a", "b", true), NT_STATUS_OK);
	assert_status(vfs_stat(t->s, "b", &b), NT_STATUS_OK);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_status(vfs_rename(t->s, "b", "sub/moved", false), NT_STATUS_OK);
	assert_status(vfs_rename(t->s, "emptydir", "sub/movedd", false), NT_STATUS_OK);

	/* The file a rename replaces is held open across it, its data
	 * intact, its name gone; with nothing replaced, nothing is held. */
	write_file(t->share, "new", "NEW");
	write_file(t->share, "old", "OLD");
	int held = 99;
	assert_status(vfs_rename_holding(t->s, "new", "old", true, &held), NT_STATUS_OK);
	assert_held_unlinked(held, "OLD");
	assert_status(vfs_rename_holding(t->s, "old", "fresh", true, &held), NT_STATUS_OK);
	assert_int_equal(held, -1);
	assert_status(vfs_rename_holding(t->s, "fresh", "sub", true, &held), NT_STATUS_ACCESS_DENIED);
	assert_int_equal(held, -1);

	/* Hard links. */
	write_file(t->share, "x", "X");
	write_file(t->share, "y", "Y");
	assert_status(vfs_link(t->s, "x", "y", false), NT_STATUS_OBJECT_NAME_COLLISION);
	assert_status(vfs_link(t->s, "x", "sub", true), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_link(t->s, "sub", "subl", false), NT_STATUS_FILE_IS_A_DIRECTORY);
	assert_status(vfs_link(t->s, "x", "y", true), NT_STATUS_OK);
	assert_status(vfs_stat(t->s, "x", &a), NT_STATUS_OK);
	assert_status(vfs_stat(t->s, "y", &b), NT_STATUS_OK);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(a.st_nlink, 2);
	/* Already the same inode: nothing changes, no temporary left. */
	assert_status(vfs_link(t->s, "x", "y", true), NT_STATUS_OK);
	assert_status(vfs_link(t->s, "x", "sub/z", false), NT_STATUS_OK);
	assert_status(vfs_stat(t->s, "x", &a), NT_STATUS_OK);
	assert_int_equal(a.st_nlink, 3);
	/* A link over a file holds the replaced one as a rename does. */
	write_file(t->share, "lold", "LOLD");
	assert_status(vfs_link_holding(t->s, "x", "lold", true, &held), NT_STATUS_OK);
	assert_held_unlinked(held, "LOLD");
	assert_status(vfs_stat(t->s, "lold", &b), NT_STATUS_OK);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_status(vfs_link_holding(t->s, "x", "lnew", true, &held), NT_STATUS_OK);
	assert_int_equal(held, -1);
	assert_status(vfs_link_holding(t->s, "x", "sub", true, &held), NT_STATUS_ACCESS_DENIED);
	assert_int_equal(held, -1);
	assert_status(vfs_open(t->s, ".", O_PATH | O_DIRECTORY, 0, &fd), NT_STATUS_OK);
	assert_status(list(t->mem, NULL, fd, NULL, 100, &ents, &n), NT_STATUS_OK);
	close(fd);
	for (size_t i = 0; i < n; i++)
		assert_true(strncmp(ents[i].name, ".porthos-link-", 14) != 0);
	assert_outside_untouched(t);
}

static void test_io(void **state)
{
	struct tstate *t = *state;
	static char big[100000], back[100001];
	struct timespec ts[2];
	struct statvfs sv;
	struct stat st, st2;
	size_t done;
	int fd, pfd, fd2;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	assert_status(vfs_open(t->s, "io.bin", O_CREAT | O_EXCL | O_RDWR, 0600, &fd), NT_STATUS_OK);
	assert_status(vfs_pwrite(fd, big, sizeof(big), 10, &done), NT_STATUS_OK);
	assert_int_equal(done, sizeof(big));
	assert_status(vfs_pread(fd, back, sizeof(back), 10, &done), NT_STATUS_OK);
	assert_int_equal(done, sizeof(big));
	assert_memory_equal(back, big, sizeof(big));
	assert_status(vfs_pread(fd, back, 10, sizeof(big) + 10, &done), NT_STATUS_OK);
	assert_int_equal(done, 0);
	assert_status(vfs_pread(fd, back, 10, 1ull << 63, &done), NT_STATUS_INVALID_PARAMETER);
	assert_status(vfs_pwrite(fd, big, 10, INT64_MAX - 5, &done), NT_STATUS_INVALID_PARAMETER);
	assert_status(vfs_fsync(fd), NT_STATUS_OK);

	assert_status(vfs_ftruncate(fd, 50), NT_STATUS_OK);
	assert_status(vfs_fstat(fd, &st), NT_STATUS_OK);
	assert_int_equal(st.st_size, 50);
	assert_status(vfs_fallocate(fd, 1 << 20), NT_STATUS_OK);
	assert_status(vfs_fstat(fd, &st), NT_STATUS_OK);
	assert_int_equal(st.st_size, 50);
	assert_true(st.st_blocks * 512 >= (1 << 20));
	assert_status(vfs_fallocate(fd, 0), NT_STATUS_OK);
	assert_status(vfs_ftruncate(fd, UINT64_MAX), NT_STATUS_INVALID_PARAMETER);

	/* mtime set, atime omitted. */
	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = 1000000000;
	ts[1].tv_nsec = 500;
	assert_status(vfs_futimens(fd, ts), NT_STATUS_OK);
	assert_status(vfs_fstat(fd, &st2), NT_STATUS_OK);
	assert_int_equal(st2.st_mtim.tv_sec, 1000000000);
	assert_int_equal(st2.st_mtim.tv_nsec, 500);
	assert_int_equal(st2.st_atim.tv_sec, st.st_atim.tv_sec);
	assert_int_equal(st2.st_atim.tv_nsec, st.st_atim.tv_nsec);
	close(fd);

	/* O_PATH: times work, I/O does not; vfs_reopen gives an I/O fd. */
	assert_status(vfs_open(t->s, "io.bin", O_PATH, 0, &pfd), NT_STATUS_OK);
	ts[0].tv_sec = 12345;
	ts[0].tv_nsec = 0;
	ts[1].tv_nsec = UTIME_OMIT;
	assert_status(vfs_futimens(pfd, ts), NT_STATUS_OK);
	assert_status(vfs_fstat(pfd, &st), NT_STATUS_OK);
	assert_int_equal(st.st_atim.tv_sec, 12345);
	assert_int_equal(st.st_mtim.tv_sec, 1000000000);
	assert_status(vfs_pread(pfd, back, 10, 0, &done), NT_STATUS_INVALID_HANDLE);
	assert_status(vfs_reopen(t->s, "io.bin", pfd, O_RDWR | O_TRUNC, &fd2),
		      NT_STATUS_INVALID_PARAMETER);
	assert_status(vfs_reopen(t->s, "io.bin", pfd, O_RDWR, &fd2), NT_STATUS_OK);
	assert_status(vfs_pread(fd2, back, 10, 0, &done), NT_STATUS_OK);
	assert_int_equal(done, 10);
	close(fd2);
	/* Another file renamed over the name: not the same object any more. */
	write_file(t->share, "other", "o");
	assert_status(vfs_rename(t->s, "other", "io.bin", true), NT_STATUS_OK);
	assert_status(vfs_reopen(t->s, "io.bin", pfd, O_RDWR, &fd2), NT_STATUS_FILE_RENAMED);
	assert_int_equal(fd2, -1);
	close(pfd);

	assert_status(vfs_statvfs(t->s, &sv), NT_STATUS_OK);
	assert_true(sv.f_bsize > 0);
}

static void test_dosattr(void **state)
{
	struct tstate *t = *state;
	struct vfs_dos_info di;
	uint8_t raw[32];
	struct stat st;
	ssize_t n;
	int fd, dfd, pfd;

	assert_status(vfs_open(t->s, "file.txt", O_RDONLY, 0, &fd), NT_STATUS_OK);
	assert_status(vfs_fstat(fd, &st), NT_STATUS_OK);

	/* No xattr yet: derived, never READONLY. */
	assert_status(vfs_dos_get(fd, &st, &di), NT_STATUS_OK);
	assert_false(di.from_xattr);
	assert_int_equal(di.attributes, VFS_DOS_ATTR_ARCHIVE);
	assert_true(di.creation_time > 116444736000000000ull);
	assert_int_equal(fchmod(fd, 0444), 0);
	assert_status(vfs_fstat(fd, &st), NT_STATUS_OK);
	assert_status(vfs_dos_get(fd, &st, &di), NT_STATUS_OK);
	assert_int_equal(di.attributes, VFS_DOS_ATTR_ARCHIVE);
	assert_int_equal(fchmod(fd, 0644), 0);

	/* The test tree's file system may lack user xattrs (old tmpfs). */
	if (fsetxattr(fd, "user.porthos.probe", "1", 1, 0) != 0 && errno == ENOTSUP) {
		close(fd);
		skip();
	}

	/* Round trip; the record is the documented 16 LE bytes. */
	assert_status(vfs_dos_set(fd, VFS_DOS_ATTR_HIDDEN | VFS_DOS_ATTR_SYSTEM,
				  0x01d0000000001234ull), NT_STATUS_OK);
	n = fgetxattr(fd, VFS_DOS_XATTR_NAME, raw, sizeof(raw));
	assert_int_equal(n, 16);
	assert_int_equal(le32(raw), 1);
	assert_int_equal(le32(raw + 4), VFS_DOS_ATTR_HIDDEN | VFS_DOS_ATTR_SYSTEM);
	assert_true(le64(raw + 8) == 0x01d0000000001234ull);
	assert_status(vfs_dos_get(fd, &st, &di), NT_STATUS_OK);
	assert_true(di.from_xattr);
	assert_int_equal(di.attributes, VFS_DOS_ATTR_HIDDEN | VFS_DOS_ATTR_SYSTEM);
	assert_true(di.creation_time == 0x01d0000000001234ull);

	/* Nothing set reads as NORMAL; DIRECTORY is not stored for a file. */
	assert_status(vfs_dos_set(fd, VFS_DOS_ATTR_DIRECTORY, 5), NT_STATUS_OK);
	assert_status(vfs_dos_get(fd, &st, &di), NT_STATUS_OK);
	assert_true(di.from_xattr);
	assert_int_equal(di.attributes, VFS_DOS_ATTR_NORMAL);

	/* Unknown versions and sizes fall back to derived values. */
	put_le32(raw, 2);
	assert_int_equal(fsetxattr(fd, VFS_DOS_XATTR_NAME, raw, 16, 0), 0);
	assert_status(vfs_dos_get(fd, &st, &di), NT_STATUS_OK);
	assert_false(di.from_xattr);
	assert_int_equal(fsetxattr(fd, VFS_DOS_XATTR_NAME, "abc", 3, 0), 0);
	assert_status(vfs_dos_get(fd, &st, &di), NT_STATUS_OK);
	assert_false(di.from_xattr);
	assert_int_equal(fsetxattr(fd, VFS_DOS_XATTR_NAME, raw, 17, 0), 0);
	assert_status(vfs_dos_get(fd, &st, &di), NT_STATUS_OK);
	assert_false(di.from_xattr);
	close(fd);

	/* Directories always carry DIRECTORY. */
	assert_status(vfs_open(t->s, "sub", O_RDONLY | O_DIRECTORY, 0, &dfd), NT_STATUS_OK);
	assert_status(vfs_fstat(dfd, &st), NT_STATUS_OK);
	assert_status(vfs_dos_get(dfd, &st, &di), NT_STATUS_OK);
	assert_false(di.from_xattr);
	assert_int_equal(di.attributes, VFS_DOS_ATTR_DIRECTORY);
	assert_status(vfs_dos_set(dfd, VFS_DOS_ATTR_HIDDEN, 77), NT_STATUS_OK);
	assert_status(vfs_dos_get(dfd, &st, &di), NT_STATUS_OK);
	assert_int_equal(di.attributes, VFS_DOS_ATTR_HIDDEN | VFS_DOS_ATTR_DIRECTORY);
	close(dfd);

	/* O_PATH fds cannot carry xattrs: the _at forms can. */
	assert_status(vfs_open(t->s, "sub/f2", O_PATH, 0, &pfd), NT_STATUS_OK);
	assert_status(vfs_fstat(pfd, &st), NT_STATUS_OK);
	assert_status(vfs_dos_get(pfd, &st, &di), NT_STATUS_INVALID_HANDLE);
	assert_status(vfs_dos_set(pfd, 0, 0), NT_STATUS_INVALID_HANDLE);
	close(pfd);
	assert_status(vfs_dos_set_at(t->s, "sub/f2", VFS_DOS_ATTR_READONLY, 42), NT_STATUS_OK);
	assert_status(vfs_dos_get_at(t->s, "sub/f2", NULL, &di), NT_STATUS_OK);
	assert_true(di.from_xattr);
	assert_int_equal(di.attributes, VFS_DOS_ATTR_READONLY);
	assert_true(di.creation_time == 42);
	/* Through an in-share link, the target's record. */
	assert_status(vfs_dos_get_at(t->s, "in_link/f2", NULL, &di), NT_STATUS_OK);
	assert_true(di.creation_time == 42);
	assert_status(vfs_dos_get_at(t->s, "missing", NULL, &di), NT_STATUS_OBJECT_NAME_NOT_FOUND);
	/* A listing's entry, through its directory's fd (O_PATH will do). */
	assert_status(vfs_open(t->s, "sub", O_PATH | O_DIRECTORY, 0, &pfd), NT_STATUS_OK);
	assert_status(vfs_stat(t->s, "sub/f2", &st), NT_STATUS_OK);
	memset(&di, 0, sizeof(di));
	assert_status(vfs_dos_get_entry(pfd, "f2", &st, &di), NT_STATUS_OK);
	assert_true(di.from_xattr);
	assert_int_equal(di.attributes, VFS_DOS_ATTR_READONLY);
	assert_true(di.creation_time == 42);
	assert_status(vfs_dos_get_entry(pfd, "gone", &st, &di), NT_STATUS_OBJECT_NAME_NOT_FOUND);
	assert_status(vfs_dos_get_entry(pfd, "..", &st, &di), NT_STATUS_OBJECT_NAME_INVALID);
	assert_status(vfs_dos_get_entry(pfd, "../f", &st, &di), NT_STATUS_OBJECT_NAME_INVALID);
	close(pfd);
	/* A dangling link: derived from the link itself is not possible. */
	assert_status(vfs_dos_get_at(t->s, "dangling", NULL, &di), NT_STATUS_OBJECT_NAME_NOT_FOUND);

	/* What a listing shows for such a link. */
	assert_status(vfs_lstat(t->s, "dangling", &st), NT_STATUS_OK);
	vfs_dos_from_stat(&st, &di);
	assert_false(di.from_xattr);
	assert_int_equal(di.attributes, VFS_DOS_ATTR_ARCHIVE);
	assert_true(di.creation_time == fscc_nttime_from_timespec(&st.st_mtim));
	assert_true(di.change_time == fscc_nttime_from_timespec(&st.st_ctim));
	assert_false(di.change_time_set);

	/* A file system without user xattrs: sets succeed, gets derive. */
	fd = open("/proc/self/comm", O_RDONLY);	/* ours, writable: ENOTSUP */
	assert_true(fd >= 0);
	assert_status(vfs_fstat(fd, &st), NT_STATUS_OK);
	assert_status(vfs_dos_set(fd, VFS_DOS_ATTR_HIDDEN, 1), NT_STATUS_OK);
	assert_status(vfs_dos_get(fd, &st, &di), NT_STATUS_OK);
	assert_false(di.from_xattr);
	assert_int_equal(di.attributes, VFS_DOS_ATTR_ARCHIVE);
	close(fd);
}

static void test_file_id(void **state)
{
	struct stat st = { 0 };

	st.st_ino = 0x123456789ull;
	assert_true(vfs_file_id(&st) == 0x123456789ull);
}

static void test_list_cap(void **state)
{
	struct tstate *t = *state;
	struct vfs_dirent *ents;
	size_t n, before;
	char p[PATH_MAX], name[8];
	int fd;

	xpath(p, t->share, "many");
	assert_int_equal(mkdir(p, 0755), 0);
	assert_status(vfs_open(t->s, "many", O_RDONLY | O_DIRECTORY, 0, &fd), NT_STATUS_OK);
	assert_status(list(t->mem, NULL, fd, NULL, 0, &ents, &n), NT_STATUS_OK);
	assert_int_equal(n, 0);
	assert_null(ents);
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "f%02d", i);
		write_file(p, name, "x");
	}
	assert_status(list(t->mem, NULL, fd, NULL, 40, &ents, &n), NT_STATUS_OK);
	assert_int_equal(n, 40);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(strlen(ents[i].name), 3);
		assert_true(S_ISREG(ents[i].st.st_mode));
		assert_int_equal(ents[i].st.st_size, 1);
	}
	before = talloc_total_blocks(t->mem);
	assert_status(list(t->mem, NULL, fd, NULL, 39, &ents, &n), NT_STATUS_INSUFF_SERVER_RESOURCES);
	assert_null(ents);
	assert_int_equal(n, 0);
	assert_int_equal(talloc_total_blocks(t->mem), before);	/* nothing leaked */
	assert_status(list(t->mem, NULL, fd, NULL, 5, &ents, &n), NT_STATUS_INSUFF_SERVER_RESOURCES);
	close(fd);

	/* A file is not a directory to list. */
	assert_status(vfs_open(t->s, "file.txt", O_PATH, 0, &fd), NT_STATUS_OK);
	assert_status(list(t->mem, NULL, fd, NULL, 5, &ents, &n), NT_STATUS_NOT_A_DIRECTORY);
	close(fd);
}

/* Leading slots for the caller; a large listing in mappings of its own,
 * gone once it is freed. */
static void test_list_dir_lead_and_mapping(void **state)
{
	struct tstate *t = *state;
	char p[PATH_MAX], name[16];
	int fd;

	xpath(p, t->share, "big");
	assert_int_equal(mkdir(p, 0755), 0);
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "n%05d", i);
		write_file(p, name, "");
	}
	assert_status(vfs_open(t->s, "big", O_RDONLY | O_DIRECTORY, 0, &fd), NT_STATUS_OK);
	struct vfs_listing *l;
	assert_status(vfs_list_dir_share(t->mem, t->s, fd, "big", 2, 3000, &l), NT_STATUS_OK);
	assert_int_equal(l->n, 3002);
	assert_string_equal(l->ents[0].name, "");
	assert_string_equal(l->ents[1].name, "");
	assert_int_equal(l->ents[0].st.st_ino, 0);
	bool seen[3000] = { false };
	for (size_t i = 2; i < l->n; i++) {
		int k;
		assert_int_equal(sscanf(l->ents[i].name, "n%05d", &k), 1);
		assert_false(seen[k]);
		seen[k] = true;
	}
	/* 3,000 entries are over 256 KiB: the array is a mapping's start. */
#if defined(__SANITIZE_THREAD__)
	/* TSan's build grows a listing by fresh mappings (lib/mapbuf.c), which
	 * the kernel may show merged with a neighbour in /proc/self/maps: what
	 * is left to check is that it starts a page, as no heap block does. */
	assert_int_equal((uintptr_t)l->ents % (uintptr_t)sysconf(_SC_PAGESIZE), 0);
#else
	FILE *maps = fopen("/proc/self/maps", "r");
	char line[512];
	bool mapped = false;
	unsigned long start;
	while (fgets(line, sizeof(line), maps) != NULL)
		if (sscanf(line, "%lx-", &start) == 1 && start == (unsigned long)(uintptr_t)l->ents)
			mapped = true;
	fclose(maps);
	assert_true(mapped);
#endif
	/* Over the limit by the real entries, not the lead. */
	struct vfs_listing *none;
	assert_status(vfs_list_dir_share(t->mem, t->s, fd, "big", 2, 2999, &none), NT_STATUS_INSUFF_SERVER_RESOURCES);
	assert_null(none);
	talloc_free(l);
	close(fd);
}

static void test_share_open(void **state)
{
	struct tstate *t = *state;
	struct vfs_share *s;
	char p[PATH_MAX];

	assert_status(vfs_share_open(t->mem, "/nonexistent/porthos", &s),
		      NT_STATUS_OBJECT_NAME_NOT_FOUND);
	assert_null(s);
	xpath(p, t->share, "file.txt");
	assert_status(vfs_share_open(t->mem, p, &s), NT_STATUS_OBJECT_PATH_NOT_FOUND);
	assert_status(vfs_share_open(t->mem, "", &s), NT_STATUS_INVALID_PARAMETER);
}

/* --- case-insensitive lookup ------------------------------------------ */

/* vfs_resolve_case() must succeed with *exists_out == exists and give want. */
static void assert_resolves(struct tstate *t, const char *rel, const char *want, bool exists)
{
	char *disk = NULL;
	bool ex = !exists;
	NTSTATUS st = vfs_resolve_case(t->mem, t->s, rel, &disk, &ex);

	if (!NT_STATUS_IS_OK(st))
		fail_msg("resolve \"%s\": %s", rel, nt_errstr(st));
	if (strcmp(disk, want) != 0)
		fail_msg("resolve \"%s\": got \"%s\", want \"%s\"", rel, disk, want);
	if (ex != exists)
		fail_msg("resolve \"%s\": exists %d, want %d", rel, ex, exists);
}

static void assert_resolve_fails(struct tstate *t, const char *rel, NTSTATUS want)
{
	char *disk = (char *)"unset";
	bool ex = true;

	assert_status(vfs_resolve_case(t->mem, t->s, rel, &disk, &ex), want);
	assert_null(disk);
	assert_false(ex);
}

static uint64_t scans(struct tstate *t)
{
	return atomic_load(&t->s->case_scans);
}

static void test_case_resolve(void **state)
{
	struct tstate *t = *state;
	char p[PATH_MAX], buf[16];
	char *disk;
	size_t got;
	uint64_t n0;
	bool ex;
	int fd;

	xpath(p, t->share, "Dir1");
	assert_int_equal(mkdir(p, 0755), 0);
	xpath(p, t->share, "Dir1/SubDir");
	assert_int_equal(mkdir(p, 0755), 0);
	write_file(p, "File.TXT", "deep");
	/* Greek and Cyrillic capitals, as a Windows client may store them. */
	write_file(t->share, "\xce\x91\xce\x92\xce\x93.txt", "greek");		/* ΑΒΓ.txt */
	write_file(t->share, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", "cyr"); /* Привет */

	/* Exact spellings: the fast path, no directory is listed. */
	n0 = scans(t);
	assert_resolves(t, "file.txt", "file.txt", true);
	assert_resolves(t, "sub/f2", "sub/f2", true);
	assert_resolves(t, "Dir1/SubDir/File.TXT", "Dir1/SubDir/File.TXT", true);
	assert_resolves(t, ".", ".", true);
	assert_resolves(t, "sub", "sub", true);
	assert_int_equal(scans(t), n0);

	/* Each component in turn, and all of them. */
	assert_resolves(t, "FILE.TXT", "file.txt", true);
	assert_int_equal(scans(t), n0 + 1);
	assert_resolves(t, "SUB/f2", "sub/f2", true);
	assert_resolves(t, "sub/F2", "sub/f2", true);
	assert_resolves(t, "SUB/F2", "sub/f2", true);
	assert_resolves(t, "dir1/SubDir/File.TXT", "Dir1/SubDir/File.TXT", true);
	assert_resolves(t, "Dir1/subdir/File.TXT", "Dir1/SubDir/File.TXT", true);
	assert_resolves(t, "DIR1/SUBDIR/FILE.txt", "Dir1/SubDir/File.TXT", true);
	assert_resolves(t, "dir1/subdir", "Dir1/SubDir", true);
	assert_resolves(t, "\xce\xb1\xce\xb2\xce\xb3.TXT", "\xce\x91\xce\x92\xce\x93.txt", true);
	assert_resolves(t, "\xd0\xbf\xd0\xa0\xd0\x98\xd0\x92\xd0\x95\xd0\xa2", /* пРИВЕТ */
			"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", true);

	/* The result is what later operations use. */
	assert_status(vfs_resolve_case(t->mem, t->s, "DIR1/SUBDIR/FILE.TXT", &disk, &ex),
		      NT_STATUS_OK);
	assert_status(vfs_open(t->s, disk, O_RDONLY, 0, &fd), NT_STATUS_OK);
	assert_status(vfs_pread(fd, buf, sizeof(buf), 0, &got), NT_STATUS_OK);
	close(fd);
	assert_int_equal(got, 4);
	assert_memory_equal(buf, "deep", 4);

	/* A new last component keeps the client's spelling. */
	assert_resolves(t, "NewFile.Txt", "NewFile.Txt", false);
	assert_resolves(t, "dir1/SUBDIR/NewFile.Txt", "Dir1/SubDir/NewFile.Txt", false);
	assert_resolves(t, "SUB/New", "sub/New", false);
	assert_status(vfs_resolve_case(t->mem, t->s, "dir1/subdir/New.bin", &disk, &ex),
		      NT_STATUS_OK);
	assert_false(ex);
	assert_status(vfs_open(t->s, disk, O_CREAT | O_EXCL | O_RDWR, 0644, &fd), NT_STATUS_OK);
	close(fd);
	assert_resolves(t, "DIR1/SUBDIR/NEW.BIN", "Dir1/SubDir/New.bin", true);
	/* A missing or non-directory intermediate component. */
	assert_resolve_fails(t, "nodir/x", NT_STATUS_OBJECT_PATH_NOT_FOUND);
	assert_resolve_fails(t, "NODIR/X", NT_STATUS_OBJECT_PATH_NOT_FOUND);
	assert_resolve_fails(t, "dir1/nodir/x", NT_STATUS_OBJECT_PATH_NOT_FOUND);
	assert_resolve_fails(t, "FILE.TXT/x", NT_STATUS_OBJECT_PATH_NOT_FOUND);
	assert_resolve_fails(t, "file.txt/x", NT_STATUS_OBJECT_PATH_NOT_FOUND);

	/* Symlinks: in-share ones are walked through, a leaf is a name. */
	assert_resolves(t, "IN_LINK/F2", "in_link/f2", true);
	assert_resolves(t, "Sub/In_Up", "sub/in_up", true);
	assert_resolves(t, "Dangling", "dangling", true);
	assert_resolves(t, "dangling", "dangling", true);
	assert_resolve_fails(t, "DANGLING/x", NT_STATUS_OBJECT_PATH_NOT_FOUND);
	assert_resolve_fails(t, "Loop1/x", NT_STATUS_OBJECT_PATH_NOT_FOUND);
	assert_resolves(t, "in_link/IN_UP", "in_link/in_up", true);

	/* Bad arguments. */
	assert_resolve_fails(t, "", NT_STATUS_INVALID_PARAMETER);
	assert_resolve_fails(t, NULL, NT_STATUS_INVALID_PARAMETER);

	/* A case-sensitive share: exact names only, no listing. */
	t->s->case_sensitive = true;
	n0 = scans(t);
	assert_resolves(t, "file.txt", "file.txt", true);
	assert_resolves(t, "FILE.TXT", "FILE.TXT", false);
	assert_resolves(t, "sub/F2", "sub/F2", false);
	assert_resolve_fails(t, "SUB/f2", NT_STATUS_OBJECT_PATH_NOT_FOUND);
	assert_resolve_fails(t, "file.txt/x", NT_STATUS_OBJECT_PATH_NOT_FOUND);
	assert_int_equal(scans(t), n0);
	t->s->case_sensitive = false;
	assert_outside_untouched(t);
}

static void test_case_ambiguity(void **state)
{
	struct tstate *t = *state;
	char p[PATH_MAX], first[NAME_MAX + 1] = "";
	struct dirent *de;
	DIR *d;

	xpath(p, t->share, "amb");
	assert_int_equal(mkdir(p, 0755), 0);
	write_file(p, "Dup", "1");
	write_file(p, "DUP", "2");
	write_file(p, "dUp", "3");

	/* An exact entry always wins. */
	assert_resolves(t, "amb/Dup", "amb/Dup", true);
	assert_resolves(t, "amb/DUP", "amb/DUP", true);
	assert_resolves(t, "AMB/dUp", "amb/dUp", true);

	/* Otherwise the first case-insensitive match in readdir order. */
	d = opendir(p);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (name_casecmp(de->d_name, "dup") == 0) {
			strcpy(first, de->d_name);
			break;
		}
	}
	closedir(d);
	assert_true(first[0] != '\0');
	snprintf(p, sizeof(p), "amb/%s", first);
	assert_resolves(t, "amb/dup", p, true);
	assert_resolves(t, "amb/DuP", p, true);

	/*
	 * An exact name that does not resolve (a dangling link as a
	 * directory) still wins over a case variant that would.
	 */
	xpath(p, t->share, "LNK");
	assert_int_equal(mkdir(p, 0755), 0);
	write_file(p, "x", "x");
	make_link("nowhere", t->share, "lnk");
	assert_resolve_fails(t, "lnk/x", NT_STATUS_OBJECT_PATH_NOT_FOUND);
	assert_resolves(t, "LNK/x", "LNK/x", true);
	/* Neither spelling: the first variant in readdir order (either). */
	{
		char *disk;
		bool ex;

		assert_status(vfs_resolve_case(t->mem, t->s, "Lnk", &disk, &ex), NT_STATUS_OK);
		assert_true(ex);
		assert_true(strcmp(disk, "lnk") == 0 || strcmp(disk, "LNK") == 0);
	}
}

/* Case variants of escaping names are refused exactly like the names. */
static void test_case_escape(void **state)
{
	struct tstate *t = *state;
	char *disk;
	bool ex;
	int fd;

	assert_resolve_fails(t, "ABS_OUT/secret", NT_STATUS_ACCESS_DENIED);
	assert_resolve_fails(t, "Abs_Out/SECRET", NT_STATUS_ACCESS_DENIED);
	assert_resolve_fails(t, "abs_out/SECRET", NT_STATUS_ACCESS_DENIED);
	assert_resolve_fails(t, "Abs_Out/NewFile", NT_STATUS_ACCESS_DENIED);
	assert_resolve_fails(t, "UP/secret", NT_STATUS_ACCESS_DENIED);
	assert_resolve_fails(t, "Up/SUBD/x", NT_STATUS_ACCESS_DENIED);
	assert_resolve_fails(t, "SUB/UP2/SECRET", NT_STATUS_ACCESS_DENIED);
	assert_resolve_fails(t, "In_Link/Up2/Secret", NT_STATUS_ACCESS_DENIED);
	assert_resolve_fails(t, "sub/UP2/newfile", NT_STATUS_ACCESS_DENIED);
	assert_resolve_fails(t, "PROC_ROOT/etc/passwd", NT_STATUS_ACCESS_DENIED);
	assert_resolve_fails(t, "Proc_Fd/file.txt", NT_STATUS_ACCESS_DENIED);
	assert_resolve_fails(t, "Abs_In/x", NT_STATUS_ACCESS_DENIED);
	/* Raw escapes that bypass the SMB parser fail on the fast path. */
	assert_resolve_fails(t, "../outside/secret", NT_STATUS_ACCESS_DENIED);
	assert_resolve_fails(t, "../outside/SECRET", NT_STATUS_ACCESS_DENIED);
	assert_resolve_fails(t, "sub/../../Outside/x", NT_STATUS_ACCESS_DENIED);
	assert_resolve_fails(t, "/etc/PASSWD", NT_STATUS_ACCESS_DENIED);

	/*
	 * An escaping link as the last component is found as a name (it
	 * exists, a listing shows it), and opening it is still refused.
	 */
	assert_resolves(t, "ABS_SECRET", "abs_secret", true);
	assert_status(vfs_resolve_case(t->mem, t->s, "Abs_Secret", &disk, &ex), NT_STATUS_OK);
	assert_status(vfs_open(t->s, disk, O_RDONLY, 0, &fd), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_open(t->s, disk, O_WRONLY | O_TRUNC, 0, &fd), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_resolve_case(t->mem, t->s, "REL_DANGLING", &disk, &ex), NT_STATUS_OK);
	assert_string_equal(disk, "rel_dangling");
	assert_status(vfs_open(t->s, disk, O_CREAT | O_WRONLY, 0644, &fd), NT_STATUS_ACCESS_DENIED);
	assert_status(vfs_resolve_case(t->mem, t->s, "ABS_DANGLING", &disk, &ex), NT_STATUS_OK);
	assert_status(vfs_open(t->s, disk, O_CREAT | O_WRONLY, 0644, &fd), NT_STATUS_ACCESS_DENIED);
	/* Names outside the share are never candidates. */
	assert_resolves(t, "SECRET", "SECRET", false);
	assert_resolves(t, "sub/Secret", "sub/Secret", false);
	assert_outside_untouched(t);
}

/* --- ChangeTime override ---------------------------------------------- */

static bool xattrs_supported(int fd)
{
	return !(fsetxattr(fd, "user.porthos.probe", "1", 1, 0) != 0 && errno == ENOTSUP);
}

/* Wait until any change now gets a ctime past the record's ctime_limit. */
static void wait_past_limit(int fd)
{
	uint8_t raw[48];
	struct timespec now;

	assert_int_equal(fgetxattr(fd, VFS_DOS_XATTR_NAME, raw, sizeof(raw)), 48);
	for (;;) {
		clock_gettime(CLOCK_REALTIME_COARSE, &now);
		if ((int64_t)now.tv_sec > (int64_t)le64(raw + 24) ||
		    ((int64_t)now.tv_sec == (int64_t)le64(raw + 24) &&
		     now.tv_nsec > (long)le32(raw + 40)))
			break;
		usleep(1000);
	}
}

static void test_change_time(void **state)
{
	struct tstate *t = *state;
	const uint64_t x1 = 0x01d0000000abcdefull, x2 = 0x01d1111111111111ull;
	struct vfs_dos_info di;
	uint8_t raw[64];
	struct stat st;
	size_t done;
	int fd, fd2, dfd, pfd;

	assert_status(vfs_open(t->s, "file.txt", O_RDWR, 0, &fd), NT_STATUS_OK);
	if (!xattrs_supported(fd)) {
		close(fd);
		skip();
	}

	/* No override: ChangeTime is the ctime. */
	assert_status(vfs_fstat(fd, &st), NT_STATUS_OK);
	assert_status(vfs_dos_get(fd, &st, &di), NT_STATUS_OK);
	assert_false(di.change_time_set);
	assert_true(di.change_time == fscc_nttime_from_timespec(&st.st_ctim));

	/* Set: a version 2 record, read back as set. */
	assert_status(vfs_dos_set_ex(fd, VFS_DOS_ATTR_HIDDEN, 1234, x1), NT_STATUS_OK);
	assert_int_equal(fgetxattr(fd, VFS_DOS_XATTR_NAME, raw, sizeof(raw)), 48);
	assert_int_equal(le32(raw), 2);
	assert_int_equal(le32(raw + 4), VFS_DOS_ATTR_HIDDEN);
	assert_true(le64(raw + 8) == 1234);
	assert_true(le64(raw + 16) == x1);
	assert_status(vfs_fstat(fd, &st), NT_STATUS_OK);
	assert_status(vfs_dos_get(fd, &st, &di), NT_STATUS_OK);
	assert_true(di.from_xattr);
	assert_true(di.change_time_set);
	assert_true(di.change_time == x1);
	assert_int_equal(di.attributes, VFS_DOS_ATTR_HIDDEN);
	assert_true(di.creation_time == 1234);

	/* It survives re-reads: another fd, by name, after reads. */
	assert_status(vfs_open(t->s, "file.txt", O_RDONLY, 0, &fd2), NT_STATUS_OK);
	assert_status(vfs_pread(fd2, raw, 5, 0, &done), NT_STATUS_OK);
	assert_status(vfs_fstat(fd2, &st), NT_STATUS_OK);
	assert_status(vfs_dos_get(fd2, &st, &di), NT_STATUS_OK);
	assert_true(di.change_time == x1);
	close(fd2);
	assert_status(vfs_dos_get_at(t->s, "file.txt", NULL, &di), NT_STATUS_OK);
	assert_true(di.change_time_set);
	assert_true(di.change_time == x1);
	assert_status(vfs_dos_get_at(t->s, "sub/in_up", NULL, &di), NT_STATUS_OK);
	assert_true(di.change_time == x1);

	/* A data write, even at once, drops it: the real ctime again. */
	assert_status(vfs_pwrite(fd, "H", 1, 0, &done), NT_STATUS_OK);
	assert_status(vfs_fstat(fd, &st), NT_STATUS_OK);
	assert_status(vfs_dos_get(fd, &st, &di), NT_STATUS_OK);
	assert_false(di.change_time_set);
	assert_true(di.change_time == fscc_nttime_from_timespec(&st.st_ctim));
	assert_int_equal(di.attributes, VFS_DOS_ATTR_HIDDEN);	/* the rest stays */
	assert_true(di.creation_time == 1234);

	/* So does a truncate. */
	assert_status(vfs_dos_set_ex(fd, 0, 1234, x2), NT_STATUS_OK);
	assert_status(vfs_ftruncate(fd, 2), NT_STATUS_OK);
	assert_status(vfs_fstat(fd, &st), NT_STATUS_OK);
	assert_status(vfs_dos_get(fd, &st, &di), NT_STATUS_OK);
	assert_false(di.change_time_set);

	/* A metadata change after the set's margin drops it. */
	assert_status(vfs_dos_set_ex(fd, 0, 1234, x2), NT_STATUS_OK);
	assert_status(vfs_fstat(fd, &st), NT_STATUS_OK);
	assert_status(vfs_dos_get(fd, &st, &di), NT_STATUS_OK);
	assert_true(di.change_time == x2);
	wait_past_limit(fd);
	assert_int_equal(fchmod(fd, 0640), 0);
	assert_status(vfs_fstat(fd, &st), NT_STATUS_OK);
	assert_status(vfs_dos_get(fd, &st, &di), NT_STATUS_OK);
	assert_false(di.change_time_set);
	assert_true(di.change_time == fscc_nttime_from_timespec(&st.st_ctim));

	/* Any set without a change time drops it (version 1 again). */
	assert_status(vfs_dos_set_ex(fd, 0, 1234, x2), NT_STATUS_OK);
	assert_status(vfs_dos_set(fd, VFS_DOS_ATTR_READONLY, 1234), NT_STATUS_OK);
	assert_int_equal(fgetxattr(fd, VFS_DOS_XATTR_NAME, raw, sizeof(raw)), 16);
	assert_status(vfs_fstat(fd, &st), NT_STATUS_OK);
	assert_status(vfs_dos_get(fd, &st, &di), NT_STATUS_OK);
	assert_false(di.change_time_set);
	assert_int_equal(di.attributes, VFS_DOS_ATTR_READONLY);
	assert_status(vfs_dos_set_ex(fd, 0, 1234, x2), NT_STATUS_OK);
	assert_status(vfs_dos_set_ex(fd, VFS_DOS_ATTR_SYSTEM, 1234, 0), NT_STATUS_OK);
	assert_int_equal(fgetxattr(fd, VFS_DOS_XATTR_NAME, raw, sizeof(raw)), 16);

	/* Version 1 records, as written before, still read. */
	put_le32(raw, 1);
	put_le32(raw + 4, VFS_DOS_ATTR_HIDDEN | VFS_DOS_ATTR_ARCHIVE);
	put_le64(raw + 8, 0x01c0000000000001ull);
	assert_int_equal(fsetxattr(fd, VFS_DOS_XATTR_NAME, raw, 16, 0), 0);
	assert_status(vfs_fstat(fd, &st), NT_STATUS_OK);
	assert_status(vfs_dos_get(fd, &st, &di), NT_STATUS_OK);
	assert_true(di.from_xattr);
	assert_false(di.change_time_set);
	assert_int_equal(di.attributes, VFS_DOS_ATTR_HIDDEN | VFS_DOS_ATTR_ARCHIVE);
	assert_true(di.creation_time == 0x01c0000000000001ull);
	assert_true(di.change_time == fscc_nttime_from_timespec(&st.st_ctim));

	/* Version 2 of the wrong size, or with stale witnesses. */
	memset(raw, 0, sizeof(raw));
	put_le32(raw, 2);
	put_le32(raw + 4, VFS_DOS_ATTR_HIDDEN);
	put_le64(raw + 8, 99);
	put_le64(raw + 16, x1);
	assert_int_equal(fsetxattr(fd, VFS_DOS_XATTR_NAME, raw, 40, 0), 0);
	assert_status(vfs_dos_get(fd, &st, &di), NT_STATUS_OK);
	assert_false(di.from_xattr);
	assert_int_equal(fsetxattr(fd, VFS_DOS_XATTR_NAME, raw, 16, 0), 0);
	assert_status(vfs_dos_get(fd, &st, &di), NT_STATUS_OK);
	assert_false(di.from_xattr);
	assert_int_equal(fsetxattr(fd, VFS_DOS_XATTR_NAME, raw, 48, 0), 0); /* limit 1970 */
	assert_status(vfs_fstat(fd, &st), NT_STATUS_OK);
	assert_status(vfs_dos_get(fd, &st, &di), NT_STATUS_OK);
	assert_true(di.from_xattr);
	assert_false(di.change_time_set);
	assert_int_equal(di.attributes, VFS_DOS_ATTR_HIDDEN);
	assert_true(di.creation_time == 99);
	assert_true(di.change_time == fscc_nttime_from_timespec(&st.st_ctim));
	/* A valid limit but another mtime. */
	put_le64(raw + 24, (uint64_t)(st.st_ctim.tv_sec + 3600));
	put_le64(raw + 32, (uint64_t)st.st_mtim.tv_sec);
	put_le32(raw + 44, (uint32_t)st.st_mtim.tv_nsec + 1);
	assert_int_equal(fsetxattr(fd, VFS_DOS_XATTR_NAME, raw, 48, 0), 0);
	assert_status(vfs_fstat(fd, &st), NT_STATUS_OK);
	assert_status(vfs_dos_get(fd, &st, &di), NT_STATUS_OK);
	assert_false(di.change_time_set);
	put_le32(raw + 44, (uint32_t)st.st_mtim.tv_nsec);	/* now both hold */
	assert_int_equal(fsetxattr(fd, VFS_DOS_XATTR_NAME, raw, 48, 0), 0);
	assert_status(vfs_fstat(fd, &st), NT_STATUS_OK);
	assert_status(vfs_dos_get(fd, &st, &di), NT_STATUS_OK);
	assert_true(di.change_time_set);
	assert_true(di.change_time == x1);
	/* ... and a zero ChangeTime in a version 2 record is no override. */
	put_le64(raw + 16, 0);
	assert_int_equal(fsetxattr(fd, VFS_DOS_XATTR_NAME, raw, 48, 0), 0);
	assert_status(vfs_fstat(fd, &st), NT_STATUS_OK);
	assert_status(vfs_dos_get(fd, &st, &di), NT_STATUS_OK);
	assert_false(di.change_time_set);
	close(fd);

	/* A directory: a new entry (its mtime moves) drops the override. */
	assert_status(vfs_open(t->s, "sub", O_RDONLY | O_DIRECTORY, 0, &dfd), NT_STATUS_OK);
	assert_status(vfs_dos_set_ex(dfd, 0, 5, x1), NT_STATUS_OK);
	assert_status(vfs_fstat(dfd, &st), NT_STATUS_OK);
	assert_status(vfs_dos_get(dfd, &st, &di), NT_STATUS_OK);
	assert_true(di.change_time == x1);
	assert_int_equal(di.attributes, VFS_DOS_ATTR_DIRECTORY);
	write_file(t->share, "sub/newentry", "n");
	assert_status(vfs_fstat(dfd, &st), NT_STATUS_OK);
	assert_status(vfs_dos_get(dfd, &st, &di), NT_STATUS_OK);
	assert_false(di.change_time_set);
	close(dfd);

	/* O_PATH fds carry no xattrs; file systems without them ignore it. */
	assert_status(vfs_open(t->s, "sub/f2", O_PATH, 0, &pfd), NT_STATUS_OK);
	assert_status(vfs_dos_set_ex(pfd, 0, 0, x1), NT_STATUS_INVALID_HANDLE);
	close(pfd);
	fd = open("/proc/self/comm", O_RDONLY);
	assert_true(fd >= 0);
	assert_status(vfs_dos_set_ex(fd, VFS_DOS_ATTR_HIDDEN, 1, x1), NT_STATUS_OK);
	assert_status(vfs_fstat(fd, &st), NT_STATUS_OK);
	assert_status(vfs_dos_get(fd, &st, &di), NT_STATUS_OK);
	assert_false(di.change_time_set);
	assert_true(di.change_time == fscc_nttime_from_timespec(&st.st_ctim));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_path_table),
		T(test_path_lengths),
		T(test_path_split),
		T(test_escape_raw_dotdot),
		T(test_escape_absolute),
		T(test_escape_abs_symlink),
		T(test_escape_relative_up),
		T(test_escape_proc),
		T(test_symlink_leaf),
		T(test_escape_rename_via_parent),
		T(test_escape_link),
		T(test_in_share_symlinks),
		T(test_open_statuses),
		T(test_rename_link),
		T(test_io),
		T(test_dosattr),
		T(test_file_id),
		T(test_case_resolve),
		T(test_case_ambiguity),
		T(test_case_escape),
		T(test_change_time),
		T(test_list_cap),
		T(test_list_dir_lead_and_mapping),
		T(test_share_open),
#undef T
	};

	/* Escape refusals log at info; keep the test output readable. */
	plog_set_level(PLOG_WARN);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
