/* Google emulator: Calendar v3 events (specs/google/google-calendar-v3.api-summary.json,
 * google-calendar-errors.json) and the route table for OAuth (google_oauth.c); listing
 * events and calendars is in google_list.c.
 *
 * State (root):
 *   clients   {client_id: {client_secret, name, redirect_uris[]}}
 *   accounts  {email: {sub, email, name, given_name, family_name, picture, locale}}
 *   codes     {code: {...}}                 authorization codes
 *   tokens    {token: {...}}                see sandbox.h
 *   calendars {email: {"events": {id: Event}}}
 *   pending   {"email/eventId": {ready_at_ms, result}}   conferences still being created
 *   notifications [{action, calendarId, eventId, sendUpdates, recipients[]}]
 */
#include "sandbox/google.h"

#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "sandbox/fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define P "google"

/* ---- helpers ------------------------------------------------------------------------ */

/* RFC 3339 with milliseconds. The text of the second is kept per thread: an insert stamps
 * its event twice, and gmtime_r + strftime cost more than the rest of the stamp. */
static void time_ms(int64_t ms, char out[ML_RFC3339_MAX + 4])
{
	static _Thread_local int64_t sec = -1;
	static _Thread_local char t[ML_RFC3339_MAX];
	static _Thread_local size_t n; /* strlen(t) without the 'Z' */
	if (ms < 0) {
		char neg[ML_RFC3339_MAX];
		ml_time_format(ms / 1000, neg);
		snprintf(out, ML_RFC3339_MAX + 4, "%.*s.%03dZ", (int)(strlen(neg) - 1), neg,
		         (int)(ms % 1000));
		return;
	}
	if (ms / 1000 != sec) {
		sec = ms / 1000;
		ml_time_format(sec, t);
		n = strlen(t) - 1;
	}
	int f = (int)(ms % 1000);
	memcpy(out, t, n);
	out[n] = '.';
	out[n + 1] = (char)('0' + f / 100);
	out[n + 2] = (char)('0' + f / 10 % 10);
	out[n + 3] = (char)('0' + f % 10);
	out[n + 4] = 'Z';
	out[n + 5] = '\0';
}

void ml_sb_gcal_set_now(json_t *ev, const char *key)
{
	char ts[ML_RFC3339_MAX + 4];
	time_ms(ml_sb_now_ms(), ts);
	json_object_set_new(ev, key, json_string(ts));
}

static void new_etag(json_t *ev)
{
	static unsigned long long seq; /* under the sandbox lock */
	char e[48];
	snprintf(e, sizeof e, "\"3%012lld%03llu\"", (long long)(ml_sb_now_ms() % 1000000000000LL),
	         ++seq % 1000);
	json_object_set_new(ev, "etag", json_string(e));
}

/* Small values built directly rather than with json_pack, which parses its format on every
 * call: on events.insert that parsing cost more than building the values. Keys are literals,
 * so they skip the UTF-8 check; values are checked as json_pack checked them. */
static void set_str(json_t *obj, const char *key, const char *value)
{
	json_object_set_new_nocheck(obj, key, json_string(value));
}

static json_t *obj_str(const char *key, const char *value)
{
	json_t *o = json_object();
	set_str(o, key, value);
	return o;
}

/* `a` followed by `b`, as a JSON string. */
static json_t *str_cat(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	char *s = ml_malloc(na + nb + 1);
	memcpy(s, a, na);
	memcpy(s + na, b, nb + 1);
	json_t *j = json_string(s);
	free(s);
	return j;
}

/* The request body as a JSON object; otherwise answers 400 parseError and NULL. */
static json_t *body_object(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *body = ml_sb_json_body(req);
	if (!json_is_object(body)) {
		json_decref(body);
		ml_sb_gerr(resp, 400, "parseError", "Parse Error");
		return NULL;
	}
	return body;
}

