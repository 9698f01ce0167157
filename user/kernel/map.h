/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Batched map access: whole-map dumps, and all-or-nothing writes. A write
 * transaction records what each key held before it is changed, so when any
 * step fails every map is put back as it was: nothing is half-applied.
 */
#ifndef XDPBAN_MAPUTIL_H
#define XDPBAN_MAPUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "lib/errmsg.h"

struct undo_record;

/*
 * What a transaction needs to know of a map. An LPM trie's lookup returns the
 * longest covering prefix, not the key asked for: holds_exactly tells whether
 * a looked-up value belongs to exactly that key (NULL for exact-match maps).
 */
struct map_shape {
	int fd;
	size_t key_size;
	size_t value_size;
	bool (*holds_exactly)(const void *key, const void *value);
};

struct map_txn {
	struct undo_record *undo;
	size_t count;
	size_t capacity;
};

/* Writes n key/value pairs (arrays of the shape's key and value sizes). */
int map_txn_update(struct map_txn *txn, const struct map_shape *map, const void *keys,
		   const void *values, size_t n, char why[ERRMSG_LEN]);
/* Deletes n keys; every key must exist (missing keys are an error, nothing deleted). */
int map_txn_delete(struct map_txn *txn, const struct map_shape *map, const void *keys, size_t n,
		   char why[ERRMSG_LEN]);

/* Reads the value stored under exactly key (for LPM tries too); 0 or -ENOENT. */
int map_lookup_exact(const struct map_shape *map, const void *key, void *value);
/* Puts every changed key back, newest change first. */
void map_txn_rollback(struct map_txn *txn);
void map_txn_free(struct map_txn *txn);

/*
 * Reads every entry of a map into freshly allocated arrays (batched where
 * the map type supports it). The caller frees *keys and *values.
 */
int map_dump(int map_fd, size_t key_size, size_t value_size, void **keys, void **values,
	     size_t *count, char why[ERRMSG_LEN]);

/* Reads elements 0 .. count - 1 of an array map (all of them) in one batch; name is for why. */
int map_array_read(int map_fd, __u32 count, void *values, const char *name, char why[ERRMSG_LEN]);

/* Looks up one key of a per-CPU map and returns the values of all CPUs summed as u64 words. */
int map_percpu_sum(int map_fd, const void *key, __u64 *sum, size_t words, char why[ERRMSG_LEN]);

#endif
