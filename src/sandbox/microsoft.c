/* Microsoft emulator: identity platform v2.0 (authorize, token) and Microsoft Graph v1.0
 * (/me, /me/onlineMeetings, /me/onlineMeetings/createOrGet, /me/events), following
 * specs/msgraph/msgraph-notes.json and the CSDL types in msgraph-v1.0-event-onlinemeeting.
 *
 * State (root):
 *   apps      {client_id: {client_secret, name, redirect_uris[]}}
 *   users     {upn: user}                       seeded test users (Graph user resource)
 *   codes, tokens
 *   events    {upn: {id: event}}
 *   meetings  {upn: {id: onlineMeeting}}
 *   throttle  {upn: {window_start_ms, count}}   for the built-in mailbox limit
 */
#include "sandbox/microsoft.h"
#include "sandbox/sbindex.h"

#include "core/mem.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- Graph: authentication, throttling ---------------------------------------------- */

/* The delegated user of the request's token, checked for `perm` (any of a space-separated
 * list; NULL: any). Answers and returns NULL on failure. */
static const char *graph_user(struct ml_http_req *req, struct ml_http_resp *resp, const char *perms,
                              const char *deny_code)
{
	json_t *root = req->user;
	const char *why = NULL;
	json_t *tok = ml_sb_bearer(req, root, &why);
	if (!tok) {
		const char *m = strcmp(why, "missing") == 0 ? "Access token is empty."
		                : strcmp(why, "expired") == 0
		                    ? "Lifetime validation failed, the token is expired."
		                    : "Access token has expired or is not yet valid.";
		ml_resp_header(resp, "WWW-Authenticate",
		               "Bearer realm=\"\", authorization_uri="
		               "\"https://login.microsoftonline.com/common/"
		               "oauth2/authorize\"");
		ml_sb_ms_gerr(resp, 401, "InvalidAuthenticationToken", m);
		return NULL;
	}
	const char *user = ml_sb_str(tok, "account");
	if (!user) {
		ml_sb_ms_gerr(resp, 400, "BadRequest",
		              "/me request is only valid with delegated authentication flow.");
		return NULL;
	}
	if (perms) {
		bool ok = false;
		char *p = ml_strdup(perms), *save = NULL;
		for (char *t = strtok_r(p, " ", &save); t && !ok; t = strtok_r(NULL, " ", &save))
			ok = has_word(ml_sb_str(tok, "scope"), t);
		free(p);
		if (!ok) {
			ml_sb_ms_gerr(resp, 403, deny_code,
			              strcmp(deny_code, "Forbidden") == 0
			                  ? "Insufficient privileges to complete the operation."
			                  : "Access is denied. Check credentials and try again.");
			return NULL;
		}
	}
	/* The built-in mailbox limit (config "requests_per_10s", 0: off) answers like Outlook
	 * does when an app exceeds it. */
	json_int_t limit = ml_sb_cfg_int(P, "requests_per_10s", 0);
	if (limit > 0) {
		json_t *th = json_object_get(root, "throttle");
		json_t *w = json_object_get(th, user);
		int64_t now = ml_sb_now_ms();
		if (!w ||
		    now - json_integer_value(json_object_get(w, "window_start_ms")) >= 10000) {
			w = json_pack("{s:I, s:i}", "window_start_ms", (json_int_t)now, "count", 0);
			json_object_set_new(th, user, w);
		}
		json_int_t c = json_integer_value(json_object_get(w, "count")) + 1;
		json_object_set_new(w, "count", json_integer(c));
		if (c > limit) {
			int64_t left =
			    10000 -
			    (now - json_integer_value(json_object_get(w, "window_start_ms")));
			char ra[24];
			snprintf(ra, sizeof ra, "%lld", (long long)(left + 999) / 1000);
			ml_resp_header(resp, "Retry-After", ra);
			ml_sb_ms_gerr(resp, 429, "ApplicationThrottled",
			              "Application is over its MailboxConcurrency limit.");
			return NULL;
		}
	}
	return user;
}

static json_t *user_bucket(json_t *root, const char *kind, const char *user)
{
	json_t *all = json_object_get(root, kind);
	json_t *b = json_object_get(all, user);
	if (!b) {
		b = json_object();
		json_object_set_new(all, user, b);
	}
	return b;
}