/* The access token's account when it may use Calendar; otherwise answers and NULL. */
const char *ml_sb_gcal_authorize(struct ml_http_req *req, struct ml_http_resp *resp,
                                      bool write)
{
	json_t *root = req->user;
	json_t *tok = ml_sb_bearer(req, root, NULL);
	if (!tok) {
		ml_resp_header(
		    resp, "WWW-Authenticate",
		    "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"");
		ml_sb_gerr_full(resp, 401, "global", "authError", "Invalid Credentials", "header",
		                "Authorization");
		return NULL;
	}
	const char *scope = ml_sb_str(tok, "scope");
	bool ok = false;
	/* calendar and calendar.events grant writes; the .readonly ones only reads. */
	char *sc = ml_strdup(scope ? scope : ""), *save = NULL;
	for (char *s = strtok_r(sc, " ", &save); s; s = strtok_r(NULL, " ", &save)) {
		const char *tail = strstr(s, "/auth/");
		tail = tail ? tail + 6 : s;
		if (strcmp(tail, "calendar") == 0 || strcmp(tail, "calendar.events") == 0 ||
		    strcmp(tail, "calendar.events.owned") == 0)
			ok = true;
		else if (!write && (strcmp(tail, "calendar.readonly") == 0 ||
		                    strcmp(tail, "calendar.events.readonly") == 0))
			ok = true;
	}
	free(sc);
	if (!ok) {
		ml_sb_gerr_full(resp, 403, "global", "insufficientPermissions",
		                "Request had insufficient authentication scopes.", NULL, NULL);
		return NULL;
	}
	return ml_sb_str(tok, "account");
}

/* The events object of calendarId for this account ("primary" or the account's email). */
json_t *ml_sb_gcal_events_of(json_t *root, const char *account, const char *cal,
                               struct ml_http_resp *resp, const char **cal_key)
{
	if (strcmp(cal, "primary") == 0)
		cal = account;
	if (!account || strcasecmp(cal, account) != 0) {
		ml_sb_gerr(resp, 404, "notFound", "Not Found");
		return NULL;
	}
	json_t *cals = json_object_get(root, "calendars");
	json_t *c = json_object_get(cals, account);
	if (!c) {
		c = json_pack("{s:{}}", "events");
		json_object_set_new(cals, account, c);
	}
	*cal_key = json_object_iter_key(json_object_iter_at(cals, account));
	return json_object_get(c, "events");
}

static bool valid_event_id(const char *id)
{
	size_t n = strlen(id);
	if (n < 5 || n > 1024)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= 'a' && id[i] <= 'v') || (id[i] >= '0' && id[i] <= '9')))
			return false;
	return true;
}

static const char *meet_code_letters = "abcdefghijklmnopqrstuvwxyz";

static void conference_finish(json_t *ev, const char *result)
{
	json_t *cd = json_object_get(ev, "conferenceData");
	json_t *cr = json_object_get(cd, "createRequest");
	if (!cr)
		return;
	if (strcmp(result, "failure") == 0) {
		json_object_set_new(cr, "status", obj_str("statusCode", "failure"));
		return;
	}
	char code[13], pin[10], more[48];
	ml_sb_rand_fill(code, 3, meet_code_letters);
	code[3] = '-';
	ml_sb_rand_fill(code + 4, 4, meet_code_letters);
	code[8] = '-';
	ml_sb_rand_fill(code + 9, 3, meet_code_letters);
	code[12] = '\0';
	ml_sb_rand_fill(pin, 9, ML_SB_DIGITS);
	pin[9] = '\0';
	snprintf(more, sizeof more, "https://tel.meet/%s?pin=%s", code, pin);
	const char *base = ml_sb_cfg_str(P, "meet_base_url", "https://meet.google.com");
	char *uri = ml_asprintf("%s/%s", base, code);
	/* The label is the URI without its scheme. */
	const char *host = strstr(base, "://");
	const char *label = uri + (host ? host + 3 - base : 0);
	json_object_set_new(cr, "status", obj_str("statusCode", "success"));
	json_t *video = obj_str("entryPointType", "video"),
	       *phone = obj_str("entryPointType", "more");
	set_str(video, "uri", uri);
	set_str(video, "label", label);
	set_str(phone, "uri", more);
	set_str(phone, "pin", pin);
	json_t *eps = json_array();
	json_array_append_new(eps, video);
	json_array_append_new(eps, phone);
	json_object_set_new(cd, "entryPoints", eps);
	json_t *sol = json_object();
	json_object_set_new_nocheck(sol, "key", obj_str("type", "hangoutsMeet"));
	set_str(sol, "name", "Google Meet");
	set_str(sol, "iconUri",
	        "https://fonts.gstatic.com/s/i/productlogos/meet_2020q4/v6/web-512dp/"
	        "logo_meet_2020q4_color_2x_web_512dp.png");
	json_object_set_new(cd, "conferenceSolution", sol);
	json_object_set_new(cd, "conferenceId", json_string(code));
	json_object_set_new(ev, "hangoutLink", json_string(uri));
	free(uri);
}

