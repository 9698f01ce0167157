/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The HTTP side of the Dovecot auth policy endpoint (policy.h): a
 * libmicrohttpd server without threads of its own (MHD_USE_EPOLL and no
 * polling thread; libmicrohttpd 0.9.75 has no MHD_USE_NO_THREAD_SAFETY).
 * The caller adds policy_http_fd() to its epoll
 * set, calls policy_http_run() when it is readable or when
 * policy_http_timeout_ms() has passed, and gets each request's result
 * through on_result, in the same thread.
 *
 * Requests: POST (any path) with ?command=allow|report and the JSON body,
 * gathered up to POLICY_BODY_MAX (413 beyond, by Content-Length or by what
 * arrives); the api_header's value goes to policy_handle() as the key.
 * Anything but POST: 405. GET /metrics is not served yet.
 */
#ifndef XDPBAN_POLICY_HTTP_H
#define XDPBAN_POLICY_HTTP_H

#include "errmsg.h"
#include "policy.h"

struct policy_http;

/* Called after each handled request, e.g. to feed result->event to the rules. */
typedef void (*policy_http_result_fn)(void *ctx, const struct policy_result *result);

/*
 * listen is "A.B.C.D:PORT" or "[IPV6]:PORT"; api_header the header carrying
 * the key. policy stays the caller's and must outlive the server. NULL with
 * the reason in why on error (address in use, say).
 */
struct policy_http *policy_http_new(const char *listen, const char *api_header,
				    struct policy *policy, policy_http_result_fn on_result,
				    void *ctx, char why[ERRMSG_LEN]);

/* The epoll descriptor to watch for EPOLLIN. */
int policy_http_fd(const struct policy_http *http);

/* Does whatever is ready (accepts, reads, answers, timeouts); never blocks. */
void policy_http_run(struct policy_http *http);

/* Milliseconds until policy_http_run() is due anyway; -1: only when the fd is readable. */
int policy_http_timeout_ms(struct policy_http *http);

void policy_http_free(struct policy_http *http);

#endif
