/*
 * lib/rpc: the DCE/RPC pipe server and srvsvc.
 *
 * Requests are built here by hand from C706 (PDU layouts, NDR) and MS-SRVS
 * (method signatures); responses are decoded by a reader written here,
 * independent of lib/rpc/ndr.c. The bind_ack is checked byte for byte.
 * Malformed input (truncation at every length, lying counts, unknown
 * packet types, random bytes) must never crash nor grow memory.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/rpc/ndr.h"
#include "lib/rpc/rpc_server.h"
#include "lib/unicode.h"
#include "lib/wire.h"

/* ---- the server side the tests talk to ---- */

struct test_shares {
	size_t extra;			/* generated shares after the fixed ones */
};

static size_t test_list_shares(void *private_data, TALLOC_CTX *mem,
			       struct rpc_share_info **out)
{
	const struct test_shares *ts = private_data;
	size_t n = 2 + (ts ? ts->extra : 0);
	struct rpc_share_info *s = talloc_zero_array(mem, struct rpc_share_info, n);
	s[0] = (struct rpc_share_info){ "vms", RPC_STYPE_DISKTREE,
					"Virtual machines", "C:\\srv\\vms", 0 };
	s[1] = (struct rpc_share_info){ "Caf\xc3\xa9", RPC_STYPE_DISKTREE,
					NULL, NULL, 0x30 };
	for (size_t i = 2; i < n; i++)
		s[i] = (struct rpc_share_info){
			talloc_asprintf(mem, "share%04zu", i), RPC_STYPE_DISKTREE,
			"a comment long enough to need a few fragments", "C:\\x", 0 };
	*out = s;
	return n;
}

static struct test_shares no_extra;
static const struct rpc_server_info test_info = {
	.server_name = "PORTHOS",
	.comment = "Porthos file server",
	.list_shares = test_list_shares,
	.private_data = &no_extra,
};

/* ---- PDU builders (C706 12.6) ---- */

static const uint8_t uuid_srvsvc[16] = {
	0xc8, 0x4f, 0x32, 0x4b, 0x70, 0x16, 0xd3, 0x01,
	0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88 };
static const uint8_t uuid_ndr[16] = {
	0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11,
	0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60 };
static const uint8_t uuid_ndr64[16] = {
	0x33, 0x05, 0x71, 0x71, 0xba, 0xbe, 0x37, 0x49,
	0x83, 0x19, 0xb5, 0xdb, 0xef, 0x9c, 0xcc, 0x36 };
/* MS-RPCE 3.3.1.5.3 with both feature bits set. */
static const uint8_t uuid_btfn3[16] = {
	0x2c, 0x1c, 0xb7, 0x6c, 0x12, 0x98, 0x40, 0x45,
	0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };
static const uint8_t uuid_lsarpc[16] = {
	0x78, 0x57, 0x34, 0x12, 0x34, 0x12, 0xcd, 0xab,
	0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab };

#define PT_REQUEST 0
#define PT_RESPONSE 2
#define PT_FAULT 3
#define PT_BIND 11
#define PT_BIND_ACK 12
#define PT_BIND_NAK 13
#define PT_ALTER 14
#define PT_ALTER_RESP 15

static void put_hdr(struct wire_wr *w, uint8_t ptype, uint8_t flags, uint32_t call_id)
{
	static const uint8_t h[8] = { 5, 0, 0, 0, 0x10, 0, 0, 0 };
	size_t off = w->len;
	wire_put_bytes(w, h, 8);
	w->buf[off + 2] = ptype;
	w->buf[off + 3] = flags;
	wire_put_u16(w, 0);	/* frag_length, see end_pdu */
	wire_put_u16(w, 0);
	wire_put_u32(w, call_id);
}

static void end_pdu(struct wire_wr *w, size_t start)
{
	wire_patch_u16(w, start + 8, (uint16_t)(w->len - start));
}

static void put_syntax(struct wire_wr *w, const uint8_t uuid[16], uint16_t major, uint16_t minor)
{
	wire_put_bytes(w, uuid, 16);
	wire_put_u16(w, major);
	wire_put_u16(w, minor);
}

static void put_ctx(struct wire_wr *w, uint16_t id, const uint8_t *abstract,
		    uint16_t major, const uint8_t *ts, uint16_t ts_major)
{
	wire_put_u16(w, id);
	wire_put_u8(w, 1);
	wire_put_u8(w, 0);
	put_syntax(w, abstract, major, 0);
	put_syntax(w, ts, ts_major, 0);
}

/* A bind as Windows sends it: NDR, NDR64, feature negotiation; plus an
 * interface the pipe does not serve. */
static void put_windows_bind(struct wire_wr *w, uint32_t call_id, uint16_t max_recv)
{
	size_t start = w->len;
	put_hdr(w, PT_BIND, 3, call_id);
	wire_put_u16(w, 4280);		/* max_xmit_frag */
	wire_put_u16(w, max_recv);	/* max_recv_frag */
	wire_put_u32(w, 0);		/* assoc_group_id */
	wire_put_u8(w, 4);
	wire_put_zeros(w, 3);
	put_ctx(w, 0, uuid_srvsvc, 3, uuid_ndr, 2);
	put_ctx(w, 1, uuid_srvsvc, 3, uuid_ndr64, 1);
	put_ctx(w, 2, uuid_srvsvc, 3, uuid_btfn3, 1);
	put_ctx(w, 3, uuid_lsarpc, 0, uuid_ndr, 2);
	end_pdu(w, start);
}

static void put_request(struct wire_wr *w, uint32_t call_id, uint8_t flags,
			uint32_t alloc_hint, uint16_t ctx, uint16_t opnum,
			const uint8_t *stub, size_t len)
{
	size_t start = w->len;
	put_hdr(w, PT_REQUEST, flags, call_id);
	wire_put_u32(w, alloc_hint);
	wire_put_u16(w, ctx);
	wire_put_u16(w, opnum);
	wire_put_bytes(w, stub, len);
	end_pdu(w, start);
}

/* NDR [string] wchar_t from ASCII, aligned to 4 first (C706 14.3.4). */
static void put_ndr_string(struct wire_wr *w, const char *s)
{
	uint32_t n = (uint32_t)strlen(s) + 1;
	wire_put_align(w, 4);
	wire_put_u32(w, n);
	wire_put_u32(w, 0);
	wire_put_u32(w, n);
	for (uint32_t i = 0; i < n; i++)
		wire_put_u16(w, (uint8_t)s[i]);
	wire_put_align(w, 4);
}

/* MS-SRVS 3.1.4.8 NetrShareEnum(ServerName, InfoStruct, PrefMaxLen,
 * TotalEntries, ResumeHandle) [in] part. */
static void put_enum_stub(struct wire_wr *w, uint32_t level, uint32_t pref_max,
			  bool resume_ptr, uint32_t resume)
{
	wire_put_u32(w, 0x00020000);	/* ServerName: unique pointer */
	put_ndr_string(w, "\\\\SRV");
	wire_put_u32(w, level);		/* SHARE_ENUM_STRUCT.Level */
	wire_put_u32(w, level);		/* union switch */
	wire_put_u32(w, 0x00020004);	/* container pointer */
	wire_put_u32(w, 0);		/* EntriesRead */
	wire_put_u32(w, 0);		/* Buffer: NULL */
	wire_put_u32(w, pref_max);
	wire_put_u32(w, resume_ptr ? 0x00020008 : 0);
	if (resume_ptr)
		wire_put_u32(w, resume);
}

