// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Log line parsers: Dovecot (login processes and auth), Postfix smtpd SASL,
 * sshd. No regular expressions: each line is cut by its fixed structure,
 * from the end where an attacker controls the middle.
 *
 * The formats, from the servers' sources and checked against their real
 * logs (tests/fixtures/logs/):
 *
 * Dovecot 2.3 login process (login_log_format "%$: %s", default
 * login_log_format_elements, user sanitized and cut at 80 bytes, not
 * escaped: it may contain '>', ", rip=" or anything printable):
 *   imap-login: Disconnected: Aborted login by logging out (auth failed, 3
 *     attempts in 15 secs): user=<bob>, method=PLAIN, rip=198.51.100.5,
 *     lip=198.51.100.1, session=<F6pBdUJhn9rGM2QF>
 *   imap-login: Login: user=<bob>, method=PLAIN, rip=..., lip=..., mpid=N, session=<...>
 * Every element after user=<...> is Dovecot's own, so the last ", rip=" is
 * the real one. The session ID (base64 of time, port and the client's
 * address) must end the line and carry that address, which also rejects a
 * line cut short inside the user name.
 *
 * Dovecot 2.3 auth (auth_verbose=yes; user sanitized, cut at 64 bytes):
 *   auth: passwd-file(bob,198.51.100.5,<F6pBdUJhn9rGM2QF>): Password mismatch
 *   auth-worker(912): conn unix:auth-worker (pid=911,uid=105): auth-worker<1>:
 *     pam(bob,198.51.100.5,<...>): pam_authenticate() failed: Authentication failure ...
 *   NAME(USER,IP[,master][,<SESSION>]): MESSAGE [(given password: ...)]
 * Both USER and, with auth_verbose_passwords=plain, the message's tail are
 * the client's text: a line in which more than one "): " could end the
 * prefix is ignored, and so is one without a session carrying its address
 * (Postfix's and other SASL clients' requests, which log their own lines).
 * The login process's disconnect line then counts those attempts.
 *
 * Postfix 3.7 smtpd:
 *   warning: NAME[ADDR]: SASL LOGIN authentication failed: REPLY[, sasl_username=U]
 *   QUEUEID: client=NAME[ADDR], sasl_method=PLAIN, sasl_username=U
 * NAME is a validated host name or "unknown" and comes first.
 *
 * OpenSSH 9.2 sshd (messages made printable by strnvis):
 *   Failed password for [invalid user ]USER from ADDR port N ssh2
 *   Accepted password for USER from ADDR port N ssh2[: KEY INFO]
 *   Invalid user USER from ADDR port N
 *   Connection closed by (authenticating|invalid) user USER ADDR port N [preauth]
 *   error: maximum authentication attempts exceeded for [invalid user ]USER
 *     from ADDR port N ssh2 [preauth]
 * Parsed from the end: everything after USER is sshd's own.
 */
#define _GNU_SOURCE /* memmem, memrchr */
#include "detect/parser.h"

#include <stdio.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lib/text.h"
#include "lib/cidr.h"
#include "lib/util.h"

struct span {
	const char *p;
	size_t n;
};

#define LIT(s) (s), (sizeof(s) - 1)

static struct span span_cut(const char *from, const char *to)
{
	return (struct span){ from, (size_t)(to - from) };
}

static const char *span_end(struct span s)
{
	return s.p + s.n;
}

static bool starts(struct span s, const char *lit, size_t n)
{
	return s.n >= n && memcmp(s.p, lit, n) == 0;
}

static bool ends(struct span s, const char *lit, size_t n)
{
	return s.n >= n && memcmp(s.p + s.n - n, lit, n) == 0;
}

static bool equals(struct span s, const char *lit, size_t n)
{
	return s.n == n && memcmp(s.p, lit, n) == 0;
}

static struct span skip(struct span s, size_t n)
{
	if (n > s.n)
		n = s.n;
	return (struct span){ s.p + n, s.n - n };
}

static struct span drop_tail(struct span s, size_t n)
{
	return (struct span){ s.p, s.n - n };
}

static const char *find(struct span s, const char *lit, size_t n)
{
	return memmem(s.p, s.n, lit, n);
}

/* The last occurrence of lit in s, or NULL. */
static const char *rfind(struct span s, const char *lit, size_t n)
{
	size_t left;

	if (n == 0 || s.n < n)
		return NULL;
	left = s.n - n + 1; /* candidate starts: s.p .. s.p + left - 1 */
	while (left > 0) {
		const char *at = memrchr(s.p, lit[0], left);

		if (!at)
			return NULL;
		if (memcmp(at, lit, n) == 0)
			return at;
		left = (size_t)(at - s.p);
	}
	return NULL;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool all_digits(struct span s)
{
	if (s.n == 0)
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (!is_digit(s.p[i]))
			return false;
	return true;
}

/* Parses a decimal number of at most 9 digits. */
static bool parse_uint(struct span s, unsigned int *value)
{
	unsigned int v = 0;

	if (s.n == 0 || s.n > 9 || !all_digits(s))
		return false;
	for (size_t i = 0; i < s.n; i++)
		v = v * 10 + (unsigned int)(s.p[i] - '0');
	*value = v;
	return true;
}

static bool is_base64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '+' ||
	       c == '/' || c == '=';
}

