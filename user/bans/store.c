// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "bans/store.h"

#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>
#include "lib/clock.h"
#include "lib/cidr.h"

/*
 * Schema migrations: migrations[N] takes a database from version N to N + 1.
 * Append, never edit: a released step has run on someone's store.
 */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
	/* 0 -> 1 */
	"CREATE TABLE bans ("
	"  id INTEGER PRIMARY KEY,"
	"  prefix TEXT NOT NULL," /* cidr_format: 192.0.2.1, 2001:db8::/48 */
	"  kind TEXT NOT NULL CHECK (kind IN ('address', 'cidr')),"
	"  reason TEXT NOT NULL," /* ip_rule, repeat, manual, ... */
	"  source TEXT NOT NULL," /* the log source, or manual */
	"  first_event INTEGER,"  /* unix seconds */
	"  last_event INTEGER,"
	"  count INTEGER NOT NULL DEFAULT 0," /* failures that led to it */
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER," /* NULL: permanent */
	"  lifted_at INTEGER,"	/* NULL: live */
	"  lift_reason TEXT"	/* unban, expired */
	");"
	"CREATE UNIQUE INDEX bans_live ON bans (prefix) WHERE lifted_at IS NULL;"
	"CREATE INDEX bans_expiry ON bans (expires_at) WHERE lifted_at IS NULL;"
	"CREATE INDEX bans_created ON bans (created_at);"
	"CREATE TABLE blocks ("
	"  id INTEGER PRIMARY KEY,"
	"  account TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  ips TEXT NOT NULL," /* the distinct addresses, comma-separated */
	"  count INTEGER NOT NULL DEFAULT 0,"
	"  started_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL," /* fixed at the start, never extended */
	"  lifted_at INTEGER,"
	"  lift_reason TEXT"
	");"
	"CREATE UNIQUE INDEX blocks_live ON blocks (account) WHERE lifted_at IS NULL;"
	"CREATE INDEX blocks_expiry ON blocks (expires_at) WHERE lifted_at IS NULL;"
	"CREATE INDEX blocks_started ON blocks (started_at);"
	"CREATE VIEW history AS"
	"  SELECT 'ban' AS type, id, prefix AS subject, kind, reason, source, '' AS ips, count,"
	"         first_event, last_event, created_at AS started_at, expires_at, lifted_at,"
	"         lift_reason FROM bans"
	"  UNION ALL"
	"  SELECT 'block', id, account, 'account', 'account_rule', source, ips, count,"
	"         NULL, NULL, started_at, expires_at, lifted_at, lift_reason FROM blocks;",
	/*
	 * 1 -> 2: the operator's allowlist (xdpban allow), which the pinned map
	 * alone loses with the pins. One row per prefix, no history: an
	 * unallowed prefix's row is deleted.
	 */
	"CREATE TABLE allowlist ("
	"  prefix TEXT PRIMARY KEY," /* cidr_format */
	"  created_at INTEGER NOT NULL,"
	"  source TEXT NOT NULL" /* cli, kernel, a fleet node, redis */
	");",
	/*
	 * 2 -> 3: weak passwords (serve/weak.h). A verdict, never a password nor
	 * a hash of one: the account, the class of rule that matched, when it
	 * was found and when and why it was cleared (one row per finding, kept
	 * as history). Failed logins whose password was a dictionary word, per
	 * source address.
	 */
	"CREATE TABLE weak_passwords ("
	"  id INTEGER PRIMARY KEY,"
	"  account TEXT NOT NULL,"
	"  class TEXT NOT NULL," /* dictionary word, word + digits, ... */
	"  found_at INTEGER NOT NULL,"
	"  cleared_at INTEGER," /* NULL: listed */
	"  clear_reason TEXT"	/* password changed */
	");"
	"CREATE UNIQUE INDEX weak_listed ON weak_passwords (account) WHERE cleared_at IS NULL;"
	"CREATE TABLE dictionary_guesses ("
	"  address TEXT PRIMARY KEY," /* cidr_format of the client */
	"  count INTEGER NOT NULL,"
	"  first_at INTEGER NOT NULL,"
	"  last_at INTEGER NOT NULL"
	");",
	/*
	 * 3 -> 4: where each journal source stopped reading (sd-journal's
	 * cursor of the last entry it handed out), so that a restart resumes
	 * there: nothing counted twice, nothing missed while it was down.
	 */
	"CREATE TABLE journal_cursors ("
	"  source TEXT PRIMARY KEY," /* the [source NAME] */
	"  cursor TEXT NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	");",
};

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_BAN_CLOSE_EXPIRED,
	ST_BAN_UPSERT,
	ST_BAN_LIFT,
	ST_BANS_EXPIRE,
	ST_BANS_LIVE,
	ST_BLOCK_CLOSE_EXPIRED,
	ST_BLOCK_UPSERT,
	ST_BLOCK_LIFT,
	ST_BLOCKS_EXPIRE,
	ST_BLOCKS_LIVE,
	ST_BANS_PRUNE,
	ST_BLOCKS_PRUNE,
	ST_HISTORY,
	ST_ALLOW_ADD,
	ST_ALLOW_REMOVE,
	ST_ALLOWLIST,
	ST_WEAK_FOUND,
	ST_WEAK_CLEAR,
	ST_WEAK_LISTED,
	ST_WEAK_HISTORY,
	ST_WEAK_PRUNE,
	ST_GUESS_ADD,
	ST_GUESSES,
	ST_GUESSES_PRUNE,
	ST_CURSOR_GET,
	ST_CURSOR_SET,
	ST_COUNT,
};

