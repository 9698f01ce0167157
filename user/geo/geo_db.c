// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "geo/geo_db.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lib/cidr.h"
#include "lib/u128.h"

/* Ranges are kept as 128-bit integers (u128.h). */
#define IPV4_BLOCK_FIRST ((u128)0xffff << 32) /* ::ffff:0.0.0.0 */
#define IPV4_BLOCK_LAST	 (IPV4_BLOCK_FIRST | 0xffffffff)
#define MAX_SOURCES	 UINT16_MAX
#define RANGE_TEXT_LEN	 (2 * CIDR_TEXT_LEN)
#define FIRST_CAPACITY	 4096
#define MIN_RUN		 32 /* shortest run the merge sort starts from */

struct geo_range {
	u128 first;
	u128 last;
	__u16 country;
	__u16 source;
	__u32 line;
};

/* The output array while it grows. */
struct prefix_list {
	struct geo_prefix *items;
	size_t count;
	size_t capacity;
};

static bool in_ipv4_block(u128 value)
{
	return value >= IPV4_BLOCK_FIRST && value <= IPV4_BLOCK_LAST;
}

static void format_address(u128 value, char text[CIDR_TEXT_LEN])
{
	struct lpm_key key = { .prefixlen = ADDR_LEN * 8 };

	u128_to_addr(value, key.addr);
	cidr_format(&key, text);
}

static unsigned int trailing_zero_bits(u128 value)
{
	__u64 low = (__u64)value, high = (__u64)(value >> 64);

	if (low)
		return __builtin_ctzll(low);
	return high ? 64 + __builtin_ctzll(high) : 128;
}

/* floor(log2(value)) for value > 0. */
static unsigned int highest_bit(u128 value)
{
	__u64 high = (__u64)(value >> 64);

	if (high)
		return 127 - __builtin_clzll(high);
	return 63 - __builtin_clzll((__u64)value);
}

/*
 * The largest aligned block starting at first that ends at or before last,
 * as its number of host bits. Taking it greedily, block after block, gives
 * the minimal set of prefixes for [first, last].
 */
static unsigned int largest_block_bits(u128 first, u128 last)
{
	u128 span = last - first; /* one less than the number of addresses */
	unsigned int fits = span == U128_MAX ? 128 : highest_bit(span + 1);
	unsigned int aligned = trailing_zero_bits(first);

	return fits < aligned ? fits : aligned;
}

/* A range printed as a prefix when it is one, else as "first-last". */
static void format_range(u128 first, u128 last, char text[RANGE_TEXT_LEN])
{
	char from[CIDR_TEXT_LEN], to[CIDR_TEXT_LEN];
	unsigned int bits = largest_block_bits(first, last);
	struct lpm_key key = { .prefixlen = 128 - bits };

	if (bits == 128 || first + u128_host_mask(key.prefixlen) == last) {
		u128_to_addr(first, key.addr);
		cidr_format(&key, text);
		return;
	}
	format_address(first, from);
	format_address(last, to);
	snprintf(text, RANGE_TEXT_LEN, "%s-%s", from, to);
}

void geo_db_init(struct geo_db *db)
{
	memset(db, 0, sizeof(*db));
}

void geo_db_free(struct geo_db *db)
{
	for (unsigned int i = 0; i < db->source_count; i++)
		free(db->sources[i]);
	free(db->sources);
	free(db->ranges);
	free(db->prefixes);
	geo_db_init(db);
}

