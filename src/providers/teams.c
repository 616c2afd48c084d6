/* Microsoft Teams through Microsoft Graph (sans-IO; see provider.h).
 *
 * A meeting is an Outlook calendar event on the host's calendar with a Teams meeting
 * (isOnlineMeeting, onlineMeetingProvider teamsForBusiness: specs/msgraph), so the host
 * sees it in Outlook, and deleting or moving it there comes back (providers/graph_watch.c).
 * Its external id is "event:<Graph event id>".
 *
 * Create: POST /me/events with transactionId "meetlink-<booking>-<generation>": a repeat
 * (after a timeout, a lost answer, a restart) gets the event it made, never a second one.
 * The join URL is the event's onlineMeeting.joinUrl. The service's lobby and passcode
 * settings are then carried onto the Teams meeting itself: it is found by its join URL
 * (GET /me/onlineMeetings?$filter=JoinWebUrl eq '…') and PATCHed; the passcode Graph makes
 * becomes the meeting's. A mailbox that does not allow Teams meetings makes an event
 * without one: that event is deleted again and the create fails (teams_not_allowed).
 * Update: PATCH of the event's times and subject (the join URL stays), then the settings
 * again. Delete: DELETE of the event (its Teams meeting goes with it); 404/410 mean
 * already gone. A delete without a known id (its create never finished) makes the create
 * call first, which answers the event the transactionId made, then deletes it.
 *
 * Meetings made before events were used are standalone onlineMeetings (an external id
 * without "event:"): their update PATCHes and their delete DELETEs the onlineMeeting.
 * Graph allows 4 concurrent requests per mailbox: remote.max_inflight_per_conn keeps us
 * within it.
 */
#include "core/json_in.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/url.h"
#include "providers/remote.h"
#include "providers/watch.h"

#include <stdlib.h>
#include <string.h>

#define NAME "Microsoft Graph"

static const char *base(const struct ml_pcreds *cr)
{
	return cr->api_base ? cr->api_base : "https://graph.microsoft.com";
}

#define EVENT_PREFIX "event:"

/* The Graph event id of a meeting made as an event, or NULL (a standalone onlineMeeting's). */
static const char *event_id_of(const char *external_id)
{
	size_t n = strlen(EVENT_PREFIX);
	return external_id && strncmp(external_id, EVENT_PREFIX, n) == 0 && external_id[n]
		   ? external_id + n
		   : NULL;
}

/* The service's meeting settings in Graph's onlineMeeting terms (msgraph v1.0 types):
 * waiting_room -> lobbyBypassSettings {scope, isDialInBypassEnabled}: everyone but the
 * organizer waits in the lobby, dial-in callers too; without it everyone bypasses it.
 * passcode -> joinMeetingIdSettings.isPasscodeRequired (Graph makes the passcode itself and
 * answers it: it becomes the meeting's passcode). join_before_host has no onlineMeeting
 * property: Teams lets people in before the organizer unless the lobby holds them. */
static void settings(json_t *b, const struct ml_meeting_req *req)
{
	bool lobby = json_is_true(json_object_get(req->settings, "waiting_room"));
	const char *pw = json_string_value(json_object_get(req->settings, "passcode"));
	json_object_set_new(b, "lobbyBypassSettings",
	                    json_pack("{s:s, s:b}", "scope", lobby ? "organizer" : "everyone",
	                              "isDialInBypassEnabled", !lobby));
	json_object_set_new(b, "joinMeetingIdSettings",
	                    json_pack("{s:b}", "isPasscodeRequired", pw && *pw));
}

static json_t *times(const struct ml_meeting_req *req)
{
	char s[ML_RFC3339_MAX], e[ML_RFC3339_MAX];
	ml_time_format(req->start, s);
	ml_time_format(req->end, e);
	json_t *b = json_pack("{s:s, s:s, s:s}", "subject", req->title ? req->title : "Meeting",
	                      "startDateTime", s, "endDateTime", e);
	settings(b, req);
	return b;
}

static void transaction_id(char *out, size_t n, const struct ml_meeting_req *req)
{
	snprintf(out, n, "meetlink-%s-%u", req->booking_id ? req->booking_id : "", req->generation);
}

/* Graph's dateTimeTimeZone in UTC: "2026-03-15T12:00:00". */
static json_t *dttz(int64_t t)
{
	char s[ML_RFC3339_MAX];
	ml_time_format(t, s);
	return json_pack("{s:s%, s:s}", "dateTime", s, (size_t)19, "timeZone", "UTC");
}

