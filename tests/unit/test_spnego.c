/*
 * The DER reader/writer and the SPNEGO token codec: round trips, a fixed
 * encoding, and rejection of malformed DER (truncation, lengths past the
 * buffer, indefinite lengths, excessive nesting, trailing bytes). The
 * Kerberos side without a KDC: which mechanisms are offered and chosen,
 * refusals, principal parsing (tests/interop/kerberos.sh has the rest).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/auth/asn1.h"
#include "lib/auth/auth.h"
#include "lib/auth/gssapi_mech.h"
#include "lib/auth/spnego.h"
#include "lib/log.h"

static void test_asn1_round_trip(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	uint8_t big[300];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;

	struct asn1_wr w;
	asn1_wr_init(&w, mem);
	asn1_push(&w, ASN1_SEQUENCE);
	asn1_put_enumerated(&w, 0);
	asn1_put_enumerated(&w, 3);
	asn1_put_enumerated(&w, 200); /* needs a leading zero octet */
	asn1_push(&w, ASN1_CONTEXT(2));
	asn1_put_octets(&w, big, sizeof(big)); /* long-form length */
	asn1_pop(&w);
	asn1_put_oid(&w, spnego_oid_ntlmssp, sizeof(spnego_oid_ntlmssp));
	asn1_pop(&w);
	size_t len;
	uint8_t *der = asn1_wr_finish(&w, &len);
	assert_non_null(der);
	assert_int_equal(der[0], 0x30);
	assert_int_equal(der[1], 0x82); /* 2-octet length */

	struct asn1_rd r, seq, ctx;
	uint32_t v;
	const uint8_t *p;
	size_t plen;
	asn1_rd_init(&r, der, len);
	assert_true(asn1_enter(&r, ASN1_SEQUENCE, &seq, NULL, NULL));
	assert_true(asn1_read_enumerated(&seq, &v));
	assert_int_equal(v, 0);
	assert_true(asn1_read_enumerated(&seq, &v));
	assert_int_equal(v, 3);
	assert_true(asn1_read_enumerated(&seq, &v));
	assert_int_equal(v, 200);
	assert_int_equal(asn1_peek_tag(&seq), ASN1_CONTEXT(2));
	assert_true(asn1_enter(&seq, ASN1_CONTEXT(2), &ctx, NULL, NULL));
	assert_true(asn1_read_octets(&ctx, &p, &plen));
	assert_int_equal(plen, sizeof(big));
	assert_memory_equal(p, big, sizeof(big));
	assert_true(asn1_read_oid(&seq, &p, &plen));
	assert_true(spnego_oid_equal(p, plen, spnego_oid_ntlmssp, sizeof(spnego_oid_ntlmssp)));
	assert_true(asn1_at_end(&seq));
	assert_true(asn1_at_end(&r));
	assert_true(asn1_ok(&r));

	/* Unbalanced push/pop is an error, not a half-written encoding. */
	asn1_wr_init(&w, mem);
	asn1_push(&w, ASN1_SEQUENCE);
	assert_null(asn1_wr_finish(&w, &len));
	asn1_wr_init(&w, mem);
	asn1_pop(&w);
	assert_null(asn1_wr_finish(&w, &len));
	talloc_free(mem);
}

