/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The daemon's HTTP server: the Dovecot auth policy endpoint (policy.h) and
 * the Prometheus /metrics page (metrics.h), on one address or each on its
 * own. libmicrohttpd without threads of its own (MHD_USE_EPOLL and no
 * polling thread; libmicrohttpd 0.9.75 has no MHD_USE_NO_THREAD_SAFETY).
 * The caller adds policy_http_fd() to its epoll set, calls
 * policy_http_run() when it is readable or when policy_http_timeout_ms()
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

#include "errmsg.h"
#include "policy.h"

struct policy_http;

/* Called after each handled request, e.g. to feed result->event to the rules. */
typedef void (*policy_http_result_fn)(void *ctx, const struct policy_result *result);

/* The /metrics page as malloc'd text (the server frees it), or NULL: 503. */
typedef char *(*policy_http_metrics_fn)(void *ctx, size_t *len);

struct policy_http_handlers {
	struct policy
	    *policy; /* NULL: no policy requests; else the caller's, outliving the server */
	policy_http_result_fn on_result;
	policy_http_metrics_fn metrics; /* NULL: no /metrics */
	void *ctx;
};

/*
 * listen is "A.B.C.D:PORT" or "[IPV6]:PORT"; api_header the header carrying
 * the key. NULL with the reason in why on error (address in use, say).
 */
struct policy_http *policy_http_new(const char *listen, const char *api_header,
				    const struct policy_http_handlers *handlers,
				    char why[ERRMSG_LEN]);

/* The header the API key is read from, from the next request on. */
void policy_http_set_api_header(struct policy_http *http, const char *api_header);

/* The epoll descriptor to watch for EPOLLIN. */
int policy_http_fd(const struct policy_http *http);

/* Does whatever is ready (accepts, reads, answers, timeouts); never blocks. */
void policy_http_run(struct policy_http *http);

/* Milliseconds until policy_http_run() is due anyway; -1: only when the fd is readable. */
int policy_http_timeout_ms(struct policy_http *http);

void policy_http_free(struct policy_http *http);

#endif
