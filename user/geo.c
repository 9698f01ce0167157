// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "geo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "addr.h"
#include "maputil.h"

/* One geo_prefix map entry. */
struct geo_pair {
	struct lpm_key key;
	struct geo_entry value;
};

/* The index entries of both families, as the kernel reads them. */
struct geo_index {
	__u32 v4[GEO_INDEX_BUCKETS];
	__u32 v6[GEO_INDEX_BUCKETS];
};

static int slot_of(const char *country)
{
	if (country[0] < 'A' || country[0] > 'Z' || country[1] < 'A' || country[1] > 'Z')
		return -1;
	return (country[0] - 'A') * 26 + (country[1] - 'A');
}

static int compare_pairs(const void *a, const void *b)
{
	return cidr_compare(&((const struct geo_pair *)a)->key, &((const struct geo_pair *)b)->key);
}

/*
 * Derives the index from disjoint prefixes: a /16 block wholly inside one
 * prefix belongs to its country; a block that holds a longer prefix is MIXED
 * (part of it belongs to no country or to another); the rest is NONE.
 */
static void index_build(const struct geo_pair *pairs, size_t count, struct geo_index *index)
{
	memset(index, 0, sizeof(*index));
	for (size_t i = 0; i < count; i++) {
		const struct lpm_key *key = &pairs[i].key;
		bool ipv4 = key->prefixlen >= IPV4_MAPPED_PREFIXLEN && addr_is_ipv4(key->addr);
		unsigned int len = ipv4 ? key->prefixlen - IPV4_MAPPED_PREFIXLEN : key->prefixlen;
		const __u8 *top = ipv4 ? &key->addr[12] : key->addr;
		__u32 bucket = (__u32)top[0] << 8 | top[1];
		__u32 *table = ipv4 ? index->v4 : index->v6;
		int slot = slot_of(pairs[i].value.country);

		if (len > 16 || slot < 0) {
			table[bucket] = GEO_INDEX_MIXED;
			continue;
		}
		for (__u32 b = bucket; b < bucket + (1U << (16 - len)); b++)
			table[b] = 1 + (__u32)slot;
	}
}

static int index_read(const struct maps *maps, struct geo_index *index, char why[ERRMSG_LEN])
{
	const int fds[2] = { maps->geo_index4, maps->geo_index6 };
	__u32 *tables[2] = { index->v4, index->v6 };

	for (int t = 0; t < 2; t++) {
		__u32 *keys = NULL;
		struct geo_index_entry *values = NULL;
		size_t count;
		int err = map_dump(fds[t], sizeof(*keys), sizeof(*values), (void **)&keys,
				   (void **)&values, &count, why);

		if (err)
			return err;
		for (size_t i = 0; i < count; i++) {
			if (keys[i] < GEO_INDEX_BUCKETS)
				tables[t][keys[i]] = values[i].country;
		}
		free(keys);
		free(values);
	}
	return 0;
}

/*
 * Writes the buckets where from and to differ: to's value, or MIXED when
 * to_mixed is set (the first step of a safe change).
 */
static int index_write_changes(int fd, const __u32 *from, const __u32 *to, bool to_mixed,
			       char why[ERRMSG_LEN])
{
	static __u32 keys[GEO_INDEX_BUCKETS];
	static struct geo_index_entry values[GEO_INDEX_BUCKETS];
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = 0;

	for (__u32 b = 0; b < GEO_INDEX_BUCKETS; b++) {
		if (from[b] == to[b])
			continue;
		keys[count] = b;
		values[count++].country = to_mixed ? GEO_INDEX_MIXED : to[b];
	}
	if (count && bpf_map_update_batch(fd, keys, values, &count, &opts)) {
		int err = -errno;

		errmsg(why, "cannot write the geo index: %s", strerror(errno));
		return err;
	}
	return 0;
}

static int index_apply(const struct maps *maps, const struct geo_index *from,
		       const struct geo_index *to, bool to_mixed, char why[ERRMSG_LEN])
{
	int err = index_write_changes(maps->geo_index4, from->v4, to->v4, to_mixed, why);

	return err ? err : index_write_changes(maps->geo_index6, from->v6, to->v6, to_mixed, why);
}

static int trie_read(int fd, struct geo_pair **pairs_out, size_t *count, char why[ERRMSG_LEN])
{
	struct lpm_key *keys = NULL;
	struct geo_entry *values = NULL;
	struct geo_pair *pairs;
	int err = map_dump(fd, sizeof(*keys), sizeof(*values), (void **)&keys, (void **)&values,
			   count, why);

	if (err)
		return err;
	pairs = calloc(*count + 1, sizeof(*pairs));
	for (size_t i = 0; pairs && i < *count; i++) {
		pairs[i].key = keys[i];
		pairs[i].value = values[i];
	}
	free(keys);
	free(values);
	if (!pairs) {
		errmsg(why, "out of memory reading the geo database");
		return -ENOMEM;
	}
	qsort(pairs, *count, sizeof(*pairs), compare_pairs);
	*pairs_out = pairs;
	return 0;
}

