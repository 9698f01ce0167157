/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Authentication outcomes from Dovecot (2.0 to 2.4), Postfix (SMTP AUTH),
 * OpenSSH (7.4 to 10.x: sshd, sshd-session, sshd-auth), Exim and Roundcube
 * log lines, as syslog (traditional, RFC 3339, RFC 5424), the journal,
 * daemontools and the servers' own log files write them.
 *
 * The client address is taken only from the field the server itself wrote,
 * found from the line's fixed structure, never by searching text an attacker
 * controls (user names, SASL methods, passwords): a user name such as
 * "x rip=203.0.113.9" never yields 203.0.113.9. A line whose structure is
 * ambiguous yields nothing.
 *
 * The parser keeps a little state, bounded in size:
 * - Dovecot: failures already counted from auth lines (auth_verbose=yes),
 *   by login session, so that the login process's "(auth failed, N
 *   attempts)" line adds only the attempts not yet counted. An entry lives
 *   from the first auth line of a session to its disconnect or login line.
 *   Failures counted from lines without a session (older servers, PAM's
 *   own pam_unix lines) are kept by address, and the login process's line
 *   for that address adds only the attempts not yet counted.
 * - sshd: per connection (its process ID, or address and port), whether a
 *   failure was counted and its address, so that "Connection closed by
 *   authenticating user ... [preauth]", "maximum authentication attempts
 *   exceeded" and "Too many authentication failures" count only for
 *   connections that logged no failure, and a line without an address
 *   ("Disconnecting: Too many authentication failures") finds its own.
 * Each table holds LOG_PARSER_SLOTS entries; when full, the oldest entry in
 * the probed range is forgotten (its connection may then count once more).
 * Feed one parser the lines of one log, in order.
 */
#ifndef XDPBAN_LOGPARSE_H
#define XDPBAN_LOGPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/event.h"

enum log_source {
	LOG_SOURCE_AUTO, /* any of the below, recognised per line by program name */
	LOG_SOURCE_DOVECOT,
	LOG_SOURCE_POSTFIX,
	LOG_SOURCE_SSHD,
	LOG_SOURCE_EXIM,
	LOG_SOURCE_ROUNDCUBE,
	LOG_SOURCE_COUNT,
};

#define LOG_TIME_LEN	 48   /* "2026-11-27T12:00:00.123456789+00:00" and more */
#define LOG_PARSER_SLOTS 8192 /* entries of each state table */

/* "auto", "dovecot", "postfix", "sshd", "exim", "roundcube": also [source] type values. */
extern const char *const parser_source_names[LOG_SOURCE_COUNT];

/* One of those names: 0, or -EINVAL for another name. */
int parser_source_parse(const char *name, enum log_source *source);
const char *parser_source_name(enum log_source source);

struct log_record {
	enum log_source source;	      /* the parser that recognised the line, never AUTO */
	char timestamp[LOG_TIME_LEN]; /* as written in the line; "" when it has none */
	struct auth_event event;      /* user: control bytes and invalid UTF-8 become '?' */
	/*
	 * An SMTP-level rejection without a credential (Exim: relaying, sender
	 * verification, protocol abuse): event is a failure without a user, so
	 * only the IP rule counts it; logtest's outcome "rejected".
	 */
	bool rejected;
};

struct parser;

/* A parser for one log; AUTO recognises each line's program. NULL: out of memory. */
struct parser *parser_new(enum log_source source);
void parser_free(struct parser *parser);

/*
 * Parses one line (a trailing "\n" or "\r\n" is ignored; the line need not be
 * NUL-terminated). Returns 1 and fills out when the line is an
 * authentication outcome, 0 otherwise (out is then unspecified).
 */
int parser_line(struct parser *parser, const char *line, size_t len, struct log_record *out);

/*
 * The same for a message whose program is known without a header (the
 * journal's SYSLOG_IDENTIFIER and _PID): line is the bare message.
 */
int parser_line_as(struct parser *parser, const char *ident, unsigned int pid, const char *line,
		   size_t len, struct log_record *out);

/*
 * Whether a line that yielded nothing looks like an authentication line
 * all the same: it names a program this parser reads ("sshd", "dovecot",
 * ...; ident as for parser_line_as, or NULL) and has a word every outcome
 * line of that program has ("Failed ", "auth failed", "SASL ", ...). Many
 * such lines and no outcome: the server's format has changed (silence.h).
 */
bool parser_looks_like_auth(const struct parser *parser, const char *ident, const char *line,
			    size_t len);

#endif
