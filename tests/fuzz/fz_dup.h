/* A private copy of (part of) a fuzz input, exactly as long as it is, so
 * that reading past it is caught rather than hidden by what follows. */
#ifndef PORTHOS_FUZZ_FZ_DUP_H
#define PORTHOS_FUZZ_FZ_DUP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <talloc.h>

static inline uint8_t *fz_dup(TALLOC_CTX *mem, const uint8_t *p, size_t len)
{
	uint8_t *copy = talloc_size(mem, len ? len : 1);
	if (copy != NULL && len)
		memcpy(copy, p, len);
	return copy;
}

#endif
