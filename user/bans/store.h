/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The persistent store: STATE_DIR/xdpban.db, an SQLite database of every ban
 * and account block with its story (reason, source, first and last event,
 * failure count), kept after it ends as history. The daemon restores live
 * bans from it into the kernel after a reboot or a lost bpffs; expired and
 * lifted ones are not restored. It also keeps the operator's allowlist
 * (xdpban allow), restored the same way, before the bans.
 *
 * Durability: WAL journal with synchronous=NORMAL. A committed transaction
 * survives a crash of xdpban (the WAL is written before commit returns); a
 * power loss may roll back the last transactions since the previous WAL
 * checkpoint sync, never corrupt the file. The WAL is cut back to 4 MiB
 * (journal_size_limit) whenever a checkpoint resets it.
 *
 * The database, its -wal and -shm files must not be symbolic links: store_open
 * refuses one (-ELOOP) rather than write, as root, where it points.
 *
 * Times are wall-clock unix seconds (bans outlive reboots, monotonic clocks
 * do not). In these structs 0 means SQL NULL: expires_at 0 is permanent,
 * lifted_at 0 is live, first_event/last_event 0 is unknown.
 */
#ifndef XDPBAN_STORE_H
#define XDPBAN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/errmsg.h"
#include "lib/event.h"
#include "xdpban_maps.h"

#define STORE_FILE	     "xdpban.db"
#define STORE_SCHEMA_VERSION 4
#define STORE_WORD_LEN	     32	  /* reason, lift reason */
#define STORE_SOURCE_LEN     64	  /* log source name, fleet node, zone, "cli" */
#define STORE_IPS_LEN	     1024 /* a block's addresses, longer lists are cut */

struct store;

struct store_ban {
	struct lpm_key key;		  /* stored as cidr_format's text */
	char reason[STORE_WORD_LEN];	  /* "ip_rule", "repeat", "fleet", "dnsbl", "manual", ... */
	char source[STORE_SOURCE_LEN];	  /* "[source NAME]", the fleet node, the DNSBL zone */
	int64_t first_event, last_event;  /* the failures that led to it */
	uint64_t count;			  /* failures that led to it */
	int64_t created_at;		  /* set by store_record_bans */
	int64_t expires_at;		  /* 0: permanent */
	int64_t lifted_at;		  /* 0: live */
	char lift_reason[STORE_WORD_LEN]; /* "unban", "expired", "" while live */
	uint64_t seconds_left;		  /* store_live_bans only; 0 for permanent */
};

struct store_block {
	char account[EVENT_USER_LEN];
	char source[STORE_SOURCE_LEN];
	char ips[STORE_IPS_LEN]; /* the distinct addresses, comma-separated */
	uint64_t count;		 /* failures that led to it */
	int64_t started_at;
	int64_t expires_at; /* fixed when it starts, never extended */
	int64_t lifted_at;  /* 0: live */
	char lift_reason[STORE_WORD_LEN];
	uint64_t seconds_left; /* store_live_blocks only */
};

/* A prefix of the operator's allowlist (xdpban allow). */
struct store_allow {
	struct lpm_key key;
	int64_t created_at;
	char source[STORE_SOURCE_LEN]; /* "cli", "kernel", the fleet node, "redis" */
};

/*
 * Opens STATE_DIR/xdpban.db, creating the directory and the database when
 * create is set, and migrating an older schema. Errors say why: a missing
 * store (-ENOENT, create unset), an unwritable directory, a file that is not
 * an SQLite database or is corrupt (-EIO), a newer schema (-EPROTO).
 */
int store_open(const char *state_dir, bool create, struct store **store, char why[ERRMSG_LEN]);
void store_close(struct store *store);

/*
 * How long a call waits for another process's write lock before failing
 * with -EBUSY (the CLI's default; the daemon's writer thread sets its own).
 */
#define STORE_BUSY_MS 5000
void store_set_busy_timeout(struct store *store, unsigned int ms);

