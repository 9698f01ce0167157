// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "kernel/path_summary.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include "kernel/map.h"
#include "lib/u128.h"

#define BUCKETS PATH_SUMMARY_BUCKETS

/* The three maps, as read from or to be written to the kernel. */
struct summary {
	struct path_summary v4[BUCKETS];
	struct path_summary v6[BUCKETS];
	struct path_cidr cidr4[BUCKETS];
};

/* CIDR bans meeting each IPv4 /16 while the flags are computed: 0, 1 (which) or more. */
struct cidr_census {
	__u32 count[BUCKETS];
	struct path_cidr one[BUCKETS];
};

static const __u8 ipv4_mapped[ADDR_LEN] = { [10] = 0xff, [11] = 0xff };

static int fail(char why[ERRMSG_LEN], const char *what, const char *map)
{
	int err = errno ? -errno : -EIO;

	errmsg(why, "cannot %s %s: %s", what, map, strerror(-err));
	return err;
}

_Static_assert(sizeof(struct path_summary) == sizeof(__u32), "one aligned store per entry");

/* An array map element: the value, rounded up to 8 bytes. */
struct summary_slot {
	struct path_summary entry;
	__u32 padding;
};

/* The three maps as user space sees them: memory-mapped (BPF_F_MMAPABLE). */
struct mapped {
	struct summary_slot *v4;
	struct summary_slot *v6;
	struct path_cidr *cidr4;
};

#define SUMMARY_BYTES (BUCKETS * sizeof(struct summary_slot))
#define CIDR_BYTES    (BUCKETS * sizeof(struct path_cidr))

static void *map_memory(int fd, size_t size, const char *map, char why[ERRMSG_LEN])
{
	void *memory = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (memory != MAP_FAILED)
		return memory;
	fail(why, "map", map);
	return NULL;
}

static void mapped_close(struct mapped *m)
{
	if (m->v4)
		munmap(m->v4, SUMMARY_BYTES);
	if (m->v6)
		munmap(m->v6, SUMMARY_BYTES);
	if (m->cidr4)
		munmap(m->cidr4, CIDR_BYTES);
}

static int mapped_open(const struct maps *maps, struct mapped *m, char why[ERRMSG_LEN])
{
	m->v4 = map_memory(maps->path_sum4, SUMMARY_BYTES, MAP_PATH_SUM4, why);
	m->v6 = m->v4 ? map_memory(maps->path_sum6, SUMMARY_BYTES, MAP_PATH_SUM6, why) : NULL;
	m->cidr4 = m->v6 ? map_memory(maps->path_cidr4, CIDR_BYTES, MAP_PATH_CIDR4, why) : NULL;
	if (m->cidr4)
		return 0;
	mapped_close(m);
	return -EIO;
}

static void summary_read(const struct mapped *m, struct summary *s)
{
	for (__u32 b = 0; b < BUCKETS; b++) {
		s->v4[b] = m->v4[b].entry;
		s->v6[b] = m->v6[b].entry;
	}
	memcpy(s->cidr4, m->cidr4, CIDR_BYTES);
}

/* One entry in one aligned store: the program reads it whole, old or new. */
static void store_entry(struct path_summary *kernel, struct path_summary value)
{
	__u32 word;

	memcpy(&word, &value, sizeof(word));
	__atomic_store_n((__u32 *)kernel, word, __ATOMIC_RELAXED);
}

