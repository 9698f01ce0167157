// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "daemon/daemon-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include "bans/verdict.h"
#include "daemon/metrics.h"
#include "geo/geo.h"
#include "kernel/stats.h"
#include "lib/text.h"
#include "serve/policy_key.h"

/* ---- the Dovecot auth policy endpoint ---- */

static bool policy_account_blocked(void *ctx, const char *login, uint64_t *deadline_ns)
{
	const struct daemon *d = ctx;

	return rules_account_blocked(d->rules, login, clock_now_ns(), deadline_ns);
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
	       (d->dnsbl && !decide_allowlisted(d, ip) && dnsbl_check(d->dnsbl, ip));
}

/*
 * Every refused request is logged (a wrong API key may be someone probing),
 * at most one line a second so that a flood cannot fill the disk; the next
 * line says how many were left out. The reason may quote the request: its
 * control bytes are masked so that it cannot forge log lines.
 */
static void log_refusal(struct daemon *d, const struct policy_result *result)
{
	uint64_t now_ns = clock_now_ns();
	char reason[ERRMSG_LEN];

	if (d->refusal_logged_ns && now_ns - d->refusal_logged_ns < NSEC_PER_SEC) {
		d->refusals_unlogged++;
		return;
	}
	text_copy_clean(reason, sizeof(reason), result->reason, strlen(result->reason));
	if (d->refusals_unlogged)
		log_say(LOG_LEVEL_WARNING,
			"policy: refused (%u): %s (and %lu more since the last such line)",
			result->http_status, reason, d->refusals_unlogged);
	else
		log_say(LOG_LEVEL_WARNING, "policy: refused (%u): %s", result->http_status, reason);
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
	    echo_filter_from_policy(d->echo, &result->event.ip, clock_now_ns())) {
		d->counters.log_echoes++;
		return;
	}
	passwords_report(d, result);
	if (!result->has_event)
		return;
	d->counters.policy_events++;
	decide_event(d, &result->event, POLICY_SOURCE_NAME, text);
	log_say(LOG_LEVEL_DEBUG, "policy: %s", text);
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
		log_say(LOG_LEVEL_WARNING, "metrics: %s", why);
	snap->have_ban_count = d->ban_counted_at != 0;
	snap->bans_address = d->ban_count.live_addr;
	snap->bans_cidr = d->ban_count.live_cidr;
	snap->bans_counted_at = d->ban_counted_at;
	for (size_t i = 0; i < d->source_count; i++)
		sources[n++] = (struct metrics_source){
			d->sources[i].conf.name,      source_lines(&d->sources[i]),
			d->sources[i].events,	      d->sources[i].silence.auth_like,
			d->sources[i].silence.warned, true
		};
	sources[n++] = (struct metrics_source){ POLICY_SOURCE_NAME, 0, d->counters.policy_events };
	sources[n++] = (struct metrics_source){ "control", 0, d->counters.control_events };
	snap->sources = sources;
	snap->source_count = n;
	daemon_read_counters(d, &snap->counters);
	snap->have_policy = d->policy != NULL;
	if (d->policy)
		policy_get_counters(d->policy, &snap->policy);
	snap->have_fleet = d->fleet != NULL;
	if (d->fleet)
		fleet_get_counters(d->fleet, &snap->fleet);
	snap->have_dnsbl = d->dnsbl != NULL;
	if (d->dnsbl)
		dnsbl_get_counters(d->dnsbl, &snap->dnsbl);
	snap->have_weak = d->weak_worker != NULL;
	snap->guess_top_count = passwords_top_guesses(d, snap->guess_top, WEAK_GUESSES_TOP);
	page = metrics_format(snap, len);
out:
	free(sources);
	free(snap);
	return page;
}

/* ---- the HTTP servers: policy (with /metrics) and, optionally, /metrics alone ---- */

/*
 * The descriptors the servers may hold: the process's limit less a reserve
 * for what must never fail for want of one (bans take the pin lock, the
 * store its files, the control socket its connections, log files, Redis),
 * and less the /metrics server's share.
 */
static struct http_server_limits http_limits(const struct daemon *d, bool metrics_only)
{
	const struct conf_policy *conf = &d->conf->policy;
	unsigned int budget =
	    d->fd_limit > DAEMON_FD_RESERVE + METRICS_CONNECTIONS + HTTP_MIN_CONNECTIONS
		? d->fd_limit - DAEMON_FD_RESERVE - METRICS_CONNECTIONS
		: HTTP_MIN_CONNECTIONS;

	if (metrics_only)
		return (struct http_server_limits){ METRICS_CONNECTIONS, METRICS_CONNECTIONS,
						    METRICS_CONNECTIONS, conf->request_timeout };
	return (struct http_server_limits){ budget, conf->max_connections,
					    conf->max_client_connections, conf->request_timeout };
}

static void on_http(void *ctx, uint32_t events)
{
	(void)events; /* a request, or its timeout: libmicrohttpd tells which */
	http_server_run(ctx);
}

static int http_timeout(void *ctx)
{
	return http_server_timeout_ms(ctx);
}

/* Out of the loop, then stopped. */
static void stop_server(struct daemon *d, struct http_server **slot)
{
	if (!*slot)
		return;
	loop_unwatch(&d->loop, http_server_fd(*slot));
	http_server_free(*slot);
	*slot = NULL;
}

