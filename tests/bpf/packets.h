/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Frames for BPF_PROG_TEST_RUN, built one header at a time. Each pkt_* call
 * appends a header and the caller names the protocol of the next one, so a
 * test reads like the frame it sends. Malformed frames start as good ones:
 * the builders return the header they wrote, for the test to break.
 *
 * Destinations are fixed documentation addresses; sources are what tests
 * vary, given as text in either family.
 */
#ifndef XDPBAN_TEST_PACKETS_H
#define XDPBAN_TEST_PACKETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

#define PKT_MAX 512

#define PKT_DST4  "203.0.113.1"
#define PKT_DST6  "2001:db8:ffff::1"
#define PKT_SPORT 40000

/* TCP flag bits as they sit in byte 13 of the header. */
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

/* IPv4 "more fragments" flag in frag_off (host order); the UAPI has no name for it. */
#define PKT_IP_MF 0x2000

struct pkt_vlan_tag {
	__be16 tci;
	__be16 encap_proto;
};

/* Not in the UAPI headers: the kernel keeps its own in net/ipv6.h. */
struct pkt_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset in 8-byte units << 3, low bit: more fragments */
	__be32 identification;
};

struct pkt {
	__u8 data[PKT_MAX];
	size_t len;
	size_t ip_off;	/* where the IP header starts, for pkt_finish() */
	int ip_version; /* 0 until an IP header is appended */
};

static inline void pkt_die(const char *what)
{
	fprintf(stderr, "packets.h: %s\n", what);
	abort();
}

/* Appends n zeroed bytes and returns them. */
static inline void *pkt_put(struct pkt *p, size_t n)
{
	void *hdr = p->data + p->len;

	if (n > sizeof(p->data) - p->len)
		pkt_die("frame larger than PKT_MAX");
	memset(hdr, 0, n);
	p->len += n;
	return hdr;
}

/* Writes a 16-bit field in network order, wherever (and however aligned) it is. */
static inline void pkt_set_be16(struct pkt *p, size_t off, __u16 value)
{
	__be16 be = htons(value);

	memcpy(p->data + off, &be, sizeof(be));
}

static inline void pkt_addr(int family, const char *text, void *out)
{
	if (inet_pton(family, text, out) != 1)
		pkt_die(text);
}

/*
 * Ethernet, then tags VLAN tags stacked as QinQ does it: outer S-tags
 * (802.1ad), the innermost a C-tag (802.1Q).
 */
static inline void pkt_eth(struct pkt *p, int tags, __u16 ethertype)
{
	static const __u8 dst_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const __u8 src_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x02 };
	size_t proto = p->len + offsetof(struct ethhdr, h_proto);
	struct ethhdr *eth = pkt_put(p, sizeof(*eth));

	memcpy(eth->h_dest, dst_mac, ETH_ALEN);
	memcpy(eth->h_source, src_mac, ETH_ALEN);
	for (int i = 0; i < tags; i++) {
		struct pkt_vlan_tag *tag;

		pkt_set_be16(p, proto, i == tags - 1 ? ETH_P_8021Q : ETH_P_8021AD);
		proto = p->len + offsetof(struct pkt_vlan_tag, encap_proto);
		tag = pkt_put(p, sizeof(*tag));
		tag->tci = htons(100 + i);
	}
	pkt_set_be16(p, proto, ethertype);
}

static inline struct iphdr *pkt_ipv4(struct pkt *p, const char *src, __u8 proto)
{
	struct iphdr *ip;

	p->ip_off = p->len;
	p->ip_version = 4;
	ip = pkt_put(p, sizeof(*ip));
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = proto;
	pkt_addr(AF_INET, src, &ip->saddr);
	pkt_addr(AF_INET, PKT_DST4, &ip->daddr);
	return ip;
}

/*
 * Grows the IPv4 header just appended by words 32-bit words of NOP options.
 * NOPs read as port 257 if the program took them for the TCP header.
 */
static inline void pkt_ipv4_options(struct pkt *p, int words)
{
	struct iphdr *ip = (struct iphdr *)(p->data + p->ip_off);

	memset(pkt_put(p, words * 4), IPOPT_NOP, words * 4);
	ip->ihl += words;
}

static inline struct ipv6hdr *pkt_ipv6(struct pkt *p, const char *src, __u8 nexthdr)
{
	struct ipv6hdr *ip6;

	p->ip_off = p->len;
	p->ip_version = 6;
	ip6 = pkt_put(p, sizeof(*ip6));
	ip6->version = 6;
	ip6->hop_limit = 64;
	ip6->nexthdr = nexthdr;
	pkt_addr(AF_INET6, src, &ip6->saddr);
	pkt_addr(AF_INET6, PKT_DST6, &ip6->daddr);
	return ip6;
}

/*
 * An 8-byte hop-by-hop, routing or destination options header. Options
 * headers carry one PadN option; a routing header is type 0 with no
 * segments left.
 */
