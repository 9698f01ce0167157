// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "kernel/link.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kernel/bpffs.h"
#include "kernel/migrate.h"
#include "kernel/pins.h"
#include "kernel/settings.h"
#include "lib/log.h"
#include "xdpban.skel.h"

int link_mode_parse(const char *text, enum attach_mode *mode, char why[ERRMSG_LEN])
{
	if (strcmp(text, "auto") == 0)
		*mode = ATTACH_AUTO;
	else if (strcmp(text, "native") == 0)
		*mode = ATTACH_NATIVE;
	else if (strcmp(text, "generic") == 0)
		*mode = ATTACH_GENERIC;
	else {
		errmsg(why, "unknown mode '%s' (use auto, native or generic)", text);
		return -EINVAL;
	}
	return 0;
}

static __u32 attach_flags(enum attach_mode mode)
{
	switch (mode) {
	case ATTACH_NATIVE:
		return XDP_FLAGS_DRV_MODE;
	case ATTACH_GENERIC:
		return XDP_FLAGS_SKB_MODE;
	default:
		return 0;
	}
}

/* Pins of an earlier map ABI: their bans move into the maps just loaded (kernel/migrate.h). */
static int link_upgrade_pins(const char *pin_dir, struct xdpban_bpf *skel, char why[ERRMSG_LEN])
{
	size_t migrated = 0;
	int err = migrate_pins(pin_dir, skel, &migrated, why);

	if (!err && migrated)
		log_say(LOG_LEVEL_INFO,
			"upgraded the pins in %s to map ABI %u: %zu exact bans kept", pin_dir,
			(unsigned int)XDPBAN_ABI_VERSION, migrated);
	return err;
}

int link_program_load(const char *pin_dir, struct xdpban_bpf **skel_out, char why[ERRMSG_LEN])
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir);
	struct xdpban_bpf *skel;
	int err = pins_prepare(pin_dir, why);

	if (err)
		return err;
	err = migrate_prepare(pin_dir, why);
	if (err) {
		migrate_abandon(pin_dir); /* what it set aside before it failed */
		return err;
	}
	skel = xdpban_bpf__open_opts(&opts);
	if (!skel) {
		err = -errno;
		errmsg(why, "cannot open the BPF object: %s", strerror(errno));
		migrate_abandon(pin_dir);
		return err;
	}
	err = xdpban_bpf__load(skel);
	if (err) {
		char reason[128];

		libbpf_strerror(err, reason, sizeof(reason));
		errmsg(why,
		       "cannot load the XDP program: %s (pinned maps in %s from an "
		       "incompatible version? run with -v for the libbpf log)",
		       reason, pin_dir);
		xdpban_bpf__destroy(skel);
		migrate_abandon(pin_dir);
		return err;
	}
	err = link_upgrade_pins(pin_dir, skel, why);
	if (!err)
		err = settings_init(bpf_map__fd(skel->maps.xdpban_config), why);
	if (err) {
		xdpban_bpf__destroy(skel);
		return err;
	}
	*skel_out = skel;
	return 0;
}

/* Under the writer lock: an upgrade of old pins must not race another writer. */
int link_ensure_maps(const char *pin_dir, char why[ERRMSG_LEN])
{
	struct xdpban_bpf *skel;
	int lock, err;

	if (pins_maps_present(pin_dir))
		return 0;
	err = pins_prepare(pin_dir, why);
	if (err)
		return err;
	lock = pins_lock(pin_dir, why);
	if (lock < 0)
		return lock;
	if (!pins_maps_present(pin_dir)) { /* another process may have made them meanwhile */
		err = link_program_load(pin_dir, &skel, why);
		if (!err)
			xdpban_bpf__destroy(skel); /* the maps stay pinned */
	}
	close(lock);
	return err;
}

/* The inode of this process's network namespace: with ifindex, what names an interface. */
static unsigned long current_netns(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (unsigned long)st.st_ino;
}

static void link_pin_path(const char *pin_dir, unsigned int ifindex, char path[PATH_MAX])
{
	snprintf(path, PATH_MAX, "%s/" XDPBAN_LINK_FORMAT, pin_dir, current_netns(), ifindex);
}

static int link_ifindex(int link_fd, unsigned int *ifindex, unsigned int *link_id,
			unsigned int *prog_id)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(link_fd, &info, &len))
		return -errno;
	*ifindex = info.xdp.ifindex;
	*link_id = info.id;
	*prog_id = info.prog_id;
	return 0;
}

