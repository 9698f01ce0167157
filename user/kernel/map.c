// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "kernel/map.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xdpban_maps.h"

#define UNDO_KEY_MAX   24
#define UNDO_VALUE_MAX 32

_Static_assert(sizeof(struct lpm_key) <= UNDO_KEY_MAX, "undo key buffer too small");
_Static_assert(sizeof(struct ban_entry) <= UNDO_VALUE_MAX, "undo value buffer too small");

struct undo_record {
	int map_fd;
	bool existed;
	__u8 key[UNDO_KEY_MAX];
	__u8 value[UNDO_VALUE_MAX];
};

static int txn_reserve(struct map_txn *txn, size_t more)
{
	size_t needed = txn->count + more;
	struct undo_record *grown;

	if (needed <= txn->capacity)
		return 0;
	grown = realloc(txn->undo, needed * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	txn->undo = grown;
	txn->capacity = needed;
	return 0;
}

int map_lookup_exact(const struct map_shape *map, const void *key, void *value)
{
	if (bpf_map_lookup_elem(map->fd, key, value))
		return -errno;
	if (map->holds_exactly && !map->holds_exactly(key, value))
		return -ENOENT; /* a wider prefix covers the key; the key itself is absent */
	return 0;
}

/* Remembers what each key holds now. Returns how many of the keys existed. */
static int txn_record(struct map_txn *txn, const struct map_shape *map, const void *keys, size_t n,
		      size_t *existing, char why[ERRMSG_LEN])
{
	if (map->key_size > UNDO_KEY_MAX || map->value_size > UNDO_VALUE_MAX ||
	    txn_reserve(txn, n)) {
		errmsg(why, "out of memory recording %zu map changes", n);
		return -ENOMEM;
	}
	*existing = 0;
	for (size_t i = 0; i < n; i++) {
		struct undo_record *rec = &txn->undo[txn->count++];

		rec->map_fd = map->fd;
		memcpy(rec->key, (const char *)keys + i * map->key_size, map->key_size);
		rec->existed = map_lookup_exact(map, rec->key, rec->value) == 0;
		*existing += rec->existed;
	}
	return 0;
}

static bool batch_unsupported(int err)
{
	return err == -EINVAL || err == -ENOTSUP || err == -EOPNOTSUPP;
}

int map_txn_update(struct map_txn *txn, const struct map_shape *map, const void *keys,
		   const void *values, size_t n, char why[ERRMSG_LEN])
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	__u32 done = n;
	size_t existing;
	int err;

	if (n == 0)
		return 0;
	err = txn_record(txn, map, keys, n, &existing, why);
	if (err)
		return err;
	err = bpf_map_update_batch(map->fd, keys, values, &done, &opts) ? -errno : 0;
	if (!batch_unsupported(err) || done != 0)
		goto out;
	/* Older kernels lack batch updates for some map types: one at a time. */
	err = 0;
	for (done = 0; done < n && !err; done += !err) {
		const char *key = (const char *)keys + done * map->key_size;
		const char *value = (const char *)values + done * map->value_size;

		err = bpf_map_update_elem(map->fd, key, value, BPF_ANY) ? -errno : 0;
	}
out:
	if (err)
		errmsg(why, "map update failed after %u of %zu entries: %s%s", done, n,
		       strerror(-err), err == -ENOSPC || err == -E2BIG ? " (map is full)" : "");
	return err;
}

int map_txn_delete(struct map_txn *txn, const struct map_shape *map, const void *keys, size_t n,
		   char why[ERRMSG_LEN])
{
	size_t first = txn->count, existing;
	int err = txn_record(txn, map, keys, n, &existing, why);

	if (err)
		return err;
	if (existing != n) {
		errmsg(why, "%zu of %zu entries are not in the map", n - existing, n);
		return -ENOENT;
	}
	for (size_t i = first; i < txn->count; i++) {
		if (bpf_map_delete_elem(map->fd, txn->undo[i].key) == 0)
			continue;
		if (errno == ENOENT) {
			txn->undo[i].existed = false; /* nothing to put back */
			continue;
		}
		err = -errno;
		errmsg(why, "map delete failed: %s", strerror(errno));
		return err;
	}
	return 0;
}

void map_txn_rollback(struct map_txn *txn)
{
	while (txn->count > 0) {
		struct undo_record *rec = &txn->undo[--txn->count];

		if (rec->existed)
			bpf_map_update_elem(rec->map_fd, rec->key, rec->value, BPF_ANY);
		else
			bpf_map_delete_elem(rec->map_fd, rec->key);
	}
}