static json_t *body_object(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *b = ml_sb_json_body(req);
	if (!json_is_object(b)) {
		json_decref(b);
		ml_sb_ms_gerr(
		    resp, 400, "BadRequest",
		    req->body_len
		        ? "Unable to read JSON request payload. Please ensure Content-Type "
		          "header is set and payload is of valid JSON format."
		        : "Empty Payload. JSON content expected.");
		return NULL;
	}
	return b;
}

/* ---- Graph: /me ---------------------------------------------------------------------- */

static void me(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *user = graph_user(req, resp, NULL, NULL);
	if (!user)
		return;
	json_t *u = json_deep_copy(json_object_get(json_object_get(req->user, "users"), user));
	json_object_set_new(u, "@odata.context", json_string(GRAPH "/$metadata#users/$entity"));
	ml_resp_json(resp, 200, u);
}

/* ---- Graph: onlineMeetings ----------------------------------------------------------- */

/* A client's onlineMeeting properties over a meeting: complex types (lobbyBypassSettings,
 * joinMeetingIdSettings) member by member, so the meeting keeps what Graph made (its
 * joinMeetingId); a passcode that is not required is none, one required has one. id and
 * joinWebUrl are Graph's. */
static void merge_meeting(json_t *m, json_t *b)
{
	const char *k;
	json_t *v;
	json_object_foreach(b, k, v)
	{
		json_t *cur = json_object_get(m, k);
		if (strcmp(k, "id") == 0 || strcmp(k, "joinWebUrl") == 0)
			continue;
		if (json_is_object(cur) && json_is_object(v) &&
		    (strcmp(k, "lobbyBypassSettings") == 0 || strcmp(k, "joinMeetingIdSettings") == 0))
			json_object_update(cur, v);
		else
			json_object_set(m, k, v);
	}
	json_t *join = json_object_get(m, "joinMeetingIdSettings");
	const char *pw = json_string_value(json_object_get(join, "passcode"));
	if (json_is_false(json_object_get(join, "isPasscodeRequired"))) {
		json_object_set_new(join, "passcode", json_null());
	} else if (join && (!pw || !*pw)) {
		char *pass = ml_sb_rand("", 6, ML_SB_ALNUM);
		json_object_set_new(join, "passcode", json_string(pass));
		free(pass);
	}
}

static json_t *new_meeting(json_t *root, const char *user, json_t *b)
{
	json_t *u = json_object_get(json_object_get(root, "users"), user);
	char *rand = ml_sb_rand("", 48, ML_SB_ALNUM);
	char *id = ml_asprintf("MSp%s", rand);
	char *thread = ml_sb_rand("19:meeting_", 48, ML_SB_ALNUM);
	char *tenant =
	    ml_strdup(ml_sb_cfg_str(P, "tenant_id", "72f988bf-86f1-41af-91ab-2d7cd011db47"));
	char *joinurl =
	    ml_asprintf("https://teams.microsoft.com/l/meetup-join/"
	                "19%%3ameeting_%s%%40thread.v2/0?context=%%7b%%22Tid%%22%%3a%%22%s"
	                "%%22%%2c%%22Oid%%22%%3a%%22%s%%22%%7d",
	                thread + 11, tenant, nz(ml_sb_str(u, "id")));
	char *thread_full = ml_asprintf("%s@thread.v2", thread);
	char *jmid = ml_sb_rand("", 13, ML_SB_DIGITS);
	char *pass = ml_sb_rand("", 6, ML_SB_ALNUM);
	char now[ML_RFC3339_MAX], start[ML_RFC3339_MAX], end[ML_RFC3339_MAX];
	ml_time_format(ml_sb_now(), now);
	ml_time_format(ml_sb_now(), start);
	ml_time_format(ml_sb_now() + 3600, end);
	json_t *m = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:s, s:n, s:b, s:s, s:b, s:b, s:s, s:b,"
	    " s:{s:{s:s, s:s, s:{s:{s:s, s:n}}}, s:[]},"
	    " s:{s:s, s:s, s:n}, s:{s:s, s:b}, s:{s:s, s:s, s:b}, s:n, s:n}",
	    "@odata.context", GRAPH "/$metadata#users('me')/onlineMeetings/$entity", "id", id,
	    "creationDateTime", now, "startDateTime", start, "endDateTime", end, "joinWebUrl",
	    joinurl, "subject", "isBroadcast", 0, "allowedPresenters", "everyone",
	    "isEntryExitAnnounced", 1, "allowTeamworkReactions", 1, "allowMeetingChat", "enabled",
	    "recordAutomatically", 0, "participants", "organizer", "upn", user, "role", "presenter",
	    "identity", "user", "id", nz(ml_sb_str(u, "id")), "displayName", "attendees",
	    "chatInfo", "threadId", thread_full, "messageId", "0", "replyChainMessageId",
	    "lobbyBypassSettings", "scope", "organization", "isDialInBypassEnabled", 0,
	    "joinMeetingIdSettings", "joinMeetingId", jmid, "passcode", pass, "isPasscodeRequired",
	    1, "audioConferencing", "videoTeleconferenceId");
	merge_meeting(m, b);
	free(rand);
	free(id);
	free(thread);
	free(tenant);
	free(joinurl);
	free(thread_full);
	free(jmid);
	free(pass);
	return m;
}

