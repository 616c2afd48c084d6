/* The Zoom emulator under /zoom: REST v2 users and meetings with Zoom's shapes, validation
 * (the request schemas of specs/zoom/zoom-meetings-core.openapi.json, see zoom_schemas.h),
 * error bodies {code, message}, rate-limit headers and both kinds of 429, and event webhooks
 * signed with x-zm-signature after the endpoint.url_validation handshake. OAuth is in
 * zoom_oauth.c, bearer auth, users and rate limits in zoom_limits.c, the request checks in
 * zoom_validate.c, the hosts' scheduled lists in zoom_sched.c, webhooks and the simulated
 * start/join pages in zoom_events.c.
 *
 * State (the provider root): accounts, apps (OAuth clients), users, meetings (by id: the
 * public object under "object" plus bookkeeping), tokens, rate (rate-limit windows),
 * webhook (validation status) and events (every event emitted, delivered or not). */
#include "sandbox/zoom_internal.h"

#include "sandbox/sbindex.h"
#include "sandbox/zoom_schemas.h"

#include "core/mem.h"
#include "core/timeutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- helpers -------------------------------------------------------------------------- */

void ml_zoom_err(struct ml_http_resp *resp, int status, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ml_resp_json(resp, status, json_pack("{s:i, s:s}", "code", code, "message", msg));
}


static char *url(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *url(const char *fmt, ...)
{
	char tail[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tail, sizeof tail, fmt, ap);
	va_end(ap);
	return ml_asprintf("%s/zoom%s", ml_sb_base_url(), tail);
}

static void set_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, json_string(v));
}

static void set_url(json_t *o, const char *k, char *v)
{
	json_object_set_new(o, k, json_string(v));
	free(v);
}

static void fmt_time(int64_t t, char out[ML_RFC3339_MAX])
{
	ml_time_format(t, out);
}

/* ---- seed ----------------------------------------------------------------------------- */

static json_t *seed_user(const char *id, const char *first, const char *last, const char *email,
			 const char *role, json_int_t pmi, const char *tz)
{
	json_t *u = json_object();
	char *name = ml_asprintf("%s %s", first, last);
	char ts[ML_RFC3339_MAX];
	fmt_time(ml_sb_now() - 86400 * 30, ts);
	set_str(u, "id", id);
	set_str(u, "first_name", first);
	set_str(u, "last_name", last);
	set_str(u, "display_name", name);
	set_str(u, "email", email);
	json_object_set_new(u, "type", json_integer(2));
	set_str(u, "role_name", role);
	set_str(u, "role_id", !strcmp(role, "Owner") ? "0" : "2");
	json_object_set_new(u, "pmi", json_integer(pmi));
	json_object_set_new(u, "use_pmi", json_false());
	set_url(u, "personal_meeting_url", url("/j/%lld", (long long)pmi));
	set_str(u, "timezone", tz);
	json_object_set_new(u, "verified", json_integer(1));
	set_str(u, "dept", "");
	set_str(u, "created_at", ts);
	set_str(u, "user_created_at", ts);
	set_str(u, "last_login_time", ts);
	set_str(u, "last_client_version", "5.17.0.0000(mac)");
	set_str(u, "pic_url", "");
	set_str(u, "language", "en-US");
	set_str(u, "phone_number", "");
	set_str(u, "status", "active");
	set_str(u, "account_id", ZOOM_ACCOUNT);
	json_object_set_new(u, "account_number", json_integer(10000001));
	set_str(u, "cluster", "us05");
	set_str(u, "jid", "");
	json_object_set_new(u, "group_ids", json_array());
	json_object_set_new(u, "im_group_ids", json_array());
	json_object_set_new(u, "login_types", json_pack("[i]", 100));
	free(name);
	return u;
}

