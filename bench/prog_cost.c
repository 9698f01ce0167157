// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Per-packet cost of xdpban's XDP program through BPF_PROG_TEST_RUN, side by
 * side in one run with the memory floor of a verdict. Absolute figures on a
 * shared VM are noise; the ratios are the result.
 *
 * Always loaded: the whole world database (tor-geoipdb) with every country
 * but DE blocked, the heaviest geo configuration (over a million prefixes in
 * the kernel). Then 0, 10k, 100k and 1M exact-address bans of each family
 * (with 1,000 IPv4 /24 CIDR bans beside each non-zero count), and for each,
 * six verdicts:
 *   pass       an IPv4 source in DE, banned nowhere
 *   ban-drop   a banned IPv4 address
 *   cidr-drop  an address inside a CIDR ban
 *   geo-drop   an address of a blocked country
 *   pass v6, ban-drop v6  the same as pass and ban-drop, over IPv6
 * each with sources drawn per packet from a pool of 65,536 and of 1,048,576
 * addresses of that kind (a spoofed flood; a real 1M botnet), by
 * bench/xdpban_random.bpf.c. Per row, in every round (interleaved, so drift
 * hits all alike):
 *   draw + drop  the same draw, then XDP_DROP: the baseline;
 *   xdpban       the draw, then xdpban's verdict: "own" is what it adds;
 *   floor        the draw, one 64-byte line read from an array of 16 bytes
 *                per ban of the row's N (a hash of the source picks the
 *                line), then drop: "floor" is what that read adds, the least
 *                any exact-match lookup over N bans touches;
 *   lookup       the draw, then xdpban's exact-ban lookup alone (hash,
 *                bucket, slots; no parse, no summary, no counter): what the
 *                ban table costs, between the floor and the whole verdict;
 *   one frame    xdpban and XDP_DROP on one frame repeated (caches warm).
 * Each figure is the median over rounds of the per-round difference, so
 * own / floor is read from one run. Every random round checks, on the
 * verdict counters, that each packet got the verdict of its kind.
 *
 *   prog_cost [--quick] [--bans N] [--against OBJECT] [--json FILE]
 *
 * --bans N measures only the rows of N bans (0, 10000, 100000 or 1000000);
 * make bench measures every row. --against takes another build's
 * build/xdpban_random.bpf.o of the same map ABI, loads it over the
 * same maps and measures it in the same rounds ("other"): two versions of
 * the program compared with one floor, one draw, one cache state.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bans/bans.h"
#include "bench_util.h"
#include "geo/country.h"
#include "geo/geo.h"
#include "geo/geo_formats.h"
#include "kernel/path_summary.h"
#include "kernel/settings.h"
#include "xdp_drop.skel.h"
#include "xdpban_random.skel.h"

#define POOL_MAX  (1U << 20) /* SOURCE_POOL_MAX in xdpban_random.bpf.c */
#define LINE_SIZE 64
#define BAN_BYTES 16 /* the floor's table: 16 bytes per ban */
#define CIDR_BANS 1000
#define MAX_BANS  1000000
#define HOME	  "DE" /* the one country left unblocked */

static const size_t ban_counts[] = { 0, 10000, 100000, MAX_BANS };
static const size_t pool_sizes[] = { 65536, POOL_MAX };

enum verdict_kind { PASS, BAN_DROP, CIDR_DROP, GEO_DROP, PASS6, BAN_DROP6, KINDS };

static const struct {
	const char *name;
	__u32 reason;
	int action;
	bool v6; /* IPv6 sources */
} kinds[KINDS] = {
	[PASS] = { "pass", REASON_PASS, XDP_PASS, false },
	[BAN_DROP] = { "ban-drop", REASON_DROP_BAN, XDP_DROP, false },
	[CIDR_DROP] = { "cidr-drop", REASON_DROP_CIDR, XDP_DROP, false },
	[GEO_DROP] = { "geo-drop", REASON_DROP_GEO, XDP_DROP, false },
	[PASS6] = { "pass v6", REASON_PASS, XDP_PASS, true },
	[BAN_DROP6] = { "ban-drop v6", REASON_DROP_BAN, XDP_DROP, true },
};

