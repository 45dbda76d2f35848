#include "config.h"
#include "lib/rpc/rpc_server.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/rpc/ndr.h"
#include "lib/rpc/rpc_iface.h"
#include "lib/wire.h"

/* C706 12.6.4 packet types (the ones a server receives or sends). */
enum {
	RPC_PT_REQUEST = 0,
	RPC_PT_RESPONSE = 2,
	RPC_PT_FAULT = 3,
	RPC_PT_BIND = 11,
	RPC_PT_BIND_ACK = 12,
	RPC_PT_BIND_NAK = 13,
	RPC_PT_ALTER_CONTEXT = 14,
	RPC_PT_ALTER_CONTEXT_RESP = 15,
	RPC_PT_AUTH3 = 16,
	RPC_PT_CO_CANCEL = 18,
	RPC_PT_ORPHANED = 19,
};

/* C706 12.6.3.1 pfc_flags. */
#define RPC_PFC_FIRST_FRAG	0x01
#define RPC_PFC_LAST_FRAG	0x02
#define RPC_PFC_DID_NOT_EXECUTE	0x20
#define RPC_PFC_OBJECT_UUID	0x80

/* C706 14.1: integer representation in the high nibble (1 = little
 * endian), character set in the low one (0 = ASCII). */
#define RPC_DREP_LE_ASCII	0x10

#define RPC_HDR_LEN		16
#define RPC_RESP_HDR_LEN	24

/*
 * Fragment sizes. C706 12.6.3.7: every implementation receives at least
 * 1432 bytes, so a smaller offer is raised to it; 4280 is what Windows
 * uses on ncacn_np.
 */
#define RPC_MIN_FRAG		1432
#define RPC_MAX_FRAG		4280
/* Cap on a reassembled request stub: srvsvc requests are tiny. */
#define RPC_MAX_REQUEST		(1024 * 1024)
/* Output the client leaves unread before we give up on it. */
#define RPC_MAX_PENDING_OUT	(8 * 1024 * 1024)
#define RPC_MAX_CONTEXTS	16

/* C706 12.6.3.4 p_cont_def_result_t, MS-RPCE 2.2.2.4 (negotiate_ack). */
enum {
	RPC_RESULT_ACCEPT = 0,
	RPC_RESULT_PROVIDER_REJECT = 2,
	RPC_RESULT_NEGOTIATE_ACK = 3,
};
/* C706 12.6.3.4 p_provider_reason_t. */
enum {
	RPC_REASON_NOT_SPECIFIED = 0,
	RPC_REASON_ABSTRACT_SYNTAX = 1,
	RPC_REASON_TRANSFER_SYNTAXES = 2,
	RPC_REASON_LOCAL_LIMIT = 3,
};
/* C706 12.6.3.6 p_reject_reason_t, MS-RPCE 2.2.2.5. */
enum {
	RPC_NAK_NOT_SPECIFIED = 0,
	RPC_NAK_AUTH_TYPE_NOT_RECOGNIZED = 8,
};

/* MS-RPCE 2.2.2.14: we never close on orphaned calls; no auth, so no
 * security context multiplexing. */
#define RPC_BTFN_KEEP_ON_ORPHAN	0x02

/* C706 Appendix I: NDR 2.0. NDR64 (MS-RPCE 2.2.5) is rejected. */
static const struct rpc_syntax_id rpc_ndr20 = {
	RPC_UUID(0x8a885d04, 0x1ceb, 0x11c9, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60),
	2, 0,
};
/* MS-RPCE 3.3.1.5.3: the first 8 bytes; the bitmask follows. */
static const struct rpc_uuid rpc_btfn_prefix =
	RPC_UUID(0x6cb71c2c, 0x9812, 0x4540, 0, 0, 0, 0, 0, 0, 0, 0);

/* A pipe name and the interfaces a client may bind on it. */
struct rpc_endpoint {
	const char *name;
	const struct rpc_iface *ifaces[4];
};

static const struct rpc_endpoint rpc_endpoints[] = {
	{ "srvsvc", { &rpc_iface_srvsvc } },
};

struct rpc_ctx {
	uint16_t id;
	const struct rpc_iface *iface;
};

/* One queued PDU; the client reads it as one pipe message. */
struct rpc_out_pdu {
	struct rpc_out_pdu *next;
	uint8_t *buf;
	size_t len;
	size_t off;
};

