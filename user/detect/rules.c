// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "detect/rules.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include "lib/clock.h"
#include "lib/cidr.h"
#include "lib/siphash.h"

#define PAGE_BYTES 4096
#define CACHELINE  64
/* A permanent ban, restored: far enough that adding the forget time cannot wrap. */
#define RULES_PERMANENT_NS (UINT64_MAX / 2)

enum table_kind {
	TABLE_IPS,
	TABLE_ACCOUNTS,
	TABLE_BLOCKS,
	TABLE_OFFENDERS,
	TABLE_KINDS,
};

/*
 * A fixed set-associative table: slot i of set s is i = s * WAYS + way.
 * tags[i] is 0 for a free slot, else 32 bits of the key's hash (never 0);
 * the entry's first 16 bytes are its key.
 */
struct table {
	unsigned char *slots;
	uint32_t *tags;
	uint32_t nsets;
	uint32_t stride;
	uint32_t live;
	enum table_kind kind;
	uint64_t evictions;
};

/*
 * Entry layouts. A source: ts[K] (oldest first), then pw[K] (distinct_passwords
 * only), then acct[K] (32-bit account tags, 0 = no user). An account: ts[K],
 * src[K], pw[K] (distinct_passwords only), then the distinct-source tracker
 * tsrc[M] and tts[M], most recently seen first.
 */
struct ip_entry {
	uint8_t key[ADDR_LEN];
	uint32_t n;
	uint32_t reserved;
	uint64_t data[];
};

struct account_entry {
	uint8_t key[ADDR_LEN]; /* the 128-bit digest of the folded name */
	uint32_t n;
	uint32_t m;
	uint64_t data[];
};

struct block_entry {
	uint8_t key[ADDR_LEN];
	uint64_t deadline_ns;
};

struct offender_entry {
	uint8_t key[ADDR_LEN];
	uint64_t banned_until_ns;
	uint32_t bans;
	uint32_t reserved;
};

struct layout {
	size_t stride[TABLE_KINDS];
	uint32_t nsets[TABLE_KINDS];
	size_t tags_off[TABLE_KINDS], slots_off[TABLE_KINDS];
	size_t total; /* page-rounded */
};

struct rules {
	struct rules_config cfg;
	struct siphash_key key_src, key_account, key_pw;
	uint64_t ip_window_ns, account_window_ns, forget_ns;
	unsigned int ip_k, acct_k, acct_m; /* ring and tracker sizes, >= 1 */
	bool hashes;
	struct table tables[TABLE_KINDS];
	size_t mapped;
	struct rules_counters counters;
	uint64_t now_ns;	  /* the latest now_ns given, for the saturation flag */
	uint64_t rich_evicted_ns; /* when an account with 2+ sources was last evicted */
	uint64_t admission_draws; /* the lottery's state (account_insert), random at first */
};

/* One ring of failure times with up to three parallel arrays, oldest first. */
struct ring {
	uint32_t *n;
	unsigned int k;
	uint64_t *ts;
	uint64_t *pw;	 /* NULL unless distinct_passwords */
	uint64_t *tag64; /* accounts: source of each failure */
	uint32_t *tag32; /* sources: account of each failure */
};

static size_t round_up(size_t value, size_t to)
{
	return (value + to - 1) / to * to;
}

static unsigned int at_least_one(unsigned int value)
{
	return value ? value : 1;
}

static size_t ip_stride(unsigned int k, bool hashes)
{
	return round_up(sizeof(struct ip_entry) + 8 * k + (hashes ? 8 * k : 0) + 4 * k, 8);
}

static size_t account_stride(unsigned int k, unsigned int m, bool hashes)
{
	return sizeof(struct account_entry) + 16 * k + (hashes ? 8 * k : 0) + 16 * m;
}

static void compute_layout(const struct rules_config *cfg, struct layout *lay)
{
	size_t capacity[TABLE_KINDS] = {
		cfg->max_tracked_ips,
		cfg->max_tracked_accounts,
		cfg->max_blocks,
		cfg->max_offenders,
	};
	size_t off = round_up(sizeof(struct rules), CACHELINE);

	lay->stride[TABLE_IPS] = ip_stride(at_least_one(cfg->ip_failures), cfg->distinct_passwords);
	lay->stride[TABLE_ACCOUNTS] =
	    account_stride(at_least_one(cfg->account_failures), at_least_one(cfg->account_min_ips),
			   cfg->distinct_passwords);
	lay->stride[TABLE_BLOCKS] = sizeof(struct block_entry);
	lay->stride[TABLE_OFFENDERS] = sizeof(struct offender_entry);
	for (int t = 0; t < TABLE_KINDS; t++) {
		size_t slots;

		lay->nsets[t] =
		    (at_least_one(capacity[t]) + RULES_TABLE_WAYS - 1) / RULES_TABLE_WAYS;
		slots = (size_t)lay->nsets[t] * RULES_TABLE_WAYS;
		lay->tags_off[t] = off;
		off = round_up(off + slots * sizeof(uint32_t), CACHELINE);
		lay->slots_off[t] = off;
		off = round_up(off + slots * lay->stride[t], CACHELINE);
	}
	lay->total = round_up(off, PAGE_BYTES);
}

void rules_config_default(struct rules_config *cfg)
{
	/* Field by field over zeroes: padding stays zero, so configs compare with memcmp. */
	memset(cfg, 0, sizeof(*cfg));
	cfg->ip_failures = 5;
	cfg->ip_window = 60;
	cfg->ip_bantime = 300;
	cfg->ipv4_prefixlen = 32;
	cfg->ipv6_prefix = 128;
	cfg->account_failures = 3;
	cfg->account_window = 60;
	cfg->account_min_ips = 2;
	cfg->account_blocktime = 600;
	cfg->account_fold_case = true;
	cfg->repeat_multiplier = 0;
	cfg->repeat_max = 86400;
	cfg->repeat_forget = 86400;
	cfg->distinct_passwords = false;
	cfg->max_tracked_ips = 262144;
	cfg->max_tracked_accounts = 65536;
	cfg->max_blocks = 65536;
	cfg->max_offenders = 65536;
}