struct bench {
	struct xdpban_random_bpf *skel;
	struct xdp_drop_bpf *floor;
	struct bpf_object *other; /* --against: another build's programs, over the same maps */
	struct bpf_program *other_random, *other_one;
	struct maps maps;
	struct geo_db db;
	bool blocked[COUNTRY_SLOTS];
	__u32 *bans;		/* MAX_BANS addresses, host order, in insertion order */
	__u32 *sorted_bans;	/* the same, sorted, to keep other pools clear of them */
	struct addr_key *bans6; /* MAX_BANS IPv6 addresses, in insertion order */
	struct addr_key *sorted_bans6;
	__u32 cidrs[CIDR_BANS]; /* /24 networks, host order, sorted */
	size_t bans_loaded;	/* of each family */
	struct addr_key pool[POOL_MAX];
	size_t pool_size;
	unsigned int repeat, rounds;
};

/* Medians over rounds, ns per packet; own and floor are above draw + drop. */
struct measurement {
	double one_frame_own, xdpban, draw_and_drop, own, floor, lookup;
	double second_reads; /* the share of the pool whose lookup reads a second bucket */
	double other_one_frame_own, other_own; /* --against */
};

static int compare_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return (x > y) - (x < y);
}

/* A public-looking unicast address: never 0/8, 10/8, 127/8, multicast or above. */
static __u32 random_unicast(void)
{
	__u32 a;

	do
		a = (__u32)random() ^ ((__u32)random() << 16);
	while ((a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127 || (a >> 24) >= 224);
	return a;
}

static int compare_addr(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct addr_key));
}

/* A global unicast IPv6 address (2000::/3). */
static struct addr_key random_unicast6(void)
{
	struct addr_key a;

	for (size_t i = 0; i < ADDR_LEN; i++)
		a.addr[i] = (__u8)random();
	a.addr[0] = 0x20 | (a.addr[0] & 0x1f);
	return a;
}

static struct addr_key addr_of_ipv4(__u32 host_order)
{
	struct addr_key a = { .addr = { [10] = 0xff, [11] = 0xff } };
	__u32 net = htonl(host_order);

	memcpy(&a.addr[12], &net, sizeof(net));
	return a;
}

static bool is_exact_banned(const struct bench *b, __u32 a)
{
	return bsearch(&a, b->sorted_bans, MAX_BANS, sizeof(a), compare_u32) != NULL;
}

static bool is_exact_banned6(const struct bench *b, const struct addr_key *a)
{
	return bsearch(a, b->sorted_bans6, MAX_BANS, sizeof(*a), compare_addr) != NULL;
}

static bool is_cidr_banned(const struct bench *b, __u32 a)
{
	__u32 net = a & 0xffffff00;

	return bsearch(&net, b->cidrs, CIDR_BANS, sizeof(net), compare_u32) != NULL;
}

static void make_bans(struct bench *b)
{
	b->bans = calloc(MAX_BANS, sizeof(*b->bans));
	b->sorted_bans = calloc(MAX_BANS, sizeof(*b->sorted_bans));
	b->bans6 = calloc(MAX_BANS, sizeof(*b->bans6));
	b->sorted_bans6 = calloc(MAX_BANS, sizeof(*b->sorted_bans6));
	if (!b->bans || !b->sorted_bans || !b->bans6 || !b->sorted_bans6)
		bench_die("allocate the bans", strerror(ENOMEM));
	for (size_t i = 0; i < MAX_BANS; i++) {
		b->bans[i] = random_unicast(); /* a repeat among 1M is merely a renewed ban */
		b->bans6[i] = random_unicast6();
	}
	memcpy(b->sorted_bans, b->bans, MAX_BANS * sizeof(*b->bans));
	qsort(b->sorted_bans, MAX_BANS, sizeof(*b->sorted_bans), compare_u32);
	memcpy(b->sorted_bans6, b->bans6, MAX_BANS * sizeof(*b->bans6));
	qsort(b->sorted_bans6, MAX_BANS, sizeof(*b->sorted_bans6), compare_addr);
	for (size_t i = 0; i < CIDR_BANS; i++)
		b->cidrs[i] = random_unicast() & 0xffffff00;
	qsort(b->cidrs, CIDR_BANS, sizeof(b->cidrs[0]), compare_u32);
}

