/* /v1/services: what is booked, and how its meetings are made. */
#include "api/api.h"
#include "api/conn_api.h"
#include "api/validate.h"
#include "conn/connections.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "meeting/booking.h"
#include "meeting/recording.h"
#include "providers/provider.h"

#include <string.h>

static const char *const service_fields[] = {"external_id", "host_id",          "name",
					     "is_online",   "platform",         "duration_minutes",
					     "settings",    "metadata",         NULL};
/* An update may also say allow_overlap: its bookings then follow a new host even over that
 * host's other confirmed bookings (issue 18 §5). It is not stored. */
static const char *const service_update_fields[] = {
	"external_id", "host_id",  "name",     "is_online",     "platform", "duration_minutes",
	"settings",    "metadata", "allow_overlap", NULL};
static const char *const settings_fields[] = {"waiting_room", "join_before_host", "passcode",
					      "recording",    "fallback",         "manual_url",
					      "join_window_minutes", "join_grace_minutes",
					      "video_page_url", "recording_options", NULL};

/* The join gateway's settings (docs/gateway.md): its window and Twilio's video page. */
static int gateway_settings(json_t *in, json_t *out)
{
	static const char *const mins[] = {"join_window_minutes", "join_grace_minutes"};
	const char *page;
	bool given;
	int rc;
	for (size_t i = 0; i < sizeof mins / sizeof mins[0]; i++) {
		char path[64];
		int64_t v;
		bool present;
		snprintf(path, sizeof path, "settings.%s", mins[i]);
		if ((rc = ml_v_int(in, mins[i], path, 0, 1440, &v, &present)) < 0)
			return rc;
		if (present)
			json_object_set_new(out, mins[i], json_integer(v));
	}
	if ((rc = ml_v_string_or_null(in, "video_page_url", "settings.video_page_url", 2048, &page,
				      &given)) < 0 ||
	    (page && (rc = ml_v_url(page, "settings.video_page_url")) < 0))
		return rc;
	if (page && strchr(page, '#'))
		return ml_error_set(ML_EINVAL, "invalid_field", "settings.video_page_url",
				    "settings.video_page_url must not have a fragment: the gateway "
				    "adds the access token there.");
	if (json_is_null(json_object_get(in, "video_page_url")))
		json_object_set_new(out, "video_page_url", json_null());
	if (page)
		json_object_set_new(out, "video_page_url", json_string(page));
	return 0;
}

struct org_cred {
	struct ml_api_ctx *ctx;
	const char *platform;
	struct ml_conn_token tok;
	struct ml_pcreds cr;
	bool has;
};

static int org_cred_fn(struct ml_tx *tx, void *arg)
{
	struct org_cred *o = arg;
	o->has = ml_conn_org_pcreds(tx, o->ctx->app->vault, o->ctx->org_id, NULL, o->platform,
				    &o->tok, &o->cr);
	return 0;
}

/* A platform the service may name now: known, with a driver, configured. */
static int check_platform(struct ml_api_ctx *ctx, const char *platform, const char *path)
{
	const struct ml_provider_ops *ops;
	if (!ml_platform_known(platform)) {
		struct ml_buf names = {0};
		for (const char *const *k = ml_platform_names(); *k; k++)
			ml_buf_printf(&names, "%s%s", names.len ? ", " : "", *k);
		int rc = ml_error_set(ML_EINVAL, "unknown_platform", path, "%s must be one of %s.",
				      path, names.data);
		ml_buf_free(&names);
		return rc;
	}
	if (!(ops = ml_provider_find(platform)))
		return ml_error_set(ML_ECONFLICT, "platform_unavailable", path,
				    "The %s platform is not available on this server yet.",
				    platform);
	struct org_cred oc = {.ctx = ctx, .platform = platform};
	struct ml_provider_ctx cx = {&ctx->app->platforms, ml_now(), NULL};
	struct ml_perr err = {0};
	int rc = 0;
	if (ML_PROVIDER_HAS(ops, ready) && ops->ready(&cx, &err) < 0) {
		/* The organization's own credential may be what the server lacks (JaaS). */
		if (ML_PROVIDER_HAS(ops, creds) &&
		    ml_store_read(ctx->app->store, org_cred_fn, &oc) == 0 && oc.has) {
			cx.creds = &oc.cr;
			memset(&err, 0, sizeof err);
		}
		if (ops->ready(&cx, &err) < 0)
			rc = ml_error_set(ML_ECONFLICT, err.code, path, "%s", err.message);
	}
	ml_conn_token_clear(&oc.tok);
	return rc;
}

