// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "daemon/daemon-internal.h"

#include <unistd.h>
#include "bans/ban_filter.h"
#include "lib/cidr.h"

#define TICK_SECONDS	   1
#define RULES_EXPIRE_TICKS 10

/* ---- periodic work ---- */

static void on_ban_expired(void *ctx, const struct ban_record *ban)
{
	struct daemon *d = ctx;
	char prefix[CIDR_TEXT_LEN];

	cidr_format(&ban->key, prefix);
	log_say(LOG_LEVEL_INFO, "expired ban %s", prefix);
	if (d->queue)
		store_queue_lift_bans(d->queue, &ban->key, 1, clock_wall_s(), "expired");
}

/*
 * The exact-address map is an LRU hash: when it is full, the kernel makes
 * room for a new ban by dropping the one least recently matched, silently.
 * The sweep's count says when that starts (and stops); the store still has
 * every ban, so a restart puts evicted ones back while they last.
 */
static void note_address_map_fill(struct daemon *d)
{
	bool full = d->ban_count.live_addr >= BAN_ADDR_CAPACITY - BAN_ADDR_CAPACITY / 100;

	if (full == d->address_map_full)
		return;
	d->address_map_full = full;
	if (!full) {
		log_say(LOG_LEVEL_INFO, "the address ban map has room again (%zu of %u)",
			d->ban_count.live_addr, BAN_ADDR_CAPACITY);
		return;
	}
	d->counters.address_map_full++;
	log_say(LOG_LEVEL_WARNING,
		"the address ban map is full (%zu of %u): new bans now push out the least "
		"recently matched ones",
		d->ban_count.live_addr, BAN_ADDR_CAPACITY);
}

/* Expired entries out of the maps (unless renewed meanwhile) and out of the store. */
void tick_sweep(struct daemon *d)
{
	char why[ERRMSG_LEN];
	struct ban_sweep_counts counts;
	int lock = pins_lock(d->conf->daemon.pin_dir, why);

	if (lock < 0) {
		log_say(LOG_LEVEL_WARNING, "sweep: %s", why);
		return;
	}
	if (bans_sweep(&d->maps, clock_now_ns(), on_ban_expired, d, &counts, why)) {
		log_say(LOG_LEVEL_WARNING, "sweep: %s", why);
	} else {
		d->ban_count = counts;
		d->ban_counted_at = clock_wall_s();
		note_address_map_fill(d);
	}
	if (counts.swept && ban_filter_rebuild(&d->maps, why))
		log_say(LOG_LEVEL_WARNING, "sweep: %s", why);
	close(lock);
	if (d->queue)
		store_queue_expire(d->queue, clock_wall_s());
}

/* [dnsbl] zone_*: rewritten when the live bans changed; a failure said once until it works. */
static void on_tick(void *ctx, uint32_t events)
{
	struct daemon *d = ctx;
	uint64_t now_ns = clock_now_ns();

	(void)events;
	d->ticks++;
	sources_poll(d); /* a safety net under inotify */
	peers_tick(d);
	if (d->ticks % RULES_EXPIRE_TICKS == 0)
		rules_expire(d->rules, now_ns);
	if (now_ns - d->last_sweep_ns >= d->conf->daemon.sweep_interval * NSEC_PER_SEC) {
		tick_sweep(d);
		d->last_sweep_ns = now_ns;
	}
}

int tick_open(struct daemon *d, char why[ERRMSG_LEN])
{
	return loop_every(&d->loop, TICK_SECONDS, on_tick, d, "the tick", why);
}
