// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Log parsers: every line kind, Dovecot's auth/disconnect dedupe, sshd's
 * per-connection counting, addresses only from the server's own fields,
 * garbage, and the fixtures written by real Dovecot, Postfix and sshd.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "unit.h"
#include "lib/cidr.h"
#include "detect/parser.h"

#define ATTACKER      "203.0.113.9" /* every crafted user name names this address */
#define ATTACKER_EXIM "192.0.2.99"  /* the same in generate-chroot.sh's (Exim, Roundcube) */

/* ---- helpers ------------------------------------------------------------------------------ */

static const char *ip_text(const struct log_record *r)
{
	static char text[CIDR_TEXT_LEN];
	struct lpm_key key;

	cidr_from_addr_key(&key, &r->event.ip);
	cidr_format(&key, text);
	return text;
}

static int feed(struct parser *p, const char *line, struct log_record *r)
{
	return parser_line(p, line, strlen(line), r);
}

/* A Dovecot session ID for an address: base64 of 6 bytes of time, 2 of port, the address. */
static const char *session_for(const char *ip)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static char out[48];
	unsigned char raw[24] = { 0x17, 0xaa, 0x41, 0x75, 0x42, 0x61, 0x9f, 0xda };
	size_t len = 8, o = 0;

	if (inet_pton(AF_INET, ip, raw + 8) == 1)
		len += 4;
	else if (inet_pton(AF_INET6, ip, raw + 8) == 1)
		len += 16;
	else
		fail_msg("bad address %s", ip);
	for (size_t i = 0; i < len; i += 3) {
		unsigned int v = raw[i] << 16 | raw[i + 1] << 8 | raw[i + 2];

		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = b64[v >> 6 & 63];
		out[o++] = b64[v & 63];
	}
	out[o] = '\0';
	return out;
}

/* line with "{S}" replaced by the session ID of ip, as Dovecot would write it */
static const char *with_session(const char *line, const char *ip)
{
	static char out[1024];
	const char *at = strstr(line, "{S}");

	if (!at)
		return line;
	snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - line), line, session_for(ip), at + 3);
	return out;
}

/* One line through a fresh parser. */
static int parse1(enum log_source source, const char *line, struct log_record *r)
{
	struct parser *p = parser_new(source);
	int found;

	assert_non_null(p);
	found = feed(p, line, r);
	parser_free(p);
	return found;
}

static void expect(enum log_source source, const char *line, enum auth_outcome outcome,
		   const char *ip, const char *user, const char *service, unsigned int attempts)
{
	struct log_record r;

	line = with_session(line, ip);
	if (parse1(source, line, &r) != 1)
		fail_msg("not recognised: %s", line);
	assert_int_equal(r.event.outcome, outcome);
	assert_string_equal(ip_text(&r), ip);
	assert_string_equal(r.event.user, user);
	assert_string_equal(r.event.service, service);
	assert_int_equal(r.event.attempts, attempts);
	assert_int_not_equal(r.source, LOG_SOURCE_AUTO);
}

/* An SMTP-level rejection without a credential: a failure of ip, no user, rejected set. */
static void expect_rejected(const char *line, const char *ip)
{
	struct log_record r;

	if (parse1(LOG_SOURCE_EXIM, line, &r) != 1)
		fail_msg("not recognised: %s", line);
	assert_true(r.rejected);
	assert_int_equal(r.event.outcome, AUTH_FAIL);
	assert_string_equal(ip_text(&r), ip);
	assert_string_equal(r.event.user, "");
	assert_string_equal(r.event.service, "smtp");
	assert_int_equal(r.event.attempts, 1);
}

static void expect_nothing(enum log_source source, const char *line)
{
	struct log_record r;

	line = with_session(line, "192.0.2.5");
	if (parse1(source, line, &r) != 0)
		fail_msg("recognised (%s, user '%s'): %s", ip_text(&r), r.event.user, line);
}

/* ---- names --------------------------------------------------------------------------------- */

static void source_names_round_trip(void **state)
{
	enum log_source s;

	(void)state;
	for (int i = 0; i < LOG_SOURCE_COUNT; i++) {
		assert_int_equal(parser_source_parse(parser_source_name(i), &s), 0);
		assert_int_equal(s, i);
	}
	assert_string_equal(parser_source_name(LOG_SOURCE_POSTFIX), "postfix");
	assert_string_equal(parser_source_name(LOG_SOURCE_ROUNDCUBE), "roundcube");
	assert_int_not_equal(parser_source_parse("courier", &s), 0);
	assert_int_not_equal(parser_source_parse("", &s), 0);
	assert_string_equal(parser_source_name(99), "unknown");
}

/* ---- Dovecot login processes ------------------------------------------------------------------
 */

static void dovecot_disconnect_lines(void **state)
{
	(void)state;
	/* syslog, Debian's rsyslog (RFC 3339), journald, Dovecot's own log file */
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 13:58:58 mail dovecot: imap-login: Disconnected: Aborted login by logging "
	       "out (auth failed, 3 attempts in 15 secs): user=<bob>, method=PLAIN, "
	       "rip=198.51.100.5, lip=198.51.100.1, session=<F6pBdUJhn9rGM2QF>",
	       AUTH_FAIL, "198.51.100.5", "bob", "imap", 3);
	expect(LOG_SOURCE_DOVECOT,
	       "2026-11-27T12:00:00.123456+00:00 mail dovecot: pop3-login: Disconnected (auth "
	       "failed, 12 attempts in 40 secs): user=<alice@example.net>, method=LOGIN, "
	       "rip=192.0.2.5, lip=192.0.2.1, TLS, session=<{S}>",
	       AUTH_FAIL, "192.0.2.5", "alice@example.net", "pop3", 12);
	expect(LOG_SOURCE_AUTO,
	       "Nov  7 09:01:02 mx dovecot[812]: submission-login: Aborted login (auth failed, 1 "
	       "attempts in 2 secs): user=<bob>, method=PLAIN, rip=192.0.2.5, lip=192.0.2.1, "
	       "session=<{S}>",
	       AUTH_FAIL, "192.0.2.5", "bob", "submission", 1);
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 14:04:51 imap-login: Info: Disconnected: Connection closed (auth failed, 2 "
	       "attempts in 6 secs): user=<bob>, method=PLAIN, rip=198.51.100.5, "
	       "lip=198.51.100.1, session=<KEzVikJhs7fGM2QF>",
	       AUTH_FAIL, "198.51.100.5", "bob", "imap", 2);
	expect(LOG_SOURCE_DOVECOT,
	       "2026-11-27 12:00:00 managesieve-login: Info: Disconnected (auth failed, 4 attempts "
	       "in 9 secs): user=<>, method=PLAIN, rip=2001:db8::5, lip=2001:db8::1, session=<{S}>",
	       AUTH_FAIL, "2001:db8::5", "", "sieve", 4);
	/* hung up while the (delayed) answer to its one attempt was pending */
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 12:00:00 mail dovecot: imap-login: Disconnected (disconnected while "
	       "authenticating, waited 2 secs): user=<bob>, method=PLAIN, rip=192.0.2.5, "
	       "lip=192.0.2.1, session=<{S}>",
	       AUTH_FAIL, "192.0.2.5", "bob", "imap", 1);
	/* a session of another address (an anonymised log), no rip= in the user name */
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 12:00:00 mail dovecot: imap-login: Disconnected (auth failed, 1 "
	       "attempts in 2 secs): user=<bob>, method=PLAIN, rip=192.0.2.6, "
	       "session=<F6pBdUJhn9rAAAIF>",
	       AUTH_FAIL, "192.0.2.6", "bob", "imap", 1);
	/* a password sent in the clear where that is refused: an attempt, unchecked */
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 12:00:00 mail dovecot: imap-login: Disconnected (tried to use "
	       "disallowed plaintext auth): user=<>, rip=192.0.2.5, lip=192.0.2.1, "
	       "session=<{S}>",
	       AUTH_FAIL, "192.0.2.5", "", "imap", 1);
	/* no user element at all (a custom login_log_format_elements) */
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 12:00:00 mail dovecot: imap-login: Disconnected (auth failed, 1 attempts in "
	       "2 secs): rip=192.0.2.5, lip=192.0.2.1, session=<{S}>",
	       AUTH_FAIL, "192.0.2.5", "", "imap", 1);
}

static void dovecot_lines_that_are_no_failure(void **state)
{
	(void)state;
	expect_nothing(LOG_SOURCE_AUTO,
		       "Nov 27 13:59:20 mail dovecot: imap-login: Disconnected: Aborted login by "
		       "logging out (no auth attempts in 0 secs): user=<>, rip=198.51.100.5, "
		       "lip=198.51.100.1, session=<YUV/d0Jhr5XGM2QF>");
	expect_nothing(LOG_SOURCE_AUTO,
		       "Nov 27 14:04:33 mail dovecot: imap-login: Disconnected: Auth process "
		       "broken (disconnected before auth was ready, waited 0 secs): user=<>, "
		       "rip=198.51.100.5, lip=198.51.100.1, session=<i9clikJhSeDGM2QF>");
	expect_nothing(LOG_SOURCE_AUTO,
		       "Nov 27 13:59:13 mail dovecot: imap(bob)<25937><c7cudkJhc7bGM2QF>: "
		       "Disconnected: Logged out in=8 out=469 deleted=0 expunged=0");
	expect_nothing(LOG_SOURCE_AUTO, "Nov 27 14:00:46 mail dovecot: master: Dovecot v2.3.19.1 "
					"(9b53102964) starting up for imap, pop3");
	/* zero attempts, an address that is none */
	expect_nothing(
	    LOG_SOURCE_AUTO,
	    "Nov 27 12:00:00 mail dovecot: imap-login: Disconnected (auth failed, 0 "
	    "attempts in 2 secs): user=<bob>, method=PLAIN, rip=192.0.2.5, session=<{S}>");
	expect_nothing(LOG_SOURCE_AUTO,
		       "Nov 27 12:00:00 mail dovecot: imap-login: Disconnected (auth failed, 1 "
		       "attempts in 2 secs): user=<bob>, method=PLAIN, rip=, lip=192.0.2.1, "
		       "session=<{S}>");
	/* the session is not this address's and the user name spells a rip=; the line
	 * does not end with its session */
	expect_nothing(LOG_SOURCE_AUTO,
		       "Nov 27 12:00:00 mail dovecot: imap-login: Disconnected (auth failed, 1 "
		       "attempts in 2 secs): user=<x, rip=192.0.2.6>, method=PLAIN, rip=192.0.2.6, "
		       "session=<{S}>");
	expect_nothing(
	    LOG_SOURCE_AUTO,
	    "Nov 27 12:00:00 mail dovecot: imap-login: Disconnected (auth failed, 1 "
	    "attempts in 2 secs): user=<bob>, method=PLAIN, rip=192.0.2.5, session=<{S}>, "
	    "lip=192.0.2.1");
	/* another program's line, and a Dovecot line given to the sshd parser */
	expect_nothing(
	    LOG_SOURCE_AUTO,
	    "Nov 27 12:00:00 mail other: imap-login: Disconnected (auth failed, 1 "
	    "attempts in 2 secs): user=<bob>, method=PLAIN, rip=192.0.2.5, session=<{S}>");
	expect_nothing(
	    LOG_SOURCE_SSHD,
	    "Nov 27 12:00:00 mail dovecot: imap-login: Disconnected (auth failed, 1 "
	    "attempts in 2 secs): user=<bob>, method=PLAIN, rip=192.0.2.5, session=<{S}>");
}

