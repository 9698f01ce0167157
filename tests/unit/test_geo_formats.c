// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Country database readers: each format with good, bad and edge-case input
 * (fixtures in tests/fixtures/geo/ and in-memory text), format detection,
 * whole-file rejection versus skip_bad, hostile bytes, and the real
 * tor-geoipdb when it is installed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "unit.h"
#include "lib/cidr.h"
#include "geo/country.h"
#include "geo/geo_db.h"
#include "geo/geo_formats.h"

#define FIXTURES "tests/fixtures/geo/"

typedef int (*reader_fn)(struct geo_db *db, FILE *file, const char *name,
			 const struct geo_load_options *options, struct geo_load_report *report,
			 char why[ERRMSG_LEN]);

/* A db filled by one reader (or by geo_load_files), finished when the load worked. */
struct loaded {
	struct geo_db db;
	struct geo_load_report report;
	int err;
	char why[ERRMSG_LEN];
};

static void finish_if_loaded(struct loaded *out)
{
	char why[ERRMSG_LEN];

	if (out->err)
		return;
	if (geo_db_finish(&out->db, why))
		fail_msg("geo_db_finish: %s", why);
}

/* Reads len bytes of text (NUL bytes allowed) as the file called name. */
static void read_bytes(struct loaded *out, reader_fn reader, const char *name, const char *text,
		       size_t len, const struct geo_load_options *options)
{
	FILE *file = fmemopen((void *)text, len, "r");

	memset(out, 0, sizeof(*out));
	assert_non_null(file);
	geo_db_init(&out->db);
	out->err = reader(&out->db, file, name, options, &out->report, out->why);
	fclose(file);
	finish_if_loaded(out);
}

static void read_text(struct loaded *out, reader_fn reader, const char *name, const char *text)
{
	const struct geo_load_options strict = { 0 };

	read_bytes(out, reader, name, text, strlen(text), &strict);
}

static void load_paths(struct loaded *out, const char *const *paths, size_t count,
		       const struct geo_load_options *options)
{
	memset(out, 0, sizeof(*out));
	geo_db_init(&out->db);
	out->err = geo_load_files(&out->db, paths, count, options, &out->report, out->why);
	finish_if_loaded(out);
}

static void load_path(struct loaded *out, const char *path)
{
	const struct geo_load_options automatic = { 0 };

	load_paths(out, &path, 1, &automatic);
}

static const char *country_of(const struct loaded *out, const char *addr_text)
{
	struct addr_key addr = unit_addr(addr_text);
	const struct geo_prefix *found;

	found = geo_db_lookup(&out->db, &addr);
	return found ? found->country : "none";
}

static const char *prefix_text(const struct loaded *out, size_t i)
{
	static char text[CIDR_TEXT_LEN];

	assert_true(i < out->db.prefix_count);
	cidr_format(&out->db.prefixes[i].key, text);
	return text;
}

static void expect_failure(const struct loaded *out, const char *where, const char *what)
{
	assert_int_equal(out->err, -EINVAL);
	if (!strstr(out->why, where) || !strstr(out->why, what))
		fail_msg("expected '%s' and '%s' in: %s", where, what, out->why);
	assert_int_equal(geo_db_range_count(&out->db), 0);
}

/* ---- tor-geoipdb ---- */

