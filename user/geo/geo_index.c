// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "geo/geo_index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/cidr.h"
#include "lib/u128.h"
#include "geo/country.h"

#define BLOCK_HALF (GEO_BLOCK_CAPACITY / 2)

/* The pairs as 128-bit ranges, for finding which of them meet a range of the index. */
struct ranges {
	u128 *first;
	u128 *last;
	const struct geo_pair *pairs;
};

struct builder {
	struct ranges ranges;
	struct geo_index *index;
	size_t capacity;
};

/* First pair in [low, high) whose range ends at or after value. */
static size_t first_ending_after(const struct ranges *r, size_t low, size_t high, u128 value)
{
	while (low < high) {
		size_t mid = low + (high - low) / 2;

		if (r->last[mid] < value)
			low = mid + 1;
		else
			high = mid;
	}
	return low;
}

/* First pair in [low, high) whose range starts after value. */
static size_t first_starting_after(const struct ranges *r, size_t low, size_t high, u128 value)
{
	while (low < high) {
		size_t mid = low + (high - low) / 2;

		if (r->first[mid] <= value)
			low = mid + 1;
		else
			high = mid;
	}
	return low;
}

static int block_alloc(struct builder *b)
{
	struct geo_index *index = b->index;

	if (index->block_count == BLOCK_HALF) {
		index->out_of_blocks = true;
		return -1;
	}
	if (index->block_count == b->capacity) {
		size_t grown = b->capacity ? b->capacity * 2 : 1024;
		struct geo_index_block *blocks = realloc(index->blocks, grown * sizeof(*blocks));

		if (!blocks)
			return -1;
		index->blocks = blocks;
		b->capacity = grown;
	}
	return (int)index->block_count++;
}

/*
 * The entry for the range [start, start + size of prefix) met by pairs
 * [low, high): none, the one country covering it all, a block splitting it
 * by its next byte (levels_left > 0), or MIXED.
 */
static __u32 classify(struct builder *b, size_t low, size_t high, u128 start, unsigned int prefix,
		      int levels_left)
{
	const struct geo_pair *pairs = b->ranges.pairs;
	struct geo_index_block block;
	u128 child_size;
	int number, slot;

	if (low == high)
		return GEO_INDEX_NONE;
	if (high - low == 1 && pairs[low].key.prefixlen <= prefix) {
		slot = country_slot_of_code(pairs[low].value.country);
		return slot < 0 ? GEO_INDEX_MIXED : 1 + (__u32)slot;
	}
	if (levels_left == 0 || (number = block_alloc(b)) < 0) {
		b->index->mixed++;
		return GEO_INDEX_MIXED;
	}
	child_size = (u128)1 << (128 - prefix - 8);
	for (unsigned int child = 0; child < 256; child++) {
		u128 first = start + child * child_size, last = first + child_size - 1;
		size_t child_low = first_ending_after(&b->ranges, low, high, first);
		size_t child_high = first_starting_after(&b->ranges, child_low, high, last);

		block.entry[child] =
		    classify(b, child_low, child_high, first, prefix + 8, levels_left - 1);
	}
	b->index->blocks[number] = block;
	return GEO_INDEX_BLOCK_FIRST + b->index->block_base + (__u32)number;
}

/* The first level of one family: 65536 ranges of 2^(128 - first_prefix) addresses. */
static void build_first_level(struct builder *b, size_t low, size_t high, u128 base,
			      unsigned int first_prefix, int levels, __u32 *first)
{
	u128 size = (u128)1 << (128 - first_prefix);

	for (__u32 bucket = 0; bucket < GEO_INDEX_BUCKETS; bucket++) {
		u128 start = base + bucket * size;
		size_t bucket_low = first_ending_after(&b->ranges, low, high, start);
		size_t bucket_high =
		    first_starting_after(&b->ranges, bucket_low, high, start + size - 1);

		first[bucket] = classify(b, bucket_low, bucket_high, start, first_prefix, levels);
	}
}

/* The half of geo_blocks the first level points into now (0 when none). */
static __u32 block_half_in_use(const struct geo_index *index)
{
	for (__u32 bucket = 0; bucket < GEO_INDEX_BUCKETS; bucket++) {
		__u32 entries[2] = { index->first4[bucket], index->first6[bucket] };

		for (int i = 0; i < 2; i++) {
			if (entries[i] >= GEO_INDEX_BLOCK_FIRST && entries[i] < GEO_INDEX_MIXED)
				return entries[i] - GEO_INDEX_BLOCK_FIRST >= BLOCK_HALF ? BLOCK_HALF
											: 0;
		}
	}
	return BLOCK_HALF; /* so the first build uses the lower half */
}

int geo_index_build(const struct geo_pair *pairs, size_t count, const struct geo_index *current,
		    struct geo_index *next, char why[ERRMSG_LEN])
{
	struct builder b = { .index = next, .ranges.pairs = pairs };
	static const __u8 mapped[ADDR_LEN] = { [10] = 0xff, [11] = 0xff };
	size_t ipv4 = 0;

