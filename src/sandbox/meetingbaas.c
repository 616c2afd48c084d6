/* The MeetingBaas emulator under /meetingbaas (docs/sandbox-meetingbaas.md): the v1 API of
 * specs/meetingbaas/meetingbaas-v1.openapi.json — bots that join a meeting URL and live a
 * simulated life on the sandbox clock, their recordings and transcripts, the calendar
 * integration — authenticated by the x-meeting-baas-api-key header, with the v1 webhooks
 * (bot.status_change, complete, failed, transcription_complete, calendar.sync_events) sent
 * with the same header. Error bodies follow the v2 ErrorResponse schema (v1 documents none).
 * This file: seed, authentication, errors, helpers and the route table. */
#include "sandbox/meetingbaas_internal.h"

#include "core/crypto.h"
#include "core/mem.h"
#include "core/timeutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- errors ----------------------------------------------------------------------------- */

static const char *status_name(int status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 429:
		return "Too Many Requests";
	case 503:
		return "Service Unavailable";
	default:
		return status >= 500 ? "Internal Server Error" : "Error";
	}
}

void ml_mb_err(struct ml_http_resp *resp, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ml_resp_json(resp, status,
	             json_pack("{s:b, s:s, s:s, s:i, s:s, s:n}", "success", 0, "error",
	                       status_name(status), "code", code, "statusCode", status, "message",
	                       msg, "details"));
}

void ml_mb_bad(struct ml_http_resp *resp, const char *field, const char *what)
{
	ml_mb_err(resp, 400, "FST_ERR_VALIDATION", "body%s%s %s", *field ? "/" : "", field, what);
}

static void mb_error(struct ml_http_resp *resp, int status, const char *message)
{
	ml_mb_err(resp, status, status == 429 ? "RATE_LIMIT_EXCEEDED" : "SANDBOX_FAULT", "%s",
	          message);
}

static void mb_not_found(struct ml_http_req *req, struct ml_http_resp *resp, bool mismatch)
{
	ml_mb_err(resp, mismatch ? 405 : 404, mismatch ? "FST_ERR_METHOD" : "FST_ERR_NOT_FOUND",
	          "Route %s:%s not found", req->method, req->path);
}

/* ---- auth ------------------------------------------------------------------------------- */

json_t *ml_mb_auth(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *key = ml_http_header(req, "x-meeting-baas-api-key");
	json_t *found = NULL, *a;
	const char *k;

	/* Every key is compared, in constant time, so the answer's timing says nothing. */
	json_object_foreach(json_object_get(req->user, "accounts"), k, a)
	{
		if (ml_sb_secret_equal(key, ml_sb_str(a, "api_key")))
			found = a;
	}
	if (!found)
		ml_mb_err(resp, 401, "INVALID_API_KEY", "%s",
		          key ? "Invalid API key" : "Missing x-meeting-baas-api-key header");
	return found;
}

/* ---- helpers ---------------------------------------------------------------------------- */

json_int_t ml_mb_next_id(json_t *root, const char *name)
{
	json_t *seq = json_object_get(root, "seq");
	if (!json_is_object(seq)) {
		seq = json_object();
		json_object_set_new(root, "seq", seq);
	}
	json_int_t n = ml_mb_int(seq, name, 0) + 1;
	json_object_set_new(seq, name, json_integer(n));
	return n;
}

