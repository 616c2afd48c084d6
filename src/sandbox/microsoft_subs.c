/* Microsoft Graph change notifications, emulated (microsoft-graph-docs-contrib:
 * concepts/change-notifications-delivery-webhooks.md, the notificationUrl validation include,
 * resources/subscription.md).
 *
 *   POST /v1.0/subscriptions {changeType, notificationUrl, resource, expirationDateTime,
 *        clientState?} -> before answering, POST notificationUrl?validationToken=<token>
 *        (Content-Type: text/plain; charset=utf-8, no body): the subscription is made only
 *        when that answers 200, text/plain, with the token as it was, within
 *        "validation_timeout_ms" (10 s); else 400 ValidationError. 201 subscription.
 *        resource: me/events (or /me/events); changeType: created, updated, deleted, comma
 *        separated; expirationDateTime after now and at most "subscription_max_minutes"
 *        (4230, Outlook events) ahead; clientState at most 128 characters; notificationUrl
 *        http(s), and loopback unless "subscription_any_host" (tests never reach out).
 *   GET /v1.0/subscriptions, GET|PATCH|DELETE /v1.0/subscriptions/{id}: PATCH takes a new
 *        expirationDateTime (200); an expired or unknown subscription is 404.
 *
 * Every change of a user's events (created, updated, deleted: the API's and the host's own
 * below) is notified to each live subscription of that user (expirationDateTime after the
 * sandbox clock's now) whose changeType has it: POST notificationUrl with
 * {value: [{subscriptionId, subscriptionExpirationDateTime, changeType, resource, clientState,
 * tenantId, resourceData: {@odata.type, @odata.id, @odata.etag, id}}]}.
 *
 * The host's side, for tests (Outlook has no API for it):
 *   POST /microsoft/_host/change {event_id, action: delete|move, start?, end?, account?}
 *   POST /microsoft/_host/notify {subscription_id, event_id?, change_type?, forge?} one
 *        notification made now (forge: a clientState that is not the subscription's), or
 *        {notification_id}: an earlier one sent again as it was (a replay)
 * Outbound fault rules ("direction": "out", event: the change type) lose a notification,
 * send it twice or hold it until the next one has gone. Each notification and its answers
 * are kept in root["notify_log"] (the last 200), each validation in root["validations"].
 */
#include "sandbox/microsoft.h"
#include "sandbox/outbound.h"
#include "sandbox/sb_internal.h"

#include "core/mem.h"
#include "core/timeutil.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KEEP 200
#define SUB_PERMS "Calendars.Read Calendars.ReadWrite"

static json_t *member(json_t *root, const char *key, bool array)
{
	json_t *v = json_object_get(root, key);
	if (!v) {
		v = array ? json_array() : json_object();
		json_object_set_new(root, key, v);
	}
	return v;
}

static void send_note(struct ml_sb_outbound *ob, json_t *root, json_t *rec)
{
	(void)root;
	char *body = json_dumps(json_object_get(rec, "body"), JSON_COMPACT);
	const char *headers[] = {"Content-Type: application/json; charset=utf-8",
				 "User-Agent: Microsoft-Graph-ChangeNotifications (sandbox)", NULL};
	ml_sb_outbound_post(ob, rec, ml_sb_str(rec, "url"), headers, body, strlen(body));
	free(body);
}

static struct ml_sb_outbound out = ML_SB_OUTBOUND_INIT(P, "notify_log", "notify_held", send_note);

static bool live(json_t *sub)
{
	int64_t exp;
	const char *e = ml_sb_str(sub, "expirationDateTime");
	return e && ml_time_parse(e, &exp) == 0 && exp > ml_sb_now();
}

/* A subscription as Graph answers it (the sandbox's own members left out). */
static json_t *shown(json_t *sub)
{
	json_t *c = json_deep_copy(sub);
	json_object_del(c, "user");
	json_object_set_new(c, "@odata.context",
			    json_string(GRAPH "/$metadata#subscriptions/$entity"));
	return c;
}