static void zoom_seed(json_t *root)
{
	json_t *users = json_object();
	json_object_set_new(users, "SbxZoomUserAda0000001",
			    seed_user("SbxZoomUserAda0000001", "Ada", "Lovelace",
				      "ada@zoom.sandbox.test", "Owner", 4155550101LL, "Europe/London"));
	json_object_set_new(users, "SbxZoomUserGrace000002",
			    seed_user("SbxZoomUserGrace000002", "Grace", "Hopper",
				      "grace@zoom.sandbox.test", "Member", 4155550102LL,
				      "America/New_York"));
	json_object_set_new(root, "users", users);
	json_object_set_new(root, "accounts",
			    json_pack("{s:{s:s, s:s, s:s}}", ZOOM_ACCOUNT, "id", ZOOM_ACCOUNT,
				      "plan", "business", "owner", "SbxZoomUserAda0000001"));
	json_object_set_new(
		root, "apps",
		json_pack("{s:{s:s, s:s, s:s, s:s, s:[]}, s:{s:s, s:s, s:s, s:s, s:s}}",
			  "zoom-sandbox-client-id", "name", "Sandbox Booking App", "type", "oauth",
			  "client_secret", "zoom-sandbox-client-secret", "scope",
			  "meeting:read meeting:write user:read", "redirect_uris",
			  "zoom-s2s-client-id", "name", "Sandbox S2S App", "type", "s2s",
			  "client_secret", "zoom-s2s-client-secret", "account_id", ZOOM_ACCOUNT,
			  "scope", "meeting:read:admin meeting:write:admin user:read:admin"));
	json_object_set_new(root, "meetings", json_object());
	json_object_set_new(root, "tokens", json_object());
	json_object_set_new(root, "rate", json_object());
	json_object_set_new(root, "webhook", json_pack("{s:n, s:n}", "validated_url", "validation"));
	json_object_set_new(root, "events", json_array());
}

/* ---- users ---------------------------------------------------------------------------- */

static void get_user(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *tok = ml_zoom_auth(req, resp), *u;
	if (!tok || !ml_zoom_rate(req, resp, tok, "Light", NULL))
		return;
	if (!(u = ml_zoom_path_user(req, resp, tok, req->params[0])))
		return;
	json_t *out = json_deep_copy(u);
	set_url(out, "personal_meeting_url",
		url("/j/%lld", (long long)json_integer_value(json_object_get(u, "pmi"))));
	ml_resp_json(resp, 200, out);
}

/* ---- meetings: objects ---------------------------------------------------------------- */

static json_t *default_settings(void)
{
	return json_pack(
		"{s:b, s:b, s:b, s:b, s:b, s:i, s:b, s:b, s:b, s:i, s:s, s:s, s:b, s:s, s:s, s:b,"
		" s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:s, s:{s:b}, s:{s:b}, s:b, s:b, s:b, s:b,"
		" s:i, s:b, s:b}",
		"host_video", 0, "participant_video", 0, "cn_meeting", 0, "in_meeting", 0,
		"join_before_host", 0, "jbh_time", 0, "mute_upon_entry", 0, "watermark", 0, "use_pmi",
		0, "approval_type", 2, "audio", "voip", "auto_recording", "none", "enforce_login", 0,
		"enforce_login_domains", "", "alternative_hosts", "", "alternative_host_update_polls",
		0, "close_registration", 0, "show_share_button", 0, "allow_multiple_devices", 0,
		"registrants_confirmation_email", 1, "waiting_room", 0, "registrants_email_notification",
		1, "meeting_authentication", 0, "encryption_type", "enhanced_encryption",
		"approved_or_denied_countries_or_regions", "enable", 0, "breakout_room", "enable", 0,
		"alternative_hosts_email_notification", 1, "focus_mode", 0, "private_meeting", 0,
		"email_notification", 1, "registration_type", 1, "host_save_video_order", 0,
		"device_testing", 0);
}

/* Deep-merges `src` into `dst` (objects merge, everything else replaces). */
static void merge(json_t *dst, const json_t *src)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)src, k, v) {
		json_t *d = json_object_get(dst, k);
		if (json_is_object(d) && json_is_object(v))
			merge(d, v);
		else
			json_object_set_new(dst, k, json_deep_copy(v));
	}
}

/* Meetings by host (lock held), for the lists other than "scheduled" (zoom_sched.c keeps
 * that one): listing a host's meetings walked the account's every meeting for each page.
 * Meetings are never removed (a delete marks them) and a host's ids are in the order of
 * root["meetings"], as the walk found them; an update that names a host_id drops the index
 * (rebuilt on the next list). */
static struct ml_sb_index by_host;

static void host_index_sync(json_t *root)
{
	json_t *rec;
	const char *k;
	if (ml_sb_index_stale(&by_host, root))
		json_object_foreach(json_object_get(root, "meetings"), k, rec)
			ml_sb_index_add(&by_host, ml_sb_str(json_object_get(rec, "object"), "host_id"), k);
}

