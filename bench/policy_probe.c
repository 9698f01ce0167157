// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A well-behaved policy client, as Dovecot's auth process is one: HTTP/1.1
 * POST ?command=allow with the API key, on a kept-alive connection (Dovecot
 * keeps one 10 s idle), a new connection when the server closed it, and an
 * answer given up after 2 s (auth_policy_server_timeout_msecs): Dovecot then
 * lets the login through unchecked, so a timeout or a closed connection is
 * a failure here (its latency the time waited). One request every
 * INTERVAL_MS for SECONDS, a new connection every REUSE requests (0: only
 * when the server closed it): Dovecot opens new ones as its logins come in
 * parallel and its idle ones expire, and a new one is what an attacker
 * holding the server's connections keeps waiting. Prints
 *   requests=N failures=F p50_ms=X p99_ms=Y max_ms=Z
 *
 *   policy_probe HOST PORT KEY SECONDS INTERVAL_MS [REUSE]
 * POLICY_PROBE_SAMPLES=FILE writes each request's start and latency there.
 */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "bench_util.h"

#define ANSWER_TIMEOUT_MS 2000
#define MAX_SAMPLES	  1000000

static struct sockaddr_in server;

static int connect_server(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&server, sizeof(server))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads one whole answer (headers and Content-Length bytes); 0, or -1: closed or too slow. */
static int read_answer(int fd, double deadline)
{
	char buf[4096];
	size_t got = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left_ms = (int)((deadline - bench_now()) * 1000);
		char *end, *len;
		ssize_t n;

		if (left_ms <= 0 || poll(&p, 1, left_ms) <= 0)
			return -1;
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
		buf[got] = '\0';
		end = strstr(buf, "\r\n\r\n");
		len = strcasestr(buf, "content-length:");
		if (end && len && got >= (size_t)(end + 4 - buf) + strtoul(len + 15, NULL, 10))
			return strncmp(buf, "HTTP/1.1 200", 12) == 0 ? 0 : -1;
		if (got == sizeof(buf) - 1)
			return -1;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static double samples[MAX_SAMPLES];
	char request[1024], body[256];
	unsigned long failures = 0, reuse, used = 0;
	size_t n = 0;
	double seconds, interval, end;
	FILE *dump = NULL; /* POLICY_PROBE_SAMPLES: each request's start and latency */
	int fd = -1;

	if (argc != 6 && argc != 7)
		bench_die("usage", "policy_probe HOST PORT KEY SECONDS INTERVAL_MS [REUSE]");
	reuse = argc == 7 ? strtoul(argv[6], NULL, 10) : 0;
	if (getenv("POLICY_PROBE_SAMPLES"))
		dump = fopen(getenv("POLICY_PROBE_SAMPLES"), "w");
	server.sin_family = AF_INET;
	server.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1)
		bench_die(argv[1], "not an IPv4 address");
	seconds = atof(argv[4]);
	interval = atof(argv[5]) / 1000;
	snprintf(body, sizeof(body),
		 "{\"login\":\"probe@example.org\",\"remote\":\"192.0.2.250\","
		 "\"protocol\":\"imap\",\"pwhash\":\"00\",\"session_id\":\"probe\"}");
	snprintf(request, sizeof(request),
		 "POST /?command=allow HTTP/1.1\r\nHost: %s\r\nUser-Agent: "
		 "dovecot/auth-policy-client\r\nContent-Type: application/json\r\n"
		 "X-API-Key: %s\r\nContent-Length: %zu\r\n\r\n%s",
		 argv[1], argv[3], strlen(body), body);
	end = bench_now() + seconds;
	while (bench_now() < end && n < MAX_SAMPLES) {
		double start = bench_now(), next = start + interval;
		struct timespec pause;

		if (fd >= 0 && reuse && used == reuse) {
			close(fd);
			fd = -1;
		}
		if (fd < 0) {
			fd = connect_server();
			used = 0;
		}
		used++;
		if (fd < 0 || write(fd, request, strlen(request)) != (ssize_t)strlen(request) ||
		    read_answer(fd, start + ANSWER_TIMEOUT_MS / 1000.0)) {
			failures++;
			if (fd >= 0)
				close(fd);
			fd = -1;
		}
		/* A failure counts with the time Dovecot would have waited for it. */
		samples[n++] = (bench_now() - start) * 1000;
		if (dump)
			fprintf(dump, "%.6f %.3f\n", start, samples[n - 1]);
		if (next > bench_now()) {
			double wait = next - bench_now();

			pause.tv_sec = (time_t)wait;
			pause.tv_nsec = (long)((wait - (double)pause.tv_sec) * 1e9);
			nanosleep(&pause, NULL);
		}
	}
	if (!n)
		bench_die("policy_probe", "no request was answered");
	qsort(samples, n, sizeof(*samples), cmp_double);
	printf("requests=%zu failures=%lu p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", n, failures,
	       samples[n / 2], samples[(size_t)((double)(n - 1) * 0.99)], samples[n - 1]);
	return 0;
}
