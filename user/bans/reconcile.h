/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The kernel's bans and the store's live bans made to agree when the daemon
 * starts. Either side can hold what the other lacks: a reboot or a lost
 * bpffs empties the maps, an operator or an eviction deletes an entry, and
 * a daemon killed between its map write and its store write (kill -9, a
 * crash) leaves a ban only in the kernel. A ban still live in the map keeps
 * its kernel deadline (monotonic, unlike the store's wall-clock one), even
 * one the kernel holds expired.
 */
#ifndef XDPBAN_RECONCILE_H
#define XDPBAN_RECONCILE_H

#include <stddef.h>
#include <stdint.h>
#include "lib/errmsg.h"
#include "kernel/pins.h"
#include "bans/store.h"

struct reconcile_counts {
	size_t kept;	 /* in both (the map's entry is left as it is) */
	size_t restored; /* (live) in the store only: put back into the maps */
	size_t adopted;	 /* (live) in the maps only: recorded in the store */
	size_t lifted;	 /* reconcile_store: live in the store only, lifted there */
	size_t refused;	 /* in the store only, and no room in the address table: left there */
};

/*
 * live: the store's live bans at now (store_live_bans). Every live ban of the
 * maps ends up in the store, the operator's too (reason "manual"): a ban must
 * survive a reboot whoever made it. Hold the writer lock.
 */
int reconcile_bans(const struct maps *maps, struct store *store, const struct store_ban *live,
		   size_t live_count, int64_t now, struct reconcile_counts *counts,
		   char why[ERRMSG_LEN]);

/*
 * The operator's allowlist (xdpban allow) made to agree the same way: the
 * store's prefixes the map lacks go back in first, then the map's prefixes
 * the store lacks (allowed while there was no store) are recorded (source
 * "kernel"). Run it before reconcile_bans, so that no restored ban drops an
 * allowlisted address even for a moment. Hold the writer lock.
 */
int reconcile_allowlist(const struct maps *maps, struct store *store, int64_t now,
			struct reconcile_counts *counts, char why[ERRMSG_LEN]);

/*
 * While the daemon runs the maps are right: the store's live bans made to
 * agree with them (store_queue.h, after rows did not fit in its queue). The
 * maps' live bans the store lacks are recorded ("adopted"), the store's live
 * bans the maps lack are lifted ("resync"). Run it in a store batch, so
 * that no other writer changes the store between the two reads.
 */
int reconcile_store(const struct maps *maps, struct store *store, int64_t now,
		    struct reconcile_counts *counts, char why[ERRMSG_LEN]);

#endif
