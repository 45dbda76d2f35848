/*
 * READ replies whose data waits in a pipe (smbd/splice_pipe.h), sent on a
 * TCP connection in order with everything else it sends
 * (smbd/transport.h, send_spliced).
 *
 * The bufferevent's output holds only what goes before the first spliced
 * reply: anything sent after a spliced reply waits in that reply's own
 * buffer (tcp_spliced_output() says where the next PDU goes). Once the
 * output before a reply has drained, its data is spliced from the pipe
 * into the socket, without blocking, on the loop; then what waited
 * behind it moves into the output, and the next reply waits for that.
 *
 * One per connection, made with its first spliced reply. Loop thread only.
 */
#ifndef PORTHOS_SMBD_TCP_SPLICED_H
#define PORTHOS_SMBD_TCP_SPLICED_H

#include <stdbool.h>
#include <stddef.h>
#include <talloc.h>

struct bufferevent;
struct evbuffer;
struct smbd_pipe;
struct tcp_spliced;

/* Bytes left the queue while the socket was awaited (err 0: the
 * transport may resume reading), or the socket failed (an errno: the
 * connection must end). Runs only from the queue's own socket event. */
typedef void (*tcp_spliced_event_fn)(void *arg, int err);

/* out_low: the bufferevent's write low-water mark, restored once the
 * queue is empty (it is 0 while a reply waits for the output to drain). */
struct tcp_spliced *tcp_spliced_new(TALLOC_CTX *mem, struct bufferevent *bev, size_t out_low,
				    tcp_spliced_event_fn fn, void *arg);

/* Where the connection's next PDU goes: the bufferevent's output, or the
 * buffer behind the last spliced reply. */
struct evbuffer *tcp_spliced_output(struct tcp_spliced *q);

/*
 * Queues len bytes of p after what tcp_spliced_output() holds now (the
 * reply's header, put there by the caller); takes p. more: other
 * requests are in flight on the connection, so more replies are likely
 * to follow this one (the socket is then corked while it goes out). 0,
 * or the errno of a failed socket.
 */
int tcp_spliced_add(struct tcp_spliced *q, struct smbd_pipe *p, size_t len, bool more);

/* Bytes queued behind the bufferevent's output. */
size_t tcp_spliced_pending(const struct tcp_spliced *q);

/* The bufferevent's output has drained (its write callback): the next
 * reply's data goes. 0, or the errno of a failed socket. */
int tcp_spliced_drained(struct tcp_spliced *q);

#endif
