// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The self-lockout guard's parsers: /proc/net/tcp{,6} tables and sshd's Port lines. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "lib/cidr.h"
#include "bans/protected.h"

/* As the kernel prints them (x86, little-endian): 192.0.2.10:22 <- 198.51.100.7:50432. */
static const char tcp_table[] =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
    "timeout inode\n"
    "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        "
    "0 1 1 0 100 0 0 10 0\n"
    "   1: 0A0200C0:0016 076433C6:C500 01 00000000:00000000 02:0009F2F5 00000000     0        "
    "0 2 4 20 10 -1\n"
    "   2: 0A0200C0:0019 086433C6:C501 01 00000000:00000000 00:00000000 00000000     0        "
    "0 3 1 0 10 -1\n"
    "   3: 0A0200C0:0016 096433C6:C502 06 00000000:00000000 03:00000F8F 00000000     0        "
    "0 0 3 0 0 -1\n";

/* [2001:db8:1::1]:2222 <- [2001:db8:1::2]:40000, established. */
static const char tcp6_table[] =
    "  sl  local_address                         remote_address                        st\n"
    "   0: B80D0120000001000000000001000000:08AE B80D0120000001000000000002000000:9C40 01 "
    "00000000:00000000 00:00000000 00000000     0        0 4 1 0 10 -1\n";

/* Default routes via 192.0.2.1 and 2001:db8:1::1; a non-default route with a gateway is no router.
 */
static const char route_table[] =
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
    "s1\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
    "s1\t00647133\t020200C0\t0003\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
    "s1\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
static const char route6_table[] =
    "20010db8000100000000000000000000 40 00000000000000000000000000000000 00 "
    "00000000000000000000000000000000 00000100 00000001 00000000 00000001     s1\n"
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
    "20010db8000100000000000000000001 00000400 00000002 00000000 00000003     s1\n";

static FILE *stream(const char *text)
{
	FILE *file = fmemopen((void *)text, strlen(text), "r");

	assert_non_null(file);
	return file;
}

static void parse(struct protected_set *set, const char *text, bool ipv6, const uint16_t *ports,
		  size_t count)
{
	struct ssh_ports ssh = { .count = count };
	char why[ERRMSG_LEN];
	FILE *file = stream(text);

	memcpy(ssh.port, ports, count * sizeof(*ports));
	assert_int_equal(protected_parse_tcp_table(set, file, ipv6, &ssh, why), 0);
	fclose(file);
}

static void assert_peer(const struct protected_set *set, size_t i, const char *address)
{
	char text[CIDR_TEXT_LEN];

	cidr_format(&set->items[i].key, text);
	assert_string_equal(text, address);
	assert_int_equal(set->items[i].kind, PROTECTED_SSH_PEER);
}

static void test_ipv4_established_ssh_peers_only(void **state)
{
	const uint16_t ports[] = { 22 };
	struct protected_set set = { 0 };
	char text[PROTECTED_TEXT_LEN];

	(void)state;
	parse(&set, tcp_table, false, ports, 1);
	/* the listener, port 25, and TIME_WAIT (06) are not sessions */
	assert_int_equal(set.count, 1);
	assert_peer(&set, 0, "198.51.100.7");
	protected_describe(&set.items[0], text);
	assert_string_equal(text,
			    "198.51.100.7, the client of an established SSH session (port 22)");
	protected_free(&set);
}

static void test_ipv6_on_another_port(void **state)
{
	const uint16_t ports[] = { 22, 2222 };
	struct protected_set set = { 0 };

	(void)state;
	parse(&set, tcp6_table, true, ports, 2);
	assert_int_equal(set.count, 1);
	assert_peer(&set, 0, "2001:db8:1::2");
	protected_free(&set);
	parse(&set, tcp6_table, true, ports, 1);
	assert_int_equal(set.count, 0);
	protected_free(&set);
}