static const char *const statements[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_BAN_CLOSE_EXPIRED] =
	    "UPDATE bans SET lifted_at = expires_at, lift_reason = 'expired'"
	    " WHERE prefix = ?1 AND lifted_at IS NULL AND expires_at IS NOT NULL"
	    " AND expires_at <= ?2",
	[ST_BAN_UPSERT] =
	    "INSERT INTO bans (prefix, kind, reason, source, first_event, last_event, count,"
	    "                  created_at, expires_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
	    " ON CONFLICT (prefix) WHERE lifted_at IS NULL DO UPDATE SET"
	    "  reason = excluded.reason, source = excluded.source,"
	    "  first_event = min(coalesce(first_event, excluded.first_event),"
	    "                    coalesce(excluded.first_event, first_event)),"
	    "  last_event = max(coalesce(last_event, excluded.last_event),"
	    "                   coalesce(excluded.last_event, last_event)),"
	    "  count = count + excluded.count, expires_at = excluded.expires_at",
	[ST_BAN_LIFT] = "UPDATE bans SET lifted_at = ?2, lift_reason = ?3"
			" WHERE prefix = ?1 AND lifted_at IS NULL",
	[ST_BANS_EXPIRE] = "UPDATE bans SET lifted_at = expires_at, lift_reason = 'expired'"
			   " WHERE lifted_at IS NULL AND expires_at <= ?1",
	[ST_BANS_LIVE] =
	    "SELECT prefix, reason, source, first_event, last_event, count, created_at,"
	    " expires_at FROM bans"
	    " WHERE lifted_at IS NULL AND (expires_at IS NULL OR expires_at > ?1)",
	[ST_BLOCK_CLOSE_EXPIRED] =
	    "UPDATE blocks SET lifted_at = expires_at, lift_reason = 'expired'"
	    " WHERE account = ?1 AND lifted_at IS NULL AND expires_at <= ?2",
	[ST_BLOCK_UPSERT] =
	    "INSERT INTO blocks (account, source, ips, count, started_at, expires_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
	    " ON CONFLICT (account) WHERE lifted_at IS NULL DO UPDATE SET"
	    "  ips = excluded.ips, count = count + excluded.count",
	[ST_BLOCK_LIFT] = "UPDATE blocks SET lifted_at = ?2, lift_reason = ?3"
			  " WHERE account = ?1 AND lifted_at IS NULL",
	[ST_BLOCKS_EXPIRE] = "UPDATE blocks SET lifted_at = expires_at, lift_reason = 'expired'"
			     " WHERE lifted_at IS NULL AND expires_at <= ?1",
	[ST_BLOCKS_LIVE] = "SELECT account, source, ips, count, started_at, expires_at FROM blocks"
			   " WHERE lifted_at IS NULL AND expires_at > ?1",
	[ST_BANS_PRUNE] = "DELETE FROM bans WHERE lifted_at IS NOT NULL AND lifted_at < ?1",
	[ST_BLOCKS_PRUNE] = "DELETE FROM blocks WHERE lifted_at IS NOT NULL AND lifted_at < ?1",
	[ST_HISTORY] =
	    "SELECT type, subject, kind, reason, source, ips, count, first_event, last_event,"
	    " started_at, expires_at, lifted_at, lift_reason FROM history"
	    " WHERE (?1 = 0 OR coalesce(lifted_at, expires_at, ?1) >= ?1)"
	    "  AND (?2 IS NULL OR (type = 'block' AND subject = ?2) OR (type = 'ban' AND ?3))"
	    " ORDER BY started_at DESC, type, id DESC",
	/* As the map's: allowing an allowed prefix again is no error. The first row stays. */
	[ST_ALLOW_ADD] = "INSERT INTO allowlist (prefix, created_at, source) VALUES (?1, ?2, ?3)"
			 " ON CONFLICT (prefix) DO NOTHING",
	[ST_ALLOW_REMOVE] = "DELETE FROM allowlist WHERE prefix = ?1",
	[ST_ALLOWLIST] = "SELECT prefix, created_at, source FROM allowlist ORDER BY prefix",
	/* Found again while listed (another weak password): the row stays, its class is the new. */
	[ST_WEAK_FOUND] =
	    "INSERT INTO weak_passwords (account, class, found_at) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT (account) WHERE cleared_at IS NULL DO UPDATE SET"
	    "  class = excluded.class",
	[ST_WEAK_CLEAR] = "UPDATE weak_passwords SET cleared_at = ?2, clear_reason = ?3"
			  " WHERE account = ?1 AND cleared_at IS NULL",
	[ST_WEAK_LISTED] = "SELECT account, class, found_at, cleared_at, clear_reason"
			   " FROM weak_passwords WHERE cleared_at IS NULL"
			   " ORDER BY found_at DESC, id DESC",
	[ST_WEAK_HISTORY] = "SELECT account, class, found_at, cleared_at, clear_reason"
			    " FROM weak_passwords"
			    " ORDER BY coalesce(cleared_at, found_at) DESC, id DESC",
	[ST_WEAK_PRUNE] = "DELETE FROM weak_passwords WHERE cleared_at < ?1",
	[ST_GUESS_ADD] =
	    "INSERT INTO dictionary_guesses (address, count, first_at, last_at)"
	    " VALUES (?1, ?2, ?3, ?3) ON CONFLICT (address) DO UPDATE SET"
	    "  count = count + excluded.count, last_at = max(last_at, excluded.last_at)",
	[ST_GUESSES] = "SELECT address, count, first_at, last_at FROM dictionary_guesses"
		       " ORDER BY count DESC, address",
	[ST_GUESSES_PRUNE] = "DELETE FROM dictionary_guesses WHERE last_at < ?1",
	[ST_CURSOR_GET] = "SELECT cursor FROM journal_cursors WHERE source = ?1",
	[ST_CURSOR_SET] =
	    "INSERT INTO journal_cursors (source, cursor, updated_at) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor,"
	    " updated_at = excluded.updated_at",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	char path[PATH_MAX];
	bool
	    batch; /* in store_batch_begin's transaction: the functions neither begin nor end one */
};

