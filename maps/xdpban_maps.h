/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The map ABI: the contract between the XDP program (bpf/) and the xdpban
 * binary (user/). Both sides include this header and nothing else crosses
 * the boundary. Changing a struct here changes the layout of pinned maps: a
 * new binary then refuses to reuse old pins instead of misreading them.
 *
 * Addresses: every map stores IPv4 and IPv6 in one 16-byte form, IPv4 as
 * IPv4-mapped IPv6 (::ffff:a.b.c.d). One map per purpose instead of a v4 and
 * a v6 twin keeps the data path and the CLI single-path; an IPv4 prefix of
 * length N is stored with prefixlen 96 + N.
 *
 * Time: deadlines are CLOCK_MONOTONIC nanoseconds. User space computes them
 * with clock_gettime(CLOCK_MONOTONIC); the program compares them with
 * bpf_ktime_get_coarse_ns(), the same clock read at tick resolution. Being
 * monotonic, setting the wall clock never expires or extends a ban. The
 * coarse read never runs ahead of the fine one, so a ban can only last up to
 * one tick (<= 4 ms) longer, never shorter; in exchange the drop path costs
 * about 22 ns less than with a clocksource read (bench/prog_cost: 98 -> 76
 * ns/packet on the development VM).
 */
#ifndef XDPBAN_MAPS_H
#define XDPBAN_MAPS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define XDPBAN_PIN_DIR "/sys/fs/bpf/xdpban"
/*
 * Raised whenever the meaning of a map's contents changes without its key
 * or value size changing, so a binary never misreads maps another version
 * made: it refuses them instead (sizes are checked separately).
 */
#define XDPBAN_ABI_VERSION 4U
/*
 * Links are pinned as link-ns<NETNS INODE>-if<IFINDEX>: by index, so a rename
 * cannot orphan them, and by network namespace, because bpffs is shared by
 * all namespaces while interface indexes are not (every namespace has its
 * own ifindex 2).
 */
#define XDPBAN_LINK_PREFIX "link-ns"
#define XDPBAN_LINK_FORMAT XDPBAN_LINK_PREFIX "%lu-if%u"

/* Map names are also their pin names under XDPBAN_PIN_DIR (max 15 chars). */
#define MAP_ALLOW_CIDR	  "allow_cidr"
#define MAP_BAN4	  "ban4"
#define MAP_BAN6	  "ban6"
#define MAP_BAN_INFO4	  "ban_info4"
#define MAP_BAN_INFO6	  "ban_info6"
#define MAP_BAN_META	  "ban_meta"
#define MAP_BAN_CIDR	  "ban_cidr"
#define MAP_GEO_PREFIX	  "geo_prefix"
#define MAP_GEO_BLOCKED	  "geo_blocked"
#define MAP_GEO_DROPS	  "geo_drops"
#define MAP_GEO_INDEX4	  "geo_index4"
#define MAP_GEO_INDEX6	  "geo_index6"
#define MAP_GEO_BLOCKS	  "geo_blocks"
#define MAP_VERDICT_STATS "verdict_stats"
#define MAP_CONFIG	  "xdpban_config"

#define BAN_ADDR_CAPACITY   1048576 /* exact-address bans of each family, at least */
#define BAN_CIDR_CAPACITY   65536
#define ALLOW_CIDR_CAPACITY 16384
#define GEO_PREFIX_CAPACITY 2097152

#define ADDR_LEN	      16
#define IPV4_MAPPED_PREFIXLEN 96

/* Two ASCII letters A-Z index a flat table: (c0 - 'A') * 26 + (c1 - 'A'). */
#define COUNTRY_SLOTS (26 * 26)

#define PORT_BITMAP_WORDS (65536 / 64)

/* Exact-address ban key: one host, IPv4-mapped for IPv4. */
struct addr_key {
	__u8 addr[ADDR_LEN];
};

/* Key of every LPM trie map; prefixlen counts bits of the 128-bit form. */
struct lpm_key {
	__u32 prefixlen;
	__u8 addr[ADDR_LEN];
};

