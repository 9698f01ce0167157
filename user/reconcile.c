// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "reconcile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "bans.h"
#include "duration.h"

static int compare_keys(const void *a, const void *b)
{
	return cidr_compare(a, b);
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
	struct lpm_key *known = calloc(count + 1, sizeof(*known));
	struct ban_record *bans = NULL;
	struct store_ban *rows = NULL;
	uint64_t now_ns = ban_clock_now_ns();
	size_t ban_count = 0, n = 0;
	int err = known ? bans_list(maps, &bans, &ban_count, why) : -ENOMEM;

	if (!err) {
		rows = calloc(ban_count + 1, sizeof(*rows));
		err = rows ? 0 : -ENOMEM;
	}
	if (err == -ENOMEM)
		errmsg(why, "out of memory comparing the maps with the store");
	for (size_t i = 0; !err && i < count; i++)
		known[i] = live[i].key;
	if (!err)
		qsort(known, count, sizeof(*known), compare_keys);
	for (size_t i = 0; !err && i < ban_count; i++) {
		struct store_ban *row = &rows[n];

		if (!ban_is_live(&bans[i], now_ns) ||
		    bsearch(&bans[i].key, known, count, sizeof(*known), compare_keys))
			continue;
		row->key = bans[i].key;
		row->first_event = row->last_event = now;
		row->expires_at = ban_is_permanent(&bans[i].entry)
				      ? 0
				      : now + (int64_t)ban_seconds_left(&bans[i].entry, now_ns);
		snprintf(row->reason, sizeof(row->reason), "%s",
			 bans[i].entry.origin == BAN_ORIGIN_MANUAL ? "manual" : "adopted");
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
