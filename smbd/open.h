/*
 * Opens (MS-SMB2 3.3.1.10 Open): children of their tree connect (of the
 * server while a durable one is disconnected, smbd/durable.h), found by
 * volatile file id in srv->opens. The open/lease/lock state shared with
 * other opens of the same file goes through smbd/state.h so that a cluster
 * implementation can replace the local one.
 */
#ifndef PORTHOS_SMBD_OPEN_H
#define PORTHOS_SMBD_OPEN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <talloc.h>

#include "lib/ntstatus.h"
#include "smbd/shared_timer.h"

struct smbd_tcon;
struct smbd_server;
struct rpc_pipe;
struct vfs_listing;
struct smbd_file;
struct event;
struct smbd_notify;
struct smbd_brlocks;
struct smbd_durable;
struct smbd_app_instance;
struct smbd_share;

struct smbd_open {
	struct smbd_server *srv;
	struct smbd_tcon *tcon;  /* NULL while a durable open is disconnected */
	struct smbd_share *share;
	uint64_t persistent_id;
	uint64_t volatile_id;
	uint64_t session_id;
	uint32_t tree_id;

	int fd;                  /* -1 for pipes */
	struct smbd_fd *held_fd; /* fd with its holders: smbd_open_hold_fd() */
	char *rel_path;          /* Linux path relative to the share root; "." = root */
	char *smb_name;          /* as the client named it, for FileNameInformation */
	bool is_dir;
	uint32_t access;         /* granted access mask */
	uint32_t share_access;
	uint32_t create_options;
	bool delete_on_close;    /* delete when this handle closes */
	bool delete_pending;     /* set through SET_INFO: new opens fail (MS-FSA 2.1.5.1.2) */
	/* FilePositionInformation. Atomic, as data_changed below: every
	 * channel of the open writes it on the common path, from its loop. */
	_Atomic uint64_t position;
	/* smbd/channel_sequence.h: the newest sequence, and the requests in
	 * progress under it and under older ones; csn_busy guards the three
	 * against channels on other loops. */
	uint16_t channel_sequence;
	uint32_t outstanding, outstanding_pre;
	atomic_flag csn_busy;
	bool user_set_change_time; /* this handle set ChangeTime (MS-FSA 2.1.5.14.2) */
	atomic_bool data_changed; /* written: its directory's leases break at close (dir_lease.h) */
	bool delete_spares_none; /* its delete was passed on from an open of another ParentLeaseKey */
	uint32_t mode;           /* FileModeInformation */
	uint64_t file_id;        /* IndexNumber */
	dev_t dev;
	ino_t ino;

	struct rpc_pipe *pipe;   /* IPC$ named pipe */

	/* Shared file state (smbd/file_state.c) */
	struct smbd_file *file;
	struct smbd_lease *lease; /* with oplock_level SMB2_OPLOCK_LEVEL_LEASE (smbd/lease.h) */
	uint8_t oplock_level;
	uint8_t oplock_break_to;
	int oplock_state;        /* enum smbd_oplock_state */
	struct smbd_shared_timer break_timer; /* an oplock break's time-out */

	/* QUERY_DIRECTORY state: a snapshot of the listing, and a cursor. */
	struct vfs_listing *dir_listing;
	size_t dir_pos;          /* 0 and 1 are "." and ".." */
	char *dir_pattern;
	bool dir_busy;           /* a query has the listing on an I/O worker */

	/* Byte-range locks held and LOCK requests blocked (smbd/brlock.c). */
	struct smbd_brlocks *brlocks;
	/* Open.LockSequenceArray (MS-SMB2 3.3.1.10): per bucket 1..64 the
	 * last sequence number that succeeded, plus one; 0 = none. */
	uint8_t lock_sequence[64];

	/* CHANGE_NOTIFY state from the first request until close (smbd/notify.c). */
	struct smbd_notify *notify;

