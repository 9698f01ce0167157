// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The rules' pending failures in STATE_DIR/rules.state, so that a restart
 * does not give an attacker fresh counts: written whole (lib/file_swap.h)
 * every [daemon] snapshot_interval and at a clean stop, read back at start.
 */
#include "daemon/daemon-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/file_swap.h"

#define SNAPSHOT_FILE	  "rules.state"
#define SNAPSHOT_BUFFER	  (256 * 1024)
#define SNAPSHOT_MAX_SIZE (1ULL << 32) /* far above what the largest tables save */

static int snapshot_path(const struct daemon *d, char path[PATH_MAX], char why[ERRMSG_LEN])
{
	if (snprintf(path, PATH_MAX, "%s/%s", d->conf->daemon.state_dir, SNAPSHOT_FILE) >=
	    PATH_MAX) {
		errmsg(why, "%s/%s: path too long", d->conf->daemon.state_dir, SNAPSHOT_FILE);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* Entries of 100 bytes or so, gathered into large writes. */
struct snapshot_writer {
	struct file_swap swap;
	unsigned char *buf;
	size_t used;
};

static void writer_flush(struct snapshot_writer *w)
{
	file_swap_write(&w->swap, w->buf, w->used);
	w->used = 0;
}

static void writer_sink(void *ctx, const void *data, size_t len)
{
	struct snapshot_writer *w = ctx;

	if (w->used + len > SNAPSHOT_BUFFER)
		writer_flush(w);
	if (len > SNAPSHOT_BUFFER) {
		file_swap_write(&w->swap, data, len);
		return;
	}
	memcpy(w->buf + w->used, data, len);
	w->used += len;
}

static int snapshot_write(struct daemon *d, const char *path, struct rules_state_counts *counts,
			  char why[ERRMSG_LEN])
{
	struct snapshot_writer w = { .used = 0 };
	int err;

	w.buf = malloc(SNAPSHOT_BUFFER);
	if (!w.buf) {
		errmsg(why, "cannot save %s: out of memory", path);
		return -ENOMEM;
	}
	err = file_swap_begin(&w.swap, path, 0600, why);
	if (!err) {
		rules_save_state(d->rules, clock_now_ns(), clock_wall_us(), writer_sink, &w,
				 counts);
		writer_flush(&w);
		err = file_swap_end(&w.swap, why);
	}
	free(w.buf);
	return err;
}

void snapshot_save(struct daemon *d)
{
	struct rules_state_counts counts;
	char path[PATH_MAX], why[ERRMSG_LEN];
	int err = snapshot_path(d, path, why);

	if (!err)
		err = snapshot_write(d, path, &counts, why);
	if (err) {
		/* Once until it works again: a full disk must not fill the log as well. */
		if (!d->snapshot_failing)
			log_say(LOG_LEVEL_WARNING,
				"%s; a restart now forgets the failures counted since the last "
				"snapshot",
				why);
		d->snapshot_failing = true;
		return;
	}
	if (d->snapshot_failing)
		log_say(LOG_LEVEL_INFO, "saved %s again", path);
	d->snapshot_failing = false;
	log_say(LOG_LEVEL_DEBUG, "saved the pending failures of %llu addresses and %llu accounts",
		(unsigned long long)counts.ips, (unsigned long long)counts.accounts);
}

/* The whole file at path into *data; a link, or anything but a regular file, refused. */
static int snapshot_read(const char *path, unsigned char **data, size_t *len, char why[ERRMSG_LEN])
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), err = 0;
	struct stat st;
	size_t done = 0;

	if (fd < 0) {
		err = -errno;
		if (err != -ENOENT)
			errmsg(why, "cannot open %s: %s", path, strerror(errno));
		return err;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > SNAPSHOT_MAX_SIZE) {
		errmsg(why, "%s: not a regular file of a sane size", path);
		close(fd);
		return -EINVAL;
	}
	*len = (size_t)st.st_size;
	*data = malloc(*len ? *len : 1);
	if (!*data) {
		errmsg(why, "cannot read %s: out of memory", path);
		close(fd);
		return -ENOMEM;
	}
	while (!err && done < *len) {
		ssize_t got = read(fd, *data + done, *len - done);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			err = got < 0 ? -errno : -EIO;
			errmsg(why, "cannot read %s: %s", path,
			       got < 0 ? strerror(errno) : "cut short");
		}
		done += got > 0 ? (size_t)got : 0;
	}
	close(fd);
	if (err)
		free(*data);
	return err;
}

/* A file read from its start at every start replays its failures: they must not count twice. */
static const char *replayed_source(const struct daemon *d)
{
	for (size_t i = 0; i < d->conf->source_count; i++) {
		const struct conf_source *src = &d->conf->sources[i];

		if (src->enabled && src->from_start && !src->journal)
			return src->name;
	}
	return NULL;
}

/* Temporary files of saves a kill -9 cut short (file_swap's PATH.XXXXXX): up to 30 MB each. */
static void remove_leftovers(const char *path)
{
	char pattern[PATH_MAX + 8];
	glob_t found;

	snprintf(pattern, sizeof(pattern), "%s.??????", path);
	if (glob(pattern, GLOB_NOSORT, NULL, &found))
		return;
	for (size_t i = 0; i < found.gl_pathc; i++) {
		if (unlink(found.gl_pathv[i]) == 0)
			log_say(LOG_LEVEL_INFO, "removed %s, left by a save cut short",
				found.gl_pathv[i]);
	}
	globfree(&found);
}

void snapshot_restore(struct daemon *d)
{
	struct rules_state_counts counts;
	char path[PATH_MAX], why[ERRMSG_LEN];
	const char *replayed = replayed_source(d);
	unsigned char *data = NULL;
	size_t len = 0;
	int err = snapshot_path(d, path, why);

	if (replayed) {
		log_say(LOG_LEVEL_INFO,
			"not restoring %s: source %s is read from its start (from_start), which "
			"counts its failures again",
			path, replayed);
		return;
	}
	if (!err) {
		remove_leftovers(path);
		err = snapshot_read(path, &data, &len, why);
	}
	if (err == -ENOENT)
		return; /* the first start */
	if (err) {
		log_say(LOG_LEVEL_WARNING, "%s; the rules start from nothing", why);
		return;
	}
	err =
	    rules_restore_state(d->rules, data, len, clock_now_ns(), clock_wall_us(), &counts, why);
	free(data);
	if (err == -ESTALE)
		log_say(LOG_LEVEL_INFO, "%s: %s; the rules start from nothing", path, why);
	else if (err)
		log_say(LOG_LEVEL_WARNING, "%s: %s; the rules start from nothing", path, why);
	else
		log_say(LOG_LEVEL_INFO,
			"restored the pending failures of %llu addresses and %llu accounts from %s",
			(unsigned long long)counts.ips, (unsigned long long)counts.accounts, path);
}

static void on_snapshot_tick(void *ctx, uint32_t events)
{
	struct daemon *d = ctx;
	uint64_t now_ns = clock_now_ns();

	(void)events;
	if (now_ns - d->last_snapshot_ns < d->conf->daemon.snapshot_interval * NSEC_PER_SEC)
		return;
	snapshot_save(d);
	d->last_snapshot_ns = now_ns;
}

/* Checked every second, so that a reload's new snapshot_interval applies at once. */
int snapshot_open(struct daemon *d, char why[ERRMSG_LEN])
{
	d->last_snapshot_ns = clock_now_ns();
	return loop_every(&d->loop, 1, on_snapshot_tick, d, "the rules' snapshot", why);
}