/* Letters, digits, '-', '_', '.': host names, SASL methods, passdb names. */
static bool is_word(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' ||
	       c == '_' || c == '.';
}

static bool all_word(struct span s)
{
	for (size_t i = 0; i < s.n; i++)
		if (!is_word(s.p[i]))
			return false;
	return true;
}

/* An IPv4 or IPv6 address as the server printed it; IPv4 becomes ::ffff:a.b.c.d. */
static bool parse_addr(struct span s, struct addr_key *key)
{
	char text[INET6_ADDRSTRLEN + 1];
	struct in_addr v4;

	if (s.n == 0 || s.n >= sizeof(text))
		return false;
	memcpy(text, s.p, s.n);
	text[s.n] = '\0';
	if (!memchr(text, ':', s.n)) {
		if (inet_pton(AF_INET, text, &v4) != 1)
			return false;
		memset(key->addr, 0, 10);
		key->addr[10] = 0xff;
		key->addr[11] = 0xff;
		memcpy(&key->addr[12], &v4, 4);
		return true;
	}
	return inet_pton(AF_INET6, text, key->addr) == 1;
}

/* Text from the line, made safe to print (text.h). */
static void copy_text(char *dst, size_t size, struct span s)
{
	text_copy_clean(dst, size, s.p, s.n);
}

/* ---- state tables ---------------------------------------------------------------------- */

#define LINE_MAX_LEN	    16384 /* longer lines are no server's: user names are cut */
#define AUTH_CANDIDATES_MAX 8
#define SESSION_ID_MAX	    48 /* Dovecot's are 16 (IPv4) or 32 (IPv6) base64 characters */
#define PROBES		    8

struct session_slot {
	uint64_t stamp; /* 0: free */
	struct addr_key ip;
	unsigned int counted; /* failures already reported from auth lines */
	unsigned char len;
	char id[SESSION_ID_MAX];
};

struct conn_slot {
	uint64_t stamp; /* 0: free */
	struct addr_key ip;
	unsigned int port;
};

struct parser {
	enum log_source source;
	uint64_t clock; /* ticks once per stored entry: the age of slots */
	struct session_slot *sessions;
	struct conn_slot *conns;
};

static uint32_t hash_bytes(const void *data, size_t n, uint32_t h)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u; /* FNV-1a */
	return h;
}

static struct session_slot *session_find(struct parser *parser, struct span id, bool create)
{
	uint32_t h = hash_bytes(id.p, id.n, 2166136261u);
	struct session_slot *victim = NULL;

