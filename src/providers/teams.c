/* Microsoft Teams through Microsoft Graph (sans-IO; see provider.h).
 *
 * Create: POST /me/onlineMeetings/createOrGet with an externalId derived from the booking
 * and its generation: a repeat (after a timeout, a lost answer, a restart) returns the same
 * meeting, never a second one. Update: PATCH of the times and subject (same join URL).
 * Delete: DELETE; 404/410 mean already gone. A delete without a known id (its create never
 * finished) asks createOrGet for the id first, then deletes it. Graph allows 4 concurrent
 * requests per mailbox: remote.max_inflight_per_conn keeps us within it.
 */
#include "core/json_in.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/url.h"
#include "providers/remote.h"

#include <stdlib.h>
#include <string.h>

#define NAME "Microsoft Graph"

static const char *base(const struct ml_pcreds *cr)
{
	return cr->api_base ? cr->api_base : "https://graph.microsoft.com";
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

static void req_create_or_get(struct ml_pstep *out, const struct ml_meeting_req *req,
                              const struct ml_pcreds *cr, json_t *state)
{
	char ext[96];
	snprintf(ext, sizeof ext, "meetlink-%s-%u", req->booking_id ? req->booking_id : "",
	         req->generation);
	json_t *b = times(req);
	json_object_set_new(b, "externalId", json_string(ext));
	ml_pphase(state, "create");
	ml_pstep_json(out, "POST", ml_asprintf("%s/v1.0/me/onlineMeetings/createOrGet", base(cr)),
	              b, cr);
}

/* Graph ids are base64-like (may hold '/', '+', '='): one escaped path segment. */
static char *meeting_url(const struct ml_pcreds *cr, const char *id)
{
	struct ml_buf b = {0};
	ml_buf_printf(&b, "%s/v1.0/me/onlineMeetings/", base(cr));
	ml_url_escape(&b, id);
	return ml_buf_steal(&b);
}

static int classify(struct ml_perr *err, const struct ml_presp *r, json_t *body)
{
	json_t *e = json_object_get(body, "error");
	const char *code = ml_pjs(e, "code"), *msg = ml_pjs(e, "message");
	if (r->transport == ML_PT_OK && r->status == 403)
		return ml_perr_set(err, ML_PERR_REAUTH, 403, "reconnect_required",
		                   "The Microsoft connection may not make online meetings (%s): "
		                   "reconnect it.",
		                   code ? code : "Forbidden");
	return ml_perr_from_resp(err, r, NAME, code, msg);
}

static int teams_step(const struct ml_provider_ctx *cx, enum ml_mop op,
                      const struct ml_meeting_req *req, const struct ml_pcreds *cr, json_t *state,
                      const struct ml_presp *resp, struct ml_pstep *out, struct ml_perr *err)
{
	(void)cx;
	memset(out, 0, sizeof *out);
	int rc = 0;
	if (!resp) {
		switch (op) {
		case ML_MOP_CREATE:
		case ML_MOP_OPEN:
			req_create_or_get(out, req, cr, state);
			return 0;
		case ML_MOP_UPDATE: {
			json_t *b = times(req);
			ml_pphase(state, "update");
			ml_pstep_json(out, "PATCH",
			              meeting_url(cr, req->external_id ? req->external_id : "-"), b, cr);
			return 0;
		}
		case ML_MOP_RECONCILE:
		case ML_MOP_END: /* (no end call: ops->end is NULL) */
			out->kind = ML_PSTEP_DONE; /* ids make repeats harmless */
			return 0;
		case ML_MOP_DELETE:
			if (!req->external_id) {
				req_create_or_get(out, req, cr, state);
				return 0;
			}
			ml_pphase(state, "delete");
			ml_pstep_http(out, "DELETE", meeting_url(cr, req->external_id), NULL, NULL,
			              ml_pbearer(cr));
			return 0;
		}
	}
	json_t *body = ml_presp_json(resp);
	bool ok = ml_presp_ok(resp);
	const char *ph = ml_pjs(state, "phase");
	ph = ph ? ph : "";

	if (strcmp(ph, "create") == 0 && ok) {
		const char *id = ml_pjs(body, "id"), *url = ml_pjs(body, "joinWebUrl");
		if (!id || !url) {
			rc = ml_perr_set(err, ML_PERR_RETRY, (int)resp->status,
			                 "provider_bad_answer",
			                 "Graph answered without a meeting id or join URL.");
			goto done;
		}
		if (op == ML_MOP_DELETE) {
			ml_pphase(state, "delete");
			ml_pstep_http(out, "DELETE", meeting_url(cr, id), NULL, NULL, ml_pbearer(cr));
			goto done;
		}
		out->kind = ML_PSTEP_DONE;
		out->meeting.external_id = ml_strdup(id);
		out->meeting.join_url = ml_strdup(url);
		out->meeting.host_url = ml_strdup(url);
		const char *pw = ml_pjs(json_object_get(body, "joinMeetingIdSettings"), "passcode");
		if (pw)
			out->meeting.passcode = ml_strdup(pw);
		goto done;
	}
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
};
