// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The exact-ban tables' user-space code on heap memory, at sizes small
 * enough to fill: relocation, a really full pair, expired slots, growth,
 * and the invariant the XDP program relies on (every entry living in its
 * second bucket has its bit in its first bucket's spill filter).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "kernel/ban_table.h"
#include "lib/cidr.h"
#include "lib/duration.h"
#include "unit.h"

#define SEED 0x243F6A8885A308D3ULL
#define NOW  (1000ULL * NSEC_PER_SEC)

static struct addr_key v4(__u32 host_order)
{
	struct addr_key a = { .addr = { [10] = 0xff, [11] = 0xff } };
	__u32 net = htonl(host_order);

	memcpy(&a.addr[12], &net, sizeof(net));
	return a;
}

static struct addr_key v6(__u32 low)
{
	struct addr_key a = { .addr = { 0x20, 0x01, 0x0d, 0xb8 } };
	__u32 net = htonl(low);

	memcpy(&a.addr[12], &net, sizeof(net));
	return a;
}

static struct ban_slot permanent(struct addr_key a)
{
	return (struct ban_slot){ .addr = a, .deadline = BAN_DEADLINE_PERMANENT, .origin = 1 };
}

/* Bans a permanently; the table must take it. */
static void ban_permanently(const struct ban_table *t, struct addr_key a)
{
	struct ban_slot slot = permanent(a);

	assert_int_equal(ban_table_put(t, &slot, NOW, NULL, NULL), 0);
}

static bool found(const struct ban_table *t, struct addr_key a)
{
	struct ban_slot slot;

	return ban_table_find(t, &a, &slot) == 0;
}

static __u64 hash_of(const struct ban_table *t, const struct ban_family *f, const void *addr)
{
	__be32 word;

	if (f->v6)
		return ban_hash6(addr, t->meta);
	memcpy(&word, (const __u8 *)addr, sizeof(word));
	return ban_hash4(word, t->meta);
}

static const void *slot_addr(const struct ban_family *f, __u32 b, unsigned int s)
{
	return f->v6 ? (const void *)((struct ban6_bucket *)f->buckets)[b].addr[s].bytes
		     : (const void *)((struct ban4_bucket *)f->buckets)[b].addr[s];
}

static __u32 slot_deadline(const struct ban_family *f, __u32 b, unsigned int s)
{
	return f->v6 ? ((struct ban6_bucket *)f->buckets)[b].deadline[s]
		     : ((struct ban4_bucket *)f->buckets)[b].deadline[s];
}

static __u32 spill_of(const struct ban_family *f, __u32 b)
{
	return f->v6 ? ((struct ban6_bucket *)f->buckets)[b].spill
		     : ((struct ban4_bucket *)f->buckets)[b].spill;
}

static __u32 filter_of(const struct ban_family *f, __u32 b)
{
	return f->v6 ? ((struct ban6_bucket *)f->buckets)[b].spill_filter
		     : ((struct ban4_bucket *)f->buckets)[b].spill_filter;
}

static void set_spill(const struct ban_family *f, __u32 b, __u32 count, __u32 filter)
{
	if (f->v6) {
		((struct ban6_bucket *)f->buckets)[b].spill = (__u16)count;
		((struct ban6_bucket *)f->buckets)[b].spill_filter = (__u16)filter;
	} else {
		((struct ban4_bucket *)f->buckets)[b].spill = count;
		((struct ban4_bucket *)f->buckets)[b].spill_filter = filter;
	}
}

/*
 * What the program relies on: every entry in its second bucket has its bit in
 * its first bucket's filter. Every bucket's spill is the number of such
 * entries, and its filter has no bit when that is zero; `exact`: nor any bit
 * of an entry that has gone (after growth or a recount).
 */
static void assert_spills(const struct ban_table *t, const struct ban_family *f, bool exact)
{
	__u32 n = ban_table_buckets(f), mask = n - 1;
	unsigned int slots = f->v6 ? BAN6_SLOTS : BAN4_SLOTS;
	__u32 *count = calloc(n, sizeof(*count)), *bits = calloc(n, sizeof(*bits)), total = 0;

	assert_non_null(count);
	assert_non_null(bits);
	for (__u32 b = 0; b < n; b++) {
		for (unsigned int s = 0; s < slots; s++) {
			__u64 hash;

			if (slot_deadline(f, b, s) == BAN_DEADLINE_FREE)
				continue;
			total++;
			hash = hash_of(t, f, slot_addr(f, b, s));
			if (b == ban_first_bucket(hash, mask))
				continue;
			assert_int_equal(b, ban_second_bucket(hash, mask));
			count[ban_first_bucket(hash, mask)]++;
			bits[ban_first_bucket(hash, mask)] |=
			    f->v6 ? ban_spill_bit6(hash) : ban_spill_bit4(hash);
		}
	}
	for (__u32 b = 0; b < n; b++) {
		assert_int_equal(spill_of(f, b), count[b]);
		assert_int_equal(filter_of(f, b) & bits[b], bits[b]);
		if (exact || count[b] == 0)
			assert_int_equal(filter_of(f, b), bits[b]);
	}
	assert_int_equal(total, *f->used);
	free(count);
	free(bits);
}

static void assert_spills_exact(const struct ban_table *t, const struct ban_family *f)
{
	assert_spills(t, f, true);
}

static void put_find_delete_both_families(void **state)
{
	struct ban_table t;
	struct ban_slot slot, old;
	bool existed = true;

	(void)state;
	assert_int_equal(ban_table_alloc(&t, 4, 4, SEED), 0);
	slot = permanent(v4(0xc0000201));
	assert_int_equal(ban_table_put(&t, &slot, NOW, &old, &existed), 0);
	assert_false(existed);
	slot = permanent(v6(5));
	assert_int_equal(ban_table_put(&t, &slot, NOW, NULL, NULL), 0);
	assert_true(found(&t, v4(0xc0000201)));
	assert_true(found(&t, v6(5)));
	assert_false(found(&t, v4(0xc0000202)));
	assert_false(found(&t, v6(6)));
	slot.deadline = 77;
	assert_int_equal(ban_table_put(&t, &slot, NOW, &old, &existed), 0);
	assert_true(existed);
	assert_int_equal(old.deadline, BAN_DEADLINE_PERMANENT);
	assert_int_equal(ban_table_find(&t, &slot.addr, &old), 0);
	assert_int_equal(old.deadline, 77);
	assert_int_equal(*t.v6.used, 1);
	assert_int_equal(ban_table_delete(&t, &slot.addr, NULL), 0);
	assert_int_equal(ban_table_delete(&t, &slot.addr, NULL), -ENOENT);
	assert_false(found(&t, v6(5)));
	ban_table_release(&t);
}

/* Two buckets of seven: fourteen bans fit by relocation, the fifteenth is refused. */
static void full_table_refuses_and_evicts_nothing(void **state)
{
	struct ban_table t;
	struct ban_slot slot;
	__u32 a = 0x0a000000;

	(void)state;
	assert_int_equal(ban_table_alloc(&t, 1, 1, SEED), 0);
	for (int i = 0; i < 2 * BAN4_SLOTS; i++, a++)
		ban_permanently(&t, v4(a));
	assert_spills_exact(&t, &t.v4);
	slot = permanent(v4(a));
	assert_int_equal(ban_table_put(&t, &slot, NOW, NULL, NULL), -ENOSPC);
	for (__u32 b = 0x0a000000; b < a; b++)
		assert_true(found(&t, v4(b)));
	assert_false(found(&t, v4(a)));
	assert_spills_exact(&t, &t.v4);
	ban_table_release(&t);
}

/* A full table takes a new ban into the slot of an expired one. */
static void expired_slot_is_free(void **state)
{
	struct ban_table t;
	struct ban_slot slot;

	(void)state;
	assert_int_equal(ban_table_alloc(&t, 1, 1, SEED), 0);
	for (__u32 i = 0; i < 2 * BAN4_SLOTS; i++) {
		slot = permanent(v4(0x0a000000 + i));
		slot.deadline = i == 3 ? ban_deadline_of(NOW - NSEC_PER_SEC) : slot.deadline;
		assert_int_equal(ban_table_put(&t, &slot, NOW, NULL, NULL), 0);
	}
	ban_permanently(&t, v4(0x0b000000));
	assert_false(found(&t, v4(0x0a000003)));
	assert_true(found(&t, v4(0x0b000000)));
	assert_spills_exact(&t, &t.v4);
	ban_table_release(&t);
}

/* At a load well below full, relocation keeps every ban and the spills exact. */
static void relocation_keeps_every_ban(void **state)
{
	struct ban_table t;

	(void)state;
	assert_int_equal(ban_table_alloc(&t, 4, 4, SEED), 0);
	for (__u32 i = 0; i < 16 * BAN4_SLOTS * 8 / 10; i++)
		ban_permanently(&t, v4(0xc6336400 + i * 7919));
	for (__u32 i = 0; i < 16 * BAN6_SLOTS * 8 / 10; i++)
		ban_permanently(&t, v6(i * 104729));
	for (__u32 i = 0; i < 16 * BAN4_SLOTS * 8 / 10; i++)
		assert_true(found(&t, v4(0xc6336400 + i * 7919)));
	for (__u32 i = 0; i < 16 * BAN6_SLOTS * 8 / 10; i++)
		assert_true(found(&t, v6(i * 104729)));
	assert_spills_exact(&t, &t.v4);
	assert_spills_exact(&t, &t.v6);
	ban_table_release(&t);
}

/* From 2 buckets to 1024: every ban stays findable, the spills exact after each doubling. */
static void growth_keeps_every_ban(void **state)
{
	struct ban_table t;
	__u32 last_size = 0;

	(void)state;
	assert_int_equal(ban_table_alloc(&t, 10, 1, SEED), 0);
	for (__u32 i = 0; i < 4000; i++) {
		ban_permanently(&t, v4(0x0a000000 + i * 31));
		if (ban_table_buckets(&t.v4) != last_size) {
			last_size = ban_table_buckets(&t.v4);
			assert_spills_exact(&t, &t.v4);
		}
	}
	assert_int_equal(ban_table_buckets(&t.v4), 1024);
	for (__u32 i = 0; i < 4000; i++)
		assert_true(found(&t, v4(0x0a000000 + i * 31)));
	assert_spills_exact(&t, &t.v4);
	ban_table_release(&t);
}

/*
 * Bans come and go at a load where many spill: the filters always cover the
 * spilled entries, and a recount makes them exact again.
 */
static void churn_keeps_the_filters_whole(void **state)
{
	struct ban_table t;
	struct ban_slot slot;
	unsigned int seed = 7;

	(void)state;
	assert_int_equal(ban_table_alloc(&t, 6, 6, SEED), 0);
	for (int round = 0; round < 20000; round++) {
		__u32 host = (__u32)rand_r(&seed) % 600;
		struct addr_key a = host % 2 ? v4(0x0a000000 + host) : v6(host);

		slot = permanent(a);
		if (rand_r(&seed) % 2)
			ban_table_delete(&t, &a, NULL);
		else
			assert_int_equal(ban_table_put(&t, &slot, NOW, NULL, NULL), 0);
	}
	assert_int_equal(ban_table_buckets(&t.v4), 64); /* no growth recounted them */
	assert_spills(&t, &t.v4, false);
	assert_spills(&t, &t.v6, false);
	assert_int_equal(ban_table_recount(&t), 0);
	assert_spills_exact(&t, &t.v4);
	assert_spills_exact(&t, &t.v6);
	ban_table_release(&t);
}

/* Tables of map ABI 2 had counts and no filters: a recount fills them in. */
static void recount_fills_in_the_filters_of_abi2(void **state)
{
	struct ban_table t;
	int filled = 0;

	(void)state;
	assert_int_equal(ban_table_alloc(&t, 4, 4, SEED), 0);
	for (__u32 i = 0; i < 16 * BAN6_SLOTS * 8 / 10; i++)
		ban_permanently(&t, i % 2 ? v4(0xc6336400 + i) : v6(i));
	for (__u32 b = 0; b < 16; b++) {
		filled += filter_of(&t.v4, b) != 0 || filter_of(&t.v6, b) != 0;
		set_spill(&t.v4, b, spill_of(&t.v4, b), 0);
		set_spill(&t.v6, b, spill_of(&t.v6, b), 0);
	}
	assert_true(filled > 0); /* some spilled, or the test shows nothing */
	assert_int_equal(ban_table_recount(&t), 0);
	assert_spills_exact(&t, &t.v4);
	assert_spills_exact(&t, &t.v6);
	ban_table_release(&t);
}

/* An IPv6 count at its 16-bit maximum stays there with its bits: never a bit lost. */
static void saturated_spill_keeps_its_filter(void **state)
{
	struct ban_table t;
	struct addr_key spilled = { 0 };
	__u32 first = 0, kept;
	bool any = false;

	(void)state;
	assert_int_equal(ban_table_alloc(&t, 2, 2, SEED), 0);
	for (__u32 i = 0; i < 4 * BAN6_SLOTS - 1; i++)
		ban_permanently(&t, v6(i));
	/* An entry living in its second bucket, and that bucket's first. */
	for (__u32 b = 0; b < 4 && !any; b++) {
		for (unsigned int s = 0; s < BAN6_SLOTS && !any; s++) {
			__u64 hash = hash_of(&t, &t.v6, slot_addr(&t.v6, b, s));

			if (slot_deadline(&t.v6, b, s) == BAN_DEADLINE_FREE ||
			    ban_first_bucket(hash, 3) == b)
				continue;
			first = ban_first_bucket(hash, 3);
			memcpy(spilled.addr, slot_addr(&t.v6, b, s), ADDR_LEN);
			any = true;
		}
	}
	assert_true(any);
	kept = filter_of(&t.v6, first);
	set_spill(&t.v6, first, BAN_SPILL6_MAX, kept);
	assert_int_equal(ban_table_delete(&t, &spilled, NULL), 0);
	assert_int_equal(spill_of(&t.v6, first), BAN_SPILL6_MAX);
	assert_int_equal(filter_of(&t.v6, first), kept);
	assert_int_equal(ban_table_recount(&t), 0);
	assert_spills_exact(&t, &t.v6);
	ban_table_release(&t);
}

/*
 * At 1,048,576 bans a family (the tables' full size), the share of unbanned
 * addresses whose lookup reads a second line: the count alone would send
 * every miss whose first bucket spilled there, the filter few of them.
 */
static void a_miss_rarely_reads_a_second_line(void **state)
{
	const __u32 bans = BAN_ADDR_CAPACITY, probes = 1000000;
	struct ban_table t;
	unsigned int seed = 11;

	(void)state;
	assert_int_equal(ban_table_alloc(&t, 19, BAN_LOG2_MIN, SEED), 0);
	for (__u32 i = 0; i < bans; i++) {
		struct ban_slot v4_ban = permanent(v4(0x0a000000 + i * 2654435761U % (1U << 30)));
		struct ban_slot v6_ban = permanent(v6(i));

		assert_int_equal(ban_table_put(&t, &v4_ban, NOW, NULL, NULL), 0);
		assert_int_equal(ban_table_put(&t, &v6_ban, NOW, NULL, NULL), 0);
	}
	for (int v6_family = 0; v6_family < 2; v6_family++) {
		const struct ban_family *f = v6_family ? &t.v6 : &t.v4;
		__u32 by_count = 0, by_filter = 0, mask = ban_table_buckets(f) - 1;

		for (__u32 i = 0; i < probes; i++) {
			__u32 r = (__u32)rand_r(&seed) ^ ((__u32)rand_r(&seed) << 16);
			struct addr_key a = v6_family ? v6(r) : v4(0xc0000000 | (r & 0x3fffffff));

			if (v6_family)
				a.addr[8] = 1; /* never one of the bans */
			by_count +=
			    spill_of(f, ban_first_bucket(hash_of(&t, f,
								 v6_family ? (void *)a.addr
									   : (void *)&a.addr[12]),
							 mask)) != 0;
			by_filter += ban_table_reads_second(&t, &a);
		}
		print_message(
		    "%s: %.2f%% of misses read a second line (%.2f%% by the count alone)\n",
		    v6_family ? "IPv6" : "IPv4", 100.0 * by_filter / probes,
		    100.0 * by_count / probes);
		assert_true(by_filter * 10 < by_count);
		assert_true(by_filter * 100 < probes * (v6_family ? 4 : 1));
	}
	ban_table_release(&t);
}

static void count_ban(void *ctx, const struct ban_slot *ban)
{
	(void)ban;
	(*(size_t *)ctx)++;
}

static void walk_visits_each_ban_once(void **state)
{
	struct ban_table_cursor cursor = { 0 };
	struct ban_table t;
	size_t seen = 0;
	int slices = 0;

	(void)state;
	assert_int_equal(ban_table_alloc(&t, 6, 6, SEED), 0);
	for (__u32 i = 0; i < 100; i++)
		ban_permanently(&t, i % 2 ? v4(0x0a000000 + i) : v6(i));
	while (!ban_table_walk(&t, &cursor, 10, count_ban, &seen))
		slices++;
	assert_int_equal(seen, 100);
	assert_int_equal(slices, 13); /* 64 + 64 buckets by 10: 14 slices, the last ends it */
	seen = 0;
	ban_table_each(&t, count_ban, &seen);
	assert_int_equal(seen, 100);
	ban_table_release(&t);
}

/* The kernel's coarse deadline never ends a ban early, and late by under a tick. */
static void deadlines_round_up(void **state)
{
	uint64_t tick = 1ULL << BAN_TICK_SHIFT;

	(void)state;
	assert_int_equal(ban_deadline_of(0), BAN_DEADLINE_PERMANENT);
	assert_int_equal(ban_expires_of(BAN_DEADLINE_PERMANENT), 0);
	for (uint64_t ns = NOW; ns < NOW + 3 * tick; ns += tick / 3 + 1) {
		uint64_t back = ban_expires_of(ban_deadline_of(ns));

		assert_true(back >= ns);
		assert_true(back - ns < tick);
		assert_false(ban_deadline_passed(ban_deadline_of(ns), ns - 1));
		assert_true(ban_deadline_passed(ban_deadline_of(ns), back));
	}
	for (uint64_t ns = NOW; ns < NOW + 3 * tick; ns += tick / 7 + 3) {
		struct ban_slot slot = { 0 };

		ban_slot_set_end(&slot, ns);
		assert_int_equal(ban_slot_end(&slot), ns); /* what the operator asked, exactly */
		assert_true(ban_expires_of(slot.deadline) >= ns);
	}
	assert_true(ban_deadline_passed(BAN_DEADLINE_FREE, 0));
	assert_false(ban_deadline_passed(BAN_DEADLINE_PERMANENT, UINT64_MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(put_find_delete_both_families),
		cmocka_unit_test(full_table_refuses_and_evicts_nothing),
		cmocka_unit_test(expired_slot_is_free),
		cmocka_unit_test(relocation_keeps_every_ban),
		cmocka_unit_test(growth_keeps_every_ban),
		cmocka_unit_test(churn_keeps_the_filters_whole),
		cmocka_unit_test(recount_fills_in_the_filters_of_abi2),
		cmocka_unit_test(saturated_spill_keeps_its_filter),
		cmocka_unit_test(a_miss_rarely_reads_a_second_line),
		cmocka_unit_test(walk_visits_each_ban_once),
		cmocka_unit_test(deadlines_round_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