static unsigned int resolve_ifindex(const char *ifname, char why[ERRMSG_LEN])
{
	unsigned int ifindex = if_nametoindex(ifname);

	if (!ifindex)
		errmsg(why, "unknown interface '%s'", ifname);
	return ifindex;
}

/* Switches an existing, live link to prog_fd. Returns 1 when there was none to switch. */
static int link_replace(const char *path, unsigned int ifindex, int prog_fd)
{
	unsigned int linked_ifindex = 0, link_id, prog_id;
	int link_fd = bpf_obj_get(path);
	int err;

	if (link_fd < 0)
		return errno == ENOENT ? 1 : -errno;
	err = link_ifindex(link_fd, &linked_ifindex, &link_id, &prog_id);
	if (!err && linked_ifindex != ifindex) {
		/* The interface this pin was made for is gone; the pin is stale. */
		close(link_fd);
		return unlink(path) ? -errno : 1;
	}
	if (!err)
		err = bpf_link_update(link_fd, prog_fd, NULL) ? -errno : 0;
	close(link_fd);
	return err;
}

static int link_create_pinned(const char *path, const char *ifname, unsigned int ifindex,
			      int prog_fd, enum attach_mode mode, char why[ERRMSG_LEN])
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = attach_flags(mode));
	int link_fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
	int err;

	if (link_fd < 0) {
		err = -errno;
		if (errno == EBUSY || errno == EEXIST)
			errmsg(why,
			       "%s already has an XDP program that xdpban does not manage "
			       "(see 'ip link show %s')",
			       ifname, ifname);
		else if (errno == EOPNOTSUPP && mode == ATTACH_NATIVE)
			errmsg(why, "%s: the driver has no native XDP support (use --mode generic)",
			       ifname);
		else
			errmsg(why, "cannot attach to %s: %s", ifname, strerror(errno));
		return err;
	}
	if (bpf_obj_pin(link_fd, path)) {
		err = -errno;
		errmsg(why, "cannot pin the link at %s: %s", path, strerror(errno));
		close(link_fd); /* closing the only reference detaches again */
		return err;
	}
	close(link_fd);
	return 0;
}

int link_attach(const char *pin_dir, const char *ifname, enum attach_mode mode, bool *replaced,
		char why[ERRMSG_LEN])
{
	unsigned int ifindex = resolve_ifindex(ifname, why);
	struct xdpban_bpf *skel;
	char path[PATH_MAX];
	int prog_fd, err;

	if (!ifindex)
		return -ENODEV;
	err = link_program_load(pin_dir, &skel, why);
	if (err)
		return err;
	prog_fd = bpf_program__fd(skel->progs.xdpban);
	link_pin_path(pin_dir, ifindex, path);

	err = link_replace(path, ifindex, prog_fd);
	*replaced = err == 0;
	if (err < 0)
		errmsg(why, "cannot replace the program on %s: %s", ifname, strerror(-err));
	else if (err == 1)
		err = link_create_pinned(path, ifname, ifindex, prog_fd, mode, why);
	xdpban_bpf__destroy(skel); /* the pinned link keeps the program alive */
	return err;
}

bool link_is_attached(const char *pin_dir, unsigned int ifindex)
{
	unsigned int linked_ifindex = 0, link_id, prog_id;
	char path[PATH_MAX];
	int link_fd;

	link_pin_path(pin_dir, ifindex, path);
	link_fd = bpf_obj_get(path);
	if (link_fd < 0)
		return false;
	if (link_ifindex(link_fd, &linked_ifindex, &link_id, &prog_id))
		linked_ifindex = 0;
	close(link_fd);
	return linked_ifindex == ifindex;
}

void link_remove_all_stale(const char *pin_dir)
{
	struct attached_link *links = NULL;
	char ignored[ERRMSG_LEN];
	size_t count = 0;

	if (link_list(pin_dir, &links, &count, ignored))
		return;
	for (size_t i = 0; i < count; i++) {
		if (links[i].stale && !links[i].other_netns)
			link_remove_stale(pin_dir, &links[i], ignored);
	}
	free(links);
}

int link_reattach(const char *pin_dir, const char *ifname, char why[ERRMSG_LEN])
{
	unsigned int ifindex = resolve_ifindex(ifname, why);
	bool replaced;
	int err;

	if (!ifindex)
		return -ENODEV;
	if (link_is_attached(pin_dir, ifindex))
		return 0;
	err = link_attach(pin_dir, ifname, ATTACH_AUTO, &replaced, why);
	if (err)
		return err;
	link_remove_all_stale(pin_dir);
	return 1;
}

