// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The silence watch (detect/silence.h) and what feeds it
 * (parser_looks_like_auth): many lines that look like authentication lines
 * over a long time, none recognised, is said once; an outcome ends it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "detect/parser.h"
#include "detect/silence.h"

#define SEC 1000000000ull

static void said_once_after_lines_and_time(void **state)
{
	struct silence s;

	(void)state;
	silence_init(&s, 60, 3);
	/* lines that look like none: nothing */
	for (int i = 0; i < 10; i++)
		assert_int_equal(silence_line(&s, false, false, 100 * SEC), SILENCE_NO_NEWS);
	/* three, but within a minute: not yet */
	assert_int_equal(silence_line(&s, true, false, 100 * SEC), SILENCE_NO_NEWS);
	assert_int_equal(silence_line(&s, true, false, 110 * SEC), SILENCE_NO_NEWS);
	assert_int_equal(silence_line(&s, true, false, 120 * SEC), SILENCE_NO_NEWS);
	/* a minute after the first: said, once */
	assert_int_equal(silence_line(&s, true, false, 160 * SEC), SILENCE_BEGAN);
	assert_true(s.warned);
	assert_int_equal(silence_line(&s, true, false, 999 * SEC), SILENCE_NO_NEWS);
	assert_int_equal(s.auth_like, 5);
	/* an outcome ends it, and starts over */
	assert_int_equal(silence_line(&s, false, true, 1000 * SEC), SILENCE_ENDED);
	assert_false(s.warned);
	assert_int_equal(silence_line(&s, true, false, 1001 * SEC), SILENCE_NO_NEWS);
	assert_int_equal(silence_line(&s, false, true, 1002 * SEC), SILENCE_NO_NEWS);
}

static void many_lines_in_a_short_time_are_no_silence(void **state)
{
	struct silence s;

	(void)state;
	silence_init(&s, 0, 0); /* the defaults: 100 lines over an hour */
	for (int i = 0; i < 10000; i++)
		assert_int_equal(silence_line(&s, true, false, (uint64_t)i * SEC / 10),
				 SILENCE_NO_NEWS);
	assert_int_equal(silence_line(&s, true, false, 3600 * SEC), SILENCE_BEGAN);
}

static void lines_that_look_like_authentication_lines(void **state)
{
	struct parser *any = parser_new(LOG_SOURCE_AUTO), *sshd = parser_new(LOG_SOURCE_SSHD);
	const char *changed = "Nov 27 12:00:00 mail sshd[1]: Failed passwd (root) from 192.0.2.5";
	const char *other = "Nov 27 12:00:00 mail cron[1]: Failed password for root from x";
	const char *session = "Nov 27 12:00:00 mail sshd[1]: pam_unix(sshd:session): session "
			      "closed for user root";

	(void)state;
	assert_true(parser_looks_like_auth(any, NULL, changed, strlen(changed)));
	assert_false(parser_looks_like_auth(any, NULL, other, strlen(other)));
	assert_false(parser_looks_like_auth(any, NULL, session, strlen(session)));
	/* the journal's identifier names the program */
	assert_true(parser_looks_like_auth(any, "sshd-session", "Failed passwd (root)", 20));
	assert_false(parser_looks_like_auth(any, "cron", "Failed passwd (root)", 20));
	/* a parser chosen for the source reads bare messages, not another program's */
	assert_true(parser_looks_like_auth(sshd, NULL, "Failed passwd (root)", 20));
	assert_false(parser_looks_like_auth(
	    sshd, NULL, "Nov 27 12:00:00 mail dovecot: imap-login: auth failed, 1 attempts", 64));
	parser_free(any);
	parser_free(sshd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(said_once_after_lines_and_time),
		cmocka_unit_test(many_lines_in_a_short_time_are_no_silence),
		cmocka_unit_test(lines_that_look_like_authentication_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
