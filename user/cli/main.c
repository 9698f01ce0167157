// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpban: global options, then one subcommand. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "cli/cli.h"
#include "lib/paths.h"

#include "version.h" /* XDPBAN_VERSION, made by the Makefile */
#include "lib/util.h"

static const struct command *const commands[] = {
	&cmd_attach, &cmd_detach,  &cmd_status,	 &cmd_stats,   &cmd_ban,   &cmd_unban,
	&cmd_list,   &cmd_allow,   &cmd_unallow, &cmd_ports,   &cmd_scope, &cmd_geo,
	&cmd_event,  &cmd_history, &cmd_run,	 &cmd_logtest, &cmd_weak,
};

#define COMMAND_COUNT ARRAY_SIZE(commands)

static bool verbose;

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG || !verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: xdpban [-j|--json] [-v|--verbose] [--pin-dir DIR] COMMAND [ARGS]\n"
		     "\nCommands:\n");
	for (size_t i = 0; i < COMMAND_COUNT; i++) {
		const char *usage_text = commands[i]->usage;
		const char *newline = strchr(usage_text, '\n');

		fprintf(out, "  %.*s\n", (int)(newline - usage_text), usage_text);
	}
	fprintf(out,
		"\nGlobal options:\n"
		"  -j, --json       machine-readable output\n"
		"  -v, --verbose    show libbpf's messages (verifier log on load errors)\n"
		"      --pin-dir D  bpffs directory of the maps and links (default %s)\n"
		"      --state-dir D  directory of xdpban's own files (default %s)\n"
		"\n'xdpban COMMAND --help' describes a command.\n",
		XDPBAN_PIN_DIR, XDPBAN_STATE_DIR);
}

/*
 * -j/--json is accepted anywhere before "--" ("xdpban list --json" as well as
 * "xdpban --json list"): removes it from argv and returns the new argc.
 */
static int take_json_flag(int argc, char **argv, bool *json)
{
	int kept = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				argv[kept++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "-j") == 0 || strcmp(argv[i], "--json") == 0)
			*json = true;
		else
			argv[kept++] = argv[i];
	}
	argv[kept] = NULL;
	return kept;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli cli = { .pin_dir = XDPBAN_PIN_DIR, .state_dir = XDPBAN_STATE_DIR };
	int opt;

	argc = take_json_flag(argc, argv, &cli.json);

	while ((opt = getopt_long(argc, argv, "+jvh", options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			cli.json = true;
			break;
		case 'v':
			cli.verbose = verbose = true;
			break;
		case 'p':
			cli.pin_dir = optarg;
			cli.pin_dir_set = true;
			break;
		case 's':
			cli.state_dir = optarg;
			cli.state_dir_set = true;
			break;
		case 'V':
			printf("xdpban %s\n", XDPBAN_VERSION);
			return EXIT_SUCCESS;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_FAILURE;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return EXIT_FAILURE;
	}
	libbpf_set_print(print_libbpf);

	for (size_t i = 0; i < COMMAND_COUNT; i++) {
		if (strcmp(argv[optind], commands[i]->name) != 0)
			continue;
		argc -= optind;
		argv += optind;
		optind = 0; /* restart getopt for the subcommand's own options */
		return commands[i]->run(&cli, argc, argv);
	}
	return cli_fail("unknown command '%s' (see 'xdpban --help')", argv[optind]);
}