static int check_range(const char *name, uint64_t value, uint64_t min, uint64_t max,
		       char why[ERRMSG_LEN])
{
	if (value >= min && value <= max)
		return 0;
	errmsg(why, "rules: %s = %llu is out of range (%llu..%llu)", name,
	       (unsigned long long)value, (unsigned long long)min, (unsigned long long)max);
	return -EINVAL;
}

#define CHECK(field, min, max)                                                                     \
	do {                                                                                       \
		if (check_range(#field, cfg->field, (min), (max), why))                            \
			return -EINVAL;                                                            \
	} while (0)

int rules_config_check(const struct rules_config *cfg, char why[ERRMSG_LEN])
{
	const unsigned int year = 366 * 86400;

	CHECK(ip_failures, 0, RULES_MAX_THRESHOLD);
	CHECK(ip_window, 1, year);
	CHECK(ip_bantime, 1, 10 * year);
	CHECK(ipv4_prefixlen, 8, 32);
	CHECK(ipv6_prefix, 16, 128);
	CHECK(account_failures, 0, RULES_MAX_THRESHOLD);
	CHECK(account_window, 1, year);
	CHECK(account_min_ips, 1, RULES_MAX_DISTINCT_IPS);
	CHECK(account_blocktime, 1, 10 * year);
	CHECK(repeat_multiplier, 0, 1000);
	CHECK(repeat_max, cfg->repeat_multiplier ? cfg->ip_bantime : 1, 10 * year);
	CHECK(repeat_forget, 0, 10 * year);
	CHECK(max_tracked_ips, 1, RULES_MAX_CAPACITY);
	CHECK(max_tracked_accounts, 1, RULES_MAX_CAPACITY);
	CHECK(max_blocks, 1, RULES_MAX_CAPACITY);
	CHECK(max_offenders, 1, RULES_MAX_CAPACITY);
	return 0;
}

size_t rules_memory_bound(const struct rules_config *cfg)
{
	struct layout lay;

	compute_layout(cfg, &lay);
	return lay.total;
}

struct rules *rules_new(const struct rules_config *cfg, char why[ERRMSG_LEN])
{
	struct layout lay;
	struct rules *r;
	unsigned char *base;
	int err;

	if (rules_config_check(cfg, why))
		return NULL;
	compute_layout(cfg, &lay);
	/* Populated now: the whole bound is resident from the start and never grows. */
	base = mmap(NULL, lay.total, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (base == MAP_FAILED) {
		errmsg(why, "rules: cannot map %zu bytes: %s", lay.total, strerror(errno));
		return NULL;
	}
	r = (struct rules *)base;
	r->cfg = *cfg;
	err = siphash_key_random(&r->key_src);
	if (!err)
		err = siphash_key_random(&r->key_account);
	if (!err)
		err = siphash_key_random(&r->key_pw);
	if (!err) {
		struct siphash_key seed;

		err = siphash_key_random(&seed);
		r->admission_draws = seed.k0;
	}
	if (err) {
		errmsg(why, "rules: getrandom: %s", strerror(-err));
		munmap(base, lay.total);
		return NULL;
	}
	r->ip_window_ns = cfg->ip_window * NSEC_PER_SEC;
	r->account_window_ns = cfg->account_window * NSEC_PER_SEC;
	r->forget_ns = cfg->repeat_forget * NSEC_PER_SEC;
	r->ip_k = at_least_one(cfg->ip_failures);
	r->acct_k = at_least_one(cfg->account_failures);
	r->acct_m = at_least_one(cfg->account_min_ips);
	r->hashes = cfg->distinct_passwords;
	r->mapped = lay.total;
	for (int t = 0; t < TABLE_KINDS; t++) {
		r->tables[t] = (struct table){
			.slots = base + lay.slots_off[t],
			.tags = (uint32_t *)(base + lay.tags_off[t]),
			.nsets = lay.nsets[t],
			.stride = (uint32_t)lay.stride[t],
			.kind = (enum table_kind)t,
		};
	}
	return r;
}

void rules_free(struct rules *rules)
{
	if (rules)
		munmap(rules, rules->mapped);
}

/* ---- time windows and rings ---- */

static inline bool in_window(uint64_t ts, uint64_t now, uint64_t window)
{
	return ts + window >= now;
}

static struct ring ip_ring(const struct rules *r, struct ip_entry *e)
{
	unsigned int k = r->ip_k;

	return (struct ring){
		.n = &e->n,
		.k = k,
		.ts = e->data,
		.pw = r->hashes ? e->data + k : NULL,
		.tag32 = (uint32_t *)(e->data + (r->hashes ? 2 * k : k)),
	};
}

static struct ring account_ring(const struct rules *r, struct account_entry *e)
{
	unsigned int k = r->acct_k;

	return (struct ring){
		.n = &e->n,
		.k = k,
		.ts = e->data,
		.tag64 = e->data + k,
		.pw = r->hashes ? e->data + 2 * k : NULL,
	};
}

static uint64_t *tracker_src(const struct rules *r, struct account_entry *e)
{
	return e->data + (r->hashes ? 3 : 2) * r->acct_k;
}

static uint64_t *tracker_ts(const struct rules *r, struct account_entry *e)
{
	return tracker_src(r, e) + r->acct_m;
}

/* Moves entries [from, n) to [to, ...) in every array. */
static void ring_move(const struct ring *g, unsigned int to, unsigned int from, unsigned int count)
{
	memmove(g->ts + to, g->ts + from, count * sizeof(*g->ts));
	if (g->pw)
		memmove(g->pw + to, g->pw + from, count * sizeof(*g->pw));
	if (g->tag64)
		memmove(g->tag64 + to, g->tag64 + from, count * sizeof(*g->tag64));
	if (g->tag32)
		memmove(g->tag32 + to, g->tag32 + from, count * sizeof(*g->tag32));
}

/* Drops the failures that left the window (they are the oldest). */
static void ring_prune(const struct ring *g, uint64_t now, uint64_t window)
{
	unsigned int n = *g->n, old = 0;

	while (old < n && !in_window(g->ts[old], now, window))
		old++;
	if (old) {
		ring_move(g, 0, old, n - old);
		*g->n = n - old;
	}
}

/* Failures in the window, without changing the ring. */
static unsigned int ring_live(const struct ring *g, uint64_t now, uint64_t window)
{
	unsigned int n = *g->n, old = 0;

	while (old < n && !in_window(g->ts[old], now, window))
		old++;
	return n - old;
}

static void ring_push(const struct ring *g, uint64_t ts, uint64_t pw, uint64_t tag)
{
	unsigned int n = *g->n;

	if (n == g->k) {
		ring_move(g, 0, 1, n - 1);
		n--;
	}
	g->ts[n] = ts;
	if (g->pw)
		g->pw[n] = pw;
	if (g->tag64)
		g->tag64[n] = tag;
	if (g->tag32)
		g->tag32[n] = (uint32_t)tag;
	*g->n = n + 1;
}

static bool ring_has_pw(const struct ring *g, uint64_t pw)
{
	for (unsigned int i = 0; i < *g->n; i++) {
		if (g->pw[i] == pw)
			return true;
	}
	return false;
}

/* Removes every failure carrying tag, keeping the order of the rest. */
static void ring_forgive(const struct ring *g, uint64_t tag)
{
	unsigned int n = *g->n, kept = 0;

	for (unsigned int i = 0; i < n; i++) {
		bool match = g->tag64 ? g->tag64[i] == tag : g->tag32[i] == (uint32_t)tag;

		if (match)
			continue;
		if (kept != i)
			ring_move(g, kept, i, 1);
		kept++;
	}
	*g->n = kept;
}

static uint64_t ring_newest(const struct ring *g)
{
	return *g->n ? g->ts[*g->n - 1] : 0;
}

/* The distinct-source tracker: sources and when each failed last, newest first. */
static void tracker_prune(const struct rules *r, struct account_entry *e, uint64_t now)
{
	const uint64_t *ts = tracker_ts(r, e);

	while (e->m && !in_window(ts[e->m - 1], now, r->account_window_ns))
		e->m--;
}

/*
 * Distinct sources in the window, without changing the tracker. One is
 * taken as it is: an entry with failures in its window has its newest
 * source in it, and most entries of a full table have one source only (not
 * reading its time spares a cache line per entry compared).
 */
static uint64_t tracker_live(const struct rules *r, struct account_entry *e, uint64_t now)
{
	const uint64_t *ts;
	unsigned int m = e->m;

	if (m <= 1)
		return m;
	ts = tracker_ts(r, e);
	while (m > 1 && !in_window(ts[m - 1], now, r->account_window_ns))
		m--;
	return m;
}

static void tracker_seen(const struct rules *r, struct account_entry *e, uint64_t src, uint64_t now)
{
	uint64_t *srcs = tracker_src(r, e), *ts = tracker_ts(r, e);
	unsigned int at = 0;

	while (at < e->m && srcs[at] != src)
		at++;
	if (at == e->m) { /* new: the least recently seen falls off when full */
		if (e->m < r->acct_m)
			e->m++;
		at = e->m - 1;
	}
	memmove(srcs + 1, srcs, at * sizeof(*srcs));
	memmove(ts + 1, ts, at * sizeof(*ts));
	srcs[0] = src;
	ts[0] = now;
}

static void tracker_forget(const struct rules *r, struct account_entry *e, uint64_t src)
{
	uint64_t *srcs = tracker_src(r, e), *ts = tracker_ts(r, e);

	for (unsigned int i = 0; i < e->m; i++) {
		if (srcs[i] != src)
			continue;
		memmove(srcs + i, srcs + i + 1, (e->m - i - 1) * sizeof(*srcs));
		memmove(ts + i, ts + i + 1, (e->m - i - 1) * sizeof(*ts));
		e->m--;
		return;
	}
}

/* ---- tables ---- */

static inline uint32_t table_set(const struct table *t, uint64_t hash)
{
	return (uint32_t)(((hash & 0xffffffffULL) * t->nsets) >> 32);
}

static inline uint32_t table_tag(uint64_t hash)
{
	uint32_t tag = (uint32_t)(hash >> 32);

	return tag ? tag : 1;
}

static inline void *table_slot(const struct table *t, size_t index)
{
	return t->slots + index * t->stride;
}

static void *table_find(const struct table *t, const uint8_t key[ADDR_LEN], uint64_t hash)
{
	size_t first = (size_t)table_set(t, hash) * RULES_TABLE_WAYS;
	uint32_t tag = table_tag(hash);

	for (size_t i = first; i < first + RULES_TABLE_WAYS; i++) {
		if (t->tags[i] == tag) {
			unsigned char *entry = table_slot(t, i);

			if (memcmp(entry, key, ADDR_LEN) == 0)
				return entry;
		}
	}
	return NULL;
}

static void table_remove(struct table *t, const void *entry)
{
	size_t index = (size_t)((const unsigned char *)entry - t->slots) / t->stride;

	t->tags[index] = 0;
	t->live--;
}

/*
 * What losing an entry would cost: 0 for a dead one (free to reuse), else
 * larger for entries more worth keeping. An account's value is, in this
 * order, its distinct sources in the window (bits 59-63, at most 16), its
 * failures in the window (bits 53-58, at most 32), then when it last failed
 * (2 us units); ACCOUNT_VALUE_SOURCES reads the first back.
 */
#define ACCOUNT_VALUE_SOURCES(value) ((value) >> 59)

static uint64_t entry_value(struct rules *r, const struct table *t, void *entry, uint64_t now)
{
	switch (t->kind) {
	case TABLE_IPS: {
		struct ring g = ip_ring(r, entry);
		uint64_t live = ring_live(&g, now, r->ip_window_ns);

		return live ? live << 58 | ring_newest(&g) >> 6 : 0;
	}
	case TABLE_ACCOUNTS: {
		struct ring g = account_ring(r, entry);
		uint64_t live = ring_live(&g, now, r->account_window_ns);

		return live ? tracker_live(r, entry, now) << 59 | live << 53 | ring_newest(&g) >> 11
			    : 0;
	}
	case TABLE_BLOCKS: {
		const struct block_entry *b = entry;

		return b->deadline_ns > now ? b->deadline_ns : 0;
	}
	case TABLE_OFFENDERS: {
		const struct offender_entry *o = entry;

		return o->banned_until_ns + r->forget_ns > now ? o->banned_until_ns + 1 : 0;
	}
	default:
		return 0;
	}
}

static uint64_t *table_evictions_counter(struct rules *r, enum table_kind kind)
{
	switch (kind) {
	case TABLE_IPS:
		return &r->counters.ip_evictions;
	case TABLE_ACCOUNTS:
		return &r->counters.account_evictions;
	case TABLE_BLOCKS:
		return &r->counters.block_evictions;
	default:
		return &r->counters.offender_evictions;
	}
}

/*
 * The slot a new key of hash would take: a free one, else a dead one, else
 * the least valuable. *lost gets the value of the entry there (0: nothing).
 */
static size_t table_victim(struct rules *r, const struct table *t, uint64_t hash, uint64_t now,
			   uint64_t *lost)
{
	size_t first = (size_t)table_set(t, hash) * RULES_TABLE_WAYS;
	size_t victim = first;
	uint64_t least = UINT64_MAX;

	for (size_t i = first; i < first + RULES_TABLE_WAYS; i++) {
		uint64_t value;

		if (!t->tags[i]) {
			victim = i;
			least = 0;
			break;
		}
		value = entry_value(r, t, table_slot(t, i), now);
		if (value < least) {
			least = value;
			victim = i;
			if (!value)
				break;
		}
	}
	*lost = least;
	return victim;
}

/* A zeroed entry for key in slot victim, counting the eviction if what was there was live. */
static void *table_claim(struct rules *r, struct table *t, size_t victim, uint64_t lost,
			 const uint8_t key[ADDR_LEN], uint64_t hash)
{
	unsigned char *entry = table_slot(t, victim);

	if (!t->tags[victim])
		t->live++;
	if (lost) {
		(*table_evictions_counter(r, t->kind))++;
		r->counters.evictions++;
	}
	memset(entry, 0, t->stride);
	memcpy(entry, key, ADDR_LEN);
	t->tags[victim] = table_tag(hash);
	return entry;
}

/* A zeroed entry for key (not present), in a free slot or the least valuable one's. */
static void *table_insert(struct rules *r, struct table *t, const uint8_t key[ADDR_LEN],
			  uint64_t hash, uint64_t now)
{
	uint64_t lost;
	size_t victim = table_victim(r, t, hash, now, &lost);

	return table_claim(r, t, victim, lost, key, hash);
}

/*
 * Starts loading the tags of a key's set. Issued for every table an event
 * will look into before looking into any, so the cache misses of a random
 * flood overlap instead of following each other. (Prefetching the slots as
 * well measured slower: a hit reads one slot only.)
 */
static inline void table_prefetch(const struct table *t, uint64_t hash)
{
	__builtin_prefetch(&t->tags[(size_t)table_set(t, hash) * RULES_TABLE_WAYS]);
}

/* ---- keys ---- */

static const uint8_t ipv4_mapped_net[ADDR_LEN] = { [10] = 0xff, [11] = 0xff };

static void mask_prefix(uint8_t addr[ADDR_LEN], unsigned int prefixlen)
{
	for (unsigned int byte = 0; byte < ADDR_LEN; byte++) {
		unsigned int bits = byte * 8;

		if (bits >= prefixlen)
			addr[byte] = 0;
		else if (prefixlen - bits < 8)
			addr[byte] &= (uint8_t)(0xff00 >> (prefixlen - bits));
	}
}

void rules_source_key(const struct rules *rules, const struct addr_key *ip, struct lpm_key *key)
{
	unsigned int prefixlen;

	memcpy(key->addr, ip->addr, ADDR_LEN);
	if (cidr_is_ipv4(ip->addr)) {
		prefixlen = IPV4_MAPPED_PREFIXLEN + rules->cfg.ipv4_prefixlen;
	} else {
		prefixlen = rules->cfg.ipv6_prefix;
		if (prefixlen <= IPV4_MAPPED_PREFIXLEN) {
			/* Would the prefix hold ::ffff:0:0/96 (all of IPv4)? Then the host only. */
			uint8_t net[ADDR_LEN], mapped[ADDR_LEN];

			memcpy(net, ip->addr, ADDR_LEN);
			memcpy(mapped, ipv4_mapped_net, ADDR_LEN);
			mask_prefix(net, prefixlen);
			mask_prefix(mapped, prefixlen);
			if (memcmp(net, mapped, ADDR_LEN) == 0)
				prefixlen = ADDR_LEN * 8;
		}
	}
	mask_prefix(key->addr, prefixlen);
	key->prefixlen = prefixlen;
}

/* The folded, truncated name's digest: the key of the account and block tables. */
static void account_digest(const struct rules *r, const char *name, uint8_t key[ADDR_LEN],
			   uint64_t *hash)
{
	char folded[EVENT_USER_LEN];
	size_t len = strnlen(name, EVENT_USER_LEN - 1);
	uint64_t digest[2];

	if (r->cfg.account_fold_case) {
		for (size_t i = 0; i < len; i++) {
			char c = name[i];

			folded[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
		}
		name = folded;
	}
	siphash128(&r->key_account, name, len, digest);
	memcpy(key, digest, ADDR_LEN);
	*hash = digest[0];
}

/* The 32-bit tag a source's ring records for an account: 0 = no user. */
static uint32_t account_tag(const uint8_t key[ADDR_LEN])
{
	uint32_t tag;

	memcpy(&tag, key + 12, sizeof(tag));
	return tag ? tag : 1;
}

static uint64_t pw_digest(const struct rules *r, const char *pwhash)
{
	size_t len = strnlen(pwhash, EVENT_HASH_LEN);
	uint64_t digest;

	if (!r->hashes || !len)
		return 0;
	digest = siphash64(&r->key_pw, pwhash, len);
	return digest ? digest : 1;
}

/* ---- the rules ---- */

static unsigned int ban_seconds(const struct rules *r, unsigned int repeat)
{
	uint64_t seconds = r->cfg.ip_bantime;

	if (!r->cfg.repeat_multiplier)
		return (unsigned int)r->cfg.ip_bantime;
	for (unsigned int i = 0; i < repeat && seconds < r->cfg.repeat_max; i++)
		seconds *= r->cfg.repeat_multiplier;
	return (unsigned int)(seconds < r->cfg.repeat_max ? seconds : r->cfg.repeat_max);
}

static void ban(struct rules *r, struct offender_entry *o, const struct lpm_key *key, uint64_t hash,
		uint64_t now, struct rules_decision *d)
{
	unsigned int repeat = 0;

	if (o && o->banned_until_ns + r->forget_ns > now)
		repeat = o->bans;
	if (!o)
		o = table_insert(r, &r->tables[TABLE_OFFENDERS], key->addr, hash, now);
	d->ban = true;
	d->ip_banned = true;
	d->repeat = repeat;
	d->ban_seconds = ban_seconds(r, repeat);
	d->ban_deadline_ns = now + d->ban_seconds * NSEC_PER_SEC;
	o->banned_until_ns = d->ban_deadline_ns;
	o->bans = repeat + 1;
	r->counters.bans++;
}

static void ip_failure(struct rules *r, const struct lpm_key *key, uint64_t hash, uint32_t acct_tag,
		       uint64_t pw, unsigned int attempts, uint64_t now, struct rules_decision *d)
{
	struct table *ips = &r->tables[TABLE_IPS];
	struct offender_entry *o = table_find(&r->tables[TABLE_OFFENDERS], key->addr, hash);
	struct ip_entry *e;
	struct ring g;

	if (o && o->banned_until_ns > now) {
		d->ip_banned = true;
		d->ban_deadline_ns = o->banned_until_ns;
		r->counters.ignored_banned++;
		return;
	}
	if (!r->cfg.ip_failures)
		return;
	e = table_find(ips, key->addr, hash);
	if (!e)
		e = table_insert(r, ips, key->addr, hash, now);
	g = ip_ring(r, e);
	ring_prune(&g, now, r->ip_window_ns);
	if (pw && ring_has_pw(&g, pw)) {
		r->counters.duplicates++;
		d->ip_failures = e->n;
		return;
	}
	for (unsigned int i = 0; i < attempts && i < g.k; i++)
		ring_push(&g, now, pw, acct_tag);
	d->ip_failures = e->n;
	if (e->n < g.k)
		return;
	table_remove(ips, e);
	d->ip_failures = 0;
	ban(r, o, key, hash, now, d);
}

static void set_blocked(struct rules_decision *d, const struct auth_event *ev, uint64_t deadline)
{
	d->account_blocked = true;
	d->block_deadline_ns = deadline;
	memcpy(d->account, ev->user, EVENT_USER_LEN);
	d->account[EVENT_USER_LEN - 1] = '\0';
}

/* The block of this account if one is running; an ended one is dropped. */
static struct block_entry *running_block(struct rules *r, const uint8_t key[ADDR_LEN],
					 uint64_t hash, uint64_t now)
{
	struct table *blocks = &r->tables[TABLE_BLOCKS];
	struct block_entry *b = table_find(blocks, key, hash);

	if (b && b->deadline_ns <= now) {
		table_remove(blocks, b);
		b = NULL;
	}
	return b;
}

/*
 * A new account's entry, or NULL when it is not tracked. In a set with a
 * free or dead slot it always is; in a full set it takes the least valuable
 * entry's place only when it wins a 1 in ACCOUNT_ADMISSION lottery (the
 * draws are a random-seeded SplitMix64 stream: unpredictable from outside,
 * and a few instructions, where SipHash took 6% of a flood's time). Always replacing the least
 * recent entry would let a spray of more names than the table holds push every name out before its
 * next failure, each pass of the spray evicting the last one's (no account
 * ever blocked); with the lottery most of the table stays put between passes
 * and its accounts reach the threshold, while an account under a real attack
 * gets in after a few failures and, once seen from two sources, outvalues
 * every single-source entry.
 */
#define ACCOUNT_ADMISSION 4

static struct account_entry *account_insert(struct rules *r, const uint8_t key[ADDR_LEN],
					    uint64_t hash, uint64_t now)
{
	struct table *accounts = &r->tables[TABLE_ACCOUNTS];
	uint64_t lost, draw;
	size_t victim = table_victim(r, accounts, hash, now, &lost);

	if (lost) {
		draw = r->admission_draws += 0x9e3779b97f4a7c15ULL; /* SplitMix64 */
		draw = (draw ^ (draw >> 30)) * 0xbf58476d1ce4e5b9ULL;
		draw = (draw ^ (draw >> 27)) * 0x94d049bb133111ebULL;
		draw ^= draw >> 31;
		if (draw % ACCOUNT_ADMISSION) {
			r->counters.account_untracked++;
			return NULL;
		}
		if (ACCOUNT_VALUE_SOURCES(lost) >= 2) {
			r->counters.account_rich_evictions++;
			r->rich_evicted_ns = now;
		}
	}
	return table_claim(r, accounts, victim, lost, key, hash);
}

static void account_failure(struct rules *r, const struct auth_event *ev,
			    const uint8_t key[ADDR_LEN], uint64_t hash, uint64_t src, uint64_t pw,
			    unsigned int attempts, uint64_t now, struct rules_decision *d)
{
	struct table *accounts = &r->tables[TABLE_ACCOUNTS];
	struct block_entry *b = running_block(r, key, hash, now);
	struct account_entry *e;
	struct ring g;

	if (b) {
		set_blocked(d, ev, b->deadline_ns);
		r->counters.ignored_blocked++;
		return;
	}
	if (!r->cfg.account_failures)
		return;
	e = table_find(accounts, key, hash);
	if (!e)
		e = account_insert(r, key, hash, now);
	if (!e)
		return;
	g = account_ring(r, e);
	ring_prune(&g, now, r->account_window_ns);
	tracker_prune(r, e, now);
	if (pw && ring_has_pw(&g, pw)) {
		r->counters.duplicates++;
		d->account_failures = e->n;
		return;
	}
	for (unsigned int i = 0; i < attempts && i < g.k; i++)
		ring_push(&g, now, pw, src);
	tracker_seen(r, e, src, now);
	d->account_failures = e->n;
	if (e->n < g.k || e->m < r->acct_m)
		return;
	table_remove(accounts, e); /* d->account_failures keeps the count that blocked it */
	b = table_insert(r, &r->tables[TABLE_BLOCKS], key, hash, now);
	b->deadline_ns = now + r->cfg.account_blocktime * NSEC_PER_SEC;
	d->block_started = true;
	set_blocked(d, ev, b->deadline_ns);
	r->counters.blocks++;
}

static void success(struct rules *r, const struct auth_event *ev, const struct lpm_key *key,
		    uint64_t src, bool has_user, const uint8_t acct_key[ADDR_LEN],
		    uint64_t acct_hash, uint64_t now, struct rules_decision *d)
{
	struct table *ips = &r->tables[TABLE_IPS], *accounts = &r->tables[TABLE_ACCOUNTS];
	struct ip_entry *e = table_find(ips, key->addr, src);
	struct account_entry *a;
	struct block_entry *b;

	if (e) {
		struct ring g = ip_ring(r, e);

		ring_prune(&g, now, r->ip_window_ns);
		ring_forgive(&g, has_user ? account_tag(acct_key) : 0);
		d->ip_failures = e->n;
		if (!e->n)
			table_remove(ips, e);
	}
	if (!has_user)
		return;
	a = table_find(accounts, acct_key, acct_hash);
	if (a) {
		struct ring g = account_ring(r, a);

		ring_prune(&g, now, r->account_window_ns);
		tracker_prune(r, a, now);
		ring_forgive(&g, src);
		tracker_forget(r, a, src);
		d->account_failures = a->n;
		if (!a->n && !a->m)
			table_remove(accounts, a);
	}
	b = running_block(r, acct_key, acct_hash, now);
	if (b)
		set_blocked(d, ev, b->deadline_ns);
}

void rules_feed(struct rules *rules, const struct auth_event *event, uint64_t now_ns,
		struct rules_decision *d)
{
	struct addr_key ip;
	uint8_t acct_key[ADDR_LEN];
	uint64_t src, acct_hash = 0, pw;
	bool has_user = event->user[0] != '\0';
	unsigned int attempts = at_least_one(event->attempts);

	d->ban = d->ip_banned = d->block_started = d->account_blocked = false;
	d->ban_seconds = d->repeat = d->ip_failures = d->account_failures = 0;
	d->ban_deadline_ns = d->block_deadline_ns = 0;
	d->account[0] = '\0';
	rules->counters.events++;
	rules->now_ns = now_ns;

	memcpy(ip.addr, event->ip.addr, ADDR_LEN);
	rules_source_key(rules, &ip, &d->ip_key);
	src = siphash64(&rules->key_src, d->ip_key.addr, ADDR_LEN);
	table_prefetch(&rules->tables[TABLE_OFFENDERS], src);
	table_prefetch(&rules->tables[TABLE_IPS], src);
	if (has_user) {
		account_digest(rules, event->user, acct_key, &acct_hash);
		table_prefetch(&rules->tables[TABLE_BLOCKS], acct_hash);
		table_prefetch(&rules->tables[TABLE_ACCOUNTS], acct_hash);
	}

	if (event->outcome == AUTH_OK) {
		rules->counters.successes++;
		success(rules, event, &d->ip_key, src, has_user, acct_key, acct_hash, now_ns, d);
		return;
	}
	rules->counters.failures++;
	pw = pw_digest(rules, event->pwhash);
	if (pw) /* one password: one guess, however many attempts the line reports */
		attempts = 1;
	ip_failure(rules, &d->ip_key, src, has_user ? account_tag(acct_key) : 0, pw, attempts,
		   now_ns, d);
	if (has_user)
		account_failure(rules, event, acct_key, acct_hash, src, pw, attempts, now_ns, d);
}

bool rules_account_blocked(const struct rules *rules, const char *account, uint64_t now_ns,
			   uint64_t *deadline_ns)
{
	uint8_t key[ADDR_LEN];
	uint64_t hash;
	const struct block_entry *b;

	if (!account[0])
		return false;
	account_digest(rules, account, key, &hash);
	b = table_find(&rules->tables[TABLE_BLOCKS], key, hash);
	if (!b || b->deadline_ns <= now_ns)
		return false;
	if (deadline_ns)
		*deadline_ns = b->deadline_ns;
	return true;
}

bool rules_restore_ban(struct rules *rules, const struct lpm_key *key, uint64_t deadline_ns,
		       unsigned int bans, uint64_t now_ns)
{
	struct addr_key ip;
	struct lpm_key own;
	struct table *offenders = &rules->tables[TABLE_OFFENDERS];
	struct offender_entry *o;
	uint64_t hash;

	memcpy(ip.addr, key->addr, ADDR_LEN);
	rules_source_key(rules, &ip, &own);
	if (own.prefixlen != key->prefixlen || memcmp(own.addr, key->addr, ADDR_LEN) != 0)
		return false;
	hash = siphash64(&rules->key_src, own.addr, ADDR_LEN);
	o = table_find(offenders, own.addr, hash);
	if (!o)
		o = table_insert(rules, offenders, own.addr, hash, now_ns);
	o->banned_until_ns = deadline_ns ? deadline_ns : RULES_PERMANENT_NS;
	o->bans = bans ? bans : 1;
	return true;
}

void rules_restore_block(struct rules *rules, const char *account, uint64_t deadline_ns,
			 uint64_t now_ns)
{
	struct table *blocks = &rules->tables[TABLE_BLOCKS];
	uint8_t key[ADDR_LEN];
	uint64_t hash;
	struct block_entry *b;

	if (!account[0] || deadline_ns <= now_ns)
		return;
	account_digest(rules, account, key, &hash);
	b = table_find(blocks, key, hash);
	if (!b)
		b = table_insert(rules, blocks, key, hash, now_ns);
	b->deadline_ns = deadline_ns;
}

void rules_unban(struct rules *rules, const struct lpm_key *key, uint64_t now_ns)
{
	uint64_t hash = siphash64(&rules->key_src, key->addr, ADDR_LEN);
	struct offender_entry *o = table_find(&rules->tables[TABLE_OFFENDERS], key->addr, hash);
	struct ip_entry *e = table_find(&rules->tables[TABLE_IPS], key->addr, hash);

	if (o && o->banned_until_ns > now_ns) /* ended now: the count stays, as after any ban */
		o->banned_until_ns = now_ns;
	if (e)
		table_remove(&rules->tables[TABLE_IPS], e);
}

void rules_unblock(struct rules *rules, const char *account)
{
	uint8_t key[ADDR_LEN];
	uint64_t hash;
	struct block_entry *b;
	struct account_entry *a;

	if (!account[0])
		return;
	account_digest(rules, account, key, &hash);
	b = table_find(&rules->tables[TABLE_BLOCKS], key, hash);
	if (b)
		table_remove(&rules->tables[TABLE_BLOCKS], b);
	a = table_find(&rules->tables[TABLE_ACCOUNTS], key, hash);
	if (a)
		table_remove(&rules->tables[TABLE_ACCOUNTS], a);
}

size_t rules_expire(struct rules *rules, uint64_t now_ns)
{
	size_t freed = 0;

	rules->now_ns = now_ns;
	for (int k = 0; k < TABLE_KINDS; k++) {
		struct table *t = &rules->tables[k];
		size_t slots = (size_t)t->nsets * RULES_TABLE_WAYS;

		for (size_t i = 0; i < slots; i++) {
			if (t->tags[i] && !entry_value(rules, t, table_slot(t, i), now_ns)) {
				t->tags[i] = 0;
				t->live--;
				freed++;
			}
		}
	}
	return freed;
}

void rules_get_counters(const struct rules *rules, struct rules_counters *counters)
{
	*counters = rules->counters;
	counters->ips = rules->tables[TABLE_IPS].live;
	counters->accounts = rules->tables[TABLE_ACCOUNTS].live;
	counters->blocks_held = rules->tables[TABLE_BLOCKS].live;
	counters->offenders = rules->tables[TABLE_OFFENDERS].live;
	counters->accounts_saturated =
	    counters->account_rich_evictions &&
	    in_window(rules->rich_evicted_ns, rules->now_ns, rules->account_window_ns);
}

/* ---- the pending failures across a restart ---- */

#define STATE_MAGIC   "xdpbanRS"
#define STATE_VERSION 1

/*
 * The saved state: this header, then the live sources' entries and the
 * live accounts' entries as the tables hold them. They are only meaningful
 * under the same keys and layout, so the header carries both.
 */
struct state_header {
	char magic[8];
	uint32_t version;
	uint32_t header_bytes;
	/* What the entries' layout and meaning depend on: restored only if equal. */
	uint32_t ip_k, acct_k, acct_m, hashes, fold_case, ipv4_prefixlen, ipv6_prefix;
	uint32_t ip_stride, account_stride;
	uint32_t reserved;
	struct siphash_key key_src, key_account, key_pw;
	uint64_t saved_ns;     /* CLOCK_MONOTONIC when saved */
	int64_t saved_wall_us; /* the wall clock then: the downtime is counted as time passed */
	uint64_t ips, accounts;
};

static void state_describe(const struct rules *r, struct state_header *h)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, STATE_MAGIC, sizeof(h->magic));
	h->version = STATE_VERSION;
	h->header_bytes = sizeof(*h);
	h->ip_k = r->ip_k;
	h->acct_k = r->acct_k;
	h->acct_m = r->acct_m;
	h->hashes = r->hashes;
	h->fold_case = r->cfg.account_fold_case;
	h->ipv4_prefixlen = r->cfg.ipv4_prefixlen;
	h->ipv6_prefix = r->cfg.ipv6_prefix;
	h->ip_stride = r->tables[TABLE_IPS].stride;
	h->account_stride = r->tables[TABLE_ACCOUNTS].stride;
}

/* Hands sink each live entry of the table (or only counts them when sink is NULL). */
static uint64_t state_entries(struct rules *r, enum table_kind kind, uint64_t now,
			      rules_state_sink *sink, void *ctx)
{
	const struct table *t = &r->tables[kind];
	size_t slots = (size_t)t->nsets * RULES_TABLE_WAYS;
	uint64_t count = 0;

	for (size_t i = 0; i < slots; i++) {
		void *entry = table_slot(t, i);

		if (!t->tags[i] || !entry_value(r, t, entry, now))
			continue;
		if (sink)
			sink(ctx, entry, t->stride);
		count++;
	}
	return count;
}

void rules_save_state(struct rules *rules, uint64_t now_ns, int64_t wall_us, rules_state_sink *sink,
		      void *ctx, struct rules_state_counts *counts)
{
	struct state_header h;

	state_describe(rules, &h);
	memcpy(&h.key_src, &rules->key_src, sizeof(h.key_src));
	memcpy(&h.key_account, &rules->key_account, sizeof(h.key_account));
	memcpy(&h.key_pw, &rules->key_pw, sizeof(h.key_pw));
	h.saved_ns = now_ns;
	h.saved_wall_us = wall_us;
	h.ips = state_entries(rules, TABLE_IPS, now_ns, NULL, NULL);
	h.accounts = state_entries(rules, TABLE_ACCOUNTS, now_ns, NULL, NULL);
	sink(ctx, &h, sizeof(h));
	state_entries(rules, TABLE_IPS, now_ns, sink, ctx);
	state_entries(rules, TABLE_ACCOUNTS, now_ns, sink, ctx);
	counts->ips = h.ips;
	counts->accounts = h.accounts;
}

/* Times saved at h->saved_ns, made now's: elapsed (the downtime) is counted as passed. */
struct state_clock {
	uint64_t saved, elapsed, now;
};

/* Whether ts was within window at the restore, and ts on this run's clock. */
static bool state_time(const struct state_clock *c, uint64_t *ts, uint64_t window)
{
	uint64_t age;

	if (*ts > c->saved || c->saved - *ts > UINT64_MAX / 4)
		return false; /* from the future or from long ago: treated as gone */
	age = c->saved - *ts + c->elapsed;
	if (age > window)
		return false;
	*ts = c->now > age ? c->now - age : 0; /* early in a boot: as old as can be */
	return true;
}

/* A ring (oldest first) on this run's clock, its failures out of the window dropped. */
static void state_ring(const struct state_clock *c, const struct ring *g, uint64_t window)
{
	unsigned int n = *g->n, old = 0;

	for (unsigned int i = 0; i < n; i++) {
		if (!state_time(c, &g->ts[i], window))
			old = i + 1;
	}
	if (old) {
		ring_move(g, 0, old, n - old);
		*g->n = n - old;
	}
}

static bool state_ip(struct rules *r, const struct state_clock *c, const unsigned char *saved)
{
	struct ip_entry *e;
	struct ring g;
	uint64_t hash;

	if (((const struct ip_entry *)saved)->n > r->ip_k)
		return false;
	hash = siphash64(&r->key_src, saved, ADDR_LEN);
	e = table_find(&r->tables[TABLE_IPS], saved, hash);
	if (!e)
		e = table_insert(r, &r->tables[TABLE_IPS], saved, hash, c->now);
	memcpy(e, saved, r->tables[TABLE_IPS].stride);
	g = ip_ring(r, e);
	state_ring(c, &g, r->ip_window_ns);
	if (!e->n)
		table_remove(&r->tables[TABLE_IPS], e);
	return true;
}

static bool state_account(struct rules *r, const struct state_clock *c, const unsigned char *saved)
{
	const struct account_entry *s = (const struct account_entry *)saved;
	struct account_entry *e;
	uint64_t hash, *ts;
	struct ring g;
	unsigned int m;

	if (s->n > r->acct_k || s->m > r->acct_m)
		return false;
	memcpy(&hash, saved, sizeof(hash)); /* the digest's first half, as account_digest */
	e = table_find(&r->tables[TABLE_ACCOUNTS], saved, hash);
	if (!e)
		e = table_insert(r, &r->tables[TABLE_ACCOUNTS], saved, hash, c->now);
	memcpy(e, saved, r->tables[TABLE_ACCOUNTS].stride);
	g = account_ring(r, e);
	state_ring(c, &g, r->account_window_ns);
	ts = tracker_ts(r, e);
	for (m = 0; m < e->m && state_time(c, &ts[m], r->account_window_ns); m++)
		; /* newest first: the rest is older */
	e->m = m;
	if (!e->n && !e->m)
		table_remove(&r->tables[TABLE_ACCOUNTS], e);
	return true;
}

/* Forgets every pending failure (a damaged state half restored). */
static void state_clear(struct rules *r)
{
	const enum table_kind kinds[] = { TABLE_IPS, TABLE_ACCOUNTS };

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct table *t = &r->tables[kinds[k]];

		memset(t->tags, 0, (size_t)t->nsets * RULES_TABLE_WAYS * sizeof(*t->tags));
		t->live = 0;
	}
}

/* The downtime in ns from two wall clock readings; 0 if the clock went back. */
static uint64_t state_downtime(int64_t saved_us, int64_t now_us)
{
	uint64_t us;

	if (now_us <= saved_us)
		return 0;
	us = (uint64_t)now_us - (uint64_t)saved_us;
	return us < UINT64_MAX / 4 / 1000 ? us * 1000 : UINT64_MAX / 4;
}

static bool state_empty(const struct rules *r)
{
	for (int t = 0; t < TABLE_KINDS; t++) {
		if (r->tables[t].live)
			return false;
	}
	return true;
}

int rules_restore_state(struct rules *rules, const void *data, size_t len, uint64_t now_ns,
			int64_t wall_us, struct rules_state_counts *counts, char why[ERRMSG_LEN])
{
	const unsigned char *p = data;
	struct state_header h, want;
	struct state_clock clock;

	counts->ips = counts->accounts = 0;
	if (!state_empty(rules)) {
		errmsg(why, "rules: a saved state goes into new rules only");
		return -EBUSY;
	}
	if (len < sizeof(h)) {
		errmsg(why, "not a saved state of the rules (%zu bytes)", len);
		return -EINVAL;
	}
	memcpy(&h, p, sizeof(h));
	if (memcmp(h.magic, STATE_MAGIC, sizeof(h.magic)) != 0 || h.version != STATE_VERSION ||
	    h.header_bytes != sizeof(h)) {
		errmsg(why, "not a saved state of the rules of this version");
		return -EINVAL;
	}
	state_describe(rules, &want);
	if (memcmp(&h.ip_k, &want.ip_k,
		   offsetof(struct state_header, reserved) - offsetof(struct state_header, ip_k))) {
		errmsg(why, "saved under other thresholds, prefixes or distinct_passwords");
		return -ESTALE;
	}
	if (h.ips > RULES_MAX_CAPACITY || h.accounts > RULES_MAX_CAPACITY ||
	    len != sizeof(h) + h.ips * h.ip_stride + h.accounts * h.account_stride) {
		errmsg(why,
		       "saved state truncated or padded (%zu bytes for %llu sources and %llu "
		       "accounts)",
		       len, (unsigned long long)h.ips, (unsigned long long)h.accounts);
		return -EINVAL;
	}
	/* The saved entries hold hashes and tags under the saved keys: these rules take them. */
	rules->key_src = h.key_src;
	rules->key_account = h.key_account;
	rules->key_pw = h.key_pw;
	clock = (struct state_clock){
		.saved = h.saved_ns,
		.elapsed = state_downtime(h.saved_wall_us, wall_us),
		.now = now_ns,
	};
	p += sizeof(h);
	for (uint64_t i = 0; i < h.ips; i++, p += h.ip_stride) {
		if (!state_ip(rules, &clock, p))
			goto bad;
	}
	for (uint64_t i = 0; i < h.accounts; i++, p += h.account_stride) {
		if (!state_account(rules, &clock, p))
			goto bad;
	}
	counts->ips = rules->tables[TABLE_IPS].live;
	counts->accounts = rules->tables[TABLE_ACCOUNTS].live;
	return 0;
bad:
	errmsg(why, "saved state damaged (an entry counts more than its rule keeps)");
	state_clear(rules);
	return -EINVAL;
}
