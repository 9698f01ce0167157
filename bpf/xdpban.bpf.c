// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xdpban's XDP program: drops connection attempts from banned addresses,
 * banned CIDR ranges and blocked countries before the kernel allocates
 * anything for them.
 *
 * Decision order: allowlist -> exact ban -> CIDR ban -> geo -> pass. The
 * path summary of the source's /16, read first, says which of the
 * allowlist, CIDR and geo lookups can be skipped there.
 * Ban deadlines are enforced here, against the kernel clock, so an expired
 * ban stops dropping even when no user-space process runs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "xdpban_maps.h"
#include "parsing.h"

/* How many nested, expired CIDR bans the program looks past. */
#define CIDR_EXPIRED_RETRIES 8

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, ALLOW_CIDR_CAPACITY);
	__type(key, struct lpm_key);
	__type(value, struct allow_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} allow_cidr SEC(".maps");

/* The exact-address ban tables (see the map ABI): written by user space through mmap. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BAN4_BUCKETS);
	__type(key, __u32);
	__type(value, struct ban4_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ban4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BAN6_BUCKETS);
	__type(key, __u32);
	__type(value, struct ban6_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ban6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BAN4_BUCKETS);
	__type(key, __u32);
	__type(value, struct ban_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ban_info4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BAN6_BUCKETS);
	__type(key, __u32);
	__type(value, struct ban_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ban_info6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ban_meta);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ban_meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, BAN_CIDR_CAPACITY);
	__type(key, struct lpm_key);
	__type(value, struct ban_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ban_cidr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, GEO_PREFIX_CAPACITY);
	__type(key, struct lpm_key);
	__type(value, struct geo_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} geo_prefix SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GEO_INDEX_BUCKETS);
	__type(key, __u32);
	__type(value, struct geo_index_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} geo_index4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GEO_INDEX_BUCKETS);
	__type(key, __u32);
	__type(value, struct geo_index_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} geo_index6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GEO_BLOCK_CAPACITY);
	__type(key, __u32);
	__type(value, struct geo_index_block);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} geo_blocks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, COUNTRY_SLOTS);
	__type(key, __u32);
	__type(value, struct geo_policy);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} geo_blocked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, PATH_SUMMARY_BUCKETS);
	__type(key, __u32);
	__type(value, struct path_summary);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} path_sum4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, PATH_SUMMARY_BUCKETS);
	__type(key, __u32);
	__type(value, struct path_summary);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} path_sum6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, PATH_SUMMARY_BUCKETS);
	__type(key, __u32);
	__type(value, struct path_cidr);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} path_cidr4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNTRY_SLOTS);
	__type(key, __u32);
	__type(value, struct verdict_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} geo_drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, REASON_COUNT);
	__type(key, __u32);
	__type(value, struct verdict_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} verdict_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpban_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpban_config SEC(".maps");

/* The clock is read at most once per packet, and only when an entry was found. */
struct lazy_clock {
	__u64 now;
};

static __always_inline bool ban_expired(const struct ban_entry *ban, struct lazy_clock *clock)
{
	if (ban->expires_ns == 0)
		return false;
	if (clock->now == 0)
		clock->now = bpf_ktime_get_coarse_ns();
	return ban->expires_ns <= clock->now;
}

static __always_inline void count(__u32 reason, __u64 bytes)
{
	struct verdict_counter *counter = bpf_map_lookup_elem(&verdict_stats, &reason);

	if (!counter)
		return;
	counter->packets++;
	counter->bytes += bytes;
}

static __always_inline bool default_port(__u16 port)
{
	const __u16 defaults[] = DEFAULT_PROTECTED_PORTS;

#pragma unroll
	for (int i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		if (defaults[i] == port)
			return true;
	}
	return false;
}

static __always_inline bool port_protected(const struct xdpban_config *cfg, __u16 port)
{
	if (!cfg->initialized)
		return default_port(port);
	if (cfg->all_ports)
		return true;
	return cfg->ports[port / 64] & (1ULL << (port % 64));
}