	for (unsigned int i = 0; i < PROBES; i++) {
		struct session_slot *slot = &parser->sessions[(h + i) % LOG_PARSER_SLOTS];

		if (slot->stamp && slot->len == id.n && memcmp(slot->id, id.p, id.n) == 0)
			return slot;
		if (!victim || slot->stamp < victim->stamp)
			victim = slot;
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->stamp = ++parser->clock;
	victim->len = (unsigned char)id.n;
	memcpy(victim->id, id.p, id.n);
	return victim;
}

static struct conn_slot *conn_find(struct parser *parser, const struct addr_key *ip,
				   unsigned int port, bool create)
{
	uint32_t h = hash_bytes(&port, sizeof(port), hash_bytes(ip, sizeof(*ip), 2166136261u));
	struct conn_slot *victim = NULL;

	for (unsigned int i = 0; i < PROBES; i++) {
		struct conn_slot *slot = &parser->conns[(h + i) % LOG_PARSER_SLOTS];

		if (slot->stamp && slot->port == port && memcmp(&slot->ip, ip, sizeof(*ip)) == 0)
			return slot;
		if (!victim || slot->stamp < victim->stamp)
			victim = slot;
	}
	if (!create)
		return NULL;
	victim->stamp = ++parser->clock;
	victim->ip = *ip;
	victim->port = port;
	return victim;
}

/* ---- records ----------------------------------------------------------------------------- */

static void record_start(struct log_record *out, enum log_source source, const char *service)
{
	memset(&out->event, 0, sizeof(out->event));
	out->source = source;
	out->event.attempts = 1;
	snprintf(out->event.service, sizeof(out->event.service), "%s", service);
}

/* ---- line header ------------------------------------------------------------------------ */

static bool clock_at(const char *p)
{
	return is_digit(p[0]) && is_digit(p[1]) && p[2] == ':' && is_digit(p[3]) &&
	       is_digit(p[4]) && p[5] == ':' && is_digit(p[6]) && is_digit(p[7]);
}

static size_t fraction(const char *p, size_t n)
{
	size_t i = 1;

	if (n < 2 || p[0] != '.' || !is_digit(p[1]))
		return 0;
	while (i < n && is_digit(p[i]))
		i++;
	return i;
}

/*
 * "Nov 27 12:00:00" (syslog, Dovecot's log_timestamp) or
 * "2026-11-27T12:00:00.123456+00:00" (RFC 3339; 'T' or ' '), with optional
 * fractions and zone. Returns its length, 0 when the line starts otherwise.
 */
static size_t timestamp_len(const char *p, size_t n)
{
	size_t i;

	if (n >= 15 && p[0] >= 'A' && p[0] <= 'Z' && p[1] >= 'a' && p[1] <= 'z' && p[2] >= 'a' &&
	    p[2] <= 'z' && p[3] == ' ' && (p[4] == ' ' || is_digit(p[4])) && is_digit(p[5]) &&
	    p[6] == ' ' && clock_at(p + 7))
		return 15 + fraction(p + 15, n - 15);
	if (n >= 19 && is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2]) && is_digit(p[3]) &&
	    p[4] == '-' && is_digit(p[5]) && is_digit(p[6]) && p[7] == '-' && is_digit(p[8]) &&
	    is_digit(p[9]) && (p[10] == 'T' || p[10] == ' ') && clock_at(p + 11)) {
		i = 19 + fraction(p + 19, n - 19);
		if (i < n && p[i] == 'Z')
			return i + 1;
		if (i < n && (p[i] == '+' || p[i] == '-')) {
			if (n - i >= 6 && is_digit(p[i + 1]) && is_digit(p[i + 2]) &&
			    p[i + 3] == ':' && is_digit(p[i + 4]) && is_digit(p[i + 5]))
				return i + 6;
			if (n - i >= 5 && is_digit(p[i + 1]) && is_digit(p[i + 2]) &&
			    is_digit(p[i + 3]) && is_digit(p[i + 4]))
				return i + 5;
		}
		return i;
	}
	return 0;
}

struct header {
	struct span time; /* empty when the line has none */
	struct span prog; /* "sshd", "postfix/smtpd", "dovecot", "imap-login"; empty: no tag */
	struct span msg;
};

/* The next space-separated token of s: its text, and s advanced past it and its spaces. */
static struct span next_token(struct span *s)
{
	const char *space = memchr(s->p, ' ', s->n);
	const char *end = space ? space : span_end(*s);
	struct span token = span_cut(s->p, end);

	*s = span_cut(end, span_end(*s));
	while (s->n && s->p[0] == ' ')
		*s = skip(*s, 1);
	return token;
}

/* "prog[pid]:" or "prog:" -> prog; false when token is not a tag. */
static bool tag_prog(struct span token, struct span *prog)
{
	const char *bracket;

	if (token.n < 2 || token.p[token.n - 1] != ':')
		return false;
	token = drop_tail(token, 1);
	if (token.p[token.n - 1] == ']') {
		bracket = memchr(token.p, '[', token.n);
		if (!bracket || bracket == token.p)
			return false;
		token = span_cut(token.p, bracket);
	}
	*prog = token;
	return true;
}

static void parse_header(struct span line, struct header *h)
{
	size_t tlen = timestamp_len(line.p, line.n);
	struct span rest = line, token;

	memset(h, 0, sizeof(*h));
	if (tlen) {
		if (tlen == line.n || line.p[tlen] != ' ') {
			h->msg = line;
			return;
		}
		h->time = span_cut(line.p, line.p + tlen);
		rest = skip(line, tlen);
		while (rest.n && rest.p[0] == ' ')
			rest = skip(rest, 1);
	}
	h->msg = rest;
	token = next_token(&rest);
	if (tag_prog(token, &h->prog)) {
		h->msg = rest;
		return;
	}
	if (!tlen)
		return; /* a bare message */
	/* syslog: a host name, then the tag */
	token = next_token(&rest);
	if (tag_prog(token, &h->prog))
		h->msg = rest;
	else
		h->msg = line; /* not a shape we know */
}

/* ---- Dovecot ------------------------------------------------------------------------------- */

/* "imap-login" -> "imap"; "managesieve-login" -> "sieve". */
static void dovecot_service(struct span proc, char service[EVENT_SERVICE_LEN])
{
	if (ends(proc, LIT("-login")))
		proc = drop_tail(proc, 6);
	if (equals(proc, LIT("managesieve")))
		proc = (struct span){ LIT("sieve") };
	copy_text(service, EVENT_SERVICE_LEN, proc);
}

static int base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (is_digit(c))
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Dovecot's session ID is base64 of 6 bytes of time, 2 of port and the
 * client's address (4 or 16 bytes): true when that address is ip.
 */
