/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * An in-memory country database: ranges of addresses with a country, as the
 * readers in geo_formats.c find them, normalised into the fewest
 * non-overlapping CIDR prefixes the geo_prefix map can hold.
 *
 * Addresses are the map ABI's 128-bit form: IPv4 a.b.c.d is ::ffff:a.b.c.d.
 * A range that lies inside ::ffff:0:0/96 is IPv4, even when written in IPv6
 * notation; any other range is IPv6, and the IPv4-mapped block inside it is
 * left out (clipped): a database line "::/0 XX" must not also give every IPv4
 * address to XX. geo_db_add_range() says when it clipped.
 *
 * Use: geo_db_init(), geo_db_add_source() per file, geo_db_add_range() or
 * geo_db_add_prefix() per line, geo_db_finish() once, then read prefixes[],
 * then geo_db_free().
 */
#ifndef XDPBAN_GEO_DB_H
#define XDPBAN_GEO_DB_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/errmsg.h"
#include "geo/country.h"
#include "xdpban_maps.h"

/* geo_db_add_range() and geo_db_add_prefix() return this when they clipped. */
#define GEO_DB_CLIPPED_IPV4 1

struct geo_prefix {
	struct lpm_key key;
	char country[COUNTRY_CODE_LEN]; /* two upper-case letters and a NUL */
};

/* Where a range came from, to name both sides of a conflict. */
struct geo_origin {
	unsigned int source; /* from geo_db_add_source() */
	unsigned long line;
};

struct geo_range; /* private to geo_db.c */

struct geo_db {
	/*
	 * The result of geo_db_finish(): IPv4 prefixes first, then IPv6, each
	 * in address order (the order of cidr_compare()); no two overlap, and
	 * no two adjacent ones of one country could be merged into one.
	 */
	struct geo_prefix *prefixes;
	size_t prefix_count;
	size_t ipv4_prefix_count; /* prefixes[0 .. ipv4_prefix_count) are IPv4 */
	unsigned int country_prefixes[COUNTRY_SLOTS]; /* prefixes per country slot */

	/* Input, private to geo_db.c. */
	struct geo_range *ranges;
	size_t range_count;
	size_t range_capacity;
	char **sources;
	unsigned int source_count;
	bool finished;
};

void geo_db_init(struct geo_db *db);
void geo_db_free(struct geo_db *db);

/* Registers a file name for messages; returns its id (>= 0) or -ENOMEM. */
int geo_db_add_source(struct geo_db *db, const char *name);

/*
 * Adds the inclusive range [first, last] of country (a slot from
 * country_parse()). Returns 0, GEO_DB_CLIPPED_IPV4 when the IPv4-mapped block
 * was left out of an IPv6 range, -EINVAL with why when last is before first
 * or the country is not valid, or -ENOMEM.
 */
int geo_db_add_range(struct geo_db *db, const struct addr_key *first, const struct addr_key *last,
		     int country, struct geo_origin origin, char why[ERRMSG_LEN]);

/* Same for a prefix; an IPv6 prefix may contain ::ffff:0:0/96 (it is clipped). */
int geo_db_add_prefix(struct geo_db *db, const struct lpm_key *key, int country,
		      struct geo_origin origin, char why[ERRMSG_LEN]);

/* How many ranges were added so far; with geo_db_drop_ranges(), undoes a failed file. */
size_t geo_db_range_count(const struct geo_db *db);
void geo_db_drop_ranges(struct geo_db *db, size_t keep);

/*
 * Sorts the ranges, merges overlapping and adjacent ones of the same
 * country, splits each into the fewest prefixes and fills prefixes[] and
 * the counts; then frees the ranges. Overlapping ranges of different
 * countries are an error: -EINVAL, with why naming the first such pair
 * (file:line, range and country of each) and how many more there are.
 * May be called once; -ENOMEM leaves the db unfinished.
 */
int geo_db_finish(struct geo_db *db, char why[ERRMSG_LEN]);

/* Fills country_prefixes from prefixes[]. */
void geo_db_count_countries(struct geo_db *db);

/* The prefix of a finished db that holds addr, or NULL when no country has it. */
const struct geo_prefix *geo_db_lookup(const struct geo_db *db, const struct addr_key *addr);

/*
 * True for a valid IPv6 network shorter than /96 that contains
 * ::ffff:0:0/96, such as ::/0: cidr_parse() refuses these (a ban on ::/0
 * would ban all of IPv4 too), but a country database may hold them, and
 * geo_db_add_prefix() clips them.
 */
bool geo_prefix_holds_ipv4_block(const struct lpm_key *key);

#endif