static void test_asn1_rejects(void **state)
{
	(void)state;
	struct asn1_rd r, c;
	const uint8_t *p;
	size_t len;

	/* Indefinite length. */
	static const uint8_t indef[] = { 0x30, 0x80, 0x04, 0x00, 0x00, 0x00 };
	asn1_rd_init(&r, indef, sizeof(indef));
	assert_false(asn1_enter(&r, ASN1_SEQUENCE, &c, NULL, NULL));
	assert_false(asn1_ok(&r));

	/* Length past the buffer, short and long form; 5-octet length. */
	static const uint8_t past[] = { 0x04, 0x05, 0x01, 0x02 };
	asn1_rd_init(&r, past, sizeof(past));
	assert_false(asn1_read_octets(&r, &p, &len));
	static const uint8_t past_long[] = { 0x04, 0x82, 0xff, 0xff, 0x00 };
	asn1_rd_init(&r, past_long, sizeof(past_long));
	assert_false(asn1_read_octets(&r, &p, &len));
	static const uint8_t huge[] = { 0x04, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00 };
	asn1_rd_init(&r, huge, sizeof(huge));
	assert_false(asn1_read_octets(&r, &p, &len));

	/* High tag number form. */
	static const uint8_t hightag[] = { 0x1f, 0x81, 0x00, 0x00 };
	asn1_rd_init(&r, hightag, sizeof(hightag));
	assert_false(asn1_skip(&r));

	/* Wrong tag; the error is sticky. */
	static const uint8_t oct[] = { 0x04, 0x00, 0x04, 0x00 };
	asn1_rd_init(&r, oct, sizeof(oct));
	assert_false(asn1_read_oid(&r, &p, &len));
	assert_false(asn1_read_octets(&r, &p, &len));

	/* Bad OID (dangling continuation bit), bad enumerated. */
	static const uint8_t oid[] = { 0x06, 0x02, 0x2b, 0x86 };
	asn1_rd_init(&r, oid, sizeof(oid));
	assert_false(asn1_read_oid(&r, &p, &len));
	static const uint8_t en[] = { 0x0a, 0x01, 0x80 };
	uint32_t v;
	asn1_rd_init(&r, en, sizeof(en));
	assert_false(asn1_read_enumerated(&r, &v));

	/* Nesting beyond ASN1_MAX_DEPTH. */
	uint8_t deep[2 * 20 + 2];
	for (int i = 0; i < 20; i++) {
		deep[2 * i] = 0x30;
		deep[2 * i + 1] = (uint8_t)(2 * (20 - i));
	}
	deep[40] = 0x05;
	deep[41] = 0x00;
	asn1_rd_init(&r, deep, sizeof(deep));
	struct asn1_rd cur = r, next;
	bool ok = true;
	int levels = 0;
	while (ok && asn1_peek_tag(&cur) == 0x30) {
		ok = asn1_enter(&cur, ASN1_SEQUENCE, &next, NULL, NULL);
		if (ok) {
			cur = next;
			levels++;
		}
	}
	assert_false(ok);
	assert_int_equal(levels, ASN1_MAX_DEPTH);
}

static const uint8_t *mechs1[] = { spnego_oid_ntlmssp };
static const size_t lens1[] = { sizeof(spnego_oid_ntlmssp) };

static void test_spnego_init_round_trip(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	const uint8_t *mechs[] = { spnego_oid_ms_krb5, spnego_oid_krb5, spnego_oid_ntlmssp };
	const size_t lens[] = { 9, 9, 10 };
	size_t len, ml_len;
	uint8_t *tok = spnego_encode_init(mem, mechs, lens, 3, (const uint8_t *)"token", 5, NULL,
					  (const uint8_t *)"0123456789abcdef", 16, &len);
	assert_non_null(tok);
	struct spnego_token t;
	assert_true(NT_STATUS_IS_OK(spnego_decode(tok, len, &t)));
	assert_true(t.is_init);
	assert_int_equal(t.n_mechs, 3);
	assert_true(spnego_oid_equal(t.mechs[2].p, t.mechs[2].len, spnego_oid_ntlmssp, 10));
	assert_true(t.mech_token.present);
	assert_int_equal(t.mech_token.len, 5);
	assert_memory_equal(t.mech_token.p, "token", 5);
	assert_true(t.mech_list_mic.present);
	assert_int_equal(t.mech_list_mic.len, 16);
	/* mech_types_der is exactly the MechTypeList encoding. */
	uint8_t *ml = spnego_encode_mech_list(mem, mechs, lens, 3, &ml_len);
	assert_int_equal(t.mech_types_der.len, ml_len);
	assert_memory_equal(t.mech_types_der.p, ml, ml_len);

	/* The server's NegTokenInit2 with negHints parses too. */
	const struct auth_server_config no_krb = { .netbios_name = "PORTHOS" };
	tok = auth_negotiate_blob(mem, &no_krb, &len);
	assert_true(NT_STATUS_IS_OK(spnego_decode(tok, len, &t)));
	assert_true(t.is_init);
	assert_false(t.mech_list_mic.present);
	talloc_free(mem);
}