	/* Granted durability (smbd/durable.h): it may outlive its connection. */
	struct smbd_durable *durable;
	/* Open.CreateGuid of a CREATE with DH2Q (smbd/create_guid.h), or NULL. */
	struct smbd_create_guid *create_guid;
	/* AppInstanceId (smbd/app_instance.h), or NULL. */
	struct smbd_app_instance *app_instance;

	/* FSCTL_SRV_REQUEST_RESUME_KEY: made on the first request, the same
	 * after (smbd/smb2_ioctl_copy.c). */
	uint8_t resume_key[24];
	bool has_resume_key;
};

/* A "stat open": attributes and synchronisation only (and READ_CONTROL,
 * for leases); it breaks no oplock or lease (MS-FSA 2.1.5.1.2). */
bool smbd_access_is_stat(uint32_t access, bool for_lease);

/*
 * Whether what o writes reaches stable storage before the reply: the
 * open asked for it (FILE_WRITE_THROUGH), or its share is continuously
 * available, where Windows writes every open through: a client that
 * takes its persistent handle back after a node failed must find all it
 * was told was written.
 */
bool smbd_open_writes_through(const struct smbd_open *o);

/*
 * The open's fd for a transfer on an I/O worker or io_uring: the number
 * stays open, and so cannot be reused for another file, until the last
 * holder lets go, even if the open is closed meanwhile: hold at
 * submission, release when the transfer is done. The count is atomic, so
 * any loop's thread may hold and release. Cheaper than a dup() and a
 * close() per transfer.
 */
struct smbd_fd;
struct smbd_fd *smbd_open_hold_fd(struct smbd_open *o);
int smbd_fd_number(const struct smbd_fd *h);
/* The last release closes the number, on an I/O worker if there are any:
 * a file's last close may take the kernel long (open.c). */
void smbd_fd_release(struct smbd_fd *h);
/* Takes fd with one holder (what an open does); NULL when out of memory. */
struct smbd_fd *smbd_fd_new(struct smbd_server *srv, int fd);
/* Closes fd as a last release does: on a worker if that may take long. */
void smbd_fd_close_later(struct smbd_server *srv, int fd);

/*
 * For work on o's file on an I/O worker (smbd_call_offload()): its fd
 * number, held until owner is freed, so a CLOSE racing with the work can
 * neither close it nor let another file take the number; -1 when out of
 * memory (or o has no fd). *ref (if not NULL) finds o again on the loop afterwards
 * (smbd_open_ref_find(): NULL if it was closed meanwhile).
 */
struct smbd_open_ref {
	uint64_t persistent_id, volatile_id, session_id;
	uint32_t tree_id;
};
int smbd_open_hold_fd_for(TALLOC_CTX *owner, struct smbd_open *o, struct smbd_open_ref *ref);
struct smbd_open *smbd_open_ref_find(struct smbd_server *srv, const struct smbd_open_ref *ref);
/* Whether no transfer of o is in flight (its fd held by o alone). */
bool smbd_open_io_idle(const struct smbd_open *o);

/*
 * Whether tcon's session may have one more open ("max open files", per
 * session): OK, or INSUFFICIENT_RESOURCES (logged). CREATE asks before it
 * changes anything on disk.
 */
NTSTATUS smbd_open_check_limit(const struct smbd_tcon *tcon);
/* Allocates an open under tcon and assigns its ids; fd is adopted (closed
 * on failure). NULL when out of memory or past smbd_open_check_limit(). */
struct smbd_open *smbd_open_new(struct smbd_tcon *tcon, int fd);
/* Finds an open by the request's file id; checks it belongs to session/tree. */
/* An open read back from the store of persistent handles, under its old
 * id, with no tree (disconnected); it takes fd (closed on failure). */
struct smbd_open *smbd_open_restore(struct smbd_server *srv, struct smbd_share *share, int fd, uint64_t id);
struct smbd_open *smbd_open_find(struct smbd_server *srv, uint64_t persistent_id, uint64_t volatile_id,
				 uint64_t session_id, uint32_t tree_id);
/* Closes: applies delete-on-close, releases the fd, unlinks from tables. */
NTSTATUS smbd_open_close(struct smbd_open *o);

#endif