static void dovecot_successful_login(void **state)
{
	(void)state;
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 13:59:13 mail dovecot: imap-login: Login: user=<bob>, method=PLAIN, "
	       "rip=198.51.100.5, lip=198.51.100.1, mpid=25937, session=<c7cudkJhc7bGM2QF>",
	       AUTH_OK, "198.51.100.5", "bob", "imap", 1);
	expect(LOG_SOURCE_DOVECOT,
	       "Nov 27 14:04:59 imap-login: Info: Login: user=<bob>, method=PLAIN, "
	       "rip=198.51.100.5, lip=198.51.100.1, mpid=28235, session=<HtU4i0JhP8HGM2QF>",
	       AUTH_OK, "198.51.100.5", "bob", "imap", 1);
}

/* ---- Dovecot auth process -----------------------------------------------------------------------
 */

static void dovecot_auth_lines(void **state)
{
	char line[512];

	(void)state;
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 14:00:52 mail dovecot: auth: passwd-file(bob,198.51.100.5,<VOD3fEJh5b/"
	       "GM2QF>): Password mismatch",
	       AUTH_FAIL, "198.51.100.5", "bob", "dovecot", 1);
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 14:01:29 mail dovecot: auth: passwd-file(nosuch6,2001:db8:1::5,<bv4tf0JhR78g"
	       "AQ24AAEAAAAAAAAAAAAF>): unknown user",
	       AUTH_FAIL, "2001:db8:1::5", "nosuch6", "dovecot", 1);
	snprintf(line, sizeof(line),
		 "2026-11-27T12:00:00.5+01:00 mail dovecot[9]: auth-worker(123): pam(bob,192.0.2.5,"
		 "<%s>): pam_authenticate() failed: Authentication failure (password mismatch?)",
		 session_for("192.0.2.5"));
	expect(LOG_SOURCE_AUTO, line, AUTH_FAIL, "192.0.2.5", "bob", "dovecot", 1);
	/* Dovecot 2.3.19's auth worker, as Debian 12 logs it */
	expect(LOG_SOURCE_AUTO,
	       "2026-11-27T14:13:25.117654+00:00 mail dovecot: auth-worker(912): conn "
	       "unix:auth-worker (pid=911,uid=105): auth-worker<1>: pam(xlpcarol,198.51.100.5,"
	       "<qP+vqUJhJ6zGM2QF>): pam_authenticate() failed: Authentication failure (Password "
	       "mismatch?)",
	       AUTH_FAIL, "198.51.100.5", "xlpcarol", "dovecot", 1);
	snprintf(line, sizeof(line),
		 "Nov 27 12:00:00 auth-worker(77): Info: sql(bob@example.net,192.0.2.5,<%s>): "
		 "unknown user",
		 session_for("192.0.2.5"));
	expect(LOG_SOURCE_DOVECOT, line, AUTH_FAIL, "192.0.2.5", "bob@example.net", "dovecot", 1);
	snprintf(line, sizeof(line),
		 "Nov 27 12:00:00 mail dovecot: auth: ldap(bob,192.0.2.5,master,<%s>): Password "
		 "mismatch (for LDAP bind)",
		 session_for("192.0.2.5"));
	expect(LOG_SOURCE_AUTO, line, AUTH_FAIL, "192.0.2.5", "bob", "dovecot", 1);
	snprintf(
	    line, sizeof(line),
	    "Nov 27 12:00:00 mail dovecot: auth: cram-md5(?,192.0.2.5,<%s>): Password mismatch "
	    "(SHA1 of given password: 0123abcd)",
	    session_for("192.0.2.5"));
	expect(LOG_SOURCE_AUTO, line, AUTH_FAIL, "192.0.2.5", "", "dovecot", 1);
	/* not the last passdb: the next one decides */
	snprintf(
	    line, sizeof(line),
	    "Nov 27 12:00:00 mail dovecot: auth: passwd-file(bob,192.0.2.5,<%s>): unknown user "
	    "(given password: x) - trying the next passdb",
	    session_for("192.0.2.5"));
	expect_nothing(LOG_SOURCE_AUTO, line);
	/* no session (Postfix's SASL requests, Dovecot before 2.2): by structure */
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 14:03:19 mail dovecot: auth: passwd-file(bob,198.51.100.5): Password "
	       "mismatch",
	       AUTH_FAIL, "198.51.100.5", "bob", "dovecot", 1);
	/* ... unless the user name has a comma: "x,192.0.2.9" could be its end */
	expect_nothing(LOG_SOURCE_AUTO, "Nov 27 14:03:19 mail dovecot: auth: passwd-file(bob,"
					"x,198.51.100.5): Password mismatch");
	/* a session that is not this address's */
	expect_nothing(LOG_SOURCE_AUTO, "Nov 27 14:00:52 mail dovecot: auth: passwd-file(bob,"
					"198.51.100.6,<VOD3fEJh5b/GM2QF>): Password mismatch");
	expect_nothing(LOG_SOURCE_AUTO, "Nov 27 14:00:52 mail dovecot: auth: Error: passwd-file("
					"bob,198.51.100.5,<VOD3fEJh5b/GM2QF>): Password data is "
					"not valid");
}

/* Both kinds of line for one session: every failure counts once. */
static void dovecot_auth_and_disconnect_count_once(void **state)
{
	struct parser *p = parser_new(LOG_SOURCE_AUTO);
	struct log_record r;
	unsigned int attempts = 0;
	char line[512];
	const char *s5 = "F6pBdUJhn9rGM2QF"; /* 198.51.100.5 */

	(void)state;
	assert_non_null(p);
	/* three auth lines, then the disconnect line with 3 attempts: 3 in all */
	snprintf(line, sizeof(line),
		 "Nov 27 14:00:52 mail dovecot: auth: passwd-file(bob,198.51.100.5,<%s>): Password "
		 "mismatch",
		 s5);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(feed(p, line, &r), 1);
		attempts += r.event.attempts;
	}
	snprintf(line, sizeof(line),
		 "Nov 27 14:01:07 mail dovecot: imap-login: Disconnected: Aborted login by logging "
		 "out (auth failed, 3 attempts in 15 secs): user=<bob>, method=PLAIN, "
		 "rip=198.51.100.5, lip=198.51.100.1, session=<%s>",
		 s5);
	assert_int_equal(feed(p, line, &r), 0);
	assert_int_equal(attempts, 3);
	/* the session is forgotten: the same line again counts in full */
	assert_int_equal(feed(p, line, &r), 1);
	assert_int_equal(r.event.attempts, 3);

	/* one auth line of three attempts (the others not logged): the rest, 2, later */
	snprintf(
	    line, sizeof(line),
	    "Nov 27 14:02:00 mail dovecot: auth: passwd-file(alice,198.51.100.5,<%s>): unknown "
	    "user",
	    s5);
	assert_int_equal(feed(p, line, &r), 1);
	snprintf(
	    line, sizeof(line),
	    "Nov 27 14:02:09 mail dovecot: pop3-login: Disconnected (auth failed, 3 attempts in "
	    "9 secs): user=<alice>, method=PLAIN, rip=198.51.100.5, lip=198.51.100.1, "
	    "session=<%s>",
	    s5);
	assert_int_equal(feed(p, line, &r), 1);
	assert_int_equal(r.event.attempts, 2);
	assert_string_equal(r.event.service, "pop3");

	/* failures, then a successful login on the same session: the login counts none */
	snprintf(line, sizeof(line),
		 "Nov 27 14:03:00 mail dovecot: auth: passwd-file(bob,198.51.100.5,<%s>): Password "
		 "mismatch",
		 s5);
	assert_int_equal(feed(p, line, &r), 1);
	snprintf(line, sizeof(line),
		 "Nov 27 14:03:05 mail dovecot: imap-login: Login: user=<bob>, method=PLAIN, "
		 "rip=198.51.100.5, lip=198.51.100.1, mpid=1, session=<%s>",
		 s5);
	assert_int_equal(feed(p, line, &r), 1);
	assert_int_equal(r.event.outcome, AUTH_OK);
	parser_free(p);
}

/* Far more sessions than the table holds: bounded, and nothing breaks. */
static void dovecot_session_table_is_bounded(void **state)
{
	struct parser *p = parser_new(LOG_SOURCE_DOVECOT);
	struct log_record r;
	char line[256];
	unsigned long long counted = 0;

	(void)state;
	for (unsigned int i = 0; i < 4 * LOG_PARSER_SLOTS; i++) {
		char ip[32], session[48];

		snprintf(ip, sizeof(ip), "198.51.%u.%u", (i >> 8) & 255, i & 255);
		snprintf(session, sizeof(session), "%s", session_for(ip));
		/* the time bytes vary too, as they do */
		session[0] = "ABCDEFGH"[(i >> 16) & 7];
		snprintf(
		    line, sizeof(line),
		    "Nov 27 12:00:00 mail dovecot: auth: passwd-file(u%u,%s,<%s>): unknown user", i,
		    ip, session);
		counted += (unsigned int)feed(p, line, &r);
	}
	assert_int_equal(counted, 4 * LOG_PARSER_SLOTS);
	parser_free(p);
}

/* ---- Postfix --------------------------------------------------------------------------------- */