/* The trie key of the first prefixlen bits (of the 128-bit form) of an address. */
static struct lpm_key key_of(struct addr_key a, unsigned int prefixlen)
{
	struct lpm_key key = { .prefixlen = prefixlen };

	memcpy(key.addr, a.addr, ADDR_LEN);
	return key;
}

static struct lpm_key ipv4_key(__u32 host_order, unsigned int prefixlen)
{
	return key_of(addr_of_ipv4(host_order), IPV4_MAPPED_PREFIXLEN + prefixlen);
}

/* Bans [b->bans_loaded .. count) of each family, and the CIDR bans with the first. */
static void load_bans(struct bench *b, size_t count)
{
	size_t first = b->bans_loaded, n = count - first, extra = first == 0 ? CIDR_BANS : 0;
	struct ban_request *requests = calloc(2 * n + extra, sizeof(*requests));
	char why[ERRMSG_LEN];

	if (!requests)
		bench_die("allocate the bans", strerror(ENOMEM));
	for (size_t i = 0; i < n; i++) {
		requests[2 * i] = (struct ban_request){ .key = ipv4_key(b->bans[first + i], 32),
							.permanent = true };
		requests[2 * i + 1] =
		    (struct ban_request){ .key = key_of(b->bans6[first + i], ADDR_LEN * 8),
					  .permanent = true };
	}
	for (size_t i = 0; i < extra; i++)
		requests[2 * n + i] =
		    (struct ban_request){ .key = ipv4_key(b->cidrs[i], 24), .permanent = true };
	if (bans_add(&b->maps, requests, 2 * n + extra, BAN_ORIGIN_MANUAL, why))
		bench_die("load the bans", why);
	free(requests);
	b->bans_loaded = count;
}

static double uniform_random(void)
{
	return ((double)random() * 2147483648.0 + (double)random()) / 4611686018427387904.0;
}

/* Random host bits after the first prefixlen of the address. */
static void randomise_host(struct addr_key *a, unsigned int prefixlen)
{
	for (unsigned int i = prefixlen / 8; i < ADDR_LEN; i++) {
		__u8 keep = i == prefixlen / 8 ? (__u8)(0xff << (8 - prefixlen % 8)) : 0;

		a->addr[i] = (__u8)((a->addr[i] & keep) | ((__u8)random() & ~keep));
	}
}

/* An address another verdict than the country's would take: banned exactly or by a range. */
static bool has_a_ban(const struct bench *b, const struct addr_key *a, bool v6)
{
	__u32 host;

	if (v6)
		return is_exact_banned6(b, a);
	memcpy(&host, &a->addr[12], sizeof(host));
	host = ntohl(host);
	return is_exact_banned(b, host) || is_cidr_banned(b, host);
}

/*
 * Addresses of one family of the blocked countries, or of the unblocked one:
 * a prefix drawn with a weight of its size, then a random host in it; banned
 * addresses are skipped (they would get another verdict).
 */
static void draw_from_countries(struct bench *b, bool blocked, bool v6)
{
	size_t from = v6 ? b->db.ipv4_prefix_count : 0;
	size_t to = v6 ? b->db.prefix_count : b->db.ipv4_prefix_count, count = 0;
	double *cumulative = calloc(to - from, sizeof(*cumulative)), total = 0;
	size_t *index = calloc(to - from, sizeof(*index));

	if (!cumulative || !index)
		bench_die("allocate the pool", strerror(ENOMEM));
	for (size_t i = from; i < to; i++) {
		int slot = country_parse(b->db.prefixes[i].country, (char[ERRMSG_LEN]){ 0 });

		if (slot < 0 || b->blocked[slot] != blocked)
			continue;
		total += ldexp(1.0, 128 - (int)b->db.prefixes[i].key.prefixlen);
		cumulative[count] = total;
		index[count++] = i;
	}
	if (count == 0)
		bench_die("fill the source pool", "no prefix of that kind");
	for (size_t i = 0; i < b->pool_size;) {
		double target = uniform_random() * total;
		size_t low = 0, high = count - 1;
		const struct lpm_key *prefix;
		struct addr_key host;

		while (low < high) {
			size_t mid = (low + high) / 2;

			if (cumulative[mid] <= target)
				low = mid + 1;
			else
				high = mid;
		}
		prefix = &b->db.prefixes[index[low]].key;
		memcpy(host.addr, prefix->addr, ADDR_LEN);
		randomise_host(&host, prefix->prefixlen);
		if (!has_a_ban(b, &host, v6))
			b->pool[i++] = host;
	}
	free(cumulative);
	free(index);
}

