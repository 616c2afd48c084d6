/* /v1/bookings/{id}/meeting: manual override, retry, regenerate. */
#include "api/api.h"
#include "api/validate.h"
#include "core/error.h"
#include "core/timeutil.h"
#include "domain/meeting.h"

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
	struct ml_provider_ctx cx = {&ctx->app->platforms, ml_now()};

	switch (c->op) {
	case OP_PUT:
		/* A link the host typed replaces whatever was there; the old one is kept. */
		if (str(m, "join_url") || strcmp(mstatus, "none") != 0)
			ml_meeting_archive(booking, "manual", "manual_override");
		else
			json_object_set_new(m, "platform", json_string("manual"));
		m = json_object_get(booking, "meeting");
		json_object_set_new(m, "join_url", json_string(c->join_url));
		json_object_set_new(m, "host_url", json_string(c->host_url ? c->host_url : c->join_url));
		json_object_set_new(m, "passcode", c->passcode ? json_string(c->passcode) : json_null());
		json_object_set_new(m, "manual_url", json_string(c->join_url));
		json_object_set_new(m, "status", json_string(confirmed ? "ready" : "none"));
		json_array_append_new(events, json_pack("{s:s, s:{s:s}}", "type", "meeting.updated",
							"data", "platform", "manual"));
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
		rc = ml_meeting_make(&cx, ctx->org_id, booking, service, host, events);
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
		json_array_append_new(events, json_pack("{s:s, s:{}}", "type", "meeting.regenerated", "data"));
		rc = ml_meeting_make(&cx, ctx->org_id, booking, service, host, events);
		break;
	}
	if (rc < 0)
		goto done;
	ml_api_stamp_update(booking);
	if ((rc = ml_tx_doc_update(tx, ML_KIND_BOOKING, ctx->org_id, booking)) < 0)
		goto done;
	size_t i;
	json_t *e;
	json_array_foreach(events, i, e) {
		if ((rc = ml_api_audit(tx, ctx, str(booking, "id"), str(e, "type"),
				       json_object_get(e, "data"))) < 0)
			goto done;
	}
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
