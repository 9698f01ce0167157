// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* ban, unban, list, allow, unallow: the operator's view of the ban and allow maps. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lib/cidr.h"
#include "lib/clock.h"
#include "bans/banfile.h"
#include "bans/bans.h"
#include "cli/cli.h"
#include "lib/duration.h"
#include "bans/protected.h"
#include "bans/store.h"
#include "lib/util.h"

/* Parses every argument as a prefix; reports the first bad one. */
static int parse_prefixes(int argc, char **argv, struct lpm_key **keys_out)
{
	struct lpm_key *keys = calloc(argc ? argc : 1, sizeof(*keys));
	char why[ERRMSG_LEN];

	if (!keys)
		return cli_fail("out of memory");
	for (int i = 0; i < argc; i++) {
		if (cidr_parse(argv[i], &keys[i], why)) {
			free(keys);
			return cli_fail("%s", why);
		}
	}
	*keys_out = keys;
	return 0;
}

static int read_ban_file(const char *path, bool permanent, uint64_t seconds,
			 struct ban_request **requests, size_t *count)
{
	FILE *file = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char why[ERRMSG_LEN];
	int err;

	if (!file)
		return cli_fail("cannot open '%s': %s", path, strerror(errno));
	err = banfile_read(file, path, permanent, seconds, requests, count, why);
	if (file != stdin)
		fclose(file);
	return err ? cli_fail("%s", why) : 0;
}

static int requests_from_args(int argc, char **argv, bool permanent, uint64_t seconds,
			      struct ban_request **requests_out)
{
	struct ban_request *requests = calloc(argc ? argc : 1, sizeof(*requests));
	char why[ERRMSG_LEN];

	if (!requests)
		return cli_fail("out of memory");
	for (int i = 0; i < argc; i++) {
		requests[i].permanent = permanent;
		requests[i].seconds = seconds;
		if (cidr_parse(argv[i], &requests[i].key, why)) {
			free(requests);
			return cli_fail("%s", why);
		}
	}
	*requests_out = requests;
	return 0;
}

/* The self-lockout guard: no ban may cover loopback, the host or an SSH client. */
static int refuse_lockout(const struct maps *maps, const struct ban_request *requests, size_t count)
{
	struct protected_set protected = { 0 };
	char prefix[CIDR_TEXT_LEN], victim[PROTECTED_TEXT_LEN];
	int status = cli_collect_protected(&protected);

	if (status)
		return status;
	for (size_t i = 0; i < count && !status; i++) {
		const struct protected_addr *hit =
		    protected_within(&protected, maps, &requests[i].key);

		if (!hit)
			continue;
		cidr_format(&requests[i].key, prefix);
		protected_describe(hit, victim);
		status = cli_fail("refusing to ban %s: it covers %s (--force bans it anyway)",
				  prefix, victim);
	}
	protected_free(&protected);
	return status;
}

/* A full CIDR map made room: says which bans went. */
static void report_evictions(const struct ban_evictions *evicted)
{
	char prefix[CIDR_TEXT_LEN];

	if (!evicted->count)
		return;
	fprintf(stderr, "xdpban: the CIDR ban map is full: evicted %zu ban%s closest to %s end:",
		evicted->count, evicted->count == 1 ? "" : "s",
		evicted->count == 1 ? "its" : "their");
	for (size_t i = 0; i < evicted->count; i++) {
		cidr_format(&evicted->records[i].key, prefix);
		fprintf(stderr, " %s", prefix);
	}
	fputc('\n', stderr);
}

/*
 * A change for the daemon's store too. write gets items (count of them,
 * never 0) and returns 0 or -errno with why.
 */
struct store_change {
	int (*write)(struct store *store, const void *items, size_t count, int64_t now,
		     char why[ERRMSG_LEN]);
	const void *items;
	size_t count;
};

/*
 * The daemon's store, when there is one, is locked before the maps change
 * (BEGIN IMMEDIATE, waiting up to STORE_BUSY_MS for another writer): a
 * change the store cannot record is not made, and one the maps take is in
 * the store when the command says it is done. Without a store there is
 * nothing to tell (*store NULL: the daemon records what the maps hold when
 * it first starts). A store that cannot be opened at all (damaged, not an
 * xdpban store, from a newer xdpban) no daemon can restore from either: the
 * change is made with a one-line warning (what the store then lacks), so
 * that the operator is never kept from banning or unbanning.
 */