static int settings_apply(struct ml_api_ctx *ctx, json_t *in, json_t *out)
{
	static const char *const flags[] = {"waiting_room", "join_before_host", "recording"};
	const char *passcode, *fallback, *manual;
	int rc;

	if ((rc = ml_v_known(in, "settings", settings_fields)) < 0)
		return rc;
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		char path[64];
		bool v, present;
		/* waiting_room null: the organization's waiting_room_default decides. */
		if (i == 0 && json_is_null(json_object_get(in, flags[i]))) {
			json_object_set_new(out, flags[i], json_null());
			continue;
		}
		snprintf(path, sizeof path, "settings.%s", flags[i]);
		if ((rc = ml_v_bool(in, flags[i], path, &v, &present)) < 0)
			return rc;
		if (present)
			json_object_set_new(out, flags[i], json_boolean(v));
	}
	bool given;
	if ((rc = ml_v_string_or_null(in, "passcode", "settings.passcode", 32, &passcode,
				      &given)) < 0 ||
	    (rc = ml_v_string_or_null(in, "fallback", "settings.fallback", 32, &fallback,
				      &given)) < 0 ||
	    (rc = ml_v_string_or_null(in, "manual_url", "settings.manual_url", 2048, &manual,
				      &given)) < 0)
		return rc;
	/* null clears a setting, as it does for fallback. */
	if (json_is_null(json_object_get(in, "passcode")))
		json_object_set_new(out, "passcode", json_null());
	if (json_is_null(json_object_get(in, "manual_url")))
		json_object_set_new(out, "manual_url", json_null());
	if (passcode)
		json_object_set_new(out, "passcode", json_string(passcode));
	if (json_is_null(json_object_get(in, "fallback")))
		json_object_set_new(out, "fallback", json_null());
	if (fallback) {
		if ((rc = check_platform(ctx, fallback, "settings.fallback")) < 0)
			return rc;
		json_object_set_new(out, "fallback", json_string(fallback));
	}
	if (manual) {
		if ((rc = ml_v_url(manual, "settings.manual_url")) < 0)
			return rc;
		json_object_set_new(out, "manual_url", json_string(manual));
	}
	json_t *ro = json_object_get(in, "recording_options");
	if (ro) {
		json_t *opts = NULL;
		if (!json_is_null(ro) && (rc = ml_recording_options(ro, &opts)) < 0)
			return rc;
		json_object_set_new(out, "recording_options", opts ? opts : json_null());
	}
	return gateway_settings(in, out);
}

static int service_apply(struct ml_api_ctx *ctx, json_t *body, json_t *doc, bool create)
{
	const char *name, *platform, *host_id, *ext;
	bool online = false, online_given, ext_given, platform_given;
	int64_t duration;
	bool dur_given;
	json_t *settings, *meta;
	int rc;

	if ((rc = ml_v_known(body, NULL, create ? service_fields : service_update_fields)) < 0 ||
	    (rc = ml_v_string_or_null(body, "external_id", "external_id", 255, &ext, &ext_given)) < 0 ||
	    (rc = ml_v_string(body, "host_id", "host_id", create, 64, &host_id)) < 0 ||
	    (rc = ml_v_name(body, "name", "name", create, 200, &name)) < 0 ||
	    (rc = ml_v_bool(body, "is_online", "is_online", &online, &online_given)) < 0 ||
	    (rc = ml_v_string_or_null(body, "platform", "platform", 32, &platform, &platform_given)) < 0 ||
	    (rc = ml_v_int(body, "duration_minutes", "duration_minutes", 1, 24 * 60, &duration,
			   &dur_given)) < 0 ||
	    (rc = ml_v_object(body, "settings", "settings", false, &settings)) < 0 ||
	    (rc = ml_v_metadata(body, "metadata", "metadata", &meta)) < 0)
		return rc;
	if (create && !dur_given)
		return ml_error_set(ML_EINVAL, "missing_field", "duration_minutes",
				    "duration_minutes is required.");
	if (ext_given)
		json_object_set_new(doc, "external_id", ext ? json_string(ext) : json_null());
	if (host_id)
		json_object_set_new(doc, "host_id", json_string(host_id));
	if (name)
		json_object_set_new(doc, "name", json_string(name));
	if (online_given || create)
		json_object_set_new(doc, "is_online", json_boolean(online));
	if (platform || json_is_null(json_object_get(body, "platform")))
		json_object_set_new(doc, "platform", platform ? json_string(platform) : json_null());
	if (dur_given)
		json_object_set_new(doc, "duration_minutes", json_integer(duration));
	if (create)
		json_object_set_new(doc, "settings",
				    json_pack("{s:n, s:b, s:n, s:b, s:n}", "waiting_room",
					      "join_before_host", 0, "passcode", "recording", 0,
					      "fallback"));
	if (settings && (rc = settings_apply(ctx, settings, json_object_get(doc, "settings"))) < 0)
		return rc;
	if (meta)
		json_object_set(doc, "metadata", meta);
	else if (create)
		json_object_set_new(doc, "metadata", json_object());

	/* The combined result must hold together, whichever fields this request changed. */
	online = json_is_true(json_object_get(doc, "is_online"));
	platform = json_string_value(json_object_get(doc, "platform"));
	if (online && !platform)
		return ml_error_set(ML_EINVAL, "missing_field", "platform",
				    "An online service must name a platform.");
	if (!online && platform)
		return ml_error_set(ML_EINVAL, "invalid_field", "platform",
				    "platform is only for online services (is_online: true).");
	if (platform && (rc = check_platform(ctx, platform, "platform")) < 0)
		return rc;
	const char *fb = json_string_value(
		json_object_get(json_object_get(doc, "settings"), "fallback"));
	if (fb && platform && strcmp(fb, platform) == 0)
		return ml_error_set(ML_EINVAL, "invalid_field", "settings.fallback",
				    "settings.fallback must differ from platform.");
	/* A recording bot joins only the platforms it can (the driver's ML_CAP_BOT_JOINS). */
	if (json_is_true(json_object_get(json_object_get(doc, "settings"), "recording")) &&
	    (rc = ml_recording_allowed(online ? platform : NULL)) < 0)
		return rc;
	return 0;
}

