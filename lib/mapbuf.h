/*
 * A growable buffer in an anonymous mapping of its own, for large arrays
 * that live briefly: a listing of 100,000 entries is some 20 MB. Freed,
 * its memory goes back to the kernel at once, and growing it moves pages,
 * not bytes (mremap). From malloc, the first such block freed raises
 * glibc's mmap threshold to its size (and the trim threshold to twice
 * that), so the next ones come from an arena and stay in it once freed:
 * six listings of 100,000 entries left the server holding 97 MiB
 * (docs/PERFORMANCE.md). Below MAPBUF_MAP_MIN it is plain talloc memory:
 * a mapping costs system calls a small array need not pay.
 */
#ifndef PORTHOS_LIB_MAPBUF_H
#define PORTHOS_LIB_MAPBUF_H

#include <stddef.h>
#include <talloc.h>

#define MAPBUF_MAP_MIN (256u * 1024)

struct mapbuf;

/* An empty buffer (no memory yet), a talloc child of mem; NULL when out of memory. */
struct mapbuf *mapbuf_new(TALLOC_CTX *mem);

/*
 * Room for at least len bytes, the contents kept; returns the buffer's
 * start, which may have moved. NULL when out of memory: the buffer is then
 * as it was.
 */
void *mapbuf_reserve(struct mapbuf *b, size_t len);

/* The buffer's start (NULL before anything was reserved). */
void *mapbuf_data(const struct mapbuf *b);

#endif