static json_int_t new_meeting_id(json_t *meetings)
{
	for (;;) {
		char *digits = ml_sb_rand("", 10, ML_SB_DIGITS);
		/* 11 digits from 80000000000: always beyond 2^32, as real meeting ids are. */
		json_int_t id = 80000000000LL + strtoll(digits, NULL, 10) % 19999999999LL;
		char key[24];
		free(digits);
		snprintf(key, sizeof key, "%lld", (long long)id);
		if (!json_object_get(meetings, key))
			return id;
	}
}

/* Occurrences of a recurring meeting with fixed time (type 8): daily (1), weekly (2) or
 * monthly (3) every repeat_interval, end_times of them (default 1) or until end_date_time,
 * at most 60. */
static json_t *occurrences(int64_t start, json_int_t duration, const json_t *rec)
{
	json_int_t type = json_integer_value(json_object_get(rec, "type"));
	json_int_t every = json_integer_value(json_object_get(rec, "repeat_interval"));
	json_int_t count = json_integer_value(json_object_get(rec, "end_times"));
	const char *until_s = ml_sb_str(rec, "end_date_time");
	int64_t until = 0;
	json_t *out = json_array();

	if (every < 1)
		every = 1;
	if (until_s && ml_time_parse(until_s, &until) != 0)
		until = 0;
	if (count < 1)
		count = until ? 60 : 1;
	for (json_int_t i = 0; i < count && i < 60; i++) {
		int64_t t = start;
		if (type == 1)
			t += i * every * 86400;
		else if (type == 2)
			t += i * every * 7 * 86400;
		else {
			time_t tt = (time_t)start;
			struct tm tm;
			gmtime_r(&tt, &tm);
			tm.tm_mon += (int)(i * every);
			t = (int64_t)timegm(&tm);
		}
		if (until && t > until)
			break;
		char ts[ML_RFC3339_MAX], oid[24];
		fmt_time(t, ts);
		snprintf(oid, sizeof oid, "%lld", (long long)t * 1000);
		json_array_append_new(out, json_pack("{s:s, s:s, s:I, s:s}", "occurrence_id", oid,
						     "start_time", ts, "duration", duration,
						     "status", "available"));
	}
	return out;
}

/* Recomputes the derived members after a create or update. */
static void normalize(json_t *m, int64_t start)
{
	json_int_t type = json_integer_value(json_object_get(m, "type"));
	char ts[ML_RFC3339_MAX];
	json_t *s = json_object_get(m, "settings");

	/* A waiting room turns join-before-host off, as in Zoom. */
	if (json_is_true(json_object_get(s, "waiting_room")))
		json_object_set_new(s, "join_before_host", json_false());
	if (type == 3) {
		json_object_del(m, "start_time");
		json_object_del(m, "occurrences");
		return;
	}
	fmt_time(start, ts);
	set_str(m, "start_time", ts);
	if (type == 8 && json_is_object(json_object_get(m, "recurrence")))
		json_object_set_new(m, "occurrences",
				    occurrences(start, json_integer_value(json_object_get(m, "duration")),
						json_object_get(m, "recurrence")));
	else
		json_object_del(m, "occurrences");
	if (type != 8 && type != 3)
		json_object_del(m, "recurrence");
}

json_t *ml_zoom_find_meeting(json_t *root, const char *id, json_t **obj)
{
	json_t *rec = json_object_get(json_object_get(root, "meetings"), id);
	if (!rec || json_is_true(json_object_get(rec, "deleted")) ||
	    json_is_true(json_object_get(rec, "expired")))
		return NULL;
	*obj = json_object_get(rec, "object");
	return rec;
}

/* The meeting named by the path with its owner in the token's reach, or NULL after a 3001. */
static json_t *path_meeting(struct ml_http_req *req, struct ml_http_resp *resp, const json_t *tok,
			    json_t **obj)
{
	const char *id = req->params[0], *self = ml_sb_str(tok, "user_id");
	json_t *rec = ml_zoom_find_meeting(req->user, id, obj);
	if (!rec || strcmp(ml_sb_str(rec, "account_id"), ml_sb_str(tok, "zoom_account")) != 0 ||
	    (self && strcmp(ml_sb_str(*obj, "host_id"), self) != 0)) {
		ml_zoom_err(resp, 404, 3001, "Meeting does not exist: %s.", id);
		return NULL;
	}
	return rec;
}

