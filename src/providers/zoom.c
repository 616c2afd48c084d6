/* Zoom Meetings (sans-IO; see provider.h). User-level OAuth ("users/me") and
 * Server-to-Server OAuth (an organization credential making meetings for the host by email).
 *
 * Zoom has no idempotency key, so the create is guarded by what we record: the job counts
 * each attempt durably before it calls (state.attempt), and the meeting carries a marker in
 * its agenda ("meetlink:<booking>:<generation>"). The first attempt creates at once; any
 * later one (the earlier may have created the meeting before a timeout, a dropped connection
 * or a 5xx) first lists the host's scheduled meetings and adopts the one with the marker.
 * Update: PATCH (same meeting, same link). Delete: DELETE; 404/410 mean already gone; a delete
 * without a known id (its create never finished) looks the marker up first.
 *
 * The lookup (a walk through the host's list, 300 a page) keeps where it is in the job's
 * state: "page" (the next page's token) and "page_at" (when Zoom issued it), and a reconcile
 * the duplicates found so far ("extra") and whether its walk is over ("walked"). A retry
 * resumes at the page that failed instead of walking from page 1 again, which at thousands
 * of meetings per host and a few percent of failed calls rarely got through every page in
 * one attempt. Zoom's page tokens live 15 minutes: an older one is not tried, and a 400 to a
 * request carrying a token restarts the walk from page 1 (at most PAGE_RESTARTS_MAX times
 * per job; then the 400 stands).
 */
#include "core/crypto.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "core/url.h"
#include "providers/remote.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define NAME "Zoom"
#define PAGE_TTL_S (14 * 60)   /* a resume token older than this is not tried (Zoom: 15 min) */
#define PAGE_RESTARTS_MAX 3    /* walks restarted after a refused page token, per job */

static const char *base(const struct ml_pcreds *cr)
{
	return cr->api_base ? cr->api_base : "https://api.zoom.us";
}

/* User-level tokens act for "me"; an account (S2S) token for the host's email. */
static char *user_path(const struct ml_pcreds *cr, const struct ml_meeting_req *req)
{
	const char *who = "me";
	if (cr->org_level)
		who = cr->account ? cr->account : req->host_email ? req->host_email : "me";
	struct ml_buf b = {0};
	ml_buf_puts(&b, "/v2/users/");
	ml_url_escape(&b, who);
	return ml_buf_steal(&b);
}

static void marker(const struct ml_meeting_req *req, char out[96])
{
	snprintf(out, 96, "meetlink:%s:%u", req->booking_id ? req->booking_id : "",
	         req->generation);
}

static char *meeting_url(const struct ml_pcreds *cr, const char *id)
{
	return ml_asprintf("%s/v2/meetings/%s", base(cr), id);
}

static json_t *schedule(const struct ml_meeting_req *req)
{
	char start[ML_RFC3339_MAX];
	ml_time_format(req->start, start);
	int64_t minutes = (req->end - req->start + 59) / 60;
	if (minutes < 1)
		minutes = 1;
	json_t *o = json_pack("{s:s, s:s, s:I, s:s}", "topic", req->title ? req->title : "Meeting",
	                      "start_time", start, "duration", (json_int_t)minutes, "timezone",
	                      req->timezone && *req->timezone ? req->timezone : "UTC");
	/* Zoom caps the topic at 200 characters. */
	const char *t = json_string_value(json_object_get(o, "topic"));
	if (strlen(t) > 200) {
		/* Cut on a character boundary: never half a UTF-8 sequence. */
		size_t n = 200;
		while (n > 0 && ((unsigned char)t[n] & 0xC0) == 0x80)
			n--;
		json_object_set_new(o, "topic", json_stringn(t, n));
	}
	return o;
}

