/*
 * Channel sequence numbers (MS-SMB2 3.3.5.2.10): after a reconnect a 3.x
 * client raises the ChannelSequence it puts in its request headers, so
 * the server can tell a WRITE, SET_INFO or IOCTL sent before the failure
 * (which may still be in flight, or be replayed) from one sent after it,
 * and refuse the stale one with FILE_NOT_AVAILABLE rather than apply it
 * over newer data.
 *
 * Each open keeps the highest sequence seen and counts the requests in
 * progress under it and under the ones before; a request is counted when
 * it names its open and settled when its request is freed.
 */
#ifndef PORTHOS_SMBD_CHANNEL_SEQUENCE_H
#define PORTHOS_SMBD_CHANNEL_SEQUENCE_H

#include "lib/ntstatus.h"

struct smb2_call;
struct smbd_open;
struct smbd_req;

/* A new open starts at the sequence its CREATE carried. */
void smbd_channel_sequence_init(struct smbd_open *o, const struct smb2_call *create);

/* Checks and counts a call that names open o; once per call. */
NTSTATUS smbd_channel_sequence_check(struct smb2_call *call, struct smbd_open *o);

/* The request is over: its counted calls leave their opens' counts. */
void smbd_channel_sequence_settle(struct smbd_req *req);

#endif
