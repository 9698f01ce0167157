// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "ifwatch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "loader.h"
#include "pins.h"

#define NETLINK_BUFFER 65536

static bool watched(const struct ifwatch *watch, const char *name)
{
	for (size_t i = 0; i < watch->count; i++) {
		if (strcmp(watch->names[i], name) == 0)
			return true;
	}
	return false;
}

static void watch_name(struct ifwatch *watch, const char *name)
{
	if (!*name || watched(watch, name) || watch->count == IFWATCH_MAX)
		return;
	snprintf(watch->names[watch->count++], IF_NAMESIZE, "%s", name);
}

void ifwatch_add_names(struct ifwatch *watch, const char *names)
{
	char copy[IFWATCH_MAX * IF_NAMESIZE], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", names);
	for (char *name = strtok_r(copy, " ", &save); name; name = strtok_r(NULL, " ", &save))
		watch_name(watch, name);
}

static void watch_attached(struct ifwatch *watch)
{
	struct attached_link *links = NULL;
	char ignored[ERRMSG_LEN];
	size_t count = 0;

	if (links_list(watch->pin_dir, &links, &count, ignored))
		return;
	for (size_t i = 0; i < count; i++) {
		if (!links[i].other_netns && !links[i].stale)
			watch_name(watch, links[i].ifname);
	}
	free(links);
}

int ifwatch_open(struct ifwatch *watch, const char *pin_dir, const char *configured,
		 char why[ERRMSG_LEN])
{
	struct sockaddr_nl local = { .nl_family = AF_NETLINK,
				     .nl_groups =
					 RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR };
	int err;

	memset(watch, 0, sizeof(*watch));
	snprintf(watch->pin_dir, sizeof(watch->pin_dir), "%s", pin_dir);
	watch->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (watch->fd < 0 || bind(watch->fd, (struct sockaddr *)&local, sizeof(local))) {
		err = -errno;
		errmsg(why, "cannot watch the interfaces (rtnetlink): %s", strerror(errno));
		if (watch->fd >= 0)
			close(watch->fd);
		watch->fd = -1;
		return err;
	}
	ifwatch_add_names(watch, configured);
	watch_attached(watch);
	return 0;
}

void ifwatch_close(struct ifwatch *watch)
{
	if (watch->fd >= 0)
		close(watch->fd);
	watch->fd = -1;
}

static void reattach(struct ifwatch *watch, const char *name, ifwatch_report_fn report, void *ctx)
{
	char why[ERRMSG_LEN], message[ERRMSG_LEN + 64];
	int lock = pins_lock(watch->pin_dir, why);
	int done = lock < 0 ? lock : link_reattach(watch->pin_dir, name, why);

	if (lock >= 0)
		close(lock);
	if (done == 0)
		return;
	if (done < 0) {
		watch->failures++;
		snprintf(message, sizeof(message), "cannot attach to %s: %s", name, why);
	} else {
		watch->reattached++;
		snprintf(message, sizeof(message), "attached to %s (ifindex %u)", name,
			 if_nametoindex(name));
	}
	report(ctx, done < 0, message);
}

void ifwatch_ensure(struct ifwatch *watch, ifwatch_report_fn report, void *ctx)
{
	for (size_t i = 0; i < watch->count; i++) {
		if (if_nametoindex(watch->names[i]))
			reattach(watch, watch->names[i], report, ctx);
	}
}

static const char *link_name(const struct nlmsghdr *msg)
{
	const struct ifinfomsg *info = NLMSG_DATA(msg);
	int len = (int)IFLA_PAYLOAD(msg);

	for (const struct rtattr *attr = IFLA_RTA(info); RTA_OK(attr, len);
	     attr = RTA_NEXT(attr, len)) {
		if (attr->rta_type == IFLA_IFNAME)
			return RTA_DATA(attr);
	}
	return NULL;
}

static void on_link(struct ifwatch *watch, const struct nlmsghdr *msg, ifwatch_report_fn report,
		    void *ctx)
{
	const struct ifinfomsg *info = NLMSG_DATA(msg);
	const char *name = link_name(msg);
	char message[64];

	if (!name)
		return;
	/* A change of an interface xdpban is on (by whoever attached it) makes it watched. */
	if (link_is_attached(watch->pin_dir, (unsigned int)info->ifi_index))
		watch_name(watch, name);
	if (!watched(watch, name))
		return;
	if (msg->nlmsg_type == RTM_NEWLINK && if_nametoindex(name) != (unsigned int)info->ifi_index)
		return; /* the last word of an interface that is going away */
	if (msg->nlmsg_type == RTM_DELLINK) {
		snprintf(message, sizeof(message), "%s went away; waiting for it", name);
		report(ctx, false, message);
		return;
	}
	reattach(watch, name, report, ctx);
}

bool ifwatch_handle(struct ifwatch *watch, ifwatch_report_fn report, void *ctx)
{
	static char buffer[NETLINK_BUFFER] __attribute__((aligned(NLMSG_ALIGNTO)));
	bool addresses = false;

	for (;;) {
		ssize_t got = recv(watch->fd, buffer, sizeof(buffer), 0);

		if (got < 0 && errno == ENOBUFS) {
			/* Messages were lost: look at everything again. */
			ifwatch_ensure(watch, report, ctx);
			addresses = true;
			continue;
		}
		if (got <= 0)
			return addresses;
		for (struct nlmsghdr *msg = (struct nlmsghdr *)buffer; NLMSG_OK(msg, (size_t)got);
		     msg = NLMSG_NEXT(msg, got)) {
			if (msg->nlmsg_type == RTM_NEWLINK || msg->nlmsg_type == RTM_DELLINK)
				on_link(watch, msg, report, ctx);
			else if (msg->nlmsg_type == RTM_NEWADDR || msg->nlmsg_type == RTM_DELADDR)
				addresses = true;
		}
	}
}
