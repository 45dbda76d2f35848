/*
 * Keeps what a fuzz input can do to the disk small: files stop growing at
 * FZ_MAX_FILE (RLIMIT_FSIZE; writes past it fail with EFBIG), and
 * fallocate() calls that would reserve more than that fail the same way
 * (a KEEP_SIZE reservation is not bounded by RLIMIT_FSIZE). The targets
 * that need it link with -Wl,--wrap=fallocate,--wrap=fallocate64.
 */
#ifndef PORTHOS_FUZZ_FS_LIMITS_H
#define PORTHOS_FUZZ_FS_LIMITS_H

#define FZ_MAX_FILE (64ll * 1024 * 1024)

void fz_limit_files(void);

#endif
