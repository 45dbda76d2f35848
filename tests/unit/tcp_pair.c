#include "config.h"
#include "tests/unit/tcp_pair.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/util.h>

void tcp_pair(int *srv, int *cli, int small_buf)
{
	int lst = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lst >= 0);
	/* The accepted socket inherits the listener's send buffer. */
	if (small_buf != 0)
		assert_int_equal(setsockopt(lst, SOL_SOCKET, SO_SNDBUF, &small_buf, sizeof(small_buf)), 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	assert_int_equal(bind(lst, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lst, 1), 0);
	assert_int_equal(getsockname(lst, (struct sockaddr *)&a, &alen), 0);
	*cli = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(*cli >= 0);
	if (small_buf != 0)
		assert_int_equal(setsockopt(*cli, SOL_SOCKET, SO_RCVBUF, &small_buf, sizeof(small_buf)), 0);
	assert_int_equal(connect(*cli, (struct sockaddr *)&a, sizeof(a)), 0);
	*srv = accept(lst, NULL, NULL);
	assert_true(*srv >= 0);
	close(lst);
	int one = 1;
	assert_int_equal(setsockopt(*srv, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	assert_int_equal(evutil_make_socket_nonblocking(*srv), 0);
}
