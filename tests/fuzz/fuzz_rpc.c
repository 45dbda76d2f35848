/*
 * The DCE/RPC pipe server (lib/rpc): PDU framing, BIND/ALTER_CONTEXT,
 * request reassembly, the NDR of srvsvc's operations, and response
 * fragmentation, as a named pipe on IPC$ drives it.
 *
 * Input: two mode bytes, then the bytes the client writes to the pipe.
 *   byte 0: the size of each write (0 = everything at once), so framing
 *           across writes is exercised;
 *   byte 1: the size of each read: 16 + 17 * byte 1.
 * Output is read back after every write, as a client does.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <talloc.h>

#include "lib/rpc/rpc_server.h"
#include "tests/fuzz/fz_dup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t list_shares(void *private_data, TALLOC_CTX *mem, struct rpc_share_info **out)
{
	/* Enough shares for a listing to span fragments at small read sizes. */
	struct rpc_share_info *v = talloc_zero_array(mem, struct rpc_share_info, 4);
	if (v == NULL)
		return 0;
	v[0] = (struct rpc_share_info){ "share", RPC_STYPE_DISKTREE, "a share", "C:\\srv\\share", 0 };
	v[1] = (struct rpc_share_info){ "Caf\xc3\xa9", RPC_STYPE_DISKTREE, NULL, NULL, 0x30 };
	v[2] = (struct rpc_share_info){ "vms", RPC_STYPE_DISKTREE | RPC_STYPE_CLUSTER_SOFS,
					"virtual machines, with a longer comment", "C:\\vms", 0 };
	v[3] = (struct rpc_share_info){ "IPC$", RPC_STYPE_IPC | RPC_STYPE_SPECIAL, "IPC Service", "", 0 };
	*out = v;
	return 4;
}

static const struct rpc_server_info info = {
	.server_name = "FUZZ",
	.comment = "Porthos fuzz target",
	.list_shares = list_shares,
};

/* Reads everything queued; false once the pipe is dead. */
static bool drain(struct rpc_pipe *p, TALLOC_CTX *mem, size_t max)
{
	while (rpc_pipe_pending(p) > 0) {
		uint8_t *out = NULL;
		size_t len = 0;
		NTSTATUS st = rpc_pipe_read(p, mem, max, &out, &len);
		if (len > max)
			__builtin_trap(); /* a read never returns more than asked */
		talloc_free(out);
		if (!NT_STATUS_IS_OK(st) && !NT_STATUS_EQUAL(st, NT_STATUS_BUFFER_OVERFLOW))
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t chunk = data[0] ? data[0] : SIZE_MAX;
	size_t max = 16 + 17 * (size_t)data[1];
	data += 2;
	size -= 2;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct rpc_pipe *p = rpc_pipe_open(mem, "srvsvc", &info);
	while (p != NULL && size > 0) {
		size_t n = size < chunk ? size : chunk;
		/* A private copy, so reads past what was written are caught. */
		uint8_t *copy = fz_dup(mem, data, n);
		NTSTATUS st = rpc_pipe_write(p, copy, n);
		talloc_free(copy);
		data += n;
		size -= n;
		if (!NT_STATUS_IS_OK(st)) {
			/* A dead pipe stays dead and holds nothing. */
			if (rpc_pipe_pending(p) != 0 ||
			    !NT_STATUS_EQUAL(rpc_pipe_write(p, (const uint8_t *)"x", 1), NT_STATUS_PIPE_DISCONNECTED))
				__builtin_trap();
			break;
		}
		if (!drain(p, mem, max))
			break;
	}
	talloc_free(mem);
	return 0;
}
