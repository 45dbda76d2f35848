/*
 * The store of persistent handles (MS-SMB2 3.3.5.9.10, Open.IsPersistent):
 * one record per open, a file in a directory of its own, written and
 * made durable (the file, then the directory) before the CREATE reply
 * leaves, removed when the open closes, and read back when the server
 * starts, so that the opens wait, disconnected, for their clients to
 * reconnect after the server was killed or its node died. Kept on the
 * share's storage, or in a state directory on shared storage, any node
 * of a cluster can read them.
 *
 * A record is text, one "key value" per line, names and binary fields in
 * hex so any byte survives, and an "end" line last: a record without it
 * (a torn write that somehow got past the rename) is refused. Blocking
 * calls: run them on an I/O worker.
 */
#ifndef PORTHOS_SMBD_PH_STORE_H
#define PORTHOS_SMBD_PH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <talloc.h>

struct smbd_ph_record {
	uint64_t persistent_id;
	char *share;       /* the share's name */
	char *rel_path;    /* beneath the share's root */
	char *smb_name;    /* as the client named it */
	uint32_t access, share_access, create_options;
	uint64_t dev, ino; /* the object opened: a record naming another is stale */
	uint8_t create_guid[16];
	uint8_t client_guid[16];
	char *user;        /* who may take it back */
	uid_t uid;
	gid_t gid;
	uint32_t timeout_ms;
	uint8_t oplock_level;
	bool has_lease;
	uint8_t lease_key[16];
	uint8_t lease_parent_key[16];
	uint32_t lease_state;
	uint16_t lease_epoch;
	uint8_t lease_version;
	struct smbd_ph_lock {
		uint64_t offset, length;
		bool exclusive;
	} *locks;          /* the byte-range locks it holds (a talloc array) */
	size_t n_locks;
};

/* The store in directory dir (made if missing, mode 0700); NULL with errno set. */
struct smbd_ph_store;
struct smbd_ph_store *smbd_ph_store_open(TALLOC_CTX *mem, const char *dir);

/* Writes r durably, replacing a record of the same id: 0, or an errno. */
int smbd_ph_store_put(struct smbd_ph_store *st, const struct smbd_ph_record *r);

/* Removes the record of id durably (none is no error): 0, or an errno. */
int smbd_ph_store_remove(struct smbd_ph_store *st, uint64_t persistent_id);
/* The same without waiting for the disk (one unlink): for the event loop,
 * where a record that comes back after a crash costs only a wait. */
void smbd_ph_store_forget(struct smbd_ph_store *st, uint64_t persistent_id);

/*
 * Every record that can be read, as an array on mem (*n of them). What
 * cannot be read (damaged, of another version) is left where it is and
 * counted in *bad, for the caller to report. 0, or an errno for the
 * directory itself.
 */
int smbd_ph_store_load(struct smbd_ph_store *st, TALLOC_CTX *mem, struct smbd_ph_record **out, size_t *n,
		       size_t *bad);

/* The record as text, and back (exposed for the unit tests). */
char *smbd_ph_record_format(TALLOC_CTX *mem, const struct smbd_ph_record *r);
bool smbd_ph_record_parse(TALLOC_CTX *mem, const char *text, struct smbd_ph_record *r);

#endif
