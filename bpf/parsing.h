/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Packet parsing for the XDP program: one small function per header, each
 * advancing a cursor and checking it against the end of the packet. Every
 * function reports "could not parse" instead of guessing, and the caller
 * passes such packets: xdpban never drops what it does not understand.
 */
#ifndef XDPBAN_PARSING_H
#define XDPBAN_PARSING_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xdpban_maps.h"

/* vmlinux.h carries types, not macros. */
#define ETH_P_IP	      0x0800
#define ETH_P_IPV6	      0x86DD
#define ETH_P_8021Q	      0x8100
#define ETH_P_8021AD	      0x88A8
#define IP_OFFSET_MASK	      0x1FFF
#define IP_MORE_FRAGMENTS     0x2000
#define IPV6_FRAG_OFFSET_MASK 0xFFF8
/* IPv6 extension headers (linux/in6.h defines them as macros). */
#define IPPROTO_HOPOPTS	 0
#define IPPROTO_ROUTING	 43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_NONE	 59
#define IPPROTO_DSTOPTS	 60
#define TCP_FLAG_SYN	 0x02
#define TCP_FLAG_ACK	 0x10

#define VLAN_MAX_DEPTH	   2
#define IPV6_EXT_MAX_DEPTH 8

struct cursor {
	void *pos;
	void *end;
};

struct vlan_tag {
	__be16 tci;
	__be16 encap_proto;
};

/* What the program needs to know about a packet to judge it. */
struct packet_info {
	bool ipv4; /* the source is IPv4: src4, also when an IPv6 packet carries it mapped */
	__be32 src4;
	struct addr_key src; /* an IPv6 source */
	__u8 l4_proto;
	bool l4_present; /* false for non-first fragments and unwalkable IPv6 chains */
	bool tcp_parsed;
	bool fragment;	     /* IPv4 MF or offset set, or an IPv6 fragment header */
	bool chain_too_long; /* more IPv6 extension headers than the walk allows */
	/*
	 * TCP whose header this packet does not carry whole because it is a
	 * fragment, or an unwalkable IPv6 chain: judged by source alone, or a
	 * SYN split into fragments would walk past every ban.
	 */
	bool tcp_hidden;
	__u8 tcp_flags;
	__u16 tcp_dport; /* host order */
};

/* Returns the EtherType after up to VLAN_MAX_DEPTH tags (host order), or -1. */
static __always_inline int parse_ethernet(struct cursor *c)
{
	struct ethhdr *eth = c->pos;
	__be16 proto;

	if ((void *)(eth + 1) > c->end)
		return -1;
	c->pos = eth + 1;
	proto = eth->h_proto;

#pragma unroll
	for (int i = 0; i < VLAN_MAX_DEPTH; i++) {
		struct vlan_tag *tag = c->pos;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(tag + 1) > c->end)
			return -1;
		proto = tag->encap_proto;
		c->pos = tag + 1;
	}
	return bpf_ntohs(proto);
}

/* ::ffff:a.b.c.d, the form IPv4 sources take when an IPv6 packet carries them. */
static __always_inline bool ipv4_mapped(const struct addr_key *key)
{
	const __u32 *words = (const __u32 *)key->addr;

	return words[0] == 0 && words[1] == 0 && words[2] == bpf_htonl(0xffff);
}

/* Returns 0 and fills the source and L4 protocol, or -1 when malformed. */
static __always_inline int parse_ipv4(struct cursor *c, struct packet_info *pkt)
{
	struct iphdr *ip = c->pos;
	__u32 header_len;

	if ((void *)(ip + 1) > c->end)
		return -1;
	if (ip->version != 4 || ip->ihl < 5)
		return -1;
	header_len = ip->ihl * 4;
	if (c->pos + header_len > c->end)
		return -1;

	pkt->ipv4 = true;
	pkt->src4 = ip->saddr;
	pkt->l4_proto = ip->protocol;
	/* Only the first fragment carries the TCP header. */
	pkt->l4_present = !(ip->frag_off & bpf_htons(IP_OFFSET_MASK));
	pkt->fragment = ip->frag_off & bpf_htons(IP_OFFSET_MASK | IP_MORE_FRAGMENTS);
	c->pos += header_len;
	return 0;
}

