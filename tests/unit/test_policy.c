// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The Dovecot auth policy protocol: every answer, every refusal, no event where none is due. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "unit.h"
#include <jansson.h>
#include "lib/cidr.h"
#include "serve/policy.h"

#define SEC 1000000000ULL

/* The fake rules: one blocked account, one banned address. */
struct fake {
	const char *blocked; /* NULL: none */
	struct addr_key banned;
	bool any_banned;
	unsigned int blocked_calls, banned_calls;
};

static bool fake_blocked(void *ctx, const char *login, uint64_t *deadline_ns)
{
	struct fake *f = ctx;

	f->blocked_calls++;
	*deadline_ns = 600 * SEC;
	return f->blocked && !strcmp(f->blocked, login);
}

/* The fake weak-password listing: bob's password "a3f" is refused. */
static const char *fake_refused(void *ctx, const char *login, const char *pwhash)
{
	(void)ctx;
	return !strcmp(login, "bob") && !strcmp(pwhash, "a3f") ? "Change your password." : NULL;
}

static bool fake_banned(void *ctx, const struct addr_key *ip)
{
	struct fake *f = ctx;

	f->banned_calls++;
	return f->any_banned && !memcmp(ip, &f->banned, sizeof(*ip));
}

struct fixture {
	struct fake fake;
	struct policy *policy;
	struct policy_result r;
};

static struct fixture *make(const struct policy_config *cfg)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct policy_checks checks = { .account_blocked = fake_blocked, .ip_banned = fake_banned };
	struct policy_config def;
	char why[ERRMSG_LEN] = "";

	assert_non_null(fx);
	policy_config_default(&def);
	checks.ctx = &fx->fake;
	fx->policy = policy_new(cfg ? cfg : &def, &checks, why);
	if (!fx->policy)
		fail_msg("policy_new: %s", why);
	return fx;
}

static void unmake(struct fixture *fx)
{
	policy_free(fx->policy);
	free(fx);
}

static void ban(struct fixture *fx, const char *ip)
{
	fx->fake.banned = unit_addr(ip);
	fx->fake.any_banned = true;
}

static void run(struct fixture *fx, const char *command, const char *body, uint64_t now_ns)
{
	policy_handle(fx->policy, command, body, body ? strlen(body) : 0, NULL, now_ns, &fx->r);
}

/*
 * The answer's JSON status, checked against r.status; a rejection's msg must
 * be Dovecot's wrong-password words, whatever the cause.
 */
static int body_status(const struct policy_result *r)
{
	json_error_t error;
	json_t *doc = json_loads(r->body, 0, &error);
	json_t *status = json_object_get(doc, "status");
	json_t *msg = json_object_get(doc, "msg");
	int value;

	assert_true(json_is_integer(status));
	assert_true(json_is_string(msg));
	value = (int)json_integer_value(status);
	if (value < 0)
		assert_string_equal(json_string_value(msg), POLICY_REJECT_MSG);
	json_decref(doc);
	assert_int_equal(value, r->status);
	return value;
}

static void assert_refused(const struct fixture *fx, unsigned int http, const char *reason)
{
	json_error_t error;
	json_t *doc = json_loads(fx->r.body, 0, &error);

	assert_int_equal(fx->r.http_status, http);
	assert_int_equal(fx->r.verdict, POLICY_ERROR);
	assert_false(fx->r.has_event);
	assert_true(json_is_string(json_object_get(doc, "error")));
	json_decref(doc);
	if (!strstr(fx->r.reason, reason))
		fail_msg("reason '%s' lacks '%s'", fx->r.reason, reason);
}

static const char *const DEFAULT_BODY =
    "{\"login\":\"bob\",\"pwhash\":\"a3f\",\"remote\":\"192.0.2.7\",\"device_id\":\"\","
    "\"protocol\":\"imap\",\"session_id\":\"s1\"}";

static void allow_plain_is_accepted(void **state)
{
	struct fixture *fx = make(NULL);

	(void)state;
	run(fx, "allow", DEFAULT_BODY, 0);
	assert_int_equal(fx->r.http_status, 200);
	assert_int_equal(fx->r.verdict, POLICY_ACCEPT);
	assert_int_equal(body_status(&fx->r), 0);
	assert_false(fx->r.has_event);
	unmake(fx);
}

