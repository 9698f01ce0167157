// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Following a log across appends, rotation by rename, copytruncate and partial lines. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "detect/logtail.h"

struct seen {
	char text[65536]; /* every line received, each followed by '|' */
	unsigned int count;
};

struct fixture {
	char dir[64];
	char path[96];
	struct logtail tail;
	struct seen seen;
};

static void record(void *ctx, const char *line, size_t len)
{
	struct seen *seen = ctx;
	size_t used = strlen(seen->text);

	snprintf(seen->text + used, sizeof(seen->text) - used, "%.*s|", (int)len, line);
	seen->count++;
}

static void append(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Polls until everything is read (slice after slice); returns the slices it took. */
static int poll_tail(struct fixture *f)
{
	char why[ERRMSG_LEN];
	int ret, slices = 0;

	while ((ret = logtail_poll(&f->tail, record, &f->seen, why)) == 1)
		slices++;
	if (ret)
		fail_msg("%s", why);
	return slices + 1;
}

/* One poll that must fail; its message in why. */
static int poll_fails(struct fixture *f, char why[ERRMSG_LEN])
{
	return logtail_poll(&f->tail, record, &f->seen, why);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/xdpban-logtail.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/mail.log", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char command[160];

	logtail_close(&f->tail);
	snprintf(command, sizeof(command), "rm -rf %s", f->dir);
	assert_int_equal(system(command), 0);
	free(f);
	return 0;
}

static void open_tail(struct fixture *f, bool from_start)
{
	char why[ERRMSG_LEN];

	assert_int_equal(logtail_open(&f->tail, f->path, from_start, why), 0);
}

static void starts_at_the_end_unless_asked(void **state)
{
	struct fixture *f = *state;

	append(f->path, "old 1\nold 2\n");
	open_tail(f, false);
	append(f->path, "new 1\n");
	poll_tail(f);
	assert_string_equal(f->seen.text, "new 1|");
}

static void from_start_replays_history(void **state)
{
	struct fixture *f = *state;

	append(f->path, "old 1\nold 2\n");
	open_tail(f, true);
	poll_tail(f);
	assert_string_equal(f->seen.text, "old 1|old 2|");
}

static void a_partial_line_waits_for_its_newline(void **state)
{
	struct fixture *f = *state;

	open_tail(f, false);
	append(f->path, "half a li");
	poll_tail(f);
	assert_int_equal(f->seen.count, 0);
	append(f->path, "ne\nnext\n");
	poll_tail(f);
	assert_string_equal(f->seen.text, "half a line|next|");
}

static void rotation_by_rename_loses_and_repeats_nothing(void **state)
{
	struct fixture *f = *state;
	char rotated[128];

	open_tail(f, false);
	append(f->path, "a\n");
	poll_tail(f);
	/* Written to the old file after the last look, then the file is renamed. */
	append(f->path, "b\nc-without-newline");
	snprintf(rotated, sizeof(rotated), "%s.1", f->path);
	assert_int_equal(rename(f->path, rotated), 0);
	append(f->path, "d\n");
	poll_tail(f);
	assert_string_equal(f->seen.text, "a|b|c-without-newline|d|");
	assert_int_equal(f->tail.rotations, 1);
	append(f->path, "e\n");
	poll_tail(f);
	assert_string_equal(f->seen.text, "a|b|c-without-newline|d|e|");
}

static void renamed_away_then_created_later(void **state)
{
	struct fixture *f = *state;
	char rotated[128];

	append(f->path, "");
	open_tail(f, false);
	append(f->path, "a\n");
	snprintf(rotated, sizeof(rotated), "%s.1", f->path);
	assert_int_equal(rename(f->path, rotated), 0);
	poll_tail(f);
	append(f->path, "b\n");
	poll_tail(f);
	assert_string_equal(f->seen.text, "a|b|");
}

static void copytruncate_starts_the_file_again(void **state)
{
	struct fixture *f = *state;

	open_tail(f, false);
	append(f->path, "one\ntwo\n");
	poll_tail(f);
	assert_int_equal(truncate(f->path, 0), 0);
	append(f->path, "3\n");
	poll_tail(f);
	assert_string_equal(f->seen.text, "one|two|3|");
	assert_int_equal(f->tail.truncations, 1);
}

static void a_missing_file_is_followed_once_it_appears(void **state)
{
	struct fixture *f = *state;

	open_tail(f, false);
	poll_tail(f);
	append(f->path, "first\n");
	poll_tail(f);
	assert_string_equal(f->seen.text, "first|");
}

static void overlong_lines_are_dropped_and_counted(void **state)
{
	struct fixture *f = *state;
	char *huge = malloc(LOGTAIL_LINE_MAX * 3 + 2);

	memset(huge, 'x', LOGTAIL_LINE_MAX * 3);
	strcpy(huge + LOGTAIL_LINE_MAX * 3, "\n");
	open_tail(f, false);
	append(f->path, huge);
	append(f->path, "short\n");
	poll_tail(f);
	assert_int_equal(f->seen.count, 1);
	assert_int_equal(f->tail.dropped_lines, 1);
	assert_string_equal(f->seen.text, "short|");
	free(huge);
}

static void assert_has(const char *text, const char *part)
{
	if (!strstr(text, part))
		fail_msg("'%s' does not contain '%s'", text, part);
}

/*
 * A log path linked to /dev/zero wedged the daemon for good, even after
 * the link was removed: now the link is refused, said once, and the file
 * put there instead is followed.
 */
static void a_link_is_refused_once_and_a_log_put_back_is_followed(void **state)
{
	struct fixture *f = *state;
	char why[ERRMSG_LEN];

	assert_int_equal(symlink("/dev/zero", f->path), 0);
	open_tail(f, false);
	assert_int_equal(poll_fails(f, why), -EPERM);
	assert_has(why, "a symbolic link, refused");
	assert_has(why, f->path);
	assert_int_equal(poll_fails(f, why), 0); /* said once */
	assert_int_equal(f->tail.refusals, 1);
	unlink(f->path);
	append(f->path, "back 1\n");
	poll_tail(f);
	assert_string_equal(f->seen.text, "back 1|");
}

/* Not a regular file: a device, a FIFO. */
static void a_device_or_fifo_is_refused(void **state)
{
	struct fixture *f = *state;
	char why[ERRMSG_LEN];

	assert_int_equal(logtail_open(&f->tail, "/dev/zero", true, why), 0);
	assert_int_equal(poll_fails(f, why), -EPERM);
	assert_has(why, "not a regular file");
	logtail_close(&f->tail);
	assert_int_equal(mkfifo(f->path, 0644), 0);
	open_tail(f, true);
	assert_int_equal(poll_fails(f, why), -EPERM);
	assert_has(why, "not a regular file");
}

/*
 * /etc/shadow (root:shadow 0640) was read as a log, and /metrics showed its
 * line count: a file only a group that reads no logs may read is refused;
 * the same file root:adm 0640 is a log.
 */
static void a_group_secret_is_refused_and_an_adm_log_read(void **state)
{
	struct fixture *f = *state;
	const struct group *group = getgrnam("shadow");
	gid_t shadow = group ? group->gr_gid : 0, adm;
	char why[ERRMSG_LEN];

	group = getgrnam("adm"); /* the same static buffer: the ids are copied */
	adm = group ? group->gr_gid : 0;
	if (geteuid() != 0 || !shadow || !adm)
		skip();
	append(f->path, "secret 1\n");
	assert_int_equal(chown(f->path, 0, shadow), 0);
	assert_int_equal(chmod(f->path, 0640), 0);
	open_tail(f, true);
	assert_int_equal(poll_fails(f, why), -EPERM);
	assert_has(why, "group shadow");
	assert_int_equal(f->seen.count, 0);
	logtail_close(&f->tail);
	assert_int_equal(chown(f->path, 0, adm), 0);
	open_tail(f, true);
	poll_tail(f);
	assert_string_equal(f->seen.text, "secret 1|");
}

/*
 * A 1 MiB append is read 8 KiB a call, every line once; growth beyond 64
 * MiB between two looks (here a sparse 30 GB file) is skipped with a
 * warning, and lines appended after it are read.
 */
static void reads_in_slices_and_skips_a_jump(void **state)
{
	struct fixture *f = *state;
	char line[64], why[ERRMSG_LEN];
	FILE *file;

	open_tail(f, false);
	file = fopen(f->path, "a");
	assert_non_null(file);
	for (int i = 0; i < 30000; i++) /* ~1 MiB */
		fprintf(file, "line %027d\n", i);
	fclose(file);
	memset(&f->seen, 0, sizeof(f->seen));
	assert_true(poll_tail(f) >= 120);
	assert_int_equal(f->tail.lines, 30000);
	assert_int_equal(truncate(f->path, 30LL << 30), 0);
	assert_int_equal(poll_fails(f, why), -EFBIG);
	assert_has(why, "skipped to its end");
	assert_int_equal(f->tail.jumps, 1);
	snprintf(line, sizeof(line), "after the jump\n");
	append(f->path, line);
	memset(&f->seen, 0, sizeof(f->seen));
	assert_int_equal(poll_tail(f), 1);
	assert_string_equal(f->seen.text, "after the jump|");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(starts_at_the_end_unless_asked, setup, teardown),
		cmocka_unit_test_setup_teardown(from_start_replays_history, setup, teardown),
		cmocka_unit_test_setup_teardown(a_partial_line_waits_for_its_newline, setup,
						teardown),
		cmocka_unit_test_setup_teardown(rotation_by_rename_loses_and_repeats_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(renamed_away_then_created_later, setup, teardown),
		cmocka_unit_test_setup_teardown(copytruncate_starts_the_file_again, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_missing_file_is_followed_once_it_appears, setup,
						teardown),
		cmocka_unit_test_setup_teardown(overlong_lines_are_dropped_and_counted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
		    a_link_is_refused_once_and_a_log_put_back_is_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(a_device_or_fifo_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(a_group_secret_is_refused_and_an_adm_log_read,
						setup, teardown),
		cmocka_unit_test_setup_teardown(reads_in_slices_and_skips_a_jump, setup, teardown),
	};

	alarm(60); /* the old code read /dev/zero for ever */

	return cmocka_run_group_tests_name("logtail", tests, NULL, NULL);
}