static void put_getinfo_stub(struct wire_wr *w, const char *share, uint32_t level)
{
	wire_put_u32(w, 0);		/* ServerName: NULL */
	put_ndr_string(w, share);	/* NetName: ref pointer, no id */
	wire_put_u32(w, level);
}

/* ---- reading replies ---- */

struct reply {
	uint8_t ptype;
	uint8_t flags;
	uint32_t call_id;
	uint32_t fault;
	uint8_t *stub;		/* responses, all fragments joined */
	size_t stub_len;
	size_t n_frags;
	size_t max_frag;
};

/* Reads one whole call's reply: a fault, or response fragments. */
static bool read_reply(struct rpc_pipe *p, TALLOC_CTX *mem, struct reply *r)
{
	memset(r, 0, sizeof(*r));
	struct wire_wr stub;
	wire_wr_init(&stub, mem, 64);
	for (;;) {
		uint8_t *pdu;
		size_t len;
		NTSTATUS st = rpc_pipe_read(p, mem, 65536, &pdu, &len);
		if (!NT_STATUS_IS_OK(st))
			return false;
		assert_true(len >= 16);
		assert_int_equal(pdu[0], 5);
		assert_int_equal(pdu[4], 0x10);
		assert_int_equal(le16(pdu + 8), len);
		assert_int_equal(le16(pdu + 10), 0);
		r->ptype = pdu[2];
		r->flags = pdu[3];
		r->call_id = le32(pdu + 12);
		r->n_frags++;
		if (len > r->max_frag)
			r->max_frag = len;
		if (r->ptype == PT_FAULT) {
			assert_int_equal(len, 32);
			r->fault = le32(pdu + 24);
			return true;
		}
		assert_int_equal(r->ptype, PT_RESPONSE);
		assert_true(len >= 24);
		/* alloc_hint: what is left of the stub from here on. */
		assert_true(le32(pdu + 16) >= len - 24);
		assert_int_equal((r->n_frags == 1), !!(pdu[3] & 1));
		wire_put_bytes(&stub, pdu + 24, len - 24);
		if (pdu[3] & 2)
			break;
	}
	r->stub = stub.buf;
	r->stub_len = stub.len;
	return true;
}

/* An NDR reader for the tests, written from C706 apart from lib/rpc. */
static uint32_t rd32(struct wire_rd *r)
{
	wire_align(r, 4);
	return wire_u32(r);
}

static char *rd_string(struct wire_rd *r, TALLOC_CTX *mem)
{
	uint32_t max = rd32(r), off = rd32(r), actual = rd32(r);
	assert_int_equal(off, 0);
	assert_int_equal(max, actual);
	assert_true(actual >= 1);
	const uint8_t *p = wire_ptr(r, (size_t)actual * 2);
	assert_non_null(p);
	assert_int_equal(le16(p + 2 * (actual - 1)), 0);
	return utf16le_to_utf8(mem, p, (actual - 1) * 2);
}

static struct rpc_pipe *open_bound(TALLOC_CTX *mem, const struct rpc_server_info *info,
				   uint16_t max_recv)
{
	struct rpc_pipe *p = rpc_pipe_open(mem, "srvsvc", info);
	assert_non_null(p);
	struct wire_wr w;
	wire_wr_init(&w, mem, 256);
	put_windows_bind(&w, 1, max_recv);
	assert_true(NT_STATUS_IS_OK(rpc_pipe_write(p, w.buf, w.len)));
	uint8_t *ack;
	size_t len;
	assert_true(NT_STATUS_IS_OK(rpc_pipe_read(p, mem, 65536, &ack, &len)));
	assert_int_equal(ack[2], PT_BIND_ACK);
	return p;
}

/* Sends one single-fragment request and reads the reply. */
static void call(struct rpc_pipe *p, TALLOC_CTX *mem, uint32_t call_id, uint16_t ctx,
		 uint16_t opnum, const struct wire_wr *stub, struct reply *r)
{
	struct wire_wr w;
	wire_wr_init(&w, mem, 256);
	put_request(&w, call_id, 3, (uint32_t)stub->len, ctx, opnum, stub->buf, stub->len);
	assert_true(NT_STATUS_IS_OK(rpc_pipe_write(p, w.buf, w.len)));
	assert_true(read_reply(p, mem, r));
	assert_int_equal(r->call_id, call_id);
	assert_int_equal(rpc_pipe_pending(p), 0);
}

struct share_entry {
	char *name;
	uint32_t type;
	char *comment;
};

/* Decodes a NetrShareEnum level 1 response; returns the entries. */
static size_t parse_enum1(TALLOC_CTX *mem, const struct reply *r, struct share_entry **out,
			  uint32_t *total, uint32_t *resume, uint32_t *werr)
{
	struct wire_rd rd;
	wire_rd_init(&rd, r->stub, r->stub_len);
	assert_int_equal(rd32(&rd), 1);		/* Level */
	assert_int_equal(rd32(&rd), 1);		/* switch */
	assert_int_not_equal(rd32(&rd), 0);	/* container */
	uint32_t count = rd32(&rd);
	uint32_t array = rd32(&rd);
	struct share_entry *e = talloc_zero_array(mem, struct share_entry, count + 1);
	if (count) {
		assert_int_not_equal(array, 0);
		assert_int_equal(rd32(&rd), count);	/* conformance */
		uint32_t *ptrs = talloc_array(mem, uint32_t, 2 * count);
		for (uint32_t i = 0; i < count; i++) {
			ptrs[2 * i] = rd32(&rd);
			e[i].type = rd32(&rd);
			ptrs[2 * i + 1] = rd32(&rd);
		}
		for (uint32_t i = 0; i < count; i++) {
			assert_int_not_equal(ptrs[2 * i], 0);
			e[i].name = rd_string(&rd, mem);
			assert_int_not_equal(ptrs[2 * i + 1], 0);
			e[i].comment = rd_string(&rd, mem);
		}
	} else {
		assert_int_equal(array, 0);
	}
	*total = rd32(&rd);
	uint32_t rp = rd32(&rd);
	*resume = rp ? rd32(&rd) : 0xDEADBEEF;
	*werr = rd32(&rd);
	assert_true(wire_ok(&rd));
	assert_int_equal(wire_remaining(&rd), 0);
	*out = e;
	return count;
}

/* ---- tests ---- */

static void test_open_names(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	assert_non_null(rpc_pipe_open(mem, "srvsvc", &test_info));
	assert_non_null(rpc_pipe_open(mem, "SRVSVC", &test_info));
	assert_non_null(rpc_pipe_open(mem, "\\PIPE\\srvsvc", &test_info));
	assert_non_null(rpc_pipe_open(mem, "\\pipe\\SrvSvc", &test_info));
	assert_non_null(rpc_pipe_open(mem, "\\srvsvc", &test_info));
	assert_null(rpc_pipe_open(mem, "lsarpc", &test_info));
	assert_null(rpc_pipe_open(mem, "wkssvc", &test_info));
	assert_null(rpc_pipe_open(mem, "", &test_info));
	assert_null(rpc_pipe_open(mem, "\\PIPE\\", &test_info));
	assert_null(rpc_pipe_open(mem, "srvsvc2", &test_info));
	assert_null(rpc_pipe_open(mem, NULL, &test_info));
	talloc_free(mem);
}

