/*
 * A large sealed message opened while it still arrives: AES-GCM decrypts
 * as a stream, so the ciphertext already received is decrypted on an I/O
 * worker while the rest crosses the wire, and once the last byte is in
 * only that last piece and the tag are left. Opened whole after arrival,
 * a 1 MiB WRITE waited some 250 us more (docs/PERFORMANCE.md, "Sealed
 * WRITEs opened as they arrive").
 *
 * Nothing decrypted is used before the tag is checked: the message is
 * dispatched only then, and zeroed when the check fails. CCM (SMB 3.0)
 * cannot be opened in pieces; its messages are opened whole as before.
 */
#ifndef PORTHOS_SMBD_TRANSFORM_STREAM_H
#define PORTHOS_SMBD_TRANSFORM_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smbd/transform.h"

struct smbd_conn;

/*
 * The first got of len bytes of a frame are at pdu, which stays where it
 * is until the frame is delivered (smbd_transform_stream_finish()) or the
 * connection ends. Starts opening it if it is a large sealed message on a
 * session that can be opened so, and hands what arrived since to a worker.
 * True while the frame is opened so; false when it is left to be opened
 * whole once delivered.
 *
 * Only a frame that is the connection's one being opened goes in steps:
 * at one request in flight that hides most of the decryption behind the
 * arrival, but with a queue (other frames already opening on workers)
 * whole frames opened side by side on workers cost fewer hand-offs and
 * let the transport read in large pieces (sealed 1 MiB WRITEs at depth
 * 32: about 1.2 GB/s in steps, 1.5-1.7 whole).
 */
bool smbd_transform_stream_progress(struct smbd_conn *conn, uint8_t *pdu, size_t got, size_t len);

/*
 * The whole frame is in. If it was being opened as it arrived: takes pdu,
 * true, and opened() follows on the loop (as smbd_transform_decrypt_offload()
 * says). false: it was not; the caller opens it as usual.
 */
bool smbd_transform_stream_finish(struct smbd_conn *conn, uint8_t *pdu, size_t len,
				  smbd_transform_opened_fn opened);

#endif