const char *store_path(const struct store *store)
{
	return store->path;
}

static int errno_of(int code)
{
	switch (code & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
	case SQLITE_TOOBIG:
		return -EINVAL; /* the data, not the store: trying again cannot help */
	default:
		return -EIO;
	}
}

/* "PATH: what: sqlite's message", with advice for a damaged file. */
static int db_fail(const char *path, sqlite3 *db, const char *what, char why[ERRMSG_LEN])
{
	int code = db ? sqlite3_errcode(db) : SQLITE_NOMEM;
	const char *hint = "";

	if ((code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB)
		hint = " (the file is damaged or is not an xdpban store: move it aside and "
		       "xdpban starts a new, empty one)";
	else if ((code & 0xff) == SQLITE_READONLY)
		hint = " (no write access to the file or its directory: run as root)";
	else if ((code & 0xff) == SQLITE_CANTOPEN || (code & 0xff) == SQLITE_IOERR)
		hint = strerror(sqlite3_system_errno(db));
	if ((code & 0xff) == SQLITE_CANTOPEN || (code & 0xff) == SQLITE_IOERR)
		errmsg(why, "%s: %s: %s (%s)", path, what, db ? sqlite3_errmsg(db) : "?", hint);
	else
		errmsg(why, "%s: %s: %s%s", path, what, db ? sqlite3_errmsg(db) : "out of memory",
		       hint);
	return errno_of(code);
}

static int fail(struct store *store, const char *what, char why[ERRMSG_LEN])
{
	return db_fail(store->path, store->db, what, why);
}

/* Runs a statement to completion and resets it; returns the sqlite code. */
static int step_done(sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);

	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

static int exec(struct store *store, enum stmt_id id, const char *what, char why[ERRMSG_LEN])
{
	if (step_done(store->stmt[id]) != SQLITE_DONE)
		return fail(store, what, why);
	return 0;
}

static int begin(struct store *store, char why[ERRMSG_LEN])
{
	return store->batch ? 0 : exec(store, ST_BEGIN, "begin transaction", why);
}

static int commit(struct store *store, char why[ERRMSG_LEN])
{
	int err;

	if (store->batch)
		return 0;
	err = exec(store, ST_COMMIT, "commit", why);

	if (err && !sqlite3_get_autocommit(store->db))
		step_done(store->stmt[ST_ROLLBACK]);
	return err;
}

/* Ends a failed transaction (a batch's is its owner's to end); keeps the first error's message. */
static int rollback(struct store *store, int err)
{
	if (!store->batch && !sqlite3_get_autocommit(store->db))
		step_done(store->stmt[ST_ROLLBACK]);
	return err;
}

static void bind_time(sqlite3_stmt *stmt, int index, int64_t value)
{
	if (value)
		sqlite3_bind_int64(stmt, index, value);
	else
		sqlite3_bind_null(stmt, index);
}

static void bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
	sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
}

static void column_text(sqlite3_stmt *stmt, int col, char *buf, size_t size)
{
	const unsigned char *text = sqlite3_column_text(stmt, col);

	snprintf(buf, size, "%s", text ? (const char *)text : "");
}

static int64_t column_time(sqlite3_stmt *stmt, int col)
{
	return sqlite3_column_type(stmt, col) == SQLITE_NULL ? 0 : sqlite3_column_int64(stmt, col);
}

static int simple_exec(struct store *store, const char *sql, const char *what, char why[ERRMSG_LEN])
{
	if (sqlite3_exec(store->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return fail(store, what, why);
	return 0;
}

/* Reads an integer from the first column of the first row; -1 when the query failed. */
static int64_t query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt;
	int64_t value = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return value;
}

static int schema_version(struct store *store, int64_t *version, char why[ERRMSG_LEN])
{
	int64_t has_table, tables;

	has_table = query_int(store->db, "SELECT count(*) FROM sqlite_master"
					 " WHERE type = 'table' AND name = 'schema_version'");
	if (has_table < 0)
		return fail(store, "reading the schema", why);
	if (has_table == 0) {
		tables = query_int(store->db, "SELECT count(*) FROM sqlite_master");
		if (tables != 0) {
			errmsg(why,
			       "%s: an SQLite database but not an xdpban store (no schema_version "
			       "table): move it aside and xdpban starts a new one",
			       store->path);
			return -EPROTO;
		}
		*version = 0;
		return 0;
	}
	*version = query_int(store->db, "SELECT coalesce(max(version), 0) FROM schema_version");
	if (*version < 0)
		return fail(store, "reading the schema version", why);
	return 0;
}

static int migrate(struct store *store, char why[ERRMSG_LEN])
{
	char sql[96];
	int64_t version;
	int err;

	err = schema_version(store, &version, why);
	if (err)
		return err;
	if (version == STORE_SCHEMA_VERSION)
		return 0;
	if (version > STORE_SCHEMA_VERSION) {
		errmsg(why,
		       "%s: written by a newer xdpban (schema version %lld; this one knows up to "
		       "%d)",
		       store->path, (long long)version, STORE_SCHEMA_VERSION);
		return -EPROTO;
	}
	err = simple_exec(store, "BEGIN IMMEDIATE", "begin migration", why);
	if (err)
		return err;
	/* Another process may have migrated while this one waited for the lock. */
	err = schema_version(store, &version, why);
	if (!err && version == 0)
		err = simple_exec(store,
				  "CREATE TABLE schema_version (version INTEGER NOT NULL,"
				  " applied_at INTEGER NOT NULL)",
				  "create schema_version", why);
	for (; !err && version < STORE_SCHEMA_VERSION; version++) {
		err = simple_exec(store, migrations[version], "migrate the schema", why);
		snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES (%lld, %lld)",
			 (long long)version + 1, (long long)clock_wall_s());
		if (!err)
			err = simple_exec(store, sql, "record the schema version", why);
	}
	if (!err)
		err = simple_exec(store, "COMMIT", "commit migration", why);
	if (err)
		sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
	return err;
}

