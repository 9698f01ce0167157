/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What keeps the policy endpoint answering when clients hold its
 * connections: every connection libmicrohttpd accepts is tracked here, and
 *   - a request must arrive whole within request_timeout of the connection's
 *     start or of its previous answer, however active the connection stays
 *     (slowloris: a header line every few seconds resets libmicrohttpd's idle
 *     timeout forever);
 *   - past max_connections (all clients) or max_per_client (one address),
 *     the oldest connection that has not proven itself makes room for the
 *     new one: the newest one is refused only when none is left to go.
 * A connection proves itself with an answered request that carried the API
 * key (any answered policy request when no key is set): Dovecot's kept-alive
 * connections are then never cut for an attacker's, and libmicrohttpd's idle
 * timeout alone ends them. Loopback is one address shared by every local
 * user and by Dovecot: a per-address bound there would let any local user
 * lock Dovecot out, so loopback clients share max_connections only.
 *
 * A connection is ended with shutdown(2): libmicrohttpd sees the hang-up in
 * its next run and closes it (and calls http_guard_close). One thread.
 */
#ifndef XDPBAN_HTTP_GUARD_H
#define XDPBAN_HTTP_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct http_guard_limits {
	unsigned int max_connections;
	unsigned int max_per_client;
	uint64_t request_timeout_ns;
};

struct http_guard_counters {
	unsigned long open;	 /* connections tracked now (ended ones not yet closed apart) */
	unsigned long timed_out; /* ended: their request did not arrive whole in time */
	unsigned long evicted;	 /* ended to make room for a newer one */
	unsigned long refused;	 /* new ones ended at once: every slot was proven */
};

struct http_conn;

struct http_guard {
	struct http_guard_limits limits;
	struct http_conn *head, *tail; /* by since_ns, oldest first */
	struct http_guard_counters counters;
	unsigned long live;  /* tracked and not ending */
	uint64_t expired_ns; /* when overdue connections were last cut */
};

void http_guard_init(struct http_guard *guard, const struct http_guard_limits *limits);

/* A new connection on fd from addr; NULL when out of memory (the fd is ended then). */
struct http_conn *http_guard_open(struct http_guard *guard, int fd, const struct sockaddr *addr,
				  uint64_t now_ns);

/* A request on conn was answered; proven: it carried the key. Its next request's time starts. */
void http_guard_answered(struct http_guard *guard, struct http_conn *conn, bool proven,
			 uint64_t now_ns);

/* libmicrohttpd closed conn: forgotten and freed. */
void http_guard_close(struct http_guard *guard, struct http_conn *conn);

/* Ends the connections whose request is overdue. */
void http_guard_expire(struct http_guard *guard, uint64_t now_ns);

/* Milliseconds until the next request falls due (rounded up); -1: none is waited for. */
int http_guard_next_ms(const struct http_guard *guard, uint64_t now_ns);

/* Forgets every connection (libmicrohttpd has closed them). */
void http_guard_free(struct http_guard *guard);

#endif
