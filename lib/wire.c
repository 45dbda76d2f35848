#include "config.h"
#include "lib/wire.h"

#include <string.h>

void wire_rd_init(struct wire_rd *r, const void *buf, size_t len)
{
	r->buf = buf;
	r->len = buf ? len : 0;
	r->pos = 0;
	r->err = false;
}

/* Claims n bytes: the single place a reader's bounds are checked. */
static const uint8_t *take(struct wire_rd *r, size_t n)
{
	if (r->err || n > r->len - r->pos) {
		r->err = true;
		return NULL;
	}
	const uint8_t *p = r->buf + r->pos;
	r->pos += n;
	return p;
}

uint8_t wire_u8(struct wire_rd *r)
{
	const uint8_t *p = take(r, 1);
	return p ? p[0] : 0;
}

uint16_t wire_u16(struct wire_rd *r)
{
	const uint8_t *p = take(r, 2);
	return p ? le16(p) : 0;
}

uint32_t wire_u32(struct wire_rd *r)
{
	const uint8_t *p = take(r, 4);
	return p ? le32(p) : 0;
}

uint64_t wire_u64(struct wire_rd *r)
{
	const uint8_t *p = take(r, 8);
	return p ? le64(p) : 0;
}

void wire_copy(struct wire_rd *r, void *dst, size_t n)
{
	const uint8_t *p = take(r, n);
	if (p)
		memcpy(dst, p, n);
	else
		memset(dst, 0, n);
}

const uint8_t *wire_ptr(struct wire_rd *r, size_t n)
{
	return take(r, n);
}

void wire_skip(struct wire_rd *r, size_t n)
{
	(void)take(r, n);
}

void wire_seek(struct wire_rd *r, size_t pos)
{
	if (r->err || pos > r->len)
		r->err = true;
	else
		r->pos = pos;
}

void wire_align(struct wire_rd *r, size_t align)
{
	size_t rem = r->pos % align;
	if (rem)
		wire_skip(r, align - rem);
}

bool wire_range_ok(size_t total, uint64_t off, uint64_t len)
{
	uint64_t end;
	if (__builtin_add_overflow(off, len, &end))
		return false;
	return end <= total;
}

bool wire_slice(const struct wire_rd *whole, uint64_t off, uint64_t len,
		struct wire_rd *out)
{
	if (whole->err || !wire_range_ok(whole->len, off, len)) {
		wire_rd_init(out, NULL, 0);
		out->err = true;
		return false;
	}
	wire_rd_init(out, whole->buf + off, (size_t)len);
	return true;
}

void wire_wr_init(struct wire_wr *w, TALLOC_CTX *mem, size_t size_hint)
{
	w->mem = mem;
	w->len = 0;
	w->cap = size_hint ? size_hint : 64;
	w->buf = talloc_size(mem, w->cap);
	w->err = (w->buf == NULL);
	if (w->err)
		w->cap = 0;
}

/* Makes room for n more bytes and returns where they go, or NULL. */
static uint8_t *grow(struct wire_wr *w, size_t n)
{
	if (w->err)
		return NULL;
	size_t need;
	if (__builtin_add_overflow(w->len, n, &need)) {
		w->err = true;
		return NULL;
	}
	if (need > w->cap) {
		size_t cap = w->cap * 2;
		if (cap < need)
			cap = need;
		uint8_t *nb = talloc_realloc_size(w->mem, w->buf, cap);
		if (nb == NULL) {
			w->err = true;
			return NULL;
		}
		w->buf = nb;
		w->cap = cap;
	}
	uint8_t *p = w->buf + w->len;
	w->len = need;
	return p;
}

void wire_put_u8(struct wire_wr *w, uint8_t v)
{
	uint8_t *p = grow(w, 1);
	if (p)
		p[0] = v;
}

void wire_put_u16(struct wire_wr *w, uint16_t v)
{
	uint8_t *p = grow(w, 2);
	if (p)
		put_le16(p, v);
}

void wire_put_u32(struct wire_wr *w, uint32_t v)
{
	uint8_t *p = grow(w, 4);
	if (p)
		put_le32(p, v);
}

void wire_put_u64(struct wire_wr *w, uint64_t v)
{
	uint8_t *p = grow(w, 8);
	if (p)
		put_le64(p, v);
}

void wire_put_bytes(struct wire_wr *w, const void *src, size_t n)
{
	uint8_t *p = grow(w, n);
	if (p && n)
		memcpy(p, src, n);
}

void wire_put_zeros(struct wire_wr *w, size_t n)
{
	uint8_t *p = grow(w, n);
	if (p && n)
		memset(p, 0, n);
}

void wire_put_align(struct wire_wr *w, size_t align)
{
	size_t rem = w->len % align;
	if (rem)
		wire_put_zeros(w, align - rem);
}

size_t wire_reserve(struct wire_wr *w, size_t n)
{
	size_t off = w->len;
	wire_put_zeros(w, n);
	return off;
}

void wire_patch_bytes(struct wire_wr *w, size_t off, const void *src, size_t n)
{
	if (w->err || !wire_range_ok(w->len, off, n)) {
		w->err = true;
		return;
	}
	memcpy(w->buf + off, src, n);
}

void wire_patch_u16(struct wire_wr *w, size_t off, uint16_t v)
{
	uint8_t b[2];
	put_le16(b, v);
	wire_patch_bytes(w, off, b, 2);
}

void wire_patch_u32(struct wire_wr *w, size_t off, uint32_t v)
{
	uint8_t b[4];
	put_le32(b, v);
	wire_patch_bytes(w, off, b, 4);
}