static int lock_store(const struct cli *cli, const char *warning, struct store **out)
{
	struct store *store = NULL;
	char why[ERRMSG_LEN];
	int err;

	*out = NULL;
	/* cli_open_for_write says this too, but the store comes first. */
	if (cli_require_root())
		return EXIT_FAILURE;
	err = store_open(cli->state_dir, false, &store, why);
	if (err == -ENOENT)
		return 0;
	if (err && err != -EBUSY) {
		fprintf(stderr, "xdpban: warning: %s: %s\n", warning, why);
		return 0;
	}
	if (!err)
		err = store_batch_begin(store, why);
	store_close(err ? store : NULL);
	if (err == -EBUSY)
		return cli_fail(
		    "%s: another process has held the store's write lock for over %d s; "
		    "nothing was changed, try again",
		    why, STORE_BUSY_MS / 1000);
	if (err)
		return cli_fail("%s; nothing was changed", why);
	*out = store;
	return 0;
}

static void unlock_store(struct store *store)
{
	if (!store)
		return;
	store_batch_rollback(store);
	store_close(store);
}

/* The changes written, in order, in the store's open transaction, and committed. */
static int record_changes(struct store *store, const struct store_change *changes, size_t n,
			  char why[ERRMSG_LEN])
{
	int64_t now = clock_wall_s();
	int err = 0;

	for (size_t i = 0; !err && i < n; i++) {
		if (changes[i].count)
			err = changes[i].write(store, changes[i].items, changes[i].count, now, why);
	}
	return err ? err : store_batch_commit(store, why);
}

/*
 * What the maps held under some prefixes before a change, to put back when
 * the store cannot record the change: a ban (with its deadline and origin),
 * an allowlist entry, or nothing.
 */
struct prefix_before {
	struct lpm_key key;
	bool had;
	struct ban_entry ban;
};

static struct prefix_before *remember_bans(const struct maps *maps, const struct lpm_key *keys,
					   size_t stride, size_t n)
{
	struct prefix_before *before = calloc(n + 1, sizeof(*before));

	for (size_t i = 0; before && i < n; i++) {
		before[i].key = *(const struct lpm_key *)((const char *)keys + i * stride);
		before[i].had = bans_lookup(maps, &before[i].key, &before[i].ban) == 0;
	}
	return before;
}

static struct prefix_before *remember_allows(const struct maps *maps, const struct lpm_key *keys,
					     size_t n)
{
	struct prefix_before *before = calloc(n + 1, sizeof(*before));
	struct allow_record *allowed = NULL;
	size_t count = 0;
	char why[ERRMSG_LEN];

	if (before && bans_allow_list(maps, &allowed, &count, why)) {
		free(before);
		return NULL;
	}
	for (size_t i = 0; before && i < n; i++) {
		before[i].key = keys[i];
		for (size_t j = 0; j < count && !before[i].had; j++)
			before[i].had = cidr_compare(&allowed[j].key, &keys[i]) == 0;
	}
	free(allowed);
	return before;
}

/* The bans a full CIDR map evicted to make room: put back too if the bans are undone. */
static struct prefix_before *remember_evicted(struct prefix_before *before, size_t n,
					      const struct ban_evictions *evicted)
{
	struct prefix_before *all =
	    before ? realloc(before, (n + evicted->count + 1) * sizeof(*before)) : NULL;

	if (!all) {
		free(before);
		return NULL;
	}
	for (size_t i = 0; i < evicted->count; i++)
		all[n + i] = (struct prefix_before){ .key = evicted->records[i].key,
						     .had = true,
						     .ban = evicted->records[i].entry };
	return all;
}

