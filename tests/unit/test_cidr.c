// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Address and CIDR parsing: what operators type, and every way to get it wrong. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "lib/cidr.h"

/* Parses text and returns its canonical form, failing the test on error. */
static const char *roundtrip(const char *text)
{
	static char out[CIDR_TEXT_LEN];
	struct lpm_key key;
	char why[ERRMSG_LEN];

	assert_int_equal(cidr_parse(text, &key, why), 0);
	cidr_format(&key, out);
	return out;
}

/* Asserts text is rejected and the reason contains expected. */
static void rejected(const char *text, const char *expected)
{
	struct lpm_key key;
	char why[ERRMSG_LEN] = "";

	assert_int_equal(cidr_parse(text, &key, why), -EINVAL);
	if (!strstr(why, expected))
		fail_msg("'%s': reason '%s' lacks '%s'", text, why, expected);
}

static void ipv4_host_is_mapped_full_length(void **state)
{
	struct lpm_key key;
	char why[ERRMSG_LEN];
	const __u8 mapped[ADDR_LEN] = { [10] = 0xff, [11] = 0xff, 192, 0, 2, 1 };

	(void)state;
	assert_int_equal(cidr_parse("192.0.2.1", &key, why), 0);
	assert_int_equal(key.prefixlen, 128);
	assert_memory_equal(key.addr, mapped, ADDR_LEN);
	assert_true(cidr_is_host(&key));
}

static void ipv4_prefix_length_is_offset_by_96(void **state)
{
	struct lpm_key key;
	char why[ERRMSG_LEN];

	(void)state;
	assert_int_equal(cidr_parse("198.51.100.0/24", &key, why), 0);
	assert_int_equal(key.prefixlen, 96 + 24);
	assert_false(cidr_is_host(&key));
}

static void canonical_forms_round_trip(void **state)
{
	(void)state;
	assert_string_equal(roundtrip("192.0.2.1"), "192.0.2.1");
	assert_string_equal(roundtrip("192.0.2.1/32"), "192.0.2.1");
	assert_string_equal(roundtrip("203.0.113.0/24"), "203.0.113.0/24");
	assert_string_equal(roundtrip("0.0.0.0/0"), "0.0.0.0/0");
	assert_string_equal(roundtrip("2001:db8::1"), "2001:db8::1");
	assert_string_equal(roundtrip("2001:DB8:0::/32"), "2001:db8::/32");
	assert_string_equal(roundtrip("2001:db8::1/128"), "2001:db8::1");
	assert_string_equal(roundtrip("::ffff:192.0.2.7"), "192.0.2.7");
}

static void malformed_addresses_are_named(void **state)
{
	(void)state;
	rejected("192.0.2.300", "'192.0.2.300' is not an IPv4 or IPv6 address");
	rejected("192.0.2", "is not an IPv4 or IPv6 address");
	rejected("", "is not an IPv4 or IPv6 address");
	rejected("/24", "is not an IPv4 or IPv6 address");
	rejected("2001:db8:::1", "is not an IPv4 or IPv6 address");
	rejected("2001:db8::1%eth0", "is not an IPv4 or IPv6 address");
	rejected("example.org", "is not an IPv4 or IPv6 address");
	rejected("192.0.2.1 ", "is not an IPv4 or IPv6 address");
}

static void prefix_lengths_out_of_range_are_named(void **state)
{
	(void)state;
	rejected("192.0.2.0/33", "prefix length 33 out of range 0-32");
	rejected("2001:db8::/129", "prefix length 129 out of range 0-128");
	rejected("192.0.2.0/", "prefix length '' is not a number");
	rejected("192.0.2.0/2x", "prefix length '2x' is not a number");
	rejected("192.0.2.0/-1", "prefix length '-1' is not a number");
	rejected("192.0.2.0/99999999999999999999", "out of range");
}

static void host_bits_are_rejected_with_the_network(void **state)
{
	(void)state;
	rejected("192.0.2.1/24", "the network is 192.0.2.0/24");
	rejected("2001:db8::1/32", "the network is 2001:db8::/32");
}

static void ipv6_prefixes_covering_ipv4_are_rejected(void **state)
{
	(void)state;
	rejected("::/0", "would also cover every IPv4 address");
	rejected("::/80", "would also cover every IPv4 address");
	assert_string_equal(roundtrip("2001:db8::/32"), "2001:db8::/32");
	assert_string_equal(roundtrip("::ffff:0.0.0.0/96"), "0.0.0.0/0");
}

static void listing_order_puts_ipv4_first(void **state)
{
	struct lpm_key v4, v6, v4_longer;
	char why[ERRMSG_LEN];

	(void)state;
	assert_int_equal(cidr_parse("203.0.113.0/24", &v4, why), 0);
	assert_int_equal(cidr_parse("203.0.113.0/25", &v4_longer, why), 0);
	assert_int_equal(cidr_parse("2001:db8::/32", &v6, why), 0);
	assert_true(cidr_compare(&v4, &v6) < 0);
	assert_true(cidr_compare(&v6, &v4) > 0);
	assert_true(cidr_compare(&v4, &v4_longer) < 0);
	assert_int_equal(cidr_compare(&v4, &v4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_host_is_mapped_full_length),
		cmocka_unit_test(ipv4_prefix_length_is_offset_by_96),
		cmocka_unit_test(canonical_forms_round_trip),
		cmocka_unit_test(malformed_addresses_are_named),
		cmocka_unit_test(prefix_lengths_out_of_range_are_named),
		cmocka_unit_test(host_bits_are_rejected_with_the_network),
		cmocka_unit_test(ipv6_prefixes_covering_ipv4_are_rejected),
		cmocka_unit_test(listing_order_puts_ipv4_first),
	};

	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