static void test_spnego_resp_round_trip(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	size_t len;
	uint8_t big[1000];
	memset(big, 0xab, sizeof(big));
	uint8_t *tok = spnego_encode_resp(mem, SPNEGO_ACCEPT_INCOMPLETE, spnego_oid_ntlmssp, 10,
					  big, sizeof(big), NULL, 0, &len);
	struct spnego_token t;
	assert_true(NT_STATUS_IS_OK(spnego_decode(tok, len, &t)));
	assert_false(t.is_init);
	assert_true(t.has_neg_state);
	assert_int_equal(t.neg_state, SPNEGO_ACCEPT_INCOMPLETE);
	assert_true(t.supported_mech.present);
	assert_true(t.response_token.present);
	assert_int_equal(t.response_token.len, sizeof(big));
	assert_false(t.mech_list_mic.present);

	/* A fixed encoding: accept-completed with nothing else. */
	tok = spnego_encode_resp(mem, SPNEGO_ACCEPT_COMPLETED, NULL, 0, NULL, 0, NULL, 0, &len);
	static const uint8_t want[] = { 0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x00 };
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(tok, want, sizeof(want));

	/* Every field absent is still a valid NegTokenResp. */
	tok = spnego_encode_resp(mem, -1, NULL, 0, NULL, 0, NULL, 0, &len);
	assert_true(NT_STATUS_IS_OK(spnego_decode(tok, len, &t)));
	assert_false(t.has_neg_state);
	talloc_free(mem);
}

static void expect_bad(const uint8_t *p, size_t len)
{
	struct spnego_token t;
	assert_int_equal(NT_STATUS_V(spnego_decode(p, len, &t)), NT_STATUS_V_INVALID_PARAMETER);
}

static void test_spnego_malformed(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	size_t len;
	uint8_t *tok = spnego_encode_init(mem, mechs1, lens1, 1, (const uint8_t *)"NTLMSSP", 8,
					  NULL, NULL, 0, &len);
	/* Every truncation. */
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *t = talloc_memdup(mem, tok, cut ? cut : 1);
		expect_bad(t, cut);
	}
	/* Trailing garbage. */
	uint8_t *longer = talloc_size(mem, len + 1);
	memcpy(longer, tok, len);
	longer[len] = 0;
	expect_bad(longer, len + 1);
	/* Wrong outer OID. */
	uint8_t *bad = talloc_memdup(mem, tok, len);
	assert_int_equal(bad[2], 0x06);
	bad[4 + 5] ^= 1; /* last octet of 1.3.6.1.5.5.2 */
	expect_bad(bad, len);
	/* Every single byte corrupted to 0x80 (indefinite) or 0xff: no crash. */
	for (size_t i = 0; i < len; i++) {
		struct spnego_token t;
		bad = talloc_memdup(mem, tok, len);
		bad[i] = 0x80;
		(void)spnego_decode(bad, len, &t);
		bad[i] = 0xff;
		(void)spnego_decode(bad, len, &t);
	}
	/* Empty mechTypes. */
	static const uint8_t empty_mechs[] = { 0xa0, 0x06, 0x30, 0x04, 0xa0, 0x02, 0x30, 0x00 };
	expect_bad(empty_mechs, sizeof(empty_mechs));
	/* NegTokenResp with negState out of range, and fields out of order. */
	static const uint8_t bad_state[] = { 0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x04 };
	expect_bad(bad_state, sizeof(bad_state));
	static const uint8_t out_of_order[] = { 0xa1, 0x0b, 0x30, 0x09, 0xa2, 0x02, 0x04, 0x00,
						0xa0, 0x03, 0x0a, 0x01, 0x00 };
	expect_bad(out_of_order, sizeof(out_of_order));
	/* Neither Init nor Resp. */
	static const uint8_t other[] = { 0xa2, 0x00 };
	expect_bad(other, sizeof(other));
	expect_bad(NULL, 0);
	talloc_free(mem);
}