static char *uuid_of(uint8_t b[16])
{
	char hex[33];
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	ml_hex_encode(b, 16, hex);
	return ml_asprintf("%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

char *ml_mb_uuid(void)
{
	uint8_t b[16];
	ml_random_pooled(b, sizeof b);
	return uuid_of(b);
}

char *ml_mb_uuid_from(const char *seed)
{
	uint8_t h[32];
	ml_sha256(seed, strlen(seed), h);
	return uuid_of(h);
}

json_t *ml_mb_time(int64_t t)
{
	char ts[ML_RFC3339_MAX];
	if (!ml_time_in_range(t))
		return json_null();
	ml_time_format(t, ts);
	return json_string(ts);
}

json_t *ml_mb_time_ms(int64_t ms)
{
	char ts[ML_RFC3339_MAX], out[ML_RFC3339_MAX + 8];
	if (!ml_time_in_range(ms / 1000))
		return json_null();
	ml_time_format(ms / 1000, ts);
	ts[19] = '\0'; /* drop the Z */
	snprintf(out, sizeof out, "%s.%03dZ", ts, (int)(ms % 1000));
	return json_string(out);
}

bool ml_mb_parse_time(const char *s, int64_t *out)
{
	char buf[64];
	size_t n = s ? strlen(s) : 0;
	if (n < 10 || n > 40)
		return false;
	if (ml_time_parse(s, out) == 0)
		return true;
	/* No offset: read as UTC; a bare date as its midnight. */
	snprintf(buf, sizeof buf, n == 10 ? "%sT00:00:00Z" : "%sZ", s);
	return ml_time_parse(buf, out) == 0;
}

const char *ml_mb_platform(const char *url)
{
	char host[256];
	const char *p;
	if (!url)
		return NULL;
	if (strncasecmp(url, "https://", 8) == 0)
		p = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		p = url + 7;
	else
		return NULL;
	size_t n = strcspn(p, "/:?#");
	if (n == 0 || n >= sizeof host)
		return NULL;
	memcpy(host, p, n);
	host[n] = '\0';
	if (strcasecmp(host, "meet.google.com") == 0)
		return "google_meet";
	if (strcasecmp(host, "zoom.us") == 0 ||
	    (n > 8 && strcasecmp(host + n - 8, ".zoom.us") == 0))
		return "zoom";
	if (strcasecmp(host, "teams.microsoft.com") == 0 || strcasecmp(host, "teams.live.com") == 0)
		return "teams";
	/* The sandbox's own Zoom join URLs (SB/zoom/j/…). */
	const char *base = ml_sb_base_url();
	size_t bl = strlen(base);
	if (strncasecmp(url, base, bl) == 0 && strncmp(url + bl, "/zoom/j/", 8) == 0)
		return "zoom";
	return NULL;
}

bool ml_mb_url_ok(const char *url)
{
	if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
		return false;
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return false;
	return strlen(url) <= 2048;
}

json_int_t ml_mb_int(const json_t *o, const char *key, json_int_t def)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? json_integer_value(v) : def;
}

void ml_mb_set_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, v ? json_string(v) : json_null());
}

json_t *ml_mb_account_by_id(json_t *root, json_int_t id)
{
	char key[24];
	snprintf(key, sizeof key, "%lld", (long long)id);
	return json_object_get(json_object_get(root, "accounts"), key);
}

/* ---- account webhook URL (docs: "the /accounts/webhook_url endpoint") ------------------- */

void ml_mb_webhook_url_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *acct = ml_mb_auth(req, resp);
	if (!acct)
		return;
	json_t *w = json_object_get(acct, "webhook_url");
	ml_resp_json(resp, 200, json_pack("{s:O}", "webhook_url", w ? w : json_null()));
}

void ml_mb_webhook_url_post(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *acct = ml_mb_auth(req, resp);
	if (!acct)
		return;
	json_t *b = ml_sb_json_body(req);
	const char *url = ml_sb_str(b, "webhook_url");
	if (!json_is_object(b))
		ml_mb_bad(resp, "", "must be object");
	else if (!url)
		ml_mb_bad(resp, "webhook_url", "must be string");
	else if (*url && !ml_mb_url_ok(url))
		ml_mb_bad(resp, "webhook_url", "must be an http(s) URL");
	else {
		ml_mb_set_str(acct, "webhook_url", *url ? url : NULL);
		ml_resp_json(resp, 200, json_pack("{s:s}", "webhook_url", url));
	}
	json_decref(b);
}

/* ---- seed and provider ------------------------------------------------------------------ */

static void mb_seed(json_t *root)
{
	json_object_set_new(root, "accounts",
	                    json_pack("{s:{s:i, s:s, s:s, s:n}, s:{s:i, s:s, s:s, s:n}}", "1", "id",
	                              1, "email", "ada@meetingbaas.sandbox.test", "api_key", MB_KEY,
	                              "webhook_url", "2", "id", 2, "email",
	                              "grace@meetingbaas.sandbox.test", "api_key", MB_KEY2,
	                              "webhook_url"));
	const char *objs[] = {"bots", "live", "scripts", "calendars", "events", "seq", NULL};
	for (int i = 0; objs[i]; i++)
		json_object_set_new(root, objs[i], json_object());
	json_object_set_new(root, "outbox", json_array());
	json_object_set_new(root, "webhooks", json_array());
}