static __always_inline bool in_scope(const struct xdpban_config *cfg, const struct packet_info *pkt)
{
	if (cfg->scope == SCOPE_ALL || pkt->tcp_hidden)
		return true;
	if (!pkt->tcp_parsed)
		return false;
	if ((pkt->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) != TCP_FLAG_SYN)
		return false;
	return port_protected(cfg, pkt->tcp_dport);
}

/* A slot holding the address: live unless its deadline passed (a free slot never is). */
static __always_inline bool slot_live(__u32 deadline, struct lazy_clock *clock)
{
	if (deadline == BAN_DEADLINE_PERMANENT)
		return true;
	if (clock->now == 0)
		clock->now = bpf_ktime_get_coarse_ns();
	return deadline > clock->now >> BAN_TICK_SHIFT;
}

/*
 * All ones when the two words are equal, else zero, without a branch: which
 * slot holds a banned address is random, and a mispredicted compare after
 * the bucket's cache miss costs more than the miss overlapping the next
 * packet's would save.
 */
static __always_inline __u32 equal_mask(__u32 a, __u32 b)
{
	__u64 diff = a ^ b;

	return (diff - 1) >> 32;
}

/*
 * The deadline of the bucket's slot holding the address, BAN_DEADLINE_FREE
 * if none does. User space keeps an address in one non-free slot of a
 * bucket at most, so at most one term is not zero.
 */
static __always_inline __u32 ban4_deadline_in(const struct ban4_bucket *bucket, __be32 addr)
{
	__u32 deadline = BAN_DEADLINE_FREE;

#pragma unroll
	for (int i = 0; i < BAN4_SLOTS; i++) {
		__be32 slot;

		__builtin_memcpy(&slot, bucket->addr[i], sizeof(slot));
		deadline |= bucket->deadline[i] & equal_mask(slot, addr);
	}
	return deadline;
}

/* What a bucket's deadline for the address says: 1 banned, 0 not, -1 not held there. */
static __always_inline int bucket_verdict(__u32 deadline, struct lazy_clock *clock)
{
	if (deadline == BAN_DEADLINE_FREE)
		return -1;
	return slot_live(deadline, clock);
}

/* The bucket tables' seed and sizes; NULL only if the map is unreadable. */
static __always_inline const struct ban_meta *ban_meta_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ban_meta, &zero);
}

/*
 * A live exact-address ban of the IPv4 source: one bucket, and the second
 * only when the first's spill filter has the source's bit.
 */
static __always_inline bool ban4_banned(__be32 addr, struct lazy_clock *clock)
{
	const struct ban_meta *meta = ban_meta_get();
	struct ban4_bucket *bucket;
	__u32 mask, index;
	__u64 hash;
	int found;

	if (!meta)
		return false;
	hash = ban_hash4(addr, meta);
	mask = ban_mask(meta->log2_4, BAN4_BUCKETS);
	index = ban_first_bucket(hash, mask);
	bucket = bpf_map_lookup_elem(&ban4, &index);
	if (!bucket)
		return false;
	found = bucket_verdict(ban4_deadline_in(bucket, addr), clock);
	if (found >= 0 || !(bucket->spill_filter & ban_spill_bit4(hash)))
		return found > 0;
	index = ban_second_bucket(hash, mask);
	bucket = bpf_map_lookup_elem(&ban4, &index);
	return bucket && bucket_verdict(ban4_deadline_in(bucket, addr), clock) > 0;
}

/* All ones when the slot holds the address, else zero, without a branch (see equal_mask). */
static __always_inline __u32 equal_mask6(const struct ban6_addr *slot, const __u8 *addr)
{
	const __u64 *a = (const __u64 *)slot->bytes, *b = (const __u64 *)addr;
	__u64 diff = (a[0] ^ b[0]) | (a[1] ^ b[1]);

	return (__u32)(((diff | -diff) >> 63) - 1);
}

