/* fuzz_sandbox: `meetlink sandbox`'s request parsing, in-process through ml_sb_dispatch: the
 * control API (/_sandbox/…: fault rules, clock, config, reset, revocation, the request log's
 * filters), every provider's JSON and form bodies, query strings (Google's `fields`
 * selection, paging), OAuth consent pages and token endpoints (Basic and form client
 * authentication, PKCE), Twilio's form-encoded Rooms API, and the fault engine applied to all
 * of them. Each input is up to six requests (fuzz_common.h's format), on a sandbox reset to its
 * seeded state before the input.
 *
 * Placeholders, replaced from earlier answers of the same input: $A the last access_token, $R
 * the last refresh_token, $C the last authorization code (from a redirect's Location), $N the
 * last "id" or "sid". Invariants: every answer passes fz_resp_check (a real status, headers
 * without CR/LF, JSON that parses); outbound webhooks never leave the process
 * (curl_easy_perform is the harness's).
 */
#include "fuzz_common.h"

#include "core/mem.h"
#include "sandbox/sandbox.h"
#include "sandbox/sb_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char last_access[256], last_refresh[256], last_code[256], last_id[128];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct ml_sb_options opt = {.log_capacity = 64};
	if (ml_sb_init(&opt) < 0)
		fz_fail("ml_sb_init");
	ml_sb_set_base_url("http://127.0.0.1:9");
	return 0;
}

static void reset(void)
{
	ml_sb_lock();
	for (int i = 0; ml_sb_providers[i]; i++)
		ml_sb_reset_provider(i);
	ml_sb_clock_advance(-ml_sb_clock_offset());
	ml_sb_unlock();
	ml_sb_faults_clear();
	ml_sb_log_clear();
	fz_curl_clear();
	last_access[0] = last_refresh[0] = last_code[0] = last_id[0] = '\0';
}

static void remember(const char *s, char *out, size_t n)
{
	if (s && strlen(s) < n)
		snprintf(out, n, "%s", s);
}

static void one(void *arg, const char *text, size_t n)
{
	const char *from[] = {"$A", "$R", "$C", "$N"};
	const char *to[] = {last_access, last_refresh, last_code, last_id};
	struct ml_http_resp resp;
	struct fz_req r;
	char *s = fz_subst(text, &n, from, to, 4);
	bool ok = fz_req_parse(&r, s, n);
	free(s);
	(void)arg;
	if (!ok) {
		fz_req_free(&r);
		return;
	}
	fz_dispatch(ml_sb_dispatch, &r.req, &resp);
	fz_resp_check(&resp, false);
	if (getenv("FZ_TRACE"))
		fprintf(stderr, "%s %s -> %d %.*s\n", r.method, r.path, resp.status,
			(int)(resp.body_len > 200 ? 200 : resp.body_len), resp.body ? resp.body : "");
	json_t *j = fz_resp_json(&resp);
	remember(json_string_value(json_object_get(j, "access_token")), last_access,
		 sizeof last_access);
	remember(json_string_value(json_object_get(j, "refresh_token")), last_refresh,
		 sizeof last_refresh);
	json_t *id = json_object_get(j, "id");
	if (json_is_integer(id))
		snprintf(last_id, sizeof last_id, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
	else
		remember(json_string_value(id), last_id, sizeof last_id);
	remember(json_string_value(json_object_get(j, "sid")), last_id, sizeof last_id);
	json_decref(j);
	const char *loc = fz_resp_header(&resp, "Location");
	const char *code = loc ? strstr(loc, "code=") : NULL;
	if (code) {
		size_t cl = strcspn(code + 5, "&#");
		if (cl < sizeof last_code) {
			memcpy(last_code, code + 5, cl);
			last_code[cl] = '\0';
		}
	}
	fz_resp_free(&resp);
	fz_req_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	reset();
	fz_split(data, size, 6, one, NULL);
	/* Webhooks the input made the providers send (Twilio status callbacks, Zoom events) run
	 * on threads of their own: wait for them, so that what they hold is not taken for a leak
	 * of this input (and no thread outlives it). */
	ml_sb_webhook_shutdown();
	ml_sb_webhook_init();
	return 0;
}
