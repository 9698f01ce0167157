/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The daemon's writes to the store, off its event loop. Each call copies
 * what is to be written into a bounded FIFO and returns at once; a thread
 * of its own, with its own connection, writes the FIFO in order, in batches
 * (one transaction each, of what came within 20 ms of the first row), and
 * checkpoints the WAL (TRUNCATE) every second it wrote something. The
 * thread runs at nice 10, behind the loop for the CPU. So a store locked by
 * another process, a full disk or a slow fsync costs the loop nothing.
 *
 * A batch that fails (the store locked for longer than the thread's busy
 * timeout, a full disk, an I/O error) is rolled back and stays at the head:
 * it is retried after 0.1 s, then twice as long each time up to 5 s, until
 * it goes in. Nothing queued is dropped; the warning is logged at most once
 * a minute, with the count held back, and once more when writes go through
 * again. Only a write the store refuses as invalid data (never one of
 * xdpban's own) is dropped, with an error, so that it cannot hold up the rest.
 *
 * The kernel is the truth. Given the maps, the thread records a ban only if
 * the kernel still holds its prefix, and a lift only if it no longer does,
 * reading the maps while it holds the store's write lock. The CLI takes that
 * lock before it changes the maps (docs/cli.md), so a ban `xdpban unban`
 * lifted while its row waited here is not brought back to life, and a prefix
 * banned again after the expiry that queued its lift stays live.
 *
 * Full (STORE_QUEUE_ROWS rows waiting): a ban or lift that does not fit is
 * not queued; once the queue has drained, the thread makes the store's live
 * bans agree with the kernel's, all of them (reconcile_store), so the lost
 * row is rewritten from the maps. Other rows that do not fit (a block, a
 * guess, a journal cursor) are counted as lost and logged.
 */
#ifndef XDPBAN_STORE_QUEUE_H
#define XDPBAN_STORE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/errmsg.h"
#include "kernel/pins.h"
#include "bans/store.h"

#define STORE_QUEUE_ROWS    65536 /* rows waiting at most (about 40 MB of bans) */
#define STORE_QUEUE_BUSY_MS 1000  /* the thread's wait for another process's lock */

struct store_queue;

struct store_queue_stats {
	size_t waiting;		/* rows queued, not yet written */
	uint64_t written;	/* rows written */
	uint64_t failures;	/* batches that failed and were retried */
	uint64_t lost;		/* rows that did not fit (bans and lifts: resynced) */
	bool failing;		/* the last batch failed */
	char error[ERRMSG_LEN]; /* why, when failing */
};

/*
 * Starts the thread, which takes store over (open it for the thread alone)
 * and reads maps (may be NULL: no kernel to check, as in the unit tests).
 * 0, or -errno with why (store then stays the caller's).
 */
int store_queue_start(struct store *store, const struct maps *maps, struct store_queue **out,
		      char why[ERRMSG_LEN]);

/*
 * Writes what is queued, for at most drain_ms, stops the thread and closes
 * its store. Returns the rows left unwritten (the next start adopts the
 * kernel's bans the store lacks; a lift left here is lost).
 */
size_t store_queue_stop(struct store_queue *queue, unsigned int drain_ms);

void store_queue_stats(struct store_queue *queue, struct store_queue_stats *out);

/*
 * Waits until every row queued before the call is written or timeout_ms
 * passed: 0, or -ETIMEDOUT (a test's and a clean stop's helper; the
 * daemon's loop never waits).
 */
int store_queue_flush(struct store_queue *queue, unsigned int timeout_ms);

/*
 * The queued forms of the store's writes (bans/store.h says what each
 * does). 0 when queued; -ENOBUFS when the queue is full (see above), or
 * -ENOMEM.
 */
int store_queue_bans(struct store_queue *queue, const struct store_ban *bans, size_t count,
		     int64_t now);
int store_queue_lift_bans(struct store_queue *queue, const struct lpm_key *keys, size_t count,
			  int64_t now, const char *reason);
int store_queue_expire(struct store_queue *queue, int64_t now);
int store_queue_block(struct store_queue *queue, const struct store_block *block, int64_t now);
int store_queue_allow_add(struct store_queue *queue, const struct lpm_key *keys, size_t count,
			  int64_t created_at, const char *source);
int store_queue_allow_remove(struct store_queue *queue, const struct lpm_key *keys, size_t count);
int store_queue_weak_found(struct store_queue *queue, const char *account, const char *class,
			   int64_t now);
int store_queue_weak_cleared(struct store_queue *queue, const char *account, int64_t now,
			     const char *reason);
int store_queue_guesses(struct store_queue *queue, const struct lpm_key *address, uint64_t count,
			int64_t now);
int store_queue_journal_cursor(struct store_queue *queue, const char *source, const char *cursor,
			       int64_t now);

#endif