/*
 * Checkpoints: on by default (SQLite's, at a commit that finds 1,000 pages
 * in the WAL). The daemon's writer turns them off and calls store_checkpoint
 * itself, off its event loop. A TRUNCATE checkpoint copies the WAL into the
 * database and cuts the WAL to zero bytes; one that a reader keeps from
 * finishing fails with -EBUSY, *wal_pages (may be NULL) saying what is left.
 */
void store_autocheckpoint(struct store *store, bool on);
int store_checkpoint(struct store *store, size_t *wal_pages, char why[ERRMSG_LEN]);

/*
 * One transaction around many calls (all or none): between begin and
 * commit, the write functions below neither begin nor end their own. It
 * takes the write lock at once (BEGIN IMMEDIATE), so what the caller reads
 * elsewhere inside it (the kernel's maps) no other writer can change in the
 * store. A failed call leaves the batch open: roll it back.
 */
int store_batch_begin(struct store *store, char why[ERRMSG_LEN]);
int store_batch_commit(struct store *store, char why[ERRMSG_LEN]);
void store_batch_rollback(struct store *store);

/* The database file's path (for messages). */
const char *store_path(const struct store *store);
/* PRAGMA quick_check: a full read of the file; -EIO with the first problem. */
int store_check(struct store *store, char why[ERRMSG_LEN]);

/*
 * Records bans in one transaction (all or none). A ban of a prefix that has
 * a live row updates that row: expires_at, reason and source become the new
 * ones, last_event the later one, first_event the earlier one, and count
 * adds up. A row that had expired by now is closed ("expired") first, so
 * the re-ban starts a new history row. created_at is set to now.
 */
int store_record_bans(struct store *store, const struct store_ban *bans, size_t count, int64_t now,
		      char why[ERRMSG_LEN]);

/*
 * Marks the live row of each prefix lifted at now with reason ("unban",
 * "expired", ...), in one transaction. *lifted counts rows changed
 * (prefixes without a live row are skipped). lifted may be NULL.
 */
int store_lift_bans(struct store *store, const struct lpm_key *keys, size_t count, int64_t now,
		    const char *reason, size_t *lifted, char why[ERRMSG_LEN]);

/*
 * The expiry sweep: closes every ban and block whose expires_at <= now,
 * with lifted_at = its expires_at and reason "expired". Counts may be NULL.
 */
int store_expire(struct store *store, int64_t now, size_t *bans, size_t *blocks,
		 char why[ERRMSG_LEN]);

/*
 * Bans to put back into the kernel: not lifted and not expired at now,
 * with seconds_left. *bans is malloc'ed (NULL when *count is 0).
 */
int store_live_bans(struct store *store, int64_t now, struct store_ban **bans, size_t *count,
		    char why[ERRMSG_LEN]);

/*
 * Records an account block. If the account already has a live block, its
 * deadline stays (a block is never extended): only count and ips are
 * updated. An expired live row is closed first. started_at is set to now.
 */
int store_record_block(struct store *store, const struct store_block *block, int64_t now,
		       char why[ERRMSG_LEN]);
int store_lift_block(struct store *store, const char *account, int64_t now, const char *reason,
		     bool *lifted, char why[ERRMSG_LEN]);
int store_live_blocks(struct store *store, int64_t now, struct store_block **blocks, size_t *count,
		      char why[ERRMSG_LEN]);

/*
 * Records allowlisted prefixes, allowed at created_at by source, in one
 * transaction (all or none). A prefix already recorded is no error and keeps
 * its row (when and by whom it was first allowed), as allowing it again in
 * the map is no error. *added counts the new rows; added may be NULL.
 */
int store_allow_add(struct store *store, const struct lpm_key *keys, size_t count,
		    int64_t created_at, const char *source, size_t *added, char why[ERRMSG_LEN]);
/*
 * Deletes the rows of these prefixes in one transaction; a prefix without
 * one is skipped (allowed while there was no store). removed may be NULL.
 */
int store_allow_remove(struct store *store, const struct lpm_key *keys, size_t count,
		       size_t *removed, char why[ERRMSG_LEN]);
