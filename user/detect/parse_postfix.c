// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Postfix smtpd (any service name: postfix/smtpd, postfix/submission/smtpd,
 * postfix-incoming/smtpd, ...):
 *   warning: NAME[ADDR][:PORT]: SASL MECH authentication failed: [REASON][, sasl_username=U]
 *   QUEUEID: client=NAME[ADDR][:PORT], sasl_method=M, sasl_username=U[, sasl_sender=S]
 * NAME is a validated host name or "unknown" and comes first; MECH is
 * written as the client sent it, in any case; REASON may be empty.
 *
 * Two reasons are the server's own trouble, not the client's guess, and
 * never count: "Connection lost to authentication server" (Dovecot's auth
 * service restarting: every client's next login fails) and "Invalid
 * authentication mechanism" (a mechanism offered but not configured).
 * With Dovecot SASL and auth_verbose=yes, Dovecot's auth line for the same
 * request (which has no session) counted the failure already when the same
 * parser read it first (one log, or the journal).
 */
#include "detect/parse.h"

/* "NAME[ADDR]" then optional ":PORT"; returns what follows, or NULL. */
static const char *postfix_client(struct span s, struct addr_key *ip)
{
	const char *open = memchr(s.p, '[', s.n), *close, *p;

	if (!open || open == s.p || !parse_all_word(span_cut(s.p, open)))
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

static bool server_side_reason(struct span reason)
{
	return starts(reason, LIT("Connection lost to authentication server")) ||
	       starts(reason, LIT("Invalid authentication mechanism"));
}

static int postfix_sasl_failure(struct parser *parser, struct span msg, struct log_record *out)
{
	struct span rest = skip(msg, 9), user;
	const char *p, *at;
	struct addr_key ip;

	p = postfix_client(rest, &ip);
	if (!p)
		return 0;
	rest = span_cut(p, span_end(rest));
	if (!starts(rest, LIT(": SASL ")))
		return 0;
	rest = skip(rest, 7);
	p = memchr(rest.p, ' ', rest.n);
	if (!p || p == rest.p || !parse_all_word(span_cut(rest.p, p)))
		return 0;
	rest = span_cut(p, span_end(rest));
	if (!starts(rest, LIT(" authentication failed:")))
		return 0;
	rest = parse_strip(skip(rest, 23), LIT(" "));
	if (server_side_reason(rest))
		return 0;
	parse_record(out, LOG_SOURCE_POSTFIX, "smtp");
	out->event.ip = ip;
	at = find(rest, LIT(", sasl_username="));
	if (at) {
		user = span_cut(at + 16, span_end(rest));
		if (!equals(user, LIT("(unavailable)")))
			parse_copy_text(out->event.user, sizeof(out->event.user), user);
	}
	if (out->event.user[0] && parse_dovecot_echo(parser, &ip, out->event.user))
		return 0; /* Dovecot's auth line for this request counted it */
	return 1;
}

static int postfix_sasl_login(struct span msg, struct log_record *out)
{
	struct span rest, user;
	const char *p, *at = find(msg, LIT(": client="));
	struct addr_key ip;

	if (!at || at == msg.p || !parse_all_word(span_cut(msg.p, at)))
		return 0;
	rest = span_cut(at + 9, span_end(msg));
	p = postfix_client(rest, &ip);
	if (!p)
		return 0;
	rest = span_cut(p, span_end(rest));
	if (!starts(rest, LIT(", sasl_method=")))
		return 0;
	parse_record(out, LOG_SOURCE_POSTFIX, "smtp");
	out->event.outcome = AUTH_OK;
	out->event.ip = ip;
	at = find(rest, LIT(", sasl_username="));
	if (at) {
		const char *stop;

		user = span_cut(at + 16, span_end(rest));
		stop = find(user, LIT(", sasl_sender="));
		if (stop)
			user = span_cut(user.p, stop);
		parse_copy_text(out->event.user, sizeof(out->event.user), user);
	}
	return 1;
}

int parse_postfix(struct parser *parser, const struct line_head *h, struct log_record *out)
{
	const char *slash = h->prog.n ? memrchr(h->prog.p, '/', h->prog.n) : NULL;

	if (slash && !equals(span_cut(slash + 1, span_end(h->prog)), LIT("smtpd")))
		return 0; /* postfix/qmgr, postfix/cleanup, ...: no authentication */
	if (starts(h->msg, LIT("warning: ")))
		return postfix_sasl_failure(parser, h->msg, out);
	return postfix_sasl_login(h->msg, out);
}
