/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The protected TCP port set, as the config map's bitmap. */
#ifndef XDPBAN_PORTSET_H
#define XDPBAN_PORTSET_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/cidr.h"

struct portset {
	bool all;
	__u64 bits[PORT_BITMAP_WORDS];
};

/*
 * Parses "all" or a list of ports and ranges separated by commas or spaces:
 * "25,110,143", "993 995", "1000-1010". Port 0 is not a port.
 * On error returns -EINVAL and writes the reason to why.
 */
int portset_parse(const char *text, struct portset *set, char why[ERRMSG_LEN]);
void portset_defaults(struct portset *set);
bool portset_has(const struct portset *set, unsigned int port);
size_t portset_count(const struct portset *set);
/* Writes "all", or the ports with consecutive runs as ranges ("25,110,1000-1010"). */
void portset_format(const struct portset *set, char *buf, size_t len);

#endif
