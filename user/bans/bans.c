// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "bans/bans.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include "lib/clock.h"
#include "lib/cidr.h"
#include "bans/ban_filter.h"
#include "lib/duration.h"
#include "kernel/map.h"
#include "kernel/path_summary.h"

/* Keys and values for one map, split out of a mixed list of prefixes. */
struct batch {
	void *keys;
	void *values;
	size_t count;
};

static int batch_alloc(struct batch *batch, size_t n, size_t key_size, size_t value_size)
{
	batch->count = 0;
	batch->keys = calloc(n ? n : 1, key_size);
	batch->values = calloc(n ? n : 1, value_size);
	return batch->keys && batch->values ? 0 : -ENOMEM;
}

static void batch_free(struct batch *batch)
{
	free(batch->keys);
	free(batch->values);
}

static int not_found(const struct lpm_key *key, const char *what, char why[ERRMSG_LEN])
{
	char text[CIDR_TEXT_LEN];

	cidr_format(key, text);
	errmsg(why, "%s %s", text, what);
	return -ENOENT;
}

static struct ban_entry ban_entry_for(const struct ban_request *req, enum ban_origin origin,
				      uint64_t now_ns)
{
	struct ban_entry entry = {
		.expires_ns = req->permanent	 ? 0
			      : req->deadline_ns ? req->deadline_ns
						 : now_ns + req->seconds * NSEC_PER_SEC,
		.created_unix = (uint64_t)clock_wall_s(),
		.prefixlen = req->key.prefixlen,
		.origin = origin,
	};
	return entry;
}

static bool ban_is_for(const void *key, const void *value)
{
	return ((const struct ban_entry *)value)->prefixlen ==
	       ((const struct lpm_key *)key)->prefixlen;
}

static bool allow_is_for(const void *key, const void *value)
{
	return ((const struct allow_entry *)value)->prefixlen ==
	       ((const struct lpm_key *)key)->prefixlen;
}

static struct map_shape ban_addr_shape(const struct maps *maps)
{
	return (struct map_shape){ maps->ban_addr, sizeof(struct addr_key),
				   sizeof(struct ban_entry), NULL };
}

static struct map_shape ban_cidr_shape(const struct maps *maps)
{
	return (struct map_shape){ maps->ban_cidr, sizeof(struct lpm_key), sizeof(struct ban_entry),
				   ban_is_for };
}

static struct map_shape allow_shape(const struct maps *maps)
{
	return (struct map_shape){ maps->allow_cidr, sizeof(struct lpm_key),
				   sizeof(struct allow_entry), allow_is_for };
}

/*
 * After a change to the allowlist or the CIDR bans is in: lets the path
 * summary skip what it now can. A failure is no failure of the change, which
 * is in force: the summary then only sends more packets to the tries.
 */
static void summary_tighten(const struct maps *maps)
{
	char ignored[ERRMSG_LEN];

	path_summary_tighten(maps, ignored);
}

/*
 * Applies both maps' changes, or neither. The trie goes first: it can run
 * out of room, while the LRU hash never fails but evicts, and an eviction
 * cannot be rolled back.
 */
static int apply_pair(const struct maps *maps, const struct batch *hosts, const struct batch *cidrs,
		      bool remove, char why[ERRMSG_LEN])
{
	struct map_shape host_map = ban_addr_shape(maps), cidr_map = ban_cidr_shape(maps);
	struct map_txn txn = {};
	int err;

	if (remove) {
		err = map_txn_delete(&txn, &cidr_map, cidrs->keys, cidrs->count, why);
		if (!err)
			err = map_txn_delete(&txn, &host_map, hosts->keys, hosts->count, why);
	} else {
		err =
		    map_txn_update(&txn, &cidr_map, cidrs->keys, cidrs->values, cidrs->count, why);
		if (!err)
			err = map_txn_update(&txn, &host_map, hosts->keys, hosts->values,
					     hosts->count, why);
	}
	if (err)
		map_txn_rollback(&txn);
	map_txn_free(&txn);
	return err;
}

static int compare_keys(const void *a, const void *b)
{
	return cidr_compare(a, b);
}

