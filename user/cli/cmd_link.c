// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* attach, detach, status: the program's presence on interfaces. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "kernel/link.h"
#include "kernel/path_summary.h"
#include "kernel/settings.h"
#include "lib/ctl.h"
#include "lib/paths.h"

/*
 * Attaches under the writer lock: opening the maps first migrates the bans
 * of pins an earlier version made (link_program_load), and no writer may
 * change them meanwhile.
 */
static int attach_locked(struct cli *cli, const char *ifname, enum attach_mode mode, bool *replaced)
{
	char why[ERRMSG_LEN];
	struct maps maps;
	int lock_fd, status = cli_open_for_write(cli, &maps, &lock_fd);

	if (status)
		return status;
	if (path_summary_sync(&maps, why) || link_attach(cli->pin_dir, ifname, mode, replaced, why))
		status = cli_fail("%s", why);
	cli_close(&maps, lock_fd);
	return status;
}

static int run_attach(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, CLI_HELP },
		{ 0 },
	};
	enum attach_mode mode = ATTACH_AUTO;
	char why[ERRMSG_LEN];
	bool replaced;
	int opt;

	while ((opt = cli_getopt(&cmd_attach, argc, argv, "m:h", options)) != -1) {
		if (opt == 'm' && link_mode_parse(optarg, &mode, why))
			return cli_fail("%s", why);
		if (opt == '?')
			return cli_usage_error(&cmd_attach, "bad option");
	}
	if (argc - optind != 1)
		return cli_usage_error(&cmd_attach, "expected one interface");
	if (!if_nametoindex(argv[optind]))
		return cli_fail("unknown interface '%s'", argv[optind]);
	if (cli_require_root() || attach_locked(cli, argv[optind], mode, &replaced))
		return EXIT_FAILURE;
	if (!cli->json)
		printf("%s %s\n", replaced ? "replaced the program on" : "attached to",
		       argv[optind]);
	return EXIT_SUCCESS;
}

const struct command cmd_attach = {
	"attach",
	run_attach,
	"attach IFACE [--mode auto|native|generic]\n"
	"Attaches the XDP program to IFACE through a pinned link that stays after\n"
	"xdpban exits. Run again to upgrade the program in place: the link is\n"
	"switched atomically and the pinned maps (every ban) are kept. Pins an\n"
	"earlier version made are upgraded on the way: every ban and blocked\n"
	"country is kept, and the geo index is rebuilt when its map changed.\n"
	"  -m, --mode MODE   auto (default: native when the driver has it), native, generic\n",
};

static int run_detach(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, CLI_HELP },
		{ 0 },
	};
	struct attached_link *links = NULL;
	bool all = false;
	char why[ERRMSG_LEN];
	size_t count;
	int opt, status = EXIT_SUCCESS;

	while ((opt = cli_getopt(&cmd_detach, argc, argv, "ah", options)) != -1) {
		if (opt == 'a')
			all = true;
		if (opt == '?')
			return cli_usage_error(&cmd_detach, "bad option");
	}
	if (all == (argc - optind == 1) || argc - optind > 1)
		return cli_usage_error(&cmd_detach, "expected one interface, or --all");
	if (cli_require_root())
		return EXIT_FAILURE;
	if (!all) {
		if (link_detach(cli->pin_dir, argv[optind], why))
			return cli_fail("%s", why);
		return EXIT_SUCCESS;
	}
	if (link_list(cli->pin_dir, &links, &count, why))
		return cli_fail("%s", why);
	for (size_t i = 0; i < count; i++) {
		if (links[i].other_netns && !links[i].stale)
			continue; /* another namespace's interface: detach it from there */
		if (links[i].stale ? link_remove_stale(cli->pin_dir, &links[i], why)
				   : link_detach(cli->pin_dir, links[i].ifname, why))
			status = cli_fail("%s", why);
	}
	free(links);
	return status;
}

const struct command cmd_detach = {
	"detach",
	run_detach,
	"detach IFACE | --all\n"
	"Detaches the XDP program. The maps stay pinned: bans survive and apply again\n"
	"on the next attach.\n"
	"  -a, --all   detach from every interface\n",
};

static json_t *links_json(const struct attached_link *links, size_t count)
{
	json_t *array = json_array();

	for (size_t i = 0; i < count; i++) {
		const struct attached_link *link = &links[i];

		json_array_append_new(
		    array, json_pack("{s:s, s:I, s:I, s:b, s:s, s:I, s:I}", "interface",
				     link->ifname, "ifindex", (json_int_t)link->ifindex, "netns",
				     (json_int_t)link->netns, "this_netns", !link->other_netns,
				     "mode", link->mode, "prog_id", (json_int_t)link->prog_id,
				     "link_id", (json_int_t)link->link_id));
	}
	return array;
}

static void print_status_table(const char *pin_dir, const struct attached_link *links, size_t count,
			       const struct settings *settings, bool loaded)
{
	char ports[512];

	printf("pins:       %s (%s)\n", pin_dir, loaded ? "loaded" : "not loaded");
	if (!loaded)
		return;
	portset_format(&settings->ports, ports, sizeof(ports));
	printf("scope:      %s\n", settings_scope_name(settings->scope));
	printf("ports:      %s\n", ports);
	if (count == 0) {
		printf("interfaces: none attached\n");
		return;
	}
	printf("\n%-16s %8s %-9s %8s %8s  %s\n", "INTERFACE", "IFINDEX", "MODE", "PROG_ID",
	       "LINK_ID", "NETNS");
	for (size_t i = 0; i < count; i++)
		printf("%-16s %8u %-9s %8u %8u  %lu%s\n", links[i].ifname, links[i].ifindex,
		       links[i].mode, links[i].prog_id, links[i].link_id, links[i].netns,
		       links[i].other_netns ? " (another namespace)" : "");
}