struct rpc_hdr {
	uint8_t ptype;
	uint8_t flags;
	uint8_t drep[4];
	uint16_t frag_len;
	uint16_t auth_len;
	uint32_t call_id;
};

struct rpc_pipe {
	const struct rpc_endpoint *ep;
	const struct rpc_server_info *info;
	bool dead;
	bool bound;
	uint16_t max_xmit;		/* our fragments to the client */
	uint16_t max_recv;
	uint32_t assoc_group;
	size_t n_ctx;
	struct rpc_ctx ctx[RPC_MAX_CONTEXTS];

	uint8_t *in;			/* an incomplete PDU */
	size_t in_len;

	/* The request being reassembled from its fragments. */
	bool in_call;
	uint32_t call_id;
	uint16_t call_ctx;
	uint16_t call_opnum;
	TALLOC_CTX *call_mem;
	struct wire_wr stub;

	struct rpc_out_pdu *out_head;
	struct rpc_out_pdu *out_tail;
	size_t out_pending;
};

/* Association groups are only echoed; the counter keeps them distinct. */
static uint32_t rpc_next_assoc_group = 0x00005350;

static bool rpc_name_prefix(const char **s, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncasecmp(*s, prefix, n) != 0)
		return false;
	*s += n;
	return true;
}

struct rpc_pipe *rpc_pipe_open(TALLOC_CTX *mem, const char *name,
			       const struct rpc_server_info *info)
{
	if (name == NULL || info == NULL)
		return NULL;
	/* "\PIPE\srvsvc" (SMB1 style), "\srvsvc" and "srvsvc" (SMB2). */
	const char *s = name;
	rpc_name_prefix(&s, "\\");
	rpc_name_prefix(&s, "PIPE\\");

	const struct rpc_endpoint *ep = NULL;
	for (size_t i = 0; i < sizeof(rpc_endpoints) / sizeof(rpc_endpoints[0]); i++) {
		if (strcasecmp(s, rpc_endpoints[i].name) == 0) {
			ep = &rpc_endpoints[i];
			break;
		}
	}
	if (ep == NULL)
		return NULL;

	struct rpc_pipe *p = talloc_zero(mem, struct rpc_pipe);
	if (p == NULL)
		return NULL;
	p->ep = ep;
	p->info = info;
	p->max_xmit = RPC_MIN_FRAG;
	p->max_recv = RPC_MIN_FRAG;
	return p;
}

static void rpc_call_end(struct rpc_pipe *p)
{
	TALLOC_FREE(p->call_mem);
	memset(&p->stub, 0, sizeof(p->stub));
	p->in_call = false;
}

/* The pipe is unusable from now on; drop everything it holds. */
static void rpc_kill(struct rpc_pipe *p)
{
	p->dead = true;
	rpc_call_end(p);
	TALLOC_FREE(p->in);
	p->in_len = 0;
	while (p->out_head) {
		struct rpc_out_pdu *o = p->out_head;
		p->out_head = o->next;
		talloc_free(o);
	}
	p->out_tail = NULL;
	p->out_pending = 0;
}

/* C706 12.6.3.1: the common header; frag_length is patched by rpc_queue. */
static void rpc_put_hdr(struct wire_wr *w, uint8_t ptype, uint8_t flags,
			uint32_t call_id)
{
	wire_put_u8(w, 5);
	wire_put_u8(w, 0);
	wire_put_u8(w, ptype);
	wire_put_u8(w, flags);
	wire_put_u8(w, RPC_DREP_LE_ASCII);
	wire_put_zeros(w, 3);
	wire_put_u16(w, 0);		/* frag_length */
	wire_put_u16(w, 0);		/* auth_length */
	wire_put_u32(w, call_id);
}

static NTSTATUS rpc_queue(struct rpc_pipe *p, struct wire_wr *w)
{
	if (!wire_wr_ok(w) || w->len > UINT16_MAX) {
		talloc_free(w->buf);
		return NT_STATUS_NO_MEMORY;
	}
	wire_patch_u16(w, 8, (uint16_t)w->len);
	struct rpc_out_pdu *o = talloc_zero(p, struct rpc_out_pdu);
	if (o == NULL) {
		talloc_free(w->buf);
		return NT_STATUS_NO_MEMORY;
	}
	o->buf = talloc_steal(o, w->buf);
	o->len = w->len;
	if (p->out_tail)
		p->out_tail->next = o;
	else
		p->out_head = o;
	p->out_tail = o;
	p->out_pending += o->len;
	return NT_STATUS_OK;
}

