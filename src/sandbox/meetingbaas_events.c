/* MeetingBaas /calendar_events/…: list (filters, cursor), get, and a recording bot per event
 * (POST schedule with BotParam2, PATCH with BotParam3, DELETE unschedule; all_occurrences
 * reaches every coming event of the same recurring series). A scheduled event gets its bot
 * calendar_join_lead_seconds before it starts (the bot joins at the start), made as POST
 * /bots/ would make it, with the event's uuid in its webhooks (event_uuid). */
#include "sandbox/meetingbaas_internal.h"

#include "core/crypto.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* BotParam (the answer's shape) from what was scheduled. */
static json_t *bot_param(const json_t *s)
{
	static const char *const same[] = {"bot_name",
	                                   "bot_image",
	                                   "deduplication_key",
	                                   "enter_message",
	                                   "noone_joined_timeout",
	                                   "recording_mode",
	                                   "streaming_audio_frequency",
	                                   "streaming_input",
	                                   "streaming_output",
	                                   "waiting_room_timeout",
	                                   "zoom_access_token_url",
	                                   "zoom_obf_token",
	                                   "zoom_obf_token_url",
	                                   "zoom_obf_token_user_id",
	                                   "zoom_sdk_id",
	                                   "zoom_sdk_pwd",
	                                   NULL};
	json_t *o = json_object(), *v;
	for (int i = 0; same[i]; i++)
		json_object_set(o, same[i], (v = json_object_get(s, same[i])) ? v : json_null());
	v = json_object_get(s, "extra");
	json_object_set_new(o, "extra", v && !json_is_null(v) ? json_deep_copy(v) : json_object());
	v = json_object_get(s, "transcription_custom_parameters");
	json_object_set_new(o, "transcription_custom_parameters",
	                    v && !json_is_null(v) ? json_deep_copy(v) : json_object());
	const char *w = ml_sb_str(s, "webhook_url");
	json_object_set_new(o, "webhook_url", json_string(w ? w : ""));
	v = json_object_get(s, "speech_to_text");
	ml_mb_set_str(o, "speech_to_text_provider", ml_mb_stt_provider(v));
	ml_mb_set_str(o, "speech_to_text_api_key", ml_sb_str(v, "api_key"));
	return o;
}

json_t *ml_mb_event_json(const json_t *ev)
{
	int64_t start = ml_mb_int(ev, "start", 0), end = ml_mb_int(ev, "end", 0);
	json_t *sched = json_object_get(ev, "schedule");
	json_t *raw =
	    json_pack("{s:O, s:O, s:{s:o}, s:{s:o}, s:s}", "id", json_object_get(ev, "google_id"),
	              "summary", json_object_get(ev, "name"), "start", "dateTime",
	              ml_mb_time(start), "end", "dateTime", ml_mb_time(end), "status",
	              json_is_true(json_object_get(ev, "deleted")) ? "cancelled" : "confirmed");
	json_t *o = json_pack(
	    "{s:O, s:O, s:O, s:O, s:o, s:o, s:O, s:O, s:O, s:O, s:O, s:O, s:o, "
	    "s:o}",
	    "uuid", json_object_get(ev, "uuid"), "calendar_uuid",
	    json_object_get(ev, "calendar_uuid"), "google_id", json_object_get(ev, "google_id"),
	    "name", json_object_get(ev, "name"), "start_time", ml_mb_time(start), "end_time",
	    ml_mb_time(end), "meeting_url", json_object_get(ev, "meeting_url"), "attendees",
	    json_object_get(ev, "attendees"), "is_organizer", json_object_get(ev, "is_organizer"),
	    "is_recurring", json_object_get(ev, "is_recurring"), "recurring_event_id",
	    json_object_get(ev, "recurring_event_id"), "deleted", json_object_get(ev, "deleted"),
	    "last_updated_at", ml_mb_time_ms(ml_mb_int(ev, "updated_at", 0)), "raw", raw);
	json_object_set_new(o, "bot_param", json_is_object(sched) ? bot_param(sched) : json_null());
	return o;
}