void map_txn_free(struct map_txn *txn)
{
	free(txn->undo);
	memset(txn, 0, sizeof(*txn));
}

static int dump_batched(int map_fd, size_t key_size, size_t value_size, char *keys, char *values,
			size_t capacity, size_t *count)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	/* The opaque cursor: an LPM trie's is a whole key. */
	_Alignas(8) __u8 batch[sizeof(struct lpm_key) + 8] = { 0 };
	bool first = true;

	*count = 0;
	while (*count < capacity) {
		__u32 n = capacity - *count;
		int err = bpf_map_lookup_batch(map_fd, first ? NULL : batch, batch,
					       keys + *count * key_size,
					       values + *count * value_size, &n, &opts);

		first = false;
		*count += n;
		if (err && errno == ENOENT)
			return 0; /* the last batch */
		if (err)
			return -errno;
	}
	return 0;
}

static int dump_by_key(int map_fd, size_t key_size, size_t value_size, char *keys, char *values,
		       size_t capacity, size_t *count)
{
	_Alignas(8) __u8 skipped[sizeof(struct lpm_key) + 8];
	const void *prev = NULL;

	if (key_size > sizeof(skipped))
		return -EINVAL;
	*count = 0;
	while (*count < capacity) {
		char *key = keys + *count * key_size;

		if (bpf_map_get_next_key(map_fd, prev, key))
			return errno == ENOENT ? 0 : -errno;
		/* An entry deleted between the two calls is skipped, not an error. */
		if (bpf_map_lookup_elem(map_fd, key, values + *count * value_size) == 0) {
			prev = key;
			(*count)++;
		} else {
			memcpy(skipped, key, key_size);
			prev = skipped;
		}
	}
	return 0;
}

int map_dump(int map_fd, size_t key_size, size_t value_size, void **keys_out, void **values_out,
	     size_t *count, char why[ERRMSG_LEN])
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	char *keys, *values;
	size_t capacity;
	int err;

	if (bpf_obj_get_info_by_fd(map_fd, &info, &info_len)) {
		err = -errno;
		errmsg(why, "cannot query map: %s", strerror(errno));
		return err;
	}
	capacity = info.max_entries;
	keys = calloc(capacity, key_size);
	values = calloc(capacity, value_size);
	if (!keys || !values) {
		free(keys);
		free(values);
		errmsg(why, "out of memory reading map %s", info.name);
		return -ENOMEM;
	}
	err = dump_batched(map_fd, key_size, value_size, keys, values, capacity, count);
	if (batch_unsupported(err))
		err = dump_by_key(map_fd, key_size, value_size, keys, values, capacity, count);
	if (err) {
		errmsg(why, "cannot read map %s: %s", info.name, strerror(-err));
		free(keys);
		free(values);
		return err;
	}
	*keys_out = keys;
	*values_out = values;
	return 0;
}

int map_array_read(int map_fd, __u32 count, void *values, const char *name, char why[ERRMSG_LEN])
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 *keys = calloc(count, sizeof(*keys)), read = count, out;
	int err = 0;

	if (!keys) {
		errmsg(why, "out of memory reading %s", name);
		return -ENOMEM;
	}
	errno = 0;
	/* The batch ends with ENOENT once it has read the last element. */
	if (bpf_map_lookup_batch(map_fd, NULL, &out, keys, values, &read, &opts) &&
	    (errno != ENOENT || read != count)) {
		err = errno ? -errno : -EIO;
		errmsg(why, "cannot read %s: %s", name, strerror(-err));
	}
	free(keys);
	return err;
}

int map_percpu_sum(int map_fd, const void *key, __u64 *sum, size_t words, char why[ERRMSG_LEN])
{
	int cpus = libbpf_num_possible_cpus();
	__u64 *values;
	int err = 0;

	if (cpus <= 0) {
		errmsg(why, "cannot count possible CPUs: %s", strerror(-cpus));
		return cpus ? cpus : -EINVAL;
	}
	values = calloc((size_t)cpus * words, sizeof(*values));
	if (!values) {
		errmsg(why, "out of memory");
		return -ENOMEM;
	}
	if (bpf_map_lookup_elem(map_fd, key, values)) {
		err = -errno;
		errmsg(why, "cannot read per-CPU counters: %s", strerror(errno));
	}
	memset(sum, 0, words * sizeof(*sum));
	for (int cpu = 0; !err && cpu < cpus; cpu++) {
		for (size_t w = 0; w < words; w++)
			sum[w] += values[(size_t)cpu * words + w];
	}
	free(values);
	return err;
}
