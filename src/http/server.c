#include "http/http.h"
#include "http/defer.h"
#include "http/guard.h"
#include "http/stream.h"
#include "core/error.h"
#include "core/json_text.h"
#include "core/log.h"
#include "core/url.h"
#include "core/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct ml_http_server {
	struct MHD_Daemon *mhd;
	struct ml_http_config cfg;
	struct ml_http_defer *defer; /* the pool's deferred requests; NULL per connection */
	struct ml_http_streams *streams; /* streamed answers (Server-Sent Events) */
	int fd;
	int port;
};

/* Per-request state, alive from the first call of the access handler to completion. */
struct conn_ctx {
	struct ml_buf body;
	char *raw_uri;   /* the request target as sent (before percent-decoding) */
	bool started;    /* the access handler has seen the headers */
	bool refused;    /* answered from the headers: the rest of the stream is not read */
	bool too_big;
	void *pending; /* a deferred request's dispatcher state (ml_http_req.pending) */
	void (*pending_free)(void *pending);
};

static void resp_reset_body(struct ml_http_resp *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}

void ml_resp_header(struct ml_http_resp *resp, const char *name, const char *value)
{
	if (resp->nheaders >= ML_HTTP_MAX_HEADERS)
		return;
	resp->headers[resp->nheaders].name = ml_strdup(name);
	resp->headers[resp->nheaders].value = ml_strdup(value);
	resp->nheaders++;
}

void ml_resp_body_steal(struct ml_http_resp *resp, int status, const char *content_type,
			char *body, size_t n)
{
	resp_reset_body(resp);
	resp->status = status;
	snprintf(resp->content_type, sizeof resp->content_type, "%s", content_type);
	resp->body = body;
	resp->body_len = n;
}

void ml_resp_body(struct ml_http_resp *resp, int status, const char *content_type,
		  const void *body, size_t n)
{
	ml_resp_body_steal(resp, status, content_type, ml_strndup(body, n), n);
}

/* What is answered when a response cannot be serialized: nothing of the input in it. */
static const char serialize_failed[] =
	"{\"error\":{\"code\":\"internal_error\",\"message\":\"Something went wrong on our "
	"side.\"}}";

void ml_resp_json(struct ml_http_resp *resp, int status, json_t *json)
{
	char *s = ml_json_text(json);
	json_decref(json);
	if (!s) {
		/* jansson refused a value (a string that is not UTF-8, a NULL from a failed
		 * json_pack): a bug upstream of here, never a reason to stop the process. */
		ml_err("http: a %d response could not be serialized; answered 500", status);
		ml_resp_body(resp, 500, "application/json", serialize_failed,
			     sizeof serialize_failed - 1);
		return;
	}
	ml_resp_body_steal(resp, status, "application/json", s, strlen(s));
}

void ml_resp_error(struct ml_http_resp *resp, int status, const char *code, const char *field,
		   const char *message)
{
	/* json_pack yields NULL for a string that is not UTF-8; ml_resp_json answers 500 then. */
	json_t *e = json_pack("{s:s, s:s}", "code", code, "message", message);
	if (e && field && *field)
		json_object_set_new(e, "field", json_string(field));
	ml_resp_json(resp, status, e ? json_pack("{s:o}", "error", e) : NULL);
}

void ml_resp_errno(struct ml_http_resp *resp, int err)
{
	const char *code = ml_error_code();
	const char *msg = ml_error_message();
	int status = ml_error_http_status(err);
	if (!*code)
		code = status == 500 ? "internal_error" : "error";
	if (!*msg)
		msg = status == 500 ? "Something went wrong on our side." : "The request failed.";
	ml_resp_error(resp, status, code, ml_error_field(), msg);
}

void ml_resp_stream(struct ml_http_resp *resp, int status, const char *content_type,
		    const struct ml_http_stream_ops *ops, void *arg)
{
	resp_reset_body(resp);
	resp->status = status;
	snprintf(resp->content_type, sizeof resp->content_type, "%s", content_type);
	resp->stream = ops;
	resp->stream_arg = arg;
}

