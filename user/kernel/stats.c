// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "kernel/stats.h"

#include "kernel/map.h"

static const char *const reason_names[REASON_COUNT] = {
	[REASON_PASS] = "pass",
	[REASON_DROP_BAN] = "drop_ban",
	[REASON_DROP_CIDR] = "drop_cidr",
	[REASON_DROP_GEO] = "drop_geo",
	[REASON_PASS_ALLOW] = "pass_allowlist",
	[REASON_NOT_JUDGED] = "not_judged",
};

const char *stats_reason_name(enum verdict_reason reason)
{
	return reason < REASON_COUNT ? reason_names[reason] : "unknown";
}

int stats_read(const struct maps *maps, struct verdict_totals *totals, char why[ERRMSG_LEN])
{
	for (__u32 reason = 0; reason < REASON_COUNT; reason++) {
		struct verdict_counter *counter = &totals->reason[reason];
		__u64 sum[2];
		int err = map_percpu_sum(maps->verdict_stats, &reason, sum, 2, why);

		if (err)
			return err;
		counter->packets = sum[0];
		counter->bytes = sum[1];
	}
	return 0;
}