static void tor_fixtures_load_with_ends_merges_and_unknowns(void **state)
{
	const char *paths[] = { FIXTURES "tor/geoip", FIXTURES "tor/geoip6" };
	const struct geo_load_options automatic = { 0 };
	struct loaded out;

	(void)state;
	load_paths(&out, paths, 2, &automatic);
	assert_int_equal(out.err, 0);
	assert_int_equal(out.report.ranges, 9);
	assert_int_equal(out.report.no_country, 2);
	assert_int_equal(out.report.bad_lines, 0);
	/* 0.0.0.0/23 (two AU ranges merged), /24, 8 for .0-.254, 255.255.255.0/24. */
	assert_int_equal(out.db.ipv4_prefix_count, 11);
	assert_string_equal(prefix_text(&out, 0), "0.0.0.0/23");
	assert_string_equal(prefix_text(&out, 10), "255.255.255.0/24");
	/* 2001:db8::/64 (two FR halves), 30 for ::1-::fffe of a /112, one at the top. */
	assert_int_equal(out.db.prefix_count - out.db.ipv4_prefix_count, 32);
	assert_int_equal(out.db.country_prefixes[(('N' - 'A') * 26) + ('L' - 'A')], 30);
	assert_string_equal(country_of(&out, "0.0.0.0"), "AU");
	assert_string_equal(country_of(&out, "255.255.255.255"), "JP");
	assert_string_equal(country_of(&out, "198.51.100.254"), "US");
	assert_string_equal(country_of(&out, "198.51.100.255"), "none");
	assert_string_equal(country_of(&out, "203.0.113.1"), "none"); /* "??" */
	assert_string_equal(country_of(&out, "2001:db8::ffff"), "FR");
	assert_string_equal(country_of(&out, "2001:db8:1::"), "none");
	assert_string_equal(country_of(&out, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "JP");
	geo_db_free(&out.db);
}

static void tor_bad_lines_reject_the_file_naming_each(void **state)
{
	struct loaded out;

	(void)state;
	read_text(&out, geo_read_tor, "geoip",
		  "# header\n"
		  "16777216,16777471,AU\n"
		  "16777472,4294967296,CN\n"
		  "16777472,16778239\n"
		  "2001:db8::,16778239,CN\n"
		  "16778240,16778239,CN\n"
		  "16778240,16779263,X1\n"
		  "16779264,16781311,QQ\n"
		  "1.2.3.x,1.2.3.4,DE\n");
	expect_failure(&out, "geoip:3: '4294967296' is not an IPv4 address",
		       "(and 6 more bad lines)");
	assert_int_equal(out.report.bad_lines, 7);
	assert_int_equal(out.report.unknown_codes, 1);
	assert_int_equal(out.report.problems_kept, GEO_PROBLEMS_KEPT);
	assert_non_null(
	    strstr(out.report.problems[1], "geoip:4: expected FIRST,LAST,COUNTRY, found 2"));
	assert_non_null(strstr(out.report.problems[2], "geoip:5: '2001:db8::' and '16778239'"));
	assert_non_null(strstr(out.report.problems[3], "geoip:6:"));
	assert_non_null(strstr(out.report.problems[3], "ends before it starts"));
	assert_non_null(
	    strstr(out.report.problems[4], "geoip:7: country code 'X1' is not two letters"));
	assert_int_equal(out.report.ranges, 0);
	geo_db_free(&out.db);
}

static void skip_bad_loads_the_good_lines_and_counts_the_rest(void **state)
{
	const char text[] = "16777216,16777471,AU\n"
			    "not,a,line,at all\n"
			    "16777472,16778239,CN\n";
	const struct geo_load_options skip = { .skip_bad = true };
	struct loaded out;

	(void)state;
	read_bytes(&out, geo_read_tor, "geoip", text, strlen(text), &skip);
	assert_int_equal(out.err, 0);
	assert_int_equal(out.report.bad_lines, 1);
	assert_int_equal(out.report.ranges, 2);
	assert_non_null(strstr(out.report.problems[0], "geoip:2: expected FIRST,LAST,COUNTRY"));
	assert_int_equal(out.db.prefix_count, 1 + 2); /* 1.0.0.0/24, then 1.0.1.0-1.0.3.255 */
	geo_db_free(&out.db);
}

static void unknown_country_code_and_the_list_of_valid_ones(void **state)
{
	char *listing = NULL;
	size_t listing_len = 0;
	FILE *list = open_memstream(&listing, &listing_len);
	struct loaded out;

	(void)state;
	read_text(&out, geo_read_tor, "geoip", "16777216,16777471,XX\n");
	expect_failure(&out, "geoip:1:", "unknown country code 'XX'");
	assert_int_equal(out.report.unknown_codes, 1);
	assert_non_null(list);
	country_print_valid(list);
	fclose(list);
	assert_non_null(strstr(listing, "ISO 3166-1"));
	assert_non_null(strstr(listing, " DE "));
	assert_non_null(strstr(listing, "EU"));
	assert_null(strstr(listing, "XX"));
	free(listing);
	geo_db_free(&out.db);
	/* Lower case is accepted and stored upper-case. */
	read_text(&out, geo_read_tor, "geoip", "16777216,16777471,de\n");
	assert_int_equal(out.err, 0);
	assert_string_equal(out.db.prefixes[0].country, "DE");
	geo_db_free(&out.db);
}

/* CRLF, spaces, no final newline, NUL bytes, a byte-order mark, a huge line. */
static void hostile_bytes_are_bad_lines_not_crashes(void **state)
{
	const char crlf[] =
	    "\xef\xbb\xbf# comment\r\n  16777216 , 16777471 , AU \r\n\r\n16777472,16777727,CN";
	const char nul[] = "16777216,16777471,AU\n16777472,\0"
			   "16777727,CN\n";
	const struct geo_load_options strict = { 0 };
	size_t huge_len = 3 * 65536 + 100;
	char *huge = malloc(huge_len + 32);
	struct loaded out;

	(void)state;
	read_bytes(&out, geo_read_tor, "geoip", crlf, sizeof(crlf) - 1, &strict);
	assert_int_equal(out.err, 0);
	assert_int_equal(out.report.ranges, 2);
	geo_db_free(&out.db);

	read_bytes(&out, geo_read_tor, "geoip", nul, sizeof(nul) - 1, &strict);
	expect_failure(&out, "geoip:2:", "NUL byte at column 10");
	geo_db_free(&out.db);

	assert_non_null(huge);
	memset(huge, '7', huge_len);
	strcpy(huge + huge_len, "\n1,2,DE\n");
	read_bytes(&out, geo_read_tor, "geoip", huge, strlen(huge), &strict);
	expect_failure(&out, "geoip:1:", "line longer than 4096 bytes");
	assert_int_equal(out.report.bad_lines, 1); /* the rest of the huge line is not a line */
	geo_db_free(&out.db);
	huge[0] = '#'; /* an overlong comment is still a comment */
	read_bytes(&out, geo_read_tor, "geoip", huge, strlen(huge), &strict);
	assert_int_equal(out.err, 0);
	assert_int_equal(out.report.ranges, 1);
	geo_db_free(&out.db);
	free(huge);
}

/* MaxMind Blocks need Locations: this reader brings two of them along. */
static int read_blocks_with_locations(struct geo_db *db, FILE *file, const char *name,
				      const struct geo_load_options *options,
				      struct geo_load_report *report, char why[ERRMSG_LEN])
{
	const char text[] = "geoname_id,locale_code,continent_code,continent_name,"
			    "country_iso_code,country_name,is_in_european_union\n"
			    "2921044,en,EU,Europe,DE,Germany,1\n"
			    "6255148,en,EU,Europe,,,0\n";
	struct geo_locations locations = { 0 };
	FILE *locations_file = fmemopen((void *)text, strlen(text), "r");
	int err;

	assert_non_null(locations_file);
	err = geo_read_maxmind_locations(&locations, locations_file, "Locations-en.csv", options,
					 report, why);
	fclose(locations_file);
	assert_int_equal(err, 0);
	err = geo_read_maxmind_blocks(db, &locations, file, name, options, report, why);
	geo_locations_free(&locations);
	return err;
}

/* Random bytes and random mutations of valid lines through every reader: errors, never crashes. */
static void random_input_never_crashes_any_reader(void **state)
{
	static const char *const seeds[] = {
		"16777216,16777471,AU\n2001:db8::,2001:db8::ff,FR\n",
		"192.0.2.0/24\n2001:db8::/32\n",
		"2|x|1|1|1|1|+0\nx|DE|ipv4|192.0.2.0|256|1|allocated\nx|NL|ipv6|2001:db8::|32|1|"
		"assigned\n",
		"network,geoname_id,registered_country_geoname_id\n\"192.0.2.0/24\",2921044,\n",
	};
	reader_fn readers[] = { geo_read_tor, geo_read_cidr_list, geo_read_rir,
				read_blocks_with_locations };
	const struct geo_load_options options[] = { { .country = "DE" },
						    { .country = "DE", .skip_bad = true } };
	uint64_t seed = 42;
	char buf[512];

	(void)state;
	for (unsigned int round = 0; round < 3000; round++) {
		const char *base = seeds[round % 4];
		size_t len = strlen(base);
		struct loaded out;

		memcpy(buf, base, len);
		for (unsigned int flips = 0; flips < 1 + round % 8; flips++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			buf[(seed >> 33) % len] = (char)(seed >> 20);
		}
		read_bytes(&out, readers[round / 4 % 4], "fuzz", buf, len,
			   &options[round / 16 % 2]);
		assert_true(out.err == 0 || out.err == -EINVAL);
		geo_db_free(&out.db);
	}
}

/* ---- ipdeny zone files and plain CIDR lists ---- */

static void zone_file_takes_its_country_from_its_name(void **state)
{
	struct loaded out;

	(void)state;
	load_path(&out, FIXTURES "zone/de.zone");
	assert_int_equal(out.err, 0);
	assert_int_equal(out.db.prefix_count, 3); /* the two /25 merged */
	assert_string_equal(prefix_text(&out, 0), "192.0.2.0/24");
	assert_string_equal(prefix_text(&out, 1), "198.51.100.7");
	assert_int_equal(out.db.country_prefixes[('D' - 'A') * 26 + ('E' - 'A')], 3);
	geo_db_free(&out.db);

	load_path(&out, FIXTURES "zone/nl-aggregated.zone");
	assert_int_equal(out.err, 0);
	assert_int_equal(out.db.prefix_count, 2);
	assert_string_equal(country_of(&out, "2001:db8:1ff::1"), "NL");
	geo_db_free(&out.db);
}

static void plain_list_needs_a_country(void **state)
{
	const char *path = FIXTURES "zone/operators.txt";
	const struct geo_load_options given = { .format = GEO_FORMAT_CIDR, .country = "at" };
	const struct geo_load_options unknown = { .format = GEO_FORMAT_CIDR, .country = "QQ" };
	struct loaded out;

	(void)state;
	load_path(&out, path);
	assert_int_equal(out.err, -EINVAL);
	assert_non_null(strstr(out.why, "operators.txt: a CIDR list has no country column"));
	assert_non_null(strstr(out.why, "--country"));
	geo_db_free(&out.db);

	load_paths(&out, &path, 1, &given);
	assert_int_equal(out.err, 0);
	assert_int_equal(out.db.prefix_count, 2);
	assert_string_equal(country_of(&out, "198.51.100.1"), "AT");
	geo_db_free(&out.db);

	load_paths(&out, &path, 1, &unknown);
	assert_int_equal(out.err, -EINVAL);
	assert_non_null(strstr(out.why, "unknown country code 'QQ'"));
	assert_int_equal(out.report.unknown_codes, 1);
	geo_db_free(&out.db);
}

static void cidr_list_edges_and_errors(void **state)
{
	const struct geo_load_options us = { .country = "US" };
	const char edges[] = "0.0.0.0/0\n::/0   # all of IPv6, but not the IPv4-mapped block\n"
			     "255.255.255.255\n";
	const char bad[] = "192.0.2.1/24\n198.51.100.0/33\n2001:db8::/32 extra\nhost.example\n";
	struct loaded out;

	(void)state;
	read_bytes(&out, geo_read_cidr_list, "us.txt", edges, strlen(edges), &us);
	assert_int_equal(out.err, 0);
	assert_int_equal(out.report.clipped, 1);
	assert_int_equal(out.db.ipv4_prefix_count, 1); /* 255.255.255.255 merged into 0.0.0.0/0 */
	assert_string_equal(prefix_text(&out, 0), "0.0.0.0/0");
	assert_int_equal(out.db.prefix_count, 1 + 96);
	assert_string_equal(country_of(&out, "::1"), "US");
	geo_db_free(&out.db);

	read_bytes(&out, geo_read_cidr_list, "us.txt", bad, strlen(bad), &us);
	expect_failure(&out, "us.txt:1: '192.0.2.1/24' has host bits set", "(and 3 more");
	assert_non_null(strstr(out.report.problems[1], "us.txt:2: "));
	assert_non_null(strstr(out.report.problems[1], "prefix length 33"));
	assert_non_null(strstr(out.report.problems[2], "us.txt:3: unexpected 'extra'"));
	assert_non_null(strstr(out.report.problems[3], "us.txt:4: 'host.example'"));
	geo_db_free(&out.db);
}

/* ---- RIR delegated statistics ---- */

static void rir_extended_file_with_headers_and_other_rows(void **state)
{
	struct loaded out;

	(void)state;
	load_path(&out, FIXTURES "rir/delegated-example-extended-latest");
	assert_int_equal(out.err, 0);
	assert_int_equal(out.report.ranges, 5);
	assert_int_equal(out.db.ipv4_prefix_count,
			 2); /* FR's 200 + 56 addresses merge into a /24 */
	assert_string_equal(prefix_text(&out, 1), "198.51.100.0/24");
	assert_string_equal(out.db.prefixes[1].country, "FR");
	assert_string_equal(country_of(&out, "203.0.113.1"), "none"); /* available, reserved */
	assert_string_equal(country_of(&out, "2001:db8:ffff::"), "NL");
	assert_string_equal(country_of(&out, "2001:db9::1"), "EU");
	geo_db_free(&out.db);

	load_path(&out, FIXTURES "rir/delegated-example-latest");
	assert_int_equal(out.err, 0);
	assert_int_equal(out.db.prefix_count, 2);
	assert_string_equal(country_of(&out, "0.0.0.0"), "US");
	assert_string_equal(country_of(&out, "255.255.255.255"), "US");
	geo_db_free(&out.db);
}

static void rir_counts_that_are_not_powers_of_two_split(void **state)
{
	struct loaded out;

	(void)state;
	read_text(&out, geo_read_rir, "delegated",
		  "x|FR|ipv4|198.51.100.0|200|20110101|assigned\n");
	assert_int_equal(out.err, 0);
	assert_int_equal(out.db.prefix_count, 3);
	assert_string_equal(prefix_text(&out, 0), "198.51.100.0/25");
	assert_string_equal(prefix_text(&out, 1), "198.51.100.128/26");
	assert_string_equal(prefix_text(&out, 2), "198.51.100.192/29");
	geo_db_free(&out.db);
}

static void rir_bad_rows(void **state)
{
	struct loaded out;

	(void)state;
	read_text(&out, geo_read_rir, "delegated",
		  "x|FR|ipv4|198.51.100.0|0|20110101|assigned\n"
		  "x|FR|ipv4|255.255.255.0|257|20110101|assigned\n"
		  "x|FR|ipv4|2001:db8::|256|20110101|assigned\n"
		  "x|NL|ipv6|2001:db8::|129|20110101|assigned\n"
		  "x|NL|ipv6|2001:db8::1|32|20110101|assigned\n"
		  "x|NL|ipv6|192.0.2.0|32|20110101|assigned\n"
		  "x|NL|ipv4|192.0.2.0\n");
	expect_failure(&out, "delegated:1: address count '0'", "(and 6 more bad lines)");
	assert_non_null(strstr(out.report.problems[1], "delegated:2: 257 addresses from "
						       "255.255.255.0 run past 255.255.255.255"));
	assert_non_null(strstr(out.report.problems[2], "'2001:db8::' is not an IPv4 address"));
	assert_non_null(strstr(out.report.problems[3], "prefix length '129'"));
	assert_non_null(strstr(out.report.problems[4], "host bits set"));
	geo_db_free(&out.db);
}

/* ---- MaxMind GeoLite2 CSV ---- */

static void maxmind_files_in_any_order(void **state)
{
	const char *paths[] = { FIXTURES "maxmind/GeoLite2-Country-Blocks-IPv6.csv",
				FIXTURES "maxmind/GeoLite2-Country-Blocks-IPv4.csv",
				FIXTURES "maxmind/GeoLite2-Country-Locations-en.csv" };
	const struct geo_load_options maxmind = { .format = GEO_FORMAT_MAXMIND };
	struct loaded out;

	(void)state;
	load_paths(&out, paths, 3, &maxmind);
	assert_int_equal(out.err, 0);
	assert_int_equal(out.report.no_country,
			 2); /* no geoname_id, and a continent with no fallback */
	assert_int_equal(out.db.ipv4_prefix_count, 4);
	assert_int_equal(out.db.prefix_count, 5);
	assert_string_equal(prefix_text(&out, 0), "192.0.2.0/24");
	assert_string_equal(country_of(&out, "192.0.2.200"), "DE");	/* geoname_id wins */
	assert_string_equal(country_of(&out, "198.51.100.1"), "KR");	/* registered country */
	assert_string_equal(country_of(&out, "203.0.113.1"), "FR");	/* Europe: registered */
	assert_string_equal(country_of(&out, "203.0.114.1"), "none");	/* neither */
	assert_string_equal(country_of(&out, "255.255.255.255"), "US"); /* quoted network */
	assert_string_equal(country_of(&out, "2001:db8::1"), "FR");
	geo_db_free(&out.db);

	load_paths(&out, paths, 2, &maxmind);
	assert_int_equal(out.err, -EINVAL);
	assert_non_null(strstr(out.why, "needs its Locations file"));
	geo_db_free(&out.db);
}

static void maxmind_bad_rows(void **state)
{
	struct loaded out;

	(void)state;
	read_text(&out, read_blocks_with_locations, "Blocks-IPv4.csv",
		  "network,geoname_id,registered_country_geoname_id,represented_country_geoname_id,"
		  "is_anonymous_proxy,is_satellite_provider\n"
		  "192.0.2.0/24,2921044,,,0,0\n"
		  "198.51.100.0/24,12345,,,0,0\n"
		  "198.51.101.0/24,x,,,0,0\n"
		  "198.51.102.0/24,2921044,,,0\n"
		  "\"198.51.103.0/24,2921044,,,0,0\n"
		  "198.51.104.0/24,29\"21044,,,0,0\n"
		  "198.51.105.0/33,2921044,,,0,0\n");
	expect_failure(&out, "Blocks-IPv4.csv:3: geoname_id 12345 is not in the Locations file",
		       "(and 5 more bad lines)");
	assert_non_null(strstr(out.report.problems[1], ":4: geoname_id 'x' is not a number"));
	assert_non_null(strstr(out.report.problems[2], ":5: expected 6 fields as in the header"));
	assert_non_null(strstr(out.report.problems[3], ":6: malformed CSV"));
	assert_non_null(strstr(out.report.problems[4], ":7: malformed CSV"));
	geo_db_free(&out.db);

	read_text(&out, read_blocks_with_locations, "Blocks-IPv4.csv",
		  "net,geoname_id,registered_country_geoname_id\n192.0.2.0/24,2921044,\n");
	expect_failure(&out, "Blocks-IPv4.csv:1: not a MaxMind Blocks file", "network,geoname_id");
	assert_int_equal(out.report.bad_lines, 1); /* reading stops at a wrong header */
	geo_db_free(&out.db);
}

static void maxmind_locations_with_an_unknown_code_fail(void **state)
{
	const char text[] = "geoname_id,locale_code,continent_code,continent_name,"
			    "country_iso_code,country_name,is_in_european_union\n"
			    "1,en,EU,Europe,QQ,\"Nowhere, really\",0\n";
	const struct geo_load_options strict = { 0 };
	struct geo_locations locations = { 0 };
	struct geo_load_report report = { 0 };
	FILE *file = fmemopen((void *)text, strlen(text), "r");
	char why[ERRMSG_LEN];

	(void)state;
	assert_non_null(file);
	assert_int_equal(
	    geo_read_maxmind_locations(&locations, file, "loc.csv", &strict, &report, why),
	    -EINVAL);
	fclose(file);
	assert_why_has(why, "loc.csv:2: unknown country code 'QQ'");
	assert_int_equal(report.unknown_codes, 1);
	assert_int_equal(locations.count, 0);
	geo_locations_free(&locations);
}

/* ---- Formats ---- */

static void formats_are_detected_by_content_then_name(void **state)
{
	(void)state;
	assert_int_equal(geo_format_detect("x", "16777216,16777471,AU"), GEO_FORMAT_TOR);
	assert_int_equal(geo_format_detect("x", "2001::,2001:0:ffff::,??"), GEO_FORMAT_TOR);
	assert_int_equal(geo_format_detect("x", "192.0.2.0/24"), GEO_FORMAT_CIDR);
	assert_int_equal(geo_format_detect("x", "2001:db8::1 # host"), GEO_FORMAT_CIDR);
	assert_int_equal(geo_format_detect("x", "2|ripencc|20240101|1|19830101|20240101|+0100"),
			 GEO_FORMAT_RIR);
	assert_int_equal(geo_format_detect("x", "network,geoname_id,registered_country_geoname_id"),
			 GEO_FORMAT_MAXMIND_BLOCKS);
	assert_int_equal(geo_format_detect("x", "geoname_id,locale_code,continent_code"),
			 GEO_FORMAT_MAXMIND_LOCATIONS);
	assert_int_equal(geo_format_detect("dir/fr.zone", NULL), GEO_FORMAT_CIDR);
	assert_int_equal(geo_format_detect("/usr/share/tor/geoip6", NULL), GEO_FORMAT_TOR);
	assert_int_equal(geo_format_detect("delegated-arin-extended-latest", NULL), GEO_FORMAT_RIR);
	assert_int_equal(geo_format_detect("GeoLite2-Country-Blocks-IPv6.csv", NULL),
			 GEO_FORMAT_MAXMIND_BLOCKS);
	assert_int_equal(geo_format_detect("notes.txt", "hello world"), GEO_FORMAT_UNKNOWN);
}

static void format_names_and_undetectable_files(void **state)
{
	const char *path = "tests/unit/test_geo_formats.c"; /* C is not a country database */
	enum geo_format format;
	char why[ERRMSG_LEN];
	struct loaded out;

	(void)state;
	assert_int_equal(geo_format_parse("rir", &format, why), 0);
	assert_int_equal(format, GEO_FORMAT_RIR);
	assert_string_equal(geo_format_name(GEO_FORMAT_MAXMIND), "maxmind");
	assert_int_equal(geo_format_parse("csv", &format, why), -EINVAL);
	assert_why_has(why, "unknown format 'csv'");

	load_path(&out, path);
	assert_int_equal(out.err, -EINVAL);
	assert_non_null(strstr(out.why, "cannot tell the format; give --format"));
	geo_db_free(&out.db);

	load_path(&out, FIXTURES "does-not-exist.zone");
	assert_int_equal(out.err, -ENOENT);
	assert_non_null(strstr(out.why, "does-not-exist.zone: No such file"));
	geo_db_free(&out.db);
}

/* ---- The real database, when tor-geoipdb is installed ---- */

static double now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec * 1e3 + now.tv_nsec / 1e6;
}

