// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "serve/http_guard.h"

#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define NSEC_PER_MSEC 1000000ULL
/*
 * Overdue connections are cut EXPIRE_BATCH at a time, one batch every
 * EXPIRE_PACE_NS at most (1,600 a second): slowloris connections opened
 * together fall due together, and cutting a thousand at once (and the
 * thousand reconnections it brings) would hold Dovecot's answers for as
 * long; paced, the same work is spread thin. Connections arriving faster
 * than that meet max_connections, which makes room at once.
 */
#define EXPIRE_BATCH   16
#define EXPIRE_PACE_NS (10 * NSEC_PER_MSEC)

struct http_conn {
	struct http_conn *prev, *next;
	int fd;
	struct in6_addr client; /* IPv4 as ::ffff:a.b.c.d */
	bool loopback;
	uint64_t since_ns; /* accepted, or its last request answered */
	bool proven;	   /* answered a request that carried the key */
	bool ending;	   /* shut down; libmicrohttpd has yet to close it */
};

void http_guard_init(struct http_guard *guard, const struct http_guard_limits *limits)
{
	*guard = (struct http_guard){ .limits = *limits };
}

static void unlink_conn(struct http_guard *guard, struct http_conn *conn)
{
	if (conn->prev)
		conn->prev->next = conn->next;
	else
		guard->head = conn->next;
	if (conn->next)
		conn->next->prev = conn->prev;
	else
		guard->tail = conn->prev;
	conn->prev = conn->next = NULL;
}

static void append_conn(struct http_guard *guard, struct http_conn *conn)
{
	conn->prev = guard->tail;
	conn->next = NULL;
	if (guard->tail)
		guard->tail->next = conn;
	else
		guard->head = conn;
	guard->tail = conn;
}

static void client_of(const struct sockaddr *addr, struct http_conn *conn)
{
	static const struct in6_addr loopback6 = IN6ADDR_LOOPBACK_INIT;

	memset(&conn->client, 0, sizeof(conn->client));
	if (addr && addr->sa_family == AF_INET) {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)addr;

		conn->client.s6_addr[10] = 0xff;
		conn->client.s6_addr[11] = 0xff;
		memcpy(&conn->client.s6_addr[12], &in4->sin_addr, 4);
	} else if (addr && addr->sa_family == AF_INET6) {
		conn->client = ((const struct sockaddr_in6 *)addr)->sin6_addr;
	}
	conn->loopback = (IN6_IS_ADDR_V4MAPPED(&conn->client) && conn->client.s6_addr[12] == 127) ||
			 memcmp(&conn->client, &loopback6, sizeof(loopback6)) == 0;
}

/* Shut down, not closed: the descriptor stays libmicrohttpd's until it closes it. */
static void end_conn(struct http_guard *guard, struct http_conn *conn, unsigned long *counter)
{
	shutdown(conn->fd, SHUT_RDWR);
	conn->ending = true;
	guard->live--;
	(*counter)++;
}

/*
 * The oldest connection that may go (not proven, not ending), among all or
 * among those of client; n: how many live ones were seen (same filter).
 */
static struct http_conn *oldest_unproven(const struct http_guard *guard,
					 const struct http_conn *client, unsigned long *n)
{
	struct http_conn *victim = NULL;

	*n = 0;
	for (struct http_conn *c = guard->head; c; c = c->next) {
		if (c->ending)
			continue;
		if (client && memcmp(&c->client, &client->client, sizeof(c->client)) != 0)
			continue;
		(*n)++;
		if (!victim && !c->proven)
			victim = c;
	}
	return victim;
}

/* Over a bound: the oldest unproven connection goes (the newest, when it is the only one). */
static void make_room(struct http_guard *guard, struct http_conn *newest,
		      const struct http_conn *client, unsigned long max)
{
	unsigned long live;
	struct http_conn *victim;

	if (newest->ending || (!client && guard->live <= max))
		return; /* within the total: no list to walk for it */
	victim = oldest_unproven(guard, client, &live);
	if (live <= max)
		return;
	if (victim && victim != newest)
		end_conn(guard, victim, &guard->counters.evicted);
	else
		end_conn(guard, newest, &guard->counters.refused);
}

struct http_conn *http_guard_open(struct http_guard *guard, int fd, const struct sockaddr *addr,
				  uint64_t now_ns)
{
	struct http_conn *conn = calloc(1, sizeof(*conn));

	if (!conn) {
		shutdown(fd, SHUT_RDWR);
		guard->counters.refused++;
		return NULL;
	}
	conn->fd = fd;
	conn->since_ns = now_ns;
	client_of(addr, conn);
	append_conn(guard, conn);
	guard->counters.open++;
	guard->live++;
	if (!conn->loopback)
		make_room(guard, conn, conn, guard->limits.max_per_client);
	make_room(guard, conn, NULL, guard->limits.max_connections);
	return conn;
}

void http_guard_answered(struct http_guard *guard, struct http_conn *conn, bool proven,
			 uint64_t now_ns)
{
	if (!conn)
		return;
	conn->proven = conn->proven || proven;
	conn->since_ns = now_ns;
	unlink_conn(guard, conn);
	append_conn(guard, conn); /* since_ns only grows: the list stays in order */
}

void http_guard_close(struct http_guard *guard, struct http_conn *conn)
{
	if (!conn)
		return;
	unlink_conn(guard, conn);
	guard->counters.open--;
	if (!conn->ending)
		guard->live--;
	free(conn);
}

static bool overdue(const struct http_guard *guard, const struct http_conn *conn, uint64_t now_ns)
{
	return now_ns - conn->since_ns >= guard->limits.request_timeout_ns;
}

void http_guard_expire(struct http_guard *guard, uint64_t now_ns)
{
	unsigned int cut = 0;

	if (now_ns - guard->expired_ns < EXPIRE_PACE_NS)
		return;
	for (struct http_conn *c = guard->head;
	     c && overdue(guard, c, now_ns) && cut < EXPIRE_BATCH; c = c->next)
		if (!c->proven && !c->ending) {
			end_conn(guard, c, &guard->counters.timed_out);
			cut++;
		}
	if (cut)
		guard->expired_ns = now_ns;
}

int http_guard_next_ms(const struct http_guard *guard, uint64_t now_ns)
{
	uint64_t due_ns, ms;

	for (const struct http_conn *c = guard->head; c; c = c->next) {
		if (c->proven || c->ending)
			continue;
		due_ns = c->since_ns + guard->limits.request_timeout_ns;
		if (due_ns < guard->expired_ns + EXPIRE_PACE_NS)
			due_ns = guard->expired_ns + EXPIRE_PACE_NS;
		if (due_ns <= now_ns)
			return 0;
		ms = (due_ns - now_ns + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;
		return ms > INT_MAX ? INT_MAX : (int)ms;
	}
	return -1;
}

void http_guard_free(struct http_guard *guard)
{
	while (guard->head)
		http_guard_close(guard, guard->head);
}
