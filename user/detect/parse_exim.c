// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Exim 4 (Debian's exim4-daemon-light and -heavy), its mainlog
 * ("2026-11-27 12:00:00 [PID] [MSGID] ...") or syslog ("exim[PID]: ..."):
 *   NAME authenticator failed for HOST: 535 Incorrect authentication data[ (set_id=USER)]
 *   SMTP protocol error in "CMD" H=HOST AUTH command used when not advertised
 *   DRIVER authenticator failed for ... is not written on success; a
 *   success is "<= SENDER H=HOST ... A=NAME:USER ...", not read: the rules
 *   need failures, and the guard for SSH sessions does not concern SMTP.
 * HOST is "[NAME ][(HELO) ][ADDR][:PORT][ I=[LADDR]:LPORT]", read from its
 * start: NAME is the verified DNS name (a word), HELO one token (Exim
 * refuses an EHLO argument with spaces), so nothing the client sends moves
 * the address's bracket. USER, CMD, SENDER and RCPT are the client's text
 * and come after HOST, except in "SMTP protocol error in "CMD" H=HOST" and
 * "rejected "CMD" H=HOST": there every " H=" that a HOST and Exim's next
 * fixed text follow is a candidate, and they must agree.
 *
 * Rejections without a credential, the ones fail2ban's exim filter counts
 * (records with rejected set: only the IP rule counts them, and a source
 * with count_rejected = no drops them):
 *   H=HOST[ U=..][ P=..][ F=<SENDER>] rejected RCPT <RCPT>: relay not permitted
 *     (or Sender verify failed, Sender verification failed (Debian's ACL),
 *     Unknown user, Unrouteable address); not "temporarily rejected", not
 *     an authenticated client's (" A=")
 *   H=HOST sender verify fail for <SENDER>: Unrouteable address (Unknown
 *     user, all relevant MX records point to non-existent hosts); the
 *     "Sender verify failed" rejection that follows it for the same
 *     address is the same attempt and does not count again
 *   SMTP protocol synchronization error (WHY): rejected connection from H=HOST input="..."
 *   SMTP protocol synchronization error (WHY): rejected "CMD" H=HOST next input="..."
 *   SMTP call from HOST dropped: too many nonmail commands (last was "CMD")
 *     (or too many syntax or protocol errors)
 *   no MAIL in SMTP connection from HOST D=Ns[ C=...]
 *   SMTP connection from HOST closed by DROP in ACL
 * An authenticated client's sender verification failure counts all the
 * same: its "sender verify fail" line comes before the rejection that
 * names the authentication.
 */
#include "detect/parse.h"

/* After "]": optional ":PORT", then optional " I=[LADDR]:LPORT"; returns the end, or NULL. */
static const char *after_host(const char *p, const char *end)
{
	if (p < end && *p == ':' && p + 1 < end && is_digit(p[1])) {
		p++;
		while (p < end && is_digit(*p))
			p++;
	}
	if (end - p > 4 && memcmp(p, " I=[", 4) == 0) {
		const char *close = memchr(p + 4, ']', (size_t)(end - p - 4));

		if (!close)
			return NULL;
		p = close + 1;
		if (p < end && *p == ':') {
			p++;
			while (p < end && is_digit(*p))
				p++;
		}
	}
	return p;
}

/* s up to its first space. */
static struct span first_token(struct span s)
{
	const char *space = memchr(s.p, ' ', s.n);

	return span_cut(s.p, space ? space : span_end(s));
}

/*
 * HOST at the start of s: its address, and the text after it (after the
 * port and I=) in *rest. False when s does not start with a HOST.
 */
static bool exim_host(struct span s, struct addr_key *ip, struct span *rest)
{
	struct span token = first_token(s);
	const char *close, *after;

	if (token.n && token.p[0] != '[' && token.p[0] != '(') { /* NAME */
		if (!parse_all_word(token) || token.n == s.n)
			return false;
		s = skip(s, token.n + 1);
		token = first_token(s);
	}
	if (token.n >= 2 && token.p[0] == '(') { /* HELO */
		if (token.p[token.n - 1] != ')' || token.n == s.n)
			return false;
		s = skip(s, token.n + 1);
	}
	if (!starts(s, LIT("[")))
		return false;
	close = memchr(s.p, ']', s.n);
	if (!close || !parse_addr(span_cut(s.p + 1, close), ip))
		return false;
	after = after_host(close + 1, span_end(s));
	if (!after)
		return false;
	*rest = span_cut(after, span_end(s));
	return true;
}

/* HOST at the start of s followed by one of the fixed texts of lits: its address. */
static bool host_before(struct span s, const struct literal *lits, size_t count,
			struct addr_key *ip)
{
	struct span rest;

	return exim_host(s, ip, &rest) && starts_any(rest, lits, count);
}

/*
 * After the client's quoted CMD: every " H=" that starts a HOST followed by
 * one of lits is a candidate; the address when they agree.
 */
static bool host_after_command(struct span s, const struct literal *lits, size_t count,
			       struct addr_key *ip)
{
	struct candidates c = { 0 };
	struct addr_key cand;

	for (const char *h = s.p; (h = find(span_cut(h, span_end(s)), LIT("\" H="))) != NULL; h++)
		if (host_before(span_cut(h + 4, span_end(s)), lits, count, &cand))
			parse_candidate(&c, &cand);
	return parse_candidates_one(&c, ip);
}

static int exim_authenticator(struct span msg, struct log_record *out)
{
	static const struct literal code[] = { { LIT(": 535 ") } };
	const char *at = find(msg, LIT(" authenticator failed for ")), *set_id;
	struct span rest;
	struct addr_key ip;

	if (!at || at == msg.p || !parse_all_word(span_cut(msg.p, at)))
		return 0;
	rest = span_cut(at + 26, span_end(msg));
	if (!host_before(rest, code, 1, &ip))
		return 0;
	parse_record(out, LOG_SOURCE_EXIM, "smtp");
	out->event.ip = ip;
	set_id = find(rest, LIT(" (set_id="));
	if (set_id) {
		struct span user = span_cut(set_id + 9, span_end(rest));
		const char *close = memrchr(user.p, ')', user.n);

		if (close)
			parse_copy_text(out->event.user, sizeof(out->event.user),
					span_cut(user.p, close));
	}
	return 1;
}

static int exim_auth_not_advertised(struct span msg, struct log_record *out)
{
	static const struct literal tail_text[] = {
		{ LIT(" AUTH command used when not advertised") },
	};
	struct addr_key ip;

	if (!ends(msg, tail_text[0].text, tail_text[0].len) ||
	    !host_after_command(msg, tail_text, 1, &ip))
		return 0;
	parse_record(out, LOG_SOURCE_EXIM, "smtp");
	out->event.ip = ip;
	return 1;
}

/* What follows the client's address in an "H=HOST ..." rejection (after the port and I=). */
static const struct literal h_followers[] = {
	{ LIT(" U=") },
	{ LIT(" P=") },
	{ LIT(" F=") },
	{ LIT(" A=") },
	{ LIT(" rejected RCPT ") },
	{ LIT(" sender verify fail for ") },
};

/* The ACL messages ending a counted "rejected RCPT" line. */
static const struct literal rcpt_reasons[] = {
	{ LIT(": relay not permitted") },	 { LIT(": Sender verify failed") },
	{ LIT(": Sender verification failed") }, { LIT(": Unknown user") },
	{ LIT(": Unrouteable address") },
};

/* The verification results ending a counted "sender verify fail" line. */
static const struct literal verify_reasons[] = {
	{ LIT(": Unknown user") },
	{ LIT(": Unrouteable address") },
	{ LIT(": all relevant MX records point to non-existent hosts") },
};

static const struct literal input_follows[] = { { LIT(" input=\"") } };
static const struct literal next_input_follows[] = { { LIT(" next input=\"") } };
static const struct literal call_followers[] = {
	{ LIT(" dropped: too many nonmail commands (") },
	{ LIT(" dropped: too many syntax or protocol errors (") },
};
static const struct literal no_mail_followers[] = { { LIT(" D=") } };
static const struct literal drop_followers[] = { { LIT(" closed by DROP in ACL") } };

static int rejected(const struct addr_key *ip, struct log_record *out)
{
	parse_record(out, LOG_SOURCE_EXIM, "smtp");
	out->rejected = true;
	out->event.ip = *ip;
	return 1;
}

static bool same_addr(const struct addr_key *a, const struct addr_key *b)
{
	return memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

/* "H=HOST ... rejected RCPT ..." and "H=HOST sender verify fail for ...". */
static int exim_h_rejection(struct parser *parser, struct span msg, struct log_record *out)
{
	struct addr_key ip;
	bool verify_fail = false, verify_rejection;

	if (find(msg, LIT(" rejected RCPT "))) {
		if (!ends_any(msg, rcpt_reasons, ARRAY_SIZE(rcpt_reasons)) ||
		    find(msg, LIT(" temporarily rejected RCPT ")) || find(msg, LIT(" A=")))
			return 0; /* a deferral, another ACL's, or an authenticated client's */
	} else if (find(msg, LIT(" sender verify fail for <")) &&
		   ends_any(msg, verify_reasons, ARRAY_SIZE(verify_reasons))) {
		verify_fail = true;
	} else {
		return 0;
	}
	if (!host_before(skip(msg, 2), h_followers, ARRAY_SIZE(h_followers), &ip))
		return 0;
	if (verify_fail) {
		parser->exim_verify_ip = ip;
		parser->exim_verify_pending = true;
		return rejected(&ip, out);
	}
	verify_rejection = ends(msg, LIT(": Sender verify failed")) ||
			   ends(msg, LIT(": Sender verification failed"));
	if (verify_rejection && parser->exim_verify_pending &&
	    same_addr(&parser->exim_verify_ip, &ip)) {
		parser->exim_verify_pending = false;
		return 0; /* the rejection of the verification just counted */
	}
	return rejected(&ip, out);
}

/* "SMTP protocol synchronization error (WHY): rejected ..." */
static int exim_sync_error(struct span msg, struct log_record *out)
{
	const char *at = find(msg, LIT("): rejected "));
	struct span rest;
	struct addr_key ip;

	if (!at)
		return 0;
	rest = span_cut(at + 12, span_end(msg));
	if (starts(rest, LIT("connection from H=")))
		return host_before(skip(rest, 18), input_follows, 1, &ip) ? rejected(&ip, out) : 0;
	if (starts(rest, LIT("\"")) && host_after_command(rest, next_input_follows, 1, &ip))
		return rejected(&ip, out);
	return 0;
}

static int exim_rejection(struct parser *parser, struct span msg, struct log_record *out)
{
	struct addr_key ip;

	if (starts(msg, LIT("H=")))
		return exim_h_rejection(parser, msg, out);
	if (starts(msg, LIT("SMTP protocol synchronization error (")))
		return exim_sync_error(msg, out);
	if (starts(msg, LIT("SMTP call from ")))
		return host_before(skip(msg, 15), call_followers, ARRAY_SIZE(call_followers), &ip)
			   ? rejected(&ip, out)
			   : 0;
	if (starts(msg, LIT("no MAIL in SMTP connection from ")))
		return host_before(skip(msg, 32), no_mail_followers, 1, &ip) ? rejected(&ip, out)
									     : 0;
	if (starts(msg, LIT("SMTP connection from ")) &&
	    ends(msg, drop_followers[0].text, drop_followers[0].len))
		return host_before(skip(msg, 21), drop_followers, 1, &ip) ? rejected(&ip, out) : 0;
	return 0;
}

/* Exim's message ID: "1ahr79-0006jK-G9" (6, 6 and 2 base-62 characters). */
static bool is_message_id(struct span token)
{
	if (token.n != 16 || token.p[6] != '-' || token.p[13] != '-')
		return false;
	for (size_t i = 0; i < token.n; i++)
		if (i != 6 && i != 13 && !is_word(token.p[i]))
			return false;
	return true;
}

int parse_exim(struct parser *parser, const struct line_head *h, struct log_record *out)
{
	struct span msg = h->msg, rest, token;

	if (starts(msg, LIT("["))) { /* mainlog's "[PID] " */
		rest = msg;
		token = parse_next_token(&rest);
		if (token.n > 2 && ends(token, LIT("]")) &&
		    parse_all_digits(span_cut(token.p + 1, span_end(token) - 1)))
			msg = rest;
	}
	rest = msg;
	token = parse_next_token(&rest);
	if (is_message_id(token))
		msg = rest;
	if (starts(msg, LIT("SMTP protocol error in ")))
		return exim_auth_not_advertised(msg, out);
	if (exim_authenticator(msg, out))
		return 1;
	return exim_rejection(parser, msg, out);
}
