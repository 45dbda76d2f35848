/*
 * SMB 3 encryption: the transform header (MS-SMB2 2.2.41, 3.3.4.1.4,
 * 3.3.5.2.1.1). A whole compound travels as one encrypted message.
 */
#ifndef PORTHOS_SMBD_TRANSFORM_H
#define PORTHOS_SMBD_TRANSFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <talloc.h>

#include "lib/ntstatus.h"

struct smbd_conn;
struct smbd_session;

/*
 * Decrypts a transform PDU in place. On success *plain points into pdu
 * and *session_id names the session whose key decrypted it. Any failure
 * (unknown session, bad tag, lying sizes) ends the connection: the caller
 * drops it.
 */
NTSTATUS smbd_transform_decrypt(struct smbd_conn *conn, uint8_t *pdu, size_t len, uint8_t **plain,
				size_t *plain_len, uint64_t *session_id);

/*
 * Encrypts the message in iov for session s into one new buffer
 * (transform header + ciphertext) allocated on mem; *out describes it.
 */
bool smbd_transform_encrypt(struct smbd_session *s, TALLOC_CTX *mem, const struct iovec *iov, int iovcnt,
			    struct iovec *out);

/* Whether s can encrypt at all (a cipher was agreed and keys derived). */
bool smbd_session_can_encrypt(const struct smbd_session *s);

#endif
