#include "config.h"
#include "smbd/splice_pipe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

/* Pipes out at once, server-wide: each is two descriptors and pins up to
 * its capacity of page-cache pages until the socket takes them. */
#define PIPES_OUT_MAX 256
/* What each pipe of a chain is asked to hold (the usual pipe-max-size),
 * and the longest chain: an 8 MiB READ takes eight. */
#define PIPE_PART_MAX (1024u * 1024)
#define PIPE_CHAIN_MAX 16
/* Empty pipes kept for the next READs (an idle one costs two
 * descriptors and its ring of page slots, about 10 KiB at 1 MiB). */
#define PIPES_IDLE_MAX 16

struct smbd_pipes {
	size_t page;
	struct smbd_pipe *idle[PIPES_IDLE_MAX];
	unsigned n_idle;
	unsigned out;
	bool orphan; /* the server is gone; the last pipe back frees this */
};

static void pipe_close(struct smbd_pipe *p)
{
	close(p->rd);
	close(p->wr);
}

static int pipe_destructor(struct smbd_pipe *p)
{
	struct smbd_pipes *pool = p->pool;
	pool->out--;
	if (!pool->orphan && p->held == 0 && pool->n_idle < PIPES_IDLE_MAX) {
		/* Kept: moved under the pool, so this free does not take it. */
		struct smbd_pipe *keep = talloc(pool, struct smbd_pipe);
		if (keep != NULL) {
			*keep = *p;
			keep->next = NULL;
			pool->idle[pool->n_idle++] = keep;
			return 0;
		}
	}
	pipe_close(p);
	if (pool->orphan && pool->out == 0) {
		talloc_set_destructor(pool, NULL);
		talloc_free(pool);
	}
	return 0;
}

static int pool_destructor(struct smbd_pipes *pool)
{
	while (pool->n_idle > 0)
		pipe_close(pool->idle[--pool->n_idle]);
	if (pool->out == 0)
		return 0;
	/* Pipes still out (a reply queued on a connection that outlives the
	 * server's state at teardown): stay until the last comes back. */
	pool->orphan = true;
	return -1;
}

struct smbd_pipes *smbd_pipes_new(TALLOC_CTX *mem)
{
	struct smbd_pipes *pool = talloc_zero(mem, struct smbd_pipes);
	if (pool == NULL)
		return NULL;
	long page = sysconf(_SC_PAGESIZE);
	pool->page = page > 0 ? (size_t)page : 4096;
	talloc_set_destructor(pool, pool_destructor);
	return pool;
}

static bool pipe_open(struct smbd_pipe *p)
{
	int fds[2];
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
		return false;
	p->rd = fds[0];
	p->wr = fds[1];
	int cap = fcntl(p->wr, F_GETPIPE_SZ);
	p->cap = cap > 0 ? (size_t)cap : 0;
	return true;
}

/* Asks p to hold len (it is empty). Beyond /proc/sys/fs/pipe-max-size
 * the kernel refuses (unless privileged): p keeps what it has. */
static void pipe_fit(struct smbd_pipe *p, size_t len)
{
	if (p->cap >= len || len > INT32_MAX)
		return;
	int got = fcntl(p->wr, F_SETPIPE_SZ, (int)len);
	if (got > 0)
		p->cap = (size_t)got;
}

/* An empty pipe from the pool, or a new one; a child of mem. */
static struct smbd_pipe *pipe_take(struct smbd_pipes *pool, TALLOC_CTX *mem)
{
	if (pool->out >= PIPES_OUT_MAX)
		return NULL;
	struct smbd_pipe *p = talloc(mem, struct smbd_pipe);
	if (p == NULL)
		return NULL;
	if (pool->n_idle > 0) {
		struct smbd_pipe *idle = pool->idle[--pool->n_idle];
		*p = *idle;
		talloc_free(idle);
	} else if (!pipe_open(p)) {
		talloc_free(p);
		return NULL;
	}
	p->pool = pool;
	p->held = 0;
	p->next = NULL;
	pool->out++;
	talloc_set_destructor(p, pipe_destructor);
	return p;
}

size_t smbd_pipe_room(const struct smbd_pipe *p, uint64_t offset)
{
	size_t skip = (size_t)(offset % p->pool->page);
	return p->cap > skip ? p->cap - skip : 0;
}

struct smbd_pipe *smbd_pipe_get(struct smbd_pipes *pool, TALLOC_CTX *mem, uint64_t offset, size_t len)
{
	if (pool == NULL || pool->orphan)
		return NULL;
	struct smbd_pipe *first = NULL, *last = NULL;
	size_t left = len;
	for (unsigned n = 0; n == 0 || left > 0; n++) {
		struct smbd_pipe *p = n < PIPE_CHAIN_MAX ? pipe_take(pool, first != NULL ? (void *)first : mem) : NULL;
		if (p != NULL)
			pipe_fit(p, (left < PIPE_PART_MAX ? left : PIPE_PART_MAX) + (size_t)(offset % pool->page));
		size_t room = p != NULL ? smbd_pipe_room(p, offset) : 0;
		if (room == 0) {
			talloc_free(p);
			talloc_free(first); /* the empty ones go back */
			return NULL;
		}
		left -= left < room ? left : room;
		offset += room;
		if (first == NULL)
			first = p;
		else
			last->next = p;
		last = p;
	}
	return first;
}

size_t smbd_pipe_held(const struct smbd_pipe *p)
{
	size_t n = 0;
	for (; p != NULL; p = p->next)
		n += p->held;
	return n;
}

bool smbd_pipe_read_all(struct smbd_pipe *p, void *buf)
{
	char *to = buf;
	for (; p != NULL; p = p->next) {
		while (p->held > 0) {
			ssize_t n = read(p->rd, to, p->held);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return false;
			to += n;
			p->held -= (size_t)n;
		}
	}
	return true;
}
