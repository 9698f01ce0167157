// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "daemon/daemon-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "lib/cidr.h"
#include "lib/duration.h"

/* ---- the fleet (fleet.h) ---- */

/* Other nodes' bans obey what this node never bans, its allowlist, own addresses and SSH session.
 */
static bool fleet_may_ban(void *ctx, const struct lpm_key *prefix)
{
	return decide_may_ban(ctx, prefix, "fleet");
}

#define FLEET_START_WAIT_MS 2000 /* for Redis' bans before answering anyone */

/* Another node's operator lifted this ban: lifted in the store too, or a restart would restore it.
 */
static void fleet_unbanned(void *ctx, const struct lpm_key *prefix)
{
	struct daemon *d = ctx;

	if (d->queue)
		store_queue_lift_bans(d->queue, prefix, 1, clock_wall_s(), "unban");
}

/*
 * Bans from the fleet are recorded like the rules' (history, restore after
 * a reboot): reason "fleet", source the deciding node ("redis" when loaded
 * from its list at a sync, which does not say who decided). The failures
 * were counted elsewhere: count 0, no event times.
 */
static void fleet_banned(void *ctx, const struct fleet_ban *bans, size_t count)
{
	struct daemon *d = ctx;
	struct store_ban *rows;

	if (!d->queue)
		return;
	rows = calloc(count, sizeof(*rows));
	if (!rows) {
		log_say(LOG_LEVEL_WARNING, "store: out of memory: %zu fleet bans not recorded",
			count);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		rows[i].key = bans[i].key;
		/* Rounded up: the store's row must not end before the kernel's ban. */
		rows[i].expires_at = bans[i].permanent ? 0 : (bans[i].deadline_ms + 999) / 1000;
		snprintf(rows[i].reason, sizeof(rows[i].reason), "fleet");
		snprintf(rows[i].source, sizeof(rows[i].source), "%s",
			 bans[i].node ? bans[i].node : "redis");
	}
	decide_record_bans(d, rows, count, clock_wall_s());
	free(rows);
}

/*
 * The fleet's allowlist is recorded like the operator's (xdpban allow), so
 * this node's reboot keeps it: source the node whose operator allowed it,
 * "redis" when loaded from its set at a sync. A prefix already recorded
 * keeps its row, so a sync rewrites nothing.
 */
static void fleet_allowed(void *ctx, const struct lpm_key *prefixes, size_t count, const char *node)
{
	struct daemon *d = ctx;

	if (d->queue)
		store_queue_allow_add(d->queue, prefixes, count, clock_wall_s(),
				      node ? node : "redis");
}

/* Another node's operator unallowed prefix: out of the store too, or a restart would put it back.
 */
static void fleet_unallowed(void *ctx, const struct lpm_key *prefix)
{
	struct daemon *d = ctx;

	if (d->queue)
		store_queue_allow_remove(d->queue, prefix, 1);
}

/* [fleet]: connects and, before the daemon answers anyone, loads the fleet's bans and blocks. */
static void open_fleet(struct daemon *d)
{
	struct fleet_target target = { .maps = &d->maps,
				       .pin_dir = d->conf->daemon.pin_dir,
				       .rules = &d->rules,
				       .rules_cfg = &d->rules_cfg };
	struct fleet_hooks hooks = { .ctx = d,
				     .may_ban = fleet_may_ban,
				     .unbanned = fleet_unbanned,
				     .banned = fleet_banned,
				     .allowed = fleet_allowed,
				     .unallowed = fleet_unallowed };
	char why[ERRMSG_LEN];

	if (is_off(d->conf->fleet.redis))
		return;
	d->fleet = fleet_open(&d->conf->fleet, &d->loop, &target, &hooks, why);
	if (!d->fleet)
		log_say(LOG_LEVEL_ERROR, "%s; deciding alone", why);
	else
		fleet_wait_synced(d->fleet, FLEET_START_WAIT_MS);
}

