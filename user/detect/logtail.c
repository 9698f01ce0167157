// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "detect/logtail.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The groups whose members read logs on Debian: a file only they may read is a log. */
static bool is_log_group(gid_t gid)
{
	static const char *const names[] = { "adm", "systemd-journal" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct group *group = getgrnam(names[i]);

		if (group && group->gr_gid == gid)
			return true;
	}
	return false;
}

static void group_name(gid_t gid, char *out, size_t size)
{
	const struct group *group = getgrgid(gid);

	if (group)
		snprintf(out, size, "%s", group->gr_name);
	else
		snprintf(out, size, "%u", (unsigned int)gid);
}

/* 0 when st looks like a log (logtail.h), else why not in tail->refusal. */
static int check_file(struct logtail *tail, const struct stat *st)
{
	char group[64];

	if (!S_ISREG(st->st_mode)) {
		errmsg(tail->refusal, "log %s: not a regular file: refused until a log is there",
		       tail->path);
		return -EINVAL;
	}
	if ((st->st_mode & S_IRGRP) && !(st->st_mode & S_IROTH) && !is_log_group(st->st_gid)) {
		group_name(st->st_gid, group, sizeof(group));
		errmsg(tail->refusal,
		       "log %s: only its owner and group %s may read it, and %s is no log "
		       "reader's group: not a log, refused (a log is root:adm 0640)",
		       tail->path, group, group);
		return -EACCES;
	}
	return 0;
}

/* The path's file is refused: said once, until another file is there. */
static int refuse(struct logtail *tail)
{
	struct stat st;

	if (lstat(tail->path, &st))
		st = (struct stat){ 0 };
	if (!tail->refused || st.st_dev != tail->refused_dev || st.st_ino != tail->refused_ino) {
		tail->refusal_said = false;
		tail->refusals++;
	}
	tail->refused = true;
	tail->refused_dev = st.st_dev;
	tail->refused_ino = st.st_ino;
	return 0;
}

/* 0 with the file open, absent, or refused (tail->refused); -errno when it cannot be opened. */
static int open_current(struct logtail *tail, bool at_end, bool backlog)
{
	struct stat st;
	int fd = open(tail->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);

	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 && errno == ELOOP) {
		errmsg(tail->refusal,
		       "log %s: a symbolic link, refused (name the file itself; the directories on "
		       "the way may be links)",
		       tail->path);
		return refuse(tail);
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (check_file(tail, &st)) {
		close(fd);
		return refuse(tail);
	}
	tail->refused = false;
	tail->fd = fd;
	tail->dev = st.st_dev;
	tail->ino = st.st_ino;
	tail->offset = at_end ? st.st_size : 0;
	tail->backlog_end = backlog ? st.st_size : 0;
	tail->partial_len = 0;
	tail->overlong = false;
	return 0;
}

int logtail_open(struct logtail *tail, const char *path, bool from_start, char why[ERRMSG_LEN])
{
	int err;

	memset(tail, 0, sizeof(*tail));
	tail->fd = -1;
	tail->path = strdup(path);
	if (!tail->path) {
		errmsg(why, "out of memory");
		return -ENOMEM;
	}
	err = open_current(tail, !from_start, from_start);
	if (err) {
		errmsg(why, "cannot open log %s: %s", path, strerror(-err));
		logtail_close(tail);
	}
	return err;
}

void logtail_close(struct logtail *tail)
{
	if (tail->fd >= 0)
		close(tail->fd);
	tail->fd = -1;
	free(tail->path);
	tail->path = NULL;
}

static void emit(struct logtail *tail, const char *line, size_t len, logtail_line_fn fn, void *ctx)
{
	tail->lines++;
	fn(ctx, line, len);
}

