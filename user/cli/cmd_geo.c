// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* geo load | block | unblock | list | lookup: country blocking. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/cidr.h"
#include "bans/bans.h"
#include "cli/cli.h"
#include "geo/country.h"
#include "lib/duration.h"
#include "geo/geo.h"
#include "geo/geo_formats.h"
#include "geo/geo_store.h"
#include "bans/protected.h"
#include "kernel/stats.h"
#include "bans/verdict.h"

static double elapsed_ms(uint64_t since_ns)
{
	return (double)(clock_now_ns() - since_ns) / 1e6;
}

/* Parses country codes into slots; prints the valid codes after an unknown one. */
static int parse_countries(int argc, char **argv, int *slots)
{
	char why[ERRMSG_LEN];

	for (int i = 0; i < argc; i++) {
		slots[i] = country_parse(argv[i], why);
		if (slots[i] == -ESRCH) {
			cli_fail("%s", why);
			country_print_valid(stderr);
			return EXIT_FAILURE;
		}
		if (slots[i] == -ENOENT)
			return cli_fail("'%s' is a database's \"unknown country\", not a country "
					"to block",
					argv[i]);
		if (slots[i] < 0)
			return cli_fail("%s", why);
	}
	return 0;
}

static void print_load_problems(const struct geo_load_report *report)
{
	for (unsigned int i = 0; i < report->problems_kept; i++)
		fprintf(stderr, "xdpban: %s\n", report->problems[i]);
	if (report->unknown_codes)
		country_print_valid(stderr);
}

/* Reads and normalises the files (or the default database) into db. */
static int read_database(int argc, char **argv, const struct geo_load_options *options,
			 struct geo_db *db, struct geo_load_report *report)
{
	const char *defaults[2];
	const char *const *paths = (const char *const *)argv;
	char why[ERRMSG_LEN];
	size_t count = argc;

	if (argc == 0) {
		if (geo_default_paths(defaults, why))
			return cli_fail("%s", why);
		paths = defaults;
		count = 2;
	}
	geo_db_init(db);
	if (geo_load_files(db, paths, count, options, report, why) || geo_db_finish(db, why)) {
		cli_fail("%s", why);
		if (report->unknown_codes)
			country_print_valid(stderr);
		geo_db_free(db);
		return EXIT_FAILURE;
	}
	if (report->bad_lines) {
		fprintf(stderr, "xdpban: skipped %lu bad lines:\n", report->bad_lines);
		print_load_problems(report);
	}
	return 0;
}

/* Puts the blocked countries' part of db in the kernel, then keeps db as the database. */
static int install_and_store(struct cli *cli, const struct maps *maps, const struct geo_db *db,
			     struct geo_install_report *report)
{
	bool blocked[COUNTRY_SLOTS];
	struct geo_db previous;
	char why[ERRMSG_LEN], ignored[ERRMSG_LEN];

	if (geo_read_blocked(maps, blocked, why) ||
	    geo_install_countries(maps, db, blocked, report, why))
		return cli_fail("%s", why);
	if (geo_store_save(cli->state_dir, db, why) == 0)
		return 0;
	/* The kernel has the new database but the disk does not: go back. */
	if (geo_store_load(cli->state_dir, &previous, ignored) == 0) {
		geo_install_countries(maps, &previous, blocked, report, ignored);
		geo_db_free(&previous);
	} else {
		const bool none[COUNTRY_SLOTS] = { false };

		geo_install_countries(maps, db, none, report, ignored); /* there was none */
	}
	return cli_fail("%s", why);
}

