// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Packet fuzzing of the XDP program under BPF_PROG_TEST_RUN: random frames
 * built from every header the program parses (0-3 VLAN tags of either TPID,
 * IPv4 with options and fragments, IPv6 with chains of extension headers,
 * TCP with any flags, offsets and ports, UDP, ICMP, other EtherTypes), then
 * mutated (bytes flipped, lengths and header fields set to edge values) and
 * cut at random lengths; every 50th frame is also sent cut at every byte.
 *
 * Each verdict is compared with an oracle written here, in plain C over
 * byte offsets, from the rules README.md states (not from bpf/parsing.h):
 *
 *   - Ethernet, then at most two 802.1Q/802.1ad tags; any other EtherType,
 *     or a third tag, is not IP: not judged.
 *   - IPv4: version 4, IHL >= 5, the whole header (options included) in the
 *     frame; the total length field is not consulted. A non-first fragment
 *     carries no TCP header.
 *   - IPv6: version 6; hop-by-hop, routing, destination options (length in
 *     8-byte units), AH (4-byte units) and fragment headers are walked, up
 *     to 8 of them; a chain with a 9th (read like the others) is too long
 *     to walk. ESP and "no next header" end the walk with no upper layer.
 *     A non-first fragment ends it with its protocol and no header. A
 *     header cut short ends it with nothing found.
 *   - TCP: a whole 20-byte header with a data offset of at least 5.
 *   - Anything that cannot be parsed passes, not judged.
 *   - Scope "syn": judged are SYN-without-ACK segments to a protected port,
 *     and, closing the fragment evasion, TCP that a fragment does not carry
 *     whole (or any chain too long to walk), which is judged by source.
 *     Scope "all": every parsed IPv4/IPv6 frame.
 *   - A judged frame: allowlist -> pass; live exact ban -> drop; live CIDR
 *     ban (an expired, more specific one does not hide it) -> drop; blocked
 *     country -> drop; else pass.
 *
 * Every frame's action must match the oracle, and separately: in scope
 * "syn" no frame that is not a SYN to a protected port (or TCP hidden by
 * fragmentation) is ever dropped. At the end the program's per-reason
 * counters must equal the oracle's tallies.
 *
 * Frames: XDPBAN_PACKET_FUZZ_FRAMES (default 100,000, a couple of seconds);
 * seed: XDPBAN_PACKET_FUZZ_SEED (default fixed, so a failure reproduces).
 * Needs root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "packets.h"
#include "xdp_fixture.h"
#include "lib/cidr.h"
#include "lib/duration.h"
#include "lib/portset.h"
#include "kernel/stats.h"
#include "xdpban_maps.h"
#include "xdpban.skel.h"

#define DEFAULT_FRAMES	   100000UL
#define DEFAULT_SEED	   0x5eed0f1ab5ULL
#define EVERY_CUT_PERIOD   50 /* every Nth frame is also sent cut at every byte */
#define CONFIG_PERIOD	   997
#define MISMATCHES_SHOWN   5
#define ORACLE_VLAN_MAX	   2
#define ORACLE_EXT_MAX	   8
#define BLOCKED_COUNTRY	   "KP"
#define ETH_P_8021AD_VALUE 0x88A8

/* ---- the rules' state: what is banned, allowed and blocked ---- */

enum rule_kind { RULE_ALLOW, RULE_BAN_HOST, RULE_BAN_CIDR, RULE_GEO };

struct rule {
	const char *cidr;
	enum rule_kind kind;
	bool live; /* bans: false for one already expired */
	struct lpm_key key;
};

/*
 * Geo rules are /16 blocks (one first-level index entry each). The
 * 198.51.100.0/28 ban is expired and nested in a live /24: it must not
 * hide it.
 */
static struct rule rules[] = {
	{ "198.51.100.128/25", RULE_ALLOW, true },
	{ "192.0.2.1", RULE_BAN_HOST, true },
	{ "2001:db8::1", RULE_BAN_HOST, true },
	{ "192.0.2.2", RULE_BAN_HOST, false },
	{ "198.51.100.0/24", RULE_BAN_CIDR, true },
	{ "198.51.100.0/28", RULE_BAN_CIDR, false },
	{ "2001:db8:bad::/48", RULE_BAN_CIDR, true },
	{ "2001:db8:dead::/48", RULE_BAN_CIDR, false },
	{ "203.0.0.0/16", RULE_GEO, true },
	{ "3fff::/16", RULE_GEO, true },
};

