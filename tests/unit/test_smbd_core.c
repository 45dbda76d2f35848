/* Core tables of the engine: the id table and the credit window. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/idtable.h"
#include "smbd/credits.h"
#include "smbd/logon_backoff.h"

static void test_idtable_add_find_remove(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct idtable *t = idtable_new(mem, 1000);
	int objs[300];
	uint64_t ids[300];
	for (int i = 0; i < 300; i++) {
		ids[i] = idtable_add(t, &objs[i]);
		assert_true(ids[i] >= 1 && ids[i] <= 1000);
	}
	assert_int_equal(idtable_count(t), 300);
	/* Remove every other one; the rest must still be found (backward shift). */
	for (int i = 0; i < 300; i += 2)
		assert_ptr_equal(idtable_remove(t, ids[i]), &objs[i]);
	for (int i = 0; i < 300; i++)
		assert_ptr_equal(idtable_find(t, ids[i]), (i % 2) ? &objs[i] : NULL);
	assert_null(idtable_find(t, 0));
	assert_null(idtable_remove(t, ids[0]));
	assert_int_equal(idtable_count(t), 150);
	talloc_free(mem);
}

static void test_idtable_ids_not_reused_at_once(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct idtable *t = idtable_new(mem, 1000);
	int a, b;
	uint64_t id = idtable_add(t, &a);
	idtable_remove(t, id);
	assert_true(idtable_add(t, &b) != id);
	talloc_free(mem);
}

static void test_idtable_full_and_chosen_ids(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct idtable *t = idtable_new(mem, 3);
	int x;
	assert_true(idtable_add_id(t, 2, &x));
	assert_false(idtable_add_id(t, 2, &x));
	assert_false(idtable_add_id(t, 0, &x));
	assert_false(idtable_add_id(t, 4, &x));
	assert_int_not_equal(idtable_add(t, &x), 0);
	assert_int_not_equal(idtable_add(t, &x), 0);
	assert_int_equal(idtable_add(t, &x), 0); /* full */
	talloc_free(mem);
}

static int visits;
static void count_and_remove(uint64_t id, void *obj, void *arg)
{
	visits++;
	idtable_remove(arg, id);
}

static void test_idtable_foreach_may_remove(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct idtable *t = idtable_new(mem, UINT64_MAX - 1);
	int x;
	for (int i = 0; i < 100; i++)
		idtable_add(t, &x);
	visits = 0;
	idtable_foreach(t, count_and_remove, t);
	assert_int_equal(visits, 100);
	assert_int_equal(idtable_count(t), 0);
	talloc_free(mem);
}

static void test_credits_window(void **state)
{
	struct smbd_credits c;
	smbd_credits_init(&c);
	/* Only message id 0 is allowed at first. */
	assert_false(smbd_credits_consume(&c, 1, 1));
	assert_true(smbd_credits_consume(&c, 0, 1));
	assert_false(smbd_credits_consume(&c, 0, 1)); /* no replay */
	assert_int_equal(smbd_credits_grant(&c, 10), 10);
	/* Out of order inside the window is fine, once each. */
	assert_true(smbd_credits_consume(&c, 5, 1));
	assert_false(smbd_credits_consume(&c, 5, 1));
	assert_true(smbd_credits_consume(&c, 1, 4)); /* multi-credit: ids 1..4 */
	assert_false(smbd_credits_consume(&c, 10, 2)); /* 11 is past the window */
	assert_true(smbd_credits_consume(&c, 6, 5));
	assert_false(smbd_credits_consume(&c, 11, 1));
}

static void test_credits_never_zero(void **state)
{
	struct smbd_credits c;
	smbd_credits_init(&c);
	assert_true(smbd_credits_consume(&c, 0, 1));
	/* A client asking for nothing still gets one credit back. */
	assert_int_equal(smbd_credits_grant(&c, 0), 1);
	assert_true(smbd_credits_consume(&c, 1, 1));
}

static void test_credits_capped(void **state)
{
	struct smbd_credits c;
	smbd_credits_init(&c);
	uint32_t total = 1;
	for (int i = 0; i < 10; i++)
		total += smbd_credits_grant(&c, 65535);
	/* Exactly the maximum: smbtorture's credits tests expect 8192. */
	assert_int_equal(total, SMBD_CREDITS_MAX);
	/* Ids far beyond the window are refused, not wrapped into it. */
	assert_false(smbd_credits_consume(&c, SMBD_CREDITS_WINDOW + 5, 1));
	assert_false(smbd_credits_consume(&c, UINT64_MAX, 1));
}

static void test_backoff_doubles_to_ceiling(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbd_backoff *b = smbd_backoff_new(mem, 4000);
	for (int i = 0; i < SMBD_BACKOFF_FREE_FAILURES; i++)
		assert_int_equal(smbd_backoff_failure(b, "192.0.2.1", 100), 0);
	assert_int_equal(smbd_backoff_failure(b, "192.0.2.1", 100), 500);
	assert_int_equal(smbd_backoff_failure(b, "192.0.2.1", 100), 1000);
	assert_int_equal(smbd_backoff_failure(b, "192.0.2.1", 100), 2000);
	assert_int_equal(smbd_backoff_failure(b, "192.0.2.1", 100), 4000);
	for (int i = 0; i < 100; i++)
		assert_int_equal(smbd_backoff_failure(b, "192.0.2.1", 100), 4000);
	/* Another address is not affected. */
	assert_int_equal(smbd_backoff_failure(b, "192.0.2.2", 100), 0);
	talloc_free(mem);
}

static void test_backoff_forgiven(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbd_backoff *b = smbd_backoff_new(mem, 8000);
	for (int i = 0; i < 10; i++)
		smbd_backoff_failure(b, "a", 100);
	/* A success from the address forgets it... */
	smbd_backoff_success(b, "a");
	assert_int_equal(smbd_backoff_failure(b, "a", 101), 0);
	for (int i = 0; i < 10; i++)
		smbd_backoff_failure(b, "a", 102);
	/* ...and so does a long quiet period. */
	assert_int_equal(smbd_backoff_failure(b, "a", 102 + SMBD_BACKOFF_FORGET_S + 1), 0);
	/* Off: never a delay. */
	struct smbd_backoff *off = smbd_backoff_new(mem, 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(smbd_backoff_failure(off, "a", 100), 0);
	talloc_free(mem);
}

static void test_backoff_table_bounded(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbd_backoff *b = smbd_backoff_new(mem, 8000);
	char addr[32];
	/* Many more addresses than remembered: memory stays fixed, the oldest go. */
	for (int i = 0; i < 3 * SMBD_BACKOFF_ADDRESSES; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		smbd_backoff_failure(b, addr, i);
	}
	size_t before = talloc_total_size(b);
	for (int i = 0; i < SMBD_BACKOFF_ADDRESSES; i++) {
		snprintf(addr, sizeof(addr), "11.0.%d.%d", (i >> 8) & 255, i & 255);
		smbd_backoff_failure(b, addr, 1000000 + i);
	}
	assert_int_equal(talloc_total_size(b), before);
	talloc_free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idtable_add_find_remove),
		cmocka_unit_test(test_idtable_ids_not_reused_at_once),
		cmocka_unit_test(test_idtable_full_and_chosen_ids),
		cmocka_unit_test(test_idtable_foreach_may_remove),
		cmocka_unit_test(test_credits_window),
		cmocka_unit_test(test_credits_never_zero),
		cmocka_unit_test(test_credits_capped),
		cmocka_unit_test(test_backoff_doubles_to_ceiling),
		cmocka_unit_test(test_backoff_forgiven),
		cmocka_unit_test(test_backoff_table_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
