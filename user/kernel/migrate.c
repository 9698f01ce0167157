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
/*
 * ABI 2: the bucket tables of today, with a spill count and no spill filter.
 * Its ban4 and ban6 are set aside under these names while the new ones, with
 * the new BTF (what bpftool shows), are made and filled.
 */
#define ABI2_VERSION	  2U
#define ABI2_ASIDE_SUFFIX "_abi2" /* bpffs refuses dots in names */

static const char *const abi2_tables[] = { MAP_BAN4, MAP_BAN6 };

struct abi1_ban_entry {
	__u64 expires_ns; /* CLOCK_MONOTONIC; 0 permanent */
	__u64 created_unix;
	__u32 prefixlen;
	__u32 origin;
};

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

static void remove_old_pins(const char *pin_dir)
{
	const char *names[] = { ABI1_BAN_ADDR, ABI1_BAN_FILTER };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, names[i]);
		unlink(path);
	}
}

static int map_tables(struct xdpban_bpf *skel, struct ban_table *table, char why[ERRMSG_LEN])
{
	return ban_table_map(table, bpf_map__fd(skel->maps.ban4), bpf_map__fd(skel->maps.ban6),
			     bpf_map__fd(skel->maps.ban_info4), bpf_map__fd(skel->maps.ban_info6),
			     bpf_map__fd(skel->maps.ban_meta), why);
}

/*
 * Marks the pins of this ABI, then points every link at the loaded program:
 * from then on a version that misreads the tables refuses them.
 */
static int finish(const char *pin_dir, struct xdpban_bpf *skel, struct xdpban_config *cfg,
		  char why[ERRMSG_LEN])
{
	__u32 zero = 0;

	cfg->abi_version = XDPBAN_ABI_VERSION;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.xdpban_config), &zero, cfg, BPF_ANY)) {
		errmsg(why, "cannot write the config map: %s", strerror(errno));
		return -errno;
	}
	return switch_links(pin_dir, bpf_program__fd(skel->progs.xdpban), why);
}

static int migrate_abi1(const char *pin_dir, struct xdpban_bpf *skel, struct xdpban_config *cfg,
			size_t *migrated, char why[ERRMSG_LEN])
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
	if (!err)
		err = finish(pin_dir, skel, cfg, why);
	if (!err)
		remove_old_pins(pin_dir);
	return err;
}

static void aside_path(const char *pin_dir, const char *name, char path[PATH_MAX])
{
	snprintf(path, PATH_MAX, "%s/%s" ABI2_ASIDE_SUFFIX, pin_dir, name);
}

static bool abi2_aside_left(const char *pin_dir)
{
	char path[PATH_MAX];

	aside_path(pin_dir, MAP_BAN4, path);
	return access(path, F_OK) == 0;
}

static int open_aside(const char *pin_dir, const char *name, char why[ERRMSG_LEN])
{
	char path[PATH_MAX];
	int fd;

	aside_path(pin_dir, name, path);
	fd = bpf_obj_get(path);
	if (fd < 0)
		errmsg(why, "cannot open %s, map ABI 2's table set aside: %s", path,
		       strerror(errno));
	return fd < 0 ? -errno : fd;
}

/*
 * The old program keeps dropping from the old tables, set aside, until its
 * links are switched to the new program, whose tables are their copy.
 */
static int migrate_abi2(const char *pin_dir, struct xdpban_bpf *skel, struct xdpban_config *cfg,
			size_t *migrated, char why[ERRMSG_LEN])
{
	int old4 = open_aside(pin_dir, MAP_BAN4, why);
	int old6 = old4 < 0 ? old4 : open_aside(pin_dir, MAP_BAN6, why);
	struct ban_table table;
	int err = old6 < 0 ? old6 : map_tables(skel, &table, why);
	char path[PATH_MAX];

	if (!err) {
		err = ban_table_copy_buckets(&table, old4, old6, why);
		*migrated = *table.v4.used + *table.v6.used;
		ban_table_release(&table);
	}
	if (old4 >= 0)
		close(old4);
	if (old6 >= 0)
		close(old6);
	if (err) {
		migrate_abandon(pin_dir);
		return err;
	}
	err = finish(pin_dir, skel, cfg, why);
	for (size_t i = 0; !err && i < ARRAY_SIZE(abi2_tables); i++) {
		aside_path(pin_dir, abi2_tables[i], path);
		unlink(path);
	}
	return err;
}

static bool abi1_pins_left(const char *pin_dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", pin_dir, ABI1_BAN_ADDR);
	return access(path, F_OK) == 0;
}

int migrate_pins(const char *pin_dir, struct xdpban_bpf *skel, size_t *migrated,
		 char why[ERRMSG_LEN])
{
	struct xdpban_config cfg;
	int err = config_read(bpf_map__fd(skel->maps.xdpban_config), &cfg, why);

	*migrated = 0;
	if (err)
		return err;
	if (cfg.initialized && cfg.abi_version != ABI1_VERSION && cfg.abi_version != ABI2_VERSION &&
	    cfg.abi_version != XDPBAN_ABI_VERSION)
		return 0; /* a version settings_check_abi() refuses */
	/* Old pins left at a later ABI: an upgrade cut short, done again. */
	if ((cfg.initialized && cfg.abi_version == ABI1_VERSION) || abi1_pins_left(pin_dir))
		return migrate_abi1(pin_dir, skel, &cfg, migrated, why);
	if ((cfg.initialized && cfg.abi_version == ABI2_VERSION) || abi2_aside_left(pin_dir))
		return migrate_abi2(pin_dir, skel, &cfg, migrated, why);
	return 0;
}

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

void migrate_abandon(const char *pin_dir)
{
	char path[PATH_MAX], aside[PATH_MAX];

	if (pinned_abi(pin_dir) != ABI2_VERSION)
		return; /* links may run the new program already: the next attach goes on */
	for (size_t i = 0; i < ARRAY_SIZE(abi2_tables); i++) {
		aside_path(pin_dir, abi2_tables[i], aside);
		snprintf(path, sizeof(path), "%s/%s", pin_dir, abi2_tables[i]);
		if (access(aside, F_OK) == 0 && (unlink(path) == 0 || errno == ENOENT))
			rename(aside, path);
	}
}

int migrate_prepare(const char *pin_dir, char why[ERRMSG_LEN])
{
	char path[PATH_MAX], aside[PATH_MAX];

	if (pinned_abi(pin_dir) != ABI2_VERSION)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(abi2_tables); i++) {
		aside_path(pin_dir, abi2_tables[i], aside);
		if (access(aside, F_OK) == 0)
			continue; /* set aside by an upgrade cut short: what is pinned now is new */
		snprintf(path, sizeof(path), "%s/%s", pin_dir, abi2_tables[i]);
		if (rename(path, aside)) {
			errmsg(why, "cannot set %s aside for the upgrade: %s", path,
			       strerror(errno));
			return -errno;
		}
	}
	return 0;
}

bool migrate_pending(const char *pin_dir)
{
	return abi1_pins_left(pin_dir) || abi2_aside_left(pin_dir) ||
	       pinned_abi(pin_dir) == ABI2_VERSION;
}
