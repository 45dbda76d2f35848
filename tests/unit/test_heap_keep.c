/* The heap kept for large received frames while they come (smbd/heap_keep.h). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/event.h>
#include <malloc.h>
#include <talloc.h>

#include "smbd/heap_keep.h"

#define MIB (1024u * 1024)

/* Runs the loop for about ms milliseconds. */
static void run_for(struct event_base *ev, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	event_base_loopexit(ev, &tv);
	event_base_dispatch(ev);
}

/* Frames come from the heap, stay there while frames come, and go back
 * to the system once none came for a while. */
static void test_kept_then_given_back(void **state)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	/* The sanitizer's allocator takes malloc's place: no glibc heap to keep. */
	print_message("skipped: built with a sanitizer, whose allocator ignores mallopt()\n");
	skip();
#endif
	struct event_base *ev = event_base_new();
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbd_heap_keep *k = smbd_heap_keep_new(mem, ev);
	assert_non_null(k);

	struct mallinfo2 before = mallinfo2();
	smbd_heap_keep_note(k, 8 * MIB);
	uint8_t *frame = malloc(8 * MIB);
	assert_non_null(frame);
	memset(frame, 0xa5, 8 * MIB);
	struct mallinfo2 held = mallinfo2();
	assert_true(held.hblkhd == before.hblkhd); /* not a mapping of its own */
	assert_true(held.arena >= before.arena + 8 * MIB);
	free(frame);
	assert_true(mallinfo2().arena >= before.arena + 8 * MIB); /* kept */

	/* Frames still coming: a tick finds one noted and keeps the heap. */
	run_for(ev, 1500);
	smbd_heap_keep_note(k, 1 * MIB);
	run_for(ev, 1000);
	assert_true(mallinfo2().arena >= before.arena + 8 * MIB);
	/* None for two ticks: given back. */
	run_for(ev, 4500);
	assert_true(mallinfo2().arena < before.arena + 8 * MIB);

	/* A small allocation notes nothing: no timer runs for it. */
	smbd_heap_keep_note(k, HEAP_KEEP_MIN - 1);
	assert_int_equal(event_base_get_num_events(ev, EVENT_BASE_COUNT_ADDED), 0);
	talloc_free(mem);
	event_base_free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kept_then_given_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