void ml_resp_redirect(struct ml_http_resp *resp, int status, const char *location)
{
	ml_resp_header(resp, "Location", location);
	ml_resp_body(resp, status, "text/plain; charset=utf-8", "", 0);
}

const char *ml_http_header(const struct ml_http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *ml_http_query(const struct ml_http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *ml_http_cookie(const struct ml_http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

struct each {
	void (*fn)(void *arg, const char *name, const char *value);
	void *arg;
};

static enum MHD_Result each_cb(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *value)
{
	struct each *e = cls;
	(void)kind;
	e->fn(e->arg, key, value ? value : "");
	return MHD_YES;
}

int ml_http_headers_each(const struct ml_http_req *req,
			 void (*fn)(void *arg, const char *name, const char *value), void *arg)
{
	struct each e = {fn, arg};
	return MHD_get_connection_values(req->conn, MHD_HEADER_KIND, each_cb, &e);
}

int ml_http_query_each(const struct ml_http_req *req,
		       void (*fn)(void *arg, const char *name, const char *value), void *arg)
{
	struct each e = {fn, arg};
	return MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, each_cb, &e);
}


static char *form_unescape(const char *s, size_t n)
{
	char *out = ml_malloc(n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			*o++ = ' ';
		} else if (s[i] == '%' && i + 2 < n && ml_url_hexval(s[i + 1]) >= 0 &&
			   ml_url_hexval(s[i + 2]) >= 0) {
			*o++ = (char)(ml_url_hexval(s[i + 1]) << 4 | ml_url_hexval(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

json_t *ml_form_decode(const char *body, size_t n)
{
	json_t *obj = json_object();
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && body[j] != '&')
			j++;
		if (j > i) {
			const char *eq = memchr(body + i, '=', j - i);
			size_t kl = eq ? (size_t)(eq - (body + i)) : j - i;
			char *k = form_unescape(body + i, kl);
			char *v = eq ? form_unescape(eq + 1, (size_t)(body + j - eq - 1))
				     : ml_strdup("");
			json_object_set_new(obj, k, json_string(v));
			free(k);
			free(v);
		}
		i = j + 1;
	}
	return obj;
}

static enum MHD_Result send_resp(struct ml_http_server *srv, struct MHD_Connection *conn,
				 struct ml_http_resp *resp)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (resp->stream) {
		const struct ml_http_stream_ops *ops = resp->stream;
		resp->stream = NULL; /* the stream's now, closed by it */
		r = ml_http_stream_response(srv->streams, conn, ops, resp->stream_arg);
		if (!r) {
			/* Stopping: the stream was closed already. */
			ml_resp_error(resp, 503, "unavailable", NULL, "The server is stopping.");
			return send_resp(srv, conn, resp);
		}
		/* A proxy must neither buffer nor transform an event stream. */
		MHD_add_response_header(r, "Cache-Control", "no-store");
		MHD_add_response_header(r, "X-Accel-Buffering", "no");
	} else {
		r = MHD_create_response_from_buffer(resp->body_len, resp->body,
						    MHD_RESPMEM_MUST_FREE);
	}
	resp->body = NULL;
	if (resp->content_type[0])
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	for (int i = 0; i < resp->nheaders; i++)
		MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
	ret = MHD_queue_response(conn, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static void resp_free(struct ml_http_resp *resp)
{
	if (resp->stream)
		resp->stream->close(resp->stream_arg); /* never started */
	free(resp->body);
	for (int i = 0; i < resp->nheaders; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
}

static void body_too_large(const struct ml_http_server *srv, struct ml_http_resp *resp)
{
	char msg[128];
	snprintf(msg, sizeof msg, "The request body is larger than %zu bytes.", srv->cfg.max_body);
	ml_resp_error(resp, 413, "body_too_large", NULL, msg);
}

/* long: libmicrohttpd calls this several times per request (the head, each piece of the
 * body, the end, again after a resume); its branches are those calls, in the order they
 * come, sharing the connection's context. */
static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	struct ml_http_server *srv = cls;
	struct conn_ctx *ctx = *con_cls;
	struct ml_http_resp resp = {0};
	enum MHD_Result ret;

	if (!ctx) {
		ctx = ml_calloc(1, sizeof *ctx); /* uri_log_cb made none: no raw target to check */
		*con_cls = ctx;
	}
	if (ctx->refused) {
		*upload_data_size = 0; /* never read: the connection closes after the answer */
		return MHD_YES;
	}
	if (!ctx->started) {
		/* First call: headers only. Answering here forces Connection: close (see
		 * STACK.md), which is what a refused head needs: its framing cannot be trusted
		 * to say where the next request starts. */
		ctx->started = true;
		if (ml_http_guard_head(conn, version, ctx->raw_uri, url, srv->cfg.routes,
				       &resp)) {
			/* A declared length over the limit is refused before any of the body
			 * is read; a chunked one is counted as it arrives. */
			const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
								     "Content-Length");
			if (!cl || strtoull(cl, NULL, 10) <= srv->cfg.max_body)
				return MHD_YES;
			body_too_large(srv, &resp);
		}
		ctx->refused = true;
		ml_resp_header(&resp, "Connection", "close");
		ret = send_resp(srv, conn, &resp);
		resp_free(&resp);
		return ret;
	}
	if (*upload_data_size) {
		if (!ctx->too_big && ctx->body.len + *upload_data_size <= srv->cfg.max_body)
			ml_buf_append(&ctx->body, upload_data, *upload_data_size);
		else
			ctx->too_big = true;
		*upload_data_size = 0;
		return MHD_YES;
	}

	if (ctx->too_big) {
		body_too_large(srv, &resp);
	} else {
		struct ml_http_req req = {0};
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		req.method = method;
		req.path = url;
		req.body = ctx->body.data ? ctx->body.data : "";
		req.body_len = ctx->body.len;
		req.conn = conn;
		req.app = srv->cfg.app;
		if (ci && ci->client_addr) {
			const struct sockaddr *sa = ci->client_addr;
			if (sa->sa_family == AF_INET)
				inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
					  req.remote_ip, sizeof req.remote_ip);
			else if (sa->sa_family == AF_INET6)
				inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
					  req.remote_ip, sizeof req.remote_ip);
		}
		req.pending = ctx->pending;
		req.pending_free = ctx->pending_free;
		ctx->pending = NULL; /* the dispatcher's again */
		for (;;) {
			resp.status = 500;
			ml_error_clear();
			srv->cfg.dispatch(&req, &resp);
			if (resp.defer_ms <= 0)
				break;
			int64_t ms = resp.defer_ms;
			resp_free(&resp);
			memset(&resp, 0, sizeof resp);
			if (srv->defer) {
				ctx->pending = req.pending;
				ctx->pending_free = req.pending_free;
				if (ml_http_defer_add(srv->defer, conn, ms))
					return MHD_YES; /* called again once resumed */
				/* Stopping: answer now. */
				ctx->pending = NULL;
			} else {
				/* The connection's own thread: waiting here holds up no other. */
				struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
				while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
					;
			}
		}
	}
	if (resp.drop) {
		resp_free(&resp);
		return MHD_NO;
	}
	if (!resp.body && !resp.content_type[0])
		ml_resp_body(&resp, resp.status, "text/plain; charset=utf-8", "", 0);
	ret = send_resp(srv, conn, &resp);
	resp_free(&resp);
	return ret;
}

/* Called as the request line is parsed, before any header: the target as sent, which the
 * access handler only sees decoded (and cut at a %00). Its return value becomes *con_cls. */
static void *uri_log_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct conn_ctx *ctx = ml_calloc(1, sizeof *ctx);
	(void)cls;
	(void)conn;
	ctx->raw_uri = ml_strdup(uri ? uri : "");
	return ctx;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct conn_ctx *ctx = *con_cls;
	(void)cls;
	(void)conn;
	(void)toe;
	if (!ctx)
		return;
	if (ctx->pending && ctx->pending_free)
		ctx->pending_free(ctx->pending);
	ml_buf_free(&ctx->body);
	free(ctx->raw_uri);
	free(ctx);
	*con_cls = NULL;
}

static int parse_listen(const char *listen, struct sockaddr_in *sa)
{
	const char *colon = strrchr(listen, ':');
	char host[64];
	char *end;
	long port;

	if (!colon || (size_t)(colon - listen) >= sizeof host)
		return ml_error_set(ML_EINVAL, "invalid_config", "MEETLINK_LISTEN",
				    "listen address must be host:port, got '%s'", listen);
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535)
		return ml_error_set(ML_EINVAL, "invalid_config", "MEETLINK_LISTEN",
				    "bad port in '%s'", listen);
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof host, "127.0.0.1");
	if (inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &sa->sin_addr) != 1)
		return ml_error_set(ML_EINVAL, "invalid_config", "MEETLINK_LISTEN",
				    "bad IPv4 address in '%s'", listen);
	return 0;
}

