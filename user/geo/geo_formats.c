// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "geo/geo_formats.h"
#include "lib/paths.h"

#include <csv.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "lib/cidr.h"
#include "lib/util.h"

#define READ_BLOCK  65536 /* bytes read at once; a line longer than this is skipped in pieces */
#define FIELDS_MAX  16	  /* fields kept per line; more are counted, not kept */
#define CSV_OPTIONS (CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL)
#define UTF8_BOM    "\xef\xbb\xbf"

/* ---- Lines: read in blocks, bounded, with NUL bytes and overlong lines reported. ---- */

struct line_source {
	FILE *file;
	char *block; /* READ_BLOCK bytes and a NUL */
	size_t start;
	size_t end;
	bool eof;
	bool skipping; /* inside a line longer than the block: drop bytes up to its newline */
};

struct line {
	char *text; /* NUL-terminated; may hold NUL bytes before len */
	size_t len;
	bool too_long;
};

static int open_line_source(struct line_source *source, FILE *file)
{
	memset(source, 0, sizeof(*source));
	source->file = file;
	source->block = malloc(READ_BLOCK + 1);
	return source->block ? 0 : -ENOMEM;
}

static void close_line_source(struct line_source *source)
{
	free(source->block);
	source->block = NULL;
}

static int refill(struct line_source *source)
{
	size_t kept = source->end - source->start, got;

	memmove(source->block, source->block + source->start, kept);
	source->start = 0;
	source->end = kept;
	got = fread(source->block + kept, 1, READ_BLOCK - kept, source->file);
	source->end += got;
	if (got == 0) {
		if (ferror(source->file))
			return -EIO;
		source->eof = true;
	}
	return 0;
}

/* Hands out [start, start + len) as a line and moves past it and its newline. */
static void take_line(struct line_source *source, size_t len, size_t consumed, struct line *line)
{
	line->text = source->block + source->start;
	line->text[len] = '\0';
	line->len = len;
	line->too_long = len > GEO_LINE_MAX;
	source->start += consumed;
}

/* Returns 1 with the next line (without its '\n'), 0 at the end, -EIO on a read error. */
static int next_line(struct line_source *source, struct line *line)
{
	for (;;) {
		size_t avail = source->end - source->start;
		char *newline = memchr(source->block + source->start, '\n', avail);
		int err;

		if (newline) {
			size_t len = newline - (source->block + source->start);

			if (!source->skipping) {
				take_line(source, len, len + 1, line);
				return 1;
			}
			source->start += len + 1;
			source->skipping = false;
			continue;
		}
		if (source->skipping) {
			source->start = source->end;
		} else if (avail == READ_BLOCK) {
			/* The first block of a huge line: reported by its start, the rest dropped.
			 */
			take_line(source, avail, avail, line);
			line->too_long = true;
			source->skipping = true;
			return 1;
		} else if (source->eof && avail) {
			take_line(source, avail, avail, line);
			return 1;
		}
		if (source->eof)
			return 0;
		err = refill(source);
		if (err)
			return err;
	}
}

