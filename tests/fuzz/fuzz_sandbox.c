/* fuzz_sandbox: `meetlink sandbox`'s request parsing, in-process through ml_sb_dispatch: the
 * control API (/_sandbox/…: fault rules, clock, config, reset, revocation, the request log's
 * filters), every provider's JSON and form bodies, query strings (Google's `fields`
 * selection, paging), OAuth consent pages and token endpoints (Basic and form client
 * authentication, PKCE), Twilio's form-encoded Rooms API, and the fault engine applied to all
 * of them. Each input is up to six requests (fuzz_common.h's format), on a sandbox reset to its
 * seeded state before the input (the providers the previous input reached are reseeded).
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

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char last_access[256], last_refresh[256], last_code[256], last_id[128];
/* The providers whose state the last input may have changed: reseeding one costs as much as
 * a request or two, so only those are reset (bit i: ml_sb_providers[i]). */
static unsigned dirty = ~0u;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct ml_sb_options opt = {.log_capacity = 64};
	if (ml_sb_init(&opt) < 0)
		fz_fail("ml_sb_init");
	ml_sb_set_base_url("http://127.0.0.1:9");
	/* A reference of the harness's own: the curl_global_cleanup/init pair after each input
	 * (ml_sb_webhook_shutdown/init) then only counts, instead of tearing libcurl and its TLS
	 * library down and up again every time. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return 0;
}

/* What a request can change, as ml_sb_dispatch routes it: the control API anything, a
 * provider's path that provider's state (its handlers get only their own root), any other
 * path nothing (404). */
static void note_dirty(const char *path)
{
	if (strncmp(path, "/_sandbox/", 10) == 0 || strcmp(path, "/_sandbox") == 0) {
		dirty = ~0u;
		return;
	}
	for (int i = 0; ml_sb_providers[i]; i++) {
		size_t n = strlen(ml_sb_providers[i]->prefix);
		if (strncmp(path, ml_sb_providers[i]->prefix, n) == 0 &&
		    (path[n] == '/' || path[n] == '\0'))
			dirty |= 1u << i;
	}
}

static void reset(void)
{
	ml_sb_lock();
	for (int i = 0; ml_sb_providers[i]; i++)
		if (dirty & (1u << i))
			ml_sb_reset_provider(i);
	dirty = 0;
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
	note_dirty(r.req.path);
	fz_dispatch(ml_sb_dispatch, &r.req, &resp);
	json_t *j = fz_resp_check_json(&resp, false);
	if (getenv("FZ_TRACE"))
		fprintf(stderr, "%s %s -> %d %.*s\n", r.method, r.path, resp.status,
			(int)(resp.body_len > 200 ? 200 : resp.body_len), resp.body ? resp.body : "");
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
