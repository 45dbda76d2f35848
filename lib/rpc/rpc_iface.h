/*
 * How an RPC interface plugs into the pipe server: a syntax id and an
 * opnum table. Each interface lives in its own file (srvsvc.c, later
 * lsarpc.c, wkssvc.c, fsrvp.c, witness.c) and exports one
 * 'const struct rpc_iface'; rpc_server.c lists which pipe names serve
 * which interfaces.
 */
#ifndef PORTHOS_RPC_IFACE_H
#define PORTHOS_RPC_IFACE_H

#include <stdint.h>
#include <talloc.h>

#include "lib/rpc/ndr.h"
#include "lib/rpc/rpc_server.h"

/* C706 Appendix N / MS-RPCE 2.2.2.1: a UUID in its wire (NDR) byte order. */
struct rpc_uuid {
	uint8_t b[16];
};

/* C706 12.6.3.1 p_syntax_id_t. */
struct rpc_syntax_id {
	struct rpc_uuid uuid;
	uint16_t ver_major;
	uint16_t ver_minor;
};

/* Builds the wire form of a UUID from its text fields. */
#define RPC_UUID(tl, tm, th, c0, c1, n0, n1, n2, n3, n4, n5) \
	{ { (uint8_t)(tl), (uint8_t)((tl) >> 8), (uint8_t)((tl) >> 16), \
	    (uint8_t)((tl) >> 24), (uint8_t)(tm), (uint8_t)((tm) >> 8), \
	    (uint8_t)(th), (uint8_t)((th) >> 8), c0, c1, n0, n1, n2, n3, n4, n5 } }

/* Fault status codes (C706 Appendix E, MS-RPCE 2.2.2.11 / 3.1.1.5.5). */
#define RPC_FAULT_OK			0x00000000u
#define RPC_FAULT_ACCESS_DENIED		0x00000005u
#define RPC_FAULT_BAD_STUB_DATA		0x000006F7u	/* RPC_X_BAD_STUB_DATA */
#define RPC_FAULT_OP_RNG_ERROR		0x1C010002u	/* nca_s_op_rng_error */
#define RPC_FAULT_UNK_IF		0x1C010003u	/* nca_s_unk_if */
#define RPC_FAULT_PROTO_ERROR		0x1C01000Bu	/* nca_s_proto_error */
#define RPC_FAULT_REMOTE_NO_MEMORY	0x1C00001Bu	/* nca_s_fault_remote_no_memory */

/* Win32 codes returned as NET_API_STATUS / WERROR by MS-SRVS methods. */
#define RPC_WERR_OK			0u
#define RPC_WERR_ACCESS_DENIED		5u
#define RPC_WERR_NOT_ENOUGH_MEMORY	8u
#define RPC_WERR_INVALID_PARAMETER	87u
#define RPC_WERR_INVALID_LEVEL		124u
#define RPC_WERR_MORE_DATA		234u
#define RPC_WERR_NET_NAME_NOT_FOUND	2310u

/* One call, from decoded stub to encoded reply. */
struct rpc_call {
	TALLOC_CTX *mem;		/* lives until the reply is queued */
	const struct rpc_server_info *info;
	uint16_t opnum;
	struct ndr_pull *in;		/* request stub */
	struct ndr_push *out;		/* response stub */
};

/*
 * An operation decodes call->in, encodes call->out and returns
 * RPC_FAULT_OK, or a fault status to send instead of the response (e.g.
 * RPC_FAULT_BAD_STUB_DATA when call->in does not decode). Errors of the
 * method itself (share not found...) are a normal response carrying a
 * WERROR. If call->out ends in error the server faults with
 * RPC_FAULT_REMOTE_NO_MEMORY.
 */
struct rpc_op {
	const char *name;
	uint32_t (*fn)(struct rpc_call *call);
};

struct rpc_iface {
	const char *name;
	struct rpc_syntax_id syntax;
	const struct rpc_op *ops;	/* indexed by opnum; fn NULL = not provided */
	uint16_t n_ops;
};

extern const struct rpc_iface rpc_iface_srvsvc;

#endif