/* Sources the generator draws from: one or more per rule, and clean ones. */
static const char *const sources[] = {
	"192.0.2.1",	    "192.0.2.2",	   "192.0.2.3",	       "198.51.100.7",
	"198.51.100.3",	    "198.51.100.200",	   "203.0.113.5",      "2001:db8::1",
	"2001:db8::2",	    "2001:db8:bad::5",	   "2001:db8:dead::1", "3fff::9",
	"::ffff:192.0.2.1", "::ffff:198.51.100.7", "2001:db8:beef::7",
};

struct fixture {
	struct xdpban_bpf *skel;
	struct xdpban_config cfg;
	struct portset ports; /* cfg's ports, for the oracle */
	int ncpus;
};

/*
 * An hour ahead, or a minute past: the program reads the coarse clock, up
 * to a tick behind, so a ban that ended a nanosecond ago still holds.
 */
static __u64 deadline(bool live)
{
	__s64 now = (__s64)clock_now_ns();

	return (__u64)(now + (live ? 3600 : -60) * (__s64)NSEC_PER_SEC);
}

static void update(struct bpf_map *map, const void *key, size_t key_size, const void *value,
		   size_t value_size)
{
	assert_int_equal(bpf_map__update_elem(map, key, key_size, value, value_size, BPF_ANY), 0);
}

static void install_rule(struct fixture *f, struct rule *rule)
{
	struct ban_entry ban = { .expires_ns = deadline(rule->live), .origin = BAN_ORIGIN_MANUAL };
	struct allow_entry allowed = { 0 };
	struct addr_key host;

	rule->key = unit_cidr(rule->cidr);
	ban.prefixlen = rule->key.prefixlen;
	switch (rule->kind) {
	case RULE_ALLOW:
		update(f->skel->maps.allow_cidr, &rule->key, sizeof(rule->key), &allowed,
		       sizeof(allowed));
		break;
	case RULE_BAN_HOST:
		cidr_to_addr_key(&host, &rule->key);
		xdpban_ban_host(f->skel, &host, ban.expires_ns);
		break;
	case RULE_BAN_CIDR:
		update(f->skel->maps.ban_cidr, &rule->key, sizeof(rule->key), &ban, sizeof(ban));
		break;
	case RULE_GEO: {
		bool ipv4 = cidr_is_ipv4(rule->key.addr);
		const __u8 *bytes = ipv4 ? &rule->key.addr[12] : rule->key.addr;
		__u32 bucket = (__u32)bytes[0] << 8 | bytes[1];
		__u32 slot = (__u32)(BLOCKED_COUNTRY[0] - 'A') * 26 + (BLOCKED_COUNTRY[1] - 'A');
		struct geo_index_entry entry = { .country = slot + 1 };
		struct geo_policy blocked = { .blocked = 1 };

		update(ipv4 ? f->skel->maps.geo_index4 : f->skel->maps.geo_index6, &bucket,
		       sizeof(bucket), &entry, sizeof(entry));
		update(f->skel->maps.geo_blocked, &slot, sizeof(slot), &blocked, sizeof(blocked));
		break;
	}
	}
}

/* ---- the oracle ---- */

struct oracle {
	bool parsed; /* Ethernet and an IP header read; src is known */
	__u8 src[ADDR_LEN];
	bool tcp_header;  /* a whole TCP header was read */
	bool tcp_hidden;  /* TCP a fragment does not carry whole, or a chain too long */
	bool syn_to_port; /* SYN without ACK, to a protected port */
	bool judged;
	enum verdict_reason reason;
};

