/* Streamed answers (see ml_http_stream_ops in http.h). Internal to the HTTP layer. */
#ifndef ML_HTTP_STREAM_H
#define ML_HTTP_STREAM_H

#include "http/http.h"

#include <stdbool.h>

struct MHD_Connection;
struct MHD_Response;
struct ml_http_streams;

/* The registry of a server's streams and its keep-alive thread. `pool`: the server's
 * connections share a pool of threads (a quiet stream is suspended); else each has its own
 * thread (a quiet stream's thread sleeps on a condition variable). */
struct ml_http_streams *ml_http_streams_start(bool pool, int idle_ms);
/* A response for conn that reads ops/arg; NULL (and ops->close called) when stopping. */
struct MHD_Response *ml_http_stream_response(struct ml_http_streams *ss,
					     struct MHD_Connection *conn,
					     const struct ml_http_stream_ops *ops, void *arg);
/* Ends every stream and refuses new ones: call before MHD_stop_daemon. */
void ml_http_streams_stop(struct ml_http_streams *ss);
/* After MHD_stop_daemon (every stream closed). Accepts NULL. */
void ml_http_streams_free(struct ml_http_streams *ss);
/* Streams open now. */
size_t ml_http_streams_count(struct ml_http_streams *ss);

#endif
