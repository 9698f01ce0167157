// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * OpenSSH 7.4 to 10.x: sshd, and from 9.8 on sshd-session and sshd-auth
 * (messages made printable by strnvis; USER is the client's text):
 *   Failed METHOD for [invalid user ]USER from ADDR port N ssh2[: INFO]
 *   Accepted METHOD for USER from ADDR port N ssh2[: INFO]
 *   Invalid user USER from ADDR port N
 *   User USER from ADDR not allowed because REASON
 *   ROOT LOGIN REFUSED FROM ADDR port N
 *   error: PAM: Authentication failure for [illegal user ]USER from HOST[ via LADDR]
 *   error: maximum authentication attempts exceeded for [invalid user ]USER
 *     from ADDR port N ssh2 [preauth]
 *   Disconnecting (authenticating|invalid) user USER ADDR port N: Too many
 *     authentication failures [preauth]
 *   Disconnecting invalid user USER ADDR port N: Change of username or
 *     service not allowed: (U,S) -> (U,S) [preauth]
 *   Connection closed by (authenticating|invalid) user USER ADDR port N [preauth]
 *   Received disconnect from ADDR port N:11: Bye Bye [preauth]
 *   drop connection #N from [ADDR]:PORT on [LADDR]:PORT penalty: failed authentication
 *   refused connect from NAME (ADDR)                 (libwrap, before 7.4 in Debian)
 * and older ones: no "port N", "ssh1", "Disconnecting: Too many
 * authentication failures for USER" without an address (found from the
 * connection's earlier lines, by process ID), Solaris' "[ID N auth.info] ".
 *
 * INFO follows the address in "Failed" lines (a key, a hostbased client's
 * user and host names: the client's text), and USER precedes it: every
 * " from ADDR port N sshN" that ends the line or is followed by ": " is a
 * candidate, and the line counts only when they agree. An address after
 * "ssh2: " is never taken for sshd's own.
 *
 * One attempt is one failure: "Invalid user", "not allowed" and PAM's error
 * line count ahead of the "Failed" line of the same connection that follows
 * them, which then does not count; lines that close a connection count only
 * when it logged no failure.
 */
#include "detect/parse.h"

#include <strings.h>

/* A line's connection: its process ID is read only when a line needs it. */
struct conn_ref {
	struct parser *parser;
	const struct line_head *head;
	unsigned int pid;
	bool pid_read;
};

static unsigned int ref_pid(struct conn_ref *ref)
{
	if (!ref->pid_read) {
		ref->pid = parse_head_pid(ref->head);
		ref->pid_read = true;
	}
	return ref->pid;
}

/* The connection's slot: by process ID when the line has one, else by address and port. */
static struct conn_slot *conn_of(struct conn_ref *ref, const struct addr_key *ip, unsigned int port,
				 bool create)
{
	struct conn_slot *slot;

	if (!ref_pid(ref))
		return ip ? parse_conn(ref->parser, CONN_PORT, ip, port, create) : NULL;
	slot = parse_conn(ref->parser, CONN_PID, NULL, ref_pid(ref), create);
	if (!slot || !ip)
		return slot;
	if ((slot->flags & CONN_KNOWN_IP) && memcmp(&slot->ip, ip, sizeof(*ip)) != 0)
		slot->flags &= CONN_COUNTED; /* what was pending concerned another address */
	slot->ip = *ip;
	slot->flags |= CONN_KNOWN_IP;
	return slot;
}

static int fail(struct log_record *out, const struct addr_key *ip, struct span user)
{
	parse_record(out, LOG_SOURCE_SSHD, "ssh");
	out->event.ip = *ip;
	parse_copy_text(out->event.user, sizeof(out->event.user), user);
	return 1;
}

/* A failure of the connection: counted once per connection (closing lines). */
static int fail_once(struct conn_ref *ref, struct log_record *out, const struct addr_key *ip,
		     unsigned int port, struct span user)
{
	struct conn_slot *slot = conn_of(ref, ip, port, true);

	if (slot->flags & CONN_COUNTED)
		return 0; /* its failures were counted from their own lines */
	slot->flags |= CONN_COUNTED;
	return fail(out, ip, user);
}

/* A failure counted now that the connection's next "Failed" line repeats. */
static int fail_ahead(struct conn_ref *ref, struct log_record *out, const struct addr_key *ip,
		      unsigned int port, struct span user)
{
	struct conn_slot *slot = conn_of(ref, ip, port, true);

	slot->flags |= CONN_COUNTED | CONN_AHEAD;
	return fail(out, ip, user);
}

static struct span strip_invalid_user(struct span user)
{
	user = parse_strip(user, LIT("invalid user "));
	return parse_strip(user, LIT("illegal user "));
}

/* "ADDR port N" ending s (the address after the last space): sets *before. */
static bool addr_port_tail(struct span s, struct addr_key *ip, unsigned int *port,
			   struct span *before)
{
	const char *at = parse_rfind(s, LIT(" port ")), *space;

	if (!at || !parse_uint(span_cut(at + 6, span_end(s)), port) || *port > 65535)
		return false;
	s = span_cut(s.p, at);
	space = memrchr(s.p, ' ', s.n);
	if (!space || !parse_addr(span_cut(space + 1, span_end(s)), ip))
		return false;
	*before = span_cut(s.p, space);
	return true;
}

/* "... from ADDR[ port N]" ending s: sets *before to what precedes " from ". */
static bool from_tail(struct span s, struct addr_key *ip, unsigned int *port, struct span *before)
{
	const char *at = parse_rfind(s, LIT(" port ")), *from;

	*port = 0;
	if (at && parse_uint(span_cut(at + 6, span_end(s)), port) && *port <= 65535)
		s = span_cut(s.p, at);
	else
		*port = 0;
	from = parse_rfind(s, LIT(" from "));
	if (!from || !parse_addr(span_cut(from + 6, span_end(s)), ip))
		return false;
	*before = span_cut(s.p, from);
	return true;
}

/*
 * The address of "for USER from ADDR port N sshN[: INFO]" in s (what
 * follows "for "): the candidates of the top of this file. Strong ones
 * ("port N sshN") win over an older line's bare "from ADDR" at the end.
 * With first_wins (an accepted login: USER is an account's name, only INFO
 * is the client's), the first strong one is sshd's.
 */
static bool auth_log_addr_scan(struct span s, bool first_wins, struct addr_key *ip,
			       unsigned int *port, struct span *user);

static bool auth_log_addr(struct span s, bool first_wins, struct addr_key *ip, unsigned int *port,
			  struct span *user)
{
	/* the common line, "USER from ADDR port N sshN" with no " from " in USER: one candidate */
	if (ends(s, LIT(" ssh2")) || ends(s, LIT(" ssh1"))) {
		struct span t = drop_tail(s, 5), before;
		const char *at = parse_rfind(t, LIT(" port ")), *from;

		if (at && parse_uint(span_cut(at + 6, span_end(t)), port) && *port <= 65535) {
			before = span_cut(t.p, at);
			from = parse_rfind(before, LIT(" from "));
			if (from && !find(span_cut(s.p, from), LIT(" from ")) &&
			    !memchr(from + 6, ' ', (size_t)(at - from - 6)) &&
			    parse_addr(span_cut(from + 6, at), ip)) {
				*user = span_cut(s.p, from);
				return true;
			}
		}
	}
	return auth_log_addr_scan(s, first_wins, ip, port, user);
}

static bool auth_log_addr_scan(struct span s, bool first_wins, struct addr_key *ip,
			       unsigned int *port, struct span *user)
{
	struct candidates strong = { 0 }, weak = { 0 };
	const char *from, *strong_at = NULL, *weak_at = NULL;
	unsigned int strong_port = 0, weak_port = 0;

	for (struct span scan = s; (from = find(scan, LIT(" from "))) != NULL;
	     scan = span_cut(from + 6, span_end(s))) {
		struct span rest = span_cut(from + 6, span_end(s)), tail;
		const char *space = memchr(rest.p, ' ', rest.n);
		struct addr_key cand;
		unsigned int p = 0;

		if (!parse_addr(span_cut(rest.p, space ? space : span_end(rest)), &cand))
			continue;
		if (!space) {
			parse_candidate(&weak, &cand);
			weak_at = from;
			continue;
		}
		tail = span_cut(space, span_end(rest));
		if (!starts(tail, LIT(" port ")))
			continue;
		tail = skip(tail, 6);
		{
			const char *end = tail.p;

			while (end < span_end(tail) && is_digit(*end))
				end++;
			if (!parse_uint(span_cut(tail.p, end), &p) || p > 65535)
				continue;
			tail = span_cut(end, span_end(tail));
		}
		if (tail.n == 0) {
			parse_candidate(&weak, &cand);
			weak_at = from;
			weak_port = p;
			continue;
		}
		if (!starts(tail, LIT(" ssh2")) && !starts(tail, LIT(" ssh1")))
			continue;
		tail = skip(tail, 5);
		if (tail.n && !starts(tail, LIT(": ")))
			continue;
		if (!strong_at) {
			strong_at = from;
			strong_port = p;
		} else if (first_wins) {
			continue;
		}
		parse_candidate(&strong, &cand);
	}
	if (strong.count) {
		if (!parse_candidates_one(&strong, ip))
			return false;
		*port = strong_port;
		*user = span_cut(s.p, strong_at);
		return true;
	}
	if (!parse_candidates_one(&weak, ip))
		return false;
	*port = weak_port;
	*user = span_cut(s.p, weak_at);
	return true;
}

/* (Accepted|Failed) METHOD for USER from ... */
static int sshd_auth_log(struct conn_ref *ref, struct span msg, bool accepted,
			 struct log_record *out)
{
	struct span head = skip(msg, accepted ? 9 : 7), method, user;
	const char *for_at = find(head, LIT(" for "));
	struct addr_key ip;
	unsigned int port;
	struct conn_slot *slot;
	bool invalid;

	if (!for_at)
		return 0;
	method = span_cut(head.p, for_at);
	if (!auth_log_addr(span_cut(for_at + 5, span_end(head)), accepted, &ip, &port, &user))
		return 0;
	invalid = starts(user, LIT("invalid user ")) || starts(user, LIT("illegal user "));
	user = strip_invalid_user(user);
	if (accepted) {
		slot = conn_of(ref, &ip, port, false);
		if (slot)
			slot->stamp = 0;
		parse_record(out, LOG_SOURCE_SSHD, "ssh");
		out->event.outcome = AUTH_OK;
		out->event.ip = ip;
		parse_copy_text(out->event.user, sizeof(out->event.user), user);
		return 1;
	}
	/* "none" is the probe every client starts with; a refused key of a real
	 * user is routine (agents offer several); an invalid user's is not */
	slot = conn_of(ref, &ip, port, true); /* its address, for a later line without one */
	slot->flags &= (unsigned char)~CONN_PAM;
	if (equals(method, LIT("none")) || (equals(method, LIT("publickey")) && !invalid))
		return 0;
	if (slot->flags & CONN_AHEAD) {
		slot->flags &= (unsigned char)~CONN_AHEAD;
		return 0; /* counted from the line before */
	}
	slot->flags |= CONN_COUNTED;
	return fail(out, &ip, user);
}

static int sshd_invalid_user(struct conn_ref *ref, struct span msg, struct log_record *out)
{
	/* Invalid user USER from ADDR[ port N] */
	struct span user;
	struct addr_key ip;
	unsigned int port;

	if (!from_tail(skip(msg, 13), &ip, &port, &user))
		return 0;
	return fail_ahead(ref, out, &ip, port, user);
}

static int sshd_not_allowed(struct conn_ref *ref, struct span msg, struct log_record *out)
{
	/* User USER from HOST not allowed because REASON: REASON is sshd's (auth.c) */
	static const struct literal reasons[] = {
		{ LIT(" not allowed because not listed in AllowUsers") },
		{ LIT(" not allowed because listed in DenyUsers") },
		{ LIT(" not allowed because not in any group") },
		{ LIT(" not allowed because a group is listed in DenyGroups") },
		{ LIT(" not allowed because none of user's groups are listed in AllowGroups") },
	};
	struct span user;
	struct addr_key ip;
	unsigned int port;

	for (size_t i = 0; i < ARRAY_SIZE(reasons); i++) {
		if (!ends(msg, reasons[i].text, reasons[i].len))
			continue;
		if (!from_tail(drop_tail(skip(msg, 5), reasons[i].len), &ip, &port, &user))
			return 0;
		return fail_ahead(ref, out, &ip, 0, user);
	}
	return 0;
}

static bool starts_nocase(struct span s, const char *lit, size_t n)
{
	return s.n >= n && strncasecmp(s.p, lit, n) == 0;
}

static int sshd_pam(struct conn_ref *ref, struct span msg, struct log_record *out)
{
	/* PAM: Authentication failure for [illegal user ]USER from HOST[ via LADDR] */
	static const struct literal heads[] = {
		{ LIT("authentication failure for ") },
		{ LIT("authentication error for ") },
		{ LIT("User not known to the underlying authentication module for ") },
	};
	struct span rest = skip(msg, 5), user;
	struct addr_key ip;
	unsigned int port;
	const char *via;

	for (size_t i = 0; i < ARRAY_SIZE(heads); i++) {
		if (!starts_nocase(rest, heads[i].text, heads[i].len))
			continue;
		rest = skip(rest, heads[i].len);
		while (ends(rest, LIT(" ")))
			rest = drop_tail(rest, 1);
		via = parse_rfind(rest, LIT(" via "));
		if (via && parse_addr(span_cut(via + 5, span_end(rest)), &ip))
			rest = span_cut(rest.p, via);
		if (!from_tail(rest, &ip, &port, &user) || port)
			return 0;
		if (!ref_pid(ref))
			return fail(out, &ip, strip_invalid_user(user));
		return fail_ahead(ref, out, &ip, 0, strip_invalid_user(user));
	}
	return 0;
}

/*
 * pam_unix(sshd:auth): authentication failure; ... rhost=ADDR[  user=U]:
 * sshd's "Failed" line follows it for the same attempt, unless another PAM
 * module accepts the password after all. A connection that fails PAM for a
 * second user name without such a line in between tried the first one: it
 * counts then.
 */
/* The user a pam_unix line names: "  user=U" when it has one, else ruser's value. */
static struct span pam_user(struct span fields)
{
	const char *at = parse_rfind(fields, LIT("  user=")), *ruser, *rhost;

	if (at)
		return span_cut(at + 7, span_end(fields));
	ruser = find(fields, LIT(" ruser="));
	rhost = ruser ? find(span_cut(ruser, span_end(fields)), LIT(" rhost=")) : NULL;
	return rhost ? span_cut(ruser + 7, rhost) : (struct span){ 0 };
}

static int sshd_pam_unix(struct conn_ref *ref, struct span msg, struct log_record *out)
{
	struct span fields = skip(msg, 45), user;
	struct addr_key ip;
	struct conn_slot *slot;
	uint32_t hash;
	bool other;

	if (!ref_pid(ref))
		return 0;
	hash = parse_hash_name(pam_user(fields), false);
	slot = parse_conn(ref->parser, CONN_PID, NULL, ref_pid(ref), true);
	other = (slot->flags & CONN_PAM) && slot->counted != hash;
	slot->flags |= CONN_PAM;
	slot->counted = hash;
	if (!other || !parse_pam_unix(fields, &ip, &user))
		return 0;
	slot = conn_of(ref, &ip, 0, true);
	slot->flags |= CONN_COUNTED;
	return fail(out, &ip, user);
}

static int sshd_max_attempts(struct conn_ref *ref, struct span msg, struct log_record *out)
{
	/* maximum authentication attempts exceeded for [invalid user ]USER from ADDR port N ssh2 */
	struct span user;
	struct addr_key ip;
	unsigned int port;

	if (!auth_log_addr(skip(msg, 45), false, &ip, &port, &user))
		return 0;
	return fail_once(ref, out, &ip, port, strip_invalid_user(user));
}

static int sshd_disconnecting(struct conn_ref *ref, struct span msg, struct log_record *out)
{
	static const char change[] = ": Change of username or service not allowed: (";
	struct span rest, user = { 0 };
	struct addr_key ip;
	unsigned int port;
	struct conn_slot *slot;

	if (starts(msg, LIT("Disconnecting: Too many authentication failures"))) {
		/* OpenSSH < 7.5: no address; the connection's earlier lines had it */
		if (!ref_pid(ref))
			return 0;
		slot = parse_conn(ref->parser, CONN_PID, NULL, ref_pid(ref), true);
		if (!(slot->flags & CONN_KNOWN_IP)) {
			slot->flags |= CONN_PENDING;
			return 0;
		}
		ip = slot->ip;
		if (slot->flags & CONN_COUNTED)
			return 0;
		slot->flags |= CONN_COUNTED;
		rest = skip(msg, 47);
		if (starts(rest, LIT(" for ")))
			user = skip(rest, 5);
		return fail(out, &ip, strip_invalid_user(user));
	}
	if (starts(msg, LIT("Disconnecting authenticating user ")))
		rest = skip(msg, 34);
	else if (starts(msg, LIT("Disconnecting invalid user ")))
		rest = skip(msg, 27);
	else
		return 0;
	if (ends(rest, LIT(": Too many authentication failures"))) {
		if (!addr_port_tail(drop_tail(rest, 34), &ip, &port, &user))
			return 0;
		return fail_once(ref, out, &ip, port, user);
	}
	{
		/* both user names are the client's: every " ADDR port N: Change..." must agree */
		struct candidates c = { 0 };
		const char *at, *first = NULL;

		for (struct span scan = rest; (at = find(scan, change, sizeof(change) - 1)) != NULL;
		     scan = span_cut(at + 1, span_end(rest))) {
			struct span before;
			struct addr_key cand;
			unsigned int p;

			if (!addr_port_tail(span_cut(rest.p, at), &cand, &p, &before))
				continue;
			parse_candidate(&c, &cand);
			if (!first)
				first = before.p + before.n;
		}
		if (!parse_candidates_one(&c, &ip))
			return 0;
		return fail(out, &ip, span_cut(rest.p, first));
	}
}

static int sshd_closed(struct conn_ref *ref, struct span msg, bool preauth, struct log_record *out)
{
	/* Connection closed by (authenticating|invalid) user USER ADDR port N */
	static const struct literal heads[] = {
		{ LIT("Connection closed by authenticating user ") },
		{ LIT("Connection closed by invalid user ") },
		{ LIT("Connection reset by authenticating user ") },
		{ LIT("Connection reset by invalid user ") },
		{ LIT("Disconnected from authenticating user ") },
		{ LIT("Disconnected from invalid user ") },
	};
	struct span user, rest;
	struct addr_key ip;
	unsigned int port = 0;
	struct conn_slot *slot;

	for (size_t i = 0; i < ARRAY_SIZE(heads); i++) {
		if (!starts(msg, heads[i].text, heads[i].len))
			continue;
		if (!addr_port_tail(skip(msg, heads[i].len - 1), &ip, &port, &user))
			return 0;
		slot = conn_of(ref, &ip, port, false);
		if (slot && (slot->flags & CONN_COUNTED)) {
			slot->stamp = 0;
			return 0; /* its failures were counted from their own lines */
		}
		if (slot)
			slot->stamp = 0;
		return fail(out, &ip, skip(user, 1));
	}
	/* Connection closed by ADDR[ port N]: after "Too many authentication failures" without one
	 */
	if (!preauth || !ref_pid(ref))
		return 0;
	if (starts(msg, LIT("Connection closed by ")))
		rest = skip(msg, 21);
	else if (starts(msg, LIT("Connection reset by ")))
		rest = skip(msg, 20);
	else
		return 0;
	slot = parse_conn(ref->parser, CONN_PID, NULL, ref_pid(ref), false);
	if (!slot || !(slot->flags & CONN_PENDING))
		return 0;
	{
		const char *at = parse_rfind(rest, LIT(" port "));

		if (at)
			rest = span_cut(rest.p, at);
	}
	if (!parse_addr(rest, &ip))
		return 0;
	slot->stamp = 0;
	return fail(out, &ip, (struct span){ 0 });
}

static int sshd_received_disconnect(struct conn_ref *ref, struct span msg, bool preauth,
				    struct log_record *out)
{
	/*
	 * Received disconnect from ADDR[ port N]:CODE: TEXT, TEXT the client's:
	 * the address comes first. Brute-forcing libraries say "Bye Bye" or
	 * "Normal Shutdown, Thank you for playing" (code 11), or that their
	 * authentication failed (code 3, "...: Auth fail").
	 */
	struct span rest = skip(msg, 25), text;
	const char *space = memchr(rest.p, ' ', rest.n), *colon;
	struct addr_key ip;
	unsigned int port = 0, code;
	struct conn_slot *slot;
	bool counted;

	if (!space)
		return 0;
	if (starts(span_cut(space, span_end(rest)), LIT(" port "))) {
		if (!parse_addr(span_cut(rest.p, space), &ip))
			return 0;
		rest = span_cut(space + 6, span_end(rest));
		colon = memchr(rest.p, ':', rest.n);
		if (!colon || !parse_uint(span_cut(rest.p, colon), &port))
			return 0;
		rest = span_cut(colon + 1, span_end(rest));
	} else {
		if (space == rest.p || space[-1] != ':' ||
		    !parse_addr(span_cut(rest.p, space - 1), &ip))
			return 0;
		rest = span_cut(space + 1, span_end(rest));
	}
	rest = parse_strip(rest, LIT(" "));
	colon = memchr(rest.p, ':', rest.n);
	if (!colon || !parse_uint(span_cut(rest.p, colon), &code))
		return 0;
	text = parse_strip(span_cut(colon + 1, span_end(rest)), LIT(" "));
	if (!((code == 11 && preauth &&
	       (equals(text, LIT("Bye Bye")) ||
		equals(text, LIT("Normal Shutdown, Thank you for playing")))) ||
	      (code == 3 && ends(text, LIT(": Auth fail")))))
		return 0;
	slot = conn_of(ref, &ip, port, true);
	counted = slot->flags & CONN_COUNTED;
	slot->stamp = 0; /* the connection ends here */
	return counted ? 0 : fail(out, &ip, (struct span){ 0 });
}

static int sshd_root_refused(struct conn_ref *ref, struct span msg, struct log_record *out)
{
	/* ROOT LOGIN REFUSED FROM ADDR[ port N] */
	struct span rest = skip(msg, 24);
	const char *at = parse_rfind(rest, LIT(" port "));
	struct addr_key ip;
	unsigned int port = 0;

	if (at && parse_uint(span_cut(at + 6, span_end(rest)), &port))
		rest = span_cut(rest.p, at);
	if (!parse_addr(rest, &ip))
		return 0;
	return fail_ahead(ref, out, &ip, port, (struct span){ LIT("root") });
}

static int sshd_refused(struct span msg, struct log_record *out)
{
	/* refused connect from NAME (ADDR): libwrap's hosts.deny; NAME may be the client's */
	const char *open = memrchr(msg.p, '(', msg.n);
	struct addr_key ip;

	if (!open || !ends(msg, LIT(")")) || open == msg.p || open[-1] != ' ' ||
	    !parse_addr(span_cut(open + 1, span_end(msg) - 1), &ip))
		return 0;
	return fail(out, &ip, (struct span){ 0 });
}

static int sshd_penalty(struct span msg, struct log_record *out)
{
	/* drop connection #N from [ADDR]:PORT on [LADDR]:PORT penalty: REASON (OpenSSH 9.8+) */
	struct span rest = skip(msg, 17);
	const char *from = find(rest, LIT(" from [")), *close;
	struct addr_key ip;

	if (!from || !(ends(msg, LIT(" penalty: failed authentication")) ||
		       ends(msg, LIT(" penalty: attempted authentication by invalid user"))))
		return 0;
	rest = span_cut(from + 7, span_end(rest));
	close = memchr(rest.p, ']', rest.n);
	if (!close || !parse_addr(span_cut(rest.p, close), &ip))
		return 0;
	return fail(out, &ip, (struct span){ 0 });
}

int parse_sshd(struct parser *parser, const struct line_head *h, struct log_record *out)
{
	struct conn_ref ref = { parser, h, 0, false };
	struct span msg = h->msg;
	bool preauth = false;
	const char *at;

	if (ends(msg, LIT(" [preauth]"))) {
		msg = drop_tail(msg, 10);
		preauth = true;
	}
	msg = parse_strip(msg, LIT("error: "));
	if (starts(msg, LIT("[ID ")) && (at = find(msg, LIT("] "))) != NULL)
		msg = span_cut(at + 2, span_end(msg)); /* Solaris: "[ID 800047 auth.info] " */

	switch (msg.n ? msg.p[0] : 0) {
	case 'A':
		if (starts(msg, LIT("Accepted ")))
			return sshd_auth_log(&ref, msg, true, out);
		break;
	case 'F':
		if (starts(msg, LIT("Failed ")))
			return sshd_auth_log(&ref, msg, false, out);
		break;
	case 'I':
		if (starts(msg, LIT("Invalid user ")))
			return sshd_invalid_user(&ref, msg, out);
		break;
	case 'U':
		if (starts(msg, LIT("User ")))
			return sshd_not_allowed(&ref, msg, out);
		break;
	case 'P':
		if (starts(msg, LIT("PAM: ")))
			return sshd_pam(&ref, msg, out);
		break;
	case 'm':
		if (starts(msg, LIT("maximum authentication attempts exceeded for ")))
			return sshd_max_attempts(&ref, msg, out);
		break;
	case 'D':
		if (starts(msg, LIT("Disconnecting")))
			return sshd_disconnecting(&ref, msg, out);
		return sshd_closed(&ref, msg, preauth, out);
	case 'C':
		if (starts(msg, LIT("Connection from ")) && ref_pid(&ref)) {
			/* remembered for a later line without an address */
			struct span rest = skip(msg, 16);
			const char *space = memchr(rest.p, ' ', rest.n);
			struct addr_key ip;

			if (parse_addr(span_cut(rest.p, space ? space : span_end(rest)), &ip)) {
				struct conn_slot *slot = conn_of(&ref, &ip, 0, true);

				slot->flags = CONN_KNOWN_IP; /* a new connection */
			}
			return 0;
		}
		return sshd_closed(&ref, msg, preauth, out);
	case 'R':
		if (starts(msg, LIT("Received disconnect from ")))
			return sshd_received_disconnect(&ref, msg, preauth, out);
		if (starts(msg, LIT("ROOT LOGIN REFUSED FROM ")))
			return sshd_root_refused(&ref, msg, out);
		break;
	case 'p':
		if (starts(msg, LIT("pam_unix(sshd:auth): authentication failure; ")))
			return sshd_pam_unix(&ref, msg, out);
		break;
	case 'd':
		if (starts(msg, LIT("drop connection #")))
			return sshd_penalty(msg, out);
		break;
	case 'r':
		if (starts(msg, LIT("refused connect from ")))
			return sshd_refused(msg, out);
		break;
	default:
		break;
	}
	return 0;
}