static bool session_has_ip(struct span session, const struct addr_key *ip)
{
	unsigned char raw[24];
	size_t len = session.n / 4 * 3;

	if (session.n % 4 || (len != 12 && len != 24))
		return false;
	for (size_t i = 0; i < session.n; i += 4) {
		int a = base64_value(session.p[i]), b = base64_value(session.p[i + 1]);
		int c = base64_value(session.p[i + 2]), d = base64_value(session.p[i + 3]);

		if (a < 0 || b < 0 || c < 0 || d < 0)
			return false;
		raw[i / 4 * 3] = (unsigned char)(a << 2 | b >> 4);
		raw[i / 4 * 3 + 1] = (unsigned char)((b & 15) << 4 | c >> 2);
		raw[i / 4 * 3 + 2] = (unsigned char)((c & 3) << 6 | d);
	}
	if (len == 12)
		return cidr_is_ipv4(ip->addr) && memcmp(raw + 8, &ip->addr[12], 4) == 0;
	return memcmp(raw + 8, ip->addr, 16) == 0; /* IPv6, or IPv4 kept IPv4-mapped */
}

/*
 * Elements of a login process line: "user=<U>, method=M, rip=R, lip=L, ...,
 * session=<S>". Fills ip, user and session. The line must end with the
 * session, and the session must carry the address: a line cut short (inside
 * a user name that reads "..., rip=203.0.113.9") is not taken for whole.
 */
static bool login_elements(struct span el, struct auth_event *event, struct span *session)
{
	const char *rip = NULL, *end, *at;
	struct span value, user;

	session->n = 0;
	session->p = el.p;
	if (starts(el, LIT("rip=")))
		rip = el.p;
	at = rfind(el, LIT(", rip="));
	if (at)
		rip = at + 2;
	if (!rip)
		return false;
	value = span_cut(rip + 4, span_end(el));
	end = find(value, LIT(", "));
	if (end)
		value = span_cut(value.p, end);
	if (!parse_addr(value, &event->ip))
		return false;

	/* user=<...> runs from the start to the '>' right before ", method=M" or this rip */
	if (starts(el, LIT("user=<")) && rip > el.p + 6) {
		const char *close = rip - 2; /* the ", " before rip= */
		const char *m = close;

		while (m > el.p && is_word(m[-1]))
			m--;
		if (m - el.p >= 9 && memcmp(m - 9, ", method=", 9) == 0)
			close = m - 9;
		if (close > el.p + 6 && close[-1] == '>') {
			user = span_cut(el.p + 6, close - 1);
			copy_text(event->user, sizeof(event->user), user);
		}
	}

	at = rfind(el, LIT(", session=<"));
	if (!at || at < rip || !ends(el, LIT(">")))
		return false;
	*session = span_cut(at + 11, span_end(el) - 1);
	return session_has_ip(*session, &event->ip);
}

static void forget_session(struct parser *parser, struct span session)
{
	struct session_slot *slot;

	if (!session.n)
		return;
	slot = session_find(parser, session, false);
	if (slot)
		slot->stamp = 0;
}

/*
 * "<reason> (auth failed, N attempts in S secs): <elements>" and
 * "Login: <elements>". The first "): " ends the reason: the user name comes
 * only after it.
 */
static int dovecot_login(struct parser *parser, struct span proc, struct span msg,
			 struct log_record *out)
{
	struct span el, extra, session;
	const char *close, *open;
	unsigned int attempts;
	bool ok = false;

	if (starts(msg, LIT("Login: "))) {
		record_start(out, LOG_SOURCE_DOVECOT, "");
		dovecot_service(proc, out->event.service);
		if (!login_elements(skip(msg, 7), &out->event, &session))
			return 0;
		forget_session(parser, session);
		out->event.outcome = AUTH_OK;
		return 1;
	}
	close = find(msg, LIT("): "));
	if (!close)
		return 0;
	open = memrchr(msg.p, '(', (size_t)(close - msg.p));
	if (!open)
		return 0;
	extra = span_cut(open + 1, close);
	if (starts(extra, LIT("auth failed, "))) {
		struct span count = skip(extra, 13);
		const char *space = memchr(count.p, ' ', count.n);

		if (!space || !starts(span_cut(space, span_end(count)), LIT(" attempts")))
			return 0;
		ok = parse_uint(span_cut(count.p, space), &attempts) && attempts > 0;
	} else if (starts(extra, LIT("disconnected while authenticating"))) {
		/* hung up while its one attempt was being judged (or delayed): a try */
		attempts = 1;
		ok = true;
	}
	if (!ok)
		return 0;

