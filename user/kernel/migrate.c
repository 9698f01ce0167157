// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "kernel/migrate.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kernel/ban_table.h"
#include "kernel/map.h"
#include "kernel/path_summary.h"
#include "kernel/pins.h"
#include "lib/clock.h"
#include "lib/util.h"
#include "xdpban.skel.h"

/*
 * ABI 1, as xdpban before the ban tables defined it: its exact-address map
 * and the filter in front of it. Kept here alone, to read old pins.
 */
#define ABI1_VERSION	1U
#define ABI1_BAN_ADDR	"ban_addr"
#define ABI1_BAN_FILTER "ban_filter"
#define ABI2_VERSION	2U

/*
 * Maps whose shape changed are set aside before the object loads, so that it
 * makes its own (with the new sizes and BTF, what bpftool shows), under
 * NAME_abiN, N the last map ABI of the old shape (bpffs refuses dots in
 * names). Pins of ABI N or older have it that way.
 */
struct reshaped {
	const char *name;
	__u32 last_abi;
};

static const struct reshaped reshaped_maps[] = {
	{ MAP_BAN4, 2 },       /* ABI 3: the spill filter */
	{ MAP_BAN6, 2 },       /* ABI 3: the spill filter */
	{ MAP_GEO_BLOCKS, 3 }, /* ABI 4: 61,438 blocks, not 32,768 */
};

#define RESHAPED_BAN4	    (&reshaped_maps[0])
#define RESHAPED_BAN6	    (&reshaped_maps[1])
#define RESHAPED_GEO_BLOCKS (&reshaped_maps[2])

struct abi1_ban_entry {
	__u64 expires_ns; /* CLOCK_MONOTONIC; 0 permanent */
	__u64 created_unix;
	__u32 prefixlen;
	__u32 origin;
};

/* The map ABI the pinned config names; 0 when it cannot be read or was never written. */
static __u32 pinned_abi(const char *pin_dir)
{
	struct xdpban_config cfg;
	char path[PATH_MAX];
	__u32 zero = 0;
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", pin_dir, MAP_CONFIG);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	err = bpf_map_lookup_elem(fd, &zero, &cfg);
	close(fd);
	return err || !cfg.initialized ? 0 : cfg.abi_version;
}

static int config_read(int fd, struct xdpban_config *cfg, char why[ERRMSG_LEN])
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(fd, &zero, cfg) == 0)
		return 0;
	errmsg(why, "cannot read the config map: %s", strerror(errno));
	return -errno;
}

static int open_old_map(const char *pin_dir, int *fd, char why[ERRMSG_LEN])
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", pin_dir, ABI1_BAN_ADDR);
	*fd = bpf_obj_get(path);
	if (*fd < 0 && errno == ENOENT)
		return 0; /* no exact ban was ever made, or a migration removed it already */
	if (*fd < 0) {
		errmsg(why, "cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	if (bpf_obj_get_info_by_fd(*fd, &info, &len) || info.key_size != sizeof(struct addr_key) ||
	    info.value_size != sizeof(struct abi1_ban_entry)) {
		errmsg(why, "%s is not the address map of map ABI 1 (key/value %u/%u)", path,
		       info.key_size, info.value_size);
		close(*fd);
		return -EPROTO;
	}
	return 0;
}

/* Every live ban of the old map into the new table; expired ones are left behind. */
static int copy_bans(int old_fd, const struct ban_table *table, size_t *copied,
		     char why[ERRMSG_LEN])
{
	struct abi1_ban_entry *values = NULL;
	struct addr_key *keys = NULL;
	uint64_t now_ns = clock_now_ns();
	size_t count = 0;
	int err = map_dump(old_fd, sizeof(*keys), sizeof(*values), (void **)&keys, (void **)&values,
			   &count, why);

	*copied = 0;
	for (size_t i = 0; !err && i < count; i++) {
		struct ban_slot slot = {
			.addr = keys[i],
			.created_unix = (__u32)values[i].created_unix,
			.origin = (__u8)values[i].origin,
		};

		ban_slot_set_end(&slot, values[i].expires_ns);
		if (ban_deadline_passed(slot.deadline, now_ns))
			continue;
		err = ban_table_put(table, &slot, now_ns, NULL, NULL);
		if (err)
			errmsg(why, "the new address table has no room for the old map's %zu bans",
			       count);
		else
			(*copied)++;
	}
	free(keys);
	free(values);
	return err;
}

