/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The path summary (see the map ABI) kept in step with the allowlist, the
 * CIDR bans and the geo index. An entry is only ever wrong on the slow side:
 * a skip bit is cleared before what it skips is added, and set again only
 * from the tries as they are after a removal; a /16's geo entry goes to 0
 * (read the geo index) before the geo index changes and gets its new value
 * only after. Hold the writer lock.
 */
#ifndef XDPBAN_PATH_SUMMARY_H
#define XDPBAN_PATH_SUMMARY_H

#include <stddef.h>
#include "lib/errmsg.h"
#include "kernel/pins.h"

/* Before adding these prefixes to the trie that skip (PATH_SKIP_*) skips: clears it where they
 * meet. */
int path_summary_open(const struct maps *maps, const struct lpm_key *keys, size_t n, __u8 skip,
		      char why[ERRMSG_LEN]);

/* After removing allowlist entries or CIDR bans: sets the skip bits the tries now allow. */
int path_summary_tighten(const struct maps *maps, char why[ERRMSG_LEN]);

/*
 * Before the geo index moves to the first levels first4/first6: every /16
 * whose geo entry is not already the new one, and every one pointing into
 * geo_blocks (which the move rewrites), goes to 0.
 */
int path_summary_geo_defer(const struct maps *maps, const __u32 *first4, const __u32 *first6,
			   char why[ERRMSG_LEN]);
/* After the geo index has moved to first4/first6: the new geo entries. */
int path_summary_geo_set(const struct maps *maps, const __u32 *first4, const __u32 *first6,
			 char why[ERRMSG_LEN]);

/* The whole summary from the maps as they are (on attach, and after an upgrade). */
int path_summary_sync(const struct maps *maps, char why[ERRMSG_LEN]);

#endif