	record_start(out, LOG_SOURCE_DOVECOT, "");
	dovecot_service(proc, out->event.service);
	el = span_cut(close + 3, span_end(msg));
	if (!login_elements(el, &out->event, &session))
		return 0;
	if (session.n) {
		struct session_slot *slot = session_find(parser, session, false);

		if (slot) {
			if (memcmp(&slot->ip, &out->event.ip, sizeof(slot->ip)) == 0)
				attempts = attempts > slot->counted ? attempts - slot->counted : 0;
			slot->stamp = 0;
		}
	}
	if (attempts == 0)
		return 0; /* every attempt was counted from auth lines already */
	out->event.outcome = AUTH_FAIL;
	out->event.attempts = attempts;
	return 1;
}

static bool auth_failure_message(struct span m)
{
	return starts(m, LIT("Password mismatch")) || starts(m, LIT("unknown user")) ||
	       starts(m, LIT("pam_authenticate() failed"));
}

/*
 * The part before "): " of an auth line, after "NAME(": "USER,IP[,master][,<SESSION>]".
 * Parsed from the end; USER is whatever is left.
 */
static bool auth_prefix(struct span s, struct span *user, struct addr_key *ip, struct span *session)
{
	const char *comma;

	session->n = 0;
	session->p = s.p;
	if (ends(s, LIT(">"))) {
		const char *lt = memrchr(s.p, '<', s.n);

		if (!lt || lt == s.p || lt[-1] != ',')
			return false;
		*session = span_cut(lt + 1, span_end(s) - 1);
		if (session->n == 0 || session->n > SESSION_ID_MAX)
			return false;
		for (size_t i = 0; i < session->n; i++)
			if (!is_base64(session->p[i]))
				return false;
		s = span_cut(s.p, lt - 1);
	}
	if (ends(s, LIT(",master")))
		s = drop_tail(s, 7);
	comma = memrchr(s.p, ',', s.n);
	if (!comma)
		return false;
	if (!parse_addr(span_cut(comma + 1, span_end(s)), ip))
		return false;
	*user = span_cut(s.p, comma);
	return true;
}

static int dovecot_auth(struct parser *parser, struct span msg, struct log_record *out)
{
	const char *open, *at;
	struct span rest, user = { 0 }, session = { 0 };
	struct addr_key ip = { 0 };
	struct session_slot *slot;
	unsigned int found = 0, tried = 0;

	/* NAME( : a passdb name or a SASL mechanism */
	open = memchr(msg.p, '(', msg.n);
	if (!open || open == msg.p || !all_word(span_cut(msg.p, open)))
		return 0;
	rest = span_cut(open + 1, span_end(msg));
	/* Every "): " followed by a failure message is a candidate end of the prefix. */
	for (struct span scan = rest; (at = find(scan, LIT("): "))) != NULL;
	     scan = span_cut(at + 3, span_end(scan))) {
		struct span cand_user, cand_session, message = span_cut(at + 3, span_end(msg));
		struct addr_key cand_ip;

		if (!auth_failure_message(message))
			continue;
		if (++tried > AUTH_CANDIDATES_MAX)
			return 0; /* made to be slow: no server writes this */
		if (!auth_prefix(span_cut(rest.p, at), &cand_user, &cand_ip, &cand_session))
			continue;
		if (++found > 1)
			return 0; /* the client wrote one of them: which is unknowable */
		user = cand_user;
		ip = cand_ip;
		session = cand_session;
		if (find(message, LIT(" - trying the next passdb")))
			return 0; /* not the final verdict on this attempt */
	}
	/*
	 * Only lines of Dovecot's own login sessions count, and only when the
	 * session ID carries the address: other auth clients (Postfix, Exim)
	 * log their own failures, and may not tell Dovecot the client's
	 * address, which would leave a user name's last comma-separated part
	 * looking like one.
	 */
	if (!found || !session.n || !session_has_ip(session, &ip))
		return 0;

	record_start(out, LOG_SOURCE_DOVECOT, "dovecot");
	out->event.outcome = AUTH_FAIL;
	out->event.ip = ip;
	if (!equals(user, LIT("?")))
		copy_text(out->event.user, sizeof(out->event.user), user);
	slot = session_find(parser, session, true);
	if (slot->counted && memcmp(&slot->ip, &ip, sizeof(ip)) != 0)
		slot->counted = 0;
	slot->ip = ip;
	slot->counted++;
	return 1;
}

static struct span strip_level(struct span msg)
{
	if (starts(msg, LIT("Info: ")))
		return skip(msg, 6);
	return msg;
}

/* proc: "imap-login", "auth", "auth-worker(123)"; msg: what follows "proc: ". */
static int dovecot_proc(struct parser *parser, struct span proc, struct span msg,
			struct log_record *out)
{
	msg = strip_level(msg);
	if (ends(proc, LIT("-login")))
		return dovecot_login(parser, proc, msg, out);
	if (equals(proc, LIT("auth")))
		return dovecot_auth(parser, msg, out);
	if (starts(proc, LIT("auth-worker"))) {
		/* 2.3: "conn unix:auth-worker (pid=911,uid=105): auth-worker<1>: pam(...)" */
		if (starts(msg, LIT("conn "))) {
			const char *at = find(msg, LIT("): auth-worker<")), *gt;

			if (!at)
				return 0;
			msg = span_cut(at + 15, span_end(msg));
			gt = memchr(msg.p, '>', msg.n);
			if (!gt || !starts(span_cut(gt, span_end(msg)), LIT(">: ")))
				return 0;
			msg = span_cut(gt + 3, span_end(msg));
		}
		return dovecot_auth(parser, msg, out);
	}
	return 0;
}

