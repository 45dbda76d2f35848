/* Growable buffers in mappings of their own (lib/mapbuf.h). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <talloc.h>

#include "lib/mapbuf.h"

/* Whether a mapping of this process starts at p (/proc/self/maps). */
static bool is_mapping_start(const void *p)
{
	FILE *f = fopen("/proc/self/maps", "r");
	assert_non_null(f);
	char line[512];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		unsigned long start;
		if (sscanf(line, "%lx-", &start) == 1 && start == (unsigned long)(uintptr_t)p)
			found = true;
	}
	fclose(f);
	return found;
}

static void fill(uint8_t *p, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		p[i] = (uint8_t)(i * 7 + 3);
}

static void check_fill(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)(i * 7 + 3))
			fail_msg("byte %zu differs", i);
}

/* Contents survive every growth: in talloc memory, into a mapping, and
 * mapping to mapping; large buffers are mappings of their own. */
static void test_growth_keeps_contents(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct mapbuf *b = mapbuf_new(mem);
	assert_non_null(b);
	assert_null(mapbuf_data(b));
	size_t have = 0;
	static const size_t sizes[] = { 1, 100, 4096, 100000, MAPBUF_MAP_MIN, MAPBUF_MAP_MIN + 1, 3u << 20,
					20u << 20 };
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint8_t *p = mapbuf_reserve(b, sizes[k]);
		assert_non_null(p);
		assert_ptr_equal(p, mapbuf_data(b));
		check_fill(p, have);
		fill(p, have, sizes[k]);
		have = sizes[k];
		if (sizes[k] > MAPBUF_MAP_MIN)
			assert_true(is_mapping_start(p));
	}
	/* Asking for less keeps what is there. */
	uint8_t *p = mapbuf_reserve(b, 10);
	check_fill(p, have);
	/* Freed with its parent: the mapping is gone. */
	talloc_free(mem);
	assert_false(is_mapping_start(p));
}

/* A size that cannot be had fails and leaves the buffer as it was. */
static void test_impossible_size(void **state)
{
	(void)state;
	struct mapbuf *b = mapbuf_new(NULL);
	uint8_t *p = mapbuf_reserve(b, 1u << 20);
	fill(p, 0, 1u << 20);
	assert_null(mapbuf_reserve(b, SIZE_MAX - 10));
	assert_null(mapbuf_reserve(b, (size_t)1 << 62));
	assert_ptr_equal(mapbuf_data(b), p);
	check_fill(p, 1u << 20);
	talloc_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_growth_keeps_contents),
		cmocka_unit_test(test_impossible_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
