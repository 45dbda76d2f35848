/*
 * SMB 3.1.1 pre-authentication integrity hash (MS-SMB2 3.3.5.4, 3.3.5.5):
 * SHA-512 chained over the NEGOTIATE and SESSION_SETUP messages.
 */
#ifndef PORTHOS_CRYPTO_SMB2_PREAUTH_H
#define PORTHOS_CRYPTO_SMB2_PREAUTH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#define SMB2_PREAUTH_HASH_LEN 64

/*
 * hash = SHA-512(hash || message), the message given as an iovec list
 * (the whole SMB2 message, header first, without the transport framing).
 * Start from 64 zero bytes. On failure the hash is left unchanged.
 */
bool smb2_preauth_update(uint8_t hash[64], const struct iovec *iov, int iovcnt);

#endif
