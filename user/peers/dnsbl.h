/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * DNSBL lookups for the policy endpoint's allow checks ([dnsbl] zones), with
 * c-ares inside the daemon's epoll loop: nothing ever waits for DNS.
 *
 * Cache first: dnsbl_check() answers from a bounded cache of recent answers
 * (listed: for the answer's TTL; not listed: NEGATIVE_TTL; a zone that did
 * not answer: ERROR_TTL) and, when the address is not in it, starts one
 * lookup per zone and answers "not listed" at once. When a zone lists the
 * address (an A record in 127.0.0.0/8), the listed hook is called (the
 * daemon bans it), so the attempt's later checks (Dovecot asks again after
 * the password check) and every later attempt are refused, and its SYNs
 * are dropped by the XDP program. A login is never delayed by a lookup.
 */
#ifndef XDPBAN_DNSBL_H
#define XDPBAN_DNSBL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "conf/conf.h"
#include "lib/errmsg.h"
#include "lib/loop.h"
#include "xdpban_maps.h"

#define DNSBL_MAX_ZONES	     8
#define DNSBL_NAME_LEN	     256
#define DNSBL_CACHE_SLOTS    65536 /* direct-mapped, by a keyed hash of the address */
#define DNSBL_MAX_IN_FLIGHT  1024  /* addresses being looked up; more are not looked up */
#define DNSBL_NEGATIVE_TTL_S 300
#define DNSBL_ERROR_TTL_S    30

struct dnsbl_hooks {
	void *ctx;
	/* ip is listed in zone for ttl seconds. */
	void (*listed)(void *ctx, const struct addr_key *ip, const char *zone, uint32_t ttl);
};

struct dnsbl_counters {
	uint64_t lookups, listed, not_listed, errors, cache_hits, skipped;
};

/* Its events watched in loop; NULL with why on error. conf->zones must not be empty. */
struct dnsbl *dnsbl_open(const struct conf_dnsbl *conf, struct loop *loop,
			 const struct dnsbl_hooks *hooks, char why[ERRMSG_LEN]);
void dnsbl_close(struct dnsbl *dnsbl);

/* True when the cache says ip is listed; otherwise starts its lookup unless one is known. */
bool dnsbl_check(struct dnsbl *dnsbl, const struct addr_key *ip);

void dnsbl_get_counters(const struct dnsbl *dnsbl, struct dnsbl_counters *counters);

/* "4.3.2.1.ZONE" (IPv4) or the 32 reversed nibbles then ".ZONE" (IPv6); false if too long. */
bool dnsbl_query_name(const struct addr_key *ip, const char *zone, char name[DNSBL_NAME_LEN]);

#endif
