// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The whole geo path against the whole world: the real tor-geoipdb goes
 * through the readers, geo_install() and the XDP program's /16 index and
 * trie, and for many random sources the program's verdict must equal what
 * the user-space database says. Random addresses are only ever written into
 * BPF_PROG_TEST_RUN's in-kernel buffer; nothing is sent anywhere.
 *
 * Needs root, and the database (scripts/install-deps.sh unpacks it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "packets.h"
#include "geo/country.h"
#include "geo/geo.h"
#include "geo/geo_formats.h"
#include "kernel/settings.h"
#include "xdp_fixture.h"

#define SAMPLES_PER_FAMILY 50000

struct world {
	struct xdpban_bpf *skel;
	struct maps maps;
	struct geo_db db;
};

static struct world world;

static int load_world(void **state)
{
	const struct geo_load_options automatic = { 0 };
	struct geo_load_report report = { 0 };
	const char *paths[2];
	char why[ERRMSG_LEN];

	(void)state;
	if (geteuid() != 0) {
		fprintf(stderr, "test_geo_world: skipped: needs root to load BPF programs\n");
		exit(77);
	}
	if (geo_default_paths(paths, why)) {
		fprintf(stderr, "test_geo_world: skipped: %s\n", why);
		exit(77);
	}
	geo_db_init(&world.db);
	if (geo_load_files(&world.db, paths, 2, &automatic, &report, why) ||
	    geo_db_finish(&world.db, why))
		fail_msg("%s", why);

	world.skel = xdpban_load_private_maps("test_geo_world", &world.maps);
	return 0;
}

static int unload_world(void **state)
{
	(void)state;
	xdpban_bpf__destroy(world.skel);
	geo_db_free(&world.db);
	return 0;
}

/* Blocks exactly these countries, the way `xdpban geo block` does. */
static void block_only(const char *const *codes, size_t count)
{
	bool wanted[COUNTRY_SLOTS] = { false };
	int all[COUNTRY_SLOTS], slots[COUNTRY_SLOTS];
	struct geo_install_report report;
	char why[ERRMSG_LEN];

	for (int slot = 0; slot < COUNTRY_SLOTS; slot++)
		all[slot] = slot;
	for (size_t i = 0; i < count; i++) {
		slots[i] = country_parse(codes[i], why);
		assert_true(slots[i] >= 0);
		wanted[slots[i]] = true;
	}
	if (geo_install_countries(&world.maps, &world.db, wanted, &report, why))
		fail_msg("%s", why);
	assert_int_equal(geo_set_blocked(&world.maps, all, COUNTRY_SLOTS, false, why), 0);
	assert_int_equal(geo_set_blocked(&world.maps, slots, count, true, why), 0);
}

static bool is_blocked(const char *country, const char *const *codes, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (strncmp(country, codes[i], 2) == 0)
			return true;
	}
	return false;
}

/*
 * A random IPv4 address; an IPv6 one, every other time anywhere in 2000::/3,
 * where the world's prefixes are, else in one of the database's IPv6
 * prefixes (so in the split /32s and /40s that a uniform draw over 2^125
 * addresses all but never meets).
 */
static void random_address(int family, int sample, char text[INET6_ADDRSTRLEN],
			   struct addr_key *key)
{
	size_t ipv6_count = world.db.prefix_count - world.db.ipv4_prefix_count;
	__u8 bytes[16];
	char why[ERRMSG_LEN];
	struct lpm_key lpm;

	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (__u8)random();
	if (family == AF_INET6)
		bytes[0] = 0x20 | (bytes[0] & 0x1f);
	if (family == AF_INET6 && sample % 2) {
		const struct lpm_key *prefix =
		    &world.db.prefixes[world.db.ipv4_prefix_count + (size_t)random() % ipv6_count]
			 .key;

		for (unsigned int bit = 0; bit < prefix->prefixlen; bit++) {
			__u8 mask = (__u8)(0x80 >> bit % 8);

			bytes[bit / 8] =
			    (__u8)((bytes[bit / 8] & ~mask) | (prefix->addr[bit / 8] & mask));
		}
	}
	inet_ntop(family, bytes, text, INET6_ADDRSTRLEN);
	assert_int_equal(cidr_parse(text, &lpm, why), 0);
	cidr_to_addr_key(key, &lpm);
}