/* C706 12.6.4.7 fault; MS-RPCE 2.2.2.11 for the status values. */
static NTSTATUS rpc_fault(struct rpc_pipe *p, uint32_t call_id,
			  uint16_t ctx_id, uint32_t status)
{
	uint8_t flags = RPC_PFC_FIRST_FRAG | RPC_PFC_LAST_FRAG;
	/* Tells the client the call can be retried safely. */
	if (status == RPC_FAULT_OP_RNG_ERROR || status == RPC_FAULT_UNK_IF ||
	    status == RPC_FAULT_PROTO_ERROR)
		flags |= RPC_PFC_DID_NOT_EXECUTE;
	LOG_DBG("call %u: fault 0x%08x", call_id, status);

	struct wire_wr w;
	wire_wr_init(&w, p, 32);
	rpc_put_hdr(&w, RPC_PT_FAULT, flags, call_id);
	wire_put_u32(&w, 0);		/* alloc_hint: no stub */
	wire_put_u16(&w, ctx_id);
	wire_put_u8(&w, 0);		/* cancel_count */
	wire_put_u8(&w, 0);		/* reserved */
	wire_put_u32(&w, status);
	wire_put_u32(&w, 0);		/* reserved, pads to 8 */
	return rpc_queue(p, &w);
}

/* C706 12.6.4.4 bind_nak. */
static NTSTATUS rpc_bind_nak(struct rpc_pipe *p, uint32_t call_id,
			     uint16_t reason)
{
	struct wire_wr w;
	wire_wr_init(&w, p, 24);
	rpc_put_hdr(&w, RPC_PT_BIND_NAK, RPC_PFC_FIRST_FRAG | RPC_PFC_LAST_FRAG,
		    call_id);
	wire_put_u16(&w, reason);
	wire_put_u8(&w, 1);		/* n_protocols */
	wire_put_u8(&w, 5);		/* supported: 5.0 */
	wire_put_u8(&w, 0);
	wire_put_align(&w, 4);
	return rpc_queue(p, &w);
}

static const struct rpc_iface *rpc_find_iface(const struct rpc_pipe *p,
					      const struct rpc_syntax_id *s)
{
	for (size_t i = 0; i < sizeof(p->ep->ifaces) / sizeof(p->ep->ifaces[0]); i++) {
		const struct rpc_iface *f = p->ep->ifaces[i];
		/* C706 12.6.3.1: majors match, the client's minor is not newer. */
		if (f && memcmp(&f->syntax.uuid, &s->uuid, sizeof(s->uuid)) == 0 &&
		    f->syntax.ver_major == s->ver_major &&
		    s->ver_minor <= f->syntax.ver_minor)
			return f;
	}
	return NULL;
}

static struct rpc_ctx *rpc_find_ctx(struct rpc_pipe *p, uint16_t id)
{
	for (size_t i = 0; i < p->n_ctx; i++)
		if (p->ctx[i].id == id)
			return &p->ctx[i];
	return NULL;
}

static void rpc_pull_syntax(struct wire_rd *r, struct rpc_syntax_id *s)
{
	wire_copy(r, s->uuid.b, sizeof(s->uuid.b));
	/* C706 12.6.3.1: version is major in the low 16 bits. */
	s->ver_major = wire_u16(r);
	s->ver_minor = wire_u16(r);
}

static void rpc_put_syntax(struct wire_wr *w, const struct rpc_syntax_id *s)
{
	wire_put_bytes(w, s->uuid.b, sizeof(s->uuid.b));
	wire_put_u16(w, s->ver_major);
	wire_put_u16(w, s->ver_minor);
}

/*
 * One p_cont_elem_t of a bind or alter_context: decides its
 * p_result_t and appends it to the reply.
 */
