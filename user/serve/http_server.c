// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "serve/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <microhttpd.h>
#include "lib/clock.h"
#include "conf/conf.h"

#define HTTP_CONNECTION_TIMEOUT 30 /* seconds an idle connection is kept */
/* Ended connections libmicrohttpd has yet to close: it accepts 10 a turn, each may end one. */
#define HTTP_ENDING_SLACK 32
#define HTTP_NOT_ALLOWED  405

#define HTTP_UNAUTHORIZED    401
#define BEARER		     "Bearer "
#define HTTP_NOT_FOUND	     404
#define HTTP_UNAVAILABLE     503
#define METRICS_PATH	     "/metrics"
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct http_server {
	struct MHD_Daemon *mhd;
	struct http_server_handlers handlers;
	char api_header[CONF_POLICY_TEXT_LEN];
	int fd;
	struct http_guard guard;
};

/* One request's body as it arrives. */
struct upload {
	char *body;
	size_t len;
	bool too_large;
};

/* The connection's next request starts now; proven: this one carried the key. */
static void note_answer(struct http_server *http, struct MHD_Connection *conn, bool proven)
{
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	if (info)
		http_guard_answered(&http->guard, info->socket_context, proven, clock_now_ns());
}

static enum MHD_Result answer(struct http_server *http, struct MHD_Connection *conn,
			      unsigned int status, const char *body, bool proven)
{
	struct MHD_Response *response =
	    MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!response)
		return MHD_NO;
	note_answer(http, conn, proven);
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	ret = MHD_queue_response(conn, status, response);
	MHD_destroy_response(response);
	return ret;
}

static enum MHD_Result answer_metrics(struct http_server *http, struct MHD_Connection *conn)
{
	struct MHD_Response *response;
	enum MHD_Result ret;
	size_t len = 0;
	char *text = http->handlers.metrics(http->handlers.ctx, &len);

	if (!text)
		return answer(http, conn, HTTP_UNAVAILABLE, "{\"error\": \"metrics unavailable\"}",
			      false);
	response = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!response) {
		free(text);
		return MHD_NO;
	}
	note_answer(http, conn, false);
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, METRICS_CONTENT_TYPE);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, response);
	MHD_destroy_response(response);
	return ret;
}

/*
 * /metrics beside the policy endpoint shows what the endpoint decided: it
 * takes the same key, in the API key header or as a bearer token (what
 * Prometheus' authorization sends). The /metrics-only server has no policy,
 * hence no key: its address is its protection.
 */
static bool metrics_key_ok(struct http_server *http, struct MHD_Connection *conn)
{
	const char *auth =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, http->api_header);

	if (!http->handlers.policy)
		return true;
	if (!key && auth && !strncasecmp(auth, BEARER, strlen(BEARER)))
		key = auth + strlen(BEARER);
	return policy_key_ok(http->handlers.policy, key);
}

/*
 * What a request's first call decides before any body arrives: the metrics
 * page, a refusal, or MHD_YES to go on gathering a policy request's body.
 */
static enum MHD_Result route(struct http_server *http, struct MHD_Connection *conn, const char *url,
			     const char *method, bool *is_policy)
{
	bool is_get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);

	*is_policy = false;
	if (!strcmp(url, METRICS_PATH) && http->handlers.metrics) {
		if (is_get && !metrics_key_ok(http, conn))
			return answer(http, conn, HTTP_UNAUTHORIZED,
				      "{\"error\": \"the API key is needed here\"}", false);
		if (is_get)
			return answer_metrics(http, conn);
		return answer(http, conn, HTTP_NOT_ALLOWED,
			      "{\"error\": \"only GET is served here\"}", false);
	}
	if (!http->handlers.policy)
		return answer(http, conn, HTTP_NOT_FOUND, "{\"error\": \"not found\"}", false);
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return answer(http, conn, HTTP_NOT_ALLOWED,
			      "{\"status\": 0, \"msg\": \"only POST is served\"}", false);
	*is_policy = true;
	return MHD_YES;
}

static enum MHD_Result answer_result(struct http_server *http, struct MHD_Connection *conn,
				     const struct policy_result *result)
{
	if (http->handlers.on_result)
		http->handlers.on_result(http->handlers.ctx, result);
	return answer(http, conn, result->http_status, result->body, result->http_status == 200);
}

static enum MHD_Result answer_too_large(struct http_server *http, struct MHD_Connection *conn)
{
	struct policy_result result;

	policy_refuse_oversized(http->handlers.policy, &result);
	return answer_result(http, conn, &result);
}