static int geo_load(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "country", required_argument, NULL, 'c' },
		{ "skip-bad", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, CLI_HELP },
		{ 0 },
	};
	struct geo_load_options load = { .format = GEO_FORMAT_AUTO };
	struct geo_load_report report = { 0 };
	struct geo_install_report installed = { 0 };
	char why[ERRMSG_LEN];
	struct geo_db db;
	struct maps maps;
	uint64_t start = clock_now_ns();
	double parse_ms;
	int opt, lock_fd, status;

	while ((opt = cli_getopt(&cmd_geo, argc, argv, "f:c:sh", options)) != -1) {
		if (opt == 'f' && geo_format_parse(optarg, &load.format, why))
			return cli_fail("%s", why);
		if (opt == 'c')
			load.country = optarg;
		if (opt == 's')
			load.skip_bad = true;
		if (opt == '?')
			return cli_usage_error(&cmd_geo, "bad option");
	}
	status = read_database(argc - optind, argv + optind, &load, &db, &report);
	if (status)
		return status;
	parse_ms = elapsed_ms(start);
	status = cli_open_for_write(cli, &maps, &lock_fd);
	if (!status) {
		start = clock_now_ns();
		status = install_and_store(cli, &maps, &db, &installed);
		cli_close(&maps, lock_fd);
	}
	if (!status && cli->json)
		cli_print_json(json_pack(
		    "{s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:I, s:I, s:I}", "prefixes",
		    (json_int_t)db.prefix_count, "ipv4_prefixes", (json_int_t)db.ipv4_prefix_count,
		    "ipv6_prefixes", (json_int_t)(db.prefix_count - db.ipv4_prefix_count),
		    "parse_ms", parse_ms, "install_ms", elapsed_ms(start), "kernel_written",
		    (json_int_t)installed.written, "kernel_deleted", (json_int_t)installed.deleted,
		    "kernel_unchanged", (json_int_t)installed.unchanged, "index_blocks",
		    (json_int_t)installed.index_blocks, "index_to_trie",
		    (json_int_t)installed.index_mixed));
	else if (!status)
		printf("loaded %zu prefixes (%zu IPv4, %zu IPv6) in %.0f ms; kernel: %zu written, "
		       "%zu deleted, %zu unchanged (blocked countries only) in %.0f ms\n",
		       db.prefix_count, db.ipv4_prefix_count,
		       db.prefix_count - db.ipv4_prefix_count, parse_ms, installed.written,
		       installed.deleted, installed.unchanged, elapsed_ms(start));
	geo_db_free(&db);
	return status;
}

/*
 * Blocking: the country's prefixes go in first, then its policy flips, so
 * it is blocked whole at once. Unblocking: the policy flips first, then the
 * prefixes go. Either way no other country's entries change.
 */
static int apply_blocks(const struct maps *maps, const struct geo_db *db,
			const bool wanted[COUNTRY_SLOTS], const int *slots, size_t count,
			bool block, char why[ERRMSG_LEN])
{
	struct geo_install_report report;
	int err;

	if (block) {
		err = geo_install_countries(maps, db, wanted, &report, why);
		return err ? err : geo_set_blocked(maps, slots, count, true, why);
	}
	err = geo_set_blocked(maps, slots, count, false, why);
	return err ? err : geo_install_countries(maps, db, wanted, &report, why);
}

/* Puts every country's block flag, and the kernel's prefixes, back as they were. */
static void restore_blocks(const struct maps *maps, const struct geo_db *db,
			   const bool before[COUNTRY_SLOTS])
{
	int on[COUNTRY_SLOTS], off[COUNTRY_SLOTS];
	size_t on_count = 0, off_count = 0;
	struct geo_install_report report;
	char ignored[ERRMSG_LEN];

	for (int slot = 0; slot < COUNTRY_SLOTS; slot++) {
		if (before[slot])
			on[on_count++] = slot;
		else
			off[off_count++] = slot;
	}
	geo_set_blocked(maps, off, off_count, false, ignored);
	geo_install_countries(maps, db, before, &report, ignored);
	geo_set_blocked(maps, on, on_count, true, ignored);
}

/*
 * The self-lockout guard: refuses a block of a country where loopback, the
 * host or an SSH client lies (by the database), unless the allowlist covers it.
 */