/*
 * Starts a server on listen and puts it in *slot, replacing (and stopping)
 * the one there, so the old one serves until the new one is up; "off" just
 * stops it. Nothing to do when it runs there already. On error *slot and
 * running are unchanged.
 */
static int serve_http(struct daemon *d, struct http_server **slot,
		      char running[CONF_POLICY_TEXT_LEN], const char *listen,
		      const struct http_server_handlers *handlers, const char *what,
		      char why[ERRMSG_LEN])
{
	struct http_server_limits limits = http_limits(d, handlers->policy == NULL);
	struct http_server *http = NULL;
	int err;

	if (*slot)
		http_server_set_limits(*slot, &limits);
	if (strcmp(running, listen) == 0)
		return 0;
	if (!is_off(listen)) {
		if (limits.max_connections > limits.descriptors)
			log_say(LOG_LEVEL_WARNING,
				"%s: max_connections %u is over the %u descriptors left for it "
				"(LimitNOFILE): %u it is",
				what, limits.max_connections, limits.descriptors,
				limits.descriptors);
		http = http_server_new(listen, d->conf->policy.api_header, &limits, handlers, why);
		if (!http)
			return -EINVAL;
		err = loop_watch_timeout(&d->loop, http_server_fd(http), EPOLLIN, on_http,
					 http_timeout, http, what, why);
		if (err) {
			http_server_free(http);
			return err;
		}
		log_say(LOG_LEVEL_INFO, "%s on http://%s/", what, listen);
	}
	stop_server(d, slot);
	*slot = http;
	snprintf(running, CONF_POLICY_TEXT_LEN, "%s", listen);
	return 0;
}

static const char *policy_password_refused(void *ctx, const char *login, const char *pwhash)
{
	return passwords_refused(ctx, login, pwhash);
}

/*
 * [policy] api_key: the key itself; "off": none is checked; empty (the
 * default): STATE_DIR/policy.key, made at first start. *key is NULL for none.
 */
static int policy_api_key(const struct daemon *d, char buf[CONF_POLICY_TEXT_LEN], const char **key,
			  char why[ERRMSG_LEN])
{
	const struct conf_daemon *daemon = &d->conf->daemon;
	const char *conf_key = d->conf->policy.api_key;
	char file_key[POLICY_KEY_LEN];
	bool made;
	int err;

	*key = NULL;
	if (is_off(conf_key))
		return 0;
	if (conf_key[0]) {
		*key = conf_key;
		return 0;
	}
	err = policy_key_load(daemon->state_dir, file_key, &made, why);
	if (err)
		return err;
	if (made)
		log_say(LOG_LEVEL_INFO,
			"policy: no api_key set: made one in %s/%s; Dovecot sends it with "
			"auth_policy_server_api_header = <%s/%s (docs/dovecot-policy.conf)",
			daemon->state_dir, POLICY_KEY_FILE, daemon->state_dir, POLICY_KEY_FILE);
	snprintf(buf, CONF_POLICY_TEXT_LEN, "%s", file_key);
	*key = buf;
	return 0;
}

static int make_policy(struct daemon *d, char why[ERRMSG_LEN])
{
	struct policy_checks checks = { .ctx = d,
					.account_blocked = policy_account_blocked,
					.ip_banned = policy_ip_banned,
					.password_refused = policy_password_refused };
	struct policy_config cfg;
	char key[CONF_POLICY_TEXT_LEN];

	policy_config_default(&cfg);
	cfg.tarpit_s = (unsigned int)d->conf->rules.tarpit;
	if (policy_api_key(d, key, &cfg.api_key, why))
		return -EINVAL;
	d->policy = policy_new(&cfg, &checks, why);
	return d->policy ? 0 : -EINVAL;
}

static void close_policy(struct daemon *d)
{
	stop_server(d, &d->http_server);
	snprintf(d->policy_listen, CONF_POLICY_TEXT_LEN, "off");
	policy_free(d->policy);
	d->policy = NULL;
}

/*
 * [policy] and [daemon] metrics_listen as they are in d->conf now; at start or
 * on SIGHUP, where a server moves only once its new address is served.
 */
int http_open(struct daemon *d, char why[ERRMSG_LEN])
{
	const char *listen = d->conf->policy.listen;
	struct http_server_handlers handlers = { .on_result = policy_result,
						 .metrics = metrics_page,
						 .ctx = d };
	int err = 0;

	if (is_off(listen)) {
		close_policy(d);
	} else if (d->policy) {
		char key_buf[CONF_POLICY_TEXT_LEN];
		const char *key;

		err = policy_api_key(d, key_buf, &key, why);
		if (!err)
			err =
			    policy_update(d->policy, (unsigned int)d->conf->rules.tarpit, key, why);
		http_server_set_api_header(d->http_server, d->conf->policy.api_header);
	} else {
		err = make_policy(d, why);
	}
	handlers.policy = d->policy;
	if (!err && !is_off(listen))
		err = serve_http(d, &d->http_server, d->policy_listen, listen, &handlers,
				 "policy endpoint and /metrics", why);
	if (!d->http_server)
		close_policy(d); /* turned on but not served: nothing to keep */
	if (err)
		return err;
	handlers.policy = NULL;
	return serve_http(d, &d->metrics_http, d->metrics_listen, d->conf->daemon.metrics_listen,
			  &handlers, "/metrics", why);
}

void http_close(struct daemon *d)
{
	close_policy(d);
	stop_server(d, &d->metrics_http);
}
