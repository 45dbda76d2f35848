/* Large READ buffers kept mapped between uses (smbd/bigbuf.h). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <event2/event.h>
#include <talloc.h>

#include "smbd/bigbuf.h"

#define MIB (1024u * 1024)

struct fixture {
	struct event_base *ev;
	TALLOC_CTX *mem;
	struct smbd_bigbufs *c;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->ev = event_base_new();
	f->mem = talloc_new(NULL);
	f->c = smbd_bigbufs_new(f->mem, f->ev);
	*state = f;
	return f->ev && f->c ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	talloc_free(f->mem);
	event_base_free(f->ev);
	free(f);
	return 0;
}

/* A freed buffer serves the next READ of its size class, unchanged. */
static void test_reused(void **state)
{
	struct fixture *f = *state;
	uint8_t *a, *b, *c;
	void *oa = smbd_bigbuf_get(f->c, f->mem, MIB, &a);
	assert_non_null(oa);
	memset(a, 0x5A, MIB);
	talloc_free(oa);
	void *ob = smbd_bigbuf_get(f->c, f->mem, MIB - 100, &b);
	assert_ptr_equal(a, b);
	assert_int_equal(b[MIB - 1], 0x5A);
	/* Another size class gets its own mapping. */
	void *oc = smbd_bigbuf_get(f->c, f->mem, 4 * MIB, &c);
	assert_non_null(oc);
	assert_ptr_not_equal(c, b);
	c[4 * MIB - 1] = 1;
	talloc_free(ob);
	talloc_free(oc);
}

/* The cache keeps at most BIGBUF_CACHE_MAX bytes: of that many 1 MiB
 * buffers and 8 more, freed, the first come back (marked), the rest are
 * fresh mappings (zeroed). */
static void test_bounded(void **state)
{
	struct fixture *f = *state;
	enum { KEPT = BIGBUF_CACHE_MAX / MIB, N = KEPT + 8 };
	void *o[N];
	uint8_t *p;
	for (int i = 0; i < N; i++) {
		o[i] = smbd_bigbuf_get(f->c, f->mem, MIB, &p);
		assert_non_null(o[i]);
		p[0] = 0xC5;
	}
	for (int i = 0; i < N; i++)
		talloc_free(o[i]);
	int cached = 0;
	for (int i = 0; i < N; i++) {
		o[i] = smbd_bigbuf_get(f->c, f->mem, MIB, &p);
		cached += p[0] == 0xC5;
	}
	assert_int_equal(cached, KEPT);
	for (int i = 0; i < N; i++)
		talloc_free(o[i]);
}

/* Sizes go in 64 KiB steps: a sealed 1 MiB READ's frame (1 MiB and its
 * headers) reuses a frame of its own size, not a 2 MiB one. */
static void test_steps(void **state)
{
	struct fixture *f = *state;
	uint8_t *a, *b, *c;
	void *oa = smbd_bigbuf_get(f->c, f->mem, MIB + 132, &a);
	assert_non_null(oa);
	a[MIB + 64 * 1024 - 1] = 0x77; /* the whole step is usable */
	talloc_free(oa);
	void *oc = smbd_bigbuf_get(f->c, f->mem, MIB, &c); /* a smaller step: not that one */
	assert_ptr_not_equal(c, a);
	void *ob = smbd_bigbuf_get(f->c, f->mem, MIB + 4096, &b);
	assert_ptr_equal(b, a);
	assert_int_equal(b[MIB + 64 * 1024 - 1], 0x77);
	talloc_free(ob);
	talloc_free(oc);
}

/* The server's state may go first at teardown: a buffer still out stays
 * valid, and its return frees what is left (no leak under ASan). */
static void test_orphan(void **state)
{
	struct fixture *f = *state;
	uint8_t *a;
	void *keep = talloc_new(NULL);
	void *oa = smbd_bigbuf_get(f->c, keep, 512 * 1024, &a);
	assert_non_null(oa);
	talloc_free(f->c);
	f->c = NULL;
	memset(a, 1, 512 * 1024);
	talloc_free(keep);
	f->c = smbd_bigbufs_new(f->mem, f->ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_steps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_orphan, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
