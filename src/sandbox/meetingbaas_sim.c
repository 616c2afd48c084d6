/* The MeetingBaas simulation and inspection API under /meetingbaas/_sandbox/ (no API key:
 * it is the test's side of the meeting, like Twilio's simulated participants):
 *   POST /_sandbox/scripts             {"meeting_url", <script>}: the life of the next bots
 *                                      sent to that URL (and of live ones), null to forget
 *   POST /_sandbox/bots/{uuid}/script  <script> for one bot (remakes its plan now)
 *   POST /_sandbox/bots/{uuid}/admit   the host admits a bot held in the waiting room
 *   POST /_sandbox/bots/{uuid}/end     the meeting ends (the bot leaves: call_ended)
 *   GET  /_sandbox/bots[?account_id=]  every bot with its plan, statuses, script
 *   GET  /_sandbox/calendars           every calendar and its events
 *   POST /_sandbox/calendars/{uuid}/events, PATCH|DELETE /_sandbox/calendar_events/{uuid}
 *                                      the calendar's owner adds, moves, cancels an event
 *   POST /_sandbox/accounts            {"api_key", "email"?, "webhook_url"?}: one more account
 *   GET  /_sandbox/webhooks[?event=&bot_id=]  every webhook made and what became of it */
#include "sandbox/meetingbaas_internal.h"

#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void sim_bad(struct ml_http_resp *resp, const char *field, const char *what)
{
	ml_resp_json(resp, 400,
	             json_pack("{s:{s:s, s:s, s:s}}", "error", "code", "invalid_request", "field",
	                       field, "message", what));
}

static json_t *sim_body(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *b = ml_sb_json_body(req);
	if (!json_is_object(b)) {
		json_decref(b);
		sim_bad(resp, "", "The body must be a JSON object.");
		return NULL;
	}
	return b;
}

static json_t *sim_bot(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *bot = json_object_get(json_object_get(req->user, "bots"), req->params[0]);
	if (!bot)
		ml_resp_json(resp, 404,
		             json_pack("{s:{s:s, s:s}}", "error", "code", "not_found", "message",
		                       "No such bot."));
	return bot;
}

static bool script_ok(struct ml_http_resp *resp, const json_t *s)
{
	const char *what = NULL, *field = ml_mb_check_script(s, &what);
	if (field)
		sim_bad(resp, field, what);
	return !field;
}

void ml_mb_sim_scripts(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *b = sim_body(req, resp);
	if (!b)
		return;
	const char *url = ml_sb_str(b, "meeting_url");
	if (!url || !*url)
		sim_bad(resp, "meeting_url", "A script names the meeting_url it applies to.");
	else if (script_ok(resp, b)) {
		json_t *scripts = json_object_get(root, "scripts");
		json_t *s = json_deep_copy(b);
		json_object_del(s, "meeting_url");
		json_object_set_new(scripts, url, s);
		/* Live bots of that meeting follow the new script from where they are. */
		const char *k;
		json_t *bot;
		json_object_foreach(json_object_get(root, "bots"), k, bot)
		{
			const char *u = ml_sb_str(bot, "meeting_url");
			if (u && !strcmp(u, url) && ml_mb_bot_live(bot))
				ml_mb_bot_replan(root, bot);
		}
		ml_resp_json(resp, 200, json_pack("{s:s, s:O}", "meeting_url", url, "script", s));
	}
	json_decref(b);
}

void ml_mb_sim_bot_script(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *bot = sim_bot(req, resp);
	json_t *b = bot ? sim_body(req, resp) : NULL;
	if (!b)
		return;
	if (script_ok(resp, b)) {
		json_object_set(bot, "script", b);
		ml_mb_bot_replan(req->user, bot);
		ml_resp_json(resp, 200, json_deep_copy(bot));
	}
	json_decref(b);
}

void ml_mb_sim_admit(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *bot = sim_bot(req, resp);
	if (!bot)
		return;
	if (!ml_mb_bot_admit(req->user, bot))
		ml_resp_json(resp, 409,
		             json_pack("{s:{s:s, s:s}}", "error", "code", "not_waiting", "message",
		                       "The bot is not in the waiting room."));
	else
		ml_resp_json(resp, 200, json_deep_copy(bot));
}

void ml_mb_sim_end(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *bot = sim_bot(req, resp);
	if (!bot)
		return;
	if (!ml_mb_bot_live(bot)) {
		ml_resp_json(resp, 409,
		             json_pack("{s:{s:s, s:s}}", "error", "code", "not_live", "message",
		                       "The bot has already left."));
		return;
	}
	ml_mb_bot_meeting_end(req->user, bot);
	ml_resp_json(resp, 200, json_deep_copy(bot));
}

