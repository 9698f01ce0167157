// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "daemon/daemon-internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "geo/geo.h"
#include "kernel/link.h"
#include "lib/privs.h"

void daemon_read_counters(const struct daemon *d, struct counter_readings *out)
{
	out->daemon = d->counters;
	out->daemon.bans_waiting = d->retry_count;
	rules_get_counters(d->rules, &out->rules);
	out->links = (struct link_counters){ .reattached = d->ifwatch.reattached,
					     .attach_failures = d->ifwatch.failures,
					     .detach_failures = d->ifwatch.detach_failures };
	out->http = (struct http_counters){ 0 };
	if (d->http_server) {
		struct http_guard_counters guard;

		http_server_get_counters(d->http_server, &guard);
		out->http = (struct http_counters){ guard.open, guard.timed_out, guard.evicted,
						    guard.refused };
	}
	out->store = (struct store_counters){ 0 };
	if (d->queue) {
		struct store_queue_stats stats;

		store_queue_stats(d->queue, &stats);
		out->store = (struct store_counters){ stats.waiting, stats.written, stats.failures,
						      stats.lost };
	}
}

/* ---- setup, reload, signals ---- */

/*
 * Two connections: the loop's, for reads, and the writer thread's, which
 * takes every write off the loop (bans/store_queue.h).
 */
static int open_store(struct daemon *d, char why[ERRMSG_LEN])
{
	const char *state_dir = d->conf->daemon.state_dir;
	struct store *writer = NULL;
	int err = store_open(state_dir, true, &d->store, why);

	if (!err)
		err = store_open(state_dir, true, &writer, why);
	if (!err)
		err = store_queue_start(writer, &d->maps, &d->queue, why);
	if (err) {
		store_close(writer);
		store_close(d->store);
		d->store = NULL;
	}
	return err;
}

#define STORE_DRAIN_MS 5000 /* at a stop, for the rows still queued */

static void close_store(struct daemon *d)
{
	size_t left = store_queue_stop(d->queue, STORE_DRAIN_MS);

	if (left)
		log_say(LOG_LEVEL_ERROR,
			"store: %zu rows could not be written before the stop; the next start "
			"records the kernel's bans the store lacks",
			left);
	store_close(d->store);
	d->queue = NULL;
	d->store = NULL;
}

/*
 * The soft descriptor limit up to the hard one (systemd's LimitNOFILE): the
 * HTTP servers get what is left after DAEMON_FD_RESERVE (http.c), so that
 * connections never take the descriptors a ban needs.
 */
static void raise_fd_limit(struct daemon *d)
{
	struct rlimit lim;

	if (getrlimit(RLIMIT_NOFILE, &lim)) {
		d->fd_limit = 1024;
		return;
	}
	if (lim.rlim_cur < lim.rlim_max) {
		struct rlimit raised = { lim.rlim_max, lim.rlim_max };

		if (!setrlimit(RLIMIT_NOFILE, &raised))
			lim = raised;
	}
	d->fd_limit = lim.rlim_cur > 1048576 ? 1048576 : (unsigned int)lim.rlim_cur;
	if (d->fd_limit < DAEMON_FD_RESERVE * 2)
		log_say(LOG_LEVEL_WARNING,
			"only %u descriptors (RLIMIT_NOFILE) for bans, the store and the "
			"policy endpoint's connections: raise LimitNOFILE",
			d->fd_limit);
}

/* An upgrade of the pins leaves the geo index to the trie until it is rebuilt (geo.h). */
static void finish_geo_upgrade(struct daemon *d)
{
	const char *pin_dir = d->conf->daemon.pin_dir;
	char why[ERRMSG_LEN];
	int lock = pins_lock(pin_dir, why), err = lock < 0 ? lock : 0;

	if (!err)
		err = geo_finish_upgrade(pin_dir, &d->maps, why);
	if (lock >= 0)
		close(lock);
	if (err)
		log_say(LOG_LEVEL_WARNING, "geo index: %s (the trie answers meanwhile)", why);
}

