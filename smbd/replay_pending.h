/*
 * CREATEs with a DH2Q CreateGuid that wait for oplock or lease breaks
 * (MS-SMB2 3.3.5.9.10): a replay of one (SMB2_FLAGS_REPLAY_OPERATION, the
 * same CreateGuid from the same client, after a reconnect or on another
 * channel) while the original still waits is refused with ACCESS_DENIED,
 * as Windows does (Samba answers FILE_NOT_AVAILABLE; smbtorture
 * smb2.replay.dhv2-pending*-windows against -sane). Once the original has
 * its open, a replay finds that open (smbd/create_guid.h).
 */
#ifndef PORTHOS_SMBD_REPLAY_PENDING_H
#define PORTHOS_SMBD_REPLAY_PENDING_H

#include <stdbool.h>
#include <stdint.h>

struct smb2_call;
struct smbd_conn;
struct smbd_server;

/* call, a CREATE with create_guid, waits: noted until the call ends. */
bool smbd_replay_pending_note(struct smb2_call *call, const uint8_t create_guid[16]);
/* Whether another call of this client with create_guid waits. */
bool smbd_replay_pending_find(const struct smb2_call *call, const uint8_t create_guid[16]);

/*
 * conn is going: a CREATE of it noted here whose session goes on through
 * another channel keeps waiting and completes for that session,
 * unanswered (call->outlives_conn), holding conn's memory until it ends;
 * the client takes the open with a replay on another channel. MS-SMB2
 * 3.3.7.1 cancels a lost channel's requests; Windows and Samba finish such
 * a CREATE, and clients replay it to get it (smbtorture
 * smb2.replay.dhv2-pending2*, 3.2.7.1).
 * Called before conn's channels leave their sessions.
 */
void smbd_replay_pending_outlive(struct smbd_conn *conn);

#endif
