// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The XDP program under BPF_PROG_TEST_RUN: crafted frames against crafted map
 * state. Every test loads a fresh copy of the program with unpinned maps, so
 * nothing under /sys/fs/bpf is read or written and tests cannot leak state
 * into each other. Each verdict is checked twice: the XDP action returned,
 * and the one verdict_stats counter that must have moved (and no other).
 *
 * Needs root (or CAP_BPF + CAP_NET_ADMIN) to load the program.
 */
#include <arpa/inet.h>
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

#define BANNED4 "192.0.2.1"
#define BANNED6 "2001:db8::1"
#define CLEAN4	"198.51.100.7"
#define CLEAN6	"2001:db8:beef::7"
#define IMAP	143

struct fixture {
	struct xdpban_bpf *skel;
	struct xdpban_config cfg;
	int ncpus;
	const void *row; /* a table-driven test's case */
};

/* ---- map state ---- */

static void push_config(struct fixture *f)
{
	__u32 zero = 0;

	assert_int_equal(bpf_map__update_elem(f->skel->maps.xdpban_config, &zero, sizeof(zero),
					      &f->cfg, sizeof(f->cfg), BPF_ANY),
			 0);
}

static void set_scope(struct fixture *f, enum judge_scope scope)
{
	f->cfg.scope = scope;
	push_config(f);
}

/* "all" or a port list, as an operator writes it in the config file. */
static void set_ports(struct fixture *f, const char *text)
{
	struct portset set;
	char why[ERRMSG_LEN];

	assert_int_equal(portset_parse(text, &set, why), 0);
	f->cfg.all_ports = set.all;
	memcpy(f->cfg.ports, set.bits, sizeof(f->cfg.ports));
	push_config(f);
}

/* A deadline relative to now; seconds < 0 gives one already past. */
static __u64 deadline_in(__s64 seconds)
{
	__s64 deadline = (__s64)clock_now_ns() + seconds * (__s64)NSEC_PER_SEC;

	/* 0 would read as permanent: the machine must be up longer than the past we ask for. */
	assert_true(deadline > 0);
	return deadline;
}

#define PERMANENT 0
#define LIVE	  deadline_in(3600)
#define EXPIRED	  deadline_in(-1)

static struct ban_entry ban_value(__u64 expires_ns, __u32 prefixlen)
{
	return (struct ban_entry){
		.expires_ns = expires_ns,
		.prefixlen = prefixlen,
		.origin = BAN_ORIGIN_MANUAL,
	};
}

static struct addr_key host_of(const char *addr)
{
	struct lpm_key key = unit_cidr(addr);
	struct addr_key host;

	assert_true(cidr_is_host(&key));
	cidr_to_addr_key(&host, &key);
	return host;
}

/* An exact-address ban in the ban tables, as user space makes it. */
static void ban_host(struct fixture *f, const char *addr, __u64 expires_ns)
{
	struct addr_key host = host_of(addr);

	xdpban_ban_host(f->skel, &host, expires_ns);
}

/* A prefix ban (ban_cidr), remembering its length for the expired-entry retry. */
static void ban_cidr(struct fixture *f, const char *cidr, __u64 expires_ns)
{
	struct lpm_key key = unit_cidr(cidr);
	struct ban_entry ban = ban_value(expires_ns, key.prefixlen);

	assert_int_equal(bpf_map__update_elem(f->skel->maps.ban_cidr, &key, sizeof(key), &ban,
					      sizeof(ban), BPF_ANY),
			 0);
}

static void allow(struct fixture *f, const char *cidr)
{
	struct lpm_key key = unit_cidr(cidr);
	struct allow_entry entry = { 0 };

	assert_int_equal(bpf_map__update_elem(f->skel->maps.allow_cidr, &key, sizeof(key), &entry,
					      sizeof(entry), BPF_ANY),
			 0);
}

/* Sets the geo index entry of the /16 block holding addr (IPv4 or IPv6). */
static void geo_index_set(struct fixture *f, const char *addr, __u32 value)
{
	struct lpm_key key = unit_cidr(addr);
	bool ipv4 = cidr_is_ipv4(key.addr);
	__u32 bucket =
	    ipv4 ? (__u32)key.addr[12] << 8 | key.addr[13] : (__u32)key.addr[0] << 8 | key.addr[1];
	struct geo_index_entry entry = { .country = value };
	struct bpf_map *index = ipv4 ? f->skel->maps.geo_index4 : f->skel->maps.geo_index6;

	assert_int_equal(
	    bpf_map__update_elem(index, &bucket, sizeof(bucket), &entry, sizeof(entry), BPF_ANY),
	    0);
}

/*
 * Puts a prefix in the trie and sends its /16 block to the trie (MIXED).
 * Any text is accepted, so tests can also store a malformed country.
 */
static void geo_assign(struct fixture *f, const char *cidr, const char *country)
{
	struct lpm_key key = unit_cidr(cidr);
	struct geo_entry geo = { 0 };

	strncpy(geo.country, country, sizeof(geo.country) - 1);
	assert_int_equal(bpf_map__update_elem(f->skel->maps.geo_prefix, &key, sizeof(key), &geo,
					      sizeof(geo), BPF_ANY),
			 0);
	geo_index_set(f, cidr, GEO_INDEX_MIXED);
}

static __u32 country_slot(const char *country)
{
	return (country[0] - 'A') * 26 + (country[1] - 'A');
}

static void geo_block(struct fixture *f, const char *country)
{
	__u32 slot = country_slot(country);
	struct geo_policy policy = { .blocked = 1 };

	assert_int_equal(bpf_map__update_elem(f->skel->maps.geo_blocked, &slot, sizeof(slot),
					      &policy, sizeof(policy), BPF_ANY),
			 0);
}

/* Sums one per-CPU verdict_counter slot over every possible CPU. */
static struct verdict_counter map_percpu_sum(struct fixture *f, struct bpf_map *map, __u32 key)
{
	struct verdict_counter per_cpu[f->ncpus], sum = { 0 };

	assert_int_equal(bpf_map__lookup_elem(map, &key, sizeof(key), per_cpu, sizeof(per_cpu), 0),
			 0);
	for (int cpu = 0; cpu < f->ncpus; cpu++) {
		sum.packets += per_cpu[cpu].packets;
		sum.bytes += per_cpu[cpu].bytes;
	}
	return sum;
}

static __u64 geo_drop_packets(struct fixture *f, const char *country)
{
	return map_percpu_sum(f, f->skel->maps.geo_drops, country_slot(country)).packets;
}

/* ---- running frames ---- */

/*
 * Runs len bytes of frame and asserts the action and that exactly one
 * packet of len bytes was counted, under the expected reason.
 */
