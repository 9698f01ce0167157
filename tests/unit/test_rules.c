// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The rules at their exact edges: sliding windows to the nanosecond, the
 * account rule's fixed deadline and distinct-source condition, aggregation,
 * repeat offenders, and the memory bound under a flood of distinct sources
 * and names. Prints the rate of rules_feed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "unit.h"
#include "lib/cidr.h"
#include "detect/rules.h"
#include "lib/siphash.h"

#define S  1000000000ULL /* ns per second */
#define MS 1000000ULL

static struct rules *make(const struct rules_config *cfg)
{
	char why[ERRMSG_LEN] = "";
	struct rules *r = rules_new(cfg, why);

	if (!r)
		fail_msg("rules_new: %s", why);
	return r;
}

static struct rules *make_default(void)
{
	struct rules_config cfg;

	rules_config_default(&cfg);
	return make(&cfg);
}

static struct rules_decision failed_n(struct rules *r, const char *ip, const char *user,
				      unsigned int attempts, uint64_t now)
{
	struct auth_event ev = unit_event(AUTH_FAIL, ip, user, attempts, "");
	struct rules_decision d;

	rules_feed(r, &ev, now, &d);
	return d;
}

static struct rules_decision failed(struct rules *r, const char *ip, const char *user, uint64_t now)
{
	return failed_n(r, ip, user, 1, now);
}

static struct rules_decision failed_pw(struct rules *r, const char *ip, const char *user,
				       const char *pwhash, uint64_t now)
{
	struct auth_event ev = unit_event(AUTH_FAIL, ip, user, 1, pwhash);
	struct rules_decision d;

	rules_feed(r, &ev, now, &d);
	return d;
}

static struct rules_decision ok(struct rules *r, const char *ip, const char *user, uint64_t now)
{
	struct auth_event ev = unit_event(AUTH_OK, ip, user, 1, "");
	struct rules_decision d;

	rules_feed(r, &ev, now, &d);
	return d;
}

static void assert_key(const struct lpm_key *key, const char *expected)
{
	char text[CIDR_TEXT_LEN];

	cidr_format(key, text);
	assert_string_equal(text, expected);
}

/* ---- IP rule ---- */

static void four_failures_in_60s_do_not_ban(void **state)
{
	struct rules *r = make_default();
	struct rules_decision d;

	(void)state;
	for (int i = 0; i < 4; i++) {
		d = failed(r, "192.0.2.1", "", (uint64_t)i * 15 * S);
		assert_false(d.ban);
	}
	assert_int_equal(d.ip_failures, 4);
	rules_free(r);
}

static void five_within_59_9s_ban_for_300s(void **state)
{
	struct rules *r = make_default();
	struct rules_decision d;
	const uint64_t t0 = 1000 * S;

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_false(failed(r, "192.0.2.1", "", t0 + (uint64_t)i * 10 * S).ban);
	d = failed(r, "192.0.2.1", "", t0 + 59900 * MS);
	assert_true(d.ban);
	assert_true(d.ip_banned);
	assert_int_equal(d.ban_seconds, 300);
	assert_int_equal(d.ban_deadline_ns, t0 + 59900 * MS + 300 * S);
	assert_int_equal(d.repeat, 0);
	assert_int_equal(d.ip_key.prefixlen, 128);
	assert_key(&d.ip_key, "192.0.2.1");
	rules_free(r);
}

static void five_over_61s_do_not_ban(void **state)
{
	struct rules *r = make_default();

	(void)state;
	for (int i = 0; i < 5; i++) /* 0, 15.25, 30.5, 45.75, 61 s */
		assert_false(failed(r, "192.0.2.1", "", (uint64_t)i * 15250 * MS).ban);
	/* The window now holds 4; a 6th soon after makes 5 within 60 s. */
	assert_true(failed(r, "192.0.2.1", "", 62 * S).ban);
	rules_free(r);
}

static void window_is_inclusive_to_the_nanosecond(void **state)
{
	struct rules *r = make_default();

	(void)state;
	for (int i = 0; i < 4; i++)
		failed(r, "192.0.2.1", "", (uint64_t)i * S);
	assert_true(failed(r, "192.0.2.1", "", 60 * S).ban); /* exactly 60 s after the first */

	for (int i = 0; i < 4; i++)
		failed(r, "192.0.2.2", "", 100 * S + (uint64_t)i * S);
	assert_false(failed(r, "192.0.2.2", "", 160 * S + 1).ban);
	rules_free(r);
}

static void burst_straddling_a_minute_boundary_bans(void **state)
{
	struct rules *r = make_default();
	const uint64_t times[5] = { 55 * S, 57500 * MS, 60 * S, 62500 * MS, 65 * S };

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_false(failed(r, "198.51.100.7", "", times[i]).ban);
	assert_true(failed(r, "198.51.100.7", "", times[4]).ban);
	rules_free(r);
}

static void attempts_count_as_that_many_failures(void **state)
{
	struct rules *r = make_default();

	(void)state;
	assert_true(failed_n(r, "192.0.2.1", "", 5, 10 * S).ban);
	assert_false(failed_n(r, "192.0.2.2", "", 3, 10 * S).ban);
	assert_true(failed_n(r, "192.0.2.2", "", 2, 20 * S).ban);
	assert_true(failed_n(r, "192.0.2.3", "", 500, 20 * S).ban);
	/* attempts 0 is a source that did not say: one. */
	for (int i = 0; i < 4; i++)
		assert_false(failed_n(r, "192.0.2.4", "", 0, 20 * S).ban);
	assert_true(failed_n(r, "192.0.2.4", "", 0, 20 * S).ban);
	rules_free(r);
}

static void failures_during_a_ban_are_ignored_then_counting_restarts(void **state)
{
	struct rules *r = make_default();
	struct rules_decision d;
	struct rules_counters c;
	uint64_t deadline;

	(void)state;
	d = failed_n(r, "192.0.2.1", "", 5, 0);
	assert_true(d.ban);
	deadline = d.ban_deadline_ns;
	for (int i = 1; i <= 10; i++) {
		d = failed(r, "192.0.2.1", "", (uint64_t)i * S);
		assert_false(d.ban);
		assert_true(d.ip_banned);
		assert_int_equal(d.ban_deadline_ns, deadline);
	}
	rules_get_counters(r, &c);
	assert_int_equal(c.ignored_banned, 10);
	assert_int_equal(c.bans, 1);
	/* At the deadline the ban is over; its failures were not kept. */
	for (int i = 0; i < 4; i++)
		assert_false(failed(r, "192.0.2.1", "", deadline + (uint64_t)i * S).ban);
	assert_true(failed(r, "192.0.2.1", "", deadline + 4 * S).ban);
	rules_free(r);
}

static void sources_are_counted_apart(void **state)
{
	struct rules *r = make_default();

	(void)state;
	for (int i = 0; i < 4; i++) {
		assert_false(failed(r, "192.0.2.1", "", (uint64_t)i * S).ban);
		assert_false(failed(r, "192.0.2.2", "", (uint64_t)i * S).ban);
		assert_false(failed(r, "2001:db8::1", "", (uint64_t)i * S).ban);
		assert_false(failed(r, "2001:db8::2", "", (uint64_t)i * S).ban);
	}
	assert_true(failed(r, "2001:db8::2", "", 5 * S).ban);
	rules_free(r);
}

/* ---- account rule ---- */

