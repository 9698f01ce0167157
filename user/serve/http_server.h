/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The daemon's HTTP server: the Dovecot auth policy endpoint (policy.h) and
 * the Prometheus /metrics page (daemon/metrics.h), on one address or each on its
 * own. libmicrohttpd without threads of its own (MHD_USE_EPOLL and no
 * polling thread; libmicrohttpd 0.9.75 has no MHD_USE_NO_THREAD_SAFETY).
 * The caller adds http_server_fd() to its epoll set, calls
 * http_server_run() when it is readable or when http_server_timeout_ms()
 * has passed, and gets each request's result through on_result, in the same
 * thread.
 *
 * Requests: GET (or HEAD) /metrics when a metrics function is set; POST to
 * any other path with ?command=allow|report and the JSON body when a policy
 * is set, gathered up to POLICY_BODY_MAX (413 beyond, by Content-Length or by
 * what arrives); the api_header's value goes to policy_handle() as the key.
 * What the server does not serve: 404 (path) or 405 (method).
 */
#ifndef XDPBAN_POLICY_HTTP_H
#define XDPBAN_POLICY_HTTP_H

#include "lib/errmsg.h"
#include "serve/http_guard.h"
#include "serve/policy.h"

struct http_server;

/* Called after each handled request, e.g. to feed result->event to the rules. */
typedef void (*http_server_result_fn)(void *ctx, const struct policy_result *result);

/* The /metrics page as malloc'd text (the server frees it), or NULL: 503. */
typedef char *(*http_server_metrics_fn)(void *ctx, size_t *len);

struct http_server_handlers {
	struct policy
	    *policy; /* NULL: no policy requests; else the caller's, outliving the server */
	http_server_result_fn on_result;
	http_server_metrics_fn metrics; /* NULL: no /metrics */
	void *ctx;
};

/* How many connections, and for how long (http_guard.h). */
struct http_server_limits {
	unsigned int descriptors;     /* the most it may ever hold: fixed at start */
	unsigned int max_connections; /* at most descriptors */
	unsigned int max_per_client;
	uint64_t request_timeout_s;
};

/*
 * listen is "A.B.C.D:PORT" or "[IPV6]:PORT"; api_header the header carrying
 * the key. NULL with the reason in why on error (address in use, say).
 */
struct http_server *http_server_new(const char *listen, const char *api_header,
				    const struct http_server_limits *limits,
				    const struct http_server_handlers *handlers,
				    char why[ERRMSG_LEN]);

/* New bounds from the next connection on (descriptors stays what it was at start). */
void http_server_set_limits(struct http_server *http, const struct http_server_limits *limits);

/* The guard's counts: connections open, timed out, evicted, refused. */
void http_server_get_counters(const struct http_server *http, struct http_guard_counters *out);

/* The header the API key is read from, from the next request on. */
void http_server_set_api_header(struct http_server *http, const char *api_header);

/* The epoll descriptor to watch for EPOLLIN. */
int http_server_fd(const struct http_server *http);

/* Does whatever is ready (accepts, reads, answers, timeouts); never blocks. */
void http_server_run(struct http_server *http);

/* Milliseconds until http_server_run() is due anyway; -1: only when the fd is readable. */
int http_server_timeout_ms(struct http_server *http);

void http_server_free(struct http_server *http);

#endif