int link_detach(const char *pin_dir, const char *ifname, char why[ERRMSG_LEN])
{
	unsigned int ifindex = resolve_ifindex(ifname, why);
	char path[PATH_MAX];
	int link_fd, err = bpffs_check_lasting(pin_dir, why);

	if (err)
		return err;
	if (!ifindex)
		return -ENODEV;
	link_pin_path(pin_dir, ifindex, path);
	link_fd = bpf_obj_get(path);
	if (link_fd < 0) {
		err = -errno;
		if (errno == ENOENT)
			errmsg(why, "xdpban is not attached to %s", ifname);
		else
			errmsg(why, "cannot open %s: %s", path, strerror(errno));
		return err;
	}
	/*
	 * The pin goes first: a pin that cannot be removed then leaves the
	 * program on, as it was, instead of a pin of a link that is off.
	 */
	if (unlink(path)) {
		err = -errno;
		errmsg(why, "cannot remove %s: %s", path, strerror(errno));
	} else if (bpf_link_detach(link_fd) && errno != ENOLINK) {
		err = -errno;
		errmsg(why, "cannot detach from %s: %s", ifname, strerror(errno));
	}
	close(link_fd);
	return err;
}

int link_remove_stale(const char *pin_dir, const struct attached_link *link, char why[ERRMSG_LEN])
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", pin_dir, link->pin_name);
	if (unlink(path)) {
		int err = -errno;

		errmsg(why, "cannot remove %s: %s", path, strerror(errno));
		return err;
	}
	return 0;
}

static const char *xdp_mode_name(unsigned int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, query);

	if (bpf_xdp_query(ifindex, 0, &query))
		return "unknown";
	switch (query.attach_mode) {
	case XDP_ATTACHED_DRV:
		return "native";
	case XDP_ATTACHED_SKB:
		return "generic";
	case XDP_ATTACHED_HW:
		return "offload";
	default:
		return "unknown";
	}
}

static int describe_link(const char *pin_dir, const char *pin_name, struct attached_link *out)
{
	char path[PATH_MAX];
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", pin_dir, pin_name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	memset(out, 0, sizeof(*out));
	snprintf(out->pin_name, sizeof(out->pin_name), "%s", pin_name);
	out->netns = strtoul(pin_name + strlen(XDPBAN_LINK_PREFIX), NULL, 10);
	out->other_netns = out->netns != current_netns();
	err = link_ifindex(fd, &out->ifindex, &out->link_id, &out->prog_id);
	close(fd);
	if (err)
		return err;
	if (out->ifindex == 0) {
		out->stale = true;
		snprintf(out->ifname, sizeof(out->ifname), "(gone)");
		out->mode = "detached";
	} else if (out->other_netns) {
		snprintf(out->ifname, sizeof(out->ifname), "(netns)");
		out->mode = "unknown";
	} else {
		out->stale = !if_indextoname(out->ifindex, out->ifname);
		if (out->stale)
			snprintf(out->ifname, sizeof(out->ifname), "(gone)");
		out->mode = out->stale ? "detached" : xdp_mode_name(out->ifindex);
	}
	return 0;
}

int link_list(const char *pin_dir, struct attached_link **links, size_t *count,
	      char why[ERRMSG_LEN])
{
	struct attached_link *list = NULL;
	size_t used = 0;
	struct dirent *entry;
	DIR *dir;
	int err;

	*links = NULL;
	*count = 0;
	err = bpffs_check_lasting(pin_dir, why);
	if (err)
		return err;
	dir = opendir(pin_dir);
	if (!dir) {
		if (errno == ENOENT)
			return 0;
		errmsg(why, "cannot read %s: %s", pin_dir, strerror(errno));
		return -errno;
	}
	while ((entry = readdir(dir))) {
		struct attached_link *grown;

		if (strncmp(entry->d_name, XDPBAN_LINK_PREFIX, strlen(XDPBAN_LINK_PREFIX)))
			continue;
		grown = realloc(list, (used + 1) * sizeof(*list));
		if (!grown) {
			free(list);
			closedir(dir);
			errmsg(why, "out of memory");
			return -ENOMEM;
		}
		list = grown;
		if (describe_link(pin_dir, entry->d_name, &list[used]) == 0)
			used++;
	}
	closedir(dir);
	*links = list;
	*count = used;
	return 0;
}
