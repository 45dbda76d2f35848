/*
 * Sending the replies of a request (smbd/reply.c).
 */
#ifndef PORTHOS_SMBD_REPLY_H
#define PORTHOS_SMBD_REPLY_H

#include <stdbool.h>
#include <stddef.h>

struct smbd_req;
struct smb2_call;

/*
 * Sends the replies of elements [from, to) of req as one compound PDU.
 * The last send of a request (last_of_req) may hand the request to an I/O
 * worker to seal or sign large replies: then it returns true, and the
 * request is freed once the replies are sent. A failure ends the
 * connection.
 */
bool smbd_send_replies(struct smbd_req *req, size_t from, size_t to, bool last_of_req);

/*
 * Whether call's reply will go as it is, neither signed nor sealed, in a
 * PDU of its own: only then may its data come from a pipe (out_pipe).
 */
bool smbd_reply_plain(const struct smb2_call *call);

#endif
