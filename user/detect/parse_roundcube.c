// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Roundcube webmail: its errors log (or syslog, "roundcube: ...") and its
 * userlogins log (log_logins = true), both "[22-Jan-2013 22:28:21 +0200]: "
 * in its own files, with an optional "<SESSION> " tag:
 *
 *   IMAP Error: Login failed for USER[ against HOST] from ADDR[ (X-...)]. IMAP ERROR in FILE ...
 *   IMAP Error: Login failed for USER from ADDR          (older: nothing follows)
 *   Failed login for USER from ADDR[ (X-...)] in session ID (error: N)
 *   FAILED login for USER from ADDR                      (older)
 *   Successful login for USER (ID: N) from ADDR[ (X-...)] in session ID
 *
 * "(X-Real-IP: ..., X-Forwarded-For: ...)" (without the space before 1.5)
 * holds the client's proxy headers, never read. USER is the client's text,
 * and so may be the IMAP server's error that follows it (it may quote the
 * user name). A userlogins line is read from its end, which the client does
 * not write; in the errors log (and after proxy headers) every " from ADDR"
 * followed by what Roundcube itself writes next (the end, ". " and the IMAP
 * command's name, the proxy headers, " in session ") is a candidate, and
 * they must agree. The address is REMOTE_ADDR, or the proxy's header when
 * Roundcube is told to trust one (proxy_whitelist).
 */
#include "detect/parse.h"

/* ". " then an IMAP command's name and ": " ("AUTHENTICATE PLAIN: ", "LOGIN: "). */
static bool imap_error_follows(struct span s)
{
	size_t i = 2;

	if (!starts(s, LIT(". ")))
		return false;
	while (i < s.n && ((s.p[i] >= 'A' && s.p[i] <= 'Z') || s.p[i] == ' ' || s.p[i] == '-' ||
			   is_digit(s.p[i])))
		i++;
	return i > 2 && i + 1 < s.n && s.p[i] == ':' && s.p[i + 1] == ' ';
}

/* What Roundcube writes after the address, when no proxy header follows it. */
static bool after_addr(struct span s, bool userlogins)
{
	if (userlogins)
		return s.n == 0 || starts(s, LIT(" in session "));
	return s.n == 0 || imap_error_follows(s) || equals(s, LIT("."));
}

/*
 * Whether s (after ADDR) is what Roundcube writes there: with the client's
 * proxy headers, " (X-Real-IP: ..., X-Forwarded-For: ...)" (1.5+) or
 * "(X-...)" (older), the client's text whose ')' may be any of them.
 */
static bool roundcube_follows(struct span s, bool userlogins)
{
	if (starts(s, LIT(" (X-")))
		s = skip(s, 1);
	if (!starts(s, LIT("(X-")))
		return after_addr(s, userlogins);
	for (const char *close = s.p; (close = memchr(close, ')', (size_t)(span_end(s) - close)));
	     close++)
		if (after_addr(span_cut(close + 1, span_end(s)), userlogins))
			return true;
	return false;
}

static bool from_addr(struct span s, bool userlogins, struct addr_key *ip, struct span *user)
{
	struct candidates c = { 0 };
	const char *from;

	for (struct span scan = s; (from = find(scan, LIT(" from "))) != NULL;
	     scan = span_cut(from + 6, span_end(s))) {
		struct span rest = span_cut(from + 6, span_end(s));
		const char *end = rest.p;
		struct addr_key cand;

		while (end < span_end(rest) && (is_word(*end) || *end == ':'))
			end++;
		/* an IPv4 address ending a sentence: "1.2.3.4." */
		if (end > rest.p && end[-1] == '.')
			end--;
		if (!parse_addr(span_cut(rest.p, end), &cand) ||
		    !roundcube_follows(span_cut(end, span_end(rest)), userlogins))
			continue;
		parse_candidate(&c, &cand);
		if (c.count == 1)
			*user = span_cut(s.p, from);
	}
	return parse_candidates_one(&c, ip);
}

/*
 * userlogins: "USER from ADDR[ (X-...)][ in session SID][ (error: N)]", read
 * from its end, which the client does not write: without proxy headers the
 * address is the last word, whatever USER holds.
 */
static bool userlogins_addr(struct span s, struct addr_key *ip, struct span *user)
{
	const char *at;

	if (ends(s, LIT(")")) && (at = parse_rfind(s, LIT(" (error: "))) != NULL &&
	    parse_all_digits(span_cut(at + 9, span_end(s) - 1)))
		s = span_cut(s.p, at);
	at = parse_rfind(s, LIT(" in session "));
	if (at && parse_all_word(span_cut(at + 12, span_end(s))))
		s = span_cut(s.p, at);
	if (ends(s, LIT(")")))
		return from_addr(s, true, ip, user); /* proxy headers: the client's text */
	at = parse_rfind(s, LIT(" from "));
	if (!at || !parse_addr(span_cut(at + 6, span_end(s)), ip))
		return false;
	*user = span_cut(s.p, at);
	return true;
}

int parse_roundcube(struct parser *parser, const struct line_head *h, struct log_record *out)
{
	struct span msg = h->msg, user;
	struct addr_key ip;
	bool ok = false, userlogins = true;
	const char *against;

	(void)parser;
	if (starts(msg, LIT("<"))) { /* "<SESSION> " */
		const char *gt = memchr(msg.p, '>', msg.n);

		if (!gt || gt + 1 >= span_end(msg) || gt[1] != ' ' ||
		    !parse_all_word(span_cut(msg.p + 1, gt)))
			return 0;
		msg = span_cut(gt + 2, span_end(msg));
	}
	if (starts(msg, LIT("IMAP Error: Login failed for "))) {
		msg = skip(msg, 29);
		userlogins = false;
	} else if (starts(msg, LIT("Failed login for "))) {
		msg = skip(msg, 17);
	} else if (starts(msg, LIT("FAILED login for "))) {
		msg = skip(msg, 17);
	} else if (starts(msg, LIT("Successful login for "))) {
		msg = skip(msg, 21);
		ok = true;
	} else {
		return 0;
	}
	if (!(userlogins ? userlogins_addr(msg, &ip, &user) : from_addr(msg, false, &ip, &user)))
		return 0;
	against = parse_rfind(user, LIT(" against "));
	if (!userlogins && against)
		user = span_cut(user.p, against); /* Roundcube 1.4+: the IMAP host follows */
	if (ok && ends(user, LIT(")")) && (against = parse_rfind(user, LIT(" (ID: "))) != NULL)
		user = span_cut(user.p, against);
	parse_record(out, LOG_SOURCE_ROUNDCUBE, "webmail");
	out->event.outcome = ok ? AUTH_OK : AUTH_FAIL;
	out->event.ip = ip;
	parse_copy_text(out->event.user, sizeof(out->event.user), user);
	return 1;
}