static bool dovecot_process_name(struct span prog)
{
	return ends(prog, LIT("-login")) || equals(prog, LIT("auth")) ||
	       starts(prog, LIT("auth-worker"));
}

/* msg after "dovecot: ": "imap-login: ...", "auth: ...". */
static int dovecot_syslog(struct parser *parser, struct span msg, struct log_record *out)
{
	struct span rest = msg, proc;
	struct span token = next_token(&rest);

	if (!tag_prog(token, &proc)) /* "auth-worker(123):" is taken whole */
		return 0;
	return dovecot_proc(parser, proc, rest, out);
}

/* ---- Postfix -------------------------------------------------------------------------------- */

/* "NAME[ADDR]" then optional ":PORT"; returns what follows, or NULL. */
static const char *postfix_client(struct span s, struct addr_key *ip)
{
	const char *open = memchr(s.p, '[', s.n), *close, *p;

	if (!open || open == s.p || !all_word(span_cut(s.p, open)))
		return NULL;
	close = memchr(open, ']', (size_t)(span_end(s) - open));
	if (!close || !parse_addr(span_cut(open + 1, close), ip))
		return NULL;
	p = close + 1;
	if (p < span_end(s) && *p == ':' && p + 1 < span_end(s) && is_digit(p[1])) {
		p++;
		while (p < span_end(s) && is_digit(*p))
			p++;
	}
	return p;
}

static int postfix_smtpd(struct span msg, struct log_record *out)
{
	const char *p, *at;
	struct span rest;
	struct addr_key ip;

	if (starts(msg, LIT("warning: "))) {
		/* warning: NAME[ADDR]: SASL MECH authentication failed: REPLY[, sasl_username=U] */
		rest = skip(msg, 9);
		p = postfix_client(rest, &ip);
		if (!p)
			return 0;
		rest = span_cut(p, span_end(rest));
		if (!starts(rest, LIT(": SASL ")))
			return 0;
		rest = skip(rest, 7);
		p = memchr(rest.p, ' ', rest.n);
		if (!p || p == rest.p)
			return 0;
		rest = span_cut(p, span_end(rest));
		if (!starts(rest, LIT(" authentication failed")))
			return 0;
		record_start(out, LOG_SOURCE_POSTFIX, "smtp");
		out->event.outcome = AUTH_FAIL;
		out->event.ip = ip;
		at = find(rest, LIT(", sasl_username="));
		if (at && !equals(span_cut(at + 16, span_end(rest)), LIT("(unavailable)")))
			copy_text(out->event.user, sizeof(out->event.user),
				  span_cut(at + 16, span_end(rest)));
		return 1;
	}
	/* QUEUEID: client=NAME[ADDR], sasl_method=M, sasl_username=U[, sasl_sender=S] */
	at = find(msg, LIT(": client="));
	if (!at || at == msg.p || !all_word(span_cut(msg.p, at)))
		return 0;
	rest = span_cut(at + 9, span_end(msg));
	p = postfix_client(rest, &ip);
	if (!p)
		return 0;
	rest = span_cut(p, span_end(rest));
	if (!starts(rest, LIT(", sasl_method=")))
		return 0;
	record_start(out, LOG_SOURCE_POSTFIX, "smtp");
	out->event.outcome = AUTH_OK;
	out->event.ip = ip;
	at = find(rest, LIT(", sasl_username="));
	if (at) {
		struct span user = span_cut(at + 16, span_end(rest));
		const char *stop = find(user, LIT(", sasl_sender="));

		if (stop)
			user = span_cut(user.p, stop);
		copy_text(out->event.user, sizeof(out->event.user), user);
	}
	return 1;
}

/* ---- sshd -------------------------------------------------------------------------------------
 */

/*
 * Cuts "<sep>ADDR port N" from the end of s (sep: " from " or " "); sets
 * *before to what precedes it.
 */
static bool ssh_tail(struct span s, const char *sep, size_t sep_len, struct addr_key *ip,
		     unsigned int *port, struct span *before)
{
	const char *at = rfind(s, LIT(" port "));
	const char *addr_start;

	if (!at || !parse_uint(span_cut(at + 6, span_end(s)), port) || *port > 65535)
		return false;
	s = span_cut(s.p, at);
	if (sep_len == 1) {
		addr_start = memrchr(s.p, ' ', s.n);
		if (!addr_start)
			return false;
	} else {
		addr_start = rfind(s, sep, sep_len);
		if (!addr_start)
			return false;
		/* the address itself has no spaces */
		if (memchr(addr_start + sep_len, ' ', (size_t)(span_end(s) - addr_start) - sep_len))
			return false;
	}
	if (!parse_addr(span_cut(addr_start + sep_len, span_end(s)), ip))
		return false;
	*before = span_cut(s.p, addr_start);
	return true;
}

