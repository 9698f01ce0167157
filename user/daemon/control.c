// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE /* accept4 */
#include "daemon/daemon-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "lib/cidr.h"
#include "lib/ctl.h"
#include "lib/text.h"

/* ---- the control socket ---- */

/* The sources' counts, and every counter_table entry with a status key ("faults" apart). */
static json_t *status_json(const struct daemon *d)
{
	struct counter_readings readings;
	json_t *reply = json_pack("{s:b}", "ok", 1), *faults = json_object();
	json_t *sources = json_array();

	daemon_read_counters(d, &readings);
	for (size_t i = 0; i < counter_table_len; i++) {
		const struct counter_def *def = &counter_table[i];

		if (def->status)
			json_object_set_new(
			    def->fault ? faults : reply, def->status,
			    json_integer((json_int_t)counter_value(&readings, def)));
	}
	for (size_t i = 0; i < d->source_count; i++) {
		const struct source *src = &d->sources[i];

		json_array_append_new(
		    sources,
		    json_pack(
			"{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:b}", "name", src->conf.name, "kind",
			src->conf.journal ? "journal" : "file", "path",
			src->conf.journal ? (src->conf.journal_path[0] ? src->conf.journal_path
								       : "system journal")
					  : src->conf.path,
			"lines", (json_int_t)source_lines(src), "events", (json_int_t)src->events,
			"rotations", (json_int_t)(src->tail.rotations + src->tail.truncations),
			"unrecognised_auth_lines", (json_int_t)src->silence.auth_like, "silent",
			src->silence.warned));
	}
	json_object_set_new(reply, "sources", sources);
	json_object_set_new(reply, "faults", faults);
	return reply;
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
	d->counters.control_events++;
	decide_event(d, &event, "control", result);
	return json_pack("{s:b, s:s}", "ok", 1, "result", result);
}

/*
 * Out of descriptors, accept fails and the socket stays readable: the loop
 * would spin on it and the operator get no answer. The spare descriptor
 * kept for this is given up for the connection, and taken again after.
 */
static int accept_control(struct daemon *d)
{
	int conn = accept4(d->control_fd, NULL, NULL, SOCK_CLOEXEC);

	if (conn >= 0 || (errno != EMFILE && errno != ENFILE) || d->control_spare_fd < 0)
		return conn;
	close(d->control_spare_fd);
	conn = accept4(d->control_fd, NULL, NULL, SOCK_CLOEXEC);
	d->control_spare_fd = -1;
	return conn;
}

static void keep_spare(struct daemon *d)
{
	if (d->control_spare_fd < 0)
		d->control_spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void serve_control(void *ctx, uint32_t events)
{
	struct daemon *d = ctx;

	(void)events;
	for (;;) {
		int conn = accept_control(d);
		json_t *request = NULL, *reply;
		char why[ERRMSG_LEN];
		const char *cmd;

		if (conn < 0) {
			keep_spare(d);
			return; /* EAGAIN: no more waiting */
		}
		if (ctl_peer_allowed(conn, d->conf->daemon.control_group,
				     d->conf->daemon.control_gid, why)) {
			d->counters.control_refused++;
			log_say(LOG_LEVEL_WARNING, "control socket: %s", why);
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
		keep_spare(d);
	}
}

/* The socket at [daemon] control_socket, in the loop. */
int control_open(struct daemon *d, char why[ERRMSG_LEN])
{
	d->control_fd =
	    ctl_listen(d->conf->daemon.control_socket, d->conf->daemon.control_group, why);
	if (d->control_fd < 0)
		return d->control_fd;
	keep_spare(d);
	return loop_watch(&d->loop, d->control_fd, EPOLLIN, serve_control, d, "control socket",
			  why);
}

void control_close(struct daemon *d)
{
	if (d->control_spare_fd >= 0)
		close(d->control_spare_fd);
	d->control_spare_fd = -1;
	if (d->control_fd < 0)
		return;
	close(d->control_fd);
	unlink(d->conf->daemon.control_socket);
	d->control_fd = -1;
}