static void rpc_bind_context(struct rpc_pipe *p, struct wire_rd *r,
			     struct wire_wr *w)
{
	static const struct rpc_syntax_id none;
	uint16_t ctx_id = wire_u16(r);
	uint8_t n_ts = wire_u8(r);
	wire_skip(r, 1);
	struct rpc_syntax_id abstract;
	rpc_pull_syntax(r, &abstract);

	bool ndr20 = false, btfn = false;
	uint16_t features = 0;
	for (unsigned i = 0; i < n_ts; i++) {
		struct rpc_syntax_id ts;
		rpc_pull_syntax(r, &ts);
		if (memcmp(&ts, &rpc_ndr20, sizeof(ts)) == 0) {
			ndr20 = true;
		} else if (memcmp(ts.uuid.b, rpc_btfn_prefix.b, 8) == 0 &&
			   ts.ver_major == 1 && ts.ver_minor == 0) {
			btfn = true;
			features = ts.uuid.b[8];
		}
	}
	if (!wire_ok(r))
		return;

	uint16_t result = RPC_RESULT_PROVIDER_REJECT, reason;
	const struct rpc_syntax_id *syntax = &none;
	const struct rpc_iface *iface = rpc_find_iface(p, &abstract);
	if (btfn) {
		/* MS-RPCE 3.3.1.5.3: reason carries the features we share. */
		result = RPC_RESULT_NEGOTIATE_ACK;
		reason = features & RPC_BTFN_KEEP_ON_ORPHAN;
	} else if (iface == NULL) {
		reason = RPC_REASON_ABSTRACT_SYNTAX;
	} else if (!ndr20) {
		reason = RPC_REASON_TRANSFER_SYNTAXES;
	} else {
		struct rpc_ctx *c = rpc_find_ctx(p, ctx_id);
		if (c == NULL && p->n_ctx < RPC_MAX_CONTEXTS) {
			c = &p->ctx[p->n_ctx++];
			c->id = ctx_id;
			c->iface = iface;
		}
		if (c == NULL) {
			reason = RPC_REASON_LOCAL_LIMIT;
		} else if (c->iface != iface) {
			/* A context id is not rebound to another interface. */
			reason = RPC_REASON_NOT_SPECIFIED;
		} else {
			result = RPC_RESULT_ACCEPT;
			reason = 0;
			syntax = &rpc_ndr20;
		}
	}
	wire_put_u16(w, result);
	wire_put_u16(w, reason);
	rpc_put_syntax(w, syntax);
}

static uint16_t rpc_clamp_frag(uint16_t v)
{
	if (v < RPC_MIN_FRAG)
		return RPC_MIN_FRAG;
	if (v > RPC_MAX_FRAG)
		return RPC_MAX_FRAG;
	return v;
}

/* C706 12.6.4.3 bind -> 12.6.4.4 bind_ack; 12.6.4.1/2 alter_context. */
static NTSTATUS rpc_bind(struct rpc_pipe *p, const struct rpc_hdr *h,
			 struct wire_rd *r, bool alter)
{
	if (alter && !p->bound)
		return NT_STATUS_RPC_PROTOCOL_ERROR;
	if (!alter && p->bound)
		return rpc_bind_nak(p, h->call_id, RPC_NAK_NOT_SPECIFIED);
	if (h->drep[0] != RPC_DREP_LE_ASCII)
		return alter ? rpc_fault(p, h->call_id, 0, RPC_FAULT_PROTO_ERROR)
			     : rpc_bind_nak(p, h->call_id, RPC_NAK_NOT_SPECIFIED);
	/* The SMB session authenticates; RPC-level auth is not offered. */
	if (h->auth_len != 0)
		return alter ? rpc_fault(p, h->call_id, 0, RPC_FAULT_ACCESS_DENIED)
			     : rpc_bind_nak(p, h->call_id, RPC_NAK_AUTH_TYPE_NOT_RECOGNIZED);

	uint16_t max_xmit = wire_u16(r);
	uint16_t max_recv = wire_u16(r);
	uint32_t assoc = wire_u32(r);
	uint8_t n_ctx = wire_u8(r);
	wire_skip(r, 3);
	if (!wire_ok(r))
		return NT_STATUS_RPC_PROTOCOL_ERROR;
	if (n_ctx == 0)
		return alter ? rpc_fault(p, h->call_id, 0, RPC_FAULT_PROTO_ERROR)
			     : rpc_bind_nak(p, h->call_id, RPC_NAK_NOT_SPECIFIED);

