/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The bpf filesystem the pins live in: whether this process sees the host's,
 * and mounting it at /sys/fs/bpf when nobody has.
 */
#ifndef XDPBAN_BPFFS_H
#define XDPBAN_BPFFS_H

#include <stdbool.h>
#include "lib/errmsg.h"

/* True when path is on a bpf filesystem. */
bool bpffs_holds(const char *path);

/*
 * Fails, with one line saying why and what to run instead, when pin_dir is
 * under /sys/fs/bpf, no bpffs is mounted there, and this process runs in a
 * mount namespace of its own: 'ip netns exec' gives the command a private
 * /sys, 'unshare -m' a private mount table. A bpffs mounted there, and every
 * pin made in it, would vanish with the namespace: an attach would report
 * success for a program that is gone when the command returns, and a read
 * would report "not loaded" while the host's pins are intact. Every use of
 * the pins checks this first.
 */
int bpffs_check_lasting(const char *pin_dir, char why[ERRMSG_LEN]);

/*
 * Mounts bpffs at /sys/fs/bpf when pin_dir is under it and none is mounted
 * (a host without systemd, which mounts it at boot); after the check above.
 */
int bpffs_mount_if_needed(const char *pin_dir, char why[ERRMSG_LEN]);

#endif
