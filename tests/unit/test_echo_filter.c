// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Log failures that repeat what the policy endpoint reported are counted once. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <cmocka.h>
#include "unit.h"
#include "lib/cidr.h"
#include "detect/echo_filter.h"

#define SEC 1000000000ULL

static void reported_first_then_logged(void **state)
{
	struct echo_filter *f = echo_filter_new(64);
	struct addr_key a = unit_addr("192.0.2.9"), b = unit_addr("2001:db8::9");

	(void)state;
	assert_non_null(f);
	for (int i = 0; i < 3; i++)
		assert_false(echo_filter_from_policy(f, &a, i * SEC));
	/* "auth failed, 1 attempts", then a line summing 5 attempts: 3 of them are new */
	assert_int_equal(echo_filter_from_log(f, &a, 1, 10 * SEC), 1);
	assert_int_equal(echo_filter_from_log(f, &a, 5, 11 * SEC), 2);
	assert_int_equal(echo_filter_from_log(f, &b, 1, 12 * SEC), 0); /* another address */
	/* the 3 new ones are remembered: their reports, late, are not counted again */
	for (int i = 0; i < 3; i++)
		assert_true(echo_filter_from_policy(f, &a, 13 * SEC));
	assert_false(echo_filter_from_policy(f, &a, 14 * SEC));
	echo_filter_free(f);
}

static void logged_first_then_reported(void **state)
{
	struct echo_filter *f = echo_filter_new(64);
	struct addr_key a = unit_addr("198.51.100.7");

	(void)state;
	assert_int_equal(echo_filter_from_log(f, &a, 2, 0), 0);
	assert_true(echo_filter_from_policy(f, &a, SEC));
	assert_true(echo_filter_from_policy(f, &a, SEC));
	assert_false(echo_filter_from_policy(f, &a, 2 * SEC));
	assert_int_equal(echo_filter_from_log(f, &a, 1, 3 * SEC), 1);
	echo_filter_free(f);
}

static void entries_expire(void **state)
{
	struct echo_filter *f = echo_filter_new(64);
	struct addr_key a = unit_addr("198.51.100.4");

	(void)state;
	echo_filter_from_policy(f, &a, 0);
	echo_filter_from_policy(f, &a, 5 * SEC); /* the latest sighting keeps both alive */
	assert_int_equal(echo_filter_from_log(f, &a, 1, (5 + ECHO_TTL_S - 1) * SEC), 1);
	assert_int_equal(echo_filter_from_log(f, &a, 1, (5 + 2 * ECHO_TTL_S) * SEC), 0);
	echo_filter_free(f);
}

/* More addresses than the table holds: the oldest give way, the newest are exact. */
static void bounded_by_capacity(void **state)
{
	struct echo_filter *f = echo_filter_new(8);
	char text[32];
	unsigned int kept = 0;

	(void)state;
	for (int i = 0; i < 100; i++) {
		struct addr_key ip;

		snprintf(text, sizeof(text), "203.0.113.%d", i);
		ip = unit_addr(text);
		echo_filter_from_policy(f, &ip, (uint64_t)i * SEC);
	}
	for (int i = 99; i >= 0; i--) { /* newest first: a miss takes a slot of its own */
		struct addr_key ip;

		snprintf(text, sizeof(text), "203.0.113.%d", i);
		ip = unit_addr(text);
		kept += echo_filter_from_log(f, &ip, 1, 200 * SEC);
	}
	assert_int_equal(kept, 8);
	echo_filter_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reported_first_then_logged),
		cmocka_unit_test(logged_first_then_reported),
		cmocka_unit_test(entries_expire),
		cmocka_unit_test(bounded_by_capacity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