static char *trim(char *text)
{
	char *end;

	while (*text == ' ' || *text == '\t')
		text++;
	end = text + strlen(text);
	while (end > text && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return text;
}

/* ---- Fields: split at a separator (tor, RIR) or as CSV with libcsv (MaxMind). ---- */

struct fields {
	char *value[FIELDS_MAX];
	size_t count; /* may exceed FIELDS_MAX; only the first FIELDS_MAX are in value */
};

/* Splits line in place at every sep; fields are trimmed of spaces. */
static void split_fields(char *line, char sep, struct fields *fields)
{
	char *field = line;

	fields->count = 0;
	for (;;) {
		char *end = strchr(field, sep);

		if (end)
			*end = '\0';
		if (fields->count < FIELDS_MAX)
			fields->value[fields->count] = trim(field);
		fields->count++;
		if (!end)
			return;
		field = end + 1;
	}
}

/* A CSV line's fields, copied out of libcsv's buffer. */
struct csv_row {
	struct fields fields;
	char storage[GEO_LINE_MAX + FIELDS_MAX + 1];
	size_t used;
	unsigned int records;
	bool overflow; /* a field did not fit (cannot happen for lines <= GEO_LINE_MAX) */
};

static void on_csv_field(void *text, size_t len, void *data)
{
	struct csv_row *row = data;
	size_t index = row->fields.count++;

	if (index >= FIELDS_MAX)
		return;
	if (row->used + len + 1 > sizeof(row->storage)) {
		row->overflow = true;
		return;
	}
	row->fields.value[index] = memcpy(row->storage + row->used, text, len);
	row->storage[row->used + len] = '\0';
	row->used += len + 1;
}

static void on_csv_record(int terminator, void *data)
{
	struct csv_row *row = data;

	(void)terminator;
	row->records++;
}

/* Splits one line as one CSV record: quoted fields, doubled quotes, strict about both. */
static int split_csv(struct csv_parser *parser, const char *text, struct csv_row *row,
		     char why[ERRMSG_LEN])
{
	size_t len = strlen(text);

	row->fields.count = 0;
	row->used = 0;
	row->records = 0;
	row->overflow = false;
	if (csv_parse(parser, text, len, on_csv_field, on_csv_record, row) != len ||
	    csv_fini(parser, on_csv_field, on_csv_record, row) != 0) {
		errmsg(why, "malformed CSV (%s)", csv_strerror(csv_error(parser)));
		/* After an error csv_fini() does not reset the parser; start it afresh. */
		csv_free(parser);
		return csv_init(parser, CSV_OPTIONS) ? -ENOMEM : -EINVAL;
	}
	if (row->overflow) {
		errmsg(why, "CSV fields longer than %d bytes", GEO_LINE_MAX);
		return -EINVAL;
	}
	if (row->records != 1) {
		errmsg(why, "a carriage return inside the line makes it %u CSV records",
		       row->records);
		return -EINVAL;
	}
	return 0;
}

/* ---- Values shared by the formats. ---- */

/* A non-empty run of decimal digits no larger than max. */
static bool parse_decimal(const char *text, uint64_t max, uint64_t *value)
{
	uint64_t result = 0;

	if (*text == '\0')
		return false;
	for (; *text; text++) {
		if (*text < '0' || *text > '9')
			return false;
		if (result > (max - (*text - '0')) / 10)
			return false;
		result = result * 10 + (*text - '0');
	}
	*value = result;
	return true;
}

/*
 * cidr_parse(), plus the IPv6 prefixes it refuses because they contain the
 * IPv4-mapped block (::/0 ... ::/80): in a country database those are IPv6
 * ranges, and geo_db clips the IPv4 block out of them.
 */
static int parse_prefix(char *text, struct lpm_key *key, char why[ERRMSG_LEN])
{
	char *slash = strchr(text, '/');
	char ignored[ERRMSG_LEN];
	struct lpm_key network;
	uint64_t len;
	int err = cidr_parse(text, key, why);

	if (!err || !slash || !parse_decimal(slash + 1, IPV4_MAPPED_PREFIXLEN - 1, &len))
		return err;
	*slash = '\0';
	err = cidr_parse(text, &network, ignored);
	*slash = '/';
	if (err || cidr_is_ipv4(network.addr))
		return -EINVAL;
	network.prefixlen = len;
	if (!geo_prefix_holds_ipv4_block(&network))
		return -EINVAL; /* why still says what cidr_parse() found */
	*key = network;
	return 0;
}

/* One address, no prefix length. */
static int parse_address(const char *text, struct addr_key *addr, char why[ERRMSG_LEN])
{
	struct lpm_key key;
	int err;

	if (strchr(text, '/')) {
		errmsg(why, "'%s' is a prefix; an address is expected here", text);
		return -EINVAL;
	}
	err = cidr_parse(text, &key, why);
	if (!err)
		cidr_to_addr_key(addr, &key);
	return err;
}

static void ipv4_from_integer(uint32_t value, struct addr_key *addr)
{
	memset(addr->addr, 0, sizeof(addr->addr));
	addr->addr[10] = addr->addr[11] = 0xff;
	addr->addr[12] = value >> 24;
	addr->addr[13] = value >> 16;
	addr->addr[14] = value >> 8;
	addr->addr[15] = value;
}

static uint32_t ipv4_to_integer(const struct addr_key *addr)
{
	return (uint32_t)addr->addr[12] << 24 | addr->addr[13] << 16 | addr->addr[14] << 8 |
	       addr->addr[15];
}

/* ---- The reader: one line loop, one way to report problems and to add ranges. ---- */

struct geo_reader;
/* Returns 0, -EINVAL for a bad line (reported, reading goes on), -ECANCELED to stop reading. */
typedef int (*parse_line_fn)(struct geo_reader *reader, char *text, char why[ERRMSG_LEN]);

struct geo_reader {
	struct geo_db *db;
	const char *name;
	const struct geo_load_options *options;
	struct geo_load_report *report;
	struct geo_origin origin;
	parse_line_fn parse_line;
	/* Counted per file and added to the report only if the file is kept. */
	unsigned long ranges;
	unsigned long no_country;
	unsigned long clipped;
	unsigned long bad_lines;
	char first_problem[ERRMSG_LEN];
	/* Per format. */
	int country;			       /* cidr: the country of every line */
	struct csv_parser csv;		       /* maxmind */
	struct csv_row row;		       /* maxmind: the current line's fields */
	size_t header_fields;		       /* maxmind: 0 until the header was read */
	const struct geo_locations *locations; /* maxmind blocks: the geoname_id join */
	struct geo_locations *new_locations;   /* maxmind locations: where rows go */
};

static void note_problem(struct geo_reader *reader, const char *reason)
{
	struct geo_load_report *report = reader->report;
	char message[ERRMSG_LEN];

	snprintf(message, sizeof(message), "%s:%lu: %s", reader->name, reader->origin.line, reason);
	if (reader->bad_lines++ == 0)
		memcpy(reader->first_problem, message, sizeof(message));
	if (report->problems_kept < GEO_PROBLEMS_KEPT)
		memcpy(report->problems[report->problems_kept++], message, sizeof(message));
	report->bad_lines++;
}

static int start_reader(struct geo_reader *reader, struct geo_db *db, const char *name,
			const struct geo_load_options *options, struct geo_load_report *report,
			parse_line_fn parse_line, char why[ERRMSG_LEN])
{
	int source;

	memset(reader, 0, sizeof(*reader));
	reader->db = db;
	reader->name = name;
	reader->options = options;
	reader->report = report;
	reader->parse_line = parse_line;
	if (!db)
		return 0;
	source = geo_db_add_source(db, name);
	if (source < 0) {
		errmsg(why, "%s: %s", name, source == -ENOMEM ? "out of memory" : "too many files");
		return source;
	}
	reader->origin.source = source;
	return 0;
}

/* Checks one line for what no format accepts, then hands it to the format. */
static int read_one_line(struct geo_reader *reader, struct line *line)
{
	char reason[ERRMSG_LEN], *text = line->text, *nul = memchr(text, '\0', line->len);
	int err;

	if (reader->origin.line == 1 && strncmp(text, UTF8_BOM, strlen(UTF8_BOM)) == 0)
		text += strlen(UTF8_BOM);
	if (nul) {
		errmsg(reason, "NUL byte at column %zu", (size_t)(nul - line->text) + 1);
		note_problem(reader, reason);
		return 0;
	}
	text = trim(text);
	if (*text == '\0' || *text == '#')
		return 0;
	if (line->too_long) {
		errmsg(reason, "line longer than %d bytes", GEO_LINE_MAX);
		note_problem(reader, reason);
		return 0;
	}
	err = reader->parse_line(reader, text, reason);
	if (err == -EINVAL || err == -ECANCELED)
		note_problem(reader, reason);
	return err == -EINVAL ? 0 : err;
}

static void keep_counts(struct geo_reader *reader)
{
	reader->report->ranges += reader->ranges;
	reader->report->no_country += reader->no_country;
	reader->report->clipped += reader->clipped;
}

/* Reads file to its end through reader->parse_line; on failure adds nothing to the db. */
static int read_lines(struct geo_reader *reader, FILE *file, char why[ERRMSG_LEN])
{
	size_t keep = reader->db ? geo_db_range_count(reader->db) : 0;
	struct line_source source;
	struct line line;
	int got = 0, err = open_line_source(&source, file);

	while (!err && (got = next_line(&source, &line)) > 0) {
		reader->origin.line++;
		err = read_one_line(reader, &line);
	}
	close_line_source(&source);
	if (err && err != -EINVAL && err != -ECANCELED)
		errmsg(why, "%s:%lu: %s", reader->name, reader->origin.line, strerror(-err));
	if (!err && got < 0) {
		err = got;
		errmsg(why, "%s: read error after line %lu", reader->name, reader->origin.line);
	}
	if (!err && reader->bad_lines && !reader->options->skip_bad)
		err = -EINVAL;
	if (err == -EINVAL || err == -ECANCELED) {
		err = -EINVAL;
		if (reader->bad_lines > 1)
			errmsg(why, "%s (and %lu more bad lines)", reader->first_problem,
			       reader->bad_lines - 1);
		else
			errmsg(why, "%s", reader->first_problem);
	}
	if (err) {
		if (reader->db)
			geo_db_drop_ranges(reader->db, keep);
		return err;
	}
	keep_counts(reader);
	return 0;
}

/* A country field: its slot, or -ENOENT (counted) for "no country", or -EINVAL with why. */
static int parse_country(struct geo_reader *reader, const char *text, char why[ERRMSG_LEN])
{
	int country = country_parse(text, why);

	if (country == -ENOENT)
		reader->no_country++;
	if (country == -ESRCH) {
		reader->report->unknown_codes++;
		country = -EINVAL;
	}
	return country;
}

static int count_added(struct geo_reader *reader, int err)
{
	if (err < 0)
		return err;
	reader->ranges++;
	if (err == GEO_DB_CLIPPED_IPV4)
		reader->clipped++;
	return 0;
}

static int add_range(struct geo_reader *reader, const struct addr_key *first,
		     const struct addr_key *last, int country, char why[ERRMSG_LEN])
{
	return count_added(reader,
			   geo_db_add_range(reader->db, first, last, country, reader->origin, why));
}

static int add_prefix(struct geo_reader *reader, const struct lpm_key *key, int country,
		      char why[ERRMSG_LEN])
{
	return count_added(reader,
			   geo_db_add_prefix(reader->db, key, country, reader->origin, why));
}

/* ---- tor-geoipdb: "FIRST,LAST,CC"; IPv4 as integers (geoip), IPv6 as text (geoip6). ---- */

static int parse_tor_address(const char *text, struct addr_key *addr, char why[ERRMSG_LEN])
{
	uint64_t value;

	if (text[0] >= '0' && text[0] <= '9' && !strpbrk(text, ".:")) {
		if (!parse_decimal(text, UINT32_MAX, &value)) {
			errmsg(why, "'%s' is not an IPv4 address as a number 0-4294967295", text);
			return -EINVAL;
		}
		ipv4_from_integer(value, addr);
		return 0;
	}
	return parse_address(text, addr, why);
}

static int parse_tor_line(struct geo_reader *reader, char *text, char why[ERRMSG_LEN])
{
	struct addr_key first, last;
	struct fields fields;
	int err, country;

	split_fields(text, ',', &fields);
	if (fields.count != 3) {
		errmsg(why, "expected FIRST,LAST,COUNTRY, found %zu fields", fields.count);
		return -EINVAL;
	}
	err = parse_tor_address(fields.value[0], &first, why);
	if (!err)
		err = parse_tor_address(fields.value[1], &last, why);
	if (err)
		return err;
	if (cidr_is_ipv4(first.addr) != cidr_is_ipv4(last.addr)) {
		errmsg(why, "'%s' and '%s' are not both IPv4 or both IPv6", fields.value[0],
		       fields.value[1]);
		return -EINVAL;
	}
	country = parse_country(reader, fields.value[2], why);
	if (country < 0)
		return country == -ENOENT ? 0 : country;
	return add_range(reader, &first, &last, country, why);
}

int geo_read_tor(struct geo_db *db, FILE *file, const char *name,
		 const struct geo_load_options *options, struct geo_load_report *report,
		 char why[ERRMSG_LEN])
{
	struct geo_reader reader;
	int err = start_reader(&reader, db, name, options, report, parse_tor_line, why);

	return err ? err : read_lines(&reader, file, why);
}

/* ---- ipdeny zone files and plain lists: one "ADDR[/LEN]" per line. ---- */

static int parse_cidr_line(struct geo_reader *reader, char *text, char why[ERRMSG_LEN])
{
	char *comment = strchr(text, '#'), *extra;
	struct lpm_key key;
	int err;

	if (comment) {
		*comment = '\0';
		text = trim(text);
	}
	extra = strpbrk(text, " \t");
	if (extra) {
		errmsg(why, "unexpected '%s' after the prefix", trim(extra));
		return -EINVAL;
	}
	err = parse_prefix(text, &key, why);
	return err ? err : add_prefix(reader, &key, reader->country, why);
}

/* "de.zone", "DE-aggregated.zone", "ipv6/de.zone": the two letters before the suffix. */
static bool country_from_file_name(const char *name, char code[COUNTRY_CODE_LEN])
{
	static const char *const suffixes[] = { "-aggregated.zone", ".zone" };
	const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	size_t len = strlen(base);

	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
		size_t suffix_len = strlen(suffixes[i]);

		if (len == 2 + suffix_len && strcasecmp(base + 2, suffixes[i]) == 0) {
			memcpy(code, base, 2);
			code[2] = '\0';
			return true;
		}
	}
	return false;
}

