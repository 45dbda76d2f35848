#include "config.h"
#include "lib/auth/asn1.h"

#include <string.h>

void asn1_rd_init(struct asn1_rd *r, const uint8_t *buf, size_t len)
{
	r->buf = buf;
	r->len = buf ? len : 0;
	r->pos = 0;
	r->depth = 0;
	r->err = false;
}

static bool fail(struct asn1_rd *r)
{
	r->err = true;
	return false;
}

int asn1_peek_tag(const struct asn1_rd *r)
{
	if (r->err || r->pos >= r->len)
		return -1;
	return r->buf[r->pos];
}

/*
 * Decodes the identifier and length at the cursor (X.690 8.1.2, 8.1.3).
 * On success the cursor is past the whole element.
 */
static bool read_tl(struct asn1_rd *r, uint8_t *tag, size_t *hdr_start,
		    size_t *content_start, size_t *content_len)
{
	if (r->err)
		return false;
	size_t p = r->pos;
	size_t avail = r->len - p;
	if (avail < 2)
		return fail(r);
	uint8_t t = r->buf[p];
	/* High tag numbers never occur in SPNEGO. */
	if ((t & 0x1f) == 0x1f)
		return fail(r);
	uint8_t l0 = r->buf[p + 1];
	size_t hdr = 2;
	uint64_t clen;
	if (l0 < 0x80) {
		clen = l0;
	} else {
		size_t n = l0 & 0x7f;
		/* 0x80 is the indefinite form; more than 4 octets is absurd here. */
		if (n == 0 || n > 4 || avail < 2 + n)
			return fail(r);
		clen = 0;
		for (size_t i = 0; i < n; i++)
			clen = clen << 8 | r->buf[p + 2 + i];
		hdr += n;
	}
	if (clen > avail - hdr)
		return fail(r);
	*tag = t;
	*hdr_start = p;
	*content_start = p + hdr;
	*content_len = (size_t)clen;
	r->pos = p + hdr + (size_t)clen;
	return true;
}

bool asn1_enter(struct asn1_rd *r, uint8_t tag, struct asn1_rd *content,
		const uint8_t **raw, size_t *raw_len)
{
	uint8_t t;
	size_t hs, cs, cl;
	asn1_rd_init(content, NULL, 0);
	content->err = true;
	if (r->depth + 1 > ASN1_MAX_DEPTH)
		return fail(r);
	size_t save = r->pos;
	if (!read_tl(r, &t, &hs, &cs, &cl))
		return false;
	if (t != tag) {
		r->pos = save;
		return fail(r);
	}
	asn1_rd_init(content, r->buf + cs, cl);
	content->depth = r->depth + 1;
	if (raw != NULL) {
		*raw = r->buf + hs;
		*raw_len = cs + cl - hs;
	}
	return true;
}

bool asn1_skip(struct asn1_rd *r)
{
	uint8_t t;
	size_t hs, cs, cl;
	return read_tl(r, &t, &hs, &cs, &cl);
}

static bool read_prim(struct asn1_rd *r, uint8_t tag, const uint8_t **p, size_t *len)
{
	struct asn1_rd c;
	if (!asn1_enter(r, tag, &c, NULL, NULL)) {
		*p = NULL;
		*len = 0;
		return false;
	}
	*p = c.buf;
	*len = c.len;
	return true;
}

bool asn1_read_oid(struct asn1_rd *r, const uint8_t **oid, size_t *len)
{
	if (!read_prim(r, ASN1_OID, oid, len))
		return false;
	/* X.690 8.19: non-empty, and the last octet ends a sub-identifier. */
	if (*len == 0 || ((*oid)[*len - 1] & 0x80))
		return fail(r);
	return true;
}

bool asn1_read_octets(struct asn1_rd *r, const uint8_t **p, size_t *len)
{
	return read_prim(r, ASN1_OCTET_STRING, p, len);
}

bool asn1_read_enumerated(struct asn1_rd *r, uint32_t *v)
{
	const uint8_t *p;
	size_t len;
	*v = 0;
	if (!read_prim(r, ASN1_ENUMERATED, &p, &len))
		return false;
	/* Values here are tiny and non-negative. */
	if (len == 0 || len > 4 || (p[0] & 0x80))
		return fail(r);
	uint32_t x = 0;
	for (size_t i = 0; i < len; i++)
		x = x << 8 | p[i];
	*v = x;
	return true;
}

