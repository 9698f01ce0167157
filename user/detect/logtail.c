// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "detect/logtail.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK 65536

static int open_current(struct logtail *tail, bool at_end)
{
	struct stat st;
	int fd = open(tail->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st)) {
		int err = -errno;

		close(fd);
		return err;
	}
	tail->fd = fd;
	tail->dev = st.st_dev;
	tail->ino = st.st_ino;
	tail->offset = at_end ? st.st_size : 0;
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
	err = open_current(tail, !from_start);
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

/* Reads the open file from offset to its end. */
static int read_to_end(struct logtail *tail, logtail_line_fn fn, void *ctx)
{
	static char buf[READ_CHUNK];

	for (;;) {
		ssize_t got = pread(tail->fd, buf, sizeof(buf), tail->offset);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			return 0;
		tail->offset += got;
		split_lines(tail, buf, (size_t)got, fn, ctx);
	}
}

/* The file at the path is not the one open: it was rotated by rename, or appeared. */
static bool path_moved_on(const struct logtail *tail)
{
	struct stat st;

	if (stat(tail->path, &st))
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

int logtail_poll(struct logtail *tail, logtail_line_fn fn, void *ctx, char why[ERRMSG_LEN])
{
	struct stat st;
	int err = 0;

	for (int round = 0; round < 2 && !err; round++) {
		if (tail->fd >= 0 && fstat(tail->fd, &st) == 0 && st.st_size < tail->offset) {
			tail->truncations++; /* copytruncate: start the file again */
			tail->offset = 0;
			tail->partial_len = 0;
			tail->overlong = false;
		}
		if (tail->fd >= 0)
			err = read_to_end(tail, fn, ctx);
		if (err || !path_moved_on(tail))
			break;
		switch_to_new_file(tail, fn, ctx);
		err = open_current(tail, false);
	}
	if (err)
		errmsg(why, "cannot read log %s: %s", tail->path, strerror(-err));
	return err;
}
