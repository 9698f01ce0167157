/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The Bloom filter in front of ban_addr (see the map ABI): setting and rebuilding its bits. */
#ifndef XDPBAN_BAN_FILTER_H
#define XDPBAN_BAN_FILTER_H

#include <stddef.h>
#include "lib/errmsg.h"
#include "kernel/pins.h"

/* Sets the bits of these addresses; call before their bans go into ban_addr. */
int ban_filter_add(int filter_fd, const struct addr_key *addrs, size_t count, char why[ERRMSG_LEN]);

/*
 * Recomputes the filter from the bans in ban_addr, clearing stale bits.
 * Hold the writer lock: a ban added meanwhile could lose its bit.
 */
int ban_filter_rebuild(const struct maps *maps, char why[ERRMSG_LEN]);

#endif
