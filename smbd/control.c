#include "config.h"
#include "smbd/control.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "lib/log.h"
#include "lib/log_ratelimit.h"
#include "smbd/smb2_proto.h"

/* Loops of one process at most; each has a slot. */
#define MAX_LOOPS 64

/* A loop's announcement, alone on its cache line: loops entering and
 * leaving shared sections never write the same line. */
struct slot {
	_Alignas(64) atomic_bool taken;
	atomic_bool inside;
};

static struct slot slots[MAX_LOOPS];
static pthread_mutex_t writer = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool writing;

static __thread struct slot *mine;
static __thread unsigned shared_depth, control_depth;

bool smbd_control_join(void)
{
	for (unsigned i = 0; i < MAX_LOOPS; i++) {
		bool free_slot = false;
		if (atomic_compare_exchange_strong(&slots[i].taken, &free_slot, true)) {
			mine = &slots[i];
			return true;
		}
	}
	LOG_ERR("more than %d event loops", MAX_LOOPS);
	return false;
}

void smbd_control_part(void)
{
	if (mine == NULL)
		return;
	atomic_store(&mine->inside, false);
	atomic_store(&mine->taken, false);
	mine = NULL;
}

/*
 * The section's announcement and the writer's are both sequentially
 * consistent stores followed by a load of the other's: either the loop
 * sees the writer (and backs off until it is done) or the writer sees the
 * loop (and waits until it leaves), never neither.
 */
static void announce(void)
{
	if (mine == NULL)
		return;
	for (;;) {
		atomic_store(&mine->inside, true);
		if (!atomic_load(&writing))
			return;
		atomic_store(&mine->inside, false);
		pthread_mutex_lock(&writer); /* until the writer is done */
		pthread_mutex_unlock(&writer);
	}
}

static void withdraw(void)
{
	if (mine != NULL)
		atomic_store_explicit(&mine->inside, false, memory_order_release);
}

void smbd_shared_enter(void)
{
	if (shared_depth++ == 0 && control_depth == 0)
		announce();
}

void smbd_shared_leave(void)
{
	if (--shared_depth == 0 && control_depth == 0)
		withdraw();
}

void smbd_control_enter(void)
{
	if (control_depth++ > 0)
		return;
	if (shared_depth > 0)
		withdraw(); /* a writer waiting for this loop would wait for ever */
	pthread_mutex_lock(&writer);
	atomic_store(&writing, true);
	/* Every other loop out of its section; a section is one callback's
	 * work at most, never a wait. */
	for (unsigned i = 0; i < MAX_LOOPS; i++)
		while (&slots[i] != mine && atomic_load(&slots[i].inside))
			sched_yield();
}

void smbd_control_leave(void)
{
	if (--control_depth > 0)
		return;
	atomic_store_explicit(&writing, false, memory_order_release);
	pthread_mutex_unlock(&writer);
	if (shared_depth > 0)
		announce();
}

bool smbd_control_held(void)
{
	return control_depth > 0;
}

bool smbd_shared_held(void)
{
	return control_depth > 0 || shared_depth > 0;
}

static void rule_broken(const char *func, const char *what)
{
	static struct plog_ratelimit lines = PLOG_RATELIMIT_INIT(60);
	unsigned long more;
	if (plog_ratelimit_ok(&lines, &more))
		LOG_ERR("%s: control lock rule broken: %s (a bug; %lu more since the last such line)", func, what,
			more);
#ifdef PORTHOS_CHECKED
	abort();
#endif
}

void smbd_control_check(const char *func)
{
	if (control_depth == 0)
		rule_broken(func, "shared state changed without the control lock");
}

void smbd_shared_check(const char *func)
{
	if (control_depth == 0 && shared_depth == 0)
		rule_broken(func, "shared state reached outside a shared section");
}

bool smbd_command_is_control(uint16_t command)
{
	switch (command) {
	case SMB2_READ:
	case SMB2_WRITE:
	case SMB2_FLUSH:
	case SMB2_ECHO:
		return false;
	default:
		return true;
	}
}