void ml_mb_sim_bots(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *acct = ml_http_query(req, "account_id"), *k;
	json_t *out = json_array(), *bot;
	json_object_foreach(json_object_get(req->user, "bots"), k, bot)
	{
		char id[24];
		snprintf(id, sizeof id, "%lld", (long long)ml_mb_int(bot, "account_id", 0));
		if (!acct || !strcmp(acct, id))
			json_array_append_new(out, json_deep_copy(bot));
	}
	ml_resp_json(resp, 200, json_pack("{s:o}", "bots", out));
}

void ml_mb_sim_calendars(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *out = json_array(), *cal, *ev;
	const char *k, *ek;
	json_object_foreach(json_object_get(req->user, "calendars"), k, cal)
	{
		json_t *c = json_deep_copy(cal), *events = json_array();
		json_object_foreach(json_object_get(req->user, "events"), ek, ev)
		{
			if (!strcmp(ml_sb_str(ev, "calendar_uuid"), k))
				json_array_append_new(events, json_deep_copy(ev));
		}
		json_object_set_new(c, "events", events);
		json_array_append_new(out, c);
	}
	ml_resp_json(resp, 200, json_pack("{s:o}", "calendars", out));
}

static bool clean(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x21 || *p == 0x7f)
			return false;
	return *s != '\0';
}

void ml_mb_sim_accounts(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *b = sim_body(req, resp);
	if (!b)
		return;
	const char *key = ml_sb_str(b, "api_key"), *email = ml_sb_str(b, "email"),
	           *hook = ml_sb_str(b, "webhook_url"), *k;
	json_t *a;
	bool taken = false;
	json_object_foreach(json_object_get(root, "accounts"), k, a) taken =
	    taken || (key && !strcmp(ml_sb_str(a, "api_key"), key));
	if (!key || !clean(key) || strlen(key) > 200)
		sim_bad(resp, "api_key", "1 to 200 printable characters, no spaces.");
	else if (taken)
		sim_bad(resp, "api_key", "An account has this key already.");
	else if (hook && !ml_mb_url_ok(hook))
		sim_bad(resp, "webhook_url", "An http(s) URL.");
	else {
		json_int_t id = (json_int_t)json_object_size(json_object_get(root, "accounts")) + 1;
		char sid[24];
		snprintf(sid, sizeof sid, "%lld", (long long)id);
		a = json_pack("{s:I, s:s, s:s, s:s?}", "id", id, "email",
		              email ? email : "account@meetingbaas.sandbox.test", "api_key", key,
		              "webhook_url", hook);
		if (!hook)
			json_object_set_new(a, "webhook_url", json_null());
		json_object_set_new(json_object_get(root, "accounts"), sid, a);
		ml_resp_json(resp, 201, json_deep_copy(a));
	}
	json_decref(b);
}

/* ---- the fake calendar's owner ---------------------------------------------------------- */

/* Applies `spec` (name, start_time, end_time, meeting_url, attendees, recurring_event_id) to
 * `ev` (a new one when NULL). Returns the event or NULL with *err. */
