#define _GNU_SOURCE
#include "config.h"
#include "tests/fuzz/fs_limits.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>

int __real_fallocate(int fd, int mode, off_t off, off_t len);
int __wrap_fallocate(int fd, int mode, off_t off, off_t len);
int __real_fallocate64(int fd, int mode, off_t off, off_t len);
int __wrap_fallocate64(int fd, int mode, off_t off, off_t len);

/* Punching holes frees space; anything else may reserve it. */
static int too_big(int mode, off_t off, off_t len)
{
	if (mode & FALLOC_FL_PUNCH_HOLE)
		return 0;
	if (off >= 0 && len >= 0 && off <= FZ_MAX_FILE && len <= FZ_MAX_FILE - off)
		return 0;
	errno = EFBIG;
	return 1;
}

int __wrap_fallocate(int fd, int mode, off_t off, off_t len)
{
	return too_big(mode, off, len) ? -1 : __real_fallocate(fd, mode, off, len);
}

int __wrap_fallocate64(int fd, int mode, off_t off, off_t len)
{
	return too_big(mode, off, len) ? -1 : __real_fallocate64(fd, mode, off, len);
}

void fz_limit_files(void)
{
	struct rlimit rl = { FZ_MAX_FILE, FZ_MAX_FILE };
	(void)setrlimit(RLIMIT_FSIZE, &rl);
	/* EFBIG instead of the signal. */
	signal(SIGXFSZ, SIG_IGN);
}
