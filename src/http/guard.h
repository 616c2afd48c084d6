/* What a request's head must satisfy before its body is read or a dispatcher sees it
 * (guard.c). Internal to the HTTP layer. */
#ifndef ML_HTTP_GUARD_H
#define ML_HTTP_GUARD_H

#include "http/http.h"

#include <stdbool.h>

#define ML_HTTP_MAX_URI 8192 /* longer request targets answer 414 */

/* Checks the request whose headers just arrived: its framing (RFC 9112 §6.3: one
 * Content-Length of digits or one Transfer-Encoding that is exactly "chunked", never both),
 * one Host on HTTP/1.1, header names that are tokens and values without control characters,
 * and a target (raw_uri as sent, path and query as decoded) that is clean UTF-8 (core/text.h)
 * of at most ML_HTTP_MAX_URI bytes; a refused path names the {param} of `routes` (may be NULL)
 * its bad bytes fall in, else "path". Returns true when the request may go on; false with
 * `resp` holding the JSON error (400 or 414), which must be sent with the connection closed:
 * after a refused head the rest of the stream cannot be trusted to start a request. */
bool ml_http_guard_head(struct MHD_Connection *conn, const char *version, const char *raw_uri,
			const char *path, const struct ml_route *routes,
			struct ml_http_resp *resp);

#endif