json_t *ml_zoom_event_object(const json_t *m)
{
	json_t *o = json_object();
	static const char *const keys[] = {"uuid", "id", "host_id", "topic", "type", "start_time",
					   "duration", "timezone", NULL};
	for (int i = 0; keys[i]; i++) {
		json_t *v = json_object_get(m, keys[i]);
		if (v)
			json_object_set(o, keys[i], v);
	}
	return o;
}

/* ---- meetings: handlers --------------------------------------------------------------- */

static void create_meeting(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *tok = ml_zoom_auth(req, resp), *u, *b;
	int64_t now = ml_sb_now(), start = now;

	if (!tok)
		return;
	if (!(u = ml_zoom_path_user(req, resp, tok, req->params[0])))
		return;
	if (!ml_zoom_rate(req, resp, tok, "Medium", ml_sb_str(u, "id")))
		return;
	if (!(b = ml_zoom_json_body(req, resp)))
		return;
	if (!ml_zoom_validate(resp, ZOOM_SCHEMA_MEETING_CREATE, b) ||
	    !ml_zoom_check_fields(resp, b, ml_sb_str(u, "timezone"), &start))
		goto done;
	json_int_t type = json_is_integer(json_object_get(b, "type"))
				  ? json_integer_value(json_object_get(b, "type")) : 2;
	if (type == 8 && !json_is_object(json_object_get(b, "recurrence"))) {
		ml_zoom_invalid_field(resp, "recurrence");
		goto done;
	}
	if (type == 1)
		start = now;

	json_t *meetings = json_object_get(root, "meetings");
	json_int_t id = new_meeting_id(meetings);
	char key[24], created[ML_RFC3339_MAX];
	snprintf(key, sizeof key, "%lld", (long long)id);
	fmt_time(now, created);
	char *uuid_raw = ml_sb_rand("", 22, ML_SB_ALNUM), *uuid = ml_asprintf("%s==", uuid_raw);
	char *enc = ml_sb_rand("", 32, ML_SB_ALNUM), *zak = ml_sb_rand("", 40, ML_SB_ALNUM);
	char *gen_pw = ml_sb_rand("", 6, ML_SB_ALNUM), *num_pw = ml_sb_rand("", 6, ML_SB_DIGITS);
	const char *pw = ml_sb_str(b, "password");
	json_t *settings = default_settings();
	if (json_is_object(json_object_get(b, "settings")))
		merge(settings, json_object_get(b, "settings"));
	/* Meeting invitees and similar request-only settings are not echoed. */
	json_object_del(settings, "meeting_invitees");

	json_t *m = json_object();
	set_str(m, "uuid", uuid);
	json_object_set_new(m, "id", json_integer(id));
	set_str(m, "host_id", ml_sb_str(u, "id"));
	set_str(m, "host_email", ml_sb_str(u, "email"));
	set_str(m, "topic", ml_sb_str(b, "topic") ? ml_sb_str(b, "topic") : "Zoom meeting");
	json_object_set_new(m, "type", json_integer(type));
	set_str(m, "status", "waiting");
	json_object_set_new(m, "duration", json_integer(json_is_integer(json_object_get(b, "duration"))
							      ? json_integer_value(json_object_get(b, "duration"))
							      : 60));
	set_str(m, "timezone", ml_sb_str(b, "timezone") && *ml_sb_str(b, "timezone")
				       ? ml_sb_str(b, "timezone") : ml_sb_str(u, "timezone"));
	set_str(m, "agenda", ml_sb_str(b, "agenda") ? ml_sb_str(b, "agenda") : "");
	set_str(m, "created_at", created);
	set_url(m, "start_url", url("/s/%s?zak=%s", key, zak));
	set_url(m, "join_url", url("/j/%s?pwd=%s", key, enc));
	set_str(m, "password", pw ? pw : gen_pw);
	set_str(m, "h323_password", num_pw);
	set_str(m, "pstn_password", num_pw);
	set_str(m, "encrypted_password", enc);
	json_object_set_new(m, "settings", settings);
	json_object_set_new(m, "pre_schedule", json_boolean(json_is_true(json_object_get(b, "pre_schedule"))));
	if (json_is_object(json_object_get(b, "recurrence")))
		json_object_set(m, "recurrence", json_object_get(b, "recurrence"));
	if (json_is_array(json_object_get(b, "tracking_fields")))
		json_object_set(m, "tracking_fields", json_object_get(b, "tracking_fields"));
	normalize(m, start);

	host_index_sync(root);
	json_object_set_new(meetings, key,
			    json_pack("{s:O, s:s, s:b, s:b}", "object", m, "account_id",
				      ml_sb_str(u, "account_id"), "deleted", 0, "expired", 0));
	ml_sb_index_add(&by_host, ml_sb_str(m, "host_id"), key);
	ml_zoom_sched_created(root, json_object_get(meetings, key));
	json_t *ev = json_deep_copy(m);
	json_object_del(ev, "start_url");
	ml_zoom_emit(root, "meeting.created", ev,
	     json_pack("{s:s, s:s, s:s}", "operator", ml_sb_str(u, "email"), "operator_id",
		       ml_sb_str(u, "id"), "operation", "single"));
	ml_resp_json(resp, 201, m);
	free(uuid_raw);
	free(uuid);
	free(enc);
	free(zak);
	free(gen_pw);
	free(num_pw);
done:
	json_decref(b);
}