static void expect_bytes(struct fixture *f, const __u8 *frame, size_t len, __u32 action,
			 enum verdict_reason reason)
{
	struct verdict_counter before[REASON_COUNT], after;
	__u32 retval;

	for (__u32 r = 0; r < REASON_COUNT; r++)
		before[r] = map_percpu_sum(f, f->skel->maps.verdict_stats, r);
	retval = xdpban_verdict(f->skel, frame, len);
	if (retval != action)
		fail_msg("%zu-byte frame: XDP action %u, want %u", len, retval, action);
	for (__u32 r = 0; r < REASON_COUNT; r++) {
		__u64 want = r == reason;

		after = map_percpu_sum(f, f->skel->maps.verdict_stats, r);
		if (after.packets - before[r].packets != want ||
		    after.bytes - before[r].bytes != want * len)
			fail_msg("%zu-byte frame: %s counted %llu packets, %llu bytes; want %llu",
				 len, stats_reason_name(r),
				 (unsigned long long)(after.packets - before[r].packets),
				 (unsigned long long)(after.bytes - before[r].bytes),
				 (unsigned long long)want);
	}
}

static void expect(struct fixture *f, const struct pkt *p, __u32 action, enum verdict_reason reason)
{
	expect_bytes(f, p->data, p->len, action, reason);
}

static void expect_drop(struct fixture *f, const struct pkt *p, enum verdict_reason reason)
{
	expect(f, p, XDP_DROP, reason);
}

static void expect_pass(struct fixture *f, const struct pkt *p, enum verdict_reason reason)
{
	expect(f, p, XDP_PASS, reason);
}

/* A frame is dropped whole or not at all: no cut of it may be dropped. */
static void expect_no_prefix_dropped(struct fixture *f, const struct pkt *p)
{
	for (size_t len = 0; len < p->len; len++)
		expect_bytes(f, p->data, len, XDP_PASS, REASON_NOT_JUDGED);
}

/* ---- fixtures ---- */

/*
 * Fresh, unpinned maps: the test must not see or disturb a running xdpban.
 * (bpf_object__for_each_map() spelled out, which clang-format can lay out.)
 */
static int load(void **state, bool configure)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	*state = f;
	f->ncpus = libbpf_num_possible_cpus();
	f->skel = xdpban_load_private();
	if (!f->skel || f->ncpus <= 0)
		return -1;
	if (configure) {
		struct portset defaults;

		portset_defaults(&defaults);
		f->cfg.initialized = 1;
		f->cfg.scope = SCOPE_SYN;
		memcpy(f->cfg.ports, defaults.bits, sizeof(f->cfg.ports));
		push_config(f);
	}
	return 0;
}

/* Configured as `xdpban` leaves it by default: SYN scope, the mail ports. */
static int setup(void **state)
{
	return load(state, true);
}

/* The config map as the kernel creates it, before user space writes it. */
static int setup_unconfigured(void **state)
{
	return load(state, false);
}

/* setup, for a row of a table: the row stays in the fixture. */
static int setup_row(void **state)
{
	const void *row = *state;

	if (load(state, true))
		return -1;
	((struct fixture *)*state)->row = row;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f)
		xdpban_bpf__destroy(f->skel);
	free(f);
	return 0;
}

/* ---- one frame: families, VLAN tags, TCP flags, ports, scope ---- */

/*
 * One frame from SRC after BANNED was banned for good, and the verdict.
 * TCP goes to PORT with FLAGS, UDP to PORT, ICMP and ICMPv6 are an echo
 * request. A banned source's ACK, UDP datagram or ping is judged only in
 * SCOPE_ALL; SYN|FIN is a scanner's opener, not a reply: it has SYN
 * without ACK.
 */
struct frame_case {
	const char *name;
	enum judge_scope scope;
	const char *banned, *src;
	int tags; /* 802.1Q tags before the IP header */
	__u8 proto, flags;
	__u16 port;
	__u32 action;
	enum verdict_reason reason;
};

#define SYN_CASE(name, banned, src, tags, flags, port, action, reason)                             \
	{                                                                                          \
#name, SCOPE_SYN, banned, src, tags, IPPROTO_TCP, flags, port, action, reason      \
	}

static const struct frame_case frame_cases[] = {
	SYN_CASE(ipv4_syn_from_banned_host_is_dropped, BANNED4, BANNED4, 0, TH_SYN, IMAP, XDP_DROP,
		 REASON_DROP_BAN),
	SYN_CASE(ipv6_syn_from_banned_host_is_dropped, BANNED6, BANNED6, 0, TH_SYN, IMAP, XDP_DROP,
		 REASON_DROP_BAN),
	SYN_CASE(ipv4_syn_from_clean_host_passes, BANNED4, CLEAN4, 0, TH_SYN, IMAP, XDP_PASS,
		 REASON_PASS),
	SYN_CASE(ipv6_syn_from_clean_host_passes, BANNED6, CLEAN6, 0, TH_SYN, IMAP, XDP_PASS,
		 REASON_PASS),
	SYN_CASE(ipv4_syn_behind_8021q_tag_is_dropped, BANNED4, BANNED4, 1, TH_SYN, IMAP, XDP_DROP,
		 REASON_DROP_BAN),
	SYN_CASE(ipv6_syn_behind_8021q_tag_is_dropped, BANNED6, BANNED6, 1, TH_SYN, IMAP, XDP_DROP,
		 REASON_DROP_BAN),
	SYN_CASE(ipv4_syn_behind_qinq_tags_is_dropped, BANNED4, BANNED4, 2, TH_SYN, IMAP, XDP_DROP,
		 REASON_DROP_BAN),
	SYN_CASE(ipv6_syn_behind_qinq_tags_is_dropped, BANNED6, BANNED6, 2, TH_SYN, IMAP, XDP_DROP,
		 REASON_DROP_BAN),
	SYN_CASE(syn_behind_three_tags_is_not_judged, BANNED4, BANNED4, 3, TH_SYN, IMAP, XDP_PASS,
		 REASON_NOT_JUDGED),
	SYN_CASE(syn_ack_from_banned_host_is_not_judged, BANNED4, BANNED4, 0, TH_SYN | TH_ACK, IMAP,
		 XDP_PASS, REASON_NOT_JUDGED),
	SYN_CASE(ack_from_banned_host_is_not_judged, BANNED4, BANNED4, 0, TH_ACK, IMAP, XDP_PASS,
		 REASON_NOT_JUDGED),
	SYN_CASE(rst_from_banned_host_is_not_judged, BANNED4, BANNED4, 0, TH_RST, IMAP, XDP_PASS,
		 REASON_NOT_JUDGED),
	SYN_CASE(syn_fin_from_banned_host_is_dropped, BANNED4, BANNED4, 0, TH_SYN | TH_FIN, IMAP,
		 XDP_DROP, REASON_DROP_BAN),
	SYN_CASE(syn_to_unprotected_port_is_not_judged, BANNED4, BANNED4, 0, TH_SYN, 80, XDP_PASS,
		 REASON_NOT_JUDGED),
	{ "scope_all_drops_banned_ack", SCOPE_ALL, BANNED4, BANNED4, 0, IPPROTO_TCP, TH_ACK, 80,
	  XDP_DROP, REASON_DROP_BAN },
	{ "scope_all_drops_banned_udp", SCOPE_ALL, BANNED4, BANNED4, 0, IPPROTO_UDP, 0, 53,
	  XDP_DROP, REASON_DROP_BAN },
	{ "scope_all_drops_banned_icmp", SCOPE_ALL, BANNED4, BANNED4, 0, IPPROTO_ICMP, 0, 0,
	  XDP_DROP, REASON_DROP_BAN },
	{ "scope_all_drops_banned_icmpv6", SCOPE_ALL, BANNED6, BANNED6, 0, IPPROTO_ICMPV6, 0, 0,
	  XDP_DROP, REASON_DROP_BAN },
	{ "scope_syn_passes_banned_ack", SCOPE_SYN, BANNED4, BANNED4, 0, IPPROTO_TCP, TH_ACK, 80,
	  XDP_PASS, REASON_NOT_JUDGED },
	{ "scope_syn_passes_banned_udp", SCOPE_SYN, BANNED4, BANNED4, 0, IPPROTO_UDP, 0, 53,
	  XDP_PASS, REASON_NOT_JUDGED },
	{ "scope_syn_passes_banned_icmp", SCOPE_SYN, BANNED4, BANNED4, 0, IPPROTO_ICMP, 0, 0,
	  XDP_PASS, REASON_NOT_JUDGED },
	{ "scope_all_passes_clean_udp", SCOPE_ALL, BANNED4, CLEAN4, 0, IPPROTO_UDP, 0, 53, XDP_PASS,
	  REASON_PASS },
};