/* As ban4_deadline_in, for the IPv6 bucket. */
static __always_inline __u32 ban6_deadline_in(const struct ban6_bucket *bucket, const __u8 *addr)
{
	__u32 deadline = BAN_DEADLINE_FREE;

#pragma unroll
	for (int i = 0; i < BAN6_SLOTS; i++)
		deadline |= bucket->deadline[i] & equal_mask6(&bucket->addr[i], addr);
	return deadline;
}

static __always_inline bool ban6_banned(const __u8 *addr, struct lazy_clock *clock)
{
	const struct ban_meta *meta = ban_meta_get();
	struct ban6_bucket *bucket;
	__u32 mask, index;
	__u64 hash;
	int found;

	if (!meta)
		return false;
	hash = ban_hash6(addr, meta);
	mask = ban_mask(meta->log2_6, BAN6_BUCKETS);
	index = ban_first_bucket(hash, mask);
	bucket = bpf_map_lookup_elem(&ban6, &index);
	if (!bucket)
		return false;
	found = bucket_verdict(ban6_deadline_in(bucket, addr), clock);
	if (found >= 0 || !(bucket->spill_filter & ban_spill_bit6(hash)))
		return found > 0;
	index = ban_second_bucket(hash, mask);
	bucket = bpf_map_lookup_elem(&ban6, &index);
	return bucket && bucket_verdict(ban6_deadline_in(bucket, addr), clock) > 0;
}

/* The tries' key of an IPv4 address: IPv4-mapped, the form every trie holds. */
static __always_inline void lpm_key_ipv4(struct lpm_key *key, __be32 addr)
{
	__u32 *words = (__u32 *)key->addr;

	key->prefixlen = ADDR_LEN * 8;
	words[0] = 0;
	words[1] = 0;
	words[2] = bpf_htonl(0xffff);
	words[3] = addr;
}

/* A live CIDR ban covers the address; looks past expired, more specific ones. */
static __always_inline bool cidr_banned(const struct lpm_key *host, struct lazy_clock *clock)
{
	struct lpm_key key = *host;

#pragma unroll
	for (int i = 0; i < CIDR_EXPIRED_RETRIES; i++) {
		struct ban_entry *ban = bpf_map_lookup_elem(&ban_cidr, &key);

		if (!ban)
			return false;
		if (!ban_expired(ban, clock))
			return true;
		if (ban->prefixlen == 0 || ban->prefixlen > key.prefixlen)
			return false;
		key.prefixlen = ban->prefixlen - 1;
	}
	return false;
}

static __always_inline bool cidr4_banned(__be32 addr, struct lazy_clock *clock)
{
	struct lpm_key host;

	lpm_key_ipv4(&host, addr);
	return cidr_banned(&host, clock);
}

static __always_inline int country_slot(const struct geo_entry *geo)
{
	char c0 = geo->country[0], c1 = geo->country[1];

	if (c0 < 'A' || c0 > 'Z' || c1 < 'A' || c1 > 'Z')
		return -1;
	return (c0 - 'A') * 26 + (c1 - 'A');
}

/* Anything but NONE, a country or a block reference asks the trie: never a wrong answer. */
static __always_inline __u32 geo_index_sane(__u32 entry)
{
	if (entry <= COUNTRY_SLOTS)
		return entry;
	if (entry >= GEO_INDEX_BLOCK_FIRST && entry < GEO_INDEX_MIXED)
		return entry;
	return GEO_INDEX_MIXED;
}

/*
 * The first-level entry of the address's /16: from the path summary when it
 * has it (1 + the entry), else from the family's index.
 */
static __always_inline __u32 geo_first_level(void *index, __u32 bucket, __u16 summary_geo)
{
	struct geo_index_entry *entry;

	if (summary_geo)
		return summary_geo - 1U;
	entry = bpf_map_lookup_elem(index, &bucket);
	return entry ? entry->country : GEO_INDEX_MIXED;
}