static void get_meeting(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *tok = ml_zoom_auth(req, resp), *m;
	if (!tok || !ml_zoom_rate(req, resp, tok, "Light", NULL) || !path_meeting(req, resp, tok, &m))
		return;
	json_t *out = json_deep_copy(m);
	const char *occ = ml_http_query(req, "occurrence_id");
	if (occ) {
		json_t *list = json_object_get(out, "occurrences"), *o, *keep = NULL;
		size_t i;
		json_array_foreach(list, i, o)
			if (!strcmp(ml_sb_str(o, "occurrence_id"), occ))
				keep = json_deep_copy(o);
		if (!keep) {
			json_decref(out);
			ml_zoom_err(resp, 400, 3000, "Invalid occurrence_id.");
			return;
		}
		json_object_set_new(out, "occurrences", json_pack("[o]", keep));
	}
	ml_resp_json(resp, 200, out);
}

static bool in_list(const char *type, const json_t *rec, const json_t *m, int64_t now)
{
	const char *st = ml_sb_str(m, "start_time"), *status = ml_sb_str(m, "status");
	int64_t t = 0;
	json_int_t mtype = json_integer_value(json_object_get(m, "type"));
	if (!strcmp(type, "live"))
		return status && !strcmp(status, "started");
	if (!strcmp(type, "previous_meetings"))
		return json_object_get(rec, "ended_at") != NULL;
	if (!strcmp(type, "upcoming") || !strcmp(type, "upcoming_meetings")) {
		/* Parsed only here: a list parsed every meeting's start for each page. */
		if (st)
			ml_time_parse(st, &t);
		return mtype == 3 || (st && t + 60 * json_integer_value(json_object_get(m, "duration")) >= now);
	}
	return mtype != 1; /* scheduled: every unexpired non-instant meeting */
}

/* The ids of the host's meetings in a list of `type` other than "scheduled", in the order of
 * root["meetings"] (a new reference). Only the host's meetings are walked (by_host). */
static json_t *host_matches(json_t *root, const json_t *u, const char *type)
{
	const char *host = ml_sb_str(u, "id");
	json_t *meetings = json_object_get(root, "meetings"), *out = json_array(), *rec, *m, *id;
	size_t i;
	int64_t now = ml_sb_now();
	host_index_sync(root);
	json_array_foreach(ml_sb_index_get(&by_host, host), i, id) {
		if (!(rec = json_object_get(meetings, json_string_value(id))))
			continue;
		m = json_object_get(rec, "object");
		if (json_is_true(json_object_get(rec, "deleted")) ||
		    json_is_true(json_object_get(rec, "expired")) ||
		    strcmp(ml_sb_str(m, "host_id"), host) != 0 || !in_list(type, rec, m, now))
			continue;
		json_array_append(out, id);
	}
	return out;
}

