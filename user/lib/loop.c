// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "lib/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define LOOP_BATCH 16

struct loop_watch {
	int fd;
	bool owns_fd; /* a timer made by loop_every: drained before fn, closed with the loop */
	loop_handler fn;
	loop_timeout_fn timeout;
	void *ctx;
	struct loop_watch *next;
};

int loop_open(struct loop *loop, char why[ERRMSG_LEN])
{
	memset(loop, 0, sizeof(*loop));
	loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epoll_fd < 0) {
		int err = -errno;

		errmsg(why, "cannot set up the event loop: %s", strerror(errno));
		return err;
	}
	return 0;
}

static void free_list(struct loop_watch *watch)
{
	while (watch) {
		struct loop_watch *next = watch->next;

		if (watch->owns_fd)
			close(watch->fd);
		free(watch);
		watch = next;
	}
}

void loop_close(struct loop *loop)
{
	free_list(loop->watches);
	free_list(loop->retired);
	loop->watches = loop->retired = NULL;
	if (loop->epoll_fd >= 0)
		close(loop->epoll_fd);
	loop->epoll_fd = -1;
}

static int add(struct loop *loop, struct loop_watch *watch, uint32_t events, const char *owner,
	       char why[ERRMSG_LEN])
{
	struct epoll_event ev = { .events = events, .data.ptr = watch };

	if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, watch->fd, &ev)) {
		int err = -errno;

		errmsg(why, "%s: cannot set up the event loop: %s", owner, strerror(errno));
		free(watch);
		return err;
	}
	watch->next = loop->watches;
	loop->watches = watch;
	return 0;
}

int loop_watch_timeout(struct loop *loop, int fd, uint32_t events, loop_handler fn,
		       loop_timeout_fn timeout, void *ctx, const char *owner, char why[ERRMSG_LEN])
{
	struct loop_watch *watch = calloc(1, sizeof(*watch));

	if (!watch) {
		errmsg(why, "%s: out of memory", owner);
		return -ENOMEM;
	}
	*watch = (struct loop_watch){ .fd = fd, .fn = fn, .timeout = timeout, .ctx = ctx };
	return add(loop, watch, events, owner, why);
}

int loop_watch(struct loop *loop, int fd, uint32_t events, loop_handler fn, void *ctx,
	       const char *owner, char why[ERRMSG_LEN])
{
	return loop_watch_timeout(loop, fd, events, fn, NULL, ctx, owner, why);
}

/*
 * Moved to the retired list, not freed: a handler earlier in the batch may
 * unwatch a descriptor whose event is still in it (a reload replacing an
 * HTTP server). A retired watch has no handler; the next batch frees it.
 */
void loop_unwatch(struct loop *loop, int fd)
{
	for (struct loop_watch **at = &loop->watches; *at; at = &(*at)->next) {
		struct loop_watch *watch = *at;

		if (watch->fd != fd)
			continue;
		epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
		*at = watch->next;
		watch->fn = NULL;
		watch->next = loop->retired;
		loop->retired = watch;
		return;
	}
}

int loop_every(struct loop *loop, unsigned int seconds, loop_handler fn, void *ctx,
	       const char *owner, char why[ERRMSG_LEN])
{
	struct itimerspec every = { { seconds, 0 }, { seconds, 0 } };
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	struct loop_watch *watch;
	int err;

	if (fd < 0 || timerfd_settime(fd, 0, &every, NULL)) {
		err = -errno;
		errmsg(why, "%s: cannot make a timer: %s", owner, strerror(errno));
		if (fd >= 0)
			close(fd);
		return err;
	}
	err = loop_watch(loop, fd, EPOLLIN, fn, ctx, owner, why);
	if (err) {
		close(fd);
		return err;
	}
	watch = loop->watches;
	watch->owns_fd = true;
	return 0;
}

void loop_drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* The sooner of the watches' timeouts; -1 (none) without them. */
static int sleep_ms(const struct loop *loop)
{
	int soonest = -1;

	for (const struct loop_watch *watch = loop->watches; watch; watch = watch->next) {
		int ms = watch->timeout ? watch->timeout(watch->ctx) : -1;

		if (ms >= 0 && (soonest < 0 || ms < soonest))
			soonest = ms;
	}
	return soonest;
}

/* The wait timed out: each watch with a timeout runs (they keep their own clocks). */
static void run_timeouts(struct loop *loop)
{
	struct loop_watch *next;

	for (struct loop_watch *watch = loop->watches; watch; watch = next) {
		next = watch->next;
		if (watch->fn && watch->timeout)
			watch->fn(watch->ctx, 0);
	}
}

void loop_run(struct loop *loop)
{
	struct epoll_event ready[LOOP_BATCH];

	loop->stopping = false;
	while (!loop->stopping) {
		int n = epoll_wait(loop->epoll_fd, ready, LOOP_BATCH, sleep_ms(loop));

		free_list(loop->retired);
		loop->retired = NULL;
		if (n == 0)
			run_timeouts(loop);
		for (int i = 0; i < n; i++) {
			struct loop_watch *watch = ready[i].data.ptr;

			if (!watch->fn)
				continue;
			if (watch->owns_fd) /* a timer: its expiries read, it fires once */
				loop_drain(watch->fd);
			watch->fn(watch->ctx, ready[i].events);
		}
	}
}

void loop_stop(struct loop *loop)
{
	loop->stopping = true;
}