/*
 * Follows the index from its first-level entry down `levels` block levels
 * (bytes 2, 3... of the address pick the entries): NONE, 1 + a country
 * slot, or MIXED.
 */
static __always_inline __u32 geo_index_walk(const __u8 *bytes, int levels, __u32 first)
{
	__u32 entry = geo_index_sane(first);

#pragma unroll
	for (int level = 0; level < GEO_INDEX_LEVELS6; level++) {
		struct geo_index_block *block;
		__u32 number;

		if (entry < GEO_INDEX_BLOCK_FIRST || entry >= GEO_INDEX_MIXED)
			return entry;
		if (level >= levels)
			break;
		number = entry - GEO_INDEX_BLOCK_FIRST;
		block = bpf_map_lookup_elem(&geo_blocks, &number);
		if (!block)
			return GEO_INDEX_MIXED;
		entry = geo_index_sane(block->entry[bytes[2 + level]]);
	}
	return entry < GEO_INDEX_BLOCK_FIRST ? entry : GEO_INDEX_MIXED;
}

/* The country slot the trie gives the address, -1 for none: for what the index leaves MIXED. */
static __always_inline int geo_trie_country(const struct lpm_key *host)
{
	struct geo_entry *geo = bpf_map_lookup_elem(&geo_prefix, host);

	return geo ? country_slot(geo) : -1;
}

/* The country is blocked; counts the drop per country. */
static __always_inline bool geo_blocked_country(int found, __u64 bytes)
{
	struct geo_policy *policy;
	struct verdict_counter *drops;
	__u32 slot;

	if (found < 0 || found >= COUNTRY_SLOTS)
		return false;
	slot = found;
	policy = bpf_map_lookup_elem(&geo_blocked, &slot);
	if (!policy || !policy->blocked)
		return false;
	drops = bpf_map_lookup_elem(&geo_drops, &slot);
	if (drops) {
		drops->packets++;
		drops->bytes += bytes;
	}
	return true;
}

static __always_inline bool geo4_blocked(__be32 addr, __u32 bucket, __u16 summary_geo, __u64 bytes)
{
	__u32 first = geo_first_level(&geo_index4, bucket, summary_geo);
	__u32 indexed = geo_index_walk((const __u8 *)&addr, GEO_INDEX_LEVELS4, first);
	struct lpm_key host;

	if (indexed != GEO_INDEX_MIXED)
		return geo_blocked_country((int)indexed - 1, bytes); /* NONE becomes -1 */
	lpm_key_ipv4(&host, addr);
	return geo_blocked_country(geo_trie_country(&host), bytes);
}

/* The path summary of a /16; all zeros (look everything up) when unreadable. */
static __always_inline struct path_summary path_summary_at(void *summaries, __u32 bucket)
{
	struct path_summary *found = bpf_map_lookup_elem(summaries, &bucket), none = {};

	return found ? *found : none;
}

/* The /16's only CIDR ban (PATH_ONE_CIDR) covers the IPv4 address and is live. */
static __always_inline bool one_cidr_banned(__be32 addr, __u32 bucket, struct lazy_clock *clock)
{
	struct path_cidr *one = bpf_map_lookup_elem(&path_cidr4, &bucket);
	__u32 mask, len;
	struct ban_entry ban;

	if (!one || one->prefixlen > 32)
		return cidr4_banned(addr, clock); /* never trust a malformed entry */
	len = one->prefixlen;
	mask = len ? ~0U << (32 - len) : 0;
	if ((bpf_ntohl(addr) ^ one->net) & mask)
		return false;
	ban.expires_ns = one->expires_ns;
	return !ban_expired(&ban, clock);
}