/* Points every pinned link at the new program; a link whose interface is gone is left. */
static int switch_links(const char *pin_dir, int prog_fd, char why[ERRMSG_LEN])
{
	DIR *dir = opendir(pin_dir);
	struct dirent *entry;
	int err = 0;

	if (!dir) {
		errmsg(why, "cannot read %s: %s", pin_dir, strerror(errno));
		return -errno;
	}
	while (!err && (entry = readdir(dir))) {
		char path[PATH_MAX];
		int fd;

		if (strncmp(entry->d_name, XDPBAN_LINK_PREFIX, strlen(XDPBAN_LINK_PREFIX)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, entry->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		if (bpf_link_update(fd, prog_fd, NULL) && errno != ENOLINK) {
			err = -errno;
			errmsg(why, "cannot switch %s to the new program: %s", path,
			       strerror(errno));
		}
		close(fd);
	}
	closedir(dir);
	return err;
}

static void aside_path(const char *pin_dir, const struct reshaped *map, char path[PATH_MAX])
{
	snprintf(path, PATH_MAX, "%s/%s_abi%u", pin_dir, map->name, (unsigned int)map->last_abi);
}

static bool aside_left(const char *pin_dir, const struct reshaped *map)
{
	char path[PATH_MAX];

	aside_path(pin_dir, map, path);
	return access(path, F_OK) == 0;
}

static void unpin_aside(const char *pin_dir, const struct reshaped *map)
{
	char path[PATH_MAX];

	aside_path(pin_dir, map, path);
	unlink(path);
}

static bool abi1_pins_left(const char *pin_dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", pin_dir, ABI1_BAN_ADDR);
	return access(path, F_OK) == 0;
}

/*
 * The old geo_blocks once no link uses it, kept pinned until geo/ has
 * rebuilt the index (migrate_geo_index_pending): while it is set aside under
 * its aside name, some link may still run the old program, which reads it.
 */
static void unused_path(const char *pin_dir, char path[PATH_MAX])
{
	snprintf(path, PATH_MAX, "%s/%s_abi%u_unused", pin_dir, RESHAPED_GEO_BLOCKS->name,
		 (unsigned int)RESHAPED_GEO_BLOCKS->last_abi);
}

/* What the old version left, once every link runs the new program. */
static void remove_old_pins(const char *pin_dir)
{
	const char *names[] = { ABI1_BAN_ADDR, ABI1_BAN_FILTER };
	char path[PATH_MAX], aside[PATH_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, names[i]);
		unlink(path);
	}
	unpin_aside(pin_dir, RESHAPED_BAN4);
	unpin_aside(pin_dir, RESHAPED_BAN6);
	aside_path(pin_dir, RESHAPED_GEO_BLOCKS, aside);
	unused_path(pin_dir, path);
	if (access(aside, F_OK) == 0)
		rename(aside, path);
}

static int map_tables(struct xdpban_bpf *skel, struct ban_table *table, char why[ERRMSG_LEN])
{
	return ban_table_map(table, bpf_map__fd(skel->maps.ban4), bpf_map__fd(skel->maps.ban6),
			     bpf_map__fd(skel->maps.ban_info4), bpf_map__fd(skel->maps.ban_info6),
			     bpf_map__fd(skel->maps.ban_meta), why);
}

/* ABI 1: every live ban of ban_addr into the tables. */
static int copy_abi1(const char *pin_dir, struct xdpban_bpf *skel, size_t *migrated,
		     char why[ERRMSG_LEN])
{
	struct ban_table table;
	int old_fd = -1, err = open_old_map(pin_dir, &old_fd, why);

	if (err)
		return err;
	err = map_tables(skel, &table, why);
	if (!err && old_fd >= 0)
		err = copy_bans(old_fd, &table, migrated, why);
	if (old_fd >= 0)
		close(old_fd);
	ban_table_release(&table);
	return err;
}

static int open_aside(const char *pin_dir, const struct reshaped *map, char why[ERRMSG_LEN])
{
	char path[PATH_MAX];
	int fd;

	aside_path(pin_dir, map, path);
	fd = bpf_obj_get(path);
	if (fd < 0)
		errmsg(why, "cannot open %s, map ABI %u's table set aside: %s", path,
		       (unsigned int)map->last_abi, strerror(errno));
	return fd < 0 ? -errno : fd;
}

/* ABI 2: the buckets of the tables set aside, and every spill filter filled in. */
static int copy_abi2(const char *pin_dir, struct xdpban_bpf *skel, size_t *migrated,
		     char why[ERRMSG_LEN])
{
	int old4 = open_aside(pin_dir, RESHAPED_BAN4, why);
	int old6 = old4 < 0 ? old4 : open_aside(pin_dir, RESHAPED_BAN6, why);
	struct ban_table table;
	int err = old6 < 0 ? old6 : map_tables(skel, &table, why);

	if (!err) {
		err = ban_table_copy_buckets(&table, old4, old6, why);
		*migrated = *table.v4.used + *table.v6.used;
		ban_table_release(&table);
	}
	if (old4 >= 0)
		close(old4);
	if (old6 >= 0)
		close(old6);
	return err;
}

/* The geo index's first levels, IPv4 and IPv6, by bucket: geo_index_entry is one __u32. */
struct geo_first {
	__u32 v4[GEO_INDEX_BUCKETS];
	__u32 v6[GEO_INDEX_BUCKETS];
};

static int geo_first_read(const struct maps *maps, struct geo_first *first, char why[ERRMSG_LEN])
{
	int err =
	    map_array_read(maps->geo_index4, GEO_INDEX_BUCKETS, first->v4, MAP_GEO_INDEX4, why);

	return err ? err
		   : map_array_read(maps->geo_index6, GEO_INDEX_BUCKETS, first->v6, MAP_GEO_INDEX6,
				    why);
}

static int geo_first_write(const struct maps *maps, const struct geo_first *first,
			   char why[ERRMSG_LEN])
{
	static __u32 keys[GEO_INDEX_BUCKETS];
	const int fds[2] = { maps->geo_index4, maps->geo_index6 };
	const __u32 *entries[2] = { first->v4, first->v6 };
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	for (__u32 b = 0; b < GEO_INDEX_BUCKETS; b++)
		keys[b] = b;
	for (int i = 0; i < 2; i++) {
		__u32 count = GEO_INDEX_BUCKETS;

		if (bpf_map_update_batch(fds[i], keys, entries[i], &count, &opts)) {
			errmsg(why, "cannot write the geo index: %s", strerror(errno));
			return -errno;
		}
	}
	return 0;
}

static bool names_a_block(__u32 entry)
{
	return entry >= GEO_INDEX_BLOCK_FIRST && entry < GEO_INDEX_MIXED;
}

/*
 * Sends every index entry that names a block to the trie, the path summary's
 * copy first: the old program reads the old geo_blocks and the new one an
 * empty map, and both answer right. geo/ rebuilds the index after the switch.
 */
static int geo_index_to_trie(const struct maps *maps, struct geo_first *saved, char why[ERRMSG_LEN])
{
	struct geo_first *routed = malloc(sizeof(*routed));
	int err = geo_first_read(maps, saved, why);

	if (!err && !routed) {
		errmsg(why, "out of memory for the geo index");
		err = -ENOMEM;
	}
	for (__u32 b = 0; !err && b < GEO_INDEX_BUCKETS; b++) {
		routed->v4[b] = names_a_block(saved->v4[b]) ? GEO_INDEX_MIXED : saved->v4[b];
		routed->v6[b] = names_a_block(saved->v6[b]) ? GEO_INDEX_MIXED : saved->v6[b];
	}
	if (!err)
		err = path_summary_geo_defer(maps, routed->v4, routed->v6, why);
	if (!err)
		err = geo_first_write(maps, routed, why);
	free(routed);
	return err;
}

static void geo_index_put_back(const struct maps *maps, const struct geo_first *saved)
{
	char ignored[ERRMSG_LEN];

	if (geo_first_write(maps, saved, ignored) == 0)
		path_summary_geo_set(maps, saved->v4, saved->v6, ignored);
}

/* The loaded object's maps the geo step changes: the index and the summary that copies it. */
static void geo_maps_of(struct xdpban_bpf *skel, struct maps *maps)
{
	pins_init(maps);
	maps->geo_index4 = bpf_map__fd(skel->maps.geo_index4);
	maps->geo_index6 = bpf_map__fd(skel->maps.geo_index6);
	maps->path_sum4 = bpf_map__fd(skel->maps.path_sum4);
	maps->path_sum6 = bpf_map__fd(skel->maps.path_sum6);
	maps->path_cidr4 = bpf_map__fd(skel->maps.path_cidr4);
}

/* Marks the pins of this ABI: from then on a version that misreads them refuses them. */
static int mark_config(struct xdpban_bpf *skel, struct xdpban_config *cfg, char why[ERRMSG_LEN])
{
	__u32 zero = 0;

	cfg->abi_version = XDPBAN_ABI_VERSION;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.xdpban_config), &zero, cfg, BPF_ANY)) {
		errmsg(why, "cannot write the config map: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* What an upgrade did so far, for what a failure must undo. */
struct upgrade_state {
	struct geo_first geo_saved; /* the index's first levels before they went to the trie */
	bool geo_moved;		    /* they did */
	bool marked;		    /* the config says this ABI: the data moved, keep it */
};

/*
 * Moves the bans and the geo index, marks the config, then points every
 * link at the loaded program. Pins marked already moved their data: an
 * upgrade cut short after that only switches again (copying the tables set
 * aside once more would undo what changed since).
 */
static int upgrade(const char *pin_dir, struct xdpban_bpf *skel, struct xdpban_config *cfg,
		   __u32 from, struct upgrade_state *state, size_t *migrated, char why[ERRMSG_LEN])
{
	struct maps geo_maps;
	int err = 0;

	if (from == ABI1_VERSION)
		err = copy_abi1(pin_dir, skel, migrated, why);
	else if (from == ABI2_VERSION)
		err = copy_abi2(pin_dir, skel, migrated, why);
	if (!err && from != XDPBAN_ABI_VERSION) {
		geo_maps_of(skel, &geo_maps);
		err = geo_index_to_trie(&geo_maps, &state->geo_saved, why);
		state->geo_moved = !err;
	}
	if (!err) {
		err = mark_config(skel, cfg, why);
		state->marked = !err;
	}
	return err ? err : switch_links(pin_dir, bpf_program__fd(skel->progs.xdpban), why);
}

/* The ABI of the pins: the config's, or for a config never written what the old pins left. */
static __u32 pins_abi(const struct xdpban_config *cfg, const char *pin_dir)
{
	if (cfg->initialized)
		return cfg->abi_version;
	if (abi1_pins_left(pin_dir))
		return ABI1_VERSION;
	return aside_left(pin_dir, RESHAPED_BAN4) ? ABI2_VERSION : XDPBAN_ABI_VERSION;
}

/* Anything an earlier version, or an upgrade cut short, left to do. */
static bool leftovers(const char *pin_dir)
{
	return abi1_pins_left(pin_dir) || aside_left(pin_dir, RESHAPED_BAN4) ||
	       aside_left(pin_dir, RESHAPED_GEO_BLOCKS);
}

static void abandon(const char *pin_dir, __u32 abi);

int migrate_pins(const char *pin_dir, struct xdpban_bpf *skel, size_t *migrated,
		 char why[ERRMSG_LEN])
{
	struct upgrade_state *state;
	struct xdpban_config cfg;
	__u32 from;
	int err = config_read(bpf_map__fd(skel->maps.xdpban_config), &cfg, why);

	*migrated = 0;
	if (err)
		return err;
	from = pins_abi(&cfg, pin_dir);
	if (from > XDPBAN_ABI_VERSION || from == 0)
		return 0; /* a version settings_check_abi() refuses */
	if (from == XDPBAN_ABI_VERSION && !leftovers(pin_dir))
		return 0;
	state = calloc(1, sizeof(*state));
	if (!state) {
		errmsg(why, "out of memory for the upgrade");
		return -ENOMEM;
	}
	err = upgrade(pin_dir, skel, &cfg, from, state, migrated, why);
	if (err && !state->marked) {
		struct maps geo_maps;

		geo_maps_of(skel, &geo_maps);
		if (state->geo_moved)
			geo_index_put_back(&geo_maps, &state->geo_saved);
		abandon(pin_dir, from);
	}
	free(state);
	if (!err)
		remove_old_pins(pin_dir);
	return err;
}

/* A map of the old shape for pins of this ABI: set aside while they upgrade. */
static bool reshaped_for(const struct reshaped *map, __u32 abi)
{
	return abi != 0 && abi <= map->last_abi;
}

/* Puts the maps that pins of this ABI set aside back in place. */
static void abandon(const char *pin_dir, __u32 abi)
{
	char path[PATH_MAX], aside[PATH_MAX];

	if (abi == XDPBAN_ABI_VERSION)
		return; /* links may run the new program already: the next attach goes on */
	for (size_t i = 0; i < ARRAY_SIZE(reshaped_maps); i++) {
		if (!reshaped_for(&reshaped_maps[i], abi))
			continue;
		aside_path(pin_dir, &reshaped_maps[i], aside);
		snprintf(path, sizeof(path), "%s/%s", pin_dir, reshaped_maps[i].name);
		if (access(aside, F_OK) == 0 && (unlink(path) == 0 || errno == ENOENT))
			rename(aside, path);
	}
}

void migrate_abandon(const char *pin_dir)
{
	abandon(pin_dir, pinned_abi(pin_dir));
}

int migrate_prepare(const char *pin_dir, char why[ERRMSG_LEN])
{
	char path[PATH_MAX], aside[PATH_MAX];
	__u32 abi = pinned_abi(pin_dir);

	for (size_t i = 0; i < ARRAY_SIZE(reshaped_maps); i++) {
		if (!reshaped_for(&reshaped_maps[i], abi))
			continue;
		aside_path(pin_dir, &reshaped_maps[i], aside);
		if (access(aside, F_OK) == 0)
			continue; /* set aside by an upgrade cut short: what is pinned now is new */
		snprintf(path, sizeof(path), "%s/%s", pin_dir, reshaped_maps[i].name);
		if (rename(path, aside) && errno != ENOENT) {
			errmsg(why, "cannot set %s aside for the upgrade: %s", path,
			       strerror(errno));
			return -errno;
		}
	}
	return 0;
}

bool migrate_pending(const char *pin_dir)
{
	__u32 abi = pinned_abi(pin_dir);

	return leftovers(pin_dir) || (abi != 0 && abi < XDPBAN_ABI_VERSION);
}

bool migrate_geo_index_pending(const char *pin_dir)
{
	char path[PATH_MAX];

	unused_path(pin_dir, path);
	return pinned_abi(pin_dir) == XDPBAN_ABI_VERSION && access(path, F_OK) == 0;
}

void migrate_geo_index_done(const char *pin_dir)
{
	char path[PATH_MAX];

	unused_path(pin_dir, path);
	unlink(path);
}
