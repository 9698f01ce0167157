// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "bans/verdict.h"

#include <bpf/bpf.h>
#include "bans/bans.h"
#include "lib/cidr.h"
#include "lib/duration.h"
#include "geo/geo_index.h"

static bool live(const struct ban_entry *ban, __u64 now_ns)
{
	return ban->expires_ns == 0 || ban->expires_ns > now_ns;
}

/* The kernel's CIDR rule: look past expired, more specific bans (bpf/xdpban.bpf.c). */
static bool cidr_banned(int fd, const struct lpm_key *host, __u64 now_ns)
{
	struct lpm_key key = *host;
	struct ban_entry ban;

	while (bpf_map_lookup_elem(fd, &key, &ban) == 0) {
		if (live(&ban, now_ns))
			return true;
		if (ban.prefixlen == 0 || ban.prefixlen > key.prefixlen)
			return false;
		key.prefixlen = ban.prefixlen - 1;
	}
	return false;
}

static bool country_blocked(const struct maps *maps, int country)
{
	struct geo_policy policy = {};
	__u32 slot = country;

	if (country < 0 || country >= COUNTRY_SLOTS)
		return false;
	return bpf_map_lookup_elem(maps->geo_blocked, &slot, &policy) == 0 && policy.blocked;
}

enum verdict_reason verdict_of_bans(const struct maps *maps, const struct addr_key *addr)
{
	__u64 now_ns = clock_now_ns();
	struct ban_entry ban;
	struct lpm_key host;

	cidr_from_addr_key(&host, addr);
	if (bans_allow_covers(maps, &host))
		return REASON_PASS_ALLOW;
	if (bans_lookup(maps, &host, &ban) == 0 && live(&ban, now_ns))
		return REASON_DROP_BAN;
	if (cidr_banned(maps->ban_cidr, &host, now_ns))
		return REASON_DROP_CIDR;
	return REASON_PASS;
}

void verdict_explain(const struct maps *maps, const struct addr_key *addr,
		     struct verdict_explanation *out)
{
	struct lpm_key host;

	cidr_from_addr_key(&host, addr);
	out->kernel_country = geo_index_country(maps, &host);
	out->reason = verdict_of_bans(maps, addr);
	if (out->reason == REASON_PASS && country_blocked(maps, out->kernel_country))
		out->reason = REASON_DROP_GEO;
}