static void req_create(struct ml_pstep *out, const struct ml_meeting_req *req,
                       const struct ml_pcreds *cr, json_t *state)
{
	char mk[96];
	marker(req, mk);
	json_t *b = schedule(req);
	json_object_set_new(b, "type", json_integer(2));
	char *agenda = ml_asprintf("%s%s%s", req->description ? req->description : "",
	                           req->description ? "\n\n" : "", mk);
	json_object_set_new(b, "agenda", json_string(agenda));
	free(agenda);
	json_t *st = json_object();
	json_t *set = req->settings;
	json_object_set_new(st, "waiting_room",
	                    json_boolean(json_is_true(json_object_get(set, "waiting_room"))));
	json_object_set_new(st, "join_before_host",
	                    json_boolean(json_is_true(json_object_get(set, "join_before_host"))));
	json_object_set_new(
	    st, "auto_recording",
	    json_string(json_is_true(json_object_get(set, "recording")) ? "cloud" : "none"));
	json_object_set_new(b, "settings", st);
	const char *pw = json_string_value(json_object_get(set, "passcode"));
	if (pw && strlen(pw) <= 10)
		json_object_set_new(b, "password", json_string(pw));
	char *path = user_path(cr, req);
	json_object_del(state, "page"); /* a walk before this create is over */
	json_object_del(state, "page_at");
	ml_pphase(state, "create");
	ml_pstep_json(out, "POST", ml_asprintf("%s%s/meetings", base(cr), path), b, cr);
	out->http.not_idempotent = true;
	free(path);
}

/* One page of the host's scheduled list; `page` NULL: the first. Where the walk is goes in
 * the state, for a retry to resume there (see the top of the file). */
static void req_lookup(struct ml_pstep *out, const struct ml_meeting_req *req,
                       const struct ml_pcreds *cr, json_t *state, const char *page, int64_t now)
{
	struct ml_buf url = {0};
	char *path = user_path(cr, req);
	ml_buf_printf(&url, "%s%s/meetings?type=scheduled&page_size=300", base(cr), path);
	free(path);
	if (page && *page) {
		ml_buf_puts(&url, "&next_page_token=");
		ml_url_escape(&url, page);
		/* (page may be the state's own string: copied before it is replaced) */
		json_object_set_new(state, "page", json_string(page));
		json_object_set_new(state, "page_at", json_integer(now));
	} else {
		json_object_del(state, "page");
		json_object_del(state, "page_at");
	}
	ml_pphase(state, "lookup");
	ml_pstep_http(out, "GET", ml_buf_steal(&url), NULL, NULL, ml_pbearer(cr));
}

/* The token to resume an interrupted walk at, or NULL to start at page 1. */
static const char *resume_page(json_t *state, int64_t now)
{
	const char *ph = ml_pjs(state, "phase"), *page = ml_pjs(state, "page");
	json_int_t at = json_integer_value(json_object_get(state, "page_at"));
	if (!ph || strcmp(ph, "lookup") != 0 || !page || !*page || now - at > PAGE_TTL_S)
		return NULL;
	return page;
}

/* A 400 to a page request with a token: the token expired or is unknown to Zoom. The walk
 * starts over from page 1 (bounded); true when it did. */
static bool restart_walk(struct ml_pstep *out, const struct ml_meeting_req *req,
                         const struct ml_pcreds *cr, json_t *state, const struct ml_presp *r,
                         int64_t now)
{
	const char *page = ml_pjs(state, "page");
	json_int_t n = json_integer_value(json_object_get(state, "page_restarts"));
	if (r->transport != ML_PT_OK || r->status != 400 || !page || !*page ||
	    n >= PAGE_RESTARTS_MAX)
		return false;
	json_object_set_new(state, "page_restarts", json_integer(n + 1));
	req_lookup(out, req, cr, state, NULL, now);
	return true;
}

