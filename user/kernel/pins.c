// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "kernel/pins.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kernel/bpffs.h"
#include "kernel/migrate.h"
#include "kernel/settings.h"
#include "lib/util.h"
#include "xdpban_maps.h"

struct map_spec {
	const char *name;
	size_t offset; /* of the descriptor in struct maps */
	__u32 key_size;
	__u32 value_size;
};

static const struct map_spec map_specs[] = {
	{ MAP_ALLOW_CIDR, offsetof(struct maps, allow_cidr), sizeof(struct lpm_key),
	  sizeof(struct allow_entry) },
	{ MAP_BAN4, offsetof(struct maps, ban4), sizeof(__u32), sizeof(struct ban4_bucket) },
	{ MAP_BAN6, offsetof(struct maps, ban6), sizeof(__u32), sizeof(struct ban6_bucket) },
	{ MAP_BAN_INFO4, offsetof(struct maps, ban_info4), sizeof(__u32), sizeof(struct ban_info) },
	{ MAP_BAN_INFO6, offsetof(struct maps, ban_info6), sizeof(__u32), sizeof(struct ban_info) },
	{ MAP_BAN_META, offsetof(struct maps, ban_meta), sizeof(__u32), sizeof(struct ban_meta) },
	{ MAP_BAN_CIDR, offsetof(struct maps, ban_cidr), sizeof(struct lpm_key),
	  sizeof(struct ban_entry) },
	{ MAP_GEO_PREFIX, offsetof(struct maps, geo_prefix), sizeof(struct lpm_key),
	  sizeof(struct geo_entry) },
	{ MAP_GEO_BLOCKED, offsetof(struct maps, geo_blocked), sizeof(__u32),
	  sizeof(struct geo_policy) },
	{ MAP_GEO_DROPS, offsetof(struct maps, geo_drops), sizeof(__u32),
	  sizeof(struct verdict_counter) },
	{ MAP_GEO_INDEX4, offsetof(struct maps, geo_index4), sizeof(__u32),
	  sizeof(struct geo_index_entry) },
	{ MAP_GEO_INDEX6, offsetof(struct maps, geo_index6), sizeof(__u32),
	  sizeof(struct geo_index_entry) },
	{ MAP_GEO_BLOCKS, offsetof(struct maps, geo_blocks), sizeof(__u32),
	  sizeof(struct geo_index_block) },
	{ MAP_VERDICT_STATS, offsetof(struct maps, verdict_stats), sizeof(__u32),
	  sizeof(struct verdict_counter) },
	{ MAP_CONFIG, offsetof(struct maps, config), sizeof(__u32), sizeof(struct xdpban_config) },
	{ MAP_PATH_SUM4, offsetof(struct maps, path_sum4), sizeof(__u32),
	  sizeof(struct path_summary) },
	{ MAP_PATH_SUM6, offsetof(struct maps, path_sum6), sizeof(__u32),
	  sizeof(struct path_summary) },
	{ MAP_PATH_CIDR4, offsetof(struct maps, path_cidr4), sizeof(__u32),
	  sizeof(struct path_cidr) },
};

#define MAP_COUNT ARRAY_SIZE(map_specs)

static int *map_fd_slot(struct maps *maps, const struct map_spec *spec)
{
	return (int *)((char *)maps + spec->offset);
}

int pins_prepare(const char *pin_dir, char why[ERRMSG_LEN])
{
	int err = bpffs_check_lasting(pin_dir, why);

	if (!err)
		err = bpffs_mount_if_needed(pin_dir, why);
	if (err)
		return err;
	if (mkdir(pin_dir, 0700) && errno != EEXIST) {
		err = -errno;
		errmsg(why, "cannot create pin directory %s: %s", pin_dir, strerror(errno));
		return err;
	}
	if (!bpffs_holds(pin_dir)) {
		errmsg(why, "pin directory %s is not on a bpf filesystem", pin_dir);
		return -ENOTDIR;
	}
	return 0;
}

bool pins_maps_present(const char *pin_dir)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < MAP_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, map_specs[i].name);
		if (access(path, F_OK))
			return false;
	}
	return !migrate_pending(pin_dir);
}

static void say_upgrade(const char *pin_dir, char why[ERRMSG_LEN])
{
	errmsg(why,
	       "the pins in %s were made by an earlier xdpban: run 'xdpban attach "
	       "IFACE' (or any command that changes bans) once to upgrade them, "
	       "keeping every ban",
	       pin_dir);
}

