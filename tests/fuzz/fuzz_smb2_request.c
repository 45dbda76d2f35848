/*
 * Every SMB2 command's request decoder, through the real request path
 * (smbd_conn_recv -> dispatch -> handler -> reply).
 *
 * Input: one mode byte, then a stream of direct-TCP frames, each one PDU
 * (a single request or a compound chain).
 *   mode bit 0: 0 = the connection is set up first (NEGOTIATE, an NTLMv2
 *               logon, trees FZ_TID_SHARE/IPC/PUB/ENC), so every
 *               command's handler is reached; 1 = a fresh connection, the
 *               input starts with NEGOTIATE (or an SMB1 NEGOTIATE).
 *   mode bit 1: 1 = ids are left as they are; 0 = message ids are made
 *               valid, and session id FZ_SID_ALIAS and file ids k/k name
 *               the session and the k-th open (fz_patch_ids).
 *   mode bits 2-3: the dialect set up: 3.1.1, 3.0.2, 2.1, 2.0.2.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <talloc.h>

#include "smbd/smb2_proto.h"
#include "tests/fuzz/fz_dup.h"
#include "tests/fuzz/harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FRAMES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t dialects[4] = { SMB2_DIALECT_311, SMB2_DIALECT_302, SMB2_DIALECT_210,
					      SMB2_DIALECT_202 };
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	data++;
	size--;
	struct fz_client *c = fz_client_new(NULL);
	bool fresh = mode & 1, raw = mode & 2;
	/* AES-128-GCM and AES-CMAC, as current Windows clients choose. */
	if (!fresh && !fz_client_setup(c, dialects[(mode >> 2) & 3], 2, 1)) {
		/* The same every time: fuzzing nothing must not look like a pass. */
		fprintf(stderr, "fuzz harness: the connection setup failed (mode 0x%02x)\n", mode);
		abort();
	}
	const uint8_t *pdu;
	size_t len;
	for (int n = 0; n < MAX_FRAMES && fz_next_frame(&data, &size, &pdu, &len); n++) {
		uint8_t *buf = fz_dup(c, pdu, len);
		if (buf == NULL)
			break;
		if (!raw)
			fz_patch_ids(c, buf, len);
		bool alive = fz_client_send(c, buf, len);
		talloc_free(buf);
		if (!alive)
			break;
	}
	fz_client_free(c);
	return 0;
}