static struct span strip_invalid_user(struct span user)
{
	if (starts(user, LIT("invalid user ")))
		return skip(user, 13);
	return user;
}

static int sshd_close(struct parser *parser, struct span msg, struct log_record *out)
{
	/* Connection closed by (authenticating|invalid) user USER ADDR port N */
	static const struct {
		const char *text;
		size_t len;
	} heads[] = {
		{ LIT("Connection closed by authenticating user ") },
		{ LIT("Connection closed by invalid user ") },
		{ LIT("Connection reset by authenticating user ") },
		{ LIT("Connection reset by invalid user ") },
		{ LIT("Disconnected from authenticating user ") },
		{ LIT("Disconnected from invalid user ") },
	};
	struct span user;
	struct addr_key ip;
	unsigned int port;
	struct conn_slot *slot;

	for (size_t i = 0; i < ARRAY_SIZE(heads); i++) {
		if (!starts(msg, heads[i].text, heads[i].len))
			continue;
		if (!ssh_tail(skip(msg, heads[i].len - 1), LIT(" "), &ip, &port, &user))
			return 0;
		slot = conn_find(parser, &ip, port, false);
		if (slot) {
			slot->stamp = 0;
			return 0; /* its failures were counted from their own lines */
		}
		record_start(out, LOG_SOURCE_SSHD, "ssh");
		out->event.outcome = AUTH_FAIL;
		out->event.ip = ip;
		copy_text(out->event.user, sizeof(out->event.user), skip(user, 1));
		return 1;
	}
	return 0;
}

static int sshd_message(struct parser *parser, struct span msg, struct log_record *out)
{
	struct span user, method;
	struct addr_key ip;
	unsigned int port;
	const char *for_at;
	struct conn_slot *slot;
	bool accepted;

	if (ends(msg, LIT(" [preauth]")))
		msg = drop_tail(msg, 10);
	if (starts(msg, LIT("error: ")))
		msg = skip(msg, 7);

	accepted = starts(msg, LIT("Accepted "));
	if (accepted || starts(msg, LIT("Failed "))) {
		/* (Accepted|Failed) METHOD for USER from ADDR port N ssh2[: INFO] */
		struct span head = skip(msg, accepted ? 9 : 7);

		for_at = find(head, LIT(" for "));
		if (!for_at)
			return 0;
		method = span_cut(head.p, for_at);
		if (!ends(msg, LIT(" ssh2"))) {
			/* key details after "ssh2: " may be the client's (a certificate's ID):
			 * only a successful login's are trusted, its first " ssh2: " */
			const char *info;

			if (!accepted)
				return 0;
			info = find(head, LIT(" ssh2: "));
			if (!info)
				return 0;
			msg = span_cut(msg.p, info + 5);
		}
		if (!ssh_tail(drop_tail(msg, 5), LIT(" from "), &ip, &port, &user))
			return 0;
		if (span_end(user) < for_at + 5)
			return 0;
		user = strip_invalid_user(span_cut(for_at + 5, span_end(user)));
		if (accepted) {
			slot = conn_find(parser, &ip, port, false);
			if (slot)
				slot->stamp = 0;
			record_start(out, LOG_SOURCE_SSHD, "ssh");
			out->event.outcome = AUTH_OK;
		} else {
			/* "none" is the probe every client starts with; a refused key is routine */
			if (equals(method, LIT("none")) || equals(method, LIT("publickey")))
				return 0;
			conn_find(parser, &ip, port, true);
			record_start(out, LOG_SOURCE_SSHD, "ssh");
			out->event.outcome = AUTH_FAIL;
		}
		out->event.ip = ip;
		copy_text(out->event.user, sizeof(out->event.user), user);
		return 1;
	}
	if (starts(msg, LIT("maximum authentication attempts exceeded for ")) &&
	    ends(msg, LIT(" ssh2"))) {
		if (!ssh_tail(drop_tail(msg, 5), LIT(" from "), &ip, &port, &user))
			return 0;
		if (conn_find(parser, &ip, port, false))
			return 0; /* counted from its "Failed" lines */
		conn_find(parser, &ip, port, true);
		record_start(out, LOG_SOURCE_SSHD, "ssh");
		out->event.outcome = AUTH_FAIL;
		out->event.ip = ip;
		copy_text(out->event.user, sizeof(out->event.user),
			  strip_invalid_user(skip(user, 45)));
		return 1;
	}
	/* "Invalid user U from A port N" is not counted itself: a "Failed" line or
	 * a "Connection closed by invalid user" line follows it. */
	return sshd_close(parser, msg, out);
}

