/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * An epoll set of its own with a one-shot timer in it, for a library's
 * sockets (hiredis, c-ares) nested in the daemon's epoll loop: the daemon
 * watches epoll_fd and hands its events to the module that owns the set.
 */
#ifndef XDPBAN_SUBLOOP_H
#define XDPBAN_SUBLOOP_H

#include <stdbool.h>
#include <stdint.h>
#include "lib/errmsg.h"

struct subloop {
	int epoll_fd, timer_fd;
};

/* 0, or -errno with why (naming owner): the set, with the timer's events carrying timer_data. */
int subloop_open(struct subloop *loop, uint64_t timer_data, const char *owner,
		 char why[ERRMSG_LEN]);

/* Fires once after ns nanoseconds; 0 disarms. */
void subloop_arm(const struct subloop *loop, uint64_t ns);

/* Consumes the timer's expiry; false when it had not fired. */
bool subloop_timer_fired(const struct subloop *loop);

void subloop_close(struct subloop *loop);

#endif
