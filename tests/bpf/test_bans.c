// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The ban and allowlist operations against real (private, unpinned) maps:
 * all-or-nothing changes, and LPM tries asked about exact keys, not about
 * whatever wider prefix covers them.
 */
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
#include <bpf/libbpf.h>
#include "lib/cidr.h"
#include "bans/bans.h"
#include "lib/duration.h"
#include "kernel/settings.h"
#include "xdp_fixture.h"

struct fixture {
	struct xdpban_bpf *skel;
	struct maps maps;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->skel = xdpban_load_private_maps("test_bans", &f->maps);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ban_table_release(&f->maps.bans);
	xdpban_bpf__destroy(f->skel);
	free(f);
	return 0;
}

static void ban(struct fixture *f, const char *text)
{
	struct ban_request req = { .key = unit_cidr(text), .permanent = true };
	char why[ERRMSG_LEN];

	assert_int_equal(bans_add(&f->maps, &req, 1, BAN_ORIGIN_MANUAL, why), 0);
}

static size_t ban_count(struct fixture *f)
{
	struct ban_record *records;
	size_t count;
	char why[ERRMSG_LEN];

	assert_int_equal(bans_list(&f->maps, &records, &count, why), 0);
	free(records);
	return count;
}

static void unbanning_a_prefix_inside_a_ban_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct lpm_key inner = unit_cidr("198.51.100.0/25");
	char why[ERRMSG_LEN];

	ban(f, "198.51.100.0/24");
	assert_int_equal(bans_remove(&f->maps, &inner, 1, why), -ENOENT);
	assert_why_has(why, "198.51.100.0/25 is not banned");
	assert_int_equal(ban_count(f), 1); /* no ghost /25 left behind */
}

static void unallowing_a_prefix_inside_an_allowed_one_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct lpm_key outer = unit_cidr("203.0.113.0/24"), inner = unit_cidr("203.0.113.0/25");
	struct allow_record *records;
	size_t count;
	char why[ERRMSG_LEN];

	assert_int_equal(bans_allow_add(&f->maps, &outer, 1, why), 0);
	assert_int_equal(bans_allow_remove(&f->maps, &inner, 1, why), -ENOENT);
	assert_int_equal(bans_allow_remove(&f->maps, &outer, 1, why), 0);
	assert_int_equal(bans_allow_list(&f->maps, &records, &count, why), 0);
	assert_int_equal(count, 0);
	free(records);
}

static void a_ban_inside_a_wider_ban_is_its_own_entry(void **state)
{
	struct fixture *f = *state;
	struct lpm_key inner = unit_cidr("198.51.100.0/25");
	char why[ERRMSG_LEN];

	ban(f, "198.51.100.0/24");
	ban(f, "198.51.100.0/25");
	assert_int_equal(ban_count(f), 2);
	assert_int_equal(bans_remove(&f->maps, &inner, 1, why), 0);
	assert_int_equal(ban_count(f), 1);
}

static void one_missing_prefix_unbans_nothing(void **state)
{
	struct fixture *f = *state;
	struct lpm_key keys[2] = { unit_cidr("192.0.2.1"), unit_cidr("192.0.2.2") };
	char why[ERRMSG_LEN];

	ban(f, "192.0.2.1");
	assert_int_equal(bans_remove(&f->maps, keys, 2, why), -ENOENT);
	assert_why_has(why, "192.0.2.2 is not banned");
	assert_int_equal(ban_count(f), 1);
}

static struct ban_request timed(const char *text, uint64_t seconds)
{
	struct ban_request req = { .key = unit_cidr(text), .seconds = seconds };

	return req;
}

static void add(struct fixture *f, const struct ban_request *req)
{
	char why[ERRMSG_LEN];

	assert_int_equal(bans_add(&f->maps, req, 1, BAN_ORIGIN_MANUAL, why), 0);
}

