// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE /* accept4 */
#include "daemon/daemon.h"
#include "lib/paths.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "lib/cidr.h"
#include "bans/ban_filter.h"
#include "bans/bans.h"
#include "lib/ctl.h"
#include "detect/echo_filter.h"
#include "peers/dnsbl.h"
#include "lib/duration.h"
#include "peers/fleet.h"
#include "kernel/ifwatch.h"
#include "kernel/link.h"
#include "bans/protected.h"
#include "detect/parser.h"
#include "detect/logtail.h"
#include "daemon/metrics.h"
#include "serve/policy.h"
#include "serve/http_server.h"
#include "lib/privs.h"
#include "bans/reconcile.h"
#include "detect/rules.h"
#include "bans/store.h"
#include "lib/text.h"
#include "bans/verdict.h"
#include "peers/zone.h"

#define TICK_SECONDS	   1
#define RULES_EXPIRE_TICKS 10
#define LOOPBACK_PREFIXES  2
#define EPOLL_BATCH	   16
#define RECENT_FAILURES	   4096 /* remembered to name a blocked account's addresses */
#define SSH_LOGINS	   64	/* recent SSH logins, never banned while their session lasts */
#define POLICY_SOURCE_NAME "dovecot-policy"
#define ECHO_ADDRESSES	   65536 /* addresses whose policy-reported failures are remembered */

/* epoll tags: which descriptor woke the loop. */
enum wake {
	WAKE_INOTIFY = 1,
	WAKE_CONTROL,
	WAKE_TIMER,
	WAKE_SIGNAL,
	WAKE_POLICY,
	WAKE_METRICS,
	WAKE_LINKS,
	WAKE_FLEET,
	WAKE_DNSBL
};

struct source {
	struct conf_source conf;
	struct logtail tail;
	struct parser *parser;
	unsigned long events;
};

/* One failure, kept only to say which addresses an account block came from. */
struct recent_failure {
	char user[EVENT_USER_LEN];
	struct addr_key ip;
	uint64_t at_ns;
};

struct daemon {
	struct xdpban_conf *conf;
	const char *conf_path;
	const struct daemon_overrides *overrides;
	struct rules_config rules_cfg;
	struct rules *rules;
	struct store *store; /* NULL when the store cannot be used: enforcing goes on */
	struct maps maps;
	int epoll_fd, inotify_fd, control_fd, timer_fd, signal_fd;
	struct source *sources;
	size_t source_count;
	struct protected_set own; /* loopback and the host's addresses: never banned */
	/* Re-attaches to interfaces that come back. */
	struct ifwatch ifwatch;
	struct fleet *fleet;	    /* bans and counts shared through Redis; NULL when off */
	struct dnsbl *dnsbl;	    /* [dnsbl] zones asked about logins; NULL when none */
	struct zone_publisher zone; /* [dnsbl]: the live bans as rbldnsd datasets */
	bool zone_failing;	    /* its last write failed (said once) */
	struct policy *policy;	    /* the Dovecot auth policy endpoint; NULL when off */
	struct http_server *http_server;
	struct http_server *metrics_http;	   /* /metrics on its own address; NULL when off */
	char policy_listen[CONF_POLICY_TEXT_LEN];  /* where http_server runs ("off") */
	char metrics_listen[CONF_POLICY_TEXT_LEN]; /* where metrics_http runs ("off") */
	struct ban_sweep_counts ban_count;	   /* what the last sweep left in the maps */
	int64_t ban_counted_at;			   /* its wall time; 0: no sweep yet */
	struct recent_failure *recent;		   /* a ring of RECENT_FAILURES */
	size_t recent_next;
	struct addr_key ssh_logins[SSH_LOGINS]; /* a ring of addresses that logged in over SSH */
	size_t ssh_login_next;
	unsigned long refused_lockout; /* bans not applied: they would lock the operator out */
	unsigned long control_refused; /* control connections from neither root nor the group */
	unsigned long ban_evictions;   /* CIDR bans pushed out of a full map */
	bool address_map_full;	       /* at the last sweep: the LRU map evicts */
	unsigned long address_map_full_events; /* times it became full */
	unsigned long ticks;
	uint64_t last_sweep_ns;
	bool stopping;
	unsigned long events, ignored_allowlisted, bans, blocks, apply_errors;
	unsigned long policy_events, control_events; /* log sources count their own */
	struct echo_filter *echo;	 /* policy-reported failures a log line may repeat */
	unsigned long echoed;		 /* log failures not counted again for that reason */
	uint64_t refusal_logged_ns;	 /* when a refused policy request was last logged */
	unsigned long refusals_unlogged; /* refused since, not logged */
};