/* A live CIDR ban covers the IPv4 address: the summary says where to look. */
static __always_inline bool cidr4_applies(__be32 addr, struct path_summary summary, __u32 bucket,
					  struct lazy_clock *clock)
{
	if (summary.flags & PATH_NO_CIDR)
		return false;
	if (summary.flags & PATH_ONE_CIDR)
		return one_cidr_banned(addr, bucket, clock);
	return cidr4_banned(addr, clock);
}

static __always_inline bool allowed4(__be32 addr)
{
	struct lpm_key host;

	lpm_key_ipv4(&host, addr);
	return bpf_map_lookup_elem(&allow_cidr, &host);
}

/*
 * An IPv4 source (also one an IPv6 packet carries IPv4-mapped), judged on
 * its 32 bits: the tries' 128-bit key is built only when a trie is asked.
 */
static __always_inline __u32 judge_ipv4(__be32 addr, __u64 bytes)
{
	__u32 bucket = bpf_ntohl(addr) >> 16;
	struct path_summary summary = path_summary_at(&path_sum4, bucket);
	struct lazy_clock clock = {};

	if (!(summary.flags & PATH_NO_ALLOW) && allowed4(addr))
		return REASON_PASS_ALLOW;
	if (ban4_banned(addr, &clock))
		return REASON_DROP_BAN;
	if (cidr4_applies(addr, summary, bucket, &clock))
		return REASON_DROP_CIDR;
	if (geo4_blocked(addr, bucket, summary.geo, bytes))
		return REASON_DROP_GEO;
	return REASON_PASS;
}

static __always_inline __u32 judge_ipv6(const struct addr_key *src, __u64 bytes)
{
	__u32 bucket = (__u32)src->addr[0] << 8 | src->addr[1];
	struct path_summary summary = path_summary_at(&path_sum6, bucket);
	struct lpm_key host = { .prefixlen = ADDR_LEN * 8 };
	struct lazy_clock clock = {};
	__u32 first, indexed;
	int country;

	if (summary.flags & PATH_ONE_CIDR)
		summary = (struct path_summary){}; /* IPv4 only: never trust it here */
	__builtin_memcpy(host.addr, src->addr, ADDR_LEN);
	if (!(summary.flags & PATH_NO_ALLOW) && bpf_map_lookup_elem(&allow_cidr, &host))
		return REASON_PASS_ALLOW;
	if (ban6_banned(src->addr, &clock))
		return REASON_DROP_BAN;
	if (!(summary.flags & PATH_NO_CIDR) && cidr_banned(&host, &clock))
		return REASON_DROP_CIDR;
	first = geo_first_level(&geo_index6, bucket, summary.geo);
	indexed = geo_index_walk(src->addr, GEO_INDEX_LEVELS6, first);
	country = indexed != GEO_INDEX_MIXED ? (int)indexed - 1 : geo_trie_country(&host);
	if (geo_blocked_country(country, bytes))
		return REASON_DROP_GEO;
	return REASON_PASS;
}

/* The whole verdict for one frame; bench/ wraps it to feed it random sources. */
static __always_inline int xdpban_verdict(struct xdp_md *ctx)
{
	__u64 bytes = ctx->data_end - ctx->data;
	struct packet_info pkt = {};
	struct xdpban_config *cfg;
	__u32 zero = 0, reason;

	cfg = bpf_map_lookup_elem(&xdpban_config, &zero);
	if (!cfg || parse_packet(ctx, &pkt) || !in_scope(cfg, &pkt)) {
		count(REASON_NOT_JUDGED, bytes);
		return XDP_PASS;
	}

	reason = pkt.ipv4 ? judge_ipv4(pkt.src4, bytes) : judge_ipv6(&pkt.src, bytes);
	count(reason, bytes);
	switch (reason) {
	case REASON_DROP_BAN:
	case REASON_DROP_CIDR:
	case REASON_DROP_GEO:
		return XDP_DROP;
	default:
		return XDP_PASS;
	}
}

SEC("xdp")
int xdpban(struct xdp_md *ctx)
{
	return xdpban_verdict(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
