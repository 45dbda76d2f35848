/*
 * A share at run time: its config and its storage root.
 */
#ifndef PORTHOS_SMBD_SHARE_H
#define PORTHOS_SMBD_SHARE_H

#include <stdbool.h>

struct share_config;
struct vfs_share;

struct smbd_share {
	const char *name;
	const struct share_config *cfg; /* NULL for IPC$ */
	struct vfs_share *vfs;          /* NULL for IPC$ */
	bool is_ipc;
	bool can_reflink;               /* block cloning works here (probed at start) */
};

#endif
