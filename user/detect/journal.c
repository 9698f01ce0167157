// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "detect/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <systemd/sd-journal.h>

const char *const journal_default_idents[] = {
	"dovecot",
	"postfix/smtpd",
	"postfix/submission/smtpd",
	"postfix/smtps/smtpd",
	"sshd",
	"sshd-session",
	"sshd-auth",
	"exim",
	"exim4",
	"roundcube",
	NULL,
};

static int add_match(sd_journal *j, const char *match, char why[ERRMSG_LEN])
{
	char field[256];
	int err;

	if (strchr(match, '='))
		snprintf(field, sizeof(field), "%s", match);
	else
		snprintf(field, sizeof(field), "SYSLOG_IDENTIFIER=%s", match);
	err = sd_journal_add_match(j, field, 0);
	if (err < 0)
		errmsg(why, "journal match '%s': %s", match, strerror(-err));
	return err;
}

static int add_matches(sd_journal *j, const char *const *matches, char why[ERRMSG_LEN])
{
	if (!matches)
		matches = journal_default_idents;
	for (size_t i = 0; matches[i]; i++) {
		int err = add_match(j, matches[i], why);

		if (err < 0)
			return err;
		err = sd_journal_add_disjunction(j);
		if (err < 0) {
			errmsg(why, "journal match '%s': %s", matches[i], strerror(-err));
			return err;
		}
	}
	return 0;
}

static int open_path(sd_journal **j, const char *path, char why[ERRMSG_LEN])
{
	struct stat st;
	int err;

	if (!path) {
		err = sd_journal_open(j, SD_JOURNAL_LOCAL_ONLY);
		if (err < 0)
			errmsg(why, "cannot open the system journal: %s", strerror(-err));
		return err;
	}
	if (stat(path, &st) != 0) {
		err = -errno;
		errmsg(why, "journal %s: %s", path, strerror(errno));
		return err;
	}
	if (S_ISDIR(st.st_mode)) {
		err = sd_journal_open_directory(j, path, 0);
	} else {
		const char *files[] = { path, NULL };

		err = sd_journal_open_files(j, files, 0);
	}
	if (err < 0)
		errmsg(why, "cannot open the journal %s: %s", path, strerror(-err));
	return err;
}

/* Where the first entry to hand out is: after the cursor, the bound, or the end. */
static int position(struct journal *jr, const struct journal_open_args *args, char why[ERRMSG_LEN])
{
	sd_journal *j = jr->j;
	int err;

	if (args->cursor && args->cursor[0]) {
		err = sd_journal_seek_cursor(j, args->cursor);
		if (err < 0) {
			errmsg(why, "journal cursor '%.64s': %s", args->cursor, strerror(-err));
			return err;
		}
		err = sd_journal_next(j);
		if (err > 0 && sd_journal_test_cursor(j, args->cursor) <= 0)
			err = sd_journal_previous(j); /* that entry is gone: hand out the next */
		snprintf(jr->cursor, sizeof(jr->cursor), "%s", args->cursor);
	} else if (args->from_start) {
		err = sd_journal_seek_head(j);
	} else {
		err = sd_journal_seek_tail(j);
		if (err >= 0)
			err = sd_journal_previous(j);
		/* An empty journal's end is its start: from a tail position, sd-journal
		 * would hand out only the last entry of the first file to arrive. */
		if (err == 0)
			err = sd_journal_seek_head(j);
	}
	if (err < 0) {
		errmsg(why, "cannot find the journal's position: %s", strerror(-err));
		return err;
	}
	return 0;
}

int journal_open(struct journal *jr, const struct journal_open_args *args, char why[ERRMSG_LEN])
{
	sd_journal *j = NULL;
	int err;

	memset(jr, 0, sizeof(*jr));
	err = open_path(&j, args->path, why);
	if (err < 0)
		return err;
	jr->j = j;
	err = add_matches(j, args->matches, why);
	if (err >= 0)
		err = position(jr, args, why);
	if (err < 0) {
		journal_close(jr);
		return err;
	}
	jr->not_before_usec = args->not_before_usec;
	return 0;
}

void journal_close(struct journal *jr)
{
	if (jr->j)
		sd_journal_close(jr->j);
	jr->j = NULL;
}

int journal_fd(struct journal *jr, char why[ERRMSG_LEN])
{
	int fd = sd_journal_get_fd(jr->j);

	if (fd < 0)
		errmsg(why, "cannot watch the journal: %s", strerror(-fd));
	return fd;
}

/* A field's value ("FIELD=value" without "FIELD="), or NULL. */
static const char *field(sd_journal *j, const char *name, size_t *len)
{
	const void *data;
	size_t n, prefix = strlen(name) + 1;

	if (sd_journal_get_data(j, name, &data, &n) < 0 || n < prefix)
		return NULL;
	*len = n - prefix;
	return (const char *)data + prefix;
}

static unsigned int field_uint(sd_journal *j, const char *name)
{
	char text[16];
	size_t len;
	const char *value = field(j, name, &len);

	if (!value || len == 0 || len >= sizeof(text))
		return 0;
	memcpy(text, value, len);
	text[len] = '\0';
	return (unsigned int)strtoul(text, NULL, 10);
}

static void hand_out(struct journal *jr, journal_entry_fn fn, void *ctx)
{
	char ident[64] = "";
	struct journal_entry e = { .ident = ident };
	size_t len;
	const char *value = field(jr->j, "SYSLOG_IDENTIFIER", &len);

	if (value)
		snprintf(ident, sizeof(ident), "%.*s", (int)len, value);
	e.message = field(jr->j, "MESSAGE", &e.len);
	if (!e.message)
		return;
	e.pid = field_uint(jr->j, "_PID");
	if (!e.pid)
		e.pid = field_uint(jr->j, "SYSLOG_PID");
	if (sd_journal_get_realtime_usec(jr->j, &e.realtime_usec) < 0)
		e.realtime_usec = 0;
	if (jr->not_before_usec && e.realtime_usec < jr->not_before_usec) {
		jr->skipped_old++;
		return;
	}
	jr->entries++;
	fn(ctx, &e);
}

int journal_poll(struct journal *jr, journal_entry_fn fn, void *ctx, char why[ERRMSG_LEN])
{
	unsigned int handed = 0;
	char *cursor;
	int err = 0;

	sd_journal_process(jr->j); /* takes the wake-up; files rotated are reopened */
	while (handed < JOURNAL_SLICE && (err = sd_journal_next(jr->j)) > 0) {
		handed++;
		hand_out(jr, fn, ctx);
	}
	if (err < 0) {
		errmsg(why, "reading the journal: %s", strerror(-err));
		return err;
	}
	if (handed && sd_journal_get_cursor(jr->j, &cursor) >= 0) {
		snprintf(jr->cursor, sizeof(jr->cursor), "%s", cursor);
		free(cursor);
	}
	return handed == JOURNAL_SLICE ? 1 : 0;
}

void journal_format_time(uint64_t realtime_usec, char out[48])
{
	time_t seconds = (time_t)(realtime_usec / 1000000);
	char date[32];
	struct tm tm;

	if (!gmtime_r(&seconds, &tm) || !strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm)) {
		out[0] = '\0';
		return;
	}
	snprintf(out, 48, "%s.%06u+00:00", date, (unsigned int)(realtime_usec % 1000000));
}
