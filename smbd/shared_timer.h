/*
 * Time-outs of shared objects (an oplock or lease break waiting for its
 * acknowledgment, a lease break's watch, a disconnected durable open):
 * armed and disarmed by control code on whichever loop it runs, run on
 * one loop, the server's. libevent without its thread support must only
 * be touched by its base's own thread (docs/SHARDING.md, section 7.5), so
 * these are entries of one heap under the control lock, and the server's
 * loop keeps a single libevent timer for the earliest of them.
 *
 * A timer is embedded in its owner, which disarms it before it goes.
 * Arming, disarming and the callback all hold the control lock as the
 * writer (smbd/control.h).
 */
#ifndef PORTHOS_SMBD_SHARED_TIMER_H
#define PORTHOS_SMBD_SHARED_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct smbd_loop;
struct smbd_shared_timers;

struct smbd_shared_timer {
	uint64_t due_ms;  /* CLOCK_MONOTONIC */
	size_t slot;      /* its place in the heap plus one; 0: not armed */
	void (*fn)(struct smbd_shared_timer *t);
};

/* The heap, run by loop's thread; a talloc child of loop.
 * NULL when out of memory. */
struct smbd_shared_timers *smbd_shared_timers_new(struct smbd_loop *loop);

/* Runs fn(t) in ms milliseconds (again, if armed already), on the heap's
 * loop, as the writer. False when out of memory (t is then not armed). */
bool smbd_shared_timer_arm(struct smbd_shared_timers *ts, struct smbd_shared_timer *t, uint32_t ms,
			   void (*fn)(struct smbd_shared_timer *t));
void smbd_shared_timer_disarm(struct smbd_shared_timers *ts, struct smbd_shared_timer *t);

static inline bool smbd_shared_timer_armed(const struct smbd_shared_timer *t)
{
	return t->slot != 0;
}

/* The object a timer is embedded in, from the timer fn gets. */
#define SMBD_TIMER_OWNER(t, type, member) ((type *)((char *)(t) - offsetof(type, member)))

#endif
