/*
 * The I/O worker pool: whom it wakes for a job, its shared work
 * (smbd_iopool_share), and the GCM messages sealed and opened with it
 * (smbd/crypto_share.c).
 */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>
#include <talloc.h>

#include "lib/crypto/random.h"
#include "lib/crypto/smb2_aead.h"
#include "smbd/crypto_share.h"
#include "smbd/iopool.h"

static double seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct meet {
	atomic_int entered;
	pthread_t who[3];
};

/* Every call waits (up to 10 s) until a second one has come in. */
static void meet_fn(void *arg)
{
	struct meet *m = arg;
	int me = atomic_fetch_add(&m->entered, 1);
	if (me < 3)
		m->who[me] = pthread_self();
	double until = seconds() + 10;
	while (atomic_load(&m->entered) < 2 && seconds() < until)
		;
}

/* A job that notes the thread it ran on. */
struct where_job {
	struct smbd_iojob base;
	pthread_t thread;
	atomic_bool ran;
	bool done;
};

static void where_work(struct smbd_iojob *job)
{
	struct where_job *j = (struct where_job *)job;
	j->thread = pthread_self();
	atomic_store(&j->ran, true);
}

static void where_done(struct smbd_iojob *job)
{
	((struct where_job *)job)->done = true;
}

/* Runs one job once every worker waits, and says on which thread. */
static pthread_t run_one(struct event_base *ev, struct smbd_iopool *p)
{
	struct where_job j = { .base = { .work = where_work, .done = where_done } };
	while (smbd_iopool_idle(p) < smbd_iopool_threads(p))
		sched_yield();
	smbd_iopool_submit(p, &j.base);
	while (!j.done)
		event_base_loop(ev, EVLOOP_ONCE);
	assert_true(atomic_load(&j.ran));
	return j.thread;
}

/* Jobs one after another go to the worker that went idle last, not
 * round the pool: its CPU and its cache are the warm ones. */
static void test_the_worker_idle_last_takes_the_next_job(void **state)
{
	struct event_base *ev = event_base_new();
	struct smbd_iopool *p = smbd_iopool_new(NULL, ev, 3);
	assert_non_null(p);
	pthread_t first = run_one(ev, p);
	for (int i = 0; i < 20; i++)
		assert_true(pthread_equal(run_one(ev, p), first));
	talloc_free(p);
	event_base_free(ev);
}

/* Freeing the pool wakes every worker, idle or not, and runs every job
 * queued before it: each done() once. */
static void test_freeing_the_pool_finishes_its_jobs(void **state)
{
	enum { JOBS = 64 };
	struct event_base *ev = event_base_new();
	struct smbd_iopool *p = smbd_iopool_new(NULL, ev, 3);
	assert_non_null(p);
	while (smbd_iopool_idle(p) < 3)
		sched_yield();
	static struct where_job jobs[JOBS];
	for (int i = 0; i < JOBS; i++) {
		jobs[i] = (struct where_job){ .base = { .work = where_work, .done = where_done } };
		smbd_iopool_submit(p, &jobs[i].base);
	}
	talloc_free(p);
	for (int i = 0; i < JOBS; i++) {
		assert_true(atomic_load(&jobs[i].ran));
		assert_true(jobs[i].done);
	}
	event_base_free(ev);
}

static void test_share_runs_beside_the_caller(void **state)
{
	struct event_base *ev = event_base_new();
	struct smbd_iopool *p = smbd_iopool_new(NULL, ev, 3);
	assert_non_null(p);
	for (int i = 0; i < 20; i++) {
		struct meet m = { 0 };
		smbd_iopool_share(p, 2, meet_fn, &m);
		/* A helper ran, at the same time as the caller, on another thread. */
		assert_true(atomic_load(&m.entered) >= 2);
		assert_false(pthread_equal(m.who[0], m.who[1]));
	}
	talloc_free(p);
	event_base_free(ev);
}

/* Jobs that hold every worker until released. */
static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cond = PTHREAD_COND_INITIALIZER;
static bool released;
static atomic_int holding;
static int done_jobs;

static void hold_work(struct smbd_iojob *job)
{
	atomic_fetch_add(&holding, 1);
	pthread_mutex_lock(&hold_lock);
	while (!released)
		pthread_cond_wait(&hold_cond, &hold_lock);
	pthread_mutex_unlock(&hold_lock);
}

static void hold_done(struct smbd_iojob *job)
{
	done_jobs++;
}

static void count_fn(void *arg)
{
	atomic_fetch_add((atomic_int *)arg, 1);
}

