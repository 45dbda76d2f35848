#include "config.h"
#include "lib/auth/gssapi_mech.h"

#include <string.h>
#include <time.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <openssl/crypto.h>

#include "lib/auth/auth_mech.h"
#include "lib/auth/passdb.h"
#include "lib/auth/spnego.h"
#include "lib/log.h"

enum gssapi_state {
	GSSAPI_ACCEPTING,
	GSSAPI_DONE,
	GSSAPI_FAILED,
};

struct gssapi_server {
	enum gssapi_state state;
	const char *keytab;
	const char *realm; /* NULL: the service principal's */
	const struct passdb *db;
	const char *netbios_name;

	gss_cred_id_t cred;
	gss_ctx_id_t ctx;
	OM_uint32 ret_flags;
	struct auth_info info;
};

/*
 * The acceptor credential covers both OIDs: MIT registers the MS OID as
 * a mechanism of its own, and a token naming it must find its element in
 * our credential rather than fall back to the default keytab.
 */
static gss_OID_desc gssapi_mech_oids[2] = {
	{ sizeof(spnego_oid_krb5), (void *)spnego_oid_krb5 },
	{ sizeof(spnego_oid_ms_krb5), (void *)spnego_oid_ms_krb5 },
};
static gss_OID_set_desc gssapi_mech_set = { 2, gssapi_mech_oids };

/* One status code's text, all its messages joined. */
static char *append_status(char *s, OM_uint32 code, int type, gss_OID mech)
{
	OM_uint32 more = 0, minor;
	do {
		gss_buffer_desc msg = GSS_C_EMPTY_BUFFER;
		OM_uint32 major = gss_display_status(&minor, code, type, mech, &more, &msg);
		if (GSS_ERROR(major))
			return talloc_asprintf_append(s, "%s(status %u)", *s ? "; " : "", code);
		s = talloc_asprintf_append(s, "%s%.*s", *s ? "; " : "", (int)msg.length,
					   (const char *)msg.value);
		gss_release_buffer(&minor, &msg);
	} while (more != 0 && s != NULL);
	return s;
}

/* "major text; minor text" for the log. */
static char *gss_error_text(TALLOC_CTX *mem, OM_uint32 major, OM_uint32 minor)
{
	char *s = talloc_strdup(mem, "");
	if (s != NULL)
		s = append_status(s, major, GSS_C_GSS_CODE, GSS_C_NO_OID);
	if (s != NULL && minor != 0)
		s = append_status(s, minor, GSS_C_MECH_CODE, gss_mech_krb5);
	return s;
}

static OM_uint32 acquire_cred(const char *keytab, gss_cred_id_t *cred, OM_uint32 *minor)
{
	gss_key_value_element_desc el = { .key = "keytab", .value = keytab };
	gss_key_value_set_desc store = { .count = 1, .elements = &el };
	/* The cred store names the keytab: nothing process-wide changes. */
	return gss_acquire_cred_from(minor, GSS_C_NO_NAME, GSS_C_INDEFINITE, &gssapi_mech_set,
				     GSS_C_ACCEPT, &store, cred, NULL, NULL);
}

bool gssapi_check_keytab(const struct auth_server_config *cfg)
{
	gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
	OM_uint32 minor, major = acquire_cred(cfg->krb5_keytab, &cred, &minor);
	if (GSS_ERROR(major)) {
		char *why = gss_error_text(NULL, major, minor);
		LOG_ERR("Kerberos: cannot use the keytab %s: %s", cfg->krb5_keytab, why ? why : "?");
		talloc_free(why);
		return false;
	}
	gss_release_cred(&minor, &cred);
	LOG_INFO("Kerberos: accepting tickets for the principals in %s, client realm %s",
		 cfg->krb5_keytab, cfg->krb5_realm ? cfg->krb5_realm : "= the service principal's");
	return true;
}

/* The realm separator of a display-form principal: its first '@' not
 * escaped by a backslash. NULL if there is none, or an escape dangles. */
static const char *realm_separator(const char *principal)
{
	for (const char *p = principal; *p != '\0'; p++) {
		if (*p == '\\') {
			if (p[1] == '\0')
				return NULL;
			p++;
		} else if (*p == '@') {
			return p;
		}
	}
	return NULL;
}

bool gssapi_split_principal(TALLOC_CTX *mem, const char *principal, char **out_name,
			    char **out_realm)
{
	*out_name = NULL;
	*out_realm = NULL;
	const char *at = realm_separator(principal);
	if (at == NULL || at == principal || at[1] == '\0')
		return false;
	size_t name_len = (size_t)(at - principal);
	/* One plain component: escapes or '/' mean something else. */
	if (memchr(principal, '\\', name_len) != NULL || memchr(principal, '/', name_len) != NULL ||
	    strchr(at + 1, '\\') != NULL)
		return false;
	*out_name = talloc_strndup(mem, principal, name_len);
	*out_realm = talloc_strdup(mem, at + 1);
	if (*out_name == NULL || *out_realm == NULL) {
		TALLOC_FREE(*out_name);
		TALLOC_FREE(*out_realm);
		return false;
	}
	return true;
}

