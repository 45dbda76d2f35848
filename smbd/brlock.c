/*
 * Byte-range locks: the range rules, the per-open lock lists, and LOCK
 * requests blocked until a conflicting lock goes away.
 */
#include "config.h"
#include "smbd/brlock.h"

#include <talloc.h>

#include "lib/dlist.h"
#include "lib/log.h"
#include "smbd/conn.h"
#include "smbd/control.h"
#include "smbd/dispatch.h"
#include "smbd/file_state.h"
#include "smbd/loop.h"
#include "smbd/loop_post.h"
#include "smbd/open.h"
#include "smbd/req.h"
#include "smbd/server.h"

struct brlock_waiter {
	/* Its retry, posted to the call's loop: a lock goes away on whichever
	 * loop its holder's connection runs. First, so the post is the waiter. */
	struct smbd_post retry;
	struct smbd_loop *loop;
	struct brlock_waiter *prev, *next;
	struct smbd_brlocks *owner; /* the waiting open's locks; NULL once it closed */
	struct smb2_call *call;
	uint64_t offset;
	uint64_t length;
	bool exclusive;
	void (*finish)(struct smb2_call *call, NTSTATUS status);
};

/* Hangs off its open (o->brlocks) and dies with it. */
struct smbd_brlocks {
	struct smbd_open *open;
	struct smbd_brlock *locks; /* talloc array of n */
	size_t n;
	struct brlock_waiter *waiters; /* this open's blocked LOCK requests */
};

/* ---- range rules ---- */

bool smbd_brlock_range_valid(uint64_t offset, uint64_t length)
{
	return length == 0 || offset <= UINT64_MAX - (length - 1);
}

/* Whether the zero-byte point x lies strictly after the first byte of a
 * non-empty range and not past its last. */
static bool point_inside(uint64_t x, uint64_t off, uint64_t len)
{
	return x > off && x - off < len;
}

bool smbd_brlock_overlap(uint64_t off_a, uint64_t len_a, uint64_t off_b, uint64_t len_b)
{
	if (len_a == 0 && len_b == 0)
		return false;
	if (len_a == 0)
		return point_inside(off_a, off_b, len_b);
	if (len_b == 0)
		return point_inside(off_b, off_a, len_a);
	/* Last bytes, which fit in 64 bits for valid ranges. */
	uint64_t last_a = off_a + (len_a - 1);
	uint64_t last_b = off_b + (len_b - 1);
	return off_a <= last_b && off_b <= last_a;
}

bool smbd_brlock_lock_conflicts(const struct smbd_brlock *held, bool held_by_requester, uint64_t offset,
				uint64_t length, bool exclusive)
{
	if (!smbd_brlock_overlap(held->offset, held->length, offset, length))
		return false;
	if (exclusive)
		return true;
	return held->exclusive && !held_by_requester;
}

bool smbd_brlock_io_conflicts(const struct smbd_brlock *held, bool held_by_requester, uint64_t offset,
			      uint64_t length, bool write)
{
	if (length == 0 || held->length == 0)
		return false;
	if (!smbd_brlock_overlap(held->offset, held->length, offset, length))
		return false;
	if (held->exclusive)
		return !held_by_requester;
	return write; /* a shared lock stops every writer, its owner too */
}

/* ---- per-open lists ---- */

static void wake_file(const struct smbd_open *o);
static void waiter_wake_cb(struct smbd_post *post);

static int brlocks_destructor(struct smbd_brlocks *bl)
{
	/* Normally smbd_brlock_close() has emptied the list; this covers an
	 * open freed without it. Waiters live under their requests: detach
	 * them and let them finish as "open closed". */
	for (struct brlock_waiter *w = bl->waiters; w != NULL; w = w->next) {
		w->owner = NULL;
		smbd_post(w->loop->posts, &w->retry, waiter_wake_cb);
	}
	bl->waiters = NULL;
	bl->open->brlocks = NULL;
	return 0;
}

static struct smbd_brlocks *brlocks_get(struct smbd_open *o)
{
	if (o->brlocks != NULL)
		return o->brlocks;
	struct smbd_brlocks *bl = talloc_zero(o, struct smbd_brlocks);
	if (bl == NULL)
		return NULL;
	bl->open = o;
	talloc_set_destructor(bl, brlocks_destructor);
	o->brlocks = bl;
	return bl;
}

size_t smbd_brlock_count(const struct smbd_open *o)
{
	return o->brlocks ? o->brlocks->n : 0;
}

