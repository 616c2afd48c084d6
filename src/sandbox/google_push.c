/* Google Calendar push notifications and incremental sync, emulated
 * (specs/google/google-calendar-errors.json push_notifications; Channel and events.watch in
 * google-calendar-v3.api-summary.json).
 *
 *   POST .../calendars/{calendarId}/events/watch  {id, type: web_hook, address, token?,
 *        expiration?, params.ttl?} -> 200 Channel {kind api#channel, id, resourceId,
 *        resourceUri, token?, expiration (ms, a string)}; then a "sync" notification.
 *   POST /calendar/v3/channels/stop {id, resourceId} -> 204 (404 when unknown).
 *
 * Every change of a calendar's events (insert, patch, update, delete, and the host's own
 * changes below) is numbered per calendar; each live channel of the calendar (not stopped,
 * expiration after the sandbox clock's now) gets a notification: an empty POST with
 * X-Goog-Channel-ID, X-Goog-Channel-Token (when the channel has one), X-Goog-Channel-Expiration,
 * X-Goog-Resource-ID, X-Goog-Resource-URI, X-Goog-Resource-State (sync|exists) and
 * X-Goog-Message-Number (per channel, from 1). events.list's syncToken ("s" + the change
 * number) lists what changed since (google_list.c); an expired token answers 410
 * fullSyncRequired.
 *
 * The host's side, for tests (Google has no API for this):
 *   POST /google/_host/change {event_id, action: delete|move, start?, end?, account?}
 *        the host deletes or moves an event in Google Calendar (notifications follow)
 *   POST /google/_host/notify {channel_id, state?, message_number?, forge?}
 *        one notification again (a repeat of message_number is a duplicate; forge: a token
 *        that is not the channel's)
 *   POST /google/_host/expire_sync_tokens {account?}: every earlier sync token answers 410
 * Outbound fault rules ("direction": "out", event "exists" or "sync") lose a notification
 * (drop), send it twice (duplicate) or hold it until the next one has gone (reorder).
 * Each notification and its answer is kept in root["push_log"] (the last 200).
 */
#include "sandbox/google.h"
#include "sandbox/outbound.h"
#include "sandbox/sb_internal.h"

#include "core/json_in.h"
#include "core/mem.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define P "google"
#define KEEP 200

static json_t *member(json_t *root, const char *key, bool array)
{
	json_t *v = json_object_get(root, key);
	if (!v) {
		v = array ? json_array() : json_object();
		json_object_set_new(root, key, v);
	}
	return v;
}

/* The calendar's change log: {seq, min_seq, events: {id: seq}}. */
json_t *ml_sb_gcal_changes(json_t *root, const char *cal)
{
	json_t *all = member(root, "sync", false), *c = json_object_get(all, cal);
	if (!c) {
		c = json_pack("{s:I, s:I, s:{}}", "seq", (json_int_t)0, "min_seq", (json_int_t)0,
			      "events");
		json_object_set_new(all, cal, c);
	}
	return c;
}

static bool id_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("-_+/=", s[i])))
			return false;
	return true;
}