/*
 * The database and SQLite's -wal and -shm files next to it must be files of
 * their own: a link planted there (by whoever could write the directory)
 * would have the daemon, as root, write where the link points. The
 * directory itself may be a link (an operator's /var/lib on another disk).
 */
static int refuse_links(const char *path, char why[ERRMSG_LEN])
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
	char file[PATH_MAX + 16];
	struct stat st;

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
		if (lstat(file, &st))
			continue;
		if (S_ISLNK(st.st_mode)) {
			errmsg(why, "%s: a symbolic link, refusing to follow it (remove it)", file);
			return -ELOOP;
		}
		if (!S_ISREG(st.st_mode)) {
			errmsg(why, "%s: not a regular file", file);
			return -EISDIR;
		}
	}
	return 0;
}

static int prepare_dir(const char *state_dir, bool create, const char *path, char why[ERRMSG_LEN])
{
	struct stat st;
	int err;

	if (!create && lstat(path, &st) && errno == ENOENT) {
		errmsg(why, "no store at %s yet (the daemon, 'xdpban run', creates it)", path);
		return -ENOENT;
	}
	if (create && mkdir(state_dir, 0755) && errno != EEXIST) {
		err = -errno;
		errmsg(why, "cannot create state directory %s: %s", state_dir, strerror(errno));
		return err;
	}
	if (stat(state_dir, &st)) {
		err = -errno;
		errmsg(why, "state directory %s: %s", state_dir, strerror(errno));
		return err;
	}
	if (!S_ISDIR(st.st_mode)) {
		errmsg(why, "state directory %s: not a directory", state_dir);
		return -ENOTDIR;
	}
	err = refuse_links(path, why);
	if (err)
		return err;
	if (!create && stat(path, &st)) {
		err = -errno;
		errmsg(why, "%s: %s", path, strerror(errno));
		return err;
	}
	/*
	 * A new store is created 0640, not SQLite's 0644: it holds account
	 * names. SQLite gives its -wal and -shm files the same mode. O_EXCL: an
	 * existing store is left unopened, since closing any descriptor of it
	 * would drop the POSIX locks another connection of this process holds
	 * (the daemon has two), and another process could then delete the WAL
	 * under them.
	 */
	if (create) {
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);

		if (fd < 0 && errno == EEXIST)
			return 0;
		if (fd < 0) {
			err = -errno;
			errmsg(why, "cannot create %s: %s", path, strerror(errno));
			return err;
		}
		close(fd);
	}
	return 0;
}

int store_open(const char *state_dir, bool create, struct store **out, char why[ERRMSG_LEN])
{
	/* NOFOLLOW: the race between refuse_links and the open, closed for the main file. */
	int flags =
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | (create ? SQLITE_OPEN_CREATE : 0);
	struct store *store;
	int64_t tables;
	int err;

	store = calloc(1, sizeof(*store));
	if (!store) {
		errmsg(why, "out of memory");
		return -ENOMEM;
	}
	snprintf(store->path, sizeof(store->path), "%s/%s", state_dir, STORE_FILE);
	err = prepare_dir(state_dir, create, store->path, why);
	if (err)
		goto fail;
	if (sqlite3_open_v2(store->path, &store->db, flags, NULL) != SQLITE_OK) {
		err = fail(store, "cannot open", why);
		goto fail;
	}
	sqlite3_extended_result_codes(store->db, 1);
	sqlite3_busy_timeout(store->db, STORE_BUSY_MS); /* the daemon writes while the CLI reads */
	/* The first read of the file: a damaged or foreign file fails here. */
	tables = query_int(store->db, "SELECT count(*) FROM sqlite_master");
	if (tables < 0) {
		err = fail(store, "cannot read", why);
		goto fail;
	}
	err = simple_exec(store, "PRAGMA journal_mode = WAL", "set WAL mode", why);
	if (!err)
		err = simple_exec(store, "PRAGMA synchronous = NORMAL", "set synchronous", why);
	/*
	 * A checkpoint that resets the WAL cuts it back to 4 MiB: a burst of
	 * bans grows it, and without a limit it keeps that size for good.
	 */
	if (!err)
		err = simple_exec(store, "PRAGMA journal_size_limit = 4194304",
				  "set journal size limit", why);
	/* 16 MB of page cache (default 2 MB): 100k live bans and their indexes fit. */
	if (!err)
		err = simple_exec(store, "PRAGMA cache_size = -16384", "set cache size", why);
	if (!err)
		err = migrate(store, why);
	for (int i = 0; !err && i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(store->db, statements[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &store->stmt[i], NULL) != SQLITE_OK)
			err = fail(store, "prepare statements", why);
	}
	if (err)
		goto fail;
	*out = store;
	return 0;
fail:
	store_close(store);
	return err;
}

void store_close(struct store *store)
{
	if (!store)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(store->stmt[i]);
	sqlite3_close(store->db);
	free(store);
}

void store_set_busy_timeout(struct store *store, unsigned int ms)
{
	sqlite3_busy_timeout(store->db, (int)ms);
}

