/* Google Meet through Google Calendar (sans-IO; see provider.h).
 *
 * Create: events.insert with a client-supplied event id (base32hex, derived from the booking
 * and its generation) and conferenceData.createRequest (hangoutsMeet, a requestId unique per
 * create, kept in the state). A repeated insert answers 409: the existing event is fetched
 * and used, so a retry after a timeout never makes a second event. A conference that comes
 * back `pending` is polled (events.get) until `success`. Update: events.patch of the times and
 * title (same event, same link). Delete: events.delete; 404/410 mean already gone.
 * sendUpdates=none everywhere: meetlink sends the invitations itself. Events come back as
 * partial responses (`fields`, FIELDS below): the full event is large, and parsing it cost
 * the worker about a sixth of its CPU.
 */
#include "core/crypto.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/url.h"
#include "providers/remote.h"
#include "providers/watch.h"

#include <stdlib.h>
#include <string.h>

#define NAME "Google Calendar"

/* Exactly what on_event() reads of an event. Reading another member means adding it here. */
#define FIELDS                                                                                     \
	"id,status,hangoutLink,conferenceData(createRequest/status/statusCode,"                    \
	"entryPoints(entryPointType,uri))"

static const char *base(const struct ml_pcreds *cr)
{
	return cr->api_base ? cr->api_base : "https://www.googleapis.com";
}

static int event_id(const struct ml_provider_ctx *cx, const struct ml_meeting_req *req,
                    char out[40])
{
	/* "ml" + 26 base32hex characters: within Google's 5-1024 characters of [a-v0-9]. */
	out[0] = 'm';
	out[1] = 'l';
	return ml_provider_key(out + 2, 38, cx->settings, req, "google-event", ML_B32HEX, 26);
}

static json_t *when(int64_t t, const char *tz)
{
	char buf[ML_RFC3339_MAX];
	ml_time_format(t, buf);
	return json_pack("{s:s, s:s}", "dateTime", buf, "timeZone", tz && *tz ? tz : "UTC");
}

static json_t *create_request(json_t *state)
{
	const char *rid = ml_pjs(state, "request_id");
	return json_pack("{s:{s:s, s:{s:s}}}", "createRequest", "requestId", rid,
	                 "conferenceSolutionKey", "type", "hangoutsMeet");
}

static void new_request_id(json_t *state)
{
	char rid[33];
	uint8_t raw[16];
	ml_random(raw, sizeof raw);
	ml_hex_encode(raw, sizeof raw, rid);
	json_object_set_new(state, "request_id", json_string(rid));
}

/* The event's URL (the collection's without id) with the query `query` ("a=b&c=d" or NULL)
 * and, when the answer has a body to read (select), the `fields` selection. */
static char *event_url(const struct ml_pcreds *cr, const char *id, const char *query, bool select)
{
	struct ml_buf b = {0};
	ml_buf_printf(&b, "%s/calendar/v3/calendars/primary/events", base(cr));
	if (id)
		ml_buf_printf(&b, "/%s", id);
	if (query)
		ml_buf_printf(&b, "?%s", query);
	if (select) {
		ml_buf_puts(&b, query ? "&fields=" : "?fields=");
		ml_url_escape(&b, FIELDS);
	}
	return ml_buf_steal(&b);
}

static void req_insert(struct ml_pstep *out, const struct ml_meeting_req *req,
                       const struct ml_pcreds *cr, json_t *state, const char *id)
{
	if (!ml_pjs(state, "request_id"))
		new_request_id(state);
	json_t *ev =
	    json_pack("{s:s, s:s, s:o, s:o, s:o, s:{s:{s:s}}}", "id", id, "summary",
	              req->title ? req->title : "Meeting", "start", when(req->start, req->timezone),
	              "end", when(req->end, req->timezone), "conferenceData", create_request(state),
	              "extendedProperties", "private", "meetlink_booking",
	              req->booking_id ? req->booking_id : "");
	if (req->description)
		json_object_set_new(ev, "description", json_string(req->description));
	ml_pphase(state, "insert");
	/* The event id makes a repeat safe: nothing to record before the call. */
	ml_pstep_json(out, "POST",
	              event_url(cr, NULL, "conferenceDataVersion=1&sendUpdates=none", true), ev, cr);
}

