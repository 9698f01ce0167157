// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "bans/bans.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include "lib/clock.h"
#include "lib/cidr.h"
#include "lib/duration.h"
#include "kernel/ban_table.h"
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

/* What a host ban replaced, to put back if the batch fails. */
struct host_undo {
	struct ban_slot old;
	bool existed;
};

static struct ban_slot slot_of(const struct addr_key *addr, const struct ban_entry *entry)
{
	struct ban_slot slot = {
		.addr = *addr,
		.created_unix = (__u32)entry->created_unix,
		.origin = (__u8)entry->origin,
	};

	ban_slot_set_end(&slot, entry->expires_ns);
	return slot;
}

static struct ban_entry entry_of(const struct ban_slot *slot)
{
	return (struct ban_entry){
		.expires_ns = ban_slot_end(slot),
		.created_unix = slot->created_unix,
		.prefixlen = ADDR_LEN * 8,
		.origin = slot->origin,
	};
}

static void hosts_undo(const struct maps *maps, const struct batch *hosts,
		       const struct host_undo *undo, size_t done)
{
	while (done > 0) {
		const struct addr_key *addr = (const struct addr_key *)hosts->keys + --done;

		if (undo[done].existed)
			ban_table_put(&maps->bans, &undo[done].old, 0, NULL, NULL);
		else
			ban_table_delete(&maps->bans, addr, NULL);
	}
}

/* Puts every host ban in, or none: a table with no room for one takes back the others. */
static int hosts_put(const struct maps *maps, const struct batch *hosts, char why[ERRMSG_LEN])
{
	struct host_undo *undo = calloc(hosts->count + 1, sizeof(*undo));
	uint64_t now_ns = clock_now_ns();
	size_t done = 0;
	int err = undo ? 0 : -ENOMEM;

	for (; !err && done < hosts->count; done++) {
		const struct addr_key *addr = (const struct addr_key *)hosts->keys + done;
		struct ban_slot slot =
		    slot_of(addr, (const struct ban_entry *)hosts->values + done);

		err =
		    ban_table_put(&maps->bans, &slot, now_ns, &undo[done].old, &undo[done].existed);
	}
	if (err == -ENOSPC) {
		char text[CIDR_TEXT_LEN];
		struct lpm_key key;

		err = -ENOBUFS; /* not the trie's -ENOSPC: making room there would not help */
		cidr_from_addr_key(&key, (const struct addr_key *)hosts->keys + done - 1);
		cidr_format(&key, text);
		errmsg(why,
		       "the address ban table has no room for %s (its two buckets and every "
		       "relocation are full) after %zu of %zu bans: none of them was made, and no "
		       "ban was pushed out",
		       text, done - 1, hosts->count);
		hosts_undo(maps, hosts, undo, done - 1);
	} else if (err) {
		errmsg(why, "out of memory for %zu bans", hosts->count);
	}
	free(undo);
	return err;
}