void store_autocheckpoint(struct store *store, bool on)
{
	char ignored[ERRMSG_LEN];

	simple_exec(store,
		    on ? "PRAGMA wal_autocheckpoint = 1000" : "PRAGMA wal_autocheckpoint = 0",
		    "set checkpoints", ignored);
}

int store_checkpoint(struct store *store, size_t *wal_pages, char why[ERRMSG_LEN])
{
	int log = 0, done = 0;

	if (sqlite3_wal_checkpoint_v2(store->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &done) !=
	    SQLITE_OK) {
		if (wal_pages)
			*wal_pages = log > 0 ? (size_t)log : 0;
		return fail(store, "checkpoint", why);
	}
	if (wal_pages)
		*wal_pages = 0;
	return 0;
}

int store_batch_begin(struct store *store, char why[ERRMSG_LEN])
{
	int err = exec(store, ST_BEGIN, "begin transaction", why);

	store->batch = err == 0;
	return err;
}

int store_batch_commit(struct store *store, char why[ERRMSG_LEN])
{
	store->batch = false;
	return commit(store, why);
}

void store_batch_rollback(struct store *store)
{
	store->batch = false;
	rollback(store, 0);
}

int store_check(struct store *store, char why[ERRMSG_LEN])
{
	sqlite3_stmt *stmt;
	const unsigned char *result;
	int err = 0;

	if (sqlite3_prepare_v2(store->db, "PRAGMA quick_check(1)", -1, &stmt, NULL) != SQLITE_OK)
		return fail(store, "check", why);
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		err = fail(store, "check", why);
	} else {
		result = sqlite3_column_text(stmt, 0);
		if (!result || strcmp((const char *)result, "ok") != 0) {
			errmsg(why, "%s: damaged: %s (move it aside and xdpban starts a new one)",
			       store->path, result ? (const char *)result : "?");
			err = -EIO;
		}
	}
	sqlite3_finalize(stmt);
	return err;
}

int store_record_bans(struct store *store, const struct store_ban *bans, size_t count, int64_t now,
		      char why[ERRMSG_LEN])
{
	sqlite3_stmt *close = store->stmt[ST_BAN_CLOSE_EXPIRED],
		     *upsert = store->stmt[ST_BAN_UPSERT];
	char prefix[CIDR_TEXT_LEN];
	int err = begin(store, why);

	for (size_t i = 0; !err && i < count; i++) {
		const struct store_ban *ban = &bans[i];

		cidr_format(&ban->key, prefix);
		bind_text(close, 1, prefix);
		sqlite3_bind_int64(close, 2, now);
		if (step_done(close) != SQLITE_DONE) {
			err = fail(store, "record ban", why);
			break;
		}
		bind_text(upsert, 1, prefix);
		bind_text(upsert, 2, cidr_is_host(&ban->key) ? "address" : "cidr");
		bind_text(upsert, 3, ban->reason);
		bind_text(upsert, 4, ban->source);
		bind_time(upsert, 5, ban->first_event);
		bind_time(upsert, 6, ban->last_event);
		sqlite3_bind_int64(upsert, 7, (sqlite3_int64)ban->count);
		sqlite3_bind_int64(upsert, 8, now);
		bind_time(upsert, 9, ban->expires_at);
		if (step_done(upsert) != SQLITE_DONE)
			err = fail(store, "record ban", why);
	}
	if (err)
		return rollback(store, err);
	return commit(store, why);
}

/* Binds a statement's parameters for item i of a batch. */
typedef void (*bind_item_fn)(sqlite3_stmt *stmt, const void *batch, size_t i);

/*
 * One statement per item of a batch, in one transaction (all or none);
 * *changed counts the rows changed (may be NULL).
 */
static int run_batch(struct store *store, enum stmt_id id, const void *batch, size_t count,
		     bind_item_fn bind, const char *what, size_t *changed, char why[ERRMSG_LEN])
{
	sqlite3_stmt *stmt = store->stmt[id];
	size_t rows = 0;
	int err = begin(store, why);

	for (size_t i = 0; !err && i < count; i++) {
		bind(stmt, batch, i);
		if (step_done(stmt) != SQLITE_DONE)
			err = fail(store, what, why);
		else
			rows += (size_t)sqlite3_changes(store->db);
	}
	if (err)
		return rollback(store, err);
	err = commit(store, why);
	if (!err && changed)
		*changed = rows;
	return err;
}

/* The prefix as cidr_format writes it, the text form every table keeps. */
static void bind_prefix(sqlite3_stmt *stmt, int index, const struct lpm_key *key)
{
	char prefix[CIDR_TEXT_LEN];

	cidr_format(key, prefix);
	sqlite3_bind_text(stmt, index, prefix, -1, SQLITE_TRANSIENT);
}

/*
 * Prefixes bound as ?1, each with the same time ?2 and word ?3 when the
 * statement takes them: a lift's time and reason, an allow's time and source.
 */
struct prefix_batch {
	const struct lpm_key *keys;
	int64_t at;
	const char *word;
};

static void bind_prefix_batch(sqlite3_stmt *stmt, const void *batch, size_t i)
{
	const struct prefix_batch *prefixes = batch;

	bind_prefix(stmt, 1, &prefixes->keys[i]);
	if (sqlite3_bind_parameter_count(stmt) < 3)
		return;
	sqlite3_bind_int64(stmt, 2, prefixes->at);
	bind_text(stmt, 3, prefixes->word);
}

int store_lift_bans(struct store *store, const struct lpm_key *keys, size_t count, int64_t now,
		    const char *reason, size_t *lifted, char why[ERRMSG_LEN])
{
	struct prefix_batch batch = { keys, now, reason };

	return run_batch(store, ST_BAN_LIFT, &batch, count, bind_prefix_batch, "record unban",
			 lifted, why);
}

