// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* run: the daemon, in the foreground (systemd or a supervisor keeps it running). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "lib/paths.h"
#include "conf/conf.h"
#include "daemon/daemon.h"

static int load_config(const char *path, bool explicit_path, struct xdpban_conf **conf)
{
	char why[ERRMSG_LEN];
	int err = conf_load(path, conf, why);

	if (err == -ENOENT && !explicit_path) {
		*conf = conf_defaults(); /* no file at the default place: every default */
		return *conf ? 0 : cli_fail("out of memory");
	}
	return err ? cli_fail("%s", why) : 0;
}

static int run_daemon(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, CLI_HELP },
		{ 0 },
	};
	const char *path = XDPBAN_CONF_FILE;
	bool explicit_path = false, check_only = false;
	struct daemon_overrides overrides;
	struct xdpban_conf *conf;
	int opt;

	while ((opt = cli_getopt(&cmd_run, argc, argv, "c:Ch", options)) != -1) {
		if (opt == 'c') {
			path = optarg;
			explicit_path = true;
		} else if (opt == 'C') {
			check_only = true;
		} else {
			return cli_usage_error(&cmd_run, "bad option");
		}
	}
	if (optind != argc)
		return cli_usage_error(&cmd_run, "unexpected argument '%s'", argv[optind]);
	if (load_config(path, explicit_path, &conf))
		return EXIT_FAILURE;
	/* The global --pin-dir and --state-dir, when given, win over the file. */
	overrides.pin_dir = cli->pin_dir_set ? cli->pin_dir : NULL;
	overrides.state_dir = cli->state_dir_set ? cli->state_dir : NULL;
	daemon_apply_overrides(&overrides, conf);
	if (check_only) {
		conf_dump(conf, stdout);
		conf_free(conf);
		return EXIT_SUCCESS;
	}
	if (cli_require_root()) {
		conf_free(conf);
		return EXIT_FAILURE;
	}
	return daemon_run(conf, explicit_path || conf->path[0] ? path : NULL, &overrides);
}

const struct command cmd_run = {
	"run",
	run_daemon,
	"run [-c FILE] [--check-config]\n"
	"The daemon: follows the configured logs, applies the IP and account rules,\n"
	"bans in the kernel maps with deadlines, keeps bans in the store and restores\n"
	"them after a reboot, sweeps expired entries, and answers 'xdpban event' on its\n"
	"control socket. Stays in the foreground; SIGHUP reloads the config, SIGTERM\n"
	"stops it and leaves the XDP program and every ban in place.\n"
	"  -c, --config FILE   the INI config (default " XDPBAN_CONF_FILE "; without\n"
	"                      one, every default applies)\n"
	"  -C, --check-config  check the config and print it in full, then exit\n",
};