static void frame_verdict(void **state)
{
	struct fixture *f = *state;
	const struct frame_case *c = f->row;
	struct pkt p = { 0 };

	set_scope(f, c->scope);
	ban_host(f, c->banned, PERMANENT);
	pkt_ip(&p, c->tags, c->src, c->proto);
	if (c->proto == IPPROTO_TCP)
		pkt_tcp(&p, c->port, c->flags);
	else if (c->proto == IPPROTO_UDP)
		pkt_udp(&p, c->port);
	else
		pkt_icmp_echo(&p);
	pkt_finish(&p);
	expect(f, &p, c->action, c->reason);
}

static void arp_is_not_judged_even_in_scope_all(void **state)
{
	struct pkt p = { 0 };

	set_scope(*state, SCOPE_ALL);
	pkt_eth(&p, 0, ETH_P_ARP);
	pkt_put(&p, 28); /* an ARP body for Ethernet/IPv4 */
	expect_pass(*state, &p, REASON_NOT_JUDGED);
}

/* ---- TCP flags and ports (SYN scope) ---- */

static void banned_syn_to_port(void **state, __u16 port, __u32 action, enum verdict_reason reason)
{
	struct pkt p = { 0 };

	ban_host(*state, BANNED4, PERMANENT);
	pkt_tcp_frame(&p, 0, BANNED4, port, TH_SYN);
	expect(*state, &p, action, reason);
}

static void configured_port_set_replaces_the_defaults(void **state)
{
	set_ports(*state, "22,8080");
	banned_syn_to_port(state, 8080, XDP_DROP, REASON_DROP_BAN);
	banned_syn_to_port(state, 22, XDP_DROP, REASON_DROP_BAN);
	banned_syn_to_port(state, IMAP, XDP_PASS, REASON_NOT_JUDGED);
}

static void all_ports_protects_every_port(void **state)
{
	set_ports(*state, "all");
	banned_syn_to_port(state, 80, XDP_DROP, REASON_DROP_BAN);
	banned_syn_to_port(state, 1, XDP_DROP, REASON_DROP_BAN);
	banned_syn_to_port(state, 65535, XDP_DROP, REASON_DROP_BAN);
}

static void unconfigured_protects_default_mail_ports(void **state)
{
	static const __u16 mail_ports[] = DEFAULT_PROTECTED_PORTS;

	for (size_t i = 0; i < ARRAY_SIZE(mail_ports); i++)
		banned_syn_to_port(state, mail_ports[i], XDP_DROP, REASON_DROP_BAN);
}

static void unconfigured_does_not_protect_port_80(void **state)
{
	banned_syn_to_port(state, 80, XDP_PASS, REASON_NOT_JUDGED);
}

static void tcp_doff_below_5_is_not_judged(void **state)
{
	ban_host(*state, BANNED4, PERMANENT);
	for (int doff = 0; doff < 5; doff++) {
		struct pkt p = { 0 };
		struct tcphdr *tcp;

		pkt_ip(&p, 0, BANNED4, IPPROTO_TCP);
		tcp = pkt_tcp(&p, IMAP, TH_SYN);
		tcp->doff = doff;
		pkt_finish(&p);
		expect_pass(*state, &p, REASON_NOT_JUDGED);
	}
}

/* ---- scope ---- */

/* ---- bans: exact, CIDR, expiry ---- */

static void syn_from(void **state, const char *src, __u32 action, enum verdict_reason reason)
{
	struct pkt p = { 0 };

	pkt_tcp_frame(&p, 0, src, IMAP, TH_SYN);
	expect(*state, &p, action, reason);
}

static void live_exact_ban_drops(void **state)
{
	ban_host(*state, BANNED4, LIVE);
	syn_from(state, BANNED4, XDP_DROP, REASON_DROP_BAN);
}

static void expired_exact_ban_passes(void **state)
{
	ban_host(*state, BANNED4, EXPIRED);
	syn_from(state, BANNED4, XDP_PASS, REASON_PASS);
}

static void ipv4_cidr_ban_drops_as_drop_cidr(void **state)
{
	ban_cidr(*state, "192.0.2.0/24", PERMANENT);
	syn_from(state, "192.0.2.200", XDP_DROP, REASON_DROP_CIDR);
	syn_from(state, "192.0.3.1", XDP_PASS, REASON_PASS);
}

static void ipv6_cidr_ban_drops_as_drop_cidr(void **state)
{
	ban_cidr(*state, "2001:db8:1::/48", PERMANENT);
	syn_from(state, "2001:db8:1:2::3", XDP_DROP, REASON_DROP_CIDR);
	syn_from(state, "2001:db8:2::3", XDP_PASS, REASON_PASS);
}

