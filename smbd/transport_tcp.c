/*
 * Direct TCP transport (MS-SMB2 2.1): each PDU is preceded by a 4-byte
 * header, a zero byte and a 24-bit big-endian length.
 */
#include "config.h"
#include "smbd/transport_tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <talloc.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "lib/dlist.h"
#include "lib/idtable.h"
#include "lib/log.h"
#include "lib/log_ratelimit.h"
#include "lib/wire.h"
#include "smbd/conn.h"
#include "smbd/control.h"
#include "smbd/loop.h"
#include "smbd/server.h"
#include "smbd/smb2_proto.h"
#include "smbd/tcp_spliced.h"
#include "smbd/tcp_tail.h"
#include "smbd/transport.h"

/*
 * What one connection can make the server hold (docs/SECURITY.md, Limits):
 *
 * - Input. A frame under DIRECT_READ_MIN waits in the input buffer, so at
 *   most that much per connection, and one read (SMALL_READ) past it. A
 *   larger one is read into a buffer of its own that grows as its bytes
 *   arrive (DIRECT_INITIAL, then 4 times bigger each time it fills): a
 *   header that claims 8 MiB costs no more than DIRECT_INITIAL until the
 *   bytes come. A sealed or signed frame's buffer has its full size at
 *   once, so the engine can check it in place as it arrives
 *   (smbd/arrival_check.h); heap pages no frame touched before cost
 *   memory only as the bytes land (smbd/heap_keep.h). Before such a
 *   frame is read, its declared length is reserved from a
 *   server-wide budget (rx_budget), so all partly received large frames
 *   together never pass it, however many connections send them; a frame
 *   that does not fit waits, its connection paused, in a FIFO until others
 *   finish. Reserving the declared length rather than what has arrived so
 *   far is what keeps this free of deadlock: a frame that got its
 *   reservation can always be completed. So that headers alone cannot hold
 *   the budget while others wait, a frame that then arrives slower than
 *   CONTENDED_MIN_RATE (after CONTENDED_GRACE_MS) loses its connection.
 *   A large WRITE that is neither signed nor sealed is split instead: its
 *   header is delivered and its data goes from the socket to the file
 *   (smbd/tcp_tail.h), through a pipe that holds at most 1 MiB; it is
 *   budgeted like a frame read directly.
 * - Stalls. A frame that stops arriving part way is dropped after
 *   smbd_conn_frame_timeout() without a byte; the clock runs only while
 *   the server is reading (not while it holds the connection back).
 * - Output. A client that does not read its replies: once its unsent
 *   replies pass out_high, its requests are no longer read (those already
 *   received still finish) until the replies drain below out_low.
 *   SMB Direct needs no such rule: its send credits pace the peer.
 */

/*
 * Frames at least this big are read straight into their own buffer:
 * libevent 2.1's evbuffer reads 4 KiB per call, which made a 1 MiB WRITE
 * cost some 260 loop turns and a copy (docs/PERFORMANCE.md).
 */
#define DIRECT_READ_MIN 65536
/*
 * Smaller ones are read into the connection's input buffer (the
 * bufferevent only writes), up to this much per call: libevent 2.1 reads
 * 4 KiB at a time with a FIONREAD before each, so a 4 KiB WRITE took four
 * system calls.
 */
#define SMALL_READ (64u * 1024)
/*
 * After a split WRITE (below) the next frame is most often another: only
 * this much is read while the buffer is empty, a WRITE's header with
 * the DataOffset every client uses (MS-SMB2 2.2.21: 0x70), so all of its
 * data goes from the socket to the pipe. Read whole, 64 KiB of it came
 * into this buffer and went to the pipe by write(2): two copies more.
 */
#define WRITE_HEAD_READ (4u + SMB2_HDR_LEN + 48)
/*
 * The first buffer of such a frame, and how it grows as the bytes arrive:
 * few steps, since each may copy what came so far (a 1 MiB WRITE takes
 * one, an 8 MiB one three).
 */
#define DIRECT_INITIAL (256u * 1024)
#define DIRECT_GROWTH 4
/*
 * A sealed frame is read in pieces of at most this much, each offered to
 * the engine as it lands, so its decryption on a worker runs beside the
 * reading of the rest even when the whole frame is already queued.
 */
#define DIRECT_OFFER_STEP (64u * 1024)
/* Partly received large frames, all connections together: at least this,
 * and at least RX_BUDGET_FRAMES frames of "max pdu size". */
#define RX_BUDGET_MIN (256u * 1024 * 1024)
#define RX_BUDGET_FRAMES 4
/* While frames wait for budget, those being read must move at least this
 * fast on average, counted from CONTENDED_GRACE_MS after they began: 2 Mbit/s,
 * slow for the links virtual disks are served over, fast for a drip. */
#define CONTENDED_MIN_RATE (256u * 1024)
#define CONTENDED_GRACE_MS 2000
/* Unsent output above which a connection's requests are not read: at
 * least this and "max pdu size" (one largest reply); reading resumes at
 * half of it. */
#define OUT_HIGH_MIN (4u * 1024 * 1024)
/*
 * Split WRITEs whose data a connection may have on its way to the file at
 * once: while one pipe is written to the file, the next WRITE's data
 * comes into another (a queue of 1 MiB WRITEs on one connection: the file
 * copy and the socket's no longer take turns). Each holds up to 1 MiB of
 * received pages; a WRITE that finds all busy waits for one (TAIL_BUSY).
 */
#define TCP_TAILS 2
/* A reply of more pieces than this is queued, not sent at once (send_now). */
#define SEND_NOW_IOV 64
/* Refused connections and accept failures are logged at most this often. */
#define LOG_INTERVAL_S 10
/* An accept that fails for want of descriptors or memory is retried after this. */
#define ACCEPT_RETRY_MS 100

struct tcp_transport;

