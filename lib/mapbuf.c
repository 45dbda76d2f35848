#include "config.h"
#include "lib/mapbuf.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct mapbuf {
	void *data;
	size_t cap;
	bool mapped; /* data is a mapping of cap bytes, else a talloc child */
};

static int mapbuf_destructor(struct mapbuf *b)
{
	if (b->mapped)
		munmap(b->data, b->cap);
	return 0;
}

struct mapbuf *mapbuf_new(TALLOC_CTX *mem)
{
	struct mapbuf *b = talloc_zero(mem, struct mapbuf);
	if (b != NULL)
		talloc_set_destructor(b, mapbuf_destructor);
	return b;
}

void *mapbuf_data(const struct mapbuf *b)
{
	return b->data;
}

/*
 * Into a mapping of cap bytes: the buffer's own, grown, or a fresh one the
 * data is copied to. ThreadSanitizer does not follow mremap (the moved
 * pages' shadow stays behind, and the next mapping there reads as a
 * race), so its build always takes a fresh one.
 */
static void *grow_mapped(struct mapbuf *b, size_t cap)
{
#if !defined(__SANITIZE_THREAD__)
	if (b->mapped) {
		void *p = mremap(b->data, b->cap, cap, MREMAP_MAYMOVE);
		return p == MAP_FAILED ? NULL : p;
	}
#endif
	void *p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (b->data != NULL) {
		memcpy(p, b->data, b->cap);
		if (b->mapped)
			munmap(b->data, b->cap);
		else
			talloc_free(b->data);
	}
	return p;
}

void *mapbuf_reserve(struct mapbuf *b, size_t len)
{
	if (len <= b->cap)
		return b->data;
	size_t cap = b->cap != 0 ? b->cap : 4096;
	while (cap < len) {
		if (cap > SIZE_MAX / 2)
			return NULL;
		cap *= 2;
	}
	void *p;
	if (cap < MAPBUF_MAP_MIN) {
		p = talloc_realloc_size(b, b->data, cap);
	} else {
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		cap = (cap + page - 1) / page * page;
		p = grow_mapped(b, cap);
		if (p != NULL)
			b->mapped = true;
	}
	if (p == NULL)
		return NULL;
	b->data = p;
	b->cap = cap;
	return p;
}
