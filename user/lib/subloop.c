// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "lib/subloop.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "lib/clock.h"

int subloop_open(struct subloop *loop, struct loop *parent, uint64_t timer_data,
		 loop_handler on_ready, void *ctx, const char *owner, char why[ERRMSG_LEN])
{
	struct epoll_event timer = { .events = EPOLLIN, .data.u64 = timer_data };
	int err;

	loop->parent = NULL;
	loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	loop->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (loop->epoll_fd < 0 || loop->timer_fd < 0 ||
	    epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, loop->timer_fd, &timer)) {
		err = -errno;
		errmsg(why, "%s: cannot set up its events: %s", owner, strerror(errno));
		subloop_close(loop);
		return err;
	}
	if (!parent)
		return 0;
	err = loop_watch(parent, loop->epoll_fd, EPOLLIN, on_ready, ctx, owner, why);
	if (err)
		subloop_close(loop);
	else
		loop->parent = parent;
	return err;
}

void subloop_arm(const struct subloop *loop, uint64_t ns)
{
	struct itimerspec when = { .it_value = { (time_t)(ns / NSEC_PER_SEC),
						 (long)(ns % NSEC_PER_SEC) } };

	timerfd_settime(loop->timer_fd, 0, &when, NULL);
}

bool subloop_timer_fired(const struct subloop *loop)
{
	uint64_t expirations;

	return read(loop->timer_fd, &expirations, sizeof(expirations)) == sizeof(expirations);
}

void subloop_close(struct subloop *loop)
{
	if (loop->parent)
		loop_unwatch(loop->parent, loop->epoll_fd);
	loop->parent = NULL;
	if (loop->timer_fd >= 0)
		close(loop->timer_fd);
	if (loop->epoll_fd >= 0)
		close(loop->epoll_fd);
	loop->timer_fd = loop->epoll_fd = -1;
}