/* Splits a chunk into lines, joining the partial line carried over. */
static void split_lines(struct logtail *tail, const char *buf, size_t len, logtail_line_fn fn,
			void *ctx)
{
	const char *end = buf + len;

	while (buf < end) {
		const char *newline = memchr(buf, '\n', (size_t)(end - buf));
		size_t piece = (size_t)((newline ? newline : end) - buf);
		size_t room = sizeof(tail->partial) - tail->partial_len;

		if (piece > room) {
			tail->overlong = true;
			piece = room;
		}
		memcpy(tail->partial + tail->partial_len, buf, piece);
		tail->partial_len += piece;
		if (!newline)
			return;
		/*
		 * An over-long line is dropped, not parsed cut: its cut end could
		 * look like a whole line with an address an attacker chose.
		 */
		if (tail->overlong)
			tail->dropped_lines++;
		else
			emit(tail, tail->partial, tail->partial_len, fn, ctx);
		tail->partial_len = 0;
		tail->overlong = false;
		buf = newline + 1;
	}
}

static void restart_line(struct logtail *tail)
{
	tail->partial_len = 0;
	tail->overlong = false;
}

/* More than LOGTAIL_JUMP_MAX unread past the backlog is skipped: -EFBIG with why. */
static int skip_jump(struct logtail *tail, off_t size, char why[ERRMSG_LEN])
{
	off_t from = tail->offset > tail->backlog_end ? tail->offset : tail->backlog_end;

	if (size - from <= LOGTAIL_JUMP_MAX)
		return 0;
	tail->jumps++;
	tail->skipped += (unsigned long long)(size - tail->offset);
	errmsg(why,
	       "log %s: %lld bytes unread, more than the %lld MiB log lines could be: skipped to "
	       "its end",
	       tail->path, (long long)(size - from), LOGTAIL_JUMP_MAX >> 20);
	tail->offset = size;
	tail->backlog_end = 0;
	restart_line(tail);
	return -EFBIG;
}

/* One slice of the open file from offset: 1 when more is waiting, 0 at its end, or -errno. */
static int read_slice(struct logtail *tail, logtail_line_fn fn, void *ctx, char why[ERRMSG_LEN])
{
	static char buf[LOGTAIL_SLICE];
	struct stat st;
	ssize_t got;
	int err;

	if (fstat(tail->fd, &st))
		return -errno;
	if (st.st_size < tail->offset) {
		tail->truncations++; /* copytruncate: start the file again */
		tail->offset = 0;
		tail->backlog_end = 0;
		restart_line(tail);
	}
	err = skip_jump(tail, st.st_size, why);
	if (err)
		return err;
	do
		got = pread(tail->fd, buf, sizeof(buf), tail->offset);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return -errno;
	tail->offset += got;
	split_lines(tail, buf, (size_t)got, fn, ctx);
	return got > 0 && tail->offset < st.st_size ? 1 : 0;
}

/* The file at the path is not the one open: it was rotated by rename, or appeared. */
static bool path_moved_on(const struct logtail *tail)
{
	struct stat st;

	if (lstat(tail->path, &st))
		return false; /* gone for now: keep reading the old file */
	return tail->fd < 0 || st.st_dev != tail->dev || st.st_ino != tail->ino;
}

static void switch_to_new_file(struct logtail *tail, logtail_line_fn fn, void *ctx)
{
	/* The old file is finished: its last line needs no newline to be whole. */
	if (tail->partial_len && !tail->overlong)
		emit(tail, tail->partial, tail->partial_len, fn, ctx);
	if (tail->fd >= 0) {
		close(tail->fd);
		tail->rotations++;
	}
	tail->fd = -1;
	tail->partial_len = 0;
}

/* A refusal not said yet: -EPERM with it in why. */
static int say_refusal(struct logtail *tail, char why[ERRMSG_LEN])
{
	if (!tail->refused || tail->refusal_said)
		return 0;
	tail->refusal_said = true;
	errmsg(why, "%s", tail->refusal);
	return -EPERM;
}

int logtail_poll(struct logtail *tail, logtail_line_fn fn, void *ctx, char why[ERRMSG_LEN])
{
	int ret = 0;

	for (int round = 0; round < 2; round++) {
		if (tail->fd >= 0) {
			ret = read_slice(tail, fn, ctx, why);
			if (ret)
				break;
		}
		if (!path_moved_on(tail))
			break;
		switch_to_new_file(tail, fn, ctx);
		ret = open_current(tail, false, false);
		if (ret)
			break;
	}
	if (ret < 0 && ret != -EFBIG)
		errmsg(why, "cannot read log %s: %s", tail->path, strerror(-ret));
	return ret ? ret : say_refusal(tail, why);
}