static void exact_ban_is_counted_before_cidr_ban(void **state)
{
	ban_host(*state, BANNED4, PERMANENT);
	ban_cidr(*state, "192.0.2.0/24", PERMANENT);
	syn_from(state, BANNED4, XDP_DROP, REASON_DROP_BAN);
}

static void live_cidr_ban_drops(void **state)
{
	ban_cidr(*state, "192.0.2.0/24", LIVE);
	syn_from(state, BANNED4, XDP_DROP, REASON_DROP_CIDR);
}

static void expired_cidr_ban_passes(void **state)
{
	ban_cidr(*state, "192.0.2.0/24", EXPIRED);
	syn_from(state, BANNED4, XDP_PASS, REASON_PASS);
}

static void expired_exact_ban_inside_live_cidr_ban_drops(void **state)
{
	ban_host(*state, BANNED4, EXPIRED);
	ban_cidr(*state, "192.0.2.0/24", LIVE);
	syn_from(state, BANNED4, XDP_DROP, REASON_DROP_CIDR);
}

/* The LPM lookup finds only the /28; the program must look again shorter. */
static void expired_nested_cidr_ban_does_not_hide_live_outer(void **state)
{
	ban_cidr(*state, "192.0.2.0/28", EXPIRED);
	ban_cidr(*state, "192.0.2.0/24", LIVE);
	syn_from(state, BANNED4, XDP_DROP, REASON_DROP_CIDR);
}

static void expired_ipv6_nested_cidr_ban_does_not_hide_live_outer(void **state)
{
	ban_cidr(*state, "2001:db8::/64", EXPIRED);
	ban_cidr(*state, "2001:db8::/48", PERMANENT);
	syn_from(state, BANNED6, XDP_DROP, REASON_DROP_CIDR);
}

static void expired_cidr_bans_three_deep_do_not_hide_live_outer(void **state)
{
	ban_cidr(*state, "192.0.2.1/32", EXPIRED);
	ban_cidr(*state, "192.0.2.0/28", EXPIRED);
	ban_cidr(*state, "192.0.2.0/24", EXPIRED);
	ban_cidr(*state, "192.0.0.0/16", LIVE);
	syn_from(state, BANNED4, XDP_DROP, REASON_DROP_CIDR);
}

static void expired_nested_inside_expired_cidr_ban_passes(void **state)
{
	ban_cidr(*state, "192.0.2.0/28", EXPIRED);
	ban_cidr(*state, "192.0.2.0/24", EXPIRED);
	syn_from(state, BANNED4, XDP_PASS, REASON_PASS);
}

/* ---- allowlist ---- */

static void allowlist_beats_exact_ban(void **state)
{
	allow(*state, "192.0.2.0/24");
	ban_host(*state, BANNED4, PERMANENT);
	syn_from(state, BANNED4, XDP_PASS, REASON_PASS_ALLOW);
}

static void allowlist_beats_cidr_ban(void **state)
{
	allow(*state, "2001:db8::1");
	ban_cidr(*state, "2001:db8::/32", PERMANENT);
	syn_from(state, BANNED6, XDP_PASS, REASON_PASS_ALLOW);
	syn_from(state, "2001:db8::2", XDP_DROP, REASON_DROP_CIDR);
}

/* ---- geo ---- */

static void blocked_country_drops_and_counts_per_country(void **state)
{
	geo_assign(*state, "203.0.113.0/24", "FR");
	geo_block(*state, "FR");
	syn_from(state, "203.0.113.9", XDP_DROP, REASON_DROP_GEO);
	assert_int_equal(geo_drop_packets(*state, "FR"), 1);
}

static void blocked_country_drops_ipv6(void **state)
{
	geo_assign(*state, "2001:db8:f00::/40", "ZZ");
	geo_block(*state, "ZZ");
	syn_from(state, "2001:db8:f00::9", XDP_DROP, REASON_DROP_GEO);
	assert_int_equal(geo_drop_packets(*state, "ZZ"), 1);
}

static void unblocked_country_passes(void **state)
{
	geo_assign(*state, "203.0.113.0/25", "FR");
	geo_assign(*state, "203.0.113.128/25", "DE");
	geo_block(*state, "FR");
	syn_from(state, "203.0.113.200", XDP_PASS, REASON_PASS);
	assert_int_equal(geo_drop_packets(*state, "DE"), 0);
}

static void malformed_country_passes(void **state)
{
	geo_assign(*state, "203.0.113.0/24", "fr");
	syn_from(state, "203.0.113.9", XDP_PASS, REASON_PASS);
}

static void uniform_block_is_answered_by_the_index_alone(void **state)
{
	/* No trie entry at all: the index entry alone must decide. */
	geo_index_set(*state, "203.0.113.0", 1 + country_slot("FR"));
	geo_block(*state, "FR");
	syn_from(state, "203.0.113.9", XDP_DROP, REASON_DROP_GEO);
	assert_int_equal(geo_drop_packets(*state, "FR"), 1);
}

static void uniform_ipv6_block_is_answered_by_the_index_alone(void **state)
{
	geo_index_set(*state, "2001:db8::", 1 + country_slot("ZZ"));
	geo_block(*state, "ZZ");
	syn_from(state, "2001:db8:f00::9", XDP_DROP, REASON_DROP_GEO);
}

static void index_none_skips_the_trie(void **state)
{
	/* The index is authoritative: a block marked NONE never reaches the trie. */
	geo_assign(*state, "203.0.113.0/24", "FR");
	geo_index_set(*state, "203.0.113.0", GEO_INDEX_NONE);
	geo_block(*state, "FR");
	syn_from(state, "203.0.113.9", XDP_PASS, REASON_PASS);
}

static void index_out_of_range_country_passes(void **state)
{
	geo_index_set(*state, "203.0.113.0", 1 + COUNTRY_SLOTS);
	syn_from(state, "203.0.113.9", XDP_PASS, REASON_PASS);
}

/* ---- the ban tables: buckets, spills, relocation ---- */

static __u32 ipv4_word(const struct addr_key *host)
{
	__u32 word;

	memcpy(&word, &host->addr[12], sizeof(word));
	return word;
}

static void buckets4(const struct ban_table *t, const struct addr_key *host, __u32 *first,
		     __u32 *second)
{
	__u64 hash = ban_hash4(ipv4_word(host), t->meta);
	__u32 mask = ban_mask(t->meta->log2_4, BAN4_BUCKETS);

	*first = ban_first_bucket(hash, mask);
	*second = ban_second_bucket(hash, mask);
}

