#include "config.h"
#include "smbd/vfs_uring.h"

#include <errno.h>
#include <event2/event.h>
#include <liburing.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/log.h"
#include "smbd/vfs.h"

/* Room for the requests of many connections; more wait for a free slot. */
#define URING_ENTRIES 1024
/* A submission the kernel refused (no memory for it) is tried again after this. */
#define FLUSH_RETRY_US 1000
/* How often one request is queued again after its kernel worker was
 * interrupted (interrupted()); past this the request fails. */
#define INTERRUPTED_RETRIES 8

struct vfs_uring {
	struct io_uring ring;
	int efd;
	struct event *ev;
	/* Entries queued this loop turn go to the kernel together, after the
	 * turn's other callbacks: one io_uring_enter for the WRITEs of all
	 * connections that became readable at once, not one each. */
	struct event *flush_ev;
	unsigned in_flight;
	bool chains;  /* the kernel can skip the completions of a chain's pieces */
};

static void reap(struct vfs_uring *u);

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct vfs_uring *u = arg;
	int rc = io_uring_submit(&u->ring);
	if (rc < 0 && io_uring_sq_ready(&u->ring) > 0) {
		/* The entries stay in the ring: they go with the next try. */
		LOG_WARN("io_uring submission failed (%s): tried again shortly", strerror(-rc));
		struct timeval later = { 0, FLUSH_RETRY_US };
		event_add(u->flush_ev, &later);
	}
	/* Reads the page cache holds completed during the submission: their
	 * replies go in this turn, not after another wait for the eventfd. */
	reap(u);
}

static bool writes(const struct vfs_uring_req *r)
{
	return r->op == VFS_URING_WRITE || r->op == VFS_URING_SPLICE;
}

/* The entry to queue is an fdatasync (of its own, or after a write). */
static bool syncs(const struct vfs_uring_req *r)
{
	return r->syncing || r->op == VFS_URING_FDATASYNC;
}

/* The entry for len bytes of r, from byte from of the request. */
static void prep(struct io_uring_sqe *sqe, const struct vfs_uring_req *r, size_t from, size_t len)
{
	uint64_t at = r->offset + from;
	if (syncs(r))
		io_uring_prep_fsync(sqe, r->fd, IORING_FSYNC_DATASYNC);
	else if (r->op == VFS_URING_READ)
		io_uring_prep_read(sqe, r->fd, (uint8_t *)r->buf + from, (unsigned)len, at);
	else if (r->op == VFS_URING_SPLICE_IN)
		io_uring_prep_splice(sqe, r->fd, (int64_t)at, r->pipe_fd, -1, (unsigned)len, 0);
	else if (r->op == VFS_URING_SPLICE)
		io_uring_prep_splice(sqe, r->pipe_fd, -1, r->fd, (int64_t)at, (unsigned)len, 0);
	else
		io_uring_prep_write(sqe, r->fd, (const uint8_t *)r->buf + from, (unsigned)len, at);
}

/* Where piece k of the chain queued at r->moved begins: after the first
 * piece (vfs_write_piece()), every piece is whole. */
static size_t piece_start(const struct vfs_uring_req *r, unsigned k)
{
	if (k == 0)
		return r->moved;
	return r->moved + vfs_write_piece(r->offset + r->moved, SIZE_MAX) + (size_t)(k - 1) * VFS_WRITE_PIECE;
}

/* The request that piece tag belongs to, and the piece. */
static struct vfs_uring_req *req_of(void *tag, unsigned *k)
{
	uint8_t *p = tag;
	*k = *p;
	return (struct vfs_uring_req *)((char *)(p - *k) - offsetof(struct vfs_uring_req, piece));
}

/*
 * Queues the rest of r: one entry, or for a write a chain of pieces
 * (VFS_WRITE_PIECE) linked so that one kernel worker writes them in turn.
 * All but the last are IOSQE_CQE_SKIP_SUCCESS: the chain completes once,
 * with the last piece, or with the piece that failed or came up short
 * (that fails the link, and the pieces after it are dropped without a
 * completion of their own).
 */
static bool queue(struct vfs_uring *u, struct vfs_uring_req *r)
{
	unsigned room = io_uring_sq_space_left(&u->ring);
	if (room == 0)
		return false;
	bool pieces = r->pieced && !r->syncing;
	unsigned most = pieces ? (room < VFS_URING_PIECES ? room : VFS_URING_PIECES) : 1;
	struct io_uring_sqe *prev = NULL;
	size_t from = r->moved;
	unsigned k = 0;
	do {
		size_t len = pieces ? vfs_write_piece(r->offset + from, r->len - from) : r->len - from;
		struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
		prep(sqe, r, from, len);
		r->piece[k] = (uint8_t)k;
		io_uring_sqe_set_data(sqe, &r->piece[k]);
		if (prev != NULL)
			io_uring_sqe_set_flags(prev, IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS);
		prev = sqe;
		from += len;
		k++;
	} while (pieces && from < r->len && k < most);
	event_active(u->flush_ev, EV_TIMEOUT, 0); /* once per turn, however often called */
	u->in_flight++;
	return true;
}

/*
 * The kernel worker running the entry was interrupted, having moved
 * nothing: a ptrace stop (strace or gdb attached to the server) or a
 * signal reached it. A pipe-to-file splice then ends with -ERESTARTSYS,
 * which io_uring hands on as it is (Linux 6.18); the kernel's restart
 * codes are not in the user headers.
 */
