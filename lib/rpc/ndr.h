/*
 * A small NDR20 (C706 chapter 14) marshalling helper over the wire codec:
 * little-endian only, as negotiated in the bind (drep 0x10).
 *
 * Alignment is relative to the start of the stub data, which is the start
 * of the buffer here: the PDU engine reassembles the stub into its own
 * buffer and encodes replies into a fresh one.
 *
 * Pointers are represented by referent ids (C706 14.3.10): 0 is NULL,
 * anything else names a pointee that follows, either at once (top-level
 * pointers) or after the containing structure (embedded pointers,
 * "deferred"). Callers lay out deferred pointees themselves; the helper
 * only hands out referent ids and encodes the leaves.
 *
 * Errors are sticky, as in the wire codec: a decoder reads every field
 * and checks ndr_pull_ok() once.
 */
#ifndef PORTHOS_RPC_NDR_H
#define PORTHOS_RPC_NDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/wire.h"

/* Longest [string] accepted from a client, in UTF-16 units with the NUL. */
#define NDR_MAX_STRING 1024

struct ndr_pull {
	struct wire_rd rd;
	TALLOC_CTX *mem;	/* strings pulled are allocated here */
};

void ndr_pull_init(struct ndr_pull *n, TALLOC_CTX *mem,
		   const uint8_t *buf, size_t len);
static inline bool ndr_pull_ok(const struct ndr_pull *n) { return wire_ok(&n->rd); }
/* Marks the stream bad, for a semantic error found by the caller. */
static inline void ndr_pull_fail(struct ndr_pull *n) { n->rd.err = true; }

uint16_t ndr_pull_u16(struct ndr_pull *n);
uint32_t ndr_pull_u32(struct ndr_pull *n);
/* A pointer's referent id: 0 for NULL. */
static inline uint32_t ndr_pull_ptr(struct ndr_pull *n) { return ndr_pull_u32(n); }
/*
 * A [string] wchar_t* pointee: a conformant varying array of UTF-16 units
 * with a terminating NUL (C706 14.3.4). Returns UTF-8 without the NUL, or
 * NULL with the error set when the counts lie, the string is longer than
 * max_units, it holds an embedded NUL or an unpaired surrogate.
 */
char *ndr_pull_wstring(struct ndr_pull *n, size_t max_units);

struct ndr_push {
	struct wire_wr wr;
	uint32_t next_ref;
};

void ndr_push_init(struct ndr_push *n, TALLOC_CTX *mem);
static inline bool ndr_push_ok(const struct ndr_push *n) { return wire_wr_ok(&n->wr); }

void ndr_push_u16(struct ndr_push *n, uint16_t v);
void ndr_push_u32(struct ndr_push *n, uint32_t v);
/*
 * A pointer: a fresh referent id when 'present' (the caller must then
 * encode the pointee where NDR puts it), 0 otherwise.
 */
void ndr_push_ptr(struct ndr_push *n, bool present);
/* A [string] wchar_t* pointee from UTF-8; NULL encodes as "". */
void ndr_push_wstring(struct ndr_push *n, const char *s);

#endif