static json_t *record_note(json_t *root, json_t *sub, const char *event_id, const char *change,
			   bool forge)
{
	json_t *u = json_object_get(json_object_get(root, "users"), ml_sb_str(sub, "user"));
	json_t *ev = json_object_get(json_object_get(json_object_get(root, "events"),
						     ml_sb_str(sub, "user")),
				     event_id);
	char *res = ml_asprintf("Users/%s/Events/%s", nz(ml_sb_str(u, "id")), event_id);
	const char *ck = ml_sb_str(ev, "changeKey");
	char *etag = ck ? ml_asprintf("W/\"%s\"", ck) : NULL;
	json_t *n = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}}", "subscriptionId",
			      ml_sb_str(sub, "id"), "subscriptionExpirationDateTime",
			      ml_sb_str(sub, "expirationDateTime"), "changeType", change,
			      "resource", res, "tenantId",
			      ml_sb_cfg_str(P, "tenant_id", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
			      "resourceData", "@odata.type", "#Microsoft.Graph.Event", "@odata.id",
			      res, "id", event_id);
	if (etag)
		json_object_set_new(json_object_get(n, "resourceData"), "@odata.etag",
				    json_string(etag));
	const char *cs = forge ? "forged-client-state.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			       : ml_sb_str(sub, "clientState");
	if (cs)
		json_object_set_new(n, "clientState", json_string(cs));
	json_t *list = member(root, "notify_log", true);
	json_int_t id = json_integer_value(json_object_get(root, "notify_next_id")) + 1;
	json_object_set_new(root, "notify_next_id", json_integer(id));
	json_t *rec = json_pack("{s:I, s:s, s:s, s:s, s:s, s:b, s:n, s:[], s:{s:[o]}}", "id", id,
				"subscription_id", ml_sb_str(sub, "id"), "url",
				ml_sb_str(sub, "notificationUrl"), "event_id", event_id,
				"change_type", change, "forged", forge, "fault", "attempts", "body",
				"value", n);
	json_array_append_new(list, rec);
	while (json_array_size(list) > KEEP)
		json_array_remove(list, 0);
	free(res);
	free(etag);
	ml_sb_outbound_deliver(&out, root, rec, change);
	return rec;
}

void ml_sb_ms_events_changed(json_t *root, const char *user, const char *id, const char *change)
{
	const char *k;
	json_t *sub;
	json_object_foreach(member(root, "subscriptions", false), k, sub)
	{
		const char *u = ml_sb_str(sub, "user"), *ct = ml_sb_str(sub, "changeType");
		if (u && strcmp(u, user) == 0 && live(sub) && ct && strstr(ct, change))
			record_note(root, sub, id, change, false);
	}
}

/* --- the validation handshake --- */

static size_t collect(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct ml_buf *b = arg;
	if (b->len < 4096)
		ml_buf_append(b, ptr, size * nmemb);
	return size * nmemb;
}

/* POST url?validationToken=<token>; true when answered as Graph requires. Recorded. */
static bool validate_url(json_t *root, const char *url)
{
	char *token = guid();
	char *t = ml_asprintf("Validation: Testing client application reachability for "
			      "subscription Request-Id: %s", token);
	CURL *c = curl_easy_init();
	char *esc = c ? curl_easy_escape(c, t, 0) : NULL;
	char *full = ml_asprintf("%s%svalidationToken=%s", url, strchr(url, '?') ? "&" : "?",
				 esc ? esc : "");
	struct ml_buf body = {0};
	struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: text/plain; charset=utf-8");
	hl = curl_slist_append(hl, "Expect:");
	long status = 0;
	char *ctype = NULL;
	if (c) {
		curl_easy_setopt(c, CURLOPT_URL, full);
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
				 (long)ml_sb_cfg_int(P, "validation_timeout_ms", 10000));
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
		if (curl_easy_perform(c) == CURLE_OK) {
			char *ct = NULL;
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
			curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
			ctype = ct ? ml_strdup(ct) : NULL;
		}
	}
	ml_buf_append(&body, "", 1);
	bool ok = status == 200 && ctype && strncasecmp(ctype, "text/plain", 10) == 0 &&
		  strcmp(body.data, t) == 0;
	json_t *v = member(root, "validations", true);
	json_array_append_new(v, json_pack("{s:s, s:s, s:i, s:s?, s:s, s:b}", "url", url, "token",
					   t, "status", (int)status, "content_type", ctype, "answer",
					   body.data, "ok", ok));
	while (json_array_size(v) > KEEP)
		json_array_remove(v, 0);
	curl_slist_free_all(hl);
	if (esc)
		curl_free(esc);
	if (c)
		curl_easy_cleanup(c);
	ml_buf_free(&body);
	free(ctype);
	free(full);
	free(t);
	free(token);
	return ok;
}

