/* Microsoft emulator: identity platform v2.0 (authorize, token) and Microsoft Graph v1.0
 * (/me, /me/onlineMeetings, /me/onlineMeetings/createOrGet; /me/events in
 * microsoft_events.c, /subscriptions in microsoft_subs.c), following
 * specs/msgraph/msgraph-notes.json and the CSDL types in msgraph-v1.0-event-onlinemeeting.
 *
 * State (root):
 *   apps      {client_id: {client_secret, name, redirect_uris[]}}
 *   users     {upn: user}                       seeded test users (Graph user resource)
 *   codes, tokens
 *   events    {upn: {id: event}}
 *   meetings  {upn: {id: onlineMeeting}}
 *   throttle  {upn: {window_start_ms, count}}   for the built-in mailbox limit
 *   subscriptions, notify_log, validations     change notifications (microsoft_subs.c)
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

const char *ml_sb_ms_user(struct ml_http_req *req, struct ml_http_resp *resp, const char *perms,
                          const char *deny_code)
{
	return graph_user(req, resp, perms, deny_code);
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

/* The onlineMeeting of the user whose joinWebUrl is `url` (borrowed), NULL when none. */
json_t *ml_sb_ms_meeting_by_url(json_t *root, const char *user, const char *url)
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
	json_t *m = ml_sb_ms_meeting_by_url(req->user, user, url.data);
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

/* ---- shared with microsoft_events.c ------------------------------------------------ */

json_t *ml_sb_ms_bucket(json_t *root, const char *kind, const char *user)
{
	return user_bucket(root, kind, user);
}

json_t *ml_sb_ms_body_object(struct ml_http_req *req, struct ml_http_resp *resp)
{
	return body_object(req, resp);
}

json_t *ml_sb_ms_new_meeting(json_t *root, const char *user, json_t *b)
{
	return new_meeting(root, user, b);
}

json_t *ml_sb_ms_tx_find(json_t *root, const char *user, json_t *bucket, const char *tx)
{
	return keyed_find(&by_tx, root, user, bucket, tx);
}

void ml_sb_ms_tx_add(json_t *root, const char *user, const json_t *ev)
{
	keyed_add(&by_tx, root, user, ev);
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
	json_object_set_new(root, "subscriptions", json_object());
	json_object_set_new(root, "notify_log", json_array());
	json_object_set_new(root, "validations", json_array());
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
    {"POST", "/v1.0/me/events", ml_sb_ms_events_create, 0},
    {"GET", "/v1.0/me/events", ml_sb_ms_events_list, 0},
    {"POST", "/v1.0/me/calendar/events", ml_sb_ms_events_create, 0},
    {"GET", "/v1.0/me/calendar/events", ml_sb_ms_events_list, 0},
    {"GET", "/v1.0/me/events/{id}", ml_sb_ms_events_get, 0},
    {"PATCH", "/v1.0/me/events/{id}", ml_sb_ms_events_patch, 0},
    {"DELETE", "/v1.0/me/events/{id}", ml_sb_ms_events_delete, 0},
    {"POST", "/v1.0/me/events/{id}/cancel", ml_sb_ms_events_cancel, 0},
    /* change notifications (microsoft_subs.c) */
    {"POST", "/v1.0/subscriptions", ml_sb_ms_subs_create, 0},
    {"GET", "/v1.0/subscriptions", ml_sb_ms_subs_list, 0},
    {"GET", "/v1.0/subscriptions/{id}", ml_sb_ms_subs_get, 0},
    {"PATCH", "/v1.0/subscriptions/{id}", ml_sb_ms_subs_patch, 0},
    {"DELETE", "/v1.0/subscriptions/{id}", ml_sb_ms_subs_delete, 0},
    /* the host's own changes in Outlook, for tests */
    {"POST", "/_host/change", ml_sb_ms_host_change, 0},
    {"POST", "/_host/notify", ml_sb_ms_host_notify, 0},
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
