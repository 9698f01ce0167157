// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The geo verdict under a spoofed flood: every packet from a different,
 * random source, with the real world database (tor-geoipdb) loaded, through
 * BPF_PROG_TEST_RUN. Three programs run side by side in one run:
 *   xdpban   bench/xdpban_random.bpf.c: draws a source from a pool, then
 *            runs xdpban's verdict;
 *   draw     the same draw, then XDP_DROP (so xdpban - draw is xdpban's own
 *            cost);
 *   XDP_DROP a program that only drops (the floor).
 * Two more copies of xdpban run in the same rounds, to show where the time
 * goes: one with the geo index switched off (every lookup walks the trie:
 * what the index buys), one with a 1,024-entry exact-ban map instead of the
 * 1M-entry one (a random source misses the big map's bucket array in cache:
 * what that costs).
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include "country.h"
#include "geo.h"
#include "geo_formats.h"
#include "settings.h"
#include "xdp_drop.skel.h"
#include "xdpban_random.skel.h"

#define REPEAT	    1000000
#define ROUNDS	    5
#define SOURCE_POOL 65536 /* as in xdpban_random.bpf.c */

enum variant { AS_SHIPPED, TRIE_ONLY, SMALL_BAN_MAP, VARIANTS };

struct instance {
	struct xdpban_random_bpf *skel;
	struct maps maps;
};

struct bench {
	struct instance variant[VARIANTS];
	struct xdp_drop_bpf *floor;
	struct geo_db db;
	bool blocked[COUNTRY_SLOTS];
};

struct frame {
	struct ethhdr eth;
	union {
		struct {
			struct iphdr ip;
			struct tcphdr tcp;
		} __attribute__((packed)) v4;
		struct {
			struct ipv6hdr ip;
			struct tcphdr tcp;
		} __attribute__((packed)) v6;
	};
} __attribute__((packed));

static void die(const char *what, const char *why)
{
	fprintf(stderr, "geo_cost: %s: %s\n", what, why);
	exit(EXIT_FAILURE);
}

static void syn_tcp(struct tcphdr *tcp)
{
	tcp->source = htons(40000);
	tcp->dest = htons(143);
	tcp->doff = 5;
	tcp->syn = 1;
}

/* A SYN to port 143; its source is overwritten by the program on every run. */
static size_t make_frame(struct frame *f, int family)
{
	struct tcphdr tcp = { 0 };

	memset(f, 0, sizeof(*f));
	syn_tcp(&tcp);
	if (family == AF_INET) {
		f->eth.h_proto = htons(ETH_P_IP);
		f->v4.ip.version = 4;
		f->v4.ip.ihl = 5;
		f->v4.ip.protocol = IPPROTO_TCP;
		f->v4.ip.tot_len = htons(sizeof(f->v4));
		f->v4.tcp = tcp;
		return sizeof(f->eth) + sizeof(f->v4);
	}
	f->eth.h_proto = htons(ETH_P_IPV6);
	f->v6.ip.version = 6;
	f->v6.ip.nexthdr = IPPROTO_TCP;
	f->v6.ip.payload_len = htons(sizeof(f->v6.tcp));
	f->v6.tcp = tcp;
	return sizeof(f->eth) + sizeof(f->v6);
}

enum pool_kind { POOL_BLOCKED, POOL_UNBLOCKED, POOL_NO_COUNTRY, POOL_ANY };

static const char *const pool_names[] = { "in a blocked country", "in an unblocked country",
					  "in no country", "uniformly random" };

static bool pool_accepts(const struct bench *b, enum pool_kind kind, const struct addr_key *addr)
{
	return kind == POOL_ANY || !geo_db_lookup(&b->db, addr);
}