static bool interrupted(int res)
{
	enum { ERESTARTSYS_ = 512, ERESTARTNOINTR_ = 513, ERESTARTNOHAND_ = 514, ERESTART_RESTARTBLOCK_ = 516 };
	return res == -EINTR || res == -ERESTARTSYS_ || res == -ERESTARTNOINTR_ || res == -ERESTARTNOHAND_ ||
	       res == -ERESTART_RESTARTBLOCK_;
}

/* One completion (of piece k): the request is done, or goes on (a short
 * transfer, the rest of a long write, the sync). */
static void complete(struct vfs_uring *u, struct vfs_uring_req *r, unsigned k, int res)
{
	u->in_flight--;
	if (!syncs(r))
		r->moved = piece_start(r, k); /* the pieces before k were whole */
	if (interrupted(res) && r->interruptions < INTERRUPTED_RETRIES) {
		r->interruptions++;
		LOG_DBG("io_uring entry interrupted (%d): queued again", res);
		if (queue(u, r))
			return; /* the rest, from where the chain stopped */
	}
	if (res < 0) {
		r->status = ntstatus_from_errno(-res);
	} else if (!syncs(r)) {
		r->moved += (size_t)res;
		bool more = r->moved < r->len;
		if (writes(r) && res == 0 && more)
			r->status = NT_STATUS_DISK_FULL; /* no progress, no error */
		else if (more && res > 0 && r->op != VFS_URING_SPLICE_IN && queue(u, r))
			return; /* the rest: a long write, a short transfer (a pipe that took less is full) */
		else if (more && writes(r) && NT_STATUS_IS_OK(r->status))
			r->status = NT_STATUS_INSUFFICIENT_RESOURCES;
		if (NT_STATUS_IS_OK(r->status) && writes(r) && r->sync) {
			r->syncing = true;
			if (queue(u, r))
				return;
			r->status = NT_STATUS_INSUFFICIENT_RESOURCES;
		}
	}
	r->done(r);
}

static void reap(struct vfs_uring *u)
{
	struct io_uring_cqe *cqe;
	while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
		unsigned k;
		struct vfs_uring_req *r = req_of(io_uring_cqe_get_data(cqe), &k);
		int res = cqe->res;
		io_uring_cqe_seen(&u->ring, cqe);
		complete(u, r, k, res);
	}
}

static void ring_cb(evutil_socket_t fd, short what, void *arg)
{
	uint64_t n;
	while (read(fd, &n, sizeof(n)) < 0 && errno == EINTR)
		;
	reap(arg);
}

static int uring_destructor(struct vfs_uring *u)
{
	/* What is in flight finishes into live requests first (a completion
	 * may queue the rest of its request). */
	while (u->in_flight > 0) {
		struct io_uring_cqe *cqe;
		if (io_uring_sq_ready(&u->ring) > 0)
			io_uring_submit(&u->ring);
		if (io_uring_wait_cqe(&u->ring, &cqe) != 0)
			break;
		reap(u);
	}
	if (u->ev)
		event_free(u->ev);
	if (u->flush_ev)
		event_free(u->flush_ev);
	io_uring_queue_exit(&u->ring);
	close(u->efd);
	return 0;
}

struct vfs_uring *vfs_uring_new(TALLOC_CTX *mem, struct event_base *ev)
{
	struct vfs_uring *u = talloc_zero(mem, struct vfs_uring);
	if (u == NULL)
		return NULL;
	int rc = io_uring_queue_init(URING_ENTRIES, &u->ring, 0);
	if (rc < 0) {
		LOG_INFO("io_uring not available (%s): file I/O goes to the worker threads", strerror(-rc));
		talloc_free(u);
		return NULL;
	}
	u->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (u->efd < 0 || io_uring_register_eventfd(&u->ring, u->efd) != 0) {
		LOG_INFO("io_uring: no completion eventfd: file I/O goes to the worker threads");
		if (u->efd >= 0)
			close(u->efd);
		io_uring_queue_exit(&u->ring);
		talloc_free(u);
		return NULL;
	}
	u->chains = (u->ring.features & IORING_FEAT_CQE_SKIP) != 0;
	talloc_set_destructor(u, uring_destructor);
	u->ev = event_new(ev, u->efd, EV_READ | EV_PERSIST, ring_cb, u);
	u->flush_ev = evtimer_new(ev, flush_cb, u);
	if (u->ev == NULL || u->flush_ev == NULL || event_add(u->ev, NULL) != 0) {
		talloc_free(u);
		return NULL;
	}
	return u;
}

bool vfs_uring_submit(struct vfs_uring *u, struct vfs_uring_req *r)
{
	r->status = NT_STATUS_OK;
	r->syncing = false;
	r->interruptions = 0;
	if (r->len > UINT32_MAX)
		return false;
	/* Pieces make the folios of new pages small; over cached pages they
	 * would only cost a wake-up of the loop each (the kernel completes
	 * every linked request on the submitting thread). */
	r->pieced = writes(r) && u->chains && r->len > VFS_WRITE_PIECE &&
		    vfs_range_uncached(r->fd, r->offset, r->len);
	return queue(u, r);
}
