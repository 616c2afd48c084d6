/* Calendar recordings (docs/recordings.md): a host's connected Google or Microsoft calendar
 * registered with the recorder (POST /v1/hosts/{id}/recording-calendars), its events with
 * their recording state, and recording scheduled or unscheduled per event. The recorder's
 * calls are made on the worker's loop while the request waits (as credential checks are);
 * the host's refresh token is decrypted only for the registration, handed only to the
 * recorder's driver (which sends it only to the recorder's configured base URL), wiped
 * after, and never logged. */
#include "api/api.h"
#include "api/conn_api.h"
#include "api/validate.h"
#include "conn/connections.h"
#include "conn/oauth.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/vault.h"
#include "meeting/recording.h"

#include <stdlib.h>
#include <string.h>

#define CAL_MAX_STEPS 4

/* The recorder and its calendar support, or ML_ENOTFOUND. */
static const struct ml_provider_ops *recorder(void)
{
	const struct ml_provider_ops *r = ml_provider_recorder();
	return r && r->recorder->calendar_step ? r : NULL;
}

/* Runs the recorder's calendar steps on the worker's loop. */
static int run_cal(const struct ml_env *app, const struct ml_provider_ops *rec, enum ml_cop op,
                   const struct ml_cal_req *q, json_t *extra, json_t *state)
{
	struct ml_provider_ctx cx = {&app->platforms, ml_now(), NULL};
	struct ml_pcreds cr = {.api_base = ml_oauth_api_base(app->oauth, rec->name),
	                       .extra = extra,
	                       .org_level = true};
	struct ml_pstep st = {0};
	struct ml_perr err = {0};
	struct ml_presp resp = {0};
	const struct ml_presp *rp = NULL;
	char *body = NULL;
	long status = 0;
	int rc = 0;

	if (!cr.api_base)
		return ml_error_set(ML_EUNAVAIL, "recorder_not_configured", NULL,
		                    "%s has no API address on this server.", rec->label);
	for (int i = 0; i < CAL_MAX_STEPS; i++) {
		ml_pstep_clear(&st);
		memset(&err, 0, sizeof err);
		rc = rec->recorder->calendar_step(&cx, op, q, &cr, state, rp, &st, &err);
		free(body);
		body = NULL;
		if (rc < 0 || st.kind != ML_PSTEP_HTTP)
			break;
		struct curl_slist *h = NULL;
		CURL *e = ml_oauth_step_easy(&st.http, &h);
		/* The request body may hold the refresh token: wiped as soon as it is sent. */
		if (st.http.body)
			ml_vault_wipe_free(st.http.body, 0), st.http.body = NULL;
		if (!e) {
			rc = ml_error_set(ML_EINVAL, "invalid_field", NULL,
			                  "A value held a control character; nothing was sent.");
			goto done;
		}
		int prc = ml_oauth_perform(app->oauth, e, &status, &body);
		curl_slist_free_all(h);
		resp = (struct ml_presp){prc == 0 ? ML_PT_OK : ML_PT_CONNECT, status, body,
		                         strlen(body), NULL, ml_now()};
		rp = &resp;
	}
	if (rc == 0 && st.kind == ML_PSTEP_DONE)
		goto done;
	if (rc == 0 || err.kind == ML_PERR_RETRY || err.kind == ML_PERR_NONE)
		rc = ml_error_set(ML_EUNAVAIL, "recorder_unavailable", NULL,
		                  "%s could not be reached now; try again later.", rec->label);
	else if (strcmp(err.code, "invalid_field") == 0)
		rc = ML_EINVAL; /* the driver named the field */
	else if (err.kind == ML_PERR_GONE)
		rc = ml_error_set(ML_ENOTFOUND, "not_found", NULL, "%s", err.message);
	else
		rc = ml_error_set(ML_ECONFLICT, err.code, NULL, "%s", err.message);
done:
	free(body);
	ml_pstep_clear(&st);
	return rc;
}

/* --- what a request needs from the store --- */

struct cal_ctx {
	struct ml_api_ctx *ctx;
	const struct ml_provider_ops *rec;
	const char *host_id;     /* registration */
	const char *platform;    /* registration */
	const char *cal_id;      /* the other calls */
	json_t *cal;             /* the calendar row */
	json_t *extra;           /* the recorder credential (api key): secret */
	char *refresh_token;     /* registration: secret */
	char *client_id, *client_secret;
};

static void cal_ctx_clear(struct cal_ctx *c)
{
	json_decref(c->cal);
	json_decref(c->extra);
	if (c->refresh_token)
		ml_vault_wipe_free(c->refresh_token, 0);
	free(c->client_id);
	if (c->client_secret)
		ml_vault_wipe_free(c->client_secret, 0);
}

