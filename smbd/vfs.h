/*
 * The storage layer: every file system call of the server goes through
 * here, and this is the one place an errno becomes an NTSTATUS.
 *
 * Confinement: every path is resolved beneath the share root with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS). "..", absolute paths,
 * absolute symlinks (even ones pointing back into the share), relative
 * symlinks that climb out, and /proc magic links all fail; relative
 * symlinks that stay inside the share are followed (Samba's default
 * "wide links = no"). Operations on names (mkdir, unlink, rmdir, rename,
 * link, lstat) resolve only the PARENT that way and then act on the leaf
 * with an *at() call that does not follow it, so a symlink as the last
 * component is itself removed/renamed/linked, never its target.
 *
 * Statuses for refused walks (decided here, see vfs.c):
 *   escape ("..", absolute, symlink leaving the share; kernel EXDEV)
 *                                      -> ACCESS_DENIED
 *   magic link or symlink loop (ELOOP) -> OBJECT_PATH_NOT_FOUND
 *
 * Threads: no function keeps global state (the one exception is a
 * log-once flag in vfs_dosattr.c), none allocates outside the caller's
 * talloc context, so all may run in a worker pool. A struct vfs_share may
 * be shared between threads; it is read-only after vfs_share_open().
 *
 * fds: vfs_open() returns plain fds (O_CLOEXEC always set); the caller
 * owns and closes them. An O_PATH fd is good for vfs_fstat(), as the dir
 * fd of vfs_list_dir(), for vfs_futimens() and vfs_statvfs-like queries,
 * but NOT for I/O or xattrs. To get an I/O fd for an object held as
 * O_PATH, do not go through /proc/self/fd (a magic link, refused here by
 * design): either open it with the right mode from the start, or call
 * vfs_reopen() with the share-relative path, which resolves beneath the
 * share again and checks it is still the same inode.
 */
#ifndef PORTHOS_SMBD_VFS_H
#define PORTHOS_SMBD_VFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <talloc.h>
#include <time.h>

#include "lib/ntstatus.h"
#include "smbd/vfs_path.h"

/*
 * Read-only after setup (vfs_share_open() plus the option fields below,
 * set before the share is used); freeing it closes root_fd.
 */
struct vfs_share {
	int root_fd;		/* O_PATH | O_DIRECTORY */
	char *root_path;	/* for logs only, never re-resolved */
	/*
	 * false (the default): vfs_resolve_case() finds names
	 * case-insensitively, as Windows clients expect; true: names are
	 * used exactly as spelled (the "case sensitive = yes" option).
	 */
	bool case_sensitive;
	/*
	 * Statistics, the one mutable field: directory scans done by
	 * vfs_resolve_case() (for monitoring and tests).
	 */
	_Atomic uint64_t case_scans;
};

/*
 * Open the share root (an administrator's path: symlinks in it are
 * followed). Fails with NOT_SUPPORTED when the kernel lacks openat2
 * (Linux < 5.6): we refuse to serve rather than resolve unconfined.
 */
NTSTATUS vfs_share_open(TALLOC_CTX *mem, const char *root, struct vfs_share **out);

/*
 * Case-insensitive lookup (Windows file systems are case-insensitive and
 * case-preserving; Hyper-V opens "Disk.VHDX" as "disk.vhdx"). Every other
 * function here takes names exactly as spelled: the server calls this
 * first and uses *ondisk_out from then on.
 *
 * *ondisk_out (a talloc child of mem) is rel with every existing
 * component replaced by its on-disk spelling. If the last component does
 * not exist (a CREATE of a new name) it keeps the client's spelling and
 * *exists_out is false; a missing or non-directory intermediate component
 * is OBJECT_PATH_NOT_FOUND. A symlink as the last component counts as
 * existing (it is not followed, like vfs_lstat()); intermediate ones are
 * followed beneath the share as everywhere else, so an escaping link
 * fails with ACCESS_DENIED whichever case the client spells it in.
 *
 * The spelling as given is tried first with one openat2(); only when a
 * component is missing (ENOENT) is its parent directory listed and
 * compared with name_casecmp() (lib/wildcard.h: Unicode simple case
 * folding for Latin, Greek, Cyrillic, Armenian). An exact entry always
 * wins; among several entries that differ only by case ("a" and "A")
 * and none exact, the first in readdir order wins (stable while the
 * directory is unchanged, otherwise unspecified). "." and ".." are never
 * matched by a scan. A directory the server may search but not list
 * (EACCES on the scan) behaves case-sensitively.
 *
 * Cost: a scan reads the whole parent directory, once per missing
 * component per call, and there is no cache. A CREATE of a new name
 * always scans its parent (the name must be proved absent in every
 * case), so filling a directory of N entries is O(N^2): measured on ext4
 * with a warm cache, about 30 ms per lookup of a missing name at 100,000
 * entries, nearly all of it readdir (the comparisons cost ~1 ms). Samba
 * behaves the same; shares with huge directories should set
 * case_sensitive. A later cache of folded names, checked against the
 * directory's mtime, would remove the repeat cost.
 *
 * Security: every step resolves beneath the share root with openat2
 * (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), the scanned directory is
 * opened the same way, and names taken from a scan are single readdir
 * leaves (no '/', never "." or ".."), so the result is no more powerful
 * than a name the client could have typed.
 * s->case_sensitive: only the first openat2, then the parent check.
 */