/* --- subscriptions --- */

static bool loopback_url(const char *url)
{
	const char *h = strncmp(url, "https://", 8) == 0  ? url + 8
			: strncmp(url, "http://", 7) == 0 ? url + 7
							  : NULL;
	if (!h)
		return false;
	static const char *const ok[] = {"127.0.0.1", "localhost", "[::1]", NULL};
	for (int i = 0; ok[i]; i++) {
		size_t n = strlen(ok[i]);
		if (strncmp(h, ok[i], n) == 0 && (h[n] == ':' || h[n] == '/' || h[n] == 0))
			return true;
	}
	return false;
}

/* The expiration asked, checked against the maximum; false after answering 400. */
static bool expiry_ok(json_t *in, struct ml_http_resp *resp)
{
	int64_t exp;
	const char *e = ml_sb_str(in, "expirationDateTime");
	json_int_t max = ml_sb_cfg_int(P, "subscription_max_minutes", 4230);
	char m[160];
	if (!e || ml_time_parse(e, &exp) < 0) {
		ml_sb_ms_gerr(resp, 400, "InvalidRequest",
			      "expirationDateTime is required and must be a DateTimeOffset.");
		return false;
	}
	if (exp <= ml_sb_now()) {
		ml_sb_ms_gerr(resp, 400, "InvalidRequest",
			      "Subscription expiration must be in the future.");
		return false;
	}
	if (exp > ml_sb_now() + max * 60) {
		snprintf(m, sizeof m, "Subscription expiration can only be %lld minutes in the "
				      "future.", (long long)max);
		ml_sb_ms_gerr(resp, 400, "InvalidRequest", m);
		return false;
	}
	return true;
}

static bool change_types_ok(const char *ct)
{
	if (!ct || !*ct || strlen(ct) > 64)
		return false;
	char *c = ml_strdup(ct), *save = NULL;
	bool ok = true;
	for (char *t = strtok_r(c, ",", &save); t && ok; t = strtok_r(NULL, ",", &save))
		ok = !strcmp(t, "created") || !strcmp(t, "updated") || !strcmp(t, "deleted");
	free(c);
	return ok;
}

void ml_sb_ms_subs_create(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user;
	const char *user = ml_sb_ms_user(req, resp, SUB_PERMS, "ExtensionError");
	if (!user)
		return;
	json_t *in = ml_sb_json_body(req);
	const char *url = ml_sb_str(in, "notificationUrl"), *res = ml_sb_str(in, "resource");
	const char *ct = ml_sb_str(in, "changeType"), *cs = ml_sb_str(in, "clientState");
	bool any_host = ml_sb_cfg_bool(P, "subscription_any_host", false);
	if (!json_is_object(in))
		ml_sb_ms_gerr(resp, 400, "BadRequest", "Empty Payload. JSON content expected.");
	else if (!change_types_ok(ct))
		ml_sb_ms_gerr(resp, 400, "InvalidRequest",
			      "changeType must be created, updated or deleted, comma separated.");
	else if (!res || (strcasecmp(res, "me/events") && strcasecmp(res, "/me/events")))
		ml_sb_ms_gerr(resp, 400, "InvalidRequest",
			      "The sandbox supports resource me/events only.");
	else if (!url || strlen(url) > 2000 ||
		 (strncmp(url, "https://", 8) && strncmp(url, "http://", 7)))
		ml_sb_ms_gerr(resp, 400, "InvalidRequest", "notificationUrl must be an HTTPS URL.");
	else if (!any_host && !loopback_url(url))
		ml_sb_ms_gerr(resp, 400, "InvalidRequest",
			      "The sandbox only notifies loopback addresses "
			      "(config subscription_any_host).");
	else if (json_object_get(in, "clientState") && (!cs || strlen(cs) > 128))
		ml_sb_ms_gerr(resp, 400, "InvalidRequest",
			      "clientState may be 128 characters at most.");
	else if (!expiry_ok(in, resp))
		;
	else if (!validate_url(root, url))
		ml_sb_ms_gerr(resp, 400, "ValidationError",
			      "Subscription validation request failed. Notification endpoint "
			      "must respond with 200 OK to validation request.");
	else {
		char *id = guid();
		json_t *u = json_object_get(json_object_get(root, "users"), user);
		json_t *sub = json_pack(
		    "{s:s, s:s, s:s, s:s, s:s, s:s?, s:s, s:s, s:s, s:b, s:s}", "id", id, "resource",
		    res, "changeType", ct, "notificationUrl", url, "expirationDateTime",
		    ml_sb_str(in, "expirationDateTime"), "clientState", cs, "applicationId",
		    "11111111-2222-3333-4444-555555555555", "creatorId", nz(ml_sb_str(u, "id")),
		    "latestSupportedTlsVersion", "v1_2", "includeResourceData", 0, "user", user);
		json_object_set(member(root, "subscriptions", false), id, sub);
		ml_resp_json(resp, 201, shown(sub));
		json_decref(sub);
		free(id);
	}
	json_decref(in);
}