/* The meeting's id as text (Zoom ids pass 2^32: kept exact). */
static int id_text(json_t *m, char out[32])
{
	json_t *id = json_object_get(m, "id");
	if (json_is_integer(id)) {
		snprintf(out, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
		return 0;
	}
	if (json_is_string(id)) {
		snprintf(out, 32, "%s", json_string_value(id));
		return 0;
	}
	return -1;
}

static int done_meeting(struct ml_pstep *out, json_t *m, struct ml_perr *err)
{
	char id[32];
	if (id_text(m, id) < 0 || !ml_pjs(m, "join_url"))
		return ml_perr_set(err, ML_PERR_RETRY, 200, "provider_bad_answer",
		                   "Zoom answered without a meeting id or link.");
	out->kind = ML_PSTEP_DONE;
	out->meeting.external_id = ml_strdup(id);
	out->meeting.join_url = ml_strdup(ml_pjs(m, "join_url"));
	out->meeting.host_url =
	    ml_strdup(ml_pjs(m, "start_url") ? ml_pjs(m, "start_url") : ml_pjs(m, "join_url"));
	if (ml_pjs(m, "password"))
		out->meeting.passcode = ml_strdup(ml_pjs(m, "password"));
	return 0;
}

static int classify(struct ml_perr *err, const struct ml_presp *r, json_t *body)
{
	const char *msg = ml_pjs(body, "message");
	json_int_t code = json_integer_value(json_object_get(body, "code"));
	if (r->transport == ML_PT_OK && r->status == 400 && code == 3002)
		return ml_perr_set(err, ML_PERR_PERMANENT, 400, "meeting_in_progress",
		                   "Zoom cannot change a meeting that has started.");
	if (r->transport == ML_PT_OK && r->status == 404 && code == 1001)
		return ml_perr_set(err, ML_PERR_PERMANENT, 404, "provider_user_not_found",
		                   "The host has no Zoom user on this account (%s).",
		                   msg ? msg : "");
	char c[32];
	snprintf(c, sizeof c, "zoom_%" JSON_INTEGER_FORMAT, code);
	return ml_perr_from_resp(err, r, NAME, code ? c : NULL, msg);
}

/* The reconcile's duplicates: the ids with our marker but the one the booking keeps, each
 * once (a walk restarted from page 1 sees again what it had found). */
static void collect_extra(const struct ml_meeting_req *req, json_t *state, json_t *body)
{
	char mk[96];
	marker(req, mk);
	json_t *extra = json_object_get(state, "extra"), *m, *v;
	size_t i, j;
	json_array_foreach(json_object_get(body, "meetings"), i, m)
	{
		const char *agenda = ml_pjs(m, "agenda");
		char id[32];
		bool seen = false;
		if (!agenda || !strstr(agenda, mk) || id_text(m, id) < 0 ||
		    (req->external_id && strcmp(id, req->external_id) == 0))
			continue;
		json_array_foreach(extra, j, v)
		{
			if (strcmp(json_string_value(v), id) == 0)
				seen = true;
		}
		if (!seen)
			json_array_append_new(extra, json_string(id));
	}
}

/* The reconcile's next duplicate to delete (the first of "extra", removed from it only once
 * Zoom confirmed: a failed delete is tried again by the next attempt), or DONE. */
static void reconcile_next(struct ml_pstep *out, const struct ml_pcreds *cr, json_t *state)
{
	json_t *extra = json_object_get(state, "extra");
	if (json_array_size(extra) == 0) {
		out->kind = ML_PSTEP_DONE;
		return;
	}
	ml_pphase(state, "delete");
	ml_pstep_http(out, "DELETE", meeting_url(cr, json_string_value(json_array_get(extra, 0))),
	              NULL, NULL, ml_pbearer(cr));
}

/* The first step of an attempt (resp == NULL). */
static void zoom_begin(enum ml_mop op, const struct ml_meeting_req *req,
                       const struct ml_pcreds *cr, json_t *state, int64_t now,
                       struct ml_pstep *out)
{
	switch (op) {
	case ML_MOP_CREATE:
	case ML_MOP_OPEN:
		/* An earlier attempt may have made it: look before making another. */
		if (json_integer_value(json_object_get(state, "attempt")) > 1)
			req_lookup(out, req, cr, state, resume_page(state, now), now);
		else
			req_create(out, req, cr, state);
		return;
	case ML_MOP_UPDATE:
		ml_pphase(state, "update");
		ml_pstep_json(out, "PATCH", meeting_url(cr, req->external_id ? req->external_id : "0"),
		              schedule(req), cr);
		return;
	case ML_MOP_RECONCILE:
		if (!json_is_array(json_object_get(state, "extra")))
			json_object_set_new(state, "extra", json_array());
		if (json_is_true(json_object_get(state, "walked")))
			reconcile_next(out, cr, state);
		else
			req_lookup(out, req, cr, state, resume_page(state, now), now);
		return;
	case ML_MOP_END:
		/* PUT …/status {"action":"end"}: ending an ended (or never started) meeting
		 * changes nothing at Zoom, so a repeat after an ambiguous failure is harmless. */
		if (!req->external_id) {
			out->kind = ML_PSTEP_DONE; /* never made: nothing to end */
			return;
		}
		ml_pphase(state, "end");
		ml_pstep_json(out, "PUT",
		              ml_asprintf("%s/v2/meetings/%s/status", base(cr), req->external_id),
		              json_pack("{s:s}", "action", "end"), cr);
		return;
	case ML_MOP_DELETE:
		if (!req->external_id) {
			req_lookup(out, req, cr, state, resume_page(state, now), now);
			return;
		}
		ml_pphase(state, "delete");
		ml_pstep_http(out, "DELETE", meeting_url(cr, req->external_id), NULL, NULL,
		              ml_pbearer(cr));
		return;
	}
}

/* A page of the lookup for create, open or delete: the meeting with our marker is adopted
 * (fetched: the list lacks start_url and password) or deleted; none on the last page means
 * nothing was made before. */
static void lookup_page(enum ml_mop op, const struct ml_meeting_req *req,
                        const struct ml_pcreds *cr, json_t *state, json_t *body, int64_t now,
                        struct ml_pstep *out)
{
	char mk[96];
	marker(req, mk);
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(body, "meetings"), i, m)
	{
		const char *agenda = ml_pjs(m, "agenda");
		char id[32];
		if (agenda && strstr(agenda, mk) && id_text(m, id) == 0) {
			ml_pphase(state, op == ML_MOP_DELETE ? "delete" : "get");
			ml_pstep_http(out, op == ML_MOP_DELETE ? "DELETE" : "GET",
			              meeting_url(cr, id), NULL, NULL, ml_pbearer(cr));
			return;
		}
	}
	const char *next = ml_pjs(body, "next_page_token");
	if (next && *next)
		req_lookup(out, req, cr, state, next, now);
	else if (op == ML_MOP_DELETE)
		out->kind = ML_PSTEP_DONE;
	else
		req_create(out, req, cr, state);
}