/* C706 12.6.4.4 bind_ack, MS-RPCE 3.3.1.5.3 negotiate_ack: exact bytes. */
static void test_bind_ack_bytes(void **state)
{
	static const uint8_t expect[] = {
		0x05, 0x00, 0x0c, 0x03, 0x10, 0x00, 0x00, 0x00,
		0x8c, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00,
		0xb8, 0x10, 0xb8, 0x10,			/* 4280, 4280 */
		0x78, 0x56, 0x34, 0x12,			/* assoc group echoed */
		0x0d, 0x00, '\\', 'P', 'I', 'P', 'E', '\\',
		's', 'r', 'v', 's', 'v', 'c', 0x00, 0x00, /* + 1 pad */
		0x04, 0x00, 0x00, 0x00,			/* 4 results */
		/* acceptance, NDR 2.0 */
		0x00, 0x00, 0x00, 0x00,
		0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11,
		0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60,
		0x02, 0x00, 0x00, 0x00,
		/* provider rejection, transfer syntaxes not supported */
		0x02, 0x00, 0x02, 0x00,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		/* negotiate ack: KeepConnectionOnOrphanSupported only */
		0x03, 0x00, 0x02, 0x00,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		/* provider rejection, abstract syntax not supported */
		0x02, 0x00, 0x01, 0x00,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	};
	TALLOC_CTX *mem = talloc_new(NULL);
	struct rpc_pipe *p = rpc_pipe_open(mem, "srvsvc", &test_info);
	struct wire_wr w;
	wire_wr_init(&w, mem, 256);
	put_windows_bind(&w, 7, 4280);
	put_le32(w.buf + 20, 0x12345678);	/* assoc_group_id */
	assert_true(NT_STATUS_IS_OK(rpc_pipe_write(p, w.buf, w.len)));
	assert_int_equal(rpc_pipe_pending(p), sizeof(expect));
	uint8_t *out;
	size_t len;
	assert_true(NT_STATUS_IS_OK(rpc_pipe_read(p, mem, 65536, &out, &len)));
	assert_int_equal(len, sizeof(expect));
	assert_memory_equal(out, expect, sizeof(expect));
	/* Nothing else queued: an empty read reports it. */
	assert_true(NT_STATUS_EQUAL(rpc_pipe_read(p, mem, 100, &out, &len), NT_STATUS_PIPE_EMPTY));
	assert_null(out);
	assert_int_equal(len, 0);

	/* Fragment sizes: small offers are raised to 1432, big ones capped. */
	struct rpc_pipe *q = rpc_pipe_open(mem, "srvsvc", &test_info);
	wire_wr_init(&w, mem, 256);
	put_windows_bind(&w, 1, 100);
	put_le16(w.buf + 16, 65535);
	assert_true(NT_STATUS_IS_OK(rpc_pipe_write(q, w.buf, w.len)));
	assert_true(NT_STATUS_IS_OK(rpc_pipe_read(q, mem, 65536, &out, &len)));
	assert_int_equal(le16(out + 16), 1432);	/* server max_xmit */
	assert_int_equal(le16(out + 18), 4280);	/* server max_recv */
	assert_int_not_equal(le32(out + 20), 0);	/* a fresh assoc group */

	/* A second bind on the association is refused (C706 12.6.4.4). */
	wire_wr_init(&w, mem, 256);
	put_windows_bind(&w, 2, 4280);
	assert_true(NT_STATUS_IS_OK(rpc_pipe_write(q, w.buf, w.len)));
	assert_true(NT_STATUS_IS_OK(rpc_pipe_read(q, mem, 65536, &out, &len)));
	assert_int_equal(out[2], PT_BIND_NAK);
	assert_int_equal(le32(out + 12), 2);

	/* ALTER_CONTEXT adds a context; its response has no address. */
	wire_wr_init(&w, mem, 256);
	size_t start = w.len;
	put_hdr(&w, PT_ALTER, 3, 3);
	wire_put_u16(&w, 4280);
	wire_put_u16(&w, 4280);
	wire_put_u32(&w, 0);
	wire_put_u8(&w, 1);
	wire_put_zeros(&w, 3);
	put_ctx(&w, 5, uuid_srvsvc, 3, uuid_ndr, 2);
	end_pdu(&w, start);
	assert_true(NT_STATUS_IS_OK(rpc_pipe_write(q, w.buf, w.len)));
	assert_true(NT_STATUS_IS_OK(rpc_pipe_read(q, mem, 65536, &out, &len)));
	assert_int_equal(out[2], PT_ALTER_RESP);
	assert_int_equal(len, 16 + 8 + 4 + 4 + 24);
	assert_int_equal(le16(out + 24), 0);
	assert_int_equal(out[28], 1);
	assert_int_equal(le16(out + 32), 0);	/* accepted */
	struct wire_wr stub;
	wire_wr_init(&stub, mem, 64);
	put_getinfo_stub(&stub, "vms", 0);
	struct reply r;
	call(q, mem, 9, 5, 16, &stub, &r);
	assert_int_equal(r.ptype, PT_RESPONSE);
	talloc_free(mem);
}