/* Fills b->pool with b->pool_size addresses of a kind; false when none exists yet. */
static bool draw_pool(struct bench *b, enum verdict_kind kind)
{
	switch (kind) {
	case PASS:
	case PASS6:
		draw_from_countries(b, false, kinds[kind].v6);
		return true;
	case GEO_DROP:
		draw_from_countries(b, true, false);
		return true;
	case BAN_DROP:
		for (size_t i = 0; b->bans_loaded && i < b->pool_size; i++)
			b->pool[i] = addr_of_ipv4(b->bans[(size_t)random() % b->bans_loaded]);
		return b->bans_loaded > 0;
	case BAN_DROP6:
		for (size_t i = 0; b->bans_loaded && i < b->pool_size; i++)
			b->pool[i] = b->bans6[(size_t)random() % b->bans_loaded];
		return b->bans_loaded > 0;
	case CIDR_DROP:
		for (size_t i = 0; b->bans_loaded && i < b->pool_size;) {
			__u32 a = b->cidrs[random() % CIDR_BANS] | (1 + random() % 254);

			if (!is_exact_banned(b, a))
				b->pool[i++] = addr_of_ipv4(a);
		}
		return b->bans_loaded > 0;
	default:
		return false;
	}
}

/* Uploads the pool and sizes the floor's table for N bans. */
static void upload_pool(struct bench *b, size_t bans)
{
	static __u32 keys[POOL_MAX];
	static struct addr_key values[POOL_MAX];
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = b->pool_size;
	size_t lines = bans * BAN_BYTES / LINE_SIZE;

	for (__u32 i = 0; i < b->pool_size; i++) {
		keys[i] = i;
		values[i] = b->pool[i];
	}
	if (bpf_map_update_batch(bpf_map__fd(b->skel->maps.bench_sources), keys, values, &count,
				 &opts))
		bench_die("fill the source pool", strerror(errno));
	b->skel->bss->pool_mask = b->pool_size - 1;
	b->skel->bss->floor_lines = lines ? lines : 1;
}

/* The share of the pool's sources whose exact-ban lookup reads their second bucket. */
static double pool_second_reads(const struct bench *b)
{
	size_t reads = 0;

	for (size_t i = 0; i < b->pool_size; i++)
		reads += ban_table_reads_second(&b->maps.bans, &b->pool[i]);
	return (double)reads / (double)b->pool_size;
}

/* Packets counted under one reason, summed over CPUs. */
static __u64 reason_packets(const struct bench *b, __u32 reason)
{
	int cpus = libbpf_num_possible_cpus();
	struct verdict_counter counters[cpus];
	__u64 total = 0;

	if (bpf_map_lookup_elem(b->maps.verdict_stats, &reason, counters))
		bench_die("read the verdict counters", strerror(errno));
	for (int i = 0; i < cpus; i++)
		total += counters[i].packets;
	return total;
}

/* The SYN a row's rounds start from, of its family (the source is drawn again per packet). */
struct frame {
	struct bench_syn_frame v4;
	struct bench_syn_frame6 v6;
	bool is_v6;
};

static struct frame frame_of(const struct bench *b, enum verdict_kind kind)
{
	static const struct addr_key dest6 = { .addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
	struct frame f = { .is_v6 = kinds[kind].v6 };
	__be32 source;

	memcpy(&source, &b->pool[0].addr[12], sizeof(source));
	f.v4 = bench_syn_frame(source, htonl(0xc0000201), 143);
	f.v6 = bench_syn_frame6(b->pool[0].addr, dest6.addr, 143);
	return f;
}

/* ns per packet of one round; the program's (last) verdict must be the expected one. */
static double round_ns(const struct bench *b, const struct bpf_program *prog,
		       const struct frame *frame, int action)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .repeat = b->repeat);

	opts.data_in = frame->is_v6 ? (const void *)&frame->v6 : (const void *)&frame->v4;
	opts.data_size_in = frame->is_v6 ? sizeof(frame->v6) : sizeof(frame->v4);

	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts))
		bench_die("BPF_PROG_TEST_RUN", strerror(errno));
	if ((int)opts.retval != action)
		bench_die(bpf_program__name(prog), "unexpected verdict");
	return opts.duration; /* the kernel reports the mean ns per repetition */
}

