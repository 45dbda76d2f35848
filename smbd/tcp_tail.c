#include "config.h"
#include "smbd/tcp_tail.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "smbd/transport.h"
#include "smbd/vfs_uring.h"

/* The pipe between socket and file: a 1 MiB WRITE fits whole, so the
 * socket is never left waiting for the file; if the system allows less,
 * the transfer takes more steps. */
#define TAIL_PIPE_SIZE (1024 * 1024)
/* A ring with no room is tried again after this. */
#define TAIL_RETRY_US 1000
/*
 * The file gets the pipe in pieces of this much while the rest arrives,
 * so the copy into the page cache runs beside the sender's copy into its
 * socket: one stream of 1 MiB WRITEs, 1,920-1,960 -> 2,160-2,220 MB/s
 * (docs/PERFORMANCE.md, "Memory the host takes back"). 128 KiB did as
 * well; each piece is one hand-off to a kernel worker.
 */
#define TAIL_PIECE (256 * 1024)
/* Waiting for less than this, the socket wakes the loop as it likes. */
#define TAIL_LOWAT_MIN (16 * 1024)

struct tcp_tail {
	struct event_base *ev;
	struct vfs_uring *uring;
	int sock;
	int pipe_r, pipe_w;
	size_t pipe_cap;            /* what the pipe holds (F_GETPIPE_SZ) */
	int lowat;                  /* the socket's SO_RCVLOWAT while raised, else 0 */
	struct event *sock_ev;      /* the socket readable, or its stall time-out */
	struct event *kick_ev;      /* a deferred step() */
	struct timeval stall;
	bool stall_on;

	/* The transfer */
	bool active;
	size_t len;
	size_t from_sock;           /* bytes still to come from the socket */
	size_t in_pipe;             /* in the pipe, not yet given to the file */
	bool file_busy;             /* a file splice in flight (ureq) */
	bool pipe_full;
	struct smbd_tail_write *w;  /* NULL: nothing to write to */
	bool writing;               /* w, and no write has failed */
	NTSTATUS status;
	const char *broken;         /* the socket failed or stalled */
	bool aborted;
	bool sock_done;             /* ended() was told: the socket is the transport's again */
	tcp_tail_ended_fn ended;
	void *arg;
	tcp_tail_idle_fn idle;      /* idle again after ended() was told */
	void *idle_arg;
	struct vfs_uring_req ureq;
};

static void step(struct tcp_tail *t);

/* Drops what the pipe holds (a failed transfer's data): on the stack, as
 * every loop's thread may do it at once, and it is rare. */
static void drain_pipe(struct tcp_tail *t)
{
	uint8_t junk[16 * 1024];
	while (read(t->pipe_r, junk, sizeof(junk)) > 0)
		;
	t->in_pipe = 0;
}

/* The pipe has no free slot: the socket must wait for the file. */
static bool pipe_is_full(const struct tcp_tail *t)
{
	struct pollfd p = { .fd = t->pipe_w, .events = POLLOUT };
	return poll(&p, 1, 0) == 0;
}

static void file_done(struct vfs_uring_req *r)
{
	struct tcp_tail *t = r->private_data;
	t->file_busy = false;
	t->pipe_full = false;
	if (NT_STATUS_IS_OK(r->status)) {
		t->w->moved += r->moved;
	} else if (t->writing) {
		/* The rest of the data is read and dropped; the WRITE fails. */
		t->status = r->status;
		t->writing = false;
		drain_pipe(t);
	}
	step(t);
}

static void write_pipe_to_file(struct tcp_tail *t)
{
	bool last = t->from_sock == 0;
	t->ureq = (struct vfs_uring_req){
		.op = VFS_URING_SPLICE,
		.fd = t->w->fd,
		.pipe_fd = t->pipe_r,
		.len = t->in_pipe,
		.offset = t->w->offset + t->w->moved,
		.sync = last && t->w->sync,
		.done = file_done,
		.private_data = t,
	};
	if (!vfs_uring_submit(t->uring, &t->ureq)) {
		struct timeval later = { 0, TAIL_RETRY_US };
		event_add(t->kick_ev, &later);
		return;
	}
	t->file_busy = true;
	t->in_pipe = 0;
}

/*
 * What the socket should hold before the loop reads it again: the rest
 * of the data, as much as the pipe has room for, and no more than the
 * next piece for the file when the file could take one now. The room
 * leaves out only what waits in the pipe for the file, not a piece the
 * file is taking: if that fills the pipe, reading stops (pipe_full) and
 * goes on when the file is done.
 */