static void test_bind_refusals(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	uint8_t *out;
	size_t len;
	struct wire_wr w;

	/* Big-endian data representation: bind_nak. */
	struct rpc_pipe *p = rpc_pipe_open(mem, "srvsvc", &test_info);
	wire_wr_init(&w, mem, 256);
	put_windows_bind(&w, 1, 4280);
	w.buf[4] = 0x00;
	uint16_t fl = le16(w.buf + 8);
	w.buf[8] = (uint8_t)(fl >> 8);
	w.buf[9] = (uint8_t)fl;
	put_le32(w.buf + 12, 0x01000000);	/* call id 1, big-endian */
	assert_true(NT_STATUS_IS_OK(rpc_pipe_write(p, w.buf, w.len)));
	assert_true(NT_STATUS_IS_OK(rpc_pipe_read(p, mem, 65536, &out, &len)));
	assert_int_equal(out[2], PT_BIND_NAK);
	assert_int_equal(le32(out + 12), 1);
	assert_int_equal(len, 24);
	assert_int_equal(le16(out + 16), 0);
	assert_int_equal(out[18], 1);		/* one version: 5.0 */
	assert_int_equal(out[19], 5);
	assert_int_equal(out[20], 0);

	/* Authenticated bind: bind_nak, authentication type not recognized. */
	p = rpc_pipe_open(mem, "srvsvc", &test_info);
	wire_wr_init(&w, mem, 256);
	put_windows_bind(&w, 1, 4280);
	static const uint8_t verifier[8 + 16] = { 10, 2, 0, 0, 0, 0, 0, 0 };
	wire_put_bytes(&w, verifier, sizeof(verifier));
	end_pdu(&w, 0);
	put_le16(w.buf + 10, 16);
	assert_true(NT_STATUS_IS_OK(rpc_pipe_write(p, w.buf, w.len)));
	assert_true(NT_STATUS_IS_OK(rpc_pipe_read(p, mem, 65536, &out, &len)));
	assert_int_equal(out[2], PT_BIND_NAK);
	assert_int_equal(le16(out + 16), 8);

	/* A bind with no context: bind_nak. */
	p = rpc_pipe_open(mem, "srvsvc", &test_info);
	wire_wr_init(&w, mem, 256);
	put_hdr(&w, PT_BIND, 3, 4);
	wire_put_u16(&w, 4280);
	wire_put_u16(&w, 4280);
	wire_put_u32(&w, 0);
	wire_put_u32(&w, 0);
	end_pdu(&w, 0);
	assert_true(NT_STATUS_IS_OK(rpc_pipe_write(p, w.buf, w.len)));
	assert_true(NT_STATUS_IS_OK(rpc_pipe_read(p, mem, 65536, &out, &len)));
	assert_int_equal(out[2], PT_BIND_NAK);

	/* Only NDR64 offered: the context is rejected, the bind acked. */
	p = rpc_pipe_open(mem, "srvsvc", &test_info);
	wire_wr_init(&w, mem, 256);
	put_hdr(&w, PT_BIND, 3, 5);
	wire_put_u16(&w, 4280);
	wire_put_u16(&w, 4280);
	wire_put_u32(&w, 0);
	wire_put_u8(&w, 1);
	wire_put_zeros(&w, 3);
	put_ctx(&w, 0, uuid_srvsvc, 3, uuid_ndr64, 1);
	end_pdu(&w, 0);
	assert_true(NT_STATUS_IS_OK(rpc_pipe_write(p, w.buf, w.len)));
	assert_true(NT_STATUS_IS_OK(rpc_pipe_read(p, mem, 65536, &out, &len)));
	assert_int_equal(out[2], PT_BIND_ACK);
	assert_int_equal(le16(out + 44), 2);
	assert_int_equal(le16(out + 46), 2);
	/* ...so a request on context 0 faults with nca_s_unk_if. */
	struct wire_wr stub;
	wire_wr_init(&stub, mem, 64);
	put_getinfo_stub(&stub, "vms", 1);
	struct reply r;
	call(p, mem, 6, 0, 16, &stub, &r);
	assert_int_equal(r.ptype, PT_FAULT);
	assert_int_equal(r.fault, 0x1c010003);
	assert_true(r.flags & 0x20);		/* did not execute */

	/* srvsvc with a wrong major version: abstract syntax rejected. */
	p = rpc_pipe_open(mem, "srvsvc", &test_info);
	wire_wr_init(&w, mem, 256);
	put_hdr(&w, PT_BIND, 3, 5);
	wire_put_u16(&w, 4280);
	wire_put_u16(&w, 4280);
	wire_put_u32(&w, 0);
	wire_put_u8(&w, 1);
	wire_put_zeros(&w, 3);
	put_ctx(&w, 0, uuid_srvsvc, 2, uuid_ndr, 2);
	end_pdu(&w, 0);
	assert_true(NT_STATUS_IS_OK(rpc_pipe_write(p, w.buf, w.len)));
	assert_true(NT_STATUS_IS_OK(rpc_pipe_read(p, mem, 65536, &out, &len)));
	assert_int_equal(le16(out + 44), 2);
	assert_int_equal(le16(out + 46), 1);

	/* A request before any bind faults too. */
	p = rpc_pipe_open(mem, "srvsvc", &test_info);
	call(p, mem, 1, 0, 16, &stub, &r);
	assert_int_equal(r.ptype, PT_FAULT);
	assert_int_equal(r.fault, 0x1c010003);
	talloc_free(mem);
}

static void test_share_enum_level1(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct rpc_pipe *p = open_bound(mem, &test_info, 4280);
	struct wire_wr stub;
	wire_wr_init(&stub, mem, 64);
	put_enum_stub(&stub, 1, 0xFFFFFFFF, true, 0);
	struct reply r;
	call(p, mem, 2, 0, 15, &stub, &r);
	assert_int_equal(r.ptype, PT_RESPONSE);
	assert_int_equal(r.n_frags, 1);

	struct share_entry *e;
	uint32_t total, resume, werr;
	size_t n = parse_enum1(mem, &r, &e, &total, &resume, &werr);
	assert_int_equal(n, 3);
	assert_int_equal(total, 3);
	assert_int_equal(werr, 0);
	assert_int_equal(resume, 0);
	assert_string_equal(e[0].name, "vms");
	assert_int_equal(e[0].type, 0);
	assert_string_equal(e[0].comment, "Virtual machines");
	assert_string_equal(e[1].name, "Caf\xc3\xa9");
	assert_string_equal(e[1].comment, "");
	/* MS-SRVS 3.1.1.1: IPC$ is always there, special and hidden. */
	assert_string_equal(e[2].name, "IPC$");
	assert_int_equal(e[2].type, 0x80000003);
	assert_string_equal(e[2].comment, "Remote IPC");

	/* A small PreferedMaximumLength pages through with the resume handle. */
	uint32_t next = 0;
	size_t seen = 0;
	for (int round = 0; round < 10; round++) {
		wire_wr_init(&stub, mem, 64);
		put_enum_stub(&stub, 1, 1, true, next);
		call(p, mem, 10 + round, 0, 15, &stub, &r);
		n = parse_enum1(mem, &r, &e, &total, &resume, &werr);
		assert_int_equal(n, 1);
		assert_int_equal(total, 3);
		seen += n;
		if (werr == 0)
			break;
		assert_int_equal(werr, 234);	/* ERROR_MORE_DATA */
		assert_int_equal(resume, seen);
		next = resume;
	}
	assert_int_equal(seen, 3);

	/* Unknown level: WERR_INVALID_LEVEL, no arm. */
	wire_wr_init(&stub, mem, 64);
	wire_put_u32(&stub, 0);
	wire_put_u32(&stub, 7);
	wire_put_u32(&stub, 7);
	wire_put_u32(&stub, 0xFFFFFFFF);
	wire_put_u32(&stub, 0);
	call(p, mem, 30, 0, 15, &stub, &r);
	assert_int_equal(r.ptype, PT_RESPONSE);
	assert_int_equal(r.stub_len, 20);
	assert_int_equal(le32(r.stub + 16), 124);
	talloc_free(mem);
}

static void test_share_enum_other_levels(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct rpc_pipe *p = open_bound(mem, &test_info, 4280);
	static const uint32_t levels[] = { 0, 2, 501, 502 };
	for (size_t k = 0; k < 4; k++) {
		struct wire_wr stub;
		wire_wr_init(&stub, mem, 64);
		put_enum_stub(&stub, levels[k], 0xFFFFFFFF, false, 0);
		struct reply r;
		call(p, mem, 2, 0, 15, &stub, &r);
		assert_int_equal(r.ptype, PT_RESPONSE);
		struct wire_rd rd;
		wire_rd_init(&rd, r.stub, r.stub_len);
		assert_int_equal(rd32(&rd), levels[k]);
		assert_int_equal(rd32(&rd), levels[k]);
		assert_int_not_equal(rd32(&rd), 0);
		assert_int_equal(rd32(&rd), 3);
		assert_int_not_equal(rd32(&rd), 0);
		assert_int_equal(rd32(&rd), 3);
		/* Fixed parts: 1, 8, 4, 10 fields; strings 1, 3, 2, 3. */
		size_t fields = levels[k] == 0 ? 1 : levels[k] == 2 ? 8 :
				levels[k] == 501 ? 4 : 10;
		size_t strings = levels[k] == 0 ? 1 : levels[k] == 501 ? 2 : 3;
		uint32_t first[10];
		for (size_t i = 0; i < 3; i++)
			for (size_t f = 0; f < fields; f++) {
				uint32_t v = rd32(&rd);
				if (i == 0)
					first[f] = v;
			}
		if (levels[k] == 2 || levels[k] == 502) {
			assert_int_equal(first[4], 0xFFFFFFFF);	/* max uses */
			assert_int_equal(first[7], 0);		/* no password */
		}
		if (levels[k] == 502)
			assert_int_equal(first[9], 0);		/* no SD */
		char *s[3][3];
		for (size_t i = 0; i < 3; i++)
			for (size_t j = 0; j < strings; j++)
				s[i][j] = rd_string(&rd, mem);
		assert_string_equal(s[0][0], "vms");
		if (levels[k] == 2 || levels[k] == 502) {
			assert_string_equal(s[0][2], "C:\\srv\\vms");
			assert_string_equal(s[1][2], "");
		}
		assert_int_equal(rd32(&rd), 3);		/* total */
		assert_int_equal(rd32(&rd), 0);		/* resume: NULL */
		assert_int_equal(rd32(&rd), 0);		/* WERR_OK */
		assert_true(wire_ok(&rd));
		assert_int_equal(wire_remaining(&rd), 0);
	}
	talloc_free(mem);
}

