/* MeetingBaas /calendars/…: a calendar is integrated from a Google or Microsoft OAuth client
 * (id, secret) and a user's refresh token. The sandbox checks them against its own Google
 * and Microsoft emulators (the client exists, the secret matches, the refresh token is live
 * and was issued to that client), as MeetingBaas would by refreshing at the provider: so a
 * host connected to the sandbox's Google can be integrated, and a revoked grant shows. The
 * calendar's events are a fake, deterministic calendar (below) that the simulation API can
 * change; every change is told with calendar.sync_events. */
#include "sandbox/meetingbaas_internal.h"

#include "core/crypto.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- OAuth credentials ------------------------------------------------------------------ */

/* The account (email) the credentials act for, or NULL with *why. */
static const char *oauth_account(const json_t *body, const char **why)
{
	const char *platform = ml_sb_str(body, "platform");
	bool google = platform && !strcmp(platform, "Google");
	json_t *root = ml_sb_root(google ? "google" : "microsoft");
	json_t *clients = json_object_get(root, google ? "clients" : "apps");
	json_t *client = json_object_get(clients, ml_sb_str(body, "oauth_client_id"));
	if (!client || !ml_sb_secret_equal(ml_sb_str(client, "client_secret"),
	                                   ml_sb_str(body, "oauth_client_secret"))) {
		*why = "invalid_client: the OAuth client id or secret is wrong";
		return NULL;
	}
	const char *w = NULL;
	json_t *tok =
	    ml_sb_token_check(root, ml_sb_str(body, "oauth_refresh_token"), "refresh", &w);
	const char *cid = ml_sb_str(tok, "client_id");
	if (!tok || !cid || strcmp(cid, ml_sb_str(body, "oauth_client_id")) != 0) {
		*why = "invalid_grant: the refresh token is expired, revoked or not this client's";
		return NULL;
	}
	return ml_sb_str(tok, "account");
}

static bool creds_still_valid(const json_t *cal)
{
	json_t *b = json_pack("{s:O, s:O, s:O, s:O}", "platform", json_object_get(cal, "platform"),
	                      "oauth_client_id", json_object_get(cal, "oauth_client_id"),
	                      "oauth_client_secret", json_object_get(cal, "oauth_client_secret"),
	                      "oauth_refresh_token", json_object_get(cal, "oauth_refresh_token"));
	const char *why;
	bool ok = oauth_account(b, &why) != NULL;
	json_decref(b);
	return ok;
}

/* The raw calendars of an account: the primary one, and a holidays calendar. */
static json_t *raw_list(const char *email)
{
	return json_pack("[{s:s, s:s, s:b}, {s:s, s:s, s:b}]", "id", email, "email", email,
	                 "is_primary", 1, "id", "en.usa#holiday@group.v.calendar.google.com",
	                 "email", email, "is_primary", 0);
}

/* ---- the fake calendar ------------------------------------------------------------------ */

static json_t *hour(int64_t day0, int d, int h, int m)
{
	return json_integer(day0 + (int64_t)d * 86400 + h * 3600 + m * 60);
}

/* The provider's events of a calendar, deterministic from its uuid and creation day:
 *   "Daily standup"  days 1–5, 09:00–09:15 UTC, recurring, Google Meet
 *   "Design review"  day 1, 14:00–15:00, Zoom
 *   "Lunch"          day 1, 12:00–13:00, no meeting link
 *   "Customer call"  day 2, 16:00–16:30, Teams, organised by someone else */
