#include "config.h"
#include "smbd/control.h"

#include <pthread.h>
#include <stdlib.h>

#include "lib/log.h"
#include "lib/log_ratelimit.h"
#include "smbd/smb2_proto.h"

static pthread_mutex_t control = PTHREAD_MUTEX_INITIALIZER;
static __thread unsigned depth;

void smbd_control_enter(void)
{
	if (depth++ == 0)
		pthread_mutex_lock(&control);
}

void smbd_control_leave(void)
{
	if (--depth == 0)
		pthread_mutex_unlock(&control);
}

bool smbd_control_held(void)
{
	return depth > 0;
}

void smbd_control_check(const char *func)
{
	if (depth > 0)
		return;
	static struct plog_ratelimit lines = PLOG_RATELIMIT_INIT(60);
	unsigned long more;
	if (plog_ratelimit_ok(&lines, &more))
		LOG_ERR("%s: shared state changed without the control mutex (a bug; %lu more since the last "
			"such line)", func, more);
#ifdef PORTHOS_CHECKED
	abort();
#endif
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
