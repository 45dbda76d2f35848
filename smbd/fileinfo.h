/*
 * Filling MS-FSCC's neutral file description from the storage layer.
 */
#ifndef PORTHOS_SMBD_FILEINFO_H
#define PORTHOS_SMBD_FILEINFO_H

#include <sys/stat.h>

#include "lib/fscc.h"
#include "lib/ntstatus.h"

struct smbd_open;
struct vfs_dos_info;

/* From a stat and the DOS record of the same object. */
void smbd_fileinfo_from_stat(const struct stat *st, const struct vfs_dos_info *dos, struct fscc_file_info *fi);
/* For an open handle: fstat + DOS attributes, plus the handle's state. */
/* What an fd's object reports (st: its stat), with no open's state. */
NTSTATUS smbd_fd_fileinfo(int fd, struct stat *st, struct fscc_file_info *fi);
NTSTATUS smbd_open_fileinfo(struct smbd_open *o, struct fscc_file_info *fi);
/* What an open with delete-on-close (or a pending delete) reports. */
void smbd_fileinfo_set_delete_pending(struct fscc_file_info *fi, bool delete_pending);

#endif