int ml_http_start(struct ml_http_server **out, const struct ml_http_config *cfg)
{
	struct ml_http_server *srv;
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	unsigned flags;
	int rc, fd, one = 1;

	if ((rc = parse_listen(cfg->listen, &sa)) < 0)
		return rc;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ml_error_set(ML_EUNAVAIL, "listen_failed", NULL, "socket: %s",
				    strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4096) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		rc = ml_error_set(ML_EUNAVAIL, "listen_failed", NULL, "cannot listen on %s: %s",
				  cfg->listen, strerror(errno));
		close(fd);
		return rc;
	}
	srv = ml_calloc(1, sizeof *srv);
	srv->cfg = *cfg;
	if (!srv->cfg.max_body)
		srv->cfg.max_body = 1 << 20;
	srv->fd = fd;
	srv->port = ntohs(sa.sin_port);
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	if (cfg->pool)
		flags |= MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME; /* deferred requests */
	else
		flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
	struct MHD_OptionItem ops[] = {
		{MHD_OPTION_CONNECTION_LIMIT, cfg->conn_limit ? cfg->conn_limit : 10000, NULL},
		{MHD_OPTION_CONNECTION_TIMEOUT, 120, NULL},
		/* Each connection's memory pool (request line, headers, buffers) is touched whole
		 * by libmicrohttpd: 32 KiB by default was ~37 KB of RSS per keep-alive connection
		 * and ~30 KB per live page (a waiting guest, bench/README.md). 12 KiB holds a
		 * target up to our 8192-byte limit and a few KiB of headers; more answers 431. */
		{MHD_OPTION_CONNECTION_MEMORY_LIMIT, 12 * 1024, NULL},
		{cfg->pool ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_THREAD_STACK_SIZE,
		 cfg->pool ? (intptr_t)cfg->pool : 256 * 1024, NULL},
		{MHD_OPTION_END, 0, NULL},
	};
	if (cfg->pool)
		srv->defer = ml_http_defer_start();
	srv->streams = ml_http_streams_start(cfg->pool != 0, cfg->stream_idle_ms);
	srv->mhd = MHD_start_daemon(flags, 0, NULL, NULL, access_cb, srv, MHD_OPTION_LISTEN_SOCKET,
				    fd, MHD_OPTION_NOTIFY_COMPLETED, completed_cb, srv,
				    MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, srv,
				    MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
	if (!srv->mhd) {
		ml_http_defer_stop(srv->defer);
		ml_http_streams_stop(srv->streams);
		ml_http_streams_free(srv->streams);
		close(fd);
		free(srv);
		return ml_error_set(ML_EUNAVAIL, "listen_failed", NULL,
				    "libmicrohttpd failed to start on %s", cfg->listen);
	}
	*out = srv;
	return 0;
}

int ml_http_port(const struct ml_http_server *srv)
{
	return srv->port;
}

void ml_http_stop(struct ml_http_server *srv)
{
	if (!srv)
		return;
	ml_http_defer_stop(srv->defer); /* MHD must not stop with suspended connections */
	ml_http_streams_stop(srv->streams); /* the same, and no stream may outlive it */
	MHD_stop_daemon(srv->mhd);
	ml_http_streams_free(srv->streams);
	close(srv->fd);
	free(srv);
}
