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

struct smbd_bigbufs;
struct smbd_conn;
struct smbd_iopool;
struct smbd_session;

/*
 * The transform header's checks (it needs only the header's bytes at pdu;
 * len is the whole frame's), and the session whose key opens the message.
 */
NTSTATUS smbd_transform_check_header(struct smbd_conn *conn, const uint8_t *pdu, size_t len,
				     struct smbd_session **out);

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
 * (transform header + ciphertext) owned by *owner, a child of mem; *out
 * describes it. Large frames come from bufs (kept mapped between uses:
 * a deep queue of sealed READs otherwise faults in every frame).
 */
bool smbd_transform_encrypt(struct smbd_session *s, struct smbd_bigbufs *bufs, TALLOC_CTX *mem,
			    const struct iovec *iov, int iovcnt, struct iovec *out, void **owner);

/*
 * Large messages are sealed and opened on an I/O worker when there are
 * workers, so the loop goes on with other work and every core helps with
 * AES: a core spends some 250 us on 1 MiB.
 */
#define SMBD_CRYPTO_OFFLOAD_MIN (256u * 1024)
/*
 * A received message waiting for a worker no longer counts against the
 * transport's receive budget: what a loop's connections have out on its
 * workers together is bounded here instead. Past it, work is done inline, which
 * slows reading as it should.
 */
#define SMBD_CRYPTO_OFFLOAD_BUDGET (256u * 1024 * 1024)
bool smbd_crypto_offload_wanted(const struct smbd_conn *conn, size_t len);
/* Large messages a connection may have on workers at once; past that they
 * are opened inline, which slows its reading as it should. */
#define SMBD_MAX_OPENING 4
/* Counts len bytes on (start) or off a worker against that budget. */
void smbd_crypto_offload_account(struct smbd_conn *conn, size_t len, bool start);

/*
 * Opens a large transform PDU on a worker. PENDING: opened(conn, pdu, len,
 * status, session_id) follows on the loop (never when the connection is
 * going by then: the PDU is freed instead), with the plaintext in place
 * after the transform header. Anything else: it was not taken (too small,
 * no workers, the budget spent, a header smbd_transform_decrypt() will
 * refuse); the caller decrypts inline.
 */
typedef void (*smbd_transform_opened_fn)(struct smbd_conn *conn, uint8_t *pdu, size_t len, NTSTATUS status,
					 uint64_t session_id);
NTSTATUS smbd_transform_decrypt_offload(struct smbd_conn *conn, uint8_t *pdu, size_t len,
					smbd_transform_opened_fn opened);

/*
 * Sealing in two steps, for a worker: prepare() takes the next nonce of
 * the session and lays out the frame (header, room for payload_len bytes)
 * on mem (from bufs when large), with a copy of the key; seal() encrypts the payload into it on
 * any thread and forgets the key. On a worker, set pool: a large payload
 * is then sealed by the idle workers too (smbd/crypto_share.h).
 */
struct smbd_sealer {
	uint16_t cipher;
	uint8_t key[32];
	uint8_t *frame;
	size_t len;
	void *owner; /* talloc object that holds frame: free it, or hand it to the send */
	struct smbd_iopool *pool;
};
bool smbd_transform_prepare(struct smbd_session *s, struct smbd_bigbufs *bufs, TALLOC_CTX *mem,
			    size_t payload_len, struct smbd_sealer *out);
bool smbd_transform_seal(struct smbd_sealer *z, const struct iovec *iov, int iovcnt);

/* Whether s can encrypt at all (a cipher was agreed and keys derived). */
bool smbd_session_can_encrypt(const struct smbd_session *s);

#endif