static int compare_deadlines(const void *a, const void *b)
{
	uint64_t x = ((const struct ban_record *)a)->entry.expires_ns;
	uint64_t y = ((const struct ban_record *)b)->entry.expires_ns;

	return x < y ? -1 : x > y;
}

/*
 * Every ban of the CIDR trie, and how many of them a batch of new prefixes
 * may push out: not permanent and not one of the batch's own. The
 * candidates come sorted by deadline, expired ones (the least useful) first.
 */
static int cidr_candidates(const struct maps *maps, const struct batch *cidrs,
			   struct ban_record **out, size_t *candidates, size_t *in_map,
			   size_t *fresh, char why[ERRMSG_LEN])
{
	struct lpm_key *wanted = calloc(cidrs->count + 1, sizeof(*wanted));
	void *keys = NULL, *values = NULL;
	struct ban_record *records = NULL;
	size_t count = 0, n = 0;
	int err = wanted ? map_dump(maps->ban_cidr, sizeof(struct lpm_key),
				    sizeof(struct ban_entry), &keys, &values, &count, why)
			 : -ENOMEM;

	if (!err) {
		records = calloc(count + 1, sizeof(*records));
		err = records ? 0 : -ENOMEM;
	}
	if (err == -ENOMEM)
		errmsg(why, "out of memory making room in the CIDR ban map");
	if (!err) {
		memcpy(wanted, cidrs->keys, cidrs->count * sizeof(*wanted));
		qsort(wanted, cidrs->count, sizeof(*wanted), compare_keys);
		*fresh = cidrs->count;
	}
	for (size_t i = 0; !err && i < count; i++) {
		const struct lpm_key *key = (const struct lpm_key *)keys + i;
		const struct ban_entry *entry = (const struct ban_entry *)values + i;

		if (bsearch(key, wanted, cidrs->count, sizeof(*wanted), compare_keys)) {
			(*fresh)--; /* replaced in place: takes no new room */
			continue;
		}
		if (ban_is_permanent(entry))
			continue;
		records[n].key = *key;
		records[n++].entry = *entry;
	}
	if (!err)
		qsort(records, n, sizeof(*records), compare_deadlines);
	free(wanted);
	free(keys);
	free(values);
	*out = records;
	*candidates = n;
	*in_map = count;
	return err;
}

/*
 * The CIDR trie is not an LRU: when it is full, the bans closest to their
 * end make room (expired ones first); permanent ones never go.
 */
static int evict_cidr(const struct maps *maps, const struct batch *cidrs,
		      struct ban_evictions *evicted, char why[ERRMSG_LEN])
{
	struct ban_record *candidates = NULL;
	size_t count = 0, in_map = 0, fresh = 0, needed, done = 0;
	int err = cidr_candidates(maps, cidrs, &candidates, &count, &in_map, &fresh, why);

	needed = in_map + fresh > BAN_CIDR_CAPACITY ? in_map + fresh - BAN_CIDR_CAPACITY : 0;
	if (!err && needed > count) {
		errmsg(why,
		       "the CIDR ban map is full (%d entries) and only %zu of them may make room "
		       "for %zu (the rest are permanent): lift some with 'xdpban unban'",
		       BAN_CIDR_CAPACITY, count, needed);
		err = -ENOSPC;
	}
	for (; !err && done < needed; done++) {
		if (bpf_map_delete_elem(maps->ban_cidr, &candidates[done].key))
			break;
	}
	if (!err && evicted) {
		evicted->records = candidates;
		evicted->count = done;
		candidates = NULL;
	}
	free(candidates);
	return err;
}

void ban_evictions_free(struct ban_evictions *evicted)
{
	free(evicted->records);
	evicted->records = NULL;
	evicted->count = 0;
}

int bans_add(const struct maps *maps, const struct ban_request *requests, size_t n,
	     enum ban_origin origin, char why[ERRMSG_LEN])
{
	return bans_add_evicting(maps, requests, n, origin, NULL, why);
}

