// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The country database: splitting ranges into the fewest prefixes, merging
 * same-country neighbours, conflicts between countries, clipping IPv4 out of
 * IPv6 ranges, lookups, and a randomised check against a brute-force model.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "unit.h"
#include "lib/cidr.h"
#include "geo/country.h"
#include "geo/geo_db.h"

static int slot(const char *code)
{
	char why[ERRMSG_LEN];
	int country = country_parse(code, why);

	assert_true(country >= 0);
	return country;
}

/* A db with one source, "test", whose lines are numbered by the caller. */
static void start_db(struct geo_db *db)
{
	geo_db_init(db);
	assert_int_equal(geo_db_add_source(db, "test"), 0);
}

static int add_range(struct geo_db *db, const char *first, const char *last, const char *country,
		     unsigned long line)
{
	struct addr_key from = unit_addr(first), to = unit_addr(last);
	struct geo_origin origin = { .source = 0, .line = line };
	char why[ERRMSG_LEN];

	return geo_db_add_range(db, &from, &to, slot(country), origin, why);
}

static int add_prefix(struct geo_db *db, const char *text, const char *country)
{
	struct geo_origin origin = { .source = 0, .line = 1 };
	char why[ERRMSG_LEN];
	struct lpm_key key;

	/* cidr_parse() refuses ::/0 and the like; build those by hand. */
	if (cidr_parse(text, &key, why)) {
		memset(&key, 0, sizeof(key));
		assert_string_equal(text, "::/0");
	}
	return geo_db_add_prefix(db, &key, slot(country), origin, why);
}

static void finish(struct geo_db *db)
{
	char why[ERRMSG_LEN] = "";
	int err = geo_db_finish(db, why);

	if (err)
		fail_msg("geo_db_finish: %s", why);
}

static const char *prefix_text(const struct geo_db *db, size_t i)
{
	static char text[CIDR_TEXT_LEN];

	assert_true(i < db->prefix_count);
	cidr_format(&db->prefixes[i].key, text);
	return text;
}

static const char *country_of(const struct geo_db *db, const char *addr_text)
{
	struct addr_key addr = unit_addr(addr_text);
	const struct geo_prefix *found = geo_db_lookup(db, &addr);

	return found ? found->country : "none";
}

static void aligned_range_is_one_prefix(void **state)
{
	struct geo_db db;

	(void)state;
	start_db(&db);
	assert_int_equal(add_range(&db, "192.0.2.0", "192.0.2.255", "de", 1), 0);
	finish(&db);
	assert_int_equal(db.prefix_count, 1);
	assert_string_equal(prefix_text(&db, 0), "192.0.2.0/24");
	assert_int_equal(db.prefixes[0].key.prefixlen, 96 + 24);
	assert_string_equal(db.prefixes[0].country, "DE");
	assert_int_equal(db.country_prefixes[slot("DE")], 1);
	geo_db_free(&db);
}

static void unaligned_ipv4_range_needs_62_prefixes(void **state)
{
	struct geo_db db;
	uint64_t covered = 0;

	(void)state;
	start_db(&db);
	assert_int_equal(add_range(&db, "0.0.0.1", "255.255.255.254", "US", 1), 0);
	finish(&db);
	assert_int_equal(db.prefix_count, 62);
	assert_int_equal(db.ipv4_prefix_count, 62);
	assert_string_equal(prefix_text(&db, 0), "0.0.0.1");
	assert_string_equal(prefix_text(&db, 1), "0.0.0.2/31");
	assert_string_equal(prefix_text(&db, 30), "64.0.0.0/2");
	assert_string_equal(prefix_text(&db, 31), "128.0.0.0/2");
	assert_string_equal(prefix_text(&db, 61), "255.255.255.254");
	for (size_t i = 0; i < db.prefix_count; i++)
		covered += 1ULL << (128 - db.prefixes[i].key.prefixlen);
	assert_int_equal(covered, 0xfffffffeULL);
	assert_string_equal(country_of(&db, "0.0.0.0"), "none");
	assert_string_equal(country_of(&db, "0.0.0.1"), "US");
	assert_string_equal(country_of(&db, "255.255.255.254"), "US");
	assert_string_equal(country_of(&db, "255.255.255.255"), "none");
	geo_db_free(&db);
}

