// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "kernel/bpffs.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#define BPFFS_ROOT	"/sys/fs/bpf"
#define NETNS_RUN_DIR	"/run/netns" /* where ip netns keeps named namespaces */
#define MOUNT_FIELD_LEN 256

bool bpffs_holds(const char *path)
{
	struct statfs fs;

	return statfs(path, &fs) == 0 && fs.f_type == BPF_FS_MAGIC;
}

static bool under_bpffs_root(const char *pin_dir)
{
	return strncmp(pin_dir, BPFFS_ROOT "/", strlen(BPFFS_ROOT) + 1) == 0;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/*
 * The source of the topmost mount at /sys: "sysfs" as the kernel and systemd
 * mount it, the namespace's name when 'ip netns exec NAME' mounted a sysfs
 * of its own there. Empty when mountinfo cannot be read.
 */
static void sys_mount_source(char source[MOUNT_FIELD_LEN])
{
	FILE *mountinfo = fopen("/proc/self/mountinfo", "re");
	char line[4096], point[MOUNT_FIELD_LEN], found[MOUNT_FIELD_LEN];

	source[0] = '\0';
	if (!mountinfo)
		return;
	/* ID PARENT MAJ:MIN ROOT POINT OPTIONS [TAGS...] - FSTYPE SOURCE SUPEROPTIONS */
	while (fgets(line, sizeof(line), mountinfo)) {
		const char *tail = strstr(line, " - ");

		if (tail && sscanf(line, "%*s %*s %*s %*s %255s", point) == 1 &&
		    strcmp(point, "/sys") == 0 && sscanf(tail + 3, "%*s %255s", found) == 1)
			snprintf(source, MOUNT_FIELD_LEN, "%s", found);
	}
	fclose(mountinfo);
}

/*
 * The name 'ip netns exec' gave this process's /sys, when that is the name
 * of this process's network namespace in /run/netns; else false.
 */
static bool ip_netns_exec_name(char name[MOUNT_FIELD_LEN])
{
	char path[PATH_MAX];

	sys_mount_source(name);
	if (!name[0] || strchr(name, '/') || strcmp(name, "sysfs") == 0)
		return false;
	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", name);
	return same_file(path, "/proc/self/ns/net");
}

/* False when this process's mount namespace is not its parent's; true when it is or cannot be told.
 */
static bool parents_mount_namespace(void)
{
	char parent[64];

	snprintf(parent, sizeof(parent), "/proc/%d/ns/mnt", (int)getppid());
	if (access(parent, F_OK))
		return true;
	return same_file("/proc/self/ns/mnt", parent);
}

int bpffs_check_lasting(const char *pin_dir, char why[ERRMSG_LEN])
{
	char netns[MOUNT_FIELD_LEN];

	if (!under_bpffs_root(pin_dir) || bpffs_holds(BPFFS_ROOT))
		return 0;
	if (ip_netns_exec_name(netns)) {
		errmsg(why,
		       "cannot use %s: 'ip netns exec %s' gives this command a /sys of its own "
		       "without the host's bpffs, and pins made there vanish when it exits; run "
		       "'nsenter --net=" NETNS_RUN_DIR "/%s xdpban ...' instead",
		       pin_dir, netns, netns);
		return -EXDEV;
	}
	if (!parents_mount_namespace()) {
		errmsg(why,
		       "cannot use %s: no bpffs is mounted at " BPFFS_ROOT " in this mount "
		       "namespace, which is this command's own, and pins made there would vanish "
		       "with it; mount it on the host ('mount -t bpf bpf " BPFFS_ROOT "') or run "
		       "xdpban in the host's mount namespace",
		       pin_dir);
		return -EXDEV;
	}
	return 0;
}

int bpffs_mount_if_needed(const char *pin_dir, char why[ERRMSG_LEN])
{
	if (!under_bpffs_root(pin_dir))
		return 0; /* a custom location: the operator mounted it */
	if (bpffs_holds(BPFFS_ROOT))
		return 0;
	if (mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700")) {
		int err = -errno;

		errmsg(why, "cannot mount bpffs at %s: %s", BPFFS_ROOT, strerror(errno));
		return err;
	}
	return 0;
}
