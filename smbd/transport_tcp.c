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
#include <unistd.h>

#include "conf/conf.h"
#include "lib/log.h"
#include "smbd/conn.h"
#include "smbd/server.h"
#include "smbd/transport.h"

/*
 * Frames at least this big are read straight into their own buffer:
 * libevent 2.1's evbuffer reads 4 KiB per call, which made a 1 MiB WRITE
 * cost some 260 loop turns and a copy (docs/PERFORMANCE.md).
 */
#define DIRECT_READ_MIN 65536

struct tcp_transport {
	struct smbd_transport base;
	struct bufferevent *bev;
	bool closing;
	/* A large frame being read directly (the bufferevent is paused). */
	struct event *direct_ev;
	uint8_t *direct_pdu;
	size_t direct_len, direct_got;
};

static void tcp_read_cb(struct bufferevent *bev, void *arg);

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

static int tcp_send_pdu(struct smbd_transport *t, const struct iovec *iov, int iovcnt)
{
	struct tcp_transport *tt = (struct tcp_transport *)t;
	size_t total = 0;
	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (total > 0xFFFFFF)
		return EMSGSIZE;
	if (tt->closing)
		return EPIPE;
	uint8_t nbss[4] = { 0, (uint8_t)(total >> 16), (uint8_t)(total >> 8), (uint8_t)total };
	struct evbuffer *out = bufferevent_get_output(tt->bev);
	if (evbuffer_add(out, nbss, 4) != 0)
		return ENOMEM;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len && evbuffer_add(out, iov[i].iov_base, iov[i].iov_len) != 0)
			return ENOMEM;
	}
	return 0;
}

static size_t tcp_pending_bytes(const struct smbd_transport *t)
{
	const struct tcp_transport *tt = (const struct tcp_transport *)t;
	return evbuffer_get_length(bufferevent_get_output(tt->bev));
}

static void tcp_set_receiving(struct smbd_transport *t, bool on)
{
	struct tcp_transport *tt = (struct tcp_transport *)t;
	if (tt->closing || tt->direct_pdu != NULL)
		return;
	if (on)
		bufferevent_enable(tt->bev, EV_READ);
	else
		bufferevent_disable(tt->bev, EV_READ);
}

static void tcp_shutdown(struct smbd_transport *t)
{
	struct tcp_transport *tt = (struct tcp_transport *)t;
	if (tt->closing)
		return;
	tt->closing = true;
	bufferevent_disable(tt->bev, EV_READ);
	if (tt->direct_ev)
		event_del(tt->direct_ev);
	/* Output is dropped: a connection is shut down on a protocol error or
	 * teardown, where no reply is owed. */
	bufferevent_setcb(tt->bev, NULL, NULL, NULL, NULL);
}

static const struct smbd_transport_ops tcp_ops = {
	.name = "tcp",
	.send_pdu = tcp_send_pdu,
	.pending_bytes = tcp_pending_bytes,
	.shutdown = tcp_shutdown,
	.set_receiving = tcp_set_receiving,
};

static void direct_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_transport *tt = arg;
	while (tt->direct_got < tt->direct_len) {
		ssize_t n = recv(fd, tt->direct_pdu + tt->direct_got, tt->direct_len - tt->direct_got, 0);
		if (n > 0) {
			tt->direct_got += (size_t)n;
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
	smbd_conn_recv(tt->base.conn, pdu, tt->direct_len);
	if (tt->closing)
		return;
	/* Back to the bufferevent, and to whatever it already holds. */
	bufferevent_enable(tt->bev, EV_READ);
	tcp_read_cb(tt->bev, tt);
}

/* Starts reading a large frame whose first 'have' bytes are buffered. */
static bool start_direct_read(struct tcp_transport *tt, struct evbuffer *in, uint32_t len)
{
	evbuffer_drain(in, 4);
	uint8_t *pdu = smbd_conn_alloc_pdu(tt->base.conn, len);
	if (pdu == NULL)
		return false;
	size_t have = evbuffer_get_length(in);
	evbuffer_remove(in, pdu, have);
	tt->direct_pdu = pdu;
	tt->direct_len = len;
	tt->direct_got = have;
	bufferevent_setwatermark(tt->bev, EV_READ, 4, 0);
	bufferevent_disable(tt->bev, EV_READ);
	event_add(tt->direct_ev, NULL);
	return true;
}

/* Hands every complete frame in the input buffer to the engine. */
static void tcp_read_cb(struct bufferevent *bev, void *arg)
{
	struct tcp_transport *tt = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (!tt->closing) {
		uint8_t nbss[4];
		if (evbuffer_copyout(in, nbss, 4) < 4)
			return;
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
		if (evbuffer_get_length(in) < (size_t)len + 4 && len >= DIRECT_READ_MIN && tt->direct_ev) {
			if (!start_direct_read(tt, in, len))
				smbd_conn_terminate(tt->base.conn, "out of memory");
			return;
		}
		/* Ask libevent not to call us again before the whole frame is in. */
		if (evbuffer_get_length(in) < (size_t)len + 4) {
			bufferevent_setwatermark(bev, EV_READ, (size_t)len + 4, 0);
			return;
		}
		bufferevent_setwatermark(bev, EV_READ, 4, 0);
		evbuffer_drain(in, 4);
		uint8_t *pdu = smbd_conn_alloc_pdu(tt->base.conn, len);
		if (pdu == NULL) {
			smbd_conn_terminate(tt->base.conn, "out of memory");
			return;
		}
		evbuffer_remove(in, pdu, len);
		smbd_conn_recv(tt->base.conn, pdu, len);
		/* The engine may have paused us (async work) or closed us. */
		if (!(bufferevent_get_enabled(bev) & EV_READ))
			return;
	}
}

static void tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tcp_transport *tt = arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		LOG_DBG("%s: %s", tt->base.peer, (what & BEV_EVENT_EOF) ? "closed by peer" : strerror(errno));
		smbd_conn_terminate(tt->base.conn, (what & BEV_EVENT_EOF) ? "closed by peer" : "socket error");
	}
}

