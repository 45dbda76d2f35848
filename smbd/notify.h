/*
 * Change notification (MS-SMB2 3.3.5.19, MS-FSA 2.1.5.11 and 2.1.4.1) on
 * Linux inotify: one inotify fd per server, registered on the event loop.
 *
 * An open watches from its first CHANGE_NOTIFY until it is closed, with
 * the completion filter and WATCH_TREE flag of that first request (as
 * Windows: later requests on the handle do not change them). Changes seen
 * while no request is pending are queued on the open, bounded by the first
 * request's OutputBufferLength; beyond it the open remembers an overflow
 * and the next request gets STATUS_NOTIFY_ENUM_DIR.
 */
#ifndef PORTHOS_SMBD_NOTIFY_H
#define PORTHOS_SMBD_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/ntstatus.h"

struct smb2_call;
struct smbd_open;
struct smbd_server;

/* MS-SMB2 2.2.35 Flags */
#define SMB2_WATCH_TREE 0x0001

/* MS-SMB2 2.2.35 CompletionFilter */
#define FILE_NOTIFY_CHANGE_FILE_NAME 0x00000001
#define FILE_NOTIFY_CHANGE_DIR_NAME 0x00000002
#define FILE_NOTIFY_CHANGE_ATTRIBUTES 0x00000004
#define FILE_NOTIFY_CHANGE_SIZE 0x00000008
#define FILE_NOTIFY_CHANGE_LAST_WRITE 0x00000010
#define FILE_NOTIFY_CHANGE_LAST_ACCESS 0x00000020
#define FILE_NOTIFY_CHANGE_CREATION 0x00000040
#define FILE_NOTIFY_CHANGE_EA 0x00000080
#define FILE_NOTIFY_CHANGE_SECURITY 0x00000100
#define FILE_NOTIFY_CHANGE_STREAM_NAME 0x00000200
#define FILE_NOTIFY_CHANGE_STREAM_SIZE 0x00000400
#define FILE_NOTIFY_CHANGE_STREAM_WRITE 0x00000800

/* MS-FSCC 2.4.42 Action */
#define FILE_ACTION_ADDED 1
#define FILE_ACTION_REMOVED 2
#define FILE_ACTION_MODIFIED 3
#define FILE_ACTION_RENAMED_OLD_NAME 4
#define FILE_ACTION_RENAMED_NEW_NAME 5

/* One change: name is UTF-8, '\\'-separated, relative to the watched directory. */
struct smbd_notify_change {
	uint32_t action;
	char *name;
};

/*
 * The work of a CHANGE_NOTIFY on directory open o (checked by the caller):
 * starts watching at the first request, then answers at once from the
 * queue (OK with the changes, or NOTIFY_ENUM_DIR) or parks the call and
 * returns NT_STATUS_PENDING from smbd_call_go_async().
 */
NTSTATUS smbd_notify_request(struct smb2_call *call, struct smbd_open *o, uint32_t filter, bool watch_tree,
			     uint32_t out_len);

/*
 * smbd_open_close() calls this before the fd is closed: pending requests on
 * the open complete with STATUS_NOTIFY_CLEANUP (MS-SMB2 3.3.5.10) on the
 * next loop turn, and the watches go.
 */
/* The inotify descriptor and its event, on the server's loop, at startup. */
void smbd_notify_setup(struct smbd_server *srv);

void smbd_notify_open_closing(struct smbd_open *o);

/*
 * The directory (dev, ino) became delete-pending (its delete-on-close passed
 * to a remaining open, MS-FSA 2.1.5.4): pending requests on its opens
 * complete with STATUS_DELETE_PENDING, and so do later ones (as Windows;
 * smb2.notify.rmdir1-4).
 */
void smbd_notify_delete_pending(struct smbd_server *srv, dev_t dev, ino_t ino);

/*
 * Encodes the CHANGE_NOTIFY response (MS-SMB2 2.2.36) with FILE_NOTIFY_INFORMATION
 * entries (MS-FSCC 2.4.42) into call->out; NT_STATUS_NOTIFY_ENUM_DIR (and an
 * empty buffer) when they do not fit in max_len. Lives in smb2_notify.c.
 */
NTSTATUS smb2_notify_encode(struct smb2_call *call, const struct smbd_notify_change *changes, size_t n,
			    uint32_t max_len);
/* The empty response body, for NOTIFY_ENUM_DIR and NOTIFY_CLEANUP. */
void smb2_notify_encode_empty(struct smb2_call *call);

#endif