static int refuse_lockout(const struct maps *maps, const struct geo_db *db, const int *slots,
			  size_t count)
{
	struct protected_set protected = { 0 };
	char code[COUNTRY_CODE_LEN], victim[PROTECTED_TEXT_LEN];
	int status = cli_collect_protected(&protected);

	if (status)
		return status;
	for (size_t i = 0; i < protected.count && !status; i++) {
		const struct protected_addr *item = &protected.items[i];
		const struct geo_prefix *found;
		struct addr_key addr;

		cidr_to_addr_key(&addr, &item->key);
		found = geo_db_lookup(db, &addr);
		if (!found || bans_allow_covers(maps, &item->key))
			continue;
		for (size_t j = 0; j < count && !status; j++) {
			country_code(slots[j], code);
			if (strcmp(code, found->country) != 0)
				continue;
			protected_describe(item, victim);
			status = cli_fail("refusing to block %s: %s is in %s (--force blocks it "
					  "anyway)",
					  code, victim, code);
		}
	}
	protected_free(&protected);
	return status;
}

static int change_blocks(struct cli *cli, const int *slots, size_t count, bool block, bool force)
{
	bool before[COUNTRY_SLOTS], wanted[COUNTRY_SLOTS];
	char why[ERRMSG_LEN];
	struct geo_db db;
	struct maps maps;
	int lock_fd, status = cli_open_for_write(cli, &maps, &lock_fd);

	if (status)
		return status;
	/* Read under the lock, so a concurrent `geo load` cannot swap it underneath. */
	if (geo_store_load(cli->state_dir, &db, why)) {
		cli_close(&maps, lock_fd);
		return cli_fail("%s", why);
	}
	if (block && !force)
		status = refuse_lockout(&maps, &db, slots, count);
	if (!status && geo_read_blocked(&maps, before, why)) {
		status = cli_fail("%s", why);
	} else if (!status) {
		memcpy(wanted, before, sizeof(wanted));
		for (size_t i = 0; i < count; i++)
			wanted[slots[i]] = block;
		if (apply_blocks(&maps, &db, wanted, slots, count, block, why)) {
			restore_blocks(&maps, &db, before);
			status = cli_fail("%s", why);
		}
	}
	for (size_t i = 0; !status && !cli->json && i < count; i++) {
		char code[COUNTRY_CODE_LEN];

		country_code(slots[i], code);
		printf("%s %s (%u prefixes)\n", block ? "blocked" : "unblocked", code,
		       db.country_prefixes[slots[i]]);
	}
	cli_close(&maps, lock_fd);
	geo_db_free(&db);
	return status;
}

static int geo_block_or_unblock(struct cli *cli, int argc, char **argv, bool block)
{
	static const struct option options[] = {
		{ "force", no_argument, NULL, CLI_FORCE },
		{ "help", no_argument, NULL, CLI_HELP },
		{ 0 },
	};
	bool force = false;
	int opt, status, *slots;

	while ((opt = cli_getopt(&cmd_geo, argc, argv, "h", options)) != -1) {
		if (opt == CLI_FORCE && block)
			force = true;
		else
			return cli_usage_error(&cmd_geo, "bad option");
	}
	if (optind == argc)
		return cli_usage_error(&cmd_geo, "expected at least one country code");
	slots = calloc(argc - optind, sizeof(*slots));
	if (!slots)
		return cli_fail("out of memory");
	status = parse_countries(argc - optind, argv + optind, slots);
	if (!status)
		status = change_blocks(cli, slots, argc - optind, block, force);
	free(slots);
	return status;
}

static json_t *country_json(int slot, const struct geo_country_state *state, unsigned int prefixes)
{
	char code[COUNTRY_CODE_LEN];
	const char *name = country_name(slot);

	country_code(slot, code);
	return json_pack("{s:s, s:s, s:b, s:I, s:I, s:I}", "country", code, "name",
			 name ? name : "", "blocked", state->blocked, "prefixes",
			 (json_int_t)prefixes, "drop_packets", (json_int_t)state->drops.packets,
			 "drop_bytes", (json_int_t)state->drops.bytes);
}