static size_t worth_waking_for(const struct tcp_tail *t)
{
	size_t want = t->from_sock;
	if (t->writing) {
		size_t room = t->pipe_cap > t->in_pipe ? t->pipe_cap - t->in_pipe : 0;
		if (want > room)
			want = room;
		if (!t->file_busy && t->in_pipe < TAIL_PIECE && want > TAIL_PIECE - t->in_pipe)
			want = TAIL_PIECE - t->in_pipe;
	}
	return want;
}

/*
 * The socket wakes the loop once that much is in (SO_RCVLOWAT), not for
 * every few segments the sender's copy lets through: a 1 MiB WRITE on
 * loopback woke the loop five or six times, each a sleep and a wake-up,
 * which are dear in a guest. TCP still wakes the reader early when its
 * window runs short (tcp_epollin_ready()), and grows the receive buffer
 * to hold the mark, up to half of tcp_rmem's largest. Best effort: if it
 * cannot be set, the loop only wakes more often.
 */
static void set_lowat(struct tcp_tail *t, size_t want)
{
	int v = want >= TAIL_LOWAT_MIN ? (int)want : 0;
	if (v == t->lowat)
		return;
	int set = v > 0 ? v : 1; /* 1 is the default */
	if (setsockopt(t->sock, SOL_SOCKET, SO_RCVLOWAT, &set, sizeof(set)) == 0)
		t->lowat = v;
	else if (v == 0) /* the next frame's header would wait for the old mark */
		LOG_ERR("cannot put a socket's low-water mark back: %s", strerror(errno));
}

/* The mark is raised only while the loop waits for the socket. */
static void wait_for_socket(struct tcp_tail *t)
{
	set_lowat(t, worth_waking_for(t));
	event_add(t->sock_ev, t->stall_on ? &t->stall : NULL);
}

static void stop_waiting_for_socket(struct tcp_tail *t)
{
	event_del(t->sock_ev);
	set_lowat(t, 0);
}

/* Reads what the socket has, into the pipe, or drops it: TCP's MSG_TRUNC
 * discards the bytes in the kernel, with no buffer to copy them to. */
static void read_socket(struct tcp_tail *t)
{
	while (t->from_sock > 0) {
		ssize_t n;
		if (t->writing)
			n = splice(t->sock, NULL, t->pipe_w, NULL, t->from_sock, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		else
			n = recv(t->sock, NULL, t->from_sock, MSG_TRUNC);
		if (n > 0) {
			t->from_sock -= (size_t)n;
			if (t->writing)
				t->in_pipe += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			t->pipe_full = t->writing && pipe_is_full(t);
			return;
		}
		t->broken = n == 0 ? "closed by peer" : "socket error";
		return;
	}
}

/* The transfer is over: the WRITE's end first, then the transport's. */
static void finish(struct tcp_tail *t)
{
	stop_waiting_for_socket(t);
	event_del(t->kick_ev);
	if (t->in_pipe > 0)
		drain_pipe(t);
	struct smbd_tail_write *w = t->w;
	const char *why = t->broken;
	bool tell = !t->aborted && !t->sock_done;
	tcp_tail_ended_fn ended = t->ended;
	void *arg = t->arg;
	t->active = false;
	t->w = NULL;
	if (w != NULL) {
		w->status = NT_STATUS_IS_OK(t->status) && (why != NULL || t->aborted) ? NT_STATUS_CONNECTION_DISCONNECTED
										      : t->status;
		w->done(w);
	}
	/* Last: ended() may start the next transfer, idle() make it wait no more. */
	if (tell)
		ended(arg, why);
	else if (!t->aborted && t->idle != NULL)
		t->idle(t->idle_arg);
}

/* What comes next, after any event of the transfer. */
static void step(struct tcp_tail *t)
{
	if (!t->active)
		return;
	if (!t->aborted && t->broken == NULL)
		read_socket(t);
	if (t->aborted || t->broken != NULL) {
		/* A socket at its end stays readable: no more wake-ups from it. */
		stop_waiting_for_socket(t);
		if (!t->file_busy)
			finish(t);
		return;
	}
	/* To the file once a piece is in, the data is all in, or the pipe is full. */
	if (t->writing && !t->file_busy && t->in_pipe > 0 &&
	    (t->in_pipe >= TAIL_PIECE || t->from_sock == 0 || t->pipe_full))
		write_pipe_to_file(t);
	/* Wait for the socket only while there is room for what it brings. */
	if (t->from_sock > 0 && !t->pipe_full)
		wait_for_socket(t);
	else
		stop_waiting_for_socket(t);
	if (t->from_sock == 0 && t->in_pipe == 0 && !t->file_busy) {
		finish(t);
	} else if (t->from_sock == 0 && !t->sock_done) {
		/* All in from the socket, the file still writing: the transport
		 * reads on (the next WRITE's data into another pipe) while this
		 * one goes to the file. Last: ended() may start that transfer. */
		t->sock_done = true;
		t->ended(t->arg, NULL);
	}
}

/* Bytes in the socket not read yet: below the low-water mark they wake
 * nobody, so a sender slower than the mark looks stalled until asked. */
static bool socket_has_bytes(const struct tcp_tail *t)
{
	int n = 0;
	return ioctl(t->sock, FIONREAD, &n) == 0 && n > 0;
}

static void sock_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_tail *t = arg;
	if ((what & EV_TIMEOUT) && !socket_has_bytes(t)) {
		LOG_INFO("frame stalled with %zu of its %zu data bytes to come", t->from_sock, t->len);
		t->broken = "frame stalled";
	}
	step(t);
}

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
	step(arg);
}

