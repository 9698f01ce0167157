// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE /* gettid */
#include "bans/store_queue.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "bans/bans.h"
#include "bans/reconcile.h"
#include "lib/clock.h"
#include "lib/log.h"

#define BATCH_OPS	 256  /* operations per transaction at most */
#define GATHER_MS	 20   /* woken by a row, the writer waits this long for more */
#define RETRY_FIRST_MS	 100  /* after a failed batch; doubles each time */
#define RETRY_MAX_MS	 5000 /* up to this */
#define CHECKPOINT_MS	 1000 /* a TRUNCATE checkpoint at most this often, after writes */
#define WARNING_PERIOD_S 60   /* a lasting failure's warning, at most this often */
#define CURSOR_MAX	 512  /* a journal cursor's text, with its NUL */
#define WRITER_NICE	 10   /* the writer thread's nice value */

enum op_kind {
	OP_BANS,	 /* items: struct store_ban */
	OP_LIFT_BANS,	 /* items: struct lpm_key; word: the reason */
	OP_EXPIRE,	 /* no items */
	OP_BLOCK,	 /* items: one struct store_block */
	OP_ALLOW_ADD,	 /* items: struct lpm_key; word: the source */
	OP_ALLOW_REMOVE, /* items: struct lpm_key */
	OP_WEAK_FOUND,	 /* account; word: the class */
	OP_WEAK_CLEARED, /* account; word: the reason */
	OP_GUESSES,	 /* items: one struct lpm_key; number: the count */
	OP_CURSOR,	 /* items: the cursor's text; word: the source */
};

struct op {
	struct op *next;
	enum op_kind kind;
	int64_t now;
	uint64_t number;
	size_t count; /* items */
	size_t rows;  /* what it counts against STORE_QUEUE_ROWS */
	char word[STORE_SOURCE_LEN];
	char account[EVENT_USER_LEN];
	alignas(max_align_t) unsigned char items[];
};

struct store_queue {
	struct store *store; /* the thread's */
	const struct maps *maps;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* the thread: work, or stop */
	pthread_cond_t done; /* flushers: rows written */
	/* Under lock: */
	struct op *head, *tail;
	size_t waiting;
	uint64_t queued_total;	/* rows ever queued (flush waits for written to reach it) */
	uint64_t written_total; /* rows written or dropped as invalid */
	uint64_t failures, lost;
	bool resync; /* a ban or lift did not fit: agree with the kernel once drained */
	bool failing, stop;
	uint64_t drain_until_ns; /* once stop is set */
	char error[ERRMSG_LEN];
	struct log_limit lost_warning;	  /* the loop's (under lock) */
	struct log_limit failure_warning; /* the thread's */
};

/* ---- the loop's side: queueing ---- */

static struct op *op_new(enum op_kind kind, int64_t now, size_t count, size_t size)
{
	struct op *op = calloc(1, sizeof(*op) + count * size);

	if (!op)
		return NULL;
	op->kind = kind;
	op->now = now;
	op->count = count;
	op->rows = count ? count : 1;
	return op;
}

/* Bans and lifts that do not fit are rewritten from the maps later; the rest are lost. */
static int push(struct store_queue *queue, struct op *op)
{
	bool fits, kernel_row;

	if (!op)
		return -ENOMEM;
	kernel_row = op->kind == OP_BANS || op->kind == OP_LIFT_BANS;
	pthread_mutex_lock(&queue->lock);
	fits = queue->waiting + op->rows <= STORE_QUEUE_ROWS;
	if (fits) {
		op->next = NULL;
		if (queue->tail)
			queue->tail->next = op;
		else
			queue->head = op;
		queue->tail = op;
		queue->waiting += op->rows;
		queue->queued_total += op->rows;
		pthread_cond_signal(&queue->wake);
	} else {
		queue->lost += op->rows;
		queue->resync |= kernel_row && queue->maps;
		log_limited(&queue->lost_warning, WARNING_PERIOD_S, LOG_LEVEL_WARNING,
			    "store: %zu rows wait to be written, the most it queues: %s",
			    queue->waiting,
			    kernel_row && queue->maps
				? "bans and lifts are rewritten from the kernel once it drains"
				: "a row not queued is lost");
	}
	pthread_mutex_unlock(&queue->lock);
	if (!fits)
		free(op);
	return fits ? 0 : -ENOBUFS;
}

