/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Functions that can fail for a reason the caller cannot guess take a
 * `char why[ERRMSG_LEN]` and fill it with one line naming the bad value and
 * the cause; the command at the edge prints it once.
 */
#ifndef XDPBAN_ERRMSG_H
#define XDPBAN_ERRMSG_H

#define ERRMSG_LEN 320

/*
 * Formats the reason into why. A reason longer than the buffer (a path
 * near PATH_MAX, say) is cut and ends in "...", so a reader sees it was cut.
 */
__attribute__((format(printf, 2, 3))) void errmsg(char why[ERRMSG_LEN], const char *fmt, ...);

#endif