static char *pending_key(const char *cal, const char *id)
{
	return ml_asprintf("%s/%s", cal, id);
}

/* A conference still pending becomes success (or the configured failure) once its time is
 * up: the client sees it by polling events.get, as at Google. */
void ml_sb_gcal_settle(json_t *root, const char *cal, json_t *ev)
{
	json_t *pending = json_object_get(root, "pending");
	if (!json_object_size(pending))
		return;
	char *k = pending_key(cal, ml_sb_str(ev, "id"));
	json_t *p = json_object_get(pending, k);
	if (p && ml_sb_now_ms() >= json_integer_value(json_object_get(p, "ready_at_ms"))) {
		conference_finish(ev, ml_sb_str(p, "result"));
		json_object_del(pending, k);
	}
	free(k);
}

static void conference_start(json_t *root, const char *cal, json_t *ev, const char *request_id)
{
	json_t *cr = obj_str("requestId", request_id);
	json_object_set_new_nocheck(cr, "conferenceSolutionKey", obj_str("type", "hangoutsMeet"));
	json_object_set_new_nocheck(cr, "status", obj_str("statusCode", "pending"));
	json_t *cd = json_object();
	json_object_set_new_nocheck(cd, "createRequest", cr);
	json_object_set_new(ev, "conferenceData", cd);
	json_object_del(ev, "hangoutLink");
	json_int_t delay = ml_sb_cfg_int(P, "conference_pending_ms", 0);
	const char *result = ml_sb_cfg_str(P, "conference_result", "success");
	json_t *pending = json_object_get(root, "pending");
	if (delay > 0) {
		char *k = pending_key(cal, ml_sb_str(ev, "id"));
		json_object_set_new(pending, k,
		                    json_pack("{s:I, s:s}", "ready_at_ms",
		                              (json_int_t)(ml_sb_now_ms() + delay), "result",
		                              result));
		free(k);
	} else {
		/* A conference restarted while an earlier one was pending (an update): that one
		 * is over. Nothing pending is the common case, with no key to build. */
		if (json_object_size(pending)) {
			char *k = pending_key(cal, ml_sb_str(ev, "id"));
			json_object_del(pending, k);
			free(k);
		}
		conference_finish(ev, result);
	}
}