/* The daemon's status reply, from its control socket: NULL when no daemon answers there. */
static json_t *daemon_status(const char *socket)
{
	json_t *request = json_pack("{s:s}", "cmd", "status"), *reply = NULL;
	char why[ERRMSG_LEN];

	if (ctl_call(socket, request, &reply, why))
		return NULL;
	return reply;
}

static long long reply_count(const json_t *object, const char *key)
{
	return (long long)json_integer_value(json_object_get(object, key));
}

/* The account table's state: whether an attack outgrew it. */
static void print_account_table(const json_t *reply)
{
	const json_t *faults = json_object_get(reply, "faults");

	if (!reply)
		return;
	printf("\naccounts:   %lld tracked; %s (%lld accounts failing from 2+ sources evicted)\n",
	       reply_count(reply, "tracked_accounts"),
	       reply_count(faults, "accounts_saturated") ? "SATURATED: the table is too small for "
							   "the attack, raise max_tracked_accounts"
							 : "not saturated",
	       reply_count(faults, "account_evictions_multi_source"));
}

static void print_sources(const char *socket, json_t *sources)
{
	size_t i;
	json_t *src;

	if (!sources) {
		printf("\ndaemon:     not answering on %s\n", socket);
		return;
	}
	printf("\n%-16s %-8s %12s %10s %14s  %s\n", "SOURCE", "KIND", "LINES", "OUTCOMES",
	       "UNRECOGNISED", "PATH");
	json_array_foreach(sources, i, src)
	{
		printf(
		    "%-16s %-8s %12lld %10lld %14lld  %s%s\n",
		    json_string_value(json_object_get(src, "name")),
		    json_string_value(json_object_get(src, "kind")),
		    (long long)json_integer_value(json_object_get(src, "lines")),
		    (long long)json_integer_value(json_object_get(src, "events")),
		    (long long)json_integer_value(json_object_get(src, "unrecognised_auth_lines")),
		    json_string_value(json_object_get(src, "path")),
		    json_is_true(json_object_get(src, "silent")) ? " (silent: format changed?)"
								 : "");
	}
}

static int run_status(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, CLI_HELP },
		{ 0 },
	};
	struct attached_link *links = NULL;
	struct settings settings = {};
	const char *socket = XDPBAN_CONTROL_SOCKET;
	struct maps maps;
	char why[ERRMSG_LEN];
	json_t *reply, *sources;
	bool loaded;
	size_t count = 0;
	int opt;

	while ((opt = cli_getopt(&cmd_status, argc, argv, "S:h", options)) != -1) {
		if (opt != 'S')
			return cli_usage_error(&cmd_status, "bad option");
		socket = optarg;
	}
	if (optind != argc)
		return cli_usage_error(&cmd_status, "unexpected argument '%s'", argv[optind]);
	if (cli_require_root())
		return EXIT_FAILURE;

	loaded = pins_open(cli->pin_dir, &maps, why) == 0;
	if (loaded) {
		int err = settings_read(maps.config, &settings, why);

		pins_close(&maps);
		if (err)
			return cli_fail("%s", why);
	}
	if (link_list(cli->pin_dir, &links, &count, why))
		return cli_fail("%s", why);
	reply = daemon_status(socket);
	sources = json_object_get(reply, "sources");

	if (cli->json) {
		char ports[512];
		json_t *saturated =
		    json_object_get(json_object_get(reply, "faults"), "accounts_saturated");

		portset_format(&settings.ports, ports, sizeof(ports));

		cli_print_json(json_pack(
		    "{s:s, s:b, s:s, s:s, s:o, s:o, s:o}", "pin_dir", cli->pin_dir, "loaded",
		    loaded, "scope", settings_scope_name(settings.scope), "ports", ports,
		    "interfaces", links_json(links, count), "sources",
		    sources ? json_incref(sources) : json_null(), "accounts_saturated",
		    saturated ? json_boolean(json_integer_value(saturated)) : json_null()));
	} else {
		print_status_table(cli->pin_dir, links, count, &settings, loaded);
		print_sources(socket, sources);
		print_account_table(reply);
	}
	json_decref(reply);
	free(links);
	return EXIT_SUCCESS;
}

const struct command cmd_status = {
	"status",
	run_status,
	"status [--json] [--socket PATH]\n"
	"Shows whether the maps are loaded, the judging scope and protected ports,\n"
	"the interfaces the program is attached to, and, when a daemon answers on\n"
	"its control socket, its log sources: lines read, outcomes recognised, and\n"
	"lines that look like authentication lines but yielded nothing (a source\n"
	"marked silent has had many of those and no outcome for long: has its\n"
	"format changed?), and whether its account table is saturated (an attack on\n"
	"more accounts than max_tracked_accounts holds pushed out accounts failing\n"
	"from 2+ addresses within the last account_window). \"sources\" and\n"
	"\"accounts_saturated\" are null in JSON without a daemon.\n"
	"  -S, --socket PATH  the daemon's control socket (default " XDPBAN_CONTROL_SOCKET ")\n",
};