static json_t *event_find(json_t *root, const json_t *acct, const char *uuid)
{
	json_t *ev = json_object_get(json_object_get(root, "events"), uuid);
	json_t *cal =
	    ev ? json_object_get(json_object_get(root, "calendars"), ml_sb_str(ev, "calendar_uuid"))
	       : NULL;
	if (!cal || ml_mb_int(cal, "account_id", -1) != ml_mb_int(acct, "id", -2))
		return NULL;
	return ev;
}

/* ---- list -------------------------------------------------------------------------------- */

static int by_start(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t sx = ml_mb_int(x, "start", 0), sy = ml_mb_int(y, "start", 0);
	if (sx != sy)
		return sx < sy ? -1 : 1;
	return strcmp(ml_sb_str(x, "uuid"), ml_sb_str(y, "uuid"));
}

static bool has_attendee(const json_t *ev, const char *email)
{
	size_t i;
	json_t *a;
	if (!email)
		return true;
	json_array_foreach(json_object_get(ev, "attendees"), i, a)
	{
		const char *e = ml_sb_str(a, "email");
		if (e && !strcasecmp(e, email))
			return true;
	}
	return false;
}

struct ev_filter {
	const char *status, *attendee, *organizer;
	int64_t gte, lte, updated; /* seconds, seconds, ms */
};

static bool ev_keep(const json_t *ev, const struct ev_filter *f, int64_t now)
{
	int64_t start = ml_mb_int(ev, "start", 0);
	const char *org = ml_sb_str(ev, "organizer_email");
	if (!strcmp(f->status, "upcoming") && start < now)
		return false;
	if (!strcmp(f->status, "past") && start >= now)
		return false;
	return start >= f->gte && start <= f->lte && ml_mb_int(ev, "updated_at", 0) >= f->updated &&
	       has_attendee(ev, f->attendee) &&
	       (!f->organizer || (org && !strcasecmp(org, f->organizer)));
}

static bool q_time(struct ml_http_resp *resp, struct ml_http_req *req, const char *name,
                   int64_t *out, int64_t scale)
{
	const char *v = ml_http_query(req, name);
	int64_t t;
	if (!v)
		return true;
	if (!ml_mb_parse_time(v, &t)) {
		ml_mb_err(resp, 400, "FST_ERR_VALIDATION",
		          "querystring/%s must be an ISO-8601 date-time", name);
		return false;
	}
	*out = t * scale;
	return true;
}

static bool cursor_offset(const char *c, size_t *off)
{
	size_t n;
	*off = 0;
	if (!c || !*c)
		return true;
	uint8_t *d = ml_base64_decode(c, strlen(c), &n);
	char buf[32] = "";
	if (d && n < sizeof buf)
		memcpy(buf, d, n);
	free(d);
	char *end;
	if (strncmp(buf, "events:", 7) != 0 || !buf[7])
		return false;
	*off = (size_t)strtoull(buf + 7, &end, 10);
	return !*end;
}