static void copy_word(char *to, size_t size, const char *word)
{
	snprintf(to, size, "%s", word ? word : "");
}

static int push_items(struct store_queue *queue, enum op_kind kind, const void *items, size_t count,
		      size_t size, int64_t now, const char *word)
{
	struct op *op = op_new(kind, now, count, size);

	if (op) {
		memcpy(op->items, items, count * size);
		copy_word(op->word, sizeof(op->word), word);
	}
	return push(queue, op);
}

int store_queue_bans(struct store_queue *queue, const struct store_ban *bans, size_t count,
		     int64_t now)
{
	return push_items(queue, OP_BANS, bans, count, sizeof(*bans), now, NULL);
}

int store_queue_lift_bans(struct store_queue *queue, const struct lpm_key *keys, size_t count,
			  int64_t now, const char *reason)
{
	return push_items(queue, OP_LIFT_BANS, keys, count, sizeof(*keys), now, reason);
}

int store_queue_expire(struct store_queue *queue, int64_t now)
{
	return push(queue, op_new(OP_EXPIRE, now, 0, 0));
}

int store_queue_block(struct store_queue *queue, const struct store_block *block, int64_t now)
{
	return push_items(queue, OP_BLOCK, block, 1, sizeof(*block), now, NULL);
}

int store_queue_allow_add(struct store_queue *queue, const struct lpm_key *keys, size_t count,
			  int64_t created_at, const char *source)
{
	return push_items(queue, OP_ALLOW_ADD, keys, count, sizeof(*keys), created_at, source);
}

int store_queue_allow_remove(struct store_queue *queue, const struct lpm_key *keys, size_t count)
{
	return push_items(queue, OP_ALLOW_REMOVE, keys, count, sizeof(*keys), 0, NULL);
}

static int push_account(struct store_queue *queue, enum op_kind kind, const char *account,
			int64_t now, const char *word)
{
	struct op *op = op_new(kind, now, 0, 0);

	if (op) {
		copy_word(op->account, sizeof(op->account), account);
		copy_word(op->word, sizeof(op->word), word);
	}
	return push(queue, op);
}

int store_queue_weak_found(struct store_queue *queue, const char *account, const char *class,
			   int64_t now)
{
	return push_account(queue, OP_WEAK_FOUND, account, now, class);
}

int store_queue_weak_cleared(struct store_queue *queue, const char *account, int64_t now,
			     const char *reason)
{
	return push_account(queue, OP_WEAK_CLEARED, account, now, reason);
}

int store_queue_guesses(struct store_queue *queue, const struct lpm_key *address, uint64_t count,
			int64_t now)
{
	struct op *op = op_new(OP_GUESSES, now, 1, sizeof(*address));

	if (op) {
		memcpy(op->items, address, sizeof(*address));
		op->number = count;
	}
	return push(queue, op);
}

int store_queue_journal_cursor(struct store_queue *queue, const char *source, const char *cursor,
			       int64_t now)
{
	struct op *op = op_new(OP_CURSOR, now, 0, 0);

	if (op && strlen(cursor) >= CURSOR_MAX) {
		free(op);
		return -EINVAL;
	}
	op = op ? realloc(op, sizeof(*op) + CURSOR_MAX) : NULL;
	if (op) {
		snprintf((char *)op->items, CURSOR_MAX, "%s", cursor);
		copy_word(op->word, sizeof(op->word), source);
	}
	return push(queue, op);
}

/* ---- the thread's side: writing ---- */

/*
 * Bans the kernel still holds (record) or no longer holds (lift), copied;
 * NULL only when out of memory. Without maps, all of them.
 */
static struct lpm_key *kernel_agrees(const struct store_queue *queue, const struct op *op,
				     size_t size, bool held, size_t *n)
{
	unsigned char *kept = malloc(op->count * size + 1);
	struct ban_entry entry;

	*n = 0;
	for (size_t i = 0; kept && i < op->count; i++) {
		const unsigned char *item = op->items + i * size;
		int found = queue->maps ? bans_lookup(queue->maps, (const void *)item, &entry) : 0;

		/* A lookup that fails for another reason than absence: as asked. */
		if (!queue->maps || (found == 0) == held || (found && found != -ENOENT))
			memcpy(kept + (*n)++ * size, item, size);
	}
	return (struct lpm_key *)kept;
}