#define MEETING_PERMS "OnlineMeetings.ReadWrite OnlineMeetings.ReadWrite.All"

/* The user and the validated onlineMeeting body of a create; NULL after answering. */
static json_t *meeting_body(struct ml_http_req *req, struct ml_http_resp *resp, const char **user)
{
	*user = graph_user(req, resp, MEETING_PERMS, "Forbidden");
	if (!*user)
		return NULL;
	json_t *b = body_object(req, resp);
	if (b && !ml_sb_ms_validate_meeting(b, resp)) {
		json_decref(b);
		return NULL;
	}
	return b;
}

static void meetings_create(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user;
	const char *user;
	json_t *b = meeting_body(req, resp, &user);
	if (!b)
		return;
	json_object_del(b, "externalId"); /* only createOrGet keeps an external id */
	json_t *m = new_meeting(root, user, b);
	json_object_set(user_bucket(root, "meetings", user), ml_sb_str(m, "id"), m);
	ml_resp_json(resp, 201, m);
	json_decref(b);
}

/* Objects by user and a client key (lock held): createOrGet walked the user's every meeting
 * for its externalId, events.create every event for its transactionId. Only createOrGet
 * gives a meeting an externalId, or a PATCH of one that had none; an event's transactionId
 * is set when it is made and cannot change (each adds it here). A delete leaves a stale
 * id, checked away on lookup. */
struct keyed {
	struct ml_sb_index ix;
	const char *kind;  /* root member: {user: {id: object}} */
	const char *field; /* the object's member indexed */
};
static struct keyed by_ext = {.kind = "meetings", .field = "externalId"};
static struct keyed by_tx = {.kind = "events", .field = "transactionId"};

static char *keyed_key(const char *user, const char *value)
{
	return ml_asprintf("%s\n%s", user, value);
}

/* Brings the index up to date with root and adds obj (NULL: none) of user. */
static void keyed_add(struct keyed *x, json_t *root, const char *user, const json_t *obj)
{
	json_t *users = json_object_get(root, x->kind), *bucket, *v;
	const char *u, *k, *e;
	char *key;
	if (ml_sb_index_stale(&x->ix, root))
		json_object_foreach(users, u, bucket)
			json_object_foreach(bucket, k, v)
				if ((e = ml_sb_str(v, x->field))) {
					key = keyed_key(u, e);
					ml_sb_index_add(&x->ix, key, k);
					free(key);
				}
	if (obj && (e = ml_sb_str(obj, x->field))) {
		key = keyed_key(user, e);
		ml_sb_index_add(&x->ix, key, ml_sb_str(obj, "id"));
		free(key);
	}
}

/* The first object of the user's bucket whose field is `value` (borrowed), NULL when none:
 * what a walk of the bucket finds. */
static json_t *keyed_find(struct keyed *x, json_t *root, const char *user, json_t *bucket,
                          const char *value)
{
	keyed_add(x, root, user, NULL);
	char *key = keyed_key(user, value);
	json_t *ids = ml_sb_index_get(&x->ix, key), *id, *v, *found = NULL;
	size_t i, n = 0;
	const char *k, *e;
	free(key);
	json_array_foreach(ids, i, id) {
		v = json_object_get(bucket, json_string_value(id));
		if (v && (e = ml_sb_str(v, x->field)) && !strcmp(e, value) && !n++)
			found = v;
	}
	if (n < 2)
		return found;
	/* Two with one key (a PATCH gave an older meeting the same externalId): the walk's
	 * answer is the first in the bucket, which the index's order may not be. */
	json_object_foreach(bucket, k, v)
		if ((e = ml_sb_str(v, x->field)) && !strcmp(e, value))
			return v;
	return NULL;
}