/* Turning recording on needs the organization's recorder credential: 409 naming it. */
static int recorder_credential(struct ml_tx *tx, struct ml_api_ctx *ctx, json_t *doc)
{
	const struct ml_provider_ops *rec = ml_provider_recorder();
	json_t *rv = json_object_get(json_object_get(ctx->body, "settings"), "recording");
	if (!rec || !json_is_true(rv) ||
	    !json_is_true(json_object_get(json_object_get(doc, "settings"), "recording")))
		return 0;
	struct ml_conn_row r = {0};
	int rc = ml_tx_conn_get(tx, ctx->org_id, NULL, rec->name, &r);
	bool ok = rc == 0 && strcmp(r.status, "connected") == 0;
	ml_conn_row_clear(&r);
	if (rc < 0 && rc != ML_ENOTFOUND)
		return rc;
	ml_error_clear();
	if (ok)
		return 0;
	return ml_error_set(ML_ECONFLICT, "credential_required", "settings.recording",
			    "Recording needs the organization's %s credential: save it with PUT "
			    "/v1/credentials/%s, then try again.",
			    rec->label, rec->name);
}

static int host_exists(struct ml_tx *tx, struct ml_api_ctx *ctx, json_t *doc)
{
	json_t *host;
	const char *id = json_string_value(json_object_get(doc, "host_id"));
	int rc = ml_tx_doc_get(tx, ML_KIND_HOST, ctx->org_id, id, &host);
	if (rc == ML_ENOTFOUND)
		return ml_error_set(ML_EINVAL, "host_not_found", "host_id", "No host with id %s.",
				    strlen(id) <= 64 ? id : "(too long)");
	json_decref(host);
	return rc;
}

static int create_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	json_t *doc = w->arg;
	int rc;
	if ((rc = host_exists(tx, w->ctx, doc)) < 0 ||
	    (rc = recorder_credential(tx, w->ctx, doc)) < 0 ||
	    (rc = ml_tx_doc_insert(tx, ML_KIND_SERVICE, w->ctx->org_id, doc)) < 0)
		return rc;
	w->status = 201;
	w->result = json_incref(doc);
	return 0;
}

void ml_api_services_create(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	json_t *doc = json_pack("{s:s, s:n}", "object", "service", "external_id");
	json_t *b = ctx->body;
	/* A host who has not connected the platform yet: say so, with the link to do it. */
	if (json_is_true(json_object_get(b, "is_online")) &&
	    ml_api_conn_required(req, resp, json_string_value(json_object_get(b, "host_id")),
				 json_string_value(json_object_get(b, "platform")))) {
		json_decref(doc);
		return;
	}
	int rc = service_apply(ctx, ctx->body, doc, true);
	if (rc < 0) {
		json_decref(doc);
		ml_resp_errno(resp, rc);
		return;
	}
	ml_api_stamp_new(doc, "svc");
	struct ml_api_write w = {ctx, req, doc, create_fn, 0, NULL};
	ml_api_write_run(&w, resp);
	json_decref(doc);
}

