#include "config.h"
#include "smbd/vfs_uring.h"

#include <errno.h>
#include <event2/event.h>
#include <liburing.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/log.h"

/* Room for the requests of many connections; more wait for a free slot. */
#define URING_ENTRIES 1024
/* A submission the kernel refused (no memory for it) is tried again after this. */
#define FLUSH_RETRY_US 1000

struct vfs_uring {
	struct io_uring ring;
	int efd;
	struct event *ev;
	/* Entries queued this loop turn go to the kernel together, after the
	 * turn's other callbacks: one io_uring_enter for the WRITEs of all
	 * connections that became readable at once, not one each. */
	struct event *flush_ev;
	unsigned in_flight;
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

static bool queue(struct vfs_uring *u, struct vfs_uring_req *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	if (sqe == NULL)
		return false;
	if (r->syncing || r->op == VFS_URING_FDATASYNC)
		io_uring_prep_fsync(sqe, r->fd, IORING_FSYNC_DATASYNC);
	else if (r->op == VFS_URING_READ)
		io_uring_prep_read(sqe, r->fd, (uint8_t *)r->buf + r->moved, (unsigned)(r->len - r->moved),
				   r->offset + r->moved);
	else if (r->op == VFS_URING_SPLICE_IN)
		io_uring_prep_splice(sqe, r->fd, (int64_t)(r->offset + r->moved), r->pipe_fd, -1,
				     (unsigned)(r->len - r->moved), 0);
	else if (r->op == VFS_URING_SPLICE)
		io_uring_prep_splice(sqe, r->pipe_fd, -1, r->fd, (int64_t)(r->offset + r->moved),
				     (unsigned)(r->len - r->moved), 0);
	else
		io_uring_prep_write(sqe, r->fd, (const uint8_t *)r->buf + r->moved, (unsigned)(r->len - r->moved),
				    r->offset + r->moved);
	io_uring_sqe_set_data(sqe, r);
	event_active(u->flush_ev, EV_TIMEOUT, 0); /* once per turn, however often called */
	u->in_flight++;
	return true;
}

static bool writes(const struct vfs_uring_req *r)
{
	return r->op == VFS_URING_WRITE || r->op == VFS_URING_SPLICE;
}

/* One completion: the request is done, or goes on (a short transfer, the sync). */
static void complete(struct vfs_uring *u, struct vfs_uring_req *r, int res)
{
	u->in_flight--;
	if (res < 0) {
		r->status = ntstatus_from_errno(-res);
	} else if (!r->syncing && r->op != VFS_URING_FDATASYNC) {
		r->moved += (size_t)res;
		bool more = r->moved < r->len;
		if (writes(r) && res == 0 && more)
			r->status = NT_STATUS_DISK_FULL; /* no progress, no error */
		else if (more && res > 0 && r->op != VFS_URING_SPLICE_IN && queue(u, r))
			return; /* the rest of a short transfer; a pipe that took less is full */
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
		struct vfs_uring_req *r = io_uring_cqe_get_data(cqe);
		int res = cqe->res;
		io_uring_cqe_seen(&u->ring, cqe);
		complete(u, r, res);
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
	if (r->len > UINT32_MAX)
		return false;
	return queue(u, r);
}
