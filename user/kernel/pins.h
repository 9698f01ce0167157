/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The pinned objects under the pin directory: bpffs, the maps, the writer lock. */
#ifndef XDPBAN_PINS_H
#define XDPBAN_PINS_H

#include <stdbool.h>
#include "lib/errmsg.h"
#include "kernel/ban_table.h"
#include "xdpban_maps.h"

/* File descriptors of every pinned map; -1 where not open. */
struct maps {
	int allow_cidr;
	int ban4;
	int ban6;
	int ban_info4;
	int ban_info6;
	int ban_meta;
	int ban_cidr;
	int geo_prefix;
	int geo_blocked;
	int geo_drops;
	int geo_index4;
	int geo_index6;
	int geo_blocks;
	int verdict_stats;
	int config;
	struct ban_table bans; /* ban4, ban6, ban_info4/6 and ban_meta, mapped */
	int path_sum4;	       /* the path summary (kernel/path_summary.h) */
	int path_sum6;
	int path_cidr4;
};

/*
 * Refuses a bpffs that would not outlast this process (bpffs_check_lasting),
 * mounts bpffs at /sys/fs/bpf when needed and creates the pin directory.
 */
int pins_prepare(const char *pin_dir, char why[ERRMSG_LEN]);

/* True when every map of the ABI is pinned in pin_dir, and no older one is left to migrate. */
bool pins_maps_present(const char *pin_dir);

/*
 * Opens every pinned map and checks its key and value sizes against this
 * binary's ABI, so a stale pin is reported instead of misread.
 */
int pins_open(const char *pin_dir, struct maps *maps, char why[ERRMSG_LEN]);
void pins_close(struct maps *maps);
/* Marks every descriptor unopened, so pins_close() is safe before pins_open(). */
void pins_init(struct maps *maps);

struct bpf_object;
/*
 * Fills maps with the descriptors of a loaded object's maps (tests and
 * benchmarks, which use private unpinned maps), and maps the ban tables. The
 * object keeps owning the descriptors: ban_table_release(&maps->bans) alone
 * undoes this.
 */
int pins_from_object(struct bpf_object *obj, struct maps *maps, char why[ERRMSG_LEN]);
/* Maps the ban tables of the open descriptors (pins_open and pins_from_object do it). */
int pins_map_bans(struct maps *maps, char why[ERRMSG_LEN]);

/*
 * Serialises writers (CLI commands, the daemon) so read-modify-write
 * sequences on the maps cannot interleave. Returns a descriptor to close.
 */
int pins_lock(const char *pin_dir, char why[ERRMSG_LEN]);

#endif