/* What the TCP connections of one server share (srv->tcp). */
struct smbd_tcp_state {
	struct smbd_server *srv;
	size_t rx_budget, rx_reserved;
	struct tcp_transport *all;                  /* every connection */
	struct tcp_transport *wait_head, *wait_tail; /* waiting for rx budget, FIFO */
	struct event *evict_ev;     /* every second while frames wait for budget */
	struct plog_ratelimit refused_log, accept_log; /* LOG_INTERVAL_S */
};

struct tcp_transport {
	struct smbd_transport base;
	struct smbd_loop *loop;    /* runs this socket's events, the connection's loop */
	struct smbd_tcp_state *st;  /* NULL once the server's state is gone */
	struct tcp_transport *prev, *next;   /* st->all */
	struct tcp_transport *wprev, *wnext; /* st->wait_* while budget_wait */
	struct bufferevent *bev;    /* the output */
	struct evbuffer *in;        /* received bytes of small frames */
	struct event *read_ev;      /* the socket readable, or the stall time-out */
	bool read_on;               /* read_ev is added */
	struct event *wake_ev;      /* handles buffered input on the next loop turn */
	bool closing;
	/* Reading stops while any of these holds. */
	bool engine_paused;         /* set_receiving(false) */
	bool output_paused;         /* unsent replies above out_high */
	bool budget_wait;           /* queued for rx budget */
	bool stall_armed;           /* read_ev has the stall time-out */
	size_t want;                /* the frame length waited for */
	size_t reserved;            /* rx budget held for the frame being read */
	size_t out_high, out_low;
	struct timeval stall_tv;    /* smbd_conn_frame_timeout() */
	bool stall_on;              /* ... unless that is 0 */
	/* A large frame being read directly (read_ev is paused). */
	struct event *direct_ev;
	uint8_t *direct_pdu;
	size_t direct_len, direct_got, direct_cap;
	/* Its buffer is whole and the engine opens it as it arrives: read it
	 * in pieces, each offered (smbd_conn_recv_partial). */
	bool direct_offer;
	uint64_t direct_start_ms;   /* CLOCK_MONOTONIC; a split frame's too */
	/* A split frame (a WRITE whose data goes to the file, tcp_tail.h). */
	struct tcp_tail *tails[TCP_TAILS]; /* made as they are needed */
	struct tcp_tail *tail;      /* the one taking the socket's bytes */
	bool tail_wait;             /* a WRITE to split waits for one to be idle */
	bool tail_active;           /* its header delivered, its data not all in */
	bool tail_offered;          /* ... the header being delivered now */
	struct smbd_tail_write *tail_claim;
	size_t tail_head;           /* the header's length */
	bool tail_last;             /* the last frame was split: read the next header alone */
	/* READ replies whose data is in a pipe (tcp_spliced.h), with what
	 * was sent after them; made with the first one. */
	struct tcp_spliced *spliced;
};

struct tcp_listener {
	struct smbd_tcp_state *st;
	struct evconnlistener *l;
	struct event *retry;        /* re-enables it after a failed accept */
};

static void tcp_read_frames(struct tcp_transport *tt);

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void sockaddr_to_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	uint16_t port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(buf, len, "%s:%u", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		snprintf(buf, len, "[%s]:%u", host, port);
	} else {
		snprintf(buf, len, "unknown");
	}
}

