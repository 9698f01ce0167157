/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Bans and the allowlist as the operator sees them: one address or CIDR
 * prefix each. Host-length bans go to the exact-address hash, shorter
 * prefixes to the CIDR trie. Every call is all-or-nothing.
 */
#ifndef XDPBAN_BANS_H
#define XDPBAN_BANS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/errmsg.h"
#include "kernel/ban_table.h"
#include "kernel/pins.h"

struct ban_request {
	struct lpm_key key;
	bool permanent;
	uint64_t seconds;
	uint64_t deadline_ns; /* nonzero: this CLOCK_MONOTONIC deadline instead of seconds */
};

/* One entry of the maps, with the prefix it covers. */
struct ban_record {
	struct lpm_key key;
	struct ban_entry entry;
};

struct allow_record {
	struct lpm_key key;
	struct allow_entry entry;
};

/* Bans the map pushed out to make room for new ones. */
struct ban_evictions {
	struct ban_record *records;
	size_t count;
};

/*
 * Bans every request from now on, replacing existing bans of the same
 * prefix. A full CIDR trie drops the bans closest to their end (expired ones
 * first, permanent ones never) and only when every entry is permanent is the
 * batch refused. The address table never pushes a live ban out: when an
 * address finds no room (its bucket pair full and no relocation possible,
 * which the table's size makes unlikely below 1.5M bans) the batch is
 * refused with -ENOSPC, changing nothing.
 */
int bans_add(const struct maps *maps, const struct ban_request *requests, size_t n,
	     enum ban_origin origin, char why[ERRMSG_LEN]);
/* The same, saying which CIDR bans made room (evicted may be NULL). */
int bans_add_evicting(const struct maps *maps, const struct ban_request *requests, size_t n,
		      enum ban_origin origin, struct ban_evictions *evicted, char why[ERRMSG_LEN]);
void ban_evictions_free(struct ban_evictions *evicted);
/* Lifts the bans of exactly these prefixes; fails, changing nothing, if one is not banned. */
int bans_remove(const struct maps *maps, const struct lpm_key *keys, size_t n,
		char why[ERRMSG_LEN]);
/* Reads the ban stored under exactly this prefix; -ENOENT when there is none. */
int bans_lookup(const struct maps *maps, const struct lpm_key *key, struct ban_entry *entry);
/*
 * Whether a live ban of exactly request's prefix ends no earlier than request
 * would (permanent outlasts everything). A decision the daemon takes for
 * itself (a rule, the fleet, a DNSBL) must not replace it: that would cut
 * short, say, an operator's permanent ban of an address whose open connection
 * goes on failing.
 */
bool bans_outlasted(const struct maps *maps, const struct ban_request *request, uint64_t now_ns);
/* The same, given the entry stored under request's prefix. */
bool ban_outlasts(const struct ban_entry *old, const struct ban_request *request, uint64_t now_ns);
/* All bans, expired ones included, sorted by address. The caller frees *records. */
int bans_list(const struct maps *maps, struct ban_record **records, size_t *count,
	      char why[ERRMSG_LEN]);

int bans_allow_add(const struct maps *maps, const struct lpm_key *keys, size_t n,
		   char why[ERRMSG_LEN]);
int bans_allow_remove(const struct maps *maps, const struct lpm_key *keys, size_t n,
		      char why[ERRMSG_LEN]);
int bans_allow_list(const struct maps *maps, struct allow_record **records, size_t *count,
		    char why[ERRMSG_LEN]);
/*
 * True when the allowlist map holds a prefix covering all of prefix (a host
 * is covered by any entry containing it). maps may be NULL: no allowlist.
 */
bool bans_allow_covers(const struct maps *maps, const struct lpm_key *prefix);

typedef void (*ban_expired_fn)(void *ctx, const struct ban_record *ban);

/* What a sweep did and saw. */
struct ban_sweep_counts {
	size_t swept;	  /* expired entries deleted */
	size_t live_addr; /* single-address bans left (permanent ones included) */
	size_t live_cidr; /* CIDR bans left */
};

/*
 * Deletes the bans that expired by now_ns from the table and the trie,
 * calling fn for each, and counts those that stay (the count costs nothing:
 * the sweep reads every entry anyway). A CIDR ban is deleted only if it
 * still holds the deadline it was read with. Hold the writer lock.
 */
int bans_sweep(const struct maps *maps, uint64_t now_ns, ban_expired_fn fn, void *ctx,
	       struct ban_sweep_counts *counts, char why[ERRMSG_LEN]);

/*
 * The same in slices, so that a daemon with a million bans never stops for
 * the whole walk: the first step of a pass sweeps the trie and a slice of
 * BANS_SWEEP_SLICE buckets, each further step the next slice. *done says a
 * pass ended; sweep->running then holds its counts. Hold the writer lock for
 * each step (not in between).
 */
#define BANS_SWEEP_SLICE 131072 /* buckets: 8 MB, a few ms */

struct ban_sweep {
	struct ban_table_cursor cursor;
	struct ban_sweep_counts running;
	bool started;
};

int bans_sweep_step(const struct maps *maps, uint64_t now_ns, ban_expired_fn fn, void *ctx,
		    struct ban_sweep *sweep, bool *done, char why[ERRMSG_LEN]);

/* Seconds left before the ban expires (0 once expired); meaningless when permanent. */
uint64_t ban_seconds_left(const struct ban_entry *entry, uint64_t now_ns);
bool ban_is_permanent(const struct ban_entry *entry);
const char *ban_origin_name(enum ban_origin origin);

#endif