static bool printable(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static void send_now(struct ml_sb_outbound *ob, json_t *root, json_t *rec)
{
	(void)root;
	char h[7][400];
	const char *headers[9];
	int n = 0;
	snprintf(h[0], sizeof h[0], "X-Goog-Channel-ID: %s", ml_sb_str(rec, "channel_id"));
	snprintf(h[1], sizeof h[1], "X-Goog-Channel-Expiration: %s", ml_sb_str(rec, "expiration"));
	snprintf(h[2], sizeof h[2], "X-Goog-Resource-ID: %s", ml_sb_str(rec, "resource_id"));
	snprintf(h[3], sizeof h[3], "X-Goog-Resource-URI: %s", ml_sb_str(rec, "resource_uri"));
	snprintf(h[4], sizeof h[4], "X-Goog-Resource-State: %s", ml_sb_str(rec, "state"));
	snprintf(h[5], sizeof h[5], "X-Goog-Message-Number: %lld",
		 (long long)json_integer_value(json_object_get(rec, "message_number")));
	for (int i = 0; i < 6; i++)
		headers[n++] = h[i];
	const char *tok = ml_sb_str(rec, "token");
	if (tok) {
		snprintf(h[6], sizeof h[6], "X-Goog-Channel-Token: %s", tok);
		headers[n++] = h[6];
	}
	headers[n++] = "User-Agent: APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)";
	headers[n] = NULL;
	ml_sb_outbound_post(ob, rec, ml_sb_str(rec, "address"), headers, "", 0);
}

static struct ml_sb_outbound out = ML_SB_OUTBOUND_INIT(P, "push_log", "push_held", send_now);

/* A notification of `ch` in `state`, numbered `number` (0: the channel's next). */
static json_t *notify_channel(json_t *root, json_t *ch, const char *state, json_int_t number,
			      bool forge)
{
	if (number <= 0) {
		number = json_integer_value(json_object_get(ch, "message_number")) + 1;
		json_object_set_new(ch, "message_number", json_integer(number));
	}
	json_t *list = member(root, "push_log", true);
	json_int_t id = json_integer_value(json_object_get(root, "push_next_id")) + 1;
	json_object_set_new(root, "push_next_id", json_integer(id));
	const char *tok = ml_sb_str(ch, "token");
	json_t *rec = json_pack(
	    "{s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:b, s:n, s:[]}", "id", id, "channel_id",
	    ml_sb_str(ch, "id"), "address", ml_sb_str(ch, "address"), "resource_id",
	    ml_sb_str(ch, "resourceId"), "resource_uri", ml_sb_str(ch, "resourceUri"), "state",
	    state, "message_number", number, "expiration", ml_sb_str(ch, "expiration"), "forged",
	    forge, "fault", "attempts");
	if (tok || forge)
		json_object_set_new(rec, "token", json_string(forge ? "forged-channel-token" : tok));
	json_array_append_new(list, rec);
	while (json_array_size(list) > KEEP)
		json_array_remove(list, 0);
	ml_sb_outbound_deliver(&out, root, rec, state);
	return rec;
}

static bool live(json_t *ch)
{
	const char *exp = ml_sb_str(ch, "expiration");
	return !json_is_true(json_object_get(ch, "stopped")) && exp &&
	       strtoll(exp, NULL, 10) > ml_sb_now_ms();
}

void ml_sb_gcal_push_changed(json_t *root, const char *cal, const char *event_id)
{
	json_t *c = ml_sb_gcal_changes(root, cal);
	json_int_t seq = json_integer_value(json_object_get(c, "seq")) + 1;
	json_object_set_new(c, "seq", json_integer(seq));
	if (event_id)
		json_object_set_new(json_object_get(c, "events"), event_id, json_integer(seq));
	const char *k;
	json_t *ch;
	json_object_foreach(member(root, "channels", false), k, ch)
	{
		const char *cc = ml_sb_str(ch, "calendar");
		if (cc && strcasecmp(cc, cal) == 0 && live(ch))
			notify_channel(root, ch, "exists", 0, false);
	}
}

/* POST /calendar/v3/calendars/{calendarId}/events/watch */
void ml_sb_gcal_events_watch(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user;
	const char *account = ml_sb_gcal_authorize(req, resp, false), *cal;
	if (!account || !ml_sb_gcal_events_of(root, account, req->params[0], resp, &cal))
		return;
	json_t *in = ml_sb_json_body(req);
	const char *id = ml_sb_str(in, "id"), *type = ml_sb_str(in, "type");
	const char *address = ml_sb_str(in, "address"), *token = ml_sb_str(in, "token");
	json_t *channels = member(root, "channels", false);
	const char *ttl = ml_sb_str(json_object_get(in, "params"), "ttl");
	bool https = ml_sb_cfg_bool(P, "push_require_https", false);
	if (!json_is_object(in)) {
		ml_sb_gerr(resp, 400, "parseError", "Parse Error");
	} else if (!id_ok(id, 64)) {
		ml_sb_gerr(resp, 400, "required", "Channel id must be 1-64 characters of "
						  "[A-Za-z0-9-_+/=].");
	} else if (json_object_get(channels, id)) {
		ml_sb_gerr(resp, 400, "invalid", "Channel id not unique");
	} else if (!type || (strcmp(type, "web_hook") != 0 && strcmp(type, "webhook") != 0)) {
		ml_sb_gerr(resp, 400, "invalid", "Invalid value for: type");
	} else if (!printable(address, 2000) ||
		   (strncmp(address, "https://", 8) != 0 &&
		    (https || strncmp(address, "http://", 7) != 0))) {
		ml_sb_gerr(resp, 400, "invalid", "WebHook callback must be HTTPS.");
	} else if (json_object_get(in, "token") && !printable(token, 256)) {
		ml_sb_gerr(resp, 400, "invalid", "Invalid value for: token");
	} else if (ttl && (strtoll(ttl, NULL, 10) <= 0 || strspn(ttl, "0123456789") != strlen(ttl))) {
		ml_sb_gerr(resp, 400, "invalid", "Invalid value for: params.ttl");
	} else {
		json_int_t cap = ml_sb_cfg_int(P, "channel_max_ttl", 604800);
		json_int_t life = ttl ? (json_int_t)strtoll(ttl, NULL, 10) : cap;
		if (life > cap)
			life = cap;
		char exp[24], *rid = ml_sb_rand("", 27, ML_SB_ALNUM);
		snprintf(exp, sizeof exp, "%lld", (long long)(ml_sb_now_ms() + life * 1000));
		char *uri = ml_asprintf("https://www.googleapis.com/calendar/v3/calendars/%s/events"
					"?alt=json", cal);
		json_t *ch = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:b}", "kind",
				       "api#channel", "id", id, "resourceId", rid, "resourceUri",
				       uri, "expiration", exp, "address", address, "calendar", cal,
				       "message_number", (json_int_t)0, "stopped", 0);
		if (token)
			json_object_set_new(ch, "token", json_string(token));
		json_object_set_new(channels, id, ch);
		json_t *out = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "api#channel", "id", id,
					"resourceId", rid, "resourceUri", uri, "expiration", exp);
		if (token)
			json_object_set_new(out, "token", json_string(token));
		ml_resp_json(resp, 200, out);
		notify_channel(root, ch, "sync", 0, false);
		free(rid);
		free(uri);
	}
	json_decref(in);
}