/* What turns one sorted list of entries into another. */
struct trie_diff {
	struct lpm_key *upsert_keys;
	struct geo_entry *upsert_values;
	size_t upserts;
	struct lpm_key *delete_keys;
	size_t deletes;
	size_t unchanged;
};

static void trie_diff_free(struct trie_diff *diff)
{
	free(diff->upsert_keys);
	free(diff->upsert_values);
	free(diff->delete_keys);
}

static int trie_diff(const struct geo_pair *from, size_t nfrom, const struct geo_pair *to,
		     size_t nto, struct trie_diff *diff)
{
	size_t i = 0, j = 0;

	memset(diff, 0, sizeof(*diff));
	diff->upsert_keys = calloc(nto + 1, sizeof(*diff->upsert_keys));
	diff->upsert_values = calloc(nto + 1, sizeof(*diff->upsert_values));
	diff->delete_keys = calloc(nfrom + 1, sizeof(*diff->delete_keys));
	if (!diff->upsert_keys || !diff->upsert_values || !diff->delete_keys) {
		trie_diff_free(diff);
		return -ENOMEM;
	}
	while (i < nfrom || j < nto) {
		int order = i == nfrom ? 1 : j == nto ? -1 : cidr_compare(&from[i].key, &to[j].key);

		if (order < 0) {
			diff->delete_keys[diff->deletes++] = from[i++].key;
		} else if (order == 0 &&
			   !memcmp(&from[i].value, &to[j].value, sizeof(to[j].value))) {
			diff->unchanged++;
			i++;
			j++;
		} else {
			diff->upsert_keys[diff->upserts] = to[j].key;
			diff->upsert_values[diff->upserts++] = to[j++].value;
			i += order == 0;
		}
	}
	return 0;
}

/* Deletes keys, batched; a key already gone is not an error. */
static int trie_delete(int fd, const struct lpm_key *keys, size_t count)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 done = count;
	int err = 0;

	if (count == 0 || bpf_map_delete_batch(fd, keys, &done, &opts) == 0)
		return 0;
	/* The batch stops at the first missing key: finish one by one. */
	for (size_t i = done; i < count; i++) {
		if (bpf_map_delete_elem(fd, &keys[i]) && errno != ENOENT && !err)
			err = -errno;
	}
	return err;
}

/*
 * Changes the trie from one list to the other: new and changed entries
 * first, stale ones after, so every address always matches an entry of one
 * of the two lists. best_effort (for rollbacks) carries on past errors.
 */
static int trie_apply(int fd, const struct geo_pair *from, size_t nfrom, const struct geo_pair *to,
		      size_t nto, bool best_effort, struct geo_install_report *report,
		      char why[ERRMSG_LEN])
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct trie_diff diff;
	__u32 count;
	int err = trie_diff(from, nfrom, to, nto, &diff);

	if (err) {
		errmsg(why, "out of memory comparing geo databases");
		return err;
	}
	count = diff.upserts;
	if (count &&
	    bpf_map_update_batch(fd, diff.upsert_keys, diff.upsert_values, &count, &opts)) {
		err = -errno;
		errmsg(why, "cannot write the geo database after %u of %zu prefixes: %s%s", count,
		       diff.upserts, strerror(errno),
		       errno == ENOSPC || errno == E2BIG ? " (geo_prefix is full)" : "");
	}
	if (!err || best_effort) {
		int deleted = trie_delete(fd, diff.delete_keys, diff.deletes);

		if (deleted && !err) {
			err = deleted;
			errmsg(why, "cannot delete from the geo database: %s", strerror(-err));
		}
	}
	if (report) {
		report->written = diff.upserts;
		report->deleted = diff.deletes;
		report->unchanged = diff.unchanged;
	}
	trie_diff_free(&diff);
	return err;
}

static struct geo_pair *pairs_from_prefixes(const struct geo_prefix *prefixes, size_t count)
{
	struct geo_pair *pairs = calloc(count + 1, sizeof(*pairs));

	for (size_t i = 0; pairs && i < count; i++) {
		pairs[i].key = prefixes[i].key;
		memcpy(pairs[i].value.country, prefixes[i].country, 2);
	}
	if (pairs)
		qsort(pairs, count, sizeof(*pairs), compare_pairs);
	return pairs;
}

static size_t count_mixed(const __u32 *table)
{
	size_t mixed = 0;

	for (__u32 b = 0; b < GEO_INDEX_BUCKETS; b++)
		mixed += table[b] == GEO_INDEX_MIXED;
	return mixed;
}

