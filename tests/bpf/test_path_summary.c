// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The path summary (path_sum4, path_sum6, path_cidr4) kept in step by the
 * ban and allowlist operations, under BPF_PROG_TEST_RUN: the flags say what
 * they should, the shortcuts they enable give the trie's verdicts, and a
 * randomized run of bans, unbans, nested and expired bans and allowlist
 * changes must always agree with the user-space verdict read from the tries
 * (bans/verdict.c). Private, unpinned maps; nothing is sent anywhere.
 *
 * Needs root to load the program.
 */
#include <arpa/inet.h>
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
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bans/bans.h"
#include "bans/verdict.h"
#include "kernel/path_summary.h"
#include "lib/cidr.h"
#include "lib/clock.h"
#include "lib/duration.h"
#include "xdp_fixture.h"

#define IMAP	   143
#define ROUNDS	   300
#define PROBES	   40
#define HOUR_NS	   (3600ULL * NSEC_PER_SEC)
#define ALL_CLEAR  (PATH_NO_ALLOW | PATH_NO_CIDR)
#define V4_BUCKET  ((198U << 8) | 51U) /* 198.51.0.0/16 */
#define V4_BUCKET2 ((203U << 8) | 0U)  /* 203.0.0.0/16 */
#define V6_BUCKET  0x2001U	       /* 2001::/16 */

struct fixture {
	struct xdpban_bpf *skel;
	struct maps maps;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char why[ERRMSG_LEN];

	assert_non_null(f);
	f->skel = xdpban_load_private_maps("test_path_summary", &f->maps);
	/* As `xdpban attach` leaves it: nothing applies anywhere. */
	if (path_summary_sync(&f->maps, why))
		fail_msg("%s", why);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	xdpban_bpf__destroy(f->skel);
	free(f);
	return 0;
}

static struct path_summary summary_of(int fd, __u32 bucket)
{
	struct path_summary entry;

	assert_int_equal(bpf_map_lookup_elem(fd, &bucket, &entry), 0);
	return entry;
}

static struct path_summary summary4(struct fixture *f, __u32 bucket)
{
	return summary_of(f->maps.path_sum4, bucket);
}

static struct path_summary summary6(struct fixture *f, __u32 bucket)
{
	return summary_of(f->maps.path_sum6, bucket);
}

/* A CIDR or host ban: permanent (0), or ending at deadline_ns. */
static void ban(struct fixture *f, const char *text, __u64 deadline_ns)
{
	struct ban_request req = { .key = unit_cidr(text),
				   .permanent = deadline_ns == 0,
				   .deadline_ns = deadline_ns };
	char why[ERRMSG_LEN];

	if (bans_add(&f->maps, &req, 1, BAN_ORIGIN_MANUAL, why))
		fail_msg("ban %s: %s", text, why);
}

static void unban(struct fixture *f, const char *text)
{
	struct lpm_key key = unit_cidr(text);
	char why[ERRMSG_LEN];

	if (bans_remove(&f->maps, &key, 1, why))
		fail_msg("unban %s: %s", text, why);
}

static void allow(struct fixture *f, const char *text, bool add)
{
	struct lpm_key key = unit_cidr(text);
	char why[ERRMSG_LEN];
	int err = add ? bans_allow_add(&f->maps, &key, 1, why)
		      : bans_allow_remove(&f->maps, &key, 1, why);

	if (err)
		fail_msg("allow %s: %s", text, why);
}

/* Runs a SYN from host; its verdict must be the one user space reads from the tries. */
static __u32 verdict_agrees(struct fixture *f, const struct lpm_key *host)
{
	struct verdict_explanation explained;
	char text[CIDR_TEXT_LEN], *slash;
	struct addr_key addr;
	struct pkt p = { 0 };
	__u32 action;

	cidr_format(host, text);
	slash = strchr(text, '/');
	if (slash)
		*slash = '\0';
	pkt_tcp_frame(&p, 0, text, IMAP, TH_SYN);
	action = xdpban_verdict(f->skel, p.data, p.len);
	cidr_to_addr_key(&addr, host);
	verdict_explain(&f->maps, &addr, &explained);
	if ((explained.reason == REASON_PASS || explained.reason == REASON_PASS_ALLOW) !=
	    (action == XDP_PASS))
		fail_msg("%s: XDP action %u, user space says reason %d", text, action,
			 explained.reason);
	return action;
}

static void expect(struct fixture *f, const char *text, __u32 want)
{
	struct lpm_key host = unit_cidr(text);

	if (verdict_agrees(f, &host) != want)
		fail_msg("%s: XDP action is not %u", text, want);
}