static unsigned int be16_at(const __u8 *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

/* The upper layer an IP header leads to, as far as the frame shows it. */
struct upper {
	__u8 proto;
	bool present; /* its header starts at off (it may still be cut short) */
	size_t off;
	bool fragment;
	bool too_long;
};

static bool oracle_ipv4(const __u8 *f, size_t len, size_t off, struct oracle *o, struct upper *u)
{
	size_t ihl;
	unsigned int frag;

	if (len < off + 20 || f[off] >> 4 != 4 || (ihl = (size_t)(f[off] & 15) * 4) < 20 ||
	    len < off + ihl)
		return false;
	memset(o->src, 0, 10);
	o->src[10] = o->src[11] = 0xff;
	memcpy(&o->src[12], &f[off + 12], 4);
	frag = be16_at(&f[off + 6]);
	u->proto = f[off + 9];
	u->present = (frag & 0x1fff) == 0;
	u->fragment = (frag & 0x3fff) != 0;
	u->off = off + ihl;
	return true;
}

static bool oracle_ipv6(const __u8 *f, size_t len, size_t off, struct oracle *o, struct upper *u)
{
	int walked = 0;
	__u8 next;

	if (len < off + 40 || f[off] >> 4 != 6)
		return false;
	memcpy(o->src, &f[off + 8], ADDR_LEN);
	next = f[off + 6];
	off += 40;
	for (;;) {
		size_t unit = next == IPPROTO_AH ? 4 : 8, extra = next == IPPROTO_AH ? 2 : 1;

		if (next == IPPROTO_ESP || next == IPPROTO_NONE)
			return true;
		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS &&
		    next != IPPROTO_AH && next != IPPROTO_FRAGMENT) {
			u->proto = next;
			u->present = true;
			u->off = off;
			return true;
		}
		if (next == IPPROTO_FRAGMENT) {
			if (len < off + 8)
				return true;
			u->fragment = true;
			if (be16_at(&f[off + 2]) & 0xfff8) {
				u->proto = f[off]; /* a later fragment: no header here */
				return true;
			}
			next = f[off];
			off += 8;
		} else {
			if (len < off + 2) /* next header and length: all a walk needs */
				return true;
			next = f[off];
			off += ((size_t)f[off + 1] + extra) * unit;
		}
		/* The 9th header was read like the others; what follows it is out of reach. */
		if (++walked > ORACLE_EXT_MAX) {
			u->too_long = true;
			return true;
		}
	}
}

static bool in_prefix(const struct lpm_key *prefix, const __u8 addr[ADDR_LEN])
{
	struct lpm_key host = { .prefixlen = ADDR_LEN * 8 };

	memcpy(host.addr, addr, ADDR_LEN);
	return cidr_contains(prefix, &host);
}

static enum verdict_reason oracle_judge(const __u8 src[ADDR_LEN])
{
	static const enum rule_kind order[] = { RULE_ALLOW, RULE_BAN_HOST, RULE_BAN_CIDR,
						RULE_GEO };
	static const enum verdict_reason reasons[] = { REASON_PASS_ALLOW, REASON_DROP_BAN,
						       REASON_DROP_CIDR, REASON_DROP_GEO };

	for (size_t k = 0; k < ARRAY_SIZE(order); k++)
		for (size_t i = 0; i < ARRAY_SIZE(rules); i++)
			if (rules[i].kind == order[k] && rules[i].live &&
			    in_prefix(&rules[i].key, src))
				return reasons[k];
	return REASON_PASS;
}

static struct oracle oracle_run(const struct fixture *fx, const __u8 *f, size_t len)
{
	struct oracle o = { .reason = REASON_NOT_JUDGED };
	struct upper u = { 0 };
	unsigned int type;
	size_t off = 14;
	bool is_tcp;

	if (len < 14)
		return o;
	type = be16_at(&f[12]);
	for (int tags = 0; tags < ORACLE_VLAN_MAX && (type == 0x8100 || type == 0x88a8); tags++) {
		if (len < off + 4)
			return o;
		type = be16_at(&f[off + 2]);
		off += 4;
	}
	if (type == 0x0800)
		o.parsed = oracle_ipv4(f, len, off, &o, &u);
	else if (type == 0x86dd)
		o.parsed = oracle_ipv6(f, len, off, &o, &u);
	if (!o.parsed)
		return o;

