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
 *
 * A log path is where an attacker may plant something, so what is opened
 * must look like a log (logtail_refusal says why not, once per file, and the
 * path is looked at again until a log is there):
 *   - the path's last component is not a symbolic link (O_NOFOLLOW; the
 *     directories on the way may be links: /var/log on another disk);
 *   - a regular file (not /dev/zero, a FIFO, a directory);
 *   - not a secret of a group: a file its group may read but others may not
 *     is a log only if that group is a log reader's (adm, systemd-journal),
 *     so /etc/shadow (root:shadow 0640) or a TLS key (root:ssl-cert 0640)
 *     is refused. Debian's logs are root:adm 0640 (rsyslog, exim4's
 *     Debian-exim:adm), world-readable, or their writer's own (0600).
 * And what is read is bounded: at most LOGTAIL_SLICE bytes a call (the
 * caller calls again while logtail_poll says there is more, serving its
 * other work in between), and a file with more than LOGTAIL_JUMP_MAX unread
 * (a 1 GiB append, a sparse 30 GB file; what was there when opened from
 * its start aside) is not log lines: it is skipped to its end, with a
 * warning.
 */
#ifndef XDPBAN_LOGTAIL_H
#define XDPBAN_LOGTAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "lib/errmsg.h"

#define LOGTAIL_LINE_MAX 8192 /* longer lines are dropped (and counted) */
#define LOGTAIL_SLICE	 8192 /* bytes read per logtail_poll call */
/*
 * Unread growth taken for log lines: 256 MiB is minutes of a busy mail
 * server's logging (2 MB/s), and 10 s of the parsers' reading (25 MB/s);
 * the daemon's own test appends 128 MB at once. More is a sparse file or a
 * flood of bytes, not log lines.
 */
#define LOGTAIL_JUMP_MAX (256LL << 20)

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
	off_t backlog_end;	    /* from_start: the file's size when opened, read whole */
	unsigned long jumps;	    /* growths over LOGTAIL_JUMP_MAX skipped */
	unsigned long long skipped; /* bytes skipped by them */
	unsigned long refusals;	    /* files refused (above) */
	bool refused;		    /* the path's file is refused: refused_dev, refused_ino */
	bool refusal_said;	    /* logtail_poll reported it */
	dev_t refused_dev;
	ino_t refused_ino;
	char refusal[ERRMSG_LEN]; /* why */
};

/*
 * Starts following path: at its end unless from_start. A path that does not
 * exist yet is followed from the start of the file once it appears.
 */
int logtail_open(struct logtail *tail, const char *path, bool from_start, char why[ERRMSG_LEN]);
void logtail_close(struct logtail *tail);

/*
 * Reads what is new, up to LOGTAIL_SLICE bytes, calling fn once per complete
 * line (without its newline). 0: all read; 1: more is waiting, call again
 * soon; -errno with why: a read failed, a file was refused (said once per
 * file), or a jump was skipped (-EFBIG).
 */
int logtail_poll(struct logtail *tail, logtail_line_fn fn, void *ctx, char why[ERRMSG_LEN]);

#endif
