/*
 * The heap kept for large received frames while they keep coming.
 *
 * A large frame that is read whole (a sealed or signed WRITE, up to
 * 8 MiB) is malloc'd as it arrives and freed once handled. With glibc's
 * defaults such a buffer is a fresh mapping, or heap that glibc trims back
 * to the system as soon as a couple of MiB lie free at its top, so frame
 * after frame faulted its pages in and cleared them again: four streams of
 * signed 1 MiB WRITEs made 520-1,150 MB/s, 1,620-1,780 with the heap kept
 * (docs/PERFORMANCE.md). So the server keeps up to HEAP_KEEP_TRIM bytes of
 * freed heap while large frames arrive, and gives all it can back once
 * none came for a couple of seconds. Loop thread only.
 */
#ifndef PORTHOS_SMBD_HEAP_KEEP_H
#define PORTHOS_SMBD_HEAP_KEEP_H

#include <stddef.h>
#include <talloc.h>

struct event_base;
struct smbd_heap_keep;

/* Allocations from this size up note that the heap is worth keeping. */
#define HEAP_KEEP_MIN (128u * 1024)

/* Sets glibc's thresholds (process-wide); NULL when out of memory. */
struct smbd_heap_keep *smbd_heap_keep_new(TALLOC_CTX *mem, struct event_base *ev);

/* A large frame of len bytes is being allocated. */
void smbd_heap_keep_note(struct smbd_heap_keep *k, size_t len);

#endif
