#include "config.h"
#include "smbd/loop.h"

#include <talloc.h>

#include "conf/conf.h"
#include "lib/log.h"
#include "smbd/bigbuf.h"
#include "smbd/control.h"
#include "smbd/heap_keep.h"
#include "smbd/iopool.h"
#include "smbd/loop_post.h"
#include "smbd/server.h"
#include "smbd/splice_pipe.h"
#include "smbd/vfs_uring.h"

static int loop_destructor(struct smbd_loop *loop)
{
	smbd_control_part();
	return 0;
}

struct smbd_loop *smbd_loop_new(struct smbd_server *srv, struct event_base *ev)
{
	const struct porthos_config *cfg = srv->cfg;
	struct smbd_loop *loop = talloc_zero(srv, struct smbd_loop);
	if (loop == NULL)
		return NULL;
	loop->srv = srv;
	loop->ev = ev;
	loop->thread = pthread_self();
	/* Run by the calling thread: its shared sections are announced. */
	if (!smbd_control_join())
		goto fail;
	talloc_set_destructor(loop, loop_destructor);
	loop->posts = smbd_loop_posts_new(loop, ev);
	if (loop->posts == NULL)
		goto fail;
	loop->iopool = smbd_iopool_new(loop, ev, cfg->io_threads);
	if (loop->iopool == NULL)
		goto fail;
	loop->bigbufs = smbd_bigbufs_new(loop, ev);
	loop->heap_keep = smbd_heap_keep_new(loop, ev);
	if (loop->bigbufs == NULL || loop->heap_keep == NULL)
		goto fail;
	if (cfg->splice_reads && (loop->pipes = smbd_pipes_new(loop)) == NULL)
		goto fail;
	/* io_uring when the kernel lets us; without it (or with "io threads
	 * = 0", everything inline) the workers move the data. */
	if (cfg->io_uring && cfg->io_threads > 0)
		loop->uring = vfs_uring_new(loop, ev);
	return loop;
fail:
	LOG_ERR("cannot set up an event loop: out of memory or threads");
	talloc_free(loop);
	return NULL;
}

void smbd_loop_stop_io(struct smbd_loop *loop)
{
	TALLOC_FREE(loop->uring);
	TALLOC_FREE(loop->iopool);
}

bool smbd_loop_is_current(const struct smbd_loop *loop)
{
	return pthread_equal(pthread_self(), loop->thread);
}
