/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Keeps xdpban attached to its interfaces: an rtnetlink socket in the
 * daemon's event loop sees links appear, change and go, and addresses
 * change. An interface deleted and created again (a new ifindex) gets the
 * program back; one only taken down and up keeps its link (XDP stays
 * attached across down/up). The interfaces watched are those of
 * [daemon] interfaces and those xdpban is attached to in this network
 * namespace (at start, or whenever a link change shows one). Only the
 * former are the config's: a reload that drops one of them detaches it,
 * while one attached by hand ('xdpban attach') is left alone.
 */
#ifndef XDPBAN_IFWATCH_H
#define XDPBAN_IFWATCH_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include "lib/errmsg.h"

#define IFWATCH_MAX 64

struct ifwatch_name {
	char name[IF_NAMESIZE];
	bool configured; /* named by [daemon] interfaces, so a reload may take it away */
};

struct ifwatch {
	int fd; /* the rtnetlink socket, for epoll; -1 when closed */
	char pin_dir[PATH_MAX];
	struct ifwatch_name names[IFWATCH_MAX];
	size_t count;
	unsigned long reattached, failures, detach_failures;
};

/* Opens the socket; watches configured (space-separated names) and what is attached now. */
int ifwatch_open(struct ifwatch *watch, const char *pin_dir, const char *configured,
		 char why[ERRMSG_LEN]);
void ifwatch_close(struct ifwatch *watch);

/*
 * A reload's [daemon] interfaces (space-separated): the configured names
 * it lacks are detached (as 'xdpban detach' does) and no longer watched,
 * and its names are watched. One that cannot be detached is reported, stays
 * attached and watched, and the next reload tries again. What happens is
 * logged (lib/log.h), one line each.
 */
void ifwatch_configure(struct ifwatch *watch, const char *configured);

/* Attaches to every watched interface that exists and lacks the program. */
void ifwatch_ensure(struct ifwatch *watch);

/*
 * Reads what the socket has, re-attaching where needed. Returns true when
 * an address of the host or a default route changed (the caller lists them
 * again).
 */
bool ifwatch_handle(struct ifwatch *watch);

#endif