static bool declared_too_large(struct MHD_Connection *conn)
{
	const char *length =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long value;
	char *end;

	if (!length)
		return false;
	errno = 0;
	value = strtoull(length, &end, 10);
	return errno == ERANGE || (end != length && value > POLICY_BODY_MAX);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_size, void **con_cls)
{
	struct http_server *http = cls;
	struct upload *upload = *con_cls;
	struct policy_result result;

	(void)version;
	if (!upload) {
		bool is_policy;
		enum MHD_Result routed = route(http, conn, url, method, &is_policy);

		if (!is_policy)
			return routed;
		if (declared_too_large(conn))
			return answer_too_large(http, conn);
		upload = calloc(1, sizeof(*upload));
		if (!upload)
			return MHD_NO;
		*con_cls = upload;
		return MHD_YES;
	}
	if (*data_size) {
		if (!upload->too_large && upload->len + *data_size <= POLICY_BODY_MAX) {
			char *grown = realloc(upload->body, upload->len + *data_size);

			if (!grown)
				return MHD_NO;
			upload->body = grown;
			memcpy(upload->body + upload->len, data, *data_size);
			upload->len += *data_size;
		} else {
			upload->too_large = true; /* the rest is read and dropped */
		}
		*data_size = 0;
		return MHD_YES;
	}
	if (upload->too_large)
		return answer_too_large(http, conn);
	policy_handle(http->handlers.policy,
		      MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "command"),
		      upload->body ? upload->body : "", upload->len,
		      MHD_lookup_connection_value(conn, MHD_HEADER_KIND, http->api_header),
		      clock_now_ns(), &result);
	return answer_result(http, conn, &result);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode code)
{
	struct upload *upload = *con_cls;

	(void)cls;
	(void)conn;
	(void)code;
	if (upload) {
		free(upload->body);
		free(upload);
		*con_cls = NULL;
	}
}

/* Every connection is tracked from its start (the guard may end it at once) to its close. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct http_server *http = cls;
	const union MHD_ConnectionInfo *fd, *addr;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		http_guard_close(&http->guard, *socket_context);
		*socket_context = NULL;
		return;
	}
	fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	addr = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (fd)
		*socket_context = http_guard_open(&http->guard, fd->connect_fd,
						  addr ? addr->client_addr : NULL, clock_now_ns());
}

struct http_server *http_server_new(const char *listen, const char *api_header,
				    const struct http_server_limits *limits,
				    const struct http_server_handlers *handlers,
				    char why[ERRMSG_LEN])
{
	struct sockaddr_storage addr = { 0 };
	char host[CONF_POLICY_TEXT_LEN];
	/* No internal thread: MHD runs only inside MHD_run() (0.9.75 has no
	 * MHD_USE_NO_THREAD_SAFETY; without a polling thread it is implied). */
	unsigned int flags = MHD_USE_EPOLL;
	const union MHD_DaemonInfo *info;
	struct http_server *http;
	unsigned int port;

	if (conf_listen_split(listen, host, &port)) {
		errmsg(why, "policy listen '%s': expected ADDRESS:PORT or [IPV6]:PORT", listen);
		return NULL;
	}
	if (strchr(host, ':')) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&addr;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, host, &in6->sin6_addr);
		flags |= MHD_USE_IPv6;
	} else {
		struct sockaddr_in *in4 = (struct sockaddr_in *)&addr;

		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, host, &in4->sin_addr);
	}
	http = calloc(1, sizeof(*http));
	if (!http) {
		errmsg(why, "out of memory");
		return NULL;
	}
	http->handlers = *handlers;
	http_server_set_api_header(http, api_header);
	http_server_set_limits(http, limits);
	errno = 0;
	/* libmicrohttpd's own bound: the guard's, with room for those it ended. */
	http->mhd = MHD_start_daemon(
	    flags, (uint16_t)port, NULL, NULL, on_request, http, MHD_OPTION_SOCK_ADDR, &addr,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, http, MHD_OPTION_NOTIFY_CONNECTION,
	    on_connection, http, MHD_OPTION_CONNECTION_LIMIT,
	    limits->descriptors + HTTP_ENDING_SLACK, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)HTTP_CONNECTION_TIMEOUT, MHD_OPTION_END);
	if (!http->mhd) {
		errmsg(why, "cannot serve the policy endpoint on %s: %s", listen,
		       errno ? strerror(errno) : "libmicrohttpd refused to start");
		free(http);
		return NULL;
	}
	info = MHD_get_daemon_info(http->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info) {
		errmsg(why, "policy endpoint: libmicrohttpd has no epoll descriptor");
		MHD_stop_daemon(http->mhd);
		free(http);
		return NULL;
	}
	http->fd = info->epoll_fd;
	return http;
}

void http_server_set_api_header(struct http_server *http, const char *api_header)
{
	snprintf(http->api_header, sizeof(http->api_header), "%s", api_header);
}

void http_server_set_limits(struct http_server *http, const struct http_server_limits *limits)
{
	struct http_guard_limits bounds = {
		.max_connections = limits->max_connections < limits->descriptors
				       ? limits->max_connections
				       : limits->descriptors,
		.max_per_client = limits->max_per_client,
		.request_timeout_ns = limits->request_timeout_s * NSEC_PER_SEC,
	};

	http->guard.limits = bounds;
}

void http_server_get_counters(const struct http_server *http, struct http_guard_counters *out)
{
	*out = http->guard.counters;
}

int http_server_fd(const struct http_server *http)
{
	return http->fd;
}

void http_server_run(struct http_server *http)
{
	/* Overdue requests first: this very run closes them. */
	http_guard_expire(&http->guard, clock_now_ns());
	MHD_run(http->mhd);
}

int http_server_timeout_ms(struct http_server *http)
{
	int due = http_guard_next_ms(&http->guard, clock_now_ns());
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(http->mhd, &ms) != MHD_YES)
		return due;
	if (ms > INT_MAX)
		ms = INT_MAX;
	return due >= 0 && (MHD_UNSIGNED_LONG_LONG)due < ms ? due : (int)ms;
}

void http_server_free(struct http_server *http)
{
	if (!http)
		return;
	MHD_stop_daemon(http->mhd);
	http_guard_free(&http->guard);
	free(http);
}
