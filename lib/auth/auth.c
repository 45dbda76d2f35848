#include "config.h"
#include "lib/auth/auth.h"

#include <string.h>

#include "lib/auth/auth_mech.h"
#include "lib/auth/gssapi_mech.h"
#include "lib/auth/ntlm_crypto.h"
#include "lib/auth/spnego.h"
#include "lib/log.h"

/*
 * The mechanisms SPNEGO offers, in the server's order of preference, as
 * Windows lists them: Kerberos under the MS OID (what Windows clients
 * name first), under the standard OID, then NTLMSSP. Kerberos only when
 * a keytab is configured. auth_negotiate_blob() reads this table.
 */
static const struct auth_mech_ops *const auth_mechs[] = {
	&auth_mech_gssapi_ms_krb5,
	&auth_mech_gssapi_krb5,
	&auth_mech_ntlmssp,
};
#define N_MECHS (sizeof(auth_mechs) / sizeof(auth_mechs[0]))

static bool mech_available(const struct auth_mech_ops *m, const struct auth_server_config *cfg)
{
	return m->available == NULL || m->available(cfg);
}

/* MS-SPNG 3.2.5.2: what Windows and Samba put in negHints. */
static const char auth_hint_name[] = "not_defined_in_RFC4178@please_ignore";

enum auth_state {
	AUTH_START,
	AUTH_IN_MECH,
	AUTH_DONE,
	AUTH_FAILED,
};

struct auth_server {
	struct auth_server_config cfg;
	enum auth_state state;
	bool spnego; /* false: raw NTLMSSP, no wrapper */
	const struct auth_mech_ops *mech;
	void *mech_ctx;
	/* The client's MechTypeList as sent: what the mechListMIC covers. */
	uint8_t *mech_types_der;
	size_t mech_types_len;
	/* The mechanism is not the client's first choice (RFC 4178 5). */
	bool not_preferred;
	bool sent_first_reply;
	/* Our mechListMIC went out with the last mechanism token; the
	 * client's is still due (RFC 4178 5). */
	bool want_client_mic;
};

bool auth_global_init(void)
{
	return ntlm_crypto_init();
}

bool auth_check_config(const struct auth_server_config *cfg)
{
	return cfg->krb5_keytab == NULL || gssapi_check_keytab(cfg);
}

uint8_t *auth_negotiate_blob(TALLOC_CTX *mem, const struct auth_server_config *cfg,
			     size_t *out_len)
{
	const uint8_t *oids[N_MECHS];
	size_t lens[N_MECHS];
	unsigned n = 0;
	for (size_t i = 0; i < N_MECHS; i++) {
		if (!mech_available(auth_mechs[i], cfg))
			continue;
		oids[n] = auth_mechs[i]->oid;
		lens[n++] = auth_mechs[i]->oid_len;
	}
	return spnego_encode_init(mem, oids, lens, n, NULL, 0, auth_hint_name,
				  NULL, 0, out_len);
}

struct auth_server *auth_server_new(TALLOC_CTX *mem, const struct auth_server_config *cfg)
{
	if (!auth_global_init())
		return NULL;
	struct auth_server *a = talloc_zero(mem, struct auth_server);
	if (a == NULL)
		return NULL;
	a->cfg = *cfg;
	a->state = AUTH_START;
	return a;
}

const struct auth_info *auth_server_info(const struct auth_server *a)
{
	if (a->state != AUTH_DONE)
		return NULL;
	return a->mech->info(a->mech_ctx);
}

static bool is_raw_ntlmssp(const uint8_t *in, size_t len)
{
	return len >= 8 && memcmp(in, "NTLMSSP", 8) == 0;
}

