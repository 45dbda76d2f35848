/*
 * Durable handles (MS-SMB2 3.3.5.9.6, 3.3.5.9.7, 3.3.5.9.10, 3.3.5.9.12,
 * 3.3.7.1): an open granted durability outlives its connection, session
 * and tree connect, whatever ends them but a CLOSE (a dropped connection,
 * a LOGOFF or TREE_DISCONNECT as on Windows and Samba, a reconnect naming
 * the session as PreviousSessionId), for a time-out. It keeps its oplock or lease, its
 * share mode and its byte-range locks, and the client takes it back with
 * a DHnC (v1) or DH2C (v2) CREATE on a new session. Other clients are
 * kept out meanwhile by its share mode; an open that would break its
 * oplock or lease instead closes it, as Windows does (smbtorture
 * smb2.durable-v2-open.purge-disconnected-*): the holder cannot hear the
 * break.
 *
 * Only an open that caches its handle is durable (a batch oplock, or a
 * lease with H), and only while it still does when the connection goes.
 * Their state lives in the server's memory: a restart loses it.
 * Persistent and resilient opens (below) are kept whatever they cache;
 * persistent ones are also written to a store on disk, and outlive a
 * restart.
 */
#ifndef PORTHOS_SMBD_DURABLE_H
#define PORTHOS_SMBD_DURABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/ntstatus.h"

struct smb2_call;
struct smbd_server;
struct smbd_lease_request;
struct smbd_open;
struct wire_rd;
struct wire_wr;

/* MS-SMB2 2.2.13.2.11 */
#define SMB2_DHANDLE_FLAG_PERSISTENT 0x00000002u

/* What a CREATE's durable contexts asked for. */
struct smbd_durable_request {
	uint8_t version;          /* 0: none; 1: DHnQ; 2: DH2Q */
	uint32_t timeout_ms;      /* DH2Q: 0 for the server's default */
	uint32_t flags;           /* DH2Q, DH2C */
	uint8_t create_guid[16];  /* DH2Q, DH2C */
	uint8_t reconnect;        /* 0: none; 1: DHnC; 2: DH2C */
	uint64_t fid_p, fid_v;    /* DHnC, DH2C: the open to take back */
	uint8_t seen;             /* which of the four came (smbd_durable_parse) */
};

/*
 * One create context, if it is one of "DHnQ", "DHnC", "DH2Q", "DH2C":
 * true (and *status INVALID_PARAMETER if it is malformed or repeated).
 */
bool smbd_durable_parse(const uint8_t tag[4], struct wire_rd *data, uint16_t dialect, struct smbd_durable_request *r,
			NTSTATUS *status);

/* The contexts together (MS-SMB2 3.3.5.9.6, 3.3.5.9.10): OK, or INVALID_PARAMETER. */
NTSTATUS smbd_durable_check(struct smbd_durable_request *r);

/*
 * After a new open's oplock or lease is granted: durable if r asked for
 * it and the open caches its handle. s is the session it belongs to.
 */
struct smbd_session;
void smbd_durable_grant(struct smbd_open *o, const struct smbd_durable_request *r, struct smbd_session *s,
			const uint8_t client_guid[16], bool persistent_ok);

/* The response context of a grant ("DHnQ" or "DH2Q"): its size, 0 if none. */
uint32_t smbd_durable_response_size(const struct smbd_open *o, const char **tag);
void smbd_durable_encode_response(const struct smbd_open *o, struct wire_wr *w);

/*
 * FSCTL_LMR_REQUEST_RESILIENCY (MS-SMB2 3.3.5.15.9): o is kept for
 * timeout_ms (0: the default) after its connection is lost, whatever it
 * caches, and is taken back with a DHnC; a durable open stops being one.
 * INVALID_PARAMETER past the ceiling, NOT_SUPPORTED where durable handles
 * are off or for an anonymous session.
 */
NTSTATUS smbd_durable_make_resilient(struct smbd_open *o, struct smbd_session *s, const uint8_t client_guid[16],
				     uint32_t timeout_ms);
bool smbd_durable_resilient(const struct smbd_open *o);

/*
 * o's connection or session is gone: true if o stays, disconnected, for
 * its time-out (it is then no longer under its tree); false if the caller
 * must close it.
 */
bool smbd_durable_disconnect(struct smbd_open *o);

/* Whether o is a durable open whose client is away. */
bool smbd_open_disconnected(const struct smbd_open *o);

/*
 * A break o cannot hear: if o is disconnected (and not persistent) it is
 * closed on the next loop turn, which wakes what waits on the file, and
 * true is returned.
 */
bool smbd_durable_purge(struct smbd_open *o);

/*
 * DHnC / DH2C: the disconnected open r names, taken back under the call's
 * tree. lease is the request's lease context, or NULL, and name the
 * request's name (NULL if unreadable), which must be the lease's.
 * OBJECT_NAME_NOT_FOUND when there is no such open for this client to
 * take, INVALID_PARAMETER for a lease's open under another name,
 * ACCESS_DENIED when another user asks.
 */
NTSTATUS smbd_durable_reconnect(struct smb2_call *call, const struct smbd_durable_request *r,
				const struct smbd_lease_request *lease, const char *name, struct smbd_open **out);

/* Whom a disconnected open's delete on close acts as (its session is gone). */
struct smbd_identity;
const struct smbd_identity *smbd_durable_owner(const struct smbd_open *o);

/*
 * Persistent handles (MS-SMB2 3.3.5.9.10), granted by smbd_durable_grant()
 * when persistent_ok (the connection negotiated them) on a share with
 * "continuous availability = yes": kept, disconnected, whatever they
 * cache, and written to the server's store (smbd/ph_store.h) before the
 * CREATE reply, so that they outlive the server itself.
 */
struct smbd_ph_record;
bool smbd_durable_persistent(const struct smbd_open *o);
/* o's record, its strings copies on mem (for a worker to write); false when out of memory. */
bool smbd_durable_record(const struct smbd_open *o, TALLOC_CTX *mem, struct smbd_ph_record *r);
/* The record could not be written: o stays durable only if it would have been anyway. */
void smbd_durable_not_persistent(struct smbd_open *o);
/*
 * o's byte-range locks changed: a persistent open's record is rewritten
 * on a worker, behind the reply (a crash within those milliseconds loses
 * the newest change, never an older state).
 */
void smbd_durable_changed(struct smbd_open *o);
/* At start: the open of a record waits again for its client; false if it cannot (logged). */
bool smbd_durable_restore(struct smbd_server *srv, const struct smbd_ph_record *r);

#endif