/* Malformed SPNEGO through the server: INVALID_PARAMETER, no output. */
static void test_auth_server_rejects(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct auth_server_config cfg = { .netbios_name = "PORTHOS", .domain = "WORKGROUP" };
	uint8_t *out;
	size_t olen, len;

	struct auth_server *a = auth_server_new(mem, &cfg);
	static const uint8_t junk[] = { 0x60, 0x03, 0x06, 0x01, 0x2b };
	assert_int_equal(NT_STATUS_V(auth_server_update(a, mem, junk, sizeof(junk), &out, &olen)),
			 NT_STATUS_V_INVALID_PARAMETER);
	assert_null(out);
	assert_int_equal(olen, 0);

	/* Only mechanisms we do not have. */
	const uint8_t *krb[] = { spnego_oid_krb5 };
	const size_t klen[] = { sizeof(spnego_oid_krb5) };
	uint8_t *tok = spnego_encode_init(mem, krb, klen, 1, NULL, 0, NULL, NULL, 0, &len);
	a = auth_server_new(mem, &cfg);
	assert_int_equal(NT_STATUS_V(auth_server_update(a, mem, tok, len, &out, &olen)),
			 NT_STATUS_V_INVALID_PARAMETER);

	/* A NegTokenResp first, or a NegTokenInit second. */
	tok = spnego_encode_resp(mem, -1, NULL, 0, (const uint8_t *)"x", 1, NULL, 0, &len);
	a = auth_server_new(mem, &cfg);
	assert_int_equal(NT_STATUS_V(auth_server_update(a, mem, tok, len, &out, &olen)),
			 NT_STATUS_V_INVALID_PARAMETER);
	tok = spnego_encode_init(mem, mechs1, lens1, 1, NULL, 0, NULL, NULL, 0, &len);
	a = auth_server_new(mem, &cfg);
	assert_int_equal(NT_STATUS_V(auth_server_update(a, mem, tok, len, &out, &olen)),
			 NT_STATUS_V_MORE_PROCESSING_REQUIRED);
	assert_int_equal(NT_STATUS_V(auth_server_update(a, mem, tok, len, &out, &olen)),
			 NT_STATUS_V_INVALID_PARAMETER);
	/* Once failed, always failed. */
	assert_int_equal(NT_STATUS_V(auth_server_update(a, mem, tok, len, &out, &olen)),
			 NT_STATUS_V_INVALID_PARAMETER);
	assert_null(auth_server_info(a));
	talloc_free(mem);
}

/* Kerberos is offered, first and under both OIDs, only with a keytab. */
static void test_kerberos_offer(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct auth_server_config cfg = { .netbios_name = "PORTHOS", .domain = "WORKGROUP" };
	struct spnego_token t;
	size_t len;

	uint8_t *tok = auth_negotiate_blob(mem, &cfg, &len);
	assert_true(NT_STATUS_IS_OK(spnego_decode(tok, len, &t)));
	assert_int_equal(t.n_mechs, 1);
	assert_true(spnego_oid_equal(t.mechs[0].p, t.mechs[0].len, spnego_oid_ntlmssp, 10));

	cfg.krb5_keytab = "/nonexistent/porthos-test.keytab";
	tok = auth_negotiate_blob(mem, &cfg, &len);
	assert_true(NT_STATUS_IS_OK(spnego_decode(tok, len, &t)));
	assert_int_equal(t.n_mechs, 3);
	assert_true(spnego_oid_equal(t.mechs[0].p, t.mechs[0].len, spnego_oid_ms_krb5, 9));
	assert_true(spnego_oid_equal(t.mechs[1].p, t.mechs[1].len, spnego_oid_krb5, 9));
	assert_true(spnego_oid_equal(t.mechs[2].p, t.mechs[2].len, spnego_oid_ntlmssp, 10));
	/* A keytab that is not there is reported at start. */
	assert_false(auth_check_config(&cfg));
	cfg.krb5_keytab = NULL;
	assert_true(auth_check_config(&cfg));
	talloc_free(mem);
}

