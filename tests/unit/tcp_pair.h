/* A connected loopback TCP pair for the transport's unit tests. */
#ifndef PORTHOS_TESTS_UNIT_TCP_PAIR_H
#define PORTHOS_TESTS_UNIT_TCP_PAIR_H

/*
 * *srv is the accepted end, non-blocking with TCP_NODELAY, as the server
 * keeps its sockets; *cli the connecting end, blocking. A small_buf other
 * than 0 caps the server's send buffer and the client's receive buffer at
 * that many bytes, so that a few hundred KiB fill them.
 */
void tcp_pair(int *srv, int *cli, int small_buf);

#endif