static void a_fresh_sync_skips_everything(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(summary4(f, V4_BUCKET).flags, ALL_CLEAR);
	assert_int_equal(summary6(f, V6_BUCKET).flags, ALL_CLEAR);
	assert_int_equal(summary4(f, V4_BUCKET).geo, 1 + GEO_INDEX_NONE);
	expect(f, "198.51.100.7", XDP_PASS);
}

static void the_only_cidr_ban_of_a_16_is_answered_by_its_shortcut(void **state)
{
	struct fixture *f = *state;
	struct path_cidr one;
	__u32 bucket = V4_BUCKET;

	ban(f, "198.51.100.0/24", 0);
	assert_int_equal(summary4(f, V4_BUCKET).flags, PATH_NO_ALLOW | PATH_ONE_CIDR);
	assert_int_equal(bpf_map_lookup_elem(f->maps.path_cidr4, &bucket, &one), 0);
	assert_int_equal(one.prefixlen, 24);
	assert_int_equal(one.net, 0xc6336400); /* 198.51.100.0 */
	assert_int_equal(summary4(f, V4_BUCKET2).flags, ALL_CLEAR);
	expect(f, "198.51.100.7", XDP_DROP);
	expect(f, "198.51.101.7", XDP_PASS);
	unban(f, "198.51.100.0/24");
	assert_int_equal(summary4(f, V4_BUCKET).flags, ALL_CLEAR);
	expect(f, "198.51.100.7", XDP_PASS);
}

static void an_expired_shortcut_ban_passes_and_a_renewed_one_drops(void **state)
{
	struct fixture *f = *state;
	__u64 now = clock_now_ns();

	ban(f, "198.51.100.0/24", now - NSEC_PER_SEC);
	assert_true(summary4(f, V4_BUCKET).flags & PATH_ONE_CIDR);
	expect(f, "198.51.100.7", XDP_PASS);
	ban(f, "198.51.100.0/24", now + HOUR_NS);
	assert_true(summary4(f, V4_BUCKET).flags & PATH_ONE_CIDR);
	expect(f, "198.51.100.7", XDP_DROP);
}

static void two_bans_in_a_16_walk_the_trie_and_keep_the_nested_rule(void **state)
{
	struct fixture *f = *state;
	__u64 now = clock_now_ns();

	ban(f, "198.51.0.0/16", now + HOUR_NS);
	ban(f, "198.51.100.0/24", now - NSEC_PER_SEC); /* expired, inside the live /16 */
	assert_int_equal(summary4(f, V4_BUCKET).flags, PATH_NO_ALLOW);
	expect(f, "198.51.100.7", XDP_DROP);
	expect(f, "198.51.7.7", XDP_DROP);
	unban(f, "198.51.0.0/16");
	assert_int_equal(summary4(f, V4_BUCKET).flags, PATH_NO_ALLOW | PATH_ONE_CIDR);
	expect(f, "198.51.100.7", XDP_PASS);
}

static void a_short_prefix_opens_every_16_it_covers(void **state)
{
	struct fixture *f = *state;
	__u32 inside = (203U << 8) | 200U, outside = (204U << 8) | 0U;

	ban(f, "203.0.0.0/8", 0);
	assert_int_equal(summary4(f, V4_BUCKET2).flags, PATH_NO_ALLOW | PATH_ONE_CIDR);
	assert_int_equal(summary4(f, inside).flags, PATH_NO_ALLOW | PATH_ONE_CIDR);
	assert_int_equal(summary4(f, outside).flags, ALL_CLEAR);
	expect(f, "203.200.1.1", XDP_DROP);
	expect(f, "204.0.1.1", XDP_PASS);
}

static void an_ipv6_ban_opens_its_16_and_drops(void **state)
{
	struct fixture *f = *state;

	ban(f, "2001:db8::/32", 0);
	assert_int_equal(summary6(f, V6_BUCKET).flags, PATH_NO_ALLOW);
	assert_int_equal(summary4(f, V4_BUCKET).flags, ALL_CLEAR);
	expect(f, "2001:db8::7", XDP_DROP);
	expect(f, "2001:db9::7", XDP_PASS);
	unban(f, "2001:db8::/32");
	assert_int_equal(summary6(f, V6_BUCKET).flags, ALL_CLEAR);
}