void ml_mb_events_list(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *acct = ml_mb_auth(req, resp);
	if (!acct)
		return;
	const char *cid = ml_http_query(req, "calendar_id");
	struct ev_filter f = {ml_http_query(req, "status"),
	                      ml_http_query(req, "attendee_email"),
	                      ml_http_query(req, "organizer_email"),
	                      INT64_MIN,
	                      INT64_MAX,
	                      INT64_MIN};
	size_t off;
	if (!f.status)
		f.status = "upcoming";
	if (!cid) {
		ml_mb_err(resp, 400, "FST_ERR_VALIDATION",
		          "querystring must have required property 'calendar_id'");
		return;
	}
	if (strcmp(f.status, "upcoming") && strcmp(f.status, "past") && strcmp(f.status, "all")) {
		ml_mb_err(resp, 400, "FST_ERR_VALIDATION",
		          "querystring/status must be one of upcoming, past, all");
		return;
	}
	if (!q_time(resp, req, "start_date_gte", &f.gte, 1) ||
	    !q_time(resp, req, "start_date_lte", &f.lte, 1) ||
	    !q_time(resp, req, "updated_at_gte", &f.updated, 1000))
		return;
	if (!cursor_offset(ml_http_query(req, "cursor"), &off)) {
		ml_mb_err(resp, 400, "FST_ERR_VALIDATION",
		          "querystring/cursor is not a valid cursor");
		return;
	}
	json_t *cal = json_object_get(json_object_get(root, "calendars"), cid);
	if (!cal || ml_mb_int(cal, "account_id", -1) != ml_mb_int(acct, "id", -2)) {
		ml_mb_err(resp, 404, "CALENDAR_NOT_FOUND", "Calendar not found");
		return;
	}
	int64_t now = ml_sb_now();
	size_t n = 0, cap = 16;
	json_t **v = ml_malloc(cap * sizeof *v), *ev;
	const char *k;
	json_object_foreach(json_object_get(root, "events"), k, ev)
	{
		if (strcmp(ml_sb_str(ev, "calendar_uuid"), cid) != 0 || !ev_keep(ev, &f, now))
			continue;
		if (n == cap)
			v = ml_realloc(v, (cap *= 2) * sizeof *v);
		v[n++] = ev;
	}
	qsort(v, n, sizeof *v, by_start);
	size_t page = (size_t)ml_sb_cfg_int(MBP, "calendar_events_page_size", 50);
	if (page < 1)
		page = 1;
	json_t *data = json_array();
	for (size_t i = off; i < n && i < off + page; i++)
		json_array_append_new(data, ml_mb_event_json(v[i]));
	free(v);
	json_t *out = json_pack("{s:o, s:n}", "data", data, "next");
	if (off + page < n) {
		char c[48];
		snprintf(c, sizeof c, "events:%zu", off + page);
		char *enc = ml_base64_encode(c, strlen(c));
		json_object_set_new(out, "next", json_string(enc));
		free(enc);
	}
	ml_resp_json(resp, 200, out);
}

void ml_mb_event_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *acct = ml_mb_auth(req, resp);
	if (!acct)
		return;
	json_t *ev = event_find(req->user, acct, req->params[0]);
	if (!ev)
		ml_mb_err(resp, 404, "EVENT_NOT_FOUND", "Event not found");
	else
		ml_resp_json(resp, 200, ml_mb_event_json(ev));
}

/* ---- schedule / unschedule / patch ------------------------------------------------------- */

/* The events an operation reaches: this one, and with all_occurrences every coming one of
 * its series. NULL after answering 400 for a bad all_occurrences. */
static json_t *targets(struct ml_http_req *req, struct ml_http_resp *resp, json_t *root, json_t *ev)
{
	const char *all = ml_http_query(req, "all_occurrences");
	if (all && strcmp(all, "true") && strcmp(all, "false")) {
		ml_mb_err(resp, 400, "FST_ERR_VALIDATION",
		          "querystring/all_occurrences must be boolean");
		return NULL;
	}
	json_t *out = json_array();
	json_array_append(out, ev);
	const char *series = ml_sb_str(ev, "recurring_event_id");
	if (!all || strcmp(all, "true") || !series)
		return out;
	int64_t now = ml_sb_now();
	const char *k;
	json_t *o;
	json_object_foreach(json_object_get(root, "events"), k, o)
	{
		const char *s = ml_sb_str(o, "recurring_event_id");
		if (o != ev && s && !strcmp(s, series) &&
		    !strcmp(ml_sb_str(o, "calendar_uuid"), ml_sb_str(ev, "calendar_uuid")) &&
		    !json_is_true(json_object_get(o, "deleted")) && ml_mb_int(o, "start", 0) >= now)
			json_array_append(out, o);
	}
	return out;
}

static void answer_events(struct ml_http_resp *resp, json_t *list)
{
	json_t *out = json_array(), *ev;
	size_t i;
	json_array_foreach(list, i, ev) json_array_append_new(out, ml_mb_event_json(ev));
	json_decref(list);
	ml_resp_json(resp, 200, out);
}

/* The event of the path, for a bot operation; NULL after answering. */
static json_t *bot_event(struct ml_http_req *req, struct ml_http_resp *resp, json_t **acct)
{
	*acct = ml_mb_auth(req, resp);
	if (!*acct)
		return NULL;
	json_t *ev = event_find(req->user, *acct, req->params[0]);
	if (!ev || json_is_true(json_object_get(ev, "deleted"))) {
		ml_mb_err(resp, 404, "EVENT_NOT_FOUND", "Event not found");
		return NULL;
	}
	return ev;
}

