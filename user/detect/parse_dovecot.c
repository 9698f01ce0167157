// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Dovecot 2.0 to 2.4, from its sources (src/login-common/client-common.c,
 * src/auth/auth-request.c) and real logs (tests/fixtures/logs/).
 *
 * Login processes (login_log_format "%$: %s"; the elements are Dovecot's
 * default login_log_format_elements; the user name is sanitized and cut at
 * 80 bytes, not escaped: it may contain '>', ", rip=" or anything printable):
 *   2.0-2.3: imap-login: Disconnected: REASON (auth failed, 3 attempts in 15 secs): ELEMENTS
 *            pop3-login: Aborted login (auth failed, 1 attempts): ELEMENTS
 *            (tried to use disallowed plaintext auth), (proxy dest auth failed),
 *            (disconnected while authenticating, waited S secs)
 *   2.4:     imap-login: Login aborted: REASON (auth failed, 1 attempts in 2 secs)
 *              (auth_failed): ELEMENTS
 *            whose last parenthesis is the reason's code: auth_failed,
 *            proxy_dest_auth_failed, cleartext_auth_disabled,
 *            invalid_credentials count; no_auth_attempts, TLS handshakes,
 *            auth_aborted_by_client and the server's own failures do not.
 *   ELEMENTS: [user=<U>, ][method=M, ]rip=R[, lip=L][, mpid=N][, TLS[...]][, session=<S>]
 *   imap-login: Login: ELEMENTS                 (2.0-2.3)
 *   imap-login: Logged in: ELEMENTS             (2.4)
 * Every element after user=<...> is Dovecot's own, so the last ", rip=" is
 * the real one. The session ID (base64 of time, port and the client's
 * address) cross-checks it: a line whose session carries another address
 * counts only when its user name holds no "rip=" (a line cut short inside
 * a user name that reads "..., rip=203.0.113.9" is not taken for whole); a
 * line without one (older servers) or with one that does not decode
 * (anonymised logs) is taken by its structure alone.
 *
 * The auth process (auth_verbose=yes; user sanitized, cut at 64 bytes):
 *   2.3: auth: passwd-file(bob,198.51.100.5,<F6pBdUJhn9rGM2QF>): Password mismatch
 *        auth-worker(912): conn unix:auth-worker (pid=911,uid=105): auth-worker<1>:
 *          pam(bob,198.51.100.5,<...>): pam_authenticate() failed: Authentication failure
 *        NAME(USER,IP[,master][,<SESSION>]): MESSAGE [(given password: ...)]
 *   2.4: auth: auth(bob,198.51.100.5,sasl:plain)<SESSION>: passwd-file: Password mismatch
 *        auth-worker(bob,IP,sasl:plain)<PID><SESSION>: request [N]: pam: ...
 *   2.0: auth(default): pam(bob,1.2.3.4): pam_authenticate() failed: ...
 * Both USER and, with auth_verbose_passwords=plain, the message's tail are
 * the client's text: a line in which more than one ": " could end the
 * prefix is ignored. A session carrying another address rejects the line;
 * without one that decodes, the line counts only when USER has no ','
 * (then "USER,IP" splits one way only).
 *
 * PAM's own line, from Dovecot's auth process (dovecot-auth, auth):
 *   pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0
 *     tty=dovecot ruser=USER rhost=ADDR[  user=USER]
 *
 * One attempt is one failure: an auth line's failure is remembered by
 * session (or by address without one) and the login process's "(auth
 * failed, N attempts)" line adds only the attempts not counted yet; a PAM
 * line is remembered by address and Dovecot's own line for it then does
 * not count again; Postfix's line for a SASL failure that Dovecot's
 * session-less auth line already counted does not count again
 * (parse_dovecot_echo).
 */
#include "detect/parse.h"

#include "lib/cidr.h"

#define AUTH_CANDIDATES_MAX 8

enum { IP_PAM_UNIX, IP_NO_SESSION }; /* the keys of CONN_DOVECOT_PAM slots */