static int tcp_transport_destructor(struct tcp_transport *tt)
{
	if (tt->direct_ev)
		event_free(tt->direct_ev);
	bufferevent_free(tt->bev);
	return 0;
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	struct smbd_server *srv = arg;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));

	struct tcp_transport *tt = talloc_zero(NULL, struct tcp_transport);
	if (tt == NULL) {
		evutil_closesocket(fd);
		return;
	}
	tt->bev = bufferevent_socket_new(srv->ev, fd, BEV_OPT_CLOSE_ON_FREE);
	if (tt->bev == NULL) {
		evutil_closesocket(fd);
		talloc_free(tt);
		return;
	}
	tt->direct_ev = event_new(srv->ev, fd, EV_READ | EV_PERSIST, direct_read_cb, tt);
	talloc_set_destructor(tt, tcp_transport_destructor);
	tt->base.ops = &tcp_ops;
	tt->base.max_pdu = srv->cfg->max_pdu;
	sockaddr_to_str(sa, tt->base.peer, sizeof(tt->base.peer));
	sockaddr_to_addr(sa, tt->base.addr, sizeof(tt->base.addr));
	struct sockaddr_storage ls;
	socklen_t lslen = sizeof(ls);
	if (getsockname(fd, (struct sockaddr *)&ls, &lslen) == 0)
		sockaddr_to_str((struct sockaddr *)&ls, tt->base.local, sizeof(tt->base.local));

	/* The connection owns the transport from here on. */
	struct smbd_conn *conn = smbd_conn_new(srv, &tt->base);
	if (conn == NULL) {
		talloc_free(tt);
		return;
	}
	talloc_steal(conn, tt);
	/* libevent writes 16 KiB per loop turn by default: a 1 MiB READ reply
	 * would take 64 turns (docs/PERFORMANCE.md). */
	bufferevent_set_max_single_write(tt->bev, 4 * 1024 * 1024);
	bufferevent_setcb(tt->bev, tcp_read_cb, NULL, tcp_event_cb, tt);
	bufferevent_setwatermark(tt->bev, EV_READ, 4, 0);
	bufferevent_enable(tt->bev, EV_READ | EV_WRITE);
	(void)salen;
}

static void listener_error_cb(struct evconnlistener *l, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();
	/* EMFILE and friends: keep listening, the next accept may succeed. */
	LOG_WARN("accept failed: %s", evutil_socket_error_to_string(err));
}

static int listener_destructor(struct evconnlistener **pl)
{
	evconnlistener_free(*pl);
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
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) != 0 || listen(fd, 512) != 0) {
		int err = errno;
		close(fd);
		return err;
	}
	struct evconnlistener *l = evconnlistener_new(srv->ev, accept_cb, srv, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (l == NULL) {
		close(fd);
		return ENOMEM;
	}
	evconnlistener_set_error_cb(l, listener_error_cb);
	struct evconnlistener **pl = talloc(srv, struct evconnlistener *);
	if (pl == NULL) {
		evconnlistener_free(l);
		return ENOMEM;
	}
	*pl = l;
	talloc_set_destructor(pl, listener_destructor);
	return 0;
}
