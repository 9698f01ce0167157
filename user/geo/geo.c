// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "geo/geo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/cidr.h"
#include "lib/log.h"
#include "geo/geo_index.h"
#include "kernel/migrate.h"
#include "kernel/path_summary.h"
#include "kernel/map.h"

static int compare_pairs(const void *a, const void *b)
{
	return cidr_compare(&((const struct geo_pair *)a)->key, &((const struct geo_pair *)b)->key);
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

/* The steps of geo_install(), each undoing what went before when it fails. */
static int install_steps(const struct maps *maps, const struct geo_pair *old, size_t nold,
			 const struct geo_pair *new, size_t nnew, const struct geo_index *old_index,
			 const struct geo_index *new_index, struct geo_install_report *report,
			 char why[ERRMSG_LEN])
{
	char ignored[ERRMSG_LEN];
	/* No /16 may take its country from the summary while the index moves under it. */
	int err = path_summary_geo_defer(maps, new_index->first4, new_index->first6, why);

	if (err)
		return err;
	err = geo_index_apply(maps, old_index, new_index, true, why);
	if (err) {
		geo_index_apply(maps, new_index, old_index, false, ignored);
		return err;
	}
	err = trie_apply(maps->geo_prefix, old, nold, new, nnew, false, report, why);
	if (err) {
		trie_apply(maps->geo_prefix, new, nnew, old, nold, true, NULL, ignored);
		geo_index_apply(maps, new_index, old_index, false, ignored);
		return err;
	}
	err = geo_index_apply(maps, old_index, new_index, false, why);
	if (err) {
		geo_index_apply(maps, new_index, old_index, false, ignored);
		trie_apply(maps->geo_prefix, new, nnew, old, nold, true, NULL, ignored);
		return err;
	}
	return path_summary_geo_set(maps, new_index->first4, new_index->first6, why);
}

/* Makes new the trie's entries (old what it holds now), and the index their index. */
static int install_pairs(const struct maps *maps, const struct geo_pair *old, size_t nold,
			 const struct geo_pair *new, size_t nnew, struct geo_install_report *report,
			 char why[ERRMSG_LEN])
{
	struct geo_index *old_index = calloc(1, sizeof(*old_index));
	struct geo_index *new_index = calloc(1, sizeof(*new_index));
	int err = 0;

	if (!old_index || !new_index) {
		errmsg(why, "out of memory for the geo index");
		err = -ENOMEM;
	}
	if (!err)
		err = geo_index_read(maps, old_index, why);
	if (!err)
		err = geo_index_build(new, nnew, old_index, new_index, why);
	if (!err) {
		err = install_steps(maps, old, nold, new, nnew, old_index, new_index, report, why);
		report->index_blocks = new_index->block_count;
		report->index_mixed = new_index->mixed;
		report->out_of_blocks = new_index->out_of_blocks;
	}
	if (new_index)
		geo_index_free(new_index);
	free(old_index);
	free(new_index);
	return err;
}

int geo_install(const struct maps *maps, const struct geo_prefix *prefixes, size_t count,
		struct geo_install_report *report, char why[ERRMSG_LEN])
{
	struct geo_pair *new = pairs_from_prefixes(prefixes, count), *old = NULL;
	size_t nold = 0;
	int err = 0;

	memset(report, 0, sizeof(*report));
	if (!new) {
		errmsg(why, "out of memory for %zu geo prefixes", count);
		err = -ENOMEM;
	}
	if (!err)
		err = trie_read(maps->geo_prefix, &old, &nold, why);
	if (!err)
		err = install_pairs(maps, old, nold, new, count, report, why);
	free(new);
	free(old);
	return err;
}

/* Rebuilds the index from what the trie holds, in geo_install()'s safe order; the trie stays. */
static int reindex(const struct maps *maps, struct geo_install_report *report, char why[ERRMSG_LEN])
{
	struct geo_pair *pairs = NULL;
	size_t count = 0;
	int err = trie_read(maps->geo_prefix, &pairs, &count, why);

	memset(report, 0, sizeof(*report));
	if (!err)
		err = install_pairs(maps, pairs, count, pairs, count, report, why);
	free(pairs);
	return err;
}

int geo_finish_upgrade(const char *pin_dir, const struct maps *maps, char why[ERRMSG_LEN])
{
	struct geo_install_report report;
	int err;

	if (!migrate_geo_index_pending(pin_dir))
		return 0;
	err = reindex(maps, &report, why);
	if (err)
		return err;
	migrate_geo_index_done(pin_dir);
	log_say(LOG_LEVEL_INFO,
		"rebuilt the geo index for map ABI %u: %zu blocks, %zu entries "
		"left to the trie",
		(unsigned int)XDPBAN_ABI_VERSION, report.index_blocks, report.index_mixed);
	return 0;
}

int geo_set_blocked(const struct maps *maps, const int *slots, size_t count, bool blocked,
		    char why[ERRMSG_LEN])
{
	struct map_shape policy_map = { maps->geo_blocked, sizeof(__u32), sizeof(struct geo_policy),
					NULL };
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
		err = map_txn_update(&txn, &policy_map, keys, values, count, why);
	if (err)
		map_txn_rollback(&txn);
	map_txn_free(&txn);
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

		err = map_percpu_sum(maps->geo_drops, &slot, sum, 2, why);
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
		int slot = country_slot_of_code(db->prefixes[i].country);

		if (slot >= 0 && countries[slot])
			subset[count++] = db->prefixes[i];
	}
	err = geo_install(maps, subset, count, report, why);
	free(subset);
	return err;
}
