/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Runtime settings of the XDP program, kept in the config map: scope and protected ports. */
#ifndef XDPBAN_SETTINGS_H
#define XDPBAN_SETTINGS_H

#include "lib/errmsg.h"
#include "lib/portset.h"

struct settings {
	enum judge_scope scope;
	struct portset ports;
};

/* Writes the defaults (SYN scope, mail ports) unless the map was initialised before. */
int settings_init(int config_fd, char why[ERRMSG_LEN]);
/* Refuses maps another map ABI made (see XDPBAN_ABI_VERSION). */
int settings_check_abi(const struct xdpban_config *cfg, char why[ERRMSG_LEN]);
int settings_read(int config_fd, struct settings *settings, char why[ERRMSG_LEN]);
/* Replaces the whole config value in one map update. */
int settings_write(int config_fd, const struct settings *settings, char why[ERRMSG_LEN]);

int settings_scope_parse(const char *text, enum judge_scope *scope, char why[ERRMSG_LEN]);
const char *settings_scope_name(enum judge_scope scope);

#endif