static void allow_banned_ip_is_rejected(void **state)
{
	struct fixture *fx = make(NULL);

	(void)state;
	ban(fx, "192.0.2.7");
	fx->fake.blocked = "bob"; /* the ban wins */
	run(fx, "allow", DEFAULT_BODY, 0);
	assert_int_equal(fx->r.verdict, POLICY_REJECT_BANNED);
	assert_int_equal(body_status(&fx->r), -1);
	assert_false(fx->r.has_event);
	unmake(fx);
}

/* First check tarpits, the after-success check of the same attempt rejects. */
static void blocked_account_tarpit_then_reject(void **state)
{
	struct fixture *fx = make(NULL);
	struct policy_counters c;

	(void)state;
	fx->fake.blocked = "bob";
	run(fx, "allow", DEFAULT_BODY, 10 * SEC);
	assert_int_equal(fx->r.verdict, POLICY_TARPIT);
	assert_int_equal(body_status(&fx->r), 60);
	assert_false(fx->r.has_event);
	run(fx, "allow", DEFAULT_BODY, 71 * SEC); /* after the hold and a password check */
	assert_int_equal(fx->r.verdict, POLICY_REJECT_BLOCKED);
	assert_int_equal(body_status(&fx->r), -1);
	/* A new attempt (another password) is held again. */
	run(fx, "allow",
	    "{\"login\":\"bob\",\"pwhash\":\"b00\",\"remote\":\"192.0.2.7\",\"session_id\":\"s1\"}",
	    72 * SEC);
	assert_int_equal(fx->r.verdict, POLICY_TARPIT);
	/* Others are not touched. */
	run(fx, "allow", "{\"login\":\"alice\",\"remote\":\"192.0.2.7\",\"session_id\":\"s1\"}",
	    72 * SEC);
	assert_int_equal(fx->r.verdict, POLICY_ACCEPT);
	policy_get_counters(fx->policy, &c);
	assert_int_equal(c.verdicts[POLICY_TARPIT], 2);
	assert_int_equal(c.verdicts[POLICY_REJECT_BLOCKED], 1);
	assert_int_equal(c.verdicts[POLICY_ACCEPT], 1);
	unmake(fx);
}

static void blocked_account_configured_tarpit(void **state)
{
	struct policy_config cfg;
	struct fixture *fx;

	(void)state;
	policy_config_default(&cfg);
	cfg.tarpit_s = 5;
	fx = make(&cfg);
	fx->fake.blocked = "bob";
	run(fx, "allow", DEFAULT_BODY, 0);
	assert_int_equal(body_status(&fx->r), 5);
	/* Remembered for tarpit + slack, then a second check would be a first one. */
	run(fx, "allow", DEFAULT_BODY, (5 + POLICY_PENDING_SLACK_S) * SEC);
	assert_int_equal(fx->r.verdict, POLICY_TARPIT);
	unmake(fx);
}

/* SIGHUP: a new tarpit and key; an attempt tarpitted before is still rejected after. */
static void update_keeps_pending_attempts(void **state)
{
	struct fixture *fx = make(NULL);
	char why[ERRMSG_LEN];

	(void)state;
	fx->fake.blocked = "bob";
	run(fx, "allow", DEFAULT_BODY, 0);
	assert_int_equal(body_status(&fx->r), 60);
	assert_int_equal(policy_update(fx->policy, 7, "s3cret", why), 0);
	policy_handle(fx->policy, "allow", DEFAULT_BODY, strlen(DEFAULT_BODY), "s3cret", SEC,
		      &fx->r);
	assert_int_equal(body_status(&fx->r), -1);
	run(fx, "allow", DEFAULT_BODY, 2 * SEC);
	assert_refused(fx, 401, "API key missing");
	assert_int_equal(policy_update(fx->policy, POLICY_MAX_TARPIT_S + 1, NULL, why), -EINVAL);
	assert_why_has(why, "3601");
	policy_handle(fx->policy, "allow", DEFAULT_BODY, strlen(DEFAULT_BODY), "s3cret", 3 * SEC,
		      &fx->r);
	/* The pending attempt was answered above; a new one gets the tarpit of the last good
	 * update. */
	assert_int_equal(body_status(&fx->r), 7);
	unmake(fx);
}