static int hosts_delete(const struct maps *maps, const struct batch *hosts)
{
	for (size_t i = 0; i < hosts->count; i++)
		ban_table_delete(&maps->bans, (const struct addr_key *)hosts->keys + i, NULL);
	return 0;
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
 * Applies the changes of the CIDR trie and of the address table, or neither.
 * The trie goes first, in a transaction the table's refusal can roll back.
 */
static int apply_pair(const struct maps *maps, const struct batch *hosts, const struct batch *cidrs,
		      bool remove, char why[ERRMSG_LEN])
{
	struct map_shape cidr_map = ban_cidr_shape(maps);
	struct map_txn txn = {};
	int err;

	if (remove) {
		err = map_txn_delete(&txn, &cidr_map, cidrs->keys, cidrs->count, why);
		if (!err)
			err = hosts_delete(maps, hosts);
	} else {
		err =
		    map_txn_update(&txn, &cidr_map, cidrs->keys, cidrs->values, cidrs->count, why);
		if (!err)
			err = hosts_put(maps, hosts, why);
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
	/* The path summary's bits first: a /16 must not skip the trie a new ban is in. */
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
	return err == -ENOBUFS ? -ENOSPC : err;
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
	struct map_shape cidr_map = ban_cidr_shape(maps);
	struct addr_key host;
	struct ban_slot slot;
	int err;

	if (!cidr_is_host(key))
		return map_lookup_exact(&cidr_map, key, entry);
	cidr_to_addr_key(&host, key);
	err = ban_table_find(&maps->bans, &host, &slot);
	if (!err)
		*entry = entry_of(&slot);
	return err;
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

/* A growing list of records. */
struct record_list {
	struct ban_record *records;
	size_t count, capacity;
	int err;
};

static void record_append(struct record_list *list, const struct lpm_key *key,
			  const struct ban_entry *entry)
{
	struct ban_record *grown;

	if (list->err)
		return;
	if (list->count == list->capacity) {
		size_t capacity = list->capacity ? list->capacity * 2 : 1024;

		grown = realloc(list->records, capacity * sizeof(*grown));
		if (!grown) {
			list->err = -ENOMEM;
			return;
		}
		list->records = grown;
		list->capacity = capacity;
	}
	list->records[list->count].key = *key;
	list->records[list->count++].entry = *entry;
}

static void record_slot(void *ctx, const struct ban_slot *slot)
{
	struct ban_entry entry = entry_of(slot);
	struct lpm_key key;

	cidr_from_addr_key(&key, &slot->addr);
	record_append(ctx, &key, &entry);
}

/* Every CIDR ban, appended. */
static int collect_cidrs(const struct maps *maps, struct record_list *list, char why[ERRMSG_LEN])
{
	void *keys = NULL, *values = NULL;
	size_t count = 0;
	int err = map_dump(maps->ban_cidr, sizeof(struct lpm_key), sizeof(struct ban_entry), &keys,
			   &values, &count, why);

	for (size_t i = 0; !err && i < count; i++)
		record_append(list, (struct lpm_key *)keys + i, (struct ban_entry *)values + i);
	free(keys);
	free(values);
	return err;
}

/* Every ban of the table and the trie, in no order. */
static int bans_collect(const struct maps *maps, struct ban_record **records_out, size_t *count,
			char why[ERRMSG_LEN])
{
	struct record_list list = { 0 };
	int err;

	ban_table_each(&maps->bans, record_slot, &list);
	err = collect_cidrs(maps, &list, why);
	if (!err && list.err) {
		errmsg(why, "out of memory listing %zu bans", list.count);
		err = list.err;
	}
	if (err) {
		free(list.records);
		return err;
	}
	*records_out = list.records ? list.records : calloc(1, sizeof(**records_out));
	*count = list.count;
	return *records_out ? 0 : -ENOMEM;
}

int bans_list(const struct maps *maps, struct ban_record **records, size_t *count,
	      char why[ERRMSG_LEN])
{
	int err = bans_collect(maps, records, count, why);
	size_t kept = 0;

	if (err)
		return err;
	qsort(*records, *count, sizeof(**records), compare_ban_records);
	/* A table doubling meanwhile holds an entry in both halves for a moment. */
	for (size_t i = 0; i < *count; i++) {
		if (kept && compare_ban_records(&(*records)[kept - 1], &(*records)[i]) == 0)
			continue;
		(*records)[kept++] = (*records)[i];
	}
	*count = kept;
	return 0;
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

/* Deletes one expired CIDR ban unless it was renewed since it was read. */
static bool delete_cidr_if_unchanged(const struct maps *maps, const struct ban_record *ban)
{
	struct ban_entry now;

	if (bans_lookup(maps, &ban->key, &now) || now.expires_ns != ban->entry.expires_ns)
		return false;
	return bpf_map_delete_elem(maps->ban_cidr, &ban->key) == 0;
}

static bool record_expired(const struct ban_entry *entry, uint64_t now_ns)
{
	return !ban_is_permanent(entry) && entry->expires_ns <= now_ns;
}

static int sweep_cidrs(const struct maps *maps, uint64_t now_ns, ban_expired_fn fn, void *ctx,
		       struct ban_sweep_counts *counts, char why[ERRMSG_LEN])
{
	struct record_list list = { 0 };
	int err = collect_cidrs(maps, &list, why);

	if (!err && list.err) {
		errmsg(why, "out of memory reading the CIDR bans");
		err = list.err;
	}
	size_t swept = 0;

	for (size_t i = 0; !err && i < list.count; i++) {
		if (!record_expired(&list.records[i].entry, now_ns) ||
		    !delete_cidr_if_unchanged(maps, &list.records[i])) {
			counts->live_cidr++;
			continue;
		}
		swept++;
		if (fn)
			fn(ctx, &list.records[i]);
	}
	free(list.records);
	counts->swept += swept;
	if (!err && swept)
		summary_tighten(maps);
	return err;
}

struct slot_sweep {
	const struct maps *maps;
	uint64_t now_ns;
	ban_expired_fn fn;
	void *ctx;
	struct ban_sweep_counts *counts;
};

/* The writer lock is held and the kernel never writes the table: no renewal can race this. */
static void sweep_slot(void *ctx, const struct ban_slot *slot)
{
	struct slot_sweep *sweep = ctx;
	struct ban_record record = { .entry = entry_of(slot) };

	if (!ban_deadline_passed(slot->deadline, sweep->now_ns)) {
		sweep->counts->live_addr++;
		return;
	}
	ban_table_delete(&sweep->maps->bans, &slot->addr, NULL);
	sweep->counts->swept++;
	cidr_from_addr_key(&record.key, &slot->addr);
	if (sweep->fn)
		sweep->fn(sweep->ctx, &record);
}

int bans_sweep_step(const struct maps *maps, uint64_t now_ns, ban_expired_fn fn, void *ctx,
		    struct ban_sweep *sweep, bool *done, char why[ERRMSG_LEN])
{
	struct slot_sweep slots = { maps, now_ns, fn, ctx, &sweep->running };
	int err = 0;

	*done = false;
	if (!sweep->started) {
		sweep->running = (struct ban_sweep_counts){ 0 };
		sweep->cursor = (struct ban_table_cursor){ 0 };
		sweep->started = true;
		err = sweep_cidrs(maps, now_ns, fn, ctx, &sweep->running, why);
	}
	if (err) {
		sweep->started = false;
		return err;
	}
	if (ban_table_walk(&maps->bans, &sweep->cursor, BANS_SWEEP_SLICE, sweep_slot, &slots)) {
		sweep->started = false;
		*done = true;
	}
	return 0;
}

int bans_sweep(const struct maps *maps, uint64_t now_ns, ban_expired_fn fn, void *ctx,
	       struct ban_sweep_counts *counts, char why[ERRMSG_LEN])
{
	struct ban_sweep sweep = { 0 };
	bool done = false;
	int err = 0;

	while (!err && !done)
		err = bans_sweep_step(maps, now_ns, fn, ctx, &sweep, &done, why);
	*counts = sweep.running;
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