static void list_meetings(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *tok = ml_zoom_auth(req, resp), *u;
	const char *type = ml_http_query(req, "type"), *ps = ml_http_query(req, "page_size"),
		   *npt = ml_http_query(req, "next_page_token");
	long size = 30, from = 0;

	if (!tok || !ml_zoom_rate(req, resp, tok, "Medium", NULL))
		return;
	if (!(u = ml_zoom_path_user(req, resp, tok, req->params[0])))
		return;
	if (!type)
		type = "scheduled";
	if (strcmp(type, "scheduled") && strcmp(type, "live") && strcmp(type, "upcoming") &&
	    strcmp(type, "upcoming_meetings") && strcmp(type, "previous_meetings")) {
		ml_zoom_invalid_field(resp, "type");
		return;
	}
	if (ps) {
		char *end;
		size = strtol(ps, &end, 10);
		if (*end || size < 1) {
			ml_zoom_invalid_field(resp, "page_size");
			return;
		}
		if (size > 300)
			size = 300;
	}
	if (!strcmp(type, "scheduled")) {
		/* The list a client pages through: kept up to date, paged by cursor. */
		ml_zoom_sched_page(resp, root, ml_sb_str(u, "id"), size, npt);
		return;
	}
	if (npt && *npt) {
		char *end;
		from = strtol(npt, &end, 10);
		if (*end || from < 0) {
			ml_zoom_err(resp, 400, 300, "Invalid next_page_token.");
			return;
		}
	}
	json_t *page = json_array(), *meetings = json_object_get(root, "meetings"), *m, *id;
	json_t *match = host_matches(root, u, type);
	size_t total = json_array_size(match);
	/* Only the page's items are built. */
	for (size_t i = (size_t)from; i < total && i < (size_t)(from + size); i++) {
		id = json_array_get(match, i);
		m = json_object_get(json_object_get(meetings, json_string_value(id)), "object");
		json_array_append_new(page, ml_zoom_list_item(m));
	}
	json_decref(match);
	char next[24] = "";
	if ((size_t)(from + size) < total)
		snprintf(next, sizeof next, "%ld", from + size);
	ml_resp_json(resp, 200,
		     json_pack("{s:I, s:I, s:I, s:I, s:s, s:o}", "page_size", (json_int_t)size,
			       "total_records", (json_int_t)total, "page_count",
			       (json_int_t)((total + (size_t)size - 1) / (size_t)size), "page_number",
			       (json_int_t)(from / size + 1), "next_page_token", next, "meetings",
			       page));
}

static void update_meeting(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *tok = ml_zoom_auth(req, resp), *m, *rec, *b;
	int64_t start;

	if (!tok || !(rec = path_meeting(req, resp, tok, &m)))
		return;
	if (!ml_zoom_rate(req, resp, tok, "Light", ml_sb_str(m, "host_id")))
		return;
	if (!(b = ml_zoom_json_body(req, resp)))
		return;
	json_t *host = ml_zoom_user_find(root, ml_sb_str(m, "host_id"));
	if (ml_time_parse(ml_sb_str(m, "start_time") ? ml_sb_str(m, "start_time") : "", &start) != 0)
		start = ml_sb_now();
	const char *tz = ml_sb_str(b, "timezone") ? ml_sb_str(b, "timezone") : ml_sb_str(m, "timezone");
	if (!ml_zoom_validate(resp, ZOOM_SCHEMA_MEETING_UPDATE, b) || !ml_zoom_check_fields(resp, b, tz, &start))
		goto done;
	json_int_t type = json_is_integer(json_object_get(b, "type"))
				  ? json_integer_value(json_object_get(b, "type"))
				  : json_integer_value(json_object_get(m, "type"));
	if (type == 8 && !json_is_object(json_object_get(b, "recurrence")) &&
	    !json_is_object(json_object_get(m, "recurrence"))) {
		ml_zoom_invalid_field(resp, "recurrence");
		goto done;
	}
	json_t *old = json_object(), *now_obj = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(b, k, v) {
		if (!strcmp(k, "schedule_for") || !strcmp(k, "template_id"))
			continue;
		json_t *prev = json_object_get(m, k);
		if (prev)
			json_object_set_new(old, k, json_deep_copy(prev));
		if (!strcmp(k, "settings") && json_is_object(prev))
			merge(prev, v);
		else
			json_object_set_new(m, k, json_deep_copy(v));
		json_object_set_new(now_obj, k, json_deep_copy(json_object_get(m, k)));
	}
	normalize(m, start);
	if (json_object_get(b, "host_id"))
		ml_sb_index_drop(&by_host);
	if (json_object_get(b, "host_id") || json_object_get(b, "type"))
		ml_zoom_sched_drop(); /* in or out of a host's scheduled list: rebuilt */
	if (json_object_get(b, "start_time"))
		json_object_set(now_obj, "start_time", json_object_get(m, "start_time"));
	json_object_set(now_obj, "id", json_object_get(m, "id"));
	json_object_set(old, "id", json_object_get(m, "id"));
	json_object_set_new(rec, "updated_at", json_integer(ml_sb_now()));
	ml_zoom_emit(root, "meeting.updated", now_obj,
	     json_pack("{s:o, s:I, s:s, s:s, s:s}", "old_object", old, "time_stamp",
		       (json_int_t)ml_sb_now_ms(), "operator", ml_sb_str(host, "email"),
		       "operator_id", ml_sb_str(host, "id"), "operation", "all"));
	ml_resp_body(resp, 204, "application/json", "", 0);
done:
	json_decref(b);
}