static int open_state(struct daemon *d, char why[ERRMSG_LEN])
{
	const struct conf_daemon *conf = &d->conf->daemon;
	int err = link_ensure_maps(conf->pin_dir, why);

	if (!err)
		err = pins_open(conf->pin_dir, &d->maps, why);
	if (err)
		return err;
	finish_geo_upgrade(d);
	/* memcpy, padding and all: reload compares configs with memcmp */
	memcpy(&d->rules_cfg, &d->conf->rules.config, sizeof(d->rules_cfg));
	d->rules = rules_new(&d->rules_cfg, why);
	if (!d->rules)
		return -EINVAL;
	snapshot_restore(d);
	if (open_store(d, why)) {
		/* Enforcement does not need the store: say so once and go on. */
		log_say(LOG_LEVEL_ERROR, "%s; bans will not survive a reboot", why);
	}
	d->recent = calloc(RECENT_FAILURES, sizeof(*d->recent));
	d->echo = echo_filter_new(ECHO_ADDRESSES);
	if (!d->recent || !d->echo) {
		errmsg(why, "out of memory");
		return -ENOMEM;
	}
	if (decide_collect_own(d, why))
		log_say(LOG_LEVEL_WARNING, "%s", why);
	return 0;
}

/* SIGHUP: a new config, applied only if it is whole; the rules keep their state if unchanged. */
static void reload(struct daemon *d)
{
	struct xdpban_conf *conf = NULL, *was = d->conf;
	struct rules_config cfg;
	char why[ERRMSG_LEN];

	if (conf_load(d->conf_path, &conf, why)) {
		log_say(LOG_LEVEL_ERROR, "reload refused, keeping the running config: %s", why);
		return;
	}
	daemon_apply_overrides(d->overrides, conf);
	memcpy(&cfg, &conf->rules.config, sizeof(cfg));
	sources_close(d);
	d->conf = conf;
	log_set_level(conf->daemon.log_level);
	conf_free(was);
	if (http_open(d, why))
		log_say(LOG_LEVEL_ERROR, "reload: %s; that server stays where it was", why);
	if (passwords_open(d, why))
		log_say(LOG_LEVEL_ERROR, "reload: %s; weak passwords are not judged", why);
	if (memcmp(&cfg, &d->rules_cfg, sizeof(cfg)) != 0) {
		struct rules *rules = rules_new(&cfg, why);

		if (rules) {
			snapshot_save(d); /* the new rules take what fits of the old ones' */
			rules_free(d->rules);
			d->rules = rules;
			memcpy(&d->rules_cfg, &cfg, sizeof(cfg));
			snapshot_restore(d);
			restore_rules(d);
		} else {
			log_say(LOG_LEVEL_ERROR, "new rules refused: %s", why);
		}
	}
	if (sources_open(d, why))
		log_say(LOG_LEVEL_ERROR, "reload: %s", why);
	/* Without the watch, no interface was attached from the config: none to take away. */
	if (d->ifwatch.fd >= 0) {
		ifwatch_configure(&d->ifwatch, d->conf->daemon.interfaces);
		ifwatch_ensure(&d->ifwatch);
	}
	log_say(LOG_LEVEL_INFO, "reloaded %s", d->conf_path);
}

static void on_signal(void *ctx, uint32_t events)
{
	struct daemon *d = ctx;
	struct signalfd_siginfo info;

	(void)events;
	while (read(d->signal_fd, &info, sizeof(info)) == sizeof(info)) {
		if (info.ssi_signo == SIGHUP && d->conf_path)
			reload(d);
		else if (info.ssi_signo != SIGHUP)
			loop_stop(&d->loop);
	}
}

/* The signals arrive through a descriptor in the loop; SIGPIPE is a failed write, not a stop. */
static int watch_signals(struct daemon *d, char why[ERRMSG_LEN])
{
	sigset_t signals;

	sigemptyset(&signals);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGHUP);
	sigprocmask(SIG_BLOCK, &signals, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->signal_fd = signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->signal_fd < 0) {
		int err = -errno;

		errmsg(why, "cannot set up the event loop: %s", strerror(errno));
		return err;
	}
	return loop_watch(&d->loop, d->signal_fd, EPOLLIN, on_signal, d, "signals", why);
}

