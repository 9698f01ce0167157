/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Loading the XDP program, and attaching it to interfaces through pinned bpf_links. */
#ifndef XDPBAN_LOADER_H
#define XDPBAN_LOADER_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include "lib/errmsg.h"

struct xdpban_bpf;

enum attach_mode {
	ATTACH_AUTO, /* native where the driver supports it, else generic */
	ATTACH_NATIVE,
	ATTACH_GENERIC,
};

struct attached_link {
	char pin_name[64];
	unsigned long netns;  /* inode of the network namespace of the interface */
	bool other_netns;     /* not this process's namespace: ifname and mode unknown */
	unsigned int ifindex; /* the interface it is attached to now; 0 when gone */
	char ifname[IF_NAMESIZE];
	unsigned int link_id;
	unsigned int prog_id;
	const char *mode; /* "native", "generic", "offload" or "unknown" */
	bool stale;	  /* the interface went away; the pin is left over */
};

int link_mode_parse(const char *text, enum attach_mode *mode, char why[ERRMSG_LEN]);

/*
 * Loads the program; libbpf creates the maps, or reuses the pinned ones so
 * no ban is lost across reloads and upgrades. Writes the default runtime
 * config the first time the maps are created.
 */
int link_program_load(const char *pin_dir, struct xdpban_bpf **skel, char why[ERRMSG_LEN]);

/* Creates and pins the maps when they are missing (loads, then unloads, the program). */
int link_ensure_maps(const char *pin_dir, char why[ERRMSG_LEN]);

/*
 * Attaches the program to ifname through a pinned bpf_link that outlives
 * this process. When xdpban is already attached there, the link is switched
 * to the new program atomically (an upgrade without a gap). *replaced says which.
 */
int link_attach(const char *pin_dir, const char *ifname, enum attach_mode mode, bool *replaced,
		char why[ERRMSG_LEN]);
int link_detach(const char *pin_dir, const char *ifname, char why[ERRMSG_LEN]);

/* True when xdpban's pinned link for ifindex (this namespace) is attached there. */
bool link_is_attached(const char *pin_dir, unsigned int ifindex);

/*
 * Attaches to ifname unless xdpban already is, then removes the pins of
 * this namespace's links whose interface went away (an interface deleted
 * and created again has a new ifindex). Returns 1 when it attached, 0 when
 * it was attached already. Hold the writer lock.
 */
int link_reattach(const char *pin_dir, const char *ifname, char why[ERRMSG_LEN]);

/* Removes the pins of this namespace's links whose interface went away. */
void link_remove_all_stale(const char *pin_dir);

/* Removes the pin of a link whose interface has gone. */
int link_remove_stale(const char *pin_dir, const struct attached_link *link, char why[ERRMSG_LEN]);

/* Lists the pinned links of every network namespace; the caller frees *links. */
int link_list(const char *pin_dir, struct attached_link **links, size_t *count,
	      char why[ERRMSG_LEN]);

#endif
