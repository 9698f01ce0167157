// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The fleet's one pure decision: whether a ban from another node changes
 * what this node enforced (then the daemon records it) or is the same
 * decision delivered again (a sync, a push after an outage: not recorded
 * twice). The rest of fleet.c talks to Redis: tests/e2e/test_fleet.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "peers/fleet.h"

#define NOW   (1000ULL * 1000000000ULL)
#define SEC   1000000000ULL
#define HOURS (3600ULL * SEC)

static struct ban_entry entry_until(uint64_t expires_ns)
{
	return (struct ban_entry){ .expires_ns = expires_ns, .origin = BAN_ORIGIN_IP_RULE };
}

static struct ban_request until(uint64_t deadline_ns)
{
	return (struct ban_request){ .deadline_ns = deadline_ns };
}

static void a_ban_of_an_unbanned_prefix_is_news(void **state)
{
	struct ban_request request = until(NOW + HOURS);

	(void)state;
	assert_true(fleet_ban_is_news(NULL, &request, NOW));
}

static void a_ban_over_an_expired_one_is_news(void **state)
{
	struct ban_entry old = entry_until(NOW - SEC);
	struct ban_request request = until(NOW + HOURS);

	(void)state;
	assert_true(fleet_ban_is_news(&old, &request, NOW));
}

static void the_same_deadline_again_is_not_news(void **state)
{
	struct ban_entry old = entry_until(NOW + HOURS);
	struct ban_request same = until(NOW + HOURS), later = until(NOW + HOURS + SEC),
			   earlier = until(NOW + HOURS - FLEET_SAME_DEADLINE_NS);

	(void)state;
	assert_false(fleet_ban_is_news(&old, &same, NOW));
	assert_false(fleet_ban_is_news(&old, &later, NOW));
	assert_false(fleet_ban_is_news(&old, &earlier, NOW));
}

static void a_deadline_moved_either_way_is_news(void **state)
{
	struct ban_entry old = entry_until(NOW + HOURS);
	struct ban_request longer = until(NOW + 2 * HOURS),
			   shorter = until(NOW + HOURS - FLEET_SAME_DEADLINE_NS - 1);

	(void)state;
	assert_true(fleet_ban_is_news(&old, &longer, NOW));
	assert_true(fleet_ban_is_news(&old, &shorter, NOW));
}

static void permanence_changed_is_news(void **state)
{
	struct ban_entry permanent = entry_until(0), timed = entry_until(NOW + HOURS);
	struct ban_request forever = { .permanent = true }, for_an_hour = until(NOW + HOURS);

	(void)state;
	assert_false(fleet_ban_is_news(&permanent, &forever, NOW));
	assert_true(fleet_ban_is_news(&permanent, &for_an_hour, NOW));
	assert_true(fleet_ban_is_news(&timed, &forever, NOW));
}

static void a_request_in_seconds_counts_from_now(void **state)
{
	struct ban_entry old = entry_until(NOW + 300 * SEC);
	struct ban_request same = { .seconds = 300 }, longer = { .seconds = 600 };

	(void)state;
	assert_false(fleet_ban_is_news(&old, &same, NOW));
	assert_true(fleet_ban_is_news(&old, &longer, NOW));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_ban_of_an_unbanned_prefix_is_news),
		cmocka_unit_test(a_ban_over_an_expired_one_is_news),
		cmocka_unit_test(the_same_deadline_again_is_not_news),
		cmocka_unit_test(a_deadline_moved_either_way_is_news),
		cmocka_unit_test(permanence_changed_is_news),
		cmocka_unit_test(a_request_in_seconds_counts_from_now),
	};

	return cmocka_run_group_tests_name("fleet", tests, NULL, NULL);
}
