/*
 * A large sealed or signed message checked while it still arrives.
 *
 * AES-GCM decrypts as a stream, and every signing MAC (HMAC-SHA256,
 * AES-CMAC, AES-GMAC) takes its message in pieces, so what already
 * arrived is decrypted or hashed on an I/O worker while the rest crosses
 * the wire (the worker goes on with what arrives while it runs), and once
 * the last byte is in only that last piece and the tag or signature are
 * left. Checked whole after arrival, a 1 MiB WRITE waited
 * some 250 us more sealed (docs/PERFORMANCE.md, "Sealed WRITEs opened as
 * they arrive"), and signed the hand-off to a worker and its MAC more.
 *
 * Nothing is used before the check is over: the message is dispatched
 * only then; a sealed one that fails is zeroed and ends the connection, a
 * signed one is refused by the usual signature check. CCM (SMB 3.0)
 * cannot be opened in pieces; its messages are opened whole as before.
 */
#ifndef PORTHOS_SMBD_ARRIVAL_CHECK_H
#define PORTHOS_SMBD_ARRIVAL_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smbd/transform.h"

struct smbd_conn;

/*
 * The first got of len bytes of a frame are at pdu, which stays where it
 * is until the frame is delivered (smbd_arrival_check_finish()) or the
 * connection ends. Starts checking it if it is a large sealed message, or
 * a large signed one that is not a compound, on a session of this
 * connection that can be checked so, and hands what arrived since to a
 * worker. True while the frame is checked so; false when it is left to be
 * checked whole once delivered.
 *
 * Only a frame that is the connection's one being checked goes in steps:
 * at one request in flight that hides most of the work behind the
 * arrival, but with a queue (other frames already checked on workers)
 * whole frames checked side by side on workers cost fewer hand-offs and
 * let the transport read in large pieces (sealed 1 MiB WRITEs at depth
 * 32: about 1.2 GB/s in steps, 1.5-1.7 whole).
 */
bool smbd_arrival_check_progress(struct smbd_conn *conn, uint8_t *pdu, size_t got, size_t len);

/*
 * The whole frame is in. If it was being checked as it arrived: takes
 * pdu, true, and done() follows on the loop: for a sealed message as
 * smbd_transform_decrypt_offload() says of opened(); for a signed one
 * with NT_STATUS_OK and its session when the signature is good, else
 * NT_STATUS_ACCESS_DENIED. false: it was not; the caller checks it as
 * usual.
 */
bool smbd_arrival_check_finish(struct smbd_conn *conn, uint8_t *pdu, size_t len, smbd_transform_opened_fn done);

#endif
