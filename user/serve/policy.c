// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "serve/policy.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "lib/clock.h"
#include "lib/cidr.h"
#include "lib/siphash.h"
#include "lib/text.h"

enum attr { ATTR_LOGIN, ATTR_REMOTE, ATTR_PROTOCOL, ATTR_PWHASH, ATTR_SESSION, ATTRS };

static const char *const attr_names[ATTRS] = { "login", "remote", "protocol", "pwhash",
					       "session_id" };

struct pending {
	uint64_t hash;	     /* 0: free */
	uint64_t expires_ns; /* free once now_ns >= this */
};

struct policy {
	unsigned int tarpit_s;
	char *api_key; /* NULL: no check */
	char *attrs[ATTRS];
	struct policy_checks checks;
	struct siphash_key key;
	struct pending *pending;
	size_t sets; /* of POLICY_PENDING_WAYS slots */
	struct policy_counters counters;
};

void policy_config_default(struct policy_config *cfg)
{
	*cfg = (struct policy_config){
		.tarpit_s = 60,
		.api_key = NULL,
		.max_pending = 65536,
		.login_attr = "login",
		.remote_attr = "remote",
		.protocol_attr = "protocol",
		.pwhash_attr = "pwhash",
		.session_attr = "session_id",
	};
}

static bool path_ok(const char *path)
{
	size_t len = path ? strlen(path) : 0;

	return len > 0 && path[0] != '/' && path[len - 1] != '/' && !strstr(path, "//");
}

static bool tarpit_ok(unsigned int tarpit_s, char why[ERRMSG_LEN])
{
	if (tarpit_s <= POLICY_MAX_TARPIT_S)
		return true;
	errmsg(why, "policy: tarpit %u s is over %u s", tarpit_s, POLICY_MAX_TARPIT_S);
	return false;
}

struct policy *policy_new(const struct policy_config *cfg, const struct policy_checks *checks,
			  char why[ERRMSG_LEN])
{
	const char *paths[ATTRS] = { cfg->login_attr, cfg->remote_attr, cfg->protocol_attr,
				     cfg->pwhash_attr, cfg->session_attr };
	struct policy *p;
	int err;

	if (!tarpit_ok(cfg->tarpit_s, why))
		return NULL;
	if (cfg->max_pending < POLICY_PENDING_WAYS || cfg->max_pending > POLICY_MAX_PENDING) {
		errmsg(why, "policy: max_pending %u is not in %u..%u", cfg->max_pending,
		       POLICY_PENDING_WAYS, POLICY_MAX_PENDING);
		return NULL;
	}
	if (!checks || !checks->account_blocked || !checks->ip_banned) {
		errmsg(why, "policy: both checks are needed");
		return NULL;
	}
	for (int i = 0; i < ATTRS; i++)
		if (!path_ok(paths[i])) {
			errmsg(why, "policy: %s attribute '%s' is not a key or a/b path",
			       attr_names[i], paths[i] ? paths[i] : "");
			return NULL;
		}
	p = calloc(1, sizeof(*p));
	if (!p) {
		errmsg(why, "policy: out of memory");
		return NULL;
	}
	p->tarpit_s = cfg->tarpit_s;
	p->checks = *checks;
	p->sets = (cfg->max_pending + POLICY_PENDING_WAYS - 1) / POLICY_PENDING_WAYS;
	p->pending = calloc(p->sets * POLICY_PENDING_WAYS, sizeof(*p->pending));
	if (!p->pending)
		goto nomem;
	if (cfg->api_key && *cfg->api_key && !(p->api_key = strdup(cfg->api_key)))
		goto nomem;
	for (int i = 0; i < ATTRS; i++)
		if (!(p->attrs[i] = strdup(paths[i])))
			goto nomem;
	err = siphash_key_random(&p->key);
	if (err) {
		errmsg(why, "policy: getrandom: %s", strerror(-err));
		policy_free(p);
		return NULL;
	}
	return p;
nomem:
	errmsg(why, "policy: out of memory");
	policy_free(p);
	return NULL;
}

void policy_free(struct policy *policy)
{
	if (!policy)
		return;
	for (int i = 0; i < ATTRS; i++)
		free(policy->attrs[i]);
	free(policy->api_key);
	free(policy->pending);
	free(policy);
}

