#include "config.h"
#include "tests/fuzz/smb2_build.h"

#include <string.h>

#include "lib/unicode.h"
#include "smbd/smb2_proto.h"

void sb_init(struct sb *b, TALLOC_CTX *mem, uint64_t first_mid, uint64_t sid, uint32_t tid)
{
	memset(b, 0, sizeof(*b));
	wire_wr_init(&b->w, mem, 512);
	b->mid = first_mid;
	b->sid = sid;
	b->tid = tid;
}

void sb_begin(struct sb *b, uint16_t command, uint32_t flags)
{
	if (b->has_elem) {
		wire_put_align(&b->w, 8);
		wire_patch_u32(&b->w, b->elem + SMB2_HDR_NEXT_COMMAND, (uint32_t)(b->w.len - b->elem));
	}
	b->elem = b->w.len;
	b->has_elem = true;
	wire_put_u32(&b->w, 0x424D53FE);
	wire_put_u16(&b->w, SMB2_HDR_LEN);
	wire_put_u16(&b->w, 1);  /* CreditCharge, raised by large READ/WRITE */
	wire_put_u32(&b->w, 0);  /* ChannelSequence */
	wire_put_u16(&b->w, command);
	wire_put_u16(&b->w, 256); /* CreditRequest */
	wire_put_u32(&b->w, flags);
	wire_put_u32(&b->w, 0);  /* NextCommand */
	wire_put_u64(&b->w, command == SMB2_CANCEL && b->mid ? b->mid - 1 : b->mid);
	wire_put_u32(&b->w, 0xFEFF);
	wire_put_u32(&b->w, b->tid);
	wire_put_u64(&b->w, b->sid);
	wire_put_zeros(&b->w, 16);
	if (command != SMB2_CANCEL)
		b->mid++;
}

uint16_t sb_off(const struct sb *b)
{
	return (uint16_t)(b->w.len - b->elem);
}

const uint8_t *sb_pdu(const struct sb *b, size_t *len)
{
	*len = b->w.len;
	return wire_wr_ok(&b->w) ? b->w.buf : NULL;
}

/* Multi-credit requests (MS-SMB2 3.3.5.2.5): one credit per 64 KiB. */
static void set_charge(struct sb *b, uint32_t payload)
{
	uint16_t charge = payload > 65536 ? (uint16_t)((payload - 1) / 65536 + 1) : 1;
	if (charge > 1) {
		wire_patch_u16(&b->w, b->elem + SMB2_HDR_CREDIT_CHARGE, charge);
		b->mid += charge - 1u;
	}
}

size_t sb_put_utf16(struct wire_wr *w, const char *s)
{
	size_t n = 0;
	uint8_t *u = utf8_to_utf16le(w->mem, s, &n);
	if (u != NULL)
		wire_put_bytes(w, u, n);
	talloc_free(u);
	return n;
}

static void put_fid(struct sb *b, uint64_t fid)
{
	wire_put_u64(&b->w, fid);
	wire_put_u64(&b->w, fid);
}

static void put_neg_ctx(struct wire_wr *w, size_t elem, uint16_t type, const uint8_t *data, uint16_t len)
{
	while ((w->len - elem) % 8)
		wire_put_u8(w, 0);
	wire_put_u16(w, type);
	wire_put_u16(w, len);
	wire_put_u32(w, 0);
	wire_put_bytes(w, data, len);
}

void sb_negotiate(struct sb *b, const uint16_t *dialects, unsigned n, uint16_t cipher, int sign_algo)
{
	struct wire_wr *w = &b->w;
	bool smb311 = false;
	for (unsigned i = 0; i < n; i++)
		smb311 |= dialects[i] == SMB2_DIALECT_311;
	wire_put_u16(w, 36);
	wire_put_u16(w, (uint16_t)n);
	wire_put_u16(w, SMB2_NEGOTIATE_SIGNING_ENABLED);
	wire_put_u16(w, 0);
	wire_put_u32(w, SMB2_GLOBAL_CAP_LARGE_MTU | SMB2_GLOBAL_CAP_ENCRYPTION);
	static const uint8_t guid[16] = { 0x50, 0x6f, 0x72, 0x74, 0x68, 0x6f, 0x73, 0x46,
					  0x75, 0x7a, 0x7a, 0x43, 0x6c, 0x69, 0x65, 0x6e };
	wire_put_bytes(w, guid, 16);
	size_t ctx_off_pos = wire_reserve(w, 4);
	size_t ctx_cnt_pos = wire_reserve(w, 2);
	wire_put_u16(w, 0);
	for (unsigned i = 0; i < n; i++)
		wire_put_u16(w, dialects[i]);
	if (!smb311)
		return;
	uint16_t count = 0;
	while ((w->len - b->elem) % 8)
		wire_put_u8(w, 0);
	wire_patch_u32(w, ctx_off_pos, (uint32_t)(w->len - b->elem));
	uint8_t pa[38] = { 1, 0, 32, 0, 1, 0 };
	for (int i = 0; i < 32; i++)
		pa[6 + i] = (uint8_t)(0xA0 + i); /* a fixed salt: seeds stay reproducible */
	put_neg_ctx(w, b->elem, SMB2_PREAUTH_INTEGRITY_CAPABILITIES, pa, sizeof(pa));
	count++;
	if (cipher) {
		uint8_t ec[4] = { 1, 0, (uint8_t)cipher, 0 };
		put_neg_ctx(w, b->elem, SMB2_ENCRYPTION_CAPABILITIES, ec, sizeof(ec));
		count++;
	}
	if (sign_algo >= 0) {
		uint8_t sc[4] = { 1, 0, (uint8_t)sign_algo, 0 };
		put_neg_ctx(w, b->elem, SMB2_SIGNING_CAPABILITIES, sc, sizeof(sc));
		count++;
	}
	wire_patch_u16(w, ctx_cnt_pos, count);
}