/* Writes the entries of to that differ from from, then fences. */
static void write_entries(struct summary_slot *kernel, const struct path_summary *from,
			  const struct path_summary *to)
{
	for (__u32 b = 0; b < BUCKETS; b++) {
		if (memcmp(&from[b], &to[b], sizeof(to[b])))
			store_entry(&kernel[b].entry, to[b]);
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/*
 * Moves the kernel from from to to in three steps: the flags that change
 * (and every PATH_ONE_CIDR whose ban changes) are cleared, path_cidr4 is
 * written while nothing points at what changes in it, then the new flags.
 */
static int summary_move(const struct mapped *m, const struct summary *from,
			const struct summary *to, char why[ERRMSG_LEN])
{
	struct summary *mid = malloc(sizeof(*mid));

	if (!mid) {
		errmsg(why, "out of memory for the path summary");
		return -ENOMEM;
	}
	memcpy(mid, from, sizeof(*mid));
	for (__u32 b = 0; b < BUCKETS; b++) {
		mid->v4[b].flags &= to->v4[b].flags;
		mid->v6[b].flags &= to->v6[b].flags;
		if (memcmp(&from->cidr4[b], &to->cidr4[b], sizeof(to->cidr4[b])))
			mid->v4[b].flags &= (__u8)~PATH_ONE_CIDR;
	}
	write_entries(m->v4, from->v4, mid->v4);
	write_entries(m->v6, from->v6, mid->v6);
	for (__u32 b = 0; b < BUCKETS; b++) {
		if (memcmp(&from->cidr4[b], &to->cidr4[b], sizeof(to->cidr4[b])))
			m->cidr4[b] = to->cidr4[b];
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	write_entries(m->v4, mid->v4, to->v4);
	write_entries(m->v6, mid->v6, to->v6);
	free(mid);
	return 0;
}

typedef int (*summary_change_fn)(const struct maps *maps, struct summary *s, const void *arg,
				 char why[ERRMSG_LEN]);

/* Reads the summary, lets change edit a copy, and moves the kernel to it. */
static int summary_change(const struct maps *maps, summary_change_fn change, const void *arg,
			  char why[ERRMSG_LEN])
{
	struct summary *from = malloc(sizeof(*from)), *to = malloc(sizeof(*to));
	struct mapped m = { 0 };
	int err = from && to ? 0 : -ENOMEM;

	if (err)
		errmsg(why, "out of memory for the path summary");
	if (!err)
		err = mapped_open(maps, &m, why);
	if (!err) {
		summary_read(&m, from);
		memcpy(to, from, sizeof(*to));
		err = change(maps, to, arg, why);
		if (!err)
			err = summary_move(&m, from, to, why);
		mapped_close(&m);
	}
	free(from);
	free(to);
	return err;
}

/*
 * The buckets of each family a prefix meets, first and last; an empty range
 * is first > last. IPv4-mapped addresses are judged by the IPv4 summary
 * alone, so a prefix inside ::ffff:0:0/96 meets no IPv6 bucket.
 */
static void buckets_met(const struct lpm_key *key, __u32 v6[2], __u32 v4[2])
{
	u128 first = u128_from_addr(key->addr) & ~u128_host_mask(key->prefixlen);
	u128 last = first | u128_host_mask(key->prefixlen);
	u128 v4_first = u128_from_addr(ipv4_mapped), v4_last = v4_first | 0xffffffffU;

	v6[0] = 1, v6[1] = 0;
	v4[0] = 1, v4[1] = 0;
	if (first < v4_first || last > v4_last) {
		v6[0] = (__u32)(first >> 112);
		v6[1] = (__u32)(last >> 112);
	}
	if (last < v4_first || first > v4_last)
		return;
	first = first > v4_first ? first : v4_first;
	last = last < v4_last ? last : v4_last;
	v4[0] = (__u32)(first >> 16) & 0xffff;
	v4[1] = (__u32)(last >> 16) & 0xffff;
}

static void clear_flag(struct summary *s, const struct lpm_key *key, __u8 flag)
{
	__u32 v6[2], v4[2];

	buckets_met(key, v6, v4);
	for (__u32 b = v6[0]; b <= v6[1]; b++)
		s->v6[b].flags &= (__u8)~flag;
	for (__u32 b = v4[0]; b <= v4[1]; b++)
		s->v4[b].flags &= (__u8)~flag;
}

struct open_args {
	const struct lpm_key *keys;
	size_t n;
	__u8 flag;
};

static int open_change(const struct maps *maps, struct summary *s, const void *arg,
		       char why[ERRMSG_LEN])
{
	const struct open_args *a = arg;
	/* Adding a CIDR ban also ends a /16's one-ban shortcut: it may not be the only one. */
	__u8 flag = a->flag == PATH_NO_CIDR ? PATH_NO_CIDR | PATH_ONE_CIDR : a->flag;

	(void)maps;
	(void)why;
	for (size_t i = 0; i < a->n; i++)
		clear_flag(s, &a->keys[i], flag);
	return 0;
}

int path_summary_open(const struct maps *maps, const struct lpm_key *keys, size_t n, __u8 flag,
		      char why[ERRMSG_LEN])
{
	const struct open_args args = { keys, n, flag };

	return n ? summary_change(maps, open_change, &args, why) : 0;
}

static int dump_trie(int fd, size_t value_size, void **keys, void **values, size_t *count,
		     char why[ERRMSG_LEN])
{
	return map_dump(fd, sizeof(struct lpm_key), value_size, keys, values, count, why);
}

static int allow_flags(const struct maps *maps, struct summary *s, char why[ERRMSG_LEN])
{
	void *keys = NULL, *values = NULL;
	size_t count = 0;
	int err =
	    dump_trie(maps->allow_cidr, sizeof(struct allow_entry), &keys, &values, &count, why);

	for (size_t i = 0; !err && i < count; i++)
		clear_flag(s, (const struct lpm_key *)keys + i, PATH_NO_ALLOW);
	free(keys);
	free(values);
	return err;
}

/* Counts a ban meeting IPv4 buckets v4[0..1], as the IPv4 prefix it is there. */
static void census_add(struct cidr_census *c, const struct lpm_key *key,
		       const struct ban_entry *ban, const __u32 v4[2])
{
	struct path_cidr one = { .expires_ns = ban->expires_ns };
	__u32 net;

	/* A prefix holding all of ::ffff:0:0/96 is, for IPv4, the /0. */
	if (key->prefixlen > IPV4_MAPPED_PREFIXLEN) {
		memcpy(&net, &key->addr[12], sizeof(net));
		one.prefixlen = key->prefixlen - IPV4_MAPPED_PREFIXLEN;
		one.net = be32toh(net) & (__u32)(~0ULL << (32 - one.prefixlen));
	}
	for (__u32 b = v4[0]; b <= v4[1]; b++) {
		if (c->count[b]++ == 0)
			c->one[b] = one;
	}
}

/* PATH_NO_CIDR where no ban meets a /16; PATH_ONE_CIDR and its ban where one alone does. */
static int cidr_flags(const struct maps *maps, struct summary *s, char why[ERRMSG_LEN])
{
	struct cidr_census *census = calloc(1, sizeof(*census));
	void *keys = NULL, *values = NULL;
	size_t count = 0;
	int err = census ? dump_trie(maps->ban_cidr, sizeof(struct ban_entry), &keys, &values,
				     &count, why)
			 : -ENOMEM;

	if (err == -ENOMEM)
		errmsg(why, "out of memory for the path summary");
	for (size_t i = 0; !err && i < count; i++) {
		const struct lpm_key *key = (const struct lpm_key *)keys + i;
		__u32 v6[2], v4[2];

		clear_flag(s, key, PATH_NO_CIDR);
		buckets_met(key, v6, v4);
		census_add(census, key, (const struct ban_entry *)values + i, v4);
	}
	for (__u32 b = 0; !err && b < BUCKETS; b++) {
		if (census->count[b] != 1)
			continue;
		s->v4[b].flags |= PATH_ONE_CIDR;
		s->cidr4[b] = census->one[b];
	}
	free(census);
	free(keys);
	free(values);
	return err;
}

/* Every flag from the two tries as they are now. */
static int compute_flags(const struct maps *maps, struct summary *s, const void *arg,
			 char why[ERRMSG_LEN])
{
	int err;

	(void)arg;
	for (__u32 b = 0; b < BUCKETS; b++) {
		s->v4[b].flags = PATH_NO_ALLOW | PATH_NO_CIDR;
		s->v6[b].flags = PATH_NO_ALLOW | PATH_NO_CIDR;
	}
	err = allow_flags(maps, s, why);
	return err ? err : cidr_flags(maps, s, why);
}

int path_summary_tighten(const struct maps *maps, char why[ERRMSG_LEN])
{
	return summary_change(maps, compute_flags, NULL, why);
}

/* The summary's geo entry for a geo index first-level entry: MIXED has none (0). */
static __u16 geo_entry_for(__u32 first_level)
{
	return first_level >= GEO_INDEX_MIXED ? 0 : (__u16)(first_level + 1);
}

/* The geo index's first levels, IPv4 and IPv6. */
struct geo_levels {
	const __u32 *first4;
	const __u32 *first6;
};

static int geo_defer_change(const struct maps *maps, struct summary *s, const void *arg,
			    char why[ERRMSG_LEN])
{
	const struct geo_levels *levels = arg;

	(void)maps;
	(void)why;
	for (__u32 b = 0; b < BUCKETS; b++) {
		__u16 *v4 = &s->v4[b].geo, *v6 = &s->v6[b].geo;

		/* 1 + a block reference: the move may rewrite that block. */
		if (*v4 != geo_entry_for(levels->first4[b]) || *v4 > GEO_INDEX_BLOCK_FIRST)
			*v4 = 0;
		if (*v6 != geo_entry_for(levels->first6[b]) || *v6 > GEO_INDEX_BLOCK_FIRST)
			*v6 = 0;
	}
	return 0;
}

static int geo_set_change(const struct maps *maps, struct summary *s, const void *arg,
			  char why[ERRMSG_LEN])
{
	const struct geo_levels *levels = arg;

	(void)maps;
	(void)why;
	for (__u32 b = 0; b < BUCKETS; b++) {
		s->v4[b].geo = geo_entry_for(levels->first4[b]);
		s->v6[b].geo = geo_entry_for(levels->first6[b]);
	}
	return 0;
}

int path_summary_geo_defer(const struct maps *maps, const __u32 *first4, const __u32 *first6,
			   char why[ERRMSG_LEN])
{
	const struct geo_levels levels = { first4, first6 };

	return summary_change(maps, geo_defer_change, &levels, why);
}

int path_summary_geo_set(const struct maps *maps, const __u32 *first4, const __u32 *first6,
			 char why[ERRMSG_LEN])
{
	const struct geo_levels levels = { first4, first6 };

	return summary_change(maps, geo_set_change, &levels, why);
}

/* The first level of one geo index map. */
static int read_geo_first(int fd, __u32 *first, const char *map, char why[ERRMSG_LEN])
{
	static struct geo_index_entry values[GEO_INDEX_BUCKETS];
	int err = map_array_read(fd, BUCKETS, values, map, why);

	for (__u32 b = 0; !err && b < GEO_INDEX_BUCKETS; b++)
		first[b] = values[b].country;
	return err;
}

static int sync_change(const struct maps *maps, struct summary *s, const void *arg,
		       char why[ERRMSG_LEN])
{
	static __u32 first4[GEO_INDEX_BUCKETS], first6[GEO_INDEX_BUCKETS];
	const struct geo_levels levels = { first4, first6 };
	int err = read_geo_first(maps->geo_index4, first4, MAP_GEO_INDEX4, why);

	(void)arg;
	if (!err)
		err = read_geo_first(maps->geo_index6, first6, MAP_GEO_INDEX6, why);
	if (!err)
		err = geo_set_change(maps, s, &levels, why);
	return err ? err : compute_flags(maps, s, NULL, why);
}

int path_summary_sync(const struct maps *maps, char why[ERRMSG_LEN])
{
	return summary_change(maps, sync_change, NULL, why);
}