static json_t *fake_events(const json_t *cal)
{
	const char *uuid = ml_sb_str(cal, "uuid"), *email = ml_sb_str(cal, "email");
	int64_t day0 = ml_mb_int(cal, "day0", 0);
	uint8_t h[32];
	char meet[16], zoom[12], hex[17];
	ml_sha256(uuid, strlen(uuid), h);
	for (int i = 0; i < 10; i++)
		meet[i] = (char)('a' + h[i] % 26);
	snprintf(meet + 10, sizeof meet - 10, "%s", "");
	char code[16];
	snprintf(code, sizeof code, "%.3s-%.4s-%.3s", meet, meet + 3, meet + 7);
	for (int i = 0; i < 11; i++)
		zoom[i] = (char)('0' + h[10 + i] % 10);
	zoom[0] = '8';
	zoom[11] = '\0';
	ml_hex_encode(h + 21, 8, hex);
	json_t *out = json_array();
	json_t *guests = json_pack("[{s:s, s:n}, {s:s, s:s}]", "email", email, "name", "email",
	                           "guest@sandbox.test", "name", "Guest");
	for (int d = 1; d <= 5; d++) {
		char gid[32];
		snprintf(gid, sizeof gid, "standup_%d", d);
		json_array_append_new(
		    out,
		    json_pack("{s:s, s:s, s:o, s:o, s:s+, s:O, s:s, s:b, s:b, s:s}", "google_id",
		              gid, "name", "Daily standup", "start", hour(day0, d, 9, 0), "end",
		              hour(day0, d, 9, 15), "meeting_url", "https://meet.google.com/", code,
		              "attendees", guests, "organizer_email", email, "is_organizer", 1,
		              "is_recurring", 1, "recurring_event_id", "standup"));
	}
	json_array_append_new(
	    out, json_pack("{s:s, s:s, s:o, s:o, s:s+, s:O, s:s, s:b, s:b, s:n}", "google_id",
	                   "design_review", "name", "Design review", "start", hour(day0, 1, 14, 0),
	                   "end", hour(day0, 1, 15, 0), "meeting_url", "https://zoom.us/j/", zoom,
	                   "attendees", guests, "organizer_email", email, "is_organizer", 1,
	                   "is_recurring", 0, "recurring_event_id"));
	json_array_append_new(
	    out, json_pack("{s:s, s:s, s:o, s:o, s:s, s:[{s:s, s:n}], s:s, s:b, s:b, s:n}",
	                   "google_id", "lunch", "name", "Lunch", "start", hour(day0, 1, 12, 0),
	                   "end", hour(day0, 1, 13, 0), "meeting_url", "", "attendees", "email",
	                   email, "name", "organizer_email", email, "is_organizer", 1,
	                   "is_recurring", 0, "recurring_event_id"));
	json_array_append_new(
	    out, json_pack(
	             "{s:s, s:s, s:o, s:o, s:s++, s:[{s:s, s:s}, {s:s, s:n}], s:s, s:b, s:b, s:n}",
	             "google_id", "customer_call", "name", "Customer call", "start",
	             hour(day0, 2, 16, 0), "end", hour(day0, 2, 16, 30), "meeting_url",
	             "https://teams.microsoft.com/l/meetup-join/19%3ameeting_", hex,
	             "%40thread.v2/0", "attendees", "email", "customer@sandbox.test", "name",
	             "Customer", "email", email, "name", "organizer_email", "customer@sandbox.test",
	             "is_organizer", 0, "is_recurring", 0, "recurring_event_id"));
	json_decref(guests);
	return out;
}

/* Adds the fake events the calendar does not have yet; returns the uuids added. */
static json_t *sync_fake(json_t *root, json_t *cal)
{
	json_t *fake = fake_events(cal), *added = json_array(), *spec;
	json_t *events = json_object_get(root, "events");
	size_t i;
	json_array_foreach(fake, i, spec)
	{
		char *seed =
		    ml_asprintf("%s/%s", ml_sb_str(cal, "uuid"), ml_sb_str(spec, "google_id"));
		char *uuid = ml_mb_uuid_from(seed);
		if (!json_object_get(events, uuid)) {
			json_t *ev = json_deep_copy(spec);
			ml_mb_set_str(ev, "uuid", uuid);
			json_object_set_new(ev, "id", json_integer(ml_mb_next_id(root, "event")));
			json_object_set(ev, "calendar_uuid", json_object_get(cal, "uuid"));
			json_object_set_new(ev, "deleted", json_false());
			json_object_set_new(ev, "updated_at", json_integer(ml_sb_now_ms()));
			json_object_set_new(ev, "schedule", json_null());
			json_object_set_new(ev, "bot_id", json_null());
			json_object_set_new(events, uuid, ev);
			json_array_append_new(added, json_string(uuid));
		}
		free(uuid);
		free(seed);
	}
	json_decref(fake);
	json_object_set_new(cal, "synced_at", json_integer(ml_sb_now_ms()));
	return added;
}

