/* Route tables: a static array of {method, pattern, handler}; patterns are literal segments
 * and `{name}` segments that capture one path segment. The tables double as the list of
 * routes the OpenAPI test compares against the published document. */
#ifndef ML_HTTP_ROUTER_H
#define ML_HTTP_ROUTER_H

#include "http/http.h"

struct ml_route {
	const char *method;
	const char *pattern;
	ml_http_handler fn;
	unsigned flags; /* free for the table's owner (e.g. "no authentication") */
};

/* Finds the route for req->method and req->path in `routes` (terminated by a NULL method),
 * filling req->route and req->params. Returns the route, or NULL with *method_mismatch set
 * when some route matched the path under another method (answer 405). */
const struct ml_route *ml_router_match(const struct ml_route *routes, struct ml_http_req *req,
				       bool *method_mismatch);

#endif
