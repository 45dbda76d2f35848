/*
 * The request path: PDU -> compound elements -> checks -> handler -> reply.
 */
#ifndef PORTHOS_SMBD_DISPATCH_H
#define PORTHOS_SMBD_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "lib/ntstatus.h"
#include "smbd/req.h"

struct smbd_conn;


/* Processes one received PDU; takes ownership of pdu. */
void smbd_dispatch_pdu(struct smbd_conn *conn, uint8_t *pdu, size_t len);

/*
 * Resolves a FileId from a request: the related-operation placeholder
 * (all ones) means the file of the previous CREATE in the chain.
 */
NTSTATUS smbd_call_open(struct smb2_call *call, uint64_t fid_persistent, uint64_t fid_volatile,
			struct smbd_open **out);
/* Records the file a related chain continues with (CREATE does this). */
void smbd_call_set_related_open(struct smb2_call *call, uint64_t fid_persistent, uint64_t fid_volatile);
/* MS-SMB2 3.3.5.2.5: a multi-credit request must be charged for its payload. */
NTSTATUS smbd_call_check_charge(const struct smb2_call *call, uint64_t payload_bytes);

#endif