/* An address of 192.0.2.0/24 whose two buckets differ (under a random seed, most do). */
static struct addr_key two_choice_host(const struct ban_table *t, char text[CIDR_TEXT_LEN])
{
	for (int i = 1; i < 255; i++) {
		struct addr_key host;
		__u32 first, second;

		snprintf(text, CIDR_TEXT_LEN, "192.0.2.%d", i);
		host = host_of(text);
		buckets4(t, &host, &first, &second);
		if (first != second)
			return host;
	}
	fail_msg("every address of 192.0.2.0/24 has one bucket");
	return (struct addr_key){ 0 };
}

/* An IPv4 address (as text) whose first bucket is `first`, found by trying 10.x.y.z. */
static void address_in_bucket(const struct ban_table *t, __u32 first, __u32 *next,
			      char text[CIDR_TEXT_LEN])
{
	for (;; (*next)++) {
		struct addr_key host = { .addr = { [10] = 0xff, [11] = 0xff } };
		__u32 word = htonl(0x0a000000 | (*next & 0xffffff)), a, b;

		assert_true(*next < (1U << 26));
		memcpy(&host.addr[12], &word, sizeof(word));
		buckets4(t, &host, &a, &b);
		if (a != first)
			continue;
		(*next)++;
		snprintf(text, CIDR_TEXT_LEN, "10.%u.%u.%u", host.addr[13], host.addr[14],
			 host.addr[15]);
		return;
	}
}

static struct ban4_bucket *bucket4_at(const struct ban_table *t, __u32 index)
{
	return (struct ban4_bucket *)t->v4.buckets + index;
}

/*
 * The program reads the second bucket only when the first's spill filter has
 * the address's bit: the count alone, or another address's bit, does not.
 */
static void ban_in_second_bucket_drops_when_its_first_has_its_bit(void **state)
{
	struct fixture *f = *state;
	char text[CIDR_TEXT_LEN];
	struct addr_key host;
	struct ban_table t;
	__u32 first, second, bit;

	xdpban_map_bans(f->skel, &t);
	host = two_choice_host(&t, text);
	buckets4(&t, &host, &first, &second);
	bit = ban_spill_bit4(ban_hash4(ipv4_word(&host), t.meta));
	memcpy(bucket4_at(&t, second)->addr[6], &host.addr[12], 4);
	bucket4_at(&t, second)->deadline[6] = BAN_DEADLINE_PERMANENT;
	syn_from(state, text, XDP_PASS, REASON_PASS);
	bucket4_at(&t, first)->spill = 1;
	bucket4_at(&t, first)->spill_filter = ~bit;
	syn_from(state, text, XDP_PASS, REASON_PASS);
	bucket4_at(&t, first)->spill_filter = bit;
	syn_from(state, text, XDP_DROP, REASON_DROP_BAN);
	ban_table_release(&t);
}

/* The same in IPv6's buckets, whose filter has 16 bits. */
static void ipv6_ban_in_second_bucket_drops_when_its_first_has_its_bit(void **state)
{
	struct fixture *f = *state;
	char text[CIDR_TEXT_LEN];
	struct ban6_bucket *buckets;
	struct addr_key host;
	struct ban_table t;
	__u32 first = 0, second = 0, mask;
	__u64 hash = 0;

	xdpban_map_bans(f->skel, &t);
	buckets = t.v6.buckets;
	mask = ban_mask(t.meta->log2_6, BAN6_BUCKETS);
	for (int i = 1; i < 255 && first == second; i++) {
		snprintf(text, sizeof(text), "2001:db8::%x", i);
		host = host_of(text);
		hash = ban_hash6(host.addr, t.meta);
		first = ban_first_bucket(hash, mask);
		second = ban_second_bucket(hash, mask);
	}
	assert_int_not_equal(first, second);
	memcpy(buckets[second].addr[2].bytes, host.addr, ADDR_LEN);
	buckets[second].deadline[2] = BAN_DEADLINE_PERMANENT;
	buckets[first].spill = 1;
	buckets[first].spill_filter = (__u16)~ban_spill_bit6(hash);
	syn_from(state, text, XDP_PASS, REASON_PASS);
	buckets[first].spill_filter = (__u16)ban_spill_bit6(hash);
	syn_from(state, text, XDP_DROP, REASON_DROP_BAN);
	ban_table_release(&t);
}

/*
 * Each slot of a bucket answers for its own address only: seven addresses of
 * one bucket, live, expired and freed in turn, each judged by its own slot
 * (the scan masks the slots together without a branch).
 */
static void each_slot_answers_for_its_own_address(void **state)
{
	struct fixture *f = *state;
	char text[BAN4_SLOTS][CIDR_TEXT_LEN], probe[CIDR_TEXT_LEN];
	struct addr_key host;
	struct ban_table t;
	__u32 first, second, next = 0;

	xdpban_map_bans(f->skel, &t);
	host = two_choice_host(&t, probe);
	buckets4(&t, &host, &first, &second);
	for (int i = 0; i < BAN4_SLOTS; i++) {
		struct addr_key a;

		address_in_bucket(&t, first, &next, text[i]);
		a = host_of(text[i]);
		memcpy(bucket4_at(&t, first)->addr[i], &a.addr[12], 4);
		/* live, expired (tick 1 is long past), live..., the last slot freed */
		bucket4_at(&t, first)->deadline[i] = i == BAN4_SLOTS - 1 ? BAN_DEADLINE_FREE
						     : i % 2		 ? 1
									 : BAN_DEADLINE_PERMANENT;
	}
	for (int i = 0; i < BAN4_SLOTS; i++) {
		bool live = i % 2 == 0 && i != BAN4_SLOTS - 1;

		syn_from(state, text[i], live ? XDP_DROP : XDP_PASS,
			 live ? REASON_DROP_BAN : REASON_PASS);
	}
	syn_from(state, probe, XDP_PASS, REASON_PASS);
	ban_table_release(&t);
}

/* A free slot (deadline 0) never matches, not even the address it held. */
static void freed_slot_passes(void **state)
{
	struct fixture *f = *state;
	struct addr_key host = host_of(BANNED4);
	struct ban_table t;

	ban_host(f, BANNED4, PERMANENT);
	syn_from(state, BANNED4, XDP_DROP, REASON_DROP_BAN);
	xdpban_map_bans(f->skel, &t);
	assert_int_equal(ban_table_delete(&t, &host, NULL), 0);
	ban_table_release(&t);
	syn_from(state, BANNED4, XDP_PASS, REASON_PASS);
}

/*
 * Both buckets of an address full (seven entries whose first choice each is):
 * banning it moves one of them to its second bucket, and every ban still drops.
 */
