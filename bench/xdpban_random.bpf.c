// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xdpban's XDP program fed a different source address on every run, for
 * BPF_PROG_TEST_RUN benchmarks: one frame repeated keeps every cache warm,
 * while a spoofed flood brings a new source, and new cache misses, with
 * each packet. The source is drawn from bench_sources, a pool user space
 * fills (addresses of a blocked country, of an unblocked one, of none...)
 * and sizes with pool_mask. drop_random does the same drawing and then
 * only drops: the difference between the two is xdpban's own cost.
 *
 * floor_random is the memory floor of a verdict: the same draw, then one
 * 64-byte line read from an array of 16 bytes per ban (floor_lines lines in
 * use, a hash of the source picks one, as a ban table's bucket would be),
 * then drop. No exact-match lookup over N bans can touch less memory.
 *
 * lookup_random is xdpban's exact-ban lookup alone: the same draw, then the
 * source's bucket (and its second one if the first spilled) hashed, read and
 * scanned as the verdict does it, XDP_DROP when it bans the source, XDP_PASS
 * when not. Between the floor and it lies the cost of the table itself (the
 * keyed hash, the slots); between it and the verdict, the rest of the
 * verdict (the parse, the path summary, the counters).
 */
#include "xdpban.bpf.c"

#define SOURCE_POOL_MAX (1U << 20) /* a power of two, so a mask picks an index */
#define FLOOR_LINES_MAX (1U << 18) /* 1,048,576 bans x 16 bytes / 64 */

/* Set by user space between rows; .bss is memory-mapped by the skeleton. */
__u32 pool_mask = 0;   /* pool size - 1 */
__u32 floor_lines = 0; /* lines of floor_table in use: bans x 16 / 64 (0 reads line 0) */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SOURCE_POOL_MAX);
	__type(key, __u32);
	__type(value, struct addr_key);
} bench_sources SEC(".maps");

struct floor_line {
	__u64 word[8];
};

/* Memory-mappable, so the values start on a page: every element is one cache line. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, FLOOR_LINES_MAX);
	__type(key, __u32);
	__type(value, struct floor_line);
} floor_table SEC(".maps");

/* Overwrites the frame's source address with a random one from the pool. */
static __always_inline const struct addr_key *randomise_source(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 index = bpf_get_prandom_u32() & pool_mask;
	struct addr_key *source = bpf_map_lookup_elem(&bench_sources, &index);
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6;
	struct iphdr *ip;

	if (!source || (void *)(eth + 1) > end)
		return NULL;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > end)
			return NULL;
		__builtin_memcpy(&ip->saddr, &source->addr[12], 4);
		return source;
	}
	ip6 = (void *)(eth + 1);
	if ((void *)(ip6 + 1) > end)
		return NULL;
	__builtin_memcpy(&ip6->saddr, source->addr, ADDR_LEN);
	return source;
}

SEC("xdp")
int xdpban_random(struct xdp_md *ctx)
{
	if (!randomise_source(ctx))
		return XDP_ABORTED;
	return xdpban_verdict(ctx);
}

SEC("xdp")
int drop_random(struct xdp_md *ctx)
{
	if (!randomise_source(ctx))
		return XDP_ABORTED;
	return XDP_DROP;
}

SEC("xdp")
int lookup_random(struct xdp_md *ctx)
{
	const struct addr_key *source = randomise_source(ctx);
	struct lazy_clock clock = {};
	bool banned;
	__be32 addr4;

	if (!source)
		return XDP_ABORTED;
	if (ipv4_mapped(source)) {
		__builtin_memcpy(&addr4, &source->addr[12], sizeof(addr4));
		banned = ban4_banned(addr4, &clock);
	} else {
		banned = ban6_banned(source->addr, &clock);
	}
	return banned ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int floor_random(struct xdp_md *ctx)
{
	const struct addr_key *source = randomise_source(ctx);
	struct floor_line *line;
	__u32 words[4], index;

	if (!source)
		return XDP_ABORTED;
	__builtin_memcpy(words, source->addr, sizeof(words));
	/* Multiply-shift maps the hash onto [0, floor_lines) without a division. */
	index =
	    ((__u64)((words[0] ^ words[1] ^ words[2] ^ words[3]) * 0x9E3779B1U) * floor_lines) >>
	    32;
	line = bpf_map_lookup_elem(&floor_table, &index);
	/* The line is all zeros: the test keeps the read, the verdict is always a drop. */
	if (!line || line->word[index & 7] == ~0ULL)
		return XDP_ABORTED;
	return XDP_DROP;
}
