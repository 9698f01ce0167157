/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Upgrading pins an earlier xdpban made. Map ABI 1 kept exact bans in an LRU
 * hash (ban_addr) behind a Bloom filter (ban_filter); ABI 2 keeps them in the
 * bucket tables, with a spill count; ABI 3 adds the spill filter; ABI 4 has
 * a geo_blocks of nearly twice the blocks, and a third IPv6 index level. The
 * maps the versions share are reused as they are.
 */
#ifndef XDPBAN_MIGRATE_H
#define XDPBAN_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/errmsg.h"

struct xdpban_bpf;

/*
 * When the pinned config says map ABI 1: copies every live ban of the old
 * ban_addr into the loaded object's tables; ABI 2: copies the tables set
 * aside and fills in their spill filters. From any earlier ABI, every geo
 * index entry that names a block is sent to the trie (the new geo_blocks is
 * empty). Then marks the config of this ABI, switches every pinned link (of
 * any namespace) to the loaded program, and only then removes the old pins,
 * so the old program drops until the new one does. Pins whose config says
 * this ABI already moved their data: what an upgrade cut short left (pins
 * set aside, links not switched) is finished without copying again. The old
 * geo_blocks keeps its aside name until every link is switched, then waits
 * as geo_blocks_abi3_unused for geo/ to rebuild the index
 * (migrate_geo_index_pending). *migrated counts the bans copied (0 when
 * there was nothing to do). A failure before the config is marked changes
 * nothing the old version relies on. Hold the writer lock.
 */
int migrate_pins(const char *pin_dir, struct xdpban_bpf *skel, size_t *migrated,
		 char why[ERRMSG_LEN]);

/*
 * Before the object is loaded over pins of an earlier map ABI: sets aside
 * the maps whose shape changed since (ABI 2's ban4 and ban6, ABI 3's and
 * older geo_blocks), so the object makes its own, which migrate_pins() then
 * fills. Hold the writer lock.
 */
int migrate_prepare(const char *pin_dir, char why[ERRMSG_LEN]);

/*
 * After a failure before any link was switched: puts the maps set aside back
 * where the previous version looks for them.
 */
void migrate_abandon(const char *pin_dir);

/* True while pins of an earlier map ABI are left to migrate. */
bool migrate_pending(const char *pin_dir);

/*
 * True when an upgrade sent the geo index to the trie, every link runs the
 * new program, and the index is still to be rebuilt (geo_finish_upgrade);
 * migrate_geo_index_done() then unpins the old geo_blocks.
 */
bool migrate_geo_index_pending(const char *pin_dir);
void migrate_geo_index_done(const char *pin_dir);

#endif