static void full_pair_relocates_and_every_ban_still_drops(void **state)
{
	struct fixture *f = *state;
	char crowd[2 * BAN4_SLOTS][CIDR_TEXT_LEN], text[CIDR_TEXT_LEN];
	__u32 pair[2], next = 0, spills;
	struct addr_key host;
	struct ban_table t;

	xdpban_map_bans(f->skel, &t);
	host = two_choice_host(&t, text);
	buckets4(&t, &host, &pair[0], &pair[1]);
	for (int i = 0; i < 2 * BAN4_SLOTS; i++) {
		address_in_bucket(&t, pair[i / BAN4_SLOTS], &next, crowd[i]);
		ban_host(f, crowd[i], PERMANENT);
	}
	spills = bucket4_at(&t, pair[0])->spill + bucket4_at(&t, pair[1])->spill;
	assert_int_equal(spills, 0);
	ban_host(f, text, PERMANENT);
	syn_from(state, text, XDP_DROP, REASON_DROP_BAN);
	for (int i = 0; i < 2 * BAN4_SLOTS; i++)
		syn_from(state, crowd[i], XDP_DROP, REASON_DROP_BAN);
	ban_table_release(&t);
}

/* A full first bucket: the ban goes to the second, counted in the first's spill and filter. */
static void full_first_bucket_spills_to_the_second(void **state)
{
	struct fixture *f = *state;
	char crowd[BAN4_SLOTS][CIDR_TEXT_LEN], text[CIDR_TEXT_LEN];
	__u32 pair[2], next = 0;
	struct addr_key host;
	struct ban_table t;

	xdpban_map_bans(f->skel, &t);
	host = two_choice_host(&t, text);
	buckets4(&t, &host, &pair[0], &pair[1]);
	for (int i = 0; i < BAN4_SLOTS; i++) {
		address_in_bucket(&t, pair[0], &next, crowd[i]);
		ban_host(f, crowd[i], LIVE);
	}
	ban_host(f, text, LIVE);
	assert_int_equal(bucket4_at(&t, pair[0])->spill, 1);
	assert_int_equal(bucket4_at(&t, pair[0])->spill_filter,
			 ban_spill_bit4(ban_hash4(ipv4_word(&host), t.meta)));
	syn_from(state, text, XDP_DROP, REASON_DROP_BAN);
	syn_from(state, CLEAN4, XDP_PASS, REASON_PASS);
	ban_table_release(&t);
}

/* Past 4 bans a bucket the table doubles the buckets in use; the program reads the new size. */
static void growth_keeps_every_ban_dropping(void **state)
{
	struct fixture *f = *state;
	struct ban_table t;
	__u32 log2_before;
	char text[CIDR_TEXT_LEN];

	xdpban_map_bans(f->skel, &t);
	log2_before = t.meta->log2_4;
	for (__u32 i = 0; i < 5 * (1U << BAN_LOG2_MIN); i++) {
		struct ban_slot slot = { .addr = host_of("10.0.0.0") };
		__u32 word = htonl(0x0a000000 + i * 13);

		memcpy(&slot.addr.addr[12], &word, sizeof(word));
		ban_slot_set_end(&slot, 0);
		assert_int_equal(ban_table_put(&t, &slot, clock_now_ns(), NULL, NULL), 0);
	}
	assert_true(t.meta->log2_4 > log2_before);
	for (__u32 i = 0; i < 5 * (1U << BAN_LOG2_MIN); i += 97) {
		__u32 a = 0x0a000000 + i * 13;

		snprintf(text, sizeof(text), "10.%u.%u.%u", (a >> 16) & 255, (a >> 8) & 255,
			 a & 255);
		syn_from(state, text, XDP_DROP, REASON_DROP_BAN);
	}
	syn_from(state, "10.255.255.254", XDP_PASS, REASON_PASS);
	ban_table_release(&t);
}

static void expired_ipv6_ban_passes(void **state)
{
	ban_host(*state, BANNED6, EXPIRED);
	syn_from(state, BANNED6, XDP_PASS, REASON_PASS);
	ban_host(*state, BANNED6, LIVE);
	syn_from(state, BANNED6, XDP_DROP, REASON_DROP_BAN);
}

static void allowlist_beats_ipv6_exact_ban(void **state)
{
	ban_host(*state, BANNED6, PERMANENT);
	allow(*state, "2001:db8::/32");
	syn_from(state, BANNED6, XDP_PASS, REASON_PASS_ALLOW);
}

static void allowlist_beats_geo(void **state)
{
	geo_assign(*state, "203.0.113.0/24", "FR");
	geo_block(*state, "FR");
	allow(*state, "203.0.113.9");
	syn_from(state, "203.0.113.9", XDP_PASS, REASON_PASS_ALLOW);
	assert_int_equal(geo_drop_packets(*state, "FR"), 0);
}

/* ---- truncated frames ---- */

static void truncated_qinq_ipv4_syn_is_never_dropped(void **state)
{
	struct pkt p = { 0 };

	ban_host(*state, BANNED4, PERMANENT);
	pkt_tcp_frame(&p, 2, BANNED4, IMAP, TH_SYN);
	expect_drop(*state, &p, REASON_DROP_BAN);
	expect_no_prefix_dropped(*state, &p);
}

static void truncated_ipv4_options_are_never_dropped(void **state)
{
	struct pkt p = { 0 };

	ban_host(*state, BANNED4, PERMANENT);
	pkt_eth(&p, 0, ETH_P_IP);
	pkt_ipv4(&p, BANNED4, IPPROTO_TCP);
	pkt_ipv4_options(&p, 10); /* IHL 15 */
	pkt_tcp(&p, IMAP, TH_SYN);
	pkt_finish(&p);
	expect_drop(*state, &p, REASON_DROP_BAN);
	expect_no_prefix_dropped(*state, &p);
}

static void truncated_ipv6_extension_chain_is_never_dropped(void **state)
{
	struct pkt p = { 0 };

	ban_host(*state, BANNED6, PERMANENT);
	pkt_eth(&p, 1, ETH_P_IPV6);
	pkt_ipv6(&p, BANNED6, IPPROTO_HOPOPTS);
	pkt_ipv6_ext(&p, IPPROTO_HOPOPTS, IPPROTO_ROUTING);
	pkt_ipv6_ext(&p, IPPROTO_ROUTING, IPPROTO_TCP);
	pkt_tcp(&p, IMAP, TH_SYN);
	pkt_finish(&p);
	expect_drop(*state, &p, REASON_DROP_BAN);
	expect_no_prefix_dropped(*state, &p);
}

/* ---- IPv4 header ---- */