static void meetings_create_or_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user;
	const char *user;
	json_t *b = meeting_body(req, resp, &user);
	if (!b)
		return;
	const char *ext = ml_sb_str(b, "externalId");
	if (!ext || !*ext) {
		ml_sb_ms_gerr(resp, 400, "BadRequest", "externalId is required.");
		json_decref(b);
		return;
	}
	json_t *bucket = user_bucket(root, "meetings", user);
	json_t *v = keyed_find(&by_ext, root, user, bucket, ext);
	if (v) {
		ml_resp_json(resp, 200, json_deep_copy(v));
		json_decref(b);
		return;
	}
	json_t *m = new_meeting(root, user, b);
	json_object_set(bucket, ml_sb_str(m, "id"), m);
	keyed_add(&by_ext, root, user, m);
	ml_resp_json(resp, 201, m);
	json_decref(b);
}

static json_t *find_meeting(struct ml_http_req *req, struct ml_http_resp *resp, const char **user)
{
	*user = graph_user(req, resp, MEETING_PERMS, "Forbidden");
	if (!*user)
		return NULL;
	json_t *m = json_object_get(user_bucket(req->user, "meetings", *user), req->params[0]);
	if (!m)
		ml_sb_ms_gerr(resp, 404, "NotFound", "The specified onlineMeeting was not found.");
	return m;
}

static void meetings_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *user;
	json_t *m = find_meeting(req, resp, &user);
	if (m)
		ml_resp_json(resp, 200, json_deep_copy(m));
}

static void meetings_patch(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *user;
	json_t *m = find_meeting(req, resp, &user);
	if (!m)
		return;
	json_t *b = body_object(req, resp);
	if (!b || !ml_sb_ms_validate_meeting(b, resp)) {
		json_decref(b);
		return;
	}
	json_t *next = json_deep_copy(m);
	merge_meeting(next, b);
	if (json_object_get(m, "externalId"))
		json_object_set(next, "externalId", json_object_get(m, "externalId"));
	if (!ml_sb_ms_validate_meeting(next, resp)) {
		json_decref(next);
		json_decref(b);
		return;
	}
	json_object_set(user_bucket(req->user, "meetings", user), req->params[0], next);
	keyed_add(&by_ext, req->user, user, next);
	ml_resp_json(resp, 200, next);
	json_decref(b);
}

static void meetings_delete(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *user;
	json_t *m = find_meeting(req, resp, &user);
	if (!m)
		return;
	json_object_del(user_bucket(req->user, "meetings", user), req->params[0]);
	ml_resp_body(resp, 204, "application/json", "", 0);
}

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
	json_t *m = new_meeting(root, user, fields);
	json_decref(fields);
	/* The event's Teams meeting is an onlineMeeting of the organizer too (found by its
	 * joinWebUrl, patched for its lobby and passcode), kept in step with the event. */
	json_object_set(user_bucket(root, "meetings", user), ml_sb_str(m, "id"), m);
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

/* The onlineMeeting of the user whose joinWebUrl is `url` (borrowed), NULL when none. */
static json_t *meeting_by_url(json_t *root, const char *user, const char *url)
{
	const char *k;
	json_t *m;
	if (!url)
		return NULL;
	json_object_foreach(user_bucket(root, "meetings", user), k, m)
		if (ml_sb_str(m, "joinWebUrl") && strcmp(ml_sb_str(m, "joinWebUrl"), url) == 0)
			return m;
	return NULL;
}

static const char *event_join_url(json_t *ev)
{
	return ml_sb_str(json_object_get(ev, "onlineMeeting"), "joinUrl");
}