static void oversized_refusal_counted(void **state)
{
	struct fixture *fx = make(NULL);
	struct policy_counters c;

	(void)state;
	policy_refuse_oversized(fx->policy, &fx->r);
	assert_refused(fx, 413, "over");
	policy_get_counters(fx->policy, &c);
	assert_int_equal(c.verdicts[POLICY_ERROR], 1);
	unmake(fx);
}

static void blocked_account_without_tarpit_rejects(void **state)
{
	struct policy_config cfg;
	struct fixture *fx;

	(void)state;
	policy_config_default(&cfg);
	cfg.tarpit_s = 0;
	fx = make(&cfg);
	fx->fake.blocked = "bob";
	run(fx, "allow", DEFAULT_BODY, 0);
	assert_int_equal(fx->r.verdict, POLICY_REJECT_BLOCKED);
	assert_int_equal(body_status(&fx->r), -1);
	unmake(fx);
}

/* Without a session id the two checks cannot be paired: reject at once. */
static void blocked_account_without_session_rejects(void **state)
{
	struct fixture *fx = make(NULL);

	(void)state;
	fx->fake.blocked = "bob";
	run(fx, "allow", "{\"login\":\"bob\",\"remote\":\"192.0.2.7\"}", 0);
	assert_int_equal(fx->r.verdict, POLICY_REJECT_BLOCKED);
	run(fx, "allow", "{\"login\":\"bob\",\"remote\":\"192.0.2.7\",\"session_id\":\"\"}", 0);
	assert_int_equal(fx->r.verdict, POLICY_REJECT_BLOCKED);
	unmake(fx);
}

/* A full pending table fails closed. */
static void pending_full_rejects(void **state)
{
	struct policy_config cfg;
	struct policy_counters c;
	struct fixture *fx;
	char body[256];
	unsigned int tarpits = 0, rejects = 0;

	(void)state;
	policy_config_default(&cfg);
	cfg.max_pending = 8; /* one set */
	fx = make(&cfg);
	fx->fake.blocked = "bob";
	for (int i = 0; i < 9; i++) {
		snprintf(body, sizeof(body),
			 "{\"login\":\"bob\",\"remote\":\"192.0.2.7\",\"session_id\":\"s%d\"}", i);
		run(fx, "allow", body, 0);
		tarpits += fx->r.verdict == POLICY_TARPIT;
		rejects += fx->r.verdict == POLICY_REJECT_BLOCKED;
	}
	assert_int_equal(tarpits, 8);
	assert_int_equal(rejects, 1);
	policy_get_counters(fx->policy, &c);
	assert_int_equal(c.pending_full, 1);
	/* Expired slots are reused. */
	run(fx, "allow", "{\"login\":\"bob\",\"remote\":\"192.0.2.7\",\"session_id\":\"new\"}",
	    (60 + POLICY_PENDING_SLACK_S) * SEC);
	assert_int_equal(fx->r.verdict, POLICY_TARPIT);
	unmake(fx);
}

/*
 * A refused weak password: -1 with the operator's message (not Dovecot's
 * words: the password was right); another password of the account, or
 * another account, goes on as usual; a login that was cleaned is not the
 * one Dovecot hashed, and is not checked.
 */
static void weak_password_refused_with_its_message(void **state)
{
	struct policy_checks checks = { .account_blocked = fake_blocked,
					.ip_banned = fake_banned,
					.password_refused = fake_refused };
	struct policy_config cfg;
	struct fixture fx = { 0 };
	char why[ERRMSG_LEN] = "";
	json_t *doc;

	(void)state;
	policy_config_default(&cfg);
	checks.ctx = &fx.fake;
	fx.policy = policy_new(&cfg, &checks, why);
	assert_non_null(fx.policy);
	run(&fx, "allow", DEFAULT_BODY, 0);
	assert_int_equal(fx.r.verdict, POLICY_REJECT_WEAK);
	assert_int_equal(fx.r.status, -1);
	doc = json_loads(fx.r.body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(doc, "msg")),
			    "Change your password.");
	json_decref(doc);
	run(&fx, "allow", "{\"login\":\"bob\",\"pwhash\":\"b4e\",\"remote\":\"192.0.2.7\"}", 0);
	assert_int_equal(fx.r.verdict, POLICY_ACCEPT);
	run(&fx, "allow", "{\"login\":\"carol\",\"pwhash\":\"a3f\",\"remote\":\"192.0.2.7\"}", 0);
	assert_int_equal(fx.r.verdict, POLICY_ACCEPT);
	run(&fx, "allow", "{\"login\":\"bob\\u0001\",\"pwhash\":\"a3f\",\"remote\":\"192.0.2.7\"}",
	    0);
	assert_false(fx.r.login_exact);
	assert_int_equal(fx.r.verdict, POLICY_ACCEPT);
	policy_free(fx.policy);
}