/* NOP options read as port 257: a drop proves the port came after them. */
static void ipv4_options_are_skipped_before_tcp(void **state)
{
	ban_host(*state, BANNED4, PERMANENT);
	for (int words = 1; words <= 10; words++) {
		struct pkt p = { 0 };

		pkt_eth(&p, 0, ETH_P_IP);
		pkt_ipv4(&p, BANNED4, IPPROTO_TCP);
		pkt_ipv4_options(&p, words);
		pkt_tcp(&p, IMAP, TH_SYN);
		pkt_finish(&p);
		expect_drop(*state, &p, REASON_DROP_BAN);
	}
}

static void ipv4_ihl_below_5_is_not_judged(void **state)
{
	ban_host(*state, BANNED4, PERMANENT);
	set_scope(*state, SCOPE_ALL);
	for (int ihl = 0; ihl < 5; ihl++) {
		struct pkt p = { 0 };

		pkt_tcp_frame(&p, 0, BANNED4, IMAP, TH_SYN);
		((struct iphdr *)(p.data + p.ip_off))->ihl = ihl;
		expect_pass(*state, &p, REASON_NOT_JUDGED);
	}
}

static void ipv4_header_with_version_6_is_not_judged(void **state)
{
	struct pkt p = { 0 };

	ban_host(*state, BANNED4, PERMANENT);
	set_scope(*state, SCOPE_ALL);
	pkt_tcp_frame(&p, 0, BANNED4, IMAP, TH_SYN);
	((struct iphdr *)(p.data + p.ip_off))->version = 6;
	expect_pass(*state, &p, REASON_NOT_JUDGED);
}

static void ipv4_fragment_from(struct pkt *p, const char *source, __u16 frag_off)
{
	pkt_tcp_frame(p, 0, source, IMAP, TH_SYN);
	((struct iphdr *)(p->data + p->ip_off))->frag_off = htons(frag_off);
	pkt_finish(p);
}

static void ipv4_fragment(struct pkt *p, __u16 frag_off)
{
	ipv4_fragment_from(p, BANNED4, frag_off);
}

/* A non-first fragment has no TCP header: a TCP one is judged by its source alone. */
static void ipv4_non_first_tcp_fragment_from_banned_source_is_dropped(void **state)
{
	struct pkt p = { 0 };

	ban_host(*state, BANNED4, PERMANENT);
	ipv4_fragment(&p, 185);
	expect_drop(*state, &p, REASON_DROP_BAN);
}

static void ipv4_non_first_tcp_fragment_from_clean_source_passes(void **state)
{
	struct pkt p = { 0 };

	ban_host(*state, BANNED4, PERMANENT);
	ipv4_fragment_from(&p, CLEAN4, 185);
	expect_pass(*state, &p, REASON_PASS);
}

static void ipv4_non_first_udp_fragment_is_not_judged(void **state)
{
	struct pkt p = { 0 };

	ban_host(*state, BANNED4, PERMANENT);
	ipv4_fragment(&p, 185);
	((struct iphdr *)(p.data + p.ip_off))->protocol = IPPROTO_UDP;
	pkt_finish(&p);
	expect_pass(*state, &p, REASON_NOT_JUDGED);
}

static void ipv4_non_first_fragment_is_judged_in_scope_all(void **state)
{
	struct pkt p = { 0 };

	ban_host(*state, BANNED4, PERMANENT);
	set_scope(*state, SCOPE_ALL);
	ipv4_fragment(&p, 185);
	expect_drop(*state, &p, REASON_DROP_BAN);
}

static void ipv4_first_fragment_with_more_fragments_is_judged(void **state)
{
	struct pkt p = { 0 };

	ban_host(*state, BANNED4, PERMANENT);
	ipv4_fragment(&p, PKT_IP_MF);
	expect_drop(*state, &p, REASON_DROP_BAN);
}

/* ---- IPv6 header and extension chains ---- */

static void ipv6_header_with_version_4_is_not_judged(void **state)
{
	struct pkt p = { 0 };

	ban_host(*state, BANNED6, PERMANENT);
	set_scope(*state, SCOPE_ALL);
	pkt_tcp_frame(&p, 0, BANNED6, IMAP, TH_SYN);
	((struct ipv6hdr *)(p.data + p.ip_off))->version = 4;
	expect_pass(*state, &p, REASON_NOT_JUDGED);
}

static void ipv6_options_and_routing_before_syn_are_walked(void **state)
{
	struct pkt p = { 0 };

	ban_host(*state, BANNED6, PERMANENT);
	pkt_eth(&p, 0, ETH_P_IPV6);
	pkt_ipv6(&p, BANNED6, IPPROTO_HOPOPTS);
	pkt_ipv6_ext(&p, IPPROTO_HOPOPTS, IPPROTO_ROUTING);
	pkt_ipv6_ext(&p, IPPROTO_ROUTING, IPPROTO_DSTOPTS);
	pkt_ipv6_ext(&p, IPPROTO_DSTOPTS, IPPROTO_TCP);
	pkt_tcp(&p, IMAP, TH_SYN);
	pkt_finish(&p);
	expect_drop(*state, &p, REASON_DROP_BAN);
}

static void ipv6_auth_header_before_syn_is_walked(void **state)
{
	struct pkt p = { 0 };

	ban_host(*state, BANNED6, PERMANENT);
	pkt_eth(&p, 0, ETH_P_IPV6);
	pkt_ipv6(&p, BANNED6, IPPROTO_AH);
	pkt_ipv6_ah(&p, IPPROTO_TCP);
	pkt_tcp(&p, IMAP, TH_SYN);
	pkt_finish(&p);
	expect_drop(*state, &p, REASON_DROP_BAN);
}

static void ipv6_fragment(struct pkt *p, __u16 offset_units)
{
	pkt_eth(p, 0, ETH_P_IPV6);
	pkt_ipv6(p, BANNED6, IPPROTO_FRAGMENT);
	pkt_ipv6_frag(p, IPPROTO_TCP, offset_units, true);
	pkt_tcp(p, IMAP, TH_SYN);
	pkt_finish(p);
}

/*
 * A SYN split so the first fragment holds only part of the TCP header: the
 * receiver reassembles it into a SYN, so it is judged by its source.
 */
static void tiny_first_fragment_of_a_banned_syn_is_dropped(void **state)
{
	struct pkt p = { 0 };

	ban_host(*state, BANNED6, PERMANENT);
	ipv6_fragment(&p, 0);
	expect_bytes(*state, p.data, p.len - 12, XDP_DROP, REASON_DROP_BAN);
}

static void ipv6_first_fragment_is_judged(void **state)
{
	struct pkt p = { 0 };

	ban_host(*state, BANNED6, PERMANENT);
	ipv6_fragment(&p, 0);
	expect_drop(*state, &p, REASON_DROP_BAN);
}

