// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The protected-port list: parsing, defaults and the compact listing. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "lib/portset.h"

static const char *formatted(const char *text)
{
	static char buf[512];
	struct portset set;
	char why[ERRMSG_LEN];

	assert_int_equal(portset_parse(text, &set, why), 0);
	portset_format(&set, buf, sizeof(buf));
	return buf;
}

static void rejected(const char *text, const char *expected)
{
	struct portset set;
	char why[ERRMSG_LEN] = "";

	assert_int_equal(portset_parse(text, &set, why), -EINVAL);
	if (!strstr(why, expected))
		fail_msg("'%s': reason '%s' lacks '%s'", text, why, expected);
}

static void defaults_are_the_mail_ports(void **state)
{
	struct portset set;
	char buf[128];

	(void)state;
	portset_defaults(&set);
	portset_format(&set, buf, sizeof(buf));
	assert_string_equal(buf, "25,110,143,465,587,993,995,4190");
	assert_true(portset_has(&set, 993));
	assert_false(portset_has(&set, 80));
	assert_int_equal(portset_count(&set), 8);
}

static void lists_and_ranges_parse(void **state)
{
	(void)state;
	assert_string_equal(formatted("25"), "25");
	assert_string_equal(formatted("587,25,143"), "25,143,587");
	assert_string_equal(formatted("993 995, 994"), "993-995");
	assert_string_equal(formatted("1-3,65535"), "1-3,65535");
	assert_string_equal(formatted("all"), "all");
}

static void bad_lists_are_named(void **state)
{
	(void)state;
	rejected("0", "port 0 out of range 1-65535");
	rejected("65536", "port 65536 out of range 1-65535");
	rejected("smtp", "port 'smtp' is not a number");
	rejected("25,x", "port 'x' is not a number");
	rejected("200-100", "port range 200-100 runs backwards");
	rejected("", "names no port");
	rejected(",", "names no port");
}

static void all_covers_every_port(void **state)
{
	struct portset set;
	char why[ERRMSG_LEN];

	(void)state;
	assert_int_equal(portset_parse("all", &set, why), 0);
	assert_true(portset_has(&set, 1));
	assert_true(portset_has(&set, 65535));
	assert_false(portset_has(&set, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_are_the_mail_ports),
		cmocka_unit_test(lists_and_ranges_parse),
		cmocka_unit_test(bad_lists_are_named),
		cmocka_unit_test(all_covers_every_port),
	};

	return cmocka_run_group_tests_name("portset", tests, NULL, NULL);
}