/*
 * The mechanism chosen is the client's first one that is enabled, and
 * the reply names it: without a keytab, a client listing Kerberos first
 * gets NTLMSSP with request-mic (not its first choice, RFC 4178 5).
 */
static void test_kerberos_choice(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct auth_server_config cfg = { .netbios_name = "PORTHOS", .domain = "WORKGROUP" };
	const uint8_t *mechs[] = { spnego_oid_krb5, spnego_oid_ntlmssp };
	const size_t lens[] = { 9, 10 };
	uint8_t *out;
	size_t olen, len;
	struct spnego_token t;

	uint8_t *tok = spnego_encode_init(mem, mechs, lens, 2, (const uint8_t *)"\x60\x00", 2, NULL,
					  NULL, 0, &len);
	struct auth_server *a = auth_server_new(mem, &cfg);
	assert_int_equal(NT_STATUS_V(auth_server_update(a, mem, tok, len, &out, &olen)),
			 NT_STATUS_V_MORE_PROCESSING_REQUIRED);
	assert_true(NT_STATUS_IS_OK(spnego_decode(out, olen, &t)));
	assert_int_equal(t.neg_state, SPNEGO_REQUEST_MIC);
	assert_true(spnego_oid_equal(t.supported_mech.p, t.supported_mech.len, spnego_oid_ntlmssp, 10));
	assert_false(t.response_token.present);

	/*
	 * With a keytab the same client gets KRB5 and its optimistic token
	 * goes to GSSAPI: a bogus AP-REQ (and here an unusable keytab) is a
	 * LOGON_FAILURE with nothing sent back.
	 */
	cfg.krb5_keytab = "/nonexistent/porthos-test.keytab";
	a = auth_server_new(mem, &cfg);
	assert_int_equal(NT_STATUS_V(auth_server_update(a, mem, tok, len, &out, &olen)),
			 NT_STATUS_V_LOGON_FAILURE);
	assert_null(out);
	assert_null(auth_server_info(a));
	talloc_free(mem);
}

static void test_split_principal(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	char *name, *realm;
	assert_true(gssapi_split_principal(mem, "alice@EXAMPLE.COM", &name, &realm));
	assert_string_equal(name, "alice");
	assert_string_equal(realm, "EXAMPLE.COM");
	/* An '@' in the realm part stays there: the first unescaped one splits. */
	assert_true(gssapi_split_principal(mem, "bob@A@B", &name, &realm));
	assert_string_equal(name, "bob");
	assert_string_equal(realm, "A@B");

	static const char *const bad[] = {
		"alice",		/* no realm */
		"@EXAMPLE.COM",		/* no name */
		"alice@",		/* empty realm */
		"alice/admin@EXAMPLE.COM", /* two components */
		"cifs/host@EXAMPLE.COM",
		"al\\@ice@EXAMPLE.COM", /* an escaped '@' in the name */
		"alice@EX\\AMPLE",	/* an escape in the realm */
		"alice\\",		/* a dangling escape */
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(gssapi_split_principal(mem, bad[i], &name, &realm));
		assert_null(name);
		assert_null(realm);
	}
	talloc_free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_asn1_round_trip),
		cmocka_unit_test(test_asn1_rejects),
		cmocka_unit_test(test_spnego_init_round_trip),
		cmocka_unit_test(test_spnego_resp_round_trip),
		cmocka_unit_test(test_spnego_malformed),
		cmocka_unit_test(test_auth_server_rejects),
		cmocka_unit_test(test_kerberos_offer),
		cmocka_unit_test(test_kerberos_choice),
		cmocka_unit_test(test_split_principal),
	};
	plog_setup("test_spnego", PLOG_ERROR, false);
	assert_true(auth_global_init());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
