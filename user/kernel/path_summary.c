// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "kernel/path_summary.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "kernel/map.h"
#include "lib/u128.h"

/* Both families' summaries, as read from or to be written to the kernel. */
struct summary {
	struct path_summary v4[PATH_SUMMARY_BUCKETS];
	struct path_summary v6[PATH_SUMMARY_BUCKETS];
};

static const __u8 ipv4_mapped[ADDR_LEN] = { [10] = 0xff, [11] = 0xff };

static int fail(char why[ERRMSG_LEN], const char *what)
{
	int err = -errno;

	errmsg(why, "cannot %s the path summary: %s", what, strerror(errno));
	return err ? err : -EIO;
}

static int read_table(int fd, struct path_summary *table, char why[ERRMSG_LEN])
{
	static __u32 keys[PATH_SUMMARY_BUCKETS];
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = PATH_SUMMARY_BUCKETS, out;

	if (bpf_map_lookup_batch(fd, NULL, &out, keys, table, &count, &opts) &&
	    (errno != ENOENT || count != PATH_SUMMARY_BUCKETS))
		return fail(why, "read");
	return 0;
}

static int summary_read(const struct maps *maps, struct summary *s, char why[ERRMSG_LEN])
{
	int err = read_table(maps->path_sum4, s->v4, why);

	return err ? err : read_table(maps->path_sum6, s->v6, why);
}

/* Writes the entries of to that differ from from. */
static int write_table(int fd, const struct path_summary *from, const struct path_summary *to,
		       char why[ERRMSG_LEN])
{
	static __u32 keys[PATH_SUMMARY_BUCKETS];
	static struct path_summary values[PATH_SUMMARY_BUCKETS];
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = 0;

	for (__u32 bucket = 0; bucket < PATH_SUMMARY_BUCKETS; bucket++) {
		if (!memcmp(&from[bucket], &to[bucket], sizeof(to[bucket])))
			continue;
		keys[count] = bucket;
		values[count++] = to[bucket];
	}
	if (count && bpf_map_update_batch(fd, keys, values, &count, &opts))
		return fail(why, "write");
	return 0;
}

static int summary_write(const struct maps *maps, const struct summary *from,
			 const struct summary *to, char why[ERRMSG_LEN])
{
	int err = write_table(maps->path_sum4, from->v4, to->v4, why);

	return err ? err : write_table(maps->path_sum6, from->v6, to->v6, why);
}

/* Reads the summary twice: what the kernel has (*from) and a copy to change (*to). */
static int summary_begin(const struct maps *maps, struct summary **from, struct summary **to,
			 char why[ERRMSG_LEN])
{
	*from = malloc(sizeof(**from));
	*to = malloc(sizeof(**to));
	if (!*from || !*to) {
		free(*from);
		free(*to);
		errmsg(why, "out of memory for the path summary");
		return -ENOMEM;
	}
	int err = summary_read(maps, *from, why);

	if (err) {
		free(*from);
		free(*to);
		return err;
	}
	memcpy(*to, *from, sizeof(**to));
	return 0;
}

static int summary_commit(const struct maps *maps, struct summary *from, struct summary *to,
			  int err, char why[ERRMSG_LEN])
{
	if (!err)
		err = summary_write(maps, from, to, why);
	free(from);
	free(to);
	return err;
}

/* Applies fn to the summary entries (both families) of every /16 the prefix meets. */
static void for_each_bucket(struct summary *s, const struct lpm_key *key,
			    void (*fn)(struct path_summary *entry, __u8 skip), __u8 skip)
{
	u128 first = u128_from_addr(key->addr) & ~u128_host_mask(key->prefixlen);
	u128 last = first | u128_host_mask(key->prefixlen);
	u128 v4_first = u128_from_addr(ipv4_mapped), v4_last = v4_first | 0xffffffffU;

	/* IPv6 by the first 16 bits (IPv4-mapped prefixes also meet bucket 0: harmless). */
	for (__u32 b = (__u32)(first >> 112); b <= (__u32)(last >> 112); b++)
		fn(&s->v6[b], skip);
	if (last < v4_first || first > v4_last)
		return;
	first = first > v4_first ? first : v4_first;
	last = last < v4_last ? last : v4_last;
	for (__u32 b = (__u32)(first >> 16) & 0xffff; b <= ((__u32)(last >> 16) & 0xffff); b++)
		fn(&s->v4[b], skip);
}

static void clear_skip(struct path_summary *entry, __u8 skip)
{
	entry->skip &= (__u8)~skip;
}

int path_summary_open(const struct maps *maps, const struct lpm_key *keys, size_t n, __u8 skip,
		      char why[ERRMSG_LEN])
{
	struct summary *from, *to;
	int err;

	if (n == 0)
		return 0;
	err = summary_begin(maps, &from, &to, why);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++)
		for_each_bucket(to, &keys[i], clear_skip, skip);
	return summary_commit(maps, from, to, 0, why);
}