/* The loop, and what daemon.c, the sources, the tick and the control socket put in it. */
static int open_loop(struct daemon *d, char why[ERRMSG_LEN])
{
	int err = loop_open(&d->loop, why);

	if (!err)
		err = watch_signals(d, why);
	if (!err)
		err = sources_watch(d, why);
	if (!err)
		err = tick_open(d, why);
	if (!err)
		err = snapshot_open(d, why);
	if (!err)
		err = control_open(d, why);
	return err;
}

/* ---- interfaces and privileges ---- */

static void on_links(void *ctx, uint32_t events)
{
	struct daemon *d = ctx;
	char why[ERRMSG_LEN];

	(void)events;
	if (ifwatch_handle(&d->ifwatch) && decide_collect_own(d, why))
		log_say(LOG_LEVEL_WARNING, "%s", why);
}

/* Attaches to [daemon] interfaces, then watches them and those xdpban is on. */
static void open_ifwatch(struct daemon *d)
{
	char why[ERRMSG_LEN];
	int err =
	    ifwatch_open(&d->ifwatch, d->conf->daemon.pin_dir, d->conf->daemon.interfaces, why);

	if (!err)
		err = loop_watch(&d->loop, d->ifwatch.fd, EPOLLIN, on_links, d, "interface watch",
				 why);
	if (err) {
		log_say(LOG_LEVEL_ERROR,
			"%s; an interface deleted and created again stays without xdpban until "
			"'xdpban attach'",
			why);
		return;
	}
	ifwatch_ensure(&d->ifwatch);
}

/* Everything that needs more than map access and re-attaching is done by now. */
static void drop_privileges(void)
{
	char why[ERRMSG_LEN];

	if (privs_drop(why))
		log_say(LOG_LEVEL_ERROR, "%s; running with every capability", why);
	else
		log_say(LOG_LEVEL_DEBUG, "capabilities dropped to %s", PRIVS_KEPT_NAMES);
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
			    .loop = { .epoll_fd = -1 },
			    .inotify_fd = -1,
			    .sources_more_fd = -1,
			    .control_fd = -1,
			    .control_spare_fd = -1,
			    .signal_fd = -1,
			    .policy_listen = "off",
			    .metrics_listen = "off",
			    .ifwatch = { .fd = -1 } };
	char why[ERRMSG_LEN];
	int status = EXIT_FAILURE;

	log_set_level(conf->daemon.log_level);
	raise_fd_limit(&d);
	pins_init(&d.maps);
	if (open_state(&d, why) || open_loop(&d, why) || http_open(&d, why) ||
	    sources_open(&d, why)) {
		log_say(LOG_LEVEL_ERROR, "%s", why);
		goto out;
	}
	restore_from_store(&d);
	do
		tick_sweep(&d); /* a whole pass: it also counts the bans for /metrics */
	while (d.sweep.started);
	peers_open(&d);
	open_ifwatch(&d);
	drop_privileges();
	/* Capabilities are per thread: the judging thread starts with those left. */
	if (passwords_open(&d, why)) {
		log_say(LOG_LEVEL_ERROR, "%s", why);
		goto out;
	}
	d.last_sweep_ns = clock_now_ns();
	log_say(LOG_LEVEL_INFO, "running: %zu sources, control socket %s", d.source_count,
		conf->daemon.control_socket);
	sources_poll(&d);
	loop_run(&d.loop);
	snapshot_save(&d);
	log_say(LOG_LEVEL_INFO, "stopping; the XDP program and every ban stay in place");
	status = EXIT_SUCCESS;
out:
	peers_close(&d);
	sources_close(&d);
	http_close(&d);
	passwords_close(&d);
	ifwatch_close(&d.ifwatch);
	control_close(&d);
	if (d.inotify_fd >= 0)
		close(d.inotify_fd);
	if (d.sources_more_fd >= 0)
		close(d.sources_more_fd);
	if (d.signal_fd >= 0)
		close(d.signal_fd);
	loop_close(&d.loop);
	if (d.rules)
		rules_free(d.rules);
	close_store(&d);
	pins_close(&d.maps);
	protected_free(&d.own);
	protected_free(&d.never);
	retry_free(&d);
	free(d.recent);
	echo_filter_free(d.echo);
	conf_free(d.conf);
	return status;
}
