/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The geo index in front of the geo trie (see the map ABI): derived from
 * the trie's entries, written in an order that never answers wrong while
 * it changes, and walked in user space exactly as the XDP program walks it.
 */
#ifndef XDPBAN_GEO_INDEX_H
#define XDPBAN_GEO_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/errmsg.h"
#include "kernel/pins.h"

/* One geo_prefix map entry. */
struct geo_pair {
	struct lpm_key key;
	struct geo_entry value;
};

struct geo_index {
	__u32 first4[GEO_INDEX_BUCKETS];
	__u32 first6[GEO_INDEX_BUCKETS];
	struct geo_index_block *blocks; /* blocks[i] is geo_blocks[block_base + i] */
	size_t block_count;
	__u32 block_base;
	size_t mixed;	    /* entries that leave the answer to the trie */
	bool out_of_blocks; /* some split ranges went to the trie for want of blocks */
};

/* Reads the first levels (blocks stay in the kernel: they are never rewritten in place). */
int geo_index_read(const struct maps *maps, struct geo_index *index, char why[ERRMSG_LEN]);

/*
 * Derives the index of sorted, disjoint pairs (IPv4 first), its blocks in
 * the half of geo_blocks that current does not use.
 */
int geo_index_build(const struct geo_pair *pairs, size_t count, const struct geo_index *current,
		    struct geo_index *next, char why[ERRMSG_LEN]);

/*
 * Moves the kernel's index from one state to another: to's blocks first,
 * then every first-level entry that differs. With to_mixed, the differing
 * entries are set to MIXED instead (the first step of a safe change).
 */
int geo_index_apply(const struct maps *maps, const struct geo_index *from,
		    const struct geo_index *to, bool to_mixed, char why[ERRMSG_LEN]);

void geo_index_free(struct geo_index *index);

/* The country slot the kernel's index and trie give host, or -1 for none. */
int geo_index_country(const struct maps *maps, const struct lpm_key *host);

#endif
