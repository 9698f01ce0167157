// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* ports, scope: what the XDP program judges, changed at run time without a reload. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "kernel/settings.h"

static const struct option help_only[] = {
	{ "help", no_argument, NULL, CLI_HELP },
	{ 0 },
};

static int show_settings(struct cli *cli, bool ports)
{
	struct settings settings;
	char why[ERRMSG_LEN], text[512];
	struct maps maps;
	int status = cli_open_for_read(cli, &maps);

	if (status)
		return status;
	status = settings_read(maps.config, &settings, why) ? cli_fail("%s", why) : 0;
	pins_close(&maps);
	if (status)
		return status;
	if (ports)
		portset_format(&settings.ports, text, sizeof(text));
	else
		snprintf(text, sizeof(text), "%s", settings_scope_name(settings.scope));
	if (cli->json)
		cli_print_json(json_pack("{s:s}", ports ? "ports" : "scope", text));
	else
		printf("%s\n", text);
	return EXIT_SUCCESS;
}

/* Reads, changes and writes the config under the writer lock. */
static int update_settings(struct cli *cli, const struct portset *ports,
			   const enum judge_scope *scope)
{
	struct settings settings;
	char why[ERRMSG_LEN];
	struct maps maps;
	int lock_fd, status = cli_open_for_write(cli, &maps, &lock_fd);

	if (status)
		return status;
	if (settings_read(maps.config, &settings, why)) {
		status = cli_fail("%s", why);
	} else {
		if (ports)
			settings.ports = *ports;
		if (scope)
			settings.scope = *scope;
		if (settings_write(maps.config, &settings, why))
			status = cli_fail("%s", why);
	}
	cli_close(&maps, lock_fd);
	return status;
}

/* Joins the remaining arguments with commas: "ports set 25 110" is "25,110". */
static char *join_args(int argc, char **argv)
{
	size_t len = 1;
	char *text;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	text = calloc(1, len);
	for (int i = 0; text && i < argc; i++) {
		if (i)
			strcat(text, ",");
		strcat(text, argv[i]);
	}
	return text;
}

static int run_ports(struct cli *cli, int argc, char **argv)
{
	struct portset ports;
	char why[ERRMSG_LEN], *text;
	int opt, err;

	while ((opt = cli_getopt(&cmd_ports, argc, argv, "+h", help_only)) != -1) {
		if (opt == '?')
			return cli_usage_error(&cmd_ports, "bad option");
	}
	if (optind == argc || strcmp(argv[optind], "show") == 0) {
		if (argc - optind > 1)
			return cli_usage_error(&cmd_ports, "'ports show' takes no argument");
		return show_settings(cli, true);
	}
	if (strcmp(argv[optind], "set") != 0)
		return cli_usage_error(&cmd_ports, "unknown action '%s'", argv[optind]);
	if (argc - optind < 2)
		return cli_usage_error(&cmd_ports, "'ports set' needs a port list or 'all'");
	text = join_args(argc - optind - 1, argv + optind + 1);
	if (!text)
		return cli_fail("out of memory");
	err = portset_parse(text, &ports, why);
	free(text);
	if (err)
		return cli_fail("%s", why);
	return update_settings(cli, &ports, NULL);
}

const struct command cmd_ports = {
	"ports",
	run_ports,
	"ports [show] | ports set LIST|all\n"
	"Shows or replaces the protected TCP ports: SYNs to these ports are judged.\n"
	"LIST is ports and ranges separated by commas or spaces (25,587 993-995).\n"
	"The default is 25,110,143,465,587,993,995,4190. Takes effect at once,\n"
	"without reloading the program.\n",
};

static int run_scope(struct cli *cli, int argc, char **argv)
{
	enum judge_scope scope;
	char why[ERRMSG_LEN];

	if (cli_parse_no_options(&cmd_scope, argc, argv))
		return EXIT_FAILURE;
	if (optind == argc)
		return show_settings(cli, false);
	if (argc - optind > 1)
		return cli_usage_error(&cmd_scope, "expected one scope");
	if (settings_scope_parse(argv[optind], &scope, why))
		return cli_fail("%s", why);
	return update_settings(cli, NULL, &scope);
}

const struct command cmd_scope = {
	"scope",
	run_scope,
	"scope [syn|all]\n"
	"Shows or sets which packets are judged:\n"
	"  syn  TCP SYN without ACK to a protected port (default): banned sources\n"
	"       cannot open connections; replies to the host's own outbound\n"
	"       connections always pass\n"
	"  all  every IPv4/IPv6 packet from a banned source, any protocol and port\n",
};