/* The bans of before put back as they were; false when one could not be. */
static bool restore_bans(const struct maps *maps, const struct prefix_before *before, size_t n)
{
	char why[ERRMSG_LEN];
	bool all = true;

	for (size_t i = 0; i < n; i++) {
		struct ban_request request = { .key = before[i].key,
					       .permanent = before[i].ban.expires_ns == 0,
					       .deadline_ns = before[i].ban.expires_ns };
		int err = before[i].had ? bans_add(maps, &request, 1, before[i].ban.origin, why)
					: bans_remove(maps, &before[i].key, 1, why);

		all &= err == 0 || (!before[i].had && err == -ENOENT);
	}
	return all;
}

static bool restore_allows(const struct maps *maps, const struct prefix_before *before, size_t n)
{
	char why[ERRMSG_LEN];
	bool all = true;

	for (size_t i = 0; i < n; i++) {
		int err = before[i].had ? bans_allow_add(maps, &before[i].key, 1, why)
					: bans_allow_remove(maps, &before[i].key, 1, why);

		all &= err == 0 || (!before[i].had && err == -ENOENT);
	}
	return all;
}

/*
 * The maps changed; the store must record it. If it cannot, the maps are
 * put back and the command fails: nothing half-applied.
 */
static int record_or_undo(struct store *store, const struct store_change *changes, size_t n,
			  const struct maps *maps, const struct prefix_before *before,
			  size_t before_n,
			  bool (*restore)(const struct maps *maps,
					  const struct prefix_before *before, size_t n))
{
	char why[ERRMSG_LEN];

	if (!store || !record_changes(store, changes, n, why))
		return 0;
	if (before && restore(maps, before, before_n))
		return cli_fail("%s: the store could not record the change, so it was undone; "
				"nothing was changed",
				why);
	return cli_fail("%s: the store could not record the change, and undoing it in the "
			"maps failed: check 'xdpban list'",
			why);
}

static int record_manual_bans(struct store *store, const void *items, size_t count, int64_t now,
			      char why[ERRMSG_LEN])
{
	const struct ban_request *requests = items;
	struct store_ban *rows = calloc(count, sizeof(*rows));
	int err;

	if (!rows) {
		errmsg(why, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < count; i++) {
		rows[i].key = requests[i].key;
		rows[i].expires_at = requests[i].permanent ? 0 : now + (int64_t)requests[i].seconds;
		snprintf(rows[i].reason, sizeof(rows[i].reason), "manual");
		snprintf(rows[i].source, sizeof(rows[i].source), "cli");
	}
	err = store_record_bans(store, rows, count, now, why);
	free(rows);
	return err;
}

static int lift_evicted(struct store *store, const void *items, size_t count, int64_t now,
			char why[ERRMSG_LEN])
{
	const struct ban_record *evicted = items;
	struct lpm_key *keys = calloc(count, sizeof(*keys));
	int err;

	if (!keys) {
		errmsg(why, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < count; i++)
		keys[i] = evicted[i].key;
	err = store_lift_bans(store, keys, count, now, "evicted", NULL, why);
	free(keys);
	return err;
}

static int run_ban(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "for", required_argument, NULL, 'f' },
		{ "file", required_argument, NULL, 'F' },
		{ "force", no_argument, NULL, CLI_FORCE },
		{ "help", no_argument, NULL, CLI_HELP },
		{ 0 },
	};
	struct ban_request *requests = NULL;
	struct ban_evictions evicted = { 0 };
	struct prefix_before *before = NULL;
	struct store *store = NULL;
	const char *file = NULL;
	bool permanent = true, force = false;
	uint64_t seconds = 0;
	char why[ERRMSG_LEN];
	struct maps maps;
	size_t count;
	int opt, lock_fd, status;

	while ((opt = cli_getopt(&cmd_ban, argc, argv, "f:F:h", options)) != -1) {
		if (opt == 'f' && duration_parse(optarg, &seconds, &permanent, why))
			return cli_fail("%s", why);
		if (opt == 'F')
			file = optarg;
		if (opt == CLI_FORCE)
			force = true;
		if (opt == '?')
			return cli_usage_error(&cmd_ban, "bad option");
	}
	if (!file == (optind == argc))
		return cli_usage_error(&cmd_ban, "give addresses or --file, not both or neither");

	count = argc - optind;
	status =
	    file ? read_ban_file(file, permanent, seconds, &requests, &count)
		 : requests_from_args(argc - optind, argv + optind, permanent, seconds, &requests);
	if (!status)
		status =
		    lock_store(cli,
			       "the bans are in force but not in the store, so a reboot before "
			       "the daemon records them loses them",
			       &store);
	if (status)
		goto out;
	status = cli_open_for_write(cli, &maps, &lock_fd);
	if (status) {
		unlock_store(store);
		goto out;
	}
	if (!force)
		status = refuse_lockout(&maps, requests, count);
	before = status ? NULL : remember_bans(&maps, &requests->key, sizeof(*requests), count);
	if (!status && bans_add_evicting(&maps, requests, count, BAN_ORIGIN_MANUAL, &evicted, why))
		status = cli_fail("%s", why);
	if (!status)
		before = remember_evicted(before, count, &evicted);
	/*
	 * Under the writer lock, as for unban: a daemon starting in between would
	 * restore an evicted ban from the store. The new bans are restored after
	 * a reboot and shown by history; evicted ones end there.
	 */
	if (!status) {
		const struct store_change changes[] = {
			{ record_manual_bans, requests, count },
			{ lift_evicted, evicted.records, evicted.count },
		};

		status = record_or_undo(store, changes, ARRAY_SIZE(changes), &maps, before,
					count + evicted.count, restore_bans);
	}
	if (!status && !cli->json)
		printf("banned %zu %s\n", count, count == 1 ? "prefix" : "prefixes");
	unlock_store(store);
	cli_close(&maps, lock_fd);
	report_evictions(&evicted);
	ban_evictions_free(&evicted);
out:
	free(before);
	free(requests);
	return status;
}