static void account_failures_from_one_ip_do_not_block(void **state)
{
	struct rules *r = make_default();
	struct rules_decision d;

	(void)state;
	for (int i = 0; i < 4; i++) {
		d = failed(r, "192.0.2.1", "bob", (uint64_t)i * S);
		assert_false(d.block_started);
		assert_false(d.account_blocked);
	}
	assert_false(rules_account_blocked(r, "bob", 5 * S, NULL));
	rules_free(r);
}

static void account_failures_from_two_ips_block_for_600s(void **state)
{
	struct rules *r = make_default();
	struct rules_decision d;
	uint64_t deadline = 0;

	(void)state;
	assert_false(failed(r, "192.0.2.1", "bob", 10 * S).block_started);
	assert_false(failed(r, "192.0.2.1", "bob", 20 * S).block_started);
	d = failed(r, "198.51.100.9", "bob", 69 * S);
	assert_true(d.block_started);
	assert_true(d.account_blocked);
	assert_int_equal(d.block_deadline_ns, 69 * S + 600 * S);
	assert_string_equal(d.account, "bob");
	assert_false(d.ban);

	assert_true(rules_account_blocked(r, "bob", 70 * S, &deadline));
	assert_int_equal(deadline, 669 * S);
	assert_true(rules_account_blocked(r, "BOB", 70 * S, NULL)); /* case folded */
	assert_false(rules_account_blocked(r, "alice", 70 * S, NULL));
	assert_false(rules_account_blocked(r, "", 70 * S, NULL));
	rules_free(r);
}

static void block_deadline_is_never_moved(void **state)
{
	struct rules *r = make_default();
	struct rules_decision d;
	const uint64_t deadline = 2 * S + 600 * S;
	char ip[32];

	(void)state;
	failed(r, "192.0.2.1", "bob", 0);
	failed(r, "192.0.2.2", "bob", 1 * S);
	d = failed(r, "192.0.2.3", "bob", 2 * S);
	assert_true(d.block_started);
	assert_int_equal(d.block_deadline_ns, deadline);

	/* A storm on the blocked account from many sources, up to its last nanosecond. */
	for (int i = 0; i < 200; i++) {
		uint64_t now = 3 * S + (uint64_t)i * 3 * S;

		if (now >= deadline)
			now = deadline - 1;
		snprintf(ip, sizeof(ip), "203.0.113.%d", i % 250);
		d = failed(r, ip, "bob", now);
		assert_false(d.block_started);
		assert_true(d.account_blocked);
		assert_int_equal(d.block_deadline_ns, deadline);
	}
	assert_true(rules_account_blocked(r, "bob", deadline - 1, NULL));
	assert_false(rules_account_blocked(r, "bob", deadline, NULL));

	/* Ended: nothing from the storm was counted, so two failures do not block... */
	assert_false(failed(r, "192.0.2.1", "bob", deadline).account_blocked);
	assert_false(failed(r, "192.0.2.2", "bob", deadline + S).account_blocked);
	/* ...and a new burst blocks again, with a new deadline. */
	d = failed(r, "192.0.2.1", "bob", deadline + 2 * S);
	assert_true(d.block_started);
	assert_int_equal(d.block_deadline_ns, deadline + 2 * S + 600 * S);
	rules_free(r);
}

static void account_window_is_exact(void **state)
{
	struct rules *r = make_default();
	const uint64_t T = 100 * S;

	(void)state;
	/* A at 0 and 30, B at 61: the window at 61 holds two failures only. */
	assert_false(failed(r, "192.0.2.1", "bob", 0).block_started);
	assert_false(failed(r, "192.0.2.1", "bob", 30 * S).block_started);
	assert_false(failed(r, "192.0.2.2", "bob", 61 * S).block_started);
	/* A at 62: A@30, B@61, A@62 are three within 60 s from two sources. */
	assert_true(failed(r, "192.0.2.1", "bob", 62 * S).block_started);

	/* Two sources, but the second one's only failure has left the window. */
	assert_false(failed(r, "192.0.2.2", "carol", T + 0).block_started);
	assert_false(failed(r, "192.0.2.1", "carol", T + 50 * S).block_started);
	assert_false(failed(r, "192.0.2.1", "carol", T + 70 * S).block_started);
	assert_false(failed(r, "192.0.2.1", "carol", T + 80 * S).block_started);
	assert_true(failed(r, "192.0.2.3", "carol", T + 81 * S).block_started);
	rules_free(r);
}

/*
 * The distinct-source condition looks at every failure in the window, not
 * only the last account_failures: B, A, A, A, C within 60 s is 5 failures
 * from 3 sources even though no 3 consecutive ones come from 3 sources.
 */
static void distinct_sources_count_over_the_whole_window(void **state)
{
	struct rules_config cfg;
	struct rules *r;

	(void)state;
	rules_config_default(&cfg);
	cfg.account_min_ips = 3;
	r = make(&cfg);
	assert_false(failed(r, "192.0.2.2", "bob", 0).block_started);
	assert_false(failed(r, "192.0.2.1", "bob", 1 * S).block_started);
	assert_false(failed(r, "192.0.2.1", "bob", 2 * S).block_started);
	assert_false(failed(r, "192.0.2.1", "bob", 3 * S).block_started);
	assert_true(failed(r, "192.0.2.3", "bob", 4 * S).block_started);
	rules_free(r);
}

static void account_rule_can_need_one_source_only(void **state)
{
	struct rules_config cfg;
	struct rules *r;

	(void)state;
	rules_config_default(&cfg);
	cfg.account_min_ips = 1;
	r = make(&cfg);
	assert_false(failed(r, "192.0.2.1", "bob", 0).block_started);
	assert_false(failed(r, "192.0.2.1", "bob", 0).block_started);
	assert_true(failed(r, "192.0.2.1", "bob", 0).block_started);
	rules_free(r);
}

/* ---- success ---- */

static void success_forgives_only_what_it_explains(void **state)
{
	struct rules *r = make_default();
	struct rules_decision d;
	uint64_t t = 0;

	(void)state;
	/* A user who mistyped four times, then got in: the window is clear. */
	for (int i = 0; i < 4; i++)
		failed(r, "192.0.2.1", "bob", t += S);
	d = ok(r, "192.0.2.1", "bob", t += S);
	assert_int_equal(d.ip_failures, 0);
	for (int i = 0; i < 4; i++)
		assert_false(failed(r, "192.0.2.1", "bob", t += S).ban);

	/* Logging into one's own mailbox does not clear failures on others. */
	for (int i = 0; i < 4; i++)
		failed(r, "192.0.2.2", "victim", t += S);
	d = ok(r, "192.0.2.2", "mallory", t += S);
	assert_int_equal(d.ip_failures, 4);
	assert_true(failed(r, "192.0.2.2", "victim", t += S).ban);

	/* An account's failures from other sources stay after a success. */
	failed(r, "198.51.100.1", "carol", t += S);
	failed(r, "198.51.100.2", "carol", t += S);
	d = ok(r, "198.51.100.3", "carol", t += S);
	assert_int_equal(d.account_failures, 2);
	assert_true(failed(r, "198.51.100.2", "carol", t += S).block_started);

	/* The success's own source leaves the account's window and its source set. */
	failed(r, "198.51.100.1", "dave", t += S);
	failed(r, "198.51.100.1", "dave", t += S);
	d = ok(r, "198.51.100.1", "dave", t += S);
	assert_int_equal(d.account_failures, 0);
	assert_false(failed(r, "198.51.100.2", "dave", t += S).block_started);
	assert_false(failed(r, "198.51.100.2", "dave", t += S).block_started);
	assert_true(failed(r, "198.51.100.3", "dave", t += S).block_started);

	/* A success lifts neither a ban nor a block. */
	d = ok(r, "192.0.2.2", "victim", t += S);
	assert_true(d.ip_failures == 0 && !d.ban);
	assert_true(failed(r, "192.0.2.2", "victim", t += S).ip_banned);
	d = ok(r, "198.51.100.1", "dave", t += S);
	assert_true(d.account_blocked);
	assert_true(rules_account_blocked(r, "dave", t += S, NULL));

	/* Without a user name, a success forgives the source's nameless failures only. */
	failed(r, "192.0.2.3", "", t += S);
	failed(r, "192.0.2.3", "erin", t += S);
	d = ok(r, "192.0.2.3", "", t += S);
	assert_int_equal(d.ip_failures, 1);
	rules_free(r);
}

