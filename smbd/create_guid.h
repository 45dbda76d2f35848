/*
 * Open.CreateGuid (MS-SMB2 3.3.5.9.10): every open made by a CREATE with
 * a DH2Q context keeps its CreateGuid, durable or not (smbtorture
 * smb2.replay.dhv2-pending1n: a replay finds a non-durable open too).
 * A CREATE of the same client naming it without SMB2_FLAGS_REPLAY_OPERATION
 * gets DUPLICATE_OBJECTID; a replay in the same session of an open not used
 * since gets that open again, with the CreateAction of its first reply; any
 * other replay runs as a new CREATE, as Windows does (smb2.replay.replay6).
 * A disconnected open takes no part until its client reconnects.
 */
#ifndef PORTHOS_SMBD_CREATE_GUID_H
#define PORTHOS_SMBD_CREATE_GUID_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/ntstatus.h"

struct smb2_call;
struct smbd_open;

/* o was made (or restored) for client_guid's CREATE with create_guid; noted until o closes. */
bool smbd_create_guid_note(struct smbd_open *o, const uint8_t client_guid[16], const uint8_t create_guid[16]);
/* o no longer answers to its CreateGuid (a resilient open: Open.IsDurable is FALSE). */
void smbd_create_guid_forget(struct smbd_open *o);
/*
 * The rules above for call, a CREATE with create_guid: DUPLICATE_OBJECTID,
 * or OK with *out the open a replay gets (and *action), or NULL to go on
 * as a new CREATE.
 */
NTSTATUS smbd_create_guid_replayed(const struct smb2_call *call, const uint8_t create_guid[16],
				   struct smbd_open **out, uint32_t *action);
/* The CreateAction of o's first reply, for a replay. */
void smbd_create_guid_note_action(struct smbd_open *o, uint32_t action);
/* A request used o: its CREATE may no longer be replayed (Open.IsReplayEligible). */
void smbd_create_guid_used(struct smbd_open *o);

#endif
