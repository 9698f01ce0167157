/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Upgrading pins an earlier xdpban made. Map ABI 1 kept exact bans in an LRU
 * hash (ban_addr) behind a Bloom filter (ban_filter); ABI 2 keeps them in the
 * bucket tables. The maps both versions share are reused as they are.
 */
#ifndef XDPBAN_MIGRATE_H
#define XDPBAN_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/errmsg.h"

struct xdpban_bpf;

/*
 * When the pinned config says map ABI 1: copies every live ban of the old
 * ban_addr into the loaded object's tables, marks the config ABI 2, switches
 * every pinned link (of any namespace) to the loaded program, and only then
 * removes the old pins, so the old program drops until the new one does.
 * *migrated counts the bans copied (0 when there was nothing to do). A
 * failure changes nothing the old version relies on. Hold the writer lock.
 */
int migrate_pins(const char *pin_dir, struct xdpban_bpf *skel, size_t *migrated,
		 char why[ERRMSG_LEN]);

/* True while pins of ABI 1 are left to migrate. */
bool migrate_pending(const char *pin_dir);

#endif
