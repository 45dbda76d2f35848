/* Unit tests for smbd/netif: which addresses listeners offer, and the wire form. */
#include "config.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/wire.h"
#include "smbd/netif.h"

static struct sockaddr_storage v4(const char *s)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	in->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, s, &in->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage v6(const char *s)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	in6->sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, s, &in6->sin6_addr), 1);
	return ss;
}

static bool covers(const char *host, struct sockaddr_storage ss)
{
	return smbd_netif_listener_covers(host, (const struct sockaddr *)&ss);
}

static void test_listener_covers(void **state)
{
	(void)state;
	/* Wildcards offer every address of their family... */
	assert_true(covers("0.0.0.0", v4("192.0.2.7")));
	assert_true(covers("::", v6("2001:db8::7")));
	assert_false(covers("0.0.0.0", v6("2001:db8::7")));
	assert_false(covers("::", v4("192.0.2.7")));
	/* ... but never loopback, IPv6 link-local or v4-mapped ones. */
	assert_false(covers("0.0.0.0", v4("127.0.0.1")));
	assert_false(covers("0.0.0.0", v4("127.1.2.3")));
	assert_false(covers("::", v6("::1")));
	assert_false(covers("::", v6("fe80::1")));
	assert_false(covers("::", v6("::ffff:192.0.2.7")));
	/* A listener on one address offers exactly that one, loopback too. */
	assert_true(covers("127.0.0.1", v4("127.0.0.1")));
	assert_false(covers("127.0.0.1", v4("127.0.0.2")));
	assert_true(covers("192.0.2.7", v4("192.0.2.7")));
	assert_false(covers("192.0.2.7", v4("192.0.2.8")));
	assert_true(covers("fe80::1%eth0", v6("fe80::1")));
	assert_false(covers("not-an-address", v4("192.0.2.7")));
}

static void test_encode(void **state)
{
	(void)state;
	struct smbd_netif_addr a[2] = {
		{ .if_index = 2, .capability = SMBD_NETIF_RSS_CAPABLE, .link_speed = 10000000000ull, .addr = v4("192.0.2.7") },
		{ .if_index = 3, .capability = 0, .link_speed = SMBD_NETIF_DEFAULT_SPEED, .addr = v6("2001:db8::7") },
	};
	uint8_t buf[2 * SMBD_NETIF_ENTRY_LEN];
	assert_int_equal(smbd_netif_encode(a, 2, buf, sizeof(buf) - 1), 0);
	assert_int_equal(smbd_netif_encode(a, 2, buf, sizeof(buf)), sizeof(buf));

	const uint8_t *e = buf;
	assert_int_equal(le32(e), SMBD_NETIF_ENTRY_LEN); /* Next */
	assert_int_equal(le32(e + 4), 2);
	assert_int_equal(le32(e + 8), SMBD_NETIF_RSS_CAPABLE);
	assert_int_equal(le32(e + 12), 0);
	assert_true(le64(e + 16) == 10000000000ull);
	assert_int_equal(le16(e + 24), 0x0002); /* INTERNETWORK */
	assert_int_equal(le16(e + 26), 0);      /* port */
	static const uint8_t addr4[4] = { 192, 0, 2, 7 };
	assert_memory_equal(e + 28, addr4, 4);

	e = buf + SMBD_NETIF_ENTRY_LEN;
	assert_int_equal(le32(e), 0); /* the last one */
	assert_int_equal(le32(e + 4), 3);
	assert_int_equal(le16(e + 24), 0x0017); /* INTERNETWORKV6 */
	struct sockaddr_storage ss = v6("2001:db8::7");
	assert_memory_equal(e + 32, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	static const uint8_t zero[16];
	assert_memory_equal(e + 48, zero, 16); /* scope id and the rest */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listener_covers),
		cmocka_unit_test(test_encode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
