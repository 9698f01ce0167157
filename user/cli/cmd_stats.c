// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* stats: the XDP program's verdict counters, once or as rates over time. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "cli/cli.h"
#include "lib/duration.h"
#include "kernel/stats.h"

static volatile sig_atomic_t stop_watching;

static void on_signal(int sig)
{
	(void)sig;
	stop_watching = 1;
}

static json_t *totals_json(const struct verdict_totals *totals)
{
	json_t *doc = json_object();

	for (int r = 0; r < REASON_COUNT; r++)
		json_object_set_new(doc, stats_reason_name(r),
				    json_pack("{s:I, s:I}", "packets",
					      (json_int_t)totals->reason[r].packets, "bytes",
					      (json_int_t)totals->reason[r].bytes));
	return doc;
}

static void print_totals(const struct verdict_totals *totals)
{
	printf("%-16s %16s %18s\n", "VERDICT", "PACKETS", "BYTES");
	for (int r = 0; r < REASON_COUNT; r++)
		printf("%-16s %16llu %18llu\n", stats_reason_name(r),
		       (unsigned long long)totals->reason[r].packets,
		       (unsigned long long)totals->reason[r].bytes);
}

static json_t *rates_json(const struct verdict_totals *now, const struct verdict_totals *before,
			  double seconds)
{
	json_t *doc = json_object();

	for (int r = 0; r < REASON_COUNT; r++) {
		double pps = (now->reason[r].packets - before->reason[r].packets) / seconds;

		json_object_set_new(doc, stats_reason_name(r), json_real(pps));
	}
	return doc;
}

static void print_rates(const struct verdict_totals *now, const struct verdict_totals *before,
			double seconds)
{
	for (int r = 0; r < REASON_COUNT; r++) {
		double pps = (now->reason[r].packets - before->reason[r].packets) / seconds;

		printf("%s %s=%.0f", r ? "" : "pps:", stats_reason_name(r), pps);
	}
	putchar('\n');
	fflush(stdout);
}

static int watch(struct cli *cli, const struct maps *maps, unsigned int interval, long rounds)
{
	struct verdict_totals before, now;
	char why[ERRMSG_LEN];
	uint64_t then_ns = clock_now_ns();

	if (stats_read(maps, &before, why))
		return cli_fail("%s", why);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop_watching && rounds-- != 0) {
		uint64_t now_ns;
		double seconds;

		sleep(interval);
		if (stop_watching)
			break;
		if (stats_read(maps, &now, why))
			return cli_fail("%s", why);
		now_ns = clock_now_ns();
		seconds = (double)(now_ns - then_ns) / NSEC_PER_SEC;
		if (cli->json)
			cli_print_json(rates_json(&now, &before, seconds));
		else
			print_rates(&now, &before, seconds);
		before = now;
		then_ns = now_ns;
	}
	return EXIT_SUCCESS;
}

static int run_stats(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "watch", no_argument, NULL, 'w' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, CLI_HELP },
		{ 0 },
	};
	struct verdict_totals totals;
	bool watching = false;
	unsigned int interval = 1;
	long rounds = -1;
	char why[ERRMSG_LEN], *end;
	struct maps maps;
	int opt, status;

	while ((opt = cli_getopt(&cmd_stats, argc, argv, "wi:c:h", options)) != -1) {
		switch (opt) {
		case 'w':
			watching = true;
			break;
		case 'i':
			interval = strtoul(optarg, &end, 10);
			if (*end || interval == 0 || interval > 3600)
				return cli_fail("interval '%s' is not 1-3600 seconds", optarg);
			break;
		case 'c':
			rounds = strtol(optarg, &end, 10);
			if (*end || rounds <= 0)
				return cli_fail("count '%s' is not a positive number", optarg);
			break;
		default:
			return cli_usage_error(&cmd_stats, "bad option");
		}
	}
	if (optind != argc)
		return cli_usage_error(&cmd_stats, "unexpected argument '%s'", argv[optind]);
	status = cli_open_for_read(cli, &maps);
	if (status)
		return status;
	if (watching)
		status = watch(cli, &maps, interval, rounds);
	else if (stats_read(&maps, &totals, why))
		status = cli_fail("%s", why);
	else if (cli->json)
		cli_print_json(totals_json(&totals));
	else
		print_totals(&totals);
	pins_close(&maps);
	return status;
}

const struct command cmd_stats = {
	"stats",
	run_stats,
	"stats [--watch [--interval SECONDS] [--count N]] [--json]\n"
	"Shows the XDP program's verdict counters, summed over CPUs: pass (judged,\n"
	"nothing matched), drop_ban, drop_cidr, drop_geo, pass_allowlist and\n"
	"not_judged (outside the scope, or not parsable). --watch prints packet\n"
	"rates every interval until interrupted (or N times).\n",
};
