/*
 * One handler per SMB2 command, each in its own smb2_<command>.c.
 */
#ifndef PORTHOS_SMBD_SMB2_HANDLERS_H
#define PORTHOS_SMBD_SMB2_HANDLERS_H

#include "smbd/req.h"

NTSTATUS smb2_negotiate(struct smb2_call *call);
NTSTATUS smb2_session_setup(struct smb2_call *call);
NTSTATUS smb2_logoff(struct smb2_call *call);
NTSTATUS smb2_tree_connect(struct smb2_call *call);
NTSTATUS smb2_tree_disconnect(struct smb2_call *call);
NTSTATUS smb2_create(struct smb2_call *call);
NTSTATUS smb2_close(struct smb2_call *call);
NTSTATUS smb2_flush(struct smb2_call *call);
NTSTATUS smb2_read(struct smb2_call *call);
NTSTATUS smb2_write(struct smb2_call *call);
NTSTATUS smb2_lock(struct smb2_call *call);
NTSTATUS smb2_ioctl(struct smb2_call *call);
NTSTATUS smb2_echo(struct smb2_call *call);
NTSTATUS smb2_query_directory(struct smb2_call *call);
NTSTATUS smb2_change_notify(struct smb2_call *call);
NTSTATUS smb2_query_info(struct smb2_call *call);
NTSTATUS smb2_set_info(struct smb2_call *call);
NTSTATUS smb2_oplock_break(struct smb2_call *call);
/* OPLOCK_BREAK carries an oplock acknowledgment (24 bytes) or a lease one (36). */
bool smb2_oplock_break_is_lease_ack(const struct smb2_call *call);

/* Runs a CREATE again after the oplock breaks it waited for (file_state.c). */
void smb2_create_retry(struct smb2_call *call);
/* A SET_INFO that waited (a rename behind lease breaks) runs again. */
void smb2_set_info_retry(struct smb2_call *call);

/* SMB1 NEGOTIATE from an old-style client: answered with an SMB2 NEGOTIATE response. */
void smb1_negotiate(struct smbd_conn *conn, const uint8_t *pdu, size_t len);
/* Builds the SMB2 NEGOTIATE response body for 'dialect' (shared with the SMB1 upgrade path). */
NTSTATUS smb2_negotiate_build_response(struct smbd_conn *conn, struct wire_wr *w, uint16_t dialect,
				       const uint8_t *contexts_blob, size_t contexts_len, uint16_t n_contexts);

#endif
