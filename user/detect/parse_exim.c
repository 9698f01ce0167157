// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Exim 4 (Debian's exim4-daemon-light and -heavy), its mainlog
 * ("2026-11-27 12:00:00 [PID] [MSGID] ...") or syslog ("exim[PID]: ..."):
 *   NAME authenticator failed for HOST: 535 Incorrect authentication data[ (set_id=USER)]
 *   SMTP protocol error in "CMD" H=HOST AUTH command used when not advertised
 *   DRIVER authenticator failed for ... is not written on success; a
 *   success is "<= SENDER H=HOST ... A=NAME:USER ...", not read: the rules
 *   need failures, and the guard for SSH sessions does not concern SMTP.
 * HOST is "[NAME ][(HELO) ][ADDR][:PORT][ I=[LADDR]:LPORT]": HELO is the
 * client's text, and so are USER and CMD. The address is the bracket that
 * Exim's fixed text follows; every such place must agree.
 *
 * Exim's other rejections (sender verification, relaying, ACL drops, a
 * client without MAIL) are not authentication failures and are left to
 * Exim's own ACLs: legitimate MTAs cause them too.
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

/*
 * Every "[ADDR]" in s followed (after the port and I=) by lit; the address
 * when they agree. *tail: where the first match's lit starts.
 */
static bool bracket_before(struct span s, const char *lit, size_t n, struct addr_key *ip,
			   const char **tail)
{
	struct candidates c = { 0 };

	*tail = NULL;
	for (const char *close = s.p; (close = memchr(close, ']', (size_t)(span_end(s) - close)));
	     close++) {
		const char *open = memrchr(s.p, '[', (size_t)(close - s.p));
		const char *after = after_host(close + 1, span_end(s));
		struct addr_key cand;

		if (!open || (open - s.p >= 2 && open[-2] == 'I' && open[-1] == '='))
			continue; /* the local address */
		if (!after || (size_t)(span_end(s) - after) < n || memcmp(after, lit, n) != 0 ||
		    !parse_addr(span_cut(open + 1, close), &cand))
			continue;
		parse_candidate(&c, &cand);
		if (!*tail)
			*tail = after;
	}
	return parse_candidates_one(&c, ip);
}

static int exim_authenticator(struct span msg, struct log_record *out)
{
	const char *at = find(msg, LIT(" authenticator failed for ")), *tail, *set_id;
	struct span rest;
	struct addr_key ip;

	if (!at || at == msg.p || !parse_all_word(span_cut(msg.p, at)))
		return 0;
	rest = span_cut(at + 26, span_end(msg));
	if (!bracket_before(rest, LIT(": 535 "), &ip, &tail))
		return 0;
	parse_record(out, LOG_SOURCE_EXIM, "smtp");
	out->event.ip = ip;
	set_id = find(span_cut(tail, span_end(rest)), LIT(" (set_id="));
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
	static const char tail_text[] = " AUTH command used when not advertised";
	const char *h = find(msg, LIT(" H=")), *tail;
	struct addr_key ip;

	if (!h || !ends(msg, tail_text, sizeof(tail_text) - 1))
		return 0;
	/* the fixed text ends the line: only the last bracket can precede it */
	if (!bracket_before(span_cut(h, span_end(msg)), tail_text, sizeof(tail_text) - 1, &ip,
			    &tail))
		return 0;
	parse_record(out, LOG_SOURCE_EXIM, "smtp");
	out->event.ip = ip;
	return 1;
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

	(void)parser;
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
	return exim_authenticator(msg, out);
}