/* The event's fields meetlink sets: subject, times, description, Teams. */
static json_t *event_body(const struct ml_meeting_req *req)
{
	json_t *b = json_pack("{s:s, s:o, s:o, s:b, s:s}", "subject",
	                      req->title ? req->title : "Meeting", "start", dttz(req->start),
	                      "end", dttz(req->end), "isOnlineMeeting", 1,
	                      "onlineMeetingProvider", "teamsForBusiness");
	if (req->description && *req->description)
		json_object_set_new(b, "body", json_pack("{s:s, s:s}", "contentType", "text",
		                                         "content", req->description));
	return b;
}

static void req_event_create(struct ml_pstep *out, const struct ml_meeting_req *req,
                             const struct ml_pcreds *cr, json_t *state)
{
	char tx[96];
	transaction_id(tx, sizeof tx, req);
	json_t *b = event_body(req);
	json_object_set_new(b, "transactionId", json_string(tx));
	ml_pphase(state, "create");
	ml_pstep_json(out, "POST", ml_asprintf("%s/v1.0/me/events", base(cr)), b, cr);
}

/* Graph ids are base64-like (may hold '/', '+', '='): one escaped path segment. */
static char *item_url(const struct ml_pcreds *cr, const char *coll, const char *id)
{
	struct ml_buf b = {0};
	ml_buf_printf(&b, "%s/v1.0/me/%s/", base(cr), coll);
	ml_url_escape(&b, id);
	return ml_buf_steal(&b);
}

/* GET /me/onlineMeetings?$filter=JoinWebUrl eq '<url>' (OData: ' doubled). */
static void req_find(struct ml_pstep *out, const struct ml_pcreds *cr, json_t *state,
                     const char *join_url)
{
	struct ml_buf lit = {0}, b = {0};
	ml_buf_printf(&lit, "JoinWebUrl eq '");
	for (const char *p = join_url; *p; p++)
		ml_buf_append(&lit, *p == '\'' ? "''" : p, *p == '\'' ? 2 : 1);
	ml_buf_printf(&lit, "'");
	ml_buf_printf(&b, "%s/v1.0/me/onlineMeetings?$filter=", base(cr));
	ml_url_escape(&b, lit.data);
	ml_buf_free(&lit);
	ml_pphase(state, "find");
	ml_pstep_http(out, "GET", ml_buf_steal(&b), NULL, NULL, ml_pbearer(cr));
}

static int classify(struct ml_perr *err, const struct ml_presp *r, json_t *body)
{
	json_t *e = json_object_get(body, "error");
	const char *code = ml_pjs(e, "code"), *msg = ml_pjs(e, "message");
	if (r->transport == ML_PT_OK && r->status == 403)
		return ml_perr_set(err, ML_PERR_REAUTH, 403, "reconnect_required",
		                   "The Microsoft connection may not make Teams meetings (%s): "
		                   "reconnect it.",
		                   code ? code : "Forbidden");
	return ml_perr_from_resp(err, r, NAME, code, msg);
}

/* The event's Teams join URL, or NULL (a mailbox that does not allow Teams meetings). */
static const char *event_join_url(json_t *ev)
{
	return ml_pjs(json_object_get(ev, "onlineMeeting"), "joinUrl");
}

static void done_meeting(struct ml_pstep *out, json_t *state, json_t *om)
{
	out->kind = ML_PSTEP_DONE;
	out->meeting.external_id = ml_asprintf(EVENT_PREFIX "%s", ml_pjs(state, "event_id"));
	out->meeting.join_url = ml_strdup(ml_pjs(state, "join_url"));
	out->meeting.host_url = ml_strdup(ml_pjs(state, "join_url"));
	const char *pw = ml_pjs(json_object_get(om, "joinMeetingIdSettings"), "passcode");
	if (pw)
		out->meeting.passcode = ml_strdup(pw);
}

static int bad_answer(struct ml_perr *err, const struct ml_presp *r, const char *what)
{
	return ml_perr_set(err, ML_PERR_RETRY, (int)r->status, "provider_bad_answer",
	                   "Graph answered without %s.", what);
}