json_t *ml_mb_event_put(json_t *root, json_t *cal, json_t *ev, const json_t *spec, const char **err)
{
	int64_t start = ml_mb_int(ev, "start", 0), end = ml_mb_int(ev, "end", 0);
	const char *s = ml_sb_str(spec, "start_time"), *e = ml_sb_str(spec, "end_time");
	json_t *att = json_object_get(spec, "attendees");
	if ((s && !ml_mb_parse_time(s, &start)) || (!s && !ev))
		return *err = "start_time: an ISO-8601 date-time", NULL;
	if ((e && !ml_mb_parse_time(e, &end)) || (!e && !ev))
		return *err = "end_time: an ISO-8601 date-time", NULL;
	if (end <= start)
		return *err = "end_time: after start_time", NULL;
	if (att && !json_is_array(att))
		return *err = "attendees: an array of emails", NULL;
	static const char *const str[] = {"name", "meeting_url", "recurring_event_id", NULL};
	for (int i = 0; str[i]; i++) {
		json_t *v = json_object_get(spec, str[i]);
		if (v && !json_is_string(v) && !json_is_null(v))
			return *err = "name, meeting_url, recurring_event_id: strings", NULL;
	}
	if (!ev) {
		char *uuid = ml_mb_uuid();
		char gid[40];
		json_int_t id = ml_mb_next_id(root, "event");
		snprintf(gid, sizeof gid, "sandbox_%lld", (long long)id);
		ev = json_pack("{s:s, s:I, s:O, s:s, s:s, s:s, s:O, s:b, s:n, s:b, s:n, s:n, s:o}",
		               "uuid", uuid, "id", id, "calendar_uuid",
		               json_object_get(cal, "uuid"), "google_id", gid, "name", "Meeting",
		               "meeting_url", "", "organizer_email", json_object_get(cal, "email"),
		               "is_organizer", 1, "recurring_event_id", "is_recurring", 0,
		               "schedule", "bot_id", "attendees", json_array());
		json_object_set_new(ev, "deleted", json_false());
		json_object_set_new(json_object_get(root, "events"), uuid, ev);
		free(uuid);
	}
	for (int i = 0; str[i]; i++)
		if (json_object_get(spec, str[i]))
			json_object_set(ev, str[i], json_object_get(spec, str[i]));
	json_object_set_new(
	    ev, "is_recurring",
	    json_boolean(json_is_string(json_object_get(ev, "recurring_event_id"))));
	if (att) {
		json_t *list = json_array(), *a;
		size_t i;
		json_array_foreach(att, i, a)
		{
			if (json_is_string(a))
				json_array_append_new(list,
				                      json_pack("{s:O, s:n}", "email", a, "name"));
			else if (json_is_string(json_object_get(a, "email")))
				json_array_append_new(list,
				                      json_pack("{s:O, s:O}", "email",
				                                json_object_get(a, "email"), "name",
				                                json_object_get(a, "name")
				                                    ? json_object_get(a, "name")
				                                    : json_null()));
		}
		json_object_set_new(ev, "attendees", list);
	}
	/* A moved event that already had its bot gets a new one at the new time. */
	if (ml_mb_int(ev, "start", start) != start)
		json_object_set_new(ev, "bot_id", json_null());
	json_object_set_new(ev, "start", json_integer(start));
	json_object_set_new(ev, "end", json_integer(end));
	json_object_set_new(ev, "updated_at", json_integer(ml_sb_now_ms()));
	return ev;
}

static json_t *sim_event(struct ml_http_req *req, struct ml_http_resp *resp, json_t **cal)
{
	json_t *ev = json_object_get(json_object_get(req->user, "events"), req->params[0]);
	*cal = ev ? json_object_get(json_object_get(req->user, "calendars"),
	                            ml_sb_str(ev, "calendar_uuid"))
	          : NULL;
	if (!*cal)
		ml_resp_json(resp, 404,
		             json_pack("{s:{s:s, s:s}}", "error", "code", "not_found", "message",
		                       "No such event."));
	return *cal ? ev : NULL;
}

static void event_changed(struct ml_http_resp *resp, json_t *root, json_t *cal, json_t *ev,
                          int status)
{
	ml_mb_cal_synced(root, cal, json_pack("[O]", json_object_get(ev, "uuid")));
	ml_resp_json(resp, status, ml_mb_event_json(ev));
}

void ml_mb_sim_event_add(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user;
	json_t *cal = json_object_get(json_object_get(root, "calendars"), req->params[0]);
	if (!cal) {
		ml_resp_json(resp, 404,
		             json_pack("{s:{s:s, s:s}}", "error", "code", "not_found", "message",
		                       "No such calendar."));
		return;
	}
	json_t *b = sim_body(req, resp);
	const char *err = NULL;
	json_t *ev = b ? ml_mb_event_put(root, cal, NULL, b, &err) : NULL;
	if (b && !ev)
		sim_bad(resp, "", err);
	else if (ev)
		event_changed(resp, root, cal, ev, 201);
	json_decref(b);
}

void ml_mb_sim_event_change(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *cal, *ev = sim_event(req, resp, &cal);
	json_t *b = ev ? sim_body(req, resp) : NULL;
	const char *err = NULL;
	if (!b)
		return;
	if (!ml_mb_event_put(req->user, cal, ev, b, &err))
		sim_bad(resp, "", err);
	else
		event_changed(resp, req->user, cal, ev, 200);
	json_decref(b);
}

void ml_mb_sim_event_cancel(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *cal, *ev = sim_event(req, resp, &cal);
	if (!ev)
		return;
	json_object_set_new(ev, "deleted", json_true());
	json_object_set_new(ev, "updated_at", json_integer(ml_sb_now_ms()));
	event_changed(resp, req->user, cal, ev, 200);
}

void ml_mb_sim_webhooks(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *event = ml_http_query(req, "event"), *bot = ml_http_query(req, "bot_id");
	json_t *out = json_array(), *w;
	size_t i;
	json_array_foreach(json_object_get(req->user, "webhooks"), i, w)
	{
		const char *e = ml_sb_str(w, "event"), *b = ml_sb_str(w, "bot_id");
		if ((event && (!e || strcmp(e, event))) || (bot && (!b || strcmp(b, bot))))
			continue;
		json_array_append_new(out, json_deep_copy(w));
	}
	ml_resp_json(resp, 200, json_pack("{s:o}", "webhooks", out));
}
