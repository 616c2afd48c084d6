/* Microsoft emulator: Graph v1.0 /me/events (specs/msgraph/msgraph-notes.json, the CSDL
 * event type): events with Teams meetings (an event's Teams meeting is also an onlineMeeting
 * of the organizer, microsoft.c), transactionId, and the change notifications each change
 * sends (microsoft_subs.c). State: root["events"] {upn: {id: event}}. */
#include "sandbox/microsoft.h"

#include "core/mem.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- Graph: events ------------------------------------------------------------------- */

/* Graph answers enum members in their declared case ("HTML" comes back as "html"). */
static void normalize_body(json_t *ev)
{
	json_t *b = json_object_get(ev, "body");
	const char *ct = ml_sb_str(b, "contentType");
	if (ct)
		json_object_set_new(b, "contentType",
		                    json_string(strcasecmp(ct, "html") == 0 ? "html" : "text"));
}

static void normalize_dttz(json_t *v)
{
	const char *dt = ml_sb_str(v, "dateTime");
	if (!dt)
		return;
	char buf[40];
	snprintf(buf, sizeof buf, "%.19s.0000000", dt);
	json_object_set_new(v, "dateTime", json_string(buf));
}

static void attach_online_meeting(json_t *root, const char *user, json_t *ev)
{
	if (!json_is_true(json_object_get(ev, "isOnlineMeeting")))
		return;
	const char *prov = ml_sb_str(ev, "onlineMeetingProvider");
	if (!prov || strcmp(prov, "unknown") == 0)
		prov = "teamsForBusiness"; /* the mailbox default */
	const char *allowed =
	    ml_sb_cfg_str(P, "allowed_online_meeting_providers", "teamsForBusiness");
	if (!has_word(allowed, prov)) {
		/* Graph silently creates no meeting for a provider the mailbox does not allow. */
		json_object_set_new(ev, "isOnlineMeeting", json_false());
		json_object_set_new(ev, "onlineMeetingProvider", json_string("unknown"));
		json_object_set_new(ev, "onlineMeeting", json_null());
		return;
	}
	if (json_is_object(json_object_get(ev, "onlineMeeting")))
		return; /* keeps its meeting across updates */
	json_t *fields = json_pack("{s:s?}", "subject", ml_sb_str(ev, "subject"));
	json_t *m = ml_sb_ms_new_meeting(root, user, fields);
	json_decref(fields);
	/* The event's Teams meeting is an onlineMeeting of the organizer too (found by its
	 * joinWebUrl, patched for its lobby and passcode), kept in step with the event. */
	json_object_set(ml_sb_ms_bucket(root, "meetings", user), ml_sb_str(m, "id"), m);
	char *tollnum = ml_sb_rand("+1 323-555-", 4, ML_SB_DIGITS);
	char *confid = ml_sb_rand("", 9, ML_SB_DIGITS);
	json_object_set_new(ev, "onlineMeetingProvider", json_string(prov));
	json_object_set_new(ev, "onlineMeeting",
	                    json_pack("{s:O, s:s, s:s, s:[], s:[]}", "joinUrl",
	                              json_object_get(m, "joinWebUrl"), "conferenceId", confid,
	                              "tollNumber", tollnum, "tollFreeNumbers", "phones"));
	json_decref(m);
	free(tollnum);
	free(confid);
}

static const char *event_join_url(json_t *ev)
{
	return ml_sb_str(json_object_get(ev, "onlineMeeting"), "joinUrl");
}

/* The event's times and subject onto its Teams meeting (UTC: what the emulator keeps). */
static void sync_event_meeting(json_t *root, const char *user, json_t *ev)
{
	json_t *m = ml_sb_ms_meeting_by_url(root, user, event_join_url(ev));
	if (!m)
		return;
	const char *which[2][2] = {{"start", "startDateTime"}, {"end", "endDateTime"}};
	for (int i = 0; i < 2; i++) {
		const char *dt = ml_sb_str(json_object_get(ev, which[i][0]), "dateTime");
		if (dt && strlen(dt) >= 19) {
			char buf[40];
			snprintf(buf, sizeof buf, "%.19sZ", dt);
			json_object_set_new(m, which[i][1], json_string(buf));
		}
	}
	json_object_set(m, "subject", json_object_get(ev, "subject"));
}

