#include "config.h"
#include "smbd/netif.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "lib/wire.h"

/* SockAddr_Storage.Family (MS-SMB2 2.2.32.5.1): Windows' AF_ values. */
#define FAMILY_INTERNETWORK 0x0002
#define FAMILY_INTERNETWORKV6 0x0017

static bool never_offered_by_wildcard(const struct sockaddr *addr)
{
	if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	const struct in6_addr *a6 = &((const struct sockaddr_in6 *)addr)->sin6_addr;
	return IN6_IS_ADDR_LOOPBACK(a6) || IN6_IS_ADDR_LINKLOCAL(a6) || IN6_IS_ADDR_V4MAPPED(a6);
}

bool smbd_netif_listener_covers(const char *listen_host, const struct sockaddr *addr)
{
	if (addr->sa_family == AF_INET) {
		struct in_addr host;
		if (inet_pton(AF_INET, listen_host, &host) != 1)
			return false;
		const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
		if (host.s_addr == htonl(INADDR_ANY))
			return !never_offered_by_wildcard(addr);
		return host.s_addr == in->sin_addr.s_addr;
	}
	if (addr->sa_family == AF_INET6) {
		/* "%scope" stays on a link-local listener's host: drop it. */
		char bare[INET6_ADDRSTRLEN];
		snprintf(bare, sizeof(bare), "%s", listen_host);
		bare[strcspn(bare, "%")] = '\0';
		struct in6_addr host;
		if (inet_pton(AF_INET6, bare, &host) != 1)
			return false;
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
		if (IN6_IS_ADDR_UNSPECIFIED(&host))
			return !never_offered_by_wildcard(addr);
		return memcmp(&host, &in6->sin6_addr, sizeof(host)) == 0;
	}
	return false;
}

static bool any_listener_covers(const struct porthos_config *cfg, const struct sockaddr *addr)
{
	for (size_t i = 0; i < cfg->n_listen; i++) {
		char host[INET6_ADDRSTRLEN + 16];
		uint16_t port;
		if (conf_parse_listen(cfg->listen[i], cfg->default_port, host, sizeof(host), &port) == 0 &&
		    smbd_netif_listener_covers(host, addr))
			return true;
	}
	return false;
}

/* /sys/class/net/<name>/speed is in Mb/s, -1 or absent when unknown. */
static uint64_t link_speed(const char *ifname)
{
	char path[128];
	snprintf(path, sizeof(path), "/sys/class/net/%s/speed", ifname);
	FILE *f = fopen(path, "re");
	long mbps = -1;
	if (f != NULL) {
		if (fscanf(f, "%ld", &mbps) != 1)
			mbps = -1;
		fclose(f);
	}
	return mbps > 0 ? (uint64_t)mbps * 1000000ull : SMBD_NETIF_DEFAULT_SPEED;
}

/* Receive-side scaling: the interface spreads its receive queues over CPUs. */
static bool has_several_rx_queues(const char *ifname)
{
	char path[128];
	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	DIR *d = opendir(path);
	if (d == NULL)
		return false;
	unsigned n = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		if (strncmp(e->d_name, "rx-", 3) == 0)
			n++;
	closedir(d);
	return n > 1;
}

static bool same_address(const struct sockaddr *a, const struct sockaddr_storage *b)
{
	if (a->sa_family != b->ss_family)
		return false;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr == ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)b)->sin6_addr,
		      sizeof(struct in6_addr)) == 0;
}

static void describe_interface(const char *ifname, struct smbd_netif_addr *a)
{
	a->if_index = if_nametoindex(ifname);
	a->link_speed = link_speed(ifname);
	a->capability = has_several_rx_queues(ifname) ? SMBD_NETIF_RSS_CAPABLE : 0;
}

/*
 * "multi channel addresses": what the admin says clients reach, e.g. an
 * address NAT maps to this host or a cluster's public one. An address of
 * a local interface takes that interface's index, speed and RSS; another
 * gets an index of its own past any real one. ";rss" and ";speed=" win.
 */