static int zoom_step(const struct ml_provider_ctx *cx, enum ml_mop op,
                     const struct ml_meeting_req *req, const struct ml_pcreds *cr, json_t *state,
                     const struct ml_presp *resp, struct ml_pstep *out, struct ml_perr *err)
{
	memset(out, 0, sizeof *out);
	int64_t now = cx ? cx->now : 0;
	int rc = 0;

	if (!resp) {
		zoom_begin(op, req, cr, state, now, out);
		return 0;
	}
	json_t *body = ml_presp_json(resp);
	bool ok = ml_presp_ok(resp);
	const char *ph = ml_pjs(state, "phase");
	ph = ph ? ph : "";

	if (strcmp(ph, "lookup") == 0 && !ok && restart_walk(out, req, cr, state, resp, now))
		goto done;
	if (op == ML_MOP_RECONCILE && strcmp(ph, "lookup") == 0 && ok) {
		collect_extra(req, state, body);
		const char *next = ml_pjs(body, "next_page_token");
		if (next && *next) {
			req_lookup(out, req, cr, state, next, now);
			goto done;
		}
		json_object_set_new(state, "walked", json_true());
		json_object_del(state, "page");
		json_object_del(state, "page_at");
		reconcile_next(out, cr, state);
		goto done;
	}
	if (op == ML_MOP_RECONCILE && strcmp(ph, "delete") == 0 && (ok || ml_presp_gone(resp))) {
		json_array_remove(json_object_get(state, "extra"), 0);
		json_int_t n = json_integer_value(json_object_get(state, "duplicates_removed"));
		json_object_set_new(state, "duplicates_removed", json_integer(n + 1));
		reconcile_next(out, cr, state);
		goto done;
	}
	if (strcmp(ph, "lookup") == 0 && ok) {
		lookup_page(op, req, cr, state, body, now, out);
		goto done;
	}
	if ((strcmp(ph, "create") == 0 || strcmp(ph, "get") == 0) && ok) {
		rc = done_meeting(out, body, err);
		goto done;
	}
	if (strcmp(ph, "get") == 0 && ml_presp_gone(resp)) {
		/* Deleted between list and get: create it anew next time round. */
		req_create(out, req, cr, state);
		goto done;
	}
	/* An update's 204: same meeting, same link. */
	if (ml_presp_settles(ph, resp, out))
		goto done;
	/* Ended (204), or a meeting Zoom no longer has (404, 3001): over either way. */
	if (strcmp(ph, "end") == 0 && (ok || ml_presp_gone(resp))) {
		out->kind = ML_PSTEP_DONE;
		goto done;
	}
	rc = classify(err, resp, body);
done:
	return ml_pstep_end(out, rc, body);
}

