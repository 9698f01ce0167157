// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* DNSBL query names: reversed IPv4 octets, reversed IPv6 nibbles, then the zone. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "unit.h"
#include "lib/cidr.h"
#include "peers/dnsbl.h"

static const char *name_of(const char *address, const char *zone)
{
	static char name[DNSBL_NAME_LEN];
	struct addr_key ip = unit_addr(address);

	assert_true(dnsbl_query_name(&ip, zone, name));
	return name;
}

static void ipv4_octets_are_reversed(void **state)
{
	(void)state;
	assert_string_equal(name_of("192.0.2.66", "bl.example.org"), "66.2.0.192.bl.example.org");
	assert_string_equal(name_of("203.0.113.0", "z"), "0.113.0.203.z");
}

static void ipv6_nibbles_are_reversed(void **state)
{
	(void)state;
	assert_string_equal(
	    name_of("2001:db8::1", "bl.test"),
	    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test");
}

static void a_name_too_long_is_refused(void **state)
{
	char zone[DNSBL_NAME_LEN], name[DNSBL_NAME_LEN];
	struct addr_key ip = { 0 };

	(void)state;
	memset(zone, 'a', sizeof(zone) - 60);
	zone[sizeof(zone) - 60] = '\0';
	assert_false(dnsbl_query_name(&ip, zone, name)); /* 64 nibble bytes + 196 > 255 */
	ip.addr[10] = ip.addr[11] = 0xff;		 /* IPv4-mapped: short enough */
	assert_true(dnsbl_query_name(&ip, zone, name));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_octets_are_reversed),
		cmocka_unit_test(ipv6_nibbles_are_reversed),
		cmocka_unit_test(a_name_too_long_is_refused),
	};

	return cmocka_run_group_tests_name("dnsbl", tests, NULL, NULL);
}