/* POST /calendar/v3/channels/stop */
void ml_sb_gcal_channels_stop(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user;
	const char *account = ml_sb_gcal_authorize(req, resp, false);
	if (!account)
		return;
	json_t *in = ml_sb_json_body(req);
	const char *id = ml_sb_str(in, "id"), *rid = ml_sb_str(in, "resourceId");
	json_t *ch = id ? json_object_get(member(root, "channels", false), id) : NULL;
	if (!json_is_object(in))
		ml_sb_gerr(resp, 400, "parseError", "Parse Error");
	else if (!id || !rid)
		ml_sb_gerr(resp, 400, "required", "Required parameter: id and resourceId");
	else if (!ch || strcmp(rid, ml_sb_str(ch, "resourceId")) != 0 ||
		 json_is_true(json_object_get(ch, "stopped")))
		ml_sb_gerr(resp, 404, "notFound", "Channel not found");
	else if (strcasecmp(ml_sb_str(ch, "calendar"), account) != 0)
		ml_sb_gerr(resp, 403, "forbidden", "Forbidden");
	else {
		json_object_set_new(ch, "stopped", json_true());
		ml_resp_body(resp, 204, "application/json", "", 0);
	}
	json_decref(in);
}

/* --- the host's side --- */

static void herr(struct ml_http_resp *resp, int status, const char *field, const char *msg)
{
	ml_resp_json(resp, status, json_pack("{s:s, s:s, s:s}", "error", "invalid_request",
					     "field", field, "message", msg));
}

static bool set_time(json_t *ev, const char *which, const char *value)
{
	int64_t t;
	if (!value || ml_time_parse(value, &t) < 0)
		return false;
	char buf[ML_RFC3339_MAX];
	ml_time_format(t, buf);
	json_t *o = json_object_get(ev, which);
	if (!json_is_object(o)) {
		o = json_object();
		json_object_set_new(ev, which, o);
	}
	json_object_set_new(o, "dateTime", json_string(buf));
	json_object_del(o, "date");
	return true;
}