_Static_assert(offsetof(struct store_ban, key) == 0, "kernel_agrees reads the key first");

static int write_kernel_rows(struct store_queue *queue, const struct op *op, char why[ERRMSG_LEN])
{
	bool record = op->kind == OP_BANS;
	size_t size = record ? sizeof(struct store_ban) : sizeof(struct lpm_key), n;
	void *rows = kernel_agrees(queue, op, size, record, &n);
	int err;

	if (!rows) {
		errmsg(why, "out of memory");
		return -ENOMEM;
	}
	if (!n)
		err = 0;
	else if (record)
		err = store_record_bans(queue->store, rows, n, op->now, why);
	else
		err = store_lift_bans(queue->store, rows, n, op->now, op->word, NULL, why);
	free(rows);
	return err;
}

static int expire(struct store *store, int64_t now, char why[ERRMSG_LEN])
{
	size_t blocks = 0;
	int err = store_expire(store, now, NULL, &blocks, why);

	/* Said before the commit: a failed batch is retried, and says it again. */
	if (!err && blocks)
		log_say(LOG_LEVEL_INFO, "%zu account block%s ended", blocks,
			blocks == 1 ? "" : "s");
	return err;
}

static int write_op(struct store_queue *queue, const struct op *op, char why[ERRMSG_LEN])
{
	struct store *store = queue->store;
	const void *items = op->items;

	switch (op->kind) {
	case OP_BANS:
	case OP_LIFT_BANS:
		return write_kernel_rows(queue, op, why);
	case OP_EXPIRE:
		return expire(store, op->now, why);
	case OP_BLOCK:
		return store_record_block(store, items, op->now, why);
	case OP_ALLOW_ADD:
		return store_allow_add(store, items, op->count, op->now, op->word, NULL, why);
	case OP_ALLOW_REMOVE:
		return store_allow_remove(store, items, op->count, NULL, why);
	case OP_WEAK_FOUND:
		return store_weak_found(store, op->account, op->word, op->now, why);
	case OP_WEAK_CLEARED:
		return store_weak_cleared(store, op->account, op->now, op->word, NULL, why);
	case OP_GUESSES:
		return store_guesses_add(store, items, op->number, op->now, why);
	case OP_CURSOR:
		return store_set_journal_cursor(store, op->word, items, op->now, why);
	}
	errmsg(why, "unknown store operation %d", (int)op->kind);
	return -EINVAL;
}

/* n operations from first, in one transaction: all or none. */
static int write_batch(struct store_queue *queue, const struct op *first, size_t n,
		       char why[ERRMSG_LEN])
{
	int err = store_batch_begin(queue->store, why);

	for (size_t i = 0; !err && i < n; i++, first = first->next)
		err = write_op(queue, first, why);
	if (err) {
		store_batch_rollback(queue->store);
		return err;
	}
	return store_batch_commit(queue->store, why);
}

static int resync(struct store_queue *queue, char why[ERRMSG_LEN])
{
	struct reconcile_counts counts;
	int err = store_batch_begin(queue->store, why);

	if (!err)
		err = reconcile_store(queue->maps, queue->store, clock_wall_s(), &counts, why);
	if (!err)
		err = store_batch_commit(queue->store, why);
	else
		store_batch_rollback(queue->store);
	if (!err)
		log_say(LOG_LEVEL_WARNING,
			"store: rows that did not fit its queue rewritten from the kernel: "
			"%zu bans recorded, %zu lifted",
			counts.adopted, counts.lifted);
	return err;
}

static uint64_t deadline_after(unsigned int ms)
{
	return clock_now_ns() + ms * NSEC_PER_MS;
}

/* Under lock: sleeps until woken or until_ns (CLOCK_MONOTONIC). */
static void wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, uint64_t until_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(until_ns / NSEC_PER_SEC),
			       .tv_nsec = (long)(until_ns % NSEC_PER_SEC) };

	pthread_cond_timedwait(cond, lock, &ts);
}