static NTSTATUS start_mech(struct auth_server *a, const struct auth_mech_ops *m)
{
	a->mech = m;
	a->mech_ctx = m->start(a, &a->cfg);
	return a->mech_ctx ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

/* A NegTokenResp; supportedMech only in the first reply (RFC 4178 4.2.2). */
static NTSTATUS reply(struct auth_server *a, TALLOC_CTX *mem, int neg_state,
		      const uint8_t *token, size_t token_len,
		      const uint8_t *mic, size_t mic_len,
		      uint8_t **out, size_t *out_len)
{
	const uint8_t *mech = a->sent_first_reply ? NULL : a->mech->oid;
	*out = spnego_encode_resp(mem, neg_state, mech, a->mech->oid_len, token, token_len,
				  mic, mic_len, out_len);
	if (*out == NULL)
		return NT_STATUS_NO_MEMORY;
	a->sent_first_reply = true;
	return NT_STATUS_OK;
}

/*
 * The mechanism finished: settle the mechListMIC (RFC 4178 5, MS-SPNG
 * 3.3.5.1) and send accept-completed. The exchange is required when the
 * mechanism can sign and either the client did not get its first choice
 * or NTLMSSP carried a MIC; a MIC the client sends anyway is checked too.
 */
static NTSTATUS finish(struct auth_server *a, TALLOC_CTX *mem,
		       const uint8_t *token, size_t token_len,
		       const struct spnego_bytes *client_mic,
		       uint8_t **out, size_t *out_len)
{
	const struct auth_mech_ops *m = a->mech;
	bool can_sign = m->can_sign(a->mech_ctx);
	bool required = can_sign && (a->not_preferred || m->mic_required(a->mech_ctx));
	uint8_t *mic = NULL;
	size_t mic_len = 0;
	NTSTATUS status;

	bool client_mic_due = false;
	if (can_sign && client_mic->present) {
		status = m->verify_mic(a->mech_ctx, a->mech_types_der, a->mech_types_len,
				       client_mic->p, client_mic->len);
		if (!NT_STATUS_IS_OK(status)) {
			LOG_WARN("SPNEGO mechListMIC check failed: %s", nt_errstr(status));
			return NT_STATUS_LOGON_FAILURE;
		}
		required = true;
	} else if (required) {
		/*
		 * A client cannot sign before it has our last mechanism token
		 * (Kerberos: the AP-REP): ours goes with it and the client's
		 * comes in one more leg. With nothing left to send (NTLMSSP),
		 * the client should have sent its MIC already.
		 */
		if (token_len == 0) {
			LOG_WARN("SPNEGO mechListMIC required but not sent");
			return NT_STATUS_INVALID_PARAMETER;
		}
		client_mic_due = true;
	}
	if (required) {
		status = m->get_mic(a->mech_ctx, mem, a->mech_types_der, a->mech_types_len,
				    &mic, &mic_len);
		if (!NT_STATUS_IS_OK(status))
			return status;
	}
	status = reply(a, mem, client_mic_due ? SPNEGO_ACCEPT_INCOMPLETE : SPNEGO_ACCEPT_COMPLETED,
		       token, token_len, mic, mic_len, out, out_len);
	talloc_free(mic);
	if (NT_STATUS_IS_OK(status) && client_mic_due) {
		a->want_client_mic = true;
		return NT_STATUS_MORE_PROCESSING_REQUIRED;
	}
	return status;
}

/* The last leg of RFC 4178 5 when our MIC went first: the client's MIC alone. */
static NTSTATUS finish_client_mic(struct auth_server *a, TALLOC_CTX *mem,
				  const struct spnego_token *t, uint8_t **out, size_t *out_len)
{
	if (t->response_token.present || !t->mech_list_mic.present) {
		LOG_WARN("SPNEGO mechListMIC required but not sent");
		return NT_STATUS_INVALID_PARAMETER;
	}
	NTSTATUS status = a->mech->verify_mic(a->mech_ctx, a->mech_types_der, a->mech_types_len,
					      t->mech_list_mic.p, t->mech_list_mic.len);
	if (!NT_STATUS_IS_OK(status)) {
		LOG_WARN("SPNEGO mechListMIC check failed: %s", nt_errstr(status));
		return NT_STATUS_LOGON_FAILURE;
	}
	return reply(a, mem, SPNEGO_ACCEPT_COMPLETED, NULL, 0, NULL, 0, out, out_len);
}

/* For the log: the client's mechanisms by name. */
static char *mech_names(TALLOC_CTX *mem, const struct spnego_token *t)
{
	static const struct {
		const uint8_t *oid;
		size_t len;
		const char *name;
	} known[] = {
		{ spnego_oid_ms_krb5, sizeof(spnego_oid_ms_krb5), "MS-KRB5" },
		{ spnego_oid_krb5, sizeof(spnego_oid_krb5), "KRB5" },
		{ spnego_oid_ntlmssp, sizeof(spnego_oid_ntlmssp), "NTLMSSP" },
	};
	char *s = talloc_strdup(mem, "");
	for (unsigned i = 0; i < t->n_mechs && s != NULL; i++) {
		const char *name = "other";
		for (size_t j = 0; j < sizeof(known) / sizeof(known[0]); j++)
			if (spnego_oid_equal(t->mechs[i].p, t->mechs[i].len, known[j].oid, known[j].len))
				name = known[j].name;
		s = talloc_asprintf_append(s, "%s%s", i ? ", " : "", name);
	}
	return s;
}

/* The first token: raw NTLMSSP, or a NegTokenInit (RFC 4178 4.2.1). */
static NTSTATUS handle_first(struct auth_server *a, TALLOC_CTX *mem,
			     const uint8_t *in, size_t in_len,
			     uint8_t **out, size_t *out_len)
{
	NTSTATUS status;
	if (is_raw_ntlmssp(in, in_len)) {
		a->spnego = false;
		status = start_mech(a, &auth_mech_ntlmssp);
		if (!NT_STATUS_IS_OK(status))
			return status;
		return a->mech->update(a->mech_ctx, mem, in, in_len, out, out_len);
	}

	struct spnego_token t;
	status = spnego_decode(in, in_len, &t);
	if (!NT_STATUS_IS_OK(status) || !t.is_init) {
		LOG_DBG("malformed SPNEGO token");
		return NT_STATUS_INVALID_PARAMETER;
	}
	a->spnego = true;

	/* RFC 4178 3.2: the first of the client's mechanisms we support. */
	const struct auth_mech_ops *chosen = NULL;
	unsigned idx = 0;
	for (unsigned i = 0; i < t.n_mechs && chosen == NULL; i++) {
		for (size_t j = 0; j < N_MECHS; j++) {
			if (mech_available(auth_mechs[j], &a->cfg) &&
			    spnego_oid_equal(t.mechs[i].p, t.mechs[i].len,
					     auth_mechs[j]->oid, auth_mechs[j]->oid_len)) {
				chosen = auth_mechs[j];
				idx = i;
				break;
			}
		}
	}
	if (chosen == NULL) {
		char *names = mech_names(NULL, &t);
		LOG_INFO("no SPNEGO mechanism in common with the client, which offers: %s%s",
			 names ? names : "?",
			 a->cfg.krb5_keytab == NULL && names != NULL && strstr(names, "KRB5")
				 ? " (Kerberos is off: no 'kerberos keytab' configured)" : "");
		talloc_free(names);
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (plog_enabled(PLOG_DEBUG)) {
		char *names = mech_names(NULL, &t);
		LOG_DBG("client offers %s; chosen: %s", names ? names : "?", chosen->name);
		talloc_free(names);
	}
	a->not_preferred = idx != 0;
	a->mech_types_der = talloc_memdup(a, t.mech_types_der.p, t.mech_types_der.len);
	if (a->mech_types_der == NULL)
		return NT_STATUS_NO_MEMORY;
	a->mech_types_len = t.mech_types_der.len;
	status = start_mech(a, chosen);
	if (!NT_STATUS_IS_OK(status))
		return status;

	/* An optimistic token is for the client's first choice only (3.2 (b)). */
	if (!t.mech_token.present || a->not_preferred) {
		status = reply(a, mem, a->not_preferred ? SPNEGO_REQUEST_MIC : SPNEGO_ACCEPT_INCOMPLETE,
			       NULL, 0, NULL, 0, out, out_len);
		return NT_STATUS_IS_OK(status) ? NT_STATUS_MORE_PROCESSING_REQUIRED : status;
	}

	uint8_t *mtok = NULL;
	size_t mtok_len = 0;
	status = a->mech->update(a->mech_ctx, mem, t.mech_token.p, t.mech_token.len,
				 &mtok, &mtok_len);
	if (NT_STATUS_EQUAL(status, NT_STATUS_MORE_PROCESSING_REQUIRED)) {
		NTSTATUS st2 = reply(a, mem, SPNEGO_ACCEPT_INCOMPLETE, mtok, mtok_len, NULL, 0,
				     out, out_len);
		talloc_free(mtok);
		return NT_STATUS_IS_OK(st2) ? status : st2;
	}
	if (NT_STATUS_IS_OK(status)) {
		status = finish(a, mem, mtok, mtok_len, &t.mech_list_mic, out, out_len);
		talloc_free(mtok);
	}
	return status;
}

/* Later tokens: raw NTLMSSP, or a NegTokenResp (RFC 4178 4.2.2). */
static NTSTATUS handle_next(struct auth_server *a, TALLOC_CTX *mem,
			    const uint8_t *in, size_t in_len,
			    uint8_t **out, size_t *out_len)
{
	if (!a->spnego)
		return a->mech->update(a->mech_ctx, mem, in, in_len, out, out_len);

	struct spnego_token t;
	NTSTATUS status = spnego_decode(in, in_len, &t);
	if (!NT_STATUS_IS_OK(status) || t.is_init) {
		LOG_DBG("malformed SPNEGO token");
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (t.has_neg_state && t.neg_state == SPNEGO_REJECT) {
		LOG_INFO("client abandoned SPNEGO negotiation");
		return NT_STATUS_LOGON_FAILURE;
	}
	if (a->want_client_mic)
		return finish_client_mic(a, mem, &t, out, out_len);
	if (t.supported_mech.present &&
	    !spnego_oid_equal(t.supported_mech.p, t.supported_mech.len,
			      a->mech->oid, a->mech->oid_len))
		return NT_STATUS_INVALID_PARAMETER;
	if (!t.response_token.present)
		return NT_STATUS_INVALID_PARAMETER;

	uint8_t *mtok = NULL;
	size_t mtok_len = 0;
	status = a->mech->update(a->mech_ctx, mem, t.response_token.p, t.response_token.len,
				 &mtok, &mtok_len);
	if (NT_STATUS_EQUAL(status, NT_STATUS_MORE_PROCESSING_REQUIRED)) {
		NTSTATUS st2 = reply(a, mem, SPNEGO_ACCEPT_INCOMPLETE, mtok, mtok_len, NULL, 0,
				     out, out_len);
		talloc_free(mtok);
		return NT_STATUS_IS_OK(st2) ? status : st2;
	}
	if (NT_STATUS_IS_OK(status)) {
		status = finish(a, mem, mtok, mtok_len, &t.mech_list_mic, out, out_len);
		talloc_free(mtok);
	}
	return status;
}

NTSTATUS auth_server_update(struct auth_server *a, TALLOC_CTX *mem,
			    const uint8_t *in, size_t in_len,
			    uint8_t **out, size_t *out_len)
{
	NTSTATUS status;
	*out = NULL;
	*out_len = 0;
	switch (a->state) {
	case AUTH_START:
		status = handle_first(a, mem, in, in_len, out, out_len);
		break;
	case AUTH_IN_MECH:
		status = handle_next(a, mem, in, in_len, out, out_len);
		break;
	default:
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (NT_STATUS_EQUAL(status, NT_STATUS_MORE_PROCESSING_REQUIRED)) {
		a->state = AUTH_IN_MECH;
	} else if (NT_STATUS_IS_OK(status)) {
		a->state = AUTH_DONE;
	} else {
		a->state = AUTH_FAILED;
		TALLOC_FREE(*out);
		*out_len = 0;
	}
	return status;
}
