/*
 * SPNEGO (and the mechanism tokens it carries) through the server's
 * entry, auth_server_update(), as SESSION_SETUP feeds it.
 *
 * Input: one mode byte (bit 0: guest logons allowed), then the client's
 * tokens, each preceded by its 16-bit little-endian length.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <talloc.h>

#include "lib/auth/auth.h"
#include "tests/fuzz/fz_dup.h"
#include "tests/fuzz/auth_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const struct auth_server_config *cfg = fz_auth_config(data[0] & 1);
	data++;
	size--;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct auth_server *a = auth_server_new(mem, cfg);
	const uint8_t *tok;
	size_t len;
	while (a != NULL && fz_next_token(&data, &size, &tok, &len)) {
		/* A private copy: reads past the token are caught, not hidden by the input's tail. */
		uint8_t *copy = fz_dup(mem, tok, len);
		uint8_t *out = NULL;
		size_t out_len = 0;
		NTSTATUS st = auth_server_update(a, mem, copy, len, &out, &out_len);
		talloc_free(copy);
		if (NT_STATUS_EQUAL(st, NT_STATUS_MORE_PROCESSING_REQUIRED))
			continue;
		const struct auth_info *info = auth_server_info(a);
		if (NT_STATUS_IS_OK(st) && (info == NULL || info->user == NULL || info->domain == NULL ||
					    info->session_key_len > sizeof(info->session_key)))
			__builtin_trap(); /* OK promises a complete auth_info */
		if (!NT_STATUS_IS_OK(st) && out != NULL)
			__builtin_trap(); /* errors come without a token */
		break;
	}
	talloc_free(mem);
	return 0;
}