/* ns per packet of one random round, above `base`; every packet must get the row's verdict. */
static double random_own_ns(const struct bench *b, const struct bpf_program *prog,
			    const struct frame *frame, enum verdict_kind kind, double base)
{
	__u64 before = reason_packets(b, kinds[kind].reason);
	double ns = round_ns(b, prog, frame, kinds[kind].action);

	if (reason_packets(b, kinds[kind].reason) - before != b->repeat)
		bench_die(kinds[kind].name, "a random source got another verdict");
	return ns - base;
}

static struct measurement measure(struct bench *b, enum verdict_kind kind)
{
	double one[b->rounds], rnd[b->rounds], base[b->rounds], own[b->rounds], floor[b->rounds];
	double lookup[b->rounds], other_one[b->rounds], other_own[b->rounds];
	struct frame frame = frame_of(b, kind);
	const struct xdpban_random_bpf *s = b->skel;
	int action = kinds[kind].action;
	struct measurement m;

	for (unsigned int r = 0; r < b->rounds; r++) {
		double one_drop = round_ns(b, b->floor->progs.xdp_drop, &frame, XDP_DROP);

		one[r] = round_ns(b, s->progs.xdpban, &frame, action) - one_drop;
		base[r] = round_ns(b, s->progs.drop_random, &frame, XDP_DROP);
		floor[r] = round_ns(b, s->progs.floor_random, &frame, XDP_DROP) - base[r];
		lookup[r] = round_ns(b, s->progs.lookup_random, &frame,
				     kinds[kind].reason == REASON_DROP_BAN ? XDP_DROP : XDP_PASS) -
			    base[r];
		own[r] = random_own_ns(b, s->progs.xdpban_random, &frame, kind, base[r]);
		rnd[r] = own[r] + base[r];
		if (!b->other)
			continue;
		other_one[r] = round_ns(b, b->other_one, &frame, action) - one_drop;
		other_own[r] = random_own_ns(b, b->other_random, &frame, kind, base[r]);
	}
	m = (struct measurement){
		.one_frame_own = bench_median(one, b->rounds),
		.xdpban = bench_median(rnd, b->rounds),
		.draw_and_drop = bench_median(base, b->rounds),
		.own = bench_median(own, b->rounds),
		.floor = bench_median(floor, b->rounds),
		.lookup = bench_median(lookup, b->rounds),
		.second_reads = pool_second_reads(b),
	};
	if (b->other) {
		m.other_one_frame_own = bench_median(other_one, b->rounds);
		m.other_own = bench_median(other_own, b->rounds);
	}
	return m;
}

/* Ours of the other object's map: by name; .bss and .rodata (named after the file) by section. */
static struct bpf_map *our_map(const struct bench *b, const struct bpf_map *theirs)
{
	const char *name = bpf_map__name(theirs), *section = strchr(name, '.');
	struct bpf_map *ours;

	if (!section)
		return bpf_object__find_map_by_name(b->skel->obj, name);
	bpf_object__for_each_map(ours, b->skel->obj)
	{
		const char *our_section = strchr(bpf_map__name(ours), '.');

		if (our_section && strcmp(our_section, section) == 0)
			return ours;
	}
	return NULL;
}

/* Opens another build's object with every map reused from ours. */
static void open_other(struct bench *b, const char *path)
{
	struct bpf_map *map;

	b->other = bpf_object__open_file(path, NULL);
	if (!b->other)
		bench_die(path, strerror(errno));
	bpf_object__for_each_map(map, b->other)
	{
		struct bpf_map *ours = our_map(b, map);

		bpf_map__set_pin_path(map, NULL);
		if (!ours || bpf_map__reuse_fd(map, bpf_map__fd(ours)))
			bench_die(path, "a map this build does not have, or of another shape");
	}
	if (bpf_object__load(b->other))
		bench_die(path, "does not load over this build's maps (another map ABI?)");
	b->other_random = bpf_object__find_program_by_name(b->other, "xdpban_random");
	b->other_one = bpf_object__find_program_by_name(b->other, "xdpban");
	if (!b->other_random || !b->other_one)
		bench_die(path, "not a build/xdpban_random.bpf.o");
}