void sb_session_setup(struct sb *b, const uint8_t *token, size_t len)
{
	struct wire_wr *w = &b->w;
	wire_put_u16(w, 25);
	wire_put_u8(w, 0);
	wire_put_u8(w, SMB2_NEGOTIATE_SIGNING_ENABLED);
	wire_put_u32(w, 0);
	wire_put_u32(w, 0);
	wire_put_u16(w, (uint16_t)(sb_off(b) + 12));
	wire_put_u16(w, (uint16_t)len);
	wire_put_u64(w, 0);
	if (len)
		wire_put_bytes(w, token, len);
	else
		wire_put_u8(w, 0);
}

void sb_tree_connect(struct sb *b, const char *unc)
{
	struct wire_wr *w = &b->w;
	wire_put_u16(w, 9);
	wire_put_u16(w, 0);
	size_t off_pos = wire_reserve(w, 2);
	size_t len_pos = wire_reserve(w, 2);
	wire_patch_u16(w, off_pos, sb_off(b));
	wire_patch_u16(w, len_pos, (uint16_t)sb_put_utf16(w, unc));
}

void sb_create(struct sb *b, const char *name, uint32_t access, uint32_t attrs, uint32_t share,
	       uint32_t disposition, uint32_t options, uint8_t oplock, const uint8_t *ctx, size_t ctx_len)
{
	struct wire_wr *w = &b->w;
	wire_put_u16(w, 57);
	wire_put_u8(w, 0);
	wire_put_u8(w, oplock);
	wire_put_u32(w, 2); /* Impersonation */
	wire_put_u64(w, 0);
	wire_put_u64(w, 0);
	wire_put_u32(w, access);
	wire_put_u32(w, attrs);
	wire_put_u32(w, share);
	wire_put_u32(w, disposition);
	wire_put_u32(w, options);
	size_t name_pos = wire_reserve(w, 4);
	size_t ctx_pos = wire_reserve(w, 8);
	uint16_t name_off = sb_off(b);
	size_t name_len = sb_put_utf16(w, name);
	wire_patch_u16(w, name_pos, name_off);
	wire_patch_u16(w, name_pos + 2, (uint16_t)name_len);
	if (ctx_len) {
		while (sb_off(b) % 8)
			wire_put_u8(w, 0);
		wire_patch_u32(w, ctx_pos, sb_off(b));
		wire_patch_u32(w, ctx_pos + 4, (uint32_t)ctx_len);
		wire_put_bytes(w, ctx, ctx_len);
	} else if (name_len == 0) {
		wire_put_u8(w, 0);
	}
}

void sb_close(struct sb *b, uint64_t fid, uint16_t flags)
{
	wire_put_u16(&b->w, 24);
	wire_put_u16(&b->w, flags);
	wire_put_u32(&b->w, 0);
	put_fid(b, fid);
}

void sb_flush(struct sb *b, uint64_t fid)
{
	wire_put_u16(&b->w, 24);
	wire_put_u16(&b->w, 0);
	wire_put_u32(&b->w, 0);
	put_fid(b, fid);
}

void sb_read(struct sb *b, uint64_t fid, uint32_t len, uint64_t off)
{
	struct wire_wr *w = &b->w;
	set_charge(b, len);
	wire_put_u16(w, 49);
	wire_put_u8(w, 0x50);
	wire_put_u8(w, 0);
	wire_put_u32(w, len);
	wire_put_u64(w, off);
	put_fid(b, fid);
	wire_put_u32(w, 0); /* MinimumCount */
	wire_put_u32(w, 0);
	wire_put_u32(w, 0);
	wire_put_u16(w, 0);
	wire_put_u16(w, 0);
	wire_put_u8(w, 0);
}

void sb_write(struct sb *b, uint64_t fid, uint64_t off, const void *data, uint32_t len)
{
	struct wire_wr *w = &b->w;
	set_charge(b, len);
	wire_put_u16(w, 49);
	wire_put_u16(w, SMB2_HDR_LEN + 48);
	wire_put_u32(w, len);
	wire_put_u64(w, off);
	put_fid(b, fid);
	wire_put_u32(w, 0);
	wire_put_u32(w, 0);
	wire_put_u16(w, 0);
	wire_put_u16(w, 0);
	wire_put_u32(w, 0);
	if (len)
		wire_put_bytes(w, data, len);
	else
		wire_put_u8(w, 0);
}