	is_tcp = u.proto == IPPROTO_TCP;
	if (u.present && is_tcp && len >= u.off + 20 && f[u.off + 12] >> 4 >= 5) {
		__u8 flags = f[u.off + 13];

		o.tcp_header = true;
		o.syn_to_port = (flags & (TH_SYN | TH_ACK)) == TH_SYN &&
				portset_has(&fx->ports, be16_at(&f[u.off + 2]));
	}
	o.tcp_hidden = (u.fragment && is_tcp && !o.tcp_header) || u.too_long;
	o.judged = fx->cfg.scope == SCOPE_ALL || o.tcp_hidden || o.syn_to_port;
	if (o.judged)
		o.reason = oracle_judge(o.src);
	return o;
}

static bool reason_drops(enum verdict_reason reason)
{
	return reason == REASON_DROP_BAN || reason == REASON_DROP_CIDR || reason == REASON_DROP_GEO;
}

/* ---- frames ---- */

static __u64 rng_state;

static __u64 rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static unsigned int below(unsigned int n)
{
	return (unsigned int)(rnd() % n);
}

static bool chance(unsigned int percent)
{
	return below(100) < percent;
}

static void put_random(struct pkt *p, size_t n)
{
	__u8 *bytes = pkt_put(p, n);

	for (size_t i = 0; i < n; i++)
		bytes[i] = (__u8)rnd();
}

static void gen_ethernet(struct pkt *p, unsigned int ethertype)
{
	int tags = (int)below(4);
	size_t proto;

	pkt_eth(p, 0, 0);
	proto = p->len - 2;
	for (int i = 0; i < tags; i++) {
		pkt_set_be16(p, proto, chance(50) ? ETH_P_8021Q : ETH_P_8021AD_VALUE);
		pkt_put(p, 4);
		proto = p->len - 2;
	}
	pkt_set_be16(p, proto, ethertype);
}

static void gen_ipv4(struct pkt *p, const char *src, __u8 proto)
{
	struct iphdr *ip = pkt_ipv4(p, src, proto);
	unsigned int words = chance(70) ? 0 : below(11);

	if (words) {
		pkt_ipv4_options(p, (int)words);
		if (chance(50))
			memset(p->data + p->len - words * 4, (int)below(256), words * 4);
	}
	if (chance(25)) {
		ip = (struct iphdr *)(p->data + p->ip_off);
		ip->frag_off =
		    htons((chance(50) ? PKT_IP_MF : 0) | (chance(50) ? below(0x2000) : 0));
	}
}

static void gen_ipv6_chain(struct pkt *p, __u8 last)
{
	static const __u8 kinds[] = { IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS, IPPROTO_AH,
				      IPPROTO_FRAGMENT };
	unsigned int count = chance(40) ? 0 : below(11);
	size_t next_field = p->ip_off + offsetof(struct ipv6hdr, nexthdr);

	for (unsigned int i = 0; i < count; i++) {
		__u8 kind = kinds[below(sizeof(kinds))];
		size_t start = p->len;

		p->data[next_field] = kind;
		if (kind == IPPROTO_FRAGMENT) {
			pkt_ipv6_frag(p, 0, chance(60) ? 0 : (__u16)below(0x2000), chance(50));
		} else if (kind == IPPROTO_AH) {
			pkt_ipv6_ah(p, 0);
		} else {
			pkt_ipv6_ext(p, kind, 0);
			if (chance(20)) { /* a longer header: hdrlen 1 or 2, padded */
				unsigned int more = 1 + below(2);

				p->data[start + 1] = (__u8)more;
				put_random(p, more * 8);
			}
		}
		next_field = start;
	}
	p->data[next_field] = last;
}

static void gen_l4(struct pkt *p, __u8 proto)
{
	static const __u16 ports[] = { 25, 143, 993, 4190, 80, 22, 443, 0 };
	static const __u8 flag_sets[] = { TH_SYN, TH_SYN,	   TH_SYN | TH_ACK, TH_ACK,
					  TH_RST, TH_SYN | TH_FIN, TH_SYN | TH_RST, 0 };

	if (proto == IPPROTO_TCP) {
		__u16 port = ports[below(ARRAY_SIZE(ports))];
		__u8 flags = flag_sets[below(sizeof(flag_sets))];
		struct tcphdr *tcp =
		    pkt_tcp(p, port ? port : (__u16)below(65536), flags ? flags : (__u8)below(256));

		if (chance(10))
			tcp->doff = below(16);
	} else if (proto == IPPROTO_UDP) {
		pkt_udp(p, (__u16)below(65536));
	} else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		pkt_icmp_echo(p);
	}
	put_random(p, below(24));
}