/* The whole allowlist, sorted by prefix text. *allows is malloc'ed (NULL when *count is 0). */
/*
 * A journal source's cursor: where it stopped reading (schema version 4).
 * store_journal_cursor: 0 with cursor filled, -ENOENT when none was saved,
 * else -errno with why.
 */
int store_journal_cursor(struct store *store, const char *source, char *cursor, size_t size,
			 char why[ERRMSG_LEN]);
int store_set_journal_cursor(struct store *store, const char *source, const char *cursor,
			     int64_t now, char why[ERRMSG_LEN]);

int store_allowlist(struct store *store, struct store_allow **allows, size_t *count,
		    char why[ERRMSG_LEN]);

/*
 * Weak passwords (serve/weak.h): the verdicts only. An account has at most
 * one listed row; cleared rows stay as history.
 */
struct store_weak {
	char account[EVENT_USER_LEN];
	char class[STORE_WORD_LEN]; /* weak_class_name(): "dictionary word", ... */
	int64_t found_at;
	int64_t cleared_at; /* 0: listed */
	char clear_reason[STORE_WORD_LEN];
};

/* Lists account (class, found at now); listed already: its class is updated. */
int store_weak_found(struct store *store, const char *account, const char *class, int64_t now,
		     char why[ERRMSG_LEN]);
/* Clears account's listing at now with reason; *cleared (may be NULL): it was listed. */
int store_weak_cleared(struct store *store, const char *account, int64_t now, const char *reason,
		       bool *cleared, char why[ERRMSG_LEN]);
/*
 * The listed accounts, newest first; with_cleared: every row, the latest
 * change first. *rows is malloc'ed (NULL when *count is 0).
 */
int store_weak_list(struct store *store, bool with_cleared, struct store_weak **rows, size_t *count,
		    char why[ERRMSG_LEN]);

/* Failed logins whose password was a dictionary word, per client address. */
struct store_guess {
	struct lpm_key address; /* a host */
	uint64_t count;
	int64_t first_at, last_at;
};

/* Adds count guesses from address, the last at now. */
int store_guesses_add(struct store *store, const struct lpm_key *address, uint64_t count,
		      int64_t now, char why[ERRMSG_LEN]);
/* Every address, most guesses first. *rows is malloc'ed (NULL when *count is 0). */
int store_guesses(struct store *store, struct store_guess **rows, size_t *count,
		  char why[ERRMSG_LEN]);
/* Deletes weak-password rows cleared, and guess counts last added to, before before. */
int store_weak_prune(struct store *store, int64_t before, char why[ERRMSG_LEN]);

/* Deletes lifted bans and blocks that ended before before; counts may be NULL. */
int store_prune(struct store *store, int64_t before, size_t *bans, size_t *blocks,
		char why[ERRMSG_LEN]);

/* One row of the history view: a ban or a block. */
enum store_entry_type { STORE_ENTRY_BAN, STORE_ENTRY_BLOCK };

struct store_history_entry {
	enum store_entry_type type;
	char subject[EVENT_USER_LEN]; /* the prefix text, or the account */
	char kind[16];		      /* "address", "cidr" or "account" */
	char reason[STORE_WORD_LEN];
	char source[STORE_SOURCE_LEN];
	char ips[STORE_IPS_LEN]; /* blocks only */
	uint64_t count;
	int64_t first_event, last_event;
	int64_t started_at, expires_at, lifted_at;
	char lift_reason[STORE_WORD_LEN];
};

struct store_history_query {
	size_t limit;  /* 0: no limit */
	int64_t since; /* entries in force at any time since then (not ended before); 0: all */
	/*
	 * NULL, or an account name or an ADDR[/LEN]: then only blocks of that
	 * account and bans of prefixes equal to or containing the prefix.
	 */
	const char *match;
};

/*
 * Calls fn for each matching entry, newest first, until fn returns
 * nonzero (then returns that value).
 */
int store_history(struct store *store, const struct store_history_query *query,
		  int (*fn)(const struct store_history_entry *entry, void *arg), void *arg,
		  char why[ERRMSG_LEN]);

#endif
