/*
 * What the authentication fuzz targets share: a server-side auth
 * configuration whose passdb holds one user (FZ_USER, FZ_PASSWORD), and
 * the input format, a list of tokens each preceded by a 16-bit
 * little-endian length.
 */
#ifndef PORTHOS_FUZZ_AUTH_ENV_H
#define PORTHOS_FUZZ_AUTH_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/auth/auth.h"
#include "tests/fuzz/fz_user.h"


/* Made once (aborts if it cannot be); guest_ok picks one of two variants. */
const struct auth_server_config *fz_auth_config(bool guest_ok);
/* The next token; a length past the end takes what is left. False at the end. */
bool fz_next_token(const uint8_t **data, size_t *size, const uint8_t **tok, size_t *len);
/*
 * Feeds the tokens to a fresh authentication (SPNEGO, as SESSION_SETUP
 * does) until it stops asking for more; traps if what it answers breaks
 * its promises (OK without a complete auth_info, an error with a token).
 */
void fz_auth_feed(TALLOC_CTX *mem, const struct auth_server_config *cfg, const uint8_t *data, size_t size);

#endif
