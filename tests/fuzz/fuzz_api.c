/* fuzz_api: the REST API as a client reaches it, without a socket. Each input is up to six
 * requests (fuzz_common.h's format) run in order through ml_api_dispatch: the router, path
 * ids, query strings (limit, cursor, filters, times), authentication, Idempotency-Key, the
 * JSON body parser and every resource's validation and handler (hosts, services, bookings and
 * their lifecycle bodies, meetings, jobs, connect links, connections, credentials, webhook
 * endpoints and deliveries, templates), plus the hosted pages' routes and the web assets.
 *
 * Invariants, besides no crash and no sanitizer report: every answer passes fz_resp_check
 * (a real status, headers without CR/LF, JSON that parses, the error envelope); a request that
 * carries its own Authorization header that is not the organization's key never gets a 2xx on
 * a route that needs a key.
 */
#include "fuzz_app.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_app_get();
	return 0;
}

/* A route of the REST API's table (the hosted pages route their own, without API keys). */
static bool api_route(const struct ml_route *r)
{
	for (const struct ml_route *t = ml_api_routes; t->method; t++)
		if (t == r)
			return true;
	return false;
}

static void one(void *arg, const char *text, size_t n)
{
	struct fz_app *a = arg;
	const char *from[] = {"$H", "$S", "$B", "$E", "$N"};
	const char *to[] = {a->host_id, a->service_id, a->booking_id, a->endpoint_id, a->last_id};
	struct ml_http_resp resp;
	struct fz_req r;
	char *s = fz_subst(text, &n, from, to, 5);
	bool ok = fz_req_parse(&r, s, n);
	free(s);
	if (!ok) {
		fz_req_free(&r);
		return;
	}
	const char *auth = fz_req_value(&r, MHD_HEADER_KIND, "Authorization");
	bool foreign = false;
	if (!auth) {
		char h[96];
		snprintf(h, sizeof h, "Bearer %s", a->key);
		fz_req_header(&r, "Authorization", h);
	} else {
		foreign = strncasecmp(auth, "Bearer ", 7) != 0 || strcmp(auth + 7, a->key) != 0;
	}
	if (!fz_app_send(a, &r, &resp)) {
		fz_req_free(&r);
		return;
	}
	if (foreign && api_route(r.req.route) && !(r.req.route->flags & ML_ROUTE_PUBLIC) &&
	    resp.status >= 200 && resp.status < 300)
		fz_fail("%s %s answered %d with a wrong API key", r.method, r.path, resp.status);
	fz_resp_free(&resp);
	fz_req_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_app *a = fz_app_get();
	fz_app_input(a);
	fz_split(data, size, 6, one, a);
	return 0;
}
