/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the parsers of one server family each (parse_dovecot.c, parse_sshd.c,
 * parse_postfix.c, parse_exim.c, parse_roundcube.c) share with parser.c,
 * which cuts the line's header and picks the family: spans of the line, the
 * address and text helpers, the parser's bounded state tables. Private to
 * detect/; parser.h is the API.
 *
 * Every family cuts its lines by their fixed structure. Where an attacker
 * controls text on both sides of the address (a user name before it, a
 * server's reply or key comment after it), every place the address could
 * be is collected, and the line counts only when they all name the same
 * address (parse_candidates).
 */
#ifndef XDPBAN_PARSE_H
#define XDPBAN_PARSE_H

#define _GNU_SOURCE /* memmem, memrchr */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "detect/parser.h"
#include "lib/util.h"

struct span {
	const char *p;
	size_t n;
};

#define LIT(s) (s), (sizeof(s) - 1)

/* A fixed text of a server's and its length, for tables of them: { LIT("...") }. */
struct literal {
	const char *text;
	size_t len;
};

static inline struct span span_cut(const char *from, const char *to)
{
	return (struct span){ from, (size_t)(to - from) };
}

static inline const char *span_end(struct span s)
{
	return s.p + s.n;
}

static inline bool starts(struct span s, const char *lit, size_t n)
{
	return s.n >= n && memcmp(s.p, lit, n) == 0;
}

static inline bool ends(struct span s, const char *lit, size_t n)
{
	return s.n >= n && memcmp(s.p + s.n - n, lit, n) == 0;
}

static inline bool equals(struct span s, const char *lit, size_t n)
{
	return s.n == n && memcmp(s.p, lit, n) == 0;
}

static inline struct span skip(struct span s, size_t n)
{
	if (n > s.n)
		n = s.n;
	return (struct span){ s.p + n, s.n - n };
}

static inline struct span drop_tail(struct span s, size_t n)
{
	if (n > s.n)
		n = s.n;
	return (struct span){ s.p, s.n - n };
}

static inline const char *find(struct span s, const char *lit, size_t n)
{
	return memmem(s.p, s.n, lit, n);
}

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Letters, digits, '-', '_', '.': host names, SASL methods, passdb names. */
static inline bool is_word(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' ||
	       c == '_' || c == '.';
}

/* Whether s starts (ends) with one of the count texts of table. */
static inline bool starts_any(struct span s, const struct literal *table, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (starts(s, table[i].text, table[i].len))
			return true;
	return false;
}

static inline bool ends_any(struct span s, const struct literal *table, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (ends(s, table[i].text, table[i].len))
			return true;
	return false;
}

/* The last occurrence of lit in s, or NULL. */
const char *parse_rfind(struct span s, const char *lit, size_t n);
static inline bool parse_all_digits(struct span s)
{
	if (s.n == 0)
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (!is_digit(s.p[i]))
			return false;
	return true;
}

static inline bool parse_all_word(struct span s)
{
	for (size_t i = 0; i < s.n; i++)
		if (!is_word(s.p[i]))
			return false;
	return true;
}

/* A decimal number of at most 9 digits. */
static inline bool parse_uint(struct span s, unsigned int *value)
{
	unsigned int v = 0;

	if (s.n == 0 || s.n > 9)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		if (!is_digit(s.p[i]))
			return false;
		v = v * 10 + (unsigned int)(s.p[i] - '0');
	}
	*value = v;
	return true;
}

/* An IPv4 or IPv6 address as the server printed it; IPv4 becomes ::ffff:a.b.c.d. */
bool parse_addr(struct span s, struct addr_key *key);

/* s without a leading lit ("Info: ", "error: "), or s. */
static inline struct span parse_strip(struct span s, const char *lit, size_t n)
{
	return starts(s, lit, n) ? skip(s, n) : s;
}

/* The next space-separated token of s: its text, and s advanced past it and its spaces. */
static inline struct span parse_next_token(struct span *s)
{
	const char *space = memchr(s->p, ' ', s->n);
	const char *end = space ? space : span_end(*s);
	struct span token = span_cut(s->p, end);

	*s = span_cut(end, span_end(*s));
	while (s->n && s->p[0] == ' ')
		*s = skip(*s, 1);
	return token;
}

/* "prog[pid]:", "prog:" or "[prog]:" -> prog (and pid's text); false when not a tag. */
static inline bool parse_tag(struct span token, struct span *prog, struct span *pid)
{
	const char *bracket;

	*pid = (struct span){ 0 };
	if (token.n < 2 || token.p[token.n - 1] != ':')
		return false;
	token = drop_tail(token, 1);
	if (token.p[token.n - 1] != ']') {
		*prog = token;
		return true;
	}
	if (token.p[0] == '[' && token.n > 2) {
		*prog = span_cut(token.p + 1, span_end(token) - 1); /* "[sshd]:" */
		return parse_all_word(*prog);
	}
	bracket = memchr(token.p, '[', token.n);
	if (!bracket || bracket == token.p)
		return false;
	*pid = span_cut(bracket + 1, span_end(token) - 1);
	*prog = span_cut(token.p, bracket);
	return true;
}

