/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Small helpers every folder uses. */
#ifndef XDPBAN_UTIL_H
#define XDPBAN_UTIL_H

/* The number of elements of an array (not a pointer: that does not compile as one). */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