void sb_lock(struct sb *b, uint64_t fid, uint64_t off, uint64_t len, uint32_t flags)
{
	struct wire_wr *w = &b->w;
	wire_put_u16(w, 48);
	wire_put_u16(w, 1);
	wire_put_u32(w, 0);
	put_fid(b, fid);
	wire_put_u64(w, off);
	wire_put_u64(w, len);
	wire_put_u32(w, flags);
	wire_put_u32(w, 0);
}

void sb_ioctl(struct sb *b, uint64_t fid, uint32_t ctl, const void *in, uint32_t in_len, uint32_t max_out)
{
	struct wire_wr *w = &b->w;
	wire_put_u16(w, 57);
	wire_put_u16(w, 0);
	wire_put_u32(w, ctl);
	put_fid(b, fid);
	uint32_t in_off = in_len ? (uint32_t)sb_off(b) + 32 : 0;
	wire_put_u32(w, in_off);
	wire_put_u32(w, in_len);
	wire_put_u32(w, 0);
	wire_put_u32(w, 0);
	wire_put_u32(w, 0);
	wire_put_u32(w, max_out);
	wire_put_u32(w, SMB2_0_IOCTL_IS_FSCTL);
	wire_put_u32(w, 0);
	if (in_len)
		wire_put_bytes(w, in, in_len);
	else
		wire_put_u8(w, 0);
}

void sb_query_dir(struct sb *b, uint64_t fid, uint8_t klass, uint8_t flags, const char *pattern)
{
	struct wire_wr *w = &b->w;
	wire_put_u16(w, 33);
	wire_put_u8(w, klass);
	wire_put_u8(w, flags);
	wire_put_u32(w, 0);
	put_fid(b, fid);
	size_t pos = wire_reserve(w, 4);
	wire_put_u32(w, 65536);
	uint16_t off = sb_off(b);
	size_t n = sb_put_utf16(w, pattern);
	wire_patch_u16(w, pos, n ? off : 0);
	wire_patch_u16(w, pos + 2, (uint16_t)n);
	if (n == 0)
		wire_put_u8(w, 0);
}

void sb_notify(struct sb *b, uint64_t fid, uint16_t flags, uint32_t filter)
{
	struct wire_wr *w = &b->w;
	wire_put_u16(w, 32);
	wire_put_u16(w, flags);
	wire_put_u32(w, 4096);
	put_fid(b, fid);
	wire_put_u32(w, filter);
	wire_put_u32(w, 0);
}

void sb_query_info(struct sb *b, uint64_t fid, uint8_t type, uint8_t klass, uint32_t max_out, uint32_t addl,
		   const void *in, uint32_t in_len)
{
	struct wire_wr *w = &b->w;
	wire_put_u16(w, 41);
	wire_put_u8(w, type);
	wire_put_u8(w, klass);
	wire_put_u32(w, max_out);
	wire_put_u16(w, in_len ? (uint16_t)(sb_off(b) + 32) : 0);
	wire_put_u16(w, 0);
	wire_put_u32(w, in_len);
	wire_put_u32(w, addl);
	wire_put_u32(w, 0);
	put_fid(b, fid);
	if (in_len)
		wire_put_bytes(w, in, in_len);
	else
		wire_put_u8(w, 0);
}

void sb_set_info(struct sb *b, uint64_t fid, uint8_t type, uint8_t klass, uint32_t addl, const void *buf,
		 uint32_t len)
{
	struct wire_wr *w = &b->w;
	wire_put_u16(w, 33);
	wire_put_u8(w, type);
	wire_put_u8(w, klass);
	wire_put_u32(w, len);
	wire_put_u16(w, (uint16_t)(sb_off(b) + 24));
	wire_put_u16(w, 0);
	wire_put_u32(w, addl);
	put_fid(b, fid);
	if (len)
		wire_put_bytes(w, buf, len);
	else
		wire_put_u8(w, 0);
}

void sb_oplock_break(struct sb *b, uint64_t fid, uint8_t level)
{
	wire_put_u16(&b->w, 24);
	wire_put_u8(&b->w, level);
	wire_put_u8(&b->w, 0);
	wire_put_u32(&b->w, 0);
	put_fid(b, fid);
}

void sb_empty(struct sb *b)
{
	wire_put_u16(&b->w, 4);
	wire_put_u16(&b->w, 0);
}

void sb_frame(struct wire_wr *stream, const uint8_t *pdu, size_t len)
{
	wire_put_u8(stream, 0);
	wire_put_u8(stream, (uint8_t)(len >> 16));
	wire_put_u8(stream, (uint8_t)(len >> 8));
	wire_put_u8(stream, (uint8_t)len);
	wire_put_bytes(stream, pdu, len);
}
