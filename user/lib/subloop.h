/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * An epoll set of its own with a one-shot timer in it, for a library's
 * sockets (hiredis, c-ares) nested in the daemon's event loop: the set is
 * watched in that loop (loop.h), whose handler, the owning module's, reads
 * the set's own events.
 */
#ifndef XDPBAN_SUBLOOP_H
#define XDPBAN_SUBLOOP_H

#include <stdbool.h>
#include <stdint.h>
#include "lib/errmsg.h"
#include "lib/loop.h"

struct subloop {
	int epoll_fd, timer_fd;
	struct loop *parent; /* NULL: not watched */
};

/*
 * 0, or -errno with why (naming owner): the set, with the timer's events
 * carrying timer_data, watched in parent (may be NULL) with on_ready(ctx).
 */
int subloop_open(struct subloop *loop, struct loop *parent, uint64_t timer_data,
		 loop_handler on_ready, void *ctx, const char *owner, char why[ERRMSG_LEN]);

/* Fires once after ns nanoseconds; 0 disarms. */
void subloop_arm(const struct subloop *loop, uint64_t ns);

/* Consumes the timer's expiry; false when it had not fired. */
bool subloop_timer_fired(const struct subloop *loop);

/* Out of parent, then closed. */
void subloop_close(struct subloop *loop);

#endif