/* Under lock: the first n operations are done with (written, or dropped as invalid). */
static void retire(struct store_queue *queue, size_t n)
{
	while (n--) {
		struct op *op = queue->head;

		queue->head = op->next;
		if (!queue->head)
			queue->tail = NULL;
		queue->waiting -= op->rows;
		queue->written_total += op->rows;
		free(op);
	}
	pthread_cond_broadcast(&queue->done);
}

/* Under lock: what to write next; 0 when there is nothing. */
static size_t next_batch(const struct store_queue *queue)
{
	size_t n = 0;

	for (const struct op *op = queue->head; op && n < BATCH_OPS; op = op->next)
		n++;
	return n;
}

/*
 * Under lock: the wait before a retry. New rows do not cut it short (a
 * flood of bans against a full disk would retry at the rate of the bans),
 * a stop does once its drain time is over.
 */
static void backoff(struct store_queue *queue, unsigned int ms)
{
	uint64_t until = deadline_after(ms);

	for (;;) {
		if (queue->stop && queue->drain_until_ns < until)
			until = queue->drain_until_ns;
		if (clock_now_ns() >= until)
			return;
		wait_until(&queue->wake, &queue->lock, until);
	}
}

/*
 * After a failure the head is written alone, so that a write the store
 * refuses as invalid (-EINVAL) is found and dropped instead of holding
 * every later one back.
 */
static void after_failure(struct store_queue *queue, size_t n, int err, const char *why,
			  unsigned int *retry_ms)
{
	size_t waiting;

	if (err == -EINVAL && n == 1) {
		log_say(LOG_LEVEL_ERROR, "store: dropped a write it refuses: %s", why);
		retire(queue, 1);
		return;
	}
	waiting = queue->waiting;
	queue->failures++;
	queue->failing = true;
	snprintf(queue->error, sizeof(queue->error), "%s", why);
	pthread_mutex_unlock(&queue->lock);
	log_limited(&queue->failure_warning, WARNING_PERIOD_S, LOG_LEVEL_WARNING,
		    "store: %s; %zu rows wait in memory and are retried", why, waiting);
	pthread_mutex_lock(&queue->lock);
	backoff(queue, *retry_ms);
	*retry_ms = *retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : *retry_ms * 2;
}

static void after_success(struct store_queue *queue, size_t n, unsigned int *retry_ms)
{
	retire(queue, n);
	*retry_ms = RETRY_FIRST_MS;
	if (!queue->failing)
		return;
	queue->failing = false;
	log_say(LOG_LEVEL_INFO, "store: writing again; %zu rows still wait", queue->waiting);
	queue->failure_warning = (struct log_limit){ 0 };
}

static void checkpoint(struct store_queue *queue)
{
	char why[ERRMSG_LEN];

	/* A reader keeps a TRUNCATE from finishing (-EBUSY): the next one finishes it. */
	if (store_checkpoint(queue->store, NULL, why) && !queue->failing)
		log_say(LOG_LEVEL_DEBUG, "store: %s", why);
}

static bool should_stop(const struct store_queue *queue)
{
	return queue->stop && (!queue->head || clock_now_ns() >= queue->drain_until_ns);
}

static void *writer(void *arg)
{
	struct store_queue *queue = arg;
	unsigned int retry_ms = RETRY_FIRST_MS;
	uint64_t checkpoint_due = 0; /* 0: nothing written since the last */
	char why[ERRMSG_LEN];

	/*
	 * Behind the event loop for the CPU: rows may wait, answers may not (on
	 * a busy 2-core machine the writer took its share from the loop).
	 */
	setpriority(PRIO_PROCESS, (id_t)gettid(), WRITER_NICE);
	pthread_mutex_lock(&queue->lock);
	while (!should_stop(queue)) {
		size_t n = next_batch(queue);
		int err;

		if (!n && !queue->resync) {
			wait_until(&queue->wake, &queue->lock,
				   checkpoint_due ? checkpoint_due : deadline_after(RETRY_MAX_MS));
			if (queue->head && !queue->stop)
				backoff(queue, GATHER_MS);
		} else if (!n) {
			pthread_mutex_unlock(&queue->lock);
			err = resync(queue, why);
			pthread_mutex_lock(&queue->lock);
			queue->resync = err != 0;
			if (err)
				after_failure(queue, 0, err, why, &retry_ms);
		} else {
			/* The loop only appends: the first n stay put while unlocked. */
			const struct op *first = queue->head;

			pthread_mutex_unlock(&queue->lock);
			err = write_batch(queue, first, queue->failing ? 1 : n, why);
			pthread_mutex_lock(&queue->lock);
			if (err)
				after_failure(queue, queue->failing ? 1 : n, err, why, &retry_ms);
			else
				after_success(queue, queue->failing ? 1 : n, &retry_ms);
			if (!err && !checkpoint_due)
				checkpoint_due = deadline_after(CHECKPOINT_MS);
		}
		if (checkpoint_due && clock_now_ns() >= checkpoint_due) {
			pthread_mutex_unlock(&queue->lock);
			checkpoint(queue);
			pthread_mutex_lock(&queue->lock);
			checkpoint_due = 0;
		}
	}
	pthread_mutex_unlock(&queue->lock);
	checkpoint(queue);
	return NULL;
}