void tcp_tail_start(struct tcp_tail *t, size_t len, const uint8_t *pre, size_t pre_len,
		    struct smbd_tail_write *w, const struct timeval *stall, tcp_tail_ended_fn ended, void *arg)
{
	t->active = true;
	t->len = len;
	t->from_sock = len - pre_len;
	t->in_pipe = 0;
	t->file_busy = false;
	t->pipe_full = false;
	t->w = w;
	t->writing = w != NULL;
	t->status = NT_STATUS_OK;
	t->broken = NULL;
	t->aborted = false;
	t->sock_done = false;
	t->ended = ended;
	t->arg = arg;
	t->stall_on = stall != NULL;
	if (stall != NULL)
		t->stall = *stall;
	if (w != NULL)
		w->moved = 0;
	if (t->writing && pre_len > 0) {
		/* What the transport had read past the header: a few KiB into an
		 * empty pipe, which takes it whole. */
		ssize_t n = write(t->pipe_w, pre, pre_len);
		if (n == (ssize_t)pre_len) {
			t->in_pipe = pre_len;
		} else {
			if (n > 0)
				drain_pipe(t);
			t->status = NT_STATUS_INSUFFICIENT_RESOURCES;
			t->writing = false;
		}
	}
	/* The first step on the next loop turn, so no callback runs from here. */
	event_active(t->kick_ev, 0, 0);
}

void tcp_tail_abort(struct tcp_tail *t)
{
	if (!t->active || t->aborted)
		return;
	t->aborted = true;
	stop_waiting_for_socket(t);
	event_del(t->kick_ev);
	event_active(t->kick_ev, 0, 0);
}

size_t tcp_tail_received(const struct tcp_tail *t)
{
	return t->active ? t->len - t->from_sock : 0;
}

bool tcp_tail_idle(const struct tcp_tail *t)
{
	return !t->active;
}

static int tail_destructor(struct tcp_tail *t)
{
	if (t->sock_ev)
		event_free(t->sock_ev);
	if (t->kick_ev)
		event_free(t->kick_ev);
	close(t->pipe_r);
	close(t->pipe_w);
	return 0;
}

struct tcp_tail *tcp_tail_new(TALLOC_CTX *mem, struct event_base *ev, struct vfs_uring *u, int sock,
			      tcp_tail_idle_fn idle, void *idle_arg)
{
	int p[2];
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0) {
		LOG_INFO("no pipe for a WRITE's data (%s): read as usual", strerror(errno));
		return NULL;
	}
	struct tcp_tail *t = talloc_zero(mem, struct tcp_tail);
	if (t == NULL) {
		close(p[0]);
		close(p[1]);
		return NULL;
	}
	t->ev = ev;
	t->uring = u;
	t->sock = sock;
	t->pipe_r = p[0];
	t->pipe_w = p[1];
	t->idle = idle;
	t->idle_arg = idle_arg;
	talloc_set_destructor(t, tail_destructor);
	/* Best effort: a smaller pipe only means more steps. */
	(void)fcntl(t->pipe_w, F_SETPIPE_SZ, TAIL_PIPE_SIZE);
	int cap = fcntl(t->pipe_w, F_GETPIPE_SZ);
	t->pipe_cap = cap > 0 ? (size_t)cap : 0;
	t->sock_ev = event_new(ev, sock, EV_READ | EV_PERSIST, sock_cb, t);
	t->kick_ev = evtimer_new(ev, kick_cb, t);
	if (t->sock_ev == NULL || t->kick_ev == NULL) {
		talloc_free(t);
		return NULL;
	}
	return t;
}