static void req_get(struct ml_pstep *out, const struct ml_pcreds *cr, json_t *state, const char *id,
                    const char *ph)
{
	ml_pphase(state, ph);
	ml_pstep_http(out, "GET", event_url(cr, id, NULL, true), NULL, NULL, ml_pbearer(cr));
}

/* PATCH that revives a cancelled event and/or asks for a conference again. */
static void req_repair(struct ml_pstep *out, const struct ml_meeting_req *req,
                       const struct ml_pcreds *cr, json_t *state, const char *id)
{
	new_request_id(state);
	json_t *patch = json_pack(
	    "{s:s, s:o, s:o, s:o}", "status", "confirmed", "start", when(req->start, req->timezone),
	    "end", when(req->end, req->timezone), "conferenceData", create_request(state));
	ml_pphase(state, "repair");
	ml_pstep_json(out, "PATCH",
	              event_url(cr, id, "conferenceDataVersion=1&sendUpdates=none", true), patch,
	              cr);
}

/* Google's error envelope: {"error":{"errors":[{"reason"}],"code","message"}}. */
static int classify(struct ml_perr *err, const struct ml_presp *r, json_t *body)
{
	json_t *e = json_object_get(body, "error");
	const char *msg = ml_pjs(e, "message");
	const char *reason = ml_pjs(json_array_get(json_object_get(e, "errors"), 0), "reason");
	if (r->transport == ML_PT_OK && r->status == 403 && reason &&
	    (strcmp(reason, "rateLimitExceeded") == 0 ||
	     strcmp(reason, "userRateLimitExceeded") == 0 || strcmp(reason, "quotaExceeded") == 0))
		return ml_perr_set(err, ML_PERR_RETRY, 403, "rate_limited",
		                   "Google Calendar asked us to slow down (%s).", reason);
	if (r->transport == ML_PT_OK && r->status == 403 && reason &&
	    strcmp(reason, "insufficientPermissions") == 0)
		return ml_perr_set(err, ML_PERR_REAUTH, 403, "reconnect_required",
		                   "The Google connection lacks calendar access: reconnect it.");
	return ml_perr_from_resp(err, r, NAME, reason, msg);
}

