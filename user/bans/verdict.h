/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the XDP program would decide for a SYN from one address, read from
 * the same maps in the same order, for operators asking "why is this
 * address dropped?" (xdpban geo lookup).
 */
#ifndef XDPBAN_VERDICT_H
#define XDPBAN_VERDICT_H

#include "kernel/pins.h"

struct verdict_explanation {
	enum verdict_reason reason; /* REASON_PASS, _PASS_ALLOW, _DROP_BAN, _DROP_CIDR, _DROP_GEO */
	int kernel_country;	    /* the country slot the kernel's geo maps give, or -1 */
};

/*
 * The allowlist and the bans alone (no country): REASON_PASS_ALLOW,
 * _DROP_BAN, _DROP_CIDR or _PASS. Three map lookups, for the policy
 * endpoint's every request.
 */
enum verdict_reason verdict_of_bans(const struct maps *maps, const struct addr_key *addr);

void verdict_explain(const struct maps *maps, const struct addr_key *addr,
		     struct verdict_explanation *out);

#endif
