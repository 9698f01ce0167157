// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "lib/privs.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define CAP_LAST_CAP_FILE "/proc/sys/kernel/cap_last_cap"

static int last_capability(void)
{
	FILE *file = fopen(CAP_LAST_CAP_FILE, "r");
	int last = CAP_LAST_CAP;

	if (file) {
		if (fscanf(file, "%d", &last) != 1)
			last = CAP_LAST_CAP;
		fclose(file);
	}
	return last;
}

uint64_t privs_kept_mask(void)
{
	uint64_t net = 1ULL << CAP_NET_ADMIN;

	/* Before CAP_BPF and CAP_PERFMON (5.8), CAP_SYS_ADMIN was what bpf(2) asked for. */
	if (last_capability() < CAP_BPF)
		return net | 1ULL << CAP_SYS_ADMIN;
	return net | 1ULL << CAP_BPF | 1ULL << CAP_PERFMON;
}

/* Keeps mask, or as much of it as the process has (systemd may have bounded it). */
static int set_capabilities(uint64_t mask)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	uint64_t permitted;

	if (syscall(SYS_capget, &header, data))
		return -errno;
	permitted = (uint64_t)data[1].permitted << 32 | data[0].permitted;
	mask &= permitted;
	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = (__u32)mask;
	data[1].effective = data[1].permitted = (__u32)(mask >> 32);
	return syscall(SYS_capset, &header, data) ? -errno : 0;
}

/*
 * Groups adm and systemd-journal, for logs another user writes (exim4's
 * Debian-exim:adm 0640): the unit's SupplementaryGroups gives them; a
 * daemon started by hand takes them here (CAP_SETGID, which the unit does
 * not grant and then need not). Best effort: a log it cannot read is said.
 */
static void join_log_groups(void)
{
	static const char *const names[] = { "adm", "systemd-journal" };
	gid_t groups[NGROUPS_MAX + 2];
	int n = getgroups(NGROUPS_MAX, groups);
	bool added = false;

	for (size_t i = 0; n >= 0 && i < sizeof(names) / sizeof(names[0]); i++) {
		const struct group *group = getgrnam(names[i]);
		bool member = false;

		for (int j = 0; group && j < n && !member; j++)
			member = groups[j] == group->gr_gid;
		if (group && !member) {
			groups[n++] = group->gr_gid;
			added = true;
		}
	}
	if (added)
		setgroups((size_t)n, groups);
}

int privs_drop(char why[ERRMSG_LEN])
{
	uint64_t keep = privs_kept_mask();
	int last = last_capability(), err;

	join_log_groups();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		err = -errno;
		errmsg(why, "cannot set no_new_privs: %s", strerror(errno));
		return err;
	}
	for (int cap = 0; cap <= last; cap++) {
		if (keep & 1ULL << cap || prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1)
			continue; /* kept, or gone already (systemd's bounding set) */
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL) {
			err = -errno;
			errmsg(why, "cannot drop capability %d from the bounding set: %s", cap,
			       strerror(errno));
			return err;
		}
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	err = set_capabilities(keep);
	if (err)
		errmsg(why, "cannot drop capabilities: %s", strerror(-err));
	return err;
}