static size_t configured(const struct porthos_config *cfg, const struct ifaddrs *list,
			 struct smbd_netif_addr *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < cfg->n_mc_addresses && n < max; i++) {
		struct conf_mc_address entry;
		if (conf_parse_mc_address(cfg->mc_addresses[i], &entry) != 0)
			continue; /* checked when the configuration was read */
		struct smbd_netif_addr *a = &out[n++];
		memset(a, 0, sizeof(*a));
		a->addr = entry.addr;
		a->if_index = 0x10000 + (uint32_t)i;
		a->link_speed = SMBD_NETIF_DEFAULT_SPEED;
		for (const struct ifaddrs *l = list; l != NULL; l = l->ifa_next) {
			if (l->ifa_addr != NULL && same_address(l->ifa_addr, &entry.addr)) {
				describe_interface(l->ifa_name, a);
				break;
			}
		}
		if (entry.rss)
			a->capability |= SMBD_NETIF_RSS_CAPABLE;
		if (entry.speed != 0)
			a->link_speed = entry.speed;
	}
	return n;
}

static size_t discovered(const struct porthos_config *cfg, const struct ifaddrs *list,
			 struct smbd_netif_addr *out, size_t max)
{
	size_t n = 0;
	for (const struct ifaddrs *i = list; i != NULL && n < max; i = i->ifa_next) {
		if (i->ifa_addr == NULL || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		if (!(i->ifa_flags & IFF_UP) || !(i->ifa_flags & IFF_RUNNING))
			continue;
		if (!any_listener_covers(cfg, i->ifa_addr))
			continue;
		struct smbd_netif_addr *a = &out[n];
		memset(a, 0, sizeof(*a));
		describe_interface(i->ifa_name, a);
		if (a->if_index == 0) /* MS-SMB2 3.3.5.15.11: never an IfIndex of zero */
			continue;
		memcpy(&a->addr, i->ifa_addr,
		       i->ifa_addr->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
		n++;
	}
	return n;
}

size_t smbd_netif_collect(const struct porthos_config *cfg, struct smbd_netif_addr *out, size_t max)
{
	struct ifaddrs *list;
	if (getifaddrs(&list) != 0)
		list = NULL;
	size_t n = cfg->n_mc_addresses > 0 ? configured(cfg, list, out, max) : discovered(cfg, list, out, max);
	if (list != NULL)
		freeifaddrs(list);
	return n;
}

size_t smbd_netif_encode(const struct smbd_netif_addr *a, size_t n, uint8_t *buf, size_t buf_len)
{
	if (n * SMBD_NETIF_ENTRY_LEN > buf_len)
		return 0;
	memset(buf, 0, n * SMBD_NETIF_ENTRY_LEN);
	for (size_t i = 0; i < n; i++) {
		uint8_t *e = buf + i * SMBD_NETIF_ENTRY_LEN;
		put_le32(e, i + 1 < n ? SMBD_NETIF_ENTRY_LEN : 0); /* Next */
		put_le32(e + 4, a[i].if_index);
		put_le32(e + 8, a[i].capability);
		put_le64(e + 16, a[i].link_speed);
		/* SockAddr_Storage: the family, then the address in network
		 * order; the port is zero (2.2.32.5.1.1, 2.2.32.5.1.2). */
		uint8_t *sa = e + 24;
		if (a[i].addr.ss_family == AF_INET) {
			const struct sockaddr_in *in = (const struct sockaddr_in *)&a[i].addr;
			put_le16(sa, FAMILY_INTERNETWORK);
			memcpy(sa + 4, &in->sin_addr, 4);
		} else {
			const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a[i].addr;
			put_le16(sa, FAMILY_INTERNETWORKV6);
			memcpy(sa + 8, &in6->sin6_addr, 16);
		}
	}
	return n * SMBD_NETIF_ENTRY_LEN;
}
