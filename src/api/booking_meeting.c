/* /v1/bookings/{id}/meeting: manual override, retry, regenerate. */
#include "api/api.h"
#include "api/validate.h"
#include "core/error.h"
#include "core/timeutil.h"
#include "domain/meeting.h"
#include "queue/meeting.h"

#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

enum op { OP_PUT, OP_RETRY, OP_REGENERATE };

struct meeting_call {
	enum op op;
	const char *join_url, *host_url, *passcode;
};

static bool open_booking(json_t *booking)
{
	const char *s = str(booking, "status");
	return strcmp(s, "pending") == 0 || strcmp(s, "confirmed") == 0 ||
	       strcmp(s, "in_progress") == 0;
}

/* The meeting just moved to history, if the pipeline made it, is deleted at the provider
 * (after whatever the booking has queued: a create still running included). */
static int delete_replaced(struct ml_tx *tx, struct ml_api_write *w, json_t *booking)
{
	json_t *hist = json_object_get(json_object_get(booking, "meeting"), "history");
	json_t *old = json_array_get(hist, json_array_size(hist) - 1);
	if (!old || !ml_pipeline_remote(str(old, "platform")))
		return 0;
	w->wake = true;
	return ml_pipeline_plan_delete(tx, w->ctx->org_id, str(booking, "id"), old,
				       str(booking, "host_id"));
}

/* Makes the booking's (new or failed) meeting: now for local platforms, through the
 * pipeline for remote ones (status pending, the answer is 202). */