static __u8 gen_proto(bool v6)
{
	static const __u8 others[] = { IPPROTO_UDP, IPPROTO_ESP, 59 /* no next header */,
				       IPPROTO_GRE };
	unsigned int pick = below(100);

	if (pick < 75)
		return IPPROTO_TCP;
	if (pick < 85)
		return v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	if (pick < 95)
		return others[below(sizeof(others))];
	return (__u8)below(256);
}

/* A well-formed frame of random shape (lengths filled in). */
static void gen_frame(struct pkt *p)
{
	const char *src = sources[below(ARRAY_SIZE(sources))];
	bool v6 = strchr(src, ':') != NULL;
	unsigned int pick = below(100);
	__u8 proto = gen_proto(v6);

	memset(p, 0, sizeof(*p));
	if (pick < 5) { /* not IP at all: ARP, or an EtherType nobody uses */
		gen_ethernet(p, chance(50) ? ETH_P_ARP : below(65536));
		put_random(p, below(60));
		return;
	}
	if (pick < 8) /* the other family's EtherType on top */
		v6 = !v6;
	gen_ethernet(p, strchr(src, ':') ? ETH_P_IPV6 : ETH_P_IP);
	if (strchr(src, ':')) {
		pkt_ipv6(p, src, proto);
		gen_ipv6_chain(p, proto);
	} else {
		gen_ipv4(p, src, proto);
	}
	gen_l4(p, proto);
	pkt_finish(p);
	if (v6 != (strchr(src, ':') != NULL)) /* swap the EtherType after the fact */
		pkt_set_be16(p, p->ip_off - 2, v6 ? ETH_P_IPV6 : ETH_P_IP);
}

/* Breaks a frame: flipped bytes, edge values in random places, a random cut. */
static void mutate(struct pkt *p)
{
	static const __u8 edges[] = { 0x00, 0xff, 0x45, 0x4f, 0x40, 0x60, 0x06, 0x2c, 0x3b, 0x81 };
	unsigned int n = 1 + below(4);

	for (unsigned int i = 0; i < n && p->len; i++) {
		size_t at = below((unsigned int)p->len);

		if (chance(50))
			p->data[at] ^= (__u8)(1u << below(8));
		else
			p->data[at] = edges[below(sizeof(edges))];
	}
	if (chance(30) && p->len)
		p->len = below((unsigned int)p->len + 1);
}

/* ---- running ---- */

struct tally {
	unsigned long frames, dropped, mismatches, syn_scope_violations;
	unsigned long hidden, syn_to_port; /* how often the subtle cases came up */
	__u64 reasons[REASON_COUNT];
};

static void show_frame(const char *what, const struct fixture *f, const __u8 *frame, size_t len,
		       __u32 action, const struct oracle *o)
{
	fprintf(stderr, "%s: scope %s, %zu bytes, XDP action %u, oracle %s (%s)\n  ", what,
		f->cfg.scope == SCOPE_ALL ? "all" : "syn", len, action,
		reason_drops(o->reason) ? "drop" : "pass", stats_reason_name(o->reason));
	for (size_t i = 0; i < len; i++)
		fprintf(stderr, "%02x%s", frame[i], i % 32 == 31 ? "\n  " : "");
	fprintf(stderr, "\n");
}

static void check_frame(struct fixture *f, const __u8 *frame, size_t len, struct tally *t)
{
	struct oracle o = oracle_run(f, frame, len);
	__u32 action = xdpban_verdict(f->skel, frame, len);
	__u32 want = reason_drops(o.reason) ? XDP_DROP : XDP_PASS;

	t->frames++;
	t->reasons[o.reason]++;
	t->hidden += o.tcp_hidden;
	t->syn_to_port += o.syn_to_port;
	if (action == XDP_DROP)
		t->dropped++;
	if (action != want && t->mismatches++ < MISMATCHES_SHOWN)
		show_frame("verdict differs from the oracle", f, frame, len, action, &o);
	if (action == XDP_DROP && f->cfg.scope == SCOPE_SYN && !o.syn_to_port && !o.tcp_hidden &&
	    t->syn_scope_violations++ < MISMATCHES_SHOWN)
		show_frame("dropped in SYN scope, not a SYN to a protected port", f, frame, len,
			   action, &o);
}

