/*
 * NTLMSSP (MS-NLMP) on the server side.
 *
 * Input: one mode byte, then tokens each preceded by its 16-bit
 * little-endian length.
 *   bit 0: 0 = raw NTLMSSP tokens through auth_server_update(), as a
 *          SESSION_SETUP without SPNEGO; 1 = straight to the NTLMSSP
 *          server with the fixed ServerChallenge 0123456789abcdef, so an
 *          AUTHENTICATE computed for it (the seeds) logs on and the key
 *          exchange, the MIC and then message signatures (each further
 *          token: message || 16-byte signature) are reached.
 *   bit 1: guest logons allowed.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <talloc.h>

#include "lib/auth/auth.h"
#include "lib/auth/ntlmssp.h"
#include "tests/fuzz/fz_dup.h"
#include "tests/fuzz/auth_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fixed_challenge[8] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };

static void direct(TALLOC_CTX *mem, const struct auth_server_config *cfg, const uint8_t *data, size_t size)
{
	struct ntlmssp_server *s = ntlmssp_server_new(mem, cfg);
	if (s == NULL)
		return;
	ntlmssp_server_set_challenge(s, fixed_challenge);
	const uint8_t *tok;
	size_t len;
	NTSTATUS st = NT_STATUS_MORE_PROCESSING_REQUIRED;
	while (NT_STATUS_EQUAL(st, NT_STATUS_MORE_PROCESSING_REQUIRED) && fz_next_token(&data, &size, &tok, &len)) {
		uint8_t *copy = fz_dup(mem, tok, len);
		uint8_t *out = NULL;
		size_t out_len = 0;
		st = ntlmssp_server_update(s, mem, copy, len, &out, &out_len);
	}
	if (!NT_STATUS_IS_OK(st))
		return;
	(void)ntlmssp_server_info(s);
	(void)ntlmssp_server_flags(s);
	(void)ntlmssp_server_mic_present(s);
	if (!ntlmssp_server_can_sign(s))
		return;
	/* Signed messages after the logon, in sequence. */
	while (fz_next_token(&data, &size, &tok, &len)) {
		uint8_t *copy = fz_dup(mem, tok, len);
		uint8_t sig[16];
		size_t msg_len = len >= 16 ? len - 16 : 0;
		(void)ntlmssp_server_check_sign(s, copy, msg_len, copy + msg_len, len - msg_len);
		(void)ntlmssp_server_sign(s, copy, len, sig);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	const struct auth_server_config *cfg = fz_auth_config(mode & 2);
	TALLOC_CTX *mem = talloc_new(NULL);
	if (mode & 1)
		direct(mem, cfg, data + 1, size - 1);
	else
		fz_auth_feed(mem, cfg, data + 1, size - 1);
	talloc_free(mem);
	return 0;
}