static int make(struct ml_tx *tx, struct ml_api_write *w, json_t *booking, json_t *service,
		json_t *host, json_t *events)
{
	struct ml_api_ctx *ctx = w->ctx;
	const char *platform = str(json_object_get(booking, "meeting"), "platform");
	if (ml_pipeline_remote(platform)) {
		int rc;
		/* A create still waiting (for a reconnect) would hold the booking's queue. */
		if ((rc = ml_tx_job_cancel_group(tx, str(booking, "id"), "meeting.create")) < 0)
			return rc;
		w->wake = true;
		if ((rc = ml_pipeline_plan_create(tx, &ctx->app->platforms, ctx->org_id, booking,
						  service, host, events)) < 0)
			return rc;
		if (strcmp(str(json_object_get(booking, "meeting"), "status"), "pending") == 0)
			w->status = 202;
		return 0;
	}
	struct ml_provider_ctx cx = {&ctx->app->platforms, ml_now()};
	return ml_meeting_make(&cx, ctx->org_id, booking, service, host, events);
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* One open booking follows its service to a new platform and/or host. */
static int follow_one(struct ml_tx *tx, struct ml_api_write *w, json_t *booking,
		      json_t *service, bool platform_changed, bool host_changed)
{
	struct ml_api_ctx *ctx = w->ctx;
	json_t *host = NULL, *svc = NULL, *events = json_array();
	char *platform = NULL;
	/* The old meeting goes with the connection of the host who had it. */
	char *old_host = str(booking, "host_id") ? strdup(str(booking, "host_id")) : NULL;
	int rc;
	const char *new_host = str(service, "host_id");
	if (host_changed && new_host) {
		json_object_set_new(booking, "host_id", json_string(new_host));
		json_array_append_new(events, json_pack("{s:s, s:{s:s}}", "type",
							"booking.host_changed", "data", "host_id",
							new_host));
	}
	if ((rc = ml_api_booking_related(tx, ctx, booking, &svc, &host)) < 0)
		goto done;
	if (host_changed)
		json_object_set_new(booking, "organizer",
				    json_pack("{s:s?, s:s?}", "name", str(host, "name"), "email",
					      str(host, "email")));
	json_t *m = json_object_get(booking, "meeting");
	const char *ms = str(m, "status");
	bool online = json_is_true(json_object_get(service, "is_online"));
	if (online && str(service, "platform"))
		platform = strdup(str(service, "platform"));
	bool confirmed = strcmp(str(booking, "status"), "pending") != 0;
	if (!ms || strcmp(ms, "none") == 0) {
		/* Nothing made yet: it will be made on the new platform. */
		json_object_set_new(m, "platform", platform ? json_string(platform) : json_null());
	} else if (strcmp(ms, "cancelled") != 0) {
		const char *why = platform_changed ? "platform_changed" : "host_changed";
		ml_meeting_archive(booking, platform, why);
		json_t *hist = json_object_get(json_object_get(booking, "meeting"), "history");
		json_t *old = json_array_get(hist, json_array_size(hist) - 1);
		if (old && ml_pipeline_remote(str(old, "platform"))) {
			w->wake = true;
			if ((rc = ml_pipeline_plan_delete(tx, ctx->org_id, str(booking, "id"), old,
							  old_host)) < 0)
				goto done;
		}
		json_array_append_new(events, json_pack("{s:s, s:{s:s?, s:s}}", "type",
							"meeting.replaced", "data", "platform",
							platform, "because", why));
		if (confirmed && platform && (rc = make(tx, w, booking, service, host, events)) < 0)
			goto done;
	}
	rc = ml_api_booking_save(tx, ctx, booking, service, host, events, false);
done:
	free(platform);
	free(old_host);
	json_decref(events);
	json_decref(svc);
	json_decref(host);
	return rc;
}

int ml_api_meetings_follow_service(struct ml_tx *tx, struct ml_api_write *w, json_t *before,
				   json_t *after)
{
	bool platform_changed = !same(str(before, "platform"), str(after, "platform")) ||
				json_is_true(json_object_get(before, "is_online")) !=
					json_is_true(json_object_get(after, "is_online"));
	bool host_changed = !same(str(before, "host_id"), str(after, "host_id"));
	static const char *const open_status[] = {"pending", "confirmed", NULL};
	int rc = 0, status = w->status;
	if (!platform_changed && !host_changed)
		return 0;
	for (int s = 0; open_status[s] && rc == 0; s++) {
		char *cursor = NULL;
		do {
			struct ml_list_query q = {.limit = 200, .cursor = cursor,
						  .service_id = str(after, "id"),
						  .status = open_status[s]};
			json_t *items = NULL;
			char *next = NULL;
			rc = ml_tx_doc_list(tx, ML_KIND_BOOKING, w->ctx->org_id, &q, &items, &next);
			size_t i;
			json_t *b;
			json_array_foreach(items, i, b) {
				if (rc == 0)
					rc = follow_one(tx, w, b, after, platform_changed,
							host_changed);
			}
			json_decref(items);
			free(cursor);
			cursor = next;
		} while (rc == 0 && cursor);
		free(cursor);
	}
	w->status = status; /* the answer is the service's, whatever its bookings became */
	return rc;
}

static int meeting_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	struct meeting_call *c = w->arg;
	struct ml_api_ctx *ctx = w->ctx;
	json_t *booking = NULL, *service = NULL, *host = NULL, *events = json_array();
	int rc;

	if ((rc = ml_api_doc_load(tx, ctx, ML_KIND_BOOKING, w->req->params[0], &booking)) < 0)
		goto done;
	json_t *m = json_object_get(booking, "meeting");
	const char *mstatus = str(m, "status");
	if (!open_booking(booking)) {
		rc = ml_error_set(ML_ECONFLICT, "invalid_transition", "status",
				  "The meeting of a %s booking cannot be changed (current status: "
				  "%s).",
				  str(booking, "status"), str(booking, "status"));
		goto done;
	}
	if ((rc = ml_api_booking_related(tx, ctx, booking, &service, &host)) < 0)
		goto done;
	bool confirmed = strcmp(str(booking, "status"), "pending") != 0;

	switch (c->op) {
	case OP_PUT:
		/* A link the host typed replaces whatever was there; the old one is kept. */
		if (str(m, "join_url") || strcmp(mstatus, "none") != 0) {
			ml_meeting_archive(booking, ML_PLATFORM_MANUAL, "manual_override");
			if ((rc = delete_replaced(tx, w, booking)) < 0)
				goto done;
		} else
			json_object_set_new(m, "platform", json_string(ML_PLATFORM_MANUAL));
		m = json_object_get(booking, "meeting");
		json_object_set_new(m, "join_url", json_string(c->join_url));
		json_object_set_new(m, "host_url", json_string(c->host_url ? c->host_url : c->join_url));
		json_object_set_new(m, "passcode", c->passcode ? json_string(c->passcode) : json_null());
		json_object_set_new(m, "manual_url", json_string(c->join_url));
		json_object_set_new(m, "status", json_string(confirmed ? "ready" : "none"));
		json_array_append_new(events, json_pack("{s:s, s:{s:s}}", "type", "meeting.updated",
							"data", "platform", ML_PLATFORM_MANUAL));
		break;
	case OP_RETRY:
		if (strcmp(mstatus, "error") != 0) {
			rc = ml_error_set(ML_ECONFLICT, "invalid_transition", "meeting.status",
					  "Only a meeting in error can be retried (current status: "
					  "%s).",
					  mstatus);
			goto done;
		}
		json_array_append_new(events, json_pack("{s:s, s:{}}", "type", "meeting.retry", "data"));
		rc = make(tx, w, booking, service, host, events);
		break;
	case OP_REGENERATE:
		if (!confirmed || (strcmp(mstatus, "ready") != 0 && strcmp(mstatus, "error") != 0)) {
			rc = ml_error_set(ML_ECONFLICT, "invalid_transition", "meeting.status",
					  "Only a ready or failed meeting of a confirmed booking can "
					  "be regenerated (current status: %s).",
					  mstatus);
			goto done;
		}
		{
			/* A regenerated meeting goes back to the service's platform. */
			const char *platform = str(m, "requested_platform");
			if (!platform)
				platform = json_is_true(json_object_get(service, "is_online"))
						   ? str(service, "platform")
						   : str(m, "platform");
			char *p = platform ? strdup(platform) : NULL;
			ml_meeting_archive(booking, p, "regenerated");
			free(p);
		}
		if ((rc = delete_replaced(tx, w, booking)) < 0)
			goto done;
		json_array_append_new(events, json_pack("{s:s, s:{}}", "type", "meeting.regenerated", "data"));
		rc = make(tx, w, booking, service, host, events);
		break;
	}
	if (rc < 0)
		goto done;
	/* A new link on a confirmed booking is a change calendars must take: SEQUENCE + 1. */
	if (confirmed && (c->op == OP_PUT || c->op == OP_REGENERATE))
		json_object_set_new(booking, "sequence",
				    json_integer(json_integer_value(json_object_get(booking, "sequence")) + 1));
	if ((rc = ml_api_booking_save(tx, ctx, booking, service, host, events, false)) < 0)
		goto done;
	w->result = json_incref(booking);
done:
	json_decref(events);
	json_decref(booking);
	json_decref(service);
	json_decref(host);
	return rc;
}