int policy_update(struct policy *policy, unsigned int tarpit_s, const char *api_key,
		  char why[ERRMSG_LEN])
{
	char *key = NULL;

	if (!tarpit_ok(tarpit_s, why))
		return -EINVAL;
	if (api_key && *api_key && !(key = strdup(api_key))) {
		errmsg(why, "policy: out of memory");
		return -ENOMEM;
	}
	free(policy->api_key);
	policy->api_key = key;
	policy->tarpit_s = tarpit_s;
	return 0;
}

void policy_get_counters(const struct policy *policy, struct policy_counters *counters)
{
	*counters = policy->counters;
}

/* ---- the pending table: tarpitted attempts waiting for their second check ---- */

static uint64_t attempt_hash(const struct policy *p, const char *session, const char *login,
			     const char *pwhash)
{
	size_t ls = strlen(session) + 1, ll = strlen(login) + 1, lp = strlen(pwhash);
	char *buf = malloc(ls + ll + lp);
	uint64_t hash;

	if (!buf)
		return 0;
	memcpy(buf, session, ls);
	memcpy(buf + ls, login, ll);
	memcpy(buf + ls + ll, pwhash, lp);
	hash = siphash64(&p->key, buf, ls + ll + lp);
	free(buf);
	return hash ? hash : 1;
}

static struct pending *pending_set(const struct policy *p, uint64_t hash)
{
	return &p->pending[(hash % p->sets) * POLICY_PENDING_WAYS];
}

/* Removes hash when it is remembered and live; returns whether it was. */
static bool pending_take(struct policy *p, uint64_t hash, uint64_t now_ns)
{
	struct pending *set = pending_set(p, hash);

	for (unsigned int i = 0; i < POLICY_PENDING_WAYS; i++)
		if (set[i].hash == hash && now_ns < set[i].expires_ns) {
			set[i].hash = 0;
			return true;
		}
	return false;
}

/* Remembers hash; false when every slot of its set is live (the caller fails closed). */
static bool pending_add(struct policy *p, uint64_t hash, uint64_t now_ns)
{
	struct pending *set = pending_set(p, hash);

	for (unsigned int i = 0; i < POLICY_PENDING_WAYS; i++)
		if (!set[i].hash || now_ns >= set[i].expires_ns) {
			set[i].hash = hash;
			set[i].expires_ns =
			    now_ns +
			    (uint64_t)(p->tarpit_s + POLICY_PENDING_SLACK_S) * NSEC_PER_SEC;
			return true;
		}
	return false;
}

/* ---- requests ---- */

/* The value at an "a/b/c" path, or NULL. */
static json_t *lookup(json_t *doc, const char *path)
{
	const char *seg = path;

	while (doc) {
		const char *slash = strchr(seg, '/');
		size_t len = slash ? (size_t)(slash - seg) : strlen(seg);

		if (!json_is_object(doc))
			return NULL;
		doc = json_object_getn(doc, seg, len);
		if (!slash)
			return doc;
		seg = slash + 1;
	}
	return NULL;
}

/* The compact JSON form of doc into body, or fallback when it does not fit. */
static void dump(json_t *doc, char body[POLICY_ANSWER_MAX], const char *fallback)
{
	size_t n = doc ? json_dumpb(doc, body, POLICY_ANSWER_MAX - 1, JSON_COMPACT) : 0;

	if (n == 0 || n >= POLICY_ANSWER_MAX)
		snprintf(body, POLICY_ANSWER_MAX, "%s", fallback);
	else
		body[n] = '\0';
	json_decref(doc);
}

static void answer_with(struct policy_result *r, enum policy_verdict verdict, int status,
			const char *msg)
{
	char fallback[32];

	snprintf(fallback, sizeof(fallback), "{\"status\":%d}", status);
	dump(json_pack("{s:i, s:s}", "status", status, "msg", msg), r->body, fallback);
	r->http_status = 200;
	r->verdict = verdict;
	r->status = status;
}

/*
 * A rejection's msg is what the client may be shown, so it is Dovecot's own
 * words for a wrong password: an attacker cannot tell a blocked account or a
 * banned address from a bad guess. The real reason stays in r->reason for
 * the daemon's log.
 */
