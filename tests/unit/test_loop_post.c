/* Work posted to a loop's thread (smbd/loop_post.h). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <talloc.h>

#include "smbd/loop_post.h"

struct item {
	struct smbd_post post; /* first */
	int poster, seq;
};

/* What the runs saw, on the loop's thread. */
static int ran[8];            /* per poster: how many, in order */
static int order_errors;
static int total, expected;
static pthread_t loop_thread;
static int off_thread;
static struct event_base *base;

static void count(struct smbd_post *p)
{
	struct item *it = (struct item *)p;
	if (!pthread_equal(pthread_self(), loop_thread))
		off_thread++;
	if (it->seq != ran[it->poster])
		order_errors++;
	ran[it->poster]++;
	if (++total == expected)
		event_base_loopbreak(base);
}

static void reset(int want)
{
	memset(ran, 0, sizeof(ran));
	order_errors = total = off_thread = 0;
	expected = want;
	loop_thread = pthread_self();
}

/* A post from the loop's own thread runs on a later turn, not inside the
 * call; posts run in the order they came, and a post queued twice once. */
static void test_own_thread_later_in_order(void **state)
{
	(void)state;
	base = event_base_new();
	struct smbd_loop_posts *q = smbd_loop_posts_new(NULL, base);
	assert_non_null(q);
	struct item items[3];
	reset(3);
	for (int i = 0; i < 3; i++) {
		items[i] = (struct item){ .poster = 0, .seq = i };
		smbd_post(q, &items[i].post, count);
	}
	assert_false(smbd_post(q, &items[1].post, count)); /* queued already: runs once */
	assert_int_equal(total, 0);
	assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
	assert_int_equal(total, 3);
	assert_int_equal(order_errors, 0);
	/* Run, it may be posted again. */
	items[0].seq = 3;
	assert_true(smbd_post(q, &items[0].post, count));
	expected = 4;
	assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
	assert_int_equal(total, 4);
	assert_int_equal(order_errors, 0);
	talloc_free(q);
	event_base_free(base);
}

#define POSTERS 3
#define PER_POSTER 20000

struct poster {
	struct smbd_loop_posts *q;
	struct item *items;
	int id;
};

static void *post_all(void *arg)
{
	struct poster *me = arg;
	for (int i = 0; i < PER_POSTER; i++) {
		me->items[i] = (struct item){ .poster = me->id, .seq = i };
		smbd_post(me->q, &me->items[i].post, count);
	}
	return NULL;
}

static void too_long(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	event_base_loopbreak(base);
}

/* Posts from other threads wake a loop asleep in epoll_wait; each runs
 * once, on the loop's thread, in the order its poster posted it. */
static void test_other_threads_wake_the_loop(void **state)
{
	(void)state;
	base = event_base_new();
	struct smbd_loop_posts *q = smbd_loop_posts_new(NULL, base);
	assert_non_null(q);
	struct event *limit = evtimer_new(base, too_long, NULL);
	struct timeval ten_s = { 10, 0 };
	evtimer_add(limit, &ten_s);
	reset(POSTERS * PER_POSTER);
	struct poster posters[POSTERS];
	pthread_t th[POSTERS];
	for (int i = 0; i < POSTERS; i++) {
		posters[i] = (struct poster){ .q = q, .id = i, .items = calloc(PER_POSTER, sizeof(struct item)) };
		assert_int_equal(pthread_create(&th[i], NULL, post_all, &posters[i]), 0);
	}
	event_base_dispatch(base);
	for (int i = 0; i < POSTERS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(total, POSTERS * PER_POSTER);
	assert_int_equal(order_errors, 0);
	assert_int_equal(off_thread, 0);
	for (int i = 0; i < POSTERS; i++) {
		assert_int_equal(ran[i], PER_POSTER);
		free(posters[i].items);
	}
	event_free(limit);
	talloc_free(q);
	event_base_free(base);
}

static struct smbd_loop_posts *unpost_q;
static struct item *unpost_victim;
static bool unposted;

static void take_back_the_next(struct smbd_post *p)
{
	count(p);
	unposted = smbd_unpost(unpost_q, &unpost_victim->post);
}

/* A post taken back does not run, whether still queued or in the batch
 * being run; one that ran, or never was posted, is not taken back. */
static void test_unpost(void **state)
{
	(void)state;
	base = event_base_new();
	struct smbd_loop_posts *q = unpost_q = smbd_loop_posts_new(NULL, base);
	assert_non_null(q);
	struct item a = { .poster = 0, .seq = 0 }, b = { .poster = 1, .seq = 0 }, c = { .poster = 0, .seq = 1 };
	reset(100);
	smbd_post(q, &a.post, count);
	smbd_post(q, &b.post, count);
	smbd_post(q, &c.post, count);
	assert_true(smbd_unpost(q, &b.post));
	assert_false(smbd_unpost(q, &b.post));
	event_base_loop(base, EVLOOP_ONCE);
	assert_int_equal(total, 2);
	assert_int_equal(ran[1], 0);
	assert_false(smbd_unpost(q, &a.post)); /* ran */

	/* In the batch: the first run takes the second back. */
	reset(100);
	a = (struct item){ .poster = 0, .seq = 0 };
	b = (struct item){ .poster = 1, .seq = 0 };
	unpost_victim = &b;
	smbd_post(q, &a.post, take_back_the_next);
	smbd_post(q, &b.post, count);
	event_base_loop(base, EVLOOP_ONCE);
	assert_true(unposted);
	assert_int_equal(total, 1);
	assert_int_equal(ran[1], 0);
	talloc_free(q);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_thread_later_in_order),
		cmocka_unit_test(test_other_threads_wake_the_loop),
		cmocka_unit_test(test_unpost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
