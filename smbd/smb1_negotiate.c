/*
 * The only SMB1 message Porthos understands: an old-style NEGOTIATE that
 * offers "SMB 2.002" and/or "SMB 2.???" (MS-SMB2 3.3.5.3.1). It is answered
 * with an SMB2 NEGOTIATE response: dialect 0x02FF (the client then sends
 * an SMB2 NEGOTIATE) or 0x0202. Anything else ends the connection, since
 * SMB1 is not served.
 */
#include "config.h"

#include <string.h>

#include "conf/conf.h"
#include "lib/log.h"
#include "lib/wire.h"
#include "smbd/conn.h"
#include "smbd/server.h"
#include "smbd/smb2_handlers.h"
#include "smbd/smb2_proto.h"

#define SMB1_HDR_LEN 32
#define SMB1_COM_NEGOTIATE 0x72

void smb1_negotiate(struct smbd_conn *conn, const uint8_t *pdu, size_t len)
{
	struct wire_rd r;
	wire_rd_init(&r, pdu, len);
	wire_skip(&r, 4);
	uint8_t command = wire_u8(&r);
	wire_seek(&r, SMB1_HDR_LEN);
	uint8_t word_count = wire_u8(&r);
	wire_skip(&r, (size_t)word_count * 2);
	uint16_t byte_count = wire_u16(&r);
	const uint8_t *bytes = wire_ptr(&r, byte_count);
	if (!wire_ok(&r) || command != SMB1_COM_NEGOTIATE || conn->negotiated) {
		smbd_conn_terminate(conn, "SMB1 is not supported");
		return;
	}
	bool smb2_002 = false, smb2_any = false;
	for (size_t i = 0; i < byte_count;) {
		/* Each dialect: 0x02 then a NUL-terminated ASCII string. */
		if (bytes[i] != 0x02)
			break;
		const uint8_t *s = bytes + i + 1;
		const uint8_t *end = memchr(s, 0, byte_count - i - 1);
		if (end == NULL)
			break;
		size_t slen = (size_t)(end - s);
		if (slen == 9 && memcmp(s, "SMB 2.002", 9) == 0)
			smb2_002 = true;
		if (slen == 9 && memcmp(s, "SMB 2.???", 9) == 0)
			smb2_any = true;
		i += slen + 2;
	}
	uint16_t dialect = smb2_any ? SMB2_DIALECT_WILDCARD : SMB2_DIALECT_202;
	if (!smb2_any && (!smb2_002 || conn->srv->cfg->min_protocol > SMB2_DIALECT_202)) {
		smbd_conn_terminate(conn, "SMB1-only client");
		return;
	}

	/* Message id 0 is used by this exchange (MS-SMB2 3.3.5.3.1). */
	smbd_credits_consume(&conn->credits, 0, 1);
	uint16_t credits = smbd_credits_grant(&conn->credits, 1);

	struct wire_wr w;
	wire_wr_init(&w, conn, 256);
	uint8_t hdr[SMB2_HDR_LEN] = { 0 };
	put_le32(hdr, 0x424D53FE);
	put_le16(hdr + SMB2_HDR_STRUCTURE_SIZE, SMB2_HDR_LEN);
	put_le16(hdr + SMB2_HDR_COMMAND, SMB2_NEGOTIATE);
	put_le16(hdr + SMB2_HDR_CREDIT, credits);
	put_le32(hdr + SMB2_HDR_FLAGS, SMB2_FLAGS_SERVER_TO_REDIR);
	NTSTATUS st = smb2_negotiate_build_response(conn, &w, dialect, NULL, 0, 0);
	if (!NT_STATUS_IS_OK(st)) {
		talloc_free(w.buf);
		smbd_conn_terminate(conn, "out of memory");
		return;
	}
	if (dialect == SMB2_DIALECT_202) {
		conn->dialect = SMB2_DIALECT_202;
		conn->signing_algo_id = 0; /* HMAC-SHA256 */
		conn->negotiated = true;
	}
	struct iovec iov[2] = { { hdr, SMB2_HDR_LEN }, { w.buf, w.len } };
	smbd_conn_send(conn, iov, 2);
	talloc_free(w.buf);
	LOG_DBG("%s: SMB1 negotiate answered with dialect 0x%04x", conn->peer, dialect);
}