static void set_modified(json_t *ev)
{
	char now[ML_RFC3339_MAX + 8];
	char ts[ML_RFC3339_MAX];
	ml_time_format(ml_sb_now(), ts);
	snprintf(now, sizeof now, "%.19s.0000000Z", ts);
	json_object_set_new(ev, "lastModifiedDateTime", json_string(now));
	char *ck = ml_sb_rand("", 22, ML_SB_ALNUM);
	char *etag = ml_asprintf("W/\"%s\"", ck);
	json_object_set_new(ev, "changeKey", json_string(ck));
	json_object_set_new(ev, "@odata.etag", json_string(etag));
	free(ck);
	free(etag);
}

void ml_sb_ms_events_create(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user;
	const char *user = ml_sb_ms_user(req, resp, "Calendars.ReadWrite", "ErrorAccessDenied");
	if (!user)
		return;
	json_t *b = ml_sb_ms_body_object(req, resp);
	if (!b || !ml_sb_ms_validate_event(b, true, resp)) {
		json_decref(b);
		return;
	}
	json_t *bucket = ml_sb_ms_bucket(root, "events", user);
	const char *tx = ml_sb_str(b, "transactionId");
	if (tx) {
		/* A retried create with the same transactionId gets the event it made. An empty
		 * one also matches events without any: walked, as before. */
		json_t *v = NULL, *e;
		const char *k;
		if (*tx)
			v = ml_sb_ms_tx_find(root, user, bucket, tx);
		else
			json_object_foreach(bucket, k, e)
				if (!v && !*nz(ml_sb_str(e, "transactionId")))
					v = e;
		if (v) {
			ml_resp_json(resp, 201, json_deep_copy(v));
			json_decref(b);
			return;
		}
	}
	json_t *u = json_object_get(json_object_get(root, "users"), user);
	char *r = ml_sb_rand("", 100, ML_SB_ALNUM);
	char *id = ml_asprintf("AAMkAG%sAAA=", r);
	char *uid = ml_sb_rand("040000008200E00074C5B7101A82E008", 80, "0123456789ABCDEF");
	char *link = ml_asprintf(
	    "https://outlook.office365.com/owa/?itemid=%s&exvsurl=1&path=/calendar/item", r);
	char now[ML_RFC3339_MAX + 8], ts[ML_RFC3339_MAX];
	ml_time_format(ml_sb_now(), ts);
	snprintf(now, sizeof now, "%.19s.0000000Z", ts);
	json_t *ev = json_pack(
	    "{s:s, s:s, s:s, s:[], s:s, s:i, s:b, s:b, s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:n,"
	    " s:s, s:s, s:s, s:b, s:b, s:b, s:{s:s, s:s}, s:{s:s, s:s}, s:{s:s, s:s, s:s},"
	    " s:[], s:n, s:[], s:{s:{s:s, s:s}}, s:n, s:n}",
	    "@odata.context", GRAPH "/$metadata#users('me')/events/$entity", "id", id,
	    "createdDateTime", now, "categories", "iCalUId", uid, "reminderMinutesBeforeStart", 15,
	    "isReminderOn", 1, "hasAttachments", 0, "subject", "", "bodyPreview", "", "importance",
	    "normal", "isAllDay", 0, "isCancelled", 0, "isOrganizer", 1, "responseRequested", 1,
	    "seriesMasterId", "showAs", "busy", "type", "singleInstance", "webLink", link,
	    "isOnlineMeeting", 0, "allowNewTimeProposals", 1, "isDraft", 0, "responseStatus",
	    "response", "organizer", "time", "0001-01-01T00:00:00Z", "body", "contentType", "html",
	    "content", "", "location", "displayName", "", "locationType", "default", "uniqueIdType",
	    "unknown", "locations", "recurrence", "attendees", "organizer", "emailAddress", "name",
	    nz(ml_sb_str(u, "displayName")), "address", user, "onlineMeeting", "onlineMeetingUrl");
	json_object_set_new(ev, "sensitivity", json_string("normal"));
	json_object_set_new(ev, "onlineMeetingProvider", json_string("unknown"));
	const char *k;
	json_t *v;
	json_object_foreach(b, k, v) if (strcmp(k, "id") && strcmp(k, "@odata.context") &&
	                                 strcmp(k, "organizer")) json_object_set(ev, k, v);
	normalize_dttz(json_object_get(ev, "start"));
	normalize_dttz(json_object_get(ev, "end"));
	normalize_body(ev);
	json_object_set(ev, "originalStartTimeZone",
	                json_object_get(json_object_get(ev, "start"), "timeZone"));
	json_object_set(ev, "originalEndTimeZone",
	                json_object_get(json_object_get(ev, "end"), "timeZone"));
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(ev, "attendees"), i, a)
	{
		if (!json_object_get(a, "type"))
			json_object_set_new(a, "type", json_string("required"));
		json_object_set_new(
		    a, "status",
		    json_pack("{s:s, s:s}", "response", "none", "time", "0001-01-01T00:00:00Z"));
	}
	const char *content = ml_sb_str(json_object_get(ev, "body"), "content");
	if (content) {
		char prev[256];
		snprintf(prev, sizeof prev, "%.255s", content);
		json_t *pv = json_string(prev); /* NULL when the cut split a UTF-8 sequence */
		json_object_set_new(ev, "bodyPreview", pv ? pv : json_string(""));
	}
	attach_online_meeting(root, user, ev);
	set_modified(ev);
	sync_event_meeting(root, user, ev);
	json_object_set(bucket, id, ev);
	ml_sb_ms_tx_add(root, user, ev);
	ml_resp_json(resp, 201, json_incref(ev));
	ml_sb_ms_events_changed(root, user, id, "created");
	json_decref(ev);
	free(r);
	free(id);
	free(uid);
	free(link);
	json_decref(b);
}

