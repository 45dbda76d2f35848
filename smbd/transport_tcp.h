#ifndef PORTHOS_SMBD_TRANSPORT_TCP_H
#define PORTHOS_SMBD_TRANSPORT_TCP_H

#include <stdint.h>

struct smbd_server;

/* Opens a listening socket on host:port ("0.0.0.0", "::", "127.0.0.1"…); 0 or errno. */
int smbd_tcp_listen(struct smbd_server *srv, const char *host, uint16_t port);

#endif