static void print_country_row(int slot, const struct geo_country_state *state,
			      unsigned int prefixes)
{
	char code[COUNTRY_CODE_LEN];
	const char *name = country_name(slot);

	country_code(slot, code);
	printf("%-4s %-32.32s %-8s %9u %14llu\n", code, name ? name : "",
	       state->blocked ? "yes" : "no", prefixes, (unsigned long long)state->drops.packets);
}

static int geo_list(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, CLI_HELP },
		{ 0 },
	};
	struct geo_country_state states[COUNTRY_SLOTS];
	json_t *countries = json_array();
	bool all = false, have_db;
	char why[ERRMSG_LEN];
	struct geo_db db;
	struct maps maps;
	int opt, status;

	while ((opt = cli_getopt(&cmd_geo, argc, argv, "ah", options)) != -1) {
		if (opt == 'a')
			all = true;
		if (opt == '?')
			return cli_usage_error(&cmd_geo, "bad option");
	}
	status = cli_open_for_read(cli, &maps);
	if (status)
		return status;
	status = geo_read_states(&maps, states, why) ? cli_fail("%s", why) : 0;
	pins_close(&maps);
	if (status)
		return status;
	have_db = geo_store_load(cli->state_dir, &db, why) == 0;
	if (!cli->json) {
		if (have_db)
			printf("database: %zu prefixes (%zu IPv4, %zu IPv6)\n", db.prefix_count,
			       db.ipv4_prefix_count, db.prefix_count - db.ipv4_prefix_count);
		else
			printf("database: %s\n", why);
		printf("%-4s %-32s %-8s %9s %14s\n", "CC", "COUNTRY", "BLOCKED", "PREFIXES",
		       "DROPPED");
	}
	for (int slot = 0; slot < COUNTRY_SLOTS; slot++) {
		unsigned int prefixes = have_db ? db.country_prefixes[slot] : 0;

		if (!states[slot].blocked && !states[slot].drops.packets && !(all && prefixes))
			continue;
		if (cli->json)
			json_array_append_new(countries,
					      country_json(slot, &states[slot], prefixes));
		else
			print_country_row(slot, &states[slot], prefixes);
	}
	if (cli->json)
		cli_print_json(json_pack("{s:b, s:I, s:o}", "database_loaded", have_db, "prefixes",
					 (json_int_t)(have_db ? db.prefix_count : 0), "countries",
					 countries));
	else
		json_decref(countries);
	if (have_db)
		geo_db_free(&db);
	return EXIT_SUCCESS;
}

static int geo_lookup_address(struct cli *cli, int argc, char **argv)
{
	struct verdict_explanation verdict;
	const struct geo_prefix *found = NULL;
	char why[ERRMSG_LEN], prefix[CIDR_TEXT_LEN] = "", code[COUNTRY_CODE_LEN] = "";
	struct addr_key addr;
	struct lpm_key key;
	struct geo_db db;
	struct maps maps;
	int status;

	if (cli_parse_no_options(&cmd_geo, argc, argv))
		return EXIT_FAILURE;
	if (argc - optind != 1)
		return cli_usage_error(&cmd_geo, "expected one address");
	if (cidr_parse(argv[optind], &key, why))
		return cli_fail("%s", why);
	if (!cidr_is_host(&key))
		return cli_fail("'%s' is a prefix; geo lookup takes one address", argv[optind]);
	cidr_to_addr_key(&addr, &key);
	if (geo_store_load(cli->state_dir, &db, why))
		return cli_fail("%s", why);
	found = geo_db_lookup(&db, &addr);
	if (found) {
		cidr_format(&found->key, prefix);
		snprintf(code, sizeof(code), "%s", found->country);
	}
	status = cli_open_for_read(cli, &maps);
	if (!status) {
		verdict_explain(&maps, &addr, &verdict);
		pins_close(&maps);
	}
	if (!status && cli->json)
		cli_print_json(json_pack("{s:s, s:s?, s:s?, s:s}", "address", argv[optind],
					 "country", found ? code : NULL, "prefix",
					 found ? prefix : NULL, "verdict",
					 stats_reason_name(verdict.reason)));
	else if (!status)
		printf("%s: %s%s%s%s -> %s\n", argv[optind], found ? "country " : "no country",
		       code, found ? " in " : "", prefix, stats_reason_name(verdict.reason));
	geo_db_free(&db);
	return status;
}