static void delete_meeting(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *tok = ml_zoom_auth(req, resp), *m, *rec;
	const char *occ = ml_http_query(req, "occurrence_id");

	if (!tok || !ml_zoom_rate(req, resp, tok, "Light", NULL) || !(rec = path_meeting(req, resp, tok, &m)))
		return;
	if (!strcmp(ml_sb_str(m, "status"), "started")) {
		ml_zoom_err(resp, 400, 3002,
			    "Sorry, you cannot delete this meeting since it is in progress.");
		return;
	}
	json_t *host = ml_zoom_user_find(root, ml_sb_str(m, "host_id"));
	json_t *obj = ml_zoom_event_object(m);
	if (occ) {
		json_t *list = json_object_get(m, "occurrences"), *o;
		size_t i;
		bool found = false;
		json_array_foreach(list, i, o) {
			if (!strcmp(ml_sb_str(o, "occurrence_id"), occ) &&
			    strcmp(ml_sb_str(o, "status"), "deleted") != 0) {
				set_str(o, "status", "deleted");
				found = true;
			}
		}
		if (!found) {
			json_decref(obj);
			ml_zoom_err(resp, 400, 3000, "Invalid occurrence_id.");
			return;
		}
		json_object_set_new(obj, "occurrences", json_pack("[{s:s}]", "occurrence_id", occ));
	} else {
		json_object_set_new(rec, "deleted", json_true());
		json_object_set_new(rec, "deleted_at", json_integer(ml_sb_now()));
		ml_zoom_sched_removed(root, m);
	}
	ml_zoom_emit(root, "meeting.deleted", obj,
	     json_pack("{s:s, s:s, s:s}", "operator", ml_sb_str(host, "email"), "operator_id",
		       ml_sb_str(host, "id"), "operation", occ ? "single" : "all"));
	ml_resp_body(resp, 204, "application/json", "", 0);
}

/* Ends a started meeting (lock held): back to "waiting" for scheduled meetings; an instant
 * meeting expires, as in Zoom. */
static void end_meeting(json_t *root, json_t *rec, json_t *m)
{
	char ts[ML_RFC3339_MAX];
	fmt_time(ml_sb_now(), ts);
	json_object_set_new(rec, "ended_at", json_integer(ml_sb_now()));
	set_str(m, "status", "waiting");
	if (json_integer_value(json_object_get(m, "type")) == 1) {
		json_object_set_new(rec, "expired", json_true());
		ml_zoom_sched_removed(root, m);
	}
	json_t *obj = ml_zoom_event_object(m);
	/* Zoom sends the meeting id as a string in meeting.started/ended. */
	char id[24];
	snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(m, "id")));
	set_str(obj, "id", id);
	set_str(obj, "end_time", ts);
	ml_zoom_emit(root, "meeting.ended", obj, NULL);
}

