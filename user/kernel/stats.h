/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The XDP program's per-CPU verdict counters, summed over CPUs. */
#ifndef XDPBAN_STATS_H
#define XDPBAN_STATS_H

#include "lib/errmsg.h"
#include "kernel/pins.h"

struct verdict_totals {
	struct verdict_counter reason[REASON_COUNT];
};

int stats_read(const struct maps *maps, struct verdict_totals *totals, char why[ERRMSG_LEN]);
/* Short snake_case names, stable for scripts: "pass", "drop_ban", ... */
const char *stats_reason_name(enum verdict_reason reason);

#endif
