// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "daemon/daemon-internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "lib/cidr.h"
#include "lib/duration.h"
#include "lib/paths.h"
#include "lib/util.h"

/* ---- who is never banned ---- */

/*
 * Loopback and every address of the host's interfaces, and what is never
 * banned (reserved addresses, the default routers), in this network
 * namespace: at start and whenever an address or a default route changes.
 */
int decide_collect_own(struct daemon *d, char why[ERRMSG_LEN])
{
	protected_free(&d->own);
	protected_free(&d->never);
	if (protected_add_never(&d->never, why))
		return -ENOMEM;
	return protected_add_host(&d->own, why);
}

/* A ban over a reserved address or a default router: refused with one line, counted. */
static bool never_banned(struct daemon *d, const struct lpm_key *prefix, const char *source)
{
	const struct protected_addr *hit = protected_within(&d->never, NULL, prefix);
	char text[CIDR_TEXT_LEN], victim[PROTECTED_TEXT_LEN];

	if (!hit)
		return false;
	cidr_format(prefix, text);
	protected_describe(hit, victim);
	d->counters.refused_never++;
	log_say(LOG_LEVEL_WARNING, "not banning %s (source %s): it covers %s", text, source,
		victim);
	return true;
}

/* Not counted, never banned: the allowlist map, [rules] allow, and allow_own_addresses. */
bool decide_allowlisted(const struct daemon *d, const struct addr_key *ip)
{
	struct lpm_key host;

	cidr_from_addr_key(&host, ip);
	if (bans_allow_covers(&d->maps, &host))
		return true;
	if (cidr_any_contains(d->conf->rules.allow, d->conf->rules.allow_count, &host))
		return true;
	return d->conf->rules.allow_own_addresses && protected_covers(&d->own, &host);
}

/* ---- decisions into the maps and the store ---- */

/* A full CIDR map made room: each ban that went is logged, counted and closed in the store. */
static void record_evictions(struct daemon *d, const struct ban_evictions *evicted)
{
	uint64_t now_ns = clock_now_ns();
	char prefix[CIDR_TEXT_LEN], left[DURATION_TEXT_LEN];

	for (size_t i = 0; i < evicted->count; i++) {
		const struct ban_record *ban = &evicted->records[i];

		cidr_format(&ban->key, prefix);
		duration_format(ban_seconds_left(&ban->entry, now_ns), left);
		log_say(
		    LOG_LEVEL_WARNING,
		    "the CIDR ban map is full: evicted %s, the ban closest to its end (%s left)",
		    prefix, left);
		d->counters.ban_evictions++;
		if (d->queue)
			store_queue_lift_bans(d->queue, &ban->key, 1, clock_wall_s(), "evicted");
	}
}

/* Rows for bans already in the maps, queued for the store's writer (never lost, never waited for).
 */
void decide_record_bans(struct daemon *d, const struct store_ban *rows, size_t count, int64_t now)
{
	if (d->queue)
		store_queue_bans(d->queue, rows, count, now);
}

/* *outlasted: a ban in force already ends later (bans_outlasted); nothing is changed. */
static int apply_ban(struct daemon *d, const struct rules_decision *decision, const char *source,
		     bool *outlasted, char why[ERRMSG_LEN])
{
	struct ban_request request = { .key = decision->ip_key, .seconds = decision->ban_seconds };
	struct ban_evictions evicted = { 0 };
	int lock = pins_lock(d->conf->daemon.pin_dir, why);
	int err;

	if (lock < 0)
		return lock;
	*outlasted = bans_outlasted(&d->maps, &request, clock_now_ns());
	if (*outlasted) {
		close(lock);
		return 0;
	}
	err = bans_add_evicting(&d->maps, &request, 1, BAN_ORIGIN_IP_RULE, &evicted, why);
	close(lock);
	if (err == -ENOSPC && cidr_is_host(&request.key))
		d->counters.address_map_full++; /* refused: no live ban is pushed out for it */
	record_evictions(d, &evicted);
	ban_evictions_free(&evicted);
	if (!err && d->queue) {
		int64_t now = clock_wall_s();
		struct store_ban row = {
			.key = decision->ip_key,
			.first_event = now - (int64_t)d->rules_cfg.ip_window,
			.last_event = now,
			.count = d->rules_cfg.ip_failures,
			.expires_at = now + (int64_t)decision->ban_seconds,
		};

		snprintf(row.reason, sizeof(row.reason), "%s",
			 decision->repeat ? "repeat" : "ip_rule");
		snprintf(row.source, sizeof(row.source), "%s", source);
		decide_record_bans(d, &row, 1, now);
	}
	return err;
}