void ml_api_services_list(struct ml_http_req *req, struct ml_http_resp *resp)
{
	ml_api_doc_list(req, resp, ML_KIND_SERVICE);
}

void ml_api_services_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	ml_api_doc_get(req, resp, ML_KIND_SERVICE);
}

static int update_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	json_t *doc;
	int rc = ml_api_doc_load(tx, w->ctx, ML_KIND_SERVICE, w->req->params[0], &doc);
	if (rc < 0)
		return rc;
	json_t *before = json_deep_copy(doc);
	bool allow_overlap = false;
	if ((rc = ml_v_bool(w->ctx->body, "allow_overlap", "allow_overlap", &allow_overlap,
			    NULL)) == 0 &&
	    (rc = service_apply(w->ctx, w->ctx->body, doc, false)) == 0 &&
	    (rc = host_exists(tx, w->ctx, doc)) == 0 &&
	    (rc = recorder_credential(tx, w->ctx, doc)) == 0) {
		ml_api_stamp_update(doc);
		if ((rc = ml_tx_doc_update(tx, ML_KIND_SERVICE, w->ctx->org_id, doc)) == 0) {
			/* A new platform or host moves the open bookings' meetings (pipeline). */
			struct ml_step st;
			ml_api_step_init(w->ctx, &st);
			st.allow_overlap = allow_overlap;
			rc = ml_booking_follow_service(tx, &st, before, doc);
			w->wake = w->wake || st.wake;
			/* A booking that cannot follow names both: it and the new host's. */
			if (rc < 0 && st.has_conflict)
				w->error_extra = json_pack(
				    "{s:o, s:o}", "conflicting_booking", ml_booking_conflict_json(&st),
				    "booking", ml_booking_span_json(&st.subject));
		}
	}
	json_decref(before);
	if (rc < 0) {
		json_decref(doc);
		return rc;
	}
	w->result = doc;
	return 0;
}

struct current_call {
	struct ml_api_ctx *ctx;
	const char *id;
	json_t *doc;
};

static int current_fn(struct ml_tx *tx, void *arg)
{
	struct current_call *c = arg;
	return ml_tx_doc_get(tx, ML_KIND_SERVICE, c->ctx->org_id, c->id, &c->doc);
}

void ml_api_services_update(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *b = ML_API_CTX(req)->body;
	/* Only a change of host, platform or online-ness can need a new connection. */
	if (json_object_get(b, "platform") || json_object_get(b, "host_id") ||
	    json_object_get(b, "is_online")) {
		struct current_call c = {ML_API_CTX(req), req->params[0], NULL};
		if (ml_store_read(c.ctx->app->store, current_fn, &c) == 0) {
			json_t *v;
			const char *host = json_string_value(json_object_get(c.doc, "host_id"));
			const char *platform = json_string_value(json_object_get(c.doc, "platform"));
			bool online = json_is_true(json_object_get(c.doc, "is_online"));
			if (json_is_string(v = json_object_get(b, "host_id")))
				host = json_string_value(v);
			if (json_is_string(v = json_object_get(b, "platform")))
				platform = json_string_value(v);
			if (json_is_boolean(v = json_object_get(b, "is_online")))
				online = json_is_true(v);
			bool answered = online && ml_api_conn_required(req, resp, host, platform);
			json_decref(c.doc);
			if (answered)
				return;
		}
	}
	struct ml_api_write w = {ML_API_CTX(req), req, NULL, update_fn, 0, NULL};
	ml_api_write_run(&w, resp);
}

static int delete_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	const char *id = w->req->params[0];
	json_t *doc;
	int rc = ml_api_doc_load(tx, w->ctx, ML_KIND_SERVICE, id, &doc);
	if (rc < 0)
		return rc;
	json_decref(doc);
	rc = ml_tx_doc_count_ref(tx, ML_KIND_BOOKING, w->ctx->org_id, "service_id", id,
				ml_booking_live);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return ml_error_set(ML_ECONFLICT, "service_in_use", NULL,
				    "This service has %d open booking(s); cancel or complete them "
				    "first.",
				    rc);
	if ((rc = ml_tx_doc_delete(tx, ML_KIND_SERVICE, w->ctx->org_id, id)) < 0)
		return rc;
	w->result = json_pack("{s:s, s:s, s:b}", "id", id, "object", "service", "deleted", 1);
	return 0;
}

void ml_api_services_delete(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_api_write w = {ML_API_CTX(req), req, NULL, delete_fn, 0, NULL};
	ml_api_write_run(&w, resp);
}
