// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "daemon/daemon-internal.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <inttypes.h>
#include <unistd.h>

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

uint64_t source_lines(const struct source *source)
{
	return source->conf.journal ? source->journal.entries : source->tail.lines;
}

/*
 * One line (or journal entry: ident and pid from it) through the source's
 * parser, and what the silence watch makes of it.
 */
static void take_line(struct daemon *d, struct source *source, const char *ident, unsigned int pid,
		      const char *line, size_t len)
{
	struct log_record record;
	char result[ERRMSG_LEN];
	bool found = parser_line_as(source->parser, ident, pid, line, len, &record) == 1;
	bool looks = !found && source->conf.silence_warning &&
		     parser_looks_like_auth(source->parser, ident, line, len);

	switch (silence_line(&source->silence, looks, found, clock_now_ns())) {
	case SILENCE_BEGAN:
		log_say(LOG_LEVEL_WARNING,
			"source %s: %" PRIu64 " lines that look like authentication lines came "
			"in %" PRIu64 " s and the parsers recognised none: has the log format "
			"changed? (xdpban logtest shows what they see)",
			source->conf.name, source->silence.lines,
			(clock_now_ns() - source->silence.since_ns) / 1000000000u);
		break;
	case SILENCE_ENDED:
		log_say(LOG_LEVEL_INFO, "source %s: authentication outcomes recognised again",
			source->conf.name);
		break;
	case SILENCE_NO_NEWS:
		break;
	}
	if (!found || (record.rejected && !source->conf.count_rejected))
		return;
	source->events++;
	if (!absorb_echo(d, &record))
		decide_event(d, &record.event, source->conf.name, result);
}

static void on_line(void *ctx, const char *line, size_t len)
{
	struct line_context *lc = ctx;

	take_line(lc->daemon, lc->source, NULL, 0, line, len);
}

#define SOURCE_WARNING_PERIOD_S 60 /* a refused file, a skipped jump: said at most this often */

/* One slice of a file source; true when more is waiting. */
static bool poll_source(struct daemon *d, struct source *source)
{
	struct line_context ctx = { d, source };
	char why[ERRMSG_LEN];
	int more = logtail_poll(&source->tail, on_line, &ctx, why);

	/* A refused file is said once by logtail; a jump or a read error may repeat. */
	if (more == -EPERM)
		log_say(LOG_LEVEL_WARNING, "source %s: %s", source->conf.name, why);
	else if (more < 0)
		log_limited(&source->warning, SOURCE_WARNING_PERIOD_S, LOG_LEVEL_WARNING,
			    "source %s: %s", source->conf.name, why);
	return more > 0;
}

/* ---- journal sources ---- */

/* The rules' longest window: older entries cannot make a rule fire. */
static uint64_t window_usec(const struct daemon *d)
{
	uint64_t window = d->rules_cfg.ip_window > d->rules_cfg.account_window
			      ? d->rules_cfg.ip_window
			      : d->rules_cfg.account_window;

	return window * 1000000u;
}

static void on_entry(void *ctx, const struct journal_entry *entry)
{
	struct source *source = ctx;

	take_line(source->daemon, source, entry->ident, entry->pid, entry->message, entry->len);
}

static void save_cursor(struct daemon *d, struct source *source)
{
	if (!d->queue || !source->journal.cursor[0])
		return;
	store_queue_journal_cursor(d->queue, source->conf.name, source->journal.cursor,
				   clock_wall_s());
}

/* One slice of a journal source; true when more is waiting. */
static bool poll_journal(struct daemon *d, struct source *source)
{
	uint64_t before = source->journal.entries;
	char why[ERRMSG_LEN];
	int more;

	/* an entry written (or flushed) long ago is no fresh failure */
	source->journal.not_before_usec = (uint64_t)clock_wall_us() - window_usec(d);
	more = journal_poll(&source->journal, on_entry, source, why);
	if (more < 0)
		log_limited(&source->warning, SOURCE_WARNING_PERIOD_S, LOG_LEVEL_WARNING,
			    "source %s: %s", source->conf.name, why);
	if (source->journal.entries != before)
		save_cursor(d, source);
	return more > 0;
}

/*
 * A source with more waiting than a slice is read again next loop turn:
 * the policy endpoint and the control socket are served in between.
 */
static void read_more_later(struct daemon *d, bool more)
{
	if (more && eventfd_write(d->sources_more_fd, 1))
		log_say(LOG_LEVEL_WARNING, "log sources: cannot schedule the next slice: %s",
			strerror(errno));
}

static void on_journal(void *ctx, uint32_t events)
{
	struct source *source = ctx;

	(void)events;
	read_more_later(source->daemon, poll_journal(source->daemon, source));
}

/* journal_matches split into the list journal_open takes; NULL: the defaults. */
static const char *const *match_list(struct source *source)
{
	size_t n = 0;
	char *save = NULL;

	if (!source->conf.journal_matches[0])
		return NULL;
	snprintf(source->matches, sizeof(source->matches), "%s", source->conf.journal_matches);
	for (char *m = strtok_r(source->matches, " ", &save); m && n < JOURNAL_MATCHES_MAX;
	     m = strtok_r(NULL, " ", &save))
		source->match_list[n++] = m;
	source->match_list[n] = NULL;
	return source->match_list;
}