/* --- connecting an account, the organization credential, webhooks --- */

static int zoom_endpoints(const struct ml_endpoint_env *env, struct ml_endpoints *out)
{
	const char *sb = env->sandbox;
	if (sb) {
		out->authorize_url = ml_asprintf("%s/zoom/oauth/authorize", sb);
		out->token_url = ml_asprintf("%s/zoom/oauth/token", sb);
		out->revoke_url = ml_asprintf("%s/zoom/oauth/revoke", sb);
		out->account_url = ml_asprintf("%s/zoom/v2/users/me", sb);
		out->api_base = ml_asprintf("%s/zoom", sb);
		return 0;
	}
	out->authorize_url = ml_strdup("https://zoom.us/oauth/authorize");
	out->token_url = ml_strdup("https://zoom.us/oauth/token");
	out->revoke_url = ml_strdup("https://zoom.us/oauth/revoke");
	out->account_url = ml_strdup("https://api.zoom.us/v2/users/me");
	out->api_base = ml_strdup("https://api.zoom.us");
	return 0;
}

/* Zoom's scopes live on the app (meeting write, user read for the email), not the request. */
static const struct ml_oauth_info zoom_oauth = {
    .env = "ZOOM",
    .sandbox_client_id = "zoom-sandbox-client-id",
    .sandbox_client_secret = "zoom-sandbox-client-secret",
    .scopes = "meeting:write:meeting user:read:user",
    .flags = ML_OAUTH_BASIC_AUTH | ML_OAUTH_APP_SCOPES,
};

/* Server-to-Server OAuth: a new access token for the account, no refresh token. */
static int zoom_token_grant(json_t *cred, struct ml_token_grant *out)
{
	const char *acct = json_string_value(json_object_get(cred, "account_id"));
	const char *cid = json_string_value(json_object_get(cred, "client_id"));
	const char *sec = json_string_value(json_object_get(cred, "client_secret"));
	if (!acct || !cid || !sec)
		return ML_EINVAL;
	*out = (struct ml_token_grant){
	    .client_id = cid,
	    .client_secret = sec,
	    .params = {"grant_type", "account_credentials", "account_id", acct, NULL},
	};
	return 0;
}

