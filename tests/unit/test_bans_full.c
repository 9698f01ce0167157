// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bans_add over an address table small enough to fill (heap memory, no
 * kernel): a batch that does not fit changes nothing, a rule's ban never
 * pushes an operator's out, and a ban already in a full table can still be
 * renewed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "bans/bans.h"
#include "lib/cidr.h"
#include "unit.h"

#define CAPACITY (2 * BAN4_SLOTS) /* two buckets, at most */

struct fixture {
	struct maps maps;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	pins_init(&f->maps);
	*state = f;
	return ban_table_alloc(&f->maps.bans, 1, 1, 0x9E3779B97F4A7C15ULL);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ban_table_release(&f->maps.bans);
	free(f);
	return 0;
}

static struct ban_request request(unsigned int i, uint64_t seconds)
{
	char text[CIDR_TEXT_LEN];

	snprintf(text, sizeof(text), "192.0.2.%u", i);
	return (struct ban_request){ .key = unit_cidr(text),
				     .permanent = seconds == 0,
				     .seconds = seconds };
}

static bool banned_by(const struct fixture *f, unsigned int i, enum ban_origin origin)
{
	struct ban_request r = request(i, 0);
	struct ban_entry entry;

	return bans_lookup(&f->maps, &r.key, &entry) == 0 && entry.origin == origin;
}

static void fill_manually(struct fixture *f, unsigned int n)
{
	char why[ERRMSG_LEN];

	for (unsigned int i = 1; i <= n; i++) {
		struct ban_request r = request(i, 0);

		assert_int_equal(bans_add(&f->maps, &r, 1, BAN_ORIGIN_MANUAL, why), 0);
	}
}

static void a_batch_that_does_not_fit_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct ban_request batch[6];
	char why[ERRMSG_LEN];

	fill_manually(f, CAPACITY - 4);
	for (unsigned int i = 0; i < 6; i++)
		batch[i] = request(100 + i, 600);
	assert_int_equal(bans_add(&f->maps, batch, 6, BAN_ORIGIN_IP_RULE, why), -ENOSPC);
	assert_non_null(strstr(why, "no room"));
	for (unsigned int i = 0; i < 6; i++)
		assert_false(banned_by(f, 100 + i, BAN_ORIGIN_IP_RULE));
	for (unsigned int i = 1; i <= CAPACITY - 4; i++)
		assert_true(banned_by(f, i, BAN_ORIGIN_MANUAL));
}

static void a_rule_never_pushes_an_operators_ban_out(void **state)
{
	struct fixture *f = *state;
	struct ban_request rule = request(200, 600);
	char why[ERRMSG_LEN];

	fill_manually(f, CAPACITY);
	assert_int_equal(bans_add(&f->maps, &rule, 1, BAN_ORIGIN_IP_RULE, why), -ENOSPC);
	assert_false(banned_by(f, 200, BAN_ORIGIN_IP_RULE));
	for (unsigned int i = 1; i <= CAPACITY; i++)
		assert_true(banned_by(f, i, BAN_ORIGIN_MANUAL));
}

static void a_full_table_still_renews_a_ban(void **state)
{
	struct fixture *f = *state;
	struct ban_request renewal = request(3, 3600);
	struct ban_entry entry;
	char why[ERRMSG_LEN];

	fill_manually(f, CAPACITY);
	assert_int_equal(bans_add(&f->maps, &renewal, 1, BAN_ORIGIN_IP_RULE, why), 0);
	assert_int_equal(bans_lookup(&f->maps, &renewal.key, &entry), 0);
	assert_false(ban_is_permanent(&entry));
	assert_int_equal(entry.origin, BAN_ORIGIN_IP_RULE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_batch_that_does_not_fit_changes_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_rule_never_pushes_an_operators_ban_out, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_full_table_still_renews_a_ban, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