NTSTATUS vfs_resolve_case(TALLOC_CTX *mem, struct vfs_share *s, const char *rel,
			  char **ondisk_out, bool *exists_out);

/*
 * rel: a path from vfs_path_from_smb() ("." is the root). flags as open(2)
 * (O_CLOEXEC is added); mode is used only with O_CREAT/O_TMPFILE.
 * ENOENT is told apart: a missing last component is OBJECT_NAME_NOT_FOUND,
 * a missing or non-directory parent OBJECT_PATH_NOT_FOUND; O_DIRECTORY on a
 * non-directory is NOT_A_DIRECTORY. O_NOFOLLOW on a symlink leaf gives
 * OBJECT_PATH_NOT_FOUND (ELOOP); O_PATH | O_NOFOLLOW opens the link itself.
 */
NTSTATUS vfs_open(struct vfs_share *s, const char *rel, int flags, mode_t mode, int *fd_out);

/*
 * Open rel again (e.g. for I/O while path_fd is an O_PATH fd of it) and
 * check it is the same inode as path_fd; FILE_RENAMED if the name now
 * refers to something else. O_CREAT, O_EXCL and O_TRUNC are refused
 * (INVALID_PARAMETER): they would act before the identity check.
 */
NTSTATUS vfs_reopen(struct vfs_share *s, const char *rel, int path_fd, int flags, int *fd_out);

/*
 * Whether the thread's current file-system identity may access the object
 * fd refers to (any fd, O_PATH included) with mode R_OK/W_OK/X_OK, as the
 * kernel judges it (mode bits and POSIX ACLs; faccessat2 AT_EACCESS, which
 * uses the fsuid and fsgid). In vfs_access.c.
 */
bool vfs_may(int fd, int mode);

/* Follows in-share symlinks (like stat(2)). */
NTSTATUS vfs_stat(struct vfs_share *s, const char *rel, struct stat *st);
/* Does not follow a symlink as the last component (like lstat(2)). */
NTSTATUS vfs_lstat(struct vfs_share *s, const char *rel, struct stat *st);
NTSTATUS vfs_fstat(int fd, struct stat *st);

/* Name operations: the root itself gives ACCESS_DENIED. */
NTSTATUS vfs_mkdir(struct vfs_share *s, const char *rel, mode_t mode);
NTSTATUS vfs_unlink(struct vfs_share *s, const char *rel);
NTSTATUS vfs_rmdir(struct vfs_share *s, const char *rel);
/*
 * renameat2(); without replace an existing target is
 * OBJECT_NAME_COLLISION (RENAME_NOREPLACE); with replace an existing
 * directory target is ACCESS_DENIED, as Windows (MS-FSA 2.1.5.14.11).
 */
NTSTATUS vfs_rename(struct vfs_share *s, const char *from_rel, const char *to_rel, bool replace);
/*
 * As vfs_rename; *replaced (-1 if none) is an fd of the regular file the
 * rename replaced, held open across it, so that its blocks are freed by
 * the caller's close of it rather than inside renameat2.
 */
NTSTATUS vfs_rename_holding(struct vfs_share *s, const char *from_rel, const char *to_rel, bool replace,
			    int *replaced);
/*
 * Hard link from_rel (not followed if it is a symlink) as to_rel. Both
 * names resolve beneath the share, so the target is inside by
 * construction. replace: an existing non-directory target is replaced
 * atomically (link to a temporary name, then rename over it).
 */
NTSTATUS vfs_link(struct vfs_share *s, const char *from_rel, const char *to_rel, bool replace);
/* As vfs_link; *replaced as in vfs_rename_holding. */
NTSTATUS vfs_link_holding(struct vfs_share *s, const char *from_rel, const char *to_rel, bool replace,
			  int *replaced);

/*
 * Reads until len bytes or end of file; *got < len only at EOF (0 at or
 * past EOF, which is OK here: the caller decides on END_OF_FILE).
 */
NTSTATUS vfs_pread(int fd, void *buf, size_t len, uint64_t off, size_t *got);
/* As vfs_pread, into the pipe pipe_wr (references to the page cache's
 * pages, smbd/splice_pipe.h), which has room for len bytes. */