static json_t *find_sub(struct ml_http_req *req, struct ml_http_resp *resp, const char **user)
{
	*user = ml_sb_ms_user(req, resp, SUB_PERMS, "ExtensionError");
	if (!*user)
		return NULL;
	json_t *subs = member(req->user, "subscriptions", false);
	json_t *sub = json_object_get(subs, req->params[0]);
	if (sub && !live(sub)) {
		json_object_del(subs, req->params[0]); /* expired: Graph deleted it */
		sub = NULL;
	}
	if (!sub || strcmp(nz(ml_sb_str(sub, "user")), *user) != 0) {
		ml_sb_ms_gerr(resp, 404, "ResourceNotFound", "The object was not found.");
		return NULL;
	}
	return sub;
}

void ml_sb_ms_subs_list(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *user = ml_sb_ms_user(req, resp, SUB_PERMS, "ExtensionError");
	if (!user)
		return;
	json_t *items = json_array();
	const char *k;
	json_t *sub;
	json_object_foreach(member(req->user, "subscriptions", false), k, sub)
		if (live(sub) && strcmp(nz(ml_sb_str(sub, "user")), user) == 0)
			json_array_append_new(items, shown(sub));
	ml_resp_json(resp, 200, json_pack("{s:s, s:o}", "@odata.context",
					  GRAPH "/$metadata#subscriptions", "value", items));
}

void ml_sb_ms_subs_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *user;
	json_t *sub = find_sub(req, resp, &user);
	if (sub)
		ml_resp_json(resp, 200, shown(sub));
}

void ml_sb_ms_subs_patch(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *user;
	json_t *sub = find_sub(req, resp, &user);
	if (!sub)
		return;
	json_t *in = ml_sb_json_body(req);
	if (!json_is_object(in))
		ml_sb_ms_gerr(resp, 400, "BadRequest", "Empty Payload. JSON content expected.");
	else if (expiry_ok(in, resp)) {
		json_object_set(sub, "expirationDateTime",
				json_object_get(in, "expirationDateTime"));
		json_object_set_new(sub, "renewals",
				    json_integer(json_integer_value(json_object_get(sub, "renewals")) +
						 1));
		ml_resp_json(resp, 200, shown(sub));
	}
	json_decref(in);
}

void ml_sb_ms_subs_delete(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *user;
	if (!find_sub(req, resp, &user))
		return;
	json_object_del(member(req->user, "subscriptions", false), req->params[0]);
	ml_resp_body(resp, 204, "application/json", "", 0);
}

/* --- the host's side --- */

static void herr(struct ml_http_resp *resp, int status, const char *field, const char *msg)
{
	ml_resp_json(resp, status, json_pack("{s:s, s:s, s:s}", "error", "invalid_request",
					     "field", field, "message", msg));
}