/*
 * The exact-address ban tables: one cache line per verdict in the common
 * case. A hash map of 1M bans costs three dependent misses per random source
 * (its bucket array, the element, a filter in front); these tables are
 * arrays of 64-byte buckets (one line each) that the program reads at the
 * index a keyed hash gives, so a source that is banned, or not, costs the
 * read of that one line.
 *
 * Every address has two buckets (two-choice hashing). User space puts a ban
 * in its first bucket while that has room, else in its second, and when both
 * are full it relocates entries along their own second choices (a cuckoo
 * walk) until a slot frees: a live ban is never evicted to make room. A
 * bucket's spill counts the entries whose first choice it is but which live
 * in their second, and its spill_filter holds one bit of each of them
 * (ban_spill_bit4/6, from hash bits no bucket index uses). A lookup that
 * misses in the first bucket reads the second only when the address's own
 * bit is set there: at 1M bans 10% (IPv4) and 28% (IPv6) of first buckets
 * hold a spilled entry, but 0.48% and 2.4% of misses read a second line. A
 * bit is set before its entry moves out and cleared only with the last
 * spilled entry (or at a recount), so the filter never lacks an entry; a
 * bit left by an entry that has gone costs a read, never a ban. (Map ABI 2
 * had the count alone, and read the second bucket whenever it was not
 * zero; its tables are copied and recounted on attach.)
 *
 * The hash is keyed by a secret seed drawn when the tables are created
 * (ban_meta), so nobody can pick addresses that crowd one bucket pair.
 *
 * The arrays are allocated at their largest, but only the first 2^log2
 * buckets are in use, 2^log2 sized to about 16 bytes per ban: 10k bans
 * touch 256 KB, not 16 MB, so a flood's lines stay in cache and its pages
 * in the TLB. User space doubles a table when it passes that load: every
 * entry's buckets under the new size are its old ones or those plus the old
 * size, so it copies the entries that move to the new half, switches log2,
 * and (after a grace period longer than any program run) clears the old
 * copies: a lookup finds every ban under either size.
 *
 * Deadlines are CLOCK_MONOTONIC in units of 2^BAN_TICK_SHIFT ns (0.27 s),
 * rounded up, so a ban lasts up to that much longer, never shorter; 32 bits
 * of them span 36 years of uptime. 0 marks a free slot (always expired),
 * BAN_DEADLINE_PERMANENT a ban without end. An expired slot is free too.
 *
 * User space writes the tables through mmap (BPF_F_MMAPABLE) in an order the
 * program can read at any moment: a slot's deadline is cleared before its
 * address changes and set after, an entry is copied before it is removed
 * from where it was, and a spill is counted before the entry moves out.
 * What only user space reads (when a ban was made, by whom) lives in the
 * ban_info tables, one entry per bucket: the program never touches them.
 */
#define BAN4_SLOTS 7
#define BAN6_SLOTS 3
/* At most 16 MB, 1,835,008 slots: 57% full at 1,048,576 bans. */
#define BAN4_BUCKETS (1U << 18)
/* At most 32 MB, 1,572,864 slots: 67% full at 1,048,576 bans. */
#define BAN6_BUCKETS	       (1U << 19)
#define BAN_LOG2_MIN	       10 /* the fewest buckets in use: 64 KB */
#define BAN_TICK_SHIFT	       28
#define BAN_DEADLINE_FREE      0U
#define BAN_DEADLINE_PERMANENT 0xffffffffU

struct ban4_bucket {
	__u8 addr[BAN4_SLOTS][4]; /* bytes, as written: bpftool shows [192,0,2,1] */
	__u32 deadline[BAN4_SLOTS];
	__u32 spill;	    /* entries of this first choice living in their second */
	__u32 spill_filter; /* the ban_spill_bit4() of each of them */
};

struct ban6_addr {
	__u8 bytes[ADDR_LEN];
};

struct ban6_bucket {
	struct ban6_addr addr[BAN6_SLOTS];
	__u32 deadline[BAN6_SLOTS];
	__u16 spill; /* as in ban4_bucket, staying at BAN_SPILL6_MAX once there */
	__u16 spill_filter;
};

#define BAN_SPILL4_MAX 0xffffffffU
#define BAN_SPILL6_MAX 0xffffU

/* Per bucket, what user space alone reads: by slot (IPv6 uses the first BAN6_SLOTS). */
struct ban_info {
	__u32 created_unix[BAN4_SLOTS]; /* wall-clock seconds when banned */
	/* ns before its deadline the ban was asked to end: user space shows that end */
	__u32 early_ns[BAN4_SLOTS];
	__u8 origin[BAN4_SLOTS]; /* enum ban_origin */
	__u8 reserved;
};

struct ban_meta {
	__u64 seed;   /* the hash key, drawn from getrandom() when the tables are made */
	__u32 log2_4; /* ban4 buckets in use: 2^log2_4 */
	__u32 log2_6; /* ban6 buckets in use */
	__u32 used4;  /* bans in ban4, expired ones included (user space's count) */
	__u32 used6;
};

