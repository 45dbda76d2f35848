/*
 * The mechanism ops table behind SPNEGO: Kerberos through GSSAPI (twice,
 * once per OID clients name it by) and NTLMSSP, listed in auth.c. Another
 * mechanism plugs in by providing the same operations and adding itself
 * to that table.
 *
 * Internal to lib/auth.
 */
#ifndef PORTHOS_AUTH_AUTH_MECH_H
#define PORTHOS_AUTH_AUTH_MECH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/auth/auth.h"
#include "lib/ntstatus.h"

struct auth_mech_ops {
	const char *name;
	const uint8_t *oid; /* DER contents of the mechanism OID */
	size_t oid_len;

	/* Whether the configuration enables it; NULL: always. */
	bool (*available)(const struct auth_server_config *cfg);
	/* A new server context, owned by 'mem'. */
	void *(*start)(TALLOC_CTX *mem, const struct auth_server_config *cfg);
	/* One mechanism token in; MORE_PROCESSING_REQUIRED, OK or an error. */
	NTSTATUS (*update)(void *ctx, TALLOC_CTX *mem, const uint8_t *in, size_t in_len,
			   uint8_t **out, size_t *out_len);
	/* After OK: who authenticated. */
	const struct auth_info *(*info)(const void *ctx);
	/*
	 * After OK: whether the mechanism itself demands the SPNEGO
	 * mechListMIC exchange (NTLMSSP: the AUTHENTICATE carried a MIC,
	 * MS-SPNG 3.3.5.1), and whether it can sign at all.
	 */
	bool (*mic_required)(const void *ctx);
	bool (*can_sign)(const void *ctx);
	/* GSS_GetMIC / GSS_VerifyMIC with the mechanism's keys. */
	NTSTATUS (*get_mic)(void *ctx, TALLOC_CTX *mem, const uint8_t *msg, size_t len,
			    uint8_t **mic, size_t *mic_len);
	NTSTATUS (*verify_mic)(void *ctx, const uint8_t *msg, size_t len,
			       const uint8_t *mic, size_t mic_len);
};

extern const struct auth_mech_ops auth_mech_ntlmssp;
/* GSSAPI krb5 under the MS OID Windows lists first, and under its own. */
extern const struct auth_mech_ops auth_mech_gssapi_ms_krb5;
extern const struct auth_mech_ops auth_mech_gssapi_krb5;

#endif