void ml_sb_ms_host_change(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *in = ml_sb_json_body(req);
	const char *user = ml_sb_str(in, "account"), *id = ml_sb_str(in, "event_id");
	const char *action = ml_sb_str(in, "action");
	if (!user)
		user = ml_sb_cfg_str(P, "default_user", "ada@sandbox.onmicrosoft.com");
	json_t *ev = id ? json_object_get(json_object_get(json_object_get(root, "events"),
							  user ? user : ""),
					  id)
			: NULL;
	int64_t s = 0, e = 0;
	if (!json_is_object(in))
		herr(resp, 400, "body", "The body must be a JSON object.");
	else if (!ev)
		herr(resp, 404, "event_id", "No such event in that mailbox.");
	else if (!action || (strcmp(action, "delete") && strcmp(action, "move")))
		herr(resp, 400, "action", "action must be delete or move.");
	else if (strcmp(action, "move") == 0 &&
		 (!ml_sb_str(in, "start") || ml_time_parse(ml_sb_str(in, "start"), &s) < 0 ||
		  !ml_sb_str(in, "end") || ml_time_parse(ml_sb_str(in, "end"), &e) < 0 || e <= s))
		herr(resp, 400, "start", "move needs start and end (RFC 3339, end after start).");
	else {
		char *eid = ml_strdup(id);
		json_t *shown_ev = NULL;
		if (strcmp(action, "delete") == 0) {
			ml_sb_ms_drop_event(root, user, eid);
			ml_sb_ms_events_changed(root, user, eid, "deleted");
		} else {
			shown_ev = json_deep_copy(ml_sb_ms_move_event(root, user, eid, s, e));
			ml_sb_ms_events_changed(root, user, eid, "updated");
		}
		ml_resp_json(resp, 200, shown_ev ? shown_ev : json_pack("{s:s, s:b}", "id", eid,
									"deleted", 1));
		free(eid);
	}
	json_decref(in);
}

static json_t *note_find(json_t *root, json_int_t id)
{
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(root, "notify_log"), i, r)
		if (json_integer_value(json_object_get(r, "id")) == id)
			return r;
	return NULL;
}

void ml_sb_ms_host_notify(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *in = ml_sb_json_body(req);
	json_t *nid = json_object_get(in, "notification_id");
	const char *sid = ml_sb_str(in, "subscription_id"), *ct = ml_sb_str(in, "change_type");
	const char *ev = ml_sb_str(in, "event_id");
	json_t *sub = sid ? json_object_get(member(root, "subscriptions", false), sid) : NULL;
	if (!json_is_object(in)) {
		herr(resp, 400, "body", "The body must be a JSON object.");
	} else if (nid) {
		json_t *rec = json_is_integer(nid) ? note_find(root, json_integer_value(nid)) : NULL;
		if (!rec) {
			herr(resp, 404, "notification_id", "No such notification.");
		} else {
			/* A replay: the same body again, as a new delivery. */
			json_t *copy = json_deep_copy(rec);
			json_int_t id = json_integer_value(json_object_get(root, "notify_next_id")) + 1;
			json_object_set_new(root, "notify_next_id", json_integer(id));
			json_object_set_new(copy, "id", json_integer(id));
			json_object_set_new(copy, "attempts", json_array());
			json_object_set_new(copy, "fault", json_null());
			json_object_set_new(copy, "replay_of", json_copy(nid));
			json_array_append_new(member(root, "notify_log", true), copy);
			ml_sb_outbound_deliver(&out, root, copy, nz(ml_sb_str(copy, "change_type")));
			ml_resp_json(resp, 201, json_deep_copy(copy));
		}
	} else if (!sub) {
		herr(resp, 404, "subscription_id", "No such subscription.");
	} else if (!ev) {
		herr(resp, 400, "event_id", "event_id is required.");
	} else if (ct && strcmp(ct, "created") && strcmp(ct, "updated") && strcmp(ct, "deleted")) {
		herr(resp, 400, "change_type", "change_type must be created, updated or deleted.");
	} else {
		json_t *rec = record_note(root, sub, ev, ct ? ct : "updated",
					  json_is_true(json_object_get(in, "forge")));
		ml_resp_json(resp, 201, json_deep_copy(rec));
	}
	json_decref(in);
}
