/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The geo targets' common part: options from the input's first byte, and
 * the checks of a finished database against what geo_db.h promises.
 */
#ifndef XDPBAN_FUZZ_GEO_H
#define XDPBAN_FUZZ_GEO_H

#include "fuzz.h"
#include "lib/cidr.h"
#include "geo/geo_db.h"
#include "geo/geo_formats.h"

/* Bit 0 of the first byte: skip bad lines instead of failing the file. */
static inline void fuzz_geo_options(uint8_t flags, struct geo_load_options *options)
{
	*options = (struct geo_load_options){ .skip_bad = flags & 1 };
}

static inline void fuzz_geo_check_report(const struct geo_load_report *report)
{
	FUZZ_CHECK(report->problems_kept <= GEO_PROBLEMS_KEPT);
	FUZZ_CHECK(report->problems_kept <= report->bad_lines);
	FUZZ_CHECK(report->unknown_codes <= report->bad_lines);
	for (unsigned int i = 0; i < report->problems_kept; i++)
		FUZZ_CHECK(memchr(report->problems[i], '\0', ERRMSG_LEN));
}

/*
 * A finished db: IPv4 prefixes, then IPv6, each in order, none overlapping,
 * each found by a lookup of its own first address, counts that add up.
 */
static inline void fuzz_geo_check_db(const struct geo_db *db)
{
	unsigned long per_country = 0;

	FUZZ_CHECK(db->ipv4_prefix_count <= db->prefix_count);
	for (size_t i = 0; i < db->prefix_count; i++) {
		const struct geo_prefix *p = &db->prefixes[i];
		struct addr_key first;

		FUZZ_CHECK(cidr_is_ipv4(p->key.addr) == (i < db->ipv4_prefix_count));
		FUZZ_CHECK(!cidr_is_ipv4(p->key.addr) || p->key.prefixlen >= 96);
		FUZZ_CHECK(country_slot_of_code(p->country) >= 0);
		if (i > 0) {
			const struct geo_prefix *prev = &db->prefixes[i - 1];

			FUZZ_CHECK(cidr_compare(&prev->key, &p->key) < 0);
			FUZZ_CHECK(!cidr_contains(&prev->key, &p->key));
		}
		cidr_to_addr_key(&first, &p->key);
		FUZZ_CHECK(geo_db_lookup(db, &first) == p);
	}
	for (int slot = 0; slot < COUNTRY_SLOTS; slot++)
		per_country += db->country_prefixes[slot];
	FUZZ_CHECK(per_country == db->prefix_count);
}

/* Finishes db; when that works, checks it. Frees it either way. */
static inline void fuzz_geo_finish(struct geo_db *db)
{
	char why[ERRMSG_LEN];

	if (geo_db_finish(db, why) == 0)
		fuzz_geo_check_db(db);
	else
		FUZZ_CHECK(why[0] && memchr(why, '\0', sizeof(why)));
	geo_db_free(db);
}

/* The first line of a part, as geo_format_detect() takes it, NUL-terminated. */
static inline char *fuzz_geo_first_line(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);

	return fuzz_strdup(data, nl ? (size_t)(nl - data) : size);
}

/* The signature every reader but the MaxMind Blocks one has. */
typedef int (*fuzz_geo_reader)(struct geo_db *db, FILE *file, const char *name,
			       const struct geo_load_options *options,
			       struct geo_load_report *report, char why[ERRMSG_LEN]);

/*
 * One file through one reader, as `geo load --format F` reads it; the
 * first line also goes to format detection, which must not crash on it.
 */
static inline void fuzz_geo_read_one(fuzz_geo_reader reader, const char *name,
				     const struct geo_load_options *options, const uint8_t *data,
				     size_t size)
{
	struct geo_load_report report = { 0 };
	char why[ERRMSG_LEN] = "", *first = fuzz_geo_first_line(data, size);
	FILE *file = fuzz_stream(data, size);
	struct geo_db db;
	enum geo_format detected = geo_format_detect(name, first);

	FUZZ_CHECK(detected != GEO_FORMAT_AUTO && detected != GEO_FORMAT_MAXMIND);
	geo_db_init(&db);
	if (reader(&db, file, name, options, &report, why) == 0)
		FUZZ_CHECK(options->skip_bad || report.bad_lines == 0);
	else
		FUZZ_CHECK(why[0] && memchr(why, '\0', sizeof(why)));
	fuzz_geo_check_report(&report);
	fuzz_geo_finish(&db);
	fclose(file);
	free(first);
}

#endif
