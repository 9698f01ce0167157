/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The daemon's GET /metrics page in the Prometheus text exposition format
 * (version 0.0.4). Pure formatting of a snapshot the daemon takes: the XDP
 * program's counters (read from the maps at each scrape: about 1,360
 * lookups, two per country slot, under 2 ms), the bans the last sweep saw (counting a million-entry
 * map at each scrape would stall the event loop; the sweep reads every
 * entry anyway, every sweep_interval), and the daemon's own counters.
 *
 * Counters end in _total and only grow while the daemon runs, except the XDP
 * ones, which live in the pinned maps and so survive daemon restarts. The
 * daemon's own are named in counter_table (counters.h), which the control
 * socket's status reply reads too.
 */
#ifndef XDPBAN_METRICS_H
#define XDPBAN_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "peers/dnsbl.h"
#include "peers/fleet.h"
#include "geo/geo.h"
#include "serve/policy.h"
#include "serve/weak_guesses.h"
#include "daemon/counters.h"
#include "kernel/stats.h"

/* Events and lines by where they came from: a log source, "dovecot-policy", "control". */
struct metrics_source {
	const char *name;
	uint64_t lines; /* log lines read; 0 for the other kinds */
	uint64_t events;
	uint64_t unrecognised; /* lines that looked like authentication lines, yielding nothing */
	bool silent;	       /* many of those and no outcome for long: warned */
	bool is_log;	       /* a log source (not the policy endpoint or the control socket) */
};

struct metrics_snapshot {
	bool have_xdp; /* the counters below were read from the maps */
	struct verdict_totals verdicts;
	struct geo_country_state countries[COUNTRY_SLOTS];

	bool have_ban_count; /* a sweep has counted the bans */
	uint64_t bans_address, bans_cidr;
	int64_t bans_counted_at; /* wall-clock seconds of that sweep */

	const struct metrics_source *sources;
	size_t source_count;
	struct counter_readings counters; /* those of counter_table with a metric name */

	bool have_policy; /* the policy endpoint is on */
	struct policy_counters policy;

	bool have_fleet; /* [fleet] is on */
	struct fleet_counters fleet;
	bool have_dnsbl; /* [dnsbl] zones are asked */
	struct dnsbl_counters dnsbl;
	bool have_weak; /* [policy] weak_passwords is on */
	struct weak_guess_count guess_top[WEAK_GUESSES_TOP];
	size_t guess_top_count;
};

/* Writes the whole page; 0, or -1 when out has an error. */
int metrics_write(FILE *out, const struct metrics_snapshot *snapshot);

/* The page as a malloc'd NUL-terminated string (free() it), or NULL on ENOMEM. */
char *metrics_format(const struct metrics_snapshot *snapshot, size_t *len);

#endif