static void sockaddr_to_addr(const struct sockaddr *sa, char *buf, size_t len)
{
	const void *a = sa->sa_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
						  : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
	if (inet_ntop(sa->sa_family, a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "unknown");
}

/* ---------------------------------------------------------------- reading */

static bool tcp_may_read(const struct tcp_transport *tt)
{
	return !tt->closing && !tt->engine_paused && !tt->output_paused && !tt->budget_wait && !tt->tail_wait;
}

/* A large frame is being read (directly, or its data moved to a file):
 * read_ev waits until it is in. */
static bool frame_in_progress(const struct tcp_transport *tt)
{
	return tt->direct_pdu != NULL || tt->tail_active;
}

static void reading(struct tcp_transport *tt, bool on)
{
	if (on && !tt->read_on)
		event_add(tt->read_ev, tt->stall_armed ? &tt->stall_tv : NULL);
	else if (!on && tt->read_on)
		event_del(tt->read_ev);
	tt->read_on = on;
}

/* Reading on or off as the flags say; a large frame keeps its own event. */
static void tcp_update_reading(struct tcp_transport *tt)
{
	if (tt->closing || frame_in_progress(tt))
		return;
	reading(tt, tcp_may_read(tt));
}

/* Reading may resume: what the input buffer already holds is handled on
 * the next loop turn (libevent calls back only when new bytes come). */
static void tcp_resume(struct tcp_transport *tt)
{
	tcp_update_reading(tt);
	if (tcp_may_read(tt) && !frame_in_progress(tt))
		event_active(tt->wake_ev, 0, 0);
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_transport *tt = arg;
	if (tcp_may_read(tt) && !frame_in_progress(tt))
		tcp_read_frames(tt);
}

/* read_ev's time-out is the stall clock of a partial small frame: it
 * runs while the socket is watched, and starts again with each read. */
static void stall_small(struct tcp_transport *tt, bool on)
{
	on = on && tt->stall_on;
	if (on == tt->stall_armed)
		return;
	tt->stall_armed = on;
	if (tt->read_on)
		event_add(tt->read_ev, on ? &tt->stall_tv : NULL);
}

/* ------------------------------------------------------------- rx budget */

static void waiter_unlink(struct tcp_transport *tt)
{
	struct smbd_tcp_state *st = tt->st;
	if (!tt->budget_wait)
		return;
	tt->budget_wait = false;
	if (st == NULL)
		return;
	DLIST_REMOVE_TAIL(st->wait_head, st->wait_tail, tt, wprev, wnext);
}

/* Hands freed budget to the waiters, oldest first; one that does not fit
 * stops the rest, so a large frame is not starved by smaller ones. */
static void budget_grant(struct smbd_tcp_state *st)
{
	while (st->wait_head != NULL && st->rx_reserved + st->wait_head->want <= st->rx_budget) {
		struct tcp_transport *w = st->wait_head;
		waiter_unlink(w);
		st->rx_reserved += w->want;
		w->reserved = w->want;
		tcp_resume(w);
	}
}

static void budget_release(struct tcp_transport *tt)
{
	struct smbd_tcp_state *st = tt->st;
	size_t n = tt->reserved;
	tt->reserved = 0;
	if (st == NULL || n == 0)
		return;
	st->rx_reserved -= n;
	budget_grant(st);
}

/*
 * While frames wait for budget: drops the connections whose frames, holding
 * budget, arrive too slowly (CONTENDED_MIN_RATE). Their budget goes to the
 * waiters when they shut down.
 */
static void evict_cb(evutil_socket_t fd, short what, void *arg)
{
	struct smbd_tcp_state *st = arg;
	if (st->wait_head == NULL) {
		event_del(st->evict_ev);
		return;
	}
	uint64_t now = now_ms();
	for (struct tcp_transport *tt = st->all; tt != NULL; tt = tt->next) {
		if (tt->closing || !frame_in_progress(tt) || tt->reserved == 0)
			continue;
		size_t got = tt->tail_active ? tt->tail_head + tcp_tail_received(tt->tail) : tt->direct_got;
		uint64_t ms = now - tt->direct_start_ms;
		if (ms <= CONTENDED_GRACE_MS || got >= (ms - CONTENDED_GRACE_MS) * CONTENDED_MIN_RATE / 1000)
			continue;
		LOG_INFO("%s: frame at %zu of %zu bytes after %llu ms while others wait for the receive budget",
			 tt->base.peer, got, tt->direct_len, (unsigned long long)ms);
		/* Shutting down releases its budget (tcp_shutdown); the list
		 * stays intact: the connection is freed on the next turn. */
		smbd_conn_terminate(tt->base.conn, "frame too slow while others wait");
	}
}

/* Reserves len for the frame about to be read; false: queued, reading paused. */
static bool budget_reserve(struct tcp_transport *tt, size_t len)
{
	struct smbd_tcp_state *st = tt->st;
	if (st == NULL || tt->reserved == len)
		return true; /* granted while waiting */
	budget_release(tt);
	if (st->wait_head == NULL && st->rx_reserved + len <= st->rx_budget) {
		st->rx_reserved += len;
		tt->reserved = len;
		return true;
	}
	if (!event_pending(st->evict_ev, EV_TIMEOUT, NULL)) {
		struct timeval second = { 1, 0 };
		event_add(st->evict_ev, &second);
	}
	tt->want = len;
	tt->budget_wait = true;
	DLIST_PUSH_BACK(st->wait_head, st->wait_tail, tt, wprev, wnext);
	tcp_update_reading(tt);
	LOG_DBG("%s: a %zu-byte frame waits: %zu of %zu bytes of receive budget in use", tt->base.peer, len,
		st->rx_reserved, st->rx_budget);
	return false;
}

/* ------------------------------------------------------------ transport ops */

static size_t tcp_pending_bytes(const struct smbd_transport *t)
{
	const struct tcp_transport *tt = (const struct tcp_transport *)t;
	return evbuffer_get_length(bufferevent_get_output(tt->bev)) +
	       (tt->spliced != NULL ? tcp_spliced_pending(tt->spliced) : 0);
}

/*
 * The kernel retransmits on a retransmission time-out with nothing
 * acknowledged since (a cable pulled, a NIC down, packets dropped): new
 * data waits behind the lost segment, so a break sent here would not
 * arrive until the path heals, or TCP gives up minutes later.
 */
static bool tcp_stalled(const struct smbd_transport *t)
{
	const struct tcp_transport *tt = (const struct tcp_transport *)t;
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	if (getsockopt(bufferevent_getfd(tt->bev), IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return false;
	return ti.tcpi_retransmits > 0 || ti.tcpi_backoff > 0;
}

/* Where the next PDU goes: behind any spliced READ reply (tcp_spliced.h). */
static struct evbuffer *output(struct tcp_transport *tt)
{
	return tt->spliced != NULL ? tcp_spliced_output(tt->spliced) : bufferevent_get_output(tt->bev);
}

/* Back-pressure: past out_high, requests are not read until the replies
 * drain to out_low. */
static void check_output(struct tcp_transport *tt)
{
	size_t pending = tcp_pending_bytes(&tt->base);
	if (!tt->output_paused && pending > tt->out_high) {
		tt->output_paused = true;
		tcp_update_reading(tt);
		LOG_DBG("%s: %zu bytes of replies unsent: not reading requests", tt->base.peer, pending);
	} else if (tt->output_paused && pending <= tt->out_low) {
		tt->output_paused = false;
		tcp_resume(tt);
	}
}

/* Memory sent by reference, and what owns it: freed when the last
 * reference has left the output buffer (or the buffer is freed). */
struct send_hold {
	unsigned refs;
};

static void hold_unref(const void *data, size_t len, void *arg)
{
	struct send_hold *h = arg;
	if (--h->refs == 0)
		talloc_free(h);
}

/* The direct-TCP framing header of a frame of 'total' bytes (MS-SMB2 2.1). */
static void nbss_header(uint8_t out[4], size_t total)
{
	out[0] = 0;
	out[1] = (uint8_t)(total >> 16);
	out[2] = (uint8_t)(total >> 8);
	out[3] = (uint8_t)total;
}

/* Queues the frame (NBSS header, then iov) from byte 'skip' on, what a
 * direct send did not take: large pieces by reference when hold owns them. */
static int queue_pdu(struct evbuffer *out, const struct iovec *iov, int iovcnt, size_t total,
		     struct send_hold *hold, size_t skip)
{
	uint8_t nbss[4];
	nbss_header(nbss, total);
	if (skip < 4 && evbuffer_add(out, nbss + skip, 4 - skip) != 0)
		return ENOMEM;
	skip = skip > 4 ? skip - 4 : 0;
	for (int i = 0; i < iovcnt; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		const uint8_t *p = (const uint8_t *)iov[i].iov_base + skip;
		size_t len = iov[i].iov_len - skip;
		skip = 0;
		if (hold != NULL && len >= SMBD_SEND_REF_MIN) {
			hold->refs++;
			if (evbuffer_add_reference(out, p, len, hold_unref, hold) != 0) {
				hold->refs--;
				return ENOMEM;
			}
		} else if (evbuffer_add(out, p, len) != 0) {
			return ENOMEM;
		}
	}
	return 0;
}

/*
 * With nothing queued before it, a reply goes to the socket at once, in
 * one sendmsg: queued in the bufferevent instead, it would cost turning
 * the write event on and off (two epoll_ctl) and a loop turn before the
 * writev, for every request (strace of 4 KiB WRITEs at one in flight).
 * Returns the bytes the socket took; the caller queues the rest. more:
 * the frame goes on (a spliced reply's data), so the header need not
 * leave in a segment of its own.
 */
static size_t send_now(struct tcp_transport *tt, const struct iovec *iov, int iovcnt, size_t total, bool more)
{
	struct iovec v[SEND_NOW_IOV];
	if (iovcnt + 1 > SEND_NOW_IOV)
		return 0;
	uint8_t nbss[4];
	nbss_header(nbss, total);
	v[0] = (struct iovec){ nbss, 4 };
	memcpy(v + 1, iov, (size_t)iovcnt * sizeof(*iov));
	struct msghdr mh = { .msg_iov = v, .msg_iovlen = (size_t)iovcnt + 1 };
	ssize_t n = sendmsg(bufferevent_getfd(tt->bev), &mh, MSG_DONTWAIT | MSG_NOSIGNAL | (more ? MSG_MORE : 0));
	/* An error is the bufferevent's to find and report, on the queued frame. */
	return n > 0 ? (size_t)n : 0;
}

/* Nothing is queued before a frame that goes to out: it may be sent at once. */
static bool nothing_queued(struct tcp_transport *tt, struct evbuffer *out)
{
	return out == bufferevent_get_output(tt->bev) && evbuffer_get_length(out) == 0;
}

static int tcp_send_pdu(struct smbd_transport *t, const struct iovec *iov, int iovcnt, void *owner)
{
	struct tcp_transport *tt = (struct tcp_transport *)t;
	size_t total = 0;
	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	struct send_hold *hold = NULL;
	if (owner != NULL) {
		/* Not under the connection: the output buffer may outlive it. */
		hold = talloc_zero(NULL, struct send_hold);
		if (hold == NULL) {
			talloc_free(owner);
			return ENOMEM;
		}
		talloc_steal(hold, owner);
		hold->refs = 1;
	}
	int err = total > 0xFFFFFF ? EMSGSIZE : tt->closing ? EPIPE : 0;
	struct evbuffer *out = output(tt);
	size_t sent = 0;
	if (err == 0 && nothing_queued(tt, out))
		sent = send_now(tt, iov, iovcnt, total, false);
	if (err == 0 && sent < total + 4)
		err = queue_pdu(out, iov, iovcnt, total, hold, sent);
	if (hold != NULL && --hold->refs == 0)
		talloc_free(hold);
	if (err != 0)
		return err;
	check_output(tt);
	return 0;
}

static void spliced_event(void *arg, int err)
{
	struct tcp_transport *tt = arg;
	if (err != 0) {
		LOG_DBG("%s: splice to the socket: %s", tt->base.peer, strerror(err));
		smbd_conn_terminate(tt->base.conn, "socket error");
		return;
	}
	check_output(tt);
}

static int tcp_send_spliced(struct smbd_transport *t, const struct iovec *iov, int iovcnt, struct smbd_pipe *p,
			    size_t len, bool more)
{
	struct tcp_transport *tt = (struct tcp_transport *)t;
	size_t total = len;
	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	int err = total > 0xFFFFFF ? EMSGSIZE : tt->closing ? EPIPE : 0;
	if (err == 0 && tt->spliced == NULL &&
	    (tt->spliced = tcp_spliced_new(tt, tt->bev, tt->out_low, spliced_event, tt)) == NULL)
		err = ENOMEM;
	/* Nothing before it: the header goes at once and the data follows
	 * (tcp_spliced_add), with no write event turned on and off. */
	struct evbuffer *out = err == 0 ? output(tt) : NULL;
	size_t sent = 0;
	if (err == 0 && nothing_queued(tt, out))
		sent = send_now(tt, iov, iovcnt, total, true);
	if (err == 0 && sent < total - len + 4)
		err = queue_pdu(out, iov, iovcnt, total, NULL, sent);
	if (err != 0) {
		talloc_free(p);
		return err;
	}
	err = tcp_spliced_add(tt->spliced, p, len, more);
	if (err == 0)
		check_output(tt);
	return err;
}

static void tcp_set_receiving(struct smbd_transport *t, bool on)
{
	struct tcp_transport *tt = (struct tcp_transport *)t;
	tt->engine_paused = !on;
	if (on)
		tcp_resume(tt);
	else
		tcp_update_reading(tt);
}

static void tcp_shutdown(struct smbd_transport *t)
{
	struct tcp_transport *tt = (struct tcp_transport *)t;
	if (tt->closing)
		return;
	tt->closing = true;
	reading(tt, false);
	event_del(tt->direct_ev);
	event_del(tt->wake_ev);
	for (int i = 0; i < TCP_TAILS; i++)
		if (tt->tails[i] != NULL)
			tcp_tail_abort(tt->tails[i]); /* those still at work */
	/* Output is dropped (below), spliced replies too. */
	TALLOC_FREE(tt->spliced);
	/* What this connection held of the receive budget goes to others now;
	 * its buffer goes with the connection on the next loop turn. */
	waiter_unlink(tt);
	budget_release(tt);
	/* Output is dropped: a connection is shut down on a protocol error or
	 * teardown, where no reply is owed. */
	bufferevent_setcb(tt->bev, NULL, NULL, NULL, NULL);
}

static bool tcp_take_tail(struct smbd_transport *t, struct smbd_tail_write *w)
{
	struct tcp_transport *tt = (struct tcp_transport *)t;
	if (!tt->tail_offered || tt->tail_claim != NULL)
		return false;
	tt->tail_claim = w;
	return true;
}

static const struct smbd_transport_ops tcp_ops = {
	.name = "tcp",
	.send_pdu = tcp_send_pdu,
	.pending_bytes = tcp_pending_bytes,
	.stalled = tcp_stalled,
	.shutdown = tcp_shutdown,
	.set_receiving = tcp_set_receiving,
	.take_tail = tcp_take_tail,
	.send_spliced = tcp_send_spliced,
};

/* ----------------------------------------------------------------- framing */

/* Room for more of the direct frame: a bigger buffer, up to the frame. */
static bool direct_grow(struct tcp_transport *tt)
{
	size_t cap = tt->direct_cap * DIRECT_GROWTH;
	if (cap > tt->direct_len || cap < tt->direct_cap)
		cap = tt->direct_len;
	uint8_t *p = talloc_realloc_size(tt->base.conn, tt->direct_pdu, cap);
	if (p == NULL)
		return false;
	tt->direct_pdu = p;
	tt->direct_cap = cap;
	return true;
}

static void direct_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_transport *tt = arg;
	if (what & EV_TIMEOUT) {
		/* Not a byte of the frame for the whole stall time-out. */
		event_del(tt->direct_ev);
		LOG_INFO("%s: frame stalled at %zu of %zu bytes", tt->base.peer, tt->direct_got, tt->direct_len);
		smbd_conn_terminate(tt->base.conn, "frame stalled");
		return;
	}
	while (tt->direct_got < tt->direct_len) {
		if (tt->direct_got == tt->direct_cap && !direct_grow(tt)) {
			event_del(tt->direct_ev);
			smbd_conn_terminate(tt->base.conn, "out of memory");
			return;
		}
		size_t room = tt->direct_cap - tt->direct_got;
		if (tt->direct_offer && room > DIRECT_OFFER_STEP)
			room = DIRECT_OFFER_STEP;
		ssize_t n = recv(fd, tt->direct_pdu + tt->direct_got, room, 0);
		if (n > 0) {
			tt->direct_got += (size_t)n;
			if (tt->direct_offer && tt->direct_got < tt->direct_len)
				tt->direct_offer = smbd_conn_recv_partial(tt->base.conn, tt->direct_pdu,
									  tt->direct_got, tt->direct_len);
			if (tt->closing)
				return;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		event_del(tt->direct_ev);
		smbd_conn_terminate(tt->base.conn, n == 0 ? "closed by peer" : "socket error");
		return;
	}
	event_del(tt->direct_ev);
	uint8_t *pdu = tt->direct_pdu;
	tt->direct_pdu = NULL;
	budget_release(tt);
	smbd_conn_recv(tt->base.conn, pdu, tt->direct_len);
	if (tt->closing)
		return;
	/* Back to small frames, and to whatever the input buffer already holds. */
	tcp_update_reading(tt);
	if (tcp_may_read(tt))
		tcp_read_frames(tt);
}

/* A large frame's own reading takes over from read_ev's. */
static void large_frame_begins(struct tcp_transport *tt, uint32_t len)
{
	tt->direct_len = len;
	tt->direct_start_ms = now_ms();
	reading(tt, false);
	stall_small(tt, false);
}

/* Starts reading a large frame (its budget reserved) whose first bytes are buffered. */
static bool start_direct_read(struct tcp_transport *tt, struct evbuffer *in, uint32_t len)
{
	size_t have = evbuffer_get_length(in) - 4;
	size_t cap = have > DIRECT_INITIAL ? have : DIRECT_INITIAL;
	tt->tail_last = false;
	/* A sealed or signed frame's buffer is whole from the start, so the
	 * engine can check what arrived in place while the rest comes
	 * (smbd/arrival_check.h; the budget is reserved). */
	uint8_t start[4 + SMB2_HDR_FLAGS + 4]; /* the NBSS header, then the frame's header to its Flags */
	if (evbuffer_copyout(in, start, sizeof(start)) == (ev_ssize_t)sizeof(start) &&
	    (start[4] == 0xFD || (start[4] == 0xFE && (le32(start + 4 + SMB2_HDR_FLAGS) & SMB2_FLAGS_SIGNED))))
		cap = len;
	if (cap > len)
		cap = len;
	uint8_t *pdu = smbd_conn_alloc_pdu(tt->base.conn, cap);
	if (pdu == NULL)
		return false;
	evbuffer_drain(in, 4);
	evbuffer_remove(in, pdu, have);
	tt->direct_pdu = pdu;
	tt->direct_got = have;
	tt->direct_cap = cap;
	/* A buffer made whole at once is offered to the engine piece by piece. */
	tt->direct_offer = cap == len;
	large_frame_begins(tt, len);
	/* EV_PERSIST with a time-out: the clock restarts at every callback. */
	event_add(tt->direct_ev, tt->stall_on ? &tt->stall_tv : NULL);
	return true;
}

/* ------------------------------------------------------------ split frames */

/*
 * Where a frame may be split (smbd/transport.h): a lone WRITE, neither
 * signed nor sealed, whose data runs from its DataOffset to the frame's
 * end and whose header and body are buffered. Returns the header's
 * length, 0 to read the frame whole, or TAIL_BUSY when every tail is
 * still writing to the file: reading one whole would cost a copy and
 * fresh pages, more than the short wait.
 */
#define TAIL_BUSY SIZE_MAX
static void tail_idle(void *arg);
static size_t tail_split_at(struct tcp_transport *tt, struct evbuffer *in, uint32_t len)
{
	struct smbd_server *srv = tt->st != NULL ? tt->st->srv : NULL;
	if (srv == NULL || tt->loop->uring == NULL || !srv->cfg->splice_writes)
		return 0;
	uint8_t h[4 + SMB2_HDR_LEN + 8];
	if (evbuffer_copyout(in, h, sizeof(h)) < (ev_ssize_t)sizeof(h))
		return 0;
	const uint8_t *p = h + 4;
	if (p[0] != 0xFE || memcmp(p + 1, "SMB", 3) != 0 || le16(p + SMB2_HDR_COMMAND) != SMB2_WRITE ||
	    (le32(p + SMB2_HDR_FLAGS) & SMB2_FLAGS_SIGNED) || le32(p + SMB2_HDR_NEXT_COMMAND) != 0)
		return 0;
	/* WRITE request (MS-SMB2 2.2.21): DataOffset at 2, Length at 4. */
	size_t data_off = le16(p + SMB2_HDR_LEN + 2);
	uint32_t length = le32(p + SMB2_HDR_LEN + 4);
	if (data_off < SMB2_HDR_LEN + 48 || data_off >= len || length != len - data_off ||
	    evbuffer_get_length(in) < 4 + data_off)
		return 0;
	struct tcp_tail **free_slot = NULL;
	for (int i = 0; i < TCP_TAILS; i++) {
		if (tt->tails[i] != NULL && tcp_tail_idle(tt->tails[i])) {
			tt->tail = tt->tails[i];
			return data_off;
		}
		if (tt->tails[i] == NULL && free_slot == NULL)
			free_slot = &tt->tails[i];
	}
	if (free_slot == NULL)
		return TAIL_BUSY;
	*free_slot = tcp_tail_new(tt, tt->loop->ev, tt->loop->uring, bufferevent_getfd(tt->bev), tail_idle, tt);
	tt->tail = *free_slot;
	return tt->tail != NULL ? data_off : 0;
}

/* A tail whose file writes outlasted its socket's part is free again. */
static void tail_idle(void *arg)
{
	struct tcp_transport *tt = arg;
	if (!tt->tail_wait)
		return;
	tt->tail_wait = false;
	tcp_resume(tt);
}

/* A split frame's data is all in (or the connection must go). */
static void tail_ended(void *arg, const char *why)
{
	struct tcp_transport *tt = arg;
	tt->tail_active = false;
	budget_release(tt);
	if (why != NULL) {
		smbd_conn_terminate(tt->base.conn, why);
		return;
	}
	if (tt->closing)
		return;
	tcp_update_reading(tt);
	if (tcp_may_read(tt))
		tcp_read_frames(tt);
}

/* Delivers a split frame's header (its budget reserved), then moves its data. */
static void start_tail(struct tcp_transport *tt, struct evbuffer *in, uint32_t len, size_t head)
{
	uint8_t *pdu = smbd_conn_alloc_pdu(tt->base.conn, head);
	if (pdu == NULL) {
		budget_release(tt);
		smbd_conn_terminate(tt->base.conn, "out of memory");
		return;
	}
	evbuffer_drain(in, 4);
	evbuffer_remove(in, pdu, head);
	tt->tail_active = true;
	tt->tail_head = head;
	tt->tail_last = true;
	large_frame_begins(tt, len);
	tt->tail_offered = true;
	smbd_conn_recv_tail(tt->base.conn, pdu, head, len - head);
	tt->tail_offered = false;
	struct smbd_tail_write *w = tt->tail_claim;
	tt->tail_claim = NULL;
	/* The frame is not whole in the buffer: all it holds is the data's start. */
	size_t pre = evbuffer_get_length(in);
	LOG_DBG("%s: WRITE of %zu bytes: its data %s (%zu read with the header)", tt->base.peer,
		(size_t)len - head, w != NULL ? "to the file by splice" : "dropped", pre);
	tcp_tail_start(tt->tail, len - head, evbuffer_pullup(in, -1), pre, w,
		       tt->stall_on ? &tt->stall_tv : NULL, tail_ended, tt);
	evbuffer_drain(in, pre);
	if (tt->closing)
		tcp_tail_abort(tt->tail);
}

/* Hands every complete frame in the input buffer to the engine. */
static void tcp_read_frames(struct tcp_transport *tt)
{
	struct evbuffer *in = tt->in;

	while (tcp_may_read(tt)) {
		uint8_t nbss[4];
		if (evbuffer_copyout(in, nbss, 4) < 4)
			break;
		uint32_t len = (uint32_t)nbss[1] << 16 | (uint32_t)nbss[2] << 8 | nbss[3];
		if (nbss[0] != 0) {
			/* NetBIOS session request / keepalive types (RFC 1002): only
			 * keepalives (0x85) are tolerated on port 445. */
			if (nbss[0] == 0x85 && len == 0) {
				evbuffer_drain(in, 4);
				continue;
			}
			LOG_INFO("%s: not a direct-TCP frame (type 0x%02x), closing", tt->base.peer, nbss[0]);
			smbd_conn_terminate(tt->base.conn, "bad framing");
			return;
		}
		if (len > tt->base.max_pdu || len < 4) {
			LOG_INFO("%s: frame of %u bytes outside [4, %u], closing", tt->base.peer, len,
				 tt->base.max_pdu);
			smbd_conn_terminate(tt->base.conn, "bad frame length");
			return;
		}
		if (evbuffer_get_length(in) < (size_t)len + 4 && len >= DIRECT_READ_MIN) {
			if (!budget_reserve(tt, len))
				return; /* reading paused: no stall clock, the wait is ours */
			size_t head = tail_split_at(tt, in, len);
			if (head == TAIL_BUSY) {
				/* tail_idle() resumes; the budget is asked for again then. */
				budget_release(tt);
				tt->tail_wait = true;
				tcp_update_reading(tt);
				return;
			}
			if (head != 0) {
				start_tail(tt, in, len, head);
				return;
			}
			if (!start_direct_read(tt, in, len)) {
				budget_release(tt);
				smbd_conn_terminate(tt->base.conn, "out of memory");
			}
			return;
		}
		if (evbuffer_get_length(in) < (size_t)len + 4)
			break;
		evbuffer_drain(in, 4);
		uint8_t *pdu = smbd_conn_alloc_pdu(tt->base.conn, len);
		if (pdu == NULL) {
			smbd_conn_terminate(tt->base.conn, "out of memory");
			return;
		}
		evbuffer_remove(in, pdu, len);
		tt->tail_last = false;
		/* A reservation granted while waiting, for a frame that then
		 * turned out to be here whole. */
		budget_release(tt);
		smbd_conn_recv(tt->base.conn, pdu, len);
		/* The engine may have paused us (async work, back-pressure) or closed us. */
	}
	/* Part of a frame is here: the rest must keep coming. */
	if (!tt->closing)
		stall_small(tt, evbuffer_get_length(in) > 0);
}

/* The socket has bytes for small frames (or the stall time-out ran out). */
static void tcp_readable_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_transport *tt = arg;
	struct evbuffer *in = tt->in;
	if (what & EV_TIMEOUT) {
		LOG_INFO("%s: frame stalled with %zu bytes buffered", tt->base.peer, evbuffer_get_length(in));
		smbd_conn_terminate(tt->base.conn, "frame stalled");
		return;
	}
	struct evbuffer_iovec v[2];
	int nv = evbuffer_reserve_space(in, SMALL_READ, v, 2);
	if (nv <= 0) {
		smbd_conn_terminate(tt->base.conn, "out of memory");
		return;
	}
	/* The buffer may offer more room than asked (its chains grow in
	 * powers of two): the bound on what a connection holds is SMALL_READ. */
	struct iovec iov[2];
	size_t room = tt->tail_last && evbuffer_get_length(in) == 0 ? WRITE_HEAD_READ : SMALL_READ;
	for (int i = 0; i < nv; i++) {
		size_t take = v[i].iov_len < room ? v[i].iov_len : room;
		iov[i] = (struct iovec){ v[i].iov_base, take };
		room -= take;
	}
	ssize_t n;
	do
		n = readv(fd, iov, nv);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		evbuffer_commit_space(in, v, 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		LOG_DBG("%s: %s", tt->base.peer, n == 0 ? "closed by peer" : strerror(errno));
		smbd_conn_terminate(tt->base.conn, n == 0 ? "closed by peer" : "socket error");
		return;
	}
	size_t left = (size_t)n;
	for (int i = 0; i < nv; i++) {
		v[i].iov_len = left < v[i].iov_len ? left : v[i].iov_len;
		left -= v[i].iov_len;
	}
	evbuffer_commit_space(in, v, nv);
	tcp_read_frames(tt);
}

/* Output drained to out_low (the bufferevent's write low-water mark),
 * or to nothing while a spliced reply waits for that. */
static void tcp_write_cb(struct bufferevent *bev, void *arg)
{
	struct tcp_transport *tt = arg;
	if (tt->spliced != NULL && evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		int err = tcp_spliced_drained(tt->spliced);
		if (err != 0) {
			spliced_event(tt, err);
			return;
		}
	}
	check_output(tt);
}

/* The bufferevent only writes: a failed write, or an end it saw. */
static void tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tcp_transport *tt = arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		LOG_DBG("%s: %s", tt->base.peer, (what & BEV_EVENT_EOF) ? "closed by peer" : strerror(errno));
		smbd_conn_terminate(tt->base.conn, (what & BEV_EVENT_EOF) ? "closed by peer" : "socket error");
	}
}