void ml_sb_gcal_host_change(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *in = ml_sb_json_body(req);
	const char *account = ml_sb_str(in, "account"), *id = ml_sb_str(in, "event_id");
	const char *action = ml_sb_str(in, "action");
	if (!account)
		account = ml_sb_cfg_str(P, "default_account", "ada@sandbox.test");
	json_t *c = json_object_get(json_object_get(root, "calendars"), account ? account : "");
	json_t *ev = id ? json_object_get(json_object_get(c, "events"), id) : NULL;
	int64_t s, e;
	if (!json_is_object(in))
		herr(resp, 400, "body", "The body must be a JSON object.");
	else if (!ev)
		herr(resp, 404, "event_id", "No such event in that calendar.");
	else if (!action || (strcmp(action, "delete") && strcmp(action, "move")))
		herr(resp, 400, "action", "action must be delete or move.");
	else if (strcmp(action, "move") == 0 &&
		 (!ml_sb_str(in, "start") || ml_time_parse(ml_sb_str(in, "start"), &s) < 0 ||
		  !ml_sb_str(in, "end") || ml_time_parse(ml_sb_str(in, "end"), &e) < 0 || e <= s))
		herr(resp, 400, "start", "move needs start and end (RFC 3339, end after start).");
	else {
		if (strcmp(action, "delete") == 0) {
			json_object_set_new(ev, "status", json_string("cancelled"));
		} else {
			set_time(ev, "start", ml_sb_str(in, "start"));
			set_time(ev, "end", ml_sb_str(in, "end"));
			json_object_set_new(ev, "sequence",
					    json_integer(json_integer_value(
							     json_object_get(ev, "sequence")) + 1));
		}
		ml_sb_gcal_set_now(ev, "updated");
		char *etag = ml_sb_rand("\"3", 15, ML_SB_DIGITS);
		char *et = ml_asprintf("%s\"", etag);
		json_object_set_new(ev, "etag", json_string(et));
		free(et);
		free(etag);
		const char *cal = json_object_iter_key(
		    json_object_iter_at(json_object_get(root, "calendars"), account));
		ml_sb_gcal_push_changed(root, cal, id);
		ml_resp_json(resp, 200, json_deep_copy(ev));
	}
	json_decref(in);
}

void ml_sb_gcal_host_notify(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *in = ml_sb_json_body(req);
	const char *id = ml_sb_str(in, "channel_id"), *state = ml_sb_str(in, "state");
	json_t *num = json_object_get(in, "message_number");
	json_t *ch = id ? json_object_get(member(root, "channels", false), id) : NULL;
	if (!json_is_object(in))
		herr(resp, 400, "body", "The body must be a JSON object.");
	else if (!ch)
		herr(resp, 404, "channel_id", "No such channel.");
	else if (state && strcmp(state, "sync") && strcmp(state, "exists") &&
		 strcmp(state, "not_exists"))
		herr(resp, 400, "state", "state must be sync, exists or not_exists.");
	else if (num && (!json_is_integer(num) || json_integer_value(num) < 1))
		herr(resp, 400, "message_number", "message_number must be a positive integer.");
	else
		ml_resp_json(resp, 201,
			     json_deep_copy(notify_channel(
				 root, ch, state ? state : "exists", num ? json_integer_value(num) : 0,
				 json_is_true(json_object_get(in, "forge")))));
	json_decref(in);
}

void ml_sb_gcal_host_expire(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *in = ml_sb_json_body(req);
	const char *account = ml_sb_str(in, "account");
	if (!account)
		account = ml_sb_cfg_str(P, "default_account", "ada@sandbox.test");
	json_t *c = ml_sb_gcal_changes(root, account);
	/* Every token issued so far (up to seq) is refused; a listing from now on gives
	 * seq + 1, which is not. */
	json_int_t seq = json_integer_value(json_object_get(c, "seq"));
	json_object_set_new(c, "seq", json_integer(seq + 1));
	json_object_set_new(c, "min_seq", json_integer(seq + 1));
	ml_resp_json(resp, 200, json_pack("{s:s, s:I}", "account", account, "min_seq", seq + 1));
	json_decref(in);
}
