// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "bans/reconcile.h"

#include <stdio.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "lib/cidr.h"
#include "bans/bans.h"
#include "lib/duration.h"

static int compare_keys(const void *a, const void *b)
{
	return cidr_compare(a, b);
}

_Static_assert(offsetof(struct store_ban, key) == 0, "sorted_keys reads the key first");
_Static_assert(offsetof(struct store_allow, key) == 0, "sorted_keys reads the key first");
_Static_assert(offsetof(struct allow_record, key) == 0, "sorted_keys reads the key first");

/*
 * The keys of count items of size bytes (each starting with its key), sorted
 * for has_key: one side's list, to look the other side's entries up in.
 */
static struct lpm_key *sorted_keys(const void *items, size_t count, size_t size)
{
	struct lpm_key *keys = calloc(count + 1, sizeof(*keys));

	if (!keys)
		return NULL;
	for (size_t i = 0; i < count; i++)
		keys[i] = *(const struct lpm_key *)((const char *)items + i * size);
	qsort(keys, count, sizeof(*keys), compare_keys);
	return keys;
}

static bool has_key(const struct lpm_key *sorted, size_t count, const struct lpm_key *key)
{
	return count && bsearch(key, sorted, count, sizeof(*sorted), compare_keys);
}

static int compare_permanent_first(const void *a, const void *b)
{
	return ((const struct ban_request *)b)->permanent -
	       ((const struct ban_request *)a)->permanent;
}

/*
 * Without room for all of them (bans_add refuses the batch), as many as fit
 * one by one, permanent ones (mostly operators') first; the others stay in the
 * store, live, for a restart with room, and are counted.
 */
static int restore_one_by_one(const struct maps *maps, struct ban_request *requests, size_t n,
			      struct reconcile_counts *counts, char why[ERRMSG_LEN])
{
	qsort(requests, n, sizeof(*requests), compare_permanent_first);
	for (size_t i = 0; i < n; i++) {
		int err = bans_add(maps, &requests[i], 1, BAN_ORIGIN_RESTORED, why);

		if (err && err != -ENOSPC)
			return err;
		if (err)
			counts->refused++;
		else
			counts->restored++;
	}
	return 0;
}

/*
 * Store bans the maps lack go back in. One the map holds, even expired, is
 * the kernel's to judge: within a boot its monotonic deadline is right
 * where the store's wall-clock one may have moved with the clock (the
 * sweep lifts it in the store).
 */
static int restore_missing(const struct maps *maps, const struct store_ban *live, size_t count,
			   struct reconcile_counts *counts, char why[ERRMSG_LEN])
{
	struct ban_request *requests = calloc(count + 1, sizeof(*requests));
	struct ban_entry entry;
	size_t n = 0;
	int err;

	if (!requests) {
		errmsg(why, "out of memory restoring %zu bans", count);
		return -ENOMEM;
	}
	for (size_t i = 0; i < count; i++) {
		if (bans_lookup(maps, &live[i].key, &entry) == 0) {
			counts->kept++;
			continue;
		}
		requests[n].key = live[i].key;
		requests[n].permanent = live[i].expires_at == 0;
		requests[n].seconds = live[i].seconds_left ? live[i].seconds_left : 1;
		n++;
	}
	err = n ? bans_add(maps, requests, n, BAN_ORIGIN_RESTORED, why) : 0;
	if (!err)
		counts->restored = n;
	else if (err == -ENOSPC)
		err = restore_one_by_one(maps, requests, n, counts, why);
	free(requests);
	return err;
}

static bool ban_is_live(const struct ban_record *ban, uint64_t now_ns)
{
	return ban_is_permanent(&ban->entry) || ban->entry.expires_ns > now_ns;
}

/*
 * Live bans the store lacks get a row: a rule's ban when the daemon was killed
 * between its two writes, an operator's made while there was no store yet.
 */
static int adopt_unrecorded(const struct maps *maps, struct store *store,
			    const struct store_ban *live, size_t count, int64_t now,
			    struct reconcile_counts *counts, char why[ERRMSG_LEN])
{
	struct lpm_key *known = sorted_keys(live, count, sizeof(*live));
	struct ban_record *bans = NULL;
	struct store_ban *rows = NULL;
	uint64_t now_ns = clock_now_ns();
	size_t ban_count = 0, n = 0;
	int err = known ? bans_list(maps, &bans, &ban_count, why) : -ENOMEM;

	if (!err) {
		rows = calloc(ban_count + 1, sizeof(*rows));
		err = rows ? 0 : -ENOMEM;
	}
	if (err == -ENOMEM)
		errmsg(why, "out of memory comparing the maps with the store");
	for (size_t i = 0; !err && i < ban_count; i++) {
		struct store_ban *row = &rows[n];
		bool manual = bans[i].entry.origin == BAN_ORIGIN_MANUAL;

		if (!ban_is_live(&bans[i], now_ns) || has_key(known, count, &bans[i].key))
			continue;
		row->key = bans[i].key;
		if (!manual) /* a rule's: its failures were just before the kill */
			row->first_event = row->last_event = now;
		row->expires_at = ban_is_permanent(&bans[i].entry)
				      ? 0
				      : now + (int64_t)ban_seconds_left(&bans[i].entry, now_ns);
		snprintf(row->reason, sizeof(row->reason), "%s", manual ? "manual" : "adopted");
		snprintf(row->source, sizeof(row->source), "kernel");
		n++;
	}
	if (!err && n)
		err = store_record_bans(store, rows, n, now, why);
	if (!err)
		counts->adopted = n;
	free(known);
	free(bans);
	free(rows);
	return err;
}