/* ---- distinct password hashes ---- */

static void same_password_hash_counts_once(void **state)
{
	struct rules_config cfg;
	struct rules *r;
	struct rules_decision d;
	struct rules_counters c;
	char hash[16];
	uint64_t t = 0;

	(void)state;
	rules_config_default(&cfg);
	cfg.distinct_passwords = true;
	r = make(&cfg);
	for (int i = 0; i < 10; i++) {
		d = failed_pw(r, "192.0.2.1", "bob", "5f4dcc3b", t += S);
		assert_false(d.ban);
		assert_int_equal(d.ip_failures, 1);
	}
	rules_get_counters(r, &c);
	assert_int_equal(c.duplicates, 2 * 9); /* both rules saw nine repeats */
	/* Four other passwords make five guesses. */
	for (int i = 0; i < 4; i++) {
		snprintf(hash, sizeof(hash), "h%d", i);
		d = failed_pw(r, "192.0.2.1", "bob", hash, t += S);
	}
	assert_true(d.ban);

	/* Out of the window, the same hash is a new failure again. */
	for (int i = 0; i < 4; i++)
		assert_false(failed_pw(r, "192.0.2.9", "", "aaaa", t += 61 * S).ban);
	/* A line without a hash counts as usual; attempts count once with a hash. */
	assert_false(failed_n(r, "192.0.2.9", "", 1, t += S).ban);
	assert_false(failed_pw(r, "192.0.2.9", "", "bbbb", t += S).ban);
	d = failed_pw(r, "192.0.2.9", "", "bbbb", t += S); /* 3 in the window: aaaa, -, bbbb */
	assert_int_equal(d.ip_failures, 3);
	assert_true(failed_n(r, "192.0.2.9", "", 2, t += S).ban);

	/* A phone and a laptop with one stale password: one guess on the account. */
	failed_pw(r, "198.51.100.1", "carol", "stale", t += S);
	failed_pw(r, "198.51.100.2", "carol", "stale", t += S);
	d = failed_pw(r, "198.51.100.1", "carol", "stale", t += S);
	assert_false(d.block_started);
	assert_int_equal(d.account_failures, 1);
	rules_free(r);
}

static void hashes_are_ignored_unless_enabled(void **state)
{
	struct rules *r = make_default();

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_false(failed_pw(r, "192.0.2.1", "", "same", (uint64_t)i * S).ban);
	assert_true(failed_pw(r, "192.0.2.1", "", "same", 4 * S).ban);
	rules_free(r);
}

/* ---- aggregation ---- */

static void ipv6_64_aggregation_bans_the_prefix(void **state)
{
	struct rules_config cfg;
	struct rules *r;
	struct rules_decision d;
	char ip[64];

	(void)state;
	rules_config_default(&cfg);
	cfg.ipv6_prefix = 64;
	r = make(&cfg);
	for (int i = 1; i <= 4; i++) {
		snprintf(ip, sizeof(ip), "2001:db8:1:2:%x::%x", i * 0x1111, i);
		d = failed(r, ip, "", (uint64_t)i * S);
		assert_false(d.ban);
		assert_int_equal(d.ip_failures, i);
		assert_key(&d.ip_key, "2001:db8:1:2::/64");
	}
	/* A neighbouring /64 is counted apart. */
	d = failed(r, "2001:db8:1:3::1", "", 5 * S);
	assert_false(d.ban);
	assert_int_equal(d.ip_failures, 1);
	d = failed(r, "2001:db8:1:2:ffff:ffff:ffff:ffff", "", 6 * S);
	assert_true(d.ban);
	assert_int_equal(d.ip_key.prefixlen, 64);
	assert_key(&d.ip_key, "2001:db8:1:2::/64");
	/* Any address of the banned /64 is under that ban. */
	d = failed(r, "2001:db8:1:2::abcd", "", 7 * S);
	assert_true(d.ip_banned);
	assert_false(d.ban);

	/* IPv4 stays per address; a /64 holding all of IPv4 is never formed. */
	d = failed(r, "192.0.2.1", "", 8 * S);
	assert_key(&d.ip_key, "192.0.2.1");
	d = failed(r, "::5", "", 8 * S);
	assert_int_equal(d.ip_key.prefixlen, 128);
	assert_key(&d.ip_key, "::5");
	d = failed(r, "64:ff9b::1", "", 8 * S);
	assert_key(&d.ip_key, "64:ff9b::/64");
	rules_free(r);
}

static void distinct_sources_are_prefixes_under_aggregation(void **state)
{
	struct rules_config cfg;
	struct rules *r;

	(void)state;
	rules_config_default(&cfg);
	cfg.ipv6_prefix = 64;
	r = make(&cfg);
	/* Three addresses of one /64 are one source for the account rule. */
	assert_false(failed(r, "2001:db8:0:1::1", "bob", 0).block_started);
	assert_false(failed(r, "2001:db8:0:1::2", "bob", S).block_started);
	assert_false(failed(r, "2001:db8:0:1::3", "bob", 2 * S).block_started);
	assert_true(failed(r, "2001:db8:0:2::1", "bob", 3 * S).block_started);
	rules_free(r);
}

static void ipv4_aggregation_is_available(void **state)
{
	struct rules_config cfg;
	struct rules *r;
	struct rules_decision d;
	char ip[32];

	(void)state;
	rules_config_default(&cfg);
	cfg.ipv4_prefixlen = 24;
	r = make(&cfg);
	for (int i = 1; i <= 5; i++) {
		snprintf(ip, sizeof(ip), "203.0.113.%d", i * 40);
		d = failed(r, ip, "", (uint64_t)i * S);
	}
	assert_true(d.ban);
	assert_key(&d.ip_key, "203.0.113.0/24");
	rules_free(r);
}

/* ---- repeat offenders ---- */

static uint64_t ban_once(struct rules *r, const char *ip, uint64_t now, unsigned int *seconds,
			 unsigned int *repeat)
{
	struct rules_decision d = failed_n(r, ip, "", 5, now);

	assert_true(d.ban);
	*seconds = d.ban_seconds;
	*repeat = d.repeat;
	return d.ban_deadline_ns;
}

