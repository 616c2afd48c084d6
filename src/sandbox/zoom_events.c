/* Zoom event webhooks (signed POSTs after the endpoint.url_validation handshake, in order)
 * and the simulated host side: start_url starts a meeting, join_url shows it. */
#include "sandbox/zoom_internal.h"
#include "core/json_in.h"
#include "core/html.h"

#include "sandbox/outq.h"
#include "sandbox/sb_internal.h"
#include "sandbox/webhook_sig.h"

#include "core/mem.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ml_sb_outq outq = ML_SB_OUTQ_INIT;

static void set_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, json_string(v));
}

/* ---- webhooks ------------------------------------------------------------------------- */

struct validation {
	char *url, *expect;
};

/* The answer to endpoint.url_validation: {"plainToken", "encryptedToken"} must match. */
static void validation_done(void *arg, long status, const char *body)
{
	struct validation *v = arg;
	json_t *doc = body ? ml_json_parse(body, strlen(body), 0, ML_JSON_MAX_DEPTH, NULL) : NULL;
	const char *enc = ml_sb_str(doc, "encryptedToken");
	bool ok = status >= 200 && status < 300 && enc && !strcmp(enc, v->expect);

	ml_sb_lock();
	json_t *wh = json_object_get(ml_sb_root(ZP), "webhook");
	if (json_is_object(wh)) {
		json_object_set_new(wh, "validation", json_string(ok ? "passed" : "failed"));
		json_object_set_new(wh, "validation_status", json_integer(status));
		if (ok)
			set_str(wh, "validated_url", v->url);
	}
	ml_sb_unlock();
	json_decref(doc);
	free(v->url);
	free(v->expect);
	free(v);
}

static void post_signed(const char *to, const char *body, ml_sb_post_done done, void *arg)
{
	const char *secret = ml_sb_cfg_str(ZP, "webhook_secret", "");
	char ts[24], sig[ML_ZOOM_SIG_MAX], *h_sig, *h_ts, *h_tr, *tr;
	snprintf(ts, sizeof ts, "%lld", (long long)ml_sb_now());
	ml_sbx_zoom_signature(secret, ts, body, strlen(body), sig);
	tr = ml_sb_rand("", 32, ML_SB_ALNUM);
	h_sig = ml_asprintf("x-zm-signature: %s", sig);
	h_ts = ml_asprintf("x-zm-request-timestamp: %s", ts);
	h_tr = ml_asprintf("x-zm-trackingid: v=2.0;clid=us05;rid=%s", tr);
	const char *headers[] = {"Content-Type: application/json; charset=utf-8", h_sig, h_ts,
				 h_tr, "User-Agent: Zoom Marketplace/1.1a", NULL};
	ml_sb_outq_post(&outq, ZP, to, headers, body, strlen(body), done, arg);
	free(h_sig);
	free(h_ts);
	free(h_tr);
	free(tr);
}

/* Outbound faults (POST /_sandbox/faults with "direction": "out", `event` a glob on the
 * event's name): lost (drop), sent twice (duplicate), or held until the next event has gone
 * (reorder). Lock held. */
static void release_held(json_t *root, const char *to)
{
	json_t *held = json_object_get(root, "held_events"), *b;
	size_t i;
	json_array_foreach(held, i, b)
		post_signed(to, json_string_value(b), NULL, NULL);
	json_array_clear(held);
}

static void deliver(json_t *root, const char *to, const char *event, const char *body)
{
	struct ml_sb_fault_hit f;
	if (!json_is_array(json_object_get(root, "held_events")))
		json_object_set_new(root, "held_events", json_array());
	if (!ml_sb_fault_pick_out(ZP, event, &f)) {
		post_signed(to, body, NULL, NULL);
		release_held(root, to);
		return;
	}
	if (f.reorder) {
		json_array_append_new(json_object_get(root, "held_events"), json_string(body));
	} else if (!f.drop) {
		post_signed(to, body, NULL, NULL);
		if (f.duplicate)
			post_signed(to, body, NULL, NULL);
		release_held(root, to);
	}
	ml_sb_fault_hit_free(&f);
}