static int open_journal(struct daemon *d, struct source *source, char why[ERRMSG_LEN])
{
	char cursor[JOURNAL_CURSOR_LEN] = "", failure[ERRMSG_LEN];
	struct journal_open_args args = {
		.path = source->conf.journal_path[0] ? source->conf.journal_path : NULL,
		.matches = match_list(source),
		.cursor = cursor,
		.from_start = source->conf.from_start,
		.not_before_usec = (uint64_t)clock_wall_us() - window_usec(d),
	};
	int err;

	if (d->store) {
		err = store_journal_cursor(d->store, source->conf.name, cursor, sizeof(cursor),
					   failure);
		if (err && err != -ENOENT)
			log_say(LOG_LEVEL_WARNING, "source %s: %s (reading from the end)",
				source->conf.name, failure);
	}
	err = journal_open(&source->journal, &args, why);
	if (err)
		return err;
	source->journal_fd = journal_fd(&source->journal, why);
	if (source->journal_fd < 0) {
		err = source->journal_fd;
		journal_close(&source->journal);
		return err;
	}
	err = loop_watch(&d->loop, source->journal_fd, EPOLLIN, on_journal, source,
			 "journal source", why);
	if (err) {
		journal_close(&source->journal);
		source->journal_fd = -1;
	}
	return err;
}

static void close_journal(struct daemon *d, struct source *source)
{
	if (source->journal_fd < 0)
		return;
	save_cursor(d, source);
	loop_unwatch(&d->loop, source->journal_fd);
	journal_close(&source->journal);
	source->journal_fd = -1;
}

/* One slice of each source; the next slices the next loop turn. */
static void poll_sources(struct daemon *d)
{
	bool more = false;

	for (size_t i = 0; i < d->source_count; i++) {
		if (d->sources[i].conf.journal)
			more |= poll_journal(d, &d->sources[i]);
		else
			more |= poll_source(d, &d->sources[i]);
	}
	read_more_later(d, more);
}

/*
 * Whoever sees that a log may have grown (inotify, the tick) asks for a
 * slice through the eventfd, never reads itself: one slice per source per
 * loop turn, however many of them noticed.
 */
void sources_poll(struct daemon *d)
{
	read_more_later(d, true);
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
	source->daemon = d;
	source->journal_fd = -1;
	source->tail.fd = -1;
	silence_init(&source->silence, conf->silence_warning, conf->silence_lines);
	source->parser = parser_new(conf->type);
	if (!source->parser) {
		errmsg(why, "out of memory");
		return -ENOMEM;
	}
	if (conf->journal) {
		err = open_journal(d, source, why);
	} else {
		err = logtail_open(&source->tail, conf->path, conf->from_start, why);
		if (!err)
			err = watch_directory(d, conf->path, why);
		if (err)
			logtail_close(&source->tail);
	}
	if (err)
		parser_free(source->parser);
	return err;
}

void sources_close(struct daemon *d)
{
	for (size_t i = 0; i < d->source_count; i++) {
		if (d->sources[i].conf.journal)
			close_journal(d, &d->sources[i]);
		else
			logtail_close(&d->sources[i].tail);
		parser_free(d->sources[i].parser);
	}
	free(d->sources);
	d->sources = NULL;
	d->source_count = 0;
}

/*
 * The default source follows /var/log/mail.log; a fresh Debian 12 or 13
 * has none (everything goes to the journal): then it follows the journal.
 */
static void default_to_journal(struct conf_source *conf)
{
	if (conf->line != 0 || conf->journal || access(conf->path, F_OK) == 0)
		return;
	log_say(LOG_LEVEL_INFO,
		"%s does not exist: the default source follows the systemd "
		"journal instead",
		conf->path);
	conf->journal = true;
}

static void say_following(const struct source *source)
{
	const struct conf_source *conf = &source->conf;

	if (!conf->journal) {
		log_say(LOG_LEVEL_INFO, "following %s (%s, source %s)", conf->path,
			parser_source_name(conf->type), conf->name);
		return;
	}
	log_say(LOG_LEVEL_INFO, "following the journal%s%s (%s, source %s%s)",
		conf->journal_path[0] ? " in " : "", conf->journal_path,
		conf->journal_matches[0] ? conf->journal_matches : "the parsers' programs",
		conf->name, source->journal.cursor[0] ? ", resuming after its saved cursor" : "");
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
		struct conf_source source_conf = conf->sources[i];
		int err;

		if (!source_conf.enabled)
			continue;
		default_to_journal(&source_conf);
		err = open_source(d, &source_conf, &d->sources[d->source_count], why);
		if (err) {
			sources_close(d);
			return err;
		}
		say_following(&d->sources[d->source_count]);
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

static void on_more(void *ctx, uint32_t events)
{
	struct daemon *d = ctx;
	eventfd_t ignored;

	(void)events;
	eventfd_read(d->sources_more_fd, &ignored);
	poll_sources(d);
}

/*
 * The inotify descriptor every source's directory is watched through, and
 * the eventfd that brings the next slice, in the loop.
 */
int sources_watch(struct daemon *d, char why[ERRMSG_LEN])
{
	int err;

	d->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	d->sources_more_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->inotify_fd < 0 || d->sources_more_fd < 0) {
		err = -errno;
		errmsg(why, "cannot set up the event loop: %s", strerror(errno));
		return err;
	}
	err = loop_watch(&d->loop, d->sources_more_fd, EPOLLIN, on_more, d, "log slices", why);
	if (!err)
		err =
		    loop_watch(&d->loop, d->inotify_fd, EPOLLIN, on_inotify, d, "log sources", why);
	return err;
}