/* Who Google would email: attendees (minus the organizer), all or only other domains. */
static void notify(json_t *root, const char *action, const char *cal, json_t *ev,
                   const char *send_updates)
{
	json_t *rcpt = json_array();
	const char *org = cal;
	const char *org_dom = strchr(org, '@');
	size_t i;
	json_t *a;
	if (strcmp(send_updates, "none") != 0) {
		json_array_foreach(json_object_get(ev, "attendees"), i, a)
		{
			const char *em = ml_sb_str(a, "email");
			const char *dom = em ? strchr(em, '@') : NULL;
			if (!em || strcasecmp(em, org) == 0)
				continue;
			if (strcmp(send_updates, "externalOnly") == 0 && dom && org_dom &&
			    strcasecmp(dom, org_dom) == 0)
				continue;
			json_array_append_new(rcpt, json_string(em));
		}
	}
	const char *id = ml_sb_str(ev, "id");
	json_t *n = obj_str("action", action);
	set_str(n, "calendarId", cal);
	json_object_set_new_nocheck(n, "eventId", id ? json_string(id) : json_null());
	set_str(n, "sendUpdates", send_updates);
	json_object_set_new_nocheck(n, "recipients", rcpt);
	json_array_append_new(json_object_get(root, "notifications"), n);
	/* Push channels watching the calendar hear of every change. */
	ml_sb_gcal_push_changed(root, cal, id);
}

static void fill_attendees(json_t *ev)
{
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(ev, "attendees"), i,
	                   a) if (!json_object_get(a, "responseStatus"))
	    json_object_set_new(a, "responseStatus", json_string("needsAction"));
}

/* The `fields` parameter (a partial response), parsed before the request acts: NULL in *out
 * when absent or empty. A bad selector answers Google's 400 invalidParameter. */
bool ml_sb_gcal_fields_param(struct ml_http_req *req, struct ml_http_resp *resp,
                         struct ml_sb_fields **out)
{
	const char *sel = ml_http_query(req, "fields");
	*out = NULL;
	if (!sel || !*sel)
		return true;
	if (ml_sb_fields_parse(out, sel) < 0) {
		ml_sb_gerr_param(resp, "invalidParameter", ml_error_message(), "fields");
		return false;
	}
	return true;
}

/* Answers a stored event, or the selection of it, as 200. The text is written at once, under
 * the lock, so the stored values need no copy; a selection's text is written without
 * building the selected value. */
static void answer_event(struct ml_http_resp *resp, json_t *ev, const struct ml_sb_fields *fields)
{
	if (!fields) {
		ml_resp_json(resp, 200, json_incref(ev));
		return;
	}
	char *s = ml_sb_fields_text(fields, ev);
	ml_resp_body_steal(resp, 200, "application/json", s, strlen(s));
}

/* An answer built for the request: itself without a selection, else the selection of it
 * (takes the reference of v). */
json_t *ml_sb_gcal_select(json_t *v, const struct ml_sb_fields *fields)
{
	if (!fields)
		return v;
	json_t *sel = ml_sb_fields_apply(fields, v);
	json_decref(v);
	return sel;
}

/* ---- events ------------------------------------------------------------------------- */

