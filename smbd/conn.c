#include "config.h"
#include "smbd/conn.h"

#include <event2/event.h>
#include <string.h>

#include "conf/conf.h"
#include "lib/idtable.h"
#include "lib/log.h"
#include "smbd/control.h"
#include "smbd/dispatch.h"
#include "smbd/replay_pending.h"
#include "smbd/server.h"
#include "smbd/session.h"
#include "smbd/arrival_check.h"
#include "smbd/heap_keep.h"
#include "smbd/loop.h"
#include "smbd/transport.h"

static void conn_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct smbd_conn *conn = arg;
	smbd_conn_terminate(conn, conn->authenticated_once ? "idle time-out" : "authentication time-out");
}

static void arm_timer(struct smbd_conn *conn, uint32_t seconds)
{
	if (seconds == 0) {
		evtimer_del(conn->idle_timer);
		return;
	}
	struct timeval tv = { .tv_sec = seconds, .tv_usec = 0 };
	evtimer_add(conn->idle_timer, &tv);
}

static void conn_free(struct smbd_conn *conn)
{
	/* A CREATE of a session that goes on through other channels first
	 * keeps its session (smbd/replay_pending.h). */
	smbd_replay_pending_outlive(conn);
	/* Its sessions end now, data in flight or not (as on a LOGOFF racing
	 * with a transfer): a client that reconnects at once must find its
	 * durable opens disconnected (smbd/durable.h), not still held here
	 * until a slow write is over. */
	smbd_sessions_drop_conn(conn->srv, conn->id);
	/* Workers still move data for its requests, or a CREATE finishes for
	 * a session it shared with other connections: the last one to end
	 * fires this event again (smbd/io_async.c, smbd/replay_pending.c). */
	if (conn->n_io > 0)
		return;
	talloc_free(conn);
}

static void conn_free_cb(evutil_socket_t fd, short what, void *arg)
{
	smbd_control_enter();
	conn_free(arg);
	smbd_control_leave();
}

static int conn_destructor(struct smbd_conn *conn)
{
	SMBD_CONTROL_HELD();
	conn->terminating = true;
	smbd_sessions_drop_conn(conn->srv, conn->id);
	idtable_remove(conn->srv->conns, conn->id);
	if (conn->idle_timer)
		event_free(conn->idle_timer);
	if (conn->terminate_ev)
		event_free(conn->terminate_ev);
	/* What it held up may still end as its requests are freed. */
	conn->terminate_ev = NULL;
	return 0;
}

static struct smbd_conn *conn_new(struct smbd_loop *loop, struct smbd_transport *t)
{
	struct smbd_server *srv = loop->srv;
	struct smbd_conn *conn = talloc_zero(srv, struct smbd_conn);
	if (conn == NULL)
		return NULL;
	conn->srv = srv;
	conn->loop = loop;
	conn->transport = t;
	t->conn = conn;
	conn->peer = t->peer;
	smbd_credits_init(&conn->credits);
	conn->next_async_id = 1;
	conn->id = idtable_add(srv->conns, conn);
	conn->idle_timer = evtimer_new(loop->ev, conn_timeout_cb, conn);
	conn->terminate_ev = event_new(loop->ev, -1, 0, conn_free_cb, conn);
	if (conn->id == 0 || conn->idle_timer == NULL || conn->terminate_ev == NULL) {
		talloc_free(conn);
		return NULL;
	}
	talloc_set_destructor(conn, conn_destructor);
	arm_timer(conn, srv->cfg->auth_timeout_s);
	LOG_INFO("connection %llu from %s", (unsigned long long)conn->id, conn->peer);
	return conn;
}

struct smbd_conn *smbd_conn_new(struct smbd_loop *loop, struct smbd_transport *t)
{
	/* A child of the server, in the table every break looks in. */
	smbd_control_enter();
	struct smbd_conn *conn = conn_new(loop, t);
	smbd_control_leave();
	return conn;
}

uint8_t *smbd_conn_alloc_pdu(struct smbd_conn *conn, size_t len)
{
	smbd_heap_keep_note(conn->loop->heap_keep, len);
	return talloc_size(conn, len);
}

