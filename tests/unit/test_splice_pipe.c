/* Pipes for READ data sent by splice (smbd/splice_pipe.h). */
#include "config.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <talloc.h>

#include "smbd/splice_pipe.h"

#define MIB (1024u * 1024)

struct fixture {
	TALLOC_CTX *mem;
	struct smbd_pipes *pool;
	size_t page;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->mem = talloc_new(NULL);
	f->pool = smbd_pipes_new(f->mem);
	f->page = (size_t)sysconf(_SC_PAGESIZE);
	*state = f;
	return f->pool != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	talloc_free(f->mem);
	free(f);
	return 0;
}

/* The rooms of a chain, from offset on, cover len; its pipes are open. */
static size_t chain_room(const struct smbd_pipe *p, uint64_t offset, unsigned *parts)
{
	size_t total = 0;
	*parts = 0;
	for (; p != NULL; p = p->next) {
		assert_true(fcntl(p->rd, F_GETFD) >= 0 && fcntl(p->wr, F_GETFD) >= 0);
		assert_int_equal(p->held, 0);
		size_t room = smbd_pipe_room(p, offset);
		total += room;
		offset += room;
		(*parts)++;
	}
	return total;
}

/* An 8 MiB READ gets a chain that holds it whole; one that starts part
 * way into a page loses that much of its first pipe's room. */
static void test_chain_holds_the_read(void **state)
{
	struct fixture *f = *state;
	unsigned parts;
	struct smbd_pipe *p = smbd_pipe_get(f->pool, f->mem, 0, 8 * MIB);
	assert_non_null(p);
	assert_true(chain_room(p, 0, &parts) >= 8 * MIB);
	assert_true(parts >= 1 && parts <= 16);
	talloc_free(p);

	p = smbd_pipe_get(f->pool, f->mem, 100, MIB);
	assert_non_null(p);
	assert_int_equal(smbd_pipe_room(p, 100), p->cap - 100);
	assert_true(chain_room(p, 100, &parts) >= MIB);
	talloc_free(p);
}

/* What is written into a chain comes out of smbd_pipe_read_all in order. */
static void test_read_all_in_order(void **state)
{
	struct fixture *f = *state;
	struct smbd_pipe *p = smbd_pipe_get(f->pool, f->mem, 0, 2 * f->page);
	assert_non_null(p);
	/* Two parts by hand: the first pipe, then one more linked after it. */
	struct smbd_pipe *second = smbd_pipe_get(f->pool, p, 0, f->page);
	assert_non_null(second);
	p->next = second;
	assert_int_equal(write(p->wr, "hello, ", 7), 7);
	assert_int_equal(write(second->wr, "world", 5), 5);
	p->held = 7;
	second->held = 5;
	assert_int_equal(smbd_pipe_held(p), 12);
	char buf[16] = { 0 };
	assert_true(smbd_pipe_read_all(p, buf));
	assert_string_equal(buf, "hello, world");
	assert_int_equal(smbd_pipe_held(p), 0);
	/* A pipe that claims more than it has is a short read. */
	p->held = 3;
	assert_false(smbd_pipe_read_all(p, buf));
	p->held = 0;
	talloc_free(p);
}

/* Empty pipes are kept for the next READ; one freed with data in it is closed. */
static void test_reuse(void **state)
{
	struct fixture *f = *state;
	struct smbd_pipe *a = smbd_pipe_get(f->pool, f->mem, 0, MIB);
	assert_non_null(a);
	int rd = a->rd;
	talloc_free(a);
	struct smbd_pipe *b = smbd_pipe_get(f->pool, f->mem, 0, MIB);
	assert_int_equal(b->rd, rd);
	assert_int_equal(write(b->wr, "x", 1), 1);
	b->held = 1;
	int wr = b->wr;
	talloc_free(b);
	assert_true(fcntl(rd, F_GETFD) < 0 && fcntl(wr, F_GETFD) < 0);
}

/* At most 256 pipes are out: then none, until some come back. */
static void test_bounded(void **state)
{
	struct fixture *f = *state;
	TALLOC_CTX *held = talloc_new(f->mem);
	unsigned got = 0;
	while (smbd_pipe_get(f->pool, held, 0, f->page) != NULL)
		assert_true(++got <= 256);
	assert_int_equal(got, 256);
	assert_null(smbd_pipe_get(f->pool, f->mem, 0, 8 * MIB));
	talloc_free(held);
	struct smbd_pipe *p = smbd_pipe_get(f->pool, f->mem, 0, 8 * MIB);
	assert_non_null(p);
	talloc_free(p);
}

/* The server's state may go first at teardown: a pipe still out stays
 * open, and its return frees what is left (no leak under ASan). */
static void test_orphan(void **state)
{
	struct fixture *f = *state;
	void *keep = talloc_new(NULL);
	struct smbd_pipe *p = smbd_pipe_get(f->pool, keep, 0, MIB);
	assert_non_null(p);
	talloc_free(f->pool);
	f->pool = NULL;
	assert_int_equal(write(p->wr, "y", 1), 1);
	assert_null(smbd_pipe_get(NULL, f->mem, 0, MIB));
	talloc_free(keep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_chain_holds_the_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_all_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_orphan, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