int reconcile_bans(const struct maps *maps, struct store *store, const struct store_ban *live,
		   size_t live_count, int64_t now, struct reconcile_counts *counts,
		   char why[ERRMSG_LEN])
{
	int err;

	*counts = (struct reconcile_counts){ 0 };
	err = restore_missing(maps, live, live_count, counts, why);
	if (!err)
		err = adopt_unrecorded(maps, store, live, live_count, now, counts, why);
	return err;
}

/*
 * The keys of count items of size bytes (each starting with its key) that
 * sorted lacks; *n of them.
 */
static struct lpm_key *keys_missing(const void *items, size_t count, size_t size,
				    const struct lpm_key *sorted, size_t sorted_count, size_t *n)
{
	struct lpm_key *missing = calloc(count + 1, sizeof(*missing));

	*n = 0;
	for (size_t i = 0; missing && i < count; i++) {
		const struct lpm_key *key = (const void *)((const char *)items + i * size);

		if (!has_key(sorted, sorted_count, key))
			missing[(*n)++] = *key;
	}
	return missing;
}

/*
 * What only the store's allowlist has goes into the map, then what only the
 * map has into the store; counts says how much moved each way.
 */
static int restore_allows(const struct maps *maps, struct store *store,
			  const struct store_allow *stored, size_t stored_count,
			  const struct allow_record *mapped, size_t mapped_count, int64_t now,
			  struct reconcile_counts *counts, char why[ERRMSG_LEN])
{
	struct lpm_key *stored_keys = sorted_keys(stored, stored_count, sizeof(*stored));
	struct lpm_key *mapped_keys = sorted_keys(mapped, mapped_count, sizeof(*mapped));
	struct lpm_key *to_map = NULL, *to_store = NULL;
	size_t map_n = 0, store_n = 0;
	int err = 0;

	if (stored_keys && mapped_keys) {
		to_map = keys_missing(stored, stored_count, sizeof(*stored), mapped_keys,
				      mapped_count, &map_n);
		to_store = keys_missing(mapped, mapped_count, sizeof(*mapped), stored_keys,
					stored_count, &store_n);
	}
	if (!to_map || !to_store) {
		errmsg(why, "out of memory comparing the allowlist with the store");
		err = -ENOMEM;
	}
	if (!err && map_n)
		err = bans_allow_add(maps, to_map, map_n, why);
	if (!err && store_n)
		err = store_allow_add(store, to_store, store_n, now, "kernel", NULL, why);
	if (!err)
		*counts = (struct reconcile_counts){ .kept = stored_count - map_n,
						     .restored = map_n,
						     .adopted = store_n };
	free(stored_keys);
	free(mapped_keys);
	free(to_map);
	free(to_store);
	return err;
}

int reconcile_allowlist(const struct maps *maps, struct store *store, int64_t now,
			struct reconcile_counts *counts, char why[ERRMSG_LEN])
{
	struct store_allow *stored = NULL;
	struct allow_record *mapped = NULL;
	size_t stored_count = 0, mapped_count = 0;
	int err;

	*counts = (struct reconcile_counts){ 0 };
	err = store_allowlist(store, &stored, &stored_count, why);
	if (!err)
		err = bans_allow_list(maps, &mapped, &mapped_count, why);
	/* Into the maps first: that is what keeps the operator's network from being dropped. */
	if (!err)
		err = restore_allows(maps, store, stored, stored_count, mapped, mapped_count, now,
				     counts, why);
	free(stored);
	free(mapped);
	return err;
}

/* The store's live bans the maps lack, lifted: their lifts were lost (store_queue.h). */
static int lift_unmapped(const struct maps *maps, struct store *store, const struct store_ban *live,
			 size_t count, int64_t now, struct reconcile_counts *counts,
			 char why[ERRMSG_LEN])
{
	struct lpm_key *keys = calloc(count + 1, sizeof(*keys));
	struct ban_entry entry;
	size_t n = 0;
	int err;

	if (!keys) {
		errmsg(why, "out of memory comparing the store with the maps");
		return -ENOMEM;
	}
	for (size_t i = 0; i < count; i++) {
		if (bans_lookup(maps, &live[i].key, &entry) == -ENOENT)
			keys[n++] = live[i].key;
	}
	err = n ? store_lift_bans(store, keys, n, now, "resync", NULL, why) : 0;
	if (!err)
		counts->lifted = n;
	free(keys);
	return err;
}

int reconcile_store(const struct maps *maps, struct store *store, int64_t now,
		    struct reconcile_counts *counts, char why[ERRMSG_LEN])
{
	struct store_ban *live = NULL;
	size_t live_count = 0;
	int err;

	*counts = (struct reconcile_counts){ 0 };
	err = store_live_bans(store, now, &live, &live_count, why);
	if (!err)
		err = lift_unmapped(maps, store, live, live_count, now, counts, why);
	if (!err)
		err = adopt_unrecorded(maps, store, live, live_count, now, counts, why);
	free(live);
	return err;
}
