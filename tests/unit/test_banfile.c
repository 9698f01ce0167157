// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Bulk ban files: good lines, comments, per-line durations, and whole-file rejection. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "lib/cidr.h"
#include "bans/banfile.h"

struct parsed {
	struct ban_request *requests;
	size_t count;
	int err;
	char why[ERRMSG_LEN];
};

/* Reads text as a ban file whose default is 5 minutes. */
static struct parsed read_text(const char *text)
{
	struct parsed out = { 0 };
	FILE *file = fmemopen((void *)text, strlen(text), "r");

	assert_non_null(file);
	out.err = banfile_read(file, "bans.txt", false, 300, &out.requests, &out.count, out.why);
	fclose(file);
	return out;
}

static void lines_comments_and_durations(void **state)
{
	struct parsed p = read_text("# blocklist\n"
				    "192.0.2.1\n"
				    "\n"
				    "  198.51.100.0/24   1h   # office scanner\n"
				    "2001:db8::/48 permanent\r\n");
	char text[CIDR_TEXT_LEN];

	(void)state;
	assert_int_equal(p.err, 0);
	assert_int_equal(p.count, 3);
	cidr_format(&p.requests[0].key, text);
	assert_string_equal(text, "192.0.2.1");
	assert_int_equal(p.requests[0].seconds, 300);
	assert_false(p.requests[0].permanent);
	assert_int_equal(p.requests[1].seconds, 3600);
	assert_true(p.requests[2].permanent);
	free(p.requests);
}

static void one_bad_line_rejects_the_file_and_names_it(void **state)
{
	struct parsed p = read_text("192.0.2.1\n192.0.2.2\n192.0.2.300\n192.0.2.4\n");

	(void)state;
	assert_int_equal(p.err, -EINVAL);
	assert_null(strstr(p.why, "192.0.2.4"));
	assert_non_null(strstr(p.why, "bans.txt:3:"));
	assert_non_null(strstr(p.why, "192.0.2.300"));
}

static void bad_duration_and_extra_fields_are_rejected(void **state)
{
	struct parsed bad_unit = read_text("192.0.2.1 5x\n");
	struct parsed extra = read_text("192.0.2.1 5m trailing\n");

	(void)state;
	assert_int_equal(bad_unit.err, -EINVAL);
	assert_non_null(strstr(bad_unit.why, "bans.txt:1: duration '5x'"));
	assert_int_equal(extra.err, -EINVAL);
	assert_non_null(strstr(extra.why, "unexpected 'trailing'"));
}

static void empty_file_is_no_bans(void **state)
{
	struct parsed p = read_text("# nothing yet\n\n");

	(void)state;
	assert_int_equal(p.err, 0);
	assert_int_equal(p.count, 0);
	free(p.requests);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lines_comments_and_durations),
		cmocka_unit_test(one_bad_line_rejects_the_file_and_names_it),
		cmocka_unit_test(bad_duration_and_extra_fields_are_rejected),
		cmocka_unit_test(empty_file_is_no_bans),
	};

	return cmocka_run_group_tests_name("banfile", tests, NULL, NULL);
}