void ml_mb_cal_synced(json_t *root, json_t *cal, json_t *uuids)
{
	json_t *acct = ml_mb_account_by_id(root, ml_mb_int(cal, "account_id", 0));
	if (json_array_size(uuids) == 0) {
		json_decref(uuids);
		return;
	}
	ml_mb_hook(root, acct, NULL, NULL, "calendar.sync_events",
	           json_pack("{s:O, s:o, s:o}", "calendar_id", json_object_get(cal, "uuid"),
	                     "last_updated_ts", ml_mb_time_ms(ml_sb_now_ms()),
	                     "affected_event_uuids", uuids));
}

/* ---- handlers --------------------------------------------------------------------------- */

json_t *ml_mb_cal_json(const json_t *cal)
{
	return json_pack("{s:O, s:O, s:O, s:O, s:n}", "uuid", json_object_get(cal, "uuid"), "name",
	                 json_object_get(cal, "name"), "email", json_object_get(cal, "email"),
	                 "google_id", json_object_get(cal, "google_id"), "resource_id");
}

static json_t *cal_find(json_t *root, const json_t *acct, const char *uuid)
{
	json_t *cal = json_object_get(json_object_get(root, "calendars"), uuid);
	if (!cal || ml_mb_int(cal, "account_id", -1) != ml_mb_int(acct, "id", -2))
		return NULL;
	return cal;
}

/* Validates an OAuth body; answers and returns NULL when it is not valid. */
static const char *oauth_body(struct ml_http_resp *resp, const json_t *body)
{
	const char *what = NULL, *field = ml_mb_check_oauth(body, true, &what), *why = NULL;
	if (field) {
		ml_mb_bad(resp, field, what);
		return NULL;
	}
	const char *email = oauth_account(body, &why);
	if (!email)
		ml_mb_err(resp, 401, "CALENDAR_AUTH_FAILED", "%s", why);
	return email;
}

void ml_mb_cal_raw(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *acct = ml_mb_auth(req, resp);
	if (!acct)
		return;
	json_t *body = ml_sb_json_body(req);
	const char *email = oauth_body(resp, body);
	if (email)
		ml_resp_json(resp, 200, json_pack("{s:o}", "calendars", raw_list(email)));
	json_decref(body);
}

void ml_mb_cal_list(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *acct = ml_mb_auth(req, resp);
	if (!acct)
		return;
	json_t *out = json_array(), *cal;
	const char *k;
	json_object_foreach(json_object_get(req->user, "calendars"), k, cal)
	{
		if (ml_mb_int(cal, "account_id", -1) == ml_mb_int(acct, "id", -2))
			json_array_append_new(out, ml_mb_cal_json(cal));
	}
	ml_resp_json(resp, 200, out);
}

static void store_creds(json_t *cal, const json_t *body)
{
	static const char *const k[] = {"platform", "oauth_client_id", "oauth_client_secret",
	                                "oauth_refresh_token", NULL};
	for (int i = 0; k[i]; i++)
		json_object_set(cal, k[i], json_object_get(body, k[i]));
}

void ml_mb_cal_create(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *acct = ml_mb_auth(req, resp);
	if (!acct)
		return;
	json_t *body = ml_sb_json_body(req);
	const char *email = oauth_body(resp, body);
	if (!email) {
		json_decref(body);
		return;
	}
	const char *raw = ml_sb_str(body, "raw_calendar_id");
	const char *gid = raw ? raw : email;
	json_t *list = raw_list(email), *r, *found = NULL;
	size_t i;
	json_array_foreach(list, i, r) if (!strcmp(ml_sb_str(r, "id"), gid)) found = r;
	const char *k;
	json_t *cal;
	bool dup = false;
	json_object_foreach(json_object_get(root, "calendars"), k, cal) dup =
	    dup || (ml_mb_int(cal, "account_id", -1) == ml_mb_int(acct, "id", -2) &&
	            !strcmp(ml_sb_str(cal, "google_id"), gid) &&
	            !strcmp(ml_sb_str(cal, "platform"), ml_sb_str(body, "platform")));
	if (!found) {
		ml_mb_err(resp, 404, "RAW_CALENDAR_NOT_FOUND",
		          "No calendar %s in this account's calendars", gid);
	} else if (dup) {
		ml_mb_err(resp, 409, "CALENDAR_ALREADY_EXISTS",
		          "This calendar is already integrated");
	} else {
		char *uuid = ml_mb_uuid();
		int64_t now = ml_sb_now();
		cal = json_pack(
		    "{s:s, s:O, s:s, s:s, s:s, s:I, s:I}", "uuid", uuid, "account_id",
		    json_object_get(acct, "id"), "email", email, "google_id", gid, "name",
		    json_is_true(json_object_get(found, "is_primary")) ? email : "Holidays",
		    "created_at", (json_int_t)now, "day0", (json_int_t)(now - now % 86400));
		store_creds(cal, body);
		json_object_set_new(json_object_get(root, "calendars"), uuid, cal);
		free(uuid);
		/* The holidays calendar has no meetings. */
		json_t *added = json_is_true(json_object_get(found, "is_primary"))
		                    ? sync_fake(root, cal)
		                    : json_array();
		ml_mb_cal_synced(root, cal, added);
		ml_resp_json(resp, 200, json_pack("{s:o}", "calendar", ml_mb_cal_json(cal)));
	}
	json_decref(list);
	json_decref(body);
}