/* Sends endpoint.url_validation to `to` (lock held). */
void ml_zoom_validate_url(json_t *root, const char *to)
{
	const char *secret = ml_sb_cfg_str(ZP, "webhook_secret", "");
	char *plain = ml_sb_rand("", 22, ML_SB_ALNUM);
	struct validation *v = ml_calloc(1, sizeof *v);
	char enc[65];
	json_t *ev = json_pack("{s:s, s:{s:s}, s:I}", "event", "endpoint.url_validation", "payload",
			       "plainToken", plain, "event_ts", (json_int_t)ml_sb_now_ms());
	char *body = json_dumps(ev, JSON_COMPACT);

	ml_sbx_zoom_url_token(secret, plain, enc);
	v->url = ml_strdup(to);
	v->expect = ml_strdup(enc);
	json_t *wh = json_object_get(root, "webhook");
	set_str(wh, "validating_url", to);
	set_str(wh, "validation", "pending");
	post_signed(to, body, validation_done, v);
	free(body);
	free(plain);
	json_decref(ev);
}

/* Emits an event (lock held): recorded in root["events"] and, with a webhook_url set, POSTed
 * signed. A URL not yet validated gets the endpoint.url_validation handshake first. Steals
 * `object` and `extra` (extra: more payload members such as old_object; may be NULL). */
void ml_zoom_emit(json_t *root, const char *event, json_t *object, json_t *extra)
{
	const char *to = ml_sb_cfg_str(ZP, "webhook_url", NULL);
	json_t *payload = json_pack("{s:s, s:o}", "account_id", ZOOM_ACCOUNT, "object", object);
	if (extra) {
		json_object_update(payload, extra);
		json_decref(extra);
	}
	json_t *ev = json_pack("{s:s, s:I, s:o}", "event", event, "event_ts",
			       (json_int_t)ml_sb_now_ms(), "payload", payload);
	char *body = json_dumps(ev, JSON_COMPACT);
	json_t *log = json_object_get(root, "events");
	json_array_append(log, ev);
	/* Keep the in-state event log bounded. */
	while (json_array_size(log) > 1000)
		json_array_remove(log, 0);
	if (to && *to) {
		json_t *wh = json_object_get(root, "webhook");
		const char *done = ml_sb_str(wh, "validated_url"),
			   *going = ml_sb_str(wh, "validating_url");
		if (ml_sb_cfg_bool(ZP, "webhook_validation", true) && (!done || strcmp(done, to)) &&
		    (!going || strcmp(going, to)))
			ml_zoom_validate_url(root, to);
		deliver(root, to, event, body);
	}
	free(body);
	json_decref(ev);
}

/* ---- simulation: participants (Zoom's clients join meetings; the sandbox has none) ----- */

/* POST /zoom/_sandbox/meetings/{meetingId}/participants {user_name, email?}: someone joins
 * the meeting: meeting.participant_joined, with a participant_uuid for this stay. */
void ml_zoom_sim_join(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *m, *rec = ml_zoom_find_meeting(root, req->params[0], &m);
	json_t *in = ml_sb_json_body(req);
	const char *name = ml_sb_str(in, "user_name"), *email = ml_sb_str(in, "email");
	if (!rec) {
		ml_zoom_err(resp, 404, 3001, "Meeting does not exist: %s.", req->params[0]);
	} else if (!name || !*name || strlen(name) > 128 || (email && strlen(email) > 128)) {
		ml_zoom_err(resp, 400, 300, "user_name is required (128 characters at most).");
	} else {
		char ts[ML_RFC3339_MAX], *uuid = ml_sb_rand("", 22, ML_SB_ALNUM);
		char *uid = ml_sb_rand("", 8, "0123456789");
		ml_time_format(ml_sb_now(), ts);
		json_t *pa = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "user_id", uid, "user_name",
				       name, "id", "", "participant_uuid", uuid, "join_time", ts,
				       "email", email ? email : "");
		json_t *all = json_object_get(rec, "participants");
		if (!json_is_object(all)) {
			all = json_object();
			json_object_set_new(rec, "participants", all);
		}
		json_object_set(all, uuid, pa);
		json_t *obj = ml_zoom_event_object(m);
		json_object_set(obj, "participant", pa);
		ml_zoom_emit(root, "meeting.participant_joined", obj, NULL);
		ml_resp_json(resp, 201, pa);
		free(uuid);
		free(uid);
	}
	json_decref(in);
}

