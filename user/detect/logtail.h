/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Following a log file the way `tail -F` does, without losing or repeating
 * a line across rotations:
 *   - by rename (logrotate's default): the old file is read to its end, then
 *     the new file at the path is read from its start;
 *   - by copytruncate: a file that shrank below what was read is read again
 *     from its start.
 * The caller decides when to look (inotify on the directory, and a timer as
 * a safety net) and calls logtail_poll(); this file does no waiting itself.
 */
#ifndef XDPBAN_LOGTAIL_H
#define XDPBAN_LOGTAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "lib/errmsg.h"

#define LOGTAIL_LINE_MAX 8192 /* longer lines are dropped (and counted) */

typedef void (*logtail_line_fn)(void *ctx, const char *line, size_t len);

struct logtail {
	char *path;
	int fd; /* -1 while the path does not exist */
	dev_t dev;
	ino_t ino;
	off_t offset;			/* bytes of the open file consumed so far */
	char partial[LOGTAIL_LINE_MAX]; /* a line still waiting for its newline */
	size_t partial_len;
	unsigned long lines;
	unsigned long dropped_lines; /* longer than LOGTAIL_LINE_MAX */
	bool overlong;		     /* the line being read is over LOGTAIL_LINE_MAX */
	unsigned long rotations;
	unsigned long truncations;
};

/*
 * Starts following path: at its end unless from_start. A path that does not
 * exist yet is followed from the start of the file once it appears.
 */
int logtail_open(struct logtail *tail, const char *path, bool from_start, char why[ERRMSG_LEN]);
void logtail_close(struct logtail *tail);

/* Reads everything new, calling fn once per complete line (without its newline). */
int logtail_poll(struct logtail *tail, logtail_line_fn fn, void *ctx, char why[ERRMSG_LEN]);

#endif
