/* The HTTP layer shared by the daemon and the sandbox: a libmicrohttpd server that collects
 * a bounded request body, hands the whole request to one dispatch function, and sends the
 * response that function filled in.
 *
 * Threading: one thread per connection (poll), so a handler may block (on the store's group
 * commit) without stalling other connections; or a pool of epoll threads, where a handler
 * must not block. Either way a dispatcher can answer later (resp->defer_ms): the connection's
 * thread sleeps, or in the pool the connection is suspended while no thread waits for it.
 */
#ifndef ML_HTTP_HTTP_H
#define ML_HTTP_HTTP_H

#include "core/url.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ML_HTTP_MAX_PARAMS 6
#define ML_HTTP_MAX_HEADERS 16

struct MHD_Connection;
struct ml_route;
struct ml_http_stream;

/* A streamed answer (Server-Sent Events): its body is produced piece by piece, for as long
 * as the stream lasts, without holding a thread of the pool while nothing is to be sent.
 * The server calls the ops, never two at once for one stream. */
struct ml_http_stream_ops {
	/* Once the server holds the stream, before the first read: the handle to wake. */
	void (*attach)(void *arg, struct ml_http_stream *s);
	/* Writes what is to be sent now into buf (at most max bytes) and returns its length;
	 * 0: nothing now (the stream sleeps until ml_http_stream_wake, or until it has been
	 * quiet for the server's idle time: then read is called with idle true, the moment for
	 * a keep-alive); < 0: the end. */
	long (*read)(void *arg, char *buf, size_t max, bool idle);
	/* The stream is over (ended, the client went away, the server stops): called once,
	 * after every other call; arg is the callee's to free. */
	void (*close)(void *arg);
};

struct ml_http_req {
	const char *method; /* "GET", "POST", ... */
	const char *path;   /* decoded path, without the query string */
	const char *body;   /* NUL-terminated; "" when empty */
	size_t body_len;
	char remote_ip[48];
	/* Filled by ml_router_match(): the route and its {param} values, in pattern order. */
	const struct ml_route *route;
	const char *params[ML_HTTP_MAX_PARAMS];
	int nparams;
	void *app;  /* the server's app pointer */
	void *user; /* free for the dispatcher (e.g. the authenticated principal) */
	struct MHD_Connection *conn;
	/* What a dispatcher that deferred the request (resp->defer_ms) left for the next call;
	 * NULL on the first. The dispatcher takes it back then; pending_free releases it if the
	 * connection ends before. */
	void *pending;
	void (*pending_free)(void *pending);
};

struct ml_http_resp {
	int status;
	char *body; /* owned; freed after sending */
	size_t body_len;
	char content_type[64];
	struct {
		char *name, *value;
	} headers[ML_HTTP_MAX_HEADERS];
	int nheaders;
	bool drop; /* close the connection without answering */
	/* Answer later: nothing set here is sent, and the same request is dispatched again
	 * after defer_ms milliseconds (sooner while the server stops), with req->pending. */
	int64_t defer_ms;
	/* A streamed body (ml_resp_stream) instead of `body`. */
	const struct ml_http_stream_ops *stream;
	void *stream_arg;
};

typedef void (*ml_http_handler)(struct ml_http_req *req, struct ml_http_resp *resp);

struct ml_http_config {
	const char *listen;  /* "127.0.0.1:8080"; port 0 picks a free one */
	size_t max_body;     /* larger bodies answer 413 */
	unsigned pool;       /* 0: thread per connection; N: a pool of N epoll threads */
	unsigned conn_limit; /* 0: 10000 */
	ml_http_handler dispatch;
	void *app;
	/* Optional (NULL-method terminated, http/router.h): when a path is refused for bytes
	 * that are not clean text, the {param} they fall in is named in the error's field. */
	const struct ml_route *routes;
	/* Streams quiet this long are asked for a keep-alive (0: 15000 ms). */
	int stream_idle_ms;
};

struct ml_http_server;

/* Starts serving. Returns 0, or ML_EINVAL (bad listen address) / ML_EUNAVAIL (bind failed)
 * with the detail in ml_error_message(). */
int ml_http_start(struct ml_http_server **out, const struct ml_http_config *cfg);
/* The bound port (useful with port 0). */
int ml_http_port(const struct ml_http_server *srv);
/* Stops accepting, waits for running handlers, frees. Accepts NULL. */
void ml_http_stop(struct ml_http_server *srv);

/* Request accessors (values borrowed for the request's lifetime; NULL when absent). */
const char *ml_http_header(const struct ml_http_req *req, const char *name);
const char *ml_http_query(const struct ml_http_req *req, const char *name);
const char *ml_http_cookie(const struct ml_http_req *req, const char *name);
/* Calls fn for every request header, then returns the count. */
int ml_http_headers_each(const struct ml_http_req *req,
			 void (*fn)(void *arg, const char *name, const char *value), void *arg);
/* Calls fn for every query argument. */
int ml_http_query_each(const struct ml_http_req *req,
		       void (*fn)(void *arg, const char *name, const char *value), void *arg);

/* Response builders. Each replaces any earlier body. */
void ml_resp_header(struct ml_http_resp *resp, const char *name, const char *value);
void ml_resp_body(struct ml_http_resp *resp, int status, const char *content_type,
		  const void *body, size_t n);
/* Takes ownership of a malloc'd body. */
void ml_resp_body_steal(struct ml_http_resp *resp, int status, const char *content_type,
			char *body, size_t n);
/* Serializes and takes the reference of `json` (it is decref'd). */
void ml_resp_json(struct ml_http_resp *resp, int status, json_t *json);
/* {"error":{"code":…,"message":…,"field":…}} with the given status. */
void ml_resp_error(struct ml_http_resp *resp, int status, const char *code, const char *field,
		   const char *message);
/* The error body for a negative ML_E* code, from the thread-local error detail. */
void ml_resp_errno(struct ml_http_resp *resp, int err);
void ml_resp_redirect(struct ml_http_resp *resp, int status, const char *location);
/* Answers with a stream (see struct ml_http_stream_ops): the server owns arg from here and
 * always ends with ops->close(arg), even when the stream never starts. */
void ml_resp_stream(struct ml_http_resp *resp, int status, const char *content_type,
		    const struct ml_http_stream_ops *ops, void *arg);
/* Something is to be sent on s: its read runs soon (on a server thread). Thread-safe; only
 * between attach and close. */
void ml_http_stream_wake(struct ml_http_stream *s);

/* Decodes application/x-www-form-urlencoded into a JSON object of strings (a repeated key
 * keeps the last value). */
json_t *ml_form_decode(const char *body, size_t n);

#endif
