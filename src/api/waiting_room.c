/* The waiting room through the API: GET /v1/bookings/{id}/waiting-room, admit, reject and
 * admit everyone. The meeting room decides (meeting/waiting.c); this parses and loads the
 * booking of the request's organization. A refused step answers 409 with the participant's
 * current state. */
#include "api/api.h"
#include "api/validate.h"
#include "core/error.h"
#include "meeting/waiting.h"

#include <string.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

json_t *ml_api_waiting_conflict(json_t *row)
{
	json_t *e = json_pack("{s:s, s:s}", "code", ml_error_code(), "message",
			      ml_error_message());
	if (*ml_error_field())
		json_object_set_new(e, "field", json_string(ml_error_field()));
	return json_pack("{s:o, s:o}", "error", e, "participant",
			 row ? ml_waiting_row_view(row) : json_null());
}

/* --- GET /v1/bookings/{id}/waiting-room --- */

struct room_read {
	struct ml_api_ctx *ctx;
	const char *id;
	json_t *booking, *service, *host, *settings, *rows;
};

static int room_read_fn(struct ml_tx *tx, void *arg)
{
	struct room_read *r = arg;
	int rc;
	if ((rc = ml_api_doc_peek(tx, r->ctx, ML_KIND_BOOKING, r->id, &r->booking)) < 0 ||
	    (rc = ml_booking_related(tx, r->ctx->org_id, r->booking, &r->service, &r->host)) < 0 ||
	    (rc = ml_tx_org_settings_get(tx, r->ctx->org_id, &r->settings)) < 0)
		return rc;
	return ml_tx_admission_list(tx, r->ctx->org_id, r->id, 0, &r->rows);
}

void ml_api_waiting_room_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct room_read r = {ML_API_CTX(req), req->params[0]};
	int rc = ml_store_read(r.ctx->app->store, room_read_fn, &r);
	if (rc == 0) {
		json_t *waiting = json_array(), *all = json_array(), *row;
		size_t i;
		int64_t seq = 0;
		json_array_foreach(r.rows, i, row) {
			json_t *v = ml_waiting_row_view(row);
			if (strcmp(str(row, "state") ? str(row, "state") : "", "waiting") == 0)
				json_array_append(waiting, v);
			json_array_append_new(all, v);
			seq = json_integer_value(json_object_get(row, "seq"));
		}
		/* Rows come by seq; the waiting list reads by arrival. */
		json_t *o = json_pack("{s:s, s:s, s:s?, s:b, s:I, s:o, s:o}", "object",
				      "waiting_room", "booking_id", r.id, "booking_status",
				      str(r.booking, "status"), "enabled",
				      ml_waiting_enabled(r.service, r.settings), "seq", (json_int_t)seq,
				      "waiting", waiting, "participants", all);
		ml_resp_json(resp, 200, o);
	} else {
		ml_resp_errno(resp, rc);
	}
	json_decref(r.booking);
	json_decref(r.service);
	json_decref(r.host);
	json_decref(r.settings);
	json_decref(r.rows);
}

/* --- admit, reject, admit-all --- */

struct decide {
	struct ml_waiting_change c;
	bool all;
};

static int decide_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	struct decide *d = w->arg;
	json_t *booking = NULL, *out = NULL;
	struct ml_step st;
	int rc;

	if ((rc = ml_api_doc_peek(tx, w->ctx, ML_KIND_BOOKING, w->req->params[0], &booking)) < 0)
		return rc;
	ml_api_step_init(w->ctx, &st);
	w->changed_booking = w->req->params[0];
	if (d->all) {
		rc = ml_waiting_admit_all(tx, &st, booking, &out);
		if (rc == 0) {
			json_t *list = json_array(), *row;
			size_t i;
			json_array_foreach(out, i, row)
				json_array_append_new(list, ml_waiting_row_view(row));
			w->result = json_pack("{s:s, s:o, s:b, s:n}", "object", "list", "data", list,
					      "has_more", 0, "next_cursor");
		}
	} else {
		rc = ml_waiting_apply(tx, &st, booking, &d->c, &out);
		if (rc == 0) {
			w->result = ml_waiting_row_view(out);
			json_object_set_new(w->result, "object", json_string("waiting_participant"));
		} else if (rc == ML_ECONFLICT) {
			/* Answered, with nothing written: the loser learns the current state. */
			w->status = 409;
			w->result = ml_api_waiting_conflict(out);
			rc = 0;
		}
	}
	json_decref(out);
	json_decref(booking);
	return rc;
}

static void decide(struct ml_http_req *req, struct ml_http_resp *resp, struct decide *d)
{
	struct ml_api_write w = {ML_API_CTX(req), req, d, decide_fn, 0, NULL};
	ml_api_write_run(&w, resp);
}

void ml_api_participant_admit(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct decide d = {{ML_WR_ADMIT, req->params[1], NULL, NULL}, false};
	int rc = ml_v_none(ML_API_CTX(req)->body);
	if (rc < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	decide(req, resp, &d);
}

void ml_api_participant_reject(struct ml_http_req *req, struct ml_http_resp *resp)
{
	static const char *const fields[] = {"reason", NULL};
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	struct decide d = {{ML_WR_REJECT, req->params[1], NULL, NULL}, false};
	int rc;
	if ((rc = ml_v_known(ctx->body, NULL, fields)) < 0 ||
	    (rc = ml_v_text(ctx->body, "reason", "reason", false, ML_WAITING_REASON_MAX,
			    &d.c.reason)) < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	decide(req, resp, &d);
}

void ml_api_waiting_room_admit_all(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct decide d = {{ML_WR_ADMIT, NULL, NULL, NULL}, true};
	int rc = ml_v_none(ML_API_CTX(req)->body);
	if (rc < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	decide(req, resp, &d);
}