void smbd_conn_recv_tail(struct smbd_conn *conn, uint8_t *pdu, size_t len, size_t tail_len)
{
	if (conn->terminating) {
		talloc_free(pdu);
		return;
	}
	if (conn->authenticated_once)
		arm_timer(conn, conn->srv->cfg->idle_timeout_s);
	conn->pdus_in++;
	conn->bytes_in += len + tail_len;
	smbd_dispatch_pdu(conn, pdu, len, tail_len);
}

bool smbd_conn_recv_partial(struct smbd_conn *conn, uint8_t *pdu, size_t got, size_t len)
{
	return !conn->terminating && smbd_arrival_check_progress(conn, pdu, got, len);
}

void smbd_conn_recv(struct smbd_conn *conn, uint8_t *pdu, size_t len)
{
	smbd_conn_recv_tail(conn, pdu, len, 0);
}

void smbd_conn_io_begin(struct smbd_conn *conn)
{
	conn->n_io++;
}

void smbd_conn_io_end(struct smbd_conn *conn)
{
	if (--conn->n_io == 0 && conn->terminating && conn->terminate_ev != NULL)
		event_active(conn->terminate_ev, 0, 0);
}

void smbd_conn_authenticated(struct smbd_conn *conn)
{
	if (!conn->authenticated_once) {
		conn->authenticated_once = true;
		arm_timer(conn, conn->srv->cfg->idle_timeout_s);
	}
}

/*
 * A frame that starts and then stops arriving pins a receive buffer (up
 * to "max pdu size") and is never a client's normal state: a client that
 * has something to say sends it whole. The idle time-out (15 minutes by
 * default) is for quiet connections that cost almost nothing, so it is
 * far too long here; the auth time-out (a minute by default) is the
 * server's bound on how long a client may take to finish a step it has
 * started, and a TCP path that moves no byte for that long is broken. So
 * a stall in the middle of a frame is given the auth time-out, or the idle
 * time-out when the auth one is off; the clock restarts with every byte,
 * so a slow but moving link is never cut.
 */
uint32_t smbd_conn_frame_timeout(const struct smbd_server *srv)
{
	return srv->cfg->auth_timeout_s ? srv->cfg->auth_timeout_s : srv->cfg->idle_timeout_s;
}

void smbd_conn_terminate(struct smbd_conn *conn, const char *why)
{
	if (conn->terminating)
		return;
	conn->terminating = true;
	LOG_INFO("connection %llu from %s closed: %s (%llu PDUs, %llu KiB in, %llu KiB out)",
		 (unsigned long long)conn->id, conn->peer, why, (unsigned long long)conn->pdus_in,
		 (unsigned long long)(conn->bytes_in >> 10), (unsigned long long)(conn->bytes_out >> 10));
	evtimer_del(conn->idle_timer);
	conn->transport->ops->shutdown(conn->transport);
	/* Free on the next loop turn: we may be inside this conn's callbacks. */
	event_active(conn->terminate_ev, 0, 0);
}

bool smbd_conn_stalled(const struct smbd_conn *conn)
{
	const struct smbd_transport *t = conn->transport;
	return t->ops->stalled != NULL && t->ops->stalled(t);
}

void smbd_conn_send(struct smbd_conn *conn, const struct iovec *iov, int iovcnt)
{
	smbd_conn_send_owned(conn, iov, iovcnt, NULL);
}

static void sent(struct smbd_conn *conn, const struct iovec *iov, int iovcnt, size_t more, int err)
{
	for (int i = 0; i < iovcnt; i++)
		conn->bytes_out += iov[i].iov_len;
	conn->bytes_out += more;
	if (err != 0) {
		LOG_WARN("%s: send failed: %s", conn->peer, strerror(err));
		smbd_conn_terminate(conn, "send failed");
	}
}

void smbd_conn_send_owned(struct smbd_conn *conn, const struct iovec *iov, int iovcnt, void *owner)
{
	if (conn->terminating) {
		talloc_free(owner);
		return;
	}
	sent(conn, iov, iovcnt, 0, conn->transport->ops->send_pdu(conn->transport, iov, iovcnt, owner));
}

void smbd_conn_send_spliced(struct smbd_conn *conn, const struct iovec *iov, int iovcnt, struct smbd_pipe *p,
			    size_t len, bool more)
{
	if (conn->terminating) {
		talloc_free(p);
		return;
	}
	sent(conn, iov, iovcnt, len, conn->transport->ops->send_spliced(conn->transport, iov, iovcnt, p, len, more));
}