static void ipv6_non_first_tcp_fragment_from_banned_source_is_dropped(void **state)
{
	struct pkt p = { 0 };

	ban_host(*state, BANNED6, PERMANENT);
	ipv6_fragment(&p, 185);
	expect_drop(*state, &p, REASON_DROP_BAN);
}

/* A SYN from a banned source behind depth destination options headers. */
static void ipv6_syn_behind_chain(struct pkt *p, int depth)
{
	pkt_eth(p, 0, ETH_P_IPV6);
	pkt_ipv6(p, BANNED6, depth ? IPPROTO_DSTOPTS : IPPROTO_TCP);
	for (int i = 1; i <= depth; i++)
		pkt_ipv6_ext(p, IPPROTO_DSTOPTS, i < depth ? IPPROTO_DSTOPTS : IPPROTO_TCP);
	pkt_tcp(p, IMAP, TH_SYN);
	pkt_finish(p);
}

static void ipv6_chain_at_depth_bound_is_judged(void **state)
{
	struct pkt p = { 0 };

	ban_host(*state, BANNED6, PERMANENT);
	ipv6_syn_behind_chain(&p, 8);
	expect_drop(*state, &p, REASON_DROP_BAN);
}

/* Too long a chain to find the TCP header in: judged by the source alone. */
static void ipv6_chain_beyond_depth_bound_is_judged_by_source(void **state)
{
	struct pkt p = { 0 };

	ban_host(*state, BANNED6, PERMANENT);
	ipv6_syn_behind_chain(&p, 9);
	expect_drop(*state, &p, REASON_DROP_BAN);
}

/* Headers after which no TCP header can be read: ESP (encrypted), No Next Header. */
static void ipv6_unwalkable_next_header(void **state, __u8 nexthdr)
{
	struct pkt p = { 0 };

	ban_host(*state, BANNED6, PERMANENT);
	pkt_eth(&p, 0, ETH_P_IPV6);
	pkt_ipv6(&p, BANNED6, nexthdr);
	pkt_tcp(&p, IMAP, TH_SYN); /* looks like a SYN, but is ciphertext or padding */
	pkt_finish(&p);
	expect_pass(*state, &p, REASON_NOT_JUDGED);
}

static void ipv6_esp_is_not_judged(void **state)
{
	ipv6_unwalkable_next_header(state, IPPROTO_ESP);
}

static void ipv6_no_next_header_is_not_judged(void **state)
{
	ipv6_unwalkable_next_header(state, IPPROTO_NONE);
}

#define TEST(name)		cmocka_unit_test_setup_teardown(name, setup, teardown)
#define TEST_UNCONFIGURED(name) cmocka_unit_test_setup_teardown(name, setup_unconfigured, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(arp_is_not_judged_even_in_scope_all),

		TEST(configured_port_set_replaces_the_defaults),
		TEST(all_ports_protects_every_port),
		TEST_UNCONFIGURED(unconfigured_protects_default_mail_ports),
		TEST_UNCONFIGURED(unconfigured_does_not_protect_port_80),
		TEST(tcp_doff_below_5_is_not_judged),

		TEST(live_exact_ban_drops),
		TEST(expired_exact_ban_passes),
		TEST(ipv4_cidr_ban_drops_as_drop_cidr),
		TEST(ipv6_cidr_ban_drops_as_drop_cidr),
		TEST(exact_ban_is_counted_before_cidr_ban),
		TEST(live_cidr_ban_drops),
		TEST(expired_cidr_ban_passes),
		TEST(expired_exact_ban_inside_live_cidr_ban_drops),
		TEST(expired_nested_cidr_ban_does_not_hide_live_outer),
		TEST(expired_ipv6_nested_cidr_ban_does_not_hide_live_outer),
		TEST(expired_cidr_bans_three_deep_do_not_hide_live_outer),
		TEST(expired_nested_inside_expired_cidr_ban_passes),

		TEST(allowlist_beats_exact_ban),
		TEST(allowlist_beats_cidr_ban),
		TEST(blocked_country_drops_and_counts_per_country),
		TEST(blocked_country_drops_ipv6),
		TEST(unblocked_country_passes),
		TEST(malformed_country_passes),
		TEST(uniform_block_is_answered_by_the_index_alone),
		TEST(uniform_ipv6_block_is_answered_by_the_index_alone),
		TEST(index_none_skips_the_trie),
		TEST(index_out_of_range_country_passes),
		TEST(ban_in_second_bucket_drops_when_its_first_has_its_bit),
		TEST(ipv6_ban_in_second_bucket_drops_when_its_first_has_its_bit),
		TEST(each_slot_answers_for_its_own_address),
		TEST(freed_slot_passes),
		TEST(full_pair_relocates_and_every_ban_still_drops),
		TEST(full_first_bucket_spills_to_the_second),
		TEST(growth_keeps_every_ban_dropping),
		TEST(expired_ipv6_ban_passes),
		TEST(allowlist_beats_ipv6_exact_ban),
		TEST(allowlist_beats_geo),

		TEST(truncated_qinq_ipv4_syn_is_never_dropped),
		TEST(truncated_ipv4_options_are_never_dropped),
		TEST(truncated_ipv6_extension_chain_is_never_dropped),

		TEST(ipv4_options_are_skipped_before_tcp),
		TEST(ipv4_ihl_below_5_is_not_judged),
		TEST(ipv4_header_with_version_6_is_not_judged),
		TEST(ipv4_non_first_tcp_fragment_from_banned_source_is_dropped),
		TEST(ipv4_non_first_tcp_fragment_from_clean_source_passes),
		TEST(ipv4_non_first_udp_fragment_is_not_judged),
		TEST(ipv4_non_first_fragment_is_judged_in_scope_all),
		TEST(ipv4_first_fragment_with_more_fragments_is_judged),

		TEST(ipv6_header_with_version_4_is_not_judged),
		TEST(ipv6_options_and_routing_before_syn_are_walked),
		TEST(ipv6_auth_header_before_syn_is_walked),
		TEST(ipv6_first_fragment_is_judged),
		TEST(ipv6_non_first_tcp_fragment_from_banned_source_is_dropped),
		TEST(tiny_first_fragment_of_a_banned_syn_is_dropped),
		TEST(ipv6_chain_at_depth_bound_is_judged),
		TEST(ipv6_chain_beyond_depth_bound_is_judged_by_source),
		TEST(ipv6_esp_is_not_judged),
		TEST(ipv6_no_next_header_is_not_judged),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_xdp: skipped: loading an XDP program needs root\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL) +
	       unit_run_table("xdp frames", frame_verdict, frame_cases, setup_row, teardown);
}