static json_t *find_event(struct ml_http_req *req, struct ml_http_resp *resp, const char *perm,
                          const char **user)
{
	*user = ml_sb_ms_user(req, resp, perm, "ErrorAccessDenied");
	if (!*user)
		return NULL;
	json_t *ev = json_object_get(ml_sb_ms_bucket(req->user, "events", *user), req->params[0]);
	if (!ev)
		ml_sb_ms_gerr(resp, 404, "ErrorItemNotFound",
		              "The specified object was not found in the store.");
	return ev;
}

void ml_sb_ms_events_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *user;
	json_t *ev = find_event(req, resp, "Calendars.Read Calendars.ReadWrite", &user);
	if (ev)
		ml_resp_json(resp, 200, json_deep_copy(ev));
}

void ml_sb_ms_events_list(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *user =
	    ml_sb_ms_user(req, resp, "Calendars.Read Calendars.ReadWrite", "ErrorAccessDenied");
	if (!user)
		return;
	const char *top = ml_http_query(req, "$top"), *skip = ml_http_query(req, "$skip");
	long ntop = 10, nskip = 0;
	char *end;
	if (top) {
		ntop = strtol(top, &end, 10);
		if (*end || ntop < 0 || ntop > 1000) {
			ml_sb_ms_gerr(resp, 400, "BadRequest", "Invalid $top value.");
			return;
		}
	}
	if (skip) {
		nskip = strtol(skip, &end, 10);
		if (*end || nskip < 0) {
			ml_sb_ms_gerr(resp, 400, "BadRequest", "Invalid $skip value.");
			return;
		}
	}
	json_t *items = json_array();
	const char *k;
	json_t *v;
	long idx = 0, total = 0;
	json_object_foreach(ml_sb_ms_bucket(req->user, "events", user), k, v)
	{
		total++;
		if (idx++ < nskip || (long)json_array_size(items) >= ntop)
			continue;
		json_t *c = json_deep_copy(v);
		json_object_del(c, "@odata.context");
		json_array_append_new(items, c);
	}
	json_t *out = json_pack("{s:s, s:o}", "@odata.context",
	                        GRAPH "/$metadata#users('me')/events", "value", items);
	if (nskip + (long)json_array_size(items) < total) {
		char *next =
		    ml_asprintf("%s/microsoft/v1.0/me/events?$top=%ld&$skip=%ld", ml_sb_base_url(),
		                ntop, nskip + (long)json_array_size(items));
		json_object_set_new(out, "@odata.nextLink", json_string(next));
		free(next);
	}
	ml_resp_json(resp, 200, out);
}