static void remember_failure(struct daemon *d, const struct auth_event *event)
{
	struct recent_failure *slot;

	if (!d->recent || event->outcome != AUTH_FAIL || !event->user[0])
		return;
	slot = &d->recent[d->recent_next++ % RECENT_FAILURES];
	snprintf(slot->user, sizeof(slot->user), "%s", event->user);
	slot->ip = event->ip;
	slot->at_ns = clock_now_ns();
}

/*
 * The distinct addresses that failed on account within the window, as far
 * as the recent ring remembers (a flood may have pushed early ones out).
 */
static void block_addresses(const struct daemon *d, const char *account, char *out, size_t len)
{
	uint64_t since = clock_now_ns() - d->rules_cfg.account_window * NSEC_PER_SEC;
	struct lpm_key seen[RULES_MAX_DISTINCT_IPS * 4];
	size_t count = 0, used = 0;

	out[0] = '\0';
	for (size_t i = 0; d->recent && i < RECENT_FAILURES; i++) {
		const struct recent_failure *f = &d->recent[i];
		char text[CIDR_TEXT_LEN];
		struct lpm_key host;
		bool known = false;

		if (count == ARRAY_SIZE(seen))
			break;
		if (!f->at_ns || f->at_ns < since || strcasecmp(f->user, account) != 0)
			continue;
		cidr_from_addr_key(&host, &f->ip);
		for (size_t j = 0; j < count && !known; j++)
			known = cidr_compare(&seen[j], &host) == 0;
		if (known)
			continue;
		seen[count++] = host;
		cidr_format(&host, text);
		used += snprintf(out + used, used < len ? len - used : 0, "%s%s", used ? "," : "",
				 text);
	}
}

static void record_block(struct daemon *d, const struct rules_decision *decision,
			 const char *source)
{
	int64_t now = clock_wall_s();
	uint64_t seconds = d->rules_cfg.account_blocktime;
	struct store_block row = {
		.count = decision->account_failures,
		.started_at = now,
		.expires_at = now + (int64_t)seconds,
	};
	char length[DURATION_TEXT_LEN];

	duration_format(seconds, length);
	log_say(LOG_LEVEL_INFO,
		"block account %s for %s: %u failures from %u or more addresses "
		"(source %s)",
		decision->account, length, decision->account_failures, d->rules_cfg.account_min_ips,
		source);
	d->counters.blocks++;
	if (!d->queue)
		return;
	snprintf(row.account, sizeof(row.account), "%s", decision->account);
	snprintf(row.source, sizeof(row.source), "%s", source);
	block_addresses(d, decision->account, row.ips, sizeof(row.ips));
	store_queue_block(d->queue, &row, now);
}

/* ---- the self-lockout guard ---- */

static void remember_ssh_login(struct daemon *d, const struct auth_event *event)
{
	if (event->outcome == AUTH_OK && strcmp(event->service, "ssh") == 0)
		d->ssh_logins[d->ssh_login_next++ % SSH_LOGINS] = event->ip;
}

static bool logged_in_over_ssh(const struct daemon *d, const struct lpm_key *host)
{
	size_t known = d->ssh_login_next < SSH_LOGINS ? d->ssh_login_next : SSH_LOGINS;
	struct lpm_key login;

	for (size_t i = 0; i < known; i++) {
		cidr_from_addr_key(&login, &d->ssh_logins[i]);
		if (cidr_compare(&login, host) == 0)
			return true;
	}
	return false;
}

/*
 * The operator's SSH session: an address inside prefix that logged in over
 * SSH (as the followed sshd log said) and still has an established session.
 * A mere connection to port 22 does not count: a brute-forcer holds one
 * while it guesses. /proc is read only when such a login lies in prefix.
 */
