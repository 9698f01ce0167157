/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the cmocka tests (tests/unit/, tests/bpf/) kept writing for
 * themselves: addresses from text, an auth event, the check that a reason
 * names its cause, and tables of cases that cmocka runs one test per row.
 * Include after cmocka.h.
 */
#ifndef XDPBAN_TEST_UNIT_H
#define XDPBAN_TEST_UNIT_H

#include <stdio.h>
#include <string.h>
#include "lib/cidr.h"
#include "lib/event.h"
#include "lib/util.h"

/* A prefix the test wrote; the test fails if it does not parse. */
static inline struct lpm_key unit_cidr(const char *text)
{
	struct lpm_key key;
	char why[ERRMSG_LEN];

	if (cidr_parse(text, &key, why))
		fail_msg("%s: %s", text, why);
	return key;
}

/* An address the test wrote, as the maps and the rules key it. */
static inline struct addr_key unit_addr(const char *text)
{
	struct lpm_key key = unit_cidr(text);
	struct addr_key addr;

	cidr_to_addr_key(&addr, &key);
	return addr;
}

/* An event from an IMAP server: OUTCOME for USER from IP, ATTEMPTS failures. */
static inline struct auth_event unit_event(enum auth_outcome outcome, const char *ip,
					   const char *user, unsigned int attempts,
					   const char *pwhash)
{
	struct auth_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.outcome = outcome;
	ev.ip = unit_addr(ip);
	snprintf(ev.user, sizeof(ev.user), "%s", user);
	snprintf(ev.service, sizeof(ev.service), "imap");
	snprintf(ev.pwhash, sizeof(ev.pwhash), "%s", pwhash);
	ev.attempts = attempts;
	return ev;
}

/* The reason WHY names TEXT (the bad value, the path...), or the test fails saying both. */
#define assert_why_has(why, text)                                                                  \
	do {                                                                                       \
		if (!strstr((why), (text)))                                                        \
			fail_msg("reason '%s' lacks '%s'", (why), (text));                         \
	} while (0)

/*
 * Runs CHECK once per row of a table of COUNT rows of SIZE bytes, as a
 * cmocka group of its own: each test gets its row as *state (SETUP, when
 * not NULL, finds it there first and may replace it with a fixture that
 * keeps it) and is named by the row's first member (a const char *), so a
 * failure names its row. Returns the number of failed rows.
 */
static inline int unit_run_rows(const char *group, CMUnitTestFunction check, const void *rows,
				size_t count, size_t size, CMFixtureFunction setup,
				CMFixtureFunction teardown)
{
	struct CMUnitTest tests[count];

	for (size_t i = 0; i < count; i++) {
		const void *row = (const char *)rows + i * size;

		tests[i] = (struct CMUnitTest){ .name = *(const char *const *)row,
						.test_func = check,
						.setup_func = setup,
						.teardown_func = teardown,
						.initial_state = (void *)row };
	}
	return _cmocka_run_group_tests(group, tests, count, NULL, NULL);
}

#define unit_run_table(group, check, table, setup, teardown)                                       \
	unit_run_rows(group, check, table, ARRAY_SIZE(table), sizeof((table)[0]), setup, teardown)

#endif