static const char *const zoom_cred_config[] = {"account_id", "client_id", NULL};
static const char *const zoom_cred_secrets[] = {"client_secret", NULL};

static const struct ml_cred_info zoom_creds = {
    .kind = "zoom_s2s",
    .config = zoom_cred_config,
    .secrets = zoom_cred_secrets,
    .secret_max = 256,
    .token_grant = zoom_token_grant,
};

#define REPLAY_WINDOW_S 300

static void hmac_hex(const char *secret, const char *msg, size_t n, char out[65])
{
	uint8_t mac[32];
	ml_hmac_sha256(secret, strlen(secret), msg, n, mac);
	ml_hex_encode(mac, sizeof mac, out);
}

/* x-zm-signature = "v0=" + hex(HMAC-SHA256(secret, "v0:" + ts + ":" + body)) with ts =
 * x-zm-request-timestamp, compared in constant time; a timestamp outside the replay window
 * (5 minutes) is refused. */
static int zoom_verify(const char *secret, const struct ml_inbound_req *r)
{
	const char *ts = r->header(r->arg, "x-zm-request-timestamp");
	const char *sig = r->header(r->arg, "x-zm-signature");
	char *end;
	if (!ts || !sig)
		return ml_error_set(ML_EAUTH, "invalid_signature", NULL,
		                    "x-zm-signature and x-zm-request-timestamp are required.");
	long long t = strtoll(ts, &end, 10);
	if (*end || t <= 0 || llabs((long long)r->now - t) > REPLAY_WINDOW_S)
		return ml_error_set(ML_EAUTH, "stale_request", NULL,
		                    "The request timestamp is outside the replay window.");
	struct ml_buf msg = {0};
	ml_buf_printf(&msg, "v0:%s:", ts);
	ml_buf_append(&msg, r->body, r->body_len);
	char hex[65], want[70];
	hmac_hex(secret, msg.data, msg.len, hex);
	ml_buf_free(&msg);
	snprintf(want, sizeof want, "v0=%s", hex);
	if (!ml_ct_equal(want, strlen(want), sig, strlen(sig)))
		return ml_error_set(ML_EAUTH, "invalid_signature", NULL,
		                    "The signature does not match.");
	return 0;
}

/* A member of the participant object that is clean text, copied into out (else ""). */
static void zp_take(json_t *o, const char *name, char *out, size_t max)
{
	json_t *v = json_object_get(o, name);
	const char *s = json_string_value(v);
	char num[32];
	if (json_is_integer(v)) {
		snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		s = num;
	}
	out[0] = '\0';
	if (s && *s && strlen(s) < max && ml_text_is_clean(s, strlen(s)))
		snprintf(out, max, "%s", s);
}

/* meeting.participant_joined / _left: payload.object.participant (participant_uuid: this
 * stay; user_name, email; join_time / leave_time). */
static int zoom_presence(json_t *body, bool joined, struct ml_inbound_event *out)
{
	json_t *pa = json_object_get(json_object_get(json_object_get(body, "payload"), "object"),
	                             "participant");
	struct ml_inbound_presence *p = &out->presence;
	zp_take(pa, "participant_uuid", p->session, sizeof p->session);
	if (!p->session[0])
		zp_take(pa, "user_id", p->session, sizeof p->session);
	if (!p->session[0])
		return 0; /* nobody named: nothing to record (handled once all the same) */
	zp_take(pa, "user_name", p->name, sizeof p->name);
	zp_take(pa, "email", p->email, sizeof p->email);
	zp_take(pa, "customer_key", p->identity, sizeof p->identity);
	char t[64];
	int64_t at;
	zp_take(pa, joined ? "join_time" : "leave_time", t, sizeof t);
	if (t[0] && ml_time_parse(t, &at) == 0)
		p->at_ms = at * 1000;
	else if (json_integer_value(json_object_get(body, "event_ts")) > 0)
		p->at_ms = json_integer_value(json_object_get(body, "event_ts"));
	p->seq = -1;
	p->joined = joined;
	out->kind = ML_INBOUND_PRESENCE;
	return 0;
}