/* Runs random SYNs through the program; every verdict must match the database. */
static void verdicts_match_database(int family, const char *const *codes, size_t count)
{
	int prog = bpf_program__fd(world.skel->progs.xdpban);
	size_t drops = 0;

	for (int i = 0; i < SAMPLES_PER_FAMILY; i++) {
		char text[INET6_ADDRSTRLEN];
		struct addr_key addr;
		struct pkt p = { 0 };
		const struct geo_prefix *owner;
		bool expect_drop;

		random_address(family, i, text, &addr);
		owner = geo_db_lookup(&world.db, &addr);
		expect_drop = owner && is_blocked(owner->country, codes, count);
		pkt_tcp_frame(&p, 0, text, 143, TH_SYN);
		LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = p.data, .data_size_in = p.len,
			    .repeat = 1);
		assert_int_equal(bpf_prog_test_run_opts(prog, &run), 0);
		if (run.retval != (expect_drop ? XDP_DROP : XDP_PASS))
			fail_msg("%s (%s): verdict %u, the database says %s", text,
				 owner ? owner->country : "no country", run.retval,
				 expect_drop ? "drop" : "pass");
		drops += expect_drop;
	}
	print_message("%zu of %d random %s sources are in a blocked country\n", drops,
		      SAMPLES_PER_FAMILY, family == AF_INET ? "IPv4" : "IPv6");
	assert_true(drops > 0);
}

static const char *const first_blocks[] = { "CN", "RU", "US", "FR", "BR", "IN" };
static const char *const second_blocks[] = { "CN", "DE", "JP", "ZA", "AU" };

static void blocked_countries_match_the_database(void **state)
{
	(void)state;
	block_only(first_blocks, 6);
	verdicts_match_database(AF_INET, first_blocks, 6);
	verdicts_match_database(AF_INET6, first_blocks, 6);
}

static void changed_blocks_match_the_database(void **state)
{
	(void)state;
	block_only(first_blocks, 6);
	block_only(second_blocks, 5);
	verdicts_match_database(AF_INET, second_blocks, 5);
	verdicts_match_database(AF_INET6, second_blocks, 5);
}

static void reinstalling_the_same_database_writes_nothing(void **state)
{
	bool wanted[COUNTRY_SLOTS];
	struct geo_install_report report;
	char why[ERRMSG_LEN];

	(void)state;
	block_only(second_blocks, 5);
	assert_int_equal(geo_read_blocked(&world.maps, wanted, why), 0);
	assert_int_equal(geo_install_countries(&world.maps, &world.db, wanted, &report, why), 0);
	assert_int_equal(report.written, 0);
	assert_int_equal(report.deleted, 0);
	assert_true(report.unchanged > 0);
}

static void unblocking_everything_empties_the_kernel_tables(void **state)
{
	bool none[COUNTRY_SLOTS] = { false };
	struct geo_install_report report;
	char why[ERRMSG_LEN];
	struct lpm_key key;
	__u32 bucket;
	struct geo_index_entry entry;

	(void)state;
	block_only(first_blocks, 6);
	assert_int_equal(geo_install_countries(&world.maps, &world.db, none, &report, why), 0);
	assert_int_equal(bpf_map_get_next_key(world.maps.geo_prefix, NULL, &key), -ENOENT);
	for (bucket = 0; bucket < GEO_INDEX_BUCKETS; bucket++) {
		assert_int_equal(bpf_map_lookup_elem(world.maps.geo_index4, &bucket, &entry), 0);
		assert_int_equal(entry.country, GEO_INDEX_NONE);
		assert_int_equal(bpf_map_lookup_elem(world.maps.geo_index6, &bucket, &entry), 0);
		assert_int_equal(entry.country, GEO_INDEX_NONE);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(blocked_countries_match_the_database),
		cmocka_unit_test(changed_blocks_match_the_database),
		cmocka_unit_test(reinstalling_the_same_database_writes_nothing),
		cmocka_unit_test(unblocking_everything_empties_the_kernel_tables),
	};

	srandom(1); /* the same samples every run */
	return cmocka_run_group_tests_name("geo_world", tests, load_world, unload_world);
}