	if (!alter) {
		/* Our sends fit the client's receive size and vice versa. */
		p->max_xmit = rpc_clamp_frag(max_recv);
		p->max_recv = rpc_clamp_frag(max_xmit);
		p->assoc_group = assoc ? assoc : rpc_next_assoc_group++;
		p->bound = true;
	}

	struct wire_wr w;
	wire_wr_init(&w, p, 128);
	rpc_put_hdr(&w, alter ? RPC_PT_ALTER_CONTEXT_RESP : RPC_PT_BIND_ACK,
		    RPC_PFC_FIRST_FRAG | RPC_PFC_LAST_FRAG, h->call_id);
	wire_put_u16(&w, p->max_xmit);
	wire_put_u16(&w, p->max_recv);
	wire_put_u32(&w, p->assoc_group);
	if (alter) {
		/* Windows sends an empty secondary address here. */
		wire_put_u16(&w, 0);
	} else {
		/* C706 12.6.4.4 sec_addr: the pipe, counted with its NUL. */
		char addr[64];
		int n = snprintf(addr, sizeof(addr), "\\PIPE\\%s", p->ep->name);
		wire_put_u16(&w, (uint16_t)(n + 1));
		wire_put_bytes(&w, addr, (size_t)n + 1);
	}
	wire_put_align(&w, 4);
	wire_put_u8(&w, n_ctx);
	wire_put_zeros(&w, 3);
	for (unsigned i = 0; i < n_ctx; i++)
		rpc_bind_context(p, r, &w);
	if (!wire_ok(r)) {
		talloc_free(w.buf);
		return NT_STATUS_RPC_PROTOCOL_ERROR;
	}
	return rpc_queue(p, &w);
}

/* Splits a response stub into fragments of at most max_xmit bytes. */
static NTSTATUS rpc_respond(struct rpc_pipe *p, uint32_t call_id,
			    uint16_t ctx_id, const uint8_t *stub, size_t len)
{
	/* A multiple of 8, so no fragment boundary splits an NDR primitive. */
	size_t chunk = (size_t)(p->max_xmit - RPC_RESP_HDR_LEN) & ~(size_t)7;
	size_t off = 0;
	do {
		size_t n = len - off < chunk ? len - off : chunk;
		uint8_t flags = 0;
		if (off == 0)
			flags |= RPC_PFC_FIRST_FRAG;
		if (off + n == len)
			flags |= RPC_PFC_LAST_FRAG;
		struct wire_wr w;
		wire_wr_init(&w, p, RPC_RESP_HDR_LEN + n);
		rpc_put_hdr(&w, RPC_PT_RESPONSE, flags, call_id);
		/* C706 12.6.4.10: alloc_hint, what remains of the stub. */
		wire_put_u32(&w, (uint32_t)(len - off));
		wire_put_u16(&w, ctx_id);
		wire_put_u8(&w, 0);		/* cancel_count */
		wire_put_u8(&w, 0);
		wire_put_bytes(&w, stub + off, n);
		NTSTATUS st = rpc_queue(p, &w);
		if (!NT_STATUS_IS_OK(st))
			return st;
		off += n;
	} while (off < len);
	return NT_STATUS_OK;
}

static NTSTATUS rpc_dispatch(struct rpc_pipe *p)
{
	struct rpc_ctx *c = rpc_find_ctx(p, p->call_ctx);
	if (c == NULL)
		return rpc_fault(p, p->call_id, p->call_ctx, RPC_FAULT_UNK_IF);
	const struct rpc_iface *f = c->iface;
	if (p->call_opnum >= f->n_ops || f->ops[p->call_opnum].fn == NULL) {
		LOG_DBG("%s: opnum %u not provided", f->name, p->call_opnum);
		return rpc_fault(p, p->call_id, p->call_ctx, RPC_FAULT_OP_RNG_ERROR);
	}

	struct ndr_pull in;
	struct ndr_push out;
	ndr_pull_init(&in, p->call_mem, p->stub.buf, p->stub.len);
	ndr_push_init(&out, p->call_mem);
	struct rpc_call call = {
		.mem = p->call_mem,
		.info = p->info,
		.opnum = p->call_opnum,
		.in = &in,
		.out = &out,
	};
	LOG_DBG("%s: %s", f->name, f->ops[p->call_opnum].name);
	uint32_t fault = f->ops[p->call_opnum].fn(&call);
	if (fault == RPC_FAULT_OK && !ndr_push_ok(&out))
		fault = RPC_FAULT_REMOTE_NO_MEMORY;
	if (fault != RPC_FAULT_OK)
		return rpc_fault(p, p->call_id, p->call_ctx, fault);
	return rpc_respond(p, p->call_id, p->call_ctx, out.wr.buf, out.wr.len);
}

