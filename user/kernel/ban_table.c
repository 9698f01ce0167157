// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "kernel/ban_table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <bpf/bpf.h>
#include "lib/cidr.h"

/*
 * How many entries a relocation may look at before the pair counts as full.
 * At the load the tables are sized for (57% and 67%) a walk of one or two
 * moves finds room; 512 covers paths of four moves through full buckets.
 */
#define RELOCATE_NODES 512
#define NO_PARENT      (-1)
/*
 * A table doubles when it holds more than this many bans a bucket: about 16
 * bytes a ban, the floor's density, at 57% (IPv4) and 67% (IPv6) load.
 */
#define GROW_LOAD4 4
#define GROW_LOAD6 2
/* Longer than any run of the XDP program that may have read the old size. */
#define GROW_GRACE_US 10000

__u32 ban_deadline_of(uint64_t expires_ns)
{
	uint64_t units;

	if (expires_ns == 0)
		return BAN_DEADLINE_PERMANENT;
	units = (expires_ns + (1ULL << BAN_TICK_SHIFT) - 1) >> BAN_TICK_SHIFT;
	return units >= BAN_DEADLINE_PERMANENT ? BAN_DEADLINE_PERMANENT - 1 : (__u32)units;
}

uint64_t ban_expires_of(__u32 deadline)
{
	return deadline == BAN_DEADLINE_PERMANENT ? 0 : (uint64_t)deadline << BAN_TICK_SHIFT;
}

void ban_slot_set_end(struct ban_slot *slot, uint64_t expires_ns)
{
	uint64_t deadline_ns;

	slot->deadline = ban_deadline_of(expires_ns);
	deadline_ns = ban_expires_of(slot->deadline);
	slot->early_ns =
	    deadline_ns > expires_ns && expires_ns ? (__u32)(deadline_ns - expires_ns) : 0;
}

uint64_t ban_slot_end(const struct ban_slot *slot)
{
	uint64_t deadline_ns = ban_expires_of(slot->deadline);

	return deadline_ns > slot->early_ns ? deadline_ns - slot->early_ns : deadline_ns;
}

bool ban_deadline_passed(__u32 deadline, uint64_t now_ns)
{
	return deadline != BAN_DEADLINE_PERMANENT && deadline <= now_ns >> BAN_TICK_SHIFT;
}

/* ---- one slot ---- */

static unsigned int slots_of(const struct ban_family *f)
{
	return f->v6 ? BAN6_SLOTS : BAN4_SLOTS;
}

static struct ban4_bucket *bucket4(const struct ban_family *f, __u32 b)
{
	return (struct ban4_bucket *)f->buckets + b;
}

static struct ban6_bucket *bucket6(const struct ban_family *f, __u32 b)
{
	return (struct ban6_bucket *)f->buckets + b;
}

static __u32 *deadline_at(const struct ban_family *f, __u32 b, unsigned int s)
{
	return f->v6 ? &bucket6(f, b)->deadline[s] : &bucket4(f, b)->deadline[s];
}

static __u32 deadline_get(const struct ban_family *f, __u32 b, unsigned int s)
{
	return __atomic_load_n(deadline_at(f, b, s), __ATOMIC_ACQUIRE);
}

/* Stores the program may see at any moment: ordered, never torn. */
static void deadline_set(const struct ban_family *f, __u32 b, unsigned int s, __u32 deadline)
{
	__atomic_store_n(deadline_at(f, b, s), deadline, __ATOMIC_RELEASE);
}

/* ---- spills: a first bucket's count and filter of the entries living in their second ---- */

static __u32 spill_max(const struct ban_family *f)
{
	return f->v6 ? BAN_SPILL6_MAX : BAN_SPILL4_MAX;
}

static __u32 spill_get(const struct ban_family *f, __u32 b)
{
	return f->v6 ? bucket6(f, b)->spill : bucket4(f, b)->spill;
}

static __u32 spill_filter_get(const struct ban_family *f, __u32 b)
{
	return f->v6 ? bucket6(f, b)->spill_filter : bucket4(f, b)->spill_filter;
}