int bans_add_evicting(const struct maps *maps, const struct ban_request *requests, size_t n,
		      enum ban_origin origin, struct ban_evictions *evicted, char why[ERRMSG_LEN])
{
	struct batch hosts, cidrs;
	uint64_t now_ns = clock_now_ns();
	int err = batch_alloc(&hosts, n, sizeof(struct addr_key), sizeof(struct ban_entry));

	if (!err)
		err = batch_alloc(&cidrs, n, sizeof(struct lpm_key), sizeof(struct ban_entry));
	if (err) {
		batch_free(&hosts);
		errmsg(why, "out of memory for %zu bans", n);
		return err;
	}
	for (size_t i = 0; i < n; i++) {
		struct ban_entry entry = ban_entry_for(&requests[i], origin, now_ns);

		if (cidr_is_host(&requests[i].key)) {
			cidr_to_addr_key((struct addr_key *)hosts.keys + hosts.count,
					 &requests[i].key);
			((struct ban_entry *)hosts.values)[hosts.count++] = entry;
		} else {
			((struct lpm_key *)cidrs.keys)[cidrs.count] = requests[i].key;
			((struct ban_entry *)cidrs.values)[cidrs.count++] = entry;
		}
	}
	/* The filter bits first: the program must never see a ban without its bit. */
	err = ban_filter_add(maps->ban_filter, hosts.keys, hosts.count, why);
	/* Likewise the path summary's: a /16 must not skip the trie a new ban is in. */
	if (!err)
		err = path_summary_open(maps, cidrs.keys, cidrs.count, PATH_NO_CIDR, why);
	if (!err)
		err = apply_pair(maps, &hosts, &cidrs, false, why);
	if (err == -ENOSPC && cidrs.count) {
		err = evict_cidr(maps, &cidrs, evicted, why);
		if (!err)
			err = apply_pair(maps, &hosts, &cidrs, false, why);
	}
	if (!err && cidrs.count)
		summary_tighten(maps); /* the shortcuts the new bans allow */
	batch_free(&hosts);
	batch_free(&cidrs);
	return err;
}

/* Splits prefixes into exact-address keys and CIDR keys. */
static int split_keys(const struct lpm_key *keys, size_t n, struct batch *hosts,
		      struct batch *cidrs, size_t value_size)
{
	int err = batch_alloc(hosts, n, sizeof(struct addr_key), value_size);

	if (!err)
		err = batch_alloc(cidrs, n, sizeof(struct lpm_key), value_size);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		if (cidr_is_host(&keys[i]))
			cidr_to_addr_key((struct addr_key *)hosts->keys + hosts->count++, &keys[i]);
		else
			((struct lpm_key *)cidrs->keys)[cidrs->count++] = keys[i];
	}
	return 0;
}

int bans_lookup(const struct maps *maps, const struct lpm_key *key, struct ban_entry *entry)
{
	struct map_shape host_map = ban_addr_shape(maps), cidr_map = ban_cidr_shape(maps);
	struct addr_key host;

	if (!cidr_is_host(key))
		return map_lookup_exact(&cidr_map, key, entry);
	cidr_to_addr_key(&host, key);
	return map_lookup_exact(&host_map, &host, entry);
}

bool ban_outlasts(const struct ban_entry *old, const struct ban_request *request, uint64_t now_ns)
{
	struct ban_entry wanted = ban_entry_for(request, BAN_ORIGIN_IP_RULE, now_ns);

	if (ban_is_permanent(old))
		return true;
	return old->expires_ns > now_ns && !ban_is_permanent(&wanted) &&
	       old->expires_ns >= wanted.expires_ns;
}

bool bans_outlasted(const struct maps *maps, const struct ban_request *request, uint64_t now_ns)
{
	struct ban_entry old;

	return bans_lookup(maps, &request->key, &old) == 0 && ban_outlasts(&old, request, now_ns);
}