static void events_insert(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user;
	const char *account = ml_sb_gcal_authorize(req, resp, true), *cal, *su;
	bool v1;
	struct ml_sb_fields *fields = NULL;
	if (!account || !ml_sb_gcal_mutation_params(req, resp, &v1, &su) ||
	    !ml_sb_gcal_fields_param(req, resp, &fields))
		return;
	json_t *body = NULL;
	json_t *events = ml_sb_gcal_events_of(root, account, req->params[0], resp, &cal);
	if (!events || !(body = body_object(req, resp)))
		goto done;
	json_t *ev = body;
	const char *id = ml_sb_str(ev, "id");
	if (json_object_get(ev, "id") && (!id || !valid_event_id(id))) {
		ml_sb_gerr(resp, 400, "invalid", "Invalid resource id value.");
		goto done;
	}
	if (!ml_sb_gcal_validate_event(ev, v1, resp))
		goto done;
	if (id && json_object_get(events, id)) {
		ml_sb_gerr(resp, 409, "duplicate", "The requested identifier already exists.");
		goto done;
	}
	char *gen = id ? NULL : ml_sb_rand("", 26, ML_SB_BASE32HEX);
	if (gen)
		json_object_set_new(ev, "id", json_string(gen));
	id = ml_sb_str(ev, "id");
	/* Read-only fields are the server's. */
	const char *ro[] = {"kind",    "etag",     "created",     "updated",
	                    "creator", "htmlLink", "hangoutLink", NULL};
	for (int i = 0; ro[i]; i++)
		json_object_del(ev, ro[i]);
	json_object_set_new(ev, "kind", json_string("calendar#event"));
	new_etag(ev);
	if (!json_object_get(ev, "status"))
		json_object_set_new(ev, "status", json_string("confirmed"));
	json_object_set_new(ev, "htmlLink",
	                    str_cat("https://www.google.com/calendar/event?eid=", id));
	ml_sb_gcal_set_now(ev, "created");
	ml_sb_gcal_set_now(ev, "updated");
	json_t *creator = obj_str("email", cal), *organizer = obj_str("email", cal);
	json_object_set_new_nocheck(creator, "self", json_true());
	json_object_set_new_nocheck(organizer, "self", json_true());
	json_object_set_new(ev, "creator", creator);
	json_object_set_new(ev, "organizer", organizer);
	if (!json_object_get(ev, "iCalUID"))
		json_object_set_new(ev, "iCalUID", str_cat(id, "@google.com"));
	if (!json_is_integer(json_object_get(ev, "sequence")))
		json_object_set_new(ev, "sequence", json_integer(0));
	if (!json_object_get(ev, "reminders")) {
		json_t *r = json_object();
		json_object_set_new_nocheck(r, "useDefault", json_true());
		json_object_set_new(ev, "reminders", r);
	}
	if (!json_object_get(ev, "eventType"))
		json_object_set_new(ev, "eventType", json_string("default"));
	fill_attendees(ev);
	json_t *cd = json_object_get(ev, "conferenceData");
	if (!v1) {
		json_object_del(ev, "conferenceData"); /* version 0 ignores it */
	} else if (cd && json_object_get(cd, "createRequest")) {
		char *rid = ml_strdup(ml_sb_str(json_object_get(cd, "createRequest"), "requestId"));
		conference_start(root, cal, ev, rid);
		free(rid);
	}
	free(gen);
	json_object_set(events, id, ev);
	notify(root, "created", cal, ev, su);
	answer_event(resp, ev, fields);
done:
	json_decref(body);
	ml_sb_fields_free(fields);
}

/* The event of the path, with the `fields` selection parsed into *fields (the caller frees
 * it, also when NULL is returned). */
static json_t *find_event(struct ml_http_req *req, struct ml_http_resp *resp, bool write,
                          const char **cal_out, struct ml_sb_fields **fields)
{
	json_t *root = req->user;
	const char *account = ml_sb_gcal_authorize(req, resp, write), *cal;
	if (!account || !ml_sb_gcal_fields_param(req, resp, fields))
		return NULL;
	json_t *events = ml_sb_gcal_events_of(root, account, req->params[0], resp, &cal);
	if (!events)
		return NULL;
	json_t *ev = json_object_get(events, req->params[1]);
	if (!ev) {
		ml_sb_gerr(resp, 404, "notFound", "Not Found");
		return NULL;
	}
	ml_sb_gcal_settle(root, cal, ev);
	/* Conditional writes: If-Match with a stale etag answers 412 conditionNotMet. */
	const char *im = write ? ml_http_header(req, "If-Match") : NULL;
	if (im && strcmp(im, "*") != 0 && strcmp(im, nz(ml_sb_str(ev, "etag"))) != 0) {
		ml_sb_gerr_full(resp, 412, "global", "conditionNotMet", "Precondition Failed",
		                "header", "If-Match");
		return NULL;
	}
	*cal_out = cal;
	return ev;
}

static void events_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *cal;
	struct ml_sb_fields *fields = NULL;
	json_t *ev = find_event(req, resp, false, &cal, &fields);
	if (ev)
		answer_event(resp, ev, fields);
	ml_sb_fields_free(fields);
}