/* The filter first, so the program never sees a count without its bits. */
static void spill_set(const struct ban_family *f, __u32 b, __u32 count, __u32 filter)
{
	if (count > spill_max(f))
		count = spill_max(f);
	if (f->v6) {
		__atomic_store_n(&bucket6(f, b)->spill_filter, (__u16)filter, __ATOMIC_RELEASE);
		__atomic_store_n(&bucket6(f, b)->spill, (__u16)count, __ATOMIC_RELEASE);
	} else {
		__atomic_store_n(&bucket4(f, b)->spill_filter, filter, __ATOMIC_RELEASE);
		__atomic_store_n(&bucket4(f, b)->spill, count, __ATOMIC_RELEASE);
	}
}

/* One more entry of first bucket b lives in its second; called before it moves there. */
static void spill_in(const struct ban_family *f, __u32 b, __u32 bit)
{
	__u32 count = spill_get(f, b);

	spill_set(f, b, count == spill_max(f) ? count : count + 1, spill_filter_get(f, b) | bit);
}

/*
 * One fewer, called once it is out. The last one takes the filter with it;
 * a count that reached its maximum stays there, with its bits, until the
 * next recount, as it no longer knows how many are left.
 */
static void spill_out(const struct ban_family *f, __u32 b)
{
	__u32 count = spill_get(f, b);

	if (count == 0 || count == spill_max(f))
		return;
	spill_set(f, b, count - 1, count == 1 ? 0 : spill_filter_get(f, b));
}

__u32 ban_table_buckets(const struct ban_family *f)
{
	return ban_mask(__atomic_load_n(f->log2, __ATOMIC_ACQUIRE), f->max) + 1;
}

static void used_add(const struct ban_family *f, int delta)
{
	if (delta > 0 || *f->used > 0)
		*f->used += (__u32)delta;
}

static bool addr_is(const struct ban_family *f, __u32 b, unsigned int s, const struct addr_key *a)
{
	if (f->v6)
		return memcmp(bucket6(f, b)->addr[s].bytes, a->addr, ADDR_LEN) == 0;
	return memcmp(bucket4(f, b)->addr[s], &a->addr[12], sizeof(__be32)) == 0;
}

static void addr_read(const struct ban_family *f, __u32 b, unsigned int s, struct addr_key *out)
{
	memset(out, 0, sizeof(*out));
	if (f->v6) {
		memcpy(out->addr, bucket6(f, b)->addr[s].bytes, ADDR_LEN);
		return;
	}
	out->addr[10] = out->addr[11] = 0xff;
	memcpy(&out->addr[12], bucket4(f, b)->addr[s], sizeof(__be32));
}

static void addr_write(const struct ban_family *f, __u32 b, unsigned int s,
		       const struct addr_key *a)
{
	if (f->v6)
		memcpy(bucket6(f, b)->addr[s].bytes, a->addr, ADDR_LEN);
	else
		memcpy(bucket4(f, b)->addr[s], &a->addr[12], sizeof(__be32));
}

static void slot_read(const struct ban_family *f, __u32 b, unsigned int s, struct ban_slot *out)
{
	addr_read(f, b, s, &out->addr);
	out->deadline = deadline_get(f, b, s);
	out->created_unix = f->info[b].created_unix[s];
	out->early_ns = f->info[b].early_ns[s];
	out->origin = f->info[b].origin[s];
}

/* The deadline goes last: the program sees the old ban or the new one, never a mix. */
static void slot_write(const struct ban_family *f, __u32 b, unsigned int s,
		       const struct ban_slot *ban, bool same_address)
{
	if (!same_address) {
		deadline_set(f, b, s, BAN_DEADLINE_FREE);
		addr_write(f, b, s, &ban->addr);
		used_add(f, 1);
	}
	f->info[b].created_unix[s] = ban->created_unix;
	f->info[b].early_ns[s] = ban->early_ns;
	f->info[b].origin[s] = ban->origin;
	deadline_set(f, b, s, ban->deadline);
}

/* ---- an address's two buckets ---- */

static const struct ban_family *family_of(const struct ban_table *t, const struct addr_key *a)
{
	return cidr_is_ipv4(a->addr) ? &t->v4 : &t->v6;
}

static __u64 hash_of(const struct ban_table *t, const struct ban_family *f,
		     const struct addr_key *a)
{
	__be32 addr4;

	if (f->v6)
		return ban_hash6(a->addr, t->meta);
	memcpy(&addr4, &a->addr[12], sizeof(addr4));
	return ban_hash4(addr4, t->meta);
}

/* The spill_filter bit of the address whose hash this is. */
static __u32 spill_bit(const struct ban_family *f, __u64 hash)
{
	return f->v6 ? ban_spill_bit6(hash) : ban_spill_bit4(hash);
}