static char *display_name(TALLOC_CTX *mem, gss_name_t name)
{
	OM_uint32 minor;
	gss_buffer_desc buf = GSS_C_EMPTY_BUFFER;
	if (GSS_ERROR(gss_display_name(&minor, name, &buf, NULL)))
		return NULL;
	size_t len = buf.length;
	/* Some mechanisms count a terminating NUL; a NUL inside is refused. */
	if (len > 0 && ((const char *)buf.value)[len - 1] == '\0')
		len--;
	char *s = talloc_strndup(mem, buf.value, len);
	gss_release_buffer(&minor, &buf);
	if (s != NULL && strlen(s) != len)
		TALLOC_FREE(s);
	return s;
}

/* The realm of the service principal the ticket was for. */
static char *service_realm(TALLOC_CTX *mem, gss_ctx_id_t ctx)
{
	OM_uint32 minor;
	gss_name_t target = GSS_C_NO_NAME;
	if (GSS_ERROR(gss_inquire_context(&minor, ctx, NULL, &target, NULL, NULL, NULL, NULL,
					  NULL)))
		return NULL;
	char *full = display_name(mem, target);
	gss_release_name(&minor, &target);
	if (full == NULL)
		return NULL;
	/* cifs/host@REALM: not a user principal, so not gssapi_split_principal(). */
	const char *at = realm_separator(full);
	char *realm = at ? talloc_strdup(mem, at + 1) : NULL;
	talloc_free(full);
	return realm;
}

/*
 * MS-SMB2 3.3.5.5.3 takes the session key from GSS_C_INQ_SSPI_SESSION_KEY:
 * the acceptor subkey, else the initiator's subkey, else the ticket's.
 */
static NTSTATUS take_session_key(struct gssapi_server *s)
{
	OM_uint32 minor;
	gss_buffer_set_t set = GSS_C_NO_BUFFER_SET;
	OM_uint32 major = gss_inquire_sec_context_by_oid(&minor, s->ctx, GSS_C_INQ_SSPI_SESSION_KEY,
							 &set);
	if (GSS_ERROR(major) || set == GSS_C_NO_BUFFER_SET || set->count < 1 ||
	    set->elements[0].length == 0 || set->elements[0].length > AUTH_SESSION_KEY_MAX) {
		char *why = gss_error_text(NULL, major, minor);
		LOG_WARN("Kerberos: no usable session key in the context: %s", why ? why : "?");
		talloc_free(why);
		if (set != GSS_C_NO_BUFFER_SET)
			gss_release_buffer_set(&minor, &set);
		return NT_STATUS_NO_USER_SESSION_KEY;
	}
	memcpy(s->info.session_key, set->elements[0].value, set->elements[0].length);
	s->info.session_key_len = set->elements[0].length;
	OPENSSL_cleanse(set->elements[0].value, set->elements[0].length);
	gss_release_buffer_set(&minor, &set);
	return NT_STATUS_OK;
}

/* The context is established: who is it, and may they in? */
static NTSTATUS map_client(struct gssapi_server *s, gss_name_t client)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	NTSTATUS status = NT_STATUS_LOGON_FAILURE;
	char *principal = display_name(tmp, client);
	char *name, *realm;
	if (principal == NULL) {
		LOG_WARN("Kerberos: cannot read the client principal's name");
		goto out;
	}
	if (!gssapi_split_principal(tmp, principal, &name, &realm)) {
		LOG_INFO("Kerberos: principal '%s' refused: not a plain user@REALM principal",
			 principal);
		goto out;
	}
	const char *want = s->realm ? s->realm : service_realm(tmp, s->ctx);
	if (want == NULL) {
		LOG_WARN("Kerberos: principal '%s' refused: the service principal's realm is unknown",
			 principal);
		goto out;
	}
	/* Realms are case-sensitive (RFC 4120 6.1). */
	if (strcmp(realm, want) != 0) {
		LOG_INFO("Kerberos: principal '%s' refused: realm '%s' is not '%s'%s", principal,
			 realm, want, s->realm ? "" : " (the service principal's)");
		goto out;
	}
	const struct passdb_user *pu = s->db ? passdb_find(s->db, name) : NULL;
	if (pu == NULL) {
		LOG_INFO("Kerberos: principal '%s' refused: no user '%s' in the passdb "
			 "(porthos-ctl user add %s --no-password)", principal, name, name);
		goto out;
	}
	if (pu->disabled) {
		LOG_INFO("Kerberos: principal '%s' refused: user '%s' is disabled", principal,
			 pu->name);
		status = NT_STATUS_ACCOUNT_DISABLED;
		goto out;
	}
	status = take_session_key(s);
	if (!NT_STATUS_IS_OK(status))
		goto out;
	s->info.user = talloc_strdup(s, pu->name);
	s->info.domain = talloc_strdup(s, s->netbios_name);
	if (s->info.user == NULL || s->info.domain == NULL) {
		status = NT_STATUS_NO_MEMORY;
		goto out;
	}
	s->info.uid = pu->uid;
	s->info.gid = pu->gid;
	/* The session expires with the ticket (Session.ExpirationTime). MIT
	 * reports the ticket's end plus the allowed clock skew ("clockskew",
	 * 5 minutes by default), the grace it would give the ticket itself. */
	OM_uint32 lifetime = 0, minor = 0;
	if (!GSS_ERROR(gss_inquire_context(&minor, s->ctx, NULL, NULL, &lifetime, NULL, NULL, NULL, NULL)) &&
	    lifetime != GSS_C_INDEFINITE)
		s->info.expires = time(NULL) + (time_t)lifetime;
	LOG_INFO("user '%s' authenticated (Kerberos principal '%s')", pu->name, principal);
	status = NT_STATUS_OK;
