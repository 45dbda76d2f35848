/*
 * The client side of NTLMSSP (MS-NLMP 2.2.1, NTLMv2), for the fuzz
 * harnesses (a real logon before fuzzing what follows it) and for the seed
 * generator. Built on lib/auth's primitives.
 */
#ifndef PORTHOS_FUZZ_NTLM_CLIENT_H
#define PORTHOS_FUZZ_NTLM_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

struct ntlmc_opts {
	const char *user;     /* NULL or "": an anonymous AUTHENTICATE */
	const char *domain;
	const char *password;
	bool key_exch;        /* send an EncryptedRandomSessionKey */
	bool mic;             /* MsvAvFlags with a MIC over the three messages */
	const uint8_t *negotiate; /* the NEGOTIATE sent, for the MIC */
	size_t negotiate_len;
};

/* A NEGOTIATE_MESSAGE; key_exch adds KEY_EXCH, SIGN and SEAL to the flags. */
uint8_t *ntlmc_negotiate(TALLOC_CTX *mem, bool key_exch, size_t *len);
/*
 * The AUTHENTICATE_MESSAGE answering 'challenge' (fixed client challenge
 * and timestamp, so the output is reproducible). NULL if the challenge
 * cannot be parsed. session_key (may be NULL) gets the exported key.
 */
uint8_t *ntlmc_authenticate(TALLOC_CTX *mem, const uint8_t *challenge, size_t challenge_len,
			    const struct ntlmc_opts *o, size_t *len, uint8_t session_key[16]);
/* A CHALLENGE_MESSAGE as a server sends it, for seeds of a fixed challenge. */
uint8_t *ntlmc_fake_challenge(TALLOC_CTX *mem, const uint8_t server_challenge[8], size_t *len);

/* SPNEGO around a client token: a NegTokenInit offering NTLMSSP, or a NegTokenResp. */
uint8_t *ntlmc_spnego_init(TALLOC_CTX *mem, const uint8_t *token, size_t len, size_t *out_len);
uint8_t *ntlmc_spnego_resp(TALLOC_CTX *mem, const uint8_t *token, size_t len, size_t *out_len);

#endif
