/*
 * Server-side SMB authentication: SPNEGO (RFC 4178, MS-SPNG) carrying
 * Kerberos (GSSAPI krb5, MS-KILE; when a keytab is configured) or NTLMSSP
 * (MS-NLMP, NTLMv2 only), or raw NTLMSSP as Windows also accepts.
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
#include <time.h>
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
	const char *krb5_keytab;  /* the service keytab; NULL = Kerberos is not offered */
	const char *krb5_realm;	  /* accepted client realm; NULL = the service principal's */
};

/* Room for the longest Kerberos session key (AES-256: 32 bytes). */
#define AUTH_SESSION_KEY_MAX 64

/* The result of a completed authentication. */
struct auth_info {
	char *user;   /* the account name as stored in the passdb; "" if anonymous */
	char *domain; /* the authenticating authority: the server's netbios_name */
	uint32_t uid, gid;
	bool anonymous;
	bool guest;
	/*
	 * The full session key: NTLMSSP's exported session key (16 bytes),
	 * or the Kerberos subkey (16 or 32 bytes). MS-SMB2 3.3.5.5.3 uses its
	 * first 16 bytes as Session.SessionKey and all of it for AES-256.
	 */
	uint8_t session_key[AUTH_SESSION_KEY_MAX];
	size_t session_key_len;	 /* 0 for anonymous */
	/* When the credentials run out (the Kerberos ticket's end, as
	 * realtime seconds); 0 for never (NTLM). MS-SMB2 3.3.5.5.3. */
	time_t expires;
};

/* Loads the OpenSSL providers NTLM needs; idempotent. */
bool auth_global_init(void);

/*
 * Checks that the configured keytab can serve as an acceptor credential,
 * logging why not. True when Kerberos is not configured.
 */
bool auth_check_config(const struct auth_server_config *cfg);

/*
 * The SPNEGO NegTokenInit2 the server puts in the SMB2 NEGOTIATE response
 * (MS-SPNG 2.2.1, 3.2.5.2): mechTypes { MS-KRB5, KRB5 (with a keytab
 * only), NTLMSSP } and the customary negHints
 * "not_defined_in_RFC4178@please_ignore".
 */
uint8_t *auth_negotiate_blob(TALLOC_CTX *mem, const struct auth_server_config *cfg,
			     size_t *out_len);

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