static void dovecot_service(struct span proc, char service[EVENT_SERVICE_LEN])
{
	if (ends(proc, LIT("-login")))
		proc = drop_tail(proc, 6);
	if (equals(proc, LIT("managesieve")))
		proc = (struct span){ LIT("sieve") };
	parse_copy_text(service, EVENT_SERVICE_LEN, proc);
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

enum session_check { SESSION_MATCHES, SESSION_DIFFERS, SESSION_OPAQUE };

/*
 * Dovecot's session ID is base64 of 6 bytes of time, 2 of port and the
 * client's address (4 or 16 bytes): whether it carries ip. One of another
 * length is opaque (an anonymised log, another server).
 */
static enum session_check session_check(struct span session, const struct addr_key *ip)
{
	unsigned char raw[24];
	size_t len = session.n / 4 * 3;
	bool same;

	if (session.n % 4 || (len != 12 && len != 24))
		return SESSION_OPAQUE;
	for (size_t i = 0; i < session.n; i += 4) {
		int a = base64_value(session.p[i]), b = base64_value(session.p[i + 1]);
		int c = base64_value(session.p[i + 2]), d = base64_value(session.p[i + 3]);

		if (a < 0 || b < 0 || c < 0 || d < 0)
			return SESSION_OPAQUE;
		raw[i / 4 * 3] = (unsigned char)(a << 2 | b >> 4);
		raw[i / 4 * 3 + 1] = (unsigned char)((b & 15) << 4 | c >> 2);
		raw[i / 4 * 3 + 2] = (unsigned char)((c & 3) << 6 | d);
	}
	if (len == 12)
		same = cidr_is_ipv4(ip->addr) && memcmp(raw + 8, &ip->addr[12], 4) == 0;
	else
		same = memcmp(raw + 8, ip->addr, 16) == 0; /* IPv6, or IPv4 kept IPv4-mapped */
	return same ? SESSION_MATCHES : SESSION_DIFFERS;
}

static bool is_base64_span(struct span s)
{
	for (size_t i = 0; i < s.n; i++)
		if (base64_value(s.p[i]) < 0 && s.p[i] != '=')
			return false;
	return s.n > 0 && s.n <= SESSION_ID_MAX;
}

/* ---- per-address memory of failures counted without a session ------------------------------ */

/*
 * The key of a CONN_DOVECOT_PAM slot: which memory, and the user name
 * (lower-cased, as auth_username_format's default), so that unrelated
 * lines of one address (a webmail's, a NAT's) do not pair.
 */
static unsigned int ip_key(unsigned int which, struct span user)
{
	return (parse_hash_name(user, true) << 1) | which;
}

static void ip_count(struct parser *parser, unsigned int which, const struct addr_key *ip,
		     struct span user)
{
	parse_conn(parser, CONN_DOVECOT_PAM, ip, ip_key(which, user), true)->counted++;
	parser->ip_memory++;
}

/* Takes up to max failures remembered for ip and user; returns how many. */
static unsigned int ip_take(struct parser *parser, unsigned int which, const struct addr_key *ip,
			    struct span user, unsigned int max)
{
	struct conn_slot *slot;
	unsigned int taken;

	if (!parser->ip_memory)
		return 0; /* nothing to pair with: no lookup */
	slot = parse_conn(parser, CONN_DOVECOT_PAM, ip, ip_key(which, user), false);
	if (!slot)
		return 0;
	taken = slot->counted < max ? slot->counted : max;
	slot->counted -= taken;
	parser->ip_memory -= taken < parser->ip_memory ? taken : parser->ip_memory;
	if (!slot->counted)
		slot->stamp = 0;
	return taken;
}

bool parse_dovecot_echo(struct parser *parser, const struct addr_key *ip, const char *user)
{
	struct span u = { user, strlen(user) };

	return ip_take(parser, IP_NO_SESSION, ip, u, 1) == 1;
}

/* ---- login processes ------------------------------------------------------------------------ */

/*
 * ELEMENTS (above): fills ip, user and session (empty without one). A
 * session that decodes to another address means the line is not what it
 * seems (cut short inside a user name that reads "..., rip=203.0.113.9").
 */
static bool login_elements(struct span el, struct auth_event *event, struct span *session)
{
	const char *rip = NULL, *end, *at;
	struct span value, user;

	session->n = 0;
	session->p = el.p;
	if (starts(el, LIT("rip=")))
		rip = el.p;
	at = parse_rfind(el, LIT(", rip="));
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
			parse_copy_text(event->user, sizeof(event->user), user);
		}
	}

	at = parse_rfind(el, LIT(", session=<"));
	if (!at || at < rip)
		return true;
	if (!ends(el, LIT(">")))
		return false;
	*session = span_cut(at + 11, span_end(el) - 1);
	/* a session of another address: only a user name without "rip=" leaves no doubt */
	return session_check(*session, &event->ip) != SESSION_DIFFERS ||
	       !find((struct span){ el.p, (size_t)(rip - el.p) }, LIT("rip="));
}

