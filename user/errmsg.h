/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Functions that can fail for a reason the caller cannot guess take a
 * `char why[ERRMSG_LEN]` and fill it with one line naming the bad value and
 * the cause; the command at the edge prints it once.
 */
#ifndef XDPBAN_ERRMSG_H
#define XDPBAN_ERRMSG_H

#include <stdio.h>

#define ERRMSG_LEN 320

#define errmsg(why, ...) snprintf((why), ERRMSG_LEN, __VA_ARGS__)

#endif