int bans_remove(const struct maps *maps, const struct lpm_key *keys, size_t n, char why[ERRMSG_LEN])
{
	struct batch hosts, cidrs;
	struct ban_entry entry;
	int err;

	for (size_t i = 0; i < n; i++) {
		if (bans_lookup(maps, &keys[i], &entry))
			return not_found(&keys[i], "is not banned", why);
	}
	err = split_keys(keys, n, &hosts, &cidrs, sizeof(struct ban_entry));
	if (err) {
		errmsg(why, "out of memory");
		return err;
	}
	err = apply_pair(maps, &hosts, &cidrs, true, why);
	if (!err && cidrs.count)
		summary_tighten(maps);
	batch_free(&hosts);
	batch_free(&cidrs);
	return err;
}

static int compare_ban_records(const void *a, const void *b)
{
	return cidr_compare(&((const struct ban_record *)a)->key,
			    &((const struct ban_record *)b)->key);
}

/* Every ban of both maps, in map order. */
static int bans_collect(const struct maps *maps, struct ban_record **records_out, size_t *count,
			char why[ERRMSG_LEN])
{
	void *host_keys = NULL, *host_values = NULL, *cidr_keys = NULL, *cidr_values = NULL;
	size_t hosts = 0, cidrs = 0;
	struct ban_record *records;
	int err;

	err = map_dump(maps->ban_addr, sizeof(struct addr_key), sizeof(struct ban_entry),
		       &host_keys, &host_values, &hosts, why);
	if (!err)
		err = map_dump(maps->ban_cidr, sizeof(struct lpm_key), sizeof(struct ban_entry),
			       &cidr_keys, &cidr_values, &cidrs, why);
	records = err ? NULL : calloc(hosts + cidrs + 1, sizeof(*records));
	if (!err && !records) {
		errmsg(why, "out of memory listing %zu bans", hosts + cidrs);
		err = -ENOMEM;
	}
	for (size_t i = 0; !err && i < hosts; i++) {
		cidr_from_addr_key(&records[i].key, (struct addr_key *)host_keys + i);
		records[i].entry = ((struct ban_entry *)host_values)[i];
	}
	for (size_t i = 0; !err && i < cidrs; i++) {
		records[hosts + i].key = ((struct lpm_key *)cidr_keys)[i];
		records[hosts + i].entry = ((struct ban_entry *)cidr_values)[i];
	}
	free(host_keys);
	free(host_values);
	free(cidr_keys);
	free(cidr_values);
	if (err)
		return err;
	*records_out = records;
	*count = hosts + cidrs;
	return 0;
}

int bans_list(const struct maps *maps, struct ban_record **records, size_t *count,
	      char why[ERRMSG_LEN])
{
	int err = bans_collect(maps, records, count, why);

	if (!err)
		qsort(*records, *count, sizeof(**records), compare_ban_records);
	return err;
}