/* The answers of the event flow (phases create, update_event, find, settings, discard). */
static int event_answer(enum ml_mop op, const struct ml_meeting_req *req,
                        const struct ml_pcreds *cr, json_t *state, const struct ml_presp *resp,
                        json_t *body, const char *ph, struct ml_pstep *out, struct ml_perr *err)
{
	bool ok = ml_presp_ok(resp);
	if (strcmp(ph, "create") == 0 && ok) {
		const char *id = ml_pjs(body, "id"), *url = event_join_url(body);
		if (!id)
			return bad_answer(err, resp, "an event id");
		json_object_set_new(state, "event_id", json_string(id));
		if (op == ML_MOP_DELETE || !url) {
			ml_pphase(state, op == ML_MOP_DELETE ? "delete" : "discard");
			ml_pstep_http(out, "DELETE", item_url(cr, "events", id), NULL, NULL,
			              ml_pbearer(cr));
			return 0;
		}
		json_object_set_new(state, "join_url", json_string(url));
		req_find(out, cr, state, url);
		return 0;
	}
	if (strcmp(ph, "discard") == 0 && (ok || ml_presp_gone(resp)))
		return ml_perr_set(err, ML_PERR_PERMANENT, 0, "teams_not_allowed",
		                   "The host's mailbox does not allow Teams meetings "
		                   "(allowedOnlineMeetingProviders): the event Graph made had none.");
	if (strcmp(ph, "update_event") == 0 && ml_presp_gone(resp)) {
		out->kind = ML_PSTEP_DONE;
		out->provider_cancelled = true;
		return 0;
	}
	if (strcmp(ph, "update_event") == 0 && ok) {
		const char *url = event_join_url(body);
		if (!url)
			url = req->join_url;
		if (!url)
			return bad_answer(err, resp, "a join URL");
		json_object_set_new(state, "event_id", json_string(event_id_of(req->external_id)));
		json_object_set_new(state, "join_url", json_string(url));
		req_find(out, cr, state, url);
		return 0;
	}
	if (strcmp(ph, "find") == 0 && ok) {
		json_t *om = json_array_get(json_object_get(body, "value"), 0);
		const char *id = ml_pjs(om, "id");
		if (!id)
			return bad_answer(err, resp, "the event's Teams meeting");
		json_t *b = json_object();
		settings(b, req);
		ml_pphase(state, "settings");
		ml_pstep_json(out, "PATCH", item_url(cr, "onlineMeetings", id), b, cr);
		return 0;
	}
	if (strcmp(ph, "settings") == 0 && ok) {
		done_meeting(out, state, body);
		return 0;
	}
	return 1; /* not the event flow's */
}

static int teams_start(enum ml_mop op, const struct ml_meeting_req *req,
                       const struct ml_pcreds *cr, json_t *state, struct ml_pstep *out)
{
	const char *ev = event_id_of(req->external_id);
	switch (op) {
	case ML_MOP_CREATE:
	case ML_MOP_OPEN:
		req_event_create(out, req, cr, state);
		return 0;
	case ML_MOP_UPDATE:
		if (ev) {
			ml_pphase(state, "update_event");
			ml_pstep_json(out, "PATCH", item_url(cr, "events", ev), event_body(req), cr);
		} else {
			ml_pphase(state, "update");
			ml_pstep_json(out, "PATCH",
			              item_url(cr, "onlineMeetings",
			                       req->external_id ? req->external_id : "-"),
			              times(req), cr);
		}
		return 0;
	case ML_MOP_RECONCILE:
	case ML_MOP_END: /* (no end call: ops->end is NULL) */
		out->kind = ML_PSTEP_DONE; /* ids make repeats harmless */
		return 0;
	case ML_MOP_DELETE:
		if (!req->external_id) {
			req_event_create(out, req, cr, state);
			return 0;
		}
		ml_pphase(state, "delete");
		ml_pstep_http(out, "DELETE",
		              ev ? item_url(cr, "events", ev)
		                 : item_url(cr, "onlineMeetings", req->external_id),
		              NULL, NULL, ml_pbearer(cr));
		return 0;
	}
	return 0;
}