void ml_mb_event_schedule(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *acct, *ev = bot_event(req, resp, &acct);
	if (!ev)
		return;
	json_t *body = ml_sb_json_body(req);
	const char *what = NULL, *field = ml_mb_check_bot_param(body, false, &what);
	const char *url = ml_sb_str(ev, "meeting_url");
	json_t *list = NULL;
	if (field)
		ml_mb_bad(resp, field, what);
	else if (!url || !*url)
		ml_mb_err(resp, 400, "EVENT_HAS_NO_MEETING_URL",
		          "This event has no meeting URL to send a bot to");
	else if ((list = targets(req, resp, req->user, ev))) {
		size_t i;
		json_t *o;
		json_array_foreach(list, i, o)
		{
			json_object_set(o, "schedule", body);
			json_object_set_new(o, "updated_at", json_integer(ml_sb_now_ms()));
		}
		answer_events(resp, list);
	}
	json_decref(body);
}

void ml_mb_event_unschedule(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *acct, *ev = bot_event(req, resp, &acct);
	json_t *list = ev ? targets(req, resp, req->user, ev) : NULL;
	if (!list)
		return;
	size_t i;
	json_t *o;
	json_array_foreach(list, i, o)
	{
		if (!json_is_null(json_object_get(o, "schedule")))
			json_object_set_new(o, "updated_at", json_integer(ml_sb_now_ms()));
		json_object_set_new(o, "schedule", json_null());
	}
	answer_events(resp, list);
}

void ml_mb_event_patch_bot(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *acct, *ev = bot_event(req, resp, &acct);
	if (!ev)
		return;
	json_t *body = ml_sb_json_body(req);
	const char *what = NULL, *field = ml_mb_check_bot_param(body, true, &what);
	json_t *list = NULL;
	if (field)
		ml_mb_bad(resp, field, what);
	else if (!json_is_object(json_object_get(ev, "schedule")))
		ml_mb_err(resp, 404, "NO_BOT_SCHEDULED", "No bot is scheduled for this event");
	else if ((list = targets(req, resp, req->user, ev))) {
		const char *k;
		json_t *v, *o;
		size_t i;
		json_array_foreach(list, i, o)
		{
			json_t *s = json_object_get(o, "schedule");
			if (!json_is_object(s))
				continue;
			json_t *copy = json_deep_copy(s);
			json_object_foreach(body, k, v) if (!json_is_null(v))
			    json_object_set(copy, k, v);
			json_object_set_new(o, "schedule", copy);
			json_object_set_new(o, "updated_at", json_integer(ml_sb_now_ms()));
		}
		answer_events(resp, list);
	}
	json_decref(body);
}

/* ---- dispatch ---------------------------------------------------------------------------- */

void ml_mb_events_dispatch(json_t *root)
{
	int64_t now = ml_sb_now();
	int64_t lead = ml_sb_cfg_int(MBP, "calendar_join_lead_seconds", 60);
	const char *k;
	json_t *ev;
	json_object_foreach(json_object_get(root, "events"), k, ev)
	{
		json_t *s = json_object_get(ev, "schedule");
		if (!json_is_object(s) || !json_is_null(json_object_get(ev, "bot_id")) ||
		    json_is_true(json_object_get(ev, "deleted")) ||
		    ml_mb_int(ev, "start", 0) - lead > now || ml_mb_int(ev, "end", 0) <= now)
			continue;
		json_t *cal = json_object_get(json_object_get(root, "calendars"),
		                              ml_sb_str(ev, "calendar_uuid"));
		json_t *acct = ml_mb_account_by_id(root, ml_mb_int(cal, "account_id", 0));
		if (!acct)
			continue;
		json_t *p = json_deep_copy(s);
		json_object_set(p, "meeting_url", json_object_get(ev, "meeting_url"));
		json_object_set_new(p, "start_time", json_integer(ml_mb_int(ev, "start", 0)));
		json_t *bot = ml_mb_bot_create(root, acct, p, ev);
		json_decref(p);
		json_object_set(ev, "bot_id", json_object_get(bot, "uuid"));
	}
}