/* Every code geo block and the loaders accept, with its name (shell completion uses it). */
static int geo_codes(struct cli *cli, int argc, char **argv)
{
	char code[COUNTRY_CODE_LEN];
	json_t *codes;

	if (cli_parse_no_options(&cmd_geo, argc, argv))
		return EXIT_FAILURE;
	if (optind != argc)
		return cli_usage_error(&cmd_geo, "unexpected argument '%s'", argv[optind]);
	codes = json_array();
	for (int slot = 0; slot < COUNTRY_SLOTS; slot++) {
		if (!country_slot_is_valid(slot))
			continue;
		country_code(slot, code);
		if (cli->json)
			json_array_append_new(codes, json_pack("{s:s, s:s}", "country", code,
							       "name", country_name(slot)));
		else
			printf("%s %s\n", code, country_name(slot));
	}
	if (cli->json)
		cli_print_json(codes);
	else
		json_decref(codes);
	return EXIT_SUCCESS;
}

static int run_geo(struct cli *cli, int argc, char **argv)
{
	const char *action = argc > 1 ? argv[1] : "";

	if (strcmp(action, "-h") == 0 || strcmp(action, "--help") == 0) {
		cli_print_usage(&cmd_geo);
		return EXIT_SUCCESS;
	}
	if (strcmp(action, "load") == 0)
		return geo_load(cli, argc - 1, argv + 1);
	if (strcmp(action, "block") == 0)
		return geo_block_or_unblock(cli, argc - 1, argv + 1, true);
	if (strcmp(action, "unblock") == 0)
		return geo_block_or_unblock(cli, argc - 1, argv + 1, false);
	if (strcmp(action, "list") == 0)
		return geo_list(cli, argc - 1, argv + 1);
	if (strcmp(action, "lookup") == 0)
		return geo_lookup_address(cli, argc - 1, argv + 1);
	if (strcmp(action, "codes") == 0)
		return geo_codes(cli, argc - 1, argv + 1);
	return cli_usage_error(&cmd_geo, "unknown geo action '%s'", action);
}

const struct command cmd_geo = {
	"geo",
	run_geo,
	"geo load [--format F] [--country CC] [--skip-bad] [FILE...] | geo block|unblock CC... |\n"
	"       geo list [--all] | geo lookup ADDR | geo codes\n"
	"Blocks whole countries, IPv4 and IPv6. The allowlist still wins.\n"
	"  load     reads a country database (default: Debian's tor-geoipdb) and keeps\n"
	"           it in the state directory; the kernel gets the blocked countries'\n"
	"           prefixes. Replacing it never lets a blocked address through, and a\n"
	"           failed load leaves the previous database in force.\n"
	"           -f, --format F   auto (default), tor, cidr (ipdeny zones, one CIDR a\n"
	"                            line), rir (delegated stats), maxmind (GeoLite2 CSV:\n"
	"                            give the Blocks files and the Locations file)\n"
	"           -c, --country CC the country of a cidr list (else from CC.zone)\n"
	"           -s, --skip-bad   skip malformed lines (counted) instead of failing\n"
	"  block    blocks countries (ISO 3166 codes); unblock lifts the block. A\n"
	"           country where loopback, an address of this host or the client of\n"
	"           an established SSH session lies is refused, naming the address,\n"
	"           unless the allowlist covers it; --force blocks it anyway\n"
	"  list     blocked countries with prefix and drop counts (--all: every country)\n"
	"  lookup   the country of one address and the verdict a SYN from it gets\n"
	"  codes    every country code accepted, with its name (no root needed)\n",
};