const struct command cmd_ban = {
	"ban",
	run_ban,
	"ban (ADDR[/LEN]... | --file FILE) [--for DURATION] [--force]\n"
	"Drops connection attempts from these addresses or prefixes (IPv4 or IPv6).\n"
	"A ban of the same prefix is replaced. Without --for a ban is permanent.\n"
	"A ban that would cover loopback, an address of this host (in this network\n"
	"namespace) or the client of an established SSH session to this host is\n"
	"refused, naming the address, unless the allowlist already covers it.\n"
	"No ban is pushed out to make room for another: when the address table has\n"
	"no room for one (about 1.8M IPv4 or 1.5M IPv6 bans), nothing is banned.\n"
	"The daemon's store, when there is one, records the bans: a reboot keeps them.\n"
	"A store locked by another process for over 5 s, or one that cannot record\n"
	"them, fails the command with nothing changed.\n"
	"  -f, --for DURATION  300, 90s, 5m, 2h, 1d, 1w, 1h30m or permanent\n"
	"  -F, --file FILE     one 'ADDR[/LEN] [DURATION]' per line, '#' comments; '-' is\n"
	"                      stdin. A file with any bad line is rejected whole.\n"
	"      --force         ban even what would lock this host's operator out, a\n"
	"                      default router or an address no client has\n",
};

/*
 * unban, allow and unallow: one map operation on a list of prefixes, then
 * the same change in the daemon's store, when there is one, so that a
 * daemon start (after a reboot) puts back what the operator wants: no ban
 * lifted by unban, every prefix allowed and none unallowed.
 */
struct prefix_command {
	const struct command *cmd;
	int (*apply)(const struct maps *maps, const struct lpm_key *keys, size_t n,
		     char why[ERRMSG_LEN]);
	int (*write)(struct store *store, const void *keys, size_t count, int64_t now,
		     char why[ERRMSG_LEN]);
	bool allowlist;	     /* the change is the allowlist's, not the bans' */
	const char *warning; /* when the store cannot be opened (lock_store) */
	const char *done;
};