static void test_share_get_info(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct rpc_pipe *p = open_bound(mem, &test_info, 4280);
	struct wire_wr stub;
	struct reply r;
	struct wire_rd rd;

	/* Level 1, and the name matches case-insensitively. */
	wire_wr_init(&stub, mem, 64);
	put_getinfo_stub(&stub, "VMS", 1);
	call(p, mem, 2, 0, 16, &stub, &r);
	assert_int_equal(r.ptype, PT_RESPONSE);
	wire_rd_init(&rd, r.stub, r.stub_len);
	assert_int_equal(rd32(&rd), 1);		/* switch */
	assert_int_not_equal(rd32(&rd), 0);	/* SHARE_INFO_1 * */
	assert_int_not_equal(rd32(&rd), 0);	/* netname */
	assert_int_equal(rd32(&rd), 0);		/* type */
	assert_int_not_equal(rd32(&rd), 0);	/* remark */
	assert_string_equal(rd_string(&rd, mem), "vms");
	assert_string_equal(rd_string(&rd, mem), "Virtual machines");
	assert_int_equal(rd32(&rd), 0);
	assert_int_equal(wire_remaining(&rd), 0);

	/* Unknown share: NULL arm and NERR_NetNameNotFound. */
	wire_wr_init(&stub, mem, 64);
	put_getinfo_stub(&stub, "nosuch", 1);
	call(p, mem, 3, 0, 16, &stub, &r);
	assert_int_equal(r.stub_len, 12);
	assert_int_equal(le32(r.stub), 1);
	assert_int_equal(le32(r.stub + 4), 0);
	assert_int_equal(le32(r.stub + 8), 0x00000906);

	/* 1005: the flags. */
	/* put_ndr_string() is ASCII only: spell the name in UTF-16 here. */
	wire_wr_init(&stub, mem, 64);
	wire_put_u32(&stub, 0);
	wire_put_u32(&stub, 5);
	wire_put_u32(&stub, 0);
	wire_put_u32(&stub, 5);
	static const uint16_t cafe[5] = { 'C', 'A', 'F', 0xe9, 0 };
	for (int i = 0; i < 5; i++)
		wire_put_u16(&stub, cafe[i]);
	wire_put_align(&stub, 4);
	wire_put_u32(&stub, 1005);
	call(p, mem, 4, 0, 16, &stub, &r);
	assert_int_equal(r.stub_len, 16);
	assert_int_equal(le32(r.stub), 1005);
	assert_int_not_equal(le32(r.stub + 4), 0);
	assert_int_equal(le32(r.stub + 8), 0x30);
	assert_int_equal(le32(r.stub + 12), 0);

	/* Levels 0, 2, 501, 502 decode; a bad level is WERR_INVALID_LEVEL. */
	static const uint32_t lv[] = { 0, 2, 501, 502 };
	for (int i = 0; i < 4; i++) {
		wire_wr_init(&stub, mem, 64);
		put_getinfo_stub(&stub, "IPC$", lv[i]);
		call(p, mem, 5, 0, 16, &stub, &r);
		assert_int_equal(le32(r.stub), lv[i]);
		assert_int_equal(le32(r.stub + r.stub_len - 4), 0);
	}
	wire_wr_init(&stub, mem, 64);
	put_getinfo_stub(&stub, "vms", 1501);
	call(p, mem, 6, 0, 16, &stub, &r);
	assert_int_equal(r.stub_len, 12);
	assert_int_equal(le32(r.stub + 8), 124);
	talloc_free(mem);
}

static void test_server_get_info(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct rpc_pipe *p = open_bound(mem, &test_info, 4280);
	for (uint32_t level = 100; level <= 102; level++) {
		struct wire_wr stub;
		wire_wr_init(&stub, mem, 64);
		wire_put_u32(&stub, 0x00020000);
		put_ndr_string(&stub, "\\\\PORTHOS");
		wire_put_u32(&stub, level);
		struct reply r;
		call(p, mem, 2, 0, 21, &stub, &r);
		assert_int_equal(r.ptype, PT_RESPONSE);
		struct wire_rd rd;
		wire_rd_init(&rd, r.stub, r.stub_len);
		assert_int_equal(rd32(&rd), level);
		assert_int_not_equal(rd32(&rd), 0);
		assert_int_equal(rd32(&rd), 500);	/* PLATFORM_ID_NT */
		assert_int_not_equal(rd32(&rd), 0);
		if (level >= 101) {
			rd32(&rd);
			rd32(&rd);
			uint32_t type = rd32(&rd);
			assert_true(type & 0x2);	/* SV_TYPE_SERVER */
			assert_int_not_equal(rd32(&rd), 0);
		}
		if (level == 102) {
			for (int i = 0; i < 6; i++)
				rd32(&rd);
			assert_int_not_equal(rd32(&rd), 0);
		}
		assert_string_equal(rd_string(&rd, mem), "PORTHOS");
		if (level >= 101)
			assert_string_equal(rd_string(&rd, mem), "Porthos file server");
		if (level == 102)
			rd_string(&rd, mem);
		assert_int_equal(rd32(&rd), 0);
		assert_true(wire_ok(&rd));
		assert_int_equal(wire_remaining(&rd), 0);
	}
	talloc_free(mem);
}

static void test_faults(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct rpc_pipe *p = open_bound(mem, &test_info, 4280);
	struct wire_wr stub;
	wire_wr_init(&stub, mem, 64);
	struct reply r;

	/* Unknown opnums, in and beyond the table. */
	call(p, mem, 2, 0, 0, &stub, &r);
	assert_int_equal(r.ptype, PT_FAULT);
	assert_int_equal(r.fault, 0x1c010002);
	assert_true(r.flags & 0x20);
	call(p, mem, 3, 0, 999, &stub, &r);
	assert_int_equal(r.fault, 0x1c010002);
	/* Unknown context, and the feature-negotiation context (not usable). */
	call(p, mem, 4, 42, 15, &stub, &r);
	assert_int_equal(r.fault, 0x1c010003);
	call(p, mem, 5, 2, 15, &stub, &r);
	assert_int_equal(r.fault, 0x1c010003);
	/* Stub too short for the method: bad stub data. */
	call(p, mem, 6, 0, 15, &stub, &r);
	assert_int_equal(r.fault, 0x6f7);
	/* The pipe stays usable after faults. */
	put_getinfo_stub(&stub, "vms", 0);
	call(p, mem, 7, 0, 16, &stub, &r);
	assert_int_equal(r.ptype, PT_RESPONSE);
	talloc_free(mem);
}