static bool ssh_operator_within(struct daemon *d, const struct lpm_key *prefix,
				char victim[PROTECTED_TEXT_LEN])
{
	struct protected_set peers = { 0 };
	struct ssh_ports ports;
	char why[ERRMSG_LEN];
	bool found = false;

	for (size_t i = 0; i < SSH_LOGINS && i < d->ssh_login_next && !found; i++) {
		struct lpm_key login;

		cidr_from_addr_key(&login, &d->ssh_logins[i]);
		found = cidr_contains(prefix, &login);
	}
	if (!found)
		return false;
	found = false;
	protected_ssh_ports_read(XDPBAN_SSHD_CONFIG, &ports);
	if (protected_add_ssh_peers(&peers, &ports, why))
		log_say(LOG_LEVEL_WARNING, "self-lockout guard: %s", why);
	for (size_t i = 0; i < peers.count && !found; i++) {
		found = cidr_contains(prefix, &peers.items[i].key) &&
			logged_in_over_ssh(d, &peers.items[i].key);
		if (found)
			protected_describe(&peers.items[i], victim);
	}
	protected_free(&peers);
	return found;
}

/*
 * A rule's prefix (IPv6 per /N) must not cover the host or the operator's
 * SSH session: narrowed to the failing address when it would cover the
 * host, not applied at all when the address itself is the operator's.
 */
static bool guard_ban(struct daemon *d, const struct auth_event *event, const char *source,
		      struct rules_decision *decision)
{
	char prefix[CIDR_TEXT_LEN], victim[PROTECTED_TEXT_LEN];
	const struct protected_addr *own = protected_within(&d->own, NULL, &decision->ip_key);
	struct lpm_key host;

	cidr_from_addr_key(&host, &event->ip);
	if (never_banned(d, &host, source))
		return false;
	if (protected_within(&d->never, NULL, &decision->ip_key))
		decision->ip_key = host; /* a prefix over a router: the failing address alone */
	cidr_format(&decision->ip_key, prefix);
	if (own && d->conf->rules.allow_own_addresses) {
		protected_describe(own, victim);
		log_say(LOG_LEVEL_WARNING,
			"ban of %s narrowed to the failing address: it covers %s", prefix, victim);
		cidr_from_addr_key(&decision->ip_key, &event->ip);
		cidr_format(&decision->ip_key, prefix);
	}
	if (!ssh_operator_within(d, &decision->ip_key, victim))
		return true;
	d->counters.refused_lockout++;
	log_say(LOG_LEVEL_WARNING, "not banning %s: it covers %s that logged in", prefix, victim);
	return false;
}

/*
 * Other nodes' bans, DNSBL listings and dictionary guesses obey the
 * never-banned addresses, the allowlist, own addresses and the operator's
 * SSH session.
 */
bool decide_may_ban(struct daemon *d, const struct lpm_key *prefix, const char *source)
{
	char victim[PROTECTED_TEXT_LEN];
	struct addr_key first;

	if (never_banned(d, prefix, source))
		return false;
	cidr_to_addr_key(&first, prefix);
	if (decide_allowlisted(d, &first))
		return false;
	if (d->conf->rules.allow_own_addresses && protected_within(&d->own, NULL, prefix))
		return false;
	return !ssh_operator_within(d, prefix, victim);
}

/* The one path every event takes: allowlist, rules, then the decision applied. */
void decide_event(struct daemon *d, const struct auth_event *event, const char *source,
		  char result[ERRMSG_LEN])
{
	struct rules_decision decision;
	char prefix[CIDR_TEXT_LEN];
	struct lpm_key host;

	d->counters.events++;
	cidr_from_addr_key(&host, &event->ip);
	cidr_format(&host, prefix);
	if (event->outcome == AUTH_FAIL && decide_allowlisted(d, &event->ip)) {
		d->counters.ignored_allowlisted++;
		errmsg(result, "%s is allowlisted: not counted", prefix);
		return;
	}
	remember_failure(d, event);
	remember_ssh_login(d, event);
	rules_feed(d->rules, event, clock_now_ns(), &decision);
	if (d->fleet)
		fleet_report(d->fleet, event, &decision);
	if (decision.block_started)
		record_block(d, &decision, source);
	if (!decision.ban) {
		errmsg(result, "counted: %u failures from %s in the window", decision.ip_failures,
		       prefix);
		return;
	}
	if (!guard_ban(d, event, source, &decision)) {
		errmsg(result, "not banned: it would lock the operator out or cut a router, "
			       "or it is no client's address");
		return;
	}
	decide_apply_ban(d, &decision, source, result);
}