static int cidr_list_country(struct geo_reader *reader, char why[ERRMSG_LEN])
{
	const char *given = reader->options->country;
	char from_name[COUNTRY_CODE_LEN], reason[ERRMSG_LEN];
	int country;

	if (!given && !country_from_file_name(reader->name, from_name)) {
		errmsg(why,
		       "%s: a CIDR list has no country column: give --country CC or name "
		       "the file CC.zone",
		       reader->name);
		return -EINVAL;
	}
	country = parse_country(reader, given ? given : from_name, reason);
	if (country == -ENOENT)
		errmsg(reason, "'%s' means no country", given ? given : from_name);
	if (country < 0) {
		errmsg(why, "%s: %s", reader->name, reason);
		return -EINVAL;
	}
	reader->country = country;
	return 0;
}

int geo_read_cidr_list(struct geo_db *db, FILE *file, const char *name,
		       const struct geo_load_options *options, struct geo_load_report *report,
		       char why[ERRMSG_LEN])
{
	struct geo_reader reader;
	int err = start_reader(&reader, db, name, options, report, parse_cidr_line, why);

	if (!err)
		err = cidr_list_country(&reader, why);
	return err ? err : read_lines(&reader, file, why);
}

/* ---- RIR statistics: "registry|cc|type|start|value|date|status[|extensions]". ---- */

