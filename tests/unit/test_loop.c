// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The event loop: handlers by registration, unwatching mid-batch, timers, timeouts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <cmocka.h>
#include "lib/loop.h"

struct pipe_watch {
	struct loop *loop;
	int fds[2];
	int calls;
	struct pipe_watch *victim; /* unwatched by this one's handler */
};

static void on_readable(void *ctx, uint32_t events)
{
	struct pipe_watch *w = ctx;
	char byte;

	assert_true(events & EPOLLIN);
	assert_int_equal(read(w->fds[0], &byte, 1), 1);
	w->calls++;
	if (w->victim)
		loop_unwatch(w->loop, w->victim->fds[0]);
	loop_stop(w->loop);
}

static void open_pipe(struct loop *loop, struct pipe_watch *w)
{
	char why[ERRMSG_LEN];

	w->loop = loop;
	assert_int_equal(pipe(w->fds), 0);
	assert_int_equal(loop_watch(loop, w->fds[0], EPOLLIN, on_readable, w, "test", why), 0);
}

static void close_pipe(const struct pipe_watch *w)
{
	close(w->fds[0]);
	close(w->fds[1]);
}

/* Each descriptor's handler gets its own context; one unwatched in the batch is not called. */
static void handlers_by_registration(void **state)
{
	struct pipe_watch a = { 0 }, b = { 0 };
	struct loop loop;
	char why[ERRMSG_LEN];

	(void)state;
	assert_int_equal(loop_open(&loop, why), 0);
	open_pipe(&loop, &a);
	open_pipe(&loop, &b);
	a.victim = &b;
	b.victim = &a;
	assert_int_equal(write(a.fds[1], "x", 1), 1);
	assert_int_equal(write(b.fds[1], "x", 1), 1);
	loop_run(&loop);
	assert_int_equal(a.calls + b.calls, 1); /* the first unwatched the second */
	loop_close(&loop);
	close_pipe(&a);
	close_pipe(&b);
}

static void count_and_stop(void *ctx, uint32_t events)
{
	struct loop *loop = ctx;

	(void)events;
	loop_stop(loop);
}

static void timer_fires(void **state)
{
	struct loop loop;
	char why[ERRMSG_LEN];

	(void)state;
	assert_int_equal(loop_open(&loop, why), 0);
	assert_int_equal(loop_every(&loop, 1, count_and_stop, &loop, "test", why), 0);
	loop_run(&loop); /* returns once the timer fired */
	loop_close(&loop);
}

struct timed {
	struct loop *loop;
	uint32_t events_seen;
	int calls;
};

static void on_timed(void *ctx, uint32_t events)
{
	struct timed *t = ctx;

	t->events_seen |= events;
	t->calls++;
	loop_stop(t->loop);
}

static int ten_ms(void *ctx)
{
	(void)ctx;
	return 10;
}

/* Nothing ready within the watch's timeout: its handler runs with no events. */
static void timeout_calls_handler(void **state)
{
	struct timed t = { 0 };
	struct loop loop;
	char why[ERRMSG_LEN];
	int fds[2];

	(void)state;
	assert_int_equal(loop_open(&loop, why), 0);
	t.loop = &loop;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(
	    loop_watch_timeout(&loop, fds[0], EPOLLIN, on_timed, ten_ms, &t, "test", why), 0);
	loop_run(&loop);
	assert_int_equal(t.calls, 1);
	assert_int_equal(t.events_seen, 0);
	loop_close(&loop);
	close(fds[0]);
	close(fds[1]);
}

/* A descriptor unwatched by its own handler can be watched again, with another handler. */
static void watch_again(void **state)
{
	struct pipe_watch w = { 0 };
	struct timed t = { 0 };
	struct loop loop;
	char why[ERRMSG_LEN];

	(void)state;
	assert_int_equal(loop_open(&loop, why), 0);
	open_pipe(&loop, &w);
	w.victim = &w;
	assert_int_equal(write(w.fds[1], "xx", 2), 2);
	loop_run(&loop);
	assert_int_equal(w.calls, 1);
	t.loop = &loop;
	assert_int_equal(loop_watch(&loop, w.fds[0], EPOLLIN, on_timed, &t, "test", why), 0);
	loop_run(&loop); /* the second byte, now for on_timed */
	assert_int_equal(t.calls, 1);
	assert_true(t.events_seen & EPOLLIN);
	assert_int_equal(w.calls, 1);
	loop_close(&loop);
	close_pipe(&w);
}

static void bad_descriptor_named(void **state)
{
	struct loop loop;
	char why[ERRMSG_LEN];

	(void)state;
	assert_int_equal(loop_open(&loop, why), 0);
	assert_true(loop_watch(&loop, -1, EPOLLIN, count_and_stop, &loop, "the test", why) < 0);
	assert_non_null(strstr(why, "the test: cannot set up the event loop"));
	loop_unwatch(&loop, 12345); /* not watched: ignored */
	loop_close(&loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(handlers_by_registration), cmocka_unit_test(timer_fires),
		cmocka_unit_test(timeout_calls_handler),    cmocka_unit_test(watch_again),
		cmocka_unit_test(bad_descriptor_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
