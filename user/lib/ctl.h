/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The daemon's control socket: a Unix stream socket, root-only by default
 * (0600; 0660 with a configured group). One request per connection: the
 * client writes one JSON object and a newline, the daemon answers with one
 * JSON object and a newline and closes.
 */
#ifndef XDPBAN_CTLSOCK_H
#define XDPBAN_CTLSOCK_H

#include <sys/types.h>
#include <jansson.h>
#include "lib/errmsg.h"

#define CTL_REQUEST_MAX 65536

/* Creates the listening socket (its directory too), replacing a stale one. */
int ctl_listen(const char *path, const char *group, char why[ERRMSG_LEN]);

/*
 * The file mode keeps others out; this checks again on each connection
 * (SO_PEERCRED, SO_PEERGROUPS): root, or a member of group when one is set.
 * -EPERM with why naming the peer's uid and pid otherwise.
 */
int ctl_peer_allowed(int conn, const char *group, gid_t gid, char why[ERRMSG_LEN]);

/*
 * Reads one request from an accepted connection (waiting at most 200 ms, so
 * a silent client cannot hold the daemon), returning the parsed object.
 */
int ctl_read_request(int conn, json_t **request, char why[ERRMSG_LEN]);
int ctl_write_reply(int conn, json_t *reply);

/* Client side: sends request, returns the daemon's reply. */
int ctl_call(const char *path, json_t *request, json_t **reply, char why[ERRMSG_LEN]);

#endif
