/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Bulk ban lists: one "ADDR[/LEN] [DURATION]" per line; blank lines and
 * '#' comments are skipped. A line without a duration gets the default.
 */
#ifndef XDPBAN_BANFILE_H
#define XDPBAN_BANFILE_H

#include <stdio.h>
#include "bans/bans.h"

/*
 * Reads the whole list; on any bad line returns -EINVAL with "NAME:LINE:
 * reason" in why and no requests, so a bad file applies nothing.
 * The caller frees *requests.
 */
int banfile_read(FILE *file, const char *name, bool default_permanent, uint64_t default_seconds,
		 struct ban_request **requests, size_t *count, char why[ERRMSG_LEN]);

#endif