static void empty_login_is_not_checked(void **state)
{
	struct fixture *fx = make(NULL);

	(void)state;
	fx->fake.blocked = "";
	run(fx, "allow", "{\"login\":\"\",\"remote\":\"192.0.2.7\"}", 0);
	assert_int_equal(fx->r.verdict, POLICY_ACCEPT);
	assert_int_equal(fx->fake.blocked_calls, 0);
	unmake(fx);
}

static void report_failure_is_an_event(void **state)
{
	struct fixture *fx = make(NULL);
	const __u8 mapped[ADDR_LEN] = { [10] = 0xff, [11] = 0xff, 192, 0, 2, 7 };

	(void)state;
	run(fx, "report",
	    "{\"login\":\"bob\",\"pwhash\":\"a3f\",\"remote\":\"192.0.2.7\",\"device_id\":\"\","
	    "\"protocol\":\"pop3\",\"session_id\":\"s1\",\"success\":false,\"policy_reject\":"
	    "false}",
	    0);
	assert_int_equal(fx->r.http_status, 200);
	assert_int_equal(fx->r.verdict, POLICY_REPORTED);
	assert_int_equal(body_status(&fx->r), 0);
	assert_true(fx->r.has_event);
	assert_int_equal(fx->r.event.outcome, AUTH_FAIL);
	assert_memory_equal(fx->r.event.ip.addr, mapped, ADDR_LEN);
	assert_string_equal(fx->r.event.user, "bob");
	assert_string_equal(fx->r.event.service, "pop3");
	assert_string_equal(fx->r.event.pwhash, "a3f");
	assert_int_equal(fx->r.event.attempts, 1);
	/* Reports never consult the checks. */
	assert_int_equal(fx->fake.blocked_calls + fx->fake.banned_calls, 0);
	unmake(fx);
}

static void report_success_is_an_ok_event(void **state)
{
	struct fixture *fx = make(NULL);
	struct policy_counters c;

	(void)state;
	run(fx, "report",
	    "{\"login\":\"bob\",\"remote\":\"192.0.2.7\",\"success\":true,\"policy_reject\":false}",
	    0);
	assert_true(fx->r.has_event);
	assert_int_equal(fx->r.event.outcome, AUTH_OK);
	assert_string_equal(fx->r.event.service, "");
	assert_string_equal(fx->r.event.pwhash, "");
	policy_get_counters(fx->policy, &c);
	assert_int_equal(c.ok_events, 1);
	assert_int_equal(c.fail_events, 0);
	unmake(fx);
}

static void report_policy_reject_is_not_counted(void **state)
{
	struct fixture *fx = make(NULL);

	(void)state;
	run(fx, "report",
	    "{\"login\":\"bob\",\"remote\":\"192.0.2.7\",\"success\":false,\"policy_reject\":true}",
	    0);
	assert_int_equal(fx->r.http_status, 200);
	assert_int_equal(fx->r.verdict, POLICY_REPORTED);
	assert_false(fx->r.has_event);
	/* policy_reject is optional (obsolete in later Dovecot). */
	run(fx, "report", "{\"login\":\"bob\",\"remote\":\"192.0.2.7\",\"success\":false}", 0);
	assert_true(fx->r.has_event);
	assert_int_equal(fx->r.event.outcome, AUTH_FAIL);
	unmake(fx);
}

