/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the daemon counts, and the one table through which the control
 * socket's status reply and the /metrics page both read it: a counter is
 * named once, here, for both.
 */
#ifndef XDPBAN_COUNTERS_H
#define XDPBAN_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "detect/rules.h"

/* Counted where it happens; only grows while the daemon runs. */
struct daemon_counters {
	uint64_t events;			/* taken in, from every source */
	uint64_t policy_events, control_events; /* log sources count their own */
	uint64_t ignored_allowlisted;
	uint64_t log_echoes; /* log failures not counted: the policy endpoint had reported them */
	uint64_t bans, blocks, apply_errors;
	/* Faults met and refusals made. */
	uint64_t refused_lockout;  /* bans not applied: they would lock the operator out */
	uint64_t refused_never;	   /* bans not applied: reserved addresses, default routers */
	uint64_t bans_retried;	   /* bans queued: a descriptor or memory lacked (retry.c) */
	uint64_t bans_waiting;	   /* queued now (a gauge, set when read) */
	uint64_t control_refused;  /* control connections from neither root nor the group */
	uint64_t ban_evictions;	   /* CIDR bans pushed out of a full map */
	uint64_t address_map_full; /* bans refused: the address table had no room */
	/* Weak passwords (passwords.c). */
	uint64_t weak_listed; /* accounts listed now (a gauge) */
	uint64_t weak_judged; /* successful logins' new pwhashes judged */
	uint64_t weak_found, weak_cleared;
	uint64_t weak_truncated;     /* reports whose pwhash Dovecot truncated */
	uint64_t weak_skipped;	     /* not judged: the thread's queue was full */
	uint64_t weak_judge_max_us;  /* the longest judgement's CPU time (a gauge) */
	uint64_t dictionary_guesses; /* failed logins whose password was a dictionary word */
};

/* The interface watch's counts (ifwatch.h). */
struct link_counters {
	uint64_t reattached, attach_failures, detach_failures;
};

/* The policy endpoint's connections (serve/http_guard.h); zero when it is off. */
struct http_counters {
	uint64_t open, timed_out, evicted, refused;
};

/* The store's writer thread (bans/store_queue.h); zero without a store. */
struct store_counters {
	uint64_t waiting, written, failures, lost;
};

/* Everything counter_table reads, taken at one moment. */
struct counter_readings {
	struct daemon_counters daemon;
	struct rules_counters rules;
	struct link_counters links;
	struct http_counters http;
	struct store_counters store;
};

enum counter_kind { COUNTER_TOTAL, COUNTER_GAUGE };

struct counter_def {
	const char *status; /* its key in the status reply; NULL: not there */
	bool fault;	    /* under the reply's "faults" */
	const char *metric; /* its /metrics name; NULL: not there */
	enum counter_kind kind;
	const char *help;
	size_t offset; /* of a uint64_t in struct counter_readings */
};

extern const struct counter_def counter_table[];
extern const size_t counter_table_len;

uint64_t counter_value(const struct counter_readings *readings, const struct counter_def *def);

#endif
