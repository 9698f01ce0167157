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

static void poll_tail(struct fixture *f)
{
	char why[ERRMSG_LEN];

	assert_int_equal(logtail_poll(&f->tail, record, &f->seen, why), 0);
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
	};

	return cmocka_run_group_tests_name("logtail", tests, NULL, NULL);
}