/* C706 12.6.4.9 request, reassembled per 12.4 (fragmentation). */
static NTSTATUS rpc_request(struct rpc_pipe *p, const struct rpc_hdr *h,
			    struct wire_rd *r)
{
	uint32_t alloc_hint = wire_u32(r);
	uint16_t ctx_id = wire_u16(r);
	uint16_t opnum = wire_u16(r);
	if (h->flags & RPC_PFC_OBJECT_UUID)
		wire_skip(r, 16);
	if (!wire_ok(r))
		return NT_STATUS_RPC_PROTOCOL_ERROR;

	if (h->drep[0] != RPC_DREP_LE_ASCII || h->auth_len != 0) {
		rpc_call_end(p);
		return rpc_fault(p, h->call_id, ctx_id,
				 h->auth_len ? RPC_FAULT_ACCESS_DENIED
					     : RPC_FAULT_PROTO_ERROR);
	}

	if (h->flags & RPC_PFC_FIRST_FRAG) {
		/* Calls do not interleave on a non-multiplexed connection. */
		if (p->in_call)
			return NT_STATUS_RPC_PROTOCOL_ERROR;
		p->call_mem = talloc_new(p);
		if (p->call_mem == NULL)
			return NT_STATUS_NO_MEMORY;
		/* alloc_hint is advice from the client: never trusted. */
		size_t hint = alloc_hint < RPC_MAX_FRAG ? alloc_hint : RPC_MAX_FRAG;
		wire_wr_init(&p->stub, p->call_mem, hint ? hint : 64);
		p->in_call = true;
		p->call_id = h->call_id;
		p->call_ctx = ctx_id;
		p->call_opnum = opnum;
	} else if (!p->in_call || p->call_id != h->call_id) {
		return NT_STATUS_RPC_PROTOCOL_ERROR;
	}

	size_t n = wire_remaining(r);
	if (n > RPC_MAX_REQUEST - p->stub.len) {
		LOG_WARN("request over %u bytes", RPC_MAX_REQUEST);
		return NT_STATUS_RPC_PROTOCOL_ERROR;
	}
	wire_put_bytes(&p->stub, wire_ptr(r, n), n);
	if (!wire_wr_ok(&p->stub))
		return NT_STATUS_NO_MEMORY;
	if (!(h->flags & RPC_PFC_LAST_FRAG))
		return NT_STATUS_OK;

	NTSTATUS st = rpc_dispatch(p);
	rpc_call_end(p);
	return st;
}

static NTSTATUS rpc_process_pdu(struct rpc_pipe *p, const uint8_t *buf,
				size_t len)
{
	struct wire_rd r;
	struct rpc_hdr h;
	wire_rd_init(&r, buf, len);
	wire_skip(&r, 2);		/* version, checked by the framer */
	h.ptype = wire_u8(&r);
	h.flags = wire_u8(&r);
	wire_copy(&r, h.drep, 4);
	h.frag_len = wire_u16(&r);
	h.auth_len = wire_u16(&r);
	h.call_id = wire_u32(&r);
	if (!(h.drep[0] & 0x10)) {
		/* Big-endian sender: good enough to frame and refuse it. */
		h.auth_len = (uint16_t)(h.auth_len << 8 | h.auth_len >> 8);
		h.call_id = __builtin_bswap32(h.call_id);
	}
	if (!wire_ok(&r))
		return NT_STATUS_RPC_PROTOCOL_ERROR;

	switch (h.ptype) {
	case RPC_PT_BIND:
		return rpc_bind(p, &h, &r, false);
	case RPC_PT_ALTER_CONTEXT:
		return rpc_bind(p, &h, &r, true);
	case RPC_PT_REQUEST:
		return rpc_request(p, &h, &r);
	case RPC_PT_AUTH3:
	case RPC_PT_CO_CANCEL:
		/* No auth to complete; calls finish before we read again. */
		return NT_STATUS_OK;
	case RPC_PT_ORPHANED:
		/* MS-RPCE 3.3.1.5.10: drop the call, keep the connection. */
		if (p->in_call && p->call_id == h.call_id)
			rpc_call_end(p);
		return NT_STATUS_OK;
	default:
		LOG_DBG("unexpected ptype %u", h.ptype);
		return NT_STATUS_RPC_PROTOCOL_ERROR;
	}
}

