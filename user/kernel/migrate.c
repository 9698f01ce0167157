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
#include "xdpban.skel.h"

/*
 * ABI 1, as xdpban before the ban tables defined it: its exact-address map
 * and the filter in front of it. Kept here alone, to read old pins.
 */
#define ABI1_VERSION	1U
#define ABI1_BAN_ADDR	"ban_addr"
#define ABI1_BAN_FILTER "ban_filter"
/* ABI 2: the bucket tables of today, with a spill count and no spill filter. */
#define ABI2_VERSION 2U

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

/*
 * The tables stay where they are: their spill filters are filled in while the
 * old program, which reads the counts, keeps dropping.
 */
static int migrate_abi2(const char *pin_dir, struct xdpban_bpf *skel, struct xdpban_config *cfg,
			size_t *migrated, char why[ERRMSG_LEN])
{
	struct ban_table table;
	int err = map_tables(skel, &table, why);

	if (err)
		return err;
	err = ban_table_recount(&table);
	if (err)
		errmsg(why, "cannot count the ban tables' spills: %s", strerror(-err));
	*migrated = *table.v4.used + *table.v6.used;
	ban_table_release(&table);
	return err ? err : finish(pin_dir, skel, cfg, why);
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
	if (cfg.initialized && cfg.abi_version == ABI2_VERSION)
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

bool migrate_pending(const char *pin_dir)
{
	return abi1_pins_left(pin_dir) || pinned_abi(pin_dir) == ABI2_VERSION;
}