static __u32 spill_bit_of(const struct ban_table *t, const struct ban_family *f,
			  const struct addr_key *a)
{
	return spill_bit(f, hash_of(t, f, a));
}

static void buckets_of(const struct ban_table *t, const struct ban_family *f,
		       const struct addr_key *a, __u32 *first, __u32 *second)
{
	__u64 hash = hash_of(t, f, a);
	__u32 mask = ban_table_buckets(f) - 1;

	*first = ban_first_bucket(hash, mask);
	*second = ban_second_bucket(hash, mask);
}

/* The bucket an entry of bucket b would move to: its other choice. */
static __u32 other_bucket(const struct ban_table *t, const struct ban_family *f, __u32 b,
			  unsigned int s, bool *leaves_first)
{
	struct addr_key a;
	__u32 first, second;

	addr_read(f, b, s, &a);
	buckets_of(t, f, &a, &first, &second);
	*leaves_first = b == first;
	return b == first ? second : first;
}

static int find_in(const struct ban_family *f, __u32 b, const struct addr_key *a)
{
	for (unsigned int s = 0; s < slots_of(f); s++) {
		if (deadline_get(f, b, s) != BAN_DEADLINE_FREE && addr_is(f, b, s, a))
			return (int)s;
	}
	return -1;
}

static int free_in(const struct ban_family *f, __u32 b, uint64_t now_ns)
{
	for (unsigned int s = 0; s < slots_of(f); s++) {
		if (ban_deadline_passed(deadline_get(f, b, s), now_ns))
			return (int)s;
	}
	return -1;
}

/* Takes an entry out of its slot, and out of its first bucket's spill if it spilled. */
static void slot_remove(const struct ban_table *t, const struct ban_family *f, __u32 b,
			unsigned int s)
{
	bool in_first;
	__u32 other;

	if (deadline_get(f, b, s) == BAN_DEADLINE_FREE)
		return;
	other = other_bucket(t, f, b, s, &in_first);
	deadline_set(f, b, s, BAN_DEADLINE_FREE);
	used_add(f, -1);
	if (!in_first)
		spill_out(f, other);
}

/* Moves the entry at (from, s) into free slot (to, d) of its other bucket. */
static void slot_move(const struct ban_table *t, const struct ban_family *f, __u32 from,
		      unsigned int s, __u32 to, unsigned int d)
{
	struct ban_slot entry;
	bool leaves_first;

	other_bucket(t, f, from, s, &leaves_first);
	slot_read(f, from, s, &entry);
	slot_remove(t, f, to, d); /* an expired entry may hold it */
	if (leaves_first)
		spill_in(f, from, spill_bit_of(t, f, &entry.addr));
	slot_write(f, to, d, &entry, false);
	deadline_set(f, from, s, BAN_DEADLINE_FREE);
	used_add(f, -1);
	if (!leaves_first)
		spill_out(f, to);
}

/* ---- relocation: a breadth-first cuckoo walk ---- */

struct walk_node {
	__u32 bucket;
	unsigned int slot;
	int parent;
};

static bool on_path(const struct walk_node *nodes, int at, __u32 bucket, unsigned int slot)
{
	for (; at != NO_PARENT; at = nodes[at].parent) {
		if (nodes[at].bucket == bucket && nodes[at].slot == slot)
			return true;
	}
	return false;
}

/* Frees a slot of the two full buckets by moving entries along their other choices. */
static int relocate(const struct ban_table *t, const struct ban_family *f, const __u32 pair[2],
		    uint64_t now_ns, __u32 *bucket, unsigned int *slot)
{
	struct walk_node *nodes = calloc(RELOCATE_NODES, sizeof(*nodes));
	int used = 0, found = NO_PARENT;

	if (!nodes)
		return -ENOMEM;
	for (int i = 0; i < 2; i++) {
		for (unsigned int s = 0; s < slots_of(f); s++)
			nodes[used++] = (struct walk_node){ pair[i], s, NO_PARENT };
	}
	for (int at = 0; at < used && found == NO_PARENT; at++) {
		bool leaves_first;
		__u32 to = other_bucket(t, f, nodes[at].bucket, nodes[at].slot, &leaves_first);
		int free_slot = free_in(f, to, now_ns);

		if (free_slot >= 0) {
			/* Each entry of the path moves into the slot its child freed. */
			for (int n = at; n != NO_PARENT; n = nodes[n].parent) {
				slot_move(t, f, nodes[n].bucket, nodes[n].slot, to,
					  (unsigned int)free_slot);
				to = nodes[n].bucket;
				free_slot = (int)nodes[n].slot;
			}
			*bucket = to;
			*slot = (unsigned int)free_slot;
			found = at;
		}
		for (unsigned int s = 0; found == NO_PARENT && s < slots_of(f); s++) {
			if (used < RELOCATE_NODES && !on_path(nodes, at, to, s))
				nodes[used++] = (struct walk_node){ to, s, at };
		}
	}
	free(nodes);
	return found == NO_PARENT ? -ENOSPC : 0;
}

