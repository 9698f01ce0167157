/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The daemon's log: one line per message on stderr, "xdpban[LEVEL]: ...",
 * which journald (or the test's log file) keeps; lines above the level
 * set ([daemon] log_level) are dropped. A line is written whole, in one
 * write, even when threads log at once; a message over 2 KiB is cut.
 */
#ifndef XDPBAN_LOG_H
#define XDPBAN_LOG_H

#include <stdint.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_INFO, /* default: one line per decision (ban, unban, block, expiry) */
	LOG_LEVEL_DEBUG,
	LOG_LEVELS
};

/* "error", "warning", "info", "debug": the config file's names, as the lines show them. */
extern const char *const log_level_names[LOG_LEVELS];

/* Its name, or "?" for a value out of range. */
const char *log_level_name(enum log_level level);

/* The most detailed level written from now on. */
void log_set_level(enum log_level level);

void log_say(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A message a lasting fault repeats (a full disk, a locked store): said at
 * once, then at most once per interval_s, with ", N more since" counting
 * those held back. Zero-initialise one per message; it may be used from one
 * thread only (any thread may log).
 */
struct log_limit {
	uint64_t said_ns; /* CLOCK_MONOTONIC; 0: never said */
	unsigned long held;
};

void log_limited(struct log_limit *limit, unsigned int interval_s, enum log_level level,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
