/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Ban durations as operators type them, and the clock deadlines are kept in. */
#ifndef XDPBAN_DURATION_H
#define XDPBAN_DURATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/cidr.h"
#include "lib/clock.h"

#define DURATION_TEXT_LEN    32
#define DURATION_MAX_SECONDS (100ULL * 365 * 86400)

/*
 * Parses "300", "90s", "5m", "2h", "1d", "1w", combinations like "1h30m",
 * or "permanent" (returned as 0 seconds with *permanent set).
 * On error returns -EINVAL and writes the reason to why.
 */
int duration_parse(const char *text, uint64_t *seconds, bool *permanent, char why[ERRMSG_LEN]);

/* "1d2h", "4m59s", "0s": the two most significant units. */
void duration_format(uint64_t seconds, char buf[DURATION_TEXT_LEN]);

#endif