/* DELETE /zoom/_sandbox/meetings/{meetingId}/participants/{participant_uuid}: they leave:
 * meeting.participant_left. */
void ml_zoom_sim_leave(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *m, *rec = ml_zoom_find_meeting(root, req->params[0], &m);
	json_t *all = rec ? json_object_get(rec, "participants") : NULL;
	json_t *pa = json_object_get(all, req->params[1]);
	if (!pa) {
		ml_zoom_err(resp, 404, 3001, "No such participant in meeting %s.", req->params[0]);
		return;
	}
	char ts[ML_RFC3339_MAX];
	ml_time_format(ml_sb_now(), ts);
	json_t *left = json_deep_copy(pa);
	json_object_del(left, "join_time");
	set_str(left, "leave_time", ts);
	set_str(left, "leave_reason", "left the meeting");
	json_object_del(all, req->params[1]);
	json_t *obj = ml_zoom_event_object(m);
	json_object_set(obj, "participant", left);
	ml_zoom_emit(root, "meeting.participant_left", obj, NULL);
	ml_resp_json(resp, 200, left);
}

/* ---- simulation: the host and participants' side -------------------------------------- */

/* GET /zoom/s/{id}: the start_url. Starts the meeting (status "started", meeting.started). */
void ml_zoom_start_page(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *m, *rec = ml_zoom_find_meeting(root, req->params[0], &m);
	if (!rec) {
		ml_resp_body(resp, 404, "text/html; charset=utf-8", "<h1>Meeting not found</h1>", 26);
		return;
	}
	if (strcmp(ml_sb_str(m, "status"), "started") != 0) {
		char id[24], ts[ML_RFC3339_MAX];
		set_str(m, "status", "started");
		json_object_set_new(rec, "started_at", json_integer(ml_sb_now()));
		json_t *obj = ml_zoom_event_object(m);
		snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(m, "id")));
		set_str(obj, "id", id);
		ml_time_format(ml_sb_now(), ts);
		set_str(obj, "start_time", ts);
		ml_zoom_emit(root, "meeting.started", obj, NULL);
	}
	char *t = ml_html_escape(ml_sb_str(m, "topic"));
	char *doc = ml_asprintf("<!doctype html><title>%s</title><h1>Zoom sandbox</h1><p>You "
				"started <b>%s</b> (meeting %s).</p>", t, t, req->params[0]);
	ml_resp_body_steal(resp, 200, "text/html; charset=utf-8", doc, strlen(doc));
	free(t);
}

/* GET /zoom/j/{id}: the join_url, a page naming the meeting (the pwd must match). */
void ml_zoom_join_page(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *m, *rec = ml_zoom_find_meeting(req->user, req->params[0], &m);
	const char *pwd = ml_http_query(req, "pwd");
	if (!rec || (pwd && strcmp(pwd, ml_sb_str(m, "encrypted_password")) != 0)) {
		const char *msg = "<h1>This meeting link is invalid</h1>";
		ml_resp_body(resp, 404, "text/html; charset=utf-8", msg, strlen(msg));
		return;
	}
	char *t = ml_html_escape(ml_sb_str(m, "topic"));
	char *doc = ml_asprintf("<!doctype html><title>%s</title><h1>Zoom sandbox</h1><p>Joining "
				"<b>%s</b> (meeting %s, %s).</p>", t, t, req->params[0],
				ml_sb_str(m, "status"));
	ml_resp_body_steal(resp, 200, "text/html; charset=utf-8", doc, strlen(doc));
	free(t);
}

/* POST /zoom/_sandbox/webhook/validate: sends endpoint.url_validation to webhook_url now. */
void ml_zoom_sim_validate(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *to = ml_sb_cfg_str(ZP, "webhook_url", NULL);
	if (!to || !*to) {
		ml_zoom_err(resp, 400, 300, "Set zoom.webhook_url with POST /_sandbox/config first.");
		return;
	}
	ml_zoom_validate_url(req->user, to);
	ml_resp_json(resp, 202, json_pack("{s:s, s:s}", "validating_url", to, "status", "pending"));
}