/* An event came back: done, still pending, failed, or needing repair. */
static int on_event(const struct ml_provider_ctx *cx, enum ml_mop op,
                    const struct ml_meeting_req *req, const struct ml_pcreds *cr, json_t *state,
                    json_t *ev, struct ml_pstep *out, struct ml_perr *err)
{
	const char *id = ml_pjs(ev, "id");
	const char *status = ml_pjs(ev, "status");
	json_t *cd = json_object_get(ev, "conferenceData");
	const char *code =
	    ml_pjs(json_object_get(json_object_get(cd, "createRequest"), "status"), "statusCode");
	const char *link = ml_pjs(ev, "hangoutLink");

	if (!id)
		return ml_perr_set(err, ML_PERR_RETRY, 200, "provider_bad_answer",
		                   "Google Calendar answered without an event id.");
	if (status && strcmp(status, "cancelled") == 0) {
		if (op == ML_MOP_UPDATE) {
			out->kind = ML_PSTEP_DONE;
			out->provider_cancelled = true;
			return 0;
		}
		/* A create meeting our own id cancelled (deleted in Google, then retried): revive.
		 */
		if (json_integer_value(json_object_get(state, "repairs")) >= 2)
			return ml_perr_set(err, ML_PERR_PERMANENT, 200, "provider_event_cancelled",
			                   "The Google event stays cancelled.");
		json_object_set_new(
		    state, "repairs",
		    json_integer(json_integer_value(json_object_get(state, "repairs")) + 1));
		req_repair(out, req, cr, state, id);
		return 0;
	}
	if (!link) {
		/* A video entry point is as good as hangoutLink. */
		size_t i;
		json_t *ep;
		json_array_foreach(json_object_get(cd, "entryPoints"), i, ep)
		{
			if (ml_pjs(ep, "entryPointType") &&
			    strcmp(ml_pjs(ep, "entryPointType"), "video") == 0)
				link = ml_pjs(ep, "uri");
		}
	}
	if (link && (!code || strcmp(code, "success") == 0)) {
		out->kind = ML_PSTEP_DONE;
		out->meeting.external_id = ml_strdup(id);
		out->meeting.join_url = ml_strdup(link);
		out->meeting.host_url = ml_strdup(link);
		json_object_del(state, "phase");
		return 0;
	}
	if (code && strcmp(code, "pending") == 0) {
		int64_t polls = json_integer_value(json_object_get(state, "polls"));
		json_object_set_new(state, "polls", json_integer(polls + 1));
		ml_pphase(state, "poll");
		out->kind = ML_PSTEP_POLL;
		out->poll_after_ms =
		    cx->settings && cx->settings->poll_ms > 0 ? cx->settings->poll_ms : 1000;
		return 0;
	}
	if (code && strcmp(code, "failure") == 0)
		return ml_perr_set(err, ML_PERR_PERMANENT, 200, "conference_failed",
		                   "Google could not make a Meet conference for this event (is "
		                   "Meet enabled for this account?).");
	/* No conference at all (an event made without one): ask for it. */
	if (json_integer_value(json_object_get(state, "repairs")) >= 2)
		return ml_perr_set(err, ML_PERR_PERMANENT, 200, "conference_missing",
		                   "Google keeps the event without a Meet conference.");
	json_object_set_new(
	    state, "repairs",
	    json_integer(json_integer_value(json_object_get(state, "repairs")) + 1));
	req_repair(out, req, cr, state, id);
	return 0;
}

static int gm_step(const struct ml_provider_ctx *cx, enum ml_mop op,
                   const struct ml_meeting_req *req, const struct ml_pcreds *cr, json_t *state,
                   const struct ml_presp *resp, struct ml_pstep *out, struct ml_perr *err)
{
	char derived[40];
	const char *id = req->external_id;
	int rc = 0;

	memset(out, 0, sizeof *out);
	if (!id) {
		if (event_id(cx, req, derived) < 0) {
			out->kind = ML_PSTEP_FAIL;
			return ml_perr_set(err, ML_PERR_PERMANENT, 0, "platform_not_configured",
			                   "The server has no secret to derive event ids from.");
		}
		id = derived;
	}
	const char *ph = ml_pjs(state, "phase");

	if (!resp) {
		switch (op) {
		case ML_MOP_CREATE:
		case ML_MOP_OPEN:
			if (ph && (strcmp(ph, "poll") == 0 || strcmp(ph, "get") == 0))
				req_get(out, cr, state, id, ph);
			else
				req_insert(out, req, cr, state, id);
			return 0;
		case ML_MOP_UPDATE: {
			json_t *patch = json_pack("{s:s, s:o, s:o}", "summary",
			                          req->title ? req->title : "Meeting", "start",
			                          when(req->start, req->timezone), "end",
			                          when(req->end, req->timezone));
			ml_pphase(state, "patch");
			ml_pstep_json(out, "PATCH", event_url(cr, id, "sendUpdates=none", true),
			              patch, cr);
			return 0;
		}
		case ML_MOP_RECONCILE:
		case ML_MOP_END: /* (no end call: ops->end is NULL) */
			out->kind = ML_PSTEP_DONE; /* ids make repeats harmless */
			return 0;
		case ML_MOP_DELETE:
			ml_pphase(state, "delete");
			ml_pstep_http(out, "DELETE", event_url(cr, id, "sendUpdates=none", false),
			              NULL, NULL, ml_pbearer(cr));
			return 0;
		}
	}

	json_t *body = ml_presp_json(resp);
	bool ok = ml_presp_ok(resp);
	bool answered = resp->transport == ML_PT_OK;
	if (op == ML_MOP_DELETE) {
		if (ok || ml_presp_gone(resp)) {
			out->kind = ML_PSTEP_DONE;
			goto done;
		}
	} else if (op == ML_MOP_UPDATE) {
		if (ml_presp_gone(resp)) {
			out->kind = ML_PSTEP_DONE;
			out->provider_cancelled = true;
			goto done;
		}
		if (ok) {
			rc = on_event(cx, op, req, cr, state, body, out, err);
			goto done;
		}
	} else {
		if (answered && resp->status == 409 && ph && strcmp(ph, "insert") == 0) {
			/* Our id is taken: the first insert went through. Use that event. */
			req_get(out, cr, state, id, "get");
			goto done;
		}
		if (answered && resp->status == 404 && ph &&
		    (strcmp(ph, "get") == 0 || strcmp(ph, "poll") == 0 ||
		     strcmp(ph, "repair") == 0)) {
			/* Gone meanwhile (purged): insert afresh on the next attempt. */
			ml_pphase(state, "insert");
			rc = ml_perr_set(err, ML_PERR_RETRY, 404, "provider_event_missing",
			                 "The Google event disappeared while being created.");
			goto done;
		}
		if (ok) {
			rc = on_event(cx, op, req, cr, state, body, out, err);
			goto done;
		}
	}
	rc = classify(err, resp, body);
done:
	return ml_pstep_end(out, rc, body);
}

