// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The SQLite store: round trips, upserts, what is restored, damaged files, and bulk timing. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "unit.h"
#include <sqlite3.h>
#include "lib/cidr.h"
#include "bans/store.h"
#include "bans/store_queue.h"

#define NOW ((int64_t)1700000000)

struct fixture {
	char dir[64];
	char db_path[128];
	struct store *store;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char why[ERRMSG_LEN];

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/xdpban-store-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->db_path, sizeof(f->db_path), "%s/%s", f->dir, STORE_FILE);
	if (store_open(f->dir, true, &f->store, why)) {
		fprintf(stderr, "%s\n", why);
		rmdir(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char path[192];

	store_close(f->store);
	umount2(f->dir, MNT_DETACH); /* a_full_disk's tmpfs, if it failed half-way */
	unlink(f->db_path);
	snprintf(path, sizeof(path), "%s-wal", f->db_path);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", f->db_path);
	unlink(path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct store_ban make_ban(const char *prefix, int64_t expires_at, uint64_t count)
{
	struct store_ban ban = { 0 };
	char why[ERRMSG_LEN];

	assert_int_equal(cidr_parse(prefix, &ban.key, why), 0);
	snprintf(ban.reason, sizeof(ban.reason), "ip_rule");
	snprintf(ban.source, sizeof(ban.source), "imap");
	ban.first_event = NOW - 50;
	ban.last_event = NOW - 1;
	ban.count = count;
	ban.expires_at = expires_at;
	return ban;
}

static void record(struct store *store, const struct store_ban *ban, int64_t now)
{
	char why[ERRMSG_LEN];

	if (store_record_bans(store, ban, 1, now, why))
		fail_msg("%s", why);
}

static struct store_ban *live(struct store *store, int64_t now, size_t *count)
{
	struct store_ban *bans = NULL;
	char why[ERRMSG_LEN];

	if (store_live_bans(store, now, &bans, count, why))
		fail_msg("%s", why);
	return bans;
}

static const struct store_ban *find(const struct store_ban *bans, size_t count, const char *prefix)
{
	char text[CIDR_TEXT_LEN];

	for (size_t i = 0; i < count; i++) {
		cidr_format(&bans[i].key, text);
		if (strcmp(text, prefix) == 0)
			return &bans[i];
	}
	return NULL;
}

struct collected {
	struct store_history_entry entries[32];
	size_t count;
};

static int collect(const struct store_history_entry *entry, void *arg)
{
	struct collected *c = arg;

	if (c->count < 32)
		c->entries[c->count] = *entry;
	c->count++;
	return 0;
}

static struct collected history(struct store *store, size_t limit, int64_t since, const char *match)
{
	struct store_history_query query = { .limit = limit, .since = since, .match = match };
	struct collected c = { .count = 0 };
	char why[ERRMSG_LEN];

	if (store_history(store, &query, collect, &c, why))
		fail_msg("%s", why);
	return c;
}

static int64_t sql_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	int64_t value = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return value;
}

static void sql_exec(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void created_with_schema_version_and_wal(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db;
	sqlite3_stmt *stmt;
	char why[ERRMSG_LEN];
	struct stat st;

	assert_int_equal(sql_int(f->db_path, "SELECT max(version) FROM schema_version"),
			 STORE_SCHEMA_VERSION);
	assert_int_equal(sqlite3_open(f->db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "wal");
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	assert_int_equal(store_check(f->store, why), 0);
	assert_string_equal(store_path(f->store), f->db_path);
	/* It holds account names: not world-readable. */
	assert_int_equal(stat(f->db_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
}

static void bans_round_trip_across_reopen(void **state)
{
	struct fixture *f = *state;
	struct store_ban bans[2] = { make_ban("192.0.2.1", NOW + 300, 5),
				     make_ban("2001:db8::/48", 0, 0) };
	const struct store_ban *got;
	struct store_ban *list;
	char why[ERRMSG_LEN];
	size_t count;

	snprintf(bans[1].reason, sizeof(bans[1].reason), "manual");
	snprintf(bans[1].source, sizeof(bans[1].source), "manual");
	bans[1].first_event = bans[1].last_event = 0;
	assert_int_equal(store_record_bans(f->store, bans, 2, NOW, why), 0);
	store_close(f->store);
	f->store = NULL;
	assert_int_equal(store_open(f->dir, false, &f->store, why), 0);

	list = live(f->store, NOW + 10, &count);
	assert_int_equal(count, 2);
	got = find(list, count, "192.0.2.1");
	assert_non_null(got);
	assert_string_equal(got->reason, "ip_rule");
	assert_string_equal(got->source, "imap");
	assert_int_equal(got->first_event, NOW - 50);
	assert_int_equal(got->last_event, NOW - 1);
	assert_int_equal(got->count, 5);
	assert_int_equal(got->created_at, NOW);
	assert_int_equal(got->expires_at, NOW + 300);
	assert_int_equal(got->seconds_left, 290);
	got = find(list, count, "2001:db8::/48");
	assert_non_null(got);
	assert_int_equal(got->expires_at, 0); /* permanent */
	assert_int_equal(got->seconds_left, 0);
	assert_int_equal(got->first_event, 0);
	assert_string_equal(got->source, "manual");
	assert_int_equal(sql_int(f->db_path, "SELECT count(*) FROM bans WHERE kind = 'cidr' AND"
					     " prefix = '2001:db8::/48' AND expires_at IS NULL"),
			 1);
	free(list);
}

static void a_reban_of_a_live_prefix_updates_its_row(void **state)
{
	struct fixture *f = *state;
	struct store_ban ban = make_ban("192.0.2.7", NOW + 300, 5), again = ban;
	struct collected c;
	struct store_ban *list;
	size_t count;

	record(f->store, &ban, NOW);
	again.first_event = NOW - 100; /* earlier: becomes first */
	again.last_event = NOW + 100;
	again.count = 3;
	again.expires_at = NOW + 900;
	snprintf(again.reason, sizeof(again.reason), "manual");
	snprintf(again.source, sizeof(again.source), "manual");
	record(f->store, &again, NOW + 100);

	list = live(f->store, NOW + 101, &count);
	assert_int_equal(count, 1);
	assert_int_equal(list[0].expires_at, NOW + 900);
	assert_int_equal(list[0].count, 8);
	assert_int_equal(list[0].first_event, NOW - 100);
	assert_int_equal(list[0].last_event, NOW + 100);
	assert_int_equal(list[0].created_at, NOW); /* still the same ban */
	assert_string_equal(list[0].reason, "manual");
	free(list);
	c = history(f->store, 0, 0, NULL);
	assert_int_equal(c.count, 1);

	/* Made permanent, then shortened again: the latest deadline wins, like the kernel map. */
	again.expires_at = 0;
	record(f->store, &again, NOW + 200);
	list = live(f->store, NOW + 100000, &count);
	assert_int_equal(count, 1);
	assert_int_equal(list[0].expires_at, 0);
	free(list);
}

static void a_reban_after_expiry_starts_a_new_row(void **state)
{
	struct fixture *f = *state;
	struct store_ban ban = make_ban("198.51.100.0/24", NOW + 60, 5);
	struct collected c;

	record(f->store, &ban, NOW);
	ban.expires_at = NOW + 1000;
	record(f->store, &ban, NOW + 500); /* the first one ended at NOW + 60 */
	c = history(f->store, 0, 0, NULL);
	assert_int_equal(c.count, 2);
	assert_int_equal(c.entries[0].started_at, NOW + 500); /* newest first */
	assert_int_equal(c.entries[0].lifted_at, 0);
	assert_int_equal(c.entries[1].lifted_at, NOW + 60);
	assert_string_equal(c.entries[1].lift_reason, "expired");
	assert_string_equal(c.entries[1].kind, "cidr");
}

/*
 * Bans from the fleet or a DNSBL come without failures (count 0, no event
 * times), in batches, and may arrive again: one live row each, the local
 * story of a prefix banned here too kept, and the sweep ends them all.
 */
static struct store_ban remote_ban(const char *prefix, int64_t expires_at, const char *source)
{
	struct store_ban ban = make_ban(prefix, expires_at, 0);

	ban.first_event = ban.last_event = 0;
	snprintf(ban.reason, sizeof(ban.reason), "fleet");
	snprintf(ban.source, sizeof(ban.source), "%s", source);
	return ban;
}

static void remote_bans_arriving_again_keep_one_live_row(void **state)
{
	struct fixture *f = *state;
	struct store_ban local = make_ban("192.0.2.7", NOW + 300, 5);
	struct store_ban batch[3] = { remote_ban("192.0.2.8", NOW + 300, "node2"),
				      remote_ban("2001:db8::/48", NOW + 300, "node2"),
				      remote_ban("192.0.2.7", NOW + 300, "redis") };
	char why[ERRMSG_LEN];
	size_t bans, blocks;
	struct collected c;

	record(f->store, &local, NOW);
	assert_int_equal(store_record_bans(f->store, batch, 3, NOW + 1, why), 0);
	assert_int_equal(store_record_bans(f->store, batch, 3, NOW + 2, why), 0);
	c = history(f->store, 0, 0, NULL);
	assert_int_equal(c.count, 3);
	c = history(f->store, 0, 0, "192.0.2.7");
	assert_int_equal(c.count, 1);
	assert_int_equal(c.entries[0].count, 5);
	assert_int_equal(c.entries[0].first_event, NOW - 50);
	c = history(f->store, 0, 0, "192.0.2.8");
	assert_string_equal(c.entries[0].reason, "fleet");
	assert_string_equal(c.entries[0].source, "node2");
	assert_int_equal(c.entries[0].count, 0);
	assert_int_equal(c.entries[0].first_event, 0);

	assert_int_equal(store_expire(f->store, NOW + 300, &bans, &blocks, why), 0);
	assert_int_equal(bans, 3);
	c = history(f->store, 0, 0, "2001:db8::/48");
	assert_int_equal(c.entries[0].lifted_at, NOW + 300);
	assert_string_equal(c.entries[0].lift_reason, "expired");
}

static void restore_excludes_expired_and_lifted(void **state)
{
	struct fixture *f = *state;
	struct store_ban bans[4] = {
		make_ban("192.0.2.1", NOW + 10, 5),  /* expired by NOW + 20 */
		make_ban("192.0.2.2", NOW + 300, 5), /* lifted */
		make_ban("192.0.2.3", NOW + 300, 5), /* live */
		make_ban("2001:db8::1", 0, 5),	     /* permanent */
	};
	struct store_ban *list;
	char why[ERRMSG_LEN];
	size_t count, lifted, expired_bans, expired_blocks;

	assert_int_equal(store_record_bans(f->store, bans, 4, NOW, why), 0);
	assert_int_equal(store_lift_bans(f->store, &bans[1].key, 1, NOW + 5, "unban", &lifted, why),
			 0);
	assert_int_equal(lifted, 1);
	assert_int_equal(store_lift_bans(f->store, &bans[1].key, 1, NOW + 6, "unban", &lifted, why),
			 0);
	assert_int_equal(lifted, 0); /* nothing live left under that prefix */

	list = live(f->store, NOW + 20, &count);
	assert_int_equal(count, 2);
	assert_non_null(find(list, count, "192.0.2.3"));
	assert_non_null(find(list, count, "2001:db8::1"));
	assert_int_equal(find(list, count, "192.0.2.3")->seconds_left, 280);
	free(list);

	/* A ban is live up to its deadline, not at it. */
	list = live(f->store, NOW + 10, &count);
	assert_int_equal(count, 2);
	free(list);
	list = live(f->store, NOW + 9, &count);
	assert_int_equal(count, 3);
	free(list);

	assert_int_equal(store_expire(f->store, NOW + 20, &expired_bans, &expired_blocks, why), 0);
	assert_int_equal(expired_bans, 1);
	assert_int_equal(expired_blocks, 0);
	assert_int_equal(
	    sql_int(f->db_path, "SELECT lifted_at FROM bans WHERE prefix = '192.0.2.1'"), NOW + 10);
	assert_int_equal(
	    sql_int(f->db_path, "SELECT lifted_at FROM bans WHERE prefix = '192.0.2.2'"), NOW + 5);
}

static void a_failed_batch_records_nothing(void **state)
{
	struct fixture *f = *state;
	struct store_ban bans[3] = { make_ban("192.0.2.1", NOW + 60, 5),
				     make_ban("192.0.2.99", NOW + 60, 5),
				     make_ban("192.0.2.3", NOW + 60, 5) };
	char why[ERRMSG_LEN] = "";
	struct store_ban *list;
	size_t count;

	sql_exec(f->db_path, "CREATE TRIGGER refuse BEFORE INSERT ON bans"
			     " WHEN NEW.prefix = '192.0.2.99' BEGIN SELECT RAISE(ABORT, 'refused');"
			     " END");
	assert_int_not_equal(store_record_bans(f->store, bans, 3, NOW, why), 0);
	assert_why_has(why, "refused");
	assert_why_has(why, f->db_path);
	list = live(f->store, NOW, &count);
	assert_int_equal(count, 0);
	free(list);
}

static void blocks_keep_their_first_deadline(void **state)
{
	struct fixture *f = *state;
	struct store_block block = { 0 }, again;
	struct store_block *list = NULL;
	char why[ERRMSG_LEN];
	size_t count;
	bool lifted;

	snprintf(block.account, sizeof(block.account), "alice@example.org");
	snprintf(block.source, sizeof(block.source), "imap");
	snprintf(block.ips, sizeof(block.ips), "192.0.2.1,192.0.2.2");
	block.count = 3;
	block.expires_at = NOW + 600;
	assert_int_equal(store_record_block(f->store, &block, NOW, why), 0);
	again = block;
	again.expires_at = NOW + 5000; /* never extended */
	again.count = 2;
	snprintf(again.ips, sizeof(again.ips), "192.0.2.1,192.0.2.2,192.0.2.3");
	assert_int_equal(store_record_block(f->store, &again, NOW + 30, why), 0);

	assert_int_equal(store_live_blocks(f->store, NOW + 60, &list, &count, why), 0);
	assert_int_equal(count, 1);
	assert_string_equal(list[0].account, "alice@example.org");
	assert_int_equal(list[0].expires_at, NOW + 600);
	assert_int_equal(list[0].started_at, NOW);
	assert_int_equal(list[0].count, 5);
	assert_int_equal(list[0].seconds_left, 540);
	assert_string_equal(list[0].ips, "192.0.2.1,192.0.2.2,192.0.2.3");
	free(list);

	assert_int_equal(store_live_blocks(f->store, NOW + 600, &list, &count, why), 0);
	assert_int_equal(count, 0);
	free(list);

	/* After it ended, a new block is a new row with its own deadline. */
	assert_int_equal(store_record_block(f->store, &again, NOW + 700, why), 0);
	assert_int_equal(store_live_blocks(f->store, NOW + 701, &list, &count, why), 0);
	assert_int_equal(count, 1);
	assert_int_equal(list[0].expires_at, NOW + 5000);
	free(list);
	assert_int_equal(sql_int(f->db_path, "SELECT count(*) FROM blocks"), 2);

	assert_int_equal(
	    store_lift_block(f->store, "alice@example.org", NOW + 800, "unblock", &lifted, why), 0);
	assert_true(lifted);
	assert_int_equal(store_live_blocks(f->store, NOW + 801, &list, &count, why), 0);
	assert_int_equal(count, 0);
	free(list);
}

static void history_filters_by_subject_time_and_limit(void **state)
{
	struct fixture *f = *state;
	struct store_ban bans[4] = {
		make_ban("192.0.2.1", NOW + 60, 5),
		make_ban("192.0.2.0/24", NOW + 60, 0),
		make_ban("198.51.100.9", NOW + 1060, 5),
		make_ban("2001:db8::/64", NOW + 1060, 5),
	};
	struct store_block block = { .count = 3, .expires_at = NOW + 2600 };
	struct collected c;
	char why[ERRMSG_LEN];
	size_t pruned_bans, pruned_blocks;

	assert_int_equal(store_record_bans(f->store, &bans[0], 2, NOW, why), 0);
	assert_int_equal(store_record_bans(f->store, &bans[2], 2, NOW + 1000, why), 0);
	snprintf(block.account, sizeof(block.account), "bob");
	snprintf(block.source, sizeof(block.source), "imap");
	assert_int_equal(store_record_block(f->store, &block, NOW + 2000, why), 0);

	c = history(f->store, 0, 0, NULL);
	assert_int_equal(c.count, 5);
	assert_int_equal(c.entries[0].type, STORE_ENTRY_BLOCK);
	assert_string_equal(c.entries[0].subject, "bob");
	assert_string_equal(c.entries[0].kind, "account");

	assert_int_equal(history(f->store, 2, 0, NULL).count, 2);
	/* Since NOW + 500: the first two had ended at NOW + 60. */
	assert_int_equal(history(f->store, 0, NOW + 500, NULL).count, 3);

	/* An address finds its own ban and the /24 covering it. */
	c = history(f->store, 0, 0, "192.0.2.1");
	assert_int_equal(c.count, 2);
	/* A prefix finds the bans inside it, and the same prefix. */
	c = history(f->store, 0, 0, "192.0.2.0/24");
	assert_int_equal(c.count, 2);
	c = history(f->store, 0, 0, "2001:db8::5");
	assert_int_equal(c.count, 1);
	assert_string_equal(c.entries[0].subject, "2001:db8::/64");
	c = history(f->store, 0, 0, "bob");
	assert_int_equal(c.count, 1);
	assert_int_equal(c.entries[0].type, STORE_ENTRY_BLOCK);
	assert_int_equal(history(f->store, 0, 0, "nobody").count, 0);

	/* Pruning drops what ended before the cut; live entries stay. */
	assert_int_equal(store_expire(f->store, NOW + 1100, NULL, NULL, why), 0);
	assert_int_equal(store_prune(f->store, NOW + 100, &pruned_bans, &pruned_blocks, why), 0);
	assert_int_equal(pruned_bans, 2);
	assert_int_equal(pruned_blocks, 0);
	assert_int_equal(history(f->store, 0, 0, NULL).count, 3);
}

static void committed_bans_survive_a_crash(void **state)
{
	struct fixture *f = *state;
	struct store_ban ban = make_ban("203.0.113.5", NOW + 600, 5);
	struct store_ban *list;
	size_t count;
	pid_t child;
	int status;

	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct store *store;
		char why[ERRMSG_LEN];

		if (store_open(f->dir, true, &store, why) ||
		    store_record_bans(store, &ban, 1, NOW, why))
			_exit(1);
		_exit(0); /* no close, no checkpoint: as if killed */
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	list = live(f->store, NOW, &count);
	assert_int_equal(count, 1);
	free(list);
}

static void open_errors_say_why(void **state)
{
	struct fixture *f = *state;
	char why[ERRMSG_LEN] = "", path[192];
	struct store *store = NULL;
	FILE *file;

	store_close(f->store);
	f->store = NULL;
	unlink(f->db_path);
	snprintf(path, sizeof(path), "%s-wal", f->db_path);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", f->db_path);
	unlink(path);

	/* No store yet, and not asked to create one. */
	assert_int_equal(store_open(f->dir, false, &store, why), -ENOENT);
	assert_why_has(why, "no store at");
	assert_why_has(why, f->db_path);

	/* Garbage in the file. */
	file = fopen(f->db_path, "w");
	assert_non_null(file);
	for (int i = 0; i < 4096; i++)
		fputc((i * 7919) & 0xff, file);
	fclose(file);
	assert_int_equal(store_open(f->dir, true, &store, why), -EIO);
	assert_why_has(why, f->db_path);
	assert_why_has(why, "not a database");
	assert_why_has(why, "move it aside");
	unlink(f->db_path);

	/* Someone else's SQLite database. */
	sql_exec(f->db_path, "CREATE TABLE songs (title TEXT)");
	assert_int_equal(store_open(f->dir, true, &store, why), -EPROTO);
	assert_why_has(why, "not an xdpban store");
	unlink(f->db_path);

	/* A store from a newer xdpban. */
	assert_int_equal(store_open(f->dir, true, &store, why), 0);
	store_close(store);
	sql_exec(f->db_path, "INSERT INTO schema_version VALUES (99, 0)");
	assert_int_equal(store_open(f->dir, true, &store, why), -EPROTO);
	assert_why_has(why, "newer xdpban");
	assert_why_has(why, "99");

	/* The state directory is a file. */
	snprintf(path, sizeof(path), "%s/not-a-dir", f->dir);
	file = fopen(path, "w");
	assert_non_null(file);
	fclose(file);
	assert_int_not_equal(store_open(path, true, &store, why), 0);
	assert_why_has(why, "not-a-dir");
	assert_non_null(strstr(why, "Not a directory") ? why : strstr(why, "not a directory"));
	unlink(path);

	/* The database path is a directory. */
	assert_int_equal(unlink(f->db_path), 0);
	snprintf(path, sizeof(path), "%s-wal", f->db_path);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", f->db_path);
	unlink(path);
	assert_int_equal(mkdir(f->db_path, 0700), 0);
	assert_int_not_equal(store_open(f->dir, true, &store, why), 0);
	assert_why_has(why, "not a regular file");
	rmdir(f->db_path);
}

static void damaged_pages_are_reported(void **state)
{
	struct fixture *f = *state;
	struct store_ban *bans = calloc(2000, sizeof(*bans)), *list = NULL;
	char why[ERRMSG_LEN] = "";
	struct store *store = NULL;
	size_t count;
	FILE *file;
	int err;

	assert_non_null(bans);
	for (int i = 0; i < 2000; i++) {
		char prefix[32];

		snprintf(prefix, sizeof(prefix), "10.0.%d.%d", i / 256, i % 256);
		bans[i] = make_ban(prefix, NOW + 600, 5);
	}
	assert_int_equal(store_record_bans(f->store, bans, 2000, NOW, why), 0);
	store_close(f->store);
	f->store = NULL; /* the last close checkpoints the WAL into the file */
	free(bans);

	/* Overwrite pages past the header: the schema page survives, the tables do not. */
	file = fopen(f->db_path, "r+");
	assert_non_null(file);
	fseek(file, 4096 * 2, SEEK_SET);
	for (int i = 0; i < 4096 * 6; i++)
		fputc(0xA5, file);
	fclose(file);

	err = store_open(f->dir, true, &store, why);
	if (err == 0) {
		err = store_check(store, why);
		assert_int_equal(err, -EIO);
		if (store_live_bans(store, NOW, &list, &count, why) == 0)
			free(list);
		store_close(store);
	}
	assert_int_not_equal(err, 0);
	assert_why_has(why, f->db_path);
	assert_why_has(why, "move it aside");
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void restoring_100k_bans_keeps_every_one(void **state)
{
	struct fixture *f = *state;
	enum { BANS = 100000, SINGLES = 2000 };
	struct store_ban *bans = calloc(BANS, sizeof(*bans)), *list = NULL;
	double record_s, restore_s, reban_s, expire_s, single_s;
	char why[ERRMSG_LEN];
	struct timespec start;
	size_t count, expired;

	assert_non_null(bans);
	for (int i = 0; i < BANS; i++) {
		char prefix[64];

		if (i % 2)
			snprintf(prefix, sizeof(prefix), "10.%d.%d.%d", i >> 16, (i >> 8) & 0xff,
				 i & 0xff);
		else
			snprintf(prefix, sizeof(prefix), "2001:db8:%x:%x::/64", i >> 16,
				 i & 0xffff);
		bans[i] = make_ban(prefix, i % 10 ? NOW + 3600 : 0, 5);
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	assert_int_equal(store_record_bans(f->store, bans, BANS, NOW, why), 0);
	record_s = seconds_since(&start);

	store_close(f->store); /* restore as after a reboot: a fresh open */
	f->store = NULL;
	clock_gettime(CLOCK_MONOTONIC, &start);
	assert_int_equal(store_open(f->dir, false, &f->store, why), 0);
	list = live(f->store, NOW + 60, &count);
	restore_s = seconds_since(&start);
	assert_int_equal(count, BANS);
	free(list);

	clock_gettime(CLOCK_MONOTONIC, &start);
	assert_int_equal(store_record_bans(f->store, bans, BANS, NOW + 60, why), 0);
	reban_s = seconds_since(&start);

	clock_gettime(CLOCK_MONOTONIC, &start);
	assert_int_equal(store_expire(f->store, NOW + 7200, &expired, NULL, why), 0);
	expire_s = seconds_since(&start);
	assert_int_equal(expired, BANS - BANS / 10);

	/* The daemon's usual case: one ban, one transaction. */
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (int i = 0; i < SINGLES; i++)
		record(f->store, &bans[i], NOW + 7300);
	single_s = seconds_since(&start);

	printf("store timing, %d bans: record %.3f s (one transaction), open + restore %.3f s, "
	       "re-ban (upsert) %.3f s, expiry sweep %.3f s; one ban per transaction %.1f us\n",
	       BANS, record_s, restore_s, reban_s, expire_s, single_s * 1e6 / SINGLES);
	free(bans);
}

/* The daemon's writer: its own connection, as the daemon opens it. */
static struct store_queue *start_queue(const struct fixture *f)
{
	struct store_queue *queue = NULL;
	struct store *writer = NULL;
	char why[ERRMSG_LEN];

	if (store_open(f->dir, true, &writer, why) || store_queue_start(writer, NULL, &queue, why))
		fail_msg("%s", why);
	return queue;
}

static double ms_since(const struct timespec *start)
{
	return seconds_since(start) * 1e3;
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

/*
 * A burst of bans grows the WAL; the writer's TRUNCATE checkpoints cut it
 * back to nothing once the burst is over (it used to keep its largest size
 * for good: 148 MB after 21 s of attack).
 */
static void the_writer_truncates_the_wal(void **state)
{
	struct fixture *f = *state;
	struct store_queue *queue = start_queue(f);
	char prefix[CIDR_TEXT_LEN], wal[192];
	off_t size = -1;

	snprintf(wal, sizeof(wal), "%s-wal", f->db_path);
	for (int i = 0; i < 20000; i++) {
		struct store_ban ban;

		snprintf(prefix, sizeof(prefix), "198.51.%d.%d", (i >> 8) & 0xff, i & 0xff);
		ban = make_ban(prefix, NOW + 600 + i, 5);
		assert_int_equal(store_queue_bans(queue, &ban, 1, NOW), 0);
	}
	assert_int_equal(store_queue_flush(queue, 30000), 0);
	for (int waited = 0; waited < 50; waited++) { /* the checkpoint follows within 1 s */
		size = file_size(wal);
		if (size == 0)
			break;
		usleep(100 * 1000);
	}
	assert_int_equal(size, 0);
	assert_int_equal(store_queue_stop(queue, 1000), 0);
	assert_int_equal(sql_int(f->db_path, "SELECT count(*) FROM bans WHERE lifted_at IS NULL"),
			 20000);
}

/*
 * Another process holds the write lock: queueing costs the caller nothing
 * (it waited up to 5 s per ban in the store), and every row goes in, in
 * order, once the lock is released.
 */
static void a_locked_store_holds_up_nobody_and_loses_nothing(void **state)
{
	struct fixture *f = *state;
	struct store_queue *queue = start_queue(f);
	struct store_queue_stats stats;
	struct store_ban ban = make_ban("192.0.2.7", NOW + 600, 5);
	struct lpm_key key = ban.key;
	struct timespec start;
	sqlite3 *holder;
	double took_ms;

	assert_int_equal(sqlite3_open(f->db_path, &holder), SQLITE_OK);
	assert_int_equal(sqlite3_exec(holder, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (int i = 0; i < 50; i++) {
		/* ban, lift, ban: the row must end live */
		assert_int_equal(store_queue_bans(queue, &ban, 1, NOW), 0);
		assert_int_equal(store_queue_lift_bans(queue, &key, 1, NOW, "unban"), 0);
		assert_int_equal(store_queue_bans(queue, &ban, 1, NOW), 0);
	}
	took_ms = ms_since(&start);
	/* 150 writes against a lock held throughout: a liveness bound, far below one wait */
	assert_true(took_ms < 500);
	usleep(1500 * 1000); /* past the writer's own busy timeout */
	store_queue_stats(queue, &stats);
	assert_true(stats.failing);
	assert_int_equal(stats.waiting, 150);
	assert_true(strstr(stats.error, "locked") != NULL);
	assert_int_equal(sqlite3_exec(holder, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(holder);
	assert_int_equal(store_queue_flush(queue, 15000), 0);
	store_queue_stats(queue, &stats);
	assert_false(stats.failing);
	assert_int_equal(stats.written, 150);
	assert_int_equal(store_queue_stop(queue, 1000), 0);
	assert_int_equal(sql_int(f->db_path, "SELECT count(*) FROM bans WHERE lifted_at IS NULL"),
			 1);
	assert_int_equal(sql_int(f->db_path, "SELECT count(*) FROM bans WHERE lift_reason = "
					     "'unban'"),
			 50);
}

/*
 * More rows than the queue holds (the store locked all along): the one
 * that does not fit is refused and counted, never one already queued; the
 * queued ones all go in once the lock is free.
 */
static void a_full_queue_refuses_and_counts_the_row_over(void **state)
{
	struct fixture *f = *state;
	struct store_queue *queue = start_queue(f);
	struct store_queue_stats stats;
	struct lpm_key key = make_ban("192.0.2.9", NOW, 0).key;
	sqlite3 *holder;

	assert_int_equal(sqlite3_open(f->db_path, &holder), SQLITE_OK);
	assert_int_equal(sqlite3_exec(holder, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	for (int i = 0; i < STORE_QUEUE_ROWS; i++)
		assert_int_equal(store_queue_guesses(queue, &key, 1, NOW), 0);
	assert_int_equal(store_queue_guesses(queue, &key, 1, NOW), -ENOBUFS);
	store_queue_stats(queue, &stats);
	assert_int_equal(stats.lost, 1);
	assert_int_equal(stats.waiting, STORE_QUEUE_ROWS);
	assert_int_equal(sqlite3_exec(holder, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(holder);
	assert_int_equal(store_queue_flush(queue, 60000), 0);
	assert_int_equal(store_queue_stop(queue, 1000), 0);
	assert_int_equal(sql_int(f->db_path, "SELECT count FROM dictionary_guesses"),
			 STORE_QUEUE_ROWS);
}

/*
 * A full state filesystem: writes fail and wait, in memory, in order; once
 * space is back they go in, with no restart (root: a 1 MiB tmpfs).
 */
static void a_full_disk_is_written_once_space_is_back(void **state)
{
	struct fixture *f = *state;
	struct store_queue *queue;
	struct store_queue_stats stats;
	char filler[192], prefix[CIDR_TEXT_LEN], why[ERRMSG_LEN];
	FILE *file;

	if (geteuid() != 0)
		skip();
	store_close(f->store);
	f->store = NULL;
	assert_int_equal(mount("xdpban-test", f->dir, "tmpfs", 0, "size=1m"), 0);
	assert_int_equal(store_open(f->dir, true, &f->store, why), 0);
	queue = start_queue(f);
	snprintf(filler, sizeof(filler), "%s/filler", f->dir);
	file = fopen(filler, "w");
	assert_non_null(file);
	while (fputc('x', file) != EOF && !ferror(file))
		;
	fclose(file);
	for (int i = 0; i < 2000; i++) {
		struct store_ban ban;

		snprintf(prefix, sizeof(prefix), "203.0.%d.%d", (i >> 8) & 0xff, i & 0xff);
		ban = make_ban(prefix, NOW + 600, 5);
		assert_int_equal(store_queue_bans(queue, &ban, 1, NOW), 0);
	}
	assert_int_equal(store_queue_flush(queue, 1500), -ETIMEDOUT);
	store_queue_stats(queue, &stats);
	assert_true(stats.failing);
	assert_true(stats.waiting > 0);
	unlink(filler);
	assert_int_equal(store_queue_flush(queue, 15000), 0);
	assert_int_equal(store_queue_stop(queue, 1000), 0);
	assert_int_equal(sql_int(f->db_path, "SELECT count(*) FROM bans"), 2000);
	store_close(f->store);
	f->store = NULL;
	assert_int_equal(umount2(f->dir, MNT_DETACH), 0);
}

/* A link planted where the store or its WAL goes is refused, not written through. */
static void a_symlinked_store_is_refused(void **state)
{
	struct fixture *f = *state;
	char why[ERRMSG_LEN] = "", target[192], link_path[192];
	struct store *store = NULL;

	snprintf(target, sizeof(target), "%s/elsewhere", f->dir);
	assert_int_equal(close(open(target, O_WRONLY | O_CREAT, 0600)), 0);
	store_close(f->store);
	f->store = NULL;
	unlink(f->db_path);
	assert_int_equal(symlink(target, f->db_path), 0);
	assert_int_equal(store_open(f->dir, true, &store, why), -ELOOP);
	assert_why_has(why, "symbolic link");
	assert_int_equal(file_size(target), 0);
	assert_int_equal(store_open(f->dir, false, &store, why), -ELOOP);
	unlink(f->db_path);

	/* the WAL: SQLite would write the journal where it points */
	snprintf(link_path, sizeof(link_path), "%s-wal", f->db_path);
	assert_int_equal(store_open(f->dir, true, &store, why), 0);
	store_close(store);
	assert_int_equal(symlink(target, link_path), 0);
	assert_int_equal(store_open(f->dir, true, &store, why), -ELOOP);
	assert_why_has(why, link_path);
	unlink(link_path);
	unlink(target);
	assert_int_equal(store_open(f->dir, true, &f->store, why), 0);
}

static struct lpm_key prefix_key(const char *prefix)
{
	struct lpm_key key;
	char why[ERRMSG_LEN];

	assert_int_equal(cidr_parse(prefix, &key, why), 0);
	return key;
}

static struct store_allow *allowlist(struct store *store, size_t *count)
{
	struct store_allow *allows = NULL;
	char why[ERRMSG_LEN];

	if (store_allowlist(store, &allows, count, why))
		fail_msg("%s", why);
	return allows;
}

static void assert_allow(const struct store_allow *allow, const char *prefix, int64_t created_at,
			 const char *source)
{
	char text[CIDR_TEXT_LEN];

	cidr_format(&allow->key, text);
	assert_string_equal(text, prefix);
	assert_int_equal(allow->created_at, created_at);
	assert_string_equal(allow->source, source);
}

static void allowlist_add_remove_list(void **state)
{
	struct fixture *f = *state;
	struct lpm_key keys[2] = { prefix_key("203.0.113.0/24"), prefix_key("2001:db8::7") };
	struct lpm_key gone[2] = { keys[1], prefix_key("198.51.100.0/24") };
	struct store_allow *list;
	char why[ERRMSG_LEN];
	size_t count, added, removed;

	assert_int_equal(store_allow_add(f->store, &keys[0], 1, NOW, "cli", &added, why), 0);
	assert_int_equal(added, 1);
	/* Allowed again: no error, and the first row stays (as the map takes it again). */
	assert_int_equal(store_allow_add(f->store, keys, 2, NOW + 60, "kernel", &added, why), 0);
	assert_int_equal(added, 1);
	store_close(f->store);
	assert_int_equal(store_open(f->dir, false, &f->store, why), 0);
	list = allowlist(f->store, &count);
	assert_int_equal(count, 2);
	assert_allow(&list[0], "2001:db8::7", NOW + 60, "kernel");
	assert_allow(&list[1], "203.0.113.0/24", NOW, "cli");
	free(list);

	/* One recorded, one never recorded (allowed while there was no store). */
	assert_int_equal(store_allow_remove(f->store, gone, 2, &removed, why), 0);
	assert_int_equal(removed, 1);
	list = allowlist(f->store, &count);
	assert_int_equal(count, 1);
	assert_allow(&list[0], "203.0.113.0/24", NOW, "cli");
	free(list);
	assert_int_equal(store_allow_remove(f->store, &keys[0], 1, NULL, why), 0);
	list = allowlist(f->store, &count);
	assert_int_equal(count, 0);
	assert_null(list);
}

/*
 * A store written by an xdpban of schema version 1 (no allowlist table),
 * holding bans, a block and history: opened, it is migrated in place and
 * keeps every row. The version 1 file is this store with the later
 * migrations taken back out, which is what version 1 made: migrations are
 * only ever appended.
 */
static void a_version_1_store_is_migrated_with_its_data(void **state)
{
	struct fixture *f = *state;
	struct store_ban bans[2] = { make_ban("192.0.2.1", NOW + 300, 5),
				     make_ban("198.51.100.0/24", 0, 0) };
	struct store_block block = { .account = "carol",
				     .source = "imap",
				     .ips = "192.0.2.9",
				     .count = 3,
				     .expires_at = NOW + 600 };
	struct lpm_key allowed = prefix_key("203.0.113.0/24");
	struct store_ban *live_bans;
	struct store_block *blocks = NULL;
	struct store_allow *list;
	char why[ERRMSG_LEN];
	size_t count;

	assert_int_equal(store_record_bans(f->store, bans, 2, NOW - 10, why), 0);
	assert_int_equal(store_lift_bans(f->store, &bans[0].key, 1, NOW - 5, "unban", NULL, why),
			 0);
	record(f->store, &bans[0], NOW);
	assert_int_equal(store_record_block(f->store, &block, NOW, why), 0);
	store_close(f->store);
	f->store = NULL;
	sql_exec(f->db_path, "DROP TABLE allowlist; DROP TABLE weak_passwords;"
			     " DROP TABLE dictionary_guesses; DROP TABLE journal_cursors;"
			     " DELETE FROM schema_version WHERE version > 1");
	assert_int_equal(sql_int(f->db_path, "SELECT max(version) FROM schema_version"), 1);

	assert_int_equal(store_open(f->dir, false, &f->store, why), 0);
	assert_int_equal(sql_int(f->db_path, "SELECT max(version) FROM schema_version"),
			 STORE_SCHEMA_VERSION);
	assert_int_equal(sql_int(f->db_path, "SELECT count(*) FROM schema_version"),
			 STORE_SCHEMA_VERSION);
	live_bans = live(f->store, NOW, &count);
	assert_int_equal(count, 2);
	assert_non_null(find(live_bans, count, "192.0.2.1"));
	assert_non_null(find(live_bans, count, "198.51.100.0/24"));
	free(live_bans);
	assert_int_equal(history(f->store, 0, 0, NULL).count, 4); /* 3 ban rows, 1 block */
	assert_int_equal(store_live_blocks(f->store, NOW, &blocks, &count, why), 0);
	assert_int_equal(count, 1);
	free(blocks);
	/* The new table is empty and in use. */
	list = allowlist(f->store, &count);
	assert_int_equal(count, 0);
	assert_int_equal(store_allow_add(f->store, &allowed, 1, NOW, "cli", NULL, why), 0);
	list = allowlist(f->store, &count);
	assert_int_equal(count, 1);
	assert_allow(&list[0], "203.0.113.0/24", NOW, "cli");
	free(list);
}

/*
 * Weak passwords: one listed row per account, found again keeps it (its
 * class the new one), cleared rows stay as history; guesses add up per
 * address; pruning takes only what ended before.
 */
static void weak_passwords_listed_cleared_and_pruned(void **state)
{
	struct fixture *f = *state;
	struct lpm_key a = prefix_key("192.0.2.7"), b = prefix_key("2001:db8::7");
	struct store_weak *rows;
	struct store_guess *guesses;
	char why[ERRMSG_LEN];
	size_t count;
	bool cleared;

	assert_int_equal(store_weak_found(f->store, "alice", "dictionary word", NOW, why), 0);
	assert_int_equal(store_weak_found(f->store, "bob", "word + digits", NOW + 1, why), 0);
	assert_int_equal(store_weak_found(f->store, "alice", "word + year", NOW + 2, why), 0);
	assert_int_equal(store_weak_list(f->store, false, &rows, &count, why), 0);
	assert_int_equal(count, 2);
	assert_string_equal(rows[0].account, "bob");
	assert_string_equal(rows[1].account, "alice");
	assert_string_equal(rows[1].class, "word + year");
	assert_int_equal(rows[1].found_at, NOW);
	assert_int_equal(rows[1].cleared_at, 0);
	free(rows);

	assert_int_equal(
	    store_weak_cleared(f->store, "alice", NOW + 10, "password changed", &cleared, why), 0);
	assert_true(cleared);
	assert_int_equal(
	    store_weak_cleared(f->store, "alice", NOW + 11, "password changed", &cleared, why), 0);
	assert_false(cleared);
	assert_int_equal(store_weak_found(f->store, "alice", "dictionary word", NOW + 20, why), 0);
	assert_int_equal(store_weak_list(f->store, true, &rows, &count, why), 0);
	assert_int_equal(count, 3); /* the latest change first: alice again, alice cleared, bob */
	assert_string_equal(rows[0].account, "alice");
	assert_int_equal(rows[0].cleared_at, 0);
	assert_string_equal(rows[1].account, "alice");
	assert_int_equal(rows[1].cleared_at, NOW + 10);
	assert_string_equal(rows[1].clear_reason, "password changed");
	assert_string_equal(rows[2].account, "bob");
	free(rows);

	assert_int_equal(store_guesses_add(f->store, &a, 2, NOW, why), 0);
	assert_int_equal(store_guesses_add(f->store, &b, 1, NOW + 5, why), 0);
	assert_int_equal(store_guesses_add(f->store, &a, 3, NOW + 30, why), 0);
	assert_int_equal(store_guesses(f->store, &guesses, &count, why), 0);
	assert_int_equal(count, 2);
	assert_int_equal(guesses[0].count, 5);
	assert_int_equal(guesses[0].first_at, NOW);
	assert_int_equal(guesses[0].last_at, NOW + 30);
	assert_int_equal(guesses[1].count, 1);
	free(guesses);

	assert_int_equal(store_weak_prune(f->store, NOW + 15, why), 0);
	assert_int_equal(store_weak_list(f->store, true, &rows, &count, why), 0);
	assert_int_equal(count, 2); /* the cleared row is gone */
	free(rows);
	assert_int_equal(store_guesses(f->store, &guesses, &count, why), 0);
	assert_int_equal(count, 1);
	free(guesses);
}

/* A journal source's cursor: none, saved, replaced, kept across a reopen and a migration. */
static void journal_cursors_round_trip(void **state)
{
	struct fixture *f = *state;
	char cursor[256], why[ERRMSG_LEN];

	assert_int_equal(store_journal_cursor(f->store, "journal", cursor, sizeof(cursor), why),
			 -ENOENT);
	assert_int_equal(store_set_journal_cursor(f->store, "journal", "s=1;i=10", NOW, why), 0);
	assert_int_equal(store_set_journal_cursor(f->store, "other", "s=1;i=3", NOW, why), 0);
	assert_int_equal(store_set_journal_cursor(f->store, "journal", "s=1;i=12", NOW + 1, why),
			 0);
	store_close(f->store);
	assert_int_equal(store_open(f->dir, false, &f->store, why), 0);
	assert_int_equal(store_journal_cursor(f->store, "journal", cursor, sizeof(cursor), why), 0);
	assert_string_equal(cursor, "s=1;i=12");
	assert_int_equal(store_journal_cursor(f->store, "other", cursor, sizeof(cursor), why), 0);
	assert_string_equal(cursor, "s=1;i=3");

	/* a version 3 store (no cursors) gets the table, its data kept */
	store_close(f->store);
	f->store = NULL;
	sql_exec(f->db_path,
		 "DROP TABLE journal_cursors; DELETE FROM schema_version WHERE version > 3");
	assert_int_equal(store_open(f->dir, false, &f->store, why), 0);
	assert_int_equal(sql_int(f->db_path, "SELECT max(version) FROM schema_version"), 4);
	assert_int_equal(store_journal_cursor(f->store, "journal", cursor, sizeof(cursor), why),
			 -ENOENT);
}

/* Every test on a fresh store in a directory of its own. */
#define STORE_TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		STORE_TEST(created_with_schema_version_and_wal),
		STORE_TEST(bans_round_trip_across_reopen),
		STORE_TEST(a_reban_of_a_live_prefix_updates_its_row),
		STORE_TEST(a_reban_after_expiry_starts_a_new_row),
		STORE_TEST(remote_bans_arriving_again_keep_one_live_row),
		STORE_TEST(restore_excludes_expired_and_lifted),
		STORE_TEST(a_failed_batch_records_nothing),
		STORE_TEST(blocks_keep_their_first_deadline),
		STORE_TEST(history_filters_by_subject_time_and_limit),
		STORE_TEST(committed_bans_survive_a_crash),
		STORE_TEST(open_errors_say_why),
		STORE_TEST(damaged_pages_are_reported),
		STORE_TEST(restoring_100k_bans_keeps_every_one),
		STORE_TEST(the_writer_truncates_the_wal),
		STORE_TEST(a_locked_store_holds_up_nobody_and_loses_nothing),
		STORE_TEST(a_full_queue_refuses_and_counts_the_row_over),
		STORE_TEST(a_full_disk_is_written_once_space_is_back),
		STORE_TEST(a_symlinked_store_is_refused),
		STORE_TEST(allowlist_add_remove_list),
		STORE_TEST(a_version_1_store_is_migrated_with_its_data),
		STORE_TEST(weak_passwords_listed_cleared_and_pruned),
		STORE_TEST(journal_cursors_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