const struct smbd_brlock *smbd_brlock_held(const struct smbd_open *o)
{
	return o->brlocks ? o->brlocks->locks : NULL;
}

/* Calls fn for every open of o's file; o alone when it has no file state. */
static void foreach_open(const struct smbd_open *o, void (*fn)(struct smbd_open *each, void *arg), void *arg)
{
	if (o->file != NULL)
		smbd_file_foreach_open(o, fn, arg);
	else
		fn((struct smbd_open *)o, arg);
}

struct conflict_arg {
	const struct smbd_open *self;
	uint64_t offset;
	uint64_t length;
	bool exclusive; /* lock requests */
	bool io;
	bool write;     /* I/O */
	bool found;
};

static void conflict_cb(struct smbd_open *each, void *arg)
{
	struct conflict_arg *a = arg;
	const struct smbd_brlocks *bl = each->brlocks;
	bool mine = each == a->self;
	for (size_t i = 0; bl != NULL && i < bl->n && !a->found; i++) {
		a->found = a->io ? smbd_brlock_io_conflicts(&bl->locks[i], mine, a->offset, a->length, a->write)
				 : smbd_brlock_lock_conflicts(&bl->locks[i], mine, a->offset, a->length,
							      a->exclusive);
	}
}

static bool lock_would_conflict(const struct smbd_open *o, uint64_t offset, uint64_t length, bool exclusive)
{
	struct conflict_arg a = { .self = o, .offset = offset, .length = length, .exclusive = exclusive };
	foreach_open(o, conflict_cb, &a);
	return a.found;
}

NTSTATUS smbd_brlock_check_io(const struct smbd_open *o, uint64_t offset, uint64_t length, bool write)
{
	SMBD_SHARED_HELD();
	if (length == 0)
		return NT_STATUS_OK;
	struct conflict_arg a = { .self = o, .offset = offset, .length = length, .io = true, .write = write };
	foreach_open(o, conflict_cb, &a);
	return a.found ? NT_STATUS_FILE_LOCK_CONFLICT : NT_STATUS_OK;
}

NTSTATUS smbd_brlock_lock(struct smbd_open *o, uint64_t offset, uint64_t length, bool exclusive)
{
	SMBD_CONTROL_HELD();
	if (!smbd_brlock_range_valid(offset, length))
		return NT_STATUS_INVALID_LOCK_RANGE;
	if (lock_would_conflict(o, offset, length, exclusive))
		return NT_STATUS_LOCK_NOT_GRANTED;
	struct smbd_brlocks *bl = brlocks_get(o);
	if (bl == NULL)
		return NT_STATUS_NO_MEMORY;
	struct smbd_brlock *v = talloc_realloc(bl, bl->locks, struct smbd_brlock, bl->n + 1);
	if (v == NULL)
		return NT_STATUS_NO_MEMORY;
	bl->locks = v;
	bl->locks[bl->n++] = (struct smbd_brlock){ offset, length, exclusive };
	return NT_STATUS_OK;
}

NTSTATUS smbd_brlock_unlock(struct smbd_open *o, uint64_t offset, uint64_t length)
{
	SMBD_CONTROL_HELD();
	struct smbd_brlocks *bl = o->brlocks;
	size_t found = SIZE_MAX;
	for (size_t i = 0; bl != NULL && i < bl->n; i++) {
		const struct smbd_brlock *l = &bl->locks[i];
		if (l->offset != offset || l->length != length)
			continue;
		/* Stacked locks: the exclusive one goes first (smb2.lock.unlock). */
		if (found == SIZE_MAX || (l->exclusive && !bl->locks[found].exclusive))
			found = i;
	}
	if (found == SIZE_MAX)
		return NT_STATUS_RANGE_NOT_LOCKED;
	/* Keep the order of the rest: which of equal shared locks goes next
	 * does not matter, but the list stays predictable for tests. */
	for (size_t i = found + 1; i < bl->n; i++)
		bl->locks[i - 1] = bl->locks[i];
	bl->n--;
	wake_file(o);
	return NT_STATUS_OK;
}

void smbd_brlock_drop_newest(struct smbd_open *o, size_t n)
{
	struct smbd_brlocks *bl = o->brlocks;
	if (bl == NULL)
		return;
	bl->n = n < bl->n ? bl->n - n : 0;
	/* Nobody can have started waiting on these: no loop turn has passed
	 * since they were taken. */
}