static void forget_session(struct parser *parser, struct span session)
{
	struct session_slot *slot;

	if (!session.n)
		return;
	slot = parse_session(parser, session, false);
	if (slot)
		slot->stamp = 0;
}

/* ", N attempts" in text (2.4's human reason, 2.0-2.3's "auth failed, N attempts ..."). */
static bool attempts_in(struct span text, unsigned int *attempts)
{
	const char *at = find(text, LIT(" attempts")), *start;

	if (!at)
		return false;
	start = at;
	while (start > text.p && is_digit(start[-1]))
		start--;
	if (start == at || start < text.p + 2 || start[-1] != ' ' || start[-2] != ',')
		return false;
	return parse_uint(span_cut(start, at), attempts) && *attempts > 0;
}

/*
 * The failed attempts a disconnect line's parenthesis stands for (0: none
 * that counts). extra is its last parenthesis, before the elements.
 */
static unsigned int login_failures(struct span msg, const char *open, struct span extra)
{
	unsigned int attempts = 0;

	if (parse_all_word(extra)) {
		/* 2.4: "(HUMAN) (CODE)"; HUMAN says how many */
		static const struct literal counted[] = {
			{ LIT("auth_failed") },
			{ LIT("proxy_dest_auth_failed") },
			{ LIT("cleartext_auth_disabled") },
			{ LIT("invalid_credentials") },
		};
		const char *human;

		for (size_t i = 0; i < ARRAY_SIZE(counted); i++) {
			if (!equals(extra, counted[i].text, counted[i].len))
				continue;
			if (open < msg.p + 2 || open[-1] != ' ' || open[-2] != ')')
				return 0;
			human = memrchr(msg.p, '(', (size_t)(open - 2 - msg.p));
			if (!human || !attempts_in(span_cut(human + 1, open - 2), &attempts))
				attempts = 1;
			return attempts;
		}
		return 0;
	}
	if (starts(extra, LIT("auth failed, ")))
		return attempts_in(skip(extra, 11), &attempts) ? attempts : 0;
	if (starts(extra, LIT("disconnected while authenticating")) ||
	    equals(extra, LIT("tried to use disallowed plaintext auth")) ||
	    equals(extra, LIT("tried to use disabled plaintext auth")) ||
	    equals(extra, LIT("proxy dest auth failed")))
		return 1; /* one attempt, judged or refused */
	return 0;
}

/*
 * "[Login aborted: ]<reason> (<extra>)[ (<code>)]: <elements>" and "Login:
 * <elements>". The first "): " ends the reason: the user name comes only
 * after it.
 */
static int dovecot_login(struct parser *parser, struct span proc, struct span msg,
			 struct log_record *out)
{
	struct span el, session;
	const char *close, *open;
	unsigned int attempts;

	if (starts(msg, LIT("Login: ")) || starts(msg, LIT("Logged in: "))) {
		parse_record(out, LOG_SOURCE_DOVECOT, "");
		dovecot_service(proc, out->event.service);
		if (!login_elements(skip(msg, starts(msg, LIT("Login: ")) ? 7 : 11), &out->event,
				    &session))
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
	attempts = login_failures(msg, open, span_cut(open + 1, close));
	if (!attempts)
		return 0;

	parse_record(out, LOG_SOURCE_DOVECOT, "");
	dovecot_service(proc, out->event.service);
	el = span_cut(close + 3, span_end(msg));
	if (!login_elements(el, &out->event, &session))
		return 0;
	if (session.n) {
		struct session_slot *slot = parse_session(parser, session, false);

		if (slot) {
			if (memcmp(&slot->ip, &out->event.ip, sizeof(slot->ip)) == 0)
				attempts = attempts > slot->counted ? attempts - slot->counted : 0;
			slot->stamp = 0;
		}
	}
	{
		struct span user = { out->event.user, strlen(out->event.user) };

		attempts -= ip_take(parser, IP_NO_SESSION, &out->event.ip, user, attempts);
		attempts -= ip_take(parser, IP_PAM_UNIX, &out->event.ip, user, attempts);
	}
	if (attempts == 0)
		return 0; /* every attempt was counted from auth lines already */
	out->event.attempts = attempts;
	return 1;
}

/* ---- the auth process ------------------------------------------------------------------------ */

static bool auth_failure_message(struct span m, bool *pam)
{
	const char *colon;

	/* 2.4's log_path puts the level after the prefix, then names the passdb:
	 * "Info: passwd-file: Password mismatch" */
	m = parse_strip(m, LIT("Info: "));
	colon = memchr(m.p, ':', m.n < 40 ? m.n : 40);
	if (colon && colon + 1 < span_end(m) && colon[1] == ' ' &&
	    parse_all_word(span_cut(m.p, colon)) && !starts(m, LIT("pam_authenticate() failed")))
		m = span_cut(colon + 2, span_end(m));
	*pam = starts(m, LIT("pam_authenticate() failed"));
	return *pam || starts(m, LIT("Password mismatch")) || starts(m, LIT("unknown user")) ||
	       starts(m, LIT("invalid credentials"));
}

/* Strips a trailing "<...>" group; returns its text, or an empty span. */
static struct span strip_group(struct span *s)
{
	const char *lt;