enum rir_field { RIR_REGISTRY, RIR_CC, RIR_TYPE, RIR_START, RIR_VALUE, RIR_DATE, RIR_STATUS };

/* The version line ("2|ripencc|...", "2.3|arin|...") and "registry|*|ipv4|*|N|summary". */
static bool is_rir_header(const struct fields *fields)
{
	const char *version = fields->value[0];

	if (strspn(version, "0123456789.") == strlen(version) && *version)
		return true;
	return fields->count == 6 && strcmp(fields->value[5], "summary") == 0;
}

static bool is_rir_range_row(const struct fields *fields)
{
	const char *type = fields->value[RIR_TYPE], *status = fields->value[RIR_STATUS];

	return (strcmp(type, "ipv4") == 0 || strcmp(type, "ipv6") == 0) &&
	       (strcmp(status, "allocated") == 0 || strcmp(status, "assigned") == 0);
}

/* IPv4 rows count addresses, and the count need not be a power of two. */
static int add_rir_ipv4(struct geo_reader *reader, const struct fields *fields, int country,
			char why[ERRMSG_LEN])
{
	const char *start = fields->value[RIR_START], *value = fields->value[RIR_VALUE];
	struct addr_key first, last;
	uint64_t count;
	int err = parse_address(start, &first, why);

	if (err)
		return err;
	if (!cidr_is_ipv4(first.addr)) {
		errmsg(why, "'%s' is not an IPv4 address", start);
		return -EINVAL;
	}
	if (!parse_decimal(value, (uint64_t)UINT32_MAX + 1, &count) || count == 0) {
		errmsg(why, "address count '%s' is not a number 1-4294967296", value);
		return -EINVAL;
	}
	if (ipv4_to_integer(&first) + count - 1 > UINT32_MAX) {
		errmsg(why, "%s addresses from %s run past 255.255.255.255", value, start);
		return -EINVAL;
	}
	ipv4_from_integer(ipv4_to_integer(&first) + count - 1, &last);
	return add_range(reader, &first, &last, country, why);
}

