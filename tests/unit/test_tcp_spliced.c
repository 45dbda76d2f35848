/* Spliced READ replies on a TCP socket (smbd/tcp_spliced.h): order, and
 * the socket corked only while replies with more in flight go out. */
#include "config.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <talloc.h>

#include "smbd/splice_pipe.h"
#include "smbd/tcp_spliced.h"
#include "tests/unit/tcp_pair.h"

#define KIB 1024u
#define HEAD_LEN 64u
#define DATA_LEN (256 * KIB)
#define REPLIES 2

struct fixture {
	TALLOC_CTX *mem;
	struct event_base *ev;
	struct smbd_pipes *pool;
	int srv, cli;               /* the server's end, the client's end */
	struct bufferevent *bev;
	struct tcp_spliced *q;
	int err;                    /* from the queue's event callback */
};

static uint8_t byte_at(unsigned reply, size_t i)
{
	return (uint8_t)(reply * 31u + i * 7u + i / 4096u);
}

static void queue_event(void *arg, int err)
{
	struct fixture *f = arg;
	if (err != 0)
		f->err = err;
}

static void bev_write(struct bufferevent *bev, void *arg)
{
	struct fixture *f = arg;
	int err = tcp_spliced_drained(f->q);
	if (err != 0)
		f->err = err;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->mem = talloc_new(NULL);
	f->ev = event_base_new();
	f->pool = smbd_pipes_new(f->mem);
	tcp_pair(&f->srv, &f->cli, 32 * KIB);
	f->bev = bufferevent_socket_new(f->ev, f->srv, 0);
	bufferevent_setcb(f->bev, NULL, bev_write, NULL, f);
	bufferevent_enable(f->bev, EV_WRITE);
	f->q = tcp_spliced_new(f->mem, f->bev, 0, queue_event, f);
	*state = f;
	return f->ev != NULL && f->pool != NULL && f->bev != NULL && f->q != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	talloc_free(f->mem); /* the queue, before the bufferevent it uses */
	bufferevent_free(f->bev);
	close(f->srv);
	close(f->cli);
	event_base_free(f->ev);
	free(f);
	return 0;
}

/* A reply: its header into the queue's output, its data into a pipe. */
static void queue_reply(struct fixture *f, unsigned reply, bool more)
{
	uint8_t head[HEAD_LEN];
	for (size_t i = 0; i < HEAD_LEN; i++)
		head[i] = (uint8_t)(0xA0 + reply);
	assert_int_equal(evbuffer_add(tcp_spliced_output(f->q), head, HEAD_LEN), 0);

	struct smbd_pipe *p = smbd_pipe_get(f->pool, f->mem, 0, DATA_LEN);
	assert_non_null(p);
	assert_true(p->cap >= DATA_LEN);
	uint8_t *data = malloc(DATA_LEN);
	for (size_t i = 0; i < DATA_LEN; i++)
		data[i] = byte_at(reply, i);
	size_t put = 0;
	while (put < DATA_LEN) {
		ssize_t n = write(p->wr, data + put, DATA_LEN - put);
		assert_true(n > 0);
		put += (size_t)n;
	}
	free(data);
	p->held = DATA_LEN;
	assert_int_equal(tcp_spliced_add(f->q, p, DATA_LEN, more), 0);
}

static int corked(const struct fixture *f)
{
	int v = -1;
	socklen_t len = sizeof(v);
	assert_int_equal(getsockopt(f->srv, IPPROTO_TCP, TCP_CORK, &v, &len), 0);
	return v;
}

/* Reads all the replies on the client's end while the loop sends them;
 * checks each header and byte, in order. */
static void receive_all(struct fixture *f)
{
	const size_t one = HEAD_LEN + DATA_LEN, total = REPLIES * one;
	uint8_t *got = malloc(total);
	size_t have = 0;
	time_t deadline = time(NULL) + 10;
	while (have < total && f->err == 0) {
		assert_true(time(NULL) < deadline);
		event_base_loop(f->ev, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		struct pollfd pf = { .fd = f->cli, .events = POLLIN };
		if (poll(&pf, 1, 10) == 1) {
			ssize_t n = recv(f->cli, got + have, total - have, MSG_DONTWAIT);
			assert_true(n > 0 || (n < 0 && errno == EAGAIN));
			if (n > 0)
				have += (size_t)n;
		}
	}
	assert_int_equal(f->err, 0);
	for (unsigned r = 0; r < REPLIES; r++) {
		const uint8_t *rep = got + r * one;
		for (size_t i = 0; i < HEAD_LEN; i++)
			assert_int_equal(rep[i], 0xA0 + r);
		for (size_t i = 0; i < DATA_LEN; i++)
			if (rep[HEAD_LEN + i] != byte_at(r, i))
				fail_msg("reply %u, byte %zu differs", r, i);
	}
	free(got);
	assert_int_equal(tcp_spliced_pending(f->q), 0);
}

/* With other requests in flight, the socket stays corked while replies
 * wait (only full segments leave); once all are sent the cork is off,
 * though the requests still in flight (a NOTIFY, say) have not replied:
 * the last segment is not held back. */
static void test_corked_while_more_follow(void **state)
{
	struct fixture *f = *state;
	for (unsigned r = 0; r < REPLIES; r++)
		queue_reply(f, r, true);
	/* The small buffers took only part of the first reply. */
	assert_true(tcp_spliced_pending(f->q) > DATA_LEN);
	assert_int_equal(corked(f), 1);
	receive_all(f);
	assert_int_equal(corked(f), 0);
}

/* A reply with nothing in flight behind it goes out uncorked throughout. */
static void test_never_corked_alone(void **state)
{
	struct fixture *f = *state;
	for (unsigned r = 0; r < REPLIES; r++)
		queue_reply(f, r, false);
	assert_true(tcp_spliced_pending(f->q) > DATA_LEN);
	assert_int_equal(corked(f), 0);
	receive_all(f);
	assert_int_equal(corked(f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_corked_while_more_follow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_corked_alone, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
