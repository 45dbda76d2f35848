#include "config.h"
#include "lib/rpc/ndr.h"

#include <string.h>

#include "lib/unicode.h"

/* Referent ids as Windows numbers them; any nonzero value is valid. */
#define NDR_FIRST_REFERENT 0x00020000u

void ndr_pull_init(struct ndr_pull *n, TALLOC_CTX *mem,
		   const uint8_t *buf, size_t len)
{
	wire_rd_init(&n->rd, buf, len);
	n->mem = mem;
}

/* C706 14.2.2: primitives are aligned to their size. */
uint16_t ndr_pull_u16(struct ndr_pull *n)
{
	wire_align(&n->rd, 2);
	return wire_u16(&n->rd);
}

uint32_t ndr_pull_u32(struct ndr_pull *n)
{
	wire_align(&n->rd, 4);
	return wire_u32(&n->rd);
}

char *ndr_pull_wstring(struct ndr_pull *n, size_t max_units)
{
	/* C706 14.3.3.4: max_count, offset, actual_count, then the units. */
	uint32_t max_count = ndr_pull_u32(n);
	uint32_t offset = ndr_pull_u32(n);
	uint32_t actual = ndr_pull_u32(n);
	if (!ndr_pull_ok(n))
		return NULL;
	if (offset != 0 || actual > max_count || actual > max_units) {
		ndr_pull_fail(n);
		return NULL;
	}
	const uint8_t *p = wire_ptr(&n->rd, (size_t)actual * 2);
	if (p == NULL)
		return NULL;
	size_t units = actual;
	/* [string] carries its terminator; tolerate a sender that omits it. */
	if (units > 0 && le16(p + 2 * (units - 1)) == 0)
		units--;
	for (size_t i = 0; i < units; i++) {
		if (le16(p + 2 * i) == 0) {
			ndr_pull_fail(n);
			return NULL;
		}
	}
	char *s = utf16le_to_utf8(n->mem, p, units * 2);
	if (s == NULL)
		ndr_pull_fail(n);
	return s;
}

void ndr_push_init(struct ndr_push *n, TALLOC_CTX *mem)
{
	wire_wr_init(&n->wr, mem, 512);
	n->next_ref = NDR_FIRST_REFERENT;
}

void ndr_push_u16(struct ndr_push *n, uint16_t v)
{
	wire_put_align(&n->wr, 2);
	wire_put_u16(&n->wr, v);
}

void ndr_push_u32(struct ndr_push *n, uint32_t v)
{
	wire_put_align(&n->wr, 4);
	wire_put_u32(&n->wr, v);
}

void ndr_push_ptr(struct ndr_push *n, bool present)
{
	if (!present) {
		ndr_push_u32(n, 0);
		return;
	}
	ndr_push_u32(n, n->next_ref);
	n->next_ref += 4;
}

void ndr_push_wstring(struct ndr_push *n, const char *s)
{
	size_t bytes = 0;
	uint8_t *u = utf8_to_utf16le(n->wr.mem, s ? s : "", &bytes);
	/* Counts are 32-bit on the wire; the terminator is counted too. */
	if (u == NULL || bytes / 2 >= UINT32_MAX) {
		n->wr.err = true;
		talloc_free(u);
		return;
	}
	uint32_t units = (uint32_t)(bytes / 2) + 1;
	ndr_push_u32(n, units);
	ndr_push_u32(n, 0);
	ndr_push_u32(n, units);
	wire_put_bytes(&n->wr, u, bytes);
	wire_put_u16(&n->wr, 0);
	talloc_free(u);
}