/* Cycles through: SYN scope with the mail ports, SYN scope on 22 and 80-90, scope all. */
static void configure(struct fixture *f, unsigned int which)
{
	static const char *const port_lists[] = { "25,110,143,465,587,993,995,4190", "22 80-90",
						  "25,143" };
	__u32 zero = 0;
	char why[ERRMSG_LEN];

	assert_int_equal(portset_parse(port_lists[which % 3], &f->ports, why), 0);
	f->cfg.initialized = 1;
	f->cfg.scope = which % 3 == 2 ? SCOPE_ALL : SCOPE_SYN;
	f->cfg.all_ports = f->ports.all;
	memcpy(f->cfg.ports, f->ports.bits, sizeof(f->cfg.ports));
	update(f->skel->maps.xdpban_config, &zero, sizeof(zero), &f->cfg, sizeof(f->cfg));
}

static __u64 counted(struct fixture *f, __u32 reason)
{
	struct verdict_counter per_cpu[f->ncpus];
	__u64 sum = 0;

	assert_int_equal(bpf_map__lookup_elem(f->skel->maps.verdict_stats, &reason, sizeof(reason),
					      per_cpu, sizeof(per_cpu), 0),
			 0);
	for (int cpu = 0; cpu < f->ncpus; cpu++)
		sum += per_cpu[cpu].packets;
	return sum;
}

static unsigned long env_number(const char *name, unsigned long fallback)
{
	const char *text = getenv(name);

	return text && *text ? strtoul(text, NULL, 0) : fallback;
}

static void frames_match_the_oracle(void **state)
{
	struct fixture *f = *state;
	unsigned long frames = env_number("XDPBAN_PACKET_FUZZ_FRAMES", DEFAULT_FRAMES);
	struct tally t = { 0 };
	struct pkt p;

	rng_state = env_number("XDPBAN_PACKET_FUZZ_SEED", DEFAULT_SEED) * 0x9E3779B97F4A7C15ULL | 1;
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++)
		install_rule(f, &rules[i]);
	for (unsigned long n = 0; t.frames < frames; n++) {
		if (n % CONFIG_PERIOD == 0)
			configure(f, (unsigned int)(n / CONFIG_PERIOD));
		gen_frame(&p);
		if (n % EVERY_CUT_PERIOD == 0)
			for (size_t len = 0; len < p.len; len++)
				check_frame(f, p.data, len, &t);
		if (chance(60))
			mutate(&p);
		check_frame(f, p.data, p.len, &t);
	}
	for (__u32 r = 0; r < REASON_COUNT; r++) {
		__u64 got = counted(f, r);

		if (got != t.reasons[r])
			fail_msg("%s: the program counted %llu, the oracle %llu",
				 stats_reason_name(r), (unsigned long long)got,
				 (unsigned long long)t.reasons[r]);
	}
	printf("packet fuzz: %lu frames (seed %#llx), %lu dropped, %llu judged, %lu SYNs to a "
	       "protected port, %lu TCP hidden by fragments or long chains; %lu differ from the "
	       "oracle, %lu non-SYN drops in SYN scope\n",
	       t.frames, (unsigned long long)env_number("XDPBAN_PACKET_FUZZ_SEED", DEFAULT_SEED),
	       t.dropped, (unsigned long long)(t.frames - t.reasons[REASON_NOT_JUDGED]),
	       t.syn_to_port, t.hidden, t.mismatches, t.syn_scope_violations);
	assert_int_equal(t.mismatches, 0);
	assert_int_equal(t.syn_scope_violations, 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	*state = f;
	f->ncpus = libbpf_num_possible_cpus();
	f->skel = xdpban_load_private();
	return f->skel && f->ncpus > 0 ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f)
		xdpban_bpf__destroy(f->skel);
	free(f);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(frames_match_the_oracle, setup, teardown),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_packet_fuzz: skipped: loading an XDP program needs root\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
