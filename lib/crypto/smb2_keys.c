#include "config.h"
#include "lib/crypto/smb2_keys.h"

#include <string.h>

#include <openssl/crypto.h>

#include "lib/crypto/smb2_kdf.h"

#define SMB2_DIALECT_300 0x0300
#define SMB2_DIALECT_302 0x0302
#define SMB2_DIALECT_311 0x0311

/* Label/context pairs; the lengths include the trailing NUL (MS-SMB2 3.3.5.5.3). */
#define LC(s) s, sizeof(s)

struct key_params {
	const char *label;
	size_t label_len;
	const void *context;
	size_t context_len;
};

bool smb2_derive_session_keys(uint16_t dialect, const uint8_t *session_key, size_t session_key_len,
			      const uint8_t preauth_hash[64], enum smb2_cipher cipher,
			      struct smb2_session_keys *out)
{
	struct key_params sign, app, s2c, c2s;
	uint8_t sess16[16] = { 0 };
	const uint8_t *cipher_kdk = sess16;
	size_t cipher_kdk_len = sizeof(sess16);
	size_t cipher_key_len = 16;
	bool ok;

	if (out == NULL)
		return false;
	memset(out, 0, sizeof(*out));
	if (session_key == NULL || session_key_len == 0)
		return false;

	switch (dialect) {
	case SMB2_DIALECT_300:
	case SMB2_DIALECT_302:
		sign = (struct key_params){ LC("SMB2AESCMAC"), LC("SmbSign") };
		app = (struct key_params){ LC("SMB2APP"), LC("SmbRpc") };
		s2c = (struct key_params){ LC("SMB2AESCCM"), LC("ServerOut") };
		/* The space in "ServerIn " is in the spec. */
		c2s = (struct key_params){ LC("SMB2AESCCM"), LC("ServerIn ") };
		break;
	case SMB2_DIALECT_311:
		if (preauth_hash == NULL)
			return false;
		sign = (struct key_params){ LC("SMBSigningKey"), preauth_hash, 64 };
		app = (struct key_params){ LC("SMBAppKey"), preauth_hash, 64 };
		s2c = (struct key_params){ LC("SMBS2CCipherKey"), preauth_hash, 64 };
		c2s = (struct key_params){ LC("SMBC2SCipherKey"), preauth_hash, 64 };
		break;
	default:
		return false;
	}

	/* Session.SessionKey: first 16 bytes, right-padded with zeros. */
	memcpy(sess16, session_key, session_key_len < 16 ? session_key_len : 16);

	/* MS-SMB2 3.1.4.2: L = 256 for AES-256 ciphers, whose keys come from the full key. */
	if (dialect == SMB2_DIALECT_311 &&
	    (cipher == SMB2_CIPHER_AES256_CCM || cipher == SMB2_CIPHER_AES256_GCM)) {
		cipher_key_len = 32;
		cipher_kdk = session_key;
		cipher_kdk_len = session_key_len;
	}

	ok = smb2_kdf(sess16, sizeof(sess16), sign.label, sign.label_len,
		      sign.context, sign.context_len, out->signing, sizeof(out->signing)) &&
	     smb2_kdf(sess16, sizeof(sess16), app.label, app.label_len,
		      app.context, app.context_len, out->application, sizeof(out->application)) &&
	     smb2_kdf(cipher_kdk, cipher_kdk_len, s2c.label, s2c.label_len,
		      s2c.context, s2c.context_len, out->encryption, cipher_key_len) &&
	     smb2_kdf(cipher_kdk, cipher_kdk_len, c2s.label, c2s.label_len,
		      c2s.context, c2s.context_len, out->decryption, cipher_key_len);
	OPENSSL_cleanse(sess16, sizeof(sess16));
	if (!ok)
		OPENSSL_cleanse(out, sizeof(*out));
	return ok;
}
