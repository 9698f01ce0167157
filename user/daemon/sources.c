// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "daemon/daemon-internal.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>

/* ---- log sources ---- */

struct line_context {
	struct daemon *daemon;
	struct source *source;
};

/*
 * Whether a log failure was already reported through the policy endpoint
 * (echo_filter.h); a line summing more attempts than that counts the rest.
 */
static bool absorb_echo(struct daemon *d, struct log_record *record)
{
	struct auth_event *event = &record->event;
	unsigned int seen;

	if (event->outcome != AUTH_FAIL ||
	    (record->source != LOG_SOURCE_DOVECOT && record->source != LOG_SOURCE_POSTFIX))
		return false;
	seen = echo_filter_from_log(d->echo, &event->ip, event->attempts, clock_now_ns());
	d->counters.log_echoes += seen;
	event->attempts -= seen;
	return event->attempts == 0;
}

static void on_line(void *ctx, const char *line, size_t len)
{
	struct line_context *lc = ctx;
	struct log_record record;
	char result[ERRMSG_LEN];

	if (parser_line(lc->source->parser, line, len, &record) != 1)
		return;
	lc->source->events++;
	if (!absorb_echo(lc->daemon, &record))
		decide_event(lc->daemon, &record.event, lc->source->conf.name, result);
}

static void poll_source(struct daemon *d, struct source *source)
{
	struct line_context ctx = { d, source };
	char why[ERRMSG_LEN];

	if (logtail_poll(&source->tail, on_line, &ctx, why))
		log_say(LOG_LEVEL_WARNING, "%s", why);
}

void sources_poll(struct daemon *d)
{
	for (size_t i = 0; i < d->source_count; i++)
		poll_source(d, &d->sources[i]);
}

/* Watches the file's directory: that sees appends, renames and re-creations alike. */
static int watch_directory(struct daemon *d, const char *path, char why[ERRMSG_LEN])
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	if (inotify_add_watch(d->inotify_fd, dirname(dir),
			      IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
				  IN_CLOSE_WRITE) < 0) {
		int err = -errno;

		errmsg(why, "cannot watch the directory of %s: %s", path, strerror(errno));
		return err;
	}
	return 0;
}

static int open_source(struct daemon *d, const struct conf_source *conf, struct source *source,
		       char why[ERRMSG_LEN])
{
	int err;

	memset(source, 0, sizeof(*source));
	source->conf = *conf;
	source->parser = parser_new(conf->type);
	if (!source->parser) {
		errmsg(why, "out of memory");
		return -ENOMEM;
	}
	err = logtail_open(&source->tail, conf->path, conf->from_start, why);
	if (!err)
		err = watch_directory(d, conf->path, why);
	if (err) {
		logtail_close(&source->tail);
		parser_free(source->parser);
	}
	return err;
}

void sources_close(struct daemon *d)
{
	for (size_t i = 0; i < d->source_count; i++) {
		logtail_close(&d->sources[i].tail);
		parser_free(d->sources[i].parser);
	}
	free(d->sources);
	d->sources = NULL;
	d->source_count = 0;
}

int sources_open(struct daemon *d, char why[ERRMSG_LEN])
{
	const struct xdpban_conf *conf = d->conf;

	d->sources = calloc(conf->source_count + 1, sizeof(*d->sources));
	if (!d->sources) {
		errmsg(why, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < conf->source_count; i++) {
		int err;

		if (!conf->sources[i].enabled)
			continue;
		err = open_source(d, &conf->sources[i], &d->sources[d->source_count], why);
		if (err) {
			sources_close(d);
			return err;
		}
		log_say(LOG_LEVEL_INFO, "following %s (%s, source %s)", conf->sources[i].path,
			parser_source_name(conf->sources[i].type), conf->sources[i].name);
		d->source_count++;
	}
	return 0;
}

static void on_inotify(void *ctx, uint32_t events)
{
	struct daemon *d = ctx;

	(void)events;
	loop_drain(d->inotify_fd);
	sources_poll(d);
}

/* The inotify descriptor every source's directory is watched through, in the loop. */
int sources_watch(struct daemon *d, char why[ERRMSG_LEN])
{
	d->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (d->inotify_fd < 0) {
		int err = -errno;

		errmsg(why, "cannot set up the event loop: %s", strerror(errno));
		return err;
	}
	return loop_watch(&d->loop, d->inotify_fd, EPOLLIN, on_inotify, d, "log sources", why);
}