/* The same request whole, in three fragments, and byte by byte. */
static void test_fragmented_request(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct wire_wr stub;
	wire_wr_init(&stub, mem, 64);
	put_enum_stub(&stub, 1, 0xFFFFFFFF, true, 0);

	struct rpc_pipe *p = open_bound(mem, &test_info, 4280);
	struct reply whole;
	call(p, mem, 2, 0, 15, &stub, &whole);

	/* Fragments split at unaligned offsets; alloc_hint is only advice. */
	struct wire_wr w;
	wire_wr_init(&w, mem, 256);
	put_request(&w, 3, 1, 0xFFFFFFFF, 0, 15, stub.buf, 5);
	put_request(&w, 3, 0, 0, 0, 15, stub.buf + 5, 13);
	put_request(&w, 3, 2, 7, 0, 15, stub.buf + 18, stub.len - 18);
	assert_true(NT_STATUS_IS_OK(rpc_pipe_write(p, w.buf, w.len)));
	struct reply r;
	assert_true(read_reply(p, mem, &r));
	assert_int_equal(r.call_id, 3);
	assert_int_equal(r.stub_len, whole.stub_len);
	assert_memory_equal(r.stub, whole.stub, whole.stub_len);

	/* The whole conversation dribbled in one byte per write. */
	struct rpc_pipe *q = rpc_pipe_open(mem, "srvsvc", &test_info);
	struct wire_wr all;
	wire_wr_init(&all, mem, 256);
	put_windows_bind(&all, 1, 4280);
	size_t bind_len = all.len;
	wire_put_bytes(&all, w.buf, w.len);
	for (size_t i = 0; i < all.len; i++) {
		assert_true(NT_STATUS_IS_OK(rpc_pipe_write(q, all.buf + i, 1)));
		if (i + 1 < bind_len)
			assert_int_equal(rpc_pipe_pending(q), 0);
	}
	uint8_t *out;
	size_t len;
	assert_true(NT_STATUS_IS_OK(rpc_pipe_read(q, mem, 65536, &out, &len)));
	assert_int_equal(out[2], PT_BIND_ACK);
	assert_true(read_reply(q, mem, &r));
	assert_memory_equal(r.stub, whole.stub, whole.stub_len);

	/* A continuation without a first fragment is a protocol error. */
	q = open_bound(mem, &test_info, 4280);
	wire_wr_init(&w, mem, 256);
	put_request(&w, 3, 2, 0, 0, 15, stub.buf, stub.len);
	assert_true(NT_STATUS_EQUAL(rpc_pipe_write(q, w.buf, w.len),
				    NT_STATUS_RPC_PROTOCOL_ERROR));
	assert_true(NT_STATUS_EQUAL(rpc_pipe_write(q, w.buf, w.len),
				    NT_STATUS_PIPE_DISCONNECTED));
	assert_true(NT_STATUS_EQUAL(rpc_pipe_read(q, mem, 10, &out, &len),
				    NT_STATUS_PIPE_DISCONNECTED));

	/* So is a new call interleaved with an unfinished one. */
	q = open_bound(mem, &test_info, 4280);
	wire_wr_init(&w, mem, 256);
	put_request(&w, 3, 1, 0, 0, 15, stub.buf, 8);
	put_request(&w, 4, 3, 0, 0, 15, stub.buf, stub.len);
	assert_true(NT_STATUS_EQUAL(rpc_pipe_write(q, w.buf, w.len),
				    NT_STATUS_RPC_PROTOCOL_ERROR));

	/* An orphaned call is dropped, the connection kept (MS-RPCE 3.3.1.5.10). */
	q = open_bound(mem, &test_info, 4280);
	wire_wr_init(&w, mem, 256);
	put_request(&w, 3, 1, 0, 0, 15, stub.buf, 8);
	size_t start = w.len;
	put_hdr(&w, 19, 3, 3);
	end_pdu(&w, start);
	put_request(&w, 4, 3, 0, 0, 15, stub.buf, stub.len);
	assert_true(NT_STATUS_IS_OK(rpc_pipe_write(q, w.buf, w.len)));
	assert_true(read_reply(q, mem, &r));
	assert_int_equal(r.call_id, 4);
	assert_memory_equal(r.stub, whole.stub, whole.stub_len);
	talloc_free(mem);
}

/* Over 1 MiB of fragments: refused, and the memory is given back. */
static void test_request_size_cap(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct rpc_pipe *p = open_bound(mem, &test_info, 4280);
	size_t base = talloc_total_size(p);
	uint8_t chunk[4000];
	memset(chunk, 0x41, sizeof(chunk));
	struct wire_wr w;
	NTSTATUS st = NT_STATUS_OK;
	int i;
	for (i = 0; i < 1000 && NT_STATUS_IS_OK(st); i++) {
		wire_wr_init(&w, mem, 4100);
		put_request(&w, 9, i == 0 ? 1 : 0, 0xFFFFFFFF, 0, 15, chunk, sizeof(chunk));
		st = rpc_pipe_write(p, w.buf, w.len);
		talloc_free(w.buf);
	}
	assert_true(NT_STATUS_EQUAL(st, NT_STATUS_RPC_PROTOCOL_ERROR));
	assert_true(i > 250 && i < 270);
	assert_true(talloc_total_size(p) <= base);
	talloc_free(mem);
}

/* A reply bigger than max_xmit_frag goes out in fragments; each read
 * returns at most one fragment (message mode). */
static void test_fragmented_response(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct test_shares many = { .extra = 300 };
	struct rpc_server_info info = test_info;
	info.private_data = &many;
	struct rpc_pipe *p = open_bound(mem, &info, 1432);

	struct wire_wr stub;
	wire_wr_init(&stub, mem, 64);
	put_enum_stub(&stub, 1, 0xFFFFFFFF, true, 0);
	struct reply r;
	call(p, mem, 2, 0, 15, &stub, &r);
	assert_true(r.n_frags > 10);
	assert_int_equal(r.max_frag, 1432);
	struct share_entry *e;
	uint32_t total, resume, werr;
	size_t n = parse_enum1(mem, &r, &e, &total, &resume, &werr);
	assert_int_equal(n, 303);
	assert_int_equal(total, 303);
	assert_int_equal(werr, 0);
	assert_string_equal(e[301].name, "share0301");
	assert_string_equal(e[302].name, "IPC$");

	/* Small reads: BUFFER_OVERFLOW until a fragment is used up. */
	struct wire_wr w;
	wire_wr_init(&w, mem, 256);
	put_request(&w, 3, 3, 0, 0, 15, stub.buf, stub.len);
	assert_true(NT_STATUS_IS_OK(rpc_pipe_write(p, w.buf, w.len)));
	size_t pending = rpc_pipe_pending(p);
	assert_true(pending > 1432);
	uint8_t *out;
	size_t len, got = 0, frag = 0, frag_len = 0;
	struct wire_wr joined;
	wire_wr_init(&joined, mem, pending);
	for (;;) {
		NTSTATUS st = rpc_pipe_read(p, mem, 100, &out, &len);
		if (NT_STATUS_EQUAL(st, NT_STATUS_PIPE_EMPTY))
			break;
		wire_put_bytes(&joined, out, len);
		if (frag == 0) {
			frag_len = le16(joined.buf + got + 8);
			assert_true(frag_len <= 1432);
		}
		frag += len;
		got += len;
		if (frag < frag_len) {
			assert_true(NT_STATUS_EQUAL(st, NT_STATUS_BUFFER_OVERFLOW));
			assert_int_equal(len, 100);
		} else {
			assert_true(NT_STATUS_IS_OK(st));
			assert_int_equal(frag, frag_len);
			frag = 0;
		}
		assert_int_equal(rpc_pipe_pending(p), pending - got);
	}
	assert_int_equal(got, pending);
	talloc_free(mem);
}

