/*
 * SPNEGO tokens (RFC 4178, MS-SPNG): decoding NegTokenInit / NegTokenResp
 * and encoding the server's replies (and, for tests and a future client,
 * a NegTokenInit).
 *
 * Decoded tokens point into the input buffer; they are valid while it is.
 */
#ifndef PORTHOS_AUTH_SPNEGO_H
#define PORTHOS_AUTH_SPNEGO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/ntstatus.h"

/* DER contents (no tag/length) of the OIDs we know. */
extern const uint8_t spnego_oid_spnego[6];	  /* 1.3.6.1.5.5.2 */
extern const uint8_t spnego_oid_ntlmssp[10];	  /* 1.3.6.1.4.1.311.2.2.10 */
extern const uint8_t spnego_oid_krb5[9];	  /* 1.2.840.113554.1.2.2 */
extern const uint8_t spnego_oid_ms_krb5[9];	  /* 1.2.840.48018.1.2.2 */

/* RFC 4178 4.2.2 negState. */
enum spnego_neg_state {
	SPNEGO_ACCEPT_COMPLETED = 0,
	SPNEGO_ACCEPT_INCOMPLETE = 1,
	SPNEGO_REJECT = 2,
	SPNEGO_REQUEST_MIC = 3,
};

#define SPNEGO_MAX_MECHS 16

struct spnego_bytes {
	const uint8_t *p;
	size_t len;
	bool present;
};

struct spnego_token {
	bool is_init; /* NegTokenInit, else NegTokenResp */

	/* NegTokenInit (RFC 4178 4.2.1) */
	struct spnego_bytes mech_types_der; /* the whole MechTypeList, for the MIC */
	struct spnego_bytes mechs[SPNEGO_MAX_MECHS];
	unsigned n_mechs; /* mechanisms past SPNEGO_MAX_MECHS are dropped */
	struct spnego_bytes mech_token;

	/* NegTokenResp (RFC 4178 4.2.2) */
	bool has_neg_state;
	uint32_t neg_state;
	struct spnego_bytes supported_mech;
	struct spnego_bytes response_token;

	/* both */
	struct spnego_bytes mech_list_mic;
};

/*
 * Decodes a token: a GSS-API InitialContextToken ([APPLICATION 0], RFC
 * 2743 3.1) holding a NegTokenInit, or a bare NegTokenInit/NegTokenResp.
 * NT_STATUS_INVALID_PARAMETER if malformed.
 */
NTSTATUS spnego_decode(const uint8_t *buf, size_t len, struct spnego_token *out);

/* True if the OID contents 'oid' equal 'want'. */
bool spnego_oid_equal(const uint8_t *oid, size_t len, const uint8_t *want, size_t want_len);

/* A NegTokenResp; any NULL/absent field is left out. neg_state < 0: absent. */
uint8_t *spnego_encode_resp(TALLOC_CTX *mem, int neg_state,
			    const uint8_t *mech, size_t mech_len,
			    const uint8_t *token, size_t token_len,
			    const uint8_t *mic, size_t mic_len, size_t *out_len);

/*
 * A GSS-wrapped NegTokenInit. With hint_name it is the server's
 * NegTokenInit2 (MS-SPNG 2.2.1) carrying negHints.hintName.
 * mechs[i] are OID contents.
 */
uint8_t *spnego_encode_init(TALLOC_CTX *mem, const uint8_t *const *mechs,
			    const size_t *mech_lens, unsigned n_mechs,
			    const uint8_t *token, size_t token_len,
			    const char *hint_name,
			    const uint8_t *mic, size_t mic_len, size_t *out_len);

/* The DER MechTypeList for 'mechs' (what a mechListMIC covers). */
uint8_t *spnego_encode_mech_list(TALLOC_CTX *mem, const uint8_t *const *mechs,
				 const size_t *mech_lens, unsigned n_mechs, size_t *out_len);

#endif