static void the_allowlist_wins_over_a_shortcut_ban_and_leaves_cleanly(void **state)
{
	struct fixture *f = *state;

	ban(f, "198.51.100.0/24", 0);
	allow(f, "198.51.100.7/32", true);
	assert_int_equal(summary4(f, V4_BUCKET).flags, PATH_ONE_CIDR);
	expect(f, "198.51.100.7", XDP_PASS);
	expect(f, "198.51.100.8", XDP_DROP);
	allow(f, "198.51.100.7/32", false);
	assert_int_equal(summary4(f, V4_BUCKET).flags, PATH_NO_ALLOW | PATH_ONE_CIDR);
	expect(f, "198.51.100.7", XDP_DROP);
}

static void an_allow_of_all_ipv4_opens_every_ipv4_16_and_no_ipv6_one(void **state)
{
	struct fixture *f = *state;

	ban(f, "198.51.100.0/24", 0);
	allow(f, "0.0.0.0/0", true);
	assert_false(summary4(f, V4_BUCKET).flags & PATH_NO_ALLOW);
	assert_false(summary4(f, 0xffff).flags & PATH_NO_ALLOW);
	assert_true(summary6(f, 0).flags & PATH_NO_ALLOW); /* not ::/16's non-IPv4 addresses */
	assert_true(summary6(f, V6_BUCKET).flags & PATH_NO_ALLOW);
	expect(f, "198.51.100.7", XDP_PASS);
}

static void sweeping_an_expired_ban_tightens_its_16(void **state)
{
	struct fixture *f = *state;
	struct ban_sweep_counts counts;
	char why[ERRMSG_LEN];
	__u64 now = clock_now_ns();

	ban(f, "198.51.0.0/16", now + HOUR_NS);
	ban(f, "198.51.100.0/24", now - NSEC_PER_SEC);
	assert_int_equal(summary4(f, V4_BUCKET).flags, PATH_NO_ALLOW);
	assert_int_equal(bans_sweep(&f->maps, now, NULL, NULL, &counts, why), 0);
	assert_int_equal(counts.swept, 1);
	assert_int_equal(summary4(f, V4_BUCKET).flags, PATH_NO_ALLOW | PATH_ONE_CIDR);
	expect(f, "198.51.100.7", XDP_DROP);
}

/* ---- randomized agreement ---- */

/* A prefix inside one of a few /16s of either family, so bans nest and collide. */
static struct lpm_key random_key(void)
{
	static const __u8 bases4[][2] = { { 198, 51 }, { 203, 0 }, { 192, 0 } };
	static const int lens4[] = { 16, 20, 23, 24, 24, 28, 32 };
	static const int lens6[] = { 32, 40, 48, 48, 56, 128 };
	struct lpm_key key = { 0 };

	if (random() % 3) {
		key.addr[10] = key.addr[11] = 0xff;
		memcpy(&key.addr[12], bases4[random() % 3], 2);
		key.addr[14] = (__u8)(random() % 4);
		key.addr[15] = (__u8)random();
		key.prefixlen = IPV4_MAPPED_PREFIXLEN + lens4[random() % 7];
	} else {
		memcpy(key.addr, (const __u8[]){ 0x20, 0x01, 0x0d, 0xb8 }, 4);
		key.addr[3] += (__u8)(random() % 2);
		key.addr[5] = (__u8)(random() % 3);
		key.addr[7] = (__u8)(random() % 3);
		key.addr[15] = (__u8)random();
		key.prefixlen = lens6[random() % 6];
	}
	for (unsigned int bit = key.prefixlen; bit < ADDR_LEN * 8; bit++)
		key.addr[bit / 8] &= (__u8) ~(1U << (7 - bit % 8));
	return key;
}

/* A deadline well clear of now either way, so kernel and user space agree on it. */
static struct ban_request random_ban(void)
{
	struct ban_request req = { .key = random_key() };
	__u64 now = clock_now_ns();

	switch (random() % 3) {
	case 0:
		req.permanent = true;
		break;
	case 1:
		req.deadline_ns = now - NSEC_PER_SEC * (1 + random() % 100);
		break;
	default:
		req.deadline_ns = now + HOUR_NS;
	}
	return req;
}

/* A random host inside or near prefix. */
static void probe_agrees(struct fixture *f, const struct lpm_key *prefix)
{
	struct lpm_key host = *prefix;

	host.prefixlen = ADDR_LEN * 8;
	for (unsigned int bit = prefix->prefixlen; bit < ADDR_LEN * 8; bit++) {
		if (random() % 2)
			host.addr[bit / 8] ^= (__u8)(1U << (7 - bit % 8));
	}
	verdict_agrees(f, &host);
}