/* ------------------------------------------------------- connections, state */

static int tcp_transport_destructor(struct tcp_transport *tt)
{
	struct smbd_tcp_state *st = tt->st;
	waiter_unlink(tt);
	budget_release(tt);
	if (st != NULL)
		DLIST_REMOVE(st->all, tt, prev, next);
	if (tt->direct_ev)
		event_free(tt->direct_ev);
	if (tt->read_ev)
		event_free(tt->read_ev);
	if (tt->in)
		evbuffer_free(tt->in);
	/* Its events go before the socket they watch. */
	for (int i = 0; i < TCP_TAILS; i++)
		TALLOC_FREE(tt->tails[i]);
	tt->tail = NULL;
	TALLOC_FREE(tt->spliced);
	if (tt->wake_ev)
		event_free(tt->wake_ev);
	if (tt->bev)
		bufferevent_free(tt->bev);
	return 0;
}

static int tcp_state_destructor(struct smbd_tcp_state *st)
{
	if (st->evict_ev)
		event_free(st->evict_ev);
	/* Connections that outlive it (teardown order) forget it. */
	for (struct tcp_transport *tt = st->all; tt != NULL; tt = tt->next) {
		tt->st = NULL;
		tt->budget_wait = false;
		tt->reserved = 0;
	}
	return 0;
}

