// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "daemon/daemon-internal.h"

#include <unistd.h>
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

/* A family's table holds 90% of the slots it has at its largest. */
static bool nearly_full(const struct ban_family *f, unsigned int slots)
{
	return f->used && (uint64_t)*f->used * 10 >= (uint64_t)f->max * slots * 9;
}

/*
 * The address table never evicts: a ban it has no room for is refused (and
 * counted where it is made). The sweep says when a family's table nears
 * its capacity, once, and when it has room again.
 */
static void note_address_map_fill(struct daemon *d)
{
	bool full =
	    nearly_full(&d->maps.bans.v4, BAN4_SLOTS) || nearly_full(&d->maps.bans.v6, BAN6_SLOTS);

	if (full == d->address_map_full)
		return;
	d->address_map_full = full;
	if (!full)
		log_say(LOG_LEVEL_INFO, "the address ban table has room again (%zu bans)",
			d->ban_count.live_addr);
	else
		log_say(LOG_LEVEL_WARNING,
			"the address ban table is nearly full (%zu bans): bans it has no room "
			"for will be refused, none is pushed out",
			d->ban_count.live_addr);
}

/*
 * One slice of the sweep (bans.h: a pass walks the tables a slice per tick,
 * so a million bans never stall the loop); at the end of a pass, its counts
 * and the store's own expiry.
 */
void tick_sweep(struct daemon *d)
{
	char why[ERRMSG_LEN];
	bool done = false;
	int lock = pins_lock(d->conf->daemon.pin_dir, why);

	if (lock < 0) {
		log_say(LOG_LEVEL_WARNING, "sweep: %s", why);
		return;
	}
	if (bans_sweep_step(&d->maps, clock_now_ns(), on_ban_expired, d, &d->sweep, &done, why))
		log_say(LOG_LEVEL_WARNING, "sweep: %s", why);
	close(lock);
	if (!done)
		return;
	d->ban_count = d->sweep.running;
	d->ban_counted_at = clock_wall_s();
	note_address_map_fill(d);
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
	retry_run(d);
	sources_poll(d); /* a safety net under inotify */
	peers_tick(d);
	if (d->ticks % RULES_EXPIRE_TICKS == 0)
		rules_expire(d->rules, now_ns);
	if (d->sweep.started) {
		tick_sweep(d); /* the next slice of a pass */
	} else if (now_ns - d->last_sweep_ns >= d->conf->daemon.sweep_interval * NSEC_PER_SEC) {
		tick_sweep(d);
		d->last_sweep_ns = now_ns;
	}
}

int tick_open(struct daemon *d, char why[ERRMSG_LEN])
{
	return loop_every(&d->loop, TICK_SECONDS, on_tick, d, "the tick", why);
}