/*
 * Runs a bans statement and a blocks statement, each bound to one time, in
 * one transaction; reports how many rows each changed.
 */
static int bans_and_blocks(struct store *store, enum stmt_id ban_stmt, enum stmt_id block_stmt,
			   int64_t at, const char *what, size_t *bans, size_t *blocks,
			   char why[ERRMSG_LEN])
{
	const enum stmt_id stmts[2] = { ban_stmt, block_stmt };
	size_t changed[2] = { 0, 0 };
	int err = begin(store, why);

	for (int i = 0; i < 2 && !err; i++) {
		sqlite3_bind_int64(store->stmt[stmts[i]], 1, at);
		err = exec(store, stmts[i], what, why);
		changed[i] = (size_t)sqlite3_changes(store->db);
	}
	if (err)
		return rollback(store, err);
	err = commit(store, why);
	if (!err && bans)
		*bans = changed[0];
	if (!err && blocks)
		*blocks = changed[1];
	return err;
}

int store_expire(struct store *store, int64_t now, size_t *bans, size_t *blocks,
		 char why[ERRMSG_LEN])
{
	return bans_and_blocks(store, ST_BANS_EXPIRE, ST_BLOCKS_EXPIRE, now, "expire", bans, blocks,
			       why);
}

static int grow(void **array, size_t *capacity, size_t used, size_t size)
{
	size_t wanted = *capacity ? *capacity * 2 : 1024;
	void *grown;

	if (used < *capacity)
		return 0;
	grown = realloc(*array, wanted * size);
	if (!grown)
		return -ENOMEM;
	*array = grown;
	*capacity = wanted;
	return 0;
}

static uint64_t seconds_left(int64_t expires_at, int64_t now)
{
	return expires_at && expires_at > now ? (uint64_t)(expires_at - now) : 0;
}

/* Fills element from the statement's current row; 0, or -errno with why. */
typedef int (*read_row_fn)(const struct store *store, sqlite3_stmt *stmt, void *element,
			   int64_t now, char why[ERRMSG_LEN]);

/* Every row of a statement (bound to now if it takes a parameter), each read into an element of a
 * grown array. */
static int read_rows(struct store *store, enum stmt_id which, int64_t now, size_t size,
		     read_row_fn read_row, const char *what, void **out, size_t *count,
		     char why[ERRMSG_LEN])
{
	sqlite3_stmt *stmt = store->stmt[which];
	size_t used = 0, capacity = 0;
	void *rows = NULL;
	int rc, err = 0;

	if (sqlite3_bind_parameter_count(stmt)) /* the allowlist has no deadline to compare */
		sqlite3_bind_int64(stmt, 1, now);
	while (!err && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		void *row;

		if (grow(&rows, &capacity, used, size)) {
			errmsg(why, "out of memory");
			err = -ENOMEM;
			break;
		}
		row = (char *)rows + used * size;
		memset(row, 0, size);
		err = read_row(store, stmt, row, now, why);
		if (!err)
			used++;
	}
	if (!err && rc != SQLITE_DONE)
		err = fail(store, what, why);
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	if (err) {
		free(rows);
		return err;
	}
	*out = rows;
	*count = used;
	return 0;
}

/* A prefix column read back into a key; a row that does not parse is damage. */
static int column_prefix(const struct store *store, sqlite3_stmt *stmt, int col,
			 struct lpm_key *key, const char *table, char why[ERRMSG_LEN])
{
	char prefix[CIDR_TEXT_LEN], reason[ERRMSG_LEN];

	column_text(stmt, col, prefix, sizeof(prefix));
	if (cidr_parse(prefix, key, reason)) {
		errmsg(why, "%s: damaged %s row: %s", store->path, table, reason);
		return -EIO;
	}
	return 0;
}

static int read_live_ban(const struct store *store, sqlite3_stmt *stmt, void *element, int64_t now,
			 char why[ERRMSG_LEN])
{
	struct store_ban *ban = element;
	int err = column_prefix(store, stmt, 0, &ban->key, "ban", why);

	if (err)
		return err;
	column_text(stmt, 1, ban->reason, sizeof(ban->reason));
	column_text(stmt, 2, ban->source, sizeof(ban->source));
	ban->first_event = column_time(stmt, 3);
	ban->last_event = column_time(stmt, 4);
	ban->count = (uint64_t)sqlite3_column_int64(stmt, 5);
	ban->created_at = column_time(stmt, 6);
	ban->expires_at = column_time(stmt, 7);
	ban->seconds_left = seconds_left(ban->expires_at, now);
	return 0;
}

int store_live_bans(struct store *store, int64_t now, struct store_ban **out, size_t *count,
		    char why[ERRMSG_LEN])
{
	return read_rows(store, ST_BANS_LIVE, now, sizeof(**out), read_live_ban, "list live bans",
			 (void **)out, count, why);
}

int store_record_block(struct store *store, const struct store_block *block, int64_t now,
		       char why[ERRMSG_LEN])
{
	sqlite3_stmt *close = store->stmt[ST_BLOCK_CLOSE_EXPIRED];
	sqlite3_stmt *upsert = store->stmt[ST_BLOCK_UPSERT];
	int err = begin(store, why);

	if (err)
		return err;
	bind_text(close, 1, block->account);
	sqlite3_bind_int64(close, 2, now);
	if (step_done(close) != SQLITE_DONE)
		return rollback(store, fail(store, "record block", why));
	bind_text(upsert, 1, block->account);
	bind_text(upsert, 2, block->source);
	bind_text(upsert, 3, block->ips);
	sqlite3_bind_int64(upsert, 4, (sqlite3_int64)block->count);
	sqlite3_bind_int64(upsert, 5, now);
	sqlite3_bind_int64(upsert, 6, block->expires_at);
	if (step_done(upsert) != SQLITE_DONE)
		return rollback(store, fail(store, "record block", why));
	return commit(store, why);
}

