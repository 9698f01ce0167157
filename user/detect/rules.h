/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The rules: authentication events in, ban and block decisions out.
 *
 * Pure state machine. The rules read no clock (the caller passes
 * CLOCK_MONOTONIC nanoseconds, non-decreasing from call to call), touch no
 * BPF map and know no allowlist: the daemon drops events from allowlisted
 * addresses before feeding them, and turns decisions into map entries, store
 * rows and log lines. Not thread-safe; one daemon thread owns an instance.
 *
 * IP rule: ip_failures failures within ip_window from one source -> ban
 * the source for ip_bantime. "Within" is exact and inclusive: the rule fires
 * when the ip_failures-th most recent failure is at most ip_window old
 * (each source keeps the times of its last ip_failures failures, so no fixed
 * buckets exist and no burst can straddle one). After a ban the source's
 * failures are forgotten; failures that still arrive while the ban the rules
 * decided runs (log lag, unprotected ports) are ignored, so one burst is one
 * ban. A "source" is the address, or its prefix when aggregation is on
 * (ipv4_prefixlen < 32, ipv6_prefix < 128): it is then counted and banned
 * as a whole. An IPv6 prefix that would contain ::ffff:0:0/96 (all of IPv4)
 * is never formed: such an address is counted and banned alone.
 *
 * Account rule: at least account_failures failures on one account within
 * account_window, AND among the failures within that window at least
 * account_min_ips distinct sources (aggregated as above) -> the account is
 * blocked for account_blocktime. Both conditions are over the same window and
 * are exact: each account keeps its last account_failures failures and its
 * last account_min_ips distinct sources with the time each was last seen.
 * The deadline is fixed when the block starts: failures during the block
 * are ignored (they neither extend nor restart it) and when it ends counting
 * starts from nothing. Account names are compared after ASCII case folding
 * (account_fold_case; Dovecot's usual user databases are case-insensitive,
 * so "Bob" and "bob" are one target) and are held only as a 128-bit
 * SipHash-2-4 digest under a per-process random key, so an attacker cannot
 * craft colliding names; the decision returns the name from the event.
 *
 * An event's `attempts` counts as that many failures at that time. With
 * distinct_passwords, an event carrying a password hash counts as one failure,
 * and not at all when the same hash is already among the key's failures in
 * the window (a client retrying one stale password is one guess); events
 * without a hash count as usual. This applies to both rules.
 *
 * AUTH_OK from source S on account A forgives exactly the failures that the
 * success explains: S's failures on A are removed from S's window and from
 * A's window (S also leaves A's distinct-source set). Failures of S on other
 * accounts stay (an attacker owning one mailbox cannot reset its window on
 * others by logging into its own), failures of A from other sources stay (a
 * botnet cannot log in, so it cannot clear an account's window), and a
 * running ban or block is not lifted. An OK without a user name forgives
 * only S's failures that came without one.
 *
 * Repeat offenders (repeat_multiplier > 0): the n-th ban of a source lasts
 * ip_bantime * repeat_multiplier^(n-1), capped at repeat_max. A source's
 * ban count is forgotten repeat_forget after its last ban ended. With
 * repeat_multiplier 0 the count is still kept and reported (decision.repeat),
 * but every ban lasts ip_bantime.
 *
 * Memory: four fixed-capacity tables allocated (and faulted in) at once by
 * rules_new, never grown, no allocation per event. See rules_memory_bound().
 * Tables are 8-way set-associative, sets chosen by a keyed SipHash of the
 * key (an attacker cannot aim at one set). A new key goes into a free slot
 * of its set, or replaces a dead entry (nothing left in its window), or, if
 * all 8 are live, evicts the least valuable one (counted in evictions):
 *   sources:     fewest failures in the window, then least recently failed.
 *                A flood of single-failure sources therefore never pushes
 *                out a source with two or more recent failures unless its
 *                whole set is such sources; the price is that a first
 *                failure survives only about max_tracked_ips newer distinct
 *                sources (about max_tracked_ips / flood rate seconds), so an
 *                attacker whose failures are that far apart in a flood is
 *                forgotten before its second one and escapes the IP rule.
 *                The accounts' lottery (below) would not help: a failure
 *                not admitted is lost, and a source needs every one of its
 *                ip_failures counted (in test_rules' flood it banned 9 of 20
 *                five-failure attackers instead of 20, the slow one still
 *                never);
 *   accounts:    fewest distinct sources in the window, then fewest
 *                failures, then least recently failed; and a new account
 *                evicts a live one only one time in 4 (a keyed lottery;
 *                otherwise its failure is not tracked, counted in
 *                account_untracked). A spray of more names than the table
 *                holds would otherwise push each name out before its next
 *                failure, pass after pass (92% of 100,000 sprayed names
 *                were never blocked); with the lottery most of the table
 *                stays put between passes, and an account under a real
 *                attack gets in within a few failures and, once seen from
 *                two sources, outvalues every single-source entry. Evicting
 *                an account seen from 2+ sources means the table is too
 *                small for the attack: counted (account_rich_evictions) and
 *                flagged (accounts_saturated) for a window;
 *   blocks:      the block that ends soonest;
 *   ban history: the entry whose ban ended longest ago.
 * Set-associativity means evictions can start a little before a table is
 * completely full. rules_expire() reclaims dead entries early; it is
 * housekeeping only (decisions never depend on it).
 */
#ifndef XDPBAN_RULES_H
#define XDPBAN_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/errmsg.h"
#include "lib/event.h"

#define RULES_MAX_THRESHOLD    32 /* failures one key remembers */
#define RULES_MAX_DISTINCT_IPS 16
#define RULES_MAX_CAPACITY     (1U << 26) /* entries per table */
#define RULES_TABLE_WAYS       8

/*
 * The [rules] keys the rules read, under the same names and in the same
 * units (docs/config.md): the config file writes them here directly.
 */
struct rules_config {
	/* IP rule; ip_failures 0 turns it off. */
	unsigned int ip_failures;    /* 5 */
	uint64_t ip_window;	     /* 60 s */
	uint64_t ip_bantime;	     /* 300 s */
	unsigned int ipv4_prefixlen; /* 32: count and ban each address (no key) */
	unsigned int ipv6_prefix;    /* 128: each address; 64 counts and bans per /64 */

	/* Account rule; account_failures 0 turns it off. */
	unsigned int account_failures; /* 3 */
	uint64_t account_window;       /* 60 s */
	unsigned int account_min_ips;  /* 2 distinct sources */
	uint64_t account_blocktime;    /* 600 s */
	bool account_fold_case;	       /* true (no key) */

	/* Repeat offenders; repeat_multiplier 0 (the default) turns them off. */
	unsigned int repeat_multiplier;
	uint64_t repeat_max;	/* 86400 s */
	uint64_t repeat_forget; /* 86400 s, after the last ban ended */

	/* Count each password hash once per key; off by default. */
	bool distinct_passwords;

	/* Table capacities (entries). */
	size_t max_tracked_ips;	     /* 262144 sources being counted */
	size_t max_tracked_accounts; /* 65536 accounts being counted */
	unsigned int max_blocks;     /* 65536 account blocks held (no key) */
	unsigned int max_offenders;  /* 65536 sources with a running or remembered ban (no key) */
};

struct rules_decision {
	/* The event's source as the rules count and ban it: the host, or its prefix. */
	struct lpm_key ip_key;
	bool ban;		  /* a ban of ip_key starts now */
	bool ip_banned;		  /* ip_key is under a ban these rules decided (now or before) */
	unsigned int ban_seconds; /* when ban */
	uint64_t ban_deadline_ns; /* when ban or ip_banned */
	unsigned int repeat;	  /* when ban: earlier bans of ip_key remembered; 0 on a first */
	unsigned int ip_failures; /* failures of ip_key in its window after the event */

	bool block_started;	       /* the account's block starts now */
	bool account_blocked;	       /* the account is blocked (now or before) */
	uint64_t block_deadline_ns;    /* when account_blocked */
	unsigned int account_failures; /* failures of the account in its window after the event */
	char account[EVENT_USER_LEN];  /* the event's user as given, when account_blocked */
};

struct rules_counters {
	uint64_t events, failures, successes;
	uint64_t bans;		  /* bans decided */
	uint64_t blocks;	  /* account blocks started */
	uint64_t ignored_banned;  /* failures from a source under a ban the rules decided */
	uint64_t ignored_blocked; /* failures on an account already blocked */
	uint64_t duplicates;	  /* failures not counted: same password hash again */
	uint64_t evictions;	  /* live entries pushed out, the sum of the four below */
	uint64_t ip_evictions, account_evictions, block_evictions, offender_evictions;
	uint64_t account_rich_evictions; /* of those, accounts with 2+ sources in their window */
	uint64_t account_untracked; /* failures of new accounts not tracked: their set was full */
	uint64_t ips, accounts, blocks_held, offenders; /* entries held now */
	/* 1 while an account with 2+ sources was evicted within the last account_window */
	uint64_t accounts_saturated;
};

/* The defaults above. */
void rules_config_default(struct rules_config *cfg);

/* 0, or -EINVAL with the bad setting named in why. */
int rules_config_check(const struct rules_config *cfg, char why[ERRMSG_LEN]);

/*
 * Every byte an instance with this config holds, exactly: one anonymous
 * mapping, populated by rules_new, holding the instance and four tables, each
 * table a tag array (4 bytes a slot) and a slot array, each array starting
 * on a 64-byte boundary:
 *   round_up(round64(sizeof(struct rules)) + sum over the four tables of
 *            round64(4 * slots) + round64(entry * slots), 4096)
 * slots = capacity rounded up to a multiple of 8; entry bytes, with K the
 * rule's threshold, M = account_min_ips, H = 1 with distinct_passwords else 0:
 *   source  round8(24 + 12 K + 8 H K)   (defaults: 88)
 *   account 24 + 16 K + 8 H K + 16 M    (defaults: 104)
 *   block   24,  ban history 32.
 * Defaults: 262144 * 92 + 65536 * 108 + 65536 * 28 + 65536 * 36
 * = 35,389,440 bytes of tables, plus one page for the instance:
 * 35,393,536 bytes (33.75 MiB).
 */
size_t rules_memory_bound(const struct rules_config *cfg);

/* Allocates everything up front. NULL with the reason in why on error. */
struct rules *rules_new(const struct rules_config *cfg, char why[ERRMSG_LEN]);
void rules_free(struct rules *rules);

/* Applies one event at now_ns; fills *decision (every field). */
void rules_feed(struct rules *rules, const struct auth_event *event, uint64_t now_ns,
		struct rules_decision *decision);

/* Whether account is blocked at now_ns; if so, *deadline_ns (may be NULL) gets the end. */
bool rules_account_blocked(const struct rules *rules, const char *account, uint64_t now_ns,
			   uint64_t *deadline_ns);

/* The key the rules count and ban ip under (host or aggregate prefix). */
void rules_source_key(const struct rules *rules, const struct addr_key *ip, struct lpm_key *key);

/*
 * After a restart: a ban (deadline, 0 for permanent, and how many bans the
 * source had in all, >= 1) or an account block read back from the store, so
 * that failures during it are ignored and repeat counts survive. A ban key
 * that is not what rules_source_key() gives under this config is ignored
 * (returns false).
 */
bool rules_restore_ban(struct rules *rules, const struct lpm_key *key, uint64_t deadline_ns,
		       unsigned int bans, uint64_t now_ns);
void rules_restore_block(struct rules *rules, const char *account, uint64_t deadline_ns,
			 uint64_t now_ns);

/* The operator lifted a ban or block: counting starts afresh (ban history stays). */
void rules_unban(struct rules *rules, const struct lpm_key *key, uint64_t now_ns);
void rules_unblock(struct rules *rules, const char *account);

/*
 * Frees every dead entry (windows empty, blocks ended, ban history
 * forgotten). Returns how many; scans all tables (0.3-0.4 ms for the
 * defaults on the development VM), so call it every few seconds, not per
 * event.
 */
size_t rules_expire(struct rules *rules, uint64_t now_ns);

void rules_get_counters(const struct rules *rules, struct rules_counters *counters);

/*
 * The pending failures across a restart: the sources' and the accounts'
 * windows (not bans or blocks: the store has those, and only the store
 * knows of an unban made while the daemon was stopped), written with the
 * hash keys they are filed under. rules_save_state hands sink the whole
 * state in pieces, in order; now_ns and wall_us are both clocks' "now".
 * rules_restore_state takes such a state into new, empty rules (before
 * rules_restore_ban/block), taking its keys: each failure keeps its age,
 * the time between the two wall clock readings counted as passed (none if
 * the clock went back), and failures older than the window are dropped.
 * 0; -ESTALE (nothing restored) when it was saved under other thresholds,
 * prefixes or distinct_passwords; -EINVAL when it is not such a state or
 * is damaged (nothing restored either); -EBUSY when rules are not new.
 */
typedef void rules_state_sink(void *ctx, const void *data, size_t len);

struct rules_state_counts {
	uint64_t ips, accounts; /* entries saved, or restored (still in their window) */
};

void rules_save_state(struct rules *rules, uint64_t now_ns, int64_t wall_us, rules_state_sink *sink,
		      void *ctx, struct rules_state_counts *counts);
int rules_restore_state(struct rules *rules, const void *data, size_t len, uint64_t now_ns,
			int64_t wall_us, struct rules_state_counts *counts, char why[ERRMSG_LEN]);

#endif