/* MurmurHash3's 64-bit finaliser: every input bit moves every output bit. */
static inline __u64 ban_mix(__u64 h)
{
	h = (h ^ (h >> 33)) * 0xff51afd7ed558ccdULL;
	h = (h ^ (h >> 33)) * 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

/*
 * Both buckets of a key hash: its low and its high half, masked to the
 * buckets in use (rarely the same bucket: then the address has one choice).
 */
static inline __u32 ban_first_bucket(__u64 hash, __u32 mask)
{
	return (__u32)hash & mask;
}

static inline __u32 ban_second_bucket(__u64 hash, __u32 mask)
{
	return (__u32)(hash >> 32) & mask;
}

/* The mask of the buckets in use, never beyond the array (the verifier checks). */
static inline __u32 ban_mask(__u32 log2, __u32 max_buckets)
{
	return ((1U << (log2 & 31)) - 1) & (max_buckets - 1);
}

/*
 * The spill_filter bit of an address: the hash's top bits, which no bucket
 * index uses (the second bucket takes bits 32 to 50 at most).
 */
static inline __u32 ban_spill_bit4(__u64 hash)
{
	return 1U << (hash >> 59);
}

static inline __u32 ban_spill_bit6(__u64 hash)
{
	return 1U << (hash >> 60);
}

static inline __u64 ban_hash4(__be32 addr, const struct ban_meta *meta)
{
	return ban_mix(addr ^ meta->seed);
}

static inline __u64 ban_hash6(const __u8 *addr, const struct ban_meta *meta)
{
	__u64 words[2];

	__builtin_memcpy(words, addr, sizeof(words));
	return ban_mix(ban_mix(words[0] ^ meta->seed) ^ words[1]);
}

/* Who put a ban in place; informational, shown by `xdpban list`. */
enum ban_origin {
	BAN_ORIGIN_MANUAL = 0,	 /* xdpban ban */
	BAN_ORIGIN_IP_RULE = 1,	 /* daemon: too many failures from one IP */
	BAN_ORIGIN_RESTORED = 2, /* restored from the persistent store */
};

struct ban_entry {
	__u64 expires_ns;   /* CLOCK_MONOTONIC deadline; 0 means permanent */
	__u64 created_unix; /* wall-clock seconds when banned, informational */
	/*
	 * Length of the prefix this entry was stored under. The LPM lookup
	 * returns only the longest match; when that entry has expired, the
	 * program looks again one bit shorter so an expired /32 inside a live
	 * /24 cannot hide the /24.
	 */
	__u32 prefixlen;
	__u32 origin; /* enum ban_origin */
};

struct allow_entry {
	__u64 created_unix;
	__u32 prefixlen; /* of its key: an LPM lookup returns the covering entry */
	__u32 reserved;
};

/*
 * The geo fast path. An LPM walk over the whole world costs a cache miss per
 * trie level when sources are random (a spoofed flood). Most /16 blocks
 * belong to one country or to none, so a direct-indexed table by the first
 * 16 bits (of the IPv4 address, or of the IPv6 address) answers most lookups
 * in one access. A block split between countries points to a 256-entry
 * block of the next 8 bits (IPv4 /24; IPv6 /24, /32, then /40), and only
 * what is still split there falls back to the trie. The trie stays the
 * source of truth; user space derives the index from it.
 *
 * One encoding for every entry, first level and blocks alike:
 */
#define GEO_INDEX_BUCKETS 65536
#define GEO_INDEX_NONE	  0 /* no country owns any address of the range */
/* 1 .. COUNTRY_SLOTS: 1 + the country slot owning the whole range */
#define GEO_INDEX_BLOCK_FIRST 0x1000 /* GEO_INDEX_BLOCK_FIRST + N: see geo_blocks[N] */
#define GEO_INDEX_MIXED	      0xffff /* look the address up in geo_prefix */
#define GEO_INDEX_LEVELS4     1	     /* block levels below the first: IPv4 /24 */
#define GEO_INDEX_LEVELS6     3	     /* IPv6 /24, /32 and /40 */
/*
 * Blocks come in two halves: an update writes its blocks into the half the
 * first level does not point to, then switches the first level over. Each
 * half has 30,719 blocks, as many as the encoding can name (31 MB in all):
 * the world database (tor-geoipdb) with every country but one blocked takes
 * 24,185, and map ABI 3's halves of 16,384 left 15% of that country's IPv6
 * space to the trie.
 */
#define GEO_BLOCK_CAPACITY ((GEO_INDEX_MIXED - GEO_INDEX_BLOCK_FIRST) / 2 * 2)

struct geo_index_entry {
	__u32 country; /* the encoding above */
};

struct geo_index_block {
	__u16 entry[256]; /* by the next byte of the address; the encoding above */
};

/* Country of a geo prefix: two upper-case letters and a NUL, so bpftool prints a string. */
struct geo_entry {
	char country[4];
};

struct geo_policy {
	__u32 blocked; /* 1: drop judged packets from this country */
};

/*
 * The path summary: one small entry per /16 (of the IPv4 address; of the
 * first 16 bits of an IPv6 one) saying which of the allowlist, the CIDR
 * bans and the geo index can apply there, so that a source nothing applies
 * to costs one read of a 512 KB array instead of three trie walks. Zero
 * means "look everything up", exactly what the program did without it, so
 * a fresh or stale-looking entry is never wrong, only slower: user space
 * clears a flag before it adds what the flag skips, sets flags only from
 * the tries as they are after a change, and sends a /16's geo entry
 * through zero while the geo index changes under it
 * (user/kernel/path_summary.c).
 */
#define MAP_PATH_SUM4	     "path_sum4"
#define MAP_PATH_SUM6	     "path_sum6"
#define MAP_PATH_CIDR4	     "path_cidr4"
#define PATH_SUMMARY_BUCKETS 65536
/*
 * The three maps are memory-mapped (BPF_F_MMAPABLE): user space reads them
 * in one copy and changes an entry with one aligned 4-byte store. (An array
 * map rounds each value up to 8 bytes; packing 16 entries to a line halved
 * the array but cost every verdict about 40 ns in bench/prog_cost.)
 */
#define PATH_NO_ALLOW 0x1 /* no allowlist entry meets this /16 */
#define PATH_NO_CIDR  0x2 /* no CIDR ban meets this /16 */
#define PATH_ONE_CIDR 0x4 /* IPv4: exactly one does, and path_cidr4 holds it */

struct path_summary {
	/*
	 * 0: read the geo index as before; otherwise 1 + the geo index's
	 * first-level entry of this /16 (NONE, 1 + a country slot, or a block
	 * reference), so the program starts below the first level.
	 */
	__u16 geo;
	__u8 flags; /* PATH_* */
	__u8 reserved;
};

/*
 * The one CIDR ban meeting an IPv4 /16 (PATH_ONE_CIDR): being the only one,
 * it decides alone (no nested bans to look past), without the trie. Written
 * only while the flag is clear, so the program never reads it half-written.
 */
struct path_cidr {
	__u64 expires_ns; /* the ban's deadline, as in struct ban_entry; 0 = permanent */
	__u32 net;	  /* the IPv4 network, host order, host bits zero */
	__u32 prefixlen;  /* IPv4 bits, 0..32 */
};

/* Which packets the program judges at all. */
enum judge_scope {
	SCOPE_SYN = 0, /* TCP SYN without ACK to a protected port (default) */
	SCOPE_ALL = 1, /* every IPv4/IPv6 packet, any protocol and port */
};

/* The mail ports (SMTP, POP3, IMAP, SMTPS, submission, IMAPS, POP3S, ManageSieve). */
#define DEFAULT_PROTECTED_PORTS                                                                    \
	{                                                                                          \
		25, 110, 143, 465, 587, 993, 995, 4190                                             \
	}

struct xdpban_config {
	/*
	 * 0 until user space first writes the config; until then the program
	 * protects DEFAULT_PROTECTED_PORTS, so a fresh map is never "no ports".
	 */
	__u32 initialized;
	__u32 scope;			/* enum judge_scope */
	__u32 all_ports;		/* 1: every TCP port is protected */
	__u32 abi_version;		/* XDPBAN_ABI_VERSION of the xdpban that created the maps */
	__u64 ports[PORT_BITMAP_WORDS]; /* bit N set: TCP port N is protected */
};

/* Verdict reasons: the index of verdict_stats. */
enum verdict_reason {
	REASON_PASS = 0,       /* judged, no ban matched */
	REASON_DROP_BAN = 1,   /* exact-address ban */
	REASON_DROP_CIDR = 2,  /* CIDR ban */
	REASON_DROP_GEO = 3,   /* blocked country */
	REASON_PASS_ALLOW = 4, /* allowlisted source */
	REASON_NOT_JUDGED = 5, /* outside the scope, or not parsable */
	REASON_COUNT,
};

struct verdict_counter {
	__u64 packets;
	__u64 bytes;
};

#endif /* XDPBAN_MAPS_H */
