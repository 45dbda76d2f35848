/*
 * A small bounds-checked DER reader and writer, for what SPNEGO needs
 * (RFC 4178, RFC 2743 3.1): SEQUENCE, context tags, OID, OCTET STRING,
 * ENUMERATED, BIT STRING, GeneralString and the [APPLICATION 0] wrapper.
 *
 * Only low-tag-number, definite-length encodings are accepted; lengths
 * that leave their enclosing element, indefinite lengths and nesting
 * deeper than ASN1_MAX_DEPTH are errors. Like lib/wire.h the reader has a
 * sticky error flag: read everything, check asn1_ok() once.
 */
#ifndef PORTHOS_AUTH_ASN1_H
#define PORTHOS_AUTH_ASN1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#define ASN1_MAX_DEPTH 8

/* Tags (identifier octets) used by SPNEGO. */
#define ASN1_BIT_STRING 0x03
#define ASN1_OCTET_STRING 0x04
#define ASN1_OID 0x06
#define ASN1_ENUMERATED 0x0a
#define ASN1_GENERAL_STRING 0x1b
#define ASN1_SEQUENCE 0x30
#define ASN1_APPLICATION(n) (0x60 | (n)) /* constructed */
#define ASN1_CONTEXT(n) (0xa0 | (n))	/* constructed */

struct asn1_rd {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	unsigned depth;
	bool err;
};

void asn1_rd_init(struct asn1_rd *r, const uint8_t *buf, size_t len);
static inline bool asn1_ok(const struct asn1_rd *r) { return !r->err; }
static inline bool asn1_at_end(const struct asn1_rd *r) { return r->err || r->pos == r->len; }
/* The tag of the next element, or -1 at the end or on error. */
int asn1_peek_tag(const struct asn1_rd *r);

/*
 * Reads one element whose tag must be 'tag'; 'content' becomes a reader
 * over its contents, one level deeper. 'raw'/'raw_len', if non-NULL, get
 * the whole encoded element (tag, length and contents).
 */
bool asn1_enter(struct asn1_rd *r, uint8_t tag, struct asn1_rd *content,
		const uint8_t **raw, size_t *raw_len);
/* Reads any one element and ignores it. */
bool asn1_skip(struct asn1_rd *r);

/* Primitive readers: pointers into the buffer, valid while it is. */
bool asn1_read_oid(struct asn1_rd *r, const uint8_t **oid, size_t *len);
bool asn1_read_octets(struct asn1_rd *r, const uint8_t **p, size_t *len);
bool asn1_read_enumerated(struct asn1_rd *r, uint32_t *v);
bool asn1_read_bit_string(struct asn1_rd *r, const uint8_t **p, size_t *len);

struct asn1_wr {
	TALLOC_CTX *mem;
	uint8_t *buf;
	size_t len;
	size_t cap;
	size_t open[ASN1_MAX_DEPTH]; /* where each open element's length goes */
	unsigned depth;
	bool err;
};

void asn1_wr_init(struct asn1_wr *w, TALLOC_CTX *mem);
/* Opens a constructed element; its length is filled in by asn1_pop(). */
void asn1_push(struct asn1_wr *w, uint8_t tag);
void asn1_pop(struct asn1_wr *w);
/* A primitive element: tag, length, contents. */
void asn1_put_prim(struct asn1_wr *w, uint8_t tag, const void *p, size_t len);
void asn1_put_oid(struct asn1_wr *w, const uint8_t *oid, size_t len);
void asn1_put_octets(struct asn1_wr *w, const void *p, size_t len);
void asn1_put_enumerated(struct asn1_wr *w, uint32_t v);
/* Already-encoded bytes, copied as they are. */
void asn1_put_raw(struct asn1_wr *w, const void *p, size_t len);
/* The encoding (owned by 'mem'), or NULL if anything failed or is open. */
uint8_t *asn1_wr_finish(struct asn1_wr *w, size_t *out_len);

#endif