static int run_prefix_command(struct cli *cli, const struct prefix_command *spec, int argc,
			      char **argv)
{
	struct prefix_before *before = NULL;
	struct store *store = NULL;
	struct lpm_key *keys = NULL;
	char why[ERRMSG_LEN];
	struct maps maps;
	size_t count;
	int lock_fd, status;

	if (cli_parse_no_options(spec->cmd, argc, argv))
		return EXIT_FAILURE;
	if (optind == argc)
		return cli_usage_error(spec->cmd, "expected at least one address or prefix");
	count = argc - optind;
	status = parse_prefixes(argc - optind, argv + optind, &keys);
	if (status)
		return status;
	count = cidr_sort_unique(keys, count); /* "unban A A" is "unban A" */
	/*
	 * The store first, then the maps: a daemon starting in between would put
	 * an unallowed prefix back, or a lifted ban, from the store.
	 */
	status = lock_store(cli, spec->warning, &store);
	if (status)
		goto out;
	status = cli_open_for_write(cli, &maps, &lock_fd);
	if (status) {
		unlock_store(store);
		goto out;
	}
	before = spec->allowlist ? remember_allows(&maps, keys, count)
				 : remember_bans(&maps, keys, sizeof(*keys), count);
	if (spec->apply(&maps, keys, count, why)) {
		status = cli_fail("%s", why);
	} else {
		const struct store_change change = { spec->write, keys, count };

		status = record_or_undo(store, &change, 1, &maps, before, count,
					spec->allowlist ? restore_allows : restore_bans);
	}
	if (!status && !cli->json)
		printf("%s %zu %s\n", spec->done, count, count == 1 ? "prefix" : "prefixes");
	unlock_store(store);
	cli_close(&maps, lock_fd);
out:
	free(before);
	free(keys);
	return status;
}

static int lift_unbanned(struct store *store, const void *keys, size_t count, int64_t now,
			 char why[ERRMSG_LEN])
{
	return store_lift_bans(store, keys, count, now, "unban", NULL, why);
}

/* The store keeps the allowlist too: the pinned map alone loses it with the pins. */
static int record_allows(struct store *store, const void *keys, size_t count, int64_t now,
			 char why[ERRMSG_LEN])
{
	return store_allow_add(store, keys, count, now, "cli", NULL, why);
}

static int forget_allows(struct store *store, const void *keys, size_t count, int64_t now,
			 char why[ERRMSG_LEN])
{
	(void)now;
	return store_allow_remove(store, keys, count, NULL, why);
}

static int run_unban(struct cli *cli, int argc, char **argv)
{
	static const struct prefix_command unban = {
		&cmd_unban, bans_remove, lift_unbanned, false, "the store keeps the ban", "unbanned"
	};

	return run_prefix_command(cli, &unban, argc, argv);
}

const struct command cmd_unban = {
	"unban",
	run_unban,
	"unban ADDR[/LEN]...\n"
	"Lifts the bans stored under exactly these prefixes. If one is not banned,\n"
	"nothing is changed. The daemon's store, when there is one, records the lift\n"
	"(a restart does not bring the ban back): when it cannot (another process\n"
	"holds its lock for over 5 s, a full disk), nothing is changed either.\n",
};

static int run_allow(struct cli *cli, int argc, char **argv)
{
	static const struct prefix_command allow = {
		&cmd_allow,
		bans_allow_add,
		record_allows,
		true,
		"the prefixes are allowlisted but not in the store, so a reboot before the daemon "
		"records them loses them",
		"allowlisted"
	};

	return run_prefix_command(cli, &allow, argc, argv);
}

const struct command cmd_allow = {
	"allow",
	run_allow,
	"allow ADDR[/LEN]...\n"
	"Adds prefixes to the allowlist. An allowlisted source is never dropped, by\n"
	"any ban or country block. Allowing a listed prefix again is no error.\n"
	"The daemon's store, when there is one, records them: a reboot keeps them.\n",
};

static int run_unallow(struct cli *cli, int argc, char **argv)
{
	static const struct prefix_command unallow = {
		&cmd_unallow,
		bans_allow_remove,
		forget_allows,
		true,
		"the prefixes are off the allowlist but may still be in the store, and the "
		"daemon's next start would allowlist them again",
		"removed"
	};

	return run_prefix_command(cli, &unallow, argc, argv);
}

const struct command cmd_unallow = {
	"unallow",
	run_unallow,
	"unallow ADDR[/LEN]...\n"
	"Removes prefixes from the allowlist, and from the daemon's store. If one is\n"
	"not on the allowlist, nothing is changed.\n",
};

