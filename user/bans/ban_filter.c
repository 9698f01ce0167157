// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "bans/ban_filter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kernel/map.h"

#define BAN_FILTER_SMALL_UPDATE 4096 /* bans; more are cheaper with one read of it all */

static int filter_read(int fd, __u64 *words, char why[ERRMSG_LEN])
{
	__u32 *keys = NULL;
	__u64 *values = NULL;
	size_t count;
	int err = map_dump(fd, sizeof(*keys), sizeof(*values), (void **)&keys, (void **)&values,
			   &count, why);

	if (err)
		return err;
	memset(words, 0, BAN_FILTER_WORDS * sizeof(*words));
	for (size_t i = 0; i < count; i++) {
		if (keys[i] < BAN_FILTER_WORDS)
			words[keys[i]] = values[i];
	}
	free(keys);
	free(values);
	return 0;
}

/* Writes the words where next differs from now, in one batch. */
static int filter_write_changes(int fd, const __u64 *now, const __u64 *next, char why[ERRMSG_LEN])
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 *keys = calloc(BAN_FILTER_WORDS, sizeof(*keys));
	__u64 *values = calloc(BAN_FILTER_WORDS, sizeof(*values));
	__u32 count = 0;
	int err = 0;

	if (!keys || !values) {
		errmsg(why, "out of memory for the ban filter");
		err = -ENOMEM;
	}
	for (__u32 word = 0; !err && word < BAN_FILTER_WORDS; word++) {
		if (now[word] == next[word])
			continue;
		keys[count] = word;
		values[count++] = next[word];
	}
	if (!err && count && bpf_map_update_batch(fd, keys, values, &count, &opts)) {
		err = -errno;
		errmsg(why, "cannot write the ban filter: %s", strerror(errno));
	}
	free(keys);
	free(values);
	return err;
}

static void set_bit(__u64 *words, const struct addr_key *addr)
{
	__u32 bit = ban_filter_bit(addr->addr);

	words[bit / 64] |= 1ULL << (bit % 64);
}

/* Few bans touch few words: read and write just those, one syscall each. */
static int add_word_by_word(int fd, const struct addr_key *addrs, size_t count,
			    char why[ERRMSG_LEN])
{
	for (size_t i = 0; i < count; i++) {
		__u32 bit = ban_filter_bit(addrs[i].addr), word = bit / 64;
		__u64 bits, mask = 1ULL << (bit % 64);

		if (bpf_map_lookup_elem(fd, &word, &bits)) {
			int err = -errno;

			errmsg(why, "cannot read the ban filter: %s", strerror(errno));
			return err;
		}
		if (bits & mask)
			continue;
		bits |= mask;
		if (bpf_map_update_elem(fd, &word, &bits, BPF_ANY)) {
			int err = -errno;

			errmsg(why, "cannot write the ban filter: %s", strerror(errno));
			return err;
		}
	}
	return 0;
}

int ban_filter_add(int filter_fd, const struct addr_key *addrs, size_t count, char why[ERRMSG_LEN])
{
	__u64 *now, *next;
	int err;

	/* Reading the whole 2 MB filter costs about 60 ms: worth it for bulk bans only. */
	if (count <= BAN_FILTER_SMALL_UPDATE)
		return add_word_by_word(filter_fd, addrs, count, why);
	now = calloc(BAN_FILTER_WORDS, sizeof(*now));
	next = calloc(BAN_FILTER_WORDS, sizeof(*next));
	err = now && next ? filter_read(filter_fd, now, why) : -ENOMEM;
	if (err == -ENOMEM)
		errmsg(why, "out of memory for the ban filter");
	if (!err) {
		memcpy(next, now, BAN_FILTER_WORDS * sizeof(*next));
		for (size_t i = 0; i < count; i++)
			set_bit(next, &addrs[i]);
		err = filter_write_changes(filter_fd, now, next, why);
	}
	free(now);
	free(next);
	return err;
}

int ban_filter_rebuild(const struct maps *maps, char why[ERRMSG_LEN])
{
	__u64 *now = calloc(BAN_FILTER_WORDS, sizeof(*now));
	__u64 *next = calloc(BAN_FILTER_WORDS, sizeof(*next));
	struct addr_key *keys = NULL;
	struct ban_entry *values = NULL;
	size_t count = 0;
	int err = now && next ? 0 : -ENOMEM;

	if (err)
		errmsg(why, "out of memory for the ban filter");
	if (!err)
		err = map_dump(maps->ban_addr, sizeof(*keys), sizeof(*values), (void **)&keys,
			       (void **)&values, &count, why);
	if (!err)
		err = filter_read(maps->ban_filter, now, why);
	for (size_t i = 0; !err && i < count; i++)
		set_bit(next, &keys[i]);
	if (!err)
		err = filter_write_changes(maps->ban_filter, now, next, why);
	free(keys);
	free(values);
	free(now);
	free(next);
	return err;
}