static int recorder_cred(struct ml_tx *tx, struct cal_ctx *c)
{
	struct ml_conn_token tok = {0};
	enum ml_conn_state state;
	int64_t busy;
	int rc = ml_conn_acquire(tx, c->ctx->app->vault, c->ctx->org_id, NULL, c->rec->name,
	                         ml_now_ms(), 0, &tok, &state, &busy);
	if (rc == 0 && state != ML_CONN_VALID)
		rc = ml_error_set(ML_ECONFLICT, "credential_required", NULL,
		                  "Calendar recordings need the organization's %s credential: save "
		                  "it with PUT /v1/credentials/%s, then try again.",
		                  c->rec->label, c->rec->name);
	if (rc == 0) {
		c->extra = tok.extra;
		tok.extra = NULL;
	}
	ml_conn_token_clear(&tok);
	return rc;
}

static int register_read_fn(struct ml_tx *tx, void *arg)
{
	struct cal_ctx *c = arg;
	json_t *host = NULL;
	struct ml_conn_row r = {0};
	char *access = NULL;
	int rc;
	if ((rc = ml_api_doc_peek(tx, c->ctx, ML_KIND_HOST, c->host_id, &host)) < 0)
		return rc;
	json_decref(host);
	rc = ml_tx_conn_get(tx, c->ctx->org_id, c->host_id, c->platform, &r);
	if (rc == ML_ENOTFOUND || (rc == 0 && strcmp(r.status, "connected") != 0)) {
		ml_conn_row_clear(&r);
		return ml_error_set(ML_ECONFLICT, "connection_required", "platform",
		                    "The host has no connected %s account: connect it first "
		                    "(POST /v1/hosts/{id}/connect-links).",
		                    c->platform);
	}
	if (rc < 0)
		return rc;
	rc = ml_conn_row_tokens(c->ctx->app->vault, &r, &access, &c->refresh_token);
	ml_conn_row_clear(&r);
	if (access)
		ml_vault_wipe_free(access, 0);
	if (rc == 0 && !c->refresh_token)
		rc = ml_error_set(ML_ECONFLICT, "connection_required", "platform",
		                  "The host's %s connection has no refresh token: reconnect it.",
		                  c->platform);
	return rc < 0 ? rc : recorder_cred(tx, c);
}

static int cal_load_fn(struct ml_tx *tx, void *arg)
{
	struct cal_ctx *c = arg;
	int rc = ml_tx_recording_calendar_get(tx, c->ctx->org_id, c->cal_id, &c->cal);
	if (rc == ML_ENOTFOUND)
		return ml_error_set(ML_ENOTFOUND, "not_found", NULL,
		                    "No recording calendar with id %s.",
		                    strlen(c->cal_id) <= 64 ? c->cal_id : "(too long)");
	return rc < 0 ? rc : recorder_cred(tx, c);
}

/* --- POST /v1/hosts/{id}/recording-calendars --- */

struct save_call {
	struct ml_api_ctx *ctx;
	const struct ml_provider_ops *rec;
	json_t *cal;
};

static int save_fn(struct ml_tx *tx, void *arg)
{
	struct save_call *s = arg;
	int rc = ml_tx_recording_calendar_put(tx, s->ctx->org_id, s->cal);
	if (rc == 0)
		rc = ml_tx_provider_meeting_put(tx, s->rec->name,
		                                json_string_value(json_object_get(s->cal, "external_id")),
		                                s->ctx->org_id,
		                                json_string_value(json_object_get(s->cal, "host_id")),
		                                json_string_value(json_object_get(s->cal, "id")));
	return rc;
}

static json_t *cal_view(json_t *cal)
{
	json_t *v = json_deep_copy(cal);
	json_object_del(v, "org_id");
	return v;
}