static void repeat_offenders_multiply_up_to_the_cap(void **state)
{
	struct rules_config cfg;
	struct rules *r;
	unsigned int seconds, repeat;
	uint64_t end;
	const unsigned int expected[] = { 300, 600, 1200, 2000, 2000 };

	(void)state;
	rules_config_default(&cfg);
	cfg.repeat_multiplier = 2;
	cfg.repeat_max = 2000;
	cfg.repeat_forget = 3600;
	r = make(&cfg);
	end = 0;
	for (unsigned int i = 0; i < 5; i++) {
		end = ban_once(r, "192.0.2.1", end + 10 * S, &seconds, &repeat);
		assert_int_equal(seconds, expected[i]);
		assert_int_equal(repeat, i);
	}
	/* Forgotten exactly repeat_forget after the last ban ended. */
	ban_once(r, "192.0.2.1", end + 3600 * S - 1, &seconds, &repeat);
	assert_int_equal(seconds, 2000);
	assert_int_equal(repeat, 5);
	end += 3600 * S - 1 + 2000 * S;
	ban_once(r, "192.0.2.1", end + 3600 * S, &seconds, &repeat);
	assert_int_equal(seconds, 300);
	assert_int_equal(repeat, 0);
	/* Another source starts at the base. */
	ban_once(r, "192.0.2.2", end, &seconds, &repeat);
	assert_int_equal(seconds, 300);
	rules_free(r);
}

static void repeat_is_reported_but_not_applied_when_off(void **state)
{
	struct rules *r = make_default();
	unsigned int seconds, repeat;
	uint64_t end;

	(void)state;
	end = ban_once(r, "192.0.2.1", 0, &seconds, &repeat);
	ban_once(r, "192.0.2.1", end, &seconds, &repeat);
	assert_int_equal(seconds, 300);
	assert_int_equal(repeat, 1);
	rules_free(r);
}

/* ---- restore, unban, expiry, config ---- */

static void restored_state_is_honoured(void **state)
{
	struct rules_config cfg;
	struct rules *r;
	struct lpm_key key;
	struct rules_decision d;
	char why[ERRMSG_LEN];
	uint64_t deadline;
	unsigned int seconds, repeat;

	(void)state;
	rules_config_default(&cfg);
	cfg.repeat_multiplier = 2;
	r = make(&cfg);
	assert_int_equal(cidr_parse("192.0.2.1", &key, why), 0);
	assert_true(rules_restore_ban(r, &key, 100 * S, 2, 10 * S));
	assert_true(failed(r, "192.0.2.1", "", 50 * S).ip_banned);
	/* A key this config would not form is refused. */
	assert_int_equal(cidr_parse("198.51.100.0/24", &key, why), 0);
	assert_false(rules_restore_ban(r, &key, 100 * S, 1, 50 * S));

	rules_restore_block(r, "Bob", 700 * S, 50 * S);
	rules_restore_block(r, "gone", 50 * S, 50 * S); /* already over */
	assert_true(rules_account_blocked(r, "bob", 60 * S, &deadline));
	assert_int_equal(deadline, 700 * S);
	assert_false(rules_account_blocked(r, "gone", 60 * S, NULL));
	d = failed(r, "192.0.2.7", "bob", 70 * S);
	assert_true(d.account_blocked);
	assert_int_equal(d.block_deadline_ns, 700 * S);

	/* The restored ban count carries on. */
	ban_once(r, "192.0.2.1", 100 * S, &seconds, &repeat);
	assert_int_equal(repeat, 2);
	assert_int_equal(seconds, 1200);
	rules_free(r);
}

static void unban_and_unblock_restart_counting(void **state)
{
	struct rules *r = make_default();
	struct rules_decision d;

	(void)state;
	d = failed_n(r, "192.0.2.1", "", 5, 0);
	assert_true(d.ban);
	rules_unban(r, &d.ip_key, S);
	for (int i = 0; i < 4; i++)
		assert_false(failed(r, "192.0.2.1", "", 2 * S).ban);
	d = failed(r, "192.0.2.1", "", 2 * S);
	assert_true(d.ban);
	assert_int_equal(d.repeat, 1);

	failed(r, "198.51.100.1", "bob", 3 * S);
	failed(r, "198.51.100.2", "bob", 3 * S);
	assert_true(failed(r, "198.51.100.2", "bob", 3 * S).block_started);
	rules_unblock(r, "BOB");
	assert_false(rules_account_blocked(r, "bob", 4 * S, NULL));
	assert_false(failed(r, "198.51.100.2", "bob", 4 * S).account_blocked);
	rules_free(r);
}

static void expiry_frees_dead_entries_only(void **state)
{
	struct rules *r = make_default();
	struct rules_counters c;

	(void)state;
	failed(r, "192.0.2.1", "alice", 0);
	failed(r, "192.0.2.2", "alice", 30 * S);
	failed_n(r, "192.0.2.3", "", 5, 30 * S); /* banned until 330 s */
	failed(r, "198.51.100.1", "bob", 30 * S);
	failed(r, "198.51.100.2", "bob", 30 * S);
	failed(r, "198.51.100.2", "bob", 30 * S); /* blocked until 630 s */
	rules_get_counters(r, &c);
	assert_int_equal(c.ips, 4);
	assert_int_equal(c.accounts, 1);
	assert_int_equal(c.blocks_held, 1);
	assert_int_equal(c.offenders, 1);

	assert_int_equal(rules_expire(r, 60 * S), 0);
	assert_int_equal(rules_expire(r, 61 * S), 1);	  /* 192.0.2.1: its one failure left */
	assert_int_equal(rules_expire(r, 90 * S + 1), 4); /* three sources and alice */
	assert_int_equal(rules_expire(r, 630 * S - 1), 0);
	assert_int_equal(rules_expire(r, 630 * S), 1); /* the block ends at its deadline */
	assert_int_equal(rules_expire(r, 330 * S + 86400 * S), 1); /* the ban history */
	rules_get_counters(r, &c);
	assert_int_equal(c.ips + c.accounts + c.blocks_held + c.offenders, 0);
	assert_int_equal(c.events, 6);
	assert_int_equal(c.failures, 6);
	assert_int_equal(c.bans, 1);
	assert_int_equal(c.blocks, 1);
	rules_free(r);
}

static void bad_settings_are_named(void **state)
{
	struct rules_config cfg;
	char why[ERRMSG_LEN] = "";

	(void)state;
	rules_config_default(&cfg);
	assert_int_equal(rules_config_check(&cfg, why), 0);
	cfg.ip_failures = RULES_MAX_THRESHOLD + 1;
	assert_int_equal(rules_config_check(&cfg, why), -EINVAL);
	assert_why_has(why, "ip_failures");
	rules_config_default(&cfg);
	cfg.ipv6_prefix = 129;
	assert_null(rules_new(&cfg, why));
	assert_why_has(why, "ipv6_prefix");
	rules_config_default(&cfg);
	cfg.repeat_multiplier = 2;
	cfg.repeat_max = 100; /* shorter than a first ban */
	assert_int_equal(rules_config_check(&cfg, why), -EINVAL);
	assert_why_has(why, "repeat_max");
	rules_config_default(&cfg);
	cfg.max_tracked_ips = 0;
	assert_int_equal(rules_config_check(&cfg, why), -EINVAL);
	assert_why_has(why, "max_tracked_ips");
}

static void rules_can_be_turned_off(void **state)
{
	struct rules_config cfg;
	struct rules *r;

	(void)state;
	rules_config_default(&cfg);
	cfg.ip_failures = 0;
	cfg.account_failures = 0;
	r = make(&cfg);
	for (int i = 0; i < 50; i++) {
		struct rules_decision d = failed(r, i % 2 ? "192.0.2.1" : "192.0.2.2", "bob", 0);

		assert_false(d.ban);
		assert_false(d.account_blocked);
	}
	rules_free(r);
}