/* Patch semantics: objects merge member by member, anything else (arrays too) replaces,
 * null clears. */
static void merge_patch(json_t *dst, json_t *src)
{
	const char *k;
	json_t *v;
	json_object_foreach(src, k, v)
	{
		json_t *cur = json_object_get(dst, k);
		if (json_is_null(v))
			json_object_del(dst, k);
		else if (json_is_object(v) && json_is_object(cur) &&
		         strcmp(k, "conferenceData") != 0)
			merge_patch(cur, v);
		else
			json_object_set(dst, k, v);
	}
}

static void events_modify(struct ml_http_req *req, struct ml_http_resp *resp, bool replace)
{
	json_t *root = req->user;
	const char *cal, *su;
	bool v1;
	struct ml_sb_fields *fields = NULL;
	json_t *body = NULL, *next = NULL;
	json_t *ev = find_event(req, resp, true, &cal, &fields);
	if (!ev || !ml_sb_gcal_mutation_params(req, resp, &v1, &su) ||
	    !(body = body_object(req, resp)))
		goto done;
	const char *bid = ml_sb_str(body, "id");
	if (bid && strcmp(bid, ml_sb_str(ev, "id")) != 0) {
		ml_sb_gerr(resp, 400, "invalid", "Invalid resource id value.");
		goto done;
	}
	if (replace) {
		next = json_deep_copy(body);
		const char *keep[] = {"kind",     "id",      "created",  "creator",   "organizer",
		                      "htmlLink", "iCalUID", "sequence", "eventType", NULL};
		for (int i = 0; keep[i]; i++)
			if (json_object_get(ev, keep[i]) && !json_object_get(next, keep[i]))
				json_object_set(next, keep[i], json_object_get(ev, keep[i]));
		if (!json_object_get(next, "status"))
			json_object_set_new(next, "status", json_string("confirmed"));
	} else {
		next = json_deep_copy(ev);
		merge_patch(next, body);
	}
	json_t *new_cd = json_object_get(body, "conferenceData");
	if (!v1) {
		/* Version 0 ignores conferenceData in the body: keep what the event had. */
		if (json_object_get(ev, "conferenceData"))
			json_object_set(next, "conferenceData",
			                json_object_get(ev, "conferenceData"));
		else
			json_object_del(next, "conferenceData");
	}
	if (!ml_sb_gcal_validate_event(next, v1, resp))
		goto done;
	bool moved = !json_equal(json_object_get(ev, "start"), json_object_get(next, "start")) ||
	             !json_equal(json_object_get(ev, "end"), json_object_get(next, "end"));
	json_t *old_cr = json_object_get(json_object_get(ev, "conferenceData"), "createRequest");
	json_t *new_cr = v1 ? json_object_get(new_cd, "createRequest") : NULL;
	if (new_cr) {
		const char *rid = ml_sb_str(new_cr, "requestId");
		if (old_cr && rid && strcmp(rid, nz(ml_sb_str(old_cr, "requestId"))) == 0) {
			/* Same requestId as before: ignored, the existing conference stays. */
			json_object_set(next, "conferenceData",
			                json_object_get(ev, "conferenceData"));
			if (json_object_get(ev, "hangoutLink"))
				json_object_set(next, "hangoutLink",
				                json_object_get(ev, "hangoutLink"));
		} else {
			char *r = ml_strdup(rid);
			conference_start(root, cal, next, r);
			free(r);
		}
	} else if (v1 && new_cd && json_is_null(new_cd)) {
		json_object_del(next, "hangoutLink");
	} else if (json_object_get(ev, "hangoutLink") && json_object_get(next, "conferenceData")) {
		json_object_set(next, "hangoutLink", json_object_get(ev, "hangoutLink"));
	}
	if (moved)
		json_object_set_new(
		    next, "sequence",
		    json_integer(json_integer_value(json_object_get(ev, "sequence")) + 1));
	fill_attendees(next);
	new_etag(next);
	ml_sb_gcal_set_now(next, "updated");
	json_object_set_new(next, "kind", json_string("calendar#event"));
	json_t *events =
	    json_object_get(json_object_get(json_object_get(root, "calendars"), cal), "events");
	char *id = ml_strdup(ml_sb_str(ev, "id")); /* the key outlives ev, which the set frees */
	json_object_set(events, id, next);
	free(id);
	notify(root, "updated", cal, next, su);
	answer_event(resp, next, fields);
done:
	json_decref(next);
	json_decref(body);
	ml_sb_fields_free(fields);
}