/* ---- the operations ---- */

int ban_table_find(const struct ban_table *t, const struct addr_key *addr, struct ban_slot *out)
{
	const struct ban_family *f = family_of(t, addr);
	__u32 pair[2];

	buckets_of(t, f, addr, &pair[0], &pair[1]);
	for (int i = 0; i < 2; i++) {
		int s = find_in(f, pair[i], addr);

		if (s >= 0) {
			slot_read(f, pair[i], (unsigned int)s, out);
			return 0;
		}
	}
	return -ENOENT;
}

bool ban_table_reads_second(const struct ban_table *t, const struct addr_key *addr)
{
	const struct ban_family *f = family_of(t, addr);
	__u64 hash = hash_of(t, f, addr);
	__u32 first = ban_first_bucket(hash, ban_table_buckets(f) - 1);

	return find_in(f, first, addr) < 0 && (spill_filter_get(f, first) & spill_bit(f, hash));
}

static int put_once(const struct ban_table *t, const struct ban_slot *ban, uint64_t now_ns,
		    struct ban_slot *old, bool *existed)
{
	const struct ban_family *f = family_of(t, &ban->addr);
	__u32 pair[2], bucket;
	unsigned int slot;
	int s, err;

	buckets_of(t, f, &ban->addr, &pair[0], &pair[1]);
	if (existed)
		*existed = false;
	for (int i = 0; i < 2; i++) {
		s = find_in(f, pair[i], &ban->addr);
		if (s < 0)
			continue;
		if (old)
			slot_read(f, pair[i], (unsigned int)s, old);
		if (existed)
			*existed = true;
		slot_write(f, pair[i], (unsigned int)s, ban, true);
		return 0;
	}
	for (int i = 0; i < 2; i++) {
		s = free_in(f, pair[i], now_ns);
		if (s < 0)
			continue;
		slot_remove(t, f, pair[i], (unsigned int)s); /* an expired ban may hold it */
		if (pair[i] != pair[0])
			spill_in(f, pair[0], spill_bit_of(t, f, &ban->addr));
		slot_write(f, pair[i], (unsigned int)s, ban, false);
		return 0;
	}
	err = relocate(t, f, pair, now_ns, &bucket, &slot);
	if (err)
		return err;
	if (bucket != pair[0])
		spill_in(f, pair[0], spill_bit_of(t, f, &ban->addr));
	slot_write(f, bucket, slot, ban, false);
	return 0;
}

int ban_table_delete(const struct ban_table *t, const struct addr_key *addr, struct ban_slot *old)
{
	const struct ban_family *f = family_of(t, addr);
	__u32 pair[2];

	buckets_of(t, f, addr, &pair[0], &pair[1]);
	for (int i = 0; i < 2; i++) {
		int s = find_in(f, pair[i], addr);

		if (s < 0)
			continue;
		if (old)
			slot_read(f, pair[i], (unsigned int)s, old);
		slot_remove(t, f, pair[i], (unsigned int)s);
		return 0;
	}
	return -ENOENT;
}

/* ---- growth: doubling the buckets in use ---- */

static void bucket_clear(const struct ban_family *f, __u32 b)
{
	for (unsigned int s = 0; s < slots_of(f); s++)
		deadline_set(f, b, s, BAN_DEADLINE_FREE);
	spill_set(f, b, 0, 0);
}

/* Slot s of bucket `from`, copied as it is to the same slot of `to`. */
static void slot_copy(const struct ban_family *f, __u32 from, __u32 to, unsigned int s)
{
	struct ban_slot entry;

	slot_read(f, from, s, &entry);
	addr_write(f, to, s, &entry.addr);
	f->info[to].created_unix[s] = entry.created_unix;
	f->info[to].early_ns[s] = entry.early_ns;
	f->info[to].origin[s] = entry.origin;
	deadline_set(f, to, s, entry.deadline);
}