/* ---- SipHash: the reference vectors (key 00..0f, message 00..len-1) ---- */

static void siphash_matches_the_reference(void **state)
{
	const struct siphash_key key = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };
	const uint8_t want128_0[16] = { 0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6,
					0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55, 0x02, 0x93 };
	const uint8_t want128_1[16] = { 0xda, 0x87, 0xc1, 0xd8, 0x6b, 0x99, 0xaf, 0x44,
					0x34, 0x76, 0x59, 0x11, 0x9b, 0x22, 0xfc, 0x45 };
	uint8_t msg[64], got[16];
	uint64_t out[2];

	(void)state;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	assert_int_equal(siphash64(&key, msg, 0), 0x726fdb47dd0e0e31ULL);
	assert_int_equal(siphash64(&key, msg, 15), 0xa129ca6149be45e5ULL);
	assert_int_equal(siphash64(&key, msg, 16), 0x3f2acc7f57c29bdbULL);
	assert_int_equal(siphash64(&key, msg, 63), 0x958a324ceb064572ULL);
	siphash128(&key, msg, 0, out);
	memcpy(got, out, 16); /* little-endian host */
	assert_memory_equal(got, want128_0, 16);
	siphash128(&key, msg, 1, out);
	memcpy(got, out, 16);
	assert_memory_equal(got, want128_1, 16);
}

/* ---- memory bound and the flood ---- */

static void memory_bound_follows_the_formula(void **state)
{
	struct rules_config cfg;

	(void)state;
	rules_config_default(&cfg);
	assert_int_equal(rules_memory_bound(&cfg), 35393536);
	printf("  memory bound, defaults: %zu bytes\n", rules_memory_bound(&cfg));
	cfg.distinct_passwords = true; /* sources +40 B, accounts +24 B per slot */
	assert_int_equal(rules_memory_bound(&cfg), 35393536 + 262144 * 40 + 65536 * 24);
	rules_config_default(&cfg);
	cfg.max_tracked_ips = 1000; /* 125 sets of 8 */
	assert_true(rules_memory_bound(&cfg) < 35393536 - 261000 * 92);
}

static size_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, resident = 0;

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%lu %lu", &size, &resident), 2);
	fclose(f);
	return resident * (size_t)sysconf(_SC_PAGESIZE);
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static const char hexdigits[] = "0123456789abcdef";

/*
 * Flood event i: a distinct source (10.x.y.z for even i, 2001:db8:ff00::/40
 * for odd i) and a distinct user name, never repeated in a run.
 */
static void flood_event(struct auth_event *ev, uint64_t i)
{
	uint64_t x = mix(i);

	if (i % 2 == 0) {
		uint32_t v4 = (uint32_t)((i / 2) * 0x9E3779B1ULL) & 0xffffff; /* a bijection */

		memset(ev->ip.addr, 0, 10);
		ev->ip.addr[10] = ev->ip.addr[11] = 0xff;
		ev->ip.addr[12] = 10;
		ev->ip.addr[13] = (uint8_t)(v4 >> 16);
		ev->ip.addr[14] = (uint8_t)(v4 >> 8);
		ev->ip.addr[15] = (uint8_t)v4;
	} else {
		ev->ip.addr[0] = 0x20;
		ev->ip.addr[1] = 0x01;
		ev->ip.addr[2] = 0x0d;
		ev->ip.addr[3] = 0xb8;
		ev->ip.addr[4] = 0xff;
		memcpy(ev->ip.addr + 5, &x, 8);
		memcpy(ev->ip.addr + 13, &i, 3);
	}
	ev->user[0] = 'u';
	for (int d = 0; d < 16; d++)
		ev->user[1 + d] = hexdigits[(i >> (4 * d)) & 15];
	ev->user[17] = '\0';
}

#define FLOOD_EVENTS 5000000ULL
#define FLOOD_STEP   (10 * 1000ULL) /* 10 us apart: 50 s in all, inside one window */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * S + (uint64_t)ts.tv_nsec;
}

/*
 * 5,000,000 failures from distinct sources with distinct user names, 50 s of
 * them, all inside one 60 s window (nothing dies of age; every table fills
 * and evicts live entries). Among them:
 *   fast:   5 failures 20,000 events apart -> banned;
 *   sticky: 2 failures close together, then 3 more 1,000,000 events apart
 *           -> banned (two failures outvalue the flood's one);
 *   slow:   5 failures 1,000,000 events apart -> forgotten each time (the
 *           trade-off: a first failure survives only ~max_tracked_ips new sources);
 *   an account attacked from a botnet, a failure every 10,000 events
 *           -> blocked (it gets in within a few failures: the lottery).
 */
static void flood_keeps_memory_flat_and_catches_real_attackers(void **state)
{
	struct rules_config cfg;
	struct rules *r;
	struct auth_event ev, attack;
	struct rules_decision d;
	struct rules_counters c;
	size_t bound, rss_before, rss_created, rss_warm = 0, rss_after;
	bool fast = false, sticky = false, slow = false, blocked = false;
	uint64_t t = 1000 * S, started, elapsed, generation;

	(void)state;
	rules_config_default(&cfg);
	bound = rules_memory_bound(&cfg);
	rss_before = rss_bytes();
	r = make(&cfg);
	rss_created = rss_bytes();
	memset(&ev, 0, sizeof(ev));
	ev.outcome = AUTH_FAIL;
	ev.attempts = 1;
	snprintf(ev.service, sizeof(ev.service), "imap");

	started = now_ns();
	for (uint64_t i = 0; i < FLOOD_EVENTS; i++, t += FLOOD_STEP) {
		flood_event(&ev, i);
		rules_feed(r, &ev, t, &d);
		assert_false(d.ban);
		if (i == 1000000)
			rss_warm = rss_bytes();
		if (i >= 2000000 && i < 2100000 && (i - 2000000) % 20000 == 0) {
			attack = unit_event(AUTH_FAIL, "192.0.2.66", "", 1, "");
			rules_feed(r, &attack, t, &d);
			fast |= d.ban;
		}
		if (i == 1000001 || i == 1000002 || i == 2000003 || i == 3000003 || i == 4000003) {
			attack = unit_event(AUTH_FAIL, "192.0.2.77", "", 1, "");
			rules_feed(r, &attack, t, &d);
			sticky |= d.ban;
		}
		if (i % 1000000 == 5) {
			attack = unit_event(AUTH_FAIL, "192.0.2.88", "", 1, "");
			rules_feed(r, &attack, t, &d);
			slow |= d.ban;
		}
		if (i >= 3000000 && i < 3400000 && i % 10000 == 0 && !blocked) {
			char botnet[32]; /* a new address each time: none reaches the IP rule */

			snprintf(botnet, sizeof(botnet), "203.0.113.%llu",
				 (unsigned long long)(i - 3000000) / 10000 + 1);
			attack = unit_event(AUTH_FAIL, botnet, "postmaster", 1, "");
			rules_feed(r, &attack, t, &d);
			blocked |= d.block_started;
		}
	}
	elapsed = now_ns() - started;
	rss_after = rss_bytes();
	rules_get_counters(r, &c);
	started = now_ns();
	for (uint64_t i = 0; i < FLOOD_EVENTS; i++) {
		flood_event(&ev, i);
		__asm__ volatile("" : : "r"(&ev) : "memory"); /* keep the generation */
	}
	generation = now_ns() - started;

	printf("  flood: %llu events in %.2f s = %.2f M events/s; without generating them %.2f M "
	       "events/s\n",
	       (unsigned long long)c.events, elapsed / 1e9, c.events * 1e3 / elapsed,
	       c.events * 1e3 / (elapsed - generation));
	printf("  bound %zu B; RSS +%zu B at creation, +%zd B over 1M..5M events\n", bound,
	       rss_created - rss_before, (ssize_t)(rss_after - rss_warm));
	printf("  evictions: %llu sources, %llu accounts; held: %llu sources, %llu accounts\n",
	       (unsigned long long)c.ip_evictions, (unsigned long long)c.account_evictions,
	       (unsigned long long)c.ips, (unsigned long long)c.accounts);

	assert_true(rss_created - rss_before <= bound + 1024 * 1024);
	assert_true(rss_created - rss_before >= bound * 9 / 10); /* populated up front */
	assert_true(rss_after <= rss_created + 1024 * 1024);
	assert_true(rss_after <= rss_warm + 128 * 1024);
	assert_true(c.ip_evictions > FLOOD_EVENTS - 262144 * 2);
	/* A new name in a full set evicts one time in 4; otherwise it goes untracked. */
	assert_true(c.account_evictions + c.account_untracked > FLOOD_EVENTS - 65536 * 2);
	assert_true(c.account_evictions > FLOOD_EVENTS / 8);
	assert_true(c.account_untracked > FLOOD_EVENTS / 2);
	assert_int_equal(c.evictions, c.ip_evictions + c.account_evictions + c.block_evictions +
					  c.offender_evictions);
	assert_true(c.ips <= 262144 && c.ips > 262144 * 9 / 10);
	assert_true(c.accounts <= 65536 && c.accounts > 65536 * 9 / 10);
	assert_true(fast);
	assert_true(sticky);
	assert_false(slow);
	assert_true(blocked);
	assert_int_equal(c.bans, 2);
	assert_int_equal(c.blocks, 1);
	rules_free(r);
}