/* A decision the daemon takes for itself must not cut short a ban in force. */
static void a_ban_in_force_that_ends_later_outlasts_a_new_one(void **state)
{
	struct fixture *f = *state;
	struct ban_request five_min = timed("192.0.2.7", 300), hour = timed("192.0.2.7", 3600);
	struct ban_request forever = { .key = unit_cidr("192.0.2.7"), .permanent = true };
	struct ban_request wide = timed("198.51.100.0/24", 300);
	uint64_t now_ns = clock_now_ns();

	assert_false(bans_outlasted(&f->maps, &five_min, now_ns)); /* none yet */
	add(f, &hour);
	assert_true(bans_outlasted(&f->maps, &five_min, now_ns));
	assert_true(bans_outlasted(&f->maps, &hour, now_ns)); /* the same end: nothing to gain */
	assert_false(bans_outlasted(&f->maps, &forever, now_ns));
	/* An hour from now, the hour's ban has ended: anything new is longer. */
	assert_false(bans_outlasted(&f->maps, &five_min, now_ns + 3601 * NSEC_PER_SEC));
	add(f, &forever);
	assert_true(bans_outlasted(&f->maps, &hour, now_ns));
	assert_true(bans_outlasted(&f->maps, &forever, now_ns));
	/* Exactly the prefix: the /24's ban is not the address's. */
	ban(f, "198.51.100.0/25");
	assert_false(bans_outlasted(&f->maps, &wide, now_ns));
	add(f, &wide);
	wide.seconds = 60;
	assert_true(bans_outlasted(&f->maps, &wide, now_ns));
}

static void count_swept(void *ctx, const struct ban_record *ban)
{
	(void)ban;
	(*(size_t *)ctx)++;
}

/* A pass in slices (a step per daemon tick): the ended bans go, each told once; the rest stay. */
static void a_sweep_in_slices_ends_expired_bans_only(void **state)
{
	struct fixture *f = *state;
	uint64_t now_ns = clock_now_ns(), ended_ns = now_ns - 10 * NSEC_PER_SEC;
	const char *live[] = { "192.0.2.1", "2001:db8::1", "198.51.100.0/24" };
	const char *ended[] = { "192.0.2.2", "2001:db8::2", "203.0.113.0/24" };
	struct ban_sweep sweep = { 0 };
	struct ban_entry entry;
	char why[ERRMSG_LEN];
	size_t swept = 0;
	int steps = 0;
	bool done = false;

	assert_true(now_ns > 10 * NSEC_PER_SEC);
	for (int i = 0; i < 3; i++) {
		struct ban_request a = { .key = unit_cidr(live[i]), .seconds = 3600 };
		struct ban_request b = { .key = unit_cidr(ended[i]), .deadline_ns = ended_ns };

		assert_int_equal(bans_add(&f->maps, &a, 1, BAN_ORIGIN_MANUAL, why), 0);
		assert_int_equal(bans_add(&f->maps, &b, 1, BAN_ORIGIN_IP_RULE, why), 0);
	}
	while (!done) {
		assert_int_equal(
		    bans_sweep_step(&f->maps, now_ns, count_swept, &swept, &sweep, &done, why), 0);
		steps++;
	}
	assert_true(steps >= 2); /* IPv4's buckets, then IPv6's */
	assert_int_equal(swept, 3);
	assert_int_equal(sweep.running.swept, 3);
	assert_int_equal(sweep.running.live_addr, 2);
	assert_int_equal(sweep.running.live_cidr, 1);
	for (int i = 0; i < 3; i++) {
		struct lpm_key kept = unit_cidr(live[i]), gone = unit_cidr(ended[i]);

		assert_int_equal(bans_lookup(&f->maps, &kept, &entry), 0);
		assert_int_equal(bans_lookup(&f->maps, &gone, &entry), -ENOENT);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(unbanning_a_prefix_inside_a_ban_changes_nothing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
		    unallowing_a_prefix_inside_an_allowed_one_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(a_ban_inside_a_wider_ban_is_its_own_entry, setup,
						teardown),
		cmocka_unit_test_setup_teardown(one_missing_prefix_unbans_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(a_ban_in_force_that_ends_later_outlasts_a_new_one,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_sweep_in_slices_ends_expired_bans_only, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("bans", tests, NULL, NULL);
}