/* Where an entry lives under a table size, and what it spills from where. */
struct placement {
	__u32 home;  /* its bucket */
	__u32 first; /* its first choice */
	__u32 bit;   /* its spill_filter bit */
};

/* The entry in slot s of bucket b once the mask is `mask`: b, or b + the old size. */
static struct placement place_under(const struct ban_table *t, const struct ban_family *f, __u32 b,
				    unsigned int s, __u32 old_mask, __u32 mask)
{
	struct placement p;
	struct addr_key a;
	__u64 hash;

	addr_read(f, b, s, &a);
	hash = hash_of(t, f, &a);
	p.first = ban_first_bucket(hash, mask);
	p.home = b == ban_first_bucket(hash, old_mask) ? p.first : ban_second_bucket(hash, mask);
	p.bit = spill_bit(f, hash);
	return p;
}

/* What a first bucket's spill will hold: counted in plain memory, then stored. */
struct spill_tally {
	__u32 count;
	__u32 filter;
};

static void tally_add(struct spill_tally *tally, struct placement p)
{
	if (p.home == p.first)
		return;
	tally[p.first].count++;
	tally[p.first].filter |= p.bit;
}

/*
 * Doubles the buckets in use (see the map ABI): copies, switches, waits,
 * clears. Until the switch the program reads the old half only, which this
 * leaves whole; spills there only grow (the old filter and the new one
 * together) until the old copies are gone.
 */
static int grow(const struct ban_table *t, const struct ban_family *f)
{
	__u32 n = ban_table_buckets(f);
	struct spill_tally *tally = n < f->max ? calloc(2 * (size_t)n, sizeof(*tally)) : NULL;
	struct placement p;

	if (!tally)
		return n < f->max ? -ENOMEM : -ENOSPC;
	for (__u32 b = 0; b < n; b++)
		bucket_clear(f, b + n); /* a growth cut short may have left copies */
	for (__u32 b = 0; b < n; b++) {
		for (unsigned int s = 0; s < slots_of(f); s++) {
			if (deadline_get(f, b, s) == BAN_DEADLINE_FREE)
				continue;
			p = place_under(t, f, b, s, n - 1, 2 * n - 1);
			if (p.home != b)
				slot_copy(f, b, p.home, s);
			tally_add(tally, p);
		}
	}
	for (__u32 b = 0; b < n; b++) {
		__u32 count = spill_get(f, b);

		spill_set(f, b + n, tally[b + n].count, tally[b + n].filter);
		spill_set(f, b, count > tally[b].count ? count : tally[b].count,
			  spill_filter_get(f, b) | tally[b].filter);
	}
	__atomic_store_n(f->log2, __atomic_load_n(f->log2, __ATOMIC_ACQUIRE) + 1, __ATOMIC_SEQ_CST);
	if (t->mapped)
		usleep(GROW_GRACE_US);
	for (__u32 b = 0; b < n; b++) {
		for (unsigned int s = 0; s < slots_of(f); s++) {
			if (deadline_get(f, b, s) != BAN_DEADLINE_FREE &&
			    place_under(t, f, b, s, n - 1, 2 * n - 1).home != b)
				deadline_set(f, b, s, BAN_DEADLINE_FREE);
		}
		spill_set(f, b, tally[b].count, tally[b].filter);
	}
	free(tally);
	return 0;
}

/*
 * Every first bucket's spill counted again from the entries. Each bucket
 * goes from its old filter to the exact one in one store, the filter before
 * the count.
 */
static int recount(const struct ban_table *t, const struct ban_family *f)
{
	__u32 n = ban_table_buckets(f);
	struct spill_tally *tally = calloc(n, sizeof(*tally));

	if (!tally)
		return -ENOMEM;
	for (__u32 b = 0; b < n; b++) {
		for (unsigned int s = 0; s < slots_of(f); s++) {
			if (deadline_get(f, b, s) != BAN_DEADLINE_FREE)
				tally_add(tally, place_under(t, f, b, s, n - 1, n - 1));
		}
	}
	for (__u32 b = 0; b < n; b++)
		spill_set(f, b, tally[b].count, tally[b].filter);
	free(tally);
	return 0;
}

