/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The daemon's event loop: one epoll set that knows nothing of what it
 * watches. Each subsystem registers its descriptor with a handler (kept in
 * epoll_event.data.ptr, as redis' aeCreateFileEvent and systemd's
 * sd_event_add_io do), its periodic work as a timer, and, for libraries
 * with their own timeouts (libmicrohttpd), a function saying how long the
 * loop may sleep: when the wait ends without an event, its handler is
 * called with no events.
 */
#ifndef XDPBAN_LOOP_H
#define XDPBAN_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include "lib/errmsg.h"

/* events: what epoll reported (EPOLLIN...); 0 when the watch's timeout passed. */
typedef void (*loop_handler)(void *ctx, uint32_t events);

/* Milliseconds the loop may sleep for this watch; -1: no limit. */
typedef int (*loop_timeout_fn)(void *ctx);

struct loop_watch;

struct loop {
	int epoll_fd;
	bool stopping;
	struct loop_watch *watches; /* live ones */
	struct loop_watch *retired; /* unwatched while a batch may still name them */
};

/* 0, or -errno with why. */
int loop_open(struct loop *loop, char why[ERRMSG_LEN]);

/* Unwatches everything (closing the timers it made), then the set. */
void loop_close(struct loop *loop);

/* fn(ctx, events) whenever fd is ready for events; 0, or -errno with why (naming fd's owner). */
int loop_watch(struct loop *loop, int fd, uint32_t events, loop_handler fn, void *ctx,
	       const char *owner, char why[ERRMSG_LEN]);

/* Same, and fn(ctx, 0) when the wait ends by timeout(ctx) without any event. */
int loop_watch_timeout(struct loop *loop, int fd, uint32_t events, loop_handler fn,
		       loop_timeout_fn timeout, void *ctx, const char *owner, char why[ERRMSG_LEN]);

/* Takes fd out of the set before its owner closes it; a fd not watched is ignored. */
void loop_unwatch(struct loop *loop, int fd);

/* fn(ctx, EPOLLIN) every seconds (a timerfd the loop owns and reads); 0, or -errno with why. */
int loop_every(struct loop *loop, unsigned int seconds, loop_handler fn, void *ctx,
	       const char *owner, char why[ERRMSG_LEN]);

/* Waits and dispatches until a handler calls loop_stop. */
void loop_run(struct loop *loop);

/* From a handler: the loop returns once the handlers of this batch have run. */
void loop_stop(struct loop *loop);

/* Reads fd until it has nothing more (inotify, timerfd): a handler's first step. */
void loop_drain(int fd);

#endif
