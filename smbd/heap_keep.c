#include "config.h"
#include "smbd/heap_keep.h"

#include <event2/event.h>
#include <malloc.h>
#include <stdbool.h>

/* Above the largest frame (8 MiB and its headers): every frame comes
 * from the heap, none from a mapping of its own. */
#define HEAP_KEEP_MMAP (32u * 1024 * 1024)
/* Free heap kept at its top while frames come: a few deep queues' worth. */
#define HEAP_KEEP_TRIM (64u * 1024 * 1024)
/* The heap is given back once no large frame came for this long. */
#define HEAP_KEEP_IDLE_S 2

struct smbd_heap_keep {
	struct event *tick;
	bool noted; /* a large frame since the last tick */
};

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct smbd_heap_keep *k = arg;
	if (k->noted) {
		k->noted = false;
		return;
	}
	event_del(k->tick);
	malloc_trim(0);
}

static int keep_destructor(struct smbd_heap_keep *k)
{
	event_free(k->tick);
	return 0;
}

struct smbd_heap_keep *smbd_heap_keep_new(TALLOC_CTX *mem, struct event_base *ev)
{
	struct smbd_heap_keep *k = talloc_zero(mem, struct smbd_heap_keep);
	if (k == NULL)
		return NULL;
	k->tick = event_new(ev, -1, EV_PERSIST, tick_cb, k);
	if (k->tick == NULL) {
		talloc_free(k);
		return NULL;
	}
	talloc_set_destructor(k, keep_destructor);
	/* Setting either turns glibc's own sliding thresholds off. */
	mallopt(M_MMAP_THRESHOLD, (int)HEAP_KEEP_MMAP);
	mallopt(M_TRIM_THRESHOLD, (int)HEAP_KEEP_TRIM);
	return k;
}

void smbd_heap_keep_note(struct smbd_heap_keep *k, size_t len)
{
	if (len < HEAP_KEEP_MIN)
		return;
	k->noted = true;
	if (!event_pending(k->tick, EV_TIMEOUT, NULL))
		event_add(k->tick, &(struct timeval){ HEAP_KEEP_IDLE_S, 0 });
}