int bans_allow_add(const struct maps *maps, const struct lpm_key *keys, size_t n,
		   char why[ERRMSG_LEN])
{
	struct map_shape allow_map = allow_shape(maps);
	struct map_txn txn = {};
	struct allow_entry *values = calloc(n ? n : 1, sizeof(*values));
	int err;

	if (!values) {
		errmsg(why, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		values[i].created_unix = (uint64_t)clock_wall_s();
		values[i].prefixlen = keys[i].prefixlen;
	}
	/* The summary first: the allowlist always wins, so no /16 may skip a new entry. */
	err = path_summary_open(maps, keys, n, PATH_NO_ALLOW, why);
	if (!err)
		err = map_txn_update(&txn, &allow_map, keys, values, n, why);
	if (err)
		map_txn_rollback(&txn);
	map_txn_free(&txn);
	free(values);
	return err;
}

int bans_allow_remove(const struct maps *maps, const struct lpm_key *keys, size_t n,
		      char why[ERRMSG_LEN])
{
	struct map_shape allow_map = allow_shape(maps);
	struct map_txn txn = {};
	struct allow_entry entry;
	int err;

	for (size_t i = 0; i < n; i++) {
		if (map_lookup_exact(&allow_map, &keys[i], &entry))
			return not_found(&keys[i], "is not on the allowlist", why);
	}
	err = map_txn_delete(&txn, &allow_map, keys, n, why);
	if (err)
		map_txn_rollback(&txn);
	else
		summary_tighten(maps);
	map_txn_free(&txn);
	return err;
}

static int compare_allow_records(const void *a, const void *b)
{
	return cidr_compare(&((const struct allow_record *)a)->key,
			    &((const struct allow_record *)b)->key);
}

bool bans_allow_covers(const struct maps *maps, const struct lpm_key *prefix)
{
	struct allow_entry entry;
	struct lpm_key lookup = *prefix;

	/* The trie's longest match for the prefix's own first address. */
	lookup.prefixlen = ADDR_LEN * 8;
	if (!maps || bpf_map_lookup_elem(maps->allow_cidr, &lookup, &entry))
		return false;
	return entry.prefixlen <= prefix->prefixlen;
}

int bans_allow_list(const struct maps *maps, struct allow_record **records_out, size_t *count,
		    char why[ERRMSG_LEN])
{
	void *keys = NULL, *values = NULL;
	struct allow_record *records;
	size_t n = 0;
	int err = map_dump(maps->allow_cidr, sizeof(struct lpm_key), sizeof(struct allow_entry),
			   &keys, &values, &n, why);

	if (err)
		return err;
	records = calloc(n + 1, sizeof(*records));
	if (!records) {
		free(keys);
		free(values);
		errmsg(why, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		records[i].key = ((struct lpm_key *)keys)[i];
		records[i].entry = ((struct allow_entry *)values)[i];
	}
	free(keys);
	free(values);
	qsort(records, n, sizeof(*records), compare_allow_records);
	*records_out = records;
	*count = n;
	return 0;
}

/* Deletes one expired ban unless it was renewed since it was read. */
static bool delete_if_unchanged(const struct maps *maps, const struct ban_record *ban)
{
	struct ban_entry now;
	struct addr_key host;
	const void *key = &ban->key;
	int fd = maps->ban_cidr;

	if (bans_lookup(maps, &ban->key, &now) || now.expires_ns != ban->entry.expires_ns)
		return false;
	if (cidr_is_host(&ban->key)) {
		cidr_to_addr_key(&host, &ban->key);
		key = &host;
		fd = maps->ban_addr;
	}
	return bpf_map_delete_elem(fd, key) == 0;
}

int bans_sweep(const struct maps *maps, uint64_t now_ns, ban_expired_fn fn, void *ctx,
	       struct ban_sweep_counts *counts, char why[ERRMSG_LEN])
{
	struct ban_record *bans = NULL;
	size_t count = 0;
	int err = bans_collect(maps, &bans, &count, why); /* no order needed */

	bool cidr_swept = false;

	*counts = (struct ban_sweep_counts){ 0 };
	for (size_t i = 0; !err && i < count; i++) {
		const struct ban_entry *entry = &bans[i].entry;

		if ((ban_is_permanent(entry) || entry->expires_ns > now_ns) ||
		    !delete_if_unchanged(maps, &bans[i])) {
			if (cidr_is_host(&bans[i].key))
				counts->live_addr++;
			else
				counts->live_cidr++;
			continue;
		}
		counts->swept++;
		cidr_swept |= !cidr_is_host(&bans[i].key);
		if (fn)
			fn(ctx, &bans[i]);
	}
	free(bans);
	if (!err && cidr_swept)
		summary_tighten(maps);
	return err;
}

bool ban_is_permanent(const struct ban_entry *entry)
{
	return entry->expires_ns == 0;
}

uint64_t ban_seconds_left(const struct ban_entry *entry, uint64_t now_ns)
{
	if (entry->expires_ns <= now_ns)
		return 0;
	/* Round up: a ban with 0.4 s left is still live. */
	return (entry->expires_ns - now_ns + NSEC_PER_SEC - 1) / NSEC_PER_SEC;
}

const char *ban_origin_name(enum ban_origin origin)
{
	switch (origin) {
	case BAN_ORIGIN_MANUAL:
		return "manual";
	case BAN_ORIGIN_IP_RULE:
		return "ip-rule";
	case BAN_ORIGIN_RESTORED:
		return "restored";
	default:
		return "unknown";
	}
}