/* The steps of geo_install(), with the state they need to undo themselves. */
static int install_steps(const struct maps *maps, const struct geo_pair *old, size_t nold,
			 const struct geo_pair *new, size_t nnew, const struct geo_index *old_index,
			 const struct geo_index *new_index, struct geo_install_report *report,
			 char why[ERRMSG_LEN])
{
	int err = index_apply(maps, old_index, new_index, true, why);

	if (err) {
		index_apply(maps, new_index, old_index, false, why);
		return err;
	}
	err = trie_apply(maps->geo_prefix, old, nold, new, nnew, false, report, why);
	if (err) {
		char ignored[ERRMSG_LEN];

		trie_apply(maps->geo_prefix, new, nnew, old, nold, true, NULL, ignored);
		index_apply(maps, new_index, old_index, false, ignored);
		return err;
	}
	return index_apply(maps, old_index, new_index, false, why);
}

int geo_install(const struct maps *maps, const struct geo_prefix *prefixes, size_t count,
		struct geo_install_report *report, char why[ERRMSG_LEN])
{
	struct geo_index *old_index = calloc(1, sizeof(*old_index));
	struct geo_index *new_index = calloc(1, sizeof(*new_index));
	struct geo_pair *new = pairs_from_prefixes(prefixes, count), *old = NULL;
	size_t nold = 0;
	int err = 0;

	memset(report, 0, sizeof(*report));
	if (!old_index || !new_index || !new) {
		errmsg(why, "out of memory for %zu geo prefixes", count);
		err = -ENOMEM;
	}
	if (!err)
		err = index_read(maps, old_index, why);
	if (!err)
		err = trie_read(maps->geo_prefix, &old, &nold, why);
	if (!err) {
		index_build(new, count, new_index);
		err = install_steps(maps, old, nold, new, count, old_index, new_index, report, why);
		report->mixed_buckets4 = count_mixed(new_index->v4);
		report->mixed_buckets6 = count_mixed(new_index->v6);
	}
	free(old_index);
	free(new_index);
	free(new);
	free(old);
	return err;
}

int geo_set_blocked(const struct maps *maps, const int *slots, size_t count, bool blocked,
		    char why[ERRMSG_LEN])
{
	__u32 *keys = calloc(count + 1, sizeof(*keys));
	struct geo_policy *values = calloc(count + 1, sizeof(*values));
	struct map_txn txn = {};
	int err = 0;

	if (!keys || !values) {
		errmsg(why, "out of memory");
		err = -ENOMEM;
	}
	for (size_t i = 0; !err && i < count; i++) {
		keys[i] = slots[i];
		values[i].blocked = blocked;
	}
	if (!err)
		err = txn_update(&txn, maps->geo_blocked, keys, values, count, sizeof(*keys),
				 sizeof(*values), why);
	if (err)
		txn_rollback(&txn);
	txn_free(&txn);
	free(keys);
	free(values);
	return err;
}

int geo_read_blocked(const struct maps *maps, bool blocked[COUNTRY_SLOTS], char why[ERRMSG_LEN])
{
	for (__u32 slot = 0; slot < COUNTRY_SLOTS; slot++) {
		struct geo_policy policy = {};

		if (bpf_map_lookup_elem(maps->geo_blocked, &slot, &policy)) {
			int err = -errno;

			errmsg(why, "cannot read geo_blocked: %s", strerror(errno));
			return err;
		}
		blocked[slot] = policy.blocked;
	}
	return 0;
}

int geo_read_states(const struct maps *maps, struct geo_country_state states[COUNTRY_SLOTS],
		    char why[ERRMSG_LEN])
{
	bool blocked[COUNTRY_SLOTS];
	int err = geo_read_blocked(maps, blocked, why);

	for (__u32 slot = 0; !err && slot < COUNTRY_SLOTS; slot++) {
		__u64 sum[2];

		err = percpu_sum(maps->geo_drops, &slot, sum, 2, why);
		states[slot].blocked = blocked[slot];
		states[slot].drops.packets = sum[0];
		states[slot].drops.bytes = sum[1];
	}
	return err;
}

int geo_install_countries(const struct maps *maps, const struct geo_db *db,
			  const bool countries[COUNTRY_SLOTS], struct geo_install_report *report,
			  char why[ERRMSG_LEN])
{
	struct geo_prefix *subset = calloc(db->prefix_count + 1, sizeof(*subset));
	size_t count = 0;
	int err;

	if (!subset) {
		errmsg(why, "out of memory for %zu geo prefixes", db->prefix_count);
		return -ENOMEM;
	}
	for (size_t i = 0; i < db->prefix_count; i++) {
		int slot = slot_of(db->prefixes[i].country);

		if (slot >= 0 && countries[slot])
			subset[count++] = db->prefixes[i];
	}
	err = geo_install(maps, subset, count, report, why);
	free(subset);
	return err;
}

int geo_lookup(const struct maps *maps, const struct addr_key *addr, int *slot,
	       char why[ERRMSG_LEN])
{
	struct lpm_key key;
	struct geo_entry entry;

	*slot = -1;
	lpm_from_addr_key(&key, addr);
	if (bpf_map_lookup_elem(maps->geo_prefix, &key, &entry)) {
		if (errno == ENOENT)
			return 0;
		errmsg(why, "cannot read geo_prefix: %s", strerror(errno));
		return -errno;
	}
	*slot = slot_of(entry.country);
	return 0;
}
