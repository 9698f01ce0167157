/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The live bans as an rbldnsd DNSBL: an ip4set dataset (IPv4 addresses and
 * CIDR ranges, from the IPv4-mapped entries of the maps) and an ip6trie
 * dataset (the rest), so that other servers and MTAs can query this
 * fleet's brute-force list. A listed address answers 127.0.0.2 with a TXT
 * record. Each file is replaced atomically (a temporary file in the same
 * directory, fsync, rename) and only when its content changes, so rbldnsd
 * (which reloads a file whose mtime changed) never reads half a file.
 */
#ifndef XDPBAN_ZONE_H
#define XDPBAN_ZONE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "bans/bans.h"
#include "lib/errmsg.h"

#define ZONE_LISTED_VALUE ":127.0.0.2:Brute-force logins from $ seen by xdpban"

struct zone_text {
	char *ip4, *ip6; /* NUL-terminated dataset texts; free with zone_text_free */
};

/*
 * The datasets for records: the bans still live at now_ns (permanent ones
 * included), in the records' order. -ENOMEM on failure.
 */
int zone_format(const struct ban_record *records, size_t count, uint64_t now_ns,
		struct zone_text *text);
void zone_text_free(struct zone_text *text);

/* Replaces path with content atomically; 0, or a negative errno with why. */
int zone_replace(const char *path, const char *content, char why[ERRMSG_LEN]);

/* A publisher: writes the datasets when they differ from what it wrote last. */
struct zone_publisher {
	const char *ip4_path, *ip6_path; /* "": that dataset is not written */
	char *ip4_written, *ip6_written; /* the contents last written; NULL: none yet */
};

/*
 * Reads the maps and rewrites the datasets that changed. Returns 1 when a
 * file was replaced, 0 when nothing changed, a negative errno with why.
 */
int zone_publish(struct zone_publisher *publisher, const struct maps *maps, char why[ERRMSG_LEN]);
void zone_publisher_free(struct zone_publisher *publisher);

#endif
