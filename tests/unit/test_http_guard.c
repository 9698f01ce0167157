// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The policy endpoint's connection guard: who is cut when a bound is met,
 * and when a request is overdue. Connections are socket pairs: a cut one's
 * other end reads end of file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include "lib/clock.h"
#include "serve/http_guard.h"

#define MS	 1000000ULL
#define TIMEOUT	 (2000 * MS)
#define MAX_CONN 8

struct pair {
	int ours, theirs; /* ours: the server's side, the guard's */
	struct http_conn *conn;
};

static struct sockaddr_in client(const char *ip)
{
	struct sockaddr_in in = { .sin_family = AF_INET };

	assert_int_equal(inet_pton(AF_INET, ip, &in.sin_addr), 1);
	return in;
}

static void open_pair(struct http_guard *guard, struct pair *p, const char *ip, uint64_t now)
{
	int fds[2];
	struct sockaddr_in addr = client(ip);

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	p->ours = fds[0];
	p->theirs = fds[1];
	p->conn = http_guard_open(guard, p->ours, (struct sockaddr *)&addr, now);
	assert_non_null(p->conn);
}

/* Whether the guard cut it: the client's end reads end of file. */
static bool cut(const struct pair *p)
{
	char byte;

	return recv(p->theirs, &byte, 1, MSG_DONTWAIT) == 0;
}

static void close_pair(struct http_guard *guard, struct pair *p)
{
	http_guard_close(guard, p->conn);
	close(p->ours);
	close(p->theirs);
}

static void guard_with(struct http_guard *guard, unsigned int max, unsigned int per_client)
{
	struct http_guard_limits limits = { max, per_client, TIMEOUT };

	http_guard_init(guard, &limits);
}

static void test_full_cuts_the_oldest_unproven(void **state)
{
	struct http_guard guard;
	struct pair p[MAX_CONN + 1];

	(void)state;
	guard_with(&guard, MAX_CONN, 100);
	for (int i = 0; i < MAX_CONN; i++)
		open_pair(&guard, &p[i], "192.0.2.1", 1000 + (uint64_t)i);
	http_guard_answered(&guard, p[0].conn, true, 2000); /* Dovecot's, kept alive */
	open_pair(&guard, &p[MAX_CONN], "192.0.2.1", 3000);
	assert_false(cut(&p[0]));
	assert_true(cut(&p[1]));
	assert_false(cut(&p[MAX_CONN]));
	assert_int_equal(guard.counters.evicted, 1);
	for (int i = 0; i <= MAX_CONN; i++)
		close_pair(&guard, &p[i]);
	assert_int_equal(guard.counters.open, 0);
}

static void test_all_proven_refuses_the_new_one(void **state)
{
	struct http_guard guard;
	struct pair p[3];

	(void)state;
	guard_with(&guard, 2, 100);
	for (int i = 0; i < 2; i++) {
		open_pair(&guard, &p[i], "192.0.2.1", 1000);
		http_guard_answered(&guard, p[i].conn, true, 1100);
	}
	open_pair(&guard, &p[2], "192.0.2.1", 1200);
	assert_false(cut(&p[0]));
	assert_false(cut(&p[1]));
	assert_true(cut(&p[2]));
	assert_int_equal(guard.counters.refused, 1);
	for (int i = 0; i < 3; i++)
		close_pair(&guard, &p[i]);
}

static void test_per_client_bound_spares_loopback(void **state)
{
	struct http_guard guard;
	struct pair remote[3], local[3];

	(void)state;
	guard_with(&guard, 100, 2);
	for (int i = 0; i < 3; i++) {
		open_pair(&guard, &remote[i], "203.0.113.9", 1000 + (uint64_t)i);
		open_pair(&guard, &local[i], "127.0.0.1", 1000 + (uint64_t)i);
	}
	assert_true(cut(&remote[0])); /* that address's oldest */
	assert_false(cut(&remote[1]));
	assert_false(cut(&remote[2]));
	for (int i = 0; i < 3; i++)
		assert_false(cut(&local[i])); /* Dovecot shares loopback with every local user */
	for (int i = 0; i < 3; i++) {
		close_pair(&guard, &remote[i]);
		close_pair(&guard, &local[i]);
	}
}

static void test_overdue_requests_are_cut_however_active(void **state)
{
	struct http_guard guard;
	struct pair slow, answered, proven;

	(void)state;
	guard_with(&guard, 100, 100);
	open_pair(&guard, &slow, "192.0.2.1", 0);
	open_pair(&guard, &answered, "192.0.2.2", 0);
	open_pair(&guard, &proven, "192.0.2.3", 0);
	http_guard_answered(&guard, answered.conn, false, 1000 * MS); /* its next request's time */
	http_guard_answered(&guard, proven.conn, true, 1000 * MS);
	assert_int_equal(http_guard_next_ms(&guard, 500 * MS), 1500);
	http_guard_expire(&guard, TIMEOUT - 1);
	assert_false(cut(&slow));
	http_guard_expire(&guard, TIMEOUT);
	assert_true(cut(&slow));
	assert_false(cut(&answered));
	assert_int_equal(http_guard_next_ms(&guard, TIMEOUT), 1000);
	http_guard_expire(&guard, 100000 * MS);
	assert_true(cut(&answered));
	assert_false(cut(&proven)); /* idle: libmicrohttpd's idle timeout ends it */
	assert_int_equal(http_guard_next_ms(&guard, 100000 * MS), -1);
	assert_int_equal(guard.counters.timed_out, 2);
	close_pair(&guard, &slow);
	close_pair(&guard, &answered);
	close_pair(&guard, &proven);
}

static void test_cuts_are_paced(void **state)
{
	struct http_guard guard;
	struct pair p[40];
	int done = 0;

	(void)state;
	guard_with(&guard, 100, 100);
	for (int i = 0; i < 40; i++)
		open_pair(&guard, &p[i], "127.0.0.1", 0);
	http_guard_expire(&guard, TIMEOUT);
	http_guard_expire(&guard, TIMEOUT + MS); /* too soon: nothing more */
	for (int i = 0; i < 40; i++)
		done += cut(&p[i]);
	assert_int_equal(done, 16);
	assert_int_equal(http_guard_next_ms(&guard, TIMEOUT + MS), 9);
	http_guard_expire(&guard, TIMEOUT + 10 * MS);
	http_guard_expire(&guard, TIMEOUT + 20 * MS);
	assert_int_equal(guard.counters.timed_out, 40);
	for (int i = 0; i < 40; i++)
		close_pair(&guard, &p[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_cuts_the_oldest_unproven),
		cmocka_unit_test(test_all_proven_refuses_the_new_one),
		cmocka_unit_test(test_per_client_bound_spares_loopback),
		cmocka_unit_test(test_overdue_requests_are_cut_however_active),
		cmocka_unit_test(test_cuts_are_paced),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
