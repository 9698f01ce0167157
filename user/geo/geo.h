/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The geo maps: installing a country database into the kernel, blocking and
 * unblocking countries, per-country counters, and one-address lookups.
 *
 * Only the prefixes of blocked countries go into the kernel; the whole
 * database stays in user space (geo_store.h). Measured with the full
 * tor-geoipdb (1,156,451 prefixes): all of it takes 51 MB of kernel memory
 * and 1.1 s to insert, while blocking a few countries takes a few percent
 * of that, and a smaller trie is also a shallower one for the lookups the
 * index cannot answer. Blocking switches a country's policy in one map
 * write; its prefixes are added before (block) or removed after (unblock),
 * and no other country's entries are touched.
 */
#ifndef XDPBAN_GEO_H
#define XDPBAN_GEO_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/errmsg.h"
#include "geo/geo_db.h"
#include "kernel/pins.h"

struct geo_install_report {
	size_t written; /* prefixes added or changed */
	size_t deleted; /* prefixes no longer in the database */
	size_t unchanged;
	size_t index_blocks; /* 256-entry blocks below the /16 first level */
	size_t index_mixed;  /* index entries that leave the answer to the trie */
	bool out_of_blocks;  /* geo_blocks was too small: more is left to the trie */
};

/*
 * Makes prefixes (sorted, disjoint: a finished geo_db) the kernel's geo
 * database, touching only what differs from the installed one. At no moment
 * does an address that both databases give to a blocked country pass: index
 * blocks that change are first sent to the trie, the trie gets new entries
 * before stale ones go, and the index is written last. On failure every map
 * is put back as it was.
 */
int geo_install(const struct maps *maps, const struct geo_prefix *prefixes, size_t count,
		struct geo_install_report *report, char why[ERRMSG_LEN]);

/*
 * After an upgrade that sent the geo index to the trie (kernel/migrate.h):
 * rebuilds it, then unpins the old geo_blocks. Nothing to do otherwise. Until
 * then every geo verdict is right, from the trie. Hold the writer lock.
 */
int geo_finish_upgrade(const char *pin_dir, const struct maps *maps, char why[ERRMSG_LEN]);

/*
 * Installs exactly the prefixes of db whose country is marked in countries[],
 * through geo_install().
 */
int geo_install_countries(const struct maps *maps, const struct geo_db *db,
			  const bool countries[COUNTRY_SLOTS], struct geo_install_report *report,
			  char why[ERRMSG_LEN]);

/* Reads which country slots are blocked now. */
int geo_read_blocked(const struct maps *maps, bool blocked[COUNTRY_SLOTS], char why[ERRMSG_LEN]);

/* Sets or clears the block of each country slot; all or nothing. */
int geo_set_blocked(const struct maps *maps, const int *slots, size_t count, bool blocked,
		    char why[ERRMSG_LEN]);

struct geo_country_state {
	bool blocked;
	struct verdict_counter drops;
};

/* Reads every country's block flag and drop counters. */
int geo_read_states(const struct maps *maps, struct geo_country_state states[COUNTRY_SLOTS],
		    char why[ERRMSG_LEN]);

#endif