static void random_address(int family, struct addr_key *addr)
{
	memset(addr, 0, sizeof(*addr));
	if (family == AF_INET) {
		addr->addr[10] = addr->addr[11] = 0xff;
		for (int i = 12; i < ADDR_LEN; i++)
			addr->addr[i] = (__u8)random();
		return;
	}
	for (int i = 0; i < ADDR_LEN; i++)
		addr->addr[i] = (__u8)random();
	addr->addr[0] = 0x20 | (addr->addr[0] & 0x1f); /* 2000::/3, where the world is */
}

/* A random address inside a prefix. */
static void random_address_in(const struct lpm_key *prefix, struct addr_key *addr)
{
	memcpy(addr->addr, prefix->addr, ADDR_LEN);
	for (unsigned int bit = prefix->prefixlen; bit < ADDR_LEN * 8; bit++) {
		if (random() & 1)
			addr->addr[bit / 8] |= 0x80 >> (bit % 8);
	}
}

static double uniform_random(void)
{
	return ((double)random() * 2147483648.0 + (double)random()) / 4611686018427387904.0;
}

/*
 * Country pools are uniform over the countries' address space: a prefix
 * drawn with a weight of its size, then a random host in it. (Drawing random
 * addresses until one lands in a small country's IPv6 space would take
 * billions of tries.)
 */
static void draw_from_prefixes(const struct bench *b, int family, enum pool_kind kind,
			       struct addr_key *values)
{
	size_t first = family == AF_INET ? 0 : b->db.ipv4_prefix_count;
	size_t last = family == AF_INET ? b->db.ipv4_prefix_count : b->db.prefix_count;
	const struct geo_prefix **candidates = calloc(last - first + 1, sizeof(*candidates));
	double *cumulative = calloc(last - first + 1, sizeof(*cumulative)), total = 0;
	size_t count = 0;

	for (size_t i = first; candidates && cumulative && i < last; i++) {
		int slot = country_parse(b->db.prefixes[i].country, (char[ERRMSG_LEN]){ 0 });

		if (slot < 0 || b->blocked[slot] != (kind == POOL_BLOCKED))
			continue;
		total += ldexp(1.0, ADDR_LEN * 8 - (int)b->db.prefixes[i].key.prefixlen);
		cumulative[count] = total;
		candidates[count++] = &b->db.prefixes[i];
	}
	if (count == 0)
		die("fill the source pool", "no prefix of that kind");
	for (__u32 i = 0; i < SOURCE_POOL; i++) {
		double target = uniform_random() * total;
		size_t low = 0, high = count - 1;

		while (low < high) {
			size_t mid = (low + high) / 2;

			if (cumulative[mid] <= target)
				low = mid + 1;
			else
				high = mid;
		}
		random_address_in(&candidates[low]->key, &values[i]);
	}
	free(candidates);
	free(cumulative);
}

static void fill_pool(struct bench *b, int family, enum pool_kind kind)
{
	static __u32 keys[SOURCE_POOL];
	static struct addr_key values[SOURCE_POOL];
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = SOURCE_POOL;

	for (__u32 i = 0; i < SOURCE_POOL; i++)
		keys[i] = i;
	if (kind == POOL_BLOCKED || kind == POOL_UNBLOCKED) {
		draw_from_prefixes(b, family, kind, values);
	} else {
		for (__u32 i = 0; i < SOURCE_POOL; i++) {
			do
				random_address(family, &values[i]);
			while (!pool_accepts(b, kind, &values[i]));
		}
	}
	for (int v = 0; v < VARIANTS; v++) {
		count = SOURCE_POOL;
		if (bpf_map_update_batch(bpf_map__fd(b->variant[v].skel->maps.bench_sources), keys,
					 values, &count, &opts))
			die("fill the source pool", strerror(errno));
	}
}

static double round_ns(int prog_fd, const struct frame *f, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f, .data_size_in = len, .repeat = REPEAT);

	if (bpf_prog_test_run_opts(prog_fd, &opts))
		die("BPF_PROG_TEST_RUN", strerror(errno));
	return opts.duration;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct timing {
	double xdpban[VARIANTS], draw, floor;
};