out:
	talloc_free(tmp);
	return status;
}

static NTSTATUS accept_token(struct gssapi_server *s, TALLOC_CTX *mem,
			     const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len)
{
	OM_uint32 minor, major;
	if (s->cred == GSS_C_NO_CREDENTIAL) {
		major = acquire_cred(s->keytab, &s->cred, &minor);
		if (GSS_ERROR(major)) {
			char *why = gss_error_text(NULL, major, minor);
			LOG_ERR("Kerberos: cannot use the keytab %s: %s", s->keytab, why ? why : "?");
			talloc_free(why);
			return NT_STATUS_LOGON_FAILURE;
		}
	}

	gss_buffer_desc in_buf = { .length = in_len, .value = (void *)in };
	gss_buffer_desc out_buf = GSS_C_EMPTY_BUFFER;
	gss_name_t client = GSS_C_NO_NAME;
	major = gss_accept_sec_context(&minor, &s->ctx, s->cred, &in_buf,
				       GSS_C_NO_CHANNEL_BINDINGS, &client, NULL, &out_buf,
				       &s->ret_flags, NULL, NULL);
	NTSTATUS status;
	if (GSS_ERROR(major)) {
		/* A KRB-ERROR token may come back; SMB has no place for it. */
		char *why = gss_error_text(NULL, major, minor);
		LOG_INFO("Kerberos: ticket refused: %s", why ? why : "?");
		talloc_free(why);
		status = NT_STATUS_LOGON_FAILURE;
	} else if (major & GSS_S_CONTINUE_NEEDED) {
		status = NT_STATUS_MORE_PROCESSING_REQUIRED;
	} else {
		/*
		 * No flag is required: SMB signs with the session key whatever
		 * the client asked GSSAPI for (cifs.upcall asks for no
		 * integrity); without the integrity flag there is simply no
		 * mechListMIC (can_sign).
		 */
		LOG_DBG("Kerberos: context established, flags 0x%x", (unsigned)s->ret_flags);
		status = map_client(s, client);
	}
	if (client != GSS_C_NO_NAME)
		gss_release_name(&minor, &client);

	if ((NT_STATUS_IS_OK(status) || NT_STATUS_EQUAL(status, NT_STATUS_MORE_PROCESSING_REQUIRED)) &&
	    out_buf.length > 0) {
		*out = talloc_memdup(mem, out_buf.value, out_buf.length);
		*out_len = out_buf.length;
		if (*out == NULL)
			status = NT_STATUS_NO_MEMORY;
	}
	gss_release_buffer(&minor, &out_buf);
	return status;
}

static int gssapi_destructor(struct gssapi_server *s)
{
	OM_uint32 minor;
	if (s->ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&minor, &s->ctx, GSS_C_NO_BUFFER);
	if (s->cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&minor, &s->cred);
	OPENSSL_cleanse(s->info.session_key, sizeof(s->info.session_key));
	return 0;
}

/* The SPNEGO mechanism ops (auth_mech.h). */

static bool mech_available(const struct auth_server_config *cfg)
{
	return cfg->krb5_keytab != NULL;
}