static void block_all_but_home(struct bench *b)
{
	int slots[COUNTRY_SLOTS], home = country_parse(HOME, (char[ERRMSG_LEN]){ 0 });
	struct geo_install_report report;
	char why[ERRMSG_LEN];
	size_t count = 0;

	for (int slot = 0; slot < COUNTRY_SLOTS; slot++) {
		b->blocked[slot] = country_slot_is_valid(slot) && slot != home;
		if (b->blocked[slot])
			slots[count++] = slot;
	}
	if (geo_install_countries(&b->maps, &b->db, b->blocked, &report, why) ||
	    geo_set_blocked(&b->maps, slots, count, true, why))
		bench_die("block the countries", why);
	fprintf(stderr,
		"prog_cost: world database, %zu prefixes in the kernel (all but " HOME
		"), %zu index blocks, %zu index entries left to the trie\n",
		report.written + report.unchanged, report.index_blocks, report.index_mixed);
}

static void open_bench(struct bench *b)
{
	const struct geo_load_options automatic = { 0 };
	struct geo_load_report report = { 0 };
	const char *paths[2];
	struct bpf_map *map;
	char why[ERRMSG_LEN];

	if (geo_default_paths(paths, why))
		bench_die("the world database", why);
	geo_db_init(&b->db);
	if (geo_load_files(&b->db, paths, 2, &automatic, &report, why) ||
	    geo_db_finish(&b->db, why))
		bench_die("the world database", why);
	b->skel = xdpban_random_bpf__open();
	if (!b->skel)
		bench_die("open xdpban_random", strerror(errno));
	bpf_object__for_each_map(map, b->skel->obj)
	    bpf_map__set_pin_path(map, NULL); /* private maps: never touch a real install */
	if (xdpban_random_bpf__load(b->skel))
		bench_die("load xdpban_random (root needed)", strerror(errno));
	/* The path summary as `xdpban attach` leaves it; every later change keeps it in step. */
	if (pins_from_object(b->skel->obj, &b->maps, why) || settings_init(b->maps.config, why) ||
	    path_summary_sync(&b->maps, why))
		bench_die("set up the maps", why);
	b->floor = xdp_drop_bpf__open_and_load();
	if (!b->floor)
		bench_die("load xdp_drop (root needed)", strerror(errno));
}

/* A row's ban count for --bans: one of ban_counts. */
static long parse_ban_count(const char *text)
{
	char *end;
	long n = strtol(text, &end, 10);

	for (size_t c = 0; *text && !*end && c < sizeof(ban_counts) / sizeof(ban_counts[0]); c++) {
		if ((size_t)n == ban_counts[c] && n >= 0)
			return n;
	}
	fprintf(stderr, "prog_cost: --bans %s: not a row (0, 10000, 100000 or 1000000)\n", text);
	exit(EXIT_FAILURE);
}

/* ns / floor, or 0 when the floor is lost in the noise (N = 0: one line, always cached). */
static double per_floor(const struct measurement *m, double ns)
{
	return m->floor >= 1 ? ns / m->floor : 0;
}

static double ratio(const struct measurement *m)
{
	return per_floor(m, m->own);
}

static void print_row(FILE *json, bool *first, size_t bans, enum verdict_kind kind,
		      const struct bench *b, const struct measurement *m)
{
	printf(
	    "| %zu | %s | %zu | %.0f | %.0f | %.0f | %.0f | %.0f | %.2f | %.0f | %.2f | %.1f%% |",
	    bans, kinds[kind].name, b->pool_size, m->one_frame_own, m->xdpban, m->draw_and_drop,
	    m->own, m->floor, ratio(m), m->lookup, per_floor(m, m->lookup), 100 * m->second_reads);
	if (b->other)
		printf(" %.0f | %.0f | %.2f |", m->other_one_frame_own, m->other_own,
		       per_floor(m, m->other_own));
	printf("\n");
	if (!json)
		return;
	fprintf(json,
		"%s\n  {\"bans\": %zu, \"verdict\": \"%s\", \"pool\": %zu, \"own_ns\": %.1f, "
		"\"floor_ns\": %.1f, \"own_per_floor\": %.3f, \"xdpban_ns\": %.1f, "
		"\"draw_and_drop_ns\": %.1f, \"one_frame_own_ns\": %.1f, \"lookup_ns\": %.1f, "
		"\"second_reads\": %.4f",
		*first ? "" : ",", bans, kinds[kind].name, b->pool_size, m->own, m->floor, ratio(m),
		m->xdpban, m->draw_and_drop, m->one_frame_own, m->lookup, m->second_reads);
	if (b->other)
		fprintf(json, ", \"other_own_ns\": %.1f, \"other_one_frame_own_ns\": %.1f",
			m->other_own, m->other_one_frame_own);
	fprintf(json, "}");
	*first = false;
}