static void meeting_status(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *tok = ml_zoom_auth(req, resp), *m, *rec, *b;
	const char *id = req->params[0];

	if (!tok || !ml_zoom_rate(req, resp, tok, "Light", NULL))
		return;
	if (!(b = ml_zoom_json_body(req, resp)))
		return;
	if (!ml_zoom_validate(resp, ZOOM_SCHEMA_MEETING_STATUS, b))
		goto done;
	const char *action = ml_sb_str(b, "action");
	if (!action) {
		ml_zoom_invalid_field(resp, "action");
		goto done;
	}
	if (!strcmp(action, "recover")) {
		rec = json_object_get(json_object_get(root, "meetings"), id);
		m = json_object_get(rec, "object");
		if (!rec || strcmp(ml_sb_str(rec, "account_id"), ml_sb_str(tok, "zoom_account")) ||
		    json_is_true(json_object_get(rec, "expired"))) {
			ml_zoom_err(resp, 404, 3001, "Meeting does not exist: %s.", id);
			goto done;
		}
		if (!json_is_true(json_object_get(rec, "deleted"))) {
			ml_zoom_err(resp, 400, 3000, "Cannot recover meeting, it is not deleted.");
			goto done;
		}
		json_object_set_new(rec, "deleted", json_false());
		ml_zoom_sched_drop(); /* back in its host's list, in its place: rebuilt */
		ml_zoom_emit(root, "meeting.recovered", ml_zoom_event_object(m), NULL);
		ml_resp_body(resp, 204, "application/json", "", 0);
		goto done;
	}
	if (!(rec = path_meeting(req, resp, tok, &m)))
		goto done;
	if (!strcmp(ml_sb_str(m, "status"), "started"))
		end_meeting(root, rec, m);
	ml_resp_body(resp, 204, "application/json", "", 0);
done:
	json_decref(b);
}

/* ---- the descriptor ------------------------------------------------------------------- */

static void zoom_error(struct ml_http_resp *resp, int status, const char *message)
{
	if (status == 429)
		ml_zoom_err(resp, 429, 429,
			    "You have reached the maximum per-second rate limit for this API. Try "
			    "again later.");
	else if (status == 401)
		ml_zoom_err(resp, 401, 124, "Invalid access token.");
	else
		ml_zoom_err(resp, status, status, "%s", message ? message : "Error");
}

static void zoom_not_found(struct ml_http_req *req, struct ml_http_resp *resp, bool mismatch)
{
	(void)req;
	if (mismatch)
		ml_zoom_err(resp, 405, 405, "Method Not Allowed");
	else
		ml_zoom_err(resp, 404, 404, "Not Found");
}

static const struct ml_route zoom_routes[] = {
	{"GET", "/oauth/authorize", ml_zoom_oauth_authorize, 0},
	{"POST", "/oauth/authorize", ml_zoom_oauth_authorize, 0},
	{"POST", "/oauth/token", ml_zoom_oauth_token, 0},
	{"POST", "/oauth/revoke", ml_zoom_oauth_revoke, 0},
	{"GET", "/v2/users/{userId}", get_user, 0},
	{"GET", "/v2/users/{userId}/meetings", list_meetings, 0},
	{"POST", "/v2/users/{userId}/meetings", create_meeting, 0},
	{"GET", "/v2/meetings/{meetingId}", get_meeting, 0},
	{"PATCH", "/v2/meetings/{meetingId}", update_meeting, 0},
	{"DELETE", "/v2/meetings/{meetingId}", delete_meeting, 0},
	{"PUT", "/v2/meetings/{meetingId}/status", meeting_status, 0},
	{"GET", "/s/{meetingId}", ml_zoom_start_page, 0},
	{"GET", "/j/{meetingId}", ml_zoom_join_page, 0},
	{"POST", "/_sandbox/webhook/validate", ml_zoom_sim_validate, 0},
	{"POST", "/_sandbox/meetings/{meetingId}/participants", ml_zoom_sim_join, 0},
	{"DELETE", "/_sandbox/meetings/{meetingId}/participants/{uuid}", ml_zoom_sim_leave, 0},
	{NULL, NULL, NULL, 0},
};

const struct ml_sb_provider ml_sb_zoom = {
	.name = "zoom",
	.prefix = "/zoom",
	.routes = zoom_routes,
	.seed = zoom_seed,
	.defaults = "{\"webhook_url\":null,\"webhook_secret\":\"zoom-sandbox-webhook-secret\","
		    "\"webhook_validation\":true,\"auto_approve\":false,"
		    "\"authorize_user\":\"ada@zoom.sandbox.test\","
		    "\"access_token_ttl\":3600,\"refresh_token_ttl\":7776000,\"code_ttl\":300,"
		    "\"rate_limit_light\":80,\"rate_limit_medium\":60,\"rate_limit_heavy\":40,"
		    "\"rate_limit_daily\":60000,\"daily_meeting_writes_per_user\":100}",
	.not_found = zoom_not_found,
	.error = zoom_error,
};
