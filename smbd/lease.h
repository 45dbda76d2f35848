/*
 * SMB2 leases (MS-SMB2 3.3.1.12, 3.3.4.7, 3.3.5.9.8, 3.3.5.9.11,
 * 3.3.5.22.2; the rules of MS-FSA 2.1.5.17 as Windows applies them):
 * a client's caching rights on a file, named by a key of its choosing and
 * shared by all its opens that name the same key.
 *
 * R (read caching) and H (handle caching) can be held by many leases at
 * once; W (write caching) only by a lease whose opens are the file's only
 * ones. A new open of another key takes W away (a break to the rest,
 * acknowledged before the open goes on), a write through another key
 * takes R and H away; an overwrite takes everything. A directory's lease
 * (SMB 3.x) is R and H at most, broken by changes to what the directory
 * lists (smbd/dir_lease.h). Like oplocks, the
 * state lives with the file (file_state.c), so a cluster implementation
 * can keep it coherent across nodes.
 */
#ifndef PORTHOS_SMBD_LEASE_H
#define PORTHOS_SMBD_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/ntstatus.h"

struct smbd_file;
struct smbd_open;
struct smbd_server;
struct wire_wr;

#define SMB2_LEASE_READ 0x01u
#define SMB2_LEASE_HANDLE 0x02u
#define SMB2_LEASE_WRITE 0x04u
#define SMB2_LEASE_FLAG_BREAK_IN_PROGRESS 0x02u
#define SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET 0x04u

/* The lease a CREATE asks for (MS-SMB2 2.2.13.2.8, 2.2.13.2.10). */
struct smbd_lease_request {
	bool v2;
	uint8_t key[16];
	uint32_t state;
	uint32_t flags;
	uint8_t parent_key[16];
	uint16_t epoch;
};

struct smbd_lease;

/*
 * MS-SMB2 3.3.5.9.8: a key leases one name. Before anything is opened:
 * INVALID_PARAMETER when the client's lease with this key is on another
 * name (rel, from vfs_path_from_smb(), compared as the share does).
 */
NTSTATUS smbd_lease_name_check(struct smbd_server *srv, const uint8_t client_guid[16],
			       const struct smbd_lease_request *lr, const void *share, bool case_sensitive,
			       const char *rel);

/*
 * The caching another open of o's file costs lease l (MS-FSA 2.1.5.17):
 * W goes, or everything on an overwrite, and H too for an open that will
 * delete the file (delete-on-close: smbtorture smb2.lease.unlink). True
 * when the open must wait for the holder's acknowledgment: while W goes
 * (the holder writes back first), or, for an open that already waited
 * (not first_attempt), while l is still breaking.
 */
bool smbd_lease_break_for_open(struct smbd_file *f, struct smbd_lease *l, bool overwrite, bool deleting,
			       bool first_attempt);
/* A sharing violation with an open of l: l gives up H, so its holder can
 * close handles it keeps only for caching. True while an ack is awaited. */
bool smbd_lease_break_handles(struct smbd_file *f, struct smbd_lease *l);
/* o renames or deletes its file: the other leases on it lose H (their
 * holders close what they keep open for caching). True while an
 * acknowledgment is awaited, for a caller that waits for it (a rename). */
bool smbd_lease_break_others_handles(const struct smbd_open *o);
/* o renamed its file to new_name (client form): its lease follows the file
 * (smbtorture smb2.lease.v2_rename); the others lose H. */
void smbd_lease_renamed(struct smbd_open *o, const char *new_name);
/* A write or lock through 'writer': other leases lose R and H (no waiting). */
void smbd_lease_break_for_write(struct smbd_file *f, const struct smbd_open *writer);
/*
 * What directory (dev, ino) lists changed (smbd/dir_lease.h): its leases
 * break to none without waiting, all but those whose key is parent_key
 * (NULL: none is spared).
 */
void smbd_lease_break_listing(struct smbd_server *srv, dev_t dev, ino_t ino, const uint8_t *parent_key);
/* The ParentLeaseKey l was granted with, or NULL (l NULL, or none). */
const uint8_t *smbd_lease_parent_key(const struct smbd_lease *l);

/* The client's lease with this key, or NULL. */
struct smbd_lease *smbd_lease_find(struct smbd_server *srv, const uint8_t client_guid[16], const uint8_t key[16]);

/*
 * The lease of o, a new open registered with its file: the client's lease
 * of the file, upgraded when the request asks for strictly more and the
 * other opens allow it, or a new lease with what they allow. o joins it;
 * its oplock level becomes SMB2_OPLOCK_LEVEL_LEASE.
 */
NTSTATUS smbd_lease_grant(struct smbd_open *o, const uint8_t client_guid[16], const struct smbd_lease_request *lr,
			  const void *share, const char *rel);
/* o leaves its lease (at close); the last open ends the lease. */
void smbd_lease_leave(struct smbd_open *o);
/* A persistent open read back at start takes its lease again, as it was
 * (joining it if another restored open brought it back already). */
NTSTATUS smbd_lease_restore(struct smbd_open *o, const uint8_t client_guid[16], const struct smbd_lease_request *lr,
			    const void *share, const char *rel);
/* The lease as a request would name it, for the store of persistent handles. */
void smbd_lease_describe(const struct smbd_lease *l, struct smbd_lease_request *out);

/* The SMB2_CREATE_RESPONSE_LEASE(_V2) context data for o's lease. */
void smbd_lease_encode_response(const struct smbd_open *o, struct wire_wr *w);
size_t smbd_lease_response_size(const struct smbd_open *o);

/*
 * MS-SMB2 3.3.5.22.2: the client acknowledges a break of its lease 'key'
 * to 'state', which the response then reports (a next step of the break
 * may already be under way: smbtorture smb2.lease.breaking3).
 */
NTSTATUS smbd_lease_ack(struct smbd_server *srv, const uint8_t client_guid[16], const uint8_t key[16],
			uint32_t state);
uint32_t smbd_lease_state(const struct smbd_lease *l);
/* Whether a break of l waits for its acknowledgment. */
bool smbd_lease_breaking(const struct smbd_lease *l);

#endif