/* ---- starting and stopping ---- */

static void queue_free(struct store_queue *queue)
{
	while (queue->head) {
		struct op *op = queue->head;

		queue->head = op->next;
		free(op);
	}
	pthread_cond_destroy(&queue->done);
	pthread_cond_destroy(&queue->wake);
	pthread_mutex_destroy(&queue->lock);
	free(queue);
}

int store_queue_start(struct store *store, const struct maps *maps, struct store_queue **out,
		      char why[ERRMSG_LEN])
{
	struct store_queue *queue = calloc(1, sizeof(*queue));
	pthread_condattr_t attr;
	sigset_t all, owner;
	int err;

	if (!queue) {
		errmsg(why, "out of memory");
		return -ENOMEM;
	}
	queue->store = store;
	queue->maps = maps;
	pthread_mutex_init(&queue->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&queue->wake, &attr);
	pthread_cond_init(&queue->done, &attr);
	pthread_condattr_destroy(&attr);
	/* Waiting is the thread's job: long enough for a CLI command, short enough to stop. */
	store_set_busy_timeout(store, STORE_QUEUE_BUSY_MS);
	store_autocheckpoint(store, false);
	/* The thread takes no signal: the owner's signalfd must get them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &owner);
	err = -pthread_create(&queue->thread, NULL, writer, queue);
	pthread_sigmask(SIG_SETMASK, &owner, NULL);
	if (err) {
		errmsg(why, "cannot start the store's writer thread: %s", strerror(-err));
		store_autocheckpoint(store, true);
		store_set_busy_timeout(store, STORE_BUSY_MS);
		queue_free(queue);
		return err;
	}
	*out = queue;
	return 0;
}

size_t store_queue_stop(struct store_queue *queue, unsigned int drain_ms)
{
	size_t left;

	if (!queue)
		return 0;
	pthread_mutex_lock(&queue->lock);
	queue->stop = true;
	queue->drain_until_ns = deadline_after(drain_ms);
	pthread_cond_signal(&queue->wake);
	pthread_mutex_unlock(&queue->lock);
	pthread_join(queue->thread, NULL);
	left = queue->waiting;
	store_close(queue->store);
	queue_free(queue);
	return left;
}

void store_queue_stats(struct store_queue *queue, struct store_queue_stats *out)
{
	pthread_mutex_lock(&queue->lock);
	out->waiting = queue->waiting;
	out->written = queue->written_total;
	out->failures = queue->failures;
	out->lost = queue->lost;
	out->failing = queue->failing;
	snprintf(out->error, sizeof(out->error), "%s", queue->failing ? queue->error : "");
	pthread_mutex_unlock(&queue->lock);
}

int store_queue_flush(struct store_queue *queue, unsigned int timeout_ms)
{
	uint64_t until = deadline_after(timeout_ms);
	int err = 0;

	pthread_mutex_lock(&queue->lock);
	for (uint64_t target = queue->queued_total;
	     queue->written_total < target || queue->resync;) {
		if (clock_now_ns() >= until) {
			err = -ETIMEDOUT;
			break;
		}
		wait_until(&queue->done, &queue->lock, until);
	}
	pthread_mutex_unlock(&queue->lock);
	return err;
}
