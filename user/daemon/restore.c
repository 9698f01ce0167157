// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "daemon/daemon-internal.h"

#include <stdlib.h>
#include <unistd.h>
#include "bans/reconcile.h"
#include "kernel/path_summary.h"

/* ---- the rules ---- */

/* The store's live bans and account blocks; false (said why) when there is none to read. */
static bool read_live_state(struct daemon *d, struct store_ban **bans, size_t *ban_count,
			    struct store_block **blocks, size_t *block_count)
{
	char why[ERRMSG_LEN];

	*bans = NULL;
	*blocks = NULL;
	if (!d->store)
		return false;
	if (store_live_bans(d->store, clock_wall_s(), bans, ban_count, why) ||
	    store_live_blocks(d->store, clock_wall_s(), blocks, block_count, why)) {
		log_say(LOG_LEVEL_WARNING, "store: %s", why);
		free(*bans);
		*bans = NULL;
		return false;
	}
	return true;
}

static uint64_t restored_deadline_ns(const struct store_ban *ban, uint64_t now_ns)
{
	if (ban->expires_at == 0)
		return 0;
	return now_ns + (ban->seconds_left ? ban->seconds_left : 1) * NSEC_PER_SEC;
}

/* Tells the rules of live bans (no ban twice, repeat offenders) and account blocks. */
static void teach_rules(struct daemon *d, const struct store_ban *bans, size_t ban_count,
			const struct store_block *blocks, size_t block_count)
{
	uint64_t now_ns = clock_now_ns();

	for (size_t i = 0; i < ban_count; i++)
		rules_restore_ban(d->rules, &bans[i].key, restored_deadline_ns(&bans[i], now_ns), 1,
				  now_ns);
	for (size_t i = 0; i < block_count; i++)
		rules_restore_block(d->rules, blocks[i].account,
				    now_ns + blocks[i].seconds_left * NSEC_PER_SEC, now_ns);
}

/* New rules (SIGHUP) start empty: the blocks and bans they must know come from the store. */
void restore_rules(struct daemon *d)
{
	struct store_ban *bans;
	struct store_block *blocks;
	size_t ban_count = 0, block_count = 0;

	if (!read_live_state(d, &bans, &ban_count, &blocks, &block_count)) {
		log_say(LOG_LEVEL_WARNING, "new rules start without the account blocks in force");
		return;
	}
	teach_rules(d, bans, ban_count, blocks, block_count);
	free(bans);
	free(blocks);
}

/*
 * The operator's allowlist back into the maps (and the map's own into the
 * store), one line saying what moved. False, said why, when the maps may
 * lack some of it. Hold the writer lock.
 */
static bool restore_allowlist(struct daemon *d)
{
	struct reconcile_counts counts;
	char why[ERRMSG_LEN];

	if (reconcile_allowlist(&d->maps, d->store, clock_wall_s(), &counts, why)) {
		log_say(LOG_LEVEL_ERROR,
			"restoring the allowlist: %s; the store's bans are not restored either, so "
			"that none drops an allowlisted address",
			why);
		return false;
	}
	if (counts.kept || counts.restored || counts.adopted)
		log_say(LOG_LEVEL_INFO,
			"restored %zu allowlisted prefixes from %s (%zu were still in the kernel), "
			"recorded %zu that only the kernel had",
			counts.restored, store_path(d->store), counts.kept, counts.adopted);
	return true;
}

/* The store's live bans back into the maps (and the maps' own into the store). Hold the lock. */
static void restore_bans(struct daemon *d, const struct store_ban *bans, size_t ban_count,
			 size_t block_count)
{
	struct reconcile_counts counts;
	char why[ERRMSG_LEN];

	if (reconcile_bans(&d->maps, d->store, bans, ban_count, clock_wall_s(), &counts, why))
		log_say(LOG_LEVEL_ERROR, "restoring %zu bans: %s", ban_count, why);
	else if (ban_count || block_count || counts.adopted)
		log_say(
		    LOG_LEVEL_INFO,
		    "restored %zu bans from %s (%zu were still in the kernel), recorded %zu that "
		    "only the kernel had; %zu account blocks",
		    counts.restored, store_path(d->store), counts.kept, counts.adopted,
		    block_count);
	if (counts.refused)
		log_say(LOG_LEVEL_WARNING,
			"%zu bans of the store found no room in the address ban table: they stay "
			"in the store, live, for a restart with room",
			counts.refused);
}

/*
 * After a restart or a lost bpffs: the maps and the store made to agree
 * (reconcile.h), the allowlist before the bans, and the rules told of the
 * live bans and blocks.
 */
void restore_from_store(struct daemon *d)
{
	struct store_ban *bans;
	struct store_block *blocks;
	size_t ban_count = 0, block_count = 0;
	char why[ERRMSG_LEN];
	int lock;

	if (!read_live_state(d, &bans, &ban_count, &blocks, &block_count))
		return;
	teach_rules(d, bans, ban_count, blocks, block_count);
	lock = pins_lock(d->conf->daemon.pin_dir, why);
	if (lock < 0) {
		log_say(LOG_LEVEL_ERROR, "restoring the allowlist and %zu bans: %s", ban_count,
			why);
	} else {
		if (restore_allowlist(d))
			restore_bans(d, bans, ban_count, block_count);
		/* Whatever wrote the tries before (an older xdpban), the summary follows them. */
		if (path_summary_sync(&d->maps, why))
			log_say(LOG_LEVEL_WARNING, "path summary: %s (the tries answer meanwhile)",
				why);
		close(lock);
	}
	free(bans);
	free(blocks);
}
