#include "config.h"
#include "lib/log_ratelimit.h"

bool plog_ratelimit_ok_at(struct plog_ratelimit *r, time_t now, unsigned long *suppressed)
{
	bool ok;
	pthread_mutex_lock(&r->lock);
	ok = r->last == 0 || now - r->last >= r->interval_s;
	if (ok) {
		*suppressed = r->suppressed;
		r->suppressed = 0;
		r->last = now != 0 ? now : 1;
	} else {
		r->suppressed++;
	}
	pthread_mutex_unlock(&r->lock);
	return ok;
}

bool plog_ratelimit_ok(struct plog_ratelimit *r, unsigned long *suppressed)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return plog_ratelimit_ok_at(r, now.tv_sec, suppressed);
}