static const struct ml_route mb_routes[] = {
    {"POST", "/bots", ml_mb_join, 0},
    {"POST", "/bots/", ml_mb_join, 0},
    {"GET", "/bots/bots_with_metadata", ml_mb_list_bots, 0},
    {"GET", "/bots/meeting_data", ml_mb_meeting_data, 0},
    {"POST", "/bots/retranscribe", ml_mb_retranscribe, 0},
    {"DELETE", "/bots/{uuid}", ml_mb_leave, 0},
    {"POST", "/bots/{uuid}/delete_data", ml_mb_delete_data, 0},
    {"GET", "/bots/{uuid}/screenshots", ml_mb_screenshots, 0},
    {"GET", "/accounts/webhook_url", ml_mb_webhook_url_get, 0},
    {"POST", "/accounts/webhook_url", ml_mb_webhook_url_post, 0},
    {"POST", "/calendars/raw", ml_mb_cal_raw, 0},
    {"POST", "/calendars/resync_all", ml_mb_cal_resync_all, 0},
    {"GET", "/calendars", ml_mb_cal_list, 0},
    {"GET", "/calendars/", ml_mb_cal_list, 0},
    {"POST", "/calendars", ml_mb_cal_create, 0},
    {"POST", "/calendars/", ml_mb_cal_create, 0},
    {"GET", "/calendars/{uuid}", ml_mb_cal_get, 0},
    {"PATCH", "/calendars/{uuid}", ml_mb_cal_patch, 0},
    {"DELETE", "/calendars/{uuid}", ml_mb_cal_delete, 0},
    {"GET", "/calendar_events", ml_mb_events_list, 0},
    {"GET", "/calendar_events/", ml_mb_events_list, 0},
    {"GET", "/calendar_events/{uuid}", ml_mb_event_get, 0},
    {"POST", "/calendar_events/{uuid}/bot", ml_mb_event_schedule, 0},
    {"DELETE", "/calendar_events/{uuid}/bot", ml_mb_event_unschedule, 0},
    {"PATCH", "/calendar_events/{uuid}/bot", ml_mb_event_patch_bot, 0},
    /* The files behind the mp4 / audio / screenshot URLs (S3 at MeetingBaas). */
    {"GET", "/_media/{uuid}/{name}", ml_mb_media_get, 0},
    /* Simulation and inspection (no API key): what tests script and look at. */
    {"GET", "/_sandbox/bots", ml_mb_sim_bots, 0},
    {"POST", "/_sandbox/bots/{uuid}/script", ml_mb_sim_bot_script, 0},
    {"POST", "/_sandbox/bots/{uuid}/admit", ml_mb_sim_admit, 0},
    {"POST", "/_sandbox/bots/{uuid}/end", ml_mb_sim_end, 0},
    {"POST", "/_sandbox/scripts", ml_mb_sim_scripts, 0},
    {"GET", "/_sandbox/calendars", ml_mb_sim_calendars, 0},
    {"POST", "/_sandbox/calendars/{uuid}/events", ml_mb_sim_event_add, 0},
    {"PATCH", "/_sandbox/calendar_events/{uuid}", ml_mb_sim_event_change, 0},
    {"DELETE", "/_sandbox/calendar_events/{uuid}", ml_mb_sim_event_cancel, 0},
    {"POST", "/_sandbox/accounts", ml_mb_sim_accounts, 0},
    {"GET", "/_sandbox/webhooks", ml_mb_sim_webhooks, 0},
    {NULL, NULL, NULL, 0},
};

/* Settings (POST /_sandbox/config {"meetingbaas": {...}}); durations in sandbox seconds. */
static const char mb_defaults[] =
    "{\"webhook_url\": null,"
    " \"join_seconds\": 2, \"waiting_room_seconds\": 3, \"admit_seconds\": 2,"
    " \"recording_seconds\": 300, \"processing_seconds\": 10,"
    " \"retranscribe_seconds\": 10, \"dedup_window_seconds\": 300,"
    " \"media_url_ttl\": 7200, \"webhook_retries\": true,"
    " \"calendar_events_page_size\": 50, \"calendar_join_lead_seconds\": 60}";

const struct ml_sb_provider ml_sb_meetingbaas = {
    .name = MBP,
    .prefix = "/meetingbaas",
    .routes = mb_routes,
    .seed = mb_seed,
    .defaults = mb_defaults,
    .not_found = mb_not_found,
    .error = mb_error,
    .tick = ml_mb_tick,
};
