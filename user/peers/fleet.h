/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A fleet: several daemons (mail servers behind one name) share their bans,
 * account blocks and failure counts through one Redis server (hiredis,
 * asynchronous, inside the daemon's epoll loop: the loop never waits for
 * Redis).
 *
 * Redis holds, under [fleet] key_prefix P:
 *   P:bans            sorted set: CIDR text -> absolute wall deadline (ms; +inf permanent)
 *   P:blocks          sorted set: account (ASCII lower case) -> wall deadline (ms)
 *   P:fail:ip:CIDR    sorted set: one member per failure -> Redis' time (ms)
 *   P:fail:acct:A, P:fail:acctip:A  failures and distinct sources of account A
 *   P:allow           set: the fleet's allowlist (CIDR text)
 *   P:events          pub/sub channel: "ban DEADLINE NODE STAMP_US CIDR",
 *                     "block DEADLINE NODE STAMP_US ACCOUNT" (DEADLINE "inf": permanent)
 * Failures are counted by one Lua script per failure that trims the window,
 * counts, and when the count reaches the threshold records the ban (or the
 * block) and publishes it, atomically: exactly one node's failure starts it
 * and the fleet's windows use Redis' clock. Each node subscribes and applies
 * other nodes' bans with the same wall deadline converted to its own
 * CLOCK_MONOTONIC. Local rules keep deciding too (the fallback while Redis
 * is away); their decisions are published the same way.
 *
 * Redis away: one log line, reconnection with backoff (100 ms doubling to
 * 10 s); every node goes on deciding locally and nothing is lifted. On
 * (re)connection, before it counts as synced: subscribe, push this node's
 * live rule bans and the blocks it decided meanwhile, then load Redis' live
 * bans and blocks into the maps and the rules.
 */
#ifndef XDPBAN_FLEET_H
#define XDPBAN_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bans/bans.h"
#include "conf/conf.h"
#include "lib/errmsg.h"
#include "lib/loop.h"
#include "lib/event.h"
#include "kernel/pins.h"
#include "detect/rules.h"

struct fleet;

/* A ban the fleet put into the maps here: another node's decision, or the fleet's counts'. */
struct fleet_ban {
	struct lpm_key key;
	bool permanent;
	long long deadline_ms; /* wall clock, unix ms; unused when permanent */
	const char *node; /* the deciding node; NULL: unknown (Redis' list, loaded at a sync) */
};

/* What the fleet needs from the daemon. */
struct fleet_hooks {
	void *ctx;
	/* False when prefix must not be banned here (allowlisted, own address). */
	bool (*may_ban)(void *ctx, const struct lpm_key *prefix);
	/* Another node's operator lifted the ban of prefix; it is out of the maps here. */
	void (*unbanned)(void *ctx, const struct lpm_key *prefix);
	/*
	 * Bans from the fleet now in the maps here that changed what this node
	 * enforced: a new ban, or a new deadline. A ban already in force with
	 * the same deadline (a sync, another node's push after an outage, the
	 * same decision made here) is left out. One call per batch: a sync can
	 * load thousands.
	 */
	void (*banned)(void *ctx, const struct fleet_ban *bans, size_t count);
	/*
	 * Prefixes now on the allowlist here: another node's operator allowed
	 * them (node), or the fleet's allowlist was loaded at a sync (node NULL:
	 * Redis' set does not say who). Already listed ones may be among them.
	 */
	void (*allowed)(void *ctx, const struct lpm_key *prefixes, size_t count, const char *node);
	/* Another node's operator took prefix off the allowlist; it is out of the map here. */
	void (*unallowed)(void *ctx, const struct lpm_key *prefix);
};

/* Where remote decisions go: the daemon's maps, pin dir, and its rules (replaced on SIGHUP). */
struct fleet_target {
	const struct maps *maps;
	const char *pin_dir;
	struct rules *const *rules;
	const struct rules_config *rules_cfg;
};

/*
 * Starts connecting to conf->redis (which is not "off"), its events watched
 * in loop; NULL with why on error (out of memory, no event loop). A Redis
 * that does not answer is not an error: the fleet keeps trying.
 */
struct fleet *fleet_open(const struct conf_fleet *conf, struct loop *loop,
			 const struct fleet_target *target, const struct fleet_hooks *hooks,
			 char why[ERRMSG_LEN]);
void fleet_close(struct fleet *fleet);

/*
 * Runs the fleet's own events for up to timeout_ms or until it is synced
 * with Redis (live bans and blocks loaded); true when synced. For the start,
 * before the daemon answers anyone.
 */
bool fleet_wait_synced(struct fleet *fleet, unsigned int timeout_ms);

/*
 * After the local rules saw event: publishes their decisions (a ban, a
 * block starting) and counts a failure fleet-wide. Does nothing while Redis
 * is away (local decisions are pushed when it is back).
 */
void fleet_report(struct fleet *fleet, const struct auth_event *event,
		  const struct rules_decision *decision);

/*
 * Every tick: compares the maps with the last tick's and publishes what the
 * operator changed by hand (xdpban unban, ban, allow, unallow) to the
 * fleet. A ban gone more than 1 s before its end counts as unbanned (so
 * does one the full exact-address map evicted). Changes applied from other
 * nodes are not published again; changes made while Redis is away are
 * published once it is back (an unban made then is undone by the fleet's
 * copy of the ban that the sync loads: nothing is lifted by an outage).
 */
void fleet_tick(struct fleet *fleet);

/*
 * Deadlines this close are one decision: each node moves a deadline
 * between the wall and monotonic clocks (ms apart), and the store keeps
 * whole seconds, so a ban restored from it ends up to a second either side.
 */
#define FLEET_SAME_DEADLINE_NS (2ULL * 1000000000ULL)

/*
 * Whether a ban of request changes what old (NULL: no ban) enforces at
 * now_ns: none or an expired one before, permanence changed, or a deadline
 * more than FLEET_SAME_DEADLINE_NS away. For the banned hook; pure.
 */
bool fleet_ban_is_news(const struct ban_entry *old, const struct ban_request *request,
		       uint64_t now_ns);

struct fleet_counters {
	bool synced;
	uint64_t remote_bans, remote_blocks;   /* applied from other nodes */
	uint64_t remote_changes;	       /* unbans and allowlist changes from them */
	uint64_t fleet_bans, fleet_blocks;     /* decided by the fleet's counts on our failure */
	uint64_t published, reported, dropped; /* decisions sent, failures sent, not sent */
	uint64_t outages;
};
void fleet_get_counters(const struct fleet *fleet, struct fleet_counters *counters);

#endif