static struct smbd_tcp_state *tcp_state_get(struct smbd_server *srv)
{
	if (srv->tcp != NULL)
		return srv->tcp;
	struct smbd_tcp_state *st = talloc_zero(srv, struct smbd_tcp_state);
	if (st == NULL)
		return NULL;
	st->srv = srv;
	st->refused_log = st->accept_log = (struct plog_ratelimit)PLOG_RATELIMIT_INIT(LOG_INTERVAL_S);
	talloc_set_destructor(st, tcp_state_destructor);
	st->evict_ev = event_new(srv->loop->ev, -1, EV_PERSIST, evict_cb, st);
	if (st->evict_ev == NULL) {
		talloc_free(st);
		return NULL;
	}
	st->rx_budget = RX_BUDGET_MIN;
	if ((size_t)srv->cfg->max_pdu * RX_BUDGET_FRAMES > st->rx_budget)
		st->rx_budget = (size_t)srv->cfg->max_pdu * RX_BUDGET_FRAMES;
	srv->tcp = st;
	return st;
}

/* Past "max connections": accepted and closed at once, with a reset so
 * that nothing (not even TIME_WAIT) is kept for it. */
static void refuse(struct smbd_tcp_state *st, evutil_socket_t fd, const struct sockaddr *sa)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	evutil_closesocket(fd);
	unsigned long more;
	if (plog_ratelimit_ok(&st->refused_log, &more)) {
		char peer[64];
		sockaddr_to_str(sa, peer, sizeof(peer));
		LOG_WARN("connection from %s refused: %u connections already (max connections); %lu more "
			 "refused in the last %d s", peer, st->srv->cfg->max_connections, more, LOG_INTERVAL_S);
	}
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	struct tcp_listener *tl = arg;
	struct smbd_tcp_state *st = tl->st;
	struct smbd_server *srv = st->srv;
	smbd_shared_enter(); /* the table changes under the writer (smbd/control.h) */
	size_t live = idtable_count(srv->conns);
	smbd_shared_leave();
	if (live >= srv->cfg->max_connections) {
		refuse(st, fd, sa);
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));

	struct tcp_transport *tt = talloc_zero(NULL, struct tcp_transport);
	if (tt == NULL) {
		evutil_closesocket(fd);
		return;
	}
	tt->loop = srv->loop; /* the only one (loop.h) */
	tt->bev = bufferevent_socket_new(tt->loop->ev, fd, BEV_OPT_CLOSE_ON_FREE);
	if (tt->bev == NULL) {
		evutil_closesocket(fd);
		talloc_free(tt);
		return;
	}
	talloc_set_destructor(tt, tcp_transport_destructor);
	tt->direct_ev = event_new(tt->loop->ev, fd, EV_READ | EV_PERSIST, direct_read_cb, tt);
	tt->read_ev = event_new(tt->loop->ev, fd, EV_READ | EV_PERSIST, tcp_readable_cb, tt);
	tt->wake_ev = event_new(tt->loop->ev, -1, 0, wake_cb, tt);
	tt->in = evbuffer_new();
	if (tt->direct_ev == NULL || tt->read_ev == NULL || tt->wake_ev == NULL || tt->in == NULL) {
		talloc_free(tt);
		return;
	}
	tt->st = st;
	DLIST_PUSH_FRONT(st->all, tt, prev, next);
	tt->out_high = srv->cfg->max_pdu > OUT_HIGH_MIN ? srv->cfg->max_pdu : OUT_HIGH_MIN;
	tt->out_low = tt->out_high / 2;
	uint32_t stall_s = smbd_conn_frame_timeout(srv);
	tt->stall_on = stall_s != 0;
	tt->stall_tv = (struct timeval){ .tv_sec = stall_s, .tv_usec = 0 };
	tt->base.ops = &tcp_ops;
	tt->base.max_pdu = srv->cfg->max_pdu;
	sockaddr_to_str(sa, tt->base.peer, sizeof(tt->base.peer));
	sockaddr_to_addr(sa, tt->base.addr, sizeof(tt->base.addr));
	struct sockaddr_storage ls;
	socklen_t lslen = sizeof(ls);
	if (getsockname(fd, (struct sockaddr *)&ls, &lslen) == 0)
		sockaddr_to_str((struct sockaddr *)&ls, tt->base.local, sizeof(tt->base.local));

	/* The connection owns the transport from here on. */
	struct smbd_conn *conn = smbd_conn_new(tt->loop, &tt->base);
	if (conn == NULL) {
		talloc_free(tt);
		return;
	}
	talloc_steal(conn, tt);
	/* libevent writes 16 KiB per loop turn by default: a 1 MiB READ reply
	 * would take 64 turns (docs/PERFORMANCE.md). */
	bufferevent_set_max_single_write(tt->bev, 4 * 1024 * 1024);
	bufferevent_setcb(tt->bev, NULL, tcp_write_cb, tcp_event_cb, tt);
	bufferevent_setwatermark(tt->bev, EV_WRITE, tt->out_low, 0);
	bufferevent_enable(tt->bev, EV_WRITE);
	tcp_update_reading(tt);
	(void)salen;
	(void)l;
}

