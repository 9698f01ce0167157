// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xdpban's XDP program fed a different source address on every run, for
 * BPF_PROG_TEST_RUN benchmarks: one frame repeated keeps every cache warm,
 * while a spoofed flood brings a new source, and new cache misses, with
 * each packet. The source is drawn from bench_sources, a pool user space
 * fills (addresses of a blocked country, of an unblocked one, of none...).
 * drop_random does the same drawing and then only drops: the difference
 * between the two is xdpban's own cost.
 */
#include "xdpban.bpf.c"

#define SOURCE_POOL 65536 /* a power of two, so a mask picks an index */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SOURCE_POOL);
	__type(key, __u32);
	__type(value, struct addr_key);
} bench_sources SEC(".maps");

/* Overwrites the frame's source address with a random one from the pool. */
static __always_inline int randomise_source(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 index = bpf_get_prandom_u32() & (SOURCE_POOL - 1);
	struct addr_key *source = bpf_map_lookup_elem(&bench_sources, &index);
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6;
	struct iphdr *ip;

	if (!source || (void *)(eth + 1) > end)
		return -1;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > end)
			return -1;
		__builtin_memcpy(&ip->saddr, &source->addr[12], 4);
		return 0;
	}
	ip6 = (void *)(eth + 1);
	if ((void *)(ip6 + 1) > end)
		return -1;
	__builtin_memcpy(&ip6->saddr, source->addr, ADDR_LEN);
	return 0;
}

SEC("xdp")
int xdpban_random(struct xdp_md *ctx)
{
	if (randomise_source(ctx))
		return XDP_ABORTED;
	return xdpban_verdict(ctx);
}

SEC("xdp")
int drop_random(struct xdp_md *ctx)
{
	if (randomise_source(ctx))
		return XDP_ABORTED;
	return XDP_DROP;
}
