// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Addresses as 128-bit integers, and the geo index built from them at the
 * edges: geo_index.c's own host mask of a /0 shifted by 128 (undefined; 0
 * here), so an IPv6 ::/0 entry covered only the first bucket of the index.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "geo/country.h"
#include "geo/geo_index.h"
#include "lib/cidr.h"
#include "lib/u128.h"

static void host_masks(void **state)
{
	(void)state;
	assert_true(u128_host_mask(0) == U128_MAX);
	assert_true(u128_host_mask(1) == U128_MAX >> 1);
	assert_true(u128_host_mask(64) == (u128)UINT64_MAX);
	assert_true(u128_host_mask(127) == 1);
	assert_true(u128_host_mask(128) == 0);
}

static void addresses_round_trip(void **state)
{
	struct lpm_key key, back = { .prefixlen = 128 };
	char why[ERRMSG_LEN];
	u128 value;

	(void)state;
	assert_int_equal(cidr_parse("2001:db8::1", &key, why), 0);
	value = u128_from_addr(key.addr);
	assert_true(value >> 96 == 0x20010db8);
	assert_true((value & 0xff) == 1);
	u128_to_addr(value + 1, back.addr);
	assert_int_equal(cidr_parse("2001:db8::2", &key, why), 0);
	assert_memory_equal(back.addr, key.addr, ADDR_LEN);
}

/* One pair covering a whole family: every first-level bucket of it names the country. */
static void assert_whole_family(const struct lpm_key *prefix, bool ipv4)
{
	struct geo_pair pair = { .key = *prefix };
	struct geo_index none = { 0 }, index;
	char why[ERRMSG_LEN];
	__u32 want;

	memcpy(pair.value.country, "DE", 3);
	want = 1 + (__u32)country_slot_of_code("DE");
	assert_int_equal(geo_index_build(&pair, 1, &none, &index, why), 0);
	for (size_t bucket = 0; bucket < GEO_INDEX_BUCKETS; bucket++) {
		assert_int_equal((ipv4 ? index.first4 : index.first6)[bucket], want);
		assert_int_equal((ipv4 ? index.first6 : index.first4)[bucket], GEO_INDEX_NONE);
	}
	assert_int_equal(index.mixed, 0);
	geo_index_free(&index);
}

/*
 * cidr_parse refuses ::/0 (it would cover IPv4 too), so such a pair comes
 * only from code; the builder must still index it whole.
 */
static void geo_index_of_slash_zero(void **state)
{
	const struct lpm_key all6 = { .prefixlen = 0 };
	struct lpm_key all4;
	char why[ERRMSG_LEN];

	(void)state;
	assert_whole_family(&all6, false);
	assert_int_equal(cidr_parse("0.0.0.0/0", &all4, why), 0);
	assert_whole_family(&all4, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(host_masks),
		cmocka_unit_test(addresses_round_trip),
		cmocka_unit_test(geo_index_of_slash_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