static void report_bad_fields_refused(void **state)
{
	struct fixture *fx = make(NULL);

	(void)state;
	run(fx, "report", "{\"login\":\"bob\",\"remote\":\"192.0.2.7\"}", 0);
	assert_refused(fx, 400, "success");
	run(fx, "report", "{\"login\":\"bob\",\"remote\":\"192.0.2.7\",\"success\":\"false\"}", 0);
	assert_refused(fx, 400, "success");
	run(fx, "report",
	    "{\"login\":\"bob\",\"remote\":\"192.0.2.7\",\"success\":false,\"policy_reject\":0}",
	    0);
	assert_refused(fx, 400, "policy_reject");
	unmake(fx);
}

static void remote_forms(void **state)
{
	struct fixture *fx = make(NULL);
	const __u8 v6[ADDR_LEN] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	const __u8 mapped[ADDR_LEN] = { [10] = 0xff, [11] = 0xff, 198, 51, 100, 9 };

	(void)state;
	run(fx, "report", "{\"login\":\"b\",\"remote\":\"2001:db8::1\",\"success\":false}", 0);
	assert_true(fx->r.has_event);
	assert_memory_equal(fx->r.event.ip.addr, v6, ADDR_LEN);
	run(fx, "report", "{\"login\":\"b\",\"remote\":\"::ffff:198.51.100.9\",\"success\":false}",
	    0);
	assert_true(fx->r.has_event);
	assert_memory_equal(fx->r.event.ip.addr, mapped, ADDR_LEN);
	run(fx, "report", "{\"login\":\"b\",\"remote\":\"198.51.100.9\",\"success\":false}", 0);
	assert_memory_equal(fx->r.event.ip.addr, mapped, ADDR_LEN);
	/* A banned IPv4 address matches its mapped spelling. */
	ban(fx, "198.51.100.9");
	run(fx, "allow", "{\"login\":\"b\",\"remote\":\"::ffff:198.51.100.9\"}", 0);
	assert_int_equal(fx->r.verdict, POLICY_REJECT_BANNED);
	ban(fx, "2001:db8::1");
	run(fx, "allow", "{\"login\":\"b\",\"remote\":\"2001:db8:0::1\"}", 0);
	assert_int_equal(fx->r.verdict, POLICY_REJECT_BANNED);
	unmake(fx);
}

static void bad_remotes_refused(void **state)
{
	static const char *const bad[] = {
		"{\"login\":\"b\",\"remote\":\"\"}",
		"{\"login\":\"b\",\"remote\":\"192.0.2.0/24\"}",
		"{\"login\":\"b\",\"remote\":\"192.0.2.7/32\"}",
		"{\"login\":\"b\",\"remote\":\"999.0.2.7\"}",
		"{\"login\":\"b\",\"remote\":\"mail.example.com\"}",
		"{\"login\":\"b\",\"remote\":\"fe80::1%eth0\"}",
		"{\"login\":\"b\",\"remote\":\" 192.0.2.7\"}",
	};
	struct fixture *fx = make(NULL);

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		run(fx, "allow", bad[i], 0);
		assert_refused(fx, 400, "remote");
		run(fx, "report", bad[i], 0);
		assert_refused(fx, 400, "remote");
	}
	unmake(fx);
}

static void missing_and_mistyped_attributes(void **state)
{
	struct fixture *fx = make(NULL);

	(void)state;
	run(fx, "allow", "{\"remote\":\"192.0.2.7\"}", 0);
	assert_refused(fx, 400, "missing attribute 'login'");
	run(fx, "allow", "{\"login\":\"bob\"}", 0);
	assert_refused(fx, 400, "missing attribute 'remote'");
	run(fx, "allow", "{\"login\":7,\"remote\":\"192.0.2.7\"}", 0);
	assert_refused(fx, 400, "'login' is not a string");
	run(fx, "allow", "{\"login\":\"bob\",\"remote\":[\"192.0.2.7\"]}", 0);
	assert_refused(fx, 400, "'remote' is not a string");
	run(fx, "allow", "{\"login\":\"bob\",\"remote\":\"192.0.2.7\",\"protocol\":null}", 0);
	assert_refused(fx, 400, "'protocol' is not a string");
	run(fx, "allow", "{\"login\":\"bob\",\"remote\":\"192.0.2.7\",\"session_id\":{}}", 0);
	assert_refused(fx, 400, "'session_id' is not a string");
	unmake(fx);
}

