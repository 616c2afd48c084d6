/* The daemon's API in-process for the harnesses that drive it (fuzz_api, fuzz_webhooks,
 * fuzz_oauth): what `meetlink serve` builds, minus the HTTP server and the worker (the OAuth
 * calls go to fz_curl_transport instead), on a fresh SQLite store in a scratch directory, with one organization, its API key and a few objects
 * (a host, a jitsi service, a booking, a webhook endpoint) to aim at.
 *
 * Inputs name those objects with placeholders the harness replaces before parsing:
 *   $H host id, $S service id, $B booking id, $E webhook endpoint id,
 *   $N the id of the last object an earlier request of the same input created.
 * A request without an Authorization header gets the organization's key. A header
 * "X-Fuzz-Provider: STATUS BODY" queues what the next call to a provider answers
 * (fz_curl_answer): credential checks, token exchanges.
 */
#ifndef ML_TESTS_FUZZ_APP_H
#define ML_TESTS_FUZZ_APP_H

#include "api/api.h"
#include "fuzz_common.h"

struct fz_app {
	struct ml_env app; /* what serve hands the API (queue/env.h), minus server and worker */
	char key[64];
	char host_id[40], service_id[40], booking_id[40], endpoint_id[40];
	char last_id[64]; /* $N */
	unsigned long inputs;
	bool seeded_copy; /* the seeded store is saved (at the first input) */
};

/* Builds the app once (LLVMFuzzerInitialize) and keeps a copy of its seeded store; every
 * FZ_RECYCLE inputs (environment, default 1000; 0: never) fz_app_input() puts that copy back,
 * so the store (and every list answer) stays small. The copy has the same ids, key and
 * secrets: placeholders and connect links stay valid. */
struct fz_app *fz_app_get(void);
/* Call at the start of every input: counts it, recycles the store when due, clears $N. */
void fz_app_input(struct fz_app *a);

/* Substitutes the placeholders, parses one request, adds the API key when the request has no
 * Authorization header (unless no_auth), dispatches it to ml_api_dispatch, checks the answer
 * (fz_resp_check, API errors) and remembers a created id for $N. The answer is the caller's
 * (fz_resp_free). Returns false when the text held no request or it was skipped. */
bool fz_app_request(struct fz_app *a, const char *text, size_t n, struct ml_http_resp *resp,
		    bool no_auth);
/* The same on a request the caller built (after fz_req_parse). false (and no answer) when the
 * request was skipped: it reaches a known defect another change fixes (fuzz_app.c). */
bool fz_app_send(struct fz_app *a, struct fz_req *r, struct ml_http_resp *resp);

#endif