static void *mech_start(TALLOC_CTX *mem, const struct auth_server_config *cfg)
{
	struct gssapi_server *s = talloc_zero(mem, struct gssapi_server);
	if (s == NULL)
		return NULL;
	s->state = GSSAPI_ACCEPTING;
	s->keytab = cfg->krb5_keytab;
	s->realm = cfg->krb5_realm;
	s->db = cfg->db;
	s->netbios_name = cfg->netbios_name ? cfg->netbios_name : "PORTHOS";
	s->cred = GSS_C_NO_CREDENTIAL;
	s->ctx = GSS_C_NO_CONTEXT;
	talloc_set_destructor(s, gssapi_destructor);
	return s;
}

static NTSTATUS mech_update(void *ctx, TALLOC_CTX *mem, const uint8_t *in, size_t in_len,
			    uint8_t **out, size_t *out_len)
{
	struct gssapi_server *s = ctx;
	*out = NULL;
	*out_len = 0;
	if (s->state != GSSAPI_ACCEPTING)
		return NT_STATUS_INVALID_PARAMETER;
	NTSTATUS status = accept_token(s, mem, in, in_len, out, out_len);
	if (NT_STATUS_IS_OK(status)) {
		s->state = GSSAPI_DONE;
	} else if (!NT_STATUS_EQUAL(status, NT_STATUS_MORE_PROCESSING_REQUIRED)) {
		s->state = GSSAPI_FAILED;
		TALLOC_FREE(*out);
		*out_len = 0;
	}
	return status;
}

static const struct auth_info *mech_info(const void *ctx)
{
	const struct gssapi_server *s = ctx;
	return s->state == GSSAPI_DONE ? &s->info : NULL;
}

/* Kerberos itself does not demand the mechListMIC (only RFC 4178 5 may). */
static bool mech_mic_required(const void *ctx)
{
	return false;
}

static bool mech_can_sign(const void *ctx)
{
	const struct gssapi_server *s = ctx;
	return s->state == GSSAPI_DONE && (s->ret_flags & GSS_C_INTEG_FLAG);
}

static NTSTATUS mech_get_mic(void *ctx, TALLOC_CTX *mem, const uint8_t *msg, size_t len,
			     uint8_t **mic, size_t *mic_len)
{
	struct gssapi_server *s = ctx;
	OM_uint32 minor;
	gss_buffer_desc in = { .length = len, .value = (void *)msg };
	gss_buffer_desc tok = GSS_C_EMPTY_BUFFER;
	if (!mech_can_sign(s))
		return NT_STATUS_NO_USER_SESSION_KEY;
	OM_uint32 major = gss_get_mic(&minor, s->ctx, GSS_C_QOP_DEFAULT, &in, &tok);
	if (GSS_ERROR(major)) {
		char *why = gss_error_text(NULL, major, minor);
		LOG_WARN("Kerberos: gss_get_mic failed: %s", why ? why : "?");
		talloc_free(why);
		return NT_STATUS_INTERNAL_ERROR;
	}
	*mic = talloc_memdup(mem, tok.value, tok.length);
	*mic_len = tok.length;
	gss_release_buffer(&minor, &tok);
	return *mic ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

static NTSTATUS mech_verify_mic(void *ctx, const uint8_t *msg, size_t len,
				const uint8_t *mic, size_t mic_len)
{
	struct gssapi_server *s = ctx;
	OM_uint32 minor;
	gss_buffer_desc in = { .length = len, .value = (void *)msg };
	gss_buffer_desc tok = { .length = mic_len, .value = (void *)mic };
	if (!mech_can_sign(s))
		return NT_STATUS_NO_USER_SESSION_KEY;
	OM_uint32 major = gss_verify_mic(&minor, s->ctx, &in, &tok, NULL);
	if (GSS_ERROR(major)) {
		char *why = gss_error_text(NULL, major, minor);
		LOG_WARN("Kerberos: mechListMIC does not verify: %s", why ? why : "?");
		talloc_free(why);
		return NT_STATUS_ACCESS_DENIED;
	}
	return NT_STATUS_OK;
}

/* One GSSAPI mechanism under two OIDs: Windows clients name the MS one first. */
#define GSSAPI_MECH_OPS(mech_name, mech_oid)                 \
	{                                                    \
		.name = mech_name,                           \
		.oid = mech_oid,                             \
		.oid_len = sizeof(mech_oid),                 \
		.available = mech_available,                 \
		.start = mech_start,                         \
		.update = mech_update,                       \
		.info = mech_info,                           \
		.mic_required = mech_mic_required,           \
		.can_sign = mech_can_sign,                   \
		.get_mic = mech_get_mic,                     \
		.verify_mic = mech_verify_mic,               \
	}

const struct auth_mech_ops auth_mech_gssapi_ms_krb5 = GSSAPI_MECH_OPS("MS-KRB5", spnego_oid_ms_krb5);
const struct auth_mech_ops auth_mech_gssapi_krb5 = GSSAPI_MECH_OPS("KRB5", spnego_oid_krb5);