static int teams_step(const struct ml_provider_ctx *cx, enum ml_mop op,
                      const struct ml_meeting_req *req, const struct ml_pcreds *cr, json_t *state,
                      const struct ml_presp *resp, struct ml_pstep *out, struct ml_perr *err)
{
	(void)cx;
	memset(out, 0, sizeof *out);
	if (!resp)
		return teams_start(op, req, cr, state, out);
	json_t *body = ml_presp_json(resp);
	bool ok = ml_presp_ok(resp);
	const char *ph = ml_pjs(state, "phase");
	ph = ph ? ph : "";
	int rc = event_answer(op, req, cr, state, resp, body, ph, out, err);
	if (rc <= 0)
		goto done;
	rc = 0;
	/* update, delete: the event's, or a standalone onlineMeeting's (made before events
	 * were used). */
	if (ml_presp_settles(ph, resp, out)) {
		if (strcmp(ph, "update") == 0 && ok && ml_pjs(body, "joinWebUrl"))
			out->meeting.join_url = ml_strdup(ml_pjs(body, "joinWebUrl"));
		goto done;
	}
	rc = classify(err, resp, body);
done:
	return ml_pstep_end(out, rc, body);
}

/* --- connecting an account --- */

static const char *setting(const struct ml_endpoint_env *env, const char *name)
{
	const char *v = env->setting ? env->setting(env->arg, name) : NULL;
	return v && *v ? v : NULL;
}

static int teams_endpoints(const struct ml_endpoint_env *env, struct ml_endpoints *out)
{
	const char *tenant = setting(env, "MEETLINK_MICROSOFT_TENANT");
	const char *sb = env->sandbox;
	if (!tenant)
		tenant = "common";
	if (sb) {
		out->authorize_url =
		    ml_asprintf("%s/microsoft/%s/oauth2/v2.0/authorize", sb, tenant);
		out->token_url = ml_asprintf("%s/microsoft/%s/oauth2/v2.0/token", sb, tenant);
		out->account_url = ml_asprintf("%s/microsoft/v1.0/me", sb);
		out->api_base = ml_asprintf("%s/microsoft", sb);
		return 0;
	}
	out->authorize_url =
	    ml_asprintf("https://login.microsoftonline.com/%s/oauth2/v2.0/authorize", tenant);
	out->token_url =
	    ml_asprintf("https://login.microsoftonline.com/%s/oauth2/v2.0/token", tenant);
	/* No revocation endpoint for a single grant: the user removes the app themselves. */
	out->account_url = ml_strdup("https://graph.microsoft.com/v1.0/me");
	out->api_base = ml_strdup("https://graph.microsoft.com");
	return 0;
}

/* Graph's /me: "mail", or the sign-in name when the mailbox has no address. */
static char *teams_parse_account(const char *body)
{
	json_t *j = body ? ml_json_parse(body, strlen(body), 0, ML_JSON_MAX_DEPTH, NULL) : NULL;
	const char *email = json_string_value(json_object_get(j, "mail"));
	char *out = NULL;
	if (!email)
		email = json_string_value(json_object_get(j, "userPrincipalName"));
	if (email && *email && strlen(email) < 320)
		out = ml_strdup(email);
	json_decref(j);
	return out;
}

static const char *const teams_authorize_params[] = {
    "response_mode", "query", "prompt", "select_account", NULL,
};

/* OnlineMeetings and Calendars, offline_access for a refresh token, User.Read for /me. */
static const struct ml_oauth_info teams_oauth = {
    .env = "MICROSOFT",
    .sandbox_client_id = "11111111-2222-3333-4444-555555555555",
    .sandbox_client_secret = "sandbox~microsoft~secret",
    .scopes = "offline_access User.Read OnlineMeetings.ReadWrite Calendars.ReadWrite",
    .flags = ML_OAUTH_SCOPE_ON_TOKEN,
    .authorize_params = teams_authorize_params,
    .parse_account = teams_parse_account,
};

static const struct ml_remote_info info = {
    .max_inflight_per_conn = 4, /* Graph: 4 concurrent requests per mailbox */
    .qps_per_conn = 0,
    .max_inflight_setting = "MEETLINK_TEAMS_MAX_INFLIGHT",
};

const struct ml_provider_ops ml_provider_teams = {
    .abi = ML_PROVIDER_ABI,
    .name = "teams",
    .label = "Microsoft Teams",
    .caps = ML_CAP_REMOTE | ML_CAP_OAUTH | ML_CAP_UPDATE | ML_CAP_DELETE | ML_CAP_BOT_JOINS,
    .remote_step = teams_step,
    .remote = &info,
    .endpoints = teams_endpoints,
    .oauth = &teams_oauth,
    .watch = &ml_graph_watch,
};