/* ---- the account table under a spray ---- */

static void set_source(struct auth_event *ev, uint8_t net, uint64_t n)
{
	uint32_t v = (uint32_t)mix(n) & 0xffffff;

	memset(ev->ip.addr, 0, 10);
	ev->ip.addr[10] = ev->ip.addr[11] = 0xff;
	ev->ip.addr[12] = net;
	ev->ip.addr[13] = (uint8_t)(v >> 16);
	ev->ip.addr[14] = (uint8_t)(v >> 8);
	ev->ip.addr[15] = (uint8_t)v;
}

#define SPRAY_NAMES   100000U
#define SPRAY_PASSES  3
#define SPRAY_STEP    (100 * 1000ULL) /* 100 us apart: 30 s for the three passes */
#define SPRAY_TARGETS 10U

/*
 * A password spray: 100,000 names (more than the 65,536 the account table
 * holds), one failure each per pass from a fresh botnet address, three
 * passes in 30 s, so every name meets the account rule (3 failures, 3
 * sources, in 60 s). Beside it a real botnet attack on 10 accounts,
 * starting with the second pass (the table full by then), each failing
 * from a new address every 0.5 s. Replacing the least recent entry pushed
 * each name out before its next pass: 8% of the sprayed names were
 * blocked. Now most of the names the table can hold are, and every target
 * is (a new account in a full table gets in one time in 4: within a few
 * failures).
 */
static void a_spray_of_more_names_than_the_table_holds(void **state)
{
	static bool sprayed_blocked[SPRAY_NAMES];
	bool target_blocked[SPRAY_TARGETS] = { false };
	struct rules *r = make_default();
	struct rules_counters c;
	struct rules_decision d;
	struct auth_event ev = unit_event(AUTH_FAIL, "10.0.0.1", "", 1, "");
	uint64_t t = 1000 * S, next_target = t + 10 * S, botnet = 0;
	unsigned int blocked = 0, targets = 0;

	(void)state;
	memset(sprayed_blocked, 0, sizeof(sprayed_blocked));
	for (uint64_t i = 0; i < (uint64_t)SPRAY_NAMES * SPRAY_PASSES; i++, t += SPRAY_STEP) {
		unsigned int name = (unsigned int)(i % SPRAY_NAMES);

		snprintf(ev.user, sizeof(ev.user), "spray%u", name);
		set_source(&ev, 10, i);
		rules_feed(r, &ev, t, &d);
		sprayed_blocked[name] |= d.block_started;
		for (; next_target <= t; next_target += 500 * MS) {
			for (unsigned int k = 0; k < SPRAY_TARGETS; k++) {
				struct auth_event a = ev;

				snprintf(a.user, sizeof(a.user), "admin%u", k);
				set_source(&a, 172, botnet++);
				rules_feed(r, &a, next_target, &d);
				target_blocked[k] |= d.block_started;
			}
		}
	}
	for (unsigned int i = 0; i < SPRAY_NAMES; i++)
		blocked += sprayed_blocked[i];
	for (unsigned int k = 0; k < SPRAY_TARGETS; k++)
		targets += target_blocked[k];
	rules_get_counters(r, &c);
	printf("  spray: %u of %u sprayed names that met the account rule blocked (%.1f%%); "
	       "%u of %u targets blocked\n",
	       blocked, SPRAY_NAMES, 100.0 * blocked / SPRAY_NAMES, targets, SPRAY_TARGETS);
	printf("  spray: %llu account evictions (%llu with 2+ sources), %llu failures untracked, "
	       "saturated %llu\n",
	       (unsigned long long)c.account_evictions,
	       (unsigned long long)c.account_rich_evictions,
	       (unsigned long long)c.account_untracked, (unsigned long long)c.accounts_saturated);
	assert_int_equal(targets, SPRAY_TARGETS);
	assert_true(blocked > SPRAY_NAMES * 2 / 5); /* 56% measured; was 8% */
	rules_free(r);
}

/*
 * One set of 8 accounts, each seen from two sources: a new name evicts one
 * only when it wins the lottery, and that eviction (a multi-source account
 * lost) is counted and flags the table as saturated for one window.
 */
static void evicting_a_multi_source_account_flags_saturation(void **state)
{
	struct rules_config cfg;
	struct rules *r;
	struct rules_counters c;
	char name[32];
	int tries = 0;

	(void)state;
	rules_config_default(&cfg);
	cfg.max_tracked_accounts = 8;
	r = make(&cfg);
	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "victim%d", i);
		failed(r, "192.0.2.1", name, 10 * S);
		failed(r, "192.0.2.2", name, 10 * S);
	}
	rules_get_counters(r, &c);
	assert_int_equal(c.accounts, 8);
	assert_int_equal(c.accounts_saturated, 0);
	assert_int_equal(c.account_evictions, 0);
	/* Single-source names: never worth more than the victims, one in 4 gets in. */
	do {
		snprintf(name, sizeof(name), "new%d", tries++);
		failed(r, "198.51.100.1", name, 20 * S);
		rules_get_counters(r, &c);
	} while (c.account_evictions == 0 && tries < 1000);
	assert_int_equal(c.account_evictions, 1);
	assert_int_equal(c.account_rich_evictions, 1);
	assert_int_equal(c.account_untracked, (uint64_t)tries - 1);
	assert_int_equal(c.accounts_saturated, 1);
	printf("  saturation: a two-source account evicted after %d new names\n", tries);
	/* The flag lasts one account_window after that eviction, to the nanosecond. */
	rules_expire(r, 80 * S);
	rules_get_counters(r, &c);
	assert_int_equal(c.accounts_saturated, 1);
	rules_expire(r, 80 * S + 1);
	rules_get_counters(r, &c);
	assert_int_equal(c.accounts_saturated, 0);
	assert_int_equal(c.account_rich_evictions, 1);
	rules_free(r);
}