int ban_table_recount(const struct ban_table *t)
{
	int err = recount(t, &t->v4);

	return err ? err : recount(t, &t->v6);
}

static bool over_load(const struct ban_family *f)
{
	return *f->used >= (f->v6 ? GROW_LOAD6 : GROW_LOAD4) * ban_table_buckets(f) &&
	       ban_table_buckets(f) < f->max;
}

int ban_table_put(const struct ban_table *t, const struct ban_slot *ban, uint64_t now_ns,
		  struct ban_slot *old, bool *existed)
{
	const struct ban_family *f = family_of(t, &ban->addr);
	int err;

	if (over_load(f) && grow(t, f) == -ENOMEM)
		return -ENOMEM;
	err = put_once(t, ban, now_ns, old, existed);
	while (err == -ENOSPC && ban_table_buckets(f) < f->max) {
		err = grow(t, f);
		if (!err)
			err = put_once(t, ban, now_ns, old, existed);
	}
	return err;
}

static void walk_family(const struct ban_family *f, __u32 from, __u32 to, ban_slot_fn fn, void *ctx)
{
	struct ban_slot ban;

	for (__u32 b = from; b < to; b++) {
		for (unsigned int s = 0; s < slots_of(f); s++) {
			if (deadline_get(f, b, s) == BAN_DEADLINE_FREE)
				continue;
			slot_read(f, b, s, &ban);
			fn(ctx, &ban);
		}
	}
}

bool ban_table_walk(const struct ban_table *t, struct ban_table_cursor *cursor, __u32 buckets,
		    ban_slot_fn fn, void *ctx)
{
	const struct ban_family *f = cursor->v6 ? &t->v6 : &t->v4;
	__u32 count = ban_table_buckets(f);
	__u32 end = cursor->bucket + buckets > count ? count : cursor->bucket + buckets;

	walk_family(f, cursor->bucket < end ? cursor->bucket : end, end, fn, ctx);
	cursor->bucket = end;
	if (end < count)
		return false;
	cursor->bucket = 0;
	cursor->v6 = !cursor->v6;
	return !cursor->v6;
}

void ban_table_each(const struct ban_table *t, ban_slot_fn fn, void *ctx)
{
	walk_family(&t->v4, 0, ban_table_buckets(&t->v4), fn, ctx);
	walk_family(&t->v6, 0, ban_table_buckets(&t->v6), fn, ctx);
}

/* ---- memory ---- */

/*
 * A nonzero key, set once: of two processes making new tables at once, one
 * wins. The sizes in use start at their least (both write the same).
 */
static int seed_once(struct ban_meta *meta)
{
	__u64 seed = 0, unset = 0;

	while (seed == 0) {
		if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
			return -errno;
	}
	__atomic_compare_exchange_n(&meta->seed, &unset, seed, false, __ATOMIC_SEQ_CST,
				    __ATOMIC_SEQ_CST);
	if (meta->log2_4 == 0)
		meta->log2_4 = BAN_LOG2_MIN;
	if (meta->log2_6 == 0)
		meta->log2_6 = BAN_LOG2_MIN;
	return 0;
}

static size_t stride_of(size_t value_size)
{
	return (value_size + 7) & ~(size_t)7; /* how an array map lays out its values */
}

static void *map_memory(int fd, size_t value_size, __u32 entries, char why[ERRMSG_LEN])
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	void *mem;

	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		errmsg(why, "cannot query a ban table: %s", strerror(errno));
		return NULL;
	}
	if (info.max_entries != entries || info.value_size != value_size) {
		errmsg(why,
		       "ban table %s has %u entries of %u bytes, this xdpban expects %u of %zu",
		       info.name, info.max_entries, info.value_size, entries, value_size);
		return NULL;
	}
	mem =
	    mmap(NULL, stride_of(value_size) * entries, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		errmsg(why, "cannot map ban table %s: %s", info.name, strerror(errno));
		return NULL;
	}
	return mem;
}

_Static_assert(sizeof(struct ban4_bucket) == 64, "a bucket is one cache line");
_Static_assert(sizeof(struct ban6_bucket) == 64, "a bucket is one cache line");
_Static_assert(sizeof(struct ban_info) % 8 == 0, "ban_info is laid out unpadded");