/* Ends the live row of an account (?1) at now (?2) with reason (?3); *ended: there was one. */
static int end_account_row(struct store *store, enum stmt_id id, const char *account, int64_t now,
			   const char *reason, bool *ended, const char *what, char why[ERRMSG_LEN])
{
	sqlite3_stmt *end = store->stmt[id];

	bind_text(end, 1, account);
	sqlite3_bind_int64(end, 2, now);
	bind_text(end, 3, reason);
	if (step_done(end) != SQLITE_DONE)
		return fail(store, what, why);
	if (ended)
		*ended = sqlite3_changes(store->db) > 0;
	return 0;
}

int store_lift_block(struct store *store, const char *account, int64_t now, const char *reason,
		     bool *lifted, char why[ERRMSG_LEN])
{
	return end_account_row(store, ST_BLOCK_LIFT, account, now, reason, lifted, "record unblock",
			       why);
}

static int read_live_block(const struct store *store, sqlite3_stmt *stmt, void *element,
			   int64_t now, char why[ERRMSG_LEN])
{
	struct store_block *block = element;

	(void)store;
	(void)why;
	column_text(stmt, 0, block->account, sizeof(block->account));
	column_text(stmt, 1, block->source, sizeof(block->source));
	column_text(stmt, 2, block->ips, sizeof(block->ips));
	block->count = (uint64_t)sqlite3_column_int64(stmt, 3);
	block->started_at = column_time(stmt, 4);
	block->expires_at = column_time(stmt, 5);
	block->seconds_left = seconds_left(block->expires_at, now);
	return 0;
}

int store_live_blocks(struct store *store, int64_t now, struct store_block **out, size_t *count,
		      char why[ERRMSG_LEN])
{
	return read_rows(store, ST_BLOCKS_LIVE, now, sizeof(**out), read_live_block,
			 "list live blocks", (void **)out, count, why);
}

int store_allow_add(struct store *store, const struct lpm_key *keys, size_t count,
		    int64_t created_at, const char *source, size_t *added, char why[ERRMSG_LEN])
{
	struct prefix_batch batch = { keys, created_at, source };

	return run_batch(store, ST_ALLOW_ADD, &batch, count, bind_prefix_batch, "record allow",
			 added, why);
}

int store_allow_remove(struct store *store, const struct lpm_key *keys, size_t count,
		       size_t *removed, char why[ERRMSG_LEN])
{
	struct prefix_batch batch = { keys, 0, NULL };

	return run_batch(store, ST_ALLOW_REMOVE, &batch, count, bind_prefix_batch, "record unallow",
			 removed, why);
}

static int read_allow(const struct store *store, sqlite3_stmt *stmt, void *element, int64_t now,
		      char why[ERRMSG_LEN])
{
	struct store_allow *allow = element;
	int err = column_prefix(store, stmt, 0, &allow->key, "allowlist", why);

	(void)now;
	if (err)
		return err;
	allow->created_at = column_time(stmt, 1);
	column_text(stmt, 2, allow->source, sizeof(allow->source));
	return 0;
}

int store_allowlist(struct store *store, struct store_allow **allows, size_t *count,
		    char why[ERRMSG_LEN])
{
	return read_rows(store, ST_ALLOWLIST, 0, sizeof(**allows), read_allow, "list the allowlist",
			 (void **)allows, count, why);
}

int store_prune(struct store *store, int64_t before, size_t *bans, size_t *blocks,
		char why[ERRMSG_LEN])
{
	return bans_and_blocks(store, ST_BANS_PRUNE, ST_BLOCKS_PRUNE, before, "prune", bans, blocks,
			       why);
}

/* True when prefixes a and b share an address: one contains the other. */
static bool prefixes_overlap(const struct lpm_key *a, const struct lpm_key *b)
{
	unsigned int len = a->prefixlen < b->prefixlen ? a->prefixlen : b->prefixlen;
	unsigned int bytes = len / 8, bits = len % 8;

	if (memcmp(a->addr, b->addr, bytes) != 0)
		return false;
	if (bits == 0)
		return true;
	return ((a->addr[bytes] ^ b->addr[bytes]) & (0xff << (8 - bits))) == 0;
}

static void read_history_row(sqlite3_stmt *stmt, struct store_history_entry *entry)
{
	char type[8];

	memset(entry, 0, sizeof(*entry));
	column_text(stmt, 0, type, sizeof(type));
	entry->type = strcmp(type, "block") == 0 ? STORE_ENTRY_BLOCK : STORE_ENTRY_BAN;
	column_text(stmt, 1, entry->subject, sizeof(entry->subject));
	column_text(stmt, 2, entry->kind, sizeof(entry->kind));
	column_text(stmt, 3, entry->reason, sizeof(entry->reason));
	column_text(stmt, 4, entry->source, sizeof(entry->source));
	column_text(stmt, 5, entry->ips, sizeof(entry->ips));
	entry->count = (uint64_t)sqlite3_column_int64(stmt, 6);
	entry->first_event = column_time(stmt, 7);
	entry->last_event = column_time(stmt, 8);
	entry->started_at = column_time(stmt, 9);
	entry->expires_at = column_time(stmt, 10);
	entry->lifted_at = column_time(stmt, 11);
	column_text(stmt, 12, entry->lift_reason, sizeof(entry->lift_reason));
}