/* IPv6 rows give a prefix length. */
static int add_rir_ipv6(struct geo_reader *reader, const struct fields *fields, int country,
			char why[ERRMSG_LEN])
{
	char prefix[GEO_LINE_MAX + sizeof("/128")];
	struct lpm_key key;
	uint64_t len;
	int err;

	if (!parse_decimal(fields->value[RIR_VALUE], 128, &len)) {
		errmsg(why, "prefix length '%s' is not a number 0-128", fields->value[RIR_VALUE]);
		return -EINVAL;
	}
	if (strchr(fields->value[RIR_START], ':') == NULL) {
		errmsg(why, "'%s' is not an IPv6 address", fields->value[RIR_START]);
		return -EINVAL;
	}
	snprintf(prefix, sizeof(prefix), "%s/%u", fields->value[RIR_START], (unsigned int)len);
	err = parse_prefix(prefix, &key, why);
	return err ? err : add_prefix(reader, &key, country, why);
}

static int parse_rir_line(struct geo_reader *reader, char *text, char why[ERRMSG_LEN])
{
	struct fields fields;
	int country;

	split_fields(text, '|', &fields);
	if (is_rir_header(&fields))
		return 0;
	if (fields.count < 7) {
		errmsg(why, "expected registry|cc|type|start|value|date|status, found %zu fields",
		       fields.count);
		return -EINVAL;
	}
	if (!is_rir_range_row(&fields))
		return 0; /* asn rows, available and reserved space */
	country = parse_country(reader, fields.value[RIR_CC], why);
	if (country < 0)
		return country == -ENOENT ? 0 : country;
	if (strcmp(fields.value[RIR_TYPE], "ipv4") == 0)
		return add_rir_ipv4(reader, &fields, country, why);
	return add_rir_ipv6(reader, &fields, country, why);
}

int geo_read_rir(struct geo_db *db, FILE *file, const char *name,
		 const struct geo_load_options *options, struct geo_load_report *report,
		 char why[ERRMSG_LEN])
{
	struct geo_reader reader;
	int err = start_reader(&reader, db, name, options, report, parse_rir_line, why);

	return err ? err : read_lines(&reader, file, why);
}

/* ---- MaxMind GeoLite2 CSV: Blocks rows name a geoname_id, Locations give its country. ---- */

struct geo_location {
	__u32 geoname_id;
	int country; /* -ENOENT: a continent, or no country given */
};

static const char *const blocks_header[] = { "network", "geoname_id",
					     "registered_country_geoname_id", NULL };
static const char *const locations_header[] = { "geoname_id",	    "locale_code",
						"continent_code",   "continent_name",
						"country_iso_code", NULL };

enum { BLOCKS_NETWORK, BLOCKS_GEONAME, BLOCKS_REGISTERED };
enum { LOCATIONS_GEONAME = 0, LOCATIONS_COUNTRY = 4 };

/* The first line names the columns; the columns this reader uses must be where it expects. */
static int check_header(struct geo_reader *reader, const char *const expected[], const char *kind,
			char why[ERRMSG_LEN])
{
	const struct fields *fields = &reader->row.fields;
	size_t i;

	for (i = 0; expected[i]; i++) {
		if (i >= fields->count || i >= FIELDS_MAX || strcmp(fields->value[i], expected[i]))
			break;
	}
	if (expected[i]) {
		errmsg(why, "not a MaxMind %s file: the header should start with '%s,%s,%s'", kind,
		       expected[0], expected[1], expected[2]);
		return -ECANCELED;
	}
	reader->header_fields = fields->count;
	return 0;
}

/* Splits a CSV data line and checks it has as many fields as the header. */
static int split_csv_row(struct geo_reader *reader, const char *text, char why[ERRMSG_LEN])
{
	int err = split_csv(&reader->csv, text, &reader->row, why);

	if (!err && reader->header_fields && reader->row.fields.count != reader->header_fields) {
		errmsg(why, "expected %zu fields as in the header, found %zu",
		       reader->header_fields, reader->row.fields.count);
		return -EINVAL;
	}
	return err;
}

static int parse_geoname_id(const char *text, __u32 *id, char why[ERRMSG_LEN])
{
	uint64_t value;

	if (!parse_decimal(text, UINT32_MAX, &value)) {
		errmsg(why, "geoname_id '%s' is not a number", text);
		return -EINVAL;
	}
	*id = value;
	return 0;
}