static void postfix_sasl_failures(void **state)
{
	(void)state;
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 14:03:20 mail postfix/smtpd[27548]: warning: unknown[198.51.100.5]: SASL "
	       "LOGIN authentication failed: (reason unavailable), sasl_username=bob",
	       AUTH_FAIL, "198.51.100.5", "bob", "smtp", 1);
	expect(LOG_SOURCE_POSTFIX,
	       "Nov 27 12:00:00 mail postfix/smtpd[123]: warning: unknown[192.0.2.5]: SASL LOGIN "
	       "authentication failed: UGFzc3dvcmQ6",
	       AUTH_FAIL, "192.0.2.5", "", "smtp", 1);
	expect(LOG_SOURCE_AUTO,
	       "2026-11-27T14:03:31.000000+00:00 mail postfix/submission/smtpd[27548]: warning: "
	       "client6.example.net[198.51.100.6]: SASL CRAM-MD5 authentication failed: (reason "
	       "unavailable), sasl_username=bob",
	       AUTH_FAIL, "198.51.100.6", "bob", "smtp", 1);
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 12:00:00 mail postfix/smtps/smtpd[9]: warning: unknown[2001:db8::5]:41234: "
	       "SASL PLAIN authentication failed: authentication failure",
	       AUTH_FAIL, "2001:db8::5", "", "smtp", 1);
	/* any case, an empty reason */
	expect(
	    LOG_SOURCE_AUTO,
	    "Nov  4 09:11:01 mail postfix/submission/smtpd[27133]: warning: unknown[192.0.2.150]: "
	    "SASL login authentication failed:",
	    AUTH_FAIL, "192.0.2.150", "", "smtp", 1);
	/* the server's trouble, not the client's guess (Dovecot's auth restarting) */
	expect_nothing(
	    LOG_SOURCE_AUTO,
	    "Nov 27 14:03:30 mail postfix/smtpd[27548]: warning: unknown[198.51.100.5]: "
	    "SASL PLAIN authentication failed: Connection lost to authentication server, "
	    "sasl_username=(unavailable)");
	expect_nothing(LOG_SOURCE_AUTO,
		       "Jan 14 16:18:16 xxx postfix/smtpd[14933]: warning: host[192.0.2.5]: SASL "
		       "CRAM-MD5 authentication failed: Invalid authentication mechanism");
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 14:04:25 mail postfix/smtpd[27548]: 5E67B108376: client=unknown["
	       "198.51.100.5], sasl_method=PLAIN, sasl_username=bob",
	       AUTH_OK, "198.51.100.5", "bob", "smtp", 1);
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 12:00:00 mail postfix/submission/smtpd[9]: 4dLx2X1q9Zz9sWN: client=mx."
	       "example.net[192.0.2.5]:4444, sasl_method=LOGIN, sasl_username=bob@example.net, "
	       "sasl_sender=x",
	       AUTH_OK, "192.0.2.5", "bob@example.net", "smtp", 1);

	expect_nothing(LOG_SOURCE_AUTO, "Nov 27 14:03:45 mail postfix/smtpd[27548]: warning: "
					"client6.example.net[198.51.100.6]: SASL LOGIN "
					"authentication aborted");
	expect_nothing(LOG_SOURCE_AUTO, "Nov 27 14:04:25 mail postfix/smtpd[1]: 5E67B108376: "
					"client=unknown[198.51.100.5]");
	expect_nothing(LOG_SOURCE_AUTO, "Nov 27 14:03:11 mail postfix/smtpd[27548]: connect from "
					"unknown[198.51.100.5]");
	expect_nothing(LOG_SOURCE_DOVECOT, "Nov 27 14:03:20 mail postfix/smtpd[27548]: warning: "
					   "unknown[198.51.100.5]: SASL LOGIN authentication "
					   "failed: x");
	/* postfix/smtp (the client) is not smtpd */
	expect_nothing(LOG_SOURCE_AUTO, "Nov 27 14:03:20 mail postfix/smtp[2]: warning: unknown["
					"198.51.100.5]: SASL LOGIN authentication failed: x");
}

/* ---- sshd ---------------------------------------------------------------------------------------
 */

static void sshd_lines(void **state)
{
	(void)state;
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 14:05:13 mail sshd[28430]: Failed password for root from 198.51.100.5 port "
	       "45115 ssh2",
	       AUTH_FAIL, "198.51.100.5", "root", "ssh", 1);
	expect(LOG_SOURCE_SSHD,
	       "2026-11-27T14:05:25.123+00:00 mail sshd[28449]: Failed password for invalid user "
	       "nosuchuser from 198.51.100.5 port 57527 ssh2",
	       AUTH_FAIL, "198.51.100.5", "nosuchuser", "ssh", 1);
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 12:00:00 mail sshd-session[5]: Failed keyboard-interactive/pam for bob from "
	       "2001:db8::5 port 4242 ssh2",
	       AUTH_FAIL, "2001:db8::5", "bob", "ssh", 1);
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 14:05:26 mail sshd[28455]: Accepted password for xlpcarol from 198.51.100.6 "
	       "port 54775 ssh2",
	       AUTH_OK, "198.51.100.6", "xlpcarol", "ssh", 1);
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 14:05:36 mail sshd[28500]: Accepted publickey for root from 198.51.100.5 "
	       "port 40259 ssh2: ED25519 SHA256:CF+5RrDPLulxCsiYbQr2J6Fw+CgMM2ytWJOCRBIa7fg",
	       AUTH_OK, "198.51.100.5", "root", "ssh", 1);
	/* a connection that logged no failure and gave up while authenticating */
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 14:05:37 mail sshd[28608]: Connection closed by authenticating user root "
	       "198.51.100.5 port 34185 [preauth]",
	       AUTH_FAIL, "198.51.100.5", "root", "ssh", 1);
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 14:05:37 mail sshd[28612]: Connection closed by invalid user nosuchkeyuser "
	       "198.51.100.5 port 44497 [preauth]",
	       AUTH_FAIL, "198.51.100.5", "nosuchkeyuser", "ssh", 1);
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 12:00:00 mail sshd[1]: error: maximum authentication attempts exceeded for "
	       "invalid user admin from 192.0.2.5 port 22 ssh2 [preauth]",
	       AUTH_FAIL, "192.0.2.5", "admin", "ssh", 1);
	/* the journal's bare message, with the parser chosen */
	expect(LOG_SOURCE_SSHD, "Failed password for bob from 192.0.2.5 port 4242 ssh2", AUTH_FAIL,
	       "192.0.2.5", "bob", "ssh", 1);

	/* counted ahead of its "Failed" line (sshd_counts_each_connection_once) */
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 14:05:23 mail sshd[28449]: Invalid user nosuchuser from 198.51.100.5 port "
	       "57527",
	       AUTH_FAIL, "198.51.100.5", "nosuchuser", "ssh", 1);
	expect_nothing(LOG_SOURCE_AUTO, "Nov 27 12:00:00 mail sshd[1]: Failed none for invalid "
					"user x from 192.0.2.5 port 22 ssh2");
	expect_nothing(LOG_SOURCE_AUTO, "Nov 27 12:00:00 mail sshd[1]: Failed publickey for bob "
					"from 192.0.2.5 port 22 ssh2: RSA SHA256:abc");
	expect_nothing(LOG_SOURCE_AUTO, "Nov 27 14:05:11 mail sshd[28430]: pam_unix(sshd:auth): "
					"authentication failure; logname= uid=0 euid=0 tty=ssh "
					"ruser= rhost=198.51.100.5  user=root");
	expect_nothing(LOG_SOURCE_AUTO, "Nov 27 14:05:26 mail sshd[28462]: Disconnected from user "
					"xlpcarol 198.51.100.6 port 54775");
	expect_nothing(LOG_SOURCE_AUTO, "Nov 27 12:00:00 mail sshd[1]: Connection closed by "
					"192.0.2.5 port 22 [preauth]");
	expect_nothing(LOG_SOURCE_AUTO, "Nov 27 12:00:00 mail sshd[1]: Failed password for bob "
					"from 192.0.2.5 port 99999 ssh2");
	expect_nothing(LOG_SOURCE_POSTFIX, "Nov 27 14:05:13 mail sshd[28430]: Failed password for "
					   "root from 198.51.100.5 port 45115 ssh2");
}

/*
 * Failures are counted from "Failed" lines ("Invalid user" stands for the
 * first of its connection's); closing lines only for connections without.
 */
static void sshd_counts_each_connection_once(void **state)
{
	static const char *const lines[] = {
		"Nov 27 14:05:13 mail sshd[1]: Failed password for root from 192.0.2.5 port 45115 "
		"ssh2",
		"Nov 27 14:05:16 mail sshd[1]: Failed password for root from 192.0.2.5 port 45115 "
		"ssh2",
		"Nov 27 14:05:16 mail sshd[1]: Connection closed by authenticating user root "
		"192.0.2.5 "
		"port 45115 [preauth]",
		"Nov 27 14:05:18 mail sshd[2]: Failed password for root from 192.0.2.5 port 53123 "
		"ssh2",
		"Nov 27 14:05:20 mail sshd[2]: Failed password for root from 192.0.2.5 port 53123 "
		"ssh2",
		"Nov 27 14:05:22 mail sshd[2]: Failed password for root from 192.0.2.5 port 53123 "
		"ssh2",
		"Nov 27 14:05:23 mail sshd[2]: error: maximum authentication attempts exceeded for "
		"root from 192.0.2.5 port 53123 ssh2 [preauth]",
		"Nov 27 14:05:23 mail sshd[2]: Disconnecting authenticating user root 192.0.2.5 "
		"port "
		"53123: Too many authentication failures [preauth]",
		"Nov 27 14:05:23 mail sshd[3]: Invalid user nosuchuser from 192.0.2.5 port 57527",
		"Nov 27 14:05:25 mail sshd[3]: Failed password for invalid user nosuchuser from "
		"192.0.2.5 port 57527 ssh2",
		"Nov 27 14:05:26 mail sshd[3]: Connection closed by invalid user nosuchuser "
		"192.0.2.5 "
		"port 57527 [preauth]",
		/* the same port later: a new connection, nothing remembered */
		"Nov 27 15:00:00 mail sshd[4]: Connection closed by authenticating user root "
		"192.0.2.5 "
		"port 45115 [preauth]",
	};
	static const int expected[] = { 1, 1, 0, 1, 1, 1, 0, 0, 1, 0, 0, 1 };
	struct parser *p = parser_new(LOG_SOURCE_SSHD);
	struct log_record r;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		if (feed(p, lines[i], &r) != expected[i])
			fail_msg("line %zu: expected %d: %s", i, expected[i], lines[i]);
	}
	parser_free(p);
}

/* ---- every generation ------------------------------------------------------------------------ */

