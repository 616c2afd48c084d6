#include "http/router.h"

#include <string.h>

/* Matches one pattern against a path, writing captured segments into a scratch buffer so
 * that req->params can point into it. */
static bool match(const char *pat, const char *path, struct ml_http_req *req, char *scratch,
		  size_t scratch_len)
{
	int np = 0;
	size_t used = 0;

	while (*pat && *path) {
		if (*pat != '/' || *path != '/')
			return false;
		pat++;
		path++;
		const char *pe = strchr(pat, '/'), *se = strchr(path, '/');
		size_t pl = pe ? (size_t)(pe - pat) : strlen(pat);
		size_t sl = se ? (size_t)(se - path) : strlen(path);
		if (pl > 1 && pat[0] == '{' && pat[pl - 1] == '}') {
			if (sl == 0 || np >= ML_HTTP_MAX_PARAMS || used + sl + 1 > scratch_len)
				return false;
			memcpy(scratch + used, path, sl);
			scratch[used + sl] = '\0';
			req->params[np++] = scratch + used;
			used += sl + 1;
		} else if (pl != sl || memcmp(pat, path, pl) != 0) {
			return false;
		}
		pat += pl;
		path += sl;
	}
	if (*pat || *path)
		return false;
	req->nparams = np;
	return true;
}

const struct ml_route *ml_router_match(const struct ml_route *routes, struct ml_http_req *req,
				       bool *method_mismatch)
{
	/* Captured segments live as long as the request: the path buffer is per request. */
	static _Thread_local char scratch[2048];
	*method_mismatch = false;
	for (const struct ml_route *r = routes; r->method; r++) {
		if (!match(r->pattern, req->path, req, scratch, sizeof scratch))
			continue;
		if (strcmp(r->method, req->method) != 0 &&
		    !(strcmp(r->method, "GET") == 0 && strcmp(req->method, "HEAD") == 0)) {
			*method_mismatch = true;
			continue;
		}
		req->route = r;
		return r;
	}
	return NULL;
}