/* ---------------------------------------------------------------- listeners */

static void listener_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_listener *tl = arg;
	evconnlistener_enable(tl->l);
}

static void listener_error_cb(struct evconnlistener *l, void *arg)
{
	struct tcp_listener *tl = arg;
	int err = EVUTIL_SOCKET_ERROR();
	unsigned long more;
	if (plog_ratelimit_ok(&tl->st->accept_log, &more))
		LOG_WARN("accept failed: %s (%lu more failures in the last %d s)", evutil_socket_error_to_string(err),
			 more, LOG_INTERVAL_S);
	/* Out of descriptors (EMFILE, ENFILE) or memory: the connection stays
	 * queued and the socket readable, so accepting again at once would
	 * spin. Pause a moment; closing connections free descriptors. */
	evconnlistener_disable(l);
	struct timeval tv = { 0, ACCEPT_RETRY_MS * 1000 };
	evtimer_add(tl->retry, &tv);
}

static int listener_destructor(struct tcp_listener *tl)
{
	if (tl->l)
		evconnlistener_free(tl->l);
	if (tl->retry)
		event_free(tl->retry);
	return 0;
}

int smbd_tcp_listen(struct smbd_server *srv, const char *host, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		sslen = sizeof(*in);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		sslen = sizeof(*in6);
	} else {
		return EINVAL;
	}
	struct smbd_tcp_state *st = tcp_state_get(srv);
	if (st == NULL)
		return ENOMEM;
	struct tcp_listener *tl = talloc_zero(srv, struct tcp_listener);
	if (tl == NULL)
		return ENOMEM;
	tl->st = st;
	talloc_set_destructor(tl, listener_destructor);
	tl->retry = evtimer_new(srv->loop->ev, listener_retry_cb, tl);
	if (tl->retry == NULL) {
		talloc_free(tl);
		return ENOMEM;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int err = errno;
		talloc_free(tl);
		return err;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) != 0 || listen(fd, 512) != 0) {
		int err = errno;
		close(fd);
		talloc_free(tl);
		return err;
	}
	tl->l = evconnlistener_new(srv->loop->ev, accept_cb, tl, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (tl->l == NULL) {
		close(fd);
		talloc_free(tl);
		return ENOMEM;
	}
	evconnlistener_set_error_cb(tl->l, listener_error_cb);
	return 0;
}