static int append_location(struct geo_locations *locations, __u32 id, int country)
{
	if (locations->count == locations->capacity) {
		size_t capacity = locations->capacity ? locations->capacity * 2 : 256;
		struct geo_location *grown = realloc(locations->items, capacity * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		locations->items = grown;
		locations->capacity = capacity;
	}
	locations->items[locations->count++] = (struct geo_location){ id, country };
	return 0;
}

static int parse_locations_line(struct geo_reader *reader, char *text, char why[ERRMSG_LEN])
{
	const struct fields *fields = &reader->row.fields;
	int err = split_csv_row(reader, text, why);
	int country = -ENOENT;
	__u32 id;

	if (err)
		return err;
	if (!reader->header_fields)
		return check_header(reader, locations_header, "Locations", why);
	err = parse_geoname_id(fields->value[LOCATIONS_GEONAME], &id, why);
	if (err)
		return err;
	/* Continents have no country_iso_code: blocks naming them fall back to the registered
	 * country. */
	if (*fields->value[LOCATIONS_COUNTRY])
		country = parse_country(reader, fields->value[LOCATIONS_COUNTRY], why);
	if (country == -EINVAL)
		return country;
	return append_location(reader->new_locations, id, country);
}

static int compare_locations(const void *a, const void *b)
{
	const struct geo_location *left = a, *right = b;

	return (left->geoname_id > right->geoname_id) - (left->geoname_id < right->geoname_id);
}

/* Sorts for bisection and drops duplicates (one per locale file); two countries for an id fail. */
static int index_locations(struct geo_locations *locations, const char *name, char why[ERRMSG_LEN])
{
	size_t kept = 0;

	if (!locations->count) /* items is NULL, which qsort() must not be given */
		return 0;
	qsort(locations->items, locations->count, sizeof(*locations->items), compare_locations);
	for (size_t i = 0; i < locations->count; i++) {
		const struct geo_location *item = &locations->items[i];
		const struct geo_location *previous = kept ? &locations->items[kept - 1] : NULL;

		if (previous && previous->geoname_id == item->geoname_id) {
			if (previous->country == item->country)
				continue;
			errmsg(why, "%s: geoname_id %u has two different countries", name,
			       item->geoname_id);
			return -EINVAL;
		}
		locations->items[kept++] = *item;
	}
	locations->count = kept;
	return 0;
}

static int start_csv_reader(struct geo_reader *reader, char why[ERRMSG_LEN])
{
	if (csv_init(&reader->csv, CSV_OPTIONS)) {
		errmsg(why, "%s: out of memory", reader->name);
		return -ENOMEM;
	}
	return 0;
}

int geo_read_maxmind_locations(struct geo_locations *locations, FILE *file, const char *name,
			       const struct geo_load_options *options,
			       struct geo_load_report *report, char why[ERRMSG_LEN])
{
	size_t keep = locations->count;
	struct geo_reader reader;
	int err = start_reader(&reader, NULL, name, options, report, parse_locations_line, why);

	if (!err)
		err = start_csv_reader(&reader, why);
	if (err)
		return err;
	reader.new_locations = locations;
	err = read_lines(&reader, file, why);
	csv_free(&reader.csv);
	if (!err)
		err = index_locations(locations, name, why);
	if (err)
		locations->count = keep;
	return err;
}

/* The country of a geoname_id column: -ENOENT when empty or a place without a country. */
static int geoname_country(const struct geo_locations *locations, const char *text,
			   char why[ERRMSG_LEN])
{
	struct geo_location key;
	const struct geo_location *found;
	int err;

	if (*text == '\0')
		return -ENOENT;
	err = parse_geoname_id(text, &key.geoname_id, why);
	if (err)
		return err;
	/* No Locations rows: items is NULL, which bsearch() must not be given. */
	found = locations->count ? bsearch(&key, locations->items, locations->count, sizeof(key),
					   compare_locations)
				 : NULL;
	if (!found) {
		errmsg(why, "geoname_id %s is not in the Locations file", text);
		return -EINVAL;
	}
	return found->country;
}

static int parse_blocks_line(struct geo_reader *reader, char *text, char why[ERRMSG_LEN])
{
	const struct fields *fields = &reader->row.fields;
	struct lpm_key key;
	int err = split_csv_row(reader, text, why), country;

	if (err)
		return err;
	if (!reader->header_fields)
		return check_header(reader, blocks_header, "Blocks", why);
	err = parse_prefix(fields->value[BLOCKS_NETWORK], &key, why);
	if (err)
		return err;
	country = geoname_country(reader->locations, fields->value[BLOCKS_GEONAME], why);
	if (country == -ENOENT)
		country = geoname_country(reader->locations, fields->value[BLOCKS_REGISTERED], why);
	if (country == -ENOENT) {
		reader->no_country++;
		return 0;
	}
	return country < 0 ? country : add_prefix(reader, &key, country, why);
}

int geo_read_maxmind_blocks(struct geo_db *db, const struct geo_locations *locations, FILE *file,
			    const char *name, const struct geo_load_options *options,
			    struct geo_load_report *report, char why[ERRMSG_LEN])
{
	struct geo_reader reader;
	int err = start_reader(&reader, db, name, options, report, parse_blocks_line, why);

	if (!err)
		err = start_csv_reader(&reader, why);
	if (err)
		return err;
	reader.locations = locations;
	err = read_lines(&reader, file, why);
	csv_free(&reader.csv);
	return err;
}

void geo_locations_free(struct geo_locations *locations)
{
	free(locations->items);
	memset(locations, 0, sizeof(*locations));
}

/* ---- Formats by name and by content. ---- */

static const char *const format_names[] = {
	[GEO_FORMAT_AUTO] = "auto",
	[GEO_FORMAT_TOR] = "tor",
	[GEO_FORMAT_CIDR] = "cidr",
	[GEO_FORMAT_RIR] = "rir",
	[GEO_FORMAT_MAXMIND] = "maxmind",
	[GEO_FORMAT_MAXMIND_BLOCKS] = "maxmind-blocks",
	[GEO_FORMAT_MAXMIND_LOCATIONS] = "maxmind-locations",
	[GEO_FORMAT_UNKNOWN] = "unknown",
};

const char *geo_format_name(enum geo_format format)
{
	return (unsigned int)format <= GEO_FORMAT_UNKNOWN ? format_names[format] : "unknown";
}

int geo_format_parse(const char *text, enum geo_format *format, char why[ERRMSG_LEN])
{
	for (enum geo_format f = GEO_FORMAT_AUTO; f <= GEO_FORMAT_MAXMIND; f++) {
		if (strcmp(text, format_names[f]) == 0) {
			*format = f;
			return 0;
		}
	}
	errmsg(why, "unknown format '%s' (auto, tor, cidr, rir or maxmind)", text);
	return -EINVAL;
}

static bool starts_with(const char *text, const char *prefix)
{
	return strncmp(text, prefix, strlen(prefix)) == 0;
}

static bool looks_like_prefix(const char *line)
{
	char token[CIDR_TEXT_LEN], why[ERRMSG_LEN];
	size_t len = strcspn(line, " \t#");
	struct lpm_key key;

	if (len == 0 || len >= sizeof(token))
		return false;
	memcpy(token, line, len);
	token[len] = '\0';
	return parse_prefix(token, &key, why) == 0;
}

static enum geo_format format_from_line(const char *line)
{
	const char *comma = strchr(line, ',');

	if (starts_with(line, "network,geoname_id,"))
		return GEO_FORMAT_MAXMIND_BLOCKS;
	if (starts_with(line, "geoname_id,locale_code,"))
		return GEO_FORMAT_MAXMIND_LOCATIONS;
	if (strchr(line, '|'))
		return GEO_FORMAT_RIR;
	if (comma && strchr(comma + 1, ',') && !strchr(strchr(comma + 1, ',') + 1, ','))
		return GEO_FORMAT_TOR;
	return looks_like_prefix(line) ? GEO_FORMAT_CIDR : GEO_FORMAT_UNKNOWN;
}

static bool ends_with(const char *text, const char *suffix)
{
	size_t len = strlen(text), suffix_len = strlen(suffix);

	return len >= suffix_len && strcasecmp(text + len - suffix_len, suffix) == 0;
}

static enum geo_format format_from_name(const char *name)
{
	const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;

	if (ends_with(base, ".zone"))
		return GEO_FORMAT_CIDR;
	if (strcmp(base, "geoip") == 0 || strcmp(base, "geoip6") == 0)
		return GEO_FORMAT_TOR;
	if (starts_with(base, "delegated-"))
		return GEO_FORMAT_RIR;
	if (strstr(base, "Blocks-IPv") && ends_with(base, ".csv"))
		return GEO_FORMAT_MAXMIND_BLOCKS;
	if (strstr(base, "Locations-") && ends_with(base, ".csv"))
		return GEO_FORMAT_MAXMIND_LOCATIONS;
	return GEO_FORMAT_UNKNOWN;
}

enum geo_format geo_format_detect(const char *name, const char *first_line)
{
	enum geo_format format = first_line ? format_from_line(first_line) : GEO_FORMAT_UNKNOWN;

	return format != GEO_FORMAT_UNKNOWN ? format : format_from_name(name);
}

/* ---- Loading files by path. ---- */

static int open_failed(const char *path, char why[ERRMSG_LEN])
{
	int err = -errno;

	errmsg(why, "%s: %s", path, strerror(-err));
	return err;
}

/* Copies the first line that is neither blank nor a comment into line; empty when none. */
static int first_data_line(FILE *file, char line[GEO_LINE_MAX + 1])
{
	struct line_source source;
	struct line next;
	int got = 0, err = open_line_source(&source, file);

	line[0] = '\0';
	while (!err && (got = next_line(&source, &next)) > 0) {
		const char *text = trim(next.text);

		if (*text && *text != '#') {
			snprintf(line, GEO_LINE_MAX + 1, "%s", text);
			break;
		}
	}
	close_line_source(&source);
	if (!err && got < 0)
		err = got;
	return err;
}

/* Which reader a file needs: the format asked for, or the one its content or name shows. */
static int file_format(const char *path, enum geo_format asked, enum geo_format *format,
		       char why[ERRMSG_LEN])
{
	char line[GEO_LINE_MAX + 1];
	FILE *file;
	int err;

	if (asked != GEO_FORMAT_AUTO && asked != GEO_FORMAT_MAXMIND) {
		*format = asked;
		return 0;
	}
	file = fopen(path, "r");
	if (!file)
		return open_failed(path, why);
	err = first_data_line(file, line);
	fclose(file);
	if (err) {
		errmsg(why, "%s: %s", path, strerror(-err));
		return err;
	}
	*format = geo_format_detect(path, line[0] ? line : NULL);
	if (asked == GEO_FORMAT_MAXMIND && *format != GEO_FORMAT_MAXMIND_BLOCKS &&
	    *format != GEO_FORMAT_MAXMIND_LOCATIONS) {
		errmsg(why, "%s: not a MaxMind Blocks or Locations CSV file (by its header)", path);
		return -EINVAL;
	}
	if (*format == GEO_FORMAT_UNKNOWN) {
		errmsg(why, "%s: cannot tell the format; give --format tor, cidr, rir or maxmind",
		       path);
		return -EINVAL;
	}
	return 0;
}

static int read_file_as(struct geo_db *db, struct geo_locations *locations, const char *path,
			enum geo_format format, const struct geo_load_options *options,
			struct geo_load_report *report, char why[ERRMSG_LEN])
{
	FILE *file = fopen(path, "r");
	int err = -EINVAL;

	if (!file)
		return open_failed(path, why);
	switch (format) {
	case GEO_FORMAT_TOR:
		err = geo_read_tor(db, file, path, options, report, why);
		break;
	case GEO_FORMAT_CIDR:
		err = geo_read_cidr_list(db, file, path, options, report, why);
		break;
	case GEO_FORMAT_RIR:
		err = geo_read_rir(db, file, path, options, report, why);
		break;
	case GEO_FORMAT_MAXMIND_LOCATIONS:
		err = geo_read_maxmind_locations(locations, file, path, options, report, why);
		break;
	case GEO_FORMAT_MAXMIND_BLOCKS:
		err = geo_read_maxmind_blocks(db, locations, file, path, options, report, why);
		break;
	default:
		errmsg(why, "%s: no reader for format %s", path, geo_format_name(format));
	}
	fclose(file);
	return err;
}

/* Locations first: Blocks rows are joined with them as they are read. */
static int read_planned(struct geo_db *db, const char *const *paths, const enum geo_format *formats,
			size_t count, const struct geo_load_options *options,
			struct geo_load_report *report, char why[ERRMSG_LEN])
{
	struct geo_locations locations = { 0 };
	bool have_locations = false;
	int err = 0;

	for (size_t i = 0; i < count && !err; i++) {
		if (formats[i] != GEO_FORMAT_MAXMIND_LOCATIONS)
			continue;
		have_locations = true;
		err = read_file_as(db, &locations, paths[i], formats[i], options, report, why);
	}
	for (size_t i = 0; i < count && !err; i++) {
		if (formats[i] == GEO_FORMAT_MAXMIND_LOCATIONS)
			continue;
		if (formats[i] == GEO_FORMAT_MAXMIND_BLOCKS && !have_locations) {
			errmsg(why,
			       "%s: a MaxMind Blocks file needs its Locations file "
			       "(GeoLite2-Country-Locations-en.csv) in the same load",
			       paths[i]);
			err = -EINVAL;
			break;
		}
		err = read_file_as(db, &locations, paths[i], formats[i], options, report, why);
	}
	geo_locations_free(&locations);
	return err;
}

int geo_load_files(struct geo_db *db, const char *const *paths, size_t count,
		   const struct geo_load_options *options, struct geo_load_report *report,
		   char why[ERRMSG_LEN])
{
	enum geo_format *formats = calloc(count ? count : 1, sizeof(*formats));
	int err = 0;

	if (!formats) {
		errmsg(why, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < count && !err; i++)
		err = file_format(paths[i], options->format, &formats[i], why);
	if (!err)
		err = read_planned(db, paths, formats, count, options, report, why);
	free(formats);
	return err;
}

int geo_default_paths(const char *paths[2], char why[ERRMSG_LEN])
{
	if (access(XDPBAN_TOR_GEOIP, R_OK) == 0 && access(XDPBAN_TOR_GEOIP6, R_OK) == 0) {
		paths[0] = XDPBAN_TOR_GEOIP;
		paths[1] = XDPBAN_TOR_GEOIP6;
		return 0;
	}
	if (access(XDPBAN_TOR_FALLBACK_DIR "/geoip", R_OK) == 0 &&
	    access(XDPBAN_TOR_FALLBACK_DIR "/geoip6", R_OK) == 0) {
		paths[0] = XDPBAN_TOR_FALLBACK_DIR "/geoip";
		paths[1] = XDPBAN_TOR_FALLBACK_DIR "/geoip6";
		return 0;
	}
	errmsg(why,
	       "no default country database: neither %s nor %s/geoip exists "
	       "(install tor-geoipdb, or unpack its files without the tor daemon with "
	       "/usr/share/xdpban/unpack-tor-geoipdb or scripts/install-deps.sh; or give files)",
	       XDPBAN_TOR_GEOIP, XDPBAN_TOR_FALLBACK_DIR);
	return -ENOENT;
}