/* --- connecting an account --- */

static int gm_endpoints(const struct ml_endpoint_env *env, struct ml_endpoints *out)
{
	const char *sb = env->sandbox;
	if (sb) {
		out->authorize_url = ml_asprintf("%s/google/o/oauth2/v2/auth", sb);
		out->token_url = ml_asprintf("%s/google/token", sb);
		out->revoke_url = ml_asprintf("%s/google/revoke", sb);
		out->account_url = ml_asprintf("%s/google/v1/userinfo", sb);
		out->api_base = ml_asprintf("%s/google", sb);
		return 0;
	}
	out->authorize_url = ml_strdup("https://accounts.google.com/o/oauth2/v2/auth");
	out->token_url = ml_strdup("https://oauth2.googleapis.com/token");
	out->revoke_url = ml_strdup("https://oauth2.googleapis.com/revoke");
	out->account_url = ml_strdup("https://openidconnect.googleapis.com/v1/userinfo");
	out->api_base = ml_strdup("https://www.googleapis.com");
	return 0;
}

/* A refresh token, and again on a reconnect (Google gives one on first consent only unless
 * asked). */
static const char *const gm_authorize_params[] = {
    "access_type", "offline", "prompt", "consent", "include_granted_scopes", "true", NULL,
};

/* The smallest scopes that work: calendar.events, + openid email to record the account. */
static const struct ml_oauth_info gm_oauth = {
    .env = "GOOGLE",
    .sandbox_client_id = "meetlink-sandbox.apps.googleusercontent.com",
    .sandbox_client_secret = "GOCSPX-sandbox-secret",
    .scopes = "openid email https://www.googleapis.com/auth/calendar.events",
    .flags = ML_OAUTH_REVOKE_PUBLIC,
    .authorize_params = gm_authorize_params,
};

static const struct ml_remote_info info = {
    .max_inflight_per_conn = 0, /* Google limits by quota, answered as 403/429: honoured */
    .qps_per_conn = 0,
};

const struct ml_provider_ops ml_provider_google_meet = {
    .abi = ML_PROVIDER_ABI,
    .name = "google_meet",
    .label = "Google Meet",
    .caps = ML_CAP_REMOTE | ML_CAP_OAUTH | ML_CAP_UPDATE | ML_CAP_DELETE | ML_CAP_BOT_JOINS,
    .remote_step = gm_step,
    .remote = &info,
    .endpoints = gm_endpoints,
    .oauth = &gm_oauth,
    .watch = &ml_gcal_watch,
};
