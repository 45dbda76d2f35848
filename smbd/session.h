/*
 * Sessions (MS-SMB2 3.3.1.8). Owned by the server, not by a connection:
 * multichannel binds one session to several connections, and a session's
 * durable handles outlive a dropped channel. Found by id in srv->sessions.
 */
#ifndef PORTHOS_SMBD_SESSION_H
#define PORTHOS_SMBD_SESSION_H

#include <stdatomic.h>
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

/* A signing key and the algorithm it goes with. */
struct smbd_sign_key {
	enum smb2_sign_algo algo;
	uint8_t key[16];
};

/*
 * A connection bound to a session (MS-SMB2 3.3.1.14 Per Channel). The
 * connection that set the session up is its first channel; binding
 * (SMB2_SESSION_FLAG_BINDING) adds more. Authentication runs per channel:
 * the first setup, a binding and a re-authentication each keep their
 * context and 3.1.1 pre-auth hash here while they are under way.
 */
struct smbd_channel {
	struct smbd_channel *next;
	struct smbd_session *session;
	uint64_t conn_id;
	bool ready;               /* set up: requests may use the session here */
	bool has_key;             /* sign carries a key (not for anonymous or guest) */
	struct smbd_sign_key sign; /* Channel.SigningKey, with the connection's algorithm */
	struct auth_server *auth; /* an authentication under way on this channel */
	uint8_t preauth_hash[64];
};

/* Windows Server's limit (smbtorture smb2.multichannel.generic.num_channels). */
#define SMBD_MAX_CHANNELS 32

enum smbd_session_state {
	SMBD_SESSION_IN_PROGRESS,
	SMBD_SESSION_VALID,
	SMBD_SESSION_EXPIRED,
};

struct smbd_session {
	struct smbd_server *srv;
	uint64_t id;
	/* Atomic: a loop's common path may find the ticket expired and say
	 * so here while other loops read it (smbd/control.h). */
	_Atomic enum smbd_session_state state;
	uint64_t conn_id;        /* its primary channel: breaks go there */
	uint16_t dialect;
	struct smbd_channel *channels;
	unsigned n_channels;

	time_t expires;           /* realtime; 0 = never (Session.ExpirationTime) */
	char *user;
	char *domain;
	uint32_t uid, gid;
	bool anonymous, guest;
	struct smbd_identity *identity; /* smbd_session_identity(): built on first use */

	bool signing_required;
	bool has_keys;
	enum smb2_sign_algo sign_algo; /* with keys.signing: Session.SigningKey */
	uint8_t session_key[16];
	struct smb2_session_keys keys;
	uint16_t cipher;          /* SMB2 cipher id the keys are for; 0 = none */
	/* Transform nonces, never reused: taken with one atomic step, since
	 * channels of the session on other loops seal at the same time. */
	_Atomic uint64_t nonce_counter;
	uint8_t nonce_prefix[4];
	bool encrypt_data;        /* every request must arrive encrypted */

	struct idtable *tcons;   /* tree id -> struct smbd_tcon */
	unsigned n_opens;        /* opens under its trees (smbd/open.c), at most "max open files" */
};

/* A session being set up on conn, with conn as its first (not yet ready) channel. */
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
/*
 * conn is gone: its channels leave their sessions, and a session left
 * without a ready channel is destroyed.
 */
void smbd_sessions_drop_conn(struct smbd_server *srv, uint64_t conn_id);
/* Whether s would go on without conn: it has another ready channel. */
bool smbd_session_outlives_conn(const struct smbd_session *s, uint64_t conn_id);

/*
 * The channel whose key checks the signed SMB2 message at hdr off the
 * loop, as the usual check in dispatch.c would: one message (no
 * compound), signed, on a ready channel of its session on conn_id that
 * has a key. NULL for anything else, which is checked the usual way.
 */
const struct smbd_channel *smbd_sign_channel(struct smbd_server *srv, uint64_t conn_id, const uint8_t *hdr);

/* The session's channel on a connection, ready or not; NULL if none. */
struct smbd_channel *smbd_session_channel(const struct smbd_session *s, uint64_t conn_id);
/* A new, not yet ready channel on conn; NULL past SMBD_MAX_CHANNELS or out of memory. */
struct smbd_channel *smbd_channel_add(struct smbd_session *s, struct smbd_conn *conn);
/* Removes a channel that never became ready (a failed binding). */
void smbd_channel_remove(struct smbd_channel *ch);
/*
 * Calls in flight on any of its channels stop pointing at the session
 * (t == NULL: and at its trees) or at tree t (smbd_requests_forget).
 */
struct smbd_tcon;
void smbd_session_requests_forget(struct smbd_session *s, const struct smbd_tcon *t);
/*
 * Where to send what the server says unasked (an oplock break): the
 * session's newest channel, as Windows does (and not on every channel in
 * turn, as MS-SMB2 3.3.4.6 has it: smbtorture
 * smb2.multichannel.oplocks.test3_windows), skipping channels that are
 * closing or stalled (smbd_conn_stalled, a path that died: oplocks.test2);
 * failing that, the newest that is only stalled.
 */
struct smbd_conn *smbd_session_notify_conn(const struct smbd_session *s);
/* Session.SigningKey with the session's algorithm: what a binding is signed with. */
void smbd_session_main_key(const struct smbd_session *s, struct smbd_sign_key *out);

/* Signs one reply element in place, covering the iov list. */
bool smbd_sign_key_sign(const struct smbd_sign_key *k, struct iovec *iov, int iovcnt);
/* Verifies a request element's signature. */
bool smbd_sign_key_verify(const struct smbd_sign_key *k, const uint8_t *msg, size_t len);

#endif