static json_t *ban_json(const struct ban_record *rec, uint64_t now_ns)
{
	char prefix[CIDR_TEXT_LEN];
	bool permanent = ban_is_permanent(&rec->entry);
	uint64_t left = ban_seconds_left(&rec->entry, now_ns);

	cidr_format(&rec->key, prefix);
	return json_pack("{s:s, s:s, s:b, s:b, s:o, s:I, s:s}", "prefix", prefix, "kind",
			 cidr_is_host(&rec->key) ? "address" : "cidr", "permanent", permanent,
			 "expired", !permanent && left == 0, "seconds_left",
			 permanent ? json_null() : json_integer((json_int_t)left), "created",
			 (json_int_t)rec->entry.created_unix, "origin",
			 ban_origin_name(rec->entry.origin));
}

static void print_ban_row(const struct ban_record *rec, uint64_t now_ns)
{
	char prefix[CIDR_TEXT_LEN], left[DURATION_TEXT_LEN];
	uint64_t seconds = ban_seconds_left(&rec->entry, now_ns);

	cidr_format(&rec->key, prefix);
	if (ban_is_permanent(&rec->entry))
		snprintf(left, sizeof(left), "permanent");
	else if (seconds == 0)
		snprintf(left, sizeof(left), "expired");
	else
		duration_format(seconds, left);
	printf("%-44s %-8s %-10s %s\n", prefix, cidr_is_host(&rec->key) ? "address" : "cidr", left,
	       ban_origin_name(rec->entry.origin));
}

static void print_lists(const struct ban_record *bans, size_t ban_count,
			const struct allow_record *allowed, size_t allow_count, uint64_t now_ns)
{
	char prefix[CIDR_TEXT_LEN];

	printf("%-44s %-8s %-10s %s\n", "BANNED", "KIND", "TIME LEFT", "ORIGIN");
	for (size_t i = 0; i < ban_count; i++)
		print_ban_row(&bans[i], now_ns);
	printf("\n%s\n", "ALLOWLISTED");
	for (size_t i = 0; i < allow_count; i++) {
		cidr_format(&allowed[i].key, prefix);
		printf("%s\n", prefix);
	}
}

static json_t *lists_json(const struct ban_record *bans, size_t ban_count,
			  const struct allow_record *allowed, size_t allow_count, uint64_t now_ns)
{
	json_t *ban_array = json_array(), *allow_array = json_array();
	char prefix[CIDR_TEXT_LEN];

	for (size_t i = 0; i < ban_count; i++)
		json_array_append_new(ban_array, ban_json(&bans[i], now_ns));
	for (size_t i = 0; i < allow_count; i++) {
		cidr_format(&allowed[i].key, prefix);
		json_array_append_new(allow_array,
				      json_pack("{s:s, s:I}", "prefix", prefix, "created",
						(json_int_t)allowed[i].entry.created_unix));
	}
	return json_pack("{s:o, s:o}", "bans", ban_array, "allowlist", allow_array);
}

static int run_list(struct cli *cli, int argc, char **argv)
{
	struct ban_record *bans = NULL;
	struct allow_record *allowed = NULL;
	size_t ban_count = 0, allow_count = 0;
	char why[ERRMSG_LEN];
	struct maps maps;
	uint64_t now_ns;
	int status;

	if (cli_parse_no_options(&cmd_list, argc, argv))
		return EXIT_FAILURE;
	if (optind != argc)
		return cli_usage_error(&cmd_list, "unexpected argument '%s'", argv[optind]);
	status = cli_open_for_read(cli, &maps);
	if (status)
		return status;
	if (bans_list(&maps, &bans, &ban_count, why) ||
	    bans_allow_list(&maps, &allowed, &allow_count, why))
		status = cli_fail("%s", why);
	pins_close(&maps);
	now_ns = clock_now_ns();
	if (!status && cli->json)
		cli_print_json(lists_json(bans, ban_count, allowed, allow_count, now_ns));
	else if (!status)
		print_lists(bans, ban_count, allowed, allow_count, now_ns);
	free(bans);
	free(allowed);
	return status;
}

const struct command cmd_list = {
	"list",
	run_list,
	"list [--json]\n"
	"Lists every ban with its time left (expired bans stay listed until swept:\n"
	"the XDP program already ignores them), then the allowlist.\n",
};