/*
 * Walks a bounded chain of IPv6 extension headers. Leaves l4_present false
 * when the chain is longer than IPV6_EXT_MAX_DEPTH, truncated, or reaches a
 * non-first fragment or ESP (whose payload cannot be read).
 */
static __always_inline void skip_ipv6_extensions(struct cursor *c, struct packet_info *pkt,
						 __u8 next)
{
	/* One round per extension header, plus one to recognise the upper layer after them. */
#pragma unroll
	for (int i = 0; i <= IPV6_EXT_MAX_DEPTH; i++) {
		struct ipv6_opt_hdr *opt = c->pos;
		struct frag_hdr *frag = c->pos;

		switch (next) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if ((void *)(opt + 1) > c->end)
				return;
			next = opt->nexthdr;
			c->pos += (opt->hdrlen + 1) * 8;
			break;
		case IPPROTO_AH:
			if ((void *)(opt + 1) > c->end)
				return;
			next = opt->nexthdr;
			c->pos += (opt->hdrlen + 2) * 4;
			break;
		case IPPROTO_FRAGMENT:
			if ((void *)(frag + 1) > c->end)
				return;
			pkt->fragment = true;
			if (frag->frag_off & bpf_htons(IPV6_FRAG_OFFSET_MASK)) {
				pkt->l4_proto = frag->nexthdr; /* what the fragments carry */
				return;
			}
			next = frag->nexthdr;
			c->pos = frag + 1;
			break;
		case IPPROTO_ESP:
		case IPPROTO_NONE:
			return;
		default:
			pkt->l4_proto = next;
			pkt->l4_present = true;
			return;
		}
	}
	pkt->chain_too_long = true;
}

/* Returns 0 and fills the source and (when reachable) the L4 protocol, or -1. */
static __always_inline int parse_ipv6(struct cursor *c, struct packet_info *pkt)
{
	struct ipv6hdr *ip6 = c->pos;

	if ((void *)(ip6 + 1) > c->end)
		return -1;
	if (ip6->version != 6)
		return -1;

	__builtin_memcpy(pkt->src.addr, &ip6->saddr, ADDR_LEN);
	if (ipv4_mapped(&pkt->src)) {
		pkt->ipv4 = true;
		__builtin_memcpy(&pkt->src4, &pkt->src.addr[12], sizeof(pkt->src4));
	}
	c->pos = ip6 + 1;
	skip_ipv6_extensions(c, pkt, ip6->nexthdr);
	return 0;
}

/* Fills the TCP flags and destination port when a whole TCP header is present. */
static __always_inline void parse_tcp(struct cursor *c, struct packet_info *pkt)
{
	struct tcphdr *tcp = c->pos;

	if (!pkt->l4_present || pkt->l4_proto != IPPROTO_TCP)
		return;
	if ((void *)(tcp + 1) > c->end)
		return;
	if (tcp->doff < 5)
		return;
	pkt->tcp_flags = ((__u8 *)tcp)[13];
	pkt->tcp_dport = bpf_ntohs(tcp->dest);
	pkt->tcp_parsed = true;
}

/* Parses up to the TCP header. Returns 0 when the source address is known. */
static __always_inline int parse_packet(struct xdp_md *ctx, struct packet_info *pkt)
{
	struct cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	int proto = parse_ethernet(&c);
	int err;

	if (proto == ETH_P_IP)
		err = parse_ipv4(&c, pkt);
	else if (proto == ETH_P_IPV6)
		err = parse_ipv6(&c, pkt);
	else
		return -1;
	if (err)
		return err;

	parse_tcp(&c, pkt);
	pkt->tcp_hidden = (pkt->fragment && pkt->l4_proto == IPPROTO_TCP && !pkt->tcp_parsed) ||
			  pkt->chain_too_long;
	return 0;
}

#endif /* XDPBAN_PARSING_H */