int main(int argc, char **argv)
{
	/* Many short rounds: a neighbour's burst spoils a few of them, not the median. */
	static struct bench b = { .repeat = 500000, .rounds = 11 };
	FILE *json = NULL;
	bool first = true;
	long only_bans = -1;
	const char *against = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			b.repeat = 200000;
			b.rounds = 3;
		} else if (strcmp(argv[i], "--bans") == 0 && i + 1 < argc) {
			only_bans = parse_ban_count(argv[++i]);
		} else if (strcmp(argv[i], "--against") == 0 && i + 1 < argc) {
			against = argv[++i];
		} else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
			json = fopen(argv[++i], "w");
			if (!json)
				bench_die(argv[i], strerror(errno));
		} else {
			fprintf(stderr, "usage: prog_cost [--quick] [--bans N] [--against OBJECT] "
					"[--json FILE]\n");
			return EXIT_FAILURE;
		}
	}
	srandom(1);
	open_bench(&b);
	if (against)
		open_other(&b, against);
	make_bans(&b);
	block_all_but_home(&b);

	printf("BPF_PROG_TEST_RUN, %u packets a round, median of %u interleaved rounds, "
	       "ns/packet. World database loaded, every country but " HOME " blocked; N exact "
	       "bans of each family (+%d IPv4 /24 bans when N > 0). Each packet's source is "
	       "drawn from a pool of that "
	       "kind. own: xdpban above draw + XDP_DROP; floor: one random 64-byte read from an "
	       "array of 16 bytes per ban of N, above draw + XDP_DROP; lookup: the exact-ban "
	       "lookup alone (hash, bucket, slots), above draw + XDP_DROP; 2nd line: the share of "
	       "the pool whose lookup reads a second bucket.\n\n",
	       b.repeat, b.rounds, CIDR_BANS);
	printf("| bans | verdict | pool | one frame: own | random: xdpban | draw + XDP_DROP "
	       "| own | floor | own / floor | lookup | lookup / floor | 2nd line |%s\n",
	       against ? " other: one frame own | other: own | other: own / floor |" : "");
	printf("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
	       "|%s\n",
	       against ? " ---: | ---: | ---: |" : "");
	if (json)
		fprintf(json,
			"{\"part\": \"prog_cost\", \"repeat\": %u, \"rounds\": %u, "
			"\"cidr_bans\": %d, \"rows\": [",
			b.repeat, b.rounds, CIDR_BANS);
	for (size_t c = 0; c < sizeof(ban_counts) / sizeof(ban_counts[0]); c++) {
		if (only_bans >= 0 && ban_counts[c] > (size_t)only_bans)
			break;
		if (ban_counts[c] > b.bans_loaded)
			load_bans(&b, ban_counts[c]);
		if (only_bans >= 0 && ban_counts[c] != (size_t)only_bans)
			continue;
		for (int kind = 0; kind < KINDS; kind++) {
			for (size_t p = 0; p < sizeof(pool_sizes) / sizeof(pool_sizes[0]); p++) {
				struct measurement m;

				b.pool_size = pool_sizes[p];
				if (!draw_pool(&b, kind))
					continue; /* no ban of that kind with 0 bans */
				upload_pool(&b, ban_counts[c]);
				m = measure(&b, kind);
				print_row(json, &first, ban_counts[c], kind, &b, &m);
			}
		}
		fflush(stdout);
	}
	if (json) {
		fprintf(json, "\n]}\n");
		fclose(json);
	}
	bpf_object__close(b.other);
	xdpban_random_bpf__destroy(b.skel);
	xdp_drop_bpf__destroy(b.floor);
	geo_db_free(&b.db);
	return EXIT_SUCCESS;
}
