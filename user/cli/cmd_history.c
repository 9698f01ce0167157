// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* history: past and current bans and account blocks, from the store in the state directory. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli/cli.h"
#include "lib/clock.h"
#include "lib/duration.h"
#include "bans/store.h"

#define DEFAULT_LIMIT 50

struct history_output {
	json_t *entries; /* --json */
	int64_t now;
	size_t shown;
};

static bool is_live(const struct store_history_entry *e, int64_t now)
{
	return !e->lifted_at && (!e->expires_at || e->expires_at > now);
}

static const char *state_of(const struct store_history_entry *e, int64_t now)
{
	if (is_live(e, now))
		return "live";
	/* The sweep records an expiry as a lift with reason "expired": it is still an expiry. */
	if (!e->lifted_at || strcmp(e->lift_reason, "expired") == 0)
		return "expired";
	return "lifted";
}

static json_t *ips_json(const char *ips)
{
	json_t *array = json_array();
	char *copy = strdup(ips), *save = NULL;

	for (char *ip = copy ? strtok_r(copy, ", ", &save) : NULL; ip;
	     ip = strtok_r(NULL, ", ", &save))
		json_array_append_new(array, cli_text_json(ip));
	free(copy);
	return array;
}

static json_t *entry_json(const struct store_history_entry *e, int64_t now)
{
	bool live = is_live(e, now);
	json_t *obj = json_pack(
	    "{s:s, s:o, s:s, s:o, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:o}", "type",
	    e->type == STORE_ENTRY_BAN ? "ban" : "block", "subject", cli_text_json(e->subject),
	    "kind", e->kind, "reason", cli_text_json(e->reason), "source", cli_text_json(e->source),
	    "count", (json_int_t)e->count, "first_event", cli_time_json(e->first_event),
	    "last_event", cli_time_json(e->last_event), "started_at", cli_time_json(e->started_at),
	    "expires_at", cli_time_json(e->expires_at), "lifted_at", cli_time_json(e->lifted_at),
	    "state", state_of(e, now), "lift_reason",
	    e->lifted_at ? cli_text_json(e->lift_reason) : json_null(), "seconds_left",
	    live && e->expires_at ? json_integer((json_int_t)(e->expires_at - now)) : json_null());

	if (obj && e->type == STORE_ENTRY_BLOCK)
		json_object_set_new(obj, "ips", ips_json(e->ips));
	return obj;
}

static void print_header(void)
{
	printf("%-19s  %-5s  %-39s  %-12s  %5s  %-9s  %-10s  %s\n", "STARTED", "TYPE", "SUBJECT",
	       "REASON", "COUNT", "LENGTH", "SOURCE", "STATE");
}

static void print_entry(const struct store_history_entry *e, int64_t now)
{
	char started[CLI_TIME_TEXT_LEN], length[DURATION_TEXT_LEN], left[CLI_TIME_TEXT_LEN];
	char subject[EVENT_USER_LEN], source[STORE_SOURCE_LEN], reason[STORE_WORD_LEN];
	char state[64], lift[STORE_WORD_LEN];

	cli_format_time(e->started_at, started);
	cli_printable(e->subject, subject, sizeof(subject));
	cli_printable(e->source, source, sizeof(source));
	cli_printable(e->reason, reason, sizeof(reason));
	if (!e->expires_at)
		snprintf(length, sizeof(length), "permanent");
	else
		duration_format(
		    (uint64_t)(e->expires_at > e->started_at ? e->expires_at - e->started_at : 0),
		    length);
	if (is_live(e, now) && e->expires_at) {
		duration_format((uint64_t)(e->expires_at - now), left);
		snprintf(state, sizeof(state), "live, %s left", left);
	} else if (is_live(e, now)) {
		snprintf(state, sizeof(state), "live");
	} else if (e->lifted_at) {
		cli_format_time(e->lifted_at, left);
		cli_printable(e->lift_reason, lift, sizeof(lift));
		snprintf(state, sizeof(state), "%s %s", lift[0] ? lift : "lifted", left);
	} else {
		snprintf(state, sizeof(state), "expired");
	}
	printf("%-19s  %-5s  %-39s  %-12s  %5llu  %-9s  %-10s  %s\n", started,
	       e->type == STORE_ENTRY_BAN ? "ban" : "block", subject, reason,
	       (unsigned long long)e->count, length, source, state);
	if (e->type == STORE_ENTRY_BLOCK && e->ips[0]) {
		char ips[STORE_IPS_LEN];

		cli_printable(e->ips, ips, sizeof(ips));
		printf("%-19s  %-5s  from %s\n", "", "", ips);
	}
}

static int show_entry(const struct store_history_entry *entry, void *arg)
{
	struct history_output *out = arg;

	if (out->entries)
		json_array_append_new(out->entries, entry_json(entry, out->now));
	else
		print_entry(entry, out->now);
	out->shown++;
	return 0;
}

static int parse_limit(const char *text, size_t *limit)
{
	char *end;
	unsigned long long value;

	if (!isdigit((unsigned char)text[0]))
		return -1;
	value = strtoull(text, &end, 10);
	if (*end || value > 1000000000ULL)
		return -1;
	*limit = (size_t)value;
	return 0;
}

static int run_history(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "limit", required_argument, NULL, 'n' },
		{ "since", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, CLI_HELP },
		{ 0 },
	};
	struct store_history_query query = { .limit = DEFAULT_LIMIT };
	struct history_output out = { .now = clock_wall_s() };
	char why[ERRMSG_LEN];
	struct store *store;
	uint64_t seconds;
	bool permanent;
	int opt, err;

	while ((opt = cli_getopt(&cmd_history, argc, argv, "n:s:h", options)) != -1) {
		if (opt == 'n' && parse_limit(optarg, &query.limit))
			return cli_usage_error(&cmd_history, "--limit '%s': expected a number",
					       optarg);
		if (opt == 's' && duration_parse(optarg, &seconds, &permanent, why))
			return cli_fail("--since: %s", why);
		if (opt == 's' && permanent)
			return cli_fail("--since '%s': expected a duration like 1h or 7d", optarg);
		if (opt == 's')
			query.since = out.now - (int64_t)seconds;
		if (opt == '?')
			return cli_usage_error(&cmd_history, "bad option");
	}
	if (argc - optind > 1)
		return cli_usage_error(&cmd_history, "unexpected argument '%s'", argv[optind + 1]);
	if (optind < argc)
		query.match = argv[optind];

	err = store_open(cli->state_dir, false, &store, why);
	if (err)
		return cli_fail("%s", why);
	if (cli->json)
		out.entries = json_array();
	else
		print_header();
	err = store_history(store, &query, show_entry, &out, why);
	store_close(store);
	if (err) {
		json_decref(out.entries);
		return cli_fail("%s", why);
	}
	if (cli->json)
		cli_print_json(json_pack("{s:o}", "history", out.entries));
	return EXIT_SUCCESS;
}

const struct command cmd_history = {
	"history",
	run_history,
	"history [--limit N] [--since DURATION] [ADDR[/LEN]|ACCOUNT]\n"
	"Shows bans and account blocks from the daemon's store (STATE_DIR/xdpban.db),\n"
	"newest first: live ones and those that ended, with why, from which source\n"
	"and after how many failures.\n"
	"  -n, --limit N         at most N entries (default 50; 0: all)\n"
	"  -s, --since DURATION  only entries in force at some time in the last\n"
	"                        DURATION (30m, 2h, 7d)\n"
	"An address or prefix shows the bans covering it or inside it; any other\n"
	"word is an account name, and shows its blocks.\n",
};
