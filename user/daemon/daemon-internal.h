/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The daemon's private header: struct daemon and what its files (one per
 * section of the daemon) call of each other. Nothing outside daemon/
 * includes it.
 *
 *   daemon.c   setup, reload (SIGHUP), signals, interfaces, privileges
 *   decide.c   the one path of every event: allowlist, rules, guard, maps, store
 *   sources.c  the followed log files
 *   restore.c  the store's bans and blocks back into the maps and the rules
 *   snapshot.c the rules' pending failures saved and read back across a restart
 *   tick.c     the one-second tick: sweeps and expiry
 *   retry.c    bans that failed for want of a resource, tried again each tick
 *   control.c  the control socket
 *   http.c     the Dovecot policy endpoint and /metrics
 *   peers.c    the fleet (Redis) and DNSBL lookups and zones
 *   passwords.c weak passwords: the judging thread's verdicts, dictionary guesses
 *
 * Each registers its descriptors with the event loop (lib/loop.h) itself.
 */
#ifndef XDPBAN_DAEMON_INTERNAL_H
#define XDPBAN_DAEMON_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "daemon/counters.h"
#include "lib/clock.h"
#include "daemon/daemon.h"
#include "bans/bans.h"
#include "bans/protected.h"
#include "bans/store.h"
#include "bans/store_queue.h"
#include "detect/echo_filter.h"
#include "detect/journal.h"
#include "detect/logtail.h"
#include "detect/parser.h"
#include "detect/rules.h"
#include "detect/silence.h"
#include "kernel/ifwatch.h"
#include "kernel/pins.h"
#include "lib/duration.h"
#include "lib/loop.h"
#include "peers/dnsbl.h"
#include "peers/fleet.h"
#include "peers/zone.h"
#include "serve/http_server.h"
#include "serve/policy.h"
#include "serve/weak.h"
#include "serve/weak_accounts.h"
#include "serve/weak_guesses.h"
#include "serve/weak_worker.h"

#define RECENT_FAILURES	   4096 /* remembered to name a blocked account's addresses */
#define SSH_LOGINS	   64	/* recent SSH logins, never banned while their session lasts */
#define POLICY_SOURCE_NAME "dovecot-policy"
#define ECHO_ADDRESSES	   65536 /* addresses whose policy-reported failures are remembered */
/* Descriptors kept from the HTTP servers: bans, the store, logs, control, Redis. */
#define DAEMON_FD_RESERVE    256
#define METRICS_CONNECTIONS  64 /* the /metrics-only server's */
#define HTTP_MIN_CONNECTIONS 16

struct source {
	struct conf_source conf;
	struct logtail tail;	/* a file source's */
	struct journal journal; /* a journal source's (conf.journal) */
	int journal_fd;		/* watched in the loop; -1 when none */
	struct daemon *daemon;	/* for the journal's handler */
	struct parser *parser;
	unsigned long events;	/* outcomes recognised */
	struct silence silence; /* lines that look like authentication lines, yielding nothing */
	char matches[CONF_MATCHES_LEN];
	const char *match_list[JOURNAL_MATCHES_MAX + 1];
	struct log_limit warning; /* what logtail_poll, journal_poll say */
};

/* Lines a source read: a file's lines, a journal's entries. */
uint64_t source_lines(const struct source *source);

/* One failure, kept only to say which addresses an account block came from. */
struct recent_failure {
	char user[EVENT_USER_LEN];
	struct addr_key ip;
	uint64_t at_ns;
};

struct daemon {
	/* ---- configuration ---- */
	struct xdpban_conf *conf; /* replaced whole by a reload */
	const char *conf_path;
	const struct daemon_overrides *overrides;

	/* ---- the event loop and the descriptors daemon.c owns ---- */
	struct loop loop;
	int signal_fd;
	unsigned int fd_limit; /* RLIMIT_NOFILE, raised to its hard limit at start */

	/* ---- enforcement: the maps, the store, the rules ---- */
	struct maps maps;
	struct store *store; /* reads; NULL when the store cannot be used: enforcing goes on */
	struct store_queue *queue; /* every write, off the loop; NULL exactly when store is */
	struct rules_config rules_cfg;
	struct rules *rules;

	/* ---- log sources (sources.c) ---- */
	int inotify_fd;	     /* on the followed files' directories */
	int sources_more_fd; /* an eventfd: a source has more than a slice waiting */
	struct source *sources;
	size_t source_count;
	struct echo_filter *echo; /* policy-reported failures a log line may repeat */

	/* ---- who is never banned, and what a block names (decide.c) ---- */
	struct protected_set own;      /* loopback and the host's addresses: never banned */
	struct protected_set never;    /* reserved addresses and default routers: never banned */
	struct recent_failure *recent; /* a ring of RECENT_FAILURES */
	size_t recent_next;
	struct addr_key ssh_logins[SSH_LOGINS]; /* a ring of addresses that logged in over SSH */
	size_t ssh_login_next;

	/* ---- periodic work (tick.c) ---- */
	unsigned long ticks;
	uint64_t last_sweep_ns;
	struct ban_sweep sweep;		   /* a pass in progress, a slice per tick */
	struct ban_sweep_counts ban_count; /* what the last sweep left in the maps */
	int64_t ban_counted_at;		   /* its wall time; 0: no sweep yet */
	bool address_map_full;		   /* at the last sweep: the table nears its capacity */

	/* ---- bans waiting for a descriptor or memory (retry.c) ---- */
	struct ban_retry *retry;
	size_t retry_count, retry_cap;
	bool retrying; /* in retry_run: a ban failing again is not logged or counted again */