/* ---- malformed input ---- */

/* ndr_pull_wstring against lying counts and bad contents. */
static void test_ndr_strings(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct {
		uint32_t max, off, actual;
		uint16_t units[4];
		size_t n_units;
		const char *expect;	/* NULL: must fail */
	} cases[] = {
		{ 3, 0, 3, { 'a', 'b', 0 }, 3, "ab" },
		{ 1, 0, 1, { 0 }, 1, "" },
		{ 0, 0, 0, { 0 }, 0, "" },
		{ 2, 0, 2, { 'a', 'b' }, 2, "ab" },		/* no NUL: tolerated */
		{ 3, 0, 4, { 'a', 'b', 'c', 0 }, 4, NULL },	/* actual > max */
		{ 5, 1, 3, { 'a', 'b', 0 }, 3, NULL },		/* offset */
		{ 9, 0, 9, { 'a', 'b', 0 }, 3, NULL },		/* short data */
		{ 0x7fffffff, 0, 0x7fffffff, { 'a' }, 1, NULL },
		{ 0xffffffff, 0, 0xffffffff, { 'a' }, 1, NULL },
		{ 4, 0, 4, { 'a', 0, 'b', 0 }, 4, NULL },	/* embedded NUL */
		{ 2, 0, 2, { 0xd800, 0 }, 2, NULL },		/* lone surrogate */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wire_wr w;
		wire_wr_init(&w, mem, 64);
		wire_put_u32(&w, cases[i].max);
		wire_put_u32(&w, cases[i].off);
		wire_put_u32(&w, cases[i].actual);
		for (size_t u = 0; u < cases[i].n_units; u++)
			wire_put_u16(&w, cases[i].units[u]);
		struct ndr_pull n;
		ndr_pull_init(&n, mem, w.buf, w.len);
		char *s = ndr_pull_wstring(&n, NDR_MAX_STRING);
		if (cases[i].expect) {
			assert_true(ndr_pull_ok(&n));
			assert_string_equal(s, cases[i].expect);
		} else {
			assert_null(s);
			assert_false(ndr_pull_ok(&n));
		}
	}
	/* The cap: 1024 units pass, 1025 do not. */
	for (uint32_t len = 1024; len <= 1025; len++) {
		struct wire_wr w;
		wire_wr_init(&w, mem, 4096);
		wire_put_u32(&w, len);
		wire_put_u32(&w, 0);
		wire_put_u32(&w, len);
		for (uint32_t u = 0; u + 1 < len; u++)
			wire_put_u16(&w, 'x');
		wire_put_u16(&w, 0);
		struct ndr_pull n;
		ndr_pull_init(&n, mem, w.buf, w.len);
		char *s = ndr_pull_wstring(&n, NDR_MAX_STRING);
		assert_int_equal(s != NULL, len == 1024);
	}
	/* Push: conformant varying with the NUL counted, 4-aligned. */
	struct ndr_push o;
	ndr_push_init(&o, mem);
	ndr_push_u16(&o, 1);
	ndr_push_wstring(&o, "ab");
	ndr_push_ptr(&o, true);
	ndr_push_ptr(&o, false);
	ndr_push_ptr(&o, true);
	static const uint8_t expect[] = {
		1, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0,
		'a', 0, 'b', 0, 0, 0, 0, 0,
		0, 0, 2, 0, 0, 0, 0, 0, 4, 0, 2, 0 };
	assert_true(ndr_push_ok(&o));
	assert_int_equal(o.wr.len, sizeof(expect));
	assert_memory_equal(o.wr.buf, expect, sizeof(expect));
	talloc_free(mem);
}

/* Method stubs with lying counts fault, and the pipe lives on. */
static void test_bad_stub_data(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct rpc_pipe *p = open_bound(mem, &test_info, 4280);
	struct wire_wr stub;
	struct reply r;

	/* Server name claiming 2^31 units. */
	wire_wr_init(&stub, mem, 64);
	wire_put_u32(&stub, 0x00020000);
	wire_put_u32(&stub, 0x7fffffff);
	wire_put_u32(&stub, 0);
	wire_put_u32(&stub, 0x7fffffff);
	wire_put_u32(&stub, 0x00410041);
	call(p, mem, 2, 0, 15, &stub, &r);
	assert_int_equal(r.fault, 0x6f7);

	/* Switch disagreeing with the level. */
	wire_wr_init(&stub, mem, 64);
	wire_put_u32(&stub, 0);
	wire_put_u32(&stub, 1);
	wire_put_u32(&stub, 2);
	wire_put_u32(&stub, 0);
	wire_put_u32(&stub, 0xFFFFFFFF);
	wire_put_u32(&stub, 0);
	call(p, mem, 3, 0, 15, &stub, &r);
	assert_int_equal(r.fault, 0x6f7);

	/* A non-empty container sent by the client. */
	wire_wr_init(&stub, mem, 64);
	put_enum_stub(&stub, 1, 0xFFFFFFFF, false, 0);
	put_le32(stub.buf + 44, 0x00020010);	/* Buffer */
	call(p, mem, 4, 0, 15, &stub, &r);
	assert_int_equal(r.fault, 0x6f7);

	/* Every truncation of a valid stub faults or answers, never more. */
	wire_wr_init(&stub, mem, 64);
	put_enum_stub(&stub, 1, 0xFFFFFFFF, true, 0);
	for (size_t len = 0; len < stub.len; len++) {
		struct wire_wr cut = stub;
		cut.len = len;
		call(p, mem, 100 + (uint32_t)len, 0, 15, &cut, &r);
		assert_int_equal(r.ptype, PT_FAULT);
		assert_int_equal(r.fault, 0x6f7);
	}
	wire_wr_init(&stub, mem, 64);
	put_getinfo_stub(&stub, "vms", 1);
	for (size_t len = 0; len < stub.len; len++) {
		struct wire_wr cut = stub;
		cut.len = len;
		call(p, mem, 200 + (uint32_t)len, 0, 16, &cut, &r);
		assert_int_equal(r.ptype, PT_FAULT);
	}
	wire_wr_init(&stub, mem, 64);
	put_getinfo_stub(&stub, "vms", 1);
	call(p, mem, 300, 0, 16, &stub, &r);
	assert_int_equal(r.ptype, PT_RESPONSE);
	talloc_free(mem);
}

