/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The exact-address ban tables (ban4, ban6 and their ban_info sides, see the
 * map ABI) as user space writes them: through mmap of the pinned maps, or of
 * plain memory in tests. Every write keeps the table readable by the XDP
 * program at any moment. Callers hold the writer lock (pins_lock).
 */
#ifndef XDPBAN_BAN_TABLE_H
#define XDPBAN_BAN_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/errmsg.h"
#include "xdpban_maps.h"

/* One family's buckets and their info. */
struct ban_family {
	void *buckets; /* struct ban4_bucket or struct ban6_bucket */
	struct ban_info *info;
	__u32 max;   /* buckets allocated (a power of two) */
	__u32 *log2; /* in ban_meta: 2^log2 buckets in use */
	__u32 *used; /* in ban_meta: bans held */
	bool v6;
};

struct ban_table {
	struct ban_family v4, v6;
	struct ban_meta *meta;
	bool mapped; /* mmap of maps (munmap) rather than heap memory (free) */
};

/* One exact ban. */
struct ban_slot {
	struct addr_key addr;
	__u32 deadline; /* BAN_TICK units, BAN_DEADLINE_PERMANENT */
	__u32 early_ns; /* the end asked for, this long before the deadline */
	__u32 created_unix;
	__u8 origin;
};

/* Sets both the kernel's deadline and the exact end of a CLOCK_MONOTONIC one (0: permanent). */
void ban_slot_set_end(struct ban_slot *slot, uint64_t expires_ns);
/* The end asked for (0: permanent), which the kernel's deadline rounds up. */
uint64_t ban_slot_end(const struct ban_slot *slot);

/* The kernel's deadline of a CLOCK_MONOTONIC one (0: permanent), rounded up. */
__u32 ban_deadline_of(uint64_t expires_ns);
/* And back: the nanosecond the kernel stops dropping (0 for permanent). */
uint64_t ban_expires_of(__u32 deadline);
/* True when the kernel no longer drops on this deadline at now_ns. */
bool ban_deadline_passed(__u32 deadline, uint64_t now_ns);

/*
 * Maps the five pinned maps (descriptors stay the caller's), drawing the
 * hash seed if the tables are new.
 */
int ban_table_map(struct ban_table *t, int fd4, int fd6, int info4, int info6, int meta,
		  char why[ERRMSG_LEN]);
/*
 * Copies the buckets of another ban4 and ban6 (map ABI 2's, the same sizes)
 * into these tables, then recounts their spills. The ban_info tables and
 * ban_meta (the seed, the sizes in use) are the ones the copies go with.
 */
int ban_table_copy_buckets(const struct ban_table *t, int fd4, int fd6, char why[ERRMSG_LEN]);
/* Heap tables of 2^log2_max buckets per family, 2^log2_start in use, for tests. */
int ban_table_alloc(struct ban_table *t, unsigned int log2_max, unsigned int log2_start,
		    __u64 seed);
void ban_table_release(struct ban_table *t);

/* The ban of exactly this address, expired or not; -ENOENT when there is none. */
int ban_table_find(const struct ban_table *t, const struct addr_key *addr, struct ban_slot *out);
/*
 * Whether the program's lookup of this address reads its second bucket: the
 * first does not hold it and has its bit in the spill filter (benchmarks).
 */
bool ban_table_reads_second(const struct ban_table *t, const struct addr_key *addr);
/*
 * Puts a ban in, replacing the one of the same address (*old, *existed say
 * what was there; either may be NULL). An expired ban's slot counts as free.
 * The table doubles the buckets in use when its load passes 16 bytes a ban,
 * or when relocation finds no room. -ENOSPC when the address's two buckets
 * are full, no relocation frees a slot and the table is at its largest:
 * nothing is changed then, and no live ban was pushed out.
 */
int ban_table_put(const struct ban_table *t, const struct ban_slot *ban, uint64_t now_ns,
		  struct ban_slot *old, bool *existed);
/* Removes the ban of this address; -ENOENT when there is none. */
int ban_table_delete(const struct ban_table *t, const struct addr_key *addr, struct ban_slot *old);

/*
 * Counts every first bucket's spill and filter again from the entries: for
 * tables of map ABI 2, whose buckets had the count alone.
 */
int ban_table_recount(const struct ban_table *t);

typedef void (*ban_slot_fn)(void *ctx, const struct ban_slot *ban);

/* Where an incremental walk over both families is. */
struct ban_table_cursor {
	bool v6;
	__u32 bucket;
};

/*
 * Calls fn for every ban in up to `buckets` buckets from the cursor on, and
 * moves it; returns true when the walk came back to the start (IPv4 bucket
 * 0). fn may delete the ban it is given.
 */
bool ban_table_walk(const struct ban_table *t, struct ban_table_cursor *cursor, __u32 buckets,
		    ban_slot_fn fn, void *ctx);
/* Buckets in use in a family. */
__u32 ban_table_buckets(const struct ban_family *f);
/* Every ban of both families. */
void ban_table_each(const struct ban_table *t, ban_slot_fn fn, void *ctx);

#endif
