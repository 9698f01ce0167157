// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The policy endpoint as a client reaches it: raw bytes on a TCP connection
 * to the real server (http_server.c on libmicrohttpd, with policy.c behind
 * it, and a /metrics page), on 127.0.0.1 and a free port. Each input is one connection: the
 * bytes are sent, the client half-closes, and the server runs until it
 * closes the connection. What xdpban parses here is the method, the
 * Content-Length check, the path (/metrics or the policy), the gathered body, the "command"
 * argument and the key header; libmicrohttpd does the HTTP framing (it is not instrumented, so
 * coverage guidance comes from xdpban's side).
 *
 * Checked: an answer, when there is one, is an HTTP response; a request
 * never makes the server block (libFuzzer's -timeout catches that).
 */
#include "fuzz.h"
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "lib/cidr.h"
#include "serve/policy.h"
#include "serve/http_server.h"

#define FUZZ_API_HEADER "X-API-Key"
/*
 * Rounds without news after which an exchange is over. Loopback delivery and
 * the server both run inside this thread, so polling without waiting is enough.
 */
#define FUZZ_IDLE_ROUNDS 20

struct server {
	struct policy *policy;
	struct http_server *http;
	struct sockaddr_in addr;
	unsigned long results;
};

static bool http_fake_blocked(void *ctx, const char *login, uint64_t *deadline_ns)
{
	(void)ctx;
	*deadline_ns = 0;
	return login[0] == 'b';
}

static bool http_fake_banned(void *ctx, const struct addr_key *ip)
{
	(void)ctx;
	return ip->addr[ADDR_LEN - 1] & 1;
}

static void on_result(void *ctx, const struct policy_result *result)
{
	struct server *server = ctx;

	FUZZ_CHECK(memchr(result->body, '\0', sizeof(result->body)));
	FUZZ_CHECK(result->http_status == 200 || !result->has_event);
	server->results++;
}

/* A small /metrics page, or none (503) every other time. */
static char *metrics(void *ctx, size_t *len)
{
	struct server *server = ctx;
	char *text;

	if (server->results % 2)
		return NULL;
	text = strdup("xdpban_fuzz 1\n");
	if (!text)
		abort();
	*len = strlen(text);
	return text;
}

/* A port nothing listens on now (the kernel's pick for a socket bound to port 0). */
static unsigned int free_port(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, len) ||
	    getsockname(fd, (struct sockaddr *)&addr, &len))
		abort();
	close(fd);
	return ntohs(addr.sin_port);
}

static struct server *server_start(void)
{
	static struct server server;
	struct policy_checks checks = { .account_blocked = http_fake_blocked,
					.ip_banned = http_fake_banned,
					.ctx = &server };
	struct http_server_limits limits = { 64, 64, 64, 2 };
	struct http_server_handlers handlers;
	struct policy_config cfg;
	char listen[32], why[ERRMSG_LEN];
	unsigned int port = free_port();

	policy_config_default(&cfg);
	cfg.api_key = "sekrit";
	server.policy = policy_new(&cfg, &checks, why);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	handlers = (struct http_server_handlers){
		.policy = server.policy, .on_result = on_result, .metrics = metrics, .ctx = &server
	};
	server.http = server.policy
			  ? http_server_new(listen, FUZZ_API_HEADER, &limits, &handlers, why)
			  : NULL;
	if (!server.http) {
		fprintf(stderr, "fuzz_policy_http: %s\n", why);
		abort();
	}
	server.addr = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port) };
	server.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return &server;
}

/*
 * Runs the server until the client's socket reads EOF, or until nothing has
 * moved for FUZZ_IDLE_ROUNDS once everything is sent: libmicrohttpd keeps
 * some half-closed keep-alive connections (after a chunked request, say)
 * until its idle timeout. Returns how many bytes of the answer it kept in
 * answer (the first answer_max; the rest is read and dropped).
 */
static size_t exchange(struct server *server, int fd, const uint8_t *data, size_t size,
		       char *answer, size_t answer_max)
{
	size_t sent = 0, got = 0;
	unsigned int idle = 0;
	char rest[4096];

	while (sent < size || idle < FUZZ_IDLE_ROUNDS) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN | (sent < size ? POLLOUT : 0) };
		ssize_t n;

		http_server_run(server->http);
		if (poll(&pfd, 1, 0) < 0 && errno != EINTR)
			abort();
		idle++;
		if (sent < size && (pfd.revents & POLLOUT)) {
			n = send(fd, data + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0 && (sent += (size_t)n) == size)
				shutdown(fd, SHUT_WR);
			if (n < 0 && errno != EAGAIN)
				sent = size; /* the server hung up first */
			idle = 0;
		}
		if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (got < answer_max)
			n = recv(fd, answer + got, answer_max - got, MSG_DONTWAIT);
		else
			n = recv(fd, rest, sizeof(rest), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			break;
		if (n > 0 && got < answer_max)
			got += (size_t)n;
		idle = 0;
	}
	return got;
}

/* Closes with a reset, so the server drops its side at once, and lets it notice. */
static void hang_up(struct server *server, int fd)
{
	struct linger reset = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
	close(fd);
	for (int i = 0; i < 3; i++)
		http_server_run(server->http);
}

/*
 * A socket bound to the next of 2^24 loopback addresses: connections the
 * server closes first wait in TIME_WAIT, and from one source address they
 * would use up the ephemeral ports within seconds.
 */
static int client_socket(void)
{
	static uint32_t next;
	struct sockaddr_in src = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	src.sin_addr.s_addr = htonl(0x7f000000 | (++next & 0xffffff));
	if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof(src))) {
		fprintf(stderr, "fuzz_policy_http: no client socket: %s\n", strerror(errno));
		abort();
	}
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct server *server;
	char answer[4096];
	size_t got;
	int fd;

	if (!server)
		server = server_start();
	fd = client_socket();
	if (connect(fd, (struct sockaddr *)&server->addr, sizeof(server->addr))) {
		fprintf(stderr, "fuzz_policy_http: cannot connect: %s\n", strerror(errno));
		abort();
	}
	if (!size)
		shutdown(fd, SHUT_WR);
	got = exchange(server, fd, data, size, answer, sizeof(answer));
	FUZZ_CHECK(got < 5 || !memcmp(answer, "HTTP/", 5));
	hang_up(server, fd);
	return 0;
}