/* ---- DNSBL lookups (dnsbl.h) ---- */

/* Recorded like a rule's ban; no failure led to it (count 0), the zone's listing did. */
static void record_dnsbl_ban(struct daemon *d, const struct lpm_key *key, const char *zone)
{
	int64_t now = clock_wall_s();
	struct store_ban row = { .key = *key, .expires_at = now + (int64_t)d->conf->dnsbl.bantime };

	snprintf(row.reason, sizeof(row.reason), "dnsbl");
	snprintf(row.source, sizeof(row.source), "%s", zone);
	decide_record_bans(d, &row, 1, now);
}

/* A zone lists ip: banned for [dnsbl] bantime, through the guards a fleet ban goes through. */
static void dnsbl_listed(void *ctx, const struct addr_key *ip, const char *zone, uint32_t ttl)
{
	struct daemon *d = ctx;
	struct ban_request request = { .seconds = d->conf->dnsbl.bantime };
	char prefix[CIDR_TEXT_LEN], length[DURATION_TEXT_LEN], why[ERRMSG_LEN];
	int lock;

	cidr_from_addr_key(&request.key, ip);
	cidr_format(&request.key, prefix);
	if (!decide_may_ban(d, &request.key, zone))
		return;
	lock = pins_lock(d->conf->daemon.pin_dir, why);
	if (lock >= 0 && bans_outlasted(&d->maps, &request, clock_now_ns())) {
		log_say(LOG_LEVEL_DEBUG,
			"%s is listed in DNSBL %s, and a ban of it ending later is in force",
			prefix, zone);
	} else if (lock < 0 || bans_add(&d->maps, &request, 1, BAN_ORIGIN_IP_RULE, why)) {
		d->counters.apply_errors++;
		log_say(LOG_LEVEL_ERROR, "cannot ban %s (listed in %s): %s", prefix, zone, why);
	} else {
		d->counters.bans++;
		duration_format(request.seconds, length);
		log_say(LOG_LEVEL_INFO, "ban %s for %s: listed in DNSBL %s (TTL %u s)", prefix,
			length, zone, ttl);
		record_dnsbl_ban(d, &request.key, zone);
	}
	if (lock >= 0)
		close(lock);
}

static void open_dnsbl(struct daemon *d)
{
	struct dnsbl_hooks hooks = { .ctx = d, .listed = dnsbl_listed };
	char why[ERRMSG_LEN];

	if (!d->conf->dnsbl.zones[0])
		return;
	d->dnsbl = dnsbl_open(&d->conf->dnsbl, &d->loop, &hooks, why);
	if (!d->dnsbl)
		log_say(LOG_LEVEL_ERROR, "%s; no DNSBL lookups", why);
}
static void publish_zone(struct daemon *d)
{
	char why[ERRMSG_LEN];
	int err;

	d->zone.ip4_path = d->conf->dnsbl.zone_ip4set; /* the conf changes on SIGHUP */
	d->zone.ip6_path = d->conf->dnsbl.zone_ip6trie;
	if (!d->zone.ip4_path[0] && !d->zone.ip6_path[0])
		return;
	err = zone_publish(&d->zone, &d->maps, why);
	if (err < 0 && !d->zone_failing)
		log_say(LOG_LEVEL_ERROR, "DNSBL zone: %s", why);
	d->zone_failing = err < 0;
}

/* ---- the rest of the daemon's view of its peers ---- */

void peers_open(struct daemon *d)
{
	open_fleet(d);
	open_dnsbl(d);
}

void peers_tick(struct daemon *d)
{
	publish_zone(d);
	if (d->fleet) /* the operator's unbans and allowlist changes, to the fleet */
		fleet_tick(d->fleet);
}

/* Each takes itself out of the loop. */
void peers_close(struct daemon *d)
{
	fleet_close(d->fleet);
	d->fleet = NULL;
	dnsbl_close(d->dnsbl);
	d->dnsbl = NULL;
	zone_publisher_free(&d->zone);
}
