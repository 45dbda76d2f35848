/*
 * The seed generator (make_seeds): real, well-formed inputs for each fuzz
 * target, written as tests/fuzz/corpus/<target>/<name>. Everything random
 * in a real exchange is fixed here, so regenerating gives the same files.
 */
#ifndef PORTHOS_FUZZ_SEEDS_H
#define PORTHOS_FUZZ_SEEDS_H

#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/wire.h"

/* Writes one seed; exits on failure. */
void seed_write(const char *target, const char *name, const void *data, size_t len);

/* DCE/RPC PDUs for srvsvc (also carried over named pipes in SMB seeds). */
void rpc_put_bind(struct wire_wr *w, uint32_t call_id, bool windows_style);
void rpc_put_share_enum(struct wire_wr *w, uint32_t call_id, uint32_t level);
void rpc_put_share_get_info(struct wire_wr *w, uint32_t call_id, const char *share, uint32_t level);
void rpc_put_server_get_info(struct wire_wr *w, uint32_t call_id, uint32_t level);

void seeds_smb2(TALLOC_CTX *mem);
void seeds_transform(TALLOC_CTX *mem);
void seeds_auth(TALLOC_CTX *mem);
void seeds_rpc(TALLOC_CTX *mem);
void seeds_conf(TALLOC_CTX *mem);

#endif
