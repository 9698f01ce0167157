/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The thread that judges pwhashes (weak.h), so that the daemon's event loop
 * never does: a judgement costs up to a few hundred milliseconds of CPU,
 * and the policy endpoint answers in microseconds. The loop submits jobs
 * without waiting (a full queue refuses the job: it is dropped and
 * counted, never waited for) and takes the verdicts when weak_worker_fd()
 * is readable.
 *
 * Two queues: judgements of successful logins come first; checks of failed
 * logins (is this guess a dictionary word?) only when no judgement waits,
 * and with WEAK_WORD only (one hash per word): a spray of failures can
 * cost the thread at most its queue, never the judgements.
 */
#ifndef XDPBAN_WEAK_WORKER_H
#define XDPBAN_WEAK_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include "lib/errmsg.h"
#include "lib/event.h"
#include "serve/weak.h"

#define WEAK_JUDGE_QUEUE 1024 /* successful logins waiting to be judged */
#define WEAK_GUESS_QUEUE 256  /* failed logins waiting to be checked */

enum weak_job_kind {
	WEAK_JOB_JUDGE, /* a successful login: every rule */
	WEAK_JOB_GUESS, /* a failed login: dictionary words only */
	WEAK_JOB_KINDS
};

struct weak_job {
	enum weak_job_kind kind;
	char login[EVENT_USER_LEN];	 /* as Dovecot hashed it */
	uint8_t digest[WEAK_DIGEST_MAX]; /* the whole pwhash */
	struct addr_key ip;		 /* the client */
};

struct weak_verdict {
	struct weak_job job;
	enum weak_class class;
	uint64_t candidates; /* hashes computed */
	uint64_t cpu_ns;     /* the thread's CPU time for it */
};

struct weak_worker;

/*
 * Starts the thread. dict and hash are the caller's, read by the thread
 * until weak_worker_free() returns. NULL with the reason on error.
 */
struct weak_worker *weak_worker_new(const struct weak_dict *dict, const struct weak_hash *hash,
				    char why[ERRMSG_LEN]);

/*
 * Stops the thread after the job it is on (up to one judgement's time) and
 * frees the worker; jobs not started are dropped.
 */
void weak_worker_free(struct weak_worker *worker);

/* Queues a copy of job; false when its queue is full (nothing queued). */
bool weak_worker_submit(struct weak_worker *worker, const struct weak_job *job);

/* An eventfd, readable when verdicts are waiting. */
int weak_worker_fd(const struct weak_worker *worker);

/*
 * Moves up to max waiting verdicts into out, oldest first; how many. The
 * fd is read here: call again until it returns fewer than max.
 */
size_t weak_worker_take(struct weak_worker *worker, struct weak_verdict *out, size_t max);

#endif