void ml_mb_cal_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *acct = ml_mb_auth(req, resp);
	if (!acct)
		return;
	json_t *cal = cal_find(req->user, acct, req->params[0]);
	if (!cal)
		ml_mb_err(resp, 404, "CALENDAR_NOT_FOUND", "Calendar not found");
	else
		ml_resp_json(resp, 200, ml_mb_cal_json(cal));
}

void ml_mb_cal_patch(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *acct = ml_mb_auth(req, resp);
	if (!acct)
		return;
	json_t *cal = cal_find(root, acct, req->params[0]);
	if (!cal) {
		ml_mb_err(resp, 404, "CALENDAR_NOT_FOUND", "Calendar not found");
		return;
	}
	json_t *body = ml_sb_json_body(req);
	const char *email = oauth_body(resp, body);
	if (email) {
		store_creds(cal, body);
		ml_mb_set_str(cal, "email", email);
		bool primary = strcmp(ml_sb_str(cal, "name"), "Holidays") != 0;
		ml_mb_cal_synced(root, cal, primary ? sync_fake(root, cal) : json_array());
		ml_resp_json(resp, 200, json_pack("{s:o}", "calendar", ml_mb_cal_json(cal)));
	}
	json_decref(body);
}

void ml_mb_cal_delete(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *acct = ml_mb_auth(req, resp);
	if (!acct)
		return;
	json_t *cal = cal_find(root, acct, req->params[0]);
	if (!cal) {
		ml_mb_err(resp, 404, "CALENDAR_NOT_FOUND", "Calendar not found");
		return;
	}
	json_t *events = json_object_get(root, "events"), *ev;
	const char *k;
	void *tmp;
	json_object_foreach_safe(events, tmp, k, ev)
	{
		if (!strcmp(ml_sb_str(ev, "calendar_uuid"), req->params[0]))
			json_object_del(events, k);
	}
	json_object_del(json_object_get(root, "calendars"), req->params[0]);
	ml_resp_body(resp, 200, "text/plain; charset=utf-8", "", 0); /* "no content" */
}

void ml_mb_cal_resync_all(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *acct = ml_mb_auth(req, resp);
	if (!acct)
		return;
	const char *days = ml_http_query(req, "days");
	char *end = NULL;
	long d = days ? strtol(days, &end, 10) : 30;
	if (days && (!*days || *end || d < 0 || d > 3650)) {
		ml_mb_err(resp, 400, "FST_ERR_VALIDATION", "querystring/days must be integer");
		return;
	}
	json_t *synced = json_array(), *errors = json_array(), *cal;
	const char *k;
	json_object_foreach(json_object_get(root, "calendars"), k, cal)
	{
		if (ml_mb_int(cal, "account_id", -1) != ml_mb_int(acct, "id", -2))
			continue;
		if (!creds_still_valid(cal)) {
			json_array_append_new(
			    errors, json_pack("[s, s]", k,
			                      "invalid_grant: the refresh token is expired "
			                      "or revoked"));
			continue;
		}
		bool primary = strcmp(ml_sb_str(cal, "name"), "Holidays") != 0;
		ml_mb_cal_synced(root, cal, primary ? sync_fake(root, cal) : json_array());
		json_array_append_new(synced, json_string(k));
	}
	ml_resp_json(resp, 200,
	             json_pack("{s:o, s:o}", "synced_calendars", synced, "errors", errors));
}