void ml_api_recording_calendars_create(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	static const char *const fields[] = {"platform", "raw_calendar_id", NULL};
	struct cal_ctx c = {ctx, recorder(), req->params[0]};
	const char *raw = NULL;
	bool given;
	json_t *state = json_object();
	int rc;
	if (!c.rec) {
		rc = ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No recorder on this server.");
		goto out;
	}
	if ((rc = ml_v_known(ctx->body, NULL, fields)) < 0 ||
	    (rc = ml_v_string(ctx->body, "platform", "platform", true, 32, &c.platform)) < 0 ||
	    (rc = ml_v_string_or_null(ctx->body, "raw_calendar_id", "raw_calendar_id", 256, &raw,
	                              &given)) < 0)
		goto out;
	const struct ml_oauth_platform *op = ml_oauth_platform(ctx->app->oauth, c.platform);
	if (!op || !op->client_id || !op->client_secret ||
	    !ml_conn_is_oauth_platform(c.platform)) {
		char *names = ml_api_oauth_platform_names();
		rc = ml_error_set(ML_EINVAL, "invalid_field", "platform",
		                  "platform must be the calendar account a host connected (one of "
		                  "%s) that the recorder supports.",
		                  names);
		free(names);
		goto out;
	}
	if ((rc = ml_store_read(ctx->app->store, register_read_fn, &c)) < 0)
		goto out;
	c.client_id = ml_strdup(op->client_id);
	c.client_secret = ml_strdup(op->client_secret);
	struct ml_cal_req q = {.platform = c.platform,
	                       .client_id = c.client_id,
	                       .client_secret = c.client_secret,
	                       .refresh_token = c.refresh_token,
	                       .raw_calendar_id = raw};
	if ((rc = run_cal(ctx->app, c.rec, ML_COP_CREATE, &q, c.extra, state)) < 0)
		goto out;
	json_t *got = json_object_get(state, "calendar");
	json_t *cal = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:O, s:O}", "object",
	                        "recording_calendar", "org_id", ctx->org_id, "host_id", c.host_id,
	                        "platform", c.platform, "recorder", c.rec->name, "external_id",
	                        json_object_get(got, "id"), "email",
	                        json_object_get(got, "email") ? json_object_get(got, "email")
	                                                      : json_null(),
	                        "name",
	                        json_object_get(got, "name") ? json_object_get(got, "name")
	                                                     : json_null());
	ml_api_stamp_new(cal, "rcal");
	json_object_set_new(cal, "synced_at", json_null());
	struct save_call s = {ctx, c.rec, cal};
	if ((rc = ml_store_write(ctx->app->store, save_fn, &s)) == 0)
		ml_resp_json(resp, 201, cal_view(cal));
	json_decref(cal);
out:
	if (rc < 0)
		ml_resp_errno(resp, rc);
	json_decref(state);
	cal_ctx_clear(&c);
}

/* --- GET /v1/hosts/{id}/recording-calendars --- */

struct list_call {
	struct ml_api_ctx *ctx;
	const char *host_id;
	json_t *items;
};

static int list_fn(struct ml_tx *tx, void *arg)
{
	struct list_call *l = arg;
	json_t *host = NULL;
	int rc = ml_api_doc_peek(tx, l->ctx, ML_KIND_HOST, l->host_id, &host);
	json_decref(host);
	if (rc < 0)
		return rc;
	return ml_tx_recording_calendar_list(tx, l->ctx->org_id, l->host_id, &l->items);
}