static void real_tor_database_loads(void **state)
{
	const char *paths[2];
	const struct geo_load_options automatic = { 0 };
	struct geo_load_report report = { 0 };
	double start, parsed, done;
	char why[ERRMSG_LEN];
	struct loaded out;
	size_t ranges;

	(void)state;
	if (geo_default_paths(paths, why)) {
		print_message("skipped: %s\n", why);
		skip();
	}
	memset(&out, 0, sizeof(out));
	geo_db_init(&out.db);
	start = now_ms();
	out.err = geo_load_files(&out.db, paths, 2, &automatic, &report, out.why);
	parsed = now_ms();
	if (out.err)
		fail_msg("%s", out.why);
	ranges = geo_db_range_count(&out.db);
	if (geo_db_finish(&out.db, why))
		fail_msg("%s", why);
	done = now_ms();
	print_message("tor-geoipdb: %zu ranges (%lu without a country) -> %zu IPv4 + %zu IPv6 "
		      "prefixes; parse %.0f ms, normalise %.0f ms\n",
		      ranges, report.no_country, out.db.ipv4_prefix_count,
		      out.db.prefix_count - out.db.ipv4_prefix_count, parsed - start,
		      done - parsed);
	assert_int_equal(report.bad_lines, 0);
	assert_true(out.db.ipv4_prefix_count > 100000);
	assert_true(out.db.prefix_count - out.db.ipv4_prefix_count > 100000);
	/* Documentation ranges belong to no country. */
	assert_string_equal(country_of(&out, "192.0.2.1"), "none");
	assert_string_equal(country_of(&out, "2001:db8::1"), "none");
	geo_db_free(&out.db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tor_fixtures_load_with_ends_merges_and_unknowns),
		cmocka_unit_test(tor_bad_lines_reject_the_file_naming_each),
		cmocka_unit_test(skip_bad_loads_the_good_lines_and_counts_the_rest),
		cmocka_unit_test(unknown_country_code_and_the_list_of_valid_ones),
		cmocka_unit_test(hostile_bytes_are_bad_lines_not_crashes),
		cmocka_unit_test(random_input_never_crashes_any_reader),
		cmocka_unit_test(zone_file_takes_its_country_from_its_name),
		cmocka_unit_test(plain_list_needs_a_country),
		cmocka_unit_test(cidr_list_edges_and_errors),
		cmocka_unit_test(rir_extended_file_with_headers_and_other_rows),
		cmocka_unit_test(rir_counts_that_are_not_powers_of_two_split),
		cmocka_unit_test(rir_bad_rows),
		cmocka_unit_test(maxmind_files_in_any_order),
		cmocka_unit_test(maxmind_bad_rows),
		cmocka_unit_test(maxmind_locations_with_an_unknown_code_fail),
		cmocka_unit_test(formats_are_detected_by_content_then_name),
		cmocka_unit_test(format_names_and_undetectable_files),
		cmocka_unit_test(real_tor_database_loads),
	};

	return cmocka_run_group_tests_name("geo_formats", tests, NULL, NULL);
}
