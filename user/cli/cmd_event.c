// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* event fail|ok: hands one authentication outcome to the running daemon. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/cidr.h"
#include "lib/paths.h"
#include "cli/cli.h"
#include "lib/ctl.h"
#include "lib/event.h"

static int run_event(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "ip", required_argument, NULL, 'i' },
		{ "user", required_argument, NULL, 'u' },
		{ "service", required_argument, NULL, 's' },
		{ "socket", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, CLI_HELP },
		{ 0 },
	};
	const char *ip = NULL, *user = "", *service = "", *socket = XDPBAN_CONTROL_SOCKET;
	json_t *reply = NULL, *request;
	char why[ERRMSG_LEN];
	struct lpm_key key;
	int opt, status = EXIT_SUCCESS;

	while ((opt = cli_getopt(&cmd_event, argc, argv, "i:u:s:S:h", options)) != -1) {
		if (opt == 'i')
			ip = optarg;
		else if (opt == 'u')
			user = optarg;
		else if (opt == 's')
			service = optarg;
		else if (opt == 'S')
			socket = optarg;
		else
			return cli_usage_error(&cmd_event, "bad option");
	}
	if (argc - optind != 1 || (strcmp(argv[optind], "fail") && strcmp(argv[optind], "ok")))
		return cli_usage_error(&cmd_event, "expected 'fail' or 'ok'");
	if (!ip)
		return cli_usage_error(&cmd_event, "--ip is required");
	if (cidr_parse(ip, &key, why))
		return cli_fail("%s", why);
	if (!cidr_is_host(&key))
		return cli_fail("'%s' is a prefix; an event comes from one address", ip);
	if (strlen(user) >= EVENT_USER_LEN || strlen(service) >= EVENT_SERVICE_LEN)
		return cli_fail("user or service name too long (max %d and %d bytes)",
				EVENT_USER_LEN - 1, EVENT_SERVICE_LEN - 1);

	request = json_pack("{s:s, s:s, s:s, s:s, s:s}", "cmd", "event", "outcome", argv[optind],
			    "ip", ip, "user", user, "service", service);
	if (ctl_call(socket, request, &reply, why))
		status = cli_fail("%s", why);
	else if (!json_is_true(json_object_get(reply, "ok")))
		status =
		    cli_fail("the daemon refused the event: %s",
			     json_string_value(json_object_get(reply, "error")) ?: "no reason");
	else if (cli->json)
		cli_print_json(json_incref(reply));
	else
		printf("%s\n", json_string_value(json_object_get(reply, "result")) ?: "accepted");
	json_decref(request);
	json_decref(reply);
	return status;
}

const struct command cmd_event = {
	"event",
	run_event,
	"event fail|ok --ip ADDR [--user NAME] [--service S] [--socket PATH]\n"
	"Hands one authentication outcome to the running daemon (xdpban run), as if a\n"
	"log line had reported it: for scripts and programs that know of failures\n"
	"xdpban's log parsers do not see. Prints what the daemon decided.\n"
	"  -S, --socket PATH  the daemon's control socket (default " XDPBAN_CONTROL_SOCKET ")\n",
};
