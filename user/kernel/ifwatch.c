// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "kernel/ifwatch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "kernel/link.h"
#include "kernel/pins.h"
#include "lib/log.h"

#define NETLINK_BUFFER 65536

/* One line each: a failure as an error, the rest as news. */
static void report(bool failed, const char *message)
{
	log_say(failed ? LOG_LEVEL_ERROR : LOG_LEVEL_INFO, "%s", message);
}

static struct ifwatch_name *find(struct ifwatch *watch, const char *name)
{
	for (size_t i = 0; i < watch->count; i++) {
		if (strcmp(watch->names[i].name, name) == 0)
			return &watch->names[i];
	}
	return NULL;
}

static void watch_name(struct ifwatch *watch, const char *name, bool configured)
{
	struct ifwatch_name *entry = find(watch, name);

	if (entry) {
		/* Named by the config now: the config's to take away, even if found attached. */
		if (configured)
			entry->configured = true;
		return;
	}
	if (!*name || watch->count == IFWATCH_MAX)
		return;
	entry = &watch->names[watch->count++];
	snprintf(entry->name, sizeof(entry->name), "%s", name);
	entry->configured = configured;
}

static void forget(struct ifwatch *watch, size_t i)
{
	memmove(&watch->names[i], &watch->names[i + 1],
		(watch->count - i - 1) * sizeof(watch->names[0]));
	watch->count--;
}

/* The next name of a space-separated list, into name; NULL after the last. */
static const char *next_name(const char *list, char name[IF_NAMESIZE])
{
	size_t len;

	list += strspn(list, " ");
	len = strcspn(list, " ");
	if (!len)
		return NULL;
	snprintf(name, IF_NAMESIZE, "%.*s", (int)len, list);
	return list + len;
}

static bool listed(const char *list, const char *name)
{
	char each[IF_NAMESIZE];

	for (const char *rest = list; (rest = next_name(rest, each));) {
		if (strcmp(each, name) == 0)
			return true;
	}
	return false;
}

static void watch_configured(struct ifwatch *watch, const char *list)
{
	char name[IF_NAMESIZE];

	for (const char *rest = list; (rest = next_name(rest, name));)
		watch_name(watch, name, true);
}

static void watch_attached(struct ifwatch *watch)
{
	struct attached_link *links = NULL;
	char ignored[ERRMSG_LEN];
	size_t count = 0;

	if (link_list(watch->pin_dir, &links, &count, ignored))
		return;
	for (size_t i = 0; i < count; i++) {
		if (!links[i].other_netns && !links[i].stale)
			watch_name(watch, links[i].ifname, false);
	}
	free(links);
}

int ifwatch_open(struct ifwatch *watch, const char *pin_dir, const char *configured,
		 char why[ERRMSG_LEN])
{
	struct sockaddr_nl local = { .nl_family = AF_NETLINK,
				     .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR |
						  RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE |
						  RTMGRP_IPV6_ROUTE };
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
	watch_configured(watch, configured);
	watch_attached(watch);
	return 0;
}

void ifwatch_close(struct ifwatch *watch)
{
	if (watch->fd >= 0)
		close(watch->fd);
	watch->fd = -1;
}

typedef int (*link_op_fn)(const char *pin_dir, const char *ifname, char why[ERRMSG_LEN]);

/* Under the writer lock, so that no CLI command changes the pins in between. */
static int locked(const struct ifwatch *watch, link_op_fn op, const char *name,
		  char why[ERRMSG_LEN])
{
	int lock = pins_lock(watch->pin_dir, why);
	int done;

	if (lock < 0)
		return lock;
	done = op(watch->pin_dir, name, why);
	close(lock);
	return done;
}

static void reattach(struct ifwatch *watch, const char *name)
{
	char why[ERRMSG_LEN], message[ERRMSG_LEN + 64];
	int done = locked(watch, link_reattach, name, why);

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
	report(done < 0, message);
}

/* As 'xdpban detach' does; an interface deleted meanwhile left only a stale pin behind. */
static int detach(const char *pin_dir, const char *name, char why[ERRMSG_LEN])
{
	int err = link_detach(pin_dir, name, why);

	if (err == -ENODEV)
		link_remove_all_stale(pin_dir);
	return err;
}