static void dovecot_generations(void **state)
{
	(void)state;
	/* 2.4: "Login aborted: REASON (HUMAN) (CODE)": the code decides */
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 12:00:00 mail dovecot: imap-login: Login aborted: Logged out (auth failed, "
	       "2 attempts in 9 secs) (auth_failed): user=<bob>, method=PLAIN, rip=192.0.2.5, "
	       "lip=192.0.2.1, session=<{S}>",
	       AUTH_FAIL, "192.0.2.5", "bob", "imap", 2);
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 12:00:00 mail dovecot: imap-login: Login aborted: Connection closed: "
	       "read(size=1003) failed: Connection reset by peer (tried to use disallowed "
	       "cleartext auth, 1 attempts in 0 secs) (cleartext_auth_disabled): user=<bob>, "
	       "rip=192.0.2.5, lip=192.0.2.1, session=<{S}>",
	       AUTH_FAIL, "192.0.2.5", "bob", "imap", 1);
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 12:00:00 proxy dovecot: pop3-login: Login aborted: Disconnected (proxy "
	       "dest authentication failure to 192.0.2.200, 1 attempts in 1 secs) "
	       "(proxy_dest_auth_failed): user=<bob>, method=PLAIN, rip=192.0.2.5, "
	       "lip=192.0.2.1, session=<{S}>",
	       AUTH_FAIL, "192.0.2.5", "bob", "pop3", 1);
	expect_nothing(LOG_SOURCE_AUTO,
		       "Nov 27 12:00:00 mail dovecot: imap-login: Login aborted: Logged out (no "
		       "auth attempts in 0 secs) (no_auth_attempts): user=<>, rip=192.0.2.5, "
		       "lip=192.0.2.1, session=<{S}>");
	expect_nothing(LOG_SOURCE_AUTO,
		       "Nov 27 12:00:00 mail dovecot: imap-login: Login aborted: Connection closed "
		       "(disconnected during TLS handshake) (tls_handshake_not_finished): user=<>, "
		       "rip=192.0.2.5, lip=192.0.2.1, session=<{S}>");
	expect_nothing(LOG_SOURCE_AUTO,
		       "Nov 27 12:00:00 mail dovecot: imap-login: Login aborted: Logged out (auth "
		       "aborted by client, 1 attempts in 3 secs) (auth_aborted_by_client): "
		       "user=<bob>, rip=192.0.2.5, lip=192.0.2.1, session=<{S}>");
	/* 2.0: no "in S secs", no session; TLS elements; daemontools' timestamp */
	expect(LOG_SOURCE_AUTO,
	       "@400000004c91b044077a9e94 imap-login: Info: Aborted login (auth failed, 1 "
	       "attempts): user=<carol@example.org>, method=CRAM-MD5, rip=192.0.2.7, "
	       "lip=192.0.2.1, TLS",
	       AUTH_FAIL, "192.0.2.7", "carol@example.org", "imap", 1);
	expect(LOG_SOURCE_AUTO,
	       "Jun 14 00:48:21 mx dovecot: imap-login: Disconnected (auth failed, 1 attempts): "
	       "method=PLAIN, rip=192.0.2.8, lip=192.0.2.1, TLS: Disconnected",
	       AUTH_FAIL, "192.0.2.8", "", "imap", 1);
	expect(LOG_SOURCE_AUTO,
	       "Jun 14 00:48:21 mx dovecot: imap-login: Disconnected (auth failed, 1 attempts in 9 "
	       "secs): user=<bob>, method=PLAIN, rip=192.0.2.9, lip=192.0.2.1, TLS: "
	       "Disconnected, TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
	       AUTH_FAIL, "192.0.2.9", "bob", "imap", 1);
	expect(LOG_SOURCE_AUTO,
	       "Dec 12 11:19:11 mx dovecot: pop3-login: Aborted login (tried to use disabled "
	       "plaintext auth): rip=192.0.2.10, lip=192.0.2.1",
	       AUTH_FAIL, "192.0.2.10", "", "pop3", 1);
	/* 2.0's auth process and old process names */
	expect(LOG_SOURCE_AUTO,
	       "Jul 02 13:49:32 mx dovecot[442]: dovecot: auth(default): pam(bob,192.0.2.11): "
	       "pam_authenticate() failed: User not known to the underlying authentication "
	       "module",
	       AUTH_FAIL, "192.0.2.11", "bob", "dovecot", 1);
	expect(LOG_SOURCE_AUTO,
	       "2013-08-11 03:56:40 auth-worker(default): Info: pam(bob,192.0.2.12): "
	       "pam_authenticate() failed: Authentication failure (password mismatch?)",
	       AUTH_FAIL, "192.0.2.12", "bob", "dovecot", 1);
	expect(LOG_SOURCE_AUTO,
	       "Mar 23 06:10:52 auth: Info: ldap(dog,192.0.2.13,): invalid credentials", AUTH_FAIL,
	       "192.0.2.13", "dog", "dovecot", 1);
	/* 2.4's auth prefix: auth(USER,IP,sasl:MECH)<SESSION>: PASSDB: MESSAGE */
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 12:00:00 mail dovecot: auth: auth(bob,192.0.2.5,sasl:plain)<{S}>: "
	       "passwd-file: Password mismatch",
	       AUTH_FAIL, "192.0.2.5", "bob", "dovecot", 1);
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 12:00:00 mail dovecot: auth-worker(bob,192.0.2.5,sasl:plain)<4711><{S}>: "
	       "request [3]: pam: pam_authenticate() failed: Authentication failure",
	       AUTH_FAIL, "192.0.2.5", "bob", "dovecot", 1);
	/* pam_unix from Dovecot's auth process: ruser and user are the client's */
	expect(LOG_SOURCE_AUTO,
	       "Apr 19 05:22:20 mx auth: pam_unix(dovecot:auth): authentication failure; logname= "
	       "uid=0 euid=0 tty=dovecot ruser=bob rhost=192.0.2.14",
	       AUTH_FAIL, "192.0.2.14", "bob", "dovecot", 1);
	expect(LOG_SOURCE_AUTO,
	       "Apr 19 05:22:20 mx dovecot-auth: pam_unix(dovecot:auth): authentication failure; "
	       "logname= uid=0 euid=0 tty=dovecot ruser=rhost=203.0.113.9 rhost=192.0.2.15",
	       AUTH_FAIL, "192.0.2.15", "rhost=203.0.113.9", "dovecot", 1);
	expect(LOG_SOURCE_AUTO,
	       "Apr 19 05:22:20 mx dovecot-auth: pam_unix(dovecot:auth): authentication failure; "
	       "logname= uid=0 euid=0 tty=dovecot ruser=root rhost=192.0.2.16  user=root",
	       AUTH_FAIL, "192.0.2.16", "root", "dovecot", 1);
	/* a user name that would end the line with another rhost, or split it twice */
	expect_nothing(LOG_SOURCE_AUTO,
		       "Apr 19 05:22:20 mx auth: pam_unix(dovecot:auth): authentication failure; "
		       "logname= uid=0 euid=0 tty=dovecot ruser=x rhost=192.0.2.17  user=x "
		       "rhost=203.0.113.9");
}

/* One attempt seen by pam_unix, Dovecot's auth line and its login line counts once. */
static void dovecot_pam_and_login_count_once(void **state)
{
	struct parser *p = parser_new(LOG_SOURCE_AUTO);
	struct log_record r;
	char line[512];

	(void)state;
	assert_int_equal(
	    feed(p,
		 "Nov 27 12:00:00 mx auth: pam_unix(dovecot:auth): authentication "
		 "failure; logname= uid=0 euid=0 tty=dovecot ruser=bob rhost=192.0.2.5",
		 &r),
	    1);
	snprintf(line, sizeof(line),
		 "Nov 27 12:00:00 mx dovecot: auth-worker(9): pam(bob,192.0.2.5,<%s>): "
		 "pam_authenticate() failed: Authentication failure",
		 session_for("192.0.2.5"));
	assert_int_equal(feed(p, line, &r), 0);
	snprintf(line, sizeof(line),
		 "Nov 27 12:00:02 mx dovecot: imap-login: Disconnected (auth failed, 1 attempts in "
		 "2 secs): user=<bob>, method=PLAIN, rip=192.0.2.5, lip=192.0.2.1, session=<%s>",
		 session_for("192.0.2.5"));
	assert_int_equal(feed(p, line, &r), 0);
	/* without a session: by address and user */
	assert_int_equal(feed(p,
			      "Nov 27 12:01:00 mx dovecot: auth: passwd-file(bob,192.0.2.6): "
			      "Password mismatch",
			      &r),
			 1);
	assert_int_equal(feed(p,
			      "Nov 27 12:01:02 mx dovecot: imap-login: Disconnected (auth "
			      "failed, 2 attempts): user=<bob>, method=PLAIN, rip=192.0.2.6, "
			      "lip=192.0.2.1",
			      &r),
			 1);
	assert_int_equal(r.event.attempts, 1);
	/* Postfix's line for a SASL request Dovecot's session-less line counted */
	assert_int_equal(feed(p,
			      "Nov 27 12:02:00 mx dovecot: auth: passwd-file(carol,192.0.2.7): "
			      "Password mismatch",
			      &r),
			 1);
	assert_int_equal(feed(p,
			      "Nov 27 12:02:00 mx postfix/smtpd[1]: warning: unknown[192.0.2.7]: "
			      "SASL LOGIN authentication failed: (reason unavailable), "
			      "sasl_username=carol",
			      &r),
			 0);
	parser_free(p);
}