bool asn1_read_bit_string(struct asn1_rd *r, const uint8_t **p, size_t *len)
{
	if (!read_prim(r, ASN1_BIT_STRING, p, len))
		return false;
	/* The first octet counts the unused bits of the last: 0..7. */
	if (*len == 0 || (*p)[0] > 7 || (*len == 1 && (*p)[0] != 0))
		return fail(r);
	return true;
}

void asn1_wr_init(struct asn1_wr *w, TALLOC_CTX *mem)
{
	memset(w, 0, sizeof(*w));
	w->mem = mem;
}

static uint8_t *wr_grow(struct asn1_wr *w, size_t n)
{
	if (w->err)
		return NULL;
	size_t need;
	if (__builtin_add_overflow(w->len, n, &need)) {
		w->err = true;
		return NULL;
	}
	if (need > w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 128;
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

/* Octets needed for the long form of 'len' (0 for the short form). */
static size_t len_octets(size_t len)
{
	size_t n = 0;
	if (len < 0x80)
		return 0;
	while (len) {
		n++;
		len >>= 8;
	}
	return n;
}

static void put_len(uint8_t *p, size_t len)
{
	size_t n = len_octets(len);
	if (n == 0) {
		p[0] = (uint8_t)len;
		return;
	}
	p[0] = (uint8_t)(0x80 | n);
	for (size_t i = 0; i < n; i++)
		p[n - i] = (uint8_t)(len >> (8 * i));
}

void asn1_push(struct asn1_wr *w, uint8_t tag)
{
	if (w->depth >= ASN1_MAX_DEPTH) {
		w->err = true;
		return;
	}
	uint8_t *p = wr_grow(w, 2);
	if (p == NULL)
		return;
	p[0] = tag;
	p[1] = 0;
	w->open[w->depth++] = w->len - 1;
}

void asn1_pop(struct asn1_wr *w)
{
	if (w->err)
		return;
	if (w->depth == 0) {
		w->err = true;
		return;
	}
	size_t lpos = w->open[--w->depth];
	size_t clen = w->len - lpos - 1;
	size_t extra = len_octets(clen);
	if (extra > 4 || (extra && wr_grow(w, extra) == NULL)) {
		w->err = true;
		return;
	}
	if (extra)
		memmove(w->buf + lpos + 1 + extra, w->buf + lpos + 1, clen);
	put_len(w->buf + lpos, clen);
}

void asn1_put_prim(struct asn1_wr *w, uint8_t tag, const void *p, size_t len)
{
	size_t n = len_octets(len);
	if (n > 4) {
		w->err = true;
		return;
	}
	uint8_t *d = wr_grow(w, 2 + n);
	if (d == NULL)
		return;
	d[0] = tag;
	put_len(d + 1, len);
	asn1_put_raw(w, p, len);
}

void asn1_put_oid(struct asn1_wr *w, const uint8_t *oid, size_t len)
{
	asn1_put_prim(w, ASN1_OID, oid, len);
}

void asn1_put_octets(struct asn1_wr *w, const void *p, size_t len)
{
	asn1_put_prim(w, ASN1_OCTET_STRING, p, len);
}

void asn1_put_enumerated(struct asn1_wr *w, uint32_t v)
{
	/* Minimal two's complement, non-negative (X.690 8.3.2, 8.4). */
	uint8_t b[5];
	size_t n = 0;
	do {
		b[4 - n++] = (uint8_t)v;
		v >>= 8;
	} while (v);
	if (b[5 - n] & 0x80)
		b[4 - n++] = 0;
	asn1_put_prim(w, ASN1_ENUMERATED, b + 5 - n, n);
}

void asn1_put_raw(struct asn1_wr *w, const void *p, size_t len)
{
	if (len == 0)
		return;
	uint8_t *d = wr_grow(w, len);
	if (d != NULL)
		memcpy(d, p, len);
}

uint8_t *asn1_wr_finish(struct asn1_wr *w, size_t *out_len)
{
	*out_len = 0;
	if (w->err || w->depth != 0 || w->len == 0) {
		TALLOC_FREE(w->buf);
		return NULL;
	}
	*out_len = w->len;
	return w->buf;
}