/* Dovecot's "a/b" keys make nested objects; unknown nested attributes are ignored. */
static void nested_attributes(void **state)
{
	struct policy_config cfg;
	struct fixture *fx;

	(void)state;
	fx = make(NULL);
	run(fx, "report",
	    "{\"login\":\"bob\",\"remote\":\"192.0.2.7\",\"attrs\":{\"cos\":\"premium\","
	    "\"deep\":{\"x\":[1,2]}},\"tls\":\"secured\",\"success\":false,\"policy_reject\":"
	    "false}",
	    0);
	assert_true(fx->r.has_event);
	unmake(fx);

	policy_config_default(&cfg);
	cfg.login_attr = "user/name";
	cfg.remote_attr = "client/addr/ip";
	cfg.protocol_attr = "svc";
	fx = make(&cfg);
	run(fx, "report",
	    "{\"user\":{\"name\":\"carol\"},\"client\":{\"addr\":{\"ip\":\"2001:db8::5\"}},"
	    "\"svc\":\"submission\",\"success\":false}",
	    0);
	assert_true(fx->r.has_event);
	assert_string_equal(fx->r.event.user, "carol");
	assert_string_equal(fx->r.event.service, "submission");
	/* The path must lead through objects. */
	run(fx, "allow", "{\"user\":\"carol\",\"client\":{\"addr\":{\"ip\":\"2001:db8::5\"}}}", 0);
	assert_refused(fx, 400, "missing attribute 'user/name'");
	run(fx, "allow", "{\"user\":{\"name\":\"c\"},\"client\":{\"addr\":\"2001:db8::5\"}}", 0);
	assert_refused(fx, 400, "missing attribute 'client/addr/ip'");
	fx->fake.blocked = "carol";
	run(fx, "allow",
	    "{\"user\":{\"name\":\"carol\"},\"client\":{\"addr\":{\"ip\":\"2001:db8::5\"}},"
	    "\"session_id\":\"x\"}",
	    0);
	assert_int_equal(fx->r.verdict, POLICY_TARPIT);
	unmake(fx);
}

static void garbage_bodies_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"{",
		"not json",
		"[]",
		"\"string\"",
		"42",
		"null",
		"{\"login\":\"bob\",\"remote\":\"192.0.2.7\"} trailing",
		"{\"login\":\"bob\",\"login\":\"eve\",\"remote\":\"192.0.2.7\"}",
		"{\"login\":\"b\\u0000ob\",\"remote\":\"192.0.2.7\"}",
		"{\"login\":\"\xff\xfe\",\"remote\":\"192.0.2.7\"}",
	};
	struct fixture *fx = make(NULL);
	struct policy_counters c;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		run(fx, "allow", bad[i], 0);
		assert_refused(fx, 400, "");
	}
	/* NULL body, and bytes that are not NUL-terminated. */
	policy_handle(fx->policy, "allow", NULL, 0, NULL, 0, &fx->r);
	assert_refused(fx, 400, "empty");
	policy_handle(fx->policy, "allow", DEFAULT_BODY, strlen(DEFAULT_BODY) - 1, NULL, 0, &fx->r);
	assert_refused(fx, 400, "JSON");
	policy_handle(fx->policy, "allow", DEFAULT_BODY, strlen(DEFAULT_BODY), NULL, 0, &fx->r);
	assert_int_equal(fx->r.verdict, POLICY_ACCEPT);
	policy_get_counters(fx->policy, &c);
	assert_int_equal(c.verdicts[POLICY_ERROR], ARRAY_SIZE(bad) + 2);
	assert_int_equal(c.fail_events + c.ok_events, 0);
	unmake(fx);
}