static void say(const struct daemon *d, enum conf_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(const struct daemon *d, enum conf_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	va_list args;

	if (level > d->conf->daemon.log_level)
		return;
	fprintf(stderr, "xdpban[%s]: ", names[level]);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fputc('\n', stderr);
}

static int64_t wall_now(void)
{
	return (int64_t)time(NULL);
}

/* ---- who is never banned ---- */

/* Loopback and every address of the host's interfaces (in this network namespace). */
static int collect_own_addresses(struct daemon *d, char why[ERRMSG_LEN])
{
	protected_free(&d->own);
	return protected_add_host(&d->own, why);
}

static bool in_any(const struct lpm_key *prefixes, size_t count, const struct lpm_key *host)
{
	for (size_t i = 0; i < count; i++) {
		if (cidr_contains(&prefixes[i], host))
			return true;
	}
	return false;
}

static bool allowlisted(const struct daemon *d, const struct addr_key *ip)
{
	struct allow_entry entry;
	struct lpm_key host;

	cidr_from_addr_key(&host, ip);
	if (bpf_map_lookup_elem(d->maps.allow_cidr, &host, &entry) == 0)
		return true;
	if (in_any(d->conf->rules.allow, d->conf->rules.allow_count, &host))
		return true;
	return d->conf->rules.allow_own_addresses && protected_covers(&d->own, &host);
}

/* ---- decisions into the maps and the store ---- */

/* A full CIDR map made room: each ban that went is logged, counted and closed in the store. */
static void record_evictions(struct daemon *d, const struct ban_evictions *evicted)
{
	uint64_t now_ns = ban_clock_now_ns();
	char prefix[CIDR_TEXT_LEN], left[DURATION_TEXT_LEN], why[ERRMSG_LEN];

	for (size_t i = 0; i < evicted->count; i++) {
		const struct ban_record *ban = &evicted->records[i];

		cidr_format(&ban->key, prefix);
		duration_format(ban_seconds_left(&ban->entry, now_ns), left);
		say(d, CONF_LOG_WARNING,
		    "the CIDR ban map is full: evicted %s, the ban closest to its end (%s left)",
		    prefix, left);
		d->ban_evictions++;
		if (d->store &&
		    store_lift_bans(d->store, &ban->key, 1, wall_now(), "evicted", NULL, why))
			say(d, CONF_LOG_WARNING, "store: %s", why);
	}
}

/* Rows for bans already in the maps: one transaction; a failure leaves the kernel's bans alone. */
static void record_bans(struct daemon *d, const struct store_ban *rows, size_t count, int64_t now)
{
	char why[ERRMSG_LEN];

	if (d->store && store_record_bans(d->store, rows, count, now, why))
		say(d, CONF_LOG_WARNING, "store: %s", why);
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
	*outlasted = bans_outlasted(&d->maps, &request, ban_clock_now_ns());
	if (*outlasted) {
		close(lock);
		return 0;
	}
	err = bans_add_evicting(&d->maps, &request, 1, BAN_ORIGIN_IP_RULE, &evicted, why);
	close(lock);
	record_evictions(d, &evicted);
	ban_evictions_free(&evicted);
	if (!err && d->store) {
		int64_t now = wall_now();
		struct store_ban row = {
			.key = decision->ip_key,
			.first_event = now - (int64_t)d->rules_cfg.ip_window_s,
			.last_event = now,
			.count = d->rules_cfg.ip_threshold,
			.expires_at = now + (int64_t)decision->ban_seconds,
		};

		snprintf(row.reason, sizeof(row.reason), "%s",
			 decision->repeat ? "repeat" : "ip_rule");
		snprintf(row.source, sizeof(row.source), "%s", source);
		record_bans(d, &row, 1, now);
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
	slot->at_ns = ban_clock_now_ns();
}

/*
 * The distinct addresses that failed on account within the window, as far
 * as the recent ring remembers (a flood may have pushed early ones out).
 */
static void block_addresses(const struct daemon *d, const char *account, char *out, size_t len)
{
	uint64_t since = ban_clock_now_ns() - d->rules_cfg.account_window_s * NSEC_PER_SEC;
	struct lpm_key seen[RULES_MAX_DISTINCT_IPS * 4];
	size_t count = 0, used = 0;

	out[0] = '\0';
	for (size_t i = 0; d->recent && i < RECENT_FAILURES; i++) {
		const struct recent_failure *f = &d->recent[i];
		char text[CIDR_TEXT_LEN];
		struct lpm_key host;
		bool known = false;

		if (count == sizeof(seen) / sizeof(seen[0]))
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
	int64_t now = wall_now();
	uint64_t seconds = d->rules_cfg.account_block_s;
	struct store_block row = {
		.count = decision->account_failures,
		.started_at = now,
		.expires_at = now + (int64_t)seconds,
	};
	char why[ERRMSG_LEN], length[DURATION_TEXT_LEN];

	duration_format(seconds, length);
	say(d, CONF_LOG_INFO,
	    "block account %s for %s: %u failures from %u or more addresses "
	    "(source %s)",
	    decision->account, length, decision->account_failures, d->rules_cfg.account_min_ips,
	    source);
	d->blocks++;
	if (!d->store)
		return;
	snprintf(row.account, sizeof(row.account), "%s", decision->account);
	snprintf(row.source, sizeof(row.source), "%s", source);
	block_addresses(d, decision->account, row.ips, sizeof(row.ips));
	if (store_record_block(d->store, &row, now, why))
		say(d, CONF_LOG_WARNING, "store: %s", why);
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
		say(d, CONF_LOG_WARNING, "self-lockout guard: %s", why);
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
static bool guard_ban(struct daemon *d, const struct auth_event *event,
		      struct rules_decision *decision)
{
	char prefix[CIDR_TEXT_LEN], victim[PROTECTED_TEXT_LEN];
	const struct protected_addr *own = protected_within(&d->own, NULL, &decision->ip_key);

	cidr_format(&decision->ip_key, prefix);
	if (own && d->conf->rules.allow_own_addresses) {
		protected_describe(own, victim);
		say(d, CONF_LOG_WARNING, "ban of %s narrowed to the failing address: it covers %s",
		    prefix, victim);
		cidr_from_addr_key(&decision->ip_key, &event->ip);
		cidr_format(&decision->ip_key, prefix);
	}
	if (!ssh_operator_within(d, &decision->ip_key, victim))
		return true;
	d->refused_lockout++;
	say(d, CONF_LOG_WARNING, "not banning %s: it covers %s that logged in", prefix, victim);
	return false;
}

/* The one path every event takes: allowlist, rules, then the decision applied. */
static void handle_event(struct daemon *d, const struct auth_event *event, const char *source,
			 char result[ERRMSG_LEN])
{
	struct rules_decision decision;
	char prefix[CIDR_TEXT_LEN], length[DURATION_TEXT_LEN], why[ERRMSG_LEN];
	struct lpm_key host;
	bool outlasted = false;

	d->events++;
	cidr_from_addr_key(&host, &event->ip);
	cidr_format(&host, prefix);
	if (event->outcome == AUTH_FAIL && allowlisted(d, &event->ip)) {
		d->ignored_allowlisted++;
		errmsg(result, "%s is allowlisted: not counted", prefix);
		return;
	}
	remember_failure(d, event);
	remember_ssh_login(d, event);
	rules_feed(d->rules, event, ban_clock_now_ns(), &decision);
	if (d->fleet)
		fleet_report(d->fleet, event, &decision);
	if (decision.block_started)
		record_block(d, &decision, source);
	if (!decision.ban) {
		errmsg(result, "counted: %u failures from %s in the window", decision.ip_failures,
		       prefix);
		return;
	}
	if (!guard_ban(d, event, &decision)) {
		errmsg(result, "not banned: it would lock the operator out");
		return;
	}
	cidr_format(&decision.ip_key, prefix);
	duration_format(decision.ban_seconds, length);
	if (apply_ban(d, &decision, source, &outlasted, why)) {
		d->apply_errors++;
		say(d, CONF_LOG_ERROR, "cannot ban %s: %s", prefix, why);
		errmsg(result, "cannot ban %s: %s", prefix, why);
		return;
	}
	if (outlasted) {
		say(d, CONF_LOG_INFO,
		    "not banning %s for %s: a ban of it in force ends later (source %s)", prefix,
		    length, source);
		errmsg(result, "%s stays banned: its ban ends later than %s from now", prefix,
		       length);
		return;
	}
	d->bans++;
	say(d, CONF_LOG_INFO, "ban %s for %s: %u failures in %u s (source %s%s)", prefix, length,
	    d->rules_cfg.ip_threshold, d->rules_cfg.ip_window_s, source,
	    decision.repeat ? ", repeat offender" : "");
	errmsg(result, "banned %s for %s", prefix, length);
}

/* ---- log sources ---- */

struct line_context {
	struct daemon *daemon;
	struct source *source;
};

/*
 * Whether a log failure was already reported through the policy endpoint
 * (echo_filter.h); a line summing more attempts than that counts the rest.
 */
static bool absorb_echo(struct daemon *d, struct log_record *record)
{
	struct auth_event *event = &record->event;
	unsigned int seen;

	if (event->outcome != AUTH_FAIL ||
	    (record->source != LOG_SOURCE_DOVECOT && record->source != LOG_SOURCE_POSTFIX))
		return false;
	seen = echo_filter_from_log(d->echo, &event->ip, event->attempts, ban_clock_now_ns());
	d->echoed += seen;
	event->attempts -= seen;
	return event->attempts == 0;
}

static void on_line(void *ctx, const char *line, size_t len)
{
	struct line_context *lc = ctx;
	struct log_record record;
	char result[ERRMSG_LEN];

	if (parser_line(lc->source->parser, line, len, &record) != 1)
		return;
	lc->source->events++;
	if (!absorb_echo(lc->daemon, &record))
		handle_event(lc->daemon, &record.event, lc->source->conf.name, result);
}

static void poll_source(struct daemon *d, struct source *source)
{
	struct line_context ctx = { d, source };
	char why[ERRMSG_LEN];

	if (logtail_poll(&source->tail, on_line, &ctx, why))
		say(d, CONF_LOG_WARNING, "%s", why);
}

static void poll_sources(struct daemon *d)
{
	for (size_t i = 0; i < d->source_count; i++)
		poll_source(d, &d->sources[i]);
}

static enum log_source parser_kind(enum conf_source_type type)
{
	switch (type) {
	case CONF_SOURCE_DOVECOT:
		return LOG_SOURCE_DOVECOT;
	case CONF_SOURCE_POSTFIX:
		return LOG_SOURCE_POSTFIX;
	case CONF_SOURCE_SSHD:
		return LOG_SOURCE_SSHD;
	default:
		return LOG_SOURCE_AUTO;
	}
}

/* Watches the file's directory: that sees appends, renames and re-creations alike. */
static int watch_directory(struct daemon *d, const char *path, char why[ERRMSG_LEN])
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	if (inotify_add_watch(d->inotify_fd, dirname(dir),
			      IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
				  IN_CLOSE_WRITE) < 0) {
		int err = -errno;

		errmsg(why, "cannot watch the directory of %s: %s", path, strerror(errno));
		return err;
	}
	return 0;
}

static int open_source(struct daemon *d, const struct conf_source *conf, struct source *source,
		       char why[ERRMSG_LEN])
{
	int err;

	memset(source, 0, sizeof(*source));
	source->conf = *conf;
	source->parser = parser_new(parser_kind(conf->type));
	if (!source->parser) {
		errmsg(why, "out of memory");
		return -ENOMEM;
	}
	err = logtail_open(&source->tail, conf->path, conf->from_start, why);
	if (!err)
		err = watch_directory(d, conf->path, why);
	if (err) {
		logtail_close(&source->tail);
		parser_free(source->parser);
	}
	return err;
}

static void close_sources(struct daemon *d)
{
	for (size_t i = 0; i < d->source_count; i++) {
		logtail_close(&d->sources[i].tail);
		parser_free(d->sources[i].parser);
	}
	free(d->sources);
	d->sources = NULL;
	d->source_count = 0;
}

static int open_sources(struct daemon *d, char why[ERRMSG_LEN])
{
	const struct xdpban_conf *conf = d->conf;

	d->sources = calloc(conf->source_count + 1, sizeof(*d->sources));
	if (!d->sources) {
		errmsg(why, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < conf->source_count; i++) {
		int err;

		if (!conf->sources[i].enabled)
			continue;
		err = open_source(d, &conf->sources[i], &d->sources[d->source_count], why);
		if (err) {
			close_sources(d);
			return err;
		}
		say(d, CONF_LOG_INFO, "following %s (%s, source %s)", conf->sources[i].path,
		    conf_source_type_name(conf->sources[i].type), conf->sources[i].name);
		d->source_count++;
	}
	return 0;
}

/* ---- the rules ---- */

static void rules_config_from(const struct conf_rules *from, struct rules_config *to)
{
	rules_config_default(to);
	to->ip_threshold = from->ip_failures;
	to->ip_window_s = (unsigned int)from->ip_window;
	to->ip_ban_s = (unsigned int)from->ip_bantime;
	to->ipv6_prefixlen = from->ipv6_prefix;
	to->account_threshold = from->account_failures;
	to->account_window_s = (unsigned int)from->account_window;
	to->account_min_ips = from->account_min_ips;
	to->account_block_s = (unsigned int)from->account_blocktime;
	to->repeat_enabled = from->repeat_multiplier > 0;
	if (to->repeat_enabled)
		to->repeat_multiplier = from->repeat_multiplier;
	to->repeat_max_ban_s = (unsigned int)from->repeat_max;
	to->repeat_forget_s = (unsigned int)from->repeat_forget;
	to->distinct_hashes = from->distinct_passwords;
	to->max_ips = (unsigned int)from->max_tracked_ips;
	to->max_accounts = (unsigned int)from->max_tracked_accounts;
}

/* The store's live bans and account blocks; false (said why) when there is none to read. */
static bool read_live_state(struct daemon *d, struct store_ban **bans, size_t *ban_count,
			    struct store_block **blocks, size_t *block_count)
{
	char why[ERRMSG_LEN];

	*bans = NULL;
	*blocks = NULL;
	if (!d->store)
		return false;
	if (store_live_bans(d->store, wall_now(), bans, ban_count, why) ||
	    store_live_blocks(d->store, wall_now(), blocks, block_count, why)) {
		say(d, CONF_LOG_WARNING, "store: %s", why);
		free(*bans);
		*bans = NULL;
		return false;
	}
	return true;
}

static uint64_t restored_deadline_ns(const struct store_ban *ban, uint64_t now_ns)
{
	if (ban->expires_at == 0)
		return 0;
	return now_ns + (ban->seconds_left ? ban->seconds_left : 1) * NSEC_PER_SEC;
}

/* Tells the rules of live bans (no ban twice, repeat offenders) and account blocks. */
static void teach_rules(struct daemon *d, const struct store_ban *bans, size_t ban_count,
			const struct store_block *blocks, size_t block_count)
{
	uint64_t now_ns = ban_clock_now_ns();

	for (size_t i = 0; i < ban_count; i++)
		rules_restore_ban(d->rules, &bans[i].key, restored_deadline_ns(&bans[i], now_ns), 1,
				  now_ns);
	for (size_t i = 0; i < block_count; i++)
		rules_restore_block(d->rules, blocks[i].account,
				    now_ns + blocks[i].seconds_left * NSEC_PER_SEC, now_ns);
}

/* New rules (SIGHUP) start empty: the blocks and bans they must know come from the store. */
static void reteach_rules(struct daemon *d)
{
	struct store_ban *bans;
	struct store_block *blocks;
	size_t ban_count = 0, block_count = 0;

	if (!read_live_state(d, &bans, &ban_count, &blocks, &block_count)) {
		say(d, CONF_LOG_WARNING, "new rules start without the account blocks in force");
		return;
	}
	teach_rules(d, bans, ban_count, blocks, block_count);
	free(bans);
	free(blocks);
}

/*
 * The operator's allowlist back into the maps (and the map's own into the
 * store), one line saying what moved. False, said why, when the maps may
 * lack some of it. Hold the writer lock.
 */
static bool restore_allowlist(struct daemon *d)
{
	struct reconcile_counts counts;
	char why[ERRMSG_LEN];

	if (reconcile_allowlist(&d->maps, d->store, wall_now(), &counts, why)) {
		say(d, CONF_LOG_ERROR,
		    "restoring the allowlist: %s; the store's bans are not restored either, so "
		    "that none drops an allowlisted address",
		    why);
		return false;
	}
	if (counts.kept || counts.restored || counts.adopted)
		say(d, CONF_LOG_INFO,
		    "restored %zu allowlisted prefixes from %s (%zu were still in the kernel), "
		    "recorded %zu that only the kernel had",
		    counts.restored, store_path(d->store), counts.kept, counts.adopted);
	return true;
}

/* The store's live bans back into the maps (and the maps' own into the store). Hold the lock. */
static void restore_bans(struct daemon *d, const struct store_ban *bans, size_t ban_count,
			 size_t block_count)
{
	struct reconcile_counts counts;
	char why[ERRMSG_LEN];

	if (reconcile_bans(&d->maps, d->store, bans, ban_count, wall_now(), &counts, why))
		say(d, CONF_LOG_ERROR, "restoring %zu bans: %s", ban_count, why);
	else if (ban_count || block_count || counts.adopted)
		say(d, CONF_LOG_INFO,
		    "restored %zu bans from %s (%zu were still in the kernel), recorded %zu that "
		    "only the kernel had; %zu account blocks",
		    counts.restored, store_path(d->store), counts.kept, counts.adopted,
		    block_count);
}

/*
 * After a restart or a lost bpffs: the maps and the store made to agree
 * (reconcile.h), the allowlist before the bans, and the rules told of the
 * live bans and blocks.
 */
static void restore_from_store(struct daemon *d)
{
	struct store_ban *bans;
	struct store_block *blocks;
	size_t ban_count = 0, block_count = 0;
	char why[ERRMSG_LEN];
	int lock;

	if (!read_live_state(d, &bans, &ban_count, &blocks, &block_count))
		return;
	teach_rules(d, bans, ban_count, blocks, block_count);
	lock = pins_lock(d->conf->daemon.pin_dir, why);
	if (lock < 0) {
		say(d, CONF_LOG_ERROR, "restoring the allowlist and %zu bans: %s", ban_count, why);
	} else {
		if (restore_allowlist(d))
			restore_bans(d, bans, ban_count, block_count);
		close(lock);
	}
	free(bans);
	free(blocks);
}

/* ---- periodic work ---- */

static void on_ban_expired(void *ctx, const struct ban_record *ban)
{
	struct daemon *d = ctx;
	char prefix[CIDR_TEXT_LEN], why[ERRMSG_LEN];
	size_t lifted;

	cidr_format(&ban->key, prefix);
	say(d, CONF_LOG_INFO, "expired ban %s", prefix);
	if (d->store &&
	    store_lift_bans(d->store, &ban->key, 1, wall_now(), "expired", &lifted, why))
		say(d, CONF_LOG_WARNING, "store: %s", why);
}

/*
 * The exact-address map is an LRU hash: when it is full, the kernel makes
 * room for a new ban by dropping the one least recently matched, silently.
 * The sweep's count says when that starts (and stops); the store still has
 * every ban, so a restart puts evicted ones back while they last.
 */
static void note_address_map_fill(struct daemon *d)
{
	bool full = d->ban_count.live_addr >= BAN_ADDR_CAPACITY - BAN_ADDR_CAPACITY / 100;

	if (full == d->address_map_full)
		return;
	d->address_map_full = full;
	if (!full) {
		say(d, CONF_LOG_INFO, "the address ban map has room again (%zu of %u)",
		    d->ban_count.live_addr, BAN_ADDR_CAPACITY);
		return;
	}
	d->address_map_full_events++;
	say(d, CONF_LOG_WARNING,
	    "the address ban map is full (%zu of %u): new bans now push out the least "
	    "recently matched ones",
	    d->ban_count.live_addr, BAN_ADDR_CAPACITY);
}

/* Expired entries out of the maps (unless renewed meanwhile) and out of the store. */
static void sweep(struct daemon *d)
{
	char why[ERRMSG_LEN];
	struct ban_sweep_counts counts;
	size_t bans, blocks;
	int lock = pins_lock(d->conf->daemon.pin_dir, why);

	if (lock < 0) {
		say(d, CONF_LOG_WARNING, "sweep: %s", why);
		return;
	}
	if (bans_sweep(&d->maps, ban_clock_now_ns(), on_ban_expired, d, &counts, why)) {
		say(d, CONF_LOG_WARNING, "sweep: %s", why);
	} else {
		d->ban_count = counts;
		d->ban_counted_at = wall_now();
		note_address_map_fill(d);
	}
	if (counts.swept && ban_filter_rebuild(&d->maps, why))
		say(d, CONF_LOG_WARNING, "sweep: %s", why);
	close(lock);
	if (d->store && store_expire(d->store, wall_now(), &bans, &blocks, why))
		say(d, CONF_LOG_WARNING, "store: %s", why);
	else if (d->store && blocks)
		say(d, CONF_LOG_INFO, "%zu account block%s ended", blocks, blocks == 1 ? "" : "s");
}

/* [dnsbl] zone_*: rewritten when the live bans changed; a failure said once until it works. */
static void publish_zone(struct daemon *d)
{
	char why[ERRMSG_LEN];
	int err;

	d->zone.ip4_path = d->conf->dnsbl.zone_ip4set; /* the conf changes on SIGHUP */
	d->zone.ip6_path = d->conf->dnsbl.zone_ip6trie;
	if (!d->zone.ip4_path[0] && !d->zone.ip6_path[0])
		return;
	err = zone_publish(&d->zone, &d->maps, why);
	if (err < 0 && !d->zone_failing)
		say(d, CONF_LOG_ERROR, "DNSBL zone: %s", why);
	d->zone_failing = err < 0;
}

static void on_tick(struct daemon *d)
{
	uint64_t now_ns = ban_clock_now_ns();

	d->ticks++;
	poll_sources(d); /* a safety net under inotify */
	publish_zone(d);
	if (d->fleet) /* the operator's unbans and allowlist changes, to the fleet */
		fleet_tick(d->fleet);
	if (d->ticks % RULES_EXPIRE_TICKS == 0)
		rules_expire(d->rules, now_ns);
	if (now_ns - d->last_sweep_ns >= d->conf->daemon.sweep_interval * NSEC_PER_SEC) {
		sweep(d);
		d->last_sweep_ns = now_ns;
	}
}

/* ---- the control socket ---- */

/* What the hardening counts: faults met and refusals made. */
static json_t *faults_json(const struct daemon *d)
{
	return json_pack(
	    "{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "refused_lockout",
	    (json_int_t)d->refused_lockout, "control_refused", (json_int_t)d->control_refused,
	    "ban_evictions", (json_int_t)d->ban_evictions, "address_map_full",
	    (json_int_t)d->address_map_full_events, "reattached", (json_int_t)d->ifwatch.reattached,
	    "attach_failures", (json_int_t)d->ifwatch.failures, "detach_failures",
	    (json_int_t)d->ifwatch.detach_failures);
}

static json_t *status_json(const struct daemon *d)
{
	struct rules_counters counters;
	json_t *sources = json_array();

	rules_get_counters(d->rules, &counters);
	for (size_t i = 0; i < d->source_count; i++)
		json_array_append_new(
		    sources, json_pack("{s:s, s:s, s:I, s:I, s:I}", "name", d->sources[i].conf.name,
				       "path", d->sources[i].conf.path, "lines",
				       (json_int_t)d->sources[i].tail.lines, "events",
				       (json_int_t)d->sources[i].events, "rotations",
				       (json_int_t)(d->sources[i].tail.rotations +
						    d->sources[i].tail.truncations)));
	return json_pack(
	    "{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}", "ok", 1, "events",
	    (json_int_t)d->events, "ignored_allowlisted", (json_int_t)d->ignored_allowlisted,
	    "bans", (json_int_t)d->bans, "blocks", (json_int_t)d->blocks, "apply_errors",
	    (json_int_t)d->apply_errors, "tracked_ips", (json_int_t)counters.ips, "evictions",
	    (json_int_t)counters.evictions, "sources", sources, "faults", faults_json(d));
}

static json_t *control_event(struct daemon *d, json_t *request)
{
	const char *outcome = json_string_value(json_object_get(request, "outcome"));
	const char *ip = json_string_value(json_object_get(request, "ip"));
	const char *user = json_string_value(json_object_get(request, "user"));
	const char *service = json_string_value(json_object_get(request, "service"));
	struct auth_event event = { .attempts = 1 };
	char why[ERRMSG_LEN], result[ERRMSG_LEN];
	struct lpm_key key;

	if (!outcome || (strcmp(outcome, "fail") && strcmp(outcome, "ok")))
		return json_pack("{s:b, s:s}", "ok", 0, "error", "outcome must be fail or ok");
	if (!ip || cidr_parse(ip, &key, why) || !cidr_is_host(&key))
		return json_pack("{s:b, s:s}", "ok", 0, "error", "ip must be one address");
	event.outcome = strcmp(outcome, "fail") ? AUTH_OK : AUTH_FAIL;
	cidr_to_addr_key(&event.ip, &key);
	text_copy_clean(event.user, sizeof(event.user), user ? user : "", user ? strlen(user) : 0);
	text_copy_clean(event.service, sizeof(event.service), service ? service : "",
			service ? strlen(service) : 0);
	d->control_events++;
	handle_event(d, &event, "control", result);
	return json_pack("{s:b, s:s}", "ok", 1, "result", result);
}

static void serve_control(struct daemon *d)
{
	for (;;) {
		int conn = accept4(d->control_fd, NULL, NULL, SOCK_CLOEXEC);
		json_t *request = NULL, *reply;
		char why[ERRMSG_LEN];
		const char *cmd;

		if (conn < 0)
			return; /* EAGAIN: no more waiting */
		if (ctl_peer_allowed(conn, d->conf->daemon.control_group,
				     d->conf->daemon.control_gid, why)) {
			d->control_refused++;
			say(d, CONF_LOG_WARNING, "control socket: %s", why);
			reply = json_pack("{s:b, s:s}", "ok", 0, "error", "permission denied");
			/* Read, not obeyed: a peer whose request is unread may miss the answer. */
			ctl_read_request(conn, &request, why);
		} else if (ctl_read_request(conn, &request, why)) {
			reply = json_pack("{s:b, s:s}", "ok", 0, "error", why);
		} else {
			cmd = json_string_value(json_object_get(request, "cmd"));
			if (cmd && strcmp(cmd, "event") == 0)
				reply = control_event(d, request);
			else if (cmd && strcmp(cmd, "status") == 0)
				reply = status_json(d);
			else
				reply =
				    json_pack("{s:b, s:s}", "ok", 0, "error", "unknown command");
		}
		ctl_write_reply(conn, reply);
		json_decref(reply);
		json_decref(request);
		close(conn);
	}
}

/* ---- the Dovecot auth policy endpoint ---- */

static int add_to_epoll(struct daemon *d, int fd, enum wake tag);

static bool policy_account_blocked(void *ctx, const char *login, uint64_t *deadline_ns)
{
	const struct daemon *d = ctx;

	return rules_account_blocked(d->rules, login, ban_clock_now_ns(), deadline_ns);
}

/*
 * What the XDP program would do with a SYN from ip: an exact or CIDR ban
 * means banned; so does a DNSBL listing in the cache (a miss starts a lookup).
 */
static bool policy_ip_banned(void *ctx, const struct addr_key *ip)
{
	struct daemon *d = ctx;
	enum verdict_reason reason = verdict_of_bans(&d->maps, ip);

	return reason == REASON_DROP_BAN || reason == REASON_DROP_CIDR ||
	       (d->dnsbl && !allowlisted(d, ip) && dnsbl_check(d->dnsbl, ip));
}

/*
 * Every refused request is logged (a wrong API key may be someone probing),
 * at most one line a second so that a flood cannot fill the disk; the next
 * line says how many were left out. The reason may quote the request: its
 * control bytes are masked so that it cannot forge log lines.
 */
static void log_refusal(struct daemon *d, const struct policy_result *result)
{
	uint64_t now_ns = ban_clock_now_ns();
	char reason[ERRMSG_LEN];

	if (d->refusal_logged_ns && now_ns - d->refusal_logged_ns < NSEC_PER_SEC) {
		d->refusals_unlogged++;
		return;
	}
	text_copy_clean(reason, sizeof(reason), result->reason, strlen(result->reason));
	if (d->refusals_unlogged)
		say(d, CONF_LOG_WARNING,
		    "policy: refused (%u): %s (and %lu more since the last such line)",
		    result->http_status, reason, d->refusals_unlogged);
	else
		say(d, CONF_LOG_WARNING, "policy: refused (%u): %s", result->http_status, reason);
	d->refusal_logged_ns = now_ns;
	d->refusals_unlogged = 0;
}

static void policy_result(void *ctx, const struct policy_result *result)
{
	struct daemon *d = ctx;
	char text[ERRMSG_LEN];

	if (result->http_status != 200)
		log_refusal(d, result);
	/* A failure report, or our own rejection's: Dovecot logs both as failures. */
	if (result->verdict == POLICY_REPORTED && result->event.outcome == AUTH_FAIL &&
	    echo_filter_from_policy(d->echo, &result->event.ip, ban_clock_now_ns())) {
		d->echoed++;
		return;
	}
	if (!result->has_event)
		return;
	d->policy_events++;
	handle_event(d, &result->event, POLICY_SOURCE_NAME, text);
	say(d, CONF_LOG_DEBUG, "policy: %s", text);
}

/* ---- /metrics ---- */

/* A snapshot for metrics.h; NULL (a 503) when out of memory. */
static char *metrics_page(void *ctx, size_t *len)
{
	const struct daemon *d = ctx;
	struct metrics_snapshot *snap = calloc(1, sizeof(*snap));
	struct metrics_source *sources = calloc(d->source_count + 2, sizeof(*sources));
	char why[ERRMSG_LEN];
	char *page = NULL;
	size_t n = 0;

	if (!snap || !sources)
		goto out;
	snap->have_xdp = !stats_read(&d->maps, &snap->verdicts, why) &&
			 !geo_read_states(&d->maps, snap->countries, why);
	if (!snap->have_xdp)
		say(d, CONF_LOG_WARNING, "metrics: %s", why);
	snap->have_ban_count = d->ban_counted_at != 0;
	snap->bans_address = d->ban_count.live_addr;
	snap->bans_cidr = d->ban_count.live_cidr;
	snap->bans_counted_at = d->ban_counted_at;
	for (size_t i = 0; i < d->source_count; i++)
		sources[n++] =
		    (struct metrics_source){ d->sources[i].conf.name, d->sources[i].tail.lines,
					     d->sources[i].events };
	sources[n++] = (struct metrics_source){ POLICY_SOURCE_NAME, 0, d->policy_events };
	sources[n++] = (struct metrics_source){ "control", 0, d->control_events };
	snap->sources = sources;
	snap->source_count = n;
	rules_get_counters(d->rules, &snap->rules);
	snap->daemon_bans = d->bans;
	snap->daemon_blocks = d->blocks;
	snap->apply_errors = d->apply_errors;
	snap->ignored_allowlisted = d->ignored_allowlisted;
	snap->log_echoes = d->echoed;
	snap->have_policy = d->policy != NULL;
	if (d->policy)
		policy_get_counters(d->policy, &snap->policy);
	snap->have_fleet = d->fleet != NULL;
	if (d->fleet)
		fleet_get_counters(d->fleet, &snap->fleet);
	snap->have_dnsbl = d->dnsbl != NULL;
	if (d->dnsbl)
		dnsbl_get_counters(d->dnsbl, &snap->dnsbl);
	page = metrics_format(snap, len);
out:
	free(sources);
	free(snap);
	return page;
}

/* ---- the HTTP servers: policy (with /metrics) and, optionally, /metrics alone ---- */

static bool is_off(const char *listen)
{
	return strcmp(listen, "off") == 0;
}

/*
 * Starts a server on listen and puts it in *slot, replacing (and stopping)
 * the one there, so the old one serves until the new one is up; "off" just
 * stops it. Nothing to do when it runs there already. On error *slot and
 * running are unchanged.
 */
static int serve_http(struct daemon *d, struct http_server **slot,
		      char running[CONF_POLICY_TEXT_LEN], const char *listen,
		      const struct http_server_handlers *handlers, enum wake tag,
		      char why[ERRMSG_LEN])
{
	struct http_server *http = NULL;

	if (strcmp(running, listen) == 0)
		return 0;
	if (!is_off(listen)) {
		http = http_server_new(listen, d->conf->policy.api_header, handlers, why);
		if (!http)
			return -EINVAL;
		if (add_to_epoll(d, http_server_fd(http), tag)) {
			int err = -errno;

			errmsg(why, "cannot set up the event loop: %s", strerror(errno));
			http_server_free(http);
			return err;
		}
		say(d, CONF_LOG_INFO, "%s on http://%s/",
		    tag == WAKE_POLICY ? "policy endpoint and /metrics" : "/metrics", listen);
	}
	http_server_free(*slot); /* closing its epoll descriptor takes it out of the set */
	*slot = http;
	snprintf(running, CONF_POLICY_TEXT_LEN, "%s", listen);
	return 0;
}

static int make_policy(struct daemon *d, char why[ERRMSG_LEN])
{
	struct policy_checks checks = { .ctx = d,
					.account_blocked = policy_account_blocked,
					.ip_banned = policy_ip_banned };
	struct policy_config cfg;

	policy_config_default(&cfg);
	cfg.tarpit_s = (unsigned int)d->conf->rules.tarpit;
	cfg.api_key = d->conf->policy.api_key;
	d->policy = policy_new(&cfg, &checks, why);
	return d->policy ? 0 : -EINVAL;
}

static void close_policy(struct daemon *d)
{
	http_server_free(d->http_server);
	d->http_server = NULL;
	snprintf(d->policy_listen, CONF_POLICY_TEXT_LEN, "off");
	policy_free(d->policy);
	d->policy = NULL;
}

/*
 * [policy] and [daemon] metrics_listen as they are in d->conf now; at start or
 * on SIGHUP, where a server moves only once its new address is served.
 */
static int open_http(struct daemon *d, char why[ERRMSG_LEN])
{
	const char *listen = d->conf->policy.listen;
	struct http_server_handlers handlers = { .on_result = policy_result,
						 .metrics = metrics_page,
						 .ctx = d };
	int err = 0;

	if (is_off(listen)) {
		close_policy(d);
	} else if (d->policy) {
		err = policy_update(d->policy, (unsigned int)d->conf->rules.tarpit,
				    d->conf->policy.api_key, why);
		http_server_set_api_header(d->http_server, d->conf->policy.api_header);
	} else {
		err = make_policy(d, why);
	}
	handlers.policy = d->policy;
	if (!err && !is_off(listen))
		err = serve_http(d, &d->http_server, d->policy_listen, listen, &handlers,
				 WAKE_POLICY, why);
	if (!d->http_server)
		close_policy(d); /* turned on but not served: nothing to keep */
	if (err)
		return err;
	handlers.policy = NULL;
	return serve_http(d, &d->metrics_http, d->metrics_listen, d->conf->daemon.metrics_listen,
			  &handlers, WAKE_METRICS, why);
}

/* ---- the fleet (fleet.h) ---- */

static void fleet_log(void *ctx, enum conf_log_level level, const char *message)
{
	say(ctx, level, "%s", message);
}

/* Other nodes' bans obey this node's allowlist, own addresses and operator's SSH session. */
static bool fleet_may_ban(void *ctx, const struct lpm_key *prefix)
{
	struct daemon *d = ctx;
	char victim[PROTECTED_TEXT_LEN];
	struct addr_key first;

	cidr_to_addr_key(&first, prefix);
	if (allowlisted(d, &first))
		return false;
	if (d->conf->rules.allow_own_addresses && protected_within(&d->own, NULL, prefix))
		return false;
	return !ssh_operator_within(d, prefix, victim);
}

#define FLEET_START_WAIT_MS 2000 /* for Redis' bans before answering anyone */

/* Another node's operator lifted this ban: lifted in the store too, or a restart would restore it.
 */
static void fleet_unbanned(void *ctx, const struct lpm_key *prefix)
{
	struct daemon *d = ctx;
	char why[ERRMSG_LEN];

	if (d->store && store_lift_bans(d->store, prefix, 1, wall_now(), "unban", NULL, why))
		say(d, CONF_LOG_WARNING, "store: %s", why);
}

/*
 * Bans from the fleet are recorded like the rules' (history, restore after
 * a reboot): reason "fleet", source the deciding node ("redis" when loaded
 * from its list at a sync, which does not say who decided). The failures
 * were counted elsewhere: count 0, no event times.
 */
static void fleet_banned(void *ctx, const struct fleet_ban *bans, size_t count)
{
	struct daemon *d = ctx;
	struct store_ban *rows;

	if (!d->store)
		return;
	rows = calloc(count, sizeof(*rows));
	if (!rows) {
		say(d, CONF_LOG_WARNING, "store: out of memory: %zu fleet bans not recorded",
		    count);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		rows[i].key = bans[i].key;
		/* Rounded up: the store's row must not end before the kernel's ban. */
		rows[i].expires_at = bans[i].permanent ? 0 : (bans[i].deadline_ms + 999) / 1000;
		snprintf(rows[i].reason, sizeof(rows[i].reason), "fleet");
		snprintf(rows[i].source, sizeof(rows[i].source), "%s",
			 bans[i].node ? bans[i].node : "redis");
	}
	record_bans(d, rows, count, wall_now());
	free(rows);
}

/*
 * The fleet's allowlist is recorded like the operator's (xdpban allow), so
 * this node's reboot keeps it: source the node whose operator allowed it,
 * "redis" when loaded from its set at a sync. A prefix already recorded
 * keeps its row, so a sync rewrites nothing.
 */
static void fleet_allowed(void *ctx, const struct lpm_key *prefixes, size_t count, const char *node)
{
	struct daemon *d = ctx;
	char why[ERRMSG_LEN];

	if (d->store && store_allow_add(d->store, prefixes, count, wall_now(),
					node ? node : "redis", NULL, why))
		say(d, CONF_LOG_WARNING, "store: %s", why);
}

/* Another node's operator unallowed prefix: out of the store too, or a restart would put it back.
 */
static void fleet_unallowed(void *ctx, const struct lpm_key *prefix)
{
	struct daemon *d = ctx;
	char why[ERRMSG_LEN];

	if (d->store && store_allow_remove(d->store, prefix, 1, NULL, why))
		say(d, CONF_LOG_WARNING, "store: %s", why);
}

/* [fleet]: connects and, before the daemon answers anyone, loads the fleet's bans and blocks. */
static void open_fleet(struct daemon *d)
{
	struct fleet_target target = { .maps = &d->maps,
				       .pin_dir = d->conf->daemon.pin_dir,
				       .rules = &d->rules,
				       .rules_cfg = &d->rules_cfg };
	struct fleet_hooks hooks = { .ctx = d,
				     .log = fleet_log,
				     .may_ban = fleet_may_ban,
				     .unbanned = fleet_unbanned,
				     .banned = fleet_banned,
				     .allowed = fleet_allowed,
				     .unallowed = fleet_unallowed };
	char why[ERRMSG_LEN];

	if (is_off(d->conf->fleet.redis))
		return;
	d->fleet = fleet_open(&d->conf->fleet, &target, &hooks, why);
	if (d->fleet && add_to_epoll(d, fleet_fd(d->fleet), WAKE_FLEET)) {
		errmsg(why, "fleet: cannot set up the event loop: %s", strerror(errno));
		fleet_close(d->fleet);
		d->fleet = NULL;
	}
	if (!d->fleet)
		say(d, CONF_LOG_ERROR, "%s; deciding alone", why);
	else
		fleet_wait_synced(d->fleet, FLEET_START_WAIT_MS);
}

/* ---- DNSBL lookups (dnsbl.h) ---- */

/* Recorded like a rule's ban; no failure led to it (count 0), the zone's listing did. */
static void record_dnsbl_ban(struct daemon *d, const struct lpm_key *key, const char *zone)
{
	int64_t now = wall_now();
	struct store_ban row = { .key = *key, .expires_at = now + (int64_t)d->conf->dnsbl.bantime };

	snprintf(row.reason, sizeof(row.reason), "dnsbl");
	snprintf(row.source, sizeof(row.source), "%s", zone);
	record_bans(d, &row, 1, now);
}

/* A zone lists ip: banned for [dnsbl] bantime, through the guards a fleet ban goes through. */
static void dnsbl_listed(void *ctx, const struct addr_key *ip, const char *zone, uint32_t ttl)
{
	struct daemon *d = ctx;
	struct ban_request request = { .seconds = d->conf->dnsbl.bantime };
	char prefix[CIDR_TEXT_LEN], length[DURATION_TEXT_LEN], why[ERRMSG_LEN];
	int lock;

	cidr_from_addr_key(&request.key, ip);
	cidr_format(&request.key, prefix);
	if (!fleet_may_ban(d, &request.key))
		return;
	lock = pins_lock(d->conf->daemon.pin_dir, why);
	if (lock >= 0 && bans_outlasted(&d->maps, &request, ban_clock_now_ns())) {
		say(d, CONF_LOG_DEBUG,
		    "%s is listed in DNSBL %s, and a ban of it ending later is in force", prefix,
		    zone);
	} else if (lock < 0 || bans_add(&d->maps, &request, 1, BAN_ORIGIN_IP_RULE, why)) {
		d->apply_errors++;
		say(d, CONF_LOG_ERROR, "cannot ban %s (listed in %s): %s", prefix, zone, why);
	} else {
		d->bans++;
		duration_format(request.seconds, length);
		say(d, CONF_LOG_INFO, "ban %s for %s: listed in DNSBL %s (TTL %u s)", prefix,
		    length, zone, ttl);
		record_dnsbl_ban(d, &request.key, zone);
	}
	if (lock >= 0)
		close(lock);
}

static void open_dnsbl(struct daemon *d)
{
	struct dnsbl_hooks hooks = { .ctx = d, .log = fleet_log, .listed = dnsbl_listed };
	char why[ERRMSG_LEN];

	if (!d->conf->dnsbl.zones[0])
		return;
	d->dnsbl = dnsbl_open(&d->conf->dnsbl, &hooks, why);
	if (d->dnsbl && add_to_epoll(d, dnsbl_fd(d->dnsbl), WAKE_DNSBL)) {
		errmsg(why, "DNSBL: cannot set up the event loop: %s", strerror(errno));
		dnsbl_close(d->dnsbl);
		d->dnsbl = NULL;
	}
	if (!d->dnsbl)
		say(d, CONF_LOG_ERROR, "%s; no DNSBL lookups", why);
}

/* ---- setup, reload, the loop ---- */

static int add_to_epoll(struct daemon *d, int fd, enum wake tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int open_descriptors(struct daemon *d, char why[ERRMSG_LEN])
{
	struct itimerspec tick = { { TICK_SECONDS, 0 }, { TICK_SECONDS, 0 } };
	sigset_t signals;

	sigemptyset(&signals);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGHUP);
	sigprocmask(SIG_BLOCK, &signals, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	d->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	d->signal_fd = signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->epoll_fd < 0 || d->inotify_fd < 0 || d->timer_fd < 0 || d->signal_fd < 0 ||
	    timerfd_settime(d->timer_fd, 0, &tick, NULL)) {
		int err = -errno;

		errmsg(why, "cannot set up the event loop: %s", strerror(errno));
		return err;
	}
	d->control_fd =
	    ctl_listen(d->conf->daemon.control_socket, d->conf->daemon.control_group, why);
	if (d->control_fd < 0)
		return d->control_fd;
	if (add_to_epoll(d, d->inotify_fd, WAKE_INOTIFY) ||
	    add_to_epoll(d, d->control_fd, WAKE_CONTROL) ||
	    add_to_epoll(d, d->timer_fd, WAKE_TIMER) ||
	    add_to_epoll(d, d->signal_fd, WAKE_SIGNAL)) {
		errmsg(why, "cannot set up the event loop: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static int open_state(struct daemon *d, char why[ERRMSG_LEN])
{
	const struct conf_daemon *conf = &d->conf->daemon;
	int err = link_ensure_maps(conf->pin_dir, why);

	if (!err)
		err = pins_open(conf->pin_dir, &d->maps, why);
	if (err)
		return err;
	rules_config_from(&d->conf->rules, &d->rules_cfg);
	d->rules = rules_new(&d->rules_cfg, why);
	if (!d->rules)
		return -EINVAL;
	if (store_open(conf->state_dir, true, &d->store, why)) {
		/* Enforcement does not need the store: say so once and go on. */
		say(d, CONF_LOG_ERROR, "%s; bans will not survive a reboot", why);
		d->store = NULL;
	} else if (store_checkpoint_in_background(d->store, why)) {
		say(d, CONF_LOG_WARNING, "store: %s; checkpoints stay in the event loop", why);
	}
	d->recent = calloc(RECENT_FAILURES, sizeof(*d->recent));
	d->echo = echo_filter_new(ECHO_ADDRESSES);
	if (!d->recent || !d->echo) {
		errmsg(why, "out of memory");
		return -ENOMEM;
	}
	if (collect_own_addresses(d, why))
		say(d, CONF_LOG_WARNING, "%s", why);
	return 0;
}

static void on_ifwatch_report(void *ctx, bool failed, const char *message);

/* SIGHUP: a new config, applied only if it is whole; the rules keep their state if unchanged. */
static void reload(struct daemon *d)
{
	struct xdpban_conf *conf = NULL, *was = d->conf;
	struct rules_config cfg;
	char why[ERRMSG_LEN];

	if (conf_load(d->conf_path, &conf, why)) {
		say(d, CONF_LOG_ERROR, "reload refused, keeping the running config: %s", why);
		return;
	}
	daemon_apply_overrides(d->overrides, conf);
	rules_config_from(&conf->rules, &cfg);
	close_sources(d);
	d->conf = conf;
	conf_free(was);
	if (open_http(d, why))
		say(d, CONF_LOG_ERROR, "reload: %s; that server stays where it was", why);
	if (memcmp(&cfg, &d->rules_cfg, sizeof(cfg)) != 0) {
		struct rules *rules = rules_new(&cfg, why);

		if (rules) {
			rules_free(d->rules);
			d->rules = rules;
			d->rules_cfg = cfg;
			reteach_rules(d);
		} else {
			say(d, CONF_LOG_ERROR, "new rules refused: %s", why);
		}
	}
	if (open_sources(d, why))
		say(d, CONF_LOG_ERROR, "reload: %s", why);
	/* Without the watch, no interface was attached from the config: none to take away. */
	if (d->ifwatch.fd >= 0) {
		ifwatch_configure(&d->ifwatch, d->conf->daemon.interfaces, on_ifwatch_report, d);
		ifwatch_ensure(&d->ifwatch, on_ifwatch_report, d);
	}
	say(d, CONF_LOG_INFO, "reloaded %s", d->conf_path);
}

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo info;

	while (read(d->signal_fd, &info, sizeof(info)) == sizeof(info)) {
		if (info.ssi_signo == SIGHUP && d->conf_path)
			reload(d);
		else if (info.ssi_signo != SIGHUP)
			d->stopping = true;
	}
}

/* ---- interfaces and privileges ---- */

static void on_ifwatch_report(void *ctx, bool failed, const char *message)
{
	say(ctx, failed ? CONF_LOG_ERROR : CONF_LOG_INFO, "%s", message);
}

/* Attaches to [daemon] interfaces, then watches them and those xdpban is on. */
static void open_ifwatch(struct daemon *d)
{
	char why[ERRMSG_LEN];
	int err =
	    ifwatch_open(&d->ifwatch, d->conf->daemon.pin_dir, d->conf->daemon.interfaces, why);

	if (!err && add_to_epoll(d, d->ifwatch.fd, WAKE_LINKS)) {
		err = -errno;
		errmsg(why, "cannot watch the interfaces: %s", strerror(errno));
	}
	if (err) {
		say(d, CONF_LOG_ERROR,
		    "%s; an interface deleted and created again stays without xdpban until "
		    "'xdpban attach'",
		    why);
		return;
	}
	ifwatch_ensure(&d->ifwatch, on_ifwatch_report, d);
}

static void on_links(struct daemon *d)
{
	char why[ERRMSG_LEN];

	if (ifwatch_handle(&d->ifwatch, on_ifwatch_report, d) && collect_own_addresses(d, why))
		say(d, CONF_LOG_WARNING, "%s", why);
}

/* Everything that needs more than map access and re-attaching is done by now. */
static void drop_privileges(struct daemon *d)
{
	char why[ERRMSG_LEN];

	if (privs_drop(why))
		say(d, CONF_LOG_ERROR, "%s; running with every capability", why);
	else
		say(d, CONF_LOG_DEBUG, "capabilities dropped to %s", PRIVS_KEPT_NAMES);
}

static void drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* The sooner of the HTTP servers' timeouts; -1 (none) without them. */
static int http_timeout_ms(struct daemon *d)
{
	int policy = d->http_server ? http_server_timeout_ms(d->http_server) : -1;
	int metrics = d->metrics_http ? http_server_timeout_ms(d->metrics_http) : -1;

	if (policy < 0)
		return metrics;
	return metrics < 0 || policy < metrics ? policy : metrics;
}

static void loop(struct daemon *d)
{
	struct epoll_event ready[EPOLL_BATCH];

	while (!d->stopping) {
		int n = epoll_wait(d->epoll_fd, ready, EPOLL_BATCH, http_timeout_ms(d));
		bool run_policy = n == 0 && d->http_server;
		bool run_metrics = n == 0 && d->metrics_http;

		for (int i = 0; i < n; i++) {
			switch (ready[i].data.u32) {
			case WAKE_INOTIFY:
				drain(d->inotify_fd);
				poll_sources(d);
				break;
			case WAKE_CONTROL:
				serve_control(d);
				break;
			case WAKE_TIMER:
				drain(d->timer_fd);
				on_tick(d);
				break;
			case WAKE_SIGNAL:
				on_signal(d);
				break;
			case WAKE_POLICY:
				run_policy = true;
				break;
			case WAKE_METRICS:
				run_metrics = true;
				break;
			case WAKE_FLEET:
				fleet_handle(d->fleet);
				break;
			case WAKE_DNSBL:
				dnsbl_handle(d->dnsbl);
				break;
			case WAKE_LINKS:
				on_links(d);
				break;
			}
		}
		if (run_policy)
			http_server_run(d->http_server);
		if (run_metrics)
			http_server_run(d->metrics_http);
	}
}

static void close_descriptors(struct daemon *d)
{
	const int fds[] = { d->epoll_fd, d->inotify_fd, d->timer_fd, d->signal_fd, d->control_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (fds[i] >= 0)
			close(fds[i]);
	}
	if (d->control_fd >= 0)
		unlink(d->conf->daemon.control_socket);
}

void daemon_apply_overrides(const struct daemon_overrides *overrides, struct xdpban_conf *conf)
{
	if (overrides->pin_dir)
		snprintf(conf->daemon.pin_dir, sizeof(conf->daemon.pin_dir), "%s",
			 overrides->pin_dir);
	if (overrides->state_dir)
		snprintf(conf->daemon.state_dir, sizeof(conf->daemon.state_dir), "%s",
			 overrides->state_dir);
}

int daemon_run(struct xdpban_conf *conf, const char *conf_path,
	       const struct daemon_overrides *overrides)
{
	struct daemon d = { .conf = conf,
			    .conf_path = conf_path,
			    .overrides = overrides,
			    .epoll_fd = -1,
			    .inotify_fd = -1,
			    .control_fd = -1,
			    .timer_fd = -1,
			    .signal_fd = -1,
			    .policy_listen = "off",
			    .metrics_listen = "off",
			    .ifwatch = { .fd = -1 } };
	char why[ERRMSG_LEN];
	int status = EXIT_FAILURE;

	pins_init(&d.maps);
	if (open_state(&d, why) || open_descriptors(&d, why) || open_http(&d, why) ||
	    open_sources(&d, why)) {
		say(&d, CONF_LOG_ERROR, "%s", why);
		goto out;
	}
	restore_from_store(&d);
	sweep(&d); /* also counts the bans for /metrics */
	open_fleet(&d);
	open_dnsbl(&d);
	open_ifwatch(&d);
	drop_privileges(&d);
	d.last_sweep_ns = ban_clock_now_ns();
	say(&d, CONF_LOG_INFO, "running: %zu sources, control socket %s", d.source_count,
	    conf->daemon.control_socket);
	poll_sources(&d);
	loop(&d);
	say(&d, CONF_LOG_INFO, "stopping; the XDP program and every ban stay in place");
	status = EXIT_SUCCESS;
out:
	fleet_close(d.fleet);
	dnsbl_close(d.dnsbl);
	zone_publisher_free(&d.zone);
	close_sources(&d);
	close_policy(&d);
	http_server_free(d.metrics_http);
	ifwatch_close(&d.ifwatch);
	close_descriptors(&d);
	if (d.rules)
		rules_free(d.rules);
	if (d.store)
		store_close(d.store);
	pins_close(&d.maps);
	protected_free(&d.own);
	free(d.recent);
	echo_filter_free(d.echo);
	conf_free(d.conf);
	return status;
}
