/*
 * Server-side SMB authentication: SPNEGO (RFC 4178, MS-SPNG) carrying
 * NTLMSSP (MS-NLMP, NTLMv2 only), or raw NTLMSSP as Windows also accepts.
 *
 * One struct auth_server per SESSION_SETUP exchange: feed each security
 * buffer to auth_server_update() until it returns something other than
 * NT_STATUS_MORE_PROCESSING_REQUIRED.
 */
#ifndef PORTHOS_AUTH_AUTH_H
#define PORTHOS_AUTH_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/ntstatus.h"

struct passdb;

struct auth_server_config {
	const char *netbios_name; /* e.g. "PORTHOS" */
	const char *domain;	  /* NetBIOS domain/workgroup, e.g. "WORKGROUP" */
	const char *dns_name;	  /* host DNS name, may equal lower-case netbios */
	const char *dns_domain;
	const struct passdb *db;
	bool guest_ok;		  /* allow anonymous/guest logons (NTLMSSP anonymous) */
};

/* The result of a completed authentication. */
struct auth_info {
	char *user;   /* the account name as stored in the passdb; "" if anonymous */
	char *domain; /* the authenticating authority: the server's netbios_name */
	uint32_t uid, gid;
	bool anonymous;
	bool guest;
	uint8_t session_key[16]; /* exported session key (after KEY_EXCH) */
	size_t session_key_len;	 /* 16, or 0 for anonymous */
};

/* Loads the OpenSSL providers NTLM needs; idempotent. */
bool auth_global_init(void);

/*
 * The SPNEGO NegTokenInit2 the server puts in the SMB2 NEGOTIATE response
 * (MS-SPNG 2.2.1, 3.2.5.2): mechTypes { NTLMSSP } and the customary
 * negHints "not_defined_in_RFC4178@please_ignore".
 */
uint8_t *auth_negotiate_blob(TALLOC_CTX *mem, size_t *out_len);

/* 'cfg' and the passdb it points to must outlive the auth_server. */
struct auth_server *auth_server_new(TALLOC_CTX *mem, const struct auth_server_config *cfg);

/*
 * Feeds one SESSION_SETUP security buffer. Returns:
 *   NT_STATUS_MORE_PROCESSING_REQUIRED, *out = the next token;
 *   NT_STATUS_OK, *out = the final token (may be NULL/0 for raw NTLMSSP),
 *     and auth_server_info() is available;
 *   an error (NT_STATUS_LOGON_FAILURE, NT_STATUS_INVALID_PARAMETER,
 *     NT_STATUS_ACCOUNT_DISABLED, NT_STATUS_NO_MEMORY...), *out = NULL.
 * After OK or an error, further calls return NT_STATUS_INVALID_PARAMETER.
 */
NTSTATUS auth_server_update(struct auth_server *a, TALLOC_CTX *mem,
			    const uint8_t *in, size_t in_len,
			    uint8_t **out, size_t *out_len);

/* Non-NULL only after auth_server_update() returned NT_STATUS_OK. */
const struct auth_info *auth_server_info(const struct auth_server *a);

#endif
