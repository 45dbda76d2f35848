/*
 * SMB 3.x session keys (MS-SMB2 3.3.5.5.3 server side, 3.2.5.3.1 client
 * side), derived with the KDF of 3.1.4.2. Named from the server's side.
 */
#ifndef PORTHOS_CRYPTO_SMB2_KEYS_H
#define PORTHOS_CRYPTO_SMB2_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/crypto/smb2_aead.h"

struct smb2_session_keys {
	uint8_t signing[16];
	uint8_t application[16];
	/* Server -> client (ServerOut, "SMBS2CCipherKey"). */
	uint8_t encryption[32];
	/* Client -> server (ServerIn, "SMBC2SCipherKey"). */
	uint8_t decryption[32];
};

/*
 * dialect: 0x0300, 0x0302 or 0x0311 (2.x dialects sign with the session
 * key itself and have no derived keys: false). preauth_hash is the
 * session's PreauthIntegrityHashValue for 0x0311 (may be NULL otherwise).
 * cipher: the connection's CipherId; an AES-256 cipher makes the
 * encryption/decryption keys 32 bytes (L = 256), derived from the full
 * session_key; anything else (0 when none was negotiated) gives 16-byte
 * keys with the rest zero. Signing and application keys are always
 * 16 bytes, derived from Session.SessionKey: the first 16 bytes of
 * session_key, zero-padded if shorter (MS-SMB2 3.3.1.8).
 * On failure *out is zeroed.
 */
bool smb2_derive_session_keys(uint16_t dialect, const uint8_t *session_key, size_t session_key_len,
			      const uint8_t preauth_hash[64], enum smb2_cipher cipher,
			      struct smb2_session_keys *out);

#endif