static inline void pkt_ipv6_ext(struct pkt *p, __u8 type, __u8 nexthdr)
{
	struct ipv6_opt_hdr *opt = pkt_put(p, 8);
	__u8 *body = (__u8 *)(opt + 1);

	opt->nexthdr = nexthdr;
	opt->hdrlen = 0;
	if (type != IPPROTO_ROUTING) {
		body[0] = 1; /* PadN */
		body[1] = 4;
	}
}

/* Authentication header with a 12-byte ICV: its length counts 4-byte units. */
static inline void pkt_ipv6_ah(struct pkt *p, __u8 nexthdr)
{
	struct ipv6_opt_hdr *ah = pkt_put(p, 24);

	ah->nexthdr = nexthdr;
	ah->hdrlen = 24 / 4 - 2;
}

static inline void pkt_ipv6_frag(struct pkt *p, __u8 nexthdr, __u16 offset_units, bool more)
{
	struct pkt_frag_hdr *frag = pkt_put(p, sizeof(*frag));

	frag->nexthdr = nexthdr;
	frag->frag_off = htons(offset_units << 3 | more);
	frag->identification = htonl(0x1234);
}

/* Eth (with tags) and an IPv4 or IPv6 header, by the family of src. */
static inline void pkt_ip(struct pkt *p, int tags, const char *src, __u8 proto)
{
	bool v6 = strchr(src, ':') != NULL;

	pkt_eth(p, tags, v6 ? ETH_P_IPV6 : ETH_P_IP);
	if (v6)
		pkt_ipv6(p, src, proto);
	else
		pkt_ipv4(p, src, proto);
}

static inline struct tcphdr *pkt_tcp(struct pkt *p, __u16 dport, __u8 flags)
{
	struct tcphdr *tcp = pkt_put(p, sizeof(*tcp));

	tcp->source = htons(PKT_SPORT);
	tcp->dest = htons(dport);
	tcp->seq = htonl(1);
	tcp->doff = sizeof(*tcp) / 4;
	tcp->window = htons(65535);
	((__u8 *)tcp)[13] = flags;
	return tcp;
}

static inline void pkt_udp(struct pkt *p, __u16 dport)
{
	struct udphdr *udp = pkt_put(p, sizeof(*udp));

	udp->source = htons(PKT_SPORT);
	udp->dest = htons(dport);
	udp->len = htons(sizeof(*udp));
}

/* An echo request of the IP version already in the frame. */
static inline void pkt_icmp_echo(struct pkt *p)
{
	struct icmphdr *icmp = pkt_put(p, sizeof(*icmp));

	icmp->type = p->ip_version == 6 ? ICMPV6_ECHO_REQUEST : ICMP_ECHO;
}

static inline __u16 pkt_ipv4_checksum(const struct iphdr *ip)
{
	const __u8 *bytes = (const __u8 *)ip;
	__u32 sum = 0;

	for (int i = 0; i < ip->ihl * 4; i += 2)
		sum += bytes[i] << 8 | bytes[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

/* Fills the IP length fields (and the IPv4 checksum) once the frame is complete. */
static inline void pkt_finish(struct pkt *p)
{
	size_t ip_len = p->len - p->ip_off;

	if (p->ip_version == 4) {
		struct iphdr *ip = (struct iphdr *)(p->data + p->ip_off);

		ip->tot_len = htons(ip_len);
		ip->check = 0;
		ip->check = pkt_ipv4_checksum(ip);
	} else if (p->ip_version == 6) {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)(p->data + p->ip_off);

		ip6->payload_len = htons(ip_len - sizeof(*ip6));
	}
}

/* The whole frame most tests send: one TCP segment from src, behind tags VLAN tags. */
static inline void pkt_tcp_frame(struct pkt *p, int tags, const char *src, __u16 dport, __u8 flags)
{
	pkt_ip(p, tags, src, IPPROTO_TCP);
	pkt_tcp(p, dport, flags);
	pkt_finish(p);
}

/*
 * Runs one frame through the program; 0 and *action, or -errno. The kernel
 * refuses test frames shorter than an Ethernet header. Those are sent as
 * ETH_HLEN bytes with ctx.data_end cut to len: the program then sees exactly
 * len bytes in its linear data, as a driver would hand it a runt frame, and
 * the rest goes to a fragment it never reads. (This needs a kernel that
 * accepts ctx.data_end below data_size_in; 6.18 does.)
 */
static inline int pkt_run(int prog_fd, const __u8 *frame, size_t len, __u32 *action)
{
	__u8 buf[PKT_MAX] = { 0 };
	struct xdp_md ctx = { .data_end = (__u32)len };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf,
		    .data_size_in = (__u32)(len < ETH_HLEN ? ETH_HLEN : len), .repeat = 1);
	int err;

	memcpy(buf, frame, len);
	if (len < ETH_HLEN) {
		opts.ctx_in = &ctx;
		opts.ctx_size_in = sizeof(ctx);
	}
	err = bpf_prog_test_run_opts(prog_fd, &opts);
	*action = opts.retval;
	return err;
}

#endif /* XDPBAN_TEST_PACKETS_H */
