/*
 * What the SMB fuzz targets share: one server for the whole run (shares in
 * a private temporary directory, a passdb with one user), and per input a
 * fresh connection on an in-memory transport that delivers PDUs through the
 * real entry (smbd_conn_recv) and discards the replies after reading them.
 *
 * Each input starts from the same state, so a crash reproduces from its
 * input alone: the connection (and with it its sessions, trees and opens)
 * is freed after the input, the share directories are emptied, and the
 * server's tables are checked to be empty again and its talloc tree not
 * to grow. A path that escapes its share, a malformed reply or any of
 * these aborts, so libFuzzer keeps the input.
 */
#ifndef PORTHOS_FUZZ_HARNESS_H
#define PORTHOS_FUZZ_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "tests/fuzz/fz_user.h"

struct smbd_server;
struct smbd_conn;
struct smbd_session;


/* Trees fz_client_setup() connects, in this order, so their ids are fixed. */
#define FZ_TID_SHARE 1 /* read-write */
#define FZ_TID_IPC 2
#define FZ_TID_PUB 3   /* read-only, guest ok */
#define FZ_TID_ENC 4   /* encryption required */
/* The session id inputs use for "the session of this connection". */
#define FZ_SID_ALIAS 1
/* File ids k/k (1 <= k <= this) name the connection's k-th oldest open. */
#define FZ_MAX_FID_ALIAS 64

struct fz_client {
	struct smbd_server *srv;
	struct smbd_conn *conn;   /* NULL once the server has freed it */
	struct fz_transport *t;
	uint64_t next_mid;
	uint64_t last_mid;
	uint16_t dialect;
	uint64_t sid;             /* the session fz_client_login() made */
	uint8_t *reply;           /* the last reply (setup reads it) */
	size_t reply_len;
};

/* The server, made on the first call. Aborts if it cannot be made. */
struct smbd_server *fz_server(void);

/* A connection as accepted, nothing negotiated yet. Aborts on failure. */
struct fz_client *fz_client_new(TALLOC_CTX *mem);
/*
 * NEGOTIATE (dialect; for 3.1.1 cipher 0 = no encryption context and
 * sign_algo < 0 = no signing context), an NTLMv2 logon as FZ_USER and the
 * four trees. False if any step fails.
 */
bool fz_client_setup(struct fz_client *c, uint16_t dialect, uint16_t cipher, int sign_algo);
/* The connection's newest session, or NULL. */
struct smbd_session *fz_client_session(struct fz_client *c);
/*
 * Rewrites each element's MessageId to the next one the credit window
 * allows (a CANCEL gets the previous request's), SessionId FZ_SID_ALIAS
 * to the connection's session and FileIds k/k to its k-th oldest open
 * (also a COPYCHUNK resume key k,0,0... and a DUPLICATE_EXTENTS source
 * k/k), so that inputs stay valid whatever ids this run hands out.
 */
void fz_patch_ids(struct fz_client *c, uint8_t *pdu, size_t len);
/* Delivers one PDU (copied) and runs what it made ready; false once the connection is closing. */
bool fz_client_send(struct fz_client *c, const uint8_t *pdu, size_t len);
/* Frees the connection, empties the shares and checks that nothing outlived it (aborts if so). */
void fz_client_free(struct fz_client *c);

/*
 * The next PDU of a stream of direct-TCP frames (type byte, 24-bit
 * length); a length past the end takes what is left. False at the end.
 */
bool fz_next_frame(const uint8_t **data, size_t *size, const uint8_t **pdu, size_t *len);

#endif
