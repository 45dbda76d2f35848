/*
 * The DCE/RPC server behind the named pipes of IPC$ (C706 chapter 12,
 * connection-oriented, as profiled by MS-RPCE for ncacn_np).
 *
 * The SMB layer owns the pipe handle and moves bytes; this module frames
 * them into PDUs, answers BIND/ALTER_CONTEXT, reassembles REQUEST
 * fragments, dispatches to an interface (lib/rpc/rpc_iface.h) and queues
 * RESPONSE/FAULT fragments for the client to read. Everything runs
 * synchronously inside rpc_pipe_write().
 */
#ifndef PORTHOS_RPC_SERVER_H
#define PORTHOS_RPC_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/ntstatus.h"

/* MS-SRVS 2.2.2.4 share types. */
#define RPC_STYPE_DISKTREE	0x00000000u
#define RPC_STYPE_PRINTQ	0x00000001u
#define RPC_STYPE_DEVICE	0x00000002u
#define RPC_STYPE_IPC		0x00000003u
#define RPC_STYPE_CLUSTER_FS	0x02000000u
#define RPC_STYPE_CLUSTER_SOFS	0x04000000u
#define RPC_STYPE_CLUSTER_DFS	0x08000000u
#define RPC_STYPE_TEMPORARY	0x40000000u
#define RPC_STYPE_SPECIAL	0x80000000u	/* administrative, "C$", "IPC$" */

struct rpc_share_info {
	const char *name;	/* UTF-8 share name */
	uint32_t type;		/* RPC_STYPE_* */
	const char *comment;	/* NULL shows as "" */
	const char *path;	/* Windows-style, e.g. "C:\\srv\\vms"; NULL shows as "" */
	uint32_t flags;		/* MS-SRVS 2.2.4.29 shi1005_flags (CSC, ABE...); 0 is fine */
};

struct rpc_server_info {
	const char *server_name;	/* NetBIOS name, no backslashes */
	const char *comment;
	/*
	 * Called at each enumeration and lookup, so that config reloads
	 * show. Returns the number of shares and fills *out, allocated on
	 * 'mem'. If the list has no "IPC$", one is added (MS-SRVS 3.1.1.1:
	 * the IPC$ share always exists).
	 */
	size_t (*list_shares)(void *private_data, TALLOC_CTX *mem,
			      struct rpc_share_info **out);
	void *private_data;
};

struct rpc_pipe;

/*
 * Opens a pipe by the name the client gave ("srvsvc", "\\PIPE\\srvsvc",
 * any case). NULL for a name no interface serves (the caller answers
 * OBJECT_NAME_NOT_FOUND) or on allocation failure. 'info' is kept by
 * pointer and must outlive the pipe.
 */
struct rpc_pipe *rpc_pipe_open(TALLOC_CTX *mem, const char *name,
			       const struct rpc_server_info *info);

/*
 * Client bytes (SMB2 WRITE, or the input of FSCTL_PIPE_TRANSCEIVE). They
 * may hold part of a PDU or several PDUs: complete PDUs are processed at
 * once and their replies queued, the tail is kept for the next write.
 * Returns OK, or on a stream that cannot be framed or a protocol
 * violation RPC_PROTOCOL_ERROR (INSUFFICIENT_RESOURCES when the client
 * lets too much output pile up unread). After an error the pipe is dead:
 * queued output is dropped and every later call returns PIPE_DISCONNECTED.
 */
NTSTATUS rpc_pipe_write(struct rpc_pipe *p, const uint8_t *data, size_t len);

/*
 * Client reads (SMB2 READ, or the output of TRANSCEIVE). Message-mode
 * semantics, as a Windows server pipe where each fragment is one message:
 * a read returns bytes of one PDU only.
 *   OK              - the rest of the current PDU fit (*out_len > 0); more
 *                     PDUs may still be queued (see rpc_pipe_pending()).
 *   BUFFER_OVERFLOW - 'max' bytes returned, more of this PDU remains;
 *                     the SMB2 READ/IOCTL response carries the data with
 *                     this status, as Windows does for message pipes.
 *   PIPE_EMPTY      - nothing queued; *out is NULL and *out_len 0.
 *                     Windows (and Samba) do not fail such a read on a
 *                     blocking-mode pipe, which is what an SMB2 open of a
 *                     pipe is: the READ goes async (interim STATUS_PENDING)
 *                     and completes when data arrives or is cancelled;
 *                     only a non-blocking pipe returns STATUS_PIPE_EMPTY.
 *                     Since replies here are produced synchronously by
 *                     rpc_pipe_write(), a read on an empty pipe means the
 *                     client has no call outstanding; the caller may either
 *                     park the READ until the next write or fail it.
 *   PIPE_DISCONNECTED - the pipe died (see rpc_pipe_write()).
 * *out is allocated on 'mem'.
 */
NTSTATUS rpc_pipe_read(struct rpc_pipe *p, TALLOC_CTX *mem, size_t max,
		       uint8_t **out, size_t *out_len);

/* Bytes of output waiting, over all queued PDUs. */
size_t rpc_pipe_pending(const struct rpc_pipe *p);

#endif
