/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Following the systemd journal (libsystemd's sd-journal): the system's, a
 * directory of journal files (a container's, a test's) or one file, limited
 * to the entries of the programs a source reads (its matches), from where
 * the last run stopped (its cursor) but never further back than a bound
 * (older entries cannot make a rule fire).
 *
 * The caller watches journal_fd() in its event loop and calls
 * journal_poll() when it is readable (and now and then: the journal may
 * need it after rotations); this file does no waiting itself.
 */
#ifndef XDPBAN_JOURNAL_H
#define XDPBAN_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/errmsg.h"

#define JOURNAL_MATCHES_MAX 32
#define JOURNAL_CURSOR_LEN  256

/* The identifiers followed when a source names none: every program a parser reads. */
extern const char *const journal_default_idents[];

struct journal_entry {
	const char *ident;   /* SYSLOG_IDENTIFIER, "" without */
	unsigned int pid;    /* _PID (or SYSLOG_PID), 0 without */
	const char *message; /* MESSAGE, not NUL-terminated */
	size_t len;
	uint64_t realtime_usec; /* when the entry was written (wall clock) */
};

typedef void (*journal_entry_fn)(void *ctx, const struct journal_entry *entry);

struct journal {
	struct sd_journal *j;
	char cursor[JOURNAL_CURSOR_LEN]; /* of the last entry handed out; "" before any */
	uint64_t entries;		 /* handed out */
	uint64_t skipped_old;		 /* older than the bound when resuming */
	uint64_t not_before_usec;
};

struct journal_open_args {
	const char *path; /* NULL: the system journal; a directory; or one journal file */
	/*
	 * What to read: "FIELD=value" as sd_journal_add_match takes it, or a
	 * bare name for SYSLOG_IDENTIFIER=name; NULL-terminated; NULL: the
	 * defaults. Alternatives: an entry matching any of them is read.
	 */
	const char *const *matches;
	const char *cursor;	  /* resume after this entry; NULL or "": see from_start */
	bool from_start;	  /* without a cursor: from the start, else from the end */
	uint64_t not_before_usec; /* never hand out entries older than this (0: no bound) */
};

/* 0, or -errno with why naming the path. */
int journal_open(struct journal *jr, const struct journal_open_args *args, char why[ERRMSG_LEN]);
void journal_close(struct journal *jr);

/* The descriptor to watch (EPOLLIN), or -errno with why. */
int journal_fd(struct journal *jr, char why[ERRMSG_LEN]);

#define JOURNAL_SLICE 1000 /* entries handed out per journal_poll call at most */

/*
 * Hands out the entries not handed out yet, in order, up to JOURNAL_SLICE
 * of them (a flood of entries must leave the caller's loop turns for its
 * other work). 0: all handed out; 1: more are waiting, call again soon
 * (the descriptor may not wake up for them); -errno with why.
 */
int journal_poll(struct journal *jr, journal_entry_fn fn, void *ctx, char why[ERRMSG_LEN]);

/* "2026-11-27T12:00:00.123456+00:00" for an entry's time (UTC), into out[48]. */
void journal_format_time(uint64_t realtime_usec, char out[48]);

#endif
