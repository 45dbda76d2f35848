/*
 * CREATE in two halves: smb2_create.c decodes the request and judges the
 * new open against the others on the loop; create_fs.c does its file-system
 * work on an I/O worker (smbd/io_async.h), so a slow lookup, a directory
 * scan for a name's case or a create on a busy disk never holds the loop.
 *
 * The order (MS-FSA 2.1.5.1): the worker resolves the name, checks the
 * user's rights and the object's attributes, and opens or creates it;
 * the loop then checks pending deletes, oplocks and share modes with the
 * object's (dev, ino) and registers the open. An existing file is opened
 * without O_TRUNC: an overwrite, the one change to an existing object,
 * is done by a second worker step once the loop has let the open in.
 */
#ifndef PORTHOS_SMBD_CREATE_H
#define PORTHOS_SMBD_CREATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "lib/fscc.h"
#include "lib/ntstatus.h"
#include "smbd/app_instance.h"
#include "smbd/durable.h"
#include "smbd/lease.h"

struct smbd_identity;
struct vfs_share;

/* The request, decoded. */
struct create_in {
	uint8_t oplock_level;
	uint32_t impersonation;
	uint32_t desired_access;
	uint32_t file_attributes;
	uint32_t share_access;
	uint32_t disposition;
	uint32_t options;
	char *name;              /* UTF-8, as sent */
	bool want_mxac;
	bool want_qfid;
	bool have_alloc_size;
	uint64_t alloc_size;
	uint64_t timewarp;       /* "TWrp": a previous version by NT time */
	const uint8_t *secd;     /* "SecD": a validated self-relative descriptor, in the request */
	uint32_t secd_len;
	bool want_lease;         /* "RqLs", with RequestedOplockLevel LEASE */
	struct smbd_lease_request lease;
	struct smbd_durable_request durable; /* "DHnQ", "DHnC", "DH2Q", "DH2C" */
	struct smbd_app_instance_request app; /* AppInstanceId, AppInstanceVersion */
};

/* One CREATE's file-system work: what the worker needs, and what it found. */
struct create_fs {
	/* in */
	void *mem;                      /* talloc context of what the worker allocates */
	struct vfs_share *vfs;
	const struct smbd_identity *as; /* a copy: the session may go meanwhile */
	const struct create_in *in;     /* the request's memory, alive until the call ends */
	const char *rel;                /* the name, from vfs_path_from_smb() */
	uint32_t tree_access;           /* what the tree connect grants */
	bool read_only;                 /* the share */

	/* out */
	NTSTATUS status;
	char *ondisk;                   /* rel as spelled on disk */
	bool exists;                    /* rel existed: st is its stat ... */
	struct stat st;                 /* ... and, once opened, the open object's */
	int fd;                         /* -1 until opened; then the caller's */
	bool created;                   /* a new file or directory */
	bool overwrite;                 /* an existing file to overwrite (create_fs_overwrite) */
	uint32_t access;                /* granted */
	uint32_t maximal_access;        /* what MxAc reports */
	uint32_t old_attributes;        /* an existing object's DOS attributes */
	uint64_t old_creation_time;
	struct fscc_file_info fi;       /* of the opened object */
};

/* Worker: looks the name up and opens or creates the object (as c->as). */
void create_fs_open(struct create_fs *c);
/* Worker: the overwrite of an existing file the loop has let in (fd, held for the job). */
void create_fs_overwrite(struct create_fs *c, int fd);

/* MS-SMB2 2.2.13.1 / MS-DTYP 2.4.3: generic rights to specific ones
 * (MAXIMUM_ALLOWED to 'maximal'). */
uint32_t create_map_generic(uint32_t access, uint32_t maximal);

#endif