/* Clears skip wherever an entry of the trie meets; the caller set it everywhere first. */
static int clear_where_trie_meets(int fd, size_t value_size, struct summary *s, __u8 skip,
				  char why[ERRMSG_LEN])
{
	void *keys = NULL, *values = NULL;
	size_t count = 0;
	int err = map_dump(fd, sizeof(struct lpm_key), value_size, &keys, &values, &count, why);

	for (size_t i = 0; !err && i < count; i++)
		for_each_bucket(s, (const struct lpm_key *)keys + i, clear_skip, skip);
	free(keys);
	free(values);
	return err;
}

/* The skip bits of every /16 from the two tries as they are now. */
static int compute_skips(const struct maps *maps, struct summary *s, char why[ERRMSG_LEN])
{
	const __u8 all = PATH_SKIP_ALLOW | PATH_SKIP_CIDR;
	int err;

	for (__u32 b = 0; b < PATH_SUMMARY_BUCKETS; b++) {
		s->v4[b].skip = all;
		s->v6[b].skip = all;
	}
	err = clear_where_trie_meets(maps->allow_cidr, sizeof(struct allow_entry), s,
				     PATH_SKIP_ALLOW, why);
	if (!err)
		err = clear_where_trie_meets(maps->ban_cidr, sizeof(struct ban_entry), s,
					     PATH_SKIP_CIDR, why);
	return err;
}

int path_summary_tighten(const struct maps *maps, char why[ERRMSG_LEN])
{
	struct summary *from, *to;
	int err = summary_begin(maps, &from, &to, why);

	if (err)
		return err;
	return summary_commit(maps, from, to, compute_skips(maps, to, why), why);
}

/* The summary's geo entry for a geo index first-level entry: MIXED has none (0). */
static __u16 geo_entry_for(__u32 first_level)
{
	return first_level >= GEO_INDEX_MIXED ? 0 : (__u16)(first_level + 1);
}

static bool points_to_block(__u16 geo)
{
	return geo > GEO_INDEX_BLOCK_FIRST; /* 1 + a block reference */
}

static void geo_defer_table(struct path_summary *table, const __u32 *first)
{
	for (__u32 b = 0; b < PATH_SUMMARY_BUCKETS; b++) {
		if (table[b].geo != geo_entry_for(first[b]) || points_to_block(table[b].geo))
			table[b].geo = 0;
	}
}

static void geo_set_table(struct path_summary *table, const __u32 *first)
{
	for (__u32 b = 0; b < PATH_SUMMARY_BUCKETS; b++)
		table[b].geo = geo_entry_for(first[b]);
}

int path_summary_geo_defer(const struct maps *maps, const __u32 *first4, const __u32 *first6,
			   char why[ERRMSG_LEN])
{
	struct summary *from, *to;
	int err = summary_begin(maps, &from, &to, why);

	if (err)
		return err;
	geo_defer_table(to->v4, first4);
	geo_defer_table(to->v6, first6);
	return summary_commit(maps, from, to, 0, why);
}

int path_summary_geo_set(const struct maps *maps, const __u32 *first4, const __u32 *first6,
			 char why[ERRMSG_LEN])
{
	struct summary *from, *to;
	int err = summary_begin(maps, &from, &to, why);

	if (err)
		return err;
	geo_set_table(to->v4, first4);
	geo_set_table(to->v6, first6);
	return summary_commit(maps, from, to, 0, why);
}

/* The first level of one geo index map. */
static int read_geo_first(int fd, __u32 *first, char why[ERRMSG_LEN])
{
	static __u32 keys[GEO_INDEX_BUCKETS];
	static struct geo_index_entry values[GEO_INDEX_BUCKETS];
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = GEO_INDEX_BUCKETS, out;

	if (bpf_map_lookup_batch(fd, NULL, &out, keys, values, &count, &opts) &&
	    (errno != ENOENT || count != GEO_INDEX_BUCKETS)) {
		int err = -errno;

		errmsg(why, "cannot read the geo index: %s", strerror(errno));
		return err;
	}
	for (__u32 i = 0; i < count; i++)
		first[keys[i]] = values[i].country;
	return 0;
}

int path_summary_sync(const struct maps *maps, char why[ERRMSG_LEN])
{
	static __u32 first4[GEO_INDEX_BUCKETS], first6[GEO_INDEX_BUCKETS];
	struct summary *from, *to;
	int err = summary_begin(maps, &from, &to, why);

	if (err)
		return err;
	err = read_geo_first(maps->geo_index4, first4, why);
	if (!err)
		err = read_geo_first(maps->geo_index6, first6, why);
	if (!err)
		err = compute_skips(maps, to, why);
	if (!err) {
		geo_set_table(to->v4, first4);
		geo_set_table(to->v6, first6);
	}
	return summary_commit(maps, from, to, err, why);
}
