/*
 * One log line per interval for an event whose rate someone else decides
 * (a client's refused requests, failed accepts), with the count of those
 * not logged since. Callable from any thread: a loop of its own or a
 * worker may hit the same limit.
 */
#ifndef PORTHOS_LOG_RATELIMIT_H
#define PORTHOS_LOG_RATELIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

struct plog_ratelimit {
	pthread_mutex_t lock;
	int interval_s;
	time_t last;              /* CLOCK_MONOTONIC seconds of the last line; 0: none yet */
	unsigned long suppressed; /* events not logged since */
};

#define PLOG_RATELIMIT_INIT(seconds) { PTHREAD_MUTEX_INITIALIZER, (seconds), 0, 0 }

/* True if the event may be logged now; then *suppressed is how many were
 * not since the last line. */
bool plog_ratelimit_ok(struct plog_ratelimit *r, unsigned long *suppressed);

/* The same at a given CLOCK_MONOTONIC second (tests). */
bool plog_ratelimit_ok_at(struct plog_ratelimit *r, time_t now, unsigned long *suppressed);

#endif
