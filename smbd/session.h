/*
 * Sessions (MS-SMB2 3.3.1.8). Owned by the server, not by a connection:
 * multichannel binds one session to several connections, and a session's
 * durable handles outlive a dropped channel. Found by id in srv->sessions.
 */
#ifndef PORTHOS_SMBD_SESSION_H
#define PORTHOS_SMBD_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "lib/crypto/smb2_keys.h"
#include "lib/crypto/smb2_sign.h"
#include "lib/ntstatus.h"

struct smbd_server;
struct smbd_conn;
struct auth_server;
struct idtable;
struct smbd_identity;

enum smbd_session_state {
	SMBD_SESSION_IN_PROGRESS,
	SMBD_SESSION_VALID,
	SMBD_SESSION_EXPIRED,
};

struct smbd_session {
	struct smbd_server *srv;
	uint64_t id;
	enum smbd_session_state state;
	uint64_t conn_id;        /* the channel it was established on */
	uint16_t dialect;

	struct auth_server *auth; /* during (re)authentication only */
	time_t expires;           /* realtime; 0 = never (Session.ExpirationTime) */
	char *user;
	char *domain;
	uint32_t uid, gid;
	bool anonymous, guest;
	struct smbd_identity *identity; /* smbd_session_identity(): built on first use */

	bool signing_required;
	bool has_keys;
	enum smb2_sign_algo sign_algo;
	uint8_t session_key[16];
	struct smb2_session_keys keys;
	uint16_t cipher;          /* SMB2 cipher id the keys are for; 0 = none */
	uint64_t nonce_counter;   /* transform nonces, never reused */
	uint8_t nonce_prefix[4];
	bool encrypt_data;        /* every request must arrive encrypted */
	uint8_t preauth_hash[64]; /* 3.1.1, while setting up */

	struct idtable *tcons;   /* tree id -> struct smbd_tcon */
	unsigned n_opens;        /* opens under its trees (smbd/open.c), at most "max open files" */
	time_t auth_deadline;    /* an unfinished setup is dropped after this */
};

struct smbd_session *smbd_session_new(struct smbd_server *srv, struct smbd_conn *conn);
struct smbd_session *smbd_session_find(struct smbd_server *srv, uint64_t id);
/* Tears down trees and opens, then frees the session. */
void smbd_session_destroy(struct smbd_session *s);
/*
 * LOGOFF: closes the trees now and unlists the session, but frees it with
 * the request, since the LOGOFF reply is still signed with its key.
 */
struct smb2_call;
void smbd_session_logoff_after_reply(struct smb2_call *call, struct smbd_session *s);
/* Drops every session established on conn (no multichannel binding yet). */
void smbd_sessions_drop_conn(struct smbd_server *srv, uint64_t conn_id);
/* Signs one reply element in place, covering the iov list. */
bool smbd_session_sign(const struct smbd_session *s, struct iovec *iov, int iovcnt);
/* Verifies a request element's signature. */
bool smbd_session_verify(const struct smbd_session *s, const uint8_t *msg, size_t len);

#endif