/* Header-level garbage kills the pipe; nothing is kept. */
static void test_bad_pdus(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	uint8_t *out;
	size_t len;
	struct wire_wr w;

	/* Truncated header: buffered, no reply yet. */
	struct rpc_pipe *p = rpc_pipe_open(mem, "srvsvc", &test_info);
	static const uint8_t partial[10] = { 5, 0, 11, 3, 0x10, 0, 0, 0, 0x74, 0 };
	assert_true(NT_STATUS_IS_OK(rpc_pipe_write(p, partial, sizeof(partial))));
	assert_int_equal(rpc_pipe_pending(p), 0);
	assert_true(NT_STATUS_EQUAL(rpc_pipe_read(p, mem, 10, &out, &len), NT_STATUS_PIPE_EMPTY));

	struct {
		uint8_t byte_off;
		uint8_t value;
	} bad[] = {
		{ 0, 4 },	/* rpc_vers */
		{ 1, 2 },	/* rpc_vers_minor */
		{ 2, 2 },	/* ptype response */
		{ 2, 3 },	/* fault */
		{ 2, 12 },	/* bind_ack */
		{ 2, 25 },	/* unknown */
		{ 2, 0xff },
		{ 8, 15 },	/* frag_length < 16 */
		{ 8, 0 },
		{ 8, 17 },	/* frag_length cuts the bind body */
		{ 8, 40 },	/* cuts the context list */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = rpc_pipe_open(mem, "srvsvc", &test_info);
		wire_wr_init(&w, mem, 256);
		put_windows_bind(&w, 1, 4280);
		w.buf[bad[i].byte_off] = bad[i].value;
		if (bad[i].byte_off == 8)
			w.buf[9] = 0;
		NTSTATUS st = rpc_pipe_write(p, w.buf, w.len);
		assert_true(NT_STATUS_EQUAL(st, NT_STATUS_RPC_PROTOCOL_ERROR));
		assert_int_equal(rpc_pipe_pending(p), 0);
		assert_true(NT_STATUS_EQUAL(rpc_pipe_write(p, w.buf, w.len),
					    NT_STATUS_PIPE_DISCONNECTED));
		assert_true(NT_STATUS_EQUAL(rpc_pipe_read(p, mem, 10, &out, &len),
					    NT_STATUS_PIPE_DISCONNECTED));
		assert_true(talloc_total_size(p) < 4096);
	}

	/* frag_length larger than the data: waits, holding one PDU at most. */
	p = rpc_pipe_open(mem, "srvsvc", &test_info);
	wire_wr_init(&w, mem, 256);
	put_windows_bind(&w, 1, 4280);
	put_le16(w.buf + 8, 65535);
	assert_true(NT_STATUS_IS_OK(rpc_pipe_write(p, w.buf, w.len)));
	assert_int_equal(rpc_pipe_pending(p), 0);
	talloc_free(mem);
}

/*
 * Every prefix of a conversation, and every PDU cut short with its
 * frag_length made to agree: no crash, no growth.
 */
static void test_truncation_sweep(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct wire_wr conv;
	wire_wr_init(&conv, mem, 512);
	put_windows_bind(&conv, 1, 4280);
	size_t bind_len = conv.len;
	struct wire_wr stub;
	wire_wr_init(&stub, mem, 64);
	put_enum_stub(&stub, 1, 0xFFFFFFFF, true, 0);
	put_request(&conv, 2, 3, (uint32_t)stub.len, 0, 15, stub.buf, stub.len);

	for (size_t cut = 0; cut <= conv.len; cut++) {
		TALLOC_CTX *t = talloc_new(mem);
		struct rpc_pipe *p = rpc_pipe_open(t, "srvsvc", &test_info);
		assert_true(NT_STATUS_IS_OK(rpc_pipe_write(p, conv.buf, cut)));
		assert_int_equal(rpc_pipe_pending(p) > 0, cut >= bind_len);
		talloc_free(t);
	}

	/* The bind cut at every length with frag_length patched. */
	for (size_t cut = 16; cut < bind_len; cut++) {
		TALLOC_CTX *t = talloc_new(mem);
		struct rpc_pipe *p = rpc_pipe_open(t, "srvsvc", &test_info);
		uint8_t *b = talloc_memdup(t, conv.buf, cut);
		put_le16(b + 8, (uint16_t)cut);
		/* The body claims 4 contexts: any cut leaves it short. */
		assert_true(NT_STATUS_EQUAL(rpc_pipe_write(p, b, cut),
					    NT_STATUS_RPC_PROTOCOL_ERROR));
		assert_true(talloc_total_size(p) < 4096);
		talloc_free(t);
	}

	/* The request cut at every length after a good bind. */
	size_t req_len = conv.len - bind_len;
	for (size_t cut = 16; cut < req_len; cut++) {
		TALLOC_CTX *t = talloc_new(mem);
		struct rpc_pipe *p = open_bound(t, &test_info, 4280);
		uint8_t *b = talloc_memdup(t, conv.buf + bind_len, cut);
		put_le16(b + 8, (uint16_t)cut);
		NTSTATUS st = rpc_pipe_write(p, b, cut);
		if (NT_STATUS_IS_OK(st)) {
			struct reply r;
			assert_true(read_reply(p, t, &r));
			assert_int_equal(r.ptype, PT_FAULT);
		}
		assert_true(talloc_total_size(p) < 4096);
		talloc_free(t);
	}
	talloc_free(mem);
}

/* Deterministic random garbage after a bind, and in place of one. */
static void test_random_garbage(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	uint32_t seed = 12345;
	uint8_t buf[600];
	for (int iter = 0; iter < 3000; iter++) {
		TALLOC_CTX *t = talloc_new(mem);
		struct rpc_pipe *p = iter & 1 ? open_bound(t, &test_info, 4280)
					      : rpc_pipe_open(t, "srvsvc", &test_info);
		size_t len = 16 + (seed % (sizeof(buf) - 16));
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (uint8_t)(seed >> 16);
		}
		/* Mostly well-formed headers, so the bodies get exercised. */
		if (iter % 4 != 3) {
			buf[0] = 5;
			buf[1] = 0;
			buf[2] = (uint8_t)((iter / 4) % 3 == 0 ? 0 : (iter / 4) % 3 == 1 ? 11 : 14);
			buf[4] = 0x10;
			put_le16(buf + 8, (uint16_t)len);
			put_le16(buf + 10, 0);
		}
		(void)rpc_pipe_write(p, buf, len);
		uint8_t *out;
		size_t olen;
		while (NT_STATUS_IS_OK(rpc_pipe_read(p, t, 65536, &out, &olen)) ||
		       rpc_pipe_pending(p) > 0)
			;
		assert_true(talloc_total_size(p) < 8192);
		talloc_free(t);
	}
	talloc_free(mem);
}

/* A client that never reads is cut off before memory runs away. */
static void test_unread_output_cap(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct test_shares many = { .extra = 300 };
	struct rpc_server_info info = test_info;
	info.private_data = &many;
	struct rpc_pipe *p = open_bound(mem, &info, 4280);
	struct wire_wr stub, w;
	wire_wr_init(&stub, mem, 64);
	put_enum_stub(&stub, 1, 0xFFFFFFFF, true, 0);
	wire_wr_init(&w, mem, 256);
	put_request(&w, 2, 3, 0, 0, 15, stub.buf, stub.len);
	NTSTATUS st = NT_STATUS_OK;
	int i;
	for (i = 0; i < 2000 && NT_STATUS_IS_OK(st); i++)
		st = rpc_pipe_write(p, w.buf, w.len);
	assert_true(NT_STATUS_EQUAL(st, NT_STATUS_INSUFFICIENT_RESOURCES));
	assert_int_equal(rpc_pipe_pending(p), 0);
	assert_true(talloc_total_size(p) < 4096);
	talloc_free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_names),
		cmocka_unit_test(test_bind_ack_bytes),
		cmocka_unit_test(test_bind_refusals),
		cmocka_unit_test(test_share_enum_level1),
		cmocka_unit_test(test_share_enum_other_levels),
		cmocka_unit_test(test_share_get_info),
		cmocka_unit_test(test_server_get_info),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_fragmented_request),
		cmocka_unit_test(test_request_size_cap),
		cmocka_unit_test(test_fragmented_response),
		cmocka_unit_test(test_ndr_strings),
		cmocka_unit_test(test_bad_stub_data),
		cmocka_unit_test(test_bad_pdus),
		cmocka_unit_test(test_truncation_sweep),
		cmocka_unit_test(test_random_garbage),
		cmocka_unit_test(test_unread_output_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