/* The event's times and subject onto its Teams meeting (UTC: what the emulator keeps). */
static void sync_event_meeting(json_t *root, const char *user, json_t *ev)
{
	json_t *m = meeting_by_url(root, user, event_join_url(ev));
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

/* GET /me/onlineMeetings?$filter=JoinWebUrl eq '<url>': the one way Graph finds the Teams
 * meeting of a calendar event (its joinWebUrl is the event's onlineMeeting.joinUrl). */
static void meetings_list(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *user = graph_user(req, resp, MEETING_PERMS, "Forbidden");
	if (!user)
		return;
	const char *f = ml_http_query(req, "$filter");
	static const char pre[] = "JoinWebUrl eq '";
	size_t n = f ? strlen(f) : 0;
	if (!f || strncasecmp(f, pre, sizeof pre - 1) != 0 || n < sizeof pre || f[n - 1] != '\'') {
		ml_sb_ms_gerr(resp, 400, "BadRequest",
		              "Filter expression expected - /onlineMeetings?$filter=JoinWebUrl eq "
		              "'joinWebUrl'.");
		return;
	}
	struct ml_buf url = {0};
	for (size_t i = sizeof pre - 1; i < n - 1; i++) {
		ml_buf_append(&url, f + i, 1);
		if (f[i] == '\'' && f[i + 1] == '\'')
			i++;
	}
	ml_buf_append(&url, "", 1);
	json_t *m = meeting_by_url(req->user, user, url.data);
	ml_buf_free(&url);
	json_t *items = json_array();
	if (m) {
		json_t *c = json_deep_copy(m);
		json_object_del(c, "@odata.context");
		json_array_append_new(items, c);
	}
	ml_resp_json(resp, 200, json_pack("{s:s, s:o}", "@odata.context",
	                                  GRAPH "/$metadata#users('me')/onlineMeetings",
	                                  "value", items));
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

static void events_create(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user;
	const char *user = graph_user(req, resp, "Calendars.ReadWrite", "ErrorAccessDenied");
	if (!user)
		return;
	json_t *b = body_object(req, resp);
	if (!b || !ml_sb_ms_validate_event(b, true, resp)) {
		json_decref(b);
		return;
	}
	json_t *bucket = user_bucket(root, "events", user);
	const char *tx = ml_sb_str(b, "transactionId");
	if (tx) {
		/* A retried create with the same transactionId gets the event it made. An empty
		 * one also matches events without any: walked, as before. */
		json_t *v = NULL, *e;
		const char *k;
		if (*tx)
			v = keyed_find(&by_tx, root, user, bucket, tx);
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
	keyed_add(&by_tx, root, user, ev);
	ml_resp_json(resp, 201, ev);
	free(r);
	free(id);
	free(uid);
	free(link);
	json_decref(b);
}

static json_t *find_event(struct ml_http_req *req, struct ml_http_resp *resp, const char *perm,
                          const char **user)
{
	*user = graph_user(req, resp, perm, "ErrorAccessDenied");
	if (!*user)
		return NULL;
	json_t *ev = json_object_get(user_bucket(req->user, "events", *user), req->params[0]);
	if (!ev)
		ml_sb_ms_gerr(resp, 404, "ErrorItemNotFound",
		              "The specified object was not found in the store.");
	return ev;
}

static void events_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *user;
	json_t *ev = find_event(req, resp, "Calendars.Read Calendars.ReadWrite", &user);
	if (ev)
		ml_resp_json(resp, 200, json_deep_copy(ev));
}

static void events_list(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *user =
	    graph_user(req, resp, "Calendars.Read Calendars.ReadWrite", "ErrorAccessDenied");
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
	json_object_foreach(user_bucket(req->user, "events", user), k, v)
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

static void events_patch(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *user;
	json_t *ev = find_event(req, resp, "Calendars.ReadWrite", &user);
	if (!ev)
		return;
	json_t *b = body_object(req, resp);
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
	json_object_set(user_bucket(req->user, "events", user), req->params[0], next);
	ml_resp_json(resp, 200, json_deep_copy(next));
	json_decref(next);
	json_decref(b);
}

/* An event goes, and its Teams meeting with it. */
void ml_sb_ms_drop_event(json_t *root, const char *user, const char *id)
{
	json_t *ev = json_object_get(user_bucket(root, "events", user), id);
	json_t *m = ev ? meeting_by_url(root, user, event_join_url(ev)) : NULL;
	if (m)
		json_object_del(user_bucket(root, "meetings", user), ml_sb_str(m, "id"));
	json_object_del(user_bucket(root, "events", user), id);
}

static void drop_event(json_t *root, const char *user, const char *id)
{
	ml_sb_ms_drop_event(root, user, id);
}

static void events_delete(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *user;
	json_t *ev = find_event(req, resp, "Calendars.ReadWrite", &user);
	if (!ev)
		return;
	drop_event(req->user, user, req->params[0]);
	ml_resp_body(resp, 204, "application/json", "", 0);
}

/* POST /me/events/{id}/cancel: the organizer cancels and attendees are told. */
static void events_cancel(struct ml_http_req *req, struct ml_http_resp *resp)
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
	json_decref(b);
	ml_resp_body(resp, 202, "application/json", "", 0);
}

/* ---- seed and registry -------------------------------------------------------------- */

static json_t *seed_user(const char *id, const char *upn, const char *given, const char *sur)
{
	char *name = ml_asprintf("%s %s", given, sur);
	json_t *u = json_pack("{s:[], s:s, s:s, s:n, s:s, s:n, s:n, s:s, s:s, s:s, s:s}",
	                      "businessPhones", "displayName", name, "givenName", given, "jobTitle",
	                      "mail", upn, "mobilePhone", "officeLocation", "preferredLanguage",
	                      "en-US", "surname", sur, "userPrincipalName", upn, "id", id);
	free(name);
	return u;
}

static void seed(json_t *root)
{
	json_object_set_new(root, "apps",
	                    json_pack("{s:{s:s, s:s, s:[]}}",
	                              "11111111-2222-3333-4444-555555555555", "client_secret",
	                              "sandbox~microsoft~secret", "name", "meetlink (sandbox)",
	                              "redirect_uris"));
	json_t *users = json_object();
	json_object_set_new(users, "ada@sandbox.onmicrosoft.com",
	                    seed_user("6e7b768e-07e2-4810-8459-485f84f8f204",
	                              "ada@sandbox.onmicrosoft.com", "Ada", "Lovelace"));
	json_object_set_new(users, "grace@sandbox.onmicrosoft.com",
	                    seed_user("87d349ed-44d7-43e1-9a83-5f2406dee5bd",
	                              "grace@sandbox.onmicrosoft.com", "Grace", "Hopper"));
	json_object_set_new(root, "users", users);
	json_object_set_new(root, "codes", json_object());
	json_object_set_new(root, "tokens", json_object());
	json_object_set_new(root, "events", json_object());
	json_object_set_new(root, "meetings", json_object());
	json_object_set_new(root, "throttle", json_object());
	json_object_set_new(root, "cancellations", json_array());
	json_object_set_new(
	    json_object_get(root, "tokens"), "eyJ0eXAiOiJKV1QiLCJzYiI6MX0.sandbox-ada",
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:b}", "type", "access", "account",
	              "ada@sandbox.onmicrosoft.com", "client_id",
	              "11111111-2222-3333-4444-555555555555", "scope",
	              "Calendars.ReadWrite OnlineMeetings.ReadWrite User.Read", "grant", "seed-ada",
	              "kind", "delegated", "issued_at", (json_int_t)ml_sb_now(), "revoked", 0));
}

