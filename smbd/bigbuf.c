#include "config.h"
#include "smbd/bigbuf.h"

#include <event2/event.h>
#include <stdbool.h>
#include <sys/mman.h>

#define BIGBUF_STEP (64u * 1024)
/* Cached buffers go once no buffer was asked for during this long. */
#define BIGBUF_IDLE_S 2

struct cached {
	void *mem;
	size_t cap;
};

struct smbd_bigbufs {
	struct cached slot[BIGBUF_SLOTS];
	unsigned n;
	size_t held;            /* bytes in slot[] */
	unsigned out;           /* buffers given out and not yet back */
	bool used;              /* a buffer was asked for since the last tick */
	bool orphan;            /* the server is gone; the last buffer back frees this */
	struct event *idle;
};

struct bigbuf {
	struct smbd_bigbufs *c;
	void *mem;
	size_t cap;
};

static void release_all(struct smbd_bigbufs *c)
{
	while (c->n > 0) {
		c->n--;
		munmap(c->slot[c->n].mem, c->slot[c->n].cap);
	}
	c->held = 0;
}

static void idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct smbd_bigbufs *c = arg;
	if (!c->used) {
		release_all(c);
		event_del(c->idle);
	}
	c->used = false;
}

static int bigbuf_destructor(struct bigbuf *b)
{
	struct smbd_bigbufs *c = b->c;
	c->out--;
	if (!c->orphan && c->n < BIGBUF_SLOTS && c->held + b->cap <= BIGBUF_CACHE_MAX) {
		c->slot[c->n++] = (struct cached){ b->mem, b->cap };
		c->held += b->cap;
		if (!event_pending(c->idle, EV_TIMEOUT, NULL))
			event_add(c->idle, &(struct timeval){ BIGBUF_IDLE_S, 0 });
		return 0;
	}
	munmap(b->mem, b->cap);
	if (c->orphan && c->out == 0) {
		talloc_set_destructor(c, NULL);
		talloc_free(c);
	}
	return 0;
}

static int cache_destructor(struct smbd_bigbufs *c)
{
	release_all(c);
	if (c->idle != NULL) {
		event_free(c->idle);
		c->idle = NULL;
	}
	if (c->out == 0)
		return 0;
	/* Buffers still out (a reply queued on a connection that outlives
	 * the server's state at teardown): stay until the last comes back. */
	c->orphan = true;
	return -1;
}

struct smbd_bigbufs *smbd_bigbufs_new(TALLOC_CTX *mem, struct event_base *ev)
{
	struct smbd_bigbufs *c = talloc_zero(mem, struct smbd_bigbufs);
	if (c == NULL)
		return NULL;
	c->idle = event_new(ev, -1, EV_PERSIST, idle_cb, c);
	if (c->idle == NULL) {
		talloc_free(c);
		return NULL;
	}
	talloc_set_destructor(c, cache_destructor);
	return c;
}

void *smbd_bigbuf_get(struct smbd_bigbufs *c, TALLOC_CTX *mem, size_t len, uint8_t **data)
{
	/* Sizes in steps of 64 KiB: a sealed 1 MiB READ (the data and some
	 * headers) takes 1 MiB + 64 KiB, not 2 MiB of the cache. */
	if (len > SIZE_MAX - BIGBUF_STEP)
		return NULL;
	size_t cap = len < BIGBUF_MIN ? BIGBUF_MIN : (len + BIGBUF_STEP - 1) / BIGBUF_STEP * BIGBUF_STEP;
	struct bigbuf *b = talloc(mem, struct bigbuf);
	if (b == NULL)
		return NULL;
	*b = (struct bigbuf){ .c = c, .cap = cap };
	for (unsigned i = 0; i < c->n; i++) {
		if (c->slot[i].cap == cap) {
			b->mem = c->slot[i].mem;
			c->held -= cap;
			c->slot[i] = c->slot[--c->n];
			break;
		}
	}
	if (b->mem == NULL) {
		void *m = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			talloc_free(b);
			return NULL;
		}
		b->mem = m;
	}
	c->used = true;
	c->out++;
	talloc_set_destructor(b, bigbuf_destructor);
	*data = b->mem;
	return b;
}
