/*
 * The server's network interfaces as FSCTL_QUERY_NETWORK_INTERFACE_INFO
 * reports them (MS-SMB2 2.2.32.5, 3.3.5.15.11): the addresses a
 * multichannel client may open further channels to.
 */
#ifndef PORTHOS_SMBD_NETIF_H
#define PORTHOS_SMBD_NETIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct porthos_config;

#define SMBD_NETIF_RSS_CAPABLE 0x00000001
#define SMBD_NETIF_RDMA_CAPABLE 0x00000002
/* One NETWORK_INTERFACE_INFO entry on the wire. */
#define SMBD_NETIF_ENTRY_LEN 152
/* Link speed reported where the kernel knows none (virtual links, loopback). */
#define SMBD_NETIF_DEFAULT_SPEED 1000000000ull

struct smbd_netif_addr {
	uint32_t if_index;
	uint32_t capability;       /* SMBD_NETIF_*_CAPABLE */
	uint64_t link_speed;       /* bits per second */
	struct sockaddr_storage addr; /* AF_INET or AF_INET6, port unused */
};

/*
 * Whether a listener on numeric host 'listen_host' accepts connections to
 * addr: an exact match, or a wildcard (0.0.0.0, ::) of the same family for
 * an address that is neither loopback nor IPv6 link-local (which Windows
 * never offers to another machine).
 */
bool smbd_netif_listener_covers(const char *listen_host, const struct sockaddr *addr);

/*
 * What to offer, at most max entries; returns how many: the "multi
 * channel addresses" of cfg if set, else the addresses of interfaces that
 * are up and that some listener covers. Reads getifaddrs() and
 * /sys/class/net (speed, receive queues): blocking, but only a few small
 * reads, once per query.
 */
size_t smbd_netif_collect(const struct porthos_config *cfg, struct smbd_netif_addr *out, size_t max);

/*
 * The FSCTL output for n addresses: n entries chained by their Next
 * offsets. Returns the bytes written, or 0 if buf_len is too small.
 */
size_t smbd_netif_encode(const struct smbd_netif_addr *a, size_t n, uint8_t *buf, size_t buf_len);

#endif
