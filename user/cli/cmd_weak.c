// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * weak: accounts found using a weak password, and addresses whose failed
 * logins guessed dictionary words, from the store. The store, not the
 * control socket: the listing is the daemon's record (it outlives a
 * restart and keeps its history), it is readable with the daemon stopped,
 * and it is guarded as the rest of the store is (0640, root).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "lib/cidr.h"
#include "bans/store.h"

static json_t *weak_json(const struct store_weak *w)
{
	return json_pack(
	    "{s:o, s:o, s:s, s:o, s:o, s:o}", "account", cli_text_json(w->account), "class",
	    cli_text_json(w->class), "state", w->cleared_at ? "cleared" : "listed", "found_at",
	    cli_time_json(w->found_at), "cleared_at", cli_time_json(w->cleared_at), "clear_reason",
	    w->cleared_at ? cli_text_json(w->clear_reason) : json_null());
}

static json_t *guess_json(const struct store_guess *g)
{
	char address[CIDR_TEXT_LEN];

	cidr_format(&g->address, address);
	return json_pack("{s:s, s:I, s:o, s:o}", "address", address, "count", (json_int_t)g->count,
			 "first_at", cli_time_json(g->first_at), "last_at",
			 cli_time_json(g->last_at));
}

static void print_weak(const struct store_weak *rows, size_t count, bool all)
{
	char account[EVENT_USER_LEN], class[STORE_WORD_LEN], reason[STORE_WORD_LEN];
	char found[CLI_TIME_TEXT_LEN], cleared[CLI_TIME_TEXT_LEN];

	printf("%-32s  %-19s  %-19s%s\n", "ACCOUNT", "RULE", "FOUND", all ? "  STATE" : "");
	for (size_t i = 0; i < count; i++) {
		cli_printable(rows[i].account, account, sizeof(account));
		cli_printable(rows[i].class, class, sizeof(class));
		cli_printable(rows[i].clear_reason, reason, sizeof(reason));
		cli_format_time(rows[i].found_at, found);
		cli_format_time(rows[i].cleared_at, cleared);
		printf("%-32s  %-19s  %-19s", account, class, found);
		if (all && rows[i].cleared_at)
			printf("  cleared %s (%s)", cleared, reason);
		else if (all)
			printf("  listed");
		putchar('\n');
	}
}

static void print_guesses(const struct store_guess *rows, size_t count)
{
	char address[CIDR_TEXT_LEN], first[CLI_TIME_TEXT_LEN], last[CLI_TIME_TEXT_LEN];

	printf("%-39s  %7s  %-19s  %s\n", "ADDRESS", "GUESSES", "FIRST", "LAST");
	for (size_t i = 0; i < count; i++) {
		cidr_format(&rows[i].address, address);
		cli_format_time(rows[i].first_at, first);
		cli_format_time(rows[i].last_at, last);
		printf("%-39s  %7llu  %-19s  %s\n", address, (unsigned long long)rows[i].count,
		       first, last);
	}
}

static int show(struct cli *cli, struct store *store, bool all, bool guesses, char why[ERRMSG_LEN])
{
	struct store_weak *rows = NULL;
	struct store_guess *guess_rows = NULL;
	size_t count = 0, guess_count = 0;
	json_t *weak, *guessed;
	int err = 0;

	if (cli->json || !guesses)
		err = store_weak_list(store, all, &rows, &count, why);
	if (!err && (cli->json || guesses))
		err = store_guesses(store, &guess_rows, &guess_count, why);
	if (err)
		goto out;
	if (!cli->json && guesses)
		print_guesses(guess_rows, guess_count);
	else if (!cli->json)
		print_weak(rows, count, all);
	if (cli->json) {
		weak = json_array();
		guessed = json_array();
		for (size_t i = 0; i < count; i++)
			json_array_append_new(weak, weak_json(&rows[i]));
		for (size_t i = 0; i < guess_count; i++)
			json_array_append_new(guessed, guess_json(&guess_rows[i]));
		cli_print_json(
		    json_pack("{s:o, s:o}", "weak", weak, "dictionary_guesses", guessed));
	}
out:
	free(rows);
	free(guess_rows);
	return err;
}

static int run_weak(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "guesses", no_argument, NULL, 'g' },
		{ "help", no_argument, NULL, CLI_HELP },
		{ 0 },
	};
	bool all = false, guesses = false;
	char why[ERRMSG_LEN];
	struct store *store;
	int opt, err;

	while ((opt = cli_getopt(&cmd_weak, argc, argv, "agh", options)) != -1) {
		if (opt == 'a')
			all = true;
		else if (opt == 'g')
			guesses = true;
		else if (opt == '?')
			return cli_usage_error(&cmd_weak, "bad option");
	}
	if (optind < argc)
		return cli_usage_error(&cmd_weak, "unexpected argument '%s'", argv[optind]);
	err = store_open(cli->state_dir, false, &store, why);
	if (!err) {
		err = show(cli, store, all, guesses, why);
		store_close(store);
	}
	return err ? cli_fail("%s", why) : EXIT_SUCCESS;
}

const struct command cmd_weak = {
	"weak",
	run_weak,
	"weak [--all] [--guesses]\n"
	"Shows the accounts the daemon found using a weak password ([policy]\n"
	"weak_passwords), from its store (STATE_DIR/xdpban.db): the account, the\n"
	"rule that matched (dictionary word, capitalised word, substituted letters,\n"
	"word + digits, word + year) and when. Never a password: the daemon sees\n"
	"only Dovecot's hash of it. A listing is cleared when the account's next\n"
	"successful login has another password that no rule matches.\n"
	"  -a, --all      cleared listings too, with when and why\n"
	"  -g, --guesses  instead, the addresses whose failed logins tried\n"
	"                 dictionary words, with how many\n"
	"--json prints both lists.\n",
};
