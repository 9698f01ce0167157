// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The flood generator: run by BPF_PROG_TEST_RUN in live-frames mode on the
 * generator's end of a veth pair, it turns each frame into a TCP SYN from a
 * source drawn at random from flood_sources, with a random source port and
 * sequence number, and transmits it (XDP_TX) to the peer. Both checksums are
 * computed in full on every packet: the receiver's kernel drops a packet
 * with a bad IP checksum before any netfilter hook sees it, and live mode
 * does not promise to reset the frame between runs.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define POOL_SIZE (1 << 20) /* a power of two, so a mask picks an index */
#define ETH_P_IP  0x0800

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, POOL_SIZE);
	__type(key, __u32);
	__type(value, __u32); /* IPv4 address, network order */
} flood_sources SEC(".maps");

static __always_inline __u16 fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* One's-complement sum of n 16-bit words (byte order does not matter). */
static __always_inline __u32 sum_words(const __u16 *words, int n)
{
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < n; i++)
		sum += words[i];
	return sum;
}

SEC("xdp")
int flood_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *tcp = (void *)(ip + 1);
	__u32 index = bpf_get_prandom_u32() & (POOL_SIZE - 1), sum;
	__u32 *source = bpf_map_lookup_elem(&flood_sources, &index);

	if (!source || (void *)(tcp + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->ihl != 5 || tcp->doff != 5)
		return XDP_ABORTED;

	ip->saddr = *source;
	ip->check = 0;
	ip->check = fold(sum_words((const __u16 *)ip, sizeof(*ip) / 2));

	tcp->source = bpf_htons(1024 + (bpf_get_prandom_u32() & 0x7fff));
	tcp->seq = bpf_get_prandom_u32();
	tcp->check = 0;
	/* The pseudo-header: addresses, protocol, TCP length (no payload). */
	sum = sum_words((const __u16 *)&ip->saddr, 4) + bpf_htons(IPPROTO_TCP) +
	      bpf_htons(sizeof(*tcp));
	tcp->check = fold(sum + sum_words((const __u16 *)tcp, sizeof(*tcp) / 2));
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
