// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE /* struct ucred */
#include "lib/ctl.h"

#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static int socket_address(const char *path, struct sockaddr_un *addr, char why[ERRMSG_LEN])
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr->sun_path)) {
		errmsg(why, "control socket path '%s' is too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(addr->sun_path, path);
	return 0;
}

/* A socket file nobody answers on is left over from a daemon that died. */
static bool socket_in_use(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool used = fd >= 0 && connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0;

	if (fd >= 0)
		close(fd);
	return used;
}

static int set_permissions(const char *path, const char *group, char why[ERRMSG_LEN])
{
	struct group *entry;

	if (!group || !*group)
		return chmod(path, 0600) ? -errno : 0;
	entry = getgrnam(group);
	if (!entry) {
		errmsg(why, "control socket group '%s' does not exist", group);
		return -ENOENT;
	}
	if (chown(path, 0, entry->gr_gid) || chmod(path, 0660)) {
		int err = -errno;

		errmsg(why, "cannot give %s to group %s: %s", path, group, strerror(errno));
		return err;
	}
	return 0;
}

int ctl_listen(const char *path, const char *group, char why[ERRMSG_LEN])
{
	struct sockaddr_un addr;
	char dir[PATH_MAX];
	int fd, err = socket_address(path, &addr, why);

	if (err)
		return err;
	snprintf(dir, sizeof(dir), "%s", path);
	if (mkdir(dirname(dir), 0755) && errno != EEXIST) {
		err = -errno;
		errmsg(why, "cannot create %s: %s", dir, strerror(errno));
		return err;
	}
	if (socket_in_use(&addr)) {
		errmsg(why, "another xdpban daemon answers on %s", path);
		return -EADDRINUSE;
	}
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(fd, 64)) {
		err = -errno;
		errmsg(why, "cannot listen on %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return err;
	}
	err = set_permissions(path, group, why);
	if (err) {
		if (err != -ENOENT)
			errmsg(why, "cannot set the permissions of %s: %s", path, strerror(-err));
		close(fd);
		unlink(path);
		return err;
	}
	return fd;
}

static bool peer_in_group(int conn, const struct ucred *cred, gid_t gid)
{
	gid_t groups[NGROUPS_MAX];
	socklen_t len = sizeof(groups);

	if (cred->gid == gid)
		return true;
	if (getsockopt(conn, SOL_SOCKET, SO_PEERGROUPS, groups, &len))
		return false;
	for (size_t i = 0; i < len / sizeof(groups[0]); i++) {
		if (groups[i] == gid)
			return true;
	}
	return false;
}

int ctl_peer_allowed(int conn, const char *group, gid_t gid, char why[ERRMSG_LEN])
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	bool has_group = group && *group;

	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
		int err = -errno;

		errmsg(why, "refused a connection: cannot read its credentials: %s",
		       strerror(errno));
		return err;
	}
	if (cred.uid == 0 || (has_group && peer_in_group(conn, &cred, gid)))
		return 0;
	errmsg(why, "refused uid %u (pid %d): not root%s%s", (unsigned int)cred.uid, (int)cred.pid,
	       has_group ? " and not in group " : "", has_group ? group : "");
	return -EPERM;
}

static void set_timeout(int fd, int which, long milliseconds)
{
	struct timeval tv = { .tv_sec = milliseconds / 1000,
			      .tv_usec = milliseconds % 1000 * 1000 };

	setsockopt(fd, SOL_SOCKET, which, &tv, sizeof(tv));
}

/* Reads up to the first newline (or the end of the stream). */
static int read_line(int fd, char *buf, size_t size, char why[ERRMSG_LEN])
{
	size_t used = 0;

	while (used + 1 < size) {
		ssize_t got = read(fd, buf + used, size - 1 - used);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			errmsg(why, "reading the control socket: %s", strerror(errno));
			return -errno;
		}
		if (got == 0)
			break;
		used += (size_t)got;
		if (memchr(buf + used - got, '\n', (size_t)got))
			break;
	}
	buf[used] = '\0';
	if (used + 1 >= size) {
		errmsg(why, "control request longer than %zu bytes", size - 1);
		return -E2BIG;
	}
	return 0;
}

static int parse_object(const char *text, json_t **out, char why[ERRMSG_LEN])
{
	json_error_t error;
	json_t *doc = json_loads(text, JSON_DISABLE_EOF_CHECK, &error);

	if (!doc || !json_is_object(doc)) {
		errmsg(why, "not a JSON object: %s", doc ? "wrong type" : error.text);
		json_decref(doc);
		return -EINVAL;
	}
	*out = doc;
	return 0;
}

int ctl_read_request(int conn, json_t **request, char why[ERRMSG_LEN])
{
	char *buf = malloc(CTL_REQUEST_MAX);
	int err;

	if (!buf) {
		errmsg(why, "out of memory");
		return -ENOMEM;
	}
	set_timeout(conn, SO_RCVTIMEO, 200);
	err = read_line(conn, buf, CTL_REQUEST_MAX, why);
	if (!err)
		err = parse_object(buf, request, why);
	free(buf);
	return err;
}

int ctl_write_reply(int conn, json_t *reply)
{
	char *text = json_dumps(reply, JSON_COMPACT);
	size_t len = text ? strlen(text) : 0;
	int err = 0;

	set_timeout(conn, SO_SNDTIMEO, 200);
	if (!text || write(conn, text, len) != (ssize_t)len || write(conn, "\n", 1) != 1)
		err = -EIO;
	free(text);
	return err;
}

int ctl_call(const char *path, json_t *request, json_t **reply, char why[ERRMSG_LEN])
{
	struct sockaddr_un addr;
	char buf[CTL_REQUEST_MAX];
	int fd, err = socket_address(path, &addr, why);

	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		err = -errno;
		errmsg(why, "cannot reach the xdpban daemon at %s: %s (is 'xdpban run' running?)",
		       path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return err;
	}
	set_timeout(fd, SO_RCVTIMEO, 5000);
	err = ctl_write_reply(fd, request); /* the same framing both ways */
	if (err)
		errmsg(why, "cannot send to the daemon at %s", path);
	if (!err)
		err = read_line(fd, buf, sizeof(buf), why);
	if (!err)
		err = parse_object(buf, reply, why);
	close(fd);
	return err;
}
