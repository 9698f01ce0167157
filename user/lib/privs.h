/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The daemon's privileges after start-up: once the maps are open, the
 * sockets bound and the program attached, it keeps only the capabilities
 * its running work needs, and can never regain the others (bounding set,
 * no_new_privs):
 *   CAP_BPF             map reads and updates, loading the program again
 *   CAP_PERFMON         the verifier accepts the program's packet pointer
 *                       arithmetic only with it (measured: without it the
 *                       load fails, "R8 pointer -= pointer prohibited")
 *   CAP_NET_ADMIN       loading an XDP program and attaching it (re-attach)
 * (CAP_SYS_ADMIN instead of CAP_BPF and CAP_PERFMON on kernels before 5.8.)
 * No CAP_DAC_READ_SEARCH: it let a log path lead the daemon to any file
 * (/etc/shadow was read). Logs are read as root without it, which reads
 * Debian's root:adm and root:systemd-journal files as their owner, plus
 * group adm and systemd-journal (the unit's SupplementaryGroups) for those
 * another user writes (exim4's Debian-exim:adm); detect/logtail.h says what
 * else a log must be.
 */
#ifndef XDPBAN_PRIVS_H
#define XDPBAN_PRIVS_H

#include <stdint.h>
#include "lib/errmsg.h"

#define PRIVS_KEPT_NAMES "CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN"

/* Drops every capability but the ones above, for good. */
int privs_drop(char why[ERRMSG_LEN]);

/* The capability mask the daemon keeps on this kernel (for tests and messages). */
uint64_t privs_kept_mask(void);

#endif