/* ---- dispatch ------------------------------------------------------------------------------- */

enum prog {
	PROG_NONE, /* the line has no tag */
	PROG_OTHER,
	PROG_DOVECOT,	      /* "dovecot:", the process name follows in the message */
	PROG_DOVECOT_PROCESS, /* the tag is Dovecot's process: its own log file */
	PROG_POSTFIX_SMTPD,
	PROG_SSHD,
};

static enum prog classify(struct span prog)
{
	const char *slash;

	if (prog.n == 0)
		return PROG_NONE;
	if (equals(prog, LIT("sshd")) || equals(prog, LIT("sshd-session")))
		return PROG_SSHD;
	if (equals(prog, LIT("dovecot")))
		return PROG_DOVECOT;
	slash = memrchr(prog.p, '/', prog.n);
	if (slash && equals(span_cut(slash + 1, span_end(prog)), LIT("smtpd")))
		return PROG_POSTFIX_SMTPD;
	if (dovecot_process_name(prog))
		return PROG_DOVECOT_PROCESS;
	return PROG_OTHER;
}

static int dispatch(struct parser *parser, const struct header *h, struct log_record *out)
{
	enum prog prog = classify(h->prog);
	enum log_source want = parser->source;

	switch (prog) {
	case PROG_SSHD:
		return (want == LOG_SOURCE_AUTO || want == LOG_SOURCE_SSHD) &&
		       sshd_message(parser, h->msg, out);
	case PROG_POSTFIX_SMTPD:
		return (want == LOG_SOURCE_AUTO || want == LOG_SOURCE_POSTFIX) &&
		       postfix_smtpd(h->msg, out);
	case PROG_DOVECOT:
		return (want == LOG_SOURCE_AUTO || want == LOG_SOURCE_DOVECOT) &&
		       dovecot_syslog(parser, h->msg, out);
	case PROG_DOVECOT_PROCESS:
		return (want == LOG_SOURCE_AUTO || want == LOG_SOURCE_DOVECOT) &&
		       dovecot_proc(parser, h->prog, h->msg, out);
	case PROG_OTHER:
	case PROG_NONE:
		break;
	}
	/* No tag, or another program name (a renamed syslog identity): a parser
	 * chosen by the operator still reads the bare message. */
	switch (want) {
	case LOG_SOURCE_SSHD:
		return sshd_message(parser, h->msg, out);
	case LOG_SOURCE_POSTFIX:
		return postfix_smtpd(h->msg, out);
	case LOG_SOURCE_DOVECOT:
		return prog == PROG_NONE ? dovecot_syslog(parser, h->msg, out) : 0;
	case LOG_SOURCE_AUTO:
		break;
	}
	return 0;
}

int parser_line(struct parser *parser, const char *line, size_t len, struct log_record *out)
{
	struct span s = { line, len };
	struct header h;
	int found;

	if (ends(s, LIT("\n")))
		s = drop_tail(s, 1);
	if (ends(s, LIT("\r")))
		s = drop_tail(s, 1);
	if (s.n < 8 || s.n > LINE_MAX_LEN)
		return 0;
	parse_header(s, &h);
	found = dispatch(parser, &h, out);
	if (found != 1)
		return 0;
	copy_text(out->timestamp, sizeof(out->timestamp), h.time);
	return 1;
}

/* ---- life cycle and names ------------------------------------------------------------------- */

const char *const parser_source_names[LOG_SOURCE_COUNT] = {
	[LOG_SOURCE_AUTO] = "auto",
	[LOG_SOURCE_DOVECOT] = "dovecot",
	[LOG_SOURCE_POSTFIX] = "postfix",
	[LOG_SOURCE_SSHD] = "sshd",
};

int parser_source_parse(const char *name, enum log_source *source)
{
	for (int i = 0; i < LOG_SOURCE_COUNT; i++) {
		if (strcmp(name, parser_source_names[i]) == 0) {
			*source = (enum log_source)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *parser_source_name(enum log_source source)
{
	if ((unsigned int)source >= LOG_SOURCE_COUNT)
		return "unknown";
	return parser_source_names[source];
}

struct parser *parser_new(enum log_source source)
{
	struct parser *parser = calloc(1, sizeof(*parser));

	if (!parser)
		return NULL;
	parser->source = source;
	parser->sessions = calloc(LOG_PARSER_SLOTS, sizeof(*parser->sessions));
	parser->conns = calloc(LOG_PARSER_SLOTS, sizeof(*parser->conns));
	if (!parser->sessions || !parser->conns) {
		parser_free(parser);
		return NULL;
	}
	return parser;
}

void parser_free(struct parser *parser)
{
	if (!parser)
		return;
	free(parser->sessions);
	free(parser->conns);
	free(parser);
}