/*
 * A rule's ban into the maps and the store. One that fails for want of a
 * resource (descriptors, memory) is queued and tried again from the tick
 * (retry.c), never dropped.
 */
void decide_apply_ban(struct daemon *d, const struct rules_decision *decision, const char *source,
		      char result[ERRMSG_LEN])
{
	char prefix[CIDR_TEXT_LEN], length[DURATION_TEXT_LEN], why[ERRMSG_LEN];
	bool outlasted = false;
	int err;

	cidr_format(&decision->ip_key, prefix);
	duration_format(decision->ban_seconds, length);
	err = apply_ban(d, decision, source, &outlasted, why);
	if (err && retry_transient(err) && retry_queue(d, decision, source)) {
		if (!d->retrying)
			log_say(LOG_LEVEL_WARNING,
				"cannot ban %s yet: %s; trying again every second", prefix, why);
		errmsg(result, "ban of %s queued: %s", prefix, why);
		return;
	}
	if (err) {
		d->counters.apply_errors++;
		log_say(LOG_LEVEL_ERROR, "cannot ban %s: %s", prefix, why);
		errmsg(result, "cannot ban %s: %s", prefix, why);
		return;
	}
	if (outlasted) {
		log_say(LOG_LEVEL_INFO,
			"not banning %s for %s: a ban of it in force ends later (source %s)",
			prefix, length, source);
		errmsg(result, "%s stays banned: its ban ends later than %s from now", prefix,
		       length);
		return;
	}
	d->counters.bans++;
	log_say(LOG_LEVEL_INFO, "ban %s for %s: %u failures in %" PRIu64 " s (source %s%s)", prefix,
		length, d->rules_cfg.ip_failures, d->rules_cfg.ip_window, source,
		decision->repeat ? ", repeat offender" : "");
	errmsg(result, "banned %s for %s", prefix, length);
}

void decide_ban(struct daemon *d, const struct lpm_key *key, uint64_t seconds, const char *reason,
		const char *source, uint64_t count, const char *because)
{
	struct ban_request request = { .key = *key, .seconds = seconds };
	char prefix[CIDR_TEXT_LEN], length[DURATION_TEXT_LEN], why[ERRMSG_LEN];
	int64_t now = clock_wall_s();
	struct store_ban row = { .key = *key,
				 .count = count,
				 .expires_at = now + (int64_t)seconds };
	int lock;

	cidr_format(key, prefix);
	if (!decide_may_ban(d, key, source))
		return;
	duration_format(seconds, length);
	lock = pins_lock(d->conf->daemon.pin_dir, why);
	if (lock >= 0 && bans_outlasted(&d->maps, &request, clock_now_ns())) {
		log_say(LOG_LEVEL_INFO, "not banning %s for %s: a ban of it in force ends later",
			prefix, length);
	} else if (lock < 0 || bans_add(&d->maps, &request, 1, BAN_ORIGIN_IP_RULE, why)) {
		d->counters.apply_errors++;
		log_say(LOG_LEVEL_ERROR, "cannot ban %s (%s): %s", prefix, because, why);
	} else {
		d->counters.bans++;
		log_say(LOG_LEVEL_INFO, "ban %s for %s: %s (source %s)", prefix, length, because,
			source);
		snprintf(row.reason, sizeof(row.reason), "%s", reason);
		snprintf(row.source, sizeof(row.source), "%s", source);
		row.last_event = now;
		decide_record_bans(d, &row, 1, now);
	}
	if (lock >= 0)
		close(lock);
}