static double median_of(double *values)
{
	qsort(values, ROUNDS, sizeof(double), compare_double);
	return values[ROUNDS / 2];
}

/* Medians of ROUNDS, every program in every round, so drift hits them alike. */
static struct timing measure(struct bench *b, int family)
{
	double ours[VARIANTS][ROUNDS], draw[ROUNDS], floor[ROUNDS];
	struct timing t;
	struct frame f;
	size_t len = make_frame(&f, family);

	for (int r = 0; r < ROUNDS; r++) {
		floor[r] = round_ns(bpf_program__fd(b->floor->progs.xdp_drop), &f, len);
		draw[r] = round_ns(bpf_program__fd(b->variant[0].skel->progs.drop_random), &f, len);
		for (int v = 0; v < VARIANTS; v++)
			ours[v][r] = round_ns(
			    bpf_program__fd(b->variant[v].skel->progs.xdpban_random), &f, len);
	}
	for (int v = 0; v < VARIANTS; v++)
		t.xdpban[v] = median_of(ours[v]);
	t.draw = median_of(draw);
	t.floor = median_of(floor);
	return t;
}

/* Sends every /16 block to the trie, as if there were no index. */
static void index_off(const struct maps *maps)
{
	struct geo_index_entry mixed = { GEO_INDEX_MIXED };

	for (__u32 bucket = 0; bucket < GEO_INDEX_BUCKETS; bucket++) {
		bpf_map_update_elem(maps->geo_index4, &bucket, &mixed, BPF_ANY);
		bpf_map_update_elem(maps->geo_index6, &bucket, &mixed, BPF_ANY);
	}
}

static void install_blocks(struct bench *b, struct geo_install_report *report)
{
	int slots[COUNTRY_SLOTS];
	size_t count = 0;
	char why[ERRMSG_LEN];

	for (int slot = 0; slot < COUNTRY_SLOTS; slot++) {
		if (b->blocked[slot])
			slots[count++] = slot;
	}
	for (int v = 0; v < VARIANTS; v++) {
		const struct maps *maps = &b->variant[v].maps;

		if (geo_install_countries(maps, &b->db, b->blocked, report, why) ||
		    geo_set_blocked(maps, slots, count, true, why))
			die("install the blocked countries", why);
	}
	index_off(&b->variant[TRIE_ONLY].maps);
}

static void run_configuration(struct bench *b, const char *title)
{
	static const struct {
		int family;
		enum pool_kind kind;
	} cases[] = {
		{ AF_INET, POOL_BLOCKED },     { AF_INET, POOL_UNBLOCKED },
		{ AF_INET, POOL_NO_COUNTRY },  { AF_INET, POOL_ANY },
		{ AF_INET6, POOL_BLOCKED },    { AF_INET6, POOL_UNBLOCKED },
		{ AF_INET6, POOL_NO_COUNTRY },
	};
	struct geo_install_report report;
	struct timing t[7];

	install_blocks(b, &report);
	printf("\n%s: %zu prefixes in the kernel; index: %zu blocks, %zu entries left to the "
	       "trie\n\n",
	       title, report.written + report.unchanged, report.index_blocks, report.index_mixed);
	for (size_t i = 0; i < 7; i++) {
		fill_pool(b, cases[i].family, cases[i].kind);
		t[i] = measure(b, cases[i].family);
	}
	printf("| random source %-27s | xdpban | draw+drop | XDP_DROP | xdpban's own | "
	       "own, trie only | own, 1k ban map |\n",
	       "");
	printf("|%s|--------|-----------|----------|--------------|----------------|"
	       "-----------------|\n",
	       "-------------------------------------------");
	for (size_t i = 0; i < 7; i++)
		printf("| %-4s %-36s | %6.0f | %9.0f | %8.0f | %12.0f | %14.0f | %15.0f |\n",
		       cases[i].family == AF_INET ? "IPv4" : "IPv6", pool_names[cases[i].kind],
		       t[i].xdpban[AS_SHIPPED], t[i].draw, t[i].floor,
		       t[i].xdpban[AS_SHIPPED] - t[i].draw, t[i].xdpban[TRIE_ONLY] - t[i].draw,
		       t[i].xdpban[SMALL_BAN_MAP] - t[i].draw);
	/* Put the index back for the next configuration. */
	memset(b->blocked, 0, sizeof(b->blocked));
	install_blocks(b, &report);
}