/* Returns false when xdpban stays on name: then it is still the config's to detach. */
static bool release(struct ifwatch *watch, const char *name)
{
	char why[ERRMSG_LEN], message[ERRMSG_LEN + 128];
	int err = locked(watch, detach, name, why);
	bool off = !err || err == -ENOENT || err == -ENODEV;

	if (!off) {
		watch->detach_failures++;
		snprintf(message, sizeof(message),
			 "%s is no longer in [daemon] interfaces, but xdpban stays on it: %s; "
			 "the next reload tries again",
			 name, why);
	} else if (err) {
		snprintf(
		    message, sizeof(message), "%s is no longer in [daemon] interfaces (%s)", name,
		    err == -ENODEV ? "it does not exist now" : "xdpban was not attached to it");
	} else {
		snprintf(message, sizeof(message),
			 "detached from %s: no longer in [daemon] interfaces", name);
	}
	report(!off, message);
	return off;
}

void ifwatch_configure(struct ifwatch *watch, const char *configured)
{
	size_t i = 0;

	while (i < watch->count) {
		const struct ifwatch_name *entry = &watch->names[i];

		if (entry->configured && !listed(configured, entry->name) &&
		    release(watch, entry->name))
			forget(watch, i);
		else
			i++;
	}
	watch_configured(watch, configured);
}

void ifwatch_ensure(struct ifwatch *watch)
{
	for (size_t i = 0; i < watch->count; i++) {
		if (if_nametoindex(watch->names[i].name))
			reattach(watch, watch->names[i].name);
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

static void on_link(struct ifwatch *watch, const struct nlmsghdr *msg)
{
	const struct ifinfomsg *info = NLMSG_DATA(msg);
	const char *name = link_name(msg);
	char message[64];

	if (!name)
		return;
	/* A change of an interface xdpban is on (by whoever attached it) makes it watched. */
	if (link_is_attached(watch->pin_dir, (unsigned int)info->ifi_index))
		watch_name(watch, name, false);
	if (!find(watch, name))
		return;
	if (msg->nlmsg_type == RTM_NEWLINK && if_nametoindex(name) != (unsigned int)info->ifi_index)
		return; /* the last word of an interface that is going away */
	if (msg->nlmsg_type == RTM_DELLINK) {
		snprintf(message, sizeof(message), "%s went away; waiting for it", name);
		report(false, message);
		return;
	}
	reattach(watch, name);
}

/* A default route (the router behind it is never banned); other routes change nothing here. */
static bool default_route(const struct nlmsghdr *msg)
{
	const struct rtmsg *rt = NLMSG_DATA(msg);

	return msg->nlmsg_len >= NLMSG_LENGTH(sizeof(*rt)) && rt->rtm_dst_len == 0;
}

bool ifwatch_handle(struct ifwatch *watch)
{
	static char buffer[NETLINK_BUFFER] __attribute__((aligned(NLMSG_ALIGNTO)));
	bool addresses = false;

	for (;;) {
		ssize_t got = recv(watch->fd, buffer, sizeof(buffer), 0);

		if (got < 0 && errno == ENOBUFS) {
			/* Messages were lost: look at everything again. */
			ifwatch_ensure(watch);
			addresses = true;
			continue;
		}
		if (got <= 0)
			return addresses;
		for (struct nlmsghdr *msg = (struct nlmsghdr *)buffer; NLMSG_OK(msg, (size_t)got);
		     msg = NLMSG_NEXT(msg, got)) {
			if (msg->nlmsg_type == RTM_NEWLINK || msg->nlmsg_type == RTM_DELLINK)
				on_link(watch, msg);
			else if (msg->nlmsg_type == RTM_NEWADDR || msg->nlmsg_type == RTM_DELADDR)
				addresses = true;
			else if (msg->nlmsg_type == RTM_NEWROUTE || msg->nlmsg_type == RTM_DELROUTE)
				addresses |= default_route(msg);
		}
	}
}
