#include "config.h"
#include "lib/auth/spnego.h"

#include <string.h>

#include "lib/auth/asn1.h"

const uint8_t spnego_oid_spnego[6] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02 };
const uint8_t spnego_oid_ntlmssp[10] = { 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a };
const uint8_t spnego_oid_krb5[9] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02 };
const uint8_t spnego_oid_ms_krb5[9] = { 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02 };

bool spnego_oid_equal(const uint8_t *oid, size_t len, const uint8_t *want, size_t want_len)
{
	return len == want_len && memcmp(oid, want, len) == 0;
}

static void set_bytes(struct spnego_bytes *b, const uint8_t *p, size_t len)
{
	b->p = p;
	b->len = len;
	b->present = true;
}

/* An explicit [n] holding one OCTET STRING and nothing else. */
static bool read_tagged_octets(struct asn1_rd *r, uint8_t n, struct spnego_bytes *out)
{
	struct asn1_rd c;
	const uint8_t *p;
	size_t len;
	if (!asn1_enter(r, ASN1_CONTEXT(n), &c, NULL, NULL) ||
	    !asn1_read_octets(&c, &p, &len) || !asn1_at_end(&c))
		return false;
	set_bytes(out, p, len);
	return true;
}

/* RFC 4178 4.2.1; MS-SPNG 2.2.1 for the [3] negHints of NegTokenInit2. */
static bool decode_init(struct asn1_rd *r, struct spnego_token *t)
{
	struct asn1_rd seq, c, list;
	if (!asn1_enter(r, ASN1_SEQUENCE, &seq, NULL, NULL))
		return false;
	t->is_init = true;

	/* mechTypes is the only mandatory field. */
	if (!asn1_enter(&seq, ASN1_CONTEXT(0), &c, NULL, NULL) ||
	    !asn1_enter(&c, ASN1_SEQUENCE, &list, &t->mech_types_der.p, &t->mech_types_der.len) ||
	    !asn1_at_end(&c))
		return false;
	t->mech_types_der.present = true;
	while (!asn1_at_end(&list)) {
		const uint8_t *oid;
		size_t olen;
		if (!asn1_read_oid(&list, &oid, &olen))
			return false;
		if (t->n_mechs < SPNEGO_MAX_MECHS)
			set_bytes(&t->mechs[t->n_mechs++], oid, olen);
	}
	if (!asn1_ok(&list) || t->n_mechs == 0)
		return false;

	if (asn1_peek_tag(&seq) == ASN1_CONTEXT(1)) {
		const uint8_t *p;
		size_t len;
		if (!asn1_enter(&seq, ASN1_CONTEXT(1), &c, NULL, NULL) ||
		    !asn1_read_bit_string(&c, &p, &len) || !asn1_at_end(&c))
			return false;
	}
	if (asn1_peek_tag(&seq) == ASN1_CONTEXT(2) &&
	    !read_tagged_octets(&seq, 2, &t->mech_token))
		return false;
	if (asn1_peek_tag(&seq) == ASN1_CONTEXT(3)) {
		/* mechListMIC in RFC 4178; negHints in a NegTokenInit2. */
		struct asn1_rd probe = seq;
		if (!read_tagged_octets(&probe, 3, &t->mech_list_mic)) {
			t->mech_list_mic.present = false;
			if (!asn1_enter(&seq, ASN1_CONTEXT(3), &c, NULL, NULL))
				return false;
		} else {
			seq = probe;
		}
	}
	if (asn1_peek_tag(&seq) == ASN1_CONTEXT(4) &&
	    !read_tagged_octets(&seq, 4, &t->mech_list_mic))
		return false;
	return asn1_ok(&seq) && asn1_at_end(&seq);
}

/* RFC 4178 4.2.2 */
static bool decode_resp(struct asn1_rd *r, struct spnego_token *t)
{
	struct asn1_rd seq, c;
	if (!asn1_enter(r, ASN1_SEQUENCE, &seq, NULL, NULL))
		return false;
	t->is_init = false;
	if (asn1_peek_tag(&seq) == ASN1_CONTEXT(0)) {
		if (!asn1_enter(&seq, ASN1_CONTEXT(0), &c, NULL, NULL) ||
		    !asn1_read_enumerated(&c, &t->neg_state) || !asn1_at_end(&c))
			return false;
		if (t->neg_state > SPNEGO_REQUEST_MIC)
			return false;
		t->has_neg_state = true;
	}
	if (asn1_peek_tag(&seq) == ASN1_CONTEXT(1)) {
		const uint8_t *oid;
		size_t olen;
		if (!asn1_enter(&seq, ASN1_CONTEXT(1), &c, NULL, NULL) ||
		    !asn1_read_oid(&c, &oid, &olen) || !asn1_at_end(&c))
			return false;
		set_bytes(&t->supported_mech, oid, olen);
	}
	if (asn1_peek_tag(&seq) == ASN1_CONTEXT(2) &&
	    !read_tagged_octets(&seq, 2, &t->response_token))
		return false;
	if (asn1_peek_tag(&seq) == ASN1_CONTEXT(3) &&
	    !read_tagged_octets(&seq, 3, &t->mech_list_mic))
		return false;
	return asn1_ok(&seq) && asn1_at_end(&seq);
}

