/*
 * The SMB 3.x key derivation function (MS-SMB2 3.1.4.2): SP800-108 KDF in
 * counter mode, PRF HMAC-SHA256, r = 32, L = out_len * 8 bits.
 */
#ifndef PORTHOS_CRYPTO_SMB2_KDF_H
#define PORTHOS_CRYPTO_SMB2_KDF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * out = KDF(key, label, context) of out_len bytes. label_len and
 * context_len include the trailing NUL where the spec has one
 * ("SMB2AESCMAC\0" is 12 bytes). SP800-108's 0x00 separator between label
 * and context is added here, not by the caller. False on bad arguments or
 * an OpenSSL failure (out is then zeroed).
 */
bool smb2_kdf(const uint8_t *key, size_t key_len, const void *label, size_t label_len,
	      const void *context, size_t context_len, uint8_t *out, size_t out_len);

#endif