static void open_instance(struct instance *inst, enum variant variant)
{
	struct bpf_map *map;
	char why[ERRMSG_LEN];

	inst->skel = xdpban_random_bpf__open();
	if (!inst->skel)
		die("open xdpban_random", strerror(errno));
	bpf_object__for_each_map(map, inst->skel->obj)
	    bpf_map__set_pin_path(map, NULL); /* private maps: never touch a real install */
	if (variant == SMALL_BAN_MAP)
		bpf_map__set_max_entries(inst->skel->maps.ban_addr, 1024);
	if (xdpban_random_bpf__load(inst->skel))
		die("load xdpban_random (root needed)", strerror(errno));
	if (maps_from_object(inst->skel->obj, &inst->maps, why) ||
	    settings_init(inst->maps.config, why))
		die("set up the maps", why);
}

static void open_bench(struct bench *b)
{
	const struct geo_load_options automatic = { 0 };
	struct geo_load_report report = { 0 };
	const char *paths[2];
	char why[ERRMSG_LEN];

	if (geo_default_paths(paths, why))
		die("the world database", why);
	geo_db_init(&b->db);
	if (geo_load_files(&b->db, paths, 2, &automatic, &report, why) ||
	    geo_db_finish(&b->db, why))
		die("the world database", why);
	for (int v = 0; v < VARIANTS; v++)
		open_instance(&b->variant[v], v);
	b->floor = xdp_drop_bpf__open_and_load();
	if (!b->floor)
		die("load xdp_drop (root needed)", strerror(errno));
}

static void block_codes(struct bench *b, const char *const *codes, size_t count)
{
	memset(b->blocked, 0, sizeof(b->blocked));
	for (size_t i = 0; i < count; i++)
		b->blocked[country_parse(codes[i], (char[ERRMSG_LEN]){ 0 })] = true;
}

int main(int argc, char **argv)
{
	/* --typical or --world: run only that configuration */
	const char *only = argc > 1 ? argv[1] : "";
	static const char *const typical[] = { "CN", "RU", "KP", "IR", "BR", "IN" };
	struct bench b = { 0 };

	srandom(1);
	open_bench(&b);
	printf("BPF_PROG_TEST_RUN, a random source per packet from a pool of %d, %d packets a "
	       "round, median of %d rounds; ns/packet\n",
	       SOURCE_POOL, REPEAT, ROUNDS);
	printf("world database: %zu prefixes (%zu IPv4, %zu IPv6)\n", b.db.prefix_count,
	       b.db.ipv4_prefix_count, b.db.prefix_count - b.db.ipv4_prefix_count);

	if (strcmp(only, "--world") != 0) {
		block_codes(&b, typical, sizeof(typical) / sizeof(typical[0]));
		run_configuration(&b, "6 countries blocked (CN RU KP IR BR IN)");
	}
	if (strcmp(only, "--typical") == 0)
		goto out;

	for (int slot = 0; slot < COUNTRY_SLOTS; slot++)
		b.blocked[slot] = country_slot_is_valid(slot);
	b.blocked[country_parse("DE", (char[ERRMSG_LEN]){ 0 })] = false;
	run_configuration(&b, "every country but DE blocked (the whole world in the kernel)");
out:
	for (int v = 0; v < VARIANTS; v++)
		xdpban_random_bpf__destroy(b.variant[v].skel);
	xdp_drop_bpf__destroy(b.floor);
	geo_db_free(&b.db);
	return EXIT_SUCCESS;
}