/* endpoint.url_validation is answered with the challenge; meeting.deleted names the meeting;
 * the delivery is identified by x-zm-trackingid, or a digest of the signed body. */
static int zoom_parse(const char *secret, const struct ml_inbound_req *r, json_t *body,
                      struct ml_inbound_event *out)
{
	const char *type = json_string_value(json_object_get(body, "event"));
	json_t *payload = json_object_get(body, "payload");
	if (!type)
		return ml_error_set(ML_EINVAL, "invalid_field", "event", "event is required.");
	if (strcmp(type, "endpoint.url_validation") == 0) {
		const char *plain = json_string_value(json_object_get(payload, "plainToken"));
		char hex[65];
		if (!plain)
			return ml_error_set(ML_EINVAL, "invalid_field", "payload.plainToken",
			                    "payload.plainToken is required.");
		hmac_hex(secret, plain, strlen(plain), hex);
		out->kind = ML_INBOUND_REPLY;
		out->reply = json_pack("{s:s, s:s}", "plainToken", plain, "encryptedToken", hex);
		return 0;
	}
	json_t *id = json_object_get(json_object_get(payload, "object"), "id");
	if (json_is_integer(id))
		snprintf(out->external_id, sizeof out->external_id, "%" JSON_INTEGER_FORMAT,
		         json_integer_value(id));
	else if (json_is_string(id))
		snprintf(out->external_id, sizeof out->external_id, "%s", json_string_value(id));
	const char *tracking = r->header(r->arg, "x-zm-trackingid");
	if (tracking && *tracking && strlen(tracking) < sizeof out->key)
		snprintf(out->key, sizeof out->key, "%s", tracking);
	else
		ml_sha256_hex(r->body, r->body_len, out->key);
	out->kind = strcmp(type, "meeting.deleted") == 0 && out->external_id[0]
	                ? ML_INBOUND_MEETING_DELETED
	                : ML_INBOUND_IGNORE;
	bool joined = strcmp(type, "meeting.participant_joined") == 0;
	if ((joined || strcmp(type, "meeting.participant_left") == 0) && out->external_id[0])
		return zoom_presence(body, joined, out);
	return 0;
}

static const struct ml_inbound_info zoom_inbound = {
    .secret_setting = "MEETLINK_ZOOM_WEBHOOK_SECRET",
    .sandbox_secret = "zoom-sandbox-webhook-secret",
    .verify = zoom_verify,
    .parse = zoom_parse,
    .presence = true,
};

static const struct ml_remote_info info = {
    .max_inflight_per_conn = 0,
    .qps_per_conn = 10, /* Zoom counts per account per second (MEETLINK_ZOOM_QPS) */
    .reconcile = true,
    .qps_setting = "MEETLINK_ZOOM_QPS",
};

/* Ending: PUT /v2/meetings/{meetingId}/status {"action":"end"} (ML_MOP_END). */
static const struct ml_end_info zoom_end = {ML_END_CALL, NULL};

const struct ml_provider_ops ml_provider_zoom = {
    .abi = ML_PROVIDER_ABI,
    .name = "zoom",
    .label = "Zoom",
    .caps = ML_CAP_REMOTE | ML_CAP_OAUTH | ML_CAP_UPDATE | ML_CAP_DELETE | ML_CAP_BOT_JOINS,
    .remote_step = zoom_step,
    .remote = &info,
    .endpoints = zoom_endpoints,
    .oauth = &zoom_oauth,
    .creds = &zoom_creds,
    .inbound = &zoom_inbound,
    .end = &zoom_end,
};