static int open_map(const char *pin_dir, const struct map_spec *spec, char why[ERRMSG_LEN])
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	char path[PATH_MAX];
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", pin_dir, spec->name);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		if (errno == ENOENT && migrate_pending(pin_dir))
			say_upgrade(pin_dir, why);
		else if (errno == ENOENT)
			errmsg(why,
			       "xdpban is not loaded: %s does not exist "
			       "(run 'xdpban attach IFACE' first)",
			       path);
		else
			errmsg(why, "cannot open pinned map %s: %s", path, strerror(errno));
		return err;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &info_len)) {
		err = -errno;
		errmsg(why, "cannot query pinned map %s: %s", path, strerror(errno));
		close(fd);
		return err;
	}
	if (info.key_size != spec->key_size || info.value_size != spec->value_size) {
		errmsg(why,
		       "pinned map %s has key/value size %u/%u, this xdpban expects %u/%u "
		       "(made by another version: detach and remove %s)",
		       path, info.key_size, info.value_size, spec->key_size, spec->value_size,
		       pin_dir);
		close(fd);
		return -EPROTO;
	}
	return fd;
}

static int check_abi(const char *pin_dir, struct maps *maps, char why[ERRMSG_LEN])
{
	struct xdpban_config cfg;
	__u32 zero = 0;
	int err;

	if (bpf_map_lookup_elem(maps->config, &zero, &cfg)) {
		err = -errno;
		errmsg(why, "cannot read the config map: %s", strerror(errno));
	} else if (migrate_pending(pin_dir)) {
		err = -EPROTO;
		say_upgrade(pin_dir, why);
	} else {
		err = settings_check_abi(&cfg, why);
	}
	if (err)
		pins_close(maps);
	return err;
}

void pins_init(struct maps *maps)
{
	memset(&maps->bans, 0, sizeof(maps->bans));
	for (size_t i = 0; i < MAP_COUNT; i++)
		*map_fd_slot(maps, &map_specs[i]) = -1;
}

int pins_open(const char *pin_dir, struct maps *maps, char why[ERRMSG_LEN])
{
	int err;

	pins_init(maps);
	err = bpffs_check_lasting(pin_dir, why);
	if (err)
		return err;

	for (size_t i = 0; i < MAP_COUNT; i++) {
		int fd = open_map(pin_dir, &map_specs[i], why);

		if (fd < 0) {
			pins_close(maps);
			return fd;
		}
		*map_fd_slot(maps, &map_specs[i]) = fd;
	}
	err = check_abi(pin_dir, maps, why);
	if (!err)
		err = pins_map_bans(maps, why);
	if (err)
		pins_close(maps);
	return err;
}

int pins_map_bans(struct maps *maps, char why[ERRMSG_LEN])
{
	return ban_table_map(&maps->bans, maps->ban4, maps->ban6, maps->ban_info4, maps->ban_info6,
			     maps->ban_meta, why);
}

void pins_close(struct maps *maps)
{
	ban_table_release(&maps->bans);
	for (size_t i = 0; i < MAP_COUNT; i++) {
		int *fd = map_fd_slot(maps, &map_specs[i]);

		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
}

int pins_from_object(struct bpf_object *obj, struct maps *maps, char why[ERRMSG_LEN])
{
	for (size_t i = 0; i < MAP_COUNT; i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(obj, map_specs[i].name);

		if (!map) {
			errmsg(why, "the BPF object has no map %s", map_specs[i].name);
			return -ENOENT;
		}
		*map_fd_slot(maps, &map_specs[i]) = bpf_map__fd(map);
	}
	return pins_map_bans(maps, why);
}

int pins_lock(const char *pin_dir, char why[ERRMSG_LEN])
{
	int fd, err = bpffs_check_lasting(pin_dir, why);

	if (err)
		return err;
	fd = open(pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		errmsg(why, "cannot open pin directory %s: %s", pin_dir, strerror(errno));
		return err;
	}
	if (flock(fd, LOCK_EX)) {
		err = -errno;
		errmsg(why, "cannot lock pin directory %s: %s", pin_dir, strerror(errno));
		close(fd);
		return err;
	}
	return fd;
}
