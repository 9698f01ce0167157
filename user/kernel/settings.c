// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "kernel/settings.h"

#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>

static int config_lookup(int config_fd, struct xdpban_config *cfg, char why[ERRMSG_LEN])
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(config_fd, &zero, cfg)) {
		int err = -errno;

		errmsg(why, "cannot read the config map: %s", strerror(errno));
		return err;
	}
	return 0;
}

int settings_init(int config_fd, char why[ERRMSG_LEN])
{
	struct xdpban_config cfg;
	struct settings defaults = { .scope = SCOPE_SYN };
	int err = config_lookup(config_fd, &cfg, why);

	if (err)
		return err;
	if (cfg.initialized)
		return settings_check_abi(&cfg, why);
	portset_defaults(&defaults.ports);
	return settings_write(config_fd, &defaults, why);
}

int settings_check_abi(const struct xdpban_config *cfg, char why[ERRMSG_LEN])
{
	if (!cfg->initialized || cfg->abi_version == XDPBAN_ABI_VERSION)
		return 0;
	errmsg(why,
	       "the pinned maps were made by an xdpban with map ABI %u, this one has %u: "
	       "detach it everywhere and remove the pin directory, then attach again",
	       cfg->abi_version, (unsigned int)XDPBAN_ABI_VERSION);
	return -EPROTO;
}

int settings_read(int config_fd, struct settings *settings, char why[ERRMSG_LEN])
{
	struct xdpban_config cfg;
	int err = config_lookup(config_fd, &cfg, why);

	if (err)
		return err;
	memset(settings, 0, sizeof(*settings));
	if (!cfg.initialized) {
		portset_defaults(&settings->ports);
		return 0;
	}
	settings->scope = cfg.scope;
	settings->ports.all = cfg.all_ports;
	memcpy(settings->ports.bits, cfg.ports, sizeof(cfg.ports));
	return 0;
}

int settings_write(int config_fd, const struct settings *settings, char why[ERRMSG_LEN])
{
	struct xdpban_config cfg = {
		.initialized = 1,
		.scope = settings->scope,
		.all_ports = settings->ports.all,
		.abi_version = XDPBAN_ABI_VERSION,
	};
	__u32 zero = 0;

	memcpy(cfg.ports, settings->ports.bits, sizeof(cfg.ports));
	if (bpf_map_update_elem(config_fd, &zero, &cfg, BPF_ANY)) {
		int err = -errno;

		errmsg(why, "cannot write the config map: %s", strerror(errno));
		return err;
	}
	return 0;
}

int settings_scope_parse(const char *text, enum judge_scope *scope, char why[ERRMSG_LEN])
{
	if (strcmp(text, "syn") == 0)
		*scope = SCOPE_SYN;
	else if (strcmp(text, "all") == 0)
		*scope = SCOPE_ALL;
	else {
		errmsg(why, "unknown scope '%s' (use syn or all)", text);
		return -EINVAL;
	}
	return 0;
}

const char *settings_scope_name(enum judge_scope scope)
{
	return scope == SCOPE_ALL ? "all" : "syn";
}