static void sshd_generations(void **state)
{
	(void)state;
	/* OpenSSH 9.8+ process names, older lines without port or with ssh1 */
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 12:00:00 mx sshd-auth[7]: Failed password for bob from 192.0.2.5 port 22 "
	       "ssh2",
	       AUTH_FAIL, "192.0.2.5", "bob", "ssh", 1);
	expect(LOG_SOURCE_AUTO,
	       "Feb 25 14:34:10 mx sshd[3]: Failed password for invalid user ROOT from "
	       "2001:db8::7 port 50273",
	       AUTH_FAIL, "2001:db8::7", "ROOT", "ssh", 1);
	expect(LOG_SOURCE_AUTO,
	       "Feb 25 14:34:11 mx sshd[3]: Failed password for invalid user ROOT from 2001:db8::7",
	       AUTH_FAIL, "2001:db8::7", "ROOT", "ssh", 1);
	expect(LOG_SOURCE_AUTO,
	       "Sep 29 16:28:02 mx sshd[4]: Failed password for dan from 192.0.2.6 port 4 ssh1",
	       AUTH_FAIL, "192.0.2.6", "dan", "ssh", 1);
	expect(LOG_SOURCE_AUTO,
	       "Mar 29 05:59:23 mx sshd[5]: [ID 800047 auth.info] Failed keyboard-interactive for "
	       "<invalid username> from 192.0.2.7 port 42742 ssh2",
	       AUTH_FAIL, "192.0.2.7", "<invalid username>", "ssh", 1);
	/* hostbased and an invalid user's key: INFO after the address is the client's */
	expect(LOG_SOURCE_AUTO,
	       "Sep 29 17:15:02 mx sshd[6]: Failed hostbased for dan from 192.0.2.8 port 45785 "
	       "ssh2: RSA SHA256:x, client user \"dan from 203.0.113.9\", client host \"h\"",
	       AUTH_FAIL, "192.0.2.8", "dan", "ssh", 1);
	expect(LOG_SOURCE_AUTO,
	       "Jul 05 18:22:44 mx sshd[7]: Failed publickey for invalid user eve from 192.0.2.9 "
	       "port 37954 ssh2: RSA SHA256:v3dpapGleDaUKf",
	       AUTH_FAIL, "192.0.2.9", "eve", "ssh", 1);
	/* refusals before any password */
	expect(LOG_SOURCE_AUTO,
	       "Apr 16 22:01:15 mx sshd[8]: User root from 192.0.2.10 not allowed because listed "
	       "in DenyUsers",
	       AUTH_FAIL, "192.0.2.10", "root", "ssh", 1);
	expect(LOG_SOURCE_AUTO, "Jan  5 01:31:41 mx sshd[9]: ROOT LOGIN REFUSED FROM 192.0.2.11",
	       AUTH_FAIL, "192.0.2.11", "root", "ssh", 1);
	expect(LOG_SOURCE_AUTO,
	       "Apr 29 17:16:20 mx sshd[10]: error: PAM: Authentication failure for bob from "
	       "192.0.2.12 via 192.0.2.1",
	       AUTH_FAIL, "192.0.2.12", "bob", "ssh", 1);
	expect(LOG_SOURCE_AUTO,
	       "Jun 25 23:53:34 [sshd] User root from 192.0.2.13 not allowed because not listed in "
	       "AllowUsers",
	       AUTH_FAIL, "192.0.2.13", "root", "ssh", 1);
	/* the bots' goodbyes before authenticating, penalties of 9.8+ */
	expect(LOG_SOURCE_AUTO,
	       "May 27 00:16:33 mx sshd[11]: Received disconnect from 192.0.2.14 port 58846:11: "
	       "Bye Bye [preauth]",
	       AUTH_FAIL, "192.0.2.14", "", "ssh", 1);
	expect(LOG_SOURCE_AUTO,
	       "Oct  1 17:27:44 mx sshd[12]: error: Received disconnect from 2001:db8::9: 3: "
	       "com.jcraft.jsch.JSchException: Auth fail [preauth]",
	       AUTH_FAIL, "2001:db8::9", "", "ssh", 1);
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 12:00:00 mx sshd[13]: drop connection #3 from [192.0.2.15]:40000 on "
	       "[192.0.2.1]:22 penalty: failed authentication",
	       AUTH_FAIL, "192.0.2.15", "", "ssh", 1);
	expect(
	    LOG_SOURCE_AUTO,
	    "<38>1 2019-07-08T17:40:16.954167-04:00 mx.example.net sshd 57915 - - Failed unknown "
	    "for invalid user redmond from 192.0.2.16 port 59197 ssh2",
	    AUTH_FAIL, "192.0.2.16", "redmond", "ssh", 1);
	expect(LOG_SOURCE_AUTO,
	       "<38>1 2019-07-08T17:40:17.9-04:00 mx sshd 55555 - [tq a=\"1\"][x@1 t=\"[br\\]\"] "
	       "Failed unknown for invalid user redmond from 192.0.2.17 port 5 ssh2",
	       AUTH_FAIL, "192.0.2.17", "redmond", "ssh", 1);
	expect_nothing(LOG_SOURCE_AUTO, "May 27 00:16:33 mx sshd[11]: Received disconnect from "
					"192.0.2.14 port 58846:11: disconnected by user");
	expect_nothing(LOG_SOURCE_AUTO, "Nov 27 12:00:00 mx sshd[13]: drop connection #3 from "
					"[192.0.2.15]:40000 on [192.0.2.1]:22 past MaxStartups");
	expect_nothing(LOG_SOURCE_AUTO, "Apr 24 01:39:19 mx sshd[3]: User root not allowed "
					"because account is locked");
	/* the address after "sshN: " is never sshd's; two that disagree: nothing */
	expect(LOG_SOURCE_AUTO,
	       "Sep 29 17:15:02 mx sshd[14]: Failed password for bob from 192.0.2.18 port 2 ssh1: "
	       "ruser from 203.0.113.9",
	       AUTH_FAIL, "192.0.2.18", "bob", "ssh", 1);
	expect_nothing(LOG_SOURCE_AUTO, "Nov 11 08:04:52 mx sshd[15]: Failed password for invalid "
					"user t from 192.0.2.19 port 1 ssh2: from 203.0.113.9 port "
					"2 ssh2");
}

/* A line without an address finds it from its connection's earlier lines. */
static void sshd_lines_by_process(void **state)
{
	struct parser *p = parser_new(LOG_SOURCE_SSHD);
	struct log_record r;

	(void)state;
	assert_int_equal(feed(p,
			      "Feb 12 04:09:18 mx sshd[26713]: Connection from 192.0.2.5 "
			      "port 51353 on 192.0.2.1 port 22",
			      &r),
			 0);
	assert_int_equal(feed(p,
			      "Feb 12 04:09:21 mx sshd[26713]: Disconnecting: Too many "
			      "authentication failures for root [preauth]",
			      &r),
			 1);
	assert_string_equal(ip_text(&r), "192.0.2.5");
	/* unknown yet: the close line that names it counts */
	assert_int_equal(feed(p,
			      "Nov 23 21:50:19 mx sshd[8148]: Disconnecting: Too many "
			      "authentication failures for root [preauth]",
			      &r),
			 0);
	assert_int_equal(feed(p,
			      "Nov 23 21:50:37 mx sshd[8148]: Connection closed by 192.0.2.6 "
			      "[preauth]",
			      &r),
			 1);
	assert_string_equal(ip_text(&r), "192.0.2.6");
	/* PAM's error line and the "Failed" line of the same attempt: once */
	assert_int_equal(feed(p,
			      "Nov 27 12:00:00 mx sshd[9]: error: PAM: Authentication failure "
			      "for bob from 192.0.2.7",
			      &r),
			 1);
	assert_int_equal(feed(p,
			      "Nov 27 12:00:01 mx sshd[9]: Failed keyboard-interactive/pam for "
			      "bob from 192.0.2.7 port 4 ssh2",
			      &r),
			 0);
	assert_int_equal(feed(p,
			      "Nov 27 12:00:03 mx sshd[9]: Failed keyboard-interactive/pam for "
			      "bob from 192.0.2.7 port 4 ssh2",
			      &r),
			 1);
	/* pam_unix for two user names and no "Failed" line: the first was an attempt */
	assert_int_equal(feed(p,
			      "Mar  7 18:53:22 mx sshd[1558]: pam_unix(sshd:auth): "
			      "authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
			      "rhost=192.0.2.8  user=root",
			      &r),
			 0);
	assert_int_equal(feed(p,
			      "Mar  7 18:53:23 mx sshd[1558]: pam_unix(sshd:auth): "
			      "authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
			      "rhost=192.0.2.8  user=root",
			      &r),
			 0);
	assert_int_equal(feed(p,
			      "Mar  7 18:53:23 mx sshd[1558]: pam_unix(sshd:auth): "
			      "authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
			      "rhost=192.0.2.8  user=admin",
			      &r),
			 1);
	parser_free(p);
}

static void exim_lines(void **state)
{
	(void)state;
	expect(LOG_SOURCE_EXIM,
	       "2026-11-27 12:00:00 login authenticator failed for mx.example.net ([203.0.113.9]) "
	       "[192.0.2.5]: 535 Incorrect authentication data (set_id=bob)",
	       AUTH_FAIL, "192.0.2.5", "bob", "smtp", 1);
	expect(LOG_SOURCE_EXIM,
	       "2026-11-27 12:00:00 [7513] dovecot_plain authenticator failed for (ylmf-pc) "
	       "[192.0.2.6]:41556 I=[192.0.2.1]:587: 535 Incorrect authentication data",
	       AUTH_FAIL, "192.0.2.6", "", "smtp", 1);
	expect(LOG_SOURCE_AUTO,
	       "Nov 27 12:00:00 mx exim[29786]: dovecot_login authenticator failed for (User) "
	       "[2001:db8::5]: 535 Incorrect authentication data (set_id=a@example.net)",
	       AUTH_FAIL, "2001:db8::5", "a@example.net", "smtp", 1);
	expect(LOG_SOURCE_EXIM,
	       "2026-11-27 12:00:00 [1] 1ahr79-0006jK-G9 SMTP protocol error in \"AUTH LOGIN\" "
	       "H=(x) [192.0.2.7]:60723 I=[192.0.2.1]:25 AUTH command used when not advertised",
	       AUTH_FAIL, "192.0.2.7", "", "smtp", 1);
	expect(LOG_SOURCE_EXIM,
	       "2026-11-27 12:00:00 SMTP protocol error in \"aUtH lOgIn\" H=(t) [203.0.113.9]\" "
	       "H=(r) [192.0.2.8] AUTH command used when not advertised",
	       AUTH_FAIL, "192.0.2.8", "", "smtp", 1);
	/* the HELO name or set_id spelling the fixed text: ambiguous */
	expect_nothing(LOG_SOURCE_EXIM,
		       "2026-11-27 12:00:00 login authenticator failed for ([203.0.113.9]: 535 x) "
		       "[192.0.2.5]: 535 Incorrect authentication data");
	/* what follows HOST is the client's: it never moves the address */
	expect(LOG_SOURCE_EXIM,
	       "2026-11-27 12:00:00 login authenticator failed for (x) [192.0.2.5]: 535 "
	       "Incorrect authentication data (set_id=a [203.0.113.9]: 535 b)",
	       AUTH_FAIL, "192.0.2.5", "a [203.0.113.9]: 535 b", "smtp", 1);
	/* a HOST that is not NAME, (HELO) and [ADDR] */
	expect_nothing(LOG_SOURCE_EXIM,
		       "2026-11-27 12:00:00 login authenticator failed for a b [192.0.2.5]: 535 "
		       "Incorrect authentication data");
	expect_nothing(LOG_SOURCE_EXIM,
		       "2026-11-27 12:00:00 login authenticator failed for "
		       "(x)[203.0.113.9] [192.0.2.5]: 535 Incorrect authentication data");
}