void ml_sb_ms_events_patch(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *user;
	json_t *ev = find_event(req, resp, "Calendars.ReadWrite", &user);
	if (!ev)
		return;
	json_t *b = ml_sb_ms_body_object(req, resp);
	if (!b || !ml_sb_ms_validate_event(b, false, resp)) {
		json_decref(b);
		return;
	}
	json_t *tx = json_object_get(b, "transactionId");
	if (tx && !json_equal(tx, json_object_get(ev, "transactionId"))) {
		ml_sb_ms_gerr(resp, 400, "ErrorInvalidRequest",
		              "The transactionId property cannot be changed.");
		json_decref(b);
		return;
	}
	json_t *next = json_deep_copy(ev);
	const char *k;
	json_t *v;
	json_object_foreach(b, k, v) if (strcmp(k, "id") && strcmp(k, "@odata.context"))
	    json_object_set(next, k, v);
	if (!ml_sb_ms_validate_event(next, true, resp)) {
		json_decref(next);
		json_decref(b);
		return;
	}
	normalize_dttz(json_object_get(next, "start"));
	normalize_dttz(json_object_get(next, "end"));
	normalize_body(next);
	/* A Teams meeting cannot be removed from an event by PATCH: Graph keeps it. */
	if (json_is_true(json_object_get(ev, "isOnlineMeeting")))
		json_object_set_new(next, "isOnlineMeeting", json_true());
	attach_online_meeting(req->user, user, next);
	set_modified(next);
	sync_event_meeting(req->user, user, next);
	json_object_set(ml_sb_ms_bucket(req->user, "events", user), req->params[0], next);
	ml_resp_json(resp, 200, json_deep_copy(next));
	ml_sb_ms_events_changed(req->user, user, req->params[0], "updated");
	json_decref(next);
	json_decref(b);
}

json_t *ml_sb_ms_move_event(json_t *root, const char *user, const char *id, int64_t start,
                            int64_t end)
{
	json_t *ev = json_object_get(ml_sb_ms_bucket(root, "events", user), id);
	if (!ev)
		return NULL;
	int64_t t[2] = {start, end};
	const char *which[2] = {"start", "end"};
	for (int i = 0; i < 2; i++) {
		char s[ML_RFC3339_MAX];
		ml_time_format(t[i], s);
		json_object_set_new(ev, which[i], json_pack("{s:s%, s:s}", "dateTime", s, (size_t)19,
		                                            "timeZone", "UTC"));
		normalize_dttz(json_object_get(ev, which[i]));
	}
	set_modified(ev);
	sync_event_meeting(root, user, ev);
	return ev;
}

/* An event goes, and its Teams meeting with it. */
void ml_sb_ms_drop_event(json_t *root, const char *user, const char *id)
{
	json_t *ev = json_object_get(ml_sb_ms_bucket(root, "events", user), id);
	json_t *m = ev ? ml_sb_ms_meeting_by_url(root, user, event_join_url(ev)) : NULL;
	if (m)
		json_object_del(ml_sb_ms_bucket(root, "meetings", user), ml_sb_str(m, "id"));
	json_object_del(ml_sb_ms_bucket(root, "events", user), id);
}

static void drop_event(json_t *root, const char *user, const char *id)
{
	ml_sb_ms_drop_event(root, user, id);
}

void ml_sb_ms_events_delete(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *user;
	json_t *ev = find_event(req, resp, "Calendars.ReadWrite", &user);
	if (!ev)
		return;
	drop_event(req->user, user, req->params[0]);
	ml_resp_body(resp, 204, "application/json", "", 0);
	ml_sb_ms_events_changed(req->user, user, req->params[0], "deleted");
}

/* POST /me/events/{id}/cancel: the organizer cancels and attendees are told. */
void ml_sb_ms_events_cancel(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *user;
	json_t *ev = find_event(req, resp, "Calendars.ReadWrite", &user);
	if (!ev)
		return;
	json_t *b = req->body_len ? ml_sb_json_body(req) : json_object();
	if (!json_is_object(b)) {
		json_decref(b);
		ml_sb_ms_gerr(resp, 400, "BadRequest", "Unable to read JSON request payload.");
		return;
	}
	json_array_append_new(json_object_get(req->user, "cancellations"),
	                      json_pack("{s:s, s:s, s:s?}", "user", user, "eventId", req->params[0],
	                                "comment", ml_sb_str(b, "comment")));
	drop_event(req->user, user, req->params[0]);
	ml_sb_ms_events_changed(req->user, user, req->params[0], "deleted");
	json_decref(b);
	ml_resp_body(resp, 202, "application/json", "", 0);
}

