/*
 * Buffers for large READs, kept mapped between uses.
 *
 * A 1 MiB buffer from malloc is either a fresh mapping or heap that glibc
 * gives back to the system once a few such buffers are free at once:
 * either way every READ faulted its pages in and cleared them again, a
 * third of the server's CPU with several streams reading (sequential
 * 1 MiB reads on 4 streams made 0.9 GB/s, 2.5 on one; docs/PERFORMANCE.md).
 * So the server keeps a few freed ones for the next READs, and lets them
 * go when reads of that size stop: at most BIGBUF_CACHE_MAX bytes, none
 * after a couple of idle seconds.
 *
 * Loop thread only (the buffers may be filled by workers in between).
 */
#ifndef PORTHOS_SMBD_BIGBUF_H
#define PORTHOS_SMBD_BIGBUF_H

#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

struct event_base;
struct smbd_bigbufs;

/* Buffers from this size up come from the cache; smaller ones from talloc. */
#define BIGBUF_MIN (256u * 1024)
/*
 * What the cache may hold: a deep queue of 1 MiB sealed READs on one
 * connection (32 in flight: 32 read buffers and 32 frames) churns through
 * more than 16 MiB, and each buffer the cache could not keep is faulted in
 * and cleared again (a sixth of the server's CPU).
 */
#define BIGBUF_CACHE_MAX (64u * 1024 * 1024)
#define BIGBUF_SLOTS 64

struct smbd_bigbufs *smbd_bigbufs_new(TALLOC_CTX *mem, struct event_base *ev);

/*
 * A buffer of at least len bytes, owned by the talloc object returned
 * (a child of mem): freeing that object returns the buffer to the cache.
 * NULL when out of memory.
 */
void *smbd_bigbuf_get(struct smbd_bigbufs *c, TALLOC_CTX *mem, size_t len, uint8_t **data);

#endif
