/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `xdpban run`: one event loop (epoll) over the log files (inotify on their
 * directories, and a one-second timer as a safety net), the control socket,
 * a timer for sweeps, and signals (SIGHUP reloads the config; SIGTERM and
 * SIGINT stop it, leaving the XDP program and every ban in place).
 *
 * Events go through the allowlist, then the rules; a ban decision becomes a
 * map entry (with its deadline, enforced by the kernel from then on), a row
 * in the store and one log line.
 */
#ifndef XDPBAN_DAEMON_H
#define XDPBAN_DAEMON_H

#include "conf/conf.h"
#include "lib/errmsg.h"

/* What the command line says over the config file, kept for every reload. */
struct daemon_overrides {
	const char *pin_dir; /* NULL: the file's */
	const char *state_dir;
};

void daemon_apply_overrides(const struct daemon_overrides *overrides, struct xdpban_conf *conf);

/* Runs until SIGTERM or SIGINT; takes ownership of conf. Returns an exit status. */
int daemon_run(struct xdpban_conf *conf, const char *conf_path,
	       const struct daemon_overrides *overrides);

#endif