static const struct ml_route routes[] = {
    /* identity platform (login.microsoftonline.com) */
    {"GET", "/{tenant}/oauth2/v2.0/authorize", ml_sb_ms_authorize, 0},
    {"POST", "/{tenant}/oauth2/v2.0/authorize/decision", ml_sb_ms_decision, 0},
    {"POST", "/{tenant}/oauth2/v2.0/token", ml_sb_ms_token, 0},
    /* Graph (graph.microsoft.com) */
    {"GET", "/v1.0/me", me, 0},
    {"POST", "/v1.0/me/onlineMeetings", meetings_create, 0},
    {"GET", "/v1.0/me/onlineMeetings", meetings_list, 0},
    {"POST", "/v1.0/me/onlineMeetings/createOrGet", meetings_create_or_get, 0},
    {"GET", "/v1.0/me/onlineMeetings/{id}", meetings_get, 0},
    {"PATCH", "/v1.0/me/onlineMeetings/{id}", meetings_patch, 0},
    {"DELETE", "/v1.0/me/onlineMeetings/{id}", meetings_delete, 0},
    {"POST", "/v1.0/me/events", events_create, 0},
    {"GET", "/v1.0/me/events", events_list, 0},
    {"POST", "/v1.0/me/calendar/events", events_create, 0},
    {"GET", "/v1.0/me/calendar/events", events_list, 0},
    {"GET", "/v1.0/me/events/{id}", events_get, 0},
    {"PATCH", "/v1.0/me/events/{id}", events_patch, 0},
    {"DELETE", "/v1.0/me/events/{id}", events_delete, 0},
    {"POST", "/v1.0/me/events/{id}/cancel", events_cancel, 0},
    {NULL, NULL, NULL, 0},
};

const struct ml_sb_provider ml_sb_microsoft = {
    .name = "microsoft",
    .prefix = "/microsoft",
    .routes = routes,
    .seed = seed,
    .defaults = "{\"auto_approve\": false, \"default_user\": \"ada@sandbox.onmicrosoft.com\","
                " \"access_token_ttl\": 3599, \"requests_per_10s\": 0,"
                " \"allowed_online_meeting_providers\": \"teamsForBusiness\","
                " \"tenant_id\": \"72f988bf-86f1-41af-91ab-2d7cd011db47\"}",
    .not_found = ml_sb_ms_not_found,
    .error = ml_sb_ms_error,
};