static void exim_rejections(void **state)
{
	struct parser *p = parser_new(LOG_SOURCE_EXIM);
	struct log_record r;

	(void)state;
	expect_rejected("2026-11-27 12:00:00 H=(x) [192.0.2.5] F=<a@example.net> "
			"rejected RCPT <b@example.org>: relay not permitted",
			"192.0.2.5");
	expect_rejected("2013-06-10 18:33:32 [10099] H=(yakult.com.tw) [192.0.2.6]:3755 "
			"I=[192.0.2.1]:25 F=m@example.org rejected RCPT d@example.ru: relay not "
			"permitted",
			"192.0.2.6");
	expect_rejected("2026-11-27 12:00:00 H=mx.example.com [2001:db8::7] sender verify fail for "
			"<x@example.com>: all relevant MX records point to non-existent hosts",
			"2001:db8::7");
	expect_rejected("2026-11-27 12:00:00 H=(x) [192.0.2.5] F=<a@example.org> rejected RCPT "
			"<b@example.net>: Sender verification failed",
			"192.0.2.5");
	expect_rejected("2026-11-27 12:00:00 [13314] SMTP protocol synchronization error (input "
			"sent without waiting for greeting): rejected connection from "
			"H=[192.0.2.8]:25936 I=[192.0.2.1]:25 input=\"GET / HTTP/1.1\\r\\n\"",
			"192.0.2.8");
	expect_rejected(
	    "2026-11-27 12:00:00 SMTP protocol synchronization error (next input sent "
	    "too soon: pipelining was not advertised): rejected \"RSET\" H=mx.example.fr "
	    "[192.0.2.9]:58302 I=[192.0.2.1]:25 next input=\"QUIT\\r\\n\"",
	    "192.0.2.9");
	expect_rejected("2026-11-27 12:00:00 SMTP call from [192.0.2.10] dropped: too many syntax "
			"or protocol errors (last command was \"AUTH LOGIN\")",
			"192.0.2.10");
	expect_rejected(
	    "2026-11-27 12:00:00 [5908] no MAIL in SMTP connection from [192.0.2.11]:2056 "
	    "I=[192.0.2.1]:25 D=0s",
	    "192.0.2.11");
	expect_rejected("2026-11-27 12:00:00 [25874] 1ahr79-0006jK-G9 SMTP connection from (x) "
			"[192.0.2.12]:44884 I=[192.0.2.1]:25 closed by DROP in ACL",
			"192.0.2.12");
	/* the client's text in HELO, sender, recipient and command never names the address */
	expect_rejected(
	    "2026-11-27 12:00:00 H=([203.0.113.9]) [192.0.2.5] F=<\"x [203.0.113.9] "
	    "rejected RCPT \"@example.net> rejected RCPT <\"[203.0.113.9] F=\"@example.org>: "
	    "relay not permitted",
	    "192.0.2.5");
	expect_nothing(LOG_SOURCE_EXIM,
		       "2026-11-27 12:00:00 SMTP protocol synchronization error (x): rejected "
		       "\"RSET\" H=[203.0.113.9] next input=\"\" H=[192.0.2.9] next input=\"x\"");
	/* deferrals, other ACLs' messages, authenticated clients: not counted */
	expect_nothing(LOG_SOURCE_EXIM,
		       "2026-11-27 12:00:00 H=(x) [192.0.2.5] F=<a@example.net> temporarily "
		       "rejected RCPT <b@example.org>: Could not complete sender verify");
	expect_nothing(LOG_SOURCE_EXIM, "2026-11-27 12:00:00 H=(x) [192.0.2.5] F=<a@example.net> "
					"rejected RCPT <b@example.org>: greylisted");
	expect_nothing(LOG_SOURCE_EXIM,
		       "2026-11-27 12:00:00 H=(x) [192.0.2.5] F=<a@example.net> A=plain:a rejected "
		       "RCPT <b@example.org>: relay not permitted");
	expect_nothing(LOG_SOURCE_EXIM, "2026-11-27 12:00:00 rejected EHLO from [192.0.2.5]: "
					"syntactically invalid argument(s): x[203.0.113.9]");
	/* a sender verification and its rejection are one attempt */
	assert_non_null(p);
	assert_int_equal(feed(p,
			      "2026-11-27 12:00:00 H=(x) [192.0.2.5] sender verify fail for "
			      "<n@example.net>: Unrouteable address",
			      &r),
			 1);
	assert_true(r.rejected);
	assert_int_equal(
	    feed(p,
		 "2026-11-27 12:00:00 H=(x) [192.0.2.5] F=<n@example.net> rejected RCPT "
		 "<b@example.net>: Sender verify failed",
		 &r),
	    0);
	assert_int_equal(
	    feed(p,
		 "2026-11-27 12:00:01 H=(x) [192.0.2.5] F=<n@example.net> rejected RCPT "
		 "<b@example.net>: Sender verify failed",
		 &r),
	    1);
	parser_free(p);
}

static void roundcube_lines(void **state)
{
	(void)state;
	expect(LOG_SOURCE_ROUNDCUBE,
	       "[27-Nov-2026 12:00:00 +0000]: <j2pncet8> IMAP Error: Login failed for bob against "
	       "localhost from 192.0.2.5. AUTHENTICATE PLAIN: A0002 NO [AUTHENTICATIONFAILED] "
	       "Authentication failed. in /usr/share/roundcube/program/lib/Roundcube/"
	       "rcube_imap.php on line 211 (POST /?_task=login&_action=login)",
	       AUTH_FAIL, "192.0.2.5", "bob", "webmail", 1);
	expect(LOG_SOURCE_ROUNDCUBE,
	       "[27-Nov-2026 12:00:00 +0000]: Failed login for bob@example.net from 192.0.2.6 in "
	       "session 1z506z6rvddstv6k7jz08hxo27 (error: 0)",
	       AUTH_FAIL, "192.0.2.6", "bob@example.net", "webmail", 1);
	expect(LOG_SOURCE_ROUNDCUBE,
	       "[27-Nov-2026 12:00:00 +0000]: Successful login for bob (ID: 1) from 192.0.2.6 in "
	       "session 1z506z6rvddstv6k7jz08hxo27",
	       AUTH_OK, "192.0.2.6", "bob", "webmail", 1);
	expect(LOG_SOURCE_AUTO,
	       "May 19 06:07:48 mx roundcube[21296]: <crk9n97i> IMAP Error: Login failed for t "
	       "from 192.0.2.7(X-Real-IP: 203.0.113.9,X-Forwarded-For: 203.0.113.9). "
	       "AUTHENTICATE PLAIN: Authentication failed. in rcube_imap.php on line 193",
	       AUTH_FAIL, "192.0.2.7", "t", "webmail", 1);
	/* user names spelling Roundcube's own text */
	expect(LOG_SOURCE_ROUNDCUBE,
	       "[27-Nov-2026 12:00:00 +0000]: IMAP Error: Login failed for a from 203.0.113.9. "
	       "from 192.0.2.8. AUTHENTICATE PLAIN: A0002 NO Login failed. user=a from "
	       "203.0.113.9. in rcube_imap.php",
	       AUTH_FAIL, "192.0.2.8", "a from 203.0.113.9.", "webmail", 1);
	expect_nothing(LOG_SOURCE_ROUNDCUBE,
		       "[27-Nov-2026 12:00:00 +0000]: IMAP Error: Login failed for a from "
		       "203.0.113.9. LOGIN: x from 192.0.2.8. AUTHENTICATE PLAIN: NO");
}

/* ---- addresses ------------------------------------------------------------------------------- */

static void ipv6_and_mapped_addresses(void **state)
{
	struct log_record r;
	struct lpm_key v4;
	char why[ERRMSG_LEN];

	(void)state;
	assert_int_equal(cidr_parse("192.0.2.5", &v4, why), 0);
	/* an IPv4 client on an IPv6 socket is the IPv4 key */
	assert_int_equal(
	    parse1(LOG_SOURCE_AUTO,
		   with_session("Nov 27 12:00:00 mail dovecot: imap-login: Disconnected "
				"(auth failed, 1 attempts in 2 secs): user=<bob>, "
				"method=PLAIN, rip=::ffff:192.0.2.5, lip=::ffff:192.0.2.1, "
				"session=<{S}>",
				"::ffff:192.0.2.5"),
		   &r),
	    1);
	assert_memory_equal(r.event.ip.addr, v4.addr, ADDR_LEN);
	assert_string_equal(ip_text(&r), "192.0.2.5");
	assert_int_equal(parse1(LOG_SOURCE_AUTO,
				"Nov 27 12:00:00 mail sshd[1]: Failed password for bob from "
				"::ffff:192.0.2.5 port 22 ssh2",
				&r),
			 1);
	assert_memory_equal(r.event.ip.addr, v4.addr, ADDR_LEN);
	assert_int_equal(
	    parse1(LOG_SOURCE_AUTO,
		   "Nov 27 12:00:00 mail postfix/smtpd[1]: warning: unknown[::ffff:192.0.2."
		   "5]: SASL LOGIN authentication failed: x",
		   &r),
	    1);
	assert_memory_equal(r.event.ip.addr, v4.addr, ADDR_LEN);
	expect(
	    LOG_SOURCE_AUTO,
	    "Nov 27 12:00:00 mail sshd[1]: Failed password for bob from 2001:db8:0:0:0:0:0:5 port "
	    "22 ssh2",
	    AUTH_FAIL, "2001:db8::5", "bob", "ssh", 1);
	/* not addresses */
	expect_nothing(LOG_SOURCE_AUTO, "Nov 27 12:00:00 mail sshd[1]: Failed password for bob "
					"from fe80::1%eth0 port 22 ssh2");
	expect_nothing(LOG_SOURCE_AUTO, "Nov 27 12:00:00 mail sshd[1]: Failed password for bob "
					"from 192.0.2.256 port 22 ssh2");
	expect_nothing(LOG_SOURCE_AUTO, "Nov 27 12:00:00 mail sshd[1]: Failed password for bob "
					"from mail.example.net port 22 ssh2");
}

/* ---- security: the client's text never names the address ------------------------------------- */