static void run(struct ml_http_req *req, struct ml_http_resp *resp, struct meeting_call *c)
{
	struct ml_api_write w = {ML_API_CTX(req), req, c, meeting_fn, 0, NULL};
	int rc;
	/* retry and regenerate take no fields (PUT validated its own). */
	if (c->op != OP_PUT && (rc = ml_v_none(w.ctx->body)) < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	ml_api_write_run(&w, resp);
}

void ml_api_meeting_put(struct ml_http_req *req, struct ml_http_resp *resp)
{
	static const char *const fields[] = {"join_url", "host_url", "passcode", NULL};
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	struct meeting_call c = {.op = OP_PUT};
	int rc;

	if ((rc = ml_v_known(ctx->body, NULL, fields)) < 0 ||
	    (rc = ml_v_string(ctx->body, "join_url", "join_url", true, 2048, &c.join_url)) < 0 ||
	    (rc = ml_v_url(c.join_url, "join_url")) < 0 ||
	    (rc = ml_v_string(ctx->body, "host_url", "host_url", false, 2048, &c.host_url)) < 0 ||
	    (c.host_url && (rc = ml_v_url(c.host_url, "host_url")) < 0) ||
	    (rc = ml_v_string(ctx->body, "passcode", "passcode", false, 64, &c.passcode)) < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	run(req, resp, &c);
}

void ml_api_meeting_retry(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct meeting_call c = {.op = OP_RETRY};
	run(req, resp, &c);
}

void ml_api_meeting_regenerate(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct meeting_call c = {.op = OP_REGENERATE};
	run(req, resp, &c);
}
