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
	fz_auth_feed(mem, cfg, data, size);
	talloc_free(mem);
	return 0;
}