static void answer(struct policy_result *r, enum policy_verdict verdict, int status)
{
	answer_with(r, verdict, status, status < 0 ? POLICY_REJECT_MSG : r->reason);
}

static void refuse(struct policy *p, struct policy_result *r, unsigned int http_status)
{
	dump(json_pack("{s:s}", "error", r->reason), r->body, "{\"error\":\"refused\"}");
	r->http_status = http_status;
	r->verdict = POLICY_ERROR;
	r->status = 0;
	r->has_event = false;
	p->counters.verdicts[POLICY_ERROR]++;
}

/* Constant time in the presented key's contents (not its length). */
static bool key_matches(const char *want, const char *got)
{
	size_t wl = strlen(want), gl = strlen(got);
	unsigned char diff = wl != gl;

	for (size_t i = 0; i < gl; i++)
		diff |= (unsigned char)got[i] ^ (unsigned char)want[i % (wl ? wl : 1)];
	return diff == 0;
}

bool policy_key_ok(const struct policy *policy, const char *api_key)
{
	return !policy->api_key || (api_key && key_matches(policy->api_key, api_key));
}

/* A string attribute into out; false (reason in r) when absent or not a string. */
static bool string_attr(struct policy *p, json_t *doc, enum attr which, bool required,
			const char **out, struct policy_result *r)
{
	json_t *value = lookup(doc, p->attrs[which]);

	*out = "";
	if (!value && !required)
		return true;
	if (!value) {
		errmsg(r->reason, "missing attribute '%s'", p->attrs[which]);
		return false;
	}
	if (!json_is_string(value)) {
		errmsg(r->reason, "attribute '%s' is not a string", p->attrs[which]);
		return false;
	}
	*out = json_string_value(value);
	return true;
}

static bool parse_remote(const char *text, struct addr_key *ip, struct policy_result *r)
{
	struct lpm_key key;
	char why[ERRMSG_LEN];

	if (!*text || strchr(text, '/') || cidr_parse(text, &key, why) || !cidr_is_host(&key)) {
		errmsg(r->reason, "remote '%.64s' is not an IP address", text);
		return false;
	}
	cidr_to_addr_key(ip, &key);
	return true;
}

static void handle_allow(struct policy *p, const char *login, const struct addr_key *ip,
			 const char *session, const char *pwhash, uint64_t now_ns,
			 struct policy_result *r)
{
	uint64_t deadline_ns = 0, hash;
	const char *refusal;

	if (p->checks.ip_banned(p->checks.ctx, ip)) {
		errmsg(r->reason, "address banned");
		answer(r, POLICY_REJECT_BANNED, -1);
		goto out;
	}
	/*
	 * The operator's message, not Dovecot's words for a wrong password:
	 * the client gave the right password, and is told to change it.
	 */
	refusal = p->checks.password_refused && r->login_exact && *pwhash
		      ? p->checks.password_refused(p->checks.ctx, login, pwhash)
		      : NULL;
	if (refusal) {
		errmsg(r->reason, "password refused as weak");
		answer_with(r, POLICY_REJECT_WEAK, -1, refusal);
		goto out;
	}
	if (!*login || !p->checks.account_blocked(p->checks.ctx, login, &deadline_ns)) {
		errmsg(r->reason, "ok");
		answer(r, POLICY_ACCEPT, 0);
		goto out;
	}
	errmsg(r->reason, "account temporarily blocked");
	if (!p->tarpit_s || !*session) {
		answer(r, POLICY_REJECT_BLOCKED, -1);
		goto out;
	}
	hash = attempt_hash(p, session, login, pwhash);
	if (!hash || pending_take(p, hash, now_ns)) {
		answer(r, POLICY_REJECT_BLOCKED, -1);
		goto out;
	}
	if (!pending_add(p, hash, now_ns)) {
		p->counters.pending_full++;
		answer(r, POLICY_REJECT_BLOCKED, -1);
		goto out;
	}
	answer(r, POLICY_TARPIT, (int)p->tarpit_s);
out:
	p->counters.verdicts[r->verdict]++;
}