static void test_share_with_a_busy_pool_withdraws_its_helpers(void **state)
{
	struct event_base *ev = event_base_new();
	struct smbd_iopool *p = smbd_iopool_new(NULL, ev, 2);
	struct smbd_iojob jobs[2] = { { .work = hold_work, .done = hold_done }, { .work = hold_work, .done = hold_done } };
	smbd_iopool_submit(p, &jobs[0]);
	smbd_iopool_submit(p, &jobs[1]);
	while (atomic_load(&holding) < 2)
		;
	/* No worker is free: the caller does it all, and does not wait; a
	 * large message is sealed in one pass. */
	assert_int_equal(smbd_iopool_idle(p), 0);
	assert_false(smbd_crypto_share_wanted(p, SMB2_CIPHER_AES128_GCM, 1048576));
	atomic_int calls = 0;
	smbd_iopool_share(p, 2, count_fn, &calls);
	assert_int_equal(atomic_load(&calls), 1);

	pthread_mutex_lock(&hold_lock);
	released = true;
	pthread_cond_broadcast(&hold_cond);
	pthread_mutex_unlock(&hold_lock);
	while (done_jobs < 2)
		event_base_loop(ev, EVLOOP_ONCE);
	/* The withdrawn helpers never ran later either. */
	assert_int_equal(atomic_load(&calls), 1);
	talloc_free(p);
	event_base_free(ev);
}

/* A shared seal is the one-pass seal; a shared open gives the plaintext
 * back, and refuses (zeroing it) a message with a flipped bit. */
static void test_crypto_share_matches_one_pass(void **state)
{
	enum { LEN = 8 * 1024 * 1024 + 80 };
	static uint8_t plain[LEN], want[LEN], got[LEN];
	struct event_base *ev = event_base_new();
	struct smbd_iopool *p = smbd_iopool_new(NULL, ev, 4);
	uint8_t key[32], nonce[12], aad[32], tag_want[16], tag_got[16];
	assert_true(crypto_random(key, sizeof(key)));
	assert_true(crypto_random(nonce, sizeof(nonce)));
	assert_true(crypto_random(aad, sizeof(aad)));
	for (size_t i = 0; i < LEN; i++)
		plain[i] = (uint8_t)(i * 7 + 1);
	static const size_t lens[] = { SMBD_CRYPTO_SHARE_MIN, 1048576 + 80, 3 * 1048576 + 7, LEN };
	for (enum smb2_cipher c = SMB2_CIPHER_AES128_GCM; c <= SMB2_CIPHER_AES256_GCM; c += 2) {
		for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
			size_t len = lens[k];
			struct iovec in[3] = { { plain, 64 }, { plain + 64, 16 }, { plain + 80, len - 80 } };
			/* Shared when there is another core and an idle worker. */
			if (sysconf(_SC_NPROCESSORS_ONLN) >= 2) {
				while (smbd_iopool_idle(p) == 0)
					sched_yield();
				assert_true(smbd_crypto_share_wanted(p, c, len));
			}
			assert_true(smb2_aead_encrypt_to(c, key, nonce, aad, 32, in, 3, want, tag_want));
			assert_true(smbd_crypto_share_seal(p, c, key, nonce, aad, 32, in, 3, got, tag_got));
			assert_memory_equal(got, want, len);
			assert_memory_equal(tag_got, tag_want, 16);
			assert_true(smbd_crypto_share_open(p, c, key, nonce, aad, 32, got, len, tag_want));
			assert_memory_equal(got, plain, len);

			memcpy(got, want, len);
			got[len - 1] ^= 0x80;
			assert_false(smbd_crypto_share_open(p, c, key, nonce, aad, 32, got, len, tag_want));
			static const uint8_t zero[4096];
			assert_memory_equal(got, zero, sizeof(zero));
			assert_memory_equal(got + len - 16, zero, 16);
		}
	}
	/* Small, CCM, or no pool: one pass. */
	assert_false(smbd_crypto_share_wanted(p, SMB2_CIPHER_AES128_GCM, SMBD_CRYPTO_SHARE_MIN - 1));
	assert_false(smbd_crypto_share_wanted(p, SMB2_CIPHER_AES128_CCM, LEN));
	assert_false(smbd_crypto_share_wanted(NULL, SMB2_CIPHER_AES128_GCM, LEN));
	talloc_free(p);
	event_base_free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_worker_idle_last_takes_the_next_job),
		cmocka_unit_test(test_freeing_the_pool_finishes_its_jobs),
		cmocka_unit_test(test_share_runs_beside_the_caller),
		cmocka_unit_test(test_share_with_a_busy_pool_withdraws_its_helpers),
		cmocka_unit_test(test_crypto_share_matches_one_pass),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
