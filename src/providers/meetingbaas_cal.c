/* MeetingBaas calendars (API v1 /calendars/, /calendar_events/): a host's Google or
 * Microsoft calendar registered with MeetingBaas from meetlink's OAuth client and the host's
 * refresh token (sent only here, only to the configured MeetingBaas base URL), its events,
 * and a bot scheduled or unscheduled per event (one or all occurrences). Sans-IO. */
#include "core/error.h"
#include "core/mem.h"
#include "core/url.h"
#include "providers/meetingbaas.h"
#include "providers/remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MB_HEADER "x-meeting-baas-api-key"

static void cal_http(struct ml_pstep *out, const struct ml_pcreds *cr, const char *method,
                     char *url, json_t *body)
{
	char *text = NULL;
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		json_decref(body);
	}
	const char *k = json_string_value(json_object_get(cr ? cr->extra : NULL, "api_key"));
	ml_pstep_http(out, method, url, text, text ? "application/json" : NULL, NULL);
	out->http.header_name = MB_HEADER;
	out->http.header_value = ml_strdup(k ? k : "");
}

/* MeetingBaas's name of a meetlink calendar platform (the OAuth account's). */
static const char *mb_platform(const char *p)
{
	if (p && strcmp(p, "google_meet") == 0)
		return "Google";
	if (p && strcmp(p, "teams") == 0)
		return "Microsoft";
	return NULL;
}

static int fail(const struct ml_presp *r, struct ml_pstep *out, struct ml_perr *err,
                const char *what)
{
	json_t *b = ml_presp_json(r);
	const char *m = ml_pjs(b, "message");
	char msg[160];
	snprintf(msg, sizeof msg, "%s", m ? m : "");
	json_decref(b);
	out->kind = ML_PSTEP_FAIL;
	if (r->transport == ML_PT_OK && (r->status == 401 || r->status == 403))
		return ml_perr_set(err, ML_PERR_PERMANENT, (int)r->status, "invalid_credentials",
		                   "MeetingBaas refused the organization's API key (%s).", what);
	if (ml_presp_gone(r))
		return ml_perr_set(err, ML_PERR_GONE, (int)r->status, "not_found",
		                   "MeetingBaas does not know it (%s).", what);
	if (r->transport == ML_PT_OK && r->status >= 400 && r->status < 500 && r->status != 408 &&
	    r->status != 429)
		return ml_perr_set(err, ML_PERR_PERMANENT, (int)r->status, "recorder_refused",
		                   "MeetingBaas refused to %s (HTTP %ld)%s%s", what, r->status,
		                   msg[0] ? ": " : ".", msg);
	return ml_perr_from_resp(err, r, "MeetingBaas", "recorder_unavailable", what);
}

/* One MeetingBaas Event as meetlink shows it. */
static json_t *event_of(json_t *e)
{
	json_t *bp = json_object_get(e, "bot_param");
	return json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:b, s:s?, s:b, s:s?}", "id", ml_pjs(e, "uuid"),
	                 "name", ml_pjs(e, "name"), "start", ml_pjs(e, "start_time"), "end",
	                 ml_pjs(e, "end_time"), "meeting_url", ml_pjs(e, "meeting_url"),
	                 "is_recurring", json_is_true(json_object_get(e, "is_recurring")),
	                 "recurring_event_id", ml_pjs(e, "recurring_event_id"), "recording",
	                 json_is_object(bp), "bot_name", json_is_object(bp) ? ml_pjs(bp, "bot_name") : NULL);
}

static json_t *events_of(json_t *arr)
{
	json_t *out = json_array(), *e;
	size_t i;
	json_array_foreach(arr, i, e)
	{
		if (!json_is_true(json_object_get(e, "deleted")) && ml_pjs(e, "uuid"))
			json_array_append_new(out, event_of(e));
	}
	return out;
}

/* `next` may be a URL with a cursor parameter or the cursor itself. */
static json_t *cursor_of(const char *next)
{
	if (!next || !*next)
		return NULL;
	const char *c = strstr(next, "cursor=");
	if (!c)
		return strchr(next, '/') ? NULL : json_string(next);
	c += 7;
	size_t n = strcspn(c, "&");
	char *v = ml_strndup(c, n);
	json_t *j = json_string(v);
	free(v);
	return j;
}

/* The calendar's bots carry its id (extra.meetlink_calendar): their webhooks name the
 * organization whose key they must carry, and make recordings of that calendar. */
static json_t *bot_param(const struct ml_bot_req *q, const char *calendar_id)
{
	json_t *b = json_pack("{s:s}", "bot_name", q && q->bot_name ? q->bot_name : "meetlink recorder");
	if (calendar_id)
		json_object_set_new(b, "extra", json_pack("{s:s}", "meetlink_calendar", calendar_id));
	if (!q)
		return b;
	if (q->recording_mode)
		json_object_set_new(b, "recording_mode", json_string(q->recording_mode));
	if (q->transcription)
		json_object_set_new(b, "speech_to_text", json_pack("{s:s}", "provider", q->transcription));
	if (q->waiting_room_timeout > 0)
		json_object_set_new(b, "waiting_room_timeout", json_integer(q->waiting_room_timeout));
	if (q->noone_joined_timeout > 0)
		json_object_set_new(b, "noone_joined_timeout", json_integer(q->noone_joined_timeout));
	if (q->silence_timeout > 0)
		json_object_set_new(b, "silence_timeout", json_integer(q->silence_timeout));
	if (q->webhook_url)
		json_object_set_new(b, "webhook_url", json_string(q->webhook_url));
	return b;
}

