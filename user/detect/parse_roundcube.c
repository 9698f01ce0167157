// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Roundcube webmail: its errors log (or syslog, "roundcube: ...") and its
 * userlogins log (log_logins = true), both "[22-Jan-2013 22:28:21 +0200]: "
 * in its own files, with an optional "<SESSION> " tag:
 *   IMAP Error: Login failed for USER[ against HOST] from ADDR[(X-Real-IP: ...)]. IMAP ERROR in
 * FILE ... IMAP Error: Login failed for USER from ADDR            (older: nothing follows) Failed
 * login for USER from ADDR in session ID (error: N) FAILED login for USER from ADDR (older)
 *   Successful login for USER (ID: N) from ADDR in session ID
 * USER is the client's text, and so may be the IMAP server's error that
 * follows (it may quote the user name): every " from ADDR" followed by what
 * Roundcube itself writes next (the end, ". " and the IMAP command's name,
 * "(X-Real-IP", " in session ") is a candidate, and they must agree. The
 * address is REMOTE_ADDR, or the proxy's header when Roundcube is told to
 * trust it: the X-Real-IP/X-Forwarded-For text in parentheses is not read.
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

/* What Roundcube writes after the address: whether s (after ADDR) is one of them. */
static bool roundcube_follows(struct span s, bool userlogins)
{
	if (s.n == 0)
		return true;
	if (userlogins)
		return starts(s, LIT(" in session "));
	if (starts(s, LIT("(X-"))) {
		const char *close = memchr(s.p, ')', s.n);

		if (!close)
			return false;
		s = span_cut(close + 1, span_end(s));
		return s.n == 0 || imap_error_follows(s) || equals(s, LIT("."));
	}
	return imap_error_follows(s);
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
	if (!from_addr(msg, userlogins, &ip, &user))
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