NTSTATUS rpc_pipe_write(struct rpc_pipe *p, const uint8_t *data, size_t len)
{
	if (p->dead)
		return NT_STATUS_PIPE_DISCONNECTED;
	if (len == 0)
		return NT_STATUS_OK;

	size_t total;
	if (__builtin_add_overflow(p->in_len, len, &total)) {
		rpc_kill(p);
		return NT_STATUS_INSUFFICIENT_RESOURCES;
	}
	uint8_t *nb = talloc_realloc(p, p->in, uint8_t, total);
	if (nb == NULL) {
		rpc_kill(p);
		return NT_STATUS_NO_MEMORY;
	}
	memcpy(nb + p->in_len, data, len);
	p->in = nb;
	p->in_len = total;

	NTSTATUS st = NT_STATUS_OK;
	size_t pos = 0;
	while (p->in_len - pos >= RPC_HDR_LEN) {
		const uint8_t *h = p->in + pos;
		/* C706 12.6.3.1: 5.0; 5.1 is accepted as Windows does. */
		if (h[0] != 5 || h[1] > 1) {
			st = NT_STATUS_RPC_PROTOCOL_ERROR;
			break;
		}
		uint16_t frag_len = (h[4] & 0x10) ? le16(h + 8)
						  : (uint16_t)(h[8] << 8 | h[9]);
		if (frag_len < RPC_HDR_LEN) {
			st = NT_STATUS_RPC_PROTOCOL_ERROR;
			break;
		}
		if (p->in_len - pos < frag_len)
			break;
		st = rpc_process_pdu(p, h, frag_len);
		if (!NT_STATUS_IS_OK(st))
			break;
		pos += frag_len;
	}
	if (!NT_STATUS_IS_OK(st)) {
		LOG_DBG("pipe %s: %s, disconnecting", p->ep->name, nt_errstr(st));
		rpc_kill(p);
		return st;
	}

	/* Keep only the incomplete tail: at most one PDU (< 64 KiB). */
	size_t rest = p->in_len - pos;
	if (rest == 0) {
		TALLOC_FREE(p->in);
	} else if (pos > 0) {
		memmove(p->in, p->in + pos, rest);
		nb = talloc_realloc(p, p->in, uint8_t, rest);
		if (nb)
			p->in = nb;
	}
	p->in_len = rest;

	if (p->out_pending > RPC_MAX_PENDING_OUT) {
		LOG_WARN("pipe %s: client leaves replies unread", p->ep->name);
		rpc_kill(p);
		return NT_STATUS_INSUFFICIENT_RESOURCES;
	}
	return NT_STATUS_OK;
}

NTSTATUS rpc_pipe_read(struct rpc_pipe *p, TALLOC_CTX *mem, size_t max,
		       uint8_t **out, size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	if (p->dead)
		return NT_STATUS_PIPE_DISCONNECTED;
	struct rpc_out_pdu *o = p->out_head;
	if (o == NULL)
		return NT_STATUS_PIPE_EMPTY;

	size_t n = o->len - o->off;
	if (n > max)
		n = max;
	if (n > 0) {
		*out = talloc_memdup(mem, o->buf + o->off, n);
		if (*out == NULL)
			return NT_STATUS_NO_MEMORY;
	}
	o->off += n;
	p->out_pending -= n;
	*out_len = n;
	if (o->off < o->len)
		return NT_STATUS_BUFFER_OVERFLOW;
	p->out_head = o->next;
	if (p->out_head == NULL)
		p->out_tail = NULL;
	talloc_free(o);
	return NT_STATUS_OK;
}

size_t rpc_pipe_pending(const struct rpc_pipe *p)
{
	return p->out_pending;
}