static void events_patch(struct ml_http_req *req, struct ml_http_resp *resp)
{
	events_modify(req, resp, false);
}

static void events_update(struct ml_http_req *req, struct ml_http_resp *resp)
{
	events_modify(req, resp, true);
}

static void events_delete(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user;
	const char *cal, *su;
	bool v1;
	struct ml_sb_fields *fields = NULL; /* checked, though a 204 has nothing to select */
	json_t *ev = find_event(req, resp, true, &cal, &fields);
	ml_sb_fields_free(fields);
	if (!ev || !ml_sb_gcal_mutation_params(req, resp, &v1, &su))
		return;
	const char *st = ml_sb_str(ev, "status");
	if (st && strcmp(st, "cancelled") == 0) {
		ml_sb_gerr(resp, 410, "deleted", "Resource has been deleted");
		return;
	}
	/* Deleted events linger as cancelled (visible with showDeleted=true; the id stays
	 * taken, so re-inserting it answers 409). */
	json_object_set_new(ev, "status", json_string("cancelled"));
	ml_sb_gcal_set_now(ev, "updated");
	new_etag(ev);
	notify(root, "cancelled", cal, ev, su);
	ml_resp_body(resp, 204, "application/json", "", 0);
}

/* ---- seed and registry -------------------------------------------------------------- */

static void seed(json_t *root)
{
	json_object_set_new(root, "clients",
	                    json_pack("{s:{s:s, s:s, s:[]}, s:{s:s, s:s, s:[s]}}",
	                              "meetlink-sandbox.apps.googleusercontent.com",
	                              "client_secret", "GOCSPX-sandbox-secret", "name",
	                              "meetlink (sandbox)", "redirect_uris",
	                              "strict-client.apps.googleusercontent.com", "client_secret",
	                              "GOCSPX-strict-secret", "name", "strict redirect client",
	                              "redirect_uris", "http://127.0.0.1/callback"));
	json_object_set_new(
	    root, "accounts",
	    json_pack(
	        "{s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s, s:s, "
	        "s:s}}",
	        "ada@sandbox.test", "sub", "100000000000000000001", "email", "ada@sandbox.test",
	        "name", "Ada Lovelace", "given_name", "Ada", "family_name", "Lovelace", "picture",
	        "https://lh3.googleusercontent.com/a/sandbox-ada", "locale", "en",
	        "grace@sandbox.test", "sub", "100000000000000000002", "email", "grace@sandbox.test",
	        "name", "Grace Hopper", "given_name", "Grace", "family_name", "Hopper", "picture",
	        "https://lh3.googleusercontent.com/a/sandbox-grace", "locale", "en"));
	json_object_set_new(root, "codes", json_object());
	json_object_set_new(root, "tokens", json_object());
	json_object_set_new(root, "calendars", json_object());
	json_object_set_new(root, "pending", json_object());
	json_object_set_new(root, "notifications", json_array());
	/* Fixed test tokens, so scripts can call Calendar without the OAuth dance. */
	json_t *tokens = json_object_get(root, "tokens");
	json_object_set_new(
	    tokens, "ya29.sandbox-ada",
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:b}", "type", "access", "account",
	              "ada@sandbox.test", "client_id",
	              "meetlink-sandbox.apps.googleusercontent.com", "scope",
	              "openid email https://www.googleapis.com/auth/calendar.events", "grant",
	              "seed-ada", "issued_at", (json_int_t)ml_sb_now(), "revoked", 0));
	json_object_set_new(
	    tokens, "1//sandbox-ada-refresh",
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:b}", "type", "refresh", "account",
	              "ada@sandbox.test", "client_id",
	              "meetlink-sandbox.apps.googleusercontent.com", "scope",
	              "openid email https://www.googleapis.com/auth/calendar.events", "grant",
	              "seed-ada", "issued_at", (json_int_t)ml_sb_now(), "revoked", 0));
}