/*
 * The accounts kept are those seen from the most sources: in a full set, a
 * two-source account outlives single-source ones that failed more often
 * and more recently.
 */
static void two_sources_outvalue_more_failures_from_one(void **state)
{
	struct rules_config cfg;
	struct rules *r;
	struct rules_decision d;
	char name[32];

	(void)state;
	rules_config_default(&cfg);
	cfg.account_failures = 5;
	cfg.max_tracked_accounts = 8;
	r = make(&cfg);
	failed(r, "192.0.2.1", "target", 10 * S);
	failed(r, "192.0.2.2", "target", 10 * S); /* 2 sources, 2 failures */
	for (int i = 0; i < 7; i++) {
		snprintf(name, sizeof(name), "busy%d", i);
		failed_n(r, "198.51.100.1", name, 4, 20 * S); /* 1 source, 4 failures, newer */
	}
	/* New names until 8 have got in: each eviction took a busy one, never the target. */
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "new%d", i);
		failed(r, "198.51.100.2", name, 30 * S);
	}
	failed(r, "192.0.2.3", "target", 40 * S);
	failed(r, "192.0.2.3", "target", 40 * S);
	d = failed(r, "192.0.2.3", "target", 40 * S);
	assert_int_equal(d.account_failures, 5);
	assert_true(d.block_started);
	rules_free(r);
}

/* ---- the pending failures across a restart ---- */

struct saved {
	unsigned char *data;
	size_t len, cap;
};

static void save_sink(void *ctx, const void *data, size_t len)
{
	struct saved *out = ctx;

	if (out->len + len > out->cap) {
		out->cap = (out->len + len) * 2;
		out->data = realloc(out->data, out->cap);
		assert_non_null(out->data);
	}
	memcpy(out->data + out->len, data, len);
	out->len += len;
}

/* rules saved at now_ns (wall clock wall_us), then freed. */
static struct saved save_and_free(struct rules *r, uint64_t now_ns, int64_t wall_us)
{
	struct saved out = { 0 };
	struct rules_state_counts counts;

	rules_save_state(r, now_ns, wall_us, save_sink, &out, &counts);
	rules_free(r);
	return out;
}

static struct rules *restored(const struct rules_config *cfg, const struct saved *state,
			      uint64_t now_ns, int64_t wall_us, struct rules_state_counts *counts)
{
	struct rules *r = make(cfg);
	char why[ERRMSG_LEN] = "";

	if (rules_restore_state(r, state->data, state->len, now_ns, wall_us, counts, why))
		fail_msg("rules_restore_state: %s", why);
	return r;
}

/*
 * The daemon restarted between an address's failures 3 and 4 (10 s down,
 * and a reboot: the monotonic clock starts again): the 5th still bans, and
 * an account's two sources still count, the block coming on the 3rd.
 */
static void a_restart_keeps_the_pending_failures(void **state)
{
	struct rules_config cfg;
	struct rules *r;
	struct rules_state_counts counts;
	struct rules_decision d;
	struct saved saved;

	(void)state;
	rules_config_default(&cfg);
	r = make(&cfg);
	for (int i = 0; i < 3; i++)
		assert_false(failed(r, "192.0.2.1", "", 1000 * S + (uint64_t)i * S).ban);
	failed(r, "198.51.100.1", "Bob", 1001 * S);
	failed(r, "198.51.100.2", "bob", 1002 * S);
	saved = save_and_free(r, 1005 * S, 1700000000000000LL);

	r = restored(&cfg, &saved, 40 * S, 1700000010000000LL, &counts);
	assert_int_equal(counts.ips, 3);
	assert_int_equal(counts.accounts, 1);
	d = failed(r, "192.0.2.1", "", 41 * S);
	assert_false(d.ban);
	assert_int_equal(d.ip_failures, 4);
	assert_true(failed(r, "192.0.2.1", "", 42 * S).ban);
	d = failed(r, "198.51.100.3", "BOB", 42 * S);
	assert_true(d.block_started);
	assert_int_equal(d.account_failures, 3);
	rules_free(r);
	free(saved.data);
}

/*
 * Each failure keeps its age, the downtime counted: one 50 s old at the
 * save, after 5 s down, has 5 s left in its 60 s window, to the nanosecond.
 */
static void restored_failures_age_through_the_downtime(void **state)
{
	struct rules_config cfg;
	struct rules *r;
	struct rules_state_counts counts;
	struct saved saved;

	(void)state;
	rules_config_default(&cfg);
	r = make(&cfg);
	failed_n(r, "192.0.2.1", "", 4, 950 * S); /* 50 s old at the save */
	failed(r, "192.0.2.2", "", 900 * S);	  /* 100 s old: out already */
	failed(r, "192.0.2.3", "", 990 * S);	  /* 10 s old */
	saved = save_and_free(r, 1000 * S, 1700000000000000LL);

	r = restored(&cfg, &saved, 2000 * S, 1700000005000000LL, &counts);
	assert_int_equal(counts.ips, 2);
	/* 55 s old now: in the window until 2005 s. */
	assert_true(failed(r, "192.0.2.1", "", 2005 * S).ban);
	rules_free(r);
	r = restored(&cfg, &saved, 2000 * S, 1700000005000000LL, &counts);
	assert_int_equal(failed(r, "192.0.2.1", "", 2005 * S + 1).ip_failures, 1);
	rules_free(r);

	/* 55 s down: 105 and 65 s old, both out. */
	r = restored(&cfg, &saved, 2000 * S, 1700000055000000LL, &counts);
	assert_int_equal(counts.ips, 0);
	assert_int_equal(failed(r, "192.0.2.1", "", 2000 * S).ip_failures, 1);
	rules_free(r);
	free(saved.data);
}

static void a_state_that_does_not_fit_is_refused(void **state)
{
	struct rules_config cfg;
	struct rules *r;
	struct rules_state_counts counts;
	struct saved saved;
	char why[ERRMSG_LEN] = "";

	(void)state;
	rules_config_default(&cfg);
	r = make(&cfg);
	failed(r, "192.0.2.1", "bob", 10 * S);
	saved = save_and_free(r, 10 * S, 1700000000000000LL);

	cfg.ip_failures = 6; /* other thresholds: other rings */
	r = make(&cfg);
	assert_int_equal(
	    rules_restore_state(r, saved.data, saved.len, 10 * S, 1700000000000000LL, &counts, why),
	    -ESTALE);
	printf("  refused: %s\n", why);
	rules_free(r);

	rules_config_default(&cfg);
	r = make(&cfg);
	assert_int_equal(rules_restore_state(r, saved.data, saved.len - 1, 10 * S,
					     1700000000000000LL, &counts, why),
			 -EINVAL);
	printf("  refused: %s\n", why);
	assert_int_equal(rules_restore_state(r, "garbage", 7, 10 * S, 0, &counts, why), -EINVAL);
	saved.data[saved.len - 104 + 16] = 200; /* the account's failure count */
	assert_int_equal(
	    rules_restore_state(r, saved.data, saved.len, 10 * S, 1700000000000000LL, &counts, why),
	    -EINVAL);
	printf("  refused: %s\n", why);
	failed(r, "192.0.2.9", "", 11 * S);
	saved.data[saved.len - 104 + 16] = 1;
	assert_int_equal(
	    rules_restore_state(r, saved.data, saved.len, 10 * S, 1700000000000000LL, &counts, why),
	    -EBUSY);
	rules_free(r);
	free(saved.data);
}

