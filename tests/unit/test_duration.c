// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Ban durations: the units operators type, and their rejection messages. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "lib/duration.h"

static uint64_t seconds_of(const char *text)
{
	uint64_t seconds;
	bool permanent;
	char why[ERRMSG_LEN];

	assert_int_equal(duration_parse(text, &seconds, &permanent, why), 0);
	assert_false(permanent);
	return seconds;
}

static void rejected(const char *text, const char *expected)
{
	uint64_t seconds;
	bool permanent;
	char why[ERRMSG_LEN] = "";

	assert_int_equal(duration_parse(text, &seconds, &permanent, why), -EINVAL);
	if (!strstr(why, expected))
		fail_msg("'%s': reason '%s' lacks '%s'", text, why, expected);
	if (!strstr(why, text))
		fail_msg("'%s': reason '%s' does not name the value", text, why);
}

static const char *formatted(uint64_t seconds)
{
	static char buf[DURATION_TEXT_LEN];

	duration_format(seconds, buf);
	return buf;
}

static void every_documented_unit_parses(void **state)
{
	(void)state;
	assert_int_equal(seconds_of("300"), 300);
	assert_int_equal(seconds_of("90s"), 90);
	assert_int_equal(seconds_of("5m"), 300);
	assert_int_equal(seconds_of("2h"), 7200);
	assert_int_equal(seconds_of("1d"), 86400);
	assert_int_equal(seconds_of("1w"), 7 * 86400);
	assert_int_equal(seconds_of("1h30m"), 5400);
	assert_int_equal(seconds_of("1d2h3m4s"), 86400 + 7200 + 180 + 4);
}

static void permanent_is_its_own_word(void **state)
{
	uint64_t seconds = 1;
	bool permanent = false;
	char why[ERRMSG_LEN];

	(void)state;
	assert_int_equal(duration_parse("permanent", &seconds, &permanent, why), 0);
	assert_true(permanent);
	assert_int_equal(seconds, 0);
}

static void bad_durations_are_named(void **state)
{
	(void)state;
	rejected("5x", "unknown unit");
	rejected("", "empty");
	rejected("m", "expected a number");
	rejected("-5m", "expected a number");
	rejected("5 m", "unknown unit");
	rejected("1h30", "unknown unit");
	rejected("0", "longer than zero");
	rejected("0s", "longer than zero");
	rejected("forever", "expected a number");
	rejected("101y", "unknown unit");
}

static void absurd_lengths_are_rejected_not_wrapped(void **state)
{
	(void)state;
	rejected("99999999999999999999", "longer than 100 years");
	rejected("5300w", "longer than 100 years");
	rejected("36501d", "longer than 100 years");
	assert_int_equal(seconds_of("36500d"), 36500ULL * 86400);
}

static void time_left_shows_two_units(void **state)
{
	(void)state;
	assert_string_equal(formatted(0), "0s");
	assert_string_equal(formatted(59), "59s");
	assert_string_equal(formatted(61), "1m1s");
	assert_string_equal(formatted(3600), "1h");
	assert_string_equal(formatted(3661), "1h1m");
	assert_string_equal(formatted(86400 + 5), "1d");
	assert_string_equal(formatted(8 * 86400), "1w1d");
}

static void ban_clock_moves_forward(void **state)
{
	uint64_t before = clock_now_ns();

	(void)state;
	assert_true(before > 0);
	assert_true(clock_now_ns() >= before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_documented_unit_parses),
		cmocka_unit_test(permanent_is_its_own_word),
		cmocka_unit_test(bad_durations_are_named),
		cmocka_unit_test(absurd_lengths_are_rejected_not_wrapped),
		cmocka_unit_test(time_left_shows_two_units),
		cmocka_unit_test(ban_clock_moves_forward),
	};

	return cmocka_run_group_tests_name("duration", tests, NULL, NULL);
}
