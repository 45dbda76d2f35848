/*
 * Kerberos as a SPNEGO mechanism: GSSAPI krb5 (RFC 4121, MIT krb5) as
 * MS-KILE uses it for SMB. The server accepts AP-REQs for any principal
 * in its keytab ("kerberos keytab"), answers with the AP-REP (mutual
 * authentication), and maps the client principal user@REALM to the passdb
 * account "user" when REALM is the configured "realm" (or, without one,
 * the realm of the service principal the ticket is for).
 *
 * The mechanism ops are auth_mech_gssapi_ms_krb5 / auth_mech_gssapi_krb5
 * (auth_mech.h); the rest is for auth.c and the unit tests.
 */
#ifndef PORTHOS_AUTH_GSSAPI_MECH_H
#define PORTHOS_AUTH_GSSAPI_MECH_H

#include <stdbool.h>
#include <talloc.h>

#include "lib/auth/auth.h"

/*
 * Acquires (and drops) an acceptor credential from cfg->krb5_keytab, so a
 * missing, unreadable or empty keytab is reported at start; logs the reason
 * and returns false if it is unusable.
 */
bool gssapi_check_keytab(const struct auth_server_config *cfg);

/*
 * Splits a principal in display form, "name@REALM", at its realm
 * separator (the first '@' not escaped by a backslash). The name must be
 * one plain component: no '/' (service or instance principals such as
 * "alice/admin") and no escapes. False, with *out_name and *out_realm
 * NULL, otherwise; the strings are talloc'd on mem.
 */
bool gssapi_split_principal(TALLOC_CTX *mem, const char *principal, char **out_name,
			    char **out_realm);

#endif
