/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The path summary (see the map ABI) kept in step with the allowlist, the
 * CIDR bans and the geo index. An entry is only ever wrong on the slow side:
 * a flag is cleared before what it skips is added, and set again only from
 * the tries as they are after the change; a /16's geo entry goes to 0 (read
 * the geo index) before the geo index changes and gets its new value only
 * after. Every write first clears the flags that change, then writes
 * path_cidr4, then sets the new flags, so the program never reads a
 * half-written shortcut. Hold the writer lock.
 */
#ifndef XDPBAN_PATH_SUMMARY_H
#define XDPBAN_PATH_SUMMARY_H

#include <stddef.h>
#include "lib/errmsg.h"
#include "kernel/pins.h"

/*
 * Before adding these prefixes to the allowlist (PATH_NO_ALLOW) or the CIDR
 * bans (PATH_NO_CIDR): every /16 they meet looks its trie up again.
 */
int path_summary_open(const struct maps *maps, const struct lpm_key *keys, size_t n, __u8 flag,
		      char why[ERRMSG_LEN]);

/* After changing the allowlist or the CIDR bans: the flags the tries now allow. */
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