static void oversized_body_refused(void **state)
{
	struct fixture *fx = make(NULL);
	size_t len = POLICY_BODY_MAX + 1;
	char *big = malloc(len + 1);
	const char *head = "{\"login\":\"bob\",\"remote\":\"192.0.2.7\",\"pad\":\"";

	(void)state;
	assert_non_null(big);
	memset(big, 'a', len);
	memcpy(big, head, strlen(head));
	memcpy(big + len - 2, "\"}", 2);
	big[len] = '\0';
	policy_handle(fx->policy, "report", big, len, NULL, 0, &fx->r);
	assert_refused(fx, 413, "over");
	/* Exactly at the limit is read. */
	memcpy(big + len - 3, "\"}", 3);
	policy_handle(fx->policy, "allow", big, len - 1, NULL, 0, &fx->r);
	assert_int_equal(fx->r.http_status, 200);
	assert_int_equal(fx->r.verdict, POLICY_ACCEPT);
	free(big);
	unmake(fx);
}

static void commands(void **state)
{
	struct fixture *fx = make(NULL);

	(void)state;
	run(fx, NULL, DEFAULT_BODY, 0);
	assert_refused(fx, 400, "no command");
	run(fx, "Allow", DEFAULT_BODY, 0);
	assert_refused(fx, 400, "unknown command 'Allow'");
	run(fx, "", DEFAULT_BODY, 0);
	assert_refused(fx, 400, "unknown command");
	run(fx, "allowx", DEFAULT_BODY, 0);
	assert_refused(fx, 400, "unknown command");
	unmake(fx);
}

static void api_key(void **state)
{
	struct policy_config cfg;
	struct fixture *fx;

	(void)state;
	policy_config_default(&cfg);
	cfg.api_key = "s3cret";
	fx = make(&cfg);
	run(fx, "allow", DEFAULT_BODY, 0);
	assert_refused(fx, 401, "missing");
	policy_handle(fx->policy, "allow", DEFAULT_BODY, strlen(DEFAULT_BODY), "s3cre", 0, &fx->r);
	assert_refused(fx, 403, "wrong");
	policy_handle(fx->policy, "allow", DEFAULT_BODY, strlen(DEFAULT_BODY), "s3cret!", 0,
		      &fx->r);
	assert_refused(fx, 403, "wrong");
	policy_handle(fx->policy, "allow", DEFAULT_BODY, strlen(DEFAULT_BODY), "", 0, &fx->r);
	assert_refused(fx, 403, "wrong");
	policy_handle(fx->policy, "report", "{\"success\":false}", 17, "S3CRET", 0, &fx->r);
	assert_refused(fx, 403, "wrong"); /* the key is checked before anything else */
	policy_handle(fx->policy, "allow", DEFAULT_BODY, strlen(DEFAULT_BODY), "s3cret", 0, &fx->r);
	assert_int_equal(fx->r.verdict, POLICY_ACCEPT);
	unmake(fx);

	/* No key configured: a presented one is ignored. */
	policy_config_default(&cfg);
	cfg.api_key = "";
	fx = make(&cfg);
	policy_handle(fx->policy, "allow", DEFAULT_BODY, strlen(DEFAULT_BODY), "x", 0, &fx->r);
	assert_int_equal(fx->r.verdict, POLICY_ACCEPT);
	unmake(fx);
}

static void long_values_truncated_and_escaped(void **state)
{
	struct fixture *fx = make(NULL);
	char body[2048], login[600];

	(void)state;
	memset(login, 'x', sizeof(login) - 1);
	login[sizeof(login) - 1] = '\0';
	snprintf(body, sizeof(body),
		 "{\"login\":\"%s\",\"remote\":\"192.0.2.7\",\"protocol\":\"%s\","
		 "\"pwhash\":\"%s\",\"success\":false}",
		 login, "imapimapimapimapimapimapimapimapimapimap", login);
	run(fx, "report", body, 0);
	assert_true(fx->r.has_event);
	assert_int_equal(strlen(fx->r.event.user), EVENT_USER_LEN - 1);
	assert_int_equal(strlen(fx->r.event.service), EVENT_SERVICE_LEN - 1);
	assert_int_equal(strlen(fx->r.event.pwhash), EVENT_HASH_LEN - 1);
	/* A reason quoting hostile input still makes valid JSON. */
	run(fx, "allow", "{\"login\":\"b\",\"remote\":\"\\\"}\\n{\"}", 0);
	assert_refused(fx, 400, "remote");
	unmake(fx);
}