void ml_api_recording_calendars_list(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct list_call l = {ML_API_CTX(req), req->params[0], NULL};
	int rc = ml_store_read(l.ctx->app->store, list_fn, &l);
	if (rc < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	size_t i;
	json_t *x;
	json_array_foreach(l.items, i, x) json_array_set_new(l.items, i, cal_view(x));
	ml_api_send_list(resp, l.items, NULL);
}

/* --- DELETE /v1/recording-calendars/{id} --- */

static int del_fn(struct ml_tx *tx, void *arg)
{
	struct cal_ctx *c = arg;
	return ml_tx_recording_calendar_delete(tx, c->ctx->org_id, c->cal_id);
}

void ml_api_recording_calendars_delete(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	struct cal_ctx c = {ctx, recorder(), .cal_id = req->params[0]};
	json_t *state = json_object();
	int rc = c.rec ? ml_store_read(ctx->app->store, cal_load_fn, &c) : ML_ENOTFOUND;
	if (rc == 0) {
		struct ml_cal_req q = {
		    .calendar_id = json_string_value(json_object_get(c.cal, "external_id"))};
		rc = run_cal(ctx->app, c.rec, ML_COP_DELETE, &q, c.extra, state);
	}
	if (rc == 0)
		rc = ml_store_write(ctx->app->store, del_fn, &c);
	if (rc < 0)
		ml_resp_errno(resp, rc);
	else
		ml_resp_json(resp, 200,
		             json_pack("{s:s, s:s, s:b}", "id", c.cal_id, "object",
		                       "recording_calendar", "deleted", 1));
	json_decref(state);
	cal_ctx_clear(&c);
}

/* --- events --- */

static void events_answer(struct ml_http_resp *resp, json_t *state, int status)
{
	json_t *ev = json_object_get(state, "events");
	json_t *next = json_object_get(state, "next");
	json_t *o = json_pack("{s:s, s:O, s:b, s:O}", "object", "list", "data",
	                      ev ? ev : json_array(), "has_more", next != NULL, "next_cursor",
	                      next ? next : json_null());
	ml_resp_json(resp, status, o);
}

void ml_api_recording_calendar_events(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	struct cal_ctx c = {ctx, recorder(), .cal_id = req->params[0]};
	json_t *state = json_object();
	const char *cursor = ml_http_query(req, "cursor");
	int rc = c.rec ? ml_store_read(ctx->app->store, cal_load_fn, &c) : ML_ENOTFOUND;
	if (rc == 0 && cursor && strlen(cursor) > 1024)
		rc = ml_error_set(ML_EINVAL, "invalid_field", "cursor", "cursor is too long.");
	if (rc == 0) {
		struct ml_cal_req q = {
		    .calendar_id = json_string_value(json_object_get(c.cal, "external_id")),
		    .cursor = cursor};
		rc = run_cal(ctx->app, c.rec, ML_COP_EVENTS, &q, c.extra, state);
	}
	if (rc < 0)
		ml_resp_errno(resp, rc);
	else
		events_answer(resp, state, 200);
	json_decref(state);
	cal_ctx_clear(&c);
}

/* PUT (record) or DELETE (stop) /v1/recording-calendars/{id}/events/{event_id}/recording. */
static void schedule(struct ml_http_req *req, struct ml_http_resp *resp, enum ml_cop op)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	static const char *const fields[] = {"all_occurrences", "recording_options", NULL};
	struct cal_ctx c = {ctx, recorder(), .cal_id = req->params[0]};
	json_t *state = json_object(), *opts = NULL;
	bool all = false, given = false;
	int rc = c.rec ? 0 : ML_ENOTFOUND;
	const char *ev = req->params[1];
	if (rc == 0 && (!ev || !ev[0] || strlen(ev) > 64 || strpbrk(ev, "/?#%&")))
		rc = ml_error_set(ML_EINVAL, "invalid_field", "event_id", "event_id is not an event id.");
	if (rc == 0 && op == ML_COP_SCHEDULE && ctx->body &&
	    ((rc = ml_v_known(ctx->body, NULL, fields)) < 0 ||
	     (rc = ml_v_bool(ctx->body, "all_occurrences", "all_occurrences", &all, &given)) < 0 ||
	     (rc = ml_recording_options(json_object_get(ctx->body, "recording_options"), &opts)) <
	         0))
		goto out;
	if (rc == 0 && op == ML_COP_UNSCHEDULE) {
		const char *a = ml_http_query(req, "all_occurrences");
		if (a && strcmp(a, "true") != 0 && strcmp(a, "false") != 0)
			rc = ml_error_set(ML_EINVAL, "invalid_field", "all_occurrences",
			                  "all_occurrences must be true or false.");
		all = a && strcmp(a, "true") == 0;
	}
	if (rc == 0 && !opts)
		ml_recording_options(NULL, &opts);
	if (rc == 0)
		rc = ml_store_read(ctx->app->store, cal_load_fn, &c);
	if (rc == 0) {
		struct ml_bot_req bot = {
		    .bot_name = json_string_value(json_object_get(opts, "bot_name")),
		    .recording_mode = json_string_value(json_object_get(opts, "recording_mode")),
		    .transcription = json_is_true(json_object_get(opts, "transcription"))
		                         ? json_string_value(json_object_get(opts, "transcription_provider"))
		                         : NULL,
		    .waiting_room_timeout =
		        (int)json_integer_value(json_object_get(opts, "waiting_room_timeout")),
		    .noone_joined_timeout =
		        (int)json_integer_value(json_object_get(opts, "noone_joined_timeout")),
		    .silence_timeout = (int)json_integer_value(json_object_get(opts, "silence_timeout"))};
		/* The bots report here (their outcomes become recordings: docs/recordings.md). */
		char *hook = ctx->app->cfg && ctx->app->cfg->public_url
		                 ? ml_asprintf("%s/webhooks/%s", ctx->app->cfg->public_url, c.rec->name)
		                 : NULL;
		bot.webhook_url = hook;
		struct ml_cal_req q = {
		    .calendar_id = json_string_value(json_object_get(c.cal, "external_id")),
		    .event_id = ev,
		    .all_occurrences = all,
		    .bot = &bot};
		rc = run_cal(ctx->app, c.rec, op, &q, c.extra, state);
		free(hook);
	}
out:
	if (rc < 0)
		ml_resp_errno(resp, rc);
	else
		events_answer(resp, state, 200);
	json_decref(opts);
	json_decref(state);
	cal_ctx_clear(&c);
}

void ml_api_recording_calendar_event_record(struct ml_http_req *req, struct ml_http_resp *resp)
{
	schedule(req, resp, ML_COP_SCHEDULE);
}

void ml_api_recording_calendar_event_unrecord(struct ml_http_req *req, struct ml_http_resp *resp)
{
	schedule(req, resp, ML_COP_UNSCHEDULE);
}