/* No flag may skip a trie entry that meets its /16. */
static void flags_are_sound(struct fixture *f)
{
	struct allow_record *allows;
	struct ban_record *bans;
	size_t nallow, nban;
	char why[ERRMSG_LEN];

	assert_int_equal(bans_allow_list(&f->maps, &allows, &nallow, why), 0);
	assert_int_equal(bans_list(&f->maps, &bans, &nban, why), 0);
	for (size_t i = 0; i < nallow; i++) {
		const __u8 *a = allows[i].key.addr;
		bool v4 = cidr_is_ipv4(a);
		struct path_summary s = v4 ? summary4(f, (__u32)a[12] << 8 | a[13])
					   : summary6(f, (__u32)a[0] << 8 | a[1]);

		assert_false(s.flags & PATH_NO_ALLOW);
	}
	for (size_t i = 0; i < nban; i++) {
		const __u8 *a = bans[i].key.addr;
		bool v4 = cidr_is_ipv4(a);
		struct path_summary s;

		if (cidr_is_host(&bans[i].key))
			continue;
		s = v4 ? summary4(f, (__u32)a[12] << 8 | a[13])
		       : summary6(f, (__u32)a[0] << 8 | a[1]);
		assert_false(s.flags & PATH_NO_CIDR);
	}
	free(allows);
	free(bans);
}

/* Prefixes added so far, to take some of them away again. */
struct added {
	struct lpm_key keys[ROUNDS];
	size_t count;
};

static void remember(struct added *added, const struct lpm_key *key)
{
	added->keys[added->count++] = *key;
}

/* Forgets and returns one of the added prefixes at random; false when there is none. */
static bool take_one(struct added *added, struct lpm_key *key)
{
	size_t i;

	if (added->count == 0)
		return false;
	i = (size_t)random() % added->count;
	*key = added->keys[i];
	added->keys[i] = added->keys[--added->count];
	return true;
}

/* One random change: a ban, an unban, an allowlist entry added or taken away. */
static void random_change(struct fixture *f, struct added *bans, struct added *allows)
{
	struct ban_request req = random_ban();
	char why[ERRMSG_LEN];
	long op = random() % 20;
	struct lpm_key key;

	if (op < 9) {
		if (bans_add(&f->maps, &req, 1, BAN_ORIGIN_MANUAL, why))
			fail_msg("ban: %s", why);
		remember(bans, &req.key);
	} else if (op < 16) {
		if (take_one(bans, &key))
			bans_remove(&f->maps, &key, 1,
				    why); /* banned twice, unbanned before: fine */
	} else if (op < 18) {
		if (bans_allow_add(&f->maps, &req.key, 1, why))
			fail_msg("allow: %s", why);
		remember(allows, &req.key);
	} else if (take_one(allows, &key)) {
		bans_allow_remove(&f->maps, &key, 1, why);
	}
}

static void random_changes_always_agree_with_the_tries(void **state)
{
	static const __u32 buckets[] = { V4_BUCKET, V4_BUCKET2, (192U << 8) | 0U };
	static struct added bans, allows;
	struct fixture *f = *state;
	size_t shortcuts = 0;

	srandom(15);
	for (int round = 0; round < ROUNDS; round++) {
		random_change(f, &bans, &allows);
		flags_are_sound(f);
		for (int p = 0; p < PROBES; p++) {
			struct lpm_key near = random_key();

			probe_agrees(f, &near);
		}
		for (size_t b = 0; b < 3; b++)
			shortcuts += (summary4(f, buckets[b]).flags & PATH_ONE_CIDR) != 0;
	}
	print_message("%d changes, %d probes after each; an IPv4 /16 took the one-ban "
		      "shortcut %zu times of %d\n",
		      ROUNDS, PROBES, shortcuts, 3 * ROUNDS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_fresh_sync_skips_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    the_only_cidr_ban_of_a_16_is_answered_by_its_shortcut, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    an_expired_shortcut_ban_passes_and_a_renewed_one_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    two_bans_in_a_16_walk_the_trie_and_keep_the_nested_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(a_short_prefix_opens_every_16_it_covers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(an_ipv6_ban_opens_its_16_and_drops, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
		    the_allowlist_wins_over_a_shortcut_ban_and_leaves_cleanly, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    an_allow_of_all_ipv4_opens_every_ipv4_16_and_no_ipv6_one, setup, teardown),
		cmocka_unit_test_setup_teardown(sweeping_an_expired_ban_tightens_its_16, setup,
						teardown),
		cmocka_unit_test_setup_teardown(random_changes_always_agree_with_the_tries, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