int geo_db_add_source(struct geo_db *db, const char *name)
{
	char **grown, *copy;

	if (db->source_count >= MAX_SOURCES)
		return -E2BIG;
	grown = realloc(db->sources, (db->source_count + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	db->sources = grown;
	copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	db->sources[db->source_count] = copy;
	return db->source_count++;
}

static int push_range(struct geo_db *db, u128 first, u128 last, int country,
		      struct geo_origin origin)
{
	struct geo_range *range;

	if (db->range_count == db->range_capacity) {
		size_t capacity = db->range_capacity ? db->range_capacity * 2 : FIRST_CAPACITY;
		struct geo_range *grown = realloc(db->ranges, capacity * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		db->ranges = grown;
		db->range_capacity = capacity;
	}
	range = &db->ranges[db->range_count++];
	range->first = first;
	range->last = last;
	range->country = country;
	range->source = origin.source;
	range->line = origin.line > UINT32_MAX ? UINT32_MAX : origin.line;
	return 0;
}

/* Adds [first, last] without the IPv4-mapped block when it is an IPv6 range around it. */
static int add_clipped(struct geo_db *db, u128 first, u128 last, int country,
		       struct geo_origin origin)
{
	int err = 0;

	if (last < IPV4_BLOCK_FIRST || first > IPV4_BLOCK_LAST ||
	    (first >= IPV4_BLOCK_FIRST && last <= IPV4_BLOCK_LAST))
		return push_range(db, first, last, country, origin);
	if (first < IPV4_BLOCK_FIRST)
		err = push_range(db, first, IPV4_BLOCK_FIRST - 1, country, origin);
	if (!err && last > IPV4_BLOCK_LAST)
		err = push_range(db, IPV4_BLOCK_LAST + 1, last, country, origin);
	return err ? err : GEO_DB_CLIPPED_IPV4;
}

static int check_addable(const struct geo_db *db, int country, struct geo_origin origin,
			 char why[ERRMSG_LEN])
{
	if (db->finished) {
		errmsg(why, "the country database is already finished");
		return -EINVAL;
	}
	if (origin.source >= db->source_count) {
		errmsg(why, "unknown source %u", origin.source);
		return -EINVAL;
	}
	if (!country_slot_is_valid(country)) {
		errmsg(why, "country slot %d is not a valid country", country);
		return -EINVAL;
	}
	return 0;
}

int geo_db_add_range(struct geo_db *db, const struct addr_key *first, const struct addr_key *last,
		     int country, struct geo_origin origin, char why[ERRMSG_LEN])
{
	u128 from = u128_from_addr(first->addr), to = u128_from_addr(last->addr);
	int err = check_addable(db, country, origin, why);

	if (err)
		return err;
	if (to < from) {
		char from_text[CIDR_TEXT_LEN], to_text[CIDR_TEXT_LEN];

		format_address(from, from_text);
		format_address(to, to_text);
		errmsg(why, "range %s-%s ends before it starts", from_text, to_text);
		return -EINVAL;
	}
	return add_clipped(db, from, to, country, origin);
}

int geo_db_add_prefix(struct geo_db *db, const struct lpm_key *key, int country,
		      struct geo_origin origin, char why[ERRMSG_LEN])
{
	u128 network = u128_from_addr(key->addr), mask;
	int err = check_addable(db, country, origin, why);

	if (err)
		return err;
	if (key->prefixlen > ADDR_LEN * 8) {
		errmsg(why, "prefix length %u is longer than 128", key->prefixlen);
		return -EINVAL;
	}
	mask = u128_host_mask(key->prefixlen);
	if (network & mask) {
		char text[CIDR_TEXT_LEN];

		cidr_format(key, text);
		errmsg(why, "'%s' has host bits set", text);
		return -EINVAL;
	}
	return add_clipped(db, network, network | mask, country, origin);
}

bool geo_prefix_holds_ipv4_block(const struct lpm_key *key)
{
	u128 network = u128_from_addr(key->addr), mask;

	if (key->prefixlen >= IPV4_MAPPED_PREFIXLEN)
		return false;
	mask = u128_host_mask(key->prefixlen);
	return (network & mask) == 0 && (IPV4_BLOCK_FIRST & ~mask) == network;
}

size_t geo_db_range_count(const struct geo_db *db)
{
	return db->range_count;
}

void geo_db_drop_ranges(struct geo_db *db, size_t keep)
{
	if (keep < db->range_count)
		db->range_count = keep;
}

static bool range_before(const struct geo_range *a, const struct geo_range *b)
{
	return a->first < b->first || (a->first == b->first && a->last < b->last);
}

/* Merges the sorted runs src[low, mid) and src[mid, high) into dst[low, high). */
static void merge_runs(struct geo_range *dst, const struct geo_range *src, size_t low, size_t mid,
		       size_t high)
{
	size_t left = low, right = mid, out = low;

	while (left < mid && right < high)
		dst[out++] = range_before(&src[right], &src[left]) ? src[right++] : src[left++];
	memcpy(&dst[out], &src[left], (mid - left) * sizeof(*dst));
	out += mid - left;
	memcpy(&dst[out], &src[right], (high - right) * sizeof(*dst));
}

/* One pass: merges runs pairwise from src into dst; run_ends shrinks to the merged runs. */
static size_t merge_pass(struct geo_range *dst, const struct geo_range *src, size_t *run_ends,
			 size_t runs)
{
	size_t merged = 0, low = 0;

	for (size_t run = 0; run < runs; run += 2) {
		size_t mid = run_ends[run];
		size_t high = run + 1 < runs ? run_ends[run + 1] : mid;

		merge_runs(dst, src, low, mid, high);
		run_ends[merged++] = high;
		low = high;
	}
	return merged;
}

/* Sorts ranges[start, end) by insertion, given that [start, sorted) is sorted already. */
static void insertion_sort(struct geo_range *ranges, size_t start, size_t sorted, size_t end)
{
	for (size_t i = sorted; i < end; i++) {
		struct geo_range moving = ranges[i];
		size_t j = i;

		while (j > start && range_before(&moving, &ranges[j - 1])) {
			ranges[j] = ranges[j - 1];
			j--;
		}
		ranges[j] = moving;
	}
}

/*
 * Cuts ranges into sorted runs and records where each ends: the runs already
 * in the input, each made at least MIN_RUN long by insertion sort (cheap
 * within the cache) so that random input needs fewer merge passes.
 */
static size_t find_runs(struct geo_range *ranges, size_t count, size_t *run_ends)
{
	size_t runs = 0, start = 0;

	while (start < count) {
		size_t end = start + 1, wanted;

		while (end < count && !range_before(&ranges[end], &ranges[end - 1]))
			end++;
		wanted = start + MIN_RUN < count ? start + MIN_RUN : count;
		if (end < wanted) {
			insertion_sort(ranges, start, end, wanted);
			end = wanted;
		}
		run_ends[runs++] = end;
		start = end;
	}
	return runs;
}

/*
 * A natural merge sort: database files are sorted already, so the ranges
 * arrive as a few long runs (one per file) and sorting costs O(n log runs),
 * a single check when there is one run; any order is still O(n log n).
 */
static int sort_ranges(struct geo_range *ranges, size_t count)
{
	struct geo_range *spare, *src = ranges, *dst;
	size_t *run_ends, runs;

	if (count < 2)
		return 0;
	run_ends = malloc((count / MIN_RUN + 1) * sizeof(*run_ends));
	if (!run_ends)
		return -ENOMEM;
	runs = find_runs(ranges, count, run_ends);
	spare = runs > 1 ? malloc(count * sizeof(*spare)) : NULL;
	if (runs > 1 && !spare) {
		free(run_ends);
		return -ENOMEM;
	}
	dst = spare;
	while (runs > 1) {
		struct geo_range *done = dst;

		runs = merge_pass(dst, src, run_ends, runs);
		dst = src;
		src = done;
	}
	if (src != ranges)
		memcpy(ranges, src, count * sizeof(*ranges));
	free(spare);
	free(run_ends);
	return 0;
}

static int push_prefix(struct prefix_list *out, u128 network, unsigned int prefixlen, int country)
{
	struct geo_prefix *prefix;

	if (out->count == out->capacity) {
		size_t capacity = out->capacity ? out->capacity * 2 : FIRST_CAPACITY;
		struct geo_prefix *grown = realloc(out->items, capacity * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		out->items = grown;
		out->capacity = capacity;
	}
	prefix = &out->items[out->count++];
	memset(prefix, 0, sizeof(*prefix));
	prefix->key.prefixlen = prefixlen;
	u128_to_addr(network, prefix->key.addr);
	country_code(country, prefix->country);
	return 0;
}

/* Splits [first, last] into the fewest prefixes: the largest aligned block, repeatedly. */
static int push_range_as_prefixes(struct prefix_list *out, u128 first, u128 last, int country)
{
	for (;;) {
		unsigned int bits = largest_block_bits(first, last);
		u128 block_last = first + u128_host_mask(128 - bits);
		int err = push_prefix(out, first, 128 - bits, country);

		if (err || block_last == last)
			return err;
		first = block_last + 1;
	}
}

/* Ranges of one country that overlap or touch, merged while the sweep goes on. */
struct merged_run {
	u128 first;
	u128 last;
	int country;
	size_t reaches_last; /* the range that ends at last: it overlaps any later one starting
				before */
};

static struct merged_run start_run(const struct geo_range *ranges, size_t i)
{
	return (struct merged_run){ .first = ranges[i].first,
				    .last = ranges[i].last,
				    .country = ranges[i].country,
				    .reaches_last = i };
}

static void describe_range(const struct geo_db *db, const struct geo_range *range, char *text,
			   size_t size)
{
	char span[RANGE_TEXT_LEN], code[COUNTRY_CODE_LEN];

	format_range(range->first, range->last, span);
	country_code(range->country, code);
	snprintf(text, size, "%s:%u: %s (%s)", db->sources[range->source], range->line, span, code);
}

static void describe_conflict(const struct geo_db *db, const struct geo_range *earlier,
			      const struct geo_range *later, unsigned long more,
			      char why[ERRMSG_LEN])
{
	char first[ERRMSG_LEN], second[ERRMSG_LEN];

	describe_range(db, earlier, first, sizeof(first));
	describe_range(db, later, second, sizeof(second));
	if (more)
		errmsg(why, "%s overlaps %s, another country (and %lu more overlaps)", first,
		       second, more);
	else
		errmsg(why, "%s overlaps %s, another country", first, second);
}

/* True when next continues run without a gap: same country, same family, next address. */
static bool extends_run(const struct merged_run *run, const struct geo_range *next)
{
	return next->country == run->country && next->first == run->last + 1 &&
	       in_ipv4_block(next->first) == in_ipv4_block(run->last);
}

/*
 * One sweep over the sorted ranges: merges overlapping and adjacent ranges of
 * one country and emits each merged run as prefixes; counts overlaps of
 * different countries and describes the first one.
 */
static int sweep_ranges(const struct geo_db *db, struct prefix_list *out, char why[ERRMSG_LEN])
{
	const struct geo_range *ranges = db->ranges;
	struct merged_run run = start_run(ranges, 0);
	size_t first_conflict[2] = { 0, 0 };
	unsigned long conflicts = 0;
	int err = 0;

	for (size_t i = 1; i < db->range_count && !err; i++) {
		const struct geo_range *next = &ranges[i];

		if (next->first <= run.last && next->country != run.country) {
			if (conflicts++ == 0) {
				first_conflict[0] = run.reaches_last;
				first_conflict[1] = i;
			}
		} else if (next->first <= run.last || extends_run(&run, next)) {
			if (next->last > run.last) {
				run.last = next->last;
				run.reaches_last = i;
			}
		} else {
			if (!conflicts)
				err = push_range_as_prefixes(out, run.first, run.last, run.country);
			run = start_run(ranges, i);
		}
	}
	if (!err && !conflicts)
		err = push_range_as_prefixes(out, run.first, run.last, run.country);
	if (err || !conflicts)
		return err;
	describe_conflict(db, &ranges[first_conflict[0]], &ranges[first_conflict[1]], conflicts - 1,
			  why);
	return -EINVAL;
}

/*
 * In address order, IPv4 (::ffff:0:0/96) sits between the few IPv6 prefixes
 * below it and the rest; moving it to the front gives cidr_compare() order.
 */
static int move_ipv4_first(struct prefix_list *list, size_t *ipv4_count)
{
	size_t below = 0, ipv4 = 0;
	struct geo_prefix *low_ipv6;

	while (below < list->count &&
	       u128_from_addr(list->items[below].key.addr) < IPV4_BLOCK_FIRST)
		below++;
	while (below + ipv4 < list->count && cidr_is_ipv4(list->items[below + ipv4].key.addr))
		ipv4++;
	*ipv4_count = ipv4;
	if (below == 0 || ipv4 == 0)
		return 0;
	low_ipv6 = malloc(below * sizeof(*low_ipv6));
	if (!low_ipv6)
		return -ENOMEM;
	memcpy(low_ipv6, list->items, below * sizeof(*low_ipv6));
	memmove(list->items, list->items + below, ipv4 * sizeof(*low_ipv6));
	memcpy(list->items + ipv4, low_ipv6, below * sizeof(*low_ipv6));
	free(low_ipv6);
	return 0;
}

void geo_db_count_countries(struct geo_db *db)
{
	memset(db->country_prefixes, 0, sizeof(db->country_prefixes));
	for (size_t i = 0; i < db->prefix_count; i++) {
		int slot = country_slot_of_code(db->prefixes[i].country);

		if (slot >= 0)
			db->country_prefixes[slot]++;
	}
}

int geo_db_finish(struct geo_db *db, char why[ERRMSG_LEN])
{
	struct prefix_list out = { 0 };
	size_t ipv4_count = 0;
	int err;

	if (db->finished) {
		errmsg(why, "the country database is already finished");
		return -EINVAL;
	}
	err = sort_ranges(db->ranges, db->range_count);
	if (!err && db->range_count)
		err = sweep_ranges(db, &out, why);
	if (!err)
		err = move_ipv4_first(&out, &ipv4_count);
	if (err) {
		if (err == -ENOMEM)
			errmsg(why, "out of memory normalising %zu ranges", db->range_count);
		free(out.items);
		return err;
	}
	db->prefixes = out.items;
	db->prefix_count = out.count;
	db->ipv4_prefix_count = ipv4_count;
	geo_db_count_countries(db);
	free(db->ranges);
	db->ranges = NULL;
	db->range_count = db->range_capacity = 0;
	db->finished = true;
	return 0;
}

static u128 prefix_last(const struct geo_prefix *prefix)
{
	return u128_from_addr(prefix->key.addr) | u128_host_mask(prefix->key.prefixlen);
}

const struct geo_prefix *geo_db_lookup(const struct geo_db *db, const struct addr_key *addr)
{
	bool ipv4 = cidr_is_ipv4(addr->addr);
	size_t low = ipv4 ? 0 : db->ipv4_prefix_count;
	size_t high = ipv4 ? db->ipv4_prefix_count : db->prefix_count;
	u128 value = u128_from_addr(addr->addr);

	/* The last prefix starting at or before value is the only one that can hold it. */
	while (low < high) {
		size_t mid = low + (high - low) / 2;

		if (u128_from_addr(db->prefixes[mid].key.addr) <= value)
			low = mid + 1;
		else
			high = mid;
	}
	if (low == (ipv4 ? 0 : db->ipv4_prefix_count))
		return NULL;
	return value <= prefix_last(&db->prefixes[low - 1]) ? &db->prefixes[low - 1] : NULL;
}
