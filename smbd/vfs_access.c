#include "config.h"

#include <fcntl.h>
#include <unistd.h>

#include "smbd/vfs.h"

bool vfs_may(int fd, int mode)
{
	/* AT_EMPTY_PATH: the check is on the object fd already holds, with
	 * no second path walk for a rename to race with. */
	return faccessat(fd, "", mode, AT_EACCESS | AT_EMPTY_PATH) == 0;
}