static void test_sshd_config_ports(void **state)
{
	static const char config[] = "# Port 2200\n"
				     "Port 2222\n"
				     "  port\t2223\n"
				     "Portly 9\n"
				     "ListenAddress 0.0.0.0\n"
				     "Port 99999\n";
	struct ssh_ports ports = { .port = { 22 }, .count = 1 };
	FILE *file = stream(config);

	(void)state;
	protected_ssh_ports_parse(file, &ports);
	fclose(file);
	assert_int_equal(ports.count, 3);
	assert_int_equal(ports.port[1], 2222);
	assert_int_equal(ports.port[2], 2223);
	protected_ssh_ports_read("/nonexistent/sshd_config", &ports);
	assert_int_equal(ports.count, 1);
	assert_int_equal(ports.port[0], 22);
}

static void test_within_and_covers(void **state)
{
	const uint16_t ports[] = { 22 };
	struct protected_set set = { 0 };
	struct lpm_key prefix, host;
	char why[ERRMSG_LEN];

	(void)state;
	parse(&set, tcp_table, false, ports, 1);
	assert_int_equal(cidr_parse("198.51.100.0/24", &prefix, why), 0);
	assert_ptr_equal(protected_within(&set, NULL, &prefix), &set.items[0]);
	assert_int_equal(cidr_parse("198.51.100.128/25", &prefix, why), 0);
	assert_null(protected_within(&set, NULL, &prefix));
	assert_int_equal(cidr_parse("198.51.100.7", &host, why), 0);
	assert_true(protected_covers(&set, &host));
	protected_free(&set);
}

static void test_host_has_loopback(void **state)
{
	struct protected_set set = { 0 };
	struct lpm_key prefix;
	char why[ERRMSG_LEN], text[PROTECTED_TEXT_LEN];
	const struct protected_addr *hit;

	(void)state;
	assert_int_equal(protected_add_host(&set, why), 0);
	assert_int_equal(cidr_parse("127.0.0.1", &prefix, why), 0);
	hit = protected_within(&set, NULL, &prefix);
	assert_non_null(hit);
	protected_describe(hit, text);
	assert_string_equal(text, "loopback (127.0.0.0/8)");
	protected_free(&set);
}

static void parse_routes(struct protected_set *set, const char *text, bool ipv6)
{
	char why[ERRMSG_LEN];
	FILE *file = stream(text);

	assert_int_equal(protected_parse_routes(set, file, ipv6, why), 0);
	fclose(file);
}

static void test_default_routers(void **state)
{
	struct protected_set set = { 0 };
	char text[CIDR_TEXT_LEN], said[PROTECTED_TEXT_LEN];

	(void)state;
	parse_routes(&set, route_table, false);
	parse_routes(&set, route6_table, true);
	assert_int_equal(set.count, 2);
	cidr_format(&set.items[0].key, text);
	assert_string_equal(text, "192.0.2.1");
	cidr_format(&set.items[1].key, text);
	assert_string_equal(text, "2001:db8:1::1");
	assert_int_equal(set.items[1].kind, PROTECTED_ROUTER);
	protected_describe(&set.items[0], said);
	assert_string_equal(said, "192.0.2.1, a default router of this host (s1)");
	protected_free(&set);
}

static bool never(const struct protected_set *set, const char *text)
{
	struct lpm_key key;
	char why[ERRMSG_LEN];

	assert_int_equal(cidr_parse(text, &key, why), 0);
	return protected_within(set, NULL, &key) != NULL;
}

static void test_never_banned(void **state)
{
	struct protected_set set = { 0 };
	char why[ERRMSG_LEN];

	(void)state;
	assert_int_equal(protected_add_never(&set, why), 0);
	assert_true(never(&set, "0.0.0.0"));
	assert_true(never(&set, "::"));
	assert_true(never(&set, "239.1.2.3"));
	assert_true(never(&set, "ff02::1"));
	assert_true(never(&set, "169.254.10.1"));
	assert_true(never(&set, "fe80::1"));
	assert_false(never(&set, "203.0.113.7"));
	assert_false(never(&set, "2001:db8:9::7"));
	protected_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_established_ssh_peers_only),
		cmocka_unit_test(test_ipv6_on_another_port),
		cmocka_unit_test(test_sshd_config_ports),
		cmocka_unit_test(test_within_and_covers),
		cmocka_unit_test(test_host_has_loopback),
		cmocka_unit_test(test_default_routers),
		cmocka_unit_test(test_never_banned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