int store_history(struct store *store, const struct store_history_query *query,
		  int (*fn)(const struct store_history_entry *entry, void *arg), void *arg,
		  char why[ERRMSG_LEN])
{
	sqlite3_stmt *stmt = store->stmt[ST_HISTORY];
	struct store_history_entry entry;
	struct lpm_key match, row;
	char ignored[ERRMSG_LEN];
	bool match_prefix = false;
	size_t delivered = 0;
	int rc, ret = 0;

	if (query->match)
		match_prefix = cidr_parse(query->match, &match, ignored) == 0;
	sqlite3_bind_int64(stmt, 1, query->since);
	if (query->match)
		bind_text(stmt, 2, query->match);
	else
		sqlite3_bind_null(stmt, 2);
	sqlite3_bind_int(stmt, 3, match_prefix);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		read_history_row(stmt, &entry);
		/* Bans: keep prefixes overlapping the one asked for. */
		if (match_prefix && entry.type == STORE_ENTRY_BAN &&
		    (cidr_parse(entry.subject, &row, ignored) || !prefixes_overlap(&row, &match)))
			continue;
		ret = fn(&entry, arg);
		if (ret)
			break;
		if (query->limit && ++delivered == query->limit)
			break;
	}
	if (!ret && rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = fail(store, "read history", why);
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return ret;
}

/* ---- weak passwords ---- */

int store_weak_found(struct store *store, const char *account, const char *class, int64_t now,
		     char why[ERRMSG_LEN])
{
	sqlite3_stmt *found = store->stmt[ST_WEAK_FOUND];

	bind_text(found, 1, account);
	bind_text(found, 2, class);
	sqlite3_bind_int64(found, 3, now);
	return step_done(found) == SQLITE_DONE ? 0 : fail(store, "record a weak password", why);
}

int store_weak_cleared(struct store *store, const char *account, int64_t now, const char *reason,
		       bool *cleared, char why[ERRMSG_LEN])
{
	return end_account_row(store, ST_WEAK_CLEAR, account, now, reason, cleared,
			       "record a weak password cleared", why);
}

static int read_weak(const struct store *store, sqlite3_stmt *stmt, void *element, int64_t now,
		     char why[ERRMSG_LEN])
{
	struct store_weak *weak = element;

	(void)store;
	(void)now;
	(void)why;
	column_text(stmt, 0, weak->account, sizeof(weak->account));
	column_text(stmt, 1, weak->class, sizeof(weak->class));
	weak->found_at = column_time(stmt, 2);
	weak->cleared_at = column_time(stmt, 3);
	column_text(stmt, 4, weak->clear_reason, sizeof(weak->clear_reason));
	return 0;
}

int store_weak_list(struct store *store, bool with_cleared, struct store_weak **rows, size_t *count,
		    char why[ERRMSG_LEN])
{
	return read_rows(store, with_cleared ? ST_WEAK_HISTORY : ST_WEAK_LISTED, 0, sizeof(**rows),
			 read_weak, "list weak passwords", (void **)rows, count, why);
}

int store_guesses_add(struct store *store, const struct lpm_key *address, uint64_t count,
		      int64_t now, char why[ERRMSG_LEN])
{
	sqlite3_stmt *add = store->stmt[ST_GUESS_ADD];

	bind_prefix(add, 1, address);
	sqlite3_bind_int64(add, 2, (sqlite3_int64)count);
	sqlite3_bind_int64(add, 3, now);
	return step_done(add) == SQLITE_DONE ? 0 : fail(store, "record dictionary guesses", why);
}

static int read_guess(const struct store *store, sqlite3_stmt *stmt, void *element, int64_t now,
		      char why[ERRMSG_LEN])
{
	struct store_guess *guess = element;

	(void)now;
	if (column_prefix(store, stmt, 0, &guess->address, "dictionary_guesses", why))
		return -EIO;
	guess->count = (uint64_t)sqlite3_column_int64(stmt, 1);
	guess->first_at = column_time(stmt, 2);
	guess->last_at = column_time(stmt, 3);
	return 0;
}

int store_guesses(struct store *store, struct store_guess **rows, size_t *count,
		  char why[ERRMSG_LEN])
{
	return read_rows(store, ST_GUESSES, 0, sizeof(**rows), read_guess,
			 "list dictionary guesses", (void **)rows, count, why);
}

int store_weak_prune(struct store *store, int64_t before, char why[ERRMSG_LEN])
{
	int err = begin(store, why);

	sqlite3_bind_int64(store->stmt[ST_WEAK_PRUNE], 1, before);
	if (!err)
		err = exec(store, ST_WEAK_PRUNE, "prune weak passwords", why);
	sqlite3_bind_int64(store->stmt[ST_GUESSES_PRUNE], 1, before);
	if (!err)
		err = exec(store, ST_GUESSES_PRUNE, "prune dictionary guesses", why);
	return err ? rollback(store, err) : commit(store, why);
}
int store_journal_cursor(struct store *store, const char *source, char *cursor, size_t size,
			 char why[ERRMSG_LEN])
{
	sqlite3_stmt *get = store->stmt[ST_CURSOR_GET];
	int rc;

	bind_text(get, 1, source);
	rc = sqlite3_step(get);
	if (rc == SQLITE_ROW)
		column_text(get, 0, cursor, size);
	sqlite3_reset(get);
	sqlite3_clear_bindings(get);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return -ENOENT;
	return fail(store, "read a journal cursor", why);
}

int store_set_journal_cursor(struct store *store, const char *source, const char *cursor,
			     int64_t now, char why[ERRMSG_LEN])
{
	sqlite3_stmt *set = store->stmt[ST_CURSOR_SET];

	bind_text(set, 1, source);
	bind_text(set, 2, cursor);
	sqlite3_bind_int64(set, 3, now);
	if (step_done(set) != SQLITE_DONE)
		return fail(store, "save a journal cursor", why);
	return 0;
}