	memset(next, 0, sizeof(*next));
	next->block_base = block_half_in_use(current) ? 0 : BLOCK_HALF;
	b.ranges.first = calloc(count + 1, sizeof(u128));
	b.ranges.last = calloc(count + 1, sizeof(u128));
	if (!b.ranges.first || !b.ranges.last) {
		free(b.ranges.first);
		free(b.ranges.last);
		errmsg(why, "out of memory building the geo index");
		return -ENOMEM;
	}
	for (size_t i = 0; i < count; i++) {
		b.ranges.first[i] = u128_from_addr(pairs[i].key.addr);
		b.ranges.last[i] = b.ranges.first[i] | u128_host_mask(pairs[i].key.prefixlen);
		ipv4 += cidr_is_ipv4(pairs[i].key.addr) &&
			pairs[i].key.prefixlen >= IPV4_MAPPED_PREFIXLEN;
	}
	build_first_level(&b, 0, ipv4, u128_from_addr(mapped), IPV4_MAPPED_PREFIXLEN + 16,
			  GEO_INDEX_LEVELS4, next->first4);
	build_first_level(&b, ipv4, count, 0, 16, GEO_INDEX_LEVELS6, next->first6);
	free(b.ranges.first);
	free(b.ranges.last);
	return 0;
}

int geo_index_read(const struct maps *maps, struct geo_index *index, char why[ERRMSG_LEN])
{
	const int fds[2] = { maps->geo_index4, maps->geo_index6 };
	__u32 *tables[2] = { index->first4, index->first6 };

	memset(index, 0, sizeof(*index));
	for (int t = 0; t < 2; t++) {
		for (__u32 bucket = 0; bucket < GEO_INDEX_BUCKETS; bucket++) {
			struct geo_index_entry entry;

			if (bpf_map_lookup_elem(fds[t], &bucket, &entry)) {
				int err = -errno;

				errmsg(why, "cannot read the geo index: %s", strerror(errno));
				return err;
			}
			tables[t][bucket] = entry.country;
		}
	}
	return 0;
}

static int write_blocks(const struct maps *maps, const struct geo_index *index,
			char why[ERRMSG_LEN])
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 *keys = calloc(index->block_count + 1, sizeof(*keys));
	__u32 count = index->block_count;
	int err = 0;

	if (!keys) {
		errmsg(why, "out of memory writing the geo index");
		return -ENOMEM;
	}
	for (__u32 i = 0; i < count; i++)
		keys[i] = index->block_base + i;
	if (count && bpf_map_update_batch(maps->geo_blocks, keys, index->blocks, &count, &opts)) {
		err = -errno;
		errmsg(why, "cannot write the geo index blocks: %s", strerror(errno));
	}
	free(keys);
	return err;
}

/* Writes the buckets where from and to differ: to's value, or MIXED when to_mixed. */
static int write_first_level(int fd, const __u32 *from, const __u32 *to, bool to_mixed,
			     char why[ERRMSG_LEN])
{
	static __u32 keys[GEO_INDEX_BUCKETS];
	static struct geo_index_entry values[GEO_INDEX_BUCKETS];
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = 0;

	for (__u32 bucket = 0; bucket < GEO_INDEX_BUCKETS; bucket++) {
		if (from[bucket] == to[bucket])
			continue;
		keys[count] = bucket;
		values[count++].country = to_mixed ? GEO_INDEX_MIXED : to[bucket];
	}
	if (count && bpf_map_update_batch(fd, keys, values, &count, &opts)) {
		int err = -errno;

		errmsg(why, "cannot write the geo index: %s", strerror(errno));
		return err;
	}
	return 0;
}

int geo_index_apply(const struct maps *maps, const struct geo_index *from,
		    const struct geo_index *to, bool to_mixed, char why[ERRMSG_LEN])
{
	int err = to_mixed ? 0 : write_blocks(maps, to, why);

	if (!err)
		err = write_first_level(maps->geo_index4, from->first4, to->first4, to_mixed, why);
	if (!err)
		err = write_first_level(maps->geo_index6, from->first6, to->first6, to_mixed, why);
	return err;
}

void geo_index_free(struct geo_index *index)
{
	free(index->blocks);
	index->blocks = NULL;
	index->block_count = 0;
}

int geo_index_country(const struct maps *maps, const struct lpm_key *host)
{
	bool ipv4 = cidr_is_ipv4(host->addr);
	const __u8 *bytes = ipv4 ? &host->addr[12] : host->addr;
	int levels = ipv4 ? GEO_INDEX_LEVELS4 : GEO_INDEX_LEVELS6;
	__u32 bucket = (__u32)bytes[0] << 8 | bytes[1];
	struct geo_index_entry first = { GEO_INDEX_MIXED };
	__u32 entry;
	struct geo_entry geo;

	bpf_map_lookup_elem(ipv4 ? maps->geo_index4 : maps->geo_index6, &bucket, &first);
	entry = first.country;
	for (int level = 0; level < levels; level++) {
		struct geo_index_block block;
		__u32 number = entry - GEO_INDEX_BLOCK_FIRST;

		if (entry < GEO_INDEX_BLOCK_FIRST || entry >= GEO_INDEX_MIXED)
			break;
		if (bpf_map_lookup_elem(maps->geo_blocks, &number, &block))
			return -1;
		entry = block.entry[bytes[2 + level]];
	}
	if (entry < GEO_INDEX_BLOCK_FIRST)
		return (int)entry - 1; /* NONE becomes -1 */
	if (bpf_map_lookup_elem(maps->geo_prefix, host, &geo))
		return -1;
	return country_slot_of_code(geo.country);
}