/*
 * What a snapshot of full default tables costs the event loop: the save
 * (into memory here; the daemon writes it in 256 KiB pieces) and the
 * restore at start. Every entry comes back under the same capacities.
 */
static void full_tables_save_and_restore(void **state)
{
	struct rules_config cfg;
	struct rules *r;
	struct auth_event ev;
	struct rules_decision d;
	struct rules_state_counts saved_counts, counts;
	struct saved saved = { 0 };
	uint64_t t = 1000 * S, started, save_ns, restore_ns;
	char why[ERRMSG_LEN] = "";

	(void)state;
	rules_config_default(&cfg);
	r = make(&cfg);
	memset(&ev, 0, sizeof(ev));
	ev.outcome = AUTH_FAIL;
	ev.attempts = 1;
	for (uint64_t i = 0; i < 1000000; i++, t += FLOOD_STEP) {
		flood_event(&ev, i);
		rules_feed(r, &ev, t, &d);
	}
	started = now_ns();
	rules_save_state(r, t, 1700000000000000LL, save_sink, &saved, &saved_counts);
	save_ns = now_ns() - started;
	rules_free(r);
	r = make(&cfg);
	started = now_ns();
	assert_int_equal(
	    rules_restore_state(r, saved.data, saved.len, t, 1700000000000000LL, &counts, why), 0);
	restore_ns = now_ns() - started;
	printf("  state of full tables: %llu sources, %llu accounts, %.1f MB; saved in %.1f ms, "
	       "restored in %.1f ms\n",
	       (unsigned long long)saved_counts.ips, (unsigned long long)saved_counts.accounts,
	       saved.len / 1e6, save_ns / 1e6, restore_ns / 1e6);
	assert_true(saved_counts.ips > 262144 * 9 / 10);
	assert_true(saved_counts.accounts > 65536 * 9 / 10);
	assert_int_equal(counts.ips, saved_counts.ips);
	assert_int_equal(counts.accounts, saved_counts.accounts);
	rules_free(r);
	free(saved.data);
}

/* ---- speed ---- */

#define WORKING_SOURCES 50000
#define WORKING_USERS	5000
#define WORKING_EVENTS	5000000ULL

/*
 * rules_feed alone over pre-built events: a working set of 50,000 sources
 * and 5,000 names failing at random, 1 % successes; a mail server under a
 * broad attack. Bans and blocks happen along the way.
 */
static void feed_rate(void **state)
{
	static struct auth_event events[4096];
	struct rules *r = make_default();
	struct rules_decision d;
	struct rules_counters c;
	uint64_t t = 1000 * S, started, elapsed;

	(void)state;
	for (int i = 0; i < 4096; i++) {
		uint64_t x = mix((uint64_t)i + 77);
		uint32_t src = (uint32_t)(x % WORKING_SOURCES);
		char ip[64];

		if (src % 4)
			snprintf(ip, sizeof(ip), "10.%u.%u.%u", src >> 16, (src >> 8) & 255,
				 src & 255);
		else
			snprintf(ip, sizeof(ip), "2001:db8:%x::%x", src, src);
		events[i] = unit_event((x >> 40) % 100 ? AUTH_FAIL : AUTH_OK, ip, "", 1, "");
		snprintf(events[i].user, sizeof(events[i].user), "user%llu@example.org",
			 (unsigned long long)((x >> 20) % WORKING_USERS));
	}
	started = now_ns();
	for (uint64_t i = 0; i < WORKING_EVENTS; i++, t += 2000) {
		struct auth_event *ev = &events[mix(i) & 4095];

		rules_feed(r, ev, t, &d);
	}
	elapsed = now_ns() - started;
	rules_get_counters(r, &c);
	printf("  rules_feed: %.2f M events/s (%.0f ns/event; working set; %llu bans, %llu "
	       "blocks)\n",
	       WORKING_EVENTS * 1e3 / elapsed, (double)elapsed / WORKING_EVENTS,
	       (unsigned long long)c.bans, (unsigned long long)c.blocks);
	started = now_ns();
	rules_expire(r, t);
	printf("  rules_expire over the default tables: %.2f ms\n", (now_ns() - started) / 1e6);
	assert_true(c.bans > 0);
	assert_true(c.blocks > 0);
	rules_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(four_failures_in_60s_do_not_ban),
		cmocka_unit_test(five_within_59_9s_ban_for_300s),
		cmocka_unit_test(five_over_61s_do_not_ban),
		cmocka_unit_test(window_is_inclusive_to_the_nanosecond),
		cmocka_unit_test(burst_straddling_a_minute_boundary_bans),
		cmocka_unit_test(attempts_count_as_that_many_failures),
		cmocka_unit_test(failures_during_a_ban_are_ignored_then_counting_restarts),
		cmocka_unit_test(sources_are_counted_apart),
		cmocka_unit_test(account_failures_from_one_ip_do_not_block),
		cmocka_unit_test(account_failures_from_two_ips_block_for_600s),
		cmocka_unit_test(block_deadline_is_never_moved),
		cmocka_unit_test(account_window_is_exact),
		cmocka_unit_test(distinct_sources_count_over_the_whole_window),
		cmocka_unit_test(account_rule_can_need_one_source_only),
		cmocka_unit_test(success_forgives_only_what_it_explains),
		cmocka_unit_test(same_password_hash_counts_once),
		cmocka_unit_test(hashes_are_ignored_unless_enabled),
		cmocka_unit_test(ipv6_64_aggregation_bans_the_prefix),
		cmocka_unit_test(distinct_sources_are_prefixes_under_aggregation),
		cmocka_unit_test(ipv4_aggregation_is_available),
		cmocka_unit_test(repeat_offenders_multiply_up_to_the_cap),
		cmocka_unit_test(repeat_is_reported_but_not_applied_when_off),
		cmocka_unit_test(restored_state_is_honoured),
		cmocka_unit_test(unban_and_unblock_restart_counting),
		cmocka_unit_test(expiry_frees_dead_entries_only),
		cmocka_unit_test(bad_settings_are_named),
		cmocka_unit_test(rules_can_be_turned_off),
		cmocka_unit_test(siphash_matches_the_reference),
		cmocka_unit_test(memory_bound_follows_the_formula),
		cmocka_unit_test(flood_keeps_memory_flat_and_catches_real_attackers),
		cmocka_unit_test(a_spray_of_more_names_than_the_table_holds),
		cmocka_unit_test(evicting_a_multi_source_account_flags_saturation),
		cmocka_unit_test(two_sources_outvalue_more_failures_from_one),
		cmocka_unit_test(a_restart_keeps_the_pending_failures),
		cmocka_unit_test(restored_failures_age_through_the_downtime),
		cmocka_unit_test(a_state_that_does_not_fit_is_refused),
		cmocka_unit_test(full_tables_save_and_restore),
		cmocka_unit_test(feed_rate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