static bool handle_report(struct policy *p, json_t *doc, struct policy_result *r)
{
	json_t *success = json_object_get(doc, "success");
	json_t *rejected = json_object_get(doc, "policy_reject");

	if (!json_is_boolean(success)) {
		errmsg(r->reason, "report without a boolean 'success'");
		return false;
	}
	if (rejected && !json_is_boolean(rejected)) {
		errmsg(r->reason, "'policy_reject' is not a boolean");
		return false;
	}
	r->event.outcome = json_is_true(success) ? AUTH_OK : AUTH_FAIL;
	r->has_event = json_is_true(success) || !json_is_true(rejected);
	errmsg(r->reason, "%s",
	       !r->has_event		     ? "policy rejection not counted"
	       : r->event.outcome == AUTH_OK ? "success noted"
					     : "failure counted");
	if (r->has_event && r->event.outcome == AUTH_OK)
		p->counters.ok_events++;
	else if (r->has_event)
		p->counters.fail_events++;
	answer(r, POLICY_REPORTED, 0);
	p->counters.verdicts[POLICY_REPORTED]++;
	return true;
}

void policy_refuse_oversized(struct policy *p, struct policy_result *r)
{
	memset(r, 0, sizeof(*r));
	errmsg(r->reason, "body over %u bytes", POLICY_BODY_MAX);
	refuse(p, r, 413);
}

/* Checks the key, command and size: 0, or the 4xx status with the reason in r. */
static unsigned int check_request(const struct policy *p, const char *command, size_t len,
				  const char *api_key, bool *allow, struct policy_result *r)
{
	if (p->api_key && !api_key) {
		errmsg(r->reason, "API key missing");
		return 401;
	}
	if (p->api_key && !key_matches(p->api_key, api_key)) {
		errmsg(r->reason, "API key wrong");
		return 403;
	}
	if (!command) {
		errmsg(r->reason, "no command");
		return 400;
	}
	*allow = !strcmp(command, "allow");
	if (!*allow && strcmp(command, "report")) {
		errmsg(r->reason, "unknown command '%.32s'", command);
		return 400;
	}
	if (len > POLICY_BODY_MAX) {
		errmsg(r->reason, "body of %zu bytes is over %u", len, POLICY_BODY_MAX);
		return 413;
	}
	return 0;
}

void policy_handle(struct policy *p, const char *command, const char *body, size_t len,
		   const char *api_key, uint64_t now_ns, struct policy_result *r)
{
	const char *login, *remote, *protocol, *pwhash, *session;
	bool allow = false;
	json_error_t error;
	unsigned int refused;
	json_t *doc;

	memset(r, 0, sizeof(*r));
	r->event.attempts = 1;
	refused = check_request(p, command, len, api_key, &allow, r);
	if (refused) {
		refuse(p, r, refused);
		return;
	}
	doc = body ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &error) : NULL;
	if (!json_is_object(doc)) {
		errmsg(r->reason, "body is not a JSON object%s%s", doc ? "" : ": ",
		       doc ? "" : (body ? error.text : "empty"));
		json_decref(doc);
		refuse(p, r, 400);
		return;
	}
	if (!string_attr(p, doc, ATTR_LOGIN, true, &login, r) ||
	    !string_attr(p, doc, ATTR_REMOTE, true, &remote, r) ||
	    !string_attr(p, doc, ATTR_PROTOCOL, false, &protocol, r) ||
	    !string_attr(p, doc, ATTR_PWHASH, false, &pwhash, r) ||
	    !string_attr(p, doc, ATTR_SESSION, false, &session, r) ||
	    !parse_remote(remote, &r->event.ip, r)) {
		json_decref(doc);
		refuse(p, r, 400);
		return;
	}
	/*
	 * Attacker-chosen text, made safe for logs and terminals; the allow check
	 * asks for the very name the rules block, cut and cleaned the same way.
	 */
	text_copy_clean(r->event.user, sizeof(r->event.user), login, strlen(login));
	r->login_exact = !strcmp(r->event.user, login);
	text_copy_clean(r->event.service, sizeof(r->event.service), protocol, strlen(protocol));
	text_copy_clean(r->event.pwhash, sizeof(r->event.pwhash), pwhash, strlen(pwhash));
	if (allow)
		handle_allow(p, r->event.user, &r->event.ip, session, pwhash, now_ns, r);
	else if (!handle_report(p, doc, r))
		refuse(p, r, 400);
	json_decref(doc);
}