/* Attacker-chosen names cannot forge log lines or drive a terminal. */
static void control_bytes_masked(void **state)
{
	struct fixture *fx = make(NULL);

	(void)state;
	run(fx, "report",
	    "{\"login\":\"bob\\nxdpban[info]: ban 198.51.100.1\\u001b[2J\",\"remote\":"
	    "\"192.0.2.7\",\"protocol\":\"imap\\r\",\"success\":false}",
	    0);
	assert_true(fx->r.has_event);
	assert_string_equal(fx->r.event.user, "bob?xdpban[info]: ban 198.51.100.1?[2J");
	assert_string_equal(fx->r.event.service, "imap?");
	unmake(fx);
}

/* A blocked name longer than an event holds: the allow check asks for the same cut name. */
static void long_blocked_login_is_enforced(void **state)
{
	struct fixture *fx = make(NULL);
	char body[1024], login[300], blocked[EVENT_USER_LEN];

	(void)state;
	memset(login, 'y', sizeof(login) - 1);
	login[sizeof(login) - 1] = '\0';
	memcpy(blocked, login, sizeof(blocked) - 1); /* the name an event holds */
	blocked[sizeof(blocked) - 1] = '\0';
	fx->fake.blocked = blocked;
	snprintf(body, sizeof(body),
		 "{\"login\":\"%s\",\"remote\":\"192.0.2.7\",\"session_id\":\"s1\"}", login);
	run(fx, "allow", body, 0);
	assert_int_equal(fx->r.verdict, POLICY_TARPIT);
	unmake(fx);
}

static void config_checked(void **state)
{
	struct policy_checks checks = { .account_blocked = fake_blocked, .ip_banned = fake_banned };
	struct policy_config cfg;
	char why[ERRMSG_LEN];

	(void)state;
	policy_config_default(&cfg);
	cfg.tarpit_s = 3601;
	assert_null(policy_new(&cfg, &checks, why));
	assert_why_has(why, "tarpit");
	policy_config_default(&cfg);
	cfg.max_pending = 7;
	assert_null(policy_new(&cfg, &checks, why));
	assert_why_has(why, "max_pending");
	policy_config_default(&cfg);
	cfg.remote_attr = "a//b";
	assert_null(policy_new(&cfg, &checks, why));
	assert_why_has(why, "remote");
	cfg.remote_attr = "";
	assert_null(policy_new(&cfg, &checks, why));
	cfg.remote_attr = "a/";
	assert_null(policy_new(&cfg, &checks, why));
	cfg.remote_attr = NULL;
	assert_null(policy_new(&cfg, &checks, why));
	policy_config_default(&cfg);
	checks.ip_banned = NULL;
	assert_null(policy_new(&cfg, &checks, why));
	assert_null(policy_new(&cfg, NULL, why));
	policy_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(allow_plain_is_accepted),
		cmocka_unit_test(allow_banned_ip_is_rejected),
		cmocka_unit_test(blocked_account_tarpit_then_reject),
		cmocka_unit_test(blocked_account_configured_tarpit),
		cmocka_unit_test(update_keeps_pending_attempts),
		cmocka_unit_test(oversized_refusal_counted),
		cmocka_unit_test(blocked_account_without_tarpit_rejects),
		cmocka_unit_test(blocked_account_without_session_rejects),
		cmocka_unit_test(pending_full_rejects),
		cmocka_unit_test(weak_password_refused_with_its_message),
		cmocka_unit_test(empty_login_is_not_checked),
		cmocka_unit_test(report_failure_is_an_event),
		cmocka_unit_test(report_success_is_an_ok_event),
		cmocka_unit_test(report_policy_reject_is_not_counted),
		cmocka_unit_test(report_bad_fields_refused),
		cmocka_unit_test(remote_forms),
		cmocka_unit_test(bad_remotes_refused),
		cmocka_unit_test(missing_and_mistyped_attributes),
		cmocka_unit_test(nested_attributes),
		cmocka_unit_test(garbage_bodies_refused),
		cmocka_unit_test(oversized_body_refused),
		cmocka_unit_test(commands),
		cmocka_unit_test(api_key),
		cmocka_unit_test(long_values_truncated_and_escaped),
		cmocka_unit_test(control_bytes_masked),
		cmocka_unit_test(long_blocked_login_is_enforced),
		cmocka_unit_test(config_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