static void unaligned_ipv6_range_needs_126_prefixes(void **state)
{
	struct geo_db db;

	(void)state;
	start_db(&db);
	assert_int_equal(add_range(&db, "2001:db8::1", "2001:db8::ffff:ffff:ffff:fffe", "NL", 1),
			 0);
	finish(&db);
	/* A /64 without its first and last address: /128 ... /66 up, then /66 ... /128 down. */
	assert_int_equal(db.prefix_count, 126);
	assert_int_equal(db.ipv4_prefix_count, 0);
	assert_string_equal(prefix_text(&db, 0), "2001:db8::1");
	assert_string_equal(prefix_text(&db, 62), "2001:db8:0:0:4000::/66");
	assert_string_equal(prefix_text(&db, 63), "2001:db8:0:0:8000::/66");
	assert_string_equal(prefix_text(&db, 125), "2001:db8::ffff:ffff:ffff:fffe");
	geo_db_free(&db);
}

static void ends_of_the_address_space(void **state)
{
	struct geo_db db;

	(void)state;
	start_db(&db);
	assert_int_equal(add_range(&db, "0.0.0.0", "255.255.255.255", "AU", 1), 0);
	assert_int_equal(add_range(&db, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
				   "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "JP", 2),
			 0);
	assert_int_equal(add_range(&db, "::", "::", "JP", 3), 0);
	finish(&db);
	assert_int_equal(db.prefix_count, 3);
	assert_int_equal(db.ipv4_prefix_count, 1);
	assert_string_equal(prefix_text(&db, 0), "0.0.0.0/0");
	assert_int_equal(db.prefixes[0].key.prefixlen, 96);
	assert_string_equal(prefix_text(&db, 1), "::");
	assert_string_equal(prefix_text(&db, 2), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_string_equal(country_of(&db, "255.255.255.255"), "AU");
	assert_string_equal(country_of(&db, "0.0.0.0"), "AU");
	assert_string_equal(country_of(&db, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "JP");
	assert_string_equal(country_of(&db, "::1"), "none");
	geo_db_free(&db);
}

static void adjacent_and_overlapping_same_country_merge(void **state)
{
	struct geo_db db;

	(void)state;
	start_db(&db);
	/* Out of order on purpose: two /25 of DE, then a duplicate and an overlap. */
	assert_int_equal(add_range(&db, "192.0.2.128", "192.0.2.255", "DE", 1), 0);
	assert_int_equal(add_range(&db, "192.0.2.0", "192.0.2.127", "DE", 2), 0);
	assert_int_equal(add_range(&db, "192.0.2.0", "192.0.2.127", "DE", 3), 0);
	assert_int_equal(add_range(&db, "192.0.3.0", "192.0.3.200", "DE", 4), 0);
	assert_int_equal(add_range(&db, "192.0.3.100", "192.0.3.255", "DE", 5), 0);
	/* Adjacent, but another country: stays apart. */
	assert_int_equal(add_range(&db, "192.0.4.0", "192.0.4.255", "FR", 6), 0);
	finish(&db);
	assert_int_equal(db.prefix_count, 2);
	assert_string_equal(prefix_text(&db, 0), "192.0.2.0/23");
	assert_string_equal(db.prefixes[0].country, "DE");
	assert_string_equal(prefix_text(&db, 1), "192.0.4.0/24");
	assert_string_equal(db.prefixes[1].country, "FR");
	assert_int_equal(db.country_prefixes[slot("DE")], 1);
	assert_int_equal(db.country_prefixes[slot("FR")], 1);
	geo_db_free(&db);
}

/* The last IPv6 address below ::ffff:0:0 and 0.0.0.0 are neighbours as numbers, not as families. */
static void ipv4_and_ipv6_neighbours_never_merge(void **state)
{
	struct geo_db db;

	(void)state;
	start_db(&db);
	assert_int_equal(add_prefix(&db, "::fffe:0:0/96", "SE"), 0);
	assert_int_equal(add_prefix(&db, "0.0.0.0/0", "SE"), 0);
	finish(&db);
	assert_int_equal(db.prefix_count, 2);
	assert_int_equal(db.ipv4_prefix_count, 1);
	assert_string_equal(prefix_text(&db, 0), "0.0.0.0/0");
	assert_string_equal(prefix_text(&db, 1), "::fffe:0:0/96");
	geo_db_free(&db);
}

static void overlap_of_two_countries_names_both(void **state)
{
	struct geo_origin origin = { .line = 7 };
	struct addr_key first = unit_addr("192.0.2.128"), last = unit_addr("192.0.2.200");
	char why[ERRMSG_LEN];
	struct geo_db db;

	(void)state;
	start_db(&db);
	assert_int_equal(geo_db_add_source(&db, "other.csv"), 1);
	assert_int_equal(add_range(&db, "192.0.2.0", "192.0.2.255", "DE", 3), 0);
	origin.source = 1;
	assert_int_equal(geo_db_add_range(&db, &first, &last, slot("FR"), origin, why), 0);
	assert_int_equal(add_range(&db, "2001:db8::", "2001:db8::ff", "NL", 9), 0);
	assert_int_equal(add_range(&db, "2001:db8::80", "2001:db8::80", "BE", 10), 0);
	assert_int_equal(geo_db_finish(&db, why), -EINVAL);
	assert_why_has(why, "test:3: 192.0.2.0/24 (DE)");
	assert_why_has(why, "other.csv:7: 192.0.2.128-192.0.2.200 (FR)");
	assert_why_has(why, "and 1 more overlaps");
	assert_null(db.prefixes);
	geo_db_free(&db);
}

/* An IPv6 range around ::ffff:0:0/96 keeps its IPv6 part only: IPv4 has its own ranges. */
static void ipv6_range_around_ipv4_is_clipped(void **state)
{
	struct geo_db db;

	(void)state;
	start_db(&db);
	assert_int_equal(add_prefix(&db, "::/0", "US"), GEO_DB_CLIPPED_IPV4);
	assert_int_equal(add_range(&db, "::fffe:0:0", "::1:0:0:ff", "CA", 2), GEO_DB_CLIPPED_IPV4);
	assert_int_equal(add_range(&db, "::ffff:192.0.2.0", "::ffff:192.0.2.255", "DE", 3), 0);
	assert_int_equal(geo_db_range_count(&db), 5);
	geo_db_drop_ranges(&db, 2); /* keep ::/0 only: the ranges below and above IPv4 */
	finish(&db);
	/* [::, ::fffe:ffff:ffff] is 16 prefixes, [::1:0:0:0, ffff:...] is 80. */
	assert_int_equal(db.prefix_count, 96);
	assert_int_equal(db.ipv4_prefix_count, 0);
	assert_string_equal(prefix_text(&db, 0), "::/81");
	assert_string_equal(prefix_text(&db, 15), "::fffe:0:0/96");
	assert_string_equal(prefix_text(&db, 16), "::1:0:0:0/80");
	assert_string_equal(prefix_text(&db, 95), "8000::/1");
	assert_string_equal(country_of(&db, "192.0.2.1"), "none");
	assert_string_equal(country_of(&db, "0.0.0.0"), "none");
	assert_string_equal(country_of(&db, "::1"), "US");
	assert_string_equal(country_of(&db, "2001:db8::1"), "US");
	assert_int_equal(db.country_prefixes[slot("US")], 96);
	geo_db_free(&db);
}

static void ipv4_written_as_ipv6_is_ipv4(void **state)
{
	struct geo_db db;

	(void)state;
	start_db(&db);
	assert_int_equal(add_range(&db, "::ffff:192.0.2.0", "::ffff:192.0.2.255", "DE", 1), 0);
	finish(&db);
	assert_int_equal(db.ipv4_prefix_count, 1);
	assert_string_equal(prefix_text(&db, 0), "192.0.2.0/24");
	geo_db_free(&db);
}

/* Output order is cidr_compare()'s: IPv4 first, even with IPv6 below ::ffff:0:0. */
static void ipv4_first_then_ipv6_in_address_order(void **state)
{
	struct geo_db db;

	(void)state;
	start_db(&db);
	assert_int_equal(add_prefix(&db, "2001:db8::/32", "FR"), 0);
	assert_int_equal(add_prefix(&db, "203.0.113.0/24", "GB"), 0);
	assert_int_equal(add_prefix(&db, "::1", "FR"), 0);
	assert_int_equal(add_prefix(&db, "192.0.2.0/24", "DE"), 0);
	finish(&db);
	assert_int_equal(db.prefix_count, 4);
	assert_int_equal(db.ipv4_prefix_count, 2);
	for (size_t i = 1; i < db.prefix_count; i++)
		assert_true(cidr_compare(&db.prefixes[i - 1].key, &db.prefixes[i].key) < 0);
	assert_string_equal(prefix_text(&db, 0), "192.0.2.0/24");
	assert_string_equal(prefix_text(&db, 2), "::1");
	assert_string_equal(country_of(&db, "::1"), "FR");
	assert_string_equal(country_of(&db, "2001:db8:ffff::1"), "FR");
	assert_string_equal(country_of(&db, "2001:db9::"), "none");
	assert_string_equal(country_of(&db, "203.0.113.255"), "GB");
	assert_string_equal(country_of(&db, "198.51.100.1"), "none");
	geo_db_free(&db);
}

static void bad_ranges_and_misuse_are_refused(void **state)
{
	struct geo_origin origin = { .source = 0, .line = 1 };
	struct addr_key high = unit_addr("192.0.2.9"), low = unit_addr("192.0.2.1");
	struct lpm_key host_bits = { .prefixlen = 120 };
	char why[ERRMSG_LEN];
	struct geo_db db;

	(void)state;
	start_db(&db);
	assert_int_equal(geo_db_add_range(&db, &high, &low, slot("DE"), origin, why), -EINVAL);
	assert_why_has(why, "192.0.2.9-192.0.2.1 ends before it starts");
	assert_int_equal(geo_db_add_range(&db, &low, &high, 25 * 26 + 25, origin, why), -EINVAL);
	host_bits.addr[15] = 1;
	assert_int_equal(geo_db_add_prefix(&db, &host_bits, slot("DE"), origin, why), -EINVAL);
	assert_why_has(why, "host bits");
	origin.source = 5;
	assert_int_equal(geo_db_add_range(&db, &low, &high, slot("DE"), origin, why), -EINVAL);
	assert_int_equal(geo_db_range_count(&db), 0);
	finish(&db);
	assert_int_equal(db.prefix_count, 0);
	origin.source = 0;
	assert_int_equal(geo_db_add_range(&db, &low, &high, slot("DE"), origin, why), -EINVAL);
	assert_why_has(why, "already finished");
	assert_int_equal(geo_db_finish(&db, why), -EINVAL);
	geo_db_free(&db);
}

static void prefixes_that_hold_the_ipv4_block(void **state)
{
	struct lpm_key all = { .prefixlen = 0 }, mapped96 = { .prefixlen = 80 };
	struct lpm_key doc = { .prefixlen = 32, .addr = { 0x20, 0x01, 0x0d, 0xb8 } };

	(void)state;
	assert_true(geo_prefix_holds_ipv4_block(&all));
	assert_true(geo_prefix_holds_ipv4_block(&mapped96));
	assert_false(geo_prefix_holds_ipv4_block(&doc));
	mapped96.addr[10] = mapped96.addr[11] = 0xff;
	mapped96.prefixlen = 96;
	assert_false(geo_prefix_holds_ipv4_block(&mapped96)); /* that is IPv4 itself */
}

/* ---- Randomised: non-overlapping ranges in random order against a model. ---- */

#define MODEL_RANGES 2000

struct model_range {
	uint32_t first;
	uint32_t last;
	int country;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t next_random(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)rng_state;
}

static struct addr_key ipv4_key(uint32_t value)
{
	struct addr_key addr = { .addr = { [10] = 0xff, [11] = 0xff } };

	addr.addr[12] = value >> 24;
	addr.addr[13] = value >> 16;
	addr.addr[14] = value >> 8;
	addr.addr[15] = value;
	return addr;
}

static uint64_t ipv4_value(const struct geo_prefix *prefix)
{
	const __u8 *addr = prefix->key.addr;

	return (uint64_t)addr[12] << 24 | addr[13] << 16 | addr[14] << 8 | addr[15];
}

/* Model: ranges made by cutting [0, 2^32) at sorted random points; some left without a country. */
static size_t make_model(struct model_range *model)
{
	static const char *const codes[] = { "DE", "FR", "NL" };
	uint32_t start = 0;
	size_t count = 0;

	while (count < MODEL_RANGES) {
		uint32_t len = next_random() % (1u << (next_random() % 21)) + 1;
		uint32_t pick = next_random() % 4;

		if (start > UINT32_MAX - len)
			break;
		if (pick < 3)
			model[count++] =
			    (struct model_range){ start, start + len - 1, slot(codes[pick]) };
		start += len;
	}
	return count;
}

static int model_country(const struct model_range *model, size_t count, uint32_t value)
{
	for (size_t i = 0; i < count; i++) {
		if (value >= model[i].first && value <= model[i].last)
			return model[i].country;
	}
	return -1;
}

static void random_ranges_match_the_model(void **state)
{
	static struct model_range model[MODEL_RANGES];
	size_t count = make_model(model), *order = malloc(count * sizeof(*order));
	struct geo_origin origin = { 0 };
	char why[ERRMSG_LEN];
	struct geo_db db;

	(void)state;
	assert_non_null(order);
	for (size_t i = 0; i < count; i++)
		order[i] = i;
	for (size_t i = count - 1; i > 0; i--) {
		size_t j = next_random() % (i + 1), swap = order[i];

		order[i] = order[j];
		order[j] = swap;
	}
	start_db(&db);
	for (size_t i = 0; i < count; i++) {
		const struct model_range *range = &model[order[i]];
		struct addr_key first = ipv4_key(range->first), last = ipv4_key(range->last);

		assert_int_equal(geo_db_add_range(&db, &first, &last, range->country, origin, why),
				 0);
	}
	finish(&db);
	/* Sorted, and no two neighbours of one country are the two halves of one block. */
	for (size_t i = 1; i < db.prefix_count; i++) {
		const struct geo_prefix *a = &db.prefixes[i - 1], *b = &db.prefixes[i];
		uint64_t size = 1ULL << (128 - a->key.prefixlen);
		uint64_t a_first = ipv4_value(a), b_first = ipv4_value(b);

		assert_true(cidr_compare(&a->key, &b->key) < 0);
		assert_false(!strcmp(a->country, b->country) &&
			     a->key.prefixlen == b->key.prefixlen && a_first % (2 * size) == 0 &&
			     b_first == a_first + size);
	}
	for (unsigned int probe = 0; probe < 20000; probe++) {
		uint32_t value = probe < 2 * count ? (probe % 2 ? model[probe / 2].last + 1
								: model[probe / 2].first)
						   : next_random();
		struct addr_key addr = ipv4_key(value);
		const struct geo_prefix *found = geo_db_lookup(&db, &addr);
		int expected = model_country(model, count, value);
		char code[COUNTRY_CODE_LEN];

		if (expected < 0) {
			assert_null(found);
			continue;
		}
		assert_non_null(found);
		country_code(expected, code);
		assert_string_equal(found->country, code);
	}
	free(order);
	geo_db_free(&db);
}

static void country_codes_are_two_letters_from_the_list(void **state)
{
	char why[ERRMSG_LEN], code[COUNTRY_CODE_LEN];

	(void)state;
	assert_int_equal(country_parse("DE", why), ('D' - 'A') * 26 + ('E' - 'A'));
	assert_int_equal(country_parse("de", why), country_parse("DE", why));
	country_code(country_parse("gb", why), code);
	assert_string_equal(code, "GB");
	assert_string_equal(country_name(country_parse("KR", why)), "Korea (Republic)");
	/* Regions and reserved codes that databases use. */
	assert_true(country_parse("EU", why) >= 0);
	assert_true(country_parse("AP", why) >= 0);
	assert_true(country_parse("UK", why) >= 0);
	/* "No country" markers. */
	assert_int_equal(country_parse("??", why), -ENOENT);
	assert_int_equal(country_parse("ZZ", why), -ENOENT);
	assert_int_equal(country_parse("QQ", why), -ESRCH);
	assert_why_has(why, "unknown country code 'QQ'");
	assert_int_equal(country_parse("D", why), -EINVAL);
	assert_int_equal(country_parse("DEU", why), -EINVAL);
	assert_int_equal(country_parse("D1", why), -EINVAL);
	assert_int_equal(country_parse("", why), -EINVAL);
	assert_why_has(why, "is not two letters");
	assert_false(country_slot_is_valid(-1));
	assert_false(country_slot_is_valid(COUNTRY_SLOTS));
	assert_null(country_name(country_parse("XX", why)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(country_codes_are_two_letters_from_the_list),
		cmocka_unit_test(aligned_range_is_one_prefix),
		cmocka_unit_test(unaligned_ipv4_range_needs_62_prefixes),
		cmocka_unit_test(unaligned_ipv6_range_needs_126_prefixes),
		cmocka_unit_test(ends_of_the_address_space),
		cmocka_unit_test(adjacent_and_overlapping_same_country_merge),
		cmocka_unit_test(ipv4_and_ipv6_neighbours_never_merge),
		cmocka_unit_test(overlap_of_two_countries_names_both),
		cmocka_unit_test(ipv6_range_around_ipv4_is_clipped),
		cmocka_unit_test(ipv4_written_as_ipv6_is_ipv4),
		cmocka_unit_test(ipv4_first_then_ipv6_in_address_order),
		cmocka_unit_test(bad_ranges_and_misuse_are_refused),
		cmocka_unit_test(prefixes_that_hold_the_ipv4_block),
		cmocka_unit_test(random_ranges_match_the_model),
	};

	return cmocka_run_group_tests_name("geo_db", tests, NULL, NULL);
}