/* ---- blocked requests ---- */

static void wake_open_cb(struct smbd_open *each, void *arg)
{
	for (struct brlock_waiter *w = each->brlocks ? each->brlocks->waiters : NULL; w; w = w->next)
		smbd_post(w->loop->posts, &w->retry, waiter_wake_cb);
}

/* A lock of o's file went away: blocked requests try again on the next
 * loop turn, never from inside the caller. */
static void wake_file(const struct smbd_open *o)
{
	foreach_open(o, wake_open_cb, NULL);
}

static void waiter_unlink(struct brlock_waiter *w)
{
	struct smbd_brlocks *bl = w->owner;
	if (bl == NULL)
		return;
	DLIST_REMOVE(bl->waiters, w, prev, next);
	w->owner = NULL;
}

static int waiter_destructor(struct brlock_waiter *w)
{
	waiter_unlink(w);
	smbd_unpost(w->loop->posts, &w->retry);
	return 0;
}

/* Frees the waiter and hands the result to the LOCK handler. */
static void waiter_finish(struct brlock_waiter *w, NTSTATUS status)
{
	struct smb2_call *call = w->call;
	void (*finish)(struct smb2_call *, NTSTATUS) = w->finish;
	call->async_state = NULL;
	talloc_free(w);
	finish(call, status);
}

static void waiter_wake(struct brlock_waiter *w)
{
	if (w->owner == NULL) {
		/* The open that asked for the lock is gone. */
		waiter_finish(w, NT_STATUS_RANGE_NOT_LOCKED);
		return;
	}
	NTSTATUS status = smbd_brlock_lock(w->owner->open, w->offset, w->length, w->exclusive);
	if (NT_STATUS_EQUAL(status, NT_STATUS_LOCK_NOT_GRANTED))
		return; /* still held by someone: keep waiting */
	waiter_finish(w, status);
}

static void waiter_wake_cb(struct smbd_post *post)
{
	smbd_control_enter();
	waiter_wake((struct brlock_waiter *)post); /* retry comes first */
	smbd_control_leave();
}

static void waiter_cancel(struct smb2_call *call)
{
	struct brlock_waiter *w = call->async_state;
	if (w == NULL) {
		smbd_call_async_done(call, NT_STATUS_CANCELLED);
		return;
	}
	/* Its open already closed (a tree or session going away closes its
	 * opens): the request ends as the close ends it. */
	waiter_finish(w, w->owner == NULL ? NT_STATUS_RANGE_NOT_LOCKED : NT_STATUS_CANCELLED);
}

NTSTATUS smbd_brlock_wait(struct smb2_call *call, struct smbd_open *o, uint64_t offset, uint64_t length,
			  bool exclusive, void (*finish)(struct smb2_call *call, NTSTATUS status))
{
	SMBD_CONTROL_HELD();
	struct smbd_brlocks *bl = brlocks_get(o);
	if (bl == NULL)
		return NT_STATUS_NO_MEMORY;
	struct brlock_waiter *w = talloc_zero(call->req, struct brlock_waiter);
	if (w == NULL)
		return NT_STATUS_NO_MEMORY;
	w->loop = call->req->conn->loop;
	w->call = call;
	w->offset = offset;
	w->length = length;
	w->exclusive = exclusive;
	w->finish = finish;
	w->owner = bl;
	DLIST_PUSH_FRONT(bl->waiters, w, prev, next);
	talloc_set_destructor(w, waiter_destructor);
	call->async_state = w;
	LOG_DBG("file id %llu waits for %s lock %llu/%llu", (unsigned long long)o->volatile_id,
		exclusive ? "exclusive" : "shared", (unsigned long long)offset, (unsigned long long)length);
	return smbd_call_go_async(call, waiter_cancel);
}

void smbd_brlock_close(struct smbd_open *o)
{
	SMBD_CONTROL_HELD();
	struct smbd_brlocks *bl = o->brlocks;
	if (bl == NULL)
		return;
	/* Our own blocked requests end as "not locked" on the next turn. */
	while (bl->waiters != NULL) {
		struct brlock_waiter *w = bl->waiters;
		waiter_unlink(w);
		smbd_post(w->loop->posts, &w->retry, waiter_wake_cb);
	}
	bool had_locks = bl->n > 0;
	TALLOC_FREE(bl->locks);
	bl->n = 0;
	if (had_locks)
		wake_file(o);
}