static const struct ml_route routes[] = {
    /* OAuth (accounts.google.com / oauth2.googleapis.com / openidconnect.googleapis.com) */
    {"GET", "/o/oauth2/v2/auth", ml_sb_google_authorize, 0},
    {"GET", "/o/oauth2/auth", ml_sb_google_authorize, 0},
    {"POST", "/o/oauth2/v2/auth/decision", ml_sb_google_decision, 0},
    {"POST", "/token", ml_sb_google_token, 0},
    {"POST", "/oauth2/token", ml_sb_google_token, 0},
    {"POST", "/oauth2/v4/token", ml_sb_google_token, 0},
    {"POST", "/revoke", ml_sb_google_revoke, 0},
    {"POST", "/oauth2/revoke", ml_sb_google_revoke, 0},
    {"POST", "/o/oauth2/revoke", ml_sb_google_revoke, 0},
    {"GET", "/v1/userinfo", ml_sb_google_userinfo, 0},
    {"GET", "/oauth2/v3/userinfo", ml_sb_google_userinfo, 0},
    {"GET", "/oauth2/v2/userinfo", ml_sb_google_userinfo, 0},
    {"GET", "/.well-known/openid-configuration", ml_sb_google_discovery, 0},
    /* Calendar v3 (www.googleapis.com) */
    {"GET", "/calendar/v3/users/me/calendarList", ml_sb_gcal_calendar_list, 0},
    {"POST", "/calendar/v3/calendars/{calendarId}/events/watch", ml_sb_gcal_events_watch, 0},
    {"POST", "/calendar/v3/channels/stop", ml_sb_gcal_channels_stop, 0},
    {"POST", "/calendar/v3/calendars/{calendarId}/events", events_insert, 0},
    {"GET", "/calendar/v3/calendars/{calendarId}/events", ml_sb_gcal_events_list, 0},
    {"GET", "/calendar/v3/calendars/{calendarId}/events/{eventId}", events_get, 0},
    {"PATCH", "/calendar/v3/calendars/{calendarId}/events/{eventId}", events_patch, 0},
    {"PUT", "/calendar/v3/calendars/{calendarId}/events/{eventId}", events_update, 0},
    {"DELETE", "/calendar/v3/calendars/{calendarId}/events/{eventId}", events_delete, 0},
    /* The host's own changes in Google Calendar, for tests (google_push.c) */
    {"POST", "/_host/change", ml_sb_gcal_host_change, 0},
    {"POST", "/_host/notify", ml_sb_gcal_host_notify, 0},
    {"POST", "/_host/expire_sync_tokens", ml_sb_gcal_host_expire, 0},
    {NULL, NULL, NULL, 0},
};

const struct ml_sb_provider ml_sb_google = {
    .name = "google",
    .prefix = "/google",
    .routes = routes,
    .seed = seed,
    .defaults = "{\"auto_approve\": false, \"default_account\": \"ada@sandbox.test\","
                " \"conference_pending_ms\": 0, \"conference_result\": \"success\","
                " \"access_token_ttl\": 3599, \"meet_base_url\": \"https://meet.google.com\"}",
    .not_found = ml_sb_google_not_found,
    .error = ml_sb_google_error,
};