/*
 * The addresses a line could name: the line counts only when every
 * candidate is one address (an attacker who writes a second one into text
 * of theirs makes the line ambiguous, never wrongly attributed).
 */
struct candidates {
	unsigned int count;
	struct addr_key ip;
	bool conflict;
};

void parse_candidate(struct candidates *c, const struct addr_key *ip);
bool parse_candidates_one(const struct candidates *c, struct addr_key *ip);

/* pam_unix's "... ruser=R rhost=H[  user=U]" (after "authentication failure; "): H, and U or R. */
bool parse_pam_unix(struct span s, struct addr_key *ip, struct span *user);
/* A user name's hash, to tell names apart in the state tables; fold_case: as %Lu does. */
uint32_t parse_hash_name(struct span name, bool fold_case);
/* Starts a record: outcome AUTH_FAIL, one attempt, the service named. */
void parse_record(struct log_record *out, enum log_source source, const char *service);
/* Text from the line, made safe to print (text.h). */
void parse_copy_text(char *dst, size_t size, struct span s);

/* ---- state ---------------------------------------------------------------------------- */

#define SESSION_ID_MAX 48 /* Dovecot's are 16 (IPv4) or 32 (IPv6) base64 characters */

struct session_slot {
	uint64_t stamp; /* 0: free */
	struct addr_key ip;
	unsigned int counted; /* failures already reported from auth lines */
	unsigned char len;
	char id[SESSION_ID_MAX];
};

/*
 * One connection: sshd's by (address, port) or by its process (pid, the
 * address learnt from an earlier line), Dovecot's PAM failures by address.
 */
enum conn_kind {
	CONN_PORT,	  /* key: address and port */
	CONN_PID,	  /* key: pid; ip and known set once an address was logged */
	CONN_DOVECOT_PAM, /* key: address; counted: pam_unix failures not yet paired */
};

enum conn_flag {
	CONN_COUNTED = 1,  /* a failure of this connection was counted */
	CONN_KNOWN_IP = 2, /* ip holds the connection's address */
	CONN_PENDING = 4,  /* sshd gave up on it before its address was known */
	CONN_AHEAD = 8,	   /* counted ahead of the "Failed" line that repeats it */
	CONN_PAM = 16, /* a pam_unix failure no "Failed" line followed; counted: its user hash */
};

struct conn_slot {
	uint64_t stamp; /* 0: free */
	struct addr_key ip;
	unsigned int key; /* port or pid */
	unsigned char kind;
	unsigned char flags;
	unsigned int counted;
};

struct parser {
	enum log_source source;
	/* Exim: the address of the last "sender verify fail" line, whose rejection follows */
	struct addr_key exim_verify_ip;
	bool exim_verify_pending;
	unsigned int ip_memory; /* failures kept in CONN_DOVECOT_PAM slots: 0 skips their lookups */
	uint64_t clock;		/* ticks once per stored entry: the age of slots */
	struct session_slot *sessions;
	struct conn_slot *conns;
};

struct session_slot *parse_session(struct parser *parser, struct span id, bool create);
/* ip is ignored for CONN_PID. NULL when absent and !create. */
struct conn_slot *parse_conn(struct parser *parser, enum conn_kind kind, const struct addr_key *ip,
			     unsigned int key, bool create);

/* ---- the families ------------------------------------------------------------------------- */

/* What parser.c found in the line's header. */
struct line_head {
	struct span prog;     /* "sshd", "postfix/smtpd", "dovecot", "imap-login"; empty: no tag */
	struct span pid_text; /* the tag's process ID, read only by those who need it */
	unsigned int pid;     /* the journal's _PID; 0: see pid_text */
	struct span msg;
};

/* The line's process ID, 0 without. */
unsigned int parse_head_pid(const struct line_head *h);

/* Each returns 1 and fills out for an authentication outcome, else 0. */
int parse_dovecot(struct parser *parser, const struct line_head *h, struct log_record *out);
bool parse_dovecot_prog(struct span prog);
int parse_sshd(struct parser *parser, const struct line_head *h, struct log_record *out);
int parse_postfix(struct parser *parser, const struct line_head *h, struct log_record *out);
int parse_exim(struct parser *parser, const struct line_head *h, struct log_record *out);
int parse_roundcube(struct parser *parser, const struct line_head *h, struct log_record *out);
/* Whether Dovecot's session-less auth line for ip counted the failure Postfix reports now. */
bool parse_dovecot_echo(struct parser *parser, const struct addr_key *ip, const char *user);

#endif
