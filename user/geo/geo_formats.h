/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Readers of country databases, one per format, into a struct geo_db:
 *
 *   tor      tor-geoipdb, /usr/share/tor/geoip ("FIRST,LAST,CC", IPv4 as
 *            integers) and geoip6 (the same with IPv6 text); CC "??" is
 *            "no country" and skipped
 *   cidr     ipdeny zone files and any list of one CIDR or address per line;
 *            the country is options.country, else the file name "CC.zone" or
 *            "CC-aggregated.zone"
 *   rir      RIR delegated and delegated-extended statistics
 *            ("registry|cc|type|start|value|date|status[|...]"): ipv4 and
 *            ipv6 rows that are allocated or assigned
 *   maxmind  GeoLite2 Country (or City) CSV: Blocks-IPv4/Blocks-IPv6 files
 *            joined with a Locations file on geoname_id, falling back to
 *            registered_country_geoname_id; rows with neither are skipped
 *
 * '#' comment lines and blank lines are skipped in every format; CRLF line
 * ends are accepted. Each malformed line is reported as "FILE:LINE: reason".
 * By default a file with any bad line adds nothing (its ranges are dropped
 * from the db) and the reader fails with the first problem and the count;
 * with skip_bad the bad lines are skipped and counted.
 */
#ifndef XDPBAN_GEO_FORMATS_H
#define XDPBAN_GEO_FORMATS_H

#include <stdbool.h>
#include <stdio.h>
#include "lib/errmsg.h"
#include "geo/geo_db.h"

/* Lines longer than this are reported as bad, never read into memory whole. */
#define GEO_LINE_MAX 4096
/* How many "FILE:LINE: reason" messages a report keeps (it counts them all). */
#define GEO_PROBLEMS_KEPT 5

enum geo_format {
	GEO_FORMAT_AUTO = 0, /* detect from the first data line, then the file name */
	GEO_FORMAT_TOR,
	GEO_FORMAT_CIDR,
	GEO_FORMAT_RIR,
	GEO_FORMAT_MAXMIND, /* either MaxMind file; its header says which */
	GEO_FORMAT_MAXMIND_BLOCKS,
	GEO_FORMAT_MAXMIND_LOCATIONS,
	GEO_FORMAT_UNKNOWN,
};

struct geo_load_options {
	enum geo_format format; /* GEO_FORMAT_AUTO: detect each file's format */
	const char *country;	/* cidr: the country of every line (else from "CC.zone") */
	bool skip_bad;		/* skip and count malformed lines instead of failing the file */
};

/* What the readers did; they add to it, so one report can cover several files. */
struct geo_load_report {
	unsigned long ranges;	  /* ranges and prefixes added to the db */
	unsigned long no_country; /* lines whose source knows no country ("??", ZZ, MaxMind) */
	unsigned long clipped;	  /* IPv6 ranges the IPv4-mapped block was cut out of */
	unsigned long bad_lines;  /* malformed lines, skipped or failing their file */
	unsigned long
	    unknown_codes; /* of those, unknown country codes: print country_print_valid() */
	unsigned int problems_kept;
	char problems[GEO_PROBLEMS_KEPT][ERRMSG_LEN]; /* the first "FILE:LINE: reason" messages */
};

/* The geoname_id -> country table of MaxMind Locations files. */
struct geo_location;
struct geo_locations {
	struct geo_location *items;
	size_t count;
	size_t capacity;
};

/*
 * The readers. Each reads file, called name in messages, to its end.
 * Returns 0 (bad lines skipped with skip_bad are in report), -EINVAL with
 * why ("NAME:LINE: reason", plus how many more) when a line is bad,
 * -EIO on a read error, -ENOMEM.
 */
int geo_read_tor(struct geo_db *db, FILE *file, const char *name,
		 const struct geo_load_options *options, struct geo_load_report *report,
		 char why[ERRMSG_LEN]);
int geo_read_cidr_list(struct geo_db *db, FILE *file, const char *name,
		       const struct geo_load_options *options, struct geo_load_report *report,
		       char why[ERRMSG_LEN]);
int geo_read_rir(struct geo_db *db, FILE *file, const char *name,
		 const struct geo_load_options *options, struct geo_load_report *report,
		 char why[ERRMSG_LEN]);
/* Adds a Locations file's rows to locations; read every Locations file before any Blocks. */
int geo_read_maxmind_locations(struct geo_locations *locations, FILE *file, const char *name,
			       const struct geo_load_options *options,
			       struct geo_load_report *report, char why[ERRMSG_LEN]);
int geo_read_maxmind_blocks(struct geo_db *db, const struct geo_locations *locations, FILE *file,
			    const char *name, const struct geo_load_options *options,
			    struct geo_load_report *report, char why[ERRMSG_LEN]);
void geo_locations_free(struct geo_locations *locations);

/*
 * The format of a file from its first data line (NULL when it has none),
 * else from its name: never GEO_FORMAT_AUTO or GEO_FORMAT_MAXMIND;
 * GEO_FORMAT_UNKNOWN when neither tells.
 */
enum geo_format geo_format_detect(const char *name, const char *first_line);

/* "tor", "cidr", "rir", "maxmind" (as --format takes them), "maxmind-blocks", ... */
const char *geo_format_name(enum geo_format format);
int geo_format_parse(const char *text, enum geo_format *format, char why[ERRMSG_LEN]);

/*
 * Opens and reads paths, in any order, each in options->format or the
 * format detected from it; MaxMind Locations files are read before the
 * Blocks files that need them. Stops at the first file that fails.
 */
/*
 * The default database: tor-geoipdb's geoip and geoip6, from the package
 * when it is installed, else from XDPBAN_TOR_FALLBACK_DIR. -ENOENT with why
 * when neither is there.
 */
int geo_default_paths(const char *paths[2], char why[ERRMSG_LEN]);

int geo_load_files(struct geo_db *db, const char *const *paths, size_t count,
		   const struct geo_load_options *options, struct geo_load_report *report,
		   char why[ERRMSG_LEN]);

#endif