	if (!ends(*s, LIT(">")))
		return (struct span){ 0 };
	lt = memrchr(s->p, '<', s->n);
	if (!lt)
		return (struct span){ 0 };
	struct span group = span_cut(lt + 1, span_end(*s) - 1);
	*s = span_cut(s->p, lt);
	return group;
}

/*
 * The part before ": " of an auth line, after "NAME(":
 *   2.3: "USER,IP[,master][,<SESSION>])"
 *   2.4: "USER[,IP][,sasl:MECH][,master])[<PID>][<SESSION>][: request [N]]"
 * Parsed from the end; USER is whatever is left.
 */
static bool auth_prefix(struct span s, struct span *user, struct addr_key *ip, struct span *session)
{
	const char *comma;
	struct span group;

	session->n = 0;
	session->p = s.p;
	if (ends(s, LIT("]"))) {
		const char *req = parse_rfind(s, LIT(": request ["));

		if (!req || !parse_all_digits(span_cut(req + 11, span_end(s) - 1)))
			return false;
		s = span_cut(s.p, req);
	}
	/* 2.4: ")<SESSION>", ")<PID><SESSION>" or ")<PID>" (workers) */
	{
		struct span groups[2];
		int count = 0;

		while (count < 2 && ends(s, LIT(">"))) {
			groups[count] = strip_group(&s);
			if (!is_base64_span(groups[count]))
				return false;
			count++;
		}
		if (count == 2 || (count == 1 && !parse_all_digits(groups[0])))
			*session = groups[0];
	}
	if (!ends(s, LIT(")")))
		return false;
	s = drop_tail(s, 1);
	if (ends(s, LIT(">"))) { /* 2.3: ",<SESSION>" inside */
		group = strip_group(&s);
		if (!group.n || !is_base64_span(group) || !ends(s, LIT(",")))
			return false;
		*session = group;
		s = drop_tail(s, 1);
	} else if (ends(s, LIT(","))) {
		s = drop_tail(s, 1); /* an empty session */
	}
	if (ends(s, LIT(",master")))
		s = drop_tail(s, 7);
	comma = memrchr(s.p, ',', s.n);
	if (comma && starts(span_cut(comma, span_end(s)), LIT(",sasl:")) &&
	    parse_all_word(span_cut(comma + 6, span_end(s)))) {
		s = span_cut(s.p, comma);
		comma = memrchr(s.p, ',', s.n);
	}
	if (ends(s, LIT(",master")))
		s = drop_tail(s, 7);
	comma = memrchr(s.p, ',', s.n);
	if (!comma || !parse_addr(span_cut(comma + 1, span_end(s)), ip))
		return false;
	*user = span_cut(s.p, comma);
	switch (session->n ? session_check(*session, ip) : SESSION_OPAQUE) {
	case SESSION_MATCHES:
		return true;
	case SESSION_DIFFERS:
		return false; /* a user name that ends "...,203.0.113.9,<SESSION>): unknown user" */
	case SESSION_OPAQUE:
		break;
	}
	return !memchr(user->p, ',', user->n); /* "USER,IP" splits one way only */
}

static int dovecot_auth(struct parser *parser, struct span msg, struct log_record *out)
{
	const char *open, *at;
	struct span rest, user = { 0 }, session = { 0 };
	struct addr_key ip = { 0 };
	struct session_slot *slot;
	unsigned int found = 0, tried = 0;
	bool pam = false;

	/* NAME( : a passdb name, a SASL mechanism, "auth" (2.4) */
	open = memchr(msg.p, '(', msg.n);
	if (!open || open == msg.p || !parse_all_word(span_cut(msg.p, open)))
		return 0;
	rest = span_cut(open + 1, span_end(msg));
	/* Every ": " followed by a failure message is a candidate end of the prefix. */
	for (struct span scan = rest; (at = find(scan, LIT(": "))) != NULL;
	     scan = span_cut(at + 2, span_end(scan))) {
		struct span cand_user, cand_session, message = span_cut(at + 2, span_end(msg));
		struct addr_key cand_ip;
		bool cand_pam;

		if (!auth_failure_message(message, &cand_pam))
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
		pam = cand_pam;
		if (find(message, LIT(" - trying the next passdb")))
			return 0; /* not the final verdict on this attempt */
	}
	if (!found)
		return 0;
	if (session.n) {
		slot = parse_session(parser, session, true);
		if (slot->counted && memcmp(&slot->ip, &ip, sizeof(ip)) != 0)
			slot->counted = 0;
		slot->ip = ip;
		slot->counted++;
	} else {
		ip_count(parser, IP_NO_SESSION, &ip, user);
	}
	if (pam && ip_take(parser, IP_PAM_UNIX, &ip, user, 1))
		return 0; /* pam_unix's own line counted it */

	parse_record(out, LOG_SOURCE_DOVECOT, "dovecot");
	out->event.ip = ip;
	if (!equals(user, LIT("?")))
		parse_copy_text(out->event.user, sizeof(out->event.user), user);
	return 1;
}

static int dovecot_pam_unix(struct parser *parser, struct span msg, struct log_record *out)
{
	struct addr_key ip;
	struct span user;

	msg = skip(msg, 24);
	if (!starts(msg, LIT("authentication failure; ")) ||
	    !parse_pam_unix(skip(msg, 24), &ip, &user))
		return 0;
	ip_count(parser, IP_PAM_UNIX, &ip, user);
	parse_record(out, LOG_SOURCE_DOVECOT, "dovecot");
	out->event.ip = ip;
	parse_copy_text(out->event.user, sizeof(out->event.user), user);
	return 1;
}

/* proc: "imap-login", "auth", "auth-worker(123)", "dovecot-auth"; msg: what follows "proc: ". */
static int dovecot_proc(struct parser *parser, struct span proc, struct span msg,
			struct log_record *out)
{
	msg = parse_strip(msg, LIT("Info: "));
	if ((starts(proc, LIT("auth(")) || starts(proc, LIT("auth-worker("))) &&
	    memchr(proc.p, ',', proc.n))
		return dovecot_auth(parser, span_cut(proc.p, span_end(msg)),
				    out); /* 2.4's prefix */
	if (ends(proc, LIT("-login")))
		return dovecot_login(parser, proc, msg, out);
	if (starts(msg, LIT("pam_unix(dovecot:auth): ")))
		return dovecot_pam_unix(parser, msg, out);
	if (starts(proc, LIT("auth-worker")) && starts(msg, LIT("conn "))) {
		/* 2.3: "conn unix:auth-worker (pid=911,uid=105): auth-worker<1>: pam(...)" */
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

bool parse_dovecot_prog(struct span prog)
{
	return equals(prog, LIT("dovecot")) || ends(prog, LIT("-login")) ||
	       equals(prog, LIT("auth")) || starts(prog, LIT("auth-worker")) ||
	       starts(prog, LIT("auth(")) || equals(prog, LIT("dovecot-auth"));
}

/* msg after "dovecot: ": "imap-login: ...", "auth: ...", 2.0's "dovecot: auth(default): ...". */
static int dovecot_syslog(struct parser *parser, struct span msg, struct log_record *out)
{
	struct span rest = msg, proc, pid;

	for (int depth = 0; depth < 2; depth++) {
		struct span token = parse_next_token(&rest);

		if (!parse_tag(token, &proc, &pid)) /* "auth-worker(123):" is taken whole */
			return starts(msg, LIT("auth")) ? dovecot_auth(parser, msg, out) : 0;
		if (!equals(proc, LIT("dovecot")))
			return dovecot_proc(parser, proc, rest, out);
		msg = rest;
	}
	return 0;
}

int parse_dovecot(struct parser *parser, const struct line_head *h, struct log_record *out)
{
	if (!h->prog.n || equals(h->prog, LIT("dovecot")))
		return dovecot_syslog(parser, h->msg, out);
	if (!parse_dovecot_prog(h->prog))
		return 0;
	return dovecot_proc(parser, h->prog, h->msg, out);
}