	/* ---- the rules' pending failures across a restart (snapshot.c) ---- */
	uint64_t last_snapshot_ns;
	bool snapshot_failing; /* the last save failed: said once */

	/* ---- the control socket (control.c) ---- */
	int control_fd;
	int control_spare_fd; /* /dev/null, given up to accept a connection when out of descriptors
			       */

	/* ---- the HTTP servers (http.c) ---- */
	struct policy *policy; /* the Dovecot auth policy endpoint; NULL when off */
	struct http_server *http_server;
	struct http_server *metrics_http;	   /* /metrics on its own address; NULL when off */
	char policy_listen[CONF_POLICY_TEXT_LEN];  /* where http_server runs ("off") */
	char metrics_listen[CONF_POLICY_TEXT_LEN]; /* where metrics_http runs ("off") */
	uint64_t refusal_logged_ns;	 /* when a refused policy request was last logged */
	unsigned long refusals_unlogged; /* refused since, not logged */

	/* ---- peers (peers.c) ---- */
	struct fleet *fleet;	    /* bans and counts shared through Redis; NULL when off */
	struct dnsbl *dnsbl;	    /* [dnsbl] zones asked about logins; NULL when none */
	struct zone_publisher zone; /* [dnsbl]: the live bans as rbldnsd datasets */
	bool zone_failing;	    /* its last write failed (said once) */

	/* ---- weak passwords (passwords.c); NULL when weak_passwords is off ---- */
	struct weak_hash *weak_hash;
	struct weak_dict *weak_dict;
	struct weak_worker *weak_worker;
	struct weak_accounts *weak_accounts;
	struct weak_guesses *weak_guesses;
	struct conf_policy weak_basis; /* the [policy] the worker was built from */
	bool weak_truncated_said;      /* the truncated-pwhash warning, once */

	/* ---- interfaces (daemon.c): re-attaches to those that come back ---- */
	struct ifwatch ifwatch;

	/* ---- what the status reply and /metrics report (counters.h) ---- */
	struct daemon_counters counters;
};

/* The counters of every part, taken now, for counter_table. */
void daemon_read_counters(const struct daemon *d, struct counter_readings *out);

/* A listen address or [fleet] redis that turns its part off. */
static inline bool is_off(const char *setting)
{
	return strcmp(setting, "off") == 0;
}

/* decide.c */
int decide_collect_own(struct daemon *d, char why[ERRMSG_LEN]);
bool decide_allowlisted(const struct daemon *d, const struct addr_key *ip);
/* Whether a ban decided elsewhere (another node, a DNSBL) may cover prefix here. */
bool decide_may_ban(struct daemon *d, const struct lpm_key *prefix, const char *source);
void decide_record_bans(struct daemon *d, const struct store_ban *rows, size_t count, int64_t now);
void decide_event(struct daemon *d, const struct auth_event *event, const char *source,
		  char result[ERRMSG_LEN]);
/* A rule's ban applied, logged and counted; queued in retry.c when a resource lacked. */
void decide_apply_ban(struct daemon *d, const struct rules_decision *decision, const char *source,
		      char result[ERRMSG_LEN]);
/*
 * A ban decided outside the rules (dictionary guesses): through
 * decide_may_ban and never over a ban ending later; applied, logged with
 * because, counted and recorded (reason, source, count).
 */
void decide_ban(struct daemon *d, const struct lpm_key *key, uint64_t seconds, const char *reason,
		const char *source, uint64_t count, const char *because);

/* sources.c */
int sources_watch(struct daemon *d, char why[ERRMSG_LEN]);
int sources_open(struct daemon *d, char why[ERRMSG_LEN]);
void sources_poll(struct daemon *d);
void sources_close(struct daemon *d);

/* restore.c */
void restore_from_store(struct daemon *d);
void restore_rules(struct daemon *d);

/* snapshot.c */
int snapshot_open(struct daemon *d, char why[ERRMSG_LEN]);
void snapshot_save(struct daemon *d);
void snapshot_restore(struct daemon *d);

/* tick.c */
int tick_open(struct daemon *d, char why[ERRMSG_LEN]);
void tick_sweep(struct daemon *d);

/* retry.c */
/* err (-errno) says a resource lacked (descriptors, memory): worth trying again. */
bool retry_transient(int err);
/* Queues the ban (or renews the one waiting for its prefix); false when the queue is full. */
bool retry_queue(struct daemon *d, const struct rules_decision *decision, const char *source);
void retry_run(struct daemon *d);
void retry_free(struct daemon *d);

/* control.c */
int control_open(struct daemon *d, char why[ERRMSG_LEN]);
void control_close(struct daemon *d);

/* http.c */
int http_open(struct daemon *d, char why[ERRMSG_LEN]);
void http_close(struct daemon *d);

/* passwords.c */
int passwords_open(struct daemon *d, char why[ERRMSG_LEN]);
void passwords_close(struct daemon *d);
/* A policy request's result: a report's pwhash judged, or checked as a guess. */
void passwords_report(struct daemon *d, const struct policy_result *result);
/* [policy] weak_message when login's pwhash is the one it is listed for (refuse), else NULL. */
const char *passwords_refused(const struct daemon *d, const char *login, const char *pwhash);
/* The addresses with the most dictionary guesses in the window, most first. */
size_t passwords_top_guesses(const struct daemon *d, struct weak_guess_count *out, size_t max);

/* peers.c */
void peers_open(struct daemon *d);
void peers_tick(struct daemon *d);
void peers_close(struct daemon *d);

#endif