NTSTATUS vfs_splice_from(int fd, int pipe_wr, size_t len, uint64_t off, size_t *got);
/*
 * Large writes reach the page cache in pieces of at most VFS_WRITE_PIECE,
 * each ending at a multiple of it. Linux sizes each new page-cache folio
 * by the write that creates it (generic_perform_write), and keeps it: a VM
 * disk written in 1 MiB pieces keeps 1 MiB folios, and every later 4 KiB
 * write into one makes ext4 walk all 256 blocks of it, once in the write
 * and again at writeback. 4 KiB writes at 16 streams into such files ran
 * at 15-18k a second, at 29-31k into the same files written in 128 KiB
 * pieces; smaller pieces gained no more and cost more to create
 * (docs/PERFORMANCE.md, "Page-cache folios"). Where the pages are all
 * cached already, the folios are what they are and io_uring writes go
 * whole (smbd/vfs_uring.c: each piece costs the loop a wake-up there).
 */
#define VFS_WRITE_PIECE (128 * 1024)
/* The bytes of the piece that starts at off, of len still to write. */
static inline size_t vfs_write_piece(uint64_t off, size_t len)
{
	size_t to_end = VFS_WRITE_PIECE - (size_t)(off % VFS_WRITE_PIECE);
	return len < to_end ? len : to_end;
}
/* Some page of the range is not in the page cache yet (cachestat(2);
 * false where the kernel cannot tell: before Linux 6.5, whose ext4 made
 * no large folios either). */
bool vfs_range_uncached(int fd, uint64_t off, size_t len);
/* Loops on short writes, in pieces (VFS_WRITE_PIECE); on error *done says
 * how much was written. */
NTSTATUS vfs_pwrite(int fd, const void *buf, size_t len, uint64_t off, size_t *done);
/*
 * One read that never waits for the disk (preadv2 RWF_NOWAIT): *got bytes
 * from the page cache, and whether that is the whole answer (*complete:
 * all of len, or end of file). Otherwise the caller reads the rest with
 * vfs_pread() where blocking is fine (an I/O worker).
 */
NTSTATUS vfs_pread_nowait(int fd, void *buf, size_t len, uint64_t off, size_t *got, bool *complete);
NTSTATUS vfs_fsync(int fd);				/* fdatasync() */
NTSTATUS vfs_ftruncate(int fd, uint64_t size);		/* fd must be writable */
/*
 * Reserve blocks for an AllocationSize (FALLOC_FL_KEEP_SIZE: EOF is
 * unchanged). Never shrinks; file systems without fallocate are ignored.
 */
NTSTATUS vfs_fallocate(int fd, uint64_t size);
/* ts[0] atime, ts[1] mtime; UTIME_OMIT/UTIME_NOW allowed; O_PATH fds ok. */
NTSTATUS vfs_futimens(int fd, const struct timespec ts[2]);
NTSTATUS vfs_statvfs(struct vfs_share *s, struct statvfs *st);

/*
 * Directory listing of dir_fd (any fd of a directory, O_PATH included; its
 * file position is not used or moved). All entries except "." and "..",
 * in readdir order, each with fstatat(AT_SYMLINK_NOFOLLOW) information,
 * except that a symlink which resolves inside the confinement reports its
 * target's stat. A dangling, looping or escaping symlink is LISTED with its
 * own lstat (S_ISLNK): Windows lists reparse points too, hiding them would
 * make the parent look empty yet fail rmdir with DIRECTORY_NOT_EMPTY, and
 * the client needs to see the name to delete it.
 * More than max_entries entries: INSUFF_SERVER_RESOURCES, nothing returned.
 * *out is a talloc object on mem; its entries and names live in mappings
 * of their own (lib/mapbuf.h), so a large listing's memory goes back to
 * the system when it is freed.
 *
 * vfs_list_dir() confines symlink resolution beneath dir_fd itself (it
 * knows no share), so an in-share link that climbs above the directory is
 * listed as a link. vfs_list_dir_share() resolves beneath the share root
 * using dir_rel, the directory's share-relative path, and is what the
 * server should use.
 */
struct vfs_dirent {
	char *name;
	struct stat st;  /* of what a symlink leads to, within the share */
	bool link;       /* the entry itself is a symlink */
};
struct vfs_listing {
	struct vfs_dirent *ents; /* NULL when n is 0 */
	size_t n;
};
NTSTATUS vfs_list_dir(TALLOC_CTX *mem, int dir_fd, size_t max_entries, struct vfs_listing **out);
/* lead: entries left zeroed at the start, for the caller to fill ("." and ".."). */
NTSTATUS vfs_list_dir_share(TALLOC_CTX *mem, struct vfs_share *s, int dir_fd, const char *dir_rel,
			    size_t lead, size_t max_entries, struct vfs_listing **out);

/*
 * The 64-bit file id (FileId / IndexNumber, MS-FSCC 2.4.20): st_ino, which
 * ext4, xfs and btrfs keep for the life of the inode (and which survives
 * renames, as Windows file ids do). A share is one file system today;
 * once shares may span mounts or a cluster serves them, st_dev must be
 * mixed in.
 */
uint64_t vfs_file_id(const struct stat *st);

#endif