static void attacker_text_never_yields_its_address(void **state)
{
	static const char *const lines[] = {
		/* Dovecot login: user=<> is not escaped; the last ", rip=" is Dovecot's */
		"Nov 27 13:59:43 mail dovecot: imap-login: Disconnected: Aborted login by logging "
		"out "
		"(auth failed, 1 attempts in 5 secs): user=<bob>, method=PLAIN, rip=203.0.113.9, "
		"lip=198.51.100.1, session=<AAAAAAAAAAAAA...>, method=PLAIN, rip=198.51.100.6, "
		"lip=198.51.100.1, session=<ym2TeEJhIdPGM2QG>",
		"Nov 27 13:59:38 mail dovecot: imap-login: Disconnected: Aborted login by logging "
		"out "
		"(auth failed, 1 attempts in 1 secs): user=<x rip=203.0.113.9>, method=PLAIN, "
		"rip=198.51.100.6, lip=198.51.100.1, session=<VUl8eEJhyerGM2QG>",
		"Nov 27 12:00:00 mail dovecot: imap-login: Login: user=<x, rip=203.0.113.9>, "
		"method=PLAIN, rip=198.51.100.6, lip=198.51.100.1, mpid=1, session=<a>",
		/* a reason in the user name: the first "): " is Dovecot's */
		"Nov 27 12:00:00 mail dovecot: imap-login: Disconnected (no auth attempts in 1 "
		"secs): "
		"user=<x (auth failed, 9 attempts in 1 secs): user=<a>, rip=203.0.113.9, >, "
		"rip=198.51.100.6, lip=198.51.100.1",
		/* Dovecot auth: the user's last comma-separated part, and fake prefixes */
		"Nov 27 14:02:16 mail dovecot: auth: passwd-file(bob from 203.0.113.9 port 22,"
		"198.51.100.6,<4/gXgUJhn9DGM2QG>): unknown user",
		"Nov 27 12:00:00 mail dovecot: auth: passwd-file(x,203.0.113.9,198.51.100.6,"
		"<4/gXgUJhn9DGM2QG>): unknown user",
		"Nov 27 12:00:00 mail dovecot: auth: passwd-file(x,203.0.113.9): unknown user,"
		"198.51.100.6,<4/gXgUJhn9DGM2QG>): unknown user",
		"Nov 27 12:00:00 mail dovecot: auth: "
		"passwd-file(x,203.0.113.9,<F6pBdUJhn9rLcXEJ>): "
		"unknown user,198.51.100.6,<4/gXgUJhn9DGM2QG>): unknown user",
		"Nov 27 12:00:00 mail dovecot: auth: "
		"passwd-file(bob,198.51.100.6,<4/gXgUJhn9DGM2QG>): "
		"Password mismatch (given password: x),203.0.113.9,<F6pBdUJhn9rLcXEJ>): Password "
		"mismatch)",
		/* Postfix: NAME[ADDR] comes before anything the client sent */
		"Nov 27 14:03:46 mail postfix/smtpd[27548]: warning: unknown[198.51.100.5]: SASL "
		"PLAIN "
		"authentication failed: (reason unavailable), sasl_username=x]: SASL LOGIN "
		"authentication failed: [203.0.113.9]: ",
		"Nov 27 12:00:00 mail postfix/smtpd[1]: warning: unknown[198.51.100.5]: SASL PLAIN "
		"authentication failed: x, sasl_username=a warning: unknown[203.0.113.9]: SASL",
		/* sshd: parsed from the end */
		"Nov 27 14:05:32 mail sshd[28480]: Failed password for invalid user bob from "
		"203.0.113.9 port 22 from 198.51.100.6 port 59999 ssh2",
		"Nov 27 14:05:33 mail sshd[28480]: Connection closed by invalid user bob from "
		"203.0.113.9 port 22 198.51.100.6 port 59999 [preauth]",
		"Nov 27 12:00:00 mail sshd[1]: Failed password for invalid user x from 203.0.113.9 "
		"port "
		"22 ssh2 from 198.51.100.6 port 59999 ssh2",
		"Nov 27 12:00:00 mail sshd[1]: Failed password for evil\\nFailed password for root "
		"from 203.0.113.9 port 22 ssh2 from 198.51.100.5 port 4 ssh2",
		"Nov 27 12:00:00 mail sshd[1]: error: maximum authentication attempts exceeded for "
		"invalid user a from 203.0.113.9 port 1 ssh2 from 198.51.100.6 port 2 ssh2 "
		"[preauth]",
		"Nov 27 12:00:00 mail sshd[1]: Accepted publickey for root from 198.51.100.6 port "
		"2 "
		"ssh2: ED25519-CERT SHA256:x ID a from 203.0.113.9 port 1 ssh2: (serial 0) CA x",
	};
	struct parser *p = parser_new(LOG_SOURCE_AUTO);
	struct log_record r;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		if (feed(p, lines[i], &r) == 1 && strcmp(ip_text(&r), ATTACKER) == 0)
			fail_msg("line %zu yields the client's address: %s", i, lines[i]);
	}
	/* the lines that must still count, with the right address */
	assert_int_equal(feed(p, lines[0], &r), 1);
	assert_string_equal(ip_text(&r), "198.51.100.6");
	assert_string_equal(r.event.user, "bob>, method=PLAIN, rip=203.0.113.9, lip=198.51.100.1, "
					  "session=<AAAAAAAAAAAAA...");
	assert_int_equal(feed(p, lines[1], &r), 1);
	assert_string_equal(r.event.user, "x rip=203.0.113.9");
	assert_int_equal(feed(p, lines[4], &r), 1);
	assert_string_equal(ip_text(&r), "198.51.100.6");
	assert_string_equal(r.event.user, "bob from 203.0.113.9 port 22");
	assert_int_equal(feed(p, lines[5], &r), 1);
	assert_string_equal(r.event.user, "x,203.0.113.9");
	assert_int_equal(feed(p, lines[6], &r), 0); /* ambiguous: two candidate prefixes */
	assert_int_equal(feed(p, lines[9], &r), 1);
	assert_string_equal(ip_text(&r), "198.51.100.5");
	assert_int_equal(feed(p, lines[11], &r), 1);
	assert_string_equal(ip_text(&r), "198.51.100.6");
	assert_string_equal(r.event.user, "bob from 203.0.113.9 port 22");
	/* alone: the "Failed" line before it has counted this connection already */
	assert_int_equal(parse1(LOG_SOURCE_AUTO, lines[12], &r), 1);
	assert_string_equal(ip_text(&r), "198.51.100.6");
	assert_string_equal(r.event.user, "bob from 203.0.113.9 port 22");
	assert_int_equal(feed(p, lines[16], &r), 1);
	assert_string_equal(ip_text(&r), "198.51.100.6");
	parser_free(p);
}

static void user_names_become_printable_utf8(void **state)
{
	struct log_record r;

	(void)state;
	assert_int_equal(parse1(LOG_SOURCE_AUTO,
				"Nov 27 12:00:00 mail sshd[1]: Failed password for invalid user "
				"\xc3\xbc\xff\x01z\xe2\x82 from 192.0.2.5 port 22 ssh2",
				&r),
			 1);
	assert_string_equal(r.event.user, "\xc3\xbc??z??");
}

/* ---- garbage ------------------------------------------------------------------------------------
 */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 32);
}

static const char *const pieces[] = {
	"Nov 27 12:00:00 ",
	"2026-11-27T12:00:00.1+00:00 ",
	"mail ",
	"dovecot: ",
	"imap-login: ",
	"auth: ",
	"auth-worker(1): ",
	"Info: ",
	"sshd[1]: ",
	"postfix/smtpd[1]: ",
	"warning: ",
	"Login: ",
	"(auth failed, 3 attempts in 1 secs): ",
	"(disconnected while authenticating",
	"user=<",
	">",
	", method=PLAIN",
	", rip=",
	"rip=",
	", session=<",
	"F6pBdUJhn9rGM2QF",
	"passwd-file(",
	"): ",
	"Password mismatch",
	"unknown user",
	",master",
	",<",
	"192.0.2.5",
	"2001:db8::5",
	"::ffff:",
	"[",
	"]",
	"]:",
	": SASL ",
	" authentication failed",
	", sasl_username=",
	"client=",
	", sasl_method=",
	"Failed password for ",
	"Accepted password for ",
	"Connection closed by authenticating user ",
	"maximum authentication attempts exceeded for ",
	"invalid user ",
	" from ",
	" port ",
	"22",
	" ssh2",
	" ssh2: ",
	" [preauth]",
	"error: ",
	" ",
	",",
	"(",
	")",
	"\n",
};

/* Lines of random bytes and of shuffled fragments of real lines: no crash, sane records. */
static void garbage_never_crashes(void **state)
{
	struct parser *p = parser_new(LOG_SOURCE_AUTO);
	struct log_record r;
	char line[600];
	unsigned int recognised = 0;

	(void)state;
	for (int i = 0; i < 300000; i++) {
		size_t len = 0;

		if (i & 1) {
			len = next_random() % sizeof(line);
			for (size_t k = 0; k < len; k++)
				line[k] = (char)(next_random() & 0xff);
		} else {
			unsigned int n = next_random() % 24;

			for (unsigned int k = 0; k < n; k++) {
				const char *piece = pieces[next_random() % ARRAY_SIZE(pieces)];
				size_t plen = strlen(piece);

				if (len + plen > sizeof(line))
					break;
				memcpy(line + len, piece, plen);
				len += plen;
			}
		}
		if (parser_line(p, line, len, &r) == 1) {
			recognised++;
			assert_true(r.event.attempts >= 1);
			assert_true(strlen(r.event.user) < EVENT_USER_LEN);
			assert_true(r.source != LOG_SOURCE_AUTO);
		}
	}
	(void)recognised;
	parser_free(p);
}

