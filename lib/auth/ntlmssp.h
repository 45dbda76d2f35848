/*
 * The NTLMSSP server (MS-NLMP 3.2.5), NTLMv2 only: LM and NTLMv1
 * responses are refused with NT_STATUS_LOGON_FAILURE, as Windows does
 * when LmCompatibilityLevel is 5.
 *
 * SPNEGO drives it through auth_mech_ntlmssp (auth_mech.h); these
 * functions are what that table wraps, exported for the unit tests.
 */
#ifndef PORTHOS_AUTH_NTLMSSP_H
#define PORTHOS_AUTH_NTLMSSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/auth/auth.h"
#include "lib/ntstatus.h"

/* NegotiateFlags (MS-NLMP 2.2.2.5) */
#define NTLMSSP_NEGOTIATE_UNICODE 0x00000001u
#define NTLMSSP_NEGOTIATE_OEM 0x00000002u
#define NTLMSSP_REQUEST_TARGET 0x00000004u
#define NTLMSSP_NEGOTIATE_SIGN 0x00000010u
#define NTLMSSP_NEGOTIATE_SEAL 0x00000020u
#define NTLMSSP_NEGOTIATE_DATAGRAM 0x00000040u
#define NTLMSSP_NEGOTIATE_LM_KEY 0x00000080u
#define NTLMSSP_NEGOTIATE_NTLM 0x00000200u
#define NTLMSSP_ANONYMOUS 0x00000800u
#define NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED 0x00001000u
#define NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED 0x00002000u
#define NTLMSSP_NEGOTIATE_ALWAYS_SIGN 0x00008000u
#define NTLMSSP_TARGET_TYPE_DOMAIN 0x00010000u
#define NTLMSSP_TARGET_TYPE_SERVER 0x00020000u
#define NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY 0x00080000u
#define NTLMSSP_NEGOTIATE_IDENTIFY 0x00100000u
#define NTLMSSP_REQUEST_NON_NT_SESSION_KEY 0x00400000u
#define NTLMSSP_NEGOTIATE_TARGET_INFO 0x00800000u
#define NTLMSSP_NEGOTIATE_VERSION 0x02000000u
#define NTLMSSP_NEGOTIATE_128 0x20000000u
#define NTLMSSP_NEGOTIATE_KEY_EXCH 0x40000000u
#define NTLMSSP_NEGOTIATE_56 0x80000000u

/* AV_PAIR AvId (MS-NLMP 2.2.2.1) */
enum ntlmssp_av_id {
	MSV_AV_EOL = 0,
	MSV_AV_NB_COMPUTER_NAME = 1,
	MSV_AV_NB_DOMAIN_NAME = 2,
	MSV_AV_DNS_COMPUTER_NAME = 3,
	MSV_AV_DNS_DOMAIN_NAME = 4,
	MSV_AV_DNS_TREE_NAME = 5,
	MSV_AV_FLAGS = 6,
	MSV_AV_TIMESTAMP = 7,
	MSV_AV_SINGLE_HOST = 8,
	MSV_AV_TARGET_NAME = 9,
	MSV_AV_CHANNEL_BINDINGS = 10,
};
#define MSV_AV_FLAG_MIC_PRESENT 0x00000002u

/* Offset and size of the MIC in an AUTHENTICATE_MESSAGE (2.2.1.3). */
#define NTLMSSP_MIC_OFFSET 72
#define NTLMSSP_AUTH_HEADER_WITH_MIC 88

struct ntlmssp_server;

struct ntlmssp_server *ntlmssp_server_new(TALLOC_CTX *mem, const struct auth_server_config *cfg);
/* Tests only: use this ServerChallenge instead of a random one. */
void ntlmssp_server_set_challenge(struct ntlmssp_server *s, const uint8_t challenge[8]);

/*
 * NEGOTIATE in: MORE_PROCESSING_REQUIRED and the CHALLENGE out.
 * AUTHENTICATE in: OK (no output token), NT_STATUS_LOGON_FAILURE,
 * NT_STATUS_ACCOUNT_DISABLED or NT_STATUS_INVALID_PARAMETER.
 */
NTSTATUS ntlmssp_server_update(struct ntlmssp_server *s, TALLOC_CTX *mem,
			       const uint8_t *in, size_t in_len,
			       uint8_t **out, size_t *out_len);
const struct auth_info *ntlmssp_server_info(const struct ntlmssp_server *s);
/* The negotiated flags (after the CHALLENGE; final after AUTHENTICATE). */
uint32_t ntlmssp_server_flags(const struct ntlmssp_server *s);
/* The AUTHENTICATE carried a verified MIC (MsvAvFlags bit 0x2). */
bool ntlmssp_server_mic_present(const struct ntlmssp_server *s);
/* Keys exist for signing (authenticated, not anonymous, extended session security). */
bool ntlmssp_server_can_sign(const struct ntlmssp_server *s);

/* GSS_GetMIC server-to-client / GSS_VerifyMIC client-to-server (MS-NLMP 3.4.4.2). */
NTSTATUS ntlmssp_server_sign(struct ntlmssp_server *s, const uint8_t *msg, size_t len,
			     uint8_t sig[16]);
NTSTATUS ntlmssp_server_check_sign(struct ntlmssp_server *s, const uint8_t *msg, size_t len,
				   const uint8_t *sig, size_t sig_len);

#endif
