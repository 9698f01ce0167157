/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Addresses and CIDR prefixes in the map ABI's 128-bit form. */
#ifndef XDPBAN_ADDR_H
#define XDPBAN_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/errmsg.h"
#include "xdpban_maps.h"

/* Long enough for "ffff:...:ffff/128" and "255.255.255.255/32". */
#define CIDR_TEXT_LEN 64

/*
 * Parses "ADDR" or "ADDR/LEN", IPv4 or IPv6. A bare address is a full-length
 * prefix. Rejects set host bits (a typo there bans the wrong range) and IPv6
 * prefixes that would also cover every IPv4 address (::ffff:0:0/96).
 * On error returns -EINVAL and writes the reason to why.
 */
int cidr_parse(const char *text, struct lpm_key *key, char why[ERRMSG_LEN]);

/* IPv4-mapped keys print as IPv4; full-length prefixes print without "/LEN". */
void cidr_format(const struct lpm_key *key, char buf[CIDR_TEXT_LEN]);

bool cidr_is_host(const struct lpm_key *key);
/* True when host (a full-length key) lies inside prefix. */
bool cidr_contains(const struct lpm_key *prefix, const struct lpm_key *host);
/* True when one of the count prefixes contains host. */
bool cidr_any_contains(const struct lpm_key *prefixes, size_t count, const struct lpm_key *host);
bool cidr_is_ipv4(const __u8 addr[ADDR_LEN]);
void cidr_to_addr_key(struct addr_key *addr, const struct lpm_key *key);
void cidr_from_addr_key(struct lpm_key *key, const struct addr_key *addr);

/* Orders keys by family, address, then prefix length (for stable listings). */
int cidr_compare(const struct lpm_key *a, const struct lpm_key *b);

/* Sorts keys and removes repeats; returns how many distinct keys are left. */
size_t cidr_sort_unique(struct lpm_key *keys, size_t count);

#endif