NTSTATUS spnego_decode(const uint8_t *buf, size_t len, struct spnego_token *out)
{
	struct asn1_rd r, app, choice;
	memset(out, 0, sizeof(*out));
	asn1_rd_init(&r, buf, len);
	bool ok;
	switch (asn1_peek_tag(&r)) {
	case ASN1_APPLICATION(0): {
		/* RFC 2743 3.1: thisMech OID, then the NegotiationToken. */
		const uint8_t *oid;
		size_t olen;
		ok = asn1_enter(&r, ASN1_APPLICATION(0), &app, NULL, NULL) &&
		     asn1_read_oid(&app, &oid, &olen) &&
		     spnego_oid_equal(oid, olen, spnego_oid_spnego, sizeof(spnego_oid_spnego)) &&
		     asn1_enter(&app, ASN1_CONTEXT(0), &choice, NULL, NULL) &&
		     decode_init(&choice, out) && asn1_at_end(&choice) && asn1_at_end(&app);
		break;
	}
	case ASN1_CONTEXT(0):
		ok = asn1_enter(&r, ASN1_CONTEXT(0), &choice, NULL, NULL) &&
		     decode_init(&choice, out) && asn1_at_end(&choice);
		break;
	case ASN1_CONTEXT(1):
		ok = asn1_enter(&r, ASN1_CONTEXT(1), &choice, NULL, NULL) &&
		     decode_resp(&choice, out) && asn1_at_end(&choice);
		break;
	default:
		ok = false;
		break;
	}
	if (!ok || !asn1_at_end(&r) || !asn1_ok(&r)) {
		memset(out, 0, sizeof(*out));
		return NT_STATUS_INVALID_PARAMETER;
	}
	return NT_STATUS_OK;
}

uint8_t *spnego_encode_resp(TALLOC_CTX *mem, int neg_state,
			    const uint8_t *mech, size_t mech_len,
			    const uint8_t *token, size_t token_len,
			    const uint8_t *mic, size_t mic_len, size_t *out_len)
{
	struct asn1_wr w;
	asn1_wr_init(&w, mem);
	asn1_push(&w, ASN1_CONTEXT(1));
	asn1_push(&w, ASN1_SEQUENCE);
	if (neg_state >= 0) {
		asn1_push(&w, ASN1_CONTEXT(0));
		asn1_put_enumerated(&w, (uint32_t)neg_state);
		asn1_pop(&w);
	}
	if (mech != NULL) {
		asn1_push(&w, ASN1_CONTEXT(1));
		asn1_put_oid(&w, mech, mech_len);
		asn1_pop(&w);
	}
	if (token != NULL) {
		asn1_push(&w, ASN1_CONTEXT(2));
		asn1_put_octets(&w, token, token_len);
		asn1_pop(&w);
	}
	if (mic != NULL) {
		asn1_push(&w, ASN1_CONTEXT(3));
		asn1_put_octets(&w, mic, mic_len);
		asn1_pop(&w);
	}
	asn1_pop(&w);
	asn1_pop(&w);
	return asn1_wr_finish(&w, out_len);
}

static void put_mech_list(struct asn1_wr *w, const uint8_t *const *mechs,
			  const size_t *mech_lens, unsigned n_mechs)
{
	asn1_push(w, ASN1_SEQUENCE);
	for (unsigned i = 0; i < n_mechs; i++)
		asn1_put_oid(w, mechs[i], mech_lens[i]);
	asn1_pop(w);
}

uint8_t *spnego_encode_mech_list(TALLOC_CTX *mem, const uint8_t *const *mechs,
				 const size_t *mech_lens, unsigned n_mechs, size_t *out_len)
{
	struct asn1_wr w;
	asn1_wr_init(&w, mem);
	put_mech_list(&w, mechs, mech_lens, n_mechs);
	return asn1_wr_finish(&w, out_len);
}

uint8_t *spnego_encode_init(TALLOC_CTX *mem, const uint8_t *const *mechs,
			    const size_t *mech_lens, unsigned n_mechs,
			    const uint8_t *token, size_t token_len,
			    const char *hint_name,
			    const uint8_t *mic, size_t mic_len, size_t *out_len)
{
	struct asn1_wr w;
	asn1_wr_init(&w, mem);
	asn1_push(&w, ASN1_APPLICATION(0));
	asn1_put_oid(&w, spnego_oid_spnego, sizeof(spnego_oid_spnego));
	asn1_push(&w, ASN1_CONTEXT(0));
	asn1_push(&w, ASN1_SEQUENCE);
	asn1_push(&w, ASN1_CONTEXT(0));
	put_mech_list(&w, mechs, mech_lens, n_mechs);
	asn1_pop(&w);
	if (token != NULL) {
		asn1_push(&w, ASN1_CONTEXT(2));
		asn1_put_octets(&w, token, token_len);
		asn1_pop(&w);
	}
	if (hint_name != NULL) {
		/* MS-SPNG 2.2.1: negHints [3] SEQUENCE { hintName [0] GeneralString } */
		asn1_push(&w, ASN1_CONTEXT(3));
		asn1_push(&w, ASN1_SEQUENCE);
		asn1_push(&w, ASN1_CONTEXT(0));
		asn1_put_prim(&w, ASN1_GENERAL_STRING, hint_name, strlen(hint_name));
		asn1_pop(&w);
		asn1_pop(&w);
		asn1_pop(&w);
		if (mic != NULL) {
			asn1_push(&w, ASN1_CONTEXT(4));
			asn1_put_octets(&w, mic, mic_len);
			asn1_pop(&w);
		}
	} else if (mic != NULL) {
		asn1_push(&w, ASN1_CONTEXT(3));
		asn1_put_octets(&w, mic, mic_len);
		asn1_pop(&w);
	}
	asn1_pop(&w);
	asn1_pop(&w);
	asn1_pop(&w);
	return asn1_wr_finish(&w, out_len);
}