static void long_lines(void **state)
{
	struct parser *p = parser_new(LOG_SOURCE_AUTO);
	struct log_record r;
	size_t size = 1 << 20;
	char *line = malloc(size);
	static const char *const heads[] = {
		"Nov 27 12:00:00 mail dovecot: auth: passwd-file(",
		"Nov 27 12:00:00 mail dovecot: imap-login: Disconnected (auth failed, 1 attempts "
		"in "
		"2 secs): user=<",
		"Nov 27 12:00:00 mail sshd[1]: Failed password for ",
		"Nov 27 12:00:00 mail postfix/smtpd[1]: warning: unknown[192.0.2.5]: SASL x "
		"authentication failed: ",
	};
	static const char *const fills[] = { "a", "): unknown user", ", rip=192.0.2.5",
					     " from 192.0.2.5 port 1",
					     ",192.0.2.5,<F6pBdUJhn9rGM2QF>" };

	(void)state;
	assert_non_null(line);
	for (size_t h = 0; h < ARRAY_SIZE(heads); h++) {
		for (size_t f = 0; f < ARRAY_SIZE(fills); f++) {
			size_t len = strlen(heads[h]), flen = strlen(fills[f]);

			memcpy(line, heads[h], len);
			while (len + flen < size) {
				memcpy(line + len, fills[f], flen);
				len += flen;
			}
			/* 1 MiB, and just under the longest line the parsers read */
			assert_int_equal(parser_line(p, line, len, &r), 0);
			(void)parser_line(p, line, 16000, &r);
			(void)parser_line(p, line, 2000, &r);
		}
	}
	free(line);
	parser_free(p);
}

/* ---- fixtures from real servers
 * ------------------------------------------------------------------ */

static char fixture_dir[512];

static int find_fixtures(void **state)
{
	const char *env = getenv("XDPBAN_FIXTURES");
	const char *file = __FILE__, *slash = strrchr(file, '/');

	(void)state;
	if (env)
		snprintf(fixture_dir, sizeof(fixture_dir), "%s", env);
	else if (slash)
		snprintf(fixture_dir, sizeof(fixture_dir), "%.*s/../fixtures/logs",
			 (int)(slash - file), file);
	else
		snprintf(fixture_dir, sizeof(fixture_dir), "../fixtures/logs");
	return 0;
}

struct totals {
	unsigned int lines, failures, successes, attempts, rejected;
	unsigned int by_service_fail[8]; /* imap pop3 dovecot smtp ssh */
};

static unsigned int service_index(const char *service)
{
	static const char *const names[] = { "imap", "pop3", "dovecot", "smtp", "ssh" };

	for (unsigned int i = 0; i < 5; i++)
		if (strcmp(service, names[i]) == 0)
			return i;
	return 7;
}

/* Which client addresses a fixture's records may name. */
typedef bool (*address_check_fn)(const char *ip);

static bool not_attacker(const char *ip)
{
	return strcmp(ip, ATTACKER) != 0 && strcmp(ip, ATTACKER_EXIM) != 0;
}

/*
 * Every line of fixtures/logs/NAME, whole and cut at every byte: each
 * record names an address address_ok accepts; with user_verbatim, the user
 * name stands in the line as the record has it.
 *
 * Dovecot's lines end with a session ID that carries the address, and
 * Postfix names the client first, so a cut line that keeps the session's
 * start never yields the address a user name spells out. A line cut before
 * it reads like a whole line of a server that writes no session (Dovecot
 * before 2.2, anonymised logs), and an sshd line cut right after such a
 * user name reads like a whole one: the daemon feeds only complete lines
 * (the tailer drops longer ones, the journal's are whole; a Dovecot line
 * has at most 80 bytes of user name, an sshd line 100), so those prefixes
 * are only checked for not crashing. So are Roundcube's: its older lines
 * end with the address ("Failed login for USER from ADDR"), which a cut
 * after a user name spelling " from ADDR" reads as.
 */
static bool cut_is_checked(enum log_source source)
{
	return source != LOG_SOURCE_SSHD && source != LOG_SOURCE_ROUNDCUBE;
}

static struct totals parse_fixture(const char *name, enum log_source source,
				   address_check_fn address_ok, bool user_verbatim)
{
	char path[600];
	struct totals t = { 0 };
	struct parser *p = parser_new(source);
	struct log_record r;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fixture_dir, name);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s (run from the repository root or set XDPBAN_FIXTURES)",
			 path);
	while ((len = getline(&line, &cap, f)) > 0) {
		t.lines++;
		/* every prefix of a real line parses without harm */
		const char *session = strstr(line, "session=<");
		ssize_t checked_from = session ? session - line + 9 : 0;

		while (session && (session = strstr(session + 1, "session=<")) != NULL)
			checked_from = session - line + 9;
		for (ssize_t cut = 0; cut < len; cut++) {
			struct parser *q = parser_new(source);
			struct log_record s;

			if (parser_line(q, line, (size_t)cut, &s) == 1 && cut_is_checked(source) &&
			    cut >= checked_from && !address_ok(ip_text(&s)))
				fail_msg("%s:%u cut at %zd yields %s", name, t.lines, cut,
					 ip_text(&s));
			parser_free(q);
		}
		if (parser_line(p, line, (size_t)len, &r) != 1)
			continue;
		if (!address_ok(ip_text(&r)))
			fail_msg("%s:%u yields %s, not the client's address: %s", name, t.lines,
				 ip_text(&r), line);
		if (user_verbatim)
			assert_non_null(strstr(line, r.event.user));
		if (r.event.outcome == AUTH_OK) {
			t.successes++;
		} else if (r.rejected) {
			t.rejected++;
		} else {
			t.failures++;
			t.attempts += r.event.attempts;
			t.by_service_fail[service_index(r.event.service)] += r.event.attempts;
		}
	}
	free(line);
	fclose(f);
	parser_free(p);
	return t;
}

/* ---- log injection: fixtures from real servers given attacker-shaped names
 * ------------------------------------------------------------------ */

/* The namespace clients of fixtures/logs/injection/generate.sh: the only addresses a line may
 * yield. */
static bool real_client(const char *ip)
{
	static const char *const clients[] = { "198.51.100.5", "198.51.100.6", "2001:db8:1::5" };

	for (size_t i = 0; i < ARRAY_SIZE(clients); i++)
		if (strcmp(ip, clients[i]) == 0)
			return true;
	return false;
}

/*
 * A fixture, whole and cut at every byte (see parse_fixture), and what it
 * holds. injection/ fixtures come from real servers given attacker-shaped
 * names: whatever a record says, its address is a real client's, and
 * cleaned user names ('?' for control bytes) need not stand in the line as
 * written.
 */
struct fixture_case {
	const char *name;
	const char *file; /* under tests/fixtures/logs/ */
	enum log_source source;
	bool injection;
	unsigned int lines, failures, successes, attempts;
	unsigned int rejected; /* Exim's rejections without a credential */
};

static const struct fixture_case fixture_cases[] = {
	{ "fixture_dovecot", "dovecot.log", LOG_SOURCE_AUTO, false, 16, 11, 2, 15 },
	{ "fixture_dovecot_verbose", "dovecot-verbose.log", LOG_SOURCE_DOVECOT, false, 48, 25, 2,
	  25 },
	{ "fixture_dovecot_logpath", "dovecot-logpath.log", LOG_SOURCE_AUTO, false, 8, 4, 1, 4 },
	/* Debian 13's Dovecot 2.4.1, written by tests/heavy/test_dovecot24_policy.sh */
	{ "fixture_dovecot24", "dovecot24.log", LOG_SOURCE_DOVECOT, false, 14, 5, 1, 5 },
	{ "fixture_postfix", "postfix.log", LOG_SOURCE_POSTFIX, false, 39, 7, 1, 7 },
	{ "fixture_sshd", "sshd.log", LOG_SOURCE_SSHD, false, 83, 19, 2, 19 },
	/* Debian 12's Exim 4.96 and Roundcube 1.6 in a chroot, written by generate-chroot.sh */
	{ "fixture_exim", "exim.log", LOG_SOURCE_EXIM, false, 25, 6, 0, 6, 7 },
	{ "fixture_roundcube_errors", "roundcube-errors.log", LOG_SOURCE_ROUNDCUBE, false, 4, 4, 0,
	  4 },
	{ "fixture_roundcube_userlogins", "roundcube-userlogins.log", LOG_SOURCE_ROUNDCUBE, false,
	  5, 4, 1, 4 },
	{ "injection_dovecot", "injection/dovecot.log", LOG_SOURCE_AUTO, true, 114, 70, 0, 70 },
	{ "injection_dovecot_logpath", "injection/dovecot-logpath.log", LOG_SOURCE_DOVECOT, true,
	  57, 21, 0, 21 },
	{ "injection_postfix", "injection/postfix.log", LOG_SOURCE_AUTO, true, 110, 35, 0, 35 },
	{ "injection_sshd", "injection/sshd.log", LOG_SOURCE_SSHD, true, 111, 21, 0, 21 },
	{ "injection_exim", "injection/exim.log", LOG_SOURCE_EXIM, true, 9, 5, 0, 5, 2 },
	{ "injection_roundcube_errors", "injection/roundcube-errors.log", LOG_SOURCE_ROUNDCUBE,
	  true, 6, 6, 0, 6 },
	{ "injection_roundcube_userlogins", "injection/roundcube-userlogins.log",
	  LOG_SOURCE_ROUNDCUBE, true, 6, 6, 0, 6 },
};

static void fixture_totals(void **state)
{
	const struct fixture_case *c = *state;
	struct totals t = c->injection ? parse_fixture(c->file, c->source, real_client, false)
				       : parse_fixture(c->file, c->source, not_attacker, true);

	assert_int_equal(t.lines, c->lines);
	assert_int_equal(t.failures, c->failures);
	assert_int_equal(t.successes, c->successes);
	assert_int_equal(t.attempts, c->attempts);
	assert_int_equal(t.rejected, c->rejected);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(source_names_round_trip),
		cmocka_unit_test(dovecot_disconnect_lines),
		cmocka_unit_test(dovecot_lines_that_are_no_failure),
		cmocka_unit_test(dovecot_successful_login),
		cmocka_unit_test(dovecot_auth_lines),
		cmocka_unit_test(dovecot_auth_and_disconnect_count_once),
		cmocka_unit_test(dovecot_session_table_is_bounded),
		cmocka_unit_test(postfix_sasl_failures),
		cmocka_unit_test(sshd_lines),
		cmocka_unit_test(sshd_counts_each_connection_once),
		cmocka_unit_test(dovecot_generations),
		cmocka_unit_test(dovecot_pam_and_login_count_once),
		cmocka_unit_test(sshd_generations),
		cmocka_unit_test(sshd_lines_by_process),
		cmocka_unit_test(exim_lines),
		cmocka_unit_test(exim_rejections),
		cmocka_unit_test(roundcube_lines),
		cmocka_unit_test(ipv6_and_mapped_addresses),
		cmocka_unit_test(attacker_text_never_yields_its_address),
		cmocka_unit_test(user_names_become_printable_utf8),
		cmocka_unit_test(garbage_never_crashes),
		cmocka_unit_test(long_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL) +
	       unit_run_table("parser fixtures", fixture_totals, fixture_cases, find_fixtures,
			      NULL);
}