static int start(enum ml_cop op, const struct ml_cal_req *q, const struct ml_pcreds *cr,
                 struct ml_pstep *out, struct ml_perr *err)
{
	char *id = ml_url_encode(q->calendar_id ? q->calendar_id : "");
	char *ev = ml_url_encode(q->event_id ? q->event_id : "");
	const char *all = q->all_occurrences ? "true" : "false";
	int rc = 0;
	switch (op) {
	case ML_COP_CREATE: {
		const char *p = mb_platform(q->platform);
		if (!p || !q->client_id || !q->client_secret || !q->refresh_token) {
			out->kind = ML_PSTEP_FAIL;
			ml_error_set(ML_EINVAL, "invalid_field", "platform",
			             "platform must be a connected Google or Microsoft calendar "
			             "(google_meet or teams).");
			rc = ml_perr_set(err, ML_PERR_PERMANENT, 0, "invalid_field", "platform");
			break;
		}
		json_t *b = json_pack("{s:s, s:s, s:s, s:s}", "oauth_client_id", q->client_id,
		                      "oauth_client_secret", q->client_secret, "oauth_refresh_token",
		                      q->refresh_token, "platform", p);
		if (q->raw_calendar_id)
			json_object_set_new(b, "raw_calendar_id", json_string(q->raw_calendar_id));
		cal_http(out, cr, "POST", ml_asprintf("%s/calendars/", cr->api_base), b);
		out->http.not_idempotent = true;
		break;
	}
	case ML_COP_DELETE:
		cal_http(out, cr, "DELETE", ml_asprintf("%s/calendars/%s", cr->api_base, id), NULL);
		break;
	case ML_COP_EVENTS: {
		char *cur = q->cursor ? ml_url_encode(q->cursor) : NULL;
		cal_http(out, cr, "GET",
		         ml_asprintf("%s/calendar_events/?calendar_id=%s%s%s", cr->api_base, id,
		                     cur ? "&cursor=" : "", cur ? cur : ""),
		         NULL);
		free(cur);
		break;
	}
	case ML_COP_SCHEDULE:
		cal_http(out, cr, "POST",
		         ml_asprintf("%s/calendar_events/%s/bot?all_occurrences=%s", cr->api_base, ev,
		                     all),
		         bot_param(q->bot, q->calendar_id));
		break;
	case ML_COP_UNSCHEDULE:
		cal_http(out, cr, "DELETE",
		         ml_asprintf("%s/calendar_events/%s/bot?all_occurrences=%s", cr->api_base,
		                     ev, all),
		         NULL);
		break;
	}
	free(id);
	free(ev);
	return rc;
}

int ml_mb_cal_step(const struct ml_provider_ctx *cx, enum ml_cop op, const struct ml_cal_req *q,
                   const struct ml_pcreds *cr, json_t *state, const struct ml_presp *r,
                   struct ml_pstep *out, struct ml_perr *err)
{
	static const char *const what[] = {[ML_COP_CREATE] = "register the calendar",
	                                   [ML_COP_DELETE] = "remove the calendar",
	                                   [ML_COP_EVENTS] = "list the calendar's events",
	                                   [ML_COP_SCHEDULE] = "record the event",
	                                   [ML_COP_UNSCHEDULE] = "stop recording the event"};
	(void)cx;
	if (op < ML_COP_CREATE || op > ML_COP_UNSCHEDULE) {
		out->kind = ML_PSTEP_FAIL;
		return ml_perr_set(err, ML_PERR_PERMANENT, 0, "invalid_request", "Unknown operation.");
	}
	if (!r)
		return start(op, q, cr, out, err);
	if (op == ML_COP_DELETE && ml_presp_gone(r)) {
		out->kind = ML_PSTEP_DONE;
		return 0;
	}
	if (!ml_presp_ok(r))
		return fail(r, out, err, what[op]);
	json_t *b = ml_presp_json(r);
	int rc = 0;
	switch (op) {
	case ML_COP_CREATE: {
		json_t *c = json_object_get(b, "calendar");
		if (!ml_pjs(c, "uuid")) {
			out->kind = ML_PSTEP_FAIL;
			rc = ml_perr_set(err, ML_PERR_RETRY, (int)r->status, "invalid_answer",
			                 "MeetingBaas answered without a calendar.");
			break;
		}
		json_object_set_new(state, "calendar",
		                    json_pack("{s:s, s:s?, s:s?}", "id", ml_pjs(c, "uuid"), "email",
		                              ml_pjs(c, "email"), "name", ml_pjs(c, "name")));
		out->kind = ML_PSTEP_DONE;
		break;
	}
	case ML_COP_EVENTS: {
		json_object_set_new(state, "events", events_of(json_object_get(b, "data")));
		json_t *next = cursor_of(ml_pjs(b, "next"));
		if (next)
			json_object_set_new(state, "next", next);
		out->kind = ML_PSTEP_DONE;
		break;
	}
	case ML_COP_SCHEDULE:
	case ML_COP_UNSCHEDULE:
		json_object_set_new(state, "events", events_of(b));
		out->kind = ML_PSTEP_DONE;
		break;
	default:
		out->kind = ML_PSTEP_DONE;
		break;
	}
	return ml_pstep_end(out, rc, b);
}
