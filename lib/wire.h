/*
 * The bounds-checked wire codec.
 *
 * Reading: a cursor with a sticky error flag. A decoder reads every field
 * and checks wire_ok() once; after an overrun every read returns zero and
 * the cursor stops moving. Offset/length pairs taken from the wire go
 * through wire_slice(), which is overflow-safe in size_t.
 *
 * Writing: a growable talloc buffer, also with a sticky error (allocation
 * failure or a patch outside what was written).
 *
 * All integers are little-endian, as in SMB2, NTLMSSP and (little-endian)
 * NDR. DER (SPNEGO) has its own reader in lib/auth.
 */
#ifndef PORTHOS_WIRE_H
#define PORTHOS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

struct wire_rd {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	bool err;
};

void wire_rd_init(struct wire_rd *r, const void *buf, size_t len);
static inline bool wire_ok(const struct wire_rd *r) { return !r->err; }
static inline size_t wire_remaining(const struct wire_rd *r)
{
	return r->err ? 0 : r->len - r->pos;
}

uint8_t wire_u8(struct wire_rd *r);
uint16_t wire_u16(struct wire_rd *r);
uint32_t wire_u32(struct wire_rd *r);
uint64_t wire_u64(struct wire_rd *r);
/* Copies n bytes to dst (zero-filled on overrun). */
void wire_copy(struct wire_rd *r, void *dst, size_t n);
/* A pointer to the next n bytes, or NULL (and the error set). */
const uint8_t *wire_ptr(struct wire_rd *r, size_t n);
void wire_skip(struct wire_rd *r, size_t n);
/* Moves to an absolute position within the buffer. */
void wire_seek(struct wire_rd *r, size_t pos);
/* Skips to the next multiple of 'align' (relative to the buffer start). */
void wire_align(struct wire_rd *r, size_t align);

/*
 * Carves [off, off+len) of the whole buffer into 'out'. Returns false, and
 * leaves 'out' empty and in error, when the range is not inside. 'off' and
 * 'len' are 64-bit so that any wire field can be passed unconverted.
 */
bool wire_slice(const struct wire_rd *whole, uint64_t off, uint64_t len,
		struct wire_rd *out);
/* Just the range check of wire_slice(), for a buffer of 'total' bytes. */
bool wire_range_ok(size_t total, uint64_t off, uint64_t len);

struct wire_wr {
	TALLOC_CTX *mem;
	uint8_t *buf;
	size_t len;
	size_t cap;
	bool err;
};

void wire_wr_init(struct wire_wr *w, TALLOC_CTX *mem, size_t size_hint);
static inline bool wire_wr_ok(const struct wire_wr *w) { return !w->err; }
void wire_put_u8(struct wire_wr *w, uint8_t v);
void wire_put_u16(struct wire_wr *w, uint16_t v);
void wire_put_u32(struct wire_wr *w, uint32_t v);
void wire_put_u64(struct wire_wr *w, uint64_t v);
void wire_put_bytes(struct wire_wr *w, const void *p, size_t n);
void wire_put_zeros(struct wire_wr *w, size_t n);
/* Pads with zeros to a multiple of 'align' from the buffer start. */
void wire_put_align(struct wire_wr *w, size_t align);
/* Appends n zero bytes and returns their offset, for patching later. */
size_t wire_reserve(struct wire_wr *w, size_t n);
void wire_patch_u16(struct wire_wr *w, size_t off, uint16_t v);
void wire_patch_u32(struct wire_wr *w, size_t off, uint32_t v);
void wire_patch_bytes(struct wire_wr *w, size_t off, const void *p, size_t n);

/* Plain little-endian loads and stores on memory already bounds-checked. */
static inline uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }
static inline void put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void put_le64(uint8_t *p, uint64_t v) { put_le32(p, (uint32_t)v); put_le32(p + 4, (uint32_t)(v >> 32)); }

#endif
