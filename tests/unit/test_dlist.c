/* Intrusive doubly linked lists (lib/dlist.h). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/dlist.h"

struct item {
	int v;
	struct item *prev, *next;   /* one list */
	struct item *aprev, *anext; /* another, through other links */
};

/* The values along head's next links, and back along prev from the end, agree. */
static void check_list(struct item *head, struct item *tail, const int *want, size_t n)
{
	size_t i = 0;
	struct item *last = NULL;
	for (struct item *it = head; it != NULL; it = it->next, i++) {
		assert_true(i < n);
		assert_int_equal(it->v, want[i]);
		assert_ptr_equal(it->prev, last);
		last = it;
	}
	assert_int_equal(i, n);
	if (tail != NULL || n == 0)
		assert_ptr_equal(tail, last);
}

static void test_front_and_remove(void **state)
{
	struct item it[4] = { { .v = 0 }, { .v = 1 }, { .v = 2 }, { .v = 3 } };
	struct item *head = NULL;
	for (int i = 0; i < 4; i++)
		DLIST_PUSH_FRONT(head, &it[i], prev, next);
	check_list(head, NULL, (int[]){ 3, 2, 1, 0 }, 4);
	DLIST_REMOVE(head, &it[2], prev, next); /* middle */
	check_list(head, NULL, (int[]){ 3, 1, 0 }, 3);
	assert_null(it[2].prev);
	assert_null(it[2].next);
	DLIST_REMOVE(head, &it[3], prev, next); /* first */
	check_list(head, NULL, (int[]){ 1, 0 }, 2);
	DLIST_REMOVE(head, &it[0], prev, next); /* last */
	check_list(head, NULL, (int[]){ 1 }, 1);
	DLIST_REMOVE(head, &it[1], prev, next);
	assert_null(head);
}

static void test_back_and_remove_tail(void **state)
{
	struct item it[3] = { { .v = 0 }, { .v = 1 }, { .v = 2 } };
	struct item *head = NULL, *tail = NULL;
	for (int i = 0; i < 3; i++)
		DLIST_PUSH_BACK(head, tail, &it[i], prev, next);
	check_list(head, tail, (int[]){ 0, 1, 2 }, 3);
	DLIST_REMOVE_TAIL(head, tail, &it[2], prev, next); /* last */
	check_list(head, tail, (int[]){ 0, 1 }, 2);
	DLIST_REMOVE_TAIL(head, tail, &it[0], prev, next); /* first */
	check_list(head, tail, (int[]){ 1 }, 1);
	DLIST_PUSH_BACK(head, tail, &it[0], prev, next);
	check_list(head, tail, (int[]){ 1, 0 }, 2);
	DLIST_REMOVE_TAIL(head, tail, &it[1], prev, next);
	DLIST_REMOVE_TAIL(head, tail, &it[0], prev, next);
	assert_null(head);
	assert_null(tail);
}

/* One element in two lists at once, through two pairs of links. */
static void test_two_lists(void **state)
{
	struct item a = { .v = 1 }, b = { .v = 2 };
	struct item *one = NULL, *other = NULL;
	DLIST_PUSH_FRONT(one, &a, prev, next);
	DLIST_PUSH_FRONT(one, &b, prev, next);
	DLIST_PUSH_FRONT(other, &a, aprev, anext);
	DLIST_REMOVE(one, &a, prev, next);
	check_list(one, NULL, (int[]){ 2 }, 1);
	assert_ptr_equal(other, &a);
	assert_null(a.anext);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_front_and_remove),
		cmocka_unit_test(test_back_and_remove_tail),
		cmocka_unit_test(test_two_lists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
