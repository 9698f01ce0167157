// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Log failures that repeat what the policy endpoint reported are counted once. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <cmocka.h>
#include "addr.h"
#include "echo_filter.h"

#define SEC 1000000000ULL

static struct addr_key ip_of(const char *text)
{
	struct lpm_key key;
	struct addr_key ip;
	char why[ERRMSG_LEN];

	assert_int_equal(cidr_parse(text, &key, why), 0);
	addr_key_from_lpm(&ip, &key);
	return ip;
}

static void reported_failures_absorb_log_attempts(void **state)
{
	struct echo_filter *f = echo_filter_new(64);
	struct addr_key a = ip_of("192.0.2.9"), b = ip_of("2001:db8::9");

	(void)state;
	assert_non_null(f);
	for (int i = 0; i < 3; i++)
		echo_filter_note(f, &a, i * SEC);
	/* "auth failed, 1 attempts", then a line summing 5 attempts: 2 of them are new */
	assert_int_equal(echo_filter_absorb(f, &a, 1, 10 * SEC), 1);
	assert_int_equal(echo_filter_absorb(f, &a, 5, 11 * SEC), 2);
	assert_int_equal(echo_filter_absorb(f, &a, 1, 12 * SEC), 0);
	assert_int_equal(echo_filter_absorb(f, &b, 1, 12 * SEC), 0); /* another address */
	echo_filter_free(f);
}

static void credits_expire(void **state)
{
	struct echo_filter *f = echo_filter_new(64);
	struct addr_key a = ip_of("198.51.100.4");

	(void)state;
	echo_filter_note(f, &a, 0);
	echo_filter_note(f, &a, 5 * SEC); /* the latest report keeps both alive */
	assert_int_equal(echo_filter_absorb(f, &a, 1, (5 + ECHO_CREDIT_TTL_S - 1) * SEC), 1);
	assert_int_equal(echo_filter_absorb(f, &a, 1, (5 + ECHO_CREDIT_TTL_S) * SEC), 0);
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
		ip = ip_of(text);
		echo_filter_note(f, &ip, (uint64_t)i * SEC);
	}
	for (int i = 0; i < 100; i++) {
		struct addr_key ip;

		snprintf(text, sizeof(text), "203.0.113.%d", i);
		ip = ip_of(text);
		kept += echo_filter_absorb(f, &ip, 1, 200 * SEC);
	}
	assert_int_equal(kept, 8);
	{
		struct addr_key last = ip_of("203.0.113.99");

		echo_filter_note(f, &last, 201 * SEC);
		assert_int_equal(echo_filter_absorb(f, &last, 1, 202 * SEC), 1);
	}
	echo_filter_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reported_failures_absorb_log_attempts),
		cmocka_unit_test(credits_expire),
		cmocka_unit_test(bounded_by_capacity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