int ban_table_map(struct ban_table *t, int fd4, int fd6, int info4, int info6, int meta,
		  char why[ERRMSG_LEN])
{
	int err;

	memset(t, 0, sizeof(*t));
	t->mapped = true;
	t->v4 = (struct ban_family){ .max = BAN4_BUCKETS };
	t->v6 = (struct ban_family){ .max = BAN6_BUCKETS, .v6 = true };
	t->v4.buckets = map_memory(fd4, sizeof(struct ban4_bucket), BAN4_BUCKETS, why);
	if (t->v4.buckets)
		t->v6.buckets = map_memory(fd6, sizeof(struct ban6_bucket), BAN6_BUCKETS, why);
	if (t->v6.buckets)
		t->v4.info = map_memory(info4, sizeof(struct ban_info), BAN4_BUCKETS, why);
	if (t->v4.info)
		t->v6.info = map_memory(info6, sizeof(struct ban_info), BAN6_BUCKETS, why);
	if (t->v6.info)
		t->meta = map_memory(meta, sizeof(struct ban_meta), 1, why);
	if (!t->meta) {
		ban_table_release(t);
		return -EPROTO;
	}
	t->v4.log2 = &t->meta->log2_4;
	t->v4.used = &t->meta->used4;
	t->v6.log2 = &t->meta->log2_6;
	t->v6.used = &t->meta->used6;
	err = seed_once(t->meta);
	if (err) {
		errmsg(why, "cannot draw the ban table's hash key: %s", strerror(-err));
		ban_table_release(t);
	}
	return err;
}

static void release(void *mem, size_t size, bool mapped)
{
	if (mem && mapped)
		munmap(mem, size);
	else if (!mapped)
		free(mem);
}

int ban_table_copy_buckets(const struct ban_table *t, int fd4, int fd6, char why[ERRMSG_LEN])
{
	size_t size4 = stride_of(sizeof(struct ban4_bucket)) * t->v4.max;
	size_t size6 = stride_of(sizeof(struct ban6_bucket)) * t->v6.max;
	void *old4 = map_memory(fd4, sizeof(struct ban4_bucket), t->v4.max, why), *old6 = NULL;
	int err = -EPROTO;

	if (old4)
		old6 = map_memory(fd6, sizeof(struct ban6_bucket), t->v6.max, why);
	if (old6) {
		memcpy(t->v4.buckets, old4, size4);
		memcpy(t->v6.buckets, old6, size6);
		err = ban_table_recount(t);
		if (err)
			errmsg(why, "cannot count the ban tables' spills: %s", strerror(-err));
	}
	release(old4, size4, true);
	release(old6, size6, true);
	return err;
}

int ban_table_alloc(struct ban_table *t, unsigned int log2_max, unsigned int log2_start, __u64 seed)
{
	__u32 count = 1U << log2_max;

	memset(t, 0, sizeof(*t));
	t->v4 = (struct ban_family){ .max = count };
	t->v6 = (struct ban_family){ .max = count, .v6 = true };
	t->v4.buckets = calloc(count, sizeof(struct ban4_bucket));
	t->v6.buckets = calloc(count, sizeof(struct ban6_bucket));
	t->v4.info = calloc(count, sizeof(struct ban_info));
	t->v6.info = calloc(count, sizeof(struct ban_info));
	t->meta = calloc(1, sizeof(*t->meta));
	if (!t->v4.buckets || !t->v6.buckets || !t->v4.info || !t->v6.info || !t->meta) {
		ban_table_release(t);
		return -ENOMEM;
	}
	*t->meta = (struct ban_meta){ seed, log2_start, log2_start, 0, 0 };
	t->v4.log2 = &t->meta->log2_4;
	t->v4.used = &t->meta->used4;
	t->v6.log2 = &t->meta->log2_6;
	t->v6.used = &t->meta->used6;
	return 0;
}

void ban_table_release(struct ban_table *t)
{
	release(t->v4.buckets, stride_of(sizeof(struct ban4_bucket)) * t->v4.max, t->mapped);
	release(t->v6.buckets, stride_of(sizeof(struct ban6_bucket)) * t->v6.max, t->mapped);
	release(t->v4.info, stride_of(sizeof(struct ban_info)) * t->v4.max, t->mapped);
	release(t->v6.info, stride_of(sizeof(struct ban_info)) * t->v6.max, t->mapped);
	release(t->meta, stride_of(sizeof(struct ban_meta)), t->mapped);
	memset(t, 0, sizeof(*t));
}
