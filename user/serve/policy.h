/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The Dovecot auth policy protocol (Dovecot 2.3, auth_policy_server_url):
 * one HTTP request in, one answer and at most one auth event out.
 *
 * Pure logic: no socket, no clock (the caller passes CLOCK_MONOTONIC
 * nanoseconds), no rules, no BPF map. What the answer depends on (is this
 * account blocked, is this address banned) comes in through struct
 * policy_checks, so the daemon plugs in rules_account_blocked() and its ban
 * view, and the unit tests plug in fakes. Not thread-safe; one thread owns an
 * instance (see "Serving" below).
 *
 * What Dovecot sends (src/auth/auth-policy.c, auth-request.c in 2.3):
 *   POST <url>?command=allow   before the password check, and again after a
 *                              successful one. The two bodies are the same
 *                              (no "success" field): nothing in one request
 *                              says which check it is.
 *   POST <url>?command=report  after authentication; the body also carries
 *                              "success" and "policy_reject" (booleans). The
 *                              answer is ignored.
 *   The body is a JSON object built from auth_policy_request_attributes,
 *   default "login=%{requested_username} pwhash=%{hashed_password}
 *   remote=%{rip} device_id=%{client_id} protocol=%s session_id=%{session}";
 *   a key "a/b" makes a nested object {"a":{"b":...}}. Every attribute value
 *   is a string. Attribute paths are configurable here (policy_config).
 *   auth_policy_server_api_header "Name: value" adds that header; a bare
 *   value is sent as "X-API-Key: value". The server passes the value of that
 *   header (or NULL) as api_key.
 * What Dovecot does with the answer {"status": N, "msg": "..."}:
 *   before the password check: N < 0 fails the attempt at once (msg becomes
 *   the failure reason); N == 0 goes on; N > 0 holds the attempt N seconds
 *   (a timer in the auth process, unless the passdb set nodelay) and then
 *   goes on to the password check: there is no second asking.
 *   after a successful password check: N < 0 fails the attempt, N >= 0 lets
 *   it succeed (a positive N is NOT a delay there, it means success).
 *   A non-2xx answer or bad JSON: logged, and the attempt goes on (or fails
 *   with auth_policy_reject_on_fail = yes).
 *
 * Decisions ("tarpit further attempts ~tarpit s, never extend the block"):
 *   allow, source address banned             -> -1 reject
 *   allow, the password refused as weak      -> -1 reject, msg the operator's
 *        (password_refused: [policy] weak_passwords = refuse)
 *   allow, account blocked, first check      -> tarpit_s (Dovecot holds the
 *        attempt, then checks the password: a wrong one fails as usual, a
 *        right one reaches the after-success check)
 *   allow, account blocked, second check of the same attempt -> -1 reject,
 *        so a blocked login fails even with the right password
 *   allow, otherwise                         -> 0
 *   Every -1 carries msg POLICY_REJECT_MSG, the words Dovecot uses for a wrong
 *   password (Dovecot may show msg to the client); the cause is in
 *   policy_result.reason, for the daemon's log.
 *   Pairing the two checks: as Dovecot's bodies do not differ, a tarpit
 *   answer remembers the attempt (a keyed hash of session_id, login and
 *   pwhash) for tarpit_s + POLICY_PENDING_SLACK_S; an allow that finds its
 *   attempt remembered is the after-success check (or a retry of the same
 *   password on the same connection) and is rejected. The policy fails
 *   closed: without a session_id (Dovecot < 2.3.11 or attributes without
 *   it), with tarpit 0, or when the pending table has no free slot, a
 *   blocked account is answered -1 at once. Known gaps, both in favour of
 *   the client: an after-success check arriving later than the slack (a
 *   passdb slower than POLICY_PENDING_SLACK_S), and an attempt whose password
 *   check straddles the start of the block (it is treated as if it had
 *   finished just before). Nothing here touches the block: its deadline is
 *   the rules' and no answer extends it.
 *   report, success false, policy_reject false -> AUTH_FAIL event
 *   report, success true                       -> AUTH_OK event (the rules
 *        forgive that source's failures on that account, see rules.h)
 *   report, policy_reject true                 -> no event: the failure is
 *        our own answer (a banned source, or the right password on a blocked
 *        account), not a guessed password, and must not count as one
 *   Malformed JSON, a body over POLICY_BODY_MAX, an unknown command, a
 *   missing or mistyped attribute, an unusable remote address, a missing or
 *   wrong API key: a 4xx answer with the reason, no event, nothing counted
 *   but the error counter.
 *
 * Serving (user/http_server.c, wired into user/daemon.c): libmicrohttpd (Debian
 * libmicrohttpd12, build-dep libmicrohttpd-dev), run inside the daemon's
 * epoll loop with MHD_USE_EPOLL | MHD_USE_NO_THREAD_SAFETY (no internal
 * thread): add MHD_get_daemon_info(MHD_DAEMON_INFO_EPOLL_FD)'s fd to the
 * daemon's epoll set, call MHD_run() when it is readable and bound the
 * epoll_wait timeout by MHD_get_timeout(). Recommended over a thread of its
 * own because every answer reads rules state and every report feeds
 * rules_feed(), which are single-threaded by design: one thread means no
 * lock on the hot path and no cross-thread event queue, and an answer costs
 * microseconds (a hash lookup), so it cannot stall log tailing noticeably.
 * Tarpits never hold a connection on our side (Dovecot does the waiting),
 * so the loop never blocks. The access handler accepts only POST on the
 * configured path, gathers the upload (refusing past POLICY_BODY_MAX with
 * 413 before buffering more), reads the "command" argument and the API key
 * header, calls policy_handle(), answers result.http_status with
 * result.body (Content-Type: application/json) and, when has_event, passes
 * result.event through handle_event(d, &event, "dovecot", ...). /metrics can
 * be a second path on the same MHD daemon. If measured p99 under load ever
 * says otherwise, the fallback is MHD's own thread handing events to the
 * loop through an eventfd-signalled queue and reading rules under a lock.
 */
#ifndef XDPBAN_POLICY_H
#define XDPBAN_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/errmsg.h"
#include "lib/event.h"

#define POLICY_BODY_MAX	       (64U * 1024) /* larger request bodies: 413 */
#define POLICY_ANSWER_MAX      512	    /* room for any JSON answer */
#define POLICY_PENDING_SLACK_S 60	    /* tarpitted attempt remembered tarpit + this */
#define POLICY_PENDING_WAYS    8U
#define POLICY_REJECT_MSG      "Authentication failed." /* Dovecot's AUTH_FAILED_MSG */
#define POLICY_MAX_PENDING     (1U << 22)
#define POLICY_MAX_TARPIT_S    3600U

struct policy_config {
	unsigned int tarpit_s;	   /* 60; 0 = a blocked account is rejected at once */
	const char *api_key;	   /* NULL or "": no key checked */
	unsigned int max_pending;  /* 65536 tarpitted attempts remembered at once */
	const char *login_attr;	   /* "login"; "a/b" for a nested attribute */
	const char *remote_attr;   /* "remote" */
	const char *protocol_attr; /* "protocol" */
	const char *pwhash_attr;   /* "pwhash" */
	const char *session_attr;  /* "session_id" */
};

/* What the answers depend on; the daemon's, or a test's fakes. */
struct policy_checks {
	void *ctx;
	/* Whether login is blocked now; *deadline_ns (never NULL) gets the block's end. */
	bool (*account_blocked)(void *ctx, const char *login, uint64_t *deadline_ns);
	/* Whether ip (IPv4 as ::ffff:a.b.c.d) is under a ban now. */
	bool (*ip_banned)(void *ctx, const struct addr_key *ip);
	/*
	 * NULL, or whether login's password, by its pwhash, is one refused as
	 * weak (weak_accounts.h): the message to answer, or NULL.
	 */
	const char *(*password_refused)(void *ctx, const char *login, const char *pwhash);
};

enum policy_verdict {
	POLICY_ACCEPT,	       /* allow: status 0 */
	POLICY_TARPIT,	       /* allow: status tarpit_s */
	POLICY_REJECT_BANNED,  /* allow: status -1, source banned */
	POLICY_REJECT_BLOCKED, /* allow: status -1, account blocked */
	POLICY_REJECT_WEAK,    /* allow: status -1, the password is refused as weak */
	POLICY_REPORTED,       /* report taken (has_event says whether it is one) */
	POLICY_ERROR,	       /* 4xx */
	POLICY_VERDICTS
};

struct policy_result {
	unsigned int http_status; /* 200, or 400/401/403/413 */
	enum policy_verdict verdict;
	int status;		      /* the answer's "status" when 200 */
	char reason[ERRMSG_LEN];      /* the answer's "msg", or why the request is refused */
	char body[POLICY_ANSWER_MAX]; /* the JSON answer, NUL-terminated */
	bool has_event;
	struct auth_event event; /* when has_event */
	/*
	 * event.user is the login exactly as Dovecot sent it, and so as it
	 * hashed it into pwhash: not cut, nothing cleaned out of it.
	 */
	bool login_exact;
};

struct policy_counters {
	uint64_t verdicts[POLICY_VERDICTS];
	uint64_t fail_events, ok_events;
	uint64_t pending_full; /* blocked accounts rejected at once for want of a slot */
};

/* tarpit 60, no key, 65536 pending, Dovecot's default attribute names. */
void policy_config_default(struct policy_config *cfg);

/*
 * Copies cfg (strings included) and checks: tarpit at most POLICY_MAX_TARPIT_S, max_pending
 * 8..POLICY_MAX_PENDING, attribute paths non-empty without empty segments.
 * Allocates everything up front. NULL with the reason in why on error.
 */
struct policy *policy_new(const struct policy_config *cfg, const struct policy_checks *checks,
			  char why[ERRMSG_LEN]);
void policy_free(struct policy *policy);

/*
 * A new tarpit and API key (SIGHUP), keeping the attempts remembered so far:
 * a new instance would forget them, and the after-success check of an
 * attempt tarpitted before the reload would then be answered with a tarpit,
 * which Dovecot takes for success. -EINVAL (reason in why) changes nothing.
 */
int policy_update(struct policy *policy, unsigned int tarpit_s, const char *api_key,
		  char why[ERRMSG_LEN]);

/*
 * One request: command is the URL's "command" argument (NULL when absent),
 * body/len the raw request body (need not be NUL-terminated), api_key the
 * presented key header's value (NULL when absent). Fills every field of
 * *result.
 */
void policy_handle(struct policy *policy, const char *command, const char *body, size_t len,
		   const char *api_key, uint64_t now_ns, struct policy_result *result);

/*
 * A request whose body the server stopped reading at POLICY_BODY_MAX: the
 * 413 answer, counted like any refusal.
 */
void policy_refuse_oversized(struct policy *policy, struct policy_result *result);

/* Whether api_key (NULL: none sent) is the key, or no key is set. */
bool policy_key_ok(const struct policy *policy, const char *api_key);

void policy_get_counters(const struct policy *policy, struct policy_counters *counters);

#endif
